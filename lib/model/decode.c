/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed access to the node tree for the per-kind decoders: every helper
 * checks the YAML type, the range or the syntax and stops the document with
 * "file:line:col: path: message" on the first problem.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_common.h"
#include "model_private.h"

/* Istio refuses longer regexes (Envoy's RE2 program size limit). */
#define REGEX_MAX_LEN 1024

static void
dec_vfail(struct decoder *d, const struct gw_model_node *at,
	  const char *field, const char *fmt, va_list ap)
{
	char text[256];
	const char *sep = d->path_len > 0 || field != NULL ? ": " : "";
	const char *dot = d->path_len > 0 && field != NULL ? "." : "";

	vsnprintf(text, sizeof(text), fmt, ap);
	snprintf(d->msg, d->msglen, "%s:%u:%u: %s%s%s%s%s", d->file,
		 at != NULL ? at->line : 1, at != NULL ? at->col : 1,
		 d->path, dot, field != NULL ? field : "", sep, text);
	d->rc = -GW_ECONFIG;
	longjmp(d->fail, 1);
}

void
dec_fail(struct decoder *d, const struct gw_model_node *at,
	 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_vfail(d, at, NULL, fmt, ap);
	va_end(ap);
	abort(); /* not reached: dec_vfail longjmps */
}

void
dec_fail_field(struct decoder *d, const struct gw_model_node *at,
	       const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dec_vfail(d, at, field, fmt, ap);
	va_end(ap);
	abort();
}

void
dec_oom(struct decoder *d)
{
	snprintf(d->msg, d->msglen, "%s: out of memory", d->file);
	d->rc = -ENOMEM;
	longjmp(d->fail, 1);
}

void *
dec_alloc(struct decoder *d, size_t size)
{
	void *p = arena_alloc(d->arena, size);

	if (p == NULL)
		dec_oom(d);
	return p;
}

void *
dec_array(struct decoder *d, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = arena_calloc(d->arena, n, size);
	if (p == NULL)
		dec_oom(d);
	return p;
}

char *
dec_strdup(struct decoder *d, const char *s)
{
	char *p = arena_strdup(d->arena, s);

	if (p == NULL)
		dec_oom(d);
	return p;
}

/* ------------------------------------------------------------------ */
/* Paths                                                               */
/* ------------------------------------------------------------------ */

static void
path_append(struct decoder *d, const char *s)
{
	size_t n = strlen(s);

	/* A path longer than the buffer is cut; messages stay readable. */
	if (d->path_len + n >= sizeof(d->path))
		n = sizeof(d->path) - 1 - d->path_len;
	memcpy(d->path + d->path_len, s, n);
	d->path_len += n;
	d->path[d->path_len] = '\0';
}

size_t
dec_path_key(struct decoder *d, const char *key)
{
	size_t old = d->path_len;

	if (d->path_len > 0)
		path_append(d, ".");
	path_append(d, key);
	return old;
}

size_t
dec_path_index(struct decoder *d, uint32_t i)
{
	size_t old = d->path_len;
	char seg[16];

	snprintf(seg, sizeof(seg), "[%u]", i);
	path_append(d, seg);
	return old;
}

void
dec_path_restore(struct decoder *d, size_t len)
{
	d->path_len = len;
	d->path[len] = '\0';
}

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

static const char *
type_name(const struct gw_model_node *n)
{
	if (n->type == NODE_MAP)
		return "a mapping";
	if (n->type == NODE_SEQ)
		return "a list";
	switch (n->stype) {
	case SCALAR_INT:
	case SCALAR_FLOAT:
		return "a number";
	case SCALAR_BOOL:
		return "a boolean";
	case SCALAR_NULL:
		return "null";
	default:
		return "a string";
	}
}

void
dec_require_map(struct decoder *d, const struct gw_model_node *n)
{
	if (n->type != NODE_MAP)
		dec_fail(d, n, "must be a mapping, not %s", type_name(n));
}

void
dec_require_seq(struct decoder *d, const struct gw_model_node *n)
{
	if (n->type != NODE_SEQ)
		dec_fail(d, n, "must be a list, not %s", type_name(n));
}

static bool
in_list(const char *const *list, const char *key)
{
	if (list == NULL)
		return false;
	for (; *list != NULL; list++)
		if (strcmp(*list, key) == 0)
			return true;
	return false;
}

void
dec_fields(struct decoder *d, const struct gw_model_node *map,
	   const char *const *known, const char *const *unsupported,
	   void *obj, dec_field_fn fn)
{
	dec_require_map(d, map);
	for (uint32_t i = 0; i < map->map.n; i++) {
		const struct gw_model_node *k = map->map.pairs[i].key;
		const struct gw_model_node *v = map->map.pairs[i].value;
		const char *key = k->scalar.value;
		size_t mark;

		if (in_list(unsupported, key)) {
			mark = dec_path_key(d, key);
			dec_fail(d, k, "field is not supported by this gateway");
		}
		if (!in_list(known, key)) {
			if (k->scalar.len != strlen(key))
				dec_fail(d, k, "unknown field");
			dec_fail(d, k, "unknown field \"%.80s\"", key);
		}
		if (tree_is_null(v))
			continue;
		mark = dec_path_key(d, key);
		fn(d, obj, key, v);
		dec_path_restore(d, mark);
	}
}

const char *
dec_string(struct decoder *d, const struct gw_model_node *n)
{
	if (n->type != NODE_SCALAR || n->stype != SCALAR_STR)
		dec_fail(d, n, "must be a string, not %s", type_name(n));
	if (strlen(n->scalar.value) != n->scalar.len)
		dec_fail(d, n, "must not contain NUL characters");
	return n->scalar.value;
}

const char *
dec_string_nonempty(struct decoder *d, const struct gw_model_node *n)
{
	const char *s = dec_string(d, n);

	if (s[0] == '\0')
		dec_fail(d, n, "must not be empty");
	return s;
}

int64_t
dec_int(struct decoder *d, const struct gw_model_node *n, int64_t min,
	int64_t max)
{
	const char *s = n->scalar.value;
	long long v;
	char *end;

	if (n->type != NODE_SCALAR || n->stype != SCALAR_INT)
		dec_fail(d, n, "must be an integer, not %s", type_name(n));
	errno = 0;
	if (s[0] == '0' && s[1] == 'o')
		v = strtoll(s + 2, &end, 8);
	else
		v = strtoll(s, &end, s[0] == '0' && s[1] == 'x' ? 16 : 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		dec_fail(d, n, "must be between %" PRId64 " and %" PRId64,
			 min, max);
	return v;
}

bool
dec_bool(struct decoder *d, const struct gw_model_node *n)
{
	if (n->type != NODE_SCALAR || n->stype != SCALAR_BOOL)
		dec_fail(d, n, "must be a boolean, not %s", type_name(n));
	return n->scalar.value[0] == 't' || n->scalar.value[0] == 'T';
}

uint16_t
dec_port(struct decoder *d, const struct gw_model_node *n)
{
	return (uint16_t)dec_int(d, n, 1, 65535);
}

uint32_t
dec_percent_double(struct decoder *d, const struct gw_model_node *n)
{
	uint32_t ppm;
	int rc;

	if (n->type != NODE_SCALAR ||
	    (n->stype != SCALAR_INT && n->stype != SCALAR_FLOAT))
		dec_fail(d, n, "must be a number, not %s", type_name(n));
	rc = gw_model_percent_parse(n->scalar.value, &ppm);
	if (rc == -ERANGE)
		dec_fail(d, n, "must be between 0 and 100");
	if (rc < 0)
		dec_fail(d, n, "invalid number \"%.40s\"", n->scalar.value);
	return ppm;
}

int64_t
dec_duration(struct decoder *d, const struct gw_model_node *n)
{
	const char *s = dec_string(d, n);
	int64_t us;

	if (gw_model_duration_parse(s, &us) < 0)
		dec_fail(d, n, "invalid duration \"%.40s\"", s);
	/* Istio's ValidateDuration: at least 1ms, whole milliseconds. */
	if (us < 1000)
		dec_fail(d, n, "duration must be at least 1ms");
	if (us % 1000 != 0)
		dec_fail(d, n, "only durations to ms precision are supported");
	return us;
}

const char **
dec_string_list(struct decoder *d, const struct gw_model_node *n,
		uint32_t *count)
{
	const char **list;

	dec_require_seq(d, n);
	list = dec_array(d, n->seq.n, sizeof(*list));
	for (uint32_t i = 0; i < n->seq.n; i++) {
		size_t mark = dec_path_index(d, i);

		list[i] = dec_string(d, n->seq.items[i]);
		dec_path_restore(d, mark);
	}
	*count = n->seq.n;
	return list;
}

struct gw_kv *
dec_string_map(struct decoder *d, const struct gw_model_node *n,
	       uint32_t *count)
{
	struct gw_kv *kv;
	uint32_t m = 0;

	dec_require_map(d, n);
	kv = dec_array(d, n->map.n, sizeof(*kv));
	for (uint32_t i = 0; i < n->map.n; i++) {
		const struct gw_model_node *k = n->map.pairs[i].key;
		const struct gw_model_node *v = n->map.pairs[i].value;
		size_t mark = dec_path_key(d, k->scalar.value);

		kv[m].key = dec_string(d, k);
		kv[m].value = tree_is_null(v) ? "" : dec_string(d, v);
		m++;
		dec_path_restore(d, mark);
	}
	*count = m;
	return kv;
}

struct gw_kv *
dec_labels(struct decoder *d, const struct gw_model_node *n, uint32_t *count)
{
	struct gw_kv *kv = dec_string_map(d, n, count);

	for (uint32_t i = 0; i < *count; i++) {
		const struct gw_model_node *k = n->map.pairs[i].key;
		size_t mark = dec_path_key(d, kv[i].key);

		if (!model_label_key_valid(kv[i].key))
			dec_fail(d, k, "invalid label key \"%.80s\"",
				 kv[i].key);
		if (!model_label_value_valid(kv[i].value))
			dec_fail(d, n->map.pairs[i].value,
				 "invalid label value \"%.80s\"", kv[i].value);
		dec_path_restore(d, mark);
	}
	return kv;
}

static void
string_match_field(struct decoder *d, void *obj, const char *key,
		   const struct gw_model_node *v)
{
	struct gw_string_match *m = obj;

	if (m->kind != GW_MODEL_MATCH_NONE)
		dec_fail(d, v, "only one of exact, prefix or regex may be set");
	m->value = dec_string(d, v);
	if (key_is(key, "exact")) {
		m->kind = GW_MODEL_MATCH_EXACT;
	} else if (key_is(key, "prefix")) {
		m->kind = GW_MODEL_MATCH_PREFIX;
	} else {
		m->kind = GW_MODEL_MATCH_REGEX;
		if (m->value[0] == '\0')
			dec_fail(d, v, "regex string match should not be empty");
		if (strlen(m->value) > REGEX_MAX_LEN)
			dec_fail(d, v, "regex is too large, max length allowed "
				 "is %d", REGEX_MAX_LEN);
	}
}

struct gw_string_match
dec_string_match(struct decoder *d, const struct gw_model_node *n)
{
	static const char *const known[] = { "exact", "prefix", "regex", NULL };
	struct gw_string_match m = { .kind = GW_MODEL_MATCH_NONE };

	dec_fields(d, n, known, NULL, &m, string_match_field);
	return m;
}

void
dec_ip_prefix(struct decoder *d, const struct gw_model_node *n,
	      bool allow_cidr, struct gw_ip_prefix *out)
{
	const char *s = dec_string(d, n);

	if (model_ip_prefix_parse(s, allow_cidr, out) < 0)
		dec_fail(d, n, allow_cidr ? "invalid IP address or CIDR "
			 "\"%.60s\"" : "invalid IP address \"%.60s\"", s);
}

void
dec_check_host(struct decoder *d, const struct gw_model_node *n,
	       const char *host, bool wildcard_ok)
{
	struct gw_ip_prefix ip;

	if (host[0] == '\0')
		dec_fail(d, n, "host must not be empty");
	if (!wildcard_ok && strchr(host, '*') != NULL)
		dec_fail(d, n, "invalid host \"%.80s\": wildcards are not "
			 "allowed here", host);
	if (model_wildcard_domain(host))
		return;
	if (model_ip_prefix_parse(host, false, &ip) == 0)
		return;
	dec_fail(d, n, "invalid host \"%.80s\"", host);
}

/* exportTo: ".", "*", "~" or namespace names, no duplicates. */
const char **
dec_export_to(struct decoder *d, const struct gw_model_node *n,
	      uint32_t *count)
{
	const char **list = dec_string_list(d, n, count);

	for (uint32_t i = 0; i < *count; i++) {
		const char *e = list[i];
		size_t mark = dec_path_index(d, i);

		if (strcmp(e, ".") != 0 && strcmp(e, "*") != 0 &&
		    strcmp(e, "~") != 0 && !model_dns1123_label(e))
			dec_fail(d, n->seq.items[i], "invalid namespace "
				 "\"%.80s\" in exportTo", e);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(list[j], e) == 0)
				dec_fail(d, n->seq.items[i], "duplicate entry "
					 "\"%.80s\" in exportTo", e);
		dec_path_restore(d, mark);
	}
	return list;
}

/* ------------------------------------------------------------------ */
/* Header operations                                                   */
/* ------------------------------------------------------------------ */

static bool
header_token(const char *s)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(tchar, c) != NULL))
			return false;
	}
	return true;
}

/*
 * Istio's ValidateHTTPHeader*OperationName: a token; pseudo-headers and
 * Host are off limits except :authority/host in request set/add.
 */
static void
check_header_op_name(struct decoder *d, const struct gw_model_node *at,
		     const char *name, bool authority_ok)
{
	bool authority = strcasecmp(name, ":authority") == 0 ||
		strcasecmp(name, "host") == 0;

	if (name[0] == '\0')
		dec_fail(d, at, "header name cannot be empty");
	if (authority && authority_ok)
		return;
	if (authority || name[0] == ':')
		dec_fail(d, at, "header \"%.60s\" cannot be modified", name);
	if (!header_token(name))
		dec_fail(d, at, "invalid header name \"%.60s\"", name);
}

struct header_ops_ctx {
	struct gw_header_ops *ops;
	bool request;
};

static void
header_ops_field(struct decoder *d, void *obj, const char *key,
		 const struct gw_model_node *v)
{
	struct header_ops_ctx *c = obj;
	struct gw_header_ops *ops = c->ops;
	struct gw_kv *kv;
	uint32_t n;

	if (key_is(key, "remove")) {
		ops->remove = dec_string_list(d, v, &ops->n_remove);
		for (uint32_t i = 0; i < ops->n_remove; i++) {
			size_t mark = dec_path_index(d, i);

			check_header_op_name(d, v->seq.items[i],
					     ops->remove[i], false);
			dec_path_restore(d, mark);
		}
		return;
	}
	kv = dec_string_map(d, v, &n);
	for (uint32_t i = 0; i < n; i++) {
		size_t mark = dec_path_key(d, kv[i].key);

		check_header_op_name(d, v->map.pairs[i].key, kv[i].key,
				     c->request);
		dec_path_restore(d, mark);
	}
	if (key_is(key, "set")) {
		ops->set = kv;
		ops->n_set = n;
	} else {
		ops->add = kv;
		ops->n_add = n;
	}
}

static void
headers_field(struct decoder *d, void *obj, const char *key,
	      const struct gw_model_node *v)
{
	static const char *const known[] = { "set", "add", "remove", NULL };
	struct gw_headers *h = obj;
	struct header_ops_ctx c = {
		.ops = key_is(key, "request") ? &h->request : &h->response,
		.request = key_is(key, "request"),
	};

	dec_fields(d, v, known, NULL, &c, header_ops_field);
}

void
dec_headers(struct decoder *d, const struct gw_model_node *n,
	    struct gw_headers *h)
{
	static const char *const known[] = { "request", "response", NULL };

	dec_fields(d, n, known, NULL, h, headers_field);
}
