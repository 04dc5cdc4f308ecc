/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/lb: exact weighted splits, exact percentages, endpoint
 * balancers (round robin, least request, random, Maglev, ring hash) and
 * their handling of unhealthy endpoints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_common.h"
#include "gw_lb.h"

/* ---- weighted choice among destinations ---- */

static void
test_swrr_80_20_every_window(void **unused)
{
	const uint32_t w[2] = {80, 20};
	int64_t cur[2] = {0, 0};
	int seq[1000];
	unsigned int count[2] = {0, 0};
	int i, j;

	(void)unused;
	for (i = 0; i < 1000; i++) {
		seq[i] = gw_lb_swrr_pick(w, cur, 2);
		assert_true(seq[i] == 0 || seq[i] == 1);
		count[seq[i]]++;
	}
	assert_int_equal(count[0], 800);
	assert_int_equal(count[1], 200);
	/* every window of 5 consecutive picks, at any offset, is 4:1 */
	for (i = 0; i + 5 <= 1000; i++) {
		int b = 0;

		for (j = i; j < i + 5; j++)
			b += seq[j];
		assert_int_equal(b, 1);
	}
}

static void
test_swrr_weight_zero_never(void **unused)
{
	const uint32_t w[3] = {0, 50, 50};
	const uint32_t none[2] = {0, 0};
	int64_t cur[3] = {0, 0, 0};
	unsigned int count[3] = {0, 0, 0};
	int i, k;

	(void)unused;
	for (i = 0; i < 1000; i++) {
		k = gw_lb_swrr_pick(w, cur, 3);
		assert_true(k >= 0 && k < 3);
		count[k]++;
	}
	assert_int_equal(count[0], 0);
	assert_int_equal(count[1], 500);
	assert_int_equal(count[2], 500);
	assert_int_equal(gw_lb_swrr_pick(none, cur, 2), -1);
	assert_int_equal(gw_lb_swrr_pick(w, cur, 0), -1);
}

static void
test_swrr_three_way(void **unused)
{
	const uint32_t w[3] = {50, 30, 20};
	int64_t cur[3] = {0, 0, 0};
	int period, i;

	(void)unused;
	/* 5:3:2 holds exactly in each period of 10 */
	for (period = 0; period < 100; period++) {
		unsigned int count[3] = {0, 0, 0};

		for (i = 0; i < 10; i++)
			count[gw_lb_swrr_pick(w, cur, 3)]++;
		assert_int_equal(count[0], 5);
		assert_int_equal(count[1], 3);
		assert_int_equal(count[2], 2);
	}
}

static void
test_weighted_random(void **unused)
{
	const uint32_t w[3] = {80, 0, 20};
	const uint32_t none[2] = {0, 0};
	unsigned int count[3] = {0, 0, 0};
	struct gw_lb_rng rng;
	int i;

	(void)unused;
	gw_lb_rng_seed(&rng, 42, 0);
	for (i = 0; i < 100000; i++)
		count[gw_lb_weighted_random_pick(w, 3, &rng)]++;
	assert_int_equal(count[1], 0);
	assert_in_range(count[0], 79000, 81000);
	assert_in_range(count[2], 19000, 21000);
	assert_int_equal(gw_lb_weighted_random_pick(none, 2, &rng), -1);
}

static void
test_rng_workers_differ(void **unused)
{
	struct gw_lb_rng a, b;
	unsigned int i, below[10] = {0};

	(void)unused;
	gw_lb_rng_seed(&a, 7, 0);
	gw_lb_rng_seed(&b, 7, 1);
	assert_true(gw_lb_rng_next(&a) != gw_lb_rng_next(&b));
	for (i = 0; i < 100000; i++)
		below[gw_lb_rng_below(&a, 10)]++;
	for (i = 0; i < 10; i++)
		assert_in_range(below[i], 9500, 10500);
	assert_int_equal(gw_lb_rng_below(&a, 0), 0);
}

/* ---- exact percentages ---- */

static void
test_percent_25_exact(void **unused)
{
	uint32_t acc = 0, ppm = gw_lb_ppm_from_percent(25.0);
	int i, hits = 0;

	(void)unused;
	assert_int_equal(ppm, 250000);
	for (i = 1; i <= 1000; i++) {
		bool s = gw_lb_percent_sample(ppm, &acc);

		/* exactly one in four: the 4th, 8th, 12th ... */
		assert_int_equal(s, i % 4 == 0);
		hits += s;
	}
	assert_int_equal(hits, 250);
}

static void
test_percent_0_and_100(void **unused)
{
	uint32_t acc0 = 0, acc100 = 0;
	int i;

	(void)unused;
	assert_int_equal(gw_lb_ppm_from_percent(0.0), 0);
	assert_int_equal(gw_lb_ppm_from_percent(-3.0), 0);
	assert_int_equal(gw_lb_ppm_from_percent(100.0), GW_LB_PPM_ALL);
	assert_int_equal(gw_lb_ppm_from_percent(250.0), GW_LB_PPM_ALL);
	assert_int_equal(gw_lb_ppm_from_percent(0.5), 5000);
	for (i = 0; i < 10000; i++) {
		assert_false(gw_lb_percent_sample(0, &acc0));
		assert_true(gw_lb_percent_sample(GW_LB_PPM_ALL, &acc100));
	}
}

static void
test_percent_fractional(void **unused)
{
	uint32_t acc = 0, ppm = gw_lb_ppm_from_percent(0.1);
	int i, hits = 0;

	(void)unused;
	for (i = 0; i < 1000000; i++)
		hits += gw_lb_percent_sample(ppm, &acc);
	assert_int_equal(hits, 1000);
}

/* ---- hash ---- */

static void
test_hash64(void **unused)
{
	char buf[64];
	uint64_t h[64];
	size_t len, k;

	(void)unused;
	memset(buf, 'a', sizeof(buf));
	for (len = 0; len < 64; len++) {
		h[len] = gw_lb_hash64(buf, len, 0);
		assert_true(h[len] == gw_lb_hash64(buf, len, 0));
		for (k = 0; k < len; k++)
			assert_true(h[k] != h[len]);
	}
	assert_true(gw_lb_hash64("jason", 5, 0) != gw_lb_hash64("jason", 5, 1));
	assert_true(gw_lb_hash64("jason", 5, 0) != gw_lb_hash64("jasoN", 5, 0));
}

/* ---- endpoint sets ---- */

static struct gw_lb_set *
make_set(enum gw_lb_algorithm policy, uint32_t n, const uint32_t *weights,
	 uint32_t first_key, uint32_t skip_index)
{
	struct gw_lb_params p = {.policy = policy};
	struct gw_lb_endpoint eps[64];
	char err[GW_ERR_LEN], name[32];
	struct gw_lb_set *set;
	uint32_t i, k = 0;

	assert_true(n <= 64);
	for (i = 0; i < n; i++) {
		int len;

		if (i == skip_index)
			continue;
		len = snprintf(name, sizeof(name), "10.0.0.%u:80", first_key + i);
		eps[k].key = gw_lb_hash64(name, (size_t)len, 0);
		eps[k].weight = weights ? weights[i] : 1;
		k++;
	}
	set = gw_lb_set_create(&p, eps, k, err, sizeof(err));
	if (set == NULL)
		fail_msg("%s", err);
	return set;
}

static struct gw_lb_state *
make_state(const struct gw_lb_set *set, uint64_t seed)
{
	struct gw_lb_state *st = malloc(gw_lb_set_state_size(set));

	assert_non_null(st);
	gw_lb_state_init(set, st, seed);
	return st;
}

static void
test_round_robin_uniform(void **unused)
{
	struct gw_lb_set *set = make_set(GW_LB_ROUND_ROBIN, 4, NULL, 1, UINT32_MAX);
	struct gw_lb_state *st = make_state(set, 2);
	struct gw_lb_rng rng;
	int i, first, k;

	(void)unused;
	gw_lb_rng_seed(&rng, 1, 0);
	first = gw_lb_set_pick(set, st, &rng, 0, NULL, NULL);
	assert_int_equal(first, 2); /* the seed sets the starting point */
	for (i = 1; i < 100; i++) {
		k = gw_lb_set_pick(set, st, &rng, 0, NULL, NULL);
		assert_int_equal(k, (first + i) % 4);
	}
	free(st);
	gw_lb_set_free(set);
}

static void
test_round_robin_weighted(void **unused)
{
	const uint32_t w[3] = {3, 1, 1};
	struct gw_lb_set *set = make_set(GW_LB_ROUND_ROBIN, 3, w, 1, UINT32_MAX);
	struct gw_lb_state *st = make_state(set, 0);
	struct gw_lb_rng rng;
	int period, i;

	(void)unused;
	gw_lb_rng_seed(&rng, 1, 0);
	for (period = 0; period < 50; period++) {
		unsigned int count[3] = {0, 0, 0};

		for (i = 0; i < 5; i++)
			count[gw_lb_set_pick(set, st, &rng, 0, NULL, NULL)]++;
		assert_int_equal(count[0], 3);
		assert_int_equal(count[1], 1);
		assert_int_equal(count[2], 1);
	}
	free(st);
	gw_lb_set_free(set);
}

static void
test_least_request_prefers_lower(void **unused)
{
	struct gw_lb_set *set = make_set(GW_LB_LEAST_REQUEST, 4, NULL, 1, UINT32_MAX);
	struct gw_lb_state *st = make_state(set, 0);
	const uint32_t active[4] = {100, 0, 100, 50};
	unsigned int count[4] = {0, 0, 0, 0};
	struct gw_lb_rng rng;
	int i;

	(void)unused;
	gw_lb_rng_seed(&rng, 3, 0);
	for (i = 0; i < 16000; i++)
		count[gw_lb_set_pick(set, st, &rng, 0, NULL, active)]++;
	/*
	 * Endpoint 1 wins whenever it is one of the two draws:
	 * 1 - (3/4)^2 = 7/16 of the picks. Endpoint 3 wins when drawn with
	 * 0 or 2 (or twice): 5/16. Endpoints 0 and 2 only when drawn with
	 * themselves or each other: 2/16 each.
	 */
	assert_in_range(count[1], 6400, 7600);
	assert_in_range(count[3], 4400, 5600);
	assert_true(count[1] > count[3]);
	assert_true(count[3] > count[0] && count[3] > count[2]);
	free(st);
	gw_lb_set_free(set);
}

static void
test_random_weighted(void **unused)
{
	const uint32_t w[2] = {1, 3};
	struct gw_lb_set *set = make_set(GW_LB_RANDOM, 2, w, 1, UINT32_MAX);
	struct gw_lb_state *st = make_state(set, 0);
	unsigned int count[2] = {0, 0};
	struct gw_lb_rng rng;
	int i;

	(void)unused;
	gw_lb_rng_seed(&rng, 5, 0);
	for (i = 0; i < 40000; i++)
		count[gw_lb_set_pick(set, st, &rng, 0, NULL, NULL)]++;
	assert_in_range(count[1], 29000, 31000);
	free(st);
	gw_lb_set_free(set);
}

static void
test_unhealthy_skipped(void **unused)
{
	static const enum gw_lb_algorithm policies[] = {
		GW_LB_ROUND_ROBIN, GW_LB_LEAST_REQUEST, GW_LB_RANDOM,
		GW_LB_MAGLEV, GW_LB_RING_HASH,
	};
	const uint32_t weighted[5] = {1, 2, 3, 4, 5};
	uint64_t healthy = (1u << 1) | (1u << 3); /* only 1 and 3 */
	uint64_t nobody = 0;
	size_t p;
	int w, i, k;

	(void)unused;
	for (p = 0; p < GW_ARRAY_SIZE(policies); p++) {
		for (w = 0; w < 2; w++) {
			struct gw_lb_set *set = make_set(policies[p], 5,
						w ? weighted : NULL, 1, UINT32_MAX);
			struct gw_lb_state *st = make_state(set, 1);
			unsigned int seen[5] = {0};
			struct gw_lb_rng rng;

			gw_lb_rng_seed(&rng, 9, 0);
			for (i = 0; i < 2000; i++) {
				k = gw_lb_set_pick(set, st, &rng,
						   gw_lb_rng_next(&rng), &healthy, NULL);
				assert_true(k == 1 || k == 3);
				seen[k]++;
			}
			/* the load goes to both healthy ones */
			assert_true(seen[1] > 100 && seen[3] > 100);
			assert_int_equal(gw_lb_set_pick(set, st, &rng, 12345,
							&nobody, NULL), -1);
			free(st);
			gw_lb_set_free(set);
		}
	}
}

static void
test_empty_set(void **unused)
{
	struct gw_lb_params p = {.policy = GW_LB_MAGLEV};
	struct gw_lb_set *set;
	struct gw_lb_state *st;
	struct gw_lb_rng rng;

	(void)unused;
	set = gw_lb_set_create(&p, NULL, 0, NULL, 0);
	assert_non_null(set);
	st = make_state(set, 0);
	gw_lb_rng_seed(&rng, 1, 0);
	assert_int_equal(gw_lb_set_pick(set, st, &rng, 1, NULL, NULL), -1);
	free(st);
	gw_lb_set_free(set);
}

static void
test_maglev_table_size_prime(void **unused)
{
	struct gw_lb_endpoint ep = {.key = 1, .weight = 1};
	struct gw_lb_params p = {.policy = GW_LB_MAGLEV};
	char err[GW_ERR_LEN];
	struct gw_lb_set *set;
	uint32_t size;

	(void)unused;
	set = gw_lb_set_create(&p, &ep, 1, err, sizeof(err));
	assert_non_null(set);
	assert_non_null(gw_lb_set_maglev_table(set, &size));
	assert_int_equal(size, 65537); /* the default, a prime */
	gw_lb_set_free(set);

	p.maglev_table_size = 65536;
	assert_null(gw_lb_set_create(&p, &ep, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "prime"));
	p.maglev_table_size = 13;
	set = gw_lb_set_create(&p, &ep, 1, err, sizeof(err));
	assert_non_null(set);
	gw_lb_set_free(set);
}

/* Table entries owned by each endpoint. */
static void
maglev_counts(const struct gw_lb_set *set, unsigned int *count, uint32_t n)
{
	const uint32_t *t;
	uint32_t size, i;

	memset(count, 0, n * sizeof(*count));
	t = gw_lb_set_maglev_table(set, &size);
	for (i = 0; i < size; i++) {
		assert_true(t[i] < n);
		count[t[i]]++;
	}
}

static void
test_maglev_distribution(void **unused)
{
	const uint32_t w[4] = {1, 1, 2, 4};
	struct gw_lb_set *set = make_set(GW_LB_MAGLEV, 10, NULL, 1, UINT32_MAX);
	unsigned int count[10];
	uint32_t i;

	(void)unused;
	maglev_counts(set, count, 10);
	/* Maglev is near perfectly even: within 2% of 6553.7 */
	for (i = 0; i < 10; i++)
		assert_in_range(count[i], 6422, 6685);
	gw_lb_set_free(set);

	/* weights 1:1:2:4 → 1/8, 1/8, 2/8, 4/8 of the table, within 2% */
	set = make_set(GW_LB_MAGLEV, 4, w, 1, UINT32_MAX);
	maglev_counts(set, count, 4);
	assert_in_range(count[0], 8028, 8356);
	assert_in_range(count[1], 8028, 8356);
	assert_in_range(count[2], 16056, 16712);
	assert_in_range(count[3], 32112, 33424);
	gw_lb_set_free(set);
}

/*
 * Remove endpoint @p removed of @p n and measure the fraction of table
 * entries whose owner (by key, not by index) changed.
 */
static double
maglev_disruption(uint32_t n, uint32_t removed)
{
	struct gw_lb_set *before = make_set(GW_LB_MAGLEV, n, NULL, 1, UINT32_MAX);
	struct gw_lb_set *after = make_set(GW_LB_MAGLEV, n, NULL, 1, removed);
	const uint32_t *tb, *ta;
	uint32_t size, i, moved = 0;

	tb = gw_lb_set_maglev_table(before, &size);
	ta = gw_lb_set_maglev_table(after, NULL);
	for (i = 0; i < size; i++) {
		/* after removal, indices above @removed shift down by one */
		uint32_t owner_after = ta[i] >= removed ? ta[i] + 1 : ta[i];

		if (owner_after != tb[i])
			moved++;
	}
	gw_lb_set_free(before);
	gw_lb_set_free(after);
	return (double)moved / size;
}

static void
test_maglev_removal_disruption(void **unused)
{
	static const uint32_t sizes[] = {3, 5, 10, 20, 50};
	size_t s;

	(void)unused;
	for (s = 0; s < GW_ARRAY_SIZE(sizes); s++) {
		uint32_t n = sizes[s];
		double d = maglev_disruption(n, n / 2);

		print_message("maglev N=%u: %.2f%% of entries moved (ideal %.2f%%)\n",
			      n, 100.0 * d, 100.0 / n);
		assert_true(d >= 1.0 / n - 0.001); /* the removed share must move */
		assert_true(d < 1.0 / n + 0.05);
	}
}

static void
test_maglev_consistent_and_unhealthy(void **unused)
{
	struct gw_lb_set *set = make_set(GW_LB_MAGLEV, 8, NULL, 1, UINT32_MAX);
	struct gw_lb_state *st = make_state(set, 0);
	uint64_t healthy = 0xff & ~(1u << 5);
	struct gw_lb_rng rng;
	uint64_t h;
	int i, a, b;

	(void)unused;
	gw_lb_rng_seed(&rng, 11, 0);
	for (i = 0; i < 5000; i++) {
		h = gw_lb_hash64(&i, sizeof(i), 0);
		a = gw_lb_set_pick(set, st, &rng, h, NULL, NULL);
		assert_int_equal(a, gw_lb_set_pick(set, st, &rng, h, NULL, NULL));
		b = gw_lb_set_pick(set, st, &rng, h, &healthy, NULL);
		/* keys of healthy endpoints stay put; endpoint 5's move */
		if (a != 5)
			assert_int_equal(a, b);
		else
			assert_true(b != 5 && b >= 0);
	}
	free(st);
	gw_lb_set_free(set);
}

static void
test_ring_hash_consistency(void **unused)
{
	struct gw_lb_set *before = make_set(GW_LB_RING_HASH, 10, NULL, 1, UINT32_MAX);
	struct gw_lb_set *after = make_set(GW_LB_RING_HASH, 10, NULL, 1, 4);
	struct gw_lb_state *st = make_state(before, 0);
	unsigned int count[10] = {0}, moved = 0;
	struct gw_lb_rng rng;
	uint64_t h;
	int i, a, b;

	(void)unused;
	gw_lb_rng_seed(&rng, 13, 0);
	for (i = 0; i < 20000; i++) {
		h = gw_lb_hash64(&i, sizeof(i), 7);
		a = gw_lb_set_pick(before, st, &rng, h, NULL, NULL);
		assert_int_equal(a, gw_lb_set_pick(before, st, &rng, h, NULL, NULL));
		count[a]++;
		b = gw_lb_set_pick(after, st, &rng, h, NULL, NULL);
		if (b >= 4)
			b++; /* index shift in the smaller set */
		if (a == 4)
			assert_int_not_equal(b, 4);
		if (a != b)
			moved++;
	}
	/* a 1024-point ring: each of 10 gets its share within ±35% */
	for (i = 0; i < 10; i++)
		assert_in_range(count[i], 1300, 2700);
	/*
	 * 10 and 9 endpoints both get 128 points each (1024/N rounded up to
	 * a power of two), so exactly endpoint 4's keys move.
	 */
	assert_int_equal(moved, count[4]);
	free(st);
	gw_lb_set_free(before);
	gw_lb_set_free(after);
}

static void
test_ring_hash_sizes(void **unused)
{
	struct gw_lb_params p = {.policy = GW_LB_RING_HASH, .ring_min_size = 8,
				 .ring_max_size = 4};
	struct gw_lb_endpoint eps[3] = {{1, 1}, {2, 1}, {3, 100}};
	char err[GW_ERR_LEN];
	struct gw_lb_set *set;

	(void)unused;
	assert_null(gw_lb_set_create(&p, eps, 3, err, sizeof(err)));
	assert_non_null(strstr(err, "minimumRingSize"));
	/* a tight maximum still gives every endpoint a point */
	p.ring_min_size = 4;
	p.ring_max_size = 4;
	set = gw_lb_set_create(&p, eps, 3, err, sizeof(err));
	assert_non_null(set);
	gw_lb_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swrr_80_20_every_window),
		cmocka_unit_test(test_swrr_weight_zero_never),
		cmocka_unit_test(test_swrr_three_way),
		cmocka_unit_test(test_weighted_random),
		cmocka_unit_test(test_rng_workers_differ),
		cmocka_unit_test(test_percent_25_exact),
		cmocka_unit_test(test_percent_0_and_100),
		cmocka_unit_test(test_percent_fractional),
		cmocka_unit_test(test_hash64),
		cmocka_unit_test(test_round_robin_uniform),
		cmocka_unit_test(test_round_robin_weighted),
		cmocka_unit_test(test_least_request_prefers_lower),
		cmocka_unit_test(test_random_weighted),
		cmocka_unit_test(test_unhealthy_skipped),
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_maglev_table_size_prime),
		cmocka_unit_test(test_maglev_distribution),
		cmocka_unit_test(test_maglev_removal_disruption),
		cmocka_unit_test(test_maglev_consistent_and_unhealthy),
		cmocka_unit_test(test_ring_hash_consistency),
		cmocka_unit_test(test_ring_hash_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
