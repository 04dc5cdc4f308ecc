/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DPDK telemetry commands under /gateway/ and packet capture (rte_pdump).
 *
 * Telemetry: EAL's telemetry thread serves the socket
 * RUNTIME_DIR/dpdk_telemetry.v2 (/var/run/dpdk/<file-prefix>/, so
 * `dpdk-telemetry.py -f gatewayd` with the profiles' --file-prefix) and
 * calls our callbacks on its own thread, not on the control lcore. So they
 * only read what is safe to read from any thread: the workers' counters
 * (64-bit words with a single writer, see lib/metrics), the metrics tables
 * (built for concurrent readers), ethdev stats, and the publisher's stats
 * as one struct copy -- never a snapshot, which the control lcore may free.
 * Dict keys may only hold letters, digits, '_' and '/': names that may
 * hold more (ports, services) are string values, under "port0", ...
 * Commands cannot be unregistered: after term they answer nothing
 * (a mutex orders them against term).
 *
 * pdump: rte_pdump_init() lets dpdk-dumpcap and dpdk-pdump, secondary
 * processes, install capture callbacks on our ports. A secondary process
 * needs the primary's shared configuration: EAL must run without
 * --no-shconf and --in-memory (the drivers-config profiles and the test
 * profiles pass only --file-prefix=gatewayd; the capture then runs as
 * `dpdk-dumpcap --file-prefix=gatewayd -i net_af_packet0 ...`). A test
 * profile that needs --no-shconf (several gateways on one machine) loses
 * capture, and gatewayd says so at start; telemetry keeps working.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_pdump.h>
#include <rte_telemetry.h>

#include "gw_common.h"
#include "gw_metrics.h"
#include "gatewayd.h"
#include "telemetry.h"

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct gatewayd *tel_g;    /* NULL: not serving */
static bool tel_registered;
static bool pdump_up;

/* A worker index from the command's parameter; -1 for none (all). */
static int
worker_param(const struct gatewayd *g, const char *params, long *out)
{
	char *end;

	*out = -1;
	if (params == NULL || params[0] == '\0')
		return 0;
	*out = strtol(params, &end, 10);
	if (*end != '\0' || *out < 0 || *out >= (long)g->dp->n_workers)
		return -EINVAL;
	return 0;
}

/* /gateway/stats[,N]: the counters of every worker summed, or of worker N. */
static int
tel_stats(const struct gatewayd *g, const char *params, struct rte_tel_data *d)
{
	struct gw_worker_stats ws;
	struct gw_http_proxy_stats hs;
	struct gw_tcp_stats ts;
	char key[RTE_TEL_MAX_STRING_LEN];
	uint64_t drops = 0;
	long w;

	if (worker_param(g, params, &w) != 0)
		return -EINVAL;
	if (w < 0) {
		gw_dataplane_stats_sum(g->dp, &ws);
		gw_dataplane_http_stats_sum(g->dp, &hs);
		gw_dataplane_tcp_stats_sum(g->dp, &ts);
	} else {
		ws = g->dp->workers[w]->stats;
		hs = *gw_http_proxy_stats(g->dp->workers[w]->http);
		ts = *gw_tcp_stack_stats(g->dp->workers[w]->tcp);
	}
	for (unsigned int r = 1; r < GW_DROP_REASON_MAX; r++)
		drops += ws.drops[r];
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "rx_packets", ws.rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", ws.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_packets", ws.tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_bytes", ws.tx_bytes);
	rte_tel_data_add_dict_u64(d, "drops", drops);
	rte_tel_data_add_dict_u64(d, "tcp_conns", ts.conns);
	rte_tel_data_add_dict_u64(d, "tcp_established", ts.established);
	rte_tel_data_add_dict_u64(d, "tcp_retransmits", ts.retransmits);
	rte_tel_data_add_dict_u64(d, "tcp_resets_out", ts.resets_out);
	for (unsigned int i = 0; i < gw_http_proxy_n_counters; i++) {
		const struct gw_http_proxy_counter *c = &gw_http_proxy_counters[i];

		snprintf(key, sizeof(key), "http_%s", c->name);
		rte_tel_data_add_dict_u64(d, key, *(const uint64_t *)(const void *)
					  ((const char *)&hs + c->offset));
	}
	return 0;
}

/* /gateway/drops[,N]: drops by reason. */
static int
tel_drops(const struct gatewayd *g, const char *params, struct rte_tel_data *d)
{
	struct gw_worker_stats ws;
	long w;

	if (worker_param(g, params, &w) != 0)
		return -EINVAL;
	if (w < 0)
		gw_dataplane_stats_sum(g->dp, &ws);
	else
		ws = g->dp->workers[w]->stats;
	rte_tel_data_start_dict(d);
	for (unsigned int r = 1; r < GW_DROP_REASON_MAX; r++)
		rte_tel_data_add_dict_u64(d, gw_drop_reason_name(r), ws.drops[r]);
	return 0;
}

/* /gateway/workers: how many, and each one's lcore and packet counts. */
static int
tel_workers(const struct gatewayd *g, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "n_workers", g->dp->n_workers);
	for (unsigned int i = 0; i < g->dp->n_workers; i++) {
		const struct gw_worker *w = g->dp->workers[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char key[32];

		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "lcore", w->lcore_id);
		rte_tel_data_add_dict_u64(c, "rx_packets", w->stats.rx_packets);
		rte_tel_data_add_dict_u64(c, "tx_packets", w->stats.tx_packets);
		rte_tel_data_add_dict_u64(c, "http_requests",
					  gw_http_proxy_stats(w->http)->requests);
		rte_tel_data_add_dict_u64(c, "tcp_conns",
					  gw_tcp_stack_stats(w->tcp)->conns);
		snprintf(key, sizeof(key), "worker%u", i);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0) {
			rte_tel_data_free(c);
			return -ENOSPC;
		}
	}
	return 0;
}

/* /gateway/snapshot: the routing snapshot's generation and publisher counters. */
static int
tel_snapshot(const struct gatewayd *g, const char *params, struct rte_tel_data *d)
{
	struct gw_snapshot_stats ss;

	(void)params;
	gw_snapshot_stats_get(g->snapshots, &ss);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "generation", ss.generation);
	rte_tel_data_add_dict_u64(d, "published", ss.published);
	rte_tel_data_add_dict_u64(d, "reclaimed", ss.reclaimed);
	rte_tel_data_add_dict_u64(d, "retired", ss.retired);
	rte_tel_data_add_dict_u64(d, "refused", ss.refused);
	return 0;
}

/* /gateway/ports: each port's name, ethdev id and counters. */
static int
tel_ports(const struct gatewayd *g, const char *params, struct rte_tel_data *d)
{
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
		const struct gw_port *p = &g->ports[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		struct rte_eth_stats es;
		char dev[RTE_ETH_NAME_MAX_LEN], key[32];

		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "name", p->name);
		rte_tel_data_add_dict_u64(c, "port_id", p->port_id);
		if (rte_eth_dev_get_name_by_port(p->port_id, dev) == 0)
			rte_tel_data_add_dict_string(c, "device", dev);
		if (rte_eth_stats_get(p->port_id, &es) == 0) {
			rte_tel_data_add_dict_u64(c, "rx_packets", es.ipackets);
			rte_tel_data_add_dict_u64(c, "tx_packets", es.opackets);
			rte_tel_data_add_dict_u64(c, "rx_missed", es.imissed);
			rte_tel_data_add_dict_u64(c, "rx_errors", es.ierrors);
			rte_tel_data_add_dict_u64(c, "tx_errors", es.oerrors);
		}
		snprintf(key, sizeof(key), "port%u", i);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0) {
			rte_tel_data_free(c);
			return -ENOSPC;
		}
	}
	return 0;
}

/*
 * /gateway/requests: istio_requests_total, one dict per series under
 * "series0", ... with its labels and count (at most 255 series shown, the
 * telemetry dict limit; /stats/prometheus has them all).
 */
static int
tel_requests(const struct gatewayd *g, const char *params, struct rte_tel_data *d)
{
	const struct gw_metrics_table *tables[GW_CONFIG_MAX_WORKERS];
	struct gw_metrics_agg agg;

	(void)params;
	for (unsigned int i = 0; i < g->dp->n_workers; i++)
		tables[i] = g->dp->workers[i]->metrics;
	if (gw_metrics_aggregate(tables, g->dp->n_workers, &agg) != 0)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "n_series", agg.n);
	for (uint32_t i = 0; i < agg.n && i + 1 < RTE_TEL_MAX_DICT_ENTRIES; i++) {
		const struct gw_metrics_series *s = &agg.series[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char key[32];

		if (c == NULL) {
			gw_metrics_agg_free(&agg);
			return -ENOMEM;
		}
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "destination_service", s->service);
		rte_tel_data_add_dict_string(c, "destination_version", s->version);
		rte_tel_data_add_dict_string(c, "response_code", s->code);
		rte_tel_data_add_dict_string(c, "response_flags", s->flags);
		rte_tel_data_add_dict_string(c, "source_workload", s->source);
		rte_tel_data_add_dict_u64(c, "requests",
					  gw_metrics_hist_count(&s->hist));
		snprintf(key, sizeof(key), "series%u", i);
		if (rte_tel_data_add_dict_container(d, key, c, 0) != 0)
			rte_tel_data_free(c);
	}
	gw_metrics_agg_free(&agg);
	return 0;
}

typedef int (*tel_fn)(const struct gatewayd *g, const char *params,
		      struct rte_tel_data *d);

static const struct {
	const char *cmd;
	tel_fn fn;
	const char *help;
} tel_cmds[] = {
	{ "/gateway/stats", tel_stats,
	  "Gateway counters, every worker summed. Parameters: int worker_id" },
	{ "/gateway/drops", tel_drops,
	  "Frames dropped by reason. Parameters: int worker_id" },
	{ "/gateway/workers", tel_workers,
	  "Worker count, and per worker its lcore and counters. Takes no parameters" },
	{ "/gateway/snapshot", tel_snapshot,
	  "Routing snapshot generation and publisher counters. Takes no parameters" },
	{ "/gateway/ports", tel_ports,
	  "Ports: ethdev id, device and counters. Takes no parameters" },
	{ "/gateway/requests", tel_requests,
	  "istio_requests_total: labels and count of each series. Takes no parameters" },
};

/* One entry point: find the command, run it under the lock. */
static int
tel_dispatch(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&tel_lock);
	if (tel_g == NULL || tel_g->dp == NULL) {
		rc = -EAGAIN;         /* stopping: answer nothing */
		goto out;
	}
	for (size_t i = 0; i < GW_ARRAY_SIZE(tel_cmds); i++)
		if (strcmp(cmd, tel_cmds[i].cmd) == 0) {
			rc = tel_cmds[i].fn(tel_g, params, d);
			break;
		}
out:
	pthread_mutex_unlock(&tel_lock);
	return rc;
}

int
gatewayd_telemetry_init(struct gatewayd *g, char *err, size_t err_len)
{
	pthread_mutex_lock(&tel_lock);
	tel_g = g;
	pthread_mutex_unlock(&tel_lock);
	if (!tel_registered) {
		for (size_t i = 0; i < GW_ARRAY_SIZE(tel_cmds); i++)
			if (rte_telemetry_register_cmd(tel_cmds[i].cmd, tel_dispatch,
						       tel_cmds[i].help) != 0)
				return gw_err(err, err_len,
					      "cannot register telemetry command %s",
					      tel_cmds[i].cmd);
		tel_registered = true;
	}
	/* Capture is a convenience: without shared config, warn and go on. */
	if (rte_pdump_init() != 0)
		fprintf(stderr, "gatewayd: warning: packet capture (rte_pdump) "
			"unavailable: %s; dpdk-dumpcap needs EAL without "
			"--no-shconf/--in-memory\n", rte_strerror(rte_errno));
	else
		pdump_up = true;
	return 0;
}

void
gatewayd_telemetry_term(struct gatewayd *g)
{
	(void)g;
	pthread_mutex_lock(&tel_lock);
	tel_g = NULL;
	pthread_mutex_unlock(&tel_lock);
	if (pdump_up)
		rte_pdump_uninit();
	pdump_up = false;
}
