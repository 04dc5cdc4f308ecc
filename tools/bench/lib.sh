# tools/bench/lib.sh: helpers shared by tools/bench-l4.sh,
# tools/bench-http.sh and tools/bench-mirror.sh, sourced, not run. The
# script sets PROG, ROOT (the repository, the current directory), BUILD
# (for bench_need_built), PROXY_CPU, and LOAD_CPU (for bench_backend) first;
# these helpers then use:
#   TMP        the run's scratch directory (bench_begin makes it)
#   PIDS       background processes bg started, stopped by bench_cleanup
#   GW_PID     gatewayd, started by gw_start
#   TP_PID     another process bench_cleanup stops first (dpdk-testpmd)
# The demo topology's names and addresses (docs/demo.md) are set here.
# The names below are used by the sourcing scripts.
# shellcheck shell=bash disable=SC2034

CLIENT=gw-client
PEER=gw-peer
GW_IP=10.10.1.1
VIP=10.96.0.20
PORT=9080
AUTHORITY=reviews:$PORT
V1_IP=10.10.2.11
V2_IP=10.10.2.12
PY=/usr/bin/python3
HUGE_ENV=/run/gatewayd/hugepages.env
ADMIN=http://127.0.0.1:15000
SOCKET=/run/gatewayd/gatewayd.sock
PIDS=()
GW_PID=
TP_PID=

log()  { printf '%s: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

# bench_help FILE: the script's header comment, from line 2 to `set -euo`.
bench_help() { sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$1"; }

# Argument checks; each dies (status 1) naming the option and what it takes.
# bench_need_value OPTION [VALUE...]: OPTION has a value, not empty.
bench_need_value() { [ -n "${2:-}" ] || die "$1 needs a value (see --help)"; }
# bench_unknown_arg ARG: an argument no option of the script takes.
bench_unknown_arg() { die "unknown argument: $1 (see --help)"; }
# bench_parse_args "OPTION=VARIABLE ..." ARG...: the script's options, each
# taking a value that goes to VARIABLE, and -h/--help (bench_help, exit 0).
bench_parse_args() {
	local spec=" $1 " var
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) bench_help "$0"; exit 0 ;;
		*[[:space:]=]*) bench_unknown_arg "$1" ;;
		esac
		case $spec in
		*" $1="*) var=${spec#*" $1="}; var=${var%% *} ;;
		*) bench_unknown_arg "$1" ;;
		esac
		bench_need_value "$@"
		printf -v "$var" '%s' "$2"
		shift 2
	done
}
# bench_check_int OPTION VALUE MIN MAX [UNIT]: VALUE is a whole number from
# MIN to MAX; at most 9 digits, since test(1) cannot compare longer ones
# (its error would let them pass).
bench_check_int() {
	if ! [[ $2 =~ ^[0-9]{1,9}$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		die "$1 must be $3..$4${5:+ ($5)}, not '$2'"
	fi
}
# bench_check_out_dir DIR: --out's DIR (relative to the repository, the
# current directory) exists or is created, and is writable.
bench_check_out_dir() {
	local err
	case $1 in
	-*) die "--out $1: a directory, not an option (see --help)" ;;
	esac
	err=$(mkdir -p -- "$1" 2>&1) || die "--out $1: ${err#mkdir: }"
	[ -w "$1" ] || die "--out $1: the directory is not writable"
}

# Prerequisites, each dying with what to run.
bench_need_root() { [ "$(id -u)" -eq 0 ] || die "needs root (namespaces, DPDK)"; }
# bench_need_built FILE...: programs of the build directory BUILD.
bench_need_built() {
	local f
	for f; do
		[ -x "$f" ] || die "$f missing: run tools/setup.sh (or ninja -C $BUILD)"
	done
}
# bench_need_files FILE...: the repository's files the run reads.
bench_need_files() {
	local f
	for f; do
		[ -r "$f" ] || die "$f missing"
	done
}
# bench_need_cmds CMD...: commands tools/setup.sh installs.
bench_need_cmds() {
	local c
	for c; do
		command -v "$c" >/dev/null || die "$c missing: run tools/setup.sh"
	done
}

# bench_begin NAME: root, the topology lock, no topology and no gatewayd
# left by someone else; then TMP (/tmp/NAME.XXXXXX) and the exit traps.
bench_begin() {
	bench_need_root
	# shellcheck source=tools/topology-lock.sh
	. "$ROOT/tools/topology-lock.sh"
	gw_topology_lock || die "the demo topology stays busy"
	if ip netns list 2>/dev/null | grep -q '^gw-'; then
		gw_topology_unlock
		die "a gw-* topology exists (another test or demo?); tools/demo.sh down first"
	fi
	if pgrep -x gatewayd >/dev/null; then
		gw_topology_unlock
		die "gatewayd is running (pid $(pgrep -x gatewayd | tr '\n' ' ')); stop it first"
	fi
	TMP=$(mktemp -d "/tmp/$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_cleanup: the exit trap: stop what the run started, take the
# topology down, keep the logs when the run failed, release the lock.
bench_cleanup() {
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

# bench_topology_up: tools/demo.sh up (the namespaces, veths and bridge).
bench_topology_up() {
	log "topology: tools/demo.sh up"
	timeout 90 "$ROOT/tools/demo.sh" up >"$TMP/demo-up.log" 2>&1 ||
		die "tools/demo.sh up failed: $(tail -n 5 "$TMP/demo-up.log")"
}

# bench_backend NAME NAMESPACE LISTEN BODY: an nginx backend (one worker,
# pinned to LOAD_CPU with the client) answering BODY from memory on
# LISTEN (a port or address:port), with stub_status on /nginx_status
# (stub_requests counts its requests).
bench_backend() {
	local name=$1 ns=$2 listen=$3 body=$4
	cat >"$TMP/nginx-$name.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $TMP/nginx-$name.pid;
error_log $TMP/nginx-$name.err warn;
events { worker_connections 8000; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen $listen backlog=4096;
        default_type text/plain;
        location = /nginx_status { stub_status; }
        location / { return 200 "$body\n"; }
    }
}
EOF
	bg "nginx-$name" ip netns exec "$ns" taskset -c "$LOAD_CPU" nginx -c "$TMP/nginx-$name.conf"
	wait_for 10 listening "$ns" "${listen##*:}" ||
		die "the $name backend (nginx) did not start: $(cat "$TMP/nginx-$name.log" "$TMP/nginx-$name.err")"
}

# stub_requests NAMESPACE ADDRESS:PORT: the requests a bench_backend has
# answered so far, this one included (stub_status's third line).
stub_requests() {
	local n
	n=$(ip netns exec "$1" curl -sf -m 2 "http://$2/nginx_status" |
		awk 'NR == 3 { print $3 }') || die "$2's stub_status failed"
	[ -n "$n" ] || die "$2's stub_status: no request count"
	printf '%s\n' "$n"
}

# bench_peer_ns [--vip]: namespace gw-peer takes over the two root-side
# veth ends with the gateway's addresses, for the kernel's proxies; with
# --vip, the VIP too (the HTTP proxies listen on it).
bench_peer_ns() {
	local vip=
	case ${1:-} in
	--vip) vip=$VIP ;;
	'') ;;
	*) die "bench_peer_ns: unknown argument $1" ;;
	esac
	log "namespace $PEER takes gw-down and gw-up with the gateway's addresses${vip:+ and the VIP}"
	ip netns add "$PEER"
	ip -n "$PEER" link set lo up
	[ -z "$vip" ] || ip -n "$PEER" addr add "$vip/32" dev lo
	ip link set gw-down netns "$PEER"
	ip link set gw-up netns "$PEER"
	ip -n "$PEER" addr add "$GW_IP/24" dev gw-down
	ip -n "$PEER" addr add 10.10.2.1/24 dev gw-up
	ip -n "$PEER" link set gw-down up
	ip -n "$PEER" link set gw-up up
	ip netns exec "$PEER" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" \
		net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=4096
}

# bench_nginx_conf TAG LEVEL MIRROR SHADOW PASS ROUTING: nginx as the
# kernel's peer proxy on $VIP:$PORT in $PEER (one worker, keep-alive to the
# backends, pid and error log $TMP/nginx-TAG.*, error_log at LEVEL).
# Requests go to `proxy_pass http://PASS`, an upstream or a variable that
# the http-level lines ROUTING define; with MIRROR yes, nginx's `mirror`
# copies every request to SHADOW (host:port) with Host reviews-shadow. The
# headers are set in each location: a location with any proxy_set_header
# inherits none from the http level, and without `Connection ""` the
# upstream connections are not kept alive.
bench_nginx_conf() {
	local tag=$1 level=$2 mirror='' shadow=$4 pass=$5 routing=$6
	# shellcheck disable=SC2016 # nginx variables
	local headers='proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto http;
            proxy_set_header X-Request-Id $request_id;'
	case $3 in
	yes) mirror='mirror /mirror;' ;;
	no) ;;
	*) die "bench_nginx_conf: MIRROR is yes or no, not $3" ;;
	esac
	cat <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $TMP/nginx-$tag.pid;
error_log $TMP/nginx-$tag.err $level;
events { worker_connections 8000; }
http {
    access_log off;
    keepalive_requests 1000000;
    proxy_http_version 1.1;
    $routing
    upstream shadow { server $shadow; keepalive 64; keepalive_requests 1000000; }
    server {
        listen $VIP:$PORT backlog=4096;
        location / {
            $mirror
            proxy_pass http://$pass;
            proxy_set_header Host \$http_host;
            $headers
        }
        location = /mirror {
            internal;
            proxy_pass http://shadow\$request_uri;
            proxy_set_header Host reviews-shadow:$PORT;
            $headers
        }
    }
}
EOF
}

# bench_no_huge: 0 when tools/setup.sh found no hugepages (run DPDK with
# --no-huge -m 1024).
bench_no_huge() { [ -r "$HUGE_ENV" ] && grep -qx 'GW_NO_HUGE=1' "$HUGE_ENV"; }

# gw_start GATEWAYD CONFIG: start gatewayd in the background (log in
# $TMP/gatewayd.log, pid in GW_PID) and wait until it is ready.
gw_start() {
	local extra=()
	! bench_no_huge || extra=(--eal-extra "--no-huge -m 1024")
	log "gatewayd: $1 -c $2 ${extra[*]}"
	stdbuf -oL -eL "$1" -c "$2" "${extra[@]}" >"$TMP/gatewayd.log" 2>&1 &
	GW_PID=$!
	wait_for 60 gw_ready || die "gatewayd did not get ready: $(tail -n 20 "$TMP/gatewayd.log")"
}
gw_ready() {
	grep -q '^gatewayd ready:' "$TMP/gatewayd.log" &&
		[ "$(curl -sf -m 2 "$ADMIN/ready")" = LIVE ]
}

# gw_stop: SIGTERM, and a clean exit within 20 s.
gw_stop() {
	local rc=0
	kill -TERM "$GW_PID"
	timeout 20 tail --pid="$GW_PID" -f /dev/null || rc=$?
	wait "$GW_PID" || rc=$?
	GW_PID=
	[ "$rc" -eq 0 ] || die "gatewayd did not stop cleanly (status $rc)"
}

# gw_stats: the gateway's counters as "name value" lines.
gw_stats() { curl -sf -m 3 "$ADMIN/stats"; }

# mirror_drops BEFORE AFTER: the shadow engine's drops between two /stats
# files by reason, "reason=N ..." (gateway.mirror.*.drop.REASON summed
# over routes; only reasons that grew), empty when none.
mirror_drops() {
	# shellcheck disable=SC2016 # an awk program
	local f='$1 ~ /^gateway\.mirror\..*\.drop\./ { sub(/.*\.drop\./, "", $1); s[$1] += $2 } END { for (r in s) print r, s[r] }'
	join <(awk "$f" "$1" | sort) <(awk "$f" "$2" | sort) |
		awk '$3 > $2 { printf "%s%s=%d", n++ ? " " : "", $1, $3 - $2 }'
}

# cpu_busy CPU: busy and total jiffies of CPU since boot ("busy total").
cpu_busy() {
	awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat
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

# ratio A B: A / B with two decimals, "-" when B is 0.
ratio() { "$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); print("%.2f" % (a / b) if b else "-")' "$1" "$2"; }

# machine_line: "N CPUs, model, kernel K", for the reports.
machine_line() {
	printf '%s CPUs, %s, kernel %s\n' "$(nproc)" \
		"$(lscpu | awk -F': +' '/^Model name/ { print $2; exit }')" "$(uname -r)"
}
