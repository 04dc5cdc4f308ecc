/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/port's RSS prediction: the Toeplitz hash against the
 * verification suite of Microsoft's RSS specification, the round-robin
 * redirection table, and the property the TCP stack relies on: a source
 * port chosen so that the reply 4-tuple hashes to a worker's queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "gw_port.h"

/* The key of the RSS specification's verification suite. */
static const uint8_t ms_key[GW_PORT_RSS_KEY_LEN] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
	0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
	0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
	0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			 (uint32_t)(c) << 8 | (uint32_t)(d))

/* Its IPv4-with-TCP vectors: source, destination, expected hash. */
static const struct {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t hash;
} ms_vectors[] = {
	{ IP4(66, 9, 149, 187), IP4(161, 142, 100, 80), 2794, 1766, 0x51ccc178 },
	{ IP4(199, 92, 111, 2), IP4(65, 69, 140, 83), 14230, 4739, 0xc626b0ea },
	{ IP4(24, 19, 198, 95), IP4(12, 22, 207, 184), 12898, 38024, 0x5c2b394a },
	{ IP4(38, 27, 205, 30), IP4(209, 142, 163, 6), 48228, 2217, 0xafc7327f },
	{ IP4(153, 39, 163, 191), IP4(202, 188, 127, 2), 44251, 1303, 0x10e828a2 },
};

static void
test_toeplitz_vectors(void **unused)
{
	struct gw_port_rss rss;

	(void)unused;
	/* 512 entries over 512 queues: the queue is the hash's low 9 bits. */
	assert_int_equal(gw_port_rss_init(&rss, ms_key, 512, 512), 0);
	for (size_t i = 0; i < sizeof(ms_vectors) / sizeof(ms_vectors[0]); i++)
		assert_int_equal(gw_port_rss_queue(&rss, ms_vectors[i].src,
						   ms_vectors[i].dst,
						   ms_vectors[i].sport,
						   ms_vectors[i].dport),
				 ms_vectors[i].hash % 512);
}

static void
test_reta_round_robin(void **unused)
{
	struct gw_port_rss rss;

	(void)unused;
	assert_int_equal(gw_port_rss_init(&rss, ms_key, 128, 3), 0);
	assert_true(rss.enabled);
	for (uint16_t i = 0; i < 128; i++)
		assert_int_equal(rss.reta[i], i % 3);
	assert_int_equal(gw_port_rss_init(&rss, ms_key, 0, 2), -EINVAL);
	assert_false(rss.enabled);
	assert_int_equal(gw_port_rss_init(&rss, ms_key, GW_PORT_RETA_MAX + 1, 2),
			 -EINVAL);
	assert_int_equal(gw_port_rss_init(&rss, ms_key, 64, 0), -EINVAL);
}

/* What the dataplane's source-port choice relies on: for a backend
 * 10.10.2.11:80 and our address 10.10.2.1, each of two workers finds
 * plenty of ephemeral ports whose replies hash to its own queue, and the
 * prediction is a pure function of the tuple. */
static void
test_source_ports_per_queue(void **unused)
{
	const uint32_t ours = IP4(10, 10, 2, 1), backend = IP4(10, 10, 2, 11);
	unsigned int per_queue[2] = { 0, 0 };
	struct gw_port_rss rss;

	(void)unused;
	assert_int_equal(gw_port_rss_init(&rss, ms_key, 128, 2), 0);
	for (uint32_t port = 32768; port < 32768 + 4096; port++) {
		uint16_t q = gw_port_rss_queue(&rss, backend, ours, 80,
					       (uint16_t)port);

		assert_true(q < 2);
		assert_int_equal(gw_port_rss_queue(&rss, backend, ours, 80,
						   (uint16_t)port), q);
		per_queue[q]++;
	}
	assert_true(per_queue[0] > 1500);
	assert_true(per_queue[1] > 1500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toeplitz_vectors),
		cmocka_unit_test(test_reta_round_robin),
		cmocka_unit_test(test_source_ports_per_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
