/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_OUTLIER_H
#define GW_OUTLIER_H

/**
 * @file
 * Outlier detection (DestinationRule `outlierDetection`, Envoy's
 * consecutive_5xx and consecutive_gateway_failure detectors), split in
 * two halves (docs/outlier-detection.md):
 *
 * - Workers count consecutive errors per (cluster, endpoint) in their own
 *   block of the routing snapshot (gw_route_outlier_counters()) and, when
 *   a count reaches its threshold, send one struct gw_outlier_event to the
 *   control lcore. The thresholds come from gw_outlier_config_from().
 * - The control lcore owns the ejection state (struct gw_outlier): it
 *   ejects for baseEjectionTime x the host's ejection count, bounded by
 *   maxEjectionPercent, brings hosts back every `interval`, applies the
 *   minHealthPercent panic threshold, and publishes the result as the
 *   clusters' health bitmaps in the snapshot (gw_route_cluster_health()),
 *   which workers hand to the load balancer. No lock anywhere: the bitmap
 *   words are stored and loaded atomically.
 *
 * State is keyed by cluster name and endpoint address:port, so that it
 * survives a new snapshot that keeps them (gw_outlier_bind()). Events name
 * clusters and endpoints by index in one snapshot generation; an event of
 * another generation is dropped (counted as stale).
 *
 * Control lcore only, but for the inline helpers. No EAL needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_model.h"
#include "gw_route.h"

/** Istio's defaults (Envoy's, for the counts). */
#define GW_OUTLIER_DEFAULT_5XX            5
#define GW_OUTLIER_DEFAULT_INTERVAL_US    10000000LL  /* 10 s */
#define GW_OUTLIER_DEFAULT_BASE_EJECT_US  30000000LL  /* 30 s */
#define GW_OUTLIER_DEFAULT_MAX_EJECT_PCT  10
#define GW_OUTLIER_DEFAULT_MIN_HEALTH_PCT 0
/** Envoy's max_ejection_time default (Istio does not expose it). */
#define GW_OUTLIER_MAX_EJECT_US           300000000LL /* 300 s */

/** What crossed its threshold. */
enum gw_outlier_kind {
	GW_OUTLIER_5XX = 1,       /**< consecutive5xxErrors */
	GW_OUTLIER_GATEWAY,       /**< consecutiveGatewayErrors (502, 503, 504) */
};

/** A worker's report: @p endpoint of @p cluster crossed a threshold. */
struct gw_outlier_event {
	uint64_t generation;      /**< gw_snapshot generation of the indices */
	uint32_t cluster;
	uint32_t endpoint;
	uint8_t kind;             /**< enum gw_outlier_kind */
	uint8_t reserved[7];
};

/** Effective settings of an outlierDetection (Istio defaults filled in). */
struct gw_outlier_config {
	uint32_t consecutive_5xx;      /**< 0: disabled */
	uint32_t consecutive_gateway;  /**< 0: disabled (Istio's default) */
	uint64_t interval_us;
	uint64_t base_ejection_us;
	uint32_t max_ejection_percent;
	uint32_t min_health_percent;
};

/**
 * The effective settings of @p od (NULL or not present: everything 0,
 * nothing is ever ejected). Unset counts, durations and percentages take
 * Istio's defaults: consecutive5xxErrors 5, consecutiveGatewayErrors off,
 * interval 10 s, baseEjectionTime 30 s, maxEjectionPercent 10,
 * minHealthPercent 0.
 */
static inline void
gw_outlier_config_from(const struct gw_outlier_detection *od,
		       struct gw_outlier_config *c)
{
	*c = (struct gw_outlier_config){0};
	if (od == NULL || !od->present)
		return;
	c->consecutive_5xx = od->consecutive_5xx_errors == GW_MODEL_UNSET ?
			     GW_OUTLIER_DEFAULT_5XX :
			     (uint32_t)od->consecutive_5xx_errors;
	c->consecutive_gateway = od->consecutive_gateway_errors == GW_MODEL_UNSET ?
				 0 : (uint32_t)od->consecutive_gateway_errors;
	c->interval_us = od->interval_us > 0 ? (uint64_t)od->interval_us :
			 (uint64_t)GW_OUTLIER_DEFAULT_INTERVAL_US;
	c->base_ejection_us = od->base_ejection_time_us > 0 ?
			      (uint64_t)od->base_ejection_time_us :
			      (uint64_t)GW_OUTLIER_DEFAULT_BASE_EJECT_US;
	c->max_ejection_percent = od->max_ejection_percent == GW_MODEL_UNSET ?
				  GW_OUTLIER_DEFAULT_MAX_EJECT_PCT :
				  (uint32_t)od->max_ejection_percent;
	c->min_health_percent = od->min_health_percent == GW_MODEL_UNSET ?
				GW_OUTLIER_DEFAULT_MIN_HEALTH_PCT :
				(uint32_t)od->min_health_percent;
}

/**
 * Worker side: count one finished upstream exchange of an endpoint in its
 * two counters (@p counters[0] 5xx, [1] gateway errors). @p status is the
 * response status, or the one the failure stands for (connect failure or
 * reset: 503, timeout: 504), as Envoy maps local-origin errors. A status
 * below 500 resets both counts; a 5xx other than 502-504 resets the
 * gateway count.
 *
 * @return the kind whose threshold was reached (both counts then restart
 *         from 0), or 0.
 */
static inline uint8_t
gw_outlier_count(uint32_t *counters, uint16_t status,
		 uint32_t consecutive_5xx, uint32_t consecutive_gateway)
{
	uint8_t kind = 0;

	if (status < 500) {
		counters[0] = counters[1] = 0;
		return 0;
	}
	if (status >= 502 && status <= 504) {
		if (++counters[1] == consecutive_gateway && consecutive_gateway != 0)
			kind = GW_OUTLIER_GATEWAY;
	} else {
		counters[1] = 0;
	}
	if (++counters[0] == consecutive_5xx && consecutive_5xx != 0 && kind == 0)
		kind = GW_OUTLIER_5XX;
	if (kind != 0)
		counters[0] = counters[1] = 0;
	return kind;
}

struct gw_outlier;

/** Create an engine bound to nothing. NULL when out of memory. */
struct gw_outlier *gw_outlier_create(void);

/** Free it (NULL is fine). */
void gw_outlier_free(struct gw_outlier *o);

/** Monotonic clock in microseconds (CLOCK_MONOTONIC), for the callers. */
uint64_t gw_outlier_clock_us(void);

/**
 * Follow the snapshot of @p generation: its clusters with outlierDetection
 * take over the state of the same cluster name and endpoint address:port
 * (ejections, ejection counts, counters); the rest start healthy. The
 * health bitmaps of @p routes are written. A no-op when already bound to
 * @p generation. @p routes must stay valid until the next bind (or free).
 *
 * @return 0, or -ENOMEM (the engine is then bound to nothing: every
 *         endpoint usable, events dropped as stale).
 */
int gw_outlier_bind(struct gw_outlier *o, struct gw_route_snapshot *routes,
		    uint64_t generation, uint64_t now_us);

/**
 * Write the current ejections into the health bitmaps of @p routes, a
 * snapshot about to be published (matched by cluster name and endpoint),
 * so that it takes effect with them. gw_outlier_bind() follows once it is
 * published.
 */
void gw_outlier_apply(const struct gw_outlier *o,
		      struct gw_route_snapshot *routes);

/**
 * A worker's event: eject the endpoint unless it is already ejected, its
 * cluster's threshold is off, or maxEjectionPercent forbids it (counted
 * as an overflow; one host may always be ejected when the percentage is
 * not 0, as Envoy did). @return true when the endpoint was ejected.
 */
bool gw_outlier_report(struct gw_outlier *o, const struct gw_outlier_event *ev,
		       uint64_t now_us);

/**
 * Periodic work: for each cluster whose `interval` has elapsed since its
 * last check, bring back the hosts whose ejection time is over, and
 * lower by one the ejection count of hosts that stayed in service for a
 * whole interval since coming back (Envoy). Cheap when nothing is due.
 * @return hosts brought back.
 */
unsigned int gw_outlier_tick(struct gw_outlier *o, uint64_t now_us);

/** Generation the engine is bound to (0: none). */
uint64_t gw_outlier_generation(const struct gw_outlier *o);

/** What the engine knows of one endpoint. */
struct gw_outlier_endpoint_info {
	bool tracked;          /**< the cluster has outlierDetection */
	bool ejected;
	bool panic;            /**< its cluster ignores ejections (minHealthPercent) */
	uint64_t ejected_us_left; /**< until it may come back (next check after that) */
	uint32_t ejection_count;  /**< multiplier of the next ejection time */
	uint64_t ejections;    /**< times ejected */
};

/**
 * Endpoint @p endpoint of cluster @p cluster of the bound snapshot.
 * @return 0, or -ENOENT when the indices are out of range (info zeroed).
 */
int gw_outlier_endpoint(const struct gw_outlier *o, uint32_t cluster,
			uint32_t endpoint, uint64_t now_us,
			struct gw_outlier_endpoint_info *info);

/** Counters of one cluster (or of all, summed). */
struct gw_outlier_stats {
	uint64_t ejections_total;      /**< ejections performed */
	uint64_t ejections_active;     /**< gauge: hosts ejected now */
	uint64_t ejections_overflow;   /**< refused by maxEjectionPercent */
	uint64_t ejections_5xx;        /**< of the total, by consecutive 5xx */
	uint64_t ejections_gateway;    /**< ... by consecutive gateway errors */
	uint64_t unejections;          /**< hosts brought back */
	uint64_t panic;                /**< gauge: clusters in panic (ejections ignored) */
};

/** Engine-wide counters of events (control lcore). */
struct gw_outlier_event_stats {
	uint64_t events;               /**< events received */
	uint64_t stale;                /**< of another generation, or bad indices */
	uint64_t ignored;              /**< host already ejected, or threshold off */
};

/** Clusters with outlierDetection in the bound snapshot. */
uint32_t gw_outlier_cluster_count(const struct gw_outlier *o);

/**
 * Cluster @p i (0 .. count-1) of the engine: its name and counters
 * (carried over from snapshot to snapshot by name).
 * @return 0, or -ENOENT.
 */
int gw_outlier_cluster_stats(const struct gw_outlier *o, uint32_t i,
			     const char **name, struct gw_outlier_stats *st);

/** Counters summed over every cluster, and the event counters. */
void gw_outlier_stats_get(const struct gw_outlier *o, struct gw_outlier_stats *st,
			  struct gw_outlier_event_stats *ev);

#endif /* GW_OUTLIER_H */
