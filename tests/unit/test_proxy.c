/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/proxy: three real TCP stacks wired back to back in
 * memory (client stack <-> proxy stack <-> backend stack), on a virtual
 * clock. Frames pass through lib/net's classifier (so checksums and
 * headers are checked as on a wire) and may be lost, duplicated, reordered
 * and delayed. Checks: bytes arrive identical both ways for many sizes,
 * half-close in each direction, resets propagated from either side,
 * refused and timed-out upstream connects reset the client, no route and
 * a full session pool refuse the client, weighted splits hold, and a
 * backend that does not read closes the client's window with the memory
 * held bounded. Every mbuf is returned to the pool at the end of each test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
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
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gw_common.h"
#include "gw_config.h"
#include "gw_model.h"
#include "gw_net.h"
#include "gw_proxy.h"
#include "gw_route.h"
#include "gw_tcp.h"

#define IP4(a, b, c, d) htonl(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define HZ        UINT64_C(1000000000)        /* virtual TSC: nanoseconds */
#define MS(x)     ((uint64_t)(x) * UINT64_C(1000000))
#define TICK      UINT64_C(10000)             /* 10 us per loop iteration */
#define WIRE_MAX  65536u
#define MAX_APPS  128u
#define KiB       1024u
#define MiB       (1024u * 1024u)

static struct rte_mempool *pool;

/* ------------------------------------------------------------------ */
/* Routing: an echo service with two versions, a port without route, a */
/* refused port, two black holes (one with a DestinationRule timeout)   */
/* ------------------------------------------------------------------ */

static const char istio_yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: echo}\n"
	"spec:\n"
	"  hosts: [echo.test]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 9000, name: tcp, protocol: TCP, targetPort: 7000}]\n"
	"  endpoints:\n"
	"  - {address: 10.10.2.11, labels: {version: v1}}\n"
	"  - {address: 10.10.2.12, labels: {version: v2}}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: DestinationRule\n"
	"metadata: {name: echo}\n"
	"spec:\n"
	"  host: echo.test\n"
	"  subsets:\n"
	"  - {name: v1, labels: {version: v1}}\n"
	"  - {name: v2, labels: {version: v2}}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: refused}\n"
	"spec:\n"
	"  hosts: [refused.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 9002, name: tcp, protocol: TCP, targetPort: 7999}]\n"
	"  endpoints: [{address: 10.10.2.11}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: hole}\n"
	"spec:\n"
	"  hosts: [hole.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 9003, name: tcp, protocol: TCP, targetPort: 7000}]\n"
	"  endpoints: [{address: 10.10.2.99}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: DestinationRule\n"
	"metadata: {name: hole}\n"
	"spec:\n"
	"  host: hole.test\n"
	"  trafficPolicy:\n"
	"    connectionPool: {tcp: {connectTimeout: 200ms}}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: hole2}\n"
	"spec:\n"
	"  hosts: [hole2.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 9005, name: tcp, protocol: TCP, targetPort: 7000}]\n"
	"  endpoints: [{address: 10.10.2.98}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: VirtualService\n"
	"metadata: {name: l4}\n"
	"spec:\n"
	"  hosts: [echo.test]\n"
	"  tcp:\n"
	"  - match: [{port: 9000}]\n"
	"    route: [{destination: {host: echo.test, subset: v1, port: {number: 9000}}}]\n"
	"  - match: [{port: 9002}]\n"
	"    route: [{destination: {host: refused.test}}]\n"
	"  - match: [{port: 9003}]\n"
	"    route: [{destination: {host: hole.test}}]\n"
	"  - match: [{port: 9004}]\n"
	"    route:\n"
	"    - {destination: {host: echo.test, subset: v1}, weight: 80}\n"
	"    - {destination: {host: echo.test, subset: v2}, weight: 20}\n"
	"  - match: [{port: 9005}]\n"
	"    route: [{destination: {host: hole2.test}}]\n";

static const uint16_t listen_ports[] = {9000, 9001, 9002, 9003, 9004, 9005};

/* ------------------------------------------------------------------ */
/* The harness: nodes, wire, applications                              */
/* ------------------------------------------------------------------ */

enum { N_CLIENT = 0, N_PROXY, N_BACKEND, N_NODES };

struct node {
	struct gw_tcp_stack *s;
	struct gw_tcp_port ports[2];
	unsigned int n_ports;
};

struct frame {
	struct rte_mbuf *m;
	uint64_t due;
};

enum app_mode {
	APP_CLIENT,       /* sends to_send bytes, checks what comes back */
	APP_ECHO,         /* sends back what it receives, FIN after FIN */
	APP_SINK,         /* checks and consumes; after FIN sends to_send, FIN */
	APP_STALL,        /* holds everything it receives, consumes nothing */
	APP_RESET_AFTER,  /* consumes; aborts after reset_after bytes */
};

struct app {
	struct gw_tcp_conn *c;
	enum app_mode mode;
	uint64_t tx_seed, rx_seed;   /* patterns sent and expected */
	uint64_t to_send, sent;
	uint64_t rcvd;
	uint64_t reset_after;
	uint64_t mismatches;
	bool check_rx;
	bool shut_when_sent, shut;
	bool established, fin, closed;
	enum gw_tcp_close_reason reason;
	uint64_t closed_at;
	uint32_t local_ip;
	struct rte_mbuf **held;      /* echo backlog or stalled data */
	uint32_t n_held, cap_held;
	uint64_t held_bytes;
};

struct harness {
	struct node nodes[N_NODES];
	struct gw_l4_proxy *px;
	struct gw_model_store *store;
	struct gw_route_snapshot *snap;
	uint64_t now;
	struct frame wire[WIRE_MAX];
	uint32_t w_head, w_tail;
	struct rte_mbuf *reorder_held;
	/* impairments */
	uint32_t loss_ppm, dup_ppm, reorder_ppm;
	uint64_t delay;
	uint64_t rng;
	uint64_t lost, duplicated, reordered, undeliverable;
	/* applications */
	struct app apps[MAX_APPS];
	uint32_t n_apps;
	enum app_mode backend_mode;
	uint64_t backend_to_send;
	uint64_t backend_reset_after;
	uint32_t accepts_v1, accepts_v2;
	bool nic_cksum;              /* ports offload checksums to the wire */
};

static struct harness *H;

struct harness_params {
	uint32_t rcvbuf, sndbuf;
	uint32_t max_sessions;
	uint32_t connect_timeout_ms;       /* the proxy's */
	uint32_t stack_connect_timeout_ms; /* the stacks' */
	bool nic_cksum;                    /* checksum offload (else software) */
};

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Byte @p off of the stream with pattern @p seed. */
static inline uint8_t
pat(uint64_t seed, uint64_t off)
{
	return (uint8_t)(mix64((off >> 3) ^ (seed << 40)) >> ((off & 7) * 8));
}

static uint32_t
rng_ppm(void)
{
	H->rng = mix64(H->rng + 0x9e3779b97f4a7c15ULL);
	return (uint32_t)(H->rng % 1000000);
}

/* ---- wire ---- */

static void
wire_push(struct rte_mbuf *m, uint64_t due)
{
	if (H->w_tail - H->w_head >= WIRE_MAX) {
		rte_pktmbuf_free(m);
		H->lost++;
		return;
	}
	H->wire[H->w_tail % WIRE_MAX].m = m;
	H->wire[H->w_tail % WIRE_MAX].due = due;
	H->w_tail++;
}

static void
xmit(void *arg, unsigned int port_index, uint32_t next_hop, struct rte_mbuf *m)
{
	uint64_t due = H->now + H->delay;

	RTE_SET_USED(arg);
	RTE_SET_USED(port_index);
	RTE_SET_USED(next_hop);
	if (H->loss_ppm > 0 && rng_ppm() < H->loss_ppm) {
		rte_pktmbuf_free(m);
		H->lost++;
		return;
	}
	if (H->dup_ppm > 0 && rng_ppm() < H->dup_ppm) {
		struct rte_mbuf *d = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);

		if (d != NULL) {
			wire_push(d, due);
			H->duplicated++;
		}
	}
	if (H->reorder_ppm > 0 && H->reorder_held == NULL &&
	    rng_ppm() < H->reorder_ppm) {
		H->reorder_held = m; /* goes out after the next frame */
		H->reordered++;
		return;
	}
	wire_push(m, due);
	if (H->reorder_held != NULL) {
		wire_push(H->reorder_held, due);
		H->reorder_held = NULL;
	}
}

/* Which node and port own @p ip; -1 when nobody (a black hole). */
static int
wire_dest(uint32_t ip, unsigned int *port)
{
	unsigned int n, p;

	for (n = 0; n < N_NODES; n++)
		for (p = 0; p < H->nodes[n].n_ports; p++)
			if (H->nodes[n].ports[p].iface.addr == ip) {
				*port = p;
				return (int)n;
			}
	return -1;
}

/* Deliver one frame: linearise it (the wire copies), fill Ethernet, classify. */
static void
wire_deliver(struct rte_mbuf *m)
{
	struct rte_mbuf *f = rte_pktmbuf_alloc(pool);
	struct gw_net_result res;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct node *nd;
	unsigned int port;
	uint32_t len = rte_pktmbuf_pkt_len(m), dst;
	const void *src;
	uint8_t *data;
	int n;

	assert_non_null(f);
	data = (uint8_t *)rte_pktmbuf_append(f, (uint16_t)len);
	assert_non_null(data);
	src = rte_pktmbuf_read(m, 0, len, data);
	assert_non_null(src);
	if (src != data)
		memcpy(data, src, len);
	rte_pktmbuf_free(m);
	memcpy(&dst, data + GW_ETHER_HDR_LEN + 16, 4);
	n = wire_dest(dst, &port);
	if (n < 0) {
		H->undeliverable++;
		rte_pktmbuf_free(f);
		return;
	}
	nd = &H->nodes[n];
	eth = (struct rte_ether_hdr *)data;
	memcpy(eth->dst_addr.addr_bytes, nd->ports[port].iface.mac, 6);
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	if (H->nic_cksum) {
		/* the NIC's checksum offloads */
		ip = (struct rte_ipv4_hdr *)(data + GW_ETHER_HDR_LEN);
		th = (struct rte_tcp_hdr *)((uint8_t *)ip + rte_ipv4_hdr_len(ip));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	if (gw_net_input(&nd->ports[port].iface, data, (uint16_t)len, &res) !=
	    GW_NET_TCP)
		fail_msg("frame to node %d dropped by lib/net: %s", n,
			 gw_drop_reason_name(res.drop));
	gw_tcp_input(nd->s, port, f, &res);
}

/* ---- applications ---- */

static struct app *
app_new(enum app_mode mode)
{
	struct app *a;

	assert_true(H->n_apps < MAX_APPS);
	a = &H->apps[H->n_apps++];
	memset(a, 0, sizeof(*a));
	a->mode = mode;
	return a;
}

static void
app_hold(struct app *a, struct rte_mbuf *m)
{
	if (a->n_held == a->cap_held) {
		a->cap_held = a->cap_held ? a->cap_held * 2 : 64;
		a->held = realloc(a->held, a->cap_held * sizeof(*a->held));
		assert_non_null(a->held);
	}
	a->held[a->n_held++] = m;
	a->held_bytes += rte_pktmbuf_pkt_len(m);
}

static void
app_check(struct app *a, const struct rte_mbuf *m)
{
	const struct rte_mbuf *seg;
	uint16_t i;

	for (seg = m; seg != NULL; seg = seg->next) {
		const uint8_t *p = rte_pktmbuf_mtod(seg, const uint8_t *);

		for (i = 0; a->check_rx && i < seg->data_len; i++)
			if (p[i] != pat(a->rx_seed, a->rcvd + i))
				a->mismatches++;
		a->rcvd += seg->data_len;
	}
}

/* Echo: send held mbufs back in order, consuming what the queue took. */
static void
app_echo_flush(struct app *a)
{
	uint32_t i = 0;

	while (i < a->n_held && a->c != NULL) {
		uint32_t len = rte_pktmbuf_pkt_len(a->held[i]);

		if (gw_tcp_send(a->c, a->held[i]) != 0)
			break;
		gw_tcp_recv_consumed(a->c, len);
		a->held_bytes -= len;
		i++;
	}
	if (i > 0) {
		memmove(a->held, a->held + i, (a->n_held - i) * sizeof(*a->held));
		a->n_held -= i;
	}
	if (a->c != NULL && a->fin && a->n_held == 0 && !a->shut) {
		a->shut = true;
		gw_tcp_shutdown(a->c);
	}
}

/* Send the pattern as far as the send queue takes it, in chains. */
static void
app_send_pump(struct app *a)
{
	while (a->c != NULL && a->sent < a->to_send) {
		uint32_t space = gw_tcp_send_space(a->c);
		uint64_t left = a->to_send - a->sent;
		uint32_t chunk = (uint32_t)RTE_MIN(left, (uint64_t)16 * KiB);
		struct rte_mbuf *head = NULL, *tail = NULL;
		uint32_t done = 0;

		if (space < chunk)
			chunk = space > 0 ? space : 1; /* 1: arms on_writable */
		while (done < chunk) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			uint16_t n = (uint16_t)RTE_MIN(chunk - done, 1000u +
					(uint32_t)((a->sent + done) % 997));
			uint8_t *p;
			uint16_t i;

			assert_non_null(m);
			p = (uint8_t *)rte_pktmbuf_append(m, n);
			assert_non_null(p);
			for (i = 0; i < n; i++)
				p[i] = pat(a->tx_seed, a->sent + done + i);
			if (head == NULL) {
				head = m;
			} else {
				tail->next = m;
				head->nb_segs++;
				head->pkt_len += n;
			}
			tail = m;
			done += n;
		}
		if (gw_tcp_send(a->c, head) != 0) {
			rte_pktmbuf_free(head);
			return;
		}
		a->sent += done;
	}
	if (a->c != NULL && a->shut_when_sent && a->sent == a->to_send &&
	    !a->shut) {
		a->shut = true;
		gw_tcp_shutdown(a->c);
	}
}

static void
app_release_held(struct app *a)
{
	uint32_t i;

	for (i = 0; i < a->n_held; i++) {
		if (a->c != NULL)
			gw_tcp_recv_consumed(a->c, rte_pktmbuf_pkt_len(a->held[i]));
		rte_pktmbuf_free(a->held[i]);
	}
	a->n_held = 0;
	a->held_bytes = 0;
}

static void
cb_established(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	a->c = c;
	a->established = true;
	app_send_pump(a);
}

static void
cb_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct app *a = ctx;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	app_check(a, m);
	switch (a->mode) {
	case APP_ECHO:
		app_hold(a, m);
		app_echo_flush(a);
		return;
	case APP_STALL:
		app_hold(a, m);
		return;
	case APP_RESET_AFTER:
		rte_pktmbuf_free(m);
		gw_tcp_recv_consumed(c, len);
		if (a->rcvd >= a->reset_after) {
			gw_tcp_abort(c);
			a->c = NULL;
			a->closed = true;
			a->reason = GW_TCP_CLOSED_ABORTED;
			a->closed_at = H->now;
		}
		return;
	default:
		rte_pktmbuf_free(m);
		gw_tcp_recv_consumed(c, len);
		return;
	}
}

static void
cb_writable(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	RTE_SET_USED(c);
	if (a->mode == APP_ECHO)
		app_echo_flush(a);
	else
		app_send_pump(a);
}

static void
cb_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	RTE_SET_USED(c);
	a->fin = true;
	if (a->mode == APP_ECHO) {
		app_echo_flush(a);
	} else if (a->mode == APP_SINK) {
		a->shut_when_sent = true;
		app_send_pump(a);
	}
}

static void
cb_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct app *a = ctx;

	RTE_SET_USED(c);
	a->c = NULL;
	a->closed = true;
	a->reason = reason;
	a->closed_at = H->now;
}

static const struct gw_tcp_callbacks app_cb = {
	.on_established = cb_established,
	.on_data = cb_data,
	.on_writable = cb_writable,
	.on_fin = cb_fin,
	.on_closed = cb_closed,
};

static void *
backend_accept(void *listener_ctx, struct gw_tcp_conn *c,
	       const struct gw_tcp_callbacks **cb)
{
	struct app *a = app_new(H->backend_mode);

	RTE_SET_USED(listener_ctx);
	a->c = c;
	a->established = true;
	a->to_send = H->backend_to_send;
	a->tx_seed = 0xbac;
	a->reset_after = H->backend_reset_after;
	gw_tcp_conn_tuple(c, &a->local_ip, NULL, NULL, NULL);
	if (a->local_ip == IP4(10, 10, 2, 11))
		H->accepts_v1++;
	else
		H->accepts_v2++;
	*cb = &app_cb;
	return a;
}

/* A client connecting to the proxy's port @p port. */
static struct app *
client_open(uint16_t port, uint64_t to_send, uint64_t seed)
{
	struct app *a = app_new(APP_CLIENT);

	a->to_send = to_send;
	a->tx_seed = seed;
	a->rx_seed = seed;          /* an echo sends the same bytes back */
	a->check_rx = true;
	a->shut_when_sent = true;
	a->c = gw_tcp_connect(H->nodes[N_CLIENT].s, 0, IP4(10, 10, 1, 1), port,
			      &app_cb, a);
	assert_non_null(a->c);
	return a;
}

/* ---- the loop ---- */

static const struct gw_route_snapshot *
snapshot_get(void *arg)
{
	return ((struct harness *)arg)->snap;
}

static void
step(void)
{
	uint32_t i, n;

	/* what is due now; frames sent meanwhile wait for the next step */
	for (n = H->w_tail - H->w_head; n > 0; n--) {
		struct frame *f = &H->wire[H->w_head % WIRE_MAX];

		if (f->due > H->now)
			break;
		H->w_head++;
		wire_deliver(f->m);
	}
	if (H->reorder_held != NULL && H->w_tail == H->w_head) {
		wire_push(H->reorder_held, H->now + H->delay);
		H->reorder_held = NULL;
	}
	for (i = 0; i < N_NODES; i++)
		gw_tcp_poll(H->nodes[i].s, H->now);
	gw_l4_proxy_poll(H->px, H->now);
	for (i = 0; i < H->n_apps; i++) {
		struct app *a = &H->apps[i];

		if (a->c == NULL)
			continue;
		if (a->mode == APP_ECHO)
			app_echo_flush(a);
		else if (a->mode == APP_CLIENT || a->mode == APP_SINK)
			app_send_pump(a);
	}
	H->now += TICK;
}

typedef bool (*done_fn)(void *arg);

/* Run until @p done or @p ms of virtual time; true when done. */
static bool
run(done_fn done, void *arg, uint64_t ms)
{
	uint64_t end = H->now + MS(ms);

	while (H->now < end) {
		step();
		if (done != NULL && done(arg))
			return true;
	}
	return done == NULL;
}

static bool
all_clients_closed(void *arg)
{
	uint32_t i;

	RTE_SET_USED(arg);
	for (i = 0; i < H->n_apps; i++)
		if (H->apps[i].mode == APP_CLIENT && !H->apps[i].closed)
			return false;
	return true;
}

static bool
app_closed(void *arg)
{
	return ((struct app *)arg)->closed;
}

static bool
app_established(void *arg)
{
	return ((struct app *)arg)->established;
}

/* ---- set-up ---- */

static void
node_port(struct node *nd, uint32_t ip, uint8_t mac_last)
{
	struct gw_tcp_port *p = &nd->ports[nd->n_ports];

	memset(p, 0, sizeof(*p));
	p->iface.port_id = (uint16_t)nd->n_ports;
	p->iface.mac[0] = 0x02;
	p->iface.mac[5] = mac_last;
	p->iface.addr = ip;
	p->iface.prefix_len = 24;
	p->mtu = 1500;
	p->tx_multi_seg = true;
	/* software checksums over chains, or the NIC's (the wire's) */
	p->tx_ip_cksum = H->nic_cksum;
	p->tx_tcp_cksum = H->nic_cksum;
	nd->n_ports++;
}

static struct gw_tcp_stack *
stack_new(struct node *nd, unsigned int id, const struct harness_params *hp)
{
	struct gw_tcp_stack_params p = {
		.worker_id = 0,
		.n_workers = 1,
		.max_conns = 1024,
		.syn_backlog = 128,
		.timewait_max = 256,
		.rcvbuf = hp->rcvbuf,
		.sndbuf = hp->sndbuf,
		.reasm_segments = 4096,
		.connect_timeout_ms = hp->stack_connect_timeout_ms,
		.tsc_hz = HZ,
		.pool = pool,
		.n_ports = nd->n_ports,
		.ports = nd->ports,
		.xmit = xmit,
		.xmit_arg = nd,
		.timewait_ms = 1000,
		.start_tsc = H->now,
	};
	struct gw_tcp_stack *s;

	RTE_SET_USED(id);
	s = gw_tcp_stack_create(&p);
	assert_non_null(s);
	return s;
}

static void
harness_start(const struct harness_params *hp)
{
	static const uint32_t roles[2] = {GW_ROLE_DOWNSTREAM, GW_ROLE_UPSTREAM};
	static const enum gw_route_protocol protos[] = {
		GW_ROUTE_PROTOCOL_TCP, GW_ROUTE_PROTOCOL_TCP, GW_ROUTE_PROTOCOL_TCP,
		GW_ROUTE_PROTOCOL_TCP, GW_ROUTE_PROTOCOL_TCP, GW_ROUTE_PROTOCOL_TCP,
	};
	struct gw_route_build_params rp = {
		.listener_ports = listen_ports,
		.n_listener_ports = GW_ARRAY_SIZE(listen_ports),
		.listener_protocols = protos,
		.n_workers = 1,
		.seed = 1,
	};
	struct gw_l4_proxy_params pp;
	struct gw_model_set *set;
	char err[1024];
	unsigned int i;

	H->now = MS(1000);
	H->rng = 42;
	H->nic_cksum = hp->nic_cksum;
	H->backend_mode = APP_ECHO;
	/* model and snapshot */
	H->store = gw_model_store_create();
	set = gw_model_set_create();
	assert_non_null(H->store);
	assert_non_null(set);
	if (gw_model_set_load_buffer(set, istio_yaml, strlen(istio_yaml),
				     "l4.yaml", err, sizeof(err)) < 0 ||
	    gw_model_store_apply(H->store, set, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	gw_model_set_free(set);
	H->snap = gw_route_snapshot_build(H->store, &rp, err, sizeof(err));
	if (H->snap == NULL)
		fail_msg("%s", err);

	/* client 10.10.1.2 | proxy 10.10.1.1, 10.10.2.1 | backends .11, .12 */
	node_port(&H->nodes[N_CLIENT], IP4(10, 10, 1, 2), 1);
	node_port(&H->nodes[N_PROXY], IP4(10, 10, 1, 1), 2);
	node_port(&H->nodes[N_PROXY], IP4(10, 10, 2, 1), 3);
	node_port(&H->nodes[N_BACKEND], IP4(10, 10, 2, 11), 4);
	node_port(&H->nodes[N_BACKEND], IP4(10, 10, 2, 12), 5);
	for (i = 0; i < N_NODES; i++)
		H->nodes[i].s = stack_new(&H->nodes[i], i, hp);
	assert_int_equal(gw_tcp_listen(H->nodes[N_BACKEND].s, 0, 7000,
				       backend_accept, H), 0);

	memset(&pp, 0, sizeof(pp));
	pp.stack = H->nodes[N_PROXY].s;
	pp.worker_id = 0;
	pp.snapshot = snapshot_get;
	pp.snapshot_arg = H;
	pp.max_sessions = hp->max_sessions;
	pp.n_ports = H->nodes[N_PROXY].n_ports;
	pp.ports = H->nodes[N_PROXY].ports;
	pp.port_roles = roles;
	pp.connect_timeout_ms = hp->connect_timeout_ms;
	pp.tsc_hz = HZ;
	pp.start_tsc = H->now;
	pp.socket_id = SOCKET_ID_ANY;
	H->px = gw_l4_proxy_create(&pp);
	assert_non_null(H->px);
	for (i = 0; i < GW_ARRAY_SIZE(listen_ports); i++)
		assert_int_equal(gw_l4_proxy_listen(H->px, 0, listen_ports[i]), 0);
	assert_int_equal(gw_l4_proxy_listen(H->px, 0, 9000), -EEXIST);
}

static const struct harness_params default_params = {
	.rcvbuf = 256 * KiB,
	.sndbuf = 256 * KiB,
	.max_sessions = 256,
	.connect_timeout_ms = 0,
	.stack_connect_timeout_ms = 1000,
};

static int
setup(void **state)
{
	H = calloc(1, sizeof(*H));
	assert_non_null(H);
	*state = H;
	return 0;
}

static void
harness_stop(bool proxy_first)
{
	uint32_t i;

	if (proxy_first)
		gw_l4_proxy_free(H->px);
	for (i = 0; i < N_NODES; i++)
		gw_tcp_stack_free(H->nodes[i].s);
	if (!proxy_first)
		gw_l4_proxy_free(H->px);
	H->px = NULL;
	for (; H->w_head != H->w_tail; H->w_head++)
		rte_pktmbuf_free(H->wire[H->w_head % WIRE_MAX].m);
	if (H->reorder_held != NULL)
		rte_pktmbuf_free(H->reorder_held);
	H->reorder_held = NULL;
	for (i = 0; i < H->n_apps; i++) {
		H->apps[i].c = NULL;
		app_release_held(&H->apps[i]);
		free(H->apps[i].held);
	}
	H->n_apps = 0;
	gw_route_snapshot_free(H->snap);
	gw_model_store_free(H->store);
	H->snap = NULL;
	H->store = NULL;
	/* every mbuf came back: nothing leaked through the proxy */
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

static int
teardown(void **state)
{
	RTE_SET_USED(state);
	if (H->px != NULL)
		harness_stop(true);
	free(H);
	H = NULL;
	return 0;
}

static const struct gw_l4_proxy_stats *
pstats(void)
{
	return gw_l4_proxy_stats(H->px);
}

static const struct gw_tcp_stats *
tstats(unsigned int node)
{
	return gw_tcp_stack_stats(H->nodes[node].s);
}

/* What every application and stack did, for a failing check. */
static void
harness_dump(void)
{
	const struct gw_l4_proxy_stats *ps = pstats();
	uint32_t i;

	for (i = 0; i < H->n_apps; i++) {
		const struct app *a = &H->apps[i];

		fprintf(stderr, "# app %u mode %d sent %" PRIu64 "/%" PRIu64
			" rcvd %" PRIu64 " closed %d reason %d at +%" PRIu64
			" ms fin %d mismatches %" PRIu64 "\n", i, a->mode, a->sent,
			a->to_send, a->rcvd, a->closed, a->reason,
			(a->closed_at - MS(1000)) / MS(1), a->fin, a->mismatches);
	}
	for (i = 0; i < N_NODES; i++) {
		const struct gw_tcp_stats *t = tstats(i);

		fprintf(stderr, "# node %u: segs %" PRIu64 "/%" PRIu64 " rtx %"
			PRIu64 " rto %" PRIu64 " ooo %" PRIu64 " dup %" PRIu64
			" rst in %" PRIu64 " out %" PRIu64 " refused %" PRIu64
			"\n", i, t->segs_in, t->segs_out, t->retransmits,
			t->rto_timeouts, t->out_of_order, t->dup_segments,
			t->resets_in, t->resets_out, t->accepts_refused);
	}
	fprintf(stderr, "# proxy: sessions %" PRIu64 " active %" PRIu64
		" connect failures %" PRIu64 " timeouts %" PRIu64
		" resets propagated %" PRIu64 " blocked %" PRIu64 "\n",
		ps->sessions, ps->active, ps->upstream_connect_failures,
		ps->connect_timeouts, ps->resets_propagated, ps->send_blocked);
}

static void
assert_echo_ok(const struct app *a)
{
	if (!a->closed || a->reason != GW_TCP_CLOSED_NORMAL ||
	    a->rcvd != a->to_send || a->mismatches != 0)
		harness_dump();
	assert_true(a->closed);
	assert_int_equal(a->reason, GW_TCP_CLOSED_NORMAL);
	assert_int_equal(a->sent, a->to_send);
	assert_int_equal(a->rcvd, a->to_send);
	assert_int_equal(a->mismatches, 0);
	assert_true(a->fin);
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_echo_identical(void **state)
{
	struct app *a;

	RTE_SET_USED(state);
	harness_start(&default_params);
	a = client_open(9000, 4 * MiB + 123, 1);
	assert_true(run(app_closed, a, 60000));
	assert_echo_ok(a);
	assert_true(run(NULL, NULL, 100));
	assert_int_equal(pstats()->sessions, 1);
	assert_int_equal(pstats()->active, 0);
	assert_int_equal(pstats()->closed, 1);
	assert_int_equal(pstats()->upstream_established, 1);
	assert_int_equal(pstats()->bytes_to_upstream, 4 * MiB + 123);
	assert_int_equal(pstats()->bytes_to_downstream, 4 * MiB + 123);
	assert_int_equal(pstats()->fins_forwarded, 2);
	assert_int_equal(pstats()->resets_propagated, 0);
	/* zero copy: the proxy's stack chained, never copied */
	assert_int_equal(tstats(N_PROXY)->copied_bytes, 0);
	/* software checksums over odd-sized chains are right */
	assert_int_equal(tstats(N_PROXY)->bad_checksum, 0);
	assert_int_equal(tstats(N_CLIENT)->bad_checksum, 0);
	assert_int_equal(tstats(N_BACKEND)->bad_checksum, 0);
	assert_int_equal(H->accepts_v1, 1);
	harness_stop(true);
}

static void
test_checksum_offload(void **state)
{
	struct harness_params hp = default_params;
	struct app *a;

	RTE_SET_USED(state);
	hp.nic_cksum = true;
	harness_start(&hp);
	a = client_open(9000, 1 * MiB + 1, 11);
	assert_true(run(app_closed, a, 20000));
	assert_echo_ok(a);
	assert_int_equal(tstats(N_PROXY)->bad_checksum, 0);
	harness_stop(true);
}

static void
test_many_sizes_concurrently(void **state)
{
	static const uint64_t sizes[] = {
		1, 2, 100, 1459, 1460, 1461, 2920, 4096, 65535, 65536, 65537,
		100000, 262143, 262144, 262145, 1 * MiB, 2 * MiB + 7, 3 * MiB,
	};
	struct app *c[GW_ARRAY_SIZE(sizes)];
	unsigned int i;

	RTE_SET_USED(state);
	harness_start(&default_params);
	for (i = 0; i < GW_ARRAY_SIZE(sizes); i++)
		c[i] = client_open(9000, sizes[i], 100 + i);
	assert_true(run(all_clients_closed, NULL, 120000));
	for (i = 0; i < GW_ARRAY_SIZE(sizes); i++)
		assert_echo_ok(c[i]);
	assert_true(run(NULL, NULL, 100));
	assert_int_equal(pstats()->sessions, GW_ARRAY_SIZE(sizes));
	assert_int_equal(pstats()->active, 0);
	assert_int_equal(tstats(N_PROXY)->copied_bytes, 0);
	harness_stop(false);
}

static void
test_half_close_both_ways(void **state)
{
	struct app *a, *b;

	RTE_SET_USED(state);
	harness_start(&default_params);
	H->backend_mode = APP_SINK;
	H->backend_to_send = 300000;
	a = client_open(9000, 10000, 2);
	a->rx_seed = 0xbac;          /* the backend's own pattern */
	assert_true(run(app_closed, a, 20000));
	/* the client's FIN went first; the backend still sent 300000 bytes */
	b = &H->apps[1];
	assert_int_equal(b->mode, APP_SINK);
	assert_int_equal(b->rcvd, 10000);
	assert_true(b->fin);
	assert_int_equal(a->rcvd, 300000);
	assert_int_equal(a->mismatches, 0);
	assert_true(a->fin);
	assert_int_equal(a->reason, GW_TCP_CLOSED_NORMAL);
	assert_true(run(app_closed, b, 5000));
	assert_int_equal(b->reason, GW_TCP_CLOSED_NORMAL);
	assert_true(run(NULL, NULL, 100));
	assert_int_equal(pstats()->active, 0);
	assert_int_equal(pstats()->fins_forwarded, 2);
	harness_stop(true);
}

static void
test_backend_reset_resets_client(void **state)
{
	struct app *a;

	RTE_SET_USED(state);
	harness_start(&default_params);
	H->backend_mode = APP_RESET_AFTER;
	H->backend_reset_after = 5000;
	a = client_open(9000, 1 * MiB, 3);
	assert_true(run(app_closed, a, 10000));
	assert_int_equal(a->reason, GW_TCP_CLOSED_RESET);
	assert_true(run(NULL, NULL, 100));
	assert_int_equal(pstats()->resets_propagated, 1);
	assert_int_equal(pstats()->active, 0);
	assert_int_equal(tstats(N_CLIENT)->resets_in, 1);
	harness_stop(true);
}

static void
test_client_reset_resets_backend(void **state)
{
	struct app *a, *b;

	RTE_SET_USED(state);
	harness_start(&default_params);
	H->backend_mode = APP_SINK;
	a = client_open(9000, 5000, 4);
	a->shut_when_sent = false;
	assert_true(run(app_established, a, 1000));
	assert_true(run(NULL, NULL, 50));
	assert_int_equal(H->n_apps, 2);
	b = &H->apps[1];
	assert_int_equal(b->rcvd, 5000);
	gw_tcp_abort(a->c);
	a->c = NULL;
	assert_true(run(app_closed, b, 1000));
	assert_int_equal(b->reason, GW_TCP_CLOSED_RESET);
	assert_int_equal(pstats()->resets_propagated, 1);
	assert_int_equal(pstats()->active, 0);
	harness_stop(true);
}

static void
test_refused_upstream_resets_client(void **state)
{
	struct app *a;

	RTE_SET_USED(state);
	harness_start(&default_params);
	a = client_open(9002, 1000, 5);
	assert_true(run(app_closed, a, 1000));
	assert_int_equal(a->reason, GW_TCP_CLOSED_RESET);
	assert_int_equal(pstats()->upstream_connect_failures, 1);
	assert_int_equal(pstats()->upstream_established, 0);
	assert_int_equal(pstats()->active, 0);
	assert_int_equal(H->accepts_v1 + H->accepts_v2, 0);
	harness_stop(true);
}

static void
test_connect_timeouts(void **state)
{
	struct app *a, *b;
	uint64_t t0;

	RTE_SET_USED(state);
	harness_start(&default_params);
	t0 = H->now;
	/* hole.test: the DestinationRule's 200 ms, enforced by the proxy */
	a = client_open(9003, 1000, 6);
	/* hole2.test: the stack's connect timeout (1 s) */
	b = client_open(9005, 1000, 7);
	assert_true(run(all_clients_closed, NULL, 5000));
	assert_int_equal(a->reason, GW_TCP_CLOSED_RESET);
	assert_int_equal(b->reason, GW_TCP_CLOSED_RESET);
	assert_true(a->closed_at - t0 >= MS(200) && a->closed_at - t0 < MS(300));
	assert_true(b->closed_at - t0 >= MS(1000) && b->closed_at - t0 < MS(1200));
	assert_int_equal(pstats()->connect_timeouts, 1);
	assert_int_equal(pstats()->upstream_connect_failures, 2);
	assert_int_equal(pstats()->active, 0);
	harness_stop(true);
}

static void
test_proxy_connect_timeout_param(void **state)
{
	struct harness_params hp = default_params;
	struct app *b;
	uint64_t t0;

	RTE_SET_USED(state);
	hp.connect_timeout_ms = 50;
	harness_start(&hp);
	t0 = H->now;
	b = client_open(9005, 1000, 7);
	assert_true(run(app_closed, b, 5000));
	assert_int_equal(b->reason, GW_TCP_CLOSED_RESET);
	assert_true(b->closed_at - t0 >= MS(50) && b->closed_at - t0 < MS(100));
	assert_int_equal(pstats()->connect_timeouts, 1);
	harness_stop(true);
}

static void
test_no_route_refused(void **state)
{
	struct app *a;

	RTE_SET_USED(state);
	harness_start(&default_params);
	a = client_open(9001, 1000, 8);
	assert_true(run(app_closed, a, 1000));
	assert_int_equal(a->reason, GW_TCP_CLOSED_RESET);
	assert_int_equal(pstats()->no_route, 1);
	assert_int_equal(pstats()->sessions, 0);
	assert_int_equal(tstats(N_PROXY)->accepts_refused, 1);
	/* and a connection with a route still works */
	a = client_open(9000, 20000, 9);
	assert_true(run(app_closed, a, 5000));
	assert_echo_ok(a);
	harness_stop(true);
}

static void
test_session_limit(void **state)
{
	struct harness_params hp = default_params;
	struct app *c[3];
	unsigned int i;

	RTE_SET_USED(state);
	hp.max_sessions = 2;
	harness_start(&hp);
	for (i = 0; i < 3; i++) {
		c[i] = client_open(9000, 30000, 10 + i);
		c[i]->to_send = 0; /* hold the data back for now */
		c[i]->shut_when_sent = false;
		assert_true(run(NULL, NULL, 20));
	}
	assert_true(run(app_closed, c[2], 1000));
	assert_int_equal(c[2]->reason, GW_TCP_CLOSED_RESET);
	assert_int_equal(pstats()->no_session, 1);
	assert_int_equal(pstats()->active, 2);
	/* the two sessions in the pool are unharmed */
	for (i = 0; i < 2; i++) {
		assert_false(c[i]->closed);
		c[i]->to_send = 30000;
		c[i]->shut_when_sent = true;
	}
	assert_true(run(all_clients_closed, NULL, 5000));
	for (i = 0; i < 2; i++)
		assert_echo_ok(c[i]);
	assert_true(run(NULL, NULL, 100));
	assert_int_equal(pstats()->active, 0);
	/* sessions return to the pool */
	c[0] = client_open(9000, 1000, 20);
	assert_true(run(app_closed, c[0], 5000));
	assert_echo_ok(c[0]);
	harness_stop(true);
}

static void
test_weighted_split(void **state)
{
	unsigned int i;

	RTE_SET_USED(state);
	harness_start(&default_params);
	for (i = 0; i < 10; i++)
		client_open(9004, 1000 + i, 30 + i);
	assert_true(run(all_clients_closed, NULL, 5000));
	for (i = 0; i < 10; i++)
		assert_echo_ok(&H->apps[i]);
	assert_int_equal(H->accepts_v1, 8);
	assert_int_equal(H->accepts_v2, 2);
	harness_stop(true);
}

static bool
client_stalled(void *arg)
{
	struct app *a = arg;

	return a->sent > 0 && pstats()->send_blocked > 0 &&
	       H->apps[1].held_bytes >= 64 * KiB;
}

static void
test_backpressure_bounded(void **state)
{
	struct harness_params hp = default_params;
	struct app *a, *b;
	uint64_t sent, in_use;

	RTE_SET_USED(state);
	hp.rcvbuf = 64 * KiB;
	hp.sndbuf = 64 * KiB;
	harness_start(&hp);
	H->backend_mode = APP_STALL;
	a = client_open(9000, 16 * MiB, 40);
	a->rx_seed = 0;
	a->check_rx = false;
	assert_true(run(client_stalled, a, 5000));
	/* let it settle: nothing moves while the backend does not read */
	assert_true(run(NULL, NULL, 3000));
	sent = a->sent;
	in_use = rte_mempool_in_use_count(pool);
	assert_true(run(NULL, NULL, 3000));
	assert_int_equal(a->sent, sent);
	b = &H->apps[1];
	assert_int_equal(b->mode, APP_STALL);
	/* at most: backend's receive budget + proxy's upstream send queue +
	 * proxy's held client bytes + client's send queue (4 x 64 KiB) */
	assert_true(sent <= 4 * 64 * KiB + 16 * KiB);
	assert_true(b->held_bytes <= 64 * KiB);
	assert_int_equal(rte_mempool_in_use_count(pool), in_use);
	assert_true(in_use < 2000);
	assert_true(pstats()->send_blocked > 0);
	assert_true(tstats(N_CLIENT)->zero_window_probes > 0 ||
		    tstats(N_PROXY)->zero_window_probes > 0);
	/* the backend reads again: everything arrives, in order */
	b->check_rx = true;
	b->rx_seed = 40;
	b->rcvd = 0;
	for (uint32_t i = 0; i < b->n_held; i++)
		app_check(b, b->held[i]);
	app_release_held(b);
	b->mode = APP_SINK;
	assert_true(run(app_closed, a, 60000));
	assert_int_equal(a->reason, GW_TCP_CLOSED_NORMAL);
	assert_int_equal(b->rcvd, 16 * MiB);
	assert_int_equal(b->mismatches, 0);
	harness_stop(true);
}

static void
test_impaired_wire(void **state)
{
	struct harness_params hp = default_params;
	struct app *c[6];
	unsigned int i;

	RTE_SET_USED(state);
	/* a lost SYN costs the initial RTO (1 s): leave room for a few */
	hp.stack_connect_timeout_ms = 10000;
	harness_start(&hp);
	H->loss_ppm = 50000;       /* 5 % */
	H->dup_ppm = 10000;        /* 1 % */
	H->reorder_ppm = 20000;    /* 2 % */
	H->delay = MS(5);
	for (i = 0; i < GW_ARRAY_SIZE(c); i++)
		c[i] = client_open(9000, (uint64_t)(i + 1) * 150000, 50 + i);
	assert_true(run(all_clients_closed, NULL, 600000));
	for (i = 0; i < GW_ARRAY_SIZE(c); i++)
		assert_echo_ok(c[i]);
	assert_true(H->lost > 0 && H->duplicated > 0 && H->reordered > 0);
	assert_true(tstats(N_PROXY)->retransmits > 0);
	assert_true(tstats(N_PROXY)->out_of_order > 0);
	H->loss_ppm = H->dup_ppm = H->reorder_ppm = 0;
	assert_true(run(NULL, NULL, 2000));
	assert_int_equal(pstats()->active, 0);
	harness_stop(true);
}

static void
test_stack_stops_under_sessions(void **state)
{
	unsigned int i;

	RTE_SET_USED(state);
	harness_start(&default_params);
	H->backend_mode = APP_STALL;
	for (i = 0; i < 4; i++)
		client_open(9000, 1 * MiB, 60 + i);
	assert_true(run(NULL, NULL, 200));
	assert_int_equal(pstats()->active, 4);
	/* stacks first: every session closes through STACK_STOP */
	harness_stop(false);
}

static void
test_bad_params(void **state)
{
	struct gw_l4_proxy_params pp;

	RTE_SET_USED(state);
	memset(&pp, 0, sizeof(pp));
	assert_null(gw_l4_proxy_create(&pp));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(gw_l4_proxy_create(NULL));
	gw_l4_proxy_free(NULL);
}

int
main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--no-telemetry", "-l", "0", "--file-prefix=test_proxy",
		"--log-level=lib.eal:error", NULL,
	};
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_echo_identical),
		T(test_checksum_offload),
		T(test_many_sizes_concurrently),
		T(test_half_close_both_ways),
		T(test_backend_reset_resets_client),
		T(test_client_reset_resets_backend),
		T(test_refused_upstream_resets_client),
		T(test_connect_timeouts),
		T(test_proxy_connect_timeout_param),
		T(test_no_route_refused),
		T(test_session_limit),
		T(test_weighted_split),
		T(test_backpressure_bounded),
		T(test_impaired_wire),
		T(test_stack_stops_under_sessions),
		T(test_bad_params),
#undef T
	};

	RTE_SET_USED(argc);
	if (rte_eal_init((int)GW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_proxy", 32767, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
