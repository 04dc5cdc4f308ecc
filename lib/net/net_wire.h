/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NET_WIRE_H
#define NET_WIRE_H

/*
 * Wire layouts of Ethernet, ARP, IPv4, ICMP and TCP as byte offsets, and
 * loads/stores that work at any alignment. Frames come from a NIC buffer at
 * whatever offset the driver chose, so the parser never casts a frame
 * pointer to a struct: every access goes through memcpy or single bytes.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gw_net.h"

/* Ethernet II */
#define ETH_OFF_DST   0
#define ETH_OFF_SRC   6
#define ETH_OFF_TYPE  12

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806

/* ARP for Ethernet/IPv4 (RFC 826), offsets from the ARP header */
#define ARP_OFF_HTYPE 0
#define ARP_OFF_PTYPE 2
#define ARP_OFF_HLEN  4
#define ARP_OFF_PLEN  5
#define ARP_OFF_OP    6
#define ARP_OFF_SHA   8
#define ARP_OFF_SPA   14
#define ARP_OFF_THA   18
#define ARP_OFF_TPA   24
#define ARP_LEN       28

#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST  1
#define ARP_OP_REPLY    2

/* IPv4 (RFC 791), offsets from the IP header */
#define IP_OFF_VER_IHL  0
#define IP_OFF_TOT_LEN  2
#define IP_OFF_FRAG     6
#define IP_OFF_TTL      8
#define IP_OFF_PROTO    9
#define IP_OFF_CKSUM    10
#define IP_OFF_SRC      12
#define IP_OFF_DST      16
#define IP_MIN_LEN      20

#define IP_FRAG_MF      0x2000
#define IP_FRAG_OFFSET  0x1fff
#define IP_PROTO_ICMP   1
#define IP_PROTO_TCP    6
#define IP_REPLY_TTL    64

/* ICMP (RFC 792), offsets from the ICMP header */
#define ICMP_OFF_TYPE   0
#define ICMP_OFF_CODE   1
#define ICMP_OFF_CKSUM  2
#define ICMP_MIN_LEN    8
#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8

/* TCP (RFC 9293): only what is needed to bound the header */
#define TCP_OFF_DOFF    12
#define TCP_MIN_LEN     20

/* Big-endian 16-bit field as a host value. */
static inline uint16_t
wire_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline void
wire_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A 16-bit word as stored, no byte swap: what checksums are summed over. */
static inline uint16_t
wire_get_raw16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
wire_put_raw16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* IPv4 address kept in network order, as the whole API uses it. */
static inline uint32_t
wire_get_addr(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
wire_put_addr(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Group bit: multicast and broadcast MACs can never be a sender. */
static inline bool
wire_mac_is_group(const uint8_t *mac)
{
	return (mac[0] & 0x01) != 0;
}

static inline bool
wire_mac_is_broadcast(const uint8_t *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

#endif /* NET_WIRE_H */
