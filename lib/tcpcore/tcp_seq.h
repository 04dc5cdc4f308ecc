/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_TCP_SEQ_H
#define GW_TCP_SEQ_H

/**
 * @file
 * TCP sequence-number arithmetic (RFC 9293 section 3.4): numbers live in a
 * circle of 2^32 and compare by their signed 32-bit difference. Part of the
 * tcpcore API (included by gw_tcpcore.h).
 *
 * A comparison is meaningful only between numbers less than 2^31 apart,
 * which TCP guarantees for anything inside a window (at most 2^30 with
 * window scaling). Exactly 2^31 apart, a is both "less" and "greater"
 * than b; do not rely on either.
 */

#include <stdbool.h>
#include <stdint.h>

/** a - b as a signed distance: > 0 when a is after b. */
static inline int32_t
gw_seq_diff(uint32_t a, uint32_t b)
{
	/* Two's complement wrap, which GCC and Clang define. */
	return (int32_t)(a - b);
}

/** a is before b. */
static inline bool
gw_seq_lt(uint32_t a, uint32_t b)
{
	return gw_seq_diff(a, b) < 0;
}

/** a is before or equal to b. */
static inline bool
gw_seq_leq(uint32_t a, uint32_t b)
{
	return gw_seq_diff(a, b) <= 0;
}

/** a is after b. */
static inline bool
gw_seq_gt(uint32_t a, uint32_t b)
{
	return gw_seq_diff(a, b) > 0;
}

/** a is after or equal to b. */
static inline bool
gw_seq_geq(uint32_t a, uint32_t b)
{
	return gw_seq_diff(a, b) >= 0;
}

/**
 * a <= b < c going round the circle from a: b lies in the half-open range
 * [a, c). Unlike the comparisons above this is exact for any range length
 * (an empty range when a == c); it is the acceptability test of RFC 9293
 * section 3.10.7.4 (RCV.NXT <= SEG.SEQ < RCV.NXT + RCV.WND).
 */
static inline bool
gw_seq_between(uint32_t a, uint32_t b, uint32_t c)
{
	return (uint32_t)(b - a) < (uint32_t)(c - a);
}

/** The later of a and b. */
static inline uint32_t
gw_seq_max(uint32_t a, uint32_t b)
{
	return gw_seq_gt(a, b) ? a : b;
}

/** The earlier of a and b. */
static inline uint32_t
gw_seq_min(uint32_t a, uint32_t b)
{
	return gw_seq_lt(a, b) ? a : b;
}

#endif /* GW_TCP_SEQ_H */
