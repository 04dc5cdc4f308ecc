/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DATAPLANE_SHADOW_H
#define DATAPLANE_SHADOW_H

/* The data plane's side of mirroring (dataplane_shadow.c): rings between
 * workers and the shadow engine, the engine itself and its way to the
 * wire. Private to lib/worker. */

#include "gw_worker.h"

/* Rings first (workers' proxies take theirs at creation). 0 or negative. */
int dataplane_shadow_rings_create(struct gw_dataplane *dp,
				  const struct gw_config *cfg,
				  char *err, size_t err_len);
/* The engine, once the workers exist. 0 or negative. */
int dataplane_shadow_engine_create(struct gw_dataplane *dp,
				   const struct gw_config *cfg,
				   char *err, size_t err_len);
/* Send @p m (Ethernet complete) on shadow-owned port @p pi, queue 0;
 * the engine's lcore only. Takes ownership. */
void dataplane_shadow_port_tx(struct gw_dataplane *dp, unsigned int pi,
			      struct rte_mbuf *m);
/* Control lcore: an ARP probe for shadow-owned port @p pi (sent at once,
 * or handed to the engine's lcore). Takes ownership; false if dropped. */
bool dataplane_shadow_probe(struct gw_dataplane *dp, unsigned int pi,
			    struct rte_mbuf *m);
/* The engine's lcore loop (lcores.shadow), for rte_eal_remote_launch(). */
int dataplane_shadow_main(void *arg);
/* Free the engine and the rings (workers stopped). */
void dataplane_shadow_free(struct gw_dataplane *dp);

/* Is this TCP segment, received on port @p pi, for a shadow connection? */
static inline bool
dataplane_shadow_segment(const struct gw_dataplane *dp, unsigned int pi,
			 const struct rte_mbuf *m, const struct gw_net_result *res)
{
	const uint8_t *th;
	uint16_t dport;

	if (dp->shadow == NULL ||
	    !(dp->port_roles[pi] & (GW_ROLE_UPSTREAM | GW_ROLE_SHADOW)))
		return false;
	th = rte_pktmbuf_mtod_offset(m, const uint8_t *, res->l4_offset);
	dport = (uint16_t)(th[2] << 8 | th[3]);
	return dport >= GW_SHADOW_PORT_FIRST && dport <= GW_SHADOW_PORT_LAST;
}

#endif /* DATAPLANE_SHADOW_H */
