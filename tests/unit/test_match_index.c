/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential tests of lib/match's lookup (literal tables for exact and
 * prefix conditions, Hyperscan for regexes, clause triggers): random rule
 * sets and random requests, each answer compared with a straightforward
 * evaluation written here from Istio's rules (every route in order, every
 * clause, every condition tested on the request's text; regexes with
 * POSIX regexec, limited to syntax POSIX and RE2 read alike). The
 * alphabets are small so that literals overlap: prefixes of each other,
 * the same text as exact and prefix, case variants with and without
 * ignore_case, and regexes between them in route order.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "gw_common.h"
#include "gw_match.h"

#define MAX_CONDS 3
#define MAX_CLAUSES 2
#define MAX_ROUTES 2048
#define TEXT 24
/* condition values: long uri literals (see long_lits) */
#define VALUE_TEXT 112

/* ---- a rule set as the reference sees it ---- */

struct rcond {
	enum gw_match_field field;
	enum gw_match_kind kind;
	const char *name;     /* header or query parameter */
	char value[VALUE_TEXT];
	uint16_t port;
	bool ignore_case;
	bool negate;
	regex_t re;           /* GW_MATCH_REGEX */
};

struct rclause {
	uint32_t n;           /* 0: catch-all */
	struct rcond c[MAX_CONDS];
};

struct rroute {
	uint32_t n_clauses;
	struct rclause cl[MAX_CLAUSES];
};

struct rset {
	uint32_t n_routes;
	struct rroute *routes;
};

/* A request: path, method, authority, headers. */
struct rreq {
	char path[160];
	char method[8];
	char authority[TEXT];
	uint16_t port;
	struct gw_match_header h[4];
	char hval[4][TEXT];
	uint32_t n_headers;
	struct gw_match_request r;
};

/* xorshift64*: reproducible from the seed printed on failure. */
static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32) % n;
}

/* Random text over a small alphabet: overlaps and case variants. */
static void
rnd_text(char *out, uint32_t min, uint32_t max, const char *alphabet)
{
	uint32_t len = min + rnd(max - min + 1), i, n = (uint32_t)strlen(alphabet);

	for (i = 0; i < len; i++)
		out[i] = alphabet[rnd(n)];
	out[len] = '\0';
}

static const char PATH_ABC[] = "/aAbB1";
static const char WIDE_ABC[] = "/abcdefAB12";

/*
 * Wide tables (the bigger sets): longer uri literals over a wider
 * alphabet and fewer conditions that hold for most requests, so that
 * requests are won all over the table, not by its first routes.
 */
static bool wide;
/*
 * Long uri literals: a shared stem then a tail, 58 to 90 bytes, so that
 * prefix lengths fall on both sides of MATCH_LIT_SHORT (64): the lookup
 * finds short ones in its pass over the value and longer ones from their
 * list of lengths.
 */
static bool long_lits;
static const char LONG_STEM[] = "/long/abcdefghij/abcdefghij/abcdefghij/"
				"abcdefghij/abcde";
static const char HDR_ABC[] = "xXy-2";
static const char *const HEADER_NAMES[] = {"x-user", "X-Tenant"};
static const char *const METHODS[] = {"GET", "POST", "get"};

/* ---- reference evaluation ---- */

static bool
lit_test(const struct rcond *c, const char *v, size_t len)
{
	size_t l = strlen(c->value);

	if (c->kind == GW_MATCH_PRESENT)
		return true;
	if (c->kind == GW_MATCH_EXACT && len != l)
		return false;
	if (len < l)
		return false;
	return c->ignore_case ? strncasecmp(v, c->value, l) == 0 :
				memcmp(v, c->value, l) == 0;
}

/* Does string condition @p c hold for value @p v (NULL: absent)? */
static bool
string_test(const struct rcond *c, const char *v, size_t len)
{
	char buf[128];

	if (v == NULL)
		return false;
	if (c->kind != GW_MATCH_REGEX)
		return lit_test(c, v, len);
	assert_true(len < sizeof(buf));
	memcpy(buf, v, len);
	buf[len] = '\0';
	return regexec(&c->re, buf, 0, NULL, 0) == 0;
}

/* Joined value of header @p name (case-insensitive), or NULL. */
static const char *
header_value(const struct rreq *q, const char *name, char *buf, size_t *len)
{
	uint32_t i, seen = 0;

	*len = 0;
	for (i = 0; i < q->n_headers; i++) {
		if (strcasecmp(q->h[i].name, name) != 0)
			continue;
		if (seen++ > 0)
			buf[(*len)++] = ',';
		memcpy(buf + *len, q->h[i].value, q->h[i].value_len);
		*len += q->h[i].value_len;
	}
	buf[*len] = '\0';
	return seen > 0 ? buf : NULL;
}

static bool
cond_holds(const struct rcond *c, const struct rreq *q)
{
	const char *qm = strchr(q->path, '?');
	size_t path_len = qm ? (size_t)(qm - q->path) : strlen(q->path), len;
	char buf[128];
	const char *v;
	bool pos;

	switch (c->field) {
	case GW_MATCH_URI:
		/* prefix sees the whole :path, exact and regex the path only */
		if (c->kind == GW_MATCH_PREFIX || c->kind == GW_MATCH_PRESENT)
			pos = string_test(c, q->path, strlen(q->path));
		else
			pos = string_test(c, q->path, path_len);
		break;
	case GW_MATCH_METHOD:
		pos = string_test(c, q->method, strlen(q->method));
		break;
	case GW_MATCH_AUTHORITY:
		pos = string_test(c, q->r.authority, q->r.authority_len);
		break;
	case GW_MATCH_HEADER:
		v = header_value(q, c->name, buf, &len);
		pos = string_test(c, v, len);
		break;
	case GW_MATCH_QUERY_PARAM:
		/* "?k=VALUE", first occurrence; the generator never repeats */
		v = NULL;
		len = 0;
		if (qm != NULL && strncmp(qm + 1, c->name, strlen(c->name)) == 0 &&
		    qm[1 + strlen(c->name)] == '=') {
			v = qm + 2 + strlen(c->name);
			len = strlen(v);
		}
		pos = string_test(c, v, len);
		break;
	case GW_MATCH_PORT:
		pos = q->port == c->port;
		break;
	default:
		fail_msg("field %d", c->field);
		return false;
	}
	return pos != c->negate;
}

/* First route whose conditions all hold in some clause: -1 when none. */
static int
reference_eval(const struct rset *rs, const struct rreq *q)
{
	uint32_t r, k, i;

	for (r = 0; r < rs->n_routes; r++)
		for (k = 0; k < rs->routes[r].n_clauses; k++) {
			const struct rclause *cl = &rs->routes[r].cl[k];
			bool all = true;

			for (i = 0; i < cl->n && all; i++)
				all = cond_holds(&cl->c[i], q);
			if (all)
				return (int)r;
		}
	return -1;
}

/* ---- generators ---- */

/*
 * A regex of syntax POSIX ERE and RE2 read alike: a literal stem and one
 * of a few tails.
 */
static void
rnd_regex(char *out, const char *alphabet)
{
	static const char *const tails[] = {"[0-9]+", ".*", "[a-z]*", "(1|2)",
					    "b?", ""};
	char stem[8];

	rnd_text(stem, 1, 4, alphabet);
	if (alphabet[0] == '/')
		stem[0] = '/';
	snprintf(out, TEXT, "%s%s", stem, tails[rnd(GW_ARRAY_SIZE(tails))]);
}

/*
 * Prefix, exact, regex (when @p regex_ok) or presence (when
 * @p present_ok); uri literals start with '/' as paths do.
 */
static void
rnd_string_cond(struct rcond *c, const char *alphabet, uint32_t lit_max,
		bool regex_ok, bool case_ok, bool present_ok)
{
	uint32_t k = rnd(20);

	c->kind = k < 9 ? GW_MATCH_PREFIX : k < 16 ? GW_MATCH_EXACT :
		  k < 19 && regex_ok ? GW_MATCH_REGEX :
		  k == 19 && present_ok ? GW_MATCH_PRESENT : GW_MATCH_PREFIX;
	if (c->kind == GW_MATCH_REGEX) {
		rnd_regex(c->value, alphabet);
		return;
	}
	if (c->kind == GW_MATCH_PRESENT)
		return;
	if (c->field == GW_MATCH_URI && long_lits && rnd(4) != 0) {
		uint32_t stem = 40 + rnd(sizeof(LONG_STEM) - 40);

		/* 40..55 bytes of the stem, then 1..50 more */
		memcpy(c->value, LONG_STEM, stem);
		rnd_text(c->value + stem, 1, 90 - stem > 50 ? 50 : 90 - stem,
			 alphabet + 1);
	} else if (c->field == GW_MATCH_URI && rnd(8) == 0) {
		/* longer than the bytes a table slot keeps (16) */
		c->value[0] = '/';
		rnd_text(c->value + 1, 14, TEXT - 2, alphabet + 1);
	} else if (c->field == GW_MATCH_URI) {
		c->value[0] = '/';
		rnd_text(c->value + 1, wide ? 3 : 1, lit_max - 1, alphabet + 1);
	} else {
		rnd_text(c->value, 1, lit_max, alphabet);
	}
	/* Istio's ignoreUriCase: exact and prefix only */
	c->ignore_case = case_ok && rnd(3) == 0;
}

/* A condition; in wide tables a clause's first one is on the uri. */
static void
rnd_cond(struct rcond *c, bool literal_only, bool first)
{
	uint32_t k = rnd(20);

	memset(c, 0, sizeof(*c));
	if (wide && first)
		k = 0;
	if (k < 11) {
		c->field = GW_MATCH_URI;
		rnd_string_cond(c, wide ? WIDE_ABC : PATH_ABC, wide ? 8 : 7,
				!literal_only, true, false);
	} else if (k < 15) {
		c->field = GW_MATCH_HEADER;
		c->name = HEADER_NAMES[rnd(2)];
		rnd_string_cond(c, HDR_ABC, 4, !literal_only, true, true);
		c->negate = rnd(wide ? 12 : 4) == 0; /* withoutHeaders */
	} else if (k < 16) {
		c->field = GW_MATCH_METHOD;
		c->kind = GW_MATCH_EXACT;
		snprintf(c->value, TEXT, "%s", METHODS[rnd(2)]);
	} else if (k < 17) {
		c->field = GW_MATCH_AUTHORITY;
		rnd_string_cond(c, "ab.:8", 4, !literal_only, false, true);
	} else if (k < 19) {
		c->field = GW_MATCH_QUERY_PARAM;
		c->name = "q";
		rnd_string_cond(c, "ab1", 3, !literal_only, false, true);
	} else {
		c->field = GW_MATCH_PORT;
		c->port = (uint16_t)(8000 + rnd(2));
	}
}

static void
rnd_set(struct rset *rs, uint32_t n_routes, bool literal_only)
{
	uint32_t r, k, i;

	rs->n_routes = n_routes;
	rs->routes = calloc(n_routes, sizeof(*rs->routes));
	assert_non_null(rs->routes);
	for (r = 0; r < n_routes; r++) {
		struct rroute *rt = &rs->routes[r];

		rt->n_clauses = 1 + (rnd(4) == 0);
		for (k = 0; k < rt->n_clauses; k++) {
			struct rclause *cl = &rt->cl[k];

			/* a rare catch-all cuts the routes after it */
			cl->n = rnd(wide ? 5000 : 60) == 0 ? 0 :
				1 + rnd(MAX_CONDS) * (rnd(2) == 0);
			for (i = 0; i < cl->n; i++) {
				struct rcond *c = &cl->c[i];
				char anchored[VALUE_TEXT + 8];

				rnd_cond(c, literal_only, i == 0);
				if (c->kind != GW_MATCH_REGEX)
					continue;
				snprintf(anchored, sizeof(anchored), "^(%s)$", c->value);
				assert_int_equal(regcomp(&c->re, anchored,
							 REG_EXTENDED | REG_NOSUB), 0);
			}
		}
	}
}

static void
free_set(struct rset *rs)
{
	uint32_t r, k, i;

	for (r = 0; r < rs->n_routes; r++)
		for (k = 0; k < rs->routes[r].n_clauses; k++)
			for (i = 0; i < rs->routes[r].cl[k].n; i++)
				if (rs->routes[r].cl[k].c[i].kind == GW_MATCH_REGEX)
					regfree(&rs->routes[r].cl[k].c[i].re);
	free(rs->routes);
}

/* The set under test, built from the same conditions. */
static struct gw_match_set *
build_set(const struct rset *rs, unsigned int n_workers)
{
	struct gw_match_set_builder *b = gw_match_set_builder_create();
	struct gw_match_set *set;
	char err[GW_ERR_LEN];
	uint32_t r, k, i;

	assert_non_null(b);
	for (r = 0; r < rs->n_routes; r++)
		for (k = 0; k < rs->routes[r].n_clauses; k++) {
			const struct rclause *cl = &rs->routes[r].cl[k];
			int ids[MAX_CONDS];

			for (i = 0; i < cl->n; i++) {
				const struct rcond *c = &cl->c[i];
				struct gw_match_condition mc = {
					.field = c->field, .kind = c->kind,
					.name = c->name,
					.value = c->kind == GW_MATCH_PRESENT ? NULL :
						 c->value,
					.port = c->port,
					.ignore_case = c->ignore_case,
					.negate = c->negate,
				};

				ids[i] = gw_match_set_builder_add_condition(b, &mc, err,
									    sizeof(err));
				if (ids[i] < 0)
					fail_msg("add_condition: %s", err);
			}
			assert_int_equal(gw_match_set_builder_add_clause(b, r, ids,
									 cl->n), 0);
		}
	set = gw_match_set_build(b, n_workers, err, sizeof(err));
	if (set == NULL)
		fail_msg("build: %s", err);
	gw_match_set_builder_free(b);
	return set;
}

/*
 * A request near the rules: its path often starts with or equals a
 * literal of the set (changed in case, extended, cut short), so that
 * overlapping literals are all exercised.
 */
static void
rnd_req(struct rreq *q, const struct rset *rs)
{
	uint32_t i, n;
	char tail[16];

	memset(q, 0, sizeof(*q));
	if (rnd(4) != 0 && rs->n_routes > 0) {
		const struct rroute *rt = &rs->routes[rnd(rs->n_routes)];
		const struct rclause *cl = &rt->cl[rnd(rt->n_clauses)];
		const char *src = cl->n > 0 && cl->c[0].field == GW_MATCH_URI &&
			cl->c[0].kind != GW_MATCH_REGEX ? cl->c[0].value : "/a";

		snprintf(q->path, sizeof(q->path), "%s", src);
		n = (uint32_t)strlen(q->path);
		switch (rnd(4)) {
		case 0: /* other case */
			for (i = 0; i < n; i++)
				if (rnd(2))
					q->path[i] ^= 0x20 * ((q->path[i] | 0x20) >= 'a' &&
							      (q->path[i] | 0x20) <= 'z');
			break;
		case 1: /* cut short */
			q->path[rnd(n + 1)] = '\0';
			break;
		case 2: /* longer */
			rnd_text(tail, 1, 4, wide ? WIDE_ABC : PATH_ABC);
			strncat(q->path, tail, sizeof(q->path) - n - 1);
			break;
		default:
			break;
		}
	} else {
		rnd_text(q->path, 0, 8, wide ? WIDE_ABC : PATH_ABC);
	}
	if (rnd(3) == 0) {
		rnd_text(tail, 0, 3, "ab1");
		n = (uint32_t)strlen(q->path);
		snprintf(q->path + n, sizeof(q->path) - n, "?%s=%s",
			 rnd(4) ? "q" : "p", tail);
	}
	snprintf(q->method, sizeof(q->method), "%s", METHODS[rnd(3)]);
	rnd_text(q->authority, 0, 5, "ab.:8");
	q->port = (uint16_t)(8000 + rnd(3));
	q->n_headers = rnd(4);
	for (i = 0; i < q->n_headers; i++) {
		static const char *const names[] = {"X-User", "x-tenant", "x-other",
						    "x-user"};

		rnd_text(q->hval[i], 0, 5, HDR_ABC);
		q->h[i].name = names[rnd(4)];
		q->h[i].name_len = (uint32_t)strlen(q->h[i].name);
		q->h[i].value = q->hval[i];
		q->h[i].value_len = (uint32_t)strlen(q->hval[i]);
	}
	q->r.path = q->path;
	q->r.path_len = (uint32_t)strlen(q->path);
	q->r.method = q->method;
	q->r.method_len = (uint32_t)strlen(q->method);
	q->r.authority = rnd(8) ? q->authority : NULL;
	q->r.authority_len = q->r.authority ? (uint32_t)strlen(q->authority) : 0;
	q->r.scheme = "http";
	q->r.scheme_len = 4;
	q->r.port = q->port;
	q->r.headers = q->h;
	q->r.n_headers = q->n_headers;
}

static void
describe_failure(const struct rset *rs, const struct rreq *q, uint64_t seed,
		 int got, int want)
{
	static const char *const kinds[] = {"exact", "prefix", "regex", "present"};
	static const char *const fields[] = {"uri", "scheme", "method", "authority",
					     "header", "query", "port"};
	uint32_t r, k, i;

	print_error("seed %llu: path \"%s\" method %s authority \"%s\" port %u, "
		    "%u headers: got %d, want %d\n", (unsigned long long)seed,
		    q->path, q->method, q->r.authority ? q->authority : "(none)",
		    q->port, q->n_headers, got, want);
	for (i = 0; i < q->n_headers; i++)
		print_error("  header %s: \"%s\"\n", q->h[i].name, q->hval[i]);
	for (r = 0; r < rs->n_routes && r <= (uint32_t)(got > want ? got : want);
	     r++)
		for (k = 0; k < rs->routes[r].n_clauses; k++) {
			print_error("  route %u clause %u:", r, k);
			for (i = 0; i < rs->routes[r].cl[k].n; i++) {
				const struct rcond *c = &rs->routes[r].cl[k].c[i];

				print_error(" %s%s%s%s %s \"%s\"%s%u;",
					    c->negate ? "!" : "", fields[c->field],
					    c->name ? ":" : "", c->name ? c->name : "",
					    kinds[c->kind], c->value,
					    c->ignore_case ? " (i)" : "", c->port);
			}
			print_error("\n");
		}
}

/*
 * @p n_sets rule sets of up to @p max_routes routes, @p n_reqs requests
 * each; every answer compared. Returns the number of requests some route
 * matched, so that callers can check the test was not vacuous.
 */
static uint32_t
differential(uint64_t seed, uint32_t n_sets, uint32_t max_routes,
	     uint32_t n_reqs, bool literal_only, uint32_t *deep)
{
	uint32_t s, i, matched = 0;

	*deep = 0;

	for (s = 0; s < n_sets; s++) {
		uint64_t set_seed = seed + s;
		struct gw_match_set *set;
		struct rset rs;

		rng_state = set_seed * 0x9E3779B97F4A7C15ULL + 1;
		rnd_set(&rs, 1 + rnd(max_routes), literal_only);
		set = build_set(&rs, 2);
		for (i = 0; i < n_reqs; i++) {
			struct rreq q;
			int want, got;

			rnd_req(&q, &rs);
			want = reference_eval(&rs, &q);
			got = gw_match_set_eval(set, i % 2, &q.r);
			if (got != want) {
				describe_failure(&rs, &q, set_seed, got, want);
				fail_msg("set %u request %u: got route %d, want %d",
					 s, i, got, want);
			}
			matched += want >= 0;
			/* won by a route in the second half of the table */
			*deep += want >= 0 && (uint32_t)want * 2 >= rs.n_routes;
		}
		gw_match_set_free(set);
		free_set(&rs);
	}
	return matched;
}

/* ---- tests ---- */

/* Small sets, every kind of condition: 400 x 64 = 25,600 requests. */
static void
test_random_mixed(void **state)
{
	uint32_t matched, deep;

	(void)state;
	matched = differential(1000, 400, 40, 64, false, &deep);
	print_message("mixed: %u of 25600 requests matched a route, %u in the "
		      "second half of the table\n", matched, deep);
	assert_true(matched > 2560);
	assert_true(matched < 25600 - 2560);
	assert_true(deep > 1000);
}

/* Literals only (no Hyperscan database at all), bigger sets. */
static void
test_random_literal(void **state)
{
	uint32_t matched, deep;

	(void)state;
	wide = true;
	matched = differential(50000, 100, 300, 100, true, &deep);
	wide = false;
	print_message("literal: %u of 10000 requests matched a route, %u in the "
		      "second half of the table\n", matched, deep);
	assert_true(matched > 1000);
	assert_true(matched < 9000);
	assert_true(deep > 500);
}

/* Uri literals around 64 bytes long: both ways of finding prefixes. */
static void
test_random_long(void **state)
{
	uint32_t matched, deep;

	(void)state;
	long_lits = true;
	wide = true;
	matched = differential(70000, 100, 200, 100, true, &deep);
	wide = false;
	long_lits = false;
	print_message("long: %u of 10000 requests matched a route, %u in the "
		      "second half of the table\n", matched, deep);
	assert_true(matched > 1000);
	assert_true(matched < 9000);
	assert_true(deep > 300);
}

/* Eight sets of up to 2,048 routes, regexes included. */
static void
test_random_large(void **state)
{
	uint32_t matched, deep;

	(void)state;
	wide = true;
	matched = differential(90000, 8, MAX_ROUTES, 1000, false, &deep);
	wide = false;
	print_message("large: %u of 8000 requests matched a route, %u in the "
		      "second half of the table\n", matched, deep);
	assert_true(matched > 400);
	assert_true(deep > 100);
	assert_true(matched < 8000);
}

/*
 * Hand-written orders the tables must keep: a longer prefix after a
 * shorter one never wins, an exact after a prefix of the same text never
 * wins, a regex between literals wins in its place, case folding only
 * where asked.
 */
static void
test_order_across_kinds(void **state)
{
	struct rset rs = {0};
	struct rreq q;
	struct gw_match_set *set;
	static const struct {
		enum gw_match_kind kind;
		const char *value;
		bool ignore_case;
	} rules[] = {
		{GW_MATCH_EXACT, "/api/v1", false},       /* 0 */
		{GW_MATCH_REGEX, "/api/v[0-9]+", false},  /* 1 */
		{GW_MATCH_PREFIX, "/api/", false},        /* 2 */
		{GW_MATCH_PREFIX, "/api/v2/", false},     /* 3: after 2, never */
		{GW_MATCH_EXACT, "/api/", false},         /* 4: after 2, never */
		{GW_MATCH_PREFIX, "/API", true},          /* 5 */
		{GW_MATCH_EXACT, "/Other", false},        /* 6 */
		{GW_MATCH_PREFIX, "/", false},            /* 7 */
	};
	static const struct {
		const char *path;
		int route;
	} cases[] = {
		{"/api/v1", 0}, {"/api/v1?x=1", 0}, {"/api/v7", 1},
		{"/api/v1/", 2}, {"/api/v2/x", 2}, {"/api/", 2}, {"/API/v1", 5},
		{"/aPi", 5}, {"/Other", 6}, {"/other", 7}, {"/", 7}, {"", -1},
		{"x/api/", -1},
	};
	uint32_t i;

	(void)state;
	rs.n_routes = GW_ARRAY_SIZE(rules);
	rs.routes = calloc(rs.n_routes, sizeof(*rs.routes));
	assert_non_null(rs.routes);
	for (i = 0; i < rs.n_routes; i++) {
		struct rcond *c = &rs.routes[i].cl[0].c[0];
		char anchored[VALUE_TEXT + 8];

		rs.routes[i].n_clauses = 1;
		rs.routes[i].cl[0].n = 1;
		c->field = GW_MATCH_URI;
		c->kind = rules[i].kind;
		c->ignore_case = rules[i].ignore_case;
		snprintf(c->value, TEXT, "%s", rules[i].value);
		if (c->kind == GW_MATCH_REGEX) {
			snprintf(anchored, sizeof(anchored), "^(%s)$", c->value);
			assert_int_equal(regcomp(&c->re, anchored,
						 REG_EXTENDED | REG_NOSUB), 0);
		}
	}
	set = build_set(&rs, 1);
	for (i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		memset(&q, 0, sizeof(q));
		snprintf(q.path, sizeof(q.path), "%s", cases[i].path);
		q.r.path = q.path;
		q.r.path_len = (uint32_t)strlen(q.path);
		snprintf(q.method, sizeof(q.method), "GET");
		q.r.method = q.method;
		q.r.method_len = 3;
		/* the reference agrees with the hand-written answer */
		assert_int_equal(reference_eval(&rs, &q), cases[i].route);
		if (gw_match_set_eval(set, 0, &q.r) != cases[i].route)
			fail_msg("%s: got %d, want %d", cases[i].path,
				 gw_match_set_eval(set, 0, &q.r), cases[i].route);
	}
	gw_match_set_free(set);
	free_set(&rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_across_kinds),
		cmocka_unit_test(test_random_mixed),
		cmocka_unit_test(test_random_literal),
		cmocka_unit_test(test_random_long),
		cmocka_unit_test(test_random_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
