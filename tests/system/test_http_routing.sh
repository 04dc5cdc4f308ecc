#!/usr/bin/env bash
# tests/system/test_http_routing.sh: the lab's request routing through the
# HTTP proxy, real clients (curl, python http.client) and real backends
# (httpbin under gunicorn, small per-version servers for Bookinfo reviews):
#   - httpbin-all-v1.yaml: every request to http://httpbin:8000 reaches v1
#     (v1's gunicorn access log shows each one), none reaches v2; the
#     forwarded request carries x-forwarded-for, x-forwarded-proto and a
#     generated x-request-id; the gateway's access log shows each request
#     with upstream cluster outbound|8000|v1|httpbin;
#   - virtual-service-reviews-test-v2.yaml: `end-user: jason` reaches v2,
#     others v1, also alternating on one keep-alive connection;
#   - virtual-service-reviews-80-20.yaml: 1,000 requests on one keep-alive
#     connection (so one worker routes them all, whatever the profile) split
#     exactly 800/200;
#   - gateway responses: 404 NR, 503 UH, 502 UF, 504 UT with their flags
#     in the access log;
#   - gatewayd stops cleanly.
#
# Usage: tests/system/test_http_routing.sh [--help]   (root; about 1 minute)
# Environment: GW_HTTP_PROFILE (1w, 2w) and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_http_routing.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
gw_require_root
diag "profile $GW_HTTP_PROFILE: $GW_HTTP_CONFIG"

http_topology_up
reviews_up
http_start "$GW_HTTP_CONFIG"
ok "gatewayd started with $GW_HTTP_CONFIG"

# ------------------------------------------------ httpbin-all-v1 (the lab)
V1_LOG=$GW_DEMO_LOGS/httpbin-v1.access.log
V2_LOG=$GW_DEMO_LOGS/httpbin-v2.access.log
v1_before=$(log_lines "$V1_LOG")
v2_before=$(log_lines "$V2_LOG")
N=20
codes=""
for i in $(seq 1 $N); do
	codes+="$(ccurl -o /dev/null -w '%{http_code}' http://httpbin:8000/headers || echo 000) "
done
if [ "$(tr ' ' '\n' <<<"$codes" | grep -c '^200$')" -eq $N ]; then
	ok "$N requests to http://httpbin:8000/headers answered 200"
else
	not_ok "$N requests to http://httpbin:8000/headers answered 200" "codes: $codes"
fi
sleep 1
assert_eq "$(( $(log_lines "$V1_LOG") - v1_before ))" "$N" "httpbin v1's access log shows every request"
assert_eq "$(( $(log_lines "$V2_LOG") - v2_before ))" 0 "httpbin v2's access log shows none"

# httpbin hides proxy headers unless asked (show_env=1); its JSON is compact
headers=$(ccurl 'http://httpbin:8000/headers?show_env=1' | tr -d ' ' || true)
assert_contains "$headers" '"X-Forwarded-For":"10.10.1.2"' "x-forwarded-for carries the client address"
assert_contains "$headers" '"X-Forwarded-Proto":"http"' "x-forwarded-proto is http"
assert_contains "$headers" '"X-Request-Id":"' "an x-request-id is generated"
assert_contains "$headers" '"Host":"httpbin:8000"' "the Host header is kept"
headers=$(ccurl -H 'x-request-id: keep-me-1234' 'http://httpbin:8000/headers?show_env=1' | tr -d ' ' || true)
assert_contains "$headers" '"X-Request-Id":"keep-me-1234"' "a client's x-request-id is kept"

post=$(head -c 500 /dev/urandom | od -An -tx1 | tr -d ' \n')
out=$(ccurl -X POST -H 'content-type: application/octet-stream' --data "$post" http://httpbin:8000/post || true)
assert_contains "$out" "\"data\":\"$post\"" "POST with a Content-Length body reaches httpbin intact"

# the gateway's access log (written by the control lcore)
sleep 1
alog=$(cat "$GW_HTTP_ACCESS_LOG" 2>/dev/null || true)
n200=$(grep -c '"GET /headers HTTP/1.1" 200 - .*"httpbin:8000" "10.10.2.11:80" outbound|8000|v1|httpbin$' <<<"$alog" || true)
if [ "$n200" -ge $N ]; then
	ok "access log: $n200 lines for GET /headers to outbound|8000|v1|httpbin"
else
	not_ok "access log: a line per GET /headers to outbound|8000|v1|httpbin" \
		"found $n200; first lines:" "$(head -n 3 <<<"$alog")"
fi
assert_contains "$alog" '"keep-me-1234"' "access log shows the request id"

# ---------------------------------------- reviews: end-user jason -> v2
R="--resolve reviews:9080:10.96.0.20 http://reviews:9080/reviews/1"
out=$(ccurl $R || true)
assert_eq "$out" reviews-v1 "reviews without end-user: v1"
out=$(ccurl -H 'end-user: jason' $R || true)
assert_eq "$out" reviews-v2 "reviews with end-user: jason: v2"
out=$(ccurl -H 'end-user: mike' $R || true)
assert_eq "$out" reviews-v1 "reviews with end-user: mike: v1"

conn_before=$(gw_http_stat connections)
out=$(http_client --host 10.96.0.20 --port 9080 --authority reviews:9080 \
	--path /reviews/1 --count 20 --alternate 'end-user: jason' 2>&1 || true)
assert_contains "$out" "alt 10 reviews-v2" "keep-alive connection, alternating: jason's 10 requests reach v2"
assert_contains "$out" "plain 10 reviews-v1" "keep-alive connection, alternating: the other 10 reach v1"
assert_contains "$out" "connections 1" "all 20 requests on one client connection"
assert_eq "$(( $(gw_http_stat connections) - conn_before ))" 1 "the gateway accepted one connection for them"

# ------------------------------------------------------ gateway responses
code=$(ccurl -o "$GW_TMP/nr.txt" -w '%{http_code}' -H 'Host: nosuch.test' http://10.10.1.1:8080/ || true)
assert_eq "$code" 404 "no route: 404"
assert_contains "$(cat "$GW_TMP/nr.txt")" "route not found" "404 body names the reason"
code=$(ccurl -o "$GW_TMP/uh.txt" -w '%{http_code}' -H 'Host: errors.test' http://10.96.0.30:8000/uh/x || true)
assert_eq "$code" 503 "subset without endpoints: 503"
assert_contains "$(cat "$GW_TMP/uh.txt")" "no healthy upstream" "503 body names the reason"
code=$(ccurl -o "$GW_TMP/uf.txt" -w '%{http_code}' -H 'Host: errors.test' http://10.96.0.30:8000/uf/x || true)
assert_eq "$code" 502 "endpoint refusing connections: 502"
assert_contains "$(cat "$GW_TMP/uf.txt")" "upstream connect error" "502 body names the reason"
t0=$SECONDS
code=$(ccurl -o "$GW_TMP/ut.txt" -w '%{http_code}' -H 'Host: errors.test' http://10.96.0.30:8000/delay/3 || true)
assert_eq "$code" 504 "backend slower than the 1 s route timeout: 504"
[ $((SECONDS - t0)) -le 2 ] && ok "504 came after about 1 s" || not_ok "504 came after about 1 s" "took $((SECONDS - t0)) s"
# gunicorn's one sync worker still sleeps for the abandoned request
sleep 3
code=$(ccurl -o /dev/null -w '%{http_code}' -H 'Host: errors.test' http://10.96.0.30:8000/delay/0 || true)
assert_eq "$code" 200 "the same route within its timeout: 200"
sleep 1
alog=$(cat "$GW_HTTP_ACCESS_LOG")
assert_contains "$alog" '" 404 NR ' "access log: 404 NR"
assert_contains "$alog" '" 503 UH ' "access log: 503 UH"
assert_contains "$alog" '" 502 UF,URX ' "access log: 502 UF, after Istio's default two retries (URX)"
assert_contains "$alog" '" 504 UT ' "access log: 504 UT"
code=$(ip netns exec "$CLIENT" timeout 10 "$GW_PYTHON" -c '
import socket
s = socket.create_connection(("10.10.1.1", 8080), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
print(s.makefile("rb").readline().decode().strip())' || true)
assert_eq "$code" "HTTP/1.1 400 Bad Request" "Content-Length with Transfer-Encoding: 400"

gw_stop 10 || not_ok "gatewayd stopped cleanly"

# ------------------------------------------------- reviews 80/20, exactly
CFG=$(http_config tests/system/configs/reviews-service.yaml \
	tests/fixtures/istio/bookinfo/destination-rule-all.yaml \
	tests/fixtures/istio/bookinfo/virtual-service-reviews-80-20.yaml)
http_start "$CFG"
ok "gatewayd restarted with virtual-service-reviews-80-20.yaml"
out=$(http_client --host 10.96.0.20 --port 9080 --authority reviews:9080 \
	--path /reviews/1 --count 1000 2>&1 || true)
v1=$(awk '$1 == "plain" && $3 == "reviews-v1" { print $2 }' <<<"$out")
v2=$(awk '$1 == "plain" && $3 == "reviews-v2" { print $2 }' <<<"$out")
assert_eq "${v1:-0}/${v2:-0}" 800/200 "80/20: 1,000 requests split exactly 800/200"
assert_contains "$out" "statuses 200:1000" "all 1,000 answered 200"
gw_stop 10 || not_ok "gatewayd stopped cleanly"
ok "gatewayd stopped"
gw_finish
