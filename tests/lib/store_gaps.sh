# store_gaps.sh - sourced by the store tests (after common.sh): the same
# end-to-end check of feed gaps for every store that keeps them.
#   store_gaps_run URL ORACLE
#       `tickpipe run` into URL from a simulator that drops its connections
#       every 0.7 s, symbols GAPA and GAPB; then, with ORACLE (the
#       database's own client) as the judge: as many feed_gaps rows as the
#       run's gaps=, each bounded by two consecutive stored trades of its
#       symbol (from_ms and to_ms are stored trade times, no stored trade
#       lies between them, detected_at >= to_ms); and `serve`'s /api/gaps
#       lists exactly those rows, in (from, connection) order, each with
#       "expected" as Python's zoneinfo judges US market hours, and bounds
#       them by from=.
# ORACLE is a command called as
#   ORACLE gaps         -> "symbol from_ms to_ms reason connection detected_at"
#                          per row of feed_gaps for GAPA and GAPB
#   ORACLE trades SYM   -> the event times (epoch ms) of SYM's stored trades
# Each store test points URL at a database (keyspace) of its own, so the
# two symbols' rows are this run's only.
store_gaps_run() {
  local url=$1 oracle=$2 n base
  start_sim gapsim --rate 400 --drop-every 0.7
  timeout 180 "$TICKPIPE" run --ws-url "ws://127.0.0.1:$SIM_PORT" --token t --symbols GAPA,GAPB --store "$url" \
    --no-http --max-trades 1200 --max-reconnects 20 >"$TMP/gaprun.out" 2>"$TMP/gaprun.err" ||
    fail "run into the store failed: $(tail -5 "$TMP/gaprun.err")"
  kill "$PID_gapsim" 2>/dev/null || true
  n=$(summary_field "$TMP/gaprun.err" gaps)
  [ "${n:-0}" -ge 2 ] || fail "the run saw ${n:-no} gaps: $(grep -m3 gap "$TMP/gaprun.err")"
  "$oracle" gaps >"$TMP/gaps.oracle" || fail "oracle: cannot read feed_gaps"
  for s in GAPA GAPB; do "$oracle" trades "$s" >"$TMP/trades.$s" || fail "oracle: cannot read trades of $s"; done
  /usr/bin/python3 - "$TMP" "$n" <<'PY' || fail "feed_gaps rows do not match the run: $(head -20 "$TMP/gaps.oracle")"
import bisect, sys
tmp, n = sys.argv[1], int(sys.argv[2])
rows = [l.split() for l in open(f"{tmp}/gaps.oracle") if l.strip()]
assert len(rows) == n, (len(rows), n)
for sym, f, t, reason, conn, det in rows:
    f, t, det = int(f), int(t), int(det)
    ts = sorted(int(x) for x in open(f"{tmp}/trades.{sym}") if x.strip())
    assert reason == "reconnect" and conn == "0", (sym, reason, conn)
    i = bisect.bisect_left(ts, f)
    assert i < len(ts) and ts[i] == f, (sym, f, "from_ms is no stored trade")
    j = bisect.bisect_right(ts, f)  # the next stored time after from_ms
    assert j < len(ts) and ts[j] == t, (sym, f, t, "to_ms is not the next stored trade", ts[j:j + 1])
    assert det >= t, (sym, t, det)
print(f"ok: {len(rows)} rows")
PY
  bg gapserve "$TICKPIPE" serve --http 127.0.0.1:0 --store "$url" --poll-interval 0
  wait_for 30 grep -q 'dashboard at' "$TMP/gapserve.log"
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/gapserve.log" | head -1)
  for s in GAPA GAPB; do
    curl -fsS "$base/api/gaps?symbol=$s" >"$TMP/api.$s.json" || fail "/api/gaps?symbol=$s"
    /usr/bin/python3 - "$TMP" "$s" <<'PY' || fail "/api/gaps?symbol=$s: $(head -c 400 "$TMP/api.$s.json")"
import json, sys
tmp, sym = sys.argv[1:3]
d = json.load(open(f"{tmp}/api.{sym}.json"))
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
ny = ZoneInfo("America/New_York")
def expected(f, t):  # a NY session (09:30-16:00 local, weekdays) holds a moment strictly inside (f, t)
    day = datetime.fromtimestamp(f / 1000, timezone.utc).astimezone(ny).date() - timedelta(days=1)
    while datetime(day.year, day.month, day.day, tzinfo=ny).timestamp() * 1000 < t:
        if day.weekday() < 5:
            s = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ny).timestamp() * 1000
            e = datetime(day.year, day.month, day.day, 16, 0, tzinfo=ny).timestamp() * 1000
            if max(f + 1, s) < min(t, e):
                return True
        day += timedelta(days=1)
    return False
want = sorted(([int(r[1]), int(r[4]), int(r[2]), r[3], int(r[5])] for r in
               (l.split() for l in open(f"{tmp}/gaps.oracle") if l.strip()) if r[0] == sym))
want = [w + [expected(w[0], w[2])] for w in want]  # GAPA and GAPB are stocks
got = [[g["from"], g["connection"], g["to"], g["reason"], g["detected_at"], g["expected"]] for g in d["gaps"]]
assert d["symbol"] == sym and d["count"] == len(got) == len(want) and got == want, (got, want)
open(f"{tmp}/api.{sym}.first_to", "w").write(str(want[0][2]) if want else "")
PY
    first_to=$(cat "$TMP/api.$s.first_to")
    [ -n "$first_to" ] || continue
    want=$(($(grep -c "^$s " "$TMP/gaps.oracle") - 1))
    got=$(curl -fsS "$base/api/gaps?symbol=$s&from=$((first_to + 1))" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
    [ "$got" = "$want" ] || fail "/api/gaps?symbol=$s&from= does not bound the gaps: $got rows, want $want"
  done
  kill "$PID_gapserve" 2>/dev/null || true
  ok "run: $n feed_gaps rows, each bounded by consecutive stored trades; /api/gaps lists them"
}
