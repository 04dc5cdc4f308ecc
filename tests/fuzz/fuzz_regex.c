/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for lib/regex. Input: one option byte (the start
 * offset), then "pattern \0 rewrite \0 subject" (the subject may hold NUL
 * bytes). The pattern is compiled; a failure must come with a positioned
 * message. Otherwise the subject is matched from several offsets with the
 * Pike VM, whose scratch is a heap block of exactly the advertised size
 * (ASan catches any overrun), and every result must equal the reference
 * backtracker's, with spans inside the subject and start <= end. A valid
 * rewrite is applied with gw_regex_replace_all() and compared with a
 * global replace built here on the backtracker; the exact output size
 * must fit and one byte less must give -ENOSPC.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gw_regex.h"
#include "regex_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define MAX_OUT (64 * 1024)

static void
check_spans(const struct gw_regex_span *caps, size_t len, size_t start)
{
	CHECK(caps[0].start != GW_REGEX_NOPOS);
	CHECK(caps[0].start >= start);
	for (int k = 0; k < 10; k++) {
		if (caps[k].start == GW_REGEX_NOPOS) {
			CHECK(caps[k].end == GW_REGEX_NOPOS);
			continue;
		}
		CHECK(caps[k].start <= caps[k].end && caps[k].end <= len);
	}
}

static bool
put(char *out, size_t *o, const char *src, size_t n)
{
	if (*o + n > MAX_OUT)
		return false;
	memcpy(out + *o, src, n);
	*o += n;
	return true;
}

/* Global replace on the backtracker, written from RE2::GlobalReplace's
 * rules independently of the library's loop. -1 if it outgrows MAX_OUT. */
static int
reference_replace(const struct gw_regex *re, const char *s, size_t len,
		  const char *rw, char *out, size_t *outlen)
{
	struct gw_regex_span c[10];
	size_t p = 0, o = 0, last = GW_REGEX_NOPOS;
	int count = 0;

	while (p <= len && regex_match_backtrack(re, s, len, p, c) == 1) {
		if (!put(out, &o, s + p, c[0].start - p))
			return -1;
		if (c[0].start == c[0].end && c[0].start == last) {
			size_t n = 1;
			const uint8_t *u = (const uint8_t *)s + p;

			if (p < len && u[0] >= 0xc2 && u[0] <= 0xf4) {
				size_t want = u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : 4;
				bool ok = want <= len - p;

				for (size_t k = 1; ok && k < want; k++)
					ok = (u[k] & 0xc0) == 0x80;
				n = ok ? want : 1;
			}
			if (p < len && !put(out, &o, s + p, n))
				return -1;
			p += n;
			continue;
		}
		for (size_t k = 0; rw[k]; k++) {
			if (rw[k] == '\\' && rw[k + 1] >= '0' && rw[k + 1] <= '9') {
				const struct gw_regex_span *g = &c[rw[++k] - '0'];

				if (g->start != GW_REGEX_NOPOS &&
				    !put(out, &o, s + g->start, g->end - g->start))
					return -1;
			} else {
				if (rw[k] == '\\')
					k++;
				if (!put(out, &o, rw + k, 1))
					return -1;
			}
		}
		p = c[0].end;
		last = p;
		count++;
	}
	if (p < len && !put(out, &o, s + p, len - p))
		return -1;
	*outlen = o;
	return count;
}

static void
run_replace(const struct gw_regex *re, void *scratch, const char *subj,
	    size_t len, const char *rw)
{
	static char out[MAX_OUT], ref[MAX_OUT];
	size_t outlen, reflen, again;
	int rc, want;

	rc = gw_regex_replace_all(re, scratch, subj, len, rw, out, MAX_OUT, &outlen);
	CHECK(outlen <= MAX_OUT);
	want = reference_replace(re, subj, len, rw, ref, &reflen);
	if (rc == -ENOSPC) {
		CHECK(want == -1);
		return;
	}
	CHECK(rc >= 0 && rc == want);
	CHECK(outlen == reflen && memcmp(out, ref, outlen) == 0);
	if (rc == 0)
		CHECK(outlen == len && memcmp(out, subj, len) == 0);
	/* the exact size fits; one byte less does not */
	CHECK(gw_regex_replace_all(re, scratch, subj, len, rw, out, outlen, &again) == rc);
	CHECK(again == outlen && memcmp(out, ref, outlen) == 0);
	if (outlen > 0)
		CHECK(gw_regex_replace_all(re, scratch, subj, len, rw, out, outlen - 1,
					   &again) == -ENOSPC);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *pattern, *rewrite, *subj;
	const uint8_t *z1, *z2;
	struct gw_regex_span caps[10], ref[10], caps2[10];
	struct gw_regex *re;
	size_t len, start;
	void *scratch;

	if (size < 1 || size > 8192)
		return 0;
	z1 = memchr(data + 1, 0, size - 1);
	if (z1 == NULL)
		return 0;
	z2 = memchr(z1 + 1, 0, size - (size_t)(z1 + 1 - data));
	if (z2 == NULL)
		return 0;
	pattern = strndup((const char *)data + 1, (size_t)(z1 - data - 1));
	rewrite = strndup((const char *)z1 + 1, (size_t)(z2 - z1 - 1));
	len = size - (size_t)(z2 + 1 - data);
	subj = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
	CHECK(pattern && rewrite && subj);
	memcpy(subj, z2 + 1, len);

	err[0] = '\0';
	re = gw_regex_compile(pattern, err, sizeof(err));
	if (re == NULL) {
		CHECK(strncmp(err, "regex '", 7) == 0 && strstr(err, " at offset ") != NULL);
		goto out;
	}
	CHECK(gw_regex_program_size(re) <= GW_REGEX_MAX_INST);
	scratch = malloc(gw_regex_scratch_size(re));
	CHECK(scratch != NULL);

	start = len ? data[0] % (len + 1) : 0;
	for (size_t s = start, n = 0; s <= len && n < 4; s += 1 + s / 2, n++) {
		int rc = gw_regex_match(re, scratch, subj, len, s, caps);
		int rc2 = regex_match_backtrack(re, subj, len, s, ref);

		CHECK(rc == 0 || rc == 1);
		CHECK(rc == rc2);
		if (rc == 1) {
			check_spans(caps, len, s);
			CHECK(memcmp(caps, ref, sizeof(caps)) == 0);
			/* the scratch carries nothing from one call to the next */
			CHECK(gw_regex_match(re, scratch, subj, len, s, caps2) == 1);
			CHECK(memcmp(caps, caps2, sizeof(caps)) == 0);
		}
	}
	CHECK(gw_regex_match(re, scratch, subj, len, len + 1, caps) == -EINVAL);

	if (gw_regex_check_rewrite(re, rewrite, err, sizeof(err)) == 0)
		run_replace(re, scratch, subj, len, rewrite);
	else
		CHECK(strncmp(err, "rewrite '", 9) == 0);
	free(scratch);
	gw_regex_free(re);
out:
	free(pattern);
	free(rewrite);
	free(subj);
	return 0;
}
