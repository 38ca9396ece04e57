#!/usr/bin/env bash
# http_dashboard.sh - the dashboard end to end in Debian's headless Chromium
# (tests/e2e/dashboard.mjs, playwright-core from web/node_modules): serve over
# a SQLite store that a writer (tests/tools/http_seed live) keeps filling.
# Screenshot: tests/artifacts/dashboard.png.
source "$(dirname "$0")/../lib/common.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "Chromium missing at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || fail "node missing (scripts/install-deps.sh)"
[ -f "$TP_SOURCE_DIR/web/node_modules/playwright-core/index.mjs" ] ||
  fail "web/node_modules/playwright-core missing (cd web && npm ci)"

DB="$TMP/store.db"
bg writer "$TP_TOOLS_DIR/http_seed" "sqlite:$DB" live 300
wait_for 30 grep -q '^live' "$TMP/writer.log"
bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --store "sqlite:$DB" --poll-interval 250
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)

mkdir -p "$TP_SOURCE_DIR/tests/artifacts"
SHOT="$TP_SOURCE_DIR/tests/artifacts/dashboard.png"
rm -f "$SHOT"
HOME="$TMP" CHROMIUM="$CHROMIUM" node "$TP_SOURCE_DIR/tests/e2e/dashboard.mjs" "$BASE" "$SHOT" ||
  fail "dashboard checks failed (serve log: $TMP/serve.log)"
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "no PNG screenshot at $SHOT"
ok "dashboard works in Chromium; screenshot at tests/artifacts/dashboard.png"
