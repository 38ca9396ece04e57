#!/usr/bin/env python3
"""cassandra_oracle.py - the store's rows read back by Debian's Python driver
(python3-cassandra), independent of tickpipe, for the Cassandra tests.

  cassandra_oracle.py PORT KEYSPACE count        trades stored
  cassandra_oracle.py PORT KEYSPACE dump FILE    trades as TSV for e2e_check.py:
                                                 uuid, symbol, price, volume, epoch ms,
                                                 conditions JSON or \\N (doubles as repr:
                                                 the shortest text that reads back exact)
  cassandra_oracle.py PORT KEYSPACE candles      "BUCKETS CANDLES MISMATCHES": the (symbol,
                                                 1 s / 1 min) buckets of the stored trades,
                                                 the candle rows, and the buckets whose
                                                 candle's count, volume, high or low differ
Full table scans (paged by the driver): the tests' tables are small.
Times are read as their exact epoch milliseconds (timestampAsBlob)."""
import collections
import struct
import sys

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
from cassandra.query import SimpleStatement


def ms(blob):
    return struct.unpack(">q", blob)[0]


def main():
    port, ks, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = Cluster(["127.0.0.1"], port=port, protocol_version=4,
                auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
    s = c.connect()
    have = s.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (ks,))
    if "trades" not in {r.table_name for r in have}:
        print(0 if cmd == "count" else "0 0 0")
        return
    s.set_keyspace(ks)

    def scan(cql):
        return s.execute(SimpleStatement(cql, fetch_size=5000), timeout=120)

    if cmd == "count":  # counted by the server: the tests poll this
        print(s.execute("SELECT count(*) FROM trades", timeout=120).one()[0])
        c.shutdown()
        return
    trades = scan("SELECT uuid, symbol, price, volume, timestampAsBlob(trade_timestamp) AS ts, "
                  "trade_conditions FROM trades")
    if cmd == "dump":
        with open(sys.argv[4], "w", encoding="utf-8") as f:
            for r in trades:
                cond = "\\N" if r.trade_conditions is None else r.trade_conditions
                f.write(f"{r.uuid}\t{r.symbol}\t{r.price!r}\t{r.volume!r}\t{ms(r.ts)}\t{cond}\n")
    elif cmd == "candles":
        b = collections.defaultdict(lambda: [0, 0.0, None, None])
        for r in trades:
            t = ms(r.ts)
            for iv in (1, 60):
                k = (r.symbol, iv, t // (iv * 1000) * iv * 1000)
                x = b[k]
                x[0] += 1
                x[1] += r.volume
                x[2] = r.price if x[2] is None else max(x[2], r.price)
                x[3] = r.price if x[3] is None else min(x[3], r.price)
        rows = {}
        for r in scan("SELECT symbol, interval_s, timestampAsBlob(start_time) AS st, trade_count, volume, "
                      "high, low FROM candles"):
            rows[(r.symbol, r.interval_s, ms(r.st))] = r
        bad = 0
        for k, (n, v, hi, lo) in b.items():
            r = rows.get(k)
            if r is None or r.trade_count != n or r.high != hi or r.low != lo or \
                    abs(r.volume - v) > 1e-9 * max(1.0, v):
                bad += 1
        print(len(b), len(rows), bad)
    else:
        sys.exit(f"unknown command {cmd}")
    c.shutdown()


if __name__ == "__main__":
    main()
