/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted the way
 * Envoy does it: in every round an endpoint claims its next preferred free
 * slot only when its share of rounds (weight / max weight) says so. The
 * preference list of an endpoint depends only on its key, which is what
 * keeps disruption close to 1/N when one endpoint leaves.
 */
#include <errno.h>
#include <stdlib.h>

#include "gw_common.h"
#include "gw_lb.h"
#include "lb_private.h"

#define MAGLEV_EMPTY UINT32_MAX

static int
is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return 0;
	if (n % 2 == 0)
		return n == 2;
	for (d = 3; (uint64_t)d * d <= n; d += 2)
		if (n % d == 0)
			return 0;
	return 1;
}

struct maglev_build_entry {
	uint64_t offset;
	uint64_t skip;
	uint64_t next;   /* position in this endpoint's preference list */
	uint64_t target; /* claim a slot once round * weight reaches this */
};

int
lb_maglev_build(struct gw_lb_set *set, const struct gw_lb_endpoint *eps,
		uint32_t size, char *err, size_t errlen)
{
	struct maglev_build_entry *e;
	uint32_t *table;
	uint64_t filled = 0, round, c;
	uint32_t i;

	if (size > GW_LB_MAGLEV_MAX_SIZE || !is_prime(size) || size < 3)
		return gw_err(err, errlen,
			      "maglev tableSize %u must be a prime between 3 and %u",
			      size, GW_LB_MAGLEV_MAX_SIZE);
	if (set->n > size)
		return gw_err(err, errlen,
			      "maglev tableSize %u is smaller than the %u endpoints",
			      size, set->n);
	table = malloc((size_t)size * sizeof(*table));
	e = calloc(set->n, sizeof(*e));
	if (table == NULL || e == NULL) {
		free(table);
		free(e);
		return gw_err(err, errlen, "out of memory for a maglev table of %u",
			      size);
	}
	for (c = 0; c < size; c++)
		table[c] = MAGLEV_EMPTY;
	for (i = 0; i < set->n; i++) {
		e[i].offset = lb_mix64(eps[i].key, 0x6d61676c65764f46ULL) % size;
		e[i].skip = lb_mix64(eps[i].key, 0x6d61676c65765350ULL) % (size - 1) + 1;
		e[i].target = set->max_weight;
	}
	for (round = 1; filled < size; round++) {
		for (i = 0; i < set->n && filled < size; i++) {
			if (round * set->weights[i] < e[i].target)
				continue;
			e[i].target += set->max_weight;
			/*
			 * size is prime and skip in [1, size-1], so the list
			 * visits every slot: a free one is found within size
			 * steps.
			 */
			do {
				c = (e[i].offset + e[i].next * e[i].skip) % size;
				e[i].next++;
			} while (table[c] != MAGLEV_EMPTY);
			table[c] = i;
			filled++;
		}
	}
	free(e);
	set->maglev = table;
	set->maglev_size = size;
	set->memory += (size_t)size * sizeof(*table);
	return 0;
}

int
lb_maglev_pick(const struct gw_lb_set *set, uint64_t hash,
	       const uint64_t *healthy)
{
	uint32_t idx = (uint32_t)(hash % set->maglev_size);
	uint32_t i, ep;

	ep = set->maglev[idx];
	if (GW_LIKELY(gw_lb_healthy(healthy, ep)))
		return (int)ep;
	if (!lb_any_healthy(set, healthy))
		return -1;
	/*
	 * The owner is down: walk on in the table. Neighbouring slots belong
	 * to unrelated endpoints, so a dead endpoint's keys spread over the
	 * others, and the walk is the same for the same key.
	 */
	for (i = 1; i < set->maglev_size; i++) {
		idx = idx + 1 == set->maglev_size ? 0 : idx + 1;
		ep = set->maglev[idx];
		if (gw_lb_healthy(healthy, ep))
			return (int)ep;
	}
	return -1;
}
