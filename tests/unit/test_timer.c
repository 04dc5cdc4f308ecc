/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for lib/timer. Every callback checks the wheel's promise on the
 * spot: it never runs before its expiry. The random test keeps an
 * independent model (expiry per timer plus a min-heap ordered by tick) and
 * checks after every run that exactly the timers due have fired.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gw_timer.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- shared fixture: a handful of recording timers ---- */

#define MAX_REC 64

struct rec_timer {
	struct gw_timer t;
	int id;
	unsigned int fires;
	uint64_t fired_now;     /* the run's now at the last firing */
	uint64_t fired_expiry;  /* the expiry it fired for */
};

static struct rec_timer recs[MAX_REC];
static int order[4096];
static unsigned int n_order;
static uint64_t run_now; /* the now passed to the run in progress */

static void
rec_fire(struct gw_timer_wheel *w, struct gw_timer *t, void *arg)
{
	struct rec_timer *r = arg;

	(void)w;
	assert_ptr_equal(&r->t, t);
	assert_false(gw_timer_is_armed(t));
	/* Never early. */
	assert_true(gw_timer_expires(t) <= run_now);
	r->fires++;
	r->fired_now = run_now;
	r->fired_expiry = gw_timer_expires(t);
	if (n_order < ARRAY_SIZE(order))
		order[n_order++] = r->id;
}

static void
recs_reset(gw_timer_fn fn)
{
	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < MAX_REC; i++) {
		recs[i].id = i;
		gw_timer_init(&recs[i].t, fn, &recs[i]);
	}
	n_order = 0;
}

static unsigned int
run(struct gw_timer_wheel *w, uint64_t now)
{
	run_now = now;
	return gw_timer_wheel_run(w, now, UINT_MAX);
}

/* ---- basics ---- */

static void
test_create(void **state)
{
	struct gw_timer_wheel *w;

	(void)state;
	assert_null(gw_timer_wheel_create(0, 0));
	w = gw_timer_wheel_create(12345, 10);
	assert_non_null(w);
	assert_int_equal(gw_timer_wheel_now(w), 12345);
	assert_int_equal(gw_timer_wheel_count(w), 0);
	assert_true(gw_timer_wheel_next_expiry(w) == UINT64_MAX);
	assert_int_equal(run(w, 99999), 0);
	assert_int_equal(gw_timer_wheel_now(w), 99999);
	gw_timer_wheel_free(w);
	gw_timer_wheel_free(NULL);
}

/* With a tick of one unit, stepping one unit at a time: exact expiry. */
static void
test_fire_exact_tick(void **state)
{
	static const uint64_t exp[] = { 1, 2, 5, 5, 254, 255, 256, 257, 300,
					511, 512, 1000, 3, 0 };
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	unsigned int total = 0;

	(void)state;
	recs_reset(rec_fire);
	for (size_t i = 0; i < ARRAY_SIZE(exp); i++)
		gw_timer_arm_at(w, &recs[i].t, exp[i]);
	assert_int_equal(gw_timer_wheel_count(w), ARRAY_SIZE(exp));
	for (uint64_t now = 0; now <= 1100; now++)
		total += run(w, now);
	assert_int_equal(total, ARRAY_SIZE(exp));
	assert_int_equal(gw_timer_wheel_count(w), 0);
	for (size_t i = 0; i < ARRAY_SIZE(exp); i++) {
		assert_int_equal(recs[i].fires, 1);
		assert_int_equal(recs[i].fired_now, exp[i]);
	}
	/* Fire order follows expiry. */
	for (unsigned int i = 1; i < n_order; i++)
		assert_true(exp[order[i - 1]] <= exp[order[i]]);
	gw_timer_wheel_free(w);
}

/* Coarse ticks: fire at the first tick boundary at or after the expiry. */
static void
test_never_early_coarse(void **state)
{
	const uint64_t origin = 1000003, len = 7;
	struct gw_timer_wheel *w = gw_timer_wheel_create(origin, len);

	(void)state;
	recs_reset(rec_fire);
	for (int i = 0; i < 40; i++)
		gw_timer_arm_at(w, &recs[i].t, origin + (uint64_t)i * 5 + 1);
	for (uint64_t now = origin; now < origin + 400; now++)
		run(w, now);
	for (int i = 0; i < 40; i++) {
		uint64_t e = origin + (uint64_t)i * 5 + 1;
		uint64_t boundary = origin + (e - origin + len - 1) / len * len;

		assert_int_equal(recs[i].fires, 1);
		assert_int_equal(recs[i].fired_now, boundary);
		assert_true(recs[i].fired_now - e < len);
	}
	/* An expiry before the origin is simply due. */
	gw_timer_arm_at(w, &recs[50].t, 5);
	assert_int_equal(run(w, origin + 400), 0); /* next tick: origin + 406 */
	assert_int_equal(run(w, origin + 406), 1);
	gw_timer_wheel_free(w);
}

/*
 * Cascades across every level, from a base in the middle of windows:
 * step with next_expiry (never after the true expiry), never fire early,
 * fire exactly at the tick.
 */
static void
check_far_timer(uint64_t start, uint64_t delta)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	uint64_t exp = start + delta, now = start, steps = 0;

	recs_reset(rec_fire);
	run(w, start);
	gw_timer_arm_at(w, &recs[0].t, exp);
	/* A decoy due at exp + 1 must not fire with it. */
	gw_timer_arm_at(w, &recs[1].t, exp + 1);
	while (recs[0].fires == 0) {
		uint64_t next = gw_timer_wheel_next_expiry(w);

		assert_true(next <= exp);
		assert_true(next > now);
		now = next;
		run(w, now);
		assert_true(++steps < 2000);
	}
	assert_int_equal(recs[0].fired_now, exp);
	assert_int_equal(recs[1].fires, 0);
	assert_int_equal(gw_timer_wheel_next_expiry(w), exp + 1);
	assert_int_equal(run(w, exp + 1), 1);
	gw_timer_wheel_free(w);
}

static void
test_cascade_levels(void **state)
{
	static const uint64_t deltas[] = {
		1, 2, 255, 256, 257, 65535, 65536, 65537, (1u << 24) - 1,
		1u << 24, (1u << 24) + 3, UINT64_C(0xffffffff),
		UINT64_C(1) << 32, (UINT64_C(1) << 32) + 5,
		(UINT64_C(1) << 40) + 12345,
	};
	static const uint64_t starts[] = {
		0, 1, 255, 256, 65535, 65536, 12345678, (1u << 24) - 1,
		UINT64_C(0x1234567890),
	};

	(void)state;
	for (size_t s = 0; s < ARRAY_SIZE(starts); s++)
		for (size_t d = 0; d < ARRAY_SIZE(deltas); d++)
			check_far_timer(starts[s], deltas[d]);
}

/* The same far timers, all at once, run in one call with the exact now. */
static void
test_cascade_single_run(void **state)
{
	static const uint64_t deltas[] = {
		1, 255, 256, 65535, 65536, (1u << 24) + 3, UINT64_C(1) << 32,
		(UINT64_C(1) << 33) + 7,
	};
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	const uint64_t start = 777;

	(void)state;
	recs_reset(rec_fire);
	run(w, start);
	for (size_t i = 0; i < ARRAY_SIZE(deltas); i++)
		gw_timer_arm_at(w, &recs[i].t, start + deltas[i]);
	for (size_t i = 0; i < ARRAY_SIZE(deltas); i++) {
		uint64_t exp = start + deltas[i];

		assert_int_equal(run(w, exp - 1), 0);
		assert_int_equal(run(w, exp), 1);
		assert_int_equal(recs[i].fires, 1);
		assert_int_equal(recs[i].fired_now, exp);
	}
	assert_int_equal(gw_timer_wheel_count(w), 0);
	gw_timer_wheel_free(w);
}

/* ---- callbacks touching other timers ---- */

/* Timer 0 cancels 1 (level 1) and 2 (level 2), and moves 3 later. */
static void
cancel_others_fire(struct gw_timer_wheel *w, struct gw_timer *t, void *arg)
{
	struct rec_timer *r = arg;

	rec_fire(w, t, arg);
	if (r->id == 0) {
		gw_timer_cancel(w, &recs[1].t);
		gw_timer_cancel(w, &recs[2].t);
		gw_timer_arm_at(w, &recs[3].t, 500);
		/* Cancelling twice, or a timer never armed, is harmless. */
		gw_timer_cancel(w, &recs[1].t);
		gw_timer_cancel(w, &recs[9].t);
	}
}

static void
test_cancel_from_callback(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);

	(void)state;
	recs_reset(cancel_others_fire);
	gw_timer_arm_at(w, &recs[0].t, 100);
	gw_timer_arm_at(w, &recs[1].t, 1000);
	gw_timer_arm_at(w, &recs[2].t, 70000);
	gw_timer_arm_at(w, &recs[3].t, 200);
	gw_timer_arm_at(w, &recs[4].t, 150);
	assert_int_equal(gw_timer_wheel_count(w), 5);
	assert_int_equal(run(w, 100000), 3);
	assert_int_equal(recs[0].fires, 1);
	assert_int_equal(recs[1].fires, 0);
	assert_int_equal(recs[2].fires, 0);
	assert_int_equal(recs[3].fires, 1);
	assert_int_equal(recs[3].fired_expiry, 500);
	assert_int_equal(recs[4].fires, 1);
	assert_false(gw_timer_is_armed(&recs[1].t));
	assert_int_equal(gw_timer_wheel_count(w), 0);
	gw_timer_wheel_free(w);
}

/*
 * Timers 0..3 share one tick, so all are on the pending list when the
 * first runs. Whichever fires first cancels two of the others and moves
 * the third later: exactly one fires now, the moved one later.
 */
static int same_slot_first = -1;

static void
same_slot_fire(struct gw_timer_wheel *w, struct gw_timer *t, void *arg)
{
	struct rec_timer *r = arg;
	int others[3], n = 0;

	rec_fire(w, t, arg);
	if (same_slot_first >= 0)
		return;
	same_slot_first = r->id;
	for (int i = 0; i < 4; i++)
		if (i != r->id)
			others[n++] = i;
	gw_timer_cancel(w, &recs[others[0]].t);
	gw_timer_cancel(w, &recs[others[1]].t);
	gw_timer_arm_at(w, &recs[others[2]].t, 90);
	/* And one more into the tick being processed: due, fires next tick. */
	gw_timer_arm_at(w, &recs[10].t, 50);
}

static void
test_same_slot_from_callback(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	int moved;

	(void)state;
	recs_reset(same_slot_fire);
	same_slot_first = -1;
	for (int i = 0; i < 4; i++)
		gw_timer_arm_at(w, &recs[i].t, 50);
	assert_int_equal(run(w, 50), 1);
	assert_true(same_slot_first >= 0);
	moved = same_slot_first == 3 ? 2 : 3;
	assert_int_equal(gw_timer_wheel_count(w), 2);
	assert_int_equal(gw_timer_wheel_next_expiry(w), 51);
	assert_int_equal(run(w, 51), 1);
	assert_int_equal(recs[10].fires, 1);
	assert_int_equal(run(w, 89), 0);
	assert_int_equal(run(w, 90), 1);
	assert_int_equal(recs[moved].fires, 1);
	assert_int_equal(recs[moved].fired_now, 90);
	for (int i = 0; i < 4; i++)
		assert_int_equal(recs[i].fires, i == same_slot_first || i == moved);
	gw_timer_wheel_free(w);
}

/* Periodic: re-arm from the callback at expires + period. */
static void
periodic_fire(struct gw_timer_wheel *w, struct gw_timer *t, void *arg)
{
	struct rec_timer *r = arg;
	uint64_t exp = gw_timer_expires(t);

	rec_fire(w, t, arg);
	if (r->fires < 1000)
		gw_timer_arm_at(w, t, exp + 10);
}

static void
test_periodic_rearm(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	unsigned int n;

	(void)state;
	recs_reset(periodic_fire);
	gw_timer_arm_at(w, &recs[0].t, 10);
	/* One run over 5000 ticks: fires at 10, 20, ..., 5000. */
	n = run(w, 5000);
	assert_int_equal(n, 500);
	assert_int_equal(recs[0].fired_expiry, 5000);
	assert_true(gw_timer_is_armed(&recs[0].t));
	assert_int_equal(gw_timer_wheel_next_expiry(w), 5010);
	/* Stepping one tick at a time: fires exactly every 10. */
	for (uint64_t now = 5001; now <= 6000; now++) {
		unsigned int before = recs[0].fires;

		run(w, now);
		assert_int_equal(recs[0].fires - before, now % 10 == 0);
	}
	gw_timer_wheel_free(w);
}

/* Re-armed in the past from its own callback: once per tick, no loop. */
static void
past_rearm_fire(struct gw_timer_wheel *w, struct gw_timer *t, void *arg)
{
	rec_fire(w, t, arg);
	gw_timer_arm_at(w, t, 0);
}

static void
test_rearm_past_in_callback(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);

	(void)state;
	recs_reset(past_rearm_fire);
	gw_timer_arm_at(w, &recs[0].t, 0);
	/* Ticks 0..10 are processed: one firing each. */
	assert_int_equal(run(w, 10), 11);
	assert_int_equal(run(w, 10), 0);
	assert_int_equal(run(w, 11), 1);
	gw_timer_cancel(w, &recs[0].t);
	assert_int_equal(run(w, 20), 0);
	gw_timer_wheel_free(w);
}

/* A callback that frees the memory its timer lives in (ASan checks). */
struct owned {
	struct gw_timer t;
	unsigned int *fired;
};

static void
free_owner_fire(struct gw_timer_wheel *w, struct gw_timer *t, void *arg)
{
	struct owned *o = arg;

	(void)w;
	(void)t;
	(*o->fired)++;
	free(o);
}

static void
test_callback_frees_owner(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	unsigned int fired = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		struct owned *o = malloc(sizeof(*o));

		assert_non_null(o);
		o->fired = &fired;
		gw_timer_init(&o->t, free_owner_fire, o);
		gw_timer_arm_at(w, &o->t, 5 + (uint64_t)(i % 3));
	}
	assert_int_equal(run(w, 10), 100);
	assert_int_equal(fired, 100);
	gw_timer_wheel_free(w);
}

/* ---- re-arming ---- */

static void
test_rearm_later_and_earlier(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);

	(void)state;
	recs_reset(rec_fire);
	/* Later: kept in its slot, fires only at the new expiry. */
	gw_timer_arm_at(w, &recs[0].t, 10);
	gw_timer_arm_at(w, &recs[0].t, 20);
	assert_int_equal(gw_timer_expires(&recs[0].t), 20);
	assert_true(gw_timer_wheel_next_expiry(w) <= 20);
	assert_int_equal(run(w, 15), 0);
	assert_int_equal(gw_timer_wheel_next_expiry(w), 20);
	assert_int_equal(run(w, 19), 0);
	assert_int_equal(run(w, 20), 1);
	assert_int_equal(recs[0].fired_now, 20);

	/* Earlier: moved, fires once. */
	gw_timer_arm_at(w, &recs[1].t, 70000);
	gw_timer_arm_at(w, &recs[1].t, 30);
	assert_int_equal(gw_timer_wheel_next_expiry(w), 30);
	assert_int_equal(run(w, 100000), 1);
	assert_int_equal(recs[1].fired_now, 100000);
	assert_int_equal(recs[1].fired_expiry, 30);

	/* Postponed many times, like an RTO on every ACK, then cancelled. */
	for (uint64_t i = 0; i < 1000; i++)
		gw_timer_arm_at(w, &recs[2].t, 100000 + 200 + i);
	assert_int_equal(gw_timer_wheel_count(w), 1);
	assert_int_equal(run(w, 100000 + 1198), 0);
	assert_int_equal(run(w, 100000 + 1199), 1);
	gw_timer_arm_at(w, &recs[3].t, 200000);
	gw_timer_arm_at(w, &recs[3].t, 300000);
	gw_timer_cancel(w, &recs[3].t);
	assert_int_equal(gw_timer_wheel_count(w), 0);
	assert_true(gw_timer_wheel_next_expiry(w) == UINT64_MAX);
	assert_int_equal(run(w, 400000), 0);

	/* Relative arming counts from the wheel's latest now. */
	gw_timer_arm_in(w, &recs[4].t, 25);
	assert_int_equal(gw_timer_expires(&recs[4].t), 400025);
	gw_timer_arm_in(w, &recs[5].t, UINT64_MAX);
	assert_true(gw_timer_expires(&recs[5].t) == UINT64_MAX);
	assert_int_equal(run(w, 400025), 1);
	gw_timer_cancel(w, &recs[5].t);
	gw_timer_wheel_free(w);
}

/* ---- large jumps and bounded runs ---- */

static void
test_large_jump(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	uint64_t last = 0;

	(void)state;
	recs_reset(rec_fire);
	for (int i = 0; i < MAX_REC; i++) {
		/* Spread over 1..2e6 ticks, in no particular order. */
		uint64_t e = 1 + (uint64_t)((i * 7919) % MAX_REC) * 31250;

		gw_timer_arm_at(w, &recs[i].t, e);
	}
	/* 10^6 ticks idle, then one run. */
	run(w, 1000000);
	for (int i = 0; i < MAX_REC; i++) {
		uint64_t e = 1 + (uint64_t)((i * 7919) % MAX_REC) * 31250;

		assert_int_equal(recs[i].fires, e <= 1000000);
		assert_int_equal(gw_timer_is_armed(&recs[i].t), e > 1000000);
	}
	for (unsigned int i = 0; i < n_order; i++) {
		uint64_t e = recs[order[i]].fired_expiry;

		assert_true(e >= last);
		last = e;
	}
	assert_int_equal(n_order + gw_timer_wheel_count(w), MAX_REC);
	run(w, UINT64_C(1) << 40);
	assert_int_equal(n_order, MAX_REC);
	gw_timer_wheel_free(w);
}

static void
test_bounded_run(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(0, 1);
	unsigned int total = 0, calls = 0;

	(void)state;
	recs_reset(rec_fire);
	for (int i = 0; i < MAX_REC; i++)
		gw_timer_arm_at(w, &recs[i].t, (uint64_t)(MAX_REC - i) * 3);
	run_now = 1000;
	assert_int_equal(gw_timer_wheel_run(w, 1000, 0), 0);
	while (total < MAX_REC) {
		unsigned int n = gw_timer_wheel_run(w, 1000, 10);

		assert_true(n <= 10);
		total += n;
		if (total < MAX_REC) {
			assert_int_equal(n, 10);
			/* Work left: due now. */
			assert_true(gw_timer_wheel_next_expiry(w) <= 1000);
		}
		assert_true(++calls < 20);
	}
	assert_int_equal(calls, (MAX_REC + 9) / 10);
	/* Order still by expiry across calls. */
	for (unsigned int i = 1; i < n_order; i++)
		assert_true(recs[order[i - 1]].fired_expiry <=
			    recs[order[i]].fired_expiry);
	assert_true(gw_timer_wheel_next_expiry(w) == UINT64_MAX);
	gw_timer_wheel_free(w);
}

/* A clock read out of order, and time before the origin. */
static void
test_time_backwards(void **state)
{
	struct gw_timer_wheel *w = gw_timer_wheel_create(1000, 10);

	(void)state;
	recs_reset(rec_fire);
	gw_timer_arm_at(w, &recs[0].t, 1000);
	gw_timer_arm_at(w, &recs[1].t, 1050);
	assert_int_equal(run(w, 999), 0);   /* before the origin */
	assert_int_equal(run(w, 1000), 1);
	assert_int_equal(run(w, 1100), 1);
	gw_timer_arm_at(w, &recs[2].t, 1105);
	assert_int_equal(run(w, 1050), 0);  /* backwards */
	assert_int_equal(gw_timer_wheel_now(w), 1100);
	assert_int_equal(run(w, 1109), 0);
	assert_int_equal(run(w, 1110), 1);
	gw_timer_wheel_free(w);
}

/* ---- random operations against a reference model ---- */

#define RND_N        100000
#define RND_STEPS    20000
#define RND_ORIGIN   UINT64_C(987654321)
#define RND_TICK     3

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Log-uniform below 2^max_bits. */
static uint64_t
rng_log(unsigned int max_bits)
{
	unsigned int bits = (unsigned int)(rng() % (max_bits + 1));

	return bits == 0 ? 0 : rng() & ((UINT64_C(1) << bits) - 1);
}

struct model_timer {
	struct gw_timer t;
	bool armed;
	uint32_t gen;
	uint64_t exp;
};

struct heap_entry {
	uint64_t tick;
	uint32_t id;
	uint32_t gen;
};

static struct model_timer *mt;
static struct heap_entry *heap;
static size_t heap_len, heap_cap;
static uint64_t model_armed, model_fired, model_now, model_target;
/* The wheel's next tick to process: an expiry before it fires there. */
static uint64_t model_base;
static struct gw_timer_wheel *model_wheel;

static uint64_t
model_tick(uint64_t exp)
{
	uint64_t d;

	if (exp <= RND_ORIGIN)
		return 0;
	d = exp - RND_ORIGIN;
	return d / RND_TICK + (d % RND_TICK != 0);
}

static void
heap_push(struct heap_entry e)
{
	size_t i;

	if (heap_len == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 1024;
		heap = realloc(heap, heap_cap * sizeof(*heap));
		assert_non_null(heap);
	}
	i = heap_len++;
	while (i > 0 && heap[(i - 1) / 2].tick > e.tick) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = e;
}

static struct heap_entry
heap_pop(void)
{
	struct heap_entry top = heap[0], last = heap[--heap_len];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap_len)
			break;
		if (c + 1 < heap_len && heap[c + 1].tick < heap[c].tick)
			c++;
		if (heap[c].tick >= last.tick)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (heap_len > 0)
		heap[i] = last;
	return top;
}

static bool
heap_entry_live(const struct heap_entry *e)
{
	return mt[e->id].armed && mt[e->id].gen == e->gen;
}

static void
model_arm(uint32_t id, uint64_t exp)
{
	struct model_timer *m = &mt[id];

	gw_timer_arm_at(model_wheel, &m->t, exp);
	if (!m->armed)
		model_armed++;
	m->armed = true;
	m->exp = exp;
	m->gen++;
	heap_push((struct heap_entry){
		model_tick(exp) > model_base ? model_tick(exp) : model_base,
		id, m->gen });
}

static void
model_cancel(uint32_t id)
{
	struct model_timer *m = &mt[id];

	gw_timer_cancel(model_wheel, &m->t);
	if (m->armed)
		model_armed--;
	m->armed = false;
}

static void
model_fire(struct gw_timer_wheel *w, struct gw_timer *t, void *arg)
{
	struct model_timer *m = arg;
	uint32_t id = (uint32_t)(m - mt);
	uint64_t r = rng();

	assert_ptr_equal(w, model_wheel);
	assert_true(m->armed);
	assert_true(gw_timer_expires(t) == m->exp);
	assert_true(m->exp <= model_now);                 /* never early */
	assert_true(model_tick(m->exp) <= model_target);  /* due */
	m->armed = false;
	model_armed--;
	model_fired++;
	/* Callbacks arm and cancel, never for a time already due. */
	switch (r % 8) {
	case 0:
	case 1:
		model_arm(id, model_now + 1 + rng_log(20));
		break;
	case 2:
		model_cancel((uint32_t)(rng() % RND_N));
		break;
	case 3:
		model_arm((uint32_t)(rng() % RND_N), model_now + 1 + rng_log(30));
		break;
	default:
		break;
	}
}

/* After a run at model_now: nothing due is left armed. */
static void
model_check(void)
{
	while (heap_len > 0 && heap[0].tick <= model_target) {
		struct heap_entry e = heap_pop();

		if (heap_entry_live(&e))
			fail_msg("timer %u due at tick %llu not fired by tick %llu",
				 e.id, (unsigned long long)e.tick,
				 (unsigned long long)model_target);
	}
	while (heap_len > 0 && !heap_entry_live(&heap[0]))
		heap_pop();
	assert_int_equal(gw_timer_wheel_count(model_wheel), model_armed);
	if (heap_len == 0) {
		assert_int_equal(model_armed, 0);
		assert_true(gw_timer_wheel_next_expiry(model_wheel) == UINT64_MAX);
	} else {
		/* Never later than the earliest timer's firing tick. */
		assert_true(gw_timer_wheel_next_expiry(model_wheel) <=
			    RND_ORIGIN + heap[0].tick * RND_TICK);
	}
}

static void
model_run(uint64_t now)
{
	model_now = now;
	model_target = (now - RND_ORIGIN) / RND_TICK;
	gw_timer_wheel_run(model_wheel, now, UINT_MAX);
	model_base = model_target + 1;
	model_check();
}

static void
test_random_vs_model(void **state)
{
	uint64_t now = RND_ORIGIN;

	(void)state;
	rng_state = 42;
	model_armed = model_fired = model_base = 0;
	heap_len = 0;
	model_wheel = gw_timer_wheel_create(RND_ORIGIN, RND_TICK);
	mt = calloc(RND_N, sizeof(*mt));
	assert_non_null(mt);
	for (uint32_t i = 0; i < RND_N; i++)
		gw_timer_init(&mt[i].t, model_fire, &mt[i]);
	/* Expiries up to 2^36 units: beyond the wheel's 2^32 ticks too. */
	for (uint32_t i = 0; i < RND_N; i++)
		model_arm(i, now + rng_log(36));
	model_run(now);

	for (unsigned int step = 0; step < RND_STEPS; step++) {
		for (int op = 0; op < 8; op++) {
			uint32_t id = (uint32_t)(rng() % RND_N);
			uint64_t r = rng() % 10;

			if (r < 5)       /* arm or move, maybe into the past */
				model_arm(id, now - rng_log(4) + rng_log(34));
			else if (r < 8)  /* move later, the RTO pattern */
				model_arm(id, (mt[id].armed ? mt[id].exp : now) +
					  rng_log(12));
			else
				model_cancel(id);
		}
		/* Mostly short steps, sometimes long idle stretches. */
		now += rng() % 16 == 0 ? rng_log(36) : rng_log(10);
		model_run(now);
	}
	/* Drain: every remaining timer fires, in bounded jumps. */
	for (int i = 0; i < 64 && model_armed > 0; i++) {
		now += UINT64_C(1) << 34;
		model_run(now);
	}
	assert_int_equal(model_armed, 0);
	assert_true(model_fired > RND_N);
	gw_timer_wheel_free(model_wheel);
	free(mt);
	free(heap);
	heap = NULL;
	heap_cap = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_fire_exact_tick),
		cmocka_unit_test(test_never_early_coarse),
		cmocka_unit_test(test_cascade_levels),
		cmocka_unit_test(test_cascade_single_run),
		cmocka_unit_test(test_cancel_from_callback),
		cmocka_unit_test(test_same_slot_from_callback),
		cmocka_unit_test(test_periodic_rearm),
		cmocka_unit_test(test_rearm_past_in_callback),
		cmocka_unit_test(test_callback_frees_owner),
		cmocka_unit_test(test_rearm_later_and_earlier),
		cmocka_unit_test(test_large_jump),
		cmocka_unit_test(test_bounded_run),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_random_vs_model),
	};

	return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
