/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

/**
 * @file
 * Request metrics in Istio's shape and their Prometheus text exposition.
 *
 * - **Per-worker request table** (`struct gw_metrics_table`): one series per
 *   (destination service, destination version, response code, response
 *   flags, source workload), each a request count and a duration
 *   histogram with Istio's default buckets. Written only by its worker: no
 *   lock, no allocation after create (open addressing in a fixed array).
 *   A table holds at most the capacity given at create; a sample of a
 *   new series beyond that is folded into one overflow series (every
 *   label "overflow") and counted in dropped_series, so memory stays
 *   bounded whatever the traffic.
 * - **Aggregation** (control lcore): the series of every worker's table,
 *   summed by labels, sorted, in a heap array.
 * - **Exposition** (control lcore): Prometheus text format 0.0.4 (HELP and
 *   TYPE lines, escaped label values, cumulative histogram buckets ending
 *   in +Inf, _sum and _count) written to a FILE.
 *
 * Concurrency: a table has one writer (its worker) and any number of
 * readers on other threads (the control lcore, the telemetry thread). A
 * series' labels are written before the series is published by a release
 * store of its state and never change afterwards; readers take the state
 * with an acquire load. Counters are 64-bit words written with relaxed
 * atomic stores by the single writer and read with relaxed atomic loads:
 * on x86-64 both are plain aligned MOVs (no lock prefix, no fence), so the
 * worker pays nothing, and a reader never sees a torn value. A reader may
 * see a sample's bucket before its sum (they are separate words); request
 * counts are derived from the buckets, so a histogram's _count, its +Inf
 * bucket and istio_requests_total always agree in one exposition.
 *
 * No EAL needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Histogram bounds: Istio's default buckets for request duration (ms). */
#define GW_METRICS_N_BOUNDS 19

/** Bounds in microseconds: 0.5 ms ... 3,600,000 ms. */
extern const uint64_t gw_metrics_bounds_us[GW_METRICS_N_BOUNDS];

/** Longest label values kept (bytes, NUL excluded); longer ones are truncated. */
#define GW_METRICS_SERVICE_MAX 95
#define GW_METRICS_VERSION_MAX 47
#define GW_METRICS_SOURCE_MAX  63
#define GW_METRICS_FLAGS_MAX   15

/** Label value of the overflow series and of unknown services. */
#define GW_METRICS_OVERFLOW "overflow"
#define GW_METRICS_UNKNOWN  "unknown"

/**
 * A latency histogram: per-bucket (not cumulative) counts, the last one
 * for samples above the last bound, and the sum of the samples in
 * microseconds. Single writer; see the file comment for readers.
 */
struct gw_metrics_hist {
	uint64_t buckets[GW_METRICS_N_BOUNDS + 1];
	uint64_t sum_us;
};

/** Writer: count one sample of @p us microseconds. */
void gw_metrics_hist_observe(struct gw_metrics_hist *h, uint64_t us);

/** Reader: add a consistent-enough copy of @p h (relaxed loads) to @p sum. */
void gw_metrics_hist_add(struct gw_metrics_hist *sum,
			 const struct gw_metrics_hist *h);

/** Number of samples (sum of the buckets). */
uint64_t gw_metrics_hist_count(const struct gw_metrics_hist *h);

/** The labels of one request. Strings need not be NUL-terminated. */
struct gw_metrics_labels {
	const char *service;     /**< destination_service; NULL/empty: "unknown" */
	size_t service_len;
	const char *version;     /**< destination_version; NULL/empty: "unknown" */
	size_t version_len;
	const char *source;      /**< source_workload; NULL/empty: "unknown" */
	size_t source_len;
	const char *flags;       /**< response_flags, NUL-terminated; NULL/empty: "-" */
	uint16_t code;           /**< response_code; 0 when no response was sent */
};

/**
 * Fill the destination of @p l from an Istio cluster name
 * "outbound|PORT|SUBSET|HOST" (SUBSET may be empty). @p name need not be
 * NUL-terminated. @return false (labels untouched) for another shape.
 */
bool gw_metrics_parse_cluster(const char *name, size_t len,
			      struct gw_metrics_labels *l);

struct gw_metrics_table;

/**
 * A table for at most @p max_series series (1..1048576) plus the overflow
 * series. Memory is allocated here, once (about 400 bytes per series).
 * NULL with errno EINVAL or ENOMEM.
 */
struct gw_metrics_table *gw_metrics_table_create(uint32_t max_series);

/** Free a table (no writer may use it any more). NULL is fine. */
void gw_metrics_table_free(struct gw_metrics_table *t);

/**
 * Writer (the table's worker): count one request with @p l and a
 * duration of @p duration_us. Never allocates, never blocks.
 */
void gw_metrics_record(struct gw_metrics_table *t,
		       const struct gw_metrics_labels *l, uint64_t duration_us);

/**
 * Writer: gw_metrics_record() for a request labelled from its cluster:
 * the destination from @p cluster[0..len) as gw_metrics_parse_cluster()
 * reads it ("unknown" for another shape or none), response flags
 * @p flags (NUL-terminated), code @p code, no source workload. The table
 * keeps the last cluster, flags and code given here with their series: a
 * request with the same ones is counted without parsing, hashing or
 * probing.
 */
void gw_metrics_record_cluster(struct gw_metrics_table *t, const char *cluster,
			       size_t len, const char *flags, uint16_t code,
			       uint64_t duration_us);

/** Samples folded into the overflow series because the table was full. */
uint64_t gw_metrics_table_dropped_series(const struct gw_metrics_table *t);

/** Series in use (the overflow series not included). */
uint32_t gw_metrics_table_series(const struct gw_metrics_table *t);

/** One series after aggregation. */
struct gw_metrics_series {
	char service[GW_METRICS_SERVICE_MAX + 1];
	char version[GW_METRICS_VERSION_MAX + 1];
	char source[GW_METRICS_SOURCE_MAX + 1];
	char flags[GW_METRICS_FLAGS_MAX + 1];
	char code[9];            /**< "200", or "overflow" */
	struct gw_metrics_hist hist;
};

/** Every worker's series summed by labels. */
struct gw_metrics_agg {
	struct gw_metrics_series *series;  /**< sorted by labels; heap */
	uint32_t n;
	uint32_t cap;
	uint64_t dropped_series;           /**< sum over the tables */
};

/**
 * Reader: sum the series of @p n tables (NULL entries skipped) into
 * @p out (zeroed here), sorted by service, version, code, flags, source.
 * @return 0, or -ENOMEM (@p out then empty).
 */
int gw_metrics_aggregate(const struct gw_metrics_table *const *tables,
			 unsigned int n, struct gw_metrics_agg *out);

/** Free what gw_metrics_aggregate() allocated. */
void gw_metrics_agg_free(struct gw_metrics_agg *a);

/* ---- Prometheus text exposition (format 0.0.4) ---- */

/** Content type of the exposition, for an HTTP reply. */
#define GW_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/** A label: name (a valid label name) and value (any text, escaped on output). */
struct gw_prom_label {
	const char *name;
	const char *value;
};

/**
 * "# HELP name help" (help escaped: backslash, newline) and
 * "# TYPE name type". Once per family, before its samples.
 */
void gw_prom_family(FILE *f, const char *name, const char *type,
		    const char *help);

/** @p v as a label value: backslash, double quote and newline escaped. */
void gw_prom_escape(FILE *f, const char *v);

/** "name{labels} value" with an integer value; @p n may be 0. */
void gw_prom_sample(FILE *f, const char *name,
		    const struct gw_prom_label *labels, unsigned int n,
		    uint64_t value);

/**
 * A histogram in milliseconds: name_bucket{labels,le="..."} (cumulative,
 * ending with le="+Inf"), name_sum and name_count, for one label set.
 */
void gw_prom_histogram(FILE *f, const char *name,
		       const struct gw_prom_label *labels, unsigned int n,
		       const struct gw_metrics_hist *h);

/**
 * istio_requests_total (counter) and istio_request_duration_milliseconds
 * (histogram) for every series of @p a, with their HELP and TYPE lines.
 * Labels: destination_service, destination_version, response_code,
 * response_flags, source_workload.
 */
void gw_metrics_write_istio(FILE *f, const struct gw_metrics_agg *a);

#endif /* GW_METRICS_H */
