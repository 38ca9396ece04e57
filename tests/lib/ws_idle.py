"""ws_idle.py PORT PATH: open a WebSocket (RFC 6455, stdlib only), send
nothing, and print the seconds until the server closes it and the close
code ("5.02 1008"); exit 1 if it is still open after 30 s. For a venue's
subscribe deadline (Coinbase closes a client that has not subscribed
within 5 s)."""
import base64
import os
import socket
import struct
import sys
import time

port, path = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
t0 = time.monotonic()
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 101"), head
code = 0
try:
    while True:
        while len(buf) < 2:
            d = s.recv(65536)
            if not d:
                raise EOFError
            buf += d
        op, n, h = buf[0] & 15, buf[1] & 127, 2
        if n == 126:
            n, h = struct.unpack(">H", buf[2:4])[0], 4
        elif n == 127:
            n, h = struct.unpack(">Q", buf[2:10])[0], 10
        while len(buf) < h + n:
            d = s.recv(65536)
            if not d:
                raise EOFError
            buf += d
        payload, buf = buf[h:h + n], buf[h + n:]
        if op == 8:
            code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
            break
except (EOFError, ConnectionResetError):
    pass
except socket.timeout:
    print("still open after 30 s")
    sys.exit(1)
print("%.2f %d" % (time.monotonic() - t0, code))
