#!/usr/bin/env bash
# tests/system/test_control.sh: the control socket and gwctl against a
# running gatewayd on the demo topology. Checks, as an operator sees them:
# version, apply (kubectl's "created"/"configured"/"unchanged" lines), get
# in table, YAML and JSON form, the -o yaml round trip, describe route and
# get endpoints, delete by name and by file, an invalid apply rejected with
# FILE:LINE:COL and no effect (the generation stays), the socket file's
# mode, a user who is neither root nor in the socket's group refused (by
# the kernel, and by the gateway itself when the file is opened up),
# truncated, oversized and garbage frames that leave gatewayd serving,
# 100 concurrent gwctl clients, and the saved state: with control.state_dir
# applied resources survive a restart, without it they do not.
#
# Usage: tests/system/test_control.sh [--help]   (root; about 40 s)
# Environment: GW_CONFIG (default drivers-config/demo-af_xdp.yaml), GWCTL
# (default build/app/gwctl), and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_control.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
gw_require_root

# The profile without its preloaded demo services: this test creates
# them itself.
sed '/^istio:/d; /^  preload:/d' "${GW_CONFIG:-drivers-config/demo-af_xdp.yaml}" \
	>"$GW_TMP/bootstrap-nopreload.yaml"
CONFIG=$GW_TMP/bootstrap-nopreload.yaml
GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
SEED=tests/fixtures/istio/seed
STATE_DIR=$GW_TMP/state
STATE_CONFIG=$GW_TMP/bootstrap-state.yaml

[ -x "$GWCTL" ] || fail "gwctl binary $GWCTL not found (run tools/setup.sh)"
[ -r "$CONFIG" ] || fail "$CONFIG is missing"
SOCKET=$(awk '/^control:/ { c = 1; next } c && /^[^ #]/ { c = 0 }
	c && $1 == "socket:" { print $2; exit }' "$CONFIG")
SOCKET=${SOCKET:-/run/gatewayd/gatewayd.sock}

# gwctl as the operator runs it; output and status kept for the checks.
OUT= ERR= RC=0
ctl() {
	RC=0
	OUT=$("$GWCTL" -s "$SOCKET" "$@" 2>"$GW_TMP/ctl.err") || RC=$?
	ERR=$(cat "$GW_TMP/ctl.err")
}

# ctl_ok DESCRIPTION ARGS...: gwctl ARGS exits 0.
ctl_ok() {
	local desc=$1; shift
	ctl "$@"
	if [ "$RC" -eq 0 ]; then ok "$desc"; else
		not_ok "$desc" "gwctl $* exited $RC" "stdout: $OUT" "stderr: $ERR"
	fi
}

# ctl_fails DESCRIPTION ARGS...: gwctl ARGS exits 1.
ctl_fails() {
	local desc=$1; shift
	ctl "$@"
	if [ "$RC" -eq 1 ]; then ok "$desc"; else
		not_ok "$desc" "gwctl $* exited $RC (expected 1)" "stdout: $OUT" "stderr: $ERR"
	fi
}

# ctl_stat NAME: one counter of `gwctl stats` (snapshot.*, control.*, ...).
ctl_stat() {
	"$GWCTL" -s "$SOCKET" stats 2>/dev/null | awk -v n="$1" '
		$1 == n { print $2; found = 1; exit } END { exit !found }'
}
ctl_stat_ge() {
	local v
	v=$(ctl_stat "$1") && is_number "$v" && [ "$v" -ge "$2" ]
}
snapshot_generation() { ctl_stat snapshot.generation; }

socket_ready() { [ -S "$SOCKET" ] && "$GWCTL" -s "$SOCKET" version >/dev/null 2>&1; }

start_gateway() {
	gw_start "$1"
	wait_until 10 socket_ready ||
		fail "gatewayd serves but $SOCKET does not answer gwctl version"
}

# ------------------------------------------------------------------ fixtures
# The lab's Service httpbin (port 8000 to 80) and its two workloads.
cat >"$GW_TMP/httpbin-service.yaml" <<'EOF'
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: httpbin
spec:
  hosts:
  - httpbin
  addresses:
  - 10.96.0.10
  ports:
  - number: 8000
    name: http
    protocol: HTTP
    targetPort: 80
  location: MESH_INTERNAL
  resolution: STATIC
  endpoints:
  - address: 10.10.2.11
    labels: {app: httpbin, version: v1}
  - address: 10.10.2.12
    labels: {app: httpbin, version: v2}
EOF
# A valid DestinationRule, then a VirtualService whose weight (line 17,
# column 15) is invalid: the whole file must be refused.
cat >"$GW_TMP/bad.yaml" <<'EOF'
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts: [httpbin]
  http:
  - route:
    - destination: {host: httpbin, subset: v2}
      weight: -5
EOF
sed -n '/^control:/,/^[^ ]/p' "$CONFIG" | grep -q state_dir &&
	fail "$CONFIG already sets control.state_dir"
awk -v dir="$STATE_DIR" '{ print } /^control:/ { print "  state_dir: " dir }' \
	"$CONFIG" >"$STATE_CONFIG"
grep -q "state_dir: $STATE_DIR" "$STATE_CONFIG" ||
	fail "could not add control.state_dir to a copy of $CONFIG (no control: section?)"

# ------------------------------------------------------------------ topology
tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 ||
	fail "tools/demo.sh down (before the test) failed: $(tail -n 3 "$GW_TMP/demo-down-before.log")"
timeout 60 tools/demo.sh up >"$GW_TMP/demo-up.log" 2>&1 ||
	fail "tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"

check "gatewayd --check accepts the bootstrap with control.state_dir" \
	timeout 30 "$GATEWAYD" -c "$STATE_CONFIG" --check
start_gateway "$STATE_CONFIG"
ok "gatewayd started with control.state_dir=$STATE_DIR"

# ------------------------------------------------------------- the socket
mode=$(stat -c '%a %U:%G %F' "$SOCKET")
assert_eq "$mode" "660 root:root socket" "$SOCKET is a socket, mode 0660, root:root"

ctl_ok "gwctl version exits 0" version
assert_contains "$OUT" "gwctl version " "gwctl version prints gwctl's version"
assert_contains "$OUT" "gatewayd version " "gwctl version prints the gateway's version"
ctl_ok "gwctl get virtualservices on an empty gateway exits 0" get virtualservices
assert_contains "$OUT" "No resources found" "an empty gateway has no VirtualService"
gen0=$(snapshot_generation || true)
assert_eq "$gen0" 1 "the first snapshot is generation 1"

# ------------------------------------------------------------------- apply
ctl_ok "apply the httpbin ServiceEntry" apply -f "$GW_TMP/httpbin-service.yaml"
assert_eq "$OUT" "serviceentry.networking.istio.io/httpbin created" \
	"apply prints kubectl's \"created\" line"
ctl_ok "apply $SEED/httpbin-all-v1.yaml" apply -f "$SEED/httpbin-all-v1.yaml"
assert_eq "$OUT" "virtualservice.networking.istio.io/httpbin created
destinationrule.networking.istio.io/httpbin created" \
	"apply prints one line per resource, in file order"
ctl_ok "apply the same file again" apply -f "$SEED/httpbin-all-v1.yaml"
assert_contains "$OUT" "virtualservice.networking.istio.io/httpbin unchanged" \
	"re-applying unchanged resources says \"unchanged\""
gen1=$(snapshot_generation || true)
assert_eq "$gen1" 3 "two applies that changed something: generation 3"

ctl_ok "get vs (short name)" get vs
assert_contains "$OUT" "NAME" "get vs prints a table header"
row=$(printf '%s\n' "$OUT" | awk '$2 == "httpbin"')
assert_contains "$row" '["httpbin"]' "get vs lists httpbin with its hosts"
assert_eq "$(printf '%s\n' "$OUT" | awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "GENERATION") c = i } $2 == "httpbin" { print $c }')" \
	3 "get vs shows the generation that last changed httpbin"
ctl_ok "get destinationrules,serviceentries" get destinationrules,serviceentries
assert_contains "$OUT" "destinationrule.networking.istio.io/httpbin" "get dr,se names the DestinationRule"
assert_contains "$OUT" "serviceentry.networking.istio.io/httpbin" "get dr,se names the ServiceEntry"

ctl_ok "get vs httpbin -o yaml" get vs httpbin -o yaml
printf '%s\n' "$OUT" >"$GW_TMP/roundtrip.yaml"
assert_contains "$OUT" "kind: VirtualService" "-o yaml prints the VirtualService"
assert_contains "$OUT" "subset: v1" "-o yaml keeps the route to subset v1"
ctl_ok "apply what get -o yaml printed" apply -f "$GW_TMP/roundtrip.yaml"
assert_eq "$OUT" "virtualservice.networking.istio.io/httpbin unchanged" \
	"the -o yaml round trip is unchanged"
ctl_ok "get dr httpbin -o json" get dr httpbin -o json
if printf '%s\n' "$OUT" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["spec"]["host"] != "httpbin")' 2>/dev/null; then
	ok "-o json is JSON with spec.host httpbin"
else
	not_ok "-o json is JSON with spec.host httpbin" "$OUT"
fi

# ---------------------------------------------------- compiled view, health
ctl_ok "describe route httpbin" describe route httpbin
assert_contains "$OUT" "generation 3" "describe names the snapshot generation"
assert_contains "$OUT" "outbound|8000|v1|httpbin" "describe shows the route to subset v1's cluster"
assert_contains "$OUT" "10.10.2.11:80" "describe shows v1's endpoint"
ctl_fails "describe route of an unknown host exits 1" describe route nosuchhost
assert_contains "$ERR" "nosuchhost" "the message names the unknown host"

ctl_ok "get endpoints" get endpoints
ep=$(printf '%s\n' "$OUT" | awk '$1 == "10.10.2.11:80"')
assert_contains "$ep" "HEALTHY" "get endpoints: 10.10.2.11:80 is HEALTHY"
assert_contains "$ep" "outbound|8000|v1|httpbin" "get endpoints: ... in cluster outbound|8000|v1|httpbin"

ctl_ok "apply $SEED/httpbin-mirror-v2.yaml" apply -f "$SEED/httpbin-mirror-v2.yaml"
assert_contains "$OUT" "virtualservice.networking.istio.io/httpbin configured" \
	"changing the VirtualService says \"configured\""
ctl_ok "describe route httpbin after the mirror" describe route httpbin
assert_contains "$OUT" "mirror outbound|8000|v2|httpbin 100%" "describe shows the mirror to v2 at 100%"
gen2=$(snapshot_generation || true)
assert_eq "$gen2" 4 "the mirror apply made generation 4"

# ---------------------------------------------------------- rejected apply
ctl_fails "an apply with one invalid document exits 1" apply -f "$GW_TMP/bad.yaml"
assert_contains "$ERR" "$GW_TMP/bad.yaml:17:15: spec.http[0].route[0].weight" \
	"the error names FILE:LINE:COL and the field"
assert_contains "$ERR" "unchanged (generation 4)" "the error says the configuration is unchanged"
assert_eq "$(snapshot_generation || true)" 4 "the generation is still 4"
ctl_fails "the valid document of the rejected file was not applied either" get dr reviews
assert_contains "$ERR" 'destinationrules.networking.istio.io "reviews" not found' \
	"get of a missing resource says NotFound like kubectl"
ctl_ok "get vs httpbin -o yaml after the rejected apply" get vs httpbin -o yaml
assert_contains "$OUT" "mirror_percent: 100" "the running VirtualService is still the mirror one"
ctl_fails "an unknown kind exits 1" get frobnicators
assert_contains "$ERR" "doesn't have a resource type \"frobnicators\"" "an unknown kind is named"
ctl_fails "an unknown command exits 1" frobnicate
ctl_fails "apply without -f exits 1" apply

# ------------------------------------------------------------------ delete
ctl_ok "delete vs httpbin" delete vs httpbin
assert_eq "$OUT" 'virtualservice.networking.istio.io "httpbin" deleted' \
	"delete prints kubectl's \"deleted\" line"
ctl_fails "deleting it again exits 1" delete virtualservice httpbin
assert_contains "$ERR" 'Error from server (NotFound): virtualservices.networking.istio.io "httpbin" not found' \
	"deleting a missing resource says NotFound"
ctl_ok "delete -f the seed file (the DestinationRule is left)" delete -f "$SEED/httpbin-all-v1.yaml" --ignore-not-found
assert_eq "$OUT" 'destinationrule.networking.istio.io "httpbin" deleted' "delete -f deletes what the file names"
ctl_ok "get all after the deletes" get all
assert_contains "$OUT" "serviceentry.networking.istio.io/httpbin" "the ServiceEntry remains"
assert_not_contains "$OUT" "virtualservice.networking.istio.io/httpbin" "the VirtualService is gone"
ctl_ok "apply -f - (standard input)" apply -f - <"$SEED/httpbin-all-v1.yaml"
assert_contains "$OUT" "virtualservice.networking.istio.io/httpbin created" "apply -f - reads standard input"

# ------------------------------------------------------------ permissions
nobody_ctl() {
	RC=0
	OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$GWCTL" -s "$SOCKET" get vs 2>"$GW_TMP/ctl.err") || RC=$?
	ERR=$(cat "$GW_TMP/ctl.err")
}
nobody_ctl
assert_eq "$RC" 1 "gwctl as uid 65534 exits 1"
assert_contains "$ERR" "Permission denied — run gwctl as root or as a member of group root" \
	"the kernel refuses uid 65534 and gwctl says who may connect"
chmod 0666 "$SOCKET"
nobody_ctl
chmod 0660 "$SOCKET"
assert_eq "$RC" 1 "gwctl as uid 65534 exits 1 even with the socket opened up"
assert_contains "$ERR" "permission denied: uid 65534 is not root or in group root" \
	"gatewayd checks the peer's credentials itself"
assert_ge "$(ctl_stat control.refused_permission || true)" 1 "control.refused_permission counts it"

# ------------------------------------------------------------- bad frames
frames_out=$(timeout 20 python3 - "$SOCKET" <<'EOF' 2>&1
import socket, struct, sys

path = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    return s

def reply(s):
    data = b""
    try:
        while len(data) < 8:
            d = s.recv(8 - len(data))
            if not d:
                return None
            data += d
        status, n = struct.unpack(">II", data)
        body = b""
        while len(body) < n:
            d = s.recv(n - len(body))
            if not d:
                return None
            body += d
        return status, body.decode()
    except ConnectionResetError:
        return None

def request(s, *args):
    payload = "".join(a + "\n" for a in args).encode() + b"\n"
    s.sendall(struct.pack(">I", len(payload)) + payload)
    return reply(s)

good = conn()
print("good before:", request(good, "version")[0])
# Truncated: a length, then part of the payload, then EOF.
s = conn(); s.sendall(struct.pack(">I", 200) + b"get\nvs\n"); s.close()
s = conn(); s.sendall(b"\x00\x00"); s.close()
# Oversized: 64 MiB announced.
s = conn(); s.sendall(struct.pack(">I", 64 << 20) + b"x" * 1000)
print("oversized:", reply(s))
s.close()
# Garbage: HTTP on the control socket.
s = conn(); s.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
print("http:", reply(s))
s.close()
# Garbage with a plausible length: NUL and escape bytes.
s = conn(); s.sendall(struct.pack(">I", 8) + b"get\x00\x1b\n\nx")
print("binary:", reply(s))
s.close()
print("good after:", request(good, "get", "vs")[0])
EOF
) || true
diag "bad frames:"; printf '%s\n' "$frames_out" | sed 's/^/#   /'
assert_contains "$frames_out" "good before: 200" "a well-behaved client is served"
assert_contains "$frames_out" "oversized: (413, \"request of 67108864 bytes exceeds" \
	"an oversized frame gets 413 and its size"
assert_contains "$frames_out" "http: (413," "HTTP on the control socket is refused as oversized"
assert_contains "$frames_out" "binary: (400, 'malformed request: control character" \
	"a frame with control characters gets 400"
assert_contains "$frames_out" "good after: 200" "the well-behaved client is still served after them"
wait_until 3 ctl_stat_ge control.truncated 2 || true
assert_ge "$(ctl_stat control.truncated || true)" 2 "control.truncated counts the truncated frames"
assert_ge "$(ctl_stat control.oversized || true)" 2 "control.oversized counts the oversized frames"
assert_ge "$(ctl_stat control.malformed || true)" 1 "control.malformed counts the malformed frame"
gw_running || fail "gatewayd died after the bad frames"
ok "gatewayd still runs after the bad frames"

# ------------------------------------------------------ concurrent clients
# Waited for by pid: a bare `wait` would wait for gatewayd too.
pids=()
for i in $(seq 1 100); do
	( "$GWCTL" -s "$SOCKET" get vs httpbin -o yaml >"$GW_TMP/c$i.out" 2>&1
	  echo $? >"$GW_TMP/c$i.rc" ) &
	pids+=($!)
done
wait "${pids[@]}"
n_ok=0
for i in $(seq 1 100); do
	[ "$(cat "$GW_TMP/c$i.rc")" = 0 ] && grep -q "name: httpbin" "$GW_TMP/c$i.out" &&
		n_ok=$((n_ok + 1))
	rm -f "$GW_TMP/c$i.rc" "$GW_TMP/c$i.out"
done
assert_eq "$n_ok" 100 "100 concurrent gwctl clients all get their answer"
assert_eq "$(ctl_stat control.refused_busy || true)" 0 "none was refused as too many"

# --------------------------------------------------------- saved state
[ -s "$STATE_DIR/resources.yaml" ] && ok "$STATE_DIR/resources.yaml was written" ||
	not_ok "$STATE_DIR/resources.yaml was written" "$(ls -la "$STATE_DIR" 2>&1)"
before_restart=$("$GWCTL" -s "$SOCKET" get all -o name 2>&1 || true)
gw_stop 10 || not_ok "gatewayd stops with status 0" "status $?"
[ -e "$SOCKET" ] && not_ok "the socket file is removed at stop" || ok "the socket file is removed at stop"

start_gateway "$STATE_CONFIG"
ctl_ok "get all after a restart with control.state_dir" get all -o name
assert_eq "$OUT" "$before_restart" "the applied resources survived the restart"
ctl_ok "get vs httpbin -o yaml after the restart" get vs httpbin -o yaml
assert_contains "$OUT" "subset: v1" "the VirtualService came back as applied"
gw_stop 10 || not_ok "gatewayd stops with status 0" "status $?"

start_gateway "$CONFIG"
ctl_ok "get all after a restart without control.state_dir" get all
assert_contains "$OUT" "No resources found" "without state_dir nothing applied survives"
gw_stop 10 || not_ok "gatewayd stops with status 0" "status $?"

gw_finish
