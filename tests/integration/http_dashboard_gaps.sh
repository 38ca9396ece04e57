#!/usr/bin/env bash
# http_dashboard_gaps.sh - feed gaps on the dashboard's chart, in Debian's
# headless Chromium (tests/e2e/dashboard_gaps.mjs): serve over a SQLite store
# with http_seed's fixed minute of data and feed_gaps rows written by the
# sqlite3 shell: two gaps of AAPL inside its candles (they get bands, grey:
# its market was closed), one long before them (no band), and one of
# BINANCE:BTCUSDT (an amber band on its own chart only). Most of their ends
# fall between two one-second bars, where the chart has no coordinate of its
# own and the page has to interpolate.
# Screenshot: tests/artifacts/dashboard_gaps.png.
source "$(dirname "$0")/../lib/common.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "Chromium missing at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || fail "node missing (scripts/install-deps.sh)"
command -v sqlite3 >/dev/null || fail "sqlite3 CLI missing (scripts/install-deps.sh --test installs it)"
[ -f "$TP_SOURCE_DIR/web/node_modules/playwright-core/index.mjs" ] ||
  fail "web/node_modules/playwright-core missing (cd web && npm ci)"

DB="$TMP/store.db"
"$TP_TOOLS_DIR/http_seed" "sqlite:$DB" fixed >"$TMP/seed.log" 2>&1 || fail "http_seed: $(cat "$TMP/seed.log")"
B=1700000000000 # http_seed's fixed minute starts here
sqlite3 "$DB" "INSERT INTO feed_gaps (symbol, from_ms, to_ms, reason, detected_at, connection) VALUES
  ('AAPL', $((B + 10400)), $((B + 20700)), 'reconnect', $((B + 20705)), 0),
  ('AAPL', $((B + 40250)), $((B + 43000)), 'silence', $((B + 43002)), 1),
  ('AAPL', $((B - 500000)), $((B - 400000)), 'reconnect', $((B - 399990)), 0),
  ('BINANCE:BTCUSDT', $((B + 20000)), $((B + 30600)), 'key_in_use', $((B + 30601)), 0)" ||
  fail "cannot write feed_gaps with sqlite3"
# 22:13 UTC is 17:13 in New York, after the close: AAPL's gaps are closed-market ones
want="{\"AAPL\": [{\"from\":$((B + 10400)),\"to\":$((B + 20700)),\"reason\":\"reconnect\",\"connection\":0,\"closed\":true},
                {\"from\":$((B + 40250)),\"to\":$((B + 43000)),\"reason\":\"silence\",\"connection\":1,\"closed\":true}],
       \"BINANCE:BTCUSDT\": [{\"from\":$((B + 20000)),\"to\":$((B + 30600)),\"reason\":\"key_in_use\",\"connection\":0,\"closed\":false}]}"

bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --store "sqlite:$DB" --poll-interval 250
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)

mkdir -p "$TP_SOURCE_DIR/tests/artifacts"
SHOT="$TP_SOURCE_DIR/tests/artifacts/dashboard_gaps.png"
rm -f "$SHOT"
HOME="$TMP" CHROMIUM="$CHROMIUM" node "$TP_SOURCE_DIR/tests/e2e/dashboard_gaps.mjs" "$BASE" "$SHOT" "$want" ||
  fail "dashboard gap checks failed (serve log: $TMP/serve.log)"
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG screenshot at $SHOT"
ok "feed gaps drawn on the dashboard's chart in Chromium; screenshot at tests/artifacts/dashboard_gaps.png"
