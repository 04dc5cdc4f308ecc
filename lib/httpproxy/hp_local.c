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
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:  return "Error";
	}
}

void
hp_local_reply(struct hp_session *s, uint16_t status, const char *flag,
	       const char *detail, bool close)
{
	struct gw_http_proxy *px = s->px;
	struct hp_writer w;
	size_t blen = strlen(detail) + 1; /* text and a newline */
	bool head_only = s->req_state != HP_REQ_HEAD &&
			 s->req.head.method == GW_HTTP_METHOD_HEAD;

	/* Nothing was forwarded for this request: the rest of its body is
	 * read and dropped, so that the connection can carry the next one. */
	s->discard = true;
	if (close || !s->keep_alive)
		s->close_after = true;
	s->status = status;
	s->resp_state = HP_RESP_DONE;
	s->resp_head_sent = true;
	hp_strlcpy(s->log.flags, sizeof(s->log.flags), flag, strlen(flag));

	hp_writer_init(&w, px->pool);
	hp_write_str(&w, "HTTP/1.1 ");
	hp_write_uint(&w, status);
	hp_write(&w, " ", 1);
	hp_write_str(&w, reason_phrase(status));
	hp_write_str(&w, "\r\ncontent-length: ");
	hp_write_uint(&w, blen);
	hp_write_str(&w, "\r\ncontent-type: text/plain\r\nserver: gatewayd\r\n");
	if (s->close_after)
		hp_write_str(&w, "connection: close\r\n");
	else if (s->http10)
		hp_write_str(&w, "connection: keep-alive\r\n");
	hp_write(&w, "\r\n", 2);
	if (!head_only) {
		hp_write_str(&w, detail);
		hp_write(&w, "\n", 1);
		s->log.bytes_sent = blen;
	}
	px->stats.copied_bytes += w.len;
	px->stats.responses_local++;
	if (!hp_writer_finish(&w, &s->to_client)) {
		px->stats.no_mbuf++;
		s->close_after = true; /* nothing to say: just close */
	}
}
