/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Virtual hosts: a VirtualService's http routes in order, with their
 * weighted destinations, mirrors and one match set over all their
 * conditions; or a service's default route when no VirtualService
 * claims its host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_regex.h"
#include "gw_common.h"
#include "route_private.h"

struct cond_ctx {
	struct rt_build *b;
	struct gw_match_set_builder *mb;
	int *ids;
	uint32_t n;
	const char *where;  /* "VirtualService ns/name http[i].match[j]" */
};

static int
add_cond(struct cond_ctx *cc, enum gw_match_field field,
	 enum gw_match_kind kind, const char *name, const char *value,
	 bool ignore_case, bool negate, const char *what)
{
	struct gw_match_condition c = {
		.field = field, .kind = kind, .name = name, .value = value,
		.ignore_case = ignore_case, .negate = negate,
	};
	char label[512];
	int id;

	snprintf(label, sizeof(label), "%s.%s%s%s", cc->where, what,
		 name ? "." : "", name ? name : "");
	c.label = label;
	id = gw_match_set_builder_add_condition(cc->mb, &c, cc->b->err,
						cc->b->errlen);
	if (id < 0)
		return id;
	cc->ids[cc->n++] = id;
	return 0;
}

static int
add_string(struct cond_ctx *cc, enum gw_match_field field,
	   const struct gw_string_match *sm, bool ignore_case, const char *what)
{
	static const enum gw_match_kind kinds[] = {
		[GW_MODEL_MATCH_EXACT] = GW_MATCH_EXACT,
		[GW_MODEL_MATCH_PREFIX] = GW_MATCH_PREFIX,
		[GW_MODEL_MATCH_REGEX] = GW_MATCH_REGEX,
	};

	if (sm->kind == GW_MODEL_MATCH_NONE)
		return 0;
	/* Istio: ignoreUriCase applies to exact and prefix only */
	return add_cond(cc, field, kinds[sm->kind], NULL, sm->value,
			ignore_case && sm->kind != GW_MODEL_MATCH_REGEX, false,
			what);
}

static int
add_named(struct cond_ctx *cc, enum gw_match_field field,
	  const struct gw_header_match *hm, uint32_t n, bool negate,
	  const char *what)
{
	uint32_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const struct gw_string_match *sm = &hm[i].match;
		enum gw_match_kind kind;

		if (hm[i].present_only || sm->kind == GW_MODEL_MATCH_NONE)
			kind = GW_MATCH_PRESENT;
		else if (sm->kind == GW_MODEL_MATCH_EXACT)
			kind = GW_MATCH_EXACT;
		else if (sm->kind == GW_MODEL_MATCH_PREFIX)
			kind = GW_MATCH_PREFIX;
		else
			kind = GW_MATCH_REGEX;
		rc = add_cond(cc, field, kind, hm[i].name,
			      kind == GW_MATCH_PRESENT ? NULL : sm->value,
			      false, negate, what);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One HTTPMatchRequest as a clause of route @p local. */
static int
add_clause(struct rt_build *b, struct gw_match_set_builder *mb,
	   const struct gw_http_match *m, uint32_t local, const char *where)
{
	struct cond_ctx cc = {.b = b, .mb = mb, .where = where};
	uint32_t max = 5 + m->n_headers + m->n_without_headers + m->n_query_params;
	int rc;

	cc.ids = malloc(max * sizeof(*cc.ids));
	if (cc.ids == NULL)
		return -ENOMEM;
	rc = add_string(&cc, GW_MATCH_URI, &m->uri, m->ignore_uri_case, "uri");
	if (rc == 0)
		rc = add_string(&cc, GW_MATCH_SCHEME, &m->scheme, false, "scheme");
	if (rc == 0)
		rc = add_string(&cc, GW_MATCH_METHOD, &m->method, false, "method");
	if (rc == 0)
		rc = add_string(&cc, GW_MATCH_AUTHORITY, &m->authority, false,
				"authority");
	if (rc == 0)
		rc = add_named(&cc, GW_MATCH_HEADER, m->headers, m->n_headers,
			       false, "headers");
	if (rc == 0)
		rc = add_named(&cc, GW_MATCH_HEADER, m->without_headers,
			       m->n_without_headers, true, "withoutHeaders");
	if (rc == 0)
		rc = add_named(&cc, GW_MATCH_QUERY_PARAM, m->query_params,
			       m->n_query_params, false, "queryParams");
	if (rc == 0 && m->port != 0) {
		struct gw_match_condition c = {.field = GW_MATCH_PORT,
					       .port = m->port};
		int id = gw_match_set_builder_add_condition(mb, &c, b->err,
							    b->errlen);

		if (id < 0)
			rc = id;
		else
			cc.ids[cc.n++] = id;
	}
	if (rc == 0)
		rc = gw_match_set_builder_add_clause(mb, local, cc.ids, cc.n);
	free(cc.ids);
	return rc;
}

static int
new_vhost(struct rt_build *b, uint32_t *vhost)
{
	struct gw_route_snapshot *snap = b->snap;

	if (rt_grow((void **)&snap->vhosts, &snap->cap_vhosts,
		    snap->n_vhosts + 1, sizeof(*snap->vhosts)) < 0)
		return -ENOMEM;
	memset(&snap->vhosts[snap->n_vhosts], 0, sizeof(*snap->vhosts));
	*vhost = snap->n_vhosts++;
	return 0;
}

static int
new_route(struct rt_build *b, uint32_t *route)
{
	struct gw_route_snapshot *snap = b->snap;

	if (rt_grow((void **)&snap->routes, &snap->cap_routes,
		    snap->n_routes + 1, sizeof(*snap->routes)) < 0)
		return -ENOMEM;
	memset(&snap->routes[snap->n_routes], 0, sizeof(*snap->routes));
	snap->routes[snap->n_routes].id = snap->n_routes;
	*route = snap->n_routes++;
	return 0;
}

/* Destinations, mirrors and per-worker state of one http route. */
static int
fill_route(struct rt_build *b, uint32_t id, const struct gw_http_route *hr,
	   const char *namespace, const char *where)
{
	struct gw_route_snapshot *snap = b->snap;
	struct gw_route_destination *dests = NULL;
	struct gw_route_mirror *mirrors = NULL;
	uint32_t *weights = NULL;
	uint32_t i, cluster;
	size_t state = 0;
	int rc;

	if (hr->n_mirrors > GW_ROUTE_MAX_MIRRORS)
		return gw_err(b->err, b->errlen, "%s: %u mirrors, at most %u",
			      where, hr->n_mirrors, GW_ROUTE_MAX_MIRRORS);
	if (hr->n_route > 0) {
		dests = rt_arena_alloc(&snap->arena, hr->n_route * sizeof(*dests));
		weights = rt_arena_alloc(&snap->arena,
					 hr->n_route * sizeof(*weights));
		if (dests == NULL || weights == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < hr->n_route; i++) {
		rc = rt_cluster_get(b, &hr->route[i].destination, namespace,
				    &cluster);
		if (rc < 0)
			return rc;
		dests[i].cluster = cluster;
		dests[i].weight = hr->route[i].weight;
		dests[i].headers = &hr->route[i].headers;
		weights[i] = hr->route[i].weight;
	}
	if (hr->n_mirrors > 0) {
		mirrors = rt_arena_alloc(&snap->arena,
					 hr->n_mirrors * sizeof(*mirrors));
		if (mirrors == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < hr->n_mirrors; i++) {
		rc = rt_cluster_get(b, &hr->mirrors[i].destination, namespace,
				    &cluster);
		if (rc < 0)
			return rc;
		mirrors[i].cluster = cluster;
		mirrors[i].ppm = hr->mirrors[i].ppm;
	}
	if (hr->n_mirrors > 0) {
		/* as the shadow's counters and log name the route */
		const struct gw_route *r = &snap->routes[id];
		const char *ns = r->vs_namespace != NULL ? r->vs_namespace :
							   "default";
		char *key = r->name != NULL ?
			rt_arena_printf(&snap->arena, "%s/%s/%s", ns, r->vs_name,
					r->name) :
			rt_arena_printf(&snap->arena, "%s/%s/%u", ns, r->vs_name,
					r->http_index);

		if (key == NULL)
			return -ENOMEM;
		snap->routes[id].mirror_key = key;
		snap->routes[id].mirror_key_len = (uint32_t)strlen(key);
	}
	/* SWRR counters when there is a choice, one accumulator per mirror */
	if (hr->n_route > 1)
		state += hr->n_route * sizeof(int64_t);
	state += hr->n_mirrors * sizeof(uint32_t);
	/* and one for each of fault.delay and fault.abort */
	if (hr->has_fault)
		state += 2 * sizeof(uint32_t);

	snap->routes[id].destinations = dests;
	snap->routes[id].n_destinations = hr->n_route;
	snap->routes[id].weights = weights;
	snap->routes[id].mirrors = mirrors;
	snap->routes[id].n_mirrors = hr->n_mirrors;
	snap->routes[id].state_off = state ? rt_state_reserve(b, state) : 0;
	if (hr->has_rewrite && hr->rewrite.uri_regex_match != NULL) {
		char err[256];
		struct gw_regex *re = gw_regex_compile(hr->rewrite.uri_regex_match,
						       err, sizeof(err));

		if (re == NULL)
			return gw_err(b->err, b->errlen, "%s: uriRegexRewrite: %s",
				      where, err);
		snap->routes[id].uri_regex = re;
		snap->routes[id].regex_scratch_off =
			rt_state_reserve(b, gw_regex_scratch_size(re));
	}
	return 0;
}

int
rt_vhost_for_vs(struct rt_build *b, uint32_t i, uint32_t *out)
{
	struct gw_route_snapshot *snap = b->snap;
	const struct gw_model_resource *res;
	struct gw_match_set_builder *mb = NULL;
	const struct gw_vs *vs;
	uint32_t v, r, m, id;
	char where[384];
	const char *name;
	int rc = 0;

	if (b->vs_vhost[i] != RT_NONE) {
		*out = b->vs_vhost[i];
		return 0;
	}
	res = gw_model_store_at(b->store, GW_MODEL_KIND_VIRTUAL_SERVICE, i);
	vs = res->spec.vs;
	name = rt_arena_printf(&snap->arena, "%s/%s", res->meta.namespace,
			       res->meta.name);
	if (name == NULL || new_vhost(b, &v) < 0)
		return -ENOMEM;
	snap->vhosts[v].name = name;
	snap->vhosts[v].vs = res;
	snap->vhosts[v].first_route = snap->n_routes;
	snap->vhosts[v].n_routes = vs->n_http;

	/* a first route without match conditions takes everything */
	if (vs->n_http > 0 && vs->http[0].n_matches > 0) {
		mb = gw_match_set_builder_create();
		if (mb == NULL)
			return -ENOMEM;
	}
	for (r = 0; r < vs->n_http && rc == 0; r++) {
		const struct gw_http_route *hr = &vs->http[r];

		snprintf(where, sizeof(where), "VirtualService %s http[%u]", name, r);
		rc = new_route(b, &id);
		if (rc < 0)
			break;
		snap->routes[id].vhost = name;
		snap->routes[id].vs_namespace = res->meta.namespace;
		snap->routes[id].vs_name = res->meta.name;
		snap->routes[id].http_index = r;
		snap->routes[id].name = hr->name;
		snap->routes[id].spec = hr;
		rc = fill_route(b, id, hr, res->meta.namespace, where);
		if (rc < 0 || mb == NULL)
			continue;
		if (hr->n_matches == 0) {
			rc = gw_match_set_builder_add_clause(mb, r, NULL, 0);
			continue;
		}
		for (m = 0; m < hr->n_matches && rc == 0; m++) {
			snprintf(where, sizeof(where),
				 "VirtualService %s http[%u].match[%u]", name, r, m);
			rc = add_clause(b, mb, &hr->matches[m], r, where);
		}
	}
	if (rc == 0 && mb != NULL) {
		snap->vhosts[v].match = gw_match_set_build(mb, b->params->n_workers,
							   b->err, b->errlen);
		if (snap->vhosts[v].match == NULL)
			rc = -EINVAL;
		else
			snap->memory += gw_match_set_memory(snap->vhosts[v].match);
	}
	gw_match_set_builder_free(mb);
	if (rc == -ENOMEM)
		gw_err(b->err, b->errlen, "out of memory compiling VirtualService %s",
		       name);
	if (rc < 0)
		return rc;
	b->vs_vhost[i] = v;
	*out = v;
	return 0;
}

int
rt_vhost_for_service(struct rt_build *b, const struct gw_model_resource *se,
		     const char *host, uint32_t *out)
{
	struct gw_route_snapshot *snap = b->snap;
	struct gw_destination dest = {.host = host};
	struct gw_route_destination *d;
	uint32_t v, id, cluster;
	const char *name;
	int rc;

	name = rt_arena_printf(&snap->arena, "%s (no VirtualService)", host);
	d = rt_arena_alloc(&snap->arena, sizeof(*d));
	if (name == NULL || d == NULL || new_vhost(b, &v) < 0 ||
	    new_route(b, &id) < 0)
		return -ENOMEM;
	rc = rt_cluster_get(b, &dest, se->meta.namespace, &cluster);
	if (rc < 0)
		return rc;
	snap->vhosts[v].name = name;
	snap->vhosts[v].service_host = host;
	snap->vhosts[v].first_route = id;
	snap->vhosts[v].n_routes = 1;
	d->cluster = cluster;
	d->weight = 100;
	snap->routes[id].vhost = name;
	snap->routes[id].destinations = d;
	snap->routes[id].n_destinations = 1;
	*out = v;
	return 0;
}
