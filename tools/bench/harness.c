/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-memory harness of the bench tools (see harness.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_memory.h>

#include "gw_common.h"
#include "gw_net.h"
#include "gw_shadow.h"

#include "harness.h"

const uint8_t harness_small_resp[] =
	"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\n"
	"hello, world\n";
const uint32_t harness_small_resp_len = sizeof(harness_small_resp) - 1;

static const char *prog_name = "bench";

void
harness_set_name(const char *name)
{
	prog_name = name;
}

void
harness_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog_name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

uint64_t
harness_parse_num(const char *arg, uint64_t min, uint64_t max, const char *what)
{
	char *end;
	uint64_t v;

	/* strtoull() would take "-1" as a huge number and "" as 0 */
	if (arg[0] == '\0' || arg[0] == '-')
		harness_die("%s", what);
	v = strtoull(arg, &end, 10);
	if (*end != '\0' || v < min || v > max)
		harness_die("%s", what);
	return v;
}

void
harness_eal_init(const char *argv0, const char *file_prefix, unsigned int mem_mb)
{
	char mem[16], prefix[64];
	char *eal_argv[] = {
		(char *)(uintptr_t)argv0, "--no-huge", "--no-pci", "--no-shconf", "-m", mem,
		"--no-telemetry", "-l", "0", prefix, "--log-level=lib.eal:error", NULL,
	};

	snprintf(mem, sizeof(mem), "%u", mem_mb);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", file_prefix);
	if (rte_eal_init((int)GW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0)
		harness_die("rte_eal_init: %s", rte_strerror(rte_errno));
}

/* ---- the wire ---- */

void
harness_wire_init(struct harness_wire *w, uint32_t size_pow2)
{
	memset(w, 0, sizeof(*w));
	if (size_pow2 == 0 || (size_pow2 & (size_pow2 - 1)) != 0)
		harness_die("wire of %u frames: not a power of two", size_pow2);
	w->ring = calloc(size_pow2, sizeof(*w->ring));
	if (w->ring == NULL)
		harness_die("out of memory");
	w->mask = size_pow2 - 1;
}

void
harness_wire_drain(struct harness_wire *w)
{
	for (; w->head != w->tail; w->head++)
		rte_pktmbuf_free(w->ring[w->head & w->mask]);
}

void
harness_wire_free(struct harness_wire *w)
{
	harness_wire_drain(w);
	free(w->ring);
	w->ring = NULL;
}

void
harness_wire_xmit(void *wire, unsigned int port_index, uint32_t next_hop, struct rte_mbuf *m)
{
	struct harness_wire *w = wire;

	RTE_SET_USED(port_index);
	RTE_SET_USED(next_hop);
	if (w->tail - w->head > w->mask) {
		w->overflow++;
		rte_pktmbuf_free(m);
		return;
	}
	w->ring[w->tail++ & w->mask] = m;
}

void
harness_frame_flow(const struct rte_mbuf *m, struct harness_flow *f)
{
	uint8_t buf[GW_ETHER_HDR_LEN + 24];
	const uint8_t *ip = rte_pktmbuf_read(m, 0, sizeof(buf), buf);
	uint32_t a;
	uint16_t p;

	if (ip == NULL)
		harness_die("frame of %u bytes: no IPv4/TCP header", rte_pktmbuf_pkt_len(m));
	ip += GW_ETHER_HDR_LEN;
	memcpy(&a, ip + 12, 4);
	f->src = ntohl(a);
	memcpy(&a, ip + 16, 4);
	f->dst = ntohl(a);
	/* the stacks send no IP options: TCP starts at 20 */
	memcpy(&p, ip + 20, 2);
	f->sport = ntohs(p);
	memcpy(&p, ip + 22, 2);
	f->dport = ntohs(p);
}

/* ---- nodes ---- */

void
harness_port_init(struct gw_tcp_port *p, unsigned int index, uint32_t ip, uint8_t mac_last,
		  bool offload)
{
	memset(p, 0, sizeof(*p));
	p->iface.port_id = (uint16_t)index;
	p->iface.mac[0] = 0x02;
	p->iface.mac[4] = (uint8_t)index;
	p->iface.mac[5] = mac_last;
	p->iface.addr = ip;
	p->iface.prefix_len = 24;
	p->mtu = 1500;
	p->tx_multi_seg = true;
	p->tx_ip_cksum = offload;
	p->tx_tcp_cksum = offload;
}

void
harness_node_add_port(struct harness_node *nd, uint32_t ip, uint8_t mac_last, bool offload)
{
	if (nd->n_ports == HARNESS_MAX_PORTS)
		harness_die("a node holds at most %u addresses", HARNESS_MAX_PORTS);
	harness_port_init(&nd->ports[nd->n_ports], nd->n_ports, ip, mac_last, offload);
	nd->n_ports++;
}

struct rte_mbuf *
harness_nic_receive(struct rte_mbuf *m, struct rte_mempool *pool,
		    const struct gw_tcp_port *port, bool offload)
{
	struct rte_mbuf *f = rte_pktmbuf_alloc(pool);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_ether_hdr *eth;
	const void *src;
	uint8_t *data;

	if (f == NULL)
		harness_die("mbuf pool of the receiver exhausted");
	data = (uint8_t *)rte_pktmbuf_append(f, (uint16_t)len);
	if (data == NULL)
		harness_die("frame of %u bytes does not fit an mbuf", len);
	src = rte_pktmbuf_read(m, 0, len, data);
	if (src != data)
		memcpy(data, src, len);
	rte_pktmbuf_free(m);
	f->port = port->iface.port_id;
	eth = (struct rte_ether_hdr *)data;
	memcpy(eth->dst_addr.addr_bytes, port->iface.mac, 6);
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	if (offload) {
		/* The sender's NIC filled the checksums (TCP's is not checked:
		 * the receiver's NIC says it is good). */
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(data + GW_ETHER_HDR_LEN);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		f->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	return f;
}

void
harness_node_input(struct harness_node *nd, unsigned int port, struct rte_mbuf *f)
{
	struct gw_net_result res;

	if (gw_net_input(&nd->ports[port].iface, rte_pktmbuf_mtod(f, uint8_t *),
			 rte_pktmbuf_data_len(f), &res) != GW_NET_TCP)
		harness_die("frame dropped by lib/net: %s", gw_drop_reason_name(res.drop));
	gw_tcp_input(nd->s, port, f, &res);
}

/* The parameters every stack shares with lib/worker/dataplane.c's
 * worker_tcp_create(): peers behave as the gateway does. */
static struct gw_tcp_stack *
stack_create(struct gw_tcp_stack_params *p, struct harness_node *nd, uint32_t max_conns,
	     struct harness_wire *wire, uint64_t now)
{
	struct gw_tcp_stack *s;

	p->max_conns = max_conns;
	p->syn_backlog = 1024;
	p->timewait_max = max_conns / 4 + 1;
	p->rcvbuf = 256 * 1024;
	p->sndbuf = 256 * 1024;
	p->reasm_segments = 4096;
	p->connect_timeout_ms = 10000;
	p->tsc_hz = HARNESS_VHZ;
	p->pool = nd->pool;
	p->n_ports = nd->n_ports;
	p->ports = nd->ports;
	p->xmit = harness_wire_xmit;
	p->xmit_arg = wire;
	p->start_tsc = now;
	s = gw_tcp_stack_create(p);
	if (s == NULL)
		harness_die("cannot create a TCP stack of %u connections", max_conns);
	return s;
}

struct gw_tcp_stack *
harness_peer_stack(struct harness_node *nd, uint32_t max_conns, struct harness_wire *wire,
		   uint64_t now)
{
	struct gw_tcp_stack_params p = {.worker_id = 0, .n_workers = 1};

	return stack_create(&p, nd, max_conns, wire, now);
}

struct gw_tcp_stack *
harness_worker_stack(struct harness_node *nd, uint32_t max_conns, unsigned int worker_id,
		     unsigned int n_workers, struct harness_wire *wire, uint64_t now)
{
	/* No src_port_ok hook: lib/tcp's own rule is port % n_workers ==
	 * worker_id, tcp_src_port_ok()'s on a port without RSS. */
	struct gw_tcp_stack_params p = {
		.worker_id = worker_id,
		.n_workers = n_workers,
		.src_port_last = GW_SHADOW_PORT_FIRST - 1,
	};

	return stack_create(&p, nd, max_conns, wire, now);
}

void
harness_fin_shutdown(struct gw_tcp_conn *c, void *ctx)
{
	RTE_SET_USED(ctx);
	gw_tcp_shutdown(c);
}

uint32_t
harness_count_heads(const struct rte_mbuf *m, uint32_t *match)
{
	static const char end[4] = {'\r', '\n', '\r', '\n'};
	uint32_t heads = 0, k = *match;

	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		const char *d = rte_pktmbuf_mtod(s, const char *);

		for (uint32_t i = 0; i < s->data_len; i++) {
			k = d[i] == end[k] ? k + 1 : d[i] == '\r' ? 1 : 0;
			if (k == 4) {
				k = 0;
				heads++;
			}
		}
	}
	*match = k;
	return heads;
}

/* ---- Istio configuration and routing ---- */

/* Text appended to a caller's buffer, snprintf()-style: the length
 * counts on past the end, so that a caller can size the buffer. */
struct text {
	char *buf;
	size_t cap, len;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	size_t room = t->len < t->cap ? t->cap - t->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room > 0 ? t->buf + t->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		harness_die("yaml: %s", strerror(errno));
	t->len += (size_t)n;
}

/* ServiceEntry NAME for NAME.test on @p port (protocol @p proto), 4
 * endpoints 10.10.NET.FIRST.. listening on HARNESS_BACKEND_PORT. The
 * endpoints are one flow list, the text tools/bench/memory always parsed:
 * its libc heap figures count what the YAML parser leaves in malloc's
 * caches. */
static void
text_service_entry(struct text *t, const char *name, unsigned int port, bool tcp,
		   unsigned int net, unsigned int first)
{
	text_add(t,
		"apiVersion: networking.istio.io/v1\n"
		"kind: ServiceEntry\n"
		"metadata: {name: %s}\n"
		"spec:\n"
		"  hosts: [%s.test]\n"
		"  resolution: STATIC\n"
		"  ports: [{number: %u, name: %s, protocol: %s, targetPort: %u}]\n",
		name, name, port, tcp ? "tcp" : "http", tcp ? "TCP" : "HTTP",
		HARNESS_BACKEND_PORT);
	text_add(t, "  endpoints: [{address: 10.10.%u.%u}, {address: 10.10.%u.%u},\n",
		 net, first, net, first + 1);
	text_add(t, "              {address: 10.10.%u.%u}, {address: 10.10.%u.%u}]\n",
		 net, first + 2, net, first + 3);
}

size_t
harness_istio_yaml(const struct harness_istio *c, char *buf, size_t cap)
{
	const char *mirror = c->mirror ? "    mirror: {host: shadow.test}\n"
					 "    mirrorPercentage: {value: 100}\n" : "";
	struct text t = {.buf = buf, .cap = cap};

	if (cap > 0)
		buf[0] = '\0';
	text_service_entry(&t, "svc", c->l4 ? c->l4_port : HARNESS_LISTEN_PORT, c->l4, 2, 11);
	if (c->mirror && !c->l4) {
		text_add(&t, "---\n");
		text_service_entry(&t, "shadow", HARNESS_LISTEN_PORT, false, c->shadow_net, 21);
	}
	text_add(&t,
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: svc}\n"
		"spec:\n"
		"  hosts: [svc.test]\n"
		"  %s:\n", c->l4 ? "tcp" : "http");
	if (c->l4) {
		text_add(&t,
			"  - match: [{port: %u}]\n"
			"    route: [{destination: {host: svc.test, port: {number: %u}}}]\n",
			c->l4_port, c->l4_port);
		return t.len;
	}
	if (c->n_routes == 0)
		text_add(&t, "  - route: [{destination: {host: svc.test}}]\n%s", mirror);
	for (uint32_t i = 0; i < c->n_routes; i++)
		text_add(&t,
			"  - match: [{uri: {prefix: /r%u/}}]\n"
			"    route: [{destination: {host: svc.test}}]\n%s", i, mirror);
	return t.len;
}

void
harness_routes_load(struct harness_routes *r, const char *yaml, size_t len, const char *name,
		    const struct gw_route_build_params *rp)
{
	struct gw_model_set *set;
	char err[1024];

	r->store = gw_model_store_create();
	set = gw_model_set_create();
	if (r->store == NULL || set == NULL)
		harness_die("out of memory");
	if (gw_model_set_load_buffer(set, yaml, len, name, err, sizeof(err)) < 0 ||
	    gw_model_store_apply(r->store, set, err, sizeof(err)) < 0)
		harness_die("%s", err);
	gw_model_set_free(set);
	r->snap = gw_route_snapshot_build(r->store, rp, err, sizeof(err));
	if (r->snap == NULL)
		harness_die("%s", err);
}

void
harness_routes_free(struct harness_routes *r)
{
	gw_route_snapshot_free(r->snap);
	gw_model_store_free(r->store);
	r->snap = NULL;
	r->store = NULL;
}

const struct gw_route_snapshot *
harness_snapshot_get(void *routes)
{
	return ((const struct harness_routes *)routes)->snap;
}

const void *
harness_snapshot_hold(void *routes, const struct gw_route_snapshot *snap)
{
	RTE_SET_USED(routes);
	return snap;
}

void
harness_snapshot_release(void *routes, const void *token)
{
	RTE_SET_USED(routes);
	RTE_SET_USED(token);
}

/* ---- the worker's HTTP proxy ---- */

struct gw_metrics_table *
harness_metrics_new(void)
{
	struct gw_metrics_table *t = gw_metrics_table_create(1024); /* GW_WORKER_METRICS_SERIES */

	if (t == NULL)
		harness_die("cannot create a metrics table");
	return t;
}

void
harness_http_proxy_params(struct gw_http_proxy_params *pp, struct harness_node *nd,
			  unsigned int worker_id, const uint32_t *port_roles,
			  struct harness_routes *routes, struct gw_metrics_table *metrics,
			  uint64_t now)
{
	memset(pp, 0, sizeof(*pp));
	pp->stack = nd->s;
	pp->worker_id = worker_id;
	pp->snapshot = harness_snapshot_get;
	pp->snapshot_arg = routes;
	pp->snapshot_hold = harness_snapshot_hold;
	pp->snapshot_release = harness_snapshot_release;
	pp->pool = nd->pool;
	pp->n_ports = nd->n_ports;
	pp->ports = nd->ports;
	pp->port_roles = port_roles;
	pp->accesslog_ring_size = 4096;
	pp->tsc_hz = HARNESS_VHZ;
	pp->start_tsc = now;
	pp->socket_id = SOCKET_ID_ANY;
	pp->metrics = metrics;
}

struct gw_http_proxy *
harness_http_proxy_start(const struct gw_http_proxy_params *pp)
{
	struct gw_http_proxy *px = gw_http_proxy_create(pp);

	if (px == NULL)
		harness_die("worker %u: cannot create the HTTP proxy of %u sessions: %s",
			    pp->worker_id, pp->max_sessions, rte_strerror(rte_errno));
	if (gw_http_proxy_listen(px, 0, HARNESS_LISTEN_PORT) != 0)
		harness_die("worker %u: the HTTP proxy cannot listen on %u", pp->worker_id,
			    HARNESS_LISTEN_PORT);
	return px;
}
