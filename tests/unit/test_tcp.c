/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/tcp: the per-worker TCP stack driven by packet fixtures. A small
 * builder makes the peer's segments, the stack's xmit callback captures
 * what it sends, and the test checks flags, sequence numbers, windows,
 * options, payload bytes and the callbacks seen. Time is the stack's
 * clock in microseconds (tsc_hz = 1e6), moved by gw_tcp_poll().
 *
 * The last tests connect two stacks back to back through a lossy,
 * reordering wire and move 4 MiB each way.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "gw_common.h"
#include "gw_net.h"
#include "gw_tcp.h"
#include "gw_tcpcore.h"
#include "tcp_private.h"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define IPV4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
			  (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#else
#define IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			  (uint32_t)(c) << 8 | (uint32_t)(d))
#endif

#define US       1ull
#define MS       1000ull
#define SEC      1000000ull
#define T0       (10 * SEC)

#define OUR_IP   IPV4(10, 0, 0, 1)
#define PEER_IP  IPV4(10, 0, 0, 2)
#define OUR_PORT 80
#define MSS      1460

static struct rte_mempool *pool;

/* ------------------------------------------------------------------ */
/* capture of what the stack sends                                     */
/* ------------------------------------------------------------------ */

#define CAP_MAX 512

struct capture {
	unsigned int n;
	struct rte_mbuf *m[CAP_MAX];
	uint32_t next_hop[CAP_MAX];
};

static void
cap_xmit(void *arg, unsigned int port_index, uint32_t next_hop,
	 struct rte_mbuf *m)
{
	struct capture *cap = arg;

	(void)port_index;
	if (cap->n >= CAP_MAX) {
		rte_pktmbuf_free(m);
		return;
	}
	cap->next_hop[cap->n] = next_hop;
	cap->m[cap->n++] = m;
}

static void
cap_clear(struct capture *cap)
{
	for (unsigned int i = 0; i < cap->n; i++)
		rte_pktmbuf_free(cap->m[i]);
	cap->n = 0;
}

/* A segment the stack sent, decoded and checked. */
struct oseg {
	uint32_t sip, dip;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint32_t len;
	uint16_t nb_segs;
	uint8_t data[4096];
	struct gw_tcp_options opts;
};

static void
decode(struct rte_mbuf *m, struct oseg *o)
{
	static uint8_t buf[65536];
	uint32_t plen = rte_pktmbuf_pkt_len(m);
	const uint8_t *f = rte_pktmbuf_read(m, 0, plen, buf);
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint32_t hlen, l4_len;
	uint8_t psd[12];
	uint32_t sum;

	assert_non_null(f);
	assert_true(plen >= 54);
	assert_int_equal(f[12], 0x08);
	assert_int_equal(f[13], 0x00);
	ip = (const struct rte_ipv4_hdr *)(f + 14);
	assert_int_equal(ip->version_ihl, 0x45);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), plen - 14);
	assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
	/* Software checksums unless offloaded. */
	if (!(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM))
		assert_int_equal(gw_net_cksum_raw(ip, 20, 0), 0xffff);
	th = (const struct rte_tcp_hdr *)(f + 34);
	hlen = (th->data_off >> 4) * 4u;
	l4_len = plen - 34;
	assert_true(hlen >= 20 && hlen <= l4_len);
	if (!(m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM)) {
		memcpy(psd, &ip->src_addr, 4);
		memcpy(psd + 4, &ip->dst_addr, 4);
		psd[8] = 0;
		psd[9] = IPPROTO_TCP;
		psd[10] = (uint8_t)(l4_len >> 8);
		psd[11] = (uint8_t)l4_len;
		sum = gw_net_cksum_raw(psd, 12, 0);
		assert_int_equal(gw_net_cksum_raw(th, l4_len, sum), 0xffff);
	}
	memset(o, 0, sizeof(*o));
	o->sip = ip->src_addr;
	o->dip = ip->dst_addr;
	o->sport = rte_be_to_cpu_16(th->src_port);
	o->dport = rte_be_to_cpu_16(th->dst_port);
	o->seq = rte_be_to_cpu_32(th->sent_seq);
	o->ack = rte_be_to_cpu_32(th->recv_ack);
	o->flags = th->tcp_flags;
	o->wnd = rte_be_to_cpu_16(th->rx_win);
	o->len = l4_len - hlen;
	o->nb_segs = m->nb_segs;
	assert_true(o->len <= sizeof(o->data));
	memcpy(o->data, (const uint8_t *)th + hlen, o->len);
	assert_int_equal(gw_tcp_options_parse((const uint8_t *)(th + 1),
					      hlen - 20, &o->opts), 0);
}

/* ------------------------------------------------------------------ */
/* the application                                                     */
/* ------------------------------------------------------------------ */

struct app {
	unsigned int accepts, established, fins, closed, writable, data_calls;
	enum gw_tcp_close_reason reason;
	struct gw_tcp_conn *conn;
	bool consume;             /* recv_consumed at once */
	bool refuse;              /* accept returns NULL */
	bool abort_on_data;
	bool shutdown_on_fin;
	uint32_t held;
	size_t rx_len;
	uint8_t rx[1 << 20];
};

static void
app_on_established(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	a->established++;
	a->conn = c;
}

static void
app_on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct app *a = ctx;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *p;

	a->data_calls++;
	assert_true(a->rx_len + len <= sizeof(a->rx));
	/* a pointer into the mbuf when contiguous, else copied to the buffer */
	p = rte_pktmbuf_read(m, 0, len, a->rx + a->rx_len);
	assert_non_null(p);
	if (p != a->rx + a->rx_len)
		memcpy(a->rx + a->rx_len, p, len);
	a->rx_len += len;
	rte_pktmbuf_free(m);
	if (a->consume)
		gw_tcp_recv_consumed(c, len);
	else
		a->held += len;
	if (a->abort_on_data)
		gw_tcp_abort(c);
}

static void
app_on_writable(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	(void)c;
	a->writable++;
}

static void
app_on_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	a->fins++;
	if (a->shutdown_on_fin)
		gw_tcp_shutdown(c);
}

static void
app_on_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason r)
{
	struct app *a = ctx;

	(void)c;
	a->closed++;
	a->reason = r;
	a->conn = NULL;
}

static const struct gw_tcp_callbacks app_cb = {
	.on_established = app_on_established,
	.on_data = app_on_data,
	.on_writable = app_on_writable,
	.on_fin = app_on_fin,
	.on_closed = app_on_closed,
};

static void *
app_accept(void *listener_ctx, struct gw_tcp_conn *c,
	   const struct gw_tcp_callbacks **cb)
{
	struct app *a = listener_ctx;

	a->accepts++;
	if (a->refuse)
		return NULL;
	a->conn = c;
	*cb = &app_cb;
	return a;
}

/* ------------------------------------------------------------------ */
/* fixture                                                             */
/* ------------------------------------------------------------------ */

struct fix {
	struct gw_tcp_stack *s;
	struct gw_tcp_stack_params p;
	struct gw_tcp_port port;
	struct capture cap;
	struct app app;
	uint64_t now;
	/* the peer */
	uint16_t peer_port;
	uint32_t peer_seq;     /* next sequence number the peer sends */
	uint32_t peer_ack;     /* what the peer acknowledges */
	uint32_t our_iss;
	unsigned int pool_in_use;   /* at creation: earlier failures may leak */
};

static struct fix *
fix_new(void (*tweak)(struct gw_tcp_stack_params *p))
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->port.iface.addr = OUR_IP;
	f->port.iface.prefix_len = 24;
	f->port.iface.gateway = IPV4(10, 0, 0, 254);
	f->port.mtu = 1500;
	f->port.tx_multi_seg = true;
	f->p.worker_id = 0;
	f->p.n_workers = 1;
	f->p.max_conns = 64;
	f->p.syn_backlog = 16;
	f->p.timewait_max = 16;
	f->p.rcvbuf = 256 * 1024;
	f->p.sndbuf = 256 * 1024;
	f->p.reasm_segments = 256;
	f->p.connect_timeout_ms = 5000;
	f->p.tsc_hz = SEC;
	f->p.start_tsc = T0;
	f->p.pool = pool;
	f->p.n_ports = 1;
	f->p.ports = &f->port;
	f->p.xmit = cap_xmit;
	f->p.xmit_arg = &f->cap;
	if (tweak != NULL)
		tweak(&f->p);
	f->pool_in_use = rte_mempool_in_use_count(pool);
	f->s = gw_tcp_stack_create(&f->p);
	assert_non_null(f->s);
	f->now = T0;
	f->peer_port = 40000;
	f->app.consume = true;
	return f;
}

static void
fix_free(struct fix *f)
{
	unsigned int in_use = f->pool_in_use;

	gw_tcp_stack_free(f->s);
	cap_clear(&f->cap);
	free(f);
	/* Nothing leaked: every mbuf is back. */
	assert_int_equal(rte_mempool_in_use_count(pool), in_use);
}

static void
poll_at(struct fix *f, uint64_t t)
{
	f->now = t;
	gw_tcp_poll(f->s, t);
}

static void
advance(struct fix *f, uint64_t dt)
{
	poll_at(f, f->now + dt);
}

/* Take the i-th captured segment, decoded. */
static void
out(struct fix *f, unsigned int i, struct oseg *o)
{
	assert_true(i < f->cap.n);
	decode(f->cap.m[i], o);
}

static struct rte_mbuf *
frame_make(uint32_t sip, uint16_t sport, uint32_t dip, uint16_t dport,
	   uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
	   const uint8_t *opts, unsigned int optlen, const void *data,
	   uint32_t len, struct gw_net_result *res)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t hlen = 20 + optlen;
	uint32_t total = 14 + 20 + hlen + len;
	uint8_t *p;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint8_t psd[12];
	uint32_t sum;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)total);
	assert_non_null(p);
	memset(p, 0, 14);
	p[12] = 0x08;
	ip = (struct rte_ipv4_hdr *)(p + 14);
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + hlen + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = sip;
	ip->dst_addr = dip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (optlen != 0)
		memcpy(th + 1, opts, optlen);
	if (len != 0)
		memcpy((uint8_t *)th + hlen, data, len);
	memcpy(psd, &sip, 4);
	memcpy(psd + 4, &dip, 4);
	psd[8] = 0;
	psd[9] = IPPROTO_TCP;
	psd[10] = (uint8_t)((hlen + len) >> 8);
	psd[11] = (uint8_t)(hlen + len);
	sum = gw_net_cksum_raw(psd, 12, 0);
	sum = gw_net_cksum_raw(th, hlen + len, sum);
	th->cksum = (uint16_t)~sum;
	memset(res, 0, sizeof(*res));
	res->verdict = GW_NET_TCP;
	res->l3_offset = 14;
	res->l4_offset = 34;
	res->l4_len = (uint16_t)(hlen + len);
	return m;
}

/* The peer sends a segment from its port. */
static void
inject_full(struct fix *f, uint16_t sport, uint32_t seq, uint32_t ack,
	    uint8_t flags, uint16_t wnd, const uint8_t *opts,
	    unsigned int optlen, const void *data, uint32_t len)
{
	struct gw_net_result res;
	struct rte_mbuf *m = frame_make(PEER_IP, sport, OUR_IP, OUR_PORT, seq,
					ack, flags, wnd, opts, optlen, data,
					len, &res);

	gw_tcp_input(f->s, 0, m, &res);
}

static void
inject(struct fix *f, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
       const void *data, uint32_t len)
{
	inject_full(f, f->peer_port, seq, ack, flags, wnd, NULL, 0, data, len);
}

/* SYN options the peer sends: MSS 1460, window scale 7. */
static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };

/* The peer's window field: 64 KiB << 7. */
#define PEER_WND 512

/* listen, SYN, SYN-ACK, ACK: an ESTABLISHED passive connection. */
static struct gw_tcp_conn *
establish_passive(struct fix *f)
{
	struct oseg o;

	if (gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app) != 0 &&
	    f->app.accepts == 0) {
		/* already listening from an earlier call */
	}
	f->peer_seq = 1000;
	cap_clear(&f->cap);
	inject_full(f, f->peer_port, f->peer_seq, 0, TCP_SYN, 65535, syn_opts,
		    sizeof(syn_opts), NULL, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(o.ack, f->peer_seq + 1);
	f->our_iss = o.seq;
	f->peer_seq++;
	f->peer_ack = o.seq + 1;
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(f->cap.n, 0);
	assert_non_null(f->app.conn);
	assert_int_equal(gw_tcp_conn_state(f->app.conn), GW_TCP_ESTABLISHED);
	return f->app.conn;
}

static void
fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

/* An mbuf chain holding @p len bytes of @p data in pieces of @p piece. */
static struct rte_mbuf *
chain_of(const uint8_t *data, uint32_t len, uint32_t piece)
{
	struct rte_mbuf *head = NULL;
	uint32_t done = 0;

	while (done < len) {
		uint32_t n = len - done < piece ? len - done : piece;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char *p;

		assert_non_null(m);
		p = rte_pktmbuf_append(m, (uint16_t)n);
		assert_non_null(p);
		memcpy(p, data + done, n);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
		done += n;
	}
	return head;
}

/* ------------------------------------------------------------------ */
/* handshakes                                                          */
/* ------------------------------------------------------------------ */

static void
test_passive_handshake(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct oseg o;

	(void)state;
	assert_int_equal(gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app), 0);
	assert_int_equal(gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app),
			 -EEXIST);
	inject_full(f, 40000, 5000, 0, TCP_SYN, 65535, syn_opts,
		    sizeof(syn_opts), NULL, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(o.ack, 5001);
	assert_int_equal(o.sport, OUR_PORT);
	assert_int_equal(o.dport, 40000);
	assert_int_equal(o.sip, OUR_IP);
	assert_int_equal(o.dip, PEER_IP);
	assert_int_equal(f->cap.next_hop[0], PEER_IP);
	assert_true(o.opts.present & GW_TCPOPT_F_MSS);
	assert_int_equal(o.opts.mss, 1460);            /* MTU 1500 - 40 */
	assert_true(o.opts.present & GW_TCPOPT_F_WSCALE);
	assert_int_equal(o.opts.wscale, 3);            /* 256 KiB needs 3 */
	assert_false(o.opts.present & GW_TCPOPT_F_SACK_PERM);
	assert_false(o.opts.present & GW_TCPOPT_F_TIMESTAMP);
	assert_int_equal(o.wnd, 65535);
	assert_int_equal(st->conns, 1);
	assert_int_equal(f->app.accepts, 0);
	cap_clear(&f->cap);

	inject(f, 5001, o.seq + 1, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(f->app.accepts, 1);
	assert_non_null(f->app.conn);
	assert_int_equal(gw_tcp_conn_state(f->app.conn), GW_TCP_ESTABLISHED);
	assert_int_equal(st->established, 1);
	assert_int_equal(st->passive_opens, 1);
	assert_int_equal(f->cap.n, 0);
	{
		uint32_t lip, rip;
		uint16_t lport, rport;

		gw_tcp_conn_tuple(f->app.conn, &lip, &lport, &rip, &rport);
		assert_int_equal(lip, OUR_IP);
		assert_int_equal(lport, OUR_PORT);
		assert_int_equal(rip, PEER_IP);
		assert_int_equal(rport, 40000);
	}
	fix_free(f);
}

static void
test_peer_without_options(void **state)
{
	struct fix *f = fix_new(NULL);
	struct gw_tcp_conn *c;
	struct oseg o;
	uint8_t data[2000];

	(void)state;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	inject(f, 100, 0, TCP_SYN, 8192, NULL, 0);
	out(f, 0, &o);
	/* No window scale from the peer: none in the answer either. */
	assert_false(o.opts.present & GW_TCPOPT_F_WSCALE);
	cap_clear(&f->cap);
	inject(f, 101, o.seq + 1, TCP_ACK, 8192, NULL, 0);
	c = f->app.conn;
	assert_non_null(c);
	/* MSS defaults to 536 without the option. */
	fill(data, sizeof(data), 1);
	assert_int_equal(gw_tcp_send(c, chain_of(data, sizeof(data), 2000)), 0);
	advance(f, 0);
	out(f, 0, &o);
	assert_int_equal(o.len, 536);
	/* Unscaled window, capped at 65535. */
	assert_int_equal(o.wnd, 65535);
	fix_free(f);
}

static void
test_active_open(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	struct oseg o;

	(void)state;
	c = gw_tcp_connect(f->s, 0, PEER_IP, 8080, &app_cb, &f->app);
	assert_non_null(c);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_SYN_SENT);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_SYN);
	assert_int_equal(o.dport, 8080);
	assert_true(o.sport >= 32768 && o.sport <= 60999);
	assert_int_equal(o.opts.mss, 1460);
	assert_int_equal(o.opts.wscale, 3);
	assert_int_equal(st->active_opens, 1);
	cap_clear(&f->cap);

	/* SYN-ACK with options */
	{
		struct gw_net_result res;
		struct rte_mbuf *m = frame_make(PEER_IP, 8080, OUR_IP, o.sport,
			7000, o.seq + 1, TCP_SYN | TCP_ACK, 65535, syn_opts,
			sizeof(syn_opts), NULL, 0, &res);

		gw_tcp_input(f->s, 0, m, &res);
	}
	assert_int_equal(f->app.established, 1);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_ESTABLISHED);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	{
		struct oseg a;

		out(f, 0, &a);
		assert_int_equal(a.flags, TCP_ACK);
		assert_int_equal(a.seq, o.seq + 1);
		assert_int_equal(a.ack, 7001);
	}
	fix_free(f);
}

static void
two_workers(struct gw_tcp_stack_params *p)
{
	p->n_workers = 4;
	p->worker_id = 3;
}


/* A stack confined to a source-port range (the shadow engine's) picks
 * only from it; a full range refuses the connect. */
static void
narrow_ports(struct gw_tcp_stack_params *p)
{
	p->src_port_first = 56000;
	p->src_port_last = 56003;
}

static void
test_source_port_range(void **state)
{
	struct fix *f = fix_new(narrow_ports);
	bool seen[4] = { false };

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct gw_tcp_conn *c = gw_tcp_connect(f->s, 0, PEER_IP, 9000,
						       &app_cb, &f->app);
		uint16_t lport;

		assert_non_null(c);
		gw_tcp_conn_tuple(c, NULL, &lport, NULL, NULL);
		assert_true(lport >= 56000 && lport <= 56003);
		assert_false(seen[lport - 56000]);
		seen[lport - 56000] = true;
	}
	/* the four ports to PEER_IP:9000 are taken */
	assert_null(gw_tcp_connect(f->s, 0, PEER_IP, 9000, &app_cb, &f->app));
	/* another destination may reuse them */
	assert_non_null(gw_tcp_connect(f->s, 0, PEER_IP, 9001, &app_cb, &f->app));
	fix_free(f);
}

static void
test_source_port_and_owner(void **state)
{
	struct fix *f = fix_new(two_workers);

	(void)state;
	for (int i = 0; i < 20; i++) {
		struct gw_tcp_conn *c = gw_tcp_connect(f->s, 0, PEER_IP,
						       (uint16_t)(9000 + i),
						       &app_cb, &f->app);
		uint16_t lport;

		assert_non_null(c);
		gw_tcp_conn_tuple(c, NULL, &lport, NULL, NULL);
		assert_int_equal(lport % 4, 3);
		/* A reply to that port is owned by this worker. */
		{
			struct gw_net_result res;
			struct rte_mbuf *m = frame_make(PEER_IP, (uint16_t)(9000 + i),
				OUR_IP, lport, 1, 1, TCP_ACK, 100, NULL, 0,
				NULL, 0, &res);

			assert_int_equal(gw_tcp_owner(f->s, m, &res), 3);
			rte_pktmbuf_free(m);
		}
	}
	/* Client connections to a listener: owned by a hash of the client's
	 * address and ports, whichever queue the segment arrived on, the
	 * same worker for every segment of the flow, spread over workers. */
	gw_tcp_listen(f->s, 0, 8081, app_accept, &f->app);
	{
		unsigned int per_worker[4] = { 0 };

		for (uint16_t sport = 5000; sport < 5400; sport++) {
			struct gw_net_result res;
			struct rte_mbuf *m = frame_make(PEER_IP, sport, OUR_IP,
				8081, 1, 0, TCP_SYN, 100, NULL, 0, NULL, 0, &res);
			unsigned int owner = gw_tcp_owner(f->s, m, &res);

			rte_pktmbuf_free(m);
			assert_true(owner < 4);
			per_worker[owner]++;
			m = frame_make(PEER_IP, sport, OUR_IP, 8081, 2, 77,
				       TCP_ACK, 100, NULL, 0, "x", 1, &res);
			assert_int_equal(gw_tcp_owner(f->s, m, &res), owner);
			rte_pktmbuf_free(m);
		}
		for (unsigned int w = 0; w < 4; w++)
			assert_true(per_worker[w] > 50);
	}
	/* Other ports: the worker encoded in our local port. */
	{
		struct gw_net_result res;
		struct rte_mbuf *m = frame_make(PEER_IP, 5001, OUR_IP, 8082, 1,
						0, TCP_SYN, 100, NULL, 0, NULL,
						0, &res);

		assert_int_equal(gw_tcp_owner(f->s, m, &res), 8082 % 4);
		rte_pktmbuf_free(m);
	}
	fix_free(f);
}

static void
test_active_open_refused(void **state)
{
	struct fix *f = fix_new(NULL);
	struct gw_tcp_conn *c;
	struct oseg o;
	struct gw_net_result res;
	struct rte_mbuf *m;

	(void)state;
	c = gw_tcp_connect(f->s, 0, PEER_IP, 8080, &app_cb, &f->app);
	assert_non_null(c);
	out(f, 0, &o);
	cap_clear(&f->cap);
	/* A RST whose ACK is not acceptable is ignored... */
	m = frame_make(PEER_IP, 8080, OUR_IP, o.sport, 0, o.seq + 5,
		       TCP_RST | TCP_ACK, 0, NULL, 0, NULL, 0, &res);
	gw_tcp_input(f->s, 0, m, &res);
	assert_int_equal(f->app.closed, 0);
	/* ...the right one refuses the connection. */
	m = frame_make(PEER_IP, 8080, OUR_IP, o.sport, 0, o.seq + 1,
		       TCP_RST | TCP_ACK, 0, NULL, 0, NULL, 0, &res);
	gw_tcp_input(f->s, 0, m, &res);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.reason, GW_TCP_CLOSED_REFUSED);
	assert_int_equal(gw_tcp_stack_stats(f->s)->conns, 0);
	assert_int_equal(f->cap.n, 0);
	fix_free(f);
}

static void
test_connect_timeout(void **state)
{
	struct fix *f = fix_new(NULL);
	struct oseg o;
	uint64_t last = T0;

	(void)state;
	assert_non_null(gw_tcp_connect(f->s, 0, PEER_IP, 8080, &app_cb, &f->app));
	cap_clear(&f->cap);
	/* SYN again after 1 s, then 2 s later; gone at 5 s. */
	for (uint64_t t = T0; t <= T0 + 6 * SEC && f->app.closed == 0; t += 10 * MS) {
		poll_at(f, t);
		if (f->cap.n != 0) {
			out(f, 0, &o);
			assert_int_equal(o.flags, TCP_SYN);
			if (last == T0)
				assert_true(t - T0 >= 1 * SEC && t - T0 <= 1 * SEC + 20 * MS);
			else
				assert_true(t - last >= 2 * SEC && t - last <= 2 * SEC + 20 * MS);
			last = t;
			cap_clear(&f->cap);
		}
	}
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.reason, GW_TCP_CLOSED_CONNECT_TIMEOUT);
	assert_true(f->now >= T0 + 5 * SEC && f->now <= T0 + 5 * SEC + 20 * MS);
	fix_free(f);
}

static void
test_simultaneous_open(void **state)
{
	struct fix *f = fix_new(NULL);
	struct gw_tcp_conn *c;
	struct oseg o, a;
	struct gw_net_result res;
	struct rte_mbuf *m;

	(void)state;
	c = gw_tcp_connect(f->s, 0, PEER_IP, 8080, &app_cb, &f->app);
	out(f, 0, &o);
	cap_clear(&f->cap);
	/* The peer's SYN crosses ours. */
	m = frame_make(PEER_IP, 8080, OUR_IP, o.sport, 3000, 0, TCP_SYN, 65535,
		       syn_opts, sizeof(syn_opts), NULL, 0, &res);
	gw_tcp_input(f->s, 0, m, &res);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_SYN_RCVD);
	out(f, 0, &a);
	assert_int_equal(a.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(a.seq, o.seq);
	assert_int_equal(a.ack, 3001);
	cap_clear(&f->cap);
	/* Its SYN-ACK completes the open. */
	m = frame_make(PEER_IP, 8080, OUR_IP, o.sport, 3000, o.seq + 1,
		       TCP_SYN | TCP_ACK, 65535, syn_opts, sizeof(syn_opts),
		       NULL, 0, &res);
	gw_tcp_input(f->s, 0, m, &res);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_ESTABLISHED);
	assert_int_equal(f->app.established, 1);
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* data                                                                */
/* ------------------------------------------------------------------ */

static void
test_data_in_delayed_ack(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	uint8_t data[100];
	struct oseg o;

	(void)state;
	establish_passive(f);
	fill(data, sizeof(data), 7);
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK | TCP_PSH, PEER_WND, data,
	       sizeof(data));
	assert_int_equal(f->app.rx_len, sizeof(data));
	assert_memory_equal(f->app.rx, data, sizeof(data));
	assert_int_equal(st->copied_bytes, 0);
	assert_int_equal(st->bytes_in, 100);
	/* One segment: the ACK waits. */
	advance(f, 0);
	assert_int_equal(f->cap.n, 0);
	advance(f, 39 * MS);
	assert_int_equal(f->cap.n, 0);
	advance(f, 2 * MS);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_ACK);
	assert_int_equal(o.ack, f->peer_seq + 100);
	assert_int_equal(o.len, 0);
	fix_free(f);
}

static void
test_data_in_two_segments_ack_now(void **state)
{
	struct fix *f = fix_new(NULL);
	uint8_t data[2 * MSS];
	struct oseg o;

	(void)state;
	establish_passive(f);
	fill(data, sizeof(data), 9);
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK, PEER_WND, data, MSS);
	inject(f, f->peer_seq + MSS, f->peer_ack, TCP_ACK, PEER_WND,
	       data + MSS, MSS);
	assert_int_equal(f->cap.n, 0);   /* coalesced until poll */
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.ack, f->peer_seq + 2 * MSS);
	assert_int_equal(f->app.rx_len, 2 * MSS);
	assert_memory_equal(f->app.rx, data, 2 * MSS);
	assert_int_equal(f->app.data_calls, 2);
	assert_int_equal(gw_tcp_stack_stats(f->s)->copied_bytes, 0);
	fix_free(f);
}

static void
test_data_out_segments(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	static uint8_t data[5000];
	uint32_t off = 0;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 3);
	/* Three sends, one a chain of odd-sized pieces (checksums across
	 * odd boundaries, checked by decode()): coalesced to MSS. */
	assert_int_equal(gw_tcp_send(c, chain_of(data, 1001, 1001)), 0);
	assert_int_equal(gw_tcp_send(c, chain_of(data + 1001, 2999, 333)), 0);
	assert_int_equal(gw_tcp_send(c, chain_of(data + 4000, 1000, 1000)), 0);
	assert_int_equal(gw_tcp_send_space(c), 256 * 1024 - 5000);
	assert_int_equal(f->cap.n, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 4);
	for (unsigned int i = 0; i < 4; i++) {
		out(f, i, &o);
		assert_int_equal(o.seq, f->our_iss + 1 + off);
		assert_int_equal(o.ack, f->peer_seq);
		assert_int_equal(o.len, i < 3 ? MSS : 5000 - 3 * MSS);
		assert_memory_equal(o.data, data + off, o.len);
		assert_true(o.nb_segs >= 2);   /* header + clones */
		off += o.len;
	}
	assert_true(o.flags & TCP_PSH);
	assert_int_equal(st->copied_bytes, 0);
	assert_int_equal(st->bytes_out, 5000);
	/* ACK of everything frees the queue. */
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->our_iss + 1 + 5000, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(gw_tcp_send_space(c), 256 * 1024);
	fix_free(f);
}

/* A send that finds the pool empty, with nothing in flight to bring an
 * ACK, is tried again by the retransmission timer (it used to wait for
 * the peer forever). */
static void
test_data_out_no_mbuf(void **state)
{
	static struct rte_mbuf *held[32768];
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	uint8_t data[1000];
	unsigned int n = 0;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 9);
	assert_int_equal(gw_tcp_send(c, chain_of(data, sizeof(data), 1000)), 0);
	while (n < GW_ARRAY_SIZE(held) && (held[n] = rte_pktmbuf_alloc(pool)) != NULL)
		n++;
	assert_true(n < GW_ARRAY_SIZE(held));
	advance(f, 0);
	assert_int_equal(f->cap.n, 0);
	assert_true(st->no_mbuf >= 1);
	while (n > 0)
		rte_pktmbuf_free(held[--n]);
	/* Nothing arrives from the peer: the timer sends it. */
	for (unsigned int i = 0; i < 1000 && f->cap.n == 0; i++)
		advance(f, 1 * MS);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.seq, f->our_iss + 1);
	assert_int_equal(o.len, 1000);
	assert_memory_equal(o.data, data, 1000);
	assert_int_equal(st->rto_timeouts, 0);
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->our_iss + 1001, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 10 * SEC);
	assert_int_equal(f->cap.n, 0);
	fix_free(f);
}

static void
no_multiseg(struct gw_tcp_stack_params *p)
{
	((struct gw_tcp_port *)(uintptr_t)p->ports)->tx_multi_seg = false;
}

static void
test_data_out_linearised(void **state)
{
	struct fix *f = fix_new(no_multiseg);
	struct gw_tcp_conn *c;
	static uint8_t data[3000];
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 4);
	assert_int_equal(gw_tcp_send(c, chain_of(data, sizeof(data), 500)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 3);
	out(f, 0, &o);
	assert_int_equal(o.nb_segs, 1);
	assert_memory_equal(o.data, data, MSS);
	assert_int_equal(gw_tcp_stack_stats(f->s)->copied_bytes, 3000);
	fix_free(f);
}

/*
 * A segment that sends the whole queue chains the queued mbufs themselves
 * (a second reference each, no indirect mbuf). While a frame holds them
 * (the capture keeps frames as a PMD's TX ring does until cap_clear()),
 * nothing in them changes: an append swaps the queue's mbufs for clones,
 * an ACK drops only the queue's reference, a retransmission clones. Once
 * the frame let go, the same mbufs are lent again.
 */
static void
test_data_out_lent_queue(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct rte_mbuf *q1, *q2, *r, *fr;
	struct gw_tcp_conn *c;
	static uint8_t data[1500];
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 21);
	q1 = chain_of(data, 1000, 600);
	q2 = q1->next;
	assert_int_equal(gw_tcp_send(c, q1), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.len, 1000);
	assert_memory_equal(o.data, data, 1000);
	fr = f->cap.m[0];
	assert_ptr_equal(fr->next, q1);
	assert_ptr_equal(q1->next, q2);
	assert_null(q2->next);
	assert_int_equal(fr->nb_segs, 3);
	assert_int_equal(fr->pkt_len, 54 + 1000);
	assert_int_equal(rte_mbuf_refcnt_read(q1), 2);
	assert_int_equal(rte_mbuf_refcnt_read(q2), 2);

	/* An append while the frame is held leaves its chain alone. */
	r = chain_of(data + 1000, 500, 500);
	assert_int_equal(gw_tcp_send(c, r), 0);
	assert_null(q2->next);
	assert_ptr_equal(q1->next, q2);
	assert_int_equal(fr->nb_segs, 3);
	/* the frame's and the queue's clone's (attached to them) */
	assert_int_equal(rte_mbuf_refcnt_read(q1), 2);
	assert_int_equal(rte_mbuf_refcnt_read(q2), 2);
	assert_int_equal(gw_tcp_send_space(c), 256 * 1024 - 1500);
	advance(f, 0);
	assert_int_equal(f->cap.n, 2);
	out(f, 1, &o);
	assert_int_equal(o.seq, f->our_iss + 1 + 1000);
	assert_int_equal(o.len, 500);
	assert_memory_equal(o.data, data + 1000, 500);
	/* The held frame still reads the same bytes. */
	out(f, 0, &o);
	assert_int_equal(o.len, 1000);
	assert_memory_equal(o.data, data, 1000);
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->our_iss + 1 + 1500, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(gw_tcp_send_space(c), 256 * 1024);

	/* Lent again; the ACK comes before the frame is freed and leaves
	 * the frame's chain whole. */
	q1 = chain_of(data, 700, 400);
	q2 = q1->next;
	assert_int_equal(gw_tcp_send(c, q1), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	fr = f->cap.m[0];
	assert_ptr_equal(fr->next, q1);
	inject(f, f->peer_seq, f->our_iss + 1 + 2200, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(gw_tcp_send_space(c), 256 * 1024);
	assert_ptr_equal(fr->next, q1);
	assert_ptr_equal(q1->next, q2);
	assert_null(q2->next);
	assert_int_equal(rte_mbuf_refcnt_read(q1), 1);
	assert_int_equal(rte_mbuf_refcnt_read(q2), 1);
	out(f, 0, &o);
	assert_memory_equal(o.data, data, 700);
	/* A new message after that ACK: a fresh queue, lent again. */
	r = chain_of(data + 700, 300, 300);
	assert_int_equal(gw_tcp_send(c, r), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 2);
	assert_ptr_equal(f->cap.m[1]->next, r);
	out(f, 1, &o);
	assert_int_equal(o.seq, f->our_iss + 1 + 2200);
	assert_memory_equal(o.data, data + 700, 300);

	/* Timeout while the first frame is held: the retransmission clones
	 * (the same mbuf cannot be in two chains). */
	assert_int_equal(st->retransmits, 0);
	while (st->retransmits == 0)
		advance(f, 1 * MS);
	assert_int_equal(f->cap.n, 3);
	fr = f->cap.m[2];
	assert_ptr_not_equal(fr->next, r);
	assert_true(RTE_MBUF_CLONED(fr->next));
	out(f, 2, &o);
	assert_int_equal(o.seq, f->our_iss + 1 + 2200);
	assert_int_equal(o.len, 300);
	assert_memory_equal(o.data, data + 700, 300);
	assert_int_equal(rte_mbuf_refcnt_read(r), 3);
	/* Both let go: the next timeout lends the queued mbuf again. */
	cap_clear(&f->cap);
	assert_int_equal(rte_mbuf_refcnt_read(r), 1);
	while (st->retransmits == 1)
		advance(f, 1 * MS);
	assert_int_equal(f->cap.n, 1);
	assert_ptr_equal(f->cap.m[0]->next, r);
	out(f, 0, &o);
	assert_memory_equal(o.data, data + 700, 300);
	assert_int_equal(st->copied_bytes, 0);
	inject(f, f->peer_seq, f->our_iss + 1 + 2500, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(rte_mbuf_refcnt_read(r), 1);
	assert_int_equal(gw_tcp_send_space(c), 256 * 1024);
	fix_free(f);
}

/* An append that finds the queue lent to a held frame and the pool empty
 * is refused like a full buffer (the mbuf not taken, counted), and
 * on_writable follows the ACK. */
static void
test_data_out_lent_no_mbuf(void **state)
{
	static struct rte_mbuf *held[32768];
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct rte_mbuf *q, *r;
	struct gw_tcp_conn *c;
	static uint8_t data[800];
	unsigned int n = 0;
	uint64_t no_mbuf;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 23);
	q = chain_of(data, 500, 500);
	assert_int_equal(gw_tcp_send(c, q), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	assert_ptr_equal(f->cap.m[0]->next, q);
	r = chain_of(data + 500, 300, 300);
	while (n < GW_ARRAY_SIZE(held) && (held[n] = rte_pktmbuf_alloc(pool)) != NULL)
		n++;
	assert_true(n < GW_ARRAY_SIZE(held));
	no_mbuf = st->no_mbuf;
	assert_int_equal(gw_tcp_send(c, r), -ENOBUFS);
	assert_int_equal(st->no_mbuf, no_mbuf + 1);
	assert_null(q->next);
	assert_null(r->next);
	assert_int_equal(gw_tcp_send_space(c), 256 * 1024 - 500);
	while (n > 0)
		rte_pktmbuf_free(held[--n]);
	assert_int_equal(f->app.writable, 0);
	inject(f, f->peer_seq, f->our_iss + 1 + 500, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 0);
	assert_int_equal(f->app.writable, 1);
	assert_int_equal(gw_tcp_send(c, r), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 2);
	out(f, 1, &o);
	assert_int_equal(o.seq, f->our_iss + 1 + 500);
	assert_memory_equal(o.data, data + 500, 300);
	out(f, 0, &o);
	assert_memory_equal(o.data, data, 500);
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->our_iss + 1 + 800, TCP_ACK, PEER_WND, NULL, 0);
	fix_free(f);
}

/* A queue of more mbufs than a frame may chain is cloned in pieces, not
 * lent; a queue the application still holds a reference on is not lent. */
static void
test_data_out_not_lent(void **state)
{
	struct fix *f = fix_new(NULL);
	struct gw_tcp_conn *c;
	static uint8_t data[1400];
	struct rte_mbuf *q;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 22);
	/* 20 pieces of 70: TCP_TX_MAX_SEGS - 1 per frame at most. */
	assert_int_equal(gw_tcp_send(c, chain_of(data, 1400, 70)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 2);
	out(f, 0, &o);
	assert_int_equal(o.nb_segs, TCP_TX_MAX_SEGS);
	assert_int_equal(o.len, 70 * (TCP_TX_MAX_SEGS - 1));
	assert_memory_equal(o.data, data, o.len);
	assert_true(RTE_MBUF_CLONED(f->cap.m[0]->next));
	out(f, 1, &o);
	assert_memory_equal(o.data, data + 70 * (TCP_TX_MAX_SEGS - 1), o.len);
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->our_iss + 1 + 1400, TCP_ACK, PEER_WND, NULL, 0);

	q = chain_of(data, 500, 500);
	rte_mbuf_refcnt_update(q, 1);
	assert_int_equal(gw_tcp_send(c, q), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	assert_ptr_not_equal(f->cap.m[0]->next, q);
	out(f, 0, &o);
	assert_memory_equal(o.data, data, 500);
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->our_iss + 1 + 1900, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(rte_mbuf_refcnt_read(q), 1);
	rte_pktmbuf_free(q);
	fix_free(f);
}

static void
offload(struct gw_tcp_stack_params *p)
{
	struct gw_tcp_port *port = (struct gw_tcp_port *)(uintptr_t)p->ports;

	port->tx_ip_cksum = true;
	port->tx_tcp_cksum = true;
}

static void
test_checksum_offload_flags(void **state)
{
	struct fix *f = fix_new(offload);
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;

	(void)state;
	assert_non_null(gw_tcp_connect(f->s, 0, PEER_IP, 8080, &app_cb, &f->app));
	m = f->cap.m[0];
	assert_true(m->ol_flags & RTE_MBUF_F_TX_IPV4);
	assert_true(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	assert_true(m->ol_flags & RTE_MBUF_F_TX_TCP_CKSUM);
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, 20);
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	th = (struct rte_tcp_hdr *)(ip + 1);
	assert_int_equal(th->cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags));
	fix_free(f);
}

static void
test_retransmit_backoff(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	uint8_t data[1000];
	uint64_t sent_at, gap = 0, prev_gap = 0;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 5);
	gw_tcp_send(c, chain_of(data, sizeof(data), 1000));
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	cap_clear(&f->cap);
	sent_at = f->now;
	/* Three timeouts: same bytes each time, each wait twice the last. */
	for (int k = 0; k < 3; k++) {
		while (f->cap.n == 0)
			advance(f, 1 * MS);
		out(f, 0, &o);
		assert_int_equal(o.seq, f->our_iss + 1);
		assert_int_equal(o.len, 1000);
		assert_memory_equal(o.data, data, 1000);
		gap = f->now - sent_at;
		if (k == 0)
			assert_true(gap >= 200 * MS && gap <= 202 * MS);
		else
			assert_true(gap >= 2 * prev_gap - 2 * MS &&
				    gap <= 2 * prev_gap + 2 * MS);
		prev_gap = gap;
		sent_at = f->now;
		cap_clear(&f->cap);
	}
	assert_int_equal(st->rto_timeouts, 3);
	assert_int_equal(st->retransmits, 3);
	assert_int_equal(st->copied_bytes, 0);
	/* The ACK stops it. */
	inject(f, f->peer_seq, f->our_iss + 1001, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 10 * SEC);
	assert_int_equal(f->cap.n, 0);
	fix_free(f);
}

static void
few_retries(struct gw_tcp_stack_params *p)
{
	p->max_retransmits = 2;
}

static void
test_retransmit_gives_up(void **state)
{
	struct fix *f = fix_new(few_retries);
	struct gw_tcp_conn *c;
	uint8_t data[10] = { 0 };
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	gw_tcp_send(c, chain_of(data, sizeof(data), 10));
	for (int i = 0; i < 200 && f->app.closed == 0; i++)
		advance(f, 100 * MS);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.reason, GW_TCP_CLOSED_TIMEOUT);
	/* original + 2 retransmissions + RST */
	assert_int_equal(f->cap.n, 4);
	out(f, 3, &o);
	assert_true(o.flags & TCP_RST);
	fix_free(f);
}

static void
test_fast_retransmit(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	static uint8_t data[10 * MSS];
	uint32_t base;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	base = f->our_iss + 1;
	fill(data, sizeof(data), 11);
	gw_tcp_send(c, chain_of(data, sizeof(data), 2000));
	advance(f, 0);
	assert_int_equal(f->cap.n, 10);      /* initial window: 10 MSS */
	cap_clear(&f->cap);
	/* Segment 2 lost: one new ACK, then three duplicates. */
	inject(f, f->peer_seq, base + MSS, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 0);
	cap_clear(&f->cap);
	for (int i = 0; i < 3; i++) {
		inject(f, f->peer_seq, base + MSS, TCP_ACK, PEER_WND, NULL, 0);
		if (i < 2) {
			advance(f, 0);
			assert_int_equal(f->cap.n, 0);
		}
	}
	advance(f, 0);
	assert_true(f->cap.n >= 1);
	out(f, 0, &o);
	assert_int_equal(o.seq, base + MSS);
	assert_int_equal(o.len, MSS);
	assert_memory_equal(o.data, data + MSS, MSS);
	assert_int_equal(st->fast_retransmits, 1);
	assert_int_equal(st->rto_timeouts, 0);
	assert_true(c->flags & TCP_CF_RECOVERY);
	cap_clear(&f->cap);
	/* Partial ACK (segment 4 lost too): the next hole goes at once. */
	inject(f, f->peer_seq, base + 3 * MSS, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 0);
	assert_true(f->cap.n >= 1);
	out(f, 0, &o);
	assert_int_equal(o.seq, base + 3 * MSS);
	cap_clear(&f->cap);
	/* Full ACK: recovery ends, cwnd deflates to ssthresh. */
	inject(f, f->peer_seq, base + 10 * MSS, TCP_ACK, PEER_WND, NULL, 0);
	assert_false(c->flags & TCP_CF_RECOVERY);
	assert_true(c->cwnd <= c->ssthresh);
	assert_int_equal(c->ssthresh, 9 * MSS / 2);
	fix_free(f);
}

static void
small_rcvbuf(struct gw_tcp_stack_params *p)
{
	p->rcvbuf = 8192;
}

static void
test_window_closes_and_reopens(void **state)
{
	struct fix *f = fix_new(small_rcvbuf);
	struct gw_tcp_conn *c;
	static uint8_t data[8192];
	uint32_t sent = 0;
	struct oseg o;

	(void)state;
	f->app.consume = false;
	c = establish_passive(f);
	fill(data, sizeof(data), 13);
	while (sent < sizeof(data)) {
		uint32_t n = sizeof(data) - sent < MSS ? sizeof(data) - sent : MSS;

		inject(f, f->peer_seq + sent, f->peer_ack, TCP_ACK, PEER_WND,
		       data + sent, n);
		sent += n;
	}
	advance(f, 0);
	assert_true(f->cap.n >= 1);
	out(f, f->cap.n - 1, &o);
	assert_int_equal(o.ack, f->peer_seq + 8192);
	assert_int_equal(o.wnd, 0);               /* all held by the app */
	assert_int_equal(f->app.rx_len, 8192);
	cap_clear(&f->cap);
	/* More data is not accepted: ACK with window 0, no delivery. */
	inject(f, f->peer_seq + sent, f->peer_ack, TCP_ACK, PEER_WND, data, 100);
	advance(f, 0);
	assert_int_equal(f->app.rx_len, 8192);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.wnd, 0);
	assert_int_equal(o.ack, f->peer_seq + 8192);
	cap_clear(&f->cap);
	/* A tiny release is not worth an update (receiver SWS)... */
	gw_tcp_recv_consumed(c, 10);
	advance(f, 0);
	assert_int_equal(f->cap.n, 0);
	/* ...a large one is. */
	gw_tcp_recv_consumed(c, 8182);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_ACK);
	assert_true((uint32_t)o.wnd << 0 >= 4096);
	fix_free(f);
}

static void
test_zero_window_probes(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	uint8_t data[3000];
	uint64_t t1, t2, t3;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	/* The peer shuts its window. */
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK, 0, NULL, 0);
	fill(data, sizeof(data), 17);
	gw_tcp_send(c, chain_of(data, sizeof(data), 1500));
	advance(f, 0);
	assert_int_equal(f->cap.n, 0);
	while (f->cap.n == 0)
		advance(f, 1 * MS);
	t1 = f->now;
	out(f, 0, &o);
	assert_int_equal(o.seq, f->peer_ack - 1);   /* old seq, no data */
	assert_int_equal(o.len, 0);
	cap_clear(&f->cap);
	/* The peer answers with its window still shut: back-off doubles. */
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK, 0, NULL, 0);
	while (f->cap.n == 0)
		advance(f, 1 * MS);
	t2 = f->now;
	cap_clear(&f->cap);
	while (f->cap.n == 0)
		advance(f, 1 * MS);
	t3 = f->now;
	cap_clear(&f->cap);
	assert_true(t3 - t2 >= 2 * (t2 - t1) - 2 * MS);
	assert_int_equal(st->zero_window_probes, 3);
	/* The window opens: data flows. */
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 3);
	out(f, 0, &o);
	assert_int_equal(o.seq, f->peer_ack);
	assert_int_equal(o.len, MSS);
	assert_memory_equal(o.data, data, MSS);
	fix_free(f);
}

static void
small_sndbuf(struct gw_tcp_stack_params *p)
{
	p->sndbuf = 9000;
}

static void
test_send_buffer_and_writable(void **state)
{
	struct fix *f = fix_new(small_sndbuf);
	struct gw_tcp_conn *c;
	static uint8_t data[9000];
	struct rte_mbuf *m;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 19);
	assert_int_equal(gw_tcp_send(c, chain_of(data, 8000, 2000)), 0);
	m = chain_of(data, 2000, 2000);
	assert_int_equal(gw_tcp_send(c, m), -ENOBUFS);   /* not taken */
	rte_pktmbuf_free(m);
	advance(f, 0);
	/* An ACK freeing less than a third: no callback. */
	inject(f, f->peer_seq, f->peer_ack + 1000, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 0);
	assert_int_equal(f->app.writable, 0);
	inject(f, f->peer_seq, f->peer_ack + 4000, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 0);
	assert_int_equal(f->app.writable, 1);
	assert_int_equal(gw_tcp_send_space(c), 9000 - 4000);
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* close                                                               */
/* ------------------------------------------------------------------ */

static void
test_passive_close(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	uint8_t data[50];
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK | TCP_FIN, PEER_WND, NULL, 0);
	assert_int_equal(f->app.fins, 1);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_CLOSE_WAIT);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);         /* FIN acked at once */
	out(f, 0, &o);
	assert_int_equal(o.ack, f->peer_seq + 1);
	cap_clear(&f->cap);
	/* Half-close: we can still send. */
	fill(data, sizeof(data), 23);
	assert_int_equal(gw_tcp_send(c, chain_of(data, sizeof(data), 50)), 0);
	gw_tcp_shutdown(c);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_LAST_ACK);
	{
		struct rte_mbuf *m = chain_of(data, 1, 1);

		assert_int_equal(gw_tcp_send(c, m), -EPIPE);
		rte_pktmbuf_free(m);
	}
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);         /* data and FIN together */
	out(f, 0, &o);
	assert_int_equal(o.flags & (TCP_FIN | TCP_ACK), TCP_FIN | TCP_ACK);
	assert_int_equal(o.len, 50);
	cap_clear(&f->cap);
	inject(f, f->peer_seq + 1, f->peer_ack + 51, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.reason, GW_TCP_CLOSED_NORMAL);
	assert_int_equal(st->conns, 0);
	assert_int_equal(st->established, 0);
	fix_free(f);
}

static void
test_active_close_timewait(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	gw_tcp_shutdown(c);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_FIN_WAIT_1);
	{
		struct rte_mbuf *m = chain_of((const uint8_t *)"x", 1, 1);

		assert_int_equal(gw_tcp_send(c, m), -EPIPE);
		rte_pktmbuf_free(m);
	}
	advance(f, 0);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_FIN | TCP_ACK);
	assert_int_equal(o.seq, f->our_iss + 1);
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->peer_ack + 1, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_FIN_WAIT_2);
	/* The other direction still flows. */
	inject(f, f->peer_seq, f->peer_ack + 1, TCP_ACK, PEER_WND, "hello", 5);
	assert_int_equal(f->app.rx_len, 5);
	inject(f, f->peer_seq + 5, f->peer_ack + 1, TCP_ACK | TCP_FIN, PEER_WND,
	       NULL, 0);
	assert_int_equal(f->app.fins, 1);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.reason, GW_TCP_CLOSED_NORMAL);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_TIME_WAIT);
	assert_int_equal(st->timewait, 1);
	advance(f, 0);
	out(f, 0, &o);
	assert_int_equal(o.ack, f->peer_seq + 6);
	cap_clear(&f->cap);
	/* A retransmitted FIN is acked again. */
	inject(f, f->peer_seq + 5, f->peer_ack + 1, TCP_ACK | TCP_FIN, PEER_WND,
	       NULL, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	cap_clear(&f->cap);
	/* 2*MSL later it is gone. */
	advance(f, 59 * SEC);
	assert_int_equal(st->conns, 1);
	advance(f, 2 * SEC);
	assert_int_equal(st->conns, 0);
	assert_int_equal(st->timewait, 0);
	fix_free(f);
}

static void
test_simultaneous_close(void **state)
{
	struct fix *f = fix_new(NULL);
	struct gw_tcp_conn *c;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	gw_tcp_shutdown(c);
	advance(f, 0);
	out(f, 0, &o);
	assert_true(o.flags & TCP_FIN);
	cap_clear(&f->cap);
	/* The peer's FIN does not ack ours: CLOSING. */
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK | TCP_FIN, PEER_WND, NULL, 0);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_CLOSING);
	assert_int_equal(f->app.fins, 1);
	assert_int_equal(f->app.closed, 0);
	inject(f, f->peer_seq + 1, f->peer_ack + 1, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_TIME_WAIT);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.reason, GW_TCP_CLOSED_NORMAL);
	fix_free(f);
}

static void
tw_two(struct gw_tcp_stack_params *p)
{
	p->timewait_max = 2;
}

static void
test_timewait_bounded(void **state)
{
	struct fix *f = fix_new(tw_two);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct gw_tcp_conn *c;

		f->peer_port = (uint16_t)(41000 + i);
		f->app.conn = NULL;
		c = establish_passive(f);
		gw_tcp_shutdown(c);
		advance(f, 0);
		inject(f, f->peer_seq, f->peer_ack + 1, TCP_ACK | TCP_FIN,
		       PEER_WND, NULL, 0);
		assert_int_equal(gw_tcp_conn_state(c), GW_TCP_TIME_WAIT);
		advance(f, 0);
		cap_clear(&f->cap);
		assert_true(st->timewait <= 2);
	}
	assert_int_equal(st->timewait, 2);
	assert_int_equal(st->conns, 2);
	fix_free(f);
}

static void
test_timewait_reused_by_new_syn(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	gw_tcp_shutdown(c);
	advance(f, 0);
	inject(f, f->peer_seq, f->peer_ack + 1, TCP_ACK | TCP_FIN, PEER_WND,
	       NULL, 0);
	advance(f, 0);
	cap_clear(&f->cap);
	assert_int_equal(st->timewait, 1);
	/* Same 4-tuple, a SYN above the old sequence space. */
	inject_full(f, f->peer_port, f->peer_seq + 100000, 0, TCP_SYN, 65535,
		    syn_opts, sizeof(syn_opts), NULL, 0);
	assert_int_equal(st->timewait, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(o.ack, f->peer_seq + 100001);
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* RST, SYN and ACK checks (RFC 5961)                                   */
/* ------------------------------------------------------------------ */

static void
test_rst_exact_in_states(void **state)
{
	enum gw_tcp_state states[] = {
		GW_TCP_ESTABLISHED, GW_TCP_FIN_WAIT_1, GW_TCP_FIN_WAIT_2,
		GW_TCP_CLOSE_WAIT, GW_TCP_LAST_ACK, GW_TCP_CLOSING,
	};

	(void)state;
	for (unsigned int i = 0; i < GW_ARRAY_SIZE(states); i++) {
		struct fix *f = fix_new(NULL);
		struct gw_tcp_conn *c = establish_passive(f);
		uint32_t rcv = f->peer_seq;

		switch (states[i]) {
		case GW_TCP_FIN_WAIT_1:
			gw_tcp_shutdown(c);
			advance(f, 0);
			break;
		case GW_TCP_FIN_WAIT_2:
			gw_tcp_shutdown(c);
			advance(f, 0);
			inject(f, rcv, f->peer_ack + 1, TCP_ACK, PEER_WND, NULL, 0);
			break;
		case GW_TCP_CLOSE_WAIT:
			inject(f, rcv, f->peer_ack, TCP_ACK | TCP_FIN, PEER_WND, NULL, 0);
			rcv++;
			break;
		case GW_TCP_LAST_ACK:
			inject(f, rcv, f->peer_ack, TCP_ACK | TCP_FIN, PEER_WND, NULL, 0);
			rcv++;
			gw_tcp_shutdown(c);
			advance(f, 0);
			break;
		case GW_TCP_CLOSING:
			gw_tcp_shutdown(c);
			advance(f, 0);
			inject(f, rcv, f->peer_ack, TCP_ACK | TCP_FIN, PEER_WND, NULL, 0);
			rcv++;
			break;
		default:
			break;
		}
		assert_int_equal(gw_tcp_conn_state(c), states[i]);
		cap_clear(&f->cap);
		inject(f, rcv, 0, TCP_RST, 0, NULL, 0);
		assert_int_equal(f->app.closed, 1);
		assert_int_equal(f->app.reason, GW_TCP_CLOSED_RESET);
		assert_int_equal(gw_tcp_stack_stats(f->s)->conns, 0);
		assert_int_equal(gw_tcp_stack_stats(f->s)->resets_in, 1);
		advance(f, 0);
		assert_int_equal(f->cap.n, 0);
		fix_free(f);
	}
}

static void
test_rst_in_syn_rcvd(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct oseg o;

	(void)state;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	inject_full(f, 40000, 100, 0, TCP_SYN, 65535, syn_opts,
		    sizeof(syn_opts), NULL, 0);
	out(f, 0, &o);
	cap_clear(&f->cap);
	assert_int_equal(st->conns, 1);
	/* In-window, not exact: challenge ACK (in SYN_RCVD: the SYN-ACK). */
	inject(f, 150, 0, TCP_RST, 0, NULL, 0);
	assert_int_equal(st->conns, 1);
	inject(f, 101, 0, TCP_RST, 0, NULL, 0);
	assert_int_equal(st->conns, 0);
	assert_int_equal(f->app.accepts, 0);
	assert_int_equal(f->app.closed, 0);
	fix_free(f);
}

static void
test_rst_in_window_challenge(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	inject(f, f->peer_seq + 100, 0, TCP_RST, 0, NULL, 0);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_ESTABLISHED);
	assert_int_equal(f->app.closed, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_ACK);
	assert_int_equal(o.ack, f->peer_seq);
	assert_int_equal(o.seq, f->peer_ack);
	assert_int_equal(st->challenge_acks, 1);
	cap_clear(&f->cap);
	/* Out of the window entirely: dropped silently. */
	inject(f, f->peer_seq + 0x40000000, 0, TCP_RST, 0, NULL, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_ESTABLISHED);
	/* SYN in a synchronized state: challenge ACK too. */
	inject_full(f, f->peer_port, f->peer_seq + 5, 0, TCP_SYN, 65535,
		    syn_opts, sizeof(syn_opts), NULL, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_ACK);
	assert_int_equal(o.ack, f->peer_seq);
	assert_int_equal(st->challenge_acks, 2);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_ESTABLISHED);
	fix_free(f);
}

static void
one_chack(struct gw_tcp_stack_params *p)
{
	p->challenge_ack_limit = 2;
}

static void
test_challenge_ack_rate_limit(void **state)
{
	struct fix *f = fix_new(one_chack);

	(void)state;
	establish_passive(f);
	for (int i = 0; i < 5; i++) {
		inject(f, f->peer_seq + 100, 0, TCP_RST, 0, NULL, 0);
		advance(f, 0);
	}
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(gw_tcp_stack_stats(f->s)->challenge_acks, 2);
	cap_clear(&f->cap);
	advance(f, 1 * SEC);
	inject(f, f->peer_seq + 100, 0, TCP_RST, 0, NULL, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	fix_free(f);
}

static void
test_bad_acks(void **state)
{
	struct fix *f = fix_new(NULL);
	struct gw_tcp_conn *c;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	/* ACK of data never sent: ACK back, segment dropped. */
	inject(f, f->peer_seq, f->peer_ack + 5000, TCP_ACK, PEER_WND, "abc", 3);
	assert_int_equal(f->app.rx_len, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.ack, f->peer_seq);
	cap_clear(&f->cap);
	/* ACK far below SND.UNA - MAX.SND.WND: challenge ACK. */
	inject(f, f->peer_seq, f->peer_ack - 0x20000000, TCP_ACK, PEER_WND, "abc", 3);
	assert_int_equal(f->app.rx_len, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	assert_int_equal(gw_tcp_stack_stats(f->s)->challenge_acks, 1);
	assert_int_equal(gw_tcp_conn_state(c), GW_TCP_ESTABLISHED);
	fix_free(f);
}

static void
test_out_of_window_data(void **state)
{
	struct fix *f = fix_new(NULL);
	struct oseg o;

	(void)state;
	establish_passive(f);
	inject(f, f->peer_seq + 10 * 1000 * 1000, f->peer_ack, TCP_ACK, PEER_WND,
	       "zzz", 3);
	/* Old data too (a retransmission of bytes we have). */
	inject(f, f->peer_seq - 100, f->peer_ack, TCP_ACK, PEER_WND, "yyy", 3);
	assert_int_equal(f->app.rx_len, 0);
	assert_int_equal(f->app.data_calls, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.ack, f->peer_seq);
	fix_free(f);
}

static void
test_no_listener_rst(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct oseg o;

	(void)state;
	inject(f, 777, 0, TCP_SYN, 1000, NULL, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_RST | TCP_ACK);
	assert_int_equal(o.seq, 0);
	assert_int_equal(o.ack, 778);
	cap_clear(&f->cap);
	inject(f, 777, 4242, TCP_ACK, 1000, "ab", 2);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_RST);
	assert_int_equal(o.seq, 4242);
	cap_clear(&f->cap);
	/* Never a RST for a RST. */
	inject(f, 777, 4242, TCP_RST | TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(st->no_listener, 2);
	assert_int_equal(st->resets_out, 2);
	fix_free(f);
}

static void
test_bad_checksum(void **state)
{
	struct fix *f = fix_new(NULL);
	struct gw_net_result res;
	struct rte_mbuf *m;
	uint8_t *p;

	(void)state;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	m = frame_make(PEER_IP, 40000, OUR_IP, OUR_PORT, 1, 0, TCP_SYN, 1000,
		       NULL, 0, "data", 4, &res);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[m->data_len - 1] ^= 0x40;
	gw_tcp_input(f->s, 0, m, &res);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(gw_tcp_stack_stats(f->s)->bad_checksum, 1);
	assert_int_equal(gw_tcp_stack_stats(f->s)->conns, 0);
	/* The NIC's verdict is trusted either way. */
	m = frame_make(PEER_IP, 40000, OUR_IP, OUR_PORT, 1, 0, TCP_SYN, 1000,
		       NULL, 0, NULL, 0, &res);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	gw_tcp_input(f->s, 0, m, &res);
	assert_int_equal(gw_tcp_stack_stats(f->s)->bad_checksum, 2);
	/* Malformed header: data offset beyond the segment. */
	m = frame_make(PEER_IP, 40000, OUR_IP, OUR_PORT, 1, 0, TCP_SYN, 1000,
		       NULL, 0, NULL, 0, &res);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[34 + 12] = 0xf0;
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	gw_tcp_input(f->s, 0, m, &res);
	assert_int_equal(gw_tcp_stack_stats(f->s)->bad_segment, 1);
	assert_int_equal(f->cap.n, 0);
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* reassembly                                                          */
/* ------------------------------------------------------------------ */

static void
test_out_of_order(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	static uint8_t data[4 * 1000];
	uint32_t b;
	struct oseg o;

	(void)state;
	establish_passive(f);
	b = f->peer_seq;
	fill(data, sizeof(data), 29);
	/* 2, 4, 3 arrive before 1; each gets an immediate duplicate ACK
	 * for b, sent alone even when coalesced into one poll. */
	inject(f, b + 1000, f->peer_ack, TCP_ACK, PEER_WND, data + 1000, 1000);
	inject(f, b + 3000, f->peer_ack, TCP_ACK, PEER_WND, data + 3000, 1000);
	inject(f, b + 2000, f->peer_ack, TCP_ACK, PEER_WND, data + 2000, 1000);
	/* and a duplicate of 3, overlapping 2 */
	inject(f, b + 1500, f->peer_ack, TCP_ACK, PEER_WND, data + 1500, 1000);
	assert_int_equal(f->app.rx_len, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 4);
	for (unsigned int i = 0; i < 4; i++) {
		out(f, i, &o);
		assert_int_equal(o.flags, TCP_ACK);
		assert_int_equal(o.ack, b);
		assert_int_equal(o.len, 0);
	}
	cap_clear(&f->cap);
	assert_int_equal(st->out_of_order, 4);
	inject(f, b, f->peer_ack, TCP_ACK, PEER_WND, data, 1000);
	assert_int_equal(f->app.rx_len, 4000);
	assert_memory_equal(f->app.rx, data, 4000);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.ack, b + 4000);
	assert_int_equal(st->copied_bytes, 0);
	/* Overlapping old + new data is trimmed, not delivered twice. */
	inject(f, b + 3500, f->peer_ack, TCP_ACK, PEER_WND, data + 500, 1000);
	assert_int_equal(f->app.rx_len, 4500);
	assert_memory_equal(f->app.rx + 4000, data + 1000, 500);
	fix_free(f);
}

static void
test_out_of_order_fin(void **state)
{
	struct fix *f = fix_new(NULL);
	uint32_t b;

	(void)state;
	establish_passive(f);
	b = f->peer_seq;
	inject(f, b + 5, f->peer_ack, TCP_ACK | TCP_FIN, PEER_WND, "world", 5);
	assert_int_equal(f->app.fins, 0);
	inject(f, b, f->peer_ack, TCP_ACK, PEER_WND, "hello", 5);
	assert_int_equal(f->app.rx_len, 10);
	assert_memory_equal(f->app.rx, "helloworld", 10);
	assert_int_equal(f->app.fins, 1);
	assert_int_equal(gw_tcp_conn_state(f->app.conn), GW_TCP_CLOSE_WAIT);
	fix_free(f);
}

static void
few_reasm(struct gw_tcp_stack_params *p)
{
	p->reasm_segments = 4;
}

static void
test_reassembly_limit(void **state)
{
	struct fix *f = fix_new(few_reasm);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	static uint8_t data[8 * 100];
	uint32_t b;

	(void)state;
	establish_passive(f);
	b = f->peer_seq;
	fill(data, sizeof(data), 31);
	/* 1..6 out of order (0 missing); only four fit. */
	for (uint32_t i = 1; i <= 6; i++)
		inject(f, b + 200 * i, f->peer_ack, TCP_ACK, PEER_WND,
		       data + 100 * i, 100);
	assert_int_equal(st->reasm_dropped, 2);
	assert_int_equal(st->out_of_order, 6);
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* SYN queue, cookies, limits                                          */
/* ------------------------------------------------------------------ */

static void
backlog_two(struct gw_tcp_stack_params *p)
{
	p->syn_backlog = 2;
}

static void
test_syn_cookies(void **state)
{
	struct fix *f = fix_new(backlog_two);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct oseg o;
	uint32_t cookie;

	(void)state;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	inject_full(f, 50001, 100, 0, TCP_SYN, 65535, syn_opts, sizeof(syn_opts), NULL, 0);
	inject_full(f, 50002, 100, 0, TCP_SYN, 65535, syn_opts, sizeof(syn_opts), NULL, 0);
	assert_int_equal(st->conns, 2);
	cap_clear(&f->cap);
	/* The queue is full: a cookie, no TCB. */
	inject_full(f, 50003, 9000, 0, TCP_SYN, 65535, syn_opts, sizeof(syn_opts), NULL, 0);
	assert_int_equal(st->conns, 2);
	assert_int_equal(st->syncookies_sent, 1);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(o.ack, 9001);
	assert_int_equal(o.opts.mss, 1460);
	assert_true(o.opts.present & GW_TCPOPT_F_WSCALE);
	cookie = o.seq;
	cap_clear(&f->cap);
	/* A forged ACK is refused with RST. */
	inject_full(f, 50003, 9001, cookie + 2, TCP_ACK, 512, NULL, 0, NULL, 0);
	assert_int_equal(st->syncookies_failed, 1);
	assert_int_equal(st->conns, 2);
	out(f, 0, &o);
	assert_true(o.flags & TCP_RST);
	cap_clear(&f->cap);
	/* The real one (with data) makes an ESTABLISHED connection. */
	advance(f, 1 * SEC);        /* the embryonic conns resend SYN-ACKs */
	cap_clear(&f->cap);
	inject_full(f, 50003, 9001, cookie + 1, TCP_ACK | TCP_PSH, 512, NULL, 0,
		    "GET /", 5);
	assert_int_equal(st->syncookies_ok, 1);
	assert_int_equal(st->conns, 3);
	assert_int_equal(f->app.accepts, 1);
	assert_int_equal(gw_tcp_conn_state(f->app.conn), GW_TCP_ESTABLISHED);
	assert_int_equal(f->app.rx_len, 5);
	/* It talks with the window scale and MSS from the cookie. */
	{
		static uint8_t data[3000];
		struct gw_tcp_conn *c = f->app.conn;

		assert_int_equal(c->snd_wscale, 7);
		assert_int_equal(c->snd_wnd, 512u << 7);
		gw_tcp_send(c, chain_of(data, sizeof(data), 1500));
		advance(f, 0);
		out(f, 0, &o);
		assert_int_equal(o.seq, cookie + 1);
		assert_int_equal(o.len, 1460);
		assert_int_equal(o.ack, 9006);
	}
	/* Embryonic conns time out after 3 SYN-ACK retransmissions. */
	cap_clear(&f->cap);
	for (int i = 0; i < 40; i++)
		advance(f, 1 * SEC);
	assert_int_equal(st->conns, 1);
	fix_free(f);
}

static void
test_synack_retransmits(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	unsigned int synacks = 0;

	(void)state;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	inject_full(f, 50001, 100, 0, TCP_SYN, 65535, syn_opts, sizeof(syn_opts), NULL, 0);
	/* A retransmitted SYN gets the SYN-ACK again. */
	inject_full(f, 50001, 100, 0, TCP_SYN, 65535, syn_opts, sizeof(syn_opts), NULL, 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 2);
	cap_clear(&f->cap);
	for (int i = 0; i < 400 && st->conns != 0; i++) {
		advance(f, 100 * MS);
		synacks += f->cap.n;
		cap_clear(&f->cap);
	}
	assert_int_equal(synacks, 3);
	assert_int_equal(st->conns, 0);
	assert_int_equal(f->app.accepts, 0);
	fix_free(f);
}

static void
two_conns(struct gw_tcp_stack_params *p)
{
	p->max_conns = 2;
}

static void
test_max_conns(void **state)
{
	struct fix *f = fix_new(two_conns);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);

	(void)state;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	inject_full(f, 50001, 100, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	inject_full(f, 50002, 100, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	cap_clear(&f->cap);
	inject_full(f, 50003, 100, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(f->cap.n, 0);          /* dropped silently */
	assert_int_equal(st->conns_refused_limit, 1);
	assert_null(gw_tcp_connect(f->s, 0, PEER_IP, 80, &app_cb, &f->app));
	assert_int_equal(rte_errno, ENOSPC);
	assert_int_equal(st->conns_refused_limit, 2);
	fix_free(f);
}

static void
test_accept_refused(void **state)
{
	struct fix *f = fix_new(NULL);
	struct oseg o;

	(void)state;
	f->app.refuse = true;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	inject_full(f, 50001, 100, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	out(f, 0, &o);
	cap_clear(&f->cap);
	inject_full(f, 50001, 101, o.seq + 1, TCP_ACK, 1000, NULL, 0, NULL, 0);
	assert_int_equal(f->app.accepts, 1);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_true(o.flags & TCP_RST);
	assert_int_equal(gw_tcp_stack_stats(f->s)->accepts_refused, 1);
	assert_int_equal(gw_tcp_stack_stats(f->s)->conns, 0);
	fix_free(f);
}

static void
test_abort_from_callback(void **state)
{
	struct fix *f = fix_new(NULL);
	struct oseg o;

	(void)state;
	establish_passive(f);
	f->app.abort_on_data = true;
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK | TCP_FIN, PEER_WND, "bye", 3);
	/* Aborted inside on_data: no FIN callback, no on_closed, a RST out. */
	assert_int_equal(f->app.fins, 0);
	assert_int_equal(f->app.closed, 0);
	assert_int_equal(gw_tcp_stack_stats(f->s)->conns, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_true(o.flags & TCP_RST);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	fix_free(f);
}

static void
test_stack_free_notifies(void **state)
{
	struct fix *f = fix_new(NULL);
	struct app *a = &f->app;

	(void)state;
	establish_passive(f);
	gw_tcp_stack_free(f->s);
	assert_int_equal(a->closed, 1);
	assert_int_equal(a->reason, GW_TCP_CLOSED_STACK_STOP);
	f->s = gw_tcp_stack_create(&f->p);
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* sequence wrap-around                                                */
/* ------------------------------------------------------------------ */

static uint64_t conv_hz;

static void
tweak_conv_hz(struct gw_tcp_stack_params *p)
{
	p->tsc_hz = conv_hz;
}

/* The clock conversions take a 64-bit path when the product fits: it
 * must give the 128-bit quotient everywhere, above all at the edges. */
static void
test_clock_conversions(void **state)
{
	static const uint64_t hz[] = {
		1000000, 999999937, 2100000000, 2999999997, 3600000000,
		UINT64_C(1) << 40, UINT64_MAX / 3,
	};

	(void)state;
	for (size_t h = 0; h < RTE_DIM(hz); h++) {
		struct fix *f;
		uint64_t edges[8], x = 0x9e3779b97f4a7c15u;

		conv_hz = hz[h];
		f = fix_new(tweak_conv_hz);
		edges[0] = UINT64_MAX / hz[h];
		edges[1] = UINT64_MAX / 1000000;
		edges[2] = 0;
		edges[3] = UINT64_MAX;
		edges[4] = 200000;           /* RTO floor */
		edges[5] = 60000000;         /* RTO ceiling */
		edges[6] = hz[h];
		edges[7] = UINT64_MAX / 250000;
		for (int i = 0; i < 20000; i++) {
			uint64_t v;

			if (i < 8 * 9)
				v = edges[i / 9] + (uint64_t)(i % 9) - 4;
			else {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				v = x >> (i % 64);
			}
			/* us -> tsc: the 128-bit product, truncated (no
			 * caller asks beyond 2^64 cycles). */
			assert_true(tcp_us_to_tsc(f->s, v) ==
				    (uint64_t)((unsigned __int128)v * hz[h] / 1000000));
			{
				unsigned __int128 us =
					(unsigned __int128)v * 1000000 / hz[h];

				assert_int_equal(tcp_tsc_to_us(f->s, v),
						 us > UINT32_MAX ? UINT32_MAX :
						 (uint32_t)us);
			}
		}
		fix_free(f);
	}
}

static void
test_sequence_wrap(void **state)
{
	struct fix *f = fix_new(NULL);
	static uint8_t data[64 * 1024];
	struct gw_tcp_conn *c;
	uint32_t iss0, want, sent, got;
	struct oseg o;

	(void)state;
	gw_tcp_listen(f->s, 0, OUR_PORT, app_accept, &f->app);
	/* Our ISN is hash(tuple) + a 4 us clock: learn it, then move the
	 * clock so that the next one for the same tuple sits below 2^32. */
	inject_full(f, 40000, 1, 0, TCP_SYN, 65535, syn_opts, sizeof(syn_opts), NULL, 0);
	out(f, 0, &o);
	iss0 = o.seq;
	cap_clear(&f->cap);
	inject_full(f, 40000, 2, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(gw_tcp_stack_stats(f->s)->conns, 0);
	want = UINT32_C(0xffffffff) - 20000;
	advance(f, 4ull * (uint32_t)(want - iss0));
	/* The peer's ISN is near the wrap too. */
	f->peer_seq = UINT32_C(0xffffffff) - 30000;
	inject_full(f, 40000, f->peer_seq, 0, TCP_SYN, 65535, syn_opts,
		    sizeof(syn_opts), NULL, 0);
	out(f, 0, &o);
	assert_int_equal(o.seq, want);
	cap_clear(&f->cap);
	f->peer_seq++;
	f->peer_ack = want + 1;
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK, PEER_WND, NULL, 0);
	c = f->app.conn;
	assert_non_null(c);

	/* 64 KiB in, across the wrap, with one reordering. */
	fill(data, sizeof(data), 37);
	sent = 0;
	while (sent < sizeof(data)) {
		uint32_t n = sizeof(data) - sent < MSS ? sizeof(data) - sent : MSS;

		if (sent == 20 * MSS && sent + 2 * MSS < sizeof(data)) {
			inject(f, f->peer_seq + sent + MSS, f->peer_ack, TCP_ACK,
			       PEER_WND, data + sent + MSS, MSS);
			inject(f, f->peer_seq + sent, f->peer_ack, TCP_ACK,
			       PEER_WND, data + sent, MSS);
			sent += 2 * MSS;
			continue;
		}
		inject(f, f->peer_seq + sent, f->peer_ack, TCP_ACK, PEER_WND,
		       data + sent, n);
		sent += n;
		advance(f, 0);
		cap_clear(&f->cap);
	}
	assert_int_equal(f->app.rx_len, sizeof(data));
	assert_memory_equal(f->app.rx, data, sizeof(data));

	/* 64 KiB out, across the wrap, acked as it goes. */
	assert_int_equal(gw_tcp_send(c, chain_of(data, sizeof(data), 2000)), 0);
	got = 0;
	for (int round = 0; round < 200 && got < sizeof(data); round++) {
		advance(f, 1 * MS);
		for (unsigned int i = 0; i < f->cap.n; i++) {
			out(f, i, &o);
			if (o.len == 0)
				continue;
			assert_int_equal(o.seq, want + 1 + got);
			assert_memory_equal(o.data, data + got, o.len);
			got += o.len;
		}
		cap_clear(&f->cap);
		inject(f, f->peer_seq + sent, want + 1 + got, TCP_ACK, PEER_WND,
		       NULL, 0);
	}
	assert_int_equal(got, sizeof(data));
	assert_int_equal(c->sq_bytes, 0);
	assert_true(gw_seq_lt(want, c->snd_una) && c->snd_una < want);
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* the connection table                                                */
/* ------------------------------------------------------------------ */

#define CHURN 512

static void
many_conns(struct gw_tcp_stack_params *p)
{
	p->max_conns = CHURN;
}

/* Open addressing with backward-shift deletion: after any mix of inserts
 * and removals every member is still found and no removed one is. */
static void
test_table_churn(void **state)
{
	struct fix *f = fix_new(many_conns);
	static struct gw_tcp_conn *conns[CHURN];
	static uint32_t lip[CHURN], rip[CHURN];
	static uint16_t lport[CHURN], rport[CHURN];
	uint32_t rng = 12345;

	(void)state;
	for (int round = 0; round < 30; round++) {
		for (unsigned int i = 0; i < CHURN; i++) {
			if (conns[i] != NULL)
				continue;
			/* few remote ports, so that tuples cluster */
			conns[i] = gw_tcp_connect(f->s, 0, PEER_IP,
						  (uint16_t)(1000 + i % 7),
						  &app_cb, &f->app);
			assert_non_null(conns[i]);
			gw_tcp_conn_tuple(conns[i], &lip[i], &lport[i], &rip[i],
					  &rport[i]);
		}
		cap_clear(&f->cap);
		assert_null(gw_tcp_connect(f->s, 0, PEER_IP, 1, &app_cb, &f->app));
		for (unsigned int i = 0; i < CHURN; i++) {
			rng = rng * 1103515245 + 12345;
			if ((rng >> 16) % 3 == 0) {
				gw_tcp_abort(conns[i]);
				conns[i] = NULL;
			}
		}
		for (unsigned int i = 0; i < CHURN; i++) {
			struct gw_tcp_conn *c = tcp_conn_lookup(f->s, lip[i],
				lport[i], rip[i], rport[i]);

			assert_ptr_equal(c, conns[i]);
		}
	}
	assert_int_equal(f->app.closed, 0);   /* aborts do not call back */
	fix_free(f);
}

/* ------------------------------------------------------------------ */
/* mbuf helpers                                                        */
/* ------------------------------------------------------------------ */

static void
test_range_clone_and_cut(void **state)
{
	static uint8_t data[5000], buf[5000];
	struct rte_mbuf *src, *cl;

	(void)state;
	fill(data, sizeof(data), 41);
	src = chain_of(data, sizeof(data), 1700);   /* 1700, 1700, 1600 */
	for (uint32_t off = 0; off < 5000; off += 613) {
		for (uint32_t len = 1; off + len <= 5000; len += 977) {
			cl = tcp_mbuf_range_clone(src, off, len, pool);
			assert_non_null(cl);
			assert_int_equal(rte_pktmbuf_pkt_len(cl), len);
			assert_int_equal(rte_pktmbuf_read(cl, 0, len, buf) == buf ?
					 memcmp(buf, data + off, len) :
					 memcmp(rte_pktmbuf_read(cl, 0, len, buf),
						data + off, len), 0);
			assert_true(RTE_MBUF_CLONED(cl));
			rte_pktmbuf_free(cl);
		}
	}
	assert_null(tcp_mbuf_range_clone(src, 4000, 2000, pool));
	/* The source is untouched and the only user again. */
	assert_int_equal(rte_mbuf_refcnt_read(src), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(src), 5000);
	/* cut: drop the first segment and a half, and the tail. */
	src = tcp_mbuf_cut(src, 2500, 2000);
	assert_non_null(src);
	assert_int_equal(rte_pktmbuf_pkt_len(src), 2000);
	assert_int_equal(src->nb_segs, 2);
	assert_memory_equal(rte_pktmbuf_read(src, 0, 2000, buf), data + 2500, 2000);
	rte_pktmbuf_free(src);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* ------------------------------------------------------------------ */
/* per-segment shortcuts                                               */
/* ------------------------------------------------------------------ */

/* Wait for the next segment, in 1 ms steps (at most 10 s). */
static void
wait_segment(struct fix *f)
{
	uint64_t until = f->now + 10 * SEC;

	while (f->cap.n == 0 && f->now < until)
		advance(f, 1 * MS);
	assert_int_equal(f->cap.n, 1);
}

/*
 * The retransmission and delayed-ACK timers are cancelled lazily: the
 * wheel entry stays until it comes up. A stale entry must send nothing,
 * and a timer armed again must fire at its own time, whether that is
 * after the stale entry (moved later in place) or before it (relinked).
 */
static void
test_timers_rearmed_after_lazy_cancel(void **state)
{
	struct fix *f = fix_new(NULL);
	const struct gw_tcp_stats *st = gw_tcp_stack_stats(f->s);
	struct gw_tcp_conn *c;
	uint8_t data[400];
	uint64_t t_send, t_in, rto;
	struct oseg o;

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 11);
	/* Sent at t, acknowledged at t + 50 ms: the RTO entry stays. */
	assert_int_equal(gw_tcp_send(c, chain_of(data, 100, 100)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	cap_clear(&f->cap);
	advance(f, 50 * MS);
	inject(f, f->peer_seq, f->our_iss + 1 + 100, TCP_ACK, PEER_WND, NULL, 0);
	assert_false(tcp_rtx_armed(c));
	/* New data at t + 100 ms: its RTO counts from its own send. */
	advance(f, 50 * MS);
	assert_int_equal(gw_tcp_send(c, chain_of(data + 100, 100, 100)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	cap_clear(&f->cap);
	assert_true(tcp_rtx_armed(c));
	t_send = f->now;
	rto = c->rto.rto_us;          /* tsc_hz is 1e6: microseconds */
	wait_segment(f);
	out(f, 0, &o);
	assert_int_equal(o.seq, f->our_iss + 1 + 100);
	assert_int_equal(o.len, 100);
	assert_true(f->now - t_send >= rto && f->now - t_send <= rto + 2 * MS);
	assert_int_equal(st->rto_timeouts, 1);
	cap_clear(&f->cap);
	/* The timeout doubled the RTO and armed it; the ACK cancels it
	 * (lazily) and ends the back-off, so the next data's timer lies
	 * before the stale entry and must not wait for it. */
	advance(f, 10 * MS);
	inject(f, f->peer_seq, f->our_iss + 1 + 200, TCP_ACK, PEER_WND, NULL, 0);
	assert_int_equal(c->rto.backoff, 0);
	advance(f, 10 * MS);
	assert_int_equal(gw_tcp_send(c, chain_of(data + 200, 100, 100)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	cap_clear(&f->cap);
	t_send = f->now;
	rto = c->rto.rto_us;
	wait_segment(f);
	out(f, 0, &o);
	assert_int_equal(o.seq, f->our_iss + 1 + 200);
	assert_true(f->now - t_send >= rto && f->now - t_send <= rto + 2 * MS);
	assert_int_equal(st->rto_timeouts, 2);
	cap_clear(&f->cap);
	/* All acknowledged: the stale entries fire and send nothing. */
	inject(f, f->peer_seq, f->our_iss + 1 + 300, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 10 * SEC);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(st->rto_timeouts, 2);

	/* Delayed ACK: data in at t (ACK due at t + 40 ms) is acknowledged
	 * by our data at t + 10 ms; the t + 40 ms entry fires and sends
	 * nothing. */
	inject(f, f->peer_seq, f->our_iss + 1 + 300, TCP_ACK | TCP_PSH,
	       PEER_WND, data, 10);
	f->peer_seq += 10;
	advance(f, 10 * MS);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(gw_tcp_send(c, chain_of(data + 300, 5, 5)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.len, 5);
	assert_int_equal(o.ack, f->peer_seq);
	cap_clear(&f->cap);
	inject(f, f->peer_seq, f->our_iss + 1 + 305, TCP_ACK, PEER_WND, NULL, 0);
	advance(f, 100 * MS);
	assert_int_equal(f->cap.n, 0);
	/* Again, but data in at t + 30 ms owes its ACK at t + 70 ms: the
	 * entry moves past t + 40 ms and fires once, then. */
	inject(f, f->peer_seq, f->our_iss + 1 + 305, TCP_ACK | TCP_PSH,
	       PEER_WND, data, 10);
	f->peer_seq += 10;
	advance(f, 10 * MS);
	assert_int_equal(gw_tcp_send(c, chain_of(data + 305, 5, 5)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.len, 5);
	assert_int_equal(o.ack, f->peer_seq);
	cap_clear(&f->cap);
	advance(f, 20 * MS);
	inject(f, f->peer_seq, f->our_iss + 1 + 310, TCP_ACK | TCP_PSH,
	       PEER_WND, data, 10);
	f->peer_seq += 10;
	t_in = f->now;
	advance(f, 9 * MS);
	assert_int_equal(f->cap.n, 0);
	advance(f, 2 * MS);             /* past the stale entry */
	assert_int_equal(f->cap.n, 0);
	poll_at(f, t_in + 39 * MS);
	assert_int_equal(f->cap.n, 0);
	poll_at(f, t_in + 41 * MS);
	assert_int_equal(f->cap.n, 1);
	out(f, 0, &o);
	assert_int_equal(o.flags, TCP_ACK);
	assert_int_equal(o.len, 0);
	assert_int_equal(o.ack, f->peer_seq);
	fix_free(f);
}

/* Headers of a connection's segments come from its template: every field
 * checked against what frame_start() writes, with checksum offload (the
 * pseudo-header sum from the template's precomputed part). */
static void
test_segment_headers_from_template(void **state)
{
	struct fix *f = fix_new(offload);
	struct gw_tcp_conn *c;
	uint8_t data[2 * MSS];
	uint16_t ids[2];

	(void)state;
	c = establish_passive(f);
	fill(data, sizeof(data), 13);
	/* Two segments in: a pure ACK out (tcp_send_ctl()); then data. */
	inject(f, f->peer_seq, f->peer_ack, TCP_ACK, PEER_WND, data, MSS);
	inject(f, f->peer_seq + MSS, f->peer_ack, TCP_ACK, PEER_WND,
	       data + MSS, MSS);
	f->peer_seq += 2 * MSS;
	advance(f, 0);
	assert_int_equal(f->cap.n, 1);
	assert_int_equal(gw_tcp_send(c, chain_of(data, 700, 700)), 0);
	advance(f, 0);
	assert_int_equal(f->cap.n, 2);
	for (unsigned int i = 0; i < 2; i++) {
		struct rte_mbuf *m = f->cap.m[i];
		const uint8_t *e = rte_pktmbuf_mtod(m, const uint8_t *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(e + 14);
		const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
		static const uint8_t zero[12];

		assert_int_equal(rte_pktmbuf_data_len(m), 54);
		assert_memory_equal(e, zero, 12);
		assert_int_equal(e[12], 0x08);
		assert_int_equal(e[13], 0x00);
		assert_int_equal(ip->version_ihl, 0x45);
		assert_int_equal(ip->type_of_service, 0);
		assert_int_equal(rte_be_to_cpu_16(ip->total_length),
				 rte_pktmbuf_pkt_len(m) - 14);
		assert_int_equal(rte_be_to_cpu_16(ip->fragment_offset),
				 RTE_IPV4_HDR_DF_FLAG);
		assert_int_equal(ip->time_to_live, 64);
		assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
		assert_int_equal(ip->hdr_checksum, 0);    /* offloaded */
		assert_int_equal(ip->src_addr, OUR_IP);
		assert_int_equal(ip->dst_addr, PEER_IP);
		ids[i] = rte_be_to_cpu_16(ip->packet_id);
		assert_int_equal(rte_be_to_cpu_16(th->src_port), OUR_PORT);
		assert_int_equal(rte_be_to_cpu_16(th->dst_port), f->peer_port);
		assert_int_equal(rte_be_to_cpu_32(th->recv_ack), f->peer_seq);
		assert_int_equal(th->data_off, 0x50);
		assert_int_equal(th->tcp_urp, 0);
		assert_int_equal(th->tcp_flags,
				 i == 0 ? TCP_ACK : TCP_ACK | TCP_PSH);
		assert_int_equal(th->cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags));
		assert_true(m->ol_flags == (RTE_MBUF_F_TX_IPV4 |
					    RTE_MBUF_F_TX_IP_CKSUM |
					    RTE_MBUF_F_TX_TCP_CKSUM));
		assert_int_equal(m->l2_len, 14);
		assert_int_equal(m->l3_len, 20);
		assert_int_equal(m->l4_len, 20);
		assert_int_equal(m->nb_segs, i == 0 ? 1 : 2);
		assert_int_equal(rte_pktmbuf_pkt_len(m), 54 + (i == 0 ? 0 : 700));
	}
	assert_int_equal((uint16_t)(ids[0] + 1), ids[1]);
	fix_free(f);
}

/* tcp_phdr_cksum() against rte_ipv4_phdr_cksum(), and tcp_payload_cut()
 * against tcp_mbuf_cut(). */
static void
test_phdr_cksum_and_payload_cut(void **state)
{
	static const uint32_t edge[] = { 0, 1, 0xffff, 0x10000, 0xffffffffu,
					 0x7fffffffu, 0x0000ffffu, 0xffff0000u };
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (unsigned int i = 0; i < 200000; i++) {
		struct rte_ipv4_hdr ip;
		uint32_t l4;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memset(&ip, 0, sizeof(ip));
		ip.version_ihl = 0x45;
		ip.next_proto_id = IPPROTO_TCP;
		if (i < 64 * 8) {
			ip.src_addr = edge[i % 8];
			ip.dst_addr = edge[(i / 8) % 8];
			l4 = i < 64 * 4 ? 0 : 65535 - 20;
		} else {
			ip.src_addr = (uint32_t)x;
			ip.dst_addr = (uint32_t)(x >> 32);
			l4 = (uint32_t)(x >> 21) % (65536 - 20);
		}
		ip.total_length = rte_cpu_to_be_16((uint16_t)(20 + l4));
		assert_int_equal(tcp_phdr_cksum(tcp_phdr_sum(ip.src_addr,
							     ip.dst_addr), l4),
				 rte_ipv4_phdr_cksum(&ip, 0));
	}

	for (uint32_t off = 0; off <= 100; off += 3) {
		for (uint32_t len = 0; off + len <= 100; len++) {
			struct rte_mbuf *a = rte_pktmbuf_alloc(pool);
			struct rte_mbuf *b = rte_pktmbuf_alloc(pool);

			assert_non_null(a);
			assert_non_null(b);
			assert_non_null(rte_pktmbuf_append(a, 100));
			assert_non_null(rte_pktmbuf_append(b, 100));
			a = tcp_mbuf_cut(a, off, len);
			b = tcp_payload_cut(b, off, len);
			if (len == 0) {
				assert_null(a);
				assert_null(b);
				continue;
			}
			assert_non_null(a);
			assert_non_null(b);
			assert_int_equal(b->data_off, a->data_off);
			assert_int_equal(b->data_len, a->data_len);
			assert_int_equal(b->pkt_len, a->pkt_len);
			assert_int_equal(b->nb_segs, a->nb_segs);
			assert_null(b->next);
			rte_pktmbuf_free(a);
			rte_pktmbuf_free(b);
		}
	}
	/* A chain takes the general path. */
	{
		static uint8_t data[3000], buf[3000];
		struct rte_mbuf *m;

		fill(data, sizeof(data), 17);
		m = tcp_payload_cut(chain_of(data, sizeof(data), 1000), 54, 2500);
		assert_non_null(m);
		assert_int_equal(rte_pktmbuf_pkt_len(m), 2500);
		assert_int_equal(m->nb_segs, 3);
		assert_memory_equal(rte_pktmbuf_read(m, 0, 2500, buf), data + 54,
				    2500);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* ------------------------------------------------------------------ */
/* two stacks back to back                                             */
/* ------------------------------------------------------------------ */

#define WIRE_MAX 8192
#define XFER     (4u << 20)

struct wire {
	struct gw_tcp_stack *to;
	unsigned int n;
	struct rte_mbuf *m[WIRE_MAX];
	uint64_t due[WIRE_MAX];
	uint64_t *now;
	uint32_t rng;
	unsigned int loss_pct, reorder_pct;
	uint64_t sent, lost, pure;
};

static uint32_t
rng_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Clock ticks per microsecond and start time of the loopback runs. */
static uint64_t lb_tick = 1;
static uint64_t lb_t0 = T0;

static void
wire_xmit(void *arg, unsigned int port_index, uint32_t next_hop,
	  struct rte_mbuf *m)
{
	struct wire *w = arg;
	uint64_t delay = 500 * US * lb_tick;

	(void)port_index;
	(void)next_hop;
	w->sent++;
	if (getenv("TCP_TRACE2") != NULL) {
		const struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m,
			const struct rte_tcp_hdr *, 34);

		print_message("  %.6f %s seq %u ack %u len %u fl %02x wnd %u\n",
			(double)(*w->now - lb_t0) / SEC / lb_tick, w->to == NULL ? "?" : "x",
			rte_be_to_cpu_32(th->sent_seq), rte_be_to_cpu_32(th->recv_ack),
			rte_pktmbuf_pkt_len(m) - 54, th->tcp_flags,
			rte_be_to_cpu_16(th->rx_win));
	}
	if (rte_pktmbuf_pkt_len(m) == 54)
		w->pure++;
	if (rng_next(&w->rng) % 100 < w->loss_pct || w->n == WIRE_MAX) {
		w->lost++;
		rte_pktmbuf_free(m);
		return;
	}
	if (rng_next(&w->rng) % 100 < w->reorder_pct)
		delay += (rng_next(&w->rng) % 2000) * US * lb_tick;
	w->m[w->n] = m;
	w->due[w->n] = *w->now + delay;
	w->n++;
}

/* Deliver every frame due by now, earliest first. */
static unsigned int
wire_deliver(struct wire *w, uint64_t now)
{
	unsigned int delivered = 0;

	for (;;) {
		unsigned int best = UINT32_MAX;

		for (unsigned int i = 0; i < w->n; i++)
			if (w->due[i] <= now && (best == UINT32_MAX ||
						 w->due[i] < w->due[best]))
				best = i;
		if (best == UINT32_MAX)
			return delivered;
		{
			struct rte_mbuf *m = w->m[best];
			struct gw_net_result res;
			const struct rte_ipv4_hdr *ip =
				rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, 14);

			/* Keep the order of equal due times: no accidental
			 * reordering on a clean wire. */
			memmove(&w->m[best], &w->m[best + 1],
				(w->n - best - 1) * sizeof(w->m[0]));
			memmove(&w->due[best], &w->due[best + 1],
				(w->n - best - 1) * sizeof(w->due[0]));
			w->n--;
			memset(&res, 0, sizeof(res));
			res.verdict = GW_NET_TCP;
			res.l3_offset = 14;
			res.l4_offset = 34;
			res.l4_len = (uint16_t)(rte_be_to_cpu_16(ip->total_length) - 20);
			gw_tcp_input(w->to, 0, m, &res);
			delivered++;
		}
	}
}

static uint64_t
wire_next_due(const struct wire *w)
{
	uint64_t t = UINT64_MAX;

	for (unsigned int i = 0; i < w->n; i++)
		if (w->due[i] < t)
			t = w->due[i];
	return t;
}

/* One endpoint of the transfer. */
struct peer_app {
	struct gw_tcp_conn *c;
	const uint8_t *tx;
	uint32_t tx_off;
	uint8_t *rx;
	uint32_t rx_len;
	bool fin_seen, shut;
	unsigned int closed;
	enum gw_tcp_close_reason reason;
	uint32_t seed;
};

static void
pa_pump(struct peer_app *a)
{
	if (a->c == NULL || a->closed)
		return;
	while (a->tx_off < XFER) {
		uint32_t want = 1 + rng_next(&a->seed) % 6000;
		uint32_t space = gw_tcp_send_space(a->c);
		struct rte_mbuf *m;

		if (want > XFER - a->tx_off)
			want = XFER - a->tx_off;
		if (space < want)
			break;
		m = chain_of(a->tx + a->tx_off, want, 1 + rng_next(&a->seed) % 2000);
		assert_int_equal(gw_tcp_send(a->c, m), 0);
		a->tx_off += want;
	}
	if (a->tx_off == XFER && !a->shut) {
		a->shut = true;
		gw_tcp_shutdown(a->c);
	}
}

static void
pa_established(struct gw_tcp_conn *c, void *ctx)
{
	struct peer_app *a = ctx;

	a->c = c;
	pa_pump(a);
}

static void
pa_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct peer_app *a = ctx;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *p;

	assert_true(a->rx_len + len <= XFER);
	p = rte_pktmbuf_read(m, 0, len, a->rx + a->rx_len);
	if (p != a->rx + a->rx_len)
		memcpy(a->rx + a->rx_len, p, len);
	a->rx_len += len;
	rte_pktmbuf_free(m);
	gw_tcp_recv_consumed(c, len);
}

static void
pa_writable(struct gw_tcp_conn *c, void *ctx)
{
	(void)c;
	pa_pump(ctx);
}

static void
pa_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct peer_app *a = ctx;

	(void)c;
	a->fin_seen = true;
}

static void
pa_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason r)
{
	struct peer_app *a = ctx;

	(void)c;
	a->closed++;
	a->reason = r;
	a->c = NULL;
}

static const struct gw_tcp_callbacks pa_cb = {
	.on_established = pa_established,
	.on_data = pa_data,
	.on_writable = pa_writable,
	.on_fin = pa_fin,
	.on_closed = pa_closed,
};

static void *
pa_accept(void *listener_ctx, struct gw_tcp_conn *c,
	  const struct gw_tcp_callbacks **cb)
{
	struct peer_app *a = listener_ctx;

	a->c = c;
	*cb = &pa_cb;
	return a;
}

static void
run_loopback(unsigned int loss_pct, unsigned int reorder_pct, uint32_t seed)
{
	static uint8_t ctx_data[XFER], stx_data[XFER];
	static struct peer_app ca, sa;
	static struct wire to_srv, to_cli;
	static uint8_t crx[XFER], srx[XFER];
	struct gw_tcp_port cport = { .mtu = 1500, .tx_multi_seg = true };
	struct gw_tcp_port sport = { .mtu = 1500, .tx_multi_seg = true };
	struct gw_tcp_stack_params p = {
		.n_workers = 1, .max_conns = 16, .syn_backlog = 16,
		.timewait_max = 4, .rcvbuf = 256 * 1024, .sndbuf = 256 * 1024,
		.reasm_segments = 1024, .connect_timeout_ms = 5000,
		.tsc_hz = SEC * lb_tick, .start_tsc = lb_t0, .pool = pool,
		.n_ports = 1, .xmit = wire_xmit,
	};
	struct gw_tcp_stack *cs, *ss;
	unsigned int in_use = rte_mempool_in_use_count(pool);
	uint64_t now = lb_t0;
	unsigned long steps = 0;

	cport.iface.addr = PEER_IP;
	cport.iface.prefix_len = 24;
	sport.iface.addr = OUR_IP;
	sport.iface.prefix_len = 24;
	fill(ctx_data, XFER, seed);
	fill(stx_data, XFER, seed + 1);
	memset(&ca, 0, sizeof(ca));
	memset(&sa, 0, sizeof(sa));
	memset(&to_srv, 0, sizeof(to_srv));
	memset(&to_cli, 0, sizeof(to_cli));
	ca.tx = ctx_data;
	ca.rx = crx;
	ca.seed = seed + 2;
	sa.tx = stx_data;
	sa.rx = srx;
	sa.seed = seed + 3;

	p.ports = &cport;
	p.xmit_arg = &to_srv;
	cs = gw_tcp_stack_create(&p);
	p.ports = &sport;
	p.xmit_arg = &to_cli;
	ss = gw_tcp_stack_create(&p);
	assert_non_null(cs);
	assert_non_null(ss);
	to_srv.to = ss;
	to_cli.to = cs;
	to_srv.now = to_cli.now = &now;
	to_srv.rng = seed * 7 + 1;
	to_cli.rng = seed * 13 + 5;
	to_srv.loss_pct = to_cli.loss_pct = loss_pct;
	to_srv.reorder_pct = to_cli.reorder_pct = reorder_pct;

	assert_int_equal(gw_tcp_listen(ss, OUR_IP, 8080, pa_accept, &sa), 0);
	assert_non_null(gw_tcp_connect(cs, 0, OUR_IP, 8080, &pa_cb, &ca));

	while (steps < 5000000) {
		uint64_t next;

		steps++;
		wire_deliver(&to_srv, now);
		wire_deliver(&to_cli, now);
		gw_tcp_poll(cs, now);
		gw_tcp_poll(ss, now);
		pa_pump(&ca);
		pa_pump(&sa);
		gw_tcp_poll(cs, now);
		gw_tcp_poll(ss, now);
		if (ca.closed && sa.closed)
			break;
		/* Jump to the next event: a frame landing or a timer. */
		next = wire_next_due(&to_srv);
		next = RTE_MIN(next, wire_next_due(&to_cli));
		next = RTE_MIN(next, gw_tcp_next_expiry(cs));
		next = RTE_MIN(next, gw_tcp_next_expiry(ss));
		if (next == UINT64_MAX)
			break;
		if (getenv("TCP_TRACE") != NULL && next - now > 50 * MS && sa.c && ca.c)
			print_message("   srv rcv_nxt %u adv %u held %u reasm %u/%u | cli rcv_nxt %u adv %u held %u reasm %u/%u\n",
				sa.c->rcv_nxt, sa.c->rcv_adv, sa.c->rcv_held, sa.c->reasm.bytes, sa.c->reasm.count,
				ca.c->rcv_nxt, ca.c->rcv_adv, ca.c->rcv_held, ca.c->reasm.bytes, ca.c->reasm.count);
		if (getenv("TCP_TRACE") != NULL && next - now > 50 * MS)
			print_message("jump %.3f -> %.3f c: tx %u rx %u st %s snd %u/%u/%u wnd %u cwnd %u q %u s: tx %u rx %u st %s snd %u/%u/%u wnd %u cwnd %u q %u\n",
				(double)(now - lb_t0) / SEC / lb_tick, (double)(next - lb_t0) / SEC / lb_tick,
				ca.tx_off, ca.rx_len, ca.c ? gw_tcp_state_name(ca.c->state) : "-",
				ca.c ? ca.c->snd_una : 0, ca.c ? ca.c->snd_nxt : 0, ca.c ? ca.c->snd_max : 0,
				ca.c ? ca.c->snd_wnd : 0, ca.c ? ca.c->cwnd : 0, ca.c ? ca.c->sq_bytes : 0,
				sa.tx_off, sa.rx_len, sa.c ? gw_tcp_state_name(sa.c->state) : "-",
				sa.c ? sa.c->snd_una : 0, sa.c ? sa.c->snd_nxt : 0, sa.c ? sa.c->snd_max : 0,
				sa.c ? sa.c->snd_wnd : 0, sa.c ? sa.c->cwnd : 0, sa.c ? sa.c->sq_bytes : 0);
		now = next > now ? next : now + 1;
		if (now > lb_t0 + 3600 * SEC * lb_tick)
			break;
	}
	if (!(ca.closed && sa.closed))
		print_message("stuck: steps %lu t=%.3fs c: tx %u rx %u closed %u"
			      " s: tx %u rx %u closed %u\n", steps,
			      (double)(now - lb_t0) / SEC / lb_tick, ca.tx_off, ca.rx_len,
			      ca.closed, sa.tx_off, sa.rx_len, sa.closed);
	assert_int_equal(ca.closed, 1);
	assert_int_equal(sa.closed, 1);
	assert_int_equal(ca.reason, GW_TCP_CLOSED_NORMAL);
	assert_int_equal(sa.reason, GW_TCP_CLOSED_NORMAL);
	assert_true(ca.fin_seen && sa.fin_seen);
	assert_int_equal(ca.rx_len, XFER);
	assert_int_equal(sa.rx_len, XFER);
	assert_memory_equal(crx, stx_data, XFER);
	assert_memory_equal(srx, ctx_data, XFER);
	assert_int_equal(gw_tcp_stack_stats(cs)->copied_bytes, 0);
	assert_int_equal(gw_tcp_stack_stats(ss)->copied_bytes, 0);
	if (loss_pct != 0) {
		assert_true(to_srv.lost + to_cli.lost > 0);
		assert_true(gw_tcp_stack_stats(cs)->retransmits +
			    gw_tcp_stack_stats(ss)->retransmits > 0);
	}
	print_message("loopback loss %u%% reorder %u%%: %.2f s simulated, "
		      "%lu steps, frames %lu (pure ACKs %lu) lost %lu, rtx c %lu s %lu, "
		      "fast rtx c %lu s %lu, rto c %lu s %lu\n",
		      loss_pct, reorder_pct, (double)(now - lb_t0) / SEC / lb_tick, steps,
		      (unsigned long)(to_srv.sent + to_cli.sent),
		      (unsigned long)(to_srv.pure + to_cli.pure),
		      (unsigned long)(to_srv.lost + to_cli.lost),
		      (unsigned long)gw_tcp_stack_stats(cs)->retransmits,
		      (unsigned long)gw_tcp_stack_stats(ss)->retransmits,
		      (unsigned long)gw_tcp_stack_stats(cs)->fast_retransmits,
		      (unsigned long)gw_tcp_stack_stats(ss)->fast_retransmits,
		      (unsigned long)gw_tcp_stack_stats(cs)->rto_timeouts,
		      (unsigned long)gw_tcp_stack_stats(ss)->rto_timeouts);
	/* Drain what is still on the wire, then free (TIME_WAIT included). */
	for (unsigned int i = 0; i < to_srv.n; i++)
		rte_pktmbuf_free(to_srv.m[i]);
	for (unsigned int i = 0; i < to_cli.n; i++)
		rte_pktmbuf_free(to_cli.m[i]);
	gw_tcp_stack_free(cs);
	gw_tcp_stack_free(ss);
	assert_int_equal(rte_mempool_in_use_count(pool), in_use);
}

static void
test_loopback_clean(void **state)
{
	(void)state;
	run_loopback(0, 0, 1);
}

/* A 2.5 GHz TSC ten days after boot: products of TSC values must not
 * overflow (ISN clock, RTO and RTT conversions). */
static void
test_loopback_real_clock(void **state)
{
	(void)state;
	lb_tick = 2500;
	lb_t0 = 10ull * 86400 * SEC * lb_tick;
	run_loopback(2, 5, 7);
	lb_tick = 1;
	lb_t0 = T0;
}

static void
test_loopback_lossy(void **state)
{
	const char *env = getenv("TCP_LOOPBACK_SEEDS");
	unsigned int n = env != NULL ? (unsigned int)atoi(env) : 3;
	const char *lenv = getenv("TCP_LOOPBACK_LOSS");
	unsigned int loss = lenv != NULL ? (unsigned int)atoi(lenv) : 5;

	const char *senv = getenv("TCP_LOOPBACK_SEED0");
	unsigned int seed0 = senv != NULL ? (unsigned int)atoi(senv) : 2;

	(void)state;
	for (unsigned int seed = seed0; seed < seed0 + n; seed++)
		run_loopback(loss, 5, seed);
}

/* ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
	/* --in-memory conflicts with --no-huge on DPDK 22.11 (it implies
	 * legacy memory): --no-shconf and a private prefix do the job. */
	char *argv[] = { "test_tcp", "--no-huge", "--no-pci", "--no-shconf",
			 "-m", "256", "--no-telemetry", "-l", "0",
			 "--file-prefix=test_tcp", "--log-level=lib.eal:error" };

	(void)state;
	if (rte_eal_init((int)GW_ARRAY_SIZE(argv), argv) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("test_tcp", 32767, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	return pool == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_clone_and_cut),
		cmocka_unit_test(test_passive_handshake),
		cmocka_unit_test(test_peer_without_options),
		cmocka_unit_test(test_active_open),
		cmocka_unit_test(test_source_port_and_owner),
		cmocka_unit_test(test_source_port_range),
		cmocka_unit_test(test_active_open_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_data_in_delayed_ack),
		cmocka_unit_test(test_data_in_two_segments_ack_now),
		cmocka_unit_test(test_data_out_segments),
		cmocka_unit_test(test_data_out_no_mbuf),
		cmocka_unit_test(test_data_out_linearised),
		cmocka_unit_test(test_data_out_lent_queue),
		cmocka_unit_test(test_data_out_lent_no_mbuf),
		cmocka_unit_test(test_data_out_not_lent),
		cmocka_unit_test(test_checksum_offload_flags),
		cmocka_unit_test(test_retransmit_backoff),
		cmocka_unit_test(test_retransmit_gives_up),
		cmocka_unit_test(test_fast_retransmit),
		cmocka_unit_test(test_window_closes_and_reopens),
		cmocka_unit_test(test_zero_window_probes),
		cmocka_unit_test(test_send_buffer_and_writable),
		cmocka_unit_test(test_passive_close),
		cmocka_unit_test(test_active_close_timewait),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_timewait_bounded),
		cmocka_unit_test(test_timewait_reused_by_new_syn),
		cmocka_unit_test(test_rst_exact_in_states),
		cmocka_unit_test(test_rst_in_syn_rcvd),
		cmocka_unit_test(test_rst_in_window_challenge),
		cmocka_unit_test(test_challenge_ack_rate_limit),
		cmocka_unit_test(test_bad_acks),
		cmocka_unit_test(test_out_of_window_data),
		cmocka_unit_test(test_no_listener_rst),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_out_of_order_fin),
		cmocka_unit_test(test_reassembly_limit),
		cmocka_unit_test(test_syn_cookies),
		cmocka_unit_test(test_synack_retransmits),
		cmocka_unit_test(test_max_conns),
		cmocka_unit_test(test_accept_refused),
		cmocka_unit_test(test_abort_from_callback),
		cmocka_unit_test(test_stack_free_notifies),
		cmocka_unit_test(test_clock_conversions),
		cmocka_unit_test(test_timers_rearmed_after_lazy_cancel),
		cmocka_unit_test(test_segment_headers_from_template),
		cmocka_unit_test(test_phdr_cksum_and_payload_cut),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_table_churn),
		cmocka_unit_test(test_loopback_clean),
		cmocka_unit_test(test_loopback_real_clock),
		cmocka_unit_test(test_loopback_lossy),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
