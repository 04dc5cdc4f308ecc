/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for gw_tcp_options_parse(). The input is copied into a
 * heap buffer of exactly its size, so ASan reports any read past the
 * options. What parses must satisfy the API's promises, and must survive a
 * round trip: built again with gw_tcp_options_build() and parsed back, it
 * gives the same options.
 *
 * Seeds in tests/fuzz/corpus/tcp_options/ are raw option blocks (the bytes
 * after the fixed 20-byte TCP header).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_tcpcore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ALL_FLAGS (GW_TCPOPT_F_MSS | GW_TCPOPT_F_WSCALE | \
		   GW_TCPOPT_F_SACK_PERM | GW_TCPOPT_F_TIMESTAMP | \
		   GW_TCPOPT_F_SACK)

static void
check_same(const struct gw_tcp_options *a, const struct gw_tcp_options *b)
{
	if (a->present != b->present)
		abort();
	if ((a->present & GW_TCPOPT_F_MSS) && a->mss != b->mss)
		abort();
	if ((a->present & GW_TCPOPT_F_WSCALE) && a->wscale != b->wscale)
		abort();
	if ((a->present & GW_TCPOPT_F_TIMESTAMP) &&
	    (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
		abort();
	if (a->present & GW_TCPOPT_F_SACK) {
		if (a->sack_count != b->sack_count)
			abort();
		for (unsigned int i = 0; i < a->sack_count; i++)
			if (a->sack[i].start != b->sack[i].start ||
			    a->sack[i].end != b->sack[i].end)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_tcp_options o, again;
	uint8_t out[GW_TCP_OPTIONS_MAX_LEN];
	uint8_t *buf;
	int rc, len;

	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	rc = gw_tcp_options_parse(buf, size, &o);
	if (memcmp(buf, data, size) != 0)
		abort();  /* the parser never writes its input */
	free(buf);
	if (rc == -EINVAL) {
		if (o.present != 0)
			abort();
		return 0;
	}
	if (rc != 0 || (o.present & ~ALL_FLAGS) != 0 ||
	    o.wscale > GW_TCP_WSCALE_MAX)
		abort();
	if ((o.present & GW_TCPOPT_F_SACK) &&
	    (o.sack_count == 0 || o.sack_count > GW_TCP_SACK_MAX_BLOCKS))
		abort();

	len = gw_tcp_options_build(&o, out, sizeof(out));
	if (len == -EINVAL) {
		/* Only SACK blocks can push the total past 40 bytes. */
		if (!(o.present & GW_TCPOPT_F_SACK))
			abort();
		return 0;
	}
	if (len < 0 || len % 4 != 0 || len > GW_TCP_OPTIONS_MAX_LEN)
		abort();
	if (gw_tcp_options_parse(out, (size_t)len, &again) != 0)
		abort();
	check_same(&o, &again);
	return 0;
}
