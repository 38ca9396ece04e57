"""sim_protocol.py - a raw RFC 6455 client (stdlib only) that checks what
`tickpipe capture` cannot show: unsubscribe stops a symbol's trades while the
other continues, bad client messages get Finnhub-style error messages and
keep the connection, trades come in at most --batch per message, and pings
arrive at --ping-interval.
    python3 sim_protocol.py PORT BATCH"""
import base64, json, os, socket, struct, sys

port, batch = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /?token=proto HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 101"), head


def send(obj):
    data = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
    mask = os.urandom(4)
    assert len(data) < 126
    s.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def recv():
    global buf
    def need(n):
        global buf
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise EOFError("closed")
            buf += d
    need(2)
    op, n, h = buf[0] & 15, buf[1] & 127, 2
    if n == 126:
        need(4); n, h = struct.unpack(">H", buf[2:4])[0], 4
    elif n == 127:
        need(10); n, h = struct.unpack(">Q", buf[2:10])[0], 10
    need(h + n)
    payload, buf = buf[h:h + n], buf[h + n:]
    assert op == 1, (op, payload)
    return json.loads(payload)


def until(pred, limit=100000):
    for _ in range(limit):
        m = recv()
        if pred(m):
            return m
    raise AssertionError("not seen")


send({"type": "subscribe", "symbol": "AAPL"})
send({"type": "subscribe", "symbol": "BINANCE:ETHUSDT"})
seen, pings = set(), 0
while seen != {"AAPL", "BINANCE:ETHUSDT"} or pings < 2:
    m = recv()
    if m["type"] == "ping":
        pings += 1
    elif m["type"] == "trade":
        assert 1 <= len(m["data"]) <= batch, len(m["data"])
        seen |= {t["s"] for t in m["data"]}
print("ok - both symbols and %d pings" % pings)

for bad, want in ((b"not json", "Invalid message"), ({"type": "subscribe"}, "Invalid symbol"),
                  ({"type": "subscribe", "symbol": ""}, "Invalid symbol"), ({"type": "hello"}, "Unknown message type")):
    send(bad if isinstance(bad, dict) else bad.decode())
    m = until(lambda m: m["type"] == "error")
    assert want in m["msg"], (bad, m)
print("ok - bad client messages get error messages, the connection stays")

send({"type": "unsubscribe", "symbol": "AAPL"})
# after the unsubscribe has been read, only ETH; allow the frames already in flight
tail = []
for _ in range(1000):
    m = recv()
    if m["type"] == "trade":
        tail.append({t["s"] for t in m["data"]})
assert tail and all(x == {"BINANCE:ETHUSDT"} for x in tail[-300:]), tail[-5:]
print("ok - unsubscribe stops AAPL, BINANCE:ETHUSDT goes on")
