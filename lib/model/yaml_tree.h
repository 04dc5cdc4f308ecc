/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MODEL_YAML_TREE_H
#define MODEL_YAML_TREE_H

/*
 * libyaml events -> a small node tree with 1-based marks, one arena per
 * document. The decoders walk this tree (so an error can point at any
 * node), the store compares trees ("unchanged"), and get -o yaml|json
 * serialises it back.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_model_arena;

enum node_type {
	NODE_SCALAR = 1,
	NODE_MAP,
	NODE_SEQ,
};

/* A plain scalar's type under the YAML 1.2 core schema; quoted = string. */
enum scalar_type {
	SCALAR_STR = 1,
	SCALAR_INT,
	SCALAR_FLOAT,
	SCALAR_BOOL,
	SCALAR_NULL,
};

struct node_pair {
	struct gw_model_node *key;      /* always a scalar */
	struct gw_model_node *value;
};

struct gw_model_node {
	uint8_t type;           /* enum node_type */
	uint8_t stype;          /* enum scalar_type, scalars only */
	uint8_t style;          /* libyaml scalar style or flow/block */
	uint32_t line;          /* 1-based */
	uint32_t col;           /* 1-based */
	const char *tag;        /* explicit tag or NULL */
	union {
		struct {
			char *value;    /* NUL-terminated */
			size_t len;     /* may contain NULs from escapes */
		} scalar;
		struct {
			struct gw_model_node **items;
			uint32_t n;
		} seq;
		struct {
			struct node_pair *pairs;
			uint32_t n;
		} map;
	};
};

/* One document of a stream: its tree lives in its own arena. */
struct yaml_doc {
	struct gw_model_arena *arena;   /* owned until handed to a resource */
	struct gw_model_node *root;
	uint32_t line;                  /* 1-based line of the content */
};

/* Where a stream failed to parse. */
struct yaml_error {
	uint32_t line;
	uint32_t col;
	char msg[160];
};

/*
 * Parse every document of buf. Empty documents (no content, comments
 * only) are dropped. On success *docs is a malloc'd array of *n_docs
 * documents that the caller owns (yaml_docs_free()). On a syntax error
 * nothing is returned and err says where.
 * Returns 0, -EINVAL (syntax, err filled) or -ENOMEM.
 */
int yaml_tree_parse(const char *buf, size_t len, struct yaml_doc **docs,
		    uint32_t *n_docs, struct yaml_error *err);

/* Free the documents whose arena is still set, and the array. */
void yaml_docs_free(struct yaml_doc *docs, uint32_t n_docs);

/* Value of key in a mapping node, NULL if absent or node not a map. */
const struct gw_model_node *tree_map_get(const struct gw_model_node *map,
					 const char *key);

/* The key node of key in a mapping node, NULL if absent. */
const struct gw_model_node *tree_map_key(const struct gw_model_node *map,
					 const char *key);

/* Element i of a sequence node, NULL if out of range or not a sequence. */
const struct gw_model_node *tree_seq_get(const struct gw_model_node *seq,
					 uint32_t i);

/* True for a scalar that is null (absent value, "~", "null"). */
bool tree_is_null(const struct gw_model_node *node);

/*
 * Same content: types, scalar values and resolved types, mapping pairs in
 * any order. Marks and styles are ignored.
 */
bool tree_equal(const struct gw_model_node *a, const struct gw_model_node *b);

/* The tree as one YAML document (malloc'd). Returns 0 or -ENOMEM. */
int tree_emit_yaml(const struct gw_model_node *root, char **out, size_t *len);

/* The tree as JSON (malloc'd). Returns 0 or -ENOMEM. */
int tree_emit_json(const struct gw_model_node *root, char **out, size_t *len);

#endif /* MODEL_YAML_TREE_H */
