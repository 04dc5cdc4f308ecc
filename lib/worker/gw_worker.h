/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_WORKER_H
#define GW_WORKER_H

/**
 * @file
 * The data plane: per-lcore workers that poll their RX queue on every port,
 * answer ARP and ICMP echo, send IP packets through the neighbour table
 * (holding them while ARP resolves) and buffer TX into bursts drained on a
 * TSC timer; and the shared context through which the control lcore talks
 * to them.
 *
 * Ownership: a worker is the only writer of its struct (queues, TX buffers,
 * pending queue, counters). Workers reach the control lcore only through
 * their single-producer event ring; the control lcore reaches a worker only
 * through that worker's single-producer TX ring (frames it wants sent, e.g.
 * ARP requests), so the control lcore never touches a TX queue.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "gw_config.h"
#include "gw_httpproxy.h"
#include "gw_neigh.h"
#include "gw_net.h"
#include "gw_outlier.h"
#include "gw_port.h"
#include "gw_proxy.h"
#include "gw_route.h"
#include "gw_shadow.h"
#include "gw_snapshot.h"
#include "gw_tcp.h"

#define GW_WORKER_BURST       32
#define GW_WORKER_PREFETCH    4     /**< prefetch packet i+N while handling i */
#define GW_WORKER_RING_SIZE   1024  /**< events and control TX rings */
#define GW_WORKER_DRAIN_US    100   /**< TX buffers flushed at least this often */
#define GW_NEIGH_PENDING_TIMEOUT_MS 3000
#define GW_DATAPLANE_MAX_VIPS 64    /**< service VIPs accepted as local addresses */
#define GW_WORKER_METRICS_SERIES 1024 /**< Istio metric series per worker (then overflow) */

/** Counters of one worker; summed by the control lcore for stats. */
struct gw_worker_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t arp_replies;        /**< ARP requests for us answered */
	uint64_t icmp_echo_replies;  /**< ping replies sent */
	uint64_t neigh_held;         /**< packets parked while ARP resolved */
	uint64_t neigh_released;     /**< parked packets sent after resolution */
	uint64_t ctl_tx_packets;     /**< frames sent for the control lcore */
	uint64_t idle_sleeps;        /**< idle back-off sleeps taken */
	uint64_t handoff_out;        /**< TCP segments passed to their owner worker */
	uint64_t handoff_in;         /**< TCP segments received from other workers */
	uint64_t loop_max_us;        /**< gauge: longest loop iteration, sleeps excluded */
	uint64_t loops_over_10ms;    /**< iterations that took over 10 ms (a stalled worker) */
	uint64_t sleep_max_us;       /**< gauge: longest idle back-off sleep, as slept */
	uint64_t drops[GW_DROP_REASON_MAX];
};

/** What workers tell the control lcore. */
enum gw_worker_event_type {
	GW_EVENT_NEIGH_SEEN = 1,    /**< ARP reply / gratuitous ARP: refresh if known */
	GW_EVENT_NEIGH_ASKED_US,    /**< ARP request for our address: learn the asker */
	GW_EVENT_NEIGH_RESOLVE,     /**< a packet waits for this next hop */
	GW_EVENT_OUTLIER,           /**< an endpoint reached an error threshold */
};

struct gw_worker_event {
	uint8_t type;          /**< enum gw_worker_event_type */
	union {
		struct {       /* GW_EVENT_NEIGH_* */
			uint8_t port_index;    /**< port, in bootstrap order */
			uint8_t mac[6];
			uint32_t ip;           /**< network order */
			uint32_t reserved;
		};
		struct gw_outlier_event outlier; /**< GW_EVENT_OUTLIER */
	};
};

struct gw_dataplane;

/** One worker lcore's state, cache-aligned, reached once per loop. */
struct gw_worker {
	unsigned int id;              /**< 0..n_workers-1, also its queue index */
	unsigned int lcore_id;
	struct gw_dataplane *dp;
	struct rte_ring *events;      /**< worker -> control (SP/SC) */
	struct rte_ring *ctl_tx;      /**< control -> worker frames to send (SP/SC) */
	struct gw_neigh_pending *pending;
	struct gw_tcp_stack *tcp;     /**< this worker's TCP connections */
	struct gw_l4_proxy *l4;       /**< TCP listeners: Istio `tcp` routes */
	struct gw_http_proxy *http;   /**< HTTP listeners: Istio `http` routes */
	struct gw_metrics_table *metrics; /**< Istio request metrics (HTTP proxy) */
	/** The snapshot last handed to the HTTP proxy (for its holds). */
	const struct gw_snapshot *http_snap;
	/** Segments other workers received for our connections (SP/SC each). */
	struct rte_ring *handoff_in[GW_CONFIG_MAX_WORKERS];
	uint64_t next_drain_tsc;
	uint32_t idle_polls;          /**< consecutive empty polls */
	uint32_t idle_sleep_us;       /**< current back-off step */
	struct {
		uint16_t n;
		struct rte_mbuf *pkts[GW_WORKER_BURST];
	} tx[GW_CONFIG_MAX_PORTS];
	struct gw_worker_stats stats;
} __rte_cache_aligned;

/** Shared context: read-only for workers once they run, but for `stop`. */
struct gw_dataplane {
	unsigned int n_ports;
	struct gw_port *ports;               /**< bootstrap order */
	uint8_t port_index[RTE_MAX_ETHPORTS]; /**< ethdev port id -> index */
	struct gw_neigh_table *neigh;
	struct rte_mempool *pool;
	unsigned int n_workers;
	struct gw_worker *workers[GW_CONFIG_MAX_WORKERS];
	uint64_t tsc_hz;
	uint64_t drain_tsc;
	uint64_t pending_timeout_tsc;
	bool idle_backoff;
	uint32_t idle_sleep_max_us;
	struct gw_tcp_port tcp_ports[GW_CONFIG_MAX_PORTS]; /**< ports as TCP sees them */
	uint32_t port_roles[GW_CONFIG_MAX_PORTS];          /**< enum gw_port_role bits */
	/** Routing snapshots published by RCU (see gw_dataplane_snapshot()). */
	struct gw_snapshot_pub *snapshots;
	/** HTTP listener VIPs (sorted): IPv4 input takes them as ours. */
	uint32_t vips[GW_DATAPLANE_MAX_VIPS];
	uint16_t n_vips;
	volatile int stop;                    /**< set by the control lcore */
	/* control-lcore side counters */
	uint64_t arp_requests_sent;
	uint64_t event_ring_drops;            /**< ctl_tx ring full */
	/* mirroring (lib/shadow; docs/mirroring.md): the engine runs on the
	 * control lcore and reaches the wire through worker 0 */
	struct gw_shadow *shadow;
	struct gw_shadow_health *shadow_health; /**< endpoints down: engine -> workers */
	struct rte_ring *shadow_items[GW_CONFIG_MAX_WORKERS]; /**< worker -> engine: mirror items */
	struct rte_ring *shadow_rx[GW_CONFIG_MAX_WORKERS];    /**< worker -> engine: shadow connections' segments */
	struct rte_ring *shadow_tx;           /**< engine -> worker 0: frames to send */
	struct gw_neigh_pending *shadow_pending; /**< engine frames waiting for ARP */
	uint64_t shadow_tx_drops;             /**< engine frames lost (ring full, no route, unresolved) */
	/** Ports whose only role is shadow: the engine owns their queue 0
	 * (RX, TX, ARP); workers leave them alone. */
	bool shadow_owned[GW_CONFIG_MAX_PORTS];
	uint64_t shadow_port_rx;              /**< frames the engine read from shadow ports */
	uint64_t shadow_port_tx;              /**< frames it sent on them */
	/** The engine runs on its own lcore (lcores.shadow) rather than in
	 * the control loop; it then reaches the control lcore by rings. */
	bool shadow_on_lcore;
	unsigned int shadow_lcore;
	struct rte_ring *shadow_events;       /**< engine lcore -> control: neighbour events */
	struct rte_ring *shadow_ctl_tx;       /**< control -> engine lcore: ARP probes of shadow ports */
	/* outlier detection (lib/outlier; docs/outlier-detection.md): the
	 * ejection state, fed by workers' GW_EVENT_OUTLIER events */
	struct gw_outlier *outlier;
};

/**
 * Build the data plane for @p cfg over started @p ports: neighbour table
 * (with the bootstrap's static entries), one worker per worker lcore with
 * its rings, pending queue, TCP stack and L4 proxy listening on the TCP
 * listeners of @p snapshot. Returns NULL with a message in @p err.
 */
struct gw_dataplane *gw_dataplane_create(const struct gw_config *cfg,
	struct gw_port *ports, struct rte_mempool *pool,
	struct gw_snapshot_pub *snapshots,
	char *err, size_t err_len);

/**
 * The routing snapshot in force (workers and control lcore), NULL before
 * the first publication. On a worker it stays valid until the worker's
 * next quiescent report (each loop iteration) unless held.
 */
static inline const struct gw_route_snapshot *
gw_dataplane_snapshot(const struct gw_dataplane *dp)
{
	const struct gw_snapshot *snap = gw_snapshot_current(dp->snapshots);

	return snap != NULL ? snap->routes : NULL;
}

/** Sum of every worker's L4 proxy counters. */
void gw_dataplane_l4_stats_sum(const struct gw_dataplane *dp,
			       struct gw_l4_proxy_stats *sum);

/** Sum of every worker's HTTP proxy counters. */
void gw_dataplane_http_stats_sum(const struct gw_dataplane *dp,
				 struct gw_http_proxy_stats *sum);

/**
 * Control lcore: write the workers' queued access-log records to @p out
 * (Envoy's format). Never blocks on a worker.
 */
void gw_dataplane_accesslog_drain(struct gw_dataplane *dp, FILE *out);

/** Free what gw_dataplane_create() made; workers must have stopped. */
void gw_dataplane_free(struct gw_dataplane *dp);

/** Launch every worker on its lcore. 0 or a negative errno. */
int gw_dataplane_launch(struct gw_dataplane *dp);

/** Ask workers to stop and wait for them. */
void gw_dataplane_stop(struct gw_dataplane *dp);

/**
 * Control lcore's periodic work: drain worker events into the neighbour
 * table and the outlier detector (following the snapshot in force), age
 * the table, send ARP probes through worker 0, bring back ejected
 * endpoints whose time is over. Never blocks.
 */
void gw_dataplane_control_poll(struct gw_dataplane *dp);

/**
 * Ask for @p ip on port @p port_index to be resolved now (operator
 * request). 0 when a probe was sent or is outstanding, negative otherwise.
 */
int gw_dataplane_neigh_resolve(struct gw_dataplane *dp, unsigned int port_index,
			       uint32_t ip);

/**
 * Control lcore: run the shadow engine once (mirror items, shadow
 * connections) and release its frames waiting for ARP.
 * @return true when it had work (poll again soon rather than sleep).
 */
bool gw_dataplane_shadow_poll(struct gw_dataplane *dp);

/** Sum of every worker's counters. */
void gw_dataplane_stats_sum(const struct gw_dataplane *dp,
			    struct gw_worker_stats *sum);

/** Sum of every worker's TCP counters. */
void gw_dataplane_tcp_stats_sum(const struct gw_dataplane *dp,
				struct gw_tcp_stats *sum);

/** The worker loop, for rte_eal_remote_launch(). */
int gw_worker_main(void *arg);

/**
 * Send an IPv4 packet whose Ethernet header is in place (MACs filled in
 * here) towards @p next_hop on port @p port_index; parks it while ARP
 * resolves. Takes ownership of @p m in every case.
 */
void gw_worker_send_ip(struct gw_worker *w, unsigned int port_index,
		       uint32_t next_hop, struct rte_mbuf *m);

#endif /* GW_WORKER_H */
