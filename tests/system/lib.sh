#!/usr/bin/env bash
# tests/system/lib.sh: helpers shared by tests/system/test_*.sh.
#
# Source it first thing:   . "$(dirname "$0")/lib.sh"
#
# It changes to the repository root, makes a temporary directory ($GW_TMP)
# for logs, and installs an EXIT trap that always stops gatewayd and removes
# the demo topology (tools/demo.sh down). Checks print TAP-like lines,
# "ok - description" / "not ok - description"; gw_finish prints the summary
# and sets the exit status (non-zero when any check failed).
#
# Environment:
#   GATEWAYD           binary to test (default build/app/gatewayd)
#   GW_ADMIN           admin endpoint (default http://127.0.0.1:15000)
#   GW_START_TIMEOUT   seconds gw_start waits for the ready line (30)
#   GW_KEEP_TOPOLOGY=1 leave the demo topology up at exit (debugging)
#   GW_KEEP_TMP=1      keep $GW_TMP even when every check passed
#   GW_TOPOLOGY_LOCK   lock serialising every user of the demo topology
#                      (tools/topology-lock.sh; tools/bench-*.sh take it
#                      too): a second test waits instead of tearing down
#                      the first one's namespaces
set -euo pipefail

GW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# Executed, not sourced: there is nothing to run.
	sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "${BASH_SOURCE[0]}"
	case ${1:-} in -h|--help) exit 0 ;; *) exit 2 ;; esac
fi

GW_TEST=$(basename "$0" .sh)
GATEWAYD=${GATEWAYD:-$GW_ROOT/build/app/gatewayd}
GW_ADMIN=${GW_ADMIN:-http://127.0.0.1:15000}
GW_START_TIMEOUT=${GW_START_TIMEOUT:-30}
GW_HUGE_ENV=/run/gatewayd/hugepages.env
GW_TMP=$(mktemp -d "/tmp/$GW_TEST.XXXXXX")
GW_LOG=$GW_TMP/gatewayd.log
GW_PID=
GW_READY_LINE=
GW_CHECKS=0
GW_FAILED=0

cd "$GW_ROOT"

# One demo topology per machine: wait for whoever holds it; gw_cleanup
# releases it.
# shellcheck source=tools/topology-lock.sh
. "$GW_ROOT/tools/topology-lock.sh"
gw_topology_lock || exit 1

# ------------------------------------------------------------------ output
diag() { printf '# %s\n' "$*"; }

ok() {
	GW_CHECKS=$((GW_CHECKS + 1))
	printf 'ok - %s\n' "$*"
}

# not_ok DESCRIPTION [DETAIL...]: a failed check; the test goes on.
not_ok() {
	local desc=$1; shift
	GW_CHECKS=$((GW_CHECKS + 1))
	GW_FAILED=$((GW_FAILED + 1))
	printf 'not ok - %s\n' "$desc"
	[ $# -eq 0 ] || printf '%s\n' "$@" | sed 's/^/#   /'
}

# gw_log_tail [N]: the last N (40) lines of gatewayd's log, as diagnostics.
gw_log_tail() {
	[ -s "$GW_LOG" ] || { diag "(gatewayd log $GW_LOG is empty or absent)"; return 0; }
	diag "--- last ${1:-40} lines of $GW_LOG ---"
	tail -n "${1:-40}" "$GW_LOG" | sed 's/^/#   /'
}

# fail MESSAGE: a fatal failure; prints the gatewayd log tail and exits 1
# (the EXIT trap still cleans up).
fail() {
	not_ok "$*"
	gw_log_tail 40
	exit 1
}

# ------------------------------------------------------------------ checks
# Checks and assertions print "ok"/"not ok", count failures and return 0, so
# that a test goes on after a failed check (set -e does not stop it); call
# fail for a failure the rest of the test cannot survive.

# check DESCRIPTION CMD...: run CMD (output captured), ok if it succeeds.
check() {
	local desc=$1 out; shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc" "command: $*" "$out"
	fi
}

# check_not DESCRIPTION CMD...: ok if CMD fails.
check_not() {
	local desc=$1 out; shift
	if out=$("$@" 2>&1); then
		not_ok "$desc" "command unexpectedly succeeded: $*" "$out"
	else
		ok "$desc"
	fi
}

# assert_eq ACTUAL EXPECTED DESCRIPTION
assert_eq() {
	if [ "$1" = "$2" ]; then ok "$3"; else
		not_ok "$3" "expected: '$2'" "actual:   '$1'"
	fi
}

is_number() { [[ $1 =~ ^-?[0-9]+$ ]]; }

# assert_ge ACTUAL MINIMUM DESCRIPTION (integers)
assert_ge() {
	if is_number "$1" && is_number "$2" && [ "$1" -ge "$2" ]; then
		ok "$3"
	else
		not_ok "$3" "expected: >= $2" "actual:   '$1'"
	fi
}

# assert_contains HAYSTACK NEEDLE DESCRIPTION (fixed string)
assert_contains() {
	if [[ $1 == *"$2"* ]]; then ok "$3"; else
		not_ok "$3" "expected to contain: '$2'" "actual: ${1:0:2000}"
	fi
}

# assert_not_contains HAYSTACK NEEDLE DESCRIPTION (fixed string)
assert_not_contains() {
	if [[ $1 != *"$2"* ]]; then ok "$3"; else
		not_ok "$3" "expected not to contain: '$2'" "actual: ${1:0:2000}"
	fi
}

# wait_until TIMEOUT_SECONDS CMD...: poll CMD every 0.2 s until it succeeds;
# returns 1 when the time runs out.
wait_until() {
	local deadline=$((SECONDS + $1)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

# ---------------------------------------------------------------- gatewayd
gw_running() { [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; }

# gw_eal_extra: the --eal-extra arguments this machine needs (--no-huge when
# tools/setup.sh found no hugepages), one per line.
gw_eal_extra() {
	if [ -r "$GW_HUGE_ENV" ] && grep -qx 'GW_NO_HUGE=1' "$GW_HUGE_ENV"; then
		printf '%s\n' --eal-extra "--no-huge -m 1024"
	fi
}

# gw_start CONFIG [ARGS...]: start gatewayd in the background (log in
# $GW_LOG), wait for its "gatewayd ready:" line (in $GW_READY_LINE) and for
# the admin endpoint; fail with the log tail after $GW_START_TIMEOUT s.
gw_start() {
	local cfg=$1 extra=() deadline other; shift
	{ [ -f "$GATEWAYD" ] && [ -x "$GATEWAYD" ]; } || fail "gatewayd binary $GATEWAYD not found (run tools/setup.sh)"
	[ -r "$cfg" ] || fail "gatewayd config $cfg not found"
	gw_running && fail "gw_start: gatewayd already running (pid $GW_PID)"
	if other=$(pgrep -x gatewayd); then
		fail "another gatewayd is running (pid ${other//$'\n'/ }); stop it first"
	fi
	mapfile -t extra < <(gw_eal_extra)
	[ ${#extra[@]} -eq 0 ] || diag "no hugepages on this machine: ${extra[*]}"
	diag "starting: $GATEWAYD -c $cfg ${extra[*]} $*"
	: >"$GW_LOG"
	# stdbuf: line-buffered stdout, so the ready line reaches the log at once.
	# An ASan build must accept the preloaded libstdbuf.
	ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
		stdbuf -oL -eL "$GATEWAYD" -c "$cfg" "${extra[@]}" "$@" >"$GW_LOG" 2>&1 &
	GW_PID=$!
	deadline=$((SECONDS + GW_START_TIMEOUT))
	while :; do
		GW_READY_LINE=$(grep -m1 '^gatewayd ready:' "$GW_LOG" 2>/dev/null || true)
		[ -z "$GW_READY_LINE" ] || break
		if ! gw_running; then
			local rc=0
			wait "$GW_PID" || rc=$?
			GW_PID=
			fail "gatewayd exited with status $rc before printing its ready line"
		fi
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "gatewayd printed no ready line within ${GW_START_TIMEOUT}s"
		sleep 0.1
	done
	diag "$GW_READY_LINE"
	while [ "$(gw_admin /ready 2>/dev/null || true)" != LIVE ]; do
		gw_running || fail "gatewayd exited after its ready line"
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "admin $GW_ADMIN/ready did not answer LIVE within ${GW_START_TIMEOUT}s"
		sleep 0.1
	done
}

# gw_stop [TIMEOUT]: SIGTERM gatewayd, wait up to TIMEOUT (10) s; returns its
# exit status (124 after a SIGKILL when it did not stop in time).
gw_stop() {
	local timeout=${1:-10} deadline rc=0
	[ -n "$GW_PID" ] || return 0
	kill -TERM "$GW_PID" 2>/dev/null || true
	deadline=$((SECONDS + timeout))
	while gw_running; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			diag "gatewayd (pid $GW_PID) did not exit within ${timeout}s of SIGTERM: SIGKILL"
			kill -KILL "$GW_PID" 2>/dev/null || true
			wait "$GW_PID" 2>/dev/null || true
			GW_PID=
			return 124
		fi
		sleep 0.1
	done
	wait "$GW_PID" || rc=$?
	GW_PID=
	return "$rc"
}

# gw_admin PATH [CURL ARGS...]: body of an admin request (fails on HTTP >= 400).
gw_admin() {
	local path=$1; shift
	curl -sf -m 3 "$@" "$GW_ADMIN$path"
}

# gw_admin_code METHOD PATH: HTTP status code of an admin request.
gw_admin_code() {
	curl -s -m 3 -o /dev/null -w '%{http_code}' -X "$1" "$GW_ADMIN$2" || true
}

# gw_stat NAME: value of one counter from /stats ("gateway.rx_packets";
# "rx_packets" means "gateway.rx_packets"). Returns 1 if absent.
gw_stat() {
	local stats
	stats=$(gw_admin /stats) || return 1
	printf '%s\n' "$stats" | awk -v n="$1" '
		$1 == n || $1 == "gateway." n { print $2; found = 1; exit }
		END { exit !found }'
}

# gw_stat_sum PREFIX: sum of the counters whose names start with PREFIX
# ("gateway.drop."); 0 when there are none, failure when /stats fails.
gw_stat_sum() {
	local stats
	stats=$(gw_admin /stats) || return 1
	printf '%s\n' "$stats" | awk -v p="$1" '
		index($1, p) == 1 { s += $2 } END { printf "%d\n", s }'
}

# gw_stat_ge NAME MIN: true when counter NAME is at least MIN (for wait_until).
gw_stat_ge() {
	local v
	v=$(gw_stat "$1") && is_number "$v" && [ "$v" -ge "$2" ]
}

# gw_port_mac ADDRESS: MAC of the gateway port that owns ADDRESS, from
# /ports ("NAME MAC ADDRESS/PREFIX ROLES"), else from the ready line.
gw_port_mac() {
	local mac
	mac=$(gw_admin /ports 2>/dev/null | awk -v a="$1" '
		index($3, a "/") == 1 { print tolower($2); exit }') || true
	if [ -z "$mac" ]; then
		mac=$(printf '%s\n' "${GW_READY_LINE#gatewayd ready:}" | tr ';' '\n' |
			awk -v a="$1" '
				{ for (i = 1; i <= NF; i++) if (index($i, a "/") == 1) hit = 1 }
				hit { for (i = 1; i <= NF; i++)
					if ($i ~ /^([0-9a-fA-F][0-9a-fA-F]:){5}[0-9a-fA-F][0-9a-fA-F]$/) {
						print tolower($i); exit } }')
	fi
	[ -n "$mac" ] && printf '%s\n' "$mac"
}

# ns_mac NS IF: MAC of interface IF in namespace NS ("" = root).
ns_mac() {
	if [ -n "$1" ]; then
		ip -n "$1" link show dev "$2"
	else
		ip link show dev "$2"
	fi | awk '$1 == "link/ether" { print tolower($2); exit }'
}

# ------------------------------------------------------------------- setup
gw_require_root() {
	[ "$(id -u)" -eq 0 ] || { echo "$GW_TEST: needs root (namespaces, DPDK)" >&2; exit 1; }
}

# gw_finish: print the summary; exit status 0 only when every check passed.
gw_finish() {
	if [ "$GW_FAILED" -eq 0 ]; then
		diag "$GW_TEST: all $GW_CHECKS checks passed"
		exit 0
	fi
	diag "$GW_TEST: $GW_FAILED of $GW_CHECKS checks failed (logs in $GW_TMP)"
	exit 1
}

gw_cleanup() {
	local rc=$?
	set +e
	if gw_running; then
		if [ "$GW_FAILED" -gt 0 ] || [ "$rc" -ne 0 ]; then
			gw_admin /stats >"$GW_TMP/stats.txt" 2>/dev/null
		fi
		gw_stop 10 >/dev/null 2>&1
	fi
	if [ "${GW_KEEP_TOPOLOGY:-0}" = 1 ]; then
		diag "GW_KEEP_TOPOLOGY=1: leaving the demo topology up"
	else
		"$GW_ROOT/tools/demo.sh" down >"$GW_TMP/demo-down.log" 2>&1 ||
			diag "tools/demo.sh down failed: $(tail -n 3 "$GW_TMP/demo-down.log")"
	fi
	if [ "$rc" -eq 0 ] && [ "$GW_FAILED" -eq 0 ] && [ "${GW_KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$GW_TMP"
	else
		diag "logs kept in $GW_TMP"
	fi
	gw_topology_unlock
	exit "$rc"
}
trap gw_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ----------------------------------------------------------- L4 proxy tests
# Helpers for tests/system/test_l4_*.sh (clients, servers and the wire are
# subcommands of tests/system/l4_tool.py, run with Debian's python).
GW_PYTHON=${GW_PYTHON:-/usr/bin/python3}
GW_L4_TOOL=$GW_ROOT/tests/system/l4_tool.py

# l4_tool NS ARGS...: tests/system/l4_tool.py ARGS in namespace NS ("" =
# the root namespace). Every subcommand bounds itself (--timeout).
l4_tool() {
	local ns=$1; shift
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$GW_PYTHON" "$GW_L4_TOOL" "$@"
	else
		"$GW_PYTHON" "$GW_L4_TOOL" "$@"
	fi
}

# ns_listening NS PORT: something listens on TCP PORT in namespace NS.
ns_listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

# l4_server NS NAME ARGS...: start `l4_tool.py ARGS` (a server) in the
# background in NS, output in $GW_TMP/NAME.log, and wait (10 s at most)
# until it listens on the port given by --port. tools/demo.sh down stops it
# with every other process of the namespace.
l4_server() {
	local ns=$1 name=$2 port="" prev="" a; shift 2
	for a in "$@"; do
		[ "$prev" != --port ] || port=$a
		prev=$a
	done
	[ -n "$port" ] || fail "l4_server $name: no --port"
	l4_tool "$ns" "$@" >"$GW_TMP/$name.log" 2>&1 &
	wait_until 10 ns_listening "$ns" "$port" ||
		fail "l4_server $name: nothing listens on $ns port $port ($(tail -n 3 "$GW_TMP/$name.log"))"
}

# gw_l4_stat NAME: an L4 proxy counter ("sessions" is gateway.l4.sessions).
gw_l4_stat() {
	gw_stat "l4.$1"
}

# gw_stat_or NAME DEFAULT: counter NAME, or DEFAULT when /stats lacks it.
gw_stat_or() {
	gw_stat "$1" 2>/dev/null || printf '%s\n' "$2"
}
