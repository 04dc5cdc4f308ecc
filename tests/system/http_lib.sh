#!/usr/bin/env bash
# tests/system/http_lib.sh: helpers of tests/system/test_http_*.sh, sourced
# after lib.sh. The demo topology with httpbin v1/v2 (tools/demo.sh), small
# per-version backends (http_backend.py) and gatewayd with the HTTP proxy.
#
# Environment: GW_HTTP_PROFILE 1w (default: AF_PACKET, one worker) or 2w
# (two workers, two queue pairs per veth).

GW_HTTP_PROFILE=${GW_HTTP_PROFILE:-1w}
case $GW_HTTP_PROFILE in
1w) GW_HTTP_CONFIG=tests/system/configs/http-af_packet.yaml GW_HTTP_QUEUES=1 ;;
2w) GW_HTTP_CONFIG=tests/system/configs/http-af_packet-2w.yaml GW_HTTP_QUEUES=2 ;;
*) fail "GW_HTTP_PROFILE must be 1w or 2w, not '$GW_HTTP_PROFILE'" ;;
esac
GW_HTTP_ACCESS_LOG=/run/gatewayd/http-access.log
GW_HTTP_BACKEND=$GW_ROOT/tests/system/http_backend.py
GW_HTTP_CLIENT=$GW_ROOT/tests/system/http_client.py
GW_DEMO_LOGS=/run/gatewayd/demo
CLIENT=gw-client

# http_topology_up: the demo topology, httpbin v1/v2 answering.
http_topology_up() {
	tools/demo.sh down >"$GW_TMP/demo-down-before.log" 2>&1 ||
		fail "tools/demo.sh down (before the test) failed"
	GW_DEMO_VETH_QUEUES=$GW_HTTP_QUEUES timeout 90 tools/demo.sh up \
		>"$GW_TMP/demo-up.log" 2>&1 ||
		fail "tools/demo.sh up failed: $(tail -n 5 "$GW_TMP/demo-up.log")"
}

# http_backend NS NAME PORT: start http_backend.py in NS (log of requests
# in $GW_TMP/NAME.req) and wait until it listens.
http_backend() {
	local ns=$1 name=$2 port=$3
	ip netns exec "$ns" "$GW_PYTHON" "$GW_HTTP_BACKEND" --port "$port" \
		--name "$name" --log "$GW_TMP/$name.req" >"$GW_TMP/$name.log" 2>&1 &
	wait_until 10 ns_listening "$ns" "$port" ||
		fail "backend $name: nothing listens on $ns port $port"
}

# reviews_up: Bookinfo's reviews v1 (10.10.2.11:9080), v2 (10.10.2.12:9080)
# and v3 (10.10.2.11:9083), as tests/system/configs/reviews-service.yaml says.
reviews_up() {
	http_backend gw-httpbin-v1 reviews-v1 9080
	http_backend gw-httpbin-v2 reviews-v2 9080
	http_backend gw-httpbin-v1 reviews-v3 9083
}

# http_config PRELOAD...: a copy of the profile's bootstrap with another
# istio.preload list, in $GW_TMP; prints its path.
http_config() {
	local out=$GW_TMP/bootstrap-$RANDOM.yaml list
	list=$(printf '%s, ' "$@")
	sed "s|^  preload: .*|  preload: [${list%, }]|" "$GW_HTTP_CONFIG" >"$out"
	printf '%s\n' "$out"
}

# http_start CONFIG: truncate the gateway's access log, start gatewayd.
http_start() {
	: >"$GW_HTTP_ACCESS_LOG"
	gw_start "$1"
}

# ccurl ARGS...: curl in the client namespace, bounded.
ccurl() {
	ip netns exec "$CLIENT" curl -sS --max-time 20 "$@"
}

# http_client ARGS...: tests/system/http_client.py in the client namespace.
http_client() {
	ip netns exec "$CLIENT" "$GW_PYTHON" "$GW_HTTP_CLIENT" "$@"
}

# log_lines FILE: number of lines (0 when absent).
log_lines() {
	[ -f "$1" ] && wc -l <"$1" || echo 0
}

# gw_http_stat NAME: an HTTP proxy counter (gateway.http.NAME).
gw_http_stat() {
	gw_stat "http.$1"
}
