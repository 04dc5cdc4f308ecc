/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "gw_common.h"
#include "gw_admin.h"

struct admin_client {
	int fd;                 /**< -1 when the slot is free */
	uint64_t deadline_ms;
	size_t in_len;
	char in[GW_ADMIN_REQUEST_MAX + 1];
	char *out;              /**< response being written */
	size_t out_len;
	size_t out_off;
};

struct gw_admin {
	int listen_fd;
	uint16_t port;
	const struct gw_admin_route *routes;
	unsigned int n_routes;
	void *ctx;
	struct admin_client clients[GW_ADMIN_MAX_CLIENTS];
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
gw_admin_reply_printf(struct gw_admin_reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = r->cap - r->len;

		va_start(ap, fmt);
		n = vsnprintf(r->body == NULL ? NULL : r->body + r->len, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			r->len += (size_t)n;
			return 0;
		}
		size_t cap = r->cap == 0 ? 4096 : r->cap * 2;
		while (cap - r->len <= (size_t)n)
			cap *= 2;
		char *b = realloc(r->body, cap);
		if (b == NULL)
			return -ENOMEM;
		r->body = b;
		r->cap = cap;
	}
}

int
gw_admin_query_get(const char *query, const char *key, char *out, size_t out_len)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t vlen = len - klen - 1;

			if (vlen >= out_len)
				return -ENOSPC;
			memcpy(out, p + klen + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

struct gw_admin *
gw_admin_create(struct in_addr addr, uint16_t port,
		const struct gw_admin_route *routes, unsigned int n, void *ctx,
		char *err, size_t err_len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = addr,
				  .sin_port = htons(port) };
	socklen_t sl = sizeof(sa);
	struct gw_admin *a;
	int one = 1;

	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		gw_err(err, err_len, "admin: out of memory");
		return NULL;
	}
	for (unsigned int i = 0; i < GW_ADMIN_MAX_CLIENTS; i++)
		a->clients[i].fd = -1;
	a->routes = routes;
	a->n_routes = n;
	a->ctx = ctx;
	a->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0)
		goto fail;
	setsockopt(a->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(a->listen_fd, 64) != 0 ||
	    getsockname(a->listen_fd, (struct sockaddr *)&sa, &sl) != 0)
		goto fail;
	a->port = ntohs(sa.sin_port);
	return a;
fail:
	gw_err(err, err_len, "admin: cannot listen on %s:%u: %s",
	       inet_ntoa(addr), port, strerror(errno));
	gw_admin_free(a);
	return NULL;
}

uint16_t
gw_admin_port(const struct gw_admin *a)
{
	return a->port;
}

static void
client_close(struct admin_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default:  return "Unknown";
	}
}

static void
client_respond(struct admin_client *c, struct gw_admin_reply *r)
{
	char head[256];
	int hl;

	if (r->status == 0)
		r->status = 200;
	hl = snprintf(head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n", r->status, status_text(r->status),
		r->content_type ? r->content_type : "text/plain; charset=utf-8",
		r->len);
	c->out = malloc((size_t)hl + r->len);
	if (c->out == NULL) {
		client_close(c);
		return;
	}
	memcpy(c->out, head, (size_t)hl);
	if (r->len)
		memcpy(c->out + hl, r->body, r->len);
	c->out_len = (size_t)hl + r->len;
	c->out_off = 0;
}

static void
simple_reply(struct admin_client *c, int status, const char *text)
{
	struct gw_admin_reply r = { .status = status };

	gw_admin_reply_printf(&r, "%s\n", text);
	client_respond(c, &r);
	free(r.body);
}

static void
index_page(struct gw_admin *a, struct gw_admin_reply *r)
{
	gw_admin_reply_printf(r, "gatewayd admin\n");
	for (unsigned int i = 0; i < a->n_routes; i++)
		gw_admin_reply_printf(r, "  %-5s %-28s %s\n", a->routes[i].method,
				      a->routes[i].path, a->routes[i].help);
}

/* Returns true when a whole request was read and answered (or refused). */
static bool
client_try_request(struct gw_admin *a, struct admin_client *c)
{
	char *head_end = strstr(c->in, "\r\n\r\n");
	char method[8], target[1024];
	size_t body_len = 0, head_len;
	const char *body, *cl;
	char *query;
	bool path_known = false;

	if (head_end == NULL) {
		if (c->in_len >= GW_ADMIN_REQUEST_MAX) {
			simple_reply(c, 413, "request too large");
			return true;
		}
		return false;
	}
	head_len = (size_t)(head_end - c->in) + 4;
	if (sscanf(c->in, "%7s %1023s HTTP/1.", method, target) != 2) {
		simple_reply(c, 400, "malformed request line");
		return true;
	}
	cl = strcasestr(c->in, "\r\ncontent-length:");
	if (cl != NULL && cl < head_end)
		body_len = strtoul(cl + 17, NULL, 10);
	if (body_len > GW_ADMIN_REQUEST_MAX - head_len) {
		simple_reply(c, 413, "request too large");
		return true;
	}
	if (c->in_len < head_len + body_len)
		return false;
	body = c->in + head_len;

	query = strchr(target, '?');
	if (query != NULL)
		*query++ = '\0';
	else
		query = "";

	struct gw_admin_reply r = { .status = 200 };
	if (strcmp(target, "/") == 0 && strcmp(method, "GET") == 0) {
		index_page(a, &r);
		client_respond(c, &r);
		free(r.body);
		return true;
	}
	for (unsigned int i = 0; i < a->n_routes; i++) {
		const struct gw_admin_route *rt = &a->routes[i];

		if (strcmp(rt->path, target) != 0)
			continue;
		path_known = true;
		if (strcmp(rt->method, method) != 0)
			continue;
		rt->handler(a->ctx, query, body, body_len, &r);
		client_respond(c, &r);
		free(r.body);
		return true;
	}
	if (path_known)
		simple_reply(c, 405, "method not allowed");
	else
		simple_reply(c, 404, "no such admin path; GET / lists them");
	return true;
}

static void
accept_clients(struct gw_admin *a)
{
	for (;;) {
		struct admin_client *c = NULL;
		int fd = accept4(a->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (unsigned int i = 0; i < GW_ADMIN_MAX_CLIENTS; i++) {
			if (a->clients[i].fd < 0) {
				c = &a->clients[i];
				break;
			}
		}
		if (c == NULL) {        /* bounded: refuse beyond the limit */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->deadline_ms = now_ms() + GW_ADMIN_IDLE_MS;
	}
}

int
gw_admin_poll(struct gw_admin *a)
{
	uint64_t now = now_ms();
	int answered = 0;

	accept_clients(a);
	for (unsigned int i = 0; i < GW_ADMIN_MAX_CLIENTS; i++) {
		struct admin_client *c = &a->clients[i];
		ssize_t n;

		if (c->fd < 0)
			continue;
		if (now > c->deadline_ms) {
			client_close(c);
			continue;
		}
		if (c->out == NULL) {
			n = read(c->fd, c->in + c->in_len,
				 GW_ADMIN_REQUEST_MAX - c->in_len);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				client_close(c);
				continue;
			}
			if (n > 0) {
				c->in_len += (size_t)n;
				c->in[c->in_len] = '\0';
				if (client_try_request(a, c))
					answered++;
			}
		}
		if (c->fd >= 0 && c->out != NULL) {
			n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
			if (n > 0)
				c->out_off += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    c->out_off == c->out_len)
				client_close(c);
		}
	}
	return answered;
}

void
gw_admin_free(struct gw_admin *a)
{
	if (a == NULL)
		return;
	for (unsigned int i = 0; i < GW_ADMIN_MAX_CLIENTS; i++)
		if (a->clients[i].fd >= 0)
			client_close(&a->clients[i]);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	free(a);
}
