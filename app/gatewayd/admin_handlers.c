/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin listener's pages: readiness, counters, ports, neighbours.
 * Later issues add /stats/prometheus and more; each page is one row of
 * gatewayd_admin_routes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_ethdev.h>

#include "gw_common.h"
#include "gatewayd.h"
#include "ctl.h"

static void
page_ready(void *ctx, const char *query, const char *body, size_t body_len,
	   struct gw_admin_reply *r)
{
	(void)ctx; (void)query; (void)body; (void)body_len;
	gw_admin_reply_printf(r, "LIVE\n");
}

static void
print_counters(struct gw_admin_reply *r, const char *prefix,
	       const struct gw_worker_stats *s)
{
#define C(name) gw_admin_reply_printf(r, "%s.%s %lu\n", prefix, #name, \
				      (unsigned long)s->name)
	C(rx_packets); C(rx_bytes); C(tx_packets); C(tx_bytes);
	C(arp_replies); C(icmp_echo_replies); C(neigh_held);
	C(neigh_released); C(ctl_tx_packets); C(idle_sleeps);
	C(handoff_out); C(handoff_in);
#undef C
	for (unsigned int i = 1; i < GW_DROP_REASON_MAX; i++)
		gw_admin_reply_printf(r, "%s.drop.%s %lu\n", prefix,
				      gw_drop_reason_name(i),
				      (unsigned long)s->drops[i]);
}

static void
print_tcp_counters(struct gw_admin_reply *r, const char *prefix,
		   const struct gw_tcp_stats *t)
{
#define T(name) gw_admin_reply_printf(r, "%s.tcp.%s %lu\n", prefix, #name, \
				      (unsigned long)t->name)
	T(active_opens); T(passive_opens); T(accepts_refused);
	T(conns_refused_limit); T(established); T(conns); T(timewait);
	T(segs_in); T(segs_out); T(bytes_in); T(bytes_out);
	T(retransmits); T(fast_retransmits); T(rto_timeouts);
	T(out_of_order); T(reasm_dropped); T(dup_segments);
	T(syncookies_sent); T(syncookies_ok); T(syncookies_failed);
	T(resets_in); T(resets_out); T(challenge_acks);
	T(bad_checksum); T(bad_segment); T(no_listener);
	T(zero_window_probes); T(copied_bytes);
#undef T
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
#define P(field, label) gw_admin_reply_printf(r, "port.%s.%s %lu\n", \
			g->ports[i].name, label, (unsigned long)es.field)
		P(ipackets, "rx_packets"); P(opackets, "tx_packets");
		P(ibytes, "rx_bytes"); P(obytes, "tx_bytes");
		P(imissed, "rx_missed"); P(ierrors, "rx_errors");
		P(oerrors, "tx_errors"); P(rx_nombuf, "rx_nombuf");
#undef P
	}
	gatewayd_ctl_stats_text(g, r);
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
	{ "GET",  "/ports", "ports: name, MAC, address, roles", page_ports },
	{ "GET",  "/neighbours", "neighbour table: port, IP, MAC, state",
	  page_neighbours },
	{ "POST", "/neighbours/resolve", "?ip=A.B.C.D: ARP for an address now",
	  page_resolve },
};
const unsigned int gatewayd_admin_n_routes = GW_ARRAY_SIZE(gatewayd_admin_routes);
