#!/usr/bin/env python3
"""Apply-to-effect latency probe for tools/bench-apply.sh.

Usage: bench-apply-probe.py --gwctl PATH --socket PATH --host IP --port P
           --authority HOST:PORT --path /probe --reps R
           --file FILE:BACKEND --file FILE:BACKEND

Runs in the client namespace (the control socket is a file, reachable from
any network namespace). One thread sends GET requests back to back on one
keep-alive connection for the whole run and records, for each, when it was
sent, when its response arrived and which backend answered (the body).
The main thread applies the two files in turn, R times (the first file
must already be applied), each time:
  apply_ms   how long `gwctl apply -f FILE` took (start to exit)
  effect_ms  from apply's return to the response of the first request sent
             after it that the new destination answered
  seen_ms    from apply's start to the first response from the new
             destination (the switch may be visible before apply returns)
  stale      requests sent after apply returned that the old destination
             answered (the gateway promises none)
and prints one "rep ..." line per apply, then "summary NAME p50 X max Y"
lines, "rtt_us p50 X" (the poller's round trip) and "polls N".
"""
import argparse
import http.client
import statistics
import subprocess
import sys
import threading
import time

EVENTS = []          # (t_send, t_recv, body), appended by the poller only
STOP = threading.Event()
ERRORS = []


def poller(a):
    conn = http.client.HTTPConnection(a.host, a.port, timeout=10)
    hdrs = {"Host": a.authority}
    while not STOP.is_set():
        t0 = time.monotonic()
        try:
            conn.request("GET", a.path, headers=hdrs)
            r = conn.getresponse()
            body = r.read().decode(errors="replace").strip()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            ERRORS.append("%.6f %r" % (t0, e))
            conn.close()
            conn = http.client.HTTPConnection(a.host, a.port, timeout=10)
            continue
        t1 = time.monotonic()
        if status != 200:
            ERRORS.append("%.6f status %d" % (t0, status))
        EVENTS.append((t0, t1, body))


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gwctl", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--authority", required=True)
    ap.add_argument("--path", default="/probe")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds to wait for the new destination")
    ap.add_argument("--file", action="append", required=True,
                    help="FILE:BACKEND, twice")
    a = ap.parse_args()
    if len(a.file) != 2:
        ap.error("--file twice")
    files = [f.rsplit(":", 1) for f in a.file]

    th = threading.Thread(target=poller, args=(a,), daemon=True)
    th.start()
    deadline = time.monotonic() + 5
    while not EVENTS:
        if time.monotonic() > deadline or not th.is_alive():
            print("error: the poller got no response: %s" % ERRORS[-1:], flush=True)
            return 1
        time.sleep(0.01)
    if EVENTS[-1][2] != files[0][1]:
        print("error: before the first apply %s answers, not %s"
              % (EVENTS[-1][2], files[0][1]), flush=True)
        return 1

    res = {"apply_ms": [], "effect_ms": [], "seen_ms": []}
    stale_total = 0
    rc = 0
    for rep in range(1, a.reps + 1):
        path, want = files[rep % 2]
        old = files[(rep + 1) % 2][1]
        time.sleep(0.05)      # a few polls on the old rules first
        n_before = len(EVENTS)
        t0 = time.monotonic()
        p = subprocess.run([a.gwctl, "-s", a.socket, "apply", "-f", path],
                           capture_output=True, text=True)
        t1 = time.monotonic()
        if p.returncode != 0 or "configured" not in p.stdout:
            print("error: rep %d: gwctl apply -f %s exited %d: %s%s"
                  % (rep, path, p.returncode, p.stdout, p.stderr), flush=True)
            return 1
        first = None
        end = t1 + a.timeout
        i = n_before
        while first is None and time.monotonic() < end:
            while i < len(EVENTS):
                ev = EVENTS[i]
                i += 1
                if ev[0] >= t1 and ev[2] == want:
                    first = ev
                    break
            if first is None:
                time.sleep(0.0005)
        if first is None:
            print("error: rep %d: no answer from %s within %.0f s of apply's "
                  "return" % (rep, want, a.timeout), flush=True)
            rc = 1
            continue
        evs = [ev for ev in EVENTS[n_before:] if ev[0] <= first[0]]
        seen = min(ev[1] for ev in evs if ev[2] == want)
        stale = sum(1 for ev in evs if ev[0] >= t1 and ev[2] == old)
        stale_total += stale
        res["apply_ms"].append((t1 - t0) * 1e3)
        res["effect_ms"].append((first[1] - t1) * 1e3)
        res["seen_ms"].append((seen - t0) * 1e3)
        print("rep %d to %s apply_ms %.2f effect_ms %.3f seen_ms %.2f stale %d"
              % (rep, want, (t1 - t0) * 1e3, (first[1] - t1) * 1e3,
                 (seen - t0) * 1e3, stale), flush=True)
    STOP.set()
    th.join(timeout=11)
    for k, v in res.items():
        if v:
            print("summary %s p50 %.3f max %.3f" % (k, statistics.median(v), max(v)))
    print("summary stale total %d" % stale_total)
    rtts = [(e[1] - e[0]) * 1e6 for e in EVENTS]
    print("rtt_us p50 %.0f p99 %.0f" % (pct(rtts, 50), pct(rtts, 99)))
    print("polls %d errors %d" % (len(EVENTS), len(ERRORS)))
    for e in ERRORS[:5]:
        print("poll error %s" % e)
    return 1 if ERRORS or stale_total else rc


if __name__ == "__main__":
    sys.exit(main())
