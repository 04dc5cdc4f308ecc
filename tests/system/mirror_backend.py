#!/usr/bin/env python3
"""Capture backend for the mirroring tests (tests/system/test_mirror*.sh).

Usage: mirror_backend.py --port PORT --name NAME --log FILE [--delay S]

Keep-alive HTTP/1.1 server (threads). Every request is answered
"NAME\\n" (status 200; /status/N answers N) after --delay seconds, and
logged once its body is read, as one line:
  METHOD PATH host=HOST len=BODY_BYTES sha256=HEX rid=X-REQUEST-ID
so a test sees what reached the backend: the Host header, and whether a
streamed body arrived whole (its SHA-256), without keeping the body.
"""
import argparse
import hashlib
import http.server
import socketserver
import sys
import threading
import time

LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mirror_backend"

    def log_message(self, fmt, *args):  # quiet stderr
        pass

    def read_body(self):
        h = hashlib.sha256()
        n = 0
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left > 0:
                    part = self.rfile.read(min(left, 1 << 20))
                    if not part:
                        raise ConnectionError("body cut short")
                    h.update(part)
                    n += len(part)
                    left -= len(part)
                self.rfile.readline()
        else:
            left = int(self.headers.get("content-length", "0"))
            while left > 0:
                part = self.rfile.read(min(left, 1 << 20))
                if not part:
                    raise ConnectionError("body cut short")
                h.update(part)
                n += len(part)
                left -= len(part)
        return n, h.hexdigest()

    def handle_any(self):
        n, digest = self.read_body()
        with LOCK:
            self.server.log.write("%s %s host=%s len=%d sha256=%s rid=%s\n" % (
                self.command, self.path, self.headers.get("host", "-"), n,
                digest, self.headers.get("x-request-id", "-")))
            self.server.log.flush()
        if self.server.delay > 0:
            time.sleep(self.server.delay)
        status = 200
        parts = self.path.split("?")[0].split("/")
        if len(parts) >= 3 and parts[1] == "status" and parts[2].isdigit():
            status = int(parts[2])
        body = (self.server.name + "\n").encode()
        self.send_response(status)
        self.send_header("x-backend", self.server.name)
        self.send_header("content-length", str(len(body)))
        # head and body in one write: two small writes meet Nagle and the
        # client's delayed ACK (40 ms per request)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    a = ap.parse_args()
    srv = Server(("0.0.0.0", a.port), Handler)
    srv.name = a.name
    srv.delay = a.delay
    srv.log = open(a.log, "a")
    print("listening on %d" % a.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
