/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_NEIGH_H
#define GW_NEIGH_H

/**
 * @file
 * Neighbour (ARP) table and the per-worker queue of packets waiting for a
 * next hop to resolve.
 *
 * Ownership: the control lcore is the only writer of the table (it learns
 * from ARP packets the workers pass on, sends the ARP requests, ages and
 * expires entries). Workers only read it, lock-free: each entry carries a
 * sequence count (odd while being written), readers retry on change.
 *
 * Time is in caller ticks (the gateway uses TSC cycles); every function
 * that needs the time takes `now`. No EAL needed.
 * Addresses are IPv4 in network byte order.
 */

#include <stdbool.h>
#include <stdint.h>

enum gw_neigh_state {
	GW_NEIGH_FREE = 0,
	GW_NEIGH_INCOMPLETE, /**< ARP request sent, no answer yet */
	GW_NEIGH_REACHABLE,  /**< answered within reachable_ticks */
	GW_NEIGH_STALE,      /**< older than reachable_ticks: still used, being re-probed */
	GW_NEIGH_FAILED,     /**< no answer after max_probes: packets to it are dropped */
	GW_NEIGH_PERMANENT,  /**< static entry from the bootstrap, never aged */
};

struct gw_neigh_params {
	uint64_t reachable_ticks; /**< REACHABLE -> STALE after this long (30 s) */
	uint64_t retrans_ticks;   /**< interval between probes (1 s) */
	uint32_t max_probes;      /**< unanswered probes before FAILED/removal (3) */
	uint64_t failed_ticks;    /**< how long a FAILED entry is kept (20 s) */
};

/** A copy of one entry, for lookups and walks. */
struct gw_neigh_entry_view {
	uint16_t port;
	uint32_t ip;
	uint8_t mac[6];
	enum gw_neigh_state state;
	uint64_t updated;  /**< tick of the last confirmation */
	uint32_t probes;   /**< probes sent since the last confirmation */
};

struct gw_neigh_table;

/**
 * Table with room for @p capacity entries (rounded up to a power of two;
 * the slot array is twice that, to keep probe sequences short). NULL on
 * failure: @p params NULL, @p capacity 0 or above 2^24, max_probes 0, or
 * out of memory.
 */
struct gw_neigh_table *gw_neigh_table_create(uint32_t capacity,
					     const struct gw_neigh_params *params);
/** Free @p t (NULL is fine). No reader may use it any more. */
void gw_neigh_table_free(struct gw_neigh_table *t);

/* ---- writer side (control lcore only) ---- */

/**
 * Add a PERMANENT entry, replacing a learnt one for the same address.
 * 0, or -ENOSPC when the table is full.
 */
int gw_neigh_static_add(struct gw_neigh_table *t, uint16_t port,
			uint32_t ip, const uint8_t mac[6]);

/**
 * Remove the entry for (@p port, @p ip), PERMANENT ones included.
 * 0, or -ENOENT. A concurrent reader may miss an unrelated entry that
 * moves during the removal (it gets -ENOENT and retries later), but never
 * sees a half-written one.
 */
int gw_neigh_delete(struct gw_neigh_table *t, uint16_t port, uint32_t ip);

/**
 * An ARP packet showed @p ip at @p mac. Updates an existing entry (not a
 * PERMANENT one) to REACHABLE; creates one only when @p create is true
 * (the caller sets it for replies to our requests and for requests
 * addressed to us). 0, -ENOENT (absent, not created), -ENOSPC (full).
 */
int gw_neigh_learn(struct gw_neigh_table *t, uint16_t port, uint32_t ip,
		   const uint8_t mac[6], bool create, uint64_t now);

/**
 * A worker needs @p ip. Creates an INCOMPLETE entry when absent. Returns 1
 * when the caller should send an ARP request now (the entry was just
 * created; the tick sends the retransmissions), 0 when one is already
 * outstanding or the entry is usable, -EHOSTUNREACH when the entry is
 * FAILED (not re-probed until the tick frees it), -ENOSPC when the table is
 * full.
 */
int gw_neigh_resolve(struct gw_neigh_table *t, uint16_t port, uint32_t ip,
		     uint64_t now);

/** Called for each probe to send: broadcast ARP request for @p ip on @p port. */
typedef void (*gw_neigh_probe_fn)(void *arg, uint16_t port, uint32_t ip);

/**
 * Age the table: re-probe INCOMPLETE entries every retrans_ticks, turn
 * REACHABLE into STALE after reachable_ticks and probe them, mark entries
 * FAILED after max_probes unanswered probes, and free FAILED entries after
 * failed_ticks. Returns the number of entries freed. @p probe must not
 * modify the table.
 */
unsigned int gw_neigh_table_tick(struct gw_neigh_table *t, uint64_t now,
				 gw_neigh_probe_fn probe, void *arg);

/* ---- reader side (any lcore, lock-free) ---- */

/**
 * Look up @p ip on @p port. 0 with @p mac filled when usable (REACHABLE,
 * STALE or PERMANENT); -EAGAIN while INCOMPLETE (or, rarely, when the
 * writer kept the entry busy for the whole bounded retry); -EHOSTUNREACH
 * when FAILED; -ENOENT when absent.
 */
int gw_neigh_lookup(const struct gw_neigh_table *t, uint16_t port,
		    uint32_t ip, uint8_t mac[6]);

/**
 * Call @p fn for a consistent copy of every used entry; returns the count.
 * Run concurrently with the writer, an entry being moved may be reported
 * twice or not at all.
 */
unsigned int gw_neigh_table_walk(const struct gw_neigh_table *t,
				 void (*fn)(void *arg, const struct gw_neigh_entry_view *e),
				 void *arg);

/** Upper-case state name, as `ip neigh` prints it ("REACHABLE"). */
const char *gw_neigh_state_name(enum gw_neigh_state state);

/* ---- per-worker pending queue ---- */

/**
 * Packets a worker holds while their next hop resolves. Bounded; owned by
 * one worker. Items are opaque (the worker stores mbufs).
 */
struct gw_neigh_pending;

struct gw_neigh_pending *gw_neigh_pending_create(uint32_t capacity);
void gw_neigh_pending_free(struct gw_neigh_pending *q);

/** Hold @p pkt for (@p port, @p next_hop). 0, or -ENOSPC when full (caller drops and counts). */
int gw_neigh_pending_add(struct gw_neigh_pending *q, uint16_t port,
			 uint32_t next_hop, void *pkt, uint64_t now);

/** Number of packets held. */
uint32_t gw_neigh_pending_count(const struct gw_neigh_pending *q);

/**
 * Release what can be released: for each held packet whose next hop now
 * resolves, call @p send(arg, pkt, port, mac) (even when it was held for
 * longer than the timeout); for each other one held for @p timeout_ticks or
 * longer or whose next hop FAILED, call @p drop(arg, pkt). Keeps the others
 * in order. Returns the number released either way. The callbacks must not
 * add to @p q. With timeout_ticks 0, everything is released.
 */
unsigned int gw_neigh_pending_flush(struct gw_neigh_pending *q,
	const struct gw_neigh_table *t, uint64_t now, uint64_t timeout_ticks,
	void (*send)(void *arg, void *pkt, uint16_t port, const uint8_t mac[6]),
	void (*drop)(void *arg, void *pkt), void *arg);

#endif /* GW_NEIGH_H */
