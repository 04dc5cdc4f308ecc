/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Match set builder: collects conditions (merging identical ones into
 * atoms) and clauses. Nothing here touches Hyperscan; match_build.c
 * compiles what the builder holds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_match.h"
#include "match_private.h"

int
match_grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	return gw_array_grow(arr, cap, need, size, 16);
}

void
match_hindex_free(struct match_hindex *h)
{
	free(h->slots);
	h->slots = NULL;
	h->mask = 0;
	h->count = 0;
}

uint32_t
match_hindex_find(const struct match_hindex *h, uint64_t hash,
		  int (*eq)(const void *ctx, uint32_t idx), const void *ctx)
{
	uint32_t i;

	if (h->slots == NULL)
		return UINT32_MAX;
	for (i = (uint32_t)hash & h->mask; h->slots[i].idx1 != 0;
	     i = (i + 1) & h->mask)
		if (h->slots[i].hash == hash && eq(ctx, h->slots[i].idx1 - 1))
			return h->slots[i].idx1 - 1;
	return UINT32_MAX;
}

static void
hindex_put(struct match_hslot *slots, uint32_t mask, uint64_t hash,
	   uint32_t idx1)
{
	uint32_t i;

	for (i = (uint32_t)hash & mask; slots[i].idx1 != 0; i = (i + 1) & mask)
		;
	slots[i].hash = hash;
	slots[i].idx1 = idx1;
}

int
match_hindex_add(struct match_hindex *h, uint64_t hash, uint32_t idx)
{
	/* keep the load under 1/2 so that probes stay short */
	if ((h->count + 1) * 2 > h->mask + 1 || h->slots == NULL) {
		uint32_t ncap = h->slots ? (h->mask + 1) * 2 : 64, i;
		struct match_hslot *ns = calloc(ncap, sizeof(*ns));

		if (ns == NULL)
			return -ENOMEM;
		for (i = 0; h->slots != NULL && i <= h->mask; i++)
			if (h->slots[i].idx1 != 0)
				hindex_put(ns, ncap - 1, h->slots[i].hash,
					   h->slots[i].idx1);
		free(h->slots);
		h->slots = ns;
		h->mask = ncap - 1;
	}
	hindex_put(h->slots, h->mask, hash, idx + 1);
	h->count++;
	return 0;
}

struct gw_match_set_builder *
gw_match_set_builder_create(void)
{
	struct gw_match_set_builder *b = calloc(1, sizeof(*b));
	uint32_t t;

	if (b == NULL)
		return NULL;
	/* the fixed fields occupy the first slots */
	if (match_grow((void **)&b->fields, &b->cap_fields, MF_FIXED_COUNT,
		       sizeof(*b->fields)) < 0) {
		free(b);
		return NULL;
	}
	for (t = 0; t < MF_FIXED_COUNT; t++) {
		memset(&b->fields[t], 0, sizeof(b->fields[t]));
		b->fields[t].type = (uint8_t)t;
	}
	b->n_fields = MF_FIXED_COUNT;
	return b;
}

void
gw_match_set_builder_free(struct gw_match_set_builder *b)
{
	uint32_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n_atoms; i++) {
		free(b->atoms[i].value);
		free(b->atoms[i].label);
	}
	for (i = 0; i < b->n_fields; i++)
		free(b->fields[i].name);
	free(b->atoms);
	free(b->fields);
	free(b->clauses);
	free(b->cond_ids);
	match_hindex_free(&b->atom_index);
	match_hindex_free(&b->field_index);
	free(b);
}

/*
 * Check what anchoring could change: the builder wraps a regex as
 * ^(?:RE)\z, so RE must not close that group early (unbalanced ')'),
 * escape its closing parenthesis (trailing '\'), comment it out ((?x) with
 * '#'), or quote it (\Q without \E, which the caller fixes by appending
 * \E). Hyperscan reports everything else at build time.
 *
 * Returns 0, 1 when an \E must be appended, or -EINVAL with a message.
 */
static int
check_regex(const char *re, const char *label, char *err, size_t errlen)
{
	const char *at = label ? label : "regex";
	bool in_class = false;
	int depth = 0;
	size_t i = 0;

	while (re[i] != '\0') {
		char c = re[i];

		if (c == '\\') {
			if (re[i + 1] == '\0')
				return gw_err(err, errlen,
					      "%s: regex \"%s\" ends with a lone backslash",
					      at, re);
			if (re[i + 1] == 'Q') {
				const char *e = strstr(re + i + 2, "\\E");

				if (e == NULL)
					return 1; /* quoted to the end */
				i = (size_t)(e - re) + 2;
				continue;
			}
			i += 2;
			continue;
		}
		if (in_class) {
			if (c == '[' && re[i + 1] == ':') {
				/* POSIX class [:name:] inside a bracket */
				const char *e = strstr(re + i + 2, ":]");

				if (e != NULL) {
					i = (size_t)(e - re) + 2;
					continue;
				}
			}
			if (c == ']')
				in_class = false;
			i++;
			continue;
		}
		if (c == '[') {
			in_class = true;
			i++;
			if (re[i] == '^')
				i++;
			if (re[i] == ']') /* a leading ']' is a literal */
				i++;
			continue;
		}
		if (c == '(') {
			depth++;
			if (re[i + 1] == '?') {
				size_t j;

				for (j = i + 2; re[j] != '\0' && re[j] != ':' &&
				     re[j] != ')'; j++)
					if (re[j] == 'x')
						return gw_err(err, errlen,
							"%s: regex \"%s\": (?x) is not RE2 syntax",
							at, re);
			}
		} else if (c == ')') {
			if (depth == 0)
				return gw_err(err, errlen,
					      "%s: regex \"%s\" has an unbalanced ')'",
					      at, re);
			depth--;
		}
		i++;
	}
	if (in_class)
		return gw_err(err, errlen,
			      "%s: regex \"%s\" has an unterminated character class",
			      at, re);
	if (depth != 0)
		return gw_err(err, errlen, "%s: regex \"%s\" is missing a ')'",
			      at, re);
	return 0;
}

struct field_key {
	const struct gw_match_set_builder *b;
	uint8_t type;
	const char *name;
	uint32_t name_len;
};

static int
field_eq(const void *ctx, uint32_t idx)
{
	const struct field_key *k = ctx;
	const struct match_bfield *f = &k->b->fields[idx];

	return f->type == k->type && f->name_len == k->name_len &&
	       memcmp(f->name, k->name, k->name_len) == 0;
}

/* Field index for a header (lower-cased) or query parameter name. */
static int
named_field(struct gw_match_set_builder *b, uint8_t type, const char *name,
	    uint32_t *out)
{
	uint32_t len = (uint32_t)strlen(name), i, idx;
	struct match_bfield *f;
	struct field_key k;
	char *copy;
	uint64_t h;

	copy = malloc(len + 1);
	if (copy == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		copy[i] = type == MF_HEADER ? (char)tolower((unsigned char)name[i]) :
					      name[i];
	copy[len] = '\0';
	h = match_hash(copy, len, 0) ^ type;
	k = (struct field_key){b, type, copy, len};
	idx = match_hindex_find(&b->field_index, h, field_eq, &k);
	if (idx != UINT32_MAX) {
		free(copy);
		*out = idx;
		return 0;
	}
	if (match_grow((void **)&b->fields, &b->cap_fields, b->n_fields + 1,
		       sizeof(*b->fields)) < 0 ||
	    match_hindex_add(&b->field_index, h, b->n_fields) < 0) {
		free(copy);
		return -ENOMEM;
	}
	f = &b->fields[b->n_fields];
	f->type = type;
	f->name = copy;
	f->name_len = len;
	f->hash = h;
	*out = b->n_fields++;
	return 0;
}

struct atom_lookup {
	struct match_atom key;
	const struct match_atom *atoms;
};

static int
atom_eq(const void *ctx, uint32_t idx)
{
	const struct atom_lookup *l = ctx;
	const struct match_atom *a = &l->atoms[idx], *k = &l->key;

	return a->field == k->field && a->kind == k->kind &&
	       a->caseless == k->caseless && a->port == k->port &&
	       strcmp(a->value, k->value) == 0;
}

/* gw_err() for functions that return -EINVAL. */
#define INVALID(...) (gw_err(err, errlen, __VA_ARGS__), -EINVAL)

int
gw_match_set_builder_add_condition(struct gw_match_set_builder *b,
				   const struct gw_match_condition *cond,
				   char *err, size_t errlen)
{
	const char *value = cond->value ? cond->value : "";
	const char *at = cond->label ? cond->label : "condition";
	struct atom_lookup look;
	struct match_atom *a;
	uint32_t field = MATCH_FIELD_NONE, idx;
	int kind = cond->kind, rc, need_e = 0;
	size_t vlen;

	if (cond->field != GW_MATCH_PORT &&
	    (kind < GW_MATCH_EXACT || kind > GW_MATCH_PRESENT))
		return INVALID("%s: unknown match kind %d", at, kind);
	/* an empty prefix holds for any value: a presence test */
	if (kind == GW_MATCH_PREFIX && value[0] == '\0')
		kind = GW_MATCH_PRESENT;
	if (kind == GW_MATCH_PRESENT)
		value = "";
	switch (cond->field) {
	case GW_MATCH_URI:
		field = kind == GW_MATCH_PREFIX ? MF_PATH_FULL : MF_PATH;
		break;
	case GW_MATCH_SCHEME:
		field = MF_SCHEME;
		break;
	case GW_MATCH_METHOD:
		field = MF_METHOD;
		break;
	case GW_MATCH_AUTHORITY:
		field = MF_AUTHORITY;
		break;
	case GW_MATCH_HEADER:
	case GW_MATCH_QUERY_PARAM:
		if (cond->name == NULL || cond->name[0] == '\0')
			return INVALID("%s: a %s condition needs a name", at,
				       cond->field == GW_MATCH_HEADER ?
				       "header" : "query parameter");
		rc = named_field(b, cond->field == GW_MATCH_HEADER ? MF_HEADER :
				 MF_QUERY, cond->name, &field);
		if (rc < 0)
			return rc;
		break;
	case GW_MATCH_PORT:
		if (cond->port == 0)
			return INVALID("%s: port 0 cannot be matched", at);
		kind = GW_MATCH_EXACT;
		value = "";
		break;
	default:
		return INVALID("%s: unknown match field %d", at,
			       (int)cond->field);
	}
	if (kind == GW_MATCH_REGEX && cond->field != GW_MATCH_PORT) {
		rc = check_regex(value, cond->label, err, errlen);
		if (rc < 0)
			return -EINVAL;
		need_e = rc;
	}

	memset(&look, 0, sizeof(look));
	look.key.field = field;
	look.key.kind = (uint8_t)kind;
	look.key.caseless = kind != GW_MATCH_PRESENT && cond->field != GW_MATCH_PORT &&
			    cond->ignore_case;
	look.key.port = cond->field == GW_MATCH_PORT ? cond->port : 0;
	look.key.value = (char *)value;
	look.atoms = b->atoms;
	vlen = strlen(value);
	look.key.hash = match_hash(value, (uint32_t)vlen, 0) ^
			((uint64_t)field << 32) ^ ((uint64_t)kind << 8) ^
			look.key.caseless ^ ((uint64_t)look.key.port << 16);
	idx = match_hindex_find(&b->atom_index, look.key.hash, atom_eq, &look);
	if (idx != UINT32_MAX)
		return (int)(idx << 1 | (cond->negate ? 1 : 0));
	if (b->n_atoms >= (uint32_t)INT32_MAX >> 1)
		return INVALID("%s: too many conditions", at);

	if (match_grow((void **)&b->atoms, &b->cap_atoms, b->n_atoms + 1,
		       sizeof(*b->atoms)) < 0)
		return -ENOMEM;
	a = &b->atoms[b->n_atoms];
	*a = look.key;
	/* an unterminated \Q quotes our closing group: end the quote */
	a->value = malloc(vlen + (need_e ? 3 : 1));
	a->label = cond->label ? strdup(cond->label) : NULL;
	if (a->value == NULL || (cond->label && a->label == NULL)) {
		free(a->value);
		free(a->label);
		return -ENOMEM;
	}
	memcpy(a->value, value, vlen + 1);
	if (need_e)
		memcpy(a->value + vlen, "\\E", 3);
	if (match_hindex_add(&b->atom_index, a->hash, b->n_atoms) < 0) {
		free(a->value);
		free(a->label);
		return -ENOMEM;
	}
	idx = b->n_atoms++;
	return (int)(idx << 1 | (cond->negate ? 1 : 0));
}

int
gw_match_set_builder_add_clause(struct gw_match_set_builder *b,
				uint32_t route, const int *cond_ids, uint32_t n)
{
	uint32_t i;

	if (route == MATCH_NO_ROUTE)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (cond_ids[i] < 0 || (uint32_t)cond_ids[i] >> 1 >= b->n_atoms)
			return -EINVAL;
	if (match_grow((void **)&b->clauses, &b->cap_clauses, b->n_clauses + 1,
		       sizeof(*b->clauses)) < 0 ||
	    match_grow((void **)&b->cond_ids, &b->cap_cond_ids,
		       b->n_cond_ids + n, sizeof(*b->cond_ids)) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		b->cond_ids[b->n_cond_ids + i] = (uint32_t)cond_ids[i];
	b->clauses[b->n_clauses].route = route;
	b->clauses[b->n_clauses].first = b->n_cond_ids;
	b->clauses[b->n_clauses].n = n;
	b->n_clauses++;
	b->n_cond_ids += n;
	return 0;
}
