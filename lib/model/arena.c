/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

/* Most resources fit in one chunk; big ones grow by doubling chunks. */
#define ARENA_CHUNK_MIN 4096
#define ARENA_ALIGN     16

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;            /* usable bytes after the header */
	size_t used;
	/* max_align_t keeps data[] aligned for any object. */
	max_align_t data[];
};

struct gw_model_arena {
	struct arena_chunk *head;
	size_t total;
};

struct gw_model_arena *
arena_create(void)
{
	return calloc(1, sizeof(struct gw_model_arena));
}

void
arena_free(struct gw_model_arena *arena)
{
	struct arena_chunk *c, *next;

	if (arena == NULL)
		return;
	for (c = arena->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(arena);
}

void *
arena_alloc(struct gw_model_arena *arena, size_t size)
{
	struct arena_chunk *c = arena->head;
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < size)
		return NULL;
	if (need == 0)
		need = ARENA_ALIGN;
	if (c == NULL || c->size - c->used < need) {
		size_t csize = c != NULL ? c->size * 2 : ARENA_CHUNK_MIN;

		if (csize < need)
			csize = need;
		if (csize > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
		c->used = 0;
		c->next = arena->head;
		arena->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	arena->total += need;
	memset(p, 0, need);
	return p;
}

void *
arena_calloc(struct gw_model_arena *arena, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return arena_alloc(arena, n * size);
}

char *
arena_strndup(struct gw_model_arena *arena, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = arena_alloc(arena, len + 1);
	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct gw_model_arena *arena, const char *s)
{
	return arena_strndup(arena, s, strlen(s));
}

size_t
arena_used(const struct gw_model_arena *arena)
{
	return arena->total;
}
