#!/usr/bin/env bash
# feed_handover.sh - the handover before a venue's connection lifetime
# (Binance closes a connection after 24 h): against simulate --feed binance
# --lifetime 6, run --connection-lifetime 6 --handover-before 2 opens each
# connection's successor 2 s before the venue would close it, and closes the
# old one itself once the successor carries every symbol:
#  - the simulator never reaches a lifetime (the client closed each old
#    connection first) and accepted one connection per handover plus one;
#  - run's log and summary count the handovers, and no reconnect;
#  - every trade the simulator sent is stored exactly once (the oracle:
#    venue_holes.py, each stored uuid the venue id of one trade id sent,
#    every id from 1 on), with no hole logged and no feed_gaps row;
#  - tickpipe_feed_handovers_total says the same on /metrics.
# The drop of a connection (no handover possible) still reconnects and
# reports the hole: feed_binance.sh.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
need sqlite3:sqlite3 curl:curl
IDS="$TP_SOURCE_DIR/tests/lib/venue_holes.py"
SYMS=BTCUSDT,ETHUSDT,SOLUSDT

# About 20 s of trades: 150 a second per connection, 3000 in all.
N=3000
start_sim venue --feed binance --rate 150 --max-trades $N --lifetime 6 --ping-interval 1 --holes-log "$TMP/venue.holes" \
  --log-level debug
HTTP_PORT=$(free_port)
bg run "$TICKPIPE" run --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols "$SYMS" \
  --store "sqlite:$TMP/run.db" --http "127.0.0.1:$HTTP_PORT" --connection-lifetime 6 --handover-before 2 \
  --max-reconnects 0 --progress-interval 1
stored() { sqlite3 "$TMP/run.db" 'SELECT count(*) FROM trades' 2>/dev/null || echo 0; }
stored_at_least() { [ "$(stored)" -ge "$1" ]; }
wait_for 120 stored_at_least $N
metric() { curl -sf "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v n="$1" '$1 ~ "^"n"[{ ]|^"n"$" {s += $2} END {print s + 0}'; }
m_handovers=$(metric tickpipe_feed_handovers_total)
kill -INT "$PID_run"
wait "$PID_run" || fail "run failed: $(tail -5 "$TMP/run.log")"
wait "$PID_venue" || true
grep -q 'stopped: connections=' "$TMP/venue.log" || fail "no simulator summary: $(tail -3 "$TMP/venue.log")"

# the client closed each old connection before the venue's lifetime
handovers=$(grep -c 'handover #[0-9]* on connection' "$TMP/run.log")
[ "$handovers" -ge 3 ] || fail "$handovers handovers in 20 s with a 6 s lifetime: $(grep -i 'handover' "$TMP/run.log" | tail -5)"
! grep -q 'reached its lifetime' "$TMP/venue.log" \
  || fail "the venue closed a connection at its lifetime: $(grep -m3 'reached its lifetime\|handover' "$TMP/venue.log" "$TMP/run.log")"
# (a successor may have been opened as run stopped, not yet handed over to)
opened=$(grep -c 'handover: .* opening its successor' "$TMP/run.log")
conns=$(sed -n 's/.*stopped: connections=\([0-9]*\) .*/\1/p' "$TMP/venue.log")
[ "$conns" = $((opened + 1)) ] && [ "$handovers" -ge $((opened - 1)) ] \
  || fail "the simulator accepted $conns connections; run opened $opened successors, $handovers handovers"
[ "$(summary_field "$TMP/run.log" handovers)" = "$handovers" ] \
  || fail "summary: $(grep '^summary' "$TMP/run.log"), log: $handovers handovers"
[ "$(summary_field "$TMP/run.log" reconnects)" = 0 ] && [ "$(summary_field "$TMP/run.log" gaps)" = 0 ] \
  || fail "a handover counted as a reconnect or a gap: $(grep '^summary' "$TMP/run.log")"
[ "$m_handovers" -ge 3 ] && [ "$m_handovers" -le "$handovers" ] \
  || fail "tickpipe_feed_handovers_total=$m_handovers, log $handovers"
grep -q 'handovers, ' "$TMP/run.log" || fail "no handovers in the progress line"
ok "$handovers handovers, each old connection closed by run before the venue's 6 s lifetime; no reconnect"

# every trade once, no hole, no gap
sent=$(sed -n 's/.*stopped: .* trades=\([0-9]*\) .*/\1/p' "$TMP/venue.log")
[ "$sent" = $N ] || fail "the simulator sent $sent trades, not $N"
[ "$(stored)" = $N ] || fail "stored $(stored) trades, the simulator sent $N"
[ ! -s "$TMP/venue.holes" ] || fail "the simulator logged holes: $(head -3 "$TMP/venue.holes")"
sqlite3 -separator ' ' "$TMP/run.db" 'SELECT symbol, uuid FROM trades' >"$TMP/run.uuids"
/usr/bin/python3 "$IDS" --no-holes "$TMP/venue.holes" "$TMP/run.uuids" >"$TMP/run.check" \
  || fail "the stored ids are not the venue ids of the trades sent, each once"
[ "$(wc -l <"$TMP/run.check")" = 3 ] || fail "not three symbols: $(cat "$TMP/run.check")"
sqlite3 "$TMP/run.db" 'SELECT count(*) FROM feed_gaps' >"$TMP/gaps.n" || fail "no feed_gaps table"
[ "$(cat "$TMP/gaps.n")" = 0 ] || fail "feed_gaps rows: $(sqlite3 "$TMP/run.db" 'SELECT * FROM feed_gaps')"
ok "all $N trades stored once through the handovers ($(tr '\n' ' ' <"$TMP/run.check")); no hole, no feed_gaps row"

# The venue closes the old connection before the successor has joined every
# symbol (20 symbols, 2 trades a second: the successor's trades cannot
# continue all of them in the second left): the successor takes over at
# once, still without a reconnect, a lost trade or a gap.
N=30
SYMS20=$(/usr/bin/python3 -c 'print(",".join("S%02dUSDT" % i for i in range(20)))')
start_sim venue2 --feed binance --rate 2 --max-trades $N --lifetime 6 --holes-log "$TMP/venue2.holes"
bg run2 "$TICKPIPE" run --feed binance --ws-url "ws://127.0.0.1:$SIM_PORT/ws" --symbols "$SYMS20" \
  --store "sqlite:$TMP/run2.db" --no-http --connection-lifetime 8 --handover-before 3 --max-reconnects 0
stored2() { sqlite3 "$TMP/run2.db" 'SELECT count(*) FROM trades' 2>/dev/null || echo 0; }
stored2_at_least() { [ "$(stored2)" -ge "$1" ]; }
wait_for 120 stored2_at_least $N
kill -INT "$PID_run2"
wait "$PID_run2" || fail "run failed: $(tail -5 "$TMP/run2.log")"
wait "$PID_venue2" || true
grep -q 'reached its lifetime' "$TMP/venue2.log" || fail "the venue closed no connection: $(tail -3 "$TMP/venue2.log")"
grep -q 'the old connection to .* closed during the handover' "$TMP/run2.log" \
  && grep -q 'handover #1 on connection 0: .*(the old connection closed first' "$TMP/run2.log" \
  || fail "the successor did not take over when the venue closed the old one: $(grep -i handover "$TMP/run2.log")"
[ "$(summary_field "$TMP/run2.log" reconnects)" = 0 ] && [ "$(summary_field "$TMP/run2.log" gaps)" = 0 ] \
  || fail "a reconnect or a gap: $(grep '^summary' "$TMP/run2.log")"
[ "$(stored2)" = $N ] || fail "stored $(stored2) trades, the simulator sent $N"
[ ! -s "$TMP/venue2.holes" ] || fail "the simulator logged holes: $(head -3 "$TMP/venue2.holes")"
sqlite3 -separator ' ' "$TMP/run2.db" 'SELECT symbol, uuid FROM trades' >"$TMP/run2.uuids"
/usr/bin/python3 "$IDS" --no-holes "$TMP/venue2.holes" "$TMP/run2.uuids" >/dev/null \
  || fail "the stored ids are not the venue ids of the trades sent, each once"
[ "$(sqlite3 "$TMP/run2.db" 'SELECT count(*) FROM feed_gaps')" = 0 ] || fail "feed_gaps rows"
ok "the venue closed the old connection first: the successor took over, all $N trades once, no gap"
