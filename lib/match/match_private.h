/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MATCH_PRIVATE_H
#define MATCH_PRIVATE_H

/*
 * Internals of lib/match shared by the builder (match_builder.c), the
 * compiler (match_build.c) and the lookup (match_eval.c).
 *
 * Vocabulary:
 * - atom: one distinct test on one field (a Hyperscan pattern, a presence
 *   test or a port number). Hyperscan pattern ids are atom ids.
 * - condition id: atom << 1 | negated.
 * - clause: AND of conditions, belonging to one route.
 *
 * A lookup stamps each reported atom with the worker's epoch and collects
 * those that trigger clauses; then, for each, it verifies its clauses in
 * route order against the stamps, stopping at the first that holds or at
 * the best route found so far. A condition shared by many routes (method
 * GET, prefix /) triggers none of them unless it is all they test, so the
 * work follows what the request satisfies, not the number of routes.
 */

#include <ctype.h>
#include <stdint.h>

#include <hs/hs.h>

#include "gw_match.h"

/* Fields with a fixed slot; header and query fields follow them. */
enum match_field_type {
	MF_PATH = 0,    /* :path before '?' (uri exact, regex) */
	MF_PATH_FULL,   /* :path with the query (uri prefix) */
	MF_METHOD,
	MF_SCHEME,
	MF_AUTHORITY,
	MF_FIXED_COUNT,
	MF_HEADER = MF_FIXED_COUNT,
	MF_QUERY,
};

/* Atom field of port atoms, which have no string field. */
#define MATCH_FIELD_NONE UINT32_MAX
/* "no route" inside the set */
#define MATCH_NO_ROUTE UINT32_MAX
/* match_lit_slot.len flag: an exact literal must also end the value. */
#define MATCH_LIT_EXACT (1u << 31)
/*
 * match_lit_slot.len flag: the literal's atom is all that one route's
 * clause tests and no other clause tests it (`uri: {prefix: /a/}`), so
 * the slot names the route and a lookup takes it without stamping.
 */
#define MATCH_LIT_ROUTE (1u << 30)
/*
 * match_lit_slot.len flag: another slot of the table holds the same
 * bytes (an exact and a prefix literal, or caseless literals equal once
 * lower-cased), so a probe goes on after this one matches; without it a
 * probe stops at its first match.
 */
#define MATCH_LIT_TWIN (1u << 29)
#define MATCH_LIT_LEN(x) \
	((x) & ~(MATCH_LIT_EXACT | MATCH_LIT_ROUTE | MATCH_LIT_TWIN))
/* Condition id bit: negated. */
#define MATCH_COND_NEG 1u
/* match_trig.clause flag: the trigger is the clause's only condition. */
#define MATCH_TRIG_ALONE (1u << 31)

struct match_trig {
	uint32_t route;
	uint32_t clause;   /* | MATCH_TRIG_ALONE */
};

/* FNV-1a, 32 bits, one byte at a time: literal tables hash prefixes. */
#define MATCH_LIT_BASIS 2166136261u

static inline uint32_t
match_lit_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * 16777619u;
}

/* Slot of a literal hash. */
static inline uint32_t
match_lit_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return h;
}

/*
 * First slot probed for a literal hash: an even one, so that the first
 * two probes read one cache line (slots are 32 bytes, the table 64-byte
 * aligned).
 */
static inline uint32_t
match_lit_home(uint32_t h, uint32_t mask)
{
	return match_lit_mix(h) & mask & ~1u;
}

static inline unsigned char
match_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* ---- builder ---- */

struct match_atom {
	uint32_t field;    /* builder field index, or MATCH_FIELD_NONE */
	uint8_t kind;      /* enum gw_match_kind */
	uint8_t caseless;
	uint16_t port;
	char *value;       /* NUL-terminated copy, "" when none */
	char *label;       /* first label given for it, or NULL */
	uint64_t hash;
};

struct match_bfield {
	uint8_t type;      /* enum match_field_type */
	char *name;        /* header (lower case) or query name; NULL if fixed */
	uint32_t name_len;
	uint64_t hash;
};

struct match_bclause {
	uint32_t route;
	uint32_t first;    /* into cond_ids */
	uint32_t n;
};

/* Open-addressing index of element numbers, keyed by their hash. */
struct match_hslot {
	uint64_t hash;
	uint32_t idx1;     /* element index + 1; 0 when free */
};

struct match_hindex {
	struct match_hslot *slots;
	uint32_t mask;
	uint32_t count;
};

struct gw_match_set_builder {
	struct match_atom *atoms;
	uint32_t n_atoms, cap_atoms;
	struct match_hindex atom_index;
	struct match_bfield *fields;
	uint32_t n_fields, cap_fields;
	struct match_hindex field_index;
	struct match_bclause *clauses;
	uint32_t n_clauses, cap_clauses;
	uint32_t *cond_ids;
	uint32_t n_cond_ids, cap_cond_ids;
};

/* ---- compiled set ---- */

/*
 * Exact and prefix literals of one field, hashed by value: a lookup
 * hashes the value once, byte by byte, and probes the table at each
 * distinct prefix length and at the value's end, so that its cost follows
 * the value's length and the number of distinct lengths, not the number
 * of literals (a Hyperscan literal database of 10,000 patterns costs a
 * thousand cycles of cache misses per scan on a busy worker).
 */
/* Literal bytes kept in the slot: most literals compare without a miss. */
#define MATCH_LIT_INLINE 16

struct match_lit_slot {
	uint32_t hash;    /* FNV-1a of the literal (lower-cased when caseless) */
	uint32_t target;  /* atom, or route with MATCH_LIT_ROUTE */
	/* literal length (> 0; 0 when free) | MATCH_LIT_EXACT, MATCH_LIT_ROUTE */
	uint32_t len;
	uint32_t value;   /* offset of the whole literal in set->lit_values */
	char head[MATCH_LIT_INLINE]; /* the literal's first bytes */
};
_Static_assert(sizeof(struct match_lit_slot) == 32,
	       "two literal slots per cache line");

/*
 * Prefix literals up to this long are found in the value's one pass: the
 * table keeps, per byte, the lengths (bit len - 1) of the prefix literals
 * ending with it, so the pass probes at position p when the value's byte
 * there ends some literal of length p + 1.
 */
#define MATCH_LIT_SHORT 64

/*
 * A length some longer prefix literals have, with the set of their last bytes:
 * "/api/", "/r1/", "/r2/" all end with '/', so a value is probed only at
 * the lengths where it has a byte that some literal of that length ends
 * with.
 */
struct match_lit_len {
	uint32_t len;
	uint64_t last[4];   /* bitmap of bytes (lower-cased when caseless) */
};

static inline bool
match_byte_in(const uint64_t set[4], unsigned char c)
{
	return (set[c >> 6] >> (c & 63)) & 1;
}

struct match_lit_table {
	struct match_lit_slot *slots; /* NULL when the field has none */
	uint32_t mask;
	uint32_t short_max; /* longest prefix literal <= MATCH_LIT_SHORT, or 0 */
	uint32_t short_min; /* shortest prefix literal, when short_max > 0 */
	uint64_t *end_mask; /* 256: byte -> lengths - 1 of short prefixes */
	uint32_t n_lens;    /* distinct prefix lengths > MATCH_LIT_SHORT, ascending */
	struct match_lit_len *lens;
	uint32_t max_exact; /* longest exact literal, 0 when none */
	uint64_t exact_last[4]; /* last bytes of the exact literals */
};

/* Literal tables of a field: case-sensitive, caseless (ignoreUriCase). */
enum { MATCH_LIT_CASE = 0, MATCH_LIT_FOLD, MATCH_LIT_TABLES };

struct match_field {
	struct match_lit_table lit[MATCH_LIT_TABLES];
	hs_database_t *re_db;   /* regexes, or NULL */
	uint32_t present_first; /* presence atoms, into set->list_atoms */
	uint32_t present_n;
	uint32_t empty_first;   /* exact "" atoms: hold for an empty value */
	uint32_t empty_n;
	uint8_t type;
	uint8_t used;           /* has any atom at all */
	const char *name;       /* header/query fields: points into the set */
	uint32_t name_len;
};

struct match_field_state {
	uint32_t epoch;
	uint32_t first;   /* index of its first header */
	uint32_t count;   /* occurrences */
};

/*
 * One per worker, cache-line aligned and allocated apart from the others
 * so that workers never write the same line.
 */
struct match_worker {
	const struct gw_match_set *set;
	hs_scratch_t *scratch;
	uint32_t epoch;
	uint32_t n_hits;
	uint32_t direct_best;               /* lowest MATCH_LIT_ROUTE route */
	uint64_t scan_errors;
	uint32_t *atom_epoch;               /* n_atoms: reported in this epoch */
	uint32_t *hits;                     /* reported atoms that trigger */
	struct match_field_state *fields;   /* n_fields */
	uint32_t *touched;                  /* fields seen in this request */
	/* only for sets testing headers or query parameters: */
	char *key;        /* MATCH_KEY_MAX: decoded query parameter name */
	char *value;      /* GW_MATCH_VALUE_MAX: joined header, decoded value */
} __attribute__((aligned(64)));

/* Longest query parameter name decoded for a lookup. */
#define MATCH_KEY_MAX 256

struct gw_match_set {
	uint32_t n_fields;
	struct match_field *fields;
	uint32_t *list_atoms;   /* presence and empty-value atoms by field */
	char *lit_values;       /* literals of the literal tables */
	/* header and query fields by name */
	struct match_name_slot *header_index;
	uint32_t header_mask;
	struct match_name_slot *query_index;
	uint32_t query_mask;
	uint32_t n_header_fields;
	uint32_t n_query_fields;
	/* port atoms: sorted distinct ports, CSR into port_atoms */
	uint32_t n_ports;
	uint16_t *ports;
	uint32_t *port_first;   /* n_ports + 1 */
	uint32_t *port_atoms;
	uint32_t n_atoms;
	uint8_t *atom_used;     /* some kept clause tests it */
	/* per atom: the route it decides alone (MATCH_LIT_ROUTE), or none */
	uint32_t *atom_route;
	/* clauses that can win, by increasing route, with their conditions */
	uint32_t n_clauses;
	uint32_t *clause_route;
	uint32_t *clause_first; /* n_clauses + 1, into clause_conds */
	uint32_t *clause_conds; /* condition ids: atom << 1 | negated */
	/*
	 * Each clause with a positive condition is triggered by one of its
	 * atoms, the one fewest clauses share: atom -> its clauses (CSR, by
	 * increasing route). An entry holds the route, so that a clause whose
	 * only condition is its trigger is decided without reading it.
	 */
	uint32_t *trig_first;   /* n_atoms + 1 */
	struct match_trig *trig;
	/* clauses with only negated conditions, by increasing route */
	uint32_t *negonly;
	uint32_t n_negonly;
	uint32_t catchall_route; /* lowest route without conditions */
	bool split_query;        /* a field needs :path cut at '?' */
	uint32_t fixed_used;     /* bit MF_*: a fixed field some atom tests */
	uint32_t n_databases;
	uint32_t n_workers;
	struct match_worker **workers;
	char *names;             /* field names */
	size_t memory;
};

/* FNV-1a over bytes, lower-cased when @p fold: header names. */
static inline uint64_t
match_hash(const char *s, uint32_t len, int fold)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (fold && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + ('a' - 'A'));
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return h;
}

/* Grow an array of @p size-byte elements to hold @p need; 0 or -ENOMEM. */
int match_grow(void **arr, uint32_t *cap, uint32_t need, size_t size);

/*
 * Index helpers. find returns the element for which eq(ctx, idx) holds
 * among those with @p hash, or UINT32_MAX; add returns 0 or -ENOMEM.
 */
void match_hindex_free(struct match_hindex *h);
uint32_t match_hindex_find(const struct match_hindex *h, uint64_t hash,
			   int (*eq)(const void *ctx, uint32_t idx),
			   const void *ctx);
int match_hindex_add(struct match_hindex *h, uint64_t hash, uint32_t idx);

/* Runtime name table of a set: slot = hash32 and field index + 1. */
struct match_name_slot {
	uint32_t hash32;
	uint32_t field1;
};

/*
 * The Hyperscan database for these compile inputs (hs_compile_multi's, in
 * block mode): a database another live set compiled from exactly the same
 * inputs, or a new one. Release it with match_db_put, never
 * hs_free_database. Returns hs_compile_multi's result.
 */
hs_error_t match_db_get(const char *const *exprs, const unsigned int *flags,
			const unsigned int *ids, uint32_t n, hs_database_t **db,
			hs_compile_error_t **cerr);
void match_db_put(hs_database_t *db);

#endif /* MATCH_PRIVATE_H */
