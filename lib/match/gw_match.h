/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_MATCH_H
#define GW_MATCH_H

/**
 * @file
 * Request match conditions compiled into hash tables (exact and prefix
 * literals) and Hyperscan databases (regexes).
 *
 * A match set holds every condition of every route of one virtual host
 * (uri, scheme, method, authority, headers, withoutHeaders, queryParams,
 * port; StringMatch exact, prefix, regex or presence) and answers "which
 * is the first route whose conditions all hold?" for a request.
 *
 * How: identical conditions are merged; the patterns on each request field
 * (the path, the method, one set per referenced header name, ...) go to
 * that field's literal tables (exact and prefix, hashed by value: one
 * case-sensitive, one for ignore_case) and its Hyperscan block-mode
 * database of regexes. A lookup hashes each field the rules reference
 * once, probing the table at the prefix lengths it holds (only where the
 * value's byte ends some literal of that length) and at the value's end,
 * scans the field with the regex database when there is one, whatever the
 * number of routes, and stamps the conditions found. A literal that is
 * all one route tests, and that no other route tests, names its route
 * directly. Each clause (AND of conditions) is indexed under
 * one of its conditions, the one fewest clauses share; the clauses of the
 * reported conditions are then checked in route order, and the first that
 * holds (all its conditions reported, none of its negated ones) gives the
 * lowest route. Routes without conditions are a constant. The cost
 * depends on the request and on what it satisfies, not on the number of
 * routes, even when every route shares a condition such as method GET.
 *
 * Semantics follow Istio/Envoy:
 * - exact and regex are full matches (RE2 semantics: `/status/2.*` does
 *   not match `/xstatus/200`, `.*` must cover the whole value); prefix is
 *   a prefix; `(?i)` works inside regexes; ignore_case makes exact and
 *   prefix case-insensitive (Istio's ignoreUriCase).
 * - uri exact and regex see the path without the query string; uri prefix
 *   sees the whole `:path`, as in Envoy.
 * - header names are case-insensitive; a header sent several times is
 *   matched on its values joined by ',' (Envoy).
 * - query parameter names are case-sensitive; the first occurrence counts;
 *   names and values are percent-decoded.
 * - a negated condition (withoutHeaders) holds when the positive one does
 *   not, including when the header is absent.
 * - an empty prefix, or GW_MATCH_PRESENT, tests presence of the field.
 *
 * Patterns Hyperscan cannot compile (back-references, lookaround, ...)
 * are rejected with a message naming the pattern.
 *
 * Threads: build on the control lcore. gw_match_set_eval() may run on
 * every worker at once, each with its own worker_id: the set holds a
 * cache-aligned area per worker (Hyperscan scratch, clause counters) and
 * a lookup allocates nothing. No EAL needed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The request field a condition tests. */
enum gw_match_field {
	GW_MATCH_URI = 0,    /**< `:path` (see the notes on the query string) */
	GW_MATCH_SCHEME,     /**< "http" or "https" */
	GW_MATCH_METHOD,     /**< request method */
	GW_MATCH_AUTHORITY,  /**< Host / `:authority`, as sent (port included) */
	GW_MATCH_HEADER,     /**< a header, by name */
	GW_MATCH_QUERY_PARAM,/**< a query parameter, by name */
	GW_MATCH_PORT,       /**< the port the request arrived on */
};

/** How a string field is compared (Istio StringMatch). */
enum gw_match_kind {
	GW_MATCH_EXACT = 0, /**< whole value equals the literal */
	GW_MATCH_PREFIX,    /**< value starts with the literal */
	GW_MATCH_REGEX,     /**< whole value matches the RE2-syntax regex */
	GW_MATCH_PRESENT,   /**< the field is present, any value (`{}`) */
};

/** One condition as the builder receives it. Strings are copied. */
struct gw_match_condition {
	enum gw_match_field field;
	enum gw_match_kind kind;  /**< ignored for GW_MATCH_PORT */
	const char *name;         /**< header or query parameter name, else NULL */
	const char *value;        /**< literal or regex; NULL means "" */
	uint16_t port;            /**< GW_MATCH_PORT only */
	bool ignore_case;         /**< exact/prefix/regex compared without case */
	bool negate;              /**< holds when the positive condition does not */
	/**
	 * Where the condition comes from, e.g. "VirtualService ns/name
	 * http[2].match[0].headers.end-user", quoted in build errors.
	 * Optional (NULL); copied.
	 */
	const char *label;
};

/** One request header as a parser delivers it: pointers into the buffer. */
struct gw_match_header {
	const char *name;
	uint32_t name_len;
	const char *value;
	uint32_t value_len;
};

/**
 * The request fields a lookup reads. Pointers refer to the caller's buffer
 * and are only read during the call; a NULL pointer means "absent".
 */
struct gw_match_request {
	const char *path;         /**< `:path`, query string included */
	uint32_t path_len;
	const char *method;
	uint32_t method_len;
	const char *authority;
	uint32_t authority_len;
	const char *scheme;
	uint32_t scheme_len;
	uint16_t port;            /**< listener port; 0 when unknown */
	const struct gw_match_header *headers;
	uint32_t n_headers;
};

/** Largest joined header value or decoded query value (bytes). */
#define GW_MATCH_VALUE_MAX 8192

struct gw_match_set_builder;
struct gw_match_set;

/** A new, empty builder; NULL when out of memory. */
struct gw_match_set_builder *gw_match_set_builder_create(void);

/** Free a builder (NULL is fine). Sets built from it stay valid. */
void gw_match_set_builder_free(struct gw_match_set_builder *b);

/**
 * Add a condition; identical conditions get the same id.
 *
 * Regexes are checked for what would change their meaning once anchored
 * (unbalanced parentheses, a trailing backslash, `(?x)`); Hyperscan's own
 * checks run at gw_match_set_build().
 *
 * @return a condition id (>= 0), or -EINVAL with a message in @p err, or
 *         -ENOMEM.
 */
int gw_match_set_builder_add_condition(struct gw_match_set_builder *b,
				       const struct gw_match_condition *cond,
				       char *err, size_t errlen);

/**
 * Add a clause: route @p route matches when all conditions @p cond_ids
 * hold. A route may have several clauses (Istio's list of `match` blocks:
 * OR). @p n == 0 makes a catch-all clause. Lower route indexes win.
 *
 * @return 0, -EINVAL (unknown condition id), or -ENOMEM.
 */
int gw_match_set_builder_add_clause(struct gw_match_set_builder *b,
				    uint32_t route, const int *cond_ids,
				    uint32_t n);

/**
 * Compile the builder's conditions and clauses into an immutable set with
 * per-worker areas for @p n_workers workers (>= 1). The builder is left
 * unchanged.
 *
 * @return the set, or NULL with a message in @p err (a pattern Hyperscan
 *         rejects, quoted with its label; out of memory; platform without
 *         the SSSE3 Hyperscan needs).
 */
struct gw_match_set *gw_match_set_build(const struct gw_match_set_builder *b,
					unsigned int n_workers,
					char *err, size_t errlen);

/** Free a set (NULL is fine). No worker may be using it. */
void gw_match_set_free(struct gw_match_set *set);

/**
 * The first route whose conditions hold for @p req.
 *
 * @param worker_id  the calling worker, < n_workers given at build; two
 *                   threads must never pass the same id at the same time
 * @return the lowest matching route index, or -1 when no route matches.
 */
int gw_match_set_eval(const struct gw_match_set *set, unsigned int worker_id,
		      const struct gw_match_request *req);

/** Bytes used by the set: tables, Hyperscan databases and scratch. */
size_t gw_match_set_memory(const struct gw_match_set *set);

/** Distinct conditions (after merging identical ones). */
uint32_t gw_match_set_condition_count(const struct gw_match_set *set);

/**
 * Indexes in the set: per field, one for its exact and prefix literals
 * (its literal tables) and one Hyperscan database for its regexes.
 */
uint32_t gw_match_set_database_count(const struct gw_match_set *set);

/**
 * Regex databases shared between match sets: a set whose field compiles
 * exactly the patterns of a live set's field (an apply that changed only
 * destinations) reuses that database instead of compiling it again.
 */
struct gw_match_db_cache_stats {
	uint64_t hits;    /**< databases reused */
	uint64_t misses;  /**< databases compiled */
	uint64_t entries; /**< distinct databases alive */
};

/** The process's database-sharing counters. */
void gw_match_db_cache_stats(struct gw_match_db_cache_stats *out);

#endif /* GW_MATCH_H */
