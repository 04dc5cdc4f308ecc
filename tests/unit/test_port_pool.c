/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/port's mbuf pool and AF_XDP socket counters: a pool for vdev ports
 * is one packed chunk that an AF_XDP UMEM covers whole; a pool whose
 * chunks leave gaps (as hugepages populated page by page do) is measured
 * exactly as DPDK 22.11's AF_XDP PMD sizes its UMEM, and refused; a
 * port's AF_XDP sockets are found and read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>

#include "gw_common.h"
#include "gw_port.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif

static void
two_af_xdp_ports(struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->n_ports = 2;
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(cfg->ports[i].name, sizeof(cfg->ports[i].name),
			 "p%u", i);
		snprintf(cfg->ports[i].device, sizeof(cfg->ports[i].device),
			 "net_af_xdp%u,iface=veth%u", i, i);
		cfg->ports[i].is_vdev = true;
	}
}

static void
test_is_af_xdp(void **state)
{
	struct gw_config_port p = { .is_vdev = true };

	(void)state;
	snprintf(p.device, sizeof(p.device), "net_af_xdp0,iface=gw-down");
	assert_true(gw_port_is_af_xdp(&p));
	snprintf(p.device, sizeof(p.device), "net_af_packet0,iface=gw-down");
	assert_false(gw_port_is_af_xdp(&p));
	p.is_vdev = false;
	snprintf(p.device, sizeof(p.device), "0000:00:04.0");
	assert_false(gw_port_is_af_xdp(&p));
}

/* Every port a vdev: one chunk, objects packed, all inside the UMEM, and
 * the mbufs are ordinary pktmbufs. */
static void
test_vdev_pool_is_one_chunk(void **state)
{
	struct gw_config cfg;
	char err[256] = "";
	struct rte_mempool *mp;
	struct rte_mbuf *m;

	(void)state;
	two_af_xdp_ports(&cfg);
	mp = gw_port_pool_create(&cfg, "t_vdev", 4095, 32, err, sizeof(err));
	assert_non_null(mp);
	assert_string_equal(err, "");
	assert_int_equal(mp->nb_mem_chunks, 1);
	assert_int_equal(mp->populated_size, 4095);
	assert_int_equal(gw_port_pool_outside_umem(mp), 0);
	m = rte_pktmbuf_alloc(mp);
	assert_non_null(m);
	assert_int_equal(m->data_off, RTE_PKTMBUF_HEADROOM);
	assert_int_equal(m->buf_len, RTE_MBUF_DEFAULT_BUF_SIZE);
	assert_int_equal(rte_pktmbuf_data_room_size(mp),
			 RTE_MBUF_DEFAULT_BUF_SIZE);
	rte_pktmbuf_free(m);
	rte_mempool_free(mp);
}

/* A pool of @p n mbufs populated by hand in @p n_chunks chunks of
 * n / n_chunks objects each, chunk i at @p base + i * @p stride. */
static struct rte_mempool *
pool_in_chunks(const char *name, unsigned int n, unsigned int n_chunks,
	       char *base, size_t stride)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE,
	};
	struct rte_mempool *mp;
	size_t obj;

	mp = rte_mempool_create_empty(name, n,
		sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE, 0,
		sizeof(priv), SOCKET_ID_ANY, RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	assert_non_null(mp);
	assert_int_equal(rte_mempool_set_ops_byname(mp,
				rte_mbuf_best_mempool_ops(), NULL), 0);
	rte_pktmbuf_pool_init(mp, &priv);
	obj = rte_mempool_calc_obj_size(mp->elt_size, mp->flags, NULL);
	for (unsigned int i = 0; i < n_chunks; i++)
		assert_int_equal(rte_mempool_populate_iova(mp, base + i * stride,
				RTE_BAD_IOVA, (n / n_chunks) * obj, NULL, NULL),
				 (int)(n / n_chunks));
	assert_int_equal(mp->populated_size, n);
	return mp;
}

/* Hugepages with physical addresses: every page ends with a gap smaller
 * than an object. The PMD's UMEM (first chunk's page + populated_size *
 * object size) then misses the objects the gaps pushed past its end:
 * with 4 chunks and a gap of (object - 64) bytes after each, the last 3. */
static void
test_gaps_push_mbufs_out_of_the_umem(void **state)
{
	const unsigned int k = 16, chunks = 4;
	struct rte_mempool *mp;
	size_t obj, stride;
	char *mem;

	(void)state;
	obj = rte_mempool_calc_obj_size(
		sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE,
		RTE_MEMPOOL_F_NO_IOVA_CONTIG, NULL);
	stride = k * obj + (obj - 64);
	mem = rte_malloc(NULL, chunks * stride + obj, 4096);
	assert_non_null(mem);
	mp = pool_in_chunks("t_gaps", k * chunks, chunks, mem, stride);
	assert_int_equal(mp->nb_mem_chunks, chunks);
	assert_int_equal(gw_port_pool_outside_umem(mp), 3);
	rte_mempool_free(mp);

	/* no gaps: the same chunks back to back are all inside */
	mp = pool_in_chunks("t_nogaps", k * chunks, chunks, mem, k * obj);
	assert_int_equal(gw_port_pool_outside_umem(mp), 0);
	rte_mempool_free(mp);

	/* a second region far from the first: all of it outside */
	mp = pool_in_chunks("t_far", 2 * k, 2, mem, 3 * k * obj);
	assert_int_equal(gw_port_pool_outside_umem(mp), k);
	rte_mempool_free(mp);
	rte_free(mem);
}

/* The sockets that appeared since the previous ports claimed theirs are
 * the next port's; their counters read as zero on idle sockets. */
static void
test_xsk_claim_and_stats(void **state)
{
	struct gw_port ports[2];
	struct gw_port_xsk_stats s;
	int a1, a2, b1;

	(void)state;
	memset(ports, 0, sizeof(ports));
	assert_int_equal(gw_port_xsk_claim(&ports[0], ports, 0), 0);
	assert_int_equal(ports[0].n_xsk, 0);
	assert_int_equal(gw_port_xsk_stats(&ports[0], &s), -ENOTSUP);

	a1 = socket(AF_XDP, SOCK_RAW, 0);
	if (a1 < 0) {
		print_message("no AF_XDP sockets here (%s): skipped\n",
			      strerror(errno));
		skip();
	}
	a2 = socket(AF_XDP, SOCK_RAW, 0);
	assert_true(a2 >= 0);
	assert_int_equal(gw_port_xsk_claim(&ports[0], ports, 0), 0);
	assert_int_equal(ports[0].n_xsk, 2);
	b1 = socket(AF_XDP, SOCK_RAW, 0);
	assert_true(b1 >= 0);
	assert_int_equal(gw_port_xsk_claim(&ports[1], ports, 1), 0);
	assert_int_equal(ports[1].n_xsk, 1);
	assert_int_equal(ports[1].xsk_fds[0], b1);

	memset(&s, 0xff, sizeof(s));
	assert_int_equal(gw_port_xsk_stats(&ports[0], &s), 0);
	assert_int_equal(s.rx_dropped + s.rx_invalid_descs + s.tx_invalid_descs +
			 s.rx_ring_full + s.rx_fill_ring_empty, 0);
	/* a socket closed behind the port's back is an error, not zeros */
	close(b1);
	assert_true(gw_port_xsk_stats(&ports[1], &s) < 0);
	close(a1);
	close(a2);
}

int
main(int argc, char **argv)
{
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "256",
		"--log-level", "lib.*:error", "--file-prefix=test_port_pool",
		NULL,
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_af_xdp),
		cmocka_unit_test(test_vdev_pool_is_one_chunk),
		cmocka_unit_test(test_gaps_push_mbufs_out_of_the_umem),
		cmocka_unit_test(test_xsk_claim_and_stats),
	};

	RTE_SET_USED(argc);
	if (rte_eal_init((int)GW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
