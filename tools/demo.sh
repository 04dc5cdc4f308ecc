#!/usr/bin/env bash
# tools/demo.sh: the demo topology (network namespaces standing in for the
# wire, see docs/demo.md) and the command that runs the gateway on it.
#
#   gw-client (10.10.1.2) --veth-- [gw-down | gatewayd | gw-up] --veth--
#       br0 in gw-upstream --veth-- gw-httpbin-v1 (10.10.2.11)
#                          --veth-- gw-httpbin-v2 (10.10.2.12)
#
# With GW_DEMO_SHADOW=1 a third leg carries mirrored traffic (a port with
# role shadow, docs/mirroring.md):
#   [gatewayd | gw-shadow] --veth-- gw-httpbin-shadow (10.10.3.12)
#
# Everything it creates is named gw-*, so that `down` finds it even when the
# state file is gone. Every step of `up` checks before it acts: running `up`
# on a partial topology completes it.
set -euo pipefail

PROG=demo.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=/run/gatewayd
DEMO_DIR=$RUN_DIR/demo
STATE=$RUN_DIR/demo.state
HUGE_ENV=$RUN_DIR/hugepages.env
GATEWAYD=${GATEWAYD:-$ROOT/build/app/gatewayd}
GUNICORN=/usr/bin/gunicorn   # Debian's, with python3-httpbin (not pyenv's)

NS_CLIENT=gw-client
NS_UPSTREAM=gw-upstream
BACKENDS=(v1 v2)
declare -A BACKEND_IP=([v1]=10.10.2.11 [v2]=10.10.2.12)
CLIENT_IP=10.10.1.2
GW_DOWN_IP=10.10.1.1     # the gateway's address on gw-down (owned by DPDK)
GW_UP_IP=10.10.2.1       # the gateway's address on gw-up (owned by DPDK)
SERVICE_VIP=10.96.0.10   # the httpbin ServiceEntry's address
MTU=1500
# Queues per veth, each way (GW_DEMO_VETH_QUEUES, default 1): 2 for a
# two-worker gateway on AF_XDP (one socket per queue).
VETH_QUEUES=${GW_DEMO_VETH_QUEUES:-1}
# GW_DEMO_SHADOW=1: the shadow leg (gw-shadow <-> gw-httpbin-shadow).
SHADOW=${GW_DEMO_SHADOW:-0}
GW_SHADOW_IP=10.10.3.1   # the gateway's address on gw-shadow (owned by DPDK)
BACKEND_IP[shadow]=10.10.3.12
if [ "$SHADOW" = 1 ]; then BACKENDS+=(shadow); fi
BACKEND_READY_TIMEOUT=20 # seconds
GW_READY_TIMEOUT=60      # seconds

usage() {
	cat <<EOF
Usage: tools/demo.sh up|down|status|run [--no-build] | --help

  up      create the namespaces, veths and bridge, start httpbin v1 and v2
          (idempotent: completes a partial topology)
  down    stop the backends, delete every gw-* namespace and link and the
          state files (no error when already down)
  status  print namespaces, links, backends and addresses;
          exit 0 when fully up, 3 when down, 1 when partial
  run     tools/setup.sh, then up, then build/app/gatewayd in the
          foreground with
          drivers-config/demo-af_xdp.yaml (falling back to
          drivers-config/demo-af_packet.yaml); Ctrl-C stops the gateway and
          leaves the topology up; --no-build: tools/setup.sh --no-build

Topology (details in docs/demo.md):
  netns $NS_CLIENT     eth0 $CLIENT_IP/24, default via $GW_DOWN_IP,
                      /etc/hosts: httpbin -> $SERVICE_VIP
  root                gw-down <-> $NS_CLIENT/eth0   (gatewayd: $GW_DOWN_IP)
  root                gw-up   <-> $NS_UPSTREAM/to-gw (gatewayd: $GW_UP_IP)
  netns $NS_UPSTREAM   bridge br0: to-gw, to-v1, to-v2
  netns gw-httpbin-v1 eth0 ${BACKEND_IP[v1]}/24, gunicorn httpbin:app on :80
  netns gw-httpbin-v2 eth0 ${BACKEND_IP[v2]}/24, gunicorn httpbin:app on :80

Files: $STATE (what up created), $DEMO_DIR/httpbin-vN.{pid,log,access.log},
$DEMO_DIR/gatewayd.log (run).

Environment:
  GATEWAYD   gatewayd binary for run (default build/app/gatewayd)
  GW_DEMO_VETH_QUEUES  RX/TX queues of each veth (default 1; up remakes
             veths with another count)
  GW_DEMO_SHADOW=1  also the shadow leg: gw-shadow <-> netns
             gw-httpbin-shadow (eth0 ${BACKEND_IP[shadow]}/24, default via
             $GW_SHADOW_IP) with httpbin, for a port with role shadow
EOF
}

log()  { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "$1 needs root (network namespaces, veths)"
}

# nsip NS ARGS...: ip in namespace NS, or in the root namespace when NS is "".
nsip() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip -n "$ns" "$@"; else ip "$@"; fi
}

# nsexec NS CMD...: run CMD in namespace NS (root namespace when NS is "").
nsexec() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

ns_exists()   { [ -e "/run/netns/$1" ]; }
link_exists() { nsip "$1" link show dev "$2" >/dev/null 2>&1; }
gw_netns()    { ip netns list 2>/dev/null | awk '$1 ~ /^gw-/ { print $1 }'; }
gw_links()    { ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); if ($2 ~ /^gw-/) print $2 }'; }
backend_ns()  { printf 'gw-httpbin-%s' "$1"; }

state_add() {
	grep -qxF "$*" "$STATE" 2>/dev/null || printf '%s\n' "$*" >>"$STATE"
}

# ---------------------------------------------------------------------- up
ensure_ns() {
	local ns=$1
	if ! ns_exists "$ns"; then
		log "creating netns $ns"
		ip netns add "$ns"
	fi
	state_add "netns $ns"
	ip -n "$ns" link set lo up
	# IPv4 only for now (DESIGN.md §2): no router solicitations, MLD or DAD
	# in captures and drop counters.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# ensure_veth NS_A IF_A NS_B IF_B: a veth pair IF_A (in NS_A) <-> IF_B (in
# NS_B, never ""); NS_A "" is the root namespace. A half left over, or a
# pair with another number of queues than VETH_QUEUES, is removed and remade.
ensure_veth() {
	local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4
	if link_exists "$ns_a" "$if_a" && link_exists "$ns_b" "$if_b" &&
		nsip "$ns_a" -d link show dev "$if_a" | grep -q "numrxqueues $VETH_QUEUES "; then
		return 0
	fi
	link_exists "$ns_a" "$if_a" && nsip "$ns_a" link del dev "$if_a"
	link_exists "$ns_b" "$if_b" && nsip "$ns_b" link del dev "$if_b"
	log "creating veth ${ns_a:-root}/$if_a <-> $ns_b/$if_b"
	# One queue each way by default: an AF_XDP socket serves one queue, and
	# with more the peer's transmit queue choice would hide flows from it
	# (a two-worker gateway asks for two, one socket each).
	nsip "$ns_a" link add name "$if_a" numtxqueues "$VETH_QUEUES" \
		numrxqueues "$VETH_QUEUES" type veth peer name "$if_b" \
		numtxqueues "$VETH_QUEUES" numrxqueues "$VETH_QUEUES" netns "$ns_b"
	[ -n "$ns_a" ] || state_add "link $if_a"
}

# Root-side ends belong to gatewayd (DPDK af_xdp/af_packet): up, no address,
# no IPv6, no offloads the PMD would not expect.
setup_root_end() {
	local dev=$1
	ip link set dev "$dev" mtu "$MTU" up
	ip addr flush dev "$dev"
	sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" >/dev/null
	ethtool -K "$dev" rx off tx off >/dev/null 2>&1 || warn "ethtool -K $dev rx off tx off failed"
}

# Namespace-side ends: the kernel must put real checksums on what it sends,
# since the gateway checks them (veth would otherwise leave them partial).
setup_ns_end() {
	local ns=$1 dev=$2
	ip -n "$ns" link set dev "$dev" mtu "$MTU" up
	ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1 ||
		warn "ethtool -K $dev tx off failed in $ns"
}

setup_client() {
	ensure_ns "$NS_CLIENT"
	ensure_veth "" gw-down "$NS_CLIENT" eth0
	setup_root_end gw-down
	setup_ns_end "$NS_CLIENT" eth0
	ip -n "$NS_CLIENT" addr replace "$CLIENT_IP/24" dev eth0
	ip -n "$NS_CLIENT" route replace default via "$GW_DOWN_IP" dev eth0

	# `ip netns exec` bind-mounts /etc/netns/NS/* over /etc/*.
	mkdir -p "/etc/netns/$NS_CLIENT"
	cat >"/etc/netns/$NS_CLIENT/hosts.tmp" <<EOF
# Written by tools/demo.sh for the netns $NS_CLIENT (ip netns exec bind-mounts
# this file over /etc/hosts). httpbin is the ServiceEntry's VIP, which the
# gateway owns; clients reach it through the default route via $GW_DOWN_IP.
127.0.0.1	localhost
$CLIENT_IP	$NS_CLIENT
$SERVICE_VIP	httpbin httpbin-shadow
EOF
	mv "/etc/netns/$NS_CLIENT/hosts.tmp" "/etc/netns/$NS_CLIENT/hosts"
	state_add "file /etc/netns/$NS_CLIENT"
}

setup_upstream() {
	local v ns
	ensure_ns "$NS_UPSTREAM"
	if ! link_exists "$NS_UPSTREAM" br0; then
		log "creating bridge br0 in $NS_UPSTREAM"
		# STP off: ports forward at once, no 15 s listening/learning delay.
		ip -n "$NS_UPSTREAM" link add name br0 type bridge stp_state 0
	fi
	ip -n "$NS_UPSTREAM" link set dev br0 mtu "$MTU" up
	ip netns exec "$NS_UPSTREAM" ethtool -K br0 tx off >/dev/null 2>&1 || true

	ensure_veth "" gw-up "$NS_UPSTREAM" to-gw
	setup_root_end gw-up
	setup_ns_end "$NS_UPSTREAM" to-gw
	ip -n "$NS_UPSTREAM" link set dev to-gw master br0

	for v in "${BACKENDS[@]}"; do
		[ "$v" != shadow ] || continue   # its own leg (setup_shadow)
		ns=$(backend_ns "$v")
		ensure_ns "$ns"
		ensure_veth "$NS_UPSTREAM" "to-$v" "$ns" eth0
		setup_ns_end "$NS_UPSTREAM" "to-$v"
		ip -n "$NS_UPSTREAM" link set dev "to-$v" master br0
		setup_ns_end "$ns" eth0
		ip -n "$ns" addr replace "${BACKEND_IP[$v]}/24" dev eth0
		ip -n "$ns" route replace default via "$GW_UP_IP" dev eth0
	done
}

# backend_pid V: the gunicorn master of backend V, if it is running.
backend_pid() {
	local pidf=$DEMO_DIR/httpbin-$1.pid pid
	[ -s "$pidf" ] || return 1
	pid=$(<"$pidf")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	# The pid must still be a process in the backend's namespace.
	ip netns pids "$(backend_ns "$1")" 2>/dev/null | grep -qx "$pid" || return 1
	printf '%s\n' "$pid"
}

backend_answers() {
	local code
	code=$(ip netns exec "$(backend_ns "$1")" curl -s -o /dev/null -m 1 \
		-w '%{http_code}' http://127.0.0.1:80/get 2>/dev/null) || true
	[ "$code" = 200 ]
}

start_backend() {
	local v=$1 ns pid i
	ns=$(backend_ns "$v")
	if pid=$(backend_pid "$v") && backend_answers "$v"; then
		log "httpbin-$v already running (pid $pid)"
		return 0
	fi
	[ -x "$GUNICORN" ] || die "$GUNICORN not found (run tools/setup.sh)"
	kill_ns_processes "$ns"
	log "starting httpbin-$v in $ns on ${BACKEND_IP[$v]}:80"
	: >"$DEMO_DIR/httpbin-$v.access.log"
	# The access log adds the Host and x-request-id request headers to
	# gunicorn's default format: a mirrored request shows Host: ...-shadow.
	ip netns exec "$ns" setsid "$GUNICORN" \
		--access-logfile "$DEMO_DIR/httpbin-$v.access.log" \
		--access-logformat '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" host="%({host}i)s" request_id="%({x-request-id}i)s"' \
		-b 0.0.0.0:80 httpbin:app \
		</dev/null >>"$DEMO_DIR/httpbin-$v.log" 2>&1 &
	printf '%s\n' "$!" >"$DEMO_DIR/httpbin-$v.pid"
	state_add "pid httpbin-$v $DEMO_DIR/httpbin-$v.pid"
	for ((i = 0; i < BACKEND_READY_TIMEOUT * 4; i++)); do
		if backend_answers "$v"; then
			log "httpbin-$v is answering (pid $(<"$DEMO_DIR/httpbin-$v.pid"))"
			return 0
		fi
		backend_pid "$v" >/dev/null || {
			tail -n 20 "$DEMO_DIR/httpbin-$v.log" >&2 || true
			die "httpbin-$v exited (log: $DEMO_DIR/httpbin-$v.log)"
		}
		sleep 0.25
	done
	tail -n 20 "$DEMO_DIR/httpbin-$v.log" >&2 || true
	die "httpbin-$v did not answer on 127.0.0.1:80 within ${BACKEND_READY_TIMEOUT}s"
}

# The shadow leg: a third veth straight into the shadow backend's
# namespace (no bridge: one backend).
setup_shadow() {
	local ns
	ns=$(backend_ns shadow)
	ensure_ns "$ns"
	ensure_veth "" gw-shadow "$ns" eth0
	setup_root_end gw-shadow
	setup_ns_end "$ns" eth0
	ip -n "$ns" addr replace "${BACKEND_IP[shadow]}/24" dev eth0
	ip -n "$ns" route replace default via "$GW_SHADOW_IP" dev eth0
}

cmd_up() {
	local v
	need_root up
	command -v ethtool >/dev/null || die "ethtool missing (run tools/setup.sh)"
	mkdir -p "$DEMO_DIR"
	touch "$STATE"
	setup_client
	setup_upstream
	if [ "$SHADOW" = 1 ]; then setup_shadow; fi
	for v in "${BACKENDS[@]}"; do
		start_backend "$v"
	done
	log "topology up: client $NS_CLIENT ($CLIENT_IP) -> gw-down | gatewayd | gw-up -> httpbin v1 ${BACKEND_IP[v1]}, v2 ${BACKEND_IP[v2]}"
}

# -------------------------------------------------------------------- down
# kill_ns_processes NS: TERM, then KILL after 5 s, every process in NS.
kill_ns_processes() {
	local ns=$1 pids i
	ns_exists "$ns" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # one pid per word
	kill -TERM $pids 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	warn "processes in $ns ignored SIGTERM, killing: ${pids//$'\n'/ }"
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
	sleep 0.2
}

cmd_down() {
	local ns link pidf pid i
	need_root down
	if pgrep -x gatewayd >/dev/null 2>&1; then
		warn "gatewayd is running (pid $(pgrep -x gatewayd | tr '\n' ' ')); its ports go away now"
	fi
	for pidf in "$DEMO_DIR"/httpbin-*.pid; do
		[ -e "$pidf" ] || continue
		pid=$(<"$pidf")
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			log "stopping $(basename "$pidf" .pid) (pid $pid)"
			kill -TERM "$pid" 2>/dev/null || true
		fi
		rm -f "$pidf"
	done
	for ns in $(gw_netns); do
		kill_ns_processes "$ns"
		log "deleting netns $ns"
		ip netns del "$ns" || warn "cannot delete netns $ns"
	done
	# Deleting a namespace deletes its veth ends and so their root peers, a
	# moment later (the kernel cleans namespaces up asynchronously); anything
	# left after that is from an interrupted run.
	for ((i = 0; i < 20; i++)); do
		[ -n "$(gw_links)" ] || break
		sleep 0.1
	done
	for link in $(gw_links); do
		log "deleting link $link"
		ip link del dev "$link" 2>/dev/null || true
	done
	for ns in /etc/netns/gw-*; do
		[ -e "$ns" ] || continue
		rm -rf "$ns"
	done
	rm -f "$STATE"
	log "topology down"
}

# ------------------------------------------------------------------ status
cmd_status() {
	local want=0 have=0 ns link v pid
	local all_ns=("$NS_CLIENT" "$NS_UPSTREAM")
	for v in "${BACKENDS[@]}"; do all_ns+=("$(backend_ns "$v")"); done

	echo "namespaces:"
	for ns in "${all_ns[@]}"; do
		want=$((want + 1))
		if ns_exists "$ns"; then
			have=$((have + 1)); echo "  $ns: present"
		else
			echo "  $ns: MISSING"
		fi
	done
	echo "links (root namespace, owned by gatewayd):"
	local links=(gw-down gw-up)
	if [ "$SHADOW" = 1 ]; then links+=(gw-shadow); fi
	for link in "${links[@]}"; do
		want=$((want + 1))
		if link_exists "" "$link" && ip -o link show dev "$link" | grep -q 'state UP\|,UP'; then
			have=$((have + 1))
			echo "  $(ip -br link show dev "$link")$(ip -o link show dev "$link" | grep -o ' xdp[a-z]*' | head -n1)"
		elif link_exists "" "$link"; then
			echo "  $link: DOWN"
		else
			echo "  $link: MISSING"
		fi
	done
	echo "backends:"
	for v in "${BACKENDS[@]}"; do
		want=$((want + 1))
		if pid=$(backend_pid "$v") 2>/dev/null; then
			have=$((have + 1))
			echo "  httpbin-$v: running (pid $pid) on ${BACKEND_IP[$v]}:80"
		else
			echo "  httpbin-$v: NOT RUNNING"
		fi
	done
	echo "addresses:"
	ns_exists "$NS_CLIENT" && ip -n "$NS_CLIENT" -br addr show dev eth0 2>/dev/null | sed "s/^/  $NS_CLIENT: /"
	for v in "${BACKENDS[@]}"; do
		ns=$(backend_ns "$v")
		ns_exists "$ns" && ip -n "$ns" -br addr show dev eth0 2>/dev/null | sed "s/^/  $ns: /"
	done
	echo "  gatewayd: $GW_DOWN_IP on gw-down, $GW_UP_IP on gw-up (DPDK, not the kernel)"

	if [ "$have" -eq "$want" ]; then
		echo "status: up"; return 0
	elif [ "$have" -eq 0 ] && [ -z "$(gw_netns)" ] && [ -z "$(gw_links)" ]; then
		echo "status: down"; return 3
	fi
	echo "status: partial ($have of $want parts)"
	return 1
}

# --------------------------------------------------------------------- run
GW_PID=

forward_signal() {
	if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
		log "forwarding SIG$1 to gatewayd (pid $GW_PID)"
		kill -s "$1" "$GW_PID" 2>/dev/null || true
	fi
}

# start_gatewayd CONFIG EXTRA...: start gatewayd in the background with its
# output on the terminal and in $DEMO_DIR/gatewayd.log; returns 0 once it
# prints its ready line, 1 (after reaping it) if it exits before that.
start_gatewayd() {
	local cfg=$1 logf=$DEMO_DIR/gatewayd.log i rc; shift
	: >"$logf"
	log "starting: $GATEWAYD -c $cfg $*"
	# Line-buffered stdout so that the ready line reaches the log at once.
	stdbuf -oL -eL "$GATEWAYD" -c "$cfg" "$@" > >(tee -i -a "$logf") 2>&1 &
	GW_PID=$!
	for ((i = 0; i < GW_READY_TIMEOUT * 10; i++)); do
		grep -q '^gatewayd ready:' "$logf" 2>/dev/null && return 0
		if ! kill -0 "$GW_PID" 2>/dev/null; then
			rc=0; wait "$GW_PID" || rc=$?
			warn "gatewayd exited with status $rc before it was ready"
			GW_PID=
			return 1
		fi
		sleep 0.1
	done
	warn "gatewayd printed no ready line within ${GW_READY_TIMEOUT}s; leaving it running"
	return 0
}

print_howto() {
	cat <<EOF

$PROG: gatewayd is serving. From another terminal:
  ip netns exec $NS_CLIENT ping $GW_DOWN_IP            # ICMP echo, answered by the gateway
  ip netns exec $NS_CLIENT curl -s http://httpbin:8000/headers   # the lab: v1 and v2 in turn
  build/app/gwctl apply -f tests/fixtures/istio/seed/httpbin-all-v1.yaml  # then v1 only
  curl http://127.0.0.1:15000/stats                   # counters
  curl http://127.0.0.1:15000/ports                   # ports, MACs, addresses
  curl http://127.0.0.1:15000/neighbours              # ARP table
  tail -f $DEMO_DIR/httpbin-v1.access.log $DEMO_DIR/httpbin-v2.access.log
Ctrl-C stops the gateway; the topology stays up (tools/demo.sh down removes it).

EOF
}

cmd_run() {
	local extra=() rc cfg_xdp=$ROOT/drivers-config/demo-af_xdp.yaml
	local cfg_pkt=$ROOT/drivers-config/demo-af_packet.yaml
	need_root run
	"$ROOT/tools/setup.sh" "$@"
	cmd_up
	{ [ -f "$GATEWAYD" ] && [ -x "$GATEWAYD" ]; } || die "$GATEWAYD not found (tools/setup.sh should have built it)"
	if [ -r "$HUGE_ENV" ] && grep -qx 'GW_NO_HUGE=1' "$HUGE_ENV"; then
		warn "no hugepages ($HUGE_ENV): running gatewayd with --no-huge"
		extra=(--eal-extra "--no-huge -m 1024")
	fi
	trap 'forward_signal INT' INT
	trap 'forward_signal TERM' TERM
	# the demo profiles preload drivers-config/istio/demo-services.yaml by a
	# path relative to the repository root
	cd "$ROOT"

	if ! start_gatewayd "$cfg_xdp" "${extra[@]}"; then
		warn "net_af_xdp did not start; retrying with net_af_packet ($cfg_pkt)"
		# An XDP program left by the failed attempt would take the frames.
		ip link set dev gw-down xdp off 2>/dev/null || true
		ip link set dev gw-up xdp off 2>/dev/null || true
		start_gatewayd "$cfg_pkt" "${extra[@]}" ||
			die "gatewayd did not start (log: $DEMO_DIR/gatewayd.log)"
	fi
	print_howto

	rc=0
	while :; do
		wait "$GW_PID" || rc=$?
		kill -0 "$GW_PID" 2>/dev/null || break
	done
	# The status of a reaped child stays available to wait.
	rc=0; wait "$GW_PID" || rc=$?
	log "gatewayd exited with status $rc; the topology is still up (tools/demo.sh down removes it)"
	return "$rc"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
run)
	shift
	case ${1:-} in
	'') cmd_run ;;
	--no-build) cmd_run --no-build ;;
	*) usage >&2; die "run: unknown option: $1" ;;
	esac
	;;
-h|--help|help) usage ;;
'') usage >&2; exit 2 ;;
*) usage >&2; die "unknown verb: $1" ;;
esac
