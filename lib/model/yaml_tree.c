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

static int
build_close_seq(struct builder *b, struct build_frame *f)
{
	struct gw_model_node *seq = f->node;

	seq->seq.n = f->n;
	if (f->n == 0)
		return 0;
	seq->seq.items = arena_calloc(b->arena, f->n, sizeof(*f->items));
	if (seq->seq.items == NULL)
		return -ENOMEM;
	memcpy(seq->seq.items, f->items, f->n * sizeof(*f->items));
	return 0;
}

/* Explicit tags: the core schema's own are checked, others refused. */
static int
build_scalar_tag(struct builder *b, struct gw_model_node *n,
		 const char *tag)
{
	static const struct {
		const char *name;
		enum scalar_type type;
	} tags[] = {
		{ TAG_PREFIX "str", SCALAR_STR },
		{ TAG_PREFIX "int", SCALAR_INT },
		{ TAG_PREFIX "float", SCALAR_FLOAT },
		{ TAG_PREFIX "bool", SCALAR_BOOL },
		{ TAG_PREFIX "null", SCALAR_NULL },
	};

	if (strcmp(tag, "!") == 0) {
		n->stype = SCALAR_STR;
		return 0;
	}
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if (strcmp(tag, tags[i].name) != 0)
			continue;
		n->tag = arena_strdup(b->arena, tag);
		if (n->tag == NULL)
			return -ENOMEM;
		n->stype = tags[i].type;
		if (n->stype != SCALAR_STR &&
		    resolve_plain(n->scalar.value) != n->stype &&
		    !(n->stype == SCALAR_FLOAT &&
		      resolve_plain(n->scalar.value) == SCALAR_INT))
			return build_fail(b, n->line, n->col,
					  "value does not match its YAML tag");
		return 0;
	}
	return build_fail(b, n->line, n->col, "unsupported YAML tag");
}

static int
build_collection_tag(struct builder *b, const yaml_mark_t *mark,
		     const yaml_char_t *tag, const char *want)
{
	if (tag == NULL || strcmp((const char *)tag, want) == 0)
		return 0;
	return build_fail(b, (uint32_t)mark->line + 1,
			  (uint32_t)mark->column + 1, "unsupported YAML tag");
}

static int
build_event(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *mark = &ev->start_mark;
	uint32_t line = (uint32_t)mark->line + 1;
	uint32_t col = (uint32_t)mark->column + 1;
	struct gw_model_node *n;
	struct build_frame *f;
	int rc;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return build_fail(b, line, col,
				  "YAML aliases are not supported");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL)
			return build_fail(b, line, col,
					  "YAML anchors are not supported");
		n = build_node(b, NODE_SCALAR, mark);
		if (n == NULL)
			return -ENOMEM;
		n->style = (uint8_t)ev->data.scalar.style;
		n->scalar.len = ev->data.scalar.length;
		n->scalar.value = arena_strndup(b->arena,
			(const char *)ev->data.scalar.value,
			ev->data.scalar.length);
		if (n->scalar.value == NULL)
			return -ENOMEM;
		if (ev->data.scalar.tag != NULL) {
			rc = build_scalar_tag(b, n,
				(const char *)ev->data.scalar.tag);
			if (rc < 0)
				return rc;
		} else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			n->stype = (uint8_t)resolve_plain(n->scalar.value);
		} else {
			n->stype = SCALAR_STR;
		}
		return build_add(b, n);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool is_map = ev->type == YAML_MAPPING_START_EVENT;
		const yaml_char_t *anchor = is_map ?
			ev->data.mapping_start.anchor :
			ev->data.sequence_start.anchor;

		if (anchor != NULL)
			return build_fail(b, line, col,
					  "YAML anchors are not supported");
		rc = build_collection_tag(b, mark, is_map ?
			ev->data.mapping_start.tag :
			ev->data.sequence_start.tag,
			is_map ? TAG_PREFIX "map" : TAG_PREFIX "seq");
		if (rc < 0)
			return rc;
		if (b->depth == TREE_MAX_DEPTH)
			return build_fail(b, line, col,
					  "YAML nested too deeply");
		n = build_node(b, is_map ? NODE_MAP : NODE_SEQ, mark);
		if (n == NULL)
			return -ENOMEM;
		n->style = (uint8_t)(is_map ? ev->data.mapping_start.style :
				     ev->data.sequence_start.style);
		f = &b->stack[b->depth++];
		memset(f, 0, sizeof(*f));
		f->node = n;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		f = &b->stack[b->depth - 1];
		rc = f->node->type == NODE_MAP ? build_close_map(b, f) :
			build_close_seq(b, f);
		if (rc < 0)
			return rc;
		free(f->items);
		f->items = NULL;
		b->depth--;
		return build_add(b, f->node);
	default:
		return 0;
	}
}

static void
builder_reset(struct builder *b)
{
	while (b->depth > 0) {
		free(b->stack[b->depth - 1].items);
		b->depth--;
	}
	arena_free(b->arena);
	b->arena = NULL;
	b->root = NULL;
}

static int
docs_append(struct yaml_doc **docs, uint32_t *n, uint32_t *cap,
	    const struct yaml_doc *doc)
{
	if (*n == *cap) {
		uint32_t ncap = *cap != 0 ? *cap * 2 : 4;
		struct yaml_doc *d = realloc(*docs, ncap * sizeof(*d));

		if (d == NULL)
			return -ENOMEM;
		*docs = d;
		*cap = ncap;
	}
	(*docs)[(*n)++] = *doc;
	return 0;
}

static void
parser_error(const yaml_parser_t *p, struct yaml_error *err)
{
	const yaml_mark_t *m = &p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR) {
		err->line = 1;
		err->col = 1;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return;
	}
	err->line = (uint32_t)m->line + 1;
	err->col = (uint32_t)m->column + 1;
	if (p->context != NULL)
		snprintf(err->msg, sizeof(err->msg), "%s %s",
			 p->problem != NULL ? p->problem : "syntax error",
			 p->context);
	else
		snprintf(err->msg, sizeof(err->msg), "%s",
			 p->problem != NULL ? p->problem : "syntax error");
}

int
yaml_tree_parse(const char *buf, size_t len, struct yaml_doc **docs_out,
		uint32_t *n_docs_out, struct yaml_error *err)
{
	struct builder b = { .err = err };
	struct yaml_doc *docs = NULL;
	uint32_t n_docs = 0, cap = 0;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int rc = 0;

	*docs_out = NULL;
	*n_docs_out = 0;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf,
				     len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&parser, err);
			rc = parser.error == YAML_MEMORY_ERROR ? -ENOMEM :
				-EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			b.arena = arena_create();
			if (b.arena == NULL)
				rc = -ENOMEM;
			break;
		case YAML_DOCUMENT_END_EVENT: {
			struct yaml_doc doc = {
				.arena = b.arena,
				.root = b.root,
				.line = b.root != NULL ? b.root->line : 1,
			};

			/* A document with no content is a null scalar. */
			if (b.root == NULL || (b.root->type == NODE_SCALAR &&
			    b.root->tag == NULL && b.root->scalar.len == 0 &&
			    b.root->style == YAML_PLAIN_SCALAR_STYLE)) {
				builder_reset(&b);
				break;
			}
			rc = docs_append(&docs, &n_docs, &cap, &doc);
			if (rc == 0) {
				b.arena = NULL;
				b.root = NULL;
			}
			break;
		}
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			rc = build_event(&b, &ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	builder_reset(&b);
	if (rc < 0) {
		if (rc == -ENOMEM) {
			err->line = 1;
			err->col = 1;
			snprintf(err->msg, sizeof(err->msg), "out of memory");
		}
		yaml_docs_free(docs, n_docs);
		return rc;
	}
	*docs_out = docs;
	*n_docs_out = n_docs;
	return 0;
}

void
yaml_docs_free(struct yaml_doc *docs, uint32_t n_docs)
{
	for (uint32_t i = 0; i < n_docs; i++)
		arena_free(docs[i].arena);
	free(docs);
}

/* ------------------------------------------------------------------ */
/* Lookups and comparison                                              */
/* ------------------------------------------------------------------ */

const struct gw_model_node *
tree_map_key(const struct gw_model_node *map, const char *key)
{
	size_t len = strlen(key);

	if (map == NULL || map->type != NODE_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->map.n; i++) {
		const struct gw_model_node *k = map->map.pairs[i].key;

		if (k->scalar.len == len && memcmp(k->scalar.value, key, len) == 0)
			return k;
	}
	return NULL;
}

const struct gw_model_node *
tree_map_get(const struct gw_model_node *map, const char *key)
{
	size_t len = strlen(key);

	if (map == NULL || map->type != NODE_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->map.n; i++) {
		const struct gw_model_node *k = map->map.pairs[i].key;

		if (k->scalar.len == len && memcmp(k->scalar.value, key, len) == 0)
			return map->map.pairs[i].value;
	}
	return NULL;
}

const struct gw_model_node *
tree_seq_get(const struct gw_model_node *seq, uint32_t i)
{
	if (seq == NULL || seq->type != NODE_SEQ || i >= seq->seq.n)
		return NULL;
	return seq->seq.items[i];
}

bool
tree_is_null(const struct gw_model_node *node)
{
	return node != NULL && node->type == NODE_SCALAR &&
		node->stype == SCALAR_NULL;
}

static bool
scalar_equal(const struct gw_model_node *a, const struct gw_model_node *b)
{
	return a->stype == b->stype && a->scalar.len == b->scalar.len &&
		memcmp(a->scalar.value, b->scalar.value, a->scalar.len) == 0;
}

bool
tree_equal(const struct gw_model_node *a, const struct gw_model_node *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case NODE_SCALAR:
		return scalar_equal(a, b);
	case NODE_SEQ:
		if (a->seq.n != b->seq.n)
			return false;
		for (uint32_t i = 0; i < a->seq.n; i++)
			if (!tree_equal(a->seq.items[i], b->seq.items[i]))
				return false;
		return true;
	case NODE_MAP:
		if (a->map.n != b->map.n)
			return false;
		/* Keys are unique, so a one-way lookup is enough. */
		for (uint32_t i = 0; i < a->map.n; i++) {
			const struct node_pair *pa = &a->map.pairs[i];
			const struct gw_model_node *vb = NULL;

			for (uint32_t j = 0; j < b->map.n; j++) {
				const struct gw_model_node *kb =
					b->map.pairs[j].key;

				if (pa->key->scalar.len == kb->scalar.len &&
				    memcmp(pa->key->scalar.value, kb->scalar.value,
					   kb->scalar.len) == 0) {
					vb = b->map.pairs[j].value;
					break;
				}
			}
			if (vb == NULL || !tree_equal(pa->value, vb))
				return false;
		}
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */
/* Serialisation                                                       */
/* ------------------------------------------------------------------ */

struct outbuf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;
};

static void
out_put(struct outbuf *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap != 0 ? o->cap : 256;
		char *p;

		while (cap < o->len + n + 1)
			cap *= 2;
		p = realloc(o->p, cap);
		if (p == NULL) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
out_str(struct outbuf *o, const char *s)
{
	out_put(o, s, strlen(s));
}

static int
out_finish(struct outbuf *o, char **out, size_t *len)
{
	if (!o->oom && o->p == NULL)
		out_put(o, "", 0);
	if (o->oom) {
		free(o->p);
		*out = NULL;
		if (len != NULL)
			*len = 0;
		return -ENOMEM;
	}
	*out = o->p;
	if (len != NULL)
		*len = o->len;
	return 0;
}

static int
yaml_write(void *data, unsigned char *buffer, size_t size)
{
	struct outbuf *o = data;

	out_put(o, (const char *)buffer, size);
	return !o->oom;
}

static int
emit_node(yaml_emitter_t *em, const struct gw_model_node *n)
{
	yaml_event_t ev;
	int ok;

	switch (n->type) {
	case NODE_SCALAR: {
		yaml_scalar_style_t style = (yaml_scalar_style_t)n->style;
		bool implicit = n->tag == NULL;

		/* A quoted "80" keeps its style, or it would become a number. */
		if (style == YAML_ANY_SCALAR_STYLE)
			style = YAML_PLAIN_SCALAR_STYLE;
		/*
		 * Both implicit flags: libyaml may fall back from plain to
		 * quoted when plain cannot hold the text (never for a number).
		 */
		ok = yaml_scalar_event_initialize(&ev, NULL,
			(yaml_char_t *)n->tag, (yaml_char_t *)n->scalar.value,
			(int)n->scalar.len, implicit, implicit, style);
		return ok && yaml_emitter_emit(em, &ev);
	}
	case NODE_SEQ:
		ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
			(yaml_sequence_style_t)n->style);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return 0;
		for (uint32_t i = 0; i < n->seq.n; i++)
			if (!emit_node(em, n->seq.items[i]))
				return 0;
		return yaml_sequence_end_event_initialize(&ev) &&
			yaml_emitter_emit(em, &ev);
	case NODE_MAP:
		ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
			(yaml_mapping_style_t)n->style);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return 0;
		for (uint32_t i = 0; i < n->map.n; i++)
			if (!emit_node(em, n->map.pairs[i].key) ||
			    !emit_node(em, n->map.pairs[i].value))
				return 0;
		return yaml_mapping_end_event_initialize(&ev) &&
			yaml_emitter_emit(em, &ev);
	default:
		return 0;
	}
}

int
tree_emit_yaml(const struct gw_model_node *root, char **out, size_t *len)
{
	struct outbuf o = { 0 };
	yaml_emitter_t em;
	yaml_event_t ev;
	int ok;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, yaml_write, &o);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
		yaml_emitter_emit(&em, &ev) &&
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
		yaml_emitter_emit(&em, &ev) &&
		emit_node(&em, root) &&
		yaml_document_end_event_initialize(&ev, 1) &&
		yaml_emitter_emit(&em, &ev) &&
		yaml_stream_end_event_initialize(&ev) &&
		yaml_emitter_emit(&em, &ev);
	yaml_emitter_delete(&em);
	if (!ok)
		o.oom = true;
	return out_finish(&o, out, len);
}

/*
 * Code points YAML treats as line breaks or refuses as non-printable
 * (C1 controls, NEL, LS, PS, BOM, U+FFFE/F): JSON allows them raw, but the
 * output must also read back as YAML, so they are escaped. Returns the
 * length of the UTF-8 sequence at s to escape, or 0.
 */
static size_t
json_yaml_unsafe(const unsigned char *s, size_t left, uint32_t *cp)
{
	if (left >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
		*cp = s[1];
		return 2;
	}
	if (left >= 3 && ((s[0] == 0xe2 && s[1] == 0x80 &&
			   (s[2] == 0xa8 || s[2] == 0xa9)) ||
			  (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) ||
			  (s[0] == 0xef && s[1] == 0xbf &&
			   (s[2] == 0xbe || s[2] == 0xbf)))) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) |
			((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		return 3;
	}
	return 0;
}

static void
json_string(struct outbuf *o, const char *s, size_t len)
{
	char esc[8];
	uint32_t cp;
	size_t n;

	out_put(o, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		n = json_yaml_unsafe((const unsigned char *)s + i, len - i, &cp);
		if (n > 0) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			out_str(o, esc);
			i += n - 1;
			continue;
		}

		switch (c) {
		case '"':
			out_put(o, "\\\"", 2);
			break;
		case '\\':
			out_put(o, "\\\\", 2);
			break;
		case '\n':
			out_put(o, "\\n", 2);
			break;
		case '\r':
			out_put(o, "\\r", 2);
			break;
		case '\t':
			out_put(o, "\\t", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				out_str(o, esc);
			} else {
				out_put(o, (const char *)&c, 1);
			}
		}
	}
	out_put(o, "\"", 1);
}

/* JSON's number grammar, stricter than YAML's. */
static bool
is_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static void
json_scalar(struct outbuf *o, const struct gw_model_node *n)
{
	const char *s = n->scalar.value;
	char num[64];

	switch (n->stype) {
	case SCALAR_NULL:
		out_str(o, "null");
		return;
	case SCALAR_BOOL:
		out_str(o, (s[0] == 't' || s[0] == 'T') ? "true" : "false");
		return;
	case SCALAR_INT:
	case SCALAR_FLOAT:
		if (is_json_number(s)) {
			out_str(o, s);
			return;
		}
		if (n->stype == SCALAR_INT && is_int_text(s)) {
			errno = 0;
			if (s[0] == '0' && s[1] == 'o') {
				unsigned long long v = strtoull(s + 2, NULL, 8);

				if (errno == 0) {
					snprintf(num, sizeof(num), "%llu", v);
					out_str(o, num);
					return;
				}
			} else {
				/* Base 10: YAML's 0980 is 980, not octal. */
				bool hex = s[0] == '0' && s[1] == 'x';
				long long v = strtoll(hex ? s + 2 : s, NULL,
						      hex ? 16 : 10);

				if (errno == 0) {
					snprintf(num, sizeof(num), "%lld", v);
					out_str(o, num);
					return;
				}
			}
		} else {
			double v = strtod(s, NULL);

			if (isfinite(v)) {
				snprintf(num, sizeof(num), "%.17g", v);
				out_str(o, num);
				return;
			}
		}
		break;
	default:
		break;
	}
	/* Strings, and numbers JSON cannot hold (.inf, .nan, huge). */
	json_string(o, s, n->scalar.len);
}

static void
json_indent(struct outbuf *o, unsigned int depth)
{
	out_put(o, "\n", 1);
	for (unsigned int i = 0; i < depth; i++)
		out_put(o, "  ", 2);
}

/* Indented like kubectl's -o json. */
static void
json_node(struct outbuf *o, const struct gw_model_node *n, unsigned int depth)
{
	switch (n->type) {
	case NODE_SCALAR:
		json_scalar(o, n);
		break;
	case NODE_SEQ:
		out_put(o, "[", 1);
		for (uint32_t i = 0; i < n->seq.n; i++) {
			if (i > 0)
				out_put(o, ",", 1);
			json_indent(o, depth + 1);
			json_node(o, n->seq.items[i], depth + 1);
		}
		if (n->seq.n > 0)
			json_indent(o, depth);
		out_put(o, "]", 1);
		break;
	case NODE_MAP:
		out_put(o, "{", 1);
		for (uint32_t i = 0; i < n->map.n; i++) {
			const struct gw_model_node *k = n->map.pairs[i].key;

			if (i > 0)
				out_put(o, ",", 1);
			json_indent(o, depth + 1);
			json_string(o, k->scalar.value, k->scalar.len);
			out_put(o, ": ", 2);
			json_node(o, n->map.pairs[i].value, depth + 1);
		}
		if (n->map.n > 0)
			json_indent(o, depth);
		out_put(o, "}", 1);
		break;
	default:
		break;
	}
}

int
tree_emit_json(const struct gw_model_node *root, char **out, size_t *len)
{
	struct outbuf o = { 0 };

	json_node(&o, root, 0);
	out_put(&o, "\n", 1);
	return out_finish(&o, out, len);
}
