/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memory: the gateway's memory per idle connection (issue 9, instrument 3).
 *
 * One process holds W proxy nodes built as lib/worker builds its workers
 * (a gw_tcp_stack and a gw_http_proxy each, with the parameters
 * lib/worker/dataplane.c derives from a bootstrap's limits: the bootstrap
 * is parsed by lib/config, generated for W workers or read with -c) and
 * two peer nodes of their own (lib/tcp stacks, tools/bench/harness.h):
 * the clients (N connections from 64 addresses) and 4 backends. Frames
 * for the gateway's client-side address go to a worker by a hash of the
 * client's address and port (RSS), frames for its upstream address to
 * the worker that owns the destination port (port % W, as
 * tcp_src_port_ok() chooses them without RSS).
 *
 * Connections are opened in waves of -b; each sends one keep-alive GET
 * and reads the response, then stays open and idle. The upstream
 * connections the proxy opened stay pooled. Then, after half a second of
 * virtual time (delayed ACKs out), it reports:
 *   - what the gateway reserves at start for its limits: rte_malloc heap
 *     bytes (TCB pools, hash tables, sessions, upstream slots, rings,
 *     the mbuf pool), libc heap bytes (mallinfo2: the parsers' head
 *     buffers, lazily backed), and resident bytes;
 *   - per structure: its size, how many a connection takes, how many the
 *     limits reserve, and the resident bytes (mincore()) of each region
 *     before and after the connections;
 *   - per idle connection: structures in use, the resident growth of the
 *     gateway's regions over N, mbufs still held (should be 0);
 *   - every limit counter (refusals): nothing may be refused.
 * A wave the gateway refuses connections in is the last one opened.
 *
 * The default is 1,000,000 connections on 4 workers with the worker's
 * parameters: sessions cpw/2+1 per worker (the TCB pool is the bound on
 * connections), exchange contexts (requests in flight, with the head
 * buffers) limits.requests_in_flight_per_worker or min(cpw/2+1, 8192).
 * -S and -X override those two (the output says so).
 *
 * Usage: memory [-n CONNS] [-w WORKERS] [-c BOOTSTRAP] [-b WAVE] [-S SESSIONS]
 *               [-X EXCHANGES] [-m MB]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gw_common.h"
#include "gw_config.h"
#include "gw_httpproxy.h"
#include "gw_metrics.h"
#include "gw_model.h"
#include "gw_route.h"
#include "gw_tcp.h"
/* private: the sizes and regions of the structures measured */
#include "hp_private.h"
#include "tcp_private.h"

#include "harness.h"

#define WIRE_SIZE  (1u << 20)
#define N_CLIENT_IPS 64u                  /* 28,232 source ports each */
#define MAX_WORKERS 16    /* no suffix: it is printed (RTE_STR) */
#define MBUF_CACHE 256u                   /* GATEWAYD_MBUF_CACHE */

/* A client connection: one GET, its response checked, then idle. */
struct client {
	struct gw_tcp_conn *c;
	uint16_t pos;      /* response bytes seen */
	uint8_t match;     /* progress through "\r\n\r\n" */
	uint8_t state;     /* CL_* */
	uint16_t body;     /* body bytes seen */
};

enum { CL_NEW = 0, CL_WAIT, CL_DONE, CL_CLOSED };

struct backend {
	struct gw_tcp_conn *c;
	uint32_t match;
	uint32_t owed;
};

struct worker {
	unsigned int id;
	struct harness_node nd;
	struct gw_http_proxy *px;
	struct gw_metrics_table *metrics;
};

static struct {
	struct gw_config cfg;
	unsigned int n_workers;
	struct worker w[MAX_WORKERS];
	struct harness_node client, backend;
	struct rte_mempool *gw_pool, *peer_pool;
	struct harness_routes routes;
	struct gw_tcp_port gw_ports[2];
	uint32_t roles[2];
	uint32_t max_sessions;     /* per worker, as lib/worker derives it */
	uint32_t max_exchanges;    /* per worker, as lib/worker derives it */
	uint64_t now;
	FILE *devnull;

	struct harness_wire wire;

	struct client *clients;
	uint32_t n_clients;
	uint64_t done, errors, closed;
	uint32_t gw_mbufs_peak;    /* the gateway's pool, after a loop */
} B;

#define BODY_LEN 13u   /* harness_small_resp's body */

/* ---- what the process holds ---- */

struct usage {
	uint64_t heap;     /* rte_malloc: allocated bytes, every socket */
	uint64_t libc;     /* mallinfo2: arena + mmapped blocks */
	uint64_t rss;      /* resident bytes */
};

static void
usage_get(struct usage *u)
{
	struct rte_malloc_socket_stats st;
	struct mallinfo2 mi = mallinfo2();
	unsigned long size = 0, res = 0;
	FILE *f;

	u->heap = 0;
	for (int s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats(s, &st) == 0)
			u->heap += st.heap_allocsz_bytes;
	u->libc = mi.uordblks + mi.hblkhd;
	f = fopen("/proc/self/statm", "r");
	if (f == NULL || fscanf(f, "%lu %lu", &size, &res) != 2)
		harness_die("cannot read /proc/self/statm");
	fclose(f);
	u->rss = (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Resident bytes of [p, p + len) (whole pages it touches). */
static uint64_t
resident(const void *p, size_t len)
{
	static unsigned char vec[1 << 16];
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(pg - 1), end = (uintptr_t)p + len;
	uint64_t n = 0;

	if (p == NULL || len == 0)
		return 0;
	while (a < end) {
		size_t pages = (end - a + pg - 1) / pg;

		if (pages > sizeof(vec))
			pages = sizeof(vec);
		if (mincore((void *)a, pages * pg, vec) != 0)
			harness_die("mincore: %s", strerror(errno));
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
		a += pages * pg;
	}
	return n * pg;
}

static uint64_t
pool_bytes(const struct rte_mempool *mp)
{
	return (uint64_t)mp->size * (mp->header_size + mp->elt_size + mp->trailer_size);
}

/* ---- Istio configuration and the bootstrap ---- */

/* The bootstrap a user would write to hold @p conns idle connections on
 * @p workers workers: each worker's table holds its share of the client
 * connections and as many again for upstream connections and
 * connections closing (a power of two at least twice the share). */
static char *
bootstrap_yaml(unsigned int workers, uint32_t conns, uint32_t wave)
{
	uint32_t share = (conns + workers - 1) / workers, cpw = 1024;
	/* the README's minimum (ports x workers x 2048) twice, and room for
	 * a wave of exchanges in flight (about 16 mbufs each at most) */
	uint32_t mbufs = RTE_MAX(2u * workers * 2048u * 2u, 16u * wave);
	size_t cap = 2048, off = 0;
	char *y = malloc(cap);

	while (cpw < 2 * share)
		cpw <<= 1;
	if (y == NULL)
		harness_die("out of memory");
	off += (size_t)snprintf(y + off, cap - off,
		"eal:\n  args: [\"--no-pci\"]\n"
		"lcores:\n  control: 0\n  workers: [");
	for (unsigned int i = 0; i < workers; i++)
		off += (size_t)snprintf(y + off, cap - off, "%s%u", i ? ", " : "", i + 1);
	snprintf(y + off, cap - off,
		"]\n"
		"ports:\n"
		"  - name: down0\n    device: \"net_null0\"\n    roles: [downstream]\n"
		"    address: 10.10.1.1/24\n"
		"  - name: up0\n    device: \"net_null1\"\n    roles: [upstream]\n"
		"    address: 10.10.2.1/24\n"
		"listeners:\n  - port: 8000\n    protocol: HTTP\n"
		"limits:\n  connections_per_worker: %u\n  mbufs: %u\n",
		cpw, mbufs);
	return y;
}

/* ---- the wire ---- */

/* The node a frame goes to, and its port there. */
static struct harness_node *
wire_dest(const struct rte_mbuf *m, unsigned int *port)
{
	struct harness_flow fl;
	uint32_t net, host;

	harness_frame_flow(m, &fl);
	net = (fl.dst >> 8) & 0xff;
	host = fl.dst & 0xff;
	if (net == 1 && host == 1) {
		/* RSS: a hash of the client's address and port */
		uint32_t k = (fl.src * 2654435761u) ^ (fl.sport * 40503u);

		*port = 0;
		return &B.w[(k >> 7) % B.n_workers].nd;
	}
	if (net == 2 && host == 1) {
		*port = 1;
		return &B.w[fl.dport % B.n_workers].nd;
	}
	if (net == 1 && host >= 10 && host < 10 + N_CLIENT_IPS) {
		*port = host - 10;
		return &B.client;
	}
	if (net == 2 && host >= 11 && host < 11 + HARNESS_BACKENDS) {
		*port = host - 11;
		return &B.backend;
	}
	harness_die("frame to an unknown address");
}

/* The receiving NIC copies the frame into the receiver's pool. */
static void
deliver(struct rte_mbuf *m)
{
	unsigned int port;
	struct harness_node *nd = wire_dest(m, &port);

	harness_node_input(nd, port, harness_nic_receive(m, nd->pool, &nd->ports[port], true));
}

static void
step(uint64_t tick)
{
	uint32_t end = B.wire.tail, in_use;

	for (struct rte_mbuf *m; (m = harness_wire_take(&B.wire, end)) != NULL;)
		deliver(m);
	for (unsigned int i = 0; i < B.n_workers; i++) {
		gw_tcp_poll(B.w[i].nd.s, B.now);
		gw_http_proxy_poll(B.w[i].px, B.now);
		gw_http_accesslog_drain(gw_http_proxy_accesslog_ring(B.w[i].px), B.devnull);
	}
	gw_tcp_poll(B.client.s, B.now);
	gw_tcp_poll(B.backend.s, B.now);
	B.now += tick;
	in_use = rte_mempool_in_use_count(B.gw_pool);
	if (in_use > B.gw_mbufs_peak)
		B.gw_mbufs_peak = in_use;
}

/* A wave that does not complete: where each missing response is. */
static void
stall_report(uint32_t first, uint32_t n)
{
	for (uint32_t i = first; i < first + n; i++) {
		const struct client *cl = &B.clients[i];
		const struct gw_tcp_conn *c = cl->c;

		if (cl->state == CL_DONE || c == NULL)
			continue;
		fprintf(stderr, "memory: client %u: %u response bytes, sent %u of %u\n", i,
			cl->pos, c->snd_una - c->iss - 1, c->snd_nxt - c->iss - 1);
		for (unsigned int k = 0; k < B.n_workers; k++) {
			struct gw_tcp_conn *pc = tcp_conn_lookup(B.w[k].nd.s, c->remote_ip,
								 HARNESS_LISTEN_PORT, c->local_ip,
								 c->local_port);
			const struct hp_session *ss;

			if (pc == NULL)
				continue;
			ss = pc->ctx;
			fprintf(stderr, "  worker %u: received %u, queued %u, sent %u, flags %#x, "
				"rtx timer %d; session: request state %u, response state %u, "
				"upstream %s\n", k, pc->rcv_nxt - pc->irs - 1, pc->sq_bytes,
				pc->snd_nxt - pc->iss - 1, pc->flags,
				gw_timer_is_armed(&pc->t_rtx), ss->req_state, ss->resp_state,
				ss->up != NULL ? "bound" : "none");
		}
	}
	for (unsigned int k = 0; k < B.n_workers; k++) {
		const struct gw_http_proxy_stats *q = gw_http_proxy_stats(B.w[k].px);
		const struct gw_tcp_stats *t = gw_tcp_stack_stats(B.w[k].nd.s);

		fprintf(stderr, "memory: worker %u:", k);
		for (unsigned int j = 0; j < gw_http_proxy_n_counters; j++) {
			const struct gw_http_proxy_counter *hc = &gw_http_proxy_counters[j];
			uint64_t v;

			memcpy(&v, (const char *)q + hc->offset, sizeof(v));
			if (v != 0)
				fprintf(stderr, " %s=%" PRIu64, hc->name, v);
		}
		fprintf(stderr, "; tcp conns=%" PRIu64 " retransmits=%" PRIu64
			" no_mbuf=%" PRIu64 "\n", t->conns, t->retransmits, t->no_mbuf);
	}
	fprintf(stderr, "memory: gateway mbufs in use %u of %u\n",
		rte_mempool_in_use_count(B.gw_pool), B.gw_pool->size);
}

/* ---- clients ---- */

static void
client_established(struct gw_tcp_conn *c, void *ctx)
{
	static const char req[] = "GET /item HTTP/1.1\r\nhost: svc.test\r\n"
				  "user-agent: memory\r\naccept: */*\r\n\r\n";
	struct client *cl = ctx;
	struct rte_mbuf *m = rte_pktmbuf_alloc(B.peer_pool);

	cl->c = c;
	if (m == NULL)
		harness_die("mbuf pool exhausted (client)");
	memcpy(rte_pktmbuf_append(m, sizeof(req) - 1), req, sizeof(req) - 1);
	if (gw_tcp_send(c, m) != 0)
		harness_die("client send refused");
	cl->state = CL_WAIT;
}

static void
client_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	static const char ok[] = "HTTP/1.1 200 ";
	static const char end[4] = {'\r', '\n', '\r', '\n'};
	struct client *cl = ctx;
	uint32_t total = rte_pktmbuf_pkt_len(m);

	for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const char *d = rte_pktmbuf_mtod(s, const char *);

		for (uint32_t i = 0; i < s->data_len; i++) {
			if (cl->state != CL_WAIT) {
				B.errors++;
				break;
			}
			if (cl->pos < sizeof(ok) - 1 && d[i] != ok[cl->pos]) {
				fprintf(stderr, "memory: unexpected response\n");
				B.errors++;
			}
			cl->pos++;
			if (cl->match < 4) {
				cl->match = d[i] == end[cl->match] ? cl->match + 1 :
					    d[i] == '\r' ? 1 : 0;
				continue;
			}
			if (++cl->body == BODY_LEN) {
				cl->state = CL_DONE;
				B.done++;
			}
		}
	}
	rte_pktmbuf_free(m);
	gw_tcp_recv_consumed(c, total);
}

static void
client_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct client *cl = ctx;

	RTE_SET_USED(c);
	cl->c = NULL;
	if (reason == GW_TCP_CLOSED_STACK_STOP)
		return;
	if (cl->state == CL_WAIT)
		B.done++;  /* the wave does not wait for it */
	cl->state = CL_CLOSED;
	B.closed++;
}

static const struct gw_tcp_callbacks client_cb = {
	.on_established = client_established,
	.on_data = client_data,
	.on_fin = harness_fin_shutdown,
	.on_closed = client_closed,
};

/* ---- backends ---- */

static void
backend_pump(struct backend *b)
{
	while (b->c != NULL && b->owed > 0) {
		struct rte_mbuf *m;

		if (gw_tcp_send_space(b->c) < harness_small_resp_len)
			return;
		m = rte_pktmbuf_alloc(B.peer_pool);
		if (m == NULL)
			harness_die("mbuf pool exhausted (backend)");
		memcpy(rte_pktmbuf_append(m, (uint16_t)harness_small_resp_len), harness_small_resp,
		       harness_small_resp_len);
		if (gw_tcp_send(b->c, m) != 0) {
			rte_pktmbuf_free(m);
			return;
		}
		b->owed--;
	}
}

static void
backend_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct backend *b = ctx;
	uint32_t total = rte_pktmbuf_pkt_len(m);

	b->owed += harness_count_heads(m, &b->match);
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
	RTE_SET_USED(c);
	RTE_SET_USED(reason);
	free(ctx);
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

	RTE_SET_USED(listener_ctx);
	if (b == NULL)
		harness_die("out of memory");
	b->c = c;
	*cb = &backend_cb;
	return b;
}

/* ---- set-up ---- */

/* The proxy node of worker @p w, as worker_tcp_create() and
 * worker_http_create() build it (the L4 proxy is left out: no TCP
 * listener is configured, and it reserves per max_sessions too). */
static void
worker_new(struct worker *w, unsigned int id)
{
	const struct gw_config *cfg = &B.cfg;
	struct gw_http_proxy_params pp;

	w->id = id;
	w->nd.pool = B.gw_pool;
	w->nd.n_ports = 2;
	memcpy(w->nd.ports, B.gw_ports, sizeof(B.gw_ports));
	w->nd.s = harness_worker_stack(&w->nd, cfg->max_connections_per_worker, id, B.n_workers,
				       &B.wire, B.now);
	w->metrics = harness_metrics_new();
	harness_http_proxy_params(&pp, &w->nd, id, B.roles, &B.routes, w->metrics, B.now);
	pp.max_sessions = B.max_sessions;
	pp.max_exchanges = B.max_exchanges;
	pp.n_workers = cfg->n_workers;
	pp.max_head = cfg->request_headers_kb * 1024;
	pp.max_headers = cfg->request_headers;
	pp.max_request_body = cfg->request_body;
	w->px = harness_http_proxy_start(&pp);
}

/* The gateway's regions, for mincore(). */
enum region { R_TCB, R_SLOTS, R_SESS, R_UPS, R_XS, R_HEADS, N_REGIONS };

static const char *const region_name[N_REGIONS] = {
	"TCB pool (struct gw_tcp_conn)",
	"4-tuple table (pointer slots)",
	"sessions (struct hp_session)",
	"upstream slots (struct hp_upstream)",
	"exchange contexts (struct hp_exchange)",
	"head buffers + header arrays (calloc)",
};

static void
region_of(const struct worker *w, enum region r, const void **p, size_t *len)
{
	const struct gw_tcp_stack *s = w->nd.s;
	const struct gw_http_proxy *px = w->px;

	switch (r) {
	case R_TCB:
		*p = s->conns;
		*len = (size_t)s->p.max_conns * sizeof(*s->conns);
		break;
	case R_SLOTS:
		*p = s->slots;
		*len = ((size_t)s->slot_mask + 1) * sizeof(*s->slots);
		break;
	case R_SESS:
		*p = px->sessions;
		*len = (size_t)px->n_sessions * sizeof(*px->sessions);
		break;
	case R_UPS:
		*p = px->ups;
		*len = (size_t)px->n_sessions * sizeof(*px->ups);
		break;
	case R_XS:
		*p = px->xs;
		*len = (size_t)px->n_exchanges * sizeof(*px->xs);
		break;
	default:
		*p = px->parser_mem;
		*len = (size_t)px->n_exchanges * 2 *
		       ((size_t)px->limits.max_head +
			px->limits.max_headers * sizeof(struct gw_http_header));
		break;
	}
}

static void
regions_resident(uint64_t out[N_REGIONS], uint64_t size[N_REGIONS])
{
	for (unsigned int r = 0; r < N_REGIONS; r++) {
		out[r] = size[r] = 0;
		for (unsigned int i = 0; i < B.n_workers; i++) {
			const void *p;
			size_t len;

			region_of(&B.w[i], (enum region)r, &p, &len);
			out[r] += resident(p, len);
			size[r] += len;
		}
	}
}

/* Resident pages of the head-buffer regions that hold a header array
 * (request or response: the parsers write them for every head) and
 * those that hold only head buffers (written when a head spans
 * segments). Layout of an exchange context's slice, as gw_http_proxy_create()
 * cuts it: [req buf][req headers][resp buf][resp headers]. */
static void
heads_split(uint64_t *arrays, uint64_t *bufs)
{
	static unsigned char vec[1 << 16];
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	*arrays = *bufs = 0;
	for (unsigned int w = 0; w < B.n_workers; w++) {
		const struct gw_http_proxy *px = B.w[w].px;
		size_t head = px->limits.max_head;
		size_t hdrs = px->limits.max_headers * sizeof(struct gw_http_header);
		size_t per = 2 * (head + hdrs), len;
		const void *p;
		uintptr_t base, a, end;

		region_of(&B.w[w], R_HEADS, &p, &len);
		base = (uintptr_t)p;
		a = base & ~(uintptr_t)(pg - 1);
		end = base + len;
		while (a < end) {
			size_t pages = (end - a + pg - 1) / pg;

			if (pages > sizeof(vec))
				pages = sizeof(vec);
			if (mincore((void *)a, pages * pg, vec) != 0)
				harness_die("mincore: %s", strerror(errno));
			for (size_t k = 0; k < pages; k++) {
				uintptr_t lo = a + k * pg, hi = lo + pg;
				bool arr = false;

				if (!(vec[k] & 1))
					continue;
				/* the contexts whose slices this page touches */
				for (size_t i = (lo > base ? lo - base : 0) / per;
				     i * per + base < hi && i * per < len && !arr; i++) {
					uintptr_t s0 = base + i * per;
					uintptr_t r0 = s0 + head, r1 = r0 + hdrs;
					uintptr_t q0 = s0 + per / 2 + head, q1 = q0 + hdrs;

					arr = (r0 < hi && r1 > lo) || (q0 < hi && q1 > lo);
				}
				if (arr)
					*arrays += pg;
				else
					*bufs += pg;
			}
			a += pages * pg;
		}
	}
}

static void
pr_bytes(const char *what, uint64_t b)
{
	printf("  %-52s %14" PRIu64 " B  (%8.1f MiB)\n", what, b, (double)b / 1048576.0);
}

static void
usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n CONNS] [-w WORKERS] [-c BOOTSTRAP] [-b WAVE] [-S SESSIONS]\n"
		"          [-X EXCHANGES] [-m MB]\n"
		"  -n  idle client connections to open and hold (default 1000000)\n"
		"  -w  workers of the generated bootstrap (default 4)\n"
		"  -c  a bootstrap file instead (its lcores.workers and limits are used)\n"
		"  -b  connections opened at a time: the pooled upstream connections\n"
		"      follow from it (default 2048; 50 ms of virtual time between waves)\n"
		"  -S  sessions per worker instead of lib/worker's (cpw/2+1)\n"
		"  -X  exchange contexts per worker instead of lib/worker's\n"
		"      (limits.requests_in_flight_per_worker, or min(cpw/2+1, 8192))\n"
		"  -m  EAL memory, MiB (default 6144; --no-huge)\n",
		argv0);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const uint16_t listen_ports[] = {HARNESS_LISTEN_PORT};
	struct harness_istio istio = {.n_routes = 0};   /* one route, any uri */
	uint32_t conns = 1000000, requested, wave = 2048, sessions_override = 0;
	uint32_t exchanges_override = 0;
	unsigned int workers = 4, eal_mb = 6144;
	const char *bootstrap = NULL;
	struct usage u0, u1, u2, u3;
	uint64_t res0[N_REGIONS], res1[N_REGIONS], rsize[N_REGIONS];
	uint64_t heads_arrays, heads_bufs;
	struct gw_route_build_params rp;
	struct timespec t0, t1;
	char err[1024], yaml[2048];
	size_t yaml_len;
	int opt;

	harness_set_name("memory");
	while ((opt = getopt(argc, argv, "n:w:c:b:S:X:m:h")) != -1) {
		switch (opt) {
		case 'n':
			conns = (uint32_t)harness_parse_num(optarg, 1, 1600000,
					"-n: 1 to 1,600,000 connections (64 addresses)");
			break;
		case 'w':
			workers = (unsigned int)harness_parse_num(optarg, 1, MAX_WORKERS,
					"-w: 1 to " RTE_STR(MAX_WORKERS) " workers");
			break;
		case 'c':
			bootstrap = optarg;
			break;
		case 'b':
			wave = (uint32_t)harness_parse_num(optarg, 1, 65536,
					"-b: 1 to 65536 connections per wave");
			break;
		case 'S':
			sessions_override = (uint32_t)harness_parse_num(optarg, 1, HP_NONE - 1,
					"-S: a positive number of sessions");
			break;
		case 'X':
			exchanges_override = (uint32_t)harness_parse_num(optarg, 1, HP_NONE - 1,
					"-X: a positive number of exchange contexts");
			break;
		case 'm':
			eal_mb = (unsigned int)harness_parse_num(optarg, 256, 20000,
					"-m: 256 to 20000 MiB");
			break;
		default:
			usage(argv[0]);
		}
	}

	requested = conns;
	/* The bootstrap, through lib/config, as gatewayd reads it. */
	gw_config_defaults(&B.cfg);
	if (bootstrap != NULL) {
		if (gw_config_load_file(&B.cfg, bootstrap, err, sizeof(err)) != 0)
			harness_die("%s", err);
	} else {
		char *y = bootstrap_yaml(workers, conns, wave);

		if (gw_config_load_buffer(&B.cfg, "memory.yaml", y, strlen(y), err,
					  sizeof(err)) != 0)
			harness_die("%s", err);
		free(y);
	}
	B.n_workers = B.cfg.n_workers;
	if (B.n_workers > MAX_WORKERS)
		harness_die("at most %u workers", MAX_WORKERS);
	/* worker_http_create(): sessions = cpw / 2 + 1; exchange contexts
	 * limits.requests_in_flight_per_worker or min(sessions, 8192), at
	 * most the sessions */
	B.max_sessions = B.cfg.max_connections_per_worker / 2 + 1;
	B.max_exchanges = B.cfg.max_requests_in_flight_per_worker != 0 ?
			  B.cfg.max_requests_in_flight_per_worker :
			  (B.max_sessions < 8192 ? B.max_sessions : 8192);
	if (B.max_exchanges > B.max_sessions)
		B.max_exchanges = B.max_sessions;
	if (sessions_override != 0)
		B.max_sessions = sessions_override;
	if (exchanges_override != 0)
		B.max_exchanges = exchanges_override;

	harness_eal_init(argv[0], "gwmemory", eal_mb);
	harness_wire_init(&B.wire, WIRE_SIZE);
	B.devnull = fopen("/dev/null", "w");
	B.clients = calloc(conns, sizeof(*B.clients));
	if (B.devnull == NULL || B.clients == NULL)
		harness_die("out of memory");
	B.n_clients = conns;
	B.now = HARNESS_START_TSC;

	/* Routing: one service of 4 endpoints, one route. */
	memset(&rp, 0, sizeof(rp));
	rp.listener_ports = listen_ports;
	rp.n_listener_ports = 1;
	rp.n_workers = B.n_workers;
	rp.seed = 1;
	/* on the stack: a malloc'd text would change what the libc heap
	 * figures count (they include malloc's caches) */
	yaml_len = harness_istio_yaml(&istio, yaml, sizeof(yaml));
	if (yaml_len >= sizeof(yaml))
		harness_die("the Istio YAML needs %zu bytes", yaml_len);
	harness_routes_load(&B.routes, yaml, yaml_len, "memory.yaml", &rp);

	/* The peers first: what follows is the gateway's alone. */
	B.peer_pool = rte_pktmbuf_pool_create("peers", 65535, 256, 0,
					      RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (B.peer_pool == NULL)
		harness_die("peer mbuf pool: %s", rte_strerror(rte_errno));
	B.client.pool = B.backend.pool = B.peer_pool;
	for (unsigned int i = 0; i < N_CLIENT_IPS; i++)
		harness_node_add_port(&B.client, harness_ip4(10, 10, 1, 10 + i), 1, true);
	for (unsigned int i = 0; i < HARNESS_BACKENDS; i++)
		harness_node_add_port(&B.backend, harness_ip4(10, 10, 2, 11 + i), 4, true);
	B.client.s = harness_peer_stack(&B.client, conns + 1024, &B.wire, B.now);
	B.backend.s = harness_peer_stack(&B.backend, 2 * wave + 4096, &B.wire, B.now);
	if (gw_tcp_listen(B.backend.s, 0, HARNESS_BACKEND_PORT, backend_accept, NULL) != 0)
		harness_die("backend listen");

	/* The gateway: its packet pool (main.c's mempool_init()) and workers. */
	usage_get(&u0);
	B.gw_pool = rte_pktmbuf_pool_create("gw_mbufs", B.cfg.mbufs, MBUF_CACHE, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (B.gw_pool == NULL)
		harness_die("cannot create a pool of %u mbufs: %s", B.cfg.mbufs,
		    rte_strerror(rte_errno));
	usage_get(&u1);
	harness_port_init(&B.gw_ports[0], 0, harness_ip4(10, 10, 1, 1), 2, true);
	harness_port_init(&B.gw_ports[1], 1, harness_ip4(10, 10, 2, 1), 3, true);
	B.roles[0] = GW_ROLE_DOWNSTREAM;
	B.roles[1] = GW_ROLE_UPSTREAM;
	for (unsigned int i = 0; i < B.n_workers; i++)
		worker_new(&B.w[i], i);
	usage_get(&u2);
	regions_resident(res0, rsize);

	/* Open the connections in waves; each does one request. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t first = 0; first < conns; first += wave) {
		uint32_t n = conns - first < wave ? conns - first : wave;
		uint64_t target = B.done + n, guard = 0;

		for (uint32_t i = first; i < first + n; i++) {
			struct client *cl = &B.clients[i];

			cl->c = gw_tcp_connect(B.client.s, i % N_CLIENT_IPS, harness_ip4(10, 10, 1, 1),
					       HARNESS_LISTEN_PORT, &client_cb, cl);
			if (cl->c == NULL)
				harness_die("client connect %u: %s", i, rte_strerror(rte_errno));
		}
		while (B.done < target && B.errors == 0 && ++guard < 100000)
			step(HARNESS_TICK);
		if (B.errors != 0 || B.wire.overflow != 0)
			harness_die("%" PRIu64 " errors, %" PRIu64 " frames lost", B.errors,
			    B.wire.overflow);
		/* Clients arrive over time: 50 ms until the next wave, so that
		 * delayed ACKs release what the last exchanges hold. */
		for (unsigned int i = 0; i < 5; i++)
			step(UINT64_C(10000000));
		if (B.done < target) {
			stall_report(first, n);
			harness_die("stalled: %" PRIu64 " of %" PRIu64 " responses", B.done, target);
		}
		if (B.closed > 0) {
			fprintf(stderr, "memory: %" PRIu64 " connections closed by the "
				"gateway after %u opened: stopping\n", B.closed, first + n);
			conns = first + n;
			break;
		}
	}
	/* Idle for half a second of virtual time: delayed ACKs leave. */
	for (unsigned int i = 0; i < 50; i++)
		step(UINT64_C(10000000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usage_get(&u3);
	regions_resident(res1, rsize);
	heads_split(&heads_arrays, &heads_bufs);

	/* ---- report ---- */
	{
		struct gw_http_proxy_stats ps;
		struct gw_tcp_stats ts;
		const struct gw_tcp_stats *cts = gw_tcp_stack_stats(B.client.s);
		uint64_t held = conns - B.closed;
		uint64_t est = 0, gw_mbufs, slots_total = 0, tcb_total = 0;
		size_t heads = 2 * ((size_t)B.cfg.request_headers_kb * 1024 +
				    B.cfg.request_headers * sizeof(struct gw_http_header));
		double per_slot;

		memset(&ps, 0, sizeof(ps));
		memset(&ts, 0, sizeof(ts));
		for (unsigned int i = 0; i < B.n_workers; i++) {
			const struct gw_tcp_stats *t = gw_tcp_stack_stats(B.w[i].nd.s);

			gw_http_proxy_stats_add(&ps, gw_http_proxy_stats(B.w[i].px));
			ts.conns += t->conns;
			ts.established += t->established;
			ts.timewait += t->timewait;
			ts.conns_refused_limit += t->conns_refused_limit;
			ts.accepts_refused += t->accepts_refused;
			ts.syncookies_sent += t->syncookies_sent;
			ts.reasm_dropped += t->reasm_dropped;
			ts.retransmits += t->retransmits;
			ts.no_mbuf += t->no_mbuf;
			slots_total += (uint64_t)B.w[i].nd.s->slot_mask + 1;
			tcb_total += B.w[i].nd.s->p.max_conns;
		}
		gw_mbufs = rte_mempool_in_use_count(B.gw_pool);
		for (uint32_t i = 0; i < conns; i++)
			est += B.clients[i].state == CL_DONE && B.clients[i].c != NULL;
		per_slot = (double)slots_total * sizeof(void *) / (double)tcb_total;

		printf("memory: %u workers, limits.connections_per_worker %u, limits.mbufs %u,\n"
		       "request_headers_kb %u, request_headers %u; per worker: TCB pool %u,\n"
		       "sessions %u%s, upstream slots %u, hash slots %u,\n"
		       "exchange contexts %u%s\n",
		       B.n_workers, B.cfg.max_connections_per_worker, B.cfg.mbufs,
		       B.cfg.request_headers_kb, B.cfg.request_headers,
		       B.cfg.max_connections_per_worker, B.max_sessions,
		       sessions_override ? " (-S: NOT lib/worker's value)" : " (lib/worker: cpw/2+1)",
		       B.max_sessions, B.w[0].nd.s->slot_mask + 1, B.max_exchanges,
		       exchanges_override ? " (-X: NOT lib/worker's value)" :
		       " (lib/worker: requests_in_flight_per_worker or min(cpw/2+1, 8192))");
		printf("opened %u client connections in waves of %u (%.1f s)\n\n", conns, wave,
		       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);

		printf("structure sizes (bytes):\n");
		printf("  %-40s %6zu\n", "struct gw_tcp_conn (TCB)", sizeof(struct gw_tcp_conn));
		printf("  %-40s %6zu\n", "  of which struct gw_timer x3", 3 * sizeof(struct gw_timer));
		printf("  %-40s %6zu\n", "  of which struct gw_reasm", sizeof(struct gw_reasm));
		printf("  %-40s %6.1f\n", "4-tuple table per TCB (pointers)", per_slot);
		printf("  %-40s %6zu\n", "struct hp_session", sizeof(struct hp_session));
		printf("  %-40s %6zu\n", "struct hp_exchange (request in flight)", sizeof(struct hp_exchange));
		printf("  %-40s %6zu\n", "  of which struct hp_log_record", sizeof(struct hp_log_record));
		printf("  %-40s %6zu\n", "  of which struct gw_http_parser x2", 2 * sizeof(struct gw_http_parser));
		printf("  %-40s %6zu\n", "  of which struct gw_http_chunked x2", 2 * sizeof(struct gw_http_chunked));
		printf("  %-40s %6zu\n", "  of which struct hp_retry", sizeof(struct hp_retry));
		printf("  %-40s %6zu\n", "  of which struct gw_route_result", sizeof(struct gw_route_result));
		printf("  %-40s %6zu\n", "  of which cors_origin", sizeof(((struct hp_exchange *)0)->cors_origin));
		printf("  %-40s %6zu\n", "struct hp_upstream", sizeof(struct hp_upstream));
		printf("  %-40s %6zu\n", "head buffers + headers per exchange", heads);
		printf("  %-40s %6zu\n", "struct gw_http_proxy", sizeof(struct gw_http_proxy));
		printf("  %-40s %6zu\n", "struct gw_tcp_stack", sizeof(struct gw_tcp_stack));
		printf("\n");

		printf("reserved at start by the gateway (all %u workers):\n", B.n_workers);
		pr_bytes("mbuf pool (limits.mbufs, rte_mempool)", pool_bytes(B.gw_pool));
		pr_bytes("rte_malloc heap: packet pool (memzones)", u1.heap - u0.heap);
		pr_bytes("rte_malloc heap: workers' stacks and proxies", u2.heap - u1.heap);
		pr_bytes("libc heap (mallinfo2): workers", u2.libc - u1.libc);
		pr_bytes("resident after start (RSS delta)", u2.rss - u0.rss);
		for (unsigned int r = 0; r < N_REGIONS; r++) {
			char what[96];

			snprintf(what, sizeof(what), "%s", region_name[r]);
			pr_bytes(what, rsize[r]);
		}
		printf("\n");

		printf("held: %" PRIu64 " idle client connections (established, one request done),\n"
		       "%" PRIu64 " pooled upstream connections (%" PRIu64 " opened, %" PRIu64 " reused)\n",
		       held, ps.upstream_idle, ps.upstream_connects, ps.upstream_reused);
		printf("gateway TCBs in use %" PRIu64 " (established %" PRIu64 ", time-wait %" PRIu64
		       "); client side established %" PRIu64 "; responses %" PRIu64 " (2xx %" PRIu64 ")\n",
		       ts.conns, ts.established, ts.timewait, cts->established, ps.responses, ps.rq_2xx);
		printf("gateway mbufs still held: %" PRIu64 " (peak while opening: %u of %u)\n\n",
		       gw_mbufs, B.gw_mbufs_peak, B.gw_pool->size);

		printf("resident bytes of the gateway's regions (mincore), before -> after:\n");
		for (unsigned int r = 0; r < N_REGIONS; r++)
			printf("  %-40s %12" PRIu64 " -> %12" PRIu64 "  (+%.1f B per client conn.)\n",
			       region_name[r], res0[r], res1[r],
			       held ? (double)(res1[r] - res0[r]) / (double)held : 0.0);
		printf("  %-40s %12s    %12" PRIu64 "  (%.1f B per client conn.)\n",
		       "  of which pages with header arrays", "", heads_arrays,
		       held ? (double)heads_arrays / (double)held : 0.0);
		printf("  %-40s %12s    %12" PRIu64 "  (%.1f B per client conn.)\n",
		       "  of which head-buffer pages only", "", heads_bufs,
		       held ? (double)heads_bufs / (double)held : 0.0);
		printf("  %-40s %12" PRIu64 " -> %12" PRIu64 "  (+%.1f B per client conn.;\n"
		       "  %-40s peers' TCBs and state included)\n",
		       "process RSS", u2.rss, u3.rss,
		       held ? (double)(u3.rss - u2.rss) / (double)held : 0.0, "");
		printf("  %-40s %12" PRIu64 " -> %12" PRIu64 "\n", "rte_malloc heap", u2.heap, u3.heap);
		printf("  %-40s %12" PRIu64 " -> %12" PRIu64 "\n\n", "libc heap", u2.libc, u3.libc);

		{
			double tcb = sizeof(struct gw_tcp_conn) + per_slot;
			double cl = tcb + sizeof(struct hp_session);
			double up = tcb + sizeof(struct hp_upstream);
			uint64_t heads_res = res1[R_HEADS] - res0[R_HEADS];
			uint64_t grow = 0, total;
			bool fit = held == requested && ps.no_session == 0 &&
				   ts.conns_refused_limit == 0 && ts.accepts_refused == 0 &&
				   ps.no_upstream_slot == 0 && ps.upstream_overflow == 0 &&
				   ps.no_mbuf == 0 && ts.no_mbuf == 0 && ts.reasm_dropped == 0 &&
				   est == requested;

			for (unsigned int r = 0; r < N_REGIONS; r++)
				grow += res1[r] - res0[r];
			/* With hugepages every rte_malloc byte is pinned: the heap
			 * counts whole; the head buffers (libc, lazily backed) count
			 * by their resident pages. */
			total = (u2.heap - u0.heap) + res1[R_HEADS];
			printf("per idle client connection (structures): TCB %zu + table %.0f + session %zu\n"
			       "  = %.0f B; head buffers: %zu B reserved per exchange context (virtual),\n"
			       "  %.0f B of them resident per connection held\n",
			       sizeof(struct gw_tcp_conn), per_slot, sizeof(struct hp_session),
			       cl, heads,
			       held ? (double)heads_res / (double)held : 0.0);
			printf("per pooled upstream connection (structures): TCB %zu + table %.0f +\n"
			       "  hp_upstream %zu = %.0f B (the proxy reserves one hp_upstream per session)\n",
			       sizeof(struct gw_tcp_conn), per_slot, sizeof(struct hp_upstream), up);
			printf("resident growth of the gateway's regions per connection held: %.1f B\n",
			       held ? (double)grow / (double)held : 0.0);
			printf("gateway total (rte_malloc heap incl. mbuf pool + resident head buffers):\n"
			       "  %" PRIu64 " B (%.2f GiB) = %.0f B per idle client connection held\n",
			       total, (double)total / 1073741824.0,
			       held ? (double)total / (double)held : 0.0);
			printf("\nlimit counters (all must be 0): no_session %" PRIu64
			       ", no_upstream_slot %" PRIu64 ", conns_refused_limit %" PRIu64
			       ",\n  accepts_refused %" PRIu64 ", upstream_overflow %" PRIu64
			       ", http no_mbuf %" PRIu64 ", tcp no_mbuf %" PRIu64
			       ", reasm_dropped %" PRIu64 ",\n  client connections closed by the"
			       " gateway %" PRIu64 "\n",
			       ps.no_session, ps.no_upstream_slot, ts.conns_refused_limit,
			       ts.accepts_refused, ps.upstream_overflow, ps.no_mbuf, ts.no_mbuf,
			       ts.reasm_dropped, B.closed);
			printf("SYN queue overflows answered with cookies (accepted): %" PRIu64 "\n",
			       ts.syncookies_sent);
			printf("requests that waited for an exchange context (back-pressure,\n"
			       "  served later, not refused): exchange_waits %" PRIu64 "\n",
			       ps.exchange_waits);
			printf("\ntarget (issue 9): under 1 KiB of gateway state per idle connection: %s\n"
			       "  (%.0f B of structures per client connection, %.0f B with the resident\n"
			       "  head-buffer pages)\n",
			       cl + (held ? (double)heads_res / (double)held : 0.0) < 1024 ?
			       "met" : "NOT met", cl,
			       cl + (held ? (double)heads_res / (double)held : 0.0));
			printf("%u idle connections held within the configured limits: %s",
			       requested, fit ? "yes" : "NO");
			if (!fit)
				printf(" (%" PRIu64 " held)", est);
			printf("%s\n", sessions_override ? " (-S: sessions NOT as lib/worker sets them)" : "");
		}
	}

	for (unsigned int i = 0; i < B.n_workers; i++)
		gw_tcp_stack_free(B.w[i].nd.s);
	gw_tcp_stack_free(B.client.s);
	gw_tcp_stack_free(B.backend.s);
	for (unsigned int i = 0; i < B.n_workers; i++) {
		gw_http_proxy_free(B.w[i].px);
		gw_metrics_table_free(B.w[i].metrics);
	}
	harness_wire_free(&B.wire);
	harness_routes_free(&B.routes);
	gw_config_free(&B.cfg);
	free(B.clients);
	fclose(B.devnull);
	rte_mempool_free(B.gw_pool);
	rte_mempool_free(B.peer_pool);
	rte_eal_cleanup();
	return 0;
}
