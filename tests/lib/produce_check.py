"""produce_check.py - check what `tickpipe produce` left in a topic.

Usage: produce_check.py SCHEMA KCAT_OUT EXPECTED_JSON [FROM_MS TO_MS]

KCAT_OUT is `kcat -C -e -f '%p %o %T %K %S\\n%k%s\\n'` output: per message a
header line (partition, offset, timestamp, key length, value length), then
the key and value bytes. EXPECTED_JSON lists every trade the feed sent, in
feed order, exact (avro_exact.py). Checks, with the reference schema:
every message decodes, its type is "trade" and all its trades belong to its
key; every trade arrives exactly once with exact values; each symbol's
messages sit on one partition and, read by offset, give that symbol's
trades in feed order; where EXPECTED_JSON has recv_ms, each message's
timestamp is the receive time of the frame its trades came from, unless
FROM_MS TO_MS are given (a replay: produce stamps replayed frames with the
time it sends them): then every timestamp lies in [FROM_MS, TO_MS] and the
timestamps of a symbol's messages never go backwards."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import avro_exact  # noqa: E402


def read_kcat(path):
    raw = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(raw):
        nl = raw.index(b"\n", pos)
        p, o, ts, kl, vl = (int(x) for x in raw[pos:nl].split())
        pos = nl + 1
        key = raw[pos:pos + kl]
        val = raw[pos + kl:pos + kl + vl]
        pos += kl + vl
        assert raw[pos:pos + 1] == b"\n", "kcat output out of step at byte %d" % pos
        pos += 1
        out.append((p, o, ts, key, val))
    return out


def main():
    schema = avro_exact.load_schema(sys.argv[1])
    msgs = read_kcat(sys.argv[2])
    expected = json.load(open(sys.argv[3]))
    want = expected["trades"]
    assert len(msgs) == expected["messages"], ("messages", len(msgs), "want one per symbol per frame",
                                               expected["messages"])
    recv = expected.get("recv_ms")  # per trade: the Kafka timestamp its message must carry
    window = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else None
    if window:
        recv = None
    by_sym_want, by_sym_recv = {}, {}
    for i, t in enumerate(want):
        by_sym_want.setdefault(t["s"], []).append(t)
        if recv:
            by_sym_recv.setdefault(t["s"], []).append(recv[i])
    got_by_sym, got_ts, parts = {}, {}, {}
    ntrades = 0
    for p, o, ts, key, val in sorted(msgs, key=lambda m: (m[0], m[1])):
        rec = avro_exact.decode(schema, val)
        assert rec["type"] == "trade", (p, o, rec["type"])
        assert rec["data"], (p, o, "empty message")
        assert ts > 1600000000000, (p, o, "timestamp", ts)
        if window:
            assert window[0] <= ts <= window[1], (p, o, "timestamp", ts, "outside the replay", window)
        ex = avro_exact.exact(rec)
        k = key.hex()
        for t in ex["data"]:
            assert t["s"] == k, (p, o, "trade of", t["s"], "under key", k)
        parts.setdefault(k, set()).add(p)
        got_by_sym.setdefault(k, []).extend(ex["data"])
        got_ts.setdefault(k, []).extend([ts] * len(ex["data"]))
        ntrades += len(ex["data"])
    for k, ps in parts.items():
        assert len(ps) == 1, ("symbol on several partitions", bytes.fromhex(k), ps)
    assert set(got_by_sym) == set(by_sym_want), (sorted(got_by_sym), sorted(by_sym_want))
    for k in by_sym_want:
        g, w = got_by_sym[k], by_sym_want[k]
        assert len(g) == len(w), ("trade count for", bytes.fromhex(k).decode(), len(g), len(w))
        for i, (a, b) in enumerate(zip(g, w)):
            assert a == b, ("trade", i, "of", bytes.fromhex(k).decode(), a, b)
        if window:
            assert got_ts[k] == sorted(got_ts[k]), ("timestamps go backwards for", bytes.fromhex(k).decode())
        if recv:
            assert got_ts[k] == by_sym_recv[k], ("message timestamps != frame receive times for",
                                                 bytes.fromhex(k).decode())
    print("ok - %d trades in %d messages, %d symbols, exact and in order per symbol%s" %
          (ntrades, len(msgs), len(by_sym_want), ", timestamps = frame receive times" if recv else
           ", timestamps within the replay" if window else ""))


if __name__ == "__main__":
    main()
