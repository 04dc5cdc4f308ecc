#!/usr/bin/env bash
# tests/system/apply_lib.sh: live rule updates under load, shared by
# tests/system/test_apply_under_load.sh and tools/bench-apply.sh. Sourced
# after lib.sh and http_lib.sh (it uses fail, http_config, http_client,
# $GW_HTTP_CONFIG, $GW_TMP).
#
# The reviews service (tests/system/configs/reviews-service.yaml, VIP
# 10.96.0.20:9080) with nginx answering v1 and v2 in the demo's backend
# namespaces (apply_backends_up), and two rule sets for it, v1-only and 80/20, each with two
# http routes of the same destinations: `load` (header x-load: wrk) for
# wrk's requests and `probe` for everything else, so that wrk's requests do
# not move the probe route's weighted round robin.

GWCTL=${GWCTL:-$GW_ROOT/build/app/gwctl}
APPLY_SOCKET=$(awk '/^control:/ { c = 1; next } c && /^[^ #]/ { c = 0 }
	c && $1 == "socket:" { print $2; exit }' "$GW_HTTP_CONFIG")
APPLY_SOCKET=${APPLY_SOCKET:-/run/gatewayd/gatewayd.sock}
APPLY_DIR=
APPLY_WRK_PID=
APPLY_INVALID_WHY=
[ -x "$GWCTL" ] || fail "gwctl binary $GWCTL not found (run tools/setup.sh)"

apply_socket_ready() {
	[ -S "$APPLY_SOCKET" ] && "$GWCTL" -s "$APPLY_SOCKET" version >/dev/null 2>&1
}

# apply_generation: the running snapshot's generation (gwctl stats).
apply_generation() {
	"$GWCTL" -s "$APPLY_SOCKET" stats 2>/dev/null |
		awk '$1 == "snapshot.generation" { print $2 }'
}

# apply_rules_write DIR: rules-v1.yaml, rules-8020.yaml and the broken
# variants bad-KIND-SET.yaml (KIND weight, field, syntax, tab) in DIR.
apply_rules_write() {
	local dir=$1 set
	APPLY_DIR=$dir
	# Line numbers matter: apply_invalid_check expects errors at them.
	cat >"$dir/rules-v1.yaml" <<'EOF'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - name: load
    match:
    - headers: {x-load: {exact: wrk}}
    route:
    - destination: {host: reviews, subset: v1}
      weight: 100
  - name: probe
    route:
    - destination: {host: reviews, subset: v1}
      weight: 100
EOF
	cat >"$dir/rules-8020.yaml" <<'EOF'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - name: load
    match:
    - headers: {x-load: {exact: wrk}}
    route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v2}
      weight: 20
  - name: probe
    route:
    - destination: {host: reviews, subset: v1}
      weight: 80
    - destination: {host: reviews, subset: v2}
      weight: 20
EOF
	for set in v1 8020; do
		# The last line is the probe route's last weight.
		sed '$ s/weight: /weight: -/' "$dir/rules-$set.yaml" >"$dir/bad-weight-$set.yaml"
		sed '$ s/weight:/wieght:/' "$dir/rules-$set.yaml" >"$dir/bad-field-$set.yaml"
		sed '6 s/\[reviews\]/[reviews/' "$dir/rules-$set.yaml" >"$dir/bad-syntax-$set.yaml"
		sed '6 s/^  /\t/' "$dir/rules-$set.yaml" >"$dir/bad-tab-$set.yaml"
	done
}

# apply_invalid_check KIND SET GENERATION: apply bad-KIND-SET.yaml; true
# when gwctl exits 1 naming FILE:LINE:COL (and the field) of the error and
# saying that the configuration is unchanged at GENERATION, and the
# generation is still GENERATION. Otherwise false with the reason in
# APPLY_INVALID_WHY.
apply_invalid_check() {
	local kind=$1 set=$2 gen=$3 file want rc=0 out last g
	file=$APPLY_DIR/bad-$kind-$set.yaml
	last=$(wc -l <"$file")
	case $kind in
	weight) want="$file:$last:15: spec.http[1].route[$([ "$set" = v1 ] && echo 0 || echo 1)].weight" ;;
	field) want="$file:$last:7: spec.http[1].route[$([ "$set" = v1 ] && echo 0 || echo 1)]: unknown field \"wieght\"" ;;
	syntax) want="$file:7:7: did not find expected ',' or ']'" ;;
	tab) want="$file:6:1: " ;;
	*) APPLY_INVALID_WHY="unknown kind $kind"; return 1 ;;
	esac
	out=$("$GWCTL" -s "$APPLY_SOCKET" apply -f "$file" 2>&1) || rc=$?
	APPLY_INVALID_WHY=
	if [ "$rc" -ne 1 ]; then
		APPLY_INVALID_WHY="exit $rc (expected 1): $out"
	elif [[ $out != *"$want"* ]]; then
		APPLY_INVALID_WHY="no '$want' in: $out"
	elif [[ $out != *"unchanged (generation $gen)"* ]]; then
		APPLY_INVALID_WHY="does not say unchanged (generation $gen): $out"
	elif g=$(apply_generation) && [ "$g" != "$gen" ]; then
		APPLY_INVALID_WHY="the generation moved from $gen to $g"
	fi
	[ -z "$APPLY_INVALID_WHY" ]
}

# apply_probe [COUNT]: COUNT (10) requests to the probe route on one
# keep-alive connection; prints "V1/V2" (how many each version answered),
# or "error: ..." when a request was not answered 200.
apply_probe() {
	local out
	out=$(http_client --host 10.96.0.20 --port 9080 --authority reviews:9080 \
		--path /probe --count "${1:-10}" 2>&1) || { echo "error: $out" | tr '\n' ' '; return 0; }
	if ! grep -qx "statuses 200:${1:-10}" <<<"$out"; then
		echo "error: $out" | tr '\n' ' '
		return 0
	fi
	awk '$1 == "plain" && $3 == "v1" { a = $2 } $1 == "plain" && $3 == "v2" { b = $2 }
		END { printf "%d/%d\n", a, b }' <<<"$out"
}

# apply_backends_up: nginx answering "vN" with x-backend: vN as v1
# (10.10.2.11:9080) and v2 (10.10.2.12:9080), one worker each, no access
# log. (Not http_backend.py: it writes a response's head and body apart,
# and with Nagle each response then waits ~40 ms for a delayed ACK, which
# would make the probes, not the applies, the slow part.) tools/demo.sh
# down stops them with the namespaces' other processes.
apply_backends_up() {
	local v ns dir
	command -v nginx >/dev/null || fail "nginx missing (run tools/setup.sh)"
	for v in v1 v2; do
		ns=gw-httpbin-$v
		dir=$GW_TMP/nginx-$v
		mkdir -p "$dir"
		cat >"$dir/nginx.conf" <<-EOF
		worker_processes 1;
		pid $dir/nginx.pid;
		error_log $dir/error.log;
		events { worker_connections 1024; }
		http {
		    access_log off;
		    keepalive_requests 1000000;
		    client_body_temp_path $dir;
		    proxy_temp_path $dir;
		    fastcgi_temp_path $dir;
		    uwsgi_temp_path $dir;
		    scgi_temp_path $dir;
		    server {
		        listen 9080;
		        location / {
		            default_type text/plain;
		            add_header x-backend $v;
		            return 200 "$v\n";
		        }
		    }
		}
		EOF
		ip netns exec "$ns" nginx -p "$dir" -c "$dir/nginx.conf" \
			-g 'daemon off;' >"$dir/out.log" 2>&1 &
		wait_until 10 ns_listening "$ns" 9080 ||
			fail "backend $v: nginx does not listen on $ns port 9080: $(cat "$dir/out.log" "$dir/error.log" 2>&1 | tail -n 3)"
	done
}

# apply_wrk_start OUT: wrk (one thread, 8 keep-alive connections, at most
# 10 minutes) from the client namespace to the load route, counting
# responses by status and x-backend (tests/system/wrk_count.lua) into OUT;
# its pid in APPLY_WRK_PID. SIGINT stops it and makes it print its counts.
apply_wrk_start() {
	ip netns exec "$CLIENT" wrk -t1 -c8 -d600s --timeout 5s \
		-s "$GW_ROOT/tests/system/wrk_count.lua" http://10.96.0.20:9080/load \
		-- "Host: reviews:9080" "x-load: wrk" >"$1" 2>&1 &
	# shellcheck disable=SC2034 # read by the scripts that source this file
	APPLY_WRK_PID=$!
}
