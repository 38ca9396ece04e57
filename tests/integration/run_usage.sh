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

# --sim-rate 0 means as fast as possible, as simulate --rate 0 does
timeout 60 "$TICKPIPE" run --sim-rate 0 --max-trades 5000 --no-http --store "sqlite:$TMP/fast.db" >"$TMP/out" 2>"$TMP/err" ||
  fail "run --sim-rate 0: $(tail -3 "$TMP/err")"
grep -q "built-in simulator at .* (as fast as run takes them" "$TMP/err" || fail "run --sim-rate 0: $(head -3 "$TMP/err")"
[ "$(sqlite3 -batch -noheader "$TMP/fast.db" "SELECT count(*) FROM trades")" = 5000 ] || fail "run --sim-rate 0 stored no 5000 trades"
ok "run --sim-rate 0 runs the simulator as fast as run takes its trades (simulate --rate 0 alike)"

# A store directory that cannot be made: exit 1 naming it and why, and
# nothing created (the one mkdir helper, core/dirs.h, for every writer).
touch "$TMP/afile"
for c in "/proc/tp-no-such/sub/y.db|cannot create directory /proc/tp-no-such: No such file or directory" \
  "$TMP/afile/sub/y.db|cannot create directory $TMP/afile: Not a directory"; do
  db=${c%%|*} want=${c#*|} rc=0
  timeout 20 "$TICKPIPE" run --duration 2 --no-http --store "sqlite:$db" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [ "$rc" = 1 ] || fail "run --store sqlite:$db: exit $rc, want 1: $(cat "$TMP/err")"
  grep -qF -- "$want" "$TMP/err" || fail "run --store sqlite:$db: no '$want' in: $(cat "$TMP/err")"
done
[ -z "$(ls -A "$TMP/w")" ] || fail "run wrote $(ls -A "$TMP/w")"
ok "a store directory that cannot be created exits 1 naming it: $(grep -m1 'cannot create' "$TMP/err" | cut -c1-160)"
