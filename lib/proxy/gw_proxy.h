/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_PROXY_H
#define GW_PROXY_H

/**
 * @file
 * The L4 (TCP) proxy of one worker: Istio `tcp` routes. See docs/l4-proxy.md.
 *
 * A client connection accepted on a TCP listener is routed once
 * (gw_route_tcp_lookup(): listener, first matching `tcp` route, weighted
 * destination), an endpoint of the destination cluster is chosen with its
 * DestinationRule load balancer (source-IP hash available), and an
 * upstream connection is opened to it from the same worker's stack. The
 * two connections form a session; bytes are forwarded by reference (the
 * received mbufs are queued for sending on the other connection, never
 * copied).
 *
 * Backpressure: bytes received on one side are released to the TCP stack
 * (gw_tcp_recv_consumed()) only once the other side's send queue took
 * them, so a slow reader closes the other side's advertised window and a
 * session holds at most one receive budget plus one send budget per
 * direction. Client bytes that arrive while the upstream handshake is in
 * progress wait the same way.
 *
 * Closing: a FIN is forwarded (gw_tcp_shutdown()) once the data before it
 * has been handed over, so each direction half-closes independently. A
 * reset, a retransmission timeout, a refused or timed-out upstream
 * connect on one side resets the other side (gw_tcp_abort()).
 *
 * Threading: a proxy belongs to one worker, like its stack; create and
 * free it on the control lcore while the worker does not run. The
 * counters have a single writer (the worker) and may be read by the
 * control lcore.
 */

#include <stddef.h>
#include <stdint.h>

#include "gw_route.h"
#include "gw_tcp.h"

struct gw_l4_proxy;

/**
 * The routing snapshot the worker uses now (it reports quiescence between
 * loop iterations, so the snapshot is only read during one callback). May
 * return NULL: connections are then refused (counted as no_route).
 */
typedef const struct gw_route_snapshot *(*gw_l4_snapshot_fn)(void *arg);

/** Creation parameters. */
struct gw_l4_proxy_params {
	struct gw_tcp_stack *stack;      /**< the worker's stack (both sides) */
	unsigned int worker_id;          /**< for the snapshot's per-worker state */
	gw_l4_snapshot_fn snapshot;      /**< required */
	void *snapshot_arg;
	/** Sessions preallocated (each holds two connections of the stack). */
	uint32_t max_sessions;
	/** The stack's ports (as in gw_tcp_stack_params) and their roles
	 *  (enum gw_port_role bits): upstream connections leave through an
	 *  upstream port, the one on whose prefix the endpoint is if any. */
	unsigned int n_ports;
	const struct gw_tcp_port *ports;
	const uint32_t *port_roles;
	/**
	 * Upstream connect timeout in ms enforced by gw_l4_proxy_poll(); 0
	 * leaves it to the stack (gw_tcp_stack_params.connect_timeout_ms). A
	 * DestinationRule connectionPool.tcp.connectTimeout overrides both
	 * for its cluster.
	 */
	uint32_t connect_timeout_ms;
	uint64_t tsc_hz;                 /**< for connect timeouts (0: rte_get_tsc_hz()) */
	/** The proxy's clock at create (0: rte_rdtsc()); then the latest
	 *  gw_l4_proxy_poll() time, as for the stack. */
	uint64_t start_tsc;
	int socket_id;                   /**< NUMA socket of the session pool */
};

/** Counters of one proxy (single writer: the worker). */
struct gw_l4_proxy_stats {
	uint64_t sessions;            /**< client connections proxied (upstream connect started) */
	uint64_t active;              /**< gauge: sessions now */
	uint64_t upstream_established;/**< upstream handshakes completed */
	uint64_t upstream_connect_failures; /**< connect refused, timed out, reset or impossible */
	uint64_t connect_timeouts;    /**< of those, the proxy's own timeout (poll) */
	uint64_t resets_propagated;   /**< one side reset or timed out: the other was reset */
	uint64_t no_route;            /**< refused: no TCP route for the listener (or no snapshot) */
	uint64_t no_endpoint;         /**< refused: the cluster has no usable IPv4 endpoint */
	uint64_t no_session;          /**< refused: every session in use */
	uint64_t bytes_to_upstream;   /**< client bytes handed to upstream connections */
	uint64_t bytes_to_downstream; /**< upstream bytes handed to client connections */
	uint64_t send_blocked;        /**< sends deferred: the other side's send queue was full */
	uint64_t fins_forwarded;      /**< half-closes passed on */
	uint64_t closed;              /**< sessions ended after both sides closed normally */
};

/**
 * Create a worker's proxy with a pool of @p p->max_sessions sessions.
 * @return the proxy, or NULL with rte_errno set (EINVAL: bad parameters,
 *         ENOMEM).
 */
struct gw_l4_proxy *gw_l4_proxy_create(const struct gw_l4_proxy_params *p);

/**
 * Reset the connections of every session still open (gw_tcp_abort(), no
 * callbacks), release what they hold and free the proxy. Call it with the
 * stack still alive, or after gw_tcp_stack_free() (which closes every
 * session first). NULL is fine.
 */
void gw_l4_proxy_free(struct gw_l4_proxy *px);

/**
 * The accept hook of TCP listeners (gw_tcp_accept_fn; listener_ctx is the
 * proxy): routes the connection and opens the upstream connection.
 * Returns NULL, so the stack resets the client, when there is no route,
 * no endpoint, no free session, or the upstream connect fails at once.
 */
void *gw_l4_proxy_accept(void *listener_ctx, struct gw_tcp_conn *c,
			 const struct gw_tcp_callbacks **cb);

/** gw_tcp_listen(stack, ip, port) with gw_l4_proxy_accept. 0, -EEXIST, -ENOSPC. */
int gw_l4_proxy_listen(struct gw_l4_proxy *px, uint32_t ip, uint16_t port);

/**
 * Advance the proxy's clock and enforce connect timeouts (when
 * configured): resets sessions whose upstream handshake has not completed
 * in time. Call every loop with the time given to gw_tcp_poll() (cheap
 * when nothing is pending; scans at most once per millisecond).
 */
void gw_l4_proxy_poll(struct gw_l4_proxy *px, uint64_t now_tsc);

/** The proxy's counters. */
const struct gw_l4_proxy_stats *gw_l4_proxy_stats(const struct gw_l4_proxy *px);

/** A counter's name ("sessions"; /stats prints it as "l4.sessions"). */
struct gw_l4_proxy_counter {
	const char *name;
	size_t offset;               /**< of its uint64_t in the stats */
};

/** Every counter of struct gw_l4_proxy_stats, in declaration order. */
extern const struct gw_l4_proxy_counter gw_l4_proxy_counters[];
extern const unsigned int gw_l4_proxy_n_counters;

/** Add @p add's counters to @p sum (to sum the workers). */
void gw_l4_proxy_stats_add(struct gw_l4_proxy_stats *sum,
			   const struct gw_l4_proxy_stats *add);

#endif /* GW_PROXY_H */
