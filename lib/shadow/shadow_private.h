/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SHADOW_PRIVATE_H
#define SHADOW_PRIVATE_H

/*
 * Internals of the shadow engine: streams (one per mirrored request,
 * keyed by worker and the worker's stream id), shadow connections and
 * their idle pool, per (route, mirror) counters, access-log records.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "gw_http.h"
#include "gw_shadow.h"

#define SH_NONE          UINT32_MAX
#define SH_MAX_ROUTES    1024u    /* (route, mirror) counter entries */
#define SH_ROUTE_BUCKETS 2048u    /* their hash index (power of two) */
#define SH_BURST         64u      /* ring items per dequeue */
#define SH_ITEMS_PER_POLL 1024u   /* per ring per poll: others get their turn */
#define SH_MAX_SEND_SEGS 512u
#define SH_MAX_HEAD      (16 * 1024)
#define SH_MAX_HEADERS   100u

struct sh_queue {
	struct rte_mbuf *head;
	struct rte_mbuf *tail;
	uint32_t bytes;
	uint32_t segs;
};

enum sh_conn_state {
	SH_CONN_FREE = 0,
	SH_CONN_BUSY,       /* carries a stream */
	SH_CONN_IDLE,       /* pooled */
	SH_CONN_CLOSING,    /* FIN sent, waiting for on_closed */
};

enum sh_resp_phase {
	SH_RESP_HEAD = 0,
	SH_RESP_BODY,
	SH_RESP_DONE,
};

struct sh_stream;

struct sh_conn {
	struct gw_shadow *sh;
	struct gw_tcp_conn *c;           /* NULL once closed */
	struct sh_stream *s;             /* while BUSY */
	uint32_t ip;
	uint16_t port;
	uint8_t state;                   /* enum sh_conn_state */
	uint8_t phase;                   /* enum sh_resp_phase */
	uint8_t body;                    /* enum gw_http_body */
	bool established;
	bool fin;
	bool keep_alive;
	uint64_t remaining;
	uint64_t idle_deadline;
	struct gw_http_parser resp;
	struct gw_http_chunked chunked;
	uint32_t id;
	uint32_t next;                   /* free list or idle list */
};

struct sh_stream {
	uint64_t key;                    /* worker << 32 | stream id */
	uint32_t id;
	uint32_t hnext;                  /* hash chain, or free list */
	bool used;
	bool end_seen;                   /* END item received */
	bool sent_all;                   /* every request byte handed to TCP */
	bool shadow_done;                /* response complete or failed */
	bool primary_done;
	uint16_t shadow_status;          /* 0: none */
	uint16_t primary_status;
	uint32_t primary_us;
	uint32_t shadow_us;
	uint32_t stat;                   /* route counter index, SH_NONE if none */
	struct sh_queue out;             /* not yet handed to TCP */
	struct sh_conn *conn;
	uint64_t start_tsc;
	uint64_t deadline;
	uint64_t req_bytes;
	uint64_t resp_bytes;
	struct gw_shadow_meta meta;
};

/* An access-log line waiting for the control lcore's writer. */
struct sh_log_record {
	uint64_t start_us;
	uint64_t bytes_received;
	uint64_t bytes_sent;
	uint32_t duration_ms;
	uint16_t status;
	char flags[8];
	char method[16];
	char path[160];
	char authority[96];
	char request_id[40];
	char user_agent[64];
	char xff[64];
	char upstream_host[24];
	char cluster[120];
};

struct gw_shadow {
	struct gw_shadow_params p;
	struct gw_tcp_stack *stack;
	uint64_t tsc_hz;
	uint64_t now;
	uint64_t next_scan;
	uint64_t timeout_tsc;
	uint64_t idle_tsc;
	uint32_t max_pending;
	uint32_t max_held;
	uint32_t min_free;
	/* streams */
	struct sh_stream *streams;
	uint32_t *buckets;
	uint32_t n_buckets;              /* power of two */
	uint32_t free_stream;
	/* connections */
	struct sh_conn *conns;
	uint32_t n_conns;
	uint32_t free_conn;
	uint32_t idle_head;
	void *parser_mem;
	/* endpoints down (shared with the workers; the engine writes) */
	struct gw_shadow_health *health;
	bool own_health;
	uint64_t unavailable_tsc;        /* first back-off; 0: never mark down */
	uint64_t down_max_tsc;
	uint8_t health_fails[GW_SHADOW_HEALTH_SLOTS];
	/* counters */
	struct gw_shadow_stats stats;
	unsigned int n_routes;
	struct gw_shadow_route_stats *routes;    /* SH_MAX_ROUTES */
	uint32_t *route_index;                   /* SH_ROUTE_BUCKETS, open addressing */
	/* access log: engine lcore -> control lcore (SP/SC) */
	struct rte_ring *log_ring;
	uint64_t log_dropped;
};

/* Queue the access-log record of @p s, its shadow side ended with @p flag
 * (shadow_log.c); a full ring drops it (log_dropped). */
void sh_log_push(struct gw_shadow *sh, const struct sh_stream *s,
		 const char *flag);

#endif /* SHADOW_PRIVATE_H */
