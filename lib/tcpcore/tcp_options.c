/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP option parsing and building: contract in gw_tcpcore.h.
 *
 * The parser reads only bytes it has checked are inside the block: each
 * option's kind, then (for kinds with a length) that a length byte exists,
 * then that the whole option fits, before reading any value.
 */
#include <errno.h>
#include <string.h>

#include "gw_tcpcore.h"

#define OPTLEN_MSS       4
#define OPTLEN_WSCALE    3
#define OPTLEN_SACK_PERM 2
#define OPTLEN_TIMESTAMP 10
#define OPTLEN_SACK_BASE 2
#define SACK_BLOCK_LEN   8

static inline uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static inline uint8_t *
put_bytes(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* One option of a known kind and a length that passed the walk checks. */
static void
parse_one(const uint8_t *p, uint8_t olen, struct gw_tcp_options *out)
{
	switch (p[0]) {
	case GW_TCPOPT_MSS:
		if (olen != OPTLEN_MSS)
			return;
		out->mss = get_be16(p + 2);
		out->present |= GW_TCPOPT_F_MSS;
		return;
	case GW_TCPOPT_WSCALE:
		if (olen != OPTLEN_WSCALE)
			return;
		out->wscale = p[2] > GW_TCP_WSCALE_MAX ? GW_TCP_WSCALE_MAX : p[2];
		out->present |= GW_TCPOPT_F_WSCALE;
		return;
	case GW_TCPOPT_SACK_PERM:
		if (olen != OPTLEN_SACK_PERM)
			return;
		out->present |= GW_TCPOPT_F_SACK_PERM;
		return;
	case GW_TCPOPT_TIMESTAMP:
		if (olen != OPTLEN_TIMESTAMP)
			return;
		out->ts_val = get_be32(p + 2);
		out->ts_ecr = get_be32(p + 6);
		out->present |= GW_TCPOPT_F_TIMESTAMP;
		return;
	case GW_TCPOPT_SACK: {
		unsigned int n = (unsigned int)(olen - OPTLEN_SACK_BASE) / SACK_BLOCK_LEN;

		if (olen < OPTLEN_SACK_BASE + SACK_BLOCK_LEN ||
		    (olen - OPTLEN_SACK_BASE) % SACK_BLOCK_LEN != 0 ||
		    n > GW_TCP_SACK_MAX_BLOCKS)
			return;
		for (unsigned int i = 0; i < n; i++) {
			const uint8_t *b = p + OPTLEN_SACK_BASE + i * SACK_BLOCK_LEN;

			out->sack[i].start = get_be32(b);
			out->sack[i].end = get_be32(b + 4);
		}
		out->sack_count = (uint8_t)n;
		out->present |= GW_TCPOPT_F_SACK;
		return;
	}
	default:
		return;  /* unknown: skipped by its length */
	}
}

int
gw_tcp_options_parse(const uint8_t *opts, size_t len,
		     struct gw_tcp_options *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		uint8_t kind = opts[i];
		uint8_t olen;

		if (kind == GW_TCPOPT_EOL)
			break;  /* the rest is padding */
		if (kind == GW_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			goto malformed;  /* no length byte */
		olen = opts[i + 1];
		if (olen < 2 || olen > len - i)
			goto malformed;  /* would loop or overrun */
		parse_one(opts + i, olen, out);
		i += olen;
	}
	return 0;

malformed:
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

int
gw_tcp_options_build(const struct gw_tcp_options *in, uint8_t *buf, size_t cap)
{
	uint32_t f = in->present;
	size_t need = 0;
	uint8_t *p = buf;

	if (f & GW_TCPOPT_F_MSS)
		need += 4;
	if (f & GW_TCPOPT_F_TIMESTAMP)
		need += 12;  /* SACK-permitted rides in its two NOPs */
	else if (f & GW_TCPOPT_F_SACK_PERM)
		need += 4;
	if (f & GW_TCPOPT_F_WSCALE) {
		if (in->wscale > GW_TCP_WSCALE_MAX)
			return -EINVAL;
		need += 4;
	}
	if (f & GW_TCPOPT_F_SACK) {
		if (in->sack_count == 0 ||
		    in->sack_count > GW_TCP_SACK_MAX_BLOCKS)
			return -EINVAL;
		need += 4 + (size_t)in->sack_count * SACK_BLOCK_LEN;
	}
	if (need > GW_TCP_OPTIONS_MAX_LEN)
		return -EINVAL;
	if (need > cap)
		return -ENOSPC;

	if (f & GW_TCPOPT_F_MSS) {
		p = put_bytes(p, GW_TCPOPT_MSS, OPTLEN_MSS, 0, 0);
		put_be16(p - 2, in->mss);
	}
	if (f & GW_TCPOPT_F_TIMESTAMP) {
		if (f & GW_TCPOPT_F_SACK_PERM)
			p = put_bytes(p, GW_TCPOPT_SACK_PERM, OPTLEN_SACK_PERM,
				      GW_TCPOPT_TIMESTAMP, OPTLEN_TIMESTAMP);
		else
			p = put_bytes(p, GW_TCPOPT_NOP, GW_TCPOPT_NOP,
				      GW_TCPOPT_TIMESTAMP, OPTLEN_TIMESTAMP);
		p = put_be32(p, in->ts_val);
		p = put_be32(p, in->ts_ecr);
	} else if (f & GW_TCPOPT_F_SACK_PERM) {
		p = put_bytes(p, GW_TCPOPT_NOP, GW_TCPOPT_NOP,
			      GW_TCPOPT_SACK_PERM, OPTLEN_SACK_PERM);
	}
	if (f & GW_TCPOPT_F_WSCALE)
		p = put_bytes(p, GW_TCPOPT_NOP, GW_TCPOPT_WSCALE, OPTLEN_WSCALE,
			      in->wscale);
	if (f & GW_TCPOPT_F_SACK) {
		p = put_bytes(p, GW_TCPOPT_NOP, GW_TCPOPT_NOP, GW_TCPOPT_SACK,
			      (uint8_t)(OPTLEN_SACK_BASE +
					in->sack_count * SACK_BLOCK_LEN));
		for (unsigned int i = 0; i < in->sack_count; i++) {
			p = put_be32(p, in->sack[i].start);
			p = put_be32(p, in->sack[i].end);
		}
	}
	return (int)(p - buf);
}
