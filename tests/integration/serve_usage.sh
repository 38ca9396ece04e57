#!/usr/bin/env bash
# serve_usage.sh - `tickpipe serve` refuses what it cannot serve at start:
# an unknown store scheme and bad flags exit 2 naming the problem, instead of
# answering 503 forever.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
rc=0; timeout 10 "$TICKPIPE" serve --store foo:bar --http 127.0.0.1:0 2>"$TMP/e1" || rc=$?
[ "$rc" = 2 ] || fail "unknown store: exit $rc"
grep -q "store URL 'foo:bar' names no store" "$TMP/e1" || fail "unknown store not explained: $(cat "$TMP/e1")"
rc=0; timeout 10 "$TICKPIPE" serve --poll-interval soon 2>"$TMP/e2" || rc=$?
[ "$rc" = 2 ] || fail "bad flag: exit $rc"
grep -q -- "--poll-interval" "$TMP/e2" || fail "bad flag not named: $(cat "$TMP/e2")"
ok "unknown store and bad flag exit 2 with the reason"

# A write-only store (null: keeps nothing) cannot be served: exit 2 naming
# the stores that can be read.
rc=0; timeout 10 "$TICKPIPE" serve --store null: --http 127.0.0.1:0 2>"$TMP/e3" || rc=$?
[ "$rc" = 2 ] || fail "write-only store: exit $rc"
grep -q "the null store is write-only" "$TMP/e3" || fail "write-only store not explained: $(cat "$TMP/e3")"
grep -q "sqlite:" "$TMP/e3" || fail "write-only error names no readable store: $(cat "$TMP/e3")"
ok "a write-only store exits 2: $(head -c 160 "$TMP/e3")"

# serve only reads: a SQLite file that is not there is refused (exit 1 naming
# it), and nothing is created; sqlite: with no path is a usage error.
rc=0; timeout 10 "$TICKPIPE" serve --store "sqlite:$TMP/no/such/dir/x.db" --http 127.0.0.1:0 2>"$TMP/e4" || rc=$?
[ "$rc" = 1 ] || fail "missing SQLite file: exit $rc: $(cat "$TMP/e4")"
grep -q "the SQLite store $TMP/no/such/dir/x.db does not exist" "$TMP/e4" || fail "missing file not explained: $(cat "$TMP/e4")"
[ ! -e "$TMP/no" ] || fail "serve created $TMP/no for a store it only reads"
rc=0; timeout 10 "$TICKPIPE" serve --store sqlite: --http 127.0.0.1:0 2>"$TMP/e5" || rc=$?
[ "$rc" = 2 ] || fail "sqlite: with no path: exit $rc: $(cat "$TMP/e5")"
grep -q "store URL 'sqlite:' has no path" "$TMP/e5" || fail "no path not explained: $(cat "$TMP/e5")"
ok "a missing SQLite file exits 1 creating nothing; sqlite: with no path exits 2"

# serve's help offers only the stores it can read: every one of the build's
# stores (run's help lists them all) but the write-only null:.
"$TICKPIPE" run --help >"$TMP/run.help"
"$TICKPIPE" serve --help >"$TMP/serve.help"
grep -q "null:" "$TMP/run.help" || fail "run --help offers no null: (the check cannot see it): $(grep -A3 -- --store "$TMP/run.help")"
if grep -q "null:" "$TMP/serve.help"; then fail "serve --help offers null:: $(grep -A3 -- --store "$TMP/serve.help")"; fi
grep -q -- "--store URL .*read from: sqlite:PATH, postgresql://" "$TMP/serve.help" ||
  fail "serve --help lists no readable stores: $(grep -A3 -- --store "$TMP/serve.help")"
ok "serve --help offers the readable stores and not null:"
