/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_LB_H
#define GW_LB_H

/**
 * @file
 * Weighted choice, exact percentages and endpoint load balancers.
 *
 * Three independent tools, all free of allocation and locks on the fast
 * path:
 *
 * - **Weighted choice among route destinations**: smooth weighted round
 *   robin (nginx's algorithm), which holds a configured split exactly
 *   (80/20 is 4:1 in every window of 5), or weighted random like Envoy.
 * - **Exact percentage sampling** (mirrors, faults): an accumulator in
 *   parts per million, so 25% selects exactly one request in four.
 * - **Endpoint choice within a set** (`struct gw_lb_set`, immutable, built
 *   on the control lcore): ROUND_ROBIN (weighted), LEAST_REQUEST (two
 *   random choices), RANDOM (weighted), MAGLEV and RING_HASH consistent
 *   hashing, skipping unhealthy endpoints.
 *
 * Ownership: immutable data (weights, sets) may be shared by every worker;
 * the mutable state (SWRR counters, accumulators, cursors, PRNG) is a small
 * caller-owned struct per worker, so that a worker writes only its own
 * cache lines. No EAL needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------- */
/* Per-worker pseudo random numbers                                        */
/* ---------------------------------------------------------------------- */

/** splitmix64 generator: one 64-bit word of state, owned by one worker. */
struct gw_lb_rng {
	uint64_t state;
};

/**
 * Seed @p rng for worker @p worker. Different workers get unrelated
 * sequences from the same @p seed.
 */
static inline void
gw_lb_rng_seed(struct gw_lb_rng *rng, uint64_t seed, unsigned int worker)
{
	rng->state = seed ^ ((uint64_t)(worker + 1) * 0xd1342543de82ef95ULL);
}

/** Next 64 random bits. */
static inline uint64_t
gw_lb_rng_next(struct gw_lb_rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/** Uniform value in [0, @p bound) (multiply-shift; bias < 2^-32). 0 when bound is 0. */
static inline uint32_t
gw_lb_rng_below(struct gw_lb_rng *rng, uint32_t bound)
{
	return (uint32_t)(((gw_lb_rng_next(rng) >> 32) * (uint64_t)bound) >> 32);
}

/* ---------------------------------------------------------------------- */
/* Weighted choice among a few destinations                                */
/* ---------------------------------------------------------------------- */

/** How a route chooses among its weighted destinations. */
enum gw_lb_weighted_mode {
	GW_LB_WEIGHTED_SMOOTH = 0, /**< smooth weighted round robin: exact splits */
	GW_LB_WEIGHTED_RANDOM,     /**< weighted random, as Envoy does */
};

/**
 * Smooth weighted round robin (nginx): every pick adds each weight to its
 * counter, takes the largest counter and subtracts the total from it. The
 * sequence interleaves as evenly as possible (80/20 gives A A B A A ...),
 * and a weight of 0 is never chosen.
 *
 * @param weights  @p n immutable weights
 * @param current  @p n counters owned by the calling worker, zeroed at start
 * @return index chosen, or -1 when every weight is 0. O(n); meant for a
 *         route's handful of destinations.
 */
static inline int
gw_lb_swrr_pick(const uint32_t *weights, int64_t *current, unsigned int n)
{
	int64_t total = 0;
	int best = -1;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (weights[i] == 0)
			continue;
		current[i] += weights[i];
		total += weights[i];
		if (best < 0 || current[i] > current[best])
			best = (int)i;
	}
	if (best >= 0)
		current[best] -= total;
	return best;
}

/**
 * Weighted random choice. Returns an index with probability weight/total,
 * or -1 when every weight is 0.
 */
static inline int
gw_lb_weighted_random_pick(const uint32_t *weights, unsigned int n,
			   struct gw_lb_rng *rng)
{
	uint64_t total = 0, r;
	unsigned int i;

	for (i = 0; i < n; i++)
		total += weights[i];
	if (total == 0)
		return -1;
	r = gw_lb_rng_next(rng) % total;
	for (i = 0; i < n; i++) {
		if (r < weights[i])
			return (int)i;
		r -= weights[i];
	}
	return -1; /* not reached */
}

/* ---------------------------------------------------------------------- */
/* Exact percentages                                                       */
/* ---------------------------------------------------------------------- */

/** 100% in parts per million. */
#define GW_LB_PPM_ALL 1000000u

/**
 * Convert a percentage (Istio's `mirrorPercentage.value`, a double in
 * [0, 100]) to parts per million, rounded to nearest, clamped.
 */
uint32_t gw_lb_ppm_from_percent(double percent);

/**
 * Exact sampler (a Bresenham accumulator): returns true for exactly
 * @p ppm out of every 1,000,000 calls, spread evenly: 25% is true on the
 * 4th, 8th, 12th ... call; 100% always; 0% never.
 *
 * @param acc  accumulator owned by the calling worker, zero at start
 */
static inline bool
gw_lb_percent_sample(uint32_t ppm, uint32_t *acc)
{
	if (ppm >= GW_LB_PPM_ALL)
		return true;
	*acc += ppm;
	if (*acc >= GW_LB_PPM_ALL) {
		*acc -= GW_LB_PPM_ALL;
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* Hashing                                                                 */
/* ---------------------------------------------------------------------- */

/**
 * 64-bit hash of @p len bytes (a header value, cookie, source address,
 * query parameter, endpoint identity). Fast, well mixed, the same on every
 * run and every worker; not cryptographic.
 */
uint64_t gw_lb_hash64(const void *data, size_t len, uint64_t seed);

/* ---------------------------------------------------------------------- */
/* Endpoint load balancing                                                 */
/* ---------------------------------------------------------------------- */

/** Endpoint load balancing algorithms (DestinationRule `loadBalancer`). */
enum gw_lb_algorithm {
	GW_LB_ROUND_ROBIN = 0, /**< weighted smooth round robin (also the default) */
	GW_LB_LEAST_REQUEST,   /**< power of two random choices on active requests */
	GW_LB_RANDOM,          /**< weighted random */
	GW_LB_MAGLEV,          /**< Maglev consistent hash */
	GW_LB_RING_HASH,       /**< Ketama-style ring hash */
};

/** Default Maglev table size (a prime, as the algorithm needs). */
#define GW_LB_MAGLEV_DEFAULT_SIZE 65537u
/** Largest Maglev table accepted (Envoy's limit). */
#define GW_LB_MAGLEV_MAX_SIZE 5000011u
/** Default and maximum ring size of RING_HASH (Envoy's defaults). */
#define GW_LB_RING_DEFAULT_MIN 1024u
#define GW_LB_RING_DEFAULT_MAX 8388608u

/** How a set is built; zero fields take the defaults. */
struct gw_lb_params {
	enum gw_lb_algorithm policy;
	uint32_t maglev_table_size; /**< prime; 0 → 65537 */
	uint32_t ring_min_size;     /**< RING_HASH minimumRingSize; 0 → 1024 */
	uint32_t ring_max_size;     /**< RING_HASH maximumRingSize; 0 → 8M */
};

/** One endpoint as the set builder sees it. */
struct gw_lb_endpoint {
	/**
	 * Stable identity (e.g. gw_lb_hash64 of "ip:port"). Consistent hash
	 * placement depends only on it, so adding or removing one endpoint
	 * moves only that endpoint's share.
	 */
	uint64_t key;
	uint32_t weight; /**< relative weight; 0 is treated as 1 (Istio's default) */
};

/** An immutable endpoint set with its balancer tables. */
struct gw_lb_set;

/**
 * Per-worker mutable state of one set: a cursor and, for weighted round
 * robin, one counter per endpoint. Allocate gw_lb_set_state_size() bytes
 * (8-byte aligned) per worker and initialise with gw_lb_state_init().
 */
struct gw_lb_state {
	uint64_t cursor;
	int64_t current[];
};

/**
 * Build a set of @p n endpoints (n may be 0: every pick then fails).
 * The set copies what it needs from @p eps.
 *
 * @return the set, or NULL with a message in @p err (bad table size, not a
 *         prime, too many endpoints, out of memory).
 */
struct gw_lb_set *gw_lb_set_create(const struct gw_lb_params *params,
				   const struct gw_lb_endpoint *eps,
				   uint32_t n, char *err, size_t errlen);

/** Free a set (NULL is fine). */
void gw_lb_set_free(struct gw_lb_set *set);

/** Number of endpoints in the set. */
uint32_t gw_lb_set_count(const struct gw_lb_set *set);

/** Algorithm the set was built with. */
enum gw_lb_algorithm gw_lb_set_algorithm(const struct gw_lb_set *set);

/** Bytes the set owns (tables included), for memory reports. */
size_t gw_lb_set_memory(const struct gw_lb_set *set);

/** Bytes of a `struct gw_lb_state` for this set. */
size_t gw_lb_set_state_size(const struct gw_lb_set *set);

/**
 * Initialise a worker's state. @p seed spreads workers' round robin
 * starting points so that they do not all begin with endpoint 0.
 */
void gw_lb_state_init(const struct gw_lb_set *set, struct gw_lb_state *state,
		      uint64_t seed);

/** Is endpoint @p i healthy in bitmap @p healthy (NULL: all healthy)? */
static inline bool
gw_lb_healthy(const uint64_t *healthy, uint32_t i)
{
	return healthy == NULL || (healthy[i >> 6] >> (i & 63)) & 1;
}

/**
 * Choose an endpoint.
 *
 * @param state    the calling worker's state for this set
 * @param rng      the calling worker's generator
 * @param hash     request hash for MAGLEV and RING_HASH (ignored otherwise);
 *                 a caller whose request lacks the hash key passes
 *                 gw_lb_rng_next(rng), which makes the choice random as in
 *                 Envoy
 * @param healthy  bitmap, bit i set when endpoint i may be used; NULL when
 *                 all are healthy
 * @param active   active request count per endpoint for LEAST_REQUEST;
 *                 NULL counts as all zero
 * @return endpoint index, or -1 when no endpoint is healthy.
 */
int gw_lb_set_pick(const struct gw_lb_set *set, struct gw_lb_state *state,
		   struct gw_lb_rng *rng, uint64_t hash,
		   const uint64_t *healthy, const uint32_t *active);

/**
 * The Maglev lookup table of a MAGLEV set (endpoint index per entry), for
 * inspection and tests. NULL for other policies.
 */
const uint32_t *gw_lb_set_maglev_table(const struct gw_lb_set *set,
				       uint32_t *size);

/** Name of an algorithm as a DestinationRule spells it ("ROUND_ROBIN", ...). */
const char *gw_lb_algorithm_name(enum gw_lb_algorithm policy);

#endif /* GW_LB_H */
