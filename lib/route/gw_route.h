/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_ROUTE_H
#define GW_ROUTE_H

/**
 * @file
 * The compiled routing snapshot: everything a worker needs to route a
 * request, built from the model store on the control lcore, immutable
 * once built, published by pointer and freed after a grace period.
 *
 * Structure:
 *
 *     listener (ip:port) -> route table(s) -> virtual host (by Host)
 *         -> ordered routes (one Hyperscan match set per virtual host)
 *         -> weighted destinations -> cluster (host|subset|port)
 *         -> endpoints and their load balancer
 *
 * - Listeners: the bootstrap listener ports (any address), one per
 *   ServiceEntry VIP and HTTP port, one per Gateway server port. TCP
 *   listeners are a separate set (gw_route_tcp_lookup()).
 * - The mesh table (bootstrap and VIP listeners) holds every
 *   VirtualService without `gateways` (or naming `mesh`), then a default
 *   virtual host for every ServiceEntry host no VirtualService claims: one
 *   route to all of the service's endpoints. A Gateway port's table holds
 *   the VirtualServices bound to a Gateway with a server on that port, for
 *   the hosts the server accepts. On a port that is both a bootstrap and a
 *   Gateway port, the Gateway table is tried first.
 * - Virtual hosts by Host/`:authority`, port stripped, case-insensitive:
 *   exact names, then suffix wildcards (`*.example.com`, longest first),
 *   then `*`. A VIP listener falls back to its service when the Host names
 *   nothing. The first VirtualService (in namespace/name order) claiming a
 *   host on a table wins it.
 * - Destinations without a port use the service's only port, else its
 *   first one.
 *
 * Per-worker mutable state (smooth weighted round robin counters, exact
 * percentage accumulators, round robin cursors, a PRNG) lives in one
 * cache-aligned block per worker inside the snapshot: a worker writes only
 * its own block, and a lookup allocates nothing.
 *
 * The snapshot holds a reference on every model resource it was built
 * from, so the raw policy pointers (`spec`) stay valid until
 * gw_route_snapshot_free(), whatever the store does meanwhile. Build and
 * free on the control lcore only. No EAL needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_lb.h"
#include "gw_match.h"
#include "gw_model.h"

struct gw_regex;

/** Mirrors per route that a lookup can report. */
#define GW_ROUTE_MAX_MIRRORS 8
/** "No cluster": routes that redirect or answer directly. */
#define GW_ROUTE_NO_CLUSTER UINT32_MAX

struct gw_route_snapshot;

/** Protocol of a bootstrap listener (`listeners[].protocol`). */
enum gw_route_protocol {
	GW_ROUTE_PROTOCOL_HTTP = 0,
	GW_ROUTE_PROTOCOL_TCP,
};

/** Build parameters. */
struct gw_route_build_params {
	const uint16_t *listener_ports;  /**< bootstrap listener ports */
	uint32_t n_listener_ports;
	uint32_t n_workers;              /**< >= 1 */
	/** choice among a route's weighted destinations (default: smooth) */
	enum gw_lb_weighted_mode weighted_mode;
	uint64_t seed;                   /**< seeds the per-worker PRNGs */
	/**
	 * Protocol of each bootstrap listener, parallel to listener_ports;
	 * NULL: all HTTP. A TCP port gets a TCP listener (see
	 * gw_route_tcp_lookup()) and no HTTP one.
	 */
	const enum gw_route_protocol *listener_protocols;
};

/** Where a listener comes from. */
enum gw_route_listener_kind {
	GW_ROUTE_LISTENER_BOOTSTRAP = 0,
	GW_ROUTE_LISTENER_VIP,      /**< a ServiceEntry address and HTTP port */
	GW_ROUTE_LISTENER_GATEWAY,  /**< a Gateway server */
};

/** A listener as the port module needs to know it. */
struct gw_route_listener_info {
	uint32_t ip;     /**< network byte order; 0 = any local address */
	uint16_t port;
	enum gw_route_listener_kind kind;
	const char *name; /**< e.g. "0.0.0.0:8000", "10.0.0.10:8000 (httpbin)" */
};

/** One endpoint of a cluster. */
struct gw_route_endpoint {
	uint8_t family;             /**< AF_INET or AF_INET6 */
	union {
		uint32_t v4;        /**< network byte order */
		uint8_t v6[16];
	} addr;
	uint16_t port;              /**< the workload's port for the service port */
	uint32_t weight;            /**< >= 1 */
	const char *address;        /**< as written */
	const struct gw_kv *labels; /**< the workload's labels */
	uint32_t n_labels;
};

/** What a consistent hash is computed on (DestinationRule consistentHash). */
enum gw_route_hash_key {
	GW_ROUTE_HASH_NONE = 0,
	GW_ROUTE_HASH_HEADER,
	GW_ROUTE_HASH_COOKIE,
	GW_ROUTE_HASH_SOURCE_IP,
	GW_ROUTE_HASH_QUERY_PARAM,
};

/** An upstream cluster: a service host, a subset and a port. */
struct gw_route_cluster {
	uint32_t id;
	const char *name;           /**< Envoy's "outbound|PORT|SUBSET|HOST" */
	uint32_t name_len;          /**< strlen(name) */
	const char *host;
	const char *subset;         /**< NULL: every endpoint of the service */
	uint16_t port;              /**< service port; 0 when unknown */
	bool service_found;         /**< a ServiceEntry lists the host */
	bool subset_found;          /**< subset NULL or defined by a DestinationRule */
	uint32_t n_endpoints;
	const struct gw_route_endpoint *endpoints;
	enum gw_lb_algorithm lb_policy;
	enum gw_route_hash_key hash_key;
	const char *hash_name;      /**< header, cookie or query parameter name */
	/** Effective DestinationRule policies (subset over port over rule), NULL when none. */
	const struct gw_connection_pool *connection_pool;
	const struct gw_outlier_detection *outlier_detection;
	/* private */
	const struct gw_lb_policy *lb_spec; /* the DestinationRule's, or NULL */
	struct gw_lb_set *lb;
	uint32_t lb_state_off;
	/* outlier detection (lib/outlier), NULL/0 without it */
	uint64_t *health;           /* bit set = usable; control lcore writes */
	uint32_t outlier_state_off; /* per worker: 2 counters per endpoint */
};

/** A weighted destination of a route. */
struct gw_route_destination {
	uint32_t cluster;
	uint32_t weight;
	const struct gw_headers *headers; /**< per-destination header ops, or NULL */
};

/** A mirror target of a route. */
struct gw_route_mirror {
	uint32_t cluster;
	uint32_t ppm;               /**< share of requests mirrored */
};

/** A compiled route. */
struct gw_route {
	uint32_t id;
	const char *vhost;          /**< its virtual host's name */
	const char *vs_namespace;   /**< NULL for a service's default route */
	const char *vs_name;
	uint32_t http_index;        /**< position in the VirtualService's http list */
	const char *name;           /**< the route's name, or NULL */
	/** Raw policy fields (timeout, retries, fault, redirect,
	 * directResponse, rewrite, headers, corsPolicy); NULL for a default route. */
	const struct gw_http_route *spec;
	uint32_t n_destinations;
	const struct gw_route_destination *destinations;
	uint32_t n_mirrors;
	uint32_t mirror_key_len;    /**< strlen(mirror_key), 0 without */
	const struct gw_route_mirror *mirrors;
	/** "NAMESPACE/VIRTUALSERVICE/NAME-OR-INDEX", how the shadow's log and
	 * counters name a route with mirrors (NULL without): formatted once
	 * here rather than for each copy */
	const char *mirror_key;
	/** rewrite.uriRegexRewrite compiled (NULL without); its per-worker
	 * scratch: gw_route_regex_scratch() */
	const struct gw_regex *uri_regex;
	/* private */
	uint32_t regex_scratch_off;
	const uint32_t *weights;    /* destinations' weights, for the choice */
	uint32_t state_off;         /* of this route's state in a worker block */
};

/** The request fields routing reads; pointers are only read during calls. */
struct gw_route_request {
	uint32_t listener_ip;       /**< destination address, network byte order */
	uint16_t listener_port;
	uint32_t source_ip;         /**< client address, for consistent hashing */
	/** path, method, authority, scheme, headers; http.port 0 means listener_port */
	struct gw_match_request http;
};

/** Outcome of a lookup. */
enum gw_route_status {
	GW_ROUTE_OK = 0,
	GW_ROUTE_NO_LISTENER,       /**< nothing listens on ip:port */
	GW_ROUTE_NO_VHOST,          /**< the Host names no virtual host (404 NR) */
	GW_ROUTE_NO_MATCH,          /**< no route of the virtual host matches (404 NR) */
};

/** Result of gw_route_lookup(). */
struct gw_route_result {
	enum gw_route_status status;
	const struct gw_route *route;   /**< NULL unless GW_ROUTE_OK */
	int32_t destination;            /**< index in route->destinations, -1 if none */
	uint32_t cluster;               /**< its cluster, or GW_ROUTE_NO_CLUSTER */
	uint32_t n_mirrors;             /**< mirrors chosen for this request */
	uint32_t mirror_clusters[GW_ROUTE_MAX_MIRRORS];
	bool fault_delay;               /**< route->spec->fault.delay applies */
	bool fault_abort;               /**< route->spec->fault.abort applies */
};

/**
 * Build a snapshot of the store.
 *
 * @return the snapshot, or NULL with a message in @p err (a pattern
 *         Hyperscan rejects, naming the VirtualService and route; a bad
 *         Maglev table size; out of memory).
 */
struct gw_route_snapshot *
gw_route_snapshot_build(const struct gw_model_store *store,
			const struct gw_route_build_params *params,
			char *err, size_t errlen);

/** Free a snapshot no worker uses any more (NULL is fine). Control lcore only. */
void gw_route_snapshot_free(struct gw_route_snapshot *snap);

/**
 * Route a request: listener, virtual host, first matching route, then the
 * weighted destination and the mirror decisions, with the calling
 * worker's state.
 *
 * @param worker_id  the calling worker (< n_workers); never shared by two
 *                   threads at once
 * @return 0 with @p out filled, or -ENOENT when there is no route
 *         (out->status says why: 404 NR).
 */
int gw_route_lookup(const struct gw_route_snapshot *snap,
		    unsigned int worker_id,
		    const struct gw_route_request *req,
		    struct gw_route_result *out);

/**
 * Choose an endpoint of @p cluster with its DestinationRule load balancer.
 * Hash policies read their key (header, cookie, source address, query
 * parameter) from @p req; without it (or with @p req NULL) the choice is
 * random, as in Envoy.
 *
 * @param healthy  bitmap over the cluster's endpoints, bit set = usable;
 *                 NULL when all are
 * @param active   active requests per endpoint (LEAST_REQUEST), or NULL
 * @return endpoint index, or -1 when none is usable (503 UH).
 */
int gw_route_pick_endpoint(const struct gw_route_snapshot *snap,
			   unsigned int worker_id, uint32_t cluster,
			   const struct gw_route_request *req,
			   const uint64_t *healthy, const uint32_t *active);

/** Worker @p worker_id's scratch for @p route's uri_regex (gw_regex_match()). */
void *gw_route_regex_scratch(const struct gw_route_snapshot *snap,
			     unsigned int worker_id, const struct gw_route *route);

/* ---- outlier detection (lib/outlier, docs/outlier-detection.md) ---- */

/**
 * Health bitmap of @p cluster (bit i set = endpoint i usable), for
 * gw_route_pick_endpoint(); NULL when the cluster has no outlierDetection
 * (every endpoint usable). Built with every endpoint's bit set; the
 * control lcore updates whole words with gw_route_cluster_health_store()
 * while workers read them (relaxed loads).
 */
const uint64_t *gw_route_cluster_health(const struct gw_route_snapshot *snap,
					uint32_t cluster);

/**
 * Control lcore: store word @p word of @p cluster's health bitmap (an
 * atomic 64-bit store; bits beyond the endpoints are cleared).
 * @return 0, or -ENOENT when the cluster has no bitmap or @p word is out
 *         of range.
 */
int gw_route_cluster_health_store(struct gw_route_snapshot *snap,
				  uint32_t cluster, uint32_t word, uint64_t bits);

/**
 * Worker @p worker_id's consecutive-error counters of @p cluster: two per
 * endpoint ([2i] 5xx, [2i+1] gateway errors), zero when the snapshot is
 * built, written only by that worker. NULL when the cluster has no
 * outlierDetection.
 */
uint32_t *gw_route_outlier_counters(const struct gw_route_snapshot *snap,
				    unsigned int worker_id, uint32_t cluster);

/**
 * The consistent hash of @p req for @p cluster's hash policy.
 * @return 0 with *hash set, or -ENOENT when the policy hashes nothing or
 *         the request lacks the key.
 */
int gw_route_request_hash(const struct gw_route_snapshot *snap,
			  uint32_t cluster, const struct gw_route_request *req,
			  uint64_t *hash);

/* ---- read-only views (valid until gw_route_snapshot_free()) ---- */

/** Number of routes, default routes included. */
uint32_t gw_route_snapshot_route_count(const struct gw_route_snapshot *snap);
/** Route @p id (0 .. count-1), NULL when out of range. */
const struct gw_route *gw_route_snapshot_route(const struct gw_route_snapshot *snap,
					       uint32_t id);
/** Number of clusters. */
uint32_t gw_route_snapshot_cluster_count(const struct gw_route_snapshot *snap);
/** Cluster @p id (as in gw_route_result.cluster), NULL when out of range. */
const struct gw_route_cluster *
gw_route_snapshot_cluster(const struct gw_route_snapshot *snap, uint32_t id);
/** Cluster by its "outbound|PORT|SUBSET|HOST" name; NULL if absent. */
const struct gw_route_cluster *
gw_route_snapshot_cluster_find(const struct gw_route_snapshot *snap,
			       const char *name);
/** Number of listeners (bootstrap, VIP and Gateway). */
uint32_t gw_route_snapshot_listener_count(const struct gw_route_snapshot *snap);
/** Listener @p i, ordered by port then address; 0, or -ENOENT when out of range. */
int gw_route_snapshot_listener(const struct gw_route_snapshot *snap, uint32_t i,
			       struct gw_route_listener_info *info);
/** Virtual hosts in the snapshot. */
uint32_t gw_route_snapshot_vhost_count(const struct gw_route_snapshot *snap);
/** Bytes the snapshot owns: tables, match sets, LB tables, worker blocks. */
size_t gw_route_snapshot_memory(const struct gw_route_snapshot *snap);

/* ---- TCP (VirtualService `tcp` routes, L4 proxying) ---- */

/**
 * A compiled TCP route: one entry of a VirtualService's `tcp` list, or the
 * default route of a service VIP port that no VirtualService routes (all
 * of the service's endpoints).
 */
struct gw_route_tcp {
	uint32_t id;
	const char *vs_namespace;   /**< NULL for a service's default route */
	const char *vs_name;        /**< the VirtualService, or the service host */
	uint32_t tcp_index;         /**< position in the VirtualService's tcp list */
	const struct gw_tcp_route *spec; /**< NULL for a default route */
	uint32_t n_destinations;
	const struct gw_route_destination *destinations; /**< headers NULL */
	/* private */
	const uint32_t *weights;
	uint32_t state_off;
};

/** Result of gw_route_tcp_lookup(). */
struct gw_route_tcp_result {
	enum gw_route_status status;    /**< OK, NO_LISTENER or NO_MATCH */
	const struct gw_route_tcp *route; /**< NULL unless GW_ROUTE_OK */
	int32_t destination;            /**< index in route->destinations */
	uint32_t cluster;               /**< its cluster, or GW_ROUTE_NO_CLUSTER */
};

/**
 * Route a new TCP connection to @p listener_ip:@p listener_port (the
 * address and port the client connected to).
 *
 * TCP listeners are: bootstrap listeners with protocol TCP (any address),
 * Gateway servers with protocol TCP (any address), and each ServiceEntry
 * IPv4 address with a TCP port (a VIP; tried before the port's
 * any-address listener). An address and port that already carry an HTTP
 * listener get no TCP one.
 *
 * Candidate routes, in order, first match wins (Istio):
 * - Gateway server: the `tcp` routes of the VirtualServices bound to that
 *   Gateway whose hosts meet the server's hosts (store order);
 * - bootstrap listener: after those (when the port is both), the `tcp`
 *   routes of every VirtualService on the mesh (no `gateways`, or
 *   `mesh`), in namespace/name order;
 * - VIP listener: the `tcp` routes of the first VirtualService on the mesh
 *   whose hosts cover one of the service's hosts, then the service's
 *   default route (all its endpoints on that port).
 * A route matches when it has no `match`, or when one of its matches has
 * no `port` or the listener's port, and no `destinationSubnets` or one
 * containing @p listener_ip. The destination is chosen among the route's
 * weighted ones with the calling worker's state, as for HTTP.
 *
 * @return 0 with @p out filled, or -ENOENT (out->status: NO_LISTENER, or
 *         NO_MATCH when no route applies): refuse the connection.
 */
int gw_route_tcp_lookup(const struct gw_route_snapshot *snap,
			unsigned int worker_id, uint32_t listener_ip,
			uint16_t listener_port,
			struct gw_route_tcp_result *out);

/** Number of TCP listeners. */
uint32_t gw_route_snapshot_tcp_listener_count(const struct gw_route_snapshot *snap);
/** TCP listener @p i, ordered by port then address; 0, or -ENOENT when out of range. */
int gw_route_snapshot_tcp_listener(const struct gw_route_snapshot *snap,
				   uint32_t i, struct gw_route_listener_info *info);
/** Number of TCP routes, default routes included. */
uint32_t gw_route_snapshot_tcp_route_count(const struct gw_route_snapshot *snap);
/** TCP route @p id, NULL when out of range. */
const struct gw_route_tcp *
gw_route_snapshot_tcp_route(const struct gw_route_snapshot *snap, uint32_t id);

/**
 * Text for `gwctl describe route HOST`: for each listener whose tables
 * resolve @p host, the virtual host, its routes in order (matches,
 * weighted destinations, mirrors with percentages, policies), then each
 * cluster used with its load balancer and endpoints (address, weight,
 * labels). *out is malloc'd and NUL-terminated; the caller frees it.
 *
 * @return 0, -ENOENT when no listener resolves @p host (*out then holds a
 *         one-line explanation), or -ENOMEM.
 */
int gw_route_snapshot_describe(const struct gw_route_snapshot *snap,
			       const char *host, char **out, size_t *len);

/** Name of a status ("OK", "NO_LISTENER", "NO_VHOST", "NO_MATCH"). */
const char *gw_route_status_name(enum gw_route_status status);

#endif /* GW_ROUTE_H */
