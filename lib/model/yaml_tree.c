/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "arena.h"
#include "yaml_tree.h"

/*
 * Real resources nest less than 15 levels; the bound keeps every recursive
 * walk (compare, emit) shallow whatever the input.
 */
#define TREE_MAX_DEPTH 64

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ------------------------------------------------------------------ */
/* Scalar resolution (YAML 1.2 core schema)                            */
/* ------------------------------------------------------------------ */

static bool
is_null_text(const char *s)
{
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
		strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static bool
is_bool_text(const char *s)
{
	static const char *const words[] = {
		"true", "True", "TRUE", "false", "False", "FALSE",
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	return false;
}

static bool
all_digits(const char *s, const char *set)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (strchr(set, *s) == NULL)
			return false;
	return true;
}

static bool
is_int_text(const char *s)
{
	if (s[0] == '0' && s[1] == 'o')
		return all_digits(s + 2, "01234567");
	if (s[0] == '0' && s[1] == 'x')
		return all_digits(s + 2, "0123456789abcdefABCDEF");
	if (*s == '-' || *s == '+')
		s++;
	return all_digits(s, "0123456789");
}

static bool
is_float_text(const char *s)
{
	bool digits = false;

	if (*s == '-' || *s == '+')
		s++;
	if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 ||
	    strcmp(s, ".INF") == 0)
		return true;
	if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 ||
	    strcmp(s, ".NAN") == 0)
		return s[-1] != '-' && s[-1] != '+';
	while (*s >= '0' && *s <= '9') {
		s++;
		digits = true;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static enum scalar_type
resolve_plain(const char *s)
{
	if (is_null_text(s))
		return SCALAR_NULL;
	if (is_bool_text(s))
		return SCALAR_BOOL;
	if (is_int_text(s))
		return SCALAR_INT;
	if (is_float_text(s))
		return SCALAR_FLOAT;
	return SCALAR_STR;
}

/* ------------------------------------------------------------------ */
/* Building the tree from events                                       */
/* ------------------------------------------------------------------ */

struct build_frame {
	struct gw_model_node *node;
	struct gw_model_node **items;   /* seq items, or key,value,... */
	uint32_t n;
	uint32_t cap;
};

struct builder {
	struct gw_model_arena *arena;
	struct gw_model_node *root;
	struct build_frame stack[TREE_MAX_DEPTH];
	uint32_t depth;
	struct yaml_error *err;
};

static int
build_fail(struct builder *b, uint32_t line, uint32_t col, const char *msg)
{
	b->err->line = line;
	b->err->col = col;
	snprintf(b->err->msg, sizeof(b->err->msg), "%s", msg);
	return -EINVAL;
}

static int
build_add(struct builder *b, struct gw_model_node *node)
{
	struct build_frame *f;

	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	if (f->n == f->cap) {
		uint32_t cap = f->cap != 0 ? f->cap * 2 : 8;
		struct gw_model_node **items;

		if (cap < f->cap)
			return -ENOMEM;
		items = realloc(f->items, cap * sizeof(*items));
		if (items == NULL)
			return -ENOMEM;
		f->items = items;
		f->cap = cap;
	}
	f->items[f->n++] = node;
	return 0;
}

static struct gw_model_node *
build_node(struct builder *b, enum node_type type, const yaml_mark_t *mark)
{
	struct gw_model_node *n = arena_alloc(b->arena, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->type = type;
	n->line = (uint32_t)mark->line + 1;
	n->col = (uint32_t)mark->column + 1;
	return n;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct gw_model_node *ka = *(struct gw_model_node *const *)a;
	const struct gw_model_node *kb = *(struct gw_model_node *const *)b;
	size_t n = ka->scalar.len < kb->scalar.len ? ka->scalar.len :
		kb->scalar.len;
	int c = memcmp(ka->scalar.value, kb->scalar.value, n);

	if (c != 0)
		return c;
	if (ka->scalar.len != kb->scalar.len)
		return ka->scalar.len < kb->scalar.len ? -1 : 1;
	/* Equal keys: the later one in the document sorts last. */
	if (ka->line != kb->line)
		return ka->line < kb->line ? -1 : 1;
	return ka->col < kb->col ? -1 : ka->col > kb->col;
}

/* Move a finished map's pairs into the arena; keys scalar and unique. */
static int
build_close_map(struct builder *b, struct build_frame *f)
{
	struct gw_model_node *map = f->node;
	uint32_t n = f->n / 2;
	struct gw_model_node **keys;
	char msg[160];

	map->map.n = n;
	if (n == 0)
		return 0;
	map->map.pairs = arena_calloc(b->arena, n, sizeof(struct node_pair));
	if (map->map.pairs == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct gw_model_node *k = f->items[2 * i];

		if (k->type != NODE_SCALAR)
			return build_fail(b, k->line, k->col,
					  "mapping keys must be scalars");
		map->map.pairs[i].key = k;
		map->map.pairs[i].value = f->items[2 * i + 1];
	}
	/* Duplicate keys: sort a copy so that big maps stay O(n log n). */
	keys = malloc(n * sizeof(*keys));
	if (keys == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		keys[i] = map->map.pairs[i].key;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (uint32_t i = 1; i < n; i++) {
		const struct gw_model_node *first = keys[i - 1], *dup = keys[i];

		if (dup->scalar.len == first->scalar.len &&
		    memcmp(dup->scalar.value, first->scalar.value,
			   dup->scalar.len) == 0) {
			snprintf(msg, sizeof(msg),
				 "duplicate key \"%.60s\" (first at line %u)",
				 dup->scalar.value, (unsigned)first->line);
			free(keys);
			return build_fail(b, dup->line, dup->col, msg);
		}
	}
	free(keys);
	return 0;
}
