/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Responses the gateway produces itself: a status line, a few fields and
 * a short text body naming the reason, with Envoy's response flag in the
 * access log. Texts follow Envoy's where it has one, so that clients and
 * scripts written against Istio see the same bodies.
 */
#include <string.h>

#include "hp_private.h"

static const char *
reason_phrase(uint16_t status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 418: return "I'm a teapot";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:  return status < 400 ? "OK" : "Error";
	}
}

void
hp_local_reply(struct hp_session *s, uint16_t status, const char *flag,
	       const char *detail, bool close)
{
	size_t dlen = strlen(detail);
	char text[160];

	/* the text and a newline */
	if (dlen > sizeof(text) - 2)
		dlen = sizeof(text) - 2;
	memcpy(text, detail, dlen);
	text[dlen] = '\n';
	hp_local_respond(s, status, flag, text, dlen + 1, "text/plain", NULL,
			 NULL, close);
}

void
hp_local_respond(struct hp_session *s, uint16_t status, const char *flag,
		 const void *body, size_t body_len, const char *content_type,
		 void (*extra)(struct hp_writer *w, const void *arg),
		 const void *extra_arg, bool close)
{
	struct gw_http_proxy *px = s->px;
	struct hp_writer w;
	bool head_only = s->req_state != HP_REQ_HEAD &&
			 s->x->req.head.method == GW_HTTP_METHOD_HEAD;
	/* 1xx, 204 and 304 carry no body (RFC 9110 6.4.1) */
	bool no_body = status < 200 || status == 204 || status == 304;

	if (no_body)
		body_len = 0;
	/* Nothing was forwarded for this request: the rest of its body is
	 * read and dropped, so that the connection can carry the next one. */
	s->discard = true;
	if (close || !s->keep_alive)
		s->close_after = true;
	s->status = status;
	s->resp_state = HP_RESP_DONE;
	s->resp_head_sent = true;
	hp_strlcpy(s->x->log.flags, sizeof(s->x->log.flags), flag, strlen(flag));

	hp_writer_init(&w, px->pool);
	hp_write_str(&w, "HTTP/1.1 ");
	hp_write_uint(&w, status);
	hp_write(&w, " ", 1);
	hp_write_str(&w, reason_phrase(status));
	hp_write_str(&w, "\r\n");
	if (!no_body) {
		hp_write_str(&w, "content-length: ");
		hp_write_uint(&w, body_len);
		hp_write_str(&w, "\r\n");
	}
	if (content_type != NULL && body_len != 0) {
		hp_write_str(&w, "content-type: ");
		hp_write_str(&w, content_type);
		hp_write_str(&w, "\r\n");
	}
	hp_write_str(&w, "server: gatewayd\r\n");
	if (extra != NULL)
		extra(&w, extra_arg);
	if (s->close_after)
		hp_write_str(&w, "connection: close\r\n");
	else if (s->http10)
		hp_write_str(&w, "connection: keep-alive\r\n");
	hp_write(&w, "\r\n", 2);
	if (!head_only && body_len != 0) {
		hp_write(&w, body, body_len);
		s->x->log.bytes_sent = body_len;
	}
	px->stats.copied_bytes += w.len;
	px->stats.responses_local++;
	if (!hp_writer_finish(&w, &s->to_client)) {
		px->stats.no_mbuf++;
		s->close_after = true; /* nothing to say: just close */
	}
}
