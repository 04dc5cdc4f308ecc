#!/usr/bin/python3
"""tests/system/l4_tool.py: clients, servers and a wire for the L4 proxy tests.

Subcommands (each bounded by --timeout; exit status 0 on success):

  echo     --port P [--log F]      echo server: sends back what it reads, then
                                   EOF after EOF; logs "PEER BYTES SHA256" per
                                   connection (what it received)
  sink     --port P                reads until EOF, answers "BYTES SHA256\\n"
  client   --host H --port P --conns N --parallel K --min A --max B --seed S
                                   N connections, K at a time, sizes from A to
                                   B bytes (log-uniform; the first is A, the
                                   second B): send the bytes, half-close, read
                                   the echo to EOF; sha256 of both compared
  limits   --host H --port P --hold N --extra M
                                   open N connections and keep them, try M
                                   more, check the N still echo, close them,
                                   try M again; prints a JSON summary
  reset    --port P [--after N]      server: reads N bytes (1024), then resets
                                   the connection (SO_LINGER 0)
  probe    --host H --port P [--send N]
                                   connect, send N bytes, half-close, read to
                                   EOF; prints what happened: refused
                                   (connect failed), connect-timeout, reset
                                   (after the handshake), eof, echo
  bulk     --host H --port P --bytes N
                                   send N bytes to a sink, print
                                   "BYTES SECONDS MBIT/S" once it has them all
  synflood --src-net A.B.C --dst H --port P --count N --rate R
                                   N spoofed SYNs (raw socket) at R per second
                                   from random hosts of A.B.C.0/24
  wire     --a IF --b IF [--delay-ms D] [--loss P] [--reorder P] [--dup P]
                                   a userspace netem: relay Ethernet frames
                                   between two interfaces with delay, loss,
                                   reordering and duplication (percentages),
                                   used where the kernel has no sch_netem

Only the standard library; Debian's /usr/bin/python3.
"""

import errno
import argparse
import hashlib
import heapq
import json
import math
import os
import random
import select
import signal
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024


def stream_bytes(seed, conn_id, size):
    """The bytes connection conn_id sends, as chunks (deterministic)."""
    k = 0
    left = size
    while left > 0:
        n = min(left, 1 << 20)
        yield random.Random(seed * 1000003 + conn_id * 1009 + k).randbytes(n)
        left -= n
        k += 1


def sizes_for(n, lo, hi, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i == 0:
            out.append(lo)
        elif i == 1:
            out.append(hi)
        else:
            out.append(int(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
    return out


# ------------------------------------------------------------------ servers

def serve(port, handler, backlog=1024):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(backlog)
    while True:
        try:
            c, peer = srv.accept()
        except InterruptedError:
            continue
        t = threading.Thread(target=handler, args=(c, peer), daemon=True)
        t.start()


def echo_handler(log):
    lock = threading.Lock()

    def handle(c, peer):
        h = hashlib.sha256()
        n = 0
        try:
            c.settimeout(600)
            while True:
                data = c.recv(CHUNK)
                if not data:
                    break
                h.update(data)
                n += len(data)
                c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            # wait for the peer's close so that nothing we sent is reset
            while c.recv(CHUNK):
                pass
            status = "ok"
        except OSError as e:
            status = "error:%s" % e.__class__.__name__
        finally:
            c.close()
        if log is not None:
            with lock:
                log.write("%s:%d %d %s %s\n" % (peer[0], peer[1], n,
                                               h.hexdigest(), status))
                log.flush()
    return handle


def sink_handler(c, peer):
    h = hashlib.sha256()
    n = 0
    try:
        c.settimeout(600)
        while True:
            data = c.recv(CHUNK)
            if not data:
                break
            h.update(data)
            n += len(data)
        c.sendall(("%d %s\n" % (n, h.hexdigest())).encode())
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()


def reset_handler(after):
    def handle(c, peer):
        try:
            c.settimeout(30)
            got = 0
            while got < after:
                data = c.recv(after - got)
                if not data:
                    break
                got += len(data)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        except OSError:
            pass
        finally:
            c.close()
    return handle


# ------------------------------------------------------------------ clients

def cmd_probe(a):
    try:
        s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    except (ConnectionRefusedError, ConnectionResetError):
        print("refused", flush=True)
        return 0
    except socket.timeout:
        print("connect-timeout", flush=True)
        return 0
    except OSError as e:
        print("connect-error %s" % e.__class__.__name__, flush=True)
        return 0
    s.settimeout(a.timeout)
    data = random.Random(a.seed).randbytes(a.send)
    got = b""
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while True:
            d = s.recv(CHUNK)
            if not d:
                break
            got += d
    except (ConnectionResetError, BrokenPipeError):
        print("reset", flush=True)
        return 0
    except socket.timeout:
        print("timeout", flush=True)
        return 0
    except OSError as e:
        # a reset that lands before shutdown() makes it fail with
        # ENOTCONN: the connection was reset all the same
        if e.errno in (errno.ENOTCONN, errno.ECONNRESET, errno.EPIPE,
                       errno.ECONNABORTED):
            print("reset", flush=True)
        else:
            print("error %s" % e.__class__.__name__, flush=True)
        return 0
    finally:
        s.close()
    print("echo" if got == data and data else "eof", flush=True)
    return 0


def one_echo(host, port, conn_id, size, seed, timeout):
    """Send size bytes, half-close, read the echo; returns a result dict."""
    res = {"id": conn_id, "size": size, "ok": False, "error": ""}
    sent_h = hashlib.sha256()
    recv_h = hashlib.sha256()
    received = [0]
    err = []
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        res["error"] = "connect: %s" % e
        return res
    s.settimeout(timeout)

    def reader():
        try:
            while True:
                data = s.recv(CHUNK)
                if not data:
                    return
                recv_h.update(data)
                received[0] += len(data)
        except OSError as e:
            err.append("recv: %s" % e)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        for chunk in stream_bytes(seed, conn_id, size):
            sent_h.update(chunk)
            s.sendall(chunk)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        err.append("send: %s" % e)
    t.join(timeout)
    s.close()
    res["sent_sha256"] = sent_h.hexdigest()
    res["recv_sha256"] = recv_h.hexdigest()
    res["received"] = received[0]
    if t.is_alive():
        err.append("timeout")
    res["error"] = "; ".join(err)
    res["ok"] = (not err and received[0] == size and
                 res["sent_sha256"] == res["recv_sha256"])
    return res


def cmd_client(a):
    sizes = sizes_for(a.conns, a.min, a.max, a.seed)
    results = [None] * a.conns
    next_id = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + a.timeout

    def worker():
        while True:
            with lock:
                i = next_id[0]
                next_id[0] += 1
            if i >= a.conns or time.monotonic() > deadline:
                return
            results[i] = one_echo(a.host, a.port, i, sizes[i], a.seed,
                                  min(a.conn_timeout,
                                      max(1, deadline - time.monotonic())))

    start = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(a.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic() + 5))
    elapsed = time.monotonic() - start
    ok = sum(1 for r in results if r is not None and r["ok"])
    total = sum(sizes)
    out = open(a.report, "w") if a.report else None
    for i, r in enumerate(results):
        if r is None:
            r = {"id": i, "size": sizes[i], "ok": False, "error": "not run"}
        line = "%d %d %s %s %s %s" % (
            r["id"], r["size"], "ok" if r["ok"] else "FAIL",
            r.get("sent_sha256", "-"), r.get("recv_sha256", "-"),
            r["error"] or "-")
        if out:
            out.write(line + "\n")
        if not r["ok"]:
            print("FAIL " + line, flush=True)
    if out:
        out.close()
    print("client: %d/%d connections ok, %d bytes each way, %.1f s, "
          "%.1f Mbit/s each way" % (ok, a.conns, total, elapsed,
                                    total * 8 / elapsed / 1e6), flush=True)
    return 0 if ok == a.conns else 1


def echo_round(s, nbytes, seed):
    data = random.Random(seed).randbytes(nbytes)
    s.sendall(data)
    got = b""
    while len(got) < nbytes:
        chunk = s.recv(nbytes - len(got))
        if not chunk:
            raise ConnectionError("EOF after %d of %d" % (len(got), nbytes))
        got += chunk
    if got != data:
        raise ConnectionError("echo differs")


def try_open(host, port, timeout, seed):
    try:
        s = socket.create_connection((host, port), timeout=timeout)
        s.settimeout(timeout)
        echo_round(s, 1024, seed)
        return s, ""
    except OSError as e:
        return None, e.__class__.__name__


def cmd_limits(a):
    held = []
    first_errors = []
    for i in range(a.hold):
        s, e = try_open(a.host, a.port, a.conn_timeout, i)
        if s is None:
            first_errors.append(e)
        else:
            held.append(s)
    extra_ok = 0
    extra_errors = {}
    for i in range(a.extra):
        s, e = try_open(a.host, a.port, a.conn_timeout, 1000 + i)
        if s is None:
            extra_errors[e] = extra_errors.get(e, 0) + 1
        else:
            extra_ok += 1
            held.append(s)
    still_ok = 0
    for i, s in enumerate(held):
        try:
            echo_round(s, 65536, 5000 + i)
            still_ok += 1
        except OSError:
            pass
    for s in held:
        try:
            s.shutdown(socket.SHUT_WR)
            s.settimeout(a.conn_timeout)
            while s.recv(CHUNK):
                pass
        except OSError:
            pass
        s.close()
    time.sleep(a.settle)
    after_ok = 0
    after = []
    for i in range(a.extra):
        s, e = try_open(a.host, a.port, a.conn_timeout, 9000 + i)
        if s is not None:
            after_ok += 1
            after.append(s)
    for s in after:
        s.close()
    summary = {
        "hold": a.hold, "held_ok": a.hold - len(first_errors),
        "extra": a.extra, "extra_ok": extra_ok, "extra_errors": extra_errors,
        "held_total": len(held), "still_ok": still_ok, "after_ok": after_ok,
    }
    print(json.dumps(summary), flush=True)
    return 0


def cmd_bulk(a):
    start = time.monotonic()
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    s.settimeout(a.timeout)
    h = hashlib.sha256()
    for chunk in stream_bytes(a.seed, 0, a.bytes):
        h.update(chunk)
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        reply += d
    elapsed = time.monotonic() - start
    s.close()
    parts = reply.decode().split()
    if len(parts) != 2 or int(parts[0]) != a.bytes or parts[1] != h.hexdigest():
        print("bulk: sink answered %r, expected %d %s" % (reply, a.bytes,
                                                          h.hexdigest()))
        return 1
    print("%d %.3f %.1f" % (a.bytes, elapsed, a.bytes * 8 / elapsed / 1e6),
          flush=True)
    return 0


# ------------------------------------------------------------------ SYN flood

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def syn_packet(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02,
                      64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp),
                     random.getrandbits(16), 0, 64, socket.IPPROTO_TCP, 0,
                     src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def cmd_synflood(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dst = socket.inet_aton(a.dst)
    rng = random.Random(a.seed)
    start = time.monotonic()
    sent = 0
    for i in range(a.count):
        host = rng.randrange(a.first_host, a.last_host + 1)
        src = socket.inet_aton("%s.%d" % (a.src_net, host))
        pkt = syn_packet(src, dst, rng.randrange(1024, 65535), a.port,
                         rng.getrandbits(32))
        try:
            s.sendto(pkt, (a.dst, 0))
            sent += 1
        except OSError:
            pass
        # bounded rate: never ahead of count/rate seconds
        ahead = (i + 1) / a.rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
        if time.monotonic() - start > a.timeout:
            break
    elapsed = time.monotonic() - start
    print("synflood: %d SYNs in %.2f s (%.0f/s)" % (sent, elapsed,
                                                    sent / elapsed), flush=True)
    return 0 if sent >= a.count else 1


# ------------------------------------------------------------------ wire

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23


def cmd_wire(a):
    socks = {}
    for name in (a.a, a.b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                          socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        try:
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass
        s.bind((name, 0))
        s.setblocking(False)
        socks[name] = s
    other = {socks[a.a]: socks[a.b], socks[a.b]: socks[a.a]}
    rng = random.Random(a.seed)
    delay = a.delay_ms / 1000.0
    queue = []  # (due, seq, sock, frame)
    seq = 0
    stats = {"in": 0, "lost": 0, "dup": 0, "reordered": 0, "out": 0,
             "errors": 0}
    end = time.monotonic() + a.timeout
    stop = [False]

    def on_term(signum, frame):
        stop[0] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    while not stop[0] and time.monotonic() < end:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            try:
                out.send(frame)
                stats["out"] += 1
            except OSError:
                stats["errors"] += 1
        wait = 0.05 if not queue else max(0.0, queue[0][0] - now)
        try:
            ready, _, _ = select.select(list(other), [], [], min(wait, 0.05))
        except InterruptedError:
            continue
        now = time.monotonic()
        link_down = False
        for s in ready:
            for _ in range(256):
                try:
                    frame, addr = s.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    # ENETDOWN and the like while a link is moved or
                    # restarted: the frames of that moment are lost
                    stats["errors"] += 1
                    link_down = True
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue
                stats["in"] += 1
                if rng.random() * 100 < a.loss:
                    stats["lost"] += 1
                    continue
                copies = 1
                if rng.random() * 100 < a.dup:
                    copies = 2
                    stats["dup"] += 1
                # netem's reorder: a share of frames goes at once, the rest
                # waits the delay, so the immediate ones overtake
                due = now + delay
                if delay > 0 and rng.random() * 100 < a.reorder:
                    due = now
                    stats["reordered"] += 1
                for _ in range(copies):
                    seq += 1
                    heapq.heappush(queue, (due, seq, other[s], frame))
        if link_down:
            time.sleep(0.01)  # do not spin on a link that is down
    print("wire %s<->%s: %s" % (a.a, a.b, json.dumps(stats)), flush=True)
    return 0


# ------------------------------------------------------------------ main

def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    e = sub.add_parser("echo")
    e.add_argument("--port", type=int, required=True)
    e.add_argument("--log")
    e.add_argument("--timeout", type=float, default=3600)

    k = sub.add_parser("sink")
    k.add_argument("--port", type=int, required=True)
    k.add_argument("--timeout", type=float, default=3600)

    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--conns", type=int, default=200)
    c.add_argument("--parallel", type=int, default=20)
    c.add_argument("--min", type=int, default=1024)
    c.add_argument("--max", type=int, default=16 << 20)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--report")
    c.add_argument("--conn-timeout", type=float, default=120)
    c.add_argument("--timeout", type=float, default=400)

    m = sub.add_parser("limits")
    m.add_argument("--host", required=True)
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--hold", type=int, required=True)
    m.add_argument("--extra", type=int, required=True)
    m.add_argument("--conn-timeout", type=float, default=3)
    m.add_argument("--settle", type=float, default=2)
    m.add_argument("--timeout", type=float, default=300)

    r = sub.add_parser("reset")
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--after", type=int, default=1024)
    r.add_argument("--timeout", type=float, default=3600)

    q = sub.add_parser("probe")
    q.add_argument("--host", required=True)
    q.add_argument("--port", type=int, required=True)
    q.add_argument("--send", type=int, default=4096)
    q.add_argument("--seed", type=int, default=5)
    q.add_argument("--timeout", type=float, default=10)

    b = sub.add_parser("bulk")
    b.add_argument("--host", required=True)
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--bytes", type=int, default=4 << 20)
    b.add_argument("--seed", type=int, default=7)
    b.add_argument("--timeout", type=float, default=120)

    f = sub.add_parser("synflood")
    f.add_argument("--src-net", required=True, help="A.B.C of the /24")
    f.add_argument("--first-host", type=int, default=100)
    f.add_argument("--last-host", type=int, default=250)
    f.add_argument("--dst", required=True)
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--count", type=int, default=20000)
    f.add_argument("--rate", type=float, default=10000)
    f.add_argument("--seed", type=int, default=3)
    f.add_argument("--timeout", type=float, default=120)

    w = sub.add_parser("wire")
    w.add_argument("--a", required=True)
    w.add_argument("--b", required=True)
    w.add_argument("--delay-ms", type=float, default=0)
    w.add_argument("--loss", type=float, default=0)
    w.add_argument("--reorder", type=float, default=0)
    w.add_argument("--dup", type=float, default=0)
    w.add_argument("--seed", type=int, default=11)
    w.add_argument("--timeout", type=float, default=3600)

    a = p.parse_args()
    # every subcommand is bounded, whatever happens to its peers
    signal.signal(signal.SIGALRM, lambda *_: os._exit(124))
    signal.alarm(int(a.timeout) + 30)
    if a.cmd == "echo":
        log = open(a.log, "a") if a.log else None
        serve(a.port, echo_handler(log))
    elif a.cmd == "sink":
        serve(a.port, sink_handler)
    elif a.cmd == "reset":
        serve(a.port, reset_handler(a.after))
    elif a.cmd == "probe":
        return cmd_probe(a)
    elif a.cmd == "client":
        return cmd_client(a)
    elif a.cmd == "limits":
        return cmd_limits(a)
    elif a.cmd == "bulk":
        return cmd_bulk(a)
    elif a.cmd == "synflood":
        return cmd_synflood(a)
    elif a.cmd == "wire":
        return cmd_wire(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
