#!/usr/bin/env bash
# tests/system/test_outlier.sh: DestinationRule outlierDetection through the
# real gateway (tests/system/configs/outlier-service.yaml): outlier.test has
# three endpoints, one of them (bad) answering 500 to everything, with
# {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 5s,
# maxEjectionPercent: 100} and round robin:
#   - `gwctl get endpoints outlier.test` shows three HEALTHY endpoints;
#   - requests reach all three until bad has answered 500 three times in a
#     row; then it is ejected: gwctl shows it EJECTED with at most 5 s left;
#   - the next 30 requests all answer 200 from good-a and good-b, and bad's
#     request log does not grow;
#   - after 5 s (plus up to one interval) bad receives requests again,
#     and after 3 more 500s it is ejected again, for 10 s this time;
#   - /stats and the Prometheus text (valid for prom_check.py) count two
#     ejections for the cluster;
#   - gatewayd stops cleanly.
#
# One worker (the 1w profile): each worker counts its own consecutive
# errors and balances on its own, so exact counts and splits need one.
#
# Usage: tests/system/test_outlier.sh [--help]   (root; about 30 seconds)
# Environment: GWCTL, and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_outlier.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
GW_HTTP_PROFILE=1w
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
gw_require_root
GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
GW_SOCKET=/run/gatewayd/gatewayd.sock
[ -x "$GWCTL" ] || fail "gwctl binary $GWCTL not found (run tools/setup.sh)"
diag "profile $GW_HTTP_PROFILE: $GW_HTTP_CONFIG"

CLUSTER='outbound|8000||outlier.test'
URL=http://10.96.0.40:8000/
BAD=10.10.2.11:9182

http_topology_up
http_backend gw-httpbin-v1 good-a 9181
http_backend gw-httpbin-v2 good-b 9181
ip netns exec gw-httpbin-v1 "$GW_PYTHON" "$GW_HTTP_BACKEND" --port 9182 \
	--name bad --log "$GW_TMP/bad.req" --fail-status 500 \
	>"$GW_TMP/bad.log" 2>&1 &
wait_until 10 ns_listening gw-httpbin-v1 9182 || fail "backend bad: nothing listens on port 9182"
touch "$GW_TMP/bad.req"
http_start "$(http_config tests/system/configs/outlier-service.yaml)"
ok "gatewayd started with outlier.test"

# endpoint_row ADDR: the `gwctl get endpoints outlier.test` row of ADDR.
endpoint_row() {
	"$GWCTL" -s "$GW_SOCKET" get endpoints outlier.test | awk -v a="$1" '$1 == a'
}
bad_ejected() { [[ $(endpoint_row "$BAD") == *EJECTED* ]]; }

# get: one request on a new connection; prints "CODE BODY".
get() {
	local out
	out=$(ccurl -w ' %{http_code}' "$URL" 2>/dev/null || echo "- 000")
	printf '%s %s\n' "${out##* }" "${out% *}"
}

out=$("$GWCTL" -s "$GW_SOCKET" get endpoints outlier.test)
assert_eq "$(grep -c "HEALTHY *OK .*$CLUSTER" <<<"$out")" 3 \
	"gwctl get endpoints: three HEALTHY endpoints"

# ------------------------------------------------------ first ejection
n500=0 n=0 seen=""
while [ $n -lt 30 ] && ! bad_ejected; do
	r=$(get); n=$((n + 1)); seen+="${r// /:} "
	[ "${r%% *}" = 500 ] && n500=$((n500 + 1))
done
t_eject=$SECONDS
if bad_ejected; then ok "bad is ejected after $n requests"; else
	not_ok "bad is ejected within 30 requests" "answers: $seen"; fi
assert_eq "$n500" 3 "it answered exactly 3 errors (consecutive5xxErrors) before"
assert_contains "$seen" "200:good-a" "good-a answered meanwhile"
assert_contains "$seen" "200:good-b" "good-b answered meanwhile"
row=$(endpoint_row "$BAD")
if [[ $row =~ EJECTED\ +FAILED\(([0-9]+)s\) ]] && [ "${BASH_REMATCH[1]}" -le 5 ] &&
   [ "${BASH_REMATCH[1]}" -ge 3 ]; then
	ok "gwctl shows bad EJECTED with ${BASH_REMATCH[1]} s left of 5"
else
	not_ok "gwctl shows bad EJECTED with about 5 s left" "row: $row"
fi
json=$("$GWCTL" -s "$GW_SOCKET" get endpoints outlier.test -o json)
assert_contains "$json" '"status": "EJECTED"' "get endpoints -o json: EJECTED"
assert_contains "$json" '"ejections": 1' "get endpoints -o json: one ejection"

bad_before=$(log_lines "$GW_TMP/bad.req")
codes="" bodies=""
for i in $(seq 1 30); do
	r=$(get); codes+="${r%% *} "; bodies+="${r#* } "
done
assert_eq "$(tr ' ' '\n' <<<"$codes" | grep -c '^200$')" 30 "the next 30 requests all answer 200"
assert_not_contains "$bodies" "bad" "none of them reaches bad"
assert_eq "$(tr ' ' '\n' <<<"$bodies" | grep -c '^good-a$')" 15 "good-a takes half of them"
assert_eq "$(tr ' ' '\n' <<<"$bodies" | grep -c '^good-b$')" 15 "good-b the other half"
assert_eq "$(log_lines "$GW_TMP/bad.req")" "$bad_before" "bad's request log does not grow"
assert_eq "$(gw_stat "cluster.$CLUSTER.outlier_detection.ejections_active")" 1 \
	"/stats: ejections_active 1"

# ------------------------------------------- back after 5 s, out for 10 s
# Keep the traffic going: bad's first 500 says it is back; two more eject it.
n500=0 first=""
while [ $((SECONDS - t_eject)) -lt 12 ] && [ $n500 -lt 3 ]; do
	r=$(get)
	if [ "${r%% *}" = 500 ]; then
		n500=$((n500 + 1))
		[ -n "$first" ] || first=$((SECONDS - t_eject))
	fi
done
if [ -n "$first" ] && [ "$first" -ge 4 ] && [ "$first" -le 8 ]; then
	ok "bad receives requests again $first s after its ejection (5 s + interval)"
else
	not_ok "bad receives requests again 5 to 6 s after its ejection" \
		"first 500 after: ${first:-never} s"
fi
wait_until 3 bad_ejected || true
row=$(endpoint_row "$BAD")
if [[ $row =~ EJECTED\ +FAILED\(([0-9]+)s\) ]] && [ "${BASH_REMATCH[1]}" -ge 8 ] &&
   [ "${BASH_REMATCH[1]}" -le 10 ]; then
	ok "after 3 more errors bad is ejected again, for 10 s (${BASH_REMATCH[1]} s left)"
else
	not_ok "after 3 more errors bad is ejected again for 10 s" "row: $row"
fi
codes=""
for i in $(seq 1 10); do r=$(get); codes+="${r%% *} "; done
assert_eq "$(tr ' ' '\n' <<<"$codes" | grep -c '^200$')" 10 "while it is out, 10 more requests answer 200"

# --------------------------------------------------------------- counters
assert_eq "$(gw_stat "cluster.$CLUSTER.outlier_detection.ejections_enforced_total")" 2 \
	"/stats: ejections_enforced_total 2"
assert_eq "$(gw_stat "cluster.$CLUSTER.outlier_detection.ejections_enforced_consecutive_5xx")" 2 \
	"/stats: both by consecutive 5xx"
assert_eq "$(gw_stat outlier.ejections_active)" 1 "/stats: gateway.outlier.ejections_active 1"
prom=$(gw_admin /stats/prometheus || true)
assert_contains "$prom" "gateway_outlier_ejections_total{cluster=\"$CLUSTER\"} 2" \
	"Prometheus: gateway_outlier_ejections_total 2 for the cluster"
if printf '%s\n' "$prom" | "$GW_PYTHON" tests/system/prom_check.py >/dev/null 2>"$GW_TMP/prom_check.err"; then
	ok "the Prometheus text passes prom_check.py"
else
	not_ok "the Prometheus text passes prom_check.py" "$(head -n 5 "$GW_TMP/prom_check.err")"
fi

gw_stop 10 || not_ok "gatewayd stopped cleanly"
ok "gatewayd stopped"
gw_finish
