#!/usr/bin/env bash
# tests/system/test_apply_under_load.sh: live rule updates under load (issue
# 6). wrk keeps 8 keep-alive connections busy through the gateway to the
# reviews service (tests/system/configs/reviews-service.yaml: v1 and v2 are
# nginx in the demo's backend namespaces, answering with an x-backend
# header) while a loop does 200 `gwctl apply`, alternating
# two rule sets, v1-only and 80/20, with 50 invalid applies among them
# (a negative weight, an unknown field, a YAML syntax error, a tab).
#
# Both rule sets have two http routes with the same destinations: `load`
# (header x-load: wrk, wrk's requests) and `probe` (everything else). The
# probe route's weighted pick is a smooth weighted round robin per worker
# and per snapshot, touched by nothing but the probes, so the split each
# generation gives is checked exactly: after every apply, 10 requests on one
# keep-alive connection (tests/system/http_client.py) must be 10 v1
# (v1-only) or exactly 8 v1 and 2 v2 (80/20). Checked:
#   - every valid apply exits 0, says "configured" and makes one new
#     generation, and the probes then see that generation's split;
#   - every invalid apply exits 1 with FILE:LINE:COL and the field, says
#     the configuration is unchanged, leaves the generation as it was, and
#     the probes still see the previous split (the invalid file is always
#     the other rule set, broken);
#   - wrk: no connect/read/write/timeout error, every response 200, none
#     lost; v2 served some of wrk's requests but under 20% (it is 20% in
#     half the generations, 0 in the others);
#   - gatewayd: no downstream or upstream reset, no 5xx, still running.
#
# Usage: tests/system/test_apply_under_load.sh [--help]   (root; about 1-2 min)
# Environment: GWCTL (default build/app/gwctl), GW_APPLY_COUNT (200),
# GW_APPLY_INVALID (50), GW_HTTP_PROFILE (1w, 2w) and those of
# tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_apply_under_load.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
# shellcheck source=tests/system/apply_lib.sh
. "$(dirname "$0")/apply_lib.sh"
gw_require_root

APPLIES=${GW_APPLY_COUNT:-200}
INVALID=${GW_APPLY_INVALID:-50}
is_number "$APPLIES" && [ "$APPLIES" -ge 2 ] || fail "GW_APPLY_COUNT must be a number >= 2"
is_number "$INVALID" && [ "$INVALID" -ge 0 ] && [ "$INVALID" -le "$APPLIES" ] ||
	fail "GW_APPLY_INVALID must be 0..GW_APPLY_COUNT"
command -v wrk >/dev/null || fail "wrk missing (apt-get install wrk; tools/setup.sh)"
apply_rules_write "$GW_TMP"

http_topology_up
apply_backends_up
CFG=$(http_config tests/system/configs/reviews-service.yaml \
	tests/fixtures/istio/bookinfo/destination-rule-all.yaml "$GW_TMP/rules-v1.yaml")
http_start "$CFG"
wait_until 10 apply_socket_ready || fail "$APPLY_SOCKET does not answer gwctl version"
ok "gatewayd started with the v1-only rule set"
out=$(apply_probe)
assert_eq "$out" "10/0" "before the load: the probe route sends 10 of 10 to v1"

stats_before=$(gw_admin /stats)
gen0=$(apply_generation)
is_number "$gen0" || fail "gwctl stats shows no snapshot.generation"
apply_wrk_start "$GW_TMP/wrk.out"
sleep 1
wrk_pid=$APPLY_WRK_PID
kill -0 "$wrk_pid" 2>/dev/null || fail "wrk did not start: $(cat "$GW_TMP/wrk.out")"
ok "wrk started: 8 keep-alive connections to reviews:9080 through the gateway"

# ------------------------------------------------------------ the loop
# Invalid applies are spread evenly: one after every APPLIES/INVALID valid ones.
every=$(( INVALID > 0 ? APPLIES / INVALID : APPLIES + 1 ))
bad_kinds=(weight field syntax tab)
valid_fail=() gen_fail=() split_fail=() invalid_fail=() inv_split_fail=()
n_valid=0 n_invalid=0 gen=$gen0 t0=$SECONDS
apply_us_sum=0 apply_us_max=0
for ((i = 1; i <= APPLIES; i++)); do
	if ((i % 2 == 1)); then set=8020 other=v1 want=8/2; else set=v1 other=8020 want=10/0; fi
	ts=$(date +%s%N)
	rc=0
	out=$("$GWCTL" -s "$APPLY_SOCKET" apply -f "$GW_TMP/rules-$set.yaml" 2>&1) || rc=$?
	us=$(( ($(date +%s%N) - ts) / 1000 ))
	apply_us_sum=$((apply_us_sum + us))
	((us <= apply_us_max)) || apply_us_max=$us
	n_valid=$((n_valid + 1))
	if [ "$rc" -ne 0 ] || [ "$out" != "virtualservice.networking.istio.io/reviews configured" ]; then
		valid_fail+=("apply $i ($set): exit $rc: $out")
	fi
	g=$(apply_generation)
	[ "$g" = $((gen + 1)) ] || gen_fail+=("apply $i ($set): generation $g, expected $((gen + 1))")
	gen=$g
	got=$(apply_probe)
	[ "$got" = "$want" ] || split_fail+=("apply $i ($set, generation $gen): probe v1/v2 $got, expected $want")

	((INVALID > 0 && i % every == 0 && n_invalid < INVALID)) || continue
	# The other rule set, broken: were it applied, the split would change.
	kind=${bad_kinds[$((n_invalid % ${#bad_kinds[@]}))]}
	n_invalid=$((n_invalid + 1))
	apply_invalid_check "$kind" "$other" "$gen" || invalid_fail+=("invalid $n_invalid ($kind) after apply $i: $APPLY_INVALID_WHY")
	got=$(apply_probe)
	[ "$got" = "$want" ] || inv_split_fail+=("invalid $n_invalid ($kind): probe v1/v2 $got, expected still $want")
done
loop_s=$((SECONDS - t0))
kill -INT "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" || diag "wrk exited with status $?"
diag "the loop took ${loop_s} s; gwctl apply took $((apply_us_sum / n_valid)) us on average, $apply_us_max us at most"

# report LIST DESCRIPTION: ok when the list of failures is empty.
report() {
	local -n list=$1
	if [ "${#list[@]}" -eq 0 ]; then ok "$2"; else
		not_ok "$2" "${#list[@]} failed; the first ones:" "${list[@]:0:5}"
	fi
}
report valid_fail "$n_valid valid applies exited 0 and said \"configured\""
report gen_fail "each valid apply made exactly one new generation ($gen0 -> $gen)"
report split_fail "after each valid apply, 10 probes on one connection split as the generation says (10/0 or 8/2)"
report invalid_fail "$n_invalid invalid applies exited 1 with FILE:LINE:COL and the field, generation unchanged"
report inv_split_fail "after each invalid apply, the probes still split as before"
assert_eq "$n_invalid" "$INVALID" "$INVALID invalid applies were made"

# ------------------------------------------------------------ wrk's view
wrk_out=$(cat "$GW_TMP/wrk.out")
diag "wrk:"; printf '%s\n' "$wrk_out" | sed 's/^/#   /'
read -r total v1 v2 other < <(awk '
	$1 == "count" { t += $4; if ($2 == 200 && $3 == "v1") a += $4
		else if ($2 == 200 && $3 == "v2") b += $4; else o += $4 }
	END { printf "%d %d %d %d\n", t, a, b, o }' <<<"$wrk_out")
errs=$(awk '$1 == "errors" { print $3 + $5 + $7 + $9 + $11 }' <<<"$wrk_out")
assert_eq "${errs:-missing}" 0 "wrk: no connect, read, write, status or timeout error"
assert_eq "$other" 0 "wrk: every response was a 200 from v1 or v2 (others: $other)"
assert_ge "$total" $((loop_s * 1000)) "wrk: at least 1,000 requests/s during the loop ($total in ${loop_s} s)"
diag "wrk: $total requests, v1 $v1, v2 $v2"
if [ "$total" -gt 0 ] && [ "$v2" -gt 0 ] && [ $((v2 * 100)) -lt $((total * 20)) ]; then
	ok "wrk: v2 served some requests, under 20% ($((v2 * 1000 / total))‰)"
else
	not_ok "wrk: v2 served some requests, under 20%" "v1 $v1 v2 $v2 of $total"
fi

# ------------------------------------------------------- gateway's view
stats_after=$(gw_admin /stats)
delta() {
	local a b
	a=$(awk -v n="$1" '$1 == n { print $2 }' <<<"$stats_before")
	b=$(awk -v n="$1" '$1 == n { print $2 }' <<<"$stats_after")
	echo $(( ${b:-0} - ${a:-0} ))
}
for c in downstream_resets upstream_resets rq_5xx rq_4xx no_session no_upstream_slot no_mbuf; do
	assert_eq "$(delta "gateway.http.$c")" 0 "gateway: http.$c did not grow"
done
assert_eq "$(delta control.changes)" "$APPLIES" "gateway: control.changes grew by $APPLIES"
assert_eq "$(delta control.changes_rejected)" "$INVALID" "gateway: control.changes_rejected grew by $INVALID"
gw_running && ok "gatewayd still runs" || not_ok "gatewayd still runs"
gw_stop 10 || not_ok "gatewayd stopped cleanly"
gw_finish
