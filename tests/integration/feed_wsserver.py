#!/usr/bin/python3
"""feed_wsserver.py - a minimal WebSocket server (RFC 6455, standard library
only) that sends what `tickpipe simulate` never does: messages split over
continuation frames with a control ping in between, a message over the
client's size limit, and frames cut into tiny TCP writes. Used by
feed_fragments.sh. Prints the port on stdout once listening, and every
subscription it receives to the file given as argv[2]."""
import base64
import hashlib
import json
import socket
import struct
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode, payload, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        hdr = struct.pack("!BB", b0, n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, 127, n)
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
    data = bytes(x ^ mask[i % 4] for i, x in enumerate(need(n)))
    return b0 & 0x0F, data


def trade(sym, p, t, v):
    return {"s": sym, "p": p, "t": t, "v": v, "c": ["1"]}


def main():
    nsubs = int(sys.argv[1])
    subs_file = sys.argv[2]
    big = int(sys.argv[3])  # size of the oversize message
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
    with open(subs_file, "w") as f:
        for _ in range(nsubs):
            op, data = read_frame(c)
            f.write(data.decode() + "\n")
    # 1: one message over three frames, a control ping between them
    m1 = json.dumps({"data": [trade("AAPL", 101.5, 1700000000001, 10), trade("MSFT", 300.25, 1700000000002, 5)],
                     "type": "trade"}).encode()
    c.sendall(frame(1, m1[:10], fin=False))
    c.sendall(frame(9, b"hi"))
    c.sendall(frame(0, m1[10:30], fin=False))
    c.sendall(frame(0, m1[30:], fin=True))
    # 2: an oversize message, itself fragmented
    pad = "x" * big
    m2 = json.dumps({"data": [trade("AAPL", 1, 1, 1)], "type": "trade", "pad": pad}).encode()
    half = len(m2) // 2
    c.sendall(frame(1, m2[:half], fin=False))
    c.sendall(frame(0, m2[half:], fin=True))
    # 3: an oversize message in one frame
    c.sendall(frame(1, m2))
    # 4: a normal message, its frame dribbled out a few bytes per TCP write
    m4 = json.dumps({"data": [trade("AAPL", 102.75, 1700000000003, 1)], "type": "trade"}).encode()
    raw = frame(1, m4)
    for i in range(0, len(raw), 7):
        c.sendall(raw[i:i + 7])
        time.sleep(0.002)
    # 5: a Finnhub ping message, then a final trade
    c.sendall(frame(1, b'{"type":"ping"}'))
    m5 = json.dumps({"data": [trade("MSFT", 301, 1700000000004, 2)], "type": "trade"}).encode()
    c.sendall(frame(1, m5))
    # wait for the client to go away
    try:
        while True:
            op, _ = read_frame(c)
            if op == 8:
                break
    except (EOFError, ConnectionError):
        pass
    c.close()


main()
