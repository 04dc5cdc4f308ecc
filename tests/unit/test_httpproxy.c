/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/httpproxy: three real TCP stacks wired back to back in
 * memory (client stack <-> gateway stack <-> backend stack), on a virtual
 * clock, with a store and snapshot built from Istio YAML. The backends are
 * small HTTP/1.1 servers written against lib/http; the client sends raw
 * bytes and parses what comes back. Checks: routing by header, keep-alive
 * connections alternating routes, an exact 80/20 split, pipelined
 * requests answered in order, Content-Length and chunked bodies both ways
 * forwarded without copying (copied bytes are the rewritten heads only),
 * 404 NR / 503 UH / 502 UF / 504 UT, smuggling attempts answered 400 and
 * closed, 431, and the access-log records. Every mbuf is returned to the
 * pool at the end of each test.
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
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gw_common.h"
#include "gw_config.h"
#include "gw_http.h"
#include "gw_httpproxy.h"
#include "gw_shadow.h"
#include "gw_model.h"
#include "gw_net.h"
#include "gw_route.h"
#include "gw_tcp.h"

#define IP4(a, b, c, d) htonl(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define HZ        UINT64_C(1000000000)        /* virtual TSC: nanoseconds */
#define MS(x)     ((uint64_t)(x) * UINT64_C(1000000))
#define TICK      UINT64_C(20000)             /* 20 us per loop iteration */
#define WIRE_MAX  65536u
#define MAX_APPS  64u
#define KiB       1024u
#define MiB       (1024u * 1024u)

static struct rte_mempool *pool;

static const char istio_yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: svc}\n"
	"spec:\n"
	"  hosts: [svc.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 7000}]\n"
	"  endpoints:\n"
	"  - {address: 10.10.2.11, labels: {version: v1}}\n"
	"  - {address: 10.10.2.12, labels: {version: v2}}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: dead}\n"
	"spec:\n"
	"  hosts: [dead.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 7999}]\n"
	"  endpoints: [{address: 10.10.2.11}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: DestinationRule\n"
	"metadata: {name: svc}\n"
	"spec:\n"
	"  host: svc.test\n"
	"  subsets:\n"
	"  - {name: v1, labels: {version: v1}}\n"
	"  - {name: v2, labels: {version: v2}}\n"
	"  - {name: empty, labels: {version: none}}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: VirtualService\n"
	"metadata: {name: svc}\n"
	"spec:\n"
	"  hosts: [svc.test]\n"
	"  http:\n"
	"  - match: [{headers: {end-user: {exact: jason}}}]\n"
	"    route: [{destination: {host: svc.test, subset: v2}}]\n"
	"  - match: [{uri: {prefix: /split}}]\n"
	"    route:\n"
	"    - {destination: {host: svc.test, subset: v1}, weight: 80}\n"
	"    - {destination: {host: svc.test, subset: v2}, weight: 20}\n"
	"  - match: [{uri: {prefix: /slow}}]\n"
	"    timeout: 1s\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n"
	"  - match: [{uri: {prefix: /uh}}]\n"
	"    route: [{destination: {host: svc.test, subset: empty}}]\n"
	"  - match: [{uri: {prefix: /uf}}]\n"
	"    route: [{destination: {host: dead.test}}]\n"
	"  - match: [{uri: {prefix: /mirror}}]\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n"
	"    mirror: {host: svc.test, subset: v2}\n"
	"  - headers:\n"
	"      request: {add: {x-added: yes}, remove: [x-secret]}\n"
	"      response: {set: {x-route: default}}\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: cb}\n"
	"spec:\n"
	"  hosts: [cb.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 7000}]\n"
	"  endpoints: [{address: 10.10.2.11}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: DestinationRule\n"
	"metadata: {name: cb}\n"
	"spec:\n"
	"  host: cb.test\n"
	"  trafficPolicy:\n"
	"    connectionPool:\n"
	"      tcp: {maxConnections: 1}\n"
	"      http: {http1MaxPendingRequests: 1}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: pol}\n"
	"spec:\n"
	"  hosts: [pol.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 8000, name: http, protocol: HTTP, targetPort: 7000}]\n"
	"  endpoints: [{address: 10.10.2.11}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: VirtualService\n"
	"metadata: {name: pol}\n"
	"spec:\n"
	"  hosts: [pol.test]\n"
	"  http:\n"
	"  - match: [{uri: {prefix: /flaky-default}}]\n"
	"    route: [{destination: {host: svc.test}}]\n"
	"  - match: [{uri: {prefix: /flaky}}]\n"
	"    retries: {attempts: 2, retryOn: 5xx}\n"
	"    route: [{destination: {host: svc.test}}]\n"
	"  - match: [{uri: {prefix: /slowtry}}]\n"
	"    retries: {attempts: 1, perTryTimeout: 200ms, retryOn: 5xx}\n"
	"    route: [{destination: {host: svc.test}}]\n"
	"  - match: [{uri: {prefix: /abort}}]\n"
	"    fault: {abort: {httpStatus: 418, percentage: {value: 50}}}\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n"
	"  - match: [{uri: {prefix: /delay}}]\n"
	"    fault: {delay: {fixedDelay: 7s, percentage: {value: 100}}}\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n"
	"  - match: [{uri: {exact: /direct}}]\n"
	"    directResponse: {status: 503, body: {string: down for maintenance}}\n"
	"  - match: [{uri: {prefix: /old}}]\n"
	"    redirect: {uri: /new, authority: new.test, redirectCode: 302}\n"
	"  - match: [{uri: {prefix: /service}}]\n"
	"    rewrite:\n"
	"      uriRegexRewrite: {match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1'}\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n"
	"  - match: [{uri: {prefix: /api/v1}}]\n"
	"    rewrite: {uri: /v2, authority: backend.test}\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n"
	"  - match: [{uri: {prefix: /cors}}]\n"
	"    corsPolicy:\n"
	"      allowOrigins: [{exact: 'https://a.example'}]\n"
	"      allowMethods: [GET, POST]\n"
	"      allowHeaders: [x-h]\n"
	"      exposeHeaders: [x-e]\n"
	"      maxAge: 24h\n"
	"      allowCredentials: true\n"
	"    route: [{destination: {host: svc.test, subset: v1}}]\n";

static const uint16_t listen_ports[] = {8000};

/* ------------------------------------------------------------------ */
/* Harness                                                             */
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

/* A growable byte buffer (test side: copies are fine here). */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct app {
	struct gw_tcp_conn *c;
	bool backend;
	unsigned int version;        /* backend: 1 or 2 */
	struct buf rx;               /* everything received */
	size_t rx_done;              /* backend: bytes of rx already answered */
	struct buf tx;               /* to send */
	size_t tx_off;
	bool established, fin, closed;
	enum gw_tcp_close_reason reason;
	uint32_t requests;           /* backend: requests answered */
	uint32_t flaky_503;          /* backend: /flaky answered 503 */
};

struct harness {
	struct node nodes[N_NODES];
	struct gw_http_proxy *px;
	struct gw_model_store *store;
	struct gw_route_snapshot *snap;
	struct gw_route_snapshot *retired;  /* swapped out by swap_on_hold */
	bool swap_on_hold;                  /* publish a new snapshot at routing */
	int holds;                          /* snapshot holds outstanding */
	uint64_t now;
	struct frame wire[WIRE_MAX];
	uint32_t w_head, w_tail;
	struct app apps[MAX_APPS];
	uint32_t n_apps;
	uint32_t accepts[3];         /* by backend version */
	struct buf last_request;     /* the last request head a backend got */
	struct rte_ring *shadow_ring;        /* mirror items (no engine here) */
	struct gw_shadow_health health;      /* what the engine would publish */
};

static struct harness *H;

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static inline uint8_t
pat(uint64_t off)
{
	return (uint8_t)((off * 2654435761u) >> 13);
}

/* ---- wire ---- */

static void
xmit(void *arg, unsigned int port_index, uint32_t next_hop, struct rte_mbuf *m)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(port_index);
	RTE_SET_USED(next_hop);
	if (H->w_tail - H->w_head >= WIRE_MAX) {
		rte_pktmbuf_free(m);
		return;
	}
	H->wire[H->w_tail % WIRE_MAX].m = m;
	H->wire[H->w_tail % WIRE_MAX].due = H->now + 10000;
	H->w_tail++;
}

static int
wire_dest(uint32_t ip, unsigned int *port)
{
	for (unsigned int n = 0; n < N_NODES; n++)
		for (unsigned int p = 0; p < H->nodes[n].n_ports; p++)
			if (H->nodes[n].ports[p].iface.addr == ip) {
				*port = p;
				return (int)n;
			}
	return -1;
}

static void
wire_deliver(struct rte_mbuf *m)
{
	struct rte_mbuf *f = rte_pktmbuf_alloc(pool);
	struct gw_net_result res;
	struct rte_ether_hdr *eth;
	uint32_t len = rte_pktmbuf_pkt_len(m), dst;
	const void *src;
	unsigned int port;
	uint8_t *data;
	int n;

	assert_non_null(f);
	data = (uint8_t *)rte_pktmbuf_append(f, (uint16_t)len);
	assert_non_null(data);
	src = rte_pktmbuf_read(m, 0, len, data);
	if (src != data)
		memcpy(data, src, len);
	rte_pktmbuf_free(m);
	memcpy(&dst, data + GW_ETHER_HDR_LEN + 16, 4);
	n = wire_dest(dst, &port);
	if (n < 0) {
		rte_pktmbuf_free(f);
		return;
	}
	eth = (struct rte_ether_hdr *)data;
	memcpy(eth->dst_addr.addr_bytes, H->nodes[n].ports[port].iface.mac, 6);
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	if (gw_net_input(&H->nodes[n].ports[port].iface, data, (uint16_t)len,
			 &res) != GW_NET_TCP)
		fail_msg("frame dropped by lib/net: %s", gw_drop_reason_name(res.drop));
	gw_tcp_input(H->nodes[n].s, port, f, &res);
}

/* ---- applications ---- */

static void
app_pump(struct app *a)
{
	while (a->c != NULL && a->tx_off < a->tx.len) {
		uint32_t space = gw_tcp_send_space(a->c);
		size_t n = a->tx.len - a->tx_off;
		struct rte_mbuf *m;
		uint16_t room;

		if (space == 0)
			return;
		m = rte_pktmbuf_alloc(pool);
		assert_non_null(m);
		room = rte_pktmbuf_tailroom(m);
		if (n > room)
			n = room;
		if (n > space)
			n = space;
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), a->tx.p + a->tx_off, n);
		if (gw_tcp_send(a->c, m) != 0) {
			rte_pktmbuf_free(m);
			return;
		}
		a->tx_off += n;
	}
}

/* Backend: answer every complete request in rx. */
static void
backend_serve(struct app *a)
{
	for (;;) {
		struct gw_http_parser *p = gw_http_parser_create(GW_HTTP_REQUEST, NULL);
		const uint8_t *d = a->rx.p + a->rx_done;
		size_t avail = a->rx.len - a->rx_done, used = 0, body = 0;
		uint64_t sum = 0, blen = 0;
		char path[256], head[512];
		int rc, hl;

		assert_non_null(p);
		rc = avail == 0 ? GW_HTTP_AGAIN : gw_http_head_parse(p, d, avail, &used);
		if (rc != GW_HTTP_DONE) {
			assert_true(rc == GW_HTTP_AGAIN);
			gw_http_parser_free(p);
			return;
		}
		if (p->head.body == GW_HTTP_BODY_LENGTH) {
			if (avail - used < p->head.content_length) {
				gw_http_parser_free(p);
				return;
			}
			body = p->head.content_length;
			for (size_t i = 0; i < body; i++)
				sum += d[used + i] == pat(i);
			blen = body;
		} else if (p->head.body == GW_HTTP_BODY_CHUNKED) {
			struct gw_http_chunked ch;
			struct gw_http_span sp[64];
			size_t off = used, c;

			gw_http_chunked_init(&ch);
			while (!gw_http_chunked_done(&ch) && off < avail) {
				int ns = gw_http_chunked_feed(&ch, d + off,
					avail - off, sp, 64, &c);

				assert_true(ns >= 0);
				for (int k = 0; k < ns; k++)
					for (size_t i = 0; i < sp[k].len; i++, blen++)
						sum += d[off + sp[k].off + i] == pat(blen);
				off += c;
			}
			if (!gw_http_chunked_done(&ch)) {
				gw_http_parser_free(p);
				return;
			}
			body = off - used;
		}
		H->last_request.len = 0;
		buf_add(&H->last_request, d, used);
		snprintf(path, sizeof(path), "%.*s", (int)p->head.target.len,
			 p->head.target.ptr);
		a->rx_done += used + body;
		a->requests++;
		gw_http_parser_free(p);
		if (strncmp(path, "/slow", 5) == 0)
			continue; /* never answers */
		if (strncmp(path, "/flaky", 6) == 0 && a->version == 1) {
			/* v1 is unavailable: a retry must find v2 */
			static const char r503[] = "HTTP/1.1 503 Service Unavailable\r\n"
				"content-length: 4\r\n\r\ndown";

			a->flaky_503++;
			buf_add(&a->tx, r503, sizeof(r503) - 1);
			app_pump(a);
			continue;
		}
		if (strstr(path, "/odd-head/") != NULL) {
			/* heads the proxy must rewrite, or copy (3) */
			static const char *const odd[] = {
				"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nx-a:b\r\n\r\nok",
				"HTTP/1.1 200\r\ncontent-length: 2, 2\r\nx-b: c\r\n\r\nok",
				"HTTP/1.1 203 Non-Authoritative Information\r\n"
				"x-c: d\r\ncontent-length: 2\r\nConnection: keep-alive\r\n"
				"x-envoy-upstream-service-time: 99\r\n\r\nok",
			};
			unsigned long k = strtoul(strrchr(path, '/') + 1, NULL, 10);

			assert_true(k >= 1 && k <= GW_ARRAY_SIZE(odd));
			buf_add(&a->tx, odd[k - 1], strlen(odd[k - 1]));
			app_pump(a);
			continue;
		}
		if (strncmp(path, "/big-cl/", 8) == 0 ||
		    strncmp(path, "/big-chunked/", 13) == 0) {
			bool chunked = path[5] == 'c' && path[6] == 'h';
			size_t n = strtoul(strrchr(path, '/') + 1, NULL, 10);

			hl = snprintf(head, sizeof(head),
				"HTTP/1.1 200 OK\r\n%s%zu\r\n\r\n",
				chunked ? "transfer-encoding: chunked\r\nx-n: " :
					  "content-length: ", n);
			buf_add(&a->tx, head, (size_t)hl);
			for (size_t off = 0; off < n;) {
				size_t c = n - off < 10000 ? n - off : 10000;
				uint8_t chunk[10000];

				for (size_t i = 0; i < c; i++)
					chunk[i] = pat(off + i);
				if (chunked) {
					hl = snprintf(head, sizeof(head), "%zx\r\n", c);
					buf_add(&a->tx, head, (size_t)hl);
				}
				buf_add(&a->tx, chunk, c);
				if (chunked)
					buf_add(&a->tx, "\r\n", 2);
				off += c;
			}
			if (chunked)
				buf_add(&a->tx, "0\r\nx-trailer: t\r\n\r\n", 19);
			app_pump(a);
			continue;
		}
		{
			char text[320];
			int tl = snprintf(text, sizeof(text), "v%u %s %" PRIu64 " %" PRIu64,
					  a->version, path, blen, sum);

			hl = snprintf(head, sizeof(head),
				"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n"
				"x-backend: v%u\r\n\r\n", tl, a->version);
			buf_add(&a->tx, head, (size_t)hl);
			buf_add(&a->tx, text, (size_t)tl);
		}
		app_pump(a);
	}
}

static void
cb_established(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	a->c = c;
	a->established = true;
	app_pump(a);
}

static void
cb_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct app *a = ctx;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	for (struct rte_mbuf *s = m; s != NULL; s = s->next)
		buf_add(&a->rx, rte_pktmbuf_mtod(s, void *), s->data_len);
	rte_pktmbuf_free(m);
	gw_tcp_recv_consumed(c, len);
	if (a->backend)
		backend_serve(a);
}

static void
cb_writable(struct gw_tcp_conn *c, void *ctx)
{
	RTE_SET_USED(c);
	app_pump(ctx);
}

static void
cb_fin(struct gw_tcp_conn *c, void *ctx)
{
	struct app *a = ctx;

	a->fin = true;
	if (a->backend)
		gw_tcp_shutdown(c);
}

static void
cb_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason reason)
{
	struct app *a = ctx;

	RTE_SET_USED(c);
	a->c = NULL;
	a->closed = true;
	a->reason = reason;
}

static const struct gw_tcp_callbacks app_cb = {
	.on_established = cb_established,
	.on_data = cb_data,
	.on_writable = cb_writable,
	.on_fin = cb_fin,
	.on_closed = cb_closed,
};

static struct app *
app_new(void)
{
	struct app *a;

	assert_true(H->n_apps < MAX_APPS);
	a = &H->apps[H->n_apps++];
	memset(a, 0, sizeof(*a));
	return a;
}

static void *
backend_accept(void *listener_ctx, struct gw_tcp_conn *c,
	       const struct gw_tcp_callbacks **cb)
{
	struct app *a = app_new();
	uint32_t lip;

	RTE_SET_USED(listener_ctx);
	a->c = c;
	a->backend = true;
	a->established = true;
	gw_tcp_conn_tuple(c, &lip, NULL, NULL, NULL);
	a->version = lip == IP4(10, 10, 2, 11) ? 1 : 2;
	H->accepts[a->version]++;
	*cb = &app_cb;
	return a;
}

static struct app *
client_open(void)
{
	struct app *a = app_new();

	a->c = gw_tcp_connect(H->nodes[N_CLIENT].s, 0, IP4(10, 10, 1, 1), 8000,
			      &app_cb, a);
	assert_non_null(a->c);
	return a;
}

static void
client_send(struct app *a, const char *s)
{
	buf_add(&a->tx, s, strlen(s));
	app_pump(a);
}

/* ---- the loop ---- */

static const struct gw_route_snapshot *
snapshot_get(void *arg)
{
	return ((struct harness *)arg)->snap;
}

static struct gw_route_snapshot *snapshot_build(void);

/* Hold callbacks; with swap_on_hold, a new snapshot is "published" right
 * after the request is routed, as the control lcore may do. */
static const void *
snapshot_hold(void *arg, const struct gw_route_snapshot *snap)
{
	struct harness *h = arg;

	h->holds++;
	if (h->swap_on_hold && h->retired == NULL) {
		h->retired = h->snap;
		h->snap = snapshot_build();
	}
	return snap;
}

static void
snapshot_release(void *arg, const void *token)
{
	struct harness *h = arg;

	assert_non_null(token);
	h->holds--;
}

static void
step(void)
{
	for (uint32_t n = H->w_tail - H->w_head; n > 0; n--) {
		struct frame *f = &H->wire[H->w_head % WIRE_MAX];

		if (f->due > H->now)
			break;
		H->w_head++;
		wire_deliver(f->m);
	}
	for (unsigned int i = 0; i < N_NODES; i++)
		gw_tcp_poll(H->nodes[i].s, H->now);
	gw_http_proxy_poll(H->px, H->now);
	for (uint32_t i = 0; i < H->n_apps; i++)
		app_pump(&H->apps[i]);
	H->now += TICK;
}

/* A client's parsed responses. */
struct response {
	uint16_t status;
	char head[2048];
	uint8_t *body;
	size_t body_len;
};

/*
 * Parse responses from the client's rx; returns how many are complete
 * (up to @p max). HEAD-less: every response is to a GET/POST.
 */
static unsigned int
parse_responses(const struct app *a, struct response *out, unsigned int max)
{
	size_t off = 0;
	unsigned int n = 0;

	while (n < max && off < a->rx.len) {
		struct gw_http_parser *p = gw_http_parser_create(GW_HTTP_RESPONSE, NULL);
		size_t used, bl = 0;
		struct response *r = &out[n];
		int rc = gw_http_head_parse(p, a->rx.p + off, a->rx.len - off, &used);

		if (rc != GW_HTTP_DONE) {
			gw_http_parser_free(p);
			break;
		}
		r->status = p->head.status;
		snprintf(r->head, sizeof(r->head), "%.*s", (int)used,
			 (const char *)a->rx.p + off);
		free(r->body);
		r->body = NULL;
		r->body_len = 0;
		if (p->head.body == GW_HTTP_BODY_LENGTH) {
			if (a->rx.len - off - used < p->head.content_length) {
				gw_http_parser_free(p);
				break;
			}
			bl = p->head.content_length;
			r->body = malloc(bl + 1);
			memcpy(r->body, a->rx.p + off + used, bl);
			r->body[bl] = 0;
			r->body_len = bl;
		} else if (p->head.body == GW_HTTP_BODY_CHUNKED) {
			struct gw_http_chunked ch;
			struct gw_http_span sp[64];
			size_t o = off + used, c;

			gw_http_chunked_init(&ch);
			r->body = malloc(a->rx.len + 1);
			while (!gw_http_chunked_done(&ch) && o < a->rx.len) {
				int ns = gw_http_chunked_feed(&ch, a->rx.p + o,
					a->rx.len - o, sp, 64, &c);

				assert_true(ns >= 0);
				for (int k = 0; k < ns; k++) {
					memcpy(r->body + r->body_len,
					       a->rx.p + o + sp[k].off, sp[k].len);
					r->body_len += sp[k].len;
				}
				o += c;
			}
			if (!gw_http_chunked_done(&ch)) {
				gw_http_parser_free(p);
				break;
			}
			r->body[r->body_len] = 0;
			bl = o - off - used;
		}
		gw_http_parser_free(p);
		off += used + bl;
		n++;
	}
	return n;
}

static void
responses_free(struct response *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		free(r[i].body);
		r[i].body = NULL;
	}
}

/* Run until @p a has @p want complete responses (or @p ms pass). */
static unsigned int
run_until_responses(struct app *a, struct response *out, unsigned int want,
		    uint64_t ms)
{
	uint64_t end = H->now + MS(ms);
	unsigned int n = 0;
	size_t seen = (size_t)-1;

	while (H->now < end) {
		step();
		if (a->rx.len != seen) {
			seen = a->rx.len;
			n = parse_responses(a, out, want);
			if (n >= want)
				return n;
		}
	}
	return n;
}

static void
run_ms(uint64_t ms)
{
	uint64_t end = H->now + MS(ms);

	while (H->now < end)
		step();
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
	nd->n_ports++;
}

static struct gw_tcp_stack *
stack_new(struct node *nd)
{
	struct gw_tcp_stack_params p = {
		.worker_id = 0,
		.n_workers = 1,
		.max_conns = 512,
		.syn_backlog = 128,
		.timewait_max = 256,
		.rcvbuf = 256 * KiB,
		.sndbuf = 256 * KiB,
		.reasm_segments = 4096,
		.connect_timeout_ms = 1000,
		.tsc_hz = HZ,
		.pool = pool,
		.n_ports = nd->n_ports,
		.ports = nd->ports,
		.xmit = xmit,
		.xmit_arg = nd,
		.timewait_ms = 1000,
		.start_tsc = H->now,
	};
	struct gw_tcp_stack *s = gw_tcp_stack_create(&p);

	assert_non_null(s);
	return s;
}

static struct gw_route_snapshot *
snapshot_build(void)
{
	struct gw_route_build_params rp = {
		.listener_ports = listen_ports,
		.n_listener_ports = GW_ARRAY_SIZE(listen_ports),
		.n_workers = 1,
		.seed = 1,
	};
	struct gw_route_snapshot *snap;
	char err[1024];

	snap = gw_route_snapshot_build(H->store, &rp, err, sizeof(err));
	if (snap == NULL)
		fail_msg("%s", err);
	return snap;
}

/* max_exchanges of the next setup() (0: the proxy's default) */
static uint32_t setup_exchanges;
/* accesslog_ring_size of the next setup() (0: the proxy's default) */
static uint32_t setup_log_ring;

static int
setup(void **state)
{
	static const uint32_t roles[2] = {GW_ROLE_DOWNSTREAM, GW_ROLE_UPSTREAM};
	struct gw_http_proxy_params pp;
	struct gw_model_set *set;
	char err[1024];

	H = calloc(1, sizeof(*H));
	assert_non_null(H);
	*state = H;
	H->now = MS(1000);
	H->store = gw_model_store_create();
	set = gw_model_set_create();
	if (gw_model_set_load_buffer(set, istio_yaml, strlen(istio_yaml),
				     "hp.yaml", err, sizeof(err)) < 0 ||
	    gw_model_store_apply(H->store, set, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	gw_model_set_free(set);
	H->snap = snapshot_build();

	node_port(&H->nodes[N_CLIENT], IP4(10, 10, 1, 2), 1);
	node_port(&H->nodes[N_PROXY], IP4(10, 10, 1, 1), 2);
	node_port(&H->nodes[N_PROXY], IP4(10, 10, 2, 1), 3);
	node_port(&H->nodes[N_BACKEND], IP4(10, 10, 2, 11), 4);
	node_port(&H->nodes[N_BACKEND], IP4(10, 10, 2, 12), 5);
	for (unsigned int i = 0; i < N_NODES; i++)
		H->nodes[i].s = stack_new(&H->nodes[i]);
	assert_int_equal(gw_tcp_listen(H->nodes[N_BACKEND].s, 0, 7000,
				       backend_accept, H), 0);

	memset(&pp, 0, sizeof(pp));
	pp.stack = H->nodes[N_PROXY].s;
	pp.snapshot = snapshot_get;
	pp.snapshot_arg = H;
	pp.snapshot_hold = snapshot_hold;
	pp.snapshot_release = snapshot_release;
	pp.pool = pool;
	pp.max_sessions = 64;
	pp.max_exchanges = setup_exchanges;
	pp.accesslog_ring_size = setup_log_ring;
	pp.n_ports = 2;
	pp.ports = H->nodes[N_PROXY].ports;
	pp.port_roles = roles;
	pp.max_head = 8 * KiB;
	pp.max_request_body = 4 * MiB;
	pp.tsc_hz = HZ;
	pp.start_tsc = H->now;
	pp.socket_id = SOCKET_ID_ANY;
	H->shadow_ring = rte_ring_create_elem("t_hp_shadow",
		sizeof(struct gw_shadow_item), 256, SOCKET_ID_ANY,
		RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(H->shadow_ring);
	pp.shadow_ring = H->shadow_ring;
	pp.shadow_health = &H->health;
	H->px = gw_http_proxy_create(&pp);
	assert_non_null(H->px);
	assert_int_equal(gw_http_proxy_listen(H->px, 0, 8000), 0);
	return 0;
}

/* The proxy with a single exchange context (one request in flight). */
static int
setup_one_exchange(void **state)
{
	int rc;

	setup_exchanges = 1;
	rc = setup(state);
	setup_exchanges = 0;
	return rc;
}

/* The proxy with the smallest access-log ring. */
static int
setup_small_log(void **state)
{
	int rc;

	setup_log_ring = 1;
	rc = setup(state);
	setup_log_ring = 0;
	return rc;
}

static int
teardown(void **state)
{
	RTE_SET_USED(state);
	for (unsigned int i = 0; i < N_NODES; i++)
		gw_tcp_stack_free(H->nodes[i].s);
	gw_http_proxy_free(H->px);
	for (; H->w_head != H->w_tail; H->w_head++)
		rte_pktmbuf_free(H->wire[H->w_head % WIRE_MAX].m);
	for (uint32_t i = 0; i < H->n_apps; i++) {
		buf_free(&H->apps[i].rx);
		buf_free(&H->apps[i].tx);
	}
	buf_free(&H->last_request);
	{
		struct gw_shadow_item it;

		while (rte_ring_sc_dequeue_elem(H->shadow_ring, &it,
						sizeof(it)) == 0)
			/* PRIMARY_DONE has its latency where others have m */
			if (it.type != GW_SHADOW_ITEM_PRIMARY_DONE)
				rte_pktmbuf_free(it.m);
		rte_ring_free(H->shadow_ring);
	}
	gw_route_snapshot_free(H->snap);
	gw_route_snapshot_free(H->retired);
	gw_model_store_free(H->store);
	/* every mbuf came back: nothing leaked through the proxy */
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	free(H);
	H = NULL;
	return 0;
}

static const struct gw_http_proxy_stats *
pstats(void)
{
	return gw_http_proxy_stats(H->px);
}

/* The access log so far, formatted by the control lcore's function. */
static char *
drain_log(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	gw_http_accesslog_drain(gw_http_proxy_accesslog_ring(H->px), f);
	fclose(f);
	return text;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void
test_route_by_header_keepalive(void **state)
{
	struct response r[8] = {0};
	struct app *c;
	char *log;

	RTE_SET_USED(state);
	c = client_open();
	/* one connection, routes alternating request by request */
	for (unsigned int i = 0; i < 6; i++) {
		char req[256];

		snprintf(req, sizeof(req),
			 "GET /r%u HTTP/1.1\r\nHost: svc.test\r\n%s"
			 "user-agent: unit\r\n\r\n", i,
			 i % 2 == 0 ? "end-user: jason\r\n" : "");
		client_send(c, req);
		assert_int_equal(run_until_responses(c, r, i + 1, 2000), i + 1);
	}
	for (unsigned int i = 0; i < 6; i++) {
		char want[32];

		assert_int_equal(r[i].status, 200);
		snprintf(want, sizeof(want), "v%u /r%u 0", i % 2 == 0 ? 2 : 1, i);
		assert_non_null(strstr((char *)r[i].body, want));
	}
	assert_int_equal(pstats()->connections, 1);
	assert_int_equal(pstats()->requests, 6);
	/* one upstream connection per endpoint, reused */
	assert_int_equal(pstats()->upstream_connects, 2);
	assert_int_equal(pstats()->upstream_reused, 4);
	assert_int_equal(H->accepts[1], 1);
	assert_int_equal(H->accepts[2], 1);
	/* the default route's header operations, both ways */
	assert_non_null(strstr(r[1].head, "x-route: default"));
	assert_null(strstr(r[0].head, "x-route"));
	/* the access log: Envoy's format and the upstream cluster */
	run_ms(10);
	log = drain_log();
	assert_non_null(strstr(log, "\"GET /r0 HTTP/1.1\" 200 - 0 "));
	assert_non_null(strstr(log, "\"10.10.1.2\" \"unit\""));
	assert_non_null(strstr(log, "\"svc.test\" \"10.10.2.12:7000\" outbound|8000|v2|svc.test\n"));
	assert_non_null(strstr(log, "\"10.10.2.11:7000\" outbound|8000|v1|svc.test\n"));
	free(log);
	assert_int_equal(pstats()->accesslog_records, 6);
	responses_free(r, 8);
}

static void
test_request_rewrite(void **state)
{
	struct response r[1] = {0};
	struct app *c;
	const char *h;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /x?q=1 HTTP/1.1\r\nHost: svc.test\r\n"
		    "Connection: keep-alive\r\nx-secret: s\r\n"
		    "x-forwarded-for: 192.0.2.1\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	h = (const char *)H->last_request.p;
	assert_non_null(h);
	buf_add(&H->last_request, "", 1);
	h = (const char *)H->last_request.p;
	assert_true(strncmp(h, "GET /x?q=1 HTTP/1.1\r\n", 21) == 0);
	assert_non_null(strstr(h, "x-forwarded-for: 192.0.2.1, 10.10.1.2\r\n"));
	assert_non_null(strstr(h, "x-forwarded-proto: http\r\n"));
	assert_non_null(strstr(h, "x-request-id: "));
	{
		/* a version-4 UUID, as Envoy generates: 8-4-4-4-12 hex digits,
		 * '4' first in the third group, 8, 9, a or b in the fourth */
		const char *id = strstr(h, "x-request-id: ") + 14;

		for (int i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23)
				assert_int_equal(id[i], '-');
			else
				assert_non_null(strchr("0123456789abcdef", id[i]));
		}
		assert_int_equal(id[14], '4');
		assert_non_null(strchr("89ab", id[19]));
		assert_int_equal(id[36], '\r');
	}
	assert_non_null(strstr(h, "x-added: yes\r\n"));
	assert_null(strstr(h, "x-secret"));
	assert_null(strstr(h, "Connection"));
	/* the head is the only thing copied */
	assert_true(pstats()->copied_bytes < 1024);
	responses_free(r, 1);
}

/* Content-Length as a list of identical values, and repeated (RFC 9110
 * §8.6): accepted, and the backend gets the value once, not the list. */
static void
test_content_length_once(void **state)
{
	struct response r[1] = {0};
	struct app *c;
	const char *h, *first;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "POST /cl HTTP/1.1\r\nHost: svc.test\r\n"
		    "Content-Length: 3, 3\r\ncontent-length: 3\r\n\r\nabc");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	assert_int_equal(r[0].status, 200);
	buf_add(&H->last_request, "", 1);
	h = (const char *)H->last_request.p;
	first = strstr(h, "content-length: 3\r\n");
	assert_non_null(first);
	assert_null(strstr(first + 1, "content-length"));
	assert_null(strstr(h, "Content-Length"));
	assert_null(strstr(h, "3, 3"));
	responses_free(r, 1);
}

/* A snapshot published while a request is in flight: the response still
 * gets its route's header operations (the request holds its snapshot),
 * and every hold is released when the exchange ends. */
static void
test_snapshot_held_in_flight(void **state)
{
	struct response r[2] = {0};
	struct app *c;

	RTE_SET_USED(state);
	H->swap_on_hold = true;
	c = client_open();
	client_send(c, "GET /a HTTP/1.1\r\nHost: svc.test\r\n\r\n"
		    "GET /b HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 2, 2000), 2);
	assert_non_null(H->retired);
	assert_int_equal(r[0].status, 200);
	assert_non_null(strstr(r[0].head, "x-route: default"));
	assert_non_null(strstr(r[1].head, "x-route: default"));
	assert_int_equal(H->holds, 0);
	responses_free(r, 2);
}

/* fault.abort at 50%: exactly every other request, answered by the
 * gateway with the configured status and Envoy's text. */
static void
test_fault_abort_exact(void **state)
{
	struct response r[10] = {0};
	unsigned int aborted = 0;
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	for (int i = 0; i < 10; i++)
		client_send(c, "GET /abort HTTP/1.1\r\nHost: pol.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 10, 3000), 10);
	for (int i = 0; i < 10; i++) {
		if (r[i].status == 418) {
			aborted++;
			assert_memory_equal(r[i].body, "fault filter abort", 18);
		} else {
			assert_int_equal(r[i].status, 200);
		}
	}
	assert_int_equal(aborted, 5);
	assert_int_equal(pstats()->fault_aborts, 5);
	responses_free(r, 10);
}

/* fault.delay: the request is held 7 s (virtual time) before it goes
 * upstream, while another client on the same proxy is served at once. */
static void
test_fault_delay_holds_only_its_request(void **state)
{
	struct response r[1] = {0}, o[1] = {0};
	struct app *c, *other;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /delay HTTP/1.1\r\nHost: pol.test\r\n\r\n");
	run_ms(100);
	other = client_open();
	client_send(other, "GET /x HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(other, o, 1, 500), 1);
	assert_int_equal(o[0].status, 200);
	/* nothing for the delayed one before 7 s */
	assert_int_equal(run_until_responses(c, r, 1, 6800), 0);
	assert_int_equal(run_until_responses(c, r, 1, 400), 1);
	assert_int_equal(r[0].status, 200);
	assert_int_equal(pstats()->fault_delays, 1);
	responses_free(r, 1);
	responses_free(o, 1);
}

/* directResponse and redirect: answered by the gateway, nothing upstream. */
static void
test_direct_response_and_redirect(void **state)
{
	struct response r[2] = {0};
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /direct HTTP/1.1\r\nHost: pol.test\r\n\r\n"
		    "GET /old/page?q=1 HTTP/1.1\r\nHost: pol.test:8000\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 2, 2000), 2);
	assert_int_equal(r[0].status, 503);
	assert_int_equal(r[0].body_len, strlen("down for maintenance"));
	assert_memory_equal(r[0].body, "down for maintenance", r[0].body_len);
	assert_int_equal(r[1].status, 302);
	assert_non_null(strstr(r[1].head, "location: http://new.test/new?q=1\r\n"));
	assert_null(H->last_request.p);
	assert_int_equal(pstats()->direct_responses, 1);
	assert_int_equal(pstats()->redirects, 1);
	responses_free(r, 2);
}

/* rewrite: the matched prefix and the authority are replaced upstream. */
static void
test_rewrite_uri_and_authority(void **state)
{
	struct response r[1] = {0};
	struct app *c;
	const char *h;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /api/v1/users?x=1 HTTP/1.1\r\nHost: pol.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	buf_add(&H->last_request, "", 1);
	h = (const char *)H->last_request.p;
	assert_true(strncmp(h, "GET /v2/users?x=1 HTTP/1.1\r\n", 28) == 0);
	assert_non_null(strstr(h, "Host: backend.test\r\n"));
	assert_null(strstr(h, "pol.test"));
	responses_free(r, 1);
}

/* uriRegexRewrite (Envoy's documented example): groups moved around in
 * the path, the query kept. */
static void
test_rewrite_uri_regex(void **state)
{
	struct response r[1] = {0};
	struct app *c;
	const char *h;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /service/foo/v1/api?x=1 HTTP/1.1\r\nHost: pol.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	buf_add(&H->last_request, "", 1);
	h = (const char *)H->last_request.p;
	assert_true(strncmp(h, "GET /v1/api/instance/foo?x=1 HTTP/1.1\r\n", 39) == 0);
	responses_free(r, 1);
}

/* corsPolicy: a preflight is answered by the gateway; an allowed origin
 * gets the CORS fields on the backend's response, another gets none. */
static void
test_cors(void **state)
{
	struct response r[3] = {0};
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "OPTIONS /cors HTTP/1.1\r\nHost: pol.test\r\n"
		    "Origin: https://a.example\r\n"
		    "Access-Control-Request-Method: POST\r\n\r\n"
		    "GET /cors HTTP/1.1\r\nHost: pol.test\r\n"
		    "Origin: https://a.example\r\n\r\n"
		    "GET /cors HTTP/1.1\r\nHost: pol.test\r\n"
		    "Origin: https://evil.example\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 3, 2000), 3);
	assert_int_equal(r[0].status, 200);
	assert_non_null(strstr(r[0].head, "access-control-allow-origin: https://a.example\r\n"));
	assert_non_null(strstr(r[0].head, "access-control-allow-methods: GET,POST\r\n"));
	assert_non_null(strstr(r[0].head, "access-control-allow-headers: x-h\r\n"));
	assert_non_null(strstr(r[0].head, "access-control-max-age: 86400\r\n"));
	assert_non_null(strstr(r[0].head, "access-control-allow-credentials: true\r\n"));
	assert_int_equal(r[1].status, 200);
	assert_non_null(strstr(r[1].head, "access-control-allow-origin: https://a.example\r\n"));
	assert_non_null(strstr(r[1].head, "access-control-expose-headers: x-e\r\n"));
	assert_int_equal(r[2].status, 200);
	assert_null(strstr(r[2].head, "access-control"));
	responses_free(r, 3);
}

static unsigned int
flaky_503s(void)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < H->n_apps; i++)
		n += H->apps[i].flaky_503;
	return n;
}

/* retries {attempts: 2, retryOn: 5xx}: v1 answers 503, every request
 * still succeeds (the retry goes to the other endpoint), and the access
 * log shows the second try. */
static void
test_retry_5xx_other_endpoint(void **state)
{
	struct response r[6] = {0};
	struct app *c;
	char *log;

	RTE_SET_USED(state);
	c = client_open();
	for (int i = 0; i < 6; i++)
		client_send(c, "GET /flaky HTTP/1.1\r\nHost: pol.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 6, 5000), 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(r[i].status, 200);
		assert_memory_equal(r[i].body, "v2 /flaky", 9);
	}
	/* round robin: half the first tries met v1 */
	assert_true(flaky_503s() >= 1);
	assert_int_equal(pstats()->retries, flaky_503s());
	run_ms(50);
	log = drain_log();
	assert_non_null(strstr(log, "attempts=2"));
	free(log);
	responses_free(r, 6);
}

/* Istio's default policy (no retries in the route): a GET that meets a
 * 503 is retried, a POST is not (it is not idempotent). */
static void
test_retry_default_policy_idempotent_only(void **state)
{
	struct response r[4] = {0};
	unsigned int before;
	struct app *c;
	int posts_503 = 0;

	RTE_SET_USED(state);
	c = client_open();
	for (int i = 0; i < 2; i++)
		client_send(c, "GET /flaky-default HTTP/1.1\r\nHost: pol.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 2, 5000), 2);
	assert_int_equal(r[0].status, 200);
	assert_int_equal(r[1].status, 200);
	responses_free(r, 2);
	before = flaky_503s();
	c = client_open();
	for (int i = 0; i < 4; i++)
		client_send(c, "POST /flaky-default HTTP/1.1\r\nHost: pol.test\r\n"
			    "content-length: 2\r\n\r\nhi");
	assert_int_equal(run_until_responses(c, r, 4, 5000), 4);
	for (int i = 0; i < 4; i++)
		posts_503 += r[i].status == 503;
	/* every POST that met v1 got its 503: none was sent again */
	assert_int_equal(posts_503, (int)(flaky_503s() - before));
	assert_true(posts_503 >= 1);
	responses_free(r, 4);
}

/* perTryTimeout 200 ms, one retry: two tries of 200 ms, then 504 with the
 * retry limit in the log. */
static void
test_retry_per_try_timeout(void **state)
{
	struct response r[1] = {0};
	uint64_t t0 = H->now;
	struct app *c;
	char *log;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /slowtry HTTP/1.1\r\nHost: pol.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 3000), 1);
	assert_int_equal(r[0].status, 504);
	assert_true(H->now - t0 >= MS(400));
	assert_true(H->now - t0 < MS(800));
	assert_int_equal(pstats()->per_try_timeouts, 2);
	assert_int_equal(pstats()->retries, 1);
	run_ms(50);
	log = drain_log();
	assert_non_null(strstr(log, "\" 504 UT,URX "));
	free(log);
	responses_free(r, 1);
}

/* connectionPool maxConnections 1, http1MaxPendingRequests 1: with one
 * request in flight, a second waits for the connection and the excess is
 * answered 503 UO at once; when the first ends, the second goes. */
static void
test_circuit_breaking(void **state)
{
	struct response r[1] = {0};
	struct app *c[4];
	char *log;

	RTE_SET_USED(state);
	c[0] = client_open();
	client_send(c[0], "GET /slow HTTP/1.1\r\nHost: cb.test\r\n\r\n");
	run_ms(20);
	for (int i = 1; i < 4; i++) {
		c[i] = client_open();
		client_send(c[i], "GET /x HTTP/1.1\r\nHost: cb.test\r\n\r\n");
		run_ms(5);
	}
	for (int i = 2; i < 4; i++) {
		assert_int_equal(run_until_responses(c[i], r, 1, 20), 1);
		assert_int_equal(r[0].status, 503);
		assert_non_null(strstr((char *)r[0].body, "overflow"));
		responses_free(r, 1);
	}
	/* the second waits while the first holds the only connection */
	assert_int_equal(run_until_responses(c[1], r, 1, 200), 0);
	assert_int_equal(pstats()->upstream_pending, 1);
	assert_int_equal(pstats()->upstream_overflow, 2);
	gw_tcp_abort(c[0]->c);
	assert_int_equal(run_until_responses(c[1], r, 1, 500), 1);
	assert_int_equal(r[0].status, 200);
	responses_free(r, 1);
	run_ms(50);
	log = drain_log();
	assert_non_null(strstr(log, "\" 503 UO "));
	free(log);
}

static void send_body_request(struct app *c, const char *path, size_t n,
			      bool chunked);

/* limits.request_body (4 MiB here): a larger Content-Length is refused
 * 413 before anything goes upstream; a chunked body that grows beyond it
 * is cut with 413 (no response had started) and the connection closes. */
static void
test_request_body_limit(void **state)
{
	struct response r[1] = {0};
	uint32_t accepts;
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	send_body_request(c, "/echo", 5 * MiB, false);
	assert_int_equal(run_until_responses(c, r, 1, 3000), 1);
	assert_int_equal(r[0].status, 413);
	assert_non_null(strstr((char *)r[0].body, "request body too large"));
	assert_int_equal(H->accepts[1] + H->accepts[2], 0);
	responses_free(r, 1);
	run_ms(50);
	assert_true(c->fin || c->closed);
	accepts = H->accepts[1] + H->accepts[2];
	c = client_open();
	send_body_request(c, "/echo", 5 * MiB, true);
	assert_int_equal(run_until_responses(c, r, 1, 5000), 1);
	assert_int_equal(r[0].status, 413);
	assert_int_equal(H->accepts[1] + H->accepts[2], accepts + 1);
	responses_free(r, 1);
	assert_int_equal(pstats()->request_too_large, 2);
}


/* Mirroring, the worker's side: a copy is a HEAD item (meta + a head
 * naming the shadow host), END, then PRIMARY_DONE with the primary's
 * status; when the engine has published the endpoint as down, the worker
 * writes nothing but a DROPPED item per run of skipped copies, carrying
 * the run's count for the route. */
static void
test_mirror_items(void **state)
{
	struct response r[1] = {0};
	struct gw_shadow_item it[8];
	const struct gw_shadow_meta *meta;
	unsigned int n;
	struct app *c;
	char head[512];
	const struct rte_mbuf *m;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /mirror/a HTTP/1.1\r\nHost: svc.test:8000\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	assert_int_equal(r[0].status, 200);
	responses_free(r, 1);
	n = rte_ring_sc_dequeue_burst_elem(H->shadow_ring, it, sizeof(it[0]), 8,
					   NULL);
	assert_int_equal(n, 3);
	assert_int_equal(it[0].type, GW_SHADOW_ITEM_HEAD);
	assert_int_equal(it[1].type, GW_SHADOW_ITEM_END);
	assert_int_equal(it[2].type, GW_SHADOW_ITEM_PRIMARY_DONE);
	assert_int_equal(it[2].status, 200);
	assert_int_equal(it[0].stream, it[2].stream);
	meta = rte_pktmbuf_mtod(it[0].m, const struct gw_shadow_meta *);
	assert_int_equal(meta->ip, IP4(10, 10, 2, 12));
	assert_int_equal(meta->port, 7000);
	assert_string_equal(meta->route, "default/svc/5");
	assert_string_equal(meta->authority, "svc.test-shadow:8000");
	assert_string_equal(meta->method, "GET");
	assert_string_equal(meta->path, "/mirror/a");
	assert_string_equal(meta->user_agent, "");
	assert_int_equal(strlen(meta->request_id), 36);  /* generated */
	/* one mbuf: the head follows the meta in its segment */
	m = it[0].m;
	assert_null(m->next);
	assert_true(rte_pktmbuf_data_len(m) > sizeof(*meta));
	assert_true(rte_pktmbuf_data_len(m) - sizeof(*meta) < sizeof(head));
	memcpy(head, rte_pktmbuf_mtod_offset(m, const char *, sizeof(*meta)),
	       rte_pktmbuf_data_len(m) - sizeof(*meta));
	head[rte_pktmbuf_data_len(m) - sizeof(*meta)] = '\0';
	assert_non_null(strstr(head, "GET /mirror/a HTTP/1.1\r\n"));
	assert_non_null(strcasestr(head, "host: svc.test-shadow:8000\r\n"));
	/* the rest is the primary's head as the backend got it, byte for byte */
	{
		const char *p = (const char *)H->last_request.p;
		const char *at = strstr(head, "svc.test-shadow:8000");
		size_t pre = (size_t)(at - head);

		assert_true(H->last_request.len >= pre + 13);
		assert_memory_equal(p, head, pre);
		assert_memory_equal(p + pre, "svc.test:8000", 13);
		assert_int_equal(H->last_request.len - pre - 13,
				 strlen(head) - pre - 20);
		assert_memory_equal(p + pre + 13, at + 20, strlen(at + 20));
	}
	rte_pktmbuf_free(it[0].m);
	assert_int_equal(pstats()->mirror_requests, 1);

	/* the engine marks 10.10.2.12:7000 down for a while */
	H->health.slot[gw_shadow_health_home(gw_shadow_health_key(
		IP4(10, 10, 2, 12), 7000))].until_tsc = H->now + MS(5000);
	H->health.slot[gw_shadow_health_home(gw_shadow_health_key(
		IP4(10, 10, 2, 12), 7000))].key =
		gw_shadow_health_key(IP4(10, 10, 2, 12), 7000);
	c->rx.len = 0;
	client_send(c, "POST /mirror/b HTTP/1.1\r\nHost: svc.test\r\n"
		       "Content-Length: 5\r\n\r\nhello");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	assert_int_equal(r[0].status, 200);
	responses_free(r, 1);
	/* skipped copies go as one run: a second one within the millisecond
	 * joins it, and the run is sent once it is 1 ms old */
	c->rx.len = 0;
	client_send(c, "GET /mirror/b2 HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	responses_free(r, 1);
	assert_int_equal(rte_ring_count(H->shadow_ring), 0);
	run_ms(2);
	n = rte_ring_sc_dequeue_burst_elem(H->shadow_ring, it, sizeof(it[0]), 8,
					   NULL);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].type, GW_SHADOW_ITEM_DROPPED);
	assert_int_equal(it[0].status, GW_SHADOW_DROP_UNAVAILABLE);
	assert_int_equal(it[0].count, 2);   /* a run of two copies */
	meta = rte_pktmbuf_mtod(it[0].m, const struct gw_shadow_meta *);
	assert_string_equal(meta->route, "default/svc/5");
	assert_null(it[0].m->next);
	rte_pktmbuf_free(it[0].m);
	assert_int_equal(pstats()->mirror_requests, 1);
	assert_int_equal(pstats()->mirror_unavailable, 2);
	assert_int_equal(pstats()->mirror_dropped, 0);

	/* once the back-off is over, copies flow again */
	H->now += MS(6000);
	c->rx.len = 0;
	client_send(c, "GET /mirror/c HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	responses_free(r, 1);
	n = rte_ring_sc_dequeue_burst_elem(H->shadow_ring, it, sizeof(it[0]), 8,
					   NULL);
	assert_int_equal(n, 3);
	assert_int_equal(it[0].type, GW_SHADOW_ITEM_HEAD);
	rte_pktmbuf_free(it[0].m);
	assert_int_equal(pstats()->mirror_requests, 2);
}

/* A head too long for one mbuf: the copy's is written again (not copied
 * from the primary's), after the meta and on in chained segments; their
 * bytes are the primary's as the backend got it, the Host value aside. */
static void
test_mirror_long_head(void **state)
{
	struct response r[1] = {0};
	struct gw_shadow_item it[8];
	const struct gw_shadow_meta *meta;
	static char req[4096], copy[4096];
	size_t n_copy = 0, pre;
	const struct rte_mbuf *m;
	const char *p, *at;
	unsigned int n, segs = 0;
	struct app *c;
	int len;

	RTE_SET_USED(state);
	c = client_open();
	len = snprintf(req, sizeof(req),
		       "GET /mirror/long HTTP/1.1\r\nHost: svc.test\r\n"
		       "x-long: %0*d\r\n\r\n", 3000, 7);
	assert_true(len > 3000 && len < (int)sizeof(req));
	client_send(c, req);
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	assert_int_equal(r[0].status, 200);
	responses_free(r, 1);
	n = rte_ring_sc_dequeue_burst_elem(H->shadow_ring, it, sizeof(it[0]), 8,
					   NULL);
	assert_int_equal(n, 3);
	assert_int_equal(it[0].type, GW_SHADOW_ITEM_HEAD);
	meta = rte_pktmbuf_mtod(it[0].m, const struct gw_shadow_meta *);
	assert_string_equal(meta->authority, "svc.test-shadow");
	assert_string_equal(meta->path, "/mirror/long");
	for (m = it[0].m; m != NULL; m = m->next, segs++) {
		size_t off = m == it[0].m ? sizeof(*meta) : 0;

		assert_true(rte_pktmbuf_data_len(m) >= off);
		assert_true(n_copy + rte_pktmbuf_data_len(m) - off <= sizeof(copy));
		memcpy(copy + n_copy, rte_pktmbuf_mtod_offset(m, const char *, off),
		       rte_pktmbuf_data_len(m) - off);
		n_copy += rte_pktmbuf_data_len(m) - off;
	}
	assert_true(segs >= 2);
	/* the primary, byte for byte, but "svc.test" -> "svc.test-shadow" */
	p = (const char *)H->last_request.p;
	assert_int_equal(n_copy, H->last_request.len + 7);
	at = memmem(copy, n_copy, "svc.test-shadow\r\n", 17);
	assert_non_null(at);
	pre = (size_t)(at - copy);
	assert_memory_equal(copy, p, pre);
	assert_memory_equal(p + pre, "svc.test\r\n", 10);
	assert_memory_equal(copy + pre + 15, p + pre + 8,
			    H->last_request.len - pre - 8);
	assert_int_equal(pstats()->mirror_requests, 1);
	rte_pktmbuf_free(it[0].m);
}

static void
test_split_80_20_exact(void **state)
{
	struct response r[1] = {0};
	unsigned int v1 = 0, v2 = 0;
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	for (unsigned int i = 0; i < 100; i++) {
		c->rx.len = 0;
		client_send(c, "GET /split HTTP/1.1\r\nHost: svc.test\r\n\r\n");
		assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
		if (strncmp((char *)r[0].body, "v1", 2) == 0)
			v1++;
		else
			v2++;
	}
	assert_int_equal(v1, 80);
	assert_int_equal(v2, 20);
	responses_free(r, 1);
}

static void
test_pipelined_in_order(void **state)
{
	struct response r[5] = {0};
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	/* five requests in one write, routes alternating */
	client_send(c,
		"GET /p0 HTTP/1.1\r\nHost: svc.test\r\nend-user: jason\r\n\r\n"
		"GET /p1 HTTP/1.1\r\nHost: svc.test\r\n\r\n"
		"POST /p2 HTTP/1.1\r\nHost: svc.test\r\ncontent-length: 3\r\n\r\nabc"
		"GET /p3 HTTP/1.1\r\nHost: svc.test\r\nend-user: jason\r\n\r\n"
		"GET /p4 HTTP/1.1\r\nHost: nowhere\r\n\r\n");
	if (run_until_responses(c, r, 5, 3000) != 5)
		fail_msg("got %d bytes | requests %" PRIu64 " responses %" PRIu64
			 " backend requests %u/%u", (int)c->rx.len,
			 pstats()->requests, pstats()->responses,
			 H->apps[1].requests, H->n_apps > 2 ? H->apps[2].requests : 0);
	assert_non_null(strstr((char *)r[0].body, "v2 /p0"));
	assert_non_null(strstr((char *)r[1].body, "v1 /p1"));
	assert_non_null(strstr((char *)r[2].body, "v1 /p2 3"));
	assert_non_null(strstr((char *)r[3].body, "v2 /p3"));
	assert_int_equal(r[4].status, 404);
	responses_free(r, 5);
}

static void
send_body_request(struct app *c, const char *path, size_t n, bool chunked)
{
	char head[256];
	int hl;

	hl = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: svc.test\r\n%s",
		      path, chunked ? "transfer-encoding: chunked\r\n\r\n" : "");
	buf_add(&c->tx, head, (size_t)hl);
	if (!chunked) {
		hl = snprintf(head, sizeof(head), "content-length: %zu\r\n\r\n", n);
		buf_add(&c->tx, head, (size_t)hl);
	}
	for (size_t off = 0; off < n;) {
		size_t k = n - off < 7000 ? n - off : 7000;
		uint8_t chunk[7000];

		for (size_t i = 0; i < k; i++)
			chunk[i] = pat(off + i);
		if (chunked) {
			hl = snprintf(head, sizeof(head), "%zx;ext=1\r\n", k);
			buf_add(&c->tx, head, (size_t)hl);
		}
		buf_add(&c->tx, chunk, k);
		if (chunked)
			buf_add(&c->tx, "\r\n", 2);
		off += k;
	}
	if (chunked)
		buf_add(&c->tx, "0\r\ntrailer-x: 1\r\n\r\n", 19);
	app_pump(c);
}

static void
check_pattern(const struct response *r, size_t n)
{
	assert_int_equal(r->body_len, n);
	for (size_t i = 0; i < n; i++)
		if (r->body[i] != pat(i))
			fail_msg("byte %zu of %zu differs", i, n);
}

static void
test_bodies_zero_copy(void **state)
{
	static const size_t sizes[] = {0, 1024, 1024 * 1024, 3 * 1024 * 1024 + 7};
	struct response r[1] = {0};
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	for (unsigned int i = 0; i < GW_ARRAY_SIZE(sizes); i++) {
		for (int chunked = 0; chunked < 2; chunked++) {
			size_t n = sizes[i];
			uint64_t copied = pstats()->copied_bytes;
			char want[64], path[64];

			/* request body: the backend checks every byte */
			c->rx.len = 0;
			send_body_request(c, "/echo", n, chunked);
			assert_int_equal(run_until_responses(c, r, 1, 20000), 1);
			snprintf(want, sizeof(want), "v1 /echo %zu %zu", n, n);
			assert_string_equal((char *)r[0].body, want);
			/* response body */
			c->rx.len = 0;
			snprintf(path, sizeof(path),
				 "GET /big-%s/%zu HTTP/1.1\r\nHost: svc.test\r\n\r\n",
				 chunked ? "chunked" : "cl", n);
			client_send(c, path);
			assert_int_equal(run_until_responses(c, r, 1, 20000), 1);
			check_pattern(&r[0], n);
			/* two rewritten heads (and no body byte) were written */
			assert_true(pstats()->copied_bytes - copied < 1024);
		}
	}
	assert_int_equal(pstats()->connections, 1);
	assert_int_equal(pstats()->upstream_connects, 1);
	responses_free(r, 1);
}

static void
expect_local(const char *req, uint16_t status, const char *flag,
	     const char *text, bool closes)
{
	struct response r[1] = {0};
	struct app *c = client_open();
	char *log, want[32];

	client_send(c, req);
	assert_int_equal(run_until_responses(c, r, 1, 5000), 1);
	assert_int_equal(r[0].status, status);
	assert_non_null(strstr((char *)r[0].body, text));
	run_ms(50);
	assert_int_equal(c->fin || c->closed, closes);
	log = drain_log();
	snprintf(want, sizeof(want), "\" %u %s ", status, flag);
	if (strstr(log, want) == NULL)
		fail_msg("no '%s' in the log: %s", want, log);
	free(log);
	responses_free(r, 1);
}

static void
test_gateway_responses(void **state)
{
	RTE_SET_USED(state);
	expect_local("GET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\n", 404, "NR",
		     "route not found", false);
	expect_local("GET /uh HTTP/1.1\r\nHost: svc.test\r\n\r\n", 503, "UH",
		     "no healthy upstream", false);
	/* Istio's default policy retries a connect failure twice: the
	 * log says the retry limit was reached */
	expect_local("GET /uf HTTP/1.1\r\nHost: svc.test\r\n\r\n", 502, "UF,URX",
		     "upstream connect error", false);
	expect_local("GET /slow HTTP/1.1\r\nHost: svc.test\r\n\r\n", 504, "UT",
		     "upstream request timeout", false);
	assert_int_equal(pstats()->no_route, 1);
	assert_int_equal(pstats()->no_healthy_upstream, 1);
	assert_int_equal(pstats()->upstream_failure, 1);
	assert_int_equal(pstats()->upstream_timeout, 1);
	assert_int_equal(pstats()->retries, 2);
	assert_int_equal(pstats()->retries_exhausted, 1);
	/* HTTP/1.0 without keep-alive: answered, then closed */
	expect_local("GET / HTTP/1.0\r\nHost: nowhere.test\r\n\r\n", 404, "NR",
		     "route not found", true);
}

static void
test_smuggling_and_limits(void **state)
{
	char big[10 * 1024];

	RTE_SET_USED(state);
	expect_local("POST / HTTP/1.1\r\nHost: svc.test\r\ncontent-length: 3\r\n"
		     "transfer-encoding: chunked\r\n\r\n0\r\n\r\n", 400, "DPE",
		     "", true);
	expect_local("POST / HTTP/1.1\r\nHost: svc.test\r\ncontent-length: 3\r\n"
		     "content-length: 4\r\n\r\nabcd", 400, "DPE", "", true);
	expect_local("GET / HTTP/1.1\r\nHost: svc.test\r\nx: a\nb\r\n\r\n", 400,
		     "DPE", "", true);
	/* a head beyond max_head (8 KiB here): 431 */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nHost: svc.test\r\nx-big: ", 39);
	memcpy(big + sizeof(big) - 5, "\r\n\r\n", 5);
	expect_local(big, 431, "DPE", "", true);
	/* nothing reached a backend */
	assert_int_equal(H->accepts[1] + H->accepts[2], 0);
	assert_int_equal(pstats()->bad_request, 4);
	/* a chunked body that turns invalid after the head went upstream:
	 * 400 to the client (no response had started), then close */
	expect_local("POST / HTTP/1.1\r\nHost: svc.test\r\n"
		     "transfer-encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n",
		     400, "DPE", "invalid chunk size", true);
	assert_int_equal(pstats()->bad_request, 5);
}

/*
 * Exchange contexts: with one, a second client's request waits (counted,
 * its bytes left unread) while the first is in flight, and is served
 * once that exchange ends. Idle keep-alive connections hold none: with
 * two of them open, a third client is served at once.
 */
static void
test_exchange_pool(void **state)
{
	struct response r1[2] = {0}, r2[1] = {0}, r3[1] = {0};
	struct app *c1, *c2, *c3;

	RTE_SET_USED(state);
	c1 = client_open();
	c2 = client_open();
	run_ms(20);
	assert_true(c1->established && c2->established);
	assert_int_equal(pstats()->active, 2);
	assert_int_equal(pstats()->exchange_waits, 0);
	/* /slow: the backend never answers, the route times out after 1 s */
	client_send(c1, "GET /slow HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	run_ms(20);
	client_send(c2, "GET /w HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	run_ms(300);
	assert_int_equal(pstats()->exchange_waits, 1);
	assert_int_equal(pstats()->requests, 1);   /* c2's head is not read */
	assert_int_equal(c2->rx.len, 0);
	assert_int_equal(pstats()->no_session, 0);
	/* c1's exchange ends (504), then c2's request goes through */
	assert_int_equal(run_until_responses(c1, r1, 1, 2000), 1);
	assert_int_equal(r1[0].status, 504);
	assert_int_equal(c2->rx.len, 0);
	assert_int_equal(run_until_responses(c2, r2, 1, 1000), 1);
	assert_int_equal(r2[0].status, 200);
	assert_non_null(strstr((char *)r2[0].body, "v1 /w 0"));
	assert_int_equal(pstats()->requests, 2);
	/* both stay open and idle: a third client does not wait */
	run_ms(50);
	c3 = client_open();
	client_send(c3, "GET /n HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c3, r3, 1, 1000), 1);
	assert_int_equal(r3[0].status, 200);
	assert_int_equal(pstats()->exchange_waits, 1);
	assert_false(c1->closed || c1->fin || c2->closed || c2->fin);
	assert_int_equal(pstats()->active, 3);
	/* and the idle ones can still be served, one after the other */
	client_send(c1, "GET /again HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c1, r1, 2, 1000), 2);
	assert_int_equal(r1[1].status, 200);
	assert_int_equal(pstats()->exchange_waits, 1);
	responses_free(r1, 2);
	responses_free(r2, 1);
	responses_free(r3, 1);
}

static void
test_bad_params(void **state)
{
	struct gw_http_proxy_params p;

	RTE_SET_USED(state);
	memset(&p, 0, sizeof(p));
	assert_null(gw_http_proxy_create(NULL));
	assert_null(gw_http_proxy_create(&p));
	assert_int_equal(rte_errno, EINVAL);
}

/* ---- head rewriting: exact bytes (hp_rewrite.c copies what it can) ---- */

/* @p got is @p pre, then "x-envoy-upstream-service-time: " and digits,
 * then @p post, and ends there. */
static void
assert_head_around_ust(const char *got, const char *pre, const char *post)
{
	static const char ust[] = "x-envoy-upstream-service-time: ";
	size_t pl = strlen(pre);
	const char *p;

	assert_memory_equal(got, pre, pl);
	p = got + pl;
	assert_memory_equal(p, ust, sizeof(ust) - 1);
	p += sizeof(ust) - 1;
	assert_true(*p >= '0' && *p <= '9');
	while (*p >= '0' && *p <= '9')
		p++;
	assert_string_equal(p, post);
}

/* The last head a backend got is @p pre, the generated x-request-id and
 * the blank line (@p pre ends with "x-request-id: "). */
static void
assert_request_with_id(const char *pre)
{
	const char *h;
	size_t pl = strlen(pre);

	buf_add(&H->last_request, "", 1);
	h = (const char *)H->last_request.p;
	assert_memory_equal(h, pre, pl);
	assert_int_equal(strlen(h + pl), 36 + 4);
	assert_string_equal(h + pl + 36, "\r\n\r\n");
}

/* Request heads forwarded byte for byte: a request line and fields that
 * read as the rewrite would write them go out as received (in one copy);
 * anything else is rewritten: HTTP/1.0 and absolute form, whitespace
 * around values, Content-Length's name, hop-by-hop fields. */
static void
test_request_head_exact(void **state)
{
	struct response r[4] = {0};
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /split/e?q=1 HTTP/1.1\r\nHost: svc.test\r\nx-a: 1\r\n"
		    "x-forwarded-for: 192.0.2.1\r\nConnection: keep-alive\r\n"
		    "X-B: 2\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	assert_int_equal(r[0].status, 200);
	assert_request_with_id("GET /split/e?q=1 HTTP/1.1\r\nHost: svc.test\r\n"
			       "x-a: 1\r\nX-B: 2\r\n"
			       "x-forwarded-for: 192.0.2.1, 10.10.1.2\r\n"
			       "x-forwarded-proto: http\r\nx-request-id: ");

	/* not as written: each field rewritten, Content-Length's name too */
	client_send(c, "POST /split/f HTTP/1.1\r\nHost:svc.test\r\nX-A:  1  \r\n"
		    "Content-Length: 3\r\nx-request-id: abc\r\n\r\nxyz");
	assert_int_equal(run_until_responses(c, r, 2, 2000), 2);
	assert_int_equal(r[1].status, 200);
	buf_add(&H->last_request, "", 1);
	assert_string_equal((const char *)H->last_request.p,
			    "POST /split/f HTTP/1.1\r\nHost: svc.test\r\nX-A: 1\r\n"
			    "content-length: 3\r\nx-request-id: abc\r\n"
			    "x-forwarded-for: 10.10.1.2\r\n"
			    "x-forwarded-proto: http\r\n\r\n");

	/* as written, Content-Length included */
	client_send(c, "POST /split/g HTTP/1.1\r\nHost: svc.test\r\n"
		    "content-length: 3\r\nx-request-id: d\r\n\r\nxyz");
	assert_int_equal(run_until_responses(c, r, 3, 2000), 3);
	assert_int_equal(r[2].status, 200);
	buf_add(&H->last_request, "", 1);
	assert_string_equal((const char *)H->last_request.p,
			    "POST /split/g HTTP/1.1\r\nHost: svc.test\r\n"
			    "content-length: 3\r\nx-request-id: d\r\n"
			    "x-forwarded-for: 10.10.1.2\r\n"
			    "x-forwarded-proto: http\r\n\r\n");

	/* absolute form: the upstream gets origin form */
	client_send(c, "GET http://svc.test/split/i?x HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 4, 2000), 4);
	assert_int_equal(r[3].status, 200);
	assert_request_with_id("GET /split/i?x HTTP/1.1\r\nHost: svc.test\r\n"
			       "x-forwarded-for: 10.10.1.2\r\n"
			       "x-forwarded-proto: http\r\nx-request-id: ");
	responses_free(r, 4);

	/* HTTP/1.0: the upstream gets HTTP/1.1 */
	c = client_open();
	client_send(c, "GET /split/h HTTP/1.0\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	assert_int_equal(r[0].status, 200);
	assert_request_with_id("GET /split/h HTTP/1.1\r\nHost: svc.test\r\n"
			       "x-forwarded-for: 10.10.1.2\r\n"
			       "x-forwarded-proto: http\r\nx-request-id: ");
	responses_free(r, 1);
}

/* Response heads likewise: a status line and fields as the rewrite would
 * write them are copied; HTTP/1.0, no reason phrase, a Content-Length
 * list, "name:value", hop-by-hop fields and the backend's own
 * x-envoy-upstream-service-time are rewritten or dropped. */
static void
test_response_head_exact(void **state)
{
	struct response r[4] = {0};
	struct app *c;

	RTE_SET_USED(state);
	c = client_open();
	client_send(c, "GET /split/odd-head/1 HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	client_send(c, "GET /split/odd-head/2 HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	client_send(c, "GET /split/odd-head/3 HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	/* the default route sets x-route on responses */
	client_send(c, "GET /odd-head/3 HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 4, 2000), 4);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(r[i].body, "ok", 2);
	assert_head_around_ust(r[0].head, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n"
			       "x-a: b\r\n", "\r\n\r\n");
	assert_head_around_ust(r[1].head, "HTTP/1.1 200 \r\ncontent-length: 2\r\n"
			       "x-b: c\r\n", "\r\n\r\n");
	assert_head_around_ust(r[2].head, "HTTP/1.1 203 Non-Authoritative Information\r\n"
			       "x-c: d\r\ncontent-length: 2\r\n", "\r\n\r\n");
	assert_head_around_ust(r[3].head, "HTTP/1.1 203 Non-Authoritative Information\r\n"
			       "x-c: d\r\ncontent-length: 2\r\n",
			       "\r\nx-route: default\r\n\r\n");
	responses_free(r, 4);
}

/* A retried request is sent again as first written, whether its head was
 * held by reference on its own mbufs (up to 2 of them) or cloned (longer). */
static void
test_retry_long_heads(void **state)
{
	static const size_t sizes[] = { 3000, 3000, 3000, 7000, 7000, 7000 };
	struct response r[1] = {0};
	unsigned int before = 0;

	RTE_SET_USED(state);
	for (unsigned int k = 0; k < GW_ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];
		char *req = malloc(n + 256), *want = malloc(n + 256);
		struct app *c = client_open();
		int l;

		assert_non_null(req);
		assert_non_null(want);
		l = snprintf(req, n + 256, "GET /flaky/%zu HTTP/1.1\r\nHost: pol.test\r\n"
			     "x-request-id: r%u\r\nx-long: ", n, k);
		memset(req + l, 'a' + (int)k, n);
		strcpy(req + l + n, "\r\n\r\n");
		client_send(c, req);
		assert_int_equal(run_until_responses(c, r, 1, 5000), 1);
		assert_int_equal(r[0].status, 200);
		assert_memory_equal(r[0].body, "v2 /flaky/", 10);
		/* what v2 got, on the first try or the retry */
		l = snprintf(want, n + 256, "GET /flaky/%zu HTTP/1.1\r\nHost: pol.test\r\n"
			     "x-request-id: r%u\r\nx-long: ", n, k);
		memset(want + l, 'a' + (int)k, n);
		strcpy(want + l + n, "\r\nx-forwarded-for: 10.10.1.2\r\n"
		       "x-forwarded-proto: http\r\n\r\n");
		buf_add(&H->last_request, "", 1);
		assert_string_equal((const char *)H->last_request.p, want);
		free(req);
		free(want);
		responses_free(r, 1);
		/* round robin: one of each three met v1 first, at least */
		if (k % 3 == 2) {
			assert_true(flaky_503s() > before);
			before = flaky_503s();
		}
	}
	assert_int_equal(pstats()->retries, flaky_503s());
}

/* The access log's lines, whole: "[timestamp] " checked for its shape,
 * the rest byte for byte against @p want (n lines, in order). */
static void
assert_log_lines(const char *log, const char *const *want, unsigned int n)
{
	const char *p = log;

	for (unsigned int i = 0; i < n; i++) {
		const char *nl = strchr(p, '\n');

		assert_non_null(nl);
		/* [YYYY-MM-DDTHH:MM:SS.mmmZ] */
		assert_true(nl - p > 27);
		assert_int_equal(p[0], '[');
		assert_int_equal(p[5], '-');
		assert_int_equal(p[11], 'T');
		assert_int_equal(p[20], '.');
		assert_memory_equal(p + 24, "Z] ", 3);
		if (strlen(want[i]) != (size_t)(nl + 1 - (p + 27)) ||
		    memcmp(p + 27, want[i], strlen(want[i])) != 0)
			fail_msg("line %u:\n got  %.*s\n want %s", i,
				 (int)(nl - p - 27), p + 27, want[i]);
		p = nl + 1;
	}
	assert_string_equal(p, "");
}

/* Access-log lines are exact for short fields and for fields cut at their
 * limits (path 255 bytes, user-agent 127, x-request-id 39,
 * x-forwarded-for 63 with no room for the client's address, authority
 * 95): the packed ring record carries each string whole. */
static void
test_access_log_exact_fields(void **state)
{
	struct response r[3] = {0};
	char *req = malloc(4096), *want[3], path[301], ua[201], rid[51],
	     xff[71], host[121];
	struct app *c;
	char *log;

	RTE_SET_USED(state);
	assert_non_null(req);
	memset(path, 'p', 300);
	memcpy(path, "/l", 2);
	path[300] = '\0';
	memset(ua, 'u', 200);
	ua[200] = '\0';
	memset(rid, 'x', 50);
	rid[50] = '\0';
	memset(xff, 'f', 70);
	xff[70] = '\0';
	memset(host, 'h', 120);
	host[120] = '\0';
	c = client_open();
	client_send(c, "GET /s HTTP/1.1\r\nHost: svc.test\r\nuser-agent: u\r\n"
		    "x-request-id: i\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, 1, 2000), 1);
	snprintf(req, 4096, "GET %s HTTP/1.1\r\nHost: svc.test\r\nuser-agent: %s\r\n"
		 "x-request-id: %s\r\nx-forwarded-for: %s\r\n\r\n", path, ua,
		 rid, xff);
	client_send(c, req);
	assert_int_equal(run_until_responses(c, r, 2, 2000), 2);
	snprintf(req, 4096, "GET /a HTTP/1.1\r\nHost: %s\r\n\r\n", host);
	client_send(c, req);
	assert_int_equal(run_until_responses(c, r, 3, 2000), 3);
	assert_int_equal(r[0].status, 200);
	assert_int_equal(r[1].status, 200);
	assert_int_equal(r[2].status, 404);
	run_ms(10);

	for (unsigned int i = 0; i < 3; i++) {
		want[i] = malloc(2048);
		assert_non_null(want[i]);
	}
	snprintf(want[0], 2048, "\"GET /s HTTP/1.1\" 200 - 0 %zu 0 0 \"10.10.1.2\" "
		 "\"u\" \"i\" \"svc.test\" \"10.10.2.11:7000\" "
		 "outbound|8000|v1|svc.test\n", r[0].body_len);
	snprintf(want[1], 2048, "\"GET %.255s HTTP/1.1\" 200 - 0 %zu 0 0 \"%.63s\" "
		 "\"%.127s\" \"%.39s\" \"svc.test\" \"10.10.2.11:7000\" "
		 "outbound|8000|v1|svc.test\n", path, r[1].body_len, xff, ua, rid);
	snprintf(want[2], 2048, "\"GET /a HTTP/1.1\" 404 NR 0 %zu 0 - \"-\" \"-\" "
		 "\"-\" \"%.95s\" \"-\" -\n", r[2].body_len, host);
	log = drain_log();
	assert_log_lines(log, (const char *const *)want, 3);
	free(log);
	assert_int_equal(pstats()->accesslog_records, 3);
	assert_int_equal(pstats()->accesslog_dropped, 0);
	for (unsigned int i = 0; i < 3; i++)
		free(want[i]);
	free(req);
	responses_free(r, 3);
}

/* A full log ring drops whole records and counts them: what was queued
 * drains as complete lines, and once drained, records are queued again. */
static void
test_access_log_ring_full(void **state)
{
	enum { N = 12 };
	struct response r[N + 1] = {0};
	const struct gw_http_proxy_stats *st;
	struct app *c;
	uint64_t queued;
	char *log, want[128];
	const char *p;
	unsigned int lines = 0;

	RTE_SET_USED(state);
	c = client_open();
	for (unsigned int i = 0; i < N; i++) {
		char req[128];

		snprintf(req, sizeof(req), "GET /r%02u HTTP/1.1\r\nHost: svc.test\r\n"
			 "user-agent: unit\r\n\r\n", i);
		client_send(c, req);
		assert_int_equal(run_until_responses(c, r, i + 1, 2000), i + 1);
	}
	run_ms(10);
	st = pstats();
	/* the smallest ring holds a few records, not twelve */
	assert_true(st->accesslog_dropped > 0);
	assert_true(st->accesslog_records >= 2);
	assert_int_equal(st->accesslog_records + st->accesslog_dropped, N);
	queued = st->accesslog_records;
	log = drain_log();
	/* the first ones, whole and in order */
	p = log;
	for (const char *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		snprintf(want, sizeof(want), "\"GET /r%02u HTTP/1.1\" 200 - 0 ",
			 lines);
		assert_non_null(strstr(p, want));
		assert_true(strstr(p, want) < nl);
		assert_memory_equal(nl - 25, "outbound|8000|v1|svc.test", 25);
		lines++;
	}
	assert_string_equal(p, "");
	assert_int_equal(lines, queued);
	free(log);
	/* room again */
	client_send(c, "GET /again HTTP/1.1\r\nHost: svc.test\r\n\r\n");
	assert_int_equal(run_until_responses(c, r, N + 1, 2000), N + 1);
	run_ms(10);
	assert_int_equal(pstats()->accesslog_records, queued + 1);
	assert_int_equal(pstats()->accesslog_dropped, N - queued);
	log = drain_log();
	assert_non_null(strstr(log, "\"GET /again HTTP/1.1\" 200 - 0 "));
	p = strchr(log, '\n');
	assert_non_null(p);
	assert_string_equal(p + 1, "");      /* that one line only */
	free(log);
	responses_free(r, N + 1);
	/* records of every size from 3 to 8 elements, one at a time: some
	 * of them wrap around the end of the 32-element ring */
	for (unsigned int i = 0; i < 24; i++) {
		struct response one[1] = {0};
		char req[512], path[400];
		struct app *c2 = client_open();

		memset(path, 'a' + (int)(i % 26), sizeof(path));
		memcpy(path, "/w", 2);
		path[2 + i * 13 % 250] = '\0';
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: svc.test\r\n"
			 "connection: close\r\n\r\n", path);
		client_send(c2, req);
		assert_int_equal(run_until_responses(c2, one, 1, 2000), 1);
		run_ms(10);
		log = drain_log();
		snprintf(req, sizeof(req), "\"GET %s HTTP/1.1\" 200 - 0 %zu 0 0 "
			 "\"10.10.1.2\" \"-\" \"", path, one[0].body_len);
		assert_true(strlen(log) > 27);
		assert_memory_equal(log + 27, req, strlen(req));
		assert_non_null(strstr(log, "\" \"svc.test\" \"10.10.2.11:7000\" "
				       "outbound|8000|v1|svc.test\n"));
		p = strchr(log, '\n');
		assert_non_null(p);
		assert_string_equal(p + 1, "");
		free(log);
		responses_free(one, 1);
	}
	assert_int_equal(pstats()->accesslog_dropped, N - queued);
}

int
main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "512",
		"--no-telemetry", "-l", "0", "--file-prefix=test_httpproxy",
		"--log-level=lib.eal:error", NULL,
	};
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_route_by_header_keepalive),
		T(test_request_rewrite),
		T(test_content_length_once),
		T(test_request_head_exact),
		T(test_response_head_exact),
		T(test_retry_long_heads),
		T(test_snapshot_held_in_flight),
		T(test_circuit_breaking),
		T(test_request_body_limit),
		T(test_retry_5xx_other_endpoint),
		T(test_retry_default_policy_idempotent_only),
		T(test_retry_per_try_timeout),
		T(test_fault_abort_exact),
		T(test_fault_delay_holds_only_its_request),
		T(test_direct_response_and_redirect),
		T(test_rewrite_uri_and_authority),
		T(test_rewrite_uri_regex),
		T(test_cors),
		T(test_mirror_items),
		T(test_mirror_long_head),
		T(test_split_80_20_exact),
		T(test_pipelined_in_order),
		T(test_bodies_zero_copy),
		T(test_gateway_responses),
		T(test_smuggling_and_limits),
		T(test_bad_params),
		cmocka_unit_test_setup_teardown(test_exchange_pool,
						setup_one_exchange, teardown),
		T(test_access_log_exact_fields),
		cmocka_unit_test_setup_teardown(test_access_log_ring_full,
						setup_small_log, teardown),
#undef T
	};

	RTE_SET_USED(argc);
	if (rte_eal_init((int)GW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("test_httpproxy", 32767, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
