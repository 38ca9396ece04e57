"""holes_check.py HOLES GAPS [MAX_TS]: the gaps tickpipe reported (GAPS: JSON
lines with symbol, from_ms, to_ms, reason, or the log lines "gap in SYM on
connection N: no trades between F and T ms (REASON;") equal the simulator's
holes log (simulate --holes-log), the oracle: the same (symbol, from, to,
reason) set. A hole the simulator closed at or after MAX_TS (the newest
event time the client received) may be missing: its first trade after may
not have been read before the client stopped."""
import json
import re
import sys

holes_path, gaps_path = sys.argv[1], sys.argv[2]
max_ts = int(sys.argv[3]) if len(sys.argv) > 3 else None
holes = set()
for line in open(holes_path):
    h = json.loads(line)
    holes.add((h["symbol"], h["from_ms"], h["to_ms"], h["reason"]))
gaps = set()
text = open(gaps_path).read()
for m in re.finditer(r"gap in (\S+) on connection \d+: no trades between (\d+) and (\d+) ms \((\w+);", text):
    gaps.add((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)))
if not gaps:
    for line in text.splitlines():
        if line.strip():
            g = json.loads(line)
            gaps.add((g["symbol"], int(g["from_ms"]), int(g["to_ms"]), g["reason"]))
optional = {h for h in holes if max_ts is not None and h[2] >= max_ts}
missing = holes - optional - gaps
extra = gaps - holes
assert holes and not missing and not extra, {"holes": len(holes), "missing": sorted(missing), "extra": sorted(extra)}
print(f"ok: {len(gaps)} gaps = the simulator's holes ({len(holes)}, {len(optional)} closed at the end)")
