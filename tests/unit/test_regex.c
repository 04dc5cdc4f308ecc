/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/regex: a table of (pattern, subject, expected spans)
 * with RE2's leftmost-first semantics, global replacement as Envoy's
 * regex_rewrite (RE2::GlobalReplace) including the Envoy/Istio doc
 * examples, rewrite validation, compile errors with offsets, limits, and a
 * randomized cross-check of the Pike VM against the reference backtracker.
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

#include "gw_regex.h"
#include "regex_private.h"

/* Spans as text: "0-19,9-12,-" (a '-' for a group that did not take part),
 * groups up to the pattern's count (at most 9); "" for no match. */
static void
spans_text(const struct gw_regex *re, int rc, const struct gw_regex_span *caps,
	   char *buf, size_t len)
{
	unsigned int n = gw_regex_group_count(re);
	size_t off = 0;

	buf[0] = '\0';
	if (rc != 1)
		return;
	if (n > 9)
		n = 9;
	for (unsigned int k = 0; k <= n; k++) {
		if (caps[k].start == GW_REGEX_NOPOS)
			off += (size_t)snprintf(buf + off, len - off, "%s-", k ? "," : "");
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%zu-%zu", k ? "," : "",
						caps[k].start, caps[k].end);
	}
}

static struct gw_regex *
compile_ok(const char *pattern)
{
	char err[256] = "";
	struct gw_regex *re = gw_regex_compile(pattern, err, sizeof(err));

	if (re == NULL)
		fail_msg("compile '%s': %s", pattern, err);
	return re;
}

/* Match with the Pike VM and the backtracker; both must agree. */
static int
match_both(const struct gw_regex *re, const char *s, size_t len, size_t start,
	   struct gw_regex_span caps[10])
{
	struct gw_regex_span ref[10];
	void *scratch = malloc(gw_regex_scratch_size(re));
	int rc, rc2;

	assert_non_null(scratch);
	/* garbage in the scratch must not matter */
	memset(scratch, 0xa5, gw_regex_scratch_size(re));
	rc = gw_regex_match(re, scratch, s, len, start, caps);
	rc2 = regex_match_backtrack(re, s, len, start, ref);
	free(scratch);
	assert_int_equal(rc, rc2);
	if (rc == 1) {
		for (int k = 0; k < 10; k++) {
			assert_int_equal(caps[k].start, ref[k].start);
			assert_int_equal(caps[k].end, ref[k].end);
		}
	}
	return rc;
}

struct match_case {
	const char *pattern;
	const char *subject;
	size_t start;
	const char *expect; /* spans_text(), "" = no match */
};

static const struct match_case match_cases[] = {
	/* Istio/Envoy doc example */
	{"^/service/([^/]+)(/.*)$", "/service/foo/v1/api", 0, "0-19,9-12,12-19"},
	{"^/service/([^/]+)(/.*)$", "/service/foo", 0, ""},
	{"^(.*?)one(.*)$", "/xxx/one/yyy/one/zzz", 0, "0-20,0-5,8-20"},
	{"^(.*)one(.*)$", "/xxx/one/yyy/one/zzz", 0, "0-20,0-13,16-20"},
	/* leftmost-first, not leftmost-longest */
	{"a|ab", "ab", 0, "0-1"},
	{"ab|a", "ab", 0, "0-2"},
	{"(a|ab)(c|bcd)(d*)", "abcd", 0, "0-4,0-1,1-4,4-4"},
	{"b|ab", "xab", 0, "1-3"},
	/* greedy and lazy */
	{"a*", "aaa", 0, "0-3"},
	{"a*?", "aaa", 0, "0-0"},
	{"a+?", "aaa", 0, "0-1"},
	{"a??b", "ab", 0, "0-2"},
	{"(a+)(a*)", "aaa", 0, "0-3,0-3,3-3"},
	{"(a+?)(a*)", "aaa", 0, "0-3,0-1,1-3"},
	{"(a*?)(a*?)b", "aab", 0, "0-3,0-0,0-2"},
	{"<(.+)>", "<a><b>", 0, "0-6,1-5"},
	{"<(.+?)>", "<a><b>", 0, "0-3,1-2"},
	{"(?U)a+", "aaa", 0, "0-1"},
	{"(?U)a+?", "aaa", 0, "0-3"},
	/* anchors and start offsets */
	{"^abc", "xabc", 0, ""},
	{"abc$", "abcx", 0, ""},
	{"abc$", "xabc", 0, "1-4"},
	{"^a", "aa", 1, ""},
	{"a", "aXa", 1, "2-3"},
	{"\\Aa", "ba", 0, ""},
	{"a\\z", "ab a", 0, "3-4"},
	{"^$", "", 0, "0-0"},
	{"$", "ab", 0, "2-2"},
	{"(?m)^b$", "a\nb\nc", 0, "2-3"},
	{"^b$", "a\nb\nc", 0, ""},
	{"\\bfoo\\b", "a foo b", 0, "2-5"},
	{"\\bfoo\\b", "afoo", 0, ""},
	{"\\Boo", "foo", 0, "1-3"},
	/* dot and newline */
	{"a.c", "a\nc", 0, ""},
	{"(?s)a.c", "a\nc", 0, "0-3"},
	{"a.c", "a/c", 0, "0-3"},
	/* classes and escapes */
	{"[a-z0-9_]+", "--ab_9Z", 0, "2-6"},
	{"[^/]+", "/foo/bar", 0, "1-4"},
	{"\\d+", "v123x", 0, "1-4"},
	{"\\D\\d", "12a3", 0, "2-4"},
	{"\\w+", "..hi_1..", 0, "2-6"},
	{"\\W+", "ab-/cd", 0, "2-4"},
	{"\\s+", "a \t b", 0, "1-4"},
	{"\\S+", "  xy ", 0, "2-4"},
	{"[\\d.]+", "v1.2.3x", 0, "1-6"},
	{"[\\-a]+", "x-a-y", 0, "1-4"},
	{"[a-]+", "x-a-y", 0, "1-4"},
	{"[]a]+", "x]a]", 0, "1-4"},
	{"[^\\d]", "12a", 0, "2-3"},
	{"[\\w/]+", "!/a_b/c!", 0, "1-7"},
	{"[[:alpha:]]+", "12ab3", 0, "2-4"},
	{"[[:^digit:]x]+", "12ab3", 0, "2-4"},
	{"\\.", "a.b", 0, "1-2"},
	{"\\/", "a/b", 0, "1-2"},
	{"\\\\", "a\\b", 0, "1-2"},
	{"\\x41\\x{42}\\t", "zAB\t", 0, "1-4"},
	{"\\012", "a\nb", 0, "1-2"},
	{"a{,3}", "aa{,3}", 0, "1-6"},  /* not a repetition: literal, as RE2 */
	{"x}", "x}", 0, "0-2"},
	/* case-insensitive (Envoy doc example) */
	{"(?i)/xxx/", "/aaa/XxX/bbb", 0, "4-9"},
	{"(?i)[a-c]+", "xABCx", 0, "1-4"},
	{"(?i:a)b", "AB Ab", 0, "3-5"},
	{"a(?i)b|c", "C", 0, "0-1"},
	{"(?i)a(?-i)b", "Ab AB", 0, "0-2"},
	{"(?i)[^a]", "Ab", 0, "1-2"},
	/* counted repetition */
	{"a{2}", "aaa", 0, "0-2"},
	{"a{2,}", "aaaa", 0, "0-4"},
	{"a{2,3}", "aaaa", 0, "0-3"},
	{"a{2,3}?", "aaaa", 0, "0-2"},
	{"(ab){2}", "ababab", 0, "0-4,2-4"},
	{"a{0}b", "ab", 0, "1-2"},
	{"(a){0}b", "ab", 0, "1-2,-"},
	{"x{2,3}", "xaxx", 0, "2-4"},
	{"^[0-9]{3}-[0-9]{2,4}$", "123-4567", 0, "0-8"},
	{"^[0-9]{3}-[0-9]{2,4}$", "123-45678", 0, ""},
	/* groups */
	{"(a)|(b)", "b", 0, "0-1,-,0-1"},
	{"(?:a(b))?c", "c", 0, "0-1,-"},
	{"(a|b)*", "ab", 0, "0-2,1-2"},
	{"((a)|b)+", "ab", 0, "0-2,1-2,0-1"},
	{"(?P<seg>[^/]+)/(?<id>\\d+)", "/users/42", 0, "1-9,1-6,7-9"},
	{"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "abcdefghijk", 0,
	 "0-11,0-1,1-2,2-3,3-4,4-5,5-6,6-7,7-8,8-9"},
	{"()", "x", 0, "0-0,0-0"},
	{"(|a)b", "ab", 0, "0-2,0-1"},
	{"", "abc", 0, "0-0"},
	{"x*", "", 0, "0-0"},
	{"^*a", "a", 0, "0-1"},
};

static void
test_match_table(void **unused)
{
	(void)unused;
	for (size_t k = 0; k < sizeof(match_cases) / sizeof(match_cases[0]); k++) {
		const struct match_case *c = &match_cases[k];
		struct gw_regex *re = compile_ok(c->pattern);
		struct gw_regex_span caps[10];
		char got[256];
		int rc;

		rc = match_both(re, c->subject, strlen(c->subject), c->start, caps);
		assert_true(rc == 0 || rc == 1);
		spans_text(re, rc, caps, got, sizeof(got));
		if (strcmp(got, c->expect) != 0)
			fail_msg("'%s' on '%s' from %zu: got '%s', expected '%s'",
				 c->pattern, c->subject, c->start, got, c->expect);
		gw_regex_free(re);
	}
}

static void
test_match_bad_arguments(void **unused)
{
	struct gw_regex *re = compile_ok("a");
	void *scratch = malloc(gw_regex_scratch_size(re));
	struct gw_regex_span caps[10];

	(void)unused;
	assert_int_equal(gw_regex_match(re, scratch, "abc", 3, 4, caps), -EINVAL);
	assert_int_equal(gw_regex_match(re, scratch, "abc", 3, 3, caps), 0);
	/* NULL caps: only the verdict */
	assert_int_equal(gw_regex_match(re, scratch, "abc", 3, 0, NULL), 1);
	free(scratch);
	gw_regex_free(re);
}

/* Patterns that make a backtracker exponential stay linear here. */
static void
test_match_linear_time(void **unused)
{
	static const char *const pats[] = {"(a*)*b", "(a|a)*b", "(x+x+)+y", "(a|aa)+$x"};
	size_t len = 20000;
	char *s = malloc(len);
	struct gw_regex_span caps[10];
	clock_t t0 = clock();

	(void)unused;
	memset(s, 'a', len);
	for (size_t k = 0; k < 4; k++) {
		struct gw_regex *re = compile_ok(pats[k]);
		void *scratch = malloc(gw_regex_scratch_size(re));

		if (k == 2)
			memset(s, 'x', len);
		assert_int_equal(gw_regex_match(re, scratch, s, len, 0, caps), 0);
		free(scratch);
		gw_regex_free(re);
	}
	/* generous bound for ASan on a loaded 2-core machine */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 10.0);
	free(s);
}

struct replace_case {
	const char *pattern;
	const char *rewrite;
	const char *subject;
	const char *expect;
	int count;
};

static const struct replace_case replace_cases[] = {
	/* Envoy RouteAction.regex_rewrite documentation */
	{"^/service/([^/]+)(/.*)$", "\\2/instance/\\1", "/service/foo/v1/api",
	 "/v1/api/instance/foo", 1},
	{"one", "two", "/xxx/one/yyy/one/zzz", "/xxx/two/yyy/two/zzz", 2},
	{"^(.*?)one(.*)$", "\\1two\\2", "/xxx/one/yyy/one/zzz", "/xxx/two/yyy/one/zzz", 1},
	{"(?i)/xxx/", "/yyy/", "/aaa/XxX/bbb", "/aaa/yyy/bbb", 1},
	/* host_rewrite_path_regex example: the docs' result holds for one
	 * segment after the host; a greedy (.+) keeps all but the last */
	{"^/(.+)/.+$", "\\1", "/envoyproxy.io/path", "envoyproxy.io", 1},
	{"^/(.+)/.+$", "\\1", "/envoyproxy.io/some/path", "envoyproxy.io/some", 1},
	/* every non-overlapping match */
	{"/aaa/", "/", "/aaa/XaaaX/aaa/", "/XaaaX/", 2},
	{"aa", "b", "aaaaa", "bba", 2},
	{"zzz", "y", "/abc", "/abc", 0},
	/* empty matches advance by one character, as RE2::GlobalReplace */
	{"a*", "X", "baaac", "XbXcX", 3},
	{"x*", "-", "abc", "-a-b-c-", 4},
	{"", "/", "", "/", 1},
	{"\\b", "|", "ab cd", "|ab| |cd|", 4},
	{"x*", "-", "\xc3\xa9", "-\xc3\xa9-", 2},       /* one UTF-8 character */
	{"x*", "-", "\xc3(", "-\xc3-(-", 3},             /* invalid UTF-8: bytes */
	/* rewrite references */
	{"o+", "<\\0>", "foo boo", "f<oo> b<oo>", 2},
	{"b", "\\\\", "abc", "a\\c", 1},
	{"(a)|(b)", "[\\1\\2]", "ab", "[a][b]", 2},
	{"^/v1/(.*)", "/v2/\\1", "/v1/", "/v2/", 1},
	{"/+", "/", "//a///b/", "/a/b/", 3},
};

static void
test_replace_table(void **unused)
{
	(void)unused;
	for (size_t k = 0; k < sizeof(replace_cases) / sizeof(replace_cases[0]); k++) {
		const struct replace_case *c = &replace_cases[k];
		struct gw_regex *re = compile_ok(c->pattern);
		void *scratch = malloc(gw_regex_scratch_size(re));
		char out[256], err[256];
		size_t outlen = 0;
		int rc;

		assert_int_equal(gw_regex_check_rewrite(re, c->rewrite, err, sizeof(err)), 0);
		rc = gw_regex_replace_all(re, scratch, c->subject, strlen(c->subject),
					  c->rewrite, out, sizeof(out), &outlen);
		if (rc != c->count || outlen != strlen(c->expect) ||
		    memcmp(out, c->expect, outlen) != 0)
			fail_msg("'%s' -> '%s' on '%s': got %d '%.*s', expected %d '%s'",
				 c->pattern, c->rewrite, c->subject, rc, (int)outlen, out,
				 c->count, c->expect);
		free(scratch);
		gw_regex_free(re);
	}
}

static void
test_replace_enospc(void **unused)
{
	struct gw_regex *re = compile_ok("^/service/([^/]+)(/.*)$");
	void *scratch = malloc(gw_regex_scratch_size(re));
	const char *subj = "/service/foo/v1/api", *want = "/v1/api/instance/foo";
	char out[64];
	size_t outlen, need = strlen(want);

	(void)unused;
	/* exactly enough room */
	assert_int_equal(gw_regex_replace_all(re, scratch, subj, strlen(subj),
					      "\\2/instance/\\1", out, need, &outlen), 1);
	assert_int_equal(outlen, need);
	assert_memory_equal(out, want, need);
	/* one byte short, and no room at all */
	memset(out, 0, sizeof(out));
	assert_int_equal(gw_regex_replace_all(re, scratch, subj, strlen(subj),
					      "\\2/instance/\\1", out, need - 1, &outlen),
			 -ENOSPC);
	assert_true(outlen <= need - 1);
	assert_int_equal(out[need - 1], 0); /* nothing written past outcap */
	assert_int_equal(gw_regex_replace_all(re, scratch, subj, strlen(subj),
					      "\\2/instance/\\1", out, 0, &outlen), -ENOSPC);
	/* a copy of an unmatched subject needs room too */
	assert_int_equal(gw_regex_replace_all(re, scratch, "/other", 6, "x", out, 5,
					      &outlen), -ENOSPC);
	/* a rewrite that was not validated fails rather than guessing */
	assert_int_equal(gw_regex_replace_all(re, scratch, subj, strlen(subj), "\\q",
					      out, sizeof(out), &outlen), -EINVAL);
	assert_int_equal(gw_regex_replace_all(re, scratch, subj, strlen(subj), "\\3",
					      out, sizeof(out), &outlen), -EINVAL);
	free(scratch);
	gw_regex_free(re);
}

static void
test_check_rewrite(void **unused)
{
	struct gw_regex *re = compile_ok("^/(a)/(b)$");
	struct gw_regex *none = compile_ok("abc");
	char err[256];

	(void)unused;
	assert_int_equal(gw_regex_check_rewrite(re, "/\\2/\\1/\\0/\\\\", err, sizeof(err)), 0);
	assert_int_equal(gw_regex_check_rewrite(re, "", err, sizeof(err)), 0);
	assert_int_equal(gw_regex_check_rewrite(re, "/\\3", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "rewrite '/\\3': \\3 at offset 1 refers to group 3 "
			    "but the regex has 2 groups");
	assert_int_equal(gw_regex_check_rewrite(re, "/x\\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid escape \\n at offset 2"));
	assert_int_equal(gw_regex_check_rewrite(re, "/x\\", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "trailing \\ at offset 2"));
	assert_int_equal(gw_regex_check_rewrite(none, "\\0", err, sizeof(err)), 0);
	assert_int_equal(gw_regex_check_rewrite(none, "\\1", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has 0 groups"));
	gw_regex_free(re);
	gw_regex_free(none);
}

struct error_case {
	const char *pattern;
	const char *expect; /* the whole message */
};

static const struct error_case error_cases[] = {
	{"a(b", "regex 'a(b': missing ) at offset 3"},
	{"a)b", "regex 'a)b': unexpected ) at offset 1"},
	{"*a", "regex '*a': missing argument to repetition operator * at offset 0"},
	{"a|+", "regex 'a|+': missing argument to repetition operator + at offset 2"},
	{"(?i)*", "regex '(?i)*': missing argument to repetition operator * at offset 4"},
	{"a**", "regex 'a**': bad repetition operator ** at offset 2"},
	{"a{2,1}", "regex 'a{2,1}': bad repetition operator {2,1} (counts up to 1000, "
		   "n <= m) at offset 1"},
	{"a{1001}", "regex 'a{1001}': bad repetition operator {1001} (counts up to 1000, "
		    "n <= m) at offset 1"},
	{"[a-", "regex '[a-': missing ] at offset 3"},
	{"[z-a]", "regex '[z-a]': invalid character class range z-a at offset 1"},
	{"[[:foo:]]", "regex '[[:foo:]]': invalid character class [:foo:] at offset 1"},
	{"(a)\\1", "regex '(a)\\1': backreference \\1 is not supported at offset 3"},
	{"(?=a)", "regex '(?=a)': lookaround is not supported at offset 0"},
	{"a(?!b)", "regex 'a(?!b)': lookaround is not supported at offset 1"},
	{"(?<=a)b", "regex '(?<=a)b': lookaround is not supported at offset 0"},
	{"(?<!a)b", "regex '(?<!a)b': lookaround is not supported at offset 0"},
	{"(?P<>a)", "regex '(?P<>a)': invalid named capture group at offset 0"},
	{"(?z)", "regex '(?z)': invalid or unsupported group syntax (?z at offset 0"},
	{"\\pL", "regex '\\pL': Unicode class \\p is not supported at offset 0"},
	{"ab\\", "regex 'ab\\': trailing \\ at offset 2"},
	{"\\q", "regex '\\q': invalid escape sequence \\q at offset 0"},
	{"[\\q]", "regex '[\\q]': invalid escape sequence \\q in class at offset 1"},
	{"\\x{100}", "regex '\\x{100}': code point above \\xFF is not supported at offset 0"},
	{"a{1000}b{1000}", "regex 'a{1000}b{1000}': program too large (more than 1024 "
			   "instructions) at offset 7"},
};

static void
test_compile_errors(void **unused)
{
	(void)unused;
	for (size_t k = 0; k < sizeof(error_cases) / sizeof(error_cases[0]); k++) {
		char err[512] = "";
		struct gw_regex *re = gw_regex_compile(error_cases[k].pattern, err, sizeof(err));

		if (re != NULL)
			fail_msg("'%s' compiled", error_cases[k].pattern);
		if (strcmp(err, error_cases[k].expect) != 0)
			fail_msg("'%s': got \"%s\", expected \"%s\"", error_cases[k].pattern,
				 err, error_cases[k].expect);
	}
}

static void
test_compile_limits(void **unused)
{
	char err[512], deep[700];
	struct gw_regex *re;
	clock_t t0 = clock();

	(void)unused;
	/* nested repetitions multiply: rejected, and quickly */
	re = gw_regex_compile("((a{100}){100}){100}", err, sizeof(err));
	assert_null(re);
	assert_non_null(strstr(err, "program too large"));
	re = gw_regex_compile("(?:(?:(?:){1000}){1000}){1000}", err, sizeof(err));
	assert_null(re);
	assert_non_null(strstr(err, "program too large"));
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	/* nesting depth */
	memset(deep, '(', 300);
	memset(deep + 300, ')', 300);
	deep[600] = '\0';
	re = gw_regex_compile(deep, err, sizeof(err));
	assert_null(re);
	assert_non_null(strstr(err, "groups nested more than 200 deep"));
	/* long patterns are cut in the message */
	memset(deep, 'a', 300);
	strcpy(deep + 300, "(");
	re = gw_regex_compile(deep, err, sizeof(err));
	assert_null(re);
	assert_non_null(strstr(err, "aaa...': missing ) at offset 301"));
	/* a NULL error buffer is allowed */
	assert_null(gw_regex_compile("(", NULL, 0));
	/* the largest program that fits */
	re = compile_ok("a{1000}b{18}");
	assert_int_equal(gw_regex_program_size(re), 1021);
	gw_regex_free(re);
	/* the doc pattern is small, and so is its scratch */
	re = compile_ok("^/service/([^/]+)(/.*)$");
	assert_true(gw_regex_program_size(re) < 32);
	assert_int_equal(gw_regex_group_count(re), 2);
	assert_true(gw_regex_scratch_size(re) < 2048);
	gw_regex_free(re);
}

/* ---- randomized cross-check against the backtracker ---- */

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Append if it fits; a cut pattern is still a valid compiler input. */
static void
app(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);

	if (n + strlen(s) < cap)
		memcpy(buf + n, s, strlen(s) + 1);
}

static void
gen_pattern(uint32_t *seed, char *buf, size_t cap, int depth)
{
	static const char *const atoms[] = {
		"a", "b", ".", "[ab]", "[^a]", "\\d", "\\w", "^", "$", "\\b", "/", "x",
	};
	static const char *const quants[] = {"", "", "*", "+", "?", "*?", "+?", "??",
					     "{2}", "{1,2}", "{0,2}?", "{2,}"};
	size_t n = 1 + rnd(seed) % 4;

	for (size_t k = 0; k < n; k++) {
		uint32_t r = rnd(seed) % 10;

		if (r < 2 && depth < 3) {
			app(buf, cap, rnd(seed) % 3 ? "(" : "(?:");
			gen_pattern(seed, buf, cap, depth + 1);
			if (rnd(seed) % 2) {
				app(buf, cap, "|");
				gen_pattern(seed, buf, cap, depth + 1);
			}
			app(buf, cap, ")");
		} else {
			app(buf, cap, atoms[rnd(seed) % (sizeof(atoms) / sizeof(atoms[0]))]);
		}
		app(buf, cap, quants[rnd(seed) % (sizeof(quants) / sizeof(quants[0]))]);
	}
}

static void
test_random_cross_check(void **unused)
{
	uint32_t seed = 0x12345678;
	unsigned int compiled = 0, matched = 0;

	(void)unused;
	for (int iter = 0; iter < 4000; iter++) {
		char pat[256] = "", subj[24], err[256];
		struct gw_regex_span caps[10];
		struct gw_regex *re;
		size_t len = rnd(&seed) % sizeof(subj);

		gen_pattern(&seed, pat, sizeof(pat), 0);
		for (size_t k = 0; k < len; k++)
			subj[k] = "ab/x1 "[rnd(&seed) % 6];
		re = gw_regex_compile(pat, err, sizeof(err));
		if (re == NULL)
			continue; /* e.g. a quantified quantifier */
		compiled++;
		for (size_t start = 0; start <= len; start += 3)
			if (match_both(re, subj, len, start, caps) == 1) {
				matched++;
				for (int k = 0; k < 10; k++)
					assert_true(caps[k].start == GW_REGEX_NOPOS ||
						    (caps[k].start <= caps[k].end &&
						     caps[k].end <= len));
				assert_true(caps[0].start >= start);
			}
		gw_regex_free(re);
	}
	/* the generator must exercise both outcomes */
	assert_true(compiled > 3000);
	assert_true(matched > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_bad_arguments),
		cmocka_unit_test(test_match_linear_time),
		cmocka_unit_test(test_replace_table),
		cmocka_unit_test(test_replace_enospc),
		cmocka_unit_test(test_check_rewrite),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_compile_limits),
		cmocka_unit_test(test_random_cross_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
