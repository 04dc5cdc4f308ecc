/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VirtualService: decoding and Istio's validation rules
 * (pkg/config/validation: ValidateVirtualService, validateHTTPRoute and
 * friends), with messages worded like Istio's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model_private.h"

/* ------------------------------------------------------------------ */
/* Destinations                                                        */
/* ------------------------------------------------------------------ */

static void
port_selector_field(struct decoder *d, void *obj, const char *key,
		    const struct gw_model_node *v)
{
	uint16_t *port = obj;

	(void)key;
	*port = dec_port(d, v);
}

static void
destination_field(struct decoder *d, void *obj, const char *key,
		  const struct gw_model_node *v)
{
	static const char *const port_known[] = { "number", NULL };
	struct gw_destination *dst = obj;

	if (key_is(key, "host")) {
		dst->host = dec_string(d, v);
		if (strcmp(dst->host, "*") == 0)
			dec_fail(d, v, "invalid destination host *");
		dec_check_host(d, v, dst->host, true);
	} else if (key_is(key, "subset")) {
		dst->subset = dec_string(d, v);
		if (dst->subset[0] == '\0')
			dec_fail(d, v, "subset name cannot be empty");
		if (!model_dns1123_label(dst->subset))
			dec_fail(d, v, "subset name is invalid: %.80s",
				 dst->subset);
	} else {
		dec_fields(d, v, port_known, NULL, &dst->port,
			   port_selector_field);
	}
}

static void
destination_decode(struct decoder *d, const struct gw_model_node *n,
		   struct gw_destination *dst)
{
	static const char *const known[] = { "host", "subset", "port", NULL };

	dec_fields(d, n, known, NULL, dst, destination_field);
	if (dst->host == NULL)
		dec_fail_field(d, n, "host", "required field is missing");
}

struct route_dest_ctx {
	struct gw_http_destination *hd;     /* HTTP, or */
	struct gw_tcp_destination *td;      /* TCP */
	bool has_destination;
};

static void
route_dest_field(struct decoder *d, void *obj, const char *key,
		 const struct gw_model_node *v)
{
	struct route_dest_ctx *c = obj;
	struct gw_destination *dst = c->hd != NULL ? &c->hd->destination :
		&c->td->destination;
	uint32_t weight;

	if (key_is(key, "destination")) {
		destination_decode(d, v, dst);
		c->has_destination = true;
	} else if (key_is(key, "weight")) {
		/* Istio's validateWeight: an int32 that is not negative. */
		int64_t w = dec_int(d, v, INT32_MIN, INT32_MAX);

		if (w < 0)
			dec_fail(d, v, "weight %d < 0", (int)w);
		weight = (uint32_t)w;
		if (c->hd != NULL) {
			c->hd->weight = weight;
			c->hd->weight_set = true;
		} else {
			c->td->weight = weight;
			c->td->weight_set = true;
		}
	} else {
		dec_headers(d, v, &c->hd->headers);
	}
}

/* A route list: destinations, weights >= 0, total > 0 when several. */
static uint64_t
route_list_decode(struct decoder *d, const struct gw_model_node *n,
		  struct gw_http_destination *hd, struct gw_tcp_destination *td)
{
	static const char *const http_known[] = {
		"destination", "weight", "headers", NULL,
	};
	static const char *const tcp_known[] = { "destination", "weight", NULL };
	uint64_t total = 0;

	for (uint32_t i = 0; i < n->seq.n; i++) {
		const struct gw_model_node *item = n->seq.items[i];
		struct route_dest_ctx c = {
			.hd = hd != NULL ? &hd[i] : NULL,
			.td = td != NULL ? &td[i] : NULL,
		};
		size_t mark = dec_path_index(d, i);

		dec_fields(d, item, hd != NULL ? http_known : tcp_known, NULL,
			   &c, route_dest_field);
		if (!c.has_destination)
			dec_fail_field(d, item, "destination",
				       "destination is required");
		total += hd != NULL ? hd[i].weight : td[i].weight;
		dec_path_restore(d, mark);
	}
	if (n->seq.n > 1 && total == 0)
		dec_fail(d, n, "total destination weight = 0");
	return total;
}

/* ------------------------------------------------------------------ */
/* Matches                                                             */
/* ------------------------------------------------------------------ */

static bool
header_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

enum header_map_kind {
	HEADERS,
	WITHOUT_HEADERS,
	QUERY_PARAMS,
};

/* headers / withoutHeaders / queryParams: name -> StringMatch. */
static struct gw_header_match *
header_map_decode(struct decoder *d, const struct gw_model_node *n,
		  enum header_map_kind kind, uint32_t *count)
{
	struct gw_header_match *hm;

	dec_require_map(d, n);
	hm = dec_array(d, n->map.n, sizeof(*hm));
	for (uint32_t i = 0; i < n->map.n; i++) {
		const struct gw_model_node *k = n->map.pairs[i].key;
		const struct gw_model_node *v = n->map.pairs[i].value;
		size_t mark = dec_path_key(d, k->scalar.value);
		char *name = dec_strdup(d, dec_string(d, k));

		if (kind != QUERY_PARAMS && !header_name_ok(name))
			dec_fail(d, k, "header name %.80s is not a valid "
				 "header name", name);
		if (kind == QUERY_PARAMS && name[0] == '\0')
			dec_fail(d, k, "query parameter name cannot be empty");
		if (tree_is_null(v))
			dec_fail(d, v, "%s match %.80s cannot be null",
				 kind == QUERY_PARAMS ? "query parameter" :
				 "header", name);
		/* HTTP header names compare case-insensitively. */
		if (kind != QUERY_PARAMS)
			for (char *p = name; *p != '\0'; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		hm[i].name = name;
		hm[i].match = dec_string_match(d, v);
		if (hm[i].match.kind == GW_MODEL_MATCH_PREFIX &&
		    hm[i].match.value[0] == '\0')
			dec_fail(d, v, "prefix string match should not be empty");
		if (kind == QUERY_PARAMS &&
		    hm[i].match.kind == GW_MODEL_MATCH_PREFIX)
			dec_fail(d, v, "prefix match is not supported for "
				 "query parameters");
		/* Istio reads withoutHeaders regex "*" as "present". */
		if (kind == WITHOUT_HEADERS &&
		    hm[i].match.kind == GW_MODEL_MATCH_REGEX &&
		    strcmp(hm[i].match.value, "*") == 0)
			hm[i].match.kind = GW_MODEL_MATCH_NONE;
		if (hm[i].match.kind == GW_MODEL_MATCH_NONE) {
			hm[i].match.value = NULL;
			hm[i].present_only = true;
		}
		dec_path_restore(d, mark);
	}
	*count = n->map.n;
	return hm;
}

/* uri, scheme, method, authority: a StringMatch that says something. */
static struct gw_string_match
request_match_decode(struct decoder *d, const struct gw_model_node *v,
		     bool empty_prefix_ok)
{
	struct gw_string_match m = dec_string_match(d, v);

	if (m.kind == GW_MODEL_MATCH_NONE)
		dec_fail(d, v, "must set one of exact, prefix or regex");
	if (m.kind == GW_MODEL_MATCH_PREFIX && m.value[0] == '\0' &&
	    !empty_prefix_ok)
		dec_fail(d, v, "prefix string match should not be empty");
	return m;
}

static void
match_field(struct decoder *d, void *obj, const char *key,
	    const struct gw_model_node *v)
{
	struct gw_http_match *m = obj;

	if (key_is(key, "name"))
		m->name = dec_string(d, v);
	else if (key_is(key, "uri"))
		m->uri = request_match_decode(d, v, true);
	else if (key_is(key, "scheme"))
		m->scheme = request_match_decode(d, v, false);
	else if (key_is(key, "method"))
		m->method = request_match_decode(d, v, false);
	else if (key_is(key, "authority"))
		m->authority = request_match_decode(d, v, false);
	else if (key_is(key, "headers"))
		m->headers = header_map_decode(d, v, HEADERS, &m->n_headers);
	else if (key_is(key, "withoutHeaders"))
		m->without_headers = header_map_decode(d, v, WITHOUT_HEADERS,
			&m->n_without_headers);
	else if (key_is(key, "queryParams"))
		m->query_params = header_map_decode(d, v, QUERY_PARAMS,
			&m->n_query_params);
	else if (key_is(key, "port"))
		m->port = dec_port(d, v);
	else
		m->ignore_uri_case = dec_bool(d, v);
}

static void
matches_decode(struct decoder *d, const struct gw_model_node *n,
	       struct gw_http_route *r)
{
	static const char *const known[] = {
		"name", "uri", "scheme", "method", "authority", "headers",
		"withoutHeaders", "queryParams", "port", "ignoreUriCase", NULL,
	};
	static const char *const unsupported[] = {
		"sourceLabels", "gateways", "sourceNamespace", "statPrefix",
		NULL,
	};

	dec_require_seq(d, n);
	r->matches = dec_array(d, n->seq.n, sizeof(*r->matches));
	r->n_matches = n->seq.n;
	for (uint32_t i = 0; i < n->seq.n; i++) {
		size_t mark = dec_path_index(d, i);

		dec_fields(d, n->seq.items[i], known, unsupported,
			   &r->matches[i], match_field);
		dec_path_restore(d, mark);
	}
}

/* ------------------------------------------------------------------ */
/* HTTP routes                                                         */
/* ------------------------------------------------------------------ */

struct mirror_ctx {
	struct gw_mirror *m;
	bool has_destination;
	bool has_percentage;
};

static void
mirror_policy_field(struct decoder *d, void *obj, const char *key,
		    const struct gw_model_node *v)
{
	struct mirror_ctx *c = obj;

	if (key_is(key, "destination")) {
		destination_decode(d, v, &c->m->destination);
		c->has_destination = true;
	} else {
		c->m->ppm = model_percent_decode(d, v);
		c->has_percentage = true;
	}
}

static void
mirrors_decode(struct decoder *d, const struct gw_model_node *n,
	       struct gw_http_route *r)
{
	static const char *const known[] = {
		"destination", "percentage", NULL,
	};

	dec_require_seq(d, n);
	r->mirrors = dec_array(d, n->seq.n, sizeof(*r->mirrors));
	r->n_mirrors = n->seq.n;
	for (uint32_t i = 0; i < n->seq.n; i++) {
		struct mirror_ctx c = { .m = &r->mirrors[i] };
		size_t mark = dec_path_index(d, i);

		dec_fields(d, n->seq.items[i], known, NULL, &c,
			   mirror_policy_field);
		if (!c.has_destination)
			dec_fail_field(d, n->seq.items[i], "destination",
				       "destination is required for mirrors");
		if (!c.has_percentage)
			r->mirrors[i].ppm = GW_MODEL_PPM_100;
		dec_path_restore(d, mark);
	}
}

struct http_ctx {
	struct gw_http_route *r;
	bool has_mirror_percentage;
	bool has_mirror_percent;
	uint32_t mirror_percentage_ppm;
	uint32_t mirror_percent_ppm;
};

static void
http_field(struct decoder *d, void *obj, const char *key,
	   const struct gw_model_node *v)
{
	struct http_ctx *c = obj;
	struct gw_http_route *r = c->r;

	if (key_is(key, "name")) {
		r->name = dec_string(d, v);
	} else if (key_is(key, "match")) {
		matches_decode(d, v, r);
	} else if (key_is(key, "route")) {
		dec_require_seq(d, v);
		r->route = dec_array(d, v->seq.n, sizeof(*r->route));
		r->n_route = v->seq.n;
		r->total_weight = route_list_decode(d, v, r->route, NULL);
	} else if (key_is(key, "redirect")) {
		r->has_redirect = true;
		model_redirect_decode(d, v, &r->redirect);
	} else if (key_is(key, "directResponse")) {
		r->has_direct_response = true;
		model_direct_response_decode(d, v, &r->direct_response);
	} else if (key_is(key, "rewrite")) {
		r->has_rewrite = true;
		model_rewrite_decode(d, v, &r->rewrite);
	} else if (key_is(key, "timeout")) {
		r->timeout_us = dec_duration(d, v);
	} else if (key_is(key, "retries")) {
		r->has_retries = true;
		model_retries_decode(d, v, &r->retries);
	} else if (key_is(key, "fault")) {
		r->has_fault = true;
		model_fault_decode(d, v, &r->fault);
	} else if (key_is(key, "mirror")) {
		struct gw_destination *m = dec_alloc(d, sizeof(*m));

		destination_decode(d, v, m);
		r->mirror = m;
	} else if (key_is(key, "mirrors")) {
		mirrors_decode(d, v, r);
	} else if (key_is(key, "mirrorPercentage")) {
		c->mirror_percentage_ppm = model_percent_decode(d, v);
		c->has_mirror_percentage = true;
	} else if (key_is(key, "mirror_percent")) {
		int64_t pct = dec_int(d, v, 0, UINT32_MAX);

		if (pct > 100)
			dec_fail(d, v, "mirror_percent must have a max value "
				 "of 100 (it has %d)", (int)pct);
		c->mirror_percent_ppm = (uint32_t)pct * 10000u;
		c->has_mirror_percent = true;
	} else if (key_is(key, "corsPolicy")) {
		r->has_cors = true;
		model_cors_decode(d, v, &r->cors);
	} else {
		dec_headers(d, v, &r->headers);
	}
}

static const struct gw_model_node *
key_node(const struct gw_model_node *map, const char *key)
{
	const struct gw_model_node *k = tree_map_key(map, key);

	return k != NULL ? k : map;
}

/* validateHTTPRouteConflict, in Istio's order and words. */
static void
http_conflicts(struct decoder *d, const struct gw_model_node *n,
	       const struct gw_http_route *r)
{
	const struct gw_model_node *at;

	if (r->has_redirect) {
		at = key_node(n, "redirect");
		if (r->n_route > 0)
			dec_fail(d, at, "HTTP route cannot contain both route "
				 "and redirect");
		if (r->has_fault)
			dec_fail(d, at, "HTTP route cannot contain both fault "
				 "and redirect");
		if (r->has_rewrite)
			dec_fail(d, at, "HTTP route rule cannot contain both "
				 "rewrite and redirect");
		if (r->has_direct_response)
			dec_fail(d, at, "HTTP route rule cannot contain both "
				 "direct_response and redirect");
	} else if (r->has_direct_response) {
		at = key_node(n, "directResponse");
		if (r->n_route > 0)
			dec_fail(d, at, "HTTP route cannot contain both route "
				 "and direct_response");
		if (r->has_fault)
			dec_fail(d, at, "HTTP route cannot contain both fault "
				 "and direct_response");
		if (r->has_rewrite)
			dec_fail(d, at, "HTTP route rule cannot contain both "
				 "rewrite and direct_response");
	} else if (r->n_route == 0) {
		dec_fail(d, n, "HTTP route, redirect or direct_response is "
			 "required");
	}
	if (r->mirror != NULL && r->n_mirrors > 0)
		dec_fail(d, key_node(n, "mirrors"), "HTTP route cannot contain "
			 "both mirror and mirrors");
}

/* validateAuthorityRewrite: the authority is rewritten in one place. */
static void
http_authority_once(struct decoder *d, const struct gw_model_node *n,
		    const struct gw_http_route *r)
{
	const struct gw_header_ops *req = &r->headers.request;
	bool set = r->has_rewrite && r->rewrite.authority != NULL &&
		r->rewrite.authority[0] != '\0';

	for (int pass = 0; pass < 2; pass++) {
		const struct gw_kv *kv = pass == 0 ? req->set : req->add;
		uint32_t count = pass == 0 ? req->n_set : req->n_add;

		for (uint32_t i = 0; i < count; i++) {
			if (strcasecmp(kv[i].key, ":authority") != 0 &&
			    strcasecmp(kv[i].key, "host") != 0)
				continue;
			if (set)
				dec_fail(d, key_node(n, "headers"),
					 "authority header cannot be set "
					 "multiple times");
			set = true;
		}
	}
}

static void
http_route_decode(struct decoder *d, const struct gw_model_node *n,
		  struct gw_http_route *r)
{
	static const char *const known[] = {
		"name", "match", "route", "redirect", "directResponse",
		"rewrite", "timeout", "retries", "fault", "mirror", "mirrors",
		"mirrorPercentage", "mirror_percent", "corsPolicy", "headers",
		NULL,
	};
	static const char *const unsupported[] = { "delegate", NULL };
	struct http_ctx c = { .r = r };

	r->timeout_us = GW_MODEL_UNSET;
	dec_fields(d, n, known, unsupported, &c, http_field);
	http_conflicts(d, n, r);
	http_authority_once(d, n, r);

	/* mirrorPercentage, else the deprecated mirror_percent, else all. */
	r->mirror_ppm = c.has_mirror_percentage ? c.mirror_percentage_ppm :
		c.has_mirror_percent ? c.mirror_percent_ppm : GW_MODEL_PPM_100;
	if (r->mirror != NULL) {
		/* One list of mirrors for the compiler, legacy included. */
		r->mirrors = dec_array(d, 1, sizeof(*r->mirrors));
		r->mirrors[0].destination = *r->mirror;
		r->mirrors[0].ppm = r->mirror_ppm;
		r->mirrors[0].legacy = true;
		r->n_mirrors = 1;
	}
}

/* ------------------------------------------------------------------ */
/* TCP routes                                                          */
/* ------------------------------------------------------------------ */

static void
tcp_match_field(struct decoder *d, void *obj, const char *key,
		const struct gw_model_node *v)
{
	struct gw_tcp_match *m = obj;

	if (key_is(key, "port")) {
		m->port = dec_port(d, v);
		return;
	}
	dec_require_seq(d, v);
	m->destination_subnets = dec_array(d, v->seq.n,
					   sizeof(*m->destination_subnets));
	m->n_destination_subnets = v->seq.n;
	for (uint32_t i = 0; i < v->seq.n; i++) {
		size_t mark = dec_path_index(d, i);

		dec_ip_prefix(d, v->seq.items[i], true,
			      &m->destination_subnets[i]);
		dec_path_restore(d, mark);
	}
}

static void
tcp_field(struct decoder *d, void *obj, const char *key,
	  const struct gw_model_node *v)
{
	static const char *const match_known[] = {
		"destinationSubnets", "port", NULL,
	};
	static const char *const match_unsupported[] = {
		"sourceLabels", "gateways", "sourceNamespace", "sourceSubnet",
		NULL,
	};
	struct gw_tcp_route *t = obj;

	dec_require_seq(d, v);
	if (key_is(key, "route")) {
		t->route = dec_array(d, v->seq.n, sizeof(*t->route));
		t->n_route = v->seq.n;
		t->total_weight = route_list_decode(d, v, NULL, t->route);
		return;
	}
	t->matches = dec_array(d, v->seq.n, sizeof(*t->matches));
	t->n_matches = v->seq.n;
	for (uint32_t i = 0; i < v->seq.n; i++) {
		size_t mark = dec_path_index(d, i);

		dec_fields(d, v->seq.items[i], match_known, match_unsupported,
			   &t->matches[i], tcp_match_field);
		dec_path_restore(d, mark);
	}
}

/* ------------------------------------------------------------------ */
/* The spec                                                            */
/* ------------------------------------------------------------------ */

static bool
gateway_name_ok(const char *g)
{
	const char *slash = strchr(g, '/');
	char ns[64];
	size_t len;

	if (slash == NULL)
		return strcmp(g, "mesh") == 0 || model_dns1123_subdomain(g);
	len = (size_t)(slash - g);
	if (len == 0 || len >= sizeof(ns))
		return false;
	memcpy(ns, g, len);
	ns[len] = '\0';
	return model_dns1123_label(ns) && model_dns1123_label(slash + 1);
}

static void
vs_field(struct decoder *d, void *obj, const char *key,
	 const struct gw_model_node *v)
{
	struct gw_vs *vs = obj;

	if (key_is(key, "hosts")) {
		vs->hosts = dec_string_list(d, v, &vs->n_hosts);
	} else if (key_is(key, "gateways")) {
		vs->gateways = dec_string_list(d, v, &vs->n_gateways);
		for (uint32_t i = 0; i < vs->n_gateways; i++)
			if (!gateway_name_ok(vs->gateways[i]))
				dec_fail(d, v->seq.items[i], "invalid gateway "
					 "name \"%.80s\"", vs->gateways[i]);
	} else if (key_is(key, "exportTo")) {
		vs->export_to = dec_export_to(d, v, &vs->n_export_to);
	} else if (key_is(key, "http")) {
		dec_require_seq(d, v);
		vs->http = dec_array(d, v->seq.n, sizeof(*vs->http));
		vs->n_http = v->seq.n;
		for (uint32_t i = 0; i < v->seq.n; i++) {
			size_t mark = dec_path_index(d, i);

			http_route_decode(d, v->seq.items[i], &vs->http[i]);
			dec_path_restore(d, mark);
		}
	} else {
		static const char *const tcp_known[] = {
			"match", "route", NULL,
		};

		dec_require_seq(d, v);
		vs->tcp = dec_array(d, v->seq.n, sizeof(*vs->tcp));
		vs->n_tcp = v->seq.n;
		for (uint32_t i = 0; i < v->seq.n; i++) {
			const struct gw_model_node *item = v->seq.items[i];
			size_t mark = dec_path_index(d, i);

			dec_fields(d, item, tcp_known, NULL, &vs->tcp[i],
				   tcp_field);
			if (vs->tcp[i].n_route == 0)
				dec_fail(d, item, "TCP route is required");
			dec_path_restore(d, mark);
		}
	}
}

static bool
host_is_gateway_bound(const struct gw_vs *vs)
{
	for (uint32_t i = 0; i < vs->n_gateways; i++)
		if (strcmp(vs->gateways[i], "mesh") == 0)
			return false;
	return vs->n_gateways > 0;
}

void
model_vs_decode(struct decoder *d, const struct gw_model_node *spec,
		struct gw_vs *vs)
{
	static const char *const known[] = {
		"hosts", "gateways", "http", "tcp", "exportTo", NULL,
	};
	static const char *const unsupported[] = { "tls", NULL };
	const struct gw_model_node *hosts;
	size_t mark;

	dec_fields(d, spec, known, unsupported, vs, vs_field);
	hosts = tree_map_get(spec, "hosts");
	/* A VirtualService without hosts is a delegate: not supported. */
	if (vs->n_hosts == 0)
		dec_fail_field(d, hosts != NULL ? hosts : spec, "hosts",
			       "at least one host is required");
	mark = dec_path_key(d, "hosts");
	for (uint32_t i = 0; i < vs->n_hosts; i++) {
		const struct gw_model_node *h = hosts->seq.items[i];
		size_t m2 = dec_path_index(d, i);

		dec_check_host(d, h, vs->hosts[i], true);
		if (strcmp(vs->hosts[i], "*") == 0 &&
		    !host_is_gateway_bound(vs))
			dec_fail(d, h, "wildcard host * is not allowed for "
				 "virtual services bound to the mesh gateway");
		for (uint32_t j = 0; j < i; j++)
			if (strcasecmp(vs->hosts[i], vs->hosts[j]) == 0)
				dec_fail(d, h, "duplicate hosts in virtual "
					 "service: %.80s & %.80s", vs->hosts[j],
					 vs->hosts[i]);
		dec_path_restore(d, m2);
	}
	dec_path_restore(d, mark);
	if (vs->n_http == 0 && vs->n_tcp == 0)
		dec_fail(d, spec, "http, tcp or tls must be provided in "
			 "virtual service");
}
