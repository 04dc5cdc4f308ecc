/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for gw_net_input(). The input is copied into a heap
 * buffer of exactly its size, so ASan reports any read past the frame, and
 * the result is checked against what the API promises (a reply fits in the
 * frame and carries valid checksums, offsets stay inside the frame).
 *
 * Seeds in tests/fuzz/corpus/net/ are addressed to the interface below.
 */
#include <stdlib.h>
#include <string.h>

#include "gw_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An IPv4 address constant in network order. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define IPV4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
			  (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#else
#define IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			  (uint32_t)(c) << 8 | (uint32_t)(d))
#endif

/* 02:00:00:00:00:01, 10.0.0.1/24 via 10.0.0.254 */
static const struct gw_net_iface ifc = {
	.port_id = 0,
	.mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	.addr = IPV4(10, 0, 0, 1),
	.prefix_len = 24,
	.gateway = IPV4(10, 0, 0, 254),
};

static void
check_reply(const uint8_t *frame, size_t len, const struct gw_net_result *res)
{
	if (res->out_len > len || res->out_len < GW_ETHER_HDR_LEN)
		abort();
	if (res->l3_offset == 0) {
		if (res->out_len != GW_ARP_FRAME_LEN)
			abort();
		return;
	}
	/* Echo reply: both checksums must verify. */
	if (res->l4_offset + res->l4_len != res->out_len ||
	    gw_net_cksum_raw(frame + res->l3_offset,
			     res->l4_offset - res->l3_offset, 0) != 0xffff ||
	    gw_net_cksum_raw(frame + res->l4_offset, res->l4_len, 0) != 0xffff)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_net_result res;
	enum gw_net_verdict v;
	uint8_t *frame;

	if (size > UINT16_MAX)
		return 0;
	frame = malloc(size ? size : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data, size);

	v = gw_net_input(&ifc, frame, (uint16_t)size, &res);
	if (v != res.verdict || gw_drop_reason_name(res.drop) == NULL)
		abort();
	if ((v == GW_NET_DROP) != (res.drop != GW_DROP_NONE))
		abort();
	if (v == GW_NET_REPLY) {
		check_reply(frame, size, &res);
	} else if (memcmp(frame, data, size) != 0) {
		abort(); /* only a reply may change the frame */
	}
	if (v == GW_NET_TCP &&
	    ((size_t)res.l4_offset + res.l4_len > size || res.l4_len < 20))
		abort();
	free(frame);
	return 0;
}
