#!/usr/bin/env bash
# http_slow_store.sh - a store that hangs (a ClickHouse URL pointing at a
# server that accepts and never answers, tests/lib/blackhole.py) stalls
# only what needs the store: while /api/ requests and serve's live tail
# wait on it, /healthz, /metrics and the dashboard answer at once and /ws
# clients keep getting their stats push every second; an /api/ request
# with bad parameters gets its 400 at once. When the store
# finally fails, the waiting requests get 503 JSON naming it.
source "$(dirname "$0")/../lib/common.sh"
PY=/usr/bin/python3

bg hole "$PY" "$TP_SOURCE_DIR/tests/lib/blackhole.py"
wait_for 20 grep -q '^port ' "$TMP/hole.log"
HOLE=$(sed -n 's/^port //p' "$TMP/hole.log")

bg serve "$TICKPIPE" serve --http 127.0.0.1:0 --poll-interval 200 --store "clickhouse://127.0.0.1:$HOLE/market"
wait_for 20 grep -q 'dashboard at' "$TMP/serve.log"
BASE=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/serve.log" | head -1)
PORT=${BASE##*:}

# A /ws client (which starts the live tail, so the worker opens the store)
# and REST requests, all of which now wait on the store.
"$PY" "$TP_SOURCE_DIR/tests/lib/ws_client.py" 127.0.0.1 "$PORT" AAPL count:6 >"$TMP/ws.json" &
wspid=$!
on_exit "kill $wspid 2>/dev/null"
for i in 1 2 3; do
  curl -s -o "$TMP/api$i.body" -w '%{http_code}' --max-time 120 "$BASE/api/trades?symbol=AAPL" >"$TMP/api$i.code" &
  eval "api$i=\$!"
done
on_exit "kill $api1 $api2 $api3 2>/dev/null"
wait_for 30 grep -q '^accepted' "$TMP/hole.log" # the store worker is connected and waiting
api_waiting() { curl -s --max-time 1 -o /dev/null "$BASE/healthz"; ! [ -s "$TMP/api1.code" ]; }
wait_for 10 api_waiting

# While the store hangs: every /healthz, /metrics and / answers within 2 s.
slowest=0
for i in $(seq 1 10); do
  t=$(curl -s -o "$TMP/h.body" -w '%{http_code} %{time_total}' --max-time 2 "$BASE/healthz") ||
    fail "/healthz did not answer within 2 s while the store hangs (request $i)"
  [ "${t%% *}" = 200 ] && [ "$(cat "$TMP/h.body")" = ok ] || fail "/healthz: $t $(cat "$TMP/h.body")"
  slowest=$("$PY" -c "print(max($slowest, ${t#* }))")
  curl -sf -o "$TMP/m.body" --max-time 2 "$BASE/metrics" || fail "/metrics did not answer within 2 s"
  grep -q '^tickpipe_http_requests_total' "$TMP/m.body" || fail "/metrics body is not the metrics"
  curl -sf -o /dev/null --max-time 2 "$BASE/" || fail "the dashboard page did not answer within 2 s"
done
# Requests the store cannot answer anyway are answered at once as well.
code=$(curl -s -o "$TMP/bad.body" -w '%{http_code}' --max-time 2 "$BASE/api/trades?symbol=AAPL&limit=0") ||
  fail "a bad /api/ request waited for the hung store"
[ "$code" = 400 ] && grep -q limit "$TMP/bad.body" || fail "bad limit: HTTP $code $(cat "$TMP/bad.body")"
code=$(curl -s -o "$TMP/bad.body" -w '%{http_code}' --max-time 2 "$BASE/api/nothing") ||
  fail "an unknown /api/ path waited for the hung store"
[ "$code" = 404 ] || fail "unknown endpoint: HTTP $code $(cat "$TMP/bad.body")"
for i in 1 2 3; do [ -s "$TMP/api$i.code" ] && fail "an /api/ request was answered while the store hangs"; done
# At most 64 wait for the store; the rest get 503 "busy" at once, so a
# hung store cannot pile up connections without bound.
mkdir -p "$TMP/more"
more=()
for i in $(seq 1 70); do
  curl -s -o "$TMP/more/$i.body" -w '%{http_code}' --max-time 120 "$BASE/api/symbols" >"$TMP/more/$i.code" &
  more+=($!)
done
on_exit "kill ${more[*]} 2>/dev/null"
busy() { curl -s --max-time 2 "$BASE/metrics" | grep -q '^tickpipe_http_store_busy_total [1-9]'; }
wait_for 30 busy
grep -l 'store is busy' "$TMP"/more/*.body >/dev/null 2>&1 || fail "no request was told the store is busy"
nbusy=$(grep -l 'store is busy' "$TMP"/more/*.body | wc -l)
ok "store hanging: 10 x /healthz, /metrics and / each answered (slowest /healthz ${slowest}s), bad /api/ requests 400/404 at once, good ones still waiting, $nbusy of 70 more refused as busy"

# The /ws client got a stats push about every second throughout.
wait "$wspid" || fail "/ws client failed: $(cat "$TMP/ws.json")"
read -r stats gap < <("$PY" -c "import json; g=json.load(open('$TMP/ws.json')); print(g['types'].get('stats', 0), g['gap'])")
[ "$stats" -ge 3 ] || fail "only $stats stats messages in 6 s while the store hangs: $(cat "$TMP/ws.json")"
"$PY" -c "import sys; sys.exit(0 if $gap < 3.5 else 1)" || fail "a $gap s gap between /ws messages: $(cat "$TMP/ws.json")"
ok "/ws: $stats stats pushes in 6 s, longest gap ${gap}s, while the store hangs"

# The store dies (the black hole closes its connections): the waiting
# requests are answered 503 with a JSON error naming ClickHouse.
kill "$PID_hole"
for i in 1 2 3; do
  wait "$(eval echo "\$api$i")" || true
  [ "$(cat "$TMP/api$i.code")" = 503 ] || fail "request $i: HTTP $(cat "$TMP/api$i.code") $(cat "$TMP/api$i.body")"
  "$PY" -c "import json,sys; e=json.load(open('$TMP/api$i.body'))['error']; sys.exit(0 if 'ClickHouse' in e else 1)" ||
    fail "request $i: error does not name the store: $(cat "$TMP/api$i.body")"
done
wait "${more[@]}" || true # the 70: each answered once the store is gone
for f in "$TMP"/more/*.code; do [ "$(cat "$f")" = 503 ] || fail "${f##*/}: HTTP $(cat "$f")"; done
ok "store gone: the waiting /api/ requests got 503: $(head -c 150 "$TMP/api1.body")"
