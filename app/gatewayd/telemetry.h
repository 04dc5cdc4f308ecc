/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GATEWAYD_TELEMETRY_H
#define GATEWAYD_TELEMETRY_H

/*
 * How an operator observes gatewayd besides /stats:
 *
 *   - Prometheus text (admin GET /stats/prometheus, `gwctl stats -o
 *     prometheus`): gatewayd_prometheus_text() (admin_handlers.c) with the
 *     control plane's part from gatewayd_ctl_stats_prometheus()
 *     (ctl_handlers.c);
 *   - DPDK telemetry commands under /gateway/ (dpdk-telemetry.py) and
 *     packet capture with dpdk-dumpcap (rte_pdump): the "telemetry" module
 *     of gatewayd's module table (telemetry.c).
 */

#include <stddef.h>
#include <stdio.h>

struct gatewayd;

/**
 * The whole Prometheus exposition (format 0.0.4) in a heap buffer
 * (@p text, @p len; the caller frees it). Control lcore only.
 * @return 0, or -ENOMEM (*text NULL).
 */
int gatewayd_prometheus_text(const struct gatewayd *g, char **text,
			     size_t *len);

/**
 * The control plane's families (gateway_snapshot_*, gateway_control_*,
 * apply latency) to @p f. Control lcore only.
 */
void gatewayd_ctl_stats_prometheus(const struct gatewayd *g, FILE *f);

/**
 * Module "telemetry": register the /gateway/ telemetry commands and
 * initialise rte_pdump so that dpdk-dumpcap can attach. Needs the data
 * plane (after "workers" in the table). A pdump that cannot start (EAL
 * without shared config) is a warning, not a failure.
 */
int gatewayd_telemetry_init(struct gatewayd *g, char *err, size_t err_len);

/** Stop answering telemetry commands for this gateway and stop pdump. */
void gatewayd_telemetry_term(struct gatewayd *g);

#endif /* GATEWAYD_TELEMETRY_H */
