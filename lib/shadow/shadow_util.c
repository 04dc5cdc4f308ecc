/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure pieces of mirroring, shared by workers (host suffix) and the
 * engine (names, parity accounting); no EAL, unit-tested on their own.
 */
#include <errno.h>
#include <string.h>

#include "gw_shadow.h"

static const char *const drop_names[GW_SHADOW_DROP_MAX] = {
	[GW_SHADOW_DROP_RING_FULL] = "ring_full",
	[GW_SHADOW_DROP_NO_MBUF] = "no_mbuf",
	[GW_SHADOW_DROP_CLIENT] = "client_abort",
	[GW_SHADOW_DROP_PENDING] = "pending",
	[GW_SHADOW_DROP_MEMORY] = "memory",
	[GW_SHADOW_DROP_CONNECT] = "connect",
	[GW_SHADOW_DROP_RESET] = "reset",
	[GW_SHADOW_DROP_TIMEOUT] = "timeout",
	[GW_SHADOW_DROP_BAD_RESPONSE] = "bad_response",
	[GW_SHADOW_DROP_UNAVAILABLE] = "unavailable",
};

static const char *const class_names[GW_SHADOW_CLASS_MAX] = {
	"2xx", "3xx", "4xx", "5xx", "error",
};

/* Latency buckets in milliseconds, as a team reads a release check:
 * fine below 100 ms, coarse above. */
const uint32_t gw_shadow_hist_bounds_ms[GW_SHADOW_HIST_BUCKETS - 1] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
};

const char *
gw_shadow_drop_name(enum gw_shadow_drop d)
{
	return (unsigned int)d < GW_SHADOW_DROP_MAX ? drop_names[d] : "unknown";
}

const char *
gw_shadow_class_name(enum gw_shadow_class c)
{
	return (unsigned int)c < GW_SHADOW_CLASS_MAX ? class_names[c] : "unknown";
}

enum gw_shadow_class
gw_shadow_status_class(uint16_t status)
{
	if (status >= 200 && status < 600)
		return (enum gw_shadow_class)(status / 100 - 2);
	return GW_SHADOW_CLASS_ERROR;
}

int
gw_shadow_host(const char *host, size_t len, char *out, size_t size)
{
	const size_t slen = sizeof(GW_SHADOW_SUFFIX) - 1;
	const char *colon = len != 0 ? memrchr(host, ':', len) : NULL;
	size_t name_len = len;

	/* The port follows the last ':' outside an IPv6 literal: one with no
	 * ']' after it ("[::1]" has none, "[::1]:80" does). */
	if (colon != NULL &&
	    memchr(colon, ']', (size_t)(host + len - colon)) == NULL)
		name_len = (size_t)(colon - host);
	if (len + slen + 1 > size)
		return -ENOSPC;
	memcpy(out, host, name_len);
	memcpy(out + name_len, GW_SHADOW_SUFFIX, slen);
	memcpy(out + name_len + slen, host + name_len, len - name_len);
	out[len + slen] = '\0';
	return (int)(len + slen);
}

static unsigned int
hist_bucket(uint32_t us)
{
	unsigned int b;

	for (b = 0; b < GW_SHADOW_HIST_BUCKETS - 1; b++)
		if (us <= gw_shadow_hist_bounds_ms[b] * 1000u)
			return b;
	return GW_SHADOW_HIST_BUCKETS - 1;
}

void
gw_shadow_parity_record(struct gw_shadow_route_stats *st,
			uint16_t primary_status, uint32_t primary_us,
			uint16_t shadow_status, uint32_t shadow_us)
{
	enum gw_shadow_class pc = gw_shadow_status_class(primary_status);
	enum gw_shadow_class sc = gw_shadow_status_class(shadow_status);

	st->pairs++;
	st->primary_class[pc]++;
	st->shadow_class[sc]++;
	if (pc != sc)
		st->mismatches++;
	/* Latencies of requests that got no response say nothing. */
	if (pc != GW_SHADOW_CLASS_ERROR) {
		st->primary_hist[hist_bucket(primary_us)]++;
		st->primary_us_sum += primary_us;
	}
	if (sc != GW_SHADOW_CLASS_ERROR) {
		st->shadow_hist[hist_bucket(shadow_us)]++;
		st->shadow_us_sum += shadow_us;
	}
}
