/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regex compiler: a recursive-descent parser builds a small syntax tree
 * (so that counted repetitions can emit their operand several times), then
 * code generation emits the Pike VM program. Runs on the control lcore.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "regex_private.h"

/* Nesting of groups; bounds the recursion of the parser and the emitter. */
#define MAX_DEPTH 200
/* Emitter calls; bounds compile time for repeats of empty operands. */
#define MAX_EMIT_WORK (64 * GW_REGEX_MAX_INST)

enum node_kind {
	N_EMPTY, N_BYTE, N_ANY, N_CLASS, N_ASSERT, N_CAT, N_ALT, N_REPEAT, N_GROUP,
};

enum {
	F_ICASE = 1,    /* i */
	F_DOTNL = 2,    /* s */
	F_MULTI = 4,    /* m */
	F_UNGREEDY = 8, /* U */
};

struct node {
	uint8_t kind;
	uint8_t greedy;
	uint8_t c1, c2;
	uint32_t x;          /* class, assertion, ANY kind, or group number */
	int32_t min, max;    /* repeat; max -1 = unbounded */
	uint32_t child, next; /* 0 = none (node 0 is unused) */
	uint32_t off;        /* offset in the pattern, for messages */
};

struct parser {
	const char *pat;
	size_t len, pos;
	char *err;
	size_t errlen;
	struct node *nodes;
	uint32_t nnodes, nodecap;
	uint32_t (*classes)[8];
	uint32_t nclasses, classcap;
	unsigned int flags;
	uint32_t ngroups;
	int depth;
	bool failed;
	/* code generation */
	struct regex_inst *prog;
	uint32_t ninst;
	uint32_t work;
};

static void __attribute__((format(printf, 3, 4)))
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	int shown = p->len > 96 ? 96 : (int)p->len;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gw_err(p->err, p->errlen, "regex '%.*s%s': %s at offset %zu", shown, p->pat,
	       (size_t)shown < p->len ? "..." : "", msg, off);
}

static uint32_t
new_node(struct parser *p, enum node_kind kind, size_t off)
{
	struct node *n;

	if (p->failed)
		return 0;
	if (gw_array_grow((void **)&p->nodes, &p->nodecap, p->nnodes + 1,
			  sizeof(*p->nodes), 32) < 0) {
		fail(p, off, "out of memory");
		return 0;
	}
	n = &p->nodes[p->nnodes];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->off = (uint32_t)off;
	return p->nnodes++;
}

static uint32_t
new_class(struct parser *p, const uint32_t set[8], size_t off)
{
	uint32_t n;

	if (gw_array_grow((void **)&p->classes, &p->classcap, p->nclasses + 1,
			  sizeof(*p->classes), 8) < 0) {
		fail(p, off, "out of memory");
		return 0;
	}
	memcpy(p->classes[p->nclasses], set, sizeof(p->classes[0]));
	n = new_node(p, N_CLASS, off);
	if (n)
		p->nodes[n].x = p->nclasses++;
	return n;
}

/* ---- character sets ---- */

static void
set_add(uint32_t set[8], unsigned int c)
{
	set[c >> 5] |= 1u << (c & 31);
}

static void
set_add_range(uint32_t set[8], unsigned int lo, unsigned int hi)
{
	for (unsigned int c = lo; c <= hi; c++)
		set_add(set, c);
}

static bool
set_has(const uint32_t set[8], unsigned int c)
{
	return (set[c >> 5] >> (c & 31)) & 1;
}

static void
set_fold(uint32_t set[8])
{
	for (unsigned int c = 'a'; c <= 'z'; c++) {
		if (set_has(set, c) || set_has(set, c - 32)) {
			set_add(set, c);
			set_add(set, c - 32);
		}
	}
}

static void
set_negate(uint32_t set[8])
{
	for (int k = 0; k < 8; k++)
		set[k] = ~set[k];
}

/* Add set @p src (negated if @p neg) to @p dst. */
static void
set_merge(uint32_t dst[8], const uint32_t src[8], bool neg)
{
	for (int k = 0; k < 8; k++)
		dst[k] |= neg ? ~src[k] : src[k];
}

/* \d \w \s and the POSIX classes as sets. */
static bool
named_set(const char *name, size_t n, uint32_t set[8])
{
	static const struct {
		const char *name;
		const char *ranges; /* pairs lo,hi */
	} tab[] = {
		{"alnum", "09AZaz"}, {"alpha", "AZaz"}, {"ascii", "\x01\x7f"},
		{"blank", "\t\t  "}, {"cntrl", "\x01\x1f\x7f\x7f"}, {"digit", "09"},
		{"graph", "!~"}, {"lower", "az"}, {"print", " ~"},
		{"punct", "!/:@[`{~"}, {"space", "\t\r  "}, {"upper", "AZ"},
		{"word", "09AZaz__"}, {"xdigit", "09AFaf"},
		{"d", "09"}, {"w", "09AZaz__"}, {"s", "\t\n\f\r  "},
	};

	memset(set, 0, 8 * sizeof(uint32_t));
	for (size_t k = 0; k < GW_ARRAY_SIZE(tab); k++) {
		if (strlen(tab[k].name) != n || memcmp(tab[k].name, name, n) != 0)
			continue;
		for (const char *r = tab[k].ranges; *r; r += 2)
			set_add_range(set, (uint8_t)r[0], (uint8_t)r[1]);
		if (strcmp(tab[k].name, "ascii") == 0 || strcmp(tab[k].name, "cntrl") == 0)
			set_add(set, 0); /* NUL cannot sit in the table strings */
		return true;
	}
	return false;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse an escape that stands for one byte (after the backslash, at
 * p->pos). Returns the byte, or -1 after reporting an error, or -2 if the
 * escape is not a single-byte one (left unconsumed for the caller).
 */
static int
parse_byte_escape(struct parser *p, size_t at)
{
	char c = p->pat[p->pos];
	int v, h;

	switch (c) {
	case 'n': p->pos++; return '\n';
	case 't': p->pos++; return '\t';
	case 'r': p->pos++; return '\r';
	case 'f': p->pos++; return '\f';
	case 'v': p->pos++; return '\v';
	case 'a': p->pos++; return '\a';
	case '0':
		v = 0;
		p->pos++;
		for (int k = 0; k < 2 && p->pos < p->len &&
		     p->pat[p->pos] >= '0' && p->pat[p->pos] <= '7'; k++)
			v = v * 8 + (p->pat[p->pos++] - '0');
		return v;
	case 'x':
		p->pos++;
		if (p->pos < p->len && p->pat[p->pos] == '{') {
			size_t k = p->pos + 1;

			v = 0;
			while (k < p->len && (h = hexval(p->pat[k])) >= 0 && v <= 0xff)
				v = v * 16 + h, k++;
			if (k == p->pos + 1 || k >= p->len || p->pat[k] != '}') {
				fail(p, at, "invalid escape sequence \\x{");
				return -1;
			}
			if (v > 0xff) {
				fail(p, at, "code point above \\xFF is not supported");
				return -1;
			}
			p->pos = k + 1;
			return v;
		}
		if (p->pos + 2 > p->len || hexval(p->pat[p->pos]) < 0 ||
		    hexval(p->pat[p->pos + 1]) < 0) {
			fail(p, at, "invalid escape sequence \\x");
			return -1;
		}
		v = hexval(p->pat[p->pos]) * 16 + hexval(p->pat[p->pos + 1]);
		p->pos += 2;
		return v;
	default:
		break;
	}
	if (c >= '1' && c <= '9') {
		fail(p, at, "backreference \\%c is not supported", c);
		return -1;
	}
	if (c == 'p' || c == 'P') {
		fail(p, at, "Unicode class \\%c is not supported", c);
		return -1;
	}
	if (c == 'Q' || c == 'C') {
		fail(p, at, "\\%c is not supported", c);
		return -1;
	}
	if ((unsigned char)c < 0x80 && !regex_is_word((uint8_t)c)) {
		p->pos++;
		return (uint8_t)c; /* escaped punctuation stands for itself */
	}
	return -2;
}

/* \d \D \w \W \s \S at p->pos into @p set; false if not one of them. */
static bool
parse_perl_class(struct parser *p, uint32_t set[8], bool *neg)
{
	char c = p->pat[p->pos];
	char lower = (char)(c | 0x20);

	if (lower != 'd' && lower != 'w' && lower != 's')
		return false;
	named_set(&lower, 1, set);
	*neg = c != lower;
	p->pos++;
	return true;
}

static uint32_t
byte_node(struct parser *p, uint8_t c, size_t off)
{
	uint32_t n = new_node(p, N_BYTE, off);

	if (!n)
		return 0;
	p->nodes[n].c1 = c;
	p->nodes[n].c2 = c;
	if ((p->flags & F_ICASE) && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
		p->nodes[n].c2 = (uint8_t)(c ^ 0x20);
	return n;
}

/* One class member for a range end: a byte or a byte escape. */
static int
class_byte(struct parser *p, size_t at)
{
	int v;

	if (p->pat[p->pos] != '\\')
		return (uint8_t)p->pat[p->pos++];
	p->pos++;
	if (p->pos >= p->len) {
		fail(p, p->len, "missing ]");
		return -1;
	}
	v = parse_byte_escape(p, at);
	if (v == -2) {
		fail(p, at, "invalid escape sequence \\%c in class", p->pat[p->pos]);
		return -1;
	}
	return v;
}

static uint32_t
parse_class(struct parser *p)
{
	size_t open = p->pos;
	uint32_t set[8] = {0}, sub[8];
	bool negate = false, first = true, neg;

	p->pos++; /* [ */
	if (p->pos < p->len && p->pat[p->pos] == '^') {
		negate = true;
		p->pos++;
	}
	for (;;) {
		size_t at = p->pos;
		int lo, hi;

		if (p->pos >= p->len) {
			fail(p, p->len, "missing ]");
			return 0;
		}
		if (p->pat[p->pos] == ']' && !first)
			break;
		first = false;
		if (p->pat[p->pos] == '[' && p->pos + 1 < p->len && p->pat[p->pos + 1] == ':') {
			const char *name = p->pat + p->pos + 2;
			const char *end = strstr(name, ":]");
			bool pneg = false;

			if (end == NULL) {
				fail(p, at, "invalid character class [:");
				return 0;
			}
			if (*name == '^') {
				pneg = true;
				name++;
			}
			if (!named_set(name, (size_t)(end - name), sub) ||
			    (end - name) == 1) {
				fail(p, at, "invalid character class [:%.*s:]",
				     (int)(end - name), name);
				return 0;
			}
			set_merge(set, sub, pneg);
			p->pos = (size_t)(end + 2 - p->pat);
			continue;
		}
		if (p->pat[p->pos] == '\\' && p->pos + 1 < p->len) {
			p->pos++;
			if (parse_perl_class(p, sub, &neg)) {
				set_merge(set, sub, neg);
				continue;
			}
			p->pos--;
		}
		lo = class_byte(p, at);
		if (lo < 0)
			return 0;
		hi = lo;
		if (p->pos + 1 < p->len && p->pat[p->pos] == '-' && p->pat[p->pos + 1] != ']') {
			p->pos++;
			hi = class_byte(p, at);
			if (hi < 0)
				return 0;
			if (hi < lo) {
				fail(p, at, "invalid character class range %.*s",
				     (int)(p->pos - at), p->pat + at);
				return 0;
			}
		}
		set_add_range(set, (unsigned int)lo, (unsigned int)hi);
	}
	p->pos++; /* ] */
	if (p->flags & F_ICASE)
		set_fold(set);
	if (negate)
		set_negate(set);
	return new_class(p, set, open);
}

static uint32_t parse_alt(struct parser *p);

/* Group after '(': flags, non-capturing, named or plain capturing. */
static uint32_t
parse_group(struct parser *p, bool *quantifiable)
{
	size_t open = p->pos;
	unsigned int saved = p->flags;
	uint32_t n, inner, group = 0;
	bool capture = true;

	p->pos++; /* ( */
	if (p->pos < p->len && p->pat[p->pos] == '?') {
		const char *q = p->pat + p->pos + 1;

		if (*q == '=' || *q == '!' || (q[0] == '<' && (q[1] == '=' || q[1] == '!'))) {
			fail(p, open, "lookaround is not supported");
			return 0;
		}
		if (*q == 'P' || *q == '<') {
			const char *name = q + (*q == 'P' ? 2 : 1), *e = name;

			if (*q == 'P' && q[1] != '<') {
				fail(p, open, "invalid named capture group");
				return 0;
			}
			while (regex_is_word((uint8_t)*e))
				e++;
			if (e == name || *e != '>') {
				fail(p, open, "invalid named capture group");
				return 0;
			}
			p->pos = (size_t)(e + 1 - p->pat);
		} else {
			bool negate = false, any = false;
			unsigned int f = p->flags;

			capture = false;
			for (;; q++) {
				unsigned int bit = *q == 'i' ? F_ICASE : *q == 's' ? F_DOTNL :
						   *q == 'm' ? F_MULTI : *q == 'U' ? F_UNGREEDY : 0;

				if (bit) {
					f = negate ? f & ~bit : f | bit;
					any = true;
					continue;
				}
				if (*q == '-' && !negate) {
					negate = true;
					any = false;
					continue;
				}
				break;
			}
			if ((*q != ')' && *q != ':') || (negate && !any) ||
			    (*q == ')' && !any && !negate)) {
				fail(p, open, "invalid or unsupported group syntax (?%.*s",
				     (int)(q - (p->pat + p->pos + 1)) + (*q != '\0'),
				     p->pat + p->pos + 1);
				return 0;
			}
			p->pos = (size_t)(q + 1 - p->pat);
			if (*q == ')') {
				/* (?i): rest of the enclosing group; not an atom */
				p->flags = f;
				*quantifiable = false;
				return new_node(p, N_EMPTY, open);
			}
			p->flags = f;
		}
	}
	if (capture)
		group = ++p->ngroups;
	if (++p->depth > MAX_DEPTH) {
		fail(p, open, "groups nested more than %d deep", MAX_DEPTH);
		return 0;
	}
	inner = parse_alt(p);
	p->depth--;
	p->flags = saved;
	if (!inner)
		return 0;
	if (p->pos >= p->len || p->pat[p->pos] != ')') {
		fail(p, p->pos, "missing )");
		return 0;
	}
	p->pos++;
	if (!capture)
		return inner;
	n = new_node(p, N_GROUP, open);
	if (n) {
		p->nodes[n].child = inner;
		p->nodes[n].x = group;
	}
	return n;
}

static uint32_t
parse_atom(struct parser *p, bool *quantifiable)
{
	size_t at = p->pos;
	char c = p->pat[p->pos];
	uint32_t n, set[8];
	bool neg;
	int v;

	*quantifiable = true;
	switch (c) {
	case '(':
		return parse_group(p, quantifiable);
	case '[':
		return parse_class(p);
	case '.':
		p->pos++;
		n = new_node(p, N_ANY, at);
		if (n)
			p->nodes[n].x = (p->flags & F_DOTNL) ? REGEX_OP_ANY : REGEX_OP_ANY_NONL;
		return n;
	case '^':
	case '$':
		p->pos++;
		n = new_node(p, N_ASSERT, at);
		if (n)
			p->nodes[n].x = c == '^' ?
				((p->flags & F_MULTI) ? REGEX_BEGIN_LINE : REGEX_BEGIN_TEXT) :
				((p->flags & F_MULTI) ? REGEX_END_LINE : REGEX_END_TEXT);
		return n;
	case '\\':
		p->pos++;
		if (p->pos >= p->len) {
			fail(p, at, "trailing \\");
			return 0;
		}
		c = p->pat[p->pos];
		if (c == 'b' || c == 'B' || c == 'A' || c == 'z') {
			p->pos++;
			n = new_node(p, N_ASSERT, at);
			if (n)
				p->nodes[n].x = c == 'b' ? REGEX_WORD_BOUNDARY :
						c == 'B' ? REGEX_NOT_WORD_BOUNDARY :
						c == 'A' ? REGEX_BEGIN_TEXT : REGEX_END_TEXT;
			return n;
		}
		if (parse_perl_class(p, set, &neg)) {
			if (neg)
				set_negate(set);
			return new_class(p, set, at);
		}
		v = parse_byte_escape(p, at);
		if (v == -2)
			fail(p, at, "invalid escape sequence \\%c", c);
		if (v < 0)
			return 0;
		return byte_node(p, (uint8_t)v, at);
	default:
		p->pos++;
		return byte_node(p, (uint8_t)c, at);
	}
}

/* `{n}`, `{n,}`, `{n,m}` at p->pos; false (nothing consumed) if the text
 * is not one, so that it is taken literally as RE2 does. */
static bool
parse_braces(struct parser *p, int32_t *min, int32_t *max, bool *too_big)
{
	size_t k = p->pos + 1;
	long lo = 0, hi;
	bool digits = false;

	*too_big = false;
	while (k < p->len && p->pat[k] >= '0' && p->pat[k] <= '9') {
		lo = lo > 100000 ? lo : lo * 10 + (p->pat[k] - '0');
		k++;
		digits = true;
	}
	if (!digits || k >= p->len)
		return false;
	hi = lo;
	if (p->pat[k] == ',') {
		k++;
		if (k < p->len && p->pat[k] >= '0' && p->pat[k] <= '9') {
			hi = 0;
			while (k < p->len && p->pat[k] >= '0' && p->pat[k] <= '9') {
				hi = hi > 100000 ? hi : hi * 10 + (p->pat[k] - '0');
				k++;
			}
		} else {
			hi = -1;
		}
	}
	if (k >= p->len || p->pat[k] != '}')
		return false;
	p->pos = k + 1;
	*too_big = lo > GW_REGEX_MAX_REPEAT || hi > GW_REGEX_MAX_REPEAT ||
		   (hi >= 0 && hi < lo);
	*min = (int32_t)lo;
	*max = (int32_t)hi;
	return true;
}

/* A quantifier at p->pos? Fills min/max and consumes it (and a lazy '?'). */
static int
parse_quantifier(struct parser *p, int32_t *min, int32_t *max, bool *greedy)
{
	size_t at = p->pos;
	bool too_big;

	if (p->pos >= p->len)
		return 0;
	switch (p->pat[p->pos]) {
	case '*': *min = 0; *max = -1; p->pos++; break;
	case '+': *min = 1; *max = -1; p->pos++; break;
	case '?': *min = 0; *max = 1; p->pos++; break;
	case '{':
		if (!parse_braces(p, min, max, &too_big))
			return 0;
		if (too_big) {
			fail(p, at, "bad repetition operator %.*s (counts up to %d, n <= m)",
			     (int)(p->pos - at), p->pat + at, GW_REGEX_MAX_REPEAT);
			return -1;
		}
		break;
	default:
		return 0;
	}
	*greedy = true;
	if (p->pos < p->len && p->pat[p->pos] == '?') {
		*greedy = false;
		p->pos++;
	}
	if (p->flags & F_UNGREEDY)
		*greedy = !*greedy;
	return 1;
}

static uint32_t
parse_cat(struct parser *p)
{
	uint32_t cat = new_node(p, N_CAT, p->pos), last = 0;

	if (!cat)
		return 0;
	while (p->pos < p->len && p->pat[p->pos] != '|' && p->pat[p->pos] != ')') {
		size_t at = p->pos;
		int32_t min, max;
		bool greedy, quantifiable;
		uint32_t atom;
		int q;

		q = parse_quantifier(p, &min, &max, &greedy);
		if (q != 0) {
			if (q > 0)
				fail(p, at, "missing argument to repetition operator %.*s",
				     (int)(p->pos - at), p->pat + at);
			return 0;
		}
		atom = parse_atom(p, &quantifiable);
		if (!atom)
			return 0;
		at = p->pos;
		q = parse_quantifier(p, &min, &max, &greedy);
		if (q < 0)
			return 0;
		if (q > 0) {
			uint32_t rep;
			size_t at2 = p->pos;
			int32_t m2, x2;
			bool g2;

			if (!quantifiable) {
				fail(p, at, "missing argument to repetition operator %.*s",
				     (int)(p->pos - at), p->pat + at);
				return 0;
			}
			if (parse_quantifier(p, &m2, &x2, &g2) != 0) {
				fail(p, at2, "bad repetition operator %.*s",
				     (int)(p->pos - at), p->pat + at);
				return 0;
			}
			rep = new_node(p, N_REPEAT, at);
			if (!rep)
				return 0;
			p->nodes[rep].child = atom;
			p->nodes[rep].min = min;
			p->nodes[rep].max = max;
			p->nodes[rep].greedy = greedy;
			atom = rep;
		}
		if (last)
			p->nodes[last].next = atom;
		else
			p->nodes[cat].child = atom;
		last = atom;
	}
	return cat;
}

static uint32_t
parse_alt(struct parser *p)
{
	uint32_t first = parse_cat(p), alt, last;

	if (!first)
		return 0;
	if (p->pos >= p->len || p->pat[p->pos] != '|')
		return first;
	alt = new_node(p, N_ALT, p->pos);
	if (!alt)
		return 0;
	p->nodes[alt].child = first;
	last = first;
	while (p->pos < p->len && p->pat[p->pos] == '|') {
		uint32_t n;

		p->pos++;
		n = parse_cat(p);
		if (!n)
			return 0;
		p->nodes[last].next = n;
		last = n;
	}
	return alt;
}

/* ---- code generation ---- */

static uint32_t
emit_inst(struct parser *p, uint8_t op, uint32_t x, uint32_t y, size_t off)
{
	struct regex_inst *in;

	if (p->failed)
		return 0;
	if (p->ninst >= GW_REGEX_MAX_INST) {
		fail(p, off, "program too large (more than %d instructions)",
		     GW_REGEX_MAX_INST);
		return 0;
	}
	in = &p->prog[p->ninst];
	memset(in, 0, sizeof(*in));
	in->op = op;
	in->x = x;
	in->y = y;
	return p->ninst++;
}

static void emit(struct parser *p, uint32_t n);

/* child* (or child*?): L: split L+1, end; child; jmp L */
static void
emit_star(struct parser *p, const struct node *rep)
{
	uint32_t split = emit_inst(p, REGEX_OP_SPLIT, 0, 0, rep->off);

	emit(p, rep->child);
	emit_inst(p, REGEX_OP_JMP, split, 0, rep->off);
	if (p->failed)
		return;
	p->prog[split].x = rep->greedy ? split + 1 : p->ninst;
	p->prog[split].y = rep->greedy ? p->ninst : split + 1;
}

static void
emit_repeat(struct parser *p, const struct node *rep)
{
	int32_t k;

	if (rep->max < 0) {
		if (rep->min == 0) {
			emit_star(p, rep);
			return;
		}
		for (k = 0; k < rep->min - 1; k++)
			emit(p, rep->child);
		/* child+: L: child; split L, end */
		uint32_t loop = p->ninst;

		emit(p, rep->child);
		uint32_t split = emit_inst(p, REGEX_OP_SPLIT, 0, 0, rep->off);

		if (p->failed)
			return;
		p->prog[split].x = rep->greedy ? loop : split + 1;
		p->prog[split].y = rep->greedy ? split + 1 : loop;
		return;
	}
	for (k = 0; k < rep->min; k++)
		emit(p, rep->child);
	/* x{n,m}: the optional copies nest as x(x(x)?)?, so every split
	 * leaves to the common end. */
	uint32_t pending = UINT32_MAX, s, prev;

	for (k = rep->min; k < rep->max && !p->failed; k++) {
		/* pending splits chained through y until the end is known */
		s = emit_inst(p, REGEX_OP_SPLIT, 0, pending, rep->off);
		pending = s;
		emit(p, rep->child);
	}
	if (p->failed)
		return;
	for (s = pending; s != UINT32_MAX; s = prev) {
		prev = p->prog[s].y;
		p->prog[s].x = rep->greedy ? s + 1 : p->ninst;
		p->prog[s].y = rep->greedy ? p->ninst : s + 1;
	}
}

static void
emit(struct parser *p, uint32_t n)
{
	const struct node *nd = &p->nodes[n];
	uint32_t c, in, jumps = UINT32_MAX;

	if (p->failed)
		return;
	if (++p->work > MAX_EMIT_WORK) {
		fail(p, nd->off, "program too large (repetitions expand too much)");
		return;
	}
	switch (nd->kind) {
	case N_EMPTY:
		break;
	case N_BYTE:
		in = emit_inst(p, REGEX_OP_BYTE, 0, 0, nd->off);
		if (!p->failed) {
			p->prog[in].a = nd->c1;
			p->prog[in].b = nd->c2;
		}
		break;
	case N_ANY:
		emit_inst(p, (uint8_t)nd->x, 0, 0, nd->off);
		break;
	case N_CLASS:
		emit_inst(p, REGEX_OP_CLASS, nd->x, 0, nd->off);
		break;
	case N_ASSERT:
		emit_inst(p, REGEX_OP_ASSERT, nd->x, 0, nd->off);
		break;
	case N_CAT:
		for (c = nd->child; c; c = p->nodes[c].next)
			emit(p, c);
		break;
	case N_ALT:
		/* split L1, next; L1: a; jmp end; next: split ... ; last */
		for (c = nd->child; c && !p->failed; c = p->nodes[c].next) {
			if (p->nodes[c].next == 0) {
				emit(p, c);
				break;
			}
			uint32_t split = emit_inst(p, REGEX_OP_SPLIT, 0, 0, nd->off);

			emit(p, c);
			in = emit_inst(p, REGEX_OP_JMP, jumps, 0, nd->off);
			if (p->failed)
				return;
			jumps = in; /* pending jumps chained through x */
			p->prog[split].x = split + 1;
			p->prog[split].y = p->ninst;
		}
		while (!p->failed && jumps != UINT32_MAX) {
			in = p->prog[jumps].x;
			p->prog[jumps].x = p->ninst;
			jumps = in;
		}
		break;
	case N_GROUP:
		if (nd->x <= GW_REGEX_MAX_GROUPS)
			emit_inst(p, REGEX_OP_SAVE, 2 * nd->x, 0, nd->off);
		emit(p, nd->child);
		if (nd->x <= GW_REGEX_MAX_GROUPS)
			emit_inst(p, REGEX_OP_SAVE, 2 * nd->x + 1, 0, nd->off);
		break;
	case N_REPEAT:
		emit_repeat(p, nd);
		break;
	}
}

/* Starts with \A on every path? Then only offset 0 can match. */
static bool
starts_anchored(const struct parser *p, uint32_t n)
{
	const struct node *nd = &p->nodes[n];

	switch (nd->kind) {
	case N_ASSERT:
		return nd->x == REGEX_BEGIN_TEXT;
	case N_CAT:
		return nd->child && starts_anchored(p, nd->child);
	case N_GROUP:
		return starts_anchored(p, nd->child);
	case N_ALT:
		for (uint32_t c = nd->child; c; c = p->nodes[c].next)
			if (!starts_anchored(p, c))
				return false;
		return true;
	case N_REPEAT:
		return nd->min > 0 && starts_anchored(p, nd->child);
	default:
		return false;
	}
}

struct gw_regex *
gw_regex_compile(const char *pattern, char *err, size_t errlen)
{
	struct parser p = {
		.pat = pattern ? pattern : "", .err = err, .errlen = errlen,
	};
	struct gw_regex *re = NULL;
	uint32_t root;
	unsigned int recorded;

	p.len = strlen(p.pat);
	new_node(&p, N_EMPTY, 0); /* node 0: "none" */
	root = parse_alt(&p);
	if (root && p.pos < p.len)
		fail(&p, p.pos, "unexpected )");
	if (p.failed)
		goto out;
	p.prog = calloc(GW_REGEX_MAX_INST, sizeof(*p.prog));
	re = calloc(1, sizeof(*re));
	if (p.prog == NULL || re == NULL) {
		fail(&p, 0, "out of memory");
		goto out;
	}
	emit_inst(&p, REGEX_OP_SAVE, 0, 0, 0);
	emit(&p, root);
	emit_inst(&p, REGEX_OP_SAVE, 1, 0, p.len);
	emit_inst(&p, REGEX_OP_MATCH, 0, 0, p.len);
	if (p.failed)
		goto out;
	re->prog = realloc(p.prog, p.ninst * sizeof(*p.prog));
	if (re->prog == NULL)
		re->prog = p.prog;
	p.prog = NULL;
	re->ninst = p.ninst;
	re->classes = p.classes;
	re->nclasses = p.nclasses;
	p.classes = NULL;
	re->ngroups = p.ngroups;
	recorded = p.ngroups < GW_REGEX_MAX_GROUPS ? p.ngroups : GW_REGEX_MAX_GROUPS;
	re->nslots = 2 * (recorded + 1);
	for (uint32_t k = 0; k < re->ninst; k++)
		if (re->prog[k].op <= REGEX_OP_MATCH)
			re->nthreads++;
	re->anchored = starts_anchored(&p, root);
	free(p.nodes);
	return re;
out:
	free(p.nodes);
	free(p.classes);
	free(p.prog);
	free(re);
	return NULL;
}

void
gw_regex_free(struct gw_regex *re)
{
	if (re == NULL)
		return;
	free(re->prog);
	free(re->classes);
	free(re);
}

unsigned int
gw_regex_group_count(const struct gw_regex *re)
{
	return re->ngroups;
}

unsigned int
gw_regex_program_size(const struct gw_regex *re)
{
	return re->ninst;
}

int
gw_regex_check_rewrite(const struct gw_regex *re, const char *rewrite,
		       char *err, size_t errlen)
{
	for (size_t k = 0; rewrite[k]; k++) {
		char c;

		if (rewrite[k] != '\\')
			continue;
		c = rewrite[k + 1];
		if (c == '\\') {
			k++;
			continue;
		}
		if (c >= '0' && c <= '9') {
			if ((unsigned int)(c - '0') > re->ngroups) {
				gw_err(err, errlen, "rewrite '%s': \\%c at offset %zu refers to "
				       "group %c but the regex has %u group%s", rewrite, c, k,
				       c, re->ngroups, re->ngroups == 1 ? "" : "s");
				return -EINVAL;
			}
			k++;
			continue;
		}
		if (c == '\0')
			gw_err(err, errlen, "rewrite '%s': trailing \\ at offset %zu", rewrite, k);
		else
			gw_err(err, errlen, "rewrite '%s': invalid escape \\%c at offset %zu "
			       "(only \\0-\\9 and \\\\)", rewrite, c, k);
		return -EINVAL;
	}
	return 0;
}
