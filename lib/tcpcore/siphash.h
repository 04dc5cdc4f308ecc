/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TCPCORE_SIPHASH_H
#define TCPCORE_SIPHASH_H

/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012), written from the paper's description. Private to tcpcore: the
 * SYN-cookie MAC. Byte order is fixed (little-endian words, as the paper
 * specifies), so results do not depend on the host.
 */

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of @p len bytes at @p data under key (k0, k1). */
uint64_t tcpcore_siphash24(uint64_t k0, uint64_t k1, const uint8_t *data,
			   size_t len);

/* Little-endian load of 8 bytes (a key half, a message word). */
static inline uint64_t
tcpcore_load_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#endif /* TCPCORE_SIPHASH_H */
