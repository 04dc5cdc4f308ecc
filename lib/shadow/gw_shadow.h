/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_SHADOW_H
#define GW_SHADOW_H

/**
 * @file
 * Traffic mirroring (DESIGN.md §6, docs/mirroring.md): the shadow engine
 * and the protocol by which workers hand it mirrored requests.
 *
 * Worker side (lib/httpproxy): for each mirror chosen for a request, the
 * worker writes the shadow head (Host/:authority with "-shadow" before
 * any port, gw_shadow_host()) after the item's meta, in the meta's own
 * segment when it fits (one mbuf per copy), and enqueues a HEAD item
 * on its single-producer ring; body bytes follow as BODY items holding
 * indirect mbufs over the received segments (no copy), then END. When the
 * primary response completes a PRIMARY_DONE item carries its status and
 * latency, for result parity. A full ring drops the copy: the worker
 * marks the stream broken and later tries an ABORT item. Nothing waits.
 *
 * Engine side (this module): runs on the control lcore (or a shadow
 * lcore), drains the rings, owns one more TCP stack for shadow
 * connections (pooled keep-alive connections per shadow endpoint), writes
 * each stream to a connection, reads and discards responses recording
 * status and latency, and drops copies (counted per route and mirror
 * destination) when a bound is reached: pending streams, mbufs held, a
 * low mempool, a dead or slow shadow. It never retries.
 *
 * Threading: every gw_shadow_* function but the pure helpers
 * (gw_shadow_host(), gw_shadow_status_class()) runs on the engine's lcore.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "gw_tcp.h"

/**
 * Source ports of the shadow stack's connections. Worker stacks never
 * pick them (their ephemeral range stops below), so a segment for one of
 * them, received by a worker on an upstream port, is the shadow's.
 */
#define GW_SHADOW_PORT_FIRST 56000u
#define GW_SHADOW_PORT_LAST  60999u

/** What Envoy appends to a mirrored request's host. */
#define GW_SHADOW_SUFFIX "-shadow"

/** Items on a worker's shadow ring, in per-stream order. */
enum gw_shadow_item_type {
	GW_SHADOW_ITEM_HEAD = 1,     /**< m: a gw_shadow_meta, then the head: in the
				      *   meta's segment after it when data_len is
				      *   larger than the meta, and in the segments
				      *   chained by next */
	GW_SHADOW_ITEM_BODY,         /**< m: request bytes by reference */
	GW_SHADOW_ITEM_END,          /**< the request is complete */
	GW_SHADOW_ITEM_ABORT,        /**< the copy is abandoned; status = enum gw_shadow_drop */
	GW_SHADOW_ITEM_PRIMARY_DONE, /**< status, latency_us of the primary */
	GW_SHADOW_ITEM_DROPPED,      /**< m: a gw_shadow_meta segment alone; status =
				      *   enum gw_shadow_drop: the worker dropped
				      *   this copy before writing it (counted per
				      *   route; no other item follows) */
};

/** One ring element: 16 bytes, which the ring copies as one 128-bit
 * word (a 24-byte element went word by word). */
struct gw_shadow_item {
	uint8_t type;                /**< enum gw_shadow_item_type */
	uint8_t reserved;
	uint16_t status;             /**< PRIMARY_DONE: HTTP status (0: none);
				      *   ABORT, DROPPED: enum gw_shadow_drop */
	union {
		uint32_t stream;     /**< the worker's stream id */
		uint32_t count;      /**< DROPPED: how many copies it stands
				      *   for (0: one) */
	};
	union {
		struct rte_mbuf *m;  /**< HEAD, BODY, DROPPED (NULL in END and
				      *   ABORT); owned by the ring's consumer */
		uint32_t latency_us; /**< PRIMARY_DONE: request head to
				      *   response end */
	};
};

/**
 * First segment of a HEAD item: where the copy goes and what its
 * access-log line and counters show. Strings are NUL-terminated,
 * truncated.
 */
struct gw_shadow_meta {
	uint32_t ip;                 /**< shadow endpoint, network order */
	uint16_t port;
	uint16_t reserved;
	uint64_t start_us;           /**< Unix time of the request head */
	char route[96];              /**< "NAMESPACE/VIRTUALSERVICE[INDEX]" or its name */
	char cluster[120];           /**< mirror cluster, outbound|PORT|SUBSET|HOST */
	char method[16];
	char path[160];
	char authority[96];          /**< as sent to the shadow (suffixed) */
	char request_id[40];
	char user_agent[64];
	char xff[64];
};

/** Why a copy was dropped. */
enum gw_shadow_drop {
	GW_SHADOW_DROP_RING_FULL = 0, /**< the worker's ring was full mid-stream */
	GW_SHADOW_DROP_NO_MBUF,       /**< the worker could not reference a segment */
	GW_SHADOW_DROP_CLIENT,        /**< the client left before its request was whole */
	GW_SHADOW_DROP_PENDING,       /**< too many shadow requests in flight */
	GW_SHADOW_DROP_MEMORY,        /**< mbufs held by the engine, or the pool low */
	GW_SHADOW_DROP_CONNECT,       /**< shadow refused, unreachable, connect timeout */
	GW_SHADOW_DROP_RESET,         /**< shadow reset or closed mid-exchange */
	GW_SHADOW_DROP_TIMEOUT,       /**< no complete response in time */
	GW_SHADOW_DROP_BAD_RESPONSE,  /**< unparsable response */
	GW_SHADOW_DROP_UNAVAILABLE,   /**< the endpoint failed its last connect:
				       *   not tried again until its back-off ends */
	GW_SHADOW_DROP_MAX
};

/** Name of a drop reason ("pending", "connect", ...). */
const char *gw_shadow_drop_name(enum gw_shadow_drop d);

/** Status classes of parity counters. */
enum gw_shadow_class {
	GW_SHADOW_CLASS_2XX = 0,
	GW_SHADOW_CLASS_3XX,
	GW_SHADOW_CLASS_4XX,
	GW_SHADOW_CLASS_5XX,
	GW_SHADOW_CLASS_ERROR,       /**< no response (1xx-only, reset, timeout, ...) */
	GW_SHADOW_CLASS_MAX
};

/** Class of an HTTP status (0 or outside 200..599: ERROR). */
enum gw_shadow_class gw_shadow_status_class(uint16_t status);

/** Name of a class ("2xx", ..., "error"). */
const char *gw_shadow_class_name(enum gw_shadow_class c);

/**
 * Write @p host (a Host or :authority value of @p len bytes) into @p out
 * with GW_SHADOW_SUFFIX inserted before the port if there is one
 * ("httpbin:8000" -> "httpbin-shadow:8000", "[::1]:80" ->
 * "[::1]-shadow:80"), or appended. NUL-terminates.
 *
 * @return the length written, or -ENOSPC when it does not fit @p size
 *         (nothing useful written).
 */
int gw_shadow_host(const char *host, size_t len, char *out, size_t size);

/**
 * Shadow endpoints known to be down, shared by the engine (the only
 * writer) and the workers (readers), so that a worker spends nothing on a
 * copy whose endpoint refused or ignored its last connection: no head is
 * written, no body referenced, no connection tried. After a failed
 * connect the engine marks the endpoint down for `unavailable_ms`,
 * doubled with each further failure (up to GW_SHADOW_DOWN_MAX_MS); the
 * first copy after that probes it again; an established connection
 * clears it. Slots are open-addressed by endpoint; each holds the key
 * (valid bit | ip << 16 | port) and the TSC until which the endpoint is
 * down. Plain 64-bit atomic loads and stores: a reader racing an update
 * sends or drops one copy more, nothing worse.
 */
#define GW_SHADOW_HEALTH_SLOTS 256u  /* power of two */
#define GW_SHADOW_HEALTH_PROBE 8u
#define GW_SHADOW_DOWN_MAX_MS  30000u

struct gw_shadow_health {
	struct {
		uint64_t key;
		uint64_t until_tsc;
	} slot[GW_SHADOW_HEALTH_SLOTS];
};

static inline uint64_t
gw_shadow_health_key(uint32_t ip, uint16_t port)
{
	return 1ull << 63 | (uint64_t)ip << 16 | port;
}

static inline uint32_t
gw_shadow_health_home(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 40) &
	       (GW_SHADOW_HEALTH_SLOTS - 1);
}

/** Is the shadow endpoint @p ip (network order) : @p port down at @p now_tsc? */
static inline bool
gw_shadow_endpoint_down(const struct gw_shadow_health *h, uint32_t ip,
			uint16_t port, uint64_t now_tsc)
{
	uint64_t key = gw_shadow_health_key(ip, port);
	uint32_t i = gw_shadow_health_home(key);

	if (h == NULL)
		return false;
	for (uint32_t n = 0; n < GW_SHADOW_HEALTH_PROBE; n++) {
		uint32_t j = (i + n) & (GW_SHADOW_HEALTH_SLOTS - 1);
		uint64_t k = __atomic_load_n(&h->slot[j].key, __ATOMIC_ACQUIRE);

		if (k == key)
			return now_tsc < __atomic_load_n(&h->slot[j].until_tsc,
							 __ATOMIC_RELAXED);
		if (k == 0)
			return false;
	}
	return false;
}

/** Upper bounds (ms) of the latency histogram buckets; the last is +Inf. */
#define GW_SHADOW_HIST_BUCKETS 13
extern const uint32_t gw_shadow_hist_bounds_ms[GW_SHADOW_HIST_BUCKETS - 1];

/** Counters of one (route, mirror destination). */
struct gw_shadow_route_stats {
	char route[96];
	char cluster[120];
	uint64_t requests;           /**< copies the engine took (HEAD items) */
	uint64_t responses;          /**< complete shadow responses */
	uint64_t drops[GW_SHADOW_DROP_MAX];
	/** Result parity: for requests whose primary and shadow both ended. */
	uint64_t pairs;
	uint64_t primary_class[GW_SHADOW_CLASS_MAX];
	uint64_t shadow_class[GW_SHADOW_CLASS_MAX];
	uint64_t mismatches;         /**< status class differs */
	uint64_t primary_hist[GW_SHADOW_HIST_BUCKETS];
	uint64_t shadow_hist[GW_SHADOW_HIST_BUCKETS];
	uint64_t primary_us_sum;
	uint64_t shadow_us_sum;
};

/** Engine-wide counters. */
struct gw_shadow_stats {
	uint64_t items;              /**< ring items processed */
	uint64_t streams;            /**< gauge: shadow requests in flight */
	uint64_t held_mbufs;         /**< gauge: segments queued in the engine */
	uint64_t connects;           /**< shadow connections opened */
	uint64_t reused;             /**< requests on a pooled connection */
	uint64_t conns_idle;         /**< gauge */
	uint64_t unknown_items;      /**< items of dropped or unknown streams (freed) */
	uint64_t drops;              /**< every drop, all routes */
	uint64_t stats_full;         /**< (route, mirror) pairs beyond the table */
	uint64_t rx_segments;        /**< segments handed over by workers */
	uint64_t tx_frames;          /**< frames handed to the TX path */
	uint64_t log_lines;          /**< access-log lines written */
	uint64_t endpoints_down;     /**< gauge: endpoints in their back-off */
	uint64_t endpoint_failures;  /**< connects that marked an endpoint down */
};

struct gw_shadow;

/**
 * Transmit a frame of the shadow stack (IPv4/TCP complete; Ethernet to be
 * filled from @p next_hop). Takes ownership.
 */
typedef void (*gw_shadow_xmit_fn)(void *arg, unsigned int port_index,
				  uint32_t next_hop, struct rte_mbuf *m);

/** Creation parameters. */
struct gw_shadow_params {
	struct rte_mempool *pool;     /**< the shared packet pool */
	unsigned int n_rings;         /**< workers */
	struct rte_ring *const *rings;/**< item rings, one per worker (consumer: the engine) */
	struct rte_ring *const *rx_rings; /**< segments for the shadow stack, per worker; may be NULL */
	const uint8_t *port_index;    /**< ethdev port id -> port index (RTE_MAX_ETHPORTS entries) */
	unsigned int n_ports;
	const struct gw_tcp_port *ports;
	const uint32_t *port_roles;   /**< enum gw_port_role bits */
	gw_shadow_xmit_fn xmit;
	void *xmit_arg;
	uint32_t max_pending;         /**< shadow requests in flight (0: 128) */
	uint32_t max_held_mbufs;      /**< segments queued in the engine (0: pool/8) */
	uint32_t min_free_mbufs;      /**< drop copies when the pool has fewer free (0: pool/8) */
	uint32_t timeout_ms;          /**< a shadow response must be complete by then (0: 10 s) */
	uint32_t connect_timeout_ms;  /**< (0: 3 s) */
	uint32_t idle_timeout_ms;     /**< pooled connections (0: 30 s) */
	uint32_t unavailable_ms;      /**< an endpoint that failed a connect is
				       *   skipped this long, doubled per further
				       *   failure (0: 1 s; UINT32_MAX: never) */
	struct gw_shadow_health *health; /**< shared with the workers (NULL: the
					   *   engine keeps its own) */
	uint32_t log_records;         /**< access-log records kept until drained (0: 1024) */
	uint64_t tsc_hz;              /**< 0: rte_get_tsc_hz() */
	uint64_t start_tsc;           /**< the poll clock at create (0: rte_rdtsc()) */
};

/** Create the engine and its TCP stack. NULL with rte_errno set. */
struct gw_shadow *gw_shadow_create(const struct gw_shadow_params *p);

/** Free everything: pending items on the rings, streams, connections. NULL is fine. */
void gw_shadow_free(struct gw_shadow *sh);

/**
 * Write the access-log lines of finished shadow requests to @p out: the
 * primary's format (lib/httpproxy) with the mirror cluster, then the
 * field `shadow`. @return lines written.
 */
unsigned int gw_shadow_accesslog_drain(struct gw_shadow *sh, FILE *out);

/**
 * Do the engine's work once: segments from workers, ring items, the TCP
 * stack's timers and output, stream timeouts. Never blocks.
 * @return true when it did something or has output waiting (the caller
 *         should poll again soon rather than sleep).
 */
bool gw_shadow_poll(struct gw_shadow *sh, uint64_t now_tsc);

/**
 * A frame received for the shadow stack (from a worker's hand-over ring,
 * or the shadow port's RX queue): classified again, TCP goes to the
 * stack, anything else is freed. Takes ownership.
 */
void gw_shadow_input(struct gw_shadow *sh, struct rte_mbuf *m);

/** Engine counters. */
const struct gw_shadow_stats *gw_shadow_stats(const struct gw_shadow *sh);

/** The shadow stack's TCP counters. */
const struct gw_tcp_stats *gw_shadow_tcp_stats(const struct gw_shadow *sh);

/** Per (route, mirror destination) counters: number and entry @p i. */
unsigned int gw_shadow_route_count(const struct gw_shadow *sh);
const struct gw_shadow_route_stats *gw_shadow_route(const struct gw_shadow *sh,
						     unsigned int i);

/**
 * Write the counters as "name value" lines (the /stats and `gwctl stats`
 * format): gateway.shadow.*, the shadow stack's gateway.shadow.tcp.*,
 * then per route and mirror
 * gateway.mirror.ROUTE.CLUSTER.{requests,responses,drop.REASON,
 * pairs,primary.CLASS,shadow.CLASS,mismatches,primary_ms_avg,shadow_ms_avg}.
 * @return 0, or negative on error.
 */
int gw_shadow_stats_text(const struct gw_shadow *sh, FILE *out);

/**
 * Write the counters in Prometheus text exposition format:
 * gateway_mirror_requests_total, gateway_mirror_drops_total{reason},
 * gateway_mirror_responses_total{side,class}, gateway_mirror_mismatch_total,
 * gateway_mirror_latency_milliseconds{side} (histogram), labelled with
 * route and mirror. @return 0 or negative on error.
 */
int gw_shadow_stats_prometheus(const struct gw_shadow *sh, FILE *out);

/* ---- pieces exposed for tests ---- */

/**
 * Parity accounting of one finished stream into @p st: @p primary_status
 * and @p shadow_status (0: no response), latencies in microseconds.
 */
void gw_shadow_parity_record(struct gw_shadow_route_stats *st,
			     uint16_t primary_status, uint32_t primary_us,
			     uint16_t shadow_status, uint32_t shadow_us);

#endif /* GW_SHADOW_H */
