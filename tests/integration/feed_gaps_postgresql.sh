#!/usr/bin/env bash
# feed_gaps_postgresql.sh - run against a simulator that drops its
# connections, into a real PostgreSQL (started here on loopback): the
# feed_gaps rows against the stored trades, psql as the oracle (each row's
# from/to are stored trades of its symbol with none between them; as many
# rows as the run's gaps=), and /api/gaps on the same store.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
if ! "$TICKPIPE" run --help 2>&1 | grep 'postgresql:' >/dev/null; then
  ok "# SKIP: this build has no PostgreSQL store"
  exit 0
fi
pg_start
start_sim drop --rate 400 --drop-every 0.7
timeout 120 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,MSFT --store "$PG_URL" \
  --no-http --max-trades 1200 --max-reconnects 20 >"$TMP/run.out" 2>"$TMP/run.err" \
  || fail "run failed: $(tail -5 "$TMP/run.err")"
n=$(sed -n 's/^summary: .*\bgaps=\([0-9]*\).*/\1/p' "$TMP/run.err")
rows=$(psql_q "select count(*) from feed_gaps where reason = 'reconnect'")
[ "${n:-0}" -ge 2 ] && [ "$rows" = "$n" ] || fail "feed_gaps rows=$rows, run gaps=$n"
ms="(extract(epoch from t.trade_timestamp) * 1000)::int8"
bad=$(psql_q "select count(*) from feed_gaps g where
  not exists (select 1 from trades t where t.symbol = g.symbol and $ms = g.from_ms)
  or not exists (select 1 from trades t where t.symbol = g.symbol and $ms = g.to_ms)
  or exists (select 1 from trades t where t.symbol = g.symbol and $ms > g.from_ms and $ms < g.to_ms)")
[ "$bad" = 0 ] || fail "$bad feed_gaps rows do not match the stored trades: $(psql_q 'select * from feed_gaps')"
ok "run: $rows feed_gaps rows in PostgreSQL, each bounded by consecutive stored trades"

bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --store "$PG_URL" --poll-interval 0
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)
want=$(psql_q "select count(*) from feed_gaps where symbol = 'MSFT'")
got=$(curl -fsS "$URL/api/gaps?symbol=MSFT" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$got" = "$want" ] || fail "/api/gaps count $got, psql $want"
ok "/api/gaps on PostgreSQL: $got rows"
