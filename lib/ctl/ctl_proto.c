/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control protocol's frames: request encoding and in-place decoding,
 * reply heads, the resumable frame reader both ends use, and the reply
 * buffer handlers write into. Pure functions of their buffers: no socket
 * here, so that the tests drive them byte by byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ctl.h"

/* ------------------------------------------------------------------ */
/* Replies                                                             */

static int
reply_reserve(struct gw_ctl_reply *r, size_t more)
{
	size_t cap;
	char *b;

	/* +1: the body is kept NUL-terminated for handlers that print it. */
	if (r->cap - r->len > more)
		return 0;
	if (more > SIZE_MAX / 2 - r->len) {
		r->oom = true;
		return -ENOMEM;
	}
	cap = r->cap == 0 ? 4096 : r->cap;
	while (cap - r->len <= more)
		cap *= 2;
	b = realloc(r->body, cap);
	if (b == NULL) {
		r->oom = true;
		return -ENOMEM;
	}
	r->body = b;
	r->cap = cap;
	return 0;
}

static int
reply_vprintf(struct gw_ctl_reply *r, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	if (reply_reserve(r, (size_t)n) < 0)
		return -ENOMEM;
	vsnprintf(r->body + r->len, r->cap - r->len, fmt, ap);
	r->len += (size_t)n;
	return 0;
}

int
gw_ctl_reply_printf(struct gw_ctl_reply *reply, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_vprintf(reply, fmt, ap);
	va_end(ap);
	return rc;
}

int
gw_ctl_reply_append(struct gw_ctl_reply *reply, const void *data, size_t len)
{
	if (reply_reserve(reply, len) < 0)
		return -ENOMEM;
	if (len > 0)
		memcpy(reply->body + reply->len, data, len);
	reply->len += len;
	reply->body[reply->len] = '\0';
	return 0;
}

int
gw_ctl_reply_error(struct gw_ctl_reply *reply, uint32_t status,
		   const char *fmt, ...)
{
	va_list ap;
	int rc;

	reply->status = status;
	va_start(ap, fmt);
	rc = reply_vprintf(reply, fmt, ap);
	va_end(ap);
	return rc;
}

void
gw_ctl_reply_reset(struct gw_ctl_reply *reply)
{
	free(reply->body);
	memset(reply, 0, sizeof(*reply));
	reply->status = GW_CTL_OK;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Control characters would let an argument forge line breaks or confuse
 * terminals printing it back; TAB is harmless and used in names. */
static bool
arg_byte_ok(unsigned char c)
{
	return (c >= 0x20 && c != 0x7f) || c == '\t';
}

int
gw_ctl_request_encode(unsigned int argc, const char *const *argv,
		      const void *body, size_t body_len, size_t max_frame,
		      uint8_t **frame, size_t *frame_len)
{
	size_t head = 0, len, off;
	uint8_t *f;

	*frame = NULL;
	*frame_len = 0;
	if (argc == 0 || argc > GW_CTL_MAX_ARGS)
		return -EINVAL;
	if (max_frame == 0)
		max_frame = GW_CTL_FRAME_MAX_DEFAULT;
	for (unsigned int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n == 0)
			return -EINVAL;
		for (size_t j = 0; j < n; j++)
			if (!arg_byte_ok((unsigned char)argv[i][j]))
				return -EINVAL;
		head += n + 1;
		if (head > GW_CTL_ARGS_BYTES_MAX)
			return -EINVAL;
	}
	head++;                 /* the empty line */
	if (body_len > max_frame || head > max_frame - body_len ||
	    head + body_len > UINT32_MAX)
		return -EMSGSIZE;
	len = head + body_len;
	f = malloc(GW_CTL_REQUEST_HEAD + len);
	if (f == NULL)
		return -ENOMEM;
	put_be32(f, (uint32_t)len);
	off = GW_CTL_REQUEST_HEAD;
	for (unsigned int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		memcpy(f + off, argv[i], n);
		off += n;
		f[off++] = '\n';
	}
	f[off++] = '\n';
	if (body_len > 0)
		memcpy(f + off, body, body_len);
	*frame = f;
	*frame_len = GW_CTL_REQUEST_HEAD + len;
	return 0;
}

int
gw_ctl_request_decode(char *payload, size_t len, struct gw_ctl_request *req,
		      const char **why)
{
	size_t i = 0, start;

	req->argc = 0;
	req->argv[0] = NULL;
	req->body = NULL;
	req->body_len = 0;
	if (len == 0) {
		*why = "empty request";
		return -EINVAL;
	}
	/* Argument lines, up to the empty line. */
	for (;;) {
		if (i >= len) {
			*why = "no empty line after the arguments";
			return -EINVAL;
		}
		if (payload[i] == '\n')
			break;
		if (req->argc == GW_CTL_MAX_ARGS) {
			*why = "too many arguments";
			return -EINVAL;
		}
		start = i;
		while (i < len && payload[i] != '\n') {
			if (!arg_byte_ok((unsigned char)payload[i])) {
				*why = "control character in an argument";
				return -EINVAL;
			}
			i++;
		}
		if (i == len) {
			*why = "no empty line after the arguments";
			return -EINVAL;
		}
		/* The argument lines, newlines included, as the encoder counts. */
		if (i + 1 > GW_CTL_ARGS_BYTES_MAX) {
			*why = "arguments too long";
			return -EINVAL;
		}
		payload[i++] = '\0';
		req->argv[req->argc++] = payload + start;
	}
	if (req->argc == 0) {
		*why = "no command";
		return -EINVAL;
	}
	req->argv[req->argc] = NULL;
	i++;                    /* the empty line */
	if (i < len) {
		req->body = payload + i;
		req->body_len = len - i;
	}
	return 0;
}

void
gw_ctl_reply_head_encode(uint8_t head[GW_CTL_REPLY_HEAD], uint32_t status,
			 uint32_t body_len)
{
	put_be32(head, status);
	put_be32(head + 4, body_len);
}

/* ------------------------------------------------------------------ */
/* Frame reader                                                        */

void
gw_ctl_frame_in_init(struct gw_ctl_frame_in *f, bool reply, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->head_len = reply ? GW_CTL_REPLY_HEAD : GW_CTL_REQUEST_HEAD;
	f->max = max;
}

void
gw_ctl_frame_in_reset(struct gw_ctl_frame_in *f)
{
	free(f->data);
	f->data = NULL;
	f->head_got = 0;
	f->status = 0;
	f->data_len = 0;
	f->data_got = 0;
}

uint8_t *
gw_ctl_frame_in_ptr(struct gw_ctl_frame_in *f)
{
	if (f->head_got < f->head_len)
		return f->head + f->head_got;
	return f->data + f->data_got;
}

size_t
gw_ctl_frame_in_want(const struct gw_ctl_frame_in *f)
{
	if (f->head_got < f->head_len)
		return f->head_len - f->head_got;
	return f->data_len - f->data_got;
}

bool
gw_ctl_frame_in_idle(const struct gw_ctl_frame_in *f)
{
	return f->head_got == 0;
}

int
gw_ctl_frame_in_advance(struct gw_ctl_frame_in *f, size_t n)
{
	if (f->head_got < f->head_len) {
		f->head_got += (unsigned int)n;
		if (f->head_got < f->head_len)
			return 0;
		if (f->head_len == GW_CTL_REPLY_HEAD) {
			f->status = get_be32(f->head);
			f->data_len = get_be32(f->head + 4);
		} else {
			f->data_len = get_be32(f->head);
		}
		if (f->data_len > f->max)
			return -EMSGSIZE;
		/* +1 so that text payloads can be NUL-terminated in place. */
		f->data = malloc(f->data_len + 1);
		if (f->data == NULL)
			return -ENOMEM;
		f->data[f->data_len] = '\0';
		f->data_got = 0;
		return f->data_len == 0 ? 1 : 0;
	}
	f->data_got += n;
	return f->data_got == f->data_len ? 1 : 0;
}
