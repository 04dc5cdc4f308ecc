#!/usr/bin/env bash
# tests/system/test_foundation.sh: the gateway on the demo topology answers
# ARP and ICMP echo on both ports, resolves a backend by ARP, counts what it
# drops, stops cleanly on SIGTERM (no XDP program left on the veths), and
# tools/demo.sh down removes every gw- namespace and link.
#
# Usage: tests/system/test_foundation.sh [--help]   (root; about 30 s)
# Environment: GW_CONFIG (default drivers-config/demo-af_xdp.yaml), and those
# of tests/system/lib.sh (GATEWAYD, GW_KEEP_TOPOLOGY, ...).
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_foundation.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
gw_require_root

# GW_CONFIG: another profile, e.g. drivers-config/demo-af_packet.yaml.
CONFIG=${GW_CONFIG:-drivers-config/demo-af_xdp.yaml}
CLIENT=gw-client
GW_DOWN_IP=10.10.1.1
GW_UP_IP=10.10.2.1
V2_IP=10.10.2.12

# ---------------------------------------------------------------- topology
tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 ||
	fail "tools/demo.sh down (before the test) failed: $(tail -n 3 "$GW_TMP/demo-down-before.log")"
timeout 60 tools/demo.sh up >"$GW_TMP/demo-up.log" 2>&1 ||
	fail "tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"
check "demo topology up (tools/demo.sh status exits 0)" timeout 20 tools/demo.sh status

# ---------------------------------------------------------------- gatewayd
[ -r "$CONFIG" ] || fail "$CONFIG is missing"
if grep -q -- '--no-pci' "$CONFIG"; then
	ok "$CONFIG passes --no-pci to the EAL"
else
	not_ok "$CONFIG passes --no-pci to the EAL" "no '--no-pci' in $CONFIG"
fi
check "gatewayd --check accepts $CONFIG" timeout 30 "$GATEWAYD" -c "$CONFIG" --check

gw_start "$CONFIG"
ok "gatewayd started with $CONFIG and printed its ready line"
check "admin /ready answers LIVE" test "$(gw_admin /ready)" = LIVE

if grep -Eiq 'probe pci driver|pci device [0-9a-f]{4}:[0-9a-f]{2}:' "$GW_LOG"; then
	not_ok "no PCI probing in the gatewayd log" \
		"$(grep -Ei 'probe pci driver|pci device' "$GW_LOG" | head -n 3)"
else
	ok "no PCI probing in the gatewayd log"
fi

ports=$(gw_admin /ports || true)
diag "/ports:"; printf '%s\n' "$ports" | sed 's/^/#   /'
assert_contains "$ports" " $GW_DOWN_IP/24" "/ports lists the downstream address $GW_DOWN_IP/24"
assert_contains "$ports" " $GW_UP_IP/24" "/ports lists the upstream address $GW_UP_IP/24"

gw_mac=$(gw_port_mac "$GW_DOWN_IP" || true)
[ -n "$gw_mac" ] || fail "cannot find the MAC of the port owning $GW_DOWN_IP (in /ports or the ready line)"
diag "gateway MAC on $GW_DOWN_IP: $gw_mac (kernel MAC of gw-down: $(ns_mac "" gw-down))"

# -------------------------------------------------------------- ARP, ICMP
check "ping -c 3 from $CLIENT to $GW_DOWN_IP" \
	timeout 20 ip netns exec "$CLIENT" ping -c 3 -W 2 "$GW_DOWN_IP"
neigh=$(ip -n "$CLIENT" neigh show "$GW_DOWN_IP" | tr 'A-F' 'a-f')
assert_contains "$neigh" "lladdr $gw_mac" "$CLIENT resolved $GW_DOWN_IP to the gateway's MAC by ARP"

check "ping -c 3 from gw-httpbin-v1 to $GW_UP_IP" \
	timeout 20 ip netns exec gw-httpbin-v1 ping -c 3 -W 2 "$GW_UP_IP"

# --------------------------------------------------- neighbour resolution
v2_mac=$(ns_mac gw-httpbin-v2 eth0)
code=$(gw_admin_code POST "/neighbours/resolve?ip=$V2_IP")
assert_eq "$code" 202 "POST /neighbours/resolve?ip=$V2_IP answers 202"
# shellcheck disable=SC2317 # called through wait_until
neigh_has_v2() {
	gw_admin /neighbours | awk -v ip="$V2_IP" -v mac="$v2_mac" '
		$2 == ip && tolower($3) == mac && $4 == "REACHABLE" { f = 1 }
		END { exit !f }'
}
if wait_until 3 neigh_has_v2; then
	ok "within 3 s /neighbours shows $V2_IP at $v2_mac REACHABLE"
else
	not_ok "within 3 s /neighbours shows $V2_IP at $v2_mac REACHABLE" \
		"/neighbours:" "$(gw_admin /neighbours 2>&1 || true)"
fi

# ---------------------------------------------------------------- counters
# Counters may be aggregated on the control lcore a moment after the fact.
wait_until 3 gw_stat_ge gateway.icmp_echo_replies 6 || true
for name in rx_packets tx_packets; do
	assert_ge "$(gw_stat "gateway.$name" || true)" 1 "gateway.$name > 0"
done
assert_ge "$(gw_stat gateway.icmp_echo_replies || true)" 6 "gateway.icmp_echo_replies >= 6"
assert_ge "$(gw_stat gateway.arp_replies || true)" 1 "gateway.arp_replies >= 1"
assert_ge "$(gw_stat gateway.arp_requests_sent || true)" 1 "gateway.arp_requests_sent >= 1"

# -------------------------------------------------------------- bad frames
# UDP is not served: each datagram is dropped as l4_unsupported.
before=$(gw_stat gateway.drop.l4_unsupported || true)
if is_number "$before"; then
	ip netns exec "$CLIENT" timeout 5 bash -c \
		"for i in 1 2 3; do echo probe >/dev/udp/$GW_DOWN_IP/9; done" ||
		diag "sending UDP datagrams failed"
	if wait_until 3 gw_stat_ge gateway.drop.l4_unsupported $((before + 3)); then
		ok "3 UDP datagrams to $GW_DOWN_IP counted in gateway.drop.l4_unsupported"
	else
		not_ok "3 UDP datagrams to $GW_DOWN_IP counted in gateway.drop.l4_unsupported" \
			"before: $before, after: $(gw_stat gateway.drop.l4_unsupported || true)"
	fi
else
	not_ok "gateway.drop.l4_unsupported is exported" "/stats has no gateway.drop.l4_unsupported"
fi

# Malformed frames, sent raw from the client namespace: an unknown EtherType,
# an IPv4 header with a wrong checksum, a truncated IPv4 packet. Each must be
# dropped and counted under some gateway.drop.* counter.
send_bad_frames() {
	ip netns exec "$CLIENT" timeout 5 /usr/bin/python3 - "$1" "$2" <<'EOF'
import socket, struct, sys

dst = bytes.fromhex(sys.argv[1].replace(":", ""))
src = bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))

def ipv4(payload, proto=17, csum=None):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64,
                      proto, 0, socket.inet_aton("10.10.1.2"),
                      socket.inet_aton("10.10.1.1"))
    if csum is None:
        words = struct.unpack("!10H", hdr)
        c = sum(words)
        c = (c & 0xFFFF) + (c >> 16)
        c = (c & 0xFFFF) + (c >> 16)
        csum = ~c & 0xFFFF
    return hdr[:10] + struct.pack("!H", csum) + hdr[12:] + payload

udp = struct.pack("!HHHH", 40000, 9, 8 + 4, 0) + b"bad!"
eth = dst + src
frames = [
    eth + struct.pack("!H", 0x88B5) + b"\0" * 46,         # unknown EtherType
    eth + b"\x08\x00" + ipv4(udp, csum=0xDEAD),           # bad IPv4 checksum
    eth + b"\x08\x00" + ipv4(udp)[:14],                   # truncated IPv4
]
for i, f in enumerate(frames):
    # Pad to the Ethernet minimum like a NIC would, except the runt.
    s.send(f if i == 2 else f.ljust(60, b"\0"))
EOF
}
# shellcheck disable=SC2317 # called through wait_until
drops_grew() {
	local now
	now=$(gw_stat_sum gateway.drop.) && [ "$now" -ge $((drops_before + 3)) ]
}
drops_before=$(gw_stat_sum gateway.drop. || echo 0)
client_mac=$(ns_mac "$CLIENT" eth0)
if send_bad_frames "$gw_mac" "$client_mac"; then
	if wait_until 3 drops_grew; then
		ok "3 malformed frames counted under gateway.drop.*"
	else
		not_ok "3 malformed frames counted under gateway.drop.*" \
			"sum of gateway.drop.* before: $drops_before, after: $(gw_stat_sum gateway.drop. || true)" \
			"$(gw_admin /stats | grep -E '^gateway\.drop\.' || true)"
	fi
else
	not_ok "3 malformed frames counted under gateway.drop.*" "could not send raw frames from $CLIENT"
fi
diag "drop counters: $(gw_admin /stats | grep -E '^gateway\.drop\.' | tr '\n' ' ' || true)"

# AF_XDP ports: the kernel's socket counters are in /stats, and no frame
# was refused (a TX descriptor outside the UMEM is lost without a trace in
# the ethdev counters: see lib/port/port_pool.c)
if [[ $CONFIG == *af_xdp* ]]; then
	xsk=$(gw_admin /stats | grep -E '^port\.[^.]+\.xsk\.' || true)
	assert_ge "$(grep -c '\.xsk\.' <<<"$xsk")" 12 "/stats has the AF_XDP socket counters of both ports"
	assert_eq "$(awk '$1 ~ /xsk\.(tx_invalid_descs|rx_invalid_descs|rx_ring_full|rx_fill_ring_empty)$/ { n += $2 } END { print n + 0 }' <<<"$xsk")" 0 \
		"no frame refused or dropped by the kernel's AF_XDP sockets"
fi

# -------------------------------------------------------------------- stop
rc=0
gw_stop 10 || rc=$?
assert_eq "$rc" 0 "SIGTERM: gatewayd exits with status 0 within 10 s"
for link in gw-down gw-up; do
	if ! out=$(ip link show dev "$link" 2>&1); then
		not_ok "$link still exists after gatewayd stopped" "$out"
	elif [[ $out == *xdp* ]]; then
		not_ok "no XDP program left on $link after gatewayd stopped" "$out"
	else
		ok "$link exists and has no XDP program after gatewayd stopped"
	fi
done

# -------------------------------------------------------------------- down
check "tools/demo.sh down succeeds" timeout 30 tools/demo.sh down
assert_eq "$(ip netns list | awk '$1 ~ /^gw-/' | tr '\n' ' ')" "" "no gw- namespace after tools/demo.sh down"
assert_eq "$(ip -o link show | awk -F': ' '$2 ~ /^gw-/ { print $2 }' | tr '\n' ' ')" "" \
	"no gw- link after tools/demo.sh down"
rc=0
tools/demo.sh status >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 3 "tools/demo.sh status exits 3 (down)"

gw_finish
