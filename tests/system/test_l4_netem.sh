#!/usr/bin/env bash
# tests/system/test_l4_netem.sh: the L4 proxy over impaired links.
#
#   1. Both veths of the demo topology (client side and backend side) get,
#      in each direction, 10 ms delay, 5% loss, 2% reordering and 1%
#      duplication. 200 connections carrying 1 KiB to 16 MiB each way
#      through the L4 proxy: sha256 identical end to end; the gateway
#      counts retransmissions and out-of-order segments.
#   2. Delay only, 12.5 ms per veth and direction (50 ms round trip from
#      client to backend): a 4 MiB transfer through the L4 proxy reaches at
#      least 70% of the throughput of the kernel-to-kernel path (the same
#      two veths, the gateway replaced by a kernel router in namespace
#      gw-peer) under the same delay: window scaling works.
#
# Impairments: `tc netem` when the kernel has sch_netem (egress of the
# namespace-side veth ends, and their ingress through an ifb device, since
# the gateway's transmissions bypass the root-side qdiscs). Without it
# (some kernels are built without CONFIG_NET_SCH_NETEM), a userspace netem
# in namespace gw-wire relays frames between each veth and its namespace
# (tests/system/l4_tool.py wire, netem's loss/duplicate/reorder/delay
# semantics).
#
# Usage: tests/system/test_l4_netem.sh [--help]   (root; about 5 minutes)
# Environment: GW_L4_PROFILE (1w or 2w, see wip_l4_proxy.sh), GW_CONFIG,
# GW_L4_CONNS (200), GW_L4_PARALLEL (40), GW_L4_MAX (16777216),
# GW_NETEM=wire to use the userspace netem even with sch_netem, and those
# of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_l4_netem.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
gw_require_root

PROFILE=${GW_L4_PROFILE:-1w}
case $PROFILE in
1w) CONFIG=tests/system/configs/l4-af_xdp.yaml QUEUES=1 ;;
2w) CONFIG=tests/system/configs/l4-af_packet-2w.yaml QUEUES=2 ;;
*) fail "GW_L4_PROFILE must be 1w or 2w, not '$PROFILE'" ;;
esac
CONFIG=${GW_CONFIG:-$CONFIG}
CONNS=${GW_L4_CONNS:-200}
PARALLEL=${GW_L4_PARALLEL:-40}
MAX=${GW_L4_MAX:-16777216}
CLIENT=gw-client
UPSTREAM=gw-upstream
WIRE=gw-wire
PEER=gw-peer
GW_IP=10.10.1.1
diag "profile $PROFILE: $CONFIG"

tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 ||
	fail "tools/demo.sh down (before the test) failed"
GW_DEMO_VETH_QUEUES=$QUEUES timeout 90 tools/demo.sh up >"$GW_TMP/demo-up.log" 2>&1 ||
	fail "tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"

# ------------------------------------------------------------ impairments
# How: "netem" (tc) or "wire" (userspace relays in $WIRE).
MODE=wire
if [ "${GW_NETEM:-}" != wire ] &&
	ip netns exec "$CLIENT" tc qdisc add dev eth0 root netem delay 1ms 2>/dev/null; then
	ip netns exec "$CLIENT" tc qdisc del dev eth0 root 2>/dev/null || true
	MODE=netem
fi
diag "impairments by $MODE"

# Namespace-side end of each veth (netem mode) and its ifb.
NS_ENDS=("$CLIENT eth0 ifb-gw0" "$UPSTREAM to-gw ifb-gw1")

# quiet_offloads NS IF: no offloads that would hand a relay super-frames.
quiet_offloads() {
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 || true
}

# netem_setup: an ifb per namespace end, fed by the end's ingress.
netem_setup() {
	local e ns dev ifb
	for e in "${NS_ENDS[@]}"; do
		read -r ns dev ifb <<<"$e"
		ip -n "$ns" link add "$ifb" type ifb
		ip -n "$ns" link set "$ifb" up
		ip netns exec "$ns" tc qdisc add dev "$dev" handle ffff: ingress
		ip netns exec "$ns" tc filter add dev "$dev" parent ffff: protocol all \
			u32 match u32 0 0 action mirred egress redirect dev "$ifb"
	done
}

# wire_setup: move each namespace-side end into $WIRE and give the namespace
# a new veth to $WIRE; l4_tool.py wire relays between the two.
#   gw-down <-> w-gw [relay] w-cl <-> eth0 (gw-client)
#   gw-up   <-> w-gu [relay] w-up <-> to-gw (gw-upstream, in br0)
wire_setup() {
	ip netns add "$WIRE"
	ip -n "$WIRE" link set lo up
	ip netns exec "$WIRE" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	ip -n "$CLIENT" link set eth0 netns "$WIRE"
	ip -n "$WIRE" link set eth0 name w-gw
	ip -n "$CLIENT" link add eth0 type veth peer name w-cl netns "$WIRE"
	ip -n "$CLIENT" link set eth0 mtu 1500 up
	ip -n "$CLIENT" addr add 10.10.1.2/24 dev eth0
	ip -n "$CLIENT" route replace default via "$GW_IP" dev eth0
	quiet_offloads "$CLIENT" eth0

	ip -n "$UPSTREAM" link set to-gw netns "$WIRE"
	ip -n "$WIRE" link set to-gw name w-gu
	ip -n "$UPSTREAM" link add to-gw type veth peer name w-up netns "$WIRE"
	ip -n "$UPSTREAM" link set to-gw mtu 1500 master br0 up
	quiet_offloads "$UPSTREAM" to-gw
	for dev in w-gw w-cl w-gu w-up; do
		ip -n "$WIRE" link set "$dev" mtu 1500 promisc on up
		quiet_offloads "$WIRE" "$dev"
	done
}

WIRE_PIDS=()
wire_stop() {
	local p
	for p in "${WIRE_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	WIRE_PIDS=()
}

# impair DELAY_MS LOSS% REORDER% DUP%: on both veths, both directions.
impair() {
	local delay=$1 loss=$2 reorder=$3 dup=$4 e ns dev ifb args
	diag "impairment: delay ${delay} ms, loss $loss%, reorder $reorder%, duplicate $dup% (each veth, each way)"
	if [ "$MODE" = netem ]; then
		args=(delay "${delay}ms" loss "$loss%" duplicate "$dup%")
		[ "$reorder" = 0 ] || args+=(reorder "$reorder%")
		for e in "${NS_ENDS[@]}"; do
			read -r ns dev ifb <<<"$e"
			ip netns exec "$ns" tc qdisc replace dev "$dev" root netem "${args[@]}"
			ip netns exec "$ns" tc qdisc replace dev "$ifb" root netem "${args[@]}"
		done
		return 0
	fi
	wire_stop
	# ip netns exec execs python: $! is the relay itself, for wire_stop
	ip netns exec "$WIRE" "$GW_PYTHON" "$GW_L4_TOOL" wire --a w-gw --b w-cl \
		--delay-ms "$delay" --loss "$loss" --reorder "$reorder" --dup "$dup" \
		--seed 1 --timeout 900 >>"$GW_TMP/wire-client.log" 2>&1 &
	WIRE_PIDS+=($!)
	ip netns exec "$WIRE" "$GW_PYTHON" "$GW_L4_TOOL" wire --a w-gu --b w-up \
		--delay-ms "$delay" --loss "$loss" --reorder "$reorder" --dup "$dup" \
		--seed 2 --timeout 900 >>"$GW_TMP/wire-upstream.log" 2>&1 &
	WIRE_PIDS+=($!)
	sleep 0.5
	for e in "${WIRE_PIDS[@]}"; do
		kill -0 "$e" 2>/dev/null ||
			fail "the userspace netem exited: $(tail -n 5 "$GW_TMP"/wire-*.log)"
	done
	# exactly one relay per link
	[ "$(ip netns pids "$WIRE" | wc -l)" -eq 2 ] ||
		fail "expected 2 relays in $WIRE, found: $(ip netns pids "$WIRE" | tr '\n' ' ')"
}

if [ "$MODE" = netem ]; then netem_setup; else wire_setup; fi
impair 0 0 0 0

l4_server gw-httpbin-v1 echo-v1 echo --port 7000 --log "$GW_TMP/echo-v1.sha"
l4_server gw-httpbin-v2 echo-v2 echo --port 7000 --log "$GW_TMP/echo-v2.sha"
l4_server gw-httpbin-v1 sink-v1 sink --port 7200
gw_start "$CONFIG"
check "the client pings the gateway across the impaired veth" \
	timeout 10 ip netns exec "$CLIENT" ping -c 2 -W 2 "$GW_IP"
check "a backend pings the gateway across the impaired veth" \
	timeout 10 ip netns exec gw-httpbin-v1 ping -c 2 -W 2 10.10.2.1

# --------------------------------------------- 1. loss, reordering, dups
impair 10 5 2 1
rtx_before=$(gw_stat_or tcp.retransmits 0)
ooo_before=$(gw_stat_or tcp.out_of_order 0)
diag "$CONNS connections, $PARALLEL at a time, 1024 to $MAX bytes each way"
start=$SECONDS
if l4_tool "$CLIENT" client --host "$GW_IP" --port 9000 --conns "$CONNS" \
	--parallel "$PARALLEL" --min 1024 --max "$MAX" --seed 4242 \
	--report "$GW_TMP/client.report" --conn-timeout 400 --timeout 440 \
	>"$GW_TMP/client.log" 2>&1; then
	ok "$CONNS connections under loss/reorder/dup/delay: every echo identical ($(tail -n 1 "$GW_TMP/client.log"))"
else
	not_ok "$CONNS connections under loss/reorder/dup/delay: every echo identical" \
		"$(tail -n 15 "$GW_TMP/client.log")"
fi
diag "client done in $((SECONDS - start)) s"
missing=0
while read -r _ size status sent_sha _; do
	[ "$status" = ok ] || continue
	grep -q " $size $sent_sha ok$" "$GW_TMP/echo-v1.sha" "$GW_TMP/echo-v2.sha" ||
		missing=$((missing + 1))
done <"$GW_TMP/client.report"
assert_eq "$missing" 0 "each echo server received exactly the bytes sent (sha256 in its log)"
rtx=$(( $(gw_stat_or tcp.retransmits 0) - rtx_before ))
ooo=$(( $(gw_stat_or tcp.out_of_order 0) - ooo_before ))
diag "gateway: retransmissions $rtx, out-of-order segments $ooo, fast retransmits $(gw_stat_or tcp.fast_retransmits absent), RTO timeouts $(gw_stat_or tcp.rto_timeouts absent), duplicates $(gw_stat_or tcp.dup_segments absent)"
assert_ge "$rtx" 1 "the gateway counted retransmissions"
assert_ge "$ooo" 1 "the gateway counted out-of-order segments"

# ---------------------------------------- 2. window scaling at 50 ms RTT
impair 12.5 0 0 0
BYTES=$((4 * 1024 * 1024))
# best_of N NS HOST PORT: the best of N 4 MiB transfers, in Mbit/s.
best_of() {
	local n=$1 ns=$2 host=$3 port=$4 i out best=0
	for ((i = 0; i < n; i++)); do
		out=$(l4_tool "$ns" bulk --host "$host" --port "$port" --bytes "$BYTES" \
			--timeout 60 2>&1) || { diag "bulk to $host:$port failed: $out" >&2; continue; }
		diag "  $host:$port: $out (bytes, seconds, Mbit/s)" >&2
		best=$("$GW_PYTHON" -c 'import sys; print(max(float(sys.argv[1]), float(sys.argv[2].split()[2])))' "$best" "$out")
	done
	printf '%s\n' "$best"
}
proxy=$(best_of 3 "$CLIENT" "$GW_IP" 9200)
gw_admin /stats >"$GW_TMP/stats-end.txt" 2>/dev/null || true
rc=0
gw_stop 15 || rc=$?
assert_eq "$rc" 0 "gatewayd exits with status 0 on SIGTERM"

# The kernel-to-kernel path: the gateway's veth ends in a router namespace.
ip netns add "$PEER"
ip -n "$PEER" link set lo up
ip link set gw-down netns "$PEER"
ip link set gw-up netns "$PEER"
ip -n "$PEER" addr add "$GW_IP/24" dev gw-down
ip -n "$PEER" addr add 10.10.2.1/24 dev gw-up
ip -n "$PEER" link set gw-down up
ip -n "$PEER" link set gw-up up
ip netns exec "$PEER" sysctl -qw net.ipv4.ip_forward=1
kernel=$(best_of 3 "$CLIENT" 10.10.2.11 7200)
diag "4 MiB at 50 ms RTT: L4 proxy $proxy Mbit/s, kernel-to-kernel $kernel Mbit/s"
if "$GW_PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.7 * float(sys.argv[2]) > 0 else 1)' "$proxy" "$kernel"; then
	ok "4 MiB at 50 ms RTT through the L4 proxy: $proxy Mbit/s, at least 70% of the kernel's $kernel Mbit/s"
else
	not_ok "4 MiB at 50 ms RTT through the L4 proxy reaches 70% of the kernel-to-kernel path" \
		"L4 proxy $proxy Mbit/s, kernel $kernel Mbit/s"
fi
wire_stop
gw_finish
