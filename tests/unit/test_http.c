/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/http: table-driven tests in picohttpparser's manner. Each head case
 * is {description, input, expected verdict, expected fields}; each is fed
 *
 *   - whole, right before a guard page (the byte after it is PROT_NONE);
 *   - byte by byte, and split in two at every position, every piece against
 *     the guard page, and every piece overwritten with junk once the parser
 *     said AGAIN (so a pointer kept into an old piece shows up as a wrong
 *     field);
 *   - as every shorter prefix, which must ask for more (or fail the same
 *     way once the bad byte is in).
 *
 * All modes must give the same verdict, the same error offset and the same
 * parsed head, compared field by field through a text dump. The chunked
 * decoder is tested the same way with its payload spans checked.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "gw_http.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- guard page ---- */

#define REGION_SIZE (256 * 1024)

static uint8_t *guard_region;
static size_t page_size;

static int
guard_setup(void **state)
{
	(void)state;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	guard_region = mmap(NULL, REGION_SIZE + page_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_region == MAP_FAILED)
		return -1;
	return mprotect(guard_region + REGION_SIZE, page_size, PROT_NONE);
}

static int
guard_teardown(void **state)
{
	(void)state;
	return munmap(guard_region, REGION_SIZE + page_size);
}

/* A copy of @p len bytes ending right before the PROT_NONE page. */
static uint8_t *
guard_place(const void *data, size_t len)
{
	uint8_t *p = guard_region + REGION_SIZE - len;

	assert_true(len <= REGION_SIZE);
	memcpy(p, data, len);
	return p;
}

/* What a parser may no longer read once it returned AGAIN. */
static void
guard_scribble(size_t len)
{
	memset(guard_region + REGION_SIZE - len, 0xa5, len);
}

/* ---- head cases ---- */

struct hdr {
	const char *name;
	const char *value;
};

struct head_case {
	const char *name;
	enum gw_http_kind kind;
	const char *input;
	size_t len;                    /* 0: strlen(input) */
	const struct gw_http_limits *limits;
	enum gw_http_method req_method; /* responses: the request's method */
	int rc;                        /* GW_HTTP_DONE or -GW_HTTP_E_* */
	size_t consumed;               /* DONE: 0 means the whole input */
	/* DONE: expected head; NULL strings must be absent */
	enum gw_http_method method;
	const char *method_name;       /* NULL: the standard name */
	enum gw_http_target_form form;
	const char *target, *scheme, *authority, *path, *query, *host;
	uint8_t minor;
	uint16_t status;
	const char *reason;
	uint32_t n_headers;
	struct hdr h[4];               /* the first fields, when given */
	enum gw_http_body body;
	uint64_t content_length;
	bool keep_alive;
	bool expect_continue;
	bool informational;
	const char *upgrade;
};

static const struct gw_http_limits lim_head27 = { .max_head = 27 };
static const struct gw_http_limits lim_head26 = { .max_head = 26 };
static const struct gw_http_limits lim_hdrs3 = { .max_headers = 3 };
static const struct gw_http_limits lim_target8 = { .max_target = 8 };
static const struct gw_http_limits lim_target7 = { .max_target = 7 };
static const struct gw_http_limits lim_head4 = { .max_head = 4 };

#define REQ(desc, in, ...) { .name = desc, .kind = GW_HTTP_REQUEST, \
	.input = in, .rc = GW_HTTP_DONE, __VA_ARGS__ }
#define RESP(desc, meth, in, ...) { .name = desc, .kind = GW_HTTP_RESPONSE, \
	.req_method = GW_HTTP_METHOD_##meth, .input = in, .rc = GW_HTTP_DONE, \
	__VA_ARGS__ }
#define BAD_REQ(desc, in, e, ...) { .name = desc, .kind = GW_HTTP_REQUEST, \
	.input = in, .rc = -GW_HTTP_E_##e, __VA_ARGS__ }
#define BAD_RESP(desc, meth, in, e) { .name = desc, \
	.kind = GW_HTTP_RESPONSE, .req_method = GW_HTTP_METHOD_##meth, \
	.input = in, .rc = -GW_HTTP_E_##e }
/* Origin-form GET of @p t on host "h" (HTTP/1.1, keep-alive). */
#define GET_FIELDS(p, q) .method = GW_HTTP_METHOD_GET, .target = p, \
	.path = p, .query = q, .authority = "h", .host = "h", .minor = 1, \
	.keep_alive = true

static const struct head_case head_cases[] = {
	/* -- requests: methods, target forms, versions -- */
	REQ("GET origin-form", "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 1, .h = { { "Host", "h" } }),
	REQ("GET path and query", "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/a/b?x=1&y=2", .path = "/a/b",
	    .query = "x=1&y=2", .authority = "h", .host = "h", .minor = 1,
	    .keep_alive = true, .n_headers = 1),
	REQ("empty query", "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/p?", .path = "/p", .query = "",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 1),
	REQ("percent-encoded path", "GET /a%20b%2Fc HTTP/1.1\r\nHost: h\r\n\r\n",
	    GET_FIELDS("/a%20b%2Fc", NULL), .n_headers = 1),
	REQ("HEAD", "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_HEAD, .target = "/x", .path = "/x",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 1),
	REQ("POST with Content-Length, body follows",
	    "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
	    .consumed = 48, .method = GW_HTTP_METHOD_POST, .target = "/f",
	    .path = "/f", .authority = "h", .host = "h", .minor = 1,
	    .keep_alive = true, .n_headers = 2, .body = GW_HTTP_BODY_LENGTH,
	    .content_length = 5),
	REQ("PUT chunked",
	    "PUT /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n0\r\n\r\n",
	    .consumed = 56, .method = GW_HTTP_METHOD_PUT, .target = "/u",
	    .path = "/u", .authority = "h", .host = "h", .minor = 1,
	    .keep_alive = true, .n_headers = 2, .body = GW_HTTP_BODY_CHUNKED),
	REQ("DELETE", "DELETE /r/1 HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_DELETE, .target = "/r/1", .path = "/r/1",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 1),
	REQ("OPTIONS asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_OPTIONS, .form = GW_HTTP_TARGET_ASTERISK,
	    .target = "*", .path = "*", .authority = "h", .host = "h",
	    .minor = 1, .keep_alive = true, .n_headers = 1),
	REQ("OPTIONS origin-form", "OPTIONS /o HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_OPTIONS, .target = "/o", .path = "/o",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 1),
	REQ("TRACE", "TRACE / HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_TRACE, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 1),
	REQ("PATCH", "PATCH /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	    .method = GW_HTTP_METHOD_PATCH, .target = "/p", .path = "/p",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 2, .content_length = 0),
	REQ("CONNECT authority-form",
	    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	    .method = GW_HTTP_METHOD_CONNECT, .form = GW_HTTP_TARGET_AUTHORITY,
	    .target = "example.com:443", .authority = "example.com:443",
	    .host = "example.com:443", .minor = 1, .keep_alive = true,
	    .n_headers = 1),
	REQ("extension method", "PURGE /c HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_OTHER, .method_name = "PURGE", .target = "/c",
	    .path = "/c", .authority = "h", .host = "h", .minor = 1,
	    .keep_alive = true, .n_headers = 1),
	REQ("methods are case-sensitive", "get / HTTP/1.1\r\nHost: h\r\n\r\n",
	    .method = GW_HTTP_METHOD_OTHER, .method_name = "get", .target = "/",
	    .path = "/", .authority = "h", .host = "h", .minor = 1,
	    .keep_alive = true, .n_headers = 1),
	REQ("absolute-form: authority from the target",
	    "GET http://example.com/x?y HTTP/1.1\r\nHost: other\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .form = GW_HTTP_TARGET_ABSOLUTE,
	    .target = "http://example.com/x?y", .scheme = "http",
	    .authority = "example.com", .path = "/x", .query = "y",
	    .host = "other", .minor = 1, .keep_alive = true, .n_headers = 1),
	REQ("absolute-form without path",
	    "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .form = GW_HTTP_TARGET_ABSOLUTE,
	    .target = "http://example.com", .scheme = "http",
	    .authority = "example.com", .path = "/", .host = "example.com",
	    .minor = 1, .keep_alive = true, .n_headers = 1),
	REQ("absolute-form https, port, query only",
	    "GET HTTPS://h:8443?q HTTP/1.1\r\nHost: h:8443\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .form = GW_HTTP_TARGET_ABSOLUTE,
	    .target = "HTTPS://h:8443?q", .scheme = "HTTPS", .authority = "h:8443",
	    .path = "/", .query = "q", .host = "h:8443", .minor = 1,
	    .keep_alive = true, .n_headers = 1),
	REQ("HTTP/1.0 without Host closes", "GET / HTTP/1.0\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/", .minor = 0),
	REQ("HTTP/1.0 keep-alive",
	    "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = true, .n_headers = 1),
	REQ("HTTP/1.1 Connection: close",
	    "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .n_headers = 2),
	/* Connection lists: the token alone, in a list, in another case,
	 * as part of a longer token, quoted. */
	REQ("HTTP/1.0 KEEP-ALIVE in capitals",
	    "GET / HTTP/1.0\r\nConnection: KEEP-ALIVE\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = true, .n_headers = 1),
	REQ("HTTP/1.0 keep-alive then close",
	    "GET / HTTP/1.0\r\nConnection: keep-alive ,\tClose\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/", .minor = 0,
	    .n_headers = 1),
	REQ("HTTP/1.0 keep-alivex is another token",
	    "GET / HTTP/1.0\r\nConnection: keep-alivex\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/", .minor = 0,
	    .n_headers = 1),
	REQ("HTTP/1.0 keep-aliv is another token",
	    "GET / HTTP/1.0\r\nConnection: keep-aliv\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/", .minor = 0,
	    .n_headers = 1),
	REQ("HTTP/1.0 keep-alive after an empty element",
	    "GET / HTTP/1.0\r\nConnection: ,, keep-alive,\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/", .minor = 0,
	    .keep_alive = true, .n_headers = 1),
	REQ("HTTP/1.1 close2 is not close",
	    "GET / HTTP/1.1\r\nHost: h\r\nConnection: close2\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 2),
	REQ("HTTP/1.1 quoted \"close\" is not close",
	    "GET / HTTP/1.1\r\nHost: h\r\nConnection: \"close\"\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 2),
	REQ("HTTP/1.1 close after a quoted comma",
	    "GET / HTTP/1.1\r\nHost: h\r\nConnection: \"a,b\", close\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .n_headers = 2),
	REQ("Upgrade named UPGRADE",
	    "GET / HTTP/1.1\r\nHost: h\r\nConnection: UPGRADE\r\nUpgrade: x\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 3, .upgrade = "x"),
	REQ("Expect: 100-continuex is not 100-continue",
	    "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continuex\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 2),
	REQ("HTTP/1.2 is handled as 1.1", "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 1),
	REQ("Upgrade named by Connection",
	    "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n",
	    GET_FIELDS("/ws", NULL), .n_headers = 3, .upgrade = "websocket"),
	REQ("Upgrade without Connection: upgrade is ignored",
	    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 2),
	REQ("Expect: 100-continue",
	    "PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Expect: 100-Continue\r\n\r\n",
	    .method = GW_HTTP_METHOD_PUT, .target = "/b", .path = "/b",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 3, .body = GW_HTTP_BODY_LENGTH, .content_length = 3,
	    .expect_continue = true),
	REQ("Expect: 100-continue ignored in HTTP/1.0",
	    "PUT /b HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
	    .method = GW_HTTP_METHOD_PUT, .target = "/b", .path = "/b",
	    .minor = 0, .n_headers = 2, .body = GW_HTTP_BODY_LENGTH,
	    .content_length = 3),
	REQ("empty lines before the request line",
	    "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 1),
	REQ("field names are case-insensitive",
	    "POST / HTTP/1.1\r\nhOsT: h\r\ncontent-LENGTH: 2\r\n\r\n",
	    .method = GW_HTTP_METHOD_POST, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 2, .body = GW_HTTP_BODY_LENGTH, .content_length = 2,
	    .h = { { "hOsT", "h" }, { "content-LENGTH", "2" } }),
	REQ("OWS around values is trimmed, inner kept",
	    "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t v a\tl \t\r\nX-B:\r\nX-C:   \r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 4,
	    .h = { { "Host", "h" }, { "X-A", "v a\tl" }, { "X-B", "" },
		   { "X-C", "" } }),
	REQ("obs-text in a value",
	    "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\x80\xff\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 2,
	    .h = { { "Host", "h" }, { "X", "caf\xc3\xa9\x80\xff" } }),
	REQ("identical Content-Length fields collapse",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Content-Length: 005\r\n\r\n",
	    .method = GW_HTTP_METHOD_POST, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 3, .body = GW_HTTP_BODY_LENGTH, .content_length = 5),
	REQ("Content-Length list of identical values",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7, 7,7\r\n\r\n",
	    .method = GW_HTTP_METHOD_POST, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 2, .body = GW_HTTP_BODY_LENGTH, .content_length = 7),
	REQ("Content-Length 2^63-1",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n",
	    .method = GW_HTTP_METHOD_POST, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 2, .body = GW_HTTP_BODY_LENGTH,
	    .content_length = 9223372036854775807ull),
	REQ("Transfer-Encoding is case-insensitive",
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n",
	    .method = GW_HTTP_METHOD_POST, .target = "/", .path = "/",
	    .authority = "h", .host = "h", .minor = 1, .keep_alive = true,
	    .n_headers = 2, .body = GW_HTTP_BODY_CHUNKED),
	REQ("Host with IPv6 literal and port",
	    "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/",
	    .authority = "[::1]:8080", .host = "[::1]:8080", .minor = 1,
	    .keep_alive = true, .n_headers = 1),
	REQ("ordinary fields as long as the special ones",
	    "GET / HTTP/1.1\r\nHost: h\r\nFrom: a@b\r\nAccept: */*\r\nReferer: /r\r\n"
	    "User-Agent: t/1\r\nAccept-Charset: utf-8\r\nX-Forwarded-Proto: http\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 7),
	REQ("Upgrade named by a second Connection field",
	    "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n"
	    "Connection: upgrade\r\nUpgrade: h2c\r\n\r\n",
	    GET_FIELDS("/", NULL), .n_headers = 4, .upgrade = "h2c"),
	REQ("Host with an escape and an empty port",
	    "GET / HTTP/1.1\r\nHost: %41b.c:\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/",
	    .authority = "%41b.c:", .host = "%41b.c:", .minor = 1,
	    .keep_alive = true, .n_headers = 1),
	REQ("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
	    .method = GW_HTTP_METHOD_GET, .target = "/", .path = "/",
	    .authority = "", .host = "", .minor = 1, .keep_alive = true,
	    .n_headers = 1),
	REQ("pipelined: the first request ends at its head",
	    "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
	    .consumed = 28, GET_FIELDS("/1", NULL), .n_headers = 1),
	REQ("max_headers fields exactly",
	    "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
	    .limits = &lim_hdrs3, GET_FIELDS("/", NULL), .n_headers = 3),
	REQ("max_head bytes exactly", "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    .limits = &lim_head27, GET_FIELDS("/", NULL), .n_headers = 1),
	REQ("max_target bytes exactly", "GET /2345678 HTTP/1.1\r\nHost: h\r\n\r\n",
	    .limits = &lim_target8, GET_FIELDS("/2345678", NULL), .n_headers = 1),

	/* -- responses -- */
	RESP("200 with Content-Length", GET,
	     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	     .consumed = 38, .minor = 1, .status = 200, .reason = "OK",
	     .n_headers = 1, .body = GW_HTTP_BODY_LENGTH, .content_length = 2,
	     .keep_alive = true),
	RESP("200 chunked", GET,
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "OK", .n_headers = 1,
	     .body = GW_HTTP_BODY_CHUNKED, .keep_alive = true),
	RESP("200 close-delimited", GET,
	     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
	     .consumed = 45, .minor = 1, .status = 200, .reason = "OK",
	     .n_headers = 1, .body = GW_HTTP_BODY_CLOSE),
	RESP("204 has no body", GET, "HTTP/1.1 204 No Content\r\n\r\n",
	     .minor = 1, .status = 204, .reason = "No Content", .keep_alive = true),
	RESP("304 ignores Content-Length", GET,
	     "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
	     .minor = 1, .status = 304, .reason = "Not Modified", .n_headers = 1,
	     .content_length = 100, .keep_alive = true),
	RESP("response to HEAD has no body", HEAD,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "OK", .n_headers = 1,
	     .content_length = 1000, .keep_alive = true),
	RESP("response to HEAD, chunked", HEAD,
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "OK", .n_headers = 1,
	     .keep_alive = true),
	RESP("100 Continue", PUT, "HTTP/1.1 100 Continue\r\n\r\n",
	     .minor = 1, .status = 100, .reason = "Continue", .informational = true,
	     .keep_alive = true),
	RESP("103 Early Hints", GET,
	     "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n",
	     .minor = 1, .status = 103, .reason = "Early Hints", .n_headers = 1,
	     .informational = true, .keep_alive = true),
	RESP("101 Switching Protocols", GET,
	     "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	     "Upgrade: websocket\r\n\r\n",
	     .minor = 1, .status = 101, .reason = "Switching Protocols",
	     .n_headers = 2, .body = GW_HTTP_BODY_TUNNEL, .upgrade = "websocket"),
	RESP("2xx to CONNECT is a tunnel", CONNECT,
	     "HTTP/1.1 200 Connection Established\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "Connection Established",
	     .body = GW_HTTP_BODY_TUNNEL),
	RESP("HTTP/1.0 keep-alive with length", GET,
	     "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n",
	     .minor = 0, .status = 200, .reason = "OK", .n_headers = 2,
	     .body = GW_HTTP_BODY_LENGTH, .content_length = 1, .keep_alive = true),
	RESP("HTTP/1.0 without length", GET, "HTTP/1.0 200 OK\r\n\r\n",
	     .minor = 0, .status = 200, .reason = "OK", .body = GW_HTTP_BODY_CLOSE),
	RESP("no reason phrase, no SP", GET,
	     "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
	     .minor = 1, .status = 404, .reason = "", .n_headers = 1,
	     .keep_alive = true),
	RESP("empty reason phrase", GET, "HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n",
	     .minor = 1, .status = 500, .reason = "", .n_headers = 1,
	     .keep_alive = true),
	RESP("coding without chunked: until close", GET,
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "OK", .n_headers = 1,
	     .body = GW_HTTP_BODY_CLOSE),
	RESP("gzip, chunked", GET,
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "OK", .n_headers = 2,
	     .body = GW_HTTP_BODY_CHUNKED, .keep_alive = true),
	RESP("parameters on another coding", GET,
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip ;level=1 , chunked\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "OK", .n_headers = 1,
	     .body = GW_HTTP_BODY_CHUNKED, .keep_alive = true),
	RESP("HTTP/1.0 ignores Upgrade", GET,
	     "HTTP/1.0 200 OK\r\nConnection: upgrade\r\nUpgrade: x\r\n"
	     "Content-Length: 0\r\n\r\n",
	     .minor = 0, .status = 200, .reason = "OK", .n_headers = 3),
	RESP("Connection: close", GET,
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	     .minor = 1, .status = 200, .reason = "OK", .n_headers = 2),

	/* -- smuggling defences: framing -- */
	BAD_REQ("Content-Length and Transfer-Encoding",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
		"Transfer-Encoding: chunked\r\n\r\n", CL_AND_TE),
	BAD_REQ("Transfer-Encoding then Content-Length",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		"Content-Length: 0\r\n\r\n", CL_AND_TE),
	BAD_REQ("differing Content-Length fields",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
		"Content-Length: 6\r\n\r\n", CONTENT_LENGTH_CONFLICT),
	BAD_REQ("differing Content-Length list",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n",
		CONTENT_LENGTH_CONFLICT),
	BAD_REQ("Content-Length with a sign",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n",
		CONTENT_LENGTH),
	BAD_REQ("negative Content-Length",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
		CONTENT_LENGTH),
	BAD_REQ("Content-Length with junk",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5x\r\n\r\n",
		CONTENT_LENGTH),
	BAD_REQ("Content-Length in hex",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
		CONTENT_LENGTH),
	BAD_REQ("empty Content-Length",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
		CONTENT_LENGTH),
	BAD_REQ("Content-Length 2^63",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n",
		CONTENT_LENGTH),
	BAD_REQ("Content-Length with inner space",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
		CONTENT_LENGTH),
	BAD_REQ("gzip coding", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: gzip, chunked\r\n\r\n", TE_UNSUPPORTED),
	BAD_REQ("identity coding", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: identity\r\n\r\n", TE_UNSUPPORTED),
	BAD_REQ("chunked, gzip", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: chunked, gzip\r\n\r\n", TE_UNSUPPORTED),
	BAD_REQ("chunked twice", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		TRANSFER_ENCODING),
	BAD_REQ("chunked with a parameter", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: chunked;q=1\r\n\r\n", TRANSFER_ENCODING),
	BAD_REQ("empty Transfer-Encoding", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: \r\n\r\n", TRANSFER_ENCODING),
	BAD_REQ("Transfer-Encoding not a token", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: \"chunked\"\r\n\r\n", TRANSFER_ENCODING),
	BAD_REQ("coding with junk after the token", "POST / HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: gzip x\r\n\r\n", TRANSFER_ENCODING),
	BAD_REQ("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\n"
		"Transfer-Encoding: chunked\r\n\r\n", TE_HTTP10),
	BAD_REQ("CONNECT with a body",
		"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 1\r\n\r\n",
		CONNECT_BODY),

	/* -- smuggling defences: line syntax -- */
	BAD_REQ("bare LF ending the request line",
		"GET / HTTP/1.1\nHost: h\r\n\r\n", BARE_LF),
	BAD_REQ("bare LF ending a field line",
		"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", BARE_LF),
	BAD_REQ("bare LF ending the head",
		"GET / HTTP/1.1\r\nHost: h\r\n\n", BARE_LF),
	BAD_REQ("bare LF inside a value",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", BARE_LF),
	BAD_REQ("bare LF as an empty line before the request",
		"\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", BARE_LF),
	BAD_REQ("bare CR as an empty line before the request",
		"\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", BARE_CR),
	BAD_REQ("bare CR inside a value",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", BARE_CR),
	BAD_REQ("bare CR after the version",
		"GET / HTTP/1.1\rHost: h\r\n\r\n", BARE_CR),
	BAD_REQ("bare CR ending the head",
		"GET / HTTP/1.1\r\nHost: h\r\n\rX", BARE_CR),
	BAD_REQ("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
		SPACE_BEFORE_COLON),
	BAD_REQ("tab before colon",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 1\r\n\r\n",
		SPACE_BEFORE_COLON),
	BAD_REQ("obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
		OBS_FOLD),
	BAD_REQ("obs-fold with HTAB",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", OBS_FOLD),
	BAD_REQ("whitespace before the first field",
		"GET / HTTP/1.1\r\n Host: h\r\n\r\n", OBS_FOLD),
	BAD_REQ("NUL in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n",
		FIELD_VALUE, .len = 36),
	BAD_REQ("CTL in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n",
		FIELD_VALUE),
	BAD_REQ("DEL in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: \x7f\r\n\r\n",
		FIELD_VALUE),
	BAD_REQ("non-token byte in a name",
		"GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", FIELD_NAME),
	BAD_REQ("empty field name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n",
		FIELD_NAME),
	BAD_REQ("field line without colon",
		"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", FIELD_NAME),
	BAD_REQ("non-token byte in the method", "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n",
		METHOD),
	BAD_REQ("HTAB after the method", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
		METHOD),
	BAD_REQ("two spaces after the method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
		REQUEST_LINE),
	BAD_REQ("space before the method", " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		REQUEST_LINE),
	BAD_REQ("two spaces before the version",
		"GET /  HTTP/1.1\r\nHost: h\r\n\r\n", REQUEST_LINE),
	BAD_REQ("space after the version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
		REQUEST_LINE),
	BAD_REQ("space inside the target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
		VERSION),
	BAD_REQ("no version (HTTP/0.9)", "GET /\r\n\r\n", REQUEST_LINE),
	BAD_REQ("lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", VERSION),
	BAD_REQ("two-digit minor", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", VERSION),
	BAD_REQ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
		VERSION_UNSUPPORTED),
	BAD_REQ("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", VERSION_UNSUPPORTED),

	/* -- request-target -- */
	BAD_REQ("fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),
	BAD_REQ("bad percent-escape", "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),
	BAD_REQ("cut percent-escape", "GET /%4 HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),
	BAD_REQ("DEL in the target", "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),
	BAD_REQ("non-ASCII in the target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
		TARGET),
	BAD_REQ("authority-form for GET",
		"GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),
	BAD_REQ("asterisk-form for GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),
	BAD_REQ("origin-form for CONNECT", "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n",
		TARGET),
	BAD_REQ("CONNECT without port", "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n",
		TARGET),
	BAD_REQ("CONNECT port too large", "CONNECT h:65536 HTTP/1.1\r\nHost: h\r\n\r\n",
		TARGET),
	BAD_REQ("absolute-form ftp", "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
		TARGET),
	BAD_REQ("absolute-form with userinfo",
		"GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),
	BAD_REQ("absolute-form with empty host",
		"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", TARGET),

	/* -- Host -- */
	BAD_REQ("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", NO_HOST),
	BAD_REQ("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
		MULTIPLE_HOST),
	BAD_REQ("Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HOST),
	BAD_REQ("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", HOST),
	BAD_REQ("Host with a bad port", "GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n", HOST),
	BAD_REQ("Host port of six digits", "GET / HTTP/1.1\r\nHost: h:000080\r\n\r\n",
		HOST),
	BAD_REQ("Host port above 65535", "GET / HTTP/1.1\r\nHost: h:65536\r\n\r\n",
		HOST),
	BAD_REQ("Host without a name", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", HOST),
	BAD_REQ("Host with a cut escape", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", HOST),
	BAD_REQ("Host IPv6 unterminated", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", HOST),
	BAD_REQ("Host empty IP literal", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", HOST),
	BAD_REQ("Host IPv6 with junk after", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n",
		HOST),

	/* -- limits, one over -- */
	BAD_REQ("max_headers + 1 fields",
		"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
		TOO_MANY_FIELDS, .limits = &lim_hdrs3),
	BAD_REQ("max_head + 1 bytes", "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		HEAD_TOO_LARGE, .limits = &lim_head26),
	BAD_REQ("max_target + 1 bytes", "GET /2345678 HTTP/1.1\r\nHost: h\r\n\r\n",
		TARGET_TOO_LONG, .limits = &lim_target7),
	BAD_REQ("max_target + 1 bytes, ending in an escape",
		"GET /23456%41 HTTP/1.1\r\nHost: h\r\n\r\n",
		TARGET_TOO_LONG, .limits = &lim_target8),
	BAD_REQ("empty lines beyond max_head", "\r\n\r\n\r\nGET", HEAD_TOO_LARGE,
		.limits = &lim_head4),

	/* -- bad responses (a proxy answers 502) -- */
	BAD_RESP("response with CL and TE", GET,
		 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n", CL_AND_TE),
	BAD_RESP("response with differing CL", GET,
		 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
		 CONTENT_LENGTH_CONFLICT),
	BAD_RESP("response chunked twice", GET,
		 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
		 TRANSFER_ENCODING),
	BAD_RESP("HTTP/1.0 response with TE", GET,
		 "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", TE_HTTP10),
	BAD_RESP("two-digit status", GET, "HTTP/1.1 20 OK\r\n\r\n", STATUS_LINE),
	BAD_RESP("status 600", GET, "HTTP/1.1 600 Odd\r\n\r\n", STATUS_LINE),
	BAD_RESP("status 099", GET, "HTTP/1.1 099 Odd\r\n\r\n", STATUS_LINE),
	BAD_RESP("status without SP before reason", GET, "HTTP/1.1 200OK\r\n\r\n",
		 STATUS_LINE),
	BAD_RESP("CTL in the reason", GET, "HTTP/1.1 200 O\x01K\r\n\r\n",
		 STATUS_LINE),
	BAD_RESP("response bare LF", GET, "HTTP/1.1 200 OK\n\r\n", BARE_LF),
	BAD_RESP("response obs-fold", GET,
		 "HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nContent-Length: 0\r\n\r\n",
		 OBS_FOLD),
	BAD_RESP("unterminated quote in Transfer-Encoding", GET,
		 "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;a=\"x, chunked\r\n\r\n",
		 TRANSFER_ENCODING),
	BAD_RESP("junk after the version", GET, "HTTP/1.1X200 OK\r\n\r\n", VERSION),
	BAD_RESP("HTTP/2 response", GET, "HTTP/2 200 OK\r\n\r\n", VERSION),
	BAD_RESP("not HTTP at all", GET, "SSH-2.0-OpenSSH\r\n", VERSION),
};

#define N_HEAD_CASES (sizeof(head_cases) / sizeof(head_cases[0]))

static size_t
case_len(const struct head_case *tc)
{
	return tc->len ? tc->len : strlen(tc->input);
}

/* ---- running a head case ---- */

struct run {
	int rc;
	size_t offset;        /* of the body (DONE) or of the rejected byte */
	uint16_t status;
	bool copied;
	uint64_t copied_bytes;
	size_t head_len;
	char dump[8192];      /* the parsed head as text */
};

static void
dump_str(char *buf, size_t size, size_t *n, const char *label,
	 struct gw_http_str s)
{
	if (*n >= size)
		return;
	if (s.ptr == NULL)
		*n += (size_t)snprintf(buf + *n, size - *n, "%s=(absent)\n", label);
	else
		*n += (size_t)snprintf(buf + *n, size - *n, "%s=[%.*s]\n", label,
				       (int)s.len, s.ptr);
}

static void
head_dump(const struct gw_http_head *h, char *buf, size_t size)
{
	size_t n = 0;

	dump_str(buf, size, &n, "method", h->method_name);
	dump_str(buf, size, &n, "target", h->target);
	dump_str(buf, size, &n, "scheme", h->scheme);
	dump_str(buf, size, &n, "authority", h->authority);
	dump_str(buf, size, &n, "path", h->path);
	dump_str(buf, size, &n, "query", h->query);
	dump_str(buf, size, &n, "reason", h->reason);
	dump_str(buf, size, &n, "host", h->host);
	dump_str(buf, size, &n, "upgrade", h->upgrade);
	if (n < size)
		n += (size_t)snprintf(buf + n, size - n,
			"m=%d form=%d minor=%u status=%u body=%d cl=%llu/%d chunked=%d "
			"close=%d ka=%d keep=%d expect=%d info=%d head_len=%u n=%u\n",
			h->method, h->target_form, h->version_minor, h->status,
			h->body, (unsigned long long)h->content_length,
			h->has_content_length, h->chunked, h->conn_close,
			h->conn_keep_alive, h->keep_alive, h->expect_continue,
			h->informational, h->head_len, h->n_headers);
	for (uint32_t k = 0; k < h->n_headers && n < size; k++)
		n += (size_t)snprintf(buf + n, size - n, "[%.*s]=[%.*s]\n",
				      (int)h->headers[k].name_len, h->headers[k].name,
				      (int)h->headers[k].value_len, h->headers[k].value);
}

static bool
ptr_in(const char *ptr, uint32_t len, const void *base, size_t size)
{
	const char *b = base;

	return ptr >= b && ptr + len <= b + size;
}

/* The names enum gw_http_field stands for, written out independently of
 * the parser's classification. */
static const struct {
	const char *name;
	enum gw_http_field id;
} field_names[] = {
	{ "host", GW_HTTP_F_HOST },
	{ "content-length", GW_HTTP_F_CONTENT_LENGTH },
	{ "transfer-encoding", GW_HTTP_F_TRANSFER_ENCODING },
	{ "connection", GW_HTTP_F_CONNECTION },
	{ "keep-alive", GW_HTTP_F_KEEP_ALIVE },
	{ "proxy-connection", GW_HTTP_F_PROXY_CONNECTION },
	{ "te", GW_HTTP_F_TE },
	{ "upgrade", GW_HTTP_F_UPGRADE },
	{ "expect", GW_HTTP_F_EXPECT },
	{ "user-agent", GW_HTTP_F_USER_AGENT },
	{ "origin", GW_HTTP_F_ORIGIN },
	{ "x-request-id", GW_HTTP_F_X_REQUEST_ID },
	{ "x-forwarded-for", GW_HTTP_F_X_FORWARDED_FOR },
	{ "x-forwarded-proto", GW_HTTP_F_X_FORWARDED_PROTO },
	{ "x-envoy-upstream-service-time", GW_HTTP_F_X_ENVOY_UPSTREAM_SERVICE_TIME },
	{ "access-control-request-method", GW_HTTP_F_ACCESS_CONTROL_REQUEST_METHOD },
};

static enum gw_http_field
ref_field_id(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(field_names); i++) {
		size_t n = strlen(field_names[i].name), k;

		for (k = 0; k < len && n == len; k++)
			if (tolower((unsigned char)name[k]) != field_names[i].name[k])
				break;
		if (n == len && k == len)
			return field_names[i].id;
	}
	return GW_HTTP_F_OTHER;
}

/* Every pointer of the head lies in the last chunk or in the buffer. */
static void
check_pointers(const struct head_case *tc, const struct gw_http_parser *p,
	       const uint8_t *chunk, size_t chunk_len)
{
	const struct gw_http_head *h = &p->head;
	const void *base = h->copied ? (const void *)p->buf : (const void *)chunk;
	size_t size = h->copied ? p->limits.max_head : chunk_len;
	const struct gw_http_str strs[] = {
		h->method_name, h->target, h->scheme, h->authority, h->query,
		h->reason, h->host, h->upgrade,
	};
	uint32_t seen = 0;

	for (size_t k = 0; k < ARRAY_SIZE(strs); k++)
		if (strs[k].ptr != NULL && !ptr_in(strs[k].ptr, strs[k].len, base, size))
			fail_msg("case \"%s\": string %zu outside the head", tc->name, k);
	if (h->path.ptr != NULL && !ptr_in(h->path.ptr, h->path.len, base, size) &&
	    !(h->path.len == 1 && h->path.ptr[0] == '/'))
		fail_msg("case \"%s\": path outside the head", tc->name);
	for (uint32_t k = 0; k < h->n_headers; k++)
		if (!ptr_in(h->headers[k].name, h->headers[k].name_len, base, size) ||
		    !ptr_in(h->headers[k].value, h->headers[k].value_len, base, size))
			fail_msg("case \"%s\": field %u outside the head", tc->name, k);
	/* Each field line carries its name's id, and the head the set of them. */
	for (uint32_t k = 0; k < h->n_headers; k++) {
		enum gw_http_field id = ref_field_id(h->headers[k].name,
						     h->headers[k].name_len);

		if (h->headers[k].id != (uint32_t)id)
			fail_msg("case \"%s\": field %u id %u, want %d", tc->name, k,
				 h->headers[k].id, id);
		seen |= 1u << id;
	}
	if (h->fields_seen != seen)
		fail_msg("case \"%s\": fields_seen %#x, want %#x", tc->name,
			 h->fields_seen, seen);
}

/*
 * Feed tc's input cut at the given positions (ascending, inside the input),
 * each piece against the guard page; stop at the first verdict.
 */
static void
run_case(const struct head_case *tc, const size_t *cuts, size_t n_cuts,
	 size_t total, struct run *r)
{
	struct gw_http_parser *p = gw_http_parser_create(tc->kind, tc->limits);
	size_t start = 0, prev_len = 0;

	assert_non_null(p);
	p->request_method = tc->req_method ? tc->req_method : GW_HTTP_METHOD_GET;
	memset(r, 0, sizeof(*r));
	for (size_t k = 0; k <= n_cuts; k++) {
		size_t stop = k < n_cuts ? cuts[k] : total, consumed = SIZE_MAX;
		uint8_t *chunk;
		int rc;

		guard_scribble(prev_len);
		chunk = guard_place(tc->input + start, stop - start);
		rc = gw_http_head_parse(p, chunk, stop - start, &consumed);
		if (rc == GW_HTTP_AGAIN) {
			if (consumed != stop - start)
				fail_msg("case \"%s\": AGAIN consumed %zu of %zu",
					 tc->name, consumed, stop - start);
			prev_len = stop - start;
			start = stop;
			continue;
		}
		r->rc = rc;
		r->offset = start + consumed;
		if (rc == GW_HTTP_DONE) {
			check_pointers(tc, p, chunk, stop - start);
			head_dump(&p->head, r->dump, sizeof(r->dump));
			r->copied = p->head.copied;
			r->copied_bytes = p->copied_bytes;
			r->head_len = p->head.head_len;
		} else {
			r->status = p->status;
			if (p->err != rc)
				fail_msg("case \"%s\": err %d, returned %d", tc->name,
					 p->err, rc);
		}
		/* The verdict sticks. */
		consumed = SIZE_MAX;
		assert_int_equal(gw_http_head_parse(p, chunk, stop - start, &consumed), rc);
		assert_int_equal(consumed, 0);
		gw_http_parser_free(p);
		return;
	}
	r->rc = GW_HTTP_AGAIN;
	r->offset = total;
	gw_http_parser_free(p);
}

static void
expect_str(const struct head_case *tc, const char *what, struct gw_http_str got,
	   const char *want)
{
	if (want == NULL) {
		if (got.ptr != NULL)
			fail_msg("case \"%s\": %s is [%.*s], expected absent", tc->name,
				 what, (int)got.len, got.ptr);
		return;
	}
	if (got.ptr == NULL || got.len != strlen(want) ||
	    memcmp(got.ptr, want, got.len) != 0)
		fail_msg("case \"%s\": %s is [%.*s], expected [%s]", tc->name, what,
			 got.ptr ? (int)got.len : 8, got.ptr ? got.ptr : "(absent)",
			 want);
}

static const char *const std_methods[] = {
	"", "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
	"TRACE", "PATCH",
};

#define TC_CHECK(tc, cond) \
	do { \
		if (!(cond)) \
			fail_msg("case \"%s\": %s", (tc)->name, #cond); \
	} while (0)

/* The whole-input run, checked against the table. */
static void
check_head_expected(const struct head_case *tc, const struct gw_http_head *h)
{
	size_t len = case_len(tc);

	if (tc->kind == GW_HTTP_REQUEST) {
		TC_CHECK(tc, h->method == tc->method);
		expect_str(tc, "method", h->method_name, tc->method_name ?
			   tc->method_name : std_methods[tc->method]);
		TC_CHECK(tc, h->target_form == tc->form);
		TC_CHECK(tc, h->status == 0);
	} else {
		TC_CHECK(tc, h->status == tc->status);
		expect_str(tc, "method", h->method_name, NULL);
	}
	expect_str(tc, "target", h->target, tc->target);
	expect_str(tc, "scheme", h->scheme, tc->scheme);
	expect_str(tc, "authority", h->authority, tc->authority);
	expect_str(tc, "path", h->path, tc->path);
	expect_str(tc, "query", h->query, tc->query);
	expect_str(tc, "host", h->host, tc->host);
	expect_str(tc, "reason", h->reason, tc->reason);
	expect_str(tc, "upgrade", h->upgrade, tc->upgrade);
	TC_CHECK(tc, h->version_minor == tc->minor);
	TC_CHECK(tc, h->n_headers == tc->n_headers);
	for (size_t k = 0; k < 4 && tc->h[k].name != NULL; k++) {
		struct gw_http_str n = { h->headers[k].name, h->headers[k].name_len };
		struct gw_http_str v = { h->headers[k].value, h->headers[k].value_len };

		expect_str(tc, "field name", n, tc->h[k].name);
		expect_str(tc, "field value", v, tc->h[k].value);
	}
	TC_CHECK(tc, h->body == tc->body);
	if (tc->content_length || h->has_content_length)
		TC_CHECK(tc, h->content_length == tc->content_length);
	TC_CHECK(tc, h->keep_alive == tc->keep_alive);
	TC_CHECK(tc, h->expect_continue == tc->expect_continue);
	TC_CHECK(tc, h->informational == tc->informational);
	TC_CHECK(tc, h->chunked == (tc->body == GW_HTTP_BODY_CHUNKED) ||
		 tc->kind == GW_HTTP_RESPONSE);
	TC_CHECK(tc, h->head_len <= len);
	/* Whole input: the head was parsed in place. */
	TC_CHECK(tc, !h->copied);
}

static void
test_head_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_HEAD_CASES; i++) {
		const struct head_case *tc = &head_cases[i];
		size_t len = case_len(tc);
		size_t want_off = tc->consumed ? tc->consumed : len;
		struct gw_http_parser *p;
		uint8_t *chunk;
		size_t consumed;
		int rc;

		p = gw_http_parser_create(tc->kind, tc->limits);
		assert_non_null(p);
		p->request_method = tc->req_method ? tc->req_method :
				    GW_HTTP_METHOD_GET;
		chunk = guard_place(tc->input, len);
		rc = gw_http_head_parse(p, chunk, len, &consumed);
		if (rc != tc->rc)
			fail_msg("case \"%s\": returned %d (%s), expected %d (%s)",
				 tc->name, rc, gw_http_strerror(rc), tc->rc,
				 gw_http_strerror(tc->rc));
		if (rc == GW_HTTP_DONE) {
			if (consumed != want_off)
				fail_msg("case \"%s\": consumed %zu, expected %zu",
					 tc->name, consumed, want_off);
			check_head_expected(tc, &p->head);
			assert_int_equal(p->copied_bytes, 0);
		} else {
			uint16_t st = tc->kind == GW_HTTP_RESPONSE ? 502 :
				      gw_http_error_status(tc->rc);

			TC_CHECK(tc, p->status == st);
			TC_CHECK(tc, consumed <= len);
		}
		gw_http_parser_free(p);
	}
}

static void
assert_same_run(const struct head_case *tc, const char *mode, size_t at,
		const struct run *want, const struct run *got)
{
	if (got->rc != want->rc || got->offset != want->offset ||
	    got->status != want->status || strcmp(got->dump, want->dump) != 0)
		fail_msg("case \"%s\" %s %zu: rc %d offset %zu status %u\n%s\n"
			 "whole input: rc %d offset %zu status %u\n%s",
			 tc->name, mode, at, got->rc, got->offset, got->status,
			 got->dump, want->rc, want->offset, want->status, want->dump);
}

static void
test_head_splits(void **state)
{
	static struct run whole, got;

	(void)state;
	for (size_t i = 0; i < N_HEAD_CASES; i++) {
		const struct head_case *tc = &head_cases[i];
		size_t len = case_len(tc);
		size_t *cuts = calloc(len + 1, sizeof(*cuts));

		assert_non_null(cuts);
		run_case(tc, NULL, 0, len, &whole);
		assert_int_equal(whole.rc, tc->rc);
		assert_false(whole.copied);

		/* (a) byte by byte */
		for (size_t k = 1; k < len; k++)
			cuts[k - 1] = k;
		run_case(tc, cuts, len ? len - 1 : 0, len, &got);
		assert_same_run(tc, "byte by byte", 0, &whole, &got);

		/* (b) two pieces, cut at every position */
		for (size_t k = 1; k < len; k++) {
			run_case(tc, &k, 1, len, &got);
			assert_same_run(tc, "cut at", k, &whole, &got);
			if (got.rc == GW_HTTP_DONE) {
				/* Copied exactly when the cut fell inside the head,
				 * and then exactly the head. */
				bool inside = k > whole.offset - whole.head_len &&
					      k < whole.offset;

				if (got.copied != inside ||
				    got.copied_bytes != (inside ? whole.head_len : 0))
					fail_msg("case \"%s\" cut at %zu: copied %d, %llu bytes",
						 tc->name, k, got.copied,
						 (unsigned long long)got.copied_bytes);
			}
		}
		free(cuts);
	}
}

/* Every shorter prefix asks for more, or fails the same way. */
static void
test_head_prefixes(void **state)
{
	static struct run whole, got;

	(void)state;
	for (size_t i = 0; i < N_HEAD_CASES; i++) {
		const struct head_case *tc = &head_cases[i];
		size_t len = case_len(tc);
		bool failed = false;

		run_case(tc, NULL, 0, len, &whole);
		for (size_t n = 0; n < len; n++) {
			run_case(tc, NULL, 0, n, &got);
			if (whole.rc == GW_HTTP_DONE && n >= whole.offset) {
				assert_same_run(tc, "prefix", n, &whole, &got);
				continue;
			}
			if (got.rc == GW_HTTP_AGAIN) {
				if (failed)
					fail_msg("case \"%s\": prefix %zu asks for more "
						 "after a shorter one failed", tc->name, n);
				assert_int_equal(got.offset, n);
				continue;
			}
			if (whole.rc == GW_HTTP_DONE)
				fail_msg("case \"%s\": prefix %zu gives %d", tc->name, n,
					 got.rc);
			assert_same_run(tc, "prefix", n, &whole, &got);
			failed = true;
		}
	}
}

/* ---- more head tests ---- */

static struct gw_http_parser *
parse_all(enum gw_http_kind kind, const struct gw_http_limits *lim,
	  const char *in, size_t len, int want_rc, size_t *consumed)
{
	struct gw_http_parser *p = gw_http_parser_create(kind, lim);
	uint8_t *chunk;

	assert_non_null(p);
	chunk = guard_place(in, len);
	assert_int_equal(gw_http_head_parse(p, chunk, len, consumed), want_rc);
	return p;
}

static void
test_pipelined(void **state)
{
	static const char in[] =
		"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
		"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
		"GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	const char *const paths[] = { "/1", "/2", "/3" };
	struct gw_http_parser *p = gw_http_parser_create(GW_HTTP_REQUEST, NULL);
	size_t len = sizeof(in) - 1, off = 0, consumed;
	uint8_t *chunk = guard_place(in, len);

	(void)state;
	assert_non_null(p);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(gw_http_head_parse(p, chunk + off, len - off,
						    &consumed), GW_HTTP_DONE);
		assert_int_equal(p->head.path.len, 2);
		assert_memory_equal(p->head.path.ptr, paths[k], 2);
		assert_false(p->head.copied);
		off += consumed;
		if (p->head.body == GW_HTTP_BODY_LENGTH)
			off += p->head.content_length;
		assert_int_equal(p->head.keep_alive, k < 2);
		gw_http_parser_reset(p);
	}
	assert_int_equal(off, len);
	/* Nothing left: the next head asks for more. */
	assert_int_equal(gw_http_head_parse(p, chunk + off, 0, &consumed),
			 GW_HTTP_AGAIN);
	assert_int_equal(consumed, 0);
	gw_http_parser_free(p);
}

/* 100 Continue passes through, then the final response on the same parser. */
static void
test_continue_then_final(void **state)
{
	static const char in[] = "HTTP/1.1 100 Continue\r\n\r\n"
				 "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
	struct gw_http_parser *p = gw_http_parser_create(GW_HTTP_RESPONSE, NULL);
	size_t len = sizeof(in) - 1, consumed, off;
	uint8_t *chunk = guard_place(in, len);

	(void)state;
	assert_non_null(p);
	p->request_method = GW_HTTP_METHOD_PUT;
	assert_int_equal(gw_http_head_parse(p, chunk, len, &consumed), GW_HTTP_DONE);
	assert_int_equal(p->head.status, 100);
	assert_true(p->head.informational);
	off = consumed;
	gw_http_parser_reset(p);
	assert_int_equal(p->request_method, GW_HTTP_METHOD_PUT);
	assert_int_equal(gw_http_head_parse(p, chunk + off, len - off, &consumed),
			 GW_HTTP_DONE);
	assert_int_equal(p->head.status, 201);
	assert_false(p->head.informational);
	assert_int_equal(p->head.body, GW_HTTP_BODY_NONE);
	assert_int_equal(off + consumed, len);
	gw_http_parser_free(p);
}

/*
 * A request head of exactly @p len bytes: a target of @p target_len bytes,
 * Host, then @p n_fields "X" fields, the last one padded to length.
 */
static char *
make_head(size_t len, size_t target_len, size_t n_fields)
{
	size_t prefix = target_len + 24; /* "GET /...a HTTP/1.1\r\nHost: h\r\n" */
	size_t pad, n;
	char *s;

	assert_true(n_fields > 0 && len > prefix + 7 * n_fields + 2);
	pad = len - prefix - 7 * (n_fields - 1) - 7;
	s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', target_len - 1);
	n = 4 + target_len;
	n += (size_t)sprintf(s + n, " HTTP/1.1\r\nHost: h\r\n");
	for (size_t k = 0; k + 1 < n_fields; k++)
		n += (size_t)sprintf(s + n, "X: vv\r\n");
	memcpy(s + n, "X: ", 3);
	memset(s + n + 3, 'v', pad);
	n += 3 + pad;
	memcpy(s + n, "\r\n\r\n", 4);
	n += 4;
	s[n] = '\0';
	return s;
}

static void
test_default_limits(void **state)
{
	struct {
		size_t head, target, fields;
		int rc;
	} cases[] = {
		{ GW_HTTP_MAX_HEAD_DEFAULT, 100, 5, GW_HTTP_DONE },
		{ GW_HTTP_MAX_HEAD_DEFAULT + 1, 100, 5, -GW_HTTP_E_HEAD_TOO_LARGE },
		{ 20000, GW_HTTP_MAX_TARGET_DEFAULT, 1, GW_HTTP_DONE },
		{ 20000, GW_HTTP_MAX_TARGET_DEFAULT + 1, 1, -GW_HTTP_E_TARGET_TOO_LONG },
		{ 2000, 10, GW_HTTP_MAX_HEADERS_DEFAULT - 1, GW_HTTP_DONE },
		{ 2000, 10, GW_HTTP_MAX_HEADERS_DEFAULT, -GW_HTTP_E_TOO_MANY_FIELDS },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *in = make_head(cases[i].head, cases[i].target, cases[i].fields);
		size_t len = strlen(in), consumed, off;
		struct gw_http_parser *p;
		uint8_t *chunk;
		int rc = 0;

		assert_int_equal(len, cases[i].head);
		/* whole */
		p = parse_all(GW_HTTP_REQUEST, NULL, in, len, cases[i].rc, &consumed);
		if (cases[i].rc == GW_HTTP_DONE) {
			assert_int_equal(consumed, len);
			assert_int_equal(p->head.n_headers, cases[i].fields + 1);
			assert_int_equal(p->head.target.len, cases[i].target);
		}
		gw_http_parser_free(p);
		/* byte by byte, and in TCP-segment-sized pieces */
		for (size_t si = 0; si < 2; si++) {
			size_t step = si == 0 ? 1 : 1460;

			p = gw_http_parser_create(GW_HTTP_REQUEST, NULL);
			assert_non_null(p);
			for (off = 0; off < len; off += consumed) {
				size_t n = len - off < step ? len - off : step;

				chunk = guard_place(in + off, n);
				rc = gw_http_head_parse(p, chunk, n, &consumed);
				if (rc != GW_HTTP_AGAIN)
					break;
			}
			assert_int_equal(rc, cases[i].rc);
			if (rc == GW_HTTP_DONE) {
				assert_true(p->head.copied);
				assert_int_equal(p->copied_bytes, len);
				assert_int_equal(p->head.head_len, len);
				assert_int_equal(p->head.n_headers, cases[i].fields + 1);
			}
			gw_http_parser_free(p);
		}
		free(in);
	}
}

static void
test_split_copy(void **state)
{
	static const char in[] = "GET /x HTTP/1.1\r\nHost: h\r\nA: 1\r\n\r\nBODY";
	size_t len = sizeof(in) - 1, consumed;
	struct gw_http_parser *p = gw_http_parser_create(GW_HTTP_REQUEST, NULL);
	uint8_t *chunk;

	(void)state;
	assert_non_null(p);
	/* Empty lines alone: nothing is copied. */
	chunk = guard_place("\r\n\r", 3);
	assert_int_equal(gw_http_head_parse(p, chunk, 3, &consumed), GW_HTTP_AGAIN);
	chunk = guard_place("\n", 1);
	assert_int_equal(gw_http_head_parse(p, chunk, 1, &consumed), GW_HTTP_AGAIN);
	assert_int_equal(p->copied_bytes, 0);
	/* Cut inside the "A" field line. */
	chunk = guard_place(in, 28);
	assert_int_equal(gw_http_head_parse(p, chunk, 28, &consumed), GW_HTTP_AGAIN);
	assert_int_equal(p->copied_bytes, 28);
	guard_scribble(28);
	chunk = guard_place(in + 28, len - 28);
	assert_int_equal(gw_http_head_parse(p, chunk, len - 28, &consumed),
			 GW_HTTP_DONE);
	assert_int_equal(consumed, len - 28 - 4);
	assert_true(p->head.copied);
	assert_int_equal(p->copied_bytes, len - 4);
	assert_int_equal(p->head.head_len, len - 4);
	assert_memory_equal(chunk + consumed, "BODY", 4);
	assert_memory_equal(p->head.headers[1].value, "1", 1);
	assert_ptr_equal(p->head.headers[0].name, (const char *)p->buf + 17);
	/* Done sticks until reset; reset keeps the stats. */
	assert_int_equal(gw_http_head_parse(p, chunk, len - 28, &consumed),
			 GW_HTTP_DONE);
	assert_int_equal(consumed, 0);
	gw_http_parser_reset(p);
	assert_int_equal(p->copied_bytes, len - 4);
	assert_int_equal(p->head.n_headers, 0);
	gw_http_parser_free(p);
}

static void
test_init(void **state)
{
	struct gw_http_parser p;
	struct gw_http_header hdrs[4];
	uint8_t buf[64];
	struct gw_http_limits lim = { .max_head = 64, .max_headers = 4 };
	size_t consumed;
	uint8_t *chunk;

	(void)state;
	assert_int_equal(gw_http_parser_init(&p, GW_HTTP_REQUEST, NULL, buf,
					     sizeof(buf), hdrs, 4), -EINVAL);
	lim.max_head = 65;
	assert_int_equal(gw_http_parser_init(&p, GW_HTTP_REQUEST, &lim, buf,
					     sizeof(buf), hdrs, 4), -EINVAL);
	lim.max_head = 64;
	lim.max_headers = 5;
	assert_int_equal(gw_http_parser_init(&p, GW_HTTP_REQUEST, &lim, buf,
					     sizeof(buf), hdrs, 4), -EINVAL);
	assert_int_equal(gw_http_parser_init(&p, (enum gw_http_kind)7, NULL, buf,
					     sizeof(buf), hdrs, 4), -EINVAL);
	lim.max_headers = 4;
	assert_int_equal(gw_http_parser_init(&p, GW_HTTP_REQUEST, &lim, buf,
					     sizeof(buf), hdrs, 4), 0);
	assert_int_equal(p.limits.max_target, GW_HTTP_MAX_TARGET_DEFAULT);
	assert_int_equal(p.request_method, GW_HTTP_METHOD_GET);
	chunk = guard_place("GET / HTTP/1.1\r\n", 16);
	assert_int_equal(gw_http_head_parse(&p, chunk, 16, &consumed), GW_HTTP_AGAIN);
	chunk = guard_place("Host: h\r\n\r\n", 11);
	assert_int_equal(gw_http_head_parse(&p, chunk, 11, &consumed), GW_HTTP_DONE);
	assert_ptr_equal(p.head.headers, hdrs);
	assert_ptr_equal(p.head.host.ptr, (const char *)buf + 22);
	gw_http_parser_free(NULL);
	lim.max_head = UINT32_MAX;
	assert_null(gw_http_parser_create(GW_HTTP_REQUEST, &lim));
	assert_null(gw_http_parser_create((enum gw_http_kind)7, NULL));
}

static void
test_helpers(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n"
				 "x-a: 2\r\nConnection: foo, \"a,close\", Keep-Alive\r\n\r\n";
	struct gw_http_parser *p;
	size_t consumed;
	const struct gw_http_head *h;

	(void)state;
	p = parse_all(GW_HTTP_REQUEST, NULL, in, sizeof(in) - 1, GW_HTTP_DONE,
		      &consumed);
	h = &p->head;
	assert_int_equal(gw_http_header_find(h, "x-A", 0), 1);
	assert_int_equal(gw_http_header_find(h, "X-a", 2), 2);
	assert_int_equal(gw_http_header_find(h, "x-a", 3), -1);
	assert_int_equal(gw_http_header_find(h, "HOST", 0), 0);
	assert_int_equal(gw_http_header_find(h, "hos", 0), -1);
	/* A quoted comma does not split; "close" inside quotes is no token. */
	assert_false(h->conn_close);
	assert_true(h->conn_keep_alive);
	assert_true(gw_http_list_has(" a ,, b,c ", 10, "B"));
	assert_true(gw_http_list_has("close", 5, "close"));
	assert_false(gw_http_list_has("closed", 6, "close"));
	assert_false(gw_http_list_has("", 0, "close"));
	assert_false(gw_http_list_has("\"x, close\"", 10, "close"));
	assert_true(gw_http_name_eq("Content-Length", 14, "content-length", 14));
	assert_false(gw_http_name_eq("Content-Length", 14, "content-lengtH ", 15));
	assert_false(gw_http_name_eq("~", 1, "^", 1));
	gw_http_parser_free(p);

	for (int m = 0; m < GW_HTTP_METHOD_MAX; m++)
		assert_string_equal(gw_http_method_name((enum gw_http_method)m),
				    std_methods[m]);
	assert_string_equal(gw_http_method_name(GW_HTTP_METHOD_MAX), "");
	for (int e = GW_HTTP_EBASE + 1; e < GW_HTTP_E_MAX; e++) {
		uint16_t st = gw_http_error_status(-e);

		assert_string_not_equal(gw_http_strerror(-e), "unknown HTTP error");
		assert_true(st == 400 || st == 414 || st == 431 || st == 501 ||
			    st == 505);
	}
	assert_int_equal(gw_http_error_status(-GW_HTTP_E_HEAD_TOO_LARGE), 431);
	assert_int_equal(gw_http_error_status(-GW_HTTP_E_TOO_MANY_FIELDS), 431);
	assert_int_equal(gw_http_error_status(-GW_HTTP_E_TARGET_TOO_LONG), 414);
	assert_int_equal(gw_http_error_status(-GW_HTTP_E_TE_UNSUPPORTED), 501);
	assert_int_equal(gw_http_error_status(-GW_HTTP_E_VERSION_UNSUPPORTED), 505);
	assert_string_equal(gw_http_strerror(-GW_HTTP_E_BARE_LF), "bare LF");
	assert_string_equal(gw_http_strerror(-GW_HTTP_E_MAX), "unknown HTTP error");
	assert_string_equal(gw_http_strerror(-1), "unknown HTTP error");
	assert_string_equal(gw_http_strerror(0), "success");
	assert_int_equal(gw_http_error_status(-1), 400);
}

/*
 * Field ids: every known name in any case, and every one-byte change of it
 * (every byte value at every position: the classifier compares 8 bytes at
 * a time with a case mask), plus lookups by id and by name on parsed heads
 * and on field lines built by hand (no ids: names are compared).
 */
static void
test_field_ids(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\n"
				 "X-Request-ID: r1\r\nAccept: */*\r\n"
				 "x-request-id: r2\r\nX-Custom: c\r\n\r\n";
	static const char in2[] = "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\n"
				  "X-Custom: d\r\nAccept: b\r\n\r\n";
	struct gw_http_header hand[3];
	struct gw_http_head hh;
	struct gw_http_parser *p;
	const struct gw_http_head *h;
	size_t consumed;
	char name[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(field_names); i++) {
		const char *lit = field_names[i].name;
		size_t n = strlen(lit);

		assert_true(n < sizeof(name));
		assert_int_equal(gw_http_field_id(lit, n), field_names[i].id);
		for (size_t k = 0; k < n; k++)
			name[k] = (char)toupper((unsigned char)lit[k]);
		assert_int_equal(gw_http_field_id(name, n), field_names[i].id);
		for (size_t k = 0; k < n; k++) {
			memcpy(name, lit, n);
			for (int c = 0; c < 256; c++) {
				name[k] = (char)c;
				assert_int_equal(gw_http_field_id(name, n),
						 ref_field_id(name, n));
			}
		}
		/* one byte short or long is another name */
		memcpy(name, lit, n);
		name[n] = 's';
		assert_int_equal(gw_http_field_id(name, n + 1), GW_HTTP_F_OTHER);
		assert_int_equal(gw_http_field_id(name, n - 1),
				 ref_field_id(name, n - 1));
	}
	/* each name parsed in a head (upper case) gets its id */
	for (size_t i = 0; i < ARRAY_SIZE(field_names); i++) {
		enum gw_http_field id = field_names[i].id;
		char head[256];
		int n, k;

		for (k = 0; field_names[i].name[k] != '\0'; k++)
			name[k] = (char)toupper((unsigned char)field_names[i].name[k]);
		name[k] = '\0';
		n = snprintf(head, sizeof(head), "GET / HTTP/1.1\r\n%s%s: %s\r\n\r\n",
			     id == GW_HTTP_F_HOST ? "" : "Host: h\r\n", name,
			     id == GW_HTTP_F_TRANSFER_ENCODING ? "chunked" :
			     id == GW_HTTP_F_CONTENT_LENGTH ? "0" : "h");
		p = parse_all(GW_HTTP_REQUEST, NULL, head, (size_t)n, GW_HTTP_DONE,
			      &consumed);
		h = &p->head;
		k = (int)h->n_headers - 1;
		assert_int_equal(h->headers[k].id, id);
		assert_true(h->fields_seen & (1u << id));
		assert_int_equal(gw_http_header_find_id(h, id, 0), k);
		assert_int_equal(gw_http_header_find(h, field_names[i].name, 0), k);
		gw_http_parser_free(p);
	}
	assert_int_equal(gw_http_field_id("", 0), GW_HTTP_F_OTHER);
	assert_int_equal(gw_http_field_id("x-request-i\x04", 12), GW_HTTP_F_OTHER);
	assert_int_equal(gw_http_field_id("x\rrequest-id", 12), GW_HTTP_F_OTHER);
	assert_int_equal(gw_http_field_id("\x48ost", 4), GW_HTTP_F_HOST);

	p = parse_all(GW_HTTP_REQUEST, NULL, in, sizeof(in) - 1, GW_HTTP_DONE,
		      &consumed);
	h = &p->head;
	assert_int_equal(h->headers[0].id, GW_HTTP_F_HOST);
	assert_int_equal(h->headers[1].id, GW_HTTP_F_USER_AGENT);
	assert_int_equal(h->headers[3].id, GW_HTTP_F_OTHER);
	assert_int_equal(gw_http_header_id(&h->headers[2]), GW_HTTP_F_X_REQUEST_ID);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_X_REQUEST_ID, 0), 2);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_X_REQUEST_ID, 3), 4);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_X_REQUEST_ID, 5), -1);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_X_FORWARDED_FOR, 0), -1);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_OTHER, 0), -1);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_UNCLASSIFIED, 0), -1);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_MAX, 0), -1);
	assert_int_equal(gw_http_header_find(h, "X-REQUEST-ID", 3), 4);
	assert_int_equal(gw_http_header_find(h, "accept", 0), 3);
	assert_int_equal(gw_http_header_find(h, "x-custom", 0), 5);
	assert_int_equal(gw_http_header_find(h, "x-customs", 0), -1);
	/* The next message on the parser: no id of the previous one is left. */
	gw_http_parser_reset(p);
	assert_int_equal(gw_http_head_parse(p, guard_place(in2, sizeof(in2) - 1),
					    sizeof(in2) - 1, &consumed),
			 GW_HTTP_DONE);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_USER_AGENT, 0), -1);
	assert_int_equal(gw_http_header_find_id(h, GW_HTTP_F_X_REQUEST_ID, 0), -1);
	assert_int_equal(gw_http_header_find(h, "x-request-id", 0), -1);
	assert_int_equal(gw_http_header_find(h, "Accept", 2), 3);
	assert_int_equal(gw_http_header_find(h, "x-custom", 0), 2);
	gw_http_parser_free(p);

	/* Field lines built by hand carry no ids: names are compared. */
	memset(&hh, 0, sizeof(hh));
	memset(hand, 0, sizeof(hand));
	hand[0] = (struct gw_http_header){ .name = "Accept", .name_len = 6 };
	hand[1] = (struct gw_http_header){ .name = "X-Forwarded-For", .name_len = 15 };
	hand[2] = (struct gw_http_header){ .name = "x-b", .name_len = 3 };
	hh.headers = hand;
	hh.n_headers = 3;
	assert_int_equal(gw_http_header_id(&hand[1]), GW_HTTP_F_X_FORWARDED_FOR);
	assert_int_equal(gw_http_header_id(&hand[0]), GW_HTTP_F_OTHER);
	assert_int_equal(gw_http_header_find_id(&hh, GW_HTTP_F_X_FORWARDED_FOR, 0), 1);
	assert_int_equal(gw_http_header_find_id(&hh, GW_HTTP_F_HOST, 0), -1);
	assert_int_equal(gw_http_header_find(&hh, "x-forwarded-for", 0), 1);
	assert_int_equal(gw_http_header_find(&hh, "X-B", 0), 2);
	assert_int_equal(gw_http_header_find(&hh, "accept", 1), -1);
}

/*
 * Every byte value at every position of a 40-byte value (values are read a
 * word at a time), checked against the RFC 9110 §5.5 classes written out
 * here independently of the parser.
 */
static void
test_value_bytes(void **state)
{
	char in[128];

	(void)state;
	for (unsigned int b = 0; b < 256; b++) {
		for (size_t k = 0; k < 40; k++) {
			struct gw_http_parser *p;
			size_t n, consumed, vlen = 40, voff = 0;
			int want, rc;
			char *v;

			n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
			v = in + n;
			memset(v, 'v', 40);
			v[k] = (char)b;
			n += 40;
			n += (size_t)sprintf(in + n, "\r\n\r\n");
			if ((b >= 0x21 && b <= 0x7e) || b >= 0x80) {
				want = GW_HTTP_DONE;
			} else if (b == ' ' || b == '\t') {
				want = GW_HTTP_DONE;
				if (k == 0)
					voff = 1, vlen = 39;  /* leading OWS */
				else if (k == 39)
					vlen = 39;            /* trailing OWS */
			} else if (b == '\r') {
				want = -GW_HTTP_E_BARE_CR;
			} else if (b == '\n') {
				want = -GW_HTTP_E_BARE_LF;
			} else {
				want = -GW_HTTP_E_FIELD_VALUE;
			}
			p = parse_all(GW_HTTP_REQUEST, NULL, in, n, want, &consumed);
			rc = want;
			if (rc == GW_HTTP_DONE) {
				assert_int_equal(p->head.headers[1].value_len, vlen);
				assert_memory_equal(p->head.headers[1].value, v + voff, vlen);
			} else {
				/* The rejected byte is the one planted (or the
				 * byte after a CR). */
				assert_int_equal(consumed, (size_t)(v - in) + k +
						 (b == '\r'));
			}
			gw_http_parser_free(p);
		}
	}
	/* Runs of OWS of every length around a value. */
	for (size_t lead = 0; lead < 20; lead++) {
		for (size_t trail = 0; trail < 20; trail++) {
			struct gw_http_parser *p;
			size_t n, consumed;

			n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: h\r\nX:");
			for (size_t k = 0; k < lead; k++)
				in[n++] = k % 3 ? ' ' : '\t';
			n += (size_t)sprintf(in + n, "a  b\tc");
			for (size_t k = 0; k < trail; k++)
				in[n++] = k % 5 ? ' ' : '\t';
			n += (size_t)sprintf(in + n, "\r\n\r\n");
			p = parse_all(GW_HTTP_REQUEST, NULL, in, n, GW_HTTP_DONE, &consumed);
			assert_int_equal(p->head.headers[1].value_len, 6);
			assert_memory_equal(p->head.headers[1].value, "a  b\tc", 6);
			gw_http_parser_free(p);
		}
	}
}

/* ---- the 16-byte scans ---- */

/*
 * The parser takes names, targets, values and whole field lines 16 bytes
 * at a time where 16 bytes of the chunk are left, and byte by byte
 * elsewhere (short chunks, tails, builds with GW_HTTP_NO_SIMD). Fed byte
 * by byte, a head never meets the wide scans, so every head below must
 * come out of a whole-input run (against the guard page, which also
 * catches a load past the chunk) exactly as out of a byte-by-byte run,
 * and as out of a run cut in two at @p cut when it is not 0.
 */
static void
same_as_bytewise(const char *desc, enum gw_http_kind kind,
		 const struct gw_http_limits *lim, const char *in, size_t len,
		 size_t cut, struct run *whole)
{
	static struct run got;
	struct head_case tc = {
		.name = desc, .kind = kind, .input = in, .len = len, .limits = lim,
	};
	size_t *cuts = calloc(len + 1, sizeof(*cuts));

	assert_non_null(cuts);
	run_case(&tc, NULL, 0, len, whole);
	for (size_t k = 1; k < len; k++)
		cuts[k - 1] = k;
	run_case(&tc, cuts, len ? len - 1 : 0, len, &got);
	assert_same_run(&tc, "byte by byte", 0, whole, &got);
	if (cut > 0 && cut < len) {
		run_case(&tc, &cut, 1, len, &got);
		assert_same_run(&tc, "cut at", cut, whole, &got);
	}
	free(cuts);
}

/* RFC 9110 §5.6.2, written out independently of the parser. */
static bool
ref_tchar(unsigned int b)
{
	return (b < 0x80 && isalnum((int)b)) ||
	       (b != 0 && strchr("!#$%&'*+-.^_`|~", (int)b) != NULL);
}

/* Every byte value at every position of a 40-byte field name. */
static void
test_wide_names(void **state)
{
	static struct run whole;
	char in[160], desc[64];

	(void)state;
	for (unsigned int b = 0; b < 256; b++) {
		for (size_t k = 0; k < 40; k++) {
			size_t n, name_off;
			int want;
			char *name;

			n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: h\r\n");
			name_off = n;
			name = in + n;
			for (size_t j = 0; j < 40; j++)
				name[j] = "Na-m3"[j % 5];
			name[k] = (char)b;
			n += 40;
			n += (size_t)sprintf(in + n, ": v\r\n\r\n");
			snprintf(desc, sizeof(desc), "byte %#x at %zu of a name", b, k);
			same_as_bytewise(desc, GW_HTTP_REQUEST, NULL, in, n, name_off + k,
					 &whole);
			if (ref_tchar(b))
				want = GW_HTTP_DONE;
			else if (b == ':')
				want = k ? GW_HTTP_DONE : -GW_HTTP_E_FIELD_NAME;
			else if (b == ' ' || b == '\t')
				want = k ? -GW_HTTP_E_SPACE_BEFORE_COLON :
				       -GW_HTTP_E_OBS_FOLD;
			else if (b == '\n')
				want = -GW_HTTP_E_BARE_LF;
			else if (b == '\r' && k == 0)
				want = -GW_HTTP_E_BARE_CR; /* taken as the end */
			else
				want = -GW_HTTP_E_FIELD_NAME;
			if (whole.rc != want)
				fail_msg("%s: rc %d, want %d", desc, whole.rc, want);
			if (want == GW_HTTP_DONE) {
				struct gw_http_parser *p;
				size_t consumed;
				size_t nlen = b == ':' ? k : 40;

				p = parse_all(GW_HTTP_REQUEST, NULL, in, n, want,
					      &consumed);
				assert_int_equal(consumed, n);
				assert_int_equal(p->head.headers[1].name_len, nlen);
				assert_memory_equal(p->head.headers[1].name, name, nlen);
				if (b == ':') {
					/* the rest of the name went to the value */
					assert_int_equal(p->head.headers[1].value_len,
							 40 - k - 1 + 3);
					assert_memory_equal(p->head.headers[1].value,
							    name + k + 1, 40 - k - 1);
				} else {
					assert_int_equal(p->head.headers[1].value_len, 1);
				}
				gw_http_parser_free(p);
			} else {
				assert_int_equal(whole.offset, name_off + k +
						 (b == '\r' && k == 0));
			}
		}
	}
}

/* Every byte value at every position of a 40-byte request-target, and
 * targets of every length around max_target, with and without escapes. */
static void
test_wide_targets(void **state)
{
	static const struct gw_http_limits lim40 = { .max_target = 40 };
	static struct run whole;
	char in[160], desc[64];

	(void)state;
	for (unsigned int b = 0; b < 256; b++) {
		for (size_t k = 1; k < 40; k++) {
			size_t n;
			char *t;

			n = (size_t)sprintf(in, "GET ");
			t = in + n;
			t[0] = '/';
			for (size_t j = 1; j < 40; j++)
				t[j] = "ab9/-._~"[j % 8];
			t[k] = (char)b;
			n += 40;
			n += (size_t)sprintf(in + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
			snprintf(desc, sizeof(desc), "byte %#x at %zu of a target", b, k);
			same_as_bytewise(desc, GW_HTTP_REQUEST, NULL, in, n, 4 + k,
					 &whole);
			/* '%' needs two hex digits after it: "%b9" or not */
			if (b >= 0x21 && b <= 0x7e && b != '#' &&
			    (b != '%' || (k < 38 && isxdigit((int)t[k + 1]) &&
					  isxdigit((int)t[k + 2])))) {
				if (whole.rc != GW_HTTP_DONE ||
				    strstr(whole.dump, "target=[") == NULL)
					fail_msg("%s: rc %d", desc, whole.rc);
			} else if (b != ' ' && b != '%') {
				int want = b == '\n' ? -GW_HTTP_E_BARE_LF :
					   b == '\r' ? -GW_HTTP_E_REQUEST_LINE :
					   -GW_HTTP_E_TARGET;

				if (whole.rc != want || whole.offset != 4 + k)
					fail_msg("%s: rc %d at %zu, want %d at %zu", desc,
						 whole.rc, whole.offset, want, 4 + k);
			}
		}
	}
	for (size_t len = 1; len <= 60; len++) {
		for (size_t pct = 0; pct + 3 <= len; pct += 7) {
			struct gw_http_parser *p;
			size_t n, consumed;
			int want = len <= 40 ? GW_HTTP_DONE : -GW_HTTP_E_TARGET_TOO_LONG;

			n = (size_t)sprintf(in, "GET /");
			memset(in + n, 'x', len - 1);
			if (pct > 0)
				memcpy(in + 4 + pct, "%7E", 3);
			n += len - 1;
			n += (size_t)sprintf(in + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
			snprintf(desc, sizeof(desc), "target of %zu, %% at %zu", len, pct);
			same_as_bytewise(desc, GW_HTTP_REQUEST, &lim40, in, n, 4 + len / 2,
					 &whole);
			p = parse_all(GW_HTTP_REQUEST, &lim40, in, n, want, &consumed);
			if (want == GW_HTTP_DONE)
				assert_int_equal(p->head.target.len, len);
			else
				assert_int_equal(consumed, 4 + 40); /* the 41st byte */
			gw_http_parser_free(p);
		}
	}
}

/* xorshift32, so that the heads below are the same on every run. */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Mostly what the wide scans take, sometimes what stops them. */
static char
rand_byte(uint32_t *s, const char *common)
{
	static const char odd[] = " \t\r\n:%#?\"_!|~\x7f\x80\xff\x01";
	uint32_t r = next_rand(s);

	if (r % 16 == 0)
		return odd[(r >> 8) % (sizeof(odd) - 1)];
	return common[(r >> 8) % strlen(common)];
}

/*
 * Pseudo-random heads of well-formed shape with the odd byte planted:
 * names and values of 0 to 40 bytes (the fast line path reads 16), runs
 * of OWS, CRs at the edges of the 16-byte windows, missing LFs.
 */
static void
test_wide_random(void **state)
{
	static const struct gw_http_limits small = { .max_target = 24,
						     .max_headers = 6 };
	static struct run whole;
	uint32_t seed = 0x9e3779b9u;
	char in[1024], desc[64];

	(void)state;
	for (int round = 0; round < 4000; round++) {
		bool request = round % 3 != 0;
		size_t n = 0, fields = next_rand(&seed) % 8;

		if (request) {
			size_t tlen = next_rand(&seed) % 40;

			n += (size_t)sprintf(in, "GET /");
			for (size_t j = 0; j < tlen; j++)
				in[n++] = rand_byte(&seed, "abcdef0123456789/-._~%");
			n += (size_t)sprintf(in + n, " HTTP/1.1\r\nHost: h\r\n");
		} else {
			n += (size_t)sprintf(in, "HTTP/1.1 %u OK\r\n",
					     100 + next_rand(&seed) % 500);
		}
		for (size_t f = 0; f < fields; f++) {
			size_t nlen = next_rand(&seed) % 24, vlen = next_rand(&seed) % 40;
			uint32_t ows = next_rand(&seed);

			for (size_t j = 0; j < nlen; j++)
				in[n++] = rand_byte(&seed, "abcxyzABCXYZ019-");
			in[n++] = ':';
			for (uint32_t j = 0; j < ows % 4; j++)
				in[n++] = (ows >> 4) & (1u << j) ? '\t' : ' ';
			for (size_t j = 0; j < vlen; j++)
				in[n++] = rand_byte(&seed, "abc xyz,;=/019\t");
			if (next_rand(&seed) % 64 != 0)
				in[n++] = '\r';
			in[n++] = '\n';
		}
		n += (size_t)sprintf(in + n, "\r\n%s", next_rand(&seed) % 2 ? "" :
				     "body after the head");
		snprintf(desc, sizeof(desc), "random head %d", round);
		same_as_bytewise(desc, request ? GW_HTTP_REQUEST : GW_HTTP_RESPONSE,
				 round % 5 == 0 ? &small : NULL, in, n,
				 1 + next_rand(&seed) % n, &whole);
	}
}

/* ---- chunked decoder ---- */

struct chunk_case {
	const char *name;
	const char *input;
	int rc;               /* 0: body complete; GW_HTTP_AGAIN; or -code */
	const char *payload;  /* concatenated chunk data */
	size_t consumed;      /* complete: 0 means the whole input */
};

#define CHUNK_OK(desc, in, pl, ...) { .name = desc, .input = in, .rc = 0, \
	.payload = pl, __VA_ARGS__ }
#define CHUNK_BAD(desc, in, e) { .name = desc, .input = in, \
	.rc = -GW_HTTP_E_##e }

static const struct chunk_case chunk_cases[] = {
	CHUNK_OK("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("three chunks", "3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n",
		 "abcdef"),
	CHUNK_OK("hex sizes, both cases", "A\r\n0123456789\r\nb\r\nabcdefghijk\r\n"
		 "0\r\n\r\n", "0123456789abcdefghijk"),
	CHUNK_OK("empty body", "0\r\n\r\n", ""),
	CHUNK_OK("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
	CHUNK_OK("16 digits", "0000000000000003\r\nabc\r\n0\r\n\r\n", "abc"),
	CHUNK_OK("extensions", "5;name=val;flag\r\nhello\r\n0;last\r\n\r\n",
		 "hello"),
	CHUNK_OK("quoted extension value", "5; a = \"x, \\\"y\" ; b\r\nhello\r\n"
		 "0\r\n\r\n", "hello"),
	CHUNK_OK("BWS before ';'", "5 \t;a\r\nhello\r\n0\r\n\r\n", "hello"),
	CHUNK_OK("trailers", "2\r\nhi\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n", "hi"),
	CHUNK_OK("CRLF in data is data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
	CHUNK_OK("the next message follows", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1",
		 "x", .consumed = 11),
	{ .name = "largest size, data pending", .input = "7fffffffffffffff\r\nab",
	  .rc = GW_HTTP_AGAIN, .payload = "ab" },
	{ .name = "cut inside data", .input = "5\r\nhel", .rc = GW_HTTP_AGAIN,
	  .payload = "hel" },
	CHUNK_BAD("empty size", "\r\n", CHUNK_SIZE),
	CHUNK_BAD("empty size before an extension", ";a\r\n", CHUNK_SIZE),
	CHUNK_BAD("non-hex size", "g\r\n", CHUNK_SIZE),
	CHUNK_BAD("signed size", "+5\r\nhello\r\n", CHUNK_SIZE),
	CHUNK_BAD("negative size", "-5\r\nhello\r\n", CHUNK_SIZE),
	CHUNK_BAD("0x prefix", "0x5\r\nhello\r\n", CHUNK_SIZE),
	CHUNK_BAD("size 2^63", "8000000000000000\r\n", CHUNK_SIZE),
	CHUNK_BAD("size 2^64 + 5 (wraps to 5)", "10000000000000005\r\nhello\r\n",
		  CHUNK_SIZE),
	CHUNK_BAD("17 digits", "00000000000000001\r\nx\r\n", CHUNK_SIZE),
	CHUNK_BAD("space then CRLF", "5 \r\nhello\r\n", CHUNK_SIZE),
	CHUNK_BAD("junk after size", "5x\r\nhello\r\n", CHUNK_SIZE),
	CHUNK_BAD("bare LF after size", "5\nhello\r\n0\r\n\r\n", BARE_LF),
	CHUNK_BAD("bare CR after size", "5\rhello\r\n", BARE_CR),
	CHUNK_BAD("data longer than the size", "5\r\nhelloX\r\n", CHUNK_CRLF),
	CHUNK_BAD("LF only after data", "5\r\nhello\n0\r\n\r\n", CHUNK_CRLF),
	CHUNK_BAD("CR only after data", "5\r\nhello\r0\r\n\r\n", CHUNK_CRLF),
	CHUNK_BAD("empty extension name", "5;\r\nhello\r\n", CHUNK_EXT),
	CHUNK_BAD("empty extension value", "5;a=\r\nhello\r\n", CHUNK_EXT),
	CHUNK_BAD("CTL in an extension", "5;a\x01\r\nhello\r\n", CHUNK_EXT),
	CHUNK_BAD("bare LF in an extension", "5;a\nhello\r\n", BARE_LF),
	CHUNK_BAD("CR inside a quoted value", "5;a=\"b\rc\"\r\nhello\r\n", CHUNK_EXT),
	CHUNK_BAD("unterminated quoted value", "5;a=\"x\r\nhello\r\n", CHUNK_EXT),
	CHUNK_BAD("space after an extension then CRLF", "5;a \r\nhello\r\n",
		  CHUNK_EXT),
	CHUNK_BAD("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", TRAILER),
	CHUNK_BAD("trailer without colon", "0\r\nX\r\n\r\n", TRAILER),
	CHUNK_BAD("trailer space before colon", "0\r\nX : a\r\n\r\n", TRAILER),
	CHUNK_BAD("trailer CTL", "0\r\nX: \x7f\r\n\r\n", TRAILER),
	CHUNK_BAD("trailer bare LF", "0\r\nX: a\n\r\n", BARE_LF),
	CHUNK_BAD("bare LF ending the body", "0\r\n\n", BARE_LF),
	CHUNK_BAD("bare CR ending the body", "0\r\n\rX", BARE_CR),
};

#define N_CHUNK_CASES (sizeof(chunk_cases) / sizeof(chunk_cases[0]))

struct chunk_run {
	int rc;               /* 0 complete, AGAIN, or -code */
	size_t offset;        /* consumed in total */
	size_t payload_len;
	char payload[256];
};

/*
 * Feed input cut at @p cuts, every piece against the guard page, with at
 * most @p max_spans spans per call (0: no spans asked for). Spans are
 * copied out before the next piece overwrites the region.
 */
static void
chunk_run(const struct chunk_case *tc, const size_t *cuts, size_t n_cuts,
	  unsigned int max_spans, struct chunk_run *r)
{
	size_t len = strlen(tc->input), start = 0, prev = 0;
	struct gw_http_chunked c;
	struct gw_http_span spans[8];

	gw_http_chunked_init(&c);
	memset(r, 0, sizeof(*r));
	r->rc = GW_HTTP_AGAIN;
	for (size_t k = 0; k <= n_cuts && r->rc == GW_HTTP_AGAIN; k++) {
		size_t stop = k < n_cuts ? cuts[k] : len, off = 0;
		uint8_t *piece;

		guard_scribble(prev);
		piece = guard_place(tc->input + start, stop - start);
		prev = stop - start;
		while (off < stop - start || max_spans) {
			size_t consumed = SIZE_MAX;
			int n = gw_http_chunked_feed(&c, piece + off, stop - start - off,
						     max_spans ? spans : NULL,
						     max_spans, &consumed);

			assert_true(consumed <= stop - start - off);
			if (n < 0) {
				r->rc = n;
				r->offset = start + off + consumed;
				assert_int_equal(c.err, n);
				break;
			}
			assert_true((unsigned int)n <= max_spans);
			for (int s = 0; s < n; s++) {
				assert_true(spans[s].off + spans[s].len <= consumed);
				assert_true(spans[s].len > 0);
				assert_true(r->payload_len + spans[s].len <=
					    sizeof(r->payload));
				memcpy(r->payload + r->payload_len,
				       piece + off + spans[s].off, spans[s].len);
				r->payload_len += spans[s].len;
			}
			off += consumed;
			if (gw_http_chunked_done(&c)) {
				r->rc = 0;
				r->offset = start + off;
				break;
			}
			if (off == stop - start)
				break;
			/* Stopping early is only for lack of spans. */
			assert_int_equal((unsigned int)n, max_spans);
		}
		start = stop;
	}
	if (r->rc == GW_HTTP_AGAIN)
		r->offset = len;
	if (r->rc >= 0) {
		assert_int_equal(c.payload_bytes + c.framing_bytes, r->offset);
		if (max_spans)
			assert_int_equal(c.payload_bytes, r->payload_len);
	}
}

static void
assert_same_chunk_run(const struct chunk_case *tc, const char *mode, size_t at,
		      const struct chunk_run *want, const struct chunk_run *got)
{
	/* Spans of a call that fails are not returned, so after an error
	 * the payload seen depends on the cuts (the connection closes). */
	bool ok = want->rc < 0 ||
		  (got->payload_len == want->payload_len &&
		   memcmp(got->payload, want->payload, got->payload_len) == 0);

	if (got->rc != want->rc || got->offset != want->offset || !ok)
		fail_msg("chunked case \"%s\" %s %zu: rc %d offset %zu payload %zu;"
			 " expected rc %d offset %zu payload %zu", tc->name, mode, at,
			 got->rc, got->offset, got->payload_len, want->rc,
			 want->offset, want->payload_len);
}

static void
test_chunked_cases(void **state)
{
	static struct chunk_run whole, got;

	(void)state;
	for (size_t i = 0; i < N_CHUNK_CASES; i++) {
		const struct chunk_case *tc = &chunk_cases[i];
		size_t len = strlen(tc->input);
		size_t cuts[256];

		chunk_run(tc, NULL, 0, 8, &whole);
		if (whole.rc != tc->rc)
			fail_msg("chunked case \"%s\": rc %d (%s), expected %d",
				 tc->name, whole.rc, gw_http_strerror(whole.rc), tc->rc);
		if (tc->rc >= 0 && tc->payload != NULL &&
		    (whole.payload_len != strlen(tc->payload) ||
		     memcmp(whole.payload, tc->payload, whole.payload_len) != 0))
			fail_msg("chunked case \"%s\": payload [%.*s]", tc->name,
				 (int)whole.payload_len, whole.payload);
		if (tc->rc == 0)
			assert_int_equal(whole.offset, tc->consumed ? tc->consumed : len);

		/* one span per call, and no spans at all */
		chunk_run(tc, NULL, 0, 1, &got);
		assert_same_chunk_run(tc, "one span per call", 0, &whole, &got);
		chunk_run(tc, NULL, 0, 0, &got);
		got.payload_len = whole.payload_len;
		memcpy(got.payload, whole.payload, whole.payload_len);
		assert_same_chunk_run(tc, "no spans", 0, &whole, &got);

		/* byte by byte */
		assert_true(len <= ARRAY_SIZE(cuts));
		for (size_t k = 1; k < len; k++)
			cuts[k - 1] = k;
		chunk_run(tc, cuts, len - 1, 8, &got);
		assert_same_chunk_run(tc, "byte by byte", 0, &whole, &got);
		chunk_run(tc, cuts, len - 1, 1, &got);
		assert_same_chunk_run(tc, "byte by byte, one span", 0, &whole, &got);

		/* two pieces, cut at every position */
		for (size_t k = 1; k < len; k++) {
			chunk_run(tc, &k, 1, 8, &got);
			assert_same_chunk_run(tc, "cut at", k, &whole, &got);
		}
		/* every prefix: more needed, or the same error */
		for (size_t n = 0; n < len; n++) {
			struct chunk_case pre = *tc;
			char buf[256];

			memcpy(buf, tc->input, n);
			buf[n] = '\0';
			pre.input = buf;
			chunk_run(&pre, NULL, 0, 8, &got);
			if (got.rc == GW_HTTP_AGAIN)
				continue;
			if (whole.rc < 0 || n >= whole.offset)
				assert_int_equal(got.rc, whole.rc);
			else
				fail_msg("chunked case \"%s\": prefix %zu gives %d",
					 tc->name, n, got.rc);
		}
	}
}

static void
test_chunked_limits(void **state)
{
	static char in[4096];
	struct gw_http_chunked c;
	size_t n, consumed;
	uint8_t *piece;

	(void)state;
	/* Extension bytes: GW_HTTP_CHUNK_LINE_MAX pass, one more fails. */
	for (int over = 0; over <= 1; over++) {
		size_t ext = GW_HTTP_CHUNK_LINE_MAX + (size_t)over;

		in[0] = '1';
		in[1] = ';';
		memset(in + 2, 'e', ext - 2);
		n = 1 + ext - 1;
		memcpy(in + n, "\r\nx\r\n0\r\n\r\n", 10);
		n += 10;
		gw_http_chunked_init(&c);
		piece = guard_place(in, n);
		/* ext counts ';' and the CR: ext - 1 name bytes + CR == ext */
		if (over)
			assert_int_equal(gw_http_chunked_feed(&c, piece, n, NULL, 0,
							      &consumed),
					 -GW_HTTP_E_CHUNK_EXT);
		else
			assert_int_equal(gw_http_chunked_feed(&c, piece, n, NULL, 0,
							      &consumed), 0);
		assert_int_equal(gw_http_chunked_done(&c), !over);
	}
	/* Trailer section: max_trailer bytes pass, one more fails. */
	for (int over = 0; over <= 1; over++) {
		gw_http_chunked_init(&c);
		c.max_trailer = 15;
		/* "X: 12345678\r\n" is 13 bytes, the final CRLF 2 more */
		n = (size_t)sprintf(in, "0\r\nX: 12345678%s\r\n\r\n", over ? "9" : "");
		piece = guard_place(in, n);
		assert_int_equal(gw_http_chunked_feed(&c, piece, n, NULL, 0, &consumed),
				 over ? -GW_HTTP_E_TRAILER_TOO_LARGE : 0);
		assert_int_equal(gw_http_chunked_done(&c), !over);
	}
	/* Errors stick. */
	gw_http_chunked_init(&c);
	piece = guard_place("z", 1);
	assert_int_equal(gw_http_chunked_feed(&c, piece, 1, NULL, 0, &consumed),
			 -GW_HTTP_E_CHUNK_SIZE);
	assert_int_equal(consumed, 0);
	piece = guard_place("0\r\n\r\n", 5);
	assert_int_equal(gw_http_chunked_feed(&c, piece, 5, NULL, 0, &consumed),
			 -GW_HTTP_E_CHUNK_SIZE);
	assert_false(gw_http_chunked_done(&c));
	/* After the end, nothing more is taken. */
	gw_http_chunked_init(&c);
	assert_int_equal(gw_http_chunked_feed(&c, piece, 5, NULL, 0, &consumed), 0);
	assert_true(gw_http_chunked_done(&c));
	assert_int_equal(gw_http_chunked_feed(&c, piece, 5, NULL, 0, &consumed), 0);
	assert_int_equal(consumed, 0);
	assert_int_equal(c.framing_bytes, 5);
	assert_int_equal(c.payload_bytes, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_cases),
		cmocka_unit_test(test_head_splits),
		cmocka_unit_test(test_head_prefixes),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_continue_then_final),
		cmocka_unit_test(test_default_limits),
		cmocka_unit_test(test_split_copy),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_field_ids),
		cmocka_unit_test(test_value_bytes),
		cmocka_unit_test(test_wide_names),
		cmocka_unit_test(test_wide_targets),
		cmocka_unit_test(test_wide_random),
		cmocka_unit_test(test_chunked_cases),
		cmocka_unit_test(test_chunked_limits),
	};

	fprintf(stderr, "http: %zu head cases, %zu chunked cases\n",
		N_HEAD_CASES, N_CHUNK_CASES);
	return cmocka_run_group_tests_name("http", tests, guard_setup,
					   guard_teardown);
}
