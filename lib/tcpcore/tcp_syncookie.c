/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SYN cookies: layout and rationale in gw_tcpcore.h.
 *
 * The MSS and window-scale fields travel in clear but are covered by the
 * MAC, so they cannot be changed without breaking it. The slot bits only
 * choose which of the two accepted slots to verify; the MAC covers the
 * full slot number, so a cookie four slots old whose low bits wrap round
 * to the current ones still fails.
 */
#include <errno.h>

#include "gw_tcpcore.h"
#include "siphash.h"

#define COOKIE_MAC_BITS    23
#define COOKIE_MAC_MASK    ((UINT32_C(1) << COOKIE_MAC_BITS) - 1)
#define COOKIE_DATA_SHIFT  COOKIE_MAC_BITS
#define COOKIE_DATA_MASK   0x7fu   /* mss index:3 | wscale:4 */
#define COOKIE_SLOT_SHIFT  30
#define COOKIE_SLOT_MASK   0x3u
#define COOKIE_WS_NONE     15u

/* Common MSS values: minimum, tunnels/IPv6, VPNs, PPPoE, Ethernet, jumbo. */
static const uint16_t cookie_mss[8] = {
	536, 1220, 1300, 1380, 1440, 1452, 1460, 8960,
};

static inline void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
cookie_mac(const struct gw_syncookie_secret *s, uint32_t saddr,
	   uint32_t daddr, uint16_t sport, uint16_t dport, uint32_t isn,
	   uint32_t slot, uint32_t data)
{
	uint8_t msg[21];

	put_le32(msg, saddr);
	put_le32(msg + 4, daddr);
	put_le32(msg + 8, (uint32_t)sport | (uint32_t)dport << 16);
	put_le32(msg + 12, isn);
	put_le32(msg + 16, slot);
	msg[20] = (uint8_t)data;
	return (uint32_t)tcpcore_siphash24(s->k0, s->k1, msg, sizeof(msg)) &
	       COOKIE_MAC_MASK;
}

static unsigned int
mss_index(uint16_t mss)
{
	unsigned int i = 7;

	while (i > 0 && cookie_mss[i] > mss)
		i--;
	return i;
}

void
gw_syncookie_secret_init(struct gw_syncookie_secret *s, const uint8_t key[16])
{
	s->k0 = tcpcore_load_le64(key);
	s->k1 = tcpcore_load_le64(key + 8);
}

uint16_t
gw_syncookie_mss_round(uint16_t mss)
{
	return cookie_mss[mss_index(mss)];
}

uint32_t
gw_syncookie_make(const struct gw_syncookie_secret *s, uint32_t saddr,
		  uint32_t daddr, uint16_t sport, uint16_t dport,
		  uint32_t client_isn, uint32_t now_slot, uint16_t mss,
		  uint8_t wscale)
{
	uint32_t ws = wscale == GW_SYNCOOKIE_NO_WSCALE ? COOKIE_WS_NONE :
		      wscale > GW_TCP_WSCALE_MAX ? GW_TCP_WSCALE_MAX : wscale;
	uint32_t data = mss_index(mss) << 4 | ws;

	return (now_slot & COOKIE_SLOT_MASK) << COOKIE_SLOT_SHIFT |
	       data << COOKIE_DATA_SHIFT |
	       cookie_mac(s, saddr, daddr, sport, dport, client_isn, now_slot,
			  data);
}

int
gw_syncookie_check(const struct gw_syncookie_secret *s, uint32_t saddr,
		   uint32_t daddr, uint16_t sport, uint16_t dport,
		   uint32_t client_isn, uint32_t cookie, uint32_t now_slot,
		   uint16_t *mss, uint8_t *wscale)
{
	uint32_t bits = cookie >> COOKIE_SLOT_SHIFT;
	uint32_t data = (cookie >> COOKIE_DATA_SHIFT) & COOKIE_DATA_MASK;
	uint32_t slot, ws;

	if (bits == (now_slot & COOKIE_SLOT_MASK))
		slot = now_slot;
	else if (bits == ((now_slot - 1) & COOKIE_SLOT_MASK))
		slot = now_slot - 1;
	else
		return -EINVAL;
	if (cookie_mac(s, saddr, daddr, sport, dport, client_isn, slot, data) !=
	    (cookie & COOKIE_MAC_MASK))
		return -EINVAL;
	ws = data & 0xf;
	*mss = cookie_mss[data >> 4];
	*wscale = ws == COOKIE_WS_NONE ? GW_SYNCOOKIE_NO_WSCALE : (uint8_t)ws;
	return 0;
}
