/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-request routing: listener, virtual host, match set, weighted
 * destination and mirrors; endpoint choice and request hashing. Nothing
 * here allocates or writes outside the calling worker's block.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "gw_common.h"
#include "route_private.h"

int
rt_host_normalise(const char *authority, uint32_t len, char *buf, uint32_t cap)
{
	uint32_t n = len, i;

	if (authority == NULL)
		return 0;
	if (len > 0 && authority[0] == '[') {
		/* "[v6]:port": keep the brackets, drop the port */
		const char *end = memchr(authority, ']', len);

		if (end != NULL)
			n = (uint32_t)(end - authority) + 1;
	} else {
		for (i = len; i > 0; i--) {
			char c = authority[i - 1];

			if (c == ':') {
				n = i - 1;
				break;
			}
			if (c < '0' || c > '9')
				break;
		}
	}
	/* a fully qualified "name." is the same host */
	if (n > 0 && authority[n - 1] == '.')
		n--;
	if (n >= cap)
		return -1;
	for (i = 0; i < n; i++) {
		char c = authority[i];

		buf[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
	}
	buf[n] = '\0';
	return (int)n;
}

static const struct rt_listener *
listener_find(const struct gw_route_snapshot *snap, uint32_t ip, uint16_t port)
{
	uint32_t lo = 0, hi = snap->n_listeners;
	const struct rt_listener *l;

	/* sorted by (port, ip): the port's entries are adjacent, ip 0 first */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		l = &snap->listeners[mid];
		if (l->port < port || (l->port == port && l->ip < ip))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < snap->n_listeners && snap->listeners[lo].port == port &&
	    snap->listeners[lo].ip == ip)
		return &snap->listeners[lo];
	/* not a VIP: the port's "any address" listener, if there is one */
	if (ip != 0)
		return listener_find(snap, 0, port);
	return NULL;
}

/*
 * The listener and virtual host of (address, raw authority): from the
 * worker's cache when it holds them, else found and remembered. NULL
 * when nothing listens there.
 */
static const struct rt_listener *
host_route(const struct gw_route_snapshot *snap, struct rt_worker *w,
	   const struct gw_route_request *req, uint32_t *vhost)
{
	struct rt_host_cache *c = &w->host;
	const char *auth = req->http.authority;
	uint32_t alen = auth != NULL ? req->http.authority_len : 0, v = RT_NONE, t;
	const struct rt_listener *l;
	char host[256];
	int len;

	if (GW_LIKELY(c->listener != NULL && c->len == alen &&
		      c->ip == req->listener_ip &&
		      c->port == req->listener_port &&
		      gw_bytes_eq(c->authority, auth, alen))) {
		*vhost = c->vhost;
		return c->listener;
	}
	l = listener_find(snap, req->listener_ip, req->listener_port);
	if (l == NULL)
		return NULL;
	len = rt_host_normalise(auth, alen, host, sizeof(host));
	for (t = 0; len >= 0 && t < l->n_tables && v == RT_NONE; t++)
		v = rt_table_find_vhost(&snap->tables[l->tables[t]], host,
					(uint32_t)len);
	if (v == RT_NONE)
		v = l->fallback_vhost;
	if (alen <= RT_HOST_CACHE_MAX) {
		c->listener = l;
		c->ip = req->listener_ip;
		c->port = req->listener_port;
		c->len = (uint16_t)alen;
		c->vhost = v;
		if (alen > 0)
			memcpy(c->authority, auth, alen);
	}
	*vhost = v;
	return l;
}

static inline unsigned char *
worker_state(const struct gw_route_snapshot *snap, unsigned int worker,
	     uint32_t off)
{
	return snap->workers[worker]->data + off;
}

int
gw_route_lookup(const struct gw_route_snapshot *snap, unsigned int worker_id,
		const struct gw_route_request *req, struct gw_route_result *out)
{
	const struct rt_listener *l;
	const struct rt_vhost *vh;
	const struct rt_route_hot *h;
	const struct gw_route *r;
	struct rt_worker *w = snap->workers[worker_id];
	uint32_t v, i, id;
	unsigned char *state;
	int local;

	out->status = GW_ROUTE_OK;
	out->route = NULL;
	out->destination = -1;
	out->cluster = GW_ROUTE_NO_CLUSTER;
	out->n_mirrors = 0;
	out->fault_delay = false;
	out->fault_abort = false;

	l = host_route(snap, w, req, &v);
	if (l == NULL) {
		out->status = GW_ROUTE_NO_LISTENER;
		return -ENOENT;
	}
	if (v == RT_NONE) {
		out->status = GW_ROUTE_NO_VHOST;
		return -ENOENT;
	}
	vh = &snap->vhosts[v];
	if (vh->match != NULL && req->http.port == 0) {
		/* Istio's match.port is the port the request arrived on */
		struct gw_match_request http = req->http;

		http.port = req->listener_port;
		local = gw_match_set_eval(vh->match, worker_id, &http);
	} else if (vh->match != NULL) {
		local = gw_match_set_eval(vh->match, worker_id, &req->http);
	} else
		local = vh->n_routes > 0 ? 0 : -1; /* first route takes all */
	if (local < 0) {
		out->status = GW_ROUTE_NO_MATCH;
		return -ENOENT;
	}
	id = vh->first_route + (uint32_t)local;
	h = &snap->route_hot[id];
	r = &snap->routes[id];
	out->route = r;
	/*
	 * The caller reads the route, its destination and its policy next:
	 * start those loads together now rather than one after another.
	 */
	__builtin_prefetch(r);
	__builtin_prefetch((const char *)r + sizeof(*r) - 1);
	__builtin_prefetch(h->destinations);
	if (h->spec != NULL) {
		__builtin_prefetch(&h->spec->has_redirect);
		__builtin_prefetch(&h->spec->timeout_us);
		__builtin_prefetch(&h->spec->headers);
	}
	state = w->data + h->state_off;
	if (h->n_destinations == 1) {
		out->destination = 0;
	} else if (h->n_destinations > 1) {
		out->destination = snap->weighted_mode == GW_LB_WEIGHTED_RANDOM ?
			gw_lb_weighted_random_pick(r->weights, h->n_destinations,
						   &w->rng) :
			gw_lb_swrr_pick(r->weights, (int64_t *)state,
					h->n_destinations);
		state += h->n_destinations * sizeof(int64_t);
	}
	if (out->destination == 0)
		out->cluster = h->cluster0;
	else if (out->destination > 0)
		out->cluster = h->destinations[out->destination].cluster;
	for (i = 0; i < h->n_mirrors; i++) {
		uint32_t *acc = (uint32_t *)state + i;

		if (gw_lb_percent_sample(r->mirrors[i].ppm, acc))
			out->mirror_clusters[out->n_mirrors++] = r->mirrors[i].cluster;
	}
	if (h->has_fault) {
		/* exact shares, like the weights: 10% is every 10th request */
		uint32_t *acc = (uint32_t *)state + r->n_mirrors;
		const struct gw_fault *f = &r->spec->fault;

		out->fault_delay = f->has_delay &&
			gw_lb_percent_sample(f->delay.ppm, &acc[0]);
		out->fault_abort = f->has_abort &&
			gw_lb_percent_sample(f->abort.ppm, &acc[1]);
	}
	return 0;
}

/* First header named @p name (case-insensitive), or NULL. */
static const struct gw_match_header *
header_find(const struct gw_match_request *req, const char *name)
{
	size_t len = strlen(name);
	uint32_t i;

	for (i = 0; i < req->n_headers; i++)
		if (req->headers[i].name_len == len &&
		    strncasecmp(req->headers[i].name, name, len) == 0)
			return &req->headers[i];
	return NULL;
}

/* Value of cookie @p name in the Cookie headers ("a=1; b=2"). */
static int
cookie_find(const struct gw_match_request *req, const char *name,
	    const char **value, uint32_t *vlen)
{
	size_t nlen = strlen(name);
	uint32_t i;

	for (i = 0; i < req->n_headers; i++) {
		const struct gw_match_header *h = &req->headers[i];
		const char *p = h->value, *end = h->value + h->value_len;

		if (h->name_len != 6 || strncasecmp(h->name, "cookie", 6) != 0)
			continue;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			const char *stop = semi ? semi : end;

			while (p < stop && (*p == ' ' || *p == '\t'))
				p++;
			if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0 &&
			    p[nlen] == '=') {
				*value = p + nlen + 1;
				*vlen = (uint32_t)(stop - *value);
				return 0;
			}
			p = stop + 1;
		}
	}
	return -ENOENT;
}

/* Raw value of query parameter @p name in the path, first occurrence. */
static int
query_find(const struct gw_match_request *req, const char *name,
	   const char **value, uint32_t *vlen)
{
	const char *q, *end, *p;
	size_t nlen = strlen(name);

	if (req->path == NULL)
		return -ENOENT;
	q = memchr(req->path, '?', req->path_len);
	if (q == NULL)
		return -ENOENT;
	end = req->path + req->path_len;
	for (p = q + 1; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;

		if ((size_t)(stop - p) >= nlen && memcmp(p, name, nlen) == 0 &&
		    (p + nlen == stop || p[nlen] == '=')) {
			*value = p + nlen == stop ? stop : p + nlen + 1;
			*vlen = (uint32_t)(stop - *value);
			return 0;
		}
		p = stop + 1;
	}
	return -ENOENT;
}

int
gw_route_request_hash(const struct gw_route_snapshot *snap, uint32_t cluster,
		      const struct gw_route_request *req, uint64_t *hash)
{
	const struct gw_route_cluster *c = &snap->clusters[cluster];
	const struct gw_match_header *h;
	const char *value;
	uint32_t vlen;

	switch (c->hash_key) {
	case GW_ROUTE_HASH_HEADER:
		h = header_find(&req->http, c->hash_name);
		if (h == NULL)
			return -ENOENT;
		*hash = gw_lb_hash64(h->value, h->value_len, 0);
		return 0;
	case GW_ROUTE_HASH_COOKIE:
		if (cookie_find(&req->http, c->hash_name, &value, &vlen) < 0)
			return -ENOENT;
		*hash = gw_lb_hash64(value, vlen, 0);
		return 0;
	case GW_ROUTE_HASH_SOURCE_IP:
		if (req->source_ip == 0)
			return -ENOENT;
		*hash = gw_lb_hash64(&req->source_ip, sizeof(req->source_ip), 0);
		return 0;
	case GW_ROUTE_HASH_QUERY_PARAM:
		if (query_find(&req->http, c->hash_name, &value, &vlen) < 0)
			return -ENOENT;
		*hash = gw_lb_hash64(value, vlen, 0);
		return 0;
	default:
		return -ENOENT;
	}
}

int
gw_route_pick_endpoint(const struct gw_route_snapshot *snap,
		       unsigned int worker_id, uint32_t cluster,
		       const struct gw_route_request *req,
		       const uint64_t *healthy, const uint32_t *active)
{
	const struct gw_route_cluster *c;
	struct rt_worker *w = snap->workers[worker_id];
	uint64_t hash = 0;

	if (cluster >= snap->n_clusters)
		return -1;
	c = &snap->clusters[cluster];
	if (c->lb_policy == GW_LB_MAGLEV || c->lb_policy == GW_LB_RING_HASH) {
		/* without the key the request lands anywhere (Envoy) */
		if (req == NULL || gw_route_request_hash(snap, cluster, req, &hash) < 0)
			hash = gw_lb_rng_next(&w->rng);
	}
	return gw_lb_set_pick(c->lb,
			      (struct gw_lb_state *)worker_state(snap, worker_id,
								 c->lb_state_off),
			      &w->rng, hash, healthy, active);
}

/* ---- outlier detection ---- */

const uint64_t *
gw_route_cluster_health(const struct gw_route_snapshot *snap, uint32_t cluster)
{
	return cluster < snap->n_clusters ? snap->clusters[cluster].health : NULL;
}

int
gw_route_cluster_health_store(struct gw_route_snapshot *snap, uint32_t cluster,
			      uint32_t word, uint64_t bits)
{
	const struct gw_route_cluster *c;
	uint32_t n;

	if (cluster >= snap->n_clusters)
		return -ENOENT;
	c = &snap->clusters[cluster];
	n = c->n_endpoints;
	if (c->health == NULL || word >= (n + 63) / 64)
		return -ENOENT;
	if (word == n / 64 && n % 64 != 0)
		bits &= (1ULL << (n % 64)) - 1;
	/* workers read the words concurrently: whole-word stores only */
	__atomic_store_n(&c->health[word], bits, __ATOMIC_RELAXED);
	return 0;
}

uint32_t *
gw_route_outlier_counters(const struct gw_route_snapshot *snap,
			  unsigned int worker_id, uint32_t cluster)
{
	if (cluster >= snap->n_clusters || snap->clusters[cluster].health == NULL ||
	    worker_id >= snap->n_workers)
		return NULL;
	return (uint32_t *)worker_state(snap, worker_id,
					snap->clusters[cluster].outlier_state_off);
}

/* ---- read-only views ---- */

uint32_t
gw_route_snapshot_route_count(const struct gw_route_snapshot *snap)
{
	return snap->n_routes;
}

const struct gw_route *
gw_route_snapshot_route(const struct gw_route_snapshot *snap, uint32_t id)
{
	return id < snap->n_routes ? &snap->routes[id] : NULL;
}

uint32_t
gw_route_snapshot_cluster_count(const struct gw_route_snapshot *snap)
{
	return snap->n_clusters;
}

const struct gw_route_cluster *
gw_route_snapshot_cluster(const struct gw_route_snapshot *snap, uint32_t id)
{
	return id < snap->n_clusters ? &snap->clusters[id] : NULL;
}

const struct gw_route_cluster *
gw_route_snapshot_cluster_find(const struct gw_route_snapshot *snap,
			       const char *name)
{
	const void *key[2] = {snap, name};
	uint32_t id = rt_hindex_find(&snap->cluster_index,
				     rt_hash(name, strlen(name)),
				     rt_cluster_name_eq, key);

	return id == RT_NONE ? NULL : &snap->clusters[id];
}

uint32_t
gw_route_snapshot_listener_count(const struct gw_route_snapshot *snap)
{
	return snap->n_listeners;
}

int
gw_route_snapshot_listener(const struct gw_route_snapshot *snap, uint32_t i,
			   struct gw_route_listener_info *info)
{
	if (i >= snap->n_listeners)
		return -ENOENT;
	info->ip = snap->listeners[i].ip;
	info->port = snap->listeners[i].port;
	info->kind = snap->listeners[i].kind;
	info->name = snap->listeners[i].name;
	return 0;
}

uint32_t
gw_route_snapshot_vhost_count(const struct gw_route_snapshot *snap)
{
	return snap->n_vhosts;
}

size_t
gw_route_snapshot_memory(const struct gw_route_snapshot *snap)
{
	return snap->memory;
}

const char *
gw_route_status_name(enum gw_route_status status)
{
	switch (status) {
	case GW_ROUTE_OK:          return "OK";
	case GW_ROUTE_NO_LISTENER: return "NO_LISTENER";
	case GW_ROUTE_NO_VHOST:    return "NO_VHOST";
	case GW_ROUTE_NO_MATCH:    return "NO_MATCH";
	}
	return "?";
}

void *
gw_route_regex_scratch(const struct gw_route_snapshot *snap,
		       unsigned int worker_id, const struct gw_route *route)
{
	if (route->uri_regex == NULL)
		return NULL;
	return worker_state(snap, worker_id, route->regex_scratch_off);
}
