/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_COMMON_H
#define GW_COMMON_H

/**
 * @file
 * Small helpers shared by every module: project error codes, branch hints,
 * and the caller-supplied error buffer convention used by config and control
 * code ("file:line:col: message" for a person to read).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GW_LIKELY(x)   __builtin_expect(!!(x), 1)
#define GW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Unaligned loads in host byte order, for hashing and word-wise compares
 * (a memcpy of constant size compiles to one MOV). */
static inline uint64_t
gw_load64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t
gw_load32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* a[0..n) == b[0..n), inline for short strings (hosts, labels): word
 * loads, the last one overlapping, none past either end; a libc call
 * costs as much as the compare. */
static inline bool
gw_bytes_eq(const char *a, const char *b, size_t n)
{
	if (n >= 8) {
		for (; n > 8; a += 8, b += 8, n -= 8)
			if (gw_load64(a) != gw_load64(b))
				return false;
		return gw_load64(a + n - 8) == gw_load64(b + n - 8);
	}
	if (n >= 4)
		return gw_load32(a) == gw_load32(b) &&
		       gw_load32(a + n - 4) == gw_load32(b + n - 4);
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/** Size of the error buffers that config and control functions fill. */
#define GW_ERR_LEN 512

/**
 * Project error codes beyond errno. Functions return 0 (or a count) on
 * success and a negative errno or -GW_E* on failure.
 */
enum gw_error {
	GW_EBASE = 1000,
	GW_ECONFIG,   /**< invalid configuration (details in the error buffer) */
	GW_EMODULE,   /**< a module failed to initialise */
	GW_EPORT,     /**< a port could not be configured */
	GW_ELIMIT,    /**< a configured limit was reached */
};

/** Text for a negative errno or -GW_E* code. Never returns NULL. */
const char *gw_strerror(int code);

/**
 * Format a message into a caller-supplied buffer (NULL-safe, always
 * terminated). Returns -GW_ECONFIG so that callers can `return gw_err(...)`.
 */
int gw_err(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Grow a heap array (control-plane builders only) so that it holds at
 * least @p need elements of @p size bytes: capacity starts at
 * @p first_cap and doubles. 0, or -ENOMEM with the array unchanged.
 */
int gw_array_grow(void **arr, uint32_t *cap, uint32_t need, size_t size,
		  uint32_t first_cap);

#endif /* GW_COMMON_H */
