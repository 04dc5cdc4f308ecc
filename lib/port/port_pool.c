/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mbuf pool, shaped for the ports that use it.
 *
 * DPDK 22.11's AF_XDP PMD hands mbufs to the kernel without copying: it
 * registers the pool's memory as one UMEM that starts at the page of the
 * pool's first memory chunk and is populated_size * object size long, and
 * names each mbuf by its offset from that start. An mbuf beyond the end is
 * refused by the kernel: on TX the frame is silently lost (and its mbuf
 * never completes; only the socket's tx_invalid_descs counts it), on the
 * fill ring the buffer is lost. A pool populated page by page, which is
 * what hugepages with physical addresses give, leaves a gap at the end of
 * every page so that no object straddles two pages; the last mbufs then
 * lie beyond the UMEM, and a busy pool (all of it cycling, as with a
 * shadow engine freeing on another lcore) loses a frame now and then.
 *
 * Objects need IOVA-contiguity only for devices that DMA. When every port
 * is a vdev (af_xdp, af_packet, tap, ring), the pool is created without
 * that constraint: one chunk, objects packed. In every case a pool that an
 * AF_XDP port could not use whole is refused at start with the reason.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>

#include "gw_common.h"
#include "gw_port.h"

bool
gw_port_is_af_xdp(const struct gw_config_port *cp)
{
	return cp->is_vdev && strncmp(cp->device, "net_af_xdp", 10) == 0;
}

struct umem_span {
	uintptr_t start;
	uintptr_t end;
	size_t hdr;
	size_t obj_size;
	unsigned int outside;
};

static void
count_outside(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct umem_span *u = arg;
	uintptr_t first = (uintptr_t)obj - u->hdr;

	(void)mp;
	(void)idx;
	if (first < u->start || first + u->obj_size > u->end)
		u->outside++;
}

unsigned int
gw_port_pool_outside_umem(struct rte_mempool *mp)
{
	struct rte_mempool_memhdr *first = STAILQ_FIRST(&mp->mem_list);
	uintptr_t page = (uintptr_t)getpagesize();
	struct umem_span u;

	if (first == NULL)
		return 0;
	/* as the PMD computes it (get_base_addr, xdp_umem_configure) */
	u.hdr = mp->header_size;
	u.obj_size = rte_mempool_calc_obj_size(mp->elt_size, mp->flags, NULL);
	u.start = (uintptr_t)first->addr & ~(page - 1);
	u.end = u.start + (uintptr_t)mp->populated_size * u.obj_size +
		((uintptr_t)first->addr - u.start);
	u.outside = 0;
	rte_mempool_obj_iter(mp, count_outside, &u);
	return u.outside;
}

struct rte_mempool *
gw_port_pool_create(const struct gw_config *cfg, const char *name,
		    unsigned int n, unsigned int cache, char *err,
		    size_t err_len)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE,
		.mbuf_priv_size = 0,
	};
	bool all_vdev = true, af_xdp = false;
	struct rte_mempool *mp;
	unsigned int outside;
	int rc;

	for (unsigned int i = 0; i < cfg->n_ports; i++) {
		all_vdev = all_vdev && cfg->ports[i].is_vdev;
		af_xdp = af_xdp || gw_port_is_af_xdp(&cfg->ports[i]);
	}
	mp = rte_mempool_create_empty(name, n,
		sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE, cache,
		sizeof(priv), (int)rte_socket_id(),
		all_vdev ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0);
	if (mp == NULL)
		goto fail;
	rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (rc != 0) {
		rte_errno = -rc;
		goto fail;
	}
	rte_pktmbuf_pool_init(mp, &priv);
	if (rte_mempool_populate_default(mp) < 0)
		goto fail;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);

	outside = af_xdp ? gw_port_pool_outside_umem(mp) : 0;
	if (outside != 0) {
		gw_err(err, err_len,
			"the mbuf pool is in %u memory chunks and %u of its %u mbufs lie "
			"outside the UMEM an AF_XDP port registers: their frames would be "
			"lost%s", mp->nb_mem_chunks, outside, n,
			all_vdev ? " (not enough contiguous memory: fewer limits.mbufs, "
				   "or more hugepages)" :
				   " (a PCI device needs mbufs that do not straddle "
				   "pages, AF_XDP one packed range: run them in separate "
				   "gateways)");
		rte_mempool_free(mp);
		return NULL;
	}
	return mp;
fail:
	gw_err(err, err_len,
		"cannot create a pool of %u mbufs: %s (limits.mbufs too high "
		"for the memory EAL has? try fewer, or more hugepages)",
		n, rte_strerror(rte_errno));
	rte_mempool_free(mp);
	return NULL;
}
