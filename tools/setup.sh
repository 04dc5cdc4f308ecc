#!/usr/bin/env bash
# tools/setup.sh: prepare this machine to build, demo and test the gateway.
#
# Idempotent: every step checks before it acts, so running it twice is cheap.
#   1. install the Debian packages (apt-get update only when one is missing);
#   2. reserve 2 MiB hugepages and mount hugetlbfs on /dev/hugepages, or
#      record that the gateway must run with --no-huge;
#   3. configure and build build/ (and build-asan/ with --asan).
set -euo pipefail

PROG=setup.sh
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=/run/gatewayd
HUGE_ENV=$RUN_DIR/hugepages.env
HUGE_MNT=/dev/hugepages

# Every Debian package the build, the demo and the tests need.
PACKAGES=(
	# build: compilers, meson/ninja, pkg-config
	meson ninja-build pkg-config gcc
	# fuzzing: clang with libFuzzer and the sanitizer runtimes
	clang llvm libclang-rt-14-dev
	# DPDK 22.11 (libraries, headers, dpdk-devbind.py, dpdk-testpmd)
	dpdk dpdk-dev libdpdk-dev
	# libraries the gateway links: regex matching, YAML, allocator
	libhyperscan-dev libyaml-dev libjemalloc-dev
	# unit tests
	libcmocka-dev
	# DPDK vdevs: net_af_xdp (libbpf, libxdp) and net_pcap (libpcap)
	libbpf-dev libxdp-dev libpcap-dev
	# demo topology: namespaces, veths, bridge, offload switches
	iproute2 iputils-ping ethtool
	# backends: the lab's httpbin under gunicorn
	gunicorn python3-httpbin
	# clients, load, other proxies for comparison, capture
	curl wrk nginx haproxy tcpdump
	# L4 proxy benchmark: bulk TCP throughput, nginx's stream module
	iperf3 libnginx-mod-stream
	# the peer comparison chart of tools/bench-http.sh (PNG)
	gnuplot-nox
	# netfilter, process tools (pgrep/pkill by pid file, fuser)
	iptables procps psmisc
	# lint for tools/*.sh and tests/system/*.sh
	shellcheck
	# test_lab_workflow.sh compares applied and printed YAML as data
	python3-yaml
)

usage() {
	cat <<EOF
Usage: tools/setup.sh [--no-build] [--asan] [--help]

Prepare this machine for the gateway (run as root; idempotent):
  - install missing Debian packages (apt-get update only if one is missing)
  - reserve 2 MiB hugepages (target \$GW_HUGEPAGES, default 512; never
    lowers an existing reservation) and mount hugetlbfs on $HUGE_MNT;
    when that is impossible, record GW_NO_HUGE=1 in $HUGE_ENV so that
    tools/demo.sh and the system tests start gatewayd with --no-huge
  - meson setup build (if not configured yet) and ninja -C build

Options:
  --no-build   skip the meson/ninja step
  --asan       also configure and build build-asan with -Dsanitizers=true
  --help       show this help

Environment:
  GW_HUGEPAGES   number of 2 MiB hugepages to reserve (default 512)
EOF
}

log()  { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

do_build=1
do_asan=0
while [ $# -gt 0 ]; do
	case $1 in
	--no-build) do_build=0 ;;
	--asan) do_asan=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
	shift
done

is_root() { [ "$(id -u)" -eq 0 ]; }

# ---------------------------------------------------------------- packages
install_packages() {
	local missing=() pkg status
	for pkg in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
		[ "$status" = installed ] || missing+=("$pkg")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "all ${#PACKAGES[@]} Debian packages are installed"
		return 0
	fi
	log "missing packages: ${missing[*]}"
	is_root || die "installing packages needs root (run: sudo tools/setup.sh)"
	export DEBIAN_FRONTEND=noninteractive
	log "apt-get update"
	apt-get update -q
	log "apt-get install ${missing[*]}"
	apt-get install -y -q "${missing[@]}"
}

# --------------------------------------------------------------- hugepages
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

hugetlbfs_mounted() {
	[ "$(findmnt -n -o FSTYPE --target "$HUGE_MNT" 2>/dev/null || true)" = hugetlbfs ]
}

write_huge_env() {
	local no_huge=$1 reason=$2
	mkdir -p "$RUN_DIR"
	{
		printf '# written by tools/setup.sh on %s\n' "$(date -Is)"
		printf '# %s\n' "$reason"
		printf 'GW_NO_HUGE=%s\n' "$no_huge"
	} >"$HUGE_ENV.tmp"
	mv "$HUGE_ENV.tmp" "$HUGE_ENV"
}

setup_hugepages() {
	local target=${GW_HUGEPAGES:-512} total minimum
	case $target in ''|*[!0-9]*) die "GW_HUGEPAGES must be a number, got '$target'" ;; esac
	# Below half the target the mbuf pools of the demo config do not fit.
	minimum=$(( (target + 1) / 2 ))

	if ! is_root; then
		warn "not root: cannot reserve hugepages; the gateway will run with --no-huge"
		if mkdir -p "$RUN_DIR" 2>/dev/null; then
			write_huge_env 1 "not root" 2>/dev/null || true
		fi
		return 0
	fi

	total=$(meminfo HugePages_Total)
	if [ "${total:-0}" -lt "$target" ]; then
		log "reserving $target hugepages of 2 MiB (currently ${total:-0})"
		echo "$target" >/proc/sys/vm/nr_hugepages 2>/dev/null ||
			warn "cannot write /proc/sys/vm/nr_hugepages"
		total=$(meminfo HugePages_Total)
	else
		log "hugepages: $total reserved (target $target, never lowered)"
	fi

	if ! hugetlbfs_mounted; then
		log "mounting hugetlbfs on $HUGE_MNT"
		mkdir -p "$HUGE_MNT"
		mount -t hugetlbfs -o pagesize=2M nodev "$HUGE_MNT" 2>/dev/null ||
			warn "cannot mount hugetlbfs on $HUGE_MNT"
	fi

	if [ "${total:-0}" -lt "$minimum" ]; then
		warn "only ${total:-0} hugepages (need at least $minimum): the gateway will run with --no-huge"
		write_huge_env 1 "HugePages_Total=${total:-0} < $minimum"
	elif ! hugetlbfs_mounted; then
		warn "hugetlbfs is not mounted on $HUGE_MNT: the gateway will run with --no-huge"
		write_huge_env 1 "hugetlbfs not mounted on $HUGE_MNT"
	else
		[ "$total" -ge "$target" ] ||
			warn "only $total of $target hugepages reserved; continuing with hugepages"
		log "hugepages ready: $total x 2 MiB on $HUGE_MNT"
		write_huge_env 0 "HugePages_Total=$total, hugetlbfs on $HUGE_MNT"
	fi
}

# ------------------------------------------------------------------- build
# meson_setup DIR [OPTION...]: configure DIR unless it is configured already
# (ninja re-runs meson by itself when a meson.build changes). A directory left
# half-configured by an interrupted setup is reconfigured in place.
meson_setup() {
	local dir=$1; shift
	if [ -f "$ROOT/$dir/build.ninja" ] && [ -f "$ROOT/$dir/meson-private/coredata.dat" ]; then
		log "$dir: already configured"
		return 0
	fi
	if [ -f "$ROOT/$dir/meson-private/coredata.dat" ]; then
		log "$dir: reconfiguring an incomplete setup"
		(cd "$ROOT" && meson setup --reconfigure "$dir" "$@")
	else
		log "$dir: meson setup $dir $*"
		(cd "$ROOT" && meson setup "$dir" "$@")
	fi
}

# meson_option DIR NAME: current value of a built-in or project option.
meson_option() {
	(cd "$ROOT" && meson introspect --buildoptions "$1") 2>/dev/null |
		/usr/bin/python3 -c 'import json,sys
for o in json.load(sys.stdin):
    if o["name"] == sys.argv[1]:
        print(str(o["value"]).lower())' "$2"
}

build() {
	meson_setup build
	log "building: ninja -C build"
	ninja -C "$ROOT/build"
	if [ "$do_asan" -eq 1 ]; then
		meson_setup build-asan -Dsanitizers=true
		if [ "$(meson_option build-asan sanitizers)" != true ]; then
			log "build-asan: enabling -Dsanitizers=true"
			(cd "$ROOT" && meson configure build-asan -Dsanitizers=true)
		fi
		log "building: ninja -C build-asan"
		ninja -C "$ROOT/build-asan"
	fi
	log "build done: $ROOT/build/app/gatewayd"
}

install_packages
setup_hugepages
if [ "$do_build" -eq 1 ]; then
	build
else
	log "--no-build: skipping meson/ninja"
fi
log "done"
