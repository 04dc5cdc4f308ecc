#!/usr/bin/env bash
# tools/topology-lock.sh: one user of the demo topology (gw-* namespaces,
# veths, backends) at a time. Sourced by tests/system/lib.sh and the
# tools/bench-*.sh scripts; a second user waits instead of tearing down the
# first one's namespaces.
#
#   gw_topology_lock      wait (up to $GW_TOPOLOGY_WAIT s, default 3600)
#   gw_topology_unlock    release (only the holder's own lock)
#
# The lock is a directory holding the holder's PID ($GW_TOPOLOGY_LOCK,
# default /tmp/gw-topology.lock.d). Unlike flock it is not inherited by
# daemons the holder starts, and a lock left by a dead holder is taken over.

GW_TOPOLOGY_LOCK=${GW_TOPOLOGY_LOCK:-/tmp/gw-topology.lock.d}
GW_TOPOLOGY_HELD=0

gw_topology_lock() {
	local waited=0 limit=${GW_TOPOLOGY_WAIT:-3600} pid
	while ! mkdir "$GW_TOPOLOGY_LOCK" 2>/dev/null; do
		pid=$(cat "$GW_TOPOLOGY_LOCK/pid" 2>/dev/null || true)
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			rm -rf "$GW_TOPOLOGY_LOCK"     # its holder is gone
			continue
		fi
		if [ "$waited" -eq 0 ]; then
			printf '# waiting for the demo topology (held by pid %s: %s)\n' \
				"${pid:-?}" "$(tr '\0' ' ' <"/proc/${pid:-0}/cmdline" 2>/dev/null | cut -c1-80)" >&2
		fi
		if [ "$waited" -ge "$limit" ]; then
			printf 'topology-lock: gave up after %s s (pid %s holds %s)\n' \
				"$waited" "${pid:-?}" "$GW_TOPOLOGY_LOCK" >&2
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
	echo $$ >"$GW_TOPOLOGY_LOCK/pid"
	GW_TOPOLOGY_HELD=1
}

gw_topology_unlock() {
	if [ "$GW_TOPOLOGY_HELD" = 1 ] &&
	   [ "$(cat "$GW_TOPOLOGY_LOCK/pid" 2>/dev/null)" = "$$" ]; then
		rm -rf "$GW_TOPOLOGY_LOCK"
	fi
	GW_TOPOLOGY_HELD=0
}
