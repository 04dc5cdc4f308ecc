/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Segment building and sending. Every segment is a fresh header mbuf
 * (Ethernet left for the worker, IPv4, TCP and options) followed, for
 * data, by indirect mbufs attached to the exact byte range of the send
 * queue, or by the queued mbufs themselves when the segment sends the
 * whole queue (sq_lend()): the payload is never copied unless the port
 * cannot send chains. A retransmission attaches to the same queued bytes
 * again.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "tcp_private.h"

/* ---- mbuf helpers ---- */

/*
 * Indirect mbufs for @p len bytes of the chain @p m from byte @p off of its
 * first segment on, at most @p max_segs of them. One mbuf attaches to one
 * source segment (rte_pktmbuf_clone would clone the whole rest of the
 * chain), then its window is narrowed; the shared data is never written.
 * Returns the chain and the bytes it holds in *@p got (less than @p len
 * when @p max_segs ran out), or NULL (out of mbufs, or @p len is 0).
 */
static struct rte_mbuf *
range_clone(struct rte_mbuf *m, uint32_t off, uint32_t len,
	    struct rte_mempool *pool, unsigned int max_segs, uint32_t *got)
{
	struct rte_mbuf *first = NULL, *last = NULL;
	uint32_t done = 0;
	uint16_t nb = 0;

	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (done < len && m != NULL && nb < max_segs) {
		uint32_t take = min32((uint32_t)m->data_len - off, len - done);
		struct rte_mbuf *mi;

		if (take == 0) {
			m = m->next;
			off = 0;
			continue;
		}
		/* Raw: rte_pktmbuf_reset() would set only fields that the
		 * attach below overwrites. */
		mi = rte_mbuf_raw_alloc(pool);
		if (mi == NULL) {
			rte_pktmbuf_free(first);
			return NULL;
		}
		rte_pktmbuf_attach(mi, m);
		/* Keep only what marks the mbuf indirect/external. */
		mi->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
		mi->data_off = (uint16_t)(mi->data_off + off);
		mi->data_len = (uint16_t)take;
		mi->pkt_len = take;
		if (last != NULL)
			last->next = mi;
		else
			first = mi;
		last = mi;
		nb++;
		done += take;
		off = 0;
		m = m->next;
	}
	if (first == NULL)
		return NULL;
	first->pkt_len = done;
	first->nb_segs = nb;
	*got = done;
	return first;
}

struct rte_mbuf *
tcp_mbuf_range_clone(struct rte_mbuf *head, uint32_t offset, uint32_t len,
		     struct rte_mempool *pool)
{
	uint32_t got = 0;
	struct rte_mbuf *c = range_clone(head, offset, len, pool, UINT16_MAX,
					 &got);

	if (c != NULL && got != len) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	return c;
}

/*
 * Keep bytes [@p off, @p off + @p len) of the chain @p m: leading segments
 * that end up empty are freed and the next one becomes the head, trailing
 * ones likewise. Returns the new head, or NULL (all freed) when @p len is 0.
 */
struct rte_mbuf *
tcp_mbuf_cut(struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	struct rte_mbuf *seg, *prev;
	uint32_t left;
	uint16_t nb;

	if (len == 0 || off + len > rte_pktmbuf_pkt_len(m)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	while (off >= m->data_len) {
		struct rte_mbuf *next = m->next;

		off -= m->data_len;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	m->data_off = (uint16_t)(m->data_off + off);
	m->data_len = (uint16_t)(m->data_len - off);

	left = len;
	nb = 0;
	prev = NULL;
	for (seg = m; seg != NULL && left > 0; seg = seg->next) {
		if (seg->data_len > left)
			seg->data_len = (uint16_t)left;
		left -= seg->data_len;
		nb++;
		prev = seg;
	}
	if (prev->next != NULL) {
		rte_pktmbuf_free(prev->next);
		prev->next = NULL;
	}
	m->pkt_len = len;
	m->nb_segs = nb;
	return m;
}

/*
 * Internet checksum (folded, not inverted) of @p len bytes of the chain
 * @p m from byte @p off. DPDK 22.11's rte_raw_cksum_mbuf() truncates the
 * partial sum of a segment that starts at an odd offset before swapping
 * its bytes, which loses carries; here each segment's sum is folded
 * first. -1 when the chain is shorter than @p off + @p len.
 */
int
tcp_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len,
	       uint16_t *cksum)
{
	uint32_t sum = 0, done = 0;

	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (done < len) {
		uint32_t n;
		uint16_t part;

		if (m == NULL)
			return -1;
		n = min32((uint32_t)m->data_len - off, len - done);
		part = rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const uint8_t *,
							     off), n);
		/* A piece starting at an odd position has its bytes in the
		 * other halves of the 16-bit words. */
		if (done & 1)
			part = rte_bswap16(part);
		sum += part;
		done += n;
		off = 0;
		m = m->next;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*cksum = (uint16_t)sum;
	return 0;
}

/* ---- frames ---- */

static inline void
set_opt_flags_hdr(struct rte_tcp_hdr *th, unsigned int optlen, uint8_t flags)
{
	th->data_off = (uint8_t)(((TCP_HLEN + optlen) / 4) << 4);
	th->tcp_flags = flags;
}

/* A header mbuf for one segment; payload is added by the caller. */
static struct rte_mbuf *
frame_start(struct gw_tcp_stack *s, uint32_t lip, uint32_t rip,
	    uint16_t lport, uint16_t rport, uint32_t seq, uint32_t ack,
	    uint8_t flags, uint16_t wnd, const uint8_t *opts,
	    unsigned int optlen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->p.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(TCP_HDRS_LEN + optlen));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	/* MACs are the worker's (next hop); the type is ours. */
	eth = (struct rte_ether_hdr *)p;
	memset(eth, 0, sizeof(*eth));
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	ip = (struct rte_ipv4_hdr *)(p + TCP_ETH_HLEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = 0;   /* set by frame_send() */
	ip->packet_id = rte_cpu_to_be_16(s->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = lip;
	ip->dst_addr = rip;

	th = (struct rte_tcp_hdr *)(p + TCP_ETH_HLEN + TCP_IP_HLEN);
	th->src_port = rte_cpu_to_be_16(lport);
	th->dst_port = rte_cpu_to_be_16(rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32((flags & TCP_ACK) ? ack : 0);
	set_opt_flags_hdr(th, optlen, flags);
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (optlen != 0)
		memcpy(th + 1, opts, optlen);
	return m;
}

/* Lengths, checksums (software or offload), then out via xmit. The
 * header mbuf is fresh from rte_pktmbuf_alloc() (tx_offload 0); @p l4_hlen
 * is the TCP header's length, @p phdr_sum tcp_phdr_sum() of its addresses. */
static inline void
frame_out(struct gw_tcp_stack *s, unsigned int pi, struct rte_mbuf *m,
	  uint32_t l4_hlen, uint32_t phdr_sum)
{
	const struct gw_tcp_port *port = &s->ports[pi];
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		struct rte_ipv4_hdr *, TCP_ETH_HLEN);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	uint32_t l4_len = rte_pktmbuf_pkt_len(m) - TCP_ETH_HLEN - TCP_IP_HLEN;

	ip->total_length = rte_cpu_to_be_16((uint16_t)(TCP_IP_HLEN + l4_len));
	/* l2_len, l3_len, l4_len in one store (the rest stays 0) */
	m->tx_offload = rte_mbuf_tx_offload(TCP_ETH_HLEN, TCP_IP_HLEN, l4_hlen,
					    0, 0, 0, 0);
	m->ol_flags = 0;

	if (port->tx_ip_cksum) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (port->tx_tcp_cksum) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = tcp_phdr_cksum(phdr_sum, l4_len);
	} else {
		uint16_t raw = 0;
		uint32_t sum;

		th->cksum = 0;
		if (tcp_cksum_mbuf(m, TCP_ETH_HLEN + TCP_IP_HLEN, l4_len,
				   &raw) != 0) {
			rte_pktmbuf_free(m);
			return;
		}
		sum = (uint32_t)raw + tcp_phdr_cksum(phdr_sum, l4_len);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		th->cksum = (uint16_t)~sum;
	}
	s->stats.segs_out++;
	s->p.xmit(s->p.xmit_arg, pi, gw_net_next_hop(&port->iface, ip->dst_addr), m);
}

/* frame_out() for a frame_start() header. */
static void
frame_send(struct gw_tcp_stack *s, unsigned int pi, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		const struct rte_ipv4_hdr *, TCP_ETH_HLEN);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);

	frame_out(s, pi, m, (uint32_t)(th->data_off >> 4) * 4,
		  tcp_phdr_sum(ip->src_addr, ip->dst_addr));
}

void
tcp_hdr_template_init(struct gw_tcp_conn *c)
{
	uint8_t *p = c->hdr_tmpl;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + TCP_ETH_HLEN);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(p + TCP_ETH_HLEN +
							TCP_IP_HLEN);

	/* As frame_start() writes them; zero for what each segment sets. */
	memset(p, 0, TCP_HDRS_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = c->local_ip;
	ip->dst_addr = c->remote_ip;
	th->src_port = rte_cpu_to_be_16(c->local_port);
	th->dst_port = rte_cpu_to_be_16(c->remote_port);
	set_opt_flags_hdr(th, 0, 0);
	c->phdr_sum = tcp_phdr_sum(c->local_ip, c->remote_ip);
}

/* frame_start() for an option-less segment of @p c, from its template:
 * acknowledging rcv_nxt when @p flags has ACK. *@p thp: its TCP header. */
static inline struct rte_mbuf *
conn_frame_start(struct gw_tcp_conn *c, uint32_t seq, uint8_t flags,
		 uint16_t wnd, struct rte_tcp_hdr **thp)
{
	struct gw_tcp_stack *s = c->s;
	struct rte_mbuf *m = rte_pktmbuf_alloc(s->p.pool);
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, TCP_HDRS_LEN);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, c->hdr_tmpl, TCP_HDRS_LEN);
	ip = (struct rte_ipv4_hdr *)(p + TCP_ETH_HLEN);
	ip->packet_id = rte_cpu_to_be_16(s->ip_id++);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32((flags & TCP_ACK) ? c->rcv_nxt : 0);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	*thp = th;
	return m;
}

static inline void
conn_frame_send(struct gw_tcp_conn *c, struct rte_mbuf *m)
{
	frame_out(c->s, c->port_index, m, TCP_HLEN, c->phdr_sum);
}

/* ---- receive window ---- */

static inline uint8_t
rcv_shift(const struct gw_tcp_conn *c)
{
	return (c->flags & TCP_CF_WSCALE) ? c->rcv_wscale : 0;
}

/* The window field to advertise now; commits the right edge (rcv_adv).
 * Inline: every segment that carries an ACK computes it. */
static inline uint16_t
tcp_rcv_window_field(struct gw_tcp_conn *c)
{
	uint8_t ws = rcv_shift(c);
	uint32_t cur = gw_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t space = min32(tcp_rcv_space(c), UINT32_C(65535) << ws);
	uint32_t field;
	uint32_t adv;

	/* Never shrink the window (RFC 9293 3.8.6.2.2), and open it only by
	 * min(rcvbuf/2, MSS) or more (receiver SWS avoidance). */
	if (space <= cur ||
	    space - cur < min32(c->s->p.rcvbuf / 2, (uint32_t)c->rcv_mss))
		field = (cur + (UINT32_C(1) << ws) - 1) >> ws;
	else
		field = space >> ws;
	if (field > 65535)
		field = 65535;
	adv = c->rcv_nxt + (field << ws);
	if (gw_seq_gt(adv, c->rcv_adv))
		c->rcv_adv = adv;
	return (uint16_t)field;
}

void
tcp_rcv_window_reopen(struct gw_tcp_conn *c, uint32_t cur)
{
	uint32_t space, thresh;

	space = min32(tcp_rcv_space(c), UINT32_C(65535) << rcv_shift(c));
	thresh = min32(c->s->p.rcvbuf / 2, 2u * c->rcv_mss);
	if (space > cur && space - cur >= thresh)
		tcp_ack_now(c);
}

/* ---- send queue ---- */

/* The queue segment holding @p seq and the offset in it (cursor-cached:
 * new data goes out in order, so lookups are amortised O(1)). */
static struct rte_mbuf *
sq_locate(struct gw_tcp_conn *c, uint32_t seq, uint32_t *off)
{
	struct rte_mbuf *m;
	uint32_t mseq;

	if (c->sq_cur != NULL && gw_seq_geq(seq, c->sq_cur_seq)) {
		m = c->sq_cur;
		mseq = c->sq_cur_seq;
	} else {
		m = c->sq_head;
		mseq = c->sq_head_seq - c->sq_head_off;
	}
	while (m != NULL && gw_seq_geq(seq, mseq + m->data_len)) {
		mseq += m->data_len;
		m = m->next;
	}
	c->sq_cur = m;
	c->sq_cur_seq = mseq;
	*off = seq - mseq;
	return m;
}

void
tcp_sq_trim(struct gw_tcp_conn *c, uint32_t acked)
{
	uint32_t off;

	if (acked == 0)
		return;
	c->sq_bytes -= acked;
	c->sq_head_seq += acked;
	off = c->sq_head_off + acked;
	/* Whole segments go; a partly acknowledged one keeps an offset
	 * rather than moving its data_off (its data may be shared). */
	while (c->sq_head != NULL && off >= c->sq_head->data_len) {
		struct rte_mbuf *m = c->sq_head;

		off -= m->data_len;
		c->sq_head = m->next;
		if (m == c->sq_cur)
			c->sq_cur = NULL;
		/* ->next is left as it is: a frame holding the segment may
		 * chain through it (DPDK clears it with the last reference).
		 * One by one inline: rte_pktmbuf_free_bulk() (a library call)
		 * measured dearer for what ACKs free, 64 KiB bodies included. */
		rte_pktmbuf_free_seg(m);
	}
	if (c->sq_head == NULL) {
		c->sq_tail = NULL;
		c->sq_head_off = 0;
		c->flags &= ~TCP_CF_SQ_LENT;
	} else {
		c->sq_head_off = off;
	}
}

void
tcp_sq_free(struct gw_tcp_conn *c)
{
	struct rte_mbuf *m = c->sq_head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		rte_pktmbuf_free_seg(m);   /* ->next untouched, as in trim */
		m = next;
	}
	c->sq_head = c->sq_tail = c->sq_cur = NULL;
	c->sq_head_seq += c->sq_bytes;
	c->sq_head_off = 0;
	c->sq_bytes = 0;
	c->flags &= ~TCP_CF_SQ_LENT;
}

int
tcp_sq_unlend(struct gw_tcp_conn *c)
{
	struct rte_mbuf *m, *next, *first = NULL, *last = NULL, *cur = NULL;

	for (m = c->sq_head; m != NULL; m = m->next)
		if (rte_mbuf_refcnt_read(m) != 1)
			break;
	if (m == NULL) {
		/* Every frame that held them has let go. */
		c->flags &= ~TCP_CF_SQ_LENT;
		return 0;
	}
	/* At most one frame's worth of segments (the lent run was the whole
	 * queue, and the queue only shrank since). */
	for (m = c->sq_head; m != NULL; m = m->next) {
		struct rte_mbuf *mi = rte_mbuf_raw_alloc(c->s->p.pool);

		if (mi == NULL) {
			rte_pktmbuf_free(first);
			return -ENOMEM;
		}
		rte_pktmbuf_attach(mi, m);
		mi->ol_flags &= RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;
		if (last != NULL)
			last->next = mi;
		else
			first = mi;
		last = mi;
		if (m == c->sq_cur)
			cur = mi;
	}
	/* The frame keeps (and frees) the originals; ->next of none is
	 * written while it may hold them. */
	for (m = c->sq_head; m != NULL; m = next) {
		next = m->next;
		rte_pktmbuf_free_seg(m);
	}
	c->sq_head = first;
	c->sq_tail = last;
	c->sq_cur = cur;
	c->flags &= ~TCP_CF_SQ_LENT;
	return 0;
}

/* ---- segments of a connection ---- */

/* An ACK went out: nothing is owed any more. */
static inline void
ack_sent(struct gw_tcp_conn *c)
{
	c->flags &= ~TCP_CF_ACK_NOW;
	c->segs_unacked = 0;
	tcp_delack_cancel(c);
}

int
tcp_send_ctl(struct gw_tcp_conn *c, uint32_t seq, uint8_t flags)
{
	struct rte_tcp_hdr *th;
	uint16_t wnd = 0;
	struct rte_mbuf *m;

	if ((flags & TCP_ACK) && !(flags & TCP_RST))
		wnd = tcp_rcv_window_field(c);
	m = conn_frame_start(c, seq, flags, wnd, &th);
	if (m == NULL)
		return -ENOMEM;
	/* A probe's old sequence number gets it dropped unread: it owes on. */
	if ((flags & TCP_ACK) && seq == c->snd_max)
		ack_sent(c);
	conn_frame_send(c, m);
	return 0;
}

int
tcp_send_syn(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;
	struct gw_tcp_options o = {
		.present = GW_TCPOPT_F_MSS,
		.mss = c->rcv_mss,
	};
	uint8_t opts[GW_TCP_OPTIONS_MAX_LEN];
	uint8_t flags = TCP_SYN;
	uint16_t wnd;
	struct rte_mbuf *m;
	int optlen;

	/* Offer window scaling in a SYN; answer it in a SYN-ACK only if the
	 * peer offered it (RFC 7323 2.2). SACK and timestamps: declined. */
	if (c->state == GW_TCP_SYN_SENT || (c->flags & TCP_CF_WSCALE)) {
		o.present |= GW_TCPOPT_F_WSCALE;
		o.wscale = c->rcv_wscale;
	}
	optlen = gw_tcp_options_build(&o, opts, sizeof(opts));
	if (optlen < 0)
		optlen = 0;
	/* The window of a SYN is never scaled. */
	wnd = (uint16_t)min32(tcp_rcv_space(c), UINT32_C(65535));
	if (c->state == GW_TCP_SYN_RCVD) {
		flags |= TCP_ACK;
		c->rcv_adv = c->rcv_nxt + wnd;
	}
	m = frame_start(s, c->local_ip, c->remote_ip, c->local_port,
			c->remote_port, c->iss, c->rcv_nxt, flags, wnd, opts,
			(unsigned int)optlen);
	if (m == NULL)
		return -ENOMEM;
	c->flags &= ~(TCP_CF_SYNACK_NOW | TCP_CF_ACK_NOW);
	frame_send(s, c->port_index, m);
	return 0;
}

void
tcp_send_rst_reply(struct gw_tcp_stack *s, unsigned int pi, uint32_t lip,
		   uint16_t lport, uint32_t rip, uint16_t rport,
		   uint32_t seg_seq, uint32_t seg_ack, uint32_t seg_len,
		   uint8_t seg_flags)
{
	struct rte_mbuf *m;

	if (seg_flags & TCP_RST)
		return;          /* never answer a RST */
	/* RFC 9293 3.10.7.1 */
	if (seg_flags & TCP_ACK)
		m = frame_start(s, lip, rip, lport, rport, seg_ack, 0, TCP_RST,
				0, NULL, 0);
	else
		m = frame_start(s, lip, rip, lport, rport, 0, seg_seq + seg_len,
				TCP_RST | TCP_ACK, 0, NULL, 0);
	if (m == NULL)
		return;
	s->stats.resets_out++;
	frame_send(s, pi, m);
}

void
tcp_send_cookie_synack(struct gw_tcp_stack *s, unsigned int pi, uint32_t lip,
		       uint16_t lport, uint32_t rip, uint16_t rport,
		       uint32_t isn, uint32_t ack, uint16_t mss, bool wscale_ok)
{
	struct gw_tcp_options o = {
		.present = GW_TCPOPT_F_MSS,
		.mss = mss,
	};
	uint8_t opts[GW_TCP_OPTIONS_MAX_LEN];
	struct rte_mbuf *m;
	int optlen;

	if (wscale_ok) {
		o.present |= GW_TCPOPT_F_WSCALE;
		o.wscale = tcp_rcv_wscale_for(s);
	}
	optlen = gw_tcp_options_build(&o, opts, sizeof(opts));
	if (optlen < 0)
		optlen = 0;
	m = frame_start(s, lip, rip, lport, rport, isn, ack, TCP_SYN | TCP_ACK,
			(uint16_t)min32(s->p.rcvbuf, UINT32_C(65535)), opts,
			(unsigned int)optlen);
	if (m == NULL)
		return;
	s->stats.syncookies_sent++;
	frame_send(s, pi, m);
}

/*
 * A segment that sends the whole queue, whose segments nothing else holds
 * (the usual forwarded request or response: one segment, sent once),
 * chains the queued mbufs themselves under the header @p m, each with a
 * second reference: the queue keeps its own for retransmission and the
 * frame's goes when the PMD frees it, without an indirect mbuf per
 * segment. The queue's chain is the frame's, so from now on nothing may
 * be linked onto its tail while a frame holds it (TCP_CF_SQ_LENT,
 * tcp_sq_unlend()); the queue writes nothing else in its mbufs. A
 * retransmission while the frame is still held finds a count above one
 * and clones. False (nothing done) when the queue does not qualify.
 */
static inline bool
sq_lend(struct gw_tcp_conn *c, struct rte_mbuf *m, unsigned int max_segs)
{
	struct rte_mbuf *x;
	unsigned int nb = 0;

	for (x = c->sq_head; x != NULL; x = x->next)
		if (rte_mbuf_refcnt_read(x) != 1 || ++nb > max_segs)
			return false;
	/* Sole owner: the count is set, not updated atomically. */
	for (x = c->sq_head; x != NULL; x = x->next)
		rte_mbuf_refcnt_set(x, 2);
	m->next = c->sq_head;
	m->nb_segs = (uint16_t)(1 + nb);
	m->pkt_len += c->sq_bytes;
	c->flags |= TCP_CF_SQ_LENT;
	return true;
}

/*
 * One segment from the send queue: @p len bytes at @p seq, FIN after them
 * when @p fin. Returns the payload bytes sent (fewer than @p len when a
 * segment would chain too many mbufs; then no FIN), or -ENOMEM.
 */
static int
send_data_segment(struct gw_tcp_conn *c, uint32_t seq, uint32_t len, bool *fin)
{
	struct gw_tcp_stack *s = c->s;
	const struct gw_tcp_port *port = &s->ports[c->port_index];
	uint8_t flags = TCP_ACK;
	struct rte_mbuf *m, *q = NULL;
	struct rte_tcp_hdr *th;
	uint32_t off = 0;

	if (len != 0) {
		q = sq_locate(c, seq, &off);
		if (q == NULL)
			return -EINVAL;
	}
	m = conn_frame_start(c, seq, flags, 0, &th);
	if (m == NULL)
		return -ENOMEM;
	if (len != 0 && port->tx_multi_seg) {
		unsigned int max_segs = port->tx_max_segs >= 2 ?
			port->tx_max_segs : TCP_TX_MAX_SEGS;

		if (seq != c->sq_head_seq || len != c->sq_bytes ||
		    c->sq_head_off != 0 || !sq_lend(c, m, max_segs - 1)) {
			uint32_t got = 0;
			struct rte_mbuf *p = range_clone(q, off, len, s->p.pool,
							 max_segs - 1, &got);

			if (p == NULL) {
				rte_pktmbuf_free(m);
				return -ENOMEM;
			}
			/* rte_pktmbuf_chain() onto the one-segment header;
			 * max_segs bounds nb_segs far below its limit. */
			m->next = p;
			m->nb_segs = (uint16_t)(1 + p->nb_segs);
			m->pkt_len += p->pkt_len;
			p->pkt_len = p->data_len;
			len = got;
		}
	} else if (len != 0) {
		/* The port cannot send chains: copy, and count it. */
		uint32_t room = rte_pktmbuf_tailroom(m);
		uint8_t *dst;
		uint32_t done = 0;

		len = min32(len, room);
		dst = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
		if (dst == NULL) {
			rte_pktmbuf_free(m);
			return -ENOMEM;
		}
		while (done < len && q != NULL) {
			uint32_t take = min32((uint32_t)q->data_len - off,
						len - done);

			memcpy(dst + done,
			       rte_pktmbuf_mtod_offset(q, uint8_t *, off),
			       take);
			done += take;
			off = 0;
			q = q->next;
		}
		s->stats.copied_bytes += len;
	}
	if (*fin && seq + len != tcp_sq_end(c))
		*fin = false;
	if (*fin)
		flags |= TCP_FIN;
	if (len != 0 && seq + len == tcp_sq_end(c))
		flags |= TCP_PSH;
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(tcp_rcv_window_field(c));
	/* An ACK owed rides on new data only: a retransmission may be old to
	 * the peer, which then drops it unread (RFC 9293 3.10.7.4), and two
	 * sides doing that to each other after timeouts would deadlock. */
	if (gw_seq_geq(seq, c->snd_max))
		ack_sent(c);
	conn_frame_send(c, m);
	return (int)len;
}

/* FIN owed after the queued data? */
static inline bool
fin_wanted(const struct gw_tcp_conn *c)
{
	if (!(c->flags & TCP_CF_FIN_QUEUED))
		return false;
	if (c->state != GW_TCP_FIN_WAIT_1 && c->state != GW_TCP_CLOSING &&
	    c->state != GW_TCP_LAST_ACK)
		return false;
	return gw_seq_leq(c->snd_nxt, tcp_sq_end(c));
}

/* After sending [seq, seq + len + fin). */
static void
sent_bookkeeping(struct gw_tcp_conn *c, uint32_t seq, uint32_t len, bool fin)
{
	struct gw_tcp_stack *s = c->s;
	uint32_t end = seq + len + (fin ? 1 : 0);

	if (gw_seq_lt(seq, c->snd_max)) {
		s->stats.retransmits++;
	} else {
		s->stats.bytes_out += len;
		/* Karn: only segments sent once are timed. */
		if (!(c->flags & TCP_CF_RTT_TIMING) && end != seq) {
			c->flags |= TCP_CF_RTT_TIMING;
			c->rtt_seq = seq;
			c->rtt_start = s->now;
		}
	}
	if (fin) {
		c->flags |= TCP_CF_FIN_SENT;
		c->snd_fin_seq = seq + len;
	}
	if (gw_seq_gt(end, c->snd_max))
		c->snd_max = end;
	if (!tcp_rtx_armed(c))
		tcp_rtx_arm(c);
}

/* Sequence number for a pure ACK: snd_max, unless the peer has shrunk its
 * window below it, in which case the right edge of that window. An ACK
 * beyond the peer's window is dropped unread (RFC 9293 3.10.7.4), which
 * stalls a peer waiting for it; Linux's tcp_acceptable_seq() does the same. */
static inline uint32_t
ack_seq(const struct gw_tcp_conn *c)
{
	uint32_t wnd_end = c->snd_una + c->snd_wnd;

	return gw_seq_lt(wnd_end, c->snd_max) ? wnd_end : c->snd_max;
}

/* Retransmit the first unacknowledged segment (fast retransmit, NewReno
 * partial ACK), whatever the window says. */
static void
retransmit_head(struct gw_tcp_conn *c)
{
	uint32_t end = tcp_sq_end(c);
	uint32_t avail = gw_seq_lt(c->snd_una, end) ? end - c->snd_una : 0;
	uint32_t len = min32(avail, (uint32_t)c->snd_mss);
	bool fin = (c->flags & TCP_CF_FIN_SENT) && c->snd_una + len == end;
	int n;

	if (len == 0 && !fin)
		return;
	n = send_data_segment(c, c->snd_una, len, &fin);
	if (n < 0)
		return;
	sent_bookkeeping(c, c->snd_una, (uint32_t)n, fin);
	c->flags &= ~TCP_CF_RTT_TIMING;
}

void
tcp_output(struct gw_tcp_conn *c)
{
	uint32_t end, avail = 0;

	if (tcp_conn_dead(c))
		return;
	switch (c->state) {
	case GW_TCP_SYN_RCVD:
		if (c->flags & TCP_CF_SYNACK_NOW)
			tcp_send_syn(c);
		return;
	case GW_TCP_TIME_WAIT:
		if (c->flags & TCP_CF_ACK_NOW)
			tcp_send_ctl(c, ack_seq(c), TCP_ACK);
		return;
	case GW_TCP_CLOSED:
	case GW_TCP_LISTEN:
	case GW_TCP_SYN_SENT:
		return;
	default:
		break;
	}

	while (c->dupacks_owed != 0) {
		c->dupacks_owed--;
		tcp_send_ctl(c, ack_seq(c), TCP_ACK);
	}
	if (c->flags & TCP_CF_RTX_HEAD) {
		c->flags &= ~TCP_CF_RTX_HEAD;
		retransmit_head(c);
	}
	for (;;) {
		uint32_t wnd = min32(c->snd_wnd, c->cwnd);
		uint32_t flight = tcp_flight(c);
		uint32_t usable = wnd > flight ? wnd - flight : 0;
		uint32_t len;
		bool fin;
		int n;

		end = tcp_sq_end(c);
		avail = gw_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
		len = min32(min32(avail, usable), (uint32_t)c->snd_mss);
		fin = fin_wanted(c) && c->snd_nxt + len == end;
		if (len == 0 && !fin)
			break;
		/* Sender SWS avoidance (RFC 9293 3.8.6.2.1): no runt while
		 * more data waits, unless half the peer's largest window is
		 * usable or nothing is in flight to clock us. */
		if (len < avail && len < c->snd_mss && flight != 0 &&
		    len < c->max_sndwnd / 2)
			break;
		n = send_data_segment(c, c->snd_nxt, len, &fin);
		if (n < 0) {
			/* Out of mbufs. With nothing in flight no ACK would
			 * bring another try: the retransmission timer does. */
			if (n == -ENOMEM)
				c->s->stats.no_mbuf++;
			if (!tcp_rtx_armed(c))
				tcp_rtx_arm(c);
			break;
		}
		sent_bookkeeping(c, c->snd_nxt, (uint32_t)n, fin);
		c->snd_nxt += (uint32_t)n + (fin ? 1 : 0);
		if (fin)
			break;
	}
	if (c->flags & TCP_CF_ACK_NOW)
		tcp_send_ctl(c, ack_seq(c), TCP_ACK);

	/* Data waits, the peer's window is shut and nothing is in flight to
	 * bring an update: probe it. */
	end = tcp_sq_end(c);
	avail = gw_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt : 0;
	if (avail != 0 && c->snd_wnd == 0 && c->snd_nxt == c->snd_una &&
	    !tcp_rtx_armed(c) && !gw_timer_is_armed(&c->t_persist))
		tcp_persist_arm(c);
}
