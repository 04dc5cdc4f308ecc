#!/usr/bin/env bash
# tools/bench-http.sh: the HTTP proxy against nginx and HAProxy, and an L2
# forwarder as the I/O ceiling, in one run, on the demo topology
# (docs/demo.md):
#
#   gw-client --veth-- [ proxy ] --veth-- br0 -- gw-httpbin-v1 (reviews v1)
#                                             -- gw-httpbin-v2 (reviews v2)
#
# Routing, the same for the three proxies: requests to reviews:9080 (VIP
# 10.96.0.20) with `end-user: jason` go to v2, the others are split 80/20
# between v1 and v2; connections to the backends are kept alive.
#   gatewayd  AF_XDP on the root-side veth ends, one worker,
#             tools/bench/http-af_xdp.yaml with the Istio rules of
#             tools/bench/http-reviews.yaml
#   nginx     one worker: `map $http_end_user` + `split_clients`,
#             proxy_pass to upstreams with `keepalive`
#   haproxy   one thread: `use_backend` on hdr(end-user), weighted servers,
#             `http-reuse always`
#   ceiling   dpdk-testpmd --forward-mode=io on the same two veth ends
#             (net_af_xdp), no proxy: the client gets a second address,
#             10.10.2.100/24, and talks to reviews v1 (10.10.2.11) directly,
#             frames forwarded unchanged between gw-down and gw-up
# nginx and HAProxy run in a namespace gw-peer that takes over the two veth
# ends with the gateway's addresses and the VIP. nginx and HAProxy add the
# headers the gateway adds (x-forwarded-for, x-forwarded-proto,
# x-request-id).
#
# Backends: nginx (one worker each) answering `reviews-vN` from memory on
# port 9080 in gw-httpbin-v1 and gw-httpbin-v2. Load, from gw-client, for
# each target: wrk -t1 -cC -dD --latency, keep-alive, then with
# `Connection: close` (a new connection per request); one request in 5
# carries `end-user: jason` (tools/bench/http-load.lua).
#
# CPUs (2): the proxy (gatewayd's worker lcore, nginx's worker, HAProxy,
# testpmd's forwarding lcore) on CPU 1; wrk, the backends and gatewayd's
# control lcore on CPU 0. Proxy CPU is utime+stime of the proxy's
# processes over the load, in % of one CPU and in microseconds per
# request (a poll-mode worker counts its empty polls too); "CPU0 busy" and
# "CPU1 busy" are the CPUs' non-idle time from /proc/stat over the load,
# whoever used it (softirqs included); "other CPU" is the user and system
# time of every other process on the machine (builds, other tests), in %
# of one CPU: figures with much of it are disturbed.
#
# Prints a table (requests/s, p50/p99 latency, errors, proxy CPU, bytes the
# gateway copied per request: gateway.http.copied_bytes +
# gateway.http.parser_copied_bytes + gateway.tcp.copied_bytes over
# gateway.http.requests, CPU busy) with the ratios gatewayd/nginx,
# gatewayd/HAProxy and gatewayd/ceiling, and writes the figures as CSV to
# build/bench/http-DATE.csv. The log (stderr) has each counter's delta
# and the gateway's CPU time per thread.
#
# Usage: tools/bench-http.sh [--duration S] [--connections C] [--repeat R]
#                            [--out DIR] [--help]
#   --duration S     seconds per load (10)
#   --connections C  wrk connections (32)
#   --repeat R       runs of each load (2); the table shows the run with
#                    the least "other CPU", the CSV every run
#   --out DIR        where the CSV goes (build/bench)
# Environment: GW_BUILD (build directory, default build/), GW_BENCH_CONFIG
# (gatewayd bootstrap). Needs root, wrk, nginx, haproxy, dpdk-testpmd
# (tools/setup.sh installs them) and no other demo topology. About 4
# minutes with the defaults (5.5 with --repeat 3), waiting for the
# topology lock aside.
set -euo pipefail

PROG=bench-http.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${GW_BUILD:-$ROOT/build}
GATEWAYD=$BUILD/app/gatewayd
CONFIG=${GW_BENCH_CONFIG:-tools/bench/http-af_xdp.yaml}
LUA=$ROOT/tools/bench/http-load.lua
CHECK=$ROOT/tests/system/http_client.py
PY=/usr/bin/python3
HUGE_ENV=/run/gatewayd/hugepages.env
ADMIN=http://127.0.0.1:15000
CLIENT=gw-client
PEER=gw-peer
GW_IP=10.10.1.1
VIP=10.96.0.20
PORT=9080
AUTHORITY=reviews:$PORT
V1_IP=10.10.2.11
V2_IP=10.10.2.12
CEIL_CLIENT_IP=10.10.2.100  # the client's address in the backends' subnet
PROXY_CPU=1
LOAD_CPU=0
DURATION=10
CONNS=32
REPEAT=2
OUTDIR=$ROOT/build/bench

log()  { printf '%s: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=${2:?}; shift ;;
	--connections) CONNS=${2:?}; shift ;;
	--repeat) REPEAT=${2:?}; shift ;;
	--out) OUTDIR=${2:?}; shift ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
	shift
done
if ! [[ $DURATION =~ ^[0-9]+$ ]] || [ "$DURATION" -lt 1 ] || [ "$DURATION" -gt 120 ]; then
	die "--duration must be 1..120"
fi
if ! [[ $REPEAT =~ ^[0-9]+$ ]] || [ "$REPEAT" -lt 1 ] || [ "$REPEAT" -gt 5 ]; then
	die "--repeat must be 1..5"
fi
if ! [[ $CONNS =~ ^[0-9]+$ ]] || [ "$CONNS" -lt 1 ] || [ "$CONNS" -gt 1000 ]; then
	die "--connections must be 1..1000"
fi

[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, DPDK)"
cd "$ROOT"
[ -x "$GATEWAYD" ] || die "$GATEWAYD missing: run tools/setup.sh (or ninja -C $BUILD)"
for f in "$LUA" "$CHECK" "$CONFIG"; do
	[ -r "$f" ] || die "$f missing"
done
for cmd in wrk haproxy nginx dpdk-testpmd taskset ethtool curl; do
	command -v "$cmd" >/dev/null || die "$cmd missing: run tools/setup.sh"
done
# shellcheck source=tools/topology-lock.sh
. "$ROOT/tools/topology-lock.sh"
gw_topology_lock || die "the demo topology stays busy"
if ip netns list 2>/dev/null | grep -q '^gw-'; then
	die "a gw-* topology exists (another test or demo?); tools/demo.sh down first"
fi
if pgrep -x gatewayd >/dev/null; then
	die "gatewayd is running (pid $(pgrep -x gatewayd | tr '\n' ' ')); stop it first"
fi

TMP=$(mktemp -d /tmp/bench-http.XXXXXX)
PIDS=()
GW_PID=
TP_PID=

cleanup() {
	local rc=$? p
	set +e
	[ -z "$GW_PID" ] || { kill -TERM "$GW_PID" 2>/dev/null; wait "$GW_PID" 2>/dev/null; }
	[ -z "$TP_PID" ] || { kill -TERM "$TP_PID" 2>/dev/null; wait "$TP_PID" 2>/dev/null; }
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	"$ROOT/tools/demo.sh" down >"$TMP/demo-down.log" 2>&1 ||
		log "tools/demo.sh down failed: $(tail -n 3 "$TMP/demo-down.log")"
	if [ "$rc" -eq 0 ]; then rm -rf "$TMP"; else log "logs kept in $TMP"; fi
	gw_topology_unlock
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for SECONDS CMD...: poll CMD every 0.2 s; 1 when the time runs out.
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .; }

# bg NAME CMD...: run CMD in the background, output in $TMP/NAME.log.
bg() {
	local name=$1; shift
	"$@" >"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
}

# stop_last: stop the last process bg started.
stop_last() {
	kill -TERM "${PIDS[-1]}" 2>/dev/null || true
	wait "${PIDS[-1]}" 2>/dev/null || true
	unset 'PIDS[-1]'
}

# ------------------------------------------------------------- topology
LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)
log "topology: tools/demo.sh up"
timeout 90 tools/demo.sh up >"$TMP/demo-up.log" 2>&1 ||
	die "tools/demo.sh up failed: $(tail -n 5 "$TMP/demo-up.log")"
ip netns exec "$CLIENT" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"

# Backends: nginx answering from memory on :9080, pinned with the client.
for v in v1 v2; do
	cat >"$TMP/nginx-$v.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $TMP/nginx-$v.pid;
error_log $TMP/nginx-$v.err warn;
events { worker_connections 8000; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen $PORT backlog=4096;
        default_type text/plain;
        location / { return 200 "reviews-$v\n"; }
    }
}
EOF
	bg "nginx-$v" ip netns exec "gw-httpbin-$v" taskset -c "$LOAD_CPU" nginx -c "$TMP/nginx-$v.conf"
	wait_for 10 listening "gw-httpbin-$v" "$PORT" ||
		die "the $v backend (nginx) did not start: $(cat "$TMP/nginx-$v.log" "$TMP/nginx-$v.err")"
done

# ------------------------------------------------------------ measuring
CSV_ROWS=()
declare -A RPS P50 P99 ERRS CPU USREQ COPY SPLIT LOADBUSY PROXYBUSY OTHER KEPT

# cpu_ticks PID...: utime + stime of the processes, in clock ticks.
cpu_ticks() {
	local p t=0 f
	for p in "$@"; do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		# fields after "(comm)": state is 1, utime 12, stime 13
		t=$((t + $(awk '{ print $12 + $13 }' <<<"$f")))
	done
	printf '%s\n' "$t"
}

# ours_ticks: CPU ticks of the backends and of ksoftirqd (network work).
ours_ticks() {
	# shellcheck disable=SC2046 # one pid per word
	cpu_ticks $(ip netns pids gw-httpbin-v1) $(ip netns pids gw-httpbin-v2) $(pgrep '^ksoftirqd/')
}

# thread_ticks PID: "comm=ticks" for each thread of PID (utime + stime).
thread_ticks() {
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s=%s ' "$(tr ' ' _ <"$t/comm")" \
			"$(cut -d')' -f2- "$t/stat" | awk '{ print $12 + $13 }')"
	done 2>/dev/null
	echo
}

# cpu_split: "cpuN user+nice system irq+softirq steal" jiffies since boot, per CPU.
cpu_split() {
	awk '$1 ~ /^cpu[0-9]/ { print $1, $2 + $3, $4, $7 + $8, $9 }' /proc/stat
}

# cpu_busy CPU: busy and total jiffies of CPU since boot ("busy total").
cpu_busy() {
	awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}

# gw_stats: the gateway's counters as "name value" lines.
gw_stats() { curl -sf -m 3 "$ADMIN/stats"; }
stat_of() { awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$2"; }

# route_check NAME HOST PORT: 200 requests on one connection, every other
# one with end-user: jason; jason's must all reach v2, the others split
# about 80/20. Records "v1/v2" of the others in SPLIT[NAME].
route_check() {
	local name=$1 out v1 v2 alt
	out=$(timeout 30 ip netns exec "$CLIENT" "$PY" "$CHECK" --host "$2" --port "$3" \
		--authority "$AUTHORITY" --path /reviews/1 --count 200 \
		--alternate 'end-user: jason' 2>&1) || die "$name: routing check failed: $out"
	alt=$(awk '$1 == "alt" && $3 == "reviews-v2" { print $2 }' <<<"$out")
	v1=$(awk '$1 == "plain" && $3 == "reviews-v1" { print $2 }' <<<"$out")
	v2=$(awk '$1 == "plain" && $3 == "reviews-v2" { print $2 }' <<<"$out")
	[ "${alt:-0}" = 100 ] || die "$name: end-user: jason did not always reach v2: $out"
	if [ $(( ${v1:-0} + ${v2:-0} )) != 100 ] || [ "${v1:-0}" -lt 65 ] || [ "${v1:-0}" -gt 95 ]; then
		die "$name: the others were not split about 80/20: $out"
	fi
	SPLIT[$name]=${v1}/${v2}
	log "$name: routing ok (jason 100/100 to v2, others v1/v2 ${SPLIT[$name]})"
}

# load NAME MODE RUN URL PID...: one wrk run from the client against URL,
# the CPU time of PID... over it; fills the arrays under key
# NAME/MODE/RUN and adds a CSV row.
load() {
	local name=$1 mode=$2 run=$3 url=$4 key=$1/$2/$3 out line t0 t1 c0 c1 host=$AUTHORITY
	shift 4
	[ "$name" != ceiling ] || host=$V1_IP:$PORT
	if [ "$name" = gatewayd ]; then
		gw_stats >"$TMP/stats-before" || die "gatewayd: /stats failed"
		log "$name/$mode: threads' CPU ticks before: $(thread_ticks "$1")"
	fi
	log "$name: wrk $mode, $CONNS connections, $DURATION s (run $run of $REPEAT)"
	local b0 b1 o0 o1 wrk_ticks
	b0="$(cpu_busy "$LOAD_CPU") $(cpu_busy "$PROXY_CPU")"
	cpu_split >"$TMP/cpu-before"
	c0=$(cpu_ticks "$@"); t0=$(date +%s%N)
	o0=$(ours_ticks)
	# what else runs meanwhile: shown when other processes take much CPU
	top -b -d 2 -n $((DURATION / 2 + 1)) -w 160 >"$TMP/top-$name-$mode-$run.log" 2>&1 &
	local top_pid=$!
	# `times` after wrk: its user and system time (the subshell's children)
	out=$(timeout $((DURATION + 30)) ip netns exec "$CLIENT" taskset -c "$LOAD_CPU" \
		wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$LUA" "$url" \
		-- "$mode" "$host" 2>&1; rc=$?; times; exit $rc) || die "$name: wrk failed: $out"
	t1=$(date +%s%N); c1=$(cpu_ticks "$@")
	o1=$(ours_ticks)
	wrk_ticks=$("$PY" -c 'import os, re, sys
t = re.findall(r"(\d+)m([\d.]+)s", sys.argv[1].strip().splitlines()[-1])
print(round(sum(int(m) * 60 + float(x) for m, x in t) * os.sysconf("SC_CLK_TCK")))' "$out")
	b1="$(cpu_busy "$LOAD_CPU") $(cpu_busy "$PROXY_CPU")"
	cpu_split >"$TMP/cpu-after"
	kill "$top_pid" 2>/dev/null || true
	wait "$top_pid" 2>/dev/null || true
	# CPU time of every other process (builds, other tests): all user and
	# system time minus the proxy's, the backends', wrk's and ksoftirqd's
	OTHER[$key]=$(join "$TMP/cpu-before" "$TMP/cpu-after" | awk -v ours=$((c1 - c0 + o1 - o0 + wrk_ticks)) \
		-v ns=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
		{ t += $6 + $7 - $2 - $3 } END { o = (t - ours) / hz / (ns / 1e9) * 100; printf "%.0f\n", o < 0 ? 0 : o }')
	log "$name/$mode: jiffies over the load (user system softirq steal): $(join "$TMP/cpu-before" "$TMP/cpu-after" |
		awk '{ printf "%s %d %d %d %d; ", $1, $6 - $2, $7 - $3, $8 - $4, $9 - $5 }')"
	# shellcheck disable=SC2086 # numbers
	read -r LOADBUSY[$key] PROXYBUSY[$key] < <("$PY" -c 'import sys
a = list(map(int, sys.argv[1:5])); b = list(map(int, sys.argv[5:9]))
print("%.0f %.0f" % (100.0 * (b[0] - a[0]) / (b[1] - a[1]), 100.0 * (b[2] - a[2]) / (b[3] - a[3])))' $b0 $b1)
	printf '%s\n' "$out" >"$TMP/wrk-$name-$mode.log"
	line=$(grep '^BENCH ' <<<"$out") || die "$name: no summary from wrk: $out"
	local requests duration_us p50_us p99_us connect read write status timeout
	# "BENCH requests=N ...": digits only, set as the locals above
	eval "$(sed 's/^BENCH //; s/\([a-z0-9_]*\)=\([0-9]*\)/\1=\2;/g' <<<"$line")"
	RPS[$key]=$("$PY" -c 'import sys; print("%.0f" % (int(sys.argv[1]) / (int(sys.argv[2]) / 1e6)))' "$requests" "$duration_us")
	P50[$key]=$("$PY" -c 'import sys; print("%.2f" % (int(sys.argv[1]) / 1000))' "$p50_us")
	P99[$key]=$("$PY" -c 'import sys; print("%.2f" % (int(sys.argv[1]) / 1000))' "$p99_us")
	ERRS[$key]=$((connect + read + write + status + timeout))
	CPU[$key]=$("$PY" -c 'import os, sys
ticks, ns = int(sys.argv[1]), int(sys.argv[2])
print("%.0f" % (100.0 * ticks / os.sysconf("SC_CLK_TCK") / (ns / 1e9)))' $((c1 - c0)) $((t1 - t0)))
	USREQ[$key]=$("$PY" -c 'import os, sys
ticks, n = int(sys.argv[1]), int(sys.argv[2])
print("%.1f" % (1e6 * ticks / os.sysconf("SC_CLK_TCK") / n) if n else "-")' $((c1 - c0)) "$requests")
	COPY[$key]=-
	if [ "$name" = gatewayd ]; then
		gw_stats >"$TMP/stats-after" || die "gatewayd: /stats failed"
		log "$name/$mode: threads' CPU ticks after: $(thread_ticks "$1")"
		local f rq copied=0 d
		rq=$(( $(stat_of gateway.http.requests "$TMP/stats-after") -
		       $(stat_of gateway.http.requests "$TMP/stats-before") ))
		for f in gateway.http.copied_bytes gateway.http.parser_copied_bytes gateway.tcp.copied_bytes; do
			d=$(( $(stat_of "$f" "$TMP/stats-after") - $(stat_of "$f" "$TMP/stats-before") ))
			copied=$((copied + d))
			log "$name/$mode: $f +$d"
		done
		log "$name/$mode: gateway.http.requests +$rq, gateway.idle_sleeps +$(( $(stat_of gateway.idle_sleeps "$TMP/stats-after") - $(stat_of gateway.idle_sleeps "$TMP/stats-before") ))"
		COPY[$key]=$("$PY" -c 'import sys; a, b = map(int, sys.argv[1:]); print("%.0f" % (a / b) if b else "-")' "$copied" "$rq")
	fi
	if [ "${OTHER[$key]}" -ge 20 ]; then
		log "$name/$mode: other processes took ${OTHER[$key]}% of a CPU; busiest seen by top:"
		awk '$1 ~ /^[0-9]+$/ && $9 + 0 >= 10 { print "    " $0 }' "$TMP/top-$name-$mode-$run.log" |
			sort -k9,9nr | head -n 12 >&2
	fi
	log "$name/$mode: ${RPS[$key]} requests/s, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms, ${ERRS[$key]} errors (connect $connect read $read write $write status $status timeout $timeout), CPU ${CPU[$key]}% (${USREQ[$key]} us/request; CPU $LOAD_CPU busy ${LOADBUSY[$key]}%, CPU $PROXY_CPU ${PROXYBUSY[$key]}%, other processes ${OTHER[$key]}%, wrk $wrk_ticks ticks), copied ${COPY[$key]} B/request"
	CSV_ROWS+=("$name,$mode,$run,${RPS[$key]},${P50[$key]},${P99[$key]},${ERRS[$key]},${CPU[$key]},${USREQ[$key]},${COPY[$key]},${LOADBUSY[$key]},${PROXYBUSY[$key]},${OTHER[$key]},${SPLIT[$name]:-}")
	sleep 1
}

# copy_cell ARRAY DST SRC: ARRAY[DST]=ARRAY[SRC].
copy_cell() {
	local -n arr=$1
	arr[$2]=${arr[$3]}
}

# measure NAME URL PID...: both loads, REPEAT runs each; the figures of
# the run least disturbed by other processes (lowest "other CPU") go under
# NAME/MODE, the first of equals.
measure() {
	local name=$1 url=$2 mode r best a; shift 2
	for mode in keepalive close; do
		best=1
		for ((r = 1; r <= REPEAT; r++)); do
			load "$name" "$mode" "$r" "$url" "$@"
			[ "${OTHER[$name/$mode/$r]}" -ge "${OTHER[$name/$mode/$best]}" ] || best=$r
		done
		for a in RPS P50 P99 ERRS CPU USREQ COPY LOADBUSY PROXYBUSY OTHER; do
			copy_cell "$a" "$name/$mode" "$name/$mode/$best"
		done
		KEPT[$name/$mode]=$best
	done
}

huge_extra=()
if [ -r "$HUGE_ENV" ] && grep -qx 'GW_NO_HUGE=1' "$HUGE_ENV"; then
	huge_extra=(--no-huge -m 1024)
fi

# ------------------------------------------------------------- gatewayd
extra=()
[ ${#huge_extra[@]} -eq 0 ] || extra=(--eal-extra "${huge_extra[*]}")
log "gatewayd: $GATEWAYD -c $CONFIG ${extra[*]}"
stdbuf -oL -eL "$GATEWAYD" -c "$CONFIG" "${extra[@]}" >"$TMP/gatewayd.log" 2>&1 &
GW_PID=$!
gw_ready() {
	grep -q '^gatewayd ready:' "$TMP/gatewayd.log" &&
		[ "$(curl -sf -m 2 "$ADMIN/ready")" = LIVE ]
}
wait_for 60 gw_ready || die "gatewayd did not get ready: $(tail -n 20 "$TMP/gatewayd.log")"
route_check gatewayd "$VIP" "$PORT"
measure gatewayd "http://$VIP:$PORT/reviews/1" "$GW_PID"
gw_stats >"$TMP/gatewayd-stats.txt" || true
kill -TERM "$GW_PID"
rc=0
timeout 20 tail --pid="$GW_PID" -f /dev/null || rc=$?
wait "$GW_PID" || rc=$?
GW_PID=
[ "$rc" -eq 0 ] || die "gatewayd did not stop cleanly (status $rc)"

# -------------------------------------------------------------- ceiling
# L2 forwarding needs the client and the backend in one subnet: the client
# gets 10.10.2.100/24 besides 10.10.1.2/24, and resolves 10.10.2.11 by ARP
# through the forwarder and the bridge.
log "ceiling: dpdk-testpmd --forward-mode=io between gw-down and gw-up"
ip -n "$CLIENT" addr add "$CEIL_CLIENT_IP/24" dev eth0
stdbuf -oL -eL dpdk-testpmd -l "$LOAD_CPU,$PROXY_CPU" --no-pci --file-prefix=bench-testpmd \
	"${huge_extra[@]}" --vdev net_af_xdp0,iface=gw-down --vdev net_af_xdp1,iface=gw-up \
	-- --forward-mode=io --nb-cores=1 --stats-period 60 </dev/null >"$TMP/testpmd.log" 2>&1 &
TP_PID=$!
ceiling_up() {
	kill -0 "$TP_PID" && [ "$(ip netns exec "$CLIENT" curl -s -m 1 \
		"http://$V1_IP:$PORT/reviews/1")" = reviews-v1 ]
}
wait_for 30 ceiling_up || die "no answer from $V1_IP through dpdk-testpmd: $(tail -n 20 "$TMP/testpmd.log")"
measure ceiling "http://$V1_IP:$PORT/reviews/1" "$TP_PID"
kill -TERM "$TP_PID"
rc=0
timeout 20 tail --pid="$TP_PID" -f /dev/null || rc=$?
wait "$TP_PID" || rc=$?
TP_PID=
[ "$rc" -eq 0 ] || log "dpdk-testpmd exited with status $rc"
ip -n "$CLIENT" addr del "$CEIL_CLIENT_IP/24" dev eth0

# --------------------------------------------- the kernel's proxies
log "namespace $PEER takes gw-down and gw-up with the gateway's addresses and the VIP"
ip netns add "$PEER"
ip -n "$PEER" link set lo up
ip -n "$PEER" addr add "$VIP/32" dev lo
ip link set gw-down netns "$PEER"
ip link set gw-up netns "$PEER"
ip -n "$PEER" addr add "$GW_IP/24" dev gw-down
ip -n "$PEER" addr add 10.10.2.1/24 dev gw-up
ip -n "$PEER" link set gw-down up
ip -n "$PEER" link set gw-up up
ip netns exec "$PEER" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" \
	net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=4096

peer_pids() { ip netns pids "$PEER"; }

cat >"$TMP/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $TMP/nginx.pid;
error_log $TMP/nginx.err warn;
events { worker_connections 8000; }
http {
    access_log off;
    keepalive_requests 1000000;
    split_clients "\$request_id" \$split { 80% v1; * v2; }
    map \$http_end_user \$pool { jason v2; default \$split; }
    upstream v1 { server $V1_IP:$PORT; keepalive 64; keepalive_requests 1000000; }
    upstream v2 { server $V2_IP:$PORT; keepalive 64; keepalive_requests 1000000; }
    server {
        listen $VIP:$PORT backlog=4096;
        location / {
            proxy_pass http://\$pool;
            proxy_http_version 1.1;
            proxy_set_header Host \$http_host;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto http;
            proxy_set_header X-Request-Id \$request_id;
        }
    }
}
EOF
bg nginx ip netns exec "$PEER" taskset -c "$PROXY_CPU" nginx -c "$TMP/nginx.conf"
wait_for 10 listening "$PEER" "$PORT" || die "nginx did not start: $(cat "$TMP/nginx.log" "$TMP/nginx.err")"
route_check nginx "$VIP" "$PORT"
# shellcheck disable=SC2046 # one pid per word
measure nginx "http://$VIP:$PORT/reviews/1" $(peer_pids)
stop_last
wait_for 10 sh -c "! ip netns exec $PEER ss -Hltn 'sport = :$PORT' | grep -q ." ||
	die "nginx did not stop"

cat >"$TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    http-reuse always
frontend reviews
    bind $VIP:$PORT backlog 4096
    option forwardfor
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Request-Id %[uuid]
    use_backend v2 if { req.hdr(end-user) -m str jason }
    default_backend split
backend split
    balance roundrobin
    server v1 $V1_IP:$PORT weight 80
    server v2 $V2_IP:$PORT weight 20
backend v2
    server v2 $V2_IP:$PORT
EOF
bg haproxy ip netns exec "$PEER" taskset -c "$PROXY_CPU" haproxy -db -f "$TMP/haproxy.cfg"
wait_for 10 listening "$PEER" "$PORT" || die "haproxy did not start: $(cat "$TMP/haproxy.log")"
route_check haproxy "$VIP" "$PORT"
# shellcheck disable=SC2046
measure haproxy "http://$VIP:$PORT/reviews/1" $(peer_pids)
stop_last

# --------------------------------------------------------------- report
mkdir -p "$OUTDIR"
STAMP=$(date -u +%Y%m%d-%H%M%S)
CSV=$OUTDIR/http-$STAMP.csv
{
	echo "target,load,run,requests_per_s,p50_ms,p99_ms,errors,proxy_cpu_percent,proxy_cpu_us_per_request,copied_bytes_per_request,cpu${LOAD_CPU}_busy_percent,cpu${PROXY_CPU}_busy_percent,other_processes_cpu_percent,others_v1_v2"
	printf '%s\n' "${CSV_ROWS[@]}"
} >"$CSV"

ratio() { "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); print("%.2f" % (a / b) if b else "-")' "$1" "$2"; }
printf '\nHTTP proxy benchmark, %s, wrk -t1 -c%s -d%ss per load, one request in 5 with end-user: jason,\nbest of %s runs by other processes'"'"' CPU\n' \
	"$(date -u +%Y-%m-%d)" "$CONNS" "$DURATION" "$REPEAT"
printf 'machine: %s CPUs, %s, kernel %s\n\n' "$(nproc)" \
	"$(lscpu | awk -F': +' '/^Model name/ { print $2; exit }')" "$(uname -r)"
printf '| %-8s | %-9s | %3s | %10s | %8s | %8s | %6s | %9s | %10s | %12s | %8s | %8s | %9s |\n' \
	target load run requests/s "p50 ms" "p99 ms" errors "proxy CPU" "CPU us/req" "copied B/req" \
	"CPU$LOAD_CPU busy" "CPU$PROXY_CPU busy" "other CPU"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ----------- ----: -----------: \
	---------: ---------: -------: ----------: -----------: -------------: ---------: ---------: ----------:
for p in gatewayd nginx haproxy ceiling; do
	for m in keepalive close; do
		k=$p/$m
		printf '| %-8s | %-9s | %3s | %10s | %8s | %8s | %6s | %8s%% | %10s | %12s | %8s%% | %8s%% | %8s%% |\n' "$p" "$m" "${KEPT[$k]}" \
			"${RPS[$k]}" "${P50[$k]}" "${P99[$k]}" "${ERRS[$k]}" "${CPU[$k]}" "${USREQ[$k]}" "${COPY[$k]}" \
			"${LOADBUSY[$k]}" "${PROXYBUSY[$k]}" "${OTHER[$k]}"
	done
done
printf '\n| ratio               | load      | requests/s | p50  | p99  |\n'
printf '|---------------------|-----------|-----------:|-----:|-----:|\n'
for p in nginx haproxy ceiling; do
	for m in keepalive close; do
		printf '| gatewayd / %-8s | %-9s | %10s | %4s | %4s |\n' "$p" "$m" \
			"$(ratio "${RPS[gatewayd/$m]}" "${RPS[$p/$m]}")" \
			"$(ratio "${P50[gatewayd/$m]}" "${P50[$p/$m]}")" \
			"$(ratio "${P99[gatewayd/$m]}" "${P99[$p/$m]}")"
	done
done
printf '\nload average: %s at the start, %s at the end\n' "$LOADAVG0" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'routing checks (others v1/v2 of 100): gatewayd %s, nginx %s, haproxy %s\n' \
	"${SPLIT[gatewayd]}" "${SPLIT[nginx]}" "${SPLIT[haproxy]}"
printf 'CSV: %s\n' "$CSV"
