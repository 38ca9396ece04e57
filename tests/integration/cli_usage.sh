#!/usr/bin/env bash
# cli_usage.sh - first contact: help for a command, a flag without its
# value, a mistyped flag, store scheme or command (with the nearest right
# one), and symbols without a token; each exits 2 with a message that says
# what to do.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
expect2() { # PATTERN ARGS...: exit 2 and the fixed string PATTERN on stderr
  local pat=$1 rc=0; shift
  env -u FINNHUB_API_TOKEN -u FINNHUB_API_TOKENS "$TICKPIPE" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [ "$rc" = 2 ] || fail "tickpipe $*: exit $rc, want 2: $(cat "$TMP/err")"
  grep -qF -- "$pat" "$TMP/err" || fail "tickpipe $*: stderr lacks '$pat': $(cat "$TMP/err")"
}

"$TICKPIPE" help run >"$TMP/h1" || fail "help run: exit $?"
"$TICKPIPE" run --help >"$TMP/h2"
cmp -s "$TMP/h1" "$TMP/h2" || fail "'tickpipe help run' is not run's help: $(head -3 "$TMP/h1")"
grep -q "^Usage: tickpipe run" "$TMP/h1" || fail "help run: $(head -3 "$TMP/h1")"
expect2 "tickpipe help: unknown command 'nope'" help nope
expect2 "unknown command 'rnu' (did you mean run?)" rnu
ok "tickpipe help COMMAND prints that command's help"

expect2 "--http needs a value (--http ADDR:PORT)" run --http
expect2 "--store needs a value (--store URL)" serve --store
expect2 "--no-http takes no value" run --no-http=yes
expect2 "unknown option '--htpp'; did you mean --http?" run --htpp 127.0.0.1:0
expect2 "unknown option '--smybols'; did you mean --symbols?" capture --smybols AAPL
expect2 "unknown option '--frobnicate'; see 'tickpipe run --help'" run --frobnicate
if grep -q "did you mean" "$TMP/err"; then fail "a suggestion for a word near no flag: $(cat "$TMP/err")"; fi
ok "a flag without its value, and mistyped flags with the nearest one"

expect2 "store URL 'sqlit:x.db' names no store this build knows (did you mean sqlite:?)" run --store sqlit:x.db
expect2 "(did you mean clickhouse:?)" serve --store clickhose://127.0.0.1/db
expect2 "store URL 'mysql://x' names no store this build knows; use one of" process --store mysql://x
ok "mistyped store schemes name the nearest one"

expect2 "no API token: give --token" symbols apple
ok "symbols without a token says so (not 'the token was rejected')"
