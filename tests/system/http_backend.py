#!/usr/bin/env python3
"""Small HTTP/1.1 backend for the HTTP proxy tests (tests/system/test_http_*.sh).

Usage: http_backend.py --port PORT --name NAME [--log FILE] [--fail-status N]

Keep-alive HTTP/1.1 server (threads), answering:
  GET  /bytes/N[?chunked=1][&seed=S]  N deterministic bytes (Content-Length,
                                      or chunked), x-body-sha256 header
  POST|PUT /echo[?chunked=1]          the request body back (CL or chunked
                                      request bodies), x-body-sha256 of it
  GET  /delay/S                       answers NAME after S seconds
  GET  /status/N                      status N, no body (204, 304, ...)
  POST /reject/N                      status N at once, body unread, then
                                      close (like a server's 413)
  anything else                       "NAME\\n" with x-backend: NAME
--fail-status N: every request (its body read and logged) gets status N
with the body "NAME\\n" instead (a failing endpoint, for outlier detection).
?close=1 instead of ?chunked=1: a close-delimited body (no Content-Length,
no Transfer-Encoding, the connection closes after it). Chunked bodies come
in chunks of 64 KiB (&chunk=N: N bytes) and end with the trailer
"x-trailer: done". /bytes/N?dupcl=1: "Content-Length: N, N".
Each request is logged to --log, once its body is read, as "METHOD PATH
end-user=... xff=... rid=... te=chunked|length|none len=N sha256=H
trailers=name:value,..." so a test can see which version served what (like
the Bookinfo reviews v1/v2/v3) and what body arrived.
"""
import argparse
import hashlib
import http.server
import socketserver
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()


def pattern(n, seed):
    """n bytes of a repeatable pattern (a SHA-256 stream of the seed)."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest() * 64  # 2 KiB
    while len(out) < n:
        out += block
    return bytes(out[:n])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "http_backend"

    def log_message(self, fmt, *args):  # quiet stderr
        pass

    def record(self, te, body, trailers):
        if self.server.log is None:
            return
        with LOCK:
            self.server.log.write(
                "%s %s end-user=%s xff=%s rid=%s te=%s len=%d sha256=%s "
                "trailers=%s\n" % (
                    self.command, self.path, self.headers.get("end-user", "-"),
                    self.headers.get("x-forwarded-for", "-"),
                    self.headers.get("x-request-id", "-"), te, len(body),
                    hashlib.sha256(body).hexdigest(),
                    ",".join(trailers) or "-"))
            self.server.log.flush()

    def read_body(self):
        """(framing, body, trailer lines) of the request."""
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = bytearray()
            trailers = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:
                        t = self.rfile.readline()
                        if t in (b"\r\n", b"\n", b""):
                            break
                        trailers.append(t.decode().strip().replace(" ", ""))
                    return "chunked", bytes(data), trailers
                data += self.rfile.read(size)
                self.rfile.readline()
        if "content-length" in self.headers:
            n = int(self.headers["content-length"])
            return "length", self.rfile.read(n) if n > 0 else b"", []
        return "none", b"", []

    def send_body(self, body, chunked, status=200, close=False, step=65536,
                  dupcl=False):
        self.send_response(status)
        self.send_header("x-backend", self.server.name)
        self.send_header("x-body-sha256", hashlib.sha256(body).hexdigest())
        self.send_header("content-type", "application/octet-stream")
        if chunked:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            if self.command != "HEAD":
                out = [b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                       for i in range(0, len(body), step)]
                self.wfile.write(b"".join(out) + b"0\r\nx-trailer: done\r\n\r\n")
        elif close:
            self.send_header("connection", "close")
            self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        else:
            n = str(len(body))
            self.send_header("content-length", n + ", " + n if dupcl else n)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        chunked = q.get("chunked", ["0"])[0] == "1"
        close = q.get("close", ["0"])[0] == "1"
        step = int(q.get("chunk", ["65536"])[0])
        dupcl = q.get("dupcl", ["0"])[0] == "1"
        parts = url.path.split("/")
        if len(parts) >= 3 and parts[1] == "reject":
            # answer before reading the body, then close (unread bytes
            # make the kernel reset the connection)
            self.record("unread", b"", [])
            self.close_connection = True
            msg = b"rejected\n"
            self.send_response(int(parts[2]))
            self.send_header("content-length", str(len(msg)))
            self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(msg)
            self.wfile.flush()
            return
        te, body, trailers = self.read_body()
        self.record(te, body, trailers)
        if self.server.fail_status:
            msg = (self.server.name + "\n").encode()
            self.send_response(self.server.fail_status)
            self.send_header("x-backend", self.server.name)
            self.send_header("content-length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        if len(parts) >= 3 and parts[1] == "bytes":
            self.send_body(pattern(int(parts[2]), q.get("seed", ["0"])[0]),
                           chunked, close=close, step=step, dupcl=dupcl)
        elif len(parts) >= 2 and parts[1] == "echo":
            self.send_body(body, chunked, close=close, step=step)
        elif len(parts) >= 3 and parts[1] == "status":
            self.send_response(int(parts[2]))
            self.send_header("x-backend", self.server.name)
            self.end_headers()
        elif len(parts) >= 3 and parts[1] == "delay":
            time.sleep(float(parts[2]))
            self.send_body((self.server.name + "\n").encode(), False)
        else:
            self.send_body((self.server.name + "\n").encode(), chunked)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--log")
    ap.add_argument("--fail-status", type=int, default=0)
    a = ap.parse_args()
    srv = Server(("0.0.0.0", a.port), Handler)
    srv.name = a.name
    srv.log = open(a.log, "a") if a.log else None
    srv.fail_status = a.fail_status
    print("listening on %d" % a.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
