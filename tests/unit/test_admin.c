/* SPDX-License-Identifier: Apache-2.0 */
/* Admin listener: real HTTP requests over loopback against a handler table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "gw_admin.h"

static int hits;

static void
h_hello(void *ctx, const char *query, const char *body, size_t body_len,
	struct gw_admin_reply *r)
{
	char who[32] = "world";

	(void)ctx; (void)body; (void)body_len;
	hits++;
	gw_admin_query_get(query, "who", who, sizeof(who));
	gw_admin_reply_printf(r, "hello %s\n", who);
}

static void
h_echo(void *ctx, const char *query, const char *body, size_t body_len,
       struct gw_admin_reply *r)
{
	(void)ctx; (void)query;
	r->status = 202;
	gw_admin_reply_printf(r, "%.*s", (int)body_len, body);
}

static void
h_big(void *ctx, const char *query, const char *body, size_t body_len,
      struct gw_admin_reply *r)
{
	(void)ctx; (void)query; (void)body; (void)body_len;
	for (int i = 0; i < 20000; i++)
		gw_admin_reply_printf(r, "line %d\n", i);
}

static const struct gw_admin_route routes[] = {
	{ "GET", "/hello", "greets", h_hello },
	{ "POST", "/echo", "echoes the body", h_echo },
	{ "GET", "/big", "a large reply", h_big },
};

/* Send @req, poll the server until the client has read the whole reply. */
static char *
exchange(struct gw_admin *a, const char *req)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(gw_admin_port(a)) };
	size_t cap = 1 << 20, len = 0;
	char *out = calloc(1, cap);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	for (int i = 0; i < 100; i++) {
		gw_admin_poll(a);
		if (write(fd, req, strlen(req)) > 0)
			break;
		usleep(1000);
	}
	for (int i = 0; i < 5000; i++) {
		ssize_t n;

		gw_admin_poll(a);
		n = read(fd, out + len, cap - len - 1);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		else
			usleep(200);
	}
	close(fd);
	out[len] = '\0';
	return out;
}

static struct gw_admin *
start(void)
{
	char err[256];
	struct in_addr lo = { .s_addr = htonl(INADDR_LOOPBACK) };
	struct gw_admin *a = gw_admin_create(lo, 0, routes, 3, NULL, err,
					     sizeof(err));
	assert_non_null(a);
	assert_int_not_equal(gw_admin_port(a), 0);
	return a;
}

static void
test_get_with_query(void **state)
{
	struct gw_admin *a = start();
	char *out;

	(void)state;
	hits = 0;
	out = exchange(a, "GET /hello?x=1&who=gateway HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, "Content-Length: 14\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nhello gateway\n"));
	assert_int_equal(hits, 1);
	free(out);
	gw_admin_free(a);
}

static void
test_post_body_and_status(void **state)
{
	struct gw_admin *a = start();
	char *out;

	(void)state;
	out = exchange(a, "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde");
	assert_non_null(strstr(out, "HTTP/1.1 202 Accepted\r\n"));
	assert_non_null(strstr(out, "\r\n\r\nabcde"));
	free(out);
	gw_admin_free(a);
}

static void
test_errors(void **state)
{
	struct gw_admin *a = start();
	char *out;

	(void)state;
	out = exchange(a, "GET /nope HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(out, "HTTP/1.1 404 Not Found"));
	free(out);
	out = exchange(a, "POST /hello HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(out, "HTTP/1.1 405 "));
	free(out);
	out = exchange(a, "garbage\r\n\r\n");
	assert_non_null(strstr(out, "HTTP/1.1 400 "));
	free(out);
	out = exchange(a, "POST /echo HTTP/1.1\r\nContent-Length: 99999\r\n\r\n");
	assert_non_null(strstr(out, "HTTP/1.1 413 "));
	free(out);
	out = exchange(a, "GET / HTTP/1.1\r\n\r\n");
	assert_non_null(strstr(out, "/hello"));
	assert_non_null(strstr(out, "echoes the body"));
	free(out);
	gw_admin_free(a);
}

static void
test_large_reply(void **state)
{
	struct gw_admin *a = start();
	char *out;

	(void)state;
	out = exchange(a, "GET /big HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(out, "\nline 0\n"));
	assert_non_null(strstr(out, "\nline 19999\n"));
	free(out);
	gw_admin_free(a);
}

static void
test_query_get(void **state)
{
	char v[8];

	(void)state;
	assert_int_equal(gw_admin_query_get("a=1&ip=10.0.0.1", "ip", v, sizeof(v)), -ENOSPC);
	assert_int_equal(gw_admin_query_get("a=1&ip=10.1", "ip", v, sizeof(v)), 0);
	assert_string_equal(v, "10.1");
	assert_int_equal(gw_admin_query_get("ipx=1", "ip", v, sizeof(v)), -ENOENT);
	assert_int_equal(gw_admin_query_get("", "ip", v, sizeof(v)), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_with_query),
		cmocka_unit_test(test_post_body_and_status),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_large_reply),
		cmocka_unit_test(test_query_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
