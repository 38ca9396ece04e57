"""ws_stats.py - connect to /ws (Python stdlib only) and print the first
`stats` message whose "health" satisfies a condition, as JSON.
    python3 ws_stats.py HOST PORT failing|ok [TIMEOUT_S]
failing: health.status == "failing"; ok: no health, or status "ok".
Exits 1 if no such message came within TIMEOUT_S (default 30)."""
import base64, json, os, socket, struct, sys, time

host, port, want = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deadline = time.time() + (float(sys.argv[4]) if len(sys.argv) > 4 else 30)
s = socket.create_connection((host, port), timeout=30)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
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


def need(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk


msg = b""
while time.time() < deadline:
    need(2)
    b0, b1 = buf[0], buf[1]
    ln, off = b1 & 0x7F, 2
    if ln == 126:
        need(4)
        ln, off = struct.unpack(">H", buf[2:4])[0], 4
    elif ln == 127:
        need(10)
        ln, off = struct.unpack(">Q", buf[2:10])[0], 10
    need(off + ln)
    payload, buf = buf[off:off + ln], buf[off + ln:]
    msg += payload
    if not b0 & 0x80:
        continue
    data, msg = msg, b""
    if b0 & 0x0F not in (1, 0):
        continue
    m = json.loads(data)
    if m.get("type") != "stats":
        continue
    h = m.get("health")
    failing = bool(h) and h.get("status") == "failing"
    if (want == "failing") == failing:
        print(json.dumps(m))
        sys.exit(0)
sys.exit(f"no stats message with health {want} in time")
