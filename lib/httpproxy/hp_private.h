/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HP_PRIVATE_H
#define HP_PRIVATE_H

/*
 * Internals of the HTTP proxy shared by its files: sessions (client side,
 * hp_session.c), upstream connections and their per-endpoint pools
 * (hp_upstream.c), the fresh head writer and head rewriting
 * (hp_rewrite.c), gateway responses (hp_local.c) and access-log records
 * (hp_accesslog.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "gw_common.h"
#include "gw_config.h"
#include "gw_http.h"
#include "gw_httpproxy.h"
#include "gw_model.h"

#define HP_NONE            UINT32_MAX
#define HP_IDLE_BUCKETS    256u          /* endpoint hash buckets of the pool */
#define HP_MAX_SEND_SEGS   1024u         /* segments per gw_tcp_send() */
#define HP_HEADER_OPS      2u            /* route-level and destination-level */
#define HP_OUTLIER_WORDS   8u            /* bitmap words copied per pick (512 endpoints) */

/* A queue of segments linked through m->next. */
struct hp_queue {
	struct rte_mbuf *head;
	struct rte_mbuf *tail;
	uint32_t bytes;
};

/*
 * An access-log record: fixed-size fields, truncated, so that a worker
 * never allocates. Strings are NUL-terminated; "" prints as "-".
 *
 * In the ring a record is packed (hp_accesslog.c): its first
 * HP_LOG_FIXED bytes as they are here, then only the bytes of the five
 * long strings (their lengths are in the fixed part), in HP_LOG_ELEM-byte
 * ring elements enqueued together: three or four for a usual request
 * instead of the whole struct. path, user_agent and authority are written
 * by hp_log_begin() only, which keeps their lengths; hp_log_emit()
 * measures xff and cluster.
 */
struct hp_log_record {
	/* ---- the fixed part: copied whole ---- */
	uint64_t start_us;          /* Unix time of the request head, microseconds */
	uint64_t bytes_received;    /* request body bytes */
	uint64_t bytes_sent;        /* response body bytes */
	uint32_t duration_ms;
	int32_t upstream_ms;        /* head sent to response head; -1: none */
	uint16_t status;            /* 0: no response */
	uint8_t version_minor;
	uint8_t attempts;           /* upstream tries (retries + 1); 0: none */
	uint8_t n_elems;            /* ring elements of the packed record */
	uint8_t path_len, user_agent_len, authority_len, xff_len, cluster_len;
	char flags[8];              /* "-", "NR", "UH", "UF", "UT", "DC", "UC" */
	char method[16];
	char upstream_host[24];     /* a.b.c.d:port */
	char request_id[40];
	/* ---- the long strings: only their bytes go to the ring; each
	 * array a multiple of 16 bytes but cluster, which the next one
	 * follows (hp_accesslog.c reads them 16 bytes at a time) ---- */
	char cluster[120];          /* outbound|PORT|SUBSET|HOST */
	char xff[64];
	char user_agent[128];
	char authority[96];
	char path[256];
};

/* The packed record in the log ring. */
#define HP_LOG_ELEM     64u     /* bytes per ring element */
#define HP_LOG_FIXED    offsetof(struct hp_log_record, cluster)
/* a packed record's elements: 16 bytes of room after its last string,
 * which is copied 16 bytes at a time */
#define HP_LOG_ELEMS(strings) \
	((HP_LOG_FIXED + (strings) + 16 + HP_LOG_ELEM - 1) / HP_LOG_ELEM)
#define HP_LOG_MAX_ELEMS HP_LOG_ELEMS(119u + 63u + 127u + 95u + 255u)
/* Ring elements (a power of two) for a ring of @p records entries (a
 * power of two): room for as many usual records, and at least for two of
 * the longest (13 elements). */
#define HP_LOG_RING_ELEMS(records) \
	((records) * 4u < 32u ? 32u : (records) * 4u)

enum hp_req_state {
	HP_REQ_HEAD = 0,   /* parsing a request head */
	HP_REQ_BODY,       /* forwarding (or discarding) its body */
	HP_REQ_DONE,       /* request complete: input waits (pipelining) */
	HP_REQ_DEAD,       /* invalid input: nothing more is read */
};

enum hp_resp_state {
	HP_RESP_NONE = 0,  /* no request in flight */
	HP_RESP_HEAD,      /* waiting for / parsing the response head */
	HP_RESP_BODY,
	HP_RESP_DONE,      /* response complete (proxied or local) */
};

enum hp_up_state {
	HP_UP_FREE = 0,
	HP_UP_BUSY,        /* bound to a session */
	HP_UP_IDLE,        /* in the pool */
	HP_UP_CLOSING,     /* FIN sent, waiting for on_closed */
};

struct hp_session;

/* Circuit breaking (DestinationRule connectionPool): per worker and
 * cluster, the connections in use (carrying a request or connecting) and
 * the requests waiting for one. Keyed by a hash of the cluster's name so
 * that counts survive snapshot changes. */
#define HP_CLUSTER_SLOTS 256u
struct hp_cluster_slot {
	uint64_t key;                    /* 0: free */
	uint32_t in_use;
	uint32_t pending;
	uint32_t pend_head, pend_tail;   /* waiting sessions, FIFO */
};

/* An upstream connection. */
struct hp_upstream {
	struct gw_http_proxy *px;
	struct gw_tcp_conn *conn;        /* NULL once closed */
	struct hp_session *s;            /* while BUSY */
	uint32_t cl_slot;                /* its cluster's slot, HP_NONE: none */
	bool in_use;                     /* counted in its slot's in_use */
	struct hp_queue in;              /* received, not yet processed */
	uint32_t in_off;                 /* processed bytes of in.head */
	uint32_t ip;                     /* endpoint, network order */
	uint16_t port;
	uint8_t state;
	bool established;
	bool fin;                        /* the backend half-closed */
	bool in_connect;                 /* inside gw_tcp_connect() */
	bool connect_failed;             /* it closed inside gw_tcp_connect() */
	bool reset;                      /* closed abnormally (reset, timeout, refused) */
	bool no_reuse;                   /* the last exchange forbids pooling it */
	uint32_t requests;               /* requests sent on it */
	uint32_t max_requests;           /* 0: unlimited */
	uint64_t idle_tsc;               /* idle timeout length */
	uint64_t idle_deadline;
	uint32_t id;
	uint32_t next, prev;             /* free list, or the endpoint's idle bucket */
};

/* Retry state of the request in flight (hp_retry.c). */
#define HP_RETRY_MAX_CODES 8
#define HP_RETRY_BODY_MAX  (256u * 1024u) /* body held for a retry, bytes */
enum {
	HP_RETRY_5XX     = 1u << 0,
	HP_RETRY_GATEWAY = 1u << 1,  /* 502, 503, 504 */
	HP_RETRY_CONNECT = 1u << 2,  /* connect-failure, refused-stream */
	HP_RETRY_RESET   = 1u << 3,
	HP_RETRY_4XX     = 1u << 4,  /* retriable-4xx: 409 */
	HP_RETRY_CODES   = 1u << 5,  /* retriable-status-codes */
};
enum hp_try_failure {
	HP_TRY_CONNECT,              /* no connection: nothing was sent */
	HP_TRY_RESET,                /* reset or closed before a response */
	HP_TRY_TIMEOUT,              /* perTryTimeout before a response */
};
struct hp_retry {
	struct hp_queue head;        /* references to the fresh request head */
	struct hp_queue body;        /* ... and to the body forwarded so far */
	uint64_t per_try_tsc;        /* 0: none */
	uint32_t on;                 /* HP_RETRY_* */
	uint16_t codes[HP_RETRY_MAX_CODES];
	uint8_t n_codes;
	uint8_t left;                /* retries still allowed */
	uint8_t attempts;            /* tries made so far */
	bool hold;                   /* head and body all held: retriable */
	bool default_policy;         /* Istio's default (the route has none) */
	bool waiting;                /* backing off before the next try */
	int32_t last_ep;             /* endpoint of the last try, -1: none */
	/* The head held without a clone when it has at most
	 * HP_RETRY_HEAD_REFS segments (4 KiB): a reference on each (shared
	 * with TCP, which may trim its view of them, hence the range kept);
	 * longer heads use the head queue. */
	uint8_t n_head_refs;
	struct {
		struct rte_mbuf *m;
		uint16_t off, len;
	} head_refs[2];
};
#define HP_RETRY_HEAD_REFS 2u

/*
 * What only a request in flight uses: both parsers (their head buffers
 * and header arrays are this context's slice of the proxy's memory), the
 * per-request state and the access-log record. A per-worker pool of
 * max_exchanges; a session takes one when its request's first byte is
 * processed and gives it back when the exchange ends with no input
 * pending, so an idle keep-alive connection holds none.
 */
struct hp_exchange {
	struct gw_http_parser req;
	struct gw_http_parser resp;
	struct gw_http_chunked req_chunked;
	struct gw_http_chunked resp_chunked;
	/* The routing decision of the request in flight (its route lives in
	 * the held snapshot); kept across a fault delay. */
	struct gw_route_result route;
	struct hp_retry retry;
	struct hp_log_record log;
	/* corsPolicy of the route and the request's allowed Origin, for the
	 * CORS fields of the response (cors NULL: none). */
	const struct gw_cors *cors;
	/* Response header operations of the route and destination; valid
	 * while snap_hold keeps their snapshot (taken when the request is
	 * routed, released when the exchange ends). Without a hold they are
	 * used only while that snapshot is still in force. */
	const struct gw_route_snapshot *snap;
	const void *snap_hold;
	const struct gw_header_ops *resp_ops[HP_HEADER_OPS];
	uint64_t upstream_tsc;           /* head handed to the upstream */
	uint64_t timeout_tsc;            /* route timeout length, 0: none */
	uint64_t req_remaining;          /* Content-Length body bytes still to come */
	uint64_t req_body_bytes;         /* body bytes read (chunked: with framing) */
	uint64_t resp_remaining;
	struct hp_queue wait_q;          /* what the try will send (circuit breaking) */
	/* mirrors of the request in flight (hp_mirror.c) */
	uint8_t n_mirrors;
	uint8_t mirror_state[GW_ROUTE_MAX_MIRRORS];   /* enum hp_mirror_state */
	uint32_t mirror_stream[GW_ROUTE_MAX_MIRRORS];
	uint16_t cors_origin_len;
	char cors_origin[256];
	uint32_t next;                   /* free list */
};

/* A client connection and its exchange in flight. */
struct hp_session {
	struct gw_http_proxy *px;
	struct hp_exchange *x;           /* NULL: no request in flight */
	uint32_t xw_next, xw_prev;       /* waiting for an exchange context */
	struct gw_tcp_conn *conn;        /* NULL once closed */
	struct hp_upstream *up;          /* the request's upstream, or NULL */
	struct hp_queue in;              /* client bytes not yet processed */
	uint32_t in_off;
	struct hp_queue to_up;           /* built for the upstream, not yet taken */
	struct hp_queue to_client;       /* built for the client, not yet taken */
	uint8_t req_state;               /* enum hp_req_state */
	uint8_t resp_state;              /* enum hp_resp_state */
	uint8_t req_body;                /* enum gw_http_body */
	uint8_t resp_body;
	bool used;
	bool dead;                       /* aborted: released when the run ends */
	bool running;                    /* inside session_run() */
	bool rerun;                      /* an event arrived during the run */
	bool discard;                    /* request body is dropped (local response) */
	bool close_after;                /* close the client after this response */
	bool client_fin;
	bool shut;                       /* FIN queued on the client */
	bool keep_alive;                 /* the request allows persistence */
	bool http10;                     /* the request is HTTP/1.0 */
	bool dechunk;                    /* forward only chunk payload (HTTP/1.0 client) */
	bool resp_head_sent;             /* response bytes went to the client */
	bool resp_got_bytes;             /* upstream sent bytes for this request */
	bool x_wait;                     /* waiting for an exchange context */
	uint16_t status;
	uint32_t listener_ip;
	uint16_t listener_port;
	uint32_t client_ip;
	uint8_t client_ip_len;           /* client_ip_str: formatted once */
	char client_ip_str[16];          /* dotted quad, NUL-terminated */
	uint64_t start_tsc;              /* request head parsed */
	uint64_t route_deadline;         /* 0: none armed */
	uint64_t connect_deadline;       /* 0: none armed */
	uint64_t delay_deadline;         /* fault.delay or retry back-off: forwarding waits, 0: none */
	uint64_t try_deadline;           /* perTryTimeout of the try in flight, 0: none */
	/* waiting for a connection of its cluster (circuit breaking) */
	bool conn_wait;
	bool waited;                     /* the request waited once (first try done) */
	uint32_t pend_slot, pend_next;
	bool delayed;                    /* held by fault.delay (input waits) */
	uint32_t id;
	uint32_t next, prev;             /* free list, or the timer list */
	bool timed;                      /* in the timer list */
};

struct gw_http_proxy {
	struct gw_tcp_stack *stack;
	unsigned int worker_id;
	gw_http_snapshot_fn snapshot;
	void *snapshot_arg;
	const void *(*snapshot_hold)(void *arg,
				     const struct gw_route_snapshot *snap);
	void (*snapshot_release)(void *arg, const void *token);
	struct rte_mempool *pool;
	uint64_t tsc_hz;
	uint64_t now;
	uint64_t next_scan;
	uint64_t next_idle_scan;
	uint64_t idle_tsc;               /* default idle timeout */
	uint64_t connect_tsc;            /* default connect timeout, 0: the stack's */
	uint64_t rng;                    /* x-request-id generator */
	/* wall clock: Unix microseconds at base_tsc */
	uint64_t base_us;
	uint64_t base_tsc;
	uint32_t free_head;
	uint32_t timer_head;
	uint32_t n_sessions;
	uint32_t up_free_head;
	struct rte_ring *shadow_ring;    /* mirror items (NULL: mirroring off) */
	const struct gw_shadow_health *shadow_health; /* endpoints down (engine's) */
	uint32_t mirror_seq;             /* stream ids on shadow_ring */
	/* Copies skipped for a down shadow endpoint, as one run per (route,
	 * mirror): a DROPPED item carrying the run's count goes to the engine
	 * when the next skip differs or the run is 1 ms old, so that a dead
	 * shadow costs a request a compare and an increment. The run holds
	 * its snapshot, which keeps its route pointers meaningful; without a
	 * hold it ends with the worker's loop iteration. */
	struct {
		struct rte_mbuf *meta;           /* the run's item (NULL: none) */
		const struct gw_route *route;
		const struct gw_route_cluster *cluster;
		const void *hold;                /* snapshot hold, or NULL */
		uint64_t since;                  /* TSC of its first copy */
		uint32_t count;
	} mirror_skip;
	bool shadow_suffix;              /* "-shadow" in mirrored hosts */
	/* The last mirrored Host value and the copy's (hp_mirror.c): a
	 * worker's requests name few hosts. in_len 0: none kept. */
	struct {
		uint8_t in_len;
		uint8_t out_len;
		char in[62];
		char out[72];                /* in + GW_SHADOW_SUFFIX, NUL */
	} mirror_host;
	uint32_t n_idle;
	unsigned int n_ports;
	const struct gw_tcp_port *ports;
	unsigned int n_upstream;
	unsigned int upstream[GW_CONFIG_MAX_PORTS];
	struct gw_http_limits limits;
	uint64_t max_request_body;       /* 0: none */
	/* the path rewritten by uriRegexRewrite, until the head is written */
	char rewrite_path[8192];
	struct rte_ring *log_ring;
	struct gw_metrics_table *metrics;  /* NULL: no request metrics */
	struct gw_http_proxy_stats stats;
	struct hp_session *sessions;
	struct hp_upstream *ups;
	uint32_t idle[HP_IDLE_BUCKETS];  /* heads of idle lists by endpoint */
	unsigned int n_workers;          /* limits are split among workers */
	struct hp_cluster_slot clusters[HP_CLUSTER_SLOTS];
	/* outlier detection (hp_outlier.c) */
	gw_http_outlier_fn outlier_sink; /* NULL: no reports */
	void *outlier_arg;
	uint64_t outlier_health[HP_OUTLIER_WORDS]; /* a pick's copy of the bitmap */
	void *parser_mem;                /* the parsers' buffers (calloc) */
	struct hp_exchange *xs;          /* exchange contexts */
	uint32_t n_exchanges;
	uint32_t x_free;                 /* free list of xs */
	uint32_t xw_head, xw_tail;       /* sessions waiting for one, FIFO */
};

/* ---- queues (hp_session.c) ---- */
void hp_queue_append(struct hp_queue *q, struct rte_mbuf *m);
void hp_queue_drop(struct hp_queue *q);
/* Detach the head segment of @p q (a lone segment). */
struct rte_mbuf *hp_queue_pop(struct hp_queue *q);

/* ---- a fresh head in new mbufs (hp_rewrite.c) ---- */
struct hp_writer {
	struct rte_mempool *pool;
	struct rte_mbuf *head;
	struct rte_mbuf *tail;
	/* the free bytes of tail: tail->data_len is brought up to date when
	 * the next mbuf is taken and by hp_writer_finish(). A tail set by
	 * the caller before the first write is written after its data. */
	char *cur, *end;
	uint32_t len;
	bool failed;                     /* out of mbufs */
};

void hp_writer_init(struct hp_writer *w, struct rte_mempool *pool);
/* hp_write() when it does not fit the current mbuf. */
void hp_write_slow(struct hp_writer *w, const void *data, size_t len);

/* Inline: a head is a dozen writes, most of them of a few bytes. */
static inline void
hp_write(struct hp_writer *w, const void *data, size_t len)
{
	if (likely(len <= (size_t)(w->end - w->cur))) {
		memcpy(w->cur, data, len);
		w->cur += len;
		w->len += (uint32_t)len;
		return;
	}
	hp_write_slow(w, data, len);
}

/* A string literal: its length is known at compile time. */
#define hp_write_lit(w, lit) hp_write((w), "" lit, sizeof(lit) - 1)

void hp_write_str(struct hp_writer *w, const char *s);
void hp_write_uint(struct hp_writer *w, uint64_t v);

/* Append the written chain to @p q (segments); false when out of mbufs. */
bool hp_writer_finish(struct hp_writer *w, struct hp_queue *q);

/* "00" "01" ... "99": decimal numbers two digits at a time. */
extern const char hp_digit_pairs[201];

/* The decimal digits of @p v (< 65536: a port, an octet) at @p p;
 * returns the end. No loop, no division instruction. */
static inline char *
hp_put_u16(char *p, uint32_t v)
{
	if (v >= 10000) {
		uint32_t h = v / 10000;     /* 1..6 */

		*p++ = (char)('0' + h);
		v -= h * 10000;
		memcpy(p, &hp_digit_pairs[2 * (v / 100)], 2);
		memcpy(p + 2, &hp_digit_pairs[2 * (v % 100)], 2);
		return p + 4;
	}
	if (v >= 1000) {
		memcpy(p, &hp_digit_pairs[2 * (v / 100)], 2);
		memcpy(p + 2, &hp_digit_pairs[2 * (v % 100)], 2);
		return p + 4;
	}
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
	} else if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	memcpy(p, &hp_digit_pairs[2 * v], 2);
	return p + 2;
}

/* What the request rewrite adds. */
#define HP_REQUEST_ID_LEN 36u            /* a UUID: 8-4-4-4-12 hex digits */
struct hp_request_rewrite {
	const char *client_ip;           /* dotted quad */
	char request_id[40];             /* generated when the request has none:
					  * HP_REQUEST_ID_LEN characters */
	bool has_request_id;
	const char *host;                /* replaces the Host value (mirrors), or NULL */
	uint32_t host_len;
	const struct gw_header_ops *ops[HP_HEADER_OPS]; /* NULL entries skipped */
	/* rewrite.uri: path_prefix replaces the first path_skip bytes of the
	 * path (the query follows unchanged) */
	bool rewrite_path;
	const char *path_prefix;
	size_t path_prefix_len;
	uint32_t path_skip;
	uint32_t client_ip_len;          /* strlen(client_ip) */
};

/* The request head to send upstream (origin form, HTTP/1.1). */
void hp_rewrite_request(struct hp_writer *w, const struct gw_http_head *h,
			const struct hp_request_rewrite *rw);

/* The response head to send to the client. */
void hp_rewrite_response(struct hp_writer *w, const struct gw_http_head *h,
			 const struct gw_header_ops *const *ops,
			 bool dechunk, bool close, bool http10_keep_alive,
			 int32_t upstream_ms, const struct hp_session *s);

/* ---- gateway responses (hp_local.c) ---- */
/*
 * Answer the request in flight with @p status and a short text body,
 * flag @p flag in the log; @p close closes the client afterwards.
 * The rest of the request body is discarded.
 */
void hp_local_reply(struct hp_session *s, uint16_t status, const char *flag,
		    const char *detail, bool close);
/*
 * The general form: @p body of @p body_len bytes (NULL/0: none) with
 * @p content_type (NULL: no field), and fields written by @p extra
 * (NULL: none) before the blank line.
 */
void hp_local_respond(struct hp_session *s, uint16_t status, const char *flag,
		      const void *body, size_t body_len,
		      const char *content_type,
		      void (*extra)(struct hp_writer *w, const void *arg),
		      const void *extra_arg, bool close);

/* ---- retries (hp_retry.c) ---- */
/* The retry policy of s->route (or Istio's default); drops held data. */
void hp_retry_policy(struct hp_session *s);
/* Is a response with @p status to be retried (a try is left, all held)? */
bool hp_retry_status(const struct hp_session *s, uint16_t status);
/* Is a failed try to be retried? */
bool hp_retry_failure(const struct hp_session *s, enum hp_try_failure f);
/* Back-off before retry number @p retry (1, 2, ...), in TSC cycles. */
uint64_t hp_retry_backoff(struct gw_http_proxy *px, unsigned int retry);
/* Keep references to the fresh head in @p head / a forwarded body segment. */
void hp_retry_hold_head(struct hp_session *s, const struct hp_queue *head);
void hp_retry_hold_body(struct hp_session *s, struct rte_mbuf *seg);
/* Append new references to the held head and body to @p dst. */
int hp_retry_replay(struct hp_session *s, struct hp_queue *dst);
/* Drop what is held; no more retries for this request. */
void hp_retry_release(struct hp_session *s);

/* ---- outlier detection (hp_outlier.c) ---- */
/* The health bitmap of the request's cluster for the endpoint pick (a
 * copy owned by the proxy, read with relaxed loads), or NULL: all usable. */
const uint64_t *hp_outlier_health(struct hp_session *s);
/* The try to endpoint s->retry.last_ep ended with @p status: the response
 * status, 503 for a connect failure or a reset before the response, 504
 * for a timeout. Counts it; reports a threshold to the control lcore. */
void hp_outlier_report(struct hp_session *s, uint16_t status);

/* ---- route policies (hp_policy.c) ---- */
/* CORS preflight, fault abort, directResponse, redirect for s->route:
 * true when the gateway answered the request itself. */
bool hp_policy_answer(struct hp_session *s);
/* rewrite.uri and rewrite.authority of s->route into @p rw. */
void hp_policy_rewrite(const struct hp_session *s, struct hp_request_rewrite *rw);
/* The CORS fields of the response to an allowed origin (s->cors). */
void hp_policy_cors_response(struct hp_writer *w, const struct hp_session *s);

/* ---- circuit breaking (hp_upstream.c) ---- */
/* The slot of cluster @p name, created on first use; HP_NONE when the
 * table is full (no limit is applied then). */
uint32_t hp_cluster_slot(struct gw_http_proxy *px, const char *name);
/* Count @p u as in use for its slot / no longer (idempotent); the latter
 * wakes the first waiting session of the slot. */
void hp_upstream_in_use(struct hp_upstream *u, uint32_t slot);
void hp_upstream_not_in_use(struct hp_upstream *u);
/* Session @p s waits for a connection of @p slot / leaves the queue. */
void hp_cluster_wait(struct gw_http_proxy *px, uint32_t slot, struct hp_session *s);
void hp_cluster_unwait(struct gw_http_proxy *px, struct hp_session *s);
/* The session woken by a freed connection (hp_session.c). */
void hp_session_conn_ready(struct hp_session *s);

/* ---- upstream pools (hp_upstream.c) ---- */
void hp_upstream_init(struct gw_http_proxy *px, uint32_t n);
/* A pooled idle connection to ip:port, or NULL. */
struct hp_upstream *hp_upstream_pool_get(struct gw_http_proxy *px, uint32_t ip,
					 uint16_t port);
/* Open a connection; NULL with *flag_status set (502 connect failure, 503 no slot). */
struct hp_upstream *hp_upstream_connect(struct gw_http_proxy *px,
					uint32_t ip, uint16_t port,
					uint16_t *fail_status);
/* The exchange is over and the connection may be reused: pool it. */
void hp_upstream_pool_put(struct hp_upstream *u);
/* Close gracefully (FIN) and forget it. */
void hp_upstream_release(struct hp_upstream *u);
/* Reset and forget it now. */
void hp_upstream_abort(struct hp_upstream *u);
/* Expire idle connections. */
void hp_upstream_expire(struct gw_http_proxy *px);
/* Abort every upstream connection (proxy free). */
void hp_upstream_abort_all(struct gw_http_proxy *px);
/* Session side of upstream events (hp_session.c). */
void hp_session_upstream_event(struct hp_session *s);

/* ---- access log (hp_accesslog.c) ---- */
void hp_log_begin(struct hp_session *s, const struct gw_http_head *h);
void hp_log_emit(struct hp_session *s, const char *flag);
/* Copy at most size-1 bytes of @p src[0..len) (none when NULL) and
 * NUL-terminate; returns the length kept. Inline and without a library
 * call, as a handful per request fill the log record: a few overlapping
 * word copies for a short string, 16-byte ones for a long one; nothing
 * past src[len) is read (a head ends where it ends). */
static inline size_t
hp_strlcpy(char *dst, size_t size, const char *src, size_t len)
{
	if (src == NULL)
		len = 0;
	if (len >= size)
		len = size - 1;
	if (len >= 16) {
		for (size_t o = 0; o + 16 < len; o += 16)
			memcpy(dst + o, src + o, 16);
		memcpy(dst + len - 16, src + len - 16, 16);
	} else if (len >= 8) {
		uint64_t a = gw_load64(src), b = gw_load64(src + len - 8);

		memcpy(dst, &a, 8);
		memcpy(dst + len - 8, &b, 8);
	} else if (len >= 4) {
		uint32_t a = gw_load32(src), b = gw_load32(src + len - 4);

		memcpy(dst, &a, 4);
		memcpy(dst + len - 4, &b, 4);
	} else if (len > 0) {
		dst[0] = src[0];
		dst[len / 2] = src[len / 2];
		dst[len - 1] = src[len - 1];
	}
	dst[len] = '\0';
	return len;
}

/* ---- mirroring (hp_mirror.c) ---- */
enum hp_mirror_state {
	HP_MIRROR_ACTIVE = 0,   /* items flow */
	HP_MIRROR_ENDED,        /* END sent: PRIMARY_DONE to come */
	HP_MIRROR_BROKEN,       /* an item was lost: ABORT to be sent */
	HP_MIRROR_GONE,         /* nothing more for this stream */
};
/* The request was routed and its primary head written: copy it to each
 * mirror chosen. */
void hp_mirror_begin(struct hp_session *s, const struct gw_route_snapshot *snap,
		     const struct gw_route_result *res,
		     const struct gw_route_request *rq,
		     const struct gw_http_head *h,
		     const struct hp_request_rewrite *rw,
		     const struct hp_queue *primary);
/* Body bytes [off, off + n) of @p seg, by reference. */
void hp_mirror_body(struct hp_session *s, struct rte_mbuf *seg, uint32_t off,
		    uint32_t n);
/* The request is complete. */
void hp_mirror_end(struct hp_session *s);
/* The exchange ended (@p aborted: without a complete primary response). */
void hp_mirror_finish(struct hp_session *s, bool aborted);
/* Send the pending run of skipped copies: always (@p all), else when it
 * is due (1 ms old, or not holding its snapshot). */
void hp_mirror_skip_flush(struct gw_http_proxy *px, bool all);

#endif /* HP_PRIVATE_H */
