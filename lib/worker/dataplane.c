/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared data-plane context and the control lcore's side of it: it
 * creates the workers and their rings, and turns what workers report (ARP
 * seen, next hops wanted) into neighbour-table updates and ARP probes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "gw_common.h"
#include "gw_worker.h"
#include "dataplane_shadow.h"

static struct gw_worker *
worker_create(struct gw_dataplane *dp, unsigned int id, unsigned int lcore,
	      uint32_t pending, char *err, size_t err_len)
{
	char name[RTE_RING_NAMESIZE];
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct gw_worker *w;

	w = rte_zmalloc_socket("gw_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			       socket);
	if (w == NULL) {
		gw_err(err, err_len, "worker %u: out of memory", id);
		return NULL;
	}
	w->id = id;
	w->lcore_id = lcore;
	w->dp = dp;
	snprintf(name, sizeof(name), "gw_ev_%u", id);
	w->events = rte_ring_create_elem(name, sizeof(struct gw_worker_event),
		GW_WORKER_RING_SIZE, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "gw_ctltx_%u", id);
	w->ctl_tx = rte_ring_create(name, GW_WORKER_RING_SIZE, socket,
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	w->pending = gw_neigh_pending_create(pending);
	if (w->events == NULL || w->ctl_tx == NULL || w->pending == NULL) {
		gw_err(err, err_len, "worker %u: cannot create rings: %s", id,
		       rte_strerror(rte_errno));
		rte_ring_free(w->events);
		rte_ring_free(w->ctl_tx);
		gw_neigh_pending_free(w->pending);
		rte_free(w);
		return NULL;
	}
	return w;
}

/* The TCP stack transmits through the worker's neighbour-aware path. */
static void
tcp_xmit(void *arg, unsigned int port_index, uint32_t next_hop,
	 struct rte_mbuf *m)
{
	gw_worker_send_ip(arg, port_index, next_hop, m);
}

static const struct gw_route_snapshot *
l4_snapshot(void *arg)
{
	return gw_dataplane_snapshot(arg);
}

/* The L4 proxy listens on every TCP listener of the snapshot in force. */
static int
worker_l4_create(struct gw_dataplane *dp, struct gw_worker *w,
		 const struct gw_config *cfg, char *err, size_t err_len)
{
	const struct gw_route_snapshot *snap = gw_dataplane_snapshot(dp);
	struct gw_l4_proxy_params p = {
		.stack = w->tcp,
		.worker_id = w->id,
		.snapshot = l4_snapshot,
		.snapshot_arg = dp,
		/* Each session holds two connections of the stack. */
		.max_sessions = cfg->max_connections_per_worker / 2 + 1,
		.n_ports = dp->n_ports,
		.ports = dp->tcp_ports,
		.port_roles = dp->port_roles,
		.tsc_hz = dp->tsc_hz,
		.socket_id = (int)rte_lcore_to_socket_id(w->lcore_id),
	};
	struct gw_route_listener_info li;
	uint32_t n = snap ? gw_route_snapshot_tcp_listener_count(snap) : 0;

	w->l4 = gw_l4_proxy_create(&p);
	if (w->l4 == NULL)
		return gw_err(err, err_len, "worker %u: cannot create the L4 proxy",
			      w->id);
	for (uint32_t i = 0; i < n; i++) {
		int rc;

		if (gw_route_snapshot_tcp_listener(snap, i, &li) != 0)
			continue;
		rc = gw_l4_proxy_listen(w->l4, li.ip, li.port);
		if (rc != 0)
			return gw_err(err, err_len,
				"worker %u: cannot listen on TCP %s: %s", w->id,
				li.name, strerror(-rc));
	}
	return 0;
}

/* The HTTP proxy's view of the snapshot: remembers which one it handed
 * out, so that a request in flight can hold exactly that one. */
static const struct gw_route_snapshot *
http_snapshot(void *arg)
{
	struct gw_worker *w = arg;

	w->http_snap = gw_snapshot_current(w->dp->snapshots);
	return w->http_snap != NULL ? w->http_snap->routes : NULL;
}

static const void *
http_snapshot_hold(void *arg, const struct gw_route_snapshot *routes)
{
	struct gw_worker *w = arg;

	if (w->http_snap == NULL || w->http_snap->routes != routes)
		return NULL;
	gw_snapshot_hold(w->http_snap, w->id);
	return w->http_snap;
}

static void
http_snapshot_release(void *arg, const void *token)
{
	struct gw_worker *w = arg;

	gw_snapshot_release(token, w->id);
}

/* An endpoint reached an outlier threshold: tell the control lcore. The
 * proxy has just asked for the snapshot, so w->http_snap is the one the
 * indices belong to. */
static void
http_outlier_event(void *arg, uint32_t cluster, uint32_t endpoint, uint8_t kind)
{
	struct gw_worker *w = arg;
	struct gw_worker_event ev = {
		.type = GW_EVENT_OUTLIER,
		.outlier = {
			.generation = w->http_snap != NULL ? w->http_snap->generation : 0,
			.cluster = cluster,
			.endpoint = endpoint,
			.kind = kind,
		},
	};

	if (rte_ring_sp_enqueue_elem(w->events, &ev, sizeof(ev)) != 0)
		w->stats.drops[GW_DROP_RING_FULL]++;
}

/* The HTTP proxy listens on every HTTP listener of the snapshot in force. */
static int
worker_http_create(struct gw_dataplane *dp, struct gw_worker *w,
		   const struct gw_config *cfg, char *err, size_t err_len)
{
	const struct gw_route_snapshot *snap = gw_dataplane_snapshot(dp);
	/* A session holds a client and (at most) one upstream connection:
	 * the TCB pool bounds connections. Requests in flight hold the head
	 * buffers: bounded so that they stay modest. */
	uint32_t sessions = cfg->max_connections_per_worker / 2 + 1;
	uint32_t exchanges = cfg->max_requests_in_flight_per_worker != 0 ?
			     cfg->max_requests_in_flight_per_worker :
			     (sessions < 8192 ? sessions : 8192);
	struct gw_http_proxy_params p = {
		.stack = w->tcp,
		.worker_id = w->id,
		.snapshot = http_snapshot,
		.snapshot_arg = w,
		.snapshot_hold = http_snapshot_hold,
		.snapshot_release = http_snapshot_release,
		.pool = dp->pool,
		.max_sessions = sessions,
		.max_exchanges = exchanges < sessions ? exchanges : sessions,
		.n_workers = cfg->n_workers,
		.max_head = cfg->request_headers_kb * 1024,
		.max_headers = cfg->request_headers,
		.max_request_body = cfg->request_body,
		.n_ports = dp->n_ports,
		.ports = dp->tcp_ports,
		.port_roles = dp->port_roles,
		.accesslog_ring_size = 4096,
		.shadow_ring = dp->shadow_items[w->id],
		.shadow_health = dp->shadow_health,
		.shadow_no_host_suffix = !cfg->shadow_host_suffix,
		.tsc_hz = dp->tsc_hz,
		.socket_id = (int)rte_lcore_to_socket_id(w->lcore_id),
	};
	struct gw_route_listener_info li;
	uint32_t n = snap ? gw_route_snapshot_listener_count(snap) : 0;

	/* Allocated once here: the worker only fills it (control lcore reads). */
	w->metrics = gw_metrics_table_create(GW_WORKER_METRICS_SERIES);
	if (w->metrics == NULL)
		return gw_err(err, err_len,
			      "worker %u: cannot create the metrics table", w->id);
	p.metrics = w->metrics;
	w->http = gw_http_proxy_create(&p);
	if (w->http == NULL)
		return gw_err(err, err_len,
			      "worker %u: cannot create the HTTP proxy", w->id);
	gw_http_proxy_outlier_sink(w->http, http_outlier_event, w);
	for (uint32_t i = 0; i < n; i++) {
		int rc;

		if (gw_route_snapshot_listener(snap, i, &li) != 0)
			continue;
		rc = gw_http_proxy_listen(w->http, li.ip, li.port);
		if (rc != 0)
			return gw_err(err, err_len,
				"worker %u: cannot listen on HTTP %s: %s", w->id,
				li.name, strerror(-rc));
	}
	return 0;
}

/*
 * VIP listeners are addresses no port owns: clients route them through
 * the gateway, and lib/net must take packets to them as ours. The set is
 * that of the snapshot at start, like the listeners.
 */
static void
dataplane_vips_init(struct gw_dataplane *dp, const struct gw_route_snapshot *snap)
{
	struct gw_route_listener_info li;
	uint32_t n = snap ? gw_route_snapshot_listener_count(snap) : 0;

	for (uint32_t i = 0; i < n && dp->n_vips < GW_DATAPLANE_MAX_VIPS; i++) {
		uint16_t j;

		if (gw_route_snapshot_listener(snap, i, &li) != 0 || li.ip == 0)
			continue;
		for (j = 0; j < dp->n_vips && dp->vips[j] != li.ip; j++)
			;
		if (j < dp->n_vips)
			continue;
		/* insertion keeps them sorted for lib/net's binary search */
		for (j = dp->n_vips; j > 0 && dp->vips[j - 1] > li.ip; j--)
			dp->vips[j] = dp->vips[j - 1];
		dp->vips[j] = li.ip;
		dp->n_vips++;
	}
	for (unsigned int i = 0; i < dp->n_ports && dp->n_vips > 0; i++) {
		if (!(dp->port_roles[i] & GW_ROLE_DOWNSTREAM))
			continue;
		dp->ports[i].iface.extra_addrs = dp->vips;
		dp->ports[i].iface.n_extra_addrs = dp->n_vips;
		dp->tcp_ports[i].iface.extra_addrs = dp->vips;
		dp->tcp_ports[i].iface.n_extra_addrs = dp->n_vips;
	}
}

/* Source ports for the connections a worker opens: on a port with
 * predictable hardware RSS, one whose reply 4-tuple hashes to the worker's
 * own queue (no hand-off ever); elsewhere the port number encodes the
 * worker (port % n_workers), which gw_tcp_owner() decodes. */
static bool
tcp_src_port_ok(void *arg, unsigned int port_index, uint32_t local_ip,
		uint16_t local_port, uint32_t remote_ip, uint16_t remote_port)
{
	const struct gw_worker *w = arg;
	const struct gw_port *p = &w->dp->ports[port_index];

	if (p->rss.enabled)
		return gw_port_rss_queue(&p->rss, rte_be_to_cpu_32(remote_ip),
					 rte_be_to_cpu_32(local_ip), remote_port,
					 local_port) == w->id;
	return local_port % w->dp->n_workers == w->id;
}

static int
worker_tcp_create(struct gw_dataplane *dp, struct gw_worker *w,
		  const struct gw_config *cfg, char *err, size_t err_len)
{
	struct gw_tcp_stack_params p = {
		.worker_id = w->id,
		.n_workers = cfg->n_workers,
		.max_conns = cfg->max_connections_per_worker,
		.syn_backlog = 1024,
		.timewait_max = cfg->max_connections_per_worker / 4 + 1,
		.rcvbuf = 256 * 1024,
		.sndbuf = 256 * 1024,
		.reasm_segments = 4096,
		/* Istio's default connectTimeout: under loss a SYN is retried at
		 * 1, 3 and 7 s, so 5 s gave up on connections Linux would make. */
		.connect_timeout_ms = 10000,
		.tsc_hz = dp->tsc_hz,
		.pool = dp->pool,
		.n_ports = dp->n_ports,
		.ports = dp->tcp_ports,
		.xmit = tcp_xmit,
		.xmit_arg = w,
	};
	char name[RTE_RING_NAMESIZE];

	/* the worker owns the reply: by RSS, else by port % workers */
	p.src_port_ok = tcp_src_port_ok;
	/* below the shadow engine's range (lib/shadow): its ports are never
	 * picked here */
	p.src_port_last = GW_SHADOW_PORT_FIRST - 1;
	p.src_port_arg = w;
	w->tcp = gw_tcp_stack_create(&p);
	if (w->tcp == NULL)
		return gw_err(err, err_len,
			"worker %u: cannot create a TCP stack for %u connections",
			w->id, p.max_conns);
	if (worker_l4_create(dp, w, cfg, err, err_len) != 0)
		return -GW_EMODULE;
	if (worker_http_create(dp, w, cfg, err, err_len) != 0)
		return -GW_EMODULE;
	for (unsigned int src = 0; src < cfg->n_workers && cfg->n_workers > 1;
	     src++) {
		if (src == w->id)
			continue;
		snprintf(name, sizeof(name), "gw_hand_%u_%u", src, w->id);
		w->handoff_in[src] = rte_ring_create(name, GW_WORKER_RING_SIZE,
			(int)rte_lcore_to_socket_id(w->lcore_id),
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->handoff_in[src] == NULL)
			return gw_err(err, err_len,
				"worker %u: cannot create hand-off ring: %s",
				w->id, rte_strerror(rte_errno));
	}
	return 0;
}

static void
drain_ring(struct rte_ring *r)
{
	struct rte_mbuf *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

static void
worker_free(struct gw_worker *w)
{
	struct rte_mbuf *m;

	if (w == NULL)
		return;
	/* The proxy's sessions are callbacks of the stack's connections:
	 * free the stack (which closes them) first. */
	gw_tcp_stack_free(w->tcp);
	gw_l4_proxy_free(w->l4);
	gw_http_proxy_free(w->http);
	gw_metrics_table_free(w->metrics);
	for (unsigned int i = 0; i < GW_CONFIG_MAX_WORKERS; i++)
		drain_ring(w->handoff_in[i]);
	while (rte_ring_dequeue(w->ctl_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(w->events);
	rte_ring_free(w->ctl_tx);
	gw_neigh_pending_free(w->pending);
	rte_free(w);
}

struct gw_dataplane *
gw_dataplane_create(const struct gw_config *cfg, struct gw_port *ports,
		    struct rte_mempool *pool,
		    struct gw_snapshot_pub *snapshots,
		    char *err, size_t err_len)
{
	struct gw_neigh_params np;
	struct gw_dataplane *dp;
	uint64_t hz = rte_get_tsc_hz();

	dp = rte_zmalloc("gw_dataplane", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		gw_err(err, err_len, "data plane: out of memory");
		return NULL;
	}
	dp->n_ports = cfg->n_ports;
	dp->ports = ports;
	dp->pool = pool;
	dp->snapshots = snapshots;
	dp->tsc_hz = hz;
	dp->drain_tsc = hz / 1000000 * GW_WORKER_DRAIN_US;
	dp->pending_timeout_tsc = hz / 1000 * GW_NEIGH_PENDING_TIMEOUT_MS;
	dp->idle_backoff = cfg->idle_backoff;
	dp->idle_sleep_max_us = cfg->idle_sleep_max_us;
	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		dp->port_index[ports[i].port_id] = (uint8_t)i;
		dp->port_roles[i] = ports[i].roles;
		dp->tcp_ports[i] = (struct gw_tcp_port){
			.iface = ports[i].iface,
			.mtu = ports[i].mtu,
			.tx_ip_cksum = ports[i].tx_ipv4_cksum_offload,
			.tx_tcp_cksum = ports[i].tx_tcp_cksum_offload,
			.tx_multi_seg = ports[i].tx_multi_seg,
			.tx_max_segs = ports[i].tx_max_segs,
		};
	}

	/* Linux's defaults: reachable 30 s, 1 s between probes, 3 probes. */
	np = (struct gw_neigh_params){
		.reachable_ticks = 30 * hz,
		.retrans_ticks = hz,
		.max_probes = 3,
		.failed_ticks = 20 * hz,
	};
	dp->neigh = gw_neigh_table_create(cfg->neighbour_entries, &np);
	if (dp->neigh == NULL) {
		gw_err(err, err_len, "neighbour table of %u entries: out of memory",
		       cfg->neighbour_entries);
		goto fail;
	}
	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		const struct gw_config_port *cp = &cfg->ports[i];

		for (unsigned int j = 0; j < cp->n_neighbours; j++) {
			if (gw_neigh_static_add(dp->neigh, (uint16_t)i,
					cp->neighbours[j].ip.s_addr,
					cp->neighbours[j].mac) != 0) {
				gw_err(err, err_len,
				       "port %s: neighbour table full adding static entries",
				       cp->name);
				goto fail;
			}
		}
	}
	dataplane_vips_init(dp, gw_dataplane_snapshot(dp));
	if (dataplane_shadow_rings_create(dp, cfg, err, err_len) != 0)
		goto fail;
	dp->n_workers = cfg->n_workers;
	for (unsigned int i = 0; i < cfg->n_workers; i++) {
		dp->workers[i] = worker_create(dp, i, cfg->worker_lcores[i],
					       cfg->neighbour_pending, err, err_len);
		if (dp->workers[i] == NULL)
			goto fail;
		if (worker_tcp_create(dp, dp->workers[i], cfg, err, err_len) != 0)
			goto fail;
	}
	if (dataplane_shadow_engine_create(dp, cfg, err, err_len) != 0)
		goto fail;
	dp->outlier = gw_outlier_create();
	if (dp->outlier == NULL) {
		gw_err(err, err_len, "outlier detection: out of memory");
		goto fail;
	}
	return dp;
fail:
	gw_dataplane_free(dp);
	return NULL;
}

void
gw_dataplane_free(struct gw_dataplane *dp)
{
	if (dp == NULL)
		return;
	/* the engine holds mbufs of the workers' connections: first */
	dataplane_shadow_free(dp);
	for (unsigned int i = 0; i < dp->n_workers; i++)
		worker_free(dp->workers[i]);
	gw_neigh_table_free(dp->neigh);
	gw_outlier_free(dp->outlier);
	rte_free(dp);
}

int
gw_dataplane_launch(struct gw_dataplane *dp)
{
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		int rc = rte_eal_remote_launch(gw_worker_main, dp->workers[i],
					       dp->workers[i]->lcore_id);
		if (rc != 0) {
			gw_dataplane_stop(dp);
			return rc;
		}
	}
	if (dp->shadow_on_lcore) {
		int rc = rte_eal_remote_launch(dataplane_shadow_main, dp,
					       dp->shadow_lcore);

		if (rc != 0) {
			dp->shadow_on_lcore = false; /* nothing to wait for */
			gw_dataplane_stop(dp);
			return rc;
		}
	}
	return 0;
}

void
gw_dataplane_stop(struct gw_dataplane *dp)
{
	__atomic_store_n(&dp->stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < dp->n_workers; i++)
		rte_eal_wait_lcore(dp->workers[i]->lcore_id);
	if (dp->shadow_on_lcore)
		rte_eal_wait_lcore(dp->shadow_lcore);
}

/* ARP probes leave through worker 0's TX queue: ports may offer exactly as
 * many TX queues as workers (af_xdp on a veth offers one). */
static void
send_probe(void *arg, uint16_t pi, uint32_t ip)
{
	struct gw_dataplane *dp = arg;
	const struct gw_port *port = &dp->ports[pi];
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);
	uint8_t *buf;

	if (m == NULL) {
		dp->event_ring_drops++;
		return;
	}
	buf = (uint8_t *)rte_pktmbuf_append(m, GW_ARP_FRAME_LEN);
	gw_net_arp_request_build(&port->iface, ip, buf);
	m->port = port->port_id;
	if (dp->shadow_owned[pi]) {
		/* the shadow engine's own port: its lcore sends on it */
		if (dataplane_shadow_probe(dp, pi, m))
			dp->arp_requests_sent++;
		else
			dp->event_ring_drops++;
		return;
	}
	if (rte_ring_sp_enqueue(dp->workers[0]->ctl_tx, m) != 0) {
		dp->event_ring_drops++;
		rte_pktmbuf_free(m);
		return;
	}
	dp->arp_requests_sent++;
}

int
gw_dataplane_neigh_resolve(struct gw_dataplane *dp, unsigned int pi,
			   uint32_t ip)
{
	int rc;

	if (pi >= dp->n_ports)
		return -EINVAL;
	rc = gw_neigh_resolve(dp->neigh, (uint16_t)pi, ip, rte_rdtsc());
	if (rc == 1)
		send_probe(dp, (uint16_t)pi, ip);
	return rc < 0 ? rc : 0;
}

static void
handle_event(struct gw_dataplane *dp, const struct gw_worker_event *ev,
	     uint64_t now)
{
	switch (ev->type) {
	case GW_EVENT_NEIGH_ASKED_US:
		/* Someone about to talk to us: we will answer it, so learn it. */
		gw_neigh_learn(dp->neigh, ev->port_index, ev->ip, ev->mac, true, now);
		break;
	case GW_EVENT_NEIGH_SEEN:
		/* Unsolicited: refresh only what we already track. */
		gw_neigh_learn(dp->neigh, ev->port_index, ev->ip, ev->mac, false, now);
		break;
	case GW_EVENT_NEIGH_RESOLVE:
		if (gw_neigh_resolve(dp->neigh, ev->port_index, ev->ip, now) == 1)
			send_probe(dp, ev->port_index, ev->ip);
		break;
	case GW_EVENT_OUTLIER:
		gw_outlier_report(dp->outlier, &ev->outlier, gw_outlier_clock_us());
		break;
	default:
		break;
	}
}

void
gw_dataplane_control_poll(struct gw_dataplane *dp)
{
	struct gw_worker_event evs[64];
	uint64_t now = rte_rdtsc();
	const struct gw_snapshot *snap = gw_snapshot_peek(dp->snapshots);

	/* outlier events name indices of a generation: follow the current one first */
	if (snap != NULL)
		gw_outlier_bind(dp->outlier, snap->routes, snap->generation,
				gw_outlier_clock_us());
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		unsigned int n;

		do {
			n = rte_ring_sc_dequeue_burst_elem(dp->workers[i]->events,
				evs, sizeof(evs[0]), GW_ARRAY_SIZE(evs), NULL);
			for (unsigned int j = 0; j < n; j++)
				handle_event(dp, &evs[j], now);
		} while (n == GW_ARRAY_SIZE(evs));
	}
	/* the shadow engine's, when it runs on its own lcore */
	while (dp->shadow_events != NULL &&
	       rte_ring_sc_dequeue_elem(dp->shadow_events, &evs[0],
					sizeof(evs[0])) == 0)
		handle_event(dp, &evs[0], now);
	gw_neigh_table_tick(dp->neigh, now, send_probe, dp);
	gw_outlier_tick(dp->outlier, gw_outlier_clock_us());
}

void
gw_dataplane_tcp_stats_sum(const struct gw_dataplane *dp,
			   struct gw_tcp_stats *sum)
{
	/* Every member is a uint64_t counter or gauge: sum them as an array. */
	uint64_t *out = (uint64_t *)sum;
	const size_t n = sizeof(*sum) / sizeof(uint64_t);

	RTE_BUILD_BUG_ON(sizeof(*sum) % sizeof(uint64_t) != 0);
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const uint64_t *in = (const uint64_t *)gw_tcp_stack_stats(
			dp->workers[i]->tcp);

		for (size_t k = 0; k < n; k++)
			out[k] += in[k];
	}
}

void
gw_dataplane_l4_stats_sum(const struct gw_dataplane *dp,
			  struct gw_l4_proxy_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < dp->n_workers; i++)
		gw_l4_proxy_stats_add(sum, gw_l4_proxy_stats(dp->workers[i]->l4));
}

void
gw_dataplane_http_stats_sum(const struct gw_dataplane *dp,
			    struct gw_http_proxy_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < dp->n_workers; i++)
		gw_http_proxy_stats_add(sum, gw_http_proxy_stats(dp->workers[i]->http));
}

void
gw_dataplane_accesslog_drain(struct gw_dataplane *dp, FILE *out)
{
	for (unsigned int i = 0; i < dp->n_workers; i++)
		gw_http_accesslog_drain(
			gw_http_proxy_accesslog_ring(dp->workers[i]->http), out);
	gw_shadow_accesslog_drain(dp->shadow, out);
}

void
gw_dataplane_stats_sum(const struct gw_dataplane *dp, struct gw_worker_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct gw_worker_stats *s = &dp->workers[i]->stats;

		sum->rx_packets += s->rx_packets;
		sum->rx_bytes += s->rx_bytes;
		sum->tx_packets += s->tx_packets;
		sum->tx_bytes += s->tx_bytes;
		sum->arp_replies += s->arp_replies;
		sum->icmp_echo_replies += s->icmp_echo_replies;
		sum->neigh_held += s->neigh_held;
		sum->neigh_released += s->neigh_released;
		sum->ctl_tx_packets += s->ctl_tx_packets;
		sum->idle_sleeps += s->idle_sleeps;
		sum->handoff_out += s->handoff_out;
		sum->handoff_in += s->handoff_in;
		sum->loops_over_10ms += s->loops_over_10ms;
		if (s->loop_max_us > sum->loop_max_us)
			sum->loop_max_us = s->loop_max_us;
		if (s->sleep_max_us > sum->sleep_max_us)
			sum->sleep_max_us = s->sleep_max_us;
		for (unsigned int r = 0; r < GW_DROP_REASON_MAX; r++)
			sum->drops[r] += s->drops[r];
	}
}
