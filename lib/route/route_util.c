/* SPDX-License-Identifier: Apache-2.0 */
/* Arena and hash index used while building and by the snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "route_private.h"

#define ARENA_CHUNK (64 * 1024)

void *
rt_arena_alloc(struct rt_arena *a, size_t size)
{
	struct rt_arena_chunk *c = a->head;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (c == NULL || c->cap - c->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
		a->total += sizeof(*c) + cap;
	}
	p = c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *
rt_arena_strdup(struct rt_arena *a, const char *s)
{
	size_t len;
	char *p;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	p = rt_arena_alloc(a, len + 1);
	if (p != NULL)
		memcpy(p, s, len + 1);
	return p;
}

char *
rt_arena_printf(struct rt_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return NULL;
	p = rt_arena_alloc(a, (size_t)len + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
rt_arena_free(struct rt_arena *a)
{
	struct rt_arena_chunk *c = a->head, *next;

	while (c != NULL) {
		next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}

uint64_t
rt_hash(const char *s, size_t len)
{
	return gw_lb_hash64(s, len, 0x726f757465ULL);
}

uint32_t
rt_hindex_find(const struct rt_hindex *h, uint64_t hash,
	       int (*eq)(const void *ctx, uint32_t idx), const void *ctx)
{
	uint32_t i;

	if (h->slots == NULL)
		return RT_NONE;
	for (i = (uint32_t)hash & h->mask; h->slots[i].idx1 != 0;
	     i = (i + 1) & h->mask)
		if (h->slots[i].hash == hash && eq(ctx, h->slots[i].idx1 - 1))
			return h->slots[i].idx1 - 1;
	return RT_NONE;
}

static void
hindex_put(struct rt_hslot *slots, uint32_t mask, uint64_t hash, uint32_t idx1)
{
	uint32_t i;

	for (i = (uint32_t)hash & mask; slots[i].idx1 != 0; i = (i + 1) & mask)
		;
	slots[i].hash = hash;
	slots[i].idx1 = idx1;
}

int
rt_hindex_add(struct rt_hindex *h, uint64_t hash, uint32_t idx)
{
	/* load under 1/2 keeps lookups to a probe or two */
	if (h->slots == NULL || (h->count + 1) * 2 > h->mask + 1) {
		uint32_t cap = h->slots ? (h->mask + 1) * 2 : 16, i;
		struct rt_hslot *ns = calloc(cap, sizeof(*ns));

		if (ns == NULL)
			return -ENOMEM;
		for (i = 0; h->slots != NULL && i <= h->mask; i++)
			if (h->slots[i].idx1 != 0)
				hindex_put(ns, cap - 1, h->slots[i].hash,
					   h->slots[i].idx1);
		free(h->slots);
		h->slots = ns;
		h->mask = cap - 1;
	}
	hindex_put(h->slots, h->mask, hash, idx + 1);
	h->count++;
	return 0;
}

void
rt_hindex_free(struct rt_hindex *h)
{
	free(h->slots);
	h->slots = NULL;
	h->mask = 0;
	h->count = 0;
}

int
rt_grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	return gw_array_grow(arr, cap, need, size, 8);
}
