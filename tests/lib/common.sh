# common.sh - sourced by integration tests.
# Gives: need, fail, free_port, wait_port, wait_for, cleanup registration, a temp dir.
set -euo pipefail
# need CMD:PACKAGE...: stop, naming the Debian package of every CMD missing
# (scripts/install-deps.sh --test installs them all; a minimal Debian has
# almost none of them).
need() {
  local c miss=()
  for c in "$@"; do command -v "${c%%:*}" >/dev/null 2>&1 || miss+=("${c%%:*} (Debian package ${c#*:})"); done
  [ "${#miss[@]}" = 0 ] && return 0
  echo "FAIL: missing ${miss[*]}: run scripts/install-deps.sh --test" >&2
  exit 1
}
# What these helpers and most tests run.
need python3:python3 awk:mawk getent:libc-bin unshare:util-linux mount:mount curl:curl openssl:openssl \
  pgrep:procps
[ -x /usr/bin/python3 ] || need /usr/bin/python3:python3
: "${TICKPIPE:?TICKPIPE must point to the tickpipe binary (ctest sets it)}"
: "${TP_SOURCE_DIR:?}" "${TP_BINARY_DIR:?}"
TP_TOOLS_DIR="${TP_TOOLS_DIR:-$TP_BINARY_DIR/tests}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tickpipe-test.XXXXXX")"
_cleanups=()
on_exit() { _cleanups+=("$*"); }
_run_cleanups() {
  local rc=$?
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" || true; done
  if [ "$rc" = 0 ]; then rm -rf "$TMP"; else echo "test failed (rc=$rc); files kept in $TMP" >&2; fi
}
trap _run_cleanups EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
# A TCP port free on 127.0.0.1 right now.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT.
wait_port() {
  local port=$1 t=${2:-20} i
  for ((i = 0; i < t * 10; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.1
  done
  fail "nothing listening on port $port after ${t}s"
}
# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
  local t=$1 i; shift
  for ((i = 0; i < t * 10; i++)); do "$@" && return 0; sleep 0.1; done
  fail "timed out after ${t}s waiting for: $*"
}
# bg NAME CMD...: start CMD in the background, logs in $TMP/NAME.log, killed at exit.
bg() {
  local name=$1; shift
  # The log exists before the command starts: the redirection below happens
  # in the background child, so a reader right after bg could find no file.
  : >"$TMP/$name.log"
  "$@" >"$TMP/$name.log" 2>&1 &
  local pid=$!
  eval "PID_$name=$pid"
  on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
}
# start_sim NAME [simulate flags...]: `tickpipe simulate --listen 127.0.0.1:0 FLAGS` in the
# background (log in $TMP/NAME.log, killed at exit); sets SIM_PORT from its ready line.
start_sim() {
  local name=$1 i pid; shift
  bg "$name" "$TICKPIPE" simulate --listen 127.0.0.1:0 "$@"
  pid=$(eval echo "\$PID_$name")
  for ((i = 0; i < 300; i++)); do
    SIM_PORT=$(sed -n 's|^simulate: listening on wss\{0,1\}://.*:\([0-9][0-9]*\)$|\1|p' "$TMP/$name.log" | head -1)
    [ -n "$SIM_PORT" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "simulate exited early: $(cat "$TMP/$name.log")"
    sleep 0.1
  done
  fail "simulate printed no ready line: $(cat "$TMP/$name.log")"
}
# summary_field LOG NAME: the value of NAME=... on capture's summary line in LOG.
summary_field() { sed -n "s/^summary: .*\b$2=\([0-9.]*\).*/\1/p" "$1" | tail -1; }
# with_localhost_v6_first CMD...: run CMD where the name localhost has ::1
# first and 127.0.0.1 second, as a standard Debian /etc/hosts gives it:
# directly when this machine's /etc/hosts does so, else in a private mount
# namespace over a copy of it (util-linux's unshare; root, or a user
# namespace; not inside a chroot, where / is no mount point).
with_localhost_v6_first() {
  case "$(getent ahosts localhost | head -1)" in ::1*) "$@"; return ;; esac
  printf '::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\tlocalhost\n' >"$TMP/hosts.v6first"
  local u=(unshare --mount)
  [ "$(id -u)" = 0 ] || u+=(--map-root-user)
  if ! "${u[@]}" true 2>"$TMP/unshare.err"; then
    fail "this machine's localhost is not ::1 first (no '::1 localhost' in /etc/hosts) and no mount namespace" \
      "can give it one: $(cat "$TMP/unshare.err"); add '::1 localhost' to /etc/hosts as Debian has it"
  fi
  "${u[@]}" /bin/sh -c 'mount --bind "$0" /etc/hosts && first=$(getent ahosts localhost | head -1) &&
    case "$first" in ::1*) ;; *) echo "localhost does not resolve to ::1 first: $first" >&2; exit 97;; esac &&
    exec "$@"' "$TMP/hosts.v6first" "$@"
}
