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

/** "aa:bb:cc:dd:ee:ff" into @p buf (at least 18 bytes). */
const char *gw_port_mac_str(const uint8_t mac[6], char *buf);

#endif /* GW_PORT_H */
