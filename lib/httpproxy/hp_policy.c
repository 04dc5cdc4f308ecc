/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route policies the gateway applies itself, in the order of Envoy's
 * filter chain as Istio configures it (cors, fault, router):
 *   - corsPolicy: a preflight (OPTIONS with Origin and
 *     Access-Control-Request-Method) is answered here; other requests
 *     from an allowed origin get the CORS fields on their response;
 *   - fault.abort: the configured status, flag FI (fault.delay is held by
 *     the session on its timer list, flag DI);
 *   - directResponse and redirect: answered here, nothing goes upstream;
 *   - rewrite: uri prefix and authority, applied to the fresh request head.
 * Percentages were decided by the route lookup (exact, like weights).
 */
#include <string.h>

#include "gw_regex.h"
#include "hp_private.h"

/* ---- small helpers ---- */

static const struct gw_http_header *
field(const struct gw_http_head *h, const char *name)
{
	int i = gw_http_header_find(h, name, 0);

	return i >= 0 ? &h->headers[i] : NULL;
}

static bool
str_match(const struct gw_string_match *m, const char *v, size_t len)
{
	size_t n = m->value != NULL ? strlen(m->value) : 0;

	switch (m->kind) {
	case GW_MODEL_MATCH_EXACT:
		return n == len && memcmp(m->value, v, len) == 0;
	case GW_MODEL_MATCH_PREFIX:
		return n <= len && memcmp(m->value, v, n) == 0;
	case GW_MODEL_MATCH_REGEX:
		/* RE2 patterns are compiled only for routing (Hyperscan);
		 * an origin regex is treated as ".*" when it is exactly
		 * that, else it does not match (docs/http-policies.md). */
		return n == 2 && memcmp(m->value, ".*", 2) == 0;
	default:
		return false;
	}
}

static void
write_list(struct hp_writer *w, const char *name, const char *const *v,
	   uint32_t n)
{
	if (n == 0)
		return;
	hp_write_str(w, name);
	hp_write_str(w, ": ");
	for (uint32_t i = 0; i < n; i++) {
		if (i != 0)
			hp_write(w, ",", 1);
		hp_write_str(w, v[i]);
	}
	hp_write(w, "\r\n", 2);
}

/* ---- CORS ---- */

/* The allowed origin of this request (the Origin value), or NULL. */
static const struct gw_http_header *
cors_origin(const struct gw_http_head *h, const struct gw_cors *c)
{
	const struct gw_http_header *o = field(h, "origin");

	if (o == NULL || o->value_len == 0)
		return NULL;
	for (uint32_t i = 0; i < c->n_allow_origins; i++)
		if (str_match(&c->allow_origins[i], o->value, o->value_len))
			return o;
	return NULL;
}

static void
write_cors_common(struct hp_writer *w, const struct gw_cors *c,
		  const char *origin, size_t origin_len)
{
	hp_write_str(w, "access-control-allow-origin: ");
	hp_write(w, origin, origin_len);
	hp_write(w, "\r\n", 2);
	if (c->allow_credentials == 1)
		hp_write_str(w, "access-control-allow-credentials: true\r\n");
}

struct preflight {
	const struct gw_cors *c;
	const struct gw_http_header *origin;
};

static void
write_preflight(struct hp_writer *w, const void *arg)
{
	const struct preflight *p = arg;
	const struct gw_cors *c = p->c;

	write_cors_common(w, c, p->origin->value, p->origin->value_len);
	write_list(w, "access-control-allow-methods", c->allow_methods,
		   c->n_allow_methods);
	write_list(w, "access-control-allow-headers", c->allow_headers,
		   c->n_allow_headers);
	if (c->max_age_us != GW_MODEL_UNSET && c->max_age_us >= 0) {
		hp_write_str(w, "access-control-max-age: ");
		hp_write_uint(w, (uint64_t)c->max_age_us / 1000000);
		hp_write(w, "\r\n", 2);
	}
}

void
hp_policy_cors_response(struct hp_writer *w, const struct hp_session *s)
{
	const struct gw_cors *c = s->x->cors;

	if (c == NULL || s->x->cors_origin_len == 0)
		return;
	write_cors_common(w, c, s->x->cors_origin, s->x->cors_origin_len);
	write_list(w, "access-control-expose-headers", c->expose_headers,
		   c->n_expose_headers);
}

/* ---- redirect ---- */

static void
write_location(struct hp_writer *w, const void *arg)
{
	const struct hp_session *s = arg;
	const struct gw_http_head *h = &s->x->req.head;
	const struct gw_redirect *r = &s->x->route.route->spec->redirect;
	const char *scheme = r->scheme != NULL ? r->scheme : "http";
	const char *host = h->authority.ptr;
	size_t host_len = h->authority.len;
	size_t i;
	uint16_t port = 0;
	bool keep_port = true;

	if (r->authority != NULL) {
		host = r->authority;
		host_len = strlen(r->authority);
	}
	/* the port is written apart: split it off the authority */
	for (i = host_len; i > 0 && host[i - 1] >= '0' && host[i - 1] <= '9'; i--)
		;
	if (i > 0 && i < host_len && host[i - 1] == ':') {
		port = 0;
		for (size_t k = i; k < host_len; k++)
			port = (uint16_t)(port * 10 + (uint16_t)(host[k] - '0'));
		host_len = i - 1;
	}
	if (r->port != 0) {
		port = r->port;
	} else if (r->derive_port == GW_MODEL_DERIVE_PORT_FROM_REQUEST_PORT) {
		port = s->listener_port;
	} else if (r->derive_port == GW_MODEL_DERIVE_PORT_FROM_PROTOCOL_DEFAULT) {
		keep_port = false;
	}
	/* a scheme's default port is left out, as Envoy does */
	if ((strcmp(scheme, "http") == 0 && port == 80) ||
	    (strcmp(scheme, "https") == 0 && port == 443))
		keep_port = false;
	hp_write_str(w, "location: ");
	hp_write_str(w, scheme);
	hp_write_str(w, "://");
	hp_write(w, host, host_len);
	if (keep_port && port != 0) {
		hp_write(w, ":", 1);
		hp_write_uint(w, port);
	}
	if (r->uri != NULL) {
		hp_write_str(w, r->uri);
		/* the query stays unless the new uri brings its own */
		if (strchr(r->uri, '?') == NULL && h->query.ptr != NULL) {
			hp_write(w, "?", 1);
			hp_write(w, h->query.ptr, h->query.len);
		}
	} else {
		hp_write(w, h->path.ptr, h->path.len);
		if (h->query.ptr != NULL) {
			hp_write(w, "?", 1);
			hp_write(w, h->query.ptr, h->query.len);
		}
	}
	hp_write(w, "\r\n", 2);
}

/* ---- the decision ---- */

bool
hp_policy_answer(struct hp_session *s)
{
	const struct gw_route_result *res = &s->x->route;
	const struct gw_http_route *spec = res->route->spec;
	const struct gw_http_head *h = &s->x->req.head;

	s->x->cors = NULL;
	s->x->cors_origin_len = 0;
	if (spec == NULL)
		return false;
	if (spec->has_cors) {
		const struct gw_http_header *o = cors_origin(h, &spec->cors);

		if (o != NULL && h->method == GW_HTTP_METHOD_OPTIONS &&
		    field(h, "access-control-request-method") != NULL) {
			struct preflight p = { &spec->cors, o };

			hp_local_respond(s, 200, "-", NULL, 0, NULL,
					 write_preflight, &p, false);
			return true;
		}
		if (o != NULL && o->value_len <= sizeof(s->x->cors_origin)) {
			/* the request's head goes away before the response */
			memcpy(s->x->cors_origin, o->value, o->value_len);
			s->x->cors_origin_len = (uint16_t)o->value_len;
			s->x->cors = &spec->cors;
		}
	}
	if (res->fault_abort) {
		s->px->stats.fault_aborts++;
		hp_local_respond(s, spec->fault.abort.http_status, "FI",
				 "fault filter abort\n", 19, "text/plain",
				 NULL, NULL, false);
		return true;
	}
	if (spec->has_direct_response) {
		const struct gw_direct_response *d = &spec->direct_response;

		s->px->stats.direct_responses++;
		hp_local_respond(s, d->status, "-",
				 d->has_body ? d->body : NULL,
				 d->has_body ? d->body_len : 0,
				 d->has_body ? "text/plain" : NULL,
				 NULL, NULL, false);
		return true;
	}
	if (spec->has_redirect) {
		s->px->stats.redirects++;
		hp_local_respond(s, spec->redirect.code != 0 ?
				 spec->redirect.code : 301, "-", NULL, 0, NULL,
				 write_location, s, false);
		return true;
	}
	return false;
}

void
hp_policy_rewrite(const struct hp_session *s, struct hp_request_rewrite *rw)
{
	const struct gw_http_route *spec = s->x->route.route->spec;
	const struct gw_http_head *h = &s->x->req.head;
	size_t path_len = h->path.len;

	if (spec == NULL || !spec->has_rewrite)
		return;
	if (spec->rewrite.authority != NULL) {
		rw->host = spec->rewrite.authority;
		rw->host_len = (uint32_t)strlen(spec->rewrite.authority);
	}
	if (s->x->route.route->uri_regex != NULL) {
		/* uriRegexRewrite: every match in the path (not the query,
		 * which follows unchanged, as Envoy) replaced; the result
		 * lives in the proxy's buffer until the head is written */
		struct gw_http_proxy *px = s->px;
		size_t outlen = 0;
		int rc = gw_regex_replace_all(s->x->route.route->uri_regex,
			gw_route_regex_scratch(s->x->snap, px->worker_id,
					       s->x->route.route),
			h->path.ptr, h->path.len, spec->rewrite.uri_regex_rewrite,
			px->rewrite_path, sizeof(px->rewrite_path), &outlen);

		if (rc > 0) {
			rw->path_prefix = px->rewrite_path;
			rw->path_prefix_len = outlen;
			rw->path_skip = (uint32_t)path_len;
			rw->rewrite_path = true;
		} else if (rc < 0) {
			px->stats.rewrite_too_long++;
		}
	} else if (spec->rewrite.uri != NULL) {
		/* Istio: the matched prefix is replaced; with an exact or
		 * regex match (or none), the whole path */
		size_t skip = path_len;

		for (uint32_t i = 0; i < spec->n_matches; i++) {
			const struct gw_string_match *u = &spec->matches[i].uri;
			size_t n = u->value != NULL ? strlen(u->value) : 0;

			if (u->kind == GW_MODEL_MATCH_PREFIX && n <= path_len &&
			    memcmp(u->value, h->path.ptr, n) == 0) {
				skip = n;
				break;
			}
		}
		rw->path_prefix = spec->rewrite.uri;
		rw->path_prefix_len = strlen(spec->rewrite.uri);
		rw->path_skip = (uint32_t)skip;
		rw->rewrite_path = true;
	}
}
