/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_REGEX_H
#define GW_REGEX_H

/**
 * @file
 * A small RE2-subset regex engine with capture groups, for Istio's
 * `rewrite.uriRegexRewrite` (Envoy `regex_rewrite` with `google_re2`).
 *
 * Compiling runs on the control lcore and allocates. Matching is a Pike VM
 * (Thompson NFA simulation with capture slots): linear in the subject
 * length times the program size, leftmost-first (Perl/RE2) submatch
 * semantics, no recursion, no heap, no locks. All its working memory is a
 * caller-provided scratch of gw_regex_scratch_size() bytes, allocated once
 * (e.g. per worker when a snapshot is built); one scratch serves one match
 * at a time.
 *
 * Supported syntax: literals, `.`, classes (`[abc]`, `[a-z0-9_]`, `[^/]`,
 * `[[:alpha:]]`, escapes inside), `\d \D \w \W \s \S`, `\b \B \A \z`,
 * escaped punctuation (`\. \/ \\ \-` ...), `\n \t \r \f \v \a`, `\xHH`,
 * `\x{HH}`, octal `\0NN`; anchors `^ $`; groups `( )` (capturing),
 * `(?: )`, named `(?P<name> )` and `(?<name> )` (accepted as ordinary
 * numbered capturing groups); flags `(?imsU)`, `(?-i)`, `(?i: )`;
 * alternation `|`; quantifiers `* + ? {n} {n,} {n,m}`, greedy and lazy.
 * Rejected with a message: backreferences, lookaround, `\p` Unicode
 * classes, `\Q..\E`, `\C`, repetition counts above 1000, programs above
 * GW_REGEX_MAX_INST instructions.
 *
 * Matching is on bytes: `(?i)` folds ASCII only, and `.`/negated classes
 * consume one byte where RE2 (UTF-8 mode) consumes one code point. The
 * results differ only when one `.` must cover a non-ASCII character as a
 * unit; URL paths are ASCII (percent-encoded) in practice.
 *
 * Any number of groups may be written, but only groups 1..9 are recorded
 * (rewrites can refer to \1..\9 only).
 */

#include <stddef.h>

/** Most capture groups recorded (\1..\9); more may appear in a pattern. */
#define GW_REGEX_MAX_GROUPS 9
/** Largest compiled program, in instructions. */
#define GW_REGEX_MAX_INST 1024
/** Largest count in `{n}`, `{n,}`, `{n,m}` (as RE2). */
#define GW_REGEX_MAX_REPEAT 1000
/** Span bounds of a group that did not take part in the match. */
#define GW_REGEX_NOPOS ((size_t)-1)

struct gw_regex;

/** A capture: bytes [start, end) of the subject, or both GW_REGEX_NOPOS. */
struct gw_regex_span {
	size_t start;
	size_t end;
};

/**
 * Compile @p pattern (NUL-terminated). Returns the compiled regex, or NULL
 * with a message in @p err naming the position, e.g.
 * "regex 'a(b': missing ) at offset 3" (-ENOMEM gives "out of memory").
 */
struct gw_regex *gw_regex_compile(const char *pattern, char *err, size_t errlen);

/** Free a compiled regex (NULL is a no-op). */
void gw_regex_free(struct gw_regex *re);

/** Number of capturing groups written in the pattern (may exceed 9). */
unsigned int gw_regex_group_count(const struct gw_regex *re);

/** Number of instructions of the compiled program (for tests and stats). */
unsigned int gw_regex_program_size(const struct gw_regex *re);

/**
 * Bytes of scratch that gw_regex_match() and gw_regex_replace_all() need
 * for @p re. The scratch must be aligned to 4 bytes (any malloc is); its
 * contents need no initialisation and are meaningless between calls.
 */
size_t gw_regex_scratch_size(const struct gw_regex *re);

/**
 * Find the leftmost-first match of @p re in @p s[0..len) that starts at or
 * after @p start. `^`, `\A` and `\b` look at the whole subject, so `^`
 * matches only at offset 0 whatever @p start is (as RE2 with a start
 * position). On a match fills @p caps (if not NULL): caps[0] is the whole
 * match, caps[1..9] the groups, GW_REGEX_NOPOS for groups that did not
 * take part or do not exist.
 *
 * @return 1 match, 0 none, -EINVAL if start > len or len >= 2^32 - 1.
 */
int gw_regex_match(const struct gw_regex *re, void *scratch, const char *s,
		   size_t len, size_t start, struct gw_regex_span caps[10]);

/**
 * Check a rewrite string for @p re as Envoy does at config time: `\0`..`\9`
 * refer to groups (not beyond the pattern's group count), `\\` is a
 * backslash, any other `\` is an error. 0, or -EINVAL with a message.
 */
int gw_regex_check_rewrite(const struct gw_regex *re, const char *rewrite,
			   char *err, size_t errlen);

/**
 * Replace every non-overlapping match in @p subject by @p rewrite (like
 * RE2::GlobalReplace, which Envoy's regex_rewrite uses): `\N` inserts group
 * N (empty if it did not take part), `\\` a backslash. An empty match right
 * after the previous match is skipped by copying one character (one UTF-8
 * sequence when valid). Text between matches is copied. The result goes to
 * @p out (not NUL-terminated, must not overlap the subject), its length to
 * @p outlen. Envoy applies this to the path without query and fragment,
 * then appends the query again; that is the caller's job.
 *
 * @return the number of replacements (0: out holds a copy of the subject),
 *   -ENOSPC if @p outcap is too small (out holds a truncated result),
 *   -EINVAL for a rewrite that gw_regex_check_rewrite() rejects or a bad
 *   subject length.
 */
int gw_regex_replace_all(const struct gw_regex *re, void *scratch,
			 const char *subject, size_t len, const char *rewrite,
			 char *out, size_t outcap, size_t *outlen);

#endif /* GW_REGEX_H */
