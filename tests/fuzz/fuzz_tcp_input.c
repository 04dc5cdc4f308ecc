/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for gw_tcp_input(): segments on an ESTABLISHED
 * connection and on a listener, with time jumps and application calls in
 * between, so that the fuzzer walks the state machine rather than the
 * header parser alone.
 *
 * Each input gets a fresh stack (listener on port 80) and a connection
 * set up by a clean handshake. The input is then a script of records,
 * each starting with an opcode byte (taken modulo the number of ops):
 *
 *   0 SEG   to the connection: flags:1 seq_off:4 ack_off:4 wnd:2
 *           optlen:1 opts payload_len:2 payload (seq/ack relative to the
 *           peer's next sequence number and our ISN + 1; a flag bit 0x80
 *           of optlen corrupts the checksum)
 *   1 SYN   to the listener from port 40001 + (byte & 15): same fields
 *   2 TIME  advance the clock: ms:2
 *   3 APP   action:1 len:2 (send len bytes, shutdown, abort,
 *           recv_consumed, connect)
 *   4 RAW   len:2 bytes: a raw frame through gw_net_input(), and to
 *           gw_tcp_input() when lib/net says TCP
 *
 * Everything the stack sends is decoded and checked (lengths, software
 * checksums); every mbuf must be back in the pool after the stack is
 * freed. Missing bytes read as zero. Sent frames are held as a PMD's TX
 * ring holds them (the last few, until the clock moves; the stack's free
 * comes before theirs) and checked again when let go: a frame that chains
 * queued mbufs themselves must not change while the stack goes on.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "gw_net.h"
#include "gw_tcp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define IPV4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
			  (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#else
#define IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			  (uint32_t)(c) << 8 | (uint32_t)(d))
#endif

#define OUR_IP    IPV4(10, 0, 0, 1)
#define PEER_IP   IPV4(10, 0, 0, 2)
#define PEER_PORT 40000
#define HZ        1000000ull   /* clock in microseconds */

static struct rte_mempool *pool;
static const struct gw_net_iface ifc = {
	.mac = { 0x02, 0, 0, 0, 0, 1 },
	.addr = OUR_IP,
	.prefix_len = 24,
	.gateway = IPV4(10, 0, 0, 254),
};

/* ---- input cursor ---- */

struct cursor {
	const uint8_t *p;
	size_t left;
};

static uint32_t
take(struct cursor *c, unsigned int n)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		v <<= 8;
		if (c->left != 0) {
			v |= *c->p++;
			c->left--;
		}
	}
	return v;
}

static void
take_bytes(struct cursor *c, uint8_t *out, size_t n)
{
	size_t k = n < c->left ? n : c->left;

	memcpy(out, c->p, k);
	memset(out + k, 0, n - k);
	c->p += k;
	c->left -= k;
}

/* ---- what the stack sends ---- */

static uint32_t last_synack_seq;
static unsigned int frames_out;

/* @p sent: just sent (not a held frame let go): note a SYN-ACK's ISN. */
static void
check_frame(struct rte_mbuf *m, bool sent)
{
	static uint8_t buf[65536];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *f;
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *th;
	uint32_t hlen;

	const struct rte_mbuf *seg;
	uint32_t sum_len = 0;
	uint16_t nb = 0;

	if (len < 54 || len > sizeof(buf))
		abort();
	/* The chain is what the head says. */
	for (seg = m; seg != NULL; seg = seg->next) {
		sum_len += seg->data_len;
		nb++;
	}
	if (nb != m->nb_segs || sum_len != len)
		abort();
	f = rte_pktmbuf_read(m, 0, len, buf);
	ip = (const struct rte_ipv4_hdr *)(f + 14);
	th = (const struct rte_tcp_hdr *)(f + 34);
	hlen = (th->data_off >> 4) * 4u;
	if (rte_be_to_cpu_16(ip->total_length) != len - 14 || hlen < 20 ||
	    34 + hlen > len)
		abort();
	if (gw_net_cksum_raw(ip, 20, 0) != 0xffff)
		abort();
	{
		uint8_t psd[12];
		uint32_t l4 = len - 34;

		memcpy(psd, &ip->src_addr, 4);
		memcpy(psd + 4, &ip->dst_addr, 4);
		psd[8] = 0;
		psd[9] = IPPROTO_TCP;
		psd[10] = (uint8_t)(l4 >> 8);
		psd[11] = (uint8_t)l4;
		if (gw_net_cksum_raw(th, l4, gw_net_cksum_raw(psd, 12, 0)) != 0xffff)
			abort();
	}
	if (sent && (th->tcp_flags & 0x12) == 0x12)
		last_synack_seq = rte_be_to_cpu_32(th->sent_seq);
}

/* Frames "in the TX ring": checked when sent and again when freed. */
#define HELD_MAX 8
static struct rte_mbuf *held[HELD_MAX];
static unsigned int n_held;

static void
held_release(void)
{
	for (unsigned int i = 0; i < n_held; i++) {
		check_frame(held[i], false);
		rte_pktmbuf_free(held[i]);
	}
	n_held = 0;
}

static void
xmit(void *arg, unsigned int port_index, uint32_t next_hop, struct rte_mbuf *m)
{
	(void)arg;
	(void)port_index;
	(void)next_hop;
	frames_out++;
	check_frame(m, true);
	if (n_held == HELD_MAX)
		held_release();
	held[n_held++] = m;
}

/* ---- the application ---- */

static struct gw_tcp_conn *conn;
static struct gw_tcp_stack *stack;

static void
on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);

	(void)ctx;
	rte_pktmbuf_free(m);
	/* Consume every other delivery at once; hold the rest. */
	if (len & 1)
		gw_tcp_recv_consumed(c, len);
}

static void
on_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason r)
{
	(void)ctx;
	(void)r;
	if (c == conn)
		conn = NULL;
}

static const struct gw_tcp_callbacks cbs = {
	.on_data = on_data,
	.on_closed = on_closed,
};

static void *
accept_fn(void *lctx, struct gw_tcp_conn *c, const struct gw_tcp_callbacks **cb)
{
	(void)lctx;
	if (conn == NULL)
		conn = c;
	*cb = &cbs;
	return &conn;
}

/* ---- segments ---- */

static void
segment(uint16_t sport, uint32_t seq, uint32_t ack, uint8_t flags,
	uint16_t wnd, const uint8_t *opts, unsigned int optlen,
	const uint8_t *payload, unsigned int plen, bool corrupt)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	unsigned int hlen = 20 + (optlen & ~3u);
	unsigned int total = 34 + hlen + plen;
	struct gw_net_result res;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint8_t psd[12];
	uint8_t *p;

	if (m == NULL)
		return;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)total);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memset(p, 0, 34);
	p[12] = 0x08;
	ip = (struct rte_ipv4_hdr *)(p + 14);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + hlen + plen));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = PEER_IP;
	ip->dst_addr = OUR_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(80);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((hlen / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (hlen > 20)
		memcpy(th + 1, opts, hlen - 20);
	if (plen != 0)
		memcpy((uint8_t *)th + hlen, payload, plen);
	memcpy(psd, &ip->src_addr, 4);
	memcpy(psd + 4, &ip->dst_addr, 4);
	psd[8] = 0;
	psd[9] = IPPROTO_TCP;
	psd[10] = (uint8_t)((hlen + plen) >> 8);
	psd[11] = (uint8_t)(hlen + plen);
	th->cksum = (uint16_t)~gw_net_cksum_raw(th, hlen + plen,
						 gw_net_cksum_raw(psd, 12, 0));
	if (corrupt)
		th->cksum ^= 0x0101;
	memset(&res, 0, sizeof(res));
	res.verdict = GW_NET_TCP;
	res.l3_offset = 14;
	res.l4_offset = 34;
	res.l4_len = (uint16_t)(hlen + plen);
	gw_tcp_input(stack, 0, m, &res);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz_tcp_input", "--no-huge", "--no-pci",
			"--no-shconf", "-m", "256", "--no-telemetry", "-l", "0",
			"--file-prefix=fuzz_tcp", "--log-level=lib.eal:error" };

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz_tcp", 8191, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	static uint8_t payload[65536];
	struct gw_tcp_port port = {
		.iface = ifc, .mtu = 1500, .tx_multi_seg = true,
	};
	struct gw_tcp_stack_params p = {
		.n_workers = 2, .worker_id = 0, .max_conns = 8,
		.syn_backlog = 2, .timewait_max = 2, .rcvbuf = 16384,
		.sndbuf = 16384, .reasm_segments = 8,
		.connect_timeout_ms = 2000, .tsc_hz = HZ, .start_tsc = HZ,
		.pool = pool, .n_ports = 1, .ports = &port, .xmit = xmit,
		.challenge_ack_limit = 5,
	};
	struct cursor cur = { data, size };
	uint64_t now = HZ;
	uint32_t peer = 1000, iss;
	int ops = 0;

	conn = NULL;
	stack = gw_tcp_stack_create(&p);
	if (stack == NULL)
		abort();
	gw_tcp_listen(stack, 0, 80, accept_fn, NULL);
	segment(PEER_PORT, peer, 0, 0x02, 65535, syn_opts, sizeof(syn_opts),
		NULL, 0, false);
	iss = last_synack_seq;
	segment(PEER_PORT, peer + 1, iss + 1, 0x10, 512, NULL, 0, NULL, 0, false);
	if (conn == NULL)
		abort();
	peer++;

	while (cur.left != 0 && ops++ < 256) {
		uint8_t op = (uint8_t)(take(&cur, 1) % 5);

		switch (op) {
		case 0:
		case 1: {
			uint16_t sport = PEER_PORT;
			uint8_t flags, optlen, opts[40];
			uint32_t seq, ack;
			uint16_t wnd, plen;

			if (op == 1)
				sport = (uint16_t)(40001 + (take(&cur, 1) & 15));
			flags = (uint8_t)take(&cur, 1);
			seq = peer + take(&cur, 4);
			ack = iss + 1 + take(&cur, 4);
			wnd = (uint16_t)take(&cur, 2);
			optlen = (uint8_t)take(&cur, 1);
			take_bytes(&cur, opts, (optlen & 0x3f) > 40 ? 40 : optlen & 0x3f);
			plen = (uint16_t)(take(&cur, 2) % 1461);
			take_bytes(&cur, payload, plen);
			segment(sport, seq, ack, flags, wnd, opts,
				(optlen & 0x3f) > 40 ? 40 : optlen & 0x3f,
				payload, plen, (optlen & 0x80) != 0);
			/* Follow the stream when the fuzzer sends in order. */
			if (op == 0 && seq == peer)
				peer += plen;
			break;
		}
		case 2:
			now += (uint64_t)take(&cur, 2) * 1000;
			held_release();
			break;
		case 3: {
			uint8_t act = (uint8_t)take(&cur, 1);
			uint16_t len = (uint16_t)take(&cur, 2);

			if (conn == NULL && (act & 7) != 4)
				break;
			switch (act & 7) {
			case 0: {
				struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

				if (m == NULL)
					break;
				if (rte_pktmbuf_append(m, (uint16_t)(len % 2000 + 1)) == NULL ||
				    gw_tcp_send(conn, m) != 0)
					rte_pktmbuf_free(m);
				break;
			}
			case 1:
				gw_tcp_shutdown(conn);
				break;
			case 2:
				gw_tcp_abort(conn);
				conn = NULL;
				break;
			case 3:
				gw_tcp_recv_consumed(conn, len);
				break;
			case 4:
				gw_tcp_connect(stack, 0, PEER_IP, (uint16_t)(len | 1),
					       &cbs, NULL);
				break;
			default:
				break;
			}
			break;
		}
		case 4: {
			uint16_t len = (uint16_t)(take(&cur, 2) % 1600);
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			struct gw_net_result res;
			uint8_t *f;

			if (m == NULL)
				break;
			f = (uint8_t *)rte_pktmbuf_append(m, len);
			if (f == NULL) {
				rte_pktmbuf_free(m);
				break;
			}
			take_bytes(&cur, f, len);
			if (gw_net_input(&ifc, f, len, &res) == GW_NET_TCP)
				gw_tcp_input(stack, 0, m, &res);
			else
				rte_pktmbuf_free(m);
			break;
		}
		default:
			break;
		}
		gw_tcp_poll(stack, now);
	}
	/* Let every timer run out, then tear down. */
	for (int i = 0; i < 8; i++) {
		now += 30 * HZ;
		gw_tcp_poll(stack, now);
	}
	gw_tcp_stack_free(stack);
	stack = NULL;
	held_release();
	if (rte_mempool_in_use_count(pool) != 0)
		abort();
	return 0;
}
