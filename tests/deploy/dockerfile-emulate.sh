#!/usr/bin/env bash
# tests/deploy/dockerfile-emulate.sh - carry out the Dockerfile without a
# container engine, as root in a throwaway Debian bookworm (never on a
# machine you keep: it installs and purges packages and adds a user):
#
#   ../shared/tools/fresh-debian 'tests/deploy/dockerfile-emulate.sh'
#
# The build stage's RUN lines run in a copy of the checkout (its WORKDIR);
# then everything the build installed is purged (build-essential, the -dev
# packages, node; autoremove takes their libraries), so the runtime stage's
# RUN lines install the runtime packages on a system that has only Debian's
# minimal base, as bookworm-slim has. COPY --from copies out of the build
# stage's files. Last, the image's command (`tickpipe run`, CMD) runs as the
# image's USER with its ENV and WORKDIR (the HTTP address moved to a free
# loopback port), and the image's HEALTHCHECK command must pass against it.
# This is the closest check of the image that runs without an engine; the
# suite's deploy_image.sh does the fast offline part on every run.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
df="$src/Dockerfile"
work=$(mktemp -d /tmp/dockerfile-emulate.XXXXXX)
declare -A stage_dir
stage=0 name="" dir=/ user="" cmd="" healthcheck=""
envs=()

# instructions: one per line, continuations joined, comments dropped
mapfile -t ins < <(sed -e '/^[[:space:]]*#/d' "$df" | awk '{ if (sub(/\\$/, "")) { buf = buf $0 " " } else { print buf $0; buf = "" } }' | sed '/^[[:space:]]*$/d')

run_in() { # DIR CMD: a RUN line, in DIR, with the stage's ENV
  (cd "$1" && env "${envs[@]}" bash -euo pipefail -c "$2")
}

for line in "${ins[@]}"; do
  read -r op rest <<<"$line"
  case $op in
    FROM)
      stage=$((stage + 1))
      name=$(sed -n 's/.* AS \([A-Za-z0-9_-]*\)$/\1/p' <<<"$rest")
      envs=() dir=/
      echo "== stage $stage: $rest"
      if [ "$stage" = 2 ]; then
        echo "-- purging what the build installed (the runtime stage starts from a minimal Debian)"
        mapfile -t devs < <(dpkg-query -W -f='${Package}\n' | grep -- '-dev$')
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq build-essential cmake pkg-config git nodejs npm \
          gcc g++ make "${devs[@]}" >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -qq >/dev/null
        if ldd "${stage_dir[build]}/build/tickpipe" | grep -q 'not found'; then
          echo "-- (as expected) the binary now misses libraries: $(ldd "${stage_dir[build]}/build/tickpipe" | grep -c 'not found')"
        fi
      fi
      ;;
    WORKDIR)
      dir=$rest
      [ "$stage" = 1 ] && dir="$work/stage1$rest"
      mkdir -p "$dir"
      [ -n "$name" ] && stage_dir[$name]=$dir
      ;;
    COPY)
      if [[ $rest == --from=* ]]; then
        from=${rest%% *}; from=${from#--from=}; rest=${rest#* }
        read -r s d <<<"$rest"
        [ -n "${stage_dir[$from]:-}" ] || { echo "COPY --from=$from: no such stage" >&2; exit 1; }
        install -D "$work/stage1$s" "$d" # the build stage's / is $work/stage1
      else
        read -r s d <<<"$rest"
        if [ "$s" = . ]; then
          # the build context: the checkout less what .dockerignore names first
          tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./web/node_modules --exclude=./data \
            -cf - . | tar -C "$dir" -xf -
        else
          install -D "$src/$s" "$d"
        fi
      fi
      ;;
    RUN)
      echo "-- RUN ${rest:0:100}"
      run_in "$dir" "$rest"
      ;;
    ENV)
      for kv in $rest; do envs+=("$kv"); done
      ;;
    USER) user=$rest ;;
    CMD) cmd=$rest ;;
    HEALTHCHECK) healthcheck=$(sed -n 's/.*CMD \(\[.*\]\)$/\1/p' <<<"$rest") ;;
    ENTRYPOINT | EXPOSE | ARG) ;;
    *) echo "dockerfile-emulate: unknown instruction $op" >&2; exit 1 ;;
  esac
done

echo "== the image's command as USER $user"
ldd /usr/local/bin/tickpipe | grep 'not found' && { echo "FAIL: the runtime packages miss libraries"; exit 1; }
port=$((18000 + RANDOM % 2000))
args=$(sed 's/[]["]//g; s/,/ /g' <<<"$cmd")
hc=$(sed 's/[]["]//g; s/,/ /g' <<<"$healthcheck")
cd "$dir"
# shellcheck disable=SC2086 # word lists from the Dockerfile
setpriv --reuid "${user%%:*}" --regid "${user##*:}" --clear-groups \
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$dir" "${envs[@]}" TICKPIPE_HTTP="127.0.0.1:$port" \
  tickpipe $args --duration 20 >"$work/run.log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 1 150); do
  if setpriv --reuid "${user%%:*}" --regid "${user##*:}" --clear-groups \
    env -i PATH=/usr/local/bin:/usr/bin:/bin TICKPIPE_HTTP="127.0.0.1:$port" TP_HEALTHCHECK_CMDLINE="/proc/$pid/cmdline" \
    $hc >"$work/hc.log" 2>&1; then ok=1; break; fi
  sleep 0.2
done
cat "$work/hc.log"
kill "$pid" 2>/dev/null || true
wait "$pid" || true
tail -3 "$work/run.log"
[ "$ok" = 1 ] || { echo "FAIL: the HEALTHCHECK never passed"; cat "$work/run.log"; exit 1; }
stat -c '%U %u' "$dir"/tickpipe.db* | head -1
echo "dockerfile-emulate: ok (build stage, runtime packages on a purged system, USER $user, CMD $cmd, HEALTHCHECK $healthcheck)"
