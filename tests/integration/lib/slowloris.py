#!/usr/bin/env python3
"""slowloris.py - a slow HTTP client for the tests (not a test itself).

Opens --per-source connections from each of --sources (loopback addresses,
so the server sees each as its own client) to 127.0.0.1:--port, sends the
first line of a request and then one more header line every --interval
seconds, never the blank line that ends the headers; with --body, the
headers are complete and the body (Content-Length 1000) comes one byte per
--interval instead. Runs for --duration seconds (bounded: at most 600) and
stops by itself; with --reconnect, a connection the server closed is opened
again, as an attacker would; --tls speaks HTTPS (the certificate is not
checked: a test's own).

Prints one JSON object: opened, failed (connects that did not succeed within
2 s), answered (connections that got a response, which a slow request never
should), closed (the seconds each connection lived before the server closed
it, its first life only), open_at_end.
"""
import argparse
import json
import select
import socket
import ssl
import sys
import time


def connect(src, port, tls):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        if tls:  # a test server's own certificate: not checked
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sources", required=True, help="a,b,c")
    ap.add_argument("--per-source", type=int, default=32)
    ap.add_argument("--interval", type=float, default=8)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--path", default="/api/session")
    ap.add_argument("--body", action="store_true")
    ap.add_argument("--reconnect", action="store_true")
    ap.add_argument("--tls", action="store_true", help="HTTPS")
    ap.add_argument("--ready", help="a file written once all are opened")
    a = ap.parse_args()
    duration = min(a.duration, 600)
    start = time.monotonic()
    conns = {}  # socket -> (source, opened at, first life)
    out = {"opened": 0, "failed": 0, "answered": 0, "closed": []}

    def open_one(src, first):
        s = connect(src, a.port, a.tls)
        if s is None:
            out["failed"] += 1
            return
        out["opened"] += 1
        head = "POST" if a.body else "GET"
        line = f"{head} {a.path} HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n"
        if a.body:
            line += "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        try:
            s.send(line.encode())
        except OSError:
            pass
        conns[s] = (src, time.monotonic(), first)

    for src in a.sources.split(","):
        for _ in range(a.per_source):
            open_one(src, True)
    if a.ready:
        open(a.ready, "w").write("%d\n" % len(conns))
    next_send = time.monotonic() + a.interval
    while time.monotonic() - start < duration:
        wait = max(0.0, min(next_send, start + duration) - time.monotonic())
        p = select.poll()  # not select(): more than 1024 descriptors
        byfd = {s.fileno(): s for s in conns}
        for fd in byfd:
            p.register(fd, select.POLLIN)
        ready = [byfd[fd] for fd, _ in p.poll(min(wait, 0.5) * 1000)]
        for s in ready:
            src, t0, first = conns.pop(s)
            try:
                data = s.recv(4096)
            except ssl.SSLWantReadError:
                conns[s] = (src, t0, first)  # TLS bytes, no data yet
                continue
            except OSError:
                data = b""
            if data:
                out["answered"] += 1
            elif first:
                out["closed"].append(round(time.monotonic() - t0, 2))
            s.close()
            if a.reconnect:
                open_one(src, False)
        if time.monotonic() >= next_send:
            next_send += a.interval
            for s in list(conns):
                try:
                    s.send(b"a" if a.body else b"X-Slow: 1\r\n")
                except OSError:
                    pass
    out["open_at_end"] = len(conns)
    for s in conns:
        s.close()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
