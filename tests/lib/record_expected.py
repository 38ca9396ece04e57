"""record_expected.py - the trades of a recording (feed/record.h format) in
the exact form produce_check.py compares against.

Usage: record_expected.py RECORDING OUT_JSON
Writes {"trades": [...], "messages": N, "recv_ms": [...]}: every trade of
every "trade" frame in order, N = one message per symbol per frame, and the
recorded receive time of each trade's frame (the Kafka timestamp expected). Parsed with Python's
json module, independent of tickpipe's parser."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avro_exact  # noqa: E402


def frames(path):
    with open(path, "rb") as f:
        assert f.readline() == b"TPREC1\n", "not a recording"
        while True:
            hdr = f.readline()
            if not hdr:
                return
            recv_ms, n = hdr.split()
            body = f.read(int(n))
            assert f.read(1) == b"\n", "recording out of step"
            yield int(recv_ms), body


def main():
    trades, recv, nmsgs = [], [], 0
    for recv_ms, body in frames(sys.argv[1]):
        try:
            m = json.loads(body)
        except ValueError:
            continue
        if not isinstance(m, dict) or m.get("type") != "trade" or not m.get("data"):
            continue
        syms = set()
        for t in m["data"]:
            c = t.get("c")
            syms.add(t["s"])
            recv.append(recv_ms)
            trades.append({"s": avro_exact.hexs(t["s"]), "p": avro_exact.dbits(float(t["p"])), "t": int(t["t"]),
                           "v": avro_exact.dbits(float(t["v"])),
                           "c": None if c is None else [None if x is None else avro_exact.hexs(x) for x in c]})
        nmsgs += len(syms)
    with open(sys.argv[2], "w") as f:
        json.dump({"trades": trades, "messages": nmsgs, "recv_ms": recv}, f)
    print(len(trades))


main()
