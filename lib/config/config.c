/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bootstrap configuration loader.
 *
 * The file is loaded with libyaml's document API into a node tree, which is
 * then walked against a schema written as tables of {key, handler}. Every
 * handler receives its node and the dotted path of the field
 * ("ports[0].address"), so that any error names both the place in the file
 * and the field. Checks that involve several fields run once the mapping
 * holding them has been read, and checks across sections once the whole
 * document has been read, so the outcome never depends on key order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "gw_common.h"
#include "gw_config.h"

/*
 * Lcore ids are bounded by RTE_MAX_LCORE of the Debian DPDK build; the EAL
 * checks again that the lcore exists. Kept here so that this module needs
 * no DPDK header.
 */
#define CFG_MAX_LCORE    128
#define CFG_FIELD_LEN    160       /* longest dotted field path we print */
#define CFG_SHOW_LEN     64        /* longest file text quoted in a message */
#define CFG_FILE_MAX     (1 << 20) /* a bootstrap file is a few KB */
#define CFG_SUN_PATH_MAX 107       /* sizeof(sockaddr_un.sun_path) - 1 */

struct cfg_parser {
	yaml_document_t *doc;
	const char *name;        /* file name for messages */
	char *err;
	size_t err_len;
	struct gw_config *cfg;
};

struct cfg_field;

/** Parse @p node (the value of a field) into @p obj; 0 or -GW_ECONFIG. */
typedef int (*cfg_parse_t)(struct cfg_parser *p, yaml_node_t *node,
			   const char *field, void *obj,
			   const struct cfg_field *f);

/** Parse item @p index of a list into @p obj; 0 or -GW_ECONFIG. */
typedef int (*cfg_item_t)(struct cfg_parser *p, yaml_node_t *node,
			  const char *field, void *obj, unsigned int index);

/*
 * One key of a mapping. Generic handlers (integers, strings, booleans,
 * addresses, nested mappings) store at obj + offset and take their bounds
 * from the entry, so that most fields are one line of a table.
 */
struct cfg_field {
	const char *key;
	cfg_parse_t parse;
	bool required;
	size_t offset;
	size_t size;
	uint64_t min;     /* integers: range; strings: minimum length */
	uint64_t max;
	const struct cfg_field *sub; /* nested mapping */
};

#define FIELD(k, fn, req) { .key = (k), .parse = (fn), .required = (req) }
#define FIELD_MAP(k, fields) \
	{ .key = (k), .parse = cfg_set_map, .sub = (fields) }
#define FIELD_UINT(k, req, type, member, lo, hi) \
	{ .key = (k), .parse = cfg_set_uint, .required = (req), \
	  .offset = offsetof(type, member), \
	  .size = sizeof(((type *)0)->member), .min = (lo), .max = (hi) }
#define FIELD_BOOL(k, type, member) \
	{ .key = (k), .parse = cfg_set_bool, .offset = offsetof(type, member) }
#define FIELD_IPV4(k, req, type, member) \
	{ .key = (k), .parse = cfg_set_ipv4, .required = (req), \
	  .offset = offsetof(type, member) }
#define FIELD_STRING(k, type, member, min_len) \
	{ .key = (k), .parse = cfg_set_string, \
	  .offset = offsetof(type, member), \
	  .size = sizeof(((type *)0)->member), .min = (min_len) }
#define FIELD_END { .key = NULL }

/* ------------------------------------------------------------------ */
/* Messages                                                            */

/* Copy file text into a message, bounded and with control bytes masked. */
static const char *
cfg_show(char *dst, size_t len, const char *src, size_t src_len)
{
	size_t i, n = 0;

	for (i = 0; i < src_len && n + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < src_len && n >= 3)
		memcpy(dst + n - 3, "...", 3);
	dst[n] = '\0';
	return dst;
}

static int __attribute__((format(printf, 5, 6)))
cfg_error(struct cfg_parser *p, const yaml_mark_t *mark, const char *field,
	  int code, const char *fmt, ...)
{
	char reason[GW_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	gw_err(p->err, p->err_len, "%s:%zu:%zu: %s: %s", p->name,
	       mark->line + 1, mark->column + 1, field, reason);
	return code;
}

/* The usual case: a configuration error at the start of a node. */
#define CFG_ERR(p, node, field, ...) \
	cfg_error((p), &(node)->start_mark, (field), -GW_ECONFIG, __VA_ARGS__)

static void
cfg_field_key(char *dst, const char *parent, const char *key, size_t key_len)
{
	char shown[CFG_SHOW_LEN];

	cfg_show(shown, sizeof(shown), key, key_len);
	if (parent[0] == '\0')
		snprintf(dst, CFG_FIELD_LEN, "%s", shown);
	else
		snprintf(dst, CFG_FIELD_LEN, "%s.%s", parent, shown);
}

/* ------------------------------------------------------------------ */
/* Nodes and scalars                                                   */

static yaml_node_t *
cfg_node(struct cfg_parser *p, int index)
{
	return yaml_document_get_node(p->doc, index);
}

static const char *
cfg_text(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A plain empty, "~" or "null" scalar is YAML's null. */
static bool
cfg_is_null(const yaml_node_t *node)
{
	const char *s;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = cfg_text(node);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
		strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static bool
cfg_key_is(const yaml_node_t *key, const char *name)
{
	return key->type == YAML_SCALAR_NODE &&
		key->data.scalar.length == strlen(name) &&
		memcmp(key->data.scalar.value, name, key->data.scalar.length) == 0;
}

/* Value of @p name in mapping @p map, or NULL. */
static yaml_node_t *
cfg_find(struct cfg_parser *p, const yaml_node_t *map, const char *name)
{
	yaml_node_pair_t *pair;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++)
		if (cfg_key_is(cfg_node(p, pair->key), name))
			return cfg_node(p, pair->value);
	return NULL;
}

/* Item @p index of sequence @p seq, or NULL. */
static yaml_node_t *
cfg_item(struct cfg_parser *p, const yaml_node_t *seq, unsigned int index)
{
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE ||
	    index >= (size_t)(seq->data.sequence.items.top -
			      seq->data.sequence.items.start))
		return NULL;
	return cfg_node(p, seq->data.sequence.items.start[index]);
}

/*
 * Check that @p node is a string of @p min_len..@p max_len characters.
 * Strings with an embedded NUL (a "\0" escape) are refused: every consumer
 * handles them as C strings.
 */
static int
cfg_check_string(struct cfg_parser *p, yaml_node_t *node, const char *field,
		 size_t min_len, size_t max_len)
{
	size_t len;

	if (node->type != YAML_SCALAR_NODE || cfg_is_null(node))
		return CFG_ERR(p, node, field, "expected a string");
	len = node->data.scalar.length;
	if (strlen(cfg_text(node)) != len)
		return CFG_ERR(p, node, field, "contains a NUL character");
	if (len < min_len)
		return CFG_ERR(p, node, field, "must not be empty");
	if (len > max_len)
		return CFG_ERR(p, node, field,
			       "too long (at most %zu characters)", max_len);
	return 0;
}

/* A string scalar copied into @p dst of @p size bytes. */
static int
cfg_string(struct cfg_parser *p, yaml_node_t *node, const char *field,
	   char *dst, size_t size, size_t min_len)
{
	int rc;

	rc = cfg_check_string(p, node, field, min_len, size - 1);
	if (rc < 0)
		return rc;
	memcpy(dst, cfg_text(node), node->data.scalar.length + 1);
	return 0;
}

/*
 * A decimal integer in [min, max]. Only plain scalars count: "8000" in
 * quotes is a string in YAML. Leading zeros are refused because YAML 1.1
 * reads 010 as octal 8 while a person reads ten.
 */
static int
cfg_uint(struct cfg_parser *p, yaml_node_t *node, const char *field,
	 uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s;
	size_t i = 0, len, start;
	bool negative = false, overflow = false;
	uint64_t v = 0;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return CFG_ERR(p, node, field, "expected an integer");
	s = cfg_text(node);
	len = node->data.scalar.length;
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		negative = s[0] == '-';
		i = 1;
	}
	start = i;
	if (i == len)
		return CFG_ERR(p, node, field, "expected an integer");
	for (; i < len; i++) {
		unsigned int digit = (unsigned char)s[i] - '0';

		if (digit > 9)
			return CFG_ERR(p, node, field, "expected an integer");
		if (v > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			v = v * 10 + digit;
	}
	if (s[start] == '0' && len - start > 1)
		return CFG_ERR(p, node, field,
			       "leading zeros are not allowed (YAML reads them as octal)");
	if (overflow || (negative && v != 0) || v < min || v > max)
		return CFG_ERR(p, node, field,
			       "must be between %" PRIu64 " and %" PRIu64,
			       min, max);
	*out = v;
	return 0;
}

/* true/false, also on/off as YAML 1.1 writes them (`admin: off`). */
static int
cfg_bool(struct cfg_parser *p, yaml_node_t *node, const char *field,
	 bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE",
					   "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE",
					  "off", "Off", "OFF" };
	size_t i;

	if (node->type == YAML_SCALAR_NODE &&
	    node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		for (i = 0; i < GW_ARRAY_SIZE(yes); i++) {
			if (strcmp(cfg_text(node), yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcmp(cfg_text(node), no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	return CFG_ERR(p, node, field, "expected true or false");
}

static int
cfg_ipv4(struct cfg_parser *p, yaml_node_t *node, const char *field,
	 struct in_addr *out)
{
	char shown[CFG_SHOW_LEN];

	if (node->type != YAML_SCALAR_NODE || cfg_is_null(node))
		return CFG_ERR(p, node, field, "expected an IPv4 address");
	if (node->data.scalar.length >= INET_ADDRSTRLEN ||
	    strlen(cfg_text(node)) != node->data.scalar.length ||
	    inet_pton(AF_INET, cfg_text(node), out) != 1)
		return CFG_ERR(p, node, field, "\"%s\" is not an IPv4 address",
			       cfg_show(shown, sizeof(shown), cfg_text(node),
					node->data.scalar.length));
	return 0;
}

static uint32_t
cfg_mask(unsigned int prefix_len)
{
	return prefix_len == 0 ? 0 : UINT32_MAX << (32 - prefix_len);
}

static void
cfg_ntop(struct in_addr a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ------------------------------------------------------------------ */
/* Mappings and lists                                                  */

static const struct cfg_field *
cfg_field_find(const struct cfg_field *fields, const yaml_node_t *key)
{
	for (; fields->key != NULL; fields++)
		if (cfg_key_is(key, fields->key))
			return fields;
	return NULL;
}

/*
 * Walk mapping @p node against @p fields: unknown and duplicate keys are
 * errors (at the key), required fields that are absent are errors (at the
 * mapping), every value goes to its handler in file order.
 */
static int
cfg_map(struct cfg_parser *p, yaml_node_t *node, const char *field,
	const struct cfg_field *fields, void *obj)
{
	char child[CFG_FIELD_LEN];
	yaml_node_pair_t *pair, *prev;
	const struct cfg_field *f;
	int rc;

	if (node->type != YAML_MAPPING_NODE)
		return CFG_ERR(p, node, field, "expected a mapping");
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = cfg_node(p, pair->key);

		if (key->type != YAML_SCALAR_NODE)
			return CFG_ERR(p, key, field[0] ? field : "yaml",
				       "keys must be strings");
		cfg_field_key(child, field, cfg_text(key),
			      key->data.scalar.length);
		f = cfg_field_find(fields, key);
		if (f == NULL)
			return CFG_ERR(p, key, child, "unknown field");
		for (prev = node->data.mapping.pairs.start; prev < pair; prev++) {
			yaml_node_t *first = cfg_node(p, prev->key);

			if (cfg_key_is(first, f->key))
				return CFG_ERR(p, key, child,
					       "duplicate key (first at line %zu)",
					       first->start_mark.line + 1);
		}
		rc = f->parse(p, cfg_node(p, pair->value), child, obj, f);
		if (rc < 0)
			return rc;
	}
	for (f = fields; f->key != NULL; f++) {
		if (f->required && cfg_find(p, node, f->key) == NULL) {
			cfg_field_key(child, field, f->key, strlen(f->key));
			return CFG_ERR(p, node, child, "required field is missing");
		}
	}
	return 0;
}

/*
 * Walk list @p node of at most @p max items, at least one if @p non_empty;
 * @p what names one item in messages ("port": "too many ports").
 */
static int
cfg_seq(struct cfg_parser *p, yaml_node_t *node, const char *field,
	bool non_empty, unsigned int max, const char *what,
	cfg_item_t item, void *obj)
{
	char child[CFG_FIELD_LEN];
	yaml_node_item_t *it;
	unsigned int i = 0;
	int rc;

	if (node->type != YAML_SEQUENCE_NODE)
		return CFG_ERR(p, node, field, "expected a list");
	if (non_empty &&
	    node->data.sequence.items.top == node->data.sequence.items.start)
		return CFG_ERR(p, node, field, "at least one %s is required",
			       what);
	for (it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *value = cfg_node(p, *it);

		snprintf(child, sizeof(child), "%s[%u]", field, i);
		if (i >= max)
			return CFG_ERR(p, value, child,
				       "too many %ss (at most %u)", what, max);
		rc = item(p, value, child, obj, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Generic handlers for table entries. */

static int
cfg_set_uint(struct cfg_parser *p, yaml_node_t *node, const char *field,
	     void *obj, const struct cfg_field *f)
{
	char *dst = (char *)obj + f->offset;
	uint64_t v;
	int rc;

	rc = cfg_uint(p, node, field, f->min, f->max, &v);
	if (rc < 0)
		return rc;
	if (f->size == sizeof(uint16_t)) {
		uint16_t v16 = (uint16_t)v;

		memcpy(dst, &v16, sizeof(v16));
	} else {
		uint32_t v32 = (uint32_t)v;

		memcpy(dst, &v32, sizeof(v32));
	}
	return 0;
}

static int
cfg_set_bool(struct cfg_parser *p, yaml_node_t *node, const char *field,
	     void *obj, const struct cfg_field *f)
{
	return cfg_bool(p, node, field, (bool *)((char *)obj + f->offset));
}

static int
cfg_set_ipv4(struct cfg_parser *p, yaml_node_t *node, const char *field,
	     void *obj, const struct cfg_field *f)
{
	return cfg_ipv4(p, node, field,
			(struct in_addr *)(void *)((char *)obj + f->offset));
}

static int
cfg_set_map(struct cfg_parser *p, yaml_node_t *node, const char *field,
	    void *obj, const struct cfg_field *f)
{
	return cfg_map(p, node, field, f->sub, obj);
}

static int
cfg_set_string(struct cfg_parser *p, yaml_node_t *node, const char *field,
	       void *obj, const struct cfg_field *f)
{
	return cfg_string(p, node, field, (char *)obj + f->offset, f->size,
			  f->min);
}

/*
 * Names (ports, groups) appear in logs, metrics labels and commands:
 * letters, digits, '-', '_' and '.', starting with a letter or digit.
 */
static int
cfg_name(struct cfg_parser *p, yaml_node_t *node, const char *field,
	 char *dst, size_t size, size_t min_len)
{
	const char *s;
	int rc;

	rc = cfg_string(p, node, field, dst, size, min_len);
	if (rc < 0)
		return rc;
	for (s = dst; *s != '\0'; s++) {
		bool alnum = (*s >= 'a' && *s <= 'z') ||
			(*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');

		if (!alnum && (s == dst || strchr("-_.", *s) == NULL))
			return CFG_ERR(p, node, field,
				       "may hold only letters, digits, '-', '_' and '.', and starts with a letter or digit");
	}
	return 0;
}
