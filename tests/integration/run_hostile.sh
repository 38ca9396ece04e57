#!/usr/bin/env bash
# run_hostile.sh - hostile trades mixed with good ones (tests/lib/hostile_feed.py:
# empty, control-character, space-padded, 10,000-byte and unsubscribed symbols,
# zero and negative prices, negative volumes, times 0, -1000, two days back,
# ten minutes and ten years ahead; plus frames JSON cannot carry) served by
# the simulator's replay over WebSocket into `run`, on SQLite, PostgreSQL,
# ClickHouse and Cassandra (TP_HOSTILE_STORES chooses): every good trade is
# stored once and nothing else, every bad one is counted by its reason,
# no trade is late, and every candle and average equals the recomputation
# from the stored trades (tests/lib/window_oracle.py). Then the same store
# restarts cleanly; and a store poisoned by rows written before the door
# existed (an empty symbol, a trade ten years ahead, inserted with the
# database's own client) starts normally, says so, and stores new trades
# on time (none late).
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/stores.sh"
stores_use TP_HOSTILE_STORES "sqlite pg ch cass"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
oracle="$TP_SOURCE_DIR/tests/lib/window_oracle.py"
SYMS=AAPL,MSFT,BINANCE:BTCUSDT
GOOD=600

# count_ids KIND WHERE: "trades distinct_ids" as the database's client reads them
count_ids() { /usr/bin/python3 "$oracle" "$1" "$2" --ids; }

# hostile KIND URL WHERE
hostile() {
  local kind=$1 url=$2 where=$3 now
  now=$(date +%s%3N)
  /usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/hostile_feed.py" "$TMP/$kind.rec" "$now" $GOOD 7 "$SYMS" \
    "$TMP/$kind.oracle.csv" "$TMP/$kind.expect.json"
  start_sim "sim_$kind" --replay "$TMP/$kind.rec" --speed 0 --replay-raw
  timeout 120 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols "$SYMS" --store "$url" \
    --no-http --max-trades $GOOD --allowed-lateness 1 >"$TMP/$kind.out" 2>"$TMP/$kind.err" ||
    fail "$kind: run failed: $(tail -5 "$TMP/$kind.err")"
  kill "$(eval echo "\$PID_sim_$kind")" 2>/dev/null || true
  grep '^summary:\|^rejected' "$TMP/$kind.err"
  [ "$(summary_field "$TMP/$kind.err" stored)" = $GOOD ] || fail "$kind: stored $(summary_field "$TMP/$kind.err" stored) of $GOOD"
  [ "$(summary_field "$TMP/$kind.err" late)" = 0 ] || fail "$kind: late trades"
  /usr/bin/python3 - "$TMP/$kind.expect.json" "$TMP/$kind.err" <<'PY' || fail "$kind: rejections by reason differ"
import json, re, sys
want = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
line = re.search(r"^rejected at the door \(never stored\): (\d+) rejected \((.*)\)$", log, re.M)
assert line, "no rejection line"
got = {k: int(v) for k, v in (p.rsplit(" ", 1) for p in line.group(2).split(", "))}
assert int(line.group(1)) == want["total_rejected"] and got == want["rejected"], (got, want)
summary = re.search(r"^summary: .*$", log, re.M).group(0)
assert " malformed=%d " % want["malformed"] in summary + " ", summary
assert " rejected=%d " % want["total_rejected"] in summary + " ", summary
# the rate limit: at most 10 lines a minute, the first ones name the reason
lines = re.findall(r"WARN  \[feed\] rejected a trade from connection 0 \((.*?)\)", log)
assert 1 <= len(lines) <= 10, len(lines)
PY
  local ids; ids=$(count_ids "$kind" "$where")
  [ "$ids" = "$GOOD $GOOD" ] || fail "$kind: trades and distinct ids: $ids, want $GOOD $GOOD"
  /usr/bin/python3 "$oracle" "$kind" "$where" >"$TMP/oracle.out" || fail "$kind: windows: $(cat "$TMP/oracle.out")"
  ok "$kind: $GOOD good trades stored once among $(jq_total "$TMP/$kind.expect.json") rejected by reason; windows equal the trades ($(cat "$TMP/oracle.out"))"
}
jq_total() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_rejected"])' "$1"; }

# again KIND URL WHERE LABEL: a short run of the built-in simulator on the store: starts, nothing late
again() {
  local kind=$1 url=$2 where=$3 label=$4 before
  before=$(count_ids "$kind" "$where" | cut -d' ' -f1)
  timeout 120 "$TICKPIPE" run --store "$url" --no-http --symbols "$SYMS" --sim-rate 500 --max-trades 300 \
    --allowed-lateness 1 >"$TMP/$kind.again.out" 2>"$TMP/$kind.again.err" ||
    fail "$kind ($label): run failed: $(tail -5 "$TMP/$kind.again.err")"
  [ "$(summary_field "$TMP/$kind.again.err" late)" = 0 ] || fail "$kind ($label): late trades: $(grep summary: "$TMP/$kind.again.err")"
  [ "$(summary_field "$TMP/$kind.again.err" stored)" = 300 ] || fail "$kind ($label): not every trade stored"
  local after; after=$(count_ids "$kind" "$where" | cut -d' ' -f1)
  [ "$after" = $((before + 300)) ] || fail "$kind ($label): $before -> $after trades"
  # the poisoned rows have no windows (they are skipped): take them out
  # for the oracle, which then shows that no window took them in either
  [ "$label" = "poisoned store" ] && unpoison "$kind" "$where"
  /usr/bin/python3 "$oracle" "$kind" "$where" >"$TMP/oracle.out" || fail "$kind ($label): windows: $(cat "$TMP/oracle.out")"
}

# poison KIND WHERE: rows the door would reject, written with the database's own client
poison() {
  local kind=$1 where=$2 future=$(($(date +%s%3N) + 10 * 365 * 86400000))
  local id1=00000000-0000-8000-8000-000000000001 id2=00000000-0000-8000-8000-000000000002
  case $kind in
    sqlite) sqlite3 -batch "$where" "INSERT INTO trades VALUES ('$id1', '', NULL, 1, 1, $(date +%s%3N), 0);
      INSERT INTO trades VALUES ('$id2', 'AAPL', NULL, 5, 1, $future, 0);" ;;
    pg) psql -X -q -v ON_ERROR_STOP=1 "$where" -c "INSERT INTO trades VALUES ('$id1', '', NULL, 1, 1, now(), now());
      INSERT INTO trades VALUES ('$id2', 'AAPL', NULL, 5, 1, to_timestamp($future / 1000.0), now());" ;;
    ch) ch_q "INSERT INTO tickpipe.trades (uuid, symbol, trade_conditions, price, volume, trade_timestamp, ingest_timestamp)
      VALUES ('$id1', '', NULL, 1, 1, $(date +%s%3N), 0), ('$id2', 'AAPL', NULL, 5, 1, $future, 0)" ;;
  esac
}

unpoison() {
  local ids="'00000000-0000-8000-8000-000000000001', '00000000-0000-8000-8000-000000000002'"
  case $1 in
    sqlite) sqlite3 -batch "$2" "DELETE FROM trades WHERE uuid IN ($ids)" ;;
    pg) psql -X -q -v ON_ERROR_STOP=1 "$2" -c "DELETE FROM trades WHERE uuid IN ($ids)" ;;
    ch) ch_q "ALTER TABLE tickpipe.trades DELETE WHERE uuid IN ($ids)" # a mutation (18.16: no mutations_sync)
      wait_for 60 ch_gone "$ids" ;;
  esac
}
ch_gone() { [ "$(ch_q "SELECT count() FROM tickpipe.trades WHERE uuid IN ($1)")" = 0 ]; }

run_store() { # KIND URL WHERE
  hostile "$@"
  again "$@" "restart"
  ok "$1: restarted cleanly on the same store"
  [ "$1" = cass ] && return 0 # rows inserted by hand cannot carry tickpipe's TTL and day partitions
  poison "$1" "$3"
  again "$@" "poisoned store"
  grep -q 'skipping the stored rows of symbol "" (the symbol is empty)' "$TMP/$1.again.err" ||
    fail "$1: the empty symbol was not reported at start: $(head -20 "$TMP/$1.again.err")"
  grep -q 'have stored trades dated after now + 60000 ms' "$TMP/$1.again.err" ||
    fail "$1: the trade ten years ahead was not reported at start: $(head -20 "$TMP/$1.again.err")"
  ok "$1: a store poisoned by an empty symbol and a trade ten years ahead starts, reports them, stores new trades on time"
}

each_store run_store h.db
