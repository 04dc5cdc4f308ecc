#!/usr/bin/env bash
# tools/bench-apply.sh: how fast a `gwctl apply` takes effect (issue 6), on
# the demo topology (docs/demo.md) with gatewayd over AF_PACKET, one worker
# (tests/system/configs/http-af_packet.yaml), and nginx as the reviews
# service's v1 and v2 (tests/system/apply_lib.sh).
#
# 1. Apply-to-effect latency, for each route count N (10, 1,000, 10,000):
#    one VirtualService for reviews with N http routes: N-1 routes to
#    subset v1 matching uri prefixes /rI/ (or, --shape mixed, six kinds of
#    uri and header conditions, regexes among them), then the probe route
#    (last, so that every lookup walks past the others) whose destination
#    flips between v1 and v2. tools/bench-apply-probe.py, in the client
#    namespace, polls the probe route back to back on one keep-alive
#    connection while it applies the two versions in turn (--reps times)
#    and reports apply_ms (gwctl apply, start to exit: parse, validate,
#    compile, publish, wait for the worker to switch), effect_ms (apply's
#    return to the response of the first request routed by the new
#    rules), seen_ms (apply's start to the first response from the new
#    destination) and stale requests (sent after apply returned, answered
#    by the old destination: the gateway promises none), p50 and max;
#    "first" is the apply that replaced the small rule set by the N routes.
# 2. Requests lost during --updates applies under load: wrk (1 thread, 8
#    keep-alive connections) through the gateway while the applies
#    alternate the v1-only and 80/20 rule sets of tests/system/apply_lib.sh;
#    wrk's errors and non-200 responses, the gateway's resets and 5xx.
#
# Prints a table and writes the per-apply figures as CSV to
# OUT/apply-DATE.csv.
#
# Usage: tools/bench-apply.sh [--routes "10 1000 10000"] [--reps R]
#                             [--shape S] [--updates U] [--out DIR]
#                             [--perf FILE] [--help]
#   --routes LIST  route counts (default "10 1000 10000")
#   --reps R       applies per route count (20)
#   --shape S      what the N-1 other routes match: prefix (uri prefix
#                  /rI/, the default) or mixed (by I modulo 6: uri exact,
#                  prefix, regex, header exact, prefix, regex, as
#                  tools/bench/bench-route does)
#   --updates U    applies under load in part 2 (200; 0 skips it)
#   --out DIR      where the CSV goes (build/bench)
#   --perf FILE    record gatewayd with `perf record -g` during the applies
#                  of the largest route count (read it with
#                  perf report -i FILE --comm gatewayd)
# Environment: GW_BUILD (build directory with app/gatewayd and app/gwctl,
# default build/). Needs root, nginx and wrk (tools/setup.sh), and takes the
# demo-topology lock (tools/topology-lock.sh, through tests/system/lib.sh).
set -euo pipefail

PROG=bench-apply.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUTES="10 1000 10000"
REPS=20
UPDATES=200
OUTDIR=$ROOT/build/bench
PERF_OUT=
SHAPE=prefix

die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case $1 in
	--routes) ROUTES=${2:?}; shift ;;
	--reps) REPS=${2:?}; shift ;;
	--updates) UPDATES=${2:?}; shift ;;
	--out) OUTDIR=${2:?}; shift ;;
	--perf) PERF_OUT=${2:?}; shift ;;
	--shape) SHAPE=${2:?}; shift ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
	shift
done
for n in $ROUTES; do
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 100000 ] ||
		die "--routes: each count must be 1..100000, not '$n'"
done
case $SHAPE in prefix|mixed) ;; *) die "--shape must be prefix or mixed" ;; esac
[[ $REPS =~ ^[0-9]+$ ]] && [ "$REPS" -ge 1 ] && [ "$REPS" -le 1000 ] || die "--reps must be 1..1000"
[[ $UPDATES =~ ^[0-9]+$ ]] && [ "$UPDATES" -le 10000 ] || die "--updates must be 0..10000"
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces, DPDK)"
command -v wrk >/dev/null || die "wrk missing: run tools/setup.sh"
[ -z "$PERF_OUT" ] || command -v perf >/dev/null || die "perf missing (linux-perf)"
BUILD=${GW_BUILD:-$ROOT/build}
export GATEWAYD=$BUILD/app/gatewayd GWCTL=$BUILD/app/gwctl
for f in "$GATEWAYD" "$GWCTL"; do
	[ -x "$f" ] || die "$f missing: run tools/setup.sh (or ninja -C $BUILD)"
done
mkdir -p "$OUTDIR"
CSV=$OUTDIR/apply-$(date -u +%Y%m%dT%H%M%SZ).csv

# The test helpers: lock, gatewayd start/stop, the exit trap (gatewayd
# stopped, topology down, lock released), backends, rule sets.
# shellcheck source=tests/system/lib.sh
. "$ROOT/tests/system/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$ROOT/tests/system/http_lib.sh"
# shellcheck source=tests/system/apply_lib.sh
. "$ROOT/tests/system/apply_lib.sh"
PROBE=$ROOT/tools/bench-apply-probe.py

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }

# gen_vs N SUBSET: the reviews VirtualService with N http routes, the last
# (the probe route) to SUBSET; the others match as --shape says.
gen_vs() {
	"$GW_PYTHON" - "$1" "$2" "$SHAPE" <<'EOF'
import sys
n, subset, shape = int(sys.argv[1]), sys.argv[2], sys.argv[3]
# mixed: as tools/bench/bench-route, by index modulo 6 (regexes match the
# whole value, so /probe without an x-h header matches none of them)
mixed = ["{uri: {exact: /e%d}}", "{uri: {prefix: /p%d/}}",
         "{uri: {regex: '/x%d/[0-9]+'}}", "{headers: {x-h: {exact: h%d}}}",
         "{headers: {x-h: {prefix: p%d-}}}", "{headers: {x-h: {regex: 'r%d-[a-z]+'}}}"]
out = ["apiVersion: networking.istio.io/v1", "kind: VirtualService",
       "metadata:", "  name: reviews", "spec:", "  hosts: [reviews]", "  http:"]
for i in range(n - 1):
    m = ("{uri: {prefix: /r%d/}}" if shape == "prefix" else mixed[i % 6]) % i
    out.append("  - name: r%d" % i)
    out.append("    match: [%s]" % m)
    out.append("    route: [{destination: {host: reviews, subset: v1}}]")
out.append("  - name: probe")
out.append("    route: [{destination: {host: reviews, subset: %s}}]" % subset)
print("\n".join(out))
EOF
}

stat_of() { "$GWCTL" -s "$APPLY_SOCKET" stats | awk -v n="$1" '$1 == n { print $2 }'; }

apply_rules_write "$GW_TMP"
http_topology_up
apply_backends_up
CFG=$(http_config tests/system/configs/reviews-service.yaml \
	tests/fixtures/istio/bookinfo/destination-rule-all.yaml "$GW_TMP/rules-v1.yaml")
http_start "$CFG" >&2
wait_until 10 apply_socket_ready || fail "$APPLY_SOCKET does not answer gwctl version"
log "$("$GATEWAYD" --version 2>/dev/null | head -n 1 || true), $(nproc) CPUs, kernel $(uname -r)"

echo "shape,routes,rep,to,apply_ms,effect_ms,seen_ms,stale" >"$CSV"
declare -A R
largest=$(printf '%s\n' $ROUTES | sort -n | tail -n 1)
PERF_PID=
for n in $ROUTES; do
	gen_vs "$n" v1 >"$GW_TMP/vs-$n-v1.yaml"
	gen_vs "$n" v2 >"$GW_TMP/vs-$n-v2.yaml"
	t0=$(date +%s%N)
	out=$("$GWCTL" -s "$APPLY_SOCKET" apply -f "$GW_TMP/vs-$n-v1.yaml" 2>&1) ||
		fail "apply of $n routes failed: $out"
	first_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	routes=$(stat_of snapshot.routes)
	mem=$(stat_of snapshot.memory_bytes)
	log "$n routes: first apply ${first_ms} ms ($(wc -c <"$GW_TMP/vs-$n-v1.yaml") bytes of YAML; snapshot.routes $routes, memory_bytes $mem)"
	if [ -n "$PERF_OUT" ] && [ "$n" = "$largest" ]; then
		perf record -q -g -o "$PERF_OUT" -p "$GW_PID" >"$GW_TMP/perf.log" 2>&1 &
		PERF_PID=$!
		sleep 1
	fi
	out=$(ip netns exec "$CLIENT" "$GW_PYTHON" "$PROBE" --gwctl "$GWCTL" \
		--socket "$APPLY_SOCKET" --host 10.96.0.20 --port 9080 \
		--authority reviews:9080 --path /probe --reps "$REPS" \
		--file "$GW_TMP/vs-$n-v1.yaml:v1" --file "$GW_TMP/vs-$n-v2.yaml:v2" 2>&1) ||
		{ printf '%s\n' "$out" >&2; fail "the probe failed for $n routes"; }
	if [ -n "$PERF_PID" ]; then
		kill -INT "$PERF_PID" 2>/dev/null || true
		wait "$PERF_PID" || true
		PERF_PID=
		log "perf data of the $n-route applies in $PERF_OUT"
	fi
	printf '%s\n' "$out" | awk -v n="$n" -v shape="$SHAPE" '$1 == "rep" { print shape "," n "," $2 "," $4 "," $6 "," $8 "," $10 "," $12 }' >>"$CSV"
	R[$n]=$(printf '%s\n' "$out" | awk -v first="$first_ms" -v routes="$routes" -v mem="$mem" '
		$1 == "summary" && $3 == "p50" { v[$2] = sprintf("%.2f / %.2f", $4, $6) }
		$1 == "summary" && $2 == "stale" { stale = $4 }
		$1 == "rtt_us" { rtt = $3 }
		$1 == "polls" { polls = $2 }
		END { printf "%s|%s|%s|%s|%s|%s|%s|%s|%s\n", routes, mem, first,
			v["apply_ms"], v["effect_ms"], v["seen_ms"], stale, rtt, polls }')
	log "$n routes: $(printf '%s\n' "$out" | grep '^summary\|^rtt\|^polls' | tr '\n' ';')"
done

# ------------------------------------------- requests lost under updates
if [ "$UPDATES" -gt 0 ]; then
	"$GWCTL" -s "$APPLY_SOCKET" apply -f "$GW_TMP/rules-v1.yaml" >/dev/null ||
		fail "cannot apply $GW_TMP/rules-v1.yaml"
	stats_before=$(gw_admin /stats)
	apply_wrk_start "$GW_TMP/wrk.out"
	sleep 1
	failed=0 t0=$(date +%s%N)
	for ((i = 1; i <= UPDATES; i++)); do
		set=$([ $((i % 2)) -eq 1 ] && echo 8020 || echo v1)
		"$GWCTL" -s "$APPLY_SOCKET" apply -f "$GW_TMP/rules-$set.yaml" >/dev/null 2>&1 ||
			failed=$((failed + 1))
	done
	loop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	sleep 1
	kill -INT "$APPLY_WRK_PID" 2>/dev/null || true
	wait "$APPLY_WRK_PID" || true
	stats_after=$(gw_admin /stats)
	delta() {
		local a b
		a=$(awk -v n="$1" '$1 == n { print $2 }' <<<"$stats_before")
		b=$(awk -v n="$1" '$1 == n { print $2 }' <<<"$stats_after")
		echo $(( ${b:-0} - ${a:-0} ))
	}
	read -r total ok200 errs < <(awk '
		$1 == "count" { t += $4; if ($2 == 200) o += $4 }
		$1 == "errors" { e = $3 + $5 + $7 + $9 + $11 }
		END { printf "%d %d %d\n", t, o, e }' "$GW_TMP/wrk.out")
	rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$GW_TMP/wrk.out")
	LOAD="$UPDATES applies in $loop_ms ms ($failed failed); wrk $total requests ($rps/s), non-200 $((total - ok200)), socket errors $errs; gateway resets $(( $(delta gateway.http.downstream_resets) + $(delta gateway.http.upstream_resets) )), 5xx $(delta gateway.http.rq_5xx)"
	log "$LOAD"
fi
gw_stop 10 >&2 || true

# ------------------------------------------------------------------ table
printf '\nApply-to-effect latency (%s routes, %s applies per route count; p50 / max, ms)\n' "$SHAPE" "$REPS"
printf '%-7s %-9s %-9s %-8s %-19s %-13s %-19s %-5s %-7s\n' routes compiled memory first "apply" "effect" "seen" stale rtt_us
for n in $ROUTES; do
	IFS='|' read -r routes mem first apply effect seen stale rtt _ <<<"${R[$n]}"
	printf '%-7s %-9s %-9s %-8s %-19s %-13s %-19s %-5s %-7s\n' "$n" "$routes" \
		"$((mem / 1024))K" "$first" "$apply" "$effect" "$seen" "$stale" "$rtt"
done
[ "$UPDATES" -eq 0 ] || printf '\nUnder load: %s\n' "$LOAD"
printf '\nCSV: %s\n' "$CSV"
gw_finish >/dev/null
