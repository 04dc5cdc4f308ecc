/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_bus_pci.h>

#include "gw_common.h"
#include "gw_port.h"

int
gw_port_eal_args(const struct gw_config *cfg, char **argv, int argc, int cap)
{
	bool any_pci = false;
	bool has_no_pci = false;

	for (unsigned int i = 0; i < cfg->n_eal_args; i++)
		if (strcmp(cfg->eal_args[i], "--no-pci") == 0)
			has_no_pci = true;

	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		const struct gw_config_port *p = &cfg->ports[i];

		if (argc + 2 > cap)
			return -ENOSPC;
		argv[argc++] = p->is_vdev ? "--vdev" : "-a";
		argv[argc++] = (char *)(uintptr_t)p->device;
		if (!p->is_vdev)
			any_pci = true;
	}
	/* Without a PCI port, never let EAL probe (and grab) the host's NICs. */
	if (!any_pci && !has_no_pci) {
		if (argc + 1 > cap)
			return -ENOSPC;
		argv[argc++] = "--no-pci";
	}
	return argc;
}

/* With several queues on a PCI NIC that hashes TCP flows (Toeplitz), read
 * its key and program a round-robin redirection table, so that the queue
 * of any 4-tuple can be predicted (gw_port_rss_queue()). Anything else,
 * vdevs included (af_packet fanout and tap queues spread flows by the
 * kernel's own hash), keeps rss.enabled false: software hand-off. */
static void
port_rss_setup(const struct gw_config_port *cp, struct gw_port *port,
	       const struct rte_eth_dev_info *info, uint16_t n_queues)
{
	struct rte_eth_rss_reta_entry64 reta[GW_PORT_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint8_t key[GW_PORT_RSS_KEY_LEN];
	struct rte_eth_rss_conf rc = {
		.rss_key = key,
		.rss_key_len = sizeof(key),
	};
	uint16_t size = info->reta_size;

	if (cp->is_vdev || n_queues < 2 ||
	    !(info->flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) ||
	    info->hash_key_size != GW_PORT_RSS_KEY_LEN ||
	    size == 0 || size > GW_PORT_RETA_MAX ||
	    size % RTE_ETH_RETA_GROUP_SIZE != 0)
		return;
	if (rte_eth_dev_rss_hash_conf_get(port->port_id, &rc) != 0 ||
	    !(rc.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP))
		return;
	memset(reta, 0, sizeof(reta));
	for (uint16_t i = 0; i < size; i++) {
		struct rte_eth_rss_reta_entry64 *g = &reta[i / RTE_ETH_RETA_GROUP_SIZE];

		g->mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		g->reta[i % RTE_ETH_RETA_GROUP_SIZE] = (uint16_t)(i % n_queues);
	}
	if (rte_eth_dev_rss_reta_update(port->port_id, reta, size) != 0)
		return;
	gw_port_rss_init(&port->rss, key, size, n_queues);
}

/* The ethdev name of a device string: a vdev's name is what precedes the
 * first comma ("net_af_xdp0,iface=x" -> "net_af_xdp0"); a PCI device is
 * named by its full domain:bus:dev.fn address. */
static int
port_id_of(const struct gw_config_port *p, uint16_t *port_id)
{
	char name[GW_CONFIG_DEVICE_LEN];
	size_t n = strcspn(p->device, ",");

	if (n >= sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, p->device, n);
	name[n] = '\0';
	if (!p->is_vdev) {
		struct rte_pci_addr addr;

		if (rte_pci_addr_parse(name, &addr) != 0)
			return -EINVAL;
		rte_pci_device_name(&addr, name, sizeof(name));
	}
	return rte_eth_dev_get_port_by_name(name, port_id);
}

static int
port_open(const struct gw_config_port *cp, uint16_t n_queues,
	  struct rte_mempool *pool, struct gw_port *port,
	  char *err, size_t err_len)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = GW_PORT_RX_DESC, nb_txd = GW_PORT_TX_DESC;
	uint16_t pid;
	int rc;

	memset(port, 0, sizeof(*port));
	snprintf(port->name, sizeof(port->name), "%s", cp->name);
	port->roles = cp->roles;

	rc = port_id_of(cp, &pid);
	if (rc != 0)
		return gw_err(err, err_len,
			"port %s: no ethdev for device \"%s\" (did EAL probe it? %s)",
			cp->name, cp->device, strerror(-rc));
	port->port_id = pid;

	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return gw_err(err, err_len, "port %s: cannot read device info: %s",
			      cp->name, strerror(-rc));
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues)
		return gw_err(err, err_len,
			"port %s: %u workers need %u RX/TX queues but %s offers %u RX and %u TX"
			" (af_xdp on a veth has one queue: use net_af_packet,qpairs=N or fewer workers)",
			cp->name, n_queues, n_queues, info.driver_name,
			info.max_rx_queues, info.max_tx_queues);

	memset(&conf, 0, sizeof(conf));
	if (n_queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		port->tx_ipv4_cksum_offload = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		port->tx_tcp_cksum_offload = true;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		port->tx_multi_seg = true;
		port->tx_max_segs = info.tx_desc_lim.nb_mtu_seg_max;
	}
	rc = rte_eth_dev_configure(pid, n_queues, n_queues, &conf);
	if (rc != 0)
		return gw_err(err, err_len, "port %s: configure with %u queues failed: %s",
			      cp->name, n_queues, strerror(-rc));
	port->configured = true;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	if (rc != 0)
		return gw_err(err, err_len, "port %s: descriptor counts refused: %s",
			      cp->name, strerror(-rc));
	if (cp->mtu != 0) {
		rc = rte_eth_dev_set_mtu(pid, cp->mtu);
		if (rc != 0)
			return gw_err(err, err_len, "port %s: MTU %u refused: %s",
				      cp->name, cp->mtu, strerror(-rc));
	}
	for (uint16_t q = 0; q < n_queues; q++) {
		struct rte_eth_txconf txconf = info.default_txconf;

		rc = rte_eth_rx_queue_setup(pid, q, nb_rxd,
			rte_eth_dev_socket_id(pid), NULL, pool);
		if (rc != 0)
			return gw_err(err, err_len, "port %s: RX queue %u setup failed: %s",
				      cp->name, q, strerror(-rc));
		txconf.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(pid, q, nb_txd,
			rte_eth_dev_socket_id(pid), &txconf);
		if (rc != 0)
			return gw_err(err, err_len, "port %s: TX queue %u setup failed: %s",
				      cp->name, q, strerror(-rc));
	}
	rc = rte_eth_dev_start(pid);
	if (rc != 0)
		return gw_err(err, err_len, "port %s: start failed: %s",
			      cp->name, strerror(-rc));
	port->started = true;
	port->n_queues = n_queues;
	port_rss_setup(cp, port, &info, n_queues);

	if (rte_eth_dev_get_mtu(pid, &port->mtu) != 0 || port->mtu == 0)
		port->mtu = cp->mtu != 0 ? cp->mtu : RTE_ETHER_MTU;
	rc = rte_eth_macaddr_get(pid, &mac);
	if (rc != 0)
		return gw_err(err, err_len, "port %s: cannot read MAC address: %s",
			      cp->name, strerror(-rc));
	port->iface.port_id = pid;
	memcpy(port->iface.mac, mac.addr_bytes, 6);
	port->iface.addr = cp->address.s_addr;
	port->iface.prefix_len = cp->prefix_len;
	port->iface.gateway = cp->has_gateway ? cp->gateway.s_addr : 0;
	return 0;
}

int
gw_port_open_all(const struct gw_config *cfg, uint16_t n_queues,
		 struct rte_mempool *pool, struct gw_port *ports,
		 char *err, size_t err_len)
{
	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		int rc = port_open(&cfg->ports[i], n_queues, pool, &ports[i],
				   err, err_len);
		if (rc != 0)
			return rc;
		if (gw_port_is_af_xdp(&cfg->ports[i]))
			gw_port_xsk_claim(&ports[i], ports, i);
	}
	return 0;
}

void
gw_port_close_all(struct gw_port *ports, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (ports[i].started)
			rte_eth_dev_stop(ports[i].port_id);
		if (ports[i].configured)
			rte_eth_dev_close(ports[i].port_id);
		ports[i].started = false;
		ports[i].configured = false;
	}
}

const char *
gw_port_mac_str(const uint8_t mac[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
