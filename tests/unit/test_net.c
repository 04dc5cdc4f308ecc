/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet fixtures for lib/net, in the manner of Katran's test fixtures:
 * {description, input frame, expected verdict and drop reason, expected
 * output frame}. Frames are built field by field by the small builders
 * below, and expected replies are built from scratch the same way (never by
 * running the code under test), with this file's own checksum.
 *
 * Every input is placed against a guard page (the byte after the frame is
 * PROT_NONE), and every shorter prefix of every input is fed too, so an
 * over-read faults even without ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "gw_net.h"

/* An IPv4 address constant in network order, usable in static tables. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define IPV4(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
			  (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#else
#define IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			  (uint32_t)(c) << 8 | (uint32_t)(d))
#endif

#define OUR_IP      IPV4(10, 0, 0, 1)
#define PEER_IP     IPV4(10, 0, 0, 2)
#define OTHER_IP    IPV4(10, 0, 0, 3)
#define SUBNET_BCAST IPV4(10, 0, 0, 255)
#define GATEWAY_IP  IPV4(10, 0, 0, 254)
#define OFFLINK_IP  IPV4(192, 0, 2, 7)
#define BCAST_IP    IPV4(255, 255, 255, 255)
#define MCAST_IP    IPV4(224, 0, 0, 1)
#define OSPF_IP     IPV4(224, 0, 0, 5)
#define LOOPBACK_IP IPV4(127, 0, 0, 1)

static const uint8_t OUR_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t OTHER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t BCAST_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST_MAC[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t ZERO_MAC[6];

static const struct gw_net_iface ifc = {
	.port_id = 0,
	.mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	.addr = OUR_IP,
	.prefix_len = 24,
	.gateway = GATEWAY_IP,
};

#define FRAME_MAX 1600

/* ---- independent reference checksum: big-endian words, byte by byte ---- */

static uint32_t
ref_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

/* The value to store big-endian in a checksum field. */
static uint16_t
ref_cksum(const uint8_t *p, size_t n)
{
	return (uint16_t)~ref_sum(p, n);
}

/* ---- frame builders (the comment above each fixture reads like scapy) ---- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put_addr(uint8_t *p, uint32_t addr)
{
	memcpy(p, &addr, 4);
}

static size_t
eth(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	put16(b + 12, type);
	return 14;
}

/* Ether(dst, src)/ARP(op, hwsrc=sha, psrc=spa, hwdst=tha, pdst=tpa) */
static size_t
arp(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint16_t op,
    const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	uint8_t *a = b + eth(b, dst, src, 0x0806);

	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put_addr(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put_addr(a + 24, tpa);
	return 42;
}

struct ip4 {
	uint32_t src, dst;
	uint8_t proto;
	uint8_t ttl;
	uint8_t tos;
	uint16_t id;
	uint16_t frag;       /* flags and offset */
	const uint8_t *opt;  /* options, a multiple of 4 bytes */
	size_t opt_len;
};

static void
ip_fix_cksum(uint8_t *frame)
{
	uint8_t *ip = frame + 14;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, ref_cksum(ip, ihl));
}

/* Ether(dst, src)/IP(...)/l4 */
static size_t
ipv4(uint8_t *b, const uint8_t *dst, const uint8_t *src, const struct ip4 *h,
     const uint8_t *l4, size_t l4_len)
{
	uint8_t *ip = b + eth(b, dst, src, 0x0800);
	size_t hlen = 20 + h->opt_len;

	ip[0] = (uint8_t)(0x40 | hlen / 4);
	ip[1] = h->tos;
	put16(ip + 2, (uint16_t)(hlen + l4_len));
	put16(ip + 4, h->id);
	put16(ip + 6, h->frag);
	ip[8] = h->ttl;
	ip[9] = h->proto;
	put_addr(ip + 12, h->src);
	put_addr(ip + 16, h->dst);
	if (h->opt_len)
		memcpy(ip + 20, h->opt, h->opt_len);
	memcpy(ip + hlen, l4, l4_len);
	ip_fix_cksum(b);
	return 14 + hlen + l4_len;
}

/* ICMP(type, code, id, seq)/data */
static size_t
icmp(uint8_t *m, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
     const void *data, size_t data_len)
{
	m[0] = type;
	m[1] = code;
	put16(m + 2, 0);
	put16(m + 4, id);
	put16(m + 6, seq);
	if (data_len)
		memcpy(m + 8, data, data_len);
	put16(m + 2, ref_cksum(m, 8 + data_len));
	return 8 + data_len;
}

/* TCP(sport, dport, flags=S) with doff words of header (options NOPs) */
static size_t
tcp(uint8_t *m, unsigned int doff, const char *payload)
{
	size_t hlen = doff * 4, plen = payload ? strlen(payload) : 0;

	memset(m, 0, hlen < 20 ? 20 : hlen);
	put16(m, 40000);
	put16(m + 2, 80);
	put16(m + 4, 0x1234); /* seq */
	m[12] = (uint8_t)(doff << 4);
	m[13] = 0x02;         /* SYN */
	put16(m + 14, 65535);
	for (size_t i = 20; i < hlen; i++)
		m[i] = 1;       /* NOP */
	if (plen)
		memcpy(m + (hlen < 20 ? 20 : hlen), payload, plen);
	/* The checksum is left 0: lib/net does not check TCP's. */
	return (hlen < 20 ? 20 : hlen) + plen;
}

static const struct ip4 FROM_PEER_ICMP = {
	.src = PEER_IP, .dst = OUR_IP, .proto = 1, .ttl = 63, .id = 0x4d2,
};
static const struct ip4 FROM_US_ICMP = {
	.src = OUR_IP, .dst = PEER_IP, .proto = 1, .ttl = 64, .id = 0x4d2,
};

static const char PING_DATA[] = "abcdefghijklmnopqrstuvwabcdefghi"; /* Windows' */

/* The common input: echo request PEER -> us, and our expected answer. */
static size_t
echo_req(uint8_t *b, const uint8_t *dst_mac, const struct ip4 *h)
{
	uint8_t m[64];
	size_t n = icmp(m, 8, 0, 0x77, 1, PING_DATA, 32);

	return ipv4(b, dst_mac, PEER_MAC, h, m, n);
}

static size_t
echo_rep(uint8_t *b, const struct ip4 *h)
{
	uint8_t m[64];
	size_t n = icmp(m, 0, 0, 0x77, 1, PING_DATA, 32);

	return ipv4(b, PEER_MAC, OUR_MAC, h, m, n);
}

/* ---- fixtures: inputs ---- */

/* ARP */
static size_t
in_arp_req(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, OUR_IP);
}

static size_t
out_arp_reply(uint8_t *b)
{
	return arp(b, PEER_MAC, OUR_MAC, 2, OUR_MAC, OUR_IP, PEER_MAC, PEER_IP);
}

static size_t
in_arp_req_padded(uint8_t *b)
{
	size_t n = in_arp_req(b);

	memset(b + n, 0xaa, 60 - n);
	return 60;
}

static size_t
in_arp_req_unicast(uint8_t *b)
{
	return arp(b, OUR_MAC, PEER_MAC, 1, PEER_MAC, PEER_IP, PEER_MAC, OUR_IP);
}

static size_t
in_arp_probe(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, PEER_MAC, 0, ZERO_MAC, OUR_IP);
}

static size_t
out_arp_probe_reply(uint8_t *b)
{
	return arp(b, PEER_MAC, OUR_MAC, 2, OUR_MAC, OUR_IP, PEER_MAC, 0);
}

static size_t
in_arp_req_offlink(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, PEER_MAC, OFFLINK_IP, ZERO_MAC, OUR_IP);
}

static size_t
out_arp_reply_offlink(uint8_t *b)
{
	return arp(b, PEER_MAC, OUR_MAC, 2, OUR_MAC, OUR_IP, PEER_MAC, OFFLINK_IP);
}

static size_t
in_arp_req_other(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, OTHER_IP);
}

static size_t
in_arp_reply(uint8_t *b)
{
	return arp(b, OUR_MAC, PEER_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
}

static size_t
in_arp_reply_offlink(uint8_t *b)
{
	return arp(b, OUR_MAC, PEER_MAC, 2, PEER_MAC, OFFLINK_IP, OUR_MAC, OUR_IP);
}

static size_t
in_garp_req(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, PEER_IP);
}

static size_t
in_garp_reply(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 2, PEER_MAC, PEER_IP, BCAST_MAC, PEER_IP);
}

static size_t
in_arp_truncated(uint8_t *b)
{
	return in_arp_req(b) - 1;
}

static size_t
in_arp_htype_ieee802(uint8_t *b)
{
	size_t n = in_arp_req(b);

	put16(b + 14, 6);
	return n;
}

static size_t
in_arp_ptype_ipv6(uint8_t *b)
{
	size_t n = in_arp_req(b);

	put16(b + 16, 0x86dd);
	return n;
}

static size_t
in_arp_hlen_8(uint8_t *b)
{
	size_t n = in_arp_req(b);

	b[18] = 8;
	return n;
}

static size_t
in_arp_plen_16(uint8_t *b)
{
	size_t n = in_arp_req(b);

	b[19] = 16;
	return n;
}

static size_t
in_rarp_request(uint8_t *b)
{
	size_t n = in_arp_req(b);

	put16(b + 20, 3);
	return n;
}

static size_t
in_arp_sha_broadcast(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, BCAST_MAC, PEER_IP, ZERO_MAC, OUR_IP);
}

static size_t
in_arp_conflict_req(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, PEER_MAC, OUR_IP, ZERO_MAC, OTHER_IP);
}

static size_t
in_garp_conflict(uint8_t *b)
{
	return arp(b, BCAST_MAC, PEER_MAC, 1, PEER_MAC, OUR_IP, ZERO_MAC, OUR_IP);
}

/* Ethernet */
static size_t
in_eth_13(uint8_t *b)
{
	eth(b, OUR_MAC, PEER_MAC, 0x0800);
	return 13;
}

static size_t
in_eth_empty(uint8_t *b)
{
	(void)b;
	return 0;
}

static size_t
in_eth_other_mac(uint8_t *b)
{
	return echo_req(b, OTHER_MAC, &FROM_PEER_ICMP);
}

static size_t
in_eth_multicast(uint8_t *b)
{
	return echo_req(b, MCAST_MAC, &FROM_PEER_ICMP);
}

static size_t
in_eth_group_source(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	memcpy(b + 6, MCAST_MAC, 6);
	return n;
}

static size_t
in_eth_ipv6(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	put16(b + 12, 0x86dd);
	return n;
}

static size_t
in_eth_vlan(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	put16(b + 12, 0x8100);
	return n;
}

/* ICMP */
static size_t
in_echo(uint8_t *b)
{
	return echo_req(b, OUR_MAC, &FROM_PEER_ICMP);
}

static size_t
out_echo(uint8_t *b)
{
	return echo_rep(b, &FROM_US_ICMP);
}

static size_t
in_echo_bcast_mac(uint8_t *b)
{
	return echo_req(b, BCAST_MAC, &FROM_PEER_ICMP);
}

static size_t
in_echo_offlink(uint8_t *b)
{
	struct ip4 h = FROM_PEER_ICMP;

	h.src = OFFLINK_IP;
	return echo_req(b, OUR_MAC, &h);
}

static size_t
out_echo_offlink(uint8_t *b)
{
	struct ip4 h = FROM_US_ICMP;

	h.dst = OFFLINK_IP;
	return echo_rep(b, &h);
}

static size_t
in_echo_df(uint8_t *b)
{
	struct ip4 h = FROM_PEER_ICMP;

	h.frag = 0x4000;
	h.tos = 0x10;
	return echo_req(b, OUR_MAC, &h);
}

static size_t
out_echo_df(uint8_t *b)
{
	struct ip4 h = FROM_US_ICMP;

	h.frag = 0x4000;
	h.tos = 0x10;
	return echo_rep(b, &h);
}

/* 8-byte echo, padded by the sender's NIC to the 60-byte minimum */
static size_t
in_echo_padded(uint8_t *b)
{
	uint8_t m[8];
	size_t n = ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
			icmp(m, 8, 0, 0x77, 2, NULL, 0));

	memset(b + n, 0x5a, 60 - n);
	return 60;
}

static size_t
out_echo_padded(uint8_t *b)
{
	uint8_t m[8];

	return ipv4(b, PEER_MAC, OUR_MAC, &FROM_US_ICMP, m,
		    icmp(m, 0, 0, 0x77, 2, NULL, 0));
}

/* id 0, seq 0, no data: the reply's checksum must be 0xffff, not 0x0000 */
static size_t
in_echo_zero(uint8_t *b)
{
	uint8_t m[8];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
		    icmp(m, 8, 0, 0, 0, NULL, 0));
}

static size_t
out_echo_zero(uint8_t *b)
{
	uint8_t m[8];

	return ipv4(b, PEER_MAC, OUR_MAC, &FROM_US_ICMP, m,
		    icmp(m, 0, 0, 0, 0, NULL, 0));
}

static size_t
in_echo_odd(uint8_t *b)
{
	uint8_t m[16];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
		    icmp(m, 8, 0, 0x77, 3, "abcde", 5));
}

static size_t
out_echo_odd(uint8_t *b)
{
	uint8_t m[16];

	return ipv4(b, PEER_MAC, OUR_MAC, &FROM_US_ICMP, m,
		    icmp(m, 0, 0, 0x77, 3, "abcde", 5));
}

/* IP(options=[RouterAlert]) */
static const uint8_t OPT_ROUTER_ALERT[4] = { 0x94, 0x04, 0x00, 0x00 };
/* IP(options=[RecordRoute(9 slots)]) filling IHL 15 */
static const uint8_t OPT_RR_40[40] = { 0x07, 39, 4 };

static size_t
in_echo_opt(uint8_t *b)
{
	struct ip4 h = FROM_PEER_ICMP;

	h.opt = OPT_ROUTER_ALERT;
	h.opt_len = sizeof(OPT_ROUTER_ALERT);
	return echo_req(b, OUR_MAC, &h);
}

static size_t
in_echo_opt_ihl15(uint8_t *b)
{
	struct ip4 h = FROM_PEER_ICMP;

	h.opt = OPT_RR_40;
	h.opt_len = sizeof(OPT_RR_40);
	return echo_req(b, OUR_MAC, &h);
}

static size_t
in_icmp_bad_cksum(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	b[14 + 20 + 8] ^= 0x01; /* a data byte, after the checksum was set */
	return n;
}

static size_t
in_icmp_echo_reply(uint8_t *b)
{
	uint8_t m[64];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
		    icmp(m, 0, 0, 0x77, 1, PING_DATA, 32));
}

static size_t
in_icmp_unreachable(uint8_t *b)
{
	uint8_t m[64];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
		    icmp(m, 3, 3, 0, 0, PING_DATA, 28));
}

static size_t
in_icmp_echo_code1(uint8_t *b)
{
	uint8_t m[64];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
		    icmp(m, 8, 1, 0x77, 1, PING_DATA, 32));
}

static size_t
in_icmp_truncated(uint8_t *b)
{
	static const uint8_t m[4] = { 8, 0, 0xf7, 0xff };

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m, sizeof(m));
}

/* IPv4 header checks, each on an otherwise valid echo request */
static size_t
in_ip_truncated(uint8_t *b)
{
	echo_req(b, OUR_MAC, &FROM_PEER_ICMP);
	return 14 + 19;
}

static size_t
in_ip_version6(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	b[14] = 0x65;
	ip_fix_cksum(b);
	return n;
}

static size_t
in_ip_ihl4(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	b[14] = 0x44;
	return n;
}

/* IHL 15 (60 bytes) in a frame with 20 + 8 bytes after Ethernet */
static size_t
in_ip_ihl_beyond(uint8_t *b)
{
	uint8_t m[8];
	size_t n = ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
			icmp(m, 8, 0, 1, 1, NULL, 0));

	b[14] = 0x4f;
	return n;
}

static size_t
in_ip_totlen_big(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	put16(b + 16, (uint16_t)(n - 14 + 1));
	ip_fix_cksum(b);
	return n;
}

static size_t
in_ip_totlen_small(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	put16(b + 16, 19);
	ip_fix_cksum(b);
	return n;
}

static size_t
in_ip_bad_cksum(uint8_t *b)
{
	size_t n = echo_req(b, OUR_MAC, &FROM_PEER_ICMP);

	b[14 + 10] ^= 0x80;
	return n;
}

static size_t
in_ip_mf(uint8_t *b)
{
	struct ip4 h = FROM_PEER_ICMP;

	h.frag = 0x2000;
	return echo_req(b, OUR_MAC, &h);
}

static size_t
in_ip_offset(uint8_t *b)
{
	struct ip4 h = FROM_PEER_ICMP;

	h.frag = 185; /* 1480 bytes in */
	return echo_req(b, OUR_MAC, &h);
}

static size_t
ip_with(uint8_t *b, uint32_t src, uint32_t dst)
{
	struct ip4 h = FROM_PEER_ICMP;

	h.src = src;
	h.dst = dst;
	return echo_req(b, OUR_MAC, &h);
}

/* One line each: IP(src=..., dst=...) on the echo request above. */
static size_t in_ip_dst_other(uint8_t *b) { return ip_with(b, PEER_IP, OTHER_IP); }
static size_t in_ip_dst_bcast(uint8_t *b) { return ip_with(b, PEER_IP, BCAST_IP); }
static size_t in_ip_dst_subnet_bcast(uint8_t *b) { return ip_with(b, PEER_IP, SUBNET_BCAST); }
static size_t in_ip_dst_mcast(uint8_t *b) { return ip_with(b, PEER_IP, MCAST_IP); }
static size_t in_ip_src_zero(uint8_t *b) { return ip_with(b, 0, OUR_IP); }
static size_t in_ip_src_ours(uint8_t *b) { return ip_with(b, OUR_IP, OUR_IP); }
static size_t in_ip_src_bcast(uint8_t *b) { return ip_with(b, BCAST_IP, OUR_IP); }
static size_t in_ip_src_subnet_bcast(uint8_t *b) { return ip_with(b, SUBNET_BCAST, OUR_IP); }
static size_t in_ip_src_mcast(uint8_t *b) { return ip_with(b, OSPF_IP, OUR_IP); }
static size_t in_ip_src_loopback(uint8_t *b) { return ip_with(b, LOOPBACK_IP, OUR_IP); }

/* TCP and others */
static const struct ip4 FROM_PEER_TCP = {
	.src = PEER_IP, .dst = OUR_IP, .proto = 6, .ttl = 64, .id = 1,
	.frag = 0x4000,
};

static size_t
in_tcp_syn(uint8_t *b)
{
	uint8_t m[64];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_TCP, m, tcp(m, 5, NULL));
}

static size_t
in_tcp_syn_padded(uint8_t *b)
{
	size_t n = in_tcp_syn(b);

	memset(b + n, 0, 60 - n);
	return 60;
}

static size_t
in_tcp_options_payload(uint8_t *b)
{
	uint8_t m[128];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_TCP, m,
		    tcp(m, 8, "GET / HTTP/1.1\r\n\r\n"));
}

static size_t
in_tcp_ip_options(uint8_t *b)
{
	struct ip4 h = FROM_PEER_TCP;
	uint8_t m[64];

	h.opt = OPT_ROUTER_ALERT;
	h.opt_len = sizeof(OPT_ROUTER_ALERT);
	return ipv4(b, OUR_MAC, PEER_MAC, &h, m, tcp(m, 5, NULL));
}

static size_t
in_tcp_short(uint8_t *b)
{
	uint8_t m[64];

	tcp(m, 5, NULL);
	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_TCP, m, 19);
}

static size_t
in_tcp_doff4(uint8_t *b)
{
	uint8_t m[64];

	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_TCP, m, tcp(m, 4, "xxxx"));
}

static size_t
in_tcp_doff_beyond(uint8_t *b)
{
	uint8_t m[64];
	size_t n = tcp(m, 5, "0123");

	m[12] = 0xf0; /* 60 bytes of header in a 24-byte segment */
	return ipv4(b, OUR_MAC, PEER_MAC, &FROM_PEER_TCP, m, n);
}

static size_t
in_udp(uint8_t *b)
{
	static const uint8_t u[12] = { 0x9c, 0x40, 0x00, 0x35, 0x00, 0x0c, 0, 0,
				       'q', 'u', 'e', 'r' };
	struct ip4 h = FROM_PEER_ICMP;

	h.proto = 17;
	return ipv4(b, OUR_MAC, PEER_MAC, &h, u, sizeof(u));
}

static size_t
in_igmp(uint8_t *b)
{
	static const uint8_t g[8] = { 0x16, 0, 0xfa, 0xfd, 0xe0, 0, 0, 0x01 };
	struct ip4 h = FROM_PEER_ICMP;

	h.proto = 2;
	return ipv4(b, OUR_MAC, PEER_MAC, &h, g, sizeof(g));
}

/* ---- the table ---- */

struct net_fixture {
	const char *description;
	size_t (*input)(uint8_t *frame);
	enum gw_net_verdict verdict;
	enum gw_drop_reason drop;
	size_t (*output)(uint8_t *frame);  /* expected reply, or NULL */
	uint32_t learn_ip;                 /* 0: nothing learnt */
	const uint8_t *learn_mac;
	uint16_t l3_offset, l4_offset, l4_len;
};

#define DROP(desc, in, reason) \
	{ desc, in, GW_NET_DROP, GW_DROP_##reason, NULL, 0, NULL, 0, 0, 0 }
#define ARP_REPLY(desc, in, out, lip, lmac) \
	{ desc, in, GW_NET_REPLY, GW_DROP_NONE, out, lip, lmac, 0, 0, 0 }
#define CONSUMED(desc, in, lip, lmac) \
	{ desc, in, GW_NET_CONSUMED, GW_DROP_NONE, NULL, lip, lmac, 0, 0, 0 }
#define ECHO_REPLY(desc, in, out, icmp_len) \
	{ desc, in, GW_NET_REPLY, GW_DROP_NONE, out, 0, NULL, 14, 34, icmp_len }
#define TCP(desc, in, l4_off, l4_len) \
	{ desc, in, GW_NET_TCP, GW_DROP_NONE, NULL, 0, NULL, 14, l4_off, l4_len }

static const struct net_fixture fixtures[] = {
	/* Ether(dst=bcast, src=peer)/ARP(op=who-has, psrc=peer, pdst=us) */
	ARP_REPLY("ARP request for our address: exact reply, sender learnt",
		  in_arp_req, out_arp_reply, PEER_IP, PEER_MAC),
	ARP_REPLY("ARP request padded to 60 bytes: 42-byte reply",
		  in_arp_req_padded, out_arp_reply, PEER_IP, PEER_MAC),
	ARP_REPLY("ARP request unicast to our MAC (cache re-check)",
		  in_arp_req_unicast, out_arp_reply, PEER_IP, PEER_MAC),
	ARP_REPLY("ARP probe (psrc 0.0.0.0) for our address: answered, not learnt",
		  in_arp_probe, out_arp_probe_reply, 0, NULL),
	ARP_REPLY("ARP request from an off-link sender: answered, not learnt",
		  in_arp_req_offlink, out_arp_reply_offlink, 0, NULL),
	DROP("ARP request for another address", in_arp_req_other, ARP_NOT_FOR_US),
	CONSUMED("ARP reply to us: learnt", in_arp_reply, PEER_IP, PEER_MAC),
	CONSUMED("ARP reply from an off-link sender: not learnt",
		 in_arp_reply_offlink, 0, NULL),
	CONSUMED("gratuitous ARP request: learnt", in_garp_req, PEER_IP, PEER_MAC),
	CONSUMED("gratuitous ARP reply: learnt", in_garp_reply, PEER_IP, PEER_MAC),
	DROP("ARP truncated to 27 bytes", in_arp_truncated, ARP_MALFORMED),
	DROP("ARP htype 6 (IEEE 802)", in_arp_htype_ieee802, ARP_MALFORMED),
	DROP("ARP ptype IPv6", in_arp_ptype_ipv6, ARP_MALFORMED),
	DROP("ARP hlen 8", in_arp_hlen_8, ARP_MALFORMED),
	DROP("ARP plen 16", in_arp_plen_16, ARP_MALFORMED),
	DROP("RARP request (op 3)", in_rarp_request, ARP_UNSUPPORTED_OP),
	DROP("ARP sender MAC broadcast", in_arp_sha_broadcast, ARP_MALFORMED),
	DROP("ARP request from a host claiming our address",
	     in_arp_conflict_req, ARP_CONFLICT),
	DROP("gratuitous ARP for our address from another host",
	     in_garp_conflict, ARP_CONFLICT),

	DROP("empty frame", in_eth_empty, ETH_TRUNCATED),
	DROP("13-byte frame", in_eth_13, ETH_TRUNCATED),
	DROP("unicast to another MAC", in_eth_other_mac, ETH_NOT_FOR_US),
	DROP("multicast MAC 01:00:5e:00:00:01", in_eth_multicast, ETH_NOT_FOR_US),
	DROP("multicast source MAC", in_eth_group_source, ETH_BAD_SOURCE),
	DROP("IPv6 ethertype", in_eth_ipv6, ETH_UNKNOWN_TYPE),
	DROP("802.1Q VLAN tag", in_eth_vlan, ETH_UNKNOWN_TYPE),

	/* Ether(dst=us, src=peer)/IP(src=peer, dst=us, ttl=63)/ICMP()/data */
	ECHO_REPLY("ICMP echo request: exact reply", in_echo, out_echo, 40),
	ECHO_REPLY("ICMP echo to the broadcast MAC: unicast reply",
		   in_echo_bcast_mac, out_echo, 40),
	ECHO_REPLY("ICMP echo from an off-link source", in_echo_offlink,
		   out_echo_offlink, 40),
	ECHO_REPLY("ICMP echo with DF and TOS: both kept", in_echo_df,
		   out_echo_df, 40),
	ECHO_REPLY("ICMP echo with Ethernet padding: reply without it",
		   in_echo_padded, out_echo_padded, 8),
	ECHO_REPLY("ICMP echo id 0 seq 0: checksum 0xffff", in_echo_zero,
		   out_echo_zero, 8),
	ECHO_REPLY("ICMP echo with odd-length data", in_echo_odd, out_echo_odd, 13),
	ECHO_REPLY("ICMP echo with IP options: reply without them",
		   in_echo_opt, out_echo, 40),
	ECHO_REPLY("ICMP echo with IHL 15: reply without options",
		   in_echo_opt_ihl15, out_echo, 40),
	DROP("ICMP bad checksum", in_icmp_bad_cksum, ICMP_BAD_CHECKSUM),
	DROP("ICMP echo reply to us", in_icmp_echo_reply, ICMP_UNSUPPORTED),
	DROP("ICMP port unreachable", in_icmp_unreachable, ICMP_UNSUPPORTED),
	DROP("ICMP echo request code 1", in_icmp_echo_code1, ICMP_UNSUPPORTED),
	DROP("ICMP message of 4 bytes", in_icmp_truncated, ICMP_TRUNCATED),

	DROP("IPv4 header of 19 bytes", in_ip_truncated, IP_TRUNCATED),
	DROP("IPv4 version 6", in_ip_version6, IP_BAD_VERSION),
	DROP("IPv4 IHL 4", in_ip_ihl4, IP_BAD_IHL),
	DROP("IPv4 IHL 15 beyond the frame", in_ip_ihl_beyond, IP_BAD_IHL),
	DROP("IPv4 total length one past the frame", in_ip_totlen_big, IP_BAD_LENGTH),
	DROP("IPv4 total length 19", in_ip_totlen_small, IP_BAD_LENGTH),
	DROP("IPv4 bad header checksum", in_ip_bad_cksum, IP_BAD_CHECKSUM),
	DROP("IPv4 first fragment (MF)", in_ip_mf, IP_FRAGMENT),
	DROP("IPv4 later fragment (offset 1480)", in_ip_offset, IP_FRAGMENT),
	DROP("IPv4 to another address", in_ip_dst_other, IP_NOT_FOR_US),
	DROP("IPv4 to 255.255.255.255", in_ip_dst_bcast, IP_NOT_FOR_US),
	DROP("IPv4 to the subnet broadcast", in_ip_dst_subnet_bcast, IP_NOT_FOR_US),
	DROP("IPv4 to 224.0.0.1", in_ip_dst_mcast, IP_NOT_FOR_US),
	DROP("IPv4 from 0.0.0.0", in_ip_src_zero, IP_BAD_SOURCE),
	DROP("IPv4 from our own address", in_ip_src_ours, IP_BAD_SOURCE),
	DROP("IPv4 from 255.255.255.255", in_ip_src_bcast, IP_BAD_SOURCE),
	DROP("IPv4 from the subnet broadcast", in_ip_src_subnet_bcast, IP_BAD_SOURCE),
	DROP("IPv4 from 224.0.0.5", in_ip_src_mcast, IP_BAD_SOURCE),
	DROP("IPv4 from 127.0.0.1", in_ip_src_loopback, IP_BAD_SOURCE),

	/* Ether()/IP(src=peer, dst=us, flags=DF)/TCP(dport=80, flags=S) */
	TCP("TCP SYN: offsets", in_tcp_syn, 34, 20),
	TCP("TCP SYN with Ethernet padding: length from IP", in_tcp_syn_padded, 34, 20),
	TCP("TCP with options and payload", in_tcp_options_payload, 34, 32 + 18),
	TCP("TCP behind IP options", in_tcp_ip_options, 38, 20),
	DROP("TCP header of 19 bytes", in_tcp_short, TCP_MALFORMED),
	DROP("TCP data offset 4", in_tcp_doff4, TCP_MALFORMED),
	DROP("TCP data offset beyond the segment", in_tcp_doff_beyond, TCP_MALFORMED),
	DROP("UDP", in_udp, L4_UNSUPPORTED),
	DROP("IGMP", in_igmp, L4_UNSUPPORTED),
};

#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

/* ---- guard page ---- */

static uint8_t *guard_region;
static size_t page_size;

static int
guard_setup(void **state)
{
	(void)state;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	guard_region = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_region == MAP_FAILED)
		return -1;
	return mprotect(guard_region + page_size, page_size, PROT_NONE);
}

static int
guard_teardown(void **state)
{
	(void)state;
	return munmap(guard_region, 2 * page_size);
}

/* A copy of @p len bytes ending right before the PROT_NONE page. */
static uint8_t *
guard_place(const uint8_t *frame, size_t len)
{
	uint8_t *p = guard_region + page_size - len;

	memcpy(p, frame, len);
	return p;
}

/* ---- running fixtures ---- */

#define FX_CHECK(fx, cond)                                                   \
	do {                                                                 \
		if (!(cond))                                                 \
			fail_msg("fixture \"%s\": %s", (fx)->description, #cond); \
	} while (0)

/* Bytes a fixture's verdict depends on: a shorter prefix must be dropped;
 * anything past it is padding. */
static size_t
meaningful_len(const uint8_t *in, size_t len)
{
	if (len >= 14 && get16(in + 12) == 0x0806)
		return GW_ARP_FRAME_LEN;
	if (len >= 18 && get16(in + 12) == 0x0800)
		return 14 + (size_t)get16(in + 16);
	return len;
}

static void
check_result(const struct net_fixture *fx, const uint8_t *in, size_t len,
	     const uint8_t *frame, enum gw_net_verdict v,
	     const struct gw_net_result *res)
{
	uint8_t expect[FRAME_MAX];

	if (v != fx->verdict || res->drop != fx->drop)
		fail_msg("fixture \"%s\": verdict %d drop %s, expected %d drop %s",
			 fx->description, v, gw_drop_reason_name(res->drop),
			 fx->verdict, gw_drop_reason_name(fx->drop));
	FX_CHECK(fx, res->verdict == v);
	FX_CHECK(fx, res->learn == (fx->learn_ip != 0));
	if (fx->learn_ip != 0) {
		FX_CHECK(fx, res->learn_ip == fx->learn_ip);
		FX_CHECK(fx, memcmp(res->learn_mac, fx->learn_mac, 6) == 0);
	}
	if (v == GW_NET_REPLY) {
		size_t n = fx->output(expect);

		FX_CHECK(fx, res->out_len == n);
		FX_CHECK(fx, res->out_len <= len);
		FX_CHECK(fx, memcmp(frame, expect, n) == 0);
	} else {
		/* Only a reply may touch the frame. */
		FX_CHECK(fx, memcmp(frame, in, len) == 0);
	}
	if (v == GW_NET_TCP || (v == GW_NET_REPLY && fx->l3_offset != 0)) {
		FX_CHECK(fx, res->l3_offset == fx->l3_offset);
		FX_CHECK(fx, res->l4_offset == fx->l4_offset);
		FX_CHECK(fx, res->l4_len == fx->l4_len);
	} else {
		FX_CHECK(fx, res->l3_offset == 0);
	}
}

static void
test_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		const struct net_fixture *fx = &fixtures[i];
		uint8_t in[FRAME_MAX];
		size_t len = fx->input(in);
		uint8_t *frame = guard_place(in, len);
		struct gw_net_result res;
		enum gw_net_verdict v;

		v = gw_net_input(&ifc, frame, (uint16_t)len, &res);
		check_result(fx, in, len, frame, v, &res);
	}
}

/* picohttpparser's habit: every partial input, against the guard page. */
static void
test_fixture_prefixes(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		const struct net_fixture *fx = &fixtures[i];
		uint8_t in[FRAME_MAX];
		size_t len = fx->input(in);
		size_t need = fx->verdict == GW_NET_DROP ? len :
			      meaningful_len(in, len);

		for (size_t n = 0; n < len; n++) {
			uint8_t *frame = guard_place(in, n);
			struct gw_net_result res;
			enum gw_net_verdict v;

			v = gw_net_input(&ifc, frame, (uint16_t)n, &res);
			if (n >= need) {
				/* Only padding is missing. */
				check_result(fx, in, n, frame, v, &res);
				continue;
			}
			if (v != GW_NET_DROP || res.drop == GW_DROP_NONE)
				fail_msg("fixture \"%s\" cut to %zu bytes: verdict %d",
					 fx->description, n, v);
			FX_CHECK(fx, !res.learn);
			FX_CHECK(fx, memcmp(frame, in, n) == 0);
		}
	}
}

/* Frames at every alignment: UBSan flags a misaligned load. */
static void
test_fixture_alignment(void **state)
{
	static uint8_t buf[FRAME_MAX + 8];

	(void)state;
	for (size_t i = 0; i < N_FIXTURES; i++) {
		const struct net_fixture *fx = &fixtures[i];
		uint8_t in[FRAME_MAX];
		size_t len = fx->input(in);

		for (size_t off = 1; off < 8; off++) {
			struct gw_net_result res;
			enum gw_net_verdict v;

			memcpy(buf + off, in, len);
			v = gw_net_input(&ifc, buf + off, (uint16_t)len, &res);
			check_result(fx, in, len, buf + off, v, &res);
		}
	}
}

/* ---- ICMP checksums over many messages ---- */

static void
test_echo_reply_checksums(void **state)
{
	(void)state;
	for (uint32_t id = 0; id <= 0xffff; id++) {
		uint8_t m[64], in[FRAME_MAX], expect[FRAME_MAX];
		size_t dlen = id % 33, len, elen;
		uint8_t *frame;
		struct gw_net_result res;

		len = ipv4(in, OUR_MAC, PEER_MAC, &FROM_PEER_ICMP, m,
			   icmp(m, 8, 0, (uint16_t)id, (uint16_t)(id * 7),
				PING_DATA, dlen));
		elen = ipv4(expect, PEER_MAC, OUR_MAC, &FROM_US_ICMP, m,
			    icmp(m, 0, 0, (uint16_t)id, (uint16_t)(id * 7),
				 PING_DATA, dlen));
		frame = guard_place(in, len);
		assert_int_equal(gw_net_input(&ifc, frame, (uint16_t)len, &res),
				 GW_NET_REPLY);
		assert_int_equal(res.out_len, elen);
		if (memcmp(frame, expect, elen) != 0)
			fail_msg("echo reply id %u differs", id);
		/* And the reply verifies on its own. */
		assert_int_equal(ref_sum(frame + 34, elen - 34), 0xffff);
		assert_int_equal(ref_sum(frame + 14, 20), 0xffff);
	}
}

/* ---- IPv4 header checksums (the option-less header has its own sum) ---- */

static void
test_ip_header_checksums(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < 0x20000; i++) {
		struct ip4 h = FROM_PEER_TCP;
		uint8_t m[64], in[FRAME_MAX];
		uint8_t *frame, *ip;
		struct gw_net_result res;
		size_t len;
		bool good;

		/* Field values spread over the words the sum adds, so that
		 * carries out of every 16- and 32-bit lane are exercised. */
		h.id = (uint16_t)(i * 40503u);
		h.ttl = (uint8_t)(1 + (i * 7) % 255);
		h.tos = (uint8_t)(i >> 9);
		h.frag = (i & 1) ? 0x4000 : 0;
		len = ipv4(in, OUR_MAC, PEER_MAC, &h, m, tcp(m, 5, NULL));
		frame = guard_place(in, len);
		ip = frame + 14;
		/* Every fourth frame gets a checksum off by one bit. */
		good = (i & 3) != 0;
		if (!good)
			ip[10 + (i >> 2) % 2] ^= (uint8_t)(1u << ((i >> 3) % 8));
		assert_int_equal(ref_sum(ip, 20) == 0xffff, good);
		if (good) {
			assert_int_equal(gw_net_input(&ifc, frame, (uint16_t)len,
						      &res), GW_NET_TCP);
		} else {
			assert_int_equal(gw_net_input(&ifc, frame, (uint16_t)len,
						      &res), GW_NET_DROP);
			assert_int_equal(res.drop, GW_DROP_IP_BAD_CHECKSUM);
		}
	}
}

/* ---- the rest of the API ---- */

static void
test_drop_reason_names(void **state)
{
	(void)state;
	for (int r = 0; r < GW_DROP_REASON_MAX; r++) {
		const char *name = gw_drop_reason_name((enum gw_drop_reason)r);

		assert_non_null(name);
		assert_string_not_equal(name, "unknown");
		assert_true(strlen(name) > 0);
		for (const char *c = name; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') ||
				    (*c >= '0' && *c <= '9') || *c == '_');
		for (int o = 0; o < r; o++)
			assert_string_not_equal(name,
				gw_drop_reason_name((enum gw_drop_reason)o));
	}
	assert_string_equal(gw_drop_reason_name(GW_DROP_IP_BAD_CHECKSUM),
			    "ip_bad_checksum");
	assert_string_equal(gw_drop_reason_name(GW_DROP_NONE), "none");
	assert_string_equal(gw_drop_reason_name(GW_DROP_REASON_MAX), "unknown");
	assert_string_equal(gw_drop_reason_name((enum gw_drop_reason)-1), "unknown");
}

static void
test_arp_request_build(void **state)
{
	static const struct gw_net_iface peer = {
		.mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 },
		.addr = PEER_IP,
		.prefix_len = 24,
	};
	uint8_t expect[64], buf[64];
	struct gw_net_result res;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(gw_net_arp_request_build(&ifc, PEER_IP, buf),
			 GW_ARP_FRAME_LEN);
	assert_int_equal(arp(expect, BCAST_MAC, OUR_MAC, 1, OUR_MAC, OUR_IP,
			     ZERO_MAC, PEER_IP), GW_ARP_FRAME_LEN);
	assert_memory_equal(buf, expect, GW_ARP_FRAME_LEN);
	assert_int_equal(buf[GW_ARP_FRAME_LEN], 0xee); /* nothing past 42 */

	/* The peer answers it, and we learn the peer from that answer. */
	assert_int_equal(gw_net_input(&peer, buf, GW_ARP_FRAME_LEN, &res),
			 GW_NET_REPLY);
	assert_true(res.learn);
	assert_int_equal(res.learn_ip, OUR_IP);
	assert_int_equal(gw_net_input(&ifc, buf, res.out_len, &res),
			 GW_NET_CONSUMED);
	assert_true(res.learn);
	assert_int_equal(res.learn_ip, PEER_IP);
	assert_memory_equal(res.learn_mac, PEER_MAC, 6);
}

static void
test_is_onlink(void **state)
{
	struct gw_net_iface i = ifc;

	(void)state;
	assert_true(gw_net_is_onlink(&i, IPV4(10, 0, 0, 0)));
	assert_true(gw_net_is_onlink(&i, IPV4(10, 0, 0, 255)));
	assert_false(gw_net_is_onlink(&i, IPV4(10, 0, 1, 1)));
	assert_false(gw_net_is_onlink(&i, IPV4(11, 0, 0, 1)));

	i.prefix_len = 0;   /* everything on-link, no shift by 32 */
	assert_true(gw_net_is_onlink(&i, OFFLINK_IP));
	assert_true(gw_net_is_onlink(&i, IPV4(255, 255, 255, 255)));

	i.prefix_len = 32;  /* only ourselves */
	assert_true(gw_net_is_onlink(&i, OUR_IP));
	assert_false(gw_net_is_onlink(&i, PEER_IP));

	i.prefix_len = 31;  /* RFC 3021 pair */
	assert_true(gw_net_is_onlink(&i, IPV4(10, 0, 0, 0)));
	assert_false(gw_net_is_onlink(&i, PEER_IP));

	i.prefix_len = 1;
	assert_true(gw_net_is_onlink(&i, IPV4(127, 1, 2, 3)));
	assert_false(gw_net_is_onlink(&i, IPV4(128, 0, 0, 0)));

	i.prefix_len = 33;  /* nonsense: treated as /32 */
	assert_true(gw_net_is_onlink(&i, OUR_IP));
	assert_false(gw_net_is_onlink(&i, PEER_IP));

	/* The branch-free mask, every length: the top n bits, in network
	 * order (built bit by bit here). */
	for (unsigned int n = 0; n < 256; n++) {
		uint32_t host = 0;

		for (unsigned int b = 0; b < 32 && b < n; b++)
			host |= UINT32_C(1) << (31 - b);
		assert_int_equal(gw_net_prefix_mask((uint8_t)n), htonl(host));
	}
}

static void
test_next_hop(void **state)
{
	struct gw_net_iface i = ifc;

	(void)state;
	assert_int_equal(gw_net_next_hop(&i, PEER_IP), PEER_IP);
	assert_int_equal(gw_net_next_hop(&i, OFFLINK_IP), GATEWAY_IP);
	i.gateway = 0;
	assert_int_equal(gw_net_next_hop(&i, OFFLINK_IP), 0);
	assert_int_equal(gw_net_next_hop(&i, PEER_IP), PEER_IP);
	i.prefix_len = 0;
	assert_int_equal(gw_net_next_hop(&i, OFFLINK_IP), OFFLINK_IP);
}

/*
 * Extra local addresses (service VIPs): TCP to one of them is ours, an
 * echo request to one is answered from it, addresses between or beside
 * them are not ours, and ARP is still answered for the primary only.
 */
static void
test_extra_addrs(void **state)
{
	/* only the last byte differs: ascending as uint32_t in either byte
	 * order, as the binary search expects */
	const uint32_t extra[3] = {IPV4(10, 96, 0, 10), IPV4(10, 96, 0, 20),
			     IPV4(10, 96, 0, 30)};
	struct gw_net_iface i = ifc;
	struct ip4 h = {.src = PEER_IP, .proto = 6, .ttl = 64};
	uint8_t buf[256], l4[64], echo[64];
	struct gw_net_result res;
	size_t n, l4n;

	(void)state;
	i.extra_addrs = extra;
	i.n_extra_addrs = 3;
	l4n = tcp(l4, 5, NULL);
	for (unsigned int k = 0; k < 3; k++) {
		h.dst = extra[k];
		n = ipv4(buf, OUR_MAC, PEER_MAC, &h, l4, l4n);
		assert_int_equal(gw_net_input(&i, buf, (uint16_t)n, &res), GW_NET_TCP);
	}
	h.dst = IPV4(10, 96, 0, 11);
	n = ipv4(buf, OUR_MAC, PEER_MAC, &h, l4, l4n);
	assert_int_equal(gw_net_input(&i, buf, (uint16_t)n, &res), GW_NET_DROP);
	assert_int_equal(res.drop, GW_DROP_IP_NOT_FOR_US);
	/* without the extra set the VIP is not ours */
	h.dst = extra[1];
	n = ipv4(buf, OUR_MAC, PEER_MAC, &h, l4, l4n);
	assert_int_equal(gw_net_input(&ifc, buf, (uint16_t)n, &res), GW_NET_DROP);
	assert_int_equal(res.drop, GW_DROP_IP_NOT_FOR_US);
	/* the primary still works with the set */
	h.dst = OUR_IP;
	n = ipv4(buf, OUR_MAC, PEER_MAC, &h, l4, l4n);
	assert_int_equal(gw_net_input(&i, buf, (uint16_t)n, &res), GW_NET_TCP);
	/* ping a VIP: answered from the VIP */
	h.proto = 1;
	h.dst = extra[2];
	l4n = icmp(echo, 8, 0, 1, 1, "vip", 3);
	n = ipv4(buf, OUR_MAC, PEER_MAC, &h, echo, l4n);
	assert_int_equal(gw_net_input(&i, buf, (uint16_t)n, &res), GW_NET_REPLY);
	{
		uint32_t src;

		memcpy(&src, buf + 14 + 12, 4);
		assert_int_equal(src, extra[2]);
	}
	/* ARP for a VIP is not answered: clients route to it */
	n = arp(buf, BCAST_MAC, PEER_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, extra[0]);
	assert_int_equal(gw_net_input(&i, buf, (uint16_t)n, &res), GW_NET_DROP);
	assert_int_equal(res.drop, GW_DROP_ARP_NOT_FOR_US);
}

/* The library's result, as stored, must be the reference sum big-endian. */
static void
assert_cksum_matches(const uint8_t *p, uint32_t n)
{
	uint16_t got = gw_net_cksum_raw(p, n, 0);
	uint32_t want = ref_sum(p, n);
	uint8_t bytes[2];

	memcpy(bytes, &got, 2);
	if (get16(bytes) != want)
		fail_msg("length %u at %p: got %02x%02x want %04x", n,
			 (const void *)p, bytes[0], bytes[1], want);
}

static void
test_cksum(void **state)
{
	/* RFC 1071 section 3 example: the sum is ddf2 */
	static const uint8_t rfc[8] = { 0x00, 0x01, 0xf2, 0x03,
					0xf4, 0xf5, 0xf6, 0xf7 };
	static uint8_t big[70001];
	uint8_t buf[160], bytes[2];
	uint16_t s;

	(void)state;
	s = gw_net_cksum_raw(rfc, sizeof(rfc), 0);
	memcpy(bytes, &s, 2);
	assert_int_equal(bytes[0], 0xdd);
	assert_int_equal(bytes[1], 0xf2);
	assert_int_equal(gw_net_cksum_raw(rfc, 0, 0), 0);

	/* Odd lengths at every alignment. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (uint32_t off = 0; off < 8; off++)
		for (uint32_t n = 0; n + off <= sizeof(buf); n++)
			assert_cksum_matches(buf + off, n);

	/* Odd byte alone: it is the high byte of a zero-padded word. */
	s = gw_net_cksum_raw((const uint8_t[]){ 0xab }, 1, 0);
	memcpy(bytes, &s, 2);
	assert_int_equal(bytes[0], 0xab);
	assert_int_equal(bytes[1], 0x00);

	/* Chaining: an even-length first part, then the rest. */
	for (uint32_t split = 0; split <= 100; split += 2)
		assert_int_equal(gw_net_cksum_raw(buf + split, 101 - split,
				 gw_net_cksum_raw(buf, split, 0)),
				 gw_net_cksum_raw(buf, 101, 0));

	/* Long all-ones input: no accumulator overflow. */
	memset(big, 0xff, sizeof(big));
	assert_cksum_matches(big, sizeof(big));
	assert_cksum_matches(big + 1, sizeof(big) - 1);

	/* A real header from the fixtures verifies to 0xffff. */
	assert_int_equal(in_echo(buf), 74);
	assert_int_equal(gw_net_cksum_raw(buf + 14, 20, 0), 0xffff);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_fixture_prefixes),
		cmocka_unit_test(test_fixture_alignment),
		cmocka_unit_test(test_echo_reply_checksums),
		cmocka_unit_test(test_ip_header_checksums),
		cmocka_unit_test(test_drop_reason_names),
		cmocka_unit_test(test_arp_request_build),
		cmocka_unit_test(test_is_onlink),
		cmocka_unit_test(test_next_hop),
		cmocka_unit_test(test_extra_addrs),
		cmocka_unit_test(test_cksum),
	};

	return cmocka_run_group_tests_name("net", tests, guard_setup,
					   guard_teardown);
}
