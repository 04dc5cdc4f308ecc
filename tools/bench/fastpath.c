/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fastpath: the worker's HTTP fast path without the kernel (issue 9,
 * instrument 2). One process holds the proxy node as a worker builds it
 * (a gw_tcp_stack and a gw_http_proxy over it, routing with a snapshot
 * built by gw_route_snapshot_build() from generated Istio YAML) and two
 * peer nodes, each a lib/tcp stack of its own: the clients (many
 * connections from 16 addresses) and the backends (4 endpoints). The
 * nodes are wired by a ring of mbufs and run on a virtual clock, as in
 * tests/unit/test_httpproxy.c.
 *
 * Only the proxy node's work is timed, with rte_rdtsc(): lib/net's
 * classification and gw_tcp_input() of every frame addressed to it, in
 * bursts of 32 as the worker receives them, and the gw_tcp_poll() and
 * gw_http_proxy_poll() that follow each burst. Not timed: the NIC (the
 * harness copies each frame into a fresh linear mbuf, as a receive
 * would), the worker's Ethernet fill, neighbour lookup and TX burst, and
 * everything the peers do. A burst that took over a millisecond lost the
 * CPU to another process (the machine is shared): it is left out and
 * counted ("preempt").
 *
 * Cases: keep-alive GET with a small response, a new connection per
 * request (Connection: close), a 64 KiB response body; each with 10 and
 * 10,000 routes (uri prefix matches; requests spread over the table).
 * Mirroring and packets/s for established-flow forwarding are not
 * measured yet.
 *
 * Usage: fastpath [-n REQUESTS] [-c CONNS] [-s] [-r ROUTES[,ROUTES]] [-m kcb] [-R ROUNDS]
 *   -n  requests per case (keep-alive; the other cases take a fraction)
 *   -c  concurrent client connections (small-response cases)
 *   -s  checksums in software (default: offloaded, as on a DPDK NIC)
 *   -r  route table sizes (default 10,10000)
 *   -m  cases: k keep-alive, c new connection per request, b 64 KiB body
 *   -R  rounds per case (default 3): the median is shown, and the spread
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gw_common.h"
#include "gw_config.h"
#include "gw_httpproxy.h"
#include "gw_metrics.h"
#include "gw_model.h"
#include "gw_net.h"
#include "gw_route.h"
#include "gw_tcp.h"

#define IP4(a, b, c, d) htonl(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define VHZ        UINT64_C(1000000000)   /* virtual clock: nanoseconds */
#define TICK       UINT64_C(20000)        /* 20 us per loop */
#define WIRE_SIZE  (1u << 18)
#define BURST      32u                    /* GW_WORKER_BURST */
#define N_CLIENT_IPS 16u
#define N_BACKENDS 4u
#define BIG_BODY   65536u
#define MAX_CONNS  65536u                 /* the worker's default connections_per_worker */

enum node_id { NODE_CLIENT = 0, NODE_PROXY, NODE_BACKEND, N_NODES };
enum mode { MODE_KEEPALIVE, MODE_CLOSE, MODE_BIG };

static const char *const mode_name[] = {
	"keep-alive GET, small response",
	"new connection per request",
	"keep-alive GET, 64 KiB body",
};

struct node {
	struct gw_tcp_stack *s;
	struct gw_tcp_port ports[N_CLIENT_IPS];
	unsigned int n_ports;
};

/* A client connection: one request in flight, its response parsed. */
struct client {
	struct gw_tcp_conn *c;
	unsigned int ip_index;
	char head[2048];
	uint32_t head_len;
	bool in_body;
	uint64_t body_left;
	bool got_response;   /* close mode: the response is complete */
	bool closed;
};

/* A backend connection: answers every request head it sees. */
struct backend {
	struct gw_tcp_conn *c;
	uint32_t match;      /* progress through "\r\n\r\n" */
	uint32_t owed;       /* responses still to send */
	uint32_t off;        /* bytes of the current response sent */
	struct backend *next_all, **prev_all;
};

struct bench {
	struct rte_mempool *pool;
	struct node nodes[N_NODES];
	struct gw_http_proxy *px;
	struct gw_metrics_table *metrics;
	struct gw_model_store *store;
	struct gw_route_snapshot *snap;
	FILE *devnull;
	uint64_t now;
	bool offload;
	enum mode mode;
	uint32_t n_routes;

	struct rte_mbuf **wire;
	uint32_t w_head, w_tail;
	uint64_t wire_overflow;

	struct client *clients;
	uint32_t n_clients;
	uint32_t reopen;          /* close mode: connections to open again */
	uint64_t sent, done, errors, budget;
	uint64_t seq;             /* request counter (route choice) */

	struct backend *backends; /* list of live backend connections */

	const uint8_t *resp;      /* the backend's response */
	uint32_t resp_len;
	uint8_t *big_resp;
	uint32_t big_len;

	/* measured: the proxy node's cycles */
	uint64_t cycles, bursts, frames_in, polls;
	uint64_t preempt_cycles;  /* a burst longer than this was descheduled */
	uint64_t preempted;       /* such bursts, left out of cycles */
};

static struct bench B;

static const uint8_t small_resp[] =
	"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\n"
	"hello, world\n";

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fastpath: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- Istio configuration ---- */

static char *
make_yaml(uint32_t n_routes, size_t *len)
{
	size_t cap = 256 + (size_t)n_routes * 96, off = 0;
	char *y = malloc(cap);

	if (y == NULL)
		die("out of memory");
	off += (size_t)snprintf(y + off, cap - off,
		"apiVersion: networking.istio.io/v1\n"
		"kind: ServiceEntry\n"
		"metadata: {name: svc}\n"
		"spec:\n"
		"  hosts: [svc.test]\n"
		"  resolution: STATIC\n"
		"  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 7000}]\n"
		"  endpoints:\n");
	for (unsigned int e = 0; e < N_BACKENDS; e++)
		off += (size_t)snprintf(y + off, cap - off,
			"  - {address: 10.10.2.%u}\n", 11 + e);
	off += (size_t)snprintf(y + off, cap - off,
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: svc}\n"
		"spec:\n"
		"  hosts: [svc.test]\n"
		"  http:\n");
	for (uint32_t i = 0; i < n_routes; i++) {
		if (cap - off < 128) {
			cap *= 2;
			y = realloc(y, cap);
			if (y == NULL)
				die("out of memory");
		}
		off += (size_t)snprintf(y + off, cap - off,
			"  - match: [{uri: {prefix: /r%u/}}]\n"
			"    route: [{destination: {host: svc.test}}]\n", i);
	}
	*len = off;
	return y;
}

static const struct gw_route_snapshot *
snapshot_get(void *arg)
{
	return ((struct bench *)arg)->snap;
}

/* The worker holds the snapshot by QSBR; here it never changes. */
static const void *
snapshot_hold(void *arg, const struct gw_route_snapshot *snap)
{
	RTE_SET_USED(arg);
	return snap;
}

static void
snapshot_release(void *arg, const void *token)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(token);
}

/* ---- the wire ---- */

static void
xmit(void *arg, unsigned int port_index, uint32_t next_hop, struct rte_mbuf *m)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(port_index);
	RTE_SET_USED(next_hop);
	if (B.w_tail - B.w_head >= WIRE_SIZE) {
		B.wire_overflow++;
		rte_pktmbuf_free(m);
		return;
	}
	B.wire[B.w_tail++ % WIRE_SIZE] = m;
}

static enum node_id
wire_dest(uint32_t dst, unsigned int *port)
{
	uint32_t h = ntohl(dst);
	uint32_t net = (h >> 8) & 0xff, host = h & 0xff;

	if (net == 1 && host == 1) {
		*port = 0;
		return NODE_PROXY;
	}
	if (net == 2 && host == 1) {
		*port = 1;
		return NODE_PROXY;
	}
	if (net == 1 && host >= 10 && host < 10 + N_CLIENT_IPS) {
		*port = host - 10;
		return NODE_CLIENT;
	}
	if (net == 2 && host >= 11 && host < 11 + N_BACKENDS) {
		*port = host - 11;
		return NODE_BACKEND;
	}
	return N_NODES;
}

/* The NIC: a linear copy of the frame, Ethernet addressed to the port. */
static struct rte_mbuf *
nic_receive(struct rte_mbuf *m, enum node_id *node, unsigned int *port)
{
	struct rte_mbuf *f = rte_pktmbuf_alloc(B.pool);
	uint32_t len = rte_pktmbuf_pkt_len(m), dst;
	struct rte_ether_hdr *eth;
	const void *src;
	uint8_t *data;

	if (f == NULL)
		die("mbuf pool exhausted (harness)");
	data = (uint8_t *)rte_pktmbuf_append(f, (uint16_t)len);
	if (data == NULL)
		die("frame of %u bytes does not fit an mbuf", len);
	src = rte_pktmbuf_read(m, 0, len, data);
	if (src != data)
		memcpy(data, src, len);
	rte_pktmbuf_free(m);
	memcpy(&dst, data + GW_ETHER_HDR_LEN + 16, 4);
	*node = wire_dest(dst, port);
	if (*node == N_NODES)
		die("frame to an unknown address");
	eth = (struct rte_ether_hdr *)data;
	memcpy(eth->dst_addr.addr_bytes, B.nodes[*node].ports[*port].iface.mac, 6);
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	if (B.offload) {
		/* The sender's NIC filled the checksums (TCP's is not checked:
		 * the receiver's NIC says it is good). */
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(data + GW_ETHER_HDR_LEN);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		f->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	return f;
}

static void
node_input(enum node_id n, unsigned int port, struct rte_mbuf *f)
{
	struct gw_net_result res;

	if (gw_net_input(&B.nodes[n].ports[port].iface, rte_pktmbuf_mtod(f, uint8_t *),
			 rte_pktmbuf_data_len(f), &res) != GW_NET_TCP)
		die("frame dropped by lib/net: %s", gw_drop_reason_name(res.drop));
	gw_tcp_input(B.nodes[n].s, port, f, &res);
}

/* ---- clients ---- */

static void client_send_request(struct client *cl);

static void
client_response_done(struct client *cl)
{
	B.done++;
	cl->head_len = 0;
	cl->in_body = false;
	if (B.mode == MODE_CLOSE) {
		cl->got_response = true;
		return;
	}
	if (B.sent < B.budget)
		client_send_request(cl);
}

static void
client_head_done(struct client *cl)
{
	const char *cl_hdr;

	cl->head[cl->head_len] = '\0';
	if (strncmp(cl->head, "HTTP/1.1 200 ", 13) != 0) {
		fprintf(stderr, "fastpath: unexpected response: %.60s\n", cl->head);
		B.errors++;
	}
	cl_hdr = strcasestr(cl->head, "\ncontent-length:");
	if (cl_hdr == NULL) {
		B.errors++;
		cl->body_left = 0;
	} else {
		cl->body_left = strtoull(cl_hdr + 16, NULL, 10);
	}
	cl->in_body = true;
}

static void
client_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct client *cl = ctx;
	uint32_t total = rte_pktmbuf_pkt_len(m);

	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const char *d = rte_pktmbuf_mtod(s, const char *);
		uint32_t len = s->data_len, i = 0;

		while (i < len) {
			if (!cl->in_body) {
				if (cl->head_len + 1 >= sizeof(cl->head)) {
					B.errors++;
					cl->head_len = 0;
				}
				cl->head[cl->head_len++] = d[i++];
				if (cl->head_len >= 4 &&
				    memcmp(cl->head + cl->head_len - 4, "\r\n\r\n", 4) == 0)
					client_head_done(cl);
			} else {
				uint64_t take = len - i;

				if (take > cl->body_left)
					take = cl->body_left;
				cl->body_left -= take;
				i += (uint32_t)take;
			}
			if (cl->in_body && cl->body_left == 0)
				client_response_done(cl);
		}
	}
	rte_pktmbuf_free(m);
	gw_tcp_recv_consumed(c, total);
}

static void
client_established(struct gw_tcp_conn *c, void *ctx)
{
	struct client *cl = ctx;

	cl->c = c;
	client_send_request(cl);
}

static void
client_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct client *cl = ctx;

	if (!cl->got_response)
		B.errors++;
	gw_tcp_shutdown(c);
}

static void
client_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct client *cl = ctx;

	RTE_SET_USED(c);
	cl->c = NULL;
	cl->closed = true;
	if (reason == GW_TCP_CLOSED_STACK_STOP)
		return;
	if (reason != GW_TCP_CLOSED_NORMAL || B.mode != MODE_CLOSE) {
		fprintf(stderr, "fastpath: client connection closed (%d)\n", (int)reason);
		B.errors++;
		return;
	}
	B.reopen++;
}

static const struct gw_tcp_callbacks client_cb = {
	.on_established = client_established,
	.on_data = client_data,
	.on_fin = client_fin,
	.on_closed = client_closed,
};

static void
client_send_request(struct client *cl)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(B.pool);
	uint32_t route = (uint32_t)((B.seq++ * 7919u) % B.n_routes);
	char *p;
	int n;

	if (m == NULL)
		die("mbuf pool exhausted (client)");
	p = rte_pktmbuf_mtod(m, char *);
	n = snprintf(p, rte_pktmbuf_tailroom(m),
		     "GET /r%u/item HTTP/1.1\r\nhost: svc.test\r\n"
		     "user-agent: fastpath\r\naccept: */*\r\n%s\r\n", route,
		     B.mode == MODE_CLOSE ? "connection: close\r\n" : "");
	rte_pktmbuf_append(m, (uint16_t)n);
	if (gw_tcp_send(cl->c, m) != 0)
		die("client send refused");
	B.sent++;
}

static void
client_open(struct client *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->ip_index = (uint32_t)(B.seq % N_CLIENT_IPS);
	cl->c = gw_tcp_connect(B.nodes[NODE_CLIENT].s, cl->ip_index, IP4(10, 10, 1, 1),
			       8000, &client_cb, cl);
	if (cl->c == NULL)
		die("client connect: %s", rte_strerror(rte_errno));
}

/* ---- backends ---- */

static void
backend_pump(struct backend *b)
{
	while (b->c != NULL && b->owed > 0) {
		uint32_t space = gw_tcp_send_space(b->c), n;
		struct rte_mbuf *m;

		if (space == 0)
			return;
		m = rte_pktmbuf_alloc(B.pool);
		if (m == NULL)
			die("mbuf pool exhausted (backend)");
		n = B.resp_len - b->off;
		if (n > rte_pktmbuf_tailroom(m))
			n = rte_pktmbuf_tailroom(m);
		if (n > space)
			n = space;
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), B.resp + b->off, n);
		if (gw_tcp_send(b->c, m) != 0) {
			rte_pktmbuf_free(m);
			return;
		}
		b->off += n;
		if (b->off == B.resp_len) {
			b->off = 0;
			b->owed--;
		}
	}
}

static void
backend_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	static const char end[4] = {'\r', '\n', '\r', '\n'};
	struct backend *b = ctx;
	uint32_t total = rte_pktmbuf_pkt_len(m);

	/* Requests are GETs: every head ends a request. */
	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const char *d = rte_pktmbuf_mtod(s, const char *);

		for (uint32_t i = 0; i < s->data_len; i++) {
			if (d[i] == end[b->match])
				b->match++;
			else
				b->match = d[i] == '\r' ? 1 : 0;
			if (b->match == 4) {
				b->match = 0;
				b->owed++;
			}
		}
	}
	rte_pktmbuf_free(m);
	gw_tcp_recv_consumed(c, total);
	backend_pump(b);
}

static void
backend_writable(struct gw_tcp_conn *c, void *ctx)
{
	RTE_SET_USED(c);
	backend_pump(ctx);
}

static void
backend_fin(struct gw_tcp_conn *c, void *ctx)
{
	RTE_SET_USED(ctx);
	gw_tcp_shutdown(c);
}

static void
backend_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct backend *b = ctx;

	RTE_SET_USED(c);
	RTE_SET_USED(reason);
	if (b->next_all != NULL)
		b->next_all->prev_all = b->prev_all;
	*b->prev_all = b->next_all;
	free(b);
}

static const struct gw_tcp_callbacks backend_cb = {
	.on_data = backend_data,
	.on_writable = backend_writable,
	.on_fin = backend_fin,
	.on_closed = backend_closed,
};

static void *
backend_accept(void *listener_ctx, struct gw_tcp_conn *c,
	       const struct gw_tcp_callbacks **cb)
{
	struct backend *b = calloc(1, sizeof(*b));

	RTE_SET_USED(listener_ctx);
	if (b == NULL)
		die("out of memory");
	b->c = c;
	b->next_all = B.backends;
	if (B.backends != NULL)
		B.backends->prev_all = &b->next_all;
	b->prev_all = &B.backends;
	B.backends = b;
	*cb = &backend_cb;
	return b;
}

/* ---- set-up ---- */

static void
node_port(struct node *nd, uint32_t ip, uint8_t mac_last)
{
	struct gw_tcp_port *p = &nd->ports[nd->n_ports];

	memset(p, 0, sizeof(*p));
	p->iface.port_id = (uint16_t)nd->n_ports;
	p->iface.mac[0] = 0x02;
	p->iface.mac[4] = (uint8_t)nd->n_ports;
	p->iface.mac[5] = mac_last;
	p->iface.addr = ip;
	p->iface.prefix_len = 24;
	p->mtu = 1500;
	p->tx_multi_seg = true;
	p->tx_ip_cksum = B.offload;
	p->tx_tcp_cksum = B.offload;
	nd->n_ports++;
}

static struct gw_tcp_stack *
stack_new(struct node *nd, uint32_t max_conns)
{
	/* The proxy's parameters are the worker's (lib/worker/dataplane.c). */
	struct gw_tcp_stack_params p = {
		.worker_id = 0,
		.n_workers = 1,
		.max_conns = max_conns,
		.syn_backlog = 1024,
		.timewait_max = max_conns / 4 + 1,
		.rcvbuf = 256 * 1024,
		.sndbuf = 256 * 1024,
		.reasm_segments = 4096,
		.connect_timeout_ms = 10000,
		.tsc_hz = VHZ,
		.pool = B.pool,
		.n_ports = nd->n_ports,
		.ports = nd->ports,
		.xmit = xmit,
		.xmit_arg = nd,
		.start_tsc = B.now,
	};
	struct gw_tcp_stack *s = gw_tcp_stack_create(&p);

	if (s == NULL)
		die("cannot create a TCP stack of %u connections", max_conns);
	return s;
}

static void
bench_setup(uint32_t n_routes)
{
	static const uint32_t roles[2] = {GW_ROLE_DOWNSTREAM, GW_ROLE_UPSTREAM};
	static const uint16_t listen_ports[] = {8000};
	struct gw_route_build_params rp = {
		.listener_ports = listen_ports,
		.n_listener_ports = 1,
		.n_workers = 1,
		.seed = 1,
	};
	struct gw_http_proxy_params pp;
	struct gw_model_set *set;
	char err[1024];
	size_t len;
	char *yaml;

	B.now = UINT64_C(1000000000);
	B.n_routes = n_routes;
	B.store = gw_model_store_create();
	set = gw_model_set_create();
	if (B.store == NULL || set == NULL)
		die("out of memory");
	yaml = make_yaml(n_routes, &len);
	if (gw_model_set_load_buffer(set, yaml, len, "fastpath.yaml", err, sizeof(err)) < 0 ||
	    gw_model_store_apply(B.store, set, err, sizeof(err)) < 0)
		die("%s", err);
	free(yaml);
	gw_model_set_free(set);
	B.snap = gw_route_snapshot_build(B.store, &rp, err, sizeof(err));
	if (B.snap == NULL)
		die("%s", err);

	memset(B.nodes, 0, sizeof(B.nodes));
	for (unsigned int i = 0; i < N_CLIENT_IPS; i++)
		node_port(&B.nodes[NODE_CLIENT], IP4(10, 10, 1, 10 + i), 1);
	node_port(&B.nodes[NODE_PROXY], IP4(10, 10, 1, 1), 2);
	node_port(&B.nodes[NODE_PROXY], IP4(10, 10, 2, 1), 3);
	for (unsigned int i = 0; i < N_BACKENDS; i++)
		node_port(&B.nodes[NODE_BACKEND], IP4(10, 10, 2, 11 + i), 4);
	B.nodes[NODE_CLIENT].s = stack_new(&B.nodes[NODE_CLIENT], 8192);
	B.nodes[NODE_PROXY].s = stack_new(&B.nodes[NODE_PROXY], MAX_CONNS);
	B.nodes[NODE_BACKEND].s = stack_new(&B.nodes[NODE_BACKEND], 8192);
	if (gw_tcp_listen(B.nodes[NODE_BACKEND].s, 0, 7000, backend_accept, NULL) != 0)
		die("backend listen");

	B.metrics = gw_metrics_table_create(1024); /* GW_WORKER_METRICS_SERIES */
	if (B.metrics == NULL)
		die("metrics table");
	memset(&pp, 0, sizeof(pp));
	pp.stack = B.nodes[NODE_PROXY].s;
	pp.snapshot = snapshot_get;
	pp.snapshot_arg = &B;
	pp.snapshot_hold = snapshot_hold;
	pp.snapshot_release = snapshot_release;
	pp.pool = B.pool;
	pp.max_sessions = 8192;
	pp.n_workers = 1;
	pp.max_head = 60 * 1024;
	pp.max_headers = 100;
	pp.n_ports = 2;
	pp.ports = B.nodes[NODE_PROXY].ports;
	pp.port_roles = roles;
	pp.accesslog_ring_size = 4096;
	pp.tsc_hz = VHZ;
	pp.start_tsc = B.now;
	pp.socket_id = SOCKET_ID_ANY;
	pp.metrics = B.metrics;
	B.px = gw_http_proxy_create(&pp);
	if (B.px == NULL)
		die("cannot create the proxy: %s", rte_strerror(rte_errno));
	if (gw_http_proxy_listen(B.px, 0, 8000) != 0)
		die("proxy listen");
}

static void
bench_teardown(void)
{
	for (unsigned int i = 0; i < N_NODES; i++)
		gw_tcp_stack_free(B.nodes[i].s);
	gw_http_proxy_free(B.px);
	gw_metrics_table_free(B.metrics);
	for (; B.w_head != B.w_tail; B.w_head++)
		rte_pktmbuf_free(B.wire[B.w_head % WIRE_SIZE]);
	gw_route_snapshot_free(B.snap);
	gw_model_store_free(B.store);
	free(B.clients);
	B.clients = NULL;
}

/* ---- the loop ---- */

/* The measured work: one receive burst of the proxy node and the polls
 * after it. Not inlined, so that a profile can tell it from the peers'. */
static __attribute__((noinline)) void
proxy_burst(struct rte_mbuf **rx, const uint8_t *rx_port, uint32_t n)
{
	for (uint32_t j = 0; j < n; j++)
		node_input(NODE_PROXY, rx_port[j], rx[j]);
	gw_tcp_poll(B.nodes[NODE_PROXY].s, B.now);
	gw_http_proxy_poll(B.px, B.now);
}

static void
step(void)
{
	static struct rte_mbuf *rx[WIRE_SIZE];
	static uint8_t rx_port[WIRE_SIZE];
	uint32_t n_rx = 0, end = B.w_tail;
	uint64_t t0, t1;

	/* Frames sent in the previous loop arrive now. */
	while (B.w_head != end) {
		struct rte_mbuf *m = B.wire[B.w_head++ % WIRE_SIZE], *f;
		enum node_id node;
		unsigned int port;

		f = nic_receive(m, &node, &port);
		if (node == NODE_PROXY) {
			rx_port[n_rx] = (uint8_t)port;
			rx[n_rx++] = f;
		} else {
			node_input(node, port, f);
		}
	}
	/* The proxy node: bursts of 32, each followed by the worker's polls. */
	for (uint32_t i = 0; i < n_rx || i == 0; i += BURST) {
		uint32_t k = n_rx - i < BURST ? n_rx - i : BURST;

		t0 = rte_rdtsc();
		proxy_burst(rx + i, rx_port + i, k);
		t1 = rte_rdtsc();
		/* The machine is shared: a burst that took over a millisecond
		 * (normal ones take tens of microseconds) lost the CPU. */
		if (t1 - t0 > B.preempt_cycles)
			B.preempted++;
		else
			B.cycles += t1 - t0;
		B.polls++;
		if (n_rx == 0)
			break;
	}
	B.frames_in += n_rx;
	/* The peers. */
	gw_tcp_poll(B.nodes[NODE_CLIENT].s, B.now);
	gw_tcp_poll(B.nodes[NODE_BACKEND].s, B.now);
	for (struct backend *b = B.backends; b != NULL; b = b->next_all)
		if (b->owed > 0)
			backend_pump(b);
	for (uint32_t i = 0; i < B.n_clients && B.reopen > 0; i++) {
		struct client *cl = &B.clients[i];

		if (cl->closed && B.sent < B.budget) {
			B.reopen--;
			client_open(cl);
		}
	}
	/* The control lcore's share: the access log. */
	gw_http_accesslog_drain(gw_http_proxy_accesslog_ring(B.px), B.devnull);
	B.now += TICK;
}

struct result {
	enum mode mode;
	uint32_t routes, conns;
	uint64_t requests, cycles, frames, polls;
	uint64_t http_copied, parser_copied, tcp_copied;
	uint64_t upstream_connects, connections, preempted;
	double wall;
	double cpr_min, cpr_max;      /* spread over the rounds */
};

static double
cpr(const struct result *r)
{
	return (double)r->cycles / (double)r->requests;
}

static int
cmp_cpr(const void *a, const void *b)
{
	double x = cpr(a), y = cpr(b);

	return (x > y) - (x < y);
}

static void run_case(enum mode mode, uint32_t n_routes, uint32_t conns,
		     uint64_t requests, struct result *r);

/* The case @p rounds times; *r is the median round (by cycles per request). */

static void
run_rounds(enum mode mode, uint32_t n_routes, uint32_t conns, uint64_t requests,
	   unsigned int rounds, struct result *r)
{
	struct result all[9];

	for (unsigned int i = 0; i < rounds; i++)
		run_case(mode, n_routes, conns, requests, &all[i]);
	qsort(all, rounds, sizeof(all[0]), cmp_cpr);
	*r = all[rounds / 2];
	r->cpr_min = cpr(&all[0]);
	r->cpr_max = cpr(&all[rounds - 1]);
}

static void
run_case(enum mode mode, uint32_t n_routes, uint32_t conns, uint64_t requests,
	 struct result *r)
{
	struct gw_http_proxy_stats ps0;
	struct gw_tcp_stats ts0;
	const struct gw_http_proxy_stats *ps;
	const struct gw_tcp_stats *ts;
	uint64_t warm = requests / 10 + conns, done0, c0, f0, p0, guard;
	struct timespec w0, w1;

	B.sent = B.done = B.errors = B.seq = 0;
	B.mode = mode;
	B.budget = warm + requests;
	B.reopen = 0;
	B.backends = NULL;
	B.cycles = B.frames_in = B.polls = B.bursts = B.preempted = 0;
	if (mode == MODE_BIG) {
		B.resp = B.big_resp;
		B.resp_len = B.big_len;
	} else {
		B.resp = small_resp;
		B.resp_len = sizeof(small_resp) - 1;
	}
	bench_setup(n_routes);
	B.clients = calloc(conns, sizeof(*B.clients));
	if (B.clients == NULL)
		die("out of memory");
	B.n_clients = conns;
	for (uint32_t i = 0; i < conns; i++)
		client_open(&B.clients[i]);

	/* Warm-up: connections, pools, caches; then the measured requests. */
	guard = 0;
	while (B.done < warm && B.errors == 0 && ++guard < 10000000)
		step();
	ps0 = *gw_http_proxy_stats(B.px);
	ts0 = *gw_tcp_stack_stats(B.nodes[NODE_PROXY].s);
	done0 = B.done;
	c0 = B.cycles;
	f0 = B.frames_in;
	p0 = B.polls;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	while (B.done < B.budget && B.errors == 0 && ++guard < 10000000)
		step();
	clock_gettime(CLOCK_MONOTONIC, &w1);
	if (B.errors != 0)
		die("%s: %" PRIu64 " errors", mode_name[mode], B.errors);
	if (B.done < B.budget)
		die("%s: stalled at %" PRIu64 " of %" PRIu64 " responses",
		    mode_name[mode], B.done, B.budget);
	if (B.wire_overflow != 0)
		die("%s: %" PRIu64 " frames lost: wire full", mode_name[mode], B.wire_overflow);
	ps = gw_http_proxy_stats(B.px);
	ts = gw_tcp_stack_stats(B.nodes[NODE_PROXY].s);
	r->mode = mode;
	r->routes = n_routes;
	r->conns = conns;
	r->requests = B.done - done0;
	r->cycles = B.cycles - c0;
	r->frames = B.frames_in - f0;
	r->polls = B.polls - p0;
	r->preempted = B.preempted;
	r->http_copied = ps->copied_bytes - ps0.copied_bytes;
	r->parser_copied = ps->parser_copied_bytes - ps0.parser_copied_bytes;
	r->tcp_copied = ts->copied_bytes - ts0.copied_bytes;
	r->upstream_connects = ps->upstream_connects - ps0.upstream_connects;
	r->connections = ps->connections - ps0.connections;
	if (ps->rq_2xx - ps0.rq_2xx != ps->responses - ps0.responses)
		die("%s: non-2xx responses from the proxy", mode_name[mode]);
	r->wall = (double)(w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9;
	bench_teardown();
	if (rte_mempool_in_use_count(B.pool) != 0)
		die("%u mbufs not returned", rte_mempool_in_use_count(B.pool));
}

static void
usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n REQUESTS] [-c CONNS] [-s] [-r ROUTES[,ROUTES]] [-m kcb] [-R ROUNDS]\n"
		"  -n  keep-alive requests per case (default 200000; new connections:\n"
		"      a quarter, 64 KiB bodies: a fortieth)\n"
		"  -c  concurrent client connections (default 1000; 64 KiB: 32)\n"
		"  -s  checksums in software (default: offloaded, as on a DPDK NIC)\n"
		"  -r  route table sizes (default 10,10000)\n"
		"  -m  cases: k keep-alive, c new connections, b 64 KiB bodies (default kcb)\n"
		"  -R  rounds per case, 1 to 9 (default 3): median and spread shown\n",
		argv0);
	exit(2);
}

int
main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "1024",
		"--no-telemetry", "-l", "0", "--file-prefix=fastpath",
		"--log-level=lib.eal:error", NULL,
	};
	uint32_t routes[4] = {10, 10000}, n_sizes = 2, conns = 1000;
	uint64_t requests = 200000;
	unsigned int rounds = 3;
	const char *modes = "kcb";
	struct result res[16];
	unsigned int n_res = 0;
	double hz;
	int opt;

	B.offload = true;
	while ((opt = getopt(argc, argv, "n:c:sr:m:R:h")) != -1) {
		char *end, *tok;

		switch (opt) {
		case 'n':
			requests = strtoull(optarg, &end, 10);
			if (*end != '\0' || requests < 100 || requests > 100000000)
				die("-n: a count of 100 to 100,000,000 requests");
			break;
		case 'c':
			conns = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || conns < 1 || conns > 4096)
				die("-c: 1 to 4096 connections");
			break;
		case 's':
			B.offload = false;
			break;
		case 'R':
			rounds = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || rounds < 1 || rounds > 9)
				die("-R: 1 to 9 rounds");
			break;
		case 'm':
			modes = optarg;
			if (modes[strspn(modes, "kcb")] != '\0' || modes[0] == '\0')
				die("-m: letters k (keep-alive), c (new connections), b (64 KiB bodies)");
			break;
		case 'r':
			n_sizes = 0;
			for (tok = strtok(optarg, ","); tok != NULL; tok = strtok(NULL, ",")) {
				if (n_sizes == 4)
					die("-r: at most 4 sizes");
				routes[n_sizes] = (uint32_t)strtoul(tok, &end, 10);
				if (*end != '\0' || routes[n_sizes] < 1 || routes[n_sizes] > 100000)
					die("-r: sizes of 1 to 100,000 routes");
				n_sizes++;
			}
			if (n_sizes == 0)
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (rte_eal_init((int)GW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0)
		die("rte_eal_init: %s", rte_strerror(rte_errno));
	B.pool = rte_pktmbuf_pool_create("fastpath", 32767, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	B.wire = calloc(WIRE_SIZE, sizeof(*B.wire));
	B.devnull = fopen("/dev/null", "w");
	if (B.pool == NULL || B.wire == NULL || B.devnull == NULL)
		die("set-up: %s", rte_strerror(rte_errno));
	{
		/* The 64 KiB response: a head and a patterned body. */
		const char head[] = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
				    "content-length: 65536\r\n\r\n";

		B.big_len = (uint32_t)(sizeof(head) - 1 + BIG_BODY);
		B.big_resp = malloc(B.big_len);
		if (B.big_resp == NULL)
			die("out of memory");
		memcpy(B.big_resp, head, sizeof(head) - 1);
		for (uint32_t i = 0; i < BIG_BODY; i++)
			B.big_resp[sizeof(head) - 1 + i] = (uint8_t)((i * 2654435761u) >> 13);
	}
	hz = (double)rte_get_tsc_hz();
	B.preempt_cycles = rte_get_tsc_hz() / 1000;

	for (uint32_t s = 0; s < n_sizes; s++) {
		if (strchr(modes, 'k') != NULL)
			run_rounds(MODE_KEEPALIVE, routes[s], conns, requests, rounds,
				   &res[n_res++]);
		if (strchr(modes, 'c') != NULL)
			run_rounds(MODE_CLOSE, routes[s], conns, requests / 4, rounds,
				   &res[n_res++]);
		if (strchr(modes, 'b') != NULL)
			run_rounds(MODE_BIG, routes[s], 32, requests / 40, rounds,
				   &res[n_res++]);
	}

	printf("fastpath: the proxy node's cycles only (lib/net + lib/tcp input, polls);\n"
	       "TSC %.3f GHz, checksums %s, %u client addresses, %u backends\n\n",
	       hz / 1e9, B.offload ? "offloaded" : "in software", N_CLIENT_IPS, N_BACKENDS);
	printf("%-32s %6s %5s %8s %10s %13s %12s %7s %8s %7s %9s %6s %7s\n",
	       "case", "routes", "conns", "requests", "cycles/req", "(min-max)",
	       "req/s/core", "frm/req", "http B/r", "tcp B/r", "parse B/r", "wall s",
	       "preempt");
	for (unsigned int i = 0; i < n_res; i++) {
		const struct result *r = &res[i];
		double c = cpr(r), q = (double)r->requests;
		char spread[32];

		snprintf(spread, sizeof(spread), "(%.0f-%.0f)", r->cpr_min, r->cpr_max);
		printf("%-32s %6u %5u %8" PRIu64 " %10.0f %13s %12.0f %7.2f %8.1f %7.1f %9.1f %6.2f %7" PRIu64 "\n",
		       mode_name[r->mode], r->routes, r->conns, r->requests, c, spread, hz / c,
		       (double)r->frames / q, (double)r->http_copied / q,
		       (double)r->tcp_copied / q, (double)r->parser_copied / q, r->wall,
		       r->preempted);
	}
	printf("\npreempt: bursts over 1 ms (the process lost the CPU), left out of cycles;\n"
	       "http B/r: rewritten heads written by design; tcp B/r: payload copies.\n");
	printf("\ntargets (issue 9): keep-alive >= 1,000,000 req/s per worker core with 10,000 routes;\n"
	       "new connections >= 300,000/s per core; copied payload bytes 0 (tcp B/r).\n");
	for (unsigned int i = 0; i < n_res; i++) {
		const struct result *r = &res[i];
		double rate = hz / ((double)r->cycles / (double)r->requests);

		if (r->routes != 10000 || r->mode == MODE_BIG)
			continue;
		if (r->mode == MODE_KEEPALIVE)
			printf("keep-alive, 10,000 routes: %.0f req/s: %s\n", rate,
			       rate >= 1e6 ? "met" : "NOT met");
		else
			printf("new connection per request, 10,000 routes: %.0f conn/s: %s\n",
			       rate, rate >= 3e5 ? "met" : "NOT met");
	}
	for (unsigned int i = 0; i < n_res; i++)
		if (res[i].tcp_copied != 0) {
			printf("copied payload bytes: NOT 0 (%s, %u routes)\n",
			       mode_name[res[i].mode], res[i].routes);
			break;
		} else if (i + 1 == n_res) {
			printf("copied payload bytes (lib/tcp): 0 in every case: met\n");
		}
	fclose(B.devnull);
	free(B.big_resp);
	free(B.wire);
	rte_mempool_free(B.pool);
	rte_eal_cleanup();
	return 0;
}
