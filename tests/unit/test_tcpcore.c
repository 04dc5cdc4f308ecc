/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for lib/tcpcore: sequence arithmetic across the wrap, the RFC 6298
 * estimator against values worked out from the RFC's formulas, SipHash
 * against the paper's vectors, SYN cookies (round trip, every way to fail,
 * a million corrupted cookies), the reassembly queue (each overlap case by
 * hand, then whole streams cut, duplicated and shuffled, checked byte for
 * byte), and option parsing from fixtures fed whole, by every prefix and
 * against a guard page.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "gw_tcpcore.h"
#include "siphash.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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

/* ================================================================== */
/* Sequence numbers                                                    */
/* ================================================================== */

static void
test_seq_wrap(void **state)
{
	(void)state;
	/* 0xfffffff0 is 32 before 0x10. */
	assert_true(gw_seq_lt(0xfffffff0u, 0x10));
	assert_true(gw_seq_leq(0xfffffff0u, 0x10));
	assert_false(gw_seq_gt(0xfffffff0u, 0x10));
	assert_false(gw_seq_geq(0xfffffff0u, 0x10));
	assert_true(gw_seq_gt(0x10, 0xfffffff0u));
	assert_true(gw_seq_geq(0x10, 0xfffffff0u));
	assert_int_equal(gw_seq_diff(0x10, 0xfffffff0u), 0x20);
	assert_int_equal(gw_seq_diff(0xfffffff0u, 0x10), -0x20);
	assert_int_equal(gw_seq_diff(0, 0xffffffffu), 1);
	/* Equal. */
	assert_true(gw_seq_leq(7, 7));
	assert_true(gw_seq_geq(7, 7));
	assert_false(gw_seq_lt(7, 7));
	assert_false(gw_seq_gt(7, 7));
	/* max/min across the wrap. */
	assert_int_equal(gw_seq_max(0xfffffff0u, 0x10), 0x10);
	assert_int_equal(gw_seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
	/* Largest meaningful distance either way. */
	assert_true(gw_seq_lt(0, 0x7fffffffu));
	assert_true(gw_seq_gt(0, 0x80000001u));
}

static void
test_seq_table(void **state)
{
	static const uint32_t bases[] = {
		0, 1, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001,
		0xfffffff0, 0xfffffffe, 0xffffffff,
	};
	static const int32_t deltas[] = {
		-0x7fffffff, -0x40000000, -65536, -2, -1, 0, 1, 2, 65535,
		0x40000000, 0x7fffffff,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(deltas); j++) {
			uint32_t a = bases[i];
			int32_t d = deltas[j];
			uint32_t b = a + (uint32_t)d;

			assert_int_equal(gw_seq_diff(b, a), d);
			assert_int_equal(gw_seq_lt(a, b), d > 0);
			assert_int_equal(gw_seq_leq(a, b), d >= 0);
			assert_int_equal(gw_seq_gt(a, b), d < 0);
			assert_int_equal(gw_seq_geq(a, b), d <= 0);
		}
	}
}

static void
test_seq_between(void **state)
{
	(void)state;
	/* [0xfffffff0, 0x10) across the wrap. */
	assert_true(gw_seq_between(0xfffffff0u, 0xfffffff0u, 0x10));
	assert_true(gw_seq_between(0xfffffff0u, 0xffffffffu, 0x10));
	assert_true(gw_seq_between(0xfffffff0u, 0, 0x10));
	assert_true(gw_seq_between(0xfffffff0u, 0xf, 0x10));
	assert_false(gw_seq_between(0xfffffff0u, 0x10, 0x10));  /* c excluded */
	assert_false(gw_seq_between(0xfffffff0u, 0xffffffefu, 0x10));
	assert_false(gw_seq_between(0xfffffff0u, 0x80000000u, 0x10));
	/* Empty range. */
	assert_false(gw_seq_between(5, 5, 5));
	/* Range longer than 2^31 still exact. */
	assert_true(gw_seq_between(0, 0xc0000000u, 0xf0000000u));
	assert_false(gw_seq_between(0, 0xf0000000u, 0xf0000000u));
	/* Exhaustive on a small window that straddles the wrap. */
	for (uint32_t off = 0; off < 64; off++) {
		uint32_t a = 0xffffffe0u, c = a + 32;

		assert_int_equal(gw_seq_between(a, a + off, c), off < 32);
	}
}

/* ================================================================== */
/* RTO (RFC 6298)                                                       */
/* ================================================================== */

/* The RFC's formulas in floating point, independent of the fixed point. */
struct rto_ref {
	bool first_done;
	double srtt, rttvar, rto;
};

static double
dmax(double a, double b)
{
	return a > b ? a : b;
}

static double
dabs(double a)
{
	return a < 0 ? -a : a;
}

static void
rto_ref_sample(struct rto_ref *r, const struct gw_rto_params *p, double rtt)
{
	if (!r->first_done) {
		r->srtt = rtt;
		r->rttvar = rtt / 2;
		r->first_done = true;
	} else {
		r->rttvar = 0.75 * r->rttvar + 0.25 * dabs(r->srtt - rtt);
		r->srtt = 0.875 * r->srtt + 0.125 * rtt;
	}
	r->rto = r->srtt + dmax(p->granularity_us, 4 * r->rttvar);
	if (r->rto < p->min_us)
		r->rto = p->min_us;
	if (r->rto > p->max_us)
		r->rto = p->max_us;
}

static void
test_rto_initial(void **state)
{
	struct gw_rto r;

	(void)state;
	gw_rto_init(&r, NULL);
	assert_int_equal(r.rto_us, 1000000);
	assert_false(r.has_sample);
	assert_int_equal(r.backoff, 0);
	assert_int_equal(gw_rto_srtt_us(&r), 0);
	assert_int_equal(gw_rto_params_default.min_us, 200000);
	assert_int_equal(gw_rto_params_default.max_us, 60000000);
	assert_int_equal(gw_rto_params_default.initial_us, 1000000);
	assert_int_equal(gw_rto_params_default.granularity_us, 1000);
}

/*
 * 100, 120, 80, 300 ms with G = 1 ms and no floor, by hand:
 *   R=100: SRTT=100000  RTTVAR=50000    RTO=100000+200000      = 300000
 *   R=120: RTTVAR=.75*50000+.25*20000   = 42500
 *          SRTT=.875*100000+.125*120000 = 102500     RTO=102500+170000 = 272500
 *   R=80:  RTTVAR=.75*42500+.25*22500   = 37500
 *          SRTT=.875*102500+10000       = 99687.5    RTO=249687.5 -> 249688
 *   R=300: RTTVAR=.75*37500+.25*200312.5 = 78203.125
 *          SRTT=.875*99687.5+37500      = 124726.5625
 *          RTO=124726.5625+312812.5     = 437539.0625 -> 437540
 */
static void
test_rto_worked_values(void **state)
{
	static const struct gw_rto_params p = {
		.min_us = 0, .max_us = 60000000, .initial_us = 1000000,
		.granularity_us = 1000,
	};
	static const struct {
		uint32_t rtt, rto, srtt, rttvar;
	} steps[] = {
		{ 100000, 300000, 100000, 50000 },
		{ 120000, 272500, 102500, 42500 },
		{ 80000, 249688, 99688, 37500 },     /* SRTT 99687.5 rounds up */
		{ 300000, 437540, 124727, 78203 },
	};
	struct gw_rto r;

	(void)state;
	gw_rto_init(&r, &p);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		gw_rto_sample(&r, &p, steps[i].rtt);
		assert_int_equal(r.rto_us, steps[i].rto);
		assert_int_equal(gw_rto_srtt_us(&r), steps[i].srtt);
		assert_int_equal(gw_rto_rttvar_us(&r), steps[i].rttvar);
		assert_int_equal(r.backoff, 0);
	}
}

/* A long random sequence against the floating-point reference. */
static void
test_rto_vs_reference(void **state)
{
	static const struct gw_rto_params p = {
		.min_us = 0, .max_us = 120000000, .initial_us = 1000000,
		.granularity_us = 1000,
	};
	struct rto_ref ref = { 0 };
	struct gw_rto r;

	(void)state;
	rng_state = 6298;
	gw_rto_init(&r, &p);
	for (int i = 0; i < 100000; i++) {
		/* Mostly steady around 20 ms, with jumps. */
		uint32_t rtt = rng() % 50 == 0 ? (uint32_t)(rng() % 3000000) :
			       20000 + (uint32_t)(rng() % 5000);

		gw_rto_sample(&r, &p, rtt);
		rto_ref_sample(&ref, &p, rtt);
		/* Rounded up, and fixed-point error well below 1 µs. */
		/* Fixed-point error well below 1 µs; RTO rounded up. */
		if (dabs((double)r.srtt / 256 - ref.srtt) > 0.1 ||
		    dabs((double)r.rttvar / 256 - ref.rttvar) > 0.1 ||
		    r.rto_us < ref.rto - 0.2 || r.rto_us > ref.rto + 1.2)
			fail_msg("sample %d: RTO %u SRTT %.3f RTTVAR %.3f, "
				 "reference %.3f %.3f %.3f", i, r.rto_us,
				 (double)r.srtt / 256, (double)r.rttvar / 256,
				 ref.rto, ref.srtt, ref.rttvar);
	}
}

static void
test_rto_granularity_and_bounds(void **state)
{
	static const struct gw_rto_params nofloor = {
		.min_us = 0, .max_us = 60000000, .initial_us = 1000000,
		.granularity_us = 1000,
	};
	struct gw_rto r;

	(void)state;
	/* A steady RTT: RTTVAR decays until G dominates: RTO = SRTT + G. */
	gw_rto_init(&r, &nofloor);
	for (int i = 0; i < 60; i++)
		gw_rto_sample(&r, &nofloor, 10000);
	assert_int_equal(gw_rto_srtt_us(&r), 10000);
	assert_int_equal(r.rto_us, 11000);

	/* The default floor: 10 ms + 4 * 5 ms = 30 ms, raised to 200 ms. */
	gw_rto_init(&r, NULL);
	gw_rto_sample(&r, NULL, 10000);
	assert_int_equal(r.rto_us, 200000);
	assert_int_equal(gw_rto_srtt_us(&r), 10000);

	/* The cap: 50 s + 100 s, lowered to 60 s. */
	gw_rto_sample(&r, NULL, 50000000);
	gw_rto_init(&r, NULL);
	gw_rto_sample(&r, NULL, 50000000);
	assert_int_equal(r.rto_us, 60000000);

	/* A zero RTT (same host): RTO = G, then the floor. */
	gw_rto_init(&r, &nofloor);
	gw_rto_sample(&r, &nofloor, 0);
	assert_true(r.has_sample);
	assert_int_equal(r.rto_us, 1000);
	/* The next sample is not taken for a first one. */
	gw_rto_sample(&r, &nofloor, 8000);
	assert_int_equal(gw_rto_srtt_us(&r), 1000);
	assert_int_equal(gw_rto_rttvar_us(&r), 2000);
	assert_int_equal(r.rto_us, 9000);
}

static void
test_rto_backoff(void **state)
{
	struct gw_rto r;

	(void)state;
	gw_rto_init(&r, NULL);
	/* From the initial 1 s: 2, 4, 8, 16, 32, then 60 s capped. */
	assert_int_equal(gw_rto_backoff(&r, NULL), 2000000);
	assert_int_equal(gw_rto_backoff(&r, NULL), 4000000);
	assert_int_equal(gw_rto_backoff(&r, NULL), 8000000);
	assert_int_equal(gw_rto_backoff(&r, NULL), 16000000);
	assert_int_equal(gw_rto_backoff(&r, NULL), 32000000);
	assert_int_equal(gw_rto_backoff(&r, NULL), 60000000);
	assert_int_equal(gw_rto_backoff(&r, NULL), 60000000);
	assert_int_equal(r.backoff, 7);
	for (int i = 0; i < 300; i++)
		gw_rto_backoff(&r, NULL);
	assert_int_equal(r.backoff, 255);
	assert_int_equal(r.rto_us, 60000000);
	/* A new sample resets the back-off and recomputes. */
	gw_rto_sample(&r, NULL, 100000);
	assert_int_equal(r.backoff, 0);
	assert_int_equal(r.rto_us, 300000);
	assert_int_equal(gw_rto_backoff(&r, NULL), 600000);
	/* Tight custom cap. */
	{
		static const struct gw_rto_params p = {
			.min_us = 1000, .max_us = 5000, .initial_us = 3000,
			.granularity_us = 1,
		};

		gw_rto_init(&r, &p);
		assert_int_equal(r.rto_us, 3000);
		assert_int_equal(gw_rto_backoff(&r, &p), 5000);
		assert_int_equal(gw_rto_backoff(&r, &p), 5000);
	}
}

/* ================================================================== */
/* SipHash and SYN cookies                                              */
/* ================================================================== */

/* Key 00..0f, message 00..(n-1): the reference implementation's vectors. */
static void
test_siphash_vectors(void **state)
{
	static const struct {
		size_t len;
		uint64_t hash;
	} v[] = {
		{ 0, UINT64_C(0x726fdb47dd0e0e31) },
		{ 1, UINT64_C(0x74f839c593dc67fd) },
		{ 2, UINT64_C(0x0d6c8009d9a94f5a) },
		{ 3, UINT64_C(0x85676696d7fb7e2d) },
		{ 4, UINT64_C(0xcf2794e0277187b7) },
		{ 5, UINT64_C(0x18765564cd99a68d) },
		{ 6, UINT64_C(0xcbc9466e58fee3ce) },
		{ 7, UINT64_C(0xab0200f58b01d137) },
		{ 8, UINT64_C(0x93f5f5799a932462) },
		{ 9, UINT64_C(0x9e0082df0ba9e4b0) },
		{ 15, UINT64_C(0xa129ca6149be45e5) },  /* the paper's example */
	};
	uint8_t key[16], msg[64];
	uint64_t k0, k1;

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	k0 = tcpcore_load_le64(key);
	k1 = tcpcore_load_le64(key + 8);
	assert_true(k0 == UINT64_C(0x0706050403020100));
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		if (tcpcore_siphash24(k0, k1, msg, v[i].len) != v[i].hash)
			fail_msg("siphash of %zu bytes", v[i].len);
}

#define C_SADDR 0x0100000au  /* 10.0.0.1 in network order (LE host) */
#define C_DADDR 0x0200000au
#define C_SPORT 0x3930      /* 12345 */
#define C_DPORT 0x5000      /* 80 */
#define C_ISN   0x12345678u

static struct gw_syncookie_secret cookie_secret;

static void
secret_setup(uint8_t seed)
{
	uint8_t key[16];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)(seed * 31 + i * 7);
	gw_syncookie_secret_init(&cookie_secret, key);
}

static int
check_cookie(uint32_t cookie, uint32_t slot, uint16_t *mss, uint8_t *ws)
{
	return gw_syncookie_check(&cookie_secret, C_SADDR, C_DADDR, C_SPORT,
				  C_DPORT, C_ISN, cookie, slot, mss, ws);
}

static void
test_syncookie_round_trip(void **state)
{
	static const uint16_t table[] = { 536, 1220, 1300, 1380, 1440, 1452,
					  1460, 8960 };

	(void)state;
	secret_setup(1);
	for (size_t m = 0; m < ARRAY_SIZE(table); m++) {
		for (unsigned int ws = 0; ws <= 15; ws++) {
			uint8_t wscale = ws == 15 ? GW_SYNCOOKIE_NO_WSCALE :
					 (uint8_t)ws;
			uint32_t c = gw_syncookie_make(&cookie_secret, C_SADDR,
				C_DADDR, C_SPORT, C_DPORT, C_ISN, 1000,
				table[m], wscale);
			uint16_t mss = 0;
			uint8_t got_ws = 0;

			assert_int_equal(check_cookie(c, 1000, &mss, &got_ws), 0);
			assert_int_equal(mss, table[m]);
			assert_int_equal(got_ws, wscale);
			/* The slot's low bits are on top. */
			assert_int_equal(c >> 30, 1000 & 3);
		}
	}
}

static void
test_syncookie_mss_rounding(void **state)
{
	static const struct {
		uint16_t in, out;
	} v[] = {
		{ 0, 536 }, { 100, 536 }, { 535, 536 }, { 536, 536 },
		{ 1219, 536 }, { 1220, 1220 }, { 1299, 1220 }, { 1300, 1300 },
		{ 1379, 1300 }, { 1380, 1380 }, { 1439, 1380 }, { 1440, 1440 },
		{ 1451, 1440 }, { 1452, 1452 }, { 1459, 1452 }, { 1460, 1460 },
		{ 1500, 1460 }, { 8959, 1460 }, { 8960, 8960 }, { 9000, 8960 },
		{ 65535, 8960 },
	};

	(void)state;
	secret_setup(2);
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		uint32_t c = gw_syncookie_make(&cookie_secret, C_SADDR, C_DADDR,
			C_SPORT, C_DPORT, C_ISN, 7, v[i].in, 7);
		uint16_t mss;
		uint8_t ws;

		assert_int_equal(gw_syncookie_mss_round(v[i].in), v[i].out);
		assert_int_equal(check_cookie(c, 7, &mss, &ws), 0);
		assert_int_equal(mss, v[i].out);
	}
}

static void
test_syncookie_wscale_clamp(void **state)
{
	uint16_t mss;
	uint8_t ws;

	(void)state;
	secret_setup(3);
	for (unsigned int in = 14; in < 255; in++) {
		uint32_t c = gw_syncookie_make(&cookie_secret, C_SADDR, C_DADDR,
			C_SPORT, C_DPORT, C_ISN, 9, 1460, (uint8_t)in);

		assert_int_equal(check_cookie(c, 9, &mss, &ws), 0);
		assert_int_equal(ws, 14);
	}
}

static void
test_syncookie_failures(void **state)
{
	struct gw_syncookie_secret other;
	uint8_t key[16] = { 0 };
	uint32_t c;
	uint16_t mss = 1;
	uint8_t ws = 2;

	(void)state;
	secret_setup(4);
	c = gw_syncookie_make(&cookie_secret, C_SADDR, C_DADDR, C_SPORT,
			      C_DPORT, C_ISN, 500, 1460, 7);
	/* Each field of the 4-tuple, and the client's ISN. */
	assert_int_equal(gw_syncookie_check(&cookie_secret, C_SADDR + 1,
		C_DADDR, C_SPORT, C_DPORT, C_ISN, c, 500, &mss, &ws), -EINVAL);
	assert_int_equal(gw_syncookie_check(&cookie_secret, C_SADDR,
		C_DADDR ^ 0x80000000u, C_SPORT, C_DPORT, C_ISN, c, 500, &mss,
		&ws), -EINVAL);
	assert_int_equal(gw_syncookie_check(&cookie_secret, C_SADDR, C_DADDR,
		C_SPORT + 1, C_DPORT, C_ISN, c, 500, &mss, &ws), -EINVAL);
	assert_int_equal(gw_syncookie_check(&cookie_secret, C_SADDR, C_DADDR,
		C_SPORT, C_DPORT ^ 1, C_ISN, c, 500, &mss, &ws), -EINVAL);
	assert_int_equal(gw_syncookie_check(&cookie_secret, C_SADDR, C_DADDR,
		C_SPORT, C_DPORT, C_ISN + 1, c, 500, &mss, &ws), -EINVAL);
	/* Swapped direction. */
	assert_int_equal(gw_syncookie_check(&cookie_secret, C_DADDR, C_SADDR,
		C_DPORT, C_SPORT, C_ISN, c, 500, &mss, &ws), -EINVAL);
	/* Another worker's secret. */
	gw_syncookie_secret_init(&other, key);
	assert_int_equal(gw_syncookie_check(&other, C_SADDR, C_DADDR, C_SPORT,
		C_DPORT, C_ISN, c, 500, &mss, &ws), -EINVAL);
	/* Outputs untouched on failure. */
	assert_int_equal(mss, 1);
	assert_int_equal(ws, 2);

	/* Slots: the same and the next pass; older and earlier fail. */
	assert_int_equal(check_cookie(c, 500, &mss, &ws), 0);
	assert_int_equal(check_cookie(c, 501, &mss, &ws), 0);
	assert_int_equal(check_cookie(c, 502, &mss, &ws), -EINVAL);
	assert_int_equal(check_cookie(c, 503, &mss, &ws), -EINVAL);
	assert_int_equal(check_cookie(c, 504, &mss, &ws), -EINVAL); /* same low bits */
	assert_int_equal(check_cookie(c, 505, &mss, &ws), -EINVAL);
	assert_int_equal(check_cookie(c, 499, &mss, &ws), -EINVAL); /* from the future */
	assert_int_equal(check_cookie(c, 500 + 1024, &mss, &ws), -EINVAL);

	/* The slot counter wrapping: made in 0xffffffff, checked in 0. */
	c = gw_syncookie_make(&cookie_secret, C_SADDR, C_DADDR, C_SPORT,
			      C_DPORT, C_ISN, 0xffffffffu, 1300, 0);
	assert_int_equal(check_cookie(c, 0, &mss, &ws), 0);
	assert_int_equal(mss, 1300);
	assert_int_equal(ws, 0);
	assert_int_equal(check_cookie(c, 1, &mss, &ws), -EINVAL);
}

/*
 * A million random connections: each cookie checks, and the same cookie
 * with one bit flipped must not. A flip in the MAC can never pass; a flip
 * in the slot or data bits passes with probability 2^-23 (9 such bits of
 * 32, so about 0.03 expected in a million). Random garbage: about 0.06.
 */
static void
test_syncookie_flipped_bits(void **state)
{
	unsigned int passed = 0, garbage = 0;

	(void)state;
	rng_state = 1234;
	secret_setup(5);
	for (int i = 0; i < 1000000; i++) {
		uint64_t r1 = rng(), r2 = rng(), r3 = rng();
		uint32_t saddr = (uint32_t)r1, daddr = (uint32_t)(r1 >> 32);
		uint16_t sport = (uint16_t)r2, dport = (uint16_t)(r2 >> 16);
		uint32_t isn = (uint32_t)(r2 >> 32);
		uint32_t slot = (uint32_t)r3 & 0xffffff;
		uint32_t now = slot + ((r3 >> 24) & 1);
		uint16_t mss = (uint16_t)(r3 >> 32), got_mss;
		uint8_t ws = (uint8_t)(r3 >> 48) % 16, got_ws;
		uint32_t c = gw_syncookie_make(&cookie_secret, saddr, daddr,
			sport, dport, isn, slot, mss, ws == 15 ?
			GW_SYNCOOKIE_NO_WSCALE : ws);
		uint32_t bad = c ^ (UINT32_C(1) << ((r3 >> 56) & 31));

		if ((i & 15) == 0)
			assert_int_equal(gw_syncookie_check(&cookie_secret,
				saddr, daddr, sport, dport, isn, c, now,
				&got_mss, &got_ws), 0);
		if (gw_syncookie_check(&cookie_secret, saddr, daddr, sport,
				       dport, isn, bad, now, &got_mss,
				       &got_ws) == 0)
			passed++;
		if ((i & 3) == 0 &&
		    gw_syncookie_check(&cookie_secret, saddr, daddr, sport,
				       dport, isn, (uint32_t)rng(), now,
				       &got_mss, &got_ws) == 0)
			garbage++;
	}
	assert_true(passed <= 2);
	assert_true(garbage <= 2);
}

/* ================================================================== */
/* Reassembly queue                                                     */
/* ================================================================== */

/* A fake buffer: the bytes of a stream it carries, checked on free. */
struct fbuf {
	uint32_t magic;
	uint32_t off;   /* stream offset of its first byte */
	uint32_t len;
};

#define FBUF_MAGIC 0xb0ffe12u

static unsigned int fbuf_allocs, fbuf_frees;

static struct fbuf *
fbuf_new(uint32_t off, uint32_t len)
{
	struct fbuf *b = malloc(sizeof(*b));

	assert_non_null(b);
	b->magic = FBUF_MAGIC;
	b->off = off;
	b->len = len;
	fbuf_allocs++;
	return b;
}

static void
fbuf_free(void *buf, void *arg)
{
	struct fbuf *b = buf;

	assert_ptr_equal(arg, &fbuf_allocs);
	assert_int_equal(b->magic, FBUF_MAGIC);
	b->magic = 0;
	free(b);
	fbuf_frees++;
}

static struct gw_reasm_pool *
pool_new(uint32_t nodes, uint64_t bytes)
{
	struct gw_reasm_pool *p = gw_reasm_pool_create(nodes, bytes, fbuf_free,
						       &fbuf_allocs);

	assert_non_null(p);
	fbuf_allocs = fbuf_frees = 0;
	return p;
}

/* Expected items, as {seq, len, skip}. */
struct item {
	uint32_t seq, len, skip;
};

static void
expect_items_at(int line, const struct gw_reasm *q, const struct item *want,
		unsigned int n)
{
	struct gw_reasm_seg got[16];
	unsigned int count = gw_reasm_items(q, got, 16);
	uint32_t bytes = 0;

	if (count != n || q->count != n)
		fail_msg("line %d: %u items (count %u), expected %u", line,
			 count, q->count, n);
	for (unsigned int i = 0; i < n; i++) {
		if (got[i].seq != want[i].seq || got[i].len != want[i].len ||
		    got[i].skip != want[i].skip)
			fail_msg("line %d: item %u: {%u, %u, %u}, expected {%u, %u, %u}",
				 line, i, got[i].seq, got[i].len, got[i].skip,
				 want[i].seq, want[i].len, want[i].skip);
		bytes += got[i].len;
	}
	assert_int_equal(q->bytes, bytes);
}

/* EXPECT_ITEMS(q, n, {seq, len, skip}, ...) */
#define EXPECT_ITEMS(q, n, ...) \
	expect_items_at(__LINE__, q, (const struct item[]){ __VA_ARGS__ }, n)

/* Insert a fresh buffer for [seq, seq + len); free it if not queued. */
static int
ins(struct gw_reasm *q, uint32_t seq, uint32_t len, uint32_t *tf,
    uint32_t *tb)
{
	struct fbuf *b = fbuf_new(seq, len);
	int rc = gw_reasm_insert(q, seq, len, b, tf, tb);

	if (rc != GW_REASM_QUEUED)
		fbuf_free(b, &fbuf_allocs);
	return rc;
}

static void
test_reasm_in_order_and_fill(void **state)
{
	struct gw_reasm_pool *p = pool_new(64, 1 << 20);
	struct gw_reasm q;
	struct gw_reasm_seg s;
	uint32_t tf, tb;

	(void)state;
	gw_reasm_init(&q, p, 16, 1 << 16);
	assert_true(gw_reasm_is_empty(&q));
	assert_int_equal(gw_reasm_pop_ready(&q, 100, &s), 0);
	/* One segment, popped at its start. */
	assert_int_equal(ins(&q, 100, 10, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf, 0);
	assert_int_equal(tb, 0);
	assert_int_equal(gw_reasm_pop_ready(&q, 99, &s), 0);  /* hole */
	assert_int_equal(gw_reasm_pop_ready(&q, 100, &s), 1);
	assert_int_equal(s.seq, 100);
	assert_int_equal(s.len, 10);
	assert_int_equal(s.skip, 0);
	assert_int_equal(((struct fbuf *)s.buf)->off, 100);
	fbuf_free(s.buf, &fbuf_allocs);
	assert_true(gw_reasm_is_empty(&q));

	/* Out of order: 130, 120, 110 arrive; nothing until 110 fills. */
	assert_int_equal(ins(&q, 130, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q, 110, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q, 120, 10, NULL, NULL), GW_REASM_QUEUED);
	EXPECT_ITEMS(&q, 3, { 110, 10, 0 }, { 120, 10, 0 },
		     { 130, 10, 0 });
	assert_int_equal(gw_reasm_pop_ready(&q, 105, &s), 0);
	for (uint32_t want = 110; want < 140; want += 10) {
		assert_int_equal(gw_reasm_pop_ready(&q, want, &s), 1);
		assert_int_equal(s.seq, want);
		assert_int_equal(s.len, 10);
		fbuf_free(s.buf, &fbuf_allocs);
	}
	assert_int_equal(gw_reasm_pop_ready(&q, 140, &s), 0);

	/* rcv_nxt inside an item: skip what was delivered. */
	assert_int_equal(ins(&q, 200, 20, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(gw_reasm_pop_ready(&q, 205, &s), 1);
	assert_int_equal(s.seq, 205);
	assert_int_equal(s.skip, 5);
	assert_int_equal(s.len, 15);
	fbuf_free(s.buf, &fbuf_allocs);

	/* Items wholly below rcv_nxt are freed on the way. */
	assert_int_equal(ins(&q, 300, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q, 310, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q, 330, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(gw_reasm_pop_ready(&q, 325, &s), 0);
	EXPECT_ITEMS(&q, 1, { 330, 10, 0 });
	{
		struct gw_reasm_stats st;

		gw_reasm_pool_stats(p, &st);
		assert_int_equal(st.stale, 2);
		assert_int_equal(st.nodes_used, 1);
		assert_int_equal(st.bytes_used, 10);
	}
	assert_int_equal(gw_reasm_purge(&q), 1);
	assert_int_equal(fbuf_allocs, fbuf_frees);
	gw_reasm_pool_free(p);
}

/* Every overlap case, at a base and again across the sequence wrap. */
static void
overlap_cases(uint32_t b)
{
	struct gw_reasm_pool *p = pool_new(64, 1 << 20);
	struct gw_reasm q;
	struct gw_reasm_stats st;
	uint32_t tf, tb;

	gw_reasm_init(&q, p, 16, 1 << 16);

	/* Exact duplicate, and one inside: the caller keeps it. */
	assert_int_equal(ins(&q, b + 100, 10, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(ins(&q, b + 100, 10, &tf, &tb), GW_REASM_DUPLICATE);
	assert_int_equal(tf, 10);
	assert_int_equal(tb, 0);
	assert_int_equal(ins(&q, b + 102, 6, &tf, &tb), GW_REASM_DUPLICATE);
	assert_int_equal(tf, 6);
	assert_int_equal(ins(&q, b + 100, 1, &tf, &tb), GW_REASM_DUPLICATE);
	assert_int_equal(ins(&q, b + 109, 1, &tf, &tb), GW_REASM_DUPLICATE);
	/* Adjacent on both sides: no trim. */
	assert_int_equal(ins(&q, b + 110, 5, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf + tb, 0);
	assert_int_equal(ins(&q, b + 95, 5, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf + tb, 0);
	EXPECT_ITEMS(&q, 3, { b + 95, 5, 0 },
		     { b + 100, 10, 0 }, { b + 110, 5, 0 });
	gw_reasm_purge(&q);

	/* Front overlap: [100,110) then [105,115) keeps [110,115), skip 5. */
	ins(&q, b + 100, 10, NULL, NULL);
	assert_int_equal(ins(&q, b + 105, 10, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf, 5);
	assert_int_equal(tb, 0);
	EXPECT_ITEMS(&q, 2, { b + 100, 10, 0 },
		     { b + 110, 5, 5 });
	gw_reasm_purge(&q);

	/* Back overlap: [110,120) then [105,115) keeps [105,110). */
	ins(&q, b + 110, 10, NULL, NULL);
	assert_int_equal(ins(&q, b + 105, 10, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf, 0);
	assert_int_equal(tb, 5);
	EXPECT_ITEMS(&q, 2, { b + 105, 5, 0 },
		     { b + 110, 10, 0 });
	gw_reasm_purge(&q);

	/* Both ends: fills the hole between two items exactly. */
	ins(&q, b + 100, 10, NULL, NULL);
	ins(&q, b + 120, 10, NULL, NULL);
	assert_int_equal(ins(&q, b + 105, 20, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf, 5);
	assert_int_equal(tb, 5);
	EXPECT_ITEMS(&q, 3, { b + 100, 10, 0 },
		     { b + 110, 10, 5 }, { b + 120, 10, 0 });
	gw_reasm_purge(&q);

	/* Spanning several: covered items are replaced (and freed). */
	ins(&q, b + 110, 5, NULL, NULL);
	ins(&q, b + 120, 5, NULL, NULL);
	ins(&q, b + 130, 5, NULL, NULL);
	fbuf_allocs = fbuf_frees = 0;
	assert_int_equal(ins(&q, b + 100, 40, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf + tb, 0);
	assert_int_equal(fbuf_frees, 3);
	EXPECT_ITEMS(&q, 1, { b + 100, 40, 0 });
	gw_reasm_purge(&q);

	/* Spanning several, the last only partly: cut before it. */
	ins(&q, b + 110, 5, NULL, NULL);
	ins(&q, b + 120, 5, NULL, NULL);
	ins(&q, b + 130, 10, NULL, NULL);
	assert_int_equal(ins(&q, b + 100, 35, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf, 0);
	assert_int_equal(tb, 5);
	EXPECT_ITEMS(&q, 2, { b + 100, 30, 0 },
		     { b + 130, 10, 0 });
	gw_reasm_purge(&q);

	/* Front cut, covered middle, back cut, all at once. */
	ins(&q, b + 95, 10, NULL, NULL);
	ins(&q, b + 110, 5, NULL, NULL);
	ins(&q, b + 130, 10, NULL, NULL);
	assert_int_equal(ins(&q, b + 100, 35, &tf, &tb), GW_REASM_QUEUED);
	assert_int_equal(tf, 5);
	assert_int_equal(tb, 5);
	EXPECT_ITEMS(&q, 3, { b + 95, 10, 0 },
		     { b + 105, 25, 5 }, { b + 130, 10, 0 });
	/* Popping from the middle of the trimmed item adds to its skip. */
	{
		struct gw_reasm_seg s;

		assert_int_equal(gw_reasm_pop_ready(&q, b + 100, &s), 1);
		assert_int_equal(s.skip, 5);
		assert_int_equal(s.len, 5);
		fbuf_free(s.buf, &fbuf_allocs);
		assert_int_equal(gw_reasm_pop_ready(&q, b + 107, &s), 1);
		assert_int_equal(s.seq, b + 107);
		assert_int_equal(s.skip, 7);   /* 5 trimmed + 2 delivered */
		assert_int_equal(s.len, 23);
		fbuf_free(s.buf, &fbuf_allocs);
	}
	gw_reasm_purge(&q);

	/* Between two adjacent items: nothing new. */
	ins(&q, b + 100, 10, NULL, NULL);
	ins(&q, b + 110, 10, NULL, NULL);
	assert_int_equal(ins(&q, b + 105, 10, &tf, &tb), GW_REASM_DUPLICATE);
	assert_int_equal(tf, 10);
	assert_int_equal(tb, 0);
	/* Exactly over both: merged into one item. */
	assert_int_equal(ins(&q, b + 100, 20, &tf, &tb), GW_REASM_QUEUED);
	EXPECT_ITEMS(&q, 1, { b + 100, 20, 0 });
	gw_reasm_purge(&q);

	/* A segment covering an item exactly replaces it. */
	ins(&q, b + 100, 10, NULL, NULL);
	assert_int_equal(ins(&q, b + 100, 20, &tf, &tb), GW_REASM_QUEUED);
	EXPECT_ITEMS(&q, 1, { b + 100, 20, 0 });
	gw_reasm_purge(&q);

	gw_reasm_pool_stats(p, &st);
	assert_int_equal(st.nodes_used, 0);
	assert_int_equal(st.bytes_used, 0);
	assert_int_equal(st.duplicates, 5);
	assert_int_equal(st.replaced, 9);
	gw_reasm_pool_free(p);
}

static void
test_reasm_overlaps(void **state)
{
	(void)state;
	overlap_cases(0);
	overlap_cases(1000000);
	/* The wrap falls inside the cases' range of b + 95 .. b + 140. */
	overlap_cases(0xffffffffu - 110);
	overlap_cases(0xffffffffu - 99);
	overlap_cases(0xffffff00u);
}

static void
test_reasm_limits(void **state)
{
	struct gw_reasm_pool *p = pool_new(5, 1000);
	struct gw_reasm q1, q2;
	struct gw_reasm_stats st;
	struct gw_reasm_seg s;

	(void)state;
	assert_null(gw_reasm_pool_create(0, 100, fbuf_free, NULL));
	assert_null(gw_reasm_pool_create(10, 100, NULL, NULL));

	gw_reasm_init(&q1, p, 3, 100);
	gw_reasm_init(&q2, p, 10, 10000);
	assert_int_equal(ins(&q1, 10, 0, NULL, NULL), -EINVAL);
	assert_int_equal(ins(&q1, 10, 0x80000000u, NULL, NULL), -EINVAL);

	/* Per-connection count. */
	assert_int_equal(ins(&q1, 10, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q1, 30, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q1, 50, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q1, 70, 10, NULL, NULL), -ENOSPC);
	/* ...but a segment that replaces items fits: net change -1. */
	assert_int_equal(ins(&q1, 25, 40, NULL, NULL), GW_REASM_QUEUED);
	EXPECT_ITEMS(&q1, 2, { 10, 10, 0 },
		     { 25, 40, 0 });
	/* Per-connection bytes: 50 held, 100 allowed. */
	assert_int_equal(ins(&q1, 100, 51, NULL, NULL), -ENOSPC);
	assert_int_equal(ins(&q1, 100, 50, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(q1.bytes, 100);
	/* A rejected segment leaves the queue as it was. */
	assert_int_equal(ins(&q1, 0, 200, NULL, NULL), -ENOSPC);
	EXPECT_ITEMS(&q1, 3, { 10, 10, 0 },
		     { 25, 40, 0 }, { 100, 50, 0 });

	/* Per-worker nodes: 3 used by q1, 2 left for q2. */
	assert_int_equal(ins(&q2, 1000, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q2, 1100, 10, NULL, NULL), GW_REASM_QUEUED);
	assert_int_equal(ins(&q2, 1200, 10, NULL, NULL), -ENOSPC);
	/* Per-worker bytes: 120 used of 1000. */
	assert_int_equal(ins(&q2, 1015, 880, NULL, NULL), GW_REASM_QUEUED); /* covers 1100 */
	gw_reasm_pool_stats(p, &st);
	assert_int_equal(st.bytes_used, 990);
	assert_int_equal(ins(&q2, 1010, 5, NULL, NULL), -ENOSPC);  /* no node */
	assert_int_equal(gw_reasm_pop_ready(&q1, 10, &s), 1);      /* frees one */
	fbuf_free(s.buf, &fbuf_allocs);
	assert_int_equal(ins(&q2, 1010, 5, NULL, NULL), GW_REASM_QUEUED);
	/* q1 holds 90, q2 895: free a node, then bytes are the limit. */
	assert_int_equal(gw_reasm_pop_ready(&q1, 25, &s), 1);
	fbuf_free(s.buf, &fbuf_allocs);
	assert_int_equal(ins(&q2, 3000, 56, NULL, NULL), -ENOSPC);
	assert_int_equal(ins(&q2, 3000, 55, NULL, NULL), GW_REASM_QUEUED);

	gw_reasm_pool_stats(p, &st);
	assert_int_equal(st.rejected_queue, 3);
	assert_int_equal(st.rejected_pool, 3);
	assert_int_equal(st.nodes_used, 5);
	assert_int_equal(st.bytes_used, 1000);

	/* Purge frees everything. */
	assert_int_equal(gw_reasm_purge(&q1), 1);
	assert_int_equal(gw_reasm_purge(&q2), 4);
	assert_int_equal(gw_reasm_purge(&q2), 0);
	assert_true(gw_reasm_is_empty(&q1));
	assert_int_equal(q1.count + q1.bytes + q2.count + q2.bytes, 0);
	gw_reasm_pool_stats(p, &st);
	assert_int_equal(st.nodes_used, 0);
	assert_int_equal(st.bytes_used, 0);
	assert_int_equal(fbuf_allocs, fbuf_frees);
	gw_reasm_pool_free(p);
	gw_reasm_pool_free(NULL);
}

/*
 * Whole streams: random bytes cut into tiles plus random (overlapping,
 * duplicate) segments, shuffled, received as TCP would (in-order data
 * delivered at once, later data queued, older data dropped). Segments
 * dropped for a limit come back in the next pass, like retransmissions.
 * Checks: the bytes delivered are the stream, every queued item's bytes
 * (buffer + skip) are the stream's at its sequence number, and every
 * buffer is freed exactly once.
 */
#define STREAM_LEN 65536

struct seg_desc {
	uint32_t off, len;
};

static uint8_t stream[STREAM_LEN], received[STREAM_LEN];

static void
check_queue_invariants(const struct gw_reasm *q, uint32_t isn,
		       uint32_t rcv_nxt)
{
	static struct gw_reasm_seg items[4096];
	unsigned int n = gw_reasm_items(q, items, 4096);
	uint32_t bytes = 0;

	assert_true(n <= 4096);
	for (unsigned int i = 0; i < n; i++) {
		const struct fbuf *b = items[i].buf;
		uint32_t off = items[i].seq - isn;

		assert_true(gw_seq_gt(items[i].seq, rcv_nxt));
		if (i > 0)
			assert_true(gw_seq_leq(items[i - 1].seq + items[i - 1].len,
					       items[i].seq));
		/* The kept range is inside the buffer, at the right offset. */
		assert_int_equal(b->off + items[i].skip, off);
		assert_true(items[i].skip + items[i].len <= b->len);
		bytes += items[i].len;
	}
	assert_int_equal(bytes, q->bytes);
	assert_int_equal(n, q->count);
}

static void
deliver(uint32_t isn, uint32_t *rcv_nxt, const struct fbuf *b, uint32_t skip,
	uint32_t len)
{
	uint32_t at = *rcv_nxt - isn;

	assert_int_equal(b->off + skip, at);
	assert_true(at + len <= STREAM_LEN);
	memcpy(received + at, stream + b->off + skip, len);
	*rcv_nxt += len;
}

static void
stream_run(uint32_t isn, uint64_t seed, uint32_t max_count, uint32_t max_bytes,
	   uint32_t pool_nodes, bool one_pass)
{
	static struct seg_desc segs[8192];
	struct gw_reasm_pool *p = pool_new(pool_nodes, UINT64_MAX);
	struct gw_reasm q;
	struct gw_reasm_stats st;
	uint32_t rcv_nxt = isn, end = isn + STREAM_LEN;
	unsigned int n = 0, passes = 0;

	rng_state = seed;
	for (size_t i = 0; i < STREAM_LEN; i++)
		stream[i] = (uint8_t)rng();
	memset(received, 0, sizeof(received));
	/* Tiles cover the stream, so every pass makes progress. */
	for (uint32_t off = 0; off < STREAM_LEN; ) {
		uint32_t len = 1 + (uint32_t)(rng() % 1460);

		if (len > STREAM_LEN - off)
			len = STREAM_LEN - off;
		segs[n++] = (struct seg_desc){ off, len };
		off += len;
	}
	/* Random extras: overlaps, duplicates, tiny and large. */
	while (n < 3000) {
		uint32_t off = (uint32_t)(rng() % STREAM_LEN);
		uint32_t len = 1 + (uint32_t)(rng() % (rng() % 4 ? 100 : 4000));

		if (len > STREAM_LEN - off)
			len = STREAM_LEN - off;
		segs[n++] = (struct seg_desc){ off, len };
	}
	for (unsigned int i = n - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(rng() % (i + 1));
		struct seg_desc t = segs[i];

		segs[i] = segs[j];
		segs[j] = t;
	}

	gw_reasm_init(&q, p, max_count, max_bytes);
	while (rcv_nxt != end) {
		assert_true(++passes <= 200);
		for (unsigned int i = 0; i < n && rcv_nxt != end; i++) {
			uint32_t seq = isn + segs[i].off, len = segs[i].len;
			struct fbuf *b = fbuf_new(segs[i].off, len);
			struct gw_reasm_seg s;
			uint32_t tf, tb;
			int rc;

			if (gw_seq_leq(seq + len, rcv_nxt)) {
				fbuf_free(b, &fbuf_allocs);  /* old */
				continue;
			}
			if (gw_seq_leq(seq, rcv_nxt)) {
				/* In order: deliver the new part, then the queue. */
				deliver(isn, &rcv_nxt, b, rcv_nxt - seq,
					seq + len - rcv_nxt);
				fbuf_free(b, &fbuf_allocs);
				while (gw_reasm_pop_ready(&q, rcv_nxt, &s) == 1) {
					assert_int_equal(s.seq, rcv_nxt);
					deliver(isn, &rcv_nxt, s.buf, s.skip, s.len);
					fbuf_free(s.buf, &fbuf_allocs);
				}
			} else {
				rc = gw_reasm_insert(&q, seq, len, b, &tf, &tb);
				if (rc == GW_REASM_QUEUED) {
					if (tf + tb >= len)
						fail_msg("seq %u len %u: trims %u+%u",
							 seq, len, tf, tb);
				} else {
					assert_true(rc == GW_REASM_DUPLICATE ||
						    rc == -ENOSPC);
					if (rc == GW_REASM_DUPLICATE)
						assert_int_equal(tf, len);
					fbuf_free(b, &fbuf_allocs);
				}
			}
			if ((i & 63) == 0)
				check_queue_invariants(&q, isn, rcv_nxt);
		}
	}
	assert_memory_equal(received, stream, STREAM_LEN);
	gw_reasm_pool_stats(p, &st);
	if (one_pass) {
		assert_int_equal(passes, 1);
		assert_int_equal(st.rejected_queue + st.rejected_pool, 0);
	} else {
		assert_true(st.rejected_queue + st.rejected_pool > 0);
	}
	assert_true(st.queued > 0 && st.duplicates > 0 && st.trimmed_bytes > 0);
	gw_reasm_purge(&q);
	assert_int_equal(fbuf_allocs, fbuf_frees);
	gw_reasm_pool_stats(p, &st);
	assert_int_equal(st.nodes_used, 0);
	assert_int_equal(st.bytes_used, 0);
	gw_reasm_pool_free(p);
}

static void
test_reasm_streams(void **state)
{
	(void)state;
	/* Roomy limits: one pass. */
	stream_run(1, 11, 4096, 1 << 20, 8192, true);
	/* Across the wrap. */
	stream_run(0xffffffffu - STREAM_LEN / 2, 12, 4096, 1 << 20, 8192, true);
	stream_run(0xfffffff0u, 13, 4096, 1 << 20, 8192, true);
	/* Tight limits: -ENOSPC often, retransmission passes recover. */
	stream_run(0x7ffffff0u, 14, 8, 1 << 20, 8192, false);
	stream_run(0xffff0000u, 15, 64, 8000, 8192, false);
	stream_run(0xfffff000u, 16, 64, 1 << 20, 6, false);
}

/* ================================================================== */
/* TCP options                                                          */
/* ================================================================== */

/* Fixtures are lists of parts, each one whole option, so that the test
 * knows where a prefix cuts: at a boundary it parses, inside an option
 * it is malformed, after an EOL it is padding. */
#define PART_EOL (UINT32_C(1) << 31)

struct opt_part {
	const uint8_t *bytes;
	size_t len;
	uint32_t flag;   /* GW_TCPOPT_F_* it sets, PART_EOL, or 0 */
};

#define P(flag, ...) { (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }), (flag) }
#define NOP P(0, 1)
#define EOL P(PART_EOL, 0)

struct opt_fixture {
	const char *description;
	struct opt_part parts[12];
	int rc;
	struct gw_tcp_options expect;
};

#define TS(v, e) P(GW_TCPOPT_F_TIMESTAMP, 8, 10, \
	(uint8_t)((v) >> 24), (uint8_t)((v) >> 16), (uint8_t)((v) >> 8), (uint8_t)(v), \
	(uint8_t)((e) >> 24), (uint8_t)((e) >> 16), (uint8_t)((e) >> 8), (uint8_t)(e))

static const struct opt_fixture opt_fixtures[] = {
	{ "empty", { { 0 } }, 0, { 0 } },
	{ "Linux SYN: MSS, SACK-permitted, TS, NOP, WS 7",
	  { P(GW_TCPOPT_F_MSS, 2, 4, 0x05, 0xb4),
	    P(GW_TCPOPT_F_SACK_PERM, 4, 2),
	    TS(0x01020304u, 0),
	    NOP, P(GW_TCPOPT_F_WSCALE, 3, 3, 7) }, 0,
	  { .present = GW_TCPOPT_F_MSS | GW_TCPOPT_F_SACK_PERM |
		       GW_TCPOPT_F_TIMESTAMP | GW_TCPOPT_F_WSCALE,
	    .mss = 1460, .wscale = 7, .ts_val = 0x01020304u } },
	{ "data segment: NOP NOP TS",
	  { NOP, NOP, TS(0xfffffffeu, 0x80000001u) }, 0,
	  { .present = GW_TCPOPT_F_TIMESTAMP, .ts_val = 0xfffffffeu,
	    .ts_ecr = 0x80000001u } },
	{ "MSS only", { P(GW_TCPOPT_F_MSS, 2, 4, 0x23, 0x18) }, 0,
	  { .present = GW_TCPOPT_F_MSS, .mss = 8984 } },
	{ "MSS then EOL then garbage",
	  { P(GW_TCPOPT_F_MSS, 2, 4, 0x02, 0x18), EOL,
	    P(0, 0xff, 0xff, 0x02) }, 0,
	  { .present = GW_TCPOPT_F_MSS, .mss = 536 } },
	{ "EOL first", { EOL, P(0, 2, 4, 5, 0xb4) }, 0, { 0 } },
	{ "window scale 15 is taken as 14",
	  { NOP, P(GW_TCPOPT_F_WSCALE, 3, 3, 15) }, 0,
	  { .present = GW_TCPOPT_F_WSCALE, .wscale = 14 } },
	{ "window scale 255 is taken as 14",
	  { P(GW_TCPOPT_F_WSCALE, 3, 3, 255), NOP }, 0,
	  { .present = GW_TCPOPT_F_WSCALE, .wscale = 14 } },
	{ "unknown kinds are skipped",
	  { P(0, 30, 4, 0x11, 0x22), P(0, 254, 6, 0xf9, 0x89, 1, 2),
	    P(0, 99, 2), P(GW_TCPOPT_F_MSS, 2, 4, 0x05, 0x8c) }, 0,
	  { .present = GW_TCPOPT_F_MSS, .mss = 1420 } },
	{ "known kinds with a wrong length are skipped",
	  { P(0, 2, 3, 5), P(0, 3, 4, 1, 2), P(0, 4, 3, 0),
	    P(0, 8, 6, 1, 2, 3, 4), P(0, 5, 6, 1, 2, 3, 4),
	    P(0, 5, 14, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3),
	    P(GW_TCPOPT_F_WSCALE, 3, 3, 2) }, 0,
	  { .present = GW_TCPOPT_F_WSCALE, .wscale = 2 } },
	{ "repeated MSS: the last wins",
	  { P(GW_TCPOPT_F_MSS, 2, 4, 0x05, 0xb4),
	    P(GW_TCPOPT_F_MSS, 2, 4, 0x02, 0x00) }, 0,
	  { .present = GW_TCPOPT_F_MSS, .mss = 512 } },
	{ "SACK with one block",
	  { NOP, NOP, P(GW_TCPOPT_F_SACK, 5, 10, 0, 0, 0x10, 0, 0, 0, 0x20, 0) },
	  0, { .present = GW_TCPOPT_F_SACK, .sack_count = 1,
	       .sack = { { 0x1000, 0x2000 } } } },
	{ "TS and SACK with three blocks (40 bytes)",
	  { NOP, NOP, TS(5, 6), NOP, NOP,
	    P(GW_TCPOPT_F_SACK, 5, 26, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10,
	      0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0) }, 0,
	  { .present = GW_TCPOPT_F_TIMESTAMP | GW_TCPOPT_F_SACK,
	    .ts_val = 5, .ts_ecr = 6, .sack_count = 3,
	    .sack = { { 0xfffffff0u, 0x10 }, { 0x100, 0x200 },
		      { 0x300, 0x400 } } } },
	{ "SACK with four blocks",
	  { P(GW_TCPOPT_F_SACK, 5, 34, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
	      0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8) },
	  0, { .present = GW_TCPOPT_F_SACK, .sack_count = 4,
	       .sack = { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 } } } },
	{ "SACK with five blocks (beyond a header) is skipped",
	  { P(0, 5, 42, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
	      0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9,
	      0, 0, 0, 10),
	    P(GW_TCPOPT_F_SACK_PERM, 4, 2) }, 0,
	  { .present = GW_TCPOPT_F_SACK_PERM } },
	{ "NOPs only", { NOP, NOP, NOP, NOP }, 0, { 0 } },
	{ "MSS 0 is reported as it is",
	  { P(GW_TCPOPT_F_MSS, 2, 4, 0, 0) }, 0,
	  { .present = GW_TCPOPT_F_MSS, .mss = 0 } },

	/* Malformed: the last part is the bad one. */
	{ "kind without length byte", { NOP, P(0, 2) }, -EINVAL, { 0 } },
	{ "length 0", { P(GW_TCPOPT_F_MSS, 2, 4, 5, 0xb4), P(0, 8, 0) },
	  -EINVAL, { 0 } },
	{ "length 1", { P(0, 3, 1, 7) }, -EINVAL, { 0 } },
	{ "unknown kind with length 0", { P(0, 200, 0, 0, 0) }, -EINVAL, { 0 } },
	{ "unknown kind without length", { NOP, NOP, P(0, 254) }, -EINVAL, { 0 } },
	{ "timestamp overruns", { NOP, NOP, P(0, 8, 10, 0, 0, 0, 1, 0, 0) },
	  -EINVAL, { 0 } },
	{ "SACK length 255 overruns", { P(0, 5, 255, 0, 0, 0, 1) },
	  -EINVAL, { 0 } },
	{ "MSS declares 4 but 3 remain", { P(0, 2, 4, 5) }, -EINVAL, { 0 } },
};

static uint8_t *guard_region;
static size_t page_size;

static int
guard_setup(void **state)
{
	(void)state;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	guard_region = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_region == MAP_FAILED)
		return -1;
	return mprotect(guard_region + page_size, page_size, PROT_NONE);
}

static int
guard_teardown(void **state)
{
	(void)state;
	return munmap(guard_region, 2 * page_size);
}

/* A copy of @p len bytes ending right before the PROT_NONE page. */
static uint8_t *
guard_place(const uint8_t *bytes, size_t len)
{
	uint8_t *p = guard_region + page_size - len;

	memcpy(p, bytes, len);
	return p;
}

static size_t
fixture_bytes(const struct opt_fixture *fx, uint8_t *out, size_t *bounds,
	      size_t *n_parts)
{
	size_t len = 0, n = 0;

	for (; n < ARRAY_SIZE(fx->parts) && fx->parts[n].bytes != NULL; n++) {
		memcpy(out + len, fx->parts[n].bytes, fx->parts[n].len);
		len += fx->parts[n].len;
		bounds[n] = len;  /* end of part n */
	}
	*n_parts = n;
	return len;
}

static void
expect_options(const char *what, const struct gw_tcp_options *got,
	       const struct gw_tcp_options *want)
{
	if (got->present != want->present)
		fail_msg("%s: present %#x, expected %#x", what, got->present,
			 want->present);
	if (want->present & GW_TCPOPT_F_MSS)
		assert_int_equal(got->mss, want->mss);
	if (want->present & GW_TCPOPT_F_WSCALE)
		assert_int_equal(got->wscale, want->wscale);
	if (want->present & GW_TCPOPT_F_TIMESTAMP) {
		assert_int_equal(got->ts_val, want->ts_val);
		assert_int_equal(got->ts_ecr, want->ts_ecr);
	}
	if (want->present & GW_TCPOPT_F_SACK) {
		assert_int_equal(got->sack_count, want->sack_count);
		for (unsigned int i = 0; i < want->sack_count; i++) {
			assert_int_equal(got->sack[i].start, want->sack[i].start);
			assert_int_equal(got->sack[i].end, want->sack[i].end);
		}
	}
}

static void
test_options_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(opt_fixtures); i++) {
		const struct opt_fixture *fx = &opt_fixtures[i];
		uint8_t bytes[128];
		size_t bounds[12], n_parts;
		size_t len = fixture_bytes(fx, bytes, bounds, &n_parts);
		struct gw_tcp_options o;
		int rc;

		memset(&o, 0xa5, sizeof(o));
		rc = gw_tcp_options_parse(guard_place(bytes, len), len, &o);
		if (rc != fx->rc)
			fail_msg("\"%s\": rc %d, expected %d", fx->description,
				 rc, fx->rc);
		expect_options(fx->description, &o, &fx->expect);
	}
}

/* Every prefix, against the guard page: the expected result follows from
 * where the cut falls. */
static void
test_options_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(opt_fixtures); i++) {
		const struct opt_fixture *fx = &opt_fixtures[i];
		uint8_t bytes[128];
		size_t bounds[12], n_parts;
		size_t len = fixture_bytes(fx, bytes, bounds, &n_parts);

		for (size_t n = 0; n <= len; n++) {
			struct gw_tcp_options o;
			uint32_t flags = 0;
			bool boundary = n == 0, after_eol = false;
			size_t start = 0;
			int rc = gw_tcp_options_parse(guard_place(bytes, n), n, &o);

			for (size_t k = 0; k < n_parts; k++) {
				if (start >= n)
					break;
				if (fx->parts[k].flag == PART_EOL) {
					after_eol = true;
					break;
				}
				if (bounds[k] <= n)
					flags |= fx->parts[k].flag;
				if (bounds[k] == n)
					boundary = true;
				start = bounds[k];
			}
			if (fx->rc != 0 && n == len) {
				assert_int_equal(rc, fx->rc);
				assert_int_equal(o.present, 0);
			} else if (boundary || after_eol) {
				if (rc != 0)
					fail_msg("\"%s\" cut at %zu: rc %d",
						 fx->description, n, rc);
				assert_int_equal(o.present, flags);
			} else {
				if (rc != -EINVAL)
					fail_msg("\"%s\" cut at %zu inside an option: rc %d",
						 fx->description, n, rc);
				assert_int_equal(o.present, 0);
			}
		}
	}
}

static void
test_options_build(void **state)
{
	static const uint8_t syn_all[] = {
		2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0,
		1, 3, 3, 7,
	};
	static const uint8_t ts_only[] = {
		1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
	};
	static const uint8_t mss_sackperm_ws[] = {
		2, 4, 0x05, 0x8c, 1, 1, 4, 2, 1, 3, 3, 14,
	};
	struct gw_tcp_options o = { 0 };
	uint8_t buf[64];

	(void)state;
	/* Nothing. */
	assert_int_equal(gw_tcp_options_build(&o, buf, 0), 0);

	/* A SYN with everything: 20 bytes, Linux's layout. */
	o.present = GW_TCPOPT_F_MSS | GW_TCPOPT_F_SACK_PERM |
		    GW_TCPOPT_F_TIMESTAMP | GW_TCPOPT_F_WSCALE;
	o.mss = 1460;
	o.wscale = 7;
	o.ts_val = 0xdeadbeefu;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), 20);
	assert_memory_equal(buf, syn_all, sizeof(syn_all));
	/* Exactly enough room, then one byte short: nothing written. */
	assert_int_equal(gw_tcp_options_build(&o, buf, 20), 20);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(gw_tcp_options_build(&o, buf, 19), -ENOSPC);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x5a);

	/* Timestamps alone (every data segment). */
	memset(&o, 0, sizeof(o));
	o.present = GW_TCPOPT_F_TIMESTAMP;
	o.ts_val = 1;
	o.ts_ecr = 2;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, ts_only, sizeof(ts_only));

	/* SACK-permitted without timestamps takes its own NOPs. */
	memset(&o, 0, sizeof(o));
	o.present = GW_TCPOPT_F_MSS | GW_TCPOPT_F_SACK_PERM | GW_TCPOPT_F_WSCALE;
	o.mss = 1420;
	o.wscale = 14;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, mss_sackperm_ws, sizeof(mss_sackperm_ws));

	/* Out of range values. */
	o.wscale = 15;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), -EINVAL);
	memset(&o, 0, sizeof(o));
	o.present = GW_TCPOPT_F_SACK;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), -EINVAL);
	o.sack_count = 5;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), -EINVAL);
	/* Four SACK blocks fit alone (36), not with timestamps (48). */
	o.sack_count = 4;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), 36);
	o.present |= GW_TCPOPT_F_TIMESTAMP;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), -EINVAL);
	o.sack_count = 3;
	assert_int_equal(gw_tcp_options_build(&o, buf, sizeof(buf)), 40);
}

/* Everything the builder writes parses back to the same options. */
static void
test_options_round_trip(void **state)
{
	(void)state;
	rng_state = 793;
	for (int i = 0; i < 20000; i++) {
		struct gw_tcp_options in = { 0 }, out;
		uint8_t buf[GW_TCP_OPTIONS_MAX_LEN];
		int len;

		in.present = (uint32_t)rng() & 0x1f;
		in.mss = (uint16_t)rng();
		in.wscale = (uint8_t)(rng() % 15);
		in.ts_val = (uint32_t)rng();
		in.ts_ecr = (uint32_t)rng();
		in.sack_count = (uint8_t)(1 + rng() % 4);
		for (int b = 0; b < 4; b++) {
			in.sack[b].start = (uint32_t)rng();
			in.sack[b].end = (uint32_t)rng();
		}
		len = gw_tcp_options_build(&in, buf, sizeof(buf));
		if (len == -EINVAL) {
			/* Only when it cannot fit in 40 bytes. */
			assert_true(in.present & GW_TCPOPT_F_SACK);
			continue;
		}
		assert_true(len >= 0 && len % 4 == 0);
		assert_int_equal(gw_tcp_options_parse(guard_place(buf, (size_t)len),
						      (size_t)len, &out), 0);
		expect_options("round trip", &out, &in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_seq_table),
		cmocka_unit_test(test_seq_between),
		cmocka_unit_test(test_rto_initial),
		cmocka_unit_test(test_rto_worked_values),
		cmocka_unit_test(test_rto_vs_reference),
		cmocka_unit_test(test_rto_granularity_and_bounds),
		cmocka_unit_test(test_rto_backoff),
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_syncookie_round_trip),
		cmocka_unit_test(test_syncookie_mss_rounding),
		cmocka_unit_test(test_syncookie_wscale_clamp),
		cmocka_unit_test(test_syncookie_failures),
		cmocka_unit_test(test_syncookie_flipped_bits),
		cmocka_unit_test(test_reasm_in_order_and_fill),
		cmocka_unit_test(test_reasm_overlaps),
		cmocka_unit_test(test_reasm_limits),
		cmocka_unit_test(test_reasm_streams),
		cmocka_unit_test(test_options_fixtures),
		cmocka_unit_test(test_options_prefixes),
		cmocka_unit_test(test_options_build),
		cmocka_unit_test(test_options_round_trip),
	};

	return cmocka_run_group_tests_name("tcpcore", tests, guard_setup,
					   guard_teardown);
}
