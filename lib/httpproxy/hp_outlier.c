/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker's half of outlier detection (docs/outlier-detection.md):
 * consecutive-error counts per endpoint in this worker's block of the
 * snapshot, a report to the control lcore when one reaches its threshold,
 * and the health bitmap the control lcore publishes, handed to the load
 * balancer. No allocation, no lock: the counts belong to this worker, the
 * bitmap words are loaded atomically.
 */
#include "gw_outlier.h"
#include "hp_private.h"

void
gw_http_proxy_outlier_sink(struct gw_http_proxy *px, gw_http_outlier_fn fn,
			   void *arg)
{
	px->outlier_sink = fn;
	px->outlier_arg = arg;
}

const uint64_t *
hp_outlier_health(struct hp_session *s)
{
	struct gw_http_proxy *px = s->px;
	const struct gw_route_cluster *cl;
	const uint64_t *h;
	uint32_t words;

	if (s->x->snap == NULL)
		return NULL;
	h = gw_route_cluster_health(s->x->snap, s->x->route.cluster);
	if (h == NULL)
		return NULL;
	cl = gw_route_snapshot_cluster(s->x->snap, s->x->route.cluster);
	words = (cl->n_endpoints + 63) / 64;
	/* Larger clusters read the shared words in place (aligned 64-bit
	 * loads; a pick may then see a word change midway, which is harmless). */
	if (words > HP_OUTLIER_WORDS)
		return h;
	for (uint32_t w = 0; w < words; w++)
		px->outlier_health[w] = __atomic_load_n(&h[w], __ATOMIC_RELAXED);
	return px->outlier_health;
}

void
hp_outlier_report(struct hp_session *s, uint16_t status)
{
	struct gw_http_proxy *px = s->px;
	const struct gw_route_cluster *cl;
	uint32_t *counters;
	int32_t e = s->x->retry.last_ep;
	uint32_t t5xx, tgw;
	uint8_t kind;

	/* no try in flight (a back-off, a fault delay), or a 1xx: nothing to count */
	if (px->outlier_sink == NULL || s->x->snap == NULL || s->up == NULL ||
	    e < 0 || status < 200)
		return;
	counters = gw_route_outlier_counters(s->x->snap, px->worker_id,
					     s->x->route.cluster);
	if (counters == NULL)
		return;
	/* The indices mean something to the control lcore only in the
	 * snapshot in force; the counts of an older one are dropped with it. */
	if (px->snapshot(px->snapshot_arg) != s->x->snap)
		return;
	cl = gw_route_snapshot_cluster(s->x->snap, s->x->route.cluster);
	if ((uint32_t)e >= cl->n_endpoints)
		return;
	/* the two thresholds, as gw_outlier_config_from() sets them */
	t5xx = cl->outlier_detection->consecutive_5xx_errors == GW_MODEL_UNSET ?
	       GW_OUTLIER_DEFAULT_5XX :
	       (uint32_t)cl->outlier_detection->consecutive_5xx_errors;
	tgw = cl->outlier_detection->consecutive_gateway_errors == GW_MODEL_UNSET ?
	      0 : (uint32_t)cl->outlier_detection->consecutive_gateway_errors;
	kind = gw_outlier_count(&counters[2 * (uint32_t)e], status, t5xx, tgw);
	if (kind != 0)
		px->outlier_sink(px->outlier_arg, s->x->route.cluster, (uint32_t)e,
				 kind);
}
