#!/usr/bin/env bash
# tools/bench-l4.sh: the L4 proxy against HAProxy (mode tcp) and nginx
# (stream), in one run, on the demo topology (docs/demo.md):
#
#   gw-client --veth-- [ proxy ] --veth-- gw-httpbin-v1 (servers)
#
# where [ proxy ] is, in turn, gatewayd (DPDK, AF_XDP on the root-side veth
# ends, tests/system/configs/l4-af_xdp.yaml), then HAProxy, then nginx, each
# in namespace gw-peer that holds the same two veth ends with the gateway's
# addresses (10.10.1.1, 10.10.2.1). The client and the servers do not change.
#
# Measured through each, on the same port numbers:
#   bulk up     iperf3 -c 10.10.1.1 -p 9100 -t D      (client -> server)
#   bulk down   iperf3 ... -R                        (server -> client)
#   conn/s      l4-cps -c C -t D: new connections per second, each reading
#               one byte that nginx (stream `return`) writes before closing
#
# gatewayd's worker runs on CPU 1; HAProxy (one thread) and nginx (one
# worker) are pinned to CPU 1 too, so that each proxy has one core.
# Prints a table with the ratios gatewayd/HAProxy and gatewayd/nginx and
# writes the figures as CSV to build/bench/l4-DATE.csv.
#
# Usage: tools/bench-l4.sh [--duration S] [--concurrency C] [--out DIR] [--help]
#   --duration S     seconds per measurement (10)
#   --concurrency C  connections in flight for conn/s (32)
#   --out DIR        where the CSV goes (build/bench)
# Environment: GW_BUILD (build directory, default build/), GW_BENCH_CONFIG
# (gatewayd bootstrap). Needs root, iperf3, haproxy, nginx with its stream
# module (tools/setup.sh installs them) and no other demo topology.
set -euo pipefail

PROG=bench-l4.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROXY_CPU=1
# shellcheck source=tools/bench/lib.sh
. "$ROOT/tools/bench/lib.sh"
BUILD=${GW_BUILD:-$ROOT/build}
GATEWAYD=$BUILD/app/gatewayd
CPS=$BUILD/tools/bench/l4-cps
CONFIG=${GW_BENCH_CONFIG:-tests/system/configs/l4-af_xdp.yaml}
NGINX_STREAM=/usr/lib/nginx/modules/ngx_stream_module.so
BACKEND=gw-httpbin-v1
DURATION=10
CONC=32
OUTDIR=$ROOT/build/bench

bench_parse_args "--duration=DURATION --concurrency=CONC --out=OUTDIR" "$@"
bench_check_int --duration "$DURATION" 1 300 seconds
bench_check_int --concurrency "$CONC" 1 4096

bench_need_root
cd "$ROOT"
bench_need_built "$GATEWAYD" "$CPS"
bench_need_cmds iperf3 haproxy nginx taskset ethtool
[ -r "$NGINX_STREAM" ] || die "nginx's stream module missing (libnginx-mod-stream): run tools/setup.sh"
bench_check_out_dir "$OUTDIR"
bench_begin bench-l4

# ------------------------------------------------------------- topology
bench_topology_up

# Servers in the backend namespace: iperf3, and nginx writing one byte.
bg iperf3-server ip netns exec "$BACKEND" iperf3 -s -p 7100
cat >"$TMP/nginx-backend.conf" <<EOF
load_module $NGINX_STREAM;
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $TMP/nginx-backend.pid;
error_log $TMP/nginx-backend.err warn;
events { worker_connections 8000; }
stream { server { listen 7500 backlog=4096; return "x"; } }
EOF
bg nginx-backend ip netns exec "$BACKEND" nginx -c "$TMP/nginx-backend.conf"
wait_for 10 listening "$BACKEND" 7100 || die "iperf3 -s did not start"
wait_for 10 listening "$BACKEND" 7500 || die "the backend nginx did not start: $(cat "$TMP/nginx-backend.log")"

# ------------------------------------------------------------ measuring
CSV_ROWS=()
declare -A UP DOWN RATE FAILS

iperf_mbps() {
	"$PY" -c 'import json, sys
d = json.load(sys.stdin)
if "error" in d:
    sys.exit("iperf3: " + d["error"])
print("%.0f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# iperf NAME ARGS...: Mbit/s of one iperf3 run through 10.10.1.1:9100; a
# failed run (iperf3 sometimes loses its control connection) is retried
# twice, a second apart.
iperf() {
	local name=$1 try out; shift
	for try in 1 2 3; do
		if out=$(timeout $((DURATION + 30)) ip netns exec "$CLIENT" \
			iperf3 -c "$GW_IP" -p 9100 -t "$DURATION" -J "$@" | iperf_mbps); then
			printf '%s\n' "$out"
			return 0
		fi
		log "$name: iperf3 $* failed (try $try of 3)"
		sleep 1
	done
	return 1
}

# measure NAME: the three figures through whatever listens on 10.10.1.1.
measure() {
	local name=$1 out
	log "$name: bulk up ($DURATION s)"
	UP[$name]=$(iperf "$name") || die "$name: iperf3 (up) failed"
	sleep 1
	log "$name: bulk down ($DURATION s)"
	DOWN[$name]=$(iperf "$name" -R) || die "$name: iperf3 (down) failed"
	sleep 1
	log "$name: new connections per second ($DURATION s, $CONC at a time)"
	out=$(timeout $((DURATION + 30)) ip netns exec "$CLIENT" \
		"$CPS" -H "$GW_IP" -p 9500 -c "$CONC" -t "$DURATION") ||
		die "$name: l4-cps failed"
	# "connections N, failures F, seconds S, per second R (reset ...)"
	RATE[$name]=$(awk -F'[ ,]+' '{ print $9 }' <<<"$out")
	FAILS[$name]=$(awk -F'[ ,]+' '{ print $4 }' <<<"$out")
	log "$name: l4-cps: $out"
	log "$name: up ${UP[$name]} Mbit/s, down ${DOWN[$name]} Mbit/s, ${RATE[$name]} conn/s (${FAILS[$name]} failures)"
	CSV_ROWS+=("$name,${UP[$name]},${DOWN[$name]},${RATE[$name]},${FAILS[$name]}")
}

# ------------------------------------------------------------- gatewayd
gw_start "$GATEWAYD" "$CONFIG"
measure gatewayd
gw_stats >"$TMP/gatewayd-stats.txt" || true
COPIED=$(awk '$1 == "gateway.tcp.copied_bytes" { print $2 }' "$TMP/gatewayd-stats.txt")
SESSIONS=$(awk '$1 == "gateway.l4.sessions" { print $2 }' "$TMP/gatewayd-stats.txt")
gw_stop

# --------------------------------------------- the kernel's proxies
# shellcheck disable=SC2119 # no --vip: the L4 proxies listen on 10.10.1.1
bench_peer_ns

cat >"$TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen bulk
    bind $GW_IP:9100
    server v1 10.10.2.11:7100
listen cps
    bind $GW_IP:9500 backlog 4096
    server v1 10.10.2.11:7500
EOF
bg haproxy ip netns exec "$PEER" taskset -c "$PROXY_CPU" haproxy -db -f "$TMP/haproxy.cfg"
wait_for 10 listening "$PEER" 9500 || die "haproxy did not start: $(cat "$TMP/haproxy.log")"
measure haproxy
stop_last
wait_for 10 sh -c "! ip netns exec $PEER ss -Hltn 'sport = :9500' | grep -q ." ||
	die "haproxy did not stop"

cat >"$TMP/nginx.conf" <<EOF
load_module $NGINX_STREAM;
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $TMP/nginx.pid;
error_log $TMP/nginx.err warn;
events { worker_connections 8000; }
stream {
    server { listen $GW_IP:9100; proxy_pass 10.10.2.11:7100; }
    server { listen $GW_IP:9500 backlog=4096; proxy_pass 10.10.2.11:7500; }
}
EOF
bg nginx ip netns exec "$PEER" taskset -c "$PROXY_CPU" nginx -c "$TMP/nginx.conf"
wait_for 10 listening "$PEER" 9500 || die "nginx did not start: $(cat "$TMP/nginx.log")"
measure nginx
stop_last

# --------------------------------------------------------------- report
STAMP=$(date -u +%Y%m%d-%H%M%S)
CSV=$OUTDIR/l4-$STAMP.csv
{
	echo "proxy,bulk_up_mbit_s,bulk_down_mbit_s,connections_per_s,connection_failures"
	printf '%s\n' "${CSV_ROWS[@]}"
} >"$CSV"

printf '\nL4 proxy benchmark, %s, %s s per figure, %s connections in flight for conn/s\n' \
	"$(date -u +%Y-%m-%d)" "$DURATION" "$CONC"
printf 'machine: %s\n\n' "$(machine_line)"
printf '| %-9s | %14s | %16s | %10s | %8s |\n' proxy "bulk up Mbit/s" "bulk down Mbit/s" "conn/s" failures
printf '|%s|%s|%s|%s|%s|\n' ----------- ---------------- ------------------ ------------ ----------
for p in gatewayd haproxy nginx; do
	printf '| %-9s | %14s | %16s | %10s | %8s |\n' "$p" "${UP[$p]}" "${DOWN[$p]}" "${RATE[$p]}" "${FAILS[$p]}"
done
printf '\n| ratio              | bulk up | bulk down | conn/s |\n|--------------------|--------:|----------:|-------:|\n'
for p in haproxy nginx; do
	printf '| gatewayd / %-7s | %7s | %9s | %6s |\n' "$p" \
		"$(ratio "${UP[gatewayd]}" "${UP[$p]}")" \
		"$(ratio "${DOWN[gatewayd]}" "${DOWN[$p]}")" \
		"$(ratio "${RATE[gatewayd]}" "${RATE[$p]}")"
done
printf '\ngatewayd: %s sessions, tcp.copied_bytes %s\nCSV: %s\n' \
	"${SESSIONS:-?}" "${COPIED:-?}" "$CSV"
