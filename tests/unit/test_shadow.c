/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/shadow: the host suffix, parity accounting, and the engine driven
 * through its ring protocol against a real TCP peer (a second lib/tcp
 * stack playing the shadow backend, frames passed in memory): a copy
 * reaches the shadow whole, responses are classified next to the
 * primary's, and every bound drops and counts instead of holding more.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "gw_common.h"
#include "gw_net.h"
#include "gw_shadow.h"
#include "gw_tcp.h"

#define WIRE_MAX 4096
#define TSC_HZ   1000000000ULL     /* the tests' clock: 1 ns per tick */

static struct rte_mempool *pool;

/* ------------------------------------------------------------------ */
/* Pure pieces                                                         */
/* ------------------------------------------------------------------ */

static void
check_host(const char *in, const char *want)
{
	char out[64];
	int n = gw_shadow_host(in, strlen(in), out, sizeof(out));

	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_host_suffix(void **state)
{
	char small[12];

	RTE_SET_USED(state);
	check_host("httpbin:8000", "httpbin-shadow:8000");
	check_host("httpbin", "httpbin-shadow");
	check_host("a.b.example.com:80", "a.b.example.com-shadow:80");
	check_host("[::1]:8080", "[::1]-shadow:8080");
	check_host("[::1]", "[::1]-shadow");
	check_host("", "-shadow");
	check_host("a:b:8000", "a:b-shadow:8000");
	check_host("svc:", "svc-shadow:");
	check_host(":80", "-shadow:80");
	check_host("[::1]]:80", "[::1]]-shadow:80");
	check_host("[fe80::1%eth0]", "[fe80::1%eth0]-shadow");
	/* "httpbin-shadow" and its NUL need 15 bytes */
	assert_int_equal(gw_shadow_host("httpbin", 7, small, sizeof(small)),
			 -ENOSPC);
}

/* The rule gw_shadow_host() follows, character by character from the
 * end: the first ']' means no port, the first ':' starts it. */
static size_t
ref_name_len(const char *host, size_t len)
{
	for (size_t i = len; i > 0; i--) {
		if (host[i - 1] == ']')
			return len;
		if (host[i - 1] == ':')
			return i - 1;
	}
	return len;
}

/* Every string of up to 7 characters over "a:[]." against that rule
 * (97,656 hosts), not NUL-terminated on input. */
static void
test_host_suffix_all(void **state)
{
	static const char alphabet[] = "a:[].";
	char in[8], out[32], want[32];
	unsigned int total = 0;

	RTE_SET_USED(state);
	for (size_t len = 0; len <= 7; len++) {
		unsigned int count = 1;

		for (size_t k = 0; k < len; k++)
			count *= 5;
		for (unsigned int v = 0; v < count; v++, total++) {
			unsigned int x = v;
			size_t nl;
			int n;

			for (size_t k = 0; k < len; k++, x /= 5)
				in[k] = alphabet[x % 5];
			in[len] = 'z';     /* past the end: must not be read as part */
			nl = ref_name_len(in, len);
			memcpy(want, in, nl);
			memcpy(want + nl, "-shadow", 7);
			memcpy(want + nl + 7, in + nl, len - nl);
			want[len + 7] = '\0';
			n = gw_shadow_host(in, len, out, sizeof(out));
			if (n != (int)(len + 7) || strcmp(out, want) != 0)
				fail_msg("\"%.*s\": got \"%s\", want \"%s\"",
					 (int)len, in, out, want);
		}
	}
	assert_int_equal(total, 97656);
}

static void
test_status_class(void **state)
{
	RTE_SET_USED(state);
	assert_int_equal(gw_shadow_status_class(200), GW_SHADOW_CLASS_2XX);
	assert_int_equal(gw_shadow_status_class(204), GW_SHADOW_CLASS_2XX);
	assert_int_equal(gw_shadow_status_class(302), GW_SHADOW_CLASS_3XX);
	assert_int_equal(gw_shadow_status_class(404), GW_SHADOW_CLASS_4XX);
	assert_int_equal(gw_shadow_status_class(599), GW_SHADOW_CLASS_5XX);
	assert_int_equal(gw_shadow_status_class(0), GW_SHADOW_CLASS_ERROR);
	assert_int_equal(gw_shadow_status_class(100), GW_SHADOW_CLASS_ERROR);
	assert_int_equal(gw_shadow_status_class(600), GW_SHADOW_CLASS_ERROR);
	assert_string_equal(gw_shadow_class_name(GW_SHADOW_CLASS_ERROR), "error");
	assert_string_equal(gw_shadow_drop_name(GW_SHADOW_DROP_PENDING), "pending");
	assert_string_equal(gw_shadow_drop_name(GW_SHADOW_DROP_MAX), "unknown");
}

static void
test_parity_record(void **state)
{
	struct gw_shadow_route_stats st;

	RTE_SET_USED(state);
	memset(&st, 0, sizeof(st));
	gw_shadow_parity_record(&st, 200, 800, 204, 3000);     /* same class */
	gw_shadow_parity_record(&st, 200, 1500, 503, 20000);   /* differs */
	gw_shadow_parity_record(&st, 404, 100, 0, 0);          /* no shadow answer */
	assert_int_equal(st.pairs, 3);
	assert_int_equal(st.mismatches, 2);
	assert_int_equal(st.primary_class[GW_SHADOW_CLASS_2XX], 2);
	assert_int_equal(st.primary_class[GW_SHADOW_CLASS_4XX], 1);
	assert_int_equal(st.shadow_class[GW_SHADOW_CLASS_2XX], 1);
	assert_int_equal(st.shadow_class[GW_SHADOW_CLASS_5XX], 1);
	assert_int_equal(st.shadow_class[GW_SHADOW_CLASS_ERROR], 1);
	/* 0.8 ms and 0.1 ms in <= 1 ms, 1.5 ms in <= 2 ms */
	assert_int_equal(st.primary_hist[0], 2);
	assert_int_equal(st.primary_hist[1], 1);
	/* 3 ms in <= 5 ms, 20 ms in <= 25 ms; no latency without an answer */
	assert_int_equal(st.shadow_hist[2], 1);
	assert_int_equal(st.shadow_hist[4], 1);
	assert_int_equal(st.shadow_us_sum, 23000);
	assert_int_equal(st.primary_us_sum, 2400);
}

/* ------------------------------------------------------------------ */
/* The engine against a TCP peer                                       */
/* ------------------------------------------------------------------ */

struct backend {
	struct gw_tcp_conn *c;
	char rx[65536];
	size_t rx_len;
	uint32_t requests;          /* complete requests answered */
	char last_head[1024];
	size_t last_body;
	bool refuse;                /* no listener: SYNs get RST */
};

struct harness {
	struct gw_shadow *sh;
	struct rte_ring *ring;
	struct gw_tcp_stack *peer;
	struct gw_tcp_port sh_port;
	struct gw_tcp_port peer_port;
	uint32_t roles;
	uint8_t port_index[RTE_MAX_ETHPORTS];
	uint64_t now;
	struct gw_shadow_health health; /* shared with "workers" */
	struct rte_mbuf *to_peer[WIRE_MAX], *to_sh[WIRE_MAX];
	unsigned int n_to_peer, n_to_sh;
	struct backend be;
	uint32_t stream;
};

static struct harness *H;

static void
sh_xmit(void *arg, unsigned int pi, uint32_t next_hop, struct rte_mbuf *m)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(pi);
	RTE_SET_USED(next_hop);
	if (H->n_to_peer == WIRE_MAX) {
		rte_pktmbuf_free(m);
		return;
	}
	H->to_peer[H->n_to_peer++] = m;
}

static void
peer_xmit(void *arg, unsigned int pi, uint32_t next_hop, struct rte_mbuf *m)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(pi);
	RTE_SET_USED(next_hop);
	if (H->n_to_sh == WIRE_MAX) {
		rte_pktmbuf_free(m);
		return;
	}
	H->to_sh[H->n_to_sh++] = m;
}

/* A frame as a NIC would hand it over: one linear segment. */
static struct rte_mbuf *
linearize(struct rte_mbuf *m, const struct gw_tcp_port *to)
{
	struct rte_mbuf *f = rte_pktmbuf_alloc(pool);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_ether_hdr *eth;
	const void *src;
	uint8_t *data;

	assert_non_null(f);
	data = (uint8_t *)rte_pktmbuf_append(f, (uint16_t)len);
	assert_non_null(data);
	src = rte_pktmbuf_read(m, 0, len, data);
	if (src != data)
		memcpy(data, src, len);
	rte_pktmbuf_free(m);
	eth = (struct rte_ether_hdr *)data;
	memcpy(eth->dst_addr.addr_bytes, to->iface.mac, 6);
	eth->src_addr.addr_bytes[0] = 0x02;
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	f->port = to->iface.port_id;
	return f;
}

/* Deliver what is on the wire both ways until nothing moves. */
static void
run(unsigned int rounds)
{
	for (unsigned int r = 0; r < rounds; r++) {
		struct rte_mbuf *batch[WIRE_MAX];
		unsigned int n;

		H->now += 100000; /* 0.1 ms */
		gw_shadow_poll(H->sh, H->now);
		gw_tcp_poll(H->peer, H->now);
		n = H->n_to_peer;
		memcpy(batch, H->to_peer, n * sizeof(batch[0]));
		H->n_to_peer = 0;
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *f = linearize(batch[i], &H->peer_port);
			struct gw_net_result res;

			if (gw_net_input(&H->peer_port.iface,
					 rte_pktmbuf_mtod(f, uint8_t *),
					 rte_pktmbuf_data_len(f), &res) != GW_NET_TCP)
				fail_msg("frame to the peer dropped");
			gw_tcp_input(H->peer, 0, f, &res);
		}
		gw_tcp_poll(H->peer, H->now);
		n = H->n_to_sh;
		memcpy(batch, H->to_sh, n * sizeof(batch[0]));
		H->n_to_sh = 0;
		for (unsigned int i = 0; i < n; i++)
			gw_shadow_input(H->sh, linearize(batch[i], &H->sh_port));
	}
}

/* ---- the shadow backend: answers each complete request ---- */

static void
be_answer(struct backend *b)
{
	for (;;) {
		char *end = memmem(b->rx, b->rx_len, "\r\n\r\n", 4);
		const char *cl, *st;
		size_t head, body = 0, total;
		char resp[128];
		int status = 200, n;

		if (end == NULL)
			return;
		head = (size_t)(end - b->rx) + 4;
		cl = memmem(b->rx, head, "content-length: ", 16);
		if (cl != NULL)
			body = strtoul(cl + 16, NULL, 10);
		total = head + body;
		if (b->rx_len < total)
			return;
		snprintf(b->last_head, sizeof(b->last_head), "%.*s", (int)head, b->rx);
		b->last_body = body;
		st = memmem(b->rx, head, " /status/", 9);
		if (st != NULL)
			status = atoi(st + 9);
		n = snprintf(resp, sizeof(resp),
			     "HTTP/1.1 %d X\r\ncontent-length: 2\r\n\r\nok", status);
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), resp, (size_t)n);
		assert_int_equal(gw_tcp_send(b->c, m), 0);
		memmove(b->rx, b->rx + total, b->rx_len - total);
		b->rx_len -= total;
		b->requests++;
	}
}

static void
be_on_data(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m)
{
	struct backend *b = ctx;
	uint32_t len = m->pkt_len;

	const void *p;

	assert_true(b->rx_len + len <= sizeof(b->rx));
	p = rte_pktmbuf_read(m, 0, len, b->rx + b->rx_len);
	if (p != b->rx + b->rx_len)
		memcpy(b->rx + b->rx_len, p, len);
	b->rx_len += len;
	gw_tcp_recv_consumed(c, len);
	rte_pktmbuf_free(m);
	be_answer(b);
}

static void
be_on_closed(struct gw_tcp_conn *c, void *ctx, enum gw_tcp_close_reason r)
{
	struct backend *b = ctx;

	RTE_SET_USED(c);
	RTE_SET_USED(r);
	b->c = NULL;
}

static const struct gw_tcp_callbacks be_cb = {
	.on_data = be_on_data,
	.on_closed = be_on_closed,
};

static void *
be_accept(void *lctx, struct gw_tcp_conn *c, const struct gw_tcp_callbacks **cb)
{
	struct backend *b = lctx;

	b->c = c;
	b->rx_len = 0;
	*cb = &be_cb;
	return b;
}

/* ---- items ---- */

static const uint32_t SHADOW_IP = RTE_BE32(0x0a000002);  /* 10.0.0.2 */
static const uint32_t ENGINE_IP = RTE_BE32(0x0a000001);

static struct rte_mbuf *
data_mbuf(const char *s, size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)n), s, n);
	return m;
}

static void
put(uint8_t type, uint32_t stream, uint16_t status, struct rte_mbuf *m)
{
	struct gw_shadow_item it = {
		.type = type, .stream = stream, .status = status, .m = m,
	};

	/* the field a PRIMARY_DONE item has instead of an mbuf (and a
	 * DROPPED item's count, in the stream field, is given as stream) */
	if (type == GW_SHADOW_ITEM_PRIMARY_DONE) {
		assert_null(m);
		it.latency_us = 1000;
	}
	assert_int_equal(rte_ring_sp_enqueue_elem(H->ring, &it, sizeof(it)), 0);
}

/* The meta segment of a copy of @p route to SHADOW_IP:80. */
static struct rte_mbuf *
meta_mbuf(const char *route)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct gw_shadow_meta *meta;

	assert_non_null(m);
	meta = (struct gw_shadow_meta *)rte_pktmbuf_append(m, sizeof(*meta));
	assert_non_null(meta);
	memset(meta, 0, sizeof(*meta));
	meta->ip = SHADOW_IP;
	meta->port = 80;
	snprintf(meta->route, sizeof(meta->route), "%s", route);
	snprintf(meta->cluster, sizeof(meta->cluster), "outbound|80|v2|svc");
	snprintf(meta->method, sizeof(meta->method), "POST");
	snprintf(meta->path, sizeof(meta->path), "/x");
	snprintf(meta->authority, sizeof(meta->authority), "svc-shadow");
	return m;
}

/* A HEAD item: meta segment, then the head. Returns the stream id. */
static uint32_t
put_head(const char *route, const char *head)
{
	struct rte_mbuf *m = meta_mbuf(route);

	m->next = data_mbuf(head, strlen(head));
	m->nb_segs = 2;
	m->pkt_len += m->next->pkt_len;
	put(GW_SHADOW_ITEM_HEAD, ++H->stream, 0, m);
	return H->stream;
}

/* A BODY item referencing bytes of @p seg (as workers do: indirect). */
static void
put_body(uint32_t stream, struct rte_mbuf *seg, uint32_t off, uint32_t n)
{
	struct rte_mbuf *mi = rte_pktmbuf_alloc(pool);

	assert_non_null(mi);
	rte_pktmbuf_attach(mi, seg);
	mi->data_off = (uint16_t)(seg->data_off + off);
	mi->data_len = (uint16_t)n;
	mi->pkt_len = n;
	put(GW_SHADOW_ITEM_BODY, stream, 0, mi);
}

static const struct gw_shadow_route_stats *
route_stats(const char *route)
{
	for (unsigned int i = 0; i < gw_shadow_route_count(H->sh); i++)
		if (strcmp(gw_shadow_route(H->sh, i)->route, route) == 0)
			return gw_shadow_route(H->sh, i);
	fail_msg("no counters for %s", route);
	return NULL;
}

static void
harness_up(uint32_t max_pending, uint32_t max_held, uint32_t min_free,
	   uint32_t timeout_ms, bool listen)
{
	struct gw_tcp_stack_params tp;
	struct gw_shadow_params p;

	H = calloc(1, sizeof(*H));
	assert_non_null(H);
	H->now = 1000000000ULL;
	H->ring = rte_ring_create_elem("t_shadow", sizeof(struct gw_shadow_item),
				       1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(H->ring);
	H->sh_port.iface = (struct gw_net_iface){
		.port_id = 0, .mac = {2, 0, 0, 0, 0, 1}, .addr = ENGINE_IP,
		.prefix_len = 24,
	};
	H->sh_port.mtu = 1500;
	H->peer_port.iface = (struct gw_net_iface){
		.port_id = 1, .mac = {2, 0, 0, 0, 0, 2}, .addr = SHADOW_IP,
		.prefix_len = 24,
	};
	H->peer_port.mtu = 1500;
	H->roles = 1u << 1; /* upstream */
	memset(&p, 0, sizeof(p));
	p.pool = pool;
	p.n_rings = 1;
	p.rings = &H->ring;
	p.port_index = H->port_index;
	p.n_ports = 1;
	p.ports = &H->sh_port;
	p.port_roles = &H->roles;
	p.xmit = sh_xmit;
	p.max_pending = max_pending;
	p.max_held_mbufs = max_held;
	p.min_free_mbufs = min_free != 0 ? min_free : 16;
	p.timeout_ms = timeout_ms;
	p.tsc_hz = TSC_HZ;
	p.start_tsc = H->now;
	p.health = &H->health;
	H->sh = gw_shadow_create(&p);
	assert_non_null(H->sh);

	memset(&tp, 0, sizeof(tp));
	tp.n_workers = 1;
	tp.max_conns = 64;
	tp.tsc_hz = TSC_HZ;
	tp.pool = pool;
	tp.n_ports = 1;
	tp.ports = &H->peer_port;
	tp.xmit = peer_xmit;
	tp.start_tsc = H->now;
	H->peer = gw_tcp_stack_create(&tp);
	assert_non_null(H->peer);
	if (listen)
		assert_int_equal(gw_tcp_listen(H->peer, 0, 80, be_accept, &H->be), 0);
}

static void
harness_down(void)
{
	gw_shadow_free(H->sh);
	gw_tcp_stack_free(H->peer);
	for (unsigned int i = 0; i < H->n_to_peer; i++)
		rte_pktmbuf_free(H->to_peer[i]);
	for (unsigned int i = 0; i < H->n_to_sh; i++)
		rte_pktmbuf_free(H->to_sh[i]);
	rte_ring_free(H->ring);
	free(H);
	H = NULL;
	/* every mbuf came back: nothing leaked by the engine */
	assert_int_equal(rte_mempool_avail_count(pool), pool->size);
}

static const char HEAD10[] =
	"POST /x HTTP/1.1\r\nhost: svc-shadow\r\ncontent-length: 10\r\n\r\n";

/* HEAD, BODY by reference in two parts, END, PRIMARY_DONE: the shadow gets
 * the request whole, the response is read, parity is recorded, the
 * access log has a shadow line, and the connection is pooled. */
static void
test_stream_whole(void **state)
{
	const struct gw_shadow_stats *st;
	const struct gw_shadow_route_stats *rs;
	struct rte_mbuf *seg;
	char *log = NULL;
	size_t log_len = 0;
	FILE *f;
	uint32_t id;

	RTE_SET_USED(state);
	harness_up(8, 0, 0, 0, true);
	st = gw_shadow_stats(H->sh);
	seg = data_mbuf("0123456789", 10);
	id = put_head("ns/vs/0", HEAD10);
	put_body(id, seg, 0, 4);
	put_body(id, seg, 4, 6);
	rte_pktmbuf_free(seg);  /* the items keep the bytes alive */
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	run(20);
	assert_int_equal(H->be.requests, 1);
	assert_string_equal(H->be.last_head, HEAD10);
	assert_int_equal(H->be.last_body, 10);
	put(GW_SHADOW_ITEM_PRIMARY_DONE, id, 200, NULL);
	run(2);
	rs = route_stats("ns/vs/0");
	assert_int_equal(rs->requests, 1);
	assert_int_equal(rs->responses, 1);
	assert_int_equal(rs->pairs, 1);
	assert_int_equal(rs->mismatches, 0);
	assert_int_equal(rs->shadow_class[GW_SHADOW_CLASS_2XX], 1);
	assert_int_equal(st->streams, 0);
	assert_int_equal(st->held_mbufs, 0);
	assert_int_equal(st->conns_idle, 1);

	/* a second request reuses the pooled connection; 503 vs 200 differs */
	id = put_head("ns/vs/0",
		      "GET /status/503 HTTP/1.1\r\nhost: svc-shadow\r\n\r\n");
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	put(GW_SHADOW_ITEM_PRIMARY_DONE, id, 200, NULL);
	run(20);
	assert_int_equal(H->be.requests, 2);
	assert_int_equal(st->reused, 1);
	assert_int_equal(st->connects, 1);
	assert_int_equal(rs->pairs, 2);
	assert_int_equal(rs->mismatches, 1);
	assert_int_equal(rs->shadow_class[GW_SHADOW_CLASS_5XX], 1);
	assert_int_equal(rs->primary_class[GW_SHADOW_CLASS_2XX], 2);

	f = open_memstream(&log, &log_len);
	assert_non_null(f);
	assert_int_equal(gw_shadow_accesslog_drain(H->sh, f), 2);
	fclose(f);
	assert_non_null(strstr(log, "\"POST /x HTTP/1.1\" 200 - 10 2 "));
	assert_non_null(strstr(log, "\"svc-shadow\" \"10.0.0.2:80\" outbound|80|v2|svc shadow\n"));
	assert_non_null(strstr(log, "\" 503 - "));
	free(log);
	harness_down();
}

/* A HEAD item as workers write it: the head after the meta in the meta's
 * own segment; and, for a head that did not fit there, its first bytes
 * there and the rest chained. The shadow gets each head byte for byte,
 * the meta still names route and cluster, no mbuf is left behind. */
static void
test_head_in_meta_segment(void **state)
{
	static const char HEAD0[] =
		"GET /status/200 HTTP/1.1\r\nhost: svc-shadow\r\n\r\n";
	const struct gw_shadow_route_stats *rs;
	struct rte_mbuf *m, *seg;
	size_t split = 20;
	char *log = NULL;
	size_t log_len = 0;
	FILE *f;
	uint32_t id;

	RTE_SET_USED(state);
	harness_up(8, 0, 0, 0, true);
	m = meta_mbuf("ns/vs/in");
	memcpy(rte_pktmbuf_append(m, sizeof(HEAD10) - 1), HEAD10,
	       sizeof(HEAD10) - 1);
	id = ++H->stream;
	put(GW_SHADOW_ITEM_HEAD, id, 0, m);
	seg = data_mbuf("0123456789", 10);
	put_body(id, seg, 0, 10);
	rte_pktmbuf_free(seg);
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	put(GW_SHADOW_ITEM_PRIMARY_DONE, id, 200, NULL);
	run(20);
	assert_int_equal(H->be.requests, 1);
	assert_string_equal(H->be.last_head, HEAD10);
	assert_int_equal(H->be.last_body, 10);

	/* split: meta and 20 bytes, then the rest in a second segment */
	m = meta_mbuf("ns/vs/in");
	memcpy(rte_pktmbuf_append(m, (uint16_t)split), HEAD0, split);
	m->next = data_mbuf(HEAD0 + split, sizeof(HEAD0) - 1 - split);
	m->pkt_len = m->data_len;   /* as the worker's: each segment its own */
	id = ++H->stream;
	put(GW_SHADOW_ITEM_HEAD, id, 0, m);
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	put(GW_SHADOW_ITEM_PRIMARY_DONE, id, 200, NULL);
	run(20);
	assert_int_equal(H->be.requests, 2);
	assert_string_equal(H->be.last_head, HEAD0);
	rs = route_stats("ns/vs/in");
	assert_int_equal(rs->requests, 2);
	assert_int_equal(rs->responses, 2);
	assert_int_equal(rs->pairs, 2);
	assert_int_equal(rs->mismatches, 0);
	assert_int_equal(gw_shadow_stats(H->sh)->held_mbufs, 0);
	f = open_memstream(&log, &log_len);
	assert_non_null(f);
	assert_int_equal(gw_shadow_accesslog_drain(H->sh, f), 2);
	fclose(f);
	assert_non_null(strstr(log, "\"POST /x HTTP/1.1\" 200 - 10 "));
	assert_non_null(strstr(log, "outbound|80|v2|svc shadow\n"));
	free(log);
	harness_down();
}

/* Items of a stream that is gone are freed and counted; ABORT counts the
 * worker's loss on the route, without parity. */
static void
test_abort_and_unknown(void **state)
{
	const struct gw_shadow_stats *st;
	const struct gw_shadow_route_stats *rs;
	uint32_t id;

	RTE_SET_USED(state);
	harness_up(8, 0, 0, 0, true);
	st = gw_shadow_stats(H->sh);
	id = put_head("ns/vs/1", HEAD10);
	put(GW_SHADOW_ITEM_ABORT, id, GW_SHADOW_DROP_RING_FULL, NULL);
	put(GW_SHADOW_ITEM_BODY, id, 0, data_mbuf("0123456789", 10));
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	put(GW_SHADOW_ITEM_PRIMARY_DONE, id, 200, NULL);
	run(20);
	rs = route_stats("ns/vs/1");
	assert_int_equal(rs->drops[GW_SHADOW_DROP_RING_FULL], 1);
	assert_int_equal(rs->pairs, 0);
	assert_int_equal(st->unknown_items, 3);
	assert_int_equal(st->streams, 0);
	harness_down();
}

/* Bounds: pending streams, held mbufs, a low pool. */
static void
test_bounds(void **state)
{
	const struct gw_shadow_stats *st;
	const struct gw_shadow_route_stats *rs;
	char kb2[2000];
	uint32_t id;

	RTE_SET_USED(state);
	/* nothing delivered: streams wait for their connections */
	harness_up(2, 4, 0, 0, true);
	st = gw_shadow_stats(H->sh);
	put_head("ns/vs/2", HEAD10);
	id = put_head("ns/vs/2", HEAD10);
	put_head("ns/vs/2", HEAD10);
	gw_shadow_poll(H->sh, H->now += 1000);
	rs = route_stats("ns/vs/2");
	assert_int_equal(rs->requests, 3);
	assert_int_equal(rs->drops[GW_SHADOW_DROP_PENDING], 1);
	assert_int_equal(st->streams, 2);
	/* a body beyond the send buffer (256 KiB) and 4 held segments */
	memset(kb2, 'b', sizeof(kb2));
	for (int i = 0; i < 140; i++)
		put(GW_SHADOW_ITEM_BODY, id, 0, data_mbuf(kb2, sizeof(kb2)));
	gw_shadow_poll(H->sh, H->now += 1000);
	assert_int_equal(rs->drops[GW_SHADOW_DROP_MEMORY], 1);
	assert_int_equal(st->held_mbufs, 0);
	harness_down();

	/* a pool below its reserve: new copies are refused */
	harness_up(8, 0, 8191, 0, true);
	put_head("ns/vs/2b", HEAD10);
	put_head("ns/vs/2b", HEAD10);
	gw_shadow_poll(H->sh, H->now += 1000);
	rs = route_stats("ns/vs/2b");
	assert_int_equal(rs->drops[GW_SHADOW_DROP_MEMORY], 2);
	assert_int_equal(gw_shadow_stats(H->sh)->streams, 0);
	harness_down();
}

/* A dead shadow (RST to the SYN) and a mute one (no answer in time): the
 * copies are dropped and counted, and parity shows the shadow's error. */
static void
test_dead_and_timeout(void **state)
{
	const struct gw_shadow_stats *st;
	const struct gw_shadow_route_stats *rs;
	uint32_t id;

	RTE_SET_USED(state);
	harness_up(8, 0, 0, 50, false);
	st = gw_shadow_stats(H->sh);
	id = put_head("ns/vs/3", "GET / HTTP/1.1\r\nhost: s\r\n\r\n");
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	put(GW_SHADOW_ITEM_PRIMARY_DONE, id, 200, NULL);
	run(10);
	rs = route_stats("ns/vs/3");
	assert_int_equal(rs->drops[GW_SHADOW_DROP_CONNECT], 1);
	assert_int_equal(rs->pairs, 1);
	assert_int_equal(rs->mismatches, 1);
	assert_int_equal(rs->shadow_class[GW_SHADOW_CLASS_ERROR], 1);
	assert_int_equal(st->streams, 0);

	/* the endpoint is down for 1 s: a worker sees it and the engine
	 * drops the next copy without a connection (no parity for it) */
	assert_int_equal(st->endpoint_failures, 1);
	assert_true(gw_shadow_endpoint_down(&H->health, SHADOW_IP, 80, H->now));
	assert_false(gw_shadow_endpoint_down(&H->health, SHADOW_IP, 81, H->now));
	assert_false(gw_shadow_endpoint_down(&H->health, SHADOW_IP, 80,
					     H->now + 1000000000ULL));
	{
		uint64_t connects = st->connects;

		id = put_head("ns/vs/3", "GET / HTTP/1.1\r\nhost: s\r\n\r\n");
		put(GW_SHADOW_ITEM_END, id, 0, NULL);
		put(GW_SHADOW_ITEM_PRIMARY_DONE, id, 200, NULL);
		run(10);
		assert_int_equal(rs->drops[GW_SHADOW_DROP_UNAVAILABLE], 1);
		assert_int_equal(st->connects, connects);
		assert_int_equal(rs->pairs, 1);
		assert_int_equal(st->streams, 0);
		/* a worker's own drop (DROPPED item) is counted for the route */
		put(GW_SHADOW_ITEM_DROPPED, 0, GW_SHADOW_DROP_UNAVAILABLE,
		    meta_mbuf("ns/vs/3"));
		run(2);
		assert_int_equal(rs->drops[GW_SHADOW_DROP_UNAVAILABLE], 2);
		assert_int_equal(rs->requests, 3);
		/* a worker's run of 5 skipped copies is one item */
		{
			struct gw_shadow_item it = {
				.type = GW_SHADOW_ITEM_DROPPED,
				.status = GW_SHADOW_DROP_UNAVAILABLE,
				.count = 5, .m = meta_mbuf("ns/vs/3"),
			};
			uint64_t drops = st->drops;

			assert_int_equal(rte_ring_sp_enqueue_elem(H->ring, &it,
							sizeof(it)), 0);
			run(2);
			assert_int_equal(rs->drops[GW_SHADOW_DROP_UNAVAILABLE], 7);
			assert_int_equal(rs->requests, 8);
			assert_int_equal(st->drops, drops + 5);
		}
	}
	/* after the back-off the endpoint is tried again; refused once more,
	 * it is skipped for twice as long */
	H->now += 1100000000ULL;
	id = put_head("ns/vs/3", "GET / HTTP/1.1\r\nhost: s\r\n\r\n");
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	run(10);
	assert_int_equal(rs->drops[GW_SHADOW_DROP_CONNECT], 2);
	assert_int_equal(st->endpoint_failures, 2);
	assert_true(gw_shadow_endpoint_down(&H->health, SHADOW_IP, 80,
					    H->now + 1500000000ULL));
	assert_false(gw_shadow_endpoint_down(&H->health, SHADOW_IP, 80,
					     H->now + 2000000000ULL));
	H->now += 2100000000ULL;

	/* listening but never delivering: the 50 ms deadline cuts it */
	id = put_head("ns/vs/3", "GET / HTTP/1.1\r\nhost: s\r\n\r\n");
	put(GW_SHADOW_ITEM_END, id, 0, NULL);
	gw_shadow_poll(H->sh, H->now += 1000);
	assert_int_equal(st->streams, 1);
	for (int i = 0; i < 8; i++)
		gw_shadow_poll(H->sh, H->now += 20000000);
	assert_int_equal(rs->drops[GW_SHADOW_DROP_TIMEOUT], 1);
	/* the primary never reported either: forgotten after another period */
	assert_int_equal(st->streams, 0);
	assert_int_equal(rs->pairs, 1);
	harness_down();
}


/* Counters for many (route, mirror) pairs: each its own, found again by
 * hash; beyond the table's size, counted as full. */
static void
test_many_routes(void **state)
{
	const struct gw_shadow_route_stats *rs;
	char name[32];

	RTE_SET_USED(state);
	harness_up(8, 0, 0, 0, true);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "ns/vs/%d", i);
			put(GW_SHADOW_ITEM_DROPPED, 0, GW_SHADOW_DROP_UNAVAILABLE,
			    meta_mbuf(name));
		}
		run(4);
	}
	assert_int_equal(gw_shadow_route_count(H->sh), 300);
	for (int i = 0; i < 300; i += 37) {
		snprintf(name, sizeof(name), "ns/vs/%d", i);
		rs = route_stats(name);
		assert_int_equal(rs->requests, 2);
		assert_int_equal(rs->drops[GW_SHADOW_DROP_UNAVAILABLE], 2);
	}
	assert_int_equal(gw_shadow_stats(H->sh)->stats_full, 0);
	harness_down();
}

int
main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level", "lib.*:error", "--file-prefix=test_shadow", NULL,
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_suffix),
		cmocka_unit_test(test_host_suffix_all),
		cmocka_unit_test(test_status_class),
		cmocka_unit_test(test_parity_record),
		cmocka_unit_test(test_stream_whole),
		cmocka_unit_test(test_head_in_meta_segment),
		cmocka_unit_test(test_abort_and_unknown),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_dead_and_timeout),
		cmocka_unit_test(test_many_routes),
	};

	RTE_SET_USED(argc);
	if (rte_eal_init((int)GW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("t_pool", 8191, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
