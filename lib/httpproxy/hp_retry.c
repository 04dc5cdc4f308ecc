/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTPRetry with Istio's semantics: the policy of a route (attempts,
 * perTryTimeout, retryOn), Istio's default when a route has none (2
 * retries on connect-failure, refused-stream, unavailable, cancelled and
 * retriable status 503), the conditions a failed try is retried on, and
 * Envoy's back-off (25 ms base, doubling, full jitter, at most 250 ms).
 *
 * A request is retried only while the gateway still holds all of it by
 * reference: the fresh head (a reference on each of its mbufs, or clones
 * of a long head) and the body forwarded so far (clones of the segments,
 * at most HP_RETRY_BODY_MAX bytes). Past
 * that bound the request is no longer retriable. Requests that are not
 * idempotent (POST, PATCH, ...) are retried under the default policy only
 * when nothing reached the backend (connect failure); a route's own
 * retryOn allows more.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "hp_private.h"

#define BACKOFF_BASE_MS 25u
#define BACKOFF_MAX_MS  250u

/* One more reference to the bytes of segment @p seg alone (an indirect
 * mbuf: the data is shared, never copied; rte_pktmbuf_clone() would take
 * the whole chain that follows). */
static struct rte_mbuf *
seg_ref(struct rte_mempool *pool, struct rte_mbuf *seg)
{
	struct rte_mbuf *mi = rte_pktmbuf_alloc(pool);

	if (mi == NULL)
		return NULL;
	rte_pktmbuf_attach(mi, seg);
	mi->data_off = seg->data_off;
	mi->data_len = seg->data_len;
	mi->pkt_len = seg->data_len;
	return mi;
}

static bool
idempotent(enum gw_http_method m)
{
	switch (m) {
	case GW_HTTP_METHOD_GET:
	case GW_HTTP_METHOD_HEAD:
	case GW_HTTP_METHOD_OPTIONS:
	case GW_HTTP_METHOD_PUT:
	case GW_HTTP_METHOD_DELETE:
	case GW_HTTP_METHOD_TRACE:
		return true;
	default:
		return false;
	}
}

static void
add_code(struct hp_retry *r, uint16_t code)
{
	if (r->n_codes < HP_RETRY_MAX_CODES)
		r->codes[r->n_codes++] = code;
	r->on |= HP_RETRY_CODES;
}

/* One retryOn token (Envoy's names; gRPC ones do not apply to HTTP/1.1). */
static void
parse_token(struct hp_retry *r, const char *t)
{
	char *end;
	unsigned long code;

	if (strcmp(t, "5xx") == 0)
		r->on |= HP_RETRY_5XX;
	else if (strcmp(t, "gateway-error") == 0)
		r->on |= HP_RETRY_GATEWAY;
	else if (strcmp(t, "connect-failure") == 0)
		r->on |= HP_RETRY_CONNECT;
	else if (strcmp(t, "refused-stream") == 0)
		r->on |= HP_RETRY_CONNECT; /* HTTP/1.1: nothing was sent */
	else if (strcmp(t, "reset") == 0)
		r->on |= HP_RETRY_RESET;
	else if (strcmp(t, "retriable-4xx") == 0)
		r->on |= HP_RETRY_4XX;
	else if (strcmp(t, "retriable-status-codes") == 0)
		r->on |= HP_RETRY_CODES;
	else {
		code = strtoul(t, &end, 10);
		if (*end == '\0' && code >= 100 && code <= 599)
			add_code(r, (uint16_t)code);
	}
}

void
hp_retry_policy(struct hp_session *s)
{
	const struct gw_http_route *spec = s->x->route.route->spec;
	const struct gw_retries *rp = spec != NULL && spec->has_retries ?
				      &spec->retries : NULL;
	struct hp_retry *r = &s->x->retry;

	if (r->n_head_refs != 0 || r->head.head != NULL || r->body.head != NULL)
		hp_retry_release(s);
	/* head_refs[] is read below n_head_refs only */
	memset(r, 0, offsetof(struct hp_retry, head_refs));
	r->last_ep = -1;
	if (rp == NULL || rp->retry_on == NULL) {
		/* Istio's default policy */
		r->on = HP_RETRY_CONNECT;
		add_code(r, 503);
		r->left = 2;
		r->default_policy = rp == NULL;
	} else {
		for (uint32_t i = 0; i < rp->n_retry_on; i++)
			parse_token(r, rp->retry_on_list[i]);
	}
	if (rp != NULL) {
		r->left = rp->attempts > 0 ?
			  (uint8_t)(rp->attempts > 255 ? 255 : rp->attempts) : 0;
		if (rp->per_try_timeout_us != GW_MODEL_UNSET &&
		    rp->per_try_timeout_us > 0)
			r->per_try_tsc = (uint64_t)rp->per_try_timeout_us *
					 s->px->tsc_hz / 1000000;
	}
	/* the default policy never repeats what a backend may have acted on */
	if (r->default_policy && !idempotent(s->x->req.head.method))
		r->on &= HP_RETRY_CONNECT;
	r->hold = r->left > 0;
}

bool
hp_retry_status(const struct hp_session *s, uint16_t status)
{
	const struct hp_retry *r = &s->x->retry;

	if (r->left == 0 || !r->hold)
		return false;
	if ((r->on & HP_RETRY_5XX) && status >= 500 && status <= 599)
		return true;
	if ((r->on & HP_RETRY_GATEWAY) &&
	    (status == 502 || status == 503 || status == 504))
		return true;
	if ((r->on & HP_RETRY_4XX) && status == 409)
		return true;
	if (r->on & HP_RETRY_CODES)
		for (unsigned int i = 0; i < r->n_codes; i++)
			if (r->codes[i] == status)
				return true;
	return false;
}

bool
hp_retry_failure(const struct hp_session *s, enum hp_try_failure f)
{
	const struct hp_retry *r = &s->x->retry;
	uint32_t any_5xx = HP_RETRY_5XX | HP_RETRY_GATEWAY;

	if (r->left == 0 || !r->hold)
		return false;
	switch (f) {
	case HP_TRY_CONNECT:
		return (r->on & (HP_RETRY_CONNECT | any_5xx)) != 0;
	case HP_TRY_RESET:
		return (r->on & (HP_RETRY_RESET | any_5xx)) != 0;
	case HP_TRY_TIMEOUT:
		return (r->on & (HP_RETRY_RESET | any_5xx)) != 0;
	}
	return false;
}

uint64_t
hp_retry_backoff(struct gw_http_proxy *px, unsigned int retry)
{
	uint64_t cap = BACKOFF_BASE_MS << (retry < 4 ? retry : 4);
	uint64_t ms;

	if (cap > BACKOFF_MAX_MS)
		cap = BACKOFF_MAX_MS;
	/* full jitter in [0, cap), as Envoy */
	px->rng ^= px->rng << 13;
	px->rng ^= px->rng >> 7;
	px->rng ^= px->rng << 17;
	ms = px->rng % cap;
	return (ms + 1) * px->tsc_hz / 1000;
}

void
hp_retry_hold_head(struct hp_session *s, const struct hp_queue *head)
{
	struct hp_retry *r = &s->x->retry;
	struct rte_mbuf *seg;
	unsigned int n = 0;

	if (!r->hold)
		return;
	for (seg = head->head; seg != NULL && n <= HP_RETRY_HEAD_REFS;
	     seg = seg->next)
		n++;
	if (n <= HP_RETRY_HEAD_REFS) {
		/* The usual head: a reference on its mbufs, no clone. TCP,
		 * which sends them, trims its view of a segment (data_off,
		 * data_len, next) but never its bytes: the range is kept
		 * here, and a replay clones it. */
		RTE_BUILD_BUG_ON(RTE_DIM(r->head_refs) != HP_RETRY_HEAD_REFS);
		n = 0;
		for (seg = head->head; seg != NULL; seg = seg->next) {
			rte_mbuf_refcnt_update(seg, 1);
			r->head_refs[n].m = seg;
			r->head_refs[n].off = seg->data_off;
			r->head_refs[n].len = seg->data_len;
			n++;
		}
		r->n_head_refs = (uint8_t)n;
		return;
	}
	for (seg = head->head; seg != NULL; seg = seg->next) {
		struct rte_mbuf *c = seg_ref(s->px->pool, seg);

		if (c == NULL) {
			hp_retry_release(s);
			return;
		}
		hp_queue_append(&r->head, c);
	}
}

void
hp_retry_hold_body(struct hp_session *s, struct rte_mbuf *seg)
{
	struct hp_retry *r = &s->x->retry;
	struct rte_mbuf *c;

	if (!r->hold)
		return;
	if (r->body.bytes + seg->data_len > HP_RETRY_BODY_MAX ||
	    (c = seg_ref(s->px->pool, seg)) == NULL) {
		/* no longer all held: this request cannot be retried */
		hp_retry_release(s);
		return;
	}
	hp_queue_append(&r->body, c);
}

int
hp_retry_replay(struct hp_session *s, struct hp_queue *dst)
{
	const struct hp_retry *r = &s->x->retry;
	const struct hp_queue *src[2] = { &r->head, &r->body };

	for (unsigned int i = 0; i < r->n_head_refs; i++) {
		struct rte_mbuf *c = rte_pktmbuf_alloc(s->px->pool);

		if (c == NULL) {
			s->px->stats.no_mbuf++;
			return -ENOMEM;
		}
		rte_pktmbuf_attach(c, r->head_refs[i].m);
		c->data_off = r->head_refs[i].off;
		c->data_len = r->head_refs[i].len;
		c->pkt_len = r->head_refs[i].len;
		hp_queue_append(dst, c);
	}
	for (unsigned int k = 0; k < 2; k++)
		for (struct rte_mbuf *seg = src[k]->head; seg != NULL;
		     seg = seg->next) {
			struct rte_mbuf *c = seg_ref(s->px->pool, seg);

			if (c == NULL) {
				s->px->stats.no_mbuf++;
				return -ENOMEM;
			}
			hp_queue_append(dst, c);
		}
	return 0;
}

void
hp_retry_release(struct hp_session *s)
{
	struct hp_retry *r = &s->x->retry;

	for (unsigned int i = 0; i < r->n_head_refs; i++)
		rte_pktmbuf_free_seg(r->head_refs[i].m);
	r->n_head_refs = 0;
	if (r->head.head != NULL)
		hp_queue_drop(&r->head);
	if (r->body.head != NULL)
		hp_queue_drop(&r->body);
	r->hold = false;
	r->left = 0;
	r->waiting = false;
}
