"""ws_count.py - connect to /ws, read for SECONDS and print a JSON summary
{"types": {type: count}, "gaps": largest seconds between two messages,
"last_stats": the last stats message}; exit 1 if the server closed first.
    python3 ws_count.py HOST PORT SECONDS"""
import base64, json, os, socket, struct, sys, time

host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port), timeout=secs + 10)
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


def read(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        buf += chunk
    out, buf = buf[:n], buf[n:]
    return out


got = {"types": {}, "gap": 0.0, "last_stats": None}
start = last = time.monotonic()
end = start + secs
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        b0, b1 = read(2)
    except socket.timeout:
        break
    s.settimeout(None)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", read(8))[0]
    payload = read(n)
    now = time.monotonic()
    got["gap"] = max(got["gap"], now - last)
    last = now
    if b0 & 0x0F != 1:
        continue
    m = json.loads(payload)
    got["types"][m["type"]] = got["types"].get(m["type"], 0) + 1
    if m["type"] == "stats":
        got["last_stats"] = m
got["gap"] = round(max(got["gap"], time.monotonic() - last), 2)
print(json.dumps(got))
