/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Upstream connections of one worker and their pools: after an exchange
 * that both sides keep alive, the connection waits in its endpoint's idle
 * list (a small hash on address and port) until the next request for that
 * endpoint takes it, its idle timeout expires, or the backend closes it.
 * DestinationRule connectionPool.http sets the idle timeout and the
 * maximum number of requests per connection.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>

#include "gw_net.h"
#include "hp_private.h"

static void up_on_established(struct gw_tcp_conn *c, void *ctx);
static void up_on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m);
static void up_on_writable(struct gw_tcp_conn *c, void *ctx);
static void up_on_fin(struct gw_tcp_conn *c, void *ctx);
static void up_on_closed(struct gw_tcp_conn *c, void *ctx,
			 enum gw_tcp_close_reason reason);

static const struct gw_tcp_callbacks upstream_cb = {
	.on_established = up_on_established,
	.on_data = up_on_data,
	.on_writable = up_on_writable,
	.on_fin = up_on_fin,
	.on_closed = up_on_closed,
};

static inline uint32_t
bucket_of(uint32_t ip, uint16_t port)
{
	return ((ip ^ ((uint32_t)port * 2654435761u)) * 2654435761u >> 24) &
	       (HP_IDLE_BUCKETS - 1);
}

void
hp_upstream_init(struct gw_http_proxy *px, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		px->ups[i].px = px;
		px->ups[i].id = i;
		px->ups[i].next = i + 1 < n ? i + 1 : HP_NONE;
	}
	px->up_free_head = 0;
	for (uint32_t b = 0; b < HP_IDLE_BUCKETS; b++)
		px->idle[b] = HP_NONE;
}

static void
idle_unlink(struct hp_upstream *u)
{
	struct gw_http_proxy *px = u->px;

	if (u->prev != HP_NONE)
		px->ups[u->prev].next = u->next;
	else
		px->idle[bucket_of(u->ip, u->port)] = u->next;
	if (u->next != HP_NONE)
		px->ups[u->next].prev = u->prev;
	u->next = u->prev = HP_NONE;
	px->n_idle--;
	px->stats.upstream_idle--;
}

/* ---- circuit breaking ---- */

uint32_t
hp_cluster_slot(struct gw_http_proxy *px, const char *name)
{
	uint64_t key = 1469598103934665603ULL; /* FNV-1a */

	for (const char *c = name; *c != '\0'; c++)
		key = (key ^ (uint8_t)*c) * 1099511628211ULL;
	if (key == 0)
		key = 1;
	for (uint32_t k = 0; k < HP_CLUSTER_SLOTS; k++) {
		uint32_t i = (uint32_t)(key + k) % HP_CLUSTER_SLOTS;
		struct hp_cluster_slot *sl = &px->clusters[i];

		if (sl->key == key)
			return i;
		if (sl->key == 0) {
			sl->key = key;
			sl->pend_head = sl->pend_tail = HP_NONE;
			return i;
		}
	}
	return HP_NONE;
}

void
hp_upstream_in_use(struct hp_upstream *u, uint32_t slot)
{
	if (u->in_use || slot == HP_NONE)
		return;
	u->cl_slot = slot;
	u->in_use = true;
	u->px->clusters[slot].in_use++;
}

void
hp_upstream_not_in_use(struct hp_upstream *u)
{
	struct gw_http_proxy *px = u->px;
	struct hp_cluster_slot *sl;
	struct hp_session *s;

	if (!u->in_use)
		return;
	u->in_use = false;
	sl = &px->clusters[u->cl_slot];
	sl->in_use--;
	if (sl->pend_head == HP_NONE)
		return;
	/* a connection is free: the first waiting request takes its turn */
	s = &px->sessions[sl->pend_head];
	sl->pend_head = s->pend_next;
	if (sl->pend_head == HP_NONE)
		sl->pend_tail = HP_NONE;
	sl->pending--;
	s->pend_slot = HP_NONE;
	s->pend_next = HP_NONE;
	hp_session_conn_ready(s);
}

void
hp_cluster_wait(struct gw_http_proxy *px, uint32_t slot, struct hp_session *s)
{
	struct hp_cluster_slot *sl = &px->clusters[slot];

	s->conn_wait = true;
	s->pend_slot = slot;
	s->pend_next = HP_NONE;
	if (sl->pend_tail != HP_NONE)
		px->sessions[sl->pend_tail].pend_next = s->id;
	else
		sl->pend_head = s->id;
	sl->pend_tail = s->id;
	sl->pending++;
}

void
hp_cluster_unwait(struct gw_http_proxy *px, struct hp_session *s)
{
	struct hp_cluster_slot *sl;
	uint32_t i, prev = HP_NONE;

	s->conn_wait = false;
	if (s->pend_slot == HP_NONE)
		return;
	sl = &px->clusters[s->pend_slot];
	for (i = sl->pend_head; i != HP_NONE; prev = i, i = px->sessions[i].pend_next) {
		if (i != s->id)
			continue;
		if (prev == HP_NONE)
			sl->pend_head = s->pend_next;
		else
			px->sessions[prev].pend_next = s->pend_next;
		if (sl->pend_tail == s->id)
			sl->pend_tail = prev;
		sl->pending--;
		break;
	}
	s->pend_slot = HP_NONE;
	s->pend_next = HP_NONE;
}

static void
up_free(struct hp_upstream *u)
{
	struct gw_http_proxy *px = u->px;

	hp_upstream_not_in_use(u);
	if (u->state == HP_UP_IDLE)
		idle_unlink(u);
	hp_queue_drop(&u->in);
	u->in_off = 0;
	u->conn = NULL;
	u->s = NULL;
	u->state = HP_UP_FREE;
	u->next = px->up_free_head;
	px->up_free_head = u->id;
	px->stats.upstream_active--;
}

/* The upstream port for @p ip: one whose prefix holds it, else one with
 * a gateway, else the first (as the L4 proxy chooses). */
static int
upstream_port(const struct gw_http_proxy *px, uint32_t ip)
{
	unsigned int i;

	if (px->n_upstream == 0)
		return -1;
	for (i = 0; i < px->n_upstream; i++)
		if (gw_net_is_onlink(&px->ports[px->upstream[i]].iface, ip))
			return (int)px->upstream[i];
	for (i = 0; i < px->n_upstream; i++)
		if (px->ports[px->upstream[i]].iface.gateway != 0)
			return (int)px->upstream[i];
	return (int)px->upstream[0];
}

struct hp_upstream *
hp_upstream_pool_get(struct gw_http_proxy *px, uint32_t ip, uint16_t port)
{
	uint32_t i;

	for (i = px->idle[bucket_of(ip, port)]; i != HP_NONE; i = px->ups[i].next) {
		struct hp_upstream *u = &px->ups[i];

		if (u->ip != ip || u->port != port || u->conn == NULL || u->fin)
			continue;
		idle_unlink(u);
		u->state = HP_UP_BUSY;
		px->stats.upstream_reused++;
		return u;
	}
	return NULL;
}

struct hp_upstream *
hp_upstream_connect(struct gw_http_proxy *px, uint32_t ip, uint16_t port,
		    uint16_t *fail_status)
{
	struct hp_upstream *u;
	struct gw_tcp_conn *c;
	int pi = upstream_port(px, ip);

	if (pi < 0) {
		*fail_status = 503;
		return NULL;
	}
	if (px->up_free_head == HP_NONE) {
		px->stats.no_upstream_slot++;
		*fail_status = 503;
		return NULL;
	}
	u = &px->ups[px->up_free_head];
	px->up_free_head = u->next;
	memset(&u->in, 0, sizeof(u->in));
	u->in_off = 0;
	u->ip = ip;
	u->port = port;
	u->state = HP_UP_BUSY;
	u->established = false;
	u->fin = false;
	u->reset = false;
	u->no_reuse = false;
	u->connect_failed = false;
	u->requests = 0;
	u->max_requests = 0;
	u->idle_tsc = px->idle_tsc;
	u->next = u->prev = HP_NONE;
	u->s = NULL;
	u->cl_slot = HP_NONE;
	u->in_use = false;
	px->stats.upstream_active++;
	u->in_connect = true;
	c = gw_tcp_connect(px->stack, (unsigned int)pi, ip, port, &upstream_cb, u);
	u->in_connect = false;
	if (c == NULL || u->connect_failed) {
		u->conn = NULL;
		up_free(u);
		*fail_status = 502;
		return NULL;
	}
	u->conn = c;
	px->stats.upstream_connects++;
	return u;
}

void
hp_upstream_release(struct hp_upstream *u)
{
	hp_upstream_not_in_use(u);
	if (u->conn == NULL) {
		up_free(u);
		return;
	}
	if (u->state == HP_UP_IDLE)
		idle_unlink(u);
	u->s = NULL;
	u->state = HP_UP_CLOSING;
	gw_tcp_shutdown(u->conn);
}

void
hp_upstream_abort(struct hp_upstream *u)
{
	if (u->conn != NULL)
		gw_tcp_abort(u->conn);
	up_free(u);
}

void
hp_upstream_pool_put(struct hp_upstream *u)
{
	struct gw_http_proxy *px = u->px;
	uint32_t b;

	hp_upstream_not_in_use(u);
	if (u->conn == NULL || u->fin || u->no_reuse || u->in.head != NULL ||
	    (u->max_requests != 0 && u->requests >= u->max_requests)) {
		if (u->max_requests != 0 && u->requests >= u->max_requests)
			px->stats.upstream_max_requests++;
		hp_upstream_release(u);
		return;
	}
	u->s = NULL;
	u->state = HP_UP_IDLE;
	u->idle_deadline = px->now + u->idle_tsc;
	b = bucket_of(u->ip, u->port);
	u->prev = HP_NONE;
	u->next = px->idle[b];
	if (u->next != HP_NONE)
		px->ups[u->next].prev = u->id;
	px->idle[b] = u->id;
	px->n_idle++;
	px->stats.upstream_idle++;
}

void
hp_upstream_expire(struct gw_http_proxy *px)
{
	for (uint32_t b = 0; b < HP_IDLE_BUCKETS && px->n_idle > 0; b++) {
		uint32_t i, next;

		for (i = px->idle[b]; i != HP_NONE; i = next) {
			struct hp_upstream *u = &px->ups[i];

			next = u->next;
			if (px->now < u->idle_deadline)
				continue;
			px->stats.upstream_idle_expired++;
			hp_upstream_release(u);
		}
	}
}

void
hp_upstream_abort_all(struct gw_http_proxy *px)
{
	for (uint32_t i = 0; i < px->n_sessions; i++)
		if (px->ups[i].state != HP_UP_FREE)
			hp_upstream_abort(&px->ups[i]);
}

/* ---- callbacks ---- */

static void
up_on_established(struct gw_tcp_conn *c, void *ctx)
{
	struct hp_upstream *u = ctx;

	RTE_SET_USED(c);
	u->established = true;
	if (u->state == HP_UP_BUSY && u->s != NULL)
		hp_session_upstream_event(u->s);
}

static void
up_on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct hp_upstream *u = ctx;

	if (u->state == HP_UP_BUSY && u->s != NULL) {
		hp_queue_append(&u->in, m);
		hp_session_upstream_event(u->s);
		return;
	}
	/* Bytes nobody asked for: an idle connection is no longer in a
	 * known state, so it leaves the pool. */
	gw_tcp_recv_consumed(c, m->pkt_len);
	rte_pktmbuf_free(m);
	if (u->state == HP_UP_IDLE)
		hp_upstream_abort(u);
}

static void
up_on_writable(struct gw_tcp_conn *c, void *ctx)
{
	struct hp_upstream *u = ctx;

	RTE_SET_USED(c);
	if (u->state == HP_UP_BUSY && u->s != NULL)
		hp_session_upstream_event(u->s);
}

static void
up_on_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct hp_upstream *u = ctx;

	RTE_SET_USED(c);
	u->fin = true;
	if (u->state == HP_UP_BUSY && u->s != NULL)
		hp_session_upstream_event(u->s);
	else if (u->state == HP_UP_IDLE)
		hp_upstream_release(u);
}

static void
up_on_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct hp_upstream *u = ctx;

	RTE_SET_USED(c);
	u->conn = NULL;
	u->fin = true;
	if (reason != GW_TCP_CLOSED_NORMAL)
		u->reset = true;
	if (u->in_connect) {
		u->connect_failed = true;
		return;
	}
	if (reason == GW_TCP_CLOSED_STACK_STOP && u->s != NULL) {
		/* the stack is going away: no session work, no sends */
		u->s->up = NULL;
		u->s = NULL;
	}
	if (u->state == HP_UP_BUSY && u->s != NULL) {
		/* the session frees it once it has read what is queued */
		hp_session_upstream_event(u->s);
		return;
	}
	up_free(u);
}
