#!/usr/bin/env bash
# deploy_image.sh - the container image, checked without a container engine:
# the Dockerfile's stages, user, entry point and health check; every project
# script and file it uses exists; the runtime stage's packages are exactly
# what the binary loads (its `ldd` libraries mapped to Debian packages with
# dpkg -S, covered by the apt dependency closure of the listed packages, and
# each listed package giving at least one of them); .dockerignore keeps
# build trees and secrets out; and the health check script itself, run
# against a real `tickpipe serve`, a dead port and a server answering 503.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
df="$TP_SOURCE_DIR/Dockerfile"
start=$(date +%s)

# --- stages, user, entry point, health check
mapfile -t froms < <(grep -E '^FROM ' "$df")
[ "${#froms[@]}" = 2 ] || fail "want 2 stages, got: ${froms[*]}"
[[ ${froms[0]} =~ ^FROM\ debian:bookworm\ AS\ build$ ]] || fail "build stage: ${froms[0]}"
[[ ${froms[1]} =~ ^FROM\ debian:bookworm-slim$ ]] || fail "runtime stage: ${froms[1]}"
final=$(awk '/^FROM /{n++} n==2' "$df")
user=$(sed -n 's/^USER \([^ ]*\)$/\1/p' <<<"$final")
[[ $user =~ ^[1-9][0-9]*(:[1-9][0-9]*)?$ ]] || fail "runtime USER must be a numeric non-root uid (runAsNonRoot checks it): '$user'"
grep -q -- "--uid ${user%%:*} " <<<"$final" || fail "USER $user is not the user the image creates"
grep -q '^ENTRYPOINT \["tickpipe"\]$' <<<"$final" || fail "ENTRYPOINT is not [\"tickpipe\"]"
grep -q '^  CMD \["tickpipe-healthcheck"\]$' <<<"$final" || fail "HEALTHCHECK does not run tickpipe-healthcheck"
grep -q '^HEALTHCHECK ' <<<"$final" || fail "no HEALTHCHECK"
ok "two stages (bookworm -> bookworm-slim), USER $user, ENTRYPOINT tickpipe, HEALTHCHECK"

# --- every script and file it uses is in the checkout
n=0
for s in $(grep -oE 'scripts/[A-Za-z0-9_.-]+' "$df" | sort -u); do
  [ -x "$TP_SOURCE_DIR/$s" ] || fail "the Dockerfile runs $s, which is not an executable in the checkout"
  n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "the build stage should call scripts/install-deps.sh and scripts/build.sh"
grep -q 'scripts/install-deps.sh' "$df" && grep -q 'scripts/build.sh' "$df" || fail "the build stage does not use the project's scripts"
while read -r src; do
  [ -e "$TP_SOURCE_DIR/$src" ] || fail "COPY $src: not in the checkout"
done < <(grep -E '^COPY ' "$df" | grep -v -- '--from=' | awk '{for (i = 2; i < NF; i++) print $i}' | grep -v '^\.$')
# install-deps.sh without --test installs no test libraries (cmocka), so the
# build must leave the tests out, as scripts/run.sh does.
build_stage=$(awk '/^FROM /{n++} n==1' "$df")
if grep -q 'scripts/install-deps.sh' <<<"$build_stage" && ! grep -q 'scripts/install-deps.sh --test' <<<"$build_stage"; then
  grep -q 'scripts/build.sh .*-DTP_TESTS=OFF' <<<"$build_stage" ||
    fail "the build stage installs no test dependencies but builds the tests (pass -DTP_TESTS=OFF to scripts/build.sh, as scripts/run.sh does)"
fi
grep -q 'scripts/build.sh build -DTP_TESTS=OFF' "$TP_SOURCE_DIR/scripts/run.sh" ||
  fail "scripts/run.sh no longer builds with -DTP_TESTS=OFF: check the Dockerfile's build line against it"
ok "the Dockerfile's scripts ($n) and copied files exist; its build line leaves the tests out like scripts/run.sh"

# --- runtime packages = what the binary loads
pkgs=$(awk '/apt-get install/{f=1} f{print} f && /&&/ && !/apt-get install/{exit}' <<<"$final" |
  tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|useradd)$' | sort -u)
[ -n "$pkgs" ] || fail "no runtime packages found in the last stage"
# one apt-cache call (each loads the whole cache); it skips unknown names
# silently when given several, so compare the names it found
# shellcheck disable=SC2086 # a word list
known=$(apt-cache show --no-all-versions $pkgs 2>/dev/null | sed -n 's/^Package: //p' | sort -u)
unknown=$(comm -23 <(echo "$pkgs") <(echo "$known"))
[ -z "$unknown" ] || fail "runtime packages that are not Debian packages here (apt-get update first?): $unknown"
# shellcheck disable=SC2086 # a word list
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances $pkgs 2>/dev/null | grep -v '^ ' | tr -d '<>' | sed 's/:.*//' | sort -u)
[ -n "$closure" ] || fail "apt-cache depends gave nothing"
# ld.so, libc and the sanitizer runtimes (ASan builds of the suite) are not
# the image's business: libc6 is in every Debian image, and the image is not
# an ASan build.
mapfile -t libs < <(ldd "$TICKPIPE" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
  grep -vE 'lib(a|ub|l|t)san|clang_rt')
[ "${#libs[@]}" -gt 5 ] || fail "ldd found only ${#libs[@]} libraries: $(ldd "$TICKPIPE")"
# dpkg -S once for all (it reads every package's file list per call); a
# library is found under its own path or, through a symlink, its target's.
owners=$(for l in "${libs[@]}"; do echo "$l"; readlink -f "$l"; done | sort -u | xargs dpkg -S 2>/dev/null || true)
owned=$(sed 's/^.*: //' <<<"$owners")
for l in "${libs[@]}"; do
  grep -qxF "$l" <<<"$owned" || grep -qxF "$(readlink -f "$l")" <<<"$owned" || fail "no Debian package owns $l (dpkg -S)"
done
needed=$(sed 's/: [^ ]*$//' <<<"$owners" | tr ',' '\n' | sed 's/:.*//; s/ //g' | sort -u)
missing=$(comm -23 <(echo "$needed") <(echo "$closure") | grep -vE '^(libc6|libgcc-s1)$' || true)
[ -z "$missing" ] || fail "the binary loads libraries of packages the runtime stage does not install: $missing"
unused=""
for p in $pkgs; do
  [ "$p" = ca-certificates ] && continue # TLS to Finnhub and Kafka, not a library
  [ "$p" = tzdata ] && continue           # zoneinfo files for day candles in a time zone (tz=), not a library
  grep -qx "$p" <<<"$needed" || unused="$unused $p"
done
[ -z "$unused" ] || fail "runtime packages the binary does not load (only runtime libraries belong in the image):$unused"
ok "runtime packages ($(echo $pkgs)) cover the $(wc -l <<<"$needed") packages of the binary's libraries"

# --- .dockerignore
for pat in .git 'build*/' web/node_modules/ deploy/.env data/; do
  grep -qxF "$pat" "$TP_SOURCE_DIR/.dockerignore" || fail ".dockerignore does not exclude $pat"
done
ok ".dockerignore keeps build trees, node_modules, local data and deploy/.env out of the build context"

# --- the health check script, for real
hc="$TP_SOURCE_DIR/deploy/tickpipe-healthcheck"
port=$(free_port)
: >"$TMP/hc.db" # an empty file is an empty SQLite database (serve refuses a missing one)
TICKPIPE_HTTP=127.0.0.1:$port bg serve "$TICKPIPE" serve --store "sqlite:$TMP/hc.db"
wait_for 30 curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"
TP_HEALTHCHECK_CMDLINE=/proc/$PID_serve/cmdline TICKPIPE_HTTP=127.0.0.1:$port "$hc" >"$TMP/hc1" 2>&1 || fail "healthy serve reported unhealthy: $(cat "$TMP/hc1")"
grep -q '^ok: HTTP/1.[01] 200' "$TMP/hc1" || fail "unexpected output: $(cat "$TMP/hc1")"
printf '/sbin/docker-init\0--\0/usr/local/bin/tickpipe\0serve\0--http\0%s\0' "0.0.0.0:$port" >"$TMP/init.cmdline"
TP_HEALTHCHECK_CMDLINE=$TMP/init.cmdline TICKPIPE_HTTP=127.0.0.1:1 "$hc" >"$TMP/hc2" 2>&1 ||
  fail "--http 0.0.0.0:PORT under an init process was not checked through loopback: $(cat "$TMP/hc2")"
printf 'tickpipe\0process\0--brokers\0kafka:9092\0' >"$TMP/process.cmdline"
TP_HEALTHCHECK_CMDLINE=$TMP/process.cmdline "$hc" >"$TMP/hc3" 2>&1 || fail "process: $(cat "$TMP/hc3")"
grep -q "tickpipe process without --metrics: no HTTP endpoint" "$TMP/hc3" || fail "process: $(cat "$TMP/hc3")"
# produce or process with --metrics: their endpoint is checked (here serve's
# port stands in for it: the same /healthz)
printf 'tickpipe\0produce\0--metrics\0%s\0' "0.0.0.0:$port" >"$TMP/produce.cmdline"
TP_HEALTHCHECK_CMDLINE=$TMP/produce.cmdline TICKPIPE_HTTP=127.0.0.1:1 "$hc" >"$TMP/hc6" 2>&1 ||
  fail "produce --metrics: $(cat "$TMP/hc6")"
grep -q '^ok: HTTP/1.[01] 200' "$TMP/hc6" || fail "produce --metrics was not checked: $(cat "$TMP/hc6")"
printf 'tickpipe\0process\0' >"$TMP/process2.cmdline"
rc=0; TP_HEALTHCHECK_CMDLINE=$TMP/process2.cmdline TICKPIPE_METRICS=127.0.0.1:1 "$hc" >"$TMP/hc7" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "nothing answers on 127.0.0.1:1" "$TMP/hc7" || fail "process with TICKPIPE_METRICS: rc=$rc $(cat "$TMP/hc7")"
kill "$PID_serve"; wait "$PID_serve" 2>/dev/null || true
rc=0; TP_HEALTHCHECK_CMDLINE=/dev/null TICKPIPE_HTTP=127.0.0.1:$port "$hc" >"$TMP/hc4" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "nothing answers on 127.0.0.1:$port" "$TMP/hc4" || fail "dead port: rc=$rc $(cat "$TMP/hc4")"
port2=$(free_port)
bg sick /usr/bin/python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = b"{\"status\":\"store failing\"}"
        self.send_response(503); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$port2"
wait_port "$port2" 30
rc=0; TP_HEALTHCHECK_CMDLINE=/dev/null TICKPIPE_HTTP=127.0.0.1:$port2 "$hc" >"$TMP/hc5" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "unhealthy: HTTP/1.0 503" "$TMP/hc5" || fail "503: rc=$rc $(cat "$TMP/hc5")"
ok "tickpipe-healthcheck: 200 -> healthy, 0.0.0.0 via loopback, produce/process by --metrics or TICKPIPE_METRICS (none: nothing to check), dead port and 503 -> unhealthy ($(($(date +%s) - start)) s)"
