#!/usr/bin/env bash
# tests/system/test_http_policies.sh: Istio's route policies through the
# real gateway, real clients (curl) and real backends (httpbin, the small
# per-version http_backend.py), as a user of the lab sees them:
#   - Bookinfo's virtual-service-ratings-test-abort.yaml: `end-user: jason`
#     gets 500 from the gateway (flag FI in the access log, nothing reaches
#     ratings v1), others reach ratings v1;
#   - virtual-service-ratings-test-delay.yaml applied with gwctl: jason's
#     requests take 7 s (within 0.2 s) and then reach v1 (flag DI), others
#     are not delayed, and other connections served by the same worker are
#     answered at once while jason's request is held;
#   - the examples of Istio's VirtualService reference: redirect (Location,
#     301), directResponse (status and body, nothing upstream), rewrite
#     (httpbin sees the new path and authority), CORS (a preflight answered
#     by the gateway with the policy's fields, nothing upstream);
#   - retries: a service whose first endpoint refuses connections answers
#     every request (the access log shows attempts=2); Istio's default
#     policy retries a GET answered 503 twice but never a POST; a
#     perTryTimeout of 500 ms with one retry gives 504 after two tries;
#   - circuit breaking: connectionPool maxConnections 1 and
#     http1MaxPendingRequests 1 (per worker), 10 parallel requests to a
#     1 s backend: the excess gets 503 UO at once, the others 200.
#
# Usage: tests/system/test_http_policies.sh [--help]   (root; about 40 s)
# Environment: GW_HTTP_PROFILE (1w, 2w), GWCTL (default build/app/gwctl)
# and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_http_policies.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
gw_require_root
GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
SOCK=/run/gatewayd/gatewayd.sock
diag "profile $GW_HTTP_PROFILE: $GW_HTTP_CONFIG"

http_topology_up
http_backend gw-httpbin-v2 ratings-v1 9081
CFG=$(http_config tests/system/configs/ratings-service.yaml \
	tests/fixtures/istio/bookinfo/destination-rule-all.yaml \
	tests/fixtures/istio/bookinfo/virtual-service-ratings-test-abort.yaml \
	tests/system/configs/policies.yaml)
http_start "$CFG"
ok "gatewayd started with the ratings abort rule and the policy examples"

R="http://ratings:9080/ratings/0"
RATINGS="--resolve ratings:9080:10.96.0.40"
POL="--resolve policies:8000:10.96.0.41"
req_lines() { log_lines "$GW_TMP/ratings-v1.req"; }

# ------------------------------------------------------ fault: abort
before=$(req_lines)
code=$(ccurl $RATINGS -o "$GW_TMP/abort.txt" -w '%{http_code}' -H 'end-user: jason' $R || true)
assert_eq "$code" 500 "abort fixture: jason gets 500"
assert_contains "$(cat "$GW_TMP/abort.txt")" "fault filter abort" "the 500 comes from the gateway (Envoy's text)"
out=$(ccurl $RATINGS $R || true)
assert_eq "$out" ratings-v1 "abort fixture: others reach ratings v1"
sleep 0.5
assert_eq "$(( $(req_lines) - before ))" 1 "only the unaborted request reached ratings v1"
ok_codes=0
for i in $(seq 1 10); do
	c=$(ccurl $RATINGS -o /dev/null -w '%{http_code}' -H 'end-user: jason' $R || true)
	[ "$c" = 500 ] && ok_codes=$((ok_codes + 1))
done
assert_eq "$ok_codes" 10 "percentage 100: every one of jason's 10 requests is aborted"

# ------------------------------------------------------ fault: delay
"$GWCTL" -s "$SOCK" apply -f tests/fixtures/istio/bookinfo/virtual-service-ratings-test-delay.yaml \
	>"$GW_TMP/apply-delay.txt" 2>&1 ||
	fail "gwctl apply of the delay fixture failed: $(cat "$GW_TMP/apply-delay.txt")"
assert_contains "$(cat "$GW_TMP/apply-delay.txt")" "virtualservice.networking.istio.io/ratings configured" \
	"gwctl apply: the delay fixture replaces the abort one"
# jason's request in the background; meanwhile other clients
ccurl $RATINGS -o "$GW_TMP/delay.txt" -w '%{http_code} %{time_total}\n' \
	-H 'end-user: jason' $R >"$GW_TMP/delay.out" 2>&1 &
jason=$!
sleep 0.5
slow=0
t_max=0
for i in $(seq 1 10); do
	t=$(ccurl $RATINGS -o /dev/null -w '%{time_total}' $R || echo 99)
	awk -v t="$t" 'BEGIN { exit !(t > 0.5) }' && slow=$((slow + 1))
	t_max=$(awk -v a="$t" -v b="$t_max" 'BEGIN { print (a > b) ? a : b }')
done
assert_eq "$slow" 0 "while jason's request is held, 10 other requests (other connections) are answered at once (slowest ${t_max} s)"
wait "$jason" || true
read -r code took <"$GW_TMP/delay.out" || true
assert_eq "$code" 200 "delay fixture: jason's request is answered 200"
assert_eq "$(cat "$GW_TMP/delay.txt")" ratings-v1 "... by ratings v1"
if awk -v t="$took" 'BEGIN { exit !(t >= 6.8 && t <= 7.2) }'; then
	ok "jason's request took 7 s (${took} s)"
else
	not_ok "jason's request took 7 s" "took ${took} s"
fi
t=$(ccurl $RATINGS -o /dev/null -w '%{time_total}' -H 'end-user: mike' $R || echo 99)
awk -v t="$t" 'BEGIN { exit !(t < 0.5) }' && ok "mike's request is not delayed (${t} s)" ||
	not_ok "mike's request is not delayed" "took ${t} s"

# ----------------------------------------------- redirect, directResponse
hdr=$(ccurl $POL -o /dev/null -D - http://policies:8000/v1/getProductRatings || true)
assert_contains "$hdr" "HTTP/1.1 301" "redirect: 301 (Istio's default code)"
assert_contains "$hdr" "location: http://newratings.default.svc.cluster.local/v1/bookRatings" \
	"redirect: Location with the new authority and uri"
v1_log=$GW_DEMO_LOGS/httpbin-v1.access.log
v1_before=$(log_lines "$v1_log")
code=$(ccurl $POL -o "$GW_TMP/direct.txt" -w '%{http_code}' http://policies:8000/maintenance/x || true)
assert_eq "$code" 503 "directResponse: the configured status"
assert_eq "$(cat "$GW_TMP/direct.txt")" '{"error": "unknown error"}' "directResponse: the configured body"

# ----------------------------------------------------------------- rewrite
out=$(ccurl $POL 'http://policies:8000/ratings?x=1' || true)
assert_contains "$out" '"url":"http://ratings.internal/anything/v1/bookRatings?x=1"' \
	"rewrite: httpbin sees the new path (query kept) and authority"
out=$(ccurl $POL 'http://policies:8000/service/foo/v1/api?x=1' || true)
assert_contains "$out" '"url":"http://policies:8000/anything/v1/api/instance/foo?x=1"' \
	"uriRegexRewrite: httpbin sees the groups moved (query kept)"

# -------------------------------------------------------------------- CORS
hdr=$(ccurl $POL -o /dev/null -D - -X OPTIONS -H 'Origin: https://example.com' \
	-H 'Access-Control-Request-Method: POST' http://policies:8000/cors || true)
assert_contains "$hdr" "HTTP/1.1 200" "CORS preflight: 200"
assert_contains "$hdr" "access-control-allow-origin: https://example.com" "CORS preflight: the origin allowed"
assert_contains "$hdr" "access-control-allow-methods: POST,GET" "CORS preflight: the methods"
assert_contains "$hdr" "access-control-allow-headers: X-Foo-Bar" "CORS preflight: the headers"
assert_contains "$hdr" "access-control-max-age: 86400" "CORS preflight: max age 24h"
assert_contains "$hdr" "server: gatewayd" "CORS preflight: answered by the gateway"
sleep 1
v1_after=$(log_lines "$v1_log")
# the two rewrite requests are the only ones of this section httpbin saw
assert_eq "$((v1_after - v1_before))" 2 "directResponse and the preflight never reached httpbin"

# ----------------------------------------------------------------- retries
FL="--resolve flaky:8000:10.96.0.42"
codes=""
for i in $(seq 1 6); do
	codes+="$(ccurl $FL -o /dev/null -w '%{http_code}' http://flaky:8000/get || echo 000) "
done
assert_eq "$(tr ' ' '\n' <<<"$codes" | grep -c '^200$')" 6 \
	"retries on connect-failure: 6 of 6 answered although one endpoint is dead"
v1_before=$(log_lines "$v1_log")
code=$(ccurl $FL -o /dev/null -w '%{http_code}' http://flaky:8000/status/503 || true)
assert_eq "$code" 503 "default policy: a GET answered 503 each time ends 503"
sleep 1
assert_eq "$(( $(log_lines "$v1_log") - v1_before ))" 3 "default policy: the GET was tried 3 times (2 retries)"
v1_before=$(log_lines "$v1_log")
code=$(ccurl $FL -o /dev/null -w '%{http_code}' -X POST -d x=1 http://flaky:8000/status/503 || true)
assert_eq "$code" 503 "default policy: a POST answered 503 ends 503"
sleep 1
assert_eq "$(( $(log_lines "$v1_log") - v1_before ))" 1 "default policy: the POST was not retried (not idempotent)"
t0=$(date +%s.%N)
code=$(ccurl $FL -o /dev/null -w '%{http_code}' http://flaky:8000/delay/2 || true)
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
assert_eq "$code" 504 "perTryTimeout 500ms, 1 retry, a 2 s backend: 504"
if awk -v t="$took" 'BEGIN { exit !(t >= 0.9 && t < 1.8) }'; then
	ok "... after two tries of 500 ms (${took} s)"
else
	not_ok "... after two tries of 500 ms" "took ${took} s"
fi
sleep 4 # gunicorn's sync worker finishes the abandoned /delay/2 requests

# ------------------------------------------------------- circuit breaking
NW=1; [ "$GW_HTTP_PROFILE" = 2w ] && NW=2
CB="--resolve cb:8000:10.96.0.43"
cb_pids=()
for i in $(seq 1 10); do
	ccurl $CB -o /dev/null -w '%{http_code} %{time_total}\n' \
		http://cb:8000/delay/1 >"$GW_TMP/cb.$i" 2>&1 &
	cb_pids+=($!)
done
wait "${cb_pids[@]}" || true
uo=0 fast_uo=0 okc=0
for i in $(seq 1 10); do
	read -r c t <"$GW_TMP/cb.$i" || true
	[ "$c" = 200 ] && okc=$((okc + 1))
	if [ "$c" = 503 ]; then
		uo=$((uo + 1))
		awk -v t="$t" 'BEGIN { exit !(t < 0.5) }' && fast_uo=$((fast_uo + 1))
	fi
done
assert_eq "$((uo + okc))" 10 "circuit breaking: every request answered 200 or 503 ($okc, $uo)"
assert_ge "$uo" $((10 - 2 * NW)) "circuit breaking: the excess beyond 1 connection + 1 pending per worker gets 503"
assert_eq "$fast_uo" "$uo" "circuit breaking: the 503s come at once (under 0.5 s)"
assert_ge "$okc" "$NW" "circuit breaking: the request in flight and the pending one succeed"
sleep 3 # gunicorn's sync worker

# ------------------------------------------------------------- access log
sleep 1
alog=$(cat "$GW_HTTP_ACCESS_LOG")
assert_contains "$alog" '" 500 FI ' "access log: the abort with flag FI"
assert_contains "$alog" '" 200 DI ' "access log: the delayed request with flag DI"
assert_eq "$(gw_http_stat fault_aborts)" 11 "gateway.http.fault_aborts counts the 11 aborts"
assert_eq "$(gw_http_stat fault_delays)" 1 "gateway.http.fault_delays counts the delayed request"
assert_eq "$(gw_http_stat redirects)" 1 "gateway.http.redirects"
assert_eq "$(gw_http_stat direct_responses)" 1 "gateway.http.direct_responses"
assert_contains "$alog" 'attempts=2' "access log: a retried request shows attempts=2"
assert_contains "$alog" '" 504 UT,URX ' "access log: the per-try timeouts end 504 UT,URX"
assert_eq "$(gw_http_stat per_try_timeouts)" 2 "gateway.http.per_try_timeouts"
assert_contains "$alog" '" 503 UO ' "access log: overflow with flag UO"
assert_ge "$(gw_http_stat upstream_overflow)" $((10 - 2 * NW)) "gateway.http.upstream_overflow counts them"

gw_stop 10 && ok "gatewayd stopped" || not_ok "gatewayd stopped cleanly"
gw_finish
