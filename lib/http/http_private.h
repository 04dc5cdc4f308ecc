/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HTTP_PRIVATE_H
#define HTTP_PRIVATE_H

/*
 * Byte classes shared by the head parser and the chunked decoder. One table
 * lookup per byte decides what a state accepts, so the hot loops (target,
 * field values, chunk data) carry no chains of comparisons.
 */

#include <stdint.h>

#include "gw_http.h"

#define HTTP_CR '\r'
#define HTTP_LF '\n'

enum {
	HC_TCHAR  = 0x01,  /* token (RFC 9110 §5.6.2) */
	HC_FVCHAR = 0x02,  /* field-vchar: VCHAR or obs-text */
	HC_WS     = 0x04,  /* SP or HTAB */
	HC_TARGET = 0x08,  /* request-target byte: VCHAR but '#' */
	HC_HEX    = 0x10,
	HC_DIGIT  = 0x20,
	HC_HOST   = 0x40,  /* reg-name: unreserved or sub-delims */
	HC_SCHEME = 0x80,  /* ALPHA DIGIT + - . */
};

extern const uint8_t http_char_class[256];

static inline int
http_is(uint8_t c, unsigned int cls)
{
	return http_char_class[c] & cls;
}

static inline uint8_t
http_lower(uint8_t c)
{
	return (uint8_t)(c + ((unsigned int)(c - 'A') < 26u ? 0x20 : 0));
}

static inline int
http_hex_value(uint8_t c)
{
	if (c <= '9')
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

/*
 * Fill p->head from a complete head at @p hb that the syntax pass accepted
 * (p->headers and the start-line offsets are set). Returns 0 or -code.
 */
int http_head_finish(struct gw_http_parser *p, const uint8_t *hb);

#endif /* HTTP_PRIVATE_H */
