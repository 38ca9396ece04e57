"""gap_topic_check.py SCHEMA KCAT_OUT GAPS_JSONL: the gap control records of
a topic, decoded with Python's avro package and the reference schema
(trades.avsc), the oracle of what third-party consumers see.

KCAT_OUT is `kcat -C -e -f '%p %o %T %K %S %h\\n%k%s\\n'` output. Every
record decodes with the schema; those of type "gap" hold no trades, carry
the tp-gap v1 headers and are keyed by their symbol, which sits on the same
partition as its trades, after the trades before the gap and before the
first trade after it. Their headers list exactly the gaps of GAPS_JSONL
(symbol, from_ms, to_ms, reason, connection: one per line)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avro_exact  # noqa: E402


def read(path):
    raw = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(raw):
        nl = raw.index(b"\n", pos)
        head = raw[pos:nl].split(b" ", 5)
        p, o, ts, kl, vl = (int(x) for x in head[:5])
        hdrs = {}
        if len(head) > 5 and head[5]:
            for kv in head[5].decode().split(","):
                k, _, v = kv.partition("=")
                hdrs[k] = v
        pos = nl + 1
        key, val = raw[pos:pos + kl], raw[pos + kl:pos + kl + vl]
        pos += kl + vl + 1
        out.append((p, o, key.decode(), val, hdrs))
    return out


schema = avro_exact.load_schema(sys.argv[1])
recs = sorted(read(sys.argv[2]), key=lambda r: (r[0], r[1]))
want = set()
for line in open(sys.argv[3]):
    if line.strip():
        g = json.loads(line)
        want.add((g["symbol"], int(g["from_ms"]), int(g["to_ms"]), g["reason"], int(g["connection"])))
got = set()
last = {}  # (partition, symbol) -> newest trade time so far
sym_part = {}
for p, o, key, val, h in recs:
    m = avro_exact.decode(schema, val)
    if m["type"] == "trade":
        for t in m["data"]:
            sym_part.setdefault(t["s"], set()).add(p)
            last[(p, t["s"])] = max(last.get((p, t["s"]), t["t"]), t["t"])
        continue
    assert m["type"] == "gap" and m["data"] == [], m
    if h.get("tp-gap") != "v1":
        continue  # a version this reader does not know (a test puts one there)
    assert h["tp-gap-symbol"] == key, (h, key)
    g = (key, int(h["tp-gap-from-ms"]), int(h["tp-gap-to-ms"]), h["tp-gap-reason"], int(h["tp-gap-connection"]))
    assert int(h["tp-gap-detected-at-ms"]) >= g[2], h
    # in order on the symbol's partition: its trades so far end at from_ms
    assert last.get((p, key)) == g[1], (g, last.get((p, key)))
    got.add(g)
for s, parts in sym_part.items():
    assert len(parts) == 1, (s, parts)
assert got == want and got, {"topic": sorted(got - want), "store": sorted(want - got)}
print(f"ok: {len(got)} gap records decode with trades.avsc and match the store")
