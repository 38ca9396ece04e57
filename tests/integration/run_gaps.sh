#!/usr/bin/env bash
# run_gaps.sh - forced drops through `run`, on SQLite and on PostgreSQL: the
# feed_gaps rows are the simulator's holes (its --holes-log, the oracle),
# and exactly the candles and averages that overlap a gap of their symbol
# are incomplete, recomputed from the stored gaps with each database's own
# client (sqlite3, psql) and Python; /api/candles and /api/averages say
# "incomplete" as the table does.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
CHECK="$TP_SOURCE_DIR/tests/lib/incomplete_check.py"

run_drops() { # NAME STORE [SIM FLAGS...]: forced drops unless other faults are given
  local name=$1 store=$2
  shift 2
  [ $# -gt 0 ] || set -- --drop-every 2.5
  start_sim "sim_$name" --rate 600 --batch 4 --holes-log "$TMP/$name.holes" "$@"
  timeout 120 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT,BINANCE:BTCUSDT \
    --store "$store" --no-http --max-trades 4000 --max-reconnects 40 --allowed-lateness 1 --stale-timeout 0.5 \
    >"$TMP/$name.out" 2>"$TMP/$name.err" || fail "run failed: $(tail -5 "$TMP/$name.err")"
}

# holes_vs_rows NAME Q: the feed_gaps rows (read with the client function Q) against the holes log
holes_vs_rows() {
  "$2" "select symbol, from_ms, to_ms, reason from feed_gaps" |
    /usr/bin/python3 -c 'import csv,json,sys; [print(json.dumps(dict(zip(("symbol","from_ms","to_ms","reason"), r)))) for r in csv.reader(sys.stdin)]' \
    >"$TMP/$1.rows"
  /usr/bin/python3 "$TP_SOURCE_DIR/tests/lib/holes_check.py" "$TMP/$1.holes" "$TMP/$1.rows" "$3"
}

# ---- SQLite
db="$TMP/gaps.db"
run_drops sqlite "sqlite:$db"
q() { sqlite3 -batch -noheader -csv "$db" "$1"; }
holes_vs_rows sqlite q "$(q 'select max(trade_timestamp) from trades')" ||
  fail "SQLite feed_gaps rows are not the simulator's holes"
q "select symbol, from_ms, to_ms from feed_gaps" >"$TMP/g.csv"
q "select symbol, interval_s, start_ms, incomplete from candles" >"$TMP/c.csv"
q "select symbol, window_start, window_end, incomplete from running_averages_15_sec" >"$TMP/a.csv"
/usr/bin/python3 "$CHECK" "$TMP/g.csv" "$TMP/c.csv" "$TMP/a.csv" || fail "SQLite: incomplete windows are not right"
ok "run on SQLite: feed_gaps = the simulator's holes; exactly the windows overlapping a gap are incomplete"

bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --store "sqlite:$db" --poll-interval 0
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)
curl -fsS "$URL/api/candles?symbol=AAPL&interval=1s&limit=5000" >"$TMP/c.json" || fail "/api/candles"
curl -fsS "$URL/api/averages?symbol=AAPL&limit=5000" >"$TMP/a.json" || fail "/api/averages"
q "select start_ms, incomplete from candles where symbol = 'AAPL' and interval_s = 1 order by start_ms" >"$TMP/c1.csv"
q "select window_start, incomplete from running_averages_15_sec where symbol = 'AAPL' order by window_start" >"$TMP/a1.csv"
/usr/bin/python3 - "$TMP/c.json" "$TMP/c1.csv" "$TMP/a.json" "$TMP/a1.csv" <<'PY' || fail "REST incomplete differs from the table"
import csv, json, sys
for js, cs, key, start in ((sys.argv[1], sys.argv[2], "candles", "start"), (sys.argv[3], sys.argv[4], "averages", "window_start")):
    got = [(r[start], r["incomplete"]) for r in json.load(open(js))[key]]
    want = [(int(s), i == "1") for s, i in csv.reader(open(cs))]
    assert got == want and any(i for _, i in got), (key, len(got), len(want))
    assert all(isinstance(i, bool) for _, i in got)
PY
ok "REST: candles and averages say incomplete: true/false as stored"

# Silences: the simulator stops sending on a connection, the watchdog drops it
db="$TMP/silent.db"
run_drops silent "sqlite:$db" --silent-after 2.5 --ping-interval 0
holes_vs_rows silent q "$(q 'select max(trade_timestamp) from trades')" ||
  fail "SQLite feed_gaps rows after silences are not the simulator's holes"
[ "$(q "select count(*) from feed_gaps where reason = 'silence'")" -ge 2 ] || fail "no silence gaps: $(q 'select * from feed_gaps')"
q "select symbol, from_ms, to_ms from feed_gaps" >"$TMP/g.csv"
q "select symbol, interval_s, start_ms, incomplete from candles" >"$TMP/c.csv"
q "select symbol, window_start, window_end, incomplete from running_averages_15_sec" >"$TMP/a.csv"
/usr/bin/python3 "$CHECK" "$TMP/g.csv" "$TMP/c.csv" "$TMP/a.csv" || fail "SQLite, silences: incomplete windows are not right"
ok "run on SQLite with silences: feed_gaps = the simulator's holes (silence); windows marked exactly"

# ---- PostgreSQL (same run, same checks with psql)
if "$TICKPIPE" run --help 2>&1 | grep 'postgresql:' >/dev/null; then
  source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
  pg_start
  run_drops pg "$PG_URL"
  pq() { psql -X -A -t -q -F, -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" -c "$1"; }
  ms() { echo "(extract(epoch from $1) * 1000)::int8"; }
  holes_vs_rows pg pq "$(pq "select max($(ms trade_timestamp)) from trades")" ||
    fail "PostgreSQL feed_gaps rows are not the simulator's holes"
  pq "select symbol, from_ms, to_ms from feed_gaps" >"$TMP/pg_g.csv"
  pq "select symbol, interval_s, $(ms start_time), incomplete from candles" >"$TMP/pg_c.csv"
  pq "select symbol, $(ms window_start), $(ms window_end), incomplete from running_averages_15_sec" >"$TMP/pg_a.csv"
  /usr/bin/python3 "$CHECK" "$TMP/pg_g.csv" "$TMP/pg_c.csv" "$TMP/pg_a.csv" || fail "PostgreSQL: incomplete windows are not right"
  ok "run on PostgreSQL: feed_gaps = the simulator's holes; exactly the windows overlapping a gap are incomplete"
else
  ok "# SKIP PostgreSQL: this build has no PostgreSQL store"
fi
