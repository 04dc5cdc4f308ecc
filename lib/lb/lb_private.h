/* SPDX-License-Identifier: Apache-2.0 */
#ifndef LB_PRIVATE_H
#define LB_PRIVATE_H

/* Internals of struct gw_lb_set, shared by the lb_*.c files. */

#include <stdint.h>

#include "gw_lb.h"

/* One point of a hash ring: the ring is sorted by hash. */
struct lb_ring_point {
	uint64_t hash;
	uint32_t endpoint;
};

struct gw_lb_set {
	enum gw_lb_algorithm policy;
	uint32_t n;
	uint32_t max_weight;
	/* all weights equal: round robin and random skip the weighted paths */
	int uniform;
	uint64_t total_weight;
	uint32_t *weights;          /* n */
	uint64_t *cumulative;       /* n, prefix sums for weighted random */
	uint32_t *maglev;           /* maglev_size entries, MAGLEV only */
	uint32_t maglev_size;
	struct lb_ring_point *ring; /* ring_size points, RING_HASH only */
	uint32_t ring_size;
	size_t memory;
};

/* Fill set->maglev (set->n > 0); 0 or a negative errno. */
int lb_maglev_build(struct gw_lb_set *set, const struct gw_lb_endpoint *eps,
		    uint32_t table_size, char *err, size_t errlen);
int lb_maglev_pick(const struct gw_lb_set *set, uint64_t hash,
		   const uint64_t *healthy);

/* Fill set->ring (set->n > 0); 0 or a negative errno. */
int lb_ring_build(struct gw_lb_set *set, const struct gw_lb_endpoint *eps,
		  uint32_t min_size, uint32_t max_size, char *err, size_t errlen);
int lb_ring_pick(const struct gw_lb_set *set, uint64_t hash,
		 const uint64_t *healthy);

/* Any healthy endpoint at all? O(n/64). */
int lb_any_healthy(const struct gw_lb_set *set, const uint64_t *healthy);

/* Mix two 64-bit words (used to derive per-endpoint hashes). */
static inline uint64_t
lb_mix64(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)(a ^ 0xa0761d6478bd642fULL) *
			(b ^ 0xe7037ed1a0b428dbULL);

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#endif /* LB_PRIVATE_H */
