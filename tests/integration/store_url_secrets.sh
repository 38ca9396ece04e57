#!/usr/bin/env bash
# store_url_secrets.sh - a store URL's password never reaches any output,
# whatever the URL's shape. Every command that takes --store (run, process,
# serve) is given malformed URLs (bad brackets, ports and percent escapes, a
# raw '/' or '@' in the password, a mangled ?password=) and well-formed
# URLs of servers that are not there, for postgresql://, clickhouse:// and
# cassandra://, with the password as user:PASSWORD@, percent-encoded, and
# as ?password=. All of stdout and stderr (and serve's REST and /readyz
# answers) must hold no piece of the password; a malformed URL is a usage
# error (exit 2) saying so; an unreachable server is named as the URL names
# it (host and port), never a default.
source "$TP_SOURCE_DIR/tests/lib/common.sh"

# The password is S3cr3tPw (written S3cr3t%50w percent-encoded, or split by
# a raw '/' or '@'): none of these may appear anywhere.
LEAK='S3cr|3tPw|3t%50w|3t%2550w'
P=$(free_port) # nothing listens there
ALL="$TMP/all.out"
: >"$ALL"
n_runs=0

# check OUT WHAT: OUT holds no piece of the password; kept in $ALL.
check() {
  n_runs=$((n_runs + 1))
  { echo "=== run $n_runs (${2%% *})"; cat "$1"; } >>"$ALL"
  if grep -a -n -E "$LEAK" "$1" >&2; then fail "$2: the password is in its output: $(cat "$1")"; fi
  return 0
}

# args CMD: the flags each command needs besides --store (nothing else is
# reachable, so a command fails only on the store).
args() {
  case $1 in
  run) echo --http 127.0.0.1:0 --duration 5s ;;
  process) echo --brokers 127.0.0.1:$P --duration 5s ;;
  serve) echo --http 127.0.0.1:0 ;;
  esac
}

# malformed URL...: every command refuses it at start with exit 2 and a
# message about the store URL.
malformed() {
  local u cmd rc
  for u in "$@"; do
    for cmd in run process serve; do
      rc=0
      # shellcheck disable=SC2046
      timeout 10 "$TICKPIPE" "$cmd" --store "$u" $(args "$cmd") >"$TMP/out" 2>&1 || rc=$?
      check "$TMP/out" "$cmd --store '$u'"
      [ "$rc" = 2 ] || fail "$cmd --store '$u': exit $rc, want 2 (a usage error): $(cat "$TMP/out")"
      grep -q -i "URL" "$TMP/out" || fail "$cmd --store '$u': the error does not say the URL is wrong: $(cat "$TMP/out")"
    done
  done
}

# unreachable WHERE URL...: run and process exit 1 naming WHERE (the URL's
# host:port); serve keeps retrying, answers REST with 503 naming WHERE and
# logs each failed open, all without the password.
unreachable() {
  local where=$1 u cmd rc port; shift
  for u in "$@"; do
    for cmd in run process; do
      rc=0
      # shellcheck disable=SC2046
      timeout 30 "$TICKPIPE" "$cmd" --store "$u" $(args "$cmd") >"$TMP/out" 2>&1 || rc=$?
      check "$TMP/out" "$cmd --store '$u'"
      [ "$rc" = 1 ] || fail "$cmd --store '$u': exit $rc, want 1 (store unreachable): $(cat "$TMP/out")"
      grep -q -F "at $where" "$TMP/out" || fail "$cmd --store '$u': the error does not name $where: $(cat "$TMP/out")"
    done
    bg serve "$TICKPIPE" serve --store "$u" --http 127.0.0.1:0 --log-level debug
    wait_for 20 grep -q "dashboard at" "$TMP/serve.log"
    port=$(sed -n 's|.*dashboard at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/serve.log" | head -1)
    [ -n "$port" ] || fail "serve printed no port: $(cat "$TMP/serve.log")"
    local code
    code=$(curl -s -o "$TMP/rest" -w '%{http_code}' "http://127.0.0.1:$port/api/trades?symbol=AAPL")
    [ "$code" = 503 ] || fail "serve --store '$u': /api/trades answered $code, want 503: $(cat "$TMP/rest")"
    grep -q -F "at $where" "$TMP/rest" || fail "serve --store '$u': the 503 does not name $where: $(cat "$TMP/rest")"
    curl -s "http://127.0.0.1:$port/readyz" >>"$TMP/rest" || true
    curl -s "http://127.0.0.1:$port/healthz" >>"$TMP/rest" || true
    # a second failed open (the retry after the first backoff) is logged too
    wait_for 30 bash -c '[ "$(grep -c "cannot open the store" "$1")" -ge 2 ]' _ "$TMP/serve.log"
    kill "$PID_serve"
    wait "$PID_serve" 2>/dev/null || true
    cat "$TMP/rest" >>"$TMP/serve.log"
    check "$TMP/serve.log" "serve --store '$u'"
  done
}

malformed \
  "postgresql://tp:S3cr3tPw@[::1:$P/db" \
  "postgresql://tp:S3cr3tPw%zz@127.0.0.1:$P/db" \
  "postgresql://tp:S3cr3tPw%4@127.0.0.1:$P/db" \
  "postgresql://tp:S3cr3tPw@127.0.0.1:99999/db" \
  "postgresql://tp:S3cr3tPw@127.0.0.1:54x/db" \
  "postgresql://tp:S3cr3tPw@127.0.0.1:/db?port=-1" \
  "postgresql://tp:S3cr/3tPw@127.0.0.1:$P/db" \
  "postgresql://tp:S3cr@3tPw@127.0.0.1:$P/db" \
  "postgresql://tp:S3cr?3tPw@127.0.0.1:$P/db" \
  "postgresql://tp@127.0.0.1:$P/db?password=S3cr3tPw%zz" \
  "postgresql://tp@127.0.0.1:$P/db?password%3DS3cr3tPw" \
  "postgresql://tp@127.0.0.1:$P/db?pasword=S3cr3tPw" \
  "postgresql:/tp:S3cr3tPw@127.0.0.1:$P/db" \
  "postgres://tp:S3cr3tPw@[::1]x/db" \
  "clickhouse://tp:S3cr3tPw@[::1:$P/db" \
  "clickhouse://tp:S3cr3tPw%zz@127.0.0.1:$P/db" \
  "clickhouse://tp:S3cr3tPw@127.0.0.1:99999/db" \
  "clickhouse://tp:S3cr3tPw@127.0.0.1:81x/db" \
  "clickhouse://tp:S3cr/3tPw@127.0.0.1:$P/db" \
  "clickhouse://tp:S3cr@3tPw@127.0.0.1:$P/db" \
  "clickhouse://127.0.0.1:$P/db?user=tp&password=S3cr3tPw%zz" \
  "clickhouse://127.0.0.1:$P/db?user=tp&password%3DS3cr3tPw" \
  "clickhouse://127.0.0.1:$P/db?user=tp&pasword=S3cr3tPw" \
  "clickhouse:/tp:S3cr3tPw@127.0.0.1:$P/db" \
  "cassandra://tp:S3cr3tPw@[::1:$P/ks" \
  "cassandra://tp:S3cr3tPw%zz@127.0.0.1:$P/ks" \
  "cassandra://tp:S3cr3tPw@127.0.0.1:99999/ks" \
  "cassandra://tp:S3cr3tPw@[::1]x/ks" \
  "cassandra://tp:S3cr/3tPw@127.0.0.1:$P/ks" \
  "cassandra://tp:S3cr?3tPw@127.0.0.1:$P/ks" \
  "cassandra://tp@127.0.0.1:$P/ks?password=S3cr3tPw%zz" \
  "cassandra://tp@127.0.0.1:$P/ks?password%3DS3cr3tPw" \
  "cassandra://tp@127.0.0.1:$P/ks?pasword=S3cr3tPw" \
  "cassandra://tp:S3cr3tPw@127.0.0.1:$P/ks#frag" \
  "cassandra://tp:S3cr3tPw%@127.0.0.1:$P/ks" \
  "cassandra://tp:S3cr3tPw%0A@127.0.0.1:$P/ks" \
  "cassandra://tp:S3cr3tPw@127.0.0.1:$P,,[::1]:$P/ks" \
  "cassandra://tp:S3cr3tPw@127.0.0.1:0/ks" \
  "cassandra://tp:S3cr3tPw@127.0.0.1:$P/bad-keyspace" \
  "cassandra://tp@127.0.0.1:$P/ks?password=S3cr3tPw%00" \
  "cassandra:/tp:S3cr3tPw@127.0.0.1:$P/ks"
ok "malformed store URLs: exit 2 from run, process and serve, no piece of the password in any output"

unreachable "127.0.0.1:$P" \
  "postgresql://tp:S3cr3tPw@127.0.0.1:$P/db" \
  "postgresql://tp:S3cr3t%50w@127.0.0.1:$P/db" \
  "postgres://tp@127.0.0.1:$P/db?password=S3cr3tPw&connect_timeout=5" \
  "clickhouse://tp:S3cr3tPw@127.0.0.1:$P/db" \
  "clickhouse://tp:S3cr3t%50w@127.0.0.1:$P/db" \
  "clickhouse://127.0.0.1:$P/db?user=tp&password=S3cr3tPw" \
  "cassandra://tp:S3cr3tPw@127.0.0.1:$P/ks" \
  "cassandra://tp:S3cr3t%50w@127.0.0.1:$P/ks" \
  "cassandra://127.0.0.1:$P/ks?user=tp&password=S3cr3tPw" \
  "cassandra://tp:S3cr3tPw@127.0.0.1:$P,127.0.0.1:$P/ks"
unreachable "[::1]:$P" \
  "postgresql://tp:S3cr3tPw@[::1]:$P/db" \
  "clickhouse://tp:S3cr3tPw@[::1]:$P/db" \
  "cassandra://tp:S3cr3tPw@[::1]:$P/ks"
ok "unreachable stores: run and process exit 1 and serve answers 503, naming the URL's host, no password"

# The store from the environment (TICKPIPE_STORE) is held to the same rules.
rc=0
TICKPIPE_STORE='postgresql://tp:S3cr3tPw%zz@127.0.0.1/db' timeout 10 "$TICKPIPE" process \
  --brokers "127.0.0.1:$P" >"$TMP/out" 2>&1 || rc=$?
check "$TMP/out" "TICKPIPE_STORE=... process"
[ "$rc" = 2 ] || fail "a malformed TICKPIPE_STORE: exit $rc, want 2: $(cat "$TMP/out")"

# the whole transcript, once more
if grep -a -q -E "$LEAK" "$ALL"; then fail "the password is in the transcript $ALL"; fi
ok "$n_runs runs, $(wc -c <"$ALL") bytes of output, no piece of the password"
