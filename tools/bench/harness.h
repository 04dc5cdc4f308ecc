/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-memory harness of tools/bench/fastpath and tools/bench/memory:
 * proxy nodes built as lib/worker builds a worker and peer nodes (clients,
 * backends) of their own, each a lib/tcp stack, wired by a ring of mbufs
 * and run on a virtual clock. The nodes live in one process on lcore 0:
 * no NIC, no kernel, nothing shared with a running gateway.
 *
 * Addresses (host order, /24s): the gateway's client side 10.10.1.1, its
 * upstream side 10.10.2.1; clients from 10.10.1.10, backends
 * 10.10.2.11-14 listening on port 7000 behind service svc.test port 8000.
 */
#ifndef TOOLS_BENCH_HARNESS_H
#define TOOLS_BENCH_HARNESS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "gw_httpproxy.h"
#include "gw_metrics.h"
#include "gw_model.h"
#include "gw_route.h"
#include "gw_tcp.h"

#define HARNESS_VHZ          UINT64_C(1000000000) /* virtual clock: nanoseconds */
#define HARNESS_TICK         UINT64_C(20000)      /* 20 us of it per loop */
#define HARNESS_START_TSC    UINT64_C(1000000000) /* the clock at set-up */
#define HARNESS_BURST        32u                  /* GW_WORKER_BURST */
#define HARNESS_BACKENDS     4u                   /* svc.test's endpoints */
#define HARNESS_MAX_PORTS    64u                  /* addresses a node can hold */
#define HARNESS_LISTEN_PORT  8000u                /* the gateway's HTTP listener */
#define HARNESS_BACKEND_PORT 7000u                /* the backends' (targetPort) */

/** An IPv4 address a.b.c.d in network order, as lib/net and lib/tcp take it. */
static inline uint32_t
harness_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

/** The backends' answer to every request: 200, a 13-byte body. */
extern const uint8_t harness_small_resp[];
extern const uint32_t harness_small_resp_len;

/* ---- the program ---- */

/** The name error messages start with (the tool's). */
void harness_set_name(const char *name);

/** Print "NAME: message" on stderr and exit(1): set-up failures and
 * broken invariants end the measurement, never skew it. */
void harness_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/** A decimal option value in [min, max]; otherwise harness_die(what). */
uint64_t harness_parse_num(const char *arg, uint64_t min, uint64_t max, const char *what);

/** Start the EAL as the tools need it: lcore 0 only, no hugepages, no PCI,
 * no shared config (several tools may run at once), @p mem_mb of memory,
 * files under @p file_prefix. */
void harness_eal_init(const char *argv0, const char *file_prefix, unsigned int mem_mb);

/* ---- the wire ---- */

/** Frames in flight between the nodes: what one loop sends, the next
 * delivers. A frame sent to a full wire is freed and counted. */
struct harness_wire {
	struct rte_mbuf **ring;
	uint32_t mask;            /* size - 1, a power of two */
	uint32_t head, tail;
	uint64_t overflow;        /* frames lost: the wire was full */
};

void harness_wire_init(struct harness_wire *w, uint32_t size_pow2);
/** Free the frames still on the wire (between cases). */
void harness_wire_drain(struct harness_wire *w);
/** harness_wire_drain() and the ring itself. */
void harness_wire_free(struct harness_wire *w);
/** The xmit callback of every stack and of the shadow engine
 * (xmit_arg: the struct harness_wire). */
void harness_wire_xmit(void *wire, unsigned int port_index, uint32_t next_hop,
		       struct rte_mbuf *m);

static inline bool
harness_wire_empty(const struct harness_wire *w)
{
	return w->head == w->tail;
}

/** The next frame sent before @p end (a tail read earlier), NULL when
 * those are all taken: frames a loop sends wait for the next loop. */
static inline struct rte_mbuf *
harness_wire_take(struct harness_wire *w, uint32_t end)
{
	return w->head != end ? w->ring[w->head++ & w->mask] : NULL;
}

/** The 4-tuple of an IPv4/TCP frame on the wire, host order. */
struct harness_flow {
	uint32_t src, dst;
	uint16_t sport, dport;
};

void harness_frame_flow(const struct rte_mbuf *m, struct harness_flow *f);

/* ---- nodes ---- */

/** A node: one TCP stack over its ports (addresses). */
struct harness_node {
	struct gw_tcp_stack *s;
	struct gw_tcp_port ports[HARNESS_MAX_PORTS];
	unsigned int n_ports;
	struct rte_mempool *pool;  /* what it sends from and receives into */
};

/** A port as a DPDK port of the gateway: MTU 1500, multi-segment TX,
 * checksums offloaded when @p offload; MAC 02:00:00:00:index:mac_last. */
void harness_port_init(struct gw_tcp_port *p, unsigned int index, uint32_t ip,
		       uint8_t mac_last, bool offload);
/** harness_port_init() of the node's next port. */
void harness_node_add_port(struct harness_node *nd, uint32_t ip, uint8_t mac_last,
			   bool offload);

/** The receiving NIC: a linear copy of @p m (freed) from @p pool,
 * Ethernet addressed to @p port; with @p offload the sender's NIC filled
 * the IP checksum and this one vouches for both. */
struct rte_mbuf *harness_nic_receive(struct rte_mbuf *m, struct rte_mempool *pool,
				     const struct gw_tcp_port *port, bool offload);

/** lib/net's classification and the node's gw_tcp_input() of frame @p f
 * received on @p port; a frame lib/net drops is a harness bug. */
void harness_node_input(struct harness_node *nd, unsigned int port, struct rte_mbuf *f);

/** A peer's stack (client or backend node): lib/tcp with the worker's
 * buffers and timers, source ports of the whole default range. */
struct gw_tcp_stack *harness_peer_stack(struct harness_node *nd, uint32_t max_conns,
					struct harness_wire *wire, uint64_t now);

/** Worker @p worker_id of @p n_workers's stack with the parameters of
 * lib/worker/dataplane.c's worker_tcp_create() on ports without RSS
 * (source port % n_workers == worker_id, below the shadow engine's). */
struct gw_tcp_stack *harness_worker_stack(struct harness_node *nd, uint32_t max_conns,
					  unsigned int worker_id, unsigned int n_workers,
					  struct harness_wire *wire, uint64_t now);

/** A peer's on_fin: it has nothing more to send either, so it closes
 * its side (the gateway then sees the close it expects). */
void harness_fin_shutdown(struct gw_tcp_conn *c, void *ctx);

/** Requests ended in @p m: heads ("\r\n\r\n"), the match carried in
 * @p match across segments. The backends see GETs only. */
uint32_t harness_count_heads(const struct rte_mbuf *m, uint32_t *match);

/* ---- Istio configuration and routing ---- */

struct harness_istio {
	uint32_t n_routes;     /* uri-prefix routes /rN/; 0: one route for any uri */
	bool mirror;           /* every route mirrors to shadow.test at 100% */
	uint8_t shadow_net;    /* shadow.test's endpoints: 10.10.NET.21-24 */
	bool l4;               /* one tcp route on l4_port instead (no http, no mirror) */
	uint16_t l4_port;
};

/** The Istio YAML of @p c: ServiceEntry svc.test (the backends), with
 * mirroring ServiceEntry shadow.test, and VirtualService svc; written to
 * @p buf as snprintf() does: the length it needs (NUL not counted), the
 * text whole only when that is below @p cap. */
size_t harness_istio_yaml(const struct harness_istio *c, char *buf, size_t cap);

/** The model and the route snapshot the proxies read. */
struct harness_routes {
	struct gw_model_store *store;
	struct gw_route_snapshot *snap;
};

/** Load @p yaml (named @p name in errors) into a store and build the
 * snapshot as the control plane does with @p rp. */
void harness_routes_load(struct harness_routes *r, const char *yaml, size_t len,
			 const char *name, const struct gw_route_build_params *rp);
void harness_routes_free(struct harness_routes *r);

/** The snapshot callbacks of a proxy (arg: the struct harness_routes).
 * The worker holds snapshots by QSBR; here the snapshot never changes. */
const struct gw_route_snapshot *harness_snapshot_get(void *routes);
const void *harness_snapshot_hold(void *routes, const struct gw_route_snapshot *snap);
void harness_snapshot_release(void *routes, const void *token);

/* ---- the worker's HTTP proxy ---- */

/** A worker's metrics table (GW_WORKER_METRICS_SERIES series). */
struct gw_metrics_table *harness_metrics_new(void);

/** @p pp zeroed, then what lib/worker/dataplane.c's worker_http_create()
 * sets whatever the limits: the node's stack, pool and ports, the routes'
 * snapshot, the access-log ring, the virtual clock. The caller sets the
 * limits (sessions, exchanges, heads) and, with mirroring, the shadow ring. */
void harness_http_proxy_params(struct gw_http_proxy_params *pp, struct harness_node *nd,
			       unsigned int worker_id, const uint32_t *port_roles,
			       struct harness_routes *routes,
			       struct gw_metrics_table *metrics, uint64_t now);

/** gw_http_proxy_create(@p pp) listening on port 0's HARNESS_LISTEN_PORT. */
struct gw_http_proxy *harness_http_proxy_start(const struct gw_http_proxy_params *pp);

#endif /* TOOLS_BENCH_HARNESS_H */
