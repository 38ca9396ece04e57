#!/usr/bin/env bash
# http_live.sh - live push as `tickpipe run` uses it: rows published from
# another thread (tests/tools/http_publish.c, tp_http_publish_*) reach a /ws
# client in order, filtered by its symbol; a client that stops reading loses
# its oldest messages (counted in /metrics) while a reading client keeps
# getting everything new; the server stops cleanly with clients connected.
source "$(dirname "$0")/../lib/common.sh"
PY=/usr/bin/python3
WSC="$TP_SOURCE_DIR/tests/lib/ws_client.py"

bg pub "$TP_TOOLS_DIR/http_publish"
wait_for 20 grep -q '^port ' "$TMP/pub.log"
PORT=$(awk '/^port /{print $2}' "$TMP/pub.log")

# a browser that stops reading
bg slow "$PY" "$WSC" 127.0.0.1 "$PORT" AAPL stall
wait_for 20 grep -q stalled "$TMP/slow.log"

# the publisher outruns the stalled client until its queue drops the oldest
dropped() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^tickpipe_http_ws_dropped_total /{print $2}'; }
some_dropped() { local n; n=$(dropped); [ -n "$n" ] && [ "$n" -gt 0 ]; }
wait_for 120 some_dropped
ok "a client that stops reading loses its oldest messages ($(dropped) dropped so far)"

# a reading client still gets every new row, in order, only of its symbol
"$PY" "$WSC" 127.0.0.1 "$PORT" MSFT 2000 >"$TMP/fast.out" || fail "ws client failed"
"$PY" - "$TMP/fast.out" <<'PYEOF' || fail "live push wrong"
import json, sys
got = json.load(open(sys.argv[1]))
for t in ["trades", "candles", "averages", "stats"]:
    assert got["types"].get(t), f"no {t} message: {got['types']}"
assert list(got["symbols"]) == ["MSFT"], f"filter leaked: {list(got['symbols'])}"
seqs = [int(t["id"].replace("-", "")[16:], 16) for t in got["trades"]]
assert all(t["symbol"] == "MSFT" for t in got["trades"])
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "trades out of order or repeated"
# nothing missing between the first and the last one received
assert seqs[-1] - seqs[0] + 1 == len(seqs), f"gaps: {len(seqs)} trades span {seqs[-1] - seqs[0] + 1}"
s = got["stats"]
assert s["mode"] == "run" and s["stored_trades"] > 0 and s["lag_ms"] is not None, s
print(f"{len(seqs)} consecutive MSFT trades; stats {s}")
PYEOF
ok "a reading client gets every new trade in order, filtered by symbol, with run-mode stats"

curl -s "http://127.0.0.1:$PORT/metrics" | promtool check metrics || fail "promtool rejects /metrics"
kill -TERM "$PID_pub"
wait "$PID_pub" || fail "tp_http_stop with a client connected: exit $?"
ok "server stops cleanly with a stalled client connected"
