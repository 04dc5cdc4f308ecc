/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ROUTE_PRIVATE_H
#define ROUTE_PRIVATE_H

/*
 * Internals of lib/route shared by its files:
 *   route_util.c      arena, hash index
 *   route_build.c     snapshot build: tables, listeners, worker blocks
 *   route_vhost.c     a VirtualService's routes and match set
 *   route_cluster.c   clusters, endpoints, load balancers
 *   route_lookup.c    per-request lookup and endpoint choice
 *   route_describe.c  text dump for `gwctl describe route`
 *   route_tcp.c       TCP listeners and routes (VirtualService `tcp`)
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "gw_lb.h"
#include "gw_match.h"
#include "gw_model.h"
#include "gw_route.h"

#define RT_NONE UINT32_MAX
#define RT_CACHE_LINE 64

/* ---- arena: many small objects, one free ---- */

struct rt_arena_chunk {
	struct rt_arena_chunk *next;
	size_t used;
	size_t cap;
	_Alignas(16) unsigned char data[];
};

struct rt_arena {
	struct rt_arena_chunk *head;
	size_t total;
};

/* Zeroed, 16-byte aligned; NULL when out of memory. */
void *rt_arena_alloc(struct rt_arena *a, size_t size);
char *rt_arena_strdup(struct rt_arena *a, const char *s);
char *rt_arena_printf(struct rt_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rt_arena_free(struct rt_arena *a);

/* ---- hash index: element numbers by 64-bit hash ---- */

struct rt_hslot {
	uint64_t hash;
	uint32_t idx1; /* index + 1; 0 = free */
};

struct rt_hindex {
	struct rt_hslot *slots;
	uint32_t mask;
	uint32_t count;
};

uint64_t rt_hash(const char *s, size_t len);
uint32_t rt_hindex_find(const struct rt_hindex *h, uint64_t hash,
			int (*eq)(const void *ctx, uint32_t idx), const void *ctx);
int rt_hindex_add(struct rt_hindex *h, uint64_t hash, uint32_t idx);
void rt_hindex_free(struct rt_hindex *h);

/* Grow a malloc'd array of @p size-byte elements to hold @p need. */
int rt_grow(void **arr, uint32_t *cap, uint32_t need, size_t size);

/* ---- snapshot ---- */

struct rt_vhost {
	const char *name;
	uint32_t first_route;
	uint32_t n_routes;
	struct gw_match_set *match;
	const struct gw_model_resource *vs; /* NULL: a service's default */
	const char *service_host;           /* default vhosts: the service */
};

/* A domain of a table; wildcards "*.x.y" are stored as ".x.y". */
struct rt_domain {
	const char *key;
	uint32_t key_len;
	uint32_t vhost;
	uint8_t wildcard;
};

struct rt_table {
	uint16_t port;           /* Gateway port, 0 for the mesh table */
	struct rt_domain *domains;
	uint32_t n_domains, cap_domains;
	struct rt_hindex index;
	uint32_t n_wildcards;
	uint32_t star_vhost;     /* the "*" host, or RT_NONE */
};

struct rt_listener {
	uint32_t ip;
	uint16_t port;
	enum gw_route_listener_kind kind;
	uint32_t tables[2];      /* tried in order */
	uint32_t n_tables;
	uint32_t fallback_vhost; /* VIP listeners: the service, else RT_NONE */
	const char *name;
};

/* A TCP listener: its candidate routes in order, then a fallback. */
struct rt_tcp_listener {
	uint32_t ip;
	uint16_t port;
	enum gw_route_listener_kind kind;
	const char *name;
	uint32_t *routes;        /* ids in rt_tcp.routes, tried in order */
	uint32_t n_routes, cap_routes;
	uint32_t fallback;       /* VIP listeners: the service's route, else RT_NONE */
};

/* TCP listeners and routes (route_tcp.c). */
struct rt_tcp {
	struct rt_tcp_listener *listeners; /* sorted by port, then ip */
	uint32_t n_listeners, cap_listeners;
	struct gw_route_tcp *routes;
	uint32_t n_routes, cap_routes;
};

/*
 * What a lookup reads of a route, 32 bytes per route, indexed like
 * snap->routes: the usual route (one destination, no mirror, no fault)
 * is decided from this one line, and the lines the proxy reads next (the
 * route, its destinations, its policy) are prefetched rather than loaded
 * one after another (route -> destinations, route -> spec: at 10,000
 * routes each is a cache miss).
 */
struct rt_route_hot {
	const struct gw_http_route *spec;
	const struct gw_route_destination *destinations;
	uint32_t n_destinations;
	uint32_t cluster0;       /* destinations[0].cluster when there is one */
	uint32_t state_off;
	uint16_t n_mirrors;
	uint8_t has_fault;
};
_Static_assert(RT_CACHE_LINE % sizeof(struct rt_route_hot) == 0,
	       "a hot record must not straddle cache lines");

/* Longest raw authority the per-worker host cache keeps. */
#define RT_HOST_CACHE_MAX 48

/*
 * The last (listener address, raw authority) a worker looked up and what
 * it gave: a keep-alive connection, and most of a worker's traffic, sends
 * the same Host again and again, so a lookup compares a few bytes instead
 * of normalising, hashing and probing the domain table. It lives in the
 * worker's block of the snapshot, so a new snapshot starts it empty.
 */
struct rt_host_cache {
	const struct rt_listener *listener; /* NULL: empty */
	uint32_t ip;
	uint16_t port;
	uint16_t len;            /* of authority */
	uint32_t vhost;          /* may be RT_NONE: no virtual host */
	char authority[RT_HOST_CACHE_MAX];
};

/* One per worker, cache aligned; route and cluster state follow it. */
struct rt_worker {
	struct gw_lb_rng rng;
	struct rt_host_cache host;
	_Alignas(RT_CACHE_LINE) unsigned char data[];
};

struct gw_route_snapshot {
	struct rt_arena arena;
	struct rt_listener *listeners; /* sorted by port, then ip */
	uint32_t n_listeners, cap_listeners;
	struct rt_table *tables;
	uint32_t n_tables, cap_tables;
	struct rt_vhost *vhosts;
	uint32_t n_vhosts, cap_vhosts;
	struct gw_route *routes;
	uint32_t n_routes, cap_routes;
	struct rt_route_hot *route_hot; /* n_routes, filled last */
	struct gw_route_cluster *clusters;
	uint32_t n_clusters, cap_clusters;
	struct rt_hindex cluster_index; /* by name */
	const struct gw_model_resource **refs;
	uint32_t n_refs;
	uint32_t n_workers;
	struct rt_worker **workers;
	size_t worker_size;
	uint32_t state_size;           /* bytes of state per worker */
	enum gw_lb_weighted_mode weighted_mode;
	size_t memory;
	struct rt_tcp tcp;
};

/* Build-time context. */
struct rt_build {
	struct gw_route_snapshot *snap;
	const struct gw_model_store *store;
	const struct gw_route_build_params *params;
	char *err;
	size_t errlen;
	uint32_t *vs_vhost;            /* per VirtualService (store order) */
	uint32_t mesh_table;
};

/* Reserve @p size bytes (8-aligned) of per-worker state; its offset. */
uint32_t rt_state_reserve(struct rt_build *b, size_t size);

/* route_vhost.c: compile a VirtualService (store index @p i) once. */
int rt_vhost_for_vs(struct rt_build *b, uint32_t i, uint32_t *vhost);
/* A default vhost for a service host: one route to all its endpoints. */
int rt_vhost_for_service(struct rt_build *b, const struct gw_model_resource *se,
			 const char *host, uint32_t *vhost);

/*
 * route_cluster.c: the cluster for a destination, created once per
 * "outbound|PORT|SUBSET|HOST" name; the namespace of the first route
 * naming it picks the ServiceEntry and DestinationRule when several
 * namespaces define the host.
 */
int rt_cluster_get(struct rt_build *b, const struct gw_destination *dest,
		   const char *namespace, uint32_t *cluster);
/* Load balancers for every cluster, once all are known. */
int rt_clusters_finish(struct rt_build *b);
int rt_cluster_name_eq(const void *ctx, uint32_t idx);

/* route_build.c: which VirtualServices bind where (shared with route_tcp.c). */
bool rt_vs_on_mesh(const struct gw_vs *vs);
bool rt_vs_on_gateway(const struct gw_model_resource *vs,
		      const struct gw_model_resource *gw);
/* Does host pattern @p pattern ("*", "*.x", "a.x") cover @p name? */
bool rt_host_covers(const char *pattern, const char *name);
const char *rt_server_domain(const struct gw_model_resource *gw,
			     const char *server_host,
			     const struct gw_model_resource *vs,
			     const char *vs_host);

/*
 * route_tcp.c: TCP listeners (bootstrap TCP ports, Gateway TCP servers,
 * ServiceEntry VIP TCP ports) and their routes; runs after the HTTP
 * listeners exist and before the clusters' load balancers are built.
 */
int rt_tcp_build(struct rt_build *b);
void rt_tcp_free(struct gw_route_snapshot *snap);

/* route_lookup.c: table lookups shared with describe. */
uint32_t rt_table_find_vhost(const struct rt_table *t, const char *host,
			     uint32_t len);
/* Lower-case @p authority without its port into @p buf; length or -1. */
int rt_host_normalise(const char *authority, uint32_t len, char *buf,
		      uint32_t cap);

#endif /* ROUTE_PRIVATE_H */
