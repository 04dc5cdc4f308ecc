/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receive-side scaling predicted in software: with a NIC that spreads TCP
 * flows over queues by the Toeplitz hash, the gateway knows on which queue
 * (worker) the replies of a connection it opens will arrive, so it picks a
 * source port whose hash lands on the opening worker and no segment ever
 * needs a hand-off between workers.
 */
#include <errno.h>
#include <string.h>

#include <rte_thash.h>

#include "gw_port.h"

int
gw_port_rss_init(struct gw_port_rss *rss, const uint8_t *key,
		 uint16_t reta_size, uint16_t n_queues)
{
	memset(rss, 0, sizeof(*rss));
	if (reta_size == 0 || reta_size > GW_PORT_RETA_MAX || n_queues == 0)
		return -EINVAL;
	memcpy(rss->key, key, GW_PORT_RSS_KEY_LEN);
	rss->reta_size = reta_size;
	for (uint16_t i = 0; i < reta_size; i++)
		rss->reta[i] = (uint16_t)(i % n_queues);
	rss->enabled = true;
	return 0;
}

uint16_t
gw_port_rss_queue(const struct gw_port_rss *rss, uint32_t src_ip,
		  uint32_t dst_ip, uint16_t sport, uint16_t dport)
{
	struct rte_ipv4_tuple t = {
		.src_addr = src_ip,
		.dst_addr = dst_ip,
		.dport = dport,
		.sport = sport,
	};
	uint32_t hash = rte_softrss((uint32_t *)&t, RTE_THASH_V4_L4_LEN,
				    rss->key);

	return rss->reta[hash % rss->reta_size];
}
