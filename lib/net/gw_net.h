/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_NET_H
#define GW_NET_H

/**
 * @file
 * Ethernet, ARP, IPv4 and ICMP on raw frames: classify a received frame,
 * answer what the gateway answers itself (ARP requests for its addresses,
 * ICMP echo requests) by rewriting the frame in place, and build ARP
 * requests. Pure functions on byte buffers, so they need no EAL and are
 * tested with packet fixtures; the worker wraps mbufs around them.
 *
 * All IPv4 addresses in this API are in network byte order (as on the wire).
 */

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_ETHER_ADDR_LEN 6
#define GW_ETHER_HDR_LEN  14
#define GW_ARP_FRAME_LEN  42   /**< Ethernet + ARP for IPv4, no padding */

/** What the gateway knows about itself on one port. */
struct gw_net_iface {
	uint16_t port_id;
	uint8_t mac[GW_ETHER_ADDR_LEN];
	uint32_t addr;        /**< our IPv4 address (network order) */
	uint8_t prefix_len;   /**< on-link prefix */
	uint32_t gateway;     /**< next hop for off-link destinations, 0 = none */
	/**
	 * Further local IPv4 addresses (network order) that IPv4 input
	 * accepts as ours, e.g. service VIPs the gateway listens on; sorted
	 * ascending (compared as uint32_t), NULL when none. ARP is not
	 * answered for them: clients reach them through a route.
	 */
	const uint32_t *extra_addrs;
	uint16_t n_extra_addrs;
};

/** Why a frame was dropped. Every drop is counted under one reason. */
enum gw_drop_reason {
	GW_DROP_NONE = 0,
	GW_DROP_ETH_TRUNCATED,     /**< shorter than an Ethernet header */
	GW_DROP_ETH_NOT_FOR_US,    /**< unicast to another MAC, or multicast */
	GW_DROP_ETH_BAD_SOURCE,    /**< source MAC is multicast/broadcast */
	GW_DROP_ETH_UNKNOWN_TYPE,  /**< neither ARP nor IPv4 (IPv6 included, for now) */
	GW_DROP_ARP_MALFORMED,     /**< truncated, not Ethernet/IPv4 ARP, or group sender MAC */
	GW_DROP_ARP_NOT_FOR_US,    /**< request for an address we do not own */
	GW_DROP_ARP_UNSUPPORTED_OP,
	GW_DROP_ARP_CONFLICT,      /**< another host claims our address: never learnt */
	GW_DROP_IP_TRUNCATED,      /**< frame shorter than the IPv4 header */
	GW_DROP_IP_BAD_VERSION,
	GW_DROP_IP_BAD_IHL,        /**< IHL < 5 or beyond the frame */
	GW_DROP_IP_BAD_LENGTH,     /**< total length < IHL or > frame */
	GW_DROP_IP_BAD_CHECKSUM,
	GW_DROP_IP_FRAGMENT,       /**< MF set or offset != 0: reassembly not supported */
	GW_DROP_IP_NOT_FOR_US,     /**< destination is not our address */
	GW_DROP_IP_BAD_SOURCE,     /**< source ours, zero, loopback, multicast, broadcast */
	GW_DROP_ICMP_TRUNCATED,
	GW_DROP_ICMP_BAD_CHECKSUM,
	GW_DROP_ICMP_UNSUPPORTED,  /**< any ICMP type but echo request */
	GW_DROP_TCP_MALFORMED,     /**< TCP header truncated or data offset out of range */
	GW_DROP_L4_UNSUPPORTED,    /**< UDP and other protocols */
	GW_DROP_NO_HANDLER,        /**< valid TCP with no TCP stack attached yet */
	GW_DROP_NEIGH_QUEUE_FULL,  /**< next hop unresolved and the pending queue is full */
	GW_DROP_NEIGH_UNRESOLVED,  /**< next hop never answered ARP */
	GW_DROP_NO_ROUTE,          /**< off-link destination and no gateway */
	GW_DROP_TX_FULL,           /**< the TX queue did not take the packet */
	GW_DROP_NO_MBUF,           /**< mbuf pool exhausted */
	GW_DROP_RING_FULL,         /**< a worker->control ring was full */
	GW_DROP_REASON_MAX
};

/** Short snake_case name of a drop reason, for stats ("ip_bad_checksum"). */
const char *gw_drop_reason_name(enum gw_drop_reason reason);

enum gw_net_verdict {
	GW_NET_DROP = 0,  /**< count res->drop and free the frame */
	GW_NET_REPLY,     /**< frame rewritten in place, res->out_len bytes: send on the same port */
	GW_NET_CONSUMED,  /**< ARP reply/gratuitous ARP: nothing to send, learn from it */
	GW_NET_TCP,       /**< IPv4 TCP for us: offsets in res */
};

struct gw_net_result {
	enum gw_net_verdict verdict;
	enum gw_drop_reason drop;   /**< set when verdict is GW_NET_DROP */
	uint16_t out_len;           /**< reply length when GW_NET_REPLY */
	/**
	 * IPv4 header offset for GW_NET_TCP and for an ICMP echo reply; 0 for
	 * ARP (so a GW_NET_REPLY with l3_offset 0 is an ARP reply).
	 */
	uint16_t l3_offset;
	uint16_t l4_offset;         /**< TCP/ICMP header offset (as l3_offset) */
	uint16_t l4_len;            /**< TCP/ICMP header + payload length (as l3_offset) */
	/**
	 * An ARP packet told us who owns an on-link address: feed the
	 * neighbour table. Create the entry when the verdict is GW_NET_REPLY
	 * (a request addressed to us); otherwise only update an existing one.
	 */
	bool learn;
	uint32_t learn_ip;
	uint8_t learn_mac[GW_ETHER_ADDR_LEN];
};

/**
 * Classify one received frame of @p len bytes and, when the gateway answers
 * it (ARP request for our address, ICMP echo request to our address),
 * rewrite it in place into the reply. Never reads outside [frame, frame+len);
 * @p frame may have any alignment. The frame is modified only for
 * GW_NET_REPLY. An echo reply carries no IP options (they are stripped) and
 * no Ethernet padding; the caller pads short frames as its NIC requires.
 * Always fills @p res; returns res->verdict.
 */
enum gw_net_verdict gw_net_input(const struct gw_net_iface *ifc,
				 uint8_t *frame, uint16_t len,
				 struct gw_net_result *res);

/**
 * Write a broadcast ARP request "who has @p target_ip" from @p ifc into
 * @p buf (at least GW_ARP_FRAME_LEN bytes). Returns the frame length.
 */
uint16_t gw_net_arp_request_build(const struct gw_net_iface *ifc,
				  uint32_t target_ip, uint8_t *buf);

/** Network-order mask of @p prefix_len bits; prefixes past 32 count as 32. */
static inline uint32_t
gw_net_prefix_mask(uint8_t prefix_len)
{
	unsigned int n = prefix_len >= 32 ? 32 : prefix_len;

	/* Shifted in 64 bits: a /0 shifts by 32, which a 32-bit shift may
	 * not; no branch (every frame sent asks for its next hop). */
	return htonl((uint32_t)(UINT64_C(0xffffffff) << (32 - n)));
}

/** True when @p ip is in @p ifc's on-link prefix. */
static inline bool
gw_net_is_onlink(const struct gw_net_iface *ifc, uint32_t ip)
{
	return ((ip ^ ifc->addr) & gw_net_prefix_mask(ifc->prefix_len)) == 0;
}

/**
 * Next hop for destination @p dst: @p dst itself when on-link, the port's
 * gateway otherwise, 0 when off-link with no gateway. Inline: every frame
 * sent asks.
 */
static inline uint32_t
gw_net_next_hop(const struct gw_net_iface *ifc, uint32_t dst)
{
	return gw_net_is_onlink(ifc, dst) ? dst : ifc->gateway;
}

/**
 * Internet checksum (RFC 1071) of @p len bytes at any alignment, plus @p sum,
 * folded to 16 bits, not inverted. Like rte_raw_cksum(), words are summed as
 * stored (no byte swap), so the result is byte-order neutral: a valid header
 * sums to 0xffff, and ~result written with memcpy (no htons) fills a
 * checksum field. @p sum is an earlier result (or 0) to chain buffers; every
 * buffer but the last must then have an even length.
 */
uint16_t gw_net_cksum_raw(const void *data, uint32_t len, uint32_t sum);

#endif /* GW_NET_H */
