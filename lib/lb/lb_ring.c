/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ring hash (Ketama style, Envoy's RING_HASH): each endpoint places points
 * on a 64-bit ring in proportion to its weight; a request takes the first
 * point at or after its hash. Only the key decides where an endpoint's
 * points land, so membership changes move only that endpoint's arcs.
 */
#include <errno.h>
#include <stdlib.h>

#include "gw_common.h"
#include "gw_lb.h"
#include "lb_private.h"

static int
point_cmp(const void *a, const void *b)
{
	const struct lb_ring_point *pa = a, *pb = b;

	if (pa->hash != pb->hash)
		return pa->hash < pb->hash ? -1 : 1;
	return pa->endpoint < pb->endpoint ? -1 : pa->endpoint > pb->endpoint;
}

int
lb_ring_build(struct gw_lb_set *set, const struct gw_lb_endpoint *eps,
	      uint32_t min_size, uint32_t max_size, char *err, size_t errlen)
{
	uint64_t target = min_size, total = 0, per_weight;
	struct lb_ring_point *ring;
	uint64_t *count;
	uint32_t i, j, k = 0;

	if (min_size > max_size)
		return gw_err(err, errlen,
			      "ring hash minimumRingSize %u exceeds maximumRingSize %u",
			      min_size, max_size);
	if (set->n > max_size)
		return gw_err(err, errlen,
			      "ring hash maximumRingSize %u is below the %u endpoints",
			      max_size, set->n);
	if (target < set->n)
		target = set->n;
	count = malloc(set->n * sizeof(*count));
	if (count == NULL)
		return gw_err(err, errlen, "out of memory for a hash ring");
	/*
	 * Points per unit of weight, rounded up to a power of two: the ring
	 * is then at least target points (at most twice that), and removing
	 * or adding an endpoint usually leaves every other endpoint's point
	 * count, hence its arcs, unchanged; only the leaving endpoint's keys
	 * move.
	 */
	per_weight = (target + set->total_weight - 1) / set->total_weight;
	while (per_weight & (per_weight - 1))
		per_weight += per_weight & -per_weight;
	for (i = 0; i < set->n; i++) {
		count[i] = per_weight * set->weights[i];
		total += count[i];
	}
	if (total > max_size) {
		/*
		 * Over the maximum: give each endpoint one point plus its
		 * floored share of the rest, which sums to at most max_size.
		 */
		for (total = 0, i = 0; i < set->n; i++) {
			count[i] = 1 + (uint64_t)(max_size - set->n) *
				   set->weights[i] / set->total_weight;
			total += count[i];
		}
	}
	ring = malloc(total * sizeof(*ring));
	if (ring == NULL) {
		free(count);
		return gw_err(err, errlen, "out of memory for a hash ring of %lu points",
			      (unsigned long)total);
	}
	for (i = 0; i < set->n; i++)
		for (j = 0; j < count[i]; j++) {
			ring[k].hash = lb_mix64(eps[i].key, (uint64_t)j + 1);
			ring[k].endpoint = i;
			k++;
		}
	free(count);
	qsort(ring, k, sizeof(*ring), point_cmp);
	set->ring = ring;
	set->ring_size = k;
	set->memory += (size_t)k * sizeof(*ring);
	return 0;
}

int
lb_ring_pick(const struct gw_lb_set *set, uint64_t hash,
	     const uint64_t *healthy)
{
	uint32_t lo = 0, hi = set->ring_size, i, ep;

	/* first point with point.hash >= hash, wrapping to the start */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (set->ring[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == set->ring_size)
		lo = 0;
	ep = set->ring[lo].endpoint;
	if (GW_LIKELY(gw_lb_healthy(healthy, ep)))
		return (int)ep;
	if (!lb_any_healthy(set, healthy))
		return -1;
	/* owner down: the next healthy point clockwise, as Envoy does */
	for (i = 1; i < set->ring_size; i++) {
		lo = lo + 1 == set->ring_size ? 0 : lo + 1;
		ep = set->ring[lo].endpoint;
		if (gw_lb_healthy(healthy, ep))
			return (int)ep;
	}
	return -1;
}
