"""hostile_feed.py - a recording (feed/record.h format) of trade frames in
which hostile trades are mixed with good ones, for the door's tests
(core/trade_check.h): an empty symbol, control characters, a leading space, a
10,000-byte symbol, an unsubscribed symbol, zero, negative and infinite
prices, negative and infinite volumes, times 0, -1000, two days back, ten
minutes and ten years ahead.

Usage: hostile_feed.py OUT NOW_MS GOOD SEED SYMBOLS ORACLE_CSV EXPECT_JSON [--no-unsubscribed]
Good trades: GOOD trades of SYMBOLS (comma separated), event times
NOW_MS - 20 s + i * 20 s / GOOD, every frame received at NOW_MS. The last
frame holds good trades only, so a reader that stops after GOOD good
trades has seen every hostile one. ORACLE_CSV gets the good trades as
symbol,price,volume,ts_ms (%.17g: exact doubles, tests/lib/process.sh's
check_store format); EXPECT_JSON the hostile trades by reason."""
import json
import random
import sys


def hostile(now, unsubscribed):
    """(reason, trade) pairs; each is a JSON object as a feed would send it."""
    good = {"p": 101.5, "s": "AAPL", "t": now - 1000, "v": 3}
    out = []

    def bad(reason, **kw):
        t = dict(good)
        t.update(kw)
        out.append((reason, t))

    bad("symbol_empty", s="")
    bad("symbol_characters", s="AA\nPL")
    bad("symbol_characters", s="AAPL\r")
    bad("symbol_characters", s=" AAPL")
    bad("symbol_characters", s="\u001b[31mAAPL")
    bad("symbol_too_long", s="A" * 10000)
    bad("symbol_too_long", s="B" * 65)
    if unsubscribed:
        bad("unsubscribed", s="ZZZZ")
        bad("unsubscribed", s="aapl")
    bad("price", p=0)
    bad("price", p=-12.5)
    bad("volume", v=-5)
    bad("time_past", t=0)
    bad("time_past", t=-1000)
    bad("time_past", t=now - 2 * 86400000)
    bad("time_future", t=now + 600000)
    bad("time_future", t=now + 10 * 365 * 86400000)
    return out


def dump(t):
    """JSON text of one trade; "inf" stands for a number too large for a double."""
    parts = []
    for k in ("c", "p", "s", "t", "v"):
        if k not in t:
            continue
        v = t[k]
        parts.append('"%s":%s' % (k, "1e400" if v == "inf" else json.dumps(v)))
    return "{" + ",".join(parts) + "}"


def main():
    out, now, n, seed, syms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
        sys.argv[5].split(",")
    oracle, expect = open(sys.argv[6], "w"), sys.argv[7]
    rnd = random.Random(seed)
    bad = hostile(now, "--no-unsubscribed" not in sys.argv)
    rnd.shuffle(bad)
    price = {s: 50 + 400 * rnd.random() for s in syms}
    frames, i, slots = [], 0, []
    while i < n:
        data = []
        for _ in range(min(rnd.randint(1, 5), n - i)):
            s = rnd.choice(syms)
            price[s] *= 1 + rnd.uniform(-0.001, 0.001)
            t = {"p": price[s], "s": s, "t": now - 20000 + i * 20000 // n,
                 "v": 0.0 if rnd.random() < 0.1 else round(rnd.uniform(0.001, 500), rnd.randint(0, 6))}
            if rnd.random() < 0.5:
                t["c"] = ["1", "12"]
            data.append(dump(t))
            oracle.write("%s,%.17g,%.17g,%d\n" % (s, t["p"], t["v"], t["t"]))
            i += 1
        frames.append(data)
    # every hostile trade goes into one of the frames before the last
    for reason, t in bad:
        f = frames[rnd.randrange(max(1, len(frames) - 1))]
        f.insert(rnd.randrange(len(f) + 1), dump(t))
    # what JSON cannot carry as a value (a number beyond a double, U+0000 in
    # a string) makes its frame malformed as a whole: frames of their own
    unreadable = [{"p": "inf", "s": "AAPL", "t": now - 1000, "v": 3}, {"p": 1.5, "s": "AAPL", "t": now - 1000, "v": "inf"}]
    for t in unreadable:
        frames.insert(rnd.randrange(max(1, len(frames) - 1)), [dump(t)])
    frames.insert(rnd.randrange(max(1, len(frames) - 1)), ['{"p":1.5,"s":"AAPL\\u0000","t":%d,"v":3}' % (now - 1000)])
    with open(out, "wb") as f:
        f.write(b"TPREC1\n")
        for data in frames:
            body = ('{"data":[' + ",".join(data) + '],"type":"trade"}').encode()
            f.write(b"%d %d\n" % (now, len(body)) + body + b"\n")
    counts = {}
    for reason, _ in bad:
        counts[reason] = counts.get(reason, 0) + 1
    json.dump({"good": n, "rejected": counts, "total_rejected": len(bad), "malformed": len(unreadable) + 1},
              open(expect, "w"))


if __name__ == "__main__":
    main()
