/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 64-bit hash for consistent hashing keys. The structure follows the
 * public-domain wyhash idea: fold 16 bytes at a time with a 64x64->128
 * multiply, then mix the tail and the length. Loads go through memcpy so
 * any alignment is fine.
 */
#include <string.h>

#include "gw_common.h"
#include "gw_lb.h"
#include "lb_private.h"

#define P0 0xa0761d6478bd642fULL
#define P1 0xe7037ed1a0b428dbULL
#define P2 0x8ebc6af09c88c6e3ULL

static inline uint64_t
mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}


uint64_t
gw_lb_hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t a, b;

	seed ^= mum(seed ^ P0, P1);
	if (len <= 16) {
		if (len >= 4) {
			/* two overlapping 4-byte windows at each end cover 4..16 */
			size_t mid = (len >> 3) << 2;

			a = (uint64_t)gw_load32(p) << 32 | gw_load32(p + mid);
			b = (uint64_t)gw_load32(p + len - 4) << 32 |
			    gw_load32(p + len - 4 - mid);
		} else if (len > 0) {
			a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) |
			    p[len - 1];
			b = 0;
		} else {
			a = 0;
			b = 0;
		}
	} else {
		size_t left = len;

		while (left > 16) {
			seed = mum(gw_load64(p) ^ P1, gw_load64(p + 8) ^ seed);
			p += 16;
			left -= 16;
		}
		/* last 16 bytes, overlapping the previous block if needed */
		a = gw_load64(p + left - 16);
		b = gw_load64(p + left - 8);
	}
	return mum(P2 ^ len, mum(a ^ P1, b ^ seed));
}
