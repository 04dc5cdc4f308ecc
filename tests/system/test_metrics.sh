#!/usr/bin/env bash
# tests/system/test_metrics.sh: what an operator scrapes and inspects on a
# running gateway (the demo topology, httpbin v1/v2, httpbin's ServiceEntry
# preloaded and the lab's httpbin-all-v1 applied with gwctl):
#   - after 20 requests to http://httpbin:8000 and 3 to an unknown host,
#     GET /stats/prometheus is valid Prometheus text (tests/system/
#     prom_check.py, a strict checker; also `promtool check metrics` when
#     promtool is installed), istio_requests_total counts the 20 under
#     destination_service="httpbin", destination_version="v1",
#     response_code="200" and the 3 under response_code="404",
#     response_flags="NR", destination_service="unknown"; the duration
#     histogram counts the same requests; the gateway_* families show the
#     workers' packets and the HTTP proxy's requests; the apply shows in
#     the apply latency histogram;
#   - `gwctl stats --prometheus` (and -o prometheus) gives the same
#     families, also valid;
#   - dpdk-telemetry.py -f gatewayd lists the /gateway/ commands;
#     /gateway/workers gives the worker count of the ready line and
#     /gateway/requests the 20 requests;
#   - dpdk-dumpcap (a secondary process, through rte_pdump) captures
#     packets of the downstream port while curl runs;
#   - gatewayd stops cleanly.
#
# Usage: tests/system/test_metrics.sh [--help]   (root; about 30 seconds)
# Environment: GW_HTTP_PROFILE (1w, 2w), GWCTL (default build/app/gwctl)
# and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_metrics.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
gw_require_root
GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
PROM_CHECK=$GW_ROOT/tests/system/prom_check.py
SOCKET=/run/gatewayd/gatewayd.sock
PREFIX=gatewayd    # --file-prefix of the test profiles: telemetry, pdump
[ -x "$GWCTL" ] || fail "gwctl binary $GWCTL not found (run tools/setup.sh)"
diag "profile $GW_HTTP_PROFILE: $GW_HTTP_CONFIG"

# prom_sum FILE NAME K=V...: the sum of NAME's samples matching every K=V.
prom_sum() {
	local file=$1 name=$2 m=(); shift 2
	for kv in "$@"; do m+=(-m "$kv"); done
	"$GW_PYTHON" "$PROM_CHECK" --sum "$name" "${m[@]}" "$file"
}

# families FILE: the "# TYPE" lines, sorted.
families() {
	grep '^# TYPE ' "$1" | sort
}

http_topology_up
# httpbin's ServiceEntry only: the lab's rules come through gwctl, so that
# the apply is a change (a new snapshot, an apply latency sample)
CFG=$(http_config tests/system/configs/httpbin-service.yaml)
http_start "$CFG"
ok "gatewayd started with httpbin's ServiceEntry"
workers=$(sed -n 's/.*; workers \([0-9]*\).*/\1/p' <<<"$GW_READY_LINE")
is_number "$workers" || fail "no worker count in the ready line: $GW_READY_LINE"

out=$("$GWCTL" -s "$SOCKET" apply -f tests/fixtures/istio/seed/httpbin-all-v1.yaml 2>&1) ||
	not_ok "gwctl apply -f httpbin-all-v1.yaml" "$out"
assert_contains "$out" "virtualservice.networking.istio.io/httpbin created" "the lab's httpbin-all-v1 applied through gwctl"

# ------------------------------------------------------------ traffic
N=20
codes=""
for _ in $(seq 1 $N); do
	codes+="$(ccurl -o /dev/null -w '%{http_code}' http://httpbin:8000/headers || echo 000) "
done
assert_eq "$(tr ' ' '\n' <<<"$codes" | grep -c '^200$')" $N "$N requests to http://httpbin:8000/headers answered 200"
codes=""
for _ in 1 2 3; do
	codes+="$(ccurl -o /dev/null -w '%{http_code}' -H 'Host: nosuch.test' http://10.10.1.1:8080/ || echo 000) "
done
assert_eq "$codes" "404 404 404 " "3 requests to an unknown host answered 404"

# ------------------------------------------------------------ /stats/prometheus
PROM=$GW_TMP/prometheus.txt
gw_admin /stats/prometheus >"$PROM" || fail "GET /stats/prometheus failed"
ctype=$(curl -s -m 3 -o /dev/null -w '%{content_type}' "$GW_ADMIN/stats/prometheus" || true)
assert_contains "$ctype" "text/plain; version=0.0.4" "/stats/prometheus has Prometheus' content type"
check "/stats/prometheus passes the strict exposition-format checker" \
	"$GW_PYTHON" "$PROM_CHECK" "$PROM"
if command -v promtool >/dev/null 2>&1; then
	check "promtool check metrics accepts /stats/prometheus" \
		sh -c "promtool check metrics <'$PROM'"
else
	diag "promtool not installed: only prom_check.py checked the text"
fi

v=$(prom_sum "$PROM" istio_requests_total destination_service=httpbin \
	destination_version=v1 response_code=200 response_flags=- || echo error)
assert_eq "$v" $N "istio_requests_total{destination_service=\"httpbin\",destination_version=\"v1\",response_code=\"200\"} is $N"
v=$(prom_sum "$PROM" istio_requests_total destination_service=httpbin \
	destination_version=v2 || echo error)
assert_eq "$v" 0 "no request counted for httpbin v2"
v=$(prom_sum "$PROM" istio_requests_total destination_service=unknown \
	response_code=404 response_flags=NR || echo error)
assert_eq "$v" 3 "the 3 unknown-host requests counted as 404 NR, destination unknown"
v=$(prom_sum "$PROM" istio_request_duration_milliseconds_count \
	destination_service=httpbin destination_version=v1 response_code=200 || echo error)
assert_eq "$v" $N "istio_request_duration_milliseconds_count counts the same $N requests"
v=$(prom_sum "$PROM" istio_request_duration_milliseconds_bucket \
	destination_service=httpbin response_code=200 le=+Inf || echo error)
assert_eq "$v" $N "the +Inf bucket holds all $N"
assert_contains "$(cat "$PROM")" 'source_workload="unknown"' "source_workload is unknown (external clients)"

rx=$(prom_sum "$PROM" gateway_worker_rx_packets_total || echo 0)
assert_ge "$rx" 46 "gateway_worker_rx_packets_total counts the requests' packets ($rx)"
v=$(prom_sum "$PROM" gateway_http_requests_total || echo error)
assert_ge "$v" 23 "gateway_http_requests_total counts the 23 requests ($v)"
v=$(grep -c '^gateway_worker_rx_packets_total{worker="[0-9]*"} ' "$PROM" || true)
assert_eq "$v" "$workers" "one gateway_worker_rx_packets_total sample per worker"
assert_contains "$(cat "$PROM")" 'gateway_worker_drops_total{worker="0",reason="ip_bad_checksum"} ' "drops by reason are labelled"
assert_contains "$(cat "$PROM")" '# TYPE gateway_tcp_retransmits_total counter' "TCP retransmissions are exposed"
assert_contains "$(cat "$PROM")" '# TYPE gateway_tcp_established gauge' "TCP connections now are a gauge"
assert_contains "$(cat "$PROM")" '# TYPE gateway_http_accesslog_dropped_total counter' "access-log ring drops are exposed"
assert_contains "$(cat "$PROM")" 'gateway_port_rx_packets_total{port="down0"} ' "port counters are labelled by port"
gen=$(prom_sum "$PROM" gateway_snapshot_generation || echo 0)
assert_ge "$gen" 2 "gateway_snapshot_generation shows the apply ($gen)"
v=$(prom_sum "$PROM" gateway_control_apply_duration_milliseconds_count || echo 0)
assert_ge "$v" 1 "the apply is in gateway_control_apply_duration_milliseconds ($v)"
v=$(prom_sum "$PROM" gateway_metrics_dropped_series_total || echo error)
assert_eq "$v" 0 "no metrics series dropped"

# ------------------------------------------------------------ gwctl stats
GPROM=$GW_TMP/gwctl-prometheus.txt
if "$GWCTL" -s "$SOCKET" stats --prometheus >"$GPROM" 2>"$GW_TMP/gwctl.err"; then
	ok "gwctl stats --prometheus exits 0"
else
	not_ok "gwctl stats --prometheus exits 0" "$(cat "$GW_TMP/gwctl.err")"
fi
check "gwctl stats --prometheus passes the checker" "$GW_PYTHON" "$PROM_CHECK" "$GPROM"
assert_eq "$(families "$GPROM")" "$(families "$PROM")" "gwctl stats --prometheus has the same families as /stats/prometheus"
v=$(prom_sum "$GPROM" istio_requests_total destination_service=httpbin response_code=200 || echo error)
assert_eq "$v" $N "gwctl stats --prometheus: istio_requests_total for httpbin 200 is $N"
out=$("$GWCTL" -s "$SOCKET" stats -o prometheus 2>&1 | head -n 2 || true)
assert_contains "$out" "# HELP istio_requests_total " "gwctl stats -o prometheus prints the exposition"
check_not "gwctl stats -o yaml is refused" "$GWCTL" -s "$SOCKET" stats -o yaml
out=$("$GWCTL" -s "$SOCKET" stats 2>&1 || true)
assert_contains "$out" "gateway.http.requests " "gwctl stats without -o still prints NAME VALUE"

# ------------------------------------------------------------ DPDK telemetry
tel() {
	printf '%s\n' "$@" | timeout 10 dpdk-telemetry.py -f "$PREFIX" 2>&1
}
if ! command -v dpdk-telemetry.py >/dev/null 2>&1; then
	not_ok "dpdk-telemetry.py is installed (package dpdk)"
elif [ ! -S "/var/run/dpdk/$PREFIX/dpdk_telemetry.v2" ]; then
	not_ok "the telemetry socket /var/run/dpdk/$PREFIX/dpdk_telemetry.v2 exists"
else
	out=$(tel / || true)
	for c in /gateway/stats /gateway/workers /gateway/snapshot /gateway/ports \
		/gateway/drops /gateway/requests; do
		assert_contains "$out" "\"$c\"" "dpdk-telemetry.py lists $c"
	done
	out=$(tel /gateway/workers || true)
	v=$("$GW_PYTHON" -c '
import json, sys
print(json.loads(sys.stdin.read())["/gateway/workers"]["n_workers"])' <<<"$out" || echo error)
	assert_eq "$v" "$workers" "/gateway/workers: n_workers is the ready line's $workers"
	out=$(tel /gateway/requests || true)
	v=$("$GW_PYTHON" -c '
import json, sys
r = json.loads(sys.stdin.read())["/gateway/requests"]
print(sum(s["requests"] for k, s in r.items() if k.startswith("series") and
          (s["destination_service"], s["destination_version"],
           s["response_code"]) == ("httpbin", "v1", "200")))' <<<"$out" || echo error)
	assert_eq "$v" $N "/gateway/requests: httpbin v1 200 counts $N"
	out=$(tel /gateway/snapshot || true)
	assert_contains "$out" "\"generation\": $gen" "/gateway/snapshot: the generation /stats/prometheus shows"
	out=$(tel /gateway/stats,99 || true)
	assert_contains "$out" '"/gateway/stats": null' "/gateway/stats with a bad worker id answers null"
fi

# ------------------------------------------------------------ dpdk-dumpcap
CAP=$GW_TMP/down0.pcapng
ip netns exec "$CLIENT" true   # the namespace exists (sanity)
timeout 20 dpdk-dumpcap --file-prefix="$PREFIX" -i net_af_packet0 -c 5 -q \
	-w "$CAP" >"$GW_TMP/dumpcap.log" 2>&1 &
cap_pid=$!
# dumpcap attaches within a second or two; keep traffic flowing meanwhile
for _ in $(seq 1 20); do
	kill -0 "$cap_pid" 2>/dev/null || break
	ccurl -o /dev/null http://httpbin:8000/get || true
	sleep 0.3
done
cap_rc=0
wait "$cap_pid" || cap_rc=$?
if [ "$cap_rc" -eq 0 ]; then
	ok "dpdk-dumpcap -c 5 -i net_af_packet0 finished"
else
	not_ok "dpdk-dumpcap -c 5 -i net_af_packet0 finished" "exit $cap_rc" "$(tail -n 5 "$GW_TMP/dumpcap.log")"
fi
pkts=$(tcpdump -nn -r "$CAP" 2>/dev/null | wc -l || echo 0)
assert_ge "$pkts" 5 "the capture holds 5 packets ($pkts)"
assert_contains "$(tcpdump -nn -r "$CAP" 2>/dev/null || true)" "10.10.1.2" "the captured packets are the client's"
v=$(curl -s -m 3 "$GW_ADMIN/ready" || true)
assert_eq "$v" LIVE "gatewayd still serves after the capture"
code=$(ccurl -o /dev/null -w '%{http_code}' http://httpbin:8000/headers || echo 000)
assert_eq "$code" 200 "requests still pass after the capture detached"

gw_stop 10 || not_ok "gatewayd stopped cleanly"
ok "gatewayd stopped"
gw_finish
