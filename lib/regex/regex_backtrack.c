/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference matcher (tests and fuzzer only): depth-first search of the
 * program in priority order, each (instruction, offset) explored once, as
 * RE2's BitState. The first MATCH reached is the leftmost-first answer, so
 * it must agree with the Pike VM on every span; a second algorithm over the
 * same program is what the fuzzer compares against.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "regex_private.h"

#define RESTORE 0x80000000u

struct job {
	uint32_t pc;  /* or slot | RESTORE */
	uint32_t pos; /* or the old capture value */
};

int
regex_match_backtrack(const struct gw_regex *re, const char *str, size_t len,
		      size_t start, struct gw_regex_span caps[10])
{
	const uint8_t *s = (const uint8_t *)str;
	size_t cols = len + 1, nbits = (size_t)re->ninst * cols;
	uint8_t *visited;
	struct job *stack = NULL;
	size_t sp = 0, cap = 0;
	uint32_t slots[2 * (GW_REGEX_MAX_GROUPS + 1)];
	int found = 0;

	if (start > len || len >= UINT32_MAX)
		return -EINVAL;
	visited = calloc(nbits / 8 + 1, 1);
	if (visited == NULL)
		return -ENOMEM;
	for (size_t p0 = start; p0 <= len && !found; p0++) {
		if (re->anchored && p0 > 0)
			break;
		memset(slots, 0xff, sizeof(slots));
		sp = 0;
		if (cap == 0) {
			cap = 64;
			stack = malloc(cap * sizeof(*stack));
			if (stack == NULL) {
				free(visited);
				return -ENOMEM;
			}
		}
		stack[sp++] = (struct job){0, (uint32_t)p0};
		while (sp > 0 && !found) {
			struct job j = stack[--sp];
			uint32_t pc = j.pc, p = j.pos;

			if (pc & RESTORE) {
				slots[pc & ~RESTORE] = j.pos;
				continue;
			}
			for (;;) {
				const struct regex_inst *in = &re->prog[pc];
				size_t bit = (size_t)pc * cols + p;

				if (visited[bit / 8] & (1u << (bit % 8)))
					break;
				visited[bit / 8] |= (uint8_t)(1u << (bit % 8));
				if (sp + 2 > cap) {
					struct job *ns = realloc(stack, 2 * cap * sizeof(*stack));

					if (ns == NULL) {
						free(stack);
						free(visited);
						return -ENOMEM;
					}
					stack = ns;
					cap *= 2;
				}
				if (in->op == REGEX_OP_MATCH) {
					found = 1;
					break;
				} else if (in->op == REGEX_OP_JMP) {
					pc = in->x;
				} else if (in->op == REGEX_OP_SPLIT) {
					stack[sp++] = (struct job){in->y, p};
					pc = in->x;
				} else if (in->op == REGEX_OP_SAVE) {
					if (in->x < re->nslots) {
						stack[sp++] = (struct job){in->x | RESTORE, slots[in->x]};
						slots[in->x] = p;
					}
					pc++;
				} else if (in->op == REGEX_OP_ASSERT) {
					if (!regex_assert_holds(in->x, s, (uint32_t)len, p))
						break;
					pc++;
				} else {
					if (p >= len || !regex_inst_accepts(re, in, s[p]))
						break;
					pc++;
					p++;
				}
			}
		}
	}
	free(stack);
	free(visited);
	if (found && caps != NULL) {
		for (uint32_t k = 0; k < 10; k++) {
			if (2 * k + 1 < re->nslots && slots[2 * k] != UINT32_MAX &&
			    slots[2 * k + 1] != UINT32_MAX) {
				caps[k].start = slots[2 * k];
				caps[k].end = slots[2 * k + 1];
			} else {
				caps[k].start = caps[k].end = GW_REGEX_NOPOS;
			}
		}
	}
	return found;
}
