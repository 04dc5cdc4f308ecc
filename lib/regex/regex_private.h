/* SPDX-License-Identifier: Apache-2.0 */
#ifndef REGEX_PRIVATE_H
#define REGEX_PRIVATE_H

/* Compiled program shared by the parser, the Pike VM and the reference
 * backtracker. */

#include <stdbool.h>
#include <stdint.h>

#include "gw_regex.h"

enum regex_op {
	REGEX_OP_BYTE,     /* a or b (b = a, or the other case) */
	REGEX_OP_CLASS,    /* x: index of a 256-bit set */
	REGEX_OP_ANY,      /* any byte */
	REGEX_OP_ANY_NONL, /* any byte but \n */
	REGEX_OP_MATCH,
	/* empty-width below: followed within one closure */
	REGEX_OP_SPLIT,    /* x preferred, y other */
	REGEX_OP_JMP,      /* x */
	REGEX_OP_SAVE,     /* x: capture slot */
	REGEX_OP_ASSERT,   /* x: enum regex_assert */
};

enum regex_assert {
	REGEX_BEGIN_TEXT,
	REGEX_END_TEXT,
	REGEX_BEGIN_LINE,
	REGEX_END_LINE,
	REGEX_WORD_BOUNDARY,
	REGEX_NOT_WORD_BOUNDARY,
};

struct regex_inst {
	uint8_t op;
	uint8_t a, b;
	uint32_t x, y;
};

struct gw_regex {
	struct regex_inst *prog;
	uint32_t ninst;
	uint32_t (*classes)[8];
	uint32_t nclasses;
	uint32_t ngroups;   /* groups in the pattern */
	uint32_t nslots;    /* 2 * (recorded groups + 1) */
	uint32_t nthreads;  /* instructions that hold a thread */
	bool anchored;      /* starts with \A: try offset 0 only */
};

#define REGEX_UNSET UINT32_MAX

static inline bool
regex_class_has(const struct gw_regex *re, uint32_t cls, uint8_t c)
{
	return (re->classes[cls][c >> 5] >> (c & 31)) & 1;
}

static inline bool
regex_is_word(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Does the consuming instruction @p in accept byte @p c? */
static inline bool
regex_inst_accepts(const struct gw_regex *re, const struct regex_inst *in, uint8_t c)
{
	switch (in->op) {
	case REGEX_OP_BYTE:
		return c == in->a || c == in->b;
	case REGEX_OP_CLASS:
		return regex_class_has(re, in->x, c);
	case REGEX_OP_ANY:
		return true;
	case REGEX_OP_ANY_NONL:
		return c != '\n';
	default:
		return false;
	}
}

static inline bool
regex_assert_holds(uint32_t kind, const uint8_t *s, uint32_t len, uint32_t p)
{
	bool before, after;

	switch (kind) {
	case REGEX_BEGIN_TEXT:
		return p == 0;
	case REGEX_END_TEXT:
		return p == len;
	case REGEX_BEGIN_LINE:
		return p == 0 || s[p - 1] == '\n';
	case REGEX_END_LINE:
		return p == len || s[p] == '\n';
	default:
		before = p > 0 && regex_is_word(s[p - 1]);
		after = p < len && regex_is_word(s[p]);
		return (before != after) == (kind == REGEX_WORD_BOUNDARY);
	}
}

/*
 * Reference matcher for tests and the fuzzer: a backtracker over the same
 * program that visits each (instruction, offset) once, as RE2's BitState.
 * It allocates; never call it on the fast path. Same contract as
 * gw_regex_match(), plus -ENOMEM.
 */
int regex_match_backtrack(const struct gw_regex *re, const char *s, size_t len,
			  size_t start, struct gw_regex_span caps[10]);

#endif /* REGEX_PRIVATE_H */
