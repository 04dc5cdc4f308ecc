#!/usr/bin/env bash
# tools/test.sh: every test of the project, in order, with a summary table.
#
#   1. tools/setup.sh --asan      packages, hugepages, build/ and build-asan/
#   2. unit                       meson test -C build-asan --suite unit
#   3. fuzz (if clang)            build-fuzz/ (CC=clang, -Dfuzz=true), --suite fuzz
#   4. tests/system/test_*.sh     one at a time, each with a timeout
#
# Each stage runs under a timeout, and the whole run under a budget
# ($GW_TEST_BUDGET, default 80 minutes): a stage that no longer fits is
# skipped and counted as a failure. Output goes to the terminal and to
# $GW_TEST_LOGDIR/<stage>.log. Exit status 0 only when every stage passed.
set -euo pipefail

PROG=test.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGDIR=${GW_TEST_LOGDIR:-$ROOT/build-test-logs}
BUDGET=${GW_TEST_BUDGET:-4800}             # seconds for the whole run
SETUP_TIMEOUT=${GW_SETUP_TIMEOUT:-2400}    # packages + two builds
UNIT_TIMEOUT=${GW_UNIT_TIMEOUT:-900}
FUZZ_TIMEOUT=${GW_FUZZ_TIMEOUT:-1200}      # build-fuzz build + bounded runs
SYSTEM_TIMEOUT=${GW_SYSTEM_TIMEOUT:-600}   # per tests/system/test_*.sh

usage() {
	cat <<EOF
Usage: tools/test.sh [--unit-only | --system-only] [--no-fuzz] [--help]
       .ci/run [same options]

Runs, in order, each stage under a timeout:
  setup    tools/setup.sh --asan (tools/setup.sh with --system-only)
  unit     meson test -C build-asan --suite unit --print-errorlogs
  fuzz     CC=clang meson setup build-fuzz -Dfuzz=true (once), then
           meson test -C build-fuzz --suite fuzz --print-errorlogs
           (skipped when clang is not installed)
  system   each tests/system/test_*.sh in order (root), then
           tools/demo.sh down in case a test left the topology behind
and prints a PASS/FAIL table. Exit status 0 only if every stage passed.

Options:
  --unit-only    setup, unit and fuzz; no system tests
  --system-only  setup (without build-asan) and the system tests
  --no-fuzz      skip the fuzz stage
  --help         show this help

Environment (seconds): GW_TEST_BUDGET (whole run, default $BUDGET),
GW_SETUP_TIMEOUT ($SETUP_TIMEOUT), GW_UNIT_TIMEOUT ($UNIT_TIMEOUT),
GW_FUZZ_TIMEOUT ($FUZZ_TIMEOUT), GW_SYSTEM_TIMEOUT (per test, $SYSTEM_TIMEOUT).
GW_TEST_LOGDIR: where stage logs go (default build-test-logs/).
EOF
}

log()  { printf '%s: %s\n' "$PROG" "$*"; }
die()  { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 2; }

run_unit=1 run_fuzz=1 run_system=1
while [ $# -gt 0 ]; do
	case $1 in
	--unit-only) run_system=0 ;;
	--system-only) run_unit=0; run_fuzz=0 ;;
	--no-fuzz) run_fuzz=0 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done
[ "$run_unit" -eq 1 ] || [ "$run_system" -eq 1 ] || die "--unit-only and --system-only exclude each other"

cd "$ROOT"
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
START=$SECONDS
STAGES=() RESULTS=() TIMES=()

record() {
	STAGES+=("$1") RESULTS+=("$2") TIMES+=("$3")
}

# run_stage NAME TIMEOUT CMD...: run CMD under TIMEOUT (cut to what is left of
# the budget), its output on the terminal and in $LOGDIR/NAME.log.
# Returns 0 when it passed.
run_stage() {
	local name=$1 limit=$2 left t0 rc=0 result; shift 2
	left=$((BUDGET - (SECONDS - START)))
	if [ "$left" -lt 30 ]; then
		log "=== $name: SKIPPED, the ${BUDGET}s budget is spent"
		record "$name" "SKIP(budget)" 0
		return 1
	fi
	[ "$limit" -le "$left" ] || limit=$left
	log "=== $name (timeout ${limit}s): $*"
	t0=$SECONDS
	timeout -k 15 "$limit" "$@" 2>&1 | tee "$LOGDIR/$name.log" || rc=$?
	case $rc in
	0) result=PASS ;;
	124|137) result="FAIL(timeout ${limit}s)" ;;
	*) result="FAIL(exit $rc)" ;;
	esac
	record "$name" "$result" $((SECONDS - t0))
	log "=== $name: $result in $((SECONDS - t0))s (log: $LOGDIR/$name.log)"
	[ "$rc" -eq 0 ]
}

summary() {
	local i failed=0
	echo
	log "summary (logs in $LOGDIR)"
	printf '  %-40s %-20s %6s\n' STAGE RESULT TIME
	for i in "${!STAGES[@]}"; do
		printf '  %-40s %-20s %5ss\n' "${STAGES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
		[ "${RESULTS[$i]}" = PASS ] || [ "${RESULTS[$i]}" = "SKIP(no clang)" ] ||
			failed=$((failed + 1))
	done
	printf '  %-40s %-20s %5ss\n' total "$([ "$failed" -eq 0 ] && echo PASS || echo "FAIL($failed)")" \
		$((SECONDS - START))
	[ "$failed" -eq 0 ]
}

# setup_fuzz_dir: configure build-fuzz with clang and -Dfuzz=true, once.
setup_fuzz_dir() {
	if [ -f build-fuzz/meson-private/coredata.dat ]; then
		if [ ! -f build-fuzz/build.ninja ]; then
			CC=clang meson setup --reconfigure build-fuzz -Dfuzz=true
		elif ! meson configure build-fuzz | grep -Eq '^ *fuzz +true'; then
			meson configure build-fuzz -Dfuzz=true
		fi
	else
		CC=clang meson setup build-fuzz -Dfuzz=true
	fi
}

# ------------------------------------------------------------------ stages
setup_args=(--asan)
[ "$run_unit" -eq 1 ] || setup_args=()
if ! run_stage setup "$SETUP_TIMEOUT" bash tools/setup.sh "${setup_args[@]}"; then
	log "setup failed: nothing else can run"
	summary || true
	exit 1
fi

if [ "$run_unit" -eq 1 ]; then
	run_stage unit "$UNIT_TIMEOUT" \
		meson test -C build-asan --suite unit --print-errorlogs || true
fi

if [ "$run_fuzz" -eq 1 ]; then
	if command -v clang >/dev/null; then
		export -f setup_fuzz_dir
		run_stage fuzz "$FUZZ_TIMEOUT" bash -c 'set -euo pipefail
			setup_fuzz_dir
			meson test -C build-fuzz --suite fuzz --print-errorlogs' || true
	else
		log "clang is not installed: skipping the fuzz stage"
		record fuzz "SKIP(no clang)" 0
	fi
fi

if [ "$run_system" -eq 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		log "system tests need root"
		record system "FAIL(not root)" 0
	else
		shopt -s nullglob
		tests=(tests/system/test_*.sh)
		[ ${#tests[@]} -gt 0 ] || log "no tests/system/test_*.sh"
		for t in "${tests[@]}"; do
			run_stage "$(basename "$t" .sh)" "$SYSTEM_TIMEOUT" bash "$t" || true
			# A test killed by its timeout may leave the topology up.
			bash tools/demo.sh down >>"$LOGDIR/demo-down.log" 2>&1 || true
		done
	fi
fi

summary
