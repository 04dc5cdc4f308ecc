/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chunked transfer coding (RFC 9112 §7.1), decoded without copying: the
 * decoder only reports which input ranges are chunk data, so the proxy can
 * pass the original bytes on (chunked stays chunked) or the payload alone.
 *
 * The grammar is applied strictly, since a lenient decoder in front of a
 * strict one (or the reverse) is how chunked smuggling works: the size is
 * 1..16 hex digits below 2^63, whitespace only before a ';', extensions are
 * token[=token|quoted-string] with a bounded length, chunk data is followed
 * by exactly CRLF, and trailer field lines follow the head's field syntax.
 */
#include <string.h>

#include "gw_http.h"
#include "http_private.h"

enum {
	CH_SIZE_START = 0,  /* first hex digit of a chunk size */
	CH_SIZE,
	CH_SIZE_WS,         /* BWS after the size: only ';' may follow */
	CH_EXT_BWS_NAME,    /* after ';' */
	CH_EXT_NAME,
	CH_EXT_BWS_EQ,      /* BWS after a name: '=' or ';' */
	CH_EXT_BWS_VAL,     /* after '=' */
	CH_EXT_TOKEN,       /* token value */
	CH_EXT_QUOTED,      /* quoted-string value */
	CH_EXT_QUOTED_ESC,  /* after a backslash in it */
	CH_EXT_QUOTE_END,   /* after the closing quote */
	CH_EXT_BWS_SEMI,    /* BWS after a value: only ';' may follow */
	CH_SIZE_LF,         /* CR ending the size line seen */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START,
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_END_LF,          /* CR of the final empty line seen */
	CH_DONE,
	CH_ERROR,
};

void
gw_http_chunked_init(struct gw_http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->max_trailer = GW_HTTP_TRAILER_MAX_DEFAULT;
	c->state = CH_SIZE_START;
}

bool
gw_http_chunked_done(const struct gw_http_chunked *c)
{
	return c->state == CH_DONE;
}

/* Next state from an extension state on byte @p b, or CH_ERROR. */
static unsigned int
ext_step(unsigned int state, uint8_t b)
{
	bool tchar = http_is(b, HC_TCHAR), ws = http_is(b, HC_WS);

	switch (state) {
	case CH_SIZE_WS:
	case CH_EXT_BWS_SEMI:
		return ws ? state : b == ';' ? CH_EXT_BWS_NAME : CH_ERROR;
	case CH_EXT_BWS_NAME:
		return ws ? state : tchar ? CH_EXT_NAME : CH_ERROR;
	case CH_EXT_NAME:
		if (tchar)
			return state;
		return ws ? CH_EXT_BWS_EQ : b == '=' ? CH_EXT_BWS_VAL :
		       b == ';' ? CH_EXT_BWS_NAME : b == HTTP_CR ? CH_SIZE_LF :
		       CH_ERROR;
	case CH_EXT_BWS_EQ:
		return ws ? state : b == '=' ? CH_EXT_BWS_VAL :
		       b == ';' ? CH_EXT_BWS_NAME : CH_ERROR;
	case CH_EXT_BWS_VAL:
		return ws ? state : tchar ? CH_EXT_TOKEN :
		       b == '"' ? CH_EXT_QUOTED : CH_ERROR;
	case CH_EXT_TOKEN:
		if (tchar)
			return state;
		return ws ? CH_EXT_BWS_SEMI : b == ';' ? CH_EXT_BWS_NAME :
		       b == HTTP_CR ? CH_SIZE_LF : CH_ERROR;
	case CH_EXT_QUOTED:
		/* qdtext: HTAB, SP, VCHAR but '"' and '\', obs-text */
		if (b == '"')
			return CH_EXT_QUOTE_END;
		if (b == '\\')
			return CH_EXT_QUOTED_ESC;
		return http_is(b, HC_FVCHAR | HC_WS) ? state : CH_ERROR;
	case CH_EXT_QUOTED_ESC:
		return http_is(b, HC_FVCHAR | HC_WS) ? CH_EXT_QUOTED : CH_ERROR;
	case CH_EXT_QUOTE_END:
		return ws ? CH_EXT_BWS_SEMI : b == ';' ? CH_EXT_BWS_NAME :
		       b == HTTP_CR ? CH_SIZE_LF : CH_ERROR;
	default:
		return CH_ERROR;
	}
}

int
gw_http_chunked_feed(struct gw_http_chunked *c, const uint8_t *data,
		     size_t len, struct gw_http_span *spans,
		     unsigned int max_spans, size_t *consumed)
{
	bool report = spans != NULL && max_spans > 0;
	unsigned int state = c->state, n = 0, next;
	uint64_t payload = 0;
	size_t i = 0;
	int rc = 0;
	uint8_t b;

#define FAIL(e) do { rc = -(e); goto out; } while (0)

	if (state == CH_ERROR) {
		*consumed = 0;
		return c->err;
	}
	while (i < len && state != CH_DONE) {
		if (state == CH_DATA) {
			size_t take = len - i;

			if (report && n == max_spans)
				break;
			if (take > c->remaining)
				take = (size_t)c->remaining;
			if (report)
				spans[n++] = (struct gw_http_span){ i, take };
			c->remaining -= take;
			payload += take;
			i += take;
			if (c->remaining == 0)
				state = CH_DATA_CR;
			continue;
		}
		b = data[i];
		switch (state) {
		case CH_SIZE_START:
			/* An empty size ("\r\n", ";ext") is no size. */
			if (!http_is(b, HC_HEX))
				FAIL(b == HTTP_LF ? GW_HTTP_E_BARE_LF : GW_HTTP_E_CHUNK_SIZE);
			c->remaining = (uint64_t)http_hex_value(b);
			c->digits = 1;
			c->line_len = 0;
			state = CH_SIZE;
			break;
		case CH_SIZE:
			if (http_is(b, HC_HEX)) {
				/* At most 2^63-1, and no endless leading zeros. */
				if (++c->digits > 16 || c->remaining > (uint64_t)INT64_MAX >> 4)
					FAIL(GW_HTTP_E_CHUNK_SIZE);
				c->remaining = c->remaining << 4 |
					       (uint64_t)http_hex_value(b);
			} else if (b == HTTP_CR) {
				state = CH_SIZE_LF;
			} else if (b == ';' || http_is(b, HC_WS)) {
				state = b == ';' ? CH_EXT_BWS_NAME : CH_SIZE_WS;
				c->line_len = 1;
			} else {
				FAIL(b == HTTP_LF ? GW_HTTP_E_BARE_LF : GW_HTTP_E_CHUNK_SIZE);
			}
			break;
		case CH_SIZE_WS:
		case CH_EXT_BWS_NAME:
		case CH_EXT_NAME:
		case CH_EXT_BWS_EQ:
		case CH_EXT_BWS_VAL:
		case CH_EXT_TOKEN:
		case CH_EXT_QUOTED:
		case CH_EXT_QUOTED_ESC:
		case CH_EXT_QUOTE_END:
		case CH_EXT_BWS_SEMI:
			if (++c->line_len > GW_HTTP_CHUNK_LINE_MAX)
				FAIL(GW_HTTP_E_CHUNK_EXT);
			next = ext_step(state, b);
			if (next == CH_ERROR)
				FAIL(b == HTTP_LF ? GW_HTTP_E_BARE_LF :
				     state == CH_SIZE_WS ? GW_HTTP_E_CHUNK_SIZE :
				     GW_HTTP_E_CHUNK_EXT);
			state = next;
			break;
		case CH_SIZE_LF:
			if (b != HTTP_LF)
				FAIL(GW_HTTP_E_BARE_CR);
			if (c->remaining == 0) {
				c->trailer_len = 0;
				state = CH_TRAILER_START;
			} else {
				state = CH_DATA;
			}
			break;
		case CH_DATA_CR:
			if (b != HTTP_CR)
				FAIL(GW_HTTP_E_CHUNK_CRLF);
			state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (b != HTTP_LF)
				FAIL(GW_HTTP_E_CHUNK_CRLF);
			state = CH_SIZE_START;
			break;
		case CH_TRAILER_START:
		case CH_TRAILER_NAME:
		case CH_TRAILER_VALUE:
		case CH_TRAILER_LF:
		case CH_END_LF:
			if (++c->trailer_len > c->max_trailer)
				FAIL(GW_HTTP_E_TRAILER_TOO_LARGE);
			if (state == CH_TRAILER_LF || state == CH_END_LF) {
				if (b != HTTP_LF)
					FAIL(GW_HTTP_E_BARE_CR);
				state = state == CH_END_LF ? CH_DONE : CH_TRAILER_START;
			} else if (b == HTTP_LF) {
				FAIL(GW_HTTP_E_BARE_LF);
			} else if (state == CH_TRAILER_START) {
				/* SP/HTAB first would be obs-fold */
				if (b == HTTP_CR)
					state = CH_END_LF;
				else if (http_is(b, HC_TCHAR))
					state = CH_TRAILER_NAME;
				else
					FAIL(GW_HTTP_E_TRAILER);
			} else if (state == CH_TRAILER_NAME) {
				if (b == ':')
					state = CH_TRAILER_VALUE;
				else if (!http_is(b, HC_TCHAR))
					FAIL(GW_HTTP_E_TRAILER);
			} else if (b == HTTP_CR) {
				state = CH_TRAILER_LF;
			} else if (!http_is(b, HC_FVCHAR | HC_WS)) {
				FAIL(GW_HTTP_E_TRAILER);
			}
			break;
		default:
			FAIL(GW_HTTP_E_CHUNK_SIZE); /* not reached */
		}
		i++;
	}
out:
	c->payload_bytes += payload;
	c->framing_bytes += i - payload;
	*consumed = i;
	if (rc < 0) {
		c->state = CH_ERROR;
		c->err = rc;
		return rc;
	}
	c->state = (uint8_t)state;
	return (int)n;
#undef FAIL
}
