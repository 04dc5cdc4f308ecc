/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NEIGH_HASH_H
#define NEIGH_HASH_H

/*
 * Hash of a neighbour key. Private to lib/neigh; the unit test includes it
 * to pick keys that collide, so probing and deletion are tested on purpose
 * rather than by luck.
 */

#include <stdint.h>

/* MurmurHash3's 64-bit finaliser: neighbours on one subnet differ only in
 * the low bits of the address, so those must reach the slot index. */
static inline uint32_t
neigh_hash(uint16_t port, uint32_t ip)
{
	uint64_t k = (uint64_t)port << 32 | ip;

	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64_C(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return (uint32_t)k;
}

#endif /* NEIGH_HASH_H */
