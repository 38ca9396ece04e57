#!/usr/bin/env bash
# store_sqlite.sh - the store contract suite against SQLite, the sqlite3
# shell as oracle, and a writer killed mid-stream then restarted.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/store_oracle.sh"
. "$(dirname "$0")/../lib/store_gaps.sh"
SC="$TP_TOOLS_DIR/store_contract"
DB="$TMP/sub/dir/tickpipe.db" # parent directories do not exist yet
URL="sqlite:$DB"
q() { sqlite3 -batch -noheader "$DB" "$1"; }

"$SC" check "$URL" --large 100000 | tee "$TMP/check.out"
summary_vars "$TMP/check.out"
[ "$(q "PRAGMA journal_mode")" = wal ] || fail "database not in WAL mode"
[ "$(q "SELECT max(version) FROM schema_version")" = 3 ] || fail "schema_version not 3"
like="$(printf '%s' "$prefix" | sed "s/'/''/g")%"
expect_eq "trades (sqlite3)" "$trades" "$(q "SELECT count(*) FROM trades WHERE symbol LIKE '$like'")"
expect_eq "null conditions (sqlite3)" "$null_cond" \
  "$(q "SELECT count(*) FROM trades WHERE symbol LIKE '$like' AND trade_conditions IS NULL")"
expect_eq "empty conditions (sqlite3)" "$empty_cond" \
  "$(q "SELECT count(*) FROM trades WHERE symbol LIKE '$like' AND trade_conditions = '[]'")"
expect_eq "averages (sqlite3)" "$averages" \
  "$(q "SELECT count(*) FROM running_averages_15_sec WHERE symbol LIKE '$like'")"
expect_eq "candles (sqlite3)" "$candles" "$(q "SELECT count(*) FROM candles WHERE symbol LIKE '$like'")"
# the conditions JSON as sqlite3's own JSON functions read it
expect_eq "conditions JSON (sqlite3 json)" '|[]|["1","12"]|[null,"","quote\" back\\ tab\t nl\n","ünï😀"]' \
  "$(q "SELECT group_concat(coalesce(json(trade_conditions), ''), '|') FROM
        (SELECT trade_conditions FROM trades WHERE symbol = '${prefix}RT' AND trade_timestamp < (
           SELECT min(trade_timestamp) + 4 FROM trades WHERE symbol = '${prefix}RT') ORDER BY trade_timestamp)")"
expect_eq "vwap NULL when no volume (sqlite3)" 1 \
  "$(q "SELECT count(*) FROM candles WHERE symbol LIKE '$like' AND vwap IS NULL")"
expect_eq "feed_gaps rows and spans (sqlite3)" "$gaps|$gap_span" \
  "$(q "SELECT count(*), sum(to_ms - from_ms) FROM feed_gaps WHERE symbol LIKE '$like'")"
expect_eq "feed_gaps trade-id ranges (sqlite3)" "$gap_ids|$gap_id_span" \
  "$(q "SELECT count(from_trade_id), sum(to_trade_id - from_trade_id) FROM feed_gaps WHERE symbol LIKE '$like'")"
ok "contract suite and sqlite3 oracle"

GDB="$TMP/gaps.db"
gaps_oracle() { # store_gaps.sh's oracle: the sqlite3 shell
  case $1 in
  gaps) sqlite3 -batch -noheader -separator ' ' "$GDB" \
    "SELECT symbol, from_ms, to_ms, reason, connection, detected_at FROM feed_gaps WHERE symbol IN ('GAPA', 'GAPB')" ;;
  trades) sqlite3 -batch -noheader "$GDB" "SELECT trade_timestamp FROM trades WHERE symbol = '$2'" ;;
  esac
}
store_gaps_run "sqlite:$GDB" gaps_oracle

# The suite again on the same file: a second run adds its own rows only.
"$SC" check "$URL" --large 1000 >"$TMP/check2.out"
ok "contract suite on an existing database"

# A version-1 database (before the incomplete column) is migrated in place.
OLD="$TMP/v1.db"
sqlite3 -batch "$OLD" <"$TP_SOURCE_DIR/sql/sqlite.sql" || fail "cannot make a version-1 database"
sqlite3 -batch "$OLD" "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
  INSERT INTO candles VALUES ('OLD', 1, 1000, 1, 1, 1, 1, 1, 1, 1, 1, 1)"
"$SC" write "sqlite:$OLD" MIG 10 10 >/dev/null 2>"$TMP/mig.err" || fail "writing to a version-1 database: $(cat "$TMP/mig.err")"
expect_eq "migrated to version 3" 3 "$(sqlite3 -batch -noheader "$OLD" "SELECT max(version) FROM schema_version")"
expect_eq "old rows complete" 0 "$(sqlite3 -batch -noheader "$OLD" "SELECT incomplete FROM candles WHERE symbol = 'OLD'")"
expect_eq "feed_gaps gained its trade-id columns" "from_trade_id|to_trade_id" \
  "$(sqlite3 -batch -noheader "$OLD" "SELECT group_concat(name, '|') FROM pragma_table_info('feed_gaps') WHERE name LIKE '%trade_id'")"
ok "a version-1 database gains the incomplete column and feed_gaps with its trade-id columns"

# A writer killed mid-stream (kill -9), then run again: every trade exactly once.
N=200000
"$SC" write "$URL" KILLED "$N" 2000 >"$TMP/w1.out" 2>"$TMP/w1.err" &
wpid=$!
on_exit "kill -9 $wpid 2>/dev/null"
wait_for 60 grep -q "committed 20000" "$TMP/w1.out"
kill -9 "$wpid"
wait "$wpid" 2>/dev/null || true
before=$(q "SELECT count(*) FROM trades WHERE symbol = 'KILLED'")
[ "$before" -lt "$N" ] || fail "writer finished before it was killed ($before rows)"
"$SC" write "$URL" KILLED "$N" 2000 >"$TMP/w2.out"
expect_eq "trades after kill and rerun (sqlite3)" "$N" "$(q "SELECT count(*) FROM trades WHERE symbol = 'KILLED'")"
expect_eq "trades after kill and rerun (store)" "$N" "$("$SC" count "$URL" KILLED)"
ok "writer killed at $before rows and restarted: $N trades, each once"

# Two writer processes on one file at once (two processors in one consumer
# group), while a third reads: both finish, every trade once.
"$SC" write "$URL" TWO_A 100000 1000 >"$TMP/a.out" 2>"$TMP/a.err" &
apid=$!
"$SC" write "$URL" TWO_B 100000 1000 >"$TMP/b.out" 2>"$TMP/b.err" &
bpid=$!
on_exit "kill -9 $apid $bpid 2>/dev/null"
"$SC" count "$URL" TWO_A >/dev/null # a reader in the middle of it
wait "$apid" || fail "first writer failed: $(tail -2 "$TMP/a.err")"
wait "$bpid" || fail "second writer failed: $(tail -2 "$TMP/b.err")"
expect_eq "concurrent writer A (sqlite3)" 100000 "$(q "SELECT count(*) FROM trades WHERE symbol = 'TWO_A'")"
expect_eq "concurrent writer B (sqlite3)" 100000 "$(q "SELECT count(*) FROM trades WHERE symbol = 'TWO_B'")"
ok "two writer processes and a reader on one file: every trade once ($(cat "$TMP/a.err" "$TMP/b.err" | grep -c retrying) retries)"

# A store that cannot be opened: a clear error naming it.
mkdir -p "$TMP/ro" && touch "$TMP/ro/file"
if "$SC" check "sqlite:$TMP/ro/file/x.db" >"$TMP/bad.out" 2>&1; then fail "opening a path under a file succeeded"; fi
grep -q "SQLite" "$TMP/bad.out" || fail "error does not name the store: $(cat "$TMP/bad.out")"
ok "bad path: $(grep -m1 FAIL "$TMP/bad.out" | cut -c1-160)"
