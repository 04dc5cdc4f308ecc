#!/usr/bin/env bash
# tools/bench-mirror.sh: what traffic mirroring (issue 7, docs/mirroring.md)
# costs the production traffic, gatewayd against nginx's `mirror`, in one
# run, on the demo topology of tools/bench-http.sh:
#
#   gw-client --veth-- [ proxy ] --veth-- br0 -- gw-httpbin-v1 (primary)
#                                             -- gw-httpbin-v2 (shadow)
#
# Three cases per proxy, all requests to reviews:9080 (VIP 10.96.0.20)
# routed to v1 (10.10.2.11:9080):
#   none   no mirror
#   fast   100% mirrored to v2 (10.10.2.12:9080, as fast as v1)
#   dead   100% mirrored to v3 (10.10.2.11:9083, where nothing listens:
#          every copy's connection is refused)
#   gatewayd  AF_XDP, one worker, tools/bench/http-af_xdp.yaml; each case's
#             VirtualService `reviews` (route to subset v1, `mirror: {host:
#             reviews, subset: v2|v3}` + `mirrorPercentage: {value: 100}`)
#             applied with `gwctl apply` on the running gateway; the shadow
#             engine on the control lcore, copies leaving by the upstream
#             port (no shadow port)
#   nginx     one worker in namespace gw-peer (the veth ends with the
#             gateway's addresses, as in bench-http.sh), proxy_pass to v1
#             with keepalive; fast and dead add `mirror /mirror;` and
#             `location = /mirror { internal; proxy_pass
#             http://shadow$request_uri; }`, upstream shadow = v2 or v3
#             (keepalive too)
# Backends: nginx (one worker each) answering `reviews-vN` from memory on
# port 9080, with stub_status: the shadow's request count shows the copies
# that arrived. Load: wrk -t1 -cC -dD --latency, keep-alive, from gw-client
# (tools/bench/http-load.lua: one request in 5 carries `end-user: jason`,
# which these routes ignore). CPUs: the proxy's worker on CPU 1; wrk, the
# backends and gatewayd's control lcore (the shadow engine) on CPU 0.
#
# Prints a table: requests/s, p50/p99, errors, the ratio to the same
# proxy's `none` run, the copies the shadow received (its stub_status
# delta), the gateway's mirror counters over the run (the worker's
# gateway.http.mirror_requests and mirror_dropped, the engine's
# gateway.mirror.*.requests, .responses, .drop.*) and how busy CPU 0 and
# CPU 1 were (/proc/stat, whoever used them); writes the figures as CSV to
# build/bench/mirror-DATE.csv and the gateway's /stats after each case
# beside it. The log (stderr) has the gateway's latency histograms of the
# mirrored requests (gateway.mirror.*.latency_ms) and the CPU of each of
# gatewayd's threads (worker, control lcore) for each case.
#
# Usage: tools/bench-mirror.sh [--duration S] [--connections C] [--think MS] [--out DIR]
#                              [--help]
#   --duration S     seconds per load (8)
#   --connections C  wrk connections (32)
#   --think MS       each connection waits MS ms after each response
#                    (tools/bench/http-think.lua): a fixed offered load
#                    below saturation (about C / (MS + latency) requests/s),
#                    so that the cost of mirroring shows as latency and
#                    shortfall rather than as CPU taken from wrk (0: none)
#   --out DIR        where the CSV goes (build/bench)
# Environment: GW_BUILD (build directory, default build/), GW_BENCH_CONFIG
# (gatewayd bootstrap). Needs root, wrk, nginx (tools/setup.sh installs
# them) and no other demo topology. About 2 minutes with the defaults,
# waiting for the topology lock aside.
set -euo pipefail

PROG=bench-mirror.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROXY_CPU=1
LOAD_CPU=0
# shellcheck source=tools/bench/lib.sh
. "$ROOT/tools/bench/lib.sh"
BUILD=${GW_BUILD:-$ROOT/build}
GATEWAYD=$BUILD/app/gatewayd
GWCTL=$BUILD/app/gwctl
CONFIG=${GW_BENCH_CONFIG:-tools/bench/http-af_xdp.yaml}
LUA=$ROOT/tools/bench/http-load.lua
DEAD=10.10.2.11:9083        # subset v3 of reviews: nothing listens there
DURATION=8
CONNS=32
THINK=0
OUTDIR=$ROOT/build/bench
CASES="none fast dead"
STAMP=$(date -u +%Y%m%d-%H%M%S)

bench_parse_args "--duration=DURATION --think=THINK --connections=CONNS --out=OUTDIR" "$@"
bench_check_int --duration "$DURATION" 1 60 seconds
bench_check_int --connections "$CONNS" 1 1000
bench_check_int --think "$THINK" 0 1000 milliseconds
if [ "$THINK" -gt 0 ]; then
	LUA=$ROOT/tools/bench/http-think.lua
	LOAD_ARGS=(keepalive "$AUTHORITY" "$THINK")
	LOAD_DESC="$CONNS connections, ${THINK} ms think time"
else
	LOAD_ARGS=(keepalive "$AUTHORITY")
	LOAD_DESC="$CONNS connections"
fi

cd "$ROOT"
bench_need_built "$GATEWAYD" "$GWCTL"
bench_need_files "$LUA" "$CONFIG"
bench_need_cmds wrk nginx taskset curl
bench_check_out_dir "$OUTDIR"
bench_begin bench-mirror

# ------------------------------------------------------------- topology
LOADAVG0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_topology_up

# Backends: nginx answering from memory on :9080, pinned with the client;
# stub_status counts the requests each one got.
bench_backend v1 gw-httpbin-v1 "$PORT" reviews-v1
bench_backend v2 gw-httpbin-v2 "$PORT" reviews-v2

# shadow_read: SC = requests v2 (the fast shadow) has answered so far, not
# counting these stub_status requests (each counts itself).
SHADOW_POLLS=0
SC=0
shadow_read() {
	local n
	n=$(stub_requests gw-httpbin-v2 "$V2_IP:$PORT")
	SHADOW_POLLS=$((SHADOW_POLLS + 1))
	SC=$((n - SHADOW_POLLS))
}

# one_request: GET through the proxy; prints the body (the backend's name).
one_request() {
	ip netns exec "$CLIENT" curl -s -m 3 -H "Host: $AUTHORITY" "http://$VIP:$PORT/reviews/1"
}

# thread_cpu BEFORE AFTER NS: each thread's CPU in % of one CPU over NS
# nanoseconds, from two thread_ticks lines (threads of one name summed).
thread_cpu() {
	"$PY" -c 'import os, sys
def parse(s):
    d = {}
    for w in s.split():
        k, v = w.rsplit("=", 1)
        d[k] = d.get(k, 0) + int(v)
    return d
a, b = parse(sys.argv[1]), parse(sys.argv[2])
s = int(sys.argv[3]) / 1e9 * os.sysconf("SC_CLK_TCK")
print(" ".join("%s=%.0f%%" % (k, 100.0 * (b[k] - a.get(k, 0)) / s) for k in sorted(b) if b[k] > a.get(k, 0)))' "$@"
}

# stat_sum REGEX FILE: the sum of the counters whose name matches REGEX.
stat_sum() { awk -v r="$1" '$1 ~ r { s += $2 } END { print s + 0 }' "$2"; }
# d REGEX: stat_sum's growth from stats-before to stats-after.
d() { echo $(( $(stat_sum "$1" "$TMP/stats-after") - $(stat_sum "$1" "$TMP/stats-before") )); }

declare -A RPS P50 P99 ERRS BUSY LBUSY SHADOW MIRRORED WDROP EREQ ERESP EDROP DROPWHY
CSV_ROWS=()

# load PROXY CASE: one wrk run from the client; fills the arrays under
# PROXY/CASE.
load() {
	local key=$1/$2 out line s0 s1 b0 b1
	local requests duration_us p50_us p99_us connect read write status timeout
	shadow_read; s0=$SC
	[ "$1" != gatewayd ] || gw_stats >"$TMP/stats-before" || die "gatewayd: /stats failed"
	log "$key: wrk keep-alive, $LOAD_DESC, $DURATION s"
	b0="$(cpu_busy "$LOAD_CPU") $(cpu_busy "$PROXY_CPU")"
	local tt0 tt1 ns0 ns1
	[ "$1" != gatewayd ] || tt0=$(thread_ticks "$GW_PID")
	ns0=$(date +%s%N)
	out=$(timeout $((DURATION + 30)) ip netns exec "$CLIENT" taskset -c "$LOAD_CPU" \
		wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$LUA" "http://$VIP:$PORT/reviews/1" \
		-- "${LOAD_ARGS[@]}" 2>&1) || die "$key: wrk failed: $out"
	b1="$(cpu_busy "$LOAD_CPU") $(cpu_busy "$PROXY_CPU")"
	ns1=$(date +%s%N)
	if [ "$1" = gatewayd ]; then
		tt1=$(thread_ticks "$GW_PID")
		# the worker (CPU 1) and the control lcore running the shadow engine (CPU 0)
		log "$key: gatewayd's threads' CPU over the load: $(thread_cpu "$tt0" "$tt1" $((ns1 - ns0)))"
	fi
	sleep 1     # copies still in flight
	shadow_read; s1=$SC
	printf '%s\n' "$out" >"$TMP/wrk-${1}-$2.log"
	line=$(grep '^BENCH ' <<<"$out") || die "$key: no summary from wrk: $out"
	# "BENCH requests=N ...": digits only, set as the locals above
	eval "$(sed 's/^BENCH //; s/\([a-z0-9_]*\)=\([0-9]*\)/\1=\2;/g' <<<"$line")"
	# shellcheck disable=SC2086 # $b0 and $b1: two numbers each
	read -r "RPS[$key]" "P50[$key]" "P99[$key]" "LBUSY[$key]" "BUSY[$key]" < <("$PY" -c 'import sys
n, d, a, b = map(int, sys.argv[1:5]); x = list(map(int, sys.argv[5:13]))
busy = lambda i: 100.0 * (x[i + 4] - x[i]) / (x[i + 5] - x[i + 1])
print("%.0f %.2f %.2f %.0f %.0f" % (n / (d / 1e6), a / 1000, b / 1000, busy(0), busy(2)))' \
		"$requests" "$duration_us" "$p50_us" "$p99_us" $b0 $b1)
	ERRS[$key]=$((connect + read + write + status + timeout))
	SHADOW[$key]=$((s1 - s0))
	MIRRORED[$key]=-; WDROP[$key]=-; EREQ[$key]=-; ERESP[$key]=-; EDROP[$key]=-; DROPWHY[$key]=-
	if [ "$1" = gatewayd ]; then
		gw_stats >"$TMP/stats-after" || die "gatewayd: /stats failed"
		cp "$TMP/stats-after" "$OUTDIR/mirror-$STAMP-gatewayd-$2.stats"
		# AF_XDP sockets' kernel counters (cumulative; port.*.xsk.*): frames
		# the kernel refused or dropped, which the PMD's imissed does not count
		log "$key: AF_XDP sockets (cumulative): $(awk '$1 ~ /^port\..*\.xsk\./ && $1 !~ /tx_ring_empty/ { printf "%s %s ", $1, $2 }' "$TMP/stats-after")"
		# drops outside the gateway: the veths' own counters
		log "$key: veth drops (cumulative): $(for i in gw-down gw-up; do printf '%s: %s; ' "$i" "$(ethtool -S "$i" 2>/dev/null | awk '$2 != 0 && $1 ~ /drop|full|err/' | tr -s ' \n' ' ')"; printf '%s rx/tx dropped: %s; ' "$i" "$(ip -s link show "$i" 2>/dev/null | awk 'f { print $4; f = 0 } /RX:|TX:/ { f = 1 }' | tr '\n' ' ')"; done)"
		log "$key: kernel TCP retransmissions (cumulative): client $(ip netns exec "$CLIENT" nstat -az -s TcpRetransSegs 2>/dev/null | awk '$1 == "TcpRetransSegs" { print $2 }'), v1 $(ip netns exec gw-httpbin-v1 nstat -az -s TcpRetransSegs 2>/dev/null | awk '$1 == "TcpRetransSegs" { print $2 }'), v2 $(ip netns exec gw-httpbin-v2 nstat -az -s TcpRetransSegs 2>/dev/null | awk '$1 == "TcpRetransSegs" { print $2 }')"
		log "$key: TCP retransmissions (cumulative): $(grep -E '^gateway\.(tcp|shadow\.tcp)\.(retransmits|rto_timeouts) ' "$TMP/stats-after" | tr '\n' ' ')"
		MIRRORED[$key]=$(d '^gateway\.http\.mirror_requests$')
		WDROP[$key]=$(d '^gateway\.http\.mirror_dropped$')
		EREQ[$key]=$(d '^gateway\.mirror\..*\.requests$')
		ERESP[$key]=$(d '^gateway\.mirror\..*\.responses$')
		EDROP[$key]=$(d '^gateway\.mirror\..*\.drop\.')
		# the reasons with a non-zero delta, "reason=N ..."
		DROPWHY[$key]=$(mirror_drops "$TMP/stats-before" "$TMP/stats-after")
		[ -n "${DROPWHY[$key]}" ] || DROPWHY[$key]=-
		# the gateway's own view of the primary's latency (request head to
		# end of response) and the shadow's, for the mirrored requests
		log "$key: gateway.mirror.*.latency_ms over the case (bucket primary shadow): $(join \
			<(awk '$1 ~ /latency_ms/ { sub(/.*latency_ms\./, "", $1); sub(/primary=/, "", $2); sub(/shadow=/, "", $3); p[$1] += $2; s[$1] += $3 } END { for (b in p) print b, p[b], s[b] }' "$TMP/stats-before" | sort) \
			<(awk '$1 ~ /latency_ms/ { sub(/.*latency_ms\./, "", $1); sub(/primary=/, "", $2); sub(/shadow=/, "", $3); p[$1] += $2; s[$1] += $3 } END { for (b in p) print b, p[b], s[b] }' "$TMP/stats-after" | sort) |
			sort -t_ -k2,2g | awk '{ printf "%s %d %d; ", $1, $4 - $2, $5 - $3 }')"
		log "$key: gateway.http.mirror_requests +${MIRRORED[$key]} mirror_dropped +${WDROP[$key]}; engine requests +${EREQ[$key]} responses +${ERESP[$key]} drops +${EDROP[$key]} (${DROPWHY[$key]}); $(grep -E '^gateway\.shadow\.(drops|connects|reused|tx_frames) ' "$TMP/stats-after" | tr '\n' ' ')"
	fi
	log "$key: ${RPS[$key]} requests/s, p50 ${P50[$key]} ms, p99 ${P99[$key]} ms, ${ERRS[$key]} errors (connect $connect read $read write $write status $status timeout $timeout), $requests requests, the fast shadow got ${SHADOW[$key]}, CPU $LOAD_CPU busy ${LBUSY[$key]}%, CPU $PROXY_CPU ${BUSY[$key]}%"
	CSV_ROWS+=("$1,$2,${RPS[$key]},${P50[$key]},${P99[$key]},${ERRS[$key]},$requests,${SHADOW[$key]},${MIRRORED[$key]},${WDROP[$key]},${EREQ[$key]},${ERESP[$key]},${EDROP[$key]},${DROPWHY[$key]},${LBUSY[$key]},${BUSY[$key]}")
	sleep 1
}

# check_case PROXY CASE: one request answered by v1; with `fast`, its copy
# reaches v2 within 5 s; with `none`, no copy does.
check_case() {
	local body n0
	shadow_read; n0=$SC
	wait_for 10 sh -c "[ \"\$(ip netns exec $CLIENT curl -s -m 3 -H 'Host: $AUTHORITY' http://$VIP:$PORT/reviews/1)\" = reviews-v1 ]" ||
		die "$1/$2: the proxy did not answer with reviews-v1: $(one_request || true)"
	body=$(one_request) || true
	[ "$body" = reviews-v1 ] || die "$1/$2: answer '$body', not reviews-v1"
	if [ "$2" = fast ]; then
		local _
		for _ in $(seq 1 25); do
			shadow_read
			[ "$SC" -le "$n0" ] || break
			sleep 0.2
		done
		[ "$SC" -gt "$n0" ] || die "$1/$2: no copy reached v2"
	else
		sleep 1
		shadow_read
		[ "$SC" -eq "$n0" ] || die "$1/$2: v2 received $((SC - n0)) requests it should not"
	fi
	log "$1/$2: checked (answer from v1, copies to v2: $([ "$2" = fast ] && echo yes || echo none))"
}

# ------------------------------------------------------------- gatewayd
# vs CASE: the VirtualService `reviews` of the case.
vs() {
	cat <<EOY
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
EOY
	case $1 in
	fast) printf '    mirror: {host: reviews, subset: v2}\n    mirrorPercentage: {value: 100}\n' ;;
	dead) printf '    mirror: {host: reviews, subset: v3}\n    mirrorPercentage: {value: 100}\n' ;;
	esac
}

gw_start "$GATEWAYD" "$CONFIG"
for c in $CASES; do
	vs "$c" >"$TMP/vs-$c.yaml"
	out=$("$GWCTL" -s "$SOCKET" apply -f "$TMP/vs-$c.yaml" 2>&1) ||
		die "gatewayd/$c: gwctl apply failed: $out"
	log "gatewayd/$c: gwctl apply: $out"
	check_case gatewayd "$c"
	load gatewayd "$c"
done
gw_stop

# ---------------------------------------------------------------- nginx
bench_peer_ns --vip

# nginx_conf CASE: the proxy's configuration; error_log at crit so that a
# dead shadow's refused connections are not logged one by one (the gateway
# only counts them).
nginx_conf() {
	local shadow=$V2_IP:$PORT mirror=yes
	[ "$1" != dead ] || shadow=$DEAD
	[ "$1" != none ] || mirror=no
	bench_nginx_conf "$1" crit "$mirror" "$shadow" v1 \
		"upstream v1 { server $V1_IP:$PORT; keepalive 64; keepalive_requests 1000000; }"
}
for c in $CASES; do
	nginx_conf "$c" >"$TMP/nginx-$c.conf"
	bg "nginx-$c" ip netns exec "$PEER" taskset -c "$PROXY_CPU" nginx -c "$TMP/nginx-$c.conf"
	wait_for 10 listening "$PEER" "$PORT" ||
		die "nginx/$c did not start: $(cat "$TMP/nginx-$c.log" "$TMP/nginx-$c.err")"
	check_case nginx "$c"
	load nginx "$c"
	stop_last
	wait_for 10 sh -c "! ip netns exec $PEER ss -Hltn 'sport = :$PORT' | grep -q ." ||
		die "nginx/$c did not stop"
done

# --------------------------------------------------------------- report
CSV=$OUTDIR/mirror-$STAMP.csv
{
	echo "proxy,case,requests_per_s,p50_ms,p99_ms,errors,requests,shadow_received,gw_mirror_requests,gw_mirror_dropped,engine_requests,engine_responses,engine_drops,engine_drop_reasons,cpu${LOAD_CPU}_busy_percent,cpu${PROXY_CPU}_busy_percent"
	printf '%s\n' "${CSV_ROWS[@]}"
} >"$CSV"

printf '\nMirroring benchmark, %s, wrk -t1 -c%s -d%ss keep-alive per case (think time %s ms), all requests routed to v1\n' \
	"$(date -u +%Y-%m-%d)" "$CONNS" "$DURATION" "$THINK"
printf 'machine: %s\n\n' "$(machine_line)"
printf '| %-8s | %-4s | %10s | %6s | %6s | %6s | %7s | %10s | %8s | %7s | %-29s | %9s | %9s |\n' \
	proxy case requests/s "p50 ms" "p99 ms" errors "vs none" "shadow got" mirrored dropped "engine drops" \
	"CPU$LOAD_CPU busy" "CPU$PROXY_CPU busy"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ------ -----------: -------: -------: -------: \
	--------: -----------: ---------: --------: ------------------------------- ----------: ----------:
MET=yes
for p in gatewayd nginx; do
	for c in $CASES; do
		k=$p/$c
		r=$(ratio "${RPS[$k]}" "${RPS[$p/none]}")
		if [ "$p" = gatewayd ] && [ "$("$PY" -c 'import sys; print(float(sys.argv[1]) >= 0.9)' "$r")" != True ]; then
			MET=no
		fi
		printf '| %-8s | %-4s | %10s | %6s | %6s | %6s | %7s | %10s | %8s | %7s | %-29s | %8s%% | %8s%% |\n' "$p" "$c" \
			"${RPS[$k]}" "${P50[$k]}" "${P99[$k]}" "${ERRS[$k]}" "$r" "${SHADOW[$k]}" \
			"${MIRRORED[$k]}" "${WDROP[$k]}" "${DROPWHY[$k]}" "${LBUSY[$k]}" "${BUSY[$k]}"
	done
done
printf '\n"shadow got": requests v2 answered over the case (its stub_status); "mirrored",\n'
printf '"dropped": gateway.http.mirror_requests and mirror_dropped over the case;\n'
printf '"engine drops": gateway.mirror.*.drop.* by reason (the engine: connect = refused).\n'
printf 'target (gatewayd keeps >= 90%% of its no-mirror requests/s in every case): %s\n' "$MET"
printf 'load average: %s at the start, %s at the end\n' "$LOADAVG0" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'CSV: %s\n' "$CSV"
