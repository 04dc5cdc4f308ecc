#!/usr/bin/env bash
# tests/system/test_lab_workflow.sh: the lab's request-routing workflow with
# the real binaries, as an operator runs it (issue 6): gatewayd starts with
# only the httpbin ServiceEntry, then, through gwctl and the control socket,
#   1. apply httpbin-all-v1.yaml: every `curl -s http://httpbin:8000/headers`
#      from the client namespace reaches v1 (gunicorn's access log in
#      /run/gatewayd/demo/httpbin-v1.access.log), none reaches v2;
#   2. apply httpbin-mirror-v2.yaml: "configured", describe route shows the
#      mirror, requests still reach v1 (v2 may only see mirrored copies,
#      whose Host is httpbin-shadow);
#   3. get virtualservices -o yaml and get destinationrules -o yaml: applied
#      back, "unchanged", and their specs equal the files that were applied;
#   4. delete virtualservice httpbin, delete destinationrule httpbin: the
#      service's default route spreads requests over v1 and v2 again (40
#      requests, each version at least 20% of them);
#   5. apply httpbin-all-v1.yaml again: back to v1 only.
#
# Usage: tests/system/test_lab_workflow.sh [--help]   (root; about 30 s)
# Environment: GWCTL (default build/app/gwctl), GW_HTTP_PROFILE (1w, 2w)
# and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_lab_workflow.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
gw_require_root

GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
SEED=tests/fixtures/istio/seed
V1_LOG=$GW_DEMO_LOGS/httpbin-v1.access.log
V2_LOG=$GW_DEMO_LOGS/httpbin-v2.access.log
[ -x "$GWCTL" ] || fail "gwctl binary $GWCTL not found (run tools/setup.sh)"
SOCKET=$(awk '/^control:/ { c = 1; next } c && /^[^ #]/ { c = 0 }
	c && $1 == "socket:" { print $2; exit }' "$GW_HTTP_CONFIG")
SOCKET=${SOCKET:-/run/gatewayd/gatewayd.sock}

OUT='' ERR='' RC=0
ctl() {
	RC=0
	OUT=$("$GWCTL" -s "$SOCKET" "$@" 2>"$GW_TMP/ctl.err") || RC=$?
	ERR=$(cat "$GW_TMP/ctl.err")
}
ctl_ok() {
	local desc=$1; shift
	ctl "$@"
	if [ "$RC" -eq 0 ]; then ok "$desc"; else
		not_ok "$desc" "gwctl $* exited $RC" "stdout: $OUT" "stderr: $ERR"
	fi
}
socket_ready() { [ -S "$SOCKET" ] && "$GWCTL" -s "$SOCKET" version >/dev/null 2>&1; }

# lab_requests N: N times the lab's `curl -s http://httpbin:8000/headers`
# from the client namespace (a new connection each); sets V1 and V2 to the
# lines each backend's access log gained (mirrored copies, whose Host is
# httpbin-shadow, left out), SHADOW to the mirrored copies v2 got, CODES to
# the status codes that were not 200.
V1=0 V2=0 SHADOW=0 CODES=
lab_requests() {
	local n=$1 i code v1_before v2_before
	v1_before=$(log_lines "$V1_LOG")
	v2_before=$(log_lines "$V2_LOG")
	CODES=
	for ((i = 0; i < n; i++)); do
		code=$(ip netns exec "$CLIENT" curl -s --max-time 10 -o /dev/null \
			-w '%{http_code}' http://httpbin:8000/headers || true)
		[ "$code" = 200 ] || CODES+="${code:-000} "
	done
	# gunicorn writes its access log line after the response: let it land.
	sleep 0.5
	V1=$(new_lines "$V1_LOG" "$v1_before" | grep -vc 'host="httpbin-shadow' || true)
	V2=$(new_lines "$V2_LOG" "$v2_before" | grep -vc 'host="httpbin-shadow' || true)
	SHADOW=$(new_lines "$V2_LOG" "$v2_before" | grep -c 'host="httpbin-shadow' || true)
}

# new_lines FILE N: FILE's lines after the first N.
new_lines() { tail -n "+$(($2 + 1))" "$1" 2>/dev/null || true; }

# same_spec APPLIED_FILE GOT_FILE KIND: the spec of the KIND document of
# each file is the same (YAML compared as data).
same_spec() {
	"$GW_PYTHON" - "$1" "$2" "$3" <<'EOF'
import sys, yaml

def spec(path, kind):
    for d in yaml.safe_load_all(open(path)):
        if d and d.get("kind") == kind:
            return d.get("spec")
    sys.exit("%s: no %s" % (path, kind))

a, b = spec(sys.argv[1], sys.argv[3]), spec(sys.argv[2], sys.argv[3])
if a != b:
    sys.exit("applied: %r\ngot:     %r" % (a, b))
EOF
}

# ------------------------------------------------------------------ start
http_topology_up
CFG=$(http_config tests/system/configs/httpbin-service.yaml)
http_start "$CFG"
wait_until 10 socket_ready || fail "$SOCKET does not answer gwctl version"
ok "gatewayd started with only the httpbin ServiceEntry"
ctl_ok "gwctl get virtualservices" get virtualservices
assert_contains "$OUT" "No resources found" "no VirtualService before the lab's first step"

# ------------------------------------------------------ 1. all to v1
ctl_ok "gwctl apply -f $SEED/httpbin-all-v1.yaml" apply -f "$SEED/httpbin-all-v1.yaml"
assert_eq "$OUT" "virtualservice.networking.istio.io/httpbin created
destinationrule.networking.istio.io/httpbin created" "apply says both resources were created"
lab_requests 20
assert_eq "$CODES" "" "20 curl http://httpbin:8000/headers all answered 200"
assert_eq "$V1/$V2" "20/0" "httpbin-all-v1: v1's access log shows all 20, v2's none"

# ------------------------------------------------------- 2. the mirror
ctl_ok "gwctl apply -f $SEED/httpbin-mirror-v2.yaml" apply -f "$SEED/httpbin-mirror-v2.yaml"
assert_eq "$OUT" "virtualservice.networking.istio.io/httpbin configured" \
	"apply says the VirtualService was configured"
ctl_ok "describe route httpbin" describe route httpbin
assert_contains "$OUT" "mirror outbound|8000|v2|httpbin 100%" "the compiled route mirrors to v2 at 100%"
lab_requests 20
assert_eq "$CODES" "" "after the mirror apply, 20 requests all answered 200"
assert_eq "$V1" 20 "the primary route still sends all 20 to v1"
assert_eq "$V2" 0 "v2 gets no request of its own (mirrored copies: $SHADOW)"

# ------------------------------------------------- 3. -o yaml round trip
ctl_ok "gwctl get virtualservices -o yaml" get virtualservices -o yaml
printf '%s\n' "$OUT" >"$GW_TMP/vs.yaml"
assert_contains "$OUT" "kind: VirtualService" "get virtualservices -o yaml prints the VirtualService"
if err=$(same_spec "$SEED/httpbin-mirror-v2.yaml" "$GW_TMP/vs.yaml" VirtualService 2>&1); then
	ok "the VirtualService's spec equals the applied httpbin-mirror-v2.yaml's"
else
	not_ok "the VirtualService's spec equals the applied httpbin-mirror-v2.yaml's" "$err"
fi
ctl_ok "apply what get virtualservices -o yaml printed" apply -f "$GW_TMP/vs.yaml"
assert_eq "$OUT" "virtualservice.networking.istio.io/httpbin unchanged" \
	"the VirtualService round trip is unchanged"
ctl_ok "gwctl get destinationrules -o yaml" get destinationrules -o yaml
printf '%s\n' "$OUT" >"$GW_TMP/dr.yaml"
if err=$(same_spec "$SEED/httpbin-all-v1.yaml" "$GW_TMP/dr.yaml" DestinationRule 2>&1); then
	ok "the DestinationRule's spec equals the applied one"
else
	not_ok "the DestinationRule's spec equals the applied one" "$err"
fi
ctl_ok "apply what get destinationrules -o yaml printed" apply -f "$GW_TMP/dr.yaml"
assert_eq "$OUT" "destinationrule.networking.istio.io/httpbin unchanged" \
	"the DestinationRule round trip is unchanged"
gen=$("$GWCTL" -s "$SOCKET" stats | awk '$1 == "snapshot.generation" { print $2 }' || true)
assert_eq "$gen" 3 "the unchanged round trips made no new generation (still 3)"

# --------------------------------------------- 4. delete: default route
ctl_ok "gwctl delete virtualservice httpbin" delete virtualservice httpbin
assert_eq "$OUT" 'virtualservice.networking.istio.io "httpbin" deleted' "delete vs says deleted"
ctl_ok "gwctl delete destinationrule httpbin" delete destinationrule httpbin
assert_eq "$OUT" 'destinationrule.networking.istio.io "httpbin" deleted' "delete dr says deleted"
ctl_ok "describe route httpbin after the deletes" describe route httpbin
diag "describe route httpbin:"; printf '%s\n' "$OUT" | sed 's/^/#   /'
lab_requests 40
assert_eq "$CODES" "" "after the deletes, 40 requests all answered 200"
diag "after the deletes: v1 $V1, v2 $V2 of 40"
assert_eq "$((V1 + V2))" 40 "the backends' access logs show all 40 requests"
assert_ge "$V1" 8 "the default route sends v1 at least 20% (8 of 40; got $V1)"
assert_ge "$V2" 8 "the default route sends v2 at least 20% (8 of 40; got $V2)"

# ------------------------------------------------------- 5. back to v1
ctl_ok "apply httpbin-all-v1.yaml again" apply -f "$SEED/httpbin-all-v1.yaml"
lab_requests 10
assert_eq "$CODES" "" "10 requests all answered 200"
assert_eq "$V1/$V2" "10/0" "v1 only again"

gw_stop 10 || not_ok "gatewayd stopped cleanly"
ok "gatewayd stopped"
gw_finish
