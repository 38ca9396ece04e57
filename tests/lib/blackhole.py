"""blackhole.py - a TCP server that accepts connections, reads what it is
sent and never answers: a store that hangs (for the HTTP tests). Prints
"port N" once listening; closes every connection and exits on SIGTERM.
    python3 blackhole.py"""
import selectors, signal, socket, sys

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print(f"port {srv.getsockname()[1]}", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sel = selectors.DefaultSelector()
sel.register(srv, selectors.EVENT_READ)
accepted = 0
while True:
    for key, _ in sel.select():
        if key.fileobj is srv:
            c, _ = srv.accept()
            accepted += 1
            print(f"accepted {accepted}", flush=True)
            sel.register(c, selectors.EVENT_READ)
        elif not key.fileobj.recv(65536):
            sel.unregister(key.fileobj)
            key.fileobj.close()
