#!/usr/bin/env bash
# feed_two_venues.sh - two feeds at once, one run per feed (each run is one
# feed's connections, retries and gaps; the store is shared): run --feed
# coinbase and run --feed kraken against their simulators, with drops and
# repeats, into the same SQLite file. Every trade of each venue is stored
# exactly once under its own prefix (the venue ids of the ids sent, less
# each simulator's holes), the gap rows are the simulators' holes by id
# range, and neither run stores the other's symbols.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
need sqlite3:sqlite3
feeds=$("$TICKPIPE" help-flags --markdown simulate | sed -n 's/^| `--feed NAME`.*one of \([a-z, ]*\) |$/\1/p')
for f in coinbase kraken; do
  [[ ", $feeds," == *", $f,"* ]] || { echo "ok - skipped: no $f feed in this build ($feeds)"; exit 0; }
done
IDS="$TP_SOURCE_DIR/tests/lib/venue_holes.py"
N=1500
start_sim cb --feed coinbase --rate 500 --max-trades $N --drop-every 0.8 --repeat-rate 0.2 --holes-log "$TMP/cb.holes"
CB_PORT=$SIM_PORT
start_sim kr --feed kraken --rate 500 --max-trades $N --drop-every 0.9 --repeat-rate 0.2 --holes-log "$TMP/kr.holes"
KR_PORT=$SIM_PORT
bg runcb "$TICKPIPE" run --feed coinbase --ws-url "ws://127.0.0.1:$CB_PORT/" --symbols BTC-USD,ETH-USD \
  --store "sqlite:$TMP/both.db" --no-http --max-reconnects 50
bg runkr "$TICKPIPE" run --feed kraken --ws-url "ws://127.0.0.1:$KR_PORT/v2" --symbols BTC/USD,ETH/USD \
  --store "sqlite:$TMP/both.db" --no-http --max-reconnects 50
count() { sqlite3 "$TMP/both.db" "SELECT count(*) FROM trades WHERE symbol LIKE '$1%'" 2>/dev/null || echo 0; }
both_stored() { [ "$(count COINBASE:)" -ge $N ] && [ "$(count KRAKEN:)" -ge $N ]; }
wait_for 120 both_stored
kill -INT "$PID_runcb" "$PID_runkr"
wait "$PID_runcb" || fail "run --feed coinbase failed: $(tail -5 "$TMP/runcb.log")"
wait "$PID_runkr" || fail "run --feed kraken failed: $(tail -5 "$TMP/runkr.log")"
wait "$PID_cb" || true
wait "$PID_kr" || true
for v in cb kr; do
  sent=$(sed -n 's/.*stopped: .* trades=\([0-9]*\) .*/\1/p' "$TMP/$v.log")
  drops=$(sed -n 's/.*stopped: .* drops=\([0-9]*\) .*/\1/p' "$TMP/$v.log")
  [ "$sent" = $N ] && [ "${drops:-0}" -gt 0 ] || fail "$v: sent=$sent drops=$drops"
done
[ "$(count COINBASE:)" = $N ] && [ "$(count KRAKEN:)" = $N ] \
  && [ "$(sqlite3 "$TMP/both.db" 'SELECT count(*) FROM trades')" = $((2 * N)) ] \
  || fail "stored $(count COINBASE:) Coinbase and $(count KRAKEN:) Kraken trades of $N each: $(sqlite3 "$TMP/both.db" 'SELECT symbol, count(*) FROM trades GROUP BY 1')"
cat "$TMP/cb.holes" "$TMP/kr.holes" >"$TMP/all.holes"
sqlite3 -separator ' ' "$TMP/both.db" 'SELECT symbol, uuid FROM trades' >"$TMP/both.uuids"
/usr/bin/python3 "$IDS" "$TMP/all.holes" "$TMP/both.uuids" >"$TMP/both.check" \
  || fail "the stored ids are not the venue ids of the trades sent"
[ "$(wc -l <"$TMP/both.check")" = 4 ] || fail "not four symbols: $(cat "$TMP/both.check")"
sqlite3 -separator ' ' "$TMP/both.db" 'SELECT symbol, from_trade_id, to_trade_id FROM feed_gaps' | sort >"$TMP/got.gaps"
/usr/bin/python3 -c 'import json, sys
for l in open(sys.argv[1]): h = json.loads(l); print(h["symbol"], h["from_id"], h["to_id"])' "$TMP/all.holes" \
  | sort >"$TMP/want.gaps"
[ -s "$TMP/want.gaps" ] && diff "$TMP/want.gaps" "$TMP/got.gaps" >"$TMP/gaps.diff" \
  || fail "the gap rows are not the simulators' holes: $(head -10 "$TMP/gaps.diff")"
ok "run --feed coinbase and run --feed kraken into one store: $N trades of each venue once ($(tr '\n' ' ' <"$TMP/both.check")); $(wc -l <"$TMP/got.gaps") gap rows = both simulators' holes"
