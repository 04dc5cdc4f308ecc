#!/usr/bin/env bash
# tests/system/test_l4_limits.sh: the connection limit of the L4 proxy.
# With a connection table of 64 TCBs per worker (so at most 32 proxied
# sessions each), a client holds 28 connections per worker and tries 20
# more: the held ones all work, the extra ones beyond the limit are refused
# (their SYNs dropped, or reset) and counted, the held ones still echo
# 64 KiB each afterwards
# (unharmed), and once they are closed new connections succeed again.
#
# Usage: tests/system/test_l4_limits.sh [--help]   (root; about 1 minute)
# Environment: GW_L4_PROFILE (1w or 2w, see wip_l4_proxy.sh), GW_CONFIG,
# and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_l4_limits.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
gw_require_root

PROFILE=${GW_L4_PROFILE:-1w}
case $PROFILE in
1w) CONFIG=tests/system/configs/l4-limits-af_xdp.yaml QUEUES=1 WORKERS=1 ;;
2w)
	# the two-worker profile with the same small table
	CONFIG=$GW_TMP/l4-limits-2w.yaml QUEUES=2 WORKERS=2
	sed 's/^  connections_per_worker: .*/  connections_per_worker: 64/' \
		tests/system/configs/l4-af_packet-2w.yaml >"$CONFIG"
	;;
*) fail "GW_L4_PROFILE must be 1w or 2w, not '$PROFILE'" ;;
esac
CONFIG=${GW_CONFIG:-$CONFIG}
CLIENT=gw-client
GW_IP=10.10.1.1
# 28 sessions per worker fit (56 TCBs of 64); the extra 20 per worker cannot
# all fit. With two workers the kernel's fanout decides who gets which
# connection, so hold a little less than twice as many.
HOLD=$((WORKERS == 1 ? 28 : 44))
EXTRA=$((20 * WORKERS))
diag "profile $PROFILE: $CONFIG; hold $HOLD, then $EXTRA more"

tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 ||
	fail "tools/demo.sh down (before the test) failed"
GW_DEMO_VETH_QUEUES=$QUEUES timeout 90 tools/demo.sh up >"$GW_TMP/demo-up.log" 2>&1 ||
	fail "tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"
l4_server gw-httpbin-v1 echo-v1 echo --port 7000
l4_server gw-httpbin-v2 echo-v2 echo --port 7000
gw_start "$CONFIG"
grep -q 'connections_per_worker: 64' "$CONFIG" || fail "$CONFIG must set connections_per_worker: 64"

refused_before=$(( $(gw_stat_or tcp.conns_refused_limit 0) + $(gw_stat_or l4.no_session 0) ))
summary=$(l4_tool "$CLIENT" limits --host "$GW_IP" --port 9000 --hold "$HOLD" \
	--extra "$EXTRA" --conn-timeout 2 --settle 3 --timeout 400 2>"$GW_TMP/limits.err") ||
	fail "l4_tool limits failed: $(tail -n 5 "$GW_TMP/limits.err")"
diag "limits: $summary"
field() { "$GW_PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$summary" "$1"; }

assert_eq "$(field held_ok)" "$HOLD" "all $HOLD connections under the limit work"
extra_ok=$(field extra_ok)
if [ "$extra_ok" -lt "$EXTRA" ]; then
	ok "connections beyond the limit are refused ($((EXTRA - extra_ok)) of $EXTRA: $(field extra_errors))"
else
	not_ok "connections beyond the limit are refused" "all $EXTRA extra connections worked"
fi
assert_eq "$(field still_ok)" "$(field held_total)" \
	"every connection established before the limit still echoes 64 KiB (unharmed)"
refused=$(( $(gw_stat_or tcp.conns_refused_limit 0) + $(gw_stat_or l4.no_session 0) - refused_before ))
diag "tcp.conns_refused_limit $(gw_stat_or tcp.conns_refused_limit absent), l4.no_session $(gw_stat_or l4.no_session absent), l4.upstream_connect_failures $(gw_stat_or l4.upstream_connect_failures absent)"
assert_ge "$refused" 1 "refusals at the limit are counted (tcp.conns_refused_limit + l4.no_session)"
assert_eq "$(field after_ok)" "$EXTRA" "after the held connections close, $EXTRA new connections succeed"

gw_admin /stats >"$GW_TMP/stats-end.txt" 2>/dev/null || true
rc=0
gw_stop 15 || rc=$?
assert_eq "$rc" 0 "gatewayd exits with status 0 on SIGTERM"
gw_finish
