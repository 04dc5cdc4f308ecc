/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compile a builder into an immutable match set: drop clauses that can
 * never win, index atoms to the clauses they feed, compile one Hyperscan
 * database per field and allocate each worker's area (scratch included),
 * so that a lookup never allocates.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_match.h"
#include "match_private.h"

#define CACHE_LINE 64

/* Hyperscan pattern for an atom (caller frees), with its flags. */
static char *
atom_pattern(const struct match_atom *a, unsigned int *flags)
{
	size_t len = strlen(a->value), i, o = 0;
	char *p = malloc(len * 4 + 16);

	if (p == NULL)
		return NULL;
	/* SINGLEMATCH: each atom is reported at most once per scan */
	*flags = HS_FLAG_SINGLEMATCH;
	if (a->caseless)
		*flags |= HS_FLAG_CASELESS;
	p[o++] = '^';
	if (a->kind == GW_MATCH_REGEX) {
		/* RE2 FullMatch semantics: the whole value, \z not $ */
		*flags |= HS_FLAG_ALLOWEMPTY;
		o += (size_t)sprintf(p + o, "(?:%s)\\z", a->value);
		return p;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)a->value[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			p[o++] = (char)c;
		else
			o += (size_t)sprintf(p + o, "\\x%02x", c);
	}
	if (a->kind == GW_MATCH_EXACT) {
		p[o++] = '\\';
		p[o++] = 'z';
		if (len == 0)
			*flags |= HS_FLAG_ALLOWEMPTY;
	}
	p[o] = '\0';
	return p;
}

static const char *
kind_name(uint8_t kind)
{
	switch (kind) {
	case GW_MATCH_EXACT:  return "exact";
	case GW_MATCH_PREFIX: return "prefix";
	case GW_MATCH_REGEX:  return "regex";
	default:              return "present";
	}
}

static void
field_describe(const struct match_bfield *f, char *buf, size_t len)
{
	static const char *const fixed[MF_FIXED_COUNT] = {
		"uri", "uri", "method", "scheme", "authority",
	};

	if (f->type < MF_FIXED_COUNT)
		snprintf(buf, len, "%s", fixed[f->type]);
	else
		snprintf(buf, len, "%s \"%s\"",
			 f->type == MF_HEADER ? "header" : "query parameter",
			 f->name);
}

/* Compile the pattern atoms @p ids of field @p f into one database. */
static int
compile_field(const struct gw_match_set_builder *b, uint32_t fi,
	      const uint32_t *ids, uint32_t n, hs_database_t **db,
	      char *err, size_t errlen)
{
	char **exprs = calloc(n, sizeof(*exprs));
	unsigned int *flags = calloc(n, sizeof(*flags));
	hs_compile_error_t *cerr = NULL;
	char fname[160];
	uint32_t i;
	int rc = 0;

	field_describe(&b->fields[fi], fname, sizeof(fname));
	if (exprs == NULL || flags == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		exprs[i] = atom_pattern(&b->atoms[ids[i]], &flags[i]);
		if (exprs[i] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (hs_compile_multi((const char *const *)exprs, flags, ids, n,
			     HS_MODE_BLOCK, NULL, db, &cerr) != HS_SUCCESS) {
		if (cerr != NULL && cerr->expression >= 0 &&
		    (uint32_t)cerr->expression < n) {
			const struct match_atom *a = &b->atoms[ids[cerr->expression]];

			gw_err(err, errlen,
			       "%s: %s %s \"%s\" cannot be compiled by Hyperscan: %s",
			       a->label ? a->label : "condition", fname,
			       kind_name(a->kind), a->value, cerr->message);
		} else {
			gw_err(err, errlen,
			       "Hyperscan cannot compile the %u %s patterns: %s",
			       n, fname, cerr ? cerr->message : "unknown error");
		}
		hs_free_compile_error(cerr);
		rc = -EINVAL;
	}
out:
	for (i = 0; exprs != NULL && i < n; i++)
		free(exprs[i]);
	free(exprs);
	free(flags);
	if (rc == -ENOMEM)
		gw_err(err, errlen, "out of memory compiling the %s patterns", fname);
	return rc;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* (route, clause) pairs, to order the negated-only clauses by route. */
static int
pair_cmp(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Keep the clauses that can win: drop those of routes at or after the
 * first catch-all and those requiring a condition and its negation. Fills
 * clause_route/clause_need/negonly and the atom -> clause index.
 */
static int
index_clauses(struct gw_match_set *s, const struct gw_match_set_builder *b)
{
	uint32_t *ids = NULL, *kept_first = NULL, *kept_n = NULL, *fill = NULL;
	uint64_t *neg_pairs = NULL;
	uint32_t c, i, k, n_ids = 0, n_kept = 0, n_neg = 0;
	int rc = -ENOMEM;

	s->catchall_route = MATCH_NO_ROUTE;
	for (c = 0; c < b->n_clauses; c++)
		if (b->clauses[c].n == 0 && b->clauses[c].route < s->catchall_route)
			s->catchall_route = b->clauses[c].route;

	ids = malloc((b->n_cond_ids + 1) * sizeof(*ids));
	kept_first = malloc((b->n_clauses + 1) * sizeof(*kept_first));
	kept_n = malloc((b->n_clauses + 1) * sizeof(*kept_n));
	s->clause_route = malloc((b->n_clauses + 1) * sizeof(*s->clause_route));
	s->clause_need = malloc((b->n_clauses + 1) * sizeof(*s->clause_need));
	neg_pairs = malloc((b->n_clauses + 1) * sizeof(*neg_pairs));
	s->ref_first = calloc(b->n_atoms + 1, sizeof(*s->ref_first));
	fill = calloc(b->n_atoms + 1, sizeof(*fill));
	if (ids == NULL || kept_first == NULL || kept_n == NULL ||
	    s->clause_route == NULL || s->clause_need == NULL ||
	    neg_pairs == NULL || s->ref_first == NULL || fill == NULL)
		goto out;

	for (c = 0; c < b->n_clauses; c++) {
		const struct match_bclause *bc = &b->clauses[c];
		uint32_t *mine = ids + n_ids, n = 0, need = 0;
		bool impossible = false;

		if (bc->n == 0 || bc->route >= s->catchall_route)
			continue;
		memcpy(mine, b->cond_ids + bc->first, bc->n * sizeof(*mine));
		qsort(mine, bc->n, sizeof(*mine), u32_cmp);
		for (i = 0; i < bc->n; i++) {
			if (n > 0 && mine[n - 1] == mine[i])
				continue; /* same condition twice */
			/* X and not X are adjacent: atom << 1 | neg */
			if (n > 0 && (mine[n - 1] >> 1) == (mine[i] >> 1))
				impossible = true;
			mine[n++] = mine[i];
			if (!(mine[i] & MATCH_REF_NEG))
				need++;
		}
		if (impossible)
			continue;
		kept_first[n_kept] = n_ids;
		kept_n[n_kept] = n;
		s->clause_route[n_kept] = bc->route;
		s->clause_need[n_kept] = need;
		if (need == 0)
			neg_pairs[n_neg++] = (uint64_t)bc->route << 32 | n_kept;
		for (i = 0; i < n; i++)
			s->ref_first[mine[i] >> 1]++;
		n_ids += n;
		n_kept++;
	}
	s->n_clauses = n_kept;

	/* counts -> CSR offsets */
	for (i = 0, k = 0; i <= b->n_atoms; i++) {
		uint32_t cnt = i < b->n_atoms ? s->ref_first[i] : 0;

		s->ref_first[i] = k;
		k += cnt;
	}
	s->refs = malloc((k + 1) * sizeof(*s->refs));
	if (s->refs == NULL)
		goto out;
	for (c = 0; c < n_kept; c++)
		for (i = 0; i < kept_n[c]; i++) {
			uint32_t id = ids[kept_first[c] + i], a = id >> 1;

			s->refs[s->ref_first[a] + fill[a]++] =
				c << 1 | (id & MATCH_REF_NEG);
		}

	qsort(neg_pairs, n_neg, sizeof(*neg_pairs), pair_cmp);
	s->negonly = malloc((n_neg + 1) * sizeof(*s->negonly));
	if (s->negonly == NULL)
		goto out;
	for (i = 0; i < n_neg; i++)
		s->negonly[i] = (uint32_t)neg_pairs[i];
	s->n_negonly = n_neg;
	s->memory += (b->n_atoms + 1 + k + 1 + 2 * (b->n_clauses + 1) + n_neg + 1) *
		     sizeof(uint32_t);
	rc = 0;
out:
	free(ids);
	free(kept_first);
	free(kept_n);
	free(fill);
	free(neg_pairs);
	return rc;
}

static inline bool
atom_live(const struct gw_match_set *s, uint32_t a)
{
	return s->ref_first[a + 1] > s->ref_first[a];
}

/* Runtime name table for the header (or query) fields. */
static int
build_name_table(struct gw_match_set *s, uint8_t type,
		 struct match_name_slot **out, uint32_t *mask, uint32_t *count)
{
	struct match_name_slot *t;
	uint32_t n = 0, cap = 8, f, i;

	for (f = MF_FIXED_COUNT; f < s->n_fields; f++)
		if (s->fields[f].type == type &&
		    (s->fields[f].db != NULL || s->fields[f].present_n > 0))
			n++;
	while (cap < n * 2)
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (f = MF_FIXED_COUNT; f < s->n_fields; f++) {
		const struct match_field *mf = &s->fields[f];
		uint32_t h;

		if (mf->type != type || (mf->db == NULL && mf->present_n == 0))
			continue;
		h = (uint32_t)match_hash(mf->name, mf->name_len, 0);
		for (i = h & (cap - 1); t[i].field1 != 0; i = (i + 1) & (cap - 1))
			;
		t[i].hash32 = h;
		t[i].field1 = f + 1;
	}
	*out = t;
	*mask = cap - 1;
	*count = n;
	s->memory += cap * sizeof(*t);
	return 0;
}

/* Fields: names, presence lists and one database per field with patterns. */
static int
build_fields(struct gw_match_set *s, const struct gw_match_set_builder *b,
	     char *err, size_t errlen)
{
	uint32_t *pattern_ids = NULL, *pattern_n = NULL, *pattern_first = NULL;
	uint32_t *present_n = NULL, a, f, n_present = 0, names_len = 0, o;
	int rc = -ENOMEM;

	s->n_fields = b->n_fields;
	s->fields = calloc(b->n_fields, sizeof(*s->fields));
	pattern_n = calloc(b->n_fields + 1, sizeof(*pattern_n));
	pattern_first = calloc(b->n_fields + 1, sizeof(*pattern_first));
	present_n = calloc(b->n_fields + 1, sizeof(*present_n));
	pattern_ids = malloc((b->n_atoms + 1) * sizeof(*pattern_ids));
	if (s->fields == NULL || pattern_n == NULL || pattern_first == NULL ||
	    present_n == NULL || pattern_ids == NULL)
		goto out;
	s->memory += b->n_fields * sizeof(*s->fields);

	for (f = 0; f < b->n_fields; f++)
		names_len += b->fields[f].name_len + 1;
	s->names = malloc(names_len + 1);
	if (s->names == NULL)
		goto out;
	s->memory += names_len + 1;
	for (f = 0, o = 0; f < b->n_fields; f++) {
		s->fields[f].type = b->fields[f].type;
		if (b->fields[f].name == NULL)
			continue;
		memcpy(s->names + o, b->fields[f].name, b->fields[f].name_len + 1);
		s->fields[f].name = s->names + o;
		s->fields[f].name_len = b->fields[f].name_len;
		o += b->fields[f].name_len + 1;
	}

	/* group live atoms by field and by what tests them */
	for (a = 0; a < b->n_atoms; a++) {
		const struct match_atom *at = &b->atoms[a];

		if (!atom_live(s, a))
			continue;
		if (at->field == MATCH_FIELD_NONE)
			s->n_ports++; /* counted; deduplicated later */
		else if (at->kind == GW_MATCH_PRESENT) {
			present_n[at->field]++;
			n_present++;
		} else
			pattern_n[at->field]++;
	}
	for (f = 0, o = 0; f < b->n_fields; f++) {
		pattern_first[f] = o;
		o += pattern_n[f];
	}
	memset(pattern_n, 0, b->n_fields * sizeof(*pattern_n));
	s->present_atoms = malloc((n_present + 1) * sizeof(*s->present_atoms));
	if (s->present_atoms == NULL)
		goto out;
	s->memory += (n_present + 1) * sizeof(*s->present_atoms);
	for (f = 0, o = 0; f < b->n_fields; f++) {
		s->fields[f].present_first = o;
		o += present_n[f];
	}
	for (a = 0; a < b->n_atoms; a++) {
		const struct match_atom *at = &b->atoms[a];
		struct match_field *mf;

		if (!atom_live(s, a) || at->field == MATCH_FIELD_NONE)
			continue;
		mf = &s->fields[at->field];
		if (at->kind == GW_MATCH_PRESENT)
			s->present_atoms[mf->present_first + mf->present_n++] = a;
		else
			pattern_ids[pattern_first[at->field] +
				    pattern_n[at->field]++] = a;
	}
	for (f = 0; f < b->n_fields; f++) {
		if (pattern_n[f] == 0)
			continue;
		rc = compile_field(b, f, pattern_ids + pattern_first[f],
				   pattern_n[f], &s->fields[f].db, err, errlen);
		if (rc < 0)
			goto out_msg;
		s->n_databases++;
	}
	rc = build_name_table(s, MF_HEADER, &s->header_index, &s->header_mask,
			      &s->n_header_fields);
	if (rc == 0)
		rc = build_name_table(s, MF_QUERY, &s->query_index, &s->query_mask,
				      &s->n_query_fields);
out:
	if (rc == -ENOMEM)
		gw_err(err, errlen, "out of memory building a match set");
out_msg:
	free(pattern_ids);
	free(pattern_n);
	free(pattern_first);
	free(present_n);
	return rc;
}

/* Sorted distinct ports with the atoms testing each. */
static int
build_ports(struct gw_match_set *s, const struct gw_match_set_builder *b)
{
	uint64_t *pairs;
	uint32_t n = 0, a, i, u = 0;

	pairs = malloc((s->n_ports + 1) * sizeof(*pairs));
	s->ports = malloc((s->n_ports + 1) * sizeof(*s->ports));
	s->port_first = malloc((s->n_ports + 2) * sizeof(*s->port_first));
	s->port_atoms = malloc((s->n_ports + 1) * sizeof(*s->port_atoms));
	if (pairs == NULL || s->ports == NULL || s->port_first == NULL ||
	    s->port_atoms == NULL) {
		free(pairs);
		return -ENOMEM;
	}
	for (a = 0; a < b->n_atoms; a++)
		if (atom_live(s, a) && b->atoms[a].field == MATCH_FIELD_NONE)
			pairs[n++] = (uint64_t)b->atoms[a].port << 32 | a;
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	for (i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(pairs[i] >> 32);

		if (u == 0 || s->ports[u - 1] != port) {
			s->ports[u] = port;
			s->port_first[u] = i;
			u++;
		}
		s->port_atoms[i] = (uint32_t)pairs[i];
	}
	s->port_first[u] = n;
	s->n_ports = u;
	s->memory += (n + 1) * (sizeof(*s->ports) + 2 * sizeof(uint32_t));
	free(pairs);
	return 0;
}

static size_t
align_up(size_t v)
{
	return (v + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
}

/* Each worker's area in one cache-aligned block, scratch cloned. */
static int
build_workers(struct gw_match_set *s, char *err, size_t errlen)
{
	size_t off_clauses = align_up(sizeof(struct match_worker));
	size_t off_done = off_clauses +
		align_up(s->n_clauses * sizeof(struct match_clause_state));
	size_t off_fields = off_done + align_up(s->n_clauses * sizeof(uint32_t));
	size_t off_touched = off_fields +
		align_up(s->n_fields * sizeof(struct match_field_state));
	size_t total = off_touched + align_up(s->n_fields * sizeof(uint32_t));
	hs_scratch_t *proto = NULL;
	size_t scratch_size = 0;
	uint32_t f, w;

	for (f = 0; f < s->n_fields; f++)
		if (s->fields[f].db != NULL &&
		    hs_alloc_scratch(s->fields[f].db, &proto) != HS_SUCCESS) {
			hs_free_scratch(proto);
			return gw_err(err, errlen,
				      "out of memory for Hyperscan scratch");
		}
	if (proto != NULL)
		hs_scratch_size(proto, &scratch_size);

	s->workers = calloc(s->n_workers, sizeof(*s->workers));
	if (s->workers == NULL) {
		hs_free_scratch(proto);
		return gw_err(err, errlen, "out of memory for match workers");
	}
	for (w = 0; w < s->n_workers; w++) {
		struct match_worker *mw = aligned_alloc(CACHE_LINE, total);
		char *base = (char *)mw;

		if (mw == NULL)
			goto nomem;
		memset(mw, 0, total);
		s->workers[w] = mw;
		mw->set = s;
		mw->clauses = (struct match_clause_state *)(base + off_clauses);
		mw->done = (uint32_t *)(base + off_done);
		mw->fields = (struct match_field_state *)(base + off_fields);
		mw->touched = (uint32_t *)(base + off_touched);
		if (w == 0) {
			mw->scratch = proto; /* NULL when there is no database */
			proto = NULL;
		} else if (s->workers[0]->scratch != NULL &&
			   hs_clone_scratch(s->workers[0]->scratch,
					    &mw->scratch) != HS_SUCCESS) {
			goto nomem;
		}
	}
	s->memory += s->n_workers * (total + scratch_size);
	return 0;
nomem:
	hs_free_scratch(proto);
	return gw_err(err, errlen, "out of memory for match workers");
}

struct gw_match_set *
gw_match_set_build(const struct gw_match_set_builder *b,
		   unsigned int n_workers, char *err, size_t errlen)
{
	struct gw_match_set *s;
	uint32_t f;

	if (n_workers == 0) {
		gw_err(err, errlen, "a match set needs at least one worker");
		return NULL;
	}
	if (hs_valid_platform() != HS_SUCCESS) {
		gw_err(err, errlen, "Hyperscan needs a CPU with SSSE3");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		gw_err(err, errlen, "out of memory building a match set");
		return NULL;
	}
	s->n_workers = n_workers;
	s->n_atoms = b->n_atoms;
	s->memory = sizeof(*s);
	if (index_clauses(s, b) < 0) {
		gw_err(err, errlen, "out of memory building a match set");
		goto fail;
	}
	if (build_fields(s, b, err, errlen) < 0)
		goto fail;
	if (build_ports(s, b) < 0) {
		gw_err(err, errlen, "out of memory building a match set");
		goto fail;
	}
	if (build_workers(s, err, errlen) < 0)
		goto fail;
	for (f = 0; f < s->n_fields; f++) {
		size_t sz = 0;

		if (s->fields[f].db != NULL &&
		    hs_database_size(s->fields[f].db, &sz) == HS_SUCCESS)
			s->memory += sz;
	}
	return s;
fail:
	gw_match_set_free(s);
	return NULL;
}

void
gw_match_set_free(struct gw_match_set *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	for (i = 0; s->workers != NULL && i < s->n_workers; i++) {
		if (s->workers[i] == NULL)
			continue;
		hs_free_scratch(s->workers[i]->scratch);
		free(s->workers[i]);
	}
	for (i = 0; s->fields != NULL && i < s->n_fields; i++)
		hs_free_database(s->fields[i].db);
	free(s->workers);
	free(s->fields);
	free(s->present_atoms);
	free(s->header_index);
	free(s->query_index);
	free(s->ports);
	free(s->port_first);
	free(s->port_atoms);
	free(s->ref_first);
	free(s->refs);
	free(s->clause_route);
	free(s->clause_need);
	free(s->negonly);
	free(s->names);
	free(s);
}

size_t
gw_match_set_memory(const struct gw_match_set *set)
{
	return set->memory;
}

uint32_t
gw_match_set_condition_count(const struct gw_match_set *set)
{
	return set->n_atoms;
}

uint32_t
gw_match_set_database_count(const struct gw_match_set *set)
{
	return set->n_databases;
}
