"""ws_client.py - a minimal RFC 6455 WebSocket client (Python stdlib only)
for the HTTP tests: connect to /ws, ask for one symbol, collect messages
until trades, candles, averages and stats arrived and at least MIN trades,
then print a JSON summary {"types", "symbols", "trades", "stats"}.
With MIN = stall it connects and then never reads (a slow browser).
With MIN = count:SECONDS it reads for SECONDS and prints {"types": {type:
count}, "gap": the longest wait in seconds between two messages (or
before the first, or after the last), "last_stats"}.
With MIN = stats:failing|ok[:SECONDS] it prints the first `stats` message
whose "health" is failing (health.status == "failing") or ok (no health,
or status "ok"), and exits 1 if none came within SECONDS (default 30).
With MIN = latency:SECONDS it reads for SECONDS and prints {"n", "p50_ms",
"p99_ms", "p999_ms", "max_ms"} of (receipt time - "ts") over every pushed
trade: the feed's send -> browser push latency when the feed stamps its
send time as the event time (as tickpipe simulate does).
    python3 ws_client.py HOST PORT SYMBOL [MIN|stall|count:S|stats:WANT[:S]|latency:S]"""
import urllib.parse
import base64, json, os, socket, struct, sys, time

host, port, sym = sys.argv[1], int(sys.argv[2]), sys.argv[3]
mode = sys.argv[4] if len(sys.argv) > 4 else "50"
stall = mode == "stall"
count_secs = float(mode[6:]) if mode.startswith("count:") else None
lat_secs = float(mode[8:]) if mode.startswith("latency:") else None
stats_want = mode.split(":")[1] if mode.startswith("stats:") else None
stats_secs = float(mode.split(":")[2]) if stats_want and mode.count(":") > 1 else 30
want_trades = int(mode) if not stall and count_secs is None and stats_want is None and lat_secs is None else 50
s = socket.create_connection((host, port), timeout=30 + (count_secs or lat_secs or 0))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws?symbol={urllib.parse.quote(sym, safe='')} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit("connection closed during the handshake")
    buf += chunk
head, buf = buf.split(b"\r\n\r\n", 1)
if not head.startswith(b"HTTP/1.1 101"):
    sys.exit(f"handshake refused: {head[:200]!r}")


def send_text(text):
    data, mask = text.encode(), os.urandom(4)
    assert len(data) < 126
    s.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def read(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        buf += chunk
    out, buf = buf[:n], buf[n:]
    return out


def read_frame():
    b0, b1 = read(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", read(8))[0]
    return b0, read(n)


def read_message():
    """The next text message's JSON (fragments joined), or None for other frames."""
    b0, payload = read_frame()
    op = b0 & 0x0F
    if op >= 8:
        return None  # control frames may come between fragments
    while not b0 & 0x80:
        b0, more = read_frame()
        if b0 & 0x0F < 8:
            payload += more
    return json.loads(payload) if op == 1 else None


def stats_for(want, secs):
    deadline = time.time() + secs
    while time.time() < deadline:
        s.settimeout(max(0.1, deadline - time.time()))
        try:
            m = read_message()
        except socket.timeout:
            break
        if m is None or m.get("type") != "stats":
            continue
        h = m.get("health")
        if (want == "failing") == (bool(h) and h.get("status") == "failing"):
            print(json.dumps(m))
            sys.exit(0)
    sys.exit(f"no stats message with health {want} in time")


def count_for(secs):
    got = {"types": {}, "gap": 0.0, "last_stats": None}
    last = time.monotonic()
    end = last + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            m = read_message()
        except socket.timeout:
            break
        now = time.monotonic()
        got["gap"] = max(got["gap"], now - last)
        last = now
        if m is None:
            continue
        got["types"][m["type"]] = got["types"].get(m["type"], 0) + 1
        if m["type"] == "stats":
            got["last_stats"] = m
    got["gap"] = round(max(got["gap"], time.monotonic() - last), 2)
    print(json.dumps(got))
    sys.exit(0)


def latency_for(secs):
    lat = []
    end = time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            m = read_message()
        except socket.timeout:
            break
        now_ms = time.time() * 1000.0
        if m is not None and m.get("type") == "trades":
            lat += [now_ms - t["ts"] for t in m["data"]]
    lat.sort()
    q = lambda f: round(lat[min(len(lat) - 1, int(f * len(lat)))], 1) if lat else None
    print(json.dumps({"n": len(lat), "p50_ms": q(0.5), "p99_ms": q(0.99), "p999_ms": q(0.999),
                      "max_ms": round(lat[-1], 1) if lat else None}))
    sys.exit(0)


send_text(json.dumps({"symbol": sym}))
if lat_secs is not None:
    latency_for(lat_secs)
if count_secs is not None:
    count_for(count_secs)
if stats_want is not None:
    stats_for(stats_want, stats_secs)
if stall:
    print("stalled", flush=True)
    time.sleep(3600)
got = {"types": {}, "symbols": {}, "trades": [], "stats": None}
deadline = time.time() + 60
while time.time() < deadline:
    m = read_message()
    if m is None:
        continue
    got["types"][m["type"]] = got["types"].get(m["type"], 0) + 1
    if "symbol" in m:
        got["symbols"][m["symbol"]] = 1
    if m["type"] == "trades":
        got["trades"] += m["data"]
    if m["type"] == "stats":
        got["stats"] = m
    if all(got["types"].get(t) for t in ("trades", "candles", "averages", "stats")) and len(got["trades"]) >= want_trades:
        break
print(json.dumps(got))
