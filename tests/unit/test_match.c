/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/match: Istio match semantics (full-match regexes,
 * prefix, exact, presence, negation, query parameters, ports), first
 * match order, OR of match blocks, Hyperscan rejections and a large set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gw_common.h"
#include "gw_match.h"

/* ---- helpers ---- */

struct fixture {
	struct gw_match_set_builder *b;
	struct gw_match_set *set;
	char err[GW_ERR_LEN];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->b = gw_match_set_builder_create();
	assert_non_null(fx->b);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	gw_match_set_free(fx->set);
	gw_match_set_builder_free(fx->b);
	free(fx);
	return 0;
}

static int
cond_full(struct fixture *fx, enum gw_match_field field,
	  enum gw_match_kind kind, const char *name, const char *value,
	  bool ignore_case, bool negate)
{
	struct gw_match_condition c = {
		.field = field, .kind = kind, .name = name, .value = value,
		.ignore_case = ignore_case, .negate = negate,
	};
	int id = gw_match_set_builder_add_condition(fx->b, &c, fx->err,
						    sizeof(fx->err));

	if (id < 0)
		fail_msg("add_condition: %s", fx->err);
	return id;
}

static int
cond(struct fixture *fx, enum gw_match_field field, enum gw_match_kind kind,
     const char *name, const char *value)
{
	return cond_full(fx, field, kind, name, value, false, false);
}

static void
clause(struct fixture *fx, uint32_t route, int c0, int c1, int c2)
{
	int ids[3] = {0, 0, 0};
	uint32_t n = 0;

	if (c0 >= 0)
		ids[n++] = c0;
	if (c1 >= 0)
		ids[n++] = c1;
	if (c2 >= 0)
		ids[n++] = c2;
	assert_int_equal(gw_match_set_builder_add_clause(fx->b, route, ids, n), 0);
}

static void
build(struct fixture *fx, unsigned int workers)
{
	fx->set = gw_match_set_build(fx->b, workers, fx->err, sizeof(fx->err));
	if (fx->set == NULL)
		fail_msg("build: %s", fx->err);
}

/* A request; headers as "name: value" strings, NULL-terminated. */
struct req {
	struct gw_match_request r;
	struct gw_match_header h[16];
};

static void
req_init(struct req *q, const char *method, const char *path,
	 const char *authority, const char *const *headers)
{
	uint32_t i;

	memset(q, 0, sizeof(*q));
	q->r.method = method;
	q->r.method_len = method ? (uint32_t)strlen(method) : 0;
	q->r.path = path;
	q->r.path_len = path ? (uint32_t)strlen(path) : 0;
	q->r.authority = authority;
	q->r.authority_len = authority ? (uint32_t)strlen(authority) : 0;
	q->r.scheme = "http";
	q->r.scheme_len = 4;
	q->r.port = 80;
	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		const char *colon = strchr(headers[i], ':');

		assert_non_null(colon);
		q->h[i].name = headers[i];
		q->h[i].name_len = (uint32_t)(colon - headers[i]);
		q->h[i].value = colon + 1;
		while (*q->h[i].value == ' ')
			q->h[i].value++;
		q->h[i].value_len = (uint32_t)strlen(q->h[i].value);
	}
	q->r.headers = q->h;
	q->r.n_headers = i;
}

static int
eval_path(struct fixture *fx, const char *path)
{
	struct req q;

	req_init(&q, "GET", path, "example.com", NULL);
	return gw_match_set_eval(fx->set, 0, &q.r);
}

static int
eval_headers(struct fixture *fx, const char *path, const char *const *headers)
{
	struct req q;

	req_init(&q, "GET", path, "example.com", headers);
	return gw_match_set_eval(fx->set, 0, &q.r);
}

/* ---- uri ---- */

static void
test_uri_regex_full_match(void **state)
{
	struct fixture *fx = *state;

	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "/status/2.*"),
	       -1, -1);
	clause(fx, 1, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "/a|/ab"), -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, ".*"), -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/status/200"), 0);
	assert_int_equal(eval_path(fx, "/status/2"), 0);
	/* full match: a match inside the path is not enough */
	assert_int_equal(eval_path(fx, "/xstatus/200"), 2);
	assert_int_equal(eval_path(fx, "/status/300"), 2);
	/* the query string is not part of uri exact/regex */
	assert_int_equal(eval_path(fx, "/status/204?x=/y"), 0);
	/* an alternation is anchored as a whole */
	assert_int_equal(eval_path(fx, "/ab"), 1);
	assert_int_equal(eval_path(fx, "/abc"), 2);
	/* ".*" covers everything, even an empty path */
	assert_int_equal(eval_path(fx, ""), 2);
}

static void
test_uri_regex_no_newline_slack(void **state)
{
	struct fixture *fx = *state;

	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "/a$"), -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/a"), 0);
	/* RE2 full match: no trailing-newline allowance as PCRE's $ has */
	assert_int_equal(eval_path(fx, "/a\n"), -1);
}

static void
test_uri_exact_and_prefix(void **state)
{
	struct fixture *fx = *state;

	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, "/get"), -1, -1);
	clause(fx, 1, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/api"), -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, "/a.b+c"), -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/get"), 0);
	assert_int_equal(eval_path(fx, "/get?show_env=1"), 0);
	assert_int_equal(eval_path(fx, "/get/"), -1);
	assert_int_equal(eval_path(fx, "/ge"), -1);
	assert_int_equal(eval_path(fx, "/GET"), -1);
	assert_int_equal(eval_path(fx, "/api"), 1);
	assert_int_equal(eval_path(fx, "/apix/y"), 1);
	assert_int_equal(eval_path(fx, "/ap"), -1);
	/* literals are escaped: '.' and '+' are not regex operators */
	assert_int_equal(eval_path(fx, "/a.b+c"), 2);
	assert_int_equal(eval_path(fx, "/aXbbc"), -1);
}

static void
test_regex_inline_caseless(void **state)
{
	struct fixture *fx = *state;

	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "(?i)/foo/[a-z]+"),
	       -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/FOO/Bar"), 0);
	assert_int_equal(eval_path(fx, "/foo/bar"), 0);
	assert_int_equal(eval_path(fx, "/foo/"), -1);
}

static void
test_ignore_uri_case(void **state)
{
	struct fixture *fx = *state;

	clause(fx, 0, cond_full(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, "/Login",
				true, false), -1, -1);
	clause(fx, 1, cond_full(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/Static/",
				true, false), -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, "/Case"), -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/login"), 0);
	assert_int_equal(eval_path(fx, "/LOGIN"), 0);
	assert_int_equal(eval_path(fx, "/static/app.js"), 1);
	assert_int_equal(eval_path(fx, "/STATIC/x"), 1);
	/* without the flag, case matters */
	assert_int_equal(eval_path(fx, "/Case"), 2);
	assert_int_equal(eval_path(fx, "/case"), -1);
}

/* ---- headers ---- */

static void
test_headers_exact_prefix_regex(void **state)
{
	struct fixture *fx = *state;
	const char *jason[] = {"End-User: jason", NULL};
	const char *jas[] = {"end-user: jas", NULL};
	const char *agent[] = {"user-agent: Mozilla/5.0 (X11)", NULL};
	const char *ver[] = {"x-version: v12", NULL};
	const char *ver_bad[] = {"x-version: v12a", NULL};

	clause(fx, 0, cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "end-user", "jason"),
	       -1, -1);
	clause(fx, 1, cond(fx, GW_MATCH_HEADER, GW_MATCH_PREFIX, "User-Agent",
			   "Mozilla/"), -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_HEADER, GW_MATCH_REGEX, "x-version",
			   "v[0-9]+"), -1, -1);
	build(fx, 1);
	/* header names are case-insensitive both ways */
	assert_int_equal(eval_headers(fx, "/", jason), 0);
	assert_int_equal(eval_headers(fx, "/", jas), -1);
	assert_int_equal(eval_headers(fx, "/", agent), 1);
	assert_int_equal(eval_headers(fx, "/", ver), 2);
	assert_int_equal(eval_headers(fx, "/", ver_bad), -1);
	assert_int_equal(eval_headers(fx, "/", NULL), -1);
}

static void
test_header_repeated_joined(void **state)
{
	struct fixture *fx = *state;
	const char *two[] = {"x-tag: a", "other: z", "X-Tag: b", NULL};

	clause(fx, 0, cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "x-tag", "a,b"),
	       -1, -1);
	build(fx, 1);
	assert_int_equal(eval_headers(fx, "/", two), 0);
}

static void
test_header_present(void **state)
{
	struct fixture *fx = *state;
	const char *with[] = {"x-canary: ", NULL};
	const char *other[] = {"x-other: 1", NULL};

	clause(fx, 0, cond(fx, GW_MATCH_HEADER, GW_MATCH_PRESENT, "x-canary", NULL),
	       -1, -1);
	/* an empty prefix is a presence test too */
	clause(fx, 1, cond(fx, GW_MATCH_HEADER, GW_MATCH_PREFIX, "x-other", ""),
	       -1, -1);
	build(fx, 1);
	assert_int_equal(eval_headers(fx, "/", with), 0); /* even empty */
	assert_int_equal(eval_headers(fx, "/", other), 1);
	assert_int_equal(eval_headers(fx, "/", NULL), -1);
}

static void
test_header_empty_value(void **state)
{
	struct fixture *fx = *state;
	const char *empty[] = {"x-e: ", NULL};

	clause(fx, 0, cond(fx, GW_MATCH_HEADER, GW_MATCH_PREFIX, "x-e", "a"), -1, -1);
	clause(fx, 1, cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "x-e", ""), -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_HEADER, GW_MATCH_REGEX, "x-f", ".*"), -1, -1);
	build(fx, 1);
	assert_int_equal(eval_headers(fx, "/", empty), 1);
}

static void
test_without_headers(void **state)
{
	struct fixture *fx = *state;
	const char *debug1[] = {"x-debug: 1", NULL};
	const char *debug0[] = {"x-debug: 0", NULL};
	const char *beta[] = {"x-beta: yes", NULL};

	/* route 0: no x-debug: 1, and no x-beta at all */
	clause(fx, 0,
	       cond_full(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "x-debug", "1",
			 false, true),
	       cond_full(fx, GW_MATCH_HEADER, GW_MATCH_PRESENT, "x-beta", NULL,
			 false, true), -1);
	clause(fx, 1, -1, -1, -1);
	build(fx, 1);
	assert_int_equal(eval_headers(fx, "/", NULL), 0);     /* absent */
	assert_int_equal(eval_headers(fx, "/", debug0), 0);   /* other value */
	assert_int_equal(eval_headers(fx, "/", debug1), 1);
	assert_int_equal(eval_headers(fx, "/", beta), 1);
}

static void
test_negation_with_positive(void **state)
{
	struct fixture *fx = *state;
	const char *v2[] = {"x-v: 2", NULL};

	/* uri prefix /api and not x-v: 2 */
	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/api"),
	       cond_full(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "x-v", "2", false, true),
	       -1);
	/* a condition and its own negation can never hold */
	clause(fx, 1, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/api"),
	       cond_full(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/api", false, true),
	       -1);
	build(fx, 1);
	assert_int_equal(eval_headers(fx, "/api/x", NULL), 0);
	assert_int_equal(eval_headers(fx, "/api/x", v2), -1);
	assert_int_equal(eval_headers(fx, "/other", NULL), -1);
}

/* ---- other fields ---- */

static void
test_query_params(void **state)
{
	struct fixture *fx = *state;

	clause(fx, 0, cond(fx, GW_MATCH_QUERY_PARAM, GW_MATCH_EXACT, "user", "jason"),
	       -1, -1);
	clause(fx, 1, cond(fx, GW_MATCH_QUERY_PARAM, GW_MATCH_REGEX, "id", "[0-9]{3}"),
	       -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_QUERY_PARAM, GW_MATCH_EXACT, "q", "a b"),
	       -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/x?user=jason"), 0);
	assert_int_equal(eval_path(fx, "/x?a=1&user=jason&b"), 0);
	assert_int_equal(eval_path(fx, "/x?user=jasonx"), -1);
	assert_int_equal(eval_path(fx, "/x?User=jason"), -1); /* names are case-sensitive */
	assert_int_equal(eval_path(fx, "/x?user=bob&user=jason"), -1); /* first counts */
	assert_int_equal(eval_path(fx, "/user=jason"), -1);
	assert_int_equal(eval_path(fx, "/x?id=123"), 1);
	assert_int_equal(eval_path(fx, "/x?id=1234"), -1);
	assert_int_equal(eval_path(fx, "/x?%75ser=jas%6Fn"), 0); /* decoded */
	assert_int_equal(eval_path(fx, "/x?q=a%20b"), 2);
	assert_int_equal(eval_path(fx, "/x?id"), -1);
}

static void
test_port_method_scheme_authority(void **state)
{
	struct fixture *fx = *state;
	struct gw_match_condition port = {.field = GW_MATCH_PORT, .port = 8080};
	struct req q;
	int p;

	p = gw_match_set_builder_add_condition(fx->b, &port, fx->err, sizeof(fx->err));
	assert_true(p >= 0);
	clause(fx, 0, p, cond(fx, GW_MATCH_METHOD, GW_MATCH_EXACT, NULL, "POST"), -1);
	clause(fx, 1, cond(fx, GW_MATCH_SCHEME, GW_MATCH_EXACT, NULL, "https"), -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_AUTHORITY, GW_MATCH_PREFIX, NULL, "httpbin"),
	       -1, -1);
	clause(fx, 3, p, -1, -1);
	build(fx, 1);

	req_init(&q, "POST", "/", "x", NULL);
	q.r.port = 8080;
	assert_int_equal(gw_match_set_eval(fx->set, 0, &q.r), 0);
	req_init(&q, "GET", "/", "x", NULL);
	q.r.port = 8080;
	assert_int_equal(gw_match_set_eval(fx->set, 0, &q.r), 3);
	q.r.port = 80;
	assert_int_equal(gw_match_set_eval(fx->set, 0, &q.r), -1);
	q.r.scheme = "https";
	q.r.scheme_len = 5;
	assert_int_equal(gw_match_set_eval(fx->set, 0, &q.r), 1);
	req_init(&q, "GET", "/", "httpbin:8000", NULL);
	assert_int_equal(gw_match_set_eval(fx->set, 0, &q.r), 2);
	req_init(&q, "GET", "/", NULL, NULL); /* no Host at all */
	assert_int_equal(gw_match_set_eval(fx->set, 0, &q.r), -1);
}

/* ---- order, OR, AND ---- */

static void
test_first_match_order(void **state)
{
	struct fixture *fx = *state;

	/* added out of order: the route index decides, not insertion */
	clause(fx, 3, -1, -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/"), -1, -1);
	clause(fx, 1, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/api"), -1, -1);
	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/api/v1"), -1, -1);
	/* after a catch-all: unreachable */
	clause(fx, 4, cond(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, "/only4"), -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/api/v1/users"), 0);
	assert_int_equal(eval_path(fx, "/api/v2"), 1);
	assert_int_equal(eval_path(fx, "/index.html"), 2);
	assert_int_equal(eval_path(fx, "/only4"), 2);
	assert_int_equal(eval_path(fx, "relative"), 3);
}

static void
test_or_across_clauses_and_within(void **state)
{
	struct fixture *fx = *state;
	const char *jason[] = {"end-user: jason", NULL};
	const char *admin[] = {"x-role: admin", NULL};

	/* route 0: (uri prefix /v2 AND end-user jason) OR (x-role admin) */
	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, "/v2"),
	       cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "end-user", "jason"), -1);
	clause(fx, 0, cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "x-role", "admin"),
	       -1, -1);
	clause(fx, 1, -1, -1, -1);
	build(fx, 1);
	assert_int_equal(eval_headers(fx, "/v2/x", jason), 0);
	assert_int_equal(eval_headers(fx, "/v1/x", jason), 1);
	assert_int_equal(eval_headers(fx, "/v2/x", NULL), 1);
	assert_int_equal(eval_headers(fx, "/anything", admin), 0);
}

static void
test_condition_dedup_and_workers(void **state)
{
	struct fixture *fx = *state;
	const char *jason[] = {"end-user: jason", NULL};
	int a, b, n;
	struct req q;
	unsigned int w;

	a = cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "end-user", "jason");
	b = cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "END-USER", "jason");
	n = cond_full(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "end-user", "jason",
		      false, true);
	assert_int_equal(a, b);
	assert_int_not_equal(a, n);
	clause(fx, 0, a, -1, -1);
	clause(fx, 1, n, -1, -1);
	build(fx, 4);
	assert_int_equal(gw_match_set_condition_count(fx->set), 1);
	assert_int_equal(gw_match_set_database_count(fx->set), 1);
	assert_true(gw_match_set_memory(fx->set) > 0);
	for (w = 0; w < 4; w++) {
		req_init(&q, "GET", "/", "h", jason);
		assert_int_equal(gw_match_set_eval(fx->set, w, &q.r), 0);
		req_init(&q, "GET", "/", "h", NULL);
		assert_int_equal(gw_match_set_eval(fx->set, w, &q.r), 1);
	}
}

static void
test_empty_set(void **state)
{
	struct fixture *fx = *state;

	build(fx, 1);
	assert_int_equal(eval_path(fx, "/"), -1);
}

/* ---- errors ---- */

static void
test_invalid_patterns_rejected(void **state)
{
	struct fixture *fx = *state;
	struct gw_match_condition c = {
		.field = GW_MATCH_URI, .kind = GW_MATCH_REGEX, .value = "(a)\\1",
		.label = "VirtualService default/bad http[0].match[0].uri",
	};
	int id;

	id = gw_match_set_builder_add_condition(fx->b, &c, fx->err, sizeof(fx->err));
	assert_true(id >= 0);
	clause(fx, 0, id, -1, -1);
	fx->set = gw_match_set_build(fx->b, 1, fx->err, sizeof(fx->err));
	assert_null(fx->set);
	print_message("%s\n", fx->err);
	assert_non_null(strstr(fx->err, "(a)\\1"));
	assert_non_null(strstr(fx->err, "default/bad"));
	assert_non_null(strstr(fx->err, "Back-references"));

	/* lookaround: also refused by Hyperscan (and RE2) */
	gw_match_set_builder_free(fx->b);
	fx->b = gw_match_set_builder_create();
	c.value = "/(?=a)a";
	c.kind = GW_MATCH_REGEX;
	c.field = GW_MATCH_HEADER;
	c.name = "x";
	id = gw_match_set_builder_add_condition(fx->b, &c, fx->err, sizeof(fx->err));
	clause(fx, 0, id, -1, -1);
	assert_null(gw_match_set_build(fx->b, 1, fx->err, sizeof(fx->err)));
	assert_non_null(strstr(fx->err, "(?=a)"));

	/* what would escape the anchoring group is refused at once */
	c.value = "a)|(b";
	assert_int_equal(gw_match_set_builder_add_condition(fx->b, &c, fx->err,
							    sizeof(fx->err)), -EINVAL);
	assert_non_null(strstr(fx->err, "a)|(b"));
	c.value = "abc\\";
	assert_int_equal(gw_match_set_builder_add_condition(fx->b, &c, fx->err,
							    sizeof(fx->err)), -EINVAL);
	c.value = "[abc";
	assert_int_equal(gw_match_set_builder_add_condition(fx->b, &c, fx->err,
							    sizeof(fx->err)), -EINVAL);
	c.value = "(?x)a # )";
	assert_int_equal(gw_match_set_builder_add_condition(fx->b, &c, fx->err,
							    sizeof(fx->err)), -EINVAL);
	c.name = NULL;
	c.value = "a";
	assert_int_equal(gw_match_set_builder_add_condition(fx->b, &c, fx->err,
							    sizeof(fx->err)), -EINVAL);
	c.field = GW_MATCH_PORT;
	c.port = 0;
	assert_int_equal(gw_match_set_builder_add_condition(fx->b, &c, fx->err,
							    sizeof(fx->err)), -EINVAL);
	assert_int_equal(gw_match_set_builder_add_clause(fx->b, 0,
				(int[]){1000}, 1), -EINVAL);
}

static void
test_regex_tricky_but_valid(void **state)
{
	struct fixture *fx = *state;

	/* ')' in a class, escaped parens, \Q..\E, POSIX class */
	clause(fx, 0, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "/[)(]x\\(y\\)"),
	       -1, -1);
	clause(fx, 1, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "/\\Q(.*)\\E!"),
	       -1, -1);
	clause(fx, 2, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "/[[:digit:])]+"),
	       -1, -1);
	clause(fx, 3, cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, "/q\\Q)"), -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/)x(y)"), 0);
	assert_int_equal(eval_path(fx, "/(.*)!"), 1);
	assert_int_equal(eval_path(fx, "/abc!"), -1);
	assert_int_equal(eval_path(fx, "/12)3"), 2);
	assert_int_equal(eval_path(fx, "/q)"), 3);
}

/* ---- scale ---- */

static void
test_ten_thousand_conditions(void **state)
{
	struct fixture *fx = *state;
	char v[64], hdr[64];
	const char *hdrs[2] = {hdr, NULL};
	struct timespec t0, t1;
	uint32_t r;

	for (r = 0; r < 10000; r++) {
		int c0, c1 = -1;

		/* regexes cost Hyperscan ~1 ms each to compile: 1 in 10 */
		switch (r % 10) {
		case 0: case 1: case 2: case 3:
			snprintf(v, sizeof(v), "/svc%u/", r);
			c0 = cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, v);
			break;
		case 4: case 5: case 6: case 7:
			snprintf(v, sizeof(v), "/exact/%u", r);
			c0 = cond(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, v);
			break;
		case 8:
			snprintf(v, sizeof(v), "/h/%u", r);
			c0 = cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, v);
			snprintf(v, sizeof(v), "tenant-%u", r);
			c1 = cond(fx, GW_MATCH_HEADER, GW_MATCH_PREFIX, "x-tenant", v);
			break;
		default:
			snprintf(v, sizeof(v), "/re%u/[0-9]+", r);
			c0 = cond(fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, v);
			snprintf(v, sizeof(v), "tenant-%u", r % 100);
			c1 = cond(fx, GW_MATCH_HEADER, GW_MATCH_EXACT, "x-tenant", v);
			break;
		}
		clause(fx, r, c0, c1, -1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	build(fx, 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("10,000 routes: %u conditions, build %.0f ms, %zu KiB\n",
		      gw_match_set_condition_count(fx->set),
		      (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
		      gw_match_set_memory(fx->set) / 1024);
	/* 10,000 uri conditions, 1,000 tenant prefixes, 10 tenant names */
	assert_int_equal(gw_match_set_condition_count(fx->set), 10000 + 1000 + 10);
	assert_int_equal(eval_path(fx, "/svc0/x"), 0);
	assert_int_equal(eval_path(fx, "/svc9993/"), 9993);
	assert_int_equal(eval_path(fx, "/exact/9997"), 9997);
	assert_int_equal(eval_path(fx, "/exact/9997/"), -1);
	snprintf(hdr, sizeof(hdr), "x-tenant: tenant-%u", 9999 % 100);
	assert_int_equal(eval_headers(fx, "/re9999/42", hdrs), 9999);
	assert_int_equal(eval_headers(fx, "/re9999/42", NULL), -1);
	snprintf(hdr, sizeof(hdr), "x-tenant: tenant-9998-x");
	assert_int_equal(eval_headers(fx, "/h/9998/y", hdrs), 9998);
	assert_int_equal(eval_path(fx, "/nothing"), -1);
}

/*
 * Many uri literals (long probe chains in a big table): every route's
 * path finds its own route, exact and prefix literals of the same text
 * both found, near misses find none.
 */
static void
test_every_route_of_many(void **state)
{
	struct fixture *fx = *state;
	char v[64];
	uint32_t r;

	/* routes 0..3999: exact /rN/ for N = 3k; 4000 + N: prefix /rN/ */
	for (r = 0; r < 4000; r++) {
		snprintf(v, sizeof(v), "/r%u/", 3 * r);
		clause(fx, r, cond(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, v), -1, -1);
	}
	for (r = 0; r < 12000; r++) {
		snprintf(v, sizeof(v), "/r%u/", r);
		clause(fx, 4000 + r, cond(fx, GW_MATCH_URI, GW_MATCH_PREFIX, NULL, v),
		       -1, -1);
	}
	build(fx, 2);
	print_message("16,000 routes: %zu KiB\n", gw_match_set_memory(fx->set) / 1024);
	for (r = 0; r < 12000; r++) {
		snprintf(v, sizeof(v), "/r%u/item", r);
		assert_int_equal(eval_path(fx, v), (int)(4000 + r));
		snprintf(v, sizeof(v), "/r%u/", r);
		assert_int_equal(eval_path(fx, v),
				 r % 3 == 0 ? (int)(r / 3) : (int)(4000 + r));
		snprintf(v, sizeof(v), "/r%u", r);
		assert_int_equal(eval_path(fx, v), -1);
		snprintf(v, sizeof(v), "/R%u/", r);
		assert_int_equal(eval_path(fx, v), -1);
	}
	assert_int_equal(eval_path(fx, "/r12000/"), -1);
	assert_int_equal(eval_path(fx, "/r/"), -1);
}

static void
test_shared_conditions(void **state)
{
	struct fixture *fx = *state;
	const char *block[] = {"x-block: 1", NULL};
	int get, unblocked, c;
	struct req q;
	char v[32];
	uint32_t r;

	/* every route tests method GET and not x-block, plus its own uri */
	get = cond(fx, GW_MATCH_METHOD, GW_MATCH_EXACT, NULL, "GET");
	unblocked = cond_full(fx, GW_MATCH_HEADER, GW_MATCH_PRESENT, "x-block",
			      NULL, false, true);
	for (r = 0; r < 10000; r++) {
		snprintf(v, sizeof(v), "/r/%u", r);
		c = cond(fx, GW_MATCH_URI, GW_MATCH_EXACT, NULL, v);
		clause(fx, r, get, unblocked, c);
	}
	clause(fx, 10000, get, -1, -1);
	clause(fx, 10001, -1, -1, -1);
	build(fx, 1);
	assert_int_equal(eval_path(fx, "/r/0"), 0);
	assert_int_equal(eval_path(fx, "/r/5000"), 5000);
	assert_int_equal(eval_path(fx, "/r/9999"), 9999);
	assert_int_equal(eval_path(fx, "/other"), 10000);
	assert_int_equal(eval_headers(fx, "/r/9999", block), 10000);
	req_init(&q, "POST", "/r/7", "h", NULL);
	assert_int_equal(gw_match_set_eval(fx->set, 0, &q.r), 10001);
}

/* Build a set of its own: route 0 when the uri matches @p uri_re (caseless
 * or not), route 1 when header x-v matches "v[0-9]+". */
static struct gw_match_set *
regex_set(const char *uri_re, bool caseless)
{
	struct fixture fx = {0};
	struct gw_match_set *s;

	fx.b = gw_match_set_builder_create();
	assert_non_null(fx.b);
	clause(&fx, 0, cond_full(&fx, GW_MATCH_URI, GW_MATCH_REGEX, NULL, uri_re,
				 caseless, false), -1, -1);
	clause(&fx, 1, cond(&fx, GW_MATCH_HEADER, GW_MATCH_REGEX, "x-v", "v[0-9]+"),
	       -1, -1);
	s = gw_match_set_build(fx.b, 2, fx.err, sizeof(fx.err));
	if (s == NULL)
		fail_msg("build: %s", fx.err);
	gw_match_set_builder_free(fx.b);
	return s;
}

static int
eval_set(const struct gw_match_set *s, unsigned int w, const char *path,
	 const char *const *headers)
{
	struct req q;

	req_init(&q, "GET", path, "h", headers);
	return gw_match_set_eval(s, w, &q.r);
}

/* An apply that changes no pattern compiles no regex again: a set built
 * from the same regexes as a live set shares its databases, and a shared
 * database outlives the set that compiled it. */
static void
test_regex_databases_shared(void **state)
{
	const char *v7[] = {"x-v: v7", NULL};
	struct gw_match_db_cache_stats s0, st;
	struct gw_match_set *a, *b, *c;

	(void)state;
	gw_match_db_cache_stats(&s0);
	a = regex_set("/api/.*", false);
	gw_match_db_cache_stats(&st);
	assert_int_equal(st.misses - s0.misses, 2); /* uri and header x-v */
	assert_int_equal(st.hits - s0.hits, 0);
	assert_int_equal(st.entries - s0.entries, 2);

	b = regex_set("/api/.*", false);
	gw_match_db_cache_stats(&st);
	assert_int_equal(st.misses - s0.misses, 2);
	assert_int_equal(st.hits - s0.hits, 2);
	assert_int_equal(st.entries - s0.entries, 2);

	/* a flag is part of the pattern: caseless compiles its own uri db */
	c = regex_set("/api/.*", true);
	gw_match_db_cache_stats(&st);
	assert_int_equal(st.misses - s0.misses, 3);
	assert_int_equal(st.hits - s0.hits, 3);
	assert_int_equal(st.entries - s0.entries, 3);
	assert_int_equal(eval_set(c, 0, "/API/x", NULL), 0);
	assert_int_equal(eval_set(b, 0, "/API/x", NULL), -1);

	/* the set that compiled them goes; the sharer still scans them */
	gw_match_set_free(a);
	gw_match_db_cache_stats(&st);
	assert_int_equal(st.entries - s0.entries, 3);
	assert_int_equal(eval_set(b, 1, "/api/x", NULL), 0);
	assert_int_equal(eval_set(b, 1, "/web", v7), 1);
	assert_int_equal(eval_set(b, 0, "/web", NULL), -1);

	gw_match_set_free(b);
	gw_match_set_free(c);
	gw_match_db_cache_stats(&st);
	assert_int_equal(st.entries, s0.entries);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_uri_regex_full_match),
		T(test_uri_regex_no_newline_slack),
		T(test_uri_exact_and_prefix),
		T(test_regex_inline_caseless),
		T(test_ignore_uri_case),
		T(test_headers_exact_prefix_regex),
		T(test_header_repeated_joined),
		T(test_header_present),
		T(test_header_empty_value),
		T(test_without_headers),
		T(test_negation_with_positive),
		T(test_query_params),
		T(test_port_method_scheme_authority),
		T(test_first_match_order),
		T(test_or_across_clauses_and_within),
		T(test_condition_dedup_and_workers),
		T(test_empty_set),
		T(test_invalid_patterns_rejected),
		T(test_regex_tricky_but_valid),
		T(test_ten_thousand_conditions),
		T(test_every_route_of_many),
		T(test_shared_conditions),
		T(test_regex_databases_shared),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
