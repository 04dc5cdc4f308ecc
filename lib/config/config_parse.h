/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CONFIG_PARSE_H
#define CONFIG_PARSE_H

/*
 * Private to lib/config: a small schema walker over a libyaml document.
 *
 * The bootstrap file is loaded with libyaml's document API into a node
 * tree, then walked against tables of {key, handler}. Every handler gets
 * its node and the dotted path of the field ("ports[0].address"), so an
 * error can name both the place in the file and the field. Handlers return
 * 0, or a negative code after writing "FILE:LINE:COL: FIELD: reason" into
 * the parser's error buffer; the first error stops the walk.
 *
 * config_walk.c   the walker, scalar types, messages
 * config_ports.c  the ports and listeners sections
 * config.c        the other sections, checks across sections, public API
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <yaml.h>

#include "gw_config.h"

/*
 * Lcore ids are bounded by RTE_MAX_LCORE of the Debian DPDK build; the EAL
 * checks again that the lcore exists. Kept here so that this module needs
 * no DPDK header.
 */
#define CONFIG_MAX_LCORE    128
#define CONFIG_FIELD_LEN    160       /* longest dotted field path printed */
#define CONFIG_SHOW_LEN     64        /* longest file text in a message */
#define CONFIG_FILE_MAX     (1 << 20) /* a bootstrap file is a few KB */
#define CONFIG_SUN_PATH_MAX 107       /* sizeof(sockaddr_un.sun_path) - 1 */
#define CONFIG_PCI_LEN      13        /* "0000:03:00.0" and its NUL */

struct config_parser {
	yaml_document_t *doc;
	const char *name;        /* file name for messages */
	char *err;
	size_t err_len;
	struct gw_config *cfg;
};

struct config_field;

/** Parse @p node (the value of a field) into @p obj; 0 or negative. */
typedef int (*config_parse_t)(struct config_parser *p, yaml_node_t *node,
			      const char *field, void *obj,
			      const struct config_field *f);

/** Parse item @p index of a list into @p obj; 0 or negative. */
typedef int (*config_item_t)(struct config_parser *p, yaml_node_t *node,
			     const char *field, void *obj, unsigned int index);

/*
 * One key of a mapping. Generic handlers (integers, strings, booleans,
 * addresses, nested mappings) store at obj + offset and take their bounds
 * from the entry, so that most fields are one line of a table.
 */
struct config_field {
	const char *key;
	config_parse_t parse;
	bool required;
	size_t offset;
	size_t size;
	uint64_t min;     /* integers: range; strings: minimum length */
	uint64_t max;
	const struct config_field *sub; /* nested mapping */
};

#define FIELD(k, fn, req) { .key = (k), .parse = (fn), .required = (req) }
#define FIELD_MAP(k, fields) \
	{ .key = (k), .parse = config_set_map, .sub = (fields) }
#define FIELD_UINT(k, req, type, member, lo, hi) \
	{ .key = (k), .parse = config_set_uint, .required = (req), \
	  .offset = offsetof(type, member), \
	  .size = sizeof(((type *)0)->member), .min = (lo), .max = (hi) }
#define FIELD_BOOL(k, type, member) \
	{ .key = (k), .parse = config_set_bool, \
	  .offset = offsetof(type, member) }
#define FIELD_IPV4(k, req, type, member) \
	{ .key = (k), .parse = config_set_ipv4, .required = (req), \
	  .offset = offsetof(type, member) }
#define FIELD_STRING(k, type, member, min_len) \
	{ .key = (k), .parse = config_set_string, \
	  .offset = offsetof(type, member), \
	  .size = sizeof(((type *)0)->member), .min = (min_len) }
#define FIELD_END { .key = NULL }

/* Messages */

/** Write "NAME:LINE:COL: FIELD: reason" (1-based) and return @p code. */
int config_error(struct config_parser *p, const yaml_mark_t *mark,
		 const char *field, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The usual case: a configuration error at the start of a node. */
#define CONFIG_ERR(p, node, field, ...) \
	config_error((p), &(node)->start_mark, (field), -GW_ECONFIG, \
		     __VA_ARGS__)

/** Copy file text for a message: bounded, control bytes masked. */
const char *config_show(char *dst, size_t len, const char *src,
			size_t src_len);

/* Nodes */

static inline yaml_node_t *
config_node(struct config_parser *p, int index)
{
	return yaml_document_get_node(p->doc, index);
}

static inline const char *
config_text(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/** A plain empty, "~" or "null" scalar: YAML's null. */
bool config_is_null(const yaml_node_t *node);

/** Value of key @p name in mapping @p map, or NULL (also if @p map is). */
yaml_node_t *config_find(struct config_parser *p, const yaml_node_t *map,
			 const char *name);

/** Item @p index of sequence @p seq, or NULL (also if @p seq is). */
yaml_node_t *config_item(struct config_parser *p, const yaml_node_t *seq,
			 unsigned int index);

/* Walker */

/**
 * Walk mapping @p node against @p fields (ended by FIELD_END): unknown and
 * duplicate keys are errors at the key, a missing required field an error
 * at the mapping; values go to their handlers in file order.
 */
int config_map(struct config_parser *p, yaml_node_t *node, const char *field,
	       const struct config_field *fields, void *obj);

/**
 * Walk list @p node of at most @p max items, at least one if @p non_empty;
 * @p what names one item in messages ("port": "too many ports").
 */
int config_seq(struct config_parser *p, yaml_node_t *node, const char *field,
	       bool non_empty, unsigned int max, const char *what,
	       config_item_t item, void *obj);

/* Scalars */

int config_check_string(struct config_parser *p, yaml_node_t *node,
			const char *field, size_t min_len, size_t max_len);
int config_string(struct config_parser *p, yaml_node_t *node,
		  const char *field, char *dst, size_t size, size_t min_len);
int config_name(struct config_parser *p, yaml_node_t *node, const char *field,
		char *dst, size_t size, size_t min_len);
int config_uint(struct config_parser *p, yaml_node_t *node, const char *field,
		uint64_t min, uint64_t max, uint64_t *out);
int config_bool(struct config_parser *p, yaml_node_t *node, const char *field,
		bool *out);
int config_ipv4(struct config_parser *p, yaml_node_t *node, const char *field,
		struct in_addr *out);

static inline uint32_t
config_mask(unsigned int prefix_len)
{
	return prefix_len == 0 ? 0 : UINT32_MAX << (32 - prefix_len);
}

/** Dotted-quad text of @p a into @p buf of INET_ADDRSTRLEN bytes. */
void config_ntop(struct in_addr a, char *buf);

/* Generic handlers for the FIELD_* macros. */
int config_set_map(struct config_parser *p, yaml_node_t *node,
		   const char *field, void *obj, const struct config_field *f);
int config_set_uint(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, const struct config_field *f);
int config_set_bool(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, const struct config_field *f);
int config_set_ipv4(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, const struct config_field *f);
int config_set_string(struct config_parser *p, yaml_node_t *node,
		      const char *field, void *obj,
		      const struct config_field *f);

/* Sections in config_ports.c */

int config_ports(struct config_parser *p, yaml_node_t *node, const char *field,
		 void *obj, const struct config_field *f);
int config_listeners(struct config_parser *p, yaml_node_t *node,
		     const char *field, void *obj,
		     const struct config_field *f);

/**
 * "0000:03:00.0" or "03:00.0" (the first @p len bytes of @p s) into the
 * full lower-case form the EAL names the port by; false if not one.
 */
bool config_pci_parse(const char *s, size_t len, char out[CONFIG_PCI_LEN]);

/** Length of a device name without its ",key=value" arguments. */
size_t config_device_name_len(const char *device);

#endif /* CONFIG_PARSE_H */
