"""process_topic_oracle.py - what a topic holds, decoded with Python's avro
package and the reference schema (independent of tickpipe's decoder), as
the oracle of the process tests; and a check of the trades a SQLite store
holds against it, conditions included.

Usage:
  process_topic_oracle.py SCHEMA KCAT_OUT ORACLE_CSV
      KCAT_OUT is `kcat -C -e -f '%p %o %T %K %S\\n%k%s\\n'` output. Writes
      symbol,price,volume,ts per trade (repr floats: exact doubles), each
      partition in offset order (so each symbol in the order it was folded).
  process_topic_oracle.py SCHEMA KCAT_OUT --check DB
      Compares the multiset (symbol, price, volume, ts, conditions) of the
      topic with the store's trades table (trade_conditions parsed as JSON:
      NULL, [] and a list with null items stay distinct)."""
import collections
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avro_exact  # noqa: E402
from produce_check import read_kcat  # noqa: E402


def trades(schema, path):
    for p, o, ts, key, val in sorted(read_kcat(path), key=lambda m: (m[0], m[1])):
        rec = avro_exact.decode(schema, val)
        for t in rec["data"]:
            yield t


def main():
    schema = avro_exact.load_schema(sys.argv[1])
    if sys.argv[3] == "--check":
        want = collections.Counter(
            (t["s"], t["p"], t["v"], t["t"], json.dumps(t["c"])) for t in trades(schema, sys.argv[2]))
        db = sqlite3.connect(sys.argv[4])
        got = collections.Counter(
            (s, p, v, ts, json.dumps(None if c is None else json.loads(c)))
            for s, p, v, ts, c in db.execute(
                "SELECT symbol, price, volume, trade_timestamp, trade_conditions FROM trades"))
        missing, extra = want - got, got - want
        print("topic %d trades, store %d; missing %d, extra %d" % (sum(want.values()), sum(got.values()),
                                                                 sum(missing.values()), sum(extra.values())))
        for x in list(missing)[:3]:
            print("  missing", x)
        for x in list(extra)[:3]:
            print("  extra", x)
        sys.exit(1 if missing or extra else 0)
    with open(sys.argv[3], "w") as f:
        for t in trades(schema, sys.argv[2]):
            f.write("%s,%r,%r,%d\n" % (t["s"], t["p"], t["v"], t["t"]))


main()
