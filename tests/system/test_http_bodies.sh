#!/usr/bin/env bash
# tests/system/test_http_bodies.sh: bodies and framing through the HTTP
# proxy, byte for byte (tests/system/http_raw.py frames requests itself and
# reads responses itself; tests/system/http_backend.py in gw-httpbin-v2
# logs the SHA-256 of every request body it receives), on the route
# bodies.test (tests/system/configs/bodies-service.yaml):
#   - request bodies of 0 B, 1 KiB, 1 MiB and 64 MiB, Content-Length and
#     chunked (with a trailer), echoed back Content-Length and chunked (with
#     the backend's trailer), and close-delimited responses: SHA-256
#     identical at the backend and at the client;
#   - HEAD, 204 and 304 end without a body and keep the connection;
#     `Expect: 100-continue` passes the backend's 100 through; HTTP/1.0
#     gets a chunked response unchunked and the connection closed;
#     pipelined requests are answered in order; a client half-closing
#     after its request gets the response; a backend's 413 sent before it
#     reads the body reaches the client (the gateway itself sets no body
#     limit);
#   - the proxy copies heads only: gateway.http.copied_bytes per request
#     stays under 4 KiB while hundreds of MiB of bodies pass (and
#     bytes_received/bytes_sent count them);
#   - gateway responses to bad heads: 431 (101 header fields, a 64 KiB
#     field), 400 (Content-Length with Transfer-Encoding, two differing
#     Content-Lengths, bare LF, whitespace before the colon, obsolete line
#     folding, Content-Length: abc, Transfer-Encoding in HTTP/1.0, no
#     Host), 501 (gzip, chunked), 505 (HTTP/2.0): the status, a short
#     text body naming the reason, the connection closed, the status with
#     flag DPE in the access log, and nothing reaching the backend;
#   - Content-Length as a list of identical values (RFC 9110 §8.6), in a
#     request or a response, goes on as one value.
#
# Usage: tests/system/test_http_bodies.sh [--help]   (root; about 1 minute)
# Environment: GW_HTTP_PROFILE (1w, 2w) and those of tests/system/lib.sh.
set -euo pipefail

case ${1:-} in
-h|--help) sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
'') ;;
*) echo "test_http_bodies.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/system/http_lib.sh
. "$(dirname "$0")/http_lib.sh"
gw_require_root
diag "profile $GW_HTTP_PROFILE: $GW_HTTP_CONFIG"

VIP=10.96.0.40
BLOG=$GW_TMP/bodies.req
KiB=1024
MiB=$((1024 * 1024))

# hraw ARGS...: tests/system/http_raw.py in the client namespace.
hraw() {
	ip netns exec "$CLIENT" timeout 60 "$GW_PYTHON" "$GW_ROOT/tests/system/http_raw.py" "$@"
}

# req ARGS...: one request to bodies.test; prints http_raw.py's fields.
req() {
	hraw request --host $VIP --port 8000 --authority bodies.test --timeout 30 "$@" 2>&1 || true
}

# kv LINE KEY: the value of KEY=... in LINE.
kv() {
	tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n 1
}

# backend_line N: line N of the backend's request log.
backend_line() {
	sed -n "${1}p" "$BLOG" 2>/dev/null
}

# expect_fields DESCRIPTION LINE KEY=VALUE...: one check that every KEY of
# LINE has VALUE.
expect_fields() {
	local desc=$1 line=$2 bad=() kvp; shift 2
	for kvp in "$@"; do
		[ "$(kv "$line" "${kvp%%=*}")" = "${kvp#*=}" ] || bad+=("$kvp")
	done
	if [ ${#bad[@]} -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc" "expected: ${bad[*]}" "got: $line"
	fi
}

http_topology_up
http_backend gw-httpbin-v2 bodies 9090
CFG=$(http_config tests/system/configs/bodies-service.yaml)
http_start "$CFG"
ok "gatewayd started with bodies-service.yaml"

# --------------------------------------------------- bodies, both framings
BODY_REQS=0       # requests sent in this section
BODY_IN=0         # request body bytes sent
BODY_OUT=0        # response body bytes received
copied0=$(gw_http_stat copied_bytes)
requests0=$(gw_http_stat requests)
rx0=$(gw_http_stat bytes_received)
tx0=$(gw_http_stat bytes_sent)
tcp_copied0=$(gw_stat_or tcp.copied_bytes 0)

# echo_case SIZE REQ_FRAME RESP_FRAME [TRAILER]: POST SIZE bytes to /echo
# framed REQ_FRAME (length, chunked), answered RESP_FRAME (length,
# chunked, close); the backend and the client see the same SHA-256.
echo_case() {
	local size=$1 rq=$2 rs=$3 trailer=${4:-} path=/echo n out bl desc sent
	local after=idle rtrail=- btrail=-
	case $rs in
	chunked) path+='?chunked=1' ;;
	close) path+='?close=1' ;;
	esac
	desc="POST $size B $rq${trailer:+ +trailer} -> $rs"
	n=$(log_lines "$BLOG")
	out=$(req --method POST --path "$path" --size "$size" --frame "$rq" \
		${trailer:+--trailer "$trailer"})
	BODY_REQS=$((BODY_REQS + 1))
	BODY_IN=$((BODY_IN + size))
	BODY_OUT=$((BODY_OUT + size))
	sent=$(kv "$out" sent_sha256)
	[ "$rs" != close ] || after=eof
	[ "$rs" != chunked ] || rtrail=x-trailer:done
	[ -z "$trailer" ] || btrail=${trailer// /}
	expect_fields "$desc: the client gets it back intact ($(kv "$out" secs) s)" "$out" \
		status=200 frame="$rs" len="$size" sha256="$sent" \
		hdr_sha256="$sent" trailers="$rtrail" after="$after"
	bl=$(backend_line $((n + 1)))
	expect_fields "$desc: the backend received it intact" "$bl" \
		te="$rq" len="$size" sha256="$sent" trailers="$btrail"
}

for size in 0 $KiB $MiB; do
	echo_case "$size" length length
	echo_case "$size" length chunked
	echo_case "$size" chunked length
	echo_case "$size" chunked chunked 'x-client-trailer: t1'
done
echo_case $((64 * MiB)) length chunked
echo_case $((64 * MiB)) chunked length 'x-client-trailer: big'
echo_case $MiB chunked close

# get_case SIZE FRAME: GET SIZE bytes of the backend's pattern framed FRAME.
get_case() {
	local size=$1 rs=$2 path="/bytes/$1?seed=g$1" out after=idle
	case $rs in
	chunked) path+='&chunked=1' ;;
	close) path+='&close=1'; after=eof ;;
	esac
	out=$(req --path "$path")
	BODY_REQS=$((BODY_REQS + 1))
	BODY_OUT=$((BODY_OUT + size))
	expect_fields "GET $size B -> $rs: SHA-256 as the backend sent it ($(kv "$out" secs) s)" "$out" \
		status=200 frame="$rs" len="$size" sha256="$(kv "$out" hdr_sha256)" after="$after"
}
get_case $((64 * MiB)) close
get_case $((64 * MiB)) length

# small chunks: chunk lines split across segments, many chunks per segment
n=$(log_lines "$BLOG")
out=$(req --method POST --path '/echo?chunked=1&chunk=777' --size $MiB --frame chunked \
	--chunk 1000 --ext 'ext=1' --trailer 'x-client-trailer: small')
BODY_REQS=$((BODY_REQS + 1)) BODY_IN=$((BODY_IN + MiB)) BODY_OUT=$((BODY_OUT + MiB))
expect_fields "POST 1 MiB in 1000 B chunks with an extension -> 777 B chunks: intact" "$out" \
	status=200 frame=chunked len=$MiB sha256="$(kv "$out" sent_sha256)" \
	trailers=x-trailer:done after=idle
expect_fields "POST 1 MiB in 1000 B chunks: the backend received it intact" "$(backend_line $((n + 1)))" \
	te=chunked len=$MiB sha256="$(kv "$out" sent_sha256)" trailers=x-client-trailer:small

sleep 1
copied=$(( $(gw_http_stat copied_bytes) - copied0 ))
nreq=$(( $(gw_http_stat requests) - requests0 ))
rx=$(( $(gw_http_stat bytes_received) - rx0 ))
tx=$(( $(gw_http_stat bytes_sent) - tx0 ))
tcp_copied=$(( $(gw_stat_or tcp.copied_bytes 0) - tcp_copied0 ))
diag "bodies: $BODY_REQS requests, $BODY_IN B of request bodies, $BODY_OUT B of response bodies"
diag "gateway.http: copied_bytes +$copied, bytes_received +$rx, bytes_sent +$tx, parser_copied_bytes $(gw_http_stat parser_copied_bytes), indirect_mbufs $(gw_http_stat indirect_mbufs)"
diag "gateway.tcp.copied_bytes +$tcp_copied (frames linearised by the port, not the proxy)"
assert_eq "$nreq" "$BODY_REQS" "the gateway counted every request"
per=$(( nreq > 0 ? copied / nreq : copied ))
if [ "$nreq" -gt 0 ] && [ "$per" -lt 4096 ]; then
	ok "http.copied_bytes: $per B per request (heads only; bodies by reference)"
else
	not_ok "http.copied_bytes: under 4096 B per request" "copied $copied B for $nreq requests"
fi
assert_ge "$rx" "$BODY_IN" "http.bytes_received counts the request bodies"
assert_ge "$tx" "$BODY_OUT" "http.bytes_sent counts the response bodies"

# ------------------------------------------------------ messages without body
out=$(req --method HEAD --path /bytes/$MiB)
expect_fields "HEAD: the length of the GET, no body, connection kept" "$out" \
	status=200 frame=none cl=$MiB after=idle
out=$(req --path /status/204)
expect_fields "204: no body, connection kept" "$out" status=204 frame=none after=idle
out=$(req --path /status/304)
expect_fields "304: no body, connection kept" "$out" status=304 frame=none after=idle

n=$(log_lines "$BLOG")
out=$(req --method POST --path /echo --size $MiB --frame length --expect)
expect_fields "Expect: 100-continue: the backend's 100 passes, then the body" "$out" \
	status=200 interim=100 len=$MiB sha256="$(kv "$out" sent_sha256)" after=idle
assert_contains "$(backend_line $((n + 1)))" "len=$MiB sha256=$(kv "$out" sent_sha256)" \
	"Expect: 100-continue: the backend received the body"

out=$(req --path "/bytes/$MiB?seed=h10&chunked=1" --http10)
expect_fields "HTTP/1.0: a chunked response arrives unchunked, then the connection closes" "$out" \
	status=200 frame=close len=$MiB sha256="$(kv "$out" hdr_sha256)" after=eof
for c in 100 10; do
	out=$(req --path "/bytes/$((256 * KiB))?seed=h10c&chunked=1&chunk=$c" --http10)
	expect_fields "HTTP/1.0: a response in $c B chunks arrives unchunked ($(kv "$out" secs) s)" "$out" \
		status=200 frame=close len=$((256 * KiB)) sha256="$(kv "$out" hdr_sha256)" after=eof
done
out=$(req --method HEAD --path "/bytes/$MiB?chunked=1")
expect_fields "HEAD answered with Transfer-Encoding: chunked: no body, connection kept" "$out" \
	status=200 frame=none after=idle
out=$(req --path "/bytes/$KiB?seed=h10b" --http10)
expect_fields "HTTP/1.0: a Content-Length response, then the connection closes" "$out" \
	status=200 frame=length len=$KiB sha256="$(kv "$out" hdr_sha256)" after=eof

out=$(req --method POST --path /echo --size $MiB --frame length --shut)
expect_fields "a client half-closing after its request still gets the response" "$out" \
	status=200 len=$MiB sha256="$(kv "$out" sent_sha256)" after=eof
for size in $KiB $((64 * MiB)); do
	out=$(req --method POST --path /reject/413 --size "$size" --frame length)
	expect_fields "the backend's 413 before reading a $size B body reaches the client" "$out" \
		status=413 len=9 after=idle
done

# RFC 9110 §8.6: a list of identical Content-Length values is taken and
# passed on as one value (Python's http.server reads no list)
n=$(log_lines "$BLOG")
out=$(hraw raw --host $VIP --port 8000 --data \
	'POST /echo HTTP/1.1\r\nHost: bodies.test\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello' 2>&1 || true)
assert_eq "$(head -n 2 <<<"$out")" $'HTTP/1.1 200 OK\nbody=hello' \
	"Content-Length: 5, 5 and a repeated Content-Length: 5: forwarded as one value"
assert_contains "$(backend_line $((n + 1)))" "te=length len=5 " "the backend read 5 bytes of body"
out=$(req --path "/bytes/$KiB?dupcl=1")
expect_fields "a response's Content-Length: 1024, 1024 reaches the client as 1024" "$out" \
	status=200 cl=$KiB len=$KiB sha256="$(kv "$out" hdr_sha256)" after=idle

out=$(hraw pipeline --host $VIP --port 8000 --authority bodies.test --count 8 2>&1 || true)
want=$(for i in 0 1 2 3 4 5 6 7; do echo "$i 200 $((1000 + 997 * i)) sha256_ok"; done)
assert_eq "$out" "$want" "8 pipelined requests (GET and POST) answered in order, intact"
out=$(hraw pipeline --host $VIP --port 8000 --authority bodies.test --count 6 --step 200000 2>&1 || true)
want=$(for i in 0 1 2 3 4 5; do echo "$i 200 $((1000 + 200000 * i)) sha256_ok"; done)
assert_eq "$out" "$want" "6 pipelined requests of up to 1 MB answered in order, intact"

# ------------------------------------------------------- bad request heads
n_backend=$(log_lines "$BLOG")
bad0=$(gw_http_stat bad_request)

# bad_head STATUS REASON DESCRIPTION DATA: DATA on a fresh connection is
# answered STATUS with the text REASON, and the connection closes.
BAD_CASES=0
bad_head() {
	local st=$1 reason=$2 desc=$3 data=$4 out line
	out=$(hraw raw --host $VIP --port 8000 --data "$data" 2>&1 || true)
	BAD_CASES=$((BAD_CASES + 1))
	line=$(head -n 1 <<<"$out")
	if [[ $line == "HTTP/1.1 $st "* ]] && grep -qx "body=$reason" <<<"$out" &&
		grep -qx 'after=eof' <<<"$out"; then
		ok "$desc: $st \"$reason\", connection closed"
	else
		not_ok "$desc: $st \"$reason\", connection closed" "$out"
	fi
}
H='POST /echo HTTP/1.1\r\nHost: bodies.test\r\n'
many=$(for i in $(seq 1 101); do printf 'x-h-%d: v\\r\\n' "$i"; done)
bad_head 431 "too many header fields" "101 header fields" \
	"GET /echo HTTP/1.1\\r\\nHost: bodies.test\\r\\n${many}\\r\\n"
big=$(head -c 65000 /dev/zero | tr "\0" a)
bad_head 431 "header section too large" "a 64 KiB header field (limits.request_headers_kb: 60)" \
	"GET /echo HTTP/1.1\\r\\nHost: bodies.test\\r\\nx-big: ${big}\\r\\n\\r\\n"
bad_head 400 "Content-Length with Transfer-Encoding" "Content-Length and Transfer-Encoding" \
	"${H}Content-Length: 5\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n"
bad_head 400 "conflicting Content-Length" "two differing Content-Length fields" \
	"${H}Content-Length: 5\\r\\nContent-Length: 6\\r\\n\\r\\nhello!"
bad_head 400 "bare LF" "bare LF line ends" \
	'GET /echo HTTP/1.1\nHost: bodies.test\n\n'
bad_head 400 "whitespace before colon" "whitespace before the colon" \
	'GET /echo HTTP/1.1\r\nHost: bodies.test\r\nContent-Length : 5\r\n\r\nhello'
bad_head 400 "obsolete line folding" "obsolete line folding" \
	'GET /echo HTTP/1.1\r\nHost: bodies.test\r\nx-a: b\r\n c\r\n\r\n'
bad_head 400 "invalid Content-Length" "Content-Length: abc" \
	"${H}Content-Length: abc\\r\\n\\r\\n"
bad_head 400 "Transfer-Encoding in HTTP/1.0" "Transfer-Encoding in an HTTP/1.0 request" \
	'POST /echo HTTP/1.0\r\nHost: bodies.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
bad_head 400 "missing Host" "HTTP/1.1 without Host" 'GET /echo HTTP/1.1\r\n\r\n'
bad_head 501 "unsupported transfer coding" "Transfer-Encoding: gzip, chunked" \
	"${H}Transfer-Encoding: gzip, chunked\\r\\n\\r\\n0\\r\\n\\r\\n"
bad_head 505 "HTTP version not supported" "HTTP/2.0 in an HTTP/1 request line" \
	'GET /echo HTTP/2.0\r\nHost: bodies.test\r\n\r\n'

sleep 1
assert_eq "$(( $(gw_http_stat bad_request) - bad0 ))" "$BAD_CASES" "http.bad_request counts each"
assert_eq "$(( $(log_lines "$BLOG") - n_backend ))" 0 "nothing of them reached the backend"
alog=$(cat "$GW_HTTP_ACCESS_LOG")
for sc in 431:2 400:8 501:1 505:1; do
	assert_eq "$(grep -c "\" ${sc%:*} DPE " <<<"$alog" || true)" "${sc#*:}" \
		"access log: ${sc%:*} DPE ${sc#*:} time(s)"
done
# the route still works after them
out=$(req --method POST --path /echo --size $KiB --frame length)
expect_fields "a valid request after them: 200, intact" "$out" status=200 len=$KiB \
	sha256="$(kv "$out" sent_sha256)"

gw_stop 10 || not_ok "gatewayd stopped cleanly"
ok "gatewayd stopped"
gw_finish
