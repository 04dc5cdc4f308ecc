/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store of applied resources (the running configuration), the
 * cross-resource checks an apply runs against the store it would produce,
 * and the service registry queries the route compiler needs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_common.h"
#include "model_private.h"

/* Per kind, sorted by namespace then name: lookups are binary searches. */
struct gw_model_store {
	struct gw_model_resource **items[GW_MODEL_KIND_COUNT];
	uint32_t n[GW_MODEL_KIND_COUNT];
	uint32_t cap[GW_MODEL_KIND_COUNT];
	uint64_t generation;
};

struct gw_model_store *
gw_model_store_create(void)
{
	return calloc(1, sizeof(struct gw_model_store));
}

void
gw_model_store_free(struct gw_model_store *store)
{
	if (store == NULL)
		return;
	for (int k = 0; k < GW_MODEL_KIND_COUNT; k++) {
		for (uint32_t i = 0; i < store->n[k]; i++)
			model_resource_put(store->items[k][i]);
		free(store->items[k]);
	}
	free(store);
}

static int
ident_cmp(const struct gw_model_resource *r, const char *ns, const char *name)
{
	int c = strcmp(r->meta.namespace, ns);

	return c != 0 ? c : strcmp(r->meta.name, name);
}

/* Index of the resource, or of where it would go (*found false). */
static uint32_t
store_find(const struct gw_model_store *store, enum gw_model_kind kind,
	   const char *ns, const char *name, bool *found)
{
	uint32_t lo = 0, hi = store->n[kind];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = ident_cmp(store->items[kind][mid], ns, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct gw_model_resource *
gw_model_store_get(const struct gw_model_store *store,
		   enum gw_model_kind kind, const char *namespace,
		   const char *name)
{
	bool found;
	uint32_t i;

	if (store == NULL || (unsigned)kind >= GW_MODEL_KIND_COUNT ||
	    name == NULL)
		return NULL;
	i = store_find(store, kind, namespace != NULL ? namespace :
		       GW_MODEL_DEFAULT_NAMESPACE, name, &found);
	return found ? store->items[kind][i] : NULL;
}

uint32_t
gw_model_store_count(const struct gw_model_store *store,
		     enum gw_model_kind kind)
{
	uint32_t n = 0;

	if (store == NULL)
		return 0;
	if ((unsigned)kind < GW_MODEL_KIND_COUNT)
		return store->n[kind];
	for (int k = 0; k < GW_MODEL_KIND_COUNT; k++)
		n += store->n[k];
	return n;
}

const struct gw_model_resource *
gw_model_store_at(const struct gw_model_store *store,
		  enum gw_model_kind kind, uint32_t i)
{
	if (store == NULL)
		return NULL;
	if ((unsigned)kind < GW_MODEL_KIND_COUNT)
		return i < store->n[kind] ? store->items[kind][i] : NULL;
	for (int k = 0; k < GW_MODEL_KIND_COUNT; k++) {
		if (i < store->n[k])
			return store->items[k][i];
		i -= store->n[k];
	}
	return NULL;
}

uint64_t
gw_model_store_generation(const struct gw_model_store *store)
{
	return store != NULL ? store->generation : 0;
}

/* ------------------------------------------------------------------ */
/* Cross-resource validation                                           */
/* ------------------------------------------------------------------ */

/* True when set item i is replaced by a later item with its identity. */
static bool
set_superseded(const struct gw_model_set *set, uint32_t i)
{
	for (uint32_t j = i + 1; j < set->n; j++)
		if (model_resource_cmp(set->items[i], set->items[j]) == 0)
			return true;
	return false;
}

static bool
set_replaces(const struct gw_model_set *set,
	     const struct gw_model_resource *res)
{
	for (uint32_t j = 0; j < set->n; j++)
		if (model_resource_cmp(set->items[j], res) == 0)
			return true;
	return false;
}

struct subset_lookup {
	const struct gw_model_resource *dr;     /* a DR for the host */
	bool defined;                           /* some DR has the subset */
};

static void
subset_check_dr(const struct gw_model_resource *dr, const char *host,
		const char *ns, const char *subset, struct subset_lookup *l)
{
	if (!model_host_equal(dr->spec.dr->host, dr->meta.namespace, host, ns))
		return;
	if (l->dr == NULL)
		l->dr = dr;
	if (gw_model_dr_subset_find(dr->spec.dr, subset) != NULL)
		l->defined = true;
}

/* The DestinationRules of the store as the set would leave it. */
static void
subset_lookup(const struct gw_model_set *set,
	      const struct gw_model_store *store, const char *host,
	      const char *ns, const char *subset, struct subset_lookup *l)
{
	enum gw_model_kind k = GW_MODEL_KIND_DESTINATION_RULE;

	memset(l, 0, sizeof(*l));
	for (uint32_t i = 0; store != NULL && i < store->n[k]; i++)
		if (!set_replaces(set, store->items[k][i]))
			subset_check_dr(store->items[k][i], host, ns, subset,
					l);
	for (uint32_t i = 0; i < set->n; i++)
		if (set->items[i]->kind == k && !set_superseded(set, i))
			subset_check_dr(set->items[i], host, ns, subset, l);
}

/* Where a destination sits in the tree, to point the message at it. */
static const struct gw_model_node *
dest_node(const struct gw_model_resource *res, const char *list, uint32_t i,
	  const char *list2, uint32_t j)
{
	const struct gw_model_node *n = tree_map_get(res->tree, "spec");

	n = tree_seq_get(tree_map_get(n, list), i);
	if (list2 != NULL) {
		n = tree_map_get(n, list2);
		if (j != UINT32_MAX)
			n = tree_seq_get(n, j);
		if (strcmp(list2, "mirror") != 0)
			n = tree_map_get(n, "destination");
	}
	return tree_map_get(n, "subset");
}

static bool
check_destination(const struct gw_model_set *set,
		  const struct gw_model_store *store,
		  const struct gw_model_resource *vs,
		  const struct gw_destination *dst, const char *path,
		  const struct gw_model_node *at, struct errlist *el)
{
	struct subset_lookup l;

	if (dst->subset == NULL)
		return true;
	subset_lookup(set, store, dst->host, vs->meta.namespace, dst->subset,
		      &l);
	if (l.dr == NULL || l.defined)
		return true;
	errlist_addf(el, "%s:%u:%u: %s.subset: unknown subset \"%s\": "
		     "DestinationRule %s/%s for host \"%s\" does not define "
		     "it", vs->file, at != NULL ? at->line : vs->line,
		     at != NULL ? at->col : 1, path, dst->subset,
		     l.dr->meta.namespace, l.dr->meta.name, dst->host);
	return false;
}

/* Every destination of a VirtualService; stops at its first error. */
static void
check_vs(const struct gw_model_set *set, const struct gw_model_store *store,
	 const struct gw_model_resource *res, struct errlist *el)
{
	const struct gw_vs *vs = res->spec.vs;
	char path[96];

	for (uint32_t i = 0; i < vs->n_http; i++) {
		const struct gw_http_route *r = &vs->http[i];

		for (uint32_t j = 0; j < r->n_route; j++) {
			snprintf(path, sizeof(path),
				 "spec.http[%u].route[%u].destination", i, j);
			if (!check_destination(set, store, res,
					       &r->route[j].destination, path,
					       dest_node(res, "http", i, "route",
							 j), el))
				return;
		}
		if (r->mirror != NULL) {
			snprintf(path, sizeof(path), "spec.http[%u].mirror", i);
			if (!check_destination(set, store, res, r->mirror, path,
					       dest_node(res, "http", i, "mirror",
							 UINT32_MAX), el))
				return;
		}
		for (uint32_t j = 0; r->mirror == NULL && j < r->n_mirrors;
		     j++) {
			snprintf(path, sizeof(path),
				 "spec.http[%u].mirrors[%u].destination", i, j);
			if (!check_destination(set, store, res,
					       &r->mirrors[j].destination, path,
					       dest_node(res, "http", i,
							 "mirrors", j), el))
				return;
		}
	}
	for (uint32_t i = 0; i < vs->n_tcp; i++) {
		for (uint32_t j = 0; j < vs->tcp[i].n_route; j++) {
			snprintf(path, sizeof(path),
				 "spec.tcp[%u].route[%u].destination", i, j);
			if (!check_destination(set, store, res,
					       &vs->tcp[i].route[j].destination,
					       path, dest_node(res, "tcp", i,
							       "route", j), el))
				return;
		}
	}
}

static int
set_validate(const struct gw_model_set *set,
	     const struct gw_model_store *store, struct errlist *el)
{
	uint32_t before = el->count;

	for (uint32_t i = 0; i < set->n; i++)
		if (set->items[i]->kind == GW_MODEL_KIND_VIRTUAL_SERVICE)
			check_vs(set, store, set->items[i], el);
	/*
	 * Routes already in the store may name subsets of a
	 * DestinationRule this set replaces.
	 */
	for (uint32_t i = 0;
	     store != NULL && i < store->n[GW_MODEL_KIND_VIRTUAL_SERVICE];
	     i++) {
		const struct gw_model_resource *vs =
			store->items[GW_MODEL_KIND_VIRTUAL_SERVICE][i];

		if (!set_replaces(set, vs))
			check_vs(set, store, vs, el);
	}
	return el->count == before ? 0 : -GW_ECONFIG;
}

int
gw_model_set_validate(const struct gw_model_set *set,
		      const struct gw_model_store *store, char *err,
		      size_t errlen)
{
	struct errlist el;

	errlist_init(&el, err, errlen);
	return set_validate(set, store, &el);
}

/* ------------------------------------------------------------------ */
/* Apply and delete                                                    */
/* ------------------------------------------------------------------ */

static int
store_reserve(struct gw_model_store *store, enum gw_model_kind k,
	      uint32_t more)
{
	uint32_t cap = store->cap[k] != 0 ? store->cap[k] : 16;
	struct gw_model_resource **items;

	while (cap < store->n[k] + more)
		cap *= 2;
	if (cap == store->cap[k])
		return 0;
	items = realloc(store->items[k], cap * sizeof(*items));
	if (items == NULL)
		return -ENOMEM;
	store->items[k] = items;
	store->cap[k] = cap;
	return 0;
}

int
gw_model_store_apply(struct gw_model_store *store, struct gw_model_set *set,
		     char *err, size_t errlen)
{
	uint32_t per_kind[GW_MODEL_KIND_COUNT] = { 0 };
	struct errlist el;
	int changed = 0;

	errlist_init(&el, err, errlen);
	if (set_validate(set, store, &el) < 0)
		return -GW_ECONFIG;
	/* Room first, so that nothing can fail half-way. */
	for (uint32_t i = 0; i < set->n; i++)
		per_kind[set->items[i]->kind]++;
	for (int k = 0; k < GW_MODEL_KIND_COUNT; k++) {
		if (store_reserve(store, (enum gw_model_kind)k,
				  per_kind[k]) < 0) {
			errlist_add(&el, "out of memory");
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < set->n; i++) {
		struct gw_model_resource *res = set->items[i];
		enum gw_model_kind k = res->kind;
		bool found;
		uint32_t at = store_find(store, k, res->meta.namespace,
					 res->meta.name, &found);

		if (found && tree_equal(store->items[k][at]->tree, res->tree)) {
			set->actions[i] = GW_MODEL_ACTION_UNCHANGED;
			continue;
		}
		model_resource_get(res);
		if (found) {
			model_resource_put(store->items[k][at]);
			set->actions[i] = GW_MODEL_ACTION_CONFIGURED;
		} else {
			memmove(&store->items[k][at + 1], &store->items[k][at],
				(store->n[k] - at) * sizeof(res));
			store->n[k]++;
			set->actions[i] = GW_MODEL_ACTION_CREATED;
		}
		store->items[k][at] = res;
		changed++;
	}
	if (changed > 0)
		store->generation++;
	return changed;
}

static bool
store_remove(struct gw_model_store *store, enum gw_model_kind k,
	     const char *ns, const char *name)
{
	bool found;
	uint32_t at = store_find(store, k, ns, name, &found);

	if (!found)
		return false;
	model_resource_put(store->items[k][at]);
	memmove(&store->items[k][at], &store->items[k][at + 1],
		(store->n[k] - at - 1) * sizeof(store->items[k][0]));
	store->n[k]--;
	return true;
}

int
gw_model_store_delete(struct gw_model_store *store, enum gw_model_kind kind,
		      const char *namespace, const char *name)
{
	if (store == NULL || (unsigned)kind >= GW_MODEL_KIND_COUNT ||
	    name == NULL)
		return -EINVAL;
	if (!store_remove(store, kind, namespace != NULL ? namespace :
			  GW_MODEL_DEFAULT_NAMESPACE, name))
		return -ENOENT;
	store->generation++;
	return 0;
}

int
gw_model_store_delete_set(struct gw_model_store *store,
			  struct gw_model_set *set)
{
	int deleted = 0;

	for (uint32_t i = 0; i < set->n; i++) {
		const struct gw_model_resource *res = set->items[i];

		if (store_remove(store, res->kind, res->meta.namespace,
				 res->meta.name)) {
			set->actions[i] = GW_MODEL_ACTION_DELETED;
			deleted++;
		} else {
			set->actions[i] = GW_MODEL_ACTION_NOT_FOUND;
		}
	}
	if (deleted > 0)
		store->generation++;
	return deleted;
}

/* ------------------------------------------------------------------ */
/* Registry queries                                                    */
/* ------------------------------------------------------------------ */

bool
gw_model_labels_match(const struct gw_kv *selector, uint32_t n_selector,
		      const struct gw_kv *labels, uint32_t n_labels)
{
	for (uint32_t i = 0; i < n_selector; i++) {
		uint32_t j;

		for (j = 0; j < n_labels; j++)
			if (strcmp(selector[i].key, labels[j].key) == 0)
				break;
		if (j == n_labels ||
		    strcmp(selector[i].value, labels[j].value) != 0)
			return false;
	}
	return true;
}

const struct gw_subset *
gw_model_dr_subset_find(const struct gw_dr *dr, const char *name)
{
	if (dr == NULL || name == NULL)
		return NULL;
	for (uint32_t i = 0; i < dr->n_subsets; i++)
		if (strcmp(dr->subsets[i].name, name) == 0)
			return &dr->subsets[i];
	return NULL;
}

const struct gw_dr *
gw_model_store_dr_find(const struct gw_model_store *store, const char *host,
		       const char *namespace)
{
	enum gw_model_kind k = GW_MODEL_KIND_DESTINATION_RULE;
	const struct gw_dr *any = NULL;
	const char *ns = namespace != NULL ? namespace :
		GW_MODEL_DEFAULT_NAMESPACE;

	if (store == NULL || host == NULL)
		return NULL;
	for (uint32_t i = 0; i < store->n[k]; i++) {
		const struct gw_model_resource *r = store->items[k][i];

		if (!model_host_equal(r->spec.dr->host, r->meta.namespace,
				      host, ns))
			continue;
		if (strcmp(r->meta.namespace, ns) == 0)
			return r->spec.dr;
		if (any == NULL)
			any = r->spec.dr;
	}
	return any;
}

const struct gw_se *
gw_model_store_se_find(const struct gw_model_store *store, const char *host,
		       const char *namespace,
		       const struct gw_model_resource **owner)
{
	enum gw_model_kind k = GW_MODEL_KIND_SERVICE_ENTRY;
	const struct gw_model_resource *any = NULL;
	const char *ns = namespace != NULL ? namespace :
		GW_MODEL_DEFAULT_NAMESPACE;

	if (owner != NULL)
		*owner = NULL;
	if (store == NULL || host == NULL)
		return NULL;
	for (uint32_t i = 0; i < store->n[k]; i++) {
		const struct gw_model_resource *r = store->items[k][i];
		const struct gw_se *se = r->spec.se;

		for (uint32_t h = 0; h < se->n_hosts; h++) {
			if (!model_host_equal(se->hosts[h], r->meta.namespace,
					      host, ns))
				continue;
			if (strcmp(r->meta.namespace, ns) == 0) {
				any = r;
				goto found;
			}
			if (any == NULL)
				any = r;
		}
	}
	if (any == NULL)
		return NULL;
found:
	if (owner != NULL)
		*owner = any;
	return any->spec.se;
}

static void
endpoint_add(struct gw_model_endpoint *out, uint32_t max, uint32_t *n,
	     const struct gw_workload *w, const struct gw_model_resource *owner)
{
	if (*n < max) {
		out[*n].workload = w;
		out[*n].owner = owner;
	}
	(*n)++;
}

uint32_t
gw_model_store_endpoints(const struct gw_model_store *store,
			 const char *host, const char *namespace,
			 const struct gw_subset *subset,
			 struct gw_model_endpoint *out, uint32_t max)
{
	enum gw_model_kind kwe = GW_MODEL_KIND_WORKLOAD_ENTRY;
	const struct gw_model_resource *owner;
	const struct gw_se *se;
	uint32_t n = 0;

	se = gw_model_store_se_find(store, host, namespace, &owner);
	if (se == NULL)
		return 0;
	for (uint32_t i = 0; i < se->n_endpoints; i++) {
		const struct gw_workload *w = &se->endpoints[i];

		if (subset == NULL || gw_model_labels_match(subset->labels,
				subset->n_labels, w->labels, w->n_labels))
			endpoint_add(out, max, &n, w, owner);
	}
	if (!se->has_workload_selector)
		return n;
	/* WorkloadEntries of the entry's namespace that its selector picks. */
	for (uint32_t i = 0; i < store->n[kwe]; i++) {
		const struct gw_model_resource *r = store->items[kwe][i];
		const struct gw_workload *w = &r->spec.we->workload;

		if (strcmp(r->meta.namespace, owner->meta.namespace) != 0)
			continue;
		if (!gw_model_labels_match(se->workload_selector,
					   se->n_workload_selector,
					   w->labels, w->n_labels))
			continue;
		if (subset == NULL || gw_model_labels_match(subset->labels,
				subset->n_labels, w->labels, w->n_labels))
			endpoint_add(out, max, &n, w, r);
	}
	return n;
}

uint16_t
gw_model_workload_port(const struct gw_workload *workload,
		       const struct gw_service_port *port)
{
	for (uint32_t i = 0; port->name != NULL && i < workload->n_ports; i++)
		if (strcmp(workload->ports[i].key, port->name) == 0)
			return workload->port_numbers[i];
	return port->target_port != 0 ? port->target_port : port->number;
}
