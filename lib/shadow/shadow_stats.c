/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's counters as text: "name value" lines for /stats and
 * `gwctl stats`, and Prometheus exposition for /stats/prometheus.
 */
#include <stdio.h>

#include "shadow_private.h"

#define S(name) fprintf(out, "gateway.shadow.%s %lu\n", #name, \
			(unsigned long)sh->stats.name)
#define T(name) fprintf(out, "gateway.shadow.tcp.%s %lu\n", #name, \
			(unsigned long)t->name)

int
gw_shadow_stats_text(const struct gw_shadow *sh, FILE *out)
{
	const struct gw_tcp_stats *t = gw_tcp_stack_stats(sh->stack);

	S(items); S(streams); S(held_mbufs); S(connects); S(reused);
	S(conns_idle); S(unknown_items); S(drops); S(stats_full);
	S(rx_segments); S(tx_frames); S(log_lines);
	S(endpoints_down); S(endpoint_failures);
	fprintf(out, "gateway.shadow.log_dropped %lu\n",
		(unsigned long)sh->log_dropped);
	T(active_opens); T(established); T(conns); T(timewait);
	T(segs_in); T(segs_out); T(bytes_in); T(bytes_out);
	T(retransmits); T(rto_timeouts); T(resets_in); T(resets_out);
	unsigned int n_routes = gw_shadow_route_count(sh);

	for (unsigned int i = 0; i < n_routes; i++) {
		const struct gw_shadow_route_stats *r = &sh->routes[i];
		char pfx[256];

		snprintf(pfx, sizeof(pfx), "gateway.mirror.%s.%s", r->route,
			 r->cluster);
		fprintf(out, "%s.requests %lu\n", pfx, (unsigned long)r->requests);
		fprintf(out, "%s.responses %lu\n", pfx, (unsigned long)r->responses);
		for (unsigned int d = 0; d < GW_SHADOW_DROP_MAX; d++)
			fprintf(out, "%s.drop.%s %lu\n", pfx, gw_shadow_drop_name(d),
				(unsigned long)r->drops[d]);
		fprintf(out, "%s.pairs %lu\n", pfx, (unsigned long)r->pairs);
		for (unsigned int c = 0; c < GW_SHADOW_CLASS_MAX; c++)
			fprintf(out, "%s.primary.%s %lu\n%s.shadow.%s %lu\n",
				pfx, gw_shadow_class_name(c),
				(unsigned long)r->primary_class[c],
				pfx, gw_shadow_class_name(c),
				(unsigned long)r->shadow_class[c]);
		fprintf(out, "%s.mismatches %lu\n", pfx, (unsigned long)r->mismatches);
		for (unsigned int b = 0; b < GW_SHADOW_HIST_BUCKETS; b++) {
			char le[16];

			if (b + 1 < GW_SHADOW_HIST_BUCKETS)
				snprintf(le, sizeof(le), "%u", gw_shadow_hist_bounds_ms[b]);
			else
				snprintf(le, sizeof(le), "inf");
			fprintf(out, "%s.latency_ms.le_%s primary=%lu shadow=%lu\n",
				pfx, le, (unsigned long)r->primary_hist[b],
				(unsigned long)r->shadow_hist[b]);
		}
	}
	return ferror(out) ? -1 : 0;
}
#undef S
#undef T

static void
prom_hist(FILE *out, const struct gw_shadow_route_stats *r, const char *side,
	  const uint64_t *hist, uint64_t sum_us)
{
	uint64_t cum = 0;

	for (unsigned int b = 0; b < GW_SHADOW_HIST_BUCKETS; b++) {
		cum += hist[b];
		if (b + 1 < GW_SHADOW_HIST_BUCKETS)
			fprintf(out, "gateway_mirror_latency_milliseconds_bucket{route=\"%s\",mirror=\"%s\",side=\"%s\",le=\"%u\"} %lu\n",
				r->route, r->cluster, side,
				gw_shadow_hist_bounds_ms[b], (unsigned long)cum);
		else
			fprintf(out, "gateway_mirror_latency_milliseconds_bucket{route=\"%s\",mirror=\"%s\",side=\"%s\",le=\"+Inf\"} %lu\n",
				r->route, r->cluster, side, (unsigned long)cum);
	}
	fprintf(out, "gateway_mirror_latency_milliseconds_sum{route=\"%s\",mirror=\"%s\",side=\"%s\"} %.3f\n",
		r->route, r->cluster, side, (double)sum_us / 1000.0);
	fprintf(out, "gateway_mirror_latency_milliseconds_count{route=\"%s\",mirror=\"%s\",side=\"%s\"} %lu\n",
		r->route, r->cluster, side, (unsigned long)cum);
}

int
gw_shadow_stats_prometheus(const struct gw_shadow *sh, FILE *out)
{
	unsigned int i, n_routes = gw_shadow_route_count(sh);

	fprintf(out, "# HELP gateway_mirror_requests_total Requests copied to a mirror destination.\n"
		"# TYPE gateway_mirror_requests_total counter\n");
	for (i = 0; i < n_routes; i++)
		fprintf(out, "gateway_mirror_requests_total{route=\"%s\",mirror=\"%s\"} %lu\n",
			sh->routes[i].route, sh->routes[i].cluster,
			(unsigned long)sh->routes[i].requests);
	fprintf(out, "# HELP gateway_mirror_drops_total Mirror copies dropped, by reason.\n"
		"# TYPE gateway_mirror_drops_total counter\n");
	for (i = 0; i < n_routes; i++)
		for (unsigned int d = 0; d < GW_SHADOW_DROP_MAX; d++)
			fprintf(out, "gateway_mirror_drops_total{route=\"%s\",mirror=\"%s\",reason=\"%s\"} %lu\n",
				sh->routes[i].route, sh->routes[i].cluster,
				gw_shadow_drop_name(d),
				(unsigned long)sh->routes[i].drops[d]);
	fprintf(out, "# HELP gateway_mirror_responses_total Responses of requests whose primary and shadow both ended, by side and status class.\n"
		"# TYPE gateway_mirror_responses_total counter\n");
	for (i = 0; i < n_routes; i++)
		for (unsigned int c = 0; c < GW_SHADOW_CLASS_MAX; c++) {
			fprintf(out, "gateway_mirror_responses_total{route=\"%s\",mirror=\"%s\",side=\"primary\",class=\"%s\"} %lu\n",
				sh->routes[i].route, sh->routes[i].cluster,
				gw_shadow_class_name(c),
				(unsigned long)sh->routes[i].primary_class[c]);
			fprintf(out, "gateway_mirror_responses_total{route=\"%s\",mirror=\"%s\",side=\"shadow\",class=\"%s\"} %lu\n",
				sh->routes[i].route, sh->routes[i].cluster,
				gw_shadow_class_name(c),
				(unsigned long)sh->routes[i].shadow_class[c]);
		}
	fprintf(out, "# HELP gateway_mirror_mismatch_total Requests whose shadow status class differs from the primary's.\n"
		"# TYPE gateway_mirror_mismatch_total counter\n");
	for (i = 0; i < n_routes; i++)
		fprintf(out, "gateway_mirror_mismatch_total{route=\"%s\",mirror=\"%s\"} %lu\n",
			sh->routes[i].route, sh->routes[i].cluster,
			(unsigned long)sh->routes[i].mismatches);
	fprintf(out, "# HELP gateway_mirror_latency_milliseconds Latency of the primary and of the shadow for mirrored requests.\n"
		"# TYPE gateway_mirror_latency_milliseconds histogram\n");
	for (i = 0; i < n_routes; i++) {
		prom_hist(out, &sh->routes[i], "primary", sh->routes[i].primary_hist,
			  sh->routes[i].primary_us_sum);
		prom_hist(out, &sh->routes[i], "shadow", sh->routes[i].shadow_hist,
			  sh->routes[i].shadow_us_sum);
	}
	fprintf(out, "# HELP gateway_mirror_engine_drops_total Mirror copies dropped, all routes.\n"
		"# TYPE gateway_mirror_engine_drops_total counter\n"
		"gateway_mirror_engine_drops_total %lu\n",
		(unsigned long)sh->stats.drops);
	return ferror(out) ? -1 : 0;
}
