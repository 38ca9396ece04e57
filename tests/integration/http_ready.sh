#!/usr/bin/env bash
# http_ready.sh - /readyz, the readiness probe, against /healthz, the
# liveness one:
#  - serve on PostgreSQL: /readyz 200 {"status":"ready"} as soon as serve
#    prints its address; PostgreSQL killed: 503 {"status":"not ready",
#    "store":"unavailable",...} naming the server, while /healthz stays 200;
#    PostgreSQL back: 200 again (serve retries every 2 s by itself);
#  - serve on a store that cannot be opened: /readyz 503 at once;
#  - run: /readyz 200 once the feed is connected (the store was opened and
#    the windows rebuilt before the server started); the feed server gone:
#    503 naming the feed.
source "$TP_SOURCE_DIR/tests/lib/common.sh"
source "$TP_SOURCE_DIR/tests/lib/postgres.sh"
PY=/usr/bin/python3
code() { curl -s -o "$TMP/r.json" -w '%{http_code}' "$1"; }
is() { [ "$(code "$1")" = "$2" ]; }
port_of() { sed -n 's|.*dashboard at http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$1" | head -1; }
body() { # body KEY=VALUE...: the last answer's JSON has these fields
  $PY - "$TMP/r.json" "$@" <<'PY' || fail "/readyz body: $(cat "$TMP/r.json")"
import json, sys
d = json.load(open(sys.argv[1]))
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    assert str(d.get(k)) == v, (k, v, d)
PY
}

pg_start
"$TICKPIPE" serve --store "$PG_URL" --http 127.0.0.1:0 >/dev/null 2>"$TMP/serve.log" &
spid=$!
on_exit "kill -9 $spid 2>/dev/null"
wait_for 30 grep -q 'dashboard at http://127.0.0.1:[0-9]*/' "$TMP/serve.log"
S="http://127.0.0.1:$(port_of "$TMP/serve.log")"
[ "$(code "$S/readyz")" = 200 ] || fail "serve: /readyz $(code "$S/readyz") right after start: $(cat "$TMP/r.json")"
body status=ready
curl -s -D - -o /dev/null "$S/readyz" | grep -qi '^content-type: application/json' || fail "/readyz is not application/json"
ok "serve: /readyz 200 $(cat "$TMP/r.json") from the first answer"
pg_kill
wait_for 30 is "$S/readyz" 503
body status="not ready" store=unavailable
grep -q "$PG_PORT" "$TMP/r.json" || fail "the not-ready body does not name the server: $(cat "$TMP/r.json")"
is "$S/healthz" 200 || fail "serve: /healthz $(code "$S/healthz") while the store is down (liveness must stay 200)"
ok "serve, store down: /readyz 503 $(head -c 160 "$TMP/r.json")..., /healthz 200"
pg_restart
wait_for 30 is "$S/readyz" 200
ok "serve, store back: /readyz 200 again"
kill -TERM "$spid"; wait "$spid" || fail "serve exited $? on SIGTERM"

"$TICKPIPE" serve --store "postgresql://tp@127.0.0.1:$(free_port)/none" --http 127.0.0.1:0 >/dev/null 2>"$TMP/serve2.log" &
spid=$!
on_exit "kill -9 $spid 2>/dev/null"
wait_for 30 grep -q 'dashboard at http://127.0.0.1:[0-9]*/' "$TMP/serve2.log"
S="http://127.0.0.1:$(port_of "$TMP/serve2.log")"
is "$S/readyz" 503 || fail "serve on a dead store: /readyz $(code "$S/readyz") at start"
body status="not ready" store=unavailable
ok "serve on a store that cannot be opened: /readyz 503 from the first answer"
kill -TERM "$spid"; wait "$spid" || true

start_sim feed --rate 200
"$TICKPIPE" run --store "sqlite:$TMP/run.db" --http 127.0.0.1:0 --ws-url "ws://127.0.0.1:$SIM_PORT" --symbols AAPL,MSFT \
  >/dev/null 2>"$TMP/run.log" &
rpid=$!
on_exit "kill -9 $rpid 2>/dev/null"
wait_for 30 grep -q 'dashboard at http://127.0.0.1:[0-9]*/' "$TMP/run.log"
R="http://127.0.0.1:$(port_of "$TMP/run.log")"
wait_for 30 is "$R/readyz" 200
body status=ready
ok "run: /readyz 200 once the feed is connected"
kill -9 "$PID_feed"
wait_for 60 is "$R/readyz" 503
body status="not ready" feed=failing
ok "run, feed gone: /readyz 503 $(head -c 160 "$TMP/r.json")..."
kill -TERM "$rpid"
rc=0; wait "$rpid" || rc=$?
[ "$rc" = 0 ] || fail "run exited $rc on SIGTERM"
