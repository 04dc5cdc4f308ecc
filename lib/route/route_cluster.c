/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clusters: a service host, a subset and a port, with the endpoints the
 * registry (ServiceEntries, WorkloadEntries) gives for them and the
 * DestinationRule's load balancer, subset settings over port-level
 * settings over the rule's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gw_common.h"
#include "route_private.h"

int
rt_cluster_name_eq(const void *ctx, uint32_t idx)
{
	const struct gw_route_snapshot *snap = ((const void *const *)ctx)[0];
	const char *name = ((const void *const *)ctx)[1];

	return strcmp(snap->clusters[idx].name, name) == 0;
}

/* Policies of one level (rule or subset): the level, then its port entry. */
static void
policy_level(const struct gw_traffic_policy *tp, uint16_t port,
	     const struct gw_lb_policy **lb,
	     const struct gw_connection_pool **pool,
	     const struct gw_outlier_detection **outlier)
{
	uint32_t i;

	if (tp == NULL || !tp->present)
		return;
	if (tp->load_balancer.present)
		*lb = &tp->load_balancer;
	if (tp->connection_pool.present)
		*pool = &tp->connection_pool;
	if (tp->outlier_detection.present)
		*outlier = &tp->outlier_detection;
	for (i = 0; i < tp->n_port_level; i++) {
		const struct gw_port_policy *pp = &tp->port_level[i];

		if (pp->port != port)
			continue;
		if (pp->load_balancer.present)
			*lb = &pp->load_balancer;
		if (pp->connection_pool.present)
			*pool = &pp->connection_pool;
		if (pp->outlier_detection.present)
			*outlier = &pp->outlier_detection;
	}
}

static void
lb_from_policy(struct gw_route_cluster *c, const struct gw_lb_policy *lb)
{
	const struct gw_consistent_hash *h;

	c->lb_policy = GW_LB_ROUND_ROBIN;
	c->hash_key = GW_ROUTE_HASH_NONE;
	if (lb == NULL)
		return;
	if (!lb->has_consistent_hash) {
		switch (lb->simple) {
		case GW_MODEL_LB_LEAST_REQUEST:
			c->lb_policy = GW_LB_LEAST_REQUEST;
			break;
		case GW_MODEL_LB_RANDOM:
			c->lb_policy = GW_LB_RANDOM;
			break;
		default:
			/* PASSTHROUGH has no meaning at a gateway: round robin */
			c->lb_policy = GW_LB_ROUND_ROBIN;
			break;
		}
		return;
	}
	h = &lb->hash;
	/* Istio's default consistent hash is the ring hash */
	c->lb_policy = h->algo == GW_MODEL_HASH_ALGO_MAGLEV ? GW_LB_MAGLEV :
							     GW_LB_RING_HASH;
	switch (h->key) {
	case GW_MODEL_HASH_HTTP_HEADER:
		c->hash_key = GW_ROUTE_HASH_HEADER;
		c->hash_name = h->header_name;
		break;
	case GW_MODEL_HASH_HTTP_COOKIE:
		c->hash_key = GW_ROUTE_HASH_COOKIE;
		c->hash_name = h->cookie_name;
		break;
	case GW_MODEL_HASH_SOURCE_IP:
		c->hash_key = GW_ROUTE_HASH_SOURCE_IP;
		break;
	case GW_MODEL_HASH_QUERY_PARAM:
		c->hash_key = GW_ROUTE_HASH_QUERY_PARAM;
		c->hash_name = h->query_param;
		break;
	default:
		break;
	}
}

/* The Maglev table size or ring size the DestinationRule asks for. */
static void
lb_params_for(const struct gw_lb_policy *lb, struct gw_lb_params *p)
{
	if (lb == NULL || !lb->has_consistent_hash)
		return;
	if (lb->hash.table_size > 0 && lb->hash.table_size <= UINT32_MAX)
		p->maglev_table_size = (uint32_t)lb->hash.table_size;
	if (lb->hash.minimum_ring_size > 0 &&
	    lb->hash.minimum_ring_size <= GW_LB_RING_DEFAULT_MAX)
		p->ring_min_size = (uint32_t)lb->hash.minimum_ring_size;
}

static int
fill_endpoints(struct rt_build *b, struct gw_route_cluster *c,
	       const char *namespace, const struct gw_subset *subset,
	       const struct gw_service_port *sport)
{
	struct gw_route_snapshot *snap = b->snap;
	struct gw_model_endpoint *eps;
	struct gw_route_endpoint *out;
	uint32_t n, i;

	n = gw_model_store_endpoints(b->store, c->host, namespace, subset, NULL, 0);
	if (n == 0)
		return 0;
	eps = malloc(n * sizeof(*eps));
	out = rt_arena_alloc(&snap->arena, n * sizeof(*out));
	if (eps == NULL || out == NULL) {
		free(eps);
		return -ENOMEM;
	}
	n = gw_model_store_endpoints(b->store, c->host, namespace, subset, eps, n);
	for (i = 0; i < n; i++) {
		const struct gw_workload *w = eps[i].workload;

		out[i].family = w->ip.family;
		memcpy(&out[i].addr, &w->ip.addr, sizeof(out[i].addr));
		out[i].port = sport != NULL ? gw_model_workload_port(w, sport) :
					      c->port;
		out[i].weight = w->weight ? w->weight : 1;
		out[i].address = w->address;
		out[i].labels = w->labels;
		out[i].n_labels = w->n_labels;
	}
	free(eps);
	c->endpoints = out;
	c->n_endpoints = n;
	return 0;
}

int
rt_cluster_get(struct rt_build *b, const struct gw_destination *dest,
	       const char *namespace, uint32_t *cluster)
{
	struct gw_route_snapshot *snap = b->snap;
	const struct gw_model_resource *owner = NULL;
	const struct gw_service_port *sport = NULL;
	const struct gw_lb_policy *lb = NULL;
	const struct gw_subset *subset = NULL;
	const struct gw_dr *dr;
	const struct gw_se *se;
	struct gw_route_cluster *c;
	const void *key[2];
	uint16_t port = dest->port;
	uint32_t i, id;
	char *name;
	int rc;

	se = gw_model_store_se_find(b->store, dest->host, namespace, &owner);
	if (se != NULL && port == 0 && se->n_ports > 0)
		port = se->ports[0].number; /* the only port, or the first */
	for (i = 0; se != NULL && i < se->n_ports; i++)
		if (se->ports[i].number == port)
			sport = &se->ports[i];

	name = rt_arena_printf(&snap->arena, "outbound|%u|%s|%s", port,
			       dest->subset ? dest->subset : "", dest->host);
	if (name == NULL)
		return -ENOMEM;
	key[0] = snap;
	key[1] = name;
	id = rt_hindex_find(&snap->cluster_index, rt_hash(name, strlen(name)),
			    rt_cluster_name_eq, key);
	if (id != RT_NONE) {
		*cluster = id;
		return 0;
	}

	if (rt_grow((void **)&snap->clusters, &snap->cap_clusters,
		    snap->n_clusters + 1, sizeof(*snap->clusters)) < 0)
		return -ENOMEM;
	id = snap->n_clusters;
	c = &snap->clusters[id];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->name = name;
	c->name_len = (uint32_t)strlen(name);
	c->host = rt_arena_strdup(&snap->arena, dest->host);
	c->subset = rt_arena_strdup(&snap->arena, dest->subset);
	c->port = port;
	c->service_found = se != NULL;
	if (c->host == NULL || (dest->subset != NULL && c->subset == NULL))
		return -ENOMEM;

	dr = gw_model_store_dr_find(b->store, dest->host, namespace);
	if (dr != NULL && dest->subset != NULL)
		subset = gw_model_dr_subset_find(dr, dest->subset);
	c->subset_found = dest->subset == NULL || subset != NULL;
	policy_level(dr ? &dr->traffic_policy : NULL, port, &lb,
		     &c->connection_pool, &c->outlier_detection);
	policy_level(subset ? &subset->traffic_policy : NULL, port, &lb,
		     &c->connection_pool, &c->outlier_detection);
	lb_from_policy(c, lb);

	/* a subset no DestinationRule defines has no endpoints (503) */
	if (se != NULL && c->subset_found) {
		rc = fill_endpoints(b, c, namespace, subset, sport);
		if (rc < 0)
			return rc;
	}
	if (rt_hindex_add(&snap->cluster_index, rt_hash(name, strlen(name)), id) < 0)
		return -ENOMEM;
	snap->n_clusters++;
	c->lb_spec = lb;
	*cluster = id;
	return 0;
}

int
rt_clusters_finish(struct rt_build *b)
{
	struct gw_route_snapshot *snap = b->snap;
	struct gw_lb_endpoint *eps = NULL;
	uint32_t c, i, cap = 0;
	char key[128];
	int rc = 0;

	for (c = 0; c < snap->n_clusters; c++) {
		struct gw_route_cluster *cl = &snap->clusters[c];
		struct gw_lb_params p = {.policy = cl->lb_policy};
		char msg[GW_ERR_LEN];

		if (rt_grow((void **)&eps, &cap, cl->n_endpoints + 1,
			    sizeof(*eps)) < 0) {
			rc = -ENOMEM;
			break;
		}
		for (i = 0; i < cl->n_endpoints; i++) {
			const struct gw_route_endpoint *e = &cl->endpoints[i];
			int len = snprintf(key, sizeof(key), "%s:%u", e->address,
					   e->port);

			/* identity by address:port keeps hashing stable */
			eps[i].key = gw_lb_hash64(key, (size_t)len < sizeof(key) ?
						  (size_t)len : sizeof(key) - 1, 0);
			eps[i].weight = e->weight;
		}
		lb_params_for(cl->lb_spec, &p);
		cl->lb = gw_lb_set_create(&p, eps, cl->n_endpoints, msg, sizeof(msg));
		if (cl->lb == NULL) {
			gw_err(b->err, b->errlen, "cluster %s: %s", cl->name, msg);
			rc = -EINVAL;
			break;
		}
		snap->memory += gw_lb_set_memory(cl->lb);
		cl->lb_state_off = rt_state_reserve(b, gw_lb_set_state_size(cl->lb));
		if (cl->outlier_detection != NULL && cl->n_endpoints > 0) {
			uint32_t words = (cl->n_endpoints + 63) / 64;

			/* every endpoint usable until lib/outlier says otherwise */
			cl->health = rt_arena_alloc(&snap->arena,
						    words * sizeof(uint64_t));
			if (cl->health == NULL) {
				rc = -ENOMEM;
				break;
			}
			for (i = 0; i < cl->n_endpoints; i++)
				cl->health[i / 64] |= 1ULL << (i % 64);
			cl->outlier_state_off = rt_state_reserve(b,
				(size_t)cl->n_endpoints * 2 * sizeof(uint32_t));
		}
	}
	free(eps);
	return rc;
}
