/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshot build: the mesh table (VirtualServices without gateways, then
 * services' default routes), one table per Gateway port, the listeners
 * (bootstrap ports, ServiceEntry VIPs, Gateway servers), the clusters'
 * load balancers and one state block per worker.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "gw_regex.h"
#include "gw_common.h"
#include "route_private.h"

uint32_t
rt_state_reserve(struct rt_build *b, size_t size)
{
	uint32_t off = (b->snap->state_size + 7) & ~7u;

	b->snap->state_size = off + (uint32_t)size;
	return off;
}

/* ---- tables ---- */

struct domain_key {
	const struct rt_table *t;
	const char *key;
	uint32_t len;
	uint8_t wildcard;
};

static int
domain_eq(const void *ctx, uint32_t idx)
{
	const struct domain_key *k = ctx;
	const struct rt_domain *d = &k->t->domains[idx];

	return d->wildcard == k->wildcard && d->key_len == k->len &&
	       memcmp(d->key, k->key, k->len) == 0;
}

static uint64_t
domain_hash(const char *key, uint32_t len, uint8_t wildcard)
{
	return rt_hash(key, len) ^ wildcard;
}

uint32_t
rt_table_find_vhost(const struct rt_table *t, const char *host, uint32_t len)
{
	struct domain_key k = {t, host, len, 0};
	uint32_t i, d;

	d = rt_hindex_find(&t->index, domain_hash(host, len, 0), domain_eq, &k);
	if (d != RT_NONE)
		return t->domains[d].vhost;
	/* "*.b.c" is stored as ".b.c": try suffixes from the longest */
	for (i = 1; t->n_wildcards > 0 && i < len; i++) {
		if (host[i] != '.')
			continue;
		k.key = host + i;
		k.len = len - i;
		k.wildcard = 1;
		d = rt_hindex_find(&t->index, domain_hash(k.key, k.len, 1),
				   domain_eq, &k);
		if (d != RT_NONE)
			return t->domains[d].vhost;
	}
	return t->star_vhost;
}

static int
table_new(struct rt_build *b, uint16_t port, uint32_t *table)
{
	struct gw_route_snapshot *snap = b->snap;

	if (rt_grow((void **)&snap->tables, &snap->cap_tables,
		    snap->n_tables + 1, sizeof(*snap->tables)) < 0)
		return -ENOMEM;
	memset(&snap->tables[snap->n_tables], 0, sizeof(*snap->tables));
	snap->tables[snap->n_tables].port = port;
	snap->tables[snap->n_tables].star_vhost = RT_NONE;
	*table = snap->n_tables++;
	return 0;
}

/*
 * Give @p domain to @p vhost in table @p ti unless another virtual host
 * already has it (the first VirtualService claiming a host wins).
 */
static int
table_add(struct rt_build *b, uint32_t ti, const char *domain, uint32_t vhost)
{
	struct rt_table *t = &b->snap->tables[ti];
	struct domain_key k = {t, NULL, 0, 0};
	struct rt_domain *d;
	size_t len = strlen(domain), i;
	char *key;

	if (strcmp(domain, "*") == 0) {
		if (t->star_vhost == RT_NONE)
			t->star_vhost = vhost;
		return 0;
	}
	if (domain[0] == '*' && domain[1] == '.') {
		k.wildcard = 1;
		domain++;
		len--;
	}
	key = rt_arena_alloc(&b->snap->arena, len + 1);
	if (key == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		key[i] = (char)tolower((unsigned char)domain[i]);
	k.key = key;
	k.len = (uint32_t)len;
	if (rt_hindex_find(&t->index, domain_hash(key, k.len, k.wildcard),
			   domain_eq, &k) != RT_NONE)
		return 0;
	if (rt_grow((void **)&t->domains, &t->cap_domains, t->n_domains + 1,
		    sizeof(*t->domains)) < 0 ||
	    rt_hindex_add(&t->index, domain_hash(key, k.len, k.wildcard),
			  t->n_domains) < 0)
		return -ENOMEM;
	d = &t->domains[t->n_domains++];
	d->key = key;
	d->key_len = k.len;
	d->vhost = vhost;
	d->wildcard = k.wildcard;
	t->n_wildcards += k.wildcard;
	return 0;
}

/* ---- which VirtualService goes where ---- */

bool
rt_vs_on_mesh(const struct gw_vs *vs)
{
	uint32_t i;

	if (vs->n_gateways == 0)
		return true;
	for (i = 0; i < vs->n_gateways; i++)
		if (strcmp(vs->gateways[i], "mesh") == 0)
			return true;
	return false;
}

/* Does the VirtualService name this Gateway ("name" means its own namespace)? */
bool
rt_vs_on_gateway(const struct gw_model_resource *vs,
		 const struct gw_model_resource *gw)
{
	size_t nslen = strlen(gw->meta.namespace);
	uint32_t i;

	for (i = 0; i < vs->spec.vs->n_gateways; i++) {
		const char *g = vs->spec.vs->gateways[i];
		const char *slash = strchr(g, '/');

		if (slash == NULL) {
			if (strcmp(g, gw->meta.name) == 0 &&
			    strcmp(vs->meta.namespace, gw->meta.namespace) == 0)
				return true;
		} else if ((size_t)(slash - g) == nslen &&
			   strncmp(g, gw->meta.namespace, nslen) == 0 &&
			   strcmp(slash + 1, gw->meta.name) == 0) {
			return true;
		}
	}
	return false;
}

bool
rt_host_covers(const char *pattern, const char *name)
{
	size_t pl, nl;

	if (strcmp(pattern, "*") == 0)
		return true;
	if (strcasecmp(pattern, name) == 0)
		return true;
	if (pattern[0] != '*' || pattern[1] != '.')
		return false;
	pl = strlen(pattern) - 1; /* ".x" */
	nl = strlen(name);
	return nl > pl && strcasecmp(name + nl - pl, pattern + 1) == 0;
}

/*
 * The domain a VirtualService host gets on a Gateway server: the more
 * specific of the two when one covers the other, else NULL. Server hosts
 * may carry a namespace filter: "ns/host", "./host", "*\/host".
 */
const char *
rt_server_domain(const struct gw_model_resource *gw, const char *server_host,
		 const struct gw_model_resource *vs, const char *vs_host)
{
	const char *slash = strchr(server_host, '/');
	const char *h = server_host;

	if (slash != NULL) {
		size_t nl = (size_t)(slash - server_host);
		const char *ns = server_host;

		h = slash + 1;
		if (!(nl == 1 && ns[0] == '*')) {
			const char *want = nl == 1 && ns[0] == '.' ?
					   gw->meta.namespace : NULL;

			if (want != NULL ? strcmp(vs->meta.namespace, want) != 0 :
			    strlen(vs->meta.namespace) != nl ||
			    strncmp(vs->meta.namespace, ns, nl) != 0)
				return NULL;
		}
	}
	if (rt_host_covers(h, vs_host))
		return vs_host;
	if (rt_host_covers(vs_host, h))
		return h;
	return NULL;
}

static int
build_mesh_table(struct rt_build *b)
{
	uint32_t n_vs = gw_model_store_count(b->store, GW_MODEL_KIND_VIRTUAL_SERVICE);
	uint32_t n_se = gw_model_store_count(b->store, GW_MODEL_KIND_SERVICE_ENTRY);
	uint32_t i, h, v;
	int rc;

	rc = table_new(b, 0, &b->mesh_table);
	for (i = 0; i < n_vs && rc == 0; i++) {
		const struct gw_model_resource *res =
			gw_model_store_at(b->store, GW_MODEL_KIND_VIRTUAL_SERVICE, i);

		/* a TCP-only VirtualService does not claim HTTP hosts */
		if (!rt_vs_on_mesh(res->spec.vs) || res->spec.vs->n_http == 0)
			continue;
		rc = rt_vhost_for_vs(b, i, &v);
		for (h = 0; h < res->spec.vs->n_hosts && rc == 0; h++)
			rc = table_add(b, b->mesh_table, res->spec.vs->hosts[h], v);
	}
	/* services no VirtualService claims: spread over all endpoints */
	for (i = 0; i < n_se && rc == 0; i++) {
		const struct gw_model_resource *res =
			gw_model_store_at(b->store, GW_MODEL_KIND_SERVICE_ENTRY, i);
		const struct rt_table *t;
		char host[256];
		int len;

		for (h = 0; h < res->spec.se->n_hosts && rc == 0; h++) {
			const char *sh = res->spec.se->hosts[h];

			t = &b->snap->tables[b->mesh_table];
			len = rt_host_normalise(sh, (uint32_t)strlen(sh), host,
						sizeof(host));
			if (len < 0)
				continue;
			/*
			 * Skip hosts a VirtualService claims (maybe with a
			 * wildcard) and hosts another ServiceEntry listed
			 * first; a wildcard service does not hide another.
			 */
			v = rt_table_find_vhost(t, host, (uint32_t)len);
			if (v != RT_NONE && (b->snap->vhosts[v].vs != NULL ||
			    strcasecmp(b->snap->vhosts[v].service_host, sh) == 0))
				continue;
			rc = rt_vhost_for_service(b, res, sh, &v);
			if (rc == 0)
				rc = table_add(b, b->mesh_table, sh, v);
		}
	}
	return rc;
}

/* The table of Gateway port @p port, created on first use. */
static int
gateway_table(struct rt_build *b, uint16_t port, uint32_t *table)
{
	uint32_t t;

	for (t = 0; t < b->snap->n_tables; t++)
		if (t != b->mesh_table && b->snap->tables[t].port == port) {
			*table = t;
			return 0;
		}
	return table_new(b, port, table);
}

static int
build_gateway_tables(struct rt_build *b)
{
	uint32_t n_gw = gw_model_store_count(b->store, GW_MODEL_KIND_GATEWAY);
	uint32_t n_vs = gw_model_store_count(b->store, GW_MODEL_KIND_VIRTUAL_SERVICE);
	uint32_t g, s, i, h, sh, t, v;
	int rc = 0;

	for (g = 0; g < n_gw && rc == 0; g++) {
		const struct gw_model_resource *gw =
			gw_model_store_at(b->store, GW_MODEL_KIND_GATEWAY, g);

		for (s = 0; s < gw->spec.gateway->n_servers && rc == 0; s++) {
			const struct gw_gateway_server *srv =
				&gw->spec.gateway->servers[s];

			/* plain HTTP/1.1 only */
			if (srv->proto != GW_MODEL_PROTOCOL_HTTP)
				continue;
			rc = gateway_table(b, srv->port, &t);
			for (i = 0; i < n_vs && rc == 0; i++) {
				const struct gw_model_resource *vs = gw_model_store_at(
					b->store, GW_MODEL_KIND_VIRTUAL_SERVICE, i);

				if (!rt_vs_on_gateway(vs, gw) || vs->spec.vs->n_http == 0)
					continue;
				rc = rt_vhost_for_vs(b, i, &v);
				for (h = 0; h < vs->spec.vs->n_hosts && rc == 0; h++)
					for (sh = 0; sh < srv->n_hosts && rc == 0; sh++) {
						const char *d = rt_server_domain(gw,
							srv->hosts[sh], vs,
							vs->spec.vs->hosts[h]);

						if (d != NULL)
							rc = table_add(b, t, d, v);
					}
			}
		}
	}
	return rc;
}

/* ---- listeners ---- */

static int
listener_add(struct rt_build *b, uint32_t ip, uint16_t port,
	     enum gw_route_listener_kind kind, const char *what,
	     uint32_t *listener)
{
	struct gw_route_snapshot *snap = b->snap;
	struct rt_listener *l;
	char addr[INET_ADDRSTRLEN];
	uint32_t i;

	for (i = 0; i < snap->n_listeners; i++)
		if (snap->listeners[i].ip == ip && snap->listeners[i].port == port) {
			*listener = RT_NONE; /* the first one keeps it */
			return 0;
		}
	if (rt_grow((void **)&snap->listeners, &snap->cap_listeners,
		    snap->n_listeners + 1, sizeof(*snap->listeners)) < 0)
		return -ENOMEM;
	l = &snap->listeners[snap->n_listeners];
	memset(l, 0, sizeof(*l));
	l->ip = ip;
	l->port = port;
	l->kind = kind;
	l->fallback_vhost = RT_NONE;
	inet_ntop(AF_INET, &ip, addr, sizeof(addr));
	l->name = rt_arena_printf(&snap->arena, "%s:%u%s%s%s", addr, port,
				  what ? " (" : "", what ? what : "",
				  what ? ")" : "");
	if (l->name == NULL)
		return -ENOMEM;
	*listener = snap->n_listeners++;
	return 0;
}

static bool
port_is_http(const struct gw_service_port *p)
{
	if (p->proto == GW_MODEL_PROTOCOL_HTTP)
		return true;
	/* Istio's protocol selection by port name: "http" or "http-..." */
	return p->proto == GW_MODEL_PROTOCOL_UNSET && p->name != NULL &&
	       strncasecmp(p->name, "http", 4) == 0 &&
	       (p->name[4] == '\0' || p->name[4] == '-');
}

static int
build_listeners(struct rt_build *b)
{
	const struct gw_route_build_params *p = b->params;
	uint32_t n_se = gw_model_store_count(b->store, GW_MODEL_KIND_SERVICE_ENTRY);
	uint32_t i, a, k, t, l;
	int rc = 0;

	/* Gateway ports, then bootstrap ports (Gateway table tried first) */
	for (t = 0; t < b->snap->n_tables && rc == 0; t++) {
		if (t == b->mesh_table)
			continue;
		rc = listener_add(b, 0, b->snap->tables[t].port,
				  GW_ROUTE_LISTENER_GATEWAY, "gateway", &l);
		if (rc == 0 && l != RT_NONE) {
			b->snap->listeners[l].tables[0] = t;
			b->snap->listeners[l].n_tables = 1;
		}
	}
	for (i = 0; i < p->n_listener_ports && rc == 0; i++) {
		uint16_t port = p->listener_ports[i];

		/* TCP ports get a TCP listener instead (route_tcp.c) */
		if (p->listener_protocols != NULL &&
		    p->listener_protocols[i] == GW_ROUTE_PROTOCOL_TCP)
			continue;
		for (l = 0; l < b->snap->n_listeners; l++)
			if (b->snap->listeners[l].ip == 0 &&
			    b->snap->listeners[l].port == port)
				break;
		if (l < b->snap->n_listeners) {
			struct rt_listener *x = &b->snap->listeners[l];

			if (x->kind == GW_ROUTE_LISTENER_GATEWAY && x->n_tables == 1) {
				x->tables[x->n_tables++] = b->mesh_table;
				x->kind = GW_ROUTE_LISTENER_BOOTSTRAP;
			}
			continue;
		}
		rc = listener_add(b, 0, port, GW_ROUTE_LISTENER_BOOTSTRAP, NULL, &l);
		if (rc == 0 && l != RT_NONE) {
			b->snap->listeners[l].tables[0] = b->mesh_table;
			b->snap->listeners[l].n_tables = 1;
		}
	}
	/* ServiceEntry VIPs: each address and HTTP port */
	for (i = 0; i < n_se && rc == 0; i++) {
		const struct gw_model_resource *res =
			gw_model_store_at(b->store, GW_MODEL_KIND_SERVICE_ENTRY, i);
		const struct gw_se *se = res->spec.se;
		uint32_t fallback = RT_NONE;
		char host[256];
		int len;

		if (se->n_hosts > 0) {
			len = rt_host_normalise(se->hosts[0],
						(uint32_t)strlen(se->hosts[0]),
						host, sizeof(host));
			if (len >= 0)
				fallback = rt_table_find_vhost(
					&b->snap->tables[b->mesh_table], host,
					(uint32_t)len);
		}
		for (a = 0; a < se->n_addresses && rc == 0; a++) {
			const struct gw_ip_prefix *ip = &se->addresses[a];

			if (ip->family != AF_INET || ip->prefix_len != 32)
				continue; /* CIDR ranges are not VIPs */
			for (k = 0; k < se->n_ports && rc == 0; k++) {
				if (!port_is_http(&se->ports[k]))
					continue;
				rc = listener_add(b, ip->addr.v4, se->ports[k].number,
						  GW_ROUTE_LISTENER_VIP,
						  se->n_hosts ? se->hosts[0] : NULL, &l);
				if (rc < 0 || l == RT_NONE)
					continue;
				b->snap->listeners[l].tables[0] = b->mesh_table;
				b->snap->listeners[l].n_tables = 1;
				b->snap->listeners[l].fallback_vhost = fallback;
			}
		}
	}
	return rc;
}

static int
listener_cmp(const void *x, const void *y)
{
	const struct rt_listener *a = x, *b = y;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return a->ip < b->ip ? -1 : a->ip > b->ip;
}

/* ---- workers ---- */

static int
build_workers(struct rt_build *b)
{
	struct gw_route_snapshot *snap = b->snap;
	size_t size = sizeof(struct rt_worker) + snap->state_size;
	uint32_t w, c;

	size = (size + RT_CACHE_LINE - 1) & ~(size_t)(RT_CACHE_LINE - 1);
	snap->worker_size = size;
	snap->workers = calloc(snap->n_workers, sizeof(*snap->workers));
	if (snap->workers == NULL)
		return -ENOMEM;
	for (w = 0; w < snap->n_workers; w++) {
		struct rt_worker *rw = aligned_alloc(RT_CACHE_LINE, size);

		if (rw == NULL)
			return -ENOMEM;
		memset(rw, 0, size);
		snap->workers[w] = rw;
		gw_lb_rng_seed(&rw->rng, b->params->seed, w);
		for (c = 0; c < snap->n_clusters; c++)
			gw_lb_state_init(snap->clusters[c].lb,
				(struct gw_lb_state *)(rw->data +
						       snap->clusters[c].lb_state_off),
				gw_lb_rng_next(&rw->rng));
	}
	snap->memory += snap->n_workers * size;
	return 0;
}

/* ---- entry points ---- */

static int
hold_resources(struct rt_build *b)
{
	uint32_t n = gw_model_store_count(b->store, GW_MODEL_KIND_COUNT), i;

	b->snap->refs = calloc(n + 1, sizeof(*b->snap->refs));
	if (b->snap->refs == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct gw_model_resource *r =
			gw_model_store_at(b->store, GW_MODEL_KIND_COUNT, i);

		gw_model_resource_ref(r);
		b->snap->refs[b->snap->n_refs++] = r;
	}
	return 0;
}

/* The lookup's compact copy of each route, once the routes are final. */
static int
build_route_hot(struct gw_route_snapshot *snap)
{
	size_t size = (snap->n_routes + 1) * sizeof(*snap->route_hot);
	uint32_t i;

	/* line-aligned: a record (32 bytes) is one line, never two */
	size = (size + RT_CACHE_LINE - 1) & ~(size_t)(RT_CACHE_LINE - 1);
	snap->route_hot = aligned_alloc(RT_CACHE_LINE, size);
	if (snap->route_hot == NULL)
		return -ENOMEM;
	memset(snap->route_hot, 0, size);
	for (i = 0; i < snap->n_routes; i++) {
		const struct gw_route *r = &snap->routes[i];
		struct rt_route_hot *h = &snap->route_hot[i];

		h->spec = r->spec;
		h->destinations = r->destinations;
		h->n_destinations = r->n_destinations;
		h->cluster0 = r->n_destinations > 0 ? r->destinations[0].cluster :
			GW_ROUTE_NO_CLUSTER;
		h->state_off = r->state_off;
		h->n_mirrors = (uint16_t)r->n_mirrors;
		h->has_fault = r->spec != NULL && r->spec->has_fault;
	}
	return 0;
}

struct gw_route_snapshot *
gw_route_snapshot_build(const struct gw_model_store *store,
			const struct gw_route_build_params *params,
			char *err, size_t errlen)
{
	struct rt_build b = {.store = store, .params = params, .err = err,
			     .errlen = errlen};
	uint32_t n_vs, i;
	int rc;

	if (params->n_workers == 0) {
		gw_err(err, errlen, "a route snapshot needs at least one worker");
		return NULL;
	}
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	b.snap = calloc(1, sizeof(*b.snap));
	n_vs = gw_model_store_count(store, GW_MODEL_KIND_VIRTUAL_SERVICE);
	b.vs_vhost = malloc((n_vs + 1) * sizeof(*b.vs_vhost));
	if (b.snap == NULL || b.vs_vhost == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_vs; i++)
		b.vs_vhost[i] = RT_NONE;
	b.snap->n_workers = params->n_workers;
	b.snap->weighted_mode = params->weighted_mode;

	rc = hold_resources(&b);
	if (rc == 0)
		rc = build_mesh_table(&b);
	if (rc == 0)
		rc = build_gateway_tables(&b);
	if (rc == 0)
		rc = build_listeners(&b);
	if (rc == 0)
		rc = rt_tcp_build(&b);
	if (rc == 0)
		rc = rt_clusters_finish(&b);
	if (rc == 0)
		rc = build_workers(&b);
	if (rc == 0)
		rc = build_route_hot(b.snap);
	if (rc == 0) {
		if (b.snap->n_listeners > 1)
			qsort(b.snap->listeners, b.snap->n_listeners,
			      sizeof(*b.snap->listeners), listener_cmp);
		b.snap->memory += sizeof(*b.snap) + b.snap->arena.total +
			b.snap->cap_listeners * sizeof(*b.snap->listeners) +
			b.snap->cap_tables * sizeof(*b.snap->tables) +
			b.snap->cap_vhosts * sizeof(*b.snap->vhosts) +
			b.snap->cap_routes * sizeof(*b.snap->routes) +
			b.snap->n_routes * sizeof(*b.snap->route_hot) +
			b.snap->cap_clusters * sizeof(*b.snap->clusters) +
			(b.snap->cluster_index.mask + 1) * sizeof(struct rt_hslot);
		for (i = 0; i < b.snap->n_tables; i++)
			b.snap->memory += b.snap->tables[i].cap_domains *
				sizeof(struct rt_domain) +
				(b.snap->tables[i].index.mask + 1) *
				sizeof(struct rt_hslot);
	}
out:
	free(b.vs_vhost);
	if (rc < 0) {
		if (rc == -ENOMEM || (err != NULL && errlen > 0 && err[0] == '\0'))
			gw_err(err, errlen, "building the route snapshot: %s",
			       gw_strerror(rc));
		gw_route_snapshot_free(b.snap);
		return NULL;
	}
	return b.snap;
}

void
gw_route_snapshot_free(struct gw_route_snapshot *snap)
{
	uint32_t i;

	if (snap == NULL)
		return;
	for (i = 0; snap->workers != NULL && i < snap->n_workers; i++)
		free(snap->workers[i]);
	free(snap->workers);
	rt_tcp_free(snap);
	for (i = 0; i < snap->n_vhosts; i++)
		gw_match_set_free(snap->vhosts[i].match);
	for (i = 0; snap->routes != NULL && i < snap->n_routes; i++)
		gw_regex_free((struct gw_regex *)(uintptr_t)snap->routes[i].uri_regex);
	for (i = 0; i < snap->n_clusters; i++)
		gw_lb_set_free(snap->clusters[i].lb);
	for (i = 0; i < snap->n_tables; i++) {
		free(snap->tables[i].domains);
		rt_hindex_free(&snap->tables[i].index);
	}
	for (i = 0; i < snap->n_refs; i++)
		gw_model_resource_unref(snap->refs[i]);
	free(snap->refs);
	free(snap->listeners);
	free(snap->tables);
	free(snap->vhosts);
	free(snap->routes);
	free(snap->route_hot);
	free(snap->clusters);
	rt_hindex_free(&snap->cluster_index);
	rt_arena_free(&snap->arena);
	free(snap);
}
