/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema walker of the bootstrap loader: mappings checked against
 * field tables, lists, typed scalars, and messages that carry the file
 * position and the dotted field path. See config_parse.h.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "gw_common.h"
#include "gw_config.h"
#include "config_parse.h"

/* ------------------------------------------------------------------ */
/* Messages                                                            */

/* Copy file text into a message, bounded and with control bytes masked. */
const char *
config_show(char *dst, size_t len, const char *src, size_t src_len)
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

int
config_error(struct config_parser *p, const yaml_mark_t *mark,
	     const char *field, int code, const char *fmt, ...)
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

static void
config_field_key(char *dst, const char *parent, const char *key, size_t key_len)
{
	char shown[CONFIG_SHOW_LEN];

	if (key_len == 0)
		snprintf(shown, sizeof(shown), "\"\"");
	else
		config_show(shown, sizeof(shown), key, key_len);
	if (parent[0] == '\0')
		snprintf(dst, CONFIG_FIELD_LEN, "%s", shown);
	else
		snprintf(dst, CONFIG_FIELD_LEN, "%s.%s", parent, shown);
}

/* ------------------------------------------------------------------ */
/* Nodes and scalars                                                   */

/* A plain empty, "~" or "null" scalar is YAML's null. */
bool
config_is_null(const yaml_node_t *node)
{
	const char *s;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = config_text(node);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
		strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static bool
config_key_is(const yaml_node_t *key, const char *name)
{
	return key->type == YAML_SCALAR_NODE &&
		key->data.scalar.length == strlen(name) &&
		memcmp(key->data.scalar.value, name,
		       key->data.scalar.length) == 0;
}

/* Value of @p name in mapping @p map, or NULL. */
yaml_node_t *
config_find(struct config_parser *p, const yaml_node_t *map, const char *name)
{
	yaml_node_pair_t *pair;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++)
		if (config_key_is(config_node(p, pair->key), name))
			return config_node(p, pair->value);
	return NULL;
}

/* Item @p index of sequence @p seq, or NULL. */
yaml_node_t *
config_item(struct config_parser *p, const yaml_node_t *seq, unsigned int index)
{
	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE ||
	    index >= (size_t)(seq->data.sequence.items.top -
			      seq->data.sequence.items.start))
		return NULL;
	return config_node(p, seq->data.sequence.items.start[index]);
}

/*
 * Check that @p node is a string of @p min_len..@p max_len characters.
 * Strings with an embedded NUL (a "\0" escape) are refused: every consumer
 * handles them as C strings. So are other control characters.
 */
int
config_check_string(struct config_parser *p, yaml_node_t *node,
		    const char *field, size_t min_len, size_t max_len)
{
	size_t i, len;

	if (node->type != YAML_SCALAR_NODE || config_is_null(node))
		return CONFIG_ERR(p, node, field, "expected a string");
	len = node->data.scalar.length;
	if (strlen(config_text(node)) != len)
		return CONFIG_ERR(p, node, field, "contains a NUL character");
	/* Names, paths and arguments end up in logs and terminals. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)config_text(node)[i];

		if (c < 0x20 || c == 0x7f)
			return CONFIG_ERR(p, node, field,
					  "contains a control character");
	}
	if (len < min_len)
		return CONFIG_ERR(p, node, field, "must not be empty");
	if (len > max_len)
		return CONFIG_ERR(p, node, field,
				  "too long (at most %zu characters)", max_len);
	return 0;
}

/* A string scalar copied into @p dst of @p size bytes. */
int
config_string(struct config_parser *p, yaml_node_t *node, const char *field,
	      char *dst, size_t size, size_t min_len)
{
	int rc;

	rc = config_check_string(p, node, field, min_len, size - 1);
	if (rc < 0)
		return rc;
	memcpy(dst, config_text(node), node->data.scalar.length + 1);
	return 0;
}

/*
 * A decimal integer in [min, max]. Only plain scalars count: "8000" in
 * quotes is a string in YAML. Leading zeros are refused because YAML 1.1
 * reads 010 as octal 8 while a person reads ten.
 */
int
config_uint(struct config_parser *p, yaml_node_t *node, const char *field,
	    uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s;
	size_t i = 0, len, start;
	bool negative = false, overflow = false;
	uint64_t v = 0;

	if (node->type != YAML_SCALAR_NODE ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return CONFIG_ERR(p, node, field, "expected an integer");
	s = config_text(node);
	len = node->data.scalar.length;
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		negative = s[0] == '-';
		i = 1;
	}
	start = i;
	if (i == len)
		return CONFIG_ERR(p, node, field, "expected an integer");
	for (; i < len; i++) {
		unsigned int digit = (unsigned char)s[i] - '0';

		if (digit > 9)
			return CONFIG_ERR(p, node, field, "expected an integer");
		if (v > (UINT64_MAX - digit) / 10)
			overflow = true;
		else
			v = v * 10 + digit;
	}
	if (s[start] == '0' && len - start > 1)
		return CONFIG_ERR(p, node, field,
				  "leading zeros are not allowed (YAML reads them as octal)");
	if (overflow || (negative && v != 0) || v < min || v > max)
		return CONFIG_ERR(p, node, field,
				  "must be between %" PRIu64 " and %" PRIu64,
				  min, max);
	*out = v;
	return 0;
}

/* true/false, also on/off as YAML 1.1 writes them (`admin: off`). */
int
config_bool(struct config_parser *p, yaml_node_t *node, const char *field,
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
			if (strcmp(config_text(node), yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcmp(config_text(node), no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	return CONFIG_ERR(p, node, field, "expected true or false");
}

int
config_ipv4(struct config_parser *p, yaml_node_t *node, const char *field,
	    struct in_addr *out)
{
	char shown[CONFIG_SHOW_LEN];

	if (node->type != YAML_SCALAR_NODE || config_is_null(node))
		return CONFIG_ERR(p, node, field, "expected an IPv4 address");
	if (node->data.scalar.length >= INET_ADDRSTRLEN ||
	    strlen(config_text(node)) != node->data.scalar.length ||
	    inet_pton(AF_INET, config_text(node), out) != 1)
		return CONFIG_ERR(p, node, field, "\"%s\" is not an IPv4 address",
				  config_show(shown, sizeof(shown),
					      config_text(node),
					      node->data.scalar.length));
	return 0;
}

void
config_ntop(struct in_addr a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ------------------------------------------------------------------ */
/* Mappings and lists                                                  */

static const struct config_field *
config_field_find(const struct config_field *fields, const yaml_node_t *key)
{
	for (; fields->key != NULL; fields++)
		if (config_key_is(key, fields->key))
			return fields;
	return NULL;
}

/*
 * Walk mapping @p node against @p fields: unknown and duplicate keys are
 * errors (at the key), required fields that are absent are errors (at the
 * mapping), every value goes to its handler in file order.
 */
int
config_map(struct config_parser *p, yaml_node_t *node, const char *field,
	   const struct config_field *fields, void *obj)
{
	char child[CONFIG_FIELD_LEN];
	yaml_node_pair_t *pair, *prev;
	const struct config_field *f;
	int rc;

	if (node->type != YAML_MAPPING_NODE)
		return CONFIG_ERR(p, node, field, "expected a mapping");
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = config_node(p, pair->key);

		if (key->type != YAML_SCALAR_NODE)
			return CONFIG_ERR(p, key, field[0] ? field : "yaml",
					  "keys must be strings");
		config_field_key(child, field, config_text(key),
				 key->data.scalar.length);
		f = config_field_find(fields, key);
		if (f == NULL)
			return CONFIG_ERR(p, key, child, "unknown field");
		prev = node->data.mapping.pairs.start;
		for (; prev < pair; prev++) {
			yaml_node_t *first = config_node(p, prev->key);

			if (config_key_is(first, f->key))
				return CONFIG_ERR(p, key, child,
						  "duplicate key (first at line %zu)",
						  first->start_mark.line + 1);
		}
		rc = f->parse(p, config_node(p, pair->value), child, obj, f);
		if (rc < 0)
			return rc;
	}
	for (f = fields; f->key != NULL; f++) {
		if (f->required && config_find(p, node, f->key) == NULL) {
			config_field_key(child, field, f->key, strlen(f->key));
			return CONFIG_ERR(p, node, child,
					  "required field is missing");
		}
	}
	return 0;
}

/*
 * Walk list @p node of at most @p max items, at least one if @p non_empty;
 * @p what names one item in messages ("port": "too many ports").
 */
int
config_seq(struct config_parser *p, yaml_node_t *node, const char *field,
	   bool non_empty, unsigned int max, const char *what,
	   config_item_t item, void *obj)
{
	char child[CONFIG_FIELD_LEN];
	yaml_node_item_t *it;
	unsigned int i = 0;
	int rc;

	if (node->type != YAML_SEQUENCE_NODE)
		return CONFIG_ERR(p, node, field, "expected a list");
	if (non_empty &&
	    node->data.sequence.items.top == node->data.sequence.items.start)
		return CONFIG_ERR(p, node, field, "at least one %s is required",
				  what);
	for (it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++, i++) {
		yaml_node_t *value = config_node(p, *it);

		snprintf(child, sizeof(child), "%s[%u]", field, i);
		if (i >= max)
			return CONFIG_ERR(p, value, child,
					  "too many %ss (at most %u)", what, max);
		rc = item(p, value, child, obj, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Generic handlers for table entries. */

int
config_set_uint(struct config_parser *p, yaml_node_t *node, const char *field,
		void *obj, const struct config_field *f)
{
	char *dst = (char *)obj + f->offset;
	uint64_t v = 0;
	int rc;

	rc = config_uint(p, node, field, f->min, f->max, &v);
	if (rc < 0)
		return rc;
	/* The table's bounds keep v within the member's width. */
	switch (f->size) {
	case sizeof(uint16_t): {
		uint16_t v16 = (uint16_t)v;

		memcpy(dst, &v16, sizeof(v16));
		return 0;
	}
	case sizeof(uint32_t): {
		uint32_t v32 = (uint32_t)v;

		memcpy(dst, &v32, sizeof(v32));
		return 0;
	}
	default:
		return CONFIG_ERR(p, node, field,
				  "internal error: integer of %zu bytes", f->size);
	}
}

int
config_set_bool(struct config_parser *p, yaml_node_t *node, const char *field,
		void *obj, const struct config_field *f)
{
	return config_bool(p, node, field, (bool *)((char *)obj + f->offset));
}

int
config_set_ipv4(struct config_parser *p, yaml_node_t *node, const char *field,
		void *obj, const struct config_field *f)
{
	return config_ipv4(p, node, field,
			   (struct in_addr *)(void *)((char *)obj + f->offset));
}

int
config_set_map(struct config_parser *p, yaml_node_t *node, const char *field,
	       void *obj, const struct config_field *f)
{
	return config_map(p, node, field, f->sub, obj);
}

int
config_set_string(struct config_parser *p, yaml_node_t *node, const char *field,
		  void *obj, const struct config_field *f)
{
	return config_string(p, node, field, (char *)obj + f->offset, f->size,
			     f->min);
}

/*
 * Names (ports, groups) appear in logs, metrics labels and commands:
 * letters, digits, '-', '_' and '.', starting with a letter or digit.
 */
int
config_name(struct config_parser *p, yaml_node_t *node, const char *field,
	    char *dst, size_t size, size_t min_len)
{
	const char *s;
	int rc;

	rc = config_string(p, node, field, dst, size, min_len);
	if (rc < 0)
		return rc;
	for (s = dst; *s != '\0'; s++) {
		bool alnum = (*s >= 'a' && *s <= 'z') ||
			(*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');

		if (!alnum && (s == dst || strchr("-_.", *s) == NULL))
			return CONFIG_ERR(p, node, field,
					  "may contain only letters, digits, '-', '_' and '.', and must start with a letter or digit");
	}
	return 0;
}

