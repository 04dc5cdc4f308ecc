/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MODEL_ARENA_H
#define MODEL_ARENA_H

/*
 * A bump allocator: everything one resource owns (node tree, strings,
 * arrays, structs) comes from one arena and is freed in one call, so the
 * decoders never free anything and an error half-way leaks nothing.
 */

#include <stddef.h>

struct gw_model_arena;

/* An empty arena, or NULL when out of memory. */
struct gw_model_arena *arena_create(void);

/* Free the arena and everything allocated from it. NULL-safe. */
void arena_free(struct gw_model_arena *arena);

/* Zeroed memory aligned for any type, or NULL when out of memory. */
void *arena_alloc(struct gw_model_arena *arena, size_t size);

/* Zeroed array of n elements of size, NULL on overflow or out of memory. */
void *arena_calloc(struct gw_model_arena *arena, size_t n, size_t size);

/* A NUL-terminated copy of len bytes of s, or NULL. */
char *arena_strndup(struct gw_model_arena *arena, const char *s, size_t len);

/* A copy of a NUL-terminated string, or NULL. */
char *arena_strdup(struct gw_model_arena *arena, const char *s);

/* Bytes handed out so far (tests, limits). */
size_t arena_used(const struct gw_model_arena *arena);

#endif /* MODEL_ARENA_H */
