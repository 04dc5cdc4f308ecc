/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access log: a worker fills a fixed-size record per request (copying the
 * few strings the log shows, truncated) and enqueues it on its
 * single-producer ring at the end of the exchange; the control lcore
 * drains the rings and formats the lines, so no worker ever formats text
 * or writes to a file. A full ring drops the record and counts it.
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

#include <rte_ring.h>

#include "hp_private.h"

#define LOG_FIELDS ((1u << GW_HTTP_F_USER_AGENT) | (1u << GW_HTTP_F_X_REQUEST_ID) | \
		    (1u << GW_HTTP_F_X_FORWARDED_FOR))

/* The first User-Agent, X-Request-Id and X-Forwarded-For values, in one
 * pass that ends once those the head has are found. */
static void
copy_fields(const struct gw_http_head *h, struct hp_log_record *r)
{
	/* the parser recorded which ids the head has (0: not classified) */
	uint32_t want = h->fields_seen != 0 ? h->fields_seen & LOG_FIELDS :
					      LOG_FIELDS;

	r->user_agent[0] = '\0';
	r->request_id[0] = '\0';
	r->xff[0] = '\0';
	for (uint32_t i = 0; want != 0 && i < h->n_headers; i++) {
		const struct gw_http_header *f = &h->headers[i];
		enum gw_http_field id = gw_http_header_id(f);

		if (!(want & (1u << id)))
			continue;
		want &= ~(1u << id);
		if (id == GW_HTTP_F_USER_AGENT)
			hp_strlcpy(r->user_agent, sizeof(r->user_agent), f->value,
				   f->value_len);
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
	strcpy(r->flags, "-");
	hp_strlcpy(r->method, sizeof(r->method), h->method_name.ptr,
		   h->method_name.len);
	hp_strlcpy(r->path, sizeof(r->path), h->target.ptr, h->target.len);
	hp_strlcpy(r->authority, sizeof(r->authority), h->authority.ptr,
		   h->authority.len);
	copy_fields(h, r);
	r->upstream_host[0] = '\0';
	r->cluster[0] = '\0';
	r->attempts = 0;
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
	struct gw_metrics_labels l = { .flags = r->flags, .code = r->status };
	uint64_t cycles = px->now - s->start_tsc, hz_us = px->tsc_hz / 1000000;

	gw_metrics_parse_cluster(r->cluster, strlen(r->cluster), &l);
	/* divide first: cycles * 10^6 overflows after hours at GHz rates */
	gw_metrics_record(px->metrics, &l, hz_us != 0 ? cycles / hz_us :
			  cycles * 1000000 / px->tsc_hz);
}

void
hp_log_emit(struct hp_session *s, const char *flag)
{
	struct gw_http_proxy *px = s->px;
	struct hp_log_record *r = &s->x->log;
	struct rte_ring_zc_data zcd;

	if (flag != NULL)
		hp_strlcpy(r->flags, sizeof(r->flags), flag, strlen(flag));
	r->status = s->status;
	r->duration_ms = (uint32_t)((px->now - s->start_tsc) * 1000 / px->tsc_hz);
	if (px->metrics != NULL)
		record_metrics(px, s, r);
	if (px->log_ring == NULL)
		return;
	/* straight into the ring's slot with one memcpy: the ring's own
	 * element copy moves the record 4 bytes at a time */
	if (rte_ring_enqueue_zc_bulk_elem_start(px->log_ring, sizeof(*r), 1,
						&zcd, NULL) == 0) {
		px->stats.accesslog_dropped++;
		return;
	}
	memcpy(zcd.ptr1, r, sizeof(*r));
	rte_ring_enqueue_zc_elem_finish(px->log_ring, 1);
	px->stats.accesslog_records++;
}

static const char *
dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

unsigned int
gw_http_accesslog_drain(struct rte_ring *ring, FILE *out)
{
	struct hp_log_record recs[16];
	unsigned int total = 0, n;

	if (ring == NULL)
		return 0;
	do {
		n = rte_ring_sc_dequeue_burst_elem(ring, recs, sizeof(recs[0]),
						   RTE_DIM(recs), NULL);
		for (unsigned int i = 0; i < n; i++) {
			const struct hp_log_record *r = &recs[i];
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
				snprintf(attempts, sizeof(attempts),
					 " attempts=%u", r->attempts);
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
		total += n;
	} while (n == RTE_DIM(recs));
	if (total > 0)
		fflush(out);
	return total;
}
