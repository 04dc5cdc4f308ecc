/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker's side of mirroring (lib/shadow): each mirror chosen for a
 * request becomes a stream of items on the worker's single-producer ring
 * to the shadow engine. The head is written once more (the Host names the
 * shadow), after the item's meta in the same mbuf; body bytes go by
 * reference, an indirect mbuf over the received segment, never copied.
 * A full ring or an empty pool loses the copy, not the request: the
 * stream is marked broken and an ABORT item is tried with the next item,
 * so the engine frees what it holds. Nothing waits.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "gw_common.h"
#include "gw_shadow.h"
#include "hp_private.h"

static inline __attribute__((always_inline)) bool
item_put(struct gw_http_proxy *px, uint8_t type, uint32_t stream,
	 uint16_t status, struct rte_mbuf *m)
{
	struct gw_shadow_item it = {
		.type = type,
		.status = status,
		.stream = stream,
		.m = m,
	};

	RTE_BUILD_BUG_ON(sizeof(it) != 16);   /* the ring's 128-bit copy */
	return rte_ring_sp_enqueue_elem(px->shadow_ring, &it, sizeof(it)) == 0;
}

/* A stream lost an item: the copy is gone. */
static void
mirror_break(struct hp_session *s, unsigned int k, enum gw_shadow_drop why)
{
	struct gw_http_proxy *px = s->px;

	/* the worker's own losses; the engine counts the rest per route */
	if (why == GW_SHADOW_DROP_RING_FULL || why == GW_SHADOW_DROP_NO_MBUF)
		px->stats.mirror_dropped++;
	s->x->mirror_state[k] = HP_MIRROR_BROKEN;
	/* the reason rides in the ABORT item */
	if (item_put(px, GW_SHADOW_ITEM_ABORT, s->x->mirror_stream[k],
		     (uint16_t)why, NULL))
		s->x->mirror_state[k] = HP_MIRROR_GONE;
}

/* Retry the ABORT of a broken stream (the ring may have room now). */
static void
mirror_retry_abort(struct hp_session *s, unsigned int k)
{
	if (item_put(s->px, GW_SHADOW_ITEM_ABORT, s->x->mirror_stream[k],
		     GW_SHADOW_DROP_RING_FULL, NULL))
		s->x->mirror_state[k] = HP_MIRROR_GONE;
}

/* Append @p src (NUL-terminated) at *pos; stops at size - 1. */
static void
key_put(char *out, size_t size, size_t *pos, const char *src)
{
	size_t n = strnlen(src, size - 1 - *pos);

	memcpy(out + *pos, src, n);
	*pos += n;
}

/* "NAMESPACE/VIRTUALSERVICE/NAME-OR-INDEX", by hand (no snprintf on the
 * worker), NUL-terminated: what the snapshot prepared as mirror_key, for
 * a route compiled without it. */
static void
route_key(const struct gw_route *r, char *out, size_t size)
{
	char num[12];
	size_t pos = 0;
	unsigned int i = sizeof(num) - 1;
	uint32_t v = r->http_index;

	if (r->vs_name == NULL) {
		key_put(out, size, &pos, r->vhost != NULL ? r->vhost : "-");
		out[pos] = '\0';
		return;
	}
	key_put(out, size, &pos, r->vs_namespace ? r->vs_namespace : "default");
	key_put(out, size, &pos, "/");
	key_put(out, size, &pos, r->vs_name);
	key_put(out, size, &pos, "/");
	if (r->name != NULL) {
		key_put(out, size, &pos, r->name);
	} else {
		num[i] = '\0';
		do {
			num[--i] = (char)('0' + v % 10);
			v /= 10;
		} while (v != 0);
		key_put(out, size, &pos, &num[i]);
	}
	out[pos] = '\0';
}

/* Copy @p len bytes of @p src, truncated to @p size - 1, and a NUL. */
static inline void
meta_mem(char *dst, size_t size, const char *src, size_t len)
{
	if (len > size - 1)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Copy the array @p src (a NUL-terminated string of at most @p src_size -
 * 1 bytes) into @p dst: the whole of it, or its first @p size - 1 bytes
 * and a NUL when @p dst is smaller. */
static inline void
meta_arr(char *dst, size_t size, const char *src, size_t src_size)
{
	if (src_size <= size) {
		memcpy(dst, src, src_size);
	} else {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
	}
}


/* The first segment of a HEAD item: where to, and what to log; the
 * copy's head follows in the same segment (hp_mirror_begin). The route's
 * key was formatted when its snapshot was compiled. */
static inline __attribute__((always_inline)) struct rte_mbuf *
meta_build(struct hp_session *s, const struct gw_route *route,
	   const struct gw_route_cluster *cl, const struct gw_route_endpoint *ep,
	   const char *authority, size_t authority_len)
{
	struct gw_http_proxy *px = s->px;
	struct rte_mbuf *m = rte_pktmbuf_alloc(px->pool);
	struct gw_shadow_meta *meta;

	RTE_BUILD_BUG_ON(sizeof(struct gw_shadow_meta) > RTE_MBUF_DEFAULT_DATAROOM);
	if (m == NULL)
		return NULL;
	m->data_off = 0;
	meta = rte_pktmbuf_mtod(m, struct gw_shadow_meta *);
	/* every string NUL-terminated; the bytes after them are not read */
	meta->ip = ep->addr.v4;
	meta->port = ep->port;
	meta->reserved = 0;
	meta->start_us = s->x->log.start_us;
	if (route->mirror_key != NULL)
		meta_mem(meta->route, sizeof(meta->route), route->mirror_key,
			 route->mirror_key_len);
	else
		route_key(route, meta->route, sizeof(meta->route));
	meta_mem(meta->cluster, sizeof(meta->cluster), cl->name, cl->name_len);
	meta_mem(meta->authority, sizeof(meta->authority), authority,
		 authority_len);
	/* from the log record, NUL-terminated in their arrays: copied whole
	 * (constant sizes, no scan), a longer one cut at the meta's size */
	meta_arr(meta->method, sizeof(meta->method), s->x->log.method,
		 sizeof(s->x->log.method));
	meta_arr(meta->path, sizeof(meta->path), s->x->log.path,
		 sizeof(s->x->log.path));
	meta_arr(meta->request_id, sizeof(meta->request_id),
		 s->x->log.request_id, sizeof(s->x->log.request_id));
	meta_arr(meta->user_agent, sizeof(meta->user_agent),
		 s->x->log.user_agent, sizeof(s->x->log.user_agent));
	meta_arr(meta->xff, sizeof(meta->xff), s->x->log.xff,
		 sizeof(s->x->log.xff));
	m->data_len = sizeof(*meta);
	m->pkt_len = m->data_len;
	return m;
}

/*
 * The copy's head is the primary's as just written, but for the Host
 * value: copied from it with that one value replaced, which costs a
 * fraction of writing it again, into @p m after the meta. Only for a
 * head in one segment whose Host line is found and that fits what is
 * left of @p m; otherwise (false, nothing written) the caller rewrites.
 * A "\r\nhost:" can only start a field: values hold no CR or LF.
 */
static bool
head_from_primary(struct rte_mbuf *m, const struct hp_queue *primary,
		  const struct gw_http_str *orig, const char *host,
		  size_t host_len)
{
	const char *d, *v = NULL, *end = NULL;
	size_t pre, post;
	uint32_t len;
	char *out;

	if (primary == NULL || primary->head == NULL ||
	    primary->head->next != NULL)
		return false;
	d = rte_pktmbuf_mtod(primary->head, const char *);
	len = rte_pktmbuf_data_len(primary->head);
	/* line by line: memchr finds each CR */
	for (const char *c = memchr(d, '\r', len); c != NULL && c + 7 <= d + len;
	     c = memchr(c + 1, '\r', (size_t)(d + len - c - 1))) {
		if (c[1] != '\n' || (c[2] | 0x20) != 'h' || (c[3] | 0x20) != 'o' ||
		    (c[4] | 0x20) != 's' || (c[5] | 0x20) != 't' || c[6] != ':')
			continue;
		v = c + 7;
		if (v < d + len && *v == ' ')      /* as the proxy writes */
			v++;
		while (v < d + len && (*v == ' ' || *v == '\t'))
			v++;
		/* the usual line holds the request's value as received: its
		 * end is known (a value has no CR), else searched */
		if ((size_t)(d + len - v) >= orig->len + 2 &&
		    v[orig->len] == '\r' && v[orig->len + 1] == '\n' &&
		    gw_bytes_eq(v, orig->ptr, orig->len)) {
			end = v + orig->len;
			break;
		}
		end = memchr(v, '\r', (size_t)(d + len - v));
		if (end != NULL && (end + 1 >= d + len || end[1] != '\n'))
			end = NULL;
		break;
	}
	if (v == NULL || end == NULL)
		return false;
	pre = (size_t)(v - d);
	post = (size_t)(d + len - end);
	if (pre + host_len + post > rte_pktmbuf_tailroom(m))
		return false;
	out = rte_pktmbuf_mtod_offset(m, char *, m->data_len);
	memcpy(out, d, pre);
	memcpy(out + pre, host, host_len);
	memcpy(out + pre + host_len, end, post);
	m->data_len = (uint16_t)(m->data_len + pre + host_len + post);
	m->pkt_len = m->data_len;
	return true;
}

/* One more copy skipped for a down endpoint: counted in the current run
 * when it is for the same (route, mirror), else a new run begins. */
static void
mirror_skip(struct hp_session *s, const struct gw_route_snapshot *snap,
	    const struct gw_route *route, const struct gw_route_cluster *cl,
	    const struct gw_route_endpoint *ep, const char *authority,
	    size_t authority_len)
{
	struct gw_http_proxy *px = s->px;

	if (px->mirror_skip.meta != NULL && px->mirror_skip.route == route &&
	    px->mirror_skip.cluster == cl && px->mirror_skip.count < UINT32_MAX) {
		px->mirror_skip.count++;
		return;
	}
	hp_mirror_skip_flush(px, true);
	px->mirror_skip.meta = meta_build(s, route, cl, ep, authority,
					  authority_len);
	if (px->mirror_skip.meta == NULL) {
		px->stats.mirror_dropped++;
		return;
	}
	px->mirror_skip.route = route;
	px->mirror_skip.cluster = cl;
	px->mirror_skip.count = 1;
	px->mirror_skip.since = px->now;
	px->mirror_skip.hold = px->snapshot_hold != NULL ?
		px->snapshot_hold(px->snapshot_arg, snap) : NULL;
}

/* The copy's head after the meta in @p meta, by a rewrite of the
 * received head when it cannot be copied from the primary's: in the
 * meta's segment and, when it does not fit, in more. */
static bool
head_rewrite(struct gw_http_proxy *px, struct rte_mbuf *meta,
	     const struct gw_http_head *h, const struct hp_request_rewrite *rw0,
	     const char *host, size_t host_len)
{
	struct hp_request_rewrite rw = *rw0;
	struct hp_queue q = {0};
	struct hp_writer w;
	uint32_t written;

	if (host != NULL) {
		rw.host = host;
		rw.host_len = (uint32_t)host_len;
	}
	hp_writer_init(&w, px->pool);
	w.head = w.tail = meta;    /* written after the meta */
	hp_rewrite_request(&w, h, &rw);
	written = w.len;
	/* out of mbufs: the chain, the meta with it, is freed */
	if (!hp_writer_finish(&w, &q))
		return false;
	px->stats.copied_bytes += written;
	return true;
}

/* The copy's Host value for @p a, written to @p buf, NUL-terminated
 * (false: too long for the suffix); kept for the next request when short. */
static bool
mirror_host(struct gw_http_proxy *px, const struct gw_http_str *a,
	    char *buf, size_t size, size_t *len)
{
	if (px->shadow_suffix) {
		int n = gw_shadow_host(a->ptr, a->len, buf, size);

		if (n < 0)
			return false;
		*len = (size_t)n;
	} else {
		hp_strlcpy(buf, size, a->ptr, a->len);
		*len = strlen(buf);
	}
	RTE_BUILD_BUG_ON(sizeof(px->mirror_host.out) <
			 sizeof(px->mirror_host.in) + sizeof(GW_SHADOW_SUFFIX));
	if (a->len != 0 && a->len <= sizeof(px->mirror_host.in) &&
	    *len < sizeof(px->mirror_host.out)) {
		memcpy(px->mirror_host.in, a->ptr, a->len);
		memcpy(px->mirror_host.out, buf, *len + 1);
		px->mirror_host.in_len = (uint8_t)a->len;
		px->mirror_host.out_len = (uint8_t)*len;
	}
	return true;
}

void
hp_mirror_begin(struct hp_session *s, const struct gw_route_snapshot *snap,
		const struct gw_route_result *res,
		const struct gw_route_request *rq, const struct gw_http_head *h,
		const struct hp_request_rewrite *rw0, const struct hp_queue *primary)
{
	struct gw_http_proxy *px = s->px;
	char buf[256];
	const char *host = NULL, *authority = "";
	const struct gw_http_str *orig = NULL;
	size_t hl = 0;

	s->x->n_mirrors = 0;
	if (res->n_mirrors == 0)
		return;
	if (px->shadow_ring == NULL) {
		px->stats.mirror_dropped += res->n_mirrors;
		return;
	}
	/* Host (or the authority of an absolute-form target) of the copy */
	if (h->host.ptr != NULL || h->authority.ptr != NULL) {
		const struct gw_http_str *a = h->host.ptr != NULL ? &h->host :
								   &h->authority;

		/* the last request's host is the usual one: no rewrite */
		orig = a;
		if (a->len != 0 && a->len == px->mirror_host.in_len &&
		    gw_bytes_eq(a->ptr, px->mirror_host.in, a->len)) {
			host = px->mirror_host.out;
			hl = px->mirror_host.out_len;
		} else if (!mirror_host(px, a, buf, sizeof(buf), &hl)) {
			px->stats.mirror_dropped += res->n_mirrors;
			return;
		} else {
			host = buf;
		}
		authority = host;
	}
	for (uint32_t i = 0; i < res->n_mirrors; i++) {
		uint32_t cid = res->mirror_clusters[i];
		const struct gw_route_cluster *cl = gw_route_snapshot_cluster(snap, cid);
		struct rte_mbuf *meta;
		int e;

		if (cl == NULL) {
			px->stats.mirror_dropped++;
			continue;
		}
		e = gw_route_pick_endpoint(snap, px->worker_id, cid, rq, NULL, NULL);
		if (e < 0 || cl->endpoints[e].family != AF_INET ||
		    cl->endpoints[e].port == 0) {
			px->stats.mirror_dropped++;
			continue;
		}
		/* the engine saw this endpoint fail: no head, no body, no
		 * connection; only the count for its route */
		if (gw_shadow_endpoint_down(px->shadow_health,
					    cl->endpoints[e].addr.v4,
					    cl->endpoints[e].port, px->now)) {
			mirror_skip(s, snap, res->route, cl, &cl->endpoints[e],
				    authority, hl);
			continue;
		}
		meta = meta_build(s, res->route, cl, &cl->endpoints[e], authority,
				  hl);
		if (meta == NULL) {
			px->stats.mirror_dropped++;
			continue;
		}
		/* one mbuf, meta and head, for the usual copy */
		if (host != NULL &&
		    head_from_primary(meta, primary, orig, host, hl)) {
			px->stats.copied_bytes += meta->data_len -
						  sizeof(struct gw_shadow_meta);
		} else if (!head_rewrite(px, meta, h, rw0, host, hl)) {
			px->stats.mirror_dropped++;
			continue;
		}
		px->mirror_seq++;
		if (!item_put(px, GW_SHADOW_ITEM_HEAD, px->mirror_seq, 0, meta)) {
			rte_pktmbuf_free(meta);
			px->stats.mirror_dropped++;
			continue;
		}
		px->stats.mirror_requests++;
		s->x->mirror_stream[s->x->n_mirrors] = px->mirror_seq;
		s->x->mirror_state[s->x->n_mirrors] = HP_MIRROR_ACTIVE;
		s->x->n_mirrors++;
	}
}

void
hp_mirror_skip_flush(struct gw_http_proxy *px, bool all)
{
	uint32_t n = px->mirror_skip.count;

	if (px->mirror_skip.meta == NULL)
		return;
	if (!all && px->mirror_skip.hold != NULL &&
	    px->now - px->mirror_skip.since < px->tsc_hz / 1000)
		return;
	/* the stream field of a DROPPED item is its count */
	if (item_put(px, GW_SHADOW_ITEM_DROPPED, n, GW_SHADOW_DROP_UNAVAILABLE,
		     px->mirror_skip.meta)) {
		px->stats.mirror_unavailable += n;
	} else {
		rte_pktmbuf_free(px->mirror_skip.meta);
		px->stats.mirror_dropped += n;
	}
	px->mirror_skip.meta = NULL;
	px->mirror_skip.count = 0;
	if (px->mirror_skip.hold != NULL)
		px->snapshot_release(px->snapshot_arg, px->mirror_skip.hold);
	px->mirror_skip.hold = NULL;
}

void
hp_mirror_body(struct hp_session *s, struct rte_mbuf *seg, uint32_t off,
	       uint32_t n)
{
	struct gw_http_proxy *px = s->px;

	for (unsigned int k = 0; k < s->x->n_mirrors; k++) {
		struct rte_mbuf *mi;

		if (s->x->mirror_state[k] == HP_MIRROR_BROKEN)
			mirror_retry_abort(s, k);
		if (s->x->mirror_state[k] != HP_MIRROR_ACTIVE)
			continue;
		mi = rte_pktmbuf_alloc(px->pool);
		if (mi == NULL) {
			mirror_break(s, k, GW_SHADOW_DROP_NO_MBUF);
			continue;
		}
		/* the same bytes, shared: the segment's refcount keeps them */
		rte_pktmbuf_attach(mi, seg);
		mi->data_off = (uint16_t)(seg->data_off + off);
		mi->data_len = (uint16_t)n;
		mi->pkt_len = n;
		if (!item_put(px, GW_SHADOW_ITEM_BODY, s->x->mirror_stream[k], 0,
			      mi)) {
			rte_pktmbuf_free(mi);
			mirror_break(s, k, GW_SHADOW_DROP_RING_FULL);
		}
	}
}

void
hp_mirror_end(struct hp_session *s)
{
	for (unsigned int k = 0; k < s->x->n_mirrors; k++) {
		if (s->x->mirror_state[k] == HP_MIRROR_BROKEN)
			mirror_retry_abort(s, k);
		if (s->x->mirror_state[k] != HP_MIRROR_ACTIVE)
			continue;
		if (item_put(s->px, GW_SHADOW_ITEM_END, s->x->mirror_stream[k], 0,
			     NULL))
			s->x->mirror_state[k] = HP_MIRROR_ENDED;
		else
			mirror_break(s, k, GW_SHADOW_DROP_RING_FULL);
	}
}

void
hp_mirror_finish(struct hp_session *s, bool aborted)
{
	struct gw_http_proxy *px = s->px;
	uint32_t us = 0;

	if (s->start_tsc != 0 && px->now > s->start_tsc)
		us = (uint32_t)((px->now - s->start_tsc) * 1000000 / px->tsc_hz);
	for (unsigned int k = 0; k < s->x->n_mirrors; k++) {
		switch (s->x->mirror_state[k]) {
		case HP_MIRROR_ACTIVE:
			/* the request never completed: the copy is unusable */
			mirror_break(s, k, GW_SHADOW_DROP_CLIENT);
			break;
		case HP_MIRROR_ENDED: {
			/* for parity: 0 when the primary got no response */
			struct gw_shadow_item it = {
				.type = GW_SHADOW_ITEM_PRIMARY_DONE,
				.status = aborted ? 0 : s->status,
				.stream = s->x->mirror_stream[k],
				.latency_us = us,
			};

			rte_ring_sp_enqueue_elem(px->shadow_ring, &it, sizeof(it));
			break;
		}
		case HP_MIRROR_BROKEN:
			mirror_retry_abort(s, k);
			break;
		default:
			break;
		}
	}
	s->x->n_mirrors = 0;
}
