#!/usr/bin/env bash
# run_dashboard.sh - the README's main job end to end: `tickpipe run` on its
# embedded defaults (built-in simulator, SQLite) and its dashboard in Debian's
# headless Chromium (tests/e2e/dashboard.mjs): the page loads, the chart
# draws, trades arrive live over /ws, switching symbol and interval works.
# Screenshot: tests/artifacts/run-dashboard.png.
source "$(dirname "$0")/../lib/common.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "Chromium missing at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || fail "node missing (scripts/install-deps.sh)"
[ -f "$TP_SOURCE_DIR/web/node_modules/playwright-core/index.mjs" ] ||
  fail "web/node_modules/playwright-core missing (cd web && npm ci)"

cd "$TMP" # the default store, sqlite:data/tickpipe.db, lands here
bg run "$TICKPIPE" run --http 127.0.0.1:0 --symbols AAPL,MSFT,BINANCE:BTCUSDT --sim-rate 300
wait_for 30 grep -q 'dashboard at' "$TMP/run.log"
BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/run.log" | head -1)
wait_for 30 bash -c "curl -fsS '$BASE/api/symbols' | grep -q BINANCE:BTCUSDT"

mkdir -p "$TP_SOURCE_DIR/tests/artifacts"
SHOT="$TP_SOURCE_DIR/tests/artifacts/run-dashboard.png"
rm -f "$SHOT"
HOME="$TMP" CHROMIUM="$CHROMIUM" node "$TP_SOURCE_DIR/tests/e2e/dashboard.mjs" "$BASE" "$SHOT" ||
  fail "dashboard checks failed (run log: $TMP/run.log)"
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG screenshot at $SHOT"
ok "tickpipe run's dashboard works in Chromium; screenshot at tests/artifacts/run-dashboard.png"

kill -INT "$PID_run"
rc=0; wait "$PID_run" || rc=$?
[ "$rc" = 0 ] || fail "run exited $rc after SIGINT: $(tail -5 "$TMP/run.log")"
[ -s "$TMP/data/tickpipe.db" ] || fail "the default store data/tickpipe.db was not created"
ok "Ctrl-C drained and exited 0; default store at data/tickpipe.db"
