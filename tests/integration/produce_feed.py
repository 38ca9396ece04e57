#!/usr/bin/python3
"""produce_feed.py - a scripted Finnhub-like WebSocket feed (RFC 6455,
standard library only) for the produce tests, with an exact oracle.

Usage: produce_feed.py NSUBS NFRAMES SEED EXPECTED_JSON [PAUSE_AFTER MARKER GO]

Generates NFRAMES trade messages from SEED: 1..9 trades each over symbols
that include unicode ones, prices in plain and exponent form, v = 0 price
updates, and c missing, null, [], strings and null items. Writes every
trade, in feed order and in the exact form of tests/lib/avro_exact.py, to
EXPECTED_JSON ({"trades": [...], "messages": one per symbol per frame});
prints the port; after the client's NSUBS subscriptions
sends the frames (pings in between). With PAUSE_AFTER, after that many
frames it creates MARKER and waits for GO to exist before sending the rest.
Then it waits for the client to close."""
import base64
import hashlib
import json
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import avro_exact  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SYMBOLS = ["AAPL", "MSFT", "BINANCE:BTCUSDT", "OANDA:EUR_USD", "\u00dcBER", "\u682a:7203"]


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        hdr = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        hdr = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return hdr + payload


def read_frame(c):
    def need(n):
        b = b""
        while len(b) < n:
            d = c.recv(n - len(b))
            if not d:
                raise EOFError
            b += d
        return b
    b0, b1 = need(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", need(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", need(8))[0]
    mask = need(4) if b1 & 0x80 else b"\0\0\0\0"
    return b0 & 0x0F, bytes(x ^ mask[i % 4] for i, x in enumerate(need(n)))


def gen(nframes, seed):
    rnd = random.Random(seed)
    frames, want, nmsgs = [], [], 0
    # trade times from two minutes ago on (a few ms apart): the door
    # (--max-trade-age, --max-trade-ahead) takes them as live trades
    t = int(time.time() * 1000) - 120000
    for _ in range(nframes):
        items, syms = [], set()
        for _ in range(rnd.randint(1, 9)):
            sym = rnd.choice(SYMBOLS)
            syms.add(sym)
            mant = rnd.randint(1, 10**7)
            exp = rnd.randint(-6, 3)
            ptxt = rnd.choice(["%de%d" % (mant, exp), "%dE%+d" % (mant, exp), repr(mant * 10.0**exp)])
            vtxt = rnd.choice(["0", "0.0", "%d" % rnd.randint(1, 500), "%.3e" % rnd.uniform(0, 5)])
            t += rnd.randint(0, 3)
            shape = rnd.randint(0, 4)
            c = {0: "missing", 1: None, 2: [], 3: [str(rnd.randint(1, 40)), "12"], 4: [None, "x"]}[shape]
            parts = ['"s":' + json.dumps(sym, ensure_ascii=False), '"p":' + ptxt, '"t":%d' % t, '"v":' + vtxt]
            if c != "missing":
                parts.append('"c":' + json.dumps(c))
            rnd.shuffle(parts)
            items.append("{" + ",".join(parts) + "}")
            want.append({"s": avro_exact.hexs(sym), "p": avro_exact.dbits(float(ptxt)), "t": t,
                         "v": avro_exact.dbits(float(vtxt)),
                         "c": None if c in ("missing", None) else [None if x is None else avro_exact.hexs(x) for x in c]})
        frames.append(('{"data":[' + ",".join(items) + '],"type":"trade"}').encode("utf-8"))
        nmsgs += len(syms)
    return frames, {"trades": want, "messages": nmsgs}


def main():
    nsubs, nframes, seed, expected = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    pause_after = int(sys.argv[5]) if len(sys.argv) > 5 else -1
    marker = sys.argv[6] if len(sys.argv) > 6 else None
    go = sys.argv[7] if len(sys.argv) > 7 else None
    frames, want = gen(nframes, seed)
    with open(expected + ".tmp", "w") as f:
        json.dump(want, f)
    os.rename(expected + ".tmp", expected)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print(srv.getsockname()[1], flush=True)
    c, _ = srv.accept()
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d:
            return
        req += d
    key = [l.split(b":", 1)[1].strip() for l in req.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")][0]
    acc = base64.b64encode(hashlib.sha1(key + GUID).digest())
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + acc + b"\r\n\r\n")
    for _ in range(nsubs):
        read_frame(c)
    for i, fr in enumerate(frames):
        if i == pause_after:
            open(marker, "w").close()
            while not os.path.exists(go):
                c.sendall(frame(1, b'{"type":"ping"}'))
                time.sleep(0.1)
        if i % 100 == 50:
            c.sendall(frame(1, b'{"type":"ping"}'))
        c.sendall(frame(1, fr))
    try:
        while True:
            op, _ = read_frame(c)
            if op == 8:
                break
    except (EOFError, ConnectionError):
        pass
    c.close()


main()
