/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shadow's access log: the engine queues a record per finished shadow
 * request on a single-producer ring; the control lcore formats the lines
 * (the primary's format, lib/httpproxy, then the field "shadow"), so the
 * engine never does I/O, on whichever lcore it runs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shadow_private.h"

/* "a.b.c.d:port" by hand: the engine may run on a busy lcore. */
static void
addr_format(char *out, const uint8_t ip[4], uint16_t port)
{
	char *o = out;

	for (unsigned int k = 0; k < 5; k++) {
		unsigned int v = k < 4 ? ip[k] : port;
		char d[5];
		int n = 0;

		do {
			d[n++] = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		while (n > 0)
			*o++ = d[--n];
		if (k < 4)
			*o++ = k < 3 ? '.' : ':';
	}
	*o = '\0';
}

void
sh_log_push(struct gw_shadow *sh, const struct sh_stream *s, const char *flag)
{
	struct sh_log_record rec, *r = &rec;
	const struct gw_shadow_meta *m = &s->meta;
	const uint8_t *ip = (const uint8_t *)&m->ip;

	memset(r, 0, sizeof(*r));
	r->start_us = m->start_us;
	r->bytes_received = s->req_bytes;
	r->bytes_sent = s->resp_bytes;
	r->duration_ms = (uint32_t)((sh->now - s->start_tsc) * 1000 / sh->tsc_hz);
	r->status = s->shadow_status;
	strncpy(r->flags, flag, sizeof(r->flags) - 1);
	memcpy(r->method, m->method, sizeof(r->method));
	memcpy(r->path, m->path, sizeof(r->path));
	memcpy(r->authority, m->authority, sizeof(r->authority));
	memcpy(r->request_id, m->request_id, sizeof(r->request_id));
	memcpy(r->user_agent, m->user_agent, sizeof(r->user_agent));
	memcpy(r->xff, m->xff, sizeof(r->xff));
	memcpy(r->cluster, m->cluster, sizeof(r->cluster));
	r->method[sizeof(r->method) - 1] = r->path[sizeof(r->path) - 1] = '\0';
	r->authority[sizeof(r->authority) - 1] = '\0';
	r->request_id[sizeof(r->request_id) - 1] = '\0';
	r->user_agent[sizeof(r->user_agent) - 1] = r->xff[sizeof(r->xff) - 1] = '\0';
	r->cluster[sizeof(r->cluster) - 1] = '\0';
	addr_format(r->upstream_host, ip, m->port);
	if (rte_ring_sp_enqueue_elem(sh->log_ring, r, sizeof(*r)) != 0)
		sh->log_dropped++;
}

static const char *
dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

unsigned int
gw_shadow_accesslog_drain(struct gw_shadow *sh, FILE *out)
{
	struct sh_log_record rec;
	unsigned int n = 0;

	if (sh == NULL)
		return 0;
	while (rte_ring_sc_dequeue_elem(sh->log_ring, &rec, sizeof(rec)) == 0) {
		const struct sh_log_record *r = &rec;
		time_t sec = (time_t)(r->start_us / 1000000);
		char when[32], status[8];
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(status, sizeof(status), "%u", r->status);
		/* The primary's line (lib/httpproxy) plus the field "shadow". */
		fprintf(out, "[%s.%03uZ] \"%s %s HTTP/1.1\" %s %s %lu %lu %u - "
			"\"%s\" \"%s\" \"%s\" \"%s\" \"%s\" %s shadow\n",
			when, (unsigned int)(r->start_us / 1000 % 1000),
			dash(r->method), dash(r->path), status, dash(r->flags),
			(unsigned long)r->bytes_received,
			(unsigned long)r->bytes_sent, r->duration_ms,
			dash(r->xff), dash(r->user_agent), dash(r->request_id),
			dash(r->authority), dash(r->upstream_host),
			dash(r->cluster));
		n++;
	}
	if (n > 0)
		fflush(out);
	sh->stats.log_lines += n;
	return n;
}
