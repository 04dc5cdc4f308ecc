#!/usr/bin/env bash
# tests/system/test_l4_proxy.sh: the L4 proxy (Istio tcp routes) between the
# kernel's TCP in the client namespace and echo servers in both backend
# namespaces of the demo topology:
#   - 200 connections carrying 1 KiB to 16 MiB each way, 20 at a time:
#     sha256 of what the client sent, of what each echo server received and
#     of what came back are identical; the 50/50 route spreads them over v1
#     and v2;
#   - a listener without a route, a backend port where nothing listens and
#     a backend that resets: the client connection is reset each time, and
#     each case is counted;
#   - the counters the issue names exist (retransmissions, out-of-order,
#     SYN cookies, resets, copied bytes, L4 sessions and bytes);
#   - gatewayd stops cleanly.
#
# Usage: tests/system/test_l4_proxy.sh [--help]   (root; about 2 minutes)
# Environment:
#   GW_L4_PROFILE  1w (default: AF_XDP, one worker) or 2w (AF_PACKET, two
#                  workers, veths with two queues)
#   GW_CONFIG      another bootstrap (default from the profile)
#   GW_L4_CONNS, GW_L4_PARALLEL, GW_L4_MAX   connections (200), at a time
#                  (20), largest size in bytes (16777216)
# and those of tests/system/lib.sh (GATEWAYD, GW_KEEP_TOPOLOGY, ...).
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_l4_proxy.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
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
PARALLEL=${GW_L4_PARALLEL:-20}
MAX=${GW_L4_MAX:-16777216}
CLIENT=gw-client
GW_IP=10.10.1.1
diag "profile $PROFILE: $CONFIG"

# ---------------------------------------------------------------- topology
tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 ||
	fail "tools/demo.sh down (before the test) failed"
GW_DEMO_VETH_QUEUES=$QUEUES timeout 90 tools/demo.sh up >"$GW_TMP/demo-up.log" 2>&1 ||
	fail "tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"
l4_server gw-httpbin-v1 echo-v1 echo --port 7000 --log "$GW_TMP/echo-v1.sha"
l4_server gw-httpbin-v2 echo-v2 echo --port 7000 --log "$GW_TMP/echo-v2.sha"
l4_server gw-httpbin-v1 reset-v1 reset --port 7400 --after 1024

gw_start "$CONFIG"
ok "gatewayd started with $CONFIG"

# ---------------------------------------------------- refused connections
out=$(l4_tool "$CLIENT" probe --host "$GW_IP" --port 9001 --timeout 10 || true)
case $out in
refused|reset) ok "listener 9001 has no route: the client connection is refused ($out)" ;;
*) not_ok "listener 9001 has no route: the client connection is refused" "probe: $out" ;;
esac
if wait_until 5 gw_stat_ge l4.no_route 1; then
	ok "no-route refusal counted (l4.no_route $(gw_l4_stat no_route))"
else
	not_ok "no-route refusal counted" "l4.no_route: $(gw_l4_stat no_route || echo absent)"
fi

out=$(l4_tool "$CLIENT" probe --host "$GW_IP" --port 9300 --timeout 10 || true)
assert_eq "$out" reset "backend port without a listener (9300): the client connection is reset"
if wait_until 5 gw_stat_ge l4.upstream_connect_failures 1; then
	ok "upstream connect failure counted ($(gw_l4_stat upstream_connect_failures))"
else
	not_ok "upstream connect failure counted" \
		"l4.upstream_connect_failures: $(gw_l4_stat upstream_connect_failures || echo absent)"
fi

resets_before=$(gw_stat_or l4.resets_propagated 0)
out=$(l4_tool "$CLIENT" probe --host "$GW_IP" --port 9400 --send 262144 --timeout 10 || true)
assert_eq "$out" reset "backend resets after 1 KiB (9400): the client connection is reset"
if wait_until 5 gw_stat_ge l4.resets_propagated $((resets_before + 1)); then
	ok "backend reset propagated and counted ($(gw_l4_stat resets_propagated))"
else
	not_ok "backend reset propagated and counted" \
		"l4.resets_propagated: $(gw_l4_stat resets_propagated || echo absent)"
fi

# ------------------------------------------- many connections, many sizes
up_before=$(gw_stat_or l4.bytes_to_upstream 0)
diag "$CONNS connections, $PARALLEL at a time, 1024 to $MAX bytes each way"
start=$SECONDS
if l4_tool "$CLIENT" client --host "$GW_IP" --port 9000 --conns "$CONNS" \
	--parallel "$PARALLEL" --min 1024 --max "$MAX" --seed 20261125 \
	--report "$GW_TMP/client.report" --conn-timeout 240 --timeout 420 \
	>"$GW_TMP/client.log" 2>&1; then
	ok "$CONNS connections: every echo identical to what was sent ($(tail -n 1 "$GW_TMP/client.log"))"
else
	not_ok "$CONNS connections: every echo identical to what was sent" \
		"$(tail -n 15 "$GW_TMP/client.log")"
fi
diag "client done in $((SECONDS - start)) s"

# What each echo server received is what the client sent (upstream
# direction on its own): every sent sha256 is in a server's log.
total=0 missing=0
while read -r _ size status sent_sha _; do
	[ "$status" = ok ] || continue
	total=$((total + size))
	grep -q " $size $sent_sha ok$" "$GW_TMP/echo-v1.sha" "$GW_TMP/echo-v2.sha" ||
		missing=$((missing + 1))
done <"$GW_TMP/client.report"
assert_eq "$missing" 0 "each echo server received exactly the bytes sent (sha256 in its log)"
v1=$(wc -l <"$GW_TMP/echo-v1.sha")
v2=$(wc -l <"$GW_TMP/echo-v2.sha")
diag "connections per backend: v1 $v1, v2 $v2"
assert_ge "$v1" $((CONNS * 2 / 5)) "the 50/50 tcp route sends v1 at least 40% of the connections"
assert_ge "$v2" $((CONNS * 2 / 5)) "the 50/50 tcp route sends v2 at least 40% of the connections"

up_after=$(gw_stat_or l4.bytes_to_upstream 0)
assert_ge "$((up_after - up_before))" "$total" "l4.bytes_to_upstream counts every byte sent ($total)"
assert_ge "$(gw_stat_or l4.bytes_to_downstream 0)" "$total" "l4.bytes_to_downstream counts every byte echoed"

# ----------------------------------------------------------------- counters
for name in tcp.retransmits tcp.fast_retransmits tcp.out_of_order \
	tcp.syncookies_sent tcp.syncookies_ok tcp.resets_in tcp.resets_out \
	tcp.copied_bytes l4.sessions l4.active l4.resets_propagated \
	l4.bytes_to_upstream l4.bytes_to_downstream l4.no_route \
	l4.upstream_connect_failures; do
	v=$(gw_stat "$name" || true)
	if is_number "$v"; then
		ok "/stats has $name ($v)"
	else
		not_ok "/stats has $name" "got '${v:-nothing}'"
	fi
done
# shellcheck disable=SC2317 # called through wait_until
l4_idle() { [ "$(gw_stat_or l4.active x)" = 0 ]; }
if wait_until 10 l4_idle; then
	ok "every session ended (l4.active 0)"
else
	not_ok "every session ended" "l4.active $(gw_stat_or l4.active absent)"
fi
diag "copied bytes: $(gw_stat_or tcp.copied_bytes absent) (ports without multi-segment TX copy)"

# -------------------------------------------------------------------- stop
gw_admin /stats >"$GW_TMP/stats-end.txt" 2>/dev/null || true
rc=0
gw_stop 15 || rc=$?
assert_eq "$rc" 0 "gatewayd exits with status 0 on SIGTERM"
gw_finish
