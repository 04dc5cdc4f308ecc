/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_PORT_H
#define GW_PORT_H

/**
 * @file
 * Ethernet ports from the bootstrap: find the ethdev behind each configured
 * device, configure one RX and one TX queue per worker, start, and stop and
 * close them again (which releases vdevs such as af_xdp's XDP program).
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "gw_config.h"
#include "gw_net.h"

#define GW_PORT_RX_DESC 1024
#define GW_PORT_TX_DESC 1024

/** Largest RSS redirection table the gateway mirrors in software. */
#define GW_PORT_RETA_MAX 512
#define GW_PORT_MAX_XSK 16
/** Toeplitz key length the gateway uses (the common 40 bytes). */
#define GW_PORT_RSS_KEY_LEN 40

/**
 * The NIC's receive-side scaling as the gateway predicts it: the Toeplitz
 * key and the redirection table it programmed. Only for ports whose
 * spreading is the hardware's Toeplitz hash (PCI NICs); software spreading
 * (af_packet fanout, tap queues) is not predictable and leaves this off.
 */
struct gw_port_rss {
	bool enabled;
	uint16_t reta_size;                    /**< entries used */
	uint8_t key[GW_PORT_RSS_KEY_LEN];
	uint16_t reta[GW_PORT_RETA_MAX];       /**< hash % reta_size -> queue */
};

/** A configured and started port. */
struct gw_port {
	char name[GW_CONFIG_NAME_LEN];   /**< from the bootstrap ("down0") */
	uint16_t port_id;                /**< ethdev port id */
	uint32_t roles;                  /**< enum gw_port_role bits */
	uint16_t n_queues;               /**< RX = TX queues = workers */
	bool tx_ipv4_cksum_offload;      /**< the NIC computes IPv4 header checksums */
	bool tx_tcp_cksum_offload;       /**< ... and TCP checksums */
	bool tx_multi_seg;               /**< sends mbuf chains (zero-copy TX) */
	uint16_t tx_max_segs;            /**< most mbufs per frame (0: no limit known) */
	uint16_t mtu;                    /**< IP MTU in use */
	struct gw_port_rss rss;          /**< hardware steering, when predictable */
	unsigned int n_xsk;              /**< AF_XDP sockets found for the port */
	int xsk_fds[GW_PORT_MAX_XSK];    /**< ... read for their counters */
	bool configured;                 /**< must be closed */
	bool started;                    /**< must be stopped */
	struct gw_net_iface iface;       /**< MAC and addresses, for lib/net */
};

/**
 * EAL arguments the ports need: "--vdev DEV" for vdevs, "-a PCI" for PCI
 * devices, and "--no-pci" when no port is a PCI device, so that EAL never
 * probes a NIC the bootstrap does not name. Appends to @p argv (capacity
 * @p cap, current count @p argc); returns the new count or -ENOSPC.
 * The strings point into @p cfg or are literals.
 */
int gw_port_eal_args(const struct gw_config *cfg, char **argv, int argc, int cap);

/**
 * Configure and start every port of @p cfg with @p n_queues RX/TX queues
 * fed from @p pool. Fills @p ports (GW_CONFIG_MAX_PORTS entries). On failure
 * returns a negative code with a message naming the port in @p err, and the
 * ports already started stay recorded for gw_port_close_all().
 */
int gw_port_open_all(const struct gw_config *cfg, uint16_t n_queues,
		     struct rte_mempool *pool, struct gw_port *ports,
		     char *err, size_t err_len);

/** Stop and close every started port of @p ports (@p n entries). */
void gw_port_close_all(struct gw_port *ports, unsigned int n);

/**
 * Fill @p rss for a Toeplitz NIC: @p key (GW_PORT_RSS_KEY_LEN bytes) and a
 * redirection table of @p reta_size entries spreading hashes round robin
 * over @p n_queues queues. -EINVAL for sizes out of range.
 */
int gw_port_rss_init(struct gw_port_rss *rss, const uint8_t *key,
		     uint16_t reta_size, uint16_t n_queues);

/**
 * The queue on which the NIC delivers an IPv4 TCP segment from
 * @p src_ip:@p sport to @p dst_ip:@p dport (host byte order), by the
 * Toeplitz hash of that 4-tuple and the redirection table.
 */
uint16_t gw_port_rss_queue(const struct gw_port_rss *rss, uint32_t src_ip,
			   uint32_t dst_ip, uint16_t sport, uint16_t dport);

/** "aa:bb:cc:dd:ee:ff" into @p buf (at least 18 bytes). */
/* ---- the mbuf pool (port_pool.c) ---- */

/** The device string names DPDK's AF_XDP PMD. */
bool gw_port_is_af_xdp(const struct gw_config_port *cp);

/**
 * Create the mbuf pool the ports of @p cfg can all use: without the
 * IOVA-contiguity constraint when every port is a vdev (one packed chunk),
 * and refused with the reason in @p err when an AF_XDP port could not
 * register all of it as its UMEM. NULL on failure.
 */
struct rte_mempool *gw_port_pool_create(const struct gw_config *cfg,
					const char *name, unsigned int n,
					unsigned int cache, char *err,
					size_t err_len);

/** How many of @p mp's mbufs lie outside the UMEM DPDK 22.11's AF_XDP
 * PMD registers for it (they would be refused by the kernel). */
unsigned int gw_port_pool_outside_umem(struct rte_mempool *mp);

/* ---- AF_XDP socket counters (port_xsk.c) ---- */

/** XDP_STATISTICS summed over a port's sockets. */
struct gw_port_xsk_stats {
	uint64_t rx_dropped;         /**< dropped for other reasons */
	uint64_t rx_invalid_descs;
	uint64_t tx_invalid_descs;   /**< TX frames the kernel refused */
	uint64_t rx_ring_full;       /**< frames dropped: RX ring full */
	uint64_t rx_fill_ring_empty; /**< frames dropped: no fill buffer */
	uint64_t tx_ring_empty;      /**< the kernel found no TX work (not a loss) */
};

struct gw_port_xsk_counter {
	const char *name;
	size_t offset;
};
extern const struct gw_port_xsk_counter gw_port_xsk_counters[];
extern const unsigned int gw_port_n_xsk_counters;

/**
 * Record as @p port's the AF_XDP sockets of this process not already
 * claimed by @p others. Called right after the port is started.
 */
int gw_port_xsk_claim(struct gw_port *port, const struct gw_port *others,
		      unsigned int n_others);

/** The kernel's counters of @p port's AF_XDP sockets; -ENOTSUP when it
 * has none. A syscall per socket: control lcore only. */
int gw_port_xsk_stats(const struct gw_port *port,
		      struct gw_port_xsk_stats *s);

const char *gw_port_mac_str(const uint8_t mac[6], char *buf);

#endif /* GW_PORT_H */
