/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mirroring in the data plane (docs/mirroring.md): each worker has a
 * single-producer ring of mirror items and one of segments for shadow
 * connections (recognised by their reserved local ports) towards the
 * shadow engine, which runs on the control lcore. The engine's frames
 * leave through worker 0's TX queue (a veth under af_xdp or af_packet
 * has a single queue, so the engine cannot have its own): it resolves
 * the next hop itself (the control lcore writes the neighbour table) and
 * hands worker 0 frames ready to send.
 *
 * With lcores.shadow the engine runs on that lcore instead: it still reads
 * the neighbour table (as workers do) but asks the control lcore to
 * resolve or learn through an event ring, and the control lcore's ARP
 * probes for a shadow-owned port reach it through a ring, so that each
 * queue keeps one user.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <unistd.h>

#include "gw_common.h"
#include "dataplane_shadow.h"

#define SHADOW_ITEM_RING  2048   /* items per worker: ~3 MB of body in flight */
#define SHADOW_SEG_RING   1024
#define SHADOW_PENDING    256

/* Neighbour work for the control lcore (the table's only writer). */
static void
shadow_post(struct gw_dataplane *dp, uint8_t type, unsigned int pi,
	    uint32_t ip, const uint8_t *mac)
{
	struct gw_worker_event ev = {
		.type = type, .port_index = (uint8_t)pi, .ip = ip,
	};

	if (mac != NULL)
		memcpy(ev.mac, mac, 6);
	if (rte_ring_sp_enqueue_elem(dp->shadow_events, &ev, sizeof(ev)) != 0)
		dp->shadow_tx_drops++;
}

void
dataplane_shadow_port_tx(struct gw_dataplane *dp, unsigned int pi,
			 struct rte_mbuf *m)
{
	/* the control lcore is this queue's only user: no buffering needed
	 * beyond the NIC's ring */
	if (rte_eth_tx_burst(dp->ports[pi].port_id, 0, &m, 1) != 1) {
		dp->shadow_tx_drops++;
		rte_pktmbuf_free(m);
		return;
	}
	dp->shadow_port_tx++;
}

static void
shadow_frame_send(struct gw_dataplane *dp, unsigned int pi,
		  struct rte_mbuf *m, const uint8_t mac[6])
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memcpy(eth->dst_addr.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	memcpy(eth->src_addr.addr_bytes, dp->ports[pi].iface.mac,
	       RTE_ETHER_ADDR_LEN);
	m->port = dp->ports[pi].port_id;
	if (dp->shadow_owned[pi]) {
		dataplane_shadow_port_tx(dp, pi, m);
		return;
	}
	if (rte_ring_sp_enqueue(dp->shadow_tx, m) != 0) {
		dp->shadow_tx_drops++;
		rte_pktmbuf_free(m);
	}
}

static void
pending_send(void *arg, void *pkt, uint16_t pi, const uint8_t mac[6])
{
	shadow_frame_send(arg, pi, pkt, mac);
}

static void
pending_drop(void *arg, void *pkt)
{
	struct gw_dataplane *dp = arg;

	dp->shadow_tx_drops++;
	rte_pktmbuf_free(pkt);
}

/* The engine's TCP stack transmits here (control lcore). */
static void
shadow_xmit(void *arg, unsigned int pi, uint32_t next_hop, struct rte_mbuf *m)
{
	struct gw_dataplane *dp = arg;
	uint8_t mac[6];
	int rc;

	if (next_hop == 0) {
		pending_drop(dp, m);
		return;
	}
	rc = gw_neigh_lookup(dp->neigh, (uint16_t)pi, next_hop, mac);
	if (rc == 0) {
		shadow_frame_send(dp, pi, m, mac);
		return;
	}
	if (rc == -EHOSTUNREACH ||
	    gw_neigh_pending_add(dp->shadow_pending, (uint16_t)pi, next_hop, m,
				 rte_rdtsc()) != 0) {
		pending_drop(dp, m);
		return;
	}
	if (dp->shadow_on_lcore)
		shadow_post(dp, GW_EVENT_NEIGH_RESOLVE, pi, next_hop, NULL);
	else
		gw_dataplane_neigh_resolve(dp, pi, next_hop);
}

int
dataplane_shadow_rings_create(struct gw_dataplane *dp,
			      const struct gw_config *cfg, char *err,
			      size_t err_len)
{
	char name[RTE_RING_NAMESIZE];

	for (unsigned int i = 0; i < dp->n_ports; i++)
		dp->shadow_owned[i] = dp->port_roles[i] == GW_ROLE_SHADOW;
	for (unsigned int i = 0; i < cfg->n_workers; i++) {
		int socket = (int)rte_lcore_to_socket_id(cfg->worker_lcores[i]);

		snprintf(name, sizeof(name), "gw_shitems_%u", i);
		dp->shadow_items[i] = rte_ring_create_elem(name,
			sizeof(struct gw_shadow_item), SHADOW_ITEM_RING, socket,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "gw_shrx_%u", i);
		dp->shadow_rx[i] = rte_ring_create(name, SHADOW_SEG_RING, socket,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->shadow_items[i] == NULL || dp->shadow_rx[i] == NULL)
			return gw_err(err, err_len,
				"worker %u: cannot create the mirror rings: %s", i,
				rte_strerror(rte_errno));
	}
	/* read by every worker, written by the engine */
	dp->shadow_health = rte_zmalloc("gw_shhealth", sizeof(*dp->shadow_health),
					RTE_CACHE_LINE_SIZE);
	if (dp->shadow_health == NULL)
		return gw_err(err, err_len, "cannot allocate the shadow health table");
	dp->shadow_tx = rte_ring_create("gw_shtx", SHADOW_SEG_RING,
		(int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
	dp->shadow_pending = gw_neigh_pending_create(SHADOW_PENDING);
	if (dp->shadow_tx == NULL || dp->shadow_pending == NULL)
		return gw_err(err, err_len, "cannot create the shadow TX ring: %s",
			      rte_strerror(rte_errno));
	if (cfg->has_shadow_lcore) {
		dp->shadow_on_lcore = true;
		dp->shadow_lcore = cfg->shadow_lcore;
		dp->shadow_events = rte_ring_create_elem("gw_shev",
			sizeof(struct gw_worker_event), GW_WORKER_RING_SIZE,
			SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		dp->shadow_ctl_tx = rte_ring_create("gw_shctltx",
			GW_WORKER_RING_SIZE, SOCKET_ID_ANY,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->shadow_events == NULL || dp->shadow_ctl_tx == NULL)
			return gw_err(err, err_len,
				      "cannot create the shadow lcore's rings: %s",
				      rte_strerror(rte_errno));
	}
	return 0;
}

bool
dataplane_shadow_probe(struct gw_dataplane *dp, unsigned int pi,
		       struct rte_mbuf *m)
{
	if (!dp->shadow_on_lcore) {
		dataplane_shadow_port_tx(dp, pi, m);
		return true;
	}
	if (rte_ring_sp_enqueue(dp->shadow_ctl_tx, m) != 0) {
		rte_pktmbuf_free(m);
		return false;
	}
	return true;
}

int
dataplane_shadow_engine_create(struct gw_dataplane *dp,
			       const struct gw_config *cfg, char *err,
			       size_t err_len)
{
	struct gw_shadow_params p = {
		.pool = dp->pool,
		.n_rings = cfg->n_workers,
		.rings = dp->shadow_items,
		.rx_rings = dp->shadow_rx,
		.port_index = dp->port_index,
		.n_ports = dp->n_ports,
		.ports = dp->tcp_ports,
		.port_roles = dp->port_roles,
		.xmit = shadow_xmit,
		.xmit_arg = dp,
		.tsc_hz = dp->tsc_hz,
		.max_pending = cfg->mirror_max_pending,
		.timeout_ms = cfg->mirror_timeout_ms,
		.connect_timeout_ms = cfg->mirror_connect_timeout_ms,
		.unavailable_ms = cfg->mirror_unavailable_ms != 0 ?
				  cfg->mirror_unavailable_ms : UINT32_MAX,
		.health = dp->shadow_health,
	};

	dp->shadow = gw_shadow_create(&p);
	if (dp->shadow == NULL)
		return gw_err(err, err_len, "cannot create the shadow engine: %s",
			      rte_strerror(rte_errno));
	return 0;
}

static void
ring_drain_free(struct rte_ring *r)
{
	struct rte_mbuf *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(r);
}

void
dataplane_shadow_free(struct gw_dataplane *dp)
{
	/* the engine frees what its rings still hold */
	gw_shadow_free(dp->shadow);
	dp->shadow = NULL;
	rte_free(dp->shadow_health);
	dp->shadow_health = NULL;
	for (unsigned int i = 0; i < GW_CONFIG_MAX_WORKERS; i++) {
		rte_ring_free(dp->shadow_items[i]);
		ring_drain_free(dp->shadow_rx[i]);
		dp->shadow_items[i] = dp->shadow_rx[i] = NULL;
	}
	ring_drain_free(dp->shadow_tx);
	dp->shadow_tx = NULL;
	ring_drain_free(dp->shadow_ctl_tx);
	dp->shadow_ctl_tx = NULL;
	rte_ring_free(dp->shadow_events);
	dp->shadow_events = NULL;
	if (dp->shadow_pending != NULL) {
		gw_neigh_pending_flush(dp->shadow_pending, dp->neigh, UINT64_MAX, 0,
				       pending_send, pending_drop, dp);
		gw_neigh_pending_free(dp->shadow_pending);
		dp->shadow_pending = NULL;
	}
}

/* A frame read from a shadow-owned port: what a worker does with a frame,
 * for the engine's own port (ARP answered and learnt, TCP to the engine). */
static void
shadow_port_input(struct gw_dataplane *dp, unsigned int pi, struct rte_mbuf *m,
		  uint64_t now)
{
	const struct gw_net_iface *ifc = &dp->ports[pi].iface;
	struct gw_net_result res;
	enum gw_net_verdict v;

	v = gw_net_input(ifc, rte_pktmbuf_mtod(m, uint8_t *),
			 rte_pktmbuf_data_len(m), &res);
	if (res.learn && dp->shadow_on_lcore)
		shadow_post(dp, v == GW_NET_REPLY ? GW_EVENT_NEIGH_ASKED_US :
			    GW_EVENT_NEIGH_SEEN, pi, res.learn_ip, res.learn_mac);
	else if (res.learn)
		gw_neigh_learn(dp->neigh, (uint16_t)pi, res.learn_ip,
			       res.learn_mac, v == GW_NET_REPLY, now);
	switch (v) {
	case GW_NET_TCP:
		gw_shadow_input(dp->shadow, m);
		return;
	case GW_NET_REPLY:
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - res.out_len);
		if (res.l3_offset == 0) {       /* ARP: straight back */
			dataplane_shadow_port_tx(dp, pi, m);
			return;
		}
		/* ICMP echo reply: routed like the engine's frames */
		{
			uint32_t dst;

			memcpy(&dst, rte_pktmbuf_mtod_offset(m, uint8_t *,
					res.l3_offset + 16), 4);
			shadow_xmit(dp, pi, gw_net_next_hop(ifc, dst), m);
		}
		return;
	default:
		rte_pktmbuf_free(m);
		return;
	}
}

/* One round of the engine, on whichever lcore runs it. */
static bool
shadow_step(struct gw_dataplane *dp)
{
	uint64_t now = rte_rdtsc();
	bool busy = false;

	if (dp->shadow_ctl_tx != NULL && !rte_ring_empty(dp->shadow_ctl_tx)) {
		struct rte_mbuf *m;

		while (rte_ring_sc_dequeue(dp->shadow_ctl_tx, (void **)&m) == 0)
			dataplane_shadow_port_tx(dp, dp->port_index[m->port], m);
	}
	for (unsigned int pi = 0; pi < dp->n_ports; pi++) {
		struct rte_mbuf *pkts[32];
		uint16_t n;

		if (!dp->shadow_owned[pi])
			continue;
		n = rte_eth_rx_burst(dp->ports[pi].port_id, 0, pkts, 32);
		for (uint16_t i = 0; i < n; i++)
			shadow_port_input(dp, pi, pkts[i], now);
		dp->shadow_port_rx += n;
		busy |= n > 0;
	}
	if (gw_neigh_pending_count(dp->shadow_pending) != 0)
		gw_neigh_pending_flush(dp->shadow_pending, dp->neigh, now,
				       dp->pending_timeout_tsc, pending_send,
				       pending_drop, dp);
	return gw_shadow_poll(dp->shadow, now) || busy;
}

bool
gw_dataplane_shadow_poll(struct gw_dataplane *dp)
{
	if (dp->shadow == NULL || dp->shadow_on_lcore)
		return false;
	return shadow_step(dp);
}

int
dataplane_shadow_main(void *arg)
{
	struct gw_dataplane *dp = arg;
	uint32_t idle = 0, sleep_us = 0;

	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		if (shadow_step(dp)) {
			idle = 0;
			sleep_us = 0;
			continue;
		}
		/* the workers' idle back-off, when the bootstrap asks for it */
		if (!dp->idle_backoff || ++idle < 256)
			continue;
		sleep_us = sleep_us == 0 ? 1 : sleep_us * 2;
		if (sleep_us > dp->idle_sleep_max_us)
			sleep_us = dp->idle_sleep_max_us;
		usleep(sleep_us);
	}
	return 0;
}
