/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-request lookup: test each referenced field once (literal tables,
 * then the regex database), stamping every satisfied atom with the
 * worker's epoch (so nothing is cleared between requests), then verify the
 * clauses the satisfied atoms trigger, in route order, and keep the lowest
 * route that holds. The cost follows what the request satisfies, not the
 * size of the rule set.
 */
#include <string.h>
#include <strings.h>

#include "gw_common.h"
#include "gw_match.h"
#include "match_private.h"

/* Stamp an atom as reported; remember it when it triggers clauses. */
static inline void
atom_hit(struct match_worker *w, uint32_t atom)
{
	const struct gw_match_set *s = w->set;

	if (w->atom_epoch[atom] == w->epoch)
		return;
	w->atom_epoch[atom] = w->epoch;
	if (s->trig_first[atom + 1] > s->trig_first[atom])
		w->hits[w->n_hits++] = atom;
}

/* Do all of clause @p c's conditions hold, given the stamps? */
static inline bool
clause_holds(const struct match_worker *w, uint32_t c)
{
	const struct gw_match_set *s = w->set;
	uint32_t i;

	for (i = s->clause_first[c]; i < s->clause_first[c + 1]; i++) {
		uint32_t id = s->clause_conds[i];
		bool hit = w->atom_epoch[id >> 1] == w->epoch;

		if (hit == ((id & MATCH_COND_NEG) != 0))
			return false;
	}
	return true;
}

/* Regex atoms are anchored at both ends: every report is a match. */
static int
on_regex(unsigned int id, unsigned long long from, unsigned long long to,
	 unsigned int flags, void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	atom_hit(ctx, id);
	return 0;
}

static inline bool
bytes_equal(const char *lit, const char *value, uint32_t len, bool fold)
{
	uint32_t i;

	if (!fold)
		return memcmp(lit, value, len) == 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)lit[i] != match_lower((unsigned char)value[i]))
			return false;
	return true;
}

/*
 * Case-sensitive compare of up to MATCH_LIT_INLINE bytes in two or four
 * word loads, overlapping rather than reading past either end.
 */
static inline bool
head_equal(const char *lit, const char *value, uint32_t len)
{
	uint64_t a, b, c, d;
	uint32_t x, y, u, v;

	if (len >= 8) {
		memcpy(&a, lit, 8);
		memcpy(&b, value, 8);
		memcpy(&c, lit + len - 8, 8);
		memcpy(&d, value + len - 8, 8);
		return ((a ^ b) | (c ^ d)) == 0;
	}
	if (len >= 4) {
		memcpy(&x, lit, 4);
		memcpy(&y, value, 4);
		memcpy(&u, lit + len - 4, 4);
		memcpy(&v, value + len - 4, 4);
		return ((x ^ y) | (u ^ v)) == 0;
	}
	for (x = 0; x < len; x++)
		if (lit[x] != value[x])
			return false;
	return true;
}

/* The slot's literal (@p len bytes) equals the start of @p value. */
static inline bool
lit_equal(const struct gw_match_set *s, const struct match_lit_slot *sl,
	  const char *value, uint32_t len, bool fold)
{
	if (len <= MATCH_LIT_INLINE && !fold)
		return head_equal(sl->head, value, len);
	if (len <= MATCH_LIT_INLINE)
		return bytes_equal(sl->head, value, len, fold);
	return bytes_equal(sl->head, value, MATCH_LIT_INLINE, fold) &&
	       bytes_equal(s->lit_values + sl->value + MATCH_LIT_INLINE,
			   value + MATCH_LIT_INLINE, len - MATCH_LIT_INLINE, fold);
}

/*
 * The literals of table @p t equal to the first @p len bytes of @p value
 * (hash @p h): prefix ones, and exact ones when @p len is the whole value.
 */
static inline void
lit_probe(struct match_worker *w, const struct match_lit_table *t,
	  uint32_t h, const char *value, uint32_t len, bool whole, bool fold)
{
	uint32_t k;

	for (k = match_lit_home(h, t->mask); t->slots[k].len != 0;
	     k = (k + 1) & t->mask) {
		const struct match_lit_slot *sl = &t->slots[k];

		if (sl->hash != h || MATCH_LIT_LEN(sl->len) != len ||
		    ((sl->len & MATCH_LIT_EXACT) && !whole) ||
		    !lit_equal(w->set, sl, value, len, fold))
			continue;
		if (!(sl->len & MATCH_LIT_ROUTE))
			atom_hit(w, sl->target);
		else if (sl->target < w->direct_best)
			w->direct_best = sl->target;
		/* no other slot holds these bytes: nothing more to find */
		if (!(sl->len & MATCH_LIT_TWIN))
			return;
	}
}

static inline unsigned char
lit_byte(const char *value, uint32_t i, bool fold)
{
	unsigned char c = (unsigned char)value[i];

	return fold ? match_lower(c) : c;
}

/*
 * Every literal of @p t that starts @p value (prefix) or equals it
 * (exact): one pass of the hash over the value, a probe at each prefix
 * length where the value's byte ends some literal of that length (short
 * ones from the byte's length mask as the pass goes, longer ones from the
 * list of their lengths), and one at the end for exact literals.
 */
static inline __attribute__((always_inline)) void
lit_scan(struct match_worker *w, const struct match_lit_table *t,
	 const char *value, uint32_t len, bool fold)
{
	uint32_t h = MATCH_LIT_BASIS, pos = 0, i;
	uint32_t n = len < t->short_max ? len : t->short_max;
	/* short_min - 1 wraps when there is no short prefix: then m = n = 0 */
	uint32_t m = n < t->short_min - 1 ? n : t->short_min - 1;
	bool at_end = false;

	/* no literal ends before the shortest: hash only */
	for (; pos < m; pos++)
		h = match_lit_step(h, lit_byte(value, pos, fold));
	for (; pos < n; pos++) {
		unsigned char c = lit_byte(value, pos, fold);

		h = match_lit_step(h, c);
		if ((t->end_mask[c] >> pos) & 1) {
			at_end = pos + 1 == len;
			lit_probe(w, t, h, value, pos + 1, at_end, fold);
		}
	}
	for (i = 0; i < t->n_lens && t->lens[i].len <= len; i++) {
		uint32_t l = t->lens[i].len;

		if (!match_byte_in(t->lens[i].last, lit_byte(value, l - 1, fold)))
			continue;
		for (; pos < l; pos++)
			h = match_lit_step(h, lit_byte(value, pos, fold));
		at_end = l == len;
		lit_probe(w, t, h, value, l, at_end, fold);
	}
	if (at_end || len > t->max_exact ||
	    !match_byte_in(t->exact_last, lit_byte(value, len - 1, fold)))
		return;
	for (; pos < len; pos++)
		h = match_lit_step(h, lit_byte(value, pos, fold));
	lit_probe(w, t, h, value, len, true, fold);
}

/* One copy per case mode: the pass over the value tests no flag. */
static void
lit_scan_case(struct match_worker *w, const struct match_lit_table *t,
	      const char *value, uint32_t len)
{
	lit_scan(w, t, value, len, false);
}

static void
lit_scan_fold(struct match_worker *w, const struct match_lit_table *t,
	      const char *value, uint32_t len)
{
	lit_scan(w, t, value, len, true);
}

/* Field @p f is present with @p value: run every test of the field. */
static inline void
scan_field(struct match_worker *w, const struct match_field *f,
	   const char *value, uint32_t len)
{
	const struct gw_match_set *s = w->set;
	uint32_t i;

	if (value == NULL)
		value = "";
	for (i = 0; i < f->present_n; i++)
		atom_hit(w, s->list_atoms[f->present_first + i]);
	if (len == 0) {
		for (i = 0; i < f->empty_n; i++)
			atom_hit(w, s->list_atoms[f->empty_first + i]);
	}
	if (len > 0 && f->lit[MATCH_LIT_CASE].slots != NULL)
		lit_scan_case(w, &f->lit[MATCH_LIT_CASE], value, len);
	if (len > 0 && f->lit[MATCH_LIT_FOLD].slots != NULL)
		lit_scan_fold(w, &f->lit[MATCH_LIT_FOLD], value, len);
	if (f->re_db != NULL &&
	    hs_scan(f->re_db, value, len, 0, w->scratch, on_regex, w) !=
	    HS_SUCCESS)
		w->scan_errors++;
}

static inline uint32_t
name_lookup(const struct gw_match_set *s, const struct match_name_slot *t,
	    uint32_t mask, const char *name, uint32_t len, int fold)
{
	uint32_t h = (uint32_t)match_hash(name, len, fold), i;

	for (i = h & mask; t[i].field1 != 0; i = (i + 1) & mask) {
		const struct match_field *f = &s->fields[t[i].field1 - 1];

		if (t[i].hash32 != h || f->name_len != len)
			continue;
		if (fold ? strncasecmp(f->name, name, len) == 0 :
			   memcmp(f->name, name, len) == 0)
			return t[i].field1 - 1;
	}
	return UINT32_MAX;
}

/*
 * All values of a repeated header joined by ',' (Envoy's view), in the
 * worker's buffer. Falls back to the first value if they do not fit.
 */
static void
scan_repeated_header(struct match_worker *w, const struct match_field *f,
		     const struct match_field_state *fs,
		     const struct gw_match_request *req)
{
	const struct gw_match_header *h = &req->headers[fs->first];
	uint32_t i, len = 0, seen = 0;

	for (i = fs->first; i < req->n_headers && seen < fs->count; i++) {
		const struct gw_match_header *x = &req->headers[i];

		if (x->name_len != f->name_len ||
		    strncasecmp(x->name, f->name, f->name_len) != 0)
			continue;
		if (len + (seen > 0) + x->value_len > GW_MATCH_VALUE_MAX) {
			scan_field(w, f, h->value, h->value_len);
			return;
		}
		if (seen > 0)
			w->value[len++] = ',';
		memcpy(w->value + len, x->value, x->value_len);
		len += x->value_len;
		seen++;
	}
	scan_field(w, f, w->value, len);
}

static void
scan_headers(struct match_worker *w, const struct gw_match_request *req)
{
	const struct gw_match_set *s = w->set;
	uint32_t i, n_touched = 0;

	for (i = 0; i < req->n_headers; i++) {
		const struct gw_match_header *h = &req->headers[i];
		uint32_t f = name_lookup(s, s->header_index, s->header_mask,
					 h->name, h->name_len, 1);
		struct match_field_state *fs;

		if (f == UINT32_MAX)
			continue;
		fs = &w->fields[f];
		if (fs->epoch != w->epoch) {
			fs->epoch = w->epoch;
			fs->first = i;
			fs->count = 1;
			w->touched[n_touched++] = f;
		} else {
			fs->count++;
		}
	}
	for (i = 0; i < n_touched; i++) {
		const struct match_field *f = &s->fields[w->touched[i]];
		const struct match_field_state *fs = &w->fields[w->touched[i]];

		if (fs->count == 1)
			scan_field(w, f, req->headers[fs->first].value,
				   req->headers[fs->first].value_len);
		else
			scan_repeated_header(w, f, fs, req);
	}
}

static inline int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode @p len bytes into @p out (room for @p cap). Invalid
 * escapes stay as they are. Returns the decoded length, or UINT32_MAX when
 * it does not fit.
 */
static uint32_t
percent_decode(const char *in, uint32_t len, char *out, uint32_t cap)
{
	uint32_t i, o = 0;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (o == cap)
			return UINT32_MAX;
		if (in[i] == '%' && i + 2 < len &&
		    (hi = hex_value(in[i + 1])) >= 0 &&
		    (lo = hex_value(in[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static void
scan_query(struct match_worker *w, const char *q, uint32_t len)
{
	const struct gw_match_set *s = w->set;
	uint32_t pos = 0;

	while (pos <= len) {
		const char *seg = q + pos, *amp, *eq, *key, *val;
		uint32_t seg_len, key_len, val_len, f;
		struct match_field_state *fs;

		amp = memchr(seg, '&', len - pos);
		seg_len = amp ? (uint32_t)(amp - seg) : len - pos;
		pos += seg_len + 1;
		if (seg_len == 0)
			continue;
		eq = memchr(seg, '=', seg_len);
		key = seg;
		key_len = eq ? (uint32_t)(eq - seg) : seg_len;
		val = eq ? eq + 1 : seg + seg_len;
		val_len = eq ? seg_len - key_len - 1 : 0;
		if (memchr(key, '%', key_len) != NULL) {
			key_len = percent_decode(key, key_len, w->key,
						 MATCH_KEY_MAX);
			if (key_len == UINT32_MAX)
				continue; /* longer than any configured name */
			key = w->key;
		}
		f = name_lookup(s, s->query_index, s->query_mask, key, key_len, 0);
		if (f == UINT32_MAX)
			continue;
		fs = &w->fields[f];
		if (fs->epoch == w->epoch)
			continue; /* the first occurrence counts */
		fs->epoch = w->epoch;
		if (memchr(val, '%', val_len) != NULL) {
			uint32_t n = percent_decode(val, val_len, w->value,
						    GW_MATCH_VALUE_MAX);

			if (n != UINT32_MAX) {
				val = w->value;
				val_len = n;
			}
		}
		scan_field(w, &s->fields[f], val, val_len);
	}
}

static void
scan_port(struct match_worker *w, uint16_t port)
{
	const struct gw_match_set *s = w->set;
	uint32_t lo = 0, hi = s->n_ports, i;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->n_ports || s->ports[lo] != port)
		return;
	for (i = s->port_first[lo]; i < s->port_first[lo + 1]; i++)
		atom_hit(w, s->port_atoms[i]);
}

static inline void
scan_fixed(struct match_worker *w, uint32_t used, uint32_t type,
	   const char *value, uint32_t len)
{
	if (((used >> type) & 1) && value != NULL)
		scan_field(w, &w->set->fields[type], value, len);
}

int
gw_match_set_eval(const struct gw_match_set *s, unsigned int worker_id,
		  const struct gw_match_request *req)
{
	struct match_worker *w = s->workers[worker_id];
	uint32_t best = s->catchall_route, i, path_len = req->path_len, used;
	const char *q = NULL;

	if (GW_UNLIKELY(++w->epoch == 0)) {
		/* 2^32 lookups later: forget every stamp once */
		memset(w->atom_epoch, 0, s->n_atoms * sizeof(*w->atom_epoch));
		memset(w->fields, 0, s->n_fields * sizeof(*w->fields));
		w->epoch = 1;
	}
	w->n_hits = 0;
	w->direct_best = MATCH_NO_ROUTE;

	if (req->path != NULL && s->split_query) {
		q = memchr(req->path, '?', req->path_len);
		if (q != NULL)
			path_len = (uint32_t)(q - req->path);
	}
	used = s->fixed_used;
	scan_fixed(w, used, MF_PATH, req->path, path_len);
	scan_fixed(w, used, MF_PATH_FULL, req->path, req->path_len);
	scan_fixed(w, used, MF_METHOD, req->method, req->method_len);
	scan_fixed(w, used, MF_SCHEME, req->scheme, req->scheme_len);
	scan_fixed(w, used, MF_AUTHORITY, req->authority, req->authority_len);
	if (s->n_header_fields > 0)
		scan_headers(w, req);
	if (s->n_query_fields > 0 && q != NULL)
		scan_query(w, q + 1, req->path_len - path_len - 1);
	if (s->n_ports > 0 && req->port != 0)
		scan_port(w, req->port);

	if (w->direct_best < best)
		best = w->direct_best;
	/* each trigger's clauses in route order: the first that holds */
	for (i = 0; i < w->n_hits; i++) {
		uint32_t a = w->hits[i], t;

		for (t = s->trig_first[a]; t < s->trig_first[a + 1]; t++) {
			const struct match_trig *e = &s->trig[t];

			if (e->route >= best)
				break;
			if ((e->clause & MATCH_TRIG_ALONE) ||
			    clause_holds(w, e->clause)) {
				best = e->route;
				break;
			}
		}
	}
	/* clauses of only negated conditions hold unless one was reported */
	for (i = 0; i < s->n_negonly; i++) {
		uint32_t c = s->negonly[i];

		if (s->clause_route[c] >= best)
			break;
		if (clause_holds(w, c)) {
			best = s->clause_route[c];
			break;
		}
	}
	return best == MATCH_NO_ROUTE ? -1 : (int)best;
}
