#!/usr/bin/env python3
"""Small HTTP/1.1 backend for the HTTP proxy tests (tests/system/test_http_*.sh).

Usage: http_backend.py --port PORT --name NAME [--log FILE]

Keep-alive HTTP/1.1 server (threads), answering:
  GET  /bytes/N[?chunked=1][&seed=S]  N deterministic bytes (Content-Length,
                                      or chunked), x-body-sha256 header
  POST|PUT /echo[?chunked=1]          the request body back (CL or chunked
                                      request bodies), x-body-sha256 of it
  GET  /delay/S                       answers NAME after S seconds
  anything else                       "NAME\\n" with x-backend: NAME
Each request is logged to --log as "METHOD PATH end-user=... xff=..." so a
test can see which version served what (like the Bookinfo reviews v1/v2/v3).
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

    def record(self):
        if self.server.log is None:
            return
        with LOCK:
            self.server.log.write("%s %s end-user=%s xff=%s rid=%s\n" % (
                self.command, self.path, self.headers.get("end-user", "-"),
                self.headers.get("x-forwarded-for", "-"),
                self.headers.get("x-request-id", "-")))
            self.server.log.flush()

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("content-length", "0"))
        return self.rfile.read(n) if n > 0 else b""

    def send_body(self, body, chunked, status=200):
        self.send_response(status)
        self.send_header("x-backend", self.server.name)
        self.send_header("x-body-sha256", hashlib.sha256(body).hexdigest())
        self.send_header("content-type", "application/octet-stream")
        if chunked:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            if self.command != "HEAD":
                step = 65536
                for i in range(0, len(body), step):
                    part = body[i:i + step]
                    self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                self.wfile.write(b"0\r\nx-trailer: done\r\n\r\n")
        else:
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    def handle_any(self):
        self.record()
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        chunked = q.get("chunked", ["0"])[0] == "1"
        parts = url.path.split("/")
        body = self.read_body() if self.command in ("POST", "PUT") else b""
        if len(parts) >= 3 and parts[1] == "bytes":
            self.send_body(pattern(int(parts[2]), q.get("seed", ["0"])[0]),
                           chunked)
        elif len(parts) >= 2 and parts[1] == "echo":
            self.send_body(body, chunked)
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
    a = ap.parse_args()
    srv = Server(("0.0.0.0", a.port), Handler)
    srv.name = a.name
    srv.log = open(a.log, "a") if a.log else None
    print("listening on %d" % a.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
