#!/usr/bin/env bash
# run_health.sh - /healthz of `tickpipe run` tells the truth: 200 with
# {"status":"ok",...} while the feed is connected and the store takes
# writes; 503 with a JSON body naming the failing part, since when and the
# store's last error once PostgreSQL is killed (and the /ws stats message,
# which the dashboard's health row shows, carries the same report); 200
# again after PostgreSQL is back; 503 naming the feed once the feed server
# is gone; SIGTERM then still drains and exits 0.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
PY=/usr/bin/python3
pg_start
start_sim feed --rate 200
"$TICKPIPE" run --store "$PG_URL" --http 127.0.0.1:0 --ws-url "ws://127.0.0.1:$SIM_PORT" --symbols AAPL,MSFT \
  >/dev/null 2>"$TMP/run.log" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
wait_for 30 grep -q 'dashboard at http://127.0.0.1:[0-9]*/' "$TMP/run.log"
port=$(sed -n 's|.*dashboard at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$TMP/run.log" | head -1)
H="http://127.0.0.1:$port/healthz"
code() { curl -s -o "$TMP/h.json" -w '%{http_code}' "$H"; }
is() { [ "$(code)" = "$1" ]; }

wait_for 30 is 200
$PY - "$TMP/h.json" <<'PY' || fail "healthy body: $(cat "$TMP/h.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"status": "ok", "feed": "ok", "store": "ok", "queue": "ok"}, d
PY
curl -s -D - -o /dev/null "$H" | grep -qi '^content-type: application/json' || fail "/healthz is not application/json"
ok "healthy: 200 $(cat "$TMP/h.json")"

t_kill=$(date +%s%3N)
pg_kill
wait_for 60 is 503
$PY - "$TMP/h.json" "$t_kill" "$PG_PORT" <<'PY' || fail "store failing body: $(cat "$TMP/h.json")"
import json, sys
d = json.load(open(sys.argv[1]))
t_kill, port = int(sys.argv[2]), sys.argv[3]
assert d["status"] == "failing" and d["store"] == "failing" and d["feed"] == "ok", d
p = [x for x in d["problems"] if x["part"] == "store"][0]
assert t_kill - 1000 <= p["since_ms"] <= t_kill + 60000, (p, t_kill)
assert p["since"].endswith("Z") and p["for_s"] >= 0, p
assert "PostgreSQL" in p["detail"] and port in p["detail"], p
PY
ok "store down: 503 $(cat "$TMP/h.json")"
$PY "$TP_SOURCE_DIR/tests/lib/ws_client.py" 127.0.0.1 "$port" AAPL stats:failing >"$TMP/stats.json" ||
  fail "no /ws stats with the failing health"
grep -q '"part": "store"' "$TMP/stats.json" || fail "/ws stats health does not name the store: $(cat "$TMP/stats.json")"
ok "the dashboard's stats message carries the failing store"

pg_restart
wait_for 60 is 200
ok "store back: 200 again"

kill "$PID_feed"
wait_for 60 is 503
grep -q '"feed":"failing"' "$TMP/h.json" || fail "feed down but: $(cat "$TMP/h.json")"
ok "feed gone: 503 $(cat "$TMP/h.json")"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "run exited $rc after SIGTERM: $(tail -5 "$TMP/run.log")"
ok "SIGTERM drained and exited 0"
