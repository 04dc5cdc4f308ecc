#!/usr/bin/env bash
# tests/system/mirror_lib.sh: helpers of tests/system/test_mirror*.sh,
# sourced after lib.sh and http_lib.sh: capture backends
# (mirror_backend.py), the bootstrap, gwctl, the mirror counters.

GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
GW_SOCKET=/run/gatewayd/gatewayd.sock
GW_MIRROR_BACKEND=$GW_ROOT/tests/system/mirror_backend.py
MIRROR_VIP=10.96.0.30
MIRROR_AUTH=mirrortest:8000
[ -x "$GWCTL" ] || fail "gwctl binary $GWCTL not found (run tools/setup.sh)"

# mirror_backend NS NAME PORT [ARGS...]: start mirror_backend.py (requests
# logged in $GW_TMP/NAME.req), wait until it listens; its pid in
# $GW_TMP/NAME.pid.
mirror_backend() {
	local ns=$1 name=$2 port=$3; shift 3
	ip netns exec "$ns" "$GW_PYTHON" "$GW_MIRROR_BACKEND" --port "$port" \
		--name "$name" --log "$GW_TMP/$name.req" "$@" >"$GW_TMP/$name.log" 2>&1 &
	echo $! >"$GW_TMP/$name.pid"
	wait_until 10 ns_listening "$ns" "$port" ||
		fail "backend $name: nothing listens on $ns port $port"
	touch "$GW_TMP/$name.req"
}

# mirror_backend_stop NAME: stop a backend started by mirror_backend.
mirror_backend_stop() {
	local pid
	pid=$(cat "$GW_TMP/$1.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# mirror_backends_up: v1 (primary) 10.10.2.11:9090, v2 10.10.2.12:9090,
# v3 10.10.2.12:9091 (tests/system/configs/mirror-service.yaml).
mirror_backends_up() {
	mirror_backend gw-httpbin-v1 m-v1 9090
	mirror_backend gw-httpbin-v2 m-v2 9090
	mirror_backend gw-httpbin-v2 m-v3 9091
}

# mirror_config [EXTRA_YAML_LINES]: the HTTP profile's bootstrap with the
# lab's httpbin (all to v1) and the mirror test service preloaded.
mirror_config() {
	local cfg
	cfg=$(http_config tests/system/configs/httpbin-service.yaml \
		tests/fixtures/istio/seed/httpbin-all-v1.yaml \
		tests/system/configs/mirror-service.yaml)
	[ $# -eq 0 ] || printf '%s\n' "$@" >>"$cfg"
	# GW_MIRROR_SHADOW_LCORE=1: the engine on its own lcore (lcores.shadow)
	if [ "${GW_MIRROR_SHADOW_LCORE:-0}" = 1 ]; then
		sed -i 's/^  workers: \[1\]$/  workers: [1]\n  shadow: 2/' "$cfg"
		grep -q '^  shadow: 2$' "$cfg" || fail "mirror_config: cannot add lcores.shadow"
	fi
	printf '%s\n' "$cfg"
}

# gwctl_ok DESCRIPTION ARGS...: gwctl ARGS succeeds.
gwctl_ok() {
	local desc=$1 out; shift
	if out=$("$GWCTL" -s "$GW_SOCKET" "$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "gwctl $*" "$out"
	fi
}

# mirror_vs NAME YAML_HTTP_ROUTE: apply a VirtualService for mirrortest
# whose single http route is the given YAML (indented 2 under "http: -").
mirror_apply() {
	local desc=$1 f=$GW_TMP/vs-$RANDOM.yaml; shift
	{
		cat <<EOY
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: mirrortest
spec:
  hosts: [mirrortest]
  http:
  - route:
    - destination: {host: mirrortest, subset: v1}
EOY
		printf '%s\n' "$@"
	} >"$f"
	gwctl_ok "$desc" apply -f "$f"
}

# mirror_client COUNT [PATH]: COUNT GETs on one keep-alive connection to
# mirrortest (one worker routes them all); prints http_client.py's summary.
mirror_client() {
	http_client --host "$MIRROR_VIP" --port 8000 --authority "$MIRROR_AUTH" \
		--count "$1" --path "${2:-/}"
}

# req_lines NAME: requests logged by backend NAME.
req_lines() { log_lines "$GW_TMP/$1.req"; }

# mirror_stat ROUTE_CLUSTER_SUFFIX: a gateway.mirror.* counter (first match
# of a name ending with the suffix), 0 when absent.
mirror_stat() {
	local stats
	stats=$(gw_admin /stats) || { echo 0; return 0; }
	awk -v s="$1" '
		index($1, "gateway.mirror.") == 1 && substr($1, length($1) - length(s) + 1) == s { print $2; f = 1; exit }
		END { if (!f) print 0 }' <<<"$stats"
}

# shadow_stat NAME: gateway.shadow.NAME from /stats, -1 when absent.
shadow_stat() {
	local stats
	stats=$(gw_admin /stats) || { echo -1; return 0; }
	awk -v n="gateway.shadow.$1" '
		$1 == n { print $2; f = 1; exit }
		END { if (!f) print -1 }' <<<"$stats"
}
