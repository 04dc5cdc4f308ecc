/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fastpath: the worker's fast path without the kernel (issue 9,
 * instrument 2). One process holds the proxy node as a worker builds it
 * (a gw_tcp_stack and a gw_http_proxy over it, routing with a snapshot
 * built by gw_route_snapshot_build() from generated Istio YAML; or the L4
 * proxy of lib/proxy for a tcp route) and peer nodes, each a lib/tcp stack
 * of its own: the clients (many connections from 16 addresses), the
 * backends (4 endpoints) and, with mirroring, the shadow peers (4 more).
 * The nodes are wired by a ring of mbufs and run on a virtual clock
 * (tools/bench/harness.h, shared with tools/bench/memory).
 *
 * Only the proxy node's work is timed, with rte_rdtsc(): lib/net's
 * classification and gw_tcp_input() of every frame addressed to it, in
 * bursts of 32 as the worker receives them, and the gw_tcp_poll() and
 * gw_http_proxy_poll() (gw_l4_proxy_poll()) that follow each burst. Not
 * timed: the NIC (the harness copies each frame into a fresh linear mbuf,
 * as a receive would), the worker's Ethernet fill, neighbour lookup and
 * TX burst, and everything the peers do. A burst that took over a
 * millisecond lost the CPU to another process (the machine is shared):
 * it is left out and counted ("preempt"). Pages are locked in
 * (mlockall) so that first touches do not fault inside timed bursts.
 *
 * Cases: keep-alive GET with a small response, a new connection per
 * request (Connection: close), a 64 KiB response body; each with 10 and
 * 10,000 routes (uri prefix matches; requests spread over the table),
 * without and with mirroring; and L4 established-flow forwarding.
 *
 * Mirroring: every route has `mirror: {host: shadow.test}` at 100%. The
 * shadow engine (lib/shadow) is created as lib/worker/dataplane_shadow.c
 * creates it, with the worker's item ring and segment ring, the worker's
 * ports, and its own TCP stack whose frames go on the wire to the shadow
 * peers, which answer as the backends do. The worker hands the engine the
 * segments of shadow connections that reach its upstream port (as
 * lib/worker/worker.c does), unless -S gives the engine a port of role
 * shadow of its own. The engine's gw_shadow_poll() (with gw_shadow_input()
 * of what it reads) runs after the worker's bursts and is timed apart:
 * the worker's cycles per request are what live traffic pays, the
 * engine's per copy are the control (or shadow) lcore's. Copies are
 * accounted for after those in flight finish: sent by the worker, taken
 * and dropped by the engine, answered by the shadow peers.
 *
 * L4: the L4 proxy as lib/worker builds it for a tcp listener, N
 * established client-backend flows; clients write small segments (at
 * most W unechoed per flow, one write per loop), backends echo them.
 * Reported per frame received by the proxy node.
 *
 * Usage: fastpath [-n REQUESTS] [-c CONNS] [-s] [-r ROUTES[,ROUTES]] [-m kcbf]
 *                 [-M off|on|both] [-P PENDING] [-S] [-f FLOWS] [-z BYTES]
 *                 [-w WRITES] [-R ROUNDS]
 *   -n  requests per case (keep-alive; the other cases take a fraction;
 *       L4: echoed writes)
 *   -c  concurrent client connections (small-response cases)
 *   -s  checksums in software (default: offloaded, as on a DPDK NIC)
 *   -r  route table sizes (default 10,10000)
 *   -m  cases: k keep-alive, c new connection per request, b 64 KiB body,
 *       f L4 established-flow forwarding
 *   -M  HTTP cases without mirroring, with, or both (default both)
 *   -P  the engine's max_pending (default 1024; 0: its own 128)
 *   -S  the engine owns a port of role shadow
 *   -f  L4 flows, -z bytes per write, -w writes in flight per flow
 *   -R  rounds per case (default 3): the median is shown, and the spread
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "gw_common.h"
#include "gw_config.h"
#include "gw_httpproxy.h"
#include "gw_metrics.h"
#include "gw_model.h"
#include "gw_net.h"
#include "gw_proxy.h"
#include "gw_route.h"
#include "gw_shadow.h"
#include "gw_tcp.h"

#include "harness.h"

#define WIRE_SIZE  (1u << 18)
#define N_CLIENT_IPS 16u
#define N_SHADOWS  HARNESS_BACKENDS       /* the mirror's endpoints (harness_istio_yaml()) */
#define SHADOW_ITEM_RING 2048u            /* as lib/worker/dataplane_shadow.c */
#define SHADOW_SEG_RING  1024u
#define L4_PORT    9000u
#define BIG_BODY   65536u
#define MAX_CONNS  65536u                 /* the worker's default connections_per_worker */

enum node_id { NODE_CLIENT = 0, NODE_PROXY, NODE_BACKEND, NODE_SHADOW, N_NODES };
enum mode { MODE_KEEPALIVE, MODE_CLOSE, MODE_BIG, MODE_L4 };

static const char *const mode_name[] = {
	"keep-alive GET, small response",
	"new connection per request",
	"keep-alive GET, 64 KiB body",
	"L4 established flows, echo",
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
	bool up;             /* established */
	uint64_t l4_sent;    /* L4: bytes sent, and echoed back */
	uint64_t l4_echoed;
};

/* A backend connection: answers every request head it sees. */
struct backend {
	struct gw_tcp_conn *c;
	uint32_t match;      /* progress through "\r\n\r\n" */
	uint32_t owed;       /* responses still to send */
	uint32_t off;        /* bytes of the current response sent */
	bool shadow;         /* the mirror's peer */
	bool blocked;        /* on B.blocked: responses owed, no send space */
	struct backend *next_blocked;
	struct backend *next_all, **prev_all;
};

struct bench {
	struct rte_mempool *pool;
	struct harness_node nodes[N_NODES];
	struct gw_http_proxy *px;
	struct gw_l4_proxy *l4;
	struct gw_metrics_table *metrics;
	struct harness_routes routes;
	FILE *devnull;
	uint64_t now;
	bool offload;
	enum mode mode;
	uint32_t n_routes;

	struct harness_wire wire;

	struct client *clients;
	uint32_t n_clients;
	uint32_t reopen;          /* close mode: connections to open again */
	uint64_t sent, done, errors, budget;
	uint64_t seq;             /* request counter (route choice) */

	struct backend *backends; /* list of live backend connections */
	struct backend *blocked;  /* those waiting for send space */

	const uint8_t *resp;      /* the backend's response */
	uint32_t resp_len;
	uint8_t *big_resp;
	uint32_t big_len;

	/* measured: the proxy node's cycles */
	uint64_t cycles, bursts, frames_in, polls;
	uint64_t preempt_cycles;  /* a burst longer than this was descheduled */
	uint64_t preempted;       /* such bursts, left out of cycles */

	/* mirroring: the shadow engine as the dataplane creates it */
	bool mirror;
	bool shadow_port;         /* -S: the engine owns a port of role shadow */
	uint32_t max_pending;     /* gw_shadow_params.max_pending (0: its default) */
	struct gw_shadow *sh;
	struct gw_shadow_health *sh_health; /* shared by engine and worker */
	struct rte_ring *sh_items, *sh_rx;
	uint8_t port_index[RTE_MAX_ETHPORTS];
	uint64_t sh_cycles, sh_polls, sh_preempted;
	uint64_t handoff_frames;  /* shadow segments the worker passed on */
	uint64_t handoff_drops;   /* its ring was full */
	uint64_t shadow_requests, shadow_responses; /* seen at the shadow peer */

	/* L4 forwarding */
	uint32_t seg_size;        /* bytes per client write */
	uint32_t l4_window;       /* writes in flight per flow */
	uint64_t l4_echoed;       /* bytes back at the clients */
};

static struct bench B;

/* ---- the wire ---- */

/* The node and port of an address; the shadow peers sit behind the
 * engine's own port (10.10.3.0/24) with -S, beside the backends without. */
static enum node_id
wire_dest(uint32_t dst, unsigned int *port)
{
	uint32_t net = (dst >> 8) & 0xff, host = dst & 0xff;

	if (net == 1 && host == 1) {
		*port = 0;
		return NODE_PROXY;
	}
	if (net == 2 && host == 1) {
		*port = 1;
		return NODE_PROXY;
	}
	if (net == 3 && host == 1) {
		*port = 2;   /* the shadow port (-S) */
		return NODE_PROXY;
	}
	if (net == 1 && host >= 10 && host < 10 + N_CLIENT_IPS) {
		*port = host - 10;
		return NODE_CLIENT;
	}
	if (net == 2 && host >= 11 && host < 11 + HARNESS_BACKENDS) {
		*port = host - 11;
		return NODE_BACKEND;
	}
	if (net == (B.shadow_port ? 3u : 2u) && host >= 21 && host < 21 + N_SHADOWS) {
		*port = host - 21;
		return NODE_SHADOW;
	}
	return N_NODES;
}

/* A frame off the wire as the receiving node's NIC hands it over. */
static struct rte_mbuf *
nic_receive(struct rte_mbuf *m, enum node_id *node, unsigned int *port)
{
	struct harness_flow fl;

	harness_frame_flow(m, &fl);
	*node = wire_dest(fl.dst, port);
	if (*node == N_NODES)
		harness_die("frame to an unknown address");
	return harness_nic_receive(m, B.pool, &B.nodes[*node].ports[*port], B.offload);
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

	if (B.mode == MODE_L4) {
		/* the echo of what this flow sent */
		cl->l4_echoed += total;
		if (cl->l4_echoed > cl->l4_sent)
			B.errors++;
		B.l4_echoed += total;
		B.done = B.l4_echoed / B.seg_size;
		rte_pktmbuf_free(m);
		gw_tcp_recv_consumed(c, total);
		return;
	}

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
	cl->up = true;
	if (B.mode != MODE_L4)
		client_send_request(cl);
}

/* L4: one small write per loop while fewer than l4_window are unechoed
 * (one write per loop: writes of one loop would leave as one segment). */
static void
client_l4_write(struct client *cl)
{
	struct rte_mbuf *m;
	uint8_t *p;

	if (!cl->up || B.sent >= B.budget ||
	    cl->l4_sent - cl->l4_echoed >= (uint64_t)B.l4_window * B.seg_size)
		return;
	m = rte_pktmbuf_alloc(B.pool);
	if (m == NULL)
		harness_die("mbuf pool exhausted (client)");
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)B.seg_size);
	memset(p, (int)(B.sent & 0xff), B.seg_size);
	if (gw_tcp_send(cl->c, m) != 0)
		harness_die("client send refused");
	cl->l4_sent += B.seg_size;
	B.sent++;
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
	cl->up = false;
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
		harness_die("mbuf pool exhausted (client)");
	p = rte_pktmbuf_mtod(m, char *);
	n = snprintf(p, rte_pktmbuf_tailroom(m),
		     "GET /r%u/item HTTP/1.1\r\nhost: svc.test\r\n"
		     "user-agent: fastpath\r\naccept: */*\r\n%s\r\n", route,
		     B.mode == MODE_CLOSE ? "connection: close\r\n" : "");
	rte_pktmbuf_append(m, (uint16_t)n);
	if (gw_tcp_send(cl->c, m) != 0)
		harness_die("client send refused");
	B.sent++;
}

static void
client_open(struct client *cl)
{
	memset(cl, 0, sizeof(*cl));
	cl->ip_index = (uint32_t)(B.seq % N_CLIENT_IPS);
	cl->c = gw_tcp_connect(B.nodes[NODE_CLIENT].s, cl->ip_index, harness_ip4(10, 10, 1, 1),
			       B.mode == MODE_L4 ? L4_PORT : HARNESS_LISTEN_PORT, &client_cb,
			       cl);
	if (cl->c == NULL)
		harness_die("client connect: %s", rte_strerror(rte_errno));
}

/* ---- backends ---- */

static void
backend_pump(struct backend *b)
{
	while (b->c != NULL && b->owed > 0) {
		uint32_t space = gw_tcp_send_space(b->c), n;
		struct rte_mbuf *m;

		if (space == 0)
			break;
		m = rte_pktmbuf_alloc(B.pool);
		if (m == NULL)
			harness_die("mbuf pool exhausted (backend)");
		n = B.resp_len - b->off;
		if (n > rte_pktmbuf_tailroom(m))
			n = rte_pktmbuf_tailroom(m);
		if (n > space)
			n = space;
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), B.resp + b->off, n);
		if (gw_tcp_send(b->c, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		b->off += n;
		if (b->off == B.resp_len) {
			b->off = 0;
			b->owed--;
			if (b->shadow)
				B.shadow_responses++;
		}
	}
	/* out of send space: the loop tries again (walking only these) */
	if (b->c != NULL && b->owed > 0 && !b->blocked) {
		b->blocked = true;
		b->next_blocked = B.blocked;
		B.blocked = b;
	}
}

static void
backend_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct backend *b = ctx;
	uint32_t total = rte_pktmbuf_pkt_len(m), heads;

	if (B.mode == MODE_L4) {
		/* an echo server: the received segment goes back as it is */
		gw_tcp_recv_consumed(c, total);
		if (gw_tcp_send(c, m) != 0)
			harness_die("backend echo refused (send buffer full)");
		return;
	}
	heads = harness_count_heads(m, &b->match);
	b->owed += heads;
	if (b->shadow)
		B.shadow_requests += heads;
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
backend_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct backend *b = ctx;

	RTE_SET_USED(c);
	RTE_SET_USED(reason);
	if (b->next_all != NULL)
		b->next_all->prev_all = b->prev_all;
	*b->prev_all = b->next_all;
	if (b->blocked) {
		struct backend **p = &B.blocked;

		while (*p != b)
			p = &(*p)->next_blocked;
		*p = b->next_blocked;
	}
	free(b);
}

static const struct gw_tcp_callbacks backend_cb = {
	.on_data = backend_data,
	.on_writable = backend_writable,
	.on_fin = harness_fin_shutdown,
	.on_closed = backend_closed,
};

static void *
backend_accept(void *listener_ctx, struct gw_tcp_conn *c,
	       const struct gw_tcp_callbacks **cb)
{
	struct backend *b = calloc(1, sizeof(*b));

	if (b == NULL)
		harness_die("out of memory");
	b->c = c;
	b->shadow = listener_ctx != NULL;
	b->next_all = B.backends;
	if (B.backends != NULL)
		B.backends->prev_all = &b->next_all;
	b->prev_all = &B.backends;
	B.backends = b;
	*cb = &backend_cb;
	return b;
}

/* ---- set-up ---- */

/* The shadow engine and its rings, as lib/worker/dataplane_shadow.c makes
 * them: one item ring and one segment ring per worker (here one), the
 * worker's ports; its frames go on the wire (the dataplane hands them to
 * worker 0's TX queue). */
static void
shadow_setup(const uint32_t *roles)
{
	static unsigned int seq;
	struct harness_node *px = &B.nodes[NODE_PROXY];
	char name[RTE_RING_NAMESIZE];
	struct gw_shadow_params p;

	snprintf(name, sizeof(name), "fp_shitems_%u", seq);
	B.sh_items = rte_ring_create_elem(name, sizeof(struct gw_shadow_item),
					  SHADOW_ITEM_RING, SOCKET_ID_ANY,
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "fp_shrx_%u", seq++);
	B.sh_rx = rte_ring_create(name, SHADOW_SEG_RING, SOCKET_ID_ANY,
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	B.sh_health = rte_zmalloc("fp_shhealth", sizeof(*B.sh_health), RTE_CACHE_LINE_SIZE);
	if (B.sh_items == NULL || B.sh_rx == NULL || B.sh_health == NULL)
		harness_die("shadow rings: %s", rte_strerror(rte_errno));
	memset(B.port_index, 0xff, sizeof(B.port_index));
	for (unsigned int i = 0; i < px->n_ports; i++)
		B.port_index[px->ports[i].iface.port_id] = (uint8_t)i;
	memset(&p, 0, sizeof(p));
	p.pool = B.pool;
	p.n_rings = 1;
	p.rings = &B.sh_items;
	p.rx_rings = &B.sh_rx;
	p.port_index = B.port_index;
	p.n_ports = px->n_ports;
	p.ports = px->ports;
	p.port_roles = roles;
	p.xmit = harness_wire_xmit;
	p.xmit_arg = &B.wire;
	p.max_pending = B.max_pending;
	p.health = B.sh_health;
	p.tsc_hz = HARNESS_VHZ;
	p.start_tsc = B.now;
	B.sh = gw_shadow_create(&p);
	if (B.sh == NULL)
		harness_die("cannot create the shadow engine: %s", rte_strerror(rte_errno));
}

static void
bench_setup(uint32_t n_routes)
{
	static const uint32_t roles[3] = {GW_ROLE_DOWNSTREAM, GW_ROLE_UPSTREAM,
					  GW_ROLE_SHADOW};
	static const uint16_t listen_ports[] = {HARNESS_LISTEN_PORT};
	static const uint16_t l4_ports[] = {L4_PORT};
	static const enum gw_route_protocol l4_protocols[] = {GW_ROUTE_PROTOCOL_TCP};
	struct gw_route_build_params rp = {
		.listener_ports = listen_ports,
		.n_listener_ports = 1,
		.n_workers = 1,
		.seed = 1,
	};
	struct harness_istio istio = {
		.n_routes = n_routes,
		.mirror = B.mirror,
		.shadow_net = B.shadow_port ? 3 : 2,
		.l4 = B.mode == MODE_L4,
		.l4_port = L4_PORT,
	};
	struct harness_node *px = &B.nodes[NODE_PROXY];
	struct gw_http_proxy_params pp;
	size_t len;
	char *yaml;

	B.now = HARNESS_START_TSC;
	B.n_routes = n_routes;
	if (B.mode == MODE_L4) {
		rp.listener_ports = l4_ports;
		rp.listener_protocols = l4_protocols;
	}
	len = harness_istio_yaml(&istio, NULL, 0);
	yaml = malloc(len + 1);
	if (yaml == NULL)
		harness_die("out of memory");
	harness_istio_yaml(&istio, yaml, len + 1);
	harness_routes_load(&B.routes, yaml, len, "fastpath.yaml", &rp);
	free(yaml);

	memset(B.nodes, 0, sizeof(B.nodes));
	for (unsigned int i = 0; i < N_NODES; i++)
		B.nodes[i].pool = B.pool;
	for (unsigned int i = 0; i < N_CLIENT_IPS; i++)
		harness_node_add_port(&B.nodes[NODE_CLIENT], harness_ip4(10, 10, 1, 10 + i), 1,
				      B.offload);
	harness_node_add_port(px, harness_ip4(10, 10, 1, 1), 2, B.offload);
	harness_node_add_port(px, harness_ip4(10, 10, 2, 1), 3, B.offload);
	if (B.shadow_port && B.mirror && B.mode != MODE_L4)
		harness_node_add_port(px, harness_ip4(10, 10, 3, 1), 6, B.offload);
	for (unsigned int i = 0; i < HARNESS_BACKENDS; i++)
		harness_node_add_port(&B.nodes[NODE_BACKEND], harness_ip4(10, 10, 2, 11 + i), 4,
				      B.offload);
	for (unsigned int i = 0; i < N_SHADOWS; i++)
		harness_node_add_port(&B.nodes[NODE_SHADOW],
				      harness_ip4(10, 10, B.shadow_port ? 3 : 2, 21 + i), 5,
				      B.offload);
	B.nodes[NODE_CLIENT].s = harness_peer_stack(&B.nodes[NODE_CLIENT], 8192, &B.wire, B.now);
	px->s = harness_worker_stack(px, MAX_CONNS, 0, 1, &B.wire, B.now);
	B.nodes[NODE_BACKEND].s = harness_peer_stack(&B.nodes[NODE_BACKEND], 8192, &B.wire,
						     B.now);
	B.nodes[NODE_SHADOW].s = harness_peer_stack(&B.nodes[NODE_SHADOW], 8192, &B.wire, B.now);
	if (gw_tcp_listen(B.nodes[NODE_BACKEND].s, 0, HARNESS_BACKEND_PORT, backend_accept,
			  NULL) != 0)
		harness_die("backend listen");
	/* a non-NULL context marks the mirror's peer */
	if (gw_tcp_listen(B.nodes[NODE_SHADOW].s, 0, HARNESS_BACKEND_PORT, backend_accept,
			  &B) != 0)
		harness_die("shadow listen");

	if (B.mode == MODE_L4) {
		/* the L4 proxy as lib/worker/dataplane.c builds it */
		struct gw_l4_proxy_params lp = {
			.stack = px->s,
			.worker_id = 0,
			.snapshot = harness_snapshot_get,
			.snapshot_arg = &B.routes,
			.max_sessions = MAX_CONNS / 2 + 1,
			.n_ports = 2,
			.ports = px->ports,
			.port_roles = roles,
			.tsc_hz = HARNESS_VHZ,
			.start_tsc = B.now,
			.socket_id = SOCKET_ID_ANY,
		};

		B.l4 = gw_l4_proxy_create(&lp);
		if (B.l4 == NULL)
			harness_die("cannot create the L4 proxy: %s", rte_strerror(rte_errno));
		if (gw_l4_proxy_listen(B.l4, 0, L4_PORT) != 0)
			harness_die("L4 proxy listen");
		return;
	}
	if (B.mirror)
		shadow_setup(roles);

	B.metrics = harness_metrics_new();
	harness_http_proxy_params(&pp, px, 0, roles, &B.routes, B.metrics, B.now);
	pp.max_sessions = 8192;
	pp.n_workers = 1;
	pp.max_head = 60 * 1024;
	pp.max_headers = 100;
	pp.shadow_ring = B.sh_items;
	pp.shadow_health = B.sh_health;
	B.px = harness_http_proxy_start(&pp);
}

static void
bench_teardown(void)
{
	struct rte_mbuf *m;

	for (unsigned int i = 0; i < N_NODES; i++)
		gw_tcp_stack_free(B.nodes[i].s);
	gw_http_proxy_free(B.px);
	B.px = NULL;
	gw_l4_proxy_free(B.l4);
	B.l4 = NULL;
	/* the engine frees what its item ring still holds */
	gw_shadow_free(B.sh);
	B.sh = NULL;
	while (B.sh_rx != NULL && rte_ring_dequeue(B.sh_rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(B.sh_rx);
	rte_ring_free(B.sh_items);
	B.sh_rx = B.sh_items = NULL;
	rte_free(B.sh_health);
	B.sh_health = NULL;
	gw_metrics_table_free(B.metrics);
	B.metrics = NULL;
	harness_wire_drain(&B.wire);
	harness_routes_free(&B.routes);
	free(B.clients);
	B.clients = NULL;
}

/* ---- the loop ---- */

/* The measured work: one receive burst of the proxy node and the polls
 * after it. Not inlined, so that a profile can tell it from the peers'. */
static __attribute__((noinline)) void
proxy_burst(struct rte_mbuf **rx, const uint8_t *rx_port, uint32_t n)
{
	for (uint32_t j = 0; j < n; j++) {
		struct rte_mbuf *f = rx[j];
		unsigned int port = rx_port[j];
		struct gw_net_result res;

		if (gw_net_input(&B.nodes[NODE_PROXY].ports[port].iface,
				 rte_pktmbuf_mtod(f, uint8_t *), rte_pktmbuf_data_len(f),
				 &res) != GW_NET_TCP)
			harness_die("frame dropped by lib/net: %s", gw_drop_reason_name(res.drop));
		/* The shadow engine's connections, by their reserved ports on
		 * the upstream port: handed over on the worker's ring, as
		 * lib/worker/worker.c tcp_dispatch() does. */
		if (B.sh != NULL && port == 1) {
			const uint8_t *th = rte_pktmbuf_mtod_offset(f, const uint8_t *,
								    res.l4_offset);
			uint16_t dport = (uint16_t)(th[2] << 8 | th[3]);

			if (dport >= GW_SHADOW_PORT_FIRST && dport <= GW_SHADOW_PORT_LAST) {
				if (rte_ring_sp_enqueue(B.sh_rx, f) != 0) {
					B.handoff_drops++;
					rte_pktmbuf_free(f);
				} else {
					B.handoff_frames++;
				}
				continue;
			}
		}
		gw_tcp_input(B.nodes[NODE_PROXY].s, port, f, &res);
	}
	gw_tcp_poll(B.nodes[NODE_PROXY].s, B.now);
	if (B.l4 != NULL)
		gw_l4_proxy_poll(B.l4, B.now);
	else
		gw_http_proxy_poll(B.px, B.now);
}

/* The shadow engine's work (the control lcore's in the dataplane), timed
 * apart from the worker's. Not inlined, for the profile. */
static __attribute__((noinline)) void
shadow_burst(struct rte_mbuf **rx, uint32_t n)
{
	uint64_t t0 = rte_rdtsc(), t1;

	/* -S: frames read from the engine's own port, as
	 * lib/worker/dataplane_shadow.c shadow_port_input() takes them */
	for (uint32_t j = 0; j < n; j++) {
		struct gw_net_result res;

		if (gw_net_input(&B.nodes[NODE_PROXY].ports[2].iface,
				 rte_pktmbuf_mtod(rx[j], uint8_t *),
				 rte_pktmbuf_data_len(rx[j]), &res) != GW_NET_TCP)
			harness_die("frame on the shadow port dropped by lib/net: %s",
			    gw_drop_reason_name(res.drop));
		gw_shadow_input(B.sh, rx[j]);
	}
	gw_shadow_poll(B.sh, B.now);
	t1 = rte_rdtsc();
	if (t1 - t0 > B.preempt_cycles)
		B.sh_preempted++;
	else
		B.sh_cycles += t1 - t0;
	B.sh_polls++;
}

static void
step(void)
{
	static struct rte_mbuf *rx[WIRE_SIZE], *sh_rx[WIRE_SIZE];
	static uint8_t rx_port[WIRE_SIZE];
	uint32_t n_rx = 0, n_sh = 0, end = B.wire.tail;
	uint64_t t0, t1;

	/* Frames sent in the previous loop arrive now. */
	for (struct rte_mbuf *m; (m = harness_wire_take(&B.wire, end)) != NULL;) {
		struct rte_mbuf *f;
		enum node_id node;
		unsigned int port;

		f = nic_receive(m, &node, &port);
		if (node == NODE_PROXY && port == 2) {
			sh_rx[n_sh++] = f;   /* the shadow port: the engine's */
		} else if (node == NODE_PROXY) {
			rx_port[n_rx] = (uint8_t)port;
			rx[n_rx++] = f;
		} else {
			harness_node_input(&B.nodes[node], port, f);
		}
	}
	/* The proxy node: bursts of 32, each followed by the worker's polls. */
	for (uint32_t i = 0; i < n_rx || i == 0; i += HARNESS_BURST) {
		uint32_t k = n_rx - i < HARNESS_BURST ? n_rx - i : HARNESS_BURST;

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
		/* The engine runs beside the worker in the dataplane: here it
		 * takes its turn before the worker's rings could fill. */
		if (B.sh != NULL && (rte_ring_count(B.sh_items) >= SHADOW_ITEM_RING / 2 ||
				     rte_ring_count(B.sh_rx) >= SHADOW_SEG_RING / 2))
			shadow_burst(NULL, 0);
		if (n_rx == 0)
			break;
	}
	B.frames_in += n_rx;
	if (B.sh != NULL) {
		shadow_burst(sh_rx, n_sh);
		/* the control lcore's: the shadow access log */
		gw_shadow_accesslog_drain(B.sh, B.devnull);
	}
	/* The peers. */
	gw_tcp_poll(B.nodes[NODE_CLIENT].s, B.now);
	gw_tcp_poll(B.nodes[NODE_BACKEND].s, B.now);
	gw_tcp_poll(B.nodes[NODE_SHADOW].s, B.now);
	if (B.mode == MODE_L4)
		for (uint32_t i = 0; i < B.n_clients; i++)
			client_l4_write(&B.clients[i]);
	{
		struct backend *b = B.blocked, *next;

		B.blocked = NULL;
		for (; b != NULL; b = next) {
			next = b->next_blocked;
			b->blocked = false;
			backend_pump(b);
		}
	}
	for (uint32_t i = 0; i < B.n_clients && B.reopen > 0; i++) {
		struct client *cl = &B.clients[i];

		if (cl->closed && B.sent < B.budget) {
			B.reopen--;
			client_open(cl);
		}
	}
	/* The control lcore's share: the access log. */
	if (B.px != NULL)
		gw_http_accesslog_drain(gw_http_proxy_accesslog_ring(B.px), B.devnull);
	B.now += HARNESS_TICK;
}

struct result {
	enum mode mode;
	bool mirror;
	uint32_t routes, conns;
	uint64_t requests, cycles, frames, polls;
	uint64_t http_copied, parser_copied, tcp_copied;
	uint64_t upstream_connects, connections, preempted;
	double wall;
	double cpr_min, cpr_max;      /* spread over the rounds */
	/* mirroring: the window's copies and engine cycles, then the whole
	 * run's accounting of copies (after in-flight ones finished) */
	uint64_t mirrors, sh_cycles, sh_preempted, handoff_frames;
	uint64_t m_sent, m_worker_dropped, m_engine_taken, m_engine_drops;
	uint64_t m_peer_requests, m_peer_answered, m_log_lines, m_streams_left;
	uint64_t m_handoff_drops, m_stats_full, m_connects;
	/* L4: payload bytes forwarded in the window, both ways */
	uint64_t l4_bytes;
};

/* Cycles per request; per frame received for L4 forwarding. */
static double
cpr(const struct result *r)
{
	if (r->mode == MODE_L4)
		return (double)r->cycles / (double)r->frames;
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
	struct gw_http_proxy_stats ps0 = {0};
	struct gw_l4_proxy_stats ls0 = {0};
	struct gw_tcp_stats ts0;
	const struct gw_tcp_stats *ts;
	uint64_t warm = requests / 10 + conns, done0, c0, f0, p0, sc0, hf0, guard;
	struct timespec w0, w1;

	memset(r, 0, sizeof(*r));
	B.sent = B.done = B.errors = B.seq = 0;
	B.mode = mode;
	B.budget = warm + requests;
	B.reopen = 0;
	B.backends = NULL;
	B.blocked = NULL;
	B.cycles = B.frames_in = B.polls = B.bursts = B.preempted = 0;
	B.sh_cycles = B.sh_polls = B.sh_preempted = 0;
	B.handoff_frames = B.handoff_drops = 0;
	B.shadow_requests = B.shadow_responses = 0;
	B.l4_echoed = 0;
	if (mode == MODE_BIG) {
		B.resp = B.big_resp;
		B.resp_len = B.big_len;
	} else {
		B.resp = harness_small_resp;
		B.resp_len = harness_small_resp_len;
	}
	bench_setup(n_routes);
	B.clients = calloc(conns, sizeof(*B.clients));
	if (B.clients == NULL)
		harness_die("out of memory");
	B.n_clients = conns;
	for (uint32_t i = 0; i < conns; i++)
		client_open(&B.clients[i]);

	/* Warm-up: connections, pools, caches; then the measured requests. */
	guard = 0;
	while (B.done < warm && B.errors == 0 && ++guard < 10000000)
		step();
	if (B.px != NULL)
		ps0 = *gw_http_proxy_stats(B.px);
	if (B.l4 != NULL)
		ls0 = *gw_l4_proxy_stats(B.l4);
	ts0 = *gw_tcp_stack_stats(B.nodes[NODE_PROXY].s);
	done0 = B.done;
	c0 = B.cycles;
	f0 = B.frames_in;
	p0 = B.polls;
	sc0 = B.sh_cycles;
	hf0 = B.handoff_frames;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	while (B.done < B.budget && B.errors == 0 && ++guard < 10000000)
		step();
	clock_gettime(CLOCK_MONOTONIC, &w1);
	if (B.errors != 0 && B.l4 != NULL) {
		const struct gw_l4_proxy_stats *ls = gw_l4_proxy_stats(B.l4);

		harness_die("%s: %" PRIu64 " errors (L4 proxy: sessions %" PRIu64 ", no route %"
		    PRIu64 ", no endpoint %" PRIu64 ", connect failures %" PRIu64 ")",
		    mode_name[mode], B.errors, ls->sessions, ls->no_route,
		    ls->no_endpoint, ls->upstream_connect_failures);
	}
	if (B.errors != 0)
		harness_die("%s: %" PRIu64 " errors", mode_name[mode], B.errors);
	if (B.done < B.budget)
		harness_die("%s: stalled at %" PRIu64 " of %" PRIu64 " responses",
		    mode_name[mode], B.done, B.budget);
	if (B.wire.overflow != 0)
		harness_die("%s: %" PRIu64 " frames lost: wire full", mode_name[mode],
			    B.wire.overflow);
	ts = gw_tcp_stack_stats(B.nodes[NODE_PROXY].s);
	r->mode = mode;
	r->mirror = B.mirror && mode != MODE_L4;
	r->routes = n_routes;
	r->conns = conns;
	r->requests = B.done - done0;
	r->cycles = B.cycles - c0;
	r->frames = B.frames_in - f0;
	r->polls = B.polls - p0;
	r->preempted = B.preempted;
	if (r->requests == 0 || r->frames == 0 || r->cycles == 0)
		harness_die("%s: nothing measured after the warm-up (%u connections): raise -n",
		    mode_name[mode], conns);
	r->tcp_copied = ts->copied_bytes - ts0.copied_bytes;
	r->wall = (double)(w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9;
	if (B.l4 != NULL) {
		const struct gw_l4_proxy_stats *ls = gw_l4_proxy_stats(B.l4);

		r->l4_bytes = ls->bytes_to_upstream - ls0.bytes_to_upstream +
			      ls->bytes_to_downstream - ls0.bytes_to_downstream;
		r->connections = ls->sessions;
		if (ls->upstream_connect_failures != 0 || ls->resets_propagated != 0 ||
		    ls->no_route != 0 || ls->no_session != 0)
			harness_die("%s: L4 sessions failed", mode_name[mode]);
	} else {
		const struct gw_http_proxy_stats *ps = gw_http_proxy_stats(B.px);

		r->http_copied = ps->copied_bytes - ps0.copied_bytes;
		r->parser_copied = ps->parser_copied_bytes - ps0.parser_copied_bytes;
		r->upstream_connects = ps->upstream_connects - ps0.upstream_connects;
		r->connections = ps->connections - ps0.connections;
		r->mirrors = ps->mirror_requests - ps0.mirror_requests;
		if (ps->rq_2xx - ps0.rq_2xx != ps->responses - ps0.responses)
			harness_die("%s: non-2xx responses from the proxy", mode_name[mode]);
	}
	r->sh_cycles = B.sh_cycles - sc0;
	r->sh_preempted = B.sh_preempted;
	r->handoff_frames = B.handoff_frames - hf0;
	if (B.sh != NULL) {
		const struct gw_shadow_stats *st = gw_shadow_stats(B.sh);
		const struct gw_http_proxy_stats *ps = gw_http_proxy_stats(B.px);

		/* Copies still in flight finish (no new requests): then every
		 * copy of the run is accounted for. */
		guard = 0;
		while ((st->streams > 0 || !harness_wire_empty(&B.wire)) && ++guard < 100000)
			step();
		gw_shadow_accesslog_drain(B.sh, B.devnull);
		r->m_sent = ps->mirror_requests;
		r->m_worker_dropped = ps->mirror_dropped;
		for (unsigned int i = 0; i < gw_shadow_route_count(B.sh); i++)
			r->m_engine_taken += gw_shadow_route(B.sh, i)->requests;
		r->m_stats_full = st->stats_full;
		r->m_engine_taken += st->stats_full; /* HEADs not counted per route */
		r->m_engine_drops = st->drops;
		r->m_log_lines = st->log_lines;
		r->m_streams_left = st->streams;
		r->m_connects = st->connects;
		r->m_peer_requests = B.shadow_requests;
		r->m_peer_answered = B.shadow_responses;
		r->m_handoff_drops = B.handoff_drops;
		if (st->streams > 0)   /* what the engine still holds, for a reader */
			gw_shadow_stats_text(B.sh, stderr);
	}
	bench_teardown();
	if (rte_mempool_in_use_count(B.pool) != 0)
		harness_die("%u mbufs not returned", rte_mempool_in_use_count(B.pool));
}

static void
usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n REQUESTS] [-c CONNS] [-s] [-r ROUTES[,ROUTES]] [-m kcbf]\n"
		"          [-M off|on|both] [-P PENDING] [-S] [-f FLOWS] [-z BYTES] [-w WRITES]\n"
		"          [-R ROUNDS]\n"
		"  -n  keep-alive requests per case (default 100000; new connections:\n"
		"      a quarter, 64 KiB bodies: a fortieth, L4 echoes: as many)\n"
		"  -c  concurrent client connections (default 1000; 64 KiB: 32)\n"
		"  -s  checksums in software (default: offloaded, as on a DPDK NIC)\n"
		"  -r  route table sizes (default 10,10000)\n"
		"  -m  cases: k keep-alive, c new connections, b 64 KiB bodies,\n"
		"      f L4 established-flow forwarding (default kcbf)\n"
		"  -M  HTTP cases without mirroring, with every request mirrored, or both\n"
		"      (default both)\n"
		"  -P  the shadow engine's max_pending, copies in flight (the bootstrap's\n"
		"      mirror.max_pending; default here 1024; 0: the engine's own default,\n"
		"      128, which this harness's 1,000 connections in lock step exceed:\n"
		"      most copies are then dropped as 'pending')\n"
		"  -S  the engine owns a port of role shadow (default: none; its segments\n"
		"      reach the worker's upstream port and are handed over on a ring)\n"
		"  -f  L4 flows (default 1000)\n"
		"  -z  L4 bytes per write (default 64)\n"
		"  -w  L4 writes in flight per flow (default 4)\n"
		"  -R  rounds per case, 1 to 9 (default 3): median and spread shown\n",
		argv0);
	exit(2);
}

static void
print_targets(const struct result *res, unsigned int n_res, double hz)
{
	printf("\ntargets (issue 9): keep-alive >= 1,000,000 req/s per worker core with 10,000 routes;\n"
	       "new connections >= 300,000/s per core; copied payload bytes 0 (tcp B/r);\n"
	       "100%% mirroring costing under 10%% (here: of the worker's cycles per request).\n");
	for (unsigned int i = 0; i < n_res; i++) {
		const struct result *r = &res[i];
		double rate = hz / cpr(r);

		if (r->routes != 10000 || r->mirror || (r->mode != MODE_KEEPALIVE &&
							 r->mode != MODE_CLOSE))
			continue;
		if (r->mode == MODE_KEEPALIVE)
			printf("keep-alive, 10,000 routes: %.0f req/s: %s\n", rate,
			       rate >= 1e6 ? "met" : "NOT met");
		else
			printf("new connection per request, 10,000 routes: %.0f conn/s: %s\n",
			       rate, rate >= 3e5 ? "met" : "NOT met");
	}
	for (unsigned int i = 0; i < n_res; i++) {
		const struct result *r = &res[i];

		if (!r->mirror)
			continue;
		for (unsigned int j = 0; j < n_res; j++) {
			const struct result *b = &res[j];
			double o;

			if (b->mirror || b->mode != r->mode || b->routes != r->routes)
				continue;
			o = (cpr(r) - cpr(b)) / cpr(b) * 100.0;
			printf("mirroring 100%%, %s, %u routes: worker %+.1f%%: %s\n",
			       mode_name[r->mode], r->routes, o, o < 10.0 ? "met" : "NOT met");
		}
	}
	for (unsigned int i = 0; i < n_res; i++)
		if (res[i].tcp_copied != 0) {
			printf("copied payload bytes: NOT 0 (%s, %u routes)\n",
			       mode_name[res[i].mode], res[i].routes);
			return;
		}
	if (n_res > 0)
		printf("copied payload bytes (lib/tcp): 0 in every case: met\n");
}

int
main(int argc, char **argv)
{
	uint32_t routes[4] = {10, 10000}, n_sizes = 2, conns = 1000, flows = 1000;
	uint64_t requests = 100000;
	unsigned int rounds = 3;
	const char *modes = "kcbf";
	bool with_plain = true, with_mirror = true;
	struct result res[40];
	unsigned int n_res = 0;
	double hz;
	int opt;

	harness_set_name("fastpath");
	B.offload = true;
	B.max_pending = 1024;
	B.seg_size = 64;
	B.l4_window = 4;
	while ((opt = getopt(argc, argv, "n:c:sSr:m:M:P:f:z:w:R:h")) != -1) {
		char *tok;

		switch (opt) {
		case 'n':
			requests = harness_parse_num(optarg, 100, 100000000,
					     "-n: a count of 100 to 100,000,000 requests");
			break;
		case 'c':
			conns = (uint32_t)harness_parse_num(optarg, 1, 4096, "-c: 1 to 4096 connections");
			break;
		case 's':
			B.offload = false;
			break;
		case 'S':
			B.shadow_port = true;
			break;
		case 'R':
			rounds = (unsigned int)harness_parse_num(optarg, 1, 9, "-R: 1 to 9 rounds");
			break;
		case 'm':
			modes = optarg;
			if (modes[strspn(modes, "kcbf")] != '\0' || modes[0] == '\0')
				harness_die("-m: letters k (keep-alive), c (new connections), b (64 KiB bodies), "
				    "f (L4 forwarding)");
			break;
		case 'M':
			if (strcmp(optarg, "off") == 0) {
				with_plain = true;
				with_mirror = false;
			} else if (strcmp(optarg, "on") == 0) {
				with_plain = false;
				with_mirror = true;
			} else if (strcmp(optarg, "both") == 0) {
				with_plain = with_mirror = true;
			} else {
				harness_die("-M: off, on or both");
			}
			break;
		case 'P':
			B.max_pending = (uint32_t)harness_parse_num(optarg, 0, 8192,
							    "-P: 0 (default) to 8192 shadow requests");
			break;
		case 'f':
			flows = (uint32_t)harness_parse_num(optarg, 1, 4096, "-f: 1 to 4096 flows");
			break;
		case 'z':
			B.seg_size = (uint32_t)harness_parse_num(optarg, 1, 1400, "-z: 1 to 1400 bytes");
			break;
		case 'w':
			B.l4_window = (uint32_t)harness_parse_num(optarg, 1, 64, "-w: 1 to 64 writes");
			break;
		case 'r':
			n_sizes = 0;
			for (tok = strtok(optarg, ","); tok != NULL; tok = strtok(NULL, ",")) {
				if (n_sizes == 4)
					harness_die("-r: at most 4 sizes");
				routes[n_sizes] = (uint32_t)harness_parse_num(tok, 1, 100000,
						"-r: sizes of 1 to 100,000 routes");
				n_sizes++;
			}
			if (n_sizes == 0)
				usage(argv[0]);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);
	harness_eal_init(argv[0], "fastpath", 1024);
	/* Every page present from its allocation on, as a gateway on hugepages
	 * has them: otherwise first touches of session buffers, the access-log
	 * ring and EAL memory (--no-huge) fault inside the timed bursts (a
	 * tenth of the proxy's samples in a profile of a short run). */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
		fprintf(stderr, "fastpath: mlockall: %s (page faults will be timed)\n",
			strerror(errno));
	/* Room for the mirror's mbufs too: the engine drops copies when
	 * fewer than an eighth of the pool are free. */
	B.pool = rte_pktmbuf_pool_create("fastpath", 65535, 256, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	harness_wire_init(&B.wire, WIRE_SIZE);
	B.devnull = fopen("/dev/null", "w");
	if (B.pool == NULL || B.devnull == NULL)
		harness_die("set-up: %s", rte_strerror(rte_errno));
	{
		/* The 64 KiB response: a head and a patterned body. */
		const char head[] = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
				    "content-length: 65536\r\n\r\n";

		B.big_len = (uint32_t)(sizeof(head) - 1 + BIG_BODY);
		B.big_resp = malloc(B.big_len);
		if (B.big_resp == NULL)
			harness_die("out of memory");
		memcpy(B.big_resp, head, sizeof(head) - 1);
		for (uint32_t i = 0; i < BIG_BODY; i++)
			B.big_resp[sizeof(head) - 1 + i] = (uint8_t)((i * 2654435761u) >> 13);
	}
	hz = (double)rte_get_tsc_hz();
	B.preempt_cycles = rte_get_tsc_hz() / 1000;

	for (uint32_t s = 0; s < n_sizes; s++) {
		for (int m = 0; m < 2; m++) {
			if ((m == 0 && !with_plain) || (m == 1 && !with_mirror))
				continue;
			B.mirror = m == 1;
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
	}
	B.mirror = false;
	if (strchr(modes, 'f') != NULL)
		run_rounds(MODE_L4, 1, flows, requests, rounds, &res[n_res++]);

	printf("fastpath: the proxy node's cycles only (lib/net + lib/tcp input, polls);\n"
	       "TSC %.3f GHz, checksums %s, %u client addresses, %u backends, %u shadow endpoints\n\n",
	       hz / 1e9, B.offload ? "offloaded" : "in software", N_CLIENT_IPS, HARNESS_BACKENDS,
	       N_SHADOWS);
	printf("%-32s %6s %6s %5s %8s %10s %13s %12s %7s %8s %7s %9s %6s %7s\n",
	       "case", "mirror", "routes", "conns", "requests", "cycles/req", "(min-max)",
	       "req/s/core", "frm/req", "http B/r", "tcp B/r", "parse B/r", "wall s",
	       "preempt");
	for (unsigned int i = 0; i < n_res; i++) {
		const struct result *r = &res[i];
		double c = cpr(r), q = (double)r->requests;
		char spread[32];

		if (r->mode == MODE_L4)
			continue;
		snprintf(spread, sizeof(spread), "(%.0f-%.0f)", r->cpr_min, r->cpr_max);
		printf("%-32s %6s %6u %5u %8" PRIu64 " %10.0f %13s %12.0f %7.2f %8.1f %7.1f %9.1f %6.2f %7" PRIu64 "\n",
		       mode_name[r->mode], r->mirror ? "100%" : "-", r->routes, r->conns,
		       r->requests, c, spread, hz / c,
		       (double)r->frames / q, (double)r->http_copied / q,
		       (double)r->tcp_copied / q, (double)r->parser_copied / q, r->wall,
		       r->preempted);
	}
	printf("\npreempt: bursts over 1 ms (the process lost the CPU), left out of cycles;\n"
	       "frm/req: frames in at the proxy node per request (with mirroring: the\n"
	       "shadow's segments the worker hands over included);\n"
	       "http B/r: rewritten heads written by design; tcp B/r: payload copies.\n");

	if (with_mirror && strpbrk(modes, "kcb") != NULL) {
		printf("\nmirroring: every request copied to shadow.test (4 shadow peers), the engine\n"
		       "(lib/shadow) created in process as lib/worker does, polled after the worker,\n"
		       "max_pending %u; %s;\n"
		       "copies of the whole run, counted after the copies in flight finished\n\n",
		       B.max_pending,
		       B.shadow_port ? "the engine owns a port of role shadow (-S)" :
		       "no shadow port: the engine's segments are handed over by the worker");
		printf("%-32s %6s %11s %11s %8s %11s %8s %9s %9s %9s %8s %8s %8s %7s\n",
		       "case", "routes", "worker c/r", "(no mirror)", "overhead",
		       "engine c/cp", "hand/cp", "sent", "taken", "answered", "e.drops",
		       "w.drops", "left", "preempt");
		for (unsigned int i = 0; i < n_res; i++) {
			const struct result *r = &res[i], *b = NULL;
			char base[24] = "-", over[16] = "-";

			if (!r->mirror)
				continue;
			for (unsigned int j = 0; j < n_res; j++)
				if (!res[j].mirror && res[j].mode == r->mode &&
				    res[j].routes == r->routes)
					b = &res[j];
			if (b != NULL) {
				snprintf(base, sizeof(base), "%.0f", cpr(b));
				snprintf(over, sizeof(over), "%+.1f%%",
					 (cpr(r) - cpr(b)) / cpr(b) * 100.0);
			}
			printf("%-32s %6u %11.0f %11s %8s %11.0f %8.2f %9" PRIu64 " %9" PRIu64
			       " %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %8" PRIu64 " %7" PRIu64 "\n",
			       mode_name[r->mode], r->routes, cpr(r), base, over,
			       r->mirrors ? (double)r->sh_cycles / (double)r->mirrors : 0.0,
			       r->mirrors ? (double)r->handoff_frames / (double)r->mirrors : 0.0,
			       r->m_sent, r->m_engine_taken, r->m_peer_answered,
			       r->m_engine_drops, r->m_worker_dropped + r->m_handoff_drops,
			       r->m_streams_left, r->sh_preempted);
		}
		printf("\nworker c/r: the proxy node's cycles per request with mirroring (its own\n"
		       "baseline beside it); engine c/cp: gw_shadow_poll() cycles (ring items,\n"
		       "segments handed over, its TCP stack) per copy; hand/cp: shadow segments\n"
		       "the worker classified and passed on per copy; sent: copies the worker\n"
		       "enqueued (gateway.http.mirror_requests); taken: HEAD items the engine\n"
		       "read; answered: responses the shadow peers sent in full; e.drops: the\n"
		       "engine's drops (gateway.shadow.drops); w.drops: the worker's (ring full,\n"
		       "no mbuf, hand-over ring full); left: copies still in flight at the end.\n");
		for (unsigned int i = 0; i < n_res; i++) {
			const struct result *r = &res[i];

			if (!r->mirror)
				continue;
			if (r->m_sent == r->m_peer_answered && r->m_engine_drops == 0 &&
			    r->m_worker_dropped == 0 && r->m_handoff_drops == 0 &&
			    r->m_streams_left == 0)
				printf("%s, %u routes: every copy delivered and answered (%" PRIu64
				       "), %" PRIu64 " shadow connections, %" PRIu64 " log lines\n",
				       mode_name[r->mode], r->routes, r->m_sent, r->m_connects,
				       r->m_log_lines);
			else
				printf("%s, %u routes: copies NOT all delivered: sent %" PRIu64
				       ", answered %" PRIu64 ", dropped %" PRIu64 " (engine) + %" PRIu64
				       " (worker), %" PRIu64 " in flight\n",
				       mode_name[r->mode], r->routes, r->m_sent, r->m_peer_answered,
				       r->m_engine_drops, r->m_worker_dropped + r->m_handoff_drops,
				       r->m_streams_left);
		}
	}

	for (unsigned int i = 0; i < n_res; i++) {
		const struct result *r = &res[i];
		double cpf = cpr(r);
		double q = (double)r->requests;
		char spread[32];

		if (r->mode != MODE_L4)
			continue;
		snprintf(spread, sizeof(spread), "(%.0f-%.0f)", r->cpr_min, r->cpr_max);
		printf("\nL4 established-flow forwarding (lib/proxy, a tcp route): %u flows, %u-byte\n"
		       "writes, %u in flight per flow, echoed by the backends; frames in at the proxy\n\n",
		       r->conns, B.seg_size, B.l4_window);
		printf("%10s %13s %14s %14s %10s %10s %9s %7s %6s %7s\n", "frames in",
		       "cycles/frame", "(min-max)", "frames/s/core", "frm/echo", "B/frame",
		       "Gbit/s", "tcp B", "wall s", "preempt");
		printf("%10" PRIu64 " %13.0f %14s %14.0f %10.2f %10.1f %9.2f %7" PRIu64
		       " %6.2f %7" PRIu64 "\n", r->frames, cpf,
		       spread, hz / cpf, (double)r->frames / q, (double)r->l4_bytes / (double)r->frames,
		       (double)r->l4_bytes * 8.0 * hz / (double)r->cycles / 1e9,
		       r->tcp_copied, r->wall, r->preempted);
		printf("frm/echo: frames the proxy received per write echoed (data both ways and\n"
		       "ACKs); B/frame: payload bytes forwarded per frame received; Gbit/s: payload\n"
		       "forwarded per core at that rate.\n");
	}
	print_targets(res, n_res, hz);
	fclose(B.devnull);
	free(B.big_resp);
	harness_wire_free(&B.wire);
	rte_mempool_free(B.pool);
	rte_eal_cleanup();
	return 0;
}
