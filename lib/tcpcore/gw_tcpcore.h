/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_TCPCORE_H
#define GW_TCPCORE_H

/**
 * @file
 * Building blocks of the per-worker TCP (RFC 9293), free of EAL and of
 * any packet representation so that each is tested alone:
 *
 * - sequence-number arithmetic (tcp_seq.h, included here);
 * - the RFC 6298 retransmission-timeout estimator;
 * - SYN cookies, for when a listener's SYN queue is full;
 * - the out-of-order reassembly queue, over opaque buffers (mbufs);
 * - TCP option parsing and building.
 *
 * Everything here is used by one worker at a time; nothing locks.
 * Multi-byte values in structs are in host byte order unless a comment
 * says otherwise.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_seq.h"

/* ------------------------------------------------------------------ */
/* RTO estimator (RFC 6298)                                            */
/* ------------------------------------------------------------------ */

/** Defaults of struct gw_rto_params, in microseconds. */
#define GW_RTO_MIN_US_DEFAULT         200000u   /* Linux; the RFC says 1 s */
#define GW_RTO_MAX_US_DEFAULT         60000000u /* the RFC's lowest allowed cap */
#define GW_RTO_INITIAL_US_DEFAULT     1000000u  /* RFC 6298 (2.1) */
#define GW_RTO_GRANULARITY_US_DEFAULT 1000u     /* a 1 ms timer-wheel tick */

/** Bounds of the estimator, shared by every connection of a listener. */
struct gw_rto_params {
	uint32_t min_us;         /**< RTO floor (RFC 6298 (2.4)) */
	uint32_t max_us;         /**< RTO cap, also for back-off (2.5) */
	uint32_t initial_us;     /**< RTO before the first sample (2.1) */
	uint32_t granularity_us; /**< clock granularity G of (2.2)/(2.3) */
};

/** min 200 ms, max 60 s, initial 1 s, G 1 ms. */
extern const struct gw_rto_params gw_rto_params_default;

/** Fraction bits of the smoothed values, so 1/8 and 1/4 steps stay exact. */
#define GW_RTO_FRAC_BITS 8

/** Per-connection estimator state. */
struct gw_rto {
	uint64_t srtt;     /**< SRTT in µs << GW_RTO_FRAC_BITS */
	uint64_t rttvar;   /**< RTTVAR in µs << GW_RTO_FRAC_BITS */
	uint32_t rto_us;   /**< the timeout to arm now, back-off included */
	uint8_t backoff;   /**< doublings since the last sample (saturates) */
	bool has_sample;   /**< SRTT and RTTVAR are set */
};

/**
 * Reset @p r for a new connection: no sample, RTO = initial.
 * @p p NULL means gw_rto_params_default (likewise below).
 */
void gw_rto_init(struct gw_rto *r, const struct gw_rto_params *p);

/**
 * Take a round-trip sample of @p rtt_us microseconds: the first sets
 * SRTT = R, RTTVAR = R/2; later ones RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,
 * then SRTT = 7/8 SRTT + 1/8 R. RTO becomes SRTT + max(G, 4 RTTVAR),
 * rounded up to whole µs and clamped to [min, max]; the back-off is reset.
 *
 * Karn's rule is the caller's: sample only from segments never
 * retransmitted (or from the timestamp echo, RFC 7323 section 4).
 */
void gw_rto_sample(struct gw_rto *r, const struct gw_rto_params *p,
		   uint32_t rtt_us);

/**
 * The retransmission timer expired (RFC 6298 (5.5)): double the RTO,
 * capped at max. Returns the new RTO in µs. The doubled value stays until
 * the next gw_rto_sample().
 */
uint32_t gw_rto_backoff(struct gw_rto *r, const struct gw_rto_params *p);

/** SRTT rounded to µs (0 before the first sample). */
static inline uint32_t
gw_rto_srtt_us(const struct gw_rto *r)
{
	return (uint32_t)((r->srtt + (1u << (GW_RTO_FRAC_BITS - 1))) >>
			  GW_RTO_FRAC_BITS);
}

/** RTTVAR rounded to µs (0 before the first sample). */
static inline uint32_t
gw_rto_rttvar_us(const struct gw_rto *r)
{
	return (uint32_t)((r->rttvar + (1u << (GW_RTO_FRAC_BITS - 1))) >>
			  GW_RTO_FRAC_BITS);
}

/* ------------------------------------------------------------------ */
/* SYN cookies                                                          */
/* ------------------------------------------------------------------ */

/**
 * When a listener's SYN queue is full, the SYN-ACK's ISN carries the
 * connection's parameters and a MAC instead of any state; the final ACK
 * (ack - 1 = the cookie, seq - 1 = the client's ISN) brings them back.
 *
 * Layout of the 32-bit cookie, most significant bit first:
 *
 *   | slot:2 | mss:3 | wscale:4 | mac:23 |
 *
 * - slot: low 2 bits of the caller's time slot, so that the check knows
 *   which slot to verify without trying two;
 * - mss: index into {536, 1220, 1300, 1380, 1440, 1452, 1460, 8960}, the
 *   largest entry not above the client's MSS (536 when it is below);
 * - wscale: the client's window-scale shift 0..14, 15 when it sent none.
 *   The cookie carries it itself so that window scaling survives without
 *   timestamps (Linux needs timestamps for that). The SYN-ACK of a cookie
 *   should therefore offer MSS and window scale only: no SACK-permitted
 *   and no timestamps, which the cookie cannot remember;
 * - mac: 23 bits of SipHash-2-4, keyed with the worker's secret, over the
 *   4-tuple, the client's ISN, the full time slot, mss and wscale.
 *
 * A forged or corrupted cookie passes with probability 2^-23 per try.
 * The caller picks the slot length (64 s is a good choice, close to
 * Linux's); a cookie is accepted in the slot it was made in and the next,
 * so it lives between one and two slot lengths.
 */
struct gw_syncookie_secret {
	uint64_t k0;
	uint64_t k1;
};

/** Value of wscale for "the client sent no window-scale option". */
#define GW_SYNCOOKIE_NO_WSCALE 0xff

/** Key @p s from 16 random bytes (per worker, from a CSPRNG at start). */
void gw_syncookie_secret_init(struct gw_syncookie_secret *s,
			      const uint8_t key[16]);

/**
 * The ISN to send in the SYN-ACK answering a SYN from @p saddr:@p sport
 * (the client) to @p daddr:@p dport, with sequence number @p client_isn,
 * MSS option @p mss (536 when absent) and window-scale shift @p wscale
 * (GW_SYNCOOKIE_NO_WSCALE when absent; above 14 counts as 14). Addresses
 * and ports as the caller keeps them (network order), the same on check.
 */
uint32_t gw_syncookie_make(const struct gw_syncookie_secret *s,
			   uint32_t saddr, uint32_t daddr,
			   uint16_t sport, uint16_t dport,
			   uint32_t client_isn, uint32_t now_slot,
			   uint16_t mss, uint8_t wscale);

/**
 * Check the ACK completing a cookie handshake: @p client_isn is its
 * sequence number - 1, @p cookie its acknowledgment number - 1, the
 * 4-tuple oriented as in the SYN. 0 with @p mss (a table value) and
 * @p wscale (0..14 or GW_SYNCOOKIE_NO_WSCALE) set when the cookie was made
 * for this connection in @p now_slot or the slot before; -EINVAL
 * otherwise (outputs untouched).
 */
int gw_syncookie_check(const struct gw_syncookie_secret *s,
		       uint32_t saddr, uint32_t daddr,
		       uint16_t sport, uint16_t dport,
		       uint32_t client_isn, uint32_t cookie, uint32_t now_slot,
		       uint16_t *mss, uint8_t *wscale);

/** The MSS a cookie made with @p mss carries (the table rounding). */
uint16_t gw_syncookie_mss_round(uint16_t mss);

/* ------------------------------------------------------------------ */
/* Out-of-order reassembly queue                                       */
/* ------------------------------------------------------------------ */

/**
 * Segments received beyond RCV.NXT wait here, sorted by sequence number,
 * until the hole before them fills. Buffers are opaque (the worker stores
 * mbufs); the queue never copies or looks into them.
 *
 * Storage is a per-worker pool of nodes made once; each connection has an
 * intrusive struct gw_reasm head. Limits hold per worker (pool nodes and
 * bytes) and per connection (items and bytes); bytes count sequence space
 * kept, not buffer sizes.
 *
 * No byte is stored twice. A new segment loses what the item overlapping
 * its front and the item overlapping its back already hold (reported as
 * trim_front and trim_back), and replaces the items in between, which it
 * covers entirely (their buffers are freed; this also merges items).
 * Only the ends of a segment are cut, never its middle: one buffer stays
 * one item. What is kept of a buffer is the range [skip, skip + len) that
 * gw_reasm_items() and gw_reasm_pop_ready() report.
 *
 * Sequence numbers compare modulo 2^32: everything queued must lie within
 * 2^31 of everything else, which the receive window guarantees.
 */

/** Frees a buffer the queue owns (rte_pktmbuf_free for the worker). */
typedef void (*gw_reasm_free_fn)(void *buf, void *arg);

struct gw_reasm_pool;
struct gw_reasm_node;

/** Per-connection queue head; initialise with gw_reasm_init(). */
struct gw_reasm {
	struct gw_reasm_node *head;  /* lowest sequence number */
	struct gw_reasm_node *tail;  /* highest: in-order arrivals append */
	struct gw_reasm_pool *pool;
	uint32_t count;              /**< items queued */
	uint32_t bytes;              /**< sequence bytes queued */
	uint32_t max_count;
	uint32_t max_bytes;
};

/** What gw_reasm_pop_ready() hands back: the caller owns buf again. */
struct gw_reasm_seg {
	void *buf;
	uint32_t skip;  /**< leading bytes of buf already delivered or trimmed */
	uint32_t len;   /**< bytes to deliver, from buf + skip */
	uint32_t seq;   /**< sequence number of the first byte delivered */
};

/** Counters and gauges of a pool (all its queues together). */
struct gw_reasm_stats {
	uint64_t queued;         /**< segments stored */
	uint64_t duplicates;     /**< segments with nothing new, returned */
	uint64_t replaced;       /**< items freed because a new one covered them */
	uint64_t stale;          /**< items freed by pop: all below rcv_nxt */
	uint64_t trimmed_bytes;  /**< bytes cut from new segments' ends */
	uint64_t rejected_queue; /**< -ENOSPC: a connection limit */
	uint64_t rejected_pool;  /**< -ENOSPC: the worker's nodes or bytes */
	uint32_t nodes_used;     /**< gauge */
	uint64_t bytes_used;     /**< gauge */
};

/** Return value of gw_reasm_insert(): the queue now owns the buffer. */
#define GW_REASM_QUEUED    1
/** Return value of gw_reasm_insert(): nothing new; the caller keeps it. */
#define GW_REASM_DUPLICATE 0

/**
 * A pool of @p max_nodes nodes, holding at most @p max_bytes sequence
 * bytes over all its queues; @p free_fn(buf, @p free_arg) frees buffers
 * the queues drop. NULL when @p max_nodes is 0, @p free_fn is NULL, or out
 * of memory. The only allocation.
 */
struct gw_reasm_pool *gw_reasm_pool_create(uint32_t max_nodes,
					   uint64_t max_bytes,
					   gw_reasm_free_fn free_fn,
					   void *free_arg);

/** Free @p pool (NULL is fine). Every queue must have been purged. */
void gw_reasm_pool_free(struct gw_reasm_pool *pool);

/** Copy the pool's counters into @p out. */
void gw_reasm_pool_stats(const struct gw_reasm_pool *pool,
			 struct gw_reasm_stats *out);

/**
 * An empty queue on @p pool holding at most @p max_count items and
 * @p max_bytes sequence bytes.
 */
void gw_reasm_init(struct gw_reasm *q, struct gw_reasm_pool *pool,
		   uint32_t max_count, uint32_t max_bytes);

/**
 * Queue @p len bytes at @p seq held by @p buf.
 *
 * Returns GW_REASM_QUEUED when it was stored: the queue owns @p buf;
 * *@p trim_front and *@p trim_back (either may be NULL) tell how many
 * bytes at each end were already held and are not stored.
 * GW_REASM_DUPLICATE when nothing is left once its ends are cut (one item
 * holds it all, or two adjacent items do): the caller keeps @p buf (and
 * frees it); *trim_front is @p len. -ENOSPC when storing would exceed a
 * limit of the connection or of the pool, counting what it replaces
 * (counted in the stats); -EINVAL when @p len is 0 or not below 2^31. On
 * anything but GW_REASM_QUEUED the queue is unchanged and the caller
 * keeps @p buf.
 *
 * The caller trims to the receive window first, and delivers data at
 * RCV.NXT directly rather than queueing it.
 */
int gw_reasm_insert(struct gw_reasm *q, uint32_t seq, uint32_t len,
		    void *buf, uint32_t *trim_front, uint32_t *trim_back);

/**
 * Take the next segment that continues the stream at @p rcv_nxt: the
 * first item if it starts at or before @p rcv_nxt and ends after it.
 * Items wholly below @p rcv_nxt are freed on the way. Returns 1 with
 * @p out filled (out->seq == rcv_nxt; the caller then advances rcv_nxt by
 * out->len and calls again), 0 when nothing is ready.
 */
int gw_reasm_pop_ready(struct gw_reasm *q, uint32_t rcv_nxt,
		       struct gw_reasm_seg *out);

/**
 * Free every item of @p q through the pool's free_fn (connection closed).
 * Returns how many.
 */
unsigned int gw_reasm_purge(struct gw_reasm *q);

/**
 * Copy the first @p max items of @p q, lowest sequence first, into
 * @p out (seq and len of what is kept, skip into buf; buffers stay owned
 * by the queue). Returns the number of items queued, which may exceed
 * @p max. For SACK blocks and introspection; O(items).
 */
unsigned int gw_reasm_items(const struct gw_reasm *q, struct gw_reasm_seg *out,
			    unsigned int max);

/** Nothing queued. */
static inline bool
gw_reasm_is_empty(const struct gw_reasm *q)
{
	return q->head == NULL;
}

/* ------------------------------------------------------------------ */
/* TCP options                                                          */
/* ------------------------------------------------------------------ */

/** Option kinds (IANA). */
enum gw_tcp_option_kind {
	GW_TCPOPT_EOL = 0,
	GW_TCPOPT_NOP = 1,
	GW_TCPOPT_MSS = 2,
	GW_TCPOPT_WSCALE = 3,
	GW_TCPOPT_SACK_PERM = 4,
	GW_TCPOPT_SACK = 5,
	GW_TCPOPT_TIMESTAMP = 8,
};

/** Bits of gw_tcp_options.present. */
#define GW_TCPOPT_F_MSS       (1u << 0)
#define GW_TCPOPT_F_WSCALE    (1u << 1)
#define GW_TCPOPT_F_SACK_PERM (1u << 2)
#define GW_TCPOPT_F_TIMESTAMP (1u << 3)
#define GW_TCPOPT_F_SACK      (1u << 4)

/** Largest option block of a TCP header (data offset 15). */
#define GW_TCP_OPTIONS_MAX_LEN 40
/** Largest window-scale shift (RFC 7323 section 2.3). */
#define GW_TCP_WSCALE_MAX 14
/** Most SACK blocks an option can hold (4 x 8 + 2 bytes). */
#define GW_TCP_SACK_MAX_BLOCKS 4

struct gw_tcp_sack_block {
	uint32_t start;  /**< first sequence number of the block */
	uint32_t end;    /**< sequence number after the block */
};

/** Options of one segment; only the fields flagged in present are set. */
struct gw_tcp_options {
	uint32_t present;  /**< GW_TCPOPT_F_* */
	uint16_t mss;
	uint8_t wscale;    /**< shift count, at most GW_TCP_WSCALE_MAX */
	uint8_t sack_count;
	uint32_t ts_val;
	uint32_t ts_ecr;
	struct gw_tcp_sack_block sack[GW_TCP_SACK_MAX_BLOCKS];
};

/**
 * Parse the option bytes of a TCP header (@p len bytes after the fixed 20,
 * from the data offset). Reads nothing outside [@p opts, @p opts + @p len).
 *
 * Returns 0 with @p out filled, or -EINVAL when the options cannot be
 * walked: a kind other than EOL/NOP without room for its length byte, a
 * length below 2, or a length running past @p len (RFC 9293 section
 * 3.10.7.1 asks to handle these without crashing; the caller drops the
 * segment). On -EINVAL out->present is 0.
 *
 * Parsing stops at EOL. NOP is skipped. Unknown kinds are skipped by their
 * length. A known kind with a length its kind does not allow (MSS not 4,
 * window scale not 3, SACK-permitted not 2, timestamps not 10, SACK not
 * 2 + 8n with n 1..4) is skipped and not flagged, as Linux does. When a
 * kind repeats, the last one wins. A window-scale shift above 14 is
 * recorded as 14 (RFC 7323 section 2.3).
 */
int gw_tcp_options_parse(const uint8_t *opts, size_t len,
			 struct gw_tcp_options *out);

/**
 * Write the options flagged in @p in into @p buf, laid out as Linux does
 * and aligned on 4 bytes without trailing padding:
 *
 *   MSS                  02 04 mss
 *   SACK-perm + TS       04 02 08 0a val ecr   (or 01 01 08 0a, or 01 01 04 02)
 *   window scale         01 03 03 shift
 *   SACK                 01 01 05 len blocks
 *
 * So a SYN with everything takes 20 bytes, a data segment with
 * timestamps 12. Returns the length written (a multiple of 4, at most
 * GW_TCP_OPTIONS_MAX_LEN), -EINVAL when the options would not fit in 40
 * bytes or a value is out of range (wscale above 14, sack_count 0 or above
 * 4 with GW_TCPOPT_F_SACK), -ENOSPC when @p cap is too small (nothing
 * written in either case).
 */
int gw_tcp_options_build(const struct gw_tcp_options *in, uint8_t *buf,
			 size_t cap);

#endif /* GW_TCPCORE_H */
