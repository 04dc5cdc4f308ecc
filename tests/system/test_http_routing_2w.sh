#!/usr/bin/env bash
# tests/system/test_http_routing_2w.sh: tests/system/test_http_routing.sh
# with two workers (GW_HTTP_PROFILE=2w: AF_PACKET with two queue pairs per
# port, veths with two queues, tests/system/configs/http-af_packet-2w.yaml).
#
# Usage: tests/system/test_http_routing_2w.sh [--help]   (root)
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_http_routing_2w.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac
GW_HTTP_PROFILE=2w exec "$(dirname "$0")/test_http_routing.sh"
