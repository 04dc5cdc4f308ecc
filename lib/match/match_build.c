/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compile a builder into an immutable match set: drop clauses that can
 * never win, index clauses by their trigger atom, hash each field's exact
 * and prefix literals into tables, compile a Hyperscan database of each
 * field's regexes and allocate each worker's area (scratch included), so
 * that a lookup never allocates.
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

/*
 * Hyperscan expression for a regex atom (caller frees): anchored at both
 * ends for RE2 FullMatch semantics, with \z rather than $ (which would
 * also accept a trailing newline).
 */
static char *
regex_expression(const struct match_atom *a)
{
	size_t len = strlen(a->value) + 16;
	char *p = malloc(len);

	if (p != NULL)
		snprintf(p, len, "^(?:%s)\\z", a->value);
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

/* Compile regex atoms @p ids of field @p fi into one database. */
static int
compile_field(const struct gw_match_set_builder *b, uint32_t fi,
	      const uint32_t *ids, uint32_t n, hs_database_t **db,
	      char *err, size_t errlen)
{
	char **exprs = calloc(n, sizeof(*exprs));
	unsigned int *flags = calloc(n, sizeof(*flags));
	hs_compile_error_t *cerr = NULL;
	char fname[160];
	hs_error_t hrc;
	uint32_t i;
	int rc = 0;

	field_describe(&b->fields[fi], fname, sizeof(fname));
	if (exprs == NULL || flags == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct match_atom *a = &b->atoms[ids[i]];

		flags[i] = a->caseless ? HS_FLAG_CASELESS : 0;
		/* each regex atom is reported once per scan */
		flags[i] |= HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
		exprs[i] = regex_expression(a);
		if (exprs[i] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	hrc = match_db_get((const char *const *)exprs, flags, ids, n, db, &cerr);
	if (hrc == HS_NOMEM) {
		hs_free_compile_error(cerr);
		rc = -ENOMEM;
	} else if (hrc != HS_SUCCESS) {
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

/* (route, index) pairs, to put clauses in route order. */
static int
pair_cmp(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sort and deduplicate the condition ids of builder clause @p bc into
 * @p out. Returns their number, or 0 when the clause asks for a condition
 * and its negation (it can never hold).
 */
static uint32_t
clause_conditions(const struct gw_match_set_builder *b,
		  const struct match_bclause *bc, uint32_t *out)
{
	uint32_t i, n = 0;

	memcpy(out, b->cond_ids + bc->first, bc->n * sizeof(*out));
	qsort(out, bc->n, sizeof(*out), u32_cmp);
	for (i = 0; i < bc->n; i++) {
		if (n > 0 && out[n - 1] == out[i])
			continue; /* the same condition twice */
		/* X and not X sort next to each other: atom << 1 | neg */
		if (n > 0 && (out[n - 1] >> 1) == (out[i] >> 1))
			return 0;
		out[n++] = out[i];
	}
	return n;
}

/*
 * Keep the clauses that can win, in route order: drop those of routes at
 * or after the first catch-all and the impossible ones. Pick each
 * clause's trigger atom and index clauses by trigger.
 */
static int
index_clauses(struct gw_match_set *s, const struct gw_match_set_builder *b)
{
	uint32_t *shared = NULL, *trig_of = NULL, *fill = NULL, *uses = NULL;
	uint64_t *order = NULL;
	uint32_t c, i, k, n_ids = 0, n_kept = 0, n_trig = 0;
	int rc = -ENOMEM;

	s->catchall_route = MATCH_NO_ROUTE;
	for (c = 0; c < b->n_clauses; c++)
		if (b->clauses[c].n == 0 && b->clauses[c].route < s->catchall_route)
			s->catchall_route = b->clauses[c].route;

	order = malloc((b->n_clauses + 1) * sizeof(*order));
	shared = calloc(b->n_atoms + 1, sizeof(*shared));
	fill = calloc(b->n_atoms + 1, sizeof(*fill));
	uses = calloc(b->n_atoms + 1, sizeof(*uses));
	s->atom_route = malloc((b->n_atoms + 1) * sizeof(*s->atom_route));
	trig_of = malloc((b->n_clauses + 1) * sizeof(*trig_of));
	s->atom_used = calloc(b->n_atoms + 1, sizeof(*s->atom_used));
	s->clause_route = malloc((b->n_clauses + 1) * sizeof(*s->clause_route));
	s->clause_first = malloc((b->n_clauses + 1) * sizeof(*s->clause_first));
	s->clause_conds = malloc((b->n_cond_ids + 1) * sizeof(*s->clause_conds));
	s->negonly = malloc((b->n_clauses + 1) * sizeof(*s->negonly));
	s->trig_first = calloc(b->n_atoms + 2, sizeof(*s->trig_first));
	if (order == NULL || shared == NULL || fill == NULL || uses == NULL ||
	    s->atom_route == NULL ||
	    trig_of == NULL || s->atom_used == NULL || s->clause_route == NULL ||
	    s->clause_first == NULL || s->clause_conds == NULL ||
	    s->negonly == NULL || s->trig_first == NULL)
		goto out;

	for (c = 0; c < b->n_clauses; c++)
		if (b->clauses[c].n > 0 && b->clauses[c].route < s->catchall_route)
			order[n_kept++] = (uint64_t)b->clauses[c].route << 32 | c;
	qsort(order, n_kept, sizeof(*order), pair_cmp);

	/* conditions of the kept clauses, in route order */
	for (c = 0, k = 0; c < n_kept; c++) {
		const struct match_bclause *bc = &b->clauses[(uint32_t)order[c]];
		uint32_t n = clause_conditions(b, bc, s->clause_conds + n_ids);

		if (n == 0)
			continue;
		s->clause_route[k] = bc->route;
		s->clause_first[k] = n_ids;
		for (i = 0; i < n; i++) {
			uint32_t id = s->clause_conds[n_ids + i];

			s->atom_used[id >> 1] = 1;
			uses[id >> 1]++;
			if (!(id & MATCH_COND_NEG))
				shared[id >> 1]++;
		}
		n_ids += n;
		k++;
	}
	n_kept = k;
	s->clause_first[n_kept] = n_ids;
	s->n_clauses = n_kept;

	/* trigger: the clause's positive atom fewest clauses share */
	for (c = 0; c < n_kept; c++) {
		uint32_t best = MATCH_NO_ROUTE;

		for (i = s->clause_first[c]; i < s->clause_first[c + 1]; i++) {
			uint32_t id = s->clause_conds[i];

			if (!(id & MATCH_COND_NEG) &&
			    (best == MATCH_NO_ROUTE || shared[id >> 1] < shared[best]))
				best = id >> 1;
		}
		trig_of[c] = best;
		if (best == MATCH_NO_ROUTE)
			s->negonly[s->n_negonly++] = c;
		else
			s->trig_first[best]++;
	}
	/* counts -> offsets; filling in route order keeps lists sorted */
	for (i = 0; i <= b->n_atoms; i++) {
		uint32_t cnt = s->trig_first[i];

		s->trig_first[i] = n_trig;
		n_trig += cnt;
	}
	s->trig = malloc((n_trig + 1) * sizeof(*s->trig));
	if (s->trig == NULL)
		goto out;
	for (c = 0; c < n_kept; c++) {
		struct match_trig *t;

		if (trig_of[c] == MATCH_NO_ROUTE)
			continue;
		t = &s->trig[s->trig_first[trig_of[c]] + fill[trig_of[c]]++];
		t->route = s->clause_route[c];
		/* one condition, positive: it is the trigger */
		t->clause = c | (s->clause_first[c + 1] - s->clause_first[c] == 1 ?
				 MATCH_TRIG_ALONE : 0);
	}
	/* atoms that decide one route alone, for the literal tables */
	for (i = 0; i <= b->n_atoms; i++)
		s->atom_route[i] = MATCH_NO_ROUTE;
	for (c = 0; c < n_kept; c++)
		if (trig_of[c] != MATCH_NO_ROUTE && uses[trig_of[c]] == 1 &&
		    s->clause_first[c + 1] - s->clause_first[c] == 1)
			s->atom_route[trig_of[c]] = s->clause_route[c];

	s->memory += (size_t)(b->n_atoms + 1) * (1 + 2 * sizeof(uint32_t)) +
		     (size_t)(3 * n_kept + 2 + n_ids) * sizeof(uint32_t) +
		     (size_t)n_trig * sizeof(*s->trig);
	rc = 0;
out:
	free(order);
	free(shared);
	free(fill);
	free(uses);
	free(trig_of);
	return rc;
}

static inline bool
atom_live(const struct gw_match_set *s, uint32_t a)
{
	return s->atom_used[a] != 0;
}

/* Runtime name table for the header (or query) fields. */
static int
build_name_table(struct gw_match_set *s, uint8_t type,
		 struct match_name_slot **out, uint32_t *mask, uint32_t *count)
{
	struct match_name_slot *t;
	uint32_t n = 0, cap = 8, f, i;

	for (f = MF_FIXED_COUNT; f < s->n_fields; f++)
		if (s->fields[f].type == type && s->fields[f].used)
			n++;
	while (cap < n * 2)
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (f = MF_FIXED_COUNT; f < s->n_fields; f++) {
		const struct match_field *mf = &s->fields[f];
		uint32_t h;

		if (mf->type != type || !mf->used)
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

/* How a live atom is tested, which decides the list it goes to. */
enum atom_group {
	GROUP_PRESENT = 0, /* presence */
	GROUP_EMPTY,       /* exact "": holds when the value is empty */
	GROUP_LITERAL,     /* exact or prefix literal: literal tables */
	GROUP_REGEX,       /* regex database */
	GROUP_COUNT,
};

static enum atom_group
atom_group(const struct match_atom *a)
{
	switch (a->kind) {
	case GW_MATCH_PRESENT:
		return GROUP_PRESENT;
	case GW_MATCH_REGEX:
		return GROUP_REGEX;
	default:
		return a->value[0] == '\0' ? GROUP_EMPTY : GROUP_LITERAL;
	}
}

static int
len_cmp(const void *a, const void *b)
{
	return u32_cmp(&((const struct match_lit_len *)a)->len,
		       &((const struct match_lit_len *)b)->len);
}

/*
 * Hash the literal atoms @p ids (all caseless, or none) into table @p t;
 * their first bytes go to the slot, the rest to s->lit_values at
 * *@p voff. Open addressing at a load of at most 3/4.
 */
static int
build_lit_table(struct gw_match_set *s, const struct gw_match_set_builder *b,
		struct match_lit_table *t, const uint32_t *ids, uint32_t n,
		bool fold, uint32_t *voff)
{
	uint32_t cap = 16, i, k, n_lens = 0;
	uint32_t flags, twin;
	unsigned char last;

	if (n == 0)
		return 0;
	while (cap * 3 < n * 4)
		cap *= 2;
	/* line-aligned (cap >= 16): a slot never straddles two lines */
	t->slots = aligned_alloc(64, cap * sizeof(*t->slots));
	t->lens = malloc(n * sizeof(*t->lens));
	t->end_mask = calloc(256, sizeof(*t->end_mask));
	if (t->slots == NULL || t->lens == NULL || t->end_mask == NULL)
		return -ENOMEM;
	memset(t->slots, 0, cap * sizeof(*t->slots));
	t->mask = cap - 1;
	for (i = 0; i < n; i++) {
		const struct match_atom *a = &b->atoms[ids[i]];
		uint32_t len = (uint32_t)strlen(a->value), h = MATCH_LIT_BASIS;
		char *v = s->lit_values + *voff;

		for (k = 0; k < len; k++) {
			unsigned char c = (unsigned char)a->value[k];

			if (fold)
				c = match_lower(c);
			v[k] = (char)c;
			h = match_lit_step(h, c);
		}
		v[len] = '\0';
		twin = 0;
		for (k = match_lit_home(h, t->mask); t->slots[k].len != 0;
		     k = (k + 1) & t->mask) {
			struct match_lit_slot *o = &t->slots[k];

			if (o->hash == h && MATCH_LIT_LEN(o->len) == len &&
			    memcmp(s->lit_values + o->value, v, len) == 0) {
				o->len |= MATCH_LIT_TWIN;
				twin = MATCH_LIT_TWIN;
			}
		}
		flags = twin;
		t->slots[k].hash = h;
		t->slots[k].value = *voff;
		if (s->atom_route[ids[i]] != MATCH_NO_ROUTE) {
			t->slots[k].target = s->atom_route[ids[i]];
			flags |= MATCH_LIT_ROUTE;
		} else {
			t->slots[k].target = ids[i];
		}
		*voff += len + 1;
		memcpy(t->slots[k].head, v,
		       len < MATCH_LIT_INLINE ? len : MATCH_LIT_INLINE);
		last = (unsigned char)v[len - 1];
		if (a->kind == GW_MATCH_EXACT) {
			t->slots[k].len = len | MATCH_LIT_EXACT | flags;
			if (len > t->max_exact)
				t->max_exact = len;
			t->exact_last[last >> 6] |= 1ULL << (last & 63);
		} else if (len <= MATCH_LIT_SHORT) {
			t->slots[k].len = len | flags;
			t->end_mask[last] |= 1ULL << (len - 1);
			if (len > t->short_max)
				t->short_max = len;
			if (t->short_min == 0 || len < t->short_min)
				t->short_min = len;
		} else {
			struct match_lit_len *ll = &t->lens[n_lens++];

			t->slots[k].len = len | flags;
			memset(ll, 0, sizeof(*ll));
			ll->len = len;
			ll->last[last >> 6] |= 1ULL << (last & 63);
		}
	}
	/* distinct prefix lengths, ascending, with all their last bytes */
	qsort(t->lens, n_lens, sizeof(*t->lens), len_cmp);
	for (i = 0, k = 0; i < n_lens; i++) {
		uint32_t j;

		if (k > 0 && t->lens[k - 1].len == t->lens[i].len) {
			for (j = 0; j < 4; j++)
				t->lens[k - 1].last[j] |= t->lens[i].last[j];
			continue;
		}
		t->lens[k++] = t->lens[i];
	}
	t->n_lens = k;
	if (k > 0 && k < n) {
		/* a few distinct lengths: give the rest back */
		struct match_lit_len *shrunk = realloc(t->lens, k * sizeof(*t->lens));

		if (shrunk != NULL)
			t->lens = shrunk;
	}
	s->memory += cap * sizeof(*t->slots) +
		     (k > 0 && k < n ? k : n) * sizeof(*t->lens);
	if (t->short_max == 0) {
		/* no short prefix literal: the pass has nothing to look at */
		free(t->end_mask);
		t->end_mask = NULL;
	} else {
		s->memory += 256 * sizeof(*t->end_mask);
	}
	return 0;
}

/* Literal atoms @p ids of one field into its two tables. */
static int
build_lit_tables(struct gw_match_set *s, const struct gw_match_set_builder *b,
		 struct match_field *mf, uint32_t *ids, uint32_t n,
		 uint32_t *voff)
{
	uint32_t i, n_fold = 0;
	int rc;

	/* caseless atoms first */
	for (i = 0; i < n; i++)
		if (b->atoms[ids[i]].caseless) {
			uint32_t x = ids[n_fold];

			ids[n_fold++] = ids[i];
			ids[i] = x;
		}
	rc = build_lit_table(s, b, &mf->lit[MATCH_LIT_FOLD], ids, n_fold, true,
			     voff);
	if (rc == 0)
		rc = build_lit_table(s, b, &mf->lit[MATCH_LIT_CASE], ids + n_fold,
				     n - n_fold, false, voff);
	return rc;
}

/* Copy header/query names into one block the fields point into. */
static int
copy_names(struct gw_match_set *s, const struct gw_match_set_builder *b)
{
	uint32_t f, names_len = 0, o = 0;

	for (f = 0; f < b->n_fields; f++)
		names_len += b->fields[f].name_len + 1;
	s->names = malloc(names_len + 1);
	if (s->names == NULL)
		return -ENOMEM;
	s->memory += names_len + 1;
	for (f = 0; f < b->n_fields; f++) {
		s->fields[f].type = b->fields[f].type;
		if (b->fields[f].name == NULL)
			continue;
		memcpy(s->names + o, b->fields[f].name, b->fields[f].name_len + 1);
		s->fields[f].name = s->names + o;
		s->fields[f].name_len = b->fields[f].name_len;
		o += b->fields[f].name_len + 1;
	}
	return 0;
}

/*
 * Fields: names, presence and empty-value lists, and per field literal
 * tables and one regex database when it has such atoms.
 */
static int
build_fields(struct gw_match_set *s, const struct gw_match_set_builder *b,
	     char *err, size_t errlen)
{
	/* count[f * GROUP_COUNT + g], then the start offset of each group */
	uint32_t *count = NULL, *first = NULL, *ids = NULL;
	uint32_t a, f, g, o, n_list = 0, voff = 0;
	size_t values_len = 1;
	int rc = -ENOMEM;

	s->n_fields = b->n_fields;
	s->fields = calloc(b->n_fields, sizeof(*s->fields));
	count = calloc((size_t)b->n_fields * GROUP_COUNT, sizeof(*count));
	first = calloc((size_t)b->n_fields * GROUP_COUNT, sizeof(*first));
	ids = malloc((b->n_atoms + 1) * sizeof(*ids));
	if (s->fields == NULL || count == NULL || first == NULL || ids == NULL)
		goto out;
	s->memory += b->n_fields * sizeof(*s->fields);
	if (copy_names(s, b) < 0)
		goto out;

	for (a = 0; a < b->n_atoms; a++) {
		const struct match_atom *at = &b->atoms[a];

		if (!atom_live(s, a))
			continue;
		if (at->field == MATCH_FIELD_NONE) {
			s->n_ports++; /* counted here, deduplicated later */
			continue;
		}
		count[at->field * GROUP_COUNT + atom_group(at)]++;
		s->fields[at->field].used = 1;
	}
	for (f = 0, o = 0; f < b->n_fields; f++)
		for (g = 0; g < GROUP_COUNT; g++) {
			first[f * GROUP_COUNT + g] = o;
			o += count[f * GROUP_COUNT + g];
			if (g < GROUP_LITERAL)
				n_list += count[f * GROUP_COUNT + g];
			count[f * GROUP_COUNT + g] = 0;
		}
	for (a = 0; a < b->n_atoms; a++) {
		const struct match_atom *at = &b->atoms[a];
		uint32_t k;

		if (!atom_live(s, a) || at->field == MATCH_FIELD_NONE)
			continue;
		k = at->field * GROUP_COUNT + atom_group(at);
		ids[first[k] + count[k]++] = a;
		if (atom_group(at) == GROUP_LITERAL)
			values_len += strlen(at->value) + 1;
	}
	s->lit_values = malloc(values_len);
	if (s->lit_values == NULL)
		goto out;
	s->memory += values_len;

	/* presence and empty-value atoms: one list, two ranges per field */
	s->list_atoms = malloc((n_list + 1) * sizeof(*s->list_atoms));
	if (s->list_atoms == NULL)
		goto out;
	s->memory += (n_list + 1) * sizeof(*s->list_atoms);
	for (f = 0, o = 0; f < b->n_fields; f++) {
		struct match_field *mf = &s->fields[f];
		uint32_t kp = f * GROUP_COUNT + GROUP_PRESENT;
		uint32_t ke = f * GROUP_COUNT + GROUP_EMPTY;

		mf->present_first = o;
		mf->present_n = count[kp];
		memcpy(s->list_atoms + o, ids + first[kp], count[kp] * sizeof(*ids));
		o += count[kp];
		mf->empty_first = o;
		mf->empty_n = count[ke];
		memcpy(s->list_atoms + o, ids + first[ke], count[ke] * sizeof(*ids));
		o += count[ke];
	}

	for (f = 0; f < b->n_fields; f++) {
		uint32_t kl = f * GROUP_COUNT + GROUP_LITERAL;
		uint32_t kr = f * GROUP_COUNT + GROUP_REGEX;

		if (count[kl] > 0) {
			rc = build_lit_tables(s, b, &s->fields[f], ids + first[kl],
					      count[kl], &voff);
			if (rc < 0)
				goto out;
			s->n_databases++;
		}
		if (count[kr] > 0) {
			rc = compile_field(b, f, ids + first[kr], count[kr],
					   &s->fields[f].re_db, err, errlen);
			if (rc < 0)
				goto out_msg;
			s->n_databases++;
		}
	}
	rc = build_name_table(s, MF_HEADER, &s->header_index, &s->header_mask,
			      &s->n_header_fields);
	if (rc == 0)
		rc = build_name_table(s, MF_QUERY, &s->query_index, &s->query_mask,
				      &s->n_query_fields);
	/* uri prefix tests the whole :path: only these need it cut at '?' */
	s->split_query = s->fields[MF_PATH].used || s->n_query_fields > 0;
	for (f = 0; f < MF_FIXED_COUNT; f++)
		if (s->fields[f].used)
			s->fixed_used |= 1u << f;
out:
	if (rc == -ENOMEM)
		gw_err(err, errlen, "out of memory building a match set");
out_msg:
	free(count);
	free(first);
	free(ids);
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
	size_t off_stamps = align_up(sizeof(struct match_worker));
	size_t off_hits = off_stamps + align_up(s->n_atoms * sizeof(uint32_t));
	size_t off_fields = off_hits + align_up(s->n_atoms * sizeof(uint32_t));
	size_t off_touched = off_fields +
		align_up(s->n_fields * sizeof(struct match_field_state));
	size_t off_buffers = off_touched + align_up(s->n_fields * sizeof(uint32_t));
	/* join and decode buffers only when headers or queries are tested */
	bool named = s->n_header_fields > 0 || s->n_query_fields > 0;
	size_t total = off_buffers +
		(named ? align_up(MATCH_KEY_MAX + GW_MATCH_VALUE_MAX) : 0);
	hs_scratch_t *proto = NULL;
	size_t scratch_size = 0;
	uint32_t f, w;

	/* one scratch big enough for every database of the set */
	for (f = 0; f < s->n_fields; f++)
		if (s->fields[f].re_db != NULL &&
		    hs_alloc_scratch(s->fields[f].re_db, &proto) != HS_SUCCESS) {
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
		mw->atom_epoch = (uint32_t *)(base + off_stamps);
		mw->hits = (uint32_t *)(base + off_hits);
		mw->fields = (struct match_field_state *)(base + off_fields);
		mw->touched = (uint32_t *)(base + off_touched);
		if (named) {
			mw->key = base + off_buffers;
			mw->value = base + off_buffers + MATCH_KEY_MAX;
		}
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

		if (s->fields[f].re_db != NULL &&
		    hs_database_size(s->fields[f].re_db, &sz) == HS_SUCCESS)
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
	for (i = 0; s->fields != NULL && i < s->n_fields; i++) {
		uint32_t t;

		for (t = 0; t < MATCH_LIT_TABLES; t++) {
			free(s->fields[i].lit[t].slots);
			free(s->fields[i].lit[t].lens);
			free(s->fields[i].lit[t].end_mask);
		}
		match_db_put(s->fields[i].re_db);
	}
	free(s->workers);
	free(s->fields);
	free(s->list_atoms);
	free(s->lit_values);
	free(s->header_index);
	free(s->query_index);
	free(s->ports);
	free(s->port_first);
	free(s->port_atoms);
	free(s->atom_used);
	free(s->atom_route);
	free(s->clause_route);
	free(s->clause_first);
	free(s->clause_conds);
	free(s->trig_first);
	free(s->trig);
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
