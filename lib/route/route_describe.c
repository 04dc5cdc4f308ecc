/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `gwctl describe route HOST`: what the snapshot does with a host, on
 * every listener that resolves it: the virtual host, its routes in order
 * with their matches, weighted destinations, mirrors and policies, then
 * the clusters used with their load balancer and endpoints.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "route_private.h"

static const char *
kind_word(enum gw_string_match_kind k)
{
	switch (k) {
	case GW_MODEL_MATCH_EXACT:  return "exact";
	case GW_MODEL_MATCH_PREFIX: return "prefix";
	case GW_MODEL_MATCH_REGEX:  return "regex";
	default:                    return "present";
	}
}

static void
print_string(FILE *f, const char **sep, const char *what,
	     const struct gw_string_match *sm)
{
	if (sm->kind == GW_MODEL_MATCH_NONE)
		return;
	fprintf(f, "%s%s %s \"%s\"", *sep, what, kind_word(sm->kind), sm->value);
	*sep = ", ";
}

static void
print_named(FILE *f, const char **sep, const char *what,
	    const struct gw_header_match *hm, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (hm[i].present_only || hm[i].match.kind == GW_MODEL_MATCH_NONE)
			fprintf(f, "%s%s %s present", *sep, what, hm[i].name);
		else
			fprintf(f, "%s%s %s %s \"%s\"", *sep, what, hm[i].name,
				kind_word(hm[i].match.kind), hm[i].match.value);
		*sep = ", ";
	}
}

static void
print_match(FILE *f, const struct gw_http_match *m)
{
	const char *sep = "";

	print_string(f, &sep, "uri", &m->uri);
	print_string(f, &sep, "scheme", &m->scheme);
	print_string(f, &sep, "method", &m->method);
	print_string(f, &sep, "authority", &m->authority);
	print_named(f, &sep, "header", m->headers, m->n_headers);
	print_named(f, &sep, "without header", m->without_headers,
		    m->n_without_headers);
	print_named(f, &sep, "query", m->query_params, m->n_query_params);
	if (m->port != 0) {
		fprintf(f, "%sport %u", sep, m->port);
		sep = ", ";
	}
	if (m->ignore_uri_case)
		fprintf(f, "%signoreUriCase", sep);
	if (*sep == '\0')
		fprintf(f, "any request");
}

static void
print_ppm(FILE *f, uint32_t ppm)
{
	fprintf(f, "%u", ppm / 10000);
	if (ppm % 10000 != 0) {
		char frac[8];
		int n;

		snprintf(frac, sizeof(frac), "%04u", ppm % 10000);
		for (n = 3; n > 0 && frac[n] == '0'; n--)
			frac[n] = '\0';
		fprintf(f, ".%s", frac);
	}
	fputc('%', f);
}

static void
print_policies(FILE *f, const struct gw_http_route *hr)
{
	if (hr->has_redirect)
		fprintf(f, "      redirect %u%s%s%s%s\n", hr->redirect.code,
			hr->redirect.uri ? " uri " : "",
			hr->redirect.uri ? hr->redirect.uri : "",
			hr->redirect.authority ? " authority " : "",
			hr->redirect.authority ? hr->redirect.authority : "");
	if (hr->has_direct_response)
		fprintf(f, "      directResponse %u\n", hr->direct_response.status);
	if (hr->has_rewrite)
		fprintf(f, "      rewrite%s%s%s%s\n",
			hr->rewrite.uri ? " uri " : "",
			hr->rewrite.uri ? hr->rewrite.uri : "",
			hr->rewrite.authority ? " authority " : "",
			hr->rewrite.authority ? hr->rewrite.authority : "");
	if (hr->timeout_us != GW_MODEL_UNSET)
		fprintf(f, "      timeout %" PRId64 "ms\n", hr->timeout_us / 1000);
	if (hr->has_retries)
		fprintf(f, "      retries %d%s%s\n", hr->retries.attempts,
			hr->retries.retry_on ? " on " : "",
			hr->retries.retry_on ? hr->retries.retry_on : "");
	if (hr->has_fault && hr->fault.has_delay) {
		fprintf(f, "      fault delay %" PRId64 "ms for ",
			hr->fault.delay.fixed_delay_us / 1000);
		print_ppm(f, hr->fault.delay.ppm);
		fputc('\n', f);
	}
	if (hr->has_fault && hr->fault.has_abort) {
		fprintf(f, "      fault abort %u for ", hr->fault.abort.http_status);
		print_ppm(f, hr->fault.abort.ppm);
		fputc('\n', f);
	}
	if (hr->has_cors)
		fprintf(f, "      corsPolicy (%u origins)\n", hr->cors.n_allow_origins);
}

static void
print_vhost(FILE *f, const struct gw_route_snapshot *snap,
	    const struct rt_vhost *vh, uint8_t *used)
{
	uint32_t r, d, m;

	for (r = 0; r < vh->n_routes; r++) {
		const struct gw_route *rt = &snap->routes[vh->first_route + r];
		const struct gw_http_route *hr = rt->spec;

		fprintf(f, "  route %u", r);
		if (rt->name != NULL)
			fprintf(f, " \"%s\"", rt->name);
		fprintf(f, ":");
		if (hr == NULL || hr->n_matches == 0) {
			fprintf(f, " any request\n");
		} else {
			fputc('\n', f);
			for (m = 0; m < hr->n_matches; m++) {
				fprintf(f, "    %s ", m == 0 ? "match" : "or   ");
				print_match(f, &hr->matches[m]);
				fputc('\n', f);
			}
		}
		for (d = 0; d < rt->n_destinations; d++) {
			const struct gw_route_destination *dst = &rt->destinations[d];

			fprintf(f, "    -> %s", snap->clusters[dst->cluster].name);
			if (rt->n_destinations > 1)
				fprintf(f, " weight %u", dst->weight);
			fputc('\n', f);
			used[dst->cluster] = 1;
		}
		for (d = 0; d < rt->n_mirrors; d++) {
			fprintf(f, "    mirror %s ",
				snap->clusters[rt->mirrors[d].cluster].name);
			print_ppm(f, rt->mirrors[d].ppm);
			fputc('\n', f);
			used[rt->mirrors[d].cluster] = 1;
		}
		if (hr != NULL)
			print_policies(f, hr);
	}
}

static void
print_cluster(FILE *f, const struct gw_route_cluster *c)
{
	uint32_t e, k;

	fprintf(f, "  %s: %s", c->name, gw_lb_algorithm_name(c->lb_policy));
	if (c->hash_key != GW_ROUTE_HASH_NONE)
		fprintf(f, " on %s%s%s",
			c->hash_key == GW_ROUTE_HASH_HEADER ? "header " :
			c->hash_key == GW_ROUTE_HASH_COOKIE ? "cookie " :
			c->hash_key == GW_ROUTE_HASH_QUERY_PARAM ? "query " :
			"source ip", c->hash_name ? c->hash_name : "", "");
	fprintf(f, ", %u endpoint%s", c->n_endpoints,
		c->n_endpoints == 1 ? "" : "s");
	if (!c->service_found)
		fprintf(f, " (no ServiceEntry for %s)", c->host);
	else if (!c->subset_found)
		fprintf(f, " (no DestinationRule defines subset %s)", c->subset);
	fputc('\n', f);
	for (e = 0; e < c->n_endpoints; e++) {
		const struct gw_route_endpoint *ep = &c->endpoints[e];

		fprintf(f, "    %s:%u weight %u", ep->address, ep->port, ep->weight);
		for (k = 0; k < ep->n_labels; k++)
			fprintf(f, "%s%s=%s", k == 0 ? " " : ",", ep->labels[k].key,
				ep->labels[k].value);
		fputc('\n', f);
	}
}

int
gw_route_snapshot_describe(const struct gw_route_snapshot *snap,
			   const char *host, char **out, size_t *len)
{
	uint32_t *vhost_of = NULL, l, l2, t, c, found = 0;
	uint8_t *used = NULL;
	char norm[256];
	FILE *f;
	int n;

	*out = NULL;
	*len = 0;
	f = open_memstream(out, len);
	if (f == NULL)
		return -ENOMEM;
	vhost_of = malloc((snap->n_listeners + 1) * sizeof(*vhost_of));
	used = calloc(snap->n_clusters + 1, 1);
	n = rt_host_normalise(host, (uint32_t)strlen(host), norm, sizeof(norm));
	if (vhost_of == NULL || used == NULL || n < 0) {
		fclose(f);
		free(*out);
		*out = NULL;
		free(vhost_of);
		free(used);
		return n < 0 ? -EINVAL : -ENOMEM;
	}
	/* explicit matches only: a VIP's fallback is not "resolving" a host */
	for (l = 0; l < snap->n_listeners; l++) {
		const struct rt_listener *li = &snap->listeners[l];

		vhost_of[l] = RT_NONE;
		for (t = 0; t < li->n_tables && vhost_of[l] == RT_NONE; t++)
			vhost_of[l] = rt_table_find_vhost(&snap->tables[li->tables[t]],
							  norm, (uint32_t)n);
	}
	for (l = 0; l < snap->n_listeners; l++) {
		const struct rt_vhost *vh;
		bool first = true;

		if (vhost_of[l] == RT_NONE)
			continue;
		for (l2 = 0; l2 < l; l2++)
			if (vhost_of[l2] == vhost_of[l])
				break;
		if (l2 < l)
			continue; /* printed with an earlier listener */
		vh = &snap->vhosts[vhost_of[l]];
		fprintf(f, "%sHost %s: virtual host %s\n", found ? "\n" : "",
			host, vh->name);
		fprintf(f, "  listeners:");
		for (l2 = l; l2 < snap->n_listeners; l2++)
			if (vhost_of[l2] == vhost_of[l]) {
				fprintf(f, "%s %s", first ? "" : ",",
					snap->listeners[l2].name);
				first = false;
			}
		fputc('\n', f);
		print_vhost(f, snap, vh, used);
		found++;
	}
	if (found == 0) {
		fprintf(f, "no route for host %s on any listener (404 NR)\n", host);
	} else {
		fprintf(f, "\nclusters:\n");
		for (c = 0; c < snap->n_clusters; c++)
			if (used[c])
				print_cluster(f, &snap->clusters[c]);
	}
	free(vhost_of);
	free(used);
	if (fclose(f) != 0)
		return -ENOMEM;
	return found ? 0 : -ENOENT;
}
