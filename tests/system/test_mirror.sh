#!/usr/bin/env bash
# tests/system/test_mirror.sh: traffic mirroring (issue 7, DESIGN.md §6)
# through the upstream port, with real clients and backends:
#   - the lab: httpbin-all-v1.yaml sends everything to v1 (v2's gunicorn
#     log stays silent); after `gwctl apply -f httpbin-mirror-v2.yaml`
#     every request appears in both gunicorn access logs, v2 sees
#     Host: httpbin-shadow:8000, the client only ever gets v1's answer;
#     the gateway's access log has one line per shadow request marked
#     shadow; applying httpbin-all-v1.yaml again stops the copies;
#   - a live change: on one open keep-alive connection, the request after
#     `gwctl apply` enables a mirror is copied, the one before is not;
#   - a POST of 32 MiB mirrored whole: the shadow backend's SHA-256 of the
#     body equals the original's;
#   - mirrorPercentage 25: exactly 250 of 1,000 requests (one connection,
#     so one worker) reach the shadow;
#   - `mirrors` with two destinations at 100% and 10%: 200 and 20 of 200;
#   - a dead shadow (nothing listens), then a slow one (answers after
#     5 s): the primary answers every request, as fast as without
#     mirroring, and the copies dropped are counted per route;
#   - result parity counters in /stats, /stats/prometheus, gwctl stats.
#
# Usage: tests/system/test_mirror.sh [--help]   (root; about 2 minutes)
# Environment: GWCTL (default build/app/gwctl), GW_MIRROR_SHADOW_LCORE=1
# (the shadow engine on its own lcore, lcores.shadow: 2) and those of
# tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_mirror.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
# shellcheck source=tests/system/mirror_lib.sh
. "$(dirname "$0")/mirror_lib.sh"
gw_require_root

http_topology_up
mirror_backends_up
CFG=$(mirror_config)
http_start "$CFG"
ok "gatewayd started with the lab's httpbin-all-v1.yaml preloaded"

# ------------------------------------------------------------- the lab
V1_LOG=$GW_DEMO_LOGS/httpbin-v1.access.log
V2_LOG=$GW_DEMO_LOGS/httpbin-v2.access.log
N=20

lab_round() {  # lab_round TAG: N requests; sets v1_new v2_new bodies_ok
	local tag=$1 v1b v2b i body
	v1b=$(log_lines "$V1_LOG"); v2b=$(log_lines "$V2_LOG")
	bodies_ok=0
	for i in $(seq 1 $N); do
		body=$(ccurl -H "x-request-id: $tag-$i" http://httpbin:8000/headers | tr -d ' \n' || true)
		# httpbin echoes the headers it got: v1's answer names httpbin:8000
		if [[ $body == *'"Host":"httpbin:8000"'* ]]; then
			bodies_ok=$((bodies_ok + 1))
		fi
	done
	sleep 1
	v1_new=$(( $(log_lines "$V1_LOG") - v1b ))
	v2_new=$(( $(log_lines "$V2_LOG") - v2b ))
}

lab_round all-v1
assert_eq "$v1_new" $N "httpbin-all-v1: v1's access log shows all $N requests"
assert_eq "$v2_new" 0 "httpbin-all-v1: v2's access log stays silent"

gwctl_ok "gwctl apply -f httpbin-mirror-v2.yaml" apply -f tests/fixtures/istio/seed/httpbin-mirror-v2.yaml
lab_round mirror
assert_eq "$v1_new" $N "mirror: v1's access log shows all $N requests"
assert_eq "$v2_new" $N "mirror: v2's access log shows all $N requests (the copies)"
assert_eq "$bodies_ok" $N "mirror: the client got v1's answer (Host httpbin:8000) every time"
n=$(tail -n $N "$V2_LOG" | grep -c 'host="httpbin-shadow:8000"' || true)
assert_eq "$n" $N "mirror: v2 received Host: httpbin-shadow:8000"
n=$(tail -n $N "$V2_LOG" | grep -c 'request_id="mirror-' || true)
assert_eq "$n" $N "mirror: the copies keep the client's x-request-id"
n=$(tail -n $N "$V1_LOG" | grep -c 'host="httpbin:8000"' || true)
assert_eq "$n" $N "mirror: v1 received Host: httpbin:8000"
sleep 1
n=$(grep -c '"httpbin-shadow:8000" "10.10.2.12:80" outbound|8000|v2|httpbin shadow$' "$GW_HTTP_ACCESS_LOG" || true)
assert_eq "$n" $N "access log: one line per shadow request, marked shadow"
n=$(grep -c '"GET /headers HTTP/1.1" 200 .*"x-request-id-never"\|outbound|8000|v1|httpbin$' "$GW_HTTP_ACCESS_LOG" || true)
assert_ge "$n" $((2 * N)) "access log: the primary requests are logged as before"

gwctl_ok "gwctl apply -f httpbin-all-v1.yaml (mirror off)" apply -f tests/fixtures/istio/seed/httpbin-all-v1.yaml
lab_round off
assert_eq "$v1_new" $N "mirror off: v1 shows all $N requests"
assert_eq "$v2_new" 0 "mirror off: v2 is silent again"

# --------------------------- a live change on an open keep-alive connection
# one connection: GET /live1, the mirror is enabled by gwctl apply, GET
# /live2 on the same connection: only /live2 is copied, nothing is reset
mirror_apply "mirrortest without a mirror"
rm -f "$GW_TMP/live.ready" "$GW_TMP/live.go"
ip netns exec "$CLIENT" "$GW_PYTHON" - "$MIRROR_VIP" "$GW_TMP" >"$GW_TMP/live.out" 2>&1 <<'EOPY' &
import http.client, os, sys, time
vip, tmp = sys.argv[1], sys.argv[2]
c = http.client.HTTPConnection(vip, 8000, timeout=10)
def get(path):
    c.request("GET", path, headers={"Host": "mirrortest:8000"})
    r = c.getresponse()
    r.read()
    return r.status
s1 = get("/live1")
sock = c.sock
open(tmp + "/live.ready", "w").close()
for _ in range(200):
    if os.path.exists(tmp + "/live.go"):
        break
    time.sleep(0.05)
s2 = get("/live2")
print("statuses %d %d same_connection %s" % (s1, s2, c.sock is sock))
EOPY
live_pid=$!
wait_until 10 test -e "$GW_TMP/live.ready" || true
mirror_apply "mirror enabled while the connection is open" \
	"    mirror: {host: mirrortest, subset: v2}"
touch "$GW_TMP/live.go"
wait "$live_pid" || true
assert_eq "$(cat "$GW_TMP/live.out")" "statuses 200 200 same_connection True" \
	"live change: both requests answered on one connection"
wait_until 10 grep -q '^GET /live2 ' "$GW_TMP/m-v2.req" || true
assert_eq "$(grep -c '^GET /live[12] ' "$GW_TMP/m-v1.req")" 2 "live change: the primary got both"
assert_eq "$(grep -c '^GET /live2 ' "$GW_TMP/m-v2.req")" 1 "live change: the request after the apply is mirrored"
assert_eq "$(grep -c '^GET /live1 ' "$GW_TMP/m-v2.req")" 0 "live change: the one before it is not"

# ------------------------------------------------ a 32 MiB body, whole
mirror_apply "mirror mirrortest v1 -> v2 (100%)" \
	"    mirror: {host: mirrortest, subset: v2}"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$GW_TMP/big.bin"
big_sha=$(sha256sum "$GW_TMP/big.bin" | cut -d' ' -f1)
code=$(ccurl --max-time 60 --resolve "$MIRROR_AUTH:$MIRROR_VIP" -o /dev/null \
	-w '%{http_code}' -H 'content-type: application/octet-stream' \
	--data-binary @"$GW_TMP/big.bin" "http://$MIRROR_AUTH/upload" || echo 000)
assert_eq "$code" 200 "POST of 32 MiB answered 200"
want="POST /upload host=mirrortest:8000 len=33554432 sha256=$big_sha"
want_copy="POST /upload host=mirrortest-shadow:8000 len=33554432 sha256=$big_sha"
wait_until 30 grep -q "^$want_copy " "$GW_TMP/m-v2.req" || true
assert_contains "$(cat "$GW_TMP/m-v1.req")" "$want" "the primary received the 32 MiB body whole"
assert_contains "$(cat "$GW_TMP/m-v2.req")" "$want_copy" \
	"the shadow received the 32 MiB body whole (same SHA-256), Host mirrortest-shadow:8000"
# when not: the engine's drops say why (a shadow slower than the primary
# by more than the engine's held-segment bound loses the copy: memory)
grep -q "^$want_copy " "$GW_TMP/m-v2.req" ||
	diag "mirrortest v2 drops: $(gw_admin /stats | grep -E '^gateway\.mirror\..*v2\|mirrortest\.drop\.[a-z_]+ [1-9]' | tr '\n' ' ')"

# ------------------------------------------- exact percentages (one worker)
mirror_apply "mirrorPercentage 25" \
	"    mirror: {host: mirrortest, subset: v2}" \
	"    mirrorPercentage: {value: 25}"
v1b=$(req_lines m-v1); v2b=$(req_lines m-v2)
out=$(mirror_client 1000 /pct25 || true)
assert_contains "$out" "statuses 200:1000" "1,000 requests on one connection answered 200"
wait_until 20 test "$(grep -c '^GET /pct25 ' "$GW_TMP/m-v2.req")" -ge 250 || true
sleep 1
assert_eq "$(grep -c '^GET /pct25 ' "$GW_TMP/m-v1.req")" 1000 "the primary got all 1,000"
assert_eq "$(grep -c '^GET /pct25 ' "$GW_TMP/m-v2.req")" 250 "mirrorPercentage 25: exactly 250 of 1,000 mirrored"

mirror_apply "mirrors: v2 at 100%, v3 at 10%" \
	"    mirrors:" \
	"    - destination: {host: mirrortest, subset: v2}" \
	"      percentage: {value: 100}" \
	"    - destination: {host: mirrortest, subset: v3}" \
	"      percentage: {value: 10}"
out=$(mirror_client 200 /two || true)
assert_contains "$out" "statuses 200:200" "200 requests answered 200"
wait_until 20 test "$(grep -c '^GET /two ' "$GW_TMP/m-v2.req")" -ge 200 || true
sleep 1
assert_eq "$(grep -c '^GET /two ' "$GW_TMP/m-v2.req")" 200 "mirrors: v2 (100%) got all 200"
assert_eq "$(grep -c '^GET /two ' "$GW_TMP/m-v3.req")" 20 "mirrors: v3 (10%) got exactly 20"
n=$(grep -c '^GET /two host=mirrortest-shadow:8000 ' "$GW_TMP/m-v3.req" || true)
assert_eq "$n" 20 "mirrors: v3 received Host: mirrortest-shadow:8000"

# ------------------------------- dead, then slow shadow: the primary unmoved
# timed_client PATH: 200 requests on one connection; prints "SECONDS STATUSES"
timed_client() {
	local t0 t1 out
	t0=$(date +%s.%N)
	out=$(mirror_client 200 "$1" || true)
	t1=$(date +%s.%N)
	printf '%s %s\n' "$(echo "$t1 - $t0" | bc)" "$(grep '^statuses' <<<"$out")"
}
within() {  # within T BASE: T <= 2 * BASE + 1 (seconds, noise of a 2-core box)
	[ "$(echo "$1 <= 2 * $2 + 1" | bc)" = 1 ]
}
mirror_apply "mirror mirrortest v1 -> v2 (100%) for the timing runs" \
	"    mirror: {host: mirrortest, subset: v2}"
read -r base st <<<"$(timed_client /base)"
assert_eq "$st" "statuses 200:200" "healthy shadow: 200 requests answered 200"
diag "200 requests with a healthy shadow: ${base}s"

mirror_backend_stop m-v2
drops0=$(mirror_stat "v2|mirrortest.drop.connect")
unav0=$(mirror_stat "v2|mirrortest.drop.unavailable")
read -r t st <<<"$(timed_client /dead)"
assert_eq "$st" "statuses 200:200" "dead shadow: the primary answered all 200"
diag "200 requests with a dead shadow: ${t}s"
if within "$t" "$base"; then ok "dead shadow: primary time ${t}s within noise of ${base}s"
else not_ok "dead shadow: primary time ${t}s within noise of ${base}s"; fi
dead_total() {
	echo $(( $(mirror_stat "v2|mirrortest.drop.connect") - drops0 +
		 $(mirror_stat "v2|mirrortest.drop.unavailable") - unav0 ))
}
wait_until 10 test "$(dead_total)" -ge 200 || true
drops=$(mirror_stat "v2|mirrortest.drop.connect")
unav=$(mirror_stat "v2|mirrortest.drop.unavailable")
diag "dead shadow: $((drops - drops0)) refused connects, $((unav - unav0)) copies skipped while it was known down"
assert_eq "$(dead_total)" 200 "dead shadow: 200 copies dropped, counted as connect failures or unavailable"
assert_ge "$((drops - drops0))" 1 "dead shadow: its refusal was seen (connect)"
assert_ge "$((unav - unav0))" 1 "dead shadow: later copies not tried while it is down (unavailable)"
assert_ge "$(gw_stat gateway.http.mirror_unavailable)" 1 "dead shadow: workers wrote no copy for a known-down endpoint"
assert_ge "$(shadow_stat endpoint_failures)" 1 "dead shadow: the endpoint was marked down"

mirror_backend gw-httpbin-v2 m-v2 9090 --delay 5
# the back-off of the dead endpoint (1 s, doubling) ends before it is tried again
wait_until 40 test "$(shadow_stat endpoints_down)" -eq 0 || true
assert_eq "$(shadow_stat endpoints_down)" 0 "the restarted shadow's back-off ended"
pend0=$(mirror_stat "v2|mirrortest.drop.pending")
read -r t st <<<"$(timed_client /slow)"
assert_eq "$st" "statuses 200:200" "slow shadow (5 s): the primary answered all 200"
diag "200 requests with a shadow answering after 5 s: ${t}s"
if within "$t" "$base"; then ok "slow shadow: primary time ${t}s within noise of ${base}s"
else not_ok "slow shadow: primary time ${t}s within noise of ${base}s"; fi
streams=$(shadow_stat streams)
if [ "$streams" -ge 0 ] && [ "$streams" -le 128 ]; then ok "slow shadow: shadow requests in flight bounded ($streams <= 128)"
else not_ok "slow shadow: shadow requests in flight bounded" "streams $streams"; fi
pend=$(mirror_stat "v2|mirrortest.drop.pending")
assert_ge "$((pend - pend0))" 72 "slow shadow: copies beyond 128 in flight dropped and counted ($((pend - pend0)))"
wait_until 20 test "$(shadow_stat streams)" -eq 0 || true
assert_eq "$(shadow_stat streams)" 0 "slow shadow: every pending copy ended once it answered"
assert_eq "$(shadow_stat held_mbufs)" 0 "no mbufs left held by the engine"
n=$(grep -c '^GET /slow ' "$GW_TMP/m-v2.req" || true)
assert_eq "$n" "$((200 - pend + pend0))" "slow shadow: every copy not dropped reached it"

# ------------------------------------------------ parity in /stats and co
R='gateway.mirror.default/mirrortest/0.outbound|8000|v2|mirrortest'
stats=$(gw_admin /stats || true)
pairs=$(awk -v n="$R.pairs" '$1 == n { print $2 }' <<<"$stats")
p2=$(awk -v n="$R.primary.2xx" '$1 == n { print $2 }' <<<"$stats")
s2=$(awk -v n="$R.shadow.2xx" '$1 == n { print $2 }' <<<"$stats")
se=$(awk -v n="$R.shadow.error" '$1 == n { print $2 }' <<<"$stats")
mm=$(awk -v n="$R.mismatches" '$1 == n { print $2 }' <<<"$stats")
diag "parity v2: pairs $pairs primary.2xx $p2 shadow.2xx $s2 shadow.error $se mismatches $mm"
assert_eq "$p2" "$pairs" "parity: every pair's primary answered 2xx"
assert_eq "$((s2 + se))" "$pairs" "parity: each pair's shadow is 2xx or an error"
assert_eq "$mm" "$se" "parity: mismatches are the shadow's errors"
assert_ge "$se" "$((drops - drops0))" "parity: the dead shadow's refused connects count as errors"
out=$("$GWCTL" -s "$GW_SOCKET" stats 2>&1 || true)
assert_contains "$out" "$R.mismatches $mm" "gwctl stats shows the parity counters"
prom=$(gw_admin /stats/prometheus || true)
assert_contains "$prom" 'gateway_mirror_mismatch_total{route="default/mirrortest/0",mirror="outbound|8000|v2|mirrortest"}' \
	"/stats/prometheus exposes the mismatch counter"
assert_contains "$prom" 'gateway_mirror_latency_milliseconds_bucket{route="default/mirrortest/0",mirror="outbound|8000|v2|mirrortest",side="shadow",le="+Inf"}' \
	"/stats/prometheus exposes the shadow latency histogram"
assert_contains "$prom" 'gateway_mirror_drops_total{route="default/mirrortest/0",mirror="outbound|8000|v2|mirrortest",reason="pending"}' \
	"/stats/prometheus exposes drops by reason"

gw_finish
