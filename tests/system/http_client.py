#!/usr/bin/env python3
"""Keep-alive HTTP client for the HTTP proxy tests.

Usage: http_client.py --host IP --port P --authority HOST[:PORT] --count N
                      [--path /] [--header "name: value"]...
                      [--alternate "name: value"]

Sends N GET requests on ONE connection (fails if the connection is not
kept alive), with --header on every request and --alternate on every
other one (requests 0, 2, 4, ...). Prints one line per distinct
(alternated, body) pair: "<alt|plain> <count> <body>", then
"connections 1" (the number of TCP connections used) and "statuses ...".
"""
import argparse
import collections
import http.client
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--authority", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--path", default="/")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--alternate")
    a = ap.parse_args()
    conn = http.client.HTTPConnection(a.host, a.port, timeout=10)
    conn.connect()
    sock = conn.sock
    counts = collections.Counter()
    statuses = collections.Counter()
    connections = 1
    for i in range(a.count):
        hdrs = {"Host": a.authority}
        for h in a.header:
            k, v = h.split(":", 1)
            hdrs[k.strip()] = v.strip()
        alt = a.alternate is not None and i % 2 == 0
        if alt:
            k, v = a.alternate.split(":", 1)
            hdrs[k.strip()] = v.strip()
        conn.request("GET", a.path, headers=hdrs)
        r = conn.getresponse()
        body = r.read().decode(errors="replace").strip()
        statuses[r.status] += 1
        counts[("alt" if alt else "plain", body)] += 1
        if conn.sock is not sock:
            connections += 1
            sock = conn.sock
        if conn.sock is None:  # closed by the server: reconnect
            conn.connect()
            sock = conn.sock
            connections += 1
    for (kind, body), n in sorted(counts.items()):
        print("%s %d %s" % (kind, n, body))
    print("connections %d" % connections)
    print("statuses " + " ".join("%d:%d" % kv for kv in sorted(statuses.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
