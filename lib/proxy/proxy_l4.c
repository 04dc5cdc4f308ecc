/* SPDX-License-Identifier: Apache-2.0 */
/*
 * L4 proxy sessions: a client connection and an upstream connection of the
 * same worker's stack, with one queue per direction of received mbufs not
 * yet taken by the other side's send queue.
 *
 * A queue is a chain of segments linked through m->next (the received
 * chains appended one after the other). It is handed to gw_tcp_send() in
 * prefixes of whole segments that fit gw_tcp_send_space(); what does not
 * fit stays queued until on_writable, and its bytes stay unreleased
 * (gw_tcp_recv_consumed() not called), which closes the sender's window.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "gw_common.h"
#include "gw_config.h"
#include "gw_net.h"
#include "gw_proxy.h"

#define SIDE_CLIENT   0
#define SIDE_UPSTREAM 1
#define L4_NONE       UINT32_MAX
/* Segments per gw_tcp_send() call (nb_segs is 16 bits). */
#define L4_MAX_SEND_SEGS 1024u

enum l4_state {
	L4_FREE = 0,
	L4_CONNECTING,    /* client accepted, upstream handshake in progress */
	L4_OPEN,          /* both established: forwarding */
};

/* Bytes received on one side and not yet taken by the other. */
struct l4_queue {
	struct rte_mbuf *head;
	struct rte_mbuf *tail;    /* last segment */
	uint32_t bytes;
};

struct l4_side {
	struct gw_tcp_conn *conn; /* NULL once closed */
	struct l4_queue q;        /* received here, for the other side */
	uint8_t idx;              /* SIDE_CLIENT or SIDE_UPSTREAM */
	bool fin_rcvd;            /* the peer half-closed */
	bool shut;                /* we sent (queued) our FIN on this conn */
};

struct gw_l4_session {
	struct l4_side side[2];
	struct gw_l4_proxy *px;
	uint64_t deadline;        /* connect deadline (TSC), 0 = the stack's */
	uint32_t id;
	uint32_t next, prev;      /* free list, or the connecting list */
	uint8_t state;
	bool in_accept;           /* inside gw_tcp_connect() from accept */
	bool connect_failed;      /* the upstream closed inside gw_tcp_connect() */
};

struct gw_l4_proxy {
	struct gw_tcp_stack *stack;
	unsigned int worker_id;
	gw_l4_snapshot_fn snapshot;
	void *snapshot_arg;
	uint64_t tsc_hz;
	uint64_t connect_timeout_tsc;  /* 0: the stack's */
	uint64_t now;                  /* the latest gw_l4_proxy_poll() time */
	uint64_t next_scan;
	uint32_t free_head;
	uint32_t connecting_head;      /* sessions with a deadline */
	uint32_t n_sessions;
	unsigned int n_ports;
	const struct gw_tcp_port *ports;
	unsigned int n_upstream;
	unsigned int upstream[GW_CONFIG_MAX_PORTS];
	struct gw_l4_proxy_stats stats;
	struct gw_l4_session *sessions;
};

static void on_established(struct gw_tcp_conn *c, void *ctx);
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

static const struct gw_tcp_callbacks upstream_cb = {
	.on_established = on_established,
	.on_data = on_data,
	.on_writable = on_writable,
	.on_fin = on_fin,
	.on_closed = on_closed,
};

static inline struct gw_l4_session *
side_session(struct l4_side *sd)
{
	return (struct gw_l4_session *)((char *)(sd - sd->idx) -
					offsetof(struct gw_l4_session, side));
}

/* ---- queues ---- */

static void
queue_append(struct l4_queue *q, struct rte_mbuf *m)
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

static void
queue_drop(struct l4_queue *q)
{
	if (q->head != NULL)
		rte_pktmbuf_free(q->head);
	q->head = NULL;
	q->tail = NULL;
	q->bytes = 0;
}

/*
 * Detach the longest prefix of whole segments holding at most @p max bytes
 * as one chain (head fields set), or the first segment alone when even it
 * does not fit: its send then fails with -ENOBUFS, which arms on_writable.
 */
static struct rte_mbuf *
queue_take(struct l4_queue *q, uint32_t max, uint32_t *bytes,
	   struct rte_mbuf **last)
{
	struct rte_mbuf *head = q->head, *seg = head, *prev = NULL;
	uint32_t n = 0, segs = 0;

	while (seg != NULL && segs < L4_MAX_SEND_SEGS &&
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

/* Put back what queue_take() detached and gw_tcp_send() refused. */
static void
queue_untake(struct l4_queue *q, struct rte_mbuf *head, struct rte_mbuf *last,
	     uint32_t bytes)
{
	last->next = q->head;
	if (q->head == NULL)
		q->tail = last;
	q->head = head;
	q->bytes += bytes;
}

/* ---- sessions ---- */

static struct gw_l4_session *
session_alloc(struct gw_l4_proxy *px)
{
	struct gw_l4_session *s;

	if (px->free_head == L4_NONE)
		return NULL;
	s = &px->sessions[px->free_head];
	px->free_head = s->next;
	memset(s->side, 0, sizeof(s->side));
	s->side[SIDE_CLIENT].idx = SIDE_CLIENT;
	s->side[SIDE_UPSTREAM].idx = SIDE_UPSTREAM;
	s->deadline = 0;
	s->next = L4_NONE;
	s->prev = L4_NONE;
	s->state = L4_CONNECTING;
	s->in_accept = false;
	s->connect_failed = false;
	return s;
}

static void
connecting_unlink(struct gw_l4_proxy *px, struct gw_l4_session *s)
{
	if (s->deadline == 0)
		return;
	if (s->prev != L4_NONE)
		px->sessions[s->prev].next = s->next;
	else
		px->connecting_head = s->next;
	if (s->next != L4_NONE)
		px->sessions[s->next].prev = s->prev;
	s->deadline = 0;
	s->next = L4_NONE;
	s->prev = L4_NONE;
}

static void
connecting_link(struct gw_l4_proxy *px, struct gw_l4_session *s,
		uint64_t deadline)
{
	s->deadline = deadline;
	s->prev = L4_NONE;
	s->next = px->connecting_head;
	if (s->next != L4_NONE)
		px->sessions[s->next].prev = s->id;
	px->connecting_head = s->id;
}

/* Release what the session holds and return it to the pool. Both
 * connections must be gone (closed, or aborted by the caller). */
static void
session_release(struct gw_l4_session *s, bool counted)
{
	struct gw_l4_proxy *px = s->px;

	connecting_unlink(px, s);
	queue_drop(&s->side[SIDE_CLIENT].q);
	queue_drop(&s->side[SIDE_UPSTREAM].q);
	s->side[SIDE_CLIENT].conn = NULL;
	s->side[SIDE_UPSTREAM].conn = NULL;
	s->state = L4_FREE;
	s->next = px->free_head;
	px->free_head = s->id;
	if (counted)
		px->stats.active--;
}

/* Reset whichever connections are still open and end the session. */
static void
session_abort(struct gw_l4_session *s)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (s->side[i].conn != NULL) {
			gw_tcp_abort(s->side[i].conn);
			s->side[i].conn = NULL;
		}
	session_release(s, true);
}

/*
 * Hand the queue of side @p from to the other side's send queue, as far
 * as it fits; then pass a FIN on once everything before it is handed
 * over. Returns false when the session ended.
 */
static bool
pump(struct gw_l4_session *s, unsigned int from)
{
	struct gw_l4_proxy *px = s->px;
	struct l4_side *in = &s->side[from], *out = &s->side[from ^ 1];
	struct rte_mbuf *chunk, *last;
	uint32_t bytes;
	int rc;

	if (s->state != L4_OPEN)
		return true;
	if (out->conn == NULL) {
		/* nowhere to deliver: the other side closed under us */
		if (in->q.head == NULL)
			return true;
		px->stats.resets_propagated++;
		session_abort(s);
		return false;
	}
	if (in->q.head != NULL && in->q.bytes == 0)
		queue_drop(&in->q); /* only empty segments left */
	while (in->q.head != NULL) {
		chunk = queue_take(&in->q, gw_tcp_send_space(out->conn), &bytes,
				   &last);
		rc = gw_tcp_send(out->conn, chunk);
		if (rc == -ENOBUFS) {
			queue_untake(&in->q, chunk, last, bytes);
			px->stats.send_blocked++;
			return true; /* on_writable(out) resumes */
		}
		if (rc < 0) {
			/* -EPIPE: out can take no more; the stream is broken */
			queue_untake(&in->q, chunk, last, bytes);
			px->stats.resets_propagated++;
			session_abort(s);
			return false;
		}
		if (in->conn != NULL)
			gw_tcp_recv_consumed(in->conn, bytes);
		if (from == SIDE_CLIENT)
			px->stats.bytes_to_upstream += bytes;
		else
			px->stats.bytes_to_downstream += bytes;
	}
	if (in->fin_rcvd && !out->shut) {
		out->shut = true;
		gw_tcp_shutdown(out->conn);
		px->stats.fins_forwarded++;
	}
	return true;
}

/* ---- callbacks ---- */

static void
on_established(struct gw_tcp_conn *c, void *ctx)
{
	struct l4_side *sd = ctx;
	struct gw_l4_session *s = side_session(sd);

	sd->conn = c;
	connecting_unlink(s->px, s);
	s->state = L4_OPEN;
	s->px->stats.upstream_established++;
	/* client bytes and FIN that waited for the handshake */
	if (pump(s, SIDE_CLIENT))
		pump(s, SIDE_UPSTREAM);
}

static void
on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct l4_side *sd = ctx;

	RTE_SET_USED(c);
	if (m->pkt_len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	queue_append(&sd->q, m);
	pump(side_session(sd), sd->idx);
}

static void
on_writable(struct gw_tcp_conn *c, void *ctx)
{
	struct l4_side *sd = ctx;

	RTE_SET_USED(c);
	pump(side_session(sd), sd->idx ^ 1);
}

static void
on_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct l4_side *sd = ctx;

	RTE_SET_USED(c);
	sd->fin_rcvd = true;
	pump(side_session(sd), sd->idx);
}

static void
on_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct l4_side *sd = ctx;
	struct gw_l4_session *s = side_session(sd);
	struct gw_l4_proxy *px = s->px;
	struct l4_side *other = &s->side[sd->idx ^ 1];

	RTE_SET_USED(c);
	sd->conn = NULL;
	if (s->in_accept) {
		/* the upstream failed inside gw_tcp_connect(): accept refuses */
		s->connect_failed = true;
		return;
	}
	if (reason == GW_TCP_CLOSED_STACK_STOP) {
		/* the stack closes every connection itself: no resets */
		if (other->conn == NULL)
			session_release(s, true);
		return;
	}
	if (reason != GW_TCP_CLOSED_NORMAL) {
		if (sd->idx == SIDE_UPSTREAM && s->state == L4_CONNECTING)
			px->stats.upstream_connect_failures++;
		if (other->conn != NULL)
			px->stats.resets_propagated++;
		session_abort(s);
		return;
	}
	if (other->conn == NULL) {
		px->stats.closed++;
		session_release(s, true);
		return;
	}
	/* this side is done both ways; deliver what it left for the other */
	sd->fin_rcvd = true;
	pump(s, sd->idx);
}

/* ---- accept ---- */

/* The upstream port for @p ip: one whose prefix holds it, else the first. */
static int
upstream_port(const struct gw_l4_proxy *px, uint32_t ip)
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

void *
gw_l4_proxy_accept(void *listener_ctx, struct gw_tcp_conn *c,
		   const struct gw_tcp_callbacks **cb)
{
	struct gw_l4_proxy *px = listener_ctx;
	const struct gw_route_snapshot *snap;
	const struct gw_route_cluster *cl;
	const struct gw_route_endpoint *ep;
	struct gw_route_tcp_result res;
	struct gw_route_request req;
	struct gw_l4_session *s;
	struct gw_tcp_conn *up;
	uint32_t lip, rip;
	uint16_t lport, rport;
	int e, port;

	gw_tcp_conn_tuple(c, &lip, &lport, &rip, &rport);
	snap = px->snapshot(px->snapshot_arg);
	if (snap == NULL ||
	    gw_route_tcp_lookup(snap, px->worker_id, lip, lport, &res) < 0) {
		px->stats.no_route++;
		return NULL;
	}
	memset(&req, 0, sizeof(req));
	req.listener_ip = lip;
	req.listener_port = lport;
	req.source_ip = rip;
	e = gw_route_pick_endpoint(snap, px->worker_id, res.cluster, &req,
				   NULL, NULL);
	cl = gw_route_snapshot_cluster(snap, res.cluster);
	if (e < 0 || cl == NULL || cl->endpoints[e].family != AF_INET ||
	    cl->endpoints[e].port == 0) {
		px->stats.no_endpoint++;
		return NULL;
	}
	ep = &cl->endpoints[e];
	port = upstream_port(px, ep->addr.v4);
	s = port < 0 ? NULL : session_alloc(px);
	if (s == NULL) {
		px->stats.no_session++;
		return NULL;
	}
	s->side[SIDE_CLIENT].conn = c;
	s->in_accept = true;
	up = gw_tcp_connect(px->stack, (unsigned int)port, ep->addr.v4, ep->port,
			    &upstream_cb, &s->side[SIDE_UPSTREAM]);
	s->in_accept = false;
	if (up == NULL || s->connect_failed) {
		px->stats.upstream_connect_failures++;
		s->side[SIDE_CLIENT].conn = NULL; /* the stack resets it */
		s->side[SIDE_UPSTREAM].conn = NULL;
		session_release(s, false);
		return NULL;
	}
	if (s->state == L4_CONNECTING) {
		uint64_t tmo = px->connect_timeout_tsc;
		const struct gw_connection_pool *pool = cl->connection_pool;

		s->side[SIDE_UPSTREAM].conn = up;
		if (pool != NULL && pool->connect_timeout_us > 0)
			tmo = (uint64_t)pool->connect_timeout_us * px->tsc_hz /
			      1000000;
		if (tmo != 0)
			connecting_link(px, s, px->now + tmo);
	}
	px->stats.sessions++;
	px->stats.active++;
	*cb = &client_cb;
	return &s->side[SIDE_CLIENT];
}

int
gw_l4_proxy_listen(struct gw_l4_proxy *px, uint32_t ip, uint16_t port)
{
	return gw_tcp_listen(px->stack, ip, port, gw_l4_proxy_accept, px);
}

void
gw_l4_proxy_poll(struct gw_l4_proxy *px, uint64_t now_tsc)
{
	uint32_t i, next;

	if (now_tsc > px->now)
		px->now = now_tsc;
	if (px->connecting_head == L4_NONE || now_tsc < px->next_scan)
		return;
	px->next_scan = now_tsc + px->tsc_hz / 1000;
	for (i = px->connecting_head; i != L4_NONE; i = next) {
		struct gw_l4_session *s = &px->sessions[i];

		next = s->next;
		if (now_tsc < s->deadline)
			continue;
		px->stats.connect_timeouts++;
		px->stats.upstream_connect_failures++;
		px->stats.resets_propagated++;
		session_abort(s);
	}
}

/* ---- life cycle ---- */

struct gw_l4_proxy *
gw_l4_proxy_create(const struct gw_l4_proxy_params *p)
{
	struct gw_l4_proxy *px;
	unsigned int i;

	if (p == NULL || p->stack == NULL || p->snapshot == NULL ||
	    p->max_sessions == 0 || p->max_sessions >= L4_NONE ||
	    p->n_ports > GW_CONFIG_MAX_PORTS || (p->n_ports > 0 &&
	    (p->ports == NULL || p->port_roles == NULL))) {
		rte_errno = EINVAL;
		return NULL;
	}
	px = rte_zmalloc_socket("gw_l4_proxy", sizeof(*px), RTE_CACHE_LINE_SIZE,
				p->socket_id);
	if (px == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	px->sessions = rte_zmalloc_socket("gw_l4_sessions",
					  (size_t)p->max_sessions *
					  sizeof(*px->sessions),
					  RTE_CACHE_LINE_SIZE, p->socket_id);
	if (px->sessions == NULL) {
		rte_free(px);
		rte_errno = ENOMEM;
		return NULL;
	}
	px->stack = p->stack;
	px->worker_id = p->worker_id;
	px->snapshot = p->snapshot;
	px->snapshot_arg = p->snapshot_arg;
	px->tsc_hz = p->tsc_hz != 0 ? p->tsc_hz : rte_get_tsc_hz();
	px->now = p->start_tsc != 0 ? p->start_tsc : rte_rdtsc();
	px->connect_timeout_tsc = (uint64_t)p->connect_timeout_ms * px->tsc_hz /
				  1000;
	px->n_ports = p->n_ports;
	px->ports = p->ports;
	for (i = 0; i < p->n_ports; i++)
		if (p->port_roles[i] & GW_ROLE_UPSTREAM)
			px->upstream[px->n_upstream++] = i;
	px->n_sessions = p->max_sessions;
	px->connecting_head = L4_NONE;
	for (i = 0; i < p->max_sessions; i++) {
		px->sessions[i].px = px;
		px->sessions[i].id = i;
		px->sessions[i].next = i + 1 < p->max_sessions ? i + 1 : L4_NONE;
	}
	px->free_head = 0;
	return px;
}

void
gw_l4_proxy_free(struct gw_l4_proxy *px)
{
	uint32_t i;

	if (px == NULL)
		return;
	for (i = 0; i < px->n_sessions; i++)
		if (px->sessions[i].state != L4_FREE)
			session_abort(&px->sessions[i]);
	rte_free(px->sessions);
	rte_free(px);
}

const struct gw_l4_proxy_stats *
gw_l4_proxy_stats(const struct gw_l4_proxy *px)
{
	return &px->stats;
}

#define L4_COUNTER(f) {#f, offsetof(struct gw_l4_proxy_stats, f)}
const struct gw_l4_proxy_counter gw_l4_proxy_counters[] = {
	L4_COUNTER(sessions), L4_COUNTER(active),
	L4_COUNTER(upstream_established), L4_COUNTER(upstream_connect_failures),
	L4_COUNTER(connect_timeouts), L4_COUNTER(resets_propagated),
	L4_COUNTER(no_route), L4_COUNTER(no_endpoint), L4_COUNTER(no_session),
	L4_COUNTER(bytes_to_upstream), L4_COUNTER(bytes_to_downstream),
	L4_COUNTER(send_blocked), L4_COUNTER(fins_forwarded), L4_COUNTER(closed),
};
#undef L4_COUNTER
const unsigned int gw_l4_proxy_n_counters = RTE_DIM(gw_l4_proxy_counters);

_Static_assert(sizeof(struct gw_l4_proxy_stats) ==
	       RTE_DIM(gw_l4_proxy_counters) * sizeof(uint64_t),
	       "every counter of struct gw_l4_proxy_stats is named");

void
gw_l4_proxy_stats_add(struct gw_l4_proxy_stats *sum,
		      const struct gw_l4_proxy_stats *add)
{
	uint64_t *d = (uint64_t *)sum;
	const uint64_t *a = (const uint64_t *)add;
	size_t i;

	for (i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		d[i] += a[i];
}
