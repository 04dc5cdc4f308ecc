#!/usr/bin/env bash
# tests/system/test_l4_synflood.sh: a SYN flood against the L4 proxy's
# listener does not keep real clients out. From the client namespace,
# 30,000 SYNs with spoofed sources (random hosts of 10.10.1.0/24 that do
# not exist) at a bounded 8,000 per second; meanwhile 100 real connections
# each echo 1 to 64 KiB through the gateway. Every real connection must
# succeed with identical bytes, the gateway must have answered with SYN
# cookies once the listener's SYN queue was full (and validated some), and
# a connection after the flood still works.
#
# Usage: tests/system/test_l4_synflood.sh [--help]   (root; about 1 minute)
# Environment: GW_L4_PROFILE (1w or 2w, see wip_l4_proxy.sh), GW_CONFIG,
# GW_SYN_COUNT (30000), GW_SYN_RATE (8000 per second), and those of
# tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_l4_synflood.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
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
SYN_COUNT=${GW_SYN_COUNT:-30000}
SYN_RATE=${GW_SYN_RATE:-8000}
CLIENT=gw-client
GW_IP=10.10.1.1
diag "profile $PROFILE: $CONFIG"

tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 ||
	fail "tools/demo.sh down (before the test) failed"
GW_DEMO_VETH_QUEUES=$QUEUES timeout 90 tools/demo.sh up >"$GW_TMP/demo-up.log" 2>&1 ||
	fail "tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"
l4_server gw-httpbin-v1 echo-v1 echo --port 7000
l4_server gw-httpbin-v2 echo-v2 echo --port 7000
gw_start "$CONFIG"

# Steady state first: the gateway has resolved both backends (a flood of
# spoofed on-link sources fills the queue of packets waiting for ARP).
for i in 1 2 3 4; do
	out=$(l4_tool "$CLIENT" probe --host "$GW_IP" --port 9000 --send 1000 --seed "$i" --timeout 10 || true)
	[ "$out" = echo ] || fail "warm-up connection $i: $out"
done
ok "warm-up connections through both backends"

cookies_before=$(gw_stat_or tcp.syncookies_sent 0)
ok_before=$(gw_stat_or tcp.syncookies_ok 0)

# ------------------------------------------------------------------ flood
diag "flood: $SYN_COUNT spoofed SYNs at $SYN_RATE/s to $GW_IP:9000"
l4_tool "$CLIENT" synflood --src-net 10.10.1 --first-host 100 --last-host 250 \
	--dst "$GW_IP" --port 9000 --count "$SYN_COUNT" --rate "$SYN_RATE" \
	--timeout 60 >"$GW_TMP/synflood.log" 2>&1 &
flood_pid=$!
# let the SYN queue fill before the real clients come
sleep 1

if l4_tool "$CLIENT" client --host "$GW_IP" --port 9000 --conns 100 \
	--parallel 10 --min 1024 --max 65536 --seed 77 \
	--report "$GW_TMP/client.report" --conn-timeout 30 --timeout 120 \
	>"$GW_TMP/client.log" 2>&1; then
	ok "100 real connections during the flood all succeed ($(tail -n 1 "$GW_TMP/client.log"))"
else
	not_ok "100 real connections during the flood all succeed" \
		"$(tail -n 15 "$GW_TMP/client.log")"
fi
if kill -0 "$flood_pid" 2>/dev/null; then
	ok "the flood was still going when the real clients were done"
else
	diag "the flood ended before the real clients"
fi
rc=0
wait "$flood_pid" || rc=$?
assert_eq "$rc" 0 "the flood sent all $SYN_COUNT SYNs ($(cat "$GW_TMP/synflood.log"))"

cookies=$(( $(gw_stat_or tcp.syncookies_sent 0) - cookies_before ))
validated=$(( $(gw_stat_or tcp.syncookies_ok 0) - ok_before ))
diag "SYN cookies sent $cookies, validated $validated, failed $(gw_stat_or tcp.syncookies_failed absent)"
assert_ge "$cookies" 1 "SYN cookies were sent once the SYN queue was full"
assert_ge "$validated" 1 "real clients completed handshakes with SYN cookies"

gw_admin /stats >"$GW_TMP/stats-flood.txt" 2>/dev/null || true

# ------------------------------------------------------------ after flood
out=$(l4_tool "$CLIENT" probe --host "$GW_IP" --port 9000 --send 100000 --timeout 10 || true)
assert_eq "$out" echo "a connection after the flood echoes 100000 bytes"

rc=0
gw_stop 15 || rc=$?
assert_eq "$rc" 0 "gatewayd exits with status 0 on SIGTERM"
gw_finish
