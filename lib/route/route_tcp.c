/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP listeners and routes: bootstrap TCP ports, Gateway TCP servers and
 * ServiceEntry VIP TCP ports, each with an ordered list of compiled
 * VirtualService `tcp` routes (each VirtualService compiled once, shared by
 * every listener that uses it) and, on a VIP, the service's default route.
 * A connection is routed once, at accept: the first route whose L4 match
 * holds gives the weighted destination cluster.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "gw_common.h"
#include "route_private.h"

/* Build context: the store index of each VirtualService's first TCP route. */
struct tcp_build {
	struct rt_build *b;
	uint32_t *vs_first;    /* per VirtualService, RT_NONE until compiled */
	uint32_t n_vs;
};

/* Is @p port a TCP port by protocol, or by Istio's name convention? */
static bool
port_is_tcp(const struct gw_service_port *p)
{
	if (p->proto == GW_MODEL_PROTOCOL_TCP)
		return true;
	return p->proto == GW_MODEL_PROTOCOL_UNSET && p->name != NULL &&
	       strncasecmp(p->name, "tcp", 3) == 0 &&
	       (p->name[3] == '\0' || p->name[3] == '-');
}

/* Can route @p t match a connection to @p port (any address)? */
static bool
route_port_ok(const struct gw_tcp_route *t, uint16_t port)
{
	uint32_t i;

	if (t == NULL || t->n_matches == 0)
		return true;
	for (i = 0; i < t->n_matches; i++)
		if (t->matches[i].port == 0 || t->matches[i].port == port)
			return true;
	return false;
}

static bool
subnets_contain(const struct gw_tcp_match *m, uint32_t ip)
{
	uint32_t i, mask;

	if (m->n_destination_subnets == 0)
		return true;
	for (i = 0; i < m->n_destination_subnets; i++) {
		const struct gw_ip_prefix *p = &m->destination_subnets[i];

		if (p->family != AF_INET)
			continue;
		mask = p->prefix_len == 0 ? 0 :
		       htonl(~0u << (32 - (p->prefix_len > 32 ? 32 : p->prefix_len)));
		if ((ip & mask) == (p->addr.v4 & mask))
			return true;
	}
	return false;
}

/* Does route @p t match a connection to @p ip:@p port? */
static bool
route_matches(const struct gw_tcp_route *t, uint32_t ip, uint16_t port)
{
	uint32_t i;

	if (t == NULL || t->n_matches == 0)
		return true;
	for (i = 0; i < t->n_matches; i++) {
		const struct gw_tcp_match *m = &t->matches[i];

		if ((m->port == 0 || m->port == port) && subnets_contain(m, ip))
			return true;
	}
	return false;
}

/* ---- build ---- */

static int
route_new(struct rt_build *b, uint32_t *id)
{
	struct rt_tcp *tcp = &b->snap->tcp;

	if (rt_grow((void **)&tcp->routes, &tcp->cap_routes, tcp->n_routes + 1,
		    sizeof(*tcp->routes)) < 0)
		return -ENOMEM;
	memset(&tcp->routes[tcp->n_routes], 0, sizeof(*tcp->routes));
	tcp->routes[tcp->n_routes].id = tcp->n_routes;
	*id = tcp->n_routes++;
	return 0;
}

/* Destinations, weights and per-worker SWRR state of route @p id. */
static int
route_fill(struct rt_build *b, uint32_t id, const struct gw_tcp_destination *td,
	   uint32_t n, const char *namespace)
{
	struct gw_route_snapshot *snap = b->snap;
	struct gw_route_destination *dests;
	uint32_t *weights;
	uint32_t i, cluster;
	int rc;

	dests = rt_arena_alloc(&snap->arena, n * sizeof(*dests));
	weights = rt_arena_alloc(&snap->arena, n * sizeof(*weights));
	if (dests == NULL || weights == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = rt_cluster_get(b, &td[i].destination, namespace, &cluster);
		if (rc < 0)
			return rc;
		dests[i].cluster = cluster;
		/* a single destination takes everything, whatever its weight */
		dests[i].weight = n == 1 ? 100 : td[i].weight;
		weights[i] = dests[i].weight;
	}
	/* rt_cluster_get may have grown the array: index again */
	snap->tcp.routes[id].destinations = dests;
	snap->tcp.routes[id].weights = weights;
	snap->tcp.routes[id].n_destinations = n;
	snap->tcp.routes[id].state_off = n > 1 ?
		rt_state_reserve(b, n * sizeof(int64_t)) : 0;
	return 0;
}

/* Compile the `tcp` routes of VirtualService @p i (store order) once. */
static int
vs_routes(struct tcp_build *tb, uint32_t i, uint32_t *first)
{
	struct rt_build *b = tb->b;
	const struct gw_model_resource *res;
	const struct gw_vs *vs;
	uint32_t r, id;
	int rc;

	if (tb->vs_first[i] != RT_NONE) {
		*first = tb->vs_first[i];
		return 0;
	}
	res = gw_model_store_at(b->store, GW_MODEL_KIND_VIRTUAL_SERVICE, i);
	vs = res->spec.vs;
	*first = b->snap->tcp.n_routes;
	for (r = 0; r < vs->n_tcp; r++) {
		struct gw_route_tcp *rt;

		rc = route_new(b, &id);
		if (rc < 0)
			return rc;
		rt = &b->snap->tcp.routes[id];
		rt->vs_namespace = res->meta.namespace;
		rt->vs_name = res->meta.name;
		rt->tcp_index = r;
		rt->spec = &vs->tcp[r];
		rc = route_fill(b, id, vs->tcp[r].route, vs->tcp[r].n_route,
				res->meta.namespace);
		if (rc < 0)
			return rc;
	}
	tb->vs_first[i] = *first;
	return 0;
}

/* The default route of service @p host on @p port: all its endpoints. */
static int
service_route(struct rt_build *b, const struct gw_model_resource *se,
	      const char *host, uint16_t port, uint32_t *out)
{
	struct gw_tcp_destination td = {
		.destination = {.host = host, .port = port},
		.weight = 100,
	};
	uint32_t id;
	int rc;

	rc = route_new(b, &id);
	if (rc < 0)
		return rc;
	b->snap->tcp.routes[id].vs_name = host;
	rc = route_fill(b, id, &td, 1, se->meta.namespace);
	if (rc < 0)
		return rc;
	*out = id;
	return 0;
}

static bool
http_listener_exists(const struct gw_route_snapshot *snap, uint32_t ip,
		     uint16_t port)
{
	uint32_t i;

	for (i = 0; i < snap->n_listeners; i++)
		if (snap->listeners[i].ip == ip && snap->listeners[i].port == port)
			return true;
	return false;
}

/*
 * The TCP listener on @p ip:@p port: the existing one (*created false) or
 * a new one. *listener is RT_NONE when an HTTP listener holds the address.
 */
static int
listener_get(struct rt_build *b, uint32_t ip, uint16_t port,
	     enum gw_route_listener_kind kind, const char *what,
	     uint32_t *listener, bool *created)
{
	struct rt_tcp *tcp = &b->snap->tcp;
	struct rt_tcp_listener *l;
	char addr[INET_ADDRSTRLEN];
	uint32_t i;

	*created = false;
	*listener = RT_NONE;
	if (http_listener_exists(b->snap, ip, port))
		return 0;
	for (i = 0; i < tcp->n_listeners; i++)
		if (tcp->listeners[i].ip == ip && tcp->listeners[i].port == port) {
			*listener = i;
			return 0;
		}
	if (rt_grow((void **)&tcp->listeners, &tcp->cap_listeners,
		    tcp->n_listeners + 1, sizeof(*tcp->listeners)) < 0)
		return -ENOMEM;
	l = &tcp->listeners[tcp->n_listeners];
	memset(l, 0, sizeof(*l));
	l->ip = ip;
	l->port = port;
	l->kind = kind;
	l->fallback = RT_NONE;
	inet_ntop(AF_INET, &ip, addr, sizeof(addr));
	l->name = rt_arena_printf(&b->snap->arena, "%s:%u (tcp%s%s)", addr, port,
				  what ? ", " : "", what ? what : "");
	if (l->name == NULL)
		return -ENOMEM;
	*listener = tcp->n_listeners++;
	*created = true;
	return 0;
}

/* Append the routes of VirtualService @p i that can match @p listener's port. */
static int
listener_add_vs(struct tcp_build *tb, uint32_t listener, uint32_t i)
{
	struct rt_tcp *tcp = &tb->b->snap->tcp;
	const struct gw_model_resource *res =
		gw_model_store_at(tb->b->store, GW_MODEL_KIND_VIRTUAL_SERVICE, i);
	struct rt_tcp_listener *l;
	uint32_t first, r;
	int rc;

	rc = vs_routes(tb, i, &first);
	if (rc < 0)
		return rc;
	l = &tcp->listeners[listener];
	for (r = 0; r < res->spec.vs->n_tcp; r++) {
		if (!route_port_ok(&res->spec.vs->tcp[r], l->port))
			continue;
		if (rt_grow((void **)&l->routes, &l->cap_routes, l->n_routes + 1,
			    sizeof(*l->routes)) < 0)
			return -ENOMEM;
		l->routes[l->n_routes++] = first + r;
	}
	return 0;
}

/* Do a VirtualService's hosts meet a Gateway server's hosts? */
static bool
vs_on_server(const struct gw_model_resource *gw,
	     const struct gw_gateway_server *srv,
	     const struct gw_model_resource *vs)
{
	uint32_t h, sh;

	for (h = 0; h < vs->spec.vs->n_hosts; h++)
		for (sh = 0; sh < srv->n_hosts; sh++)
			if (rt_server_domain(gw, srv->hosts[sh], vs,
					     vs->spec.vs->hosts[h]) != NULL)
				return true;
	return false;
}

static int
build_gateway_listeners(struct tcp_build *tb)
{
	struct rt_build *b = tb->b;
	uint32_t n_gw = gw_model_store_count(b->store, GW_MODEL_KIND_GATEWAY);
	uint32_t g, s, i, l;
	bool created;
	int rc = 0;

	for (g = 0; g < n_gw && rc == 0; g++) {
		const struct gw_model_resource *gw =
			gw_model_store_at(b->store, GW_MODEL_KIND_GATEWAY, g);

		for (s = 0; s < gw->spec.gateway->n_servers && rc == 0; s++) {
			const struct gw_gateway_server *srv =
				&gw->spec.gateway->servers[s];

			if (srv->proto != GW_MODEL_PROTOCOL_TCP)
				continue;
			rc = listener_get(b, 0, srv->port, GW_ROUTE_LISTENER_GATEWAY,
					  "gateway", &l, &created);
			for (i = 0; i < tb->n_vs && rc == 0 && l != RT_NONE; i++) {
				const struct gw_model_resource *vs = gw_model_store_at(
					b->store, GW_MODEL_KIND_VIRTUAL_SERVICE, i);

				if (vs->spec.vs->n_tcp == 0 ||
				    !rt_vs_on_gateway(vs, gw) ||
				    !vs_on_server(gw, srv, vs))
					continue;
				rc = listener_add_vs(tb, l, i);
			}
		}
	}
	return rc;
}

static int
build_bootstrap_listeners(struct tcp_build *tb)
{
	struct rt_build *b = tb->b;
	const struct gw_route_build_params *p = b->params;
	uint32_t k, i, l;
	bool created;
	int rc = 0;

	for (k = 0; p->listener_protocols != NULL && k < p->n_listener_ports &&
		    rc == 0; k++) {
		if (p->listener_protocols[k] != GW_ROUTE_PROTOCOL_TCP)
			continue;
		rc = listener_get(b, 0, p->listener_ports[k],
				  GW_ROUTE_LISTENER_BOOTSTRAP, NULL, &l, &created);
		if (rc < 0 || l == RT_NONE)
			continue;
		/* a Gateway's routes first, then the mesh's (as for HTTP) */
		b->snap->tcp.listeners[l].kind = GW_ROUTE_LISTENER_BOOTSTRAP;
		for (i = 0; i < tb->n_vs && rc == 0; i++) {
			const struct gw_model_resource *vs = gw_model_store_at(
				b->store, GW_MODEL_KIND_VIRTUAL_SERVICE, i);

			if (vs->spec.vs->n_tcp == 0 || !rt_vs_on_mesh(vs->spec.vs))
				continue;
			rc = listener_add_vs(tb, l, i);
		}
	}
	return rc;
}

/* The first mesh VirtualService with TCP routes that claims a host of @p se. */
static uint32_t
vs_for_service(struct tcp_build *tb, const struct gw_se *se)
{
	uint32_t i, h, sh;

	for (i = 0; i < tb->n_vs; i++) {
		const struct gw_vs *vs = gw_model_store_at(tb->b->store,
			GW_MODEL_KIND_VIRTUAL_SERVICE, i)->spec.vs;

		if (vs->n_tcp == 0 || !rt_vs_on_mesh(vs))
			continue;
		for (h = 0; h < vs->n_hosts; h++)
			for (sh = 0; sh < se->n_hosts; sh++)
				if (rt_host_covers(vs->hosts[h], se->hosts[sh]))
					return i;
	}
	return RT_NONE;
}

static int
build_vip_listeners(struct tcp_build *tb)
{
	struct rt_build *b = tb->b;
	uint32_t n_se = gw_model_store_count(b->store, GW_MODEL_KIND_SERVICE_ENTRY);
	uint32_t i, a, k, l, vs;
	bool created;
	int rc = 0;

	for (i = 0; i < n_se && rc == 0; i++) {
		const struct gw_model_resource *res =
			gw_model_store_at(b->store, GW_MODEL_KIND_SERVICE_ENTRY, i);
		const struct gw_se *se = res->spec.se;

		if (se->n_hosts == 0)
			continue;
		vs = vs_for_service(tb, se);
		for (a = 0; a < se->n_addresses && rc == 0; a++) {
			const struct gw_ip_prefix *ip = &se->addresses[a];

			if (ip->family != AF_INET || ip->prefix_len != 32)
				continue; /* CIDR ranges are not VIPs */
			for (k = 0; k < se->n_ports && rc == 0; k++) {
				uint32_t fallback;

				if (!port_is_tcp(&se->ports[k]))
					continue;
				rc = listener_get(b, ip->addr.v4, se->ports[k].number,
						  GW_ROUTE_LISTENER_VIP, se->hosts[0],
						  &l, &created);
				/* two services on one VIP and port: the first keeps it */
				if (rc < 0 || !created)
					continue;
				if (vs != RT_NONE)
					rc = listener_add_vs(tb, l, vs);
				if (rc == 0)
					rc = service_route(b, res, se->hosts[0],
							   se->ports[k].number,
							   &fallback);
				if (rc == 0)
					b->snap->tcp.listeners[l].fallback = fallback;
			}
		}
	}
	return rc;
}

static int
listener_cmp(const void *x, const void *y)
{
	const struct rt_tcp_listener *a = x, *b = y;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a->ip < b->ip ? -1 : a->ip > b->ip;
}

int
rt_tcp_build(struct rt_build *b)
{
	struct tcp_build tb = {.b = b};
	struct rt_tcp *tcp = &b->snap->tcp;
	uint32_t i;
	int rc;

	tb.n_vs = gw_model_store_count(b->store, GW_MODEL_KIND_VIRTUAL_SERVICE);
	tb.vs_first = malloc((tb.n_vs + 1) * sizeof(*tb.vs_first));
	if (tb.vs_first == NULL)
		return -ENOMEM;
	for (i = 0; i < tb.n_vs; i++)
		tb.vs_first[i] = RT_NONE;
	rc = build_gateway_listeners(&tb);
	if (rc == 0)
		rc = build_bootstrap_listeners(&tb);
	if (rc == 0)
		rc = build_vip_listeners(&tb);
	free(tb.vs_first);
	if (rc < 0)
		return rc;
	if (tcp->n_listeners > 1)
		qsort(tcp->listeners, tcp->n_listeners, sizeof(*tcp->listeners),
		      listener_cmp);
	b->snap->memory += tcp->cap_listeners * sizeof(*tcp->listeners) +
			   tcp->cap_routes * sizeof(*tcp->routes);
	for (i = 0; i < tcp->n_listeners; i++)
		b->snap->memory += tcp->listeners[i].cap_routes * sizeof(uint32_t);
	return 0;
}

void
rt_tcp_free(struct gw_route_snapshot *snap)
{
	uint32_t i;

	for (i = 0; i < snap->tcp.n_listeners; i++)
		free(snap->tcp.listeners[i].routes);
	free(snap->tcp.listeners);
	free(snap->tcp.routes);
	memset(&snap->tcp, 0, sizeof(snap->tcp));
}

/* ---- lookup ---- */

static const struct rt_tcp_listener *
listener_find(const struct rt_tcp *tcp, uint32_t ip, uint16_t port)
{
	uint32_t lo = 0, hi = tcp->n_listeners;
	const struct rt_tcp_listener *l;

	/* sorted by (port, ip): the port's entries are adjacent, ip 0 first */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		l = &tcp->listeners[mid];
		if (l->port < port || (l->port == port && l->ip < ip))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < tcp->n_listeners && tcp->listeners[lo].port == port &&
	    tcp->listeners[lo].ip == ip)
		return &tcp->listeners[lo];
	/* not a VIP: the port's "any address" listener, if there is one */
	if (ip != 0)
		return listener_find(tcp, 0, port);
	return NULL;
}

int
gw_route_tcp_lookup(const struct gw_route_snapshot *snap,
		    unsigned int worker_id, uint32_t listener_ip,
		    uint16_t listener_port, struct gw_route_tcp_result *out)
{
	const struct rt_tcp_listener *l;
	const struct gw_route_tcp *r = NULL;
	struct rt_worker *w = snap->workers[worker_id];
	uint32_t i;

	out->status = GW_ROUTE_OK;
	out->route = NULL;
	out->destination = -1;
	out->cluster = GW_ROUTE_NO_CLUSTER;

	l = listener_find(&snap->tcp, listener_ip, listener_port);
	if (l == NULL) {
		out->status = GW_ROUTE_NO_LISTENER;
		return -ENOENT;
	}
	for (i = 0; i < l->n_routes && r == NULL; i++) {
		const struct gw_route_tcp *c = &snap->tcp.routes[l->routes[i]];

		if (route_matches(c->spec, listener_ip, listener_port))
			r = c;
	}
	if (r == NULL && l->fallback != RT_NONE)
		r = &snap->tcp.routes[l->fallback];
	if (r == NULL || r->n_destinations == 0) {
		out->status = GW_ROUTE_NO_MATCH;
		return -ENOENT;
	}
	if (r->n_destinations == 1)
		out->destination = 0;
	else if (snap->weighted_mode == GW_LB_WEIGHTED_RANDOM)
		out->destination = gw_lb_weighted_random_pick(r->weights,
				r->n_destinations, &w->rng);
	else
		out->destination = gw_lb_swrr_pick(r->weights,
				(int64_t *)(w->data + r->state_off),
				r->n_destinations);
	if (out->destination < 0) {
		out->status = GW_ROUTE_NO_MATCH;
		return -ENOENT;
	}
	out->route = r;
	out->cluster = r->destinations[out->destination].cluster;
	return 0;
}

/* ---- read-only views ---- */

uint32_t
gw_route_snapshot_tcp_listener_count(const struct gw_route_snapshot *snap)
{
	return snap->tcp.n_listeners;
}

int
gw_route_snapshot_tcp_listener(const struct gw_route_snapshot *snap,
			       uint32_t i, struct gw_route_listener_info *info)
{
	if (i >= snap->tcp.n_listeners)
		return -ENOENT;
	info->ip = snap->tcp.listeners[i].ip;
	info->port = snap->tcp.listeners[i].port;
	info->kind = snap->tcp.listeners[i].kind;
	info->name = snap->tcp.listeners[i].name;
	return 0;
}

uint32_t
gw_route_snapshot_tcp_route_count(const struct gw_route_snapshot *snap)
{
	return snap->tcp.n_routes;
}

const struct gw_route_tcp *
gw_route_snapshot_tcp_route(const struct gw_route_snapshot *snap, uint32_t id)
{
	return id < snap->tcp.n_routes ? &snap->tcp.routes[id] : NULL;
}
