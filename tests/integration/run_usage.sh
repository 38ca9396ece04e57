#!/usr/bin/env bash
# run_usage.sh - `tickpipe run` checks every flag before it starts or
# writes anything: a bad --http address or store URL exits 2 naming it,
# with no simulator started and no data/ directory or database created.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
mkdir -p "$TMP/w"
cd "$TMP/w"
check() { # WANT_TEXT ARGS...: exit 2, the text on stderr, nothing started or written
  local want=$1 rc=0; shift
  timeout 20 "$TICKPIPE" run --duration 2 "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [ "$rc" = 2 ] || fail "run $*: exit $rc, want 2: $(cat "$TMP/err")"
  grep -qF -- "$want" "$TMP/err" || fail "run $*: no '$want' in: $(cat "$TMP/err")"
  if grep -q "listening on" "$TMP/err"; then fail "run $*: the simulator started: $(cat "$TMP/err")"; fi
  [ -z "$(ls -A "$TMP/w")" ] || fail "run $*: wrote $(ls -A "$TMP/w")"
}
check "--http 'foo': expected" --http foo
check "store URL 'mysql://x' names no store" --store mysql://x
check "store URL 'sqlite:' has no path" --store sqlite:
ok "bad --http and --store exit 2 before the simulator starts or data/ is created"
