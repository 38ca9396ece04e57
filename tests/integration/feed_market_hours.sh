#!/usr/bin/env bash
# feed_market_hours.sh - a stock outside its market's hours gets only pings
# from `simulate --market-hours`, and tickpipe takes the pings as life: no
# reconnect, no gap, while a watchdog shorter than the closed time would
# have fired without them (the control run, pings off, reconnects). The
# market clock is set with --market-time: a Saturday (closed all along) and
# a Monday a few seconds before 16:00 New York (trades, then the close).
# Trades are judged against the simulator's own counters and the capture.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
SAT=2026-12-05T15:00:00Z       # Saturday
CLOSE=2026-12-07T20:59:55Z     # Monday 15:59:55 EST: five seconds of trading left

# Saturday: AAPL gets pings only, BINANCE:BTCUSDT trades; 4 s with a 0.8 s watchdog.
start_sim sat --market-hours --market-time "$SAT" --rate 200 --ping-interval 0.2
timeout 60 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL,BINANCE:BTCUSDT \
  --stale-timeout 0.8 --duration 4 >"$TMP/sat.jsonl" 2>"$TMP/sat.err" || fail "capture failed: $(tail -5 "$TMP/sat.err")"
[ "$(grep -c '"s":"AAPL"' "$TMP/sat.jsonl" || true)" = 0 ] || fail "AAPL traded on a Saturday"
[ "$(grep -c '"s":"BINANCE:BTCUSDT"' "$TMP/sat.jsonl")" -ge 300 ] || fail "crypto did not trade on a Saturday"
ok "Saturday: no AAPL trades, $(grep -c BTCUSDT "$TMP/sat.jsonl") crypto trades"

# AAPL alone on a Saturday: only pings for 4 s, five times the watchdog; no reconnect.
timeout 60 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t2 --symbols AAPL \
  --stale-timeout 0.8 --duration 4 >"$TMP/ping.jsonl" 2>"$TMP/ping.err" || fail "capture failed: $(tail -5 "$TMP/ping.err")"
[ "$(summary_field "$TMP/ping.err" reconnects)" = 0 ] || fail "reconnected although pings came: $(grep -m3 -i 'stale\|silent' "$TMP/ping.err")"
[ "$(summary_field "$TMP/ping.err" pings)" -ge 10 ] || fail "too few pings: $(grep summary "$TMP/ping.err")"
[ ! -s "$TMP/ping.jsonl" ] || fail "trades of a closed market: $(head -2 "$TMP/ping.jsonl")"
ok "a closed stock with pings only: no reconnect over 4 s with --stale-timeout 0.8 ($(summary_field "$TMP/ping.err" pings) pings)"

# The control: the same without pings is a silence, and the watchdog reconnects.
start_sim nopings --market-hours --market-time "$SAT" --rate 200 --ping-interval 0
timeout 60 "$TICKPIPE" capture --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL \
  --stale-timeout 0.8 --duration 4 >/dev/null 2>"$TMP/nopings.err" || fail "capture failed: $(tail -5 "$TMP/nopings.err")"
[ "$(summary_field "$TMP/nopings.err" reconnects)" -ge 1 ] || fail "the control run did not reconnect: the test cannot tell"
ok "control: without pings the watchdog reconnects ($(summary_field "$TMP/nopings.err" reconnects) times)"

# The close: AAPL trades until 16:00 New York, then pings only; `run` into
# SQLite stores its trades, and feed_gaps stays empty (sqlite3 as oracle).
# The simulator's market clock starts when it does, before its ready line:
# every trade's event time is under 5 s after that.
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
start_sim close --market-hours --market-time "$CLOSE" --rate 200 --ping-interval 0.2
ready_ms=$(date +%s%3N)
db="$TMP/close.db"
timeout 60 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols AAPL --store "sqlite:$db" --no-http \
  --stale-timeout 0.8 --duration 9 >"$TMP/close.out" 2>"$TMP/close.err" || fail "run failed: $(tail -5 "$TMP/close.err")"
n=$(sqlite3 -batch -noheader "$db" "SELECT count(*) FROM trades WHERE symbol = 'AAPL'")
last=$(sqlite3 -batch -noheader "$db" "SELECT max(trade_timestamp) FROM trades")
span=$(sqlite3 -batch -noheader "$db" "SELECT max(trade_timestamp) - min(trade_timestamp) FROM trades")
[ "$n" -ge 100 ] || fail "AAPL did not trade before the close ($n trades)"
[ "$last" -lt $((ready_ms + 5000)) ] || fail "AAPL traded $((last - ready_ms)) ms after the simulator started, past the close"
[ "$(summary_field "$TMP/close.err" reconnects)" = 0 ] || fail "run reconnected after the close"
[ "$(summary_field "$TMP/close.err" gaps)" = 0 ] || fail "run reported a gap after the close"
[ "$(sqlite3 -batch -noheader "$db" "SELECT count(*) FROM feed_gaps")" = 0 ] || fail "feed_gaps rows after the close"
ok "the close: $n AAPL trades over ${span} ms, then pings only; no reconnect, no gap, no feed_gaps row"
