#!/usr/bin/env python3
"""window_oracle.py - recompute every candle and 15-second average from a
store's trades table and compare with the rows tickpipe stored.

Independent of tickpipe's window code: brute-force grouping in Python.
  window_oracle.py sqlite DBFILE [--final-only] [--since MS]
  window_oracle.py pg URL [--final-only] [--since MS]   (reads through psql COPY)
  window_oracle.py ch TCP_PORT:USER:PASSWORD:DB [...]    (clickhouse-client, FINAL)
  window_oracle.py cass PORT/KEYSPACE [...]              (python3-cassandra)
  window_oracle.py KIND WHERE --state LATENESS_MS   prints the number of
                                         trades, the newest trade's time and the
                                         windows not final that ended LATENESS_MS
                                         + 1 s before it
  window_oracle.py KIND WHERE --ids      prints the number of trades and of
                                         distinct trade ids
  window_oracle.py KIND WHERE --oldest   prints the oldest trade, 1 s candle,
                                         1 min candle and average (epoch ms,
                                         x = none) and the number of trades
--since MS compares only windows starting at MS or later (retention has
deleted older trades; such a window holds only trades at MS or later).
--alive MS, for a store that expires rows by TTL while they are read, also
leaves out windows holding a trade older than MS when the read begins.

Rules (README, "tickpipe process"): 1 s and 1 min candles over every trade
(v = 0 included); open/close = price of the trade with the smallest/largest
(trade_timestamp, uuid); volume and VWAP over v > 0; averages over
[k*5 s, k*5 s + 15 s) of price*volume for v > 0, trade_count = those trades.
Every stored row must equal the recomputation; with --final-only only rows
marked final are compared (a writer killed with open windows leaves them
stale until the next start rebuilds them). Every window holding a trade
must have a row unless --final-only. Prints a summary; exits 1 on a
mismatch, naming the first ones."""
import csv
import io
import subprocess
import sys
import time
from collections import defaultdict


def rows_sqlite(path):
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    trades = db.execute("SELECT symbol, trade_timestamp, uuid, price, volume FROM trades").fetchall()
    candles = db.execute(
        "SELECT symbol, interval_s, start_ms, open, high, low, close, volume, vwap, trade_count, final FROM candles"
    ).fetchall()
    avgs = db.execute(
        "SELECT symbol, window_start, window_end, price_volume_multiply, trade_count, final FROM running_averages_15_sec"
    ).fetchall()
    return trades, candles, avgs


def psql_copy(url, sql):
    out = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", f"COPY ({sql}) TO STDOUT WITH CSV"],
        check=True, capture_output=True, text=True).stdout
    return list(csv.reader(io.StringIO(out)))


def ms(col):
    return f"(extract(epoch from {col}) * 1000)::int8"


def rows_pg(url):
    f = lambda v: None if v == "" else float(v)
    trades = [(r[0], int(r[1]), r[2], float(r[3]), float(r[4])) for r in psql_copy(
        url, f"SELECT symbol, {ms('trade_timestamp')}, uuid::text, price, volume FROM trades")]
    candles = [(r[0], int(r[1]), int(r[2]), float(r[3]), float(r[4]), float(r[5]), float(r[6]), float(r[7]),
                f(r[8]), int(r[9]), r[10] == "t") for r in psql_copy(
        url, f"SELECT symbol, interval_s, {ms('start_time')}, open, high, low, close, volume, vwap, trade_count,"
             " final FROM candles")]
    avgs = [(r[0], int(r[1]), int(r[2]), float(r[3]), int(r[4]), r[5] == "t") for r in psql_copy(
        url, f"SELECT symbol, {ms('window_start')}, {ms('window_end')}, price_volume_multiply, trade_count, final"
             " FROM running_averages_15_sec")]
    return trades, candles, avgs


def rows_ch(where):
    port, user, password, db = where.split(":", 3)

    def q(sql):
        out = subprocess.run(["clickhouse-client", "--host", "127.0.0.1", "--port", port, "--user", user,
                              "--password", password, "--database", db, "-q", sql + " FORMAT TabSeparated"],
                             check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines()]

    f = lambda v: None if v == "\\N" else float(v)
    trades = [(r[0], int(r[1]), r[2], float(r[3]), float(r[4])) for r in q(
        "SELECT symbol, trade_timestamp, uuid, price, volume FROM trades FINAL")]
    candles = [(r[0], int(r[1]), int(r[2]), float(r[3]), float(r[4]), float(r[5]), float(r[6]), float(r[7]),
                f(r[8]), int(r[9]), r[10] == "1") for r in q(
        "SELECT symbol, interval_s, start_ms, open, high, low, close, volume, vwap, trade_count, final"
        " FROM candles FINAL")]
    avgs = [(r[0], int(r[1]), int(r[2]), float(r[3]), int(r[4]), r[5] == "1") for r in q(
        "SELECT symbol, window_start, window_end, price_volume_multiply, trade_count, final"
        " FROM running_averages_15_sec FINAL")]
    return trades, candles, avgs


def rows_cass(where):
    import struct
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster
    from cassandra.query import SimpleStatement

    port, ks = where.split("/", 1)
    c = Cluster(["127.0.0.1"], port=int(port), protocol_version=4,
                auth_provider=PlainTextAuthProvider("cassandra", "cassandra"))
    s = c.connect(ks)
    ms_ = lambda b: struct.unpack(">q", b)[0]
    scan = lambda cql: list(s.execute(SimpleStatement(cql, fetch_size=5000), timeout=120))
    trades = [(r[0], ms_(r[1]), str(r[2]), r[3], r[4]) for r in scan(
        "SELECT symbol, timestampAsBlob(trade_timestamp), uuid, price, volume FROM trades")]
    candles = [(r[0], r[1], ms_(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10])) for r in scan(
        "SELECT symbol, interval_s, timestampAsBlob(start_time), open, high, low, close, volume, vwap,"
        " trade_count, final FROM candles")]
    avgs = [(r[0], ms_(r[1]), ms_(r[2]), r[3], r[4], bool(r[5])) for r in scan(
        "SELECT symbol, timestampAsBlob(window_start), timestampAsBlob(window_end), price_volume_multiply,"
        " trade_count, final FROM running_averages_15_sec")]
    c.shutdown()
    return trades, candles, avgs


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def main():
    kind, where = sys.argv[1], sys.argv[2]
    final_only = "--final-only" in sys.argv[3:]
    since = int(sys.argv[sys.argv.index("--since") + 1]) if "--since" in sys.argv else None
    if "--alive" in sys.argv:
        # rows expire on the store's clock while they are read (a TTL): only
        # windows whose every trade is younger than ALIVE ms when the read
        # begins can be compared with the trades read
        alive = int(sys.argv[sys.argv.index("--alive") + 1])
        first = (int(time.time() * 1000) - alive + 500 + 4999) // 5000 * 5000
        since = first if since is None else max(since, first)
    trades, candles, avgs = {"sqlite": rows_sqlite, "pg": rows_pg, "ch": rows_ch, "cass": rows_cass}[kind](where)
    if "--ids" in sys.argv[3:]:  # trades and distinct trade ids
        print(len(trades), len({t[2] for t in trades}))
        return
    if "--state" in sys.argv[3:]:  # trades, newest trade, non-final windows ended LATENESS_MS + 1 s before it
        late = int(sys.argv[sys.argv.index("--state") + 1])
        newest = max((t[1] for t in trades), default=0)
        cut = newest - late - 1000
        old = sum(1 for c in candles if not c[10] and c[2] + c[1] * 1000 <= cut) + \
            sum(1 for a in avgs if not a[5] and a[2] <= cut)
        print(len(trades), newest, old)
        return
    if "--oldest" in sys.argv[3:]:
        old = lambda xs: str(min(xs)) if xs else "x"
        print(old([t[1] for t in trades]), old([c[2] for c in candles if c[1] == 1]),
              old([c[2] for c in candles if c[1] == 60]), old([a[1] for a in avgs]), len(trades))
        return
    if since is not None:
        trades = [t for t in trades if t[1] >= since]
        candles = [c for c in candles if c[2] >= since]
        avgs = [a for a in avgs if a[1] >= since]
    # expected candles
    exp_c = {}
    groups = defaultdict(list)
    for sym, ts, uid, p, v in trades:
        for iv in (1, 60):
            groups[(sym, iv, ts // (iv * 1000) * iv * 1000)].append((ts, uid, p, v))
    for key, ts_list in groups.items():
        if since is not None and key[2] < since:
            continue
        ts_list.sort()
        pv = sum(p * v for _, _, p, v in ts_list if v > 0)
        vol = sum(v for _, _, _, v in ts_list if v > 0)
        exp_c[key] = (ts_list[0][2], max(t[2] for t in ts_list), min(t[2] for t in ts_list), ts_list[-1][2], vol,
                      pv / vol if vol > 0 else None, len(ts_list))
    exp_a = {}
    agroups = defaultdict(list)
    for sym, ts, uid, p, v in trades:
        if not v > 0:
            continue
        k = ts // 5000 * 5000
        for start in (k, k - 5000, k - 10000):
            agroups[(sym, start)].append(p * v)
    for key, pvs in agroups.items():
        if since is not None and key[1] < since:
            continue
        exp_a[key] = (sum(pvs) / len(pvs), len(pvs))

    bad = []
    seen_c = set()
    nfinal = 0
    for sym, iv, start, o, h, l, c, vol, vwap, n, final in candles:
        seen_c.add((sym, iv, start))
        nfinal += bool(final)
        if final_only and not final:
            continue
        e = exp_c.get((sym, iv, start))
        got = (o, h, l, c, vol, vwap, n)
        if e is None or not all(close(x, y) for x, y in zip(got[:6], e[:6])) or got[6] != e[6]:
            bad.append(f"candle {sym} {iv}s {start} final={final}: stored {got}, trades give {e}")
    seen_a = set()
    for sym, start, end, pv, n, final in avgs:
        seen_a.add((sym, start))
        nfinal += bool(final)
        if final_only and not final:
            continue
        e = exp_a.get((sym, start))
        if end != start + 15000 or e is None or not close(pv, e[0]) or n != e[1]:
            bad.append(f"average {sym} {start} final={final}: stored ({pv}, {n}), trades give {e}")
    if not final_only:
        for key in sorted(set(exp_c) - seen_c)[:5]:
            bad.append(f"candle {key} has trades but no row")
        for key in sorted(set(exp_a) - seen_a)[:5]:
            bad.append(f"average {key} has trades but no row")
    print(f"oracle: {len(trades)} trades, {len(candles)} candles, {len(avgs)} averages ({nfinal} final) "
          f"checked{' (final rows only)' if final_only else ''}: {len(bad)} mismatches")
    for b in bad[:10]:
        print("  " + b)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
