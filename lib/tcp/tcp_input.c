/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Segment arrival, in the order of RFC 9293 section 3.10.7 with the
 * RFC 5961 hardening: sequence check, RST (exact match or challenge ACK),
 * SYN in a synchronized state (challenge ACK), ACK (validity window,
 * NewReno), text, FIN. Listeners handle SYNs (a TCB per SYN until the
 * SYN queue is full, SYN cookies beyond) and cookie ACKs.
 *
 * Every application callback may close the connection it is called for
 * (or any other): after each one the code checks tcp_conn_dead() and
 * stops touching the TCB's state, whose memory stays valid until the
 * outermost entry point returns.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_private.h"

#define TCP_DUPACK_THRESH 3
#define TCP_CWND_MAX      (UINT32_C(1) << 30)

/* A parsed segment; payload (if any) is the mbuf handed along with it. */
struct tcp_seg {
	uint32_t seq, ack;
	uint32_t len;          /* payload bytes */
	uint32_t seg_len;      /* sequence space: payload + SYN + FIN */
	uint32_t src_ip, dst_ip;
	uint16_t sport, dport;
	uint16_t wnd;
	uint8_t flags;
	struct gw_tcp_options opts;   /* parsed on SYNs only */
};

enum { CONN_DONE = 0, CONN_REPROCESS = 1 };

static inline void
free_payload(struct rte_mbuf *m)
{
	if (m != NULL)
		rte_pktmbuf_free(m);
}

/* ---- parsing ---- */

static bool
checksum_ok(const struct rte_mbuf *m, const struct gw_net_result *res,
	    const struct rte_ipv4_hdr *ip)
{
	uint64_t ck = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint16_t raw = 0;
	uint32_t psd[3];
	uint32_t sum;

	if (ck == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return true;
	if (ck == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	if (tcp_cksum_mbuf(m, res->l4_offset, res->l4_len, &raw) != 0)
		return false;
	/* Pseudo-header from the TCP length lib/net validated. */
	psd[0] = ip->src_addr;
	psd[1] = ip->dst_addr;
	psd[2] = rte_cpu_to_be_32((uint32_t)IPPROTO_TCP << 16 | res->l4_len);
	sum = (uint32_t)raw + rte_raw_cksum(psd, sizeof(psd));
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Fill @p seg from the frame; on success *@p payload is the frame cut to
 * the TCP payload (NULL when empty). On failure the frame is freed. */
static int
seg_parse(struct gw_tcp_stack *s, struct rte_mbuf *m,
	  const struct gw_net_result *res, struct tcp_seg *seg,
	  struct rte_mbuf **payload)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint32_t hlen;

	if (res->l4_len < TCP_HLEN ||
	    rte_pktmbuf_data_len(m) < (uint32_t)res->l4_offset + TCP_HLEN ||
	    rte_pktmbuf_pkt_len(m) < (uint32_t)res->l4_offset + res->l4_len ||
	    res->l3_offset + sizeof(*ip) > res->l4_offset)
		goto bad;
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
				     res->l3_offset);
	th = rte_pktmbuf_mtod_offset(m, const struct rte_tcp_hdr *,
				     res->l4_offset);
	hlen = (uint32_t)(th->data_off >> 4) * 4;
	if (hlen < TCP_HLEN || hlen > res->l4_len ||
	    rte_pktmbuf_data_len(m) < res->l4_offset + hlen)
		goto bad;
	if (!checksum_ok(m, res, ip)) {
		s->stats.bad_checksum++;
		rte_pktmbuf_free(m);
		return -EINVAL;
	}
	seg->src_ip = ip->src_addr;
	seg->dst_ip = ip->dst_addr;
	seg->sport = rte_be_to_cpu_16(th->src_port);
	seg->dport = rte_be_to_cpu_16(th->dst_port);
	seg->seq = rte_be_to_cpu_32(th->sent_seq);
	seg->ack = rte_be_to_cpu_32(th->recv_ack);
	seg->wnd = rte_be_to_cpu_16(th->rx_win);
	seg->flags = th->tcp_flags & (TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH |
				      TCP_ACK | TCP_URG);
	seg->len = res->l4_len - hlen;
	seg->seg_len = seg->len + ((seg->flags & TCP_SYN) ? 1 : 0) +
		       ((seg->flags & TCP_FIN) ? 1 : 0);
	seg->opts.present = 0;
	if (seg->sport == 0 || seg->dport == 0)
		goto bad;
	if ((seg->flags & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST))
		goto bad;
	if ((seg->flags & TCP_SYN) && hlen > TCP_HLEN &&
	    gw_tcp_options_parse((const uint8_t *)(th + 1), hlen - TCP_HLEN,
				 &seg->opts) != 0)
		goto bad;
	*payload = tcp_payload_cut(m, res->l4_offset + hlen, seg->len);
	return 0;
bad:
	s->stats.bad_segment++;
	rte_pktmbuf_free(m);
	return -EINVAL;
}

/* Apply the peer's SYN options: MSS clamp and window scaling. */
static void
syn_options_apply(struct gw_tcp_conn *c, const struct gw_tcp_options *o)
{
	uint16_t peer_mss = (o->present & GW_TCPOPT_F_MSS) && o->mss != 0 ?
			    o->mss : TCP_DEFAULT_MSS;

	c->snd_mss = min32(peer_mss, c->rcv_mss);
	if (c->snd_mss < 64)
		c->snd_mss = 64;      /* a silly MSS must not turn into a flood */
	if (o->present & GW_TCPOPT_F_WSCALE) {
		c->flags |= TCP_CF_WSCALE;
		c->snd_wscale = o->wscale;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;    /* scaling needs both sides (RFC 7323) */
	}
}

static inline uint32_t
seg_wnd(const struct gw_tcp_conn *c, const struct tcp_seg *seg)
{
	/* The window of a SYN is never scaled (RFC 7323 2.2). */
	if ((seg->flags & TCP_SYN) || !(c->flags & TCP_CF_WSCALE))
		return seg->wnd;
	return (uint32_t)seg->wnd << c->snd_wscale;
}

/* ---- passive open ---- */

/* The handshake completed on a passive conn: ask the listener. 0, or -1
 * when the connection is gone (refused or closed from accept). */
static int
passive_accept(struct gw_tcp_conn *c, struct tcp_listener *l)
{
	struct gw_tcp_stack *s = c->s;
	const struct gw_tcp_callbacks *cb = NULL;
	void *ctx;

	s->stats.passive_opens++;
	ctx = l->accept(l->ctx, c, &cb);
	if (tcp_conn_dead(c))
		return -1;
	if (ctx == NULL) {
		s->stats.accepts_refused++;
		s->stats.resets_out++;
		tcp_send_ctl(c, c->snd_max, TCP_RST | TCP_ACK);
		tcp_conn_close(c, GW_TCP_CLOSED_ABORTED, false);
		return -1;
	}
	c->cb = cb;
	c->ctx = ctx;
	if ((c->flags & TCP_CF_FIN_QUEUED) && c->state == GW_TCP_ESTABLISHED)
		tcp_set_state(c, GW_TCP_FIN_WAIT_1);
	tcp_conn_pend(c);
	return 0;
}

static void
listen_syn(struct gw_tcp_stack *s, unsigned int pi, struct tcp_listener *l,
	   const struct tcp_seg *seg)
{
	struct gw_tcp_conn *c;

	if (l->syn_count >= s->p.syn_backlog) {
		/* SYN queue full: answer statelessly. */
		uint32_t slot = (uint32_t)(s->now / (s->p.tsc_hz * TCP_COOKIE_SLOT_S));
		uint16_t mss = (seg->opts.present & GW_TCPOPT_F_MSS) ?
			       seg->opts.mss : TCP_DEFAULT_MSS;
		uint8_t ws = (seg->opts.present & GW_TCPOPT_F_WSCALE) ?
			     seg->opts.wscale : GW_SYNCOOKIE_NO_WSCALE;
		uint32_t cookie = gw_syncookie_make(&s->cookie_secret,
			seg->src_ip, seg->dst_ip, seg->sport, seg->dport,
			seg->seq, slot, mss, ws);
		uint16_t our_mss = s->ports[pi].mtu > TCP_IP_HLEN + TCP_HLEN ?
			(uint16_t)(s->ports[pi].mtu - TCP_IP_HLEN - TCP_HLEN) :
			TCP_DEFAULT_MSS;

		tcp_send_cookie_synack(s, pi, seg->dst_ip, seg->dport,
				       seg->src_ip, seg->sport, cookie,
				       seg->seq + 1, our_mss,
				       ws != GW_SYNCOOKIE_NO_WSCALE);
		l->cookies_until = s->now + 2 * TCP_COOKIE_SLOT_S * s->p.tsc_hz;
		return;
	}
	c = tcp_conn_alloc(s, pi, seg->dst_ip, seg->dport, seg->src_ip,
			   seg->sport);
	if (c == NULL) {
		/* At max_conns: drop silently like a full backlog; the
		 * client retries. */
		s->stats.conns_refused_limit++;
		return;
	}
	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	c->iss = tcp_isn(s, c->local_ip, c->local_port, c->remote_ip,
			 c->remote_port);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	syn_options_apply(c, &seg->opts);
	tcp_conn_init_common(c);
	c->snd_wnd = seg->wnd;         /* a SYN's window is never scaled */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
	tcp_set_state(c, GW_TCP_SYN_RCVD);
	c->listener = l;
	l->syn_count++;
	c->flags |= TCP_CF_RTT_TIMING;
	c->rtt_seq = c->iss;
	c->rtt_start = s->now;
	tcp_send_syn(c);
	tcp_rtx_arm(c);
}

static int conn_input(struct gw_tcp_conn *c, struct tcp_seg *seg,
		      struct rte_mbuf *m);

/* The ACK of a cookie SYN-ACK: make the TCB, ESTABLISHED at once. */
static void
listen_cookie_ack(struct gw_tcp_stack *s, unsigned int pi,
		  struct tcp_listener *l, struct tcp_seg *seg,
		  struct rte_mbuf *m)
{
	uint32_t slot = (uint32_t)(s->now / (s->p.tsc_hz * TCP_COOKIE_SLOT_S));
	struct gw_tcp_options o = { .present = GW_TCPOPT_F_MSS };
	struct gw_tcp_conn *c;
	uint16_t mss;
	uint8_t ws;

	if (s->now >= l->cookies_until ||
	    gw_syncookie_check(&s->cookie_secret, seg->src_ip, seg->dst_ip,
			       seg->sport, seg->dport, seg->seq - 1,
			       seg->ack - 1, slot, &mss, &ws) != 0) {
		s->stats.syncookies_failed++;
		tcp_send_rst_reply(s, pi, seg->dst_ip, seg->dport, seg->src_ip,
				   seg->sport, seg->seq, seg->ack, seg->seg_len,
				   seg->flags);
		free_payload(m);
		return;
	}
	c = tcp_conn_alloc(s, pi, seg->dst_ip, seg->dport, seg->src_ip,
			   seg->sport);
	if (c == NULL) {
		s->stats.conns_refused_limit++;
		free_payload(m);
		return;
	}
	s->stats.syncookies_ok++;
	o.mss = mss;
	if (ws != GW_SYNCOOKIE_NO_WSCALE) {
		o.present |= GW_TCPOPT_F_WSCALE;
		o.wscale = ws;
	}
	syn_options_apply(c, &o);
	c->irs = seg->seq - 1;
	c->rcv_nxt = seg->seq;
	c->rcv_adv = c->rcv_nxt + min32(s->p.rcvbuf, UINT32_C(65535));
	c->iss = seg->ack - 1;
	c->snd_una = seg->ack;
	c->snd_nxt = seg->ack;
	c->snd_max = seg->ack;
	tcp_conn_init_common(c);
	c->snd_wnd = seg_wnd(c, seg);
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	tcp_set_state(c, GW_TCP_ESTABLISHED);
	if (passive_accept(c, l) != 0) {
		free_payload(m);
		return;
	}
	/* The ACK may carry data (and even FIN): process it as usual. */
	conn_input(c, seg, m);
}

static void
listen_input(struct gw_tcp_stack *s, unsigned int pi, struct tcp_seg *seg,
	     struct rte_mbuf *m)
{
	struct tcp_listener *l = tcp_listener_find(s, seg->dst_ip, seg->dport);

	if (l == NULL) {
		if (!(seg->flags & TCP_RST))
			s->stats.no_listener++;
		tcp_send_rst_reply(s, pi, seg->dst_ip, seg->dport, seg->src_ip,
				   seg->sport, seg->seq, seg->ack, seg->seg_len,
				   seg->flags);
		free_payload(m);
		return;
	}
	if (seg->flags & TCP_RST) {
		free_payload(m);
		return;
	}
	if (seg->flags & TCP_ACK) {
		if (!(seg->flags & TCP_SYN) && s->now < l->cookies_until) {
			listen_cookie_ack(s, pi, l, seg, m);
			return;
		}
		tcp_send_rst_reply(s, pi, seg->dst_ip, seg->dport, seg->src_ip,
				   seg->sport, seg->seq, seg->ack, seg->seg_len,
				   seg->flags);
		free_payload(m);
		return;
	}
	/* Data on a SYN is dropped (the peer resends it after the
	 * handshake); a FIN with it is ignored likewise. */
	free_payload(m);
	if (seg->flags & TCP_SYN)
		listen_syn(s, pi, l, seg);
}

/* ---- SYN_SENT ---- */

static void
syn_sent_input(struct gw_tcp_conn *c, struct tcp_seg *seg, struct rte_mbuf *m)
{
	struct gw_tcp_stack *s = c->s;

	/* Data in a SYN-ACK is rare: drop it, the peer sends it again. */
	free_payload(m);
	if (seg->flags & TCP_ACK) {
		if (gw_seq_leq(seg->ack, c->iss) || gw_seq_gt(seg->ack, c->snd_max)) {
			tcp_send_rst_reply(s, c->port_index, c->local_ip,
					   c->local_port, c->remote_ip,
					   c->remote_port, seg->seq, seg->ack,
					   seg->seg_len, seg->flags);
			return;
		}
	}
	if (seg->flags & TCP_RST) {
		if (seg->flags & TCP_ACK) {
			s->stats.resets_in++;
			tcp_conn_close(c, GW_TCP_CLOSED_REFUSED, true);
		}
		return;
	}
	if (!(seg->flags & TCP_SYN))
		return;

	c->irs = seg->seq;
	c->rcv_nxt = seg->seq + 1;
	/* The right edge our SYN offered (unscaled), now that it has an
	 * origin. */
	c->rcv_adv = c->rcv_nxt + min32(tcp_rcv_space(c), UINT32_C(65535));
	syn_options_apply(c, &seg->opts);
	tcp_conn_init_common(c);
	c->snd_wnd = seg->wnd;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (!(seg->flags & TCP_ACK)) {
		/* Simultaneous open (RFC 9293 figure 7). */
		c->flags &= ~TCP_CF_RTT_TIMING;
		tcp_set_state(c, GW_TCP_SYN_RCVD);
		tcp_send_syn(c);
		tcp_rtx_arm(c);
		return;
	}
	if ((c->flags & TCP_CF_RTT_TIMING) && gw_seq_gt(seg->ack, c->rtt_seq))
		gw_rto_sample(&c->rto, NULL, tcp_tsc_to_us(s, s->now - c->rtt_start));
	c->flags &= ~TCP_CF_RTT_TIMING;
	c->snd_una = seg->ack;
	c->rtx_count = 0;
	tcp_rtx_cancel(c);
	tcp_set_state(c, GW_TCP_ESTABLISHED);
	if (c->flags & TCP_CF_FIN_QUEUED)
		tcp_set_state(c, GW_TCP_FIN_WAIT_1);
	/* The handshake's last ACK goes now, with queued data if any. */
	tcp_ack_now(c);
	tcp_notify_established(c);
}

/* ---- synchronized states ---- */

static bool
seq_acceptable(const struct gw_tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t wnd = gw_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	/* RFC 9293 3.10.7.4; with a zero window a segment at RCV.NXT is let
	 * through so that its ACK and RST count (its data is trimmed). */
	if (wnd == 0)
		return seg->seq == c->rcv_nxt;
	/* An empty segment may sit on the right edge (as Linux accepts): a
	 * peer whose data filled our window acks from there. */
	if (seg->seg_len == 0)
		return gw_seq_between(c->rcv_nxt, seg->seq, c->rcv_nxt + wnd + 1);
	return gw_seq_between(c->rcv_nxt, seg->seq, c->rcv_nxt + wnd) ||
	       gw_seq_between(c->rcv_nxt, seg->seq + seg->seg_len - 1,
			      c->rcv_nxt + wnd);
}

static void
rst_input(struct gw_tcp_conn *c)
{
	c->s->stats.resets_in++;
	switch (c->state) {
	case GW_TCP_SYN_RCVD:
		if (c->flags & TCP_CF_ACTIVE)
			tcp_conn_close(c, GW_TCP_CLOSED_REFUSED, true);
		else
			tcp_conn_close(c, GW_TCP_CLOSED_RESET, false);
		return;
	case GW_TCP_TIME_WAIT:
		tcp_conn_close(c, GW_TCP_CLOSED_NORMAL, false);
		return;
	default:
		tcp_conn_close(c, GW_TCP_CLOSED_RESET, true);
		return;
	}
}

static void
enter_fast_retransmit(struct gw_tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	/* RFC 5681 (4) and RFC 6582 3.2 step 2 */
	c->ssthresh = max32(flight / 2, 2u * c->snd_mss);
	c->recover = c->snd_max;
	c->cwnd = c->ssthresh + TCP_DUPACK_THRESH * c->snd_mss;
	c->flags |= TCP_CF_RECOVERY | TCP_CF_RTX_HEAD;
	c->flags &= ~TCP_CF_RTT_TIMING;
	c->s->stats.fast_retransmits++;
	tcp_rtx_arm(c);
	tcp_conn_pend(c);
}

static void
dupack_input(struct gw_tcp_conn *c)
{
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	if (c->flags & TCP_CF_RECOVERY) {
		/* Each dupack means a segment left the network. */
		c->cwnd = min32(c->cwnd + c->snd_mss, TCP_CWND_MAX);
		tcp_conn_pend(c);
		return;
	}
	/* RFC 6582 3.2 step 2: not for ACKs covering no more than recover
	 * (they may come from a go-back-N after a timeout). */
	if (c->dupacks == TCP_DUPACK_THRESH && gw_seq_gt(c->snd_una, c->recover))
		enter_fast_retransmit(c);
}

static void
new_ack_input(struct gw_tcp_conn *c, uint32_t ack)
{
	struct gw_tcp_stack *s = c->s;
	uint32_t acked = ack - c->snd_una;
	uint32_t data_acked = 0;

	/* Karn: rtt_seq was sent once; a sample only when it is covered. */
	if ((c->flags & TCP_CF_RTT_TIMING) && gw_seq_gt(ack, c->rtt_seq)) {
		gw_rto_sample(&c->rto, NULL, tcp_tsc_to_us(s, s->now - c->rtt_start));
		c->flags &= ~TCP_CF_RTT_TIMING;
	}
	if (gw_seq_gt(ack, c->sq_head_seq))
		data_acked = min32(ack - c->sq_head_seq, c->sq_bytes);
	tcp_sq_trim(c, data_acked);
	c->snd_una = ack;
	if (gw_seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	c->rtx_count = 0;
	/* Forward progress ends a timeout's back-off, as Linux does. Karn
	 * alone keeps it until a clean RTT sample, and without timestamps
	 * a lossy two-way flow may go long without one, each new loss then
	 * doubling an already doubled RTO. */
	if (c->rto.backoff != 0 && data_acked != 0) {
		c->rto.rto_us = c->rto_base_us;
		c->rto.backoff = 0;
	}

	if (c->flags & TCP_CF_RECOVERY) {
		if (gw_seq_geq(ack, c->recover)) {
			/* Full ACK: deflate (RFC 6582 3.2 step 3, option 1). */
			uint32_t flight = c->snd_max - c->snd_una;

			c->cwnd = min32(c->ssthresh,
					  max32(flight, (uint32_t)c->snd_mss) +
					  c->snd_mss);
			c->flags &= ~TCP_CF_RECOVERY;
			c->dupacks = 0;
			c->bytes_acked = 0;
		} else {
			/* Partial ACK: the next hole goes out now; deflate by
			 * what was acked, add back one MSS (step 5). */
			c->flags |= TCP_CF_RTX_HEAD;
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= c->snd_mss)
				c->cwnd += c->snd_mss;
			c->cwnd = max32(c->cwnd, (uint32_t)c->snd_mss);
		}
	} else {
		c->dupacks = 0;
		if (c->cwnd < c->ssthresh) {
			c->cwnd += min32(acked, (uint32_t)c->snd_mss);
		} else {
			/* Congestion avoidance by byte counting (RFC 5681 3.1). */
			c->bytes_acked += acked;
			if (c->bytes_acked >= c->cwnd) {
				c->bytes_acked -= c->cwnd;
				c->cwnd += c->snd_mss;
			}
		}
		c->cwnd = min32(c->cwnd, TCP_CWND_MAX);
	}

	if (c->snd_una == c->snd_max)
		tcp_rtx_cancel(c);
	else
		tcp_rtx_arm(c);

	if ((c->flags & TCP_CF_WANT_WRITE) &&
	    (c->sq_bytes == 0 || gw_tcp_send_space(c) >= s->p.sndbuf / 3)) {
		c->flags &= ~TCP_CF_WANT_WRITE;
		c->flags |= TCP_CF_WRITABLE_DUE;
	}
	tcp_conn_pend(c);
}

/* ACK processing (RFC 9293 3.10.7.4 fifth, RFC 5961 5). 0 to go on with
 * the segment, -1 to drop it. */
static int
ack_input(struct gw_tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t ack = seg->ack;
	uint32_t wnd = seg_wnd(c, seg);

	if (gw_seq_gt(ack, c->snd_max)) {
		tcp_ack_now(c);       /* acks what we never sent */
		return -1;
	}
	if (gw_seq_lt(ack, c->snd_una - c->max_sndwnd)) {
		tcp_challenge_ack(c);
		return -1;
	}
	if (c->flags & TCP_CF_PERSIST)
		c->rtx_count = 0;     /* the peer answers our probes */

	if (gw_seq_gt(ack, c->snd_una))
		new_ack_input(c, ack);
	else if (ack == c->snd_una && seg->len == 0 &&
		 !(seg->flags & (TCP_SYN | TCP_FIN)) && wnd == c->snd_wnd &&
		 c->snd_una != c->snd_max)
		dupack_input(c);

	/* Window update, from the newest segment only. */
	if (gw_seq_lt(c->snd_wl1, seg->seq) ||
	    (c->snd_wl1 == seg->seq && gw_seq_leq(c->snd_wl2, ack))) {
		bool grew = wnd > c->snd_wnd;

		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_sndwnd)
			c->max_sndwnd = wnd;
		if (wnd != 0 && (c->flags & TCP_CF_PERSIST)) {
			tcp_persist_cancel(c);
			c->rtx_count = 0;
		}
		if (grew)
			tcp_conn_pend(c);
	}

	/* Our FIN acknowledged? */
	if ((c->flags & TCP_CF_FIN_SENT) && gw_seq_gt(c->snd_una, c->snd_fin_seq)) {
		switch (c->state) {
		case GW_TCP_FIN_WAIT_1:
			tcp_set_state(c, GW_TCP_FIN_WAIT_2);
			break;
		case GW_TCP_CLOSING:
			tcp_enter_timewait(c);
			return -1;
		case GW_TCP_LAST_ACK:
			tcp_conn_close(c, GW_TCP_CLOSED_NORMAL, true);
			return -1;
		default:
			break;
		}
	}
	return tcp_conn_dead(c) ? -1 : 0;
}

/* The handshake's final ACK on a SYN_RCVD conn. 0 or -1 (gone). */
static int
syn_rcvd_ack(struct gw_tcp_conn *c, const struct tcp_seg *seg)
{
	struct tcp_listener *l = c->listener;

	tcp_rtx_cancel(c);
	c->rtx_count = 0;
	c->snd_wnd = seg_wnd(c, seg);
	c->max_sndwnd = max32(c->max_sndwnd, c->snd_wnd);
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	tcp_set_state(c, GW_TCP_ESTABLISHED);
	if (!(c->flags & TCP_CF_ACTIVE))
		return l != NULL ? passive_accept(c, l) : -1;
	if (c->flags & TCP_CF_FIN_QUEUED)
		tcp_set_state(c, GW_TCP_FIN_WAIT_1);
	tcp_notify_established(c);
	tcp_conn_pend(c);
	return tcp_conn_dead(c) ? -1 : 0;
}

static void
fin_input(struct gw_tcp_conn *c)
{
	c->flags |= TCP_CF_FIN_RCVD;
	c->flags &= ~TCP_CF_RCV_FIN_KNOWN;
	c->rcv_nxt++;
	gw_reasm_purge(&c->reasm);
	tcp_ack_now(c);
	switch (c->state) {
	case GW_TCP_ESTABLISHED:
		tcp_set_state(c, GW_TCP_CLOSE_WAIT);
		tcp_notify_fin(c);
		break;
	case GW_TCP_FIN_WAIT_1:
		/* FINs crossed (our FIN not acked yet). */
		tcp_set_state(c, GW_TCP_CLOSING);
		tcp_notify_fin(c);
		break;
	case GW_TCP_FIN_WAIT_2:
		tcp_notify_fin(c);
		if (!tcp_conn_dead(c))
			tcp_enter_timewait(c);
		break;
	default:
		break;
	}
}

/* Deliver what the reassembly queue now continues. Returns true when
 * something came out (a hole was filled). */
static bool
reasm_drain(struct gw_tcp_conn *c)
{
	struct gw_reasm_seg out;
	bool any = false;

	while (!tcp_conn_dead(c) && gw_reasm_pop_ready(&c->reasm, c->rcv_nxt, &out)) {
		struct rte_mbuf *m = tcp_mbuf_cut(out.buf, out.skip, out.len);

		any = true;
		c->rcv_nxt += out.len;
		if (m != NULL)
			tcp_deliver(c, m, out.len);
	}
	return any;
}

/* Segment text and FIN (RFC 9293 3.10.7.4 seventh and eighth). */
static void
data_input(struct gw_tcp_conn *c, const struct tcp_seg *seg, struct rte_mbuf *m)
{
	struct gw_tcp_stack *s = c->s;
	uint32_t seq = seg->seq;
	uint32_t len = seg->len;
	uint32_t front = 0;
	bool fin = (seg->flags & TCP_FIN) != 0;
	uint32_t right;

	if (c->state != GW_TCP_ESTABLISHED && c->state != GW_TCP_FIN_WAIT_1 &&
	    c->state != GW_TCP_FIN_WAIT_2) {
		/* The peer's FIN is behind us: only a FIN retransmission in
		 * TIME_WAIT needs an answer (and restarts 2*MSL). */
		if (c->state == GW_TCP_TIME_WAIT && fin) {
			tcp_ack_now(c);
			tcp_timewait_arm(c);
		}
		free_payload(m);
		return;
	}

	/* Trim to the window: old bytes in front, bytes past the right edge
	 * (and a FIN there) at the back. */
	if (gw_seq_lt(seq, c->rcv_nxt)) {
		front = c->rcv_nxt - seq;
		if (front > len) {
			front = len;
			fin = false;       /* that FIN was processed already */
		}
	}
	right = gw_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv : c->rcv_nxt;
	if (gw_seq_gt(seq + len, right)) {
		uint32_t over = seq + len - right;

		len = over >= len - front ? front : len - over;
		fin = false;
	}
	if (front != 0 || len != seg->len) {
		uint32_t keep = len - front;

		if (front == len && seg->len != 0)
			s->stats.dup_segments++;
		m = keep != 0 ? tcp_mbuf_cut(m, front, keep) : (free_payload(m), NULL);
		seq += front;
		len = keep;
	}
	if (len == 0 && !fin) {
		if (seg->len != 0)
			tcp_ack_now(c);   /* duplicate, or zero window */
		free_payload(m);
		return;
	}

	if (seq != c->rcv_nxt) {
		/* Out of order: hold it, and say at once what we miss. */
		int rc = GW_REASM_DUPLICATE;

		s->stats.out_of_order++;
		if (fin) {
			c->flags |= TCP_CF_RCV_FIN_KNOWN;
			c->rcv_fin_seq = seq + len;
		}
		if (len != 0)
			rc = gw_reasm_insert(&c->reasm, seq, len, m, NULL, NULL);
		if (rc == GW_REASM_DUPLICATE) {
			if (len != 0)
				s->stats.dup_segments++;
			free_payload(m);
		} else if (rc != GW_REASM_QUEUED) {
			s->stats.reasm_dropped++;
			free_payload(m);
		}
		/* One duplicate ACK per out-of-order segment, sent alone: on
		 * data it would not count as a duplicate (RFC 5681 2), and
		 * the peer's fast retransmit needs three. */
		if (c->dupacks_owed < TCP_DUPACKS_OWED_MAX)
			c->dupacks_owed++;
		tcp_ack_now(c);
		return;
	}

	if (len != 0) {
		bool filled;

		c->rcv_nxt += len;
		tcp_deliver(c, m, len);
		if (tcp_conn_dead(c))
			return;
		/* Nothing held out of order (the usual case): no drain. */
		filled = !gw_reasm_is_empty(&c->reasm) && reasm_drain(c);
		if (tcp_conn_dead(c))
			return;
		/* RFC 5681 4.2: ACK at once when a hole fills or one remains;
		 * else every second segment, or after the delayed-ACK timer. */
		if (filled || !gw_reasm_is_empty(&c->reasm)) {
			tcp_ack_now(c);
		} else if (++c->segs_unacked >= 2) {
			tcp_ack_now(c);
		} else {
			tcp_delack_arm(c);
		}
	}
	if ((c->flags & TCP_CF_RCV_FIN_KNOWN) && c->rcv_nxt == c->rcv_fin_seq)
		fin = true;
	if (fin)
		fin_input(c);
}

static int
conn_input(struct gw_tcp_conn *c, struct tcp_seg *seg, struct rte_mbuf *m)
{
	uint8_t fl = seg->flags;

	if (c->state == GW_TCP_SYN_SENT) {
		syn_sent_input(c, seg, m);
		return CONN_DONE;
	}
	/* A new SYN above a TIME_WAIT's sequence space starts a new
	 * connection (RFC 6191 without timestamps, as Linux does). */
	if (c->state == GW_TCP_TIME_WAIT && (fl & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    gw_seq_gt(seg->seq, c->rcv_nxt)) {
		tcp_conn_close(c, GW_TCP_CLOSED_NORMAL, false);
		return CONN_REPROCESS;
	}
	if (c->state == GW_TCP_SYN_RCVD && (fl & (TCP_SYN | TCP_RST)) == TCP_SYN) {
		free_payload(m);
		if (!(fl & TCP_ACK)) {
			/* Our SYN-ACK was lost (or the peer restarted): send
			 * it again; a new ISN gets it refused by RST. */
			c->flags |= TCP_CF_SYNACK_NOW;
			tcp_conn_pend(c);
		} else if ((c->flags & TCP_CF_ACTIVE) && seg->seq == c->irs &&
			   gw_seq_gt(seg->ack, c->snd_una) &&
			   gw_seq_leq(seg->ack, c->snd_max)) {
			/* Simultaneous open: the peer's SYN-ACK completes it. */
			if (syn_rcvd_ack(c, seg) == 0 &&
			    ack_input(c, seg) == 0)
				tcp_ack_now(c);
		} else {
			tcp_send_rst_reply(c->s, c->port_index, c->local_ip,
					   c->local_port, c->remote_ip,
					   c->remote_port, seg->seq, seg->ack,
					   seg->seg_len, fl);
		}
		return CONN_DONE;
	}

	/* first: sequence number */
	if (!seq_acceptable(c, seg)) {
		if (!(fl & TCP_RST)) {
			if (seg->len != 0 && gw_seq_leq(seg->seq + seg->seg_len, c->rcv_nxt))
				c->s->stats.dup_segments++;
			if (c->state == GW_TCP_SYN_RCVD) {
				c->flags |= TCP_CF_SYNACK_NOW;
				tcp_conn_pend(c);
			} else {
				tcp_ack_now(c);
			}
			if (c->state == GW_TCP_TIME_WAIT && (fl & TCP_FIN))
				tcp_timewait_arm(c);
		}
		free_payload(m);
		return CONN_DONE;
	}
	/* second: RST (RFC 5961 3.2) */
	if (fl & TCP_RST) {
		if (seg->seq == c->rcv_nxt)
			rst_input(c);
		else
			tcp_challenge_ack(c);
		free_payload(m);
		return CONN_DONE;
	}
	/* fourth: SYN (RFC 5961 4.2) */
	if (fl & TCP_SYN) {
		tcp_challenge_ack(c);
		free_payload(m);
		return CONN_DONE;
	}
	/* fifth: ACK */
	if (!(fl & TCP_ACK)) {
		free_payload(m);
		return CONN_DONE;
	}
	if (c->state == GW_TCP_SYN_RCVD) {
		if (!gw_seq_gt(seg->ack, c->snd_una) || gw_seq_gt(seg->ack, c->snd_max)) {
			tcp_send_rst_reply(c->s, c->port_index, c->local_ip,
					   c->local_port, c->remote_ip,
					   c->remote_port, seg->seq, seg->ack,
					   seg->seg_len, fl);
			free_payload(m);
			return CONN_DONE;
		}
		if (syn_rcvd_ack(c, seg) != 0) {
			free_payload(m);
			return CONN_DONE;
		}
	}
	if (ack_input(c, seg) != 0) {
		free_payload(m);
		return CONN_DONE;
	}
	/* seventh and eighth: text and FIN */
	if (seg->len != 0 || (fl & TCP_FIN))
		data_input(c, seg, m);
	else
		free_payload(m);
	return CONN_DONE;
}

void
gw_tcp_input(struct gw_tcp_stack *s, unsigned int port_index,
	     struct rte_mbuf *m, const struct gw_net_result *res)
{
	struct rte_mbuf *payload = NULL;
	struct gw_tcp_conn *c;
	struct tcp_seg seg;

	tcp_stack_enter(s);
	s->stats.segs_in++;
	if (port_index >= s->p.n_ports) {
		s->stats.bad_segment++;
		rte_pktmbuf_free(m);
		goto out;
	}
	if (seg_parse(s, m, res, &seg, &payload) != 0)
		goto out;
	c = tcp_conn_lookup(s, seg.dst_ip, seg.dport, seg.src_ip, seg.sport);
	if (c != NULL && conn_input(c, &seg, payload) == CONN_DONE)
		goto out;
	listen_input(s, port_index, &seg, payload);
out:
	tcp_stack_leave(s);
}
