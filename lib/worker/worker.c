/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker poll loop: RX bursts from the worker's queue on every port,
 * lib/net classifies each frame, replies go out through per-port TX buffers
 * drained in bursts (or on a TSC timer so that a lone reply is not held).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include "gw_common.h"
#include "gw_worker.h"
#include "dataplane_shadow.h"

static inline void
worker_drop(struct gw_worker *w, struct rte_mbuf *m, enum gw_drop_reason why)
{
	w->stats.drops[why]++;
	rte_pktmbuf_free(m);
}

static void
tx_flush(struct gw_worker *w, unsigned int pi)
{
	const struct gw_port *port = &w->dp->ports[pi];
	uint16_t n = w->tx[pi].n;
	uint16_t sent;

	if (n == 0)
		return;
	sent = rte_eth_tx_burst(port->port_id, w->id, w->tx[pi].pkts, n);
	for (uint16_t i = 0; i < sent; i++)
		w->stats.tx_bytes += rte_pktmbuf_pkt_len(w->tx[pi].pkts[i]);
	w->stats.tx_packets += sent;
	/* A full TX ring is back-pressure we cannot wait for: drop, count. */
	for (uint16_t i = sent; i < n; i++)
		worker_drop(w, w->tx[pi].pkts[i], GW_DROP_TX_FULL);
	w->tx[pi].n = 0;
}

static inline void
tx_enqueue(struct gw_worker *w, unsigned int pi, struct rte_mbuf *m)
{
	w->tx[pi].pkts[w->tx[pi].n++] = m;
	if (w->tx[pi].n == GW_WORKER_BURST)
		tx_flush(w, pi);
}

static void
post_event(struct gw_worker *w, uint8_t type, unsigned int pi, uint32_t ip,
	   const uint8_t *mac)
{
	struct gw_worker_event ev = {
		.type = type,
		.port_index = (uint8_t)pi,
		.ip = ip,
	};

	if (mac != NULL)
		memcpy(ev.mac, mac, 6);
	if (rte_ring_sp_enqueue_elem(w->events, &ev, sizeof(ev)) != 0)
		w->stats.drops[GW_DROP_RING_FULL]++;
}

static inline void
set_macs(struct rte_mbuf *m, const uint8_t *src, const uint8_t *dst)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	memcpy(eth->dst_addr.addr_bytes, dst, RTE_ETHER_ADDR_LEN);
	memcpy(eth->src_addr.addr_bytes, src, RTE_ETHER_ADDR_LEN);
}

void
gw_worker_send_ip(struct gw_worker *w, unsigned int pi, uint32_t next_hop,
		  struct rte_mbuf *m)
{
	const struct gw_port *port = &w->dp->ports[pi];
	uint8_t mac[6];
	int rc;

	if (next_hop == 0) {
		worker_drop(w, m, GW_DROP_NO_ROUTE);
		return;
	}
	rc = gw_neigh_lookup(w->dp->neigh, (uint16_t)pi, next_hop, mac);
	if (GW_LIKELY(rc == 0)) {
		set_macs(m, port->iface.mac, mac);
		tx_enqueue(w, pi, m);
		return;
	}
	if (rc == -EHOSTUNREACH) {
		worker_drop(w, m, GW_DROP_NEIGH_UNRESOLVED);
		return;
	}
	if (gw_neigh_pending_add(w->pending, (uint16_t)pi, next_hop, m,
				 rte_rdtsc()) != 0) {
		worker_drop(w, m, GW_DROP_NEIGH_QUEUE_FULL);
		return;
	}
	w->stats.neigh_held++;
	/* The control lcore dedups: an outstanding probe is not repeated. */
	post_event(w, GW_EVENT_NEIGH_RESOLVE, pi, next_hop, NULL);
}

static void
pending_send(void *arg, void *pkt, uint16_t pi, const uint8_t mac[6])
{
	struct gw_worker *w = arg;

	set_macs(pkt, w->dp->ports[pi].iface.mac, mac);
	w->stats.neigh_released++;
	tx_enqueue(w, pi, pkt);
}

static void
pending_drop(void *arg, void *pkt)
{
	worker_drop(arg, pkt, GW_DROP_NEIGH_UNRESOLVED);
}

/* A segment goes to the worker that owns its connection: with predictable
 * hardware RSS that is already us (client flows stay on their queue, and
 * our source ports were chosen to hash to us); without it (af_packet
 * fanout, tap queues) the owner is found from the segment and handed the
 * mbuf through its ring. */
static inline void
tcp_dispatch(struct gw_worker *w, unsigned int pi, struct rte_mbuf *m,
	     const struct gw_net_result *res)
{
	struct gw_dataplane *dp = w->dp;

	/* the shadow engine's connections, by their reserved ports */
	if (GW_UNLIKELY(dataplane_shadow_segment(dp, pi, m, res))) {
		if (rte_ring_sp_enqueue(dp->shadow_rx[w->id], m) != 0)
			worker_drop(w, m, GW_DROP_RING_FULL);
		return;
	}
	if (dp->n_workers > 1 && !dp->ports[pi].rss.enabled) {
		unsigned int owner = gw_tcp_owner(w->tcp, m, res);

		if (owner != w->id) {
			struct rte_ring *r = dp->workers[owner]->handoff_in[w->id];

			if (rte_ring_sp_enqueue(r, m) != 0) {
				worker_drop(w, m, GW_DROP_RING_FULL);
				return;
			}
			w->stats.handoff_out++;
			return;
		}
	}
	gw_tcp_input(w->tcp, pi, m, res);
}

/* Segments other workers passed us: classify again (cheap, and it keeps
 * the rings to bare mbuf pointers) and feed our stack. */
static unsigned int
handoff_receive(struct gw_worker *w, struct rte_mbuf **pkts)
{
	struct gw_dataplane *dp = w->dp;
	unsigned int total = 0;

	for (unsigned int src = 0; src < dp->n_workers; src++) {
		struct rte_ring *r = w->handoff_in[src];
		unsigned int n;

		if (r == NULL || rte_ring_empty(r))
			continue;
		n = rte_ring_sc_dequeue_burst(r, (void **)pkts, GW_WORKER_BURST,
					      NULL);
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			unsigned int pi = dp->port_index[m->port];
			struct gw_net_result res;

			w->stats.handoff_in++;
			if (gw_net_input(&dp->ports[pi].iface,
					 rte_pktmbuf_mtod(m, uint8_t *),
					 rte_pktmbuf_data_len(m), &res) == GW_NET_TCP)
				gw_tcp_input(w->tcp, pi, m, &res);
			else
				worker_drop(w, m, res.drop);
		}
		total += n;
	}
	return total;
}

/* The reply's destination is the original source: route it like any packet
 * we originate, rather than bouncing it to the MAC it came from. */
static inline uint32_t
ipv4_dst_of(const struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
		const struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	return ip->dst_addr;
}

static inline bool
is_arp(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	return eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
}

static inline void
handle_packet(struct gw_worker *w, unsigned int pi, struct rte_mbuf *m)
{
	const struct gw_port *port = &w->dp->ports[pi];
	struct gw_net_result res;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

	w->stats.rx_packets++;
	w->stats.rx_bytes += rte_pktmbuf_pkt_len(m);

	/* Headers are parsed in the first segment; longer chains are for TCP. */
	switch (gw_net_input(&port->iface, frame, rte_pktmbuf_data_len(m), &res)) {
	case GW_NET_REPLY:
		rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - res.out_len);
		if (res.learn)
			post_event(w, GW_EVENT_NEIGH_ASKED_US, pi, res.learn_ip,
				   res.learn_mac);
		if (is_arp(m)) {               /* straight back to the asker */
			w->stats.arp_replies++;
			tx_enqueue(w, pi, m);
		} else {                       /* ICMP echo reply: routed */
			uint32_t dst = ipv4_dst_of(m);

			w->stats.icmp_echo_replies++;
			gw_worker_send_ip(w, pi, gw_net_next_hop(&port->iface, dst), m);
		}
		return;
	case GW_NET_CONSUMED:
		if (res.learn)
			post_event(w, GW_EVENT_NEIGH_SEEN, pi, res.learn_ip,
				   res.learn_mac);
		rte_pktmbuf_free(m);
		return;
	case GW_NET_TCP:
		tcp_dispatch(w, pi, m, &res);
		return;
	case GW_NET_DROP:
	default:
		if (res.learn)
			post_event(w, GW_EVENT_NEIGH_SEEN, pi, res.learn_ip,
				   res.learn_mac);
		worker_drop(w, m, res.drop);
		return;
	}
}

/* Sleep after a run of empty polls, doubling up to the configured bound, so
 * that a 2-core test machine keeps CPU for clients and backends. Any
 * traffic resets it. Off in production profiles (busy polling). Returns
 * the TSC after the sleep, or 0 when it did not sleep. */
static inline uint64_t
idle_backoff(struct gw_worker *w, unsigned int n_rx)
{
	uint64_t t0, t1, us;

	if (n_rx != 0) {
		w->idle_polls = 0;
		w->idle_sleep_us = 0;
		return 0;
	}
	if (++w->idle_polls < 256)
		return 0;
	w->idle_sleep_us = w->idle_sleep_us == 0 ? 1 : w->idle_sleep_us * 2;
	if (w->idle_sleep_us > w->dp->idle_sleep_max_us)
		w->idle_sleep_us = w->dp->idle_sleep_max_us;
	w->stats.idle_sleeps++;
	/* as slept: a sleep much longer than asked means the CPU was taken
	 * from the worker, and its RX rings filled meanwhile */
	t0 = rte_rdtsc();
	usleep(w->idle_sleep_us);
	t1 = rte_rdtsc();
	us = (t1 - t0) * 1000000 / rte_get_tsc_hz();
	if (us > w->stats.sleep_max_us)
		w->stats.sleep_max_us = us;
	return t1;
}

int
gw_worker_main(void *arg)
{
	struct gw_worker *w = arg;
	struct gw_dataplane *dp = w->dp;
	struct rte_mbuf *pkts[GW_WORKER_BURST];

	uint64_t loop_start = rte_rdtsc(), loop_max = 0;
	const uint64_t over_10ms = rte_get_tsc_hz() / 100;

	w->next_drain_tsc = loop_start + dp->drain_tsc;
	gw_snapshot_worker_online(dp->snapshots, w->id);
	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		unsigned int n_rx = 0;
		uint64_t now, loop_end, slept;

		for (unsigned int pi = 0; pi < dp->n_ports; pi++) {
			uint16_t n, i;

			/* the shadow engine's own port (control lcore) */
			if (GW_UNLIKELY(dp->shadow_owned[pi]))
				continue;
			n = rte_eth_rx_burst(dp->ports[pi].port_id, w->id, pkts,
					     GW_WORKER_BURST);

			for (i = 0; i < n && i < GW_WORKER_PREFETCH; i++)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
			for (i = 0; i < n; i++) {
				if (i + GW_WORKER_PREFETCH < n)
					rte_prefetch0(rte_pktmbuf_mtod(
						pkts[i + GW_WORKER_PREFETCH], void *));
				handle_packet(w, pi, pkts[i]);
			}
			n_rx += n;
		}

		if (dp->n_workers > 1)
			n_rx += handoff_receive(w, pkts);

		/* Frames the control lcore asked us to send (ARP probes). */
		if (!rte_ring_empty(w->ctl_tx)) {
			uint16_t n = rte_ring_sc_dequeue_burst(w->ctl_tx,
					(void **)pkts, GW_WORKER_BURST, NULL);

			for (uint16_t i = 0; i < n; i++) {
				unsigned int pi = dp->port_index[pkts[i]->port];

				w->stats.ctl_tx_packets++;
				tx_enqueue(w, pi, pkts[i]);
			}
			n_rx += n;
		}
		/* The shadow engine's frames (worker 0 only: one TX queue). */
		if (w->id == 0 && dp->shadow_tx != NULL &&
		    !rte_ring_empty(dp->shadow_tx)) {
			uint16_t n = rte_ring_sc_dequeue_burst(dp->shadow_tx,
					(void **)pkts, GW_WORKER_BURST, NULL);

			for (uint16_t i = 0; i < n; i++)
				tx_enqueue(w, dp->port_index[pkts[i]->port],
					   pkts[i]);
			n_rx += n;
		}

		now = rte_rdtsc();
		/* ACKs and data made ready by this burst, and due TCP timers. */
		gw_tcp_poll(w->tcp, now);
		gw_l4_proxy_poll(w->l4, now);
		gw_http_proxy_poll(w->http, now);
		if (now >= w->next_drain_tsc) {
			if (gw_neigh_pending_count(w->pending) != 0)
				gw_neigh_pending_flush(w->pending, dp->neigh, now,
						       dp->pending_timeout_tsc,
						       pending_send, pending_drop, w);
			for (unsigned int pi = 0; pi < dp->n_ports; pi++)
				tx_flush(w, pi);
			w->next_drain_tsc = now + dp->drain_tsc;
		}
		/* Nothing read from a snapshot outlives this point unless held. */
		gw_snapshot_quiescent(dp->snapshots, w->id);
		/* How long an iteration took (a stall shows here, not in the
		 * averages): the sleep below is not counted. */
		loop_end = rte_rdtsc();
		if (GW_UNLIKELY(loop_end - loop_start > loop_max)) {
			loop_max = loop_end - loop_start;
			w->stats.loop_max_us = loop_max * 1000000 / rte_get_tsc_hz();
		}
		if (GW_UNLIKELY(loop_end - loop_start > over_10ms))
			w->stats.loops_over_10ms++;
		/* one TSC read per iteration: the next one starts where this
		 * one ended, or where the sleep ended */
		slept = dp->idle_backoff ? idle_backoff(w, n_rx) : 0;
		loop_start = slept != 0 ? slept : loop_end;
	}
	gw_snapshot_worker_offline(dp->snapshots, w->id);
	/* Leave nothing queued: flush what we hold, free what waits. */
	for (unsigned int pi = 0; pi < dp->n_ports; pi++)
		tx_flush(w, pi);
	gw_neigh_pending_flush(w->pending, dp->neigh, UINT64_MAX, 0,
			       pending_send, pending_drop, w);
	for (unsigned int pi = 0; pi < dp->n_ports; pi++)
		tx_flush(w, pi);
	return 0;
}
