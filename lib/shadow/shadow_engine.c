/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shadow engine: drains the workers' mirror rings, writes each copy
 * to a pooled keep-alive connection of its own TCP stack, reads and
 * discards the shadow's response (status and latency kept for parity),
 * and drops copies rather than let them grow without bound.
 *
 * A stream lives from its HEAD item until both its shadow exchange and
 * its primary ended (or its deadline passed). Items of a stream that is
 * gone (dropped) are freed and counted as unknown. Nothing here is ever
 * retried: a shadow is a best-effort copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "gw_net.h"
#include "shadow_private.h"

/* gw_port_role's upstream and shadow bits (lib/config, not a dependency) */
#define SH_ROLE_UPSTREAM (1u << 1)
#define SH_ROLE_SHADOW   (1u << 2)

static void c_on_established(struct gw_tcp_conn *c, void *ctx);
static void c_on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m);
static void c_on_writable(struct gw_tcp_conn *c, void *ctx);
static void c_on_fin(struct gw_tcp_conn *c, void *ctx);
static void c_on_closed(struct gw_tcp_conn *c, void *ctx,
			enum gw_tcp_close_reason reason);

static const struct gw_tcp_callbacks conn_cb = {
	.on_established = c_on_established,
	.on_data = c_on_data,
	.on_writable = c_on_writable,
	.on_fin = c_on_fin,
	.on_closed = c_on_closed,
};

/* ---- queues ---- */

static void
q_append(struct gw_shadow *sh, struct sh_queue *q, struct rte_mbuf *m)
{
	struct rte_mbuf *last = m;

	for (;;) {
		q->bytes += last->data_len;
		q->segs++;
		sh->stats.held_mbufs++;
		if (last->next == NULL)
			break;
		last = last->next;
	}
	if (q->head == NULL)
		q->head = m;
	else
		q->tail->next = m;
	q->tail = last;
}

static void
q_drop(struct gw_shadow *sh, struct sh_queue *q)
{
	if (q->head != NULL)
		rte_pktmbuf_free(q->head);
	sh->stats.held_mbufs -= q->segs;
	memset(q, 0, sizeof(*q));
}

/* ---- counters and the access log ---- */

static uint32_t
route_hash(const char *route, const char *cluster)
{
	uint32_t h = 2166136261u;

	for (const char *c = route; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (const char *c = cluster; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h;
}

/* The counters of (route, cluster): found by hash (a copy per copy at
 * 10,000 mirrored routes must not scan them all), else a new entry. */
static uint32_t
route_stat(struct gw_shadow *sh, const char *route, const char *cluster)
{
	uint32_t b = route_hash(route, cluster) & (SH_ROUTE_BUCKETS - 1);
	unsigned int i;

	for (;; b = (b + 1) & (SH_ROUTE_BUCKETS - 1)) {
		i = sh->route_index[b];
		if (i == SH_NONE)
			break;
		if (strcmp(sh->routes[i].route, route) == 0 &&
		    strcmp(sh->routes[i].cluster, cluster) == 0)
			return i;
	}
	if (sh->n_routes == SH_MAX_ROUTES) {
		sh->stats.stats_full++;
		return SH_NONE;
	}
	i = sh->n_routes;
	memset(&sh->routes[i], 0, sizeof(sh->routes[i]));
	snprintf(sh->routes[i].route, sizeof(sh->routes[i].route), "%s", route);
	snprintf(sh->routes[i].cluster, sizeof(sh->routes[i].cluster), "%s",
		 cluster);
	sh->route_index[b] = i;
	/* readers on another lcore see the entry whole */
	__atomic_store_n(&sh->n_routes, i + 1, __ATOMIC_RELEASE);
	return i;
}

static void
count_drops(struct gw_shadow *sh, uint32_t stat, enum gw_shadow_drop why,
	    uint32_t n)
{
	sh->stats.drops += n;
	if (stat != SH_NONE)
		sh->routes[stat].drops[why] += n;
}

static void
count_drop(struct gw_shadow *sh, uint32_t stat, enum gw_shadow_drop why)
{
	count_drops(sh, stat, why, 1);
}

/* ---- streams ---- */

static inline uint32_t
bucket_of(const struct gw_shadow *sh, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) &
	       (sh->n_buckets - 1);
}

static struct sh_stream *
stream_find(struct gw_shadow *sh, uint64_t key)
{
	uint32_t i;

	for (i = sh->buckets[bucket_of(sh, key)]; i != SH_NONE;
	     i = sh->streams[i].hnext)
		if (sh->streams[i].key == key)
			return &sh->streams[i];
	return NULL;
}

static struct sh_stream *
stream_alloc(struct gw_shadow *sh, uint64_t key)
{
	struct sh_stream *s;
	uint32_t b;

	if (sh->free_stream == SH_NONE)
		return NULL;
	s = &sh->streams[sh->free_stream];
	sh->free_stream = s->hnext;
	b = bucket_of(sh, key);
	memset(&s->out, 0, sizeof(s->out));
	s->key = key;
	s->used = true;
	s->end_seen = s->sent_all = s->shadow_done = s->primary_done = false;
	s->shadow_status = s->primary_status = 0;
	s->primary_us = s->shadow_us = 0;
	s->stat = SH_NONE;
	s->conn = NULL;
	s->start_tsc = sh->now;
	s->deadline = sh->now + sh->timeout_tsc;
	s->req_bytes = s->resp_bytes = 0;
	s->hnext = sh->buckets[b];
	sh->buckets[b] = s->id;
	sh->stats.streams++;
	return s;
}

static void conn_release(struct sh_conn *k, bool reusable);

static void
stream_free(struct gw_shadow *sh, struct sh_stream *s)
{
	uint32_t *p = &sh->buckets[bucket_of(sh, s->key)];

	while (*p != s->id)
		p = &sh->streams[*p].hnext;
	*p = s->hnext;
	if (s->conn != NULL) {
		struct sh_conn *k = s->conn;

		s->conn = NULL;
		k->s = NULL;
		conn_release(k, false);
	}
	q_drop(sh, &s->out);
	s->used = false;
	s->hnext = sh->free_stream;
	sh->free_stream = s->id;
	sh->stats.streams--;
}

/* Both sides ended: parity, then forget the stream. */
static void
stream_try_finish(struct gw_shadow *sh, struct sh_stream *s)
{
	if (!s->shadow_done || !s->primary_done)
		return;
	if (s->stat != SH_NONE)
		gw_shadow_parity_record(&sh->routes[s->stat], s->primary_status,
					s->primary_us, s->shadow_status,
					s->shadow_us);
	stream_free(sh, s);
}

/* The shadow side ended: a response (status != 0) or a failure. */
static void
shadow_end(struct gw_shadow *sh, struct sh_stream *s, uint16_t status,
	   const char *flag)
{
	if (s->shadow_done)
		return;
	s->shadow_done = true;
	s->shadow_status = status;
	s->shadow_us = (uint32_t)((sh->now - s->start_tsc) * 1000000 / sh->tsc_hz);
	q_drop(sh, &s->out);
	if (status != 0 && s->stat != SH_NONE)
		sh->routes[s->stat].responses++;
	sh_log_push(sh, s, flag);
	/* the primary's result may still be on its way */
	s->deadline = sh->now + sh->timeout_tsc;
}

/* The shadow failed (or a bound cut it): count, close, keep waiting for
 * the primary so that parity shows the failure. */
static void
stream_fail(struct gw_shadow *sh, struct sh_stream *s, enum gw_shadow_drop why,
	    const char *flag)
{
	struct sh_conn *k = s->conn;

	count_drop(sh, s->stat, why);
	if (k != NULL) {
		s->conn = NULL;
		k->s = NULL;
		conn_release(k, false);
	}
	shadow_end(sh, s, 0, flag);
	stream_try_finish(sh, s);
}

/* ---- endpoint health (gw_shadow_health) ---- */

/* The slot of @p ip:@p port, or a free one to claim (@p claim), or -1. */
static int
health_slot(struct gw_shadow *sh, uint32_t ip, uint16_t port, bool claim)
{
	struct gw_shadow_health *h = sh->health;
	uint64_t key = gw_shadow_health_key(ip, port);
	uint32_t home = gw_shadow_health_home(key);
	int reuse = -1;

	for (uint32_t n = 0; n < GW_SHADOW_HEALTH_PROBE; n++) {
		uint32_t j = (home + n) & (GW_SHADOW_HEALTH_SLOTS - 1);
		uint64_t k = h->slot[j].key;

		if (k == key)
			return (int)j;
		if (k == 0)
			return claim ? (reuse >= 0 ? reuse : (int)j) : -1;
		/* an endpoint healthy again: its slot may be taken over */
		if (reuse < 0 && sh->health_fails[j] == 0 &&
		    h->slot[j].until_tsc <= sh->now)
			reuse = (int)j;
	}
	return claim ? reuse : -1;
}

static void
endpoint_failed(struct gw_shadow *sh, uint32_t ip, uint16_t port)
{
	struct gw_shadow_health *h = sh->health;
	uint64_t back;
	int j;

	if (sh->unavailable_tsc == 0)
		return;
	j = health_slot(sh, ip, port, true);
	if (j < 0)
		return;  /* table crowded: that endpoint is simply tried each time */
	if (h->slot[j].key != gw_shadow_health_key(ip, port)) {
		sh->health_fails[j] = 0;
		__atomic_store_n(&h->slot[j].until_tsc, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&h->slot[j].key, gw_shadow_health_key(ip, port),
				 __ATOMIC_RELEASE);
	}
	/* copies already in flight fail too: one back-off per round */
	if (h->slot[j].until_tsc > sh->now)
		return;
	back = sh->unavailable_tsc << RTE_MIN(sh->health_fails[j], 15);
	if (back > sh->down_max_tsc)
		back = sh->down_max_tsc;
	if (sh->health_fails[j] < UINT8_MAX)
		sh->health_fails[j]++;
	sh->stats.endpoint_failures++;
	__atomic_store_n(&h->slot[j].until_tsc, sh->now + back, __ATOMIC_RELEASE);
}

static void
endpoint_ok(struct gw_shadow *sh, uint32_t ip, uint16_t port)
{
	int j = health_slot(sh, ip, port, false);

	if (j < 0 || sh->health_fails[j] == 0)
		return;
	sh->health_fails[j] = 0;
	__atomic_store_n(&sh->health->slot[j].until_tsc, 0, __ATOMIC_RELEASE);
}

static bool
endpoint_down(struct gw_shadow *sh, uint32_t ip, uint16_t port)
{
	return gw_shadow_endpoint_down(sh->health, ip, port, sh->now);
}

/* Gauge for the stats: endpoints whose back-off has not ended. */
static void
endpoints_down_count(struct gw_shadow *sh)
{
	uint64_t n = 0;

	for (uint32_t j = 0; j < GW_SHADOW_HEALTH_SLOTS; j++)
		if (sh->health->slot[j].key != 0 &&
		    sh->health->slot[j].until_tsc > sh->now)
			n++;
	sh->stats.endpoints_down = n;
}

/* ---- connections ---- */

static void
conn_free(struct sh_conn *k)
{
	struct gw_shadow *sh = k->sh;

	k->c = NULL;
	k->s = NULL;
	k->state = SH_CONN_FREE;
	k->next = sh->free_conn;
	sh->free_conn = k->id;
}

static void
idle_unlink(struct sh_conn *k)
{
	struct gw_shadow *sh = k->sh;
	uint32_t *p = &sh->idle_head;

	while (*p != SH_NONE && *p != k->id)
		p = &sh->conns[*p].next;
	if (*p == k->id)
		*p = k->next;
	k->next = SH_NONE;
	sh->stats.conns_idle--;
}

/* Done with a connection: into the pool (@p reusable), closed with FIN
 * after a clean exchange (@p graceful), else reset. */
static void
conn_release_how(struct sh_conn *k, bool reusable, bool graceful)
{
	struct gw_shadow *sh = k->sh;

	if (k->c == NULL) {
		conn_free(k);
		return;
	}
	if (reusable && !k->fin) {
		k->state = SH_CONN_IDLE;
		k->idle_deadline = sh->now + sh->idle_tsc;
		k->next = sh->idle_head;
		sh->idle_head = k->id;
		sh->stats.conns_idle++;
		return;
	}
	if (reusable || graceful) {
		/* clean end, the shadow closes: close our half too */
		k->state = SH_CONN_CLOSING;
		gw_tcp_shutdown(k->c);
		return;
	}
	gw_tcp_abort(k->c);
	conn_free(k);
}

static void
conn_release(struct sh_conn *k, bool reusable)
{
	conn_release_how(k, reusable, false);
}

static int
shadow_port_index(const struct gw_shadow *sh, uint32_t ip)
{
	int any = -1, gw = -1;

	/* A port with role shadow carries all shadow traffic; else an
	 * upstream port, chosen as the workers choose theirs. */
	for (unsigned int pass = 0; pass < 2; pass++) {
		uint32_t want = pass == 0 ? SH_ROLE_SHADOW : SH_ROLE_UPSTREAM;

		for (unsigned int i = 0; i < sh->p.n_ports; i++) {
			if (!(sh->p.port_roles[i] & want))
				continue;
			if (gw_net_is_onlink(&sh->p.ports[i].iface, ip))
				return (int)i;
			if (gw < 0 && sh->p.ports[i].iface.gateway != 0)
				gw = (int)i;
			if (any < 0)
				any = (int)i;
		}
		if (gw >= 0)
			return gw;
		if (any >= 0)
			return any;
	}
	return -1;
}

static struct sh_conn *
conn_get(struct gw_shadow *sh, uint32_t ip, uint16_t port)
{
	struct sh_conn *k;
	uint32_t i;
	int pi;

	for (i = sh->idle_head; i != SH_NONE; i = sh->conns[i].next) {
		k = &sh->conns[i];
		if (k->ip == ip && k->port == port && k->c != NULL && !k->fin) {
			idle_unlink(k);
			k->state = SH_CONN_BUSY;
			sh->stats.reused++;
			return k;
		}
	}
	pi = shadow_port_index(sh, ip);
	if (pi < 0 || sh->free_conn == SH_NONE)
		return NULL;
	k = &sh->conns[sh->free_conn];
	sh->free_conn = k->next;
	k->next = SH_NONE;
	k->ip = ip;
	k->port = port;
	k->state = SH_CONN_BUSY;
	k->established = k->fin = false;
	k->s = NULL;
	k->c = gw_tcp_connect(sh->stack, (unsigned int)pi, ip, port, &conn_cb, k);
	if (k->c == NULL) {
		conn_free(k);
		return NULL;
	}
	sh->stats.connects++;
	return k;
}

/* Hand what the stream holds to its connection, as far as it takes it. */
static void
stream_flush(struct gw_shadow *sh, struct sh_stream *s)
{
	struct sh_conn *k = s->conn;

	while (k != NULL && k->c != NULL && s->out.head != NULL) {
		struct rte_mbuf *head = s->out.head, *seg = head, *prev = NULL;
		uint32_t space = gw_tcp_send_space(k->c), n = 0, segs = 0;
		int rc;

		/* at least one segment: a send that does not fit fails and
		 * arms on_writable, which resumes the stream */
		while (seg != NULL && segs < SH_MAX_SEND_SEGS &&
		       (segs == 0 || n + seg->data_len <= space)) {
			n += seg->data_len;
			segs++;
			prev = seg;
			seg = seg->next;
		}
		prev->next = NULL;
		head->pkt_len = n;
		head->nb_segs = (uint16_t)segs;
		rc = gw_tcp_send(k->c, head);
		if (rc != 0) {
			prev->next = seg;
			if (rc == -ENOBUFS)
				return; /* on_writable follows */
			stream_fail(sh, s, GW_SHADOW_DROP_RESET, "UC");
			return;
		}
		s->out.head = seg;
		if (seg == NULL)
			s->out.tail = NULL;
		s->out.bytes -= n;
		s->out.segs -= segs;
		sh->stats.held_mbufs -= segs;
	}
	if (s->out.head == NULL && s->end_seen)
		s->sent_all = true;
}

/* A complete response: the shadow side is over. */
static void
response_complete(struct gw_shadow *sh, struct sh_conn *k)
{
	struct sh_stream *s = k->s;
	bool reuse = k->keep_alive && s != NULL && s->sent_all;

	k->phase = SH_RESP_DONE;
	if (s != NULL) {
		s->conn = NULL;
		shadow_end(sh, s, k->resp.head.status, "-");
	}
	k->s = NULL;
	/* a whole exchange: FIN rather than RST when it cannot be reused */
	conn_release_how(k, reuse, s != NULL && s->sent_all);
	if (s != NULL)
		stream_try_finish(sh, s);
}

/* Read and discard response bytes, tracking the framing. 0, or -1 when
 * the connection was released (stop). */
static int
response_feed(struct gw_shadow *sh, struct sh_conn *k, const uint8_t *data,
	      uint32_t len)
{
	while (len > 0 && k->s != NULL) {
		struct sh_stream *s = k->s;
		size_t used = 0;
		int rc;

		if (k->phase == SH_RESP_HEAD) {
			rc = gw_http_head_parse(&k->resp, data, len, &used);
			if (rc < 0) {
				stream_fail(sh, s, GW_SHADOW_DROP_BAD_RESPONSE, "UPE");
				return -1;
			}
			data += used;
			len -= (uint32_t)used;
			if (rc == GW_HTTP_AGAIN)
				continue;
			if (k->resp.head.informational) {
				gw_http_parser_reset(&k->resp);
				continue;
			}
			k->keep_alive = k->resp.head.keep_alive;
			k->body = (uint8_t)k->resp.head.body;
			k->remaining = k->resp.head.content_length;
			if (k->body == GW_HTTP_BODY_CHUNKED)
				gw_http_chunked_init(&k->chunked);
			if (k->body == GW_HTTP_BODY_NONE) {
				response_complete(sh, k);
				return -1;
			}
			if (k->body == GW_HTTP_BODY_TUNNEL)
				k->keep_alive = false;
			k->phase = SH_RESP_BODY;
			continue;
		}
		if (k->body == GW_HTTP_BODY_LENGTH) {
			uint32_t n = k->remaining < len ? (uint32_t)k->remaining : len;

			k->remaining -= n;
			s->resp_bytes += n;
			data += n;
			len -= n;
			if (k->remaining == 0) {
				response_complete(sh, k);
				return -1;
			}
		} else if (k->body == GW_HTTP_BODY_CHUNKED) {
			rc = gw_http_chunked_feed(&k->chunked, data, len, NULL, 0,
						  &used);
			if (rc < 0) {
				stream_fail(sh, s, GW_SHADOW_DROP_BAD_RESPONSE, "UPE");
				return -1;
			}
			s->resp_bytes += used;
			data += used;
			len -= (uint32_t)used;
			if (gw_http_chunked_done(&k->chunked)) {
				response_complete(sh, k);
				return -1;
			}
		} else {
			s->resp_bytes += len;   /* until the shadow closes */
			len = 0;
		}
	}
	return 0;
}

static void
c_on_established(struct gw_tcp_conn *c, void *ctx)
{
	struct sh_conn *k = ctx;

	RTE_SET_USED(c);
	k->established = true;
	endpoint_ok(k->sh, k->ip, k->port);
	if (k->s != NULL)
		stream_flush(k->sh, k->s);
}

static void
c_on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct sh_conn *k = ctx;
	struct gw_shadow *sh = k->sh;
	uint32_t total = m->pkt_len;

	if (k->state == SH_CONN_BUSY && k->s != NULL) {
		for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next)
			if (response_feed(sh, k, rte_pktmbuf_mtod(seg, const uint8_t *),
					  seg->data_len) != 0)
				break;
	} else if (k->state == SH_CONN_IDLE) {
		/* bytes nobody asked for: the connection is not reusable */
		idle_unlink(k);
		k->state = SH_CONN_BUSY;
		gw_tcp_recv_consumed(c, total);
		rte_pktmbuf_free(m);
		conn_release(k, false);
		return;
	}
	/* The connection may have been aborted (then c is gone) or pooled. */
	if (k->c == c)
		gw_tcp_recv_consumed(c, total);
	rte_pktmbuf_free(m);
}

static void
c_on_writable(struct gw_tcp_conn *c, void *ctx)
{
	struct sh_conn *k = ctx;

	RTE_SET_USED(c);
	if (k->s != NULL)
		stream_flush(k->sh, k->s);
}

static void
c_on_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct sh_conn *k = ctx;
	struct gw_shadow *sh = k->sh;

	RTE_SET_USED(c);
	k->fin = true;
	if (k->state == SH_CONN_IDLE) {
		idle_unlink(k);
		k->state = SH_CONN_CLOSING;
		gw_tcp_shutdown(k->c);
		return;
	}
	if (k->state != SH_CONN_BUSY || k->s == NULL)
		return;
	if (k->phase == SH_RESP_BODY && k->body == GW_HTTP_BODY_CLOSE) {
		k->keep_alive = false;
		response_complete(sh, k);
		return;
	}
	stream_fail(sh, k->s, GW_SHADOW_DROP_RESET, "UC");
}

static void
c_on_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct sh_conn *k = ctx;
	struct gw_shadow *sh = k->sh;
	struct sh_stream *s = k->s;

	RTE_SET_USED(c);
	k->c = NULL;
	if (k->state == SH_CONN_IDLE)
		idle_unlink(k);
	if (reason == GW_TCP_CLOSED_REFUSED ||
	    reason == GW_TCP_CLOSED_CONNECT_TIMEOUT ||
	    (!k->established && reason == GW_TCP_CLOSED_RESET))
		endpoint_failed(sh, k->ip, k->port);
	if (s != NULL) {
		if (k->phase == SH_RESP_BODY && k->body == GW_HTTP_BODY_CLOSE &&
		    reason == GW_TCP_CLOSED_NORMAL) {
			k->keep_alive = false;
			response_complete(sh, k);
		} else if (reason == GW_TCP_CLOSED_REFUSED ||
			   reason == GW_TCP_CLOSED_CONNECT_TIMEOUT ||
			   !k->established) {
			stream_fail(sh, s, GW_SHADOW_DROP_CONNECT, "UF");
		} else if (reason == GW_TCP_CLOSED_STACK_STOP) {
			s->conn = NULL;
			k->s = NULL;
		} else {
			stream_fail(sh, s, GW_SHADOW_DROP_RESET, "UC");
		}
	}
	/* stream_fail/response_complete released it (k->c was NULL) */
	if (k->state != SH_CONN_FREE)
		conn_free(k);
}

/* ---- ring items ---- */

static bool
pool_low(const struct gw_shadow *sh)
{
	return rte_mempool_avail_count(sh->p.pool) < sh->min_free;
}

static void
item_head(struct gw_shadow *sh, uint64_t key, struct rte_mbuf *m)
{
	struct gw_shadow_meta meta;
	struct rte_mbuf *head;
	struct sh_stream *s;
	uint32_t stat;

	if (m->data_len < sizeof(meta)) {
		rte_pktmbuf_free(m);
		sh->stats.unknown_items++;
		return;
	}
	memcpy(&meta, rte_pktmbuf_mtod(m, const void *), sizeof(meta));
	meta.route[sizeof(meta.route) - 1] = '\0';
	meta.cluster[sizeof(meta.cluster) - 1] = '\0';
	stat = route_stat(sh, meta.route, meta.cluster);
	if (stat != SH_NONE)
		sh->routes[stat].requests++;
	if (m->data_len > sizeof(meta)) {
		/* the head begins in the meta's segment, right after it */
		m->data_off = (uint16_t)(m->data_off + sizeof(meta));
		m->data_len = (uint16_t)(m->data_len - sizeof(meta));
		m->pkt_len = m->data_len;
		head = m;
	} else {
		head = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
	}
	if (head == NULL) {
		sh->stats.unknown_items++;
		return;
	}
	if (endpoint_down(sh, meta.ip, meta.port)) {
		count_drop(sh, stat, GW_SHADOW_DROP_UNAVAILABLE);
		rte_pktmbuf_free(head);
		return;
	}
	if (sh->stats.streams >= sh->max_pending) {
		count_drop(sh, stat, GW_SHADOW_DROP_PENDING);
		rte_pktmbuf_free(head);
		return;
	}
	if (sh->stats.held_mbufs + head->nb_segs > sh->max_held || pool_low(sh)) {
		count_drop(sh, stat, GW_SHADOW_DROP_MEMORY);
		rte_pktmbuf_free(head);
		return;
	}
	s = stream_alloc(sh, key);
	s->meta = meta;
	s->stat = stat;
	for (struct rte_mbuf *seg = head; seg != NULL; seg = seg->next)
		seg->nb_segs = 1;
	q_append(sh, &s->out, head);
	s->conn = conn_get(sh, meta.ip, meta.port);
	if (s->conn == NULL) {
		stream_fail(sh, s, GW_SHADOW_DROP_CONNECT, "UF");
		return;
	}
	s->conn->s = s;
	s->conn->phase = SH_RESP_HEAD;
	s->conn->keep_alive = false;
	gw_http_parser_reset(&s->conn->resp);
	/* HEAD requests are answered without a body */
	s->conn->resp.request_method = strcmp(meta.method, "HEAD") == 0 ?
		GW_HTTP_METHOD_HEAD : GW_HTTP_METHOD_GET;
	stream_flush(sh, s);
}

/* A copy the worker dropped before writing it: count it for its route. */
static void
item_dropped(struct gw_shadow *sh, const struct gw_shadow_item *it)
{
	const struct gw_shadow_meta *meta;
	char route[sizeof(meta->route)], cluster[sizeof(meta->cluster)];
	uint32_t stat, n;

	if (it->m == NULL || it->m->data_len < sizeof(*meta)) {
		if (it->m != NULL)
			rte_pktmbuf_free(it->m);
		sh->stats.unknown_items++;
		return;
	}
	meta = rte_pktmbuf_mtod(it->m, const struct gw_shadow_meta *);
	memcpy(route, meta->route, sizeof(route));
	memcpy(cluster, meta->cluster, sizeof(cluster));
	route[sizeof(route) - 1] = '\0';
	cluster[sizeof(cluster) - 1] = '\0';
	rte_pktmbuf_free(it->m);
	/* a worker's run of skipped copies */
	n = it->count != 0 ? it->count : 1;
	stat = route_stat(sh, route, cluster);
	if (stat != SH_NONE)
		sh->routes[stat].requests += n;
	count_drops(sh, stat, it->status < GW_SHADOW_DROP_MAX ?
		    (enum gw_shadow_drop)it->status : GW_SHADOW_DROP_UNAVAILABLE,
		    n);
}

static void
item_body(struct gw_shadow *sh, struct sh_stream *s, struct rte_mbuf *m)
{
	if (s->shadow_done) {
		rte_pktmbuf_free(m);
		return;
	}
	if (sh->stats.held_mbufs + 1 > sh->max_held || pool_low(sh)) {
		rte_pktmbuf_free(m);
		stream_fail(sh, s, GW_SHADOW_DROP_MEMORY, "DROP");
		return;
	}
	s->req_bytes += m->pkt_len;
	m->nb_segs = 1;
	q_append(sh, &s->out, m);
	stream_flush(sh, s);
}

/* The mbuf an item holds, NULL for the types whose field is a number. */
static inline struct rte_mbuf *
item_mbuf(const struct gw_shadow_item *it)
{
	return it->type == GW_SHADOW_ITEM_HEAD || it->type == GW_SHADOW_ITEM_BODY ||
	       it->type == GW_SHADOW_ITEM_DROPPED ? it->m : NULL;
}

static void
item_process(struct gw_shadow *sh, unsigned int worker,
	     const struct gw_shadow_item *it)
{
	uint64_t key = (uint64_t)worker << 32 | it->stream;
	struct sh_stream *s;

	sh->stats.items++;
	if (it->type == GW_SHADOW_ITEM_DROPPED) {
		item_dropped(sh, it);
		return;
	}
	if (it->type == GW_SHADOW_ITEM_HEAD) {
		s = stream_find(sh, key);
		if (s != NULL)          /* a worker reused an id: forget the old */
			stream_free(sh, s);
		item_head(sh, key, it->m);
		return;
	}
	s = stream_find(sh, key);
	if (s == NULL) {
		rte_pktmbuf_free(item_mbuf(it));
		sh->stats.unknown_items++;
		return;
	}
	switch (it->type) {
	case GW_SHADOW_ITEM_BODY:
		item_body(sh, s, it->m);
		break;
	case GW_SHADOW_ITEM_END:
		s->end_seen = true;
		if (!s->shadow_done)
			stream_flush(sh, s);
		break;
	case GW_SHADOW_ITEM_ABORT:
		rte_pktmbuf_free(item_mbuf(it));
		if (!s->shadow_done) {
			/* not the shadow's fault: no parity for it */
			count_drop(sh, s->stat, it->status < GW_SHADOW_DROP_MAX ?
				   (enum gw_shadow_drop)it->status :
				   GW_SHADOW_DROP_RING_FULL);
			s->stat = SH_NONE;
			shadow_end(sh, s, 0, "DROP");
		}
		stream_free(sh, s);
		break;
	case GW_SHADOW_ITEM_PRIMARY_DONE:
		s->primary_done = true;
		s->primary_status = it->status;
		s->primary_us = it->latency_us;
		stream_try_finish(sh, s);
		break;
	default:
		rte_pktmbuf_free(item_mbuf(it));
		sh->stats.unknown_items++;
		break;
	}
}

/* ---- poll ---- */

static void
expire(struct gw_shadow *sh)
{
	for (uint32_t i = 0; i < sh->max_pending; i++) {
		struct sh_stream *s = &sh->streams[i];

		if (!s->used || sh->now < s->deadline)
			continue;
		if (!s->shadow_done) {
			stream_fail(sh, s, GW_SHADOW_DROP_TIMEOUT, "UT");
			if (s->used && sh->now >= s->deadline)
				stream_free(sh, s);
		} else {
			/* the primary never reported: no parity */
			stream_free(sh, s);
		}
	}
	for (uint32_t i = sh->idle_head, next; i != SH_NONE; i = next) {
		struct sh_conn *k = &sh->conns[i];

		next = k->next;
		if (sh->now >= k->idle_deadline) {
			idle_unlink(k);
			k->state = SH_CONN_CLOSING;
			gw_tcp_shutdown(k->c);
		}
	}
}

bool
gw_shadow_poll(struct gw_shadow *sh, uint64_t now_tsc)
{
	struct gw_shadow_item items[SH_BURST];
	struct rte_mbuf *pkts[SH_BURST];
	unsigned int work = 0;

	if (now_tsc > sh->now)
		sh->now = now_tsc;
	/* segments first: ACKs open windows for the items below */
	for (unsigned int w = 0; w < sh->p.n_rings && sh->p.rx_rings != NULL; w++) {
		struct rte_ring *r = sh->p.rx_rings[w];
		unsigned int n;

		if (r == NULL)
			continue;
		do {
			n = rte_ring_sc_dequeue_burst(r, (void **)pkts, SH_BURST,
						      NULL);
			for (unsigned int i = 0; i < n; i++)
				gw_shadow_input(sh, pkts[i]);
			work += n;
		} while (n == SH_BURST);
	}
	gw_tcp_poll(sh->stack, sh->now);
	for (unsigned int w = 0; w < sh->p.n_rings; w++) {
		unsigned int n, taken = 0;

		do {
			n = rte_ring_sc_dequeue_burst_elem(sh->p.rings[w], items,
				sizeof(items[0]), SH_BURST, NULL);
			for (unsigned int i = 0; i < n; i++)
				item_process(sh, w, &items[i]);
			taken += n;
		} while (n == SH_BURST && taken < SH_ITEMS_PER_POLL);
		work += taken;
	}
	gw_tcp_poll(sh->stack, sh->now);
	if (sh->now >= sh->next_scan) {
		sh->next_scan = sh->now + sh->tsc_hz / 100;
		expire(sh);
		endpoints_down_count(sh);
	}
	/* data waiting for a window: ACKs arrive within the next polls */
	return work > 0 || sh->stats.held_mbufs > 0 ||
	       gw_tcp_next_expiry(sh->stack) <= sh->now;
}

void
gw_shadow_input(struct gw_shadow *sh, struct rte_mbuf *m)
{
	unsigned int pi = sh->p.port_index[m->port];
	struct gw_net_result res;

	sh->stats.rx_segments++;
	if (pi >= sh->p.n_ports ||
	    gw_net_input(&sh->p.ports[pi].iface, rte_pktmbuf_mtod(m, uint8_t *),
			 rte_pktmbuf_data_len(m), &res) != GW_NET_TCP) {
		rte_pktmbuf_free(m);
		return;
	}
	gw_tcp_input(sh->stack, pi, m, &res);
}

/* ---- life cycle ---- */

static void
stack_xmit(void *arg, unsigned int port_index, uint32_t next_hop,
	   struct rte_mbuf *m)
{
	struct gw_shadow *sh = arg;

	sh->stats.tx_frames++;
	sh->p.xmit(sh->p.xmit_arg, port_index, next_hop, m);
}

struct gw_shadow *
gw_shadow_create(const struct gw_shadow_params *p)
{
	struct gw_shadow *sh;
	struct gw_tcp_stack_params tp;
	struct gw_http_limits lim = {
		.max_head = SH_MAX_HEAD, .max_headers = SH_MAX_HEADERS,
	};
	size_t per;
	uint32_t pool_size;

	if (p == NULL || p->pool == NULL || p->n_rings == 0 || p->rings == NULL ||
	    p->xmit == NULL || p->n_ports == 0 || p->ports == NULL ||
	    p->port_roles == NULL || p->port_index == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	sh = calloc(1, sizeof(*sh));
	if (sh == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	sh->p = *p;
	pool_size = p->pool->size;
	sh->tsc_hz = p->tsc_hz != 0 ? p->tsc_hz : rte_get_tsc_hz();
	sh->now = p->start_tsc != 0 ? p->start_tsc : rte_rdtsc();
	sh->max_pending = p->max_pending != 0 ? p->max_pending : 128;
	sh->max_held = p->max_held_mbufs != 0 ? p->max_held_mbufs : pool_size / 8;
	sh->min_free = p->min_free_mbufs != 0 ? p->min_free_mbufs : pool_size / 8;
	sh->timeout_tsc = (uint64_t)(p->timeout_ms != 0 ? p->timeout_ms : 10000) *
			  sh->tsc_hz / 1000;
	sh->idle_tsc = (uint64_t)(p->idle_timeout_ms != 0 ? p->idle_timeout_ms :
				  30000) * sh->tsc_hz / 1000;
	sh->unavailable_tsc = p->unavailable_ms == UINT32_MAX ? 0 :
		(uint64_t)(p->unavailable_ms != 0 ? p->unavailable_ms : 1000) *
		sh->tsc_hz / 1000;
	sh->down_max_tsc = (uint64_t)GW_SHADOW_DOWN_MAX_MS * sh->tsc_hz / 1000;
	if (sh->unavailable_tsc > sh->down_max_tsc)
		sh->down_max_tsc = sh->unavailable_tsc;
	sh->health = p->health;
	if (sh->health == NULL) {
		sh->health = calloc(1, sizeof(*sh->health));
		sh->own_health = true;
	} else {
		memset(sh->health, 0, sizeof(*sh->health));
	}

	sh->routes = calloc(SH_MAX_ROUTES, sizeof(*sh->routes));
	sh->route_index = malloc(SH_ROUTE_BUCKETS * sizeof(*sh->route_index));
	if (sh->route_index != NULL)
		for (uint32_t i = 0; i < SH_ROUTE_BUCKETS; i++)
			sh->route_index[i] = SH_NONE;
	sh->streams = calloc(sh->max_pending, sizeof(*sh->streams));
	for (sh->n_buckets = 1; sh->n_buckets < 2 * sh->max_pending;)
		sh->n_buckets <<= 1;
	sh->buckets = malloc(sh->n_buckets * sizeof(*sh->buckets));
	/* a connection per stream, and as many closing or pooled */
	sh->n_conns = 2 * sh->max_pending;
	sh->conns = calloc(sh->n_conns, sizeof(*sh->conns));
	per = SH_MAX_HEAD + SH_MAX_HEADERS * sizeof(struct gw_http_header);
	sh->parser_mem = calloc(sh->n_conns, per);
	{
		static uint32_t seq;
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "gw_shlog_%u",
			 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
		sh->log_ring = rte_ring_create_elem(name, sizeof(struct sh_log_record),
			rte_align32pow2(p->log_records != 0 ? p->log_records : 1024),
			SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if (sh->streams == NULL || sh->buckets == NULL || sh->conns == NULL ||
	    sh->parser_mem == NULL || sh->log_ring == NULL || sh->health == NULL ||
	    sh->routes == NULL || sh->route_index == NULL)
		goto nomem;
	for (uint32_t i = 0; i < sh->n_buckets; i++)
		sh->buckets[i] = SH_NONE;
	for (uint32_t i = 0; i < sh->max_pending; i++) {
		sh->streams[i].id = i;
		sh->streams[i].hnext = i + 1 < sh->max_pending ? i + 1 : SH_NONE;
	}
	sh->free_stream = 0;
	for (uint32_t i = 0; i < sh->n_conns; i++) {
		struct sh_conn *k = &sh->conns[i];
		uint8_t *b = (uint8_t *)sh->parser_mem + (size_t)i * per;

		k->sh = sh;
		k->id = i;
		k->next = i + 1 < sh->n_conns ? i + 1 : SH_NONE;
		if (gw_http_parser_init(&k->resp, GW_HTTP_RESPONSE, &lim, b,
				SH_MAX_HEAD, (struct gw_http_header *)(void *)(b + SH_MAX_HEAD),
				SH_MAX_HEADERS) != 0)
			goto nomem;
	}
	sh->free_conn = 0;
	sh->idle_head = SH_NONE;

	memset(&tp, 0, sizeof(tp));
	tp.worker_id = 0;
	tp.n_workers = 1;
	tp.max_conns = sh->n_conns + 16;
	tp.syn_backlog = 16;
	tp.timewait_max = tp.max_conns / 2;
	/* as the workers': a shadow as fast as the primary keeps up with it
	 * (what it holds beyond is bounded by max_held) */
	tp.rcvbuf = 64 * 1024;
	tp.sndbuf = 256 * 1024;
	tp.reasm_segments = 256;
	tp.connect_timeout_ms = p->connect_timeout_ms != 0 ? p->connect_timeout_ms :
				3000;
	tp.tsc_hz = sh->tsc_hz;
	tp.pool = p->pool;
	tp.n_ports = p->n_ports;
	tp.ports = p->ports;
	tp.xmit = stack_xmit;
	tp.xmit_arg = sh;
	tp.start_tsc = sh->now;
	/* the shadow's reserved range: the one thing telling its
	 * connections apart from the workers' */
	tp.src_port_first = GW_SHADOW_PORT_FIRST;
	tp.src_port_last = GW_SHADOW_PORT_LAST;
	sh->stack = gw_tcp_stack_create(&tp);
	if (sh->stack == NULL)
		goto nomem;
	return sh;
nomem:
	gw_shadow_free(sh);
	rte_errno = ENOMEM;
	return NULL;
}

void
gw_shadow_free(struct gw_shadow *sh)
{
	struct gw_shadow_item it;
	struct rte_mbuf *m;

	if (sh == NULL)
		return;
	/* The stack closes every connection (STACK_STOP) first. */
	gw_tcp_stack_free(sh->stack);
	for (uint32_t i = 0; sh->streams != NULL && i < sh->max_pending; i++)
		if (sh->streams[i].used) {
			sh->streams[i].conn = NULL;
			q_drop(sh, &sh->streams[i].out);
		}
	for (unsigned int w = 0; w < sh->p.n_rings && sh->p.rings != NULL; w++)
		while (sh->p.rings[w] != NULL &&
		       rte_ring_sc_dequeue_elem(sh->p.rings[w], &it, sizeof(it)) == 0)
			rte_pktmbuf_free(item_mbuf(&it));
	for (unsigned int w = 0; w < sh->p.n_rings && sh->p.rx_rings != NULL; w++)
		while (sh->p.rx_rings[w] != NULL &&
		       rte_ring_sc_dequeue(sh->p.rx_rings[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
	rte_ring_free(sh->log_ring);
	if (sh->own_health)
		free(sh->health);
	free(sh->routes);
	free(sh->route_index);
	free(sh->parser_mem);
	free(sh->conns);
	free(sh->buckets);
	free(sh->streams);
	free(sh);
}

const struct gw_shadow_stats *
gw_shadow_stats(const struct gw_shadow *sh)
{
	return &sh->stats;
}

const struct gw_tcp_stats *
gw_shadow_tcp_stats(const struct gw_shadow *sh)
{
	return gw_tcp_stack_stats(sh->stack);
}

unsigned int
gw_shadow_route_count(const struct gw_shadow *sh)
{
	return __atomic_load_n(&sh->n_routes, __ATOMIC_ACQUIRE);
}

const struct gw_shadow_route_stats *
gw_shadow_route(const struct gw_shadow *sh, unsigned int i)
{
	return i < gw_shadow_route_count(sh) ? &sh->routes[i] : NULL;
}
