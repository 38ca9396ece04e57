#!/usr/bin/env bash
# http_dashboard_trader.sh - the dashboard's trader tools in Debian's headless
# Chromium (tests/e2e/dashboard_trader.mjs) over a SQLite store holding
# http_seed's fixed minute of data: older candles load as the view reaches
# the oldest shown, the crosshair readout, the VWAP line, the instrument's
# price precision, the no-volume note of an FX feed, UTC and local time.
# Every value is checked against the REST API's answer.
# Screenshot: tests/artifacts/dashboard_trader.png.
source "$(dirname "$0")/../lib/common.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "Chromium missing at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || fail "node missing (scripts/install-deps.sh)"
[ -f "$TP_SOURCE_DIR/web/node_modules/playwright-core/index.mjs" ] ||
  fail "web/node_modules/playwright-core missing (cd web && npm ci)"

DB="$TMP/store.db"
"$TP_TOOLS_DIR/http_seed" "sqlite:$DB" fixed >"$TMP/seed.log" 2>&1 || fail "http_seed: $(cat "$TMP/seed.log")"
bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --store "sqlite:$DB" --poll-interval 250
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)

mkdir -p "$TP_SOURCE_DIR/tests/artifacts"
SHOT="$TP_SOURCE_DIR/tests/artifacts/dashboard_trader.png"
rm -f "$SHOT"
HOME="$TMP" CHROMIUM="$CHROMIUM" node "$TP_SOURCE_DIR/tests/e2e/dashboard_trader.mjs" "$BASE" "$SHOT" ||
  fail "dashboard trader checks failed (serve log: $TMP/serve.log)"
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG screenshot at $SHOT"
ok "trader tools work in Chromium; screenshot at tests/artifacts/dashboard_trader.png"
