"""venue_holes.py HOLES IDS: the trade ids a client holds (IDS: a recording of
raw frames of Binance, Coinbase or Kraken, capture --record, lines
"SYMBOL ID" as a store gives them, or
lines "SYMBOL UUID" of stored rows, each uuid then the stored id of one
venue trade id, venue_ids.py, found by trying the ids the simulator sent) are
exactly those the simulator sent (simulate --feed binance, coinbase or
kraken; Coinbase's last_match and Kraken's snapshot re-send trades already
sent, so they add no id): per symbol
every id from 1 to the newest, less the holes the simulator logged
(HOLES: simulate --holes-log, from_id..to_id each), each id once (a
recording may hold repeats: they count once). Prints "SYMBOL COUNT MAX" per
symbol; asserts every hole is a real one (from_id <= to_id) and that there
was at least one (with --no-holes: that there was none, each id from 1 on
held once)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from venue_ids import venue_id  # noqa: E402

args = [a for a in sys.argv[1:] if a != "--no-holes"]
no_holes = len(args) < len(sys.argv) - 1  # --no-holes: none may be logged, each id from 1 on held once
holes_path, ids_path = args[0], args[1]
holes = {}
for line in open(holes_path):
    h = json.loads(line)
    assert h["from_id"] <= h["to_id"], ("an empty hole", h)
    holes.setdefault(h["symbol"], []).append((h["from_id"], h["to_id"]))
if no_holes:
    assert not holes, ("holes logged", holes)
else:
    assert holes, "no hole logged"

ids, dups = {}, 0
raw = open(ids_path, "rb").read()
if raw.startswith(b"TPREC1\n"):
    pos = 7
    while pos < len(raw):
        nl = raw.index(b"\n", pos)
        _, n = raw[pos:nl].split()
        frame = raw[nl + 1:nl + 1 + int(n)]
        pos = nl + 1 + int(n) + 1
        m = json.loads(frame)
        if not isinstance(m, dict):
            continue
        if m.get("e") == "trade":  # Binance
            ids.setdefault("BINANCE:" + m["s"], set()).add(m["t"])
        elif m.get("type") in ("match", "last_match"):  # Coinbase
            ids.setdefault("COINBASE:" + m["product_id"], set()).add(m["trade_id"])
        elif m.get("channel") == "trade":  # Kraken: snapshot or update
            for t in m["data"]:
                ids.setdefault("KRAKEN:" + t["symbol"], set()).add(t["trade_id"])
else:
    lines = [line.split() for line in raw.decode().split("\n") if line.strip()]
    if lines and "-" in lines[0][1]:
        # stored uuids: each must be the venue id of one trade id the
        # simulator sent; the ids are found by walking 1.. past the holes
        uuids = {}
        for sym, u in lines:
            s = uuids.setdefault(sym, set())
            dups += u in s
            s.add(u)
        for sym, us in uuids.items():
            hs = holes.get(sym, [])
            got, i = set(), 0
            while len(got) < len(us) and i < 10 * len(us) + 1000:
                i += 1
                if any(a <= i <= b for a, b in hs):
                    continue
                u = venue_id(sym, i)
                assert u in us, (sym, "trade id", i, "was sent but its uuid is not stored", u)
                got.add(i)
            ids[sym] = got
    else:
        for sym, i in lines:
            s = ids.setdefault(sym, set())
            dups += int(i) in s
            s.add(int(i))
assert dups == 0, ("ids stored more than once", dups)
assert ids, "no trades"
for sym, got in sorted(ids.items()):
    top = max(got)
    want = set(range(1, top + 1))
    for a, b in holes.get(sym, []):
        if a <= top:
            want -= set(range(a, b + 1))
    assert got == want, (sym, "missing", sorted(want - got)[:20], "unexpected", sorted(got - want)[:20])
    print(sym, len(got), top)
