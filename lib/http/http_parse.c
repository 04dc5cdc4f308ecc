/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 head parser: a resumable byte-level state machine for the
 * syntax (start line, field lines, line endings, limits). Once the head is
 * complete, http_fields.c works out what the fields mean (framing, Host,
 * Connection, request-target form).
 *
 * Positions are kept as offsets from the first byte of the head, so the
 * same state works whether the head sits in the caller's chunk or in the
 * parser's buffer. While the head stays inside one chunk nothing is copied;
 * when a chunk ends inside the head, its part of the head is appended to
 * the buffer and the field lines found so far are re-pointed there.
 *
 * The syntax pass rejects a byte as soon as it is seen, and the meaning
 * pass runs only on a complete head, so the verdict is the same however
 * the input is cut into chunks.
 *
 * Where 16 bytes of the chunk are left, targets, names, values and whole
 * usual field lines are taken with SSE2 compares; they only skip bytes the
 * byte loops would accept and hand the first other byte to them, so both
 * give the same verdicts and offsets (tests/unit builds the parser with
 * GW_HTTP_NO_SIMD as well, for the byte loops alone).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_http.h"
#include "http_private.h"

#if defined(__SSE2__) && !defined(GW_HTTP_NO_SIMD)
#define HTTP_SIMD 1
#include <emmintrin.h>
#else
#define HTTP_SIMD 0
#endif

/* ---- byte classes, computed at compile time from the RFC grammars ---- */

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_HEX(c) (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || \
		   ((c) >= 'A' && (c) <= 'F'))
#define IS_TSPECIAL(c) ((c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || \
			(c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' || \
			(c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' || \
			(c) == '`' || (c) == '|' || (c) == '~')
#define IS_TCHAR(c) (IS_DIGIT(c) || IS_ALPHA(c) || IS_TSPECIAL(c))
#define IS_VCHAR(c) ((c) >= 0x21 && (c) <= 0x7e)
#define IS_SUBDELIM(c) ((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' || \
			(c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' || \
			(c) == ',' || (c) == ';' || (c) == '=')
#define IS_UNRESERVED(c) (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '-' || \
			  (c) == '.' || (c) == '_' || (c) == '~')

#define CLASS(c) \
	((IS_TCHAR(c) ? HC_TCHAR : 0) | \
	 (IS_VCHAR(c) || (c) >= 0x80 ? HC_FVCHAR : 0) | \
	 ((c) == ' ' || (c) == '\t' ? HC_WS : 0) | \
	 (IS_VCHAR(c) && (c) != '#' ? HC_TARGET : 0) | \
	 (IS_HEX(c) ? HC_HEX : 0) | \
	 (IS_DIGIT(c) ? HC_DIGIT : 0) | \
	 (IS_UNRESERVED(c) || IS_SUBDELIM(c) ? HC_HOST : 0) | \
	 (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '+' || (c) == '-' || \
	  (c) == '.' ? HC_SCHEME : 0))
#define C4(b)  CLASS(b), CLASS((b) + 1), CLASS((b) + 2), CLASS((b) + 3)
#define C16(b) C4(b), C4((b) + 4), C4((b) + 8), C4((b) + 12)
#define C64(b) C16(b), C16((b) + 16), C16((b) + 32), C16((b) + 48)

const uint8_t http_char_class[256] = { C64(0), C64(64), C64(128), C64(192) };

/* ---- errors ---- */

static const struct {
	const char *reason;
	uint16_t status;
} http_errors[] = {
#define E(code, st, text) [GW_HTTP_E_##code - GW_HTTP_EBASE] = { text, st }
	E(REQUEST_LINE, 400, "malformed request line"),
	E(METHOD, 400, "invalid method"),
	E(TARGET, 400, "invalid request-target"),
	E(TARGET_TOO_LONG, 414, "request-target too long"),
	E(VERSION, 400, "malformed HTTP version"),
	E(VERSION_UNSUPPORTED, 505, "HTTP version not supported"),
	E(STATUS_LINE, 400, "malformed status line"),
	E(BARE_CR, 400, "bare CR"),
	E(BARE_LF, 400, "bare LF"),
	E(FIELD_NAME, 400, "invalid field name"),
	E(SPACE_BEFORE_COLON, 400, "whitespace before colon"),
	E(OBS_FOLD, 400, "obsolete line folding"),
	E(FIELD_VALUE, 400, "invalid field value"),
	E(HEAD_TOO_LARGE, 431, "header section too large"),
	E(TOO_MANY_FIELDS, 431, "too many header fields"),
	E(CONTENT_LENGTH, 400, "invalid Content-Length"),
	E(CONTENT_LENGTH_CONFLICT, 400, "conflicting Content-Length"),
	E(CL_AND_TE, 400, "Content-Length with Transfer-Encoding"),
	E(TRANSFER_ENCODING, 400, "invalid Transfer-Encoding"),
	E(TE_UNSUPPORTED, 501, "unsupported transfer coding"),
	E(TE_HTTP10, 400, "Transfer-Encoding in HTTP/1.0"),
	E(NO_HOST, 400, "missing Host"),
	E(MULTIPLE_HOST, 400, "multiple Host fields"),
	E(HOST, 400, "invalid Host"),
	E(CONNECT_BODY, 400, "CONNECT with a body"),
	E(CHUNK_SIZE, 400, "invalid chunk size"),
	E(CHUNK_EXT, 400, "invalid chunk extension"),
	E(CHUNK_CRLF, 400, "missing CRLF after chunk data"),
	E(TRAILER, 400, "invalid trailer field"),
	E(TRAILER_TOO_LARGE, 400, "trailer section too large"),
#undef E
};

_Static_assert(GW_ARRAY_SIZE(http_errors) == GW_HTTP_E_MAX - GW_HTTP_EBASE,
	       "every enum gw_http_error value needs a reason");

const char *
gw_http_strerror(int code)
{
	unsigned int i = (code < 0 ? 0u - (unsigned int)code : (unsigned int)code) -
			 GW_HTTP_EBASE;

	if (code == 0)
		return "success";
	if (i >= GW_ARRAY_SIZE(http_errors) || http_errors[i].reason == NULL)
		return "unknown HTTP error";
	return http_errors[i].reason;
}

uint16_t
gw_http_error_status(int code)
{
	unsigned int i = (code < 0 ? 0u - (unsigned int)code : (unsigned int)code) -
			 GW_HTTP_EBASE;

	if (i >= GW_ARRAY_SIZE(http_errors) || http_errors[i].status == 0)
		return 400;
	return http_errors[i].status;
}

/* ---- parser life cycle ---- */

enum {
	S_START = 0,     /* before the start line: empty lines are skipped */
	S_START_LF,      /* CR of an empty line seen */
	S_METHOD,
	S_TARGET_START,  /* after the SP following the method */
	S_TARGET,
	S_TARGET_PCT1,   /* after '%' */
	S_TARGET_PCT2,   /* after '%' and one hex digit */
	S_REQ_VERSION,   /* "HTTP/d.d" then CR */
	S_RESP_VERSION,  /* "HTTP/d.d" then SP */
	S_STATUS,        /* three digits */
	S_STATUS_END,    /* SP or CR */
	S_REASON,
	S_LINE_LF,       /* CR ending the start line seen */
	S_FIELD_START,
	S_FIELD_NAME,
	S_FIELD_OWS,     /* after the colon */
	S_FIELD_VALUE,
	S_FIELD_LF,      /* CR ending a field line seen */
	S_END_LF,        /* CR of the empty line ending the head seen */
	S_DONE,
	S_ERROR,
};

void
gw_http_parser_reset(struct gw_http_parser *p)
{
	/* Nothing writes the head before the start line begins (init
	 * zeroed it), so a parser reset twice clears it once. */
	if (p->state > S_START_LF) {
		memset(&p->head, 0, sizeof(p->head));
		p->head.headers = p->headers;
		p->status = 0;
		p->err = 0;
	}
	p->state = S_START;
	p->vidx = 0;
	p->buffered = false;
	p->pos = 0;
	p->skipped = 0;
	/* The other private members are set before they are read. */
}

static void
limits_fill(struct gw_http_limits *out, const struct gw_http_limits *in)
{
	static const struct gw_http_limits defaults = {
		.max_head = GW_HTTP_MAX_HEAD_DEFAULT,
		.max_headers = GW_HTTP_MAX_HEADERS_DEFAULT,
		.max_target = GW_HTTP_MAX_TARGET_DEFAULT,
	};

	*out = defaults;
	if (in == NULL)
		return;
	if (in->max_head)
		out->max_head = in->max_head;
	if (in->max_headers)
		out->max_headers = in->max_headers;
	if (in->max_target)
		out->max_target = in->max_target;
}

int
gw_http_parser_init(struct gw_http_parser *p, enum gw_http_kind kind,
		    const struct gw_http_limits *limits,
		    uint8_t *buf, size_t buf_len,
		    struct gw_http_header *headers, size_t n_headers)
{
	struct gw_http_limits lim;

	limits_fill(&lim, limits);
	/* Offsets are 32-bit; keep head + slack far from wrapping. */
	if (lim.max_head > UINT32_MAX / 2 || buf == NULL ||
	    buf_len < lim.max_head || headers == NULL ||
	    n_headers < lim.max_headers ||
	    (kind != GW_HTTP_REQUEST && kind != GW_HTTP_RESPONSE))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->limits = lim;
	p->buf = buf;
	p->headers = headers;
	p->head.headers = headers;
	p->request_method = GW_HTTP_METHOD_GET;
	gw_http_parser_reset(p);
	return 0;
}

struct gw_http_parser *
gw_http_parser_create(enum gw_http_kind kind,
		      const struct gw_http_limits *limits)
{
	struct gw_http_limits lim;
	struct gw_http_parser *p;
	struct gw_http_header *headers;
	size_t size;

	limits_fill(&lim, limits);
	if (lim.max_head > UINT32_MAX / 2)
		return NULL;
	size = sizeof(*p) + (size_t)lim.max_headers * sizeof(*headers) +
	       lim.max_head;
	p = malloc(size);
	if (p == NULL)
		return NULL;
	headers = (struct gw_http_header *)(p + 1);
	if (gw_http_parser_init(p, kind, &lim,
				(uint8_t *)(headers + lim.max_headers),
				lim.max_head, headers, lim.max_headers) != 0) {
		free(p);
		return NULL;
	}
	p->alloc = p;
	return p;
}

void
gw_http_parser_free(struct gw_http_parser *p)
{
	if (p != NULL)
		free(p->alloc);
}

/* ---- the syntax pass ---- */

/* The error for byte @p c where @p e was expected to be the problem: a LF
 * that no CR announced is reported as such, the commonest smuggling tool. */
static inline int
bad_byte(uint8_t c, int e)
{
	return c == HTTP_LF ? GW_HTTP_E_BARE_LF : e;
}

/*
 * Field values are most of a head, so they are taken 8 bytes at a time
 * while a word holds no CTL (HTAB included) and no DEL: every such byte is
 * SP, VCHAR or obs-text. *last tracks the last byte that is not SP, for
 * trimming. Returns where the byte loop must take over.
 */
static inline size_t
value_scan_words(const uint8_t *data, size_t j, size_t end, size_t *last)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;

	while (end - j >= 8) {
		uint64_t x, del, ctl, notsp;

		memcpy(&x, data + j, sizeof(x));
		/* Exact "some byte < 0x20" and "some byte == 0x7f" tests. */
		ctl = (x - ones * 0x20) & ~x & highs;
		del = x ^ (ones * 0x7f);
		del = (del - ones) & ~del & highs;
		if (ctl | del)
			break;
		/* 0x80 in every byte that is not SP (no carries across bytes) */
		notsp = x ^ (ones * 0x20);
		notsp = (((notsp & ~highs) + ~highs) | notsp) & highs;
		if (notsp)
			*last = j + 7 - (size_t)(__builtin_clzll(notsp) >> 3);
		j += 8;
	}
#else
	(void)data;
	(void)end;
	(void)last;
#endif
	return j;
}

#if HTTP_SIMD
/*
 * 16 bytes at a time with SSE2 (part of x86-64, so no CPU check): each
 * helper returns a bit per byte that the byte loop must look at, the
 * first of which ends the fast run. They only skip bytes that the byte
 * loop would have taken anyway, and are called only with 16 bytes left
 * before the end of the input.
 */
static inline __m128i
load16(const uint8_t *s)
{
	return _mm_loadu_si128((const __m128i *)(const void *)s);
}

/* Unsigned "x - lo < n" per byte, as a signed compare after a shift. */
static inline __m128i
in_range16(__m128i x, uint8_t lo, uint8_t n)
{
	return _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - lo))),
			      _mm_set1_epi8((char)(n - 0x80)));
}

/* Bytes other than ALPHA, DIGIT and '-' (what field names are made of;
 * other tchars go to the byte loop). */
static inline unsigned int
name_stops16(const uint8_t *s)
{
	__m128i x = load16(s);
	__m128i ok = _mm_or_si128(
		in_range16(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 26),
		_mm_or_si128(in_range16(x, '0', 10),
			     _mm_cmpeq_epi8(x, _mm_set1_epi8('-'))));

	return (unsigned int)_mm_movemask_epi8(ok) ^ 0xffffu;
}

/* Bytes that are not VCHAR, and '#' and '%' (a target byte ends or a
 * %-escape starts there). */
static inline unsigned int
target_stops16(const uint8_t *s)
{
	__m128i x = load16(s);
	__m128i odd = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('#')),
				   _mm_cmpeq_epi8(x, _mm_set1_epi8('%')));

	return (unsigned int)_mm_movemask_epi8(
		       _mm_andnot_si128(odd, in_range16(x, 0x21, 0x7f - 0x21))) ^
	       0xffffu;
}

/* CTLs (HTAB included) and DEL, and in *sp the SPs. */
static inline unsigned int
value_stops16(const uint8_t *s, unsigned int *sp)
{
	__m128i x = load16(s);
	__m128i bad = _mm_or_si128(in_range16(x, 0, 0x20),
				   _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));

	*sp = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
	return (unsigned int)_mm_movemask_epi8(bad);
}
#endif /* HTTP_SIMD */

/*
 * Run the state machine over data[i, end). The head offset of data[k] is
 * k + delta (unsigned arithmetic: delta may wrap, the sum does not); @p hb
 * is where head offset 0 will live once the head is contiguous (the chunk
 * or the buffer), used to point field lines there.
 * Returns GW_HTTP_AGAIN with *stop == end, GW_HTTP_DONE with *stop just
 * after the final LF, or -code with *stop at the rejected byte.
 *
 * Each state ends by taking its byte and jumping straight to the code of
 * the next state (NEXT), so a byte costs no dispatch; the switch only
 * resumes where the previous chunk ended.
 */
static int
head_scan(struct gw_http_parser *p, const uint8_t *data, size_t i, size_t end,
	  size_t delta, const uint8_t *hb, size_t *stop)
{
	static const char version[] = "HTTP/d.d";
	unsigned int state = p->state;
	bool request = p->kind == GW_HTTP_REQUEST;
	int rc = GW_HTTP_AGAIN;
	struct gw_http_header *h;
	uint32_t tlen;
	size_t j, last;
	uint8_t c, cls;

#define OFF(k) ((uint32_t)((k) + delta))
#define FAIL(e) do { rc = -(e); goto out; } while (0)
#define NEXT(st) \
	do { \
		state = (st); \
		if (++i == end) \
			goto out; \
		c = data[i]; \
		goto L_##st; \
	} while (0)

	if (i >= end)
		goto out;
	c = data[i];
	switch (state) {
	case S_METHOD:
		for (j = i; j < end && http_is(data[j], HC_TCHAR); j++)
			;
		i = j;
		if (i == end)
			goto out;
		c = data[i];
		if (c != ' ')
			FAIL(bad_byte(c, c == HTTP_CR ? GW_HTTP_E_REQUEST_LINE :
				      GW_HTTP_E_METHOD));
		if (OFF(i) == 0)
			FAIL(GW_HTTP_E_REQUEST_LINE); /* leading SP */
		NEXT(S_TARGET_START);

	case S_TARGET_START:
	L_S_TARGET_START:
		if (c == ' ')
			FAIL(GW_HTTP_E_REQUEST_LINE);
		p->target_off = OFF(i);
		p->target_len = 0;
		state = S_TARGET;
		/* fall through */
	case S_TARGET:
	L_S_TARGET:
		tlen = p->target_len;
		j = i;
#if HTTP_SIMD
		/* Whole runs of plain bytes, as long as they fit the limit;
		 * the byte loop finds the exact byte that does not. */
		while (end - j >= 16) {
			unsigned int m = target_stops16(data + j);
			uint32_t n = m ? (uint32_t)__builtin_ctz(m) : 16;

			if (n > p->limits.max_target - tlen)
				break;
			tlen += n;
			j += n;
			if (m)
				break;
		}
#endif
		for (; j < end; j++) {
			c = data[j];
			if (!http_is(c, HC_TARGET))
				break;
			if (++tlen > p->limits.max_target) {
				p->target_len = tlen;
				i = j;
				FAIL(GW_HTTP_E_TARGET_TOO_LONG);
			}
			if (c == '%')
				break;
		}
		p->target_len = tlen;
		i = j;
		if (i == end)
			goto out;
		if (c == '%')
			NEXT(S_TARGET_PCT1);
		if (c != ' ')
			FAIL(bad_byte(c, c == HTTP_CR ? GW_HTTP_E_REQUEST_LINE :
				      GW_HTTP_E_TARGET));
		p->vidx = 0;
		NEXT(S_REQ_VERSION);

	case S_TARGET_PCT1:
	L_S_TARGET_PCT1:
		/* Checked here so that routing never meets a half escape. */
		if (!http_is(c, HC_HEX))
			FAIL(bad_byte(c, GW_HTTP_E_TARGET));
		if (++p->target_len > p->limits.max_target)
			FAIL(GW_HTTP_E_TARGET_TOO_LONG);
		NEXT(S_TARGET_PCT2);

	case S_TARGET_PCT2:
	L_S_TARGET_PCT2:
		if (!http_is(c, HC_HEX))
			FAIL(bad_byte(c, GW_HTTP_E_TARGET));
		if (++p->target_len > p->limits.max_target)
			FAIL(GW_HTTP_E_TARGET_TOO_LONG);
		NEXT(S_TARGET);

	case S_REQ_VERSION:
	case S_RESP_VERSION:
	L_S_REQ_VERSION:
	L_version:
		/* The usual versions whole; anything else (or a cut
		 * inside) byte by byte below, for the exact error. */
		if (p->vidx == 0 && end - i >= 8 &&
		    (memcmp(data + i, "HTTP/1.1", 8) == 0 ||
		     memcmp(data + i, "HTTP/1.0", 8) == 0)) {
			p->major = 1;
			p->head.version_minor = data[i + 7] == '1' ? 1 : 0;
			p->vidx = 8;
			i += 7;
			if (++i == end)
				goto out;
			c = data[i];
			goto L_version_end;
		}
		if (p->vidx < sizeof(version) - 1) {
			bool ok = version[p->vidx] == 'd' ?
				  http_is(c, HC_DIGIT) != 0 :
				  c == (uint8_t)version[p->vidx];

			if (!ok)
				FAIL(bad_byte(c, request && c == ' ' ?
					      GW_HTTP_E_REQUEST_LINE :
					      GW_HTTP_E_VERSION));
			if (p->vidx == 5)
				p->major = (uint8_t)(c - '0');
			if (p->vidx == 7) {
				if (p->major != 1)
					FAIL(GW_HTTP_E_VERSION_UNSUPPORTED);
				/* RFC 9110 §6.2: 1.x is handled as 1.1 */
				p->head.version_minor = c > '0' ? 1 : 0;
			}
			p->vidx++;
			if (++i == end)
				goto out;
			c = data[i];
			goto L_version;
		}
	L_version_end:
		if (state == S_REQ_VERSION) {
			if (c != HTTP_CR)
				FAIL(bad_byte(c, c == ' ' ? GW_HTTP_E_REQUEST_LINE :
					      GW_HTTP_E_VERSION));
			NEXT(S_LINE_LF);
		}
		if (c != ' ')
			FAIL(bad_byte(c, GW_HTTP_E_VERSION));
		p->vidx = 0;
		p->code = 0;
		/* The usual three digits at once. */
		if (end - i > 3 && http_is(data[i + 1], HC_DIGIT) &&
		    http_is(data[i + 2], HC_DIGIT) && http_is(data[i + 3], HC_DIGIT)) {
			p->code = (uint16_t)((data[i + 1] - '0') * 100 +
					     (data[i + 2] - '0') * 10 +
					     (data[i + 3] - '0'));
			p->vidx = 3;
			i += 3;
			/* RFC 9110 §15: outside 100..599 is invalid */
			if (p->code < 100 || p->code > 599)
				FAIL(GW_HTTP_E_STATUS_LINE);
			NEXT(S_STATUS_END);
		}
		NEXT(S_STATUS);

	case S_STATUS:
	L_S_STATUS:
		if (!http_is(c, HC_DIGIT))
			FAIL(bad_byte(c, GW_HTTP_E_STATUS_LINE));
		p->code = (uint16_t)(p->code * 10 + (c - '0'));
		if (++p->vidx == 3) {
			/* RFC 9110 §15: outside 100..599 is invalid */
			if (p->code < 100 || p->code > 599)
				FAIL(GW_HTTP_E_STATUS_LINE);
			NEXT(S_STATUS_END);
		}
		NEXT(S_STATUS);

	case S_STATUS_END:
	L_S_STATUS_END:
		/* Reason phrase in target_off/len: a response has no target. */
		if (c == ' ') {
			p->target_off = OFF(i) + 1;
			NEXT(S_REASON);
		}
		/* "HTTP/1.1 200\r\n" without the SP: common, harmless. */
		if (c != HTTP_CR)
			FAIL(bad_byte(c, GW_HTTP_E_STATUS_LINE));
		p->target_off = OFF(i);
		p->target_len = 0;
		NEXT(S_LINE_LF);

	case S_REASON:
	L_S_REASON:
		for (j = i; j < end && http_is(data[j], HC_FVCHAR | HC_WS); j++)
			;
		i = j;
		if (i == end)
			goto out;
		c = data[i];
		if (c != HTTP_CR)
			FAIL(bad_byte(c, GW_HTTP_E_STATUS_LINE));
		p->target_len = OFF(i) - p->target_off;
		NEXT(S_LINE_LF);

	case S_LINE_LF:
	L_S_LINE_LF:
		if (c != HTTP_LF)
			FAIL(GW_HTTP_E_BARE_CR);
		NEXT(S_FIELD_START);

	case S_FIELD_START:
	L_S_FIELD_START:
		if (c == HTTP_CR)
			NEXT(S_END_LF);
		if (!http_is(c, HC_TCHAR))
			/* SP/HTAB here is obs-fold, or whitespace between
			 * the start line and the first field (RFC 9112
			 * §2.2): both rejected. */
			FAIL(bad_byte(c, http_is(c, HC_WS) ? GW_HTTP_E_OBS_FOLD :
				      GW_HTTP_E_FIELD_NAME));
		if (p->head.n_headers >= p->limits.max_headers)
			FAIL(GW_HTTP_E_TOO_MANY_FIELDS);
		p->tok_off = OFF(i);
		state = S_FIELD_NAME;
#if HTTP_SIMD
		/*
		 * The usual line at once: a name of ALPHA, DIGIT and '-', the
		 * colon, at most one SP, and a value whose CR is among its
		 * next 16 bytes, then LF. At the first thing that is not so,
		 * the states below go on from there, set as they would be.
		 */
		if (end - i >= 16) {
			unsigned int m = name_stops16(data + i), sp, notsp;
			size_t k, v, e;

			k = i + (size_t)__builtin_ctz(m | 0x10000u);
			if (m == 0 || data[k] != ':')
				goto L_S_FIELD_NAME;
			p->tok_len = (uint32_t)(k - i);
			/* 17 bytes from v on: the value's 16 and the LF */
			if (end - k < 19)
				goto colon;
			v = k + 1 + (data[k + 1] == ' ');
			if (http_is(data[v], HC_WS))
				goto colon;
			m = value_stops16(data + v, &sp);
			e = v + (size_t)__builtin_ctz(m | 0x10000u);
			if (m == 0 || data[e] != HTTP_CR || data[e + 1] != HTTP_LF) {
				p->value_off = OFF(v);
				p->value_end = OFF(v);
				i = v;
				c = data[i];
				state = S_FIELD_VALUE;
				goto L_S_FIELD_VALUE;
			}
			notsp = ((m & -m) - 1) & ~sp;
			h = &p->headers[p->head.n_headers++];
			h->name = (const char *)hb + p->tok_off;
			h->name_len = (uint32_t)(k - i);
			h->id = GW_HTTP_F_UNCLASSIFIED;
			h->value = h->name + (v - i);
			h->value_len = notsp ? 32u - (uint32_t)__builtin_clz(notsp) : 0;
			i = e + 1;
			NEXT(S_FIELD_START);
	colon:
			i = k;
			NEXT(S_FIELD_OWS);
		}
#endif
		/* The name scan takes this tchar again: no stop on the way. */
		/* fall through */
	case S_FIELD_NAME:
#if HTTP_SIMD
	L_S_FIELD_NAME:
#endif
		j = i;
#if HTTP_SIMD
		while (end - j >= 16) {
			unsigned int m = name_stops16(data + j);

			if (m) {
				j += (size_t)__builtin_ctz(m);
				if (data[j] == ':') {
					i = j;
					goto name_end;
				}
				break;
			}
			j += 16;
		}
#endif
		for (; j < end && http_is(data[j], HC_TCHAR); j++)
			;
		i = j;
		if (i == end)
			goto out;
		c = data[i];
		if (c != ':')
			FAIL(bad_byte(c, http_is(c, HC_WS) ?
				      GW_HTTP_E_SPACE_BEFORE_COLON :
				      GW_HTTP_E_FIELD_NAME));
#if HTTP_SIMD
	name_end:
#endif
		p->tok_len = OFF(i) - p->tok_off;
		NEXT(S_FIELD_OWS);

	case S_FIELD_OWS:
	L_S_FIELD_OWS:
		j = i;
		/* Usually one SP then the value. */
		if (c == ' ' && end - j > 1 && !http_is(data[j + 1], HC_WS))
			j++;
		else
			for (; j < end && http_is(data[j], HC_WS); j++)
				;
		i = j;
		if (i == end)
			goto out;
		p->value_off = OFF(i);
		p->value_end = OFF(i);
		state = S_FIELD_VALUE;
		/* fall through */
	case S_FIELD_VALUE:
#if HTTP_SIMD
	L_S_FIELD_VALUE:
#endif
		last = SIZE_MAX;
		j = i;
#if HTTP_SIMD
		while (end - j >= 16) {
			unsigned int sp, m = value_stops16(data + j, &sp);
			/* the bytes before the first stop that are not SP */
			unsigned int notsp = (m ? (m & -m) - 1 : 0xffffu) & ~sp;

			if (notsp)
				last = j + 31 - (size_t)__builtin_clz(notsp);
			if (m) {
				j += (size_t)__builtin_ctz(m);
				if (data[j] == HTTP_CR)
					goto value_end;
				goto value_bytes;
			}
			j += 16;
		}
#endif
		j = value_scan_words(data, j, end, &last);
#if HTTP_SIMD
	value_bytes:
#endif
		for (; j < end; j++) {
			cls = http_char_class[data[j]];
			if (cls & HC_FVCHAR)
				last = j;
			else if (!(cls & HC_WS))
				break;
		}
#if HTTP_SIMD
	value_end:
#endif
		if (last != SIZE_MAX)
			p->value_end = OFF(last) + 1;
		i = j;
		if (i == end)
			goto out;
		c = data[i];
		/* NUL and the other CTLs but HTAB end up here. */
		if (c != HTTP_CR)
			FAIL(bad_byte(c, GW_HTTP_E_FIELD_VALUE));
		NEXT(S_FIELD_LF);

	case S_FIELD_LF:
	L_S_FIELD_LF:
		if (c != HTTP_LF)
			FAIL(GW_HTTP_E_BARE_CR);
		h = &p->headers[p->head.n_headers++];
		h->name = (const char *)hb + p->tok_off;
		h->name_len = p->tok_len;
		h->id = GW_HTTP_F_UNCLASSIFIED; /* until the meaning pass */
		h->value = (const char *)hb + p->value_off;
		h->value_len = p->value_end - p->value_off;
		NEXT(S_FIELD_START);

	case S_END_LF:
	L_S_END_LF:
		if (c != HTTP_LF)
			FAIL(GW_HTTP_E_BARE_CR);
		i++;
		state = S_DONE;
		rc = GW_HTTP_DONE;
		goto out;

	default:
		FAIL(GW_HTTP_E_REQUEST_LINE); /* not reached */
	}
out:
	p->state = (uint8_t)state;
	*stop = i;
	return rc;
#undef NEXT
#undef FAIL
#undef OFF
}

/* ---- driver ---- */

static int
head_fail(struct gw_http_parser *p, int rc, size_t at, size_t *consumed)
{
	p->state = S_ERROR;
	p->err = rc;
	p->status = p->kind == GW_HTTP_REQUEST ? gw_http_error_status(rc) : 502;
	*consumed = at;
	return rc;
}

/* Keep the head's part of this chunk: the caller may release the chunk. */
static void
head_save(struct gw_http_parser *p, const uint8_t *from, size_t n)
{
	if (!p->buffered) {
		/* Field lines found so far pointed into the chunk. */
		for (uint32_t k = 0; k < p->head.n_headers; k++) {
			struct gw_http_header *f = &p->headers[k];

			f->name = (const char *)p->buf +
				  (f->name - (const char *)from);
			f->value = (const char *)p->buf +
				   (f->value - (const char *)from);
		}
		p->buffered = true;
	}
	memcpy(p->buf + p->pos, from, n);
	p->pos += (uint32_t)n;
	p->copied_bytes += n;
}

int
gw_http_head_parse(struct gw_http_parser *p, const uint8_t *data, size_t len,
		   size_t *consumed)
{
	size_t i = 0, hs, end, budget;
	const uint8_t *hb;
	int rc;

	if (p->state == S_DONE) {
		*consumed = 0;
		return GW_HTTP_DONE;
	}
	if (p->state == S_ERROR) {
		*consumed = 0;
		return p->err;
	}

	/* Empty lines before the start line belong to no message
	 * (RFC 9112 §2.2); max_head bounds them too. */
	while (i < len && p->state <= S_START_LF) {
		uint8_t c = data[i];

		if (p->state == S_START_LF) {
			if (c != HTTP_LF)
				return head_fail(p, -GW_HTTP_E_BARE_CR, i, consumed);
			p->state = S_START;
		} else if (c == HTTP_CR) {
			p->state = S_START_LF;
		} else if (c == HTTP_LF) {
			return head_fail(p, -GW_HTTP_E_BARE_LF, i, consumed);
		} else {
			p->state = p->kind == GW_HTTP_REQUEST ? S_METHOD :
				   S_RESP_VERSION;
			break;
		}
		if (++p->skipped > p->limits.max_head)
			return head_fail(p, -GW_HTTP_E_HEAD_TOO_LARGE, i, consumed);
		i++;
	}
	if (p->state <= S_START_LF) {
		*consumed = len;
		return GW_HTTP_AGAIN;
	}

	/* Offsets count from the head's first byte: in this chunk at hs, or
	 * in the buffer when an earlier chunk held the beginning. */
	if (p->buffered) {
		hs = 0;
		hb = p->buf;
	} else {
		hs = i;
		hb = data + hs;
	}
	budget = p->limits.max_head - p->pos;
	end = len - hs > budget ? hs + budget : len;
	rc = head_scan(p, data, i, end, (size_t)p->pos - hs, hb, &i);
	if (rc == GW_HTTP_AGAIN) {
		if (end < len)
			return head_fail(p, -GW_HTTP_E_HEAD_TOO_LARGE, end, consumed);
		head_save(p, data + hs, len - hs);
		*consumed = len;
		return GW_HTTP_AGAIN;
	}
	if (rc < 0)
		return head_fail(p, rc, i, consumed);
	if (p->buffered)
		head_save(p, data, i);
	else
		p->pos = (uint32_t)(i - hs);
	rc = http_head_finish(p, hb);
	if (rc < 0)
		return head_fail(p, rc, i, consumed);
	*consumed = i;
	return GW_HTTP_DONE;
}
