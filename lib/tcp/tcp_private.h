/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TCP_PRIVATE_H
#define TCP_PRIVATE_H

/*
 * Internals of the per-worker TCP stack, shared by its files:
 *
 *   tcp_stack.c   create/free, TCB pool, 4-tuple table, listeners, the
 *                 application-facing calls, poll
 *   tcp_input.c   segment arrival (RFC 9293 section 3.10.7)
 *   tcp_output.c  segment building, send queue, retransmission by clone
 *   tcp_timer.c   retransmission, delayed ACK, persist, TIME_WAIT timers
 *
 * Clock: the stack's time is the latest @c now given to gw_tcp_poll()
 * (s->now); input and the application calls use it rather than reading
 * the TSC, so that one loop iteration sees one time and tests drive the
 * clock.
 *
 * Lifetime: a TCB that closes is unlinked from everything at once
 * (table, timers, lists, queues) and marked dead, but only returned to the
 * free list when the outermost stack entry point returns (s->depth == 0),
 * so code that called back into the application may still read it and
 * must check tcp_conn_dead() after every callback.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "gw_tcp.h"
#include "gw_tcpcore.h"
#include "gw_timer.h"

/* ---- wire constants ---- */

#define TCP_ETH_HLEN     14
#define TCP_IP_HLEN      20
#define TCP_HLEN         20
#define TCP_HDRS_LEN     (TCP_ETH_HLEN + TCP_IP_HLEN + TCP_HLEN)
#define TCP_SYN_OPT_LEN  8     /* MSS (4) + NOP + window scale (3) */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* ---- tunables not (yet) in the parameters ---- */

#define TCP_MAX_LISTENERS      64
#define TCP_DEFAULT_MSS        536    /* RFC 9293 3.7.1: no MSS option */
#define TCP_INIT_CWND_SEGS     10     /* RFC 6928 */
#define TCP_SYNACK_RETRIES     3      /* then an embryonic conn is freed */
#define TCP_TX_MAX_SEGS        16     /* default mbufs per frame (header included) */
#define TCP_EPHEMERAL_FIRST    32768
#define TCP_EPHEMERAL_LAST     60999
#define TCP_REASM_PER_CONN     256    /* out-of-order items per connection */
#define TCP_COOKIE_SLOT_S      64     /* SYN-cookie time slot */
#define TCP_PERSIST_MIN_US     200000
#define TCP_PERSIST_MAX_US     60000000
#define TCP_DUPACKS_OWED_MAX   8      /* pure dupacks sent per poll */

/* ---- connection flags (struct gw_tcp_conn.flags) ---- */

#define TCP_CF_ACK_NOW       (1u << 0)  /* send an ACK at the next poll */
#define TCP_CF_PENDING       (1u << 1)  /* on s->pending */
#define TCP_CF_FIN_QUEUED    (1u << 2)  /* shutdown: FIN after the queue */
#define TCP_CF_FIN_SENT      (1u << 3)  /* snd_fin_seq is valid */
#define TCP_CF_FIN_RCVD      (1u << 4)  /* the peer's FIN was processed */
#define TCP_CF_RCV_FIN_KNOWN (1u << 5)  /* rcv_fin_seq valid (FIN out of order) */
#define TCP_CF_RECOVERY      (1u << 6)  /* NewReno fast recovery */
#define TCP_CF_RTT_TIMING    (1u << 7)  /* rtt_seq is being timed */
#define TCP_CF_ACTIVE        (1u << 8)  /* opened by gw_tcp_connect() */
#define TCP_CF_WANT_WRITE    (1u << 9)  /* on_writable owed once space frees */
#define TCP_CF_WRITABLE_DUE  (1u << 10) /* call on_writable at the next poll */
#define TCP_CF_DEAD          (1u << 11) /* closed; recycled at depth 0 */
#define TCP_CF_DETACHED      (1u << 12) /* on_closed given; app is gone */
#define TCP_CF_RTX_HEAD      (1u << 13) /* retransmit the segment at snd_una */
#define TCP_CF_WSCALE        (1u << 14) /* both sides sent window scale */
#define TCP_CF_TIMEWAIT_LIST (1u << 15) /* on s->timewait */
#define TCP_CF_SYNACK_NOW    (1u << 16) /* (re)send the SYN-ACK at poll */
#define TCP_CF_PERSIST       (1u << 17) /* zero-window probing */
#define TCP_CF_RTX_ON        (1u << 18) /* t_rtx armed for the TCB */
#define TCP_CF_DELACK_ON     (1u << 19) /* t_delack armed for the TCB */
/* The send queue's mbufs themselves went out chained under a header (no
 * indirect mbufs) and a frame may still hold them: nothing is linked
 * onto the tail before tcp_sq_unlend(). Cleared when the queue empties. */
#define TCP_CF_SQ_LENT       (1u << 20)

struct tcp_listener {
	uint32_t ip;             /* 0 = any */
	uint16_t port;
	bool used;
	gw_tcp_accept_fn accept;
	void *ctx;
	uint32_t syn_count;      /* embryonic (SYN_RCVD) connections */
	uint64_t cookies_until;  /* accept cookie ACKs until this time */
};

struct gw_tcp_conn {
	/* lookup (hot) */
	uint32_t hash;
	uint32_t local_ip, remote_ip;       /* network order */
	uint16_t local_port, remote_port;   /* host order */
	uint8_t state;                      /* enum gw_tcp_state */
	uint8_t port_index;
	uint8_t snd_wscale, rcv_wscale;
	uint32_t flags;                     /* TCP_CF_* */
	struct gw_tcp_stack *s;

	/* send sequence space (RFC 9293 3.3.1); snd_max = highest sent + 1 */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_sndwnd;
	uint32_t snd_fin_seq;               /* sequence number of our FIN */
	uint16_t snd_mss;                   /* payload bytes per segment */
	uint16_t rcv_mss;                   /* what we advertised */

	/* congestion control (RFC 5681, RFC 6582) */
	uint32_t cwnd, ssthresh, recover, bytes_acked;
	uint8_t dupacks;
	uint8_t rtx_count;                  /* consecutive timeouts/probes */
	uint8_t persist_shift;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	uint64_t deadline;                  /* SYN_SENT: give up at */
	struct gw_rto rto;
	uint32_t rto_base_us;               /* rto.rto_us before back-off */

	/* send queue: mbuf segments linked by ->next; the first byte still
	 * queued is at sq_head_off in sq_head and has sequence sq_head_seq */
	struct rte_mbuf *sq_head, *sq_tail;
	uint32_t sq_head_off, sq_head_seq, sq_bytes;
	struct rte_mbuf *sq_cur;            /* cursor for the next lookup */
	uint32_t sq_cur_seq;                /* seq of sq_cur's first byte */

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv;     /* rcv_adv: right window edge sent */
	uint32_t rcv_held;                  /* delivered, not yet consumed */
	uint32_t rcv_fin_seq;
	uint8_t segs_unacked;
	uint8_t dupacks_owed;               /* pure ACKs for out-of-order arrivals */
	struct gw_reasm reasm;

	/* timers */
	struct gw_timer t_rtx;              /* RTO, SYN, TIME_WAIT */
	struct gw_timer t_delack;
	struct gw_timer t_persist;

	TAILQ_ENTRY(gw_tcp_conn) pend_link;
	TAILQ_ENTRY(gw_tcp_conn) tw_link;
	SLIST_ENTRY(gw_tcp_conn) free_link;  /* free list or dead list */

	struct tcp_listener *listener;      /* SYN_RCVD passive: its queue */
	const struct gw_tcp_callbacks *cb;
	void *ctx;

	/* Headers of every option-less segment: Ethernet type, IPv4 and TCP
	 * with what stays fixed over the connection (tcp_hdr_template_init());
	 * each segment copies them and writes its id, sequence numbers, flags
	 * and window. phdr_sum: the pseudo-header's words but the length. */
	uint32_t phdr_sum;
	uint8_t hdr_tmpl[TCP_HDRS_LEN];
} __rte_cache_aligned;

TAILQ_HEAD(tcp_conn_tailq, gw_tcp_conn);
SLIST_HEAD(tcp_conn_slist, gw_tcp_conn);

struct gw_tcp_stack {
	struct gw_tcp_stack_params p;       /* with defaults filled in */
	struct gw_tcp_port *ports;          /* copy of p.ports */
	uint64_t now;
	uint64_t tsc_per_ms;
	uint64_t us_max_64;                 /* largest us with us * tsc_hz < 2^64 */
	uint64_t timewait_tsc;
	uint64_t delack_tsc;

	struct gw_tcp_conn *conns;          /* the TCB pool */
	struct tcp_conn_slist free_list;
	struct tcp_conn_slist dead;
	unsigned int depth;                 /* nesting of entry points */

	struct gw_tcp_conn **slots;         /* open addressing, linear probe */
	uint32_t slot_mask;
	uint64_t hash_key[2];
	uint64_t isn_key[2];

	struct tcp_listener listeners[TCP_MAX_LISTENERS];
	unsigned int n_listeners;           /* high-water mark of used slots */

	struct tcp_conn_tailq pending;      /* work for the next poll */
	struct tcp_conn_tailq timewait;     /* oldest first */

	uint64_t chack_window;              /* challenge-ACK rate limit */
	uint32_t chack_count;
	uint16_t ip_id;

	struct gw_timer_wheel *wheel;
	struct gw_reasm_pool *reasm_pool;
	struct gw_syncookie_secret cookie_secret;

	struct gw_tcp_stats stats;
} __rte_cache_aligned;

/* ---- small helpers ---- */

/* Functions, not RTE_MIN/RTE_MAX: those nest badly under -Wshadow. */
static inline uint32_t
min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t
max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static inline bool
tcp_conn_dead(const struct gw_tcp_conn *c)
{
	return (c->flags & TCP_CF_DEAD) != 0;
}

/* Conversions are per segment (RTO arming, RTT samples): when the product
 * fits in 64 bits (any RTO; an RTT under 2^64 / 10^6 cycles, 1.7 hours at
 * 3 GHz) the same quotient comes from 64-bit arithmetic, without the
 * libgcc 128-bit division. */
static inline uint64_t
tcp_us_to_tsc(const struct gw_tcp_stack *s, uint64_t us)
{
	if (likely(us <= s->us_max_64))
		return us * s->p.tsc_hz / 1000000;
	return (uint64_t)((unsigned __int128)us * s->p.tsc_hz / 1000000);
}

static inline uint32_t
tcp_tsc_to_us(const struct gw_tcp_stack *s, uint64_t tsc)
{
	uint64_t us;

	if (likely(tsc <= UINT64_MAX / 1000000))
		us = tsc * 1000000 / s->p.tsc_hz;
	else
		us = (uint64_t)((unsigned __int128)tsc * 1000000 / s->p.tsc_hz);
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Unfolded sum of the TCP pseudo-header's 16-bit words (as
 * rte_raw_cksum() reads them) without the length: addresses and protocol. */
static inline uint32_t
tcp_phdr_sum(uint32_t src, uint32_t dst)
{
	return (src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16) +
	       rte_cpu_to_be_16(IPPROTO_TCP);
}

/* rte_ipv4_phdr_cksum() (no TSO) from tcp_phdr_sum() and the TCP length:
 * the same words summed and folded the same way, so the same value. */
static inline uint16_t
tcp_phdr_cksum(uint32_t phdr_sum, uint32_t l4_len)
{
	uint32_t sum = phdr_sum + rte_cpu_to_be_16((uint16_t)l4_len);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* First sequence number after the queued data. */
static inline uint32_t
tcp_sq_end(const struct gw_tcp_conn *c)
{
	return c->sq_head_seq + c->sq_bytes;
}

/* Free space of the receive budget (rcvbuf - held - reassembly); inline:
 * every outgoing segment and every consumed read computes it. */
static inline uint32_t
tcp_rcv_space(const struct gw_tcp_conn *c)
{
	uint64_t used = (uint64_t)c->rcv_held + c->reasm.bytes;

	return used >= c->s->p.rcvbuf ? 0 : c->s->p.rcvbuf - (uint32_t)used;
}

/* Bytes in flight (sent, not acknowledged), SYN/FIN included. */
static inline uint32_t
tcp_flight(const struct gw_tcp_conn *c)
{
	return c->snd_nxt - c->snd_una;
}

static inline bool
tcp_state_synchronized(uint8_t st)
{
	return st >= GW_TCP_ESTABLISHED;
}

/* Queue @p c for gw_tcp_poll(). */
static inline void
tcp_conn_pend(struct gw_tcp_conn *c)
{
	if (!(c->flags & TCP_CF_PENDING) && !tcp_conn_dead(c)) {
		c->flags |= TCP_CF_PENDING;
		TAILQ_INSERT_TAIL(&c->s->pending, c, pend_link);
	}
}

static inline void
tcp_ack_now(struct gw_tcp_conn *c)
{
	c->flags |= TCP_CF_ACK_NOW;
	tcp_conn_pend(c);
}

/* ---- 4-tuple table (tcp_stack.c), lookup inline: once per segment ---- */

/* Murmur3's finaliser: a bijective avalanche on 64 bits. */
static inline uint64_t
tcp_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* Keyed so that a peer choosing its address and port cannot aim at one
 * probe chain (a plain CRC is linear and a seed does not hide that). */
static inline uint64_t
tcp_tuple_hash(const uint64_t key[2], uint32_t lip, uint16_t lport,
	       uint32_t rip, uint16_t rport)
{
	uint64_t a = ((uint64_t)rip << 32 | (uint64_t)rport << 16 | lport) ^ key[0];
	uint64_t b = (uint64_t)lip ^ key[1];

	return tcp_mix64(a + tcp_mix64(b));
}

static inline struct gw_tcp_conn *
tcp_conn_lookup(struct gw_tcp_stack *s, uint32_t lip, uint16_t lport,
		uint32_t rip, uint16_t rport)
{
	uint32_t h = (uint32_t)tcp_tuple_hash(s->hash_key, lip, lport, rip, rport);
	uint32_t i = h & s->slot_mask;
	struct gw_tcp_conn *c;

	while ((c = s->slots[i]) != NULL) {
		if (c->hash == h && c->remote_ip == rip && c->local_ip == lip &&
		    c->remote_port == rport && c->local_port == lport)
			return c;
		i = (i + 1) & s->slot_mask;
	}
	return NULL;
}

/* ---- tcp_stack.c ---- */

void tcp_set_state(struct gw_tcp_conn *c, enum gw_tcp_state st);
/* A fresh TCB in the table, or NULL at max_conns (counted by the caller). */
struct gw_tcp_conn *tcp_conn_alloc(struct gw_tcp_stack *s,
				   unsigned int port_index, uint32_t lip,
				   uint16_t lport, uint32_t rip, uint16_t rport);
/* Close: unlink everything; on_closed(@p reason) when @p notify and the
 * application still holds the connection. */
void tcp_conn_close(struct gw_tcp_conn *c, enum gw_tcp_close_reason reason,
		    bool notify);
/* Return the dead list's TCBs to the free list (depth 0). */
void tcp_stack_release_dead(struct gw_tcp_stack *s);

/* Entry points nest; inline, as every segment passes both. */
static inline void
tcp_stack_enter(struct gw_tcp_stack *s)
{
	s->depth++;
}

static inline void
tcp_stack_leave(struct gw_tcp_stack *s)
{
	if (--s->depth == 0 && !SLIST_EMPTY(&s->dead))
		tcp_stack_release_dead(s);
}
struct tcp_listener *tcp_listener_find(struct gw_tcp_stack *s, uint32_t ip,
				       uint16_t port);
uint32_t tcp_isn(struct gw_tcp_stack *s, uint32_t lip, uint16_t lport,
		 uint32_t rip, uint16_t rport);
/* Window scale we offer for the configured receive budget. */
uint8_t tcp_rcv_wscale_for(const struct gw_tcp_stack *s);
/* Common TCB set-up after the handshake parameters are known. */
void tcp_conn_init_common(struct gw_tcp_conn *c);
/* Enter TIME_WAIT (bounded list, 2*MSL timer, app told NORMAL). */
void tcp_enter_timewait(struct gw_tcp_conn *c);
/* Challenge ACK if the stack's rate limit allows (RFC 5961 section 7). */
void tcp_challenge_ack(struct gw_tcp_conn *c);
/* The application callbacks, each followed by a dead check by callers. */
void tcp_notify_established(struct gw_tcp_conn *c);
void tcp_deliver(struct gw_tcp_conn *c, struct rte_mbuf *m, uint32_t len);
void tcp_notify_fin(struct gw_tcp_conn *c);

/* ---- tcp_output.c ---- */

/* Fill c->hdr_tmpl and c->phdr_sum from the 4-tuple (at TCB set-up). */
void tcp_hdr_template_init(struct gw_tcp_conn *c);

/* Send what the window allows, an ACK if one is owed, arm timers. */
void tcp_output(struct gw_tcp_conn *c);

/* True when tcp_output() would do nothing: no byte queued past snd_nxt
 * and nothing else asking for a segment (an ACK, a retransmission, a FIN,
 * a SYN-ACK, duplicate ACKs). Half of the connections a poll drains are
 * only there because an ACK came in, with nothing to send back. */
static inline bool
tcp_output_idle(const struct gw_tcp_conn *c)
{
	return c->snd_nxt == tcp_sq_end(c) && c->dupacks_owed == 0 &&
	       !(c->flags & (TCP_CF_ACK_NOW | TCP_CF_RTX_HEAD |
			     TCP_CF_FIN_QUEUED | TCP_CF_SYNACK_NOW));
}
/* A segment without payload now: SYN, SYN-ACK, ACK, FIN or RST. */
int tcp_send_ctl(struct gw_tcp_conn *c, uint32_t seq, uint8_t flags);
/* SYN or SYN-ACK with our options. */
int tcp_send_syn(struct gw_tcp_conn *c);
/* RST answering a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_send_rst_reply(struct gw_tcp_stack *s, unsigned int port_index,
			uint32_t lip, uint16_t lport, uint32_t rip,
			uint16_t rport, uint32_t seg_seq, uint32_t seg_ack,
			uint32_t seg_len, uint8_t seg_flags);
/* A SYN-ACK whose ISN is a cookie (no TCB). */
void tcp_send_cookie_synack(struct gw_tcp_stack *s, unsigned int port_index,
			    uint32_t lip, uint16_t lport, uint32_t rip,
			    uint16_t rport, uint32_t isn, uint32_t ack,
			    uint16_t mss, bool wscale_ok);
/* tcp_rcv_window_check() past its first test. */
void tcp_rcv_window_reopen(struct gw_tcp_conn *c, uint32_t cur);
/* tcp_mbuf_cut() below */
struct rte_mbuf *tcp_mbuf_cut(struct rte_mbuf *m, uint32_t off, uint32_t len);

/* After rcv_held dropped: send a window update if it reopened enough.
 * Inline: every read the application consumes comes here, and the usual
 * answer (the window is still wide open) is the first test. */
static inline void
tcp_rcv_window_check(struct gw_tcp_conn *c)
{
	uint32_t cur;

	if (c->state != GW_TCP_ESTABLISHED && c->state != GW_TCP_FIN_WAIT_1 &&
	    c->state != GW_TCP_FIN_WAIT_2)
		return;
	cur = gw_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	/* Tell the peer when a window small enough to stall it (zero, or a
	 * few segments) reopens by a useful amount; larger windows travel on
	 * the ACKs the data flow brings anyway. */
	if (cur >= min32(c->s->p.rcvbuf / 2, 4u * c->rcv_mss))
		return;
	tcp_rcv_window_reopen(c, cur);
}

/* tcp_mbuf_cut() of a received frame to its payload; a frame in one
 * segment (every frame a NIC without scatter delivers) is cut inline with
 * the same result. */
static inline struct rte_mbuf *
tcp_payload_cut(struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	if (m->next == NULL && len != 0 && off + len <= m->data_len) {
		m->data_off = (uint16_t)(m->data_off + off);
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		m->nb_segs = 1;
		return m;
	}
	return tcp_mbuf_cut(m, off, len);
}
/* Drop @p acked bytes from the head of the send queue. */
void tcp_sq_trim(struct gw_tcp_conn *c, uint32_t acked);
void tcp_sq_free(struct gw_tcp_conn *c);
/* Before linking onto a TCP_CF_SQ_LENT queue: when a frame still holds its
 * mbufs, the queue swaps them for indirect mbufs over the same bytes (the
 * frame's chain must not change). 0, or -ENOMEM (queue unchanged). */
int tcp_sq_unlend(struct gw_tcp_conn *c);
/* mbuf helpers (also used by the tests) */
struct rte_mbuf *tcp_mbuf_range_clone(struct rte_mbuf *head, uint32_t offset,
				      uint32_t len, struct rte_mempool *pool);
int tcp_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len,
		   uint16_t *cksum);

/* ---- tcp_timer.c ---- */

/*
 * The retransmission and delayed-ACK timers are cancelled lazily: every
 * request/response exchange arms and cancels each once, and relinking a
 * wheel entry per segment cost more than the rest of the timer work. The
 * TCB's flag (TCP_CF_RTX_ON, TCP_CF_DELACK_ON) says whether the timer is
 * armed; cancelling clears only the flag and leaves the wheel entry,
 * which arming again moves later with one store (gw_timer_arm_at()), or
 * which fires and finds the flag clear. The expiry callbacks check the
 * flag first, so a timer fires exactly when an eagerly cancelled and
 * re-armed one would have. Closing a TCB cancels for real
 * (tcp_timers_cancel()): its memory is reused.
 */

void tcp_timers_init(struct gw_tcp_conn *c);
void tcp_timers_cancel(struct gw_tcp_conn *c);

static inline bool
tcp_rtx_armed(const struct gw_tcp_conn *c)
{
	return (c->flags & TCP_CF_RTX_ON) != 0;
}

/* (Re)arm the retransmission timer at now + RTO (bounded by a deadline). */
static inline void
tcp_rtx_arm(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;
	uint64_t exp = s->now + tcp_us_to_tsc(s, c->rto.rto_us);

	if (c->state == GW_TCP_SYN_SENT && exp > c->deadline)
		exp = c->deadline;
	c->flags |= TCP_CF_RTX_ON;
	gw_timer_arm_at(s->wheel, &c->t_rtx, exp);
}

static inline void
tcp_rtx_cancel(struct gw_tcp_conn *c)
{
	c->flags &= ~TCP_CF_RTX_ON;
}

/* Arm the delayed ACK unless it is armed already. */
static inline void
tcp_delack_arm(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;

	if (c->flags & TCP_CF_DELACK_ON)
		return;
	c->flags |= TCP_CF_DELACK_ON;
	gw_timer_arm_at(s->wheel, &c->t_delack, s->now + s->delack_tsc);
}

static inline void
tcp_delack_cancel(struct gw_tcp_conn *c)
{
	c->flags &= ~TCP_CF_DELACK_ON;
}

void tcp_persist_arm(struct gw_tcp_conn *c);
void tcp_persist_cancel(struct gw_tcp_conn *c);
void tcp_timewait_arm(struct gw_tcp_conn *c);

#endif /* TCP_PRIVATE_H */
