/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pike VM: all threads advance in lock step over the subject, one list per
 * offset, in priority order; a thread list holds each instruction at most
 * once (the first, highest-priority arrival wins), so the work is
 * O(len * program) with no backtracking. Fast path: no heap, no recursion,
 * all state in the caller's scratch.
 *
 * Scratch layout (uint32_t words):
 *   visited[ninst]            generation stamp of the list being built
 *   stack[2 * ninst + 2]      closure work list and capture restores
 *   pc[2][nthreads]           the two thread lists
 *   caps[2][nthreads * nslots]
 *   work[nslots], best[nslots]
 */
#include <errno.h>
#include <string.h>

#include "gw_common.h"
#include "regex_private.h"

#define RESTORE 0x80000000u

struct vm {
	const struct gw_regex *re;
	const uint8_t *s;
	uint32_t len;
	uint32_t gen;
	uint32_t *visited;
	uint32_t *stack;
	uint32_t *pc[2];
	uint32_t *caps[2];
	uint32_t n[2];
	uint32_t *work;
	uint32_t *best;
};

size_t
gw_regex_scratch_size(const struct gw_regex *re)
{
	size_t words = (size_t)re->ninst + 2 * (size_t)re->ninst + 2 +
		       2 * (size_t)re->nthreads * (1 + re->nslots) + 2 * re->nslots;

	return words * sizeof(uint32_t);
}

/*
 * Follow the empty-width instructions from @p pc0 at offset @p p with the
 * captures in vm->work, appending every consuming instruction reached to
 * list @p li in priority order. A SAVE pushes the old value under the
 * alternative pushed before it, so the alternative sees the captures as
 * they were at its split. Each instruction is visited once per list, each
 * visit pushes at most two words: the stack cannot overflow.
 */
static void
add_thread(struct vm *vm, int li, uint32_t pc0, uint32_t p)
{
	const struct gw_regex *re = vm->re;
	uint32_t *stack = vm->stack, sp = 0, nslots = re->nslots;

	stack[sp++] = pc0;
	while (sp > 0) {
		uint32_t pc = stack[--sp];

		if (pc & RESTORE) {
			vm->work[pc & ~RESTORE] = stack[--sp];
			continue;
		}
		for (;;) {
			const struct regex_inst *in = &re->prog[pc];
			uint32_t i;

			if (vm->visited[pc] == vm->gen)
				break;
			vm->visited[pc] = vm->gen;
			if (in->op == REGEX_OP_JMP) {
				pc = in->x;
			} else if (in->op == REGEX_OP_SPLIT) {
				stack[sp++] = in->y;
				pc = in->x;
			} else if (in->op == REGEX_OP_SAVE) {
				stack[sp++] = vm->work[in->x];
				stack[sp++] = in->x | RESTORE;
				vm->work[in->x] = p;
				pc++;
			} else if (in->op == REGEX_OP_ASSERT) {
				if (!regex_assert_holds(in->x, vm->s, vm->len, p))
					break;
				pc++;
			} else {
				i = vm->n[li]++;
				vm->pc[li][i] = pc;
				memcpy(vm->caps[li] + (size_t)i * nslots, vm->work,
				       nslots * sizeof(uint32_t));
				break;
			}
		}
	}
}

int
gw_regex_match(const struct gw_regex *re, void *scratch, const char *s,
	       size_t len, size_t start, struct gw_regex_span caps[10])
{
	uint32_t nslots = re->nslots, *w = scratch, p;
	struct vm vm;
	bool matched = false;
	int cur = 0;

	if (start > len || len >= UINT32_MAX)
		return -EINVAL;
	vm.re = re;
	vm.s = (const uint8_t *)s;
	vm.len = (uint32_t)len;
	vm.visited = w;
	w += re->ninst;
	vm.stack = w;
	w += 2 * re->ninst + 2;
	for (int k = 0; k < 2; k++) {
		vm.pc[k] = w;
		w += re->nthreads;
		vm.caps[k] = w;
		w += (size_t)re->nthreads * nslots;
		vm.n[k] = 0;
	}
	vm.work = w;
	vm.best = w + nslots;
	memset(vm.visited, 0, re->ninst * sizeof(uint32_t));
	vm.gen = 1;

	for (p = (uint32_t)start;; p++) {
		int nxt = cur ^ 1;

		/* A new thread starting here has the lowest priority. */
		if (!matched && (!re->anchored || p == 0)) {
			memset(vm.work, 0xff, nslots * sizeof(uint32_t));
			add_thread(&vm, cur, 0, p);
		}
		if (vm.n[cur] == 0 && (matched || re->anchored || p >= vm.len))
			break;
		vm.gen++;
		vm.n[nxt] = 0;
		for (uint32_t i = 0; i < vm.n[cur]; i++) {
			const struct regex_inst *in = &re->prog[vm.pc[cur][i]];
			const uint32_t *t = vm.caps[cur] + (size_t)i * nslots;

			if (in->op == REGEX_OP_MATCH) {
				/* Lower-priority threads can only lose: cut them. */
				memcpy(vm.best, t, nslots * sizeof(uint32_t));
				matched = true;
				break;
			}
			if (p < vm.len && regex_inst_accepts(re, in, vm.s[p])) {
				memcpy(vm.work, t, nslots * sizeof(uint32_t));
				add_thread(&vm, nxt, vm.pc[cur][i] + 1, p + 1);
			}
		}
		vm.n[cur] = 0;
		cur = nxt;
		if (p >= vm.len)
			break;
	}
	if (!matched)
		return 0;
	if (caps != NULL) {
		for (uint32_t k = 0; k < 10; k++) {
			if (2 * k + 1 < nslots && vm.best[2 * k] != REGEX_UNSET &&
			    vm.best[2 * k + 1] != REGEX_UNSET) {
				caps[k].start = vm.best[2 * k];
				caps[k].end = vm.best[2 * k + 1];
			} else {
				caps[k].start = GW_REGEX_NOPOS;
				caps[k].end = GW_REGEX_NOPOS;
			}
		}
	}
	return 1;
}

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void
out_put(struct out *o, const char *src, size_t n)
{
	size_t room = o->cap - o->len;

	if (n > room) {
		o->full = true;
		n = room;
	}
	memcpy(o->buf + o->len, src, n);
	o->len += n;
}

/* Length of the UTF-8 sequence at @p s (1 if it is not a valid one), as
 * RE2::GlobalReplace skips one character after an empty match. */
static size_t
utf8_len(const uint8_t *s, size_t left)
{
	size_t n;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 1;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n > left)
		return 1;
	for (size_t k = 1; k < n; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 1;
	return n;
}

int
gw_regex_replace_all(const struct gw_regex *re, void *scratch,
		     const char *subject, size_t len, const char *rewrite,
		     char *out, size_t outcap, size_t *outlen)
{
	struct gw_regex_span caps[10];
	struct out o = {.buf = out, .cap = outcap};
	size_t p = 0, lastend = GW_REGEX_NOPOS;
	int count = 0, rc;

	*outlen = 0;
	while (p <= len) {
		rc = gw_regex_match(re, scratch, subject, len, p, caps);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		out_put(&o, subject + p, caps[0].start - p);
		if (caps[0].start == caps[0].end && caps[0].start == lastend) {
			/* No empty match right after the previous match. */
			size_t n = p < len ? utf8_len((const uint8_t *)subject + p, len - p) : 1;

			if (p < len)
				out_put(&o, subject + p, n);
			p += n;
			continue;
		}
		for (const char *r = rewrite; *r; r++) {
			if (*r != '\\') {
				out_put(&o, r, 1);
				continue;
			}
			r++;
			if (*r == '\\') {
				out_put(&o, r, 1);
			} else if (*r >= '0' && *r <= '9' &&
				   (unsigned int)(*r - '0') <= re->ngroups) {
				const struct gw_regex_span *g = &caps[*r - '0'];

				if (g->start != GW_REGEX_NOPOS)
					out_put(&o, subject + g->start, g->end - g->start);
			} else {
				return -EINVAL;
			}
		}
		p = caps[0].end;
		lastend = p;
		if (count < INT32_MAX)
			count++;
	}
	if (p < len)
		out_put(&o, subject + p, len - p);
	*outlen = o.len;
	return o.full ? -ENOSPC : count;
}
