"""e2e_recording.py - write a recording (feed/record.h format) of trade
frames whose event time advances steadily, for end-to-end tests that need
windows to close (and so process's committed offsets to move) in seconds
of wall time.

Usage: e2e_recording.py OUT START_MS TRADES STEP_MS SEED SYMBOLS [ORACLE_CSV]
Frames of 1 to 5 trades of one or more of SYMBOLS (comma separated), event
time START_MS + i * STEP_MS for the i-th trade; every shape of the
conditions (missing, null, [], a list with a null) and v = 0 updates.
ORACLE_CSV, if given, gets every trade in order as symbol,price,volume,ts_ms
(%.17g: exact doubles), the format tests/lib/process.sh's check_store reads."""
import json
import random
import sys


def main():
    out, start, n, step, seed, syms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5]), sys.argv[6].split(",")
    oracle = open(sys.argv[7], "w") if len(sys.argv) > 7 else None
    rnd = random.Random(seed)
    price = {s: 50 + 400 * rnd.random() for s in syms}
    conds = [None, "missing", [], ["1"], ["1", "12"], ["T", None]]
    i = 0
    with open(out, "wb") as f:
        f.write(b"TPREC1\n")
        while i < n:
            data = []
            for _ in range(min(rnd.randint(1, 5), n - i)):
                s = rnd.choice(syms)
                price[s] *= 1 + rnd.uniform(-0.001, 0.001)
                t = {"p": price[s], "s": s, "t": start + i * step,
                     "v": 0.0 if rnd.random() < 0.1 else round(rnd.uniform(0.001, 500), rnd.randint(0, 6))}
                c = rnd.choice(conds)
                if c != "missing":
                    t["c"] = c
                data.append(t)
                if oracle:
                    oracle.write("%s,%.17g,%.17g,%d\n" % (s, t["p"], t["v"], t["t"]))
                i += 1
            body = json.dumps({"data": data, "type": "trade"}).encode()
            f.write(b"%d %d\n" % (start + i * step, len(body)) + body + b"\n")
    if oracle:
        oracle.close()


if __name__ == "__main__":
    main()
