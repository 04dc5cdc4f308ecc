/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin listener's pages: readiness, counters (also in Prometheus
 * text format), ports, neighbours; each page is one row of
 * gatewayd_admin_routes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_ethdev.h>

#include "gw_common.h"
#include "gw_metrics.h"
#include "gatewayd.h"
#include "ctl.h"
#include "telemetry.h"

static void
page_ready(void *ctx, const char *query, const char *body, size_t body_len,
	   struct gw_admin_reply *r)
{
	(void)ctx; (void)query; (void)body; (void)body_len;
	gw_admin_reply_printf(r, "LIVE\n");
}

/*
 * The counters /stats prints and /stats/prometheus exposes, listed once:
 * name, offset in the stats struct, and whether it is a gauge (a level,
 * not a running total).
 */
struct counter_def {
	const char *name;
	size_t offset;
	bool gauge;
};

#define W(f) { #f, offsetof(struct gw_worker_stats, f), false }
static const struct counter_def worker_counters[] = {
	W(rx_packets), W(rx_bytes), W(tx_packets), W(tx_bytes),
	W(arp_replies), W(icmp_echo_replies), W(neigh_held),
	W(neigh_released), W(ctl_tx_packets), W(idle_sleeps),
	W(handoff_out), W(handoff_in), W(loops_over_10ms),
	{ "loop_max_us", offsetof(struct gw_worker_stats, loop_max_us), true },
	{ "sleep_max_us", offsetof(struct gw_worker_stats, sleep_max_us), true },
};
#undef W

#define T(f) { #f, offsetof(struct gw_tcp_stats, f), false }
#define TG(f) { #f, offsetof(struct gw_tcp_stats, f), true }
static const struct counter_def tcp_counters[] = {
	T(active_opens), T(passive_opens), T(accepts_refused),
	T(conns_refused_limit), TG(established), TG(conns), TG(timewait),
	T(segs_in), T(segs_out), T(bytes_in), T(bytes_out),
	T(retransmits), T(fast_retransmits), T(rto_timeouts),
	T(out_of_order), T(reasm_dropped), T(dup_segments),
	T(syncookies_sent), T(syncookies_ok), T(syncookies_failed),
	T(resets_in), T(resets_out), T(challenge_acks),
	T(bad_checksum), T(bad_segment), T(no_listener),
	T(zero_window_probes), T(copied_bytes), T(no_mbuf),
};
#undef T
#undef TG

/* struct rte_eth_stats, as port.NAME.* */
#define P(f, label) { label, offsetof(struct rte_eth_stats, f), false }
static const struct counter_def port_counters[] = {
	P(ipackets, "rx_packets"), P(opackets, "tx_packets"),
	P(ibytes, "rx_bytes"), P(obytes, "tx_bytes"),
	P(imissed, "rx_missed"), P(ierrors, "rx_errors"),
	P(oerrors, "tx_errors"), P(rx_nombuf, "rx_nombuf"),
};
#undef P

static uint64_t
counter_at(const void *stats, size_t offset)
{
	return *(const uint64_t *)(const void *)((const char *)stats + offset);
}

static void
print_counters(struct gw_admin_reply *r, const char *prefix,
	       const struct gw_worker_stats *s)
{
	for (size_t i = 0; i < GW_ARRAY_SIZE(worker_counters); i++)
		gw_admin_reply_printf(r, "%s.%s %lu\n", prefix,
			worker_counters[i].name,
			(unsigned long)counter_at(s, worker_counters[i].offset));
	for (unsigned int i = 1; i < GW_DROP_REASON_MAX; i++)
		gw_admin_reply_printf(r, "%s.drop.%s %lu\n", prefix,
				      gw_drop_reason_name(i),
				      (unsigned long)s->drops[i]);
}

static void
print_tcp_counters(struct gw_admin_reply *r, const char *prefix,
		   const struct gw_tcp_stats *t)
{
	for (size_t i = 0; i < GW_ARRAY_SIZE(tcp_counters); i++)
		gw_admin_reply_printf(r, "%s.tcp.%s %lu\n", prefix,
			tcp_counters[i].name,
			(unsigned long)counter_at(t, tcp_counters[i].offset));
}

static void
print_l4_counters(struct gw_admin_reply *r, const struct gw_dataplane *dp)
{
	struct gw_l4_proxy_stats sum;

	gw_dataplane_l4_stats_sum(dp, &sum);
	for (unsigned int i = 0; i < gw_l4_proxy_n_counters; i++) {
		const struct gw_l4_proxy_counter *c = &gw_l4_proxy_counters[i];

		gw_admin_reply_printf(r, "gateway.l4.%s %lu\n", c->name,
			(unsigned long)*(const uint64_t *)((const char *)&sum +
							   c->offset));
	}
}

static void
print_http_counters(struct gw_admin_reply *r, const struct gw_dataplane *dp)
{
	struct gw_http_proxy_stats sum;

	gw_dataplane_http_stats_sum(dp, &sum);
	for (unsigned int i = 0; i < gw_http_proxy_n_counters; i++) {
		const struct gw_http_proxy_counter *c = &gw_http_proxy_counters[i];

		gw_admin_reply_printf(r, "gateway.http.%s %lu\n", c->name,
			(unsigned long)*(const uint64_t *)((const char *)&sum +
							   c->offset));
	}
}

/* Mirroring: the shadow engine's counters and result parity (lib/shadow). */
static void
print_shadow_counters(struct gw_admin_reply *r, const struct gw_dataplane *dp)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (dp->shadow == NULL || (f = open_memstream(&text, &len)) == NULL)
		return;
	gw_shadow_stats_text(dp->shadow, f);
	fprintf(f, "gateway.shadow.tx_drops %lu\n",
		(unsigned long)dp->shadow_tx_drops);
	if (fclose(f) == 0)
		gw_admin_reply_printf(r, "%.*s", (int)len, text);
	free(text);
}

/* Outlier detection (lib/outlier): Envoy's outlier_detection counters per
 * cluster, and the workers' events. */
static void
print_outlier_counters(struct gw_admin_reply *r, const struct gw_dataplane *dp)
{
	struct gw_outlier_event_stats ev;
	struct gw_outlier_stats st;

	gw_outlier_stats_get(dp->outlier, &st, &ev);
	gw_admin_reply_printf(r, "gateway.outlier.events %lu\n"
			      "gateway.outlier.stale_events %lu\n"
			      "gateway.outlier.ignored_events %lu\n"
			      "gateway.outlier.ejections_total %lu\n"
			      "gateway.outlier.ejections_active %lu\n",
			      (unsigned long)ev.events, (unsigned long)ev.stale,
			      (unsigned long)ev.ignored,
			      (unsigned long)st.ejections_total,
			      (unsigned long)st.ejections_active);
	for (uint32_t i = 0; i < gw_outlier_cluster_count(dp->outlier); i++) {
		const char *name;

		if (gw_outlier_cluster_stats(dp->outlier, i, &name, &st) != 0)
			continue;
		gw_admin_reply_printf(r,
			"cluster.%s.outlier_detection.ejections_enforced_total %lu\n"
			"cluster.%s.outlier_detection.ejections_active %lu\n"
			"cluster.%s.outlier_detection.ejections_overflow %lu\n"
			"cluster.%s.outlier_detection.ejections_enforced_consecutive_5xx %lu\n"
			"cluster.%s.outlier_detection.ejections_enforced_consecutive_gateway_failure %lu\n"
			"cluster.%s.outlier_detection.unejections %lu\n"
			"cluster.%s.outlier_detection.panic %lu\n",
			name, (unsigned long)st.ejections_total,
			name, (unsigned long)st.ejections_active,
			name, (unsigned long)st.ejections_overflow,
			name, (unsigned long)st.ejections_5xx,
			name, (unsigned long)st.ejections_gateway,
			name, (unsigned long)st.unejections,
			name, (unsigned long)st.panic);
	}
}

static void
page_stats(void *ctx, const char *query, const char *body, size_t body_len,
	   struct gw_admin_reply *r)
{
	const struct gatewayd *g = ctx;
	struct gw_worker_stats sum;
	char prefix[32];

	(void)query; (void)body; (void)body_len;
	struct gw_tcp_stats tcp;

	gw_dataplane_stats_sum(g->dp, &sum);
	print_counters(r, "gateway", &sum);
	gw_dataplane_tcp_stats_sum(g->dp, &tcp);
	print_tcp_counters(r, "gateway", &tcp);
	print_l4_counters(r, g->dp);
	print_http_counters(r, g->dp);
	gw_admin_reply_printf(r, "gateway.arp_requests_sent %lu\n",
			      (unsigned long)g->dp->arp_requests_sent);
	gw_admin_reply_printf(r, "gateway.control_tx_drops %lu\n",
			      (unsigned long)g->dp->event_ring_drops);
	print_shadow_counters(r, g->dp);
	print_outlier_counters(r, g->dp);
	for (unsigned int i = 0; i < g->dp->n_workers; i++) {
		snprintf(prefix, sizeof(prefix), "worker.%u", i);
		print_counters(r, prefix, &g->dp->workers[i]->stats);
		print_tcp_counters(r, prefix,
				   gw_tcp_stack_stats(g->dp->workers[i]->tcp));
	}
	for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(g->ports[i].port_id, &es) != 0)
			continue;
		for (size_t k = 0; k < GW_ARRAY_SIZE(port_counters); k++)
			gw_admin_reply_printf(r, "port.%s.%s %lu\n",
				g->ports[i].name, port_counters[k].name,
				(unsigned long)counter_at(&es,
						port_counters[k].offset));
	}
	for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
		struct gw_port_xsk_stats xs;

		if (gw_port_xsk_stats(&g->ports[i], &xs) != 0)
			continue;
		for (unsigned int k = 0; k < gw_port_n_xsk_counters; k++)
			gw_admin_reply_printf(r, "port.%s.xsk.%s %lu\n",
				g->ports[i].name, gw_port_xsk_counters[k].name,
				(unsigned long)counter_at(&xs,
					gw_port_xsk_counters[k].offset));
	}
	gatewayd_ctl_stats_text(g, r);
}

/* ---- /stats/prometheus ---- */

/* The per-worker gauges of the lib counter tables (the rest count up). */
static bool
lib_gauge(const char *name)
{
	return strcmp(name, "active") == 0 ||
	       strcmp(name, "upstream_idle") == 0 ||
	       strcmp(name, "upstream_active") == 0;
}

/* gateway_GROUP_NAME[_total] with its HELP and TYPE lines. */
static void
prom_family(FILE *f, char *buf, size_t len, const char *group,
	    const char *name, bool gauge, const char *what)
{
	char help[160];

	snprintf(buf, len, "gateway_%s_%s%s", group, name, gauge ? "" : "_total");
	snprintf(help, sizeof(help), "%s %s (/stats: %s).", what, name,
		 gauge ? "now" : "since start");
	gw_prom_family(f, buf, gauge ? "gauge" : "counter", help);
}

typedef const void *(*worker_stats_fn)(const struct gw_worker *w);

static const void *
worker_stats(const struct gw_worker *w) { return &w->stats; }
static const void *
worker_tcp(const struct gw_worker *w) { return gw_tcp_stack_stats(w->tcp); }
static const void *
worker_http(const struct gw_worker *w) { return gw_http_proxy_stats(w->http); }
static const void *
worker_l4(const struct gw_worker *w) { return gw_l4_proxy_stats(w->l4); }

/* One family per counter, one sample per worker (label worker="N"). */
static void
prom_per_worker(FILE *f, const struct gw_dataplane *dp, const char *group,
		const char *what, const char *name, size_t offset, bool gauge,
		worker_stats_fn get)
{
	char metric[96], id[12];
	struct gw_prom_label l = { "worker", id };

	prom_family(f, metric, sizeof(metric), group, name, gauge, what);
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		snprintf(id, sizeof(id), "%u", i);
		gw_prom_sample(f, metric, &l, 1,
			       counter_at(get(dp->workers[i]), offset));
	}
}

static void
prom_workers(FILE *f, const struct gw_dataplane *dp)
{
	struct gw_prom_label l[2] = { { "worker", NULL }, { "reason", NULL } };
	char id[12];

	for (size_t k = 0; k < GW_ARRAY_SIZE(worker_counters); k++)
		prom_per_worker(f, dp, "worker", "Worker counter",
				worker_counters[k].name, worker_counters[k].offset,
				false, worker_stats);
	gw_prom_family(f, "gateway_worker_drops_total", "counter",
		       "Frames dropped by a worker, by reason (/stats: worker.N.drop.REASON).");
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		snprintf(id, sizeof(id), "%u", i);
		l[0].value = id;
		for (unsigned int r = 1; r < GW_DROP_REASON_MAX; r++) {
			l[1].value = gw_drop_reason_name(r);
			gw_prom_sample(f, "gateway_worker_drops_total", l, 2,
				       dp->workers[i]->stats.drops[r]);
		}
	}
	for (size_t k = 0; k < GW_ARRAY_SIZE(tcp_counters); k++)
		prom_per_worker(f, dp, "tcp", "TCP", tcp_counters[k].name,
				tcp_counters[k].offset, tcp_counters[k].gauge,
				worker_tcp);
	for (unsigned int k = 0; k < gw_http_proxy_n_counters; k++)
		prom_per_worker(f, dp, "http", "HTTP proxy",
				gw_http_proxy_counters[k].name,
				gw_http_proxy_counters[k].offset,
				lib_gauge(gw_http_proxy_counters[k].name), worker_http);
	for (unsigned int k = 0; k < gw_l4_proxy_n_counters; k++)
		prom_per_worker(f, dp, "l4", "L4 proxy",
				gw_l4_proxy_counters[k].name,
				gw_l4_proxy_counters[k].offset,
				lib_gauge(gw_l4_proxy_counters[k].name), worker_l4);
}

/* Istio's request metrics and the tables' own bounds. */
static int
prom_istio(FILE *f, const struct gw_dataplane *dp)
{
	const struct gw_metrics_table *tables[GW_CONFIG_MAX_WORKERS];
	struct gw_prom_label l = { "worker", NULL };
	struct gw_metrics_agg agg;
	char id[12];

	for (unsigned int i = 0; i < dp->n_workers; i++)
		tables[i] = dp->workers[i]->metrics;
	if (gw_metrics_aggregate(tables, dp->n_workers, &agg) != 0)
		return -ENOMEM;
	gw_metrics_write_istio(f, &agg);
	gw_metrics_agg_free(&agg);
	gw_prom_family(f, "gateway_metrics_series", "gauge",
		       "Istio metric series in a worker's table (at most "
		       RTE_STR(GW_WORKER_METRICS_SERIES) ").");
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		snprintf(id, sizeof(id), "%u", i);
		l.value = id;
		gw_prom_sample(f, "gateway_metrics_series", &l, 1,
			       gw_metrics_table_series(tables[i]));
	}
	gw_prom_family(f, "gateway_metrics_dropped_series_total", "counter",
		       "Requests counted under the overflow series: the worker's table was full.");
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		snprintf(id, sizeof(id), "%u", i);
		l.value = id;
		gw_prom_sample(f, "gateway_metrics_dropped_series_total", &l, 1,
			       gw_metrics_table_dropped_series(tables[i]));
	}
	return 0;
}

/* AF_XDP sockets' kernel counters, for the ports that have them */
static void
prom_ports_xsk(FILE *f, const struct gatewayd *g)
{
	struct gw_port_xsk_stats xs[GW_CONFIG_MAX_PORTS];
	bool have[GW_CONFIG_MAX_PORTS], any = false;
	struct gw_prom_label l = { "port", NULL };
	char metric[96], name[64];

	for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
		have[i] = gw_port_xsk_stats(&g->ports[i], &xs[i]) == 0;
		any = any || have[i];
	}
	if (!any)
		return;
	for (unsigned int k = 0; k < gw_port_n_xsk_counters; k++) {
		snprintf(name, sizeof(name), "xsk_%s",
			 gw_port_xsk_counters[k].name);
		prom_family(f, metric, sizeof(metric), "port", name, false,
			    "AF_XDP socket (kernel XDP_STATISTICS)");
		for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
			if (!have[i])
				continue;
			l.value = g->ports[i].name;
			gw_prom_sample(f, metric, &l, 1,
				       counter_at(&xs[i],
					gw_port_xsk_counters[k].offset));
		}
	}
}

static void
prom_ports(FILE *f, const struct gatewayd *g)
{
	struct rte_eth_stats es[GW_CONFIG_MAX_PORTS];
	bool have[GW_CONFIG_MAX_PORTS];
	struct gw_prom_label l = { "port", NULL };
	char metric[96];

	for (unsigned int i = 0; i < g->cfg.n_ports; i++)
		have[i] = rte_eth_stats_get(g->ports[i].port_id, &es[i]) == 0;
	for (size_t k = 0; k < GW_ARRAY_SIZE(port_counters); k++) {
		prom_family(f, metric, sizeof(metric), "port",
			    port_counters[k].name, false, "Port (ethdev)");
		for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
			if (!have[i])
				continue;
			l.value = g->ports[i].name;
			gw_prom_sample(f, metric, &l, 1,
				       counter_at(&es[i], port_counters[k].offset));
		}
	}
	prom_ports_xsk(f, g);
}

/* Outlier detection: events, and per cluster with outlierDetection its
 * ejections (Envoy's outlier_detection stats as gateway_outlier_*). */
static void
prom_outlier(FILE *f, const struct gw_dataplane *dp)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fams[] = {
		{ "gateway_outlier_ejections_total", "counter",
		  "Endpoints ejected by outlier detection.",
		  offsetof(struct gw_outlier_stats, ejections_total) },
		{ "gateway_outlier_ejections_active", "gauge",
		  "Endpoints ejected now.",
		  offsetof(struct gw_outlier_stats, ejections_active) },
		{ "gateway_outlier_ejections_overflow_total", "counter",
		  "Ejections refused by maxEjectionPercent.",
		  offsetof(struct gw_outlier_stats, ejections_overflow) },
	};
	struct gw_outlier_event_stats ev;
	struct gw_outlier_stats st;
	struct gw_prom_label l = { "cluster", NULL };
	uint32_t n = gw_outlier_cluster_count(dp->outlier);

	gw_outlier_stats_get(dp->outlier, &st, &ev);
	gw_prom_family(f, "gateway_outlier_events_total", "counter",
		       "Outlier threshold reports received from workers.");
	gw_prom_sample(f, "gateway_outlier_events_total", NULL, 0, ev.events);
	gw_prom_family(f, "gateway_outlier_stale_events_total", "counter",
		       "Outlier reports about an older snapshot, dropped.");
	gw_prom_sample(f, "gateway_outlier_stale_events_total", NULL, 0, ev.stale);
	for (size_t k = 0; k < GW_ARRAY_SIZE(fams) && n > 0; k++) {
		gw_prom_family(f, fams[k].name, fams[k].type, fams[k].help);
		for (uint32_t i = 0; i < n; i++) {
			if (gw_outlier_cluster_stats(dp->outlier, i, &l.value,
						     &st) != 0)
				continue;
			gw_prom_sample(f, fams[k].name, &l, 1,
				*(const uint64_t *)((const char *)&st + fams[k].off));
		}
	}
}

/*
 * Prometheus text format: Istio's istio_requests_total and
 * istio_request_duration_milliseconds, then the gateway's own counters as
 * gateway_* families (per worker, per port, control plane).
 */
int
gatewayd_prometheus_text(const struct gatewayd *g, char **text, size_t *len)
{
	FILE *f;
	int rc = 0;

	*text = NULL;
	*len = 0;
	f = open_memstream(text, len);
	if (f == NULL)
		return -ENOMEM;
	if (g->dp != NULL) {
		rc = prom_istio(f, g->dp);
		prom_workers(f, g->dp);
		gw_prom_family(f, "gateway_arp_requests_sent_total", "counter",
			       "ARP requests sent by the control lcore.");
		gw_prom_sample(f, "gateway_arp_requests_sent_total", NULL, 0,
			       g->dp->arp_requests_sent);
		gw_prom_family(f, "gateway_control_tx_drops_total", "counter",
			       "Frames of the control lcore dropped: ring full or no mbuf.");
		gw_prom_sample(f, "gateway_control_tx_drops_total", NULL, 0,
			       g->dp->event_ring_drops);
		prom_ports(f, g);
		if (g->dp->shadow != NULL)
			gw_shadow_stats_prometheus(g->dp->shadow, f);
		prom_outlier(f, g->dp);
	}
	gatewayd_ctl_stats_prometheus(g, f);
	if (fclose(f) != 0 || rc != 0) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void
page_prometheus(void *ctx, const char *query, const char *body,
		size_t body_len, struct gw_admin_reply *r)
{
	char *text;
	size_t len;

	(void)query; (void)body; (void)body_len;
	if (gatewayd_prometheus_text(ctx, &text, &len) != 0) {
		r->status = 500;
		gw_admin_reply_printf(r, "out of memory\n");
		return;
	}
	r->content_type = GW_PROM_CONTENT_TYPE;
	gw_admin_reply_printf(r, "%.*s", (int)len, text);
	free(text);
}

static void
page_ports(void *ctx, const char *query, const char *body, size_t body_len,
	   struct gw_admin_reply *r)
{
	const struct gatewayd *g = ctx;
	char mac[18], roles[64];

	(void)query; (void)body; (void)body_len;
	for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
		const struct gw_port *p = &g->ports[i];
		struct in_addr a = { .s_addr = p->iface.addr };

		gw_admin_reply_printf(r, "%s %s %s/%u %s\n", p->name,
			gw_port_mac_str(p->iface.mac, mac), inet_ntoa(a),
			p->iface.prefix_len,
			gw_config_roles_str(p->roles, roles, sizeof(roles)));
	}
}

struct neigh_walk {
	const struct gatewayd *g;
	struct gw_admin_reply *r;
};

static void
neigh_line(void *arg, const struct gw_neigh_entry_view *e)
{
	struct neigh_walk *w = arg;
	struct in_addr a = { .s_addr = e->ip };
	char mac[18];
	const char *port = e->port < w->g->cfg.n_ports ?
		w->g->ports[e->port].name : "?";

	gw_admin_reply_printf(w->r, "%s %s %s %s\n", port, inet_ntoa(a),
		e->state == GW_NEIGH_INCOMPLETE || e->state == GW_NEIGH_FAILED ?
			"-" : gw_port_mac_str(e->mac, mac),
		gw_neigh_state_name(e->state));
}

static void
page_neighbours(void *ctx, const char *query, const char *body,
		size_t body_len, struct gw_admin_reply *r)
{
	struct neigh_walk w = { .g = ctx, .r = r };

	(void)query; (void)body; (void)body_len;
	gw_neigh_table_walk(w.g->dp->neigh, neigh_line, &w);
}

/* POST /neighbours/resolve?ip=A.B.C.D: ARP for an address now, as an
 * operator would with arping; the answer shows in /neighbours. */
static void
page_resolve(void *ctx, const char *query, const char *body, size_t body_len,
	     struct gw_admin_reply *r)
{
	struct gatewayd *g = ctx;
	char ip_text[64];
	struct in_addr ip;
	int rc;

	(void)body; (void)body_len;
	if (gw_admin_query_get(query, "ip", ip_text, sizeof(ip_text)) != 0 ||
	    inet_pton(AF_INET, ip_text, &ip) != 1) {
		r->status = 400;
		gw_admin_reply_printf(r, "expected ?ip=A.B.C.D\n");
		return;
	}
	for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
		if (!gw_net_is_onlink(&g->ports[i].iface, ip.s_addr))
			continue;
		rc = gw_dataplane_neigh_resolve(g->dp, i, ip.s_addr);
		if (rc != 0) {
			r->status = 503;
			gw_admin_reply_printf(r, "cannot resolve %s on %s: %s\n",
					      ip_text, g->ports[i].name,
					      strerror(-rc));
			return;
		}
		r->status = 202;
		gw_admin_reply_printf(r, "resolving %s on %s\n", ip_text,
				      g->ports[i].name);
		return;
	}
	r->status = 400;
	gw_admin_reply_printf(r, "%s is not on-link on any port\n", ip_text);
}

const struct gw_admin_route gatewayd_admin_routes[] = {
	{ "GET",  "/ready", "LIVE when the gateway serves", page_ready },
	{ "GET",  "/stats", "counters, one NAME VALUE per line", page_stats },
	{ "GET",  "/stats/prometheus",
	  "Istio request metrics and the counters, Prometheus text format",
	  page_prometheus },
	{ "GET",  "/ports", "ports: name, MAC, address, roles", page_ports },
	{ "GET",  "/neighbours", "neighbour table: port, IP, MAC, state",
	  page_neighbours },
	{ "POST", "/neighbours/resolve", "?ip=A.B.C.D: ARP for an address now",
	  page_resolve },
};
const unsigned int gatewayd_admin_n_routes = GW_ARRAY_SIZE(gatewayd_admin_routes);
