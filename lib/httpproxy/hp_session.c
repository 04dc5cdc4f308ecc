/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Client side of the HTTP proxy: a session per client connection. Each
 * request head is parsed from the received segments in place, routed,
 * rewritten into a fresh segment and queued for an upstream connection;
 * its body follows by reference. The response comes back the same way.
 *
 * Queues and backpressure: bytes received on either side wait in that
 * side's input queue until processed; processed body bytes move (as the
 * received segments, or indirect mbufs over part of one) to the output
 * queue of the other side, which is handed to gw_tcp_send() in prefixes
 * of whole segments that fit its send space. Input is processed only
 * while the output queue is empty, and received bytes are released to
 * the stack (gw_tcp_recv_consumed()) when processed, so a slow reader
 * closes the other side's window and a session holds at most one receive
 * budget and one send budget per direction.
 *
 * Events (TCP callbacks of either connection, timers) all run the
 * session's step function, session_run(), which loops until nothing
 * moves. A session that must end while it runs is marked dead and
 * released when the run returns, so no step touches freed state.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "gw_common.h"
#include "hp_private.h"

static void on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m);
static void on_writable(struct gw_tcp_conn *c, void *ctx);
static void on_fin(struct gw_tcp_conn *c, void *ctx);
static void on_closed(struct gw_tcp_conn *c, void *ctx,
		      enum gw_tcp_close_reason reason);

static const struct gw_tcp_callbacks client_cb = {
	.on_data = on_data,
	.on_writable = on_writable,
	.on_fin = on_fin,
	.on_closed = on_closed,
};

static void session_run(struct hp_session *s);

/* ---- queues ---- */

void
hp_queue_append(struct hp_queue *q, struct rte_mbuf *m)
{
	struct rte_mbuf *last = m;
	uint32_t bytes = 0;

	for (;;) {
		bytes += last->data_len;
		if (last->next == NULL)
			break;
		last = last->next;
	}
	if (q->head == NULL)
		q->head = m;
	else
		q->tail->next = m;
	q->tail = last;
	q->bytes += bytes;
}

void
hp_queue_drop(struct hp_queue *q)
{
	if (q->head != NULL)
		rte_pktmbuf_free(q->head);
	q->head = NULL;
	q->tail = NULL;
	q->bytes = 0;
}

struct rte_mbuf *
hp_queue_pop(struct hp_queue *q)
{
	struct rte_mbuf *m = q->head;

	q->head = m->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= m->data_len;
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	return m;
}

/* Detach the longest prefix of whole segments holding at most @p max
 * bytes (at least one segment: its send then fails and arms on_writable). */
static struct rte_mbuf *
queue_take(struct hp_queue *q, uint32_t max, uint32_t *bytes,
	   struct rte_mbuf **last)
{
	struct rte_mbuf *head = q->head, *seg = head, *prev = NULL;
	uint32_t n = 0, segs = 0;

	while (seg != NULL && segs < HP_MAX_SEND_SEGS &&
	       (segs == 0 || n + seg->data_len <= max)) {
		n += seg->data_len;
		segs++;
		prev = seg;
		seg = seg->next;
	}
	prev->next = NULL;
	head->pkt_len = n;
	head->nb_segs = (uint16_t)segs;
	q->head = seg;
	if (seg == NULL)
		q->tail = NULL;
	q->bytes -= n;
	*bytes = n;
	*last = prev;
	return head;
}

static void
queue_untake(struct hp_queue *q, struct rte_mbuf *head, struct rte_mbuf *last,
	     uint32_t bytes)
{
	last->next = q->head;
	if (q->head == NULL)
		q->tail = last;
	q->head = head;
	q->bytes += bytes;
}

/* Send what @p q holds as far as @p c takes it. 1: all sent; 0: blocked
 * (on_writable follows); -1: the connection takes no more data. */
static int
flush_queue(struct gw_http_proxy *px, struct hp_queue *q, struct gw_tcp_conn *c)
{
	while (q->head != NULL) {
		struct rte_mbuf *chunk, *last;
		uint32_t bytes;
		int rc;

		if (q->bytes == 0) {
			hp_queue_drop(q);
			break;
		}
		chunk = queue_take(q, gw_tcp_send_space(c), &bytes, &last);
		rc = gw_tcp_send(c, chunk);
		if (rc == -ENOBUFS) {
			queue_untake(q, chunk, last, bytes);
			px->stats.send_blocked++;
			return 0;
		}
		if (rc < 0) {
			queue_untake(q, chunk, last, bytes);
			return -1;
		}
	}
	return 1;
}

/*
 * Move bytes [off, off + n) of @p seg to @p dst by reference: an indirect
 * mbuf over the range (the segment's buffer is shared, never copied).
 */
static int
emit_range(struct gw_http_proxy *px, struct rte_mbuf *seg, uint32_t off,
	   uint32_t n, struct hp_queue *dst)
{
	struct rte_mbuf *mi = rte_pktmbuf_alloc(px->pool);

	if (mi == NULL) {
		px->stats.no_mbuf++;
		return -ENOMEM;
	}
	rte_pktmbuf_attach(mi, seg);
	mi->data_off = (uint16_t)(seg->data_off + off);
	mi->data_len = (uint16_t)n;
	mi->pkt_len = n;
	hp_queue_append(dst, mi);
	px->stats.indirect_mbufs++;
	return 0;
}

/* @p used bytes of the head segment of @p src were processed. */
static void
advance(struct hp_queue *src, uint32_t *off, uint32_t used)
{
	*off += used;
	if (*off >= src->head->data_len) {
		rte_pktmbuf_free_seg(hp_queue_pop(src));
		*off = 0;
	}
}

/* Forward @p n bytes at the current offset of @p src's head segment:
 * the segment itself when it is all of it, else an indirect mbuf. */
static int
forward(struct gw_http_proxy *px, struct hp_queue *src, uint32_t *off,
	uint32_t n, struct hp_queue *dst)
{
	struct rte_mbuf *seg = src->head;

	if (*off == 0 && n == seg->data_len) {
		hp_queue_append(dst, hp_queue_pop(src));
		return 0;
	}
	if (emit_range(px, seg, *off, n, dst) != 0)
		return -ENOMEM;
	advance(src, off, n);
	return 0;
}

/* ---- timers ---- */

static void
timer_update(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	bool want = s->route_deadline != 0 || s->connect_deadline != 0 ||
		    s->delay_deadline != 0 || s->try_deadline != 0;

	if (want == s->timed)
		return;
	if (want) {
		s->prev = HP_NONE;
		s->next = px->timer_head;
		if (s->next != HP_NONE)
			px->sessions[s->next].prev = s->id;
		px->timer_head = s->id;
	} else {
		if (s->prev != HP_NONE)
			px->sessions[s->prev].next = s->next;
		else
			px->timer_head = s->next;
		if (s->next != HP_NONE)
			px->sessions[s->next].prev = s->prev;
		s->next = s->prev = HP_NONE;
	}
	s->timed = want;
}

/* ---- exchange contexts ---- */

static void
exchange_unwait(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;

	if (!s->x_wait)
		return;
	if (s->xw_prev != HP_NONE)
		px->sessions[s->xw_prev].xw_next = s->xw_next;
	else
		px->xw_head = s->xw_next;
	if (s->xw_next != HP_NONE)
		px->sessions[s->xw_next].xw_prev = s->xw_prev;
	else
		px->xw_tail = s->xw_prev;
	s->xw_next = s->xw_prev = HP_NONE;
	s->x_wait = false;
}

/*
 * A context for the request whose first byte is about to be processed:
 * false when none is free or other sessions wait before this one. It then
 * waits in FIFO order (resumed by gw_http_proxy_poll()) and its input
 * stays unconsumed, so TCP closes the client's window: nothing is dropped.
 */
static bool
exchange_take(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	struct hp_exchange *x;

	if (s->x != NULL)
		return true;
	if (px->x_free == HP_NONE ||
	    (px->xw_head != HP_NONE && px->xw_head != s->id)) {
		if (!s->x_wait) {
			s->x_wait = true;
			s->xw_next = HP_NONE;
			s->xw_prev = px->xw_tail;
			if (px->xw_tail != HP_NONE)
				px->sessions[px->xw_tail].xw_next = s->id;
			else
				px->xw_head = s->id;
			px->xw_tail = s->id;
			px->stats.exchange_waits++;
		}
		return false;
	}
	exchange_unwait(s);
	x = &px->xs[px->x_free];
	px->x_free = x->next;
	x->next = HP_NONE;
	gw_http_parser_reset(&x->req);
	gw_http_parser_reset(&x->resp);
	/* nothing of another session's request carries over (head_refs[]
	 * is read below n_head_refs only) */
	memset(&x->retry, 0, offsetof(struct hp_retry, head_refs));
	x->retry.last_ep = -1;
	x->cors = NULL;
	x->cors_origin_len = 0;
	x->log.attempts = 0;
	x->snap = NULL;
	x->snap_hold = NULL;
	x->resp_ops[0] = x->resp_ops[1] = NULL;
	x->timeout_tsc = 0;
	x->n_mirrors = 0;
	memset(&x->wait_q, 0, sizeof(x->wait_q));
	s->x = x;
	return true;
}

/* The exchange is over (its retry hold released): the context goes back. */
static void
exchange_put(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	struct hp_exchange *x = s->x;

	if (x == NULL)
		return;
	/* nothing of the request may fire once its context is gone */
	s->route_deadline = s->connect_deadline = 0;
	s->delay_deadline = s->try_deadline = 0;
	s->delayed = false;
	timer_update(s);
	if (s->conn_wait) {
		hp_cluster_unwait(px, s);
		hp_queue_drop(&s->x->wait_q);
	}
	s->x = NULL;
	x->next = px->x_free;
	px->x_free = (uint32_t)(x - px->xs);
}

/* ---- session life ---- */

/* The request's snapshot is of no more use to this session. */
static void
snapshot_unhold(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;

	if (s->x->snap_hold != NULL)
		px->snapshot_release(px->snapshot_arg, s->x->snap_hold);
	s->x->snap_hold = NULL;
	s->x->snap = NULL;
	s->x->resp_ops[0] = s->x->resp_ops[1] = NULL;
}

static void
session_release(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;

	if (s->x != NULL) {
		snapshot_unhold(s);
		if (s->x->n_mirrors > 0)
			hp_mirror_finish(s, true);
	}
	s->route_deadline = 0;
	s->connect_deadline = 0;
	s->delay_deadline = 0;
	s->try_deadline = 0;
	s->delayed = false;
	timer_update(s);
	hp_cluster_unwait(px, s);
	if (s->x != NULL) {
		hp_queue_drop(&s->x->wait_q);
		hp_retry_release(s);
	}
	exchange_unwait(s);
	exchange_put(s);
	if (s->up != NULL) {
		hp_upstream_abort(s->up);
		s->up = NULL;
	}
	hp_queue_drop(&s->in);
	hp_queue_drop(&s->to_up);
	hp_queue_drop(&s->to_client);
	s->used = false;
	s->dead = false;
	s->next = px->free_head;
	px->free_head = s->id;
	px->stats.active--;
}

static bool
exchange_in_flight(const struct hp_session *s)
{
	return s->resp_state == HP_RESP_HEAD || s->resp_state == HP_RESP_BODY ||
	       s->req_state == HP_REQ_BODY;
}

/* Reset both connections and end the session (logged with @p flag when
 * an exchange was in flight). */
static void
session_abort(struct hp_session *s, const char *flag)
{
	if (s->dead)
		return;
	if (exchange_in_flight(s) && s->start_tsc != 0 && s->x != NULL)
		hp_log_emit(s, flag);
	if (s->conn != NULL) {
		gw_tcp_abort(s->conn);
		s->conn = NULL;
	}
	if (s->up != NULL) {
		hp_upstream_abort(s->up);
		s->up = NULL;
	}
	s->dead = true;
	if (!s->running)
		session_release(s);
}

/* The upstream of the request in flight is of no more use. */
static void
upstream_drop(struct hp_session *s)
{
	if (s->up != NULL) {
		hp_upstream_abort(s->up);
		s->up = NULL;
	}
	hp_queue_drop(&s->to_up);
	s->connect_deadline = 0;
	timer_update(s);
}

/* ---- request side ---- */

static uint64_t
xorshift(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*st = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* The 32 lowercase hex digits of @p a then @p b, most significant first. */
#ifdef __SSSE3__
static inline void
hex32(uint64_t a, uint64_t b, char out[32])
{
	/* each nibble looked up in one shuffle, then interleaved high/low */
	const __m128i nib = _mm_set1_epi8(0x0f);
	const __m128i digits = _mm_setr_epi8('0', '1', '2', '3', '4', '5', '6',
					     '7', '8', '9', 'a', 'b', 'c', 'd',
					     'e', 'f');
	__m128i v = _mm_set_epi64x((long long)rte_cpu_to_be_64(b),
				   (long long)rte_cpu_to_be_64(a));
	__m128i lo = _mm_shuffle_epi8(digits, _mm_and_si128(v, nib));
	__m128i hi = _mm_shuffle_epi8(digits,
				      _mm_and_si128(_mm_srli_epi16(v, 4), nib));

	_mm_storeu_si128((__m128i *)out, _mm_unpacklo_epi8(hi, lo));
	_mm_storeu_si128((__m128i *)(out + 16), _mm_unpackhi_epi8(hi, lo));
}
#else
/* 8 digits at once: each nibble spread to a byte, then '0' or 'a' - 10
 * added; the most significant nibble ends in the highest byte, first in
 * a big-endian word. */
static inline uint64_t
hex8(uint32_t v)
{
	uint64_t x = v, ge10;

	x = ((x & 0xffff0000ULL) << 16) | (x & 0xffffULL);
	x = ((x & 0x0000ff000000ff00ULL) << 8) | (x & 0x000000ff000000ffULL);
	x = ((x & 0x00f000f000f000f0ULL) << 4) | (x & 0x000f000f000f000fULL);
	ge10 = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
	x += 0x3030303030303030ULL + ge10 * ('a' - '0' - 10);
	return rte_cpu_to_be_64(x);
}

static inline void
hex32(uint64_t a, uint64_t b, char out[32])
{
	uint64_t d[4] = { hex8((uint32_t)(a >> 32)), hex8((uint32_t)a),
			  hex8((uint32_t)(b >> 32)), hex8((uint32_t)b) };

	memcpy(out, d, 32);
}
#endif

/* A version-4 UUID, as Envoy generates for x-request-id:
 * HP_REQUEST_ID_LEN characters and a NUL. */
static void
request_id_generate(struct gw_http_proxy *px, char out[40])
{
	uint64_t a = xorshift(&px->rng), b = xorshift(&px->rng);
	char hex[32];

	a = (a & ~0xf000ULL) | 0x4000ULL;                         /* version 4 */
	b = (b & ~(3ULL << 62)) | (2ULL << 62);                   /* variant */
	hex32(a, b, hex);
	/* 8-4-4-4-12 */
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[HP_REQUEST_ID_LEN] = '\0';
}

static void
request_complete(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;

	s->req_state = HP_REQ_DONE;
	if (s->x->n_mirrors > 0)
		hp_mirror_end(s);
	/* Envoy's route timeout runs from the end of the request to the end
	 * of the response. */
	if (!s->discard && s->x->timeout_tsc != 0 &&
	    s->resp_state != HP_RESP_DONE) {
		s->route_deadline = px->now + s->x->timeout_tsc;
		timer_update(s);
	}
}

/* "a.b.c.d" of @p ip_be into @p buf (at least 16 bytes); returns its length. */
static size_t
format_ip(char *buf, size_t len, uint32_t ip_be)
{
	const uint8_t *b = (const uint8_t *)&ip_be;
	char *p = buf;

	RTE_SET_USED(len);
	for (unsigned int i = 0; i < 4; i++) {
		if (i != 0)
			*p++ = '.';
		p = hp_put_u16(p, b[i]);
	}
	*p = '\0';
	return (size_t)(p - buf);
}

static void request_forward(struct hp_session *s,
			    const struct gw_route_request *rq0);

/* The request fields routing reads (they point into the parsed head). */
static void
route_request_fill(const struct hp_session *s, struct gw_route_request *rq)
{
	const struct gw_http_head *h = &s->x->req.head;
	bool absolute = h->target_form == GW_HTTP_TARGET_ABSOLUTE;

	/* member by member: a compound literal is built in a zeroed
	 * temporary and copied out (rep stos, then wide loads of narrow
	 * stores: no store forwarding). Every member is set. */
	rq->listener_ip = s->listener_ip;
	rq->listener_port = s->listener_port;
	rq->source_ip = s->client_ip;
	/* absolute form: :path is path and query, adjacent in the target */
	if (!absolute) {
		rq->http.path = h->target.ptr;
		rq->http.path_len = h->target.len;
	} else {
		rq->http.path = h->path.ptr;
		rq->http.path_len = h->query.ptr != NULL ?
			(uint32_t)(h->query.ptr + h->query.len - h->path.ptr) :
			h->path.len;
	}
	rq->http.method = h->method_name.ptr;
	rq->http.method_len = h->method_name.len;
	rq->http.authority = h->authority.ptr;
	rq->http.authority_len = h->authority.len;
	rq->http.scheme = "http";
	rq->http.scheme_len = 4;
	rq->http.port = s->listener_port;
	/* same layout (see struct gw_http_header): no copy */
	rq->http.headers = (const struct gw_match_header *)h->headers;
	rq->http.n_headers = h->n_headers;
}

/* Route the parsed request and start it upstream, or answer it. */
static void
request_begin(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	const struct gw_http_head *h = &s->x->req.head;
	const struct gw_route_snapshot *snap;
	struct gw_route_result res;
	struct gw_route_request rq;

	px->stats.requests++;
	s->start_tsc = px->now;
	s->status = 0;
	s->discard = false;
	s->dechunk = false;
	s->resp_head_sent = false;
	s->resp_got_bytes = false;
	s->x->timeout_tsc = 0;
	s->waited = false;
	snapshot_unhold(s);
	s->http10 = h->version_minor == 0;
	s->keep_alive = h->keep_alive;
	if (!s->keep_alive)
		s->close_after = true;
	s->req_body = (uint8_t)h->body;
	s->x->req_remaining = h->body == GW_HTTP_BODY_LENGTH ? h->content_length : 0;
	if (h->body == GW_HTTP_BODY_CHUNKED)
		gw_http_chunked_init(&s->x->req_chunked);
	s->req_state = h->body == GW_HTTP_BODY_NONE ? HP_REQ_DONE : HP_REQ_BODY;
	s->resp_state = HP_RESP_HEAD;
	hp_log_begin(s, h);
	if (h->copied)
		px->stats.parser_copied_bytes += h->head_len;
	s->x->req_body_bytes = 0;
	if (px->max_request_body != 0 && h->body == GW_HTTP_BODY_LENGTH &&
	    h->content_length > px->max_request_body) {
		/* limits.request_body: refused before anything is forwarded;
		 * the body is not read, so the connection closes */
		px->stats.request_too_large++;
		s->req_state = HP_REQ_DEAD;
		hp_local_reply(s, 413, "-", "request body too large", true);
		return;
	}

	snap = px->snapshot(px->snapshot_arg);
	route_request_fill(s, &rq);
	if (snap == NULL || gw_route_lookup(snap, px->worker_id, &rq, &res) != 0) {
		px->stats.no_route++;
		hp_local_reply(s, 404, "NR", "route not found", false);
		goto done;
	}
	/* the request keeps its snapshot until the exchange ends */
	s->x->snap = snap;
	if (px->snapshot_hold != NULL)
		s->x->snap_hold = px->snapshot_hold(px->snapshot_arg, snap);
	s->x->route = res;
	if (hp_policy_answer(s))
		goto done;
	if (res.cluster == GW_ROUTE_NO_CLUSTER) {
		px->stats.no_route++;
		hp_local_reply(s, 404, "NR", "route not found", false);
		goto done;
	}
	if (res.fault_delay && s->x->snap_hold != NULL) {
		/* fault.delay: forwarding waits on the timer list, and so
		 * does the rest of the client's input; nothing blocks */
		px->stats.fault_delays++;
		hp_strlcpy(s->x->log.flags, sizeof(s->x->log.flags), "DI", 2);
		s->delayed = true;
		s->delay_deadline = px->now +
			(uint64_t)res.route->spec->fault.delay.fixed_delay_us *
			px->tsc_hz / 1000000;
		timer_update(s);
		return;
	}
	request_forward(s, &rq);
	return;
done:
	if (s->req_state == HP_REQ_DONE)
		request_complete(s);
}

/* Pick an endpoint of the request's cluster, preferring one other than
 * the last try's (Envoy's previous_hosts predicate, a few picks). */
static int
endpoint_pick(struct hp_session *s, const struct gw_route_request *rq)
{
	struct gw_http_proxy *px = s->px;
	const struct gw_route_cluster *cl =
		gw_route_snapshot_cluster(s->x->snap, s->x->route.cluster);
	int e = -1;

	for (int k = 0; k < 4; k++) {
		e = gw_route_pick_endpoint(s->x->snap, px->worker_id,
					   s->x->route.cluster, rq,
					   hp_outlier_health(s), NULL);
		if (e < 0 || e != s->x->retry.last_ep || cl->n_endpoints < 2)
			break;
	}
	if (e < 0 || cl->endpoints[e].family != AF_INET ||
	    cl->endpoints[e].port == 0)
		return -1;
	return e;
}

/* A try failed and the policy allows another: forget this upstream, wait
 * the back-off (the client's input waits too), then try_send() again. */
static void
retry_schedule(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;

	upstream_drop(s);
	s->x->retry.left--;
	s->x->retry.waiting = true;
	px->stats.retries++;
	s->try_deadline = 0;
	s->resp_state = HP_RESP_HEAD;
	s->resp_got_bytes = false;
	gw_http_parser_reset(&s->x->resp);
	s->delayed = true;
	s->delay_deadline = px->now + hp_retry_backoff(px, s->x->retry.attempts);
	timer_update(s);
}

/* After the gateway's answer to a failed last try: when earlier tries
 * were retried, the log says the retry limit was reached (Envoy's URX). */
static void
retry_note_exhausted(struct hp_session *s)
{
	size_t l = strlen(s->x->log.flags);

	if (s->x->retry.attempts < 2)
		return;
	s->px->stats.retries_exhausted++;
	if (l + 4 < sizeof(s->x->log.flags))
		memcpy(s->x->log.flags + l, ",URX", 5);
}

/* One try: an endpoint, a pooled or new connection, and @p head (the
 * request head, and on a retry the body held so far) queued to it.
 * @p rq0: the request's routing fields when the caller has them, or NULL. */
static void
try_send(struct hp_session *s, struct hp_queue *head,
	 const struct gw_route_request *rq0)
{
	struct gw_http_proxy *px = s->px;
	const struct gw_http_head *h = &s->x->req.head;
	const struct gw_route_cluster *cl =
		gw_route_snapshot_cluster(s->x->snap, s->x->route.cluster);
	const struct gw_connection_pool *pool = cl->connection_pool;
	const struct gw_route_endpoint *ep;
	struct gw_route_request rq_own;
	const struct gw_route_request *rq = rq0;
	struct hp_upstream *u;
	char ip[16];
	uint16_t fail = 0;
	bool first = s->x->retry.attempts == 0 && !s->waited;
	uint32_t slot = HP_NONE, max_conns = 0, max_pending = UINT32_MAX;
	int e;

	/* connectionPool limits, split among the workers (each enforces
	 * its share without sharing counters) */
	if (pool != NULL && pool->max_connections > 0)
		max_conns = ((uint32_t)pool->max_connections + px->n_workers - 1) /
			    px->n_workers;
	if (pool != NULL && pool->http1_max_pending_requests > 0)
		max_pending = ((uint32_t)pool->http1_max_pending_requests +
			       px->n_workers - 1) / px->n_workers;
	if (max_conns != 0)
		slot = hp_cluster_slot(px, cl->name);

	if (rq == NULL) {
		route_request_fill(s, &rq_own);
		rq = &rq_own;
	}
	e = endpoint_pick(s, rq);
	if (e < 0) {
		hp_queue_drop(head);
		px->stats.no_healthy_upstream++;
		hp_local_reply(s, 503, "UH", "no healthy upstream", false);
		goto done;
	}
	ep = &cl->endpoints[e];
	{
		/* "a.b.c.d:port": 21 bytes at most, the field has 24 */
		char *p = s->x->log.upstream_host;

		p += format_ip(p, sizeof(ip), ep->addr.v4);
		*p++ = ':';
		p = hp_put_u16(p, ep->port);
		*p = '\0';
	}

	u = hp_upstream_pool_get(px, ep->addr.v4, ep->port);
	if (u == NULL && slot != HP_NONE &&
	    px->clusters[slot].in_use >= max_conns) {
		/* circuit breaking: wait for a connection, or overflow */
		if (px->clusters[slot].pending < max_pending) {
			px->stats.upstream_pending++;
			s->x->wait_q = *head;
			memset(head, 0, sizeof(*head));
			hp_cluster_wait(px, slot, s);
			s->delayed = true;
			goto done;
		}
		hp_queue_drop(head);
		px->stats.upstream_overflow++;
		hp_local_reply(s, 503, "UO",
			       "upstream connect error or disconnect/reset before headers. reset reason: overflow",
			       false);
		goto done;
	}
	s->x->retry.last_ep = e;
	s->x->retry.attempts++;
	s->x->log.attempts = s->x->retry.attempts;
	if (u == NULL) {
		u = hp_upstream_connect(px, ep->addr.v4, ep->port, &fail);
		if (u == NULL) {
			hp_queue_drop(head);
			if (fail == 502 && hp_retry_failure(s, HP_TRY_CONNECT)) {
				retry_schedule(s);
				return;
			}
			if (fail == 502) {
				px->stats.upstream_failure++;
				hp_local_reply(s, 502, "UF",
					"upstream connect error or disconnect/reset before headers",
					false);
				retry_note_exhausted(s);
			} else {
				px->stats.no_healthy_upstream++;
				hp_local_reply(s, 503, "UO",
					       "upstream overflow", false);
			}
			goto done;
		}
		if (pool != NULL && pool->max_requests_per_connection > 0)
			u->max_requests = (uint32_t)pool->max_requests_per_connection;
		if (pool != NULL && pool->idle_timeout_us > 0)
			u->idle_tsc = (uint64_t)pool->idle_timeout_us *
				      px->tsc_hz / 1000000;
		if (!u->established) {
			uint64_t tmo = px->connect_tsc;

			if (pool != NULL && pool->connect_timeout_us > 0)
				tmo = (uint64_t)pool->connect_timeout_us *
				      px->tsc_hz / 1000000;
			if (tmo != 0)
				s->connect_deadline = px->now + tmo;
		}
	}
	hp_upstream_in_use(u, slot);
	u->requests++;
	u->s = s;
	s->up = u;
	if (head->head != NULL)
		hp_queue_append(&s->to_up, head->head);
	head->head = head->tail = NULL;
	head->bytes = 0;
	s->x->upstream_tsc = px->now;
	gw_http_parser_reset(&s->x->resp);
	s->x->resp.request_method = h->method;
	s->try_deadline = s->x->retry.per_try_tsc != 0 ?
			  px->now + s->x->retry.per_try_tsc : 0;
	timer_update(s);
done:
	/* the request was complete before its first try (or its wait) */
	if (first && s->req_state == HP_REQ_DONE)
		request_complete(s);
	if (s->conn_wait)
		s->waited = true;
}

void
hp_session_conn_ready(struct hp_session *s)
{
	/* resumed from the timer scan, outside whatever session freed the
	 * connection */
	s->delay_deadline = s->px->now;
	timer_update(s);
}

/* Send the routed request (s->x->route) upstream: the fresh head (held for
 * retries as references), mirrors, then the first try. @p rq0: the
 * request's routing fields when the caller has them, or NULL. */
static void
request_forward(struct hp_session *s, const struct gw_route_request *rq0)
{
	struct gw_http_proxy *px = s->px;
	const struct gw_http_head *h = &s->x->req.head;
	const struct gw_route_snapshot *snap = s->x->snap;
	const struct gw_route_result res = s->x->route;
	const struct gw_route_cluster *cl;
	const struct gw_route_destination *dst;
	struct gw_route_request rq_own;
	const struct gw_route_request *rq = rq0;
	struct hp_request_rewrite rw;
	struct hp_queue head = { NULL, NULL, 0 };
	struct hp_writer w;
	int rid;

	if (rq == NULL) {
		route_request_fill(s, &rq_own);
		rq = &rq_own;
	}
	cl = gw_route_snapshot_cluster(snap, res.cluster);
	hp_strlcpy(s->x->log.cluster, sizeof(s->x->log.cluster), cl->name,
		   cl->name_len);
	dst = res.destination >= 0 ? &res.route->destinations[res.destination] :
				     NULL;
	memset(&rw, 0, sizeof(rw));
	if (res.route->spec != NULL) {
		rw.ops[0] = &res.route->spec->headers.request;
		s->x->resp_ops[0] = &res.route->spec->headers.response;
		if (res.route->spec->timeout_us > 0)
			s->x->timeout_tsc = (uint64_t)res.route->spec->timeout_us *
					 px->tsc_hz / 1000000;
	}
	if (dst != NULL && dst->headers != NULL) {
		rw.ops[1] = &dst->headers->request;
		s->x->resp_ops[1] = &dst->headers->response;
	}
	hp_policy_rewrite(s, &rw);

	/* the fresh head: the only bytes of the request that are written */
	rw.client_ip = s->client_ip_str;
	rw.client_ip_len = s->client_ip_len;
	rid = gw_http_header_find_id(h, GW_HTTP_F_X_REQUEST_ID, 0);
	rw.has_request_id = rid >= 0;
	if (!rw.has_request_id) {
		RTE_BUILD_BUG_ON(sizeof(s->x->log.request_id) < HP_REQUEST_ID_LEN + 1);
		request_id_generate(px, rw.request_id);
		memcpy(s->x->log.request_id, rw.request_id, HP_REQUEST_ID_LEN + 1);
	}
	/* the log shows x-forwarded-for as forwarded: with the client added */
	{
		const char *client_ip = s->client_ip_str;
		size_t l = s->x->log.xff[0] != '\0' ? strlen(s->x->log.xff) : 0;
		size_t n = s->client_ip_len;

		if (l != 0 && l + 2 < sizeof(s->x->log.xff)) {
			memcpy(s->x->log.xff + l, ", ", 2);
			l += 2;
		}
		if (l + n < sizeof(s->x->log.xff)) {
			memcpy(s->x->log.xff + l, client_ip, n + 1);
		} else {
			/* truncated, as snprintf would */
			memcpy(s->x->log.xff + l, client_ip, sizeof(s->x->log.xff) - l - 1);
			s->x->log.xff[sizeof(s->x->log.xff) - 1] = '\0';
		}
	}
	hp_writer_init(&w, px->pool);
	hp_rewrite_request(&w, h, &rw);
	px->stats.copied_bytes += w.len;
	if (!hp_writer_finish(&w, &head)) {
		px->stats.no_mbuf++;
		session_abort(s, "DPE");
		return;
	}
	hp_retry_policy(s);
	hp_retry_hold_head(s, &head);
	hp_mirror_begin(s, snap, &res, rq, h, &rw, &head);
	try_send(s, &head, rq);
}

/* The request head was invalid: answer (400, 414, 431, 501, 505) and close. */
static void
request_reject(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	uint16_t st = s->x->req.status != 0 ? s->x->req.status : 400;

	px->stats.requests++;
	px->stats.bad_request++;
	memset(&s->x->log, 0, sizeof(s->x->log));
	s->start_tsc = px->now;
	s->x->log.start_us = px->base_us +
			  (px->now - px->base_tsc) * 1000000 / px->tsc_hz;
	s->x->log.upstream_ms = -1;
	s->x->log.version_minor = 1;
	s->keep_alive = false;
	hp_local_reply(s, st, "DPE", gw_http_strerror(s->x->req.err), true);
	/* nothing after an invalid head can be framed: read no more */
	s->req_state = HP_REQ_DEAD;
	if (s->conn != NULL)
		gw_tcp_recv_consumed(s->conn, s->in.bytes - s->in_off);
	hp_queue_drop(&s->in);
	s->in_off = 0;
}

/* The request body cannot go on (invalid framing, over the limit): before
 * any response, the client hears why and the connection closes (Envoy
 * answers so too); the upstream, which got part of the request, is reset.
 * After a response has started, only a reset is left. */
static void
request_body_refused(struct hp_session *s, uint16_t status, const char *flag,
		     const char *text)
{
	if (s->resp_head_sent || s->conn == NULL) {
		session_abort(s, "DPE");
		return;
	}
	upstream_drop(s);
	hp_retry_release(s);
	if (s->x->n_mirrors > 0)
		hp_mirror_finish(s, true);
	s->req_state = HP_REQ_DEAD;
	hp_local_reply(s, status, flag, text, true);
}

/* Parse and forward client input as far as the state allows. */
static void
request_process(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;

	while (!s->dead && s->conn != NULL) {
		struct rte_mbuf *seg;
		const uint8_t *data;
		uint32_t avail, n;
		size_t used;
		int rc;

		if (s->req_state == HP_REQ_DONE || s->req_state == HP_REQ_DEAD ||
		    s->delayed)
			return;
		if (s->to_up.head != NULL && s->up != NULL && s->up->conn != NULL &&
		    flush_queue(px, &s->to_up, s->up->conn) < 0)
			hp_queue_drop(&s->to_up); /* the response side reports it */
		if (s->to_up.head != NULL)
			return; /* the upstream has not taken what we built */
		/* a new request waits until the previous response has left */
		if (s->req_state == HP_REQ_HEAD &&
		    (s->to_client.head != NULL || s->close_after || s->shut))
			return;
		seg = s->in.head;
		if (seg == NULL)
			return;
		avail = seg->data_len - s->in_off;
		if (avail == 0) {
			advance(&s->in, &s->in_off, 0);
			continue;
		}
		data = rte_pktmbuf_mtod_offset(seg, const uint8_t *, s->in_off);
		if (s->req_state == HP_REQ_HEAD) {
			if (!exchange_take(s))
				return; /* its input waits, unconsumed */
			rc = gw_http_head_parse(&s->x->req, data, avail, &used);
			if (rc < 0) {
				request_reject(s);
				return;
			}
			gw_tcp_recv_consumed(s->conn, (uint32_t)used);
			if (rc == GW_HTTP_AGAIN) {
				advance(&s->in, &s->in_off, (uint32_t)used);
				continue;
			}
			/* the head may point into seg: route before releasing it */
			s->in_off += (uint32_t)used;
			request_begin(s);
			/* a delayed request's head still points into seg */
			if (s->in_off >= seg->data_len && !s->dead && !s->delayed)
				advance(&s->in, &s->in_off, 0);
			continue;
		}
		/* body */
		if (s->req_body == GW_HTTP_BODY_LENGTH) {
			n = s->x->req_remaining < avail ? (uint32_t)s->x->req_remaining :
						       avail;
			s->x->req_remaining -= n;
		} else {
			rc = gw_http_chunked_feed(&s->x->req_chunked, data, avail,
						  NULL, 0, &used);
			if (rc < 0) {
				/* the body cannot be framed: nothing more is
				 * safe */
				px->stats.bad_request++;
				request_body_refused(s, 400, "DPE",
						     gw_http_strerror(-rc));
				return;
			}
			n = (uint32_t)used;
		}
		s->x->req_body_bytes += n;
		if (px->max_request_body != 0 &&
		    s->x->req_body_bytes > px->max_request_body) {
			/* a chunked body beyond limits.request_body */
			px->stats.request_too_large++;
			request_body_refused(s, 413, "-", "request body too large");
			return;
		}
		s->x->log.bytes_received += n;
		px->stats.bytes_received += n;
		gw_tcp_recv_consumed(s->conn, n);
		if (s->x->n_mirrors > 0)
			hp_mirror_body(s, s->in.head, s->in_off, n);
		if (s->discard || s->up == NULL) {
			advance(&s->in, &s->in_off, n);
		} else if (forward(px, &s->in, &s->in_off, n, &s->to_up) != 0) {
			session_abort(s, "DPE");
			return;
		} else {
			hp_retry_hold_body(s, s->to_up.tail);
		}
		if ((s->req_body == GW_HTTP_BODY_LENGTH && s->x->req_remaining == 0) ||
		    (s->req_body == GW_HTTP_BODY_CHUNKED &&
		     gw_http_chunked_done(&s->x->req_chunked)))
			request_complete(s);
	}
}

/* ---- response side ---- */

static void
response_complete(struct hp_session *s)
{
	s->resp_state = HP_RESP_DONE;
	s->route_deadline = 0;
	timer_update(s);
}

static void
response_head(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	const struct gw_http_head *h = &s->x->resp.head;
	const struct gw_header_ops *none[HP_HEADER_OPS] = {NULL, NULL};
	const struct gw_header_ops *const *ops = none;
	struct hp_writer w;
	int32_t ust;

	ust = (int32_t)((px->now - s->x->upstream_tsc) * 1000 / px->tsc_hz);
	hp_outlier_report(s, h->status);
	if (!h->informational && hp_retry_status(s, h->status)) {
		/* retryOn matches and a try is left: this response is
		 * never shown; its connection is dropped unread */
		retry_schedule(s);
		return;
	}
	if (!h->informational) {
		s->status = h->status;
		s->x->log.upstream_ms = ust;
		s->resp_body = (uint8_t)h->body;
		s->x->resp_remaining = h->body == GW_HTTP_BODY_LENGTH ?
				    h->content_length : 0;
		if (h->body == GW_HTTP_BODY_CHUNKED) {
			gw_http_chunked_init(&s->x->resp_chunked);
			/* an HTTP/1.0 client cannot read chunked framing */
			s->dechunk = s->http10;
		}
		if (h->body == GW_HTTP_BODY_CLOSE || h->body == GW_HTTP_BODY_TUNNEL ||
		    s->dechunk)
			s->close_after = true;
		if (!h->keep_alive && s->up != NULL)
			s->up->no_reuse = true;
		/* header operations come from the snapshot of the request:
		 * held, or (no hold) skipped once it is no longer in force */
		if (s->x->snap_hold != NULL ||
		    (s->x->snap != NULL && s->x->snap == px->snapshot(px->snapshot_arg)))
			ops = s->x->resp_ops;
	}
	hp_writer_init(&w, px->pool);
	hp_rewrite_response(&w, h, ops, s->dechunk, s->close_after,
			    s->http10 && !s->close_after, ust,
			    ops != NULL ? s : NULL);
	px->stats.copied_bytes += w.len;
	if (!hp_writer_finish(&w, &s->to_client)) {
		px->stats.no_mbuf++;
		session_abort(s, "DPE");
		return;
	}
	s->resp_head_sent = true;
	if (h->informational) {
		/* 100 Continue and friends: the final response follows */
		gw_http_parser_reset(&s->x->resp);
		return;
	}
	if (h->body == GW_HTTP_BODY_NONE)
		response_complete(s);
	else
		s->resp_state = HP_RESP_BODY;
}

/* The upstream half-closed or closed and everything it sent is processed. */
static void
upstream_ended(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	struct hp_upstream *u = s->up;

	if (s->resp_state == HP_RESP_BODY && s->resp_body == GW_HTTP_BODY_CLOSE &&
	    !u->reset) {
		response_complete(s);
		return;
	}
	if (s->resp_state == HP_RESP_HEAD && !s->resp_head_sent) {
		/* reset or closed before a response: another try, or 502 */
		hp_outlier_report(s, 503);
		if (hp_retry_failure(s, u->established ? HP_TRY_RESET :
						       HP_TRY_CONNECT)) {
			retry_schedule(s);
			return;
		}
		px->stats.upstream_failure++;
		upstream_drop(s);
		hp_local_reply(s, 502, "UF",
			       "upstream connect error or disconnect/reset before headers",
			       false);
		retry_note_exhausted(s);
		return;
	}
	if (s->resp_state == HP_RESP_HEAD || s->resp_state == HP_RESP_BODY) {
		/* a response cut short: the client must not take it as whole */
		px->stats.upstream_resets++;
		session_abort(s, "UC");
		return;
	}
	/* between requests or after the response: just forget it */
	if (s->req_state != HP_REQ_BODY || s->discard)
		return;
	/* the response is complete but the request body is not sent */
	hp_queue_drop(&s->to_up);
	s->discard = true;
}

static bool
client_flush(struct hp_session *s)
{
	int rc;

	if (s->to_client.head == NULL)
		return true;
	if (s->conn == NULL) {
		hp_queue_drop(&s->to_client);
		return true;
	}
	rc = flush_queue(s->px, &s->to_client, s->conn);
	if (rc < 0) {
		s->px->stats.downstream_resets++;
		session_abort(s, "DC");
		return false;
	}
	return rc == 1;
}

static void
response_process(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	struct gw_http_span spans[16];
	bool with_body = false;   /* the head just written waits for its body */

	while (!s->dead && s->up != NULL) {
		struct hp_upstream *u = s->up;
		struct rte_mbuf *seg;
		const uint8_t *data;
		uint32_t avail, n;
		size_t used;
		int rc;

		if (!with_body || u->in.head == NULL) {
			if (!client_flush(s))
				return;
			if (s->to_client.head != NULL)
				return; /* the client has not taken what we built */
		}
		with_body = false;
		seg = u->in.head;
		if (seg == NULL) {
			if (u->fin)
				upstream_ended(s);
			return;
		}
		if (s->resp_state != HP_RESP_HEAD && s->resp_state != HP_RESP_BODY) {
			/* bytes beyond the response: the connection is unusable */
			if (u->conn != NULL)
				gw_tcp_recv_consumed(u->conn, u->in.bytes - u->in_off);
			hp_queue_drop(&u->in);
			u->in_off = 0;
			u->no_reuse = true;
			return;
		}
		avail = seg->data_len - u->in_off;
		if (avail == 0) {
			advance(&u->in, &u->in_off, 0);
			continue;
		}
		data = rte_pktmbuf_mtod_offset(seg, const uint8_t *, u->in_off);
		s->resp_got_bytes = true;
		if (s->resp_state == HP_RESP_HEAD) {
			rc = gw_http_head_parse(&s->x->resp, data, avail, &used);
			if (rc < 0) {
				px->stats.bad_response++;
				if (s->resp_head_sent) {
					session_abort(s, "UPE");
					return;
				}
				upstream_drop(s);
				hp_local_reply(s, 502, "UPE",
					       "upstream sent an invalid response", false);
				return;
			}
			if (u->conn != NULL)
				gw_tcp_recv_consumed(u->conn, (uint32_t)used);
			if (rc == GW_HTTP_AGAIN) {
				advance(&u->in, &u->in_off, (uint32_t)used);
				continue;
			}
			u->in_off += (uint32_t)used;
			response_head(s);
			if (!s->dead && s->up == u && u->in_off >= seg->data_len)
				advance(&u->in, &u->in_off, 0);
			/* The head and the body bytes already here leave in
			 * one send when the client takes them all, as it would
			 * in two (TCP transmits from its poll: the same
			 * segments); otherwise the head goes first, alone. */
			with_body = s->resp_state == HP_RESP_BODY && s->up == u &&
				    s->conn != NULL &&
				    gw_tcp_send_space(s->conn) >=
				    s->to_client.bytes + (u->in.bytes - u->in_off);
			continue;
		}
		/* body */
		if (s->resp_body == GW_HTTP_BODY_LENGTH) {
			n = s->x->resp_remaining < avail ? (uint32_t)s->x->resp_remaining :
							avail;
			s->x->resp_remaining -= n;
			rc = forward(px, &u->in, &u->in_off, n, &s->to_client);
			s->x->log.bytes_sent += n;
		} else if (s->resp_body == GW_HTTP_BODY_CHUNKED) {
			uint32_t off = u->in_off;

			rc = gw_http_chunked_feed(&s->x->resp_chunked, data, avail,
						  s->dechunk ? spans : NULL,
						  s->dechunk ? RTE_DIM(spans) : 0,
						  &used);
			if (rc < 0) {
				px->stats.bad_response++;
				session_abort(s, "UPE");
				return;
			}
			n = (uint32_t)used;
			if (!s->dechunk) {
				rc = forward(px, &u->in, &u->in_off, n,
					     &s->to_client);
				s->x->log.bytes_sent += n;
			} else {
				int k, nspans = rc;

				rc = 0;
				for (k = 0; k < nspans && rc == 0; k++) {
					rc = emit_range(px, seg,
						off + (uint32_t)spans[k].off,
						(uint32_t)spans[k].len,
						&s->to_client);
					s->x->log.bytes_sent += spans[k].len;
				}
				if (rc == 0)
					advance(&u->in, &u->in_off, n);
			}
		} else {
			/* close-delimited (or a tunnel): everything until FIN */
			n = avail;
			rc = forward(px, &u->in, &u->in_off, n, &s->to_client);
			s->x->log.bytes_sent += n;
		}
		if (rc != 0) {
			session_abort(s, "DPE");
			return;
		}
		px->stats.bytes_sent += n;
		if (u->conn != NULL)
			gw_tcp_recv_consumed(u->conn, n);
		if ((s->resp_body == GW_HTTP_BODY_LENGTH && s->x->resp_remaining == 0) ||
		    (s->resp_body == GW_HTTP_BODY_CHUNKED &&
		     gw_http_chunked_done(&s->x->resp_chunked)))
			response_complete(s);
	}
}

/* ---- the exchange ---- */

static void
count_status(struct gw_http_proxy *px, uint16_t st)
{
	if (st >= 500)
		px->stats.rq_5xx++;
	else if (st >= 400)
		px->stats.rq_4xx++;
	else if (st >= 300)
		px->stats.rq_3xx++;
	else if (st >= 200)
		px->stats.rq_2xx++;
}

/* Request and response are both complete: log, pool, and go on. */
static void
exchange_end(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	struct hp_upstream *u = s->up;

	px->stats.responses++;
	count_status(px, s->status);
	hp_log_emit(s, NULL);
	if (s->x->n_mirrors > 0)
		hp_mirror_finish(s, false);
	snapshot_unhold(s);
	hp_retry_release(s);
	s->try_deadline = 0;
	s->route_deadline = 0;
	s->connect_deadline = 0;
	timer_update(s);
	if (u != NULL) {
		s->up = NULL;
		u->s = NULL;
		if (s->to_up.head == NULL && !s->discard && u->in.head == NULL)
			hp_upstream_pool_put(u);
		else
			hp_upstream_release(u);
	}
	hp_queue_drop(&s->to_up);
	s->resp_state = HP_RESP_NONE;
	s->start_tsc = 0;
	if (s->close_after || s->client_fin || s->req_state == HP_REQ_DEAD) {
		s->req_state = HP_REQ_DEAD;
		exchange_put(s);
		return;
	}
	s->req_state = HP_REQ_HEAD;
	/* the head was read until now; pipelined bytes keep the context */
	if (s->in.bytes == s->in_off)
		exchange_put(s);
	else
		gw_http_parser_reset(&s->x->req);
}

static void
run_once(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;

	if (s->up != NULL && s->connect_deadline != 0 && s->up->established) {
		s->connect_deadline = 0;
		timer_update(s);
	}
	request_process(s);
	if (s->dead)
		return;
	if (s->up != NULL) {
		if (s->up->conn != NULL && s->to_up.head != NULL &&
		    flush_queue(px, &s->to_up, s->up->conn) < 0)
			hp_queue_drop(&s->to_up);
		response_process(s);
		if (s->dead)
			return;
	}
	if (!client_flush(s))
		return;
	if ((s->req_state == HP_REQ_DONE || s->req_state == HP_REQ_DEAD) &&
	    s->resp_state == HP_RESP_DONE) {
		exchange_end(s);
		s->rerun = true; /* a pipelined request may be waiting */
		return;
	}
	if (s->client_fin && s->in.head == NULL) {
		if (s->req_state == HP_REQ_HEAD)
			s->req_state = HP_REQ_DEAD;
		else if (s->req_state == HP_REQ_BODY) {
			/* the client gave up in the middle of its body */
			px->stats.downstream_resets++;
			session_abort(s, "DC");
			return;
		}
	}
	if (s->req_state == HP_REQ_DEAD && s->resp_state == HP_RESP_NONE &&
	    s->to_client.head == NULL && !s->shut && s->conn != NULL) {
		if (s->in.head != NULL) {
			gw_tcp_recv_consumed(s->conn, s->in.bytes - s->in_off);
			hp_queue_drop(&s->in);
			s->in_off = 0;
		}
		exchange_put(s); /* e.g. a head cut short by the client's FIN */
		s->shut = true;
		gw_tcp_shutdown(s->conn);
	}
}

static void
session_run(struct hp_session *s)
{
	if (s->running) {
		s->rerun = true;
		return;
	}
	s->running = true;
	do {
		s->rerun = false;
		run_once(s);
	} while (s->rerun && !s->dead);
	s->running = false;
	if (s->dead)
		session_release(s);
}

void
hp_session_upstream_event(struct hp_session *s)
{
	session_run(s);
}

/* ---- client callbacks ---- */

static void
on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct hp_session *s = ctx;

	if (s->req_state == HP_REQ_DEAD || s->shut) {
		gw_tcp_recv_consumed(c, m->pkt_len);
		rte_pktmbuf_free(m);
		return;
	}
	hp_queue_append(&s->in, m);
	session_run(s);
}

static void
on_writable(struct gw_tcp_conn *c, void *ctx)
{
	RTE_SET_USED(c);
	session_run(ctx);
}

static void
on_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct hp_session *s = ctx;

	RTE_SET_USED(c);
	s->client_fin = true;
	session_run(s);
}

static void
on_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct hp_session *s = ctx;

	RTE_SET_USED(c);
	s->conn = NULL;
	if (reason == GW_TCP_CLOSED_STACK_STOP) {
		/* the stack closes every connection itself: no resets, no sends */
		if (s->up != NULL) {
			struct hp_upstream *u = s->up;

			s->up = NULL;
			u->s = NULL;
			if (u->conn != NULL)
				u->state = HP_UP_CLOSING; /* its on_closed frees it */
			else
				hp_upstream_abort(u);
		}
		session_release(s);
		return;
	}
	if (reason != GW_TCP_CLOSED_NORMAL && exchange_in_flight(s))
		s->px->stats.downstream_resets++;
	session_abort(s, "DC");
}

/* ---- accept, listen, poll ---- */

static void *
hp_accept(void *listener_ctx, struct gw_tcp_conn *c,
	  const struct gw_tcp_callbacks **cb)
{
	struct gw_http_proxy *px = listener_ctx;
	struct hp_session *s;
	uint16_t rport;

	if (px->free_head == HP_NONE) {
		px->stats.no_session++;
		return NULL;
	}
	s = &px->sessions[px->free_head];
	px->free_head = s->next;
	s->next = s->prev = HP_NONE;
	s->used = true;
	s->dead = s->running = s->rerun = false;
	s->conn = c;
	s->up = NULL;
	memset(&s->in, 0, sizeof(s->in));
	memset(&s->to_up, 0, sizeof(s->to_up));
	memset(&s->to_client, 0, sizeof(s->to_client));
	s->in_off = 0;
	s->req_state = HP_REQ_HEAD;
	s->resp_state = HP_RESP_NONE;
	s->discard = s->close_after = s->client_fin = s->shut = false;
	s->route_deadline = s->connect_deadline = 0;
	s->delay_deadline = s->try_deadline = 0;
	s->delayed = s->conn_wait = false;
	s->pend_slot = s->pend_next = HP_NONE;
	s->timed = false;
	s->start_tsc = 0;
	s->x = NULL;
	s->x_wait = false;
	s->xw_next = s->xw_prev = HP_NONE;
	gw_tcp_conn_tuple(c, &s->listener_ip, &s->listener_port, &s->client_ip,
			  &rport);
	/* every request of the connection names its client: formatted once */
	s->client_ip_len = (uint8_t)format_ip(s->client_ip_str,
					      sizeof(s->client_ip_str), s->client_ip);
	px->stats.connections++;
	px->stats.active++;
	*cb = &client_cb;
	return s;
}

int
gw_http_proxy_listen(struct gw_http_proxy *px, uint32_t ip, uint16_t port)
{
	return gw_tcp_listen(px->stack, ip, port, hp_accept, px);
}

static void
session_timeout(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	bool connect = s->connect_deadline != 0 && px->now >= s->connect_deadline;
	bool route = s->route_deadline != 0 && px->now >= s->route_deadline;
	bool per_try = !route && !connect && s->try_deadline != 0 &&
		       px->now >= s->try_deadline;

	if (s->conn_wait) {
		/* the route timeout ran out while waiting for a connection */
		hp_cluster_unwait(px, s);
		hp_queue_drop(&s->x->wait_q);
		s->delayed = false;
		s->delay_deadline = 0;
	}
	s->connect_deadline = 0;
	s->try_deadline = 0;
	if (route)
		s->route_deadline = 0;
	timer_update(s);
	if (s->resp_head_sent || s->resp_state != HP_RESP_HEAD) {
		/* too late for a gateway response: cut the stream */
		px->stats.upstream_timeout++;
		session_abort(s, "UT");
		return;
	}
	if (per_try)
		px->stats.per_try_timeouts++;
	hp_outlier_report(s, connect ? 503 : 504);
	/* the route's timeout covers every try; a try's own may be retried */
	if (!route && hp_retry_failure(s, connect ? HP_TRY_CONNECT :
					      HP_TRY_TIMEOUT)) {
		retry_schedule(s);
		return;
	}
	s->route_deadline = 0;
	timer_update(s);
	upstream_drop(s);
	if (connect) {
		px->stats.upstream_failure++;
		hp_local_reply(s, 502, "UF",
			       "upstream connect error or disconnect/reset before headers",
			       false);
	} else {
		px->stats.upstream_timeout++;
		hp_local_reply(s, 504, "UT", "upstream request timeout", false);
	}
	retry_note_exhausted(s);
	session_run(s);
}

/* fault.delay is over: the held request goes upstream now, then the
 * client's input (its body, the next requests) flows again. */
static void
delay_over(struct hp_session *s)
{
	s->delay_deadline = 0;
	s->delayed = false;
	timer_update(s);
	if (s->dead)
		return;
	s->running = true;
	if (s->conn_wait) {
		struct hp_queue q = s->x->wait_q;

		s->conn_wait = false;
		memset(&s->x->wait_q, 0, sizeof(s->x->wait_q));
		try_send(s, &q, NULL);
	} else if (s->x->retry.waiting) {
		struct hp_queue q = { NULL, NULL, 0 };

		s->x->retry.waiting = false;
		if (hp_retry_replay(s, &q) != 0) {
			hp_queue_drop(&q);
			session_abort(s, "DPE");
		} else {
			try_send(s, &q, NULL);
		}
	} else {
		request_forward(s, NULL);
	}
	s->running = false;
	if (s->dead) {
		session_release(s);
		return;
	}
	if (s->in.head != NULL && s->in_off >= s->in.head->data_len)
		advance(&s->in, &s->in_off, 0);
	session_run(s);
}

void
gw_http_proxy_poll(struct gw_http_proxy *px, uint64_t now_tsc)
{
	uint32_t i, next;

	if (now_tsc > px->now)
		px->now = now_tsc;
	/* contexts returned since: the sessions waiting for one go on, in
	 * order (each takes one as its run processes its input) */
	while (px->x_free != HP_NONE && px->xw_head != HP_NONE) {
		uint32_t id = px->xw_head;

		session_run(&px->sessions[id]);
		if (px->xw_head == id)  /* it took none: not first any more */
			exchange_unwait(&px->sessions[id]);
	}
	/* skipped copies: a run that holds no snapshot ends with the loop
	 * iteration (its route pointers may not outlive it), others at 1 ms */
	hp_mirror_skip_flush(px, false);
	if (now_tsc < px->next_scan)
		return;
	px->next_scan = now_tsc + px->tsc_hz / 1000;
	for (i = px->timer_head; i != HP_NONE; i = next) {
		struct hp_session *s = &px->sessions[i];

		next = s->next;
		if (s->delay_deadline != 0 && now_tsc >= s->delay_deadline)
			delay_over(s);
		else if ((s->route_deadline != 0 && now_tsc >= s->route_deadline) ||
		    (s->connect_deadline != 0 && now_tsc >= s->connect_deadline) ||
		    (s->try_deadline != 0 && now_tsc >= s->try_deadline))
			session_timeout(s);
		/* a timeout may end sessions after this one in the list */
		if (next != HP_NONE && !px->sessions[next].timed)
			break;
	}
	if (px->n_idle > 0 && now_tsc >= px->next_idle_scan) {
		px->next_idle_scan = now_tsc + px->tsc_hz / 10;
		hp_upstream_expire(px);
	}
}

/* ---- life cycle ---- */

struct gw_http_proxy *
gw_http_proxy_create(const struct gw_http_proxy_params *p)
{
	struct gw_http_proxy *px;
	size_t per, hdrs;
	uint8_t *mem;
	struct timespec ts;
	unsigned int i;
	char name[RTE_RING_NAMESIZE];
	static uint32_t seq;

	if (p == NULL || p->stack == NULL || p->snapshot == NULL ||
	    p->pool == NULL || p->max_sessions == 0 ||
	    p->max_sessions >= HP_NONE || p->max_exchanges >= HP_NONE ||
	    p->n_ports > GW_CONFIG_MAX_PORTS ||
	    (p->n_ports > 0 && (p->ports == NULL || p->port_roles == NULL))) {
		rte_errno = EINVAL;
		return NULL;
	}
	px = rte_zmalloc_socket("gw_http_proxy", sizeof(*px), RTE_CACHE_LINE_SIZE,
				p->socket_id);
	if (px == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	px->limits.max_head = p->max_head != 0 ? p->max_head : 16 * 1024;
	px->limits.max_headers = p->max_headers != 0 ? p->max_headers : 100;
	px->max_request_body = p->max_request_body;
	px->limits.max_target = px->limits.max_head;
	px->sessions = rte_zmalloc_socket("gw_http_sessions",
		(size_t)p->max_sessions * sizeof(*px->sessions),
		RTE_CACHE_LINE_SIZE, p->socket_id);
	px->ups = rte_zmalloc_socket("gw_http_upstreams",
		(size_t)p->max_sessions * sizeof(*px->ups),
		RTE_CACHE_LINE_SIZE, p->socket_id);
	/* Head buffers are only written when a head spans segments: plain
	 * (lazily backed) memory rather than hugepages. */
	hdrs = px->limits.max_headers * sizeof(struct gw_http_header);
	per = 2 * ((size_t)px->limits.max_head + hdrs);
	px->n_exchanges = p->max_exchanges != 0 ? p->max_exchanges :
			  p->max_sessions;
	px->xs = rte_zmalloc_socket("gw_http_exchanges",
		(size_t)px->n_exchanges * sizeof(*px->xs), RTE_CACHE_LINE_SIZE,
		p->socket_id);
	px->parser_mem = calloc(px->n_exchanges, per);
	snprintf(name, sizeof(name), "gw_hplog_%u_%u", p->worker_id,
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	/* records packed in 64-byte elements (hp_accesslog.c) */
	px->log_ring = rte_ring_create_elem(name, HP_LOG_ELEM,
		HP_LOG_RING_ELEMS(p->accesslog_ring_size != 0 ?
				  p->accesslog_ring_size : 1024u),
		p->socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (px->sessions == NULL || px->ups == NULL || px->parser_mem == NULL ||
	    px->xs == NULL || px->log_ring == NULL) {
		gw_http_proxy_free(px);
		rte_errno = ENOMEM;
		return NULL;
	}
	px->stack = p->stack;
	px->worker_id = p->worker_id;
	px->snapshot = p->snapshot;
	px->snapshot_arg = p->snapshot_arg;
	if (p->snapshot_hold != NULL && p->snapshot_release != NULL) {
		px->snapshot_hold = p->snapshot_hold;
		px->snapshot_release = p->snapshot_release;
	}
	px->pool = p->pool;
	px->metrics = p->metrics;
	px->shadow_ring = p->shadow_ring;
	px->shadow_health = p->shadow_health;
	px->shadow_suffix = !p->shadow_no_host_suffix;
	px->tsc_hz = p->tsc_hz != 0 ? p->tsc_hz : rte_get_tsc_hz();
	px->now = p->start_tsc != 0 ? p->start_tsc : rte_rdtsc();
	px->idle_tsc = (uint64_t)(p->idle_timeout_ms != 0 ? p->idle_timeout_ms :
				  60000) * px->tsc_hz / 1000;
	px->connect_tsc = (uint64_t)p->connect_timeout_ms * px->tsc_hz / 1000;
	px->rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)p->worker_id << 32) ^
		  rte_rdtsc();
	clock_gettime(CLOCK_REALTIME, &ts);
	px->base_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	px->base_tsc = px->now;
	px->n_ports = p->n_ports;
	px->ports = p->ports;
	for (i = 0; i < p->n_ports; i++)
		if (p->port_roles[i] & GW_ROLE_UPSTREAM)
			px->upstream[px->n_upstream++] = i;
	px->n_sessions = p->max_sessions;
	px->timer_head = HP_NONE;
	for (i = 0; i < p->max_sessions; i++) {
		struct hp_session *s = &px->sessions[i];

		s->px = px;
		s->id = i;
		s->next = i + 1 < p->max_sessions ? i + 1 : HP_NONE;
		s->xw_next = s->xw_prev = HP_NONE;
	}
	px->xw_head = px->xw_tail = HP_NONE;
	mem = px->parser_mem;
	for (i = 0; i < px->n_exchanges; i++) {
		struct hp_exchange *x = &px->xs[i];
		uint8_t *b = mem + (size_t)i * per;

		x->next = i + 1 < px->n_exchanges ? i + 1 : HP_NONE;
		if (gw_http_parser_init(&x->req, GW_HTTP_REQUEST, &px->limits,
				b, px->limits.max_head,
				(struct gw_http_header *)(void *)(b + px->limits.max_head),
				px->limits.max_headers) != 0 ||
		    gw_http_parser_init(&x->resp, GW_HTTP_RESPONSE, &px->limits,
				b + per / 2, px->limits.max_head,
				(struct gw_http_header *)(void *)(b + per / 2 +
							  px->limits.max_head),
				px->limits.max_headers) != 0) {
			gw_http_proxy_free(px);
			rte_errno = EINVAL;
			return NULL;
		}
	}
	px->free_head = 0;
	px->x_free = 0;
	hp_upstream_init(px, p->max_sessions);
	px->n_workers = p->n_workers != 0 ? p->n_workers : 1;
	return px;
}

void
gw_http_proxy_free(struct gw_http_proxy *px)
{
	if (px == NULL)
		return;
	if (px->sessions != NULL && px->ups != NULL) {
		for (uint32_t i = 0; i < px->n_sessions; i++)
			if (px->sessions[i].used) {
				px->sessions[i].running = false;
				session_abort(&px->sessions[i], "DC");
			}
		hp_upstream_abort_all(px);
	}
	/* a pending run of skipped copies: the engine may be gone already */
	if (px->mirror_skip.hold != NULL)
		px->snapshot_release(px->snapshot_arg, px->mirror_skip.hold);
	rte_pktmbuf_free(px->mirror_skip.meta);
	rte_ring_free(px->log_ring);
	free(px->parser_mem);
	rte_free(px->xs);
	rte_free(px->ups);
	rte_free(px->sessions);
	rte_free(px);
}

const struct gw_http_proxy_stats *
gw_http_proxy_stats(const struct gw_http_proxy *px)
{
	return &px->stats;
}

struct rte_ring *
gw_http_proxy_accesslog_ring(const struct gw_http_proxy *px)
{
	return px->log_ring;
}

#define HP_COUNTER(f) {#f, offsetof(struct gw_http_proxy_stats, f)}
const struct gw_http_proxy_counter gw_http_proxy_counters[] = {
	HP_COUNTER(connections), HP_COUNTER(active), HP_COUNTER(requests),
	HP_COUNTER(responses), HP_COUNTER(responses_local),
	HP_COUNTER(rq_2xx), HP_COUNTER(rq_3xx), HP_COUNTER(rq_4xx),
	HP_COUNTER(rq_5xx), HP_COUNTER(no_route),
	HP_COUNTER(no_healthy_upstream), HP_COUNTER(upstream_failure),
	HP_COUNTER(upstream_timeout), HP_COUNTER(bad_request),
	HP_COUNTER(bad_response), HP_COUNTER(upstream_connects),
	HP_COUNTER(upstream_reused), HP_COUNTER(upstream_idle),
	HP_COUNTER(upstream_idle_expired), HP_COUNTER(upstream_max_requests),
	HP_COUNTER(upstream_active), HP_COUNTER(upstream_resets),
	HP_COUNTER(downstream_resets), HP_COUNTER(no_session),
	HP_COUNTER(no_upstream_slot), HP_COUNTER(bytes_received),
	HP_COUNTER(bytes_sent), HP_COUNTER(copied_bytes),
	HP_COUNTER(parser_copied_bytes), HP_COUNTER(indirect_mbufs),
	HP_COUNTER(send_blocked), HP_COUNTER(accesslog_records),
	HP_COUNTER(accesslog_dropped), HP_COUNTER(no_mbuf),
	HP_COUNTER(fault_aborts), HP_COUNTER(fault_delays),
	HP_COUNTER(direct_responses), HP_COUNTER(redirects),
	HP_COUNTER(retries), HP_COUNTER(retries_exhausted),
	HP_COUNTER(per_try_timeouts), HP_COUNTER(upstream_overflow),
	HP_COUNTER(upstream_pending), HP_COUNTER(request_too_large),
	HP_COUNTER(rewrite_too_long),
	HP_COUNTER(mirror_requests), HP_COUNTER(mirror_dropped),
	HP_COUNTER(mirror_unavailable), HP_COUNTER(exchange_waits),
};
#undef HP_COUNTER
const unsigned int gw_http_proxy_n_counters = RTE_DIM(gw_http_proxy_counters);

_Static_assert(sizeof(struct gw_http_proxy_stats) ==
	       RTE_DIM(gw_http_proxy_counters) * sizeof(uint64_t),
	       "every counter of struct gw_http_proxy_stats is named");

void
gw_http_proxy_stats_add(struct gw_http_proxy_stats *sum,
			const struct gw_http_proxy_stats *add)
{
	uint64_t *d = (uint64_t *)sum;
	const uint64_t *a = (const uint64_t *)add;

	for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		d[i] += a[i];
}
