/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stack object: TCB pool and free list, the 4-tuple table (open
 * addressing, linear probing, backward-shift deletion so that no
 * tombstones accumulate), listeners, connection lifetime, the calls the
 * application makes, and gw_tcp_poll().
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_jhash.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "tcp_private.h"

static const char *const state_names[] = {
	[GW_TCP_CLOSED] = "CLOSED",
	[GW_TCP_LISTEN] = "LISTEN",
	[GW_TCP_SYN_SENT] = "SYN_SENT",
	[GW_TCP_SYN_RCVD] = "SYN_RCVD",
	[GW_TCP_ESTABLISHED] = "ESTABLISHED",
	[GW_TCP_FIN_WAIT_1] = "FIN_WAIT_1",
	[GW_TCP_FIN_WAIT_2] = "FIN_WAIT_2",
	[GW_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[GW_TCP_CLOSING] = "CLOSING",
	[GW_TCP_LAST_ACK] = "LAST_ACK",
	[GW_TCP_TIME_WAIT] = "TIME_WAIT",
};

const char *
gw_tcp_state_name(enum gw_tcp_state st)
{
	if ((unsigned int)st < RTE_DIM(state_names) && state_names[st] != NULL)
		return state_names[st];
	return "UNKNOWN";
}

enum gw_tcp_state
gw_tcp_conn_state(const struct gw_tcp_conn *c)
{
	return (enum gw_tcp_state)c->state;
}

const struct gw_tcp_stats *
gw_tcp_stack_stats(const struct gw_tcp_stack *s)
{
	return &s->stats;
}

/* ---- hashing ---- */

uint32_t
tcp_isn(struct gw_tcp_stack *s, uint32_t lip, uint16_t lport, uint32_t rip,
	uint16_t rport)
{
	/* RFC 6528: a secret function of the tuple plus a 4 us clock (128-bit
	 * product once a GHz TSC times 250000 passes 2^64, within a day). */
	uint64_t clock4us = s->now <= UINT64_MAX / 250000 ?
			    s->now * 250000 / s->p.tsc_hz :
			    (uint64_t)((unsigned __int128)s->now * 250000 /
				       s->p.tsc_hz);

	return (uint32_t)tcp_tuple_hash(s->isn_key, lip, lport, rip, rport) +
	       (uint32_t)clock4us;
}

static void
random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	/* Only at create (control lcore): a syscall is fine here. */
	if (getrandom(buf, len, GRND_NONBLOCK) == (ssize_t)len)
		return;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rte_rand();
}

/* ---- table ---- */

static void
table_insert(struct gw_tcp_stack *s, struct gw_tcp_conn *c)
{
	uint32_t i = c->hash & s->slot_mask;

	while (s->slots[i] != NULL)
		i = (i + 1) & s->slot_mask;
	s->slots[i] = c;
}

static void
table_remove(struct gw_tcp_stack *s, struct gw_tcp_conn *c)
{
	uint32_t mask = s->slot_mask;
	uint32_t i = c->hash & mask;
	uint32_t j;

	while (s->slots[i] != c) {
		if (s->slots[i] == NULL)
			return;          /* not in the table */
		i = (i + 1) & mask;
	}
	/* Backward shift: pull later members of the cluster into the hole
	 * unless their home slot lies cyclically in (hole, their slot]. */
	j = i;
	for (;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (s->slots[j] == NULL)
			break;
		k = s->slots[j]->hash & mask;
		if (((j - k) & mask) >= ((j - i) & mask)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i] = NULL;
}

/* ---- TCB lifetime ---- */

void
tcp_set_state(struct gw_tcp_conn *c, enum gw_tcp_state st)
{
	struct gw_tcp_stack *s = c->s;

	if (c->state == GW_TCP_ESTABLISHED)
		s->stats.established--;
	if (st == GW_TCP_ESTABLISHED)
		s->stats.established++;
	/* An embryonic connection leaves its listener's SYN queue. */
	if (c->listener != NULL && st != GW_TCP_SYN_RCVD) {
		c->listener->syn_count--;
		c->listener = NULL;
	}
	c->state = (uint8_t)st;
}

static void
conn_release(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;

	c->flags = 0;
	c->state = GW_TCP_CLOSED;
	c->cb = NULL;
	c->ctx = NULL;
	SLIST_INSERT_HEAD(&s->free_list, c, free_link);
}

/* Take @p c out of everything that can reach it. */
static void
conn_unlink(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;

	tcp_set_state(c, GW_TCP_CLOSED);
	table_remove(s, c);
	tcp_timers_cancel(c);
	if (c->flags & TCP_CF_PENDING)
		TAILQ_REMOVE(&s->pending, c, pend_link);
	if (c->flags & TCP_CF_TIMEWAIT_LIST) {
		TAILQ_REMOVE(&s->timewait, c, tw_link);
		s->stats.timewait--;
	}
	c->flags &= ~(TCP_CF_PENDING | TCP_CF_TIMEWAIT_LIST);
	tcp_sq_free(c);
	gw_reasm_purge(&c->reasm);
	s->stats.conns--;
}

void
tcp_conn_close(struct gw_tcp_conn *c, enum gw_tcp_close_reason reason,
	       bool notify)
{
	struct gw_tcp_stack *s = c->s;

	if (tcp_conn_dead(c))
		return;
	conn_unlink(c);
	c->flags |= TCP_CF_DEAD;
	if (!(c->flags & TCP_CF_DETACHED)) {
		c->flags |= TCP_CF_DETACHED;
		if (notify && c->cb != NULL && c->cb->on_closed != NULL)
			c->cb->on_closed(c, c->ctx, reason);
	}
	if (s->depth == 0)
		conn_release(c);
	else
		SLIST_INSERT_HEAD(&s->dead, c, free_link);
}

/* Free the oldest TIME_WAIT TCB at once. Safe: nobody holds a TIME_WAIT
 * TCB across a call (the application let go of it at on_closed). */
static bool
timewait_recycle_oldest(struct gw_tcp_stack *s)
{
	struct gw_tcp_conn *c = TAILQ_FIRST(&s->timewait);

	if (c == NULL)
		return false;
	conn_unlink(c);
	conn_release(c);
	return true;
}

void
tcp_stack_release_dead(struct gw_tcp_stack *s)
{
	struct gw_tcp_conn *c;

	while ((c = SLIST_FIRST(&s->dead)) != NULL) {
		SLIST_REMOVE_HEAD(&s->dead, free_link);
		conn_release(c);
	}
}

uint8_t
tcp_rcv_wscale_for(const struct gw_tcp_stack *s)
{
	uint8_t ws = 0;

	/* The smallest shift that can advertise the whole budget. */
	while (ws < GW_TCP_WSCALE_MAX && (UINT32_C(65535) << ws) < s->p.rcvbuf)
		ws++;
	return ws;
}

struct gw_tcp_conn *
tcp_conn_alloc(struct gw_tcp_stack *s, unsigned int port_index, uint32_t lip,
	       uint16_t lport, uint32_t rip, uint16_t rport)
{
	struct gw_tcp_conn *c = SLIST_FIRST(&s->free_list);
	uint16_t mtu_mss;

	if (c == NULL) {
		/* A TIME_WAIT TCB is worth less than a new connection. */
		if (!timewait_recycle_oldest(s))
			return NULL;
		c = SLIST_FIRST(&s->free_list);
	}
	SLIST_REMOVE_HEAD(&s->free_list, free_link);

	memset(c, 0, offsetof(struct gw_tcp_conn, reasm));
	c->s = s;
	c->local_ip = lip;
	c->remote_ip = rip;
	c->local_port = lport;
	c->remote_port = rport;
	c->port_index = (uint8_t)port_index;
	c->hash = (uint32_t)tcp_tuple_hash(s->hash_key, lip, lport, rip, rport);
	c->state = GW_TCP_CLOSED;
	mtu_mss = s->ports[port_index].mtu > TCP_IP_HLEN + TCP_HLEN ?
		  (uint16_t)(s->ports[port_index].mtu - TCP_IP_HLEN - TCP_HLEN) :
		  TCP_DEFAULT_MSS;
	c->rcv_mss = mtu_mss;
	c->snd_mss = min32(mtu_mss, TCP_DEFAULT_MSS);
	c->rcv_wscale = tcp_rcv_wscale_for(s);
	tcp_hdr_template_init(c);
	gw_reasm_init(&c->reasm, s->reasm_pool,
		      min32(s->p.reasm_segments, TCP_REASM_PER_CONN),
		      s->p.rcvbuf);
	c->listener = NULL;
	c->cb = NULL;
	c->ctx = NULL;
	gw_rto_init(&c->rto, NULL);
	tcp_timers_init(c);
	table_insert(s, c);
	s->stats.conns++;
	return c;
}

void
tcp_conn_init_common(struct gw_tcp_conn *c)
{
	uint32_t mss = c->snd_mss;

	/* RFC 6928 / RFC 5681 (3.1) */
	c->cwnd = min32(TCP_INIT_CWND_SEGS * mss, max32(2 * mss, 14600u));
	c->ssthresh = UINT32_MAX / 2;
	c->recover = c->iss;
	c->sq_head_seq = c->iss + 1;
}

/* ---- listeners ---- */

struct tcp_listener *
tcp_listener_find(struct gw_tcp_stack *s, uint32_t ip, uint16_t port)
{
	struct tcp_listener *any = NULL;

	for (unsigned int i = 0; i < s->n_listeners; i++) {
		struct tcp_listener *l = &s->listeners[i];

		if (!l->used || l->port != port)
			continue;
		if (l->ip == ip)
			return l;
		if (l->ip == 0)
			any = l;
	}
	return any;
}

int
gw_tcp_listen(struct gw_tcp_stack *s, uint32_t ip, uint16_t port,
	      gw_tcp_accept_fn accept, void *listener_ctx)
{
	struct tcp_listener *free_slot = NULL;

	if (accept == NULL || port == 0)
		return -EINVAL;
	for (unsigned int i = 0; i < TCP_MAX_LISTENERS; i++) {
		struct tcp_listener *l = &s->listeners[i];

		if (l->used && l->port == port && l->ip == ip)
			return -EEXIST;
		if (!l->used && free_slot == NULL)
			free_slot = l;
	}
	if (free_slot == NULL)
		return -ENOSPC;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->ip = ip;
	free_slot->port = port;
	free_slot->accept = accept;
	free_slot->ctx = listener_ctx;
	if ((unsigned int)(free_slot - s->listeners) + 1 > s->n_listeners)
		s->n_listeners = (unsigned int)(free_slot - s->listeners) + 1;
	return 0;
}

/* ---- create / free ---- */

static int
params_fill(struct gw_tcp_stack_params *p)
{
	if (p->max_conns == 0 || p->pool == NULL || p->xmit == NULL ||
	    p->n_ports == 0 || p->ports == NULL || p->n_ports > UINT8_MAX)
		return -EINVAL;
	if (p->n_workers == 0)
		p->n_workers = 1;
	if (p->worker_id >= p->n_workers)
		return -EINVAL;
	if (p->syn_backlog == 0)
		p->syn_backlog = 1024;
	if (p->timewait_max == 0)
		p->timewait_max = max32(p->max_conns / 4, 1u);
	if (p->rcvbuf == 0)
		p->rcvbuf = 256 * 1024;
	if (p->sndbuf == 0)
		p->sndbuf = 256 * 1024;
	if (p->rcvbuf > (UINT32_C(1) << 30) || p->sndbuf > (UINT32_C(1) << 30))
		return -EINVAL;
	if (p->reasm_segments == 0)
		p->reasm_segments = 4096;
	if (p->connect_timeout_ms == 0)
		p->connect_timeout_ms = 5000;
	if (p->tsc_hz == 0)
		p->tsc_hz = rte_get_tsc_hz();
	if (p->timewait_ms == 0)
		p->timewait_ms = 60000;
	if (p->delack_ms == 0)
		p->delack_ms = 40;
	if (p->max_retransmits == 0)
		p->max_retransmits = 12;
	if (p->max_retransmits > 200)
		p->max_retransmits = 200;
	if (p->challenge_ack_limit == 0)
		p->challenge_ack_limit = 1000;
	if (p->start_tsc == 0)
		p->start_tsc = rte_rdtsc();
	return 0;
}

static void
reasm_free_mbuf(void *buf, void *arg __rte_unused)
{
	rte_pktmbuf_free(buf);
}

struct gw_tcp_stack *
gw_tcp_stack_create(const struct gw_tcp_stack_params *params)
{
	struct gw_tcp_stack *s;
	struct gw_tcp_stack_params p = *params;
	uint32_t n_slots = 16;
	uint8_t key[16];

	if (params_fill(&p) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	while (n_slots < 2 * p.max_conns)
		n_slots <<= 1;

	s = rte_zmalloc("gw_tcp_stack", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL)
		goto nomem;
	s->p = p;
	s->now = p.start_tsc;
	s->tsc_per_ms = (p.tsc_hz >= 1000 ? p.tsc_hz / 1000 : 1);
	s->us_max_64 = UINT64_MAX / p.tsc_hz;
	s->timewait_tsc = (uint64_t)p.timewait_ms * p.tsc_hz / 1000;
	s->delack_tsc = (uint64_t)p.delack_ms * p.tsc_hz / 1000;
	SLIST_INIT(&s->free_list);
	SLIST_INIT(&s->dead);
	TAILQ_INIT(&s->pending);
	TAILQ_INIT(&s->timewait);

	s->ports = rte_zmalloc("gw_tcp_ports", sizeof(*s->ports) * p.n_ports, 0);
	s->conns = rte_zmalloc("gw_tcp_conns", sizeof(*s->conns) * p.max_conns,
			       RTE_CACHE_LINE_SIZE);
	s->slots = rte_zmalloc("gw_tcp_slots", sizeof(*s->slots) * n_slots,
			       RTE_CACHE_LINE_SIZE);
	s->wheel = gw_timer_wheel_create(s->now, s->tsc_per_ms);
	s->reasm_pool = gw_reasm_pool_create(p.reasm_segments,
					     (uint64_t)p.reasm_segments * 65536,
					     reasm_free_mbuf, NULL);
	if (s->ports == NULL || s->conns == NULL || s->slots == NULL ||
	    s->wheel == NULL || s->reasm_pool == NULL)
		goto fail;
	memcpy(s->ports, p.ports, sizeof(*s->ports) * p.n_ports);
	s->p.ports = s->ports;
	s->slot_mask = n_slots - 1;

	random_bytes(s->hash_key, sizeof(s->hash_key));
	random_bytes(s->isn_key, sizeof(s->isn_key));
	random_bytes(key, sizeof(key));
	gw_syncookie_secret_init(&s->cookie_secret, key);
	s->ip_id = (uint16_t)rte_rand();

	/* Free list in pool order, so early connections share cache lines
	 * with nothing else. */
	for (uint32_t i = p.max_conns; i-- > 0;) {
		s->conns[i].s = s;
		s->conns[i].state = GW_TCP_CLOSED;
		SLIST_INSERT_HEAD(&s->free_list, &s->conns[i], free_link);
	}
	return s;
fail:
	gw_timer_wheel_free(s->wheel);
	gw_reasm_pool_free(s->reasm_pool);
	rte_free(s->slots);
	rte_free(s->conns);
	rte_free(s->ports);
	rte_free(s);
nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
gw_tcp_stack_free(struct gw_tcp_stack *s)
{
	if (s == NULL)
		return;
	tcp_stack_enter(s);
	for (uint32_t i = 0; i < s->p.max_conns; i++) {
		struct gw_tcp_conn *c = &s->conns[i];

		if (c->state != GW_TCP_CLOSED && !tcp_conn_dead(c))
			tcp_conn_close(c, GW_TCP_CLOSED_STACK_STOP, true);
	}
	tcp_stack_leave(s);
	gw_timer_wheel_free(s->wheel);
	gw_reasm_pool_free(s->reasm_pool);
	rte_free(s->slots);
	rte_free(s->conns);
	rte_free(s->ports);
	rte_free(s);
}

/* ---- shared pieces of input ---- */

void
tcp_enter_timewait(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;

	tcp_set_state(c, GW_TCP_TIME_WAIT);
	tcp_rtx_cancel(c);
	tcp_persist_cancel(c);
	c->flags &= ~(TCP_CF_RECOVERY | TCP_CF_RTT_TIMING | TCP_CF_RTX_HEAD |
		      TCP_CF_WANT_WRITE | TCP_CF_WRITABLE_DUE | TCP_CF_PERSIST);
	tcp_sq_free(c);
	gw_reasm_purge(&c->reasm);
	if (s->stats.timewait >= s->p.timewait_max)
		timewait_recycle_oldest(s);
	TAILQ_INSERT_TAIL(&s->timewait, c, tw_link);
	c->flags |= TCP_CF_TIMEWAIT_LIST;
	s->stats.timewait++;
	tcp_timewait_arm(c);
	/* Both FINs are through: the application is done with it. */
	if (!(c->flags & TCP_CF_DETACHED)) {
		c->flags |= TCP_CF_DETACHED;
		if (c->cb != NULL && c->cb->on_closed != NULL)
			c->cb->on_closed(c, c->ctx, GW_TCP_CLOSED_NORMAL);
	}
	c->cb = NULL;
	c->ctx = NULL;
}

void
tcp_challenge_ack(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;

	if (s->now - s->chack_window >= s->p.tsc_hz) {
		s->chack_window = s->now;
		s->chack_count = 0;
	}
	if (s->chack_count >= s->p.challenge_ack_limit)
		return;
	s->chack_count++;
	s->stats.challenge_acks++;
	tcp_ack_now(c);
}

void
tcp_notify_established(struct gw_tcp_conn *c)
{
	if (c->cb != NULL && c->cb->on_established != NULL &&
	    !(c->flags & TCP_CF_DETACHED))
		c->cb->on_established(c, c->ctx);
}

void
tcp_deliver(struct gw_tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	c->s->stats.bytes_in += len;
	if (c->cb == NULL || c->cb->on_data == NULL ||
	    (c->flags & TCP_CF_DETACHED)) {
		/* Nobody to read it: consumed at once. */
		rte_pktmbuf_free(m);
		return;
	}
	c->rcv_held += len;
	c->cb->on_data(c, c->ctx, m);
}

void
tcp_notify_fin(struct gw_tcp_conn *c)
{
	if (c->cb != NULL && c->cb->on_fin != NULL &&
	    !(c->flags & TCP_CF_DETACHED))
		c->cb->on_fin(c, c->ctx);
}

/* ---- the application's calls ---- */

static bool
src_port_acceptable(struct gw_tcp_stack *s, unsigned int pi, uint32_t lip,
		    uint16_t lport, uint32_t rip, uint16_t rport)
{
	/* Hook for RSS-aware choice (software Toeplitz); the default encodes
	 * the worker in the port, which gw_tcp_owner() decodes. */
	if (s->p.src_port_ok != NULL)
		return s->p.src_port_ok(s->p.src_port_arg, pi, lip, lport,
					rip, rport);
	return lport % s->p.n_workers == s->p.worker_id;
}

static int
pick_src_port(struct gw_tcp_stack *s, unsigned int pi, uint32_t lip,
	      uint32_t rip, uint16_t rport, uint16_t *out)
{
	const uint32_t lo = s->p.src_port_first != 0 ? s->p.src_port_first :
			    TCP_EPHEMERAL_FIRST;
	const uint32_t hi = s->p.src_port_last != 0 ? s->p.src_port_last :
			    TCP_EPHEMERAL_LAST;
	const uint32_t n_range = hi >= lo ? hi - lo + 1 : 0;
	uint32_t step = s->p.src_port_ok != NULL ? 1 : s->p.n_workers;
	uint32_t first = lo;
	uint32_t n, start;

	if (step > 1) {
		/* The first port of the range in our class. */
		first += (s->p.worker_id + step - first % step) % step;
	}
	if (first > hi || n_range == 0)
		return -EADDRINUSE;
	n = (hi - first) / step + 1;
	if (n == 0 || n > n_range)
		return -EADDRINUSE;
	start = (uint32_t)(rte_rand() % n);
	for (uint32_t k = 0; k < n; k++) {
		uint16_t port = (uint16_t)(first + ((start + k) % n) * step);

		if (!src_port_acceptable(s, pi, lip, port, rip, rport))
			continue;
		if (tcp_conn_lookup(s, lip, port, rip, rport) == NULL) {
			*out = port;
			return 0;
		}
	}
	return -EADDRINUSE;
}

struct gw_tcp_conn *
gw_tcp_connect(struct gw_tcp_stack *s, unsigned int port_index,
	       uint32_t dst_ip, uint16_t dst_port,
	       const struct gw_tcp_callbacks *cb, void *ctx)
{
	struct gw_tcp_conn *c;
	uint32_t lip;
	uint16_t lport;
	int rc;

	if (port_index >= s->p.n_ports || dst_port == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (SLIST_EMPTY(&s->free_list) && TAILQ_EMPTY(&s->timewait)) {
		s->stats.conns_refused_limit++;
		rte_errno = ENOSPC;
		return NULL;
	}
	lip = s->ports[port_index].iface.addr;
	rc = pick_src_port(s, port_index, lip, dst_ip, dst_port, &lport);
	if (rc != 0) {
		rte_errno = -rc;
		return NULL;
	}
	c = tcp_conn_alloc(s, port_index, lip, lport, dst_ip, dst_port);
	if (c == NULL) {
		s->stats.conns_refused_limit++;
		rte_errno = ENOSPC;
		return NULL;
	}
	c->flags |= TCP_CF_ACTIVE;
	c->cb = cb;
	c->ctx = ctx;
	c->iss = tcp_isn(s, lip, lport, dst_ip, dst_port);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	tcp_conn_init_common(c);
	c->deadline = s->now + (uint64_t)s->p.connect_timeout_ms * s->p.tsc_hz / 1000;
	tcp_set_state(c, GW_TCP_SYN_SENT);
	s->stats.active_opens++;
	tcp_send_syn(c);
	tcp_rtx_arm(c);
	return c;
}

/* States whose application may still queue data (one test per call). */
#define TCP_SEND_STATES ((1u << GW_TCP_SYN_SENT) | (1u << GW_TCP_SYN_RCVD) | \
			 (1u << GW_TCP_ESTABLISHED) | (1u << GW_TCP_CLOSE_WAIT))

static inline bool
can_send_data(const struct gw_tcp_conn *c)
{
	if (c->flags & (TCP_CF_DEAD | TCP_CF_DETACHED | TCP_CF_FIN_QUEUED))
		return false;
	return ((UINT32_C(1) << c->state) & TCP_SEND_STATES) != 0;
}

/* gw_tcp_send_space() once can_send_data() holds. */
static inline uint32_t
sq_space(const struct gw_tcp_conn *c)
{
	if (c->sq_bytes >= c->s->p.sndbuf)
		return 0;
	return c->s->p.sndbuf - c->sq_bytes;
}

uint32_t
gw_tcp_send_space(const struct gw_tcp_conn *c)
{
	if (!can_send_data(c))
		return 0;
	return sq_space(c);
}

int
gw_tcp_send(struct gw_tcp_conn *c, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *seg, *next;

	if (!can_send_data(c))
		return -EPIPE;
	if (len > sq_space(c)) {
		c->flags |= TCP_CF_WANT_WRITE;
		return -ENOBUFS;
	}
	/* The queue went out as it is and a frame may still hold its tail:
	 * without mbufs to take its place, wait as for space (the ACK of
	 * what is in flight empties the queue and calls on_writable). */
	if (unlikely(c->flags & TCP_CF_SQ_LENT) && tcp_sq_unlend(c) != 0) {
		c->s->stats.no_mbuf++;
		c->flags |= TCP_CF_WANT_WRITE;
		return -ENOBUFS;
	}
	/* Link the segments onto the queue; empty ones are dropped so that
	 * walks never meet them. The head's pkt_len/nb_segs go stale: the
	 * queue only reads data_len. */
	for (seg = m; seg != NULL; seg = next) {
		next = seg->next;
		seg->next = NULL;
		if (seg->data_len == 0) {
			seg->nb_segs = 1;
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		seg->nb_segs = 1;
		seg->pkt_len = seg->data_len;
		if (c->sq_tail != NULL)
			c->sq_tail->next = seg;
		else
			c->sq_head = seg;
		c->sq_tail = seg;
	}
	c->sq_bytes += len;
	tcp_conn_pend(c);
	return 0;
}

void
gw_tcp_recv_consumed(struct gw_tcp_conn *c, uint32_t bytes)
{
	if (c->flags & (TCP_CF_DEAD | TCP_CF_DETACHED))
		return;
	c->rcv_held -= min32(bytes, c->rcv_held);
	tcp_rcv_window_check(c);
}

void
gw_tcp_shutdown(struct gw_tcp_conn *c)
{
	if (c->flags & (TCP_CF_DEAD | TCP_CF_DETACHED | TCP_CF_FIN_QUEUED))
		return;
	c->flags |= TCP_CF_FIN_QUEUED;
	if (c->state == GW_TCP_ESTABLISHED)
		tcp_set_state(c, GW_TCP_FIN_WAIT_1);
	else if (c->state == GW_TCP_CLOSE_WAIT)
		tcp_set_state(c, GW_TCP_LAST_ACK);
	/* SYN_SENT/SYN_RCVD: the FIN follows the handshake. */
	tcp_conn_pend(c);
}

void
gw_tcp_abort(struct gw_tcp_conn *c)
{
	if (c->flags & (TCP_CF_DEAD | TCP_CF_DETACHED))
		return;
	/* RFC 9293 3.10.4: no RST before the peer knows our ISN. */
	if (c->state != GW_TCP_SYN_SENT) {
		tcp_send_ctl(c, c->snd_max, TCP_RST | TCP_ACK);
		c->s->stats.resets_out++;
	}
	tcp_conn_close(c, GW_TCP_CLOSED_ABORTED, false);
}

void
gw_tcp_conn_tuple(const struct gw_tcp_conn *c, uint32_t *local_ip,
		  uint16_t *local_port, uint32_t *remote_ip,
		  uint16_t *remote_port)
{
	if (local_ip != NULL)
		*local_ip = c->local_ip;
	if (local_port != NULL)
		*local_port = c->local_port;
	if (remote_ip != NULL)
		*remote_ip = c->remote_ip;
	if (remote_port != NULL)
		*remote_port = c->remote_port;
}

void
gw_tcp_conn_set_callbacks(struct gw_tcp_conn *c,
			  const struct gw_tcp_callbacks *cb, void *ctx)
{
	if (c->flags & TCP_CF_DETACHED)
		return;
	c->cb = cb;
	c->ctx = ctx;
}

unsigned int
gw_tcp_owner(const struct gw_tcp_stack *s, const struct rte_mbuf *m,
	     const struct gw_net_result *res)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *,
						    res->l3_offset);
	const uint8_t *th = rte_pktmbuf_mtod_offset(m, const uint8_t *,
						    res->l4_offset);
	uint32_t dst;
	uint16_t dport = (uint16_t)(th[2] << 8 | th[3]);

	memcpy(&dst, ip + 16, 4);
	if (tcp_listener_find((struct gw_tcp_stack *)(uintptr_t)s, dst, dport)
	    != NULL) {
		/* Client connections: by a hash of the client's address and
		 * ports, not by the receiving queue. Software spreading
		 * (af_packet fanout) may re-pick a flow's queue mid-connection
		 * (Linux rehashes a socket's txhash on retransmission), and a
		 * worker that is handed a connection it does not hold can
		 * only reset it. */
		uint32_t src;
		uint16_t sport = (uint16_t)(th[0] << 8 | th[1]);

		memcpy(&src, ip + 12, 4);
		return rte_jhash_3words(src, sport, dport, 0) % s->p.n_workers;
	}
	return dport % s->p.n_workers;
}

void
gw_tcp_poll(struct gw_tcp_stack *s, uint64_t now_tsc)
{
	struct gw_tcp_conn *c;

	if (now_tsc > s->now)
		s->now = now_tsc;
	tcp_stack_enter(s);
	gw_timer_wheel_run(s->wheel, s->now, UINT32_MAX);
	while ((c = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, c, pend_link);
		c->flags &= ~TCP_CF_PENDING;
		if (c->flags & TCP_CF_WRITABLE_DUE) {
			c->flags &= ~TCP_CF_WRITABLE_DUE;
			if (c->cb != NULL && c->cb->on_writable != NULL)
				c->cb->on_writable(c, c->ctx);
			if (tcp_conn_dead(c))
				continue;
			/* Its sends re-queued it: output once, here. */
			if (c->flags & TCP_CF_PENDING) {
				TAILQ_REMOVE(&s->pending, c, pend_link);
				c->flags &= ~TCP_CF_PENDING;
			}
		}
		if (!tcp_output_idle(c))
			tcp_output(c);
	}
	tcp_stack_leave(s);
}

uint64_t
gw_tcp_next_expiry(struct gw_tcp_stack *s)
{
	if (!TAILQ_EMPTY(&s->pending))
		return s->now;
	return gw_timer_wheel_next_expiry(s->wheel);
}
