#!/usr/bin/env python3
"""cql_fake_server.py PORT MODE - a minimal CQL native protocol v4 server on
127.0.0.1:PORT that answers as a Cassandra node would, except for the fault
MODE injects into BATCH requests, for the client's error handling tests:

  unprepared-once  the first BATCH is answered Unprepared (0x2500) with the id
                   of its first statement, as after a node lost its cache
  overloaded-once  the first BATCH is answered Overloaded (0x1001)
  syntax           every BATCH is answered Syntax error (0x2000)
  bigframe         every BATCH is answered with a header announcing a 1 GiB body

Prints one line per event ("prepare", "batch ok", "batch unprepared", ...),
flushed, for the test to read. Serves connections one after another."""
import hashlib
import socket
import struct
import sys

port, mode = int(sys.argv[1]), sys.argv[2]
batches = 0


def log(msg):
    print(msg, flush=True)


def s(x):
    x = x.encode()
    return struct.pack(">H", len(x)) + x


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        k = c.recv(n - len(b))
        if not k:
            raise EOFError
        b += k
    return b


def frame(stream, op, body):
    return struct.pack(">BBhBI", 0x84, 0, stream, op, len(body)) + body


def error(code, msg, extra=b""):
    return struct.pack(">i", code) + s(msg) + extra


def serve(c):
    global batches
    while True:
        ver, flags, stream, op, n = struct.unpack(">BBhBI", recv_exact(c, 9))
        body = recv_exact(c, n)
        if op == 0x01:  # STARTUP
            c.sendall(frame(stream, 0x02, b""))
        elif op == 0x07:  # QUERY
            q = body[4:4 + struct.unpack(">i", body[:4])[0]].decode()
            if q.startswith("USE "):
                c.sendall(frame(stream, 0x08, struct.pack(">i", 3) + s(q[4:])))
            elif "schema_version" in q and q.startswith("SELECT version"):
                meta = struct.pack(">ii", 1, 1) + s("ks") + s("schema_version") + s("version") + struct.pack(">H", 9)
                rows = struct.pack(">i", 1) + struct.pack(">ii", 4, 1)
                c.sendall(frame(stream, 0x08, struct.pack(">i", 2) + meta + rows))
            else:
                c.sendall(frame(stream, 0x08, struct.pack(">i", 1)))
        elif op == 0x09:  # PREPARE
            q = body[4:4 + struct.unpack(">i", body[:4])[0]]
            log("prepare")
            nb = q.count(b"?")
            meta = struct.pack(">iii", 1, nb, 0) + s("ks") + s("t")
            for i in range(nb):
                meta += s(f"c{i}") + struct.pack(">H", 0x0D)
            res = struct.pack(">i", 4) + struct.pack(">H", 16) + hashlib.md5(q).digest() + meta
            c.sendall(frame(stream, 0x08, res + struct.pack(">ii", 4, 0)))
        elif op == 0x0A:  # EXECUTE: no rows
            c.sendall(frame(stream, 0x08, struct.pack(">i", 1)))
        elif op == 0x0D:  # BATCH
            batches += 1
            idlen = struct.unpack(">H", body[4:6])[0]
            sid = body[6:6 + idlen]
            if mode == "unprepared-once" and batches == 1:
                log("batch unprepared")
                c.sendall(frame(stream, 0x00, error(0x2500, "Prepared query not found", struct.pack(">H", len(sid)) + sid)))
            elif mode == "overloaded-once" and batches == 1:
                log("batch overloaded")
                c.sendall(frame(stream, 0x00, error(0x1001, "Too many requests in flight")))
            elif mode == "syntax":
                log("batch syntax")
                c.sendall(frame(stream, 0x00, error(0x2000, "line 1:7 no viable alternative at input 'INTO'")))
            elif mode == "bigframe":
                log("batch bigframe")
                c.sendall(struct.pack(">BBhBI", 0x84, 0, stream, 0x08, 1 << 30))
            else:
                log("batch ok")
                c.sendall(frame(stream, 0x08, struct.pack(">i", 1)))
        else:
            c.sendall(frame(stream, 0x00, error(0x000A, f"unexpected opcode {op}")))


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(8)
log("listening")
while True:
    conn, _ = ls.accept()
    try:
        serve(conn)
    except (EOFError, OSError):
        pass
    conn.close()
