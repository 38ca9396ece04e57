"""e2e_check.py - oracles for the end-to-end tests (tests/lib/e2e.sh).

  e2e_check.py trades SCHEMA KCAT_OUT STORE_TSV
      KCAT_OUT is `kcat -C -e -f '%p %o %T %K %S\\n%k%s\\n'` output of the
      topic: every message is decoded with Python's avro package and the
      reference schema (independent of tickpipe). STORE_TSV is the store's
      trades as its own client printed them, one per line:
        uuid, symbol, price, volume, trade_timestamp (epoch ms), conditions
      price and volume either as decimal text that reads back to the same
      double, or as "MANTISSA*2^EXP" (SQLite's ieee754 functions), exact;
      conditions a JSON array or \\N for NULL.
      Checks: as many rows as trades in the topic, ids distinct, and the
      multisets of (symbol, price, volume, time, conditions) equal, bit for
      bit. Prints the number of trades per partition.

  e2e_check.py serve BASE_URL STORE_TSV
      /api/symbols and /api/trades?symbol=S&limit=N of `tickpipe serve`
      against the same rows: every symbol with its trade count and last
      time; every trade of every symbol with its id and exact values.
"""
import collections
import json
import math
import os
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avro_exact  # noqa: E402
from produce_check import read_kcat  # noqa: E402


def num(s):
    if "*2^" in s:
        m, e = s.split("*2^")
        return math.ldexp(float(int(m)), int(e))
    return float(s)


def cond(s):
    if s in ("\\N", ""):
        return None
    v = json.loads(s)
    assert isinstance(v, list), ("conditions not a JSON array", s)
    return tuple(v)


def read_store(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            uuid, sym, p, v, ts, c = line.split("\t")
            rows.append((uuid, sym, num(p), num(v), int(ts), cond(c)))
    return rows


def key(sym, p, v, ts, c):
    # bit patterns, so -0.0/0.0 and every last digit count
    return (sym, avro_exact.dbits(p), avro_exact.dbits(v), ts, c)


def cmd_trades(schema_path, kcat_path, store_path):
    schema = avro_exact.load_schema(schema_path)
    want = collections.Counter()
    per_part = collections.Counter()
    nmsgs = 0
    for p, o, ts, k, val in read_kcat(kcat_path):
        rec = avro_exact.decode(schema, val)
        nmsgs += 1
        for t in rec["data"]:
            c = None if t["c"] is None else tuple(t["c"])
            want[key(t["s"], t["p"], t["v"], t["t"], c)] += 1
            per_part[p] += 1
    rows = read_store(store_path)
    got = collections.Counter(key(*r[1:]) for r in rows)
    ids = set(r[0] for r in rows)
    n_want = sum(want.values())
    print("  topic: %d trades in %d messages; per partition %s" %
          (n_want, nmsgs, " ".join("%d:%d" % kv for kv in sorted(per_part.items()))))
    print("  store: %d rows, %d distinct ids" % (len(rows), len(ids)))
    bad = False
    if len(ids) != len(rows):
        print("FAIL: duplicate ids in the store", file=sys.stderr)
        bad = True
    missing, extra = want - got, got - want
    for what, diff in (("missing from the store", missing), ("in the store but not in the topic", extra)):
        if diff:
            bad = True
            print("FAIL: %d trades %s, e.g.:" % (sum(diff.values()), what), file=sys.stderr)
            for k, n in list(diff.items())[:5]:
                print("   %dx %r" % (n, k), file=sys.stderr)
    if len(rows) != n_want:
        print("FAIL: %d rows stored, %d trades produced" % (len(rows), n_want), file=sys.stderr)
        bad = True
    if n_want == 0:
        print("FAIL: the topic is empty: nothing was tested", file=sys.stderr)
        bad = True
    if len(per_part) < 2:
        print("FAIL: trades on %d partition(s): the group split nothing" % len(per_part), file=sys.stderr)
        bad = True
    return 1 if bad else 0


def get(base, path, **q):
    url = base + path + ("?" + urllib.parse.urlencode(q) if q else "")
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200, (url, r.status)
        return json.load(r)


def cmd_serve(base, store_path):
    rows = read_store(store_path)
    by_sym = collections.defaultdict(list)
    for r in rows:
        by_sym[r[1]].append(r)
    syms = get(base, "/api/symbols")["symbols"]
    got_syms = {s["symbol"]: s for s in syms}
    assert set(got_syms) == set(by_sym), ("symbols", sorted(got_syms), sorted(by_sym))
    for s, rs in by_sym.items():
        info = got_syms[s]
        assert info["trade_count"] == len(rs), (s, "trade_count", info["trade_count"], len(rs))
        last = max(r[4] for r in rs)
        assert info["last_ts"] == last, (s, "last_ts", info["last_ts"], last)
        assert info["last_price"] in [r[2] for r in rs if r[4] == last], (s, "last_price", info["last_price"])
        ans = get(base, "/api/trades", symbol=s, limit=len(rs))
        assert ans["count"] == len(rs), (s, "count", ans["count"], len(rs))
        want = sorted((r[0], key(*r[1:])) for r in rs)
        have = []
        for t in ans["trades"]:
            c = None if t["conditions"] is None else tuple(t["conditions"])
            have.append((t["id"], key(t["symbol"], float(t["price"]), float(t["volume"]), t["ts"], c)))
        have.sort()
        if have != want:
            diff = [(a, b) for a, b in zip(have, want) if a != b][:3]
            raise AssertionError(("trades of", s, "differ from the store", diff))
        tss = [t["ts"] for t in ans["trades"]]
        assert tss == sorted(tss), (s, "trades not oldest first")
    print("  serve: %d symbols, %d trades, each with its id and exact values" % (len(by_sym), len(rows)))
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "trades":
        return cmd_trades(*sys.argv[2:])
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        return cmd_serve(*sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
