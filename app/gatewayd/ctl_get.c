/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `get KIND[,KIND] [NAME]` (tables with kubectl's columns for Istio's
 * kinds plus GENERATION, or the resources as YAML, JSON or names) and
 * `get endpoints [HOST]` (every cluster's endpoints with their health,
 * from the snapshot in force).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "gw_ctl.h"
#include "gw_snapshot.h"
#include "gatewayd.h"
#include "ctl_private.h"

/* ------------------------------------------------------------------ */
/* get                                                                 */

static void
meta_cells(const struct gatewayd *g, const struct gw_model_resource *res,
	   char *gen, size_t gen_len, char *age, size_t age_len)
{
	const struct ctl_meta *m = ctl_meta_find(g->ctl_state, res->kind,
						 res->meta.namespace,
						 res->meta.name);

	snprintf(gen, gen_len, "-");
	snprintf(age, age_len, "-");
	if (m == NULL)
		return;
	snprintf(gen, gen_len, "%" PRIu64, m->generation);
	ctl_age(m->created, age, age_len);
}

/* kubectl's columns for Istio's kinds, plus GENERATION. */
static void
table_of(const struct gatewayd *g, enum gw_model_kind kind,
	 const struct gw_model_resource *const *items, uint32_t n,
	 bool prefix, struct gw_ctl_reply *r)
{
	struct ctl_table t = { .n_cols = 0 };
	char name[320], gen[24], age[24], c1[512], c2[512];

	t.head[t.n_cols++] = "NAMESPACE";
	t.head[t.n_cols++] = "NAME";
	switch (kind) {
	case GW_MODEL_KIND_VIRTUAL_SERVICE:
		t.head[t.n_cols++] = "GATEWAYS";
		t.head[t.n_cols++] = "HOSTS";
		break;
	case GW_MODEL_KIND_DESTINATION_RULE:
		t.head[t.n_cols++] = "HOST";
		break;
	case GW_MODEL_KIND_SERVICE_ENTRY:
		t.head[t.n_cols++] = "HOSTS";
		t.head[t.n_cols++] = "LOCATION";
		break;
	case GW_MODEL_KIND_WORKLOAD_ENTRY:
		t.head[t.n_cols++] = "ADDRESS";
		break;
	default:
		break;
	}
	t.head[t.n_cols++] = "GENERATION";
	t.head[t.n_cols++] = "AGE";

	for (uint32_t i = 0; i < n; i++) {
		const struct gw_model_resource *res = items[i];

		if (prefix)
			snprintf(name, sizeof(name), "%s.networking.istio.io/%s",
				 gw_model_kind_singular(kind), res->meta.name);
		else
			snprintf(name, sizeof(name), "%s", res->meta.name);
		meta_cells(g, res, gen, sizeof(gen), age, sizeof(age));
		switch (kind) {
		case GW_MODEL_KIND_VIRTUAL_SERVICE:
			ctl_table_row(&t, res->meta.namespace, name,
				  ctl_string_list(res->spec.vs->gateways,
					      res->spec.vs->n_gateways, c1,
					      sizeof(c1)),
				  ctl_string_list(res->spec.vs->hosts,
					      res->spec.vs->n_hosts, c2,
					      sizeof(c2)), gen, age);
			break;
		case GW_MODEL_KIND_DESTINATION_RULE:
			ctl_table_row(&t, res->meta.namespace, name,
				  res->spec.dr->host, gen, age);
			break;
		case GW_MODEL_KIND_SERVICE_ENTRY:
			ctl_table_row(&t, res->meta.namespace, name,
				  ctl_string_list(res->spec.se->hosts,
					      res->spec.se->n_hosts, c1,
					      sizeof(c1)),
				  res->spec.se->location ==
				  GW_MODEL_LOCATION_MESH_INTERNAL ?
				  "MESH_INTERNAL" : "MESH_EXTERNAL", gen, age);
			break;
		case GW_MODEL_KIND_WORKLOAD_ENTRY:
			ctl_table_row(&t, res->meta.namespace, name,
				  res->spec.we->workload.address, gen, age);
			break;
		default:
			ctl_table_row(&t, res->meta.namespace, name, gen, age);
			break;
		}
	}
	ctl_table_print(&t, r);
	ctl_table_free(&t);
}

/* Kinds of "vs,dr" (or "all"), at most one of each. */
static int
parse_kinds(const char *word, enum gw_model_kind *kinds, unsigned int *n,
	    struct gw_ctl_reply *r)
{
	char copy[256], *save = NULL;

	*n = 0;
	if (strcasecmp(word, "all") == 0) {
		for (int k = 0; k < GW_MODEL_KIND_COUNT; k++)
			kinds[(*n)++] = (enum gw_model_kind)k;
		return 0;
	}
	snprintf(copy, sizeof(copy), "%s", word);
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		enum gw_model_kind k;
		bool dup = false;

		if (gw_model_kind_parse(t, &k) < 0) {
			gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
					   "error: the server doesn't have a "
					   "resource type \"%s\" (known: %s)\n",
					   t, ctl_kinds_help);
			return -1;
		}
		for (unsigned int i = 0; i < *n; i++)
			dup |= kinds[i] == k;
		if (!dup)
			kinds[(*n)++] = k;
	}
	if (*n == 0) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				   "error: no resource type in \"%s\"\n", word);
		return -1;
	}
	return 0;
}

/* How `get` prints what it found. */
enum get_format {
	GET_TABLE = 0,
	GET_YAML,
	GET_JSON,
	GET_NAME,
};

static int
parse_format(const char *out, enum get_format *f, struct gw_ctl_reply *r)
{
	if (out == NULL || strcmp(out, "wide") == 0)
		*f = GET_TABLE;
	else if (strcmp(out, "yaml") == 0)
		*f = GET_YAML;
	else if (strcmp(out, "json") == 0)
		*f = GET_JSON;
	else if (strcmp(out, "name") == 0)
		*f = GET_NAME;
	else {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: unable to match "
				   "a printer suitable for the output format "
				   "\"%s\", allowed formats are: json, name, "
				   "wide, yaml\n", out);
		return -1;
	}
	return 0;
}

/*
 * One resource in a serialised form. YAML documents are separated by
 * "---" so that the output applies back as it is; JSON ones are items of
 * a kubectl List when @p list.
 */
static void
print_item(const struct gw_model_resource *res, enum get_format f, bool list,
	   uint32_t index, struct gw_ctl_reply *r)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (f == GET_NAME) {
		gw_ctl_reply_printf(r, "%s.networking.istio.io/%s\n",
				    gw_model_kind_singular(res->kind),
				    res->meta.name);
		return;
	}
	if (f == GET_YAML && index > 0)
		gw_ctl_reply_printf(r, "---\n");
	if (f == GET_JSON && list)
		gw_ctl_reply_printf(r, "%s\n", index > 0 ? "," : "");
	rc = f == GET_JSON ? gw_model_resource_to_json(res, &text, &len) :
			     gw_model_resource_to_yaml(res, &text, &len);
	if (rc < 0) {
		r->oom = true;
		return;
	}
	gw_ctl_reply_append(r, text, len);
	free(text);
}

/* The resources of @p kind that the request names, into @p items. */
static uint32_t
collect(const struct gatewayd *g, enum gw_model_kind kind,
	const struct ctl_args *a, const char *name,
	const struct gw_model_resource **items)
{
	uint32_t n = 0;

	if (name != NULL) {
		const struct gw_model_resource *res = gw_model_store_get(
			g->store, kind, ctl_arg_namespace(a), name);

		if (res != NULL)
			items[n++] = res;
		return n;
	}
	for (uint32_t i = 0; i < gw_model_store_count(g->store, kind); i++) {
		const struct gw_model_resource *res =
			gw_model_store_at(g->store, kind, i);

		if (a->namespace == NULL ||
		    strcmp(res->meta.namespace, a->namespace) == 0)
			items[n++] = res;
	}
	return n;
}

static bool
endpoints_word(const char *w)
{
	return strcasecmp(w, "endpoints") == 0 ||
	       strcasecmp(w, "endpoint") == 0 || strcasecmp(w, "ep") == 0;
}

void
ctl_cmd_get(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	struct gatewayd *g = ctx;
	enum gw_model_kind kinds[GW_MODEL_KIND_COUNT];
	const struct gw_model_resource **items;
	unsigned int n_kinds = 0, n_tables = 0;
	uint32_t n_found = 0;
	const char *name;
	enum get_format f;
	struct ctl_args a;
	bool list;

	if (ctl_parse_args(req, ARG_OUTPUT | ARG_NAMESPACE, &a, r) < 0)
		return;
	if (a.n_pos == 0) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: you must "
				   "specify the type of resource to get: %s\n",
				   ctl_kinds_help);
		return;
	}
	if (endpoints_word(a.pos[0])) {
		/* "get ep": the "get endpoints" row under another word. */
		struct gw_ctl_request sub = *req;

		for (unsigned int i = req->n_words; i < req->argc; i++)
			if (req->argv[i] == a.pos[0]) {
				sub.n_words = i + 1;
				break;
			}
		ctl_cmd_get_endpoints(ctx, &sub, r);
		return;
	}
	if (a.n_pos > 2) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: one name at a "
				   "time (unexpected \"%s\")\n", a.pos[2]);
		return;
	}
	if (parse_format(a.output, &f, r) < 0 ||
	    parse_kinds(a.pos[0], kinds, &n_kinds, r) < 0)
		return;
	name = a.n_pos == 2 ? a.pos[1] : NULL;
	/* kubectl prints a List unless one object was asked for by name. */
	list = name == NULL || n_kinds > 1;
	items = malloc((gw_model_store_count(g->store, GW_MODEL_KIND_COUNT) + 1) *
		       sizeof(*items));
	if (items == NULL) {
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: out of memory\n");
		return;
	}
	if (f == GET_JSON && list)
		gw_ctl_reply_printf(r, "{\n  \"apiVersion\": \"v1\",\n  "
				    "\"items\": [");
	for (unsigned int k = 0; k < n_kinds; k++) {
		uint32_t n = collect(g, kinds[k], &a, name, items);

		if (n == 0 && name != NULL) {
			r->status = GW_CTL_NOT_FOUND;
			continue;
		}
		if (f == GET_TABLE && n > 0) {
			if (n_tables++ > 0)
				gw_ctl_reply_printf(r, "\n");
			table_of(g, kinds[k], items, n, n_kinds > 1, r);
		}
		for (uint32_t i = 0; f != GET_TABLE && i < n; i++)
			print_item(items[i], f, list, n_found + i, r);
		n_found += n;
	}
	free(items);
	if (f == GET_JSON && list)
		gw_ctl_reply_printf(r, "%s],\n  \"kind\": \"List\"\n}\n",
				    n_found ? "\n  " : "");
	else if (f == GET_JSON && n_found > 0 && r->body[r->len - 1] != '\n')
		gw_ctl_reply_printf(r, "\n");
	/* Missing names last, as kubectl prints its errors after the rest. */
	for (unsigned int k = 0; name != NULL && k < n_kinds; k++)
		if (gw_model_store_get(g->store, kinds[k], ctl_arg_namespace(&a),
				       name) == NULL)
			gw_ctl_reply_printf(r, "Error from server (NotFound): "
					    "%s.networking.istio.io \"%s\" not "
					    "found\n", gw_model_kind_plural(kinds[k]),
					    name);
	if (n_found == 0 && name == NULL && f == GET_TABLE) {
		if (a.namespace != NULL)
			gw_ctl_reply_printf(r, "No resources found in %s "
					    "namespace.\n", a.namespace);
		else
			gw_ctl_reply_printf(r, "No resources found.\n");
	}
}

/* ------------------------------------------------------------------ */
/* get endpoints                                                       */

static const char *
endpoint_text(const struct gw_route_endpoint *e, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (e->family == AF_INET6) {
		inet_ntop(AF_INET6, e->addr.v6, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, e->port);
	} else {
		inet_ntop(AF_INET, &e->addr.v4, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, e->port);
	}
	return buf;
}

/* "httpbin" selects the clusters of httpbin, httpbin.default.svc..., etc. */
static bool
host_selected(const char *host, const char *want)
{
	size_t n;

	if (want == NULL)
		return true;
	n = strlen(want);
	return strcasecmp(host, want) == 0 ||
	       (strncasecmp(host, want, n) == 0 && host[n] == '.');
}

/*
 * Health is what outlier detection knows of an endpoint: EJECTED with the
 * time left before it may come back (at the next interval check after
 * that), "panic" when its cluster has fallen below minHealthPercent and
 * uses every endpoint anyway.
 */
struct ep_health {
	const char *status;
	char check[32];
	struct gw_outlier_endpoint_info info;
};

static void
endpoint_health(const struct gatewayd *g, uint32_t c, uint32_t i, uint64_t now,
		struct ep_health *h)
{
	h->status = "HEALTHY";
	snprintf(h->check, sizeof(h->check), "OK");
	if (g->dp == NULL ||
	    gw_outlier_endpoint(g->dp->outlier, c, i, now, &h->info) != 0 ||
	    !h->info.ejected)
		return;
	h->status = "EJECTED";
	if (h->info.panic)
		snprintf(h->check, sizeof(h->check), "FAILED(panic)");
	else
		snprintf(h->check, sizeof(h->check), "FAILED(%" PRIu64 "s)",
			 (h->info.ejected_us_left + 999999) / 1000000);
}

void
ctl_cmd_get_endpoints(void *ctx, const struct gw_ctl_request *req,
		  struct gw_ctl_reply *r)
{
	struct gatewayd *g = ctx;
	const struct gw_snapshot *s = gw_snapshot_peek(g->snapshots);
	struct ctl_table t = { .n_cols = 5, .head = { "ENDPOINT", "STATUS",
		"OUTLIER CHECK", "WEIGHT", "CLUSTER" } };
	const char *host;
	struct ctl_args a;
	bool json;
	uint32_t shown = 0;
	uint64_t now = gw_outlier_clock_us();

	if (ctl_parse_args(req, ARG_OUTPUT, &a, r) < 0)
		return;
	json = a.output != NULL && strcmp(a.output, "json") == 0;
	if (a.output != NULL && !json) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: get endpoints: "
				   "output format \"%s\" not supported (json)\n",
				   a.output);
		return;
	}
	if (a.n_pos > 1) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: get endpoints "
				   "[HOST]: unexpected \"%s\"\n", a.pos[1]);
		return;
	}
	host = a.n_pos == 1 ? a.pos[0] : NULL;
	if (s == NULL) {
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: no routing snapshot\n");
		return;
	}
	/* the detector follows the snapshot shown (a no-op when it does) */
	if (g->dp != NULL)
		gw_outlier_bind(g->dp->outlier, s->routes, s->generation, now);
	if (json)
		gw_ctl_reply_printf(r, "{\n  \"generation\": %" PRIu64
				    ",\n  \"endpoints\": [", s->generation);
	for (uint32_t c = 0; c < gw_route_snapshot_cluster_count(s->routes); c++) {
		const struct gw_route_cluster *cl =
			gw_route_snapshot_cluster(s->routes, c);
		char ep[64], w[16];

		if (host != NULL && !host_selected(cl->host, host))
			continue;
		for (uint32_t i = 0; i < cl->n_endpoints; i++) {
			const struct gw_route_endpoint *e = &cl->endpoints[i];
			struct ep_health h;

			endpoint_text(e, ep, sizeof(ep));
			endpoint_health(g, c, i, now, &h);
			if (json) {
				gw_ctl_reply_printf(r, "%s\n    {\"endpoint\": ",
						    shown ? "," : "");
				ctl_json_string(r, ep);
				gw_ctl_reply_printf(r, ", \"status\": \"%s\", "
						    "\"weight\": %u, \"cluster\": ",
						    h.status, e->weight);
				ctl_json_string(r, cl->name);
				gw_ctl_reply_printf(r, ", \"labels\": {");
				for (uint32_t l = 0; l < e->n_labels; l++) {
					gw_ctl_reply_printf(r, "%s", l ? ", " : "");
					ctl_json_string(r, e->labels[l].key);
					gw_ctl_reply_printf(r, ": ");
					ctl_json_string(r, e->labels[l].value);
				}
				gw_ctl_reply_printf(r, "}");
				if (h.info.tracked)
					gw_ctl_reply_printf(r, ", \"outlier\": "
						"{\"ejected\": %s, \"panic\": %s, "
						"\"seconds_left\": %.3f, "
						"\"ejections\": %" PRIu64 "}",
						h.info.ejected ? "true" : "false",
						h.info.panic ? "true" : "false",
						(double)h.info.ejected_us_left / 1e6,
						h.info.ejections);
				gw_ctl_reply_printf(r, "}");
			} else {
				snprintf(w, sizeof(w), "%u", e->weight);
				ctl_table_row(&t, ep, h.status, h.check, w,
					      cl->name);
			}
			shown++;
		}
		/* A cluster with no endpoint is worth seeing: its requests get 503. */
		if (cl->n_endpoints == 0 && !json)
			ctl_table_row(&t, "<none>", !cl->service_found ? "NO_SERVICE" :
				  !cl->subset_found ? "NO_SUBSET" : "NO_ENDPOINTS",
				  "-", "-", cl->name);
	}
	if (json) {
		gw_ctl_reply_printf(r, "%s]\n}\n", shown ? "\n  " : "");
	} else if (t.n_rows == 0) {
		gw_ctl_reply_printf(r, host ? "No endpoints found for %s.\n" :
				    "No endpoints found.\n", host);
	} else {
		ctl_table_print(&t, r);
	}
	ctl_table_free(&t);
}

