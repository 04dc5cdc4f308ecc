#!/usr/bin/env bash
# tools/bench-http.sh: the peer comparison of issue 9 in one run: the HTTP
# proxy against nginx and HAProxy, each without and with 100% of the
# requests mirrored to a shadow service, and an L2 forwarder as the I/O
# ceiling, on the demo topology (docs/demo.md):
#
#   gw-client --veth-- [ proxy ] --veth-- br0 -- gw-httpbin-v1 (reviews v1,
#                                                  shadow v3 on :9083)
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
# Mirroring ("mirror" none / 100%): every request is also copied to a
# shadow service, subset v3 of reviews (10.10.2.11:9083, a third nginx
# backend answering `reviews-v3`); the proxy drops the copies' responses.
#   gatewayd  tools/bench/http-reviews-mirror.yaml (the same routes, each
#             with `mirror: {host: reviews, subset: v3}` and
#             `mirrorPercentage: {value: 100}`) applied with `gwctl apply`
#             on the running gateway; the shadow engine runs on the control
#             lcore (CPU 0)
#   nginx     `mirror /mirror;` and `location = /mirror { internal;
#             proxy_pass http://shadow$request_uri; }` (nginx's mirror
#             subrequests open a connection per copy)
#   haproxy   n/a: HAProxy 2.6 has no mirroring of its own (only the
#             external SPOE agent spoa-mirror, which Debian 12 does not
#             package); its mirror rows print "n/a"
#   ceiling   none only (no proxy)
# Before each proxy's loads, and again with mirroring on, 200 requests on
# one connection check the routing (jason's all to v2, the others about
# 80/20) and, with mirroring, that the copies reach the shadow. "shadow
# got" is the shadow's request count (stub_status) over each load.
#
# Backends: nginx (one worker each) answering `reviews-vN` from memory on
# port 9080 in gw-httpbin-v1 and gw-httpbin-v2, and the shadow. Load, from
# gw-client, for each target: wrk -t1 -cC -dD --latency, keep-alive, then
# with `Connection: close` (a new connection per request); one request in
# 5 carries `end-user: jason` (tools/bench/http-load.lua).
#
# CPUs (2): the proxy (gatewayd's worker lcore, nginx's worker, HAProxy,
# testpmd's forwarding lcore) on CPU 1; wrk, the backends and gatewayd's
# control lcore on CPU 0. Proxy CPU is utime+stime of the proxy's
# processes over the load, in % of one CPU and in microseconds per
# request ("CPU us/req", the per-core cost; a poll-mode worker counts its
# empty polls too); "CPU0 busy" and "CPU1 busy" are the CPUs' non-idle
# time from /proc/stat over the load, whoever used it (softirqs
# included); "other CPU" is the user and system time of every other
# process on the machine (builds, other tests), in % of one CPU: figures
# with much of it are disturbed.
#
# Prints a table (requests/s, p50/p99 latency, errors, proxy CPU, bytes the
# gateway copied per request: gateway.http.copied_bytes +
# gateway.http.parser_copied_bytes + gateway.tcp.copied_bytes over
# gateway.http.requests, shadow got, CPU busy), the ratios gatewayd/nginx,
# gatewayd/HAProxy, gatewayd/ceiling and, per proxy, with mirror / without,
# and issue 9's targets (gatewayd >= 0.9 x the ceiling, >= 1.5 x HAProxy,
# >= 2 x nginx, 100% mirroring costing under 10%) met or not. Writes the
# figures of every run as CSV to OUT/http-DATE.csv, and a PNG chart of
# the table's requests/s and p99 (grouped bars, no mirror / mirror 100%,
# tools/bench/peers.gnuplot) to OUT/http-DATE.png with its data in
# OUT/http-DATE.dat; without gnuplot (Debian's gnuplot-nox) it says so and
# draws no chart. The log (stderr) has each counter's delta (the gateway's
# mirror counters too) and the gateway's CPU time per thread.
#
# Usage: tools/bench-http.sh [--duration S] [--connections C] [--repeat R]
#                            [--out DIR] [--help]
#   --duration S     seconds per load (10)
#   --connections C  wrk connections (32)
#   --repeat R       runs of each load (2); the table shows, of the runs
#                    with "other CPU" under 20%, the median by requests/s
#                    (the faster of the middle two for an even count), or
#                    the least disturbed run; the CSV has every run
#   --out DIR        where the CSV and the chart go (build/bench)
# Environment: GW_BUILD (build directory with app/gatewayd and app/gwctl,
# default build/), GW_BENCH_CONFIG (gatewayd bootstrap). Needs root, wrk,
# nginx, haproxy, dpdk-testpmd (tools/setup.sh installs them; gnuplot-nox
# for the chart) and no other demo topology. About 6.5 minutes with the
# defaults (9.5 with --repeat 3), waiting for the topology lock aside.
set -euo pipefail

PROG=bench-http.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROXY_CPU=1
LOAD_CPU=0
# shellcheck source=tools/bench/lib.sh
. "$ROOT/tools/bench/lib.sh"
BUILD=${GW_BUILD:-$ROOT/build}
GATEWAYD=$BUILD/app/gatewayd
GWCTL=$BUILD/app/gwctl
CONFIG=${GW_BENCH_CONFIG:-tools/bench/http-af_xdp.yaml}
MIRROR_VS=tools/bench/http-reviews-mirror.yaml
LUA=$ROOT/tools/bench/http-load.lua
CHART=$ROOT/tools/bench/peers.gnuplot
CHECK=$ROOT/tests/system/http_client.py
CEIL_CLIENT_IP=10.10.2.100  # the client's address in the backends' subnet
SHADOW_NS=gw-httpbin-v1
SHADOW=10.10.2.11:9083      # subset v3 of reviews (reviews-service.yaml)
DURATION=10
CONNS=32
REPEAT=2
OUTDIR=$ROOT/build/bench
DISTURBED=20                # "other CPU" from which a run counts as disturbed

bench_parse_args "--duration=DURATION --connections=CONNS --repeat=REPEAT --out=OUTDIR" "$@"
bench_check_int --duration "$DURATION" 1 120 seconds
bench_check_int --repeat "$REPEAT" 1 5
bench_check_int --connections "$CONNS" 1 1000

cd "$ROOT"
bench_need_built "$GATEWAYD" "$GWCTL"
bench_need_files "$LUA" "$CHECK" "$CONFIG" "$MIRROR_VS" "$CHART"
bench_need_cmds wrk haproxy nginx dpdk-testpmd taskset ethtool curl
command -v gnuplot >/dev/null ||
	log "gnuplot missing: no chart this time (tools/setup.sh installs gnuplot-nox)"
bench_check_out_dir "$OUTDIR"
bench_begin bench-http

# ------------------------------------------------------------- topology
LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_topology_up
ip netns exec "$CLIENT" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"

# Backends: nginx answering from memory, pinned with the client.
bench_backend v1 gw-httpbin-v1 "$PORT" reviews-v1
bench_backend v2 gw-httpbin-v2 "$PORT" reviews-v2
bench_backend shadow "$SHADOW_NS" "$SHADOW" reviews-v3

# ------------------------------------------------------------ measuring
CSV_ROWS=()
declare -A RPS P50 P99 ERRS CPU USREQ COPY SPLIT LOADBUSY PROXYBUSY OTHER KEPT SHADOWGOT

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

# cpu_split: "cpuN user+nice system irq+softirq steal" jiffies since boot, per CPU.
cpu_split() {
	awk '$1 ~ /^cpu[0-9]/ { print $1, $2 + $3, $4, $7 + $8, $9 }' /proc/stat
}

stat_of() { awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$2"; }
# stat_sum REGEX FILE: the sum of the counters whose name matches REGEX.
stat_sum() { awk -v r="$1" '$1 ~ r { s += $2 } END { print s + 0 }' "$2"; }
# stat_delta REGEX: stat_sum's growth from stats-before to stats-after.
stat_delta() { echo $(( $(stat_sum "$1" "$TMP/stats-after") - $(stat_sum "$1" "$TMP/stats-before") )); }

# shadow_count: the requests the shadow answered so far; each call's own
# stub_status request counts too, so a difference of two calls is one more
# than the copies in between.
shadow_count() { stub_requests "$SHADOW_NS" "$SHADOW"; }

# route_check NAME MIRROR HOST PORT: 200 requests on one connection, every
# other one with end-user: jason; jason's must all reach v2, the others
# split about 80/20. Records "v1/v2" of the others in SPLIT[NAME/MIRROR].
# With MIRROR 100, every request's copy must reach the shadow (within 5
# s); with none, no copy.
route_check() {
	local key=$1/$2 out v1 v2 alt s0 got polls=0
	s0=$(shadow_count)
	out=$(timeout 30 ip netns exec "$CLIENT" "$PY" "$CHECK" --host "$3" --port "$4" \
		--authority "$AUTHORITY" --path /reviews/1 --count 200 \
		--alternate 'end-user: jason' 2>&1) || die "$key: routing check failed: $out"
	alt=$(awk '$1 == "alt" && $3 == "reviews-v2" { print $2 }' <<<"$out")
	v1=$(awk '$1 == "plain" && $3 == "reviews-v1" { print $2 }' <<<"$out")
	v2=$(awk '$1 == "plain" && $3 == "reviews-v2" { print $2 }' <<<"$out")
	[ "${alt:-0}" = 100 ] || die "$key: end-user: jason did not always reach v2: $out"
	if [ $(( ${v1:-0} + ${v2:-0} )) != 100 ] || [ "${v1:-0}" -lt 65 ] || [ "${v1:-0}" -gt 95 ]; then
		die "$key: the others were not split about 80/20: $out"
	fi
	SPLIT[$key]=${v1}/${v2}
	# each shadow_count counts itself: poll N sees s0 + copies + N
	[ "$2" = 100 ] || sleep 0.5
	while :; do
		polls=$((polls + 1))
		got=$(( $(shadow_count) - s0 - polls ))
		if [ "$2" != 100 ] || [ "$got" -ge 200 ] || [ "$polls" -ge 25 ]; then break; fi
		sleep 0.2
	done
	if [ "$2" = 100 ] && [ "$got" -ne 200 ]; then
		die "$key: the shadow got $got copies of 200 requests"
	fi
	if [ "$2" = none ] && [ "$got" -ne 0 ]; then
		die "$key: the shadow got $got requests without mirroring"
	fi
	log "$key: routing ok (jason 100/100 to v2, others v1/v2 ${SPLIT[$key]}; the shadow got $got copies)"
}

# load NAME MIRROR MODE RUN URL PID...: one wrk run from the client
# against URL, the CPU time of PID... over it; fills the arrays under key
# NAME/MIRROR/MODE/RUN and adds a CSV row.
load() {
	local name=$1 mirror=$2 mode=$3 run=$4 url=$5 key=$1/$2/$3/$4 out line t0 t1 c0 c1 host=$AUTHORITY
	local sh0 sh1
	shift 5
	[ "$name" != ceiling ] || host=$V1_IP:$PORT
	if [ "$name" = gatewayd ]; then
		gw_stats >"$TMP/stats-before" || die "gatewayd: /stats failed"
		log "$key: threads' CPU ticks before: $(thread_ticks "$1")"
	fi
	sh0=$(shadow_count)
	log "$key: wrk $mode, mirror $mirror, $CONNS connections, $DURATION s (run $run of $REPEAT)"
	local b0 b1 o0 o1 wrk_ticks
	b0="$(cpu_busy "$LOAD_CPU") $(cpu_busy "$PROXY_CPU")"
	cpu_split >"$TMP/cpu-before"
	c0=$(cpu_ticks "$@"); t0=$(date +%s%N)
	o0=$(ours_ticks)
	# what else runs meanwhile: shown when other processes take much CPU
	top -b -d 2 -n $((DURATION / 2 + 1)) -w 160 >"$TMP/top-$name-$mirror-$mode-$run.log" 2>&1 &
	local top_pid=$!
	# `times` after wrk: its user and system time (the subshell's children)
	out=$(timeout $((DURATION + 30)) ip netns exec "$CLIENT" taskset -c "$LOAD_CPU" \
		wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$LUA" "$url" \
		-- "$mode" "$host" 2>&1; rc=$?; times; exit $rc) || die "$key: wrk failed: $out"
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
	log "$key: jiffies over the load (user system softirq steal): $(join "$TMP/cpu-before" "$TMP/cpu-after" |
		awk '{ printf "%s %d %d %d %d; ", $1, $6 - $2, $7 - $3, $8 - $4, $9 - $5 }')"
	# shellcheck disable=SC2086 # numbers
	read -r "LOADBUSY[$key]" "PROXYBUSY[$key]" < <("$PY" -c 'import sys
a = list(map(int, sys.argv[1:5])); b = list(map(int, sys.argv[5:9]))
print("%.0f %.0f" % (100.0 * (b[0] - a[0]) / (b[1] - a[1]), 100.0 * (b[2] - a[2]) / (b[3] - a[3])))' $b0 $b1)
	printf '%s\n' "$out" >"$TMP/wrk-$name-$mirror-$mode-$run.log"
	line=$(grep '^BENCH ' <<<"$out") || die "$key: no summary from wrk: $out"
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
	sleep 1     # copies still in flight
	sh1=$(shadow_count)
	SHADOWGOT[$key]=$((sh1 - sh0 - 1))
	if [ "$name" = gatewayd ]; then
		gw_stats >"$TMP/stats-after" || die "gatewayd: /stats failed"
		log "$key: threads' CPU ticks after: $(thread_ticks "$1")"
		local f rq copied=0 d why
		rq=$(( $(stat_of gateway.http.requests "$TMP/stats-after") -
		       $(stat_of gateway.http.requests "$TMP/stats-before") ))
		for f in gateway.http.copied_bytes gateway.http.parser_copied_bytes gateway.tcp.copied_bytes; do
			d=$(( $(stat_of "$f" "$TMP/stats-after") - $(stat_of "$f" "$TMP/stats-before") ))
			copied=$((copied + d))
			log "$key: $f +$d"
		done
		log "$key: gateway.http.requests +$rq, gateway.idle_sleeps +$(( $(stat_of gateway.idle_sleeps "$TMP/stats-after") - $(stat_of gateway.idle_sleeps "$TMP/stats-before") ))"
		why=$(mirror_drops "$TMP/stats-before" "$TMP/stats-after")
		log "$key: gateway.http.mirror_requests +$(stat_delta '^gateway\.http\.mirror_requests$') mirror_dropped +$(stat_delta '^gateway\.http\.mirror_dropped$'); engine gateway.mirror.*.requests +$(stat_delta '^gateway\.mirror\..*\.requests$') responses +$(stat_delta '^gateway\.mirror\..*\.responses$') drops +$(stat_delta '^gateway\.mirror\..*\.drop\.') (${why:--})"
		COPY[$key]=$("$PY" -c 'import sys; a, b = map(int, sys.argv[1:]); print("%.0f" % (a / b) if b else "-")' "$copied" "$rq")
	fi
	if [ "${OTHER[$key]}" -ge 20 ]; then
		log "$key: other processes took ${OTHER[$key]}% of a CPU; busiest seen by top:"
		awk '$1 ~ /^[0-9]+$/ && $9 + 0 >= 10 { print "    " $0 }' "$TMP/top-$name-$mirror-$mode-$run.log" |
			sort -k9,9nr | head -n 12 >&2
	fi
	log "$key: ${RPS[$key]} requests/s, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms, ${ERRS[$key]} errors (connect $connect read $read write $write status $status timeout $timeout), $requests requests, the shadow got ${SHADOWGOT[$key]}, CPU ${CPU[$key]}% (${USREQ[$key]} us/request; CPU $LOAD_CPU busy ${LOADBUSY[$key]}%, CPU $PROXY_CPU ${PROXYBUSY[$key]}%, other processes ${OTHER[$key]}%, wrk $wrk_ticks ticks), copied ${COPY[$key]} B/request"
	CSV_ROWS+=("$name,$mode,$mirror,$run,${RPS[$key]},${P50[$key]},${P99[$key]},${ERRS[$key]},$requests,${SHADOWGOT[$key]},${CPU[$key]},${USREQ[$key]},${COPY[$key]},${LOADBUSY[$key]},${PROXYBUSY[$key]},${OTHER[$key]},${SPLIT[$name/$mirror]:-}")
}

# copy_cell ARRAY DST SRC: ARRAY[DST]=ARRAY[SRC].
copy_cell() {
	local -n arr=$1
	arr[$2]=${arr[$3]}
}

# measure NAME MIRROR URL PID...: both loads, REPEAT runs each; the
# figures of one run go under NAME/MIRROR/MODE: of the undisturbed runs
# (other processes under DISTURBED% of a CPU), the median by requests/s
# (the faster of the middle two for an even count); when every run was
# disturbed, the least disturbed one (lowest "other CPU"), the first of
# equals.
measure() {
	local name=$1 mirror=$2 url=$3 mode r best a k quiet; shift 3
	for mode in keepalive close; do
		k=$name/$mirror/$mode
		best=1
		quiet=()
		for ((r = 1; r <= REPEAT; r++)); do
			load "$name" "$mirror" "$mode" "$r" "$url" "$@"
			[ "${OTHER[$k/$r]}" -ge "${OTHER[$k/$best]}" ] || best=$r
			[ "${OTHER[$k/$r]}" -ge "$DISTURBED" ] || quiet+=("${RPS[$k/$r]} $r")
			sleep 1
		done
		if [ ${#quiet[@]} -gt 0 ]; then
			best=$(printf '%s\n' "${quiet[@]}" | sort -n -k1,1 |
				awk '{ r[NR] = $2 } END { print r[int(NR / 2) + 1] }')
		fi
		for a in RPS P50 P99 ERRS CPU USREQ COPY LOADBUSY PROXYBUSY OTHER SHADOWGOT; do
			copy_cell "$a" "$k" "$k/$best"
		done
		KEPT[$k]=$best
	done
}

# ------------------------------------------------------------- gatewayd
gw_start "$GATEWAYD" "$CONFIG"
route_check gatewayd none "$VIP" "$PORT"
measure gatewayd none "http://$VIP:$PORT/reviews/1" "$GW_PID"
out=$("$GWCTL" -s "$SOCKET" apply -f "$MIRROR_VS" 2>&1) ||
	die "gatewayd: gwctl apply -f $MIRROR_VS failed: $out"
log "gatewayd: gwctl apply -f $MIRROR_VS: $out"
route_check gatewayd 100 "$VIP" "$PORT"
measure gatewayd 100 "http://$VIP:$PORT/reviews/1" "$GW_PID"
gw_stats >"$TMP/gatewayd-stats.txt" || true
gw_stop

# -------------------------------------------------------------- ceiling
# L2 forwarding needs the client and the backend in one subnet: the client
# gets 10.10.2.100/24 besides 10.10.1.2/24, and resolves 10.10.2.11 by ARP
# through the forwarder and the bridge.
log "ceiling: dpdk-testpmd --forward-mode=io between gw-down and gw-up"
ip -n "$CLIENT" addr add "$CEIL_CLIENT_IP/24" dev eth0
huge_extra=()
! bench_no_huge || huge_extra=(--no-huge -m 1024)
stdbuf -oL -eL dpdk-testpmd -l "$LOAD_CPU,$PROXY_CPU" --no-pci --file-prefix=bench-testpmd \
	"${huge_extra[@]}" --vdev net_af_xdp0,iface=gw-down --vdev net_af_xdp1,iface=gw-up \
	-- --forward-mode=io --nb-cores=1 --stats-period 60 </dev/null >"$TMP/testpmd.log" 2>&1 &
TP_PID=$!
ceiling_up() {
	kill -0 "$TP_PID" && [ "$(ip netns exec "$CLIENT" curl -s -m 1 \
		"http://$V1_IP:$PORT/reviews/1")" = reviews-v1 ]
}
wait_for 30 ceiling_up || die "no answer from $V1_IP through dpdk-testpmd: $(tail -n 20 "$TMP/testpmd.log")"
measure ceiling none "http://$V1_IP:$PORT/reviews/1" "$TP_PID"
kill -TERM "$TP_PID"
rc=0
timeout 20 tail --pid="$TP_PID" -f /dev/null || rc=$?
wait "$TP_PID" || rc=$?
TP_PID=
[ "$rc" -eq 0 ] || log "dpdk-testpmd exited with status $rc"
ip -n "$CLIENT" addr del "$CEIL_CLIENT_IP/24" dev eth0

# --------------------------------------------- the kernel's proxies
bench_peer_ns --vip
peer_pids() { ip netns pids "$PEER"; }

# nginx_conf MIRROR: nginx's configuration without (none) or with (100)
# mirroring to the shadow, routing as the gateway does.
nginx_conf() {
	local mirror=yes
	[ "$1" != none ] || mirror=no
	# shellcheck disable=SC2016 # nginx variables
	bench_nginx_conf "$1" warn "$mirror" "$SHADOW" '$pool' 'split_clients "$request_id" $split { 80% v1; * v2; }
    map $http_end_user $pool { jason v2; default $split; }
    upstream v1 { server '"$V1_IP:$PORT"'; keepalive 64; keepalive_requests 1000000; }
    upstream v2 { server '"$V2_IP:$PORT"'; keepalive 64; keepalive_requests 1000000; }'
}
for m in none 100; do
	nginx_conf "$m" >"$TMP/nginx-$m.conf"
	bg "nginx-$m" ip netns exec "$PEER" taskset -c "$PROXY_CPU" nginx -c "$TMP/nginx-$m.conf"
	wait_for 10 listening "$PEER" "$PORT" ||
		die "nginx (mirror $m) did not start: $(cat "$TMP/nginx-$m.log" "$TMP/nginx-$m.err")"
	route_check nginx "$m" "$VIP" "$PORT"
	# shellcheck disable=SC2046 # one pid per word
	measure nginx "$m" "http://$VIP:$PORT/reviews/1" $(peer_pids)
	stop_last
	wait_for 10 sh -c "! ip netns exec $PEER ss -Hltn 'sport = :$PORT' | grep -q ." ||
		die "nginx (mirror $m) did not stop"
done

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
route_check haproxy none "$VIP" "$PORT"
# shellcheck disable=SC2046
measure haproxy none "http://$VIP:$PORT/reviews/1" $(peer_pids)
stop_last
HAPROXY_VERSION=$(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')

# --------------------------------------------------------------- report
STAMP=$(date -u +%Y%m%d-%H%M%S)
CSV=$OUTDIR/http-$STAMP.csv
DAT=$OUTDIR/http-$STAMP.dat
PNG=$OUTDIR/http-$STAMP.png
{
	echo "target,load,mirror,run,requests_per_s,p50_ms,p99_ms,errors,requests,shadow_received,proxy_cpu_percent,proxy_cpu_us_per_request,copied_bytes_per_request,cpu${LOAD_CPU}_busy_percent,cpu${PROXY_CPU}_busy_percent,other_processes_cpu_percent,others_v1_v2"
	printf '%s\n' "${CSV_ROWS[@]}"
} >"$CSV"

# cell ARRAY KEY: ARRAY[KEY], or n/a when that row was not measured.
cell() {
	local -n tbl=$1
	printf '%s\n' "${tbl[$2]:-n/a}"
}
# ratio_of A B: ratio, n/a when either is.
ratio_of() { if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; else ratio "$1" "$2"; fi; }
# at_least R MIN KEY...: "met" or "NOT met", and which of the rows KEY...
# other processes disturbed.
at_least() {
	local r=$1 min=$2 k bad=
	shift 2
	if [ "$r" = n/a ] || [ "$r" = - ]; then echo "n/a"; return; fi
	for k in "$@"; do
		[ "$(cell OTHER "$k")" = n/a ] || [ "${OTHER[$k]}" -lt "$DISTURBED" ] ||
			bad="$bad${bad:+, }${k%%/*} ${k#*/} other CPU ${OTHER[$k]}%"
	done
	"$PY" -c 'import sys; print("met" if float(sys.argv[1]) >= float(sys.argv[2]) else "NOT met")' "$r" "$min" |
		tr -d '\n'
	[ -z "$bad" ] && echo || echo " (disturbed: $bad)"
}

printf '\nHTTP proxy peer comparison, %s, wrk -t1 -c%s -d%ss per load, one request in 5 with end-user: jason,\nmedian of %s runs (see --help)\n' \
	"$(date -u +%Y-%m-%d)" "$CONNS" "$DURATION" "$REPEAT"
printf 'machine: %s\n\n' "$(machine_line)"
printf '| %-8s | %-9s | %-6s | %3s | %10s | %8s | %8s | %6s | %9s | %10s | %12s | %10s | %9s | %9s | %9s |\n' \
	target load mirror run requests/s "p50 ms" "p99 ms" errors "proxy CPU" "CPU us/req" "copied B/req" \
	"shadow got" "CPU$LOAD_CPU busy" "CPU$PROXY_CPU busy" "other CPU"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ----------- -------- ----: -----------: \
	---------: ---------: -------: ----------: -----------: -------------: -----------: ----------: ----------: ----------:
pct() { [ "$1" = n/a ] && echo n/a || echo "$1%"; }
for m in keepalive close; do
	for p in gatewayd nginx haproxy ceiling; do
		for x in none 100; do
			[ "$p" != ceiling ] || [ "$x" = none ] || continue
			k=$p/$x/$m
			printf '| %-8s | %-9s | %-6s | %3s | %10s | %8s | %8s | %6s | %9s | %10s | %12s | %10s | %9s | %9s | %9s |\n' \
				"$p" "$m" "$([ "$x" = 100 ] && echo 100% || echo none)" "${KEPT[$k]:-n/a}" \
				"$(cell RPS "$k")" "$(cell P50 "$k")" "$(cell P99 "$k")" "$(cell ERRS "$k")" \
				"$(pct "$(cell CPU "$k")")" "$(cell USREQ "$k")" "$(cell COPY "$k")" "$(cell SHADOWGOT "$k")" \
				"$(pct "$(cell LOADBUSY "$k")")" "$(pct "$(cell PROXYBUSY "$k")")" "$(pct "$(cell OTHER "$k")")"
		done
	done
done
printf '\nhaproxy mirror 100%%: n/a: HAProxy %s has no mirroring of its own (only the external SPOE\nagent spoa-mirror, not packaged in Debian 12); the ceiling forwards frames and has no mirror.\n' \
	"${HAPROXY_VERSION:-2.6}"

printf '\n| ratio               | load      | mirror | requests/s | p50  | p99  |\n'
printf '|---------------------|-----------|--------|-----------:|-----:|-----:|\n'
for p in nginx haproxy ceiling; do
	for x in none 100; do
		[ "$p" = nginx ] || [ "$x" = none ] || continue
		for m in keepalive close; do
			printf '| gatewayd / %-8s | %-9s | %-6s | %10s | %4s | %4s |\n' "$p" "$m" \
				"$([ "$x" = 100 ] && echo 100% || echo none)" \
				"$(ratio_of "$(cell RPS "gatewayd/$x/$m")" "$(cell RPS "$p/$x/$m")")" \
				"$(ratio_of "$(cell P50 "gatewayd/$x/$m")" "$(cell P50 "$p/$x/$m")")" \
				"$(ratio_of "$(cell P99 "gatewayd/$x/$m")" "$(cell P99 "$p/$x/$m")")"
		done
	done
done
printf '\n| with mirror / without | load      | requests/s | p50  | p99  |\n'
printf '|------------------------|-----------|-----------:|-----:|-----:|\n'
for p in gatewayd nginx haproxy; do
	for m in keepalive close; do
		printf '| %-22s | %-9s | %10s | %4s | %4s |\n' "$p" "$m" \
			"$(ratio_of "$(cell RPS "$p/100/$m")" "$(cell RPS "$p/none/$m")")" \
			"$(ratio_of "$(cell P50 "$p/100/$m")" "$(cell P50 "$p/none/$m")")" \
			"$(ratio_of "$(cell P99 "$p/100/$m")" "$(cell P99 "$p/none/$m")")"
	done
done

printf '\nissue 9 targets (requests/s; "disturbed": a row where other processes took %s%%\nof a CPU or more, which makes the ratio unreliable):\n' "$DISTURBED"
for m in keepalive close; do
	g=gatewayd/none/$m
	r=$(ratio_of "$(cell RPS "$g")" "$(cell RPS "ceiling/none/$m")")
	printf '  %-9s gatewayd >= 0.9 x ceiling:      %5s  %s\n' "$m" "$r" "$(at_least "$r" 0.9 "$g" "ceiling/none/$m")"
	r=$(ratio_of "$(cell RPS "$g")" "$(cell RPS "haproxy/none/$m")")
	printf '  %-9s gatewayd >= 1.5 x HAProxy:      %5s  %s\n' "$m" "$r" "$(at_least "$r" 1.5 "$g" "haproxy/none/$m")"
	r=$(ratio_of "$(cell RPS "$g")" "$(cell RPS "nginx/none/$m")")
	printf '  %-9s gatewayd >= 2 x nginx:          %5s  %s\n' "$m" "$r" "$(at_least "$r" 2 "$g" "nginx/none/$m")"
	r=$(ratio_of "$(cell RPS "gatewayd/100/$m")" "$(cell RPS "$g")")
	printf '  %-9s gatewayd mirror 100%% >= 0.9:    %5s  %s\n' "$m" "$r" "$(at_least "$r" 0.9 "$g" "gatewayd/100/$m")"
done

printf '\nload average: %s at the start, %s at the end\n' "$LOADAVG0" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'routing checks (others v1/v2 of 100): gatewayd %s (mirror %s), nginx %s (mirror %s), haproxy %s\n' \
	"${SPLIT[gatewayd/none]}" "${SPLIT[gatewayd/100]}" "${SPLIT[nginx/none]}" "${SPLIT[nginx/100]}" \
	"${SPLIT[haproxy/none]}"
printf 'CSV: %s\n' "$CSV"

# The chart: one row per target and load, the table's figures.
{
	echo '# label requests_per_s_none requests_per_s_mirror p99_ms_none p99_ms_mirror'
	for m in keepalive close; do
		for p in gatewayd nginx haproxy ceiling; do
			printf '"%s\\n%s" %s %s %s %s\n' "$p" "$([ "$m" = keepalive ] && echo keep-alive || echo close)" \
				"$(cell RPS "$p/none/$m")" "$(cell RPS "$p/100/$m")" \
				"$(cell P99 "$p/none/$m")" "$(cell P99 "$p/100/$m")"
		done
	done
} >"$DAT"
if ! command -v gnuplot >/dev/null; then
	printf 'chart: none, gnuplot is missing (apt-get install gnuplot-nox, or tools/setup.sh); its data: %s\n' "$DAT"
elif out=$(gnuplot -e "data='$DAT'; out='$PNG'; heading='HTTP proxies, $(date -u +%Y-%m-%d), wrk -t1 -c$CONNS -d${DURATION}s, median of $REPEAT runs; $(machine_line)'" \
		"$CHART" 2>&1); then
	printf 'chart: %s (data %s)\n' "$PNG" "$DAT"
else
	printf 'chart: none, gnuplot failed: %s (data %s)\n' "$out" "$DAT"
fi
