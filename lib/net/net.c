/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ethernet, ARP, IPv4 and ICMP input on raw frames.
 *
 * Every check bounds its read by the length known so far: the frame length
 * for Ethernet and ARP, then the IPv4 total length (not the frame length,
 * which may include Ethernet padding) for ICMP and TCP. A frame is modified
 * only when it becomes a reply, so a dropped frame can still be counted,
 * captured or passed on unchanged.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "gw_common.h"
#include "gw_net.h"
#include "net_wire.h"

static const char *const drop_reason_names[] = {
	[GW_DROP_NONE] = "none",
	[GW_DROP_ETH_TRUNCATED] = "eth_truncated",
	[GW_DROP_ETH_NOT_FOR_US] = "eth_not_for_us",
	[GW_DROP_ETH_BAD_SOURCE] = "eth_bad_source",
	[GW_DROP_ETH_UNKNOWN_TYPE] = "eth_unknown_type",
	[GW_DROP_ARP_MALFORMED] = "arp_malformed",
	[GW_DROP_ARP_NOT_FOR_US] = "arp_not_for_us",
	[GW_DROP_ARP_UNSUPPORTED_OP] = "arp_unsupported_op",
	[GW_DROP_ARP_CONFLICT] = "arp_conflict",
	[GW_DROP_IP_TRUNCATED] = "ip_truncated",
	[GW_DROP_IP_BAD_VERSION] = "ip_bad_version",
	[GW_DROP_IP_BAD_IHL] = "ip_bad_ihl",
	[GW_DROP_IP_BAD_LENGTH] = "ip_bad_length",
	[GW_DROP_IP_BAD_CHECKSUM] = "ip_bad_checksum",
	[GW_DROP_IP_FRAGMENT] = "ip_fragment",
	[GW_DROP_IP_NOT_FOR_US] = "ip_not_for_us",
	[GW_DROP_IP_BAD_SOURCE] = "ip_bad_source",
	[GW_DROP_ICMP_TRUNCATED] = "icmp_truncated",
	[GW_DROP_ICMP_BAD_CHECKSUM] = "icmp_bad_checksum",
	[GW_DROP_ICMP_UNSUPPORTED] = "icmp_unsupported",
	[GW_DROP_TCP_MALFORMED] = "tcp_malformed",
	[GW_DROP_L4_UNSUPPORTED] = "l4_unsupported",
	[GW_DROP_NO_HANDLER] = "no_handler",
	[GW_DROP_NEIGH_QUEUE_FULL] = "neigh_queue_full",
	[GW_DROP_NEIGH_UNRESOLVED] = "neigh_unresolved",
	[GW_DROP_NO_ROUTE] = "no_route",
	[GW_DROP_TX_FULL] = "tx_full",
	[GW_DROP_NO_MBUF] = "no_mbuf",
	[GW_DROP_RING_FULL] = "ring_full",
};

/* Catches a reason appended at the end without a name; the unit test
 * checks that no name in the middle is missing. */
_Static_assert(GW_ARRAY_SIZE(drop_reason_names) == GW_DROP_REASON_MAX,
	       "every enum gw_drop_reason value needs a name");

const char *
gw_drop_reason_name(enum gw_drop_reason reason)
{
	if ((unsigned int)reason >= GW_ARRAY_SIZE(drop_reason_names) ||
	    drop_reason_names[reason] == NULL)
		return "unknown";
	return drop_reason_names[reason];
}

uint16_t
gw_net_cksum_raw(const void *data, uint32_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	/* 32-bit words in a 64-bit accumulator: 2^16 = 1 (mod 0xffff), so the
	 * folded result equals the RFC 1071 sum of 16-bit words. */
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		acc += (v & 0xffffffffu) + (v >> 32);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		acc += wire_get_raw16(p);
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		/* The odd byte is the first byte of a zero-padded word. */
		uint8_t last[2] = { p[0], 0 };

		acc += wire_get_raw16(last);
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

static void
arp_write(uint8_t *arp, uint16_t op, const uint8_t *sha, uint32_t spa,
	  const uint8_t *tha, uint32_t tpa)
{
	wire_put_be16(arp + ARP_OFF_HTYPE, ARP_HTYPE_ETHER);
	wire_put_be16(arp + ARP_OFF_PTYPE, ETHERTYPE_IPV4);
	arp[ARP_OFF_HLEN] = GW_ETHER_ADDR_LEN;
	arp[ARP_OFF_PLEN] = 4;
	wire_put_be16(arp + ARP_OFF_OP, op);
	memcpy(arp + ARP_OFF_SHA, sha, GW_ETHER_ADDR_LEN);
	wire_put_addr(arp + ARP_OFF_SPA, spa);
	memcpy(arp + ARP_OFF_THA, tha, GW_ETHER_ADDR_LEN);
	wire_put_addr(arp + ARP_OFF_TPA, tpa);
}

uint16_t
gw_net_arp_request_build(const struct gw_net_iface *ifc, uint32_t target_ip,
			 uint8_t *buf)
{
	static const uint8_t broadcast[GW_ETHER_ADDR_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	static const uint8_t unknown[GW_ETHER_ADDR_LEN];

	memcpy(buf + ETH_OFF_DST, broadcast, GW_ETHER_ADDR_LEN);
	memcpy(buf + ETH_OFF_SRC, ifc->mac, GW_ETHER_ADDR_LEN);
	wire_put_be16(buf + ETH_OFF_TYPE, ETHERTYPE_ARP);
	arp_write(buf + GW_ETHER_HDR_LEN, ARP_OP_REQUEST, ifc->mac, ifc->addr,
		  unknown, target_ip);
	return GW_ARP_FRAME_LEN;
}

static inline enum gw_net_verdict
drop(struct gw_net_result *res, enum gw_drop_reason reason)
{
	res->verdict = GW_NET_DROP;
	res->drop = reason;
	return GW_NET_DROP;
}

/* Learn only what can be used as a next hop: an on-link, non-zero address
 * (our own address was rejected before as a conflict). */
static inline void
arp_learn(const struct gw_net_iface *ifc, uint32_t spa, const uint8_t *sha,
	  struct gw_net_result *res)
{
	if (spa == 0 || !gw_net_is_onlink(ifc, spa))
		return;
	res->learn = true;
	res->learn_ip = spa;
	memcpy(res->learn_mac, sha, GW_ETHER_ADDR_LEN);
}

/* ARP and ICMP are off the TCP fast path: out of line, so that
 * gw_net_input() does not save registers only they need. */
static __attribute__((noinline, cold)) enum gw_net_verdict
arp_input(const struct gw_net_iface *ifc, uint8_t *frame, uint16_t len,
	  struct gw_net_result *res)
{
	uint8_t *arp = frame + GW_ETHER_HDR_LEN;
	uint8_t sha[GW_ETHER_ADDR_LEN];
	uint32_t spa, tpa;
	uint16_t op;

	/* Anything past the 28 bytes is Ethernet padding and ignored. */
	if (len < GW_ETHER_HDR_LEN + ARP_LEN)
		return drop(res, GW_DROP_ARP_MALFORMED);
	if (wire_get_be16(arp + ARP_OFF_HTYPE) != ARP_HTYPE_ETHER ||
	    wire_get_be16(arp + ARP_OFF_PTYPE) != ETHERTYPE_IPV4 ||
	    arp[ARP_OFF_HLEN] != GW_ETHER_ADDR_LEN || arp[ARP_OFF_PLEN] != 4)
		return drop(res, GW_DROP_ARP_MALFORMED);
	op = wire_get_be16(arp + ARP_OFF_OP);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return drop(res, GW_DROP_ARP_UNSUPPORTED_OP);

	memcpy(sha, arp + ARP_OFF_SHA, GW_ETHER_ADDR_LEN);
	spa = wire_get_addr(arp + ARP_OFF_SPA);
	tpa = wire_get_addr(arp + ARP_OFF_TPA);
	/* A group sender would make us unicast to many hosts. */
	if (wire_mac_is_group(sha))
		return drop(res, GW_DROP_ARP_MALFORMED);
	/* Someone else claims our address (or our own frame came back):
	 * learning it would hijack traffic to ourselves. */
	if (spa == ifc->addr)
		return drop(res, GW_DROP_ARP_CONFLICT);

	if (op == ARP_OP_REPLY || spa == tpa) {
		/* Reply or gratuitous announcement: update the cache only. */
		arp_learn(ifc, spa, sha, res);
		res->verdict = GW_NET_CONSUMED;
		return GW_NET_CONSUMED;
	}
	if (tpa != ifc->addr)
		return drop(res, GW_DROP_ARP_NOT_FOR_US);

	/* The asker will talk to us next: learn it (RFC 826 merge step).
	 * An ARP probe (spa 0, RFC 5227) is answered but not learnt. */
	arp_learn(ifc, spa, sha, res);
	memcpy(frame + ETH_OFF_DST, sha, GW_ETHER_ADDR_LEN);
	memcpy(frame + ETH_OFF_SRC, ifc->mac, GW_ETHER_ADDR_LEN);
	arp_write(arp, ARP_OP_REPLY, ifc->mac, ifc->addr, sha, spa);
	res->verdict = GW_NET_REPLY;
	res->out_len = GW_ARP_FRAME_LEN;
	return GW_NET_REPLY;
}

/* Sources we must never answer: a reply would go to ourselves, to no one,
 * or to many hosts at once (RFC 1122 3.2.1.3, RFC 1812 5.3.7). */
static inline bool
ipv4_source_is_bad(const struct gw_net_iface *ifc, uint32_t src)
{
	uint32_t host = ntohl(src);
	uint32_t mask = gw_net_prefix_mask(ifc->prefix_len);

	if (host == 0 || host == 0xffffffffu || src == ifc->addr)
		return true;
	if ((host >> 24) == 127 || (host >> 28) == 0xe)
		return true;
	/* The on-link directed broadcast, where the prefix has one (/31 and
	 * /32 have no broadcast address, RFC 3021). */
	if (ifc->prefix_len > 0 && ifc->prefix_len < 31 &&
	    src == ((ifc->addr & mask) | ~mask))
		return true;
	return false;
}

static __attribute__((noinline, cold)) enum gw_net_verdict
icmp_input(const struct gw_net_iface *ifc, uint8_t *frame, uint16_t ihl_len,
	   uint16_t icmp_len, struct gw_net_result *res)
{
	uint8_t *ip = frame + GW_ETHER_HDR_LEN;
	uint8_t *icmp = ip + ihl_len;
	uint8_t peer_mac[GW_ETHER_ADDR_LEN];
	uint32_t peer;

	if (icmp_len < ICMP_MIN_LEN)
		return drop(res, GW_DROP_ICMP_TRUNCATED);
	if (gw_net_cksum_raw(icmp, icmp_len, 0) != 0xffff)
		return drop(res, GW_DROP_ICMP_BAD_CHECKSUM);
	if (icmp[ICMP_OFF_TYPE] != ICMP_ECHO_REQUEST || icmp[ICMP_OFF_CODE] != 0)
		return drop(res, GW_DROP_ICMP_UNSUPPORTED);

	/* Recomputed rather than patched (RFC 1624): an incremental update
	 * gives 0x0000 instead of 0xffff for an all-zero reply (id 0, seq 0,
	 * no data), and echo is not on the fast path. */
	icmp[ICMP_OFF_TYPE] = ICMP_ECHO_REPLY;
	wire_put_raw16(icmp + ICMP_OFF_CKSUM, 0);
	wire_put_raw16(icmp + ICMP_OFF_CKSUM,
		       (uint16_t)~gw_net_cksum_raw(icmp, icmp_len, 0));

	/* Options are dropped rather than echoed: a source route would have
	 * to be reversed (RFC 1122 3.2.2.6), and none is needed to answer. */
	if (ihl_len > IP_MIN_LEN) {
		memmove(ip + IP_MIN_LEN, icmp, icmp_len);
		ip[IP_OFF_VER_IHL] = 0x45;
	}
	wire_put_be16(ip + IP_OFF_TOT_LEN, (uint16_t)(IP_MIN_LEN + icmp_len));
	peer = wire_get_addr(ip + IP_OFF_SRC);
	/* answer from the address asked: ours, or one of the extra ones */
	wire_put_addr(ip + IP_OFF_SRC, wire_get_addr(ip + IP_OFF_DST));
	wire_put_addr(ip + IP_OFF_DST, peer);
	ip[IP_OFF_TTL] = IP_REPLY_TTL;
	wire_put_raw16(ip + IP_OFF_CKSUM, 0);
	wire_put_raw16(ip + IP_OFF_CKSUM,
		       (uint16_t)~gw_net_cksum_raw(ip, IP_MIN_LEN, 0));

	/* Back to the sender's MAC from us; the worker may still re-route. */
	memcpy(peer_mac, frame + ETH_OFF_SRC, GW_ETHER_ADDR_LEN);
	memcpy(frame + ETH_OFF_DST, peer_mac, GW_ETHER_ADDR_LEN);
	memcpy(frame + ETH_OFF_SRC, ifc->mac, GW_ETHER_ADDR_LEN);

	res->verdict = GW_NET_REPLY;
	res->out_len = (uint16_t)(GW_ETHER_HDR_LEN + IP_MIN_LEN + icmp_len);
	res->l3_offset = GW_ETHER_HDR_LEN;
	res->l4_offset = GW_ETHER_HDR_LEN + IP_MIN_LEN;
	res->l4_len = icmp_len;
	return GW_NET_REPLY;
}

static enum gw_net_verdict
tcp_input(const uint8_t *tcp, uint16_t l4_offset, uint16_t tcp_len,
	  struct gw_net_result *res)
{
	unsigned int doff;

	if (tcp_len < TCP_MIN_LEN)
		return drop(res, GW_DROP_TCP_MALFORMED);
	doff = (unsigned int)(tcp[TCP_OFF_DOFF] >> 4) * 4;
	if (doff < TCP_MIN_LEN || doff > tcp_len)
		return drop(res, GW_DROP_TCP_MALFORMED);
	/* The checksum is the TCP stack's: it may be offloaded to the NIC. */
	res->verdict = GW_NET_TCP;
	res->l3_offset = GW_ETHER_HDR_LEN;
	res->l4_offset = l4_offset;
	res->l4_len = tcp_len;
	return GW_NET_TCP;
}

/* One of the interface's extra local addresses (binary search). */
static bool
is_extra_addr(const struct gw_net_iface *ifc, uint32_t a)
{
	uint32_t lo = 0, hi = ifc->n_extra_addrs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ifc->extra_addrs[mid] == a)
			return true;
		if (ifc->extra_addrs[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* gw_net_cksum_raw(p, 20, 0) unrolled for the option-less header every
 * segment has: 32-bit words in a 64-bit accumulator, folded the same way
 * (a zero sum only when all words are zero, as there). */
static inline uint16_t
cksum_hdr20(const uint8_t *p)
{
	uint64_t a, b, acc;
	uint32_t c;

	memcpy(&a, p, sizeof(a));
	memcpy(&b, p + 8, sizeof(b));
	memcpy(&c, p + 16, sizeof(c));
	acc = (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + c;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

static enum gw_net_verdict
ipv4_input(const struct gw_net_iface *ifc, uint8_t *frame, uint16_t len,
	   struct gw_net_result *res)
{
	uint8_t *ip = frame + GW_ETHER_HDR_LEN;
	uint16_t avail = (uint16_t)(len - GW_ETHER_HDR_LEN);
	uint16_t ihl_len, tot_len, l4_len;

	if (avail < IP_MIN_LEN)
		return drop(res, GW_DROP_IP_TRUNCATED);
	if ((ip[IP_OFF_VER_IHL] >> 4) != 4)
		return drop(res, GW_DROP_IP_BAD_VERSION);
	ihl_len = (uint16_t)((ip[IP_OFF_VER_IHL] & 0x0f) * 4);
	if (ihl_len < IP_MIN_LEN || ihl_len > avail)
		return drop(res, GW_DROP_IP_BAD_IHL);
	/* Bytes past tot_len are Ethernet padding: never parse them. */
	tot_len = wire_get_be16(ip + IP_OFF_TOT_LEN);
	if (tot_len < ihl_len || tot_len > avail)
		return drop(res, GW_DROP_IP_BAD_LENGTH);
	if ((ihl_len == IP_MIN_LEN ? cksum_hdr20(ip) :
	     gw_net_cksum_raw(ip, ihl_len, 0)) != 0xffff)
		return drop(res, GW_DROP_IP_BAD_CHECKSUM);
	if ((wire_get_be16(ip + IP_OFF_FRAG) & (IP_FRAG_MF | IP_FRAG_OFFSET)) != 0)
		return drop(res, GW_DROP_IP_FRAGMENT);
	/* Broadcasts and multicasts land here too: we answer only unicast. */
	if (wire_get_addr(ip + IP_OFF_DST) != ifc->addr &&
	    !is_extra_addr(ifc, wire_get_addr(ip + IP_OFF_DST)))
		return drop(res, GW_DROP_IP_NOT_FOR_US);
	if (ipv4_source_is_bad(ifc, wire_get_addr(ip + IP_OFF_SRC)))
		return drop(res, GW_DROP_IP_BAD_SOURCE);

	l4_len = (uint16_t)(tot_len - ihl_len);
	switch (ip[IP_OFF_PROTO]) {
	case IP_PROTO_TCP:
		return tcp_input(ip + ihl_len,
				 (uint16_t)(GW_ETHER_HDR_LEN + ihl_len), l4_len,
				 res);
	case IP_PROTO_ICMP:
		return icmp_input(ifc, frame, ihl_len, l4_len, res);
	default:
		return drop(res, GW_DROP_L4_UNSUPPORTED);
	}
}

enum gw_net_verdict
gw_net_input(const struct gw_net_iface *ifc, uint8_t *frame, uint16_t len,
	     struct gw_net_result *res)
{
	const uint8_t *dst = frame + ETH_OFF_DST;

	memset(res, 0, sizeof(*res));
	if (len < GW_ETHER_HDR_LEN)
		return drop(res, GW_DROP_ETH_TRUNCATED);
	if (memcmp(dst, ifc->mac, GW_ETHER_ADDR_LEN) != 0 &&
	    !wire_mac_is_broadcast(dst))
		return drop(res, GW_DROP_ETH_NOT_FOR_US);
	/* IEEE 802.3: a source is always an individual address. */
	if (wire_mac_is_group(frame + ETH_OFF_SRC))
		return drop(res, GW_DROP_ETH_BAD_SOURCE);

	switch (wire_get_be16(frame + ETH_OFF_TYPE)) {
	case ETHERTYPE_IPV4:
		return ipv4_input(ifc, frame, len, res);
	case ETHERTYPE_ARP:
		return arp_input(ifc, frame, len, res);
	default:
		return drop(res, GW_DROP_ETH_UNKNOWN_TYPE);
	}
}
