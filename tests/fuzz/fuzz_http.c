/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for lib/http. The first two bytes choose options (limits,
 * the method a response answers) and the seed of the cuts; the rest is the
 * message. It is parsed as a request head, then its body framing (chunked
 * bodies through the decoder), then again as a response head.
 *
 * Each parse runs twice: on one heap buffer of exactly the input's size,
 * and cut into pieces of pseudo-random sizes, each piece in its own exact
 * heap buffer that is freed as soon as the parser asked for more. ASan
 * thus catches a read past a piece or a pointer kept into a freed one, and
 * the two runs must agree on verdict, offsets and every parsed field.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const struct gw_http_limits small_limits = {
	.max_head = 512, .max_headers = 8, .max_target = 64,
};

/* xorshift32: cut sizes derived from the input, so runs reproduce. */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t
cut_size(uint32_t *s, size_t left)
{
	uint32_t r = next_rand(s);
	size_t n;

	/* Mostly tiny pieces, sometimes large ones. */
	n = (r & 3) == 0 ? 1 + (r >> 8) % 2048 : 1 + (r >> 8) % 8;
	return n < left ? n : left;
}

static uint8_t *
copy_piece(const uint8_t *src, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	CHECK(b != NULL);
	memcpy(b, src, n);
	return b;
}

static bool
str_eq(struct gw_http_str a, struct gw_http_str b)
{
	if ((a.ptr == NULL) != (b.ptr == NULL))
		return false;
	return a.ptr == NULL || (a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool
in_range(const char *p, uint32_t len, const void *base, size_t size)
{
	const char *b = base;

	return p >= b && p + len <= b + size;
}

static void
check_head(const struct gw_http_parser *p, const uint8_t *chunk, size_t len)
{
	const struct gw_http_head *h = &p->head;
	const void *base = h->copied ? (const void *)p->buf : (const void *)chunk;
	size_t size = h->copied ? p->limits.max_head : len;
	const struct gw_http_str strs[] = {
		h->method_name, h->target, h->scheme, h->authority, h->query,
		h->reason, h->host, h->upgrade,
	};

	CHECK(h->n_headers <= p->limits.max_headers);
	CHECK(h->head_len <= p->limits.max_head);
	CHECK(h->version_minor <= 1);
	CHECK(h->headers == p->headers);
	for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++)
		CHECK(strs[k].ptr == NULL || in_range(strs[k].ptr, strs[k].len, base, size));
	CHECK(h->path.ptr == NULL || in_range(h->path.ptr, h->path.len, base, size) ||
	      (h->path.len == 1 && h->path.ptr[0] == '/'));
	for (uint32_t k = 0; k < h->n_headers; k++) {
		const struct gw_http_header *f = &h->headers[k];
		char name[64];
		int first = -1;

		CHECK(f->name_len > 0);
		CHECK(in_range(f->name, f->name_len, base, size));
		CHECK(in_range(f->value, f->value_len, base, size));
		/* the parser's id is the name's, and lookups by name or id
		 * agree with a plain scan comparing names */
		CHECK(f->id == (uint32_t)gw_http_field_id(f->name, f->name_len));
		CHECK(f->id > GW_HTTP_F_UNCLASSIFIED && f->id < GW_HTTP_F_MAX);
		CHECK(h->fields_seen & (1u << f->id));
		if (f->name_len >= sizeof(name))
			continue;
		memcpy(name, f->name, f->name_len);
		name[f->name_len] = '\0';
		for (uint32_t j = 0; j < h->n_headers && first < 0; j++)
			if (gw_http_name_eq(h->headers[j].name, h->headers[j].name_len,
					    f->name, f->name_len))
				first = (int)j;
		CHECK(first >= 0 && first <= (int)k);
		CHECK(gw_http_header_find(h, name, 0) == first);
		CHECK(f->id == GW_HTTP_F_OTHER ||
		      gw_http_header_find_id(h, (enum gw_http_field)f->id, 0) == first);
	}
	if (p->kind == GW_HTTP_REQUEST) {
		CHECK(h->target.len > 0 && h->target.len <= p->limits.max_target);
		CHECK(h->status == 0);
		CHECK(h->body == GW_HTTP_BODY_NONE || h->body == GW_HTTP_BODY_LENGTH ||
		      h->body == GW_HTTP_BODY_CHUNKED);
		CHECK(h->version_minor == 0 || h->host.ptr != NULL);
	} else {
		CHECK(h->status >= 100 && h->status <= 599);
	}
	CHECK(h->body != GW_HTTP_BODY_LENGTH || h->content_length > 0);
	CHECK(h->content_length <= INT64_MAX);
}

static void
check_same_head(const struct gw_http_head *a, const struct gw_http_head *b)
{
	CHECK(a->method == b->method && a->target_form == b->target_form);
	CHECK(str_eq(a->method_name, b->method_name) && str_eq(a->target, b->target));
	CHECK(str_eq(a->scheme, b->scheme) && str_eq(a->authority, b->authority));
	CHECK(str_eq(a->path, b->path) && str_eq(a->query, b->query));
	CHECK(str_eq(a->reason, b->reason) && str_eq(a->host, b->host));
	CHECK(str_eq(a->upgrade, b->upgrade));
	CHECK(a->status == b->status && a->version_minor == b->version_minor);
	CHECK(a->body == b->body && a->content_length == b->content_length);
	CHECK(a->has_content_length == b->has_content_length);
	CHECK(a->chunked == b->chunked && a->keep_alive == b->keep_alive);
	CHECK(a->conn_close == b->conn_close && a->conn_keep_alive == b->conn_keep_alive);
	CHECK(a->expect_continue == b->expect_continue);
	CHECK(a->informational == b->informational && a->head_len == b->head_len);
	CHECK(a->n_headers == b->n_headers);
	for (uint32_t k = 0; k < a->n_headers; k++) {
		struct gw_http_str an = { a->headers[k].name, a->headers[k].name_len };
		struct gw_http_str bn = { b->headers[k].name, b->headers[k].name_len };
		struct gw_http_str av = { a->headers[k].value, a->headers[k].value_len };
		struct gw_http_str bv = { b->headers[k].value, b->headers[k].value_len };

		CHECK(str_eq(an, bn) && str_eq(av, bv));
		CHECK(a->headers[k].id == b->headers[k].id);
	}
	CHECK(a->fields_seen == b->fields_seen);
}

struct chunked_result {
	int rc;              /* 0 done, GW_HTTP_AGAIN, or negative */
	size_t offset;
	uint64_t payload;
	uint64_t sum;        /* a checksum of the payload bytes */
};

/* Decode @p data (the bytes after a chunked head) in pieces. */
static void
chunked_run(const uint8_t *data, size_t len, uint32_t seed, bool cut,
	    struct chunked_result *r)
{
	struct gw_http_chunked c;
	struct gw_http_span spans[4];
	size_t off = 0;

	gw_http_chunked_init(&c);
	memset(r, 0, sizeof(*r));
	r->rc = GW_HTTP_AGAIN;
	while (off < len) {
		size_t n = cut ? cut_size(&seed, len - off) : len - off, used = 0;
		uint8_t *piece = copy_piece(data + off, n);

		while (used < n) {
			size_t consumed;
			int k = gw_http_chunked_feed(&c, piece + used, n - used, spans,
						     cut ? 1 : 4, &consumed);

			CHECK(consumed <= n - used);
			if (k < 0) {
				CHECK(c.err == k);
				r->rc = k;
				r->offset = off + used + consumed;
				free(piece);
				return;
			}
			for (int s = 0; s < k; s++) {
				CHECK(spans[s].len > 0 && spans[s].off + spans[s].len <= consumed);
				for (size_t b = 0; b < spans[s].len; b++)
					r->sum = r->sum * 31 + piece[used + spans[s].off + b];
				r->payload += spans[s].len;
			}
			used += consumed;
			if (gw_http_chunked_done(&c)) {
				r->rc = 0;
				r->offset = off + used;
				free(piece);
				CHECK(c.payload_bytes + c.framing_bytes == r->offset);
				return;
			}
			if (consumed == 0)
				CHECK(k == 0 && used == n);
		}
		free(piece);
		off += n;
	}
	r->offset = len;
	CHECK(c.payload_bytes + c.framing_bytes == len);
	CHECK(c.payload_bytes == r->payload);
}

/* Parse a head whole and in pieces; check both agree. */
static void
head_run(enum gw_http_kind kind, const struct gw_http_limits *lim,
	 enum gw_http_method req_method, const uint8_t *data, size_t len,
	 uint32_t seed)
{
	struct gw_http_parser *whole = gw_http_parser_create(kind, lim);
	struct gw_http_parser *cut = gw_http_parser_create(kind, lim);
	uint8_t *buf = copy_piece(data, len), *piece = NULL;
	size_t consumed = 0, off = 0, n = 0, cut_consumed = 0;
	int rc, rc2 = GW_HTTP_AGAIN;

	CHECK(whole != NULL && cut != NULL);
	whole->request_method = req_method;
	cut->request_method = req_method;

	rc = gw_http_head_parse(whole, buf, len, &consumed);
	CHECK(consumed <= len);
	if (rc == GW_HTTP_DONE) {
		check_head(whole, buf, len);
		CHECK(!whole->head.copied && whole->copied_bytes == 0);
	} else if (rc == GW_HTTP_AGAIN) {
		CHECK(consumed == len);
	} else {
		CHECK(rc == whole->err && rc < 0);
		CHECK(whole->status == (kind == GW_HTTP_RESPONSE ? 502 :
					gw_http_error_status(rc)));
		CHECK(gw_http_strerror(rc) != NULL);
	}

	while (off < len) {
		n = cut_size(&seed, len - off);
		piece = copy_piece(data + off, n);
		rc2 = gw_http_head_parse(cut, piece, n, &cut_consumed);
		if (rc2 != GW_HTTP_AGAIN)
			break;
		CHECK(cut_consumed == n);
		free(piece);
		piece = NULL;
		off += n;
	}
	CHECK(rc2 == rc);
	if (rc != GW_HTTP_AGAIN)
		CHECK(off + cut_consumed == consumed);
	if (rc == GW_HTTP_DONE) {
		check_head(cut, piece, n);
		check_same_head(&whole->head, &cut->head);
		CHECK(cut->copied_bytes == (cut->head.copied ? cut->head.head_len : 0));
	}

	/* Body framing on what follows the head. */
	if (rc == GW_HTTP_DONE && whole->head.body == GW_HTTP_BODY_CHUNKED) {
		struct chunked_result a, b;

		chunked_run(data + consumed, len - consumed, seed, false, &a);
		chunked_run(data + consumed, len - consumed, seed, true, &b);
		CHECK(a.rc == b.rc && a.offset == b.offset);
		if (a.rc >= 0)
			CHECK(a.payload == b.payload && a.sum == b.sum);
	}
	free(piece);
	free(buf);
	gw_http_parser_free(whole);
	gw_http_parser_free(cut);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum gw_http_method answers[4] = {
		GW_HTTP_METHOD_GET, GW_HTTP_METHOD_HEAD, GW_HTTP_METHOD_CONNECT,
		GW_HTTP_METHOD_POST,
	};
	const struct gw_http_limits *lim;
	uint32_t seed;
	uint8_t opt;

	if (size < 2 || size > 256 * 1024)
		return 0;
	opt = data[0];
	seed = 0x9e3779b9u ^ ((uint32_t)data[1] << 8) ^ (uint32_t)size;
	lim = (opt & 1) ? &small_limits : NULL;
	data += 2;
	size -= 2;
	head_run(GW_HTTP_REQUEST, lim, GW_HTTP_METHOD_GET, data, size, seed);
	head_run(GW_HTTP_RESPONSE, lim, answers[(opt >> 1) & 3], data, size, seed);
	return 0;
}
