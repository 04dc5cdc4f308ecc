/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_HTTPPROXY_H
#define GW_HTTPPROXY_H

/**
 * @file
 * The HTTP/1.1 proxy of one worker (DESIGN.md §4).
 *
 * A client connection accepted on an HTTP listener is a session. Each
 * request on it is parsed (lib/http), routed with the snapshot in force
 * (gw_route_lookup(): listener, virtual host, first matching route,
 * weighted destination), an endpoint is chosen with the cluster's load
 * balancer and the request is forwarded on an upstream connection taken
 * from this worker's pool for that endpoint (or opened). The response
 * streams back; then the upstream connection returns to the pool (when
 * both sides keep it alive) and the next request of the client
 * connection is routed afresh, so two requests on one connection may go
 * to different subsets.
 *
 * Zero copy: only the rewritten request and response heads are written
 * (into fresh mbufs, counted in copied_bytes); bodies are forwarded by
 * reference, whole received segments or indirect mbufs over a range of
 * one.
 *
 * Ordering: one request of a client connection is in flight at a time;
 * pipelined requests wait in the receive queue (their bytes unreleased,
 * so the client's window closes) and are answered in order.
 *
 * Gateway responses carry a short text body and an Envoy response flag
 * in the access log: 404 NR (no route), 503 UH (no usable endpoint), 502
 * UF (upstream connect failure, reset or close before a response), 504
 * UT (route timeout before the response), 400/413/414/431/501/505 from
 * the parser (then the connection closes).
 *
 * Threading: a proxy belongs to one worker, like its stack. Create and
 * free it on the control lcore while the worker does not run. Access-log
 * records go to a single-producer/single-consumer ring that the control
 * lcore drains with gw_http_accesslog_drain(); a full ring drops the
 * record and counts it (accesslog_dropped).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "gw_metrics.h"
#include "gw_route.h"
#include "gw_tcp.h"

struct gw_shadow_health;

struct gw_http_proxy;

/** The snapshot the worker uses now (valid during one callback). May return NULL. */
typedef const struct gw_route_snapshot *(*gw_http_snapshot_fn)(void *arg);

/** Creation parameters. */
struct gw_http_proxy_params {
	struct gw_tcp_stack *stack;      /**< the worker's stack (both sides) */
	unsigned int worker_id;
	gw_http_snapshot_fn snapshot;    /**< required */
	void *snapshot_arg;
	/**
	 * Optional: keep @p snap, the last value snapshot() returned, past
	 * the worker's next quiescent report, for a request in flight; a
	 * token for snapshot_release(), or NULL when it cannot be held.
	 * Without a hold, a response's header operations are skipped once
	 * the snapshot has changed.
	 */
	const void *(*snapshot_hold)(void *arg,
				     const struct gw_route_snapshot *snap);
	void (*snapshot_release)(void *arg, const void *token);
	struct rte_mempool *pool;        /**< fresh head segments and indirect mbufs */
	uint32_t max_sessions;           /**< client connections; as many upstream slots */
	/**
	 * Requests in flight (exchange contexts: head buffers, parser and
	 * per-request state); 0: max_sessions. An idle keep-alive session
	 * holds none; beyond, a request's input waits (exchange_waits).
	 */
	uint32_t max_exchanges;
	/** Workers sharing the DestinationRule connectionPool limits (0: 1). */
	unsigned int n_workers;
	/** The stack's ports and their roles (enum gw_port_role bits). */
	unsigned int n_ports;
	const struct gw_tcp_port *ports;
	const uint32_t *port_roles;
	/** Largest request/response head (431 beyond); 0: 16 KiB. */
	uint32_t max_head;
	/** Most header fields per head (431 beyond); 0: 100. */
	uint32_t max_headers;
	/** Largest request body (413 beyond); 0: no limit (streamed). */
	uint64_t max_request_body;
	/** Upstream idle timeout when the DestinationRule sets none (ms; 0: 60 s). */
	uint32_t idle_timeout_ms;
	/** Upstream connect timeout when the DestinationRule sets none (ms; 0: the stack's). */
	uint32_t connect_timeout_ms;
	/** Access-log ring entries (power of two; 0: 1024): four 64-byte
	 *  ring elements each; a usual record takes three or four, one
	 *  with long fields up to 13. */
	uint32_t accesslog_ring_size;
	uint64_t tsc_hz;                 /**< 0: rte_get_tsc_hz() */
	uint64_t start_tsc;              /**< 0: rte_rdtsc() */
	int socket_id;
	/** Mirror items for the shadow engine (lib/shadow; single producer:
	 * this proxy). NULL: routes' mirrors are dropped and counted. */
	struct rte_ring *shadow_ring;
	/** Shadow endpoints the engine found down (lib/shadow; may be NULL):
	 * copies to them are counted, not written. */
	const struct gw_shadow_health *shadow_health;
	/** Keep mirrored hosts as they are (Envoy's
	 * disable_shadow_host_suffix_append); default: "-shadow" appended. */
	bool shadow_no_host_suffix;
	/** Istio request metrics, one sample per logged request (NULL: none);
	 * owned by the caller, written only by this proxy's worker. */
	struct gw_metrics_table *metrics;
};

/** Counters of one proxy (single writer: the worker). */
struct gw_http_proxy_stats {
	uint64_t connections;          /**< client connections accepted */
	uint64_t active;               /**< gauge: client connections now */
	uint64_t requests;             /**< request heads parsed */
	uint64_t responses;            /**< responses completed (proxied or local) */
	uint64_t responses_local;      /**< of those, produced by the gateway */
	uint64_t rq_2xx, rq_3xx, rq_4xx, rq_5xx;
	uint64_t no_route;             /**< 404 NR */
	uint64_t no_healthy_upstream;  /**< 503 UH */
	uint64_t upstream_failure;     /**< 502 UF */
	uint64_t upstream_timeout;     /**< 504 UT */
	uint64_t bad_request;          /**< parser rejections (4xx/5xx and close) */
	uint64_t bad_response;         /**< invalid response heads (502) */
	uint64_t upstream_connects;    /**< upstream connections opened */
	uint64_t upstream_reused;      /**< requests sent on a pooled connection */
	uint64_t upstream_idle;        /**< gauge: pooled idle connections */
	uint64_t upstream_idle_expired;/**< closed by the idle timeout */
	uint64_t upstream_max_requests;/**< closed at max requests per connection */
	uint64_t upstream_active;      /**< gauge: upstream connections now */
	uint64_t upstream_resets;      /**< upstream closed abnormally mid-exchange */
	uint64_t downstream_resets;    /**< client reset or truncated mid-exchange */
	uint64_t no_session;           /**< refused: every session in use */
	uint64_t no_upstream_slot;     /**< 503: every upstream slot in use */
	uint64_t bytes_received;       /**< request body bytes from clients */
	uint64_t bytes_sent;           /**< response body bytes to clients */
	uint64_t copied_bytes;         /**< head bytes written (rewritten heads, local responses) */
	uint64_t parser_copied_bytes;  /**< head bytes assembled across segments */
	uint64_t indirect_mbufs;       /**< body ranges forwarded by indirect mbuf */
	uint64_t send_blocked;         /**< sends deferred: the other side's queue was full */
	uint64_t accesslog_records;    /**< records queued for the control lcore */
	uint64_t accesslog_dropped;    /**< records dropped: ring full */
	uint64_t no_mbuf;              /**< allocation failures (session aborted) */
	uint64_t fault_aborts;         /**< fault.abort answered (FI) */
	uint64_t fault_delays;         /**< requests held by fault.delay (DI) */
	uint64_t direct_responses;     /**< directResponse answered */
	uint64_t redirects;            /**< redirect answered */
	uint64_t retries;              /**< requests sent again (retries) */
	uint64_t retries_exhausted;    /**< retriable failures with no try left (URX) */
	uint64_t per_try_timeouts;     /**< tries cut by perTryTimeout */
	uint64_t upstream_overflow;    /**< 503 UO: connectionPool limits reached */
	uint64_t upstream_pending;     /**< requests that waited for a connection */
	uint64_t request_too_large;    /**< 413: body beyond limits.request_body */
	uint64_t rewrite_too_long;     /**< uriRegexRewrite results over 8 KiB (path kept) */
	uint64_t mirror_requests;      /**< copies handed to the shadow engine */
	uint64_t mirror_dropped;       /**< copies lost on the worker (ring full, no mbuf, no endpoint) */
	uint64_t mirror_unavailable;   /**< copies not written: the engine found their endpoint down */
	uint64_t exchange_waits;       /**< a request waited for an exchange context (max_exchanges) */
};

/**
 * Where outlier detection reports go (docs/outlier-detection.md): called
 * on the worker when @p endpoint of @p cluster (indices in the snapshot
 * that snapshot() has just returned) reached a consecutive-error
 * threshold; @p kind is an enum gw_outlier_kind. Must not block: a full
 * queue drops the report (and counts it).
 */
typedef void (*gw_http_outlier_fn)(void *arg, uint32_t cluster,
				   uint32_t endpoint, uint8_t kind);

/**
 * Turn on outlier reports (NULL @p fn: off, the default). Call before the
 * worker runs. Without it, errors are neither counted nor reported, but
 * ejections published in the snapshot are still honoured.
 */
void gw_http_proxy_outlier_sink(struct gw_http_proxy *px, gw_http_outlier_fn fn,
				void *arg);

/** Create a worker's proxy. NULL with rte_errno set (EINVAL, ENOMEM). */
struct gw_http_proxy *gw_http_proxy_create(const struct gw_http_proxy_params *p);

/** Abort every connection, free the proxy (stack alive or already freed). NULL is fine. */
void gw_http_proxy_free(struct gw_http_proxy *px);

/** gw_tcp_listen(stack, ip, port) with the proxy's accept hook. 0, -EEXIST, -ENOSPC. */
int gw_http_proxy_listen(struct gw_http_proxy *px, uint32_t ip, uint16_t port);

/**
 * Advance the proxy's clock: route timeouts (504 UT), upstream connect
 * timeouts (502 UF), idle pool expiry. Call every loop with the time
 * given to gw_tcp_poll(); scans at most once per millisecond.
 */
void gw_http_proxy_poll(struct gw_http_proxy *px, uint64_t now_tsc);

/** The proxy's counters. */
const struct gw_http_proxy_stats *gw_http_proxy_stats(const struct gw_http_proxy *px);

/** A counter's name ("requests"; /stats prints "gateway.http.requests"). */
struct gw_http_proxy_counter {
	const char *name;
	size_t offset;
};

/** Every counter of struct gw_http_proxy_stats, in declaration order. */
extern const struct gw_http_proxy_counter gw_http_proxy_counters[];
extern const unsigned int gw_http_proxy_n_counters;

/** Add @p add's counters to @p sum. */
void gw_http_proxy_stats_add(struct gw_http_proxy_stats *sum,
			     const struct gw_http_proxy_stats *add);

/** The proxy's access-log ring (single consumer: the control lcore). */
struct rte_ring *gw_http_proxy_accesslog_ring(const struct gw_http_proxy *px);

/**
 * Control lcore: write every record waiting in @p ring to @p out in
 * Envoy's default format followed by the upstream cluster. Never blocks
 * on the ring. @return records written.
 */
unsigned int gw_http_accesslog_drain(struct rte_ring *ring, FILE *out);

#endif /* GW_HTTPPROXY_H */
