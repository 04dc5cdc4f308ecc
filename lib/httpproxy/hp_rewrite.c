/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only bytes the proxy writes: rewritten heads, in fresh mbufs. The
 * received head stays where it is (its segment is freed once parsed);
 * bodies never pass through here.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "hp_private.h"

/* The cursor of a writer with no mbuf to write in yet (zero-length
 * writes land here: nothing is ever written to it). */
static char writer_none[1];

void
hp_writer_init(struct hp_writer *w, struct rte_mempool *pool)
{
	w->pool = pool;
	w->head = NULL;
	w->tail = NULL;
	w->cur = w->end = writer_none;
	w->len = 0;
	w->failed = false;
}

/* tail->data_len from the cursor. */
static inline void
writer_seal(struct hp_writer *w)
{
	if (w->cur != writer_none)
		w->tail->data_len = (uint16_t)(w->cur -
					       rte_pktmbuf_mtod(w->tail, char *));
}

/* Write into the free bytes of @p m from now on. */
static inline void
writer_use(struct hp_writer *w, struct rte_mbuf *m)
{
	w->cur = rte_pktmbuf_mtod_offset(m, char *, m->data_len);
	w->end = (char *)m->buf_addr + m->buf_len;
}

void
hp_write_slow(struct hp_writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0 && !w->failed) {
		size_t room = (size_t)(w->end - w->cur);
		size_t n;

		if (room == 0 && w->cur == writer_none && w->tail != NULL) {
			/* a tail given by the caller: after its data */
			writer_use(w, w->tail);
			continue;
		}
		if (room == 0) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

			if (m == NULL) {
				w->failed = true;
				w->cur = w->end = writer_none;
				return;
			}
			/* No protocol headers go in front of payload segments. */
			m->data_off = 0;
			writer_seal(w);
			if (w->head == NULL)
				w->head = m;
			else
				w->tail->next = m;
			w->tail = m;
			writer_use(w, m);
			continue;
		}
		n = len < room ? len : room;
		memcpy(w->cur, p, n);
		w->cur += n;
		w->len += (uint32_t)n;
		p += n;
		len -= n;
	}
}

void
hp_write_str(struct hp_writer *w, const char *s)
{
	hp_write(w, s, strlen(s));
}

const char hp_digit_pairs[201] =
	"00010203040506070809" "10111213141516171819"
	"20212223242526272829" "30313233343536373839"
	"40414243444546474849" "50515253545556575859"
	"60616263646566676869" "70717273747576777879"
	"80818283848586878889" "90919293949596979899";

#define UINT_DIGITS_MAX 20u   /* of a uint64_t */

static inline unsigned int
uint_digits(uint64_t v)
{
	unsigned int n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* The uint_digits(v) digits of @p v, ending at @p end: two at a time. */
static inline void
put_digits(char *end, uint64_t v)
{
	while (v >= 100) {
		uint64_t q = v / 100;

		end -= 2;
		memcpy(end, &hp_digit_pairs[2 * (v - q * 100)], 2);
		v = q;
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, &hp_digit_pairs[2 * v], 2);
	} else {
		*--end = (char)('0' + v);
	}
}

void
hp_write_uint(struct hp_writer *w, uint64_t v)
{
	unsigned int n = uint_digits(v);
	char buf[UINT_DIGITS_MAX];

	if (likely((size_t)(w->end - w->cur) >= UINT_DIGITS_MAX)) {
		/* straight into the mbuf */
		put_digits(w->cur + n, v);
		w->cur += n;
		w->len += n;
		return;
	}
	put_digits(buf + n, v);
	hp_write(w, buf, n);
}

bool
hp_writer_finish(struct hp_writer *w, struct hp_queue *q)
{
	struct rte_mbuf *m;

	if (w->failed) {
		if (w->head != NULL)
			rte_pktmbuf_free(w->head);
		w->head = w->tail = NULL;
		return false;
	}
	if (w->head == NULL)
		return true;
	writer_seal(w);
	/* each mbuf a segment of its own, linked through next as they are */
	for (m = w->head; m != NULL; m = m->next) {
		m->pkt_len = m->data_len;
		m->nb_segs = 1;
	}
	if (q->head == NULL)
		q->head = w->head;
	else
		q->tail->next = w->head;
	q->tail = w->tail;
	q->bytes += w->len;
	w->head = w->tail = NULL;
	return true;
}

static inline bool
name_is(const struct gw_http_header *f, const char *name)
{
	size_t len = strlen(name);   /* a literal: folded */

	return f->name_len == len && gw_http_name_eq(f->name, f->name_len, name,
						     len);
}

#define FBIT(id) (1u << (id))

/* Hop-by-hop fields (RFC 9110 §7.6.1): never forwarded. */
#define HOP_FIELDS (FBIT(GW_HTTP_F_UPGRADE) | FBIT(GW_HTTP_F_CONNECTION) | \
		    FBIT(GW_HTTP_F_KEEP_ALIVE) | FBIT(GW_HTTP_F_PROXY_CONNECTION))

/*
 * Fields kept as received are copied as received: a field whose line is
 * exactly "name: value\r\n" joins the run of such lines that precede it
 * in the received head (the start line too, when it is what would be
 * written), and each run goes out in one copy. The bytes after a value
 * are always there: a head ends with an empty line.
 */
struct field_run {
	const char *p;
	size_t len;
};

static inline void
run_flush(struct hp_writer *w, struct field_run *r)
{
	if (r->len != 0)
		hp_write(w, r->p, r->len);
	r->len = 0;
}

/* What the operations do, checked once per head, so that the usual head
 * (no operation) costs nothing per field nor after them. */
enum {
	OPS_DROP = 1u << 0,    /* remove or replace fields */
	OPS_WRITE = 1u << 1,   /* set or add fields */
};

static inline unsigned int
ops_kinds(const struct gw_header_ops *const *ops)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < HP_HEADER_OPS; i++) {
		const struct gw_header_ops *o = ops[i];

		if (o == NULL)
			continue;
		if (o->n_remove != 0 || o->n_set != 0)
			k |= OPS_DROP;
		if (o->n_set != 0 || o->n_add != 0)
			k |= OPS_WRITE;
	}
	return k;
}

/* Removed or replaced by a VirtualService header operation. */
static bool
op_drops(const struct gw_header_ops *const *ops, const struct gw_http_header *f)
{
	for (unsigned int k = 0; k < HP_HEADER_OPS; k++) {
		const struct gw_header_ops *o = ops[k];

		if (o == NULL)
			continue;
		for (uint32_t i = 0; i < o->n_remove; i++)
			if (name_is(f, o->remove[i]))
				return true;
		for (uint32_t i = 0; i < o->n_set; i++)
			if (name_is(f, o->set[i].key))
				return true;
	}
	return false;
}

static void
write_field(struct hp_writer *w, const char *name, size_t nlen,
	    const char *value, size_t vlen)
{
	hp_write(w, name, nlen);
	hp_write_lit(w, ": ");
	hp_write(w, value, vlen);
	hp_write_lit(w, "\r\n");
}

static inline void
keep_field(struct hp_writer *w, struct field_run *r,
	   const struct gw_http_header *f)
{
	const char *end = f->value + f->value_len;

	if (likely(f->value == f->name + f->name_len + 2 &&
		   f->name[f->name_len] == ':' && f->name[f->name_len + 1] == ' ' &&
		   end[0] == '\r' && end[1] == '\n')) {
		size_t n = (size_t)(end + 2 - f->name);

		if (likely(r->len != 0 && r->p + r->len == f->name)) {
			r->len += n;
			return;
		}
		run_flush(w, r);
		r->p = f->name;
		r->len = n;
		return;
	}
	run_flush(w, r);
	write_field(w, f->name, f->name_len, f->value, f->value_len);
}

/* The parser takes a list of identical Content-Length values, or the
 * field repeated with the same value (RFC 9110 §8.6); the next hop gets
 * that value once, as "content-length: N", and no list for it to read
 * otherwise. A field that reads so already stays in its run. */
static void
content_length_field(struct hp_writer *w, struct field_run *r,
		     const struct gw_http_head *h,
		     const struct gw_http_header *f, bool *done)
{
	unsigned int n;
	char d[UINT_DIGITS_MAX];

	if (*done)
		return;
	*done = true;
	n = uint_digits(h->content_length);
	put_digits(d + n, h->content_length);
	if (f->name_len == 14 && f->value_len == n &&
	    memcmp(f->name, "content-length", 14) == 0) {
		unsigned int i = 0;

		/* a few digits: no call */
		while (i < n && f->value[i] == d[i])
			i++;
		if (i == n) {
			keep_field(w, r, f);
			return;
		}
	}
	run_flush(w, r);
	hp_write_lit(w, "content-length: ");
	hp_write(w, d, n);
	hp_write_lit(w, "\r\n");
}

/*
 * The field lines of @p h: those with an id in @p skip (or removed by an
 * operation) left out, Content-Length normalised, Host's value replaced
 * by @p host when given, the rest kept. Returns the ids left out.
 */
static inline uint32_t
write_fields(struct hp_writer *w, struct field_run *run,
	     const struct gw_http_head *h, uint32_t skip,
	     const struct gw_header_ops *const *ops, bool drops,
	     const char *host, uint32_t host_len)
{
	uint32_t special = FBIT(GW_HTTP_F_CONTENT_LENGTH) |
			   (host != NULL ? FBIT(GW_HTTP_F_HOST) : 0);
	uint32_t skipped = 0;
	bool cl_done = false;

	for (uint32_t i = 0; i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];
		uint32_t bit = FBIT(gw_http_header_id(f));   /* the parser's: no name compare */

		if (bit & skip) {
			skipped |= bit;
			continue;
		}
		if (unlikely(drops) && op_drops(ops, f))
			continue;
		if (likely(!(bit & special))) {
			keep_field(w, run, f);
		} else if (bit == FBIT(GW_HTTP_F_CONTENT_LENGTH)) {
			content_length_field(w, run, h, f, &cl_done);
		} else {
			/* a mirror's copy names the shadow host */
			run_flush(w, run);
			write_field(w, f->name, f->name_len, host, host_len);
		}
	}
	run_flush(w, run);
	return skipped;
}

static void
write_ops(struct hp_writer *w, const struct gw_header_ops *const *ops)
{
	for (unsigned int k = 0; k < HP_HEADER_OPS; k++) {
		const struct gw_header_ops *o = ops[k];

		if (o == NULL)
			continue;
		for (uint32_t i = 0; i < o->n_set; i++)
			write_field(w, o->set[i].key, strlen(o->set[i].key),
				    o->set[i].value, strlen(o->set[i].value));
		for (uint32_t i = 0; i < o->n_add; i++)
			write_field(w, o->add[i].key, strlen(o->add[i].key),
				    o->add[i].value, strlen(o->add[i].value));
	}
}

void
hp_rewrite_request(struct hp_writer *w, const struct gw_http_head *h,
		   const struct hp_request_rewrite *rw)
{
	struct field_run run = {0};
	unsigned int ops = ops_kinds(rw->ops);
	uint32_t skipped;

	if (!rw->rewrite_path && h->target_form != GW_HTTP_TARGET_ABSOLUTE &&
	    h->host.ptr != NULL &&
	    memcmp(h->target.ptr + h->target.len, " HTTP/1.1\r\n", 11) == 0) {
		/* The request line as received is the one to write (the
		 * parser takes single SPs only): the fields' run starts with
		 * it. */
		run.p = h->method_name.ptr;
		run.len = (size_t)(h->target.ptr + h->target.len + 11 -
				   h->method_name.ptr);
	} else {
		hp_write(w, h->method_name.ptr, h->method_name.len);
		hp_write_lit(w, " ");
		if (rw->rewrite_path) {
			/* rewrite.uri: the new prefix, the rest of the path, the query */
			hp_write(w, rw->path_prefix, rw->path_prefix_len);
			if (rw->path_skip < h->path.len)
				hp_write(w, h->path.ptr + rw->path_skip,
					 h->path.len - rw->path_skip);
			if (h->query.ptr != NULL) {
				hp_write_lit(w, "?");
				hp_write(w, h->query.ptr, h->query.len);
			}
		} else if (h->target_form == GW_HTTP_TARGET_ABSOLUTE) {
			/* Upstreams get origin form: path and query. */
			hp_write(w, h->path.ptr, h->path.len);
			if (h->query.ptr != NULL) {
				hp_write_lit(w, "?");
				hp_write(w, h->query.ptr, h->query.len);
			}
		} else {
			hp_write(w, h->target.ptr, h->target.len);
		}
		hp_write_lit(w, " HTTP/1.1\r\n");
		/* HTTP/1.0 requests may lack Host; upstreams speak 1.1 and need one. */
		if (h->host.ptr == NULL && rw->host != NULL)
			write_field(w, "host", 4, rw->host, rw->host_len);
		else if (h->host.ptr == NULL && h->authority.ptr != NULL)
			write_field(w, "host", 4, h->authority.ptr, h->authority.len);
	}
	skipped = write_fields(w, &run, h,
			       HOP_FIELDS | FBIT(GW_HTTP_F_X_FORWARDED_PROTO) |
			       FBIT(GW_HTTP_F_X_FORWARDED_FOR),
			       rw->ops, ops & OPS_DROP, rw->host, rw->host_len);
	/* x-forwarded-for: the values received, then the client (Envoy appends). */
	hp_write_lit(w, "x-forwarded-for: ");
	for (uint32_t i = 0; (skipped & FBIT(GW_HTTP_F_X_FORWARDED_FOR)) &&
			     i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];

		if (gw_http_header_id(f) != GW_HTTP_F_X_FORWARDED_FOR ||
		    f->value_len == 0)
			continue;
		hp_write(w, f->value, f->value_len);
		hp_write_lit(w, ", ");
	}
	hp_write(w, rw->client_ip, rw->client_ip_len);
	hp_write_lit(w, "\r\nx-forwarded-proto: http\r\n");
	if (!rw->has_request_id) {
		hp_write_lit(w, "x-request-id: ");
		hp_write(w, rw->request_id, HP_REQUEST_ID_LEN);
		hp_write_lit(w, "\r\n");
	}
	if (ops & OPS_WRITE)
		write_ops(w, rw->ops);
	hp_write_lit(w, "\r\n");
}

void
hp_rewrite_response(struct hp_writer *w, const struct gw_http_head *h,
		    const struct gw_header_ops *const *ops, bool dechunk,
		    bool close, bool http10_keep_alive, int32_t upstream_ms,
		    const struct hp_session *s)
{
	struct field_run run = {0};
	unsigned int kinds = ops_kinds(ops);

	if (h->reason.len != 0 && memcmp(h->reason.ptr - 13, "HTTP/1.1 ", 9) == 0) {
		/* "HTTP/1.1 SSS reason\r\n" as received (the parser takes
		 * single SPs, three digits and CRLF only): the run starts
		 * with it */
		run.p = h->reason.ptr - 13;
		run.len = 13 + (size_t)h->reason.len + 2;
	} else {
		hp_write_lit(w, "HTTP/1.1 ");
		hp_write_uint(w, h->status);
		hp_write_lit(w, " ");
		hp_write(w, h->reason.ptr, h->reason.len);
		hp_write_lit(w, "\r\n");
	}
	write_fields(w, &run, h,
		     HOP_FIELDS | FBIT(GW_HTTP_F_X_ENVOY_UPSTREAM_SERVICE_TIME) |
		     (dechunk ? FBIT(GW_HTTP_F_TRANSFER_ENCODING) : 0),
		     ops, kinds & OPS_DROP, NULL, 0);
	if (upstream_ms >= 0 && !h->informational) {
		hp_write_lit(w, "x-envoy-upstream-service-time: ");
		hp_write_uint(w, (uint64_t)upstream_ms);
		hp_write_lit(w, "\r\n");
	}
	if (!h->informational) {
		if (kinds & OPS_WRITE)
			write_ops(w, ops);
		if (s != NULL)
			hp_policy_cors_response(w, s);
		if (close)
			hp_write_lit(w, "connection: close\r\n");
		else if (http10_keep_alive)
			hp_write_lit(w, "connection: keep-alive\r\n");
	}
	hp_write_lit(w, "\r\n");
}
