/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The meaning pass over a complete head: Content-Length, Transfer-Encoding,
 * Host, Connection, Expect, Upgrade, the request-target form, and from them
 * the body framing of RFC 9112 §6.3. It runs on one contiguous copy of the
 * head, after the syntax pass has accepted every byte, so it can use plain
 * string scans. Also the small public helpers on names and lists.
 */
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"
#include "http_private.h"

/* ---- methods and names ---- */

static const struct {
	const char *name;
	uint32_t len;
} methods[GW_HTTP_METHOD_MAX] = {
	[GW_HTTP_METHOD_OTHER] = { "", 0 },
	[GW_HTTP_METHOD_GET] = { "GET", 3 },
	[GW_HTTP_METHOD_HEAD] = { "HEAD", 4 },
	[GW_HTTP_METHOD_POST] = { "POST", 4 },
	[GW_HTTP_METHOD_PUT] = { "PUT", 3 },
	[GW_HTTP_METHOD_DELETE] = { "DELETE", 6 },
	[GW_HTTP_METHOD_CONNECT] = { "CONNECT", 7 },
	[GW_HTTP_METHOD_OPTIONS] = { "OPTIONS", 7 },
	[GW_HTTP_METHOD_TRACE] = { "TRACE", 5 },
	[GW_HTTP_METHOD_PATCH] = { "PATCH", 5 },
};

const char *
gw_http_method_name(enum gw_http_method m)
{
	if ((unsigned int)m >= GW_HTTP_METHOD_MAX)
		return "";
	return methods[m].name;
}

/* Methods are case-sensitive (RFC 9110 §9.1): "get" is another method. */
static enum gw_http_method
method_lookup(const char *name, uint32_t len)
{
	for (unsigned int m = GW_HTTP_METHOD_GET; m < GW_HTTP_METHOD_MAX; m++)
		if (methods[m].len == len && memcmp(methods[m].name, name, len) == 0)
			return (enum gw_http_method)m;
	return GW_HTTP_METHOD_OTHER;
}

bool
gw_http_name_eq(const char *a, size_t a_len, const char *b, size_t b_len)
{
	if (a_len != b_len)
		return false;
	for (size_t i = 0; i < a_len; i++)
		if (a[i] != b[i] &&
		    http_lower((uint8_t)a[i]) != http_lower((uint8_t)b[i]))
			return false;
	return true;
}

_Static_assert(GW_HTTP_F_MAX <= 32, "head->fields_seen has a bit per id");

/*
 * @p n bytes at @p s equal the lowercase literal @p lit (letters and '-'),
 * case-insensitively, compared 8 bytes at a time: 0x20 is ORed in only
 * where the literal has a letter (the bytes with 0x40 set), so the test
 * is exact for any input byte. Inlined with constant @p n and @p lit, the
 * loads of the literal fold into constants.
 */
static inline __attribute__((always_inline)) bool
lit_eq(const char *s, const char *lit, size_t n)
{
	for (size_t k = 0; k < n; k += 8) {
		size_t m = n - k < 8 ? n - k : 8;
		uint64_t a = 0, b = 0;

		memcpy(&a, s + k, m);
		memcpy(&b, lit + k, m);
		if ((a | ((b & 0x4040404040404040ull) >> 1)) != b)
			return false;
	}
	return true;
}

/* Length first: most names then cost one switch, the rest one compare.
 * Inlined into the parser's pass over the fields. */
static inline __attribute__((always_inline)) enum gw_http_field
field_classify(const char *s, size_t len)
{
#define IS(lit, id) \
	do { \
		if (lit_eq(s, lit, sizeof(lit) - 1)) \
			return GW_HTTP_F_##id; \
	} while (0)

	switch (len) {
	case 2:
		IS("te", TE);
		break;
	case 4:
		IS("host", HOST);
		break;
	case 6:
		IS("expect", EXPECT);
		IS("origin", ORIGIN);
		break;
	case 7:
		IS("upgrade", UPGRADE);
		break;
	case 10:
		IS("connection", CONNECTION);
		IS("user-agent", USER_AGENT);
		IS("keep-alive", KEEP_ALIVE);
		break;
	case 12:
		IS("x-request-id", X_REQUEST_ID);
		break;
	case 14:
		IS("content-length", CONTENT_LENGTH);
		break;
	case 15:
		IS("x-forwarded-for", X_FORWARDED_FOR);
		break;
	case 16:
		IS("proxy-connection", PROXY_CONNECTION);
		break;
	case 17:
		IS("transfer-encoding", TRANSFER_ENCODING);
		IS("x-forwarded-proto", X_FORWARDED_PROTO);
		break;
	case 29:
		IS("x-envoy-upstream-service-time", X_ENVOY_UPSTREAM_SERVICE_TIME);
		IS("access-control-request-method", ACCESS_CONTROL_REQUEST_METHOD);
		break;
	default:
		break;
	}
	return GW_HTTP_F_OTHER;
#undef IS
}

enum gw_http_field
gw_http_field_id(const char *name, size_t len)
{
	return field_classify(name, len);
}

/* The lookup from the first field line without an id on: names are
 * compared there. Out of line so that the loop over ids saves no
 * registers (a tail call). */
static __attribute__((noinline)) int
find_id_names(const struct gw_http_head *h, enum gw_http_field id, uint32_t i)
{
	for (; i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];

		if (f->id == (uint32_t)id ||
		    (f->id == GW_HTTP_F_UNCLASSIFIED &&
		     gw_http_field_id(f->name, f->name_len) == id))
			return (int)i;
	}
	return -1;
}

int
gw_http_header_find_id(const struct gw_http_head *h, enum gw_http_field id,
		       uint32_t from)
{
	const struct gw_http_header *f;
	uint32_t n = h->n_headers;

	if (id <= GW_HTTP_F_OTHER || id >= GW_HTTP_F_MAX)
		return -1;
	/* The parser recorded which ids the head has: absent costs nothing. */
	if (h->fields_seen != 0 && !(h->fields_seen & (1u << id)))
		return -1;
	f = h->headers;
	for (uint32_t i = from; i < n; i++) {
		if (f[i].id == (uint32_t)id)
			return (int)i;
		if (f[i].id == GW_HTTP_F_UNCLASSIFIED)
			return find_id_names(h, id, i);
	}
	return -1;
}

int
gw_http_header_find(const struct gw_http_head *h, const char *name,
		    uint32_t from)
{
	size_t len = strlen(name);
	enum gw_http_field id = gw_http_field_id(name, len);

	if (id != GW_HTTP_F_OTHER)
		return gw_http_header_find_id(h, id, from);
	for (uint32_t i = from; i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];

		/* a field with a known name is not this one */
		if (f->id > GW_HTTP_F_OTHER || f->name_len != len)
			continue;
		if (gw_http_name_eq(f->name, f->name_len, name, len))
			return (int)i;
	}
	return -1;
}

/*
 * Next element of a comma-separated list (RFC 9110 §5.6.1) starting at
 * *pos, trimmed of OWS; empty elements are skipped. Commas inside a
 * quoted-string do not split. Returns false at the end of the list, and
 * sets *bad on an unterminated quoted-string.
 */
static bool
list_next(const char *v, size_t n, size_t *pos, struct gw_http_str *elem,
	  bool *bad)
{
	size_t i = *pos, start, last;
	bool quoted = false;

	while (i < n && (v[i] == ',' || http_is((uint8_t)v[i], HC_WS)))
		i++;
	*pos = i;
	if (i == n)
		return false;
	start = last = i;
	for (; i < n; i++) {
		if (quoted) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			else if (v[i] == '"')
				quoted = false;
			last = i;
			continue;
		}
		if (v[i] == ',')
			break;
		if (v[i] == '"')
			quoted = true;
		if (!http_is((uint8_t)v[i], HC_WS))
			last = i;
	}
	if (quoted)
		*bad = true;
	*pos = i;
	elem->ptr = v + start;
	elem->len = (uint32_t)(last + 1 - start);
	return true;
}

/* gw_http_list_has() for a token of known length, by list_next(). */
static bool
list_has_quoted(const char *value, size_t len, const char *token, size_t tlen)
{
	size_t pos = 0;
	struct gw_http_str e;
	bool bad = false;

	while (list_next(value, len, &pos, &e, &bad))
		if (gw_http_name_eq(e.ptr, e.len, token, tlen))
			return true;
	return false;
}

/*
 * The same in one pass over a list without quoted-strings (a Connection
 * value is one token or a few): the elements are then plain runs between
 * commas. At the first '"' the list_next() walk starts over; an element
 * before it that matched would have matched there too.
 */
static bool
list_has_n(const char *v, size_t n, const char *token, size_t tlen)
{
	size_t i = 0, start, last;

	for (;;) {
		while (i < n && (v[i] == ',' || http_is((uint8_t)v[i], HC_WS)))
			i++;
		if (i == n)
			return false;
		start = last = i;
		for (; i < n && v[i] != ','; i++) {
			if (v[i] == '"')
				return list_has_quoted(v, n, token, tlen);
			if (!http_is((uint8_t)v[i], HC_WS))
				last = i;
		}
		if (last + 1 - start == tlen &&
		    gw_http_name_eq(v + start, tlen, token, tlen))
			return true;
	}
}

bool
gw_http_list_has(const char *value, size_t len, const char *token)
{
	return list_has_n(value, len, token, strlen(token));
}

/*
 * list_has_n() for a lowercase literal @p lit (letters, digits, '-'): a
 * value shorter than the token has no such element, and the usual value
 * is the token alone (the parser trimmed it), one lit_eq() then.
 */
static inline __attribute__((always_inline)) bool
list_has_lit(const char *v, size_t n, const char *lit, size_t tlen)
{
	if (n < tlen)
		return false;
	if (n == tlen && lit_eq(v, lit, tlen))
		return true;
	return list_has_n(v, n, lit, tlen);
}

/* ---- the meaning pass ---- */

/* Content-Length = 1*DIGIT, possibly a list of identical values
 * (RFC 9110 §8.6); at most 2^63-1. Returns 0 or -code. */
static int
content_length_parse(const char *v, uint32_t n, struct gw_http_head *h)
{
	size_t pos = 0;
	struct gw_http_str e;
	bool bad = false, any = false;

	/* The usual value, 1 to 18 digits alone, cannot overflow: no list. */
	if (n - 1 < 18) {
		uint64_t x = 0;
		uint32_t k;

		for (k = 0; k < n && http_is((uint8_t)v[k], HC_DIGIT); k++)
			x = x * 10 + (uint64_t)(v[k] - '0');
		if (k == n) {
			if (h->has_content_length && h->content_length != x)
				return -GW_HTTP_E_CONTENT_LENGTH_CONFLICT;
			h->content_length = x;
			h->has_content_length = true;
			return 0;
		}
	}

	while (list_next(v, n, &pos, &e, &bad)) {
		uint64_t x = 0;

		for (uint32_t k = 0; k < e.len; k++) {
			uint8_t c = (uint8_t)e.ptr[k];

			if (!http_is(c, HC_DIGIT) ||
			    x > (uint64_t)(INT64_MAX - (c - '0')) / 10)
				return -GW_HTTP_E_CONTENT_LENGTH;
			x = x * 10 + (uint64_t)(c - '0');
		}
		if (h->has_content_length && h->content_length != x)
			return -GW_HTTP_E_CONTENT_LENGTH_CONFLICT;
		h->content_length = x;
		h->has_content_length = true;
		any = true;
	}
	/* An empty value is no length at all. */
	if (!any || bad)
		return -GW_HTTP_E_CONTENT_LENGTH;
	return 0;
}

struct te_state {
	uint32_t codings;
	uint32_t chunked;
	bool last_chunked;
	bool other;
	bool seen;
};

/* One Transfer-Encoding field: transfer-coding *( OWS ";" OWS param ),
 * comma-separated. Returns 0 or -code. */
static int
transfer_encoding_parse(const char *v, uint32_t n, struct te_state *te)
{
	size_t pos = 0;
	struct gw_http_str e;
	bool bad = false;

	te->seen = true;
	while (list_next(v, n, &pos, &e, &bad)) {
		uint32_t k = 0;

		while (k < e.len && http_is((uint8_t)e.ptr[k], HC_TCHAR))
			k++;
		if (k == 0)
			return -GW_HTTP_E_TRANSFER_ENCODING;
		if (k < e.len) {
			uint32_t r = k;

			while (r < e.len && http_is((uint8_t)e.ptr[r], HC_WS))
				r++;
			if (r == e.len || e.ptr[r] != ';')
				return -GW_HTTP_E_TRANSFER_ENCODING;
		}
		te->codings++;
		te->last_chunked = gw_http_name_eq(e.ptr, k, "chunked", 7);
		if (te->last_chunked) {
			/* chunked takes no parameters (RFC 9112 §7) */
			if (k < e.len)
				return -GW_HTTP_E_TRANSFER_ENCODING;
			te->chunked++;
		} else {
			te->other = true;
		}
	}
	if (bad)
		return -GW_HTTP_E_TRANSFER_ENCODING;
	return 0;
}

/* Host = uri-host [ ":" port ] (RFC 9110 §7.2); the same syntax is the
 * authority of an absolute-form target (without userinfo) and the
 * authority-form of CONNECT (port required). */
static bool
authority_valid(const char *s, uint32_t n, bool allow_empty, bool need_port)
{
	uint32_t i = 0, port = 0, digits;

	if (n == 0)
		return allow_empty;
	if (s[0] == '[') {
		/* IP-literal: IPv6 or IPvFuture, loosely */
		for (i = 1; i < n && s[i] != ']'; i++)
			if (!http_is((uint8_t)s[i], HC_HOST | HC_HEX) && s[i] != ':')
				return false;
		if (i == n || i == 1)
			return false;
		i++;
	} else {
		/* Runs of reg-name bytes (neither ':' nor '%' is one), with
		 * %-escapes between them. */
		for (;;) {
			const uint8_t *q = (const uint8_t *)s + i;
			const uint8_t *e = (const uint8_t *)s + n;

			while (q < e && http_is(*q, HC_HOST))
				q++;
			i = (uint32_t)(q - (const uint8_t *)s);
			if (i == n || s[i] != '%')
				break;
			if (n - i < 3 || !http_is((uint8_t)s[i + 1], HC_HEX) ||
			    !http_is((uint8_t)s[i + 2], HC_HEX))
				return false;
			i += 3;
		}
		if (i == 0)
			return false; /* empty host */
		/* '@' (userinfo) and everything else odd ends below */
	}
	if (i == n)
		return !need_port;
	if (s[i] != ':')
		return false;
	for (digits = 0, i++; i < n; i++, digits++) {
		if (!http_is((uint8_t)s[i], HC_DIGIT) || digits == 5)
			return false;
		port = port * 10 + (uint32_t)(s[i] - '0');
	}
	if (port > 65535)
		return false;
	return digits > 0 || !need_port;
}

static void
path_split(struct gw_http_head *h, const char *s, uint32_t n)
{
	const char *q = memchr(s, '?', n);

	if (q == NULL) {
		h->path = (struct gw_http_str){ s, n };
		return;
	}
	h->path = (struct gw_http_str){ s, (uint32_t)(q - s) };
	h->query = (struct gw_http_str){ q + 1, (uint32_t)(n - (q + 1 - s)) };
}

/* The four forms of RFC 9112 §3.2, each allowed only where it belongs. */
static int
target_parse(struct gw_http_head *h)
{
	static const char slash[] = "/";
	const char *t = h->target.ptr;
	uint32_t n = h->target.len, i, a;

	if (h->method == GW_HTTP_METHOD_CONNECT) {
		if (!authority_valid(t, n, false, true))
			return -GW_HTTP_E_TARGET;
		h->target_form = GW_HTTP_TARGET_AUTHORITY;
		h->authority = h->target;
		return 0;
	}
	if (t[0] == '/') {
		h->target_form = GW_HTTP_TARGET_ORIGIN;
		path_split(h, t, n);
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (h->method != GW_HTTP_METHOD_OPTIONS)
			return -GW_HTTP_E_TARGET;
		h->target_form = GW_HTTP_TARGET_ASTERISK;
		h->path = h->target;
		return 0;
	}
	/* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
	for (i = 0; i < n && http_is((uint8_t)t[i], HC_SCHEME); i++)
		;
	if (i == 0 || n - i < 3 || memcmp(t + i, "://", 3) != 0)
		return -GW_HTTP_E_TARGET;
	if (!gw_http_name_eq(t, i, "http", 4) && !gw_http_name_eq(t, i, "https", 5))
		return -GW_HTTP_E_TARGET;
	h->scheme = (struct gw_http_str){ t, i };
	for (a = i + 3, i = a; i < n && t[i] != '/' && t[i] != '?'; i++)
		;
	if (!authority_valid(t + a, i - a, false, false))
		return -GW_HTTP_E_TARGET;
	h->target_form = GW_HTTP_TARGET_ABSOLUTE;
	h->authority = (struct gw_http_str){ t + a, i - a };
	path_split(h, t + i, n - i);
	if (h->path.len == 0)
		h->path = (struct gw_http_str){ slash, 1 };
	return 0;
}

/* Fields that decide framing and routing; runs on a contiguous head.
 * Each field line gets its id here, once for every later lookup.
 * Inlined into its one caller: one prologue per head. */
static inline __attribute__((always_inline)) int
fields_process(struct gw_http_parser *p, struct te_state *te)
{
	struct gw_http_head *h = &p->head;
	uint32_t hosts = 0, seen = 0;
	int rc;

	/* Locals: the stores of f->id could alias the head's members. */
	struct gw_http_header *f = h->headers, *f_end = f + h->n_headers;

	for (; f < f_end; f++) {
		enum gw_http_field id = field_classify(f->name, f->name_len);

		f->id = id;
		seen |= 1u << id;
		switch (id) {
		case GW_HTTP_F_HOST:
			if (p->kind != GW_HTTP_REQUEST)
				break;
			if (++hosts > 1)
				return -GW_HTTP_E_MULTIPLE_HOST;
			if (!authority_valid(f->value, f->value_len, true, false))
				return -GW_HTTP_E_HOST;
			h->host = (struct gw_http_str){ f->value, f->value_len };
			break;
		case GW_HTTP_F_EXPECT:
			if (list_has_lit(f->value, f->value_len, "100-continue", 12))
				h->expect_continue = true;
			break;
		case GW_HTTP_F_UPGRADE:
			if (h->upgrade.ptr == NULL)
				h->upgrade = (struct gw_http_str){ f->value, f->value_len };
			break;
		case GW_HTTP_F_CONNECTION:
			if (list_has_lit(f->value, f->value_len, "close", 5))
				h->conn_close = true;
			if (list_has_lit(f->value, f->value_len, "keep-alive", 10))
				h->conn_keep_alive = true;
			break;
		case GW_HTTP_F_CONTENT_LENGTH:
			rc = content_length_parse(f->value, f->value_len, h);
			if (rc < 0)
				return rc;
			break;
		case GW_HTTP_F_TRANSFER_ENCODING:
			rc = transfer_encoding_parse(f->value, f->value_len, te);
			if (rc < 0)
				return rc;
			break;
		default:
			break;
		}
	}
	h->fields_seen = seen;
	return 0;
}

/* Upgrade counts only when Connection names it, and never in HTTP/1.0
 * (RFC 9110 §7.8). */
static bool
connection_upgrade(const struct gw_http_head *h)
{
	for (int k = gw_http_header_find_id(h, GW_HTTP_F_CONNECTION, 0); k >= 0;
	     k = gw_http_header_find_id(h, GW_HTTP_F_CONNECTION, (uint32_t)k + 1))
		if (list_has_lit(h->headers[k].value, h->headers[k].value_len,
				 "upgrade", 7))
			return true;
	return false;
}

/* RFC 9112 §6.3 for a request. */
static int
request_finish(struct gw_http_parser *p, const struct te_state *te)
{
	struct gw_http_head *h = &p->head;
	int rc;

	rc = target_parse(h);
	if (rc < 0)
		return rc;
	if (h->version_minor >= 1 && h->host.ptr == NULL)
		return -GW_HTTP_E_NO_HOST;
	if (h->authority.ptr == NULL)
		h->authority = h->host;
	if (h->method == GW_HTTP_METHOD_CONNECT && (te->seen || h->has_content_length))
		return -GW_HTTP_E_CONNECT_BODY;
	if (te->seen) {
		if (h->has_content_length)
			return -GW_HTTP_E_CL_AND_TE;
		if (h->version_minor == 0)
			return -GW_HTTP_E_TE_HTTP10;
		/* We forward bodies as they are, so only chunked is framing we
		 * can trust; anything else is 501 (RFC 9112 §6.1). */
		if (te->other)
			return -GW_HTTP_E_TE_UNSUPPORTED;
		if (te->chunked != 1 || !te->last_chunked)
			return -GW_HTTP_E_TRANSFER_ENCODING;
		h->chunked = true;
		h->body = GW_HTTP_BODY_CHUNKED;
	} else if (h->has_content_length && h->content_length > 0) {
		h->body = GW_HTTP_BODY_LENGTH;
	}
	if (h->version_minor == 0) {
		/* RFC 9110 §10.1.1: ignore 100-continue from HTTP/1.0 */
		h->expect_continue = false;
		h->upgrade = (struct gw_http_str){ NULL, 0 };
		h->keep_alive = h->conn_keep_alive && !h->conn_close;
	} else {
		if (h->upgrade.ptr != NULL && !connection_upgrade(h))
			h->upgrade = (struct gw_http_str){ NULL, 0 };
		h->keep_alive = !h->conn_close;
	}
	return 0;
}

/* RFC 9112 §6.3 for a response to p->request_method. */
static int
response_finish(struct gw_http_parser *p, const struct te_state *te)
{
	struct gw_http_head *h = &p->head;
	uint16_t st = h->status;

	h->expect_continue = false;
	if (te->seen) {
		/* A backend is no more trusted than a client here. */
		if (h->has_content_length)
			return -GW_HTTP_E_CL_AND_TE;
		if (h->version_minor == 0)
			return -GW_HTTP_E_TE_HTTP10;
		if (te->chunked > 1 || te->codings == 0)
			return -GW_HTTP_E_TRANSFER_ENCODING;
		h->chunked = te->last_chunked;
	}
	if (st == 101) {
		h->body = GW_HTTP_BODY_TUNNEL;
	} else if (st < 200) {
		h->informational = true;
	} else if (p->request_method == GW_HTTP_METHOD_CONNECT && st < 300) {
		h->body = GW_HTTP_BODY_TUNNEL;
	} else if (p->request_method == GW_HTTP_METHOD_HEAD ||
		   st == 204 || st == 304) {
		h->body = GW_HTTP_BODY_NONE;
	} else if (te->seen) {
		/* chunked not last: the body ends when the backend closes */
		h->body = te->last_chunked ? GW_HTTP_BODY_CHUNKED :
			  GW_HTTP_BODY_CLOSE;
	} else if (h->has_content_length) {
		h->body = h->content_length > 0 ? GW_HTTP_BODY_LENGTH :
			  GW_HTTP_BODY_NONE;
	} else {
		h->body = GW_HTTP_BODY_CLOSE;
	}
	if (h->version_minor == 0)
		h->keep_alive = h->conn_keep_alive && !h->conn_close;
	else
		h->keep_alive = !h->conn_close;
	if (h->body == GW_HTTP_BODY_CLOSE || h->body == GW_HTTP_BODY_TUNNEL)
		h->keep_alive = false;
	if (h->upgrade.ptr != NULL && (h->version_minor == 0 || !connection_upgrade(h)))
		h->upgrade = (struct gw_http_str){ NULL, 0 };
	return 0;
}

/* The head is complete at @p hb: fill p->head. */
int
http_head_finish(struct gw_http_parser *p, const uint8_t *hb)
{
	struct gw_http_head *h = &p->head;
	const char *b = (const char *)hb;
	struct te_state te = { 0 };
	int rc;

	h->headers = p->headers;
	h->head_len = p->pos;
	h->copied = p->buffered;
	if (p->kind == GW_HTTP_REQUEST) {
		/* One SP separates method and target. */
		h->method_name = (struct gw_http_str){ b, p->target_off - 1 };
		h->method = method_lookup(b, p->target_off - 1);
		h->target = (struct gw_http_str){ b + p->target_off, p->target_len };
	} else {
		h->status = p->code;
		h->reason = (struct gw_http_str){ b + p->target_off, p->target_len };
	}
	rc = fields_process(p, &te);
	if (rc < 0)
		return rc;
	if (p->kind == GW_HTTP_REQUEST)
		return request_finish(p, &te);
	return response_finish(p, &te);
}
