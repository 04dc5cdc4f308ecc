#!/usr/bin/env python3
"""Raw-socket HTTP/1.x client for tests/system/test_http_bodies.sh.

It frames requests byte for byte (Content-Length or chunked with a
trailer, Expect: 100-continue, HTTP/1.0, pipelining, malformed heads) and
reads responses itself, so a test sees exactly what the gateway sent.

  http_raw.py request --host IP --port P --authority H [--method M]
              [--path /] [--size N] [--frame length|chunked|none]
              [--trailer "name: value"] [--chunk BYTES] [--ext EXT]
              [--expect] [--http10] [--shut]
              [--header "name: value"]...
      One request with an N-byte body (the pattern of http_backend.py,
      seed "req"), framed as asked (chunks of --chunk bytes, 64 KiB,
      with the chunk extension --ext; --shut: half-close after it). Prints one line of key=value fields:
      status, interim (1xx statuses seen, "-" if none), frame (length,
      chunked, close or none), len, sha256 (of the body received),
      hdr_sha256 (the x-body-sha256 field), sent_sha256, trailers, after
      (what followed the response: eof, idle or data), cl (the
      Content-Length field or "-"), secs.
  http_raw.py pipeline --host IP --port P --authority H --count K
              [--step S]
      K requests in one write, from a thread (GET /bytes/N?seed=pI, POST /echo of
      N bytes for odd I; N = 1000 + I * S, S 997); prints one line per response, in the order read:
      "I status len sha256_ok".
  http_raw.py raw --host IP --port P --data BYTES
      Sends BYTES (Python escapes: \\r, \\n, \\t, \\xNN) and prints the status
      line, then "body=<text>" and "after=eof|idle|data".
Every socket operation is bounded by --timeout (10 s).
"""
import argparse
import hashlib
import socket
import sys
import threading
import time


def pattern(n, seed):
    """n bytes of http_backend.py's repeatable pattern for seed."""
    block = hashlib.sha256(seed.encode()).digest() * 64  # 2 KiB
    reps = n // len(block) + 1
    return (block * reps)[:n]


class Reader:
    """Buffered reads from a socket; EOF raises EOFError."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return out
            self.fill()

    def exact(self, n, h):
        """Feed the next n bytes to hash h; returns n."""
        got = 0
        while got < n:
            if not self.buf:
                self.fill()
            take = min(n - got, len(self.buf))
            h.update(self.buf[:take])
            del self.buf[:take]
            got += take
        return got

    def rest(self, h):
        got = 0
        while True:
            if self.buf:
                h.update(self.buf)
                got += len(self.buf)
                self.buf.clear()
            try:
                self.fill()
            except EOFError:
                return got

    def after(self, wait):
        """What follows within wait seconds: "eof" (the peer closed),
        "idle" (nothing) or "data" (bytes beyond the response)."""
        if self.buf:
            return "data"
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return "idle"
        except ConnectionResetError:
            return "eof"
        finally:
            self.sock.settimeout(old)
        if data:
            self.buf += data
            return "data"
        return "eof"


def read_head(r):
    status_line = r.line()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError("bad status line %r" % status_line)
    fields = []
    while True:
        line = r.line()
        if line in (b"\r\n", b"\n"):
            break
        k, _, v = line.decode("latin-1").partition(":")
        fields.append((k.strip().lower(), v.strip()))
    return int(parts[1]), status_line.decode("latin-1").strip(), fields


def field(fields, name):
    for k, v in fields:
        if k == name:
            return v
    return None


def read_response(r, method, interim_ok=True):
    """(status, interim, frame, len, sha256, fields, trailers, must_close)."""
    interim = []
    while True:
        status, _, fields = read_head(r)
        if 100 <= status < 200 and status != 101 and interim_ok:
            interim.append(str(status))
            continue
        break
    h = hashlib.sha256()
    trailers = []
    te = (field(fields, "transfer-encoding") or "").lower()
    cl = field(fields, "content-length")
    conn = (field(fields, "connection") or "").lower()
    if method == "HEAD" or status in (204, 304):
        frame, n = "none", 0
    elif te == "chunked":
        frame, n = "chunked", 0
        while True:
            size = int(r.line().split(b";")[0].strip(), 16)
            if size == 0:
                while True:
                    t = r.line()
                    if t in (b"\r\n", b"\n"):
                        break
                    trailers.append(t.decode("latin-1").strip().replace(" ", ""))
                break
            n += r.exact(size, h)
            if r.line() not in (b"\r\n",):
                raise ValueError("no CRLF after chunk data")
    elif cl is not None:
        frame, n = "length", r.exact(int(cl), h)
    else:
        frame, n = "close", r.rest(h)
    return (status, interim, frame, n, h.hexdigest(), fields, trailers,
            conn == "close" or frame == "close")


def build_request(a, body):
    lines = ["%s %s HTTP/1.%d" % (a.method, a.path, 0 if a.http10 else 1),
             "Host: %s" % a.authority]
    lines += a.header
    if a.frame == "length":
        lines.append("Content-Length: %d" % len(body))
    elif a.frame == "chunked":
        lines.append("Transfer-Encoding: chunked")
        if a.trailer:
            lines.append("Trailer: %s" % a.trailer.split(":")[0])
    if a.expect:
        lines.append("Expect: 100-continue")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    if a.frame == "chunked":
        step = a.chunk
        ext = b";" + a.ext.encode() if a.ext else b""
        parts = [b"%x%s\r\n%s\r\n" % (len(body[i:i + step]), ext,
                                       body[i:i + step])
                 for i in range(0, len(body), step)]
        tail = b"0\r\n" + ((a.trailer + "\r\n").encode() if a.trailer else b"")
        body_bytes = b"".join(parts) + tail + b"\r\n"
    else:
        body_bytes = body
    return head, body_bytes


def cmd_request(a):
    body = pattern(a.size, "req")
    head, body_bytes = build_request(a, body)
    t0 = time.monotonic()
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    r = Reader(s)
    interim_seen = []
    if a.expect:
        s.sendall(head)
        # the body goes once the 100 Continue passed through the gateway
        status, line, _ = read_head(r)
        interim_seen.append(str(status))
        if status != 100:
            print("status=%d interim-missing line=%r" % (status, line))
            return 1
        s.sendall(body_bytes)
    else:
        try:
            s.sendall(head + body_bytes)
        except (BrokenPipeError, ConnectionResetError) as e:
            # an early answer may still be readable
            print("# send: %s" % type(e).__name__, file=sys.stderr)
    if a.shut:
        s.shutdown(socket.SHUT_WR)
    status, interim, frame, n, sha, fields, trailers, must_close = \
        read_response(r, a.method)
    interim = interim_seen + interim
    after = r.after(3.0 if must_close or a.http10 else 0.3)
    print("status=%d interim=%s frame=%s len=%d sha256=%s hdr_sha256=%s "
          "sent_sha256=%s trailers=%s after=%s cl=%s secs=%.2f" % (
              status, ",".join(interim) or "-", frame, n, sha,
              field(fields, "x-body-sha256") or "-",
              hashlib.sha256(body).hexdigest(), ",".join(trailers) or "-",
              after, field(fields, "content-length") or "-",
              time.monotonic() - t0))
    s.close()
    return 0


def cmd_pipeline(a):
    reqs, expect = [], []
    for i in range(a.count):
        n = 1000 + a.step * i
        seed = "p%d" % i
        if i % 2 == 0:
            reqs.append(("GET /bytes/%d?seed=%s HTTP/1.1\r\nHost: %s\r\n\r\n"
                         % (n, seed, a.authority)).encode())
            expect.append(hashlib.sha256(pattern(n, seed)).hexdigest())
        else:
            b = pattern(n, seed)
            reqs.append(("POST /echo HTTP/1.1\r\nHost: %s\r\n"
                         "Content-Length: %d\r\n\r\n" % (a.authority, n))
                        .encode() + b)
            expect.append(hashlib.sha256(b).hexdigest())
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    # send from a thread while reading: a client that stopped reading
    # until all was sent would fill its own window and stall both sides
    sender = threading.Thread(target=s.sendall, args=(b"".join(reqs),),
                              daemon=True)
    sender.start()
    r = Reader(s)
    for i in range(a.count):
        try:
            status, _, _, n, sha, _, _, _ = read_response(r, "GET")
        except (EOFError, ValueError, socket.timeout) as e:
            print("%d error %s" % (i, type(e).__name__))
            return 1
        print("%d %d %d %s" % (i, status, n,
                               "sha256_ok" if sha == expect[i] else "sha256_bad"))
    sender.join(a.timeout)
    s.close()
    return 0


def cmd_raw(a):
    data = a.data.encode("latin-1").decode("unicode_escape").encode("latin-1")
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = Reader(s)
    try:
        status, line, fields = read_head(r)
        cl = int(field(fields, "content-length") or "0")
        while len(r.buf) < cl:
            r.fill()
        body = bytes(r.buf[:cl]).decode("latin-1").strip()
        del r.buf[:cl]
    except (EOFError, ValueError, ConnectionResetError) as e:
        print("no-response %s" % type(e).__name__)
        return 1
    print(line)
    print("body=%s" % body)
    print("after=%s" % r.after(3.0))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("request", "pipeline", "raw"):
        p = sub.add_parser(name)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--timeout", type=float, default=10.0)
        if name != "raw":
            p.add_argument("--authority", required=True)
        if name == "request":
            p.add_argument("--method", default="GET")
            p.add_argument("--path", default="/")
            p.add_argument("--size", type=int, default=0)
            p.add_argument("--frame", default="none",
                           choices=("length", "chunked", "none"))
            p.add_argument("--trailer")
            p.add_argument("--chunk", type=int, default=65536)
            p.add_argument("--ext")
            p.add_argument("--expect", action="store_true")
            p.add_argument("--http10", action="store_true")
            p.add_argument("--shut", action="store_true")
            p.add_argument("--header", action="append", default=[])
        elif name == "pipeline":
            p.add_argument("--count", type=int, default=6)
            p.add_argument("--step", type=int, default=997)
        else:
            p.add_argument("--data", required=True)
    a = ap.parse_args()
    try:
        return {"request": cmd_request, "pipeline": cmd_pipeline,
                "raw": cmd_raw}[a.cmd](a)
    except (OSError, EOFError, ValueError) as e:
        print("error %s %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
