/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoint sets: construction and the per-request pick for every policy.
 * Consistent hash tables live in lb_maglev.c and lb_ring.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_lb.h"
#include "lb_private.h"

/* Random probes before LEAST_REQUEST and RANDOM fall back to a scan. */
#define LB_RANDOM_TRIES 4

uint32_t
gw_lb_ppm_from_percent(double percent)
{
	if (!(percent > 0.0)) /* also catches NaN */
		return 0;
	if (percent >= 100.0)
		return GW_LB_PPM_ALL;
	return (uint32_t)(percent * 10000.0 + 0.5);
}

const char *
gw_lb_algorithm_name(enum gw_lb_algorithm policy)
{
	switch (policy) {
	case GW_LB_ROUND_ROBIN:   return "ROUND_ROBIN";
	case GW_LB_LEAST_REQUEST: return "LEAST_REQUEST";
	case GW_LB_RANDOM:        return "RANDOM";
	case GW_LB_MAGLEV:        return "MAGLEV";
	case GW_LB_RING_HASH:     return "RING_HASH";
	}
	return "?";
}

struct gw_lb_set *
gw_lb_set_create(const struct gw_lb_params *params,
		 const struct gw_lb_endpoint *eps, uint32_t n,
		 char *err, size_t errlen)
{
	struct gw_lb_set *set;
	uint64_t sum = 0;
	uint32_t i;
	int rc = 0;

	if (params->policy > GW_LB_RING_HASH) {
		gw_err(err, errlen, "unknown load balancer policy %d",
		       (int)params->policy);
		return NULL;
	}
	set = calloc(1, sizeof(*set));
	if (set == NULL)
		goto nomem;
	set->policy = params->policy;
	set->n = n;
	set->uniform = 1;
	set->memory = sizeof(*set);
	if (n == 0)
		return set;

	set->weights = malloc(n * sizeof(*set->weights));
	set->cumulative = malloc(n * sizeof(*set->cumulative));
	if (set->weights == NULL || set->cumulative == NULL)
		goto nomem;
	set->memory += n * (sizeof(*set->weights) + sizeof(*set->cumulative));
	for (i = 0; i < n; i++) {
		/* Istio: an endpoint without a weight has weight 1 */
		uint32_t w = eps[i].weight ? eps[i].weight : 1;

		set->weights[i] = w;
		sum += w;
		set->cumulative[i] = sum;
		if (w > set->max_weight)
			set->max_weight = w;
		if (w != set->weights[0])
			set->uniform = 0;
	}
	set->total_weight = sum;

	if (set->policy == GW_LB_MAGLEV)
		rc = lb_maglev_build(set, eps, params->maglev_table_size ?
				     params->maglev_table_size :
				     GW_LB_MAGLEV_DEFAULT_SIZE, err, errlen);
	else if (set->policy == GW_LB_RING_HASH)
		rc = lb_ring_build(set, eps,
				   params->ring_min_size ? params->ring_min_size :
				   GW_LB_RING_DEFAULT_MIN,
				   params->ring_max_size ? params->ring_max_size :
				   GW_LB_RING_DEFAULT_MAX, err, errlen);
	if (rc < 0) {
		gw_lb_set_free(set);
		return NULL;
	}
	return set;

nomem:
	gw_err(err, errlen, "out of memory building a load balancer of %u endpoints", n);
	gw_lb_set_free(set);
	return NULL;
}

void
gw_lb_set_free(struct gw_lb_set *set)
{
	if (set == NULL)
		return;
	free(set->weights);
	free(set->cumulative);
	free(set->maglev);
	free(set->ring);
	free(set);
}

uint32_t
gw_lb_set_count(const struct gw_lb_set *set)
{
	return set->n;
}

enum gw_lb_algorithm
gw_lb_set_algorithm(const struct gw_lb_set *set)
{
	return set->policy;
}

size_t
gw_lb_set_memory(const struct gw_lb_set *set)
{
	return set->memory;
}

const uint32_t *
gw_lb_set_maglev_table(const struct gw_lb_set *set, uint32_t *size)
{
	if (size != NULL)
		*size = set->maglev_size;
	return set->maglev;
}

size_t
gw_lb_set_state_size(const struct gw_lb_set *set)
{
	size_t sz = sizeof(struct gw_lb_state);

	/* only weighted round robin keeps per-endpoint counters */
	if (set->policy == GW_LB_ROUND_ROBIN && !set->uniform)
		sz += set->n * sizeof(int64_t);
	return sz;
}

void
gw_lb_state_init(const struct gw_lb_set *set, struct gw_lb_state *state,
		 uint64_t seed)
{
	memset(state, 0, gw_lb_set_state_size(set));
	if (set->n > 0)
		state->cursor = seed % set->n;
}

int
lb_any_healthy(const struct gw_lb_set *set, const uint64_t *healthy)
{
	uint32_t words = (set->n + 63) / 64, w;

	if (healthy == NULL)
		return set->n > 0;
	for (w = 0; w + 1 < words; w++)
		if (healthy[w] != 0)
			return 1;
	if (words > 0) {
		uint32_t rest = set->n - (words - 1) * 64;
		uint64_t mask = rest == 64 ? ~0ULL : (1ULL << rest) - 1;

		if (healthy[words - 1] & mask)
			return 1;
	}
	return 0;
}

/* Next healthy endpoint at or after @p start, wrapping; -1 when none. */
static int
next_healthy(const struct gw_lb_set *set, uint32_t start,
	     const uint64_t *healthy)
{
	uint32_t i, idx;

	for (i = 0; i < set->n; i++) {
		idx = start + i;
		if (idx >= set->n)
			idx -= set->n;
		if (gw_lb_healthy(healthy, idx))
			return (int)idx;
	}
	return -1;
}

static int
pick_round_robin(const struct gw_lb_set *set, struct gw_lb_state *state,
		 const uint64_t *healthy)
{
	int64_t total = 0;
	int best = -1;
	uint32_t i;
	int idx;

	if (set->uniform) {
		idx = next_healthy(set, (uint32_t)(state->cursor % set->n), healthy);
		if (idx >= 0)
			state->cursor = (uint32_t)idx + 1 == set->n ? 0 : (uint32_t)idx + 1;
		return idx;
	}
	/* smooth weighted round robin over the healthy endpoints only */
	for (i = 0; i < set->n; i++) {
		if (!gw_lb_healthy(healthy, i))
			continue;
		state->current[i] += set->weights[i];
		total += set->weights[i];
		if (best < 0 || state->current[i] > state->current[best])
			best = (int)i;
	}
	if (best >= 0)
		state->current[best] -= total;
	return best;
}

/* Weighted random over all endpoints by binary search on prefix sums. */
static uint32_t
weighted_index(const struct gw_lb_set *set, struct gw_lb_rng *rng)
{
	uint64_t r = gw_lb_rng_next(rng) % set->total_weight;
	uint32_t lo = 0, hi = set->n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r < set->cumulative[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int
pick_random(const struct gw_lb_set *set, struct gw_lb_rng *rng,
	    const uint64_t *healthy)
{
	uint64_t total = 0, r;
	uint32_t i, idx;
	int t;

	for (t = 0; t < LB_RANDOM_TRIES; t++) {
		idx = set->uniform ? gw_lb_rng_below(rng, set->n) :
				     weighted_index(set, rng);
		if (gw_lb_healthy(healthy, idx))
			return (int)idx;
	}
	/* many unhealthy: weighted choice among the healthy ones only */
	for (i = 0; i < set->n; i++)
		if (gw_lb_healthy(healthy, i))
			total += set->weights[i];
	if (total == 0)
		return -1;
	r = gw_lb_rng_next(rng) % total;
	for (i = 0; i < set->n; i++) {
		if (!gw_lb_healthy(healthy, i))
			continue;
		if (r < set->weights[i])
			return (int)i;
		r -= set->weights[i];
	}
	return -1;
}

/*
 * Power of two choices: draw two endpoints, keep the one with fewer
 * active requests relative to its weight. Compares (active+1)/weight by
 * cross-multiplying so that no division is needed.
 */
static int
pick_least_request(const struct gw_lb_set *set, struct gw_lb_rng *rng,
		   const uint64_t *healthy, const uint32_t *active)
{
	int a, b;
	uint64_t load_a, load_b;

	a = pick_random(set, rng, healthy);
	if (a < 0)
		return -1;
	b = pick_random(set, rng, healthy);
	if (b < 0 || a == b || active == NULL)
		return a;
	load_a = ((uint64_t)active[a] + 1) * set->weights[b];
	load_b = ((uint64_t)active[b] + 1) * set->weights[a];
	return load_b < load_a ? b : a;
}

int
gw_lb_set_pick(const struct gw_lb_set *set, struct gw_lb_state *state,
	       struct gw_lb_rng *rng, uint64_t hash,
	       const uint64_t *healthy, const uint32_t *active)
{
	if (set->n == 0)
		return -1;
	switch (set->policy) {
	case GW_LB_ROUND_ROBIN:
		return pick_round_robin(set, state, healthy);
	case GW_LB_LEAST_REQUEST:
		return pick_least_request(set, rng, healthy, active);
	case GW_LB_RANDOM:
		return pick_random(set, rng, healthy);
	case GW_LB_MAGLEV:
		return lb_maglev_pick(set, hash, healthy);
	case GW_LB_RING_HASH:
		return lb_ring_pick(set, hash, healthy);
	}
	return -1;
}
