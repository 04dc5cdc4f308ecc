#!/usr/bin/env bash
# tests/system/test_mirror_shadow_port.sh: mirroring through a port with
# role shadow (a third veth into a separate namespace, GW_DEMO_SHADOW=1
# tools/demo.sh up): the lab's httpbin-mirror-v2.yaml with v2 behind the
# shadow port. Every request reaches v1 through the upstream port and its
# copy reaches the shadow httpbin (Host: httpbin-shadow:8000) through the
# shadow port; captures on both veths show the mirrored traffic on the
# shadow port only, and nothing else there.
#
# Usage: tests/system/test_mirror_shadow_port.sh [--help]   (root; ~1 min)
# Environment: GWCTL (default build/app/gwctl), GW_MIRROR_SHADOW_LCORE=1
# (the shadow engine, and so the shadow port, on its own lcore) and those
# of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_mirror_shadow_port.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
GW_SOCKET=/run/gatewayd/gatewayd.sock
gw_require_root
command -v tcpdump >/dev/null || fail "tcpdump is needed"

tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 || true
GW_DEMO_SHADOW=1 timeout 90 tools/demo.sh up >"$GW_TMP/demo-up.log" 2>&1 ||
	fail "GW_DEMO_SHADOW=1 tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"
ok "demo topology up with its shadow leg"
CFG=tests/system/configs/mirror-shadow-port.yaml
if [ "${GW_MIRROR_SHADOW_LCORE:-0}" = 1 ]; then
	sed 's/^  workers: \[1\]$/  workers: [1]\n  shadow: 2/' "$CFG" >"$GW_TMP/bootstrap.yaml"
	grep -q '^  shadow: 2$' "$GW_TMP/bootstrap.yaml" || fail "cannot add lcores.shadow"
	CFG=$GW_TMP/bootstrap.yaml
	diag "the shadow engine on lcore 2"
fi
http_start "$CFG"
assert_contains "$GW_READY_LINE" "shadow0" "gatewayd started with a shadow port"

V1_LOG=$GW_DEMO_LOGS/httpbin-v1.access.log
V2_LOG=$GW_DEMO_LOGS/httpbin-v2.access.log
SH_LOG=$GW_DEMO_LOGS/httpbin-shadow.access.log
N=20

# On the far end of each veth: frames the gateway sends (AF_PACKET
# bypasses the qdisc, so a capture on the gateway's end misses them) and
# those it receives.
TCPDUMP_PIDS=()
capture() {  # capture NS IF FILE
	ip netns exec "$1" tcpdump -i "$2" -nn -U -w "$3" 'tcp or arp' >"$3.log" 2>&1 &
	TCPDUMP_PIDS+=($!)
}
capture gw-httpbin-shadow eth0 "$GW_TMP/shadow.pcap"
capture gw-upstream to-gw "$GW_TMP/up.pcap"
sleep 1

if out=$("$GWCTL" -s "$GW_SOCKET" apply -f tests/fixtures/istio/seed/httpbin-mirror-v2.yaml 2>&1); then
	ok "gwctl apply -f httpbin-mirror-v2.yaml"
else
	not_ok "gwctl apply -f httpbin-mirror-v2.yaml" "$out"
fi
v1b=$(log_lines "$V1_LOG"); v2b=$(log_lines "$V2_LOG"); shb=$(log_lines "$SH_LOG")
good=0
for i in $(seq 1 $N); do
	body=$(ccurl -H "x-request-id: sp-$i" http://httpbin:8000/headers | tr -d ' \n' || true)
	[[ $body != *'"Host":"httpbin:8000"'* ]] || good=$((good + 1))
done
assert_eq "$good" $N "the client got v1's answer every time"
wait_until 10 test "$(( $(log_lines "$SH_LOG") - shb ))" -ge $N || true
sleep 1
kill "${TCPDUMP_PIDS[@]}" 2>/dev/null || true
wait "${TCPDUMP_PIDS[@]}" 2>/dev/null || true

assert_eq "$(( $(log_lines "$V1_LOG") - v1b ))" $N "v1 (upstream port) served all $N"
assert_eq "$(( $(log_lines "$SH_LOG") - shb ))" $N "the shadow httpbin (shadow port) got all $N copies"
assert_eq "$(( $(log_lines "$V2_LOG") - v2b ))" 0 "the upstream leg's v2 got nothing"
n=$(tail -n $N "$SH_LOG" | grep -c 'host="httpbin-shadow:8000"' || true)
assert_eq "$n" $N "the copies carry Host: httpbin-shadow:8000"

# what each wire carried
sh_all=$(tcpdump -nn -r "$GW_TMP/shadow.pcap" tcp 2>/dev/null | wc -l)
sh_other=$(tcpdump -nn -r "$GW_TMP/shadow.pcap" 'tcp and not (host 10.10.3.12 and host 10.10.3.1 and tcp port 80)' 2>/dev/null | wc -l)
sh_syn=$(tcpdump -nn -r "$GW_TMP/shadow.pcap" 'tcp[13] & 2 != 0 and tcp[13] & 16 == 0' 2>/dev/null | wc -l)
up_shadow=$(tcpdump -nn -r "$GW_TMP/up.pcap" 'host 10.10.3.12 or portrange 56000-60999' 2>/dev/null | wc -l)
up_v1=$(tcpdump -nn -r "$GW_TMP/up.pcap" 'tcp and host 10.10.2.11' 2>/dev/null | wc -l)
diag "gw-shadow: $sh_all TCP segments ($sh_syn SYNs); gw-up: $up_v1 segments to/from v1"
assert_ge "$sh_all" $((N * 3)) "the shadow port carried the mirrored requests"
assert_ge "$sh_syn" 1 "the shadow connections were opened on the shadow port"
assert_eq "$sh_other" 0 "the shadow port carried nothing but shadow connections"
assert_ge "$up_v1" $((N * 3)) "the upstream port carried the primary requests"
assert_eq "$up_shadow" 0 "the upstream port carried no mirrored traffic"

stats=$(gw_admin /stats || true)
assert_contains "$stats" "gateway.mirror.default/httpbin/0.outbound|8000|v2|httpbin.responses $N" "stats: $N shadow responses for the route"

gw_finish
