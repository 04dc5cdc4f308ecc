/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Out-of-order reassembly queue: contract in gw_tcpcore.h.
 *
 * Each queue is a singly linked list of non-overlapping items sorted by
 * sequence number, with a tail pointer because most out-of-order arrivals
 * extend the highest item (one loss, then the rest of the window). Lists
 * are short (bounded by the connection's max_count), so the walk for the
 * other cases costs less than a tree would.
 *
 * Insertion first plans (where the segment goes, what it loses at each
 * end, which items it covers), then checks every limit against the net
 * change, and only then modifies anything: a rejected segment leaves the
 * queue exactly as it was.
 */
#include <errno.h>
#include <stdlib.h>

#include "gw_tcpcore.h"

struct gw_reasm_node {
	struct gw_reasm_node *next;
	void *buf;
	uint32_t seq;   /* first byte kept */
	uint32_t len;   /* bytes kept */
	uint32_t skip;  /* bytes of buf before seq */
};

struct gw_reasm_pool {
	struct gw_reasm_node *free_list;
	uint64_t max_bytes;
	gw_reasm_free_fn free_fn;
	void *free_arg;
	struct gw_reasm_stats stats;
	struct gw_reasm_node nodes[];
};

static inline uint32_t
node_end(const struct gw_reasm_node *n)
{
	return n->seq + n->len;
}

static inline struct gw_reasm_node *
node_get(struct gw_reasm_pool *p)
{
	struct gw_reasm_node *n = p->free_list;

	p->free_list = n->next;
	p->stats.nodes_used++;
	return n;
}

/* Return @p n to the pool and free its buffer. */
static inline void
node_drop(struct gw_reasm_pool *p, struct gw_reasm_node *n)
{
	p->free_fn(n->buf, p->free_arg);
	n->buf = NULL;
	n->next = p->free_list;
	p->free_list = n;
	p->stats.nodes_used--;
}

struct gw_reasm_pool *
gw_reasm_pool_create(uint32_t max_nodes, uint64_t max_bytes,
		     gw_reasm_free_fn free_fn, void *free_arg)
{
	struct gw_reasm_pool *p;

	if (max_nodes == 0 || free_fn == NULL)
		return NULL;
	p = calloc(1, sizeof(*p) + (size_t)max_nodes * sizeof(p->nodes[0]));
	if (p == NULL)
		return NULL;
	p->max_bytes = max_bytes;
	p->free_fn = free_fn;
	p->free_arg = free_arg;
	for (uint32_t i = max_nodes; i > 0; i--) {
		p->nodes[i - 1].next = p->free_list;
		p->free_list = &p->nodes[i - 1];
	}
	return p;
}

void
gw_reasm_pool_free(struct gw_reasm_pool *pool)
{
	free(pool);
}

void
gw_reasm_pool_stats(const struct gw_reasm_pool *pool,
		    struct gw_reasm_stats *out)
{
	*out = pool->stats;
}

void
gw_reasm_init(struct gw_reasm *q, struct gw_reasm_pool *pool,
	      uint32_t max_count, uint32_t max_bytes)
{
	q->head = NULL;
	q->tail = NULL;
	q->pool = pool;
	q->count = 0;
	q->bytes = 0;
	q->max_count = max_count;
	q->max_bytes = max_bytes;
}

int
gw_reasm_insert(struct gw_reasm *q, uint32_t seq, uint32_t len, void *buf,
		uint32_t *trim_front, uint32_t *trim_back)
{
	struct gw_reasm_pool *p = q->pool;
	struct gw_reasm_node *prev = NULL, *cur = NULL, *covered = NULL, *n;
	uint32_t s = seq, e = seq + len, front = 0, back = 0;
	uint32_t n_covered = 0, covered_bytes = 0, kept;
	uint64_t q_bytes, p_bytes;

	if (trim_front != NULL)
		*trim_front = 0;
	if (trim_back != NULL)
		*trim_back = 0;
	if (len == 0 || len >= UINT32_C(1) << 31)
		return -EINVAL;

	if (q->tail != NULL && gw_seq_geq(s, node_end(q->tail))) {
		prev = q->tail;  /* beyond everything: append */
	} else {
		cur = q->head;
		while (cur != NULL && gw_seq_leq(node_end(cur), s)) {
			prev = cur;
			cur = cur->next;
		}
		/* cur is the first item ending after s: does it hold our front? */
		if (cur != NULL && gw_seq_leq(cur->seq, s)) {
			if (gw_seq_geq(node_end(cur), e)) {
				p->stats.duplicates++;
				if (trim_front != NULL)
					*trim_front = len;
				return GW_REASM_DUPLICATE;
			}
			/* Starting together, we cover it: the loop replaces it. */
			if (gw_seq_lt(cur->seq, s)) {
				front = node_end(cur) - s;
				s = node_end(cur);
				prev = cur;
				cur = cur->next;
			}
		}
		/* Items starting before e: covered ones go, a longer one cuts us. */
		covered = cur;
		while (cur != NULL && gw_seq_lt(cur->seq, e)) {
			if (gw_seq_gt(node_end(cur), e)) {
				back = e - cur->seq;
				e = cur->seq;
				break;
			}
			n_covered++;
			covered_bytes += cur->len;
			cur = cur->next;
		}
	}
	kept = e - s;
	if (kept == 0) {
		/* Between two adjacent items: nothing new after all. */
		p->stats.duplicates++;
		if (trim_front != NULL)
			*trim_front = len;
		return GW_REASM_DUPLICATE;
	}

	q_bytes = (uint64_t)q->bytes - covered_bytes + kept;
	p_bytes = p->stats.bytes_used - covered_bytes + kept;
	if (q->count - n_covered + 1 > q->max_count || q_bytes > q->max_bytes) {
		p->stats.rejected_queue++;
		return -ENOSPC;
	}
	if ((n_covered == 0 && p->free_list == NULL) || p_bytes > p->max_bytes) {
		p->stats.rejected_pool++;
		return -ENOSPC;
	}

	/* Commit: covered items run from `covered` up to `cur`. */
	while (covered != cur) {
		struct gw_reasm_node *next = covered->next;

		node_drop(p, covered);
		covered = next;
	}
	n = node_get(p);
	n->buf = buf;
	n->seq = s;
	n->len = kept;
	n->skip = front;
	n->next = cur;
	if (prev != NULL)
		prev->next = n;
	else
		q->head = n;
	if (cur == NULL)
		q->tail = n;
	q->count = q->count - n_covered + 1;
	q->bytes = (uint32_t)q_bytes;
	p->stats.bytes_used = p_bytes;
	p->stats.queued++;
	p->stats.replaced += n_covered;
	p->stats.trimmed_bytes += (uint64_t)front + back;
	if (trim_front != NULL)
		*trim_front = front;
	if (trim_back != NULL)
		*trim_back = back;
	return GW_REASM_QUEUED;
}

/* Unlink the head of @p q (without touching its buffer). */
static struct gw_reasm_node *
queue_shift(struct gw_reasm *q)
{
	struct gw_reasm_node *n = q->head;

	q->head = n->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->count--;
	q->bytes -= n->len;
	q->pool->stats.bytes_used -= n->len;
	return n;
}

int
gw_reasm_pop_ready(struct gw_reasm *q, uint32_t rcv_nxt,
		   struct gw_reasm_seg *out)
{
	struct gw_reasm_pool *p = q->pool;
	struct gw_reasm_node *n;

	while ((n = q->head) != NULL) {
		uint32_t done;

		if (gw_seq_gt(n->seq, rcv_nxt))
			return 0;  /* a hole before it */
		queue_shift(q);
		if (gw_seq_leq(node_end(n), rcv_nxt)) {
			p->stats.stale++;
			node_drop(p, n);
			continue;
		}
		done = rcv_nxt - n->seq;
		out->buf = n->buf;
		out->skip = n->skip + done;
		out->len = n->len - done;
		out->seq = rcv_nxt;
		/* The caller owns the buffer now: return the node alone. */
		n->buf = NULL;
		n->next = p->free_list;
		p->free_list = n;
		p->stats.nodes_used--;
		return 1;
	}
	return 0;
}

unsigned int
gw_reasm_purge(struct gw_reasm *q)
{
	unsigned int freed = 0;

	while (q->head != NULL) {
		node_drop(q->pool, queue_shift(q));
		freed++;
	}
	return freed;
}

unsigned int
gw_reasm_items(const struct gw_reasm *q, struct gw_reasm_seg *out,
	       unsigned int max)
{
	unsigned int i = 0;

	for (const struct gw_reasm_node *n = q->head; n != NULL; n = n->next) {
		if (i < max) {
			out[i].buf = n->buf;
			out[i].skip = n->skip;
			out[i].len = n->len;
			out[i].seq = n->seq;
		}
		i++;
	}
	return i;
}
