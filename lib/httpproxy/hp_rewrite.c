/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The only bytes the proxy writes: rewritten heads, in fresh mbufs. The
 * received head stays where it is (its segment is freed once parsed);
 * bodies never pass through here.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "hp_private.h"

static void hp_write_slow(struct hp_writer *w, const void *data, size_t len);

void
hp_writer_init(struct hp_writer *w, struct rte_mempool *pool)
{
	w->pool = pool;
	w->head = NULL;
	w->tail = NULL;
	w->len = 0;
	w->failed = false;
}

void
hp_write(struct hp_writer *w, const void *data, size_t len)
{
	/* the usual case: it fits the current mbuf */
	if (likely(w->tail != NULL && len <= rte_pktmbuf_tailroom(w->tail))) {
		memcpy(rte_pktmbuf_mtod_offset(w->tail, uint8_t *,
					       w->tail->data_len), data, len);
		w->tail->data_len = (uint16_t)(w->tail->data_len + len);
		w->len += (uint32_t)len;
		return;
	}
	hp_write_slow(w, data, len);
}

static void
hp_write_slow(struct hp_writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0 && !w->failed) {
		uint16_t room = w->tail != NULL ? rte_pktmbuf_tailroom(w->tail) : 0;
		size_t n;

		if (room == 0) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);

			if (m == NULL) {
				w->failed = true;
				return;
			}
			/* No protocol headers go in front of payload segments. */
			m->data_off = 0;
			if (w->head == NULL)
				w->head = m;
			else
				w->tail->next = m;
			w->tail = m;
			continue;
		}
		n = len < room ? len : room;
		memcpy(rte_pktmbuf_mtod_offset(w->tail, uint8_t *,
					       w->tail->data_len), p, n);
		w->tail->data_len = (uint16_t)(w->tail->data_len + n);
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

void
hp_write_uint(struct hp_writer *w, uint64_t v)
{
	char buf[24];
	int i = (int)sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	hp_write(w, buf + i, sizeof(buf) - (size_t)i);
}

bool
hp_writer_finish(struct hp_writer *w, struct hp_queue *q)
{
	struct rte_mbuf *m, *next;

	if (w->failed) {
		if (w->head != NULL)
			rte_pktmbuf_free(w->head);
		w->head = w->tail = NULL;
		return false;
	}
	for (m = w->head; m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		m->pkt_len = m->data_len;
		m->nb_segs = 1;
		hp_queue_append(q, m);
	}
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

/* The fields a rewrite treats specially, told apart by the id the parser
 * gave each field line, so that the usual field costs one switch. */
enum field_kind {
	FK_OTHER = 0,
	FK_HOP,         /* hop-by-hop (RFC 9110 §7.6.1): not forwarded */
	FK_HOST,
	FK_CONTENT_LENGTH,
	FK_TRANSFER_ENCODING,
	FK_XFF,         /* x-forwarded-for */
	FK_XFP,         /* x-forwarded-proto */
	FK_XEUST,       /* x-envoy-upstream-service-time */
};

static enum field_kind
field_kind(const struct gw_http_header *f)
{
	switch (gw_http_header_id(f)) {   /* the parser's: no name compare */
	case GW_HTTP_F_HOST:
		return FK_HOST;
	case GW_HTTP_F_UPGRADE:
	case GW_HTTP_F_CONNECTION:
	case GW_HTTP_F_KEEP_ALIVE:
	case GW_HTTP_F_PROXY_CONNECTION:
		return FK_HOP;
	case GW_HTTP_F_CONTENT_LENGTH:
		return FK_CONTENT_LENGTH;
	case GW_HTTP_F_X_FORWARDED_FOR:
		return FK_XFF;
	case GW_HTTP_F_X_FORWARDED_PROTO:
		return FK_XFP;
	case GW_HTTP_F_TRANSFER_ENCODING:
		return FK_TRANSFER_ENCODING;
	case GW_HTTP_F_X_ENVOY_UPSTREAM_SERVICE_TIME:
		return FK_XEUST;
	default:
		return FK_OTHER;
	}
}

/*
 * Fields kept as received are copied as received: a field whose line is
 * exactly "name: value\r\n" joins the run of such lines that precede it
 * in the received head, and each run goes out in one copy. The bytes
 * after a value are always there: a head ends with an empty line.
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

/* Does any operation remove or replace fields? Checked once per head, so
 * that the usual head (no such operation) costs nothing per field. */
static bool
ops_drop_any(const struct gw_header_ops *const *ops)
{
	for (unsigned int k = 0; k < HP_HEADER_OPS; k++)
		if (ops[k] != NULL && (ops[k]->n_remove != 0 || ops[k]->n_set != 0))
			return true;
	return false;
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
	hp_write(w, ": ", 2);
	hp_write(w, value, vlen);
	hp_write(w, "\r\n", 2);
}

static void
keep_field(struct hp_writer *w, struct field_run *r,
	   const struct gw_http_header *f)
{
	const char *end = f->value + f->value_len;

	if (f->value == f->name + f->name_len + 2 &&
	    f->name[f->name_len] == ':' && f->name[f->name_len + 1] == ' ' &&
	    end[0] == '\r' && end[1] == '\n') {
		size_t n = (size_t)(end + 2 - f->name);

		if (r->len != 0 && r->p + r->len == f->name) {
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
 * that value once, as the RFC asks, and no list for it to read otherwise.
 * Returns true when @p f was a Content-Length field (written or skipped). */
static void
write_content_length(struct hp_writer *w, const struct gw_http_head *h,
		     bool *done)
{
	if (!*done) {
		hp_write_str(w, "content-length: ");
		hp_write_uint(w, h->content_length);
		hp_write(w, "\r\n", 2);
		*done = true;
	}
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
	bool cl_done = false, has_xff = false;
	bool drops = ops_drop_any(rw->ops);
	struct field_run run = {0};

	hp_write(w, h->method_name.ptr, h->method_name.len);
	hp_write(w, " ", 1);
	if (rw->rewrite_path) {
		/* rewrite.uri: the new prefix, the rest of the path, the query */
		hp_write(w, rw->path_prefix, rw->path_prefix_len);
		if (rw->path_skip < h->path.len)
			hp_write(w, h->path.ptr + rw->path_skip,
				 h->path.len - rw->path_skip);
		if (h->query.ptr != NULL) {
			hp_write(w, "?", 1);
			hp_write(w, h->query.ptr, h->query.len);
		}
	} else if (h->target_form == GW_HTTP_TARGET_ABSOLUTE) {
		/* Upstreams get origin form: path and query. */
		hp_write(w, h->path.ptr, h->path.len);
		if (h->query.ptr != NULL) {
			hp_write(w, "?", 1);
			hp_write(w, h->query.ptr, h->query.len);
		}
	} else {
		hp_write(w, h->target.ptr, h->target.len);
	}
	hp_write_str(w, " HTTP/1.1\r\n");
	/* HTTP/1.0 requests may lack Host; upstreams speak 1.1 and need one. */
	if (h->host.ptr == NULL && rw->host != NULL)
		write_field(w, "host", 4, rw->host, rw->host_len);
	else if (h->host.ptr == NULL && h->authority.ptr != NULL)
		write_field(w, "host", 4, h->authority.ptr, h->authority.len);
	for (uint32_t i = 0; i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];
		enum field_kind k = field_kind(f);

		if (k == FK_HOP || k == FK_XFP || k == FK_XFF ||
		    (drops && op_drops(rw->ops, f))) {
			if (k == FK_XFF)
				has_xff = true;
			continue;
		}
		if (k == FK_CONTENT_LENGTH) {
			run_flush(w, &run);
			write_content_length(w, h, &cl_done);
		} else if (k == FK_HOST && rw->host != NULL) {
			/* a mirror's copy names the shadow host */
			run_flush(w, &run);
			write_field(w, f->name, f->name_len, rw->host, rw->host_len);
		} else {
			keep_field(w, &run, f);
		}
	}
	run_flush(w, &run);
	/* x-forwarded-for: the values received, then the client (Envoy appends). */
	hp_write_str(w, "x-forwarded-for: ");
	for (uint32_t i = 0; has_xff && i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];

		if (gw_http_header_id(f) != GW_HTTP_F_X_FORWARDED_FOR ||
		    f->value_len == 0)
			continue;
		hp_write(w, f->value, f->value_len);
		hp_write(w, ", ", 2);
	}
	hp_write_str(w, rw->client_ip);
	hp_write_str(w, "\r\nx-forwarded-proto: http\r\n");
	if (!rw->has_request_id)
		write_field(w, "x-request-id", 12, rw->request_id,
			    strlen(rw->request_id));
	write_ops(w, rw->ops);
	hp_write(w, "\r\n", 2);
}

void
hp_rewrite_response(struct hp_writer *w, const struct gw_http_head *h,
		    const struct gw_header_ops *const *ops, bool dechunk,
		    bool close, bool http10_keep_alive, int32_t upstream_ms,
		    const struct hp_session *s)
{
	bool drops = ops_drop_any(ops);
	bool cl_done = false;
	struct field_run run = {0};

	hp_write_str(w, "HTTP/1.1 ");
	hp_write_uint(w, h->status);
	hp_write(w, " ", 1);
	hp_write(w, h->reason.ptr, h->reason.len);
	hp_write(w, "\r\n", 2);
	for (uint32_t i = 0; i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];
		enum field_kind k = field_kind(f);

		if (k == FK_HOP || k == FK_XEUST ||
		    (dechunk && k == FK_TRANSFER_ENCODING) ||
		    (drops && op_drops(ops, f)))
			continue;
		if (k == FK_CONTENT_LENGTH) {
			run_flush(w, &run);
			write_content_length(w, h, &cl_done);
		} else {
			keep_field(w, &run, f);
		}
	}
	run_flush(w, &run);
	if (upstream_ms >= 0 && !h->informational) {
		hp_write_str(w, "x-envoy-upstream-service-time: ");
		hp_write_uint(w, (uint64_t)upstream_ms);
		hp_write(w, "\r\n", 2);
	}
	if (!h->informational) {
		write_ops(w, ops);
		if (s != NULL)
			hp_policy_cors_response(w, s);
		if (close)
			hp_write_str(w, "connection: close\r\n");
		else if (http10_keep_alive)
			hp_write_str(w, "connection: keep-alive\r\n");
	}
	hp_write(w, "\r\n", 2);
}
