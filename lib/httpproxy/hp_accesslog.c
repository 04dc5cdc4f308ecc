/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access log: a worker fills a fixed-size record per request (copying the
 * few strings the log shows, truncated) and enqueues it, packed, on its
 * single-producer ring at the end of the exchange; the control lcore
 * drains the rings and formats the lines, so no worker ever formats text
 * or writes to a file. A full ring drops the record and counts it.
 *
 * Packed: the record's fixed part, then the bytes of its long strings
 * (path, x-forwarded-for, user-agent, authority, cluster) one after the
 * other, in k HP_LOG_ELEM-byte elements reserved and committed together
 * (zero-copy enqueue of k; the consumer sees all k or none): a usual
 * request moves 256 bytes instead of the whole 792-byte struct. The
 * consumer takes the first element, reads k from it, then the k - 1 that
 * follow.
 *
 * Line format: Envoy's default
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 *   %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 *   %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%"
 *   "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%"
 *   "%UPSTREAM_HOST%"
 * followed by %UPSTREAM_CLUSTER% (outbound|PORT|SUBSET|HOST), as Istio's
 * proxies print it.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_ring.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "gw_common.h"
#include "hp_private.h"

#define LOG_FIELDS ((1u << GW_HTTP_F_USER_AGENT) | (1u << GW_HTTP_F_X_REQUEST_ID) | \
		    (1u << GW_HTTP_F_X_FORWARDED_FOR))

/* the packed record's layout relies on these */
_Static_assert(HP_LOG_MAX_ELEMS < HP_LOG_RING_ELEMS(1u),
	       "a ring holds the longest record");
_Static_assert(sizeof(((struct hp_log_record *)0)->path) <= 256 &&
	       sizeof(((struct hp_log_record *)0)->path) % 16 == 0 &&
	       sizeof(((struct hp_log_record *)0)->user_agent) % 16 == 0 &&
	       sizeof(((struct hp_log_record *)0)->authority) % 16 == 0 &&
	       sizeof(((struct hp_log_record *)0)->xff) % 16 == 0 &&
	       offsetof(struct hp_log_record, xff) ==
	       offsetof(struct hp_log_record, cluster) + 120,
	       "long strings are read 16 bytes at a time within the record");
_Static_assert(offsetof(struct hp_log_record, cluster_len) < HP_LOG_ELEM &&
	       offsetof(struct hp_log_record, n_elems) < HP_LOG_ELEM,
	       "a packed record's first element has its size");

/* The first User-Agent, X-Request-Id and X-Forwarded-For values, in one
 * pass that ends once those the head has are found. */
static void
copy_fields(const struct gw_http_head *h, struct hp_log_record *r)
{
	/* the parser recorded which ids the head has (0: not classified) */
	uint32_t want = h->fields_seen != 0 ? h->fields_seen & LOG_FIELDS :
					      LOG_FIELDS;

	r->user_agent[0] = '\0';
	r->user_agent_len = 0;
	r->request_id[0] = '\0';
	r->xff[0] = '\0';
	for (uint32_t i = 0; want != 0 && i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];
		enum gw_http_field id = gw_http_header_id(f);

		if (!(want & (1u << id)))
			continue;
		want &= ~(1u << id);
		if (id == GW_HTTP_F_USER_AGENT)
			r->user_agent_len = (uint8_t)hp_strlcpy(r->user_agent,
				sizeof(r->user_agent), f->value, f->value_len);
		else if (id == GW_HTTP_F_X_REQUEST_ID)
			hp_strlcpy(r->request_id, sizeof(r->request_id), f->value,
				 f->value_len);
		else
			hp_strlcpy(r->xff, sizeof(r->xff), f->value, f->value_len);
	}
}

void
hp_log_begin(struct hp_session *s, const struct gw_http_head *h)
{
	struct gw_http_proxy *px = s->px;
	struct hp_log_record *r = &s->x->log;

	r->start_us = px->base_us +
		      (s->start_tsc - px->base_tsc) * 1000000 / px->tsc_hz;
	r->bytes_received = 0;
	r->bytes_sent = 0;
	r->duration_ms = 0;
	r->upstream_ms = -1;
	r->status = 0;
	r->version_minor = h->version_minor;
	r->flags[0] = '-';
	r->flags[1] = '\0';
	hp_strlcpy(r->method, sizeof(r->method), h->method_name.ptr,
		 h->method_name.len);
	r->path_len = (uint8_t)hp_strlcpy(r->path, sizeof(r->path), h->target.ptr,
					h->target.len);
	r->authority_len = (uint8_t)hp_strlcpy(r->authority, sizeof(r->authority),
					     h->authority.ptr, h->authority.len);
	copy_fields(h, r);
	r->upstream_host[0] = '\0';
	r->cluster[0] = '\0';
	r->attempts = 0;
}

/*
 * Length of the NUL-terminated string in the array @p f of @p size bytes,
 * read 16 bytes at a time (the record's layout lets every long string be
 * read to a multiple of 16 bytes).
 */
static inline size_t
field_len(const char *f, size_t size)
{
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128();

	for (size_t o = 0; o < size; o += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(f + o));
		unsigned int m = (unsigned int)_mm_movemask_epi8(
			_mm_cmpeq_epi8(v, zero));

		if (m != 0) {
			size_t n = o + (size_t)__builtin_ctz(m);

			return n < size ? n : size - 1;
		}
	}
	return size - 1;
#else
	return strnlen(f, size - 1);
#endif
}

/* @p n bytes of @p src at @p dst, 16 at a time, the first 16 always (a
 * usual string is shorter): up to 16 bytes more are read (within the
 * record) and written (the next string's place, or the packed record's
 * room at its end). */
static inline uint8_t *
put_chunks(uint8_t *dst, const char *src, size_t n)
{
	memcpy(dst, src, 16);
	for (size_t o = 16; o < n; o += 16)
		memcpy(dst + o, src + o, 16);
	return dst + n;
}

/* The packed record at @p dst (HP_LOG_ELEM * r->n_elems bytes). */
static void
pack(uint8_t *dst, const struct hp_log_record *r)
{
	uint8_t *p = dst + HP_LOG_FIXED;

	memcpy(dst, r, HP_LOG_FIXED);
	p = put_chunks(p, r->cluster, r->cluster_len);
	p = put_chunks(p, r->xff, r->xff_len);
	p = put_chunks(p, r->user_agent, r->user_agent_len);
	p = put_chunks(p, r->authority, r->authority_len);
	put_chunks(p, r->path, r->path_len);
}

/*
 * One Istio metrics sample per logged request, labelled from what the log
 * shows: the routed cluster (outbound|PORT|SUBSET|HOST) gives the
 * destination; a request answered before routing (404 NR, 400) has none
 * and counts under "unknown", as Envoy's BlackHole/unknown does.
 */
static void
record_metrics(const struct gw_http_proxy *px, const struct hp_session *s,
	       const struct hp_log_record *r)
{
	uint64_t cycles = px->now - s->start_tsc, hz_us = px->tsc_hz / 1000000;

	/* divide first: cycles * 10^6 overflows after hours at GHz rates */
	gw_metrics_record_cluster(px->metrics, r->cluster, r->cluster_len,
				  r->flags, r->status,
				  hz_us != 0 ? cycles / hz_us :
					       cycles * 1000000 / px->tsc_hz);
}

void
hp_log_emit(struct hp_session *s, const char *flag)
{
	struct gw_http_proxy *px = s->px;
	struct hp_log_record *r = &s->x->log;
	struct rte_ring_zc_data zcd;
	unsigned int k;

	if (flag != NULL)
		hp_strlcpy(r->flags, sizeof(r->flags), flag, strlen(flag));
	r->status = s->status;
	r->duration_ms = (uint32_t)((px->now - s->start_tsc) * 1000 / px->tsc_hz);
	r->cluster_len = (uint8_t)field_len(r->cluster, sizeof(r->cluster));
	if (px->metrics != NULL)
		record_metrics(px, s, r);
	if (px->log_ring == NULL)
		return;
	r->xff_len = (uint8_t)field_len(r->xff, sizeof(r->xff));
	k = HP_LOG_ELEMS((unsigned int)r->cluster_len + r->xff_len +
			 r->user_agent_len + r->authority_len + r->path_len);
	r->n_elems = (uint8_t)k;
	/* all k elements or none: a record is never half-written */
	if (rte_ring_enqueue_zc_bulk_elem_start(px->log_ring, HP_LOG_ELEM, k,
						&zcd, NULL) == 0) {
		px->stats.accesslog_dropped++;
		return;
	}
	if (likely(zcd.n1 == k)) {
		pack(zcd.ptr1, r);
	} else {
		/* the ring wraps inside the record: packed aside, then split */
		uint8_t tmp[HP_LOG_MAX_ELEMS * HP_LOG_ELEM];

		pack(tmp, r);
		memcpy(zcd.ptr1, tmp, (size_t)zcd.n1 * HP_LOG_ELEM);
		memcpy(zcd.ptr2, tmp + (size_t)zcd.n1 * HP_LOG_ELEM,
		       (size_t)(k - zcd.n1) * HP_LOG_ELEM);
	}
	rte_ring_enqueue_zc_elem_finish(px->log_ring, k);
	px->stats.accesslog_records++;
}

static const char *
dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

/* @p n bytes of @p src, NUL-terminated, at @p dst. */
static const uint8_t *
take(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	return src + n;
}

static void
write_line(FILE *out, const struct hp_log_record *r)
{
	time_t sec = (time_t)(r->start_us / 1000000);
	char when[32], ust[16], status[8], attempts[24] = "";
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (r->upstream_ms >= 0)
		snprintf(ust, sizeof(ust), "%d", r->upstream_ms);
	else
		strcpy(ust, "-");
	snprintf(status, sizeof(status), "%u", r->status);
	/* retried requests: how many upstream tries it took */
	if (r->attempts > 1)
		snprintf(attempts, sizeof(attempts), " attempts=%u", r->attempts);
	fprintf(out, "[%s.%03uZ] \"%s %s HTTP/1.%u\" %s %s %" PRIu64
		" %" PRIu64 " %u %s \"%s\" \"%s\" \"%s\" \"%s\" \"%s\" %s%s\n",
		when, (unsigned int)(r->start_us / 1000 % 1000),
		dash(r->method), dash(r->path), r->version_minor,
		status, dash(r->flags), r->bytes_received,
		r->bytes_sent, r->duration_ms, ust, dash(r->xff),
		dash(r->user_agent), dash(r->request_id),
		dash(r->authority), dash(r->upstream_host),
		dash(r->cluster), attempts);
}

unsigned int
gw_http_accesslog_drain(struct rte_ring *ring, FILE *out)
{
	uint8_t buf[HP_LOG_MAX_ELEMS * HP_LOG_ELEM];
	struct hp_log_record r;
	unsigned int total = 0;

	if (ring == NULL)
		return 0;
	/* one record at a time: its first element says how many follow,
	 * and they are there (the worker commits a record's elements at
	 * once) */
	while (rte_ring_sc_dequeue_elem(ring, buf, HP_LOG_ELEM) == 0) {
		const uint8_t *p = buf + HP_LOG_FIXED;
		unsigned int k;

		/* the first element has the lengths; the rest of the fixed
		 * part is read once the other elements are in */
		memcpy(&r, buf, HP_LOG_ELEM);
		k = r.n_elems;
		/* what hp_log_emit() wrote, or nothing sane follows
		 * (path_len < 256 = sizeof(r.path) by its type) */
		if (r.cluster_len >= sizeof(r.cluster) ||
		    r.xff_len >= sizeof(r.xff) ||
		    r.user_agent_len >= sizeof(r.user_agent) ||
		    r.authority_len >= sizeof(r.authority) ||
		    k != HP_LOG_ELEMS((unsigned int)r.cluster_len + r.xff_len +
				      r.user_agent_len + r.authority_len +
				      r.path_len) ||
		    rte_ring_sc_dequeue_bulk_elem(ring, buf + HP_LOG_ELEM,
				HP_LOG_ELEM, k - 1, NULL) != k - 1)
			break;
		memcpy(&r, buf, HP_LOG_FIXED);
		p = take(r.cluster, p, r.cluster_len);
		p = take(r.xff, p, r.xff_len);
		p = take(r.user_agent, p, r.user_agent_len);
		p = take(r.authority, p, r.authority_len);
		take(r.path, p, r.path_len);
		write_line(out, &r);
		total++;
	}
	if (total > 0)
		fflush(out);
	return total;
}
