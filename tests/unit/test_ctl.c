/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Control socket: the frame codec (every prefix, every decode error), then
 * a real server on a temporary Unix socket: request/reply and the command
 * table, 100 concurrent clients, truncated, oversized and garbage frames
 * that must not disturb a well-behaved client, idle and busy limits, the
 * socket file's mode and group, stale and live socket files, and peer
 * credentials checked against processes running as another user.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "gw_ctl.h"

#define NOBODY 65534

static char tmpdir[32];
static char sock_path[100];

/* ------------------------------------------------------------------ */
/* Handlers                                                            */

static void
h_echo(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	(void)ctx;
	for (unsigned int i = 0; i < req->argc; i++)
		gw_ctl_reply_printf(r, "%s%s", i ? "|" : "", req->argv[i]);
	gw_ctl_reply_printf(r, "#");
	if (req->body != NULL)
		gw_ctl_reply_append(r, req->body, req->body_len);
}

static void
h_fail(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	(void)ctx; (void)req;
	gw_ctl_reply_error(r, GW_CTL_CONFLICT, "nope\n");
}

static void
h_big(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	size_t n = req->argc > 1 ? strtoul(req->argv[1], NULL, 10) : 0;

	(void)ctx;
	for (size_t i = 0; i < n; i++)
		gw_ctl_reply_append(r, "x", 1);
}

static void
h_describe(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	(void)ctx;
	gw_ctl_reply_printf(r, "describe:%u", req->n_words);
}

static void
h_describe_route(void *ctx, const struct gw_ctl_request *req,
		 struct gw_ctl_reply *r)
{
	(void)ctx;
	gw_ctl_reply_printf(r, "route:%u:%s", req->n_words,
			    req->argc > 2 ? req->argv[2] : "-");
}

static void
h_whoami(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	(void)ctx;
	gw_ctl_reply_printf(r, "uid=%u", (unsigned int)req->peer_uid);
}

static const struct gw_ctl_command commands[] = {
	{ "echo", "echo ARGS", "echoes", h_echo },
	{ "fail", "fail", "fails", h_fail },
	{ "big", "big N", "N bytes", h_big },
	{ "describe", "describe X", "generic", h_describe },
	{ "describe route", "describe route HOST", "specific", h_describe_route },
	{ "whoami", "whoami", "peer uid", h_whoami },
};

static struct gw_ctl *
server(unsigned int max_clients, size_t max_frame, unsigned int idle_ms,
       const char *group)
{
	struct gw_ctl_params p = {
		.path = sock_path, .group = group, .max_clients = max_clients,
		.max_frame = max_frame, .idle_ms = idle_ms,
		.commands = commands, .n_commands = 6,
	};
	char err[256] = "";
	struct gw_ctl *c = gw_ctl_create(&p, err, sizeof(err));

	if (c == NULL)
		fail_msg("gw_ctl_create: %s", err);
	return c;
}

/* ------------------------------------------------------------------ */
/* Raw sockets driven from the test thread, polling the server between
 * steps, so that nothing here needs a second thread.                   */

static int
raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Write everything, polling the server while the socket is full. */
static void
raw_send(struct gw_ctl *c, int fd, const void *buf, size_t len)
{
	size_t off = 0;

	for (int i = 0; off < len && i < 100000; i++) {
		ssize_t n = send(fd, (const char *)buf + off, len - off,
				 MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;     /* refused early: the reply tells why */
		gw_ctl_poll(c);
	}
}

static void
raw_request(struct gw_ctl *c, int fd, unsigned int argc, const char **argv,
	    const char *body)
{
	uint8_t *frame;
	size_t len;

	assert_int_equal(gw_ctl_request_encode(argc, argv, body,
					       body ? strlen(body) : 0, 0,
					       &frame, &len), 0);
	raw_send(c, fd, frame, len);
	free(frame);
}

/*
 * Read one reply. Returns 1 with *status and *body (malloc'd), 0 on EOF
 * before any byte, -1 on a timeout (2 s) or a broken frame.
 */
static int
raw_reply(struct gw_ctl *c, int fd, uint32_t *status, char **body)
{
	struct gw_ctl_frame_in in;

	gw_ctl_frame_in_init(&in, true, GW_CTL_CLIENT_REPLY_MAX);
	for (int i = 0; i < 20000; i++) {
		ssize_t n;
		int rc;

		gw_ctl_poll(c);
		n = recv(fd, gw_ctl_frame_in_ptr(&in), gw_ctl_frame_in_want(&in), 0);
		if (n < 0 && errno == EAGAIN) {
			usleep(100);
			continue;
		}
		if (n <= 0) {
			bool idle = gw_ctl_frame_in_idle(&in);

			gw_ctl_frame_in_reset(&in);
			return idle ? 0 : -1;
		}
		rc = gw_ctl_frame_in_advance(&in, (size_t)n);
		if (rc == 1) {
			*status = in.status;
			*body = (char *)in.data;
			return 1;
		}
		if (rc < 0)
			break;
	}
	gw_ctl_frame_in_reset(&in);
	return -1;
}

/* True when the server closed @p fd (EOF or reset) within 2 s. */
static bool
raw_closed(struct gw_ctl *c, int fd)
{
	char b[256];

	for (int i = 0; i < 20000; i++) {
		ssize_t n;

		gw_ctl_poll(c);
		n = recv(fd, b, sizeof(b), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
		usleep(100);
	}
	return false;
}

static void
expect_echo(struct gw_ctl *c, int fd, const char *word, const char *want)
{
	const char *argv[] = { "echo", word };
	uint32_t status = 0;
	char *body = NULL;

	raw_request(c, fd, 2, argv, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_OK);
	assert_string_equal(body, want);
	free(body);
}

static struct gw_ctl_stats
stats(const struct gw_ctl *c)
{
	struct gw_ctl_stats s;

	gw_ctl_stats_get(c, &s);
	return s;
}

/* ------------------------------------------------------------------ */
/* Codec                                                               */

static void
test_codec_roundtrip(void **state)
{
	const char *argv[] = { "apply", "-f", "12:my file.yaml", "a\tb" };
	const char body[] = "kind: X\n\0binary\n";
	struct gw_ctl_request req;
	struct gw_ctl_frame_in in;
	const char *why = NULL;
	uint8_t *frame;
	size_t len;

	(void)state;
	assert_int_equal(gw_ctl_request_encode(4, argv, body, sizeof(body), 0,
					       &frame, &len), 0);
	/* Every split of the frame into two reads yields the same request. */
	for (size_t cut = 0; cut <= len; cut++) {
		size_t off = 0;
		int rc = 0;

		gw_ctl_frame_in_init(&in, false, 1024);
		while (off < len) {
			size_t want = gw_ctl_frame_in_want(&in);
			size_t lim = off < cut ? cut - off : len - off;
			size_t n = want < lim ? want : lim;

			assert_true(n > 0);
			memcpy(gw_ctl_frame_in_ptr(&in), frame + off, n);
			off += n;
			rc = gw_ctl_frame_in_advance(&in, n);
			assert_true(rc >= 0);
			if (rc == 1)
				break;
		}
		assert_int_equal(rc, 1);
		assert_int_equal(off, len);
		assert_int_equal(gw_ctl_request_decode((char *)in.data,
						       in.data_len, &req, &why), 0);
		assert_int_equal(req.argc, 4);
		for (unsigned int i = 0; i < 4; i++)
			assert_string_equal(req.argv[i], argv[i]);
		assert_null(req.argv[4]);
		assert_int_equal(req.body_len, sizeof(body));
		assert_memory_equal(req.body, body, sizeof(body));
		gw_ctl_frame_in_reset(&in);
	}
	free(frame);

	/* No body. */
	assert_int_equal(gw_ctl_request_encode(1, argv, NULL, 0, 0, &frame,
					       &len), 0);
	assert_int_equal(len, 4 + 7);
	assert_memory_equal(frame + 4, "apply\n\n", 7);
	assert_int_equal(gw_ctl_request_decode((char *)frame + 4, len - 4, &req,
					       &why), 0);
	assert_int_equal(req.argc, 1);
	assert_null(req.body);
	free(frame);
}

static void
test_codec_errors(void **state)
{
	static const struct {
		const char *payload;
		size_t len;
		const char *why;
	} bad[] = {
		{ "", 0, "empty request" },
		{ "\n", 1, "no command" },
		{ "\nbody", 5, "no command" },
		{ "get", 3, "no empty line after the arguments" },
		{ "get\n", 4, "no empty line after the arguments" },
		{ "get\nvs", 6, "no empty line after the arguments" },
		{ "get\0x\n\n", 7, "control character in an argument" },
		{ "get\r\n\n", 6, "control character in an argument" },
		{ "\x1b[2J\n\n", 6, "control character in an argument" },
	};
	const char *argv_bad[] = { "get", "" };
	const char *argv_ctl[] = { "get", "a\nb" };
	const char *argv_ok[] = { "get" };
	const char *many[GW_CTL_MAX_ARGS + 1];
	struct gw_ctl_request req;
	struct gw_ctl_frame_in in;
	char buf[512], *big;
	const char *why;
	uint8_t *frame;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, bad[i].payload, bad[i].len);
		why = NULL;
		assert_int_equal(gw_ctl_request_decode(buf, bad[i].len, &req,
						       &why), -EINVAL);
		assert_string_equal(why, bad[i].why);
	}
	/* Too many arguments, decoded and encoded. */
	big = malloc(4 * (GW_CTL_MAX_ARGS + 2));
	len = 0;
	for (int i = 0; i <= GW_CTL_MAX_ARGS; i++) {
		memcpy(big + len, "ab\n", 3);
		len += 3;
		many[i] = "ab";
	}
	big[len++] = '\n';
	assert_int_equal(gw_ctl_request_decode(big, len, &req, &why), -EINVAL);
	assert_string_equal(why, "too many arguments");
	free(big);
	assert_int_equal(gw_ctl_request_encode(GW_CTL_MAX_ARGS + 1, many, NULL,
					       0, 0, &frame, &len), -EINVAL);
	assert_int_equal(gw_ctl_request_encode(GW_CTL_MAX_ARGS, many, NULL, 0,
					       0, &frame, &len), 0);
	free(frame);

	assert_int_equal(gw_ctl_request_encode(0, argv_ok, NULL, 0, 0, &frame,
					       &len), -EINVAL);
	assert_int_equal(gw_ctl_request_encode(2, argv_bad, NULL, 0, 0, &frame,
					       &len), -EINVAL);
	assert_int_equal(gw_ctl_request_encode(2, argv_ctl, NULL, 0, 0, &frame,
					       &len), -EINVAL);
	assert_int_equal(gw_ctl_request_encode(1, argv_ok, "12345678", 8, 10,
					       &frame, &len), -EMSGSIZE);
	assert_null(frame);

	/* A length above the maximum is refused before any allocation. */
	gw_ctl_frame_in_init(&in, false, 100);
	memcpy(gw_ctl_frame_in_ptr(&in), "\x00\x00\x00\x65", 4);
	assert_int_equal(gw_ctl_frame_in_advance(&in, 4), -EMSGSIZE);
	assert_int_equal(in.data_len, 101);
	assert_null(in.data);
	gw_ctl_frame_in_reset(&in);
	/* A reply head carries a status. */
	gw_ctl_frame_in_init(&in, true, 100);
	gw_ctl_reply_head_encode(gw_ctl_frame_in_ptr(&in), 404, 0);
	assert_int_equal(gw_ctl_frame_in_advance(&in, 8), 1);
	assert_int_equal(in.status, 404);
	assert_int_equal(in.data_len, 0);
	gw_ctl_frame_in_reset(&in);
}

static void
test_reply_buffer(void **state)
{
	struct gw_ctl_reply r = { .status = GW_CTL_OK };

	(void)state;
	for (int i = 0; i < 10000; i++)
		assert_int_equal(gw_ctl_reply_printf(&r, "line %d\n", i), 0);
	assert_int_equal(r.len, strlen(r.body));
	assert_int_equal(gw_ctl_reply_append(&r, "", 0), 0);
	assert_int_equal(gw_ctl_reply_error(&r, 404, "x"), 0);
	assert_int_equal(r.status, 404);
	gw_ctl_reply_reset(&r);
	assert_int_equal(r.status, GW_CTL_OK);
	assert_null(r.body);
}

/* ------------------------------------------------------------------ */
/* Server                                                              */

static void
test_socket_file(void **state)
{
	struct gw_ctl_params p = { .path = sock_path, .commands = commands,
				   .n_commands = 1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct gw_ctl *c, *c2;
	char err[256];
	struct stat st;
	int fd;

	(void)state;
	c = server(0, 0, 0, "");
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 0);
	assert_string_equal(gw_ctl_path(c), sock_path);

	/* A live socket is never taken over. */
	c2 = gw_ctl_create(&p, err, sizeof(err));
	assert_null(c2);
	assert_non_null(strstr(err, "another process listens"));
	gw_ctl_free(c);
	assert_int_equal(stat(sock_path, &st), -1);

	/* A stale one (nobody listens) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	c = gw_ctl_create(&p, err, sizeof(err));
	assert_non_null(c);
	gw_ctl_free(c);

	/* Something else at the path stays. */
	fd = open(sock_path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	c = gw_ctl_create(&p, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "exists and is not a socket"));
	unlink(sock_path);

	/* Unknown group, path too long. */
	p.group = "no-such-group-here";
	assert_null(gw_ctl_create(&p, err, sizeof(err)));
	assert_non_null(strstr(err, "no group named \"no-such-group-here\""));
	p.group = NULL;
	p.path = "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock";
	assert_null(gw_ctl_create(&p, err, sizeof(err)));
	assert_non_null(strstr(err, "path must be"));
}

static void
test_request_reply(void **state)
{
	struct gw_ctl *c = server(0, 0, 0, NULL);
	const char *a_desc[] = { "describe", "route", "httpbin" };
	const char *a_desc1[] = { "describe", "thing" };
	const char *a_fail[] = { "fail" };
	const char *a_unknown[] = { "frobnicate" };
	const char *a_help[] = { "help" };
	const char *a_body[] = { "echo", "with body" };
	uint32_t status;
	char *body;
	int fd;

	(void)state;
	fd = raw_connect();
	/* Several requests on one connection, each answered in order. */
	expect_echo(c, fd, "one", "echo|one#");
	expect_echo(c, fd, "two words", "echo|two words#");
	raw_request(c, fd, 2, a_body, "kind: VirtualService\n");
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_string_equal(body, "echo|with body#kind: VirtualService\n");
	free(body);
	/* The longest command match wins. */
	raw_request(c, fd, 3, a_desc, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_string_equal(body, "route:2:httpbin");
	free(body);
	raw_request(c, fd, 2, a_desc1, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_string_equal(body, "describe:1");
	free(body);
	raw_request(c, fd, 1, a_fail, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_CONFLICT);
	assert_string_equal(body, "nope\n");
	free(body);
	raw_request(c, fd, 1, a_unknown, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_NOT_FOUND);
	assert_non_null(strstr(body, "unknown command \"frobnicate\""));
	assert_non_null(strstr(body, "describe route"));
	free(body);
	raw_request(c, fd, 1, a_help, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_OK);
	assert_non_null(strstr(body, "describe route HOST"));
	free(body);
	/* A clean goodbye between frames is not "truncated". */
	close(fd);
	for (int i = 0; i < 100 && stats(c).clients > 0; i++) {
		gw_ctl_poll(c);
		usleep(1000);
	}
	assert_int_equal(stats(c).clients, 0);
	assert_int_equal(stats(c).truncated, 0);
	assert_int_equal(stats(c).requests, 8);
	assert_int_equal(stats(c).errors, 2);
	gw_ctl_free(c);
}

/* A reply larger than the limit is replaced by an error, not sent. */
static void
test_reply_too_large(void **state)
{
	struct gw_ctl *c = server(0, 4096, 0, NULL);
	const char *a_ok[] = { "big", "4000" };
	const char *a_big[] = { "big", "5000" };
	uint32_t status;
	char *body;
	int fd;

	(void)state;
	fd = raw_connect();
	raw_request(c, fd, 2, a_ok, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_OK);
	assert_int_equal(strlen(body), 4000);
	free(body);
	raw_request(c, fd, 2, a_big, NULL);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_TOO_LARGE);
	assert_non_null(strstr(body, "exceeds the control socket's limit"));
	free(body);
	expect_echo(c, fd, "still", "echo|still#");
	close(fd);
	gw_ctl_free(c);
}

/* Truncated, oversized and garbage frames: an error or a close for the
 * sender, nothing for a well-behaved client connected all along. */
static void
test_bad_frames(void **state)
{
	struct gw_ctl *c = server(0, 1 << 20, 0, NULL);
	static const char http[] = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char nul_payload[] = "\x00\x00\x00\x08" "ec\x00ho\n\nx";
	static const char zero[] = "\x00\x00\x00\x00";
	static const char partial[] = "\x00\x00\x01\x00" "echo\nab";
	uint8_t big_head[4] = { 0x00, 0x20, 0x00, 0x01 };  /* 2 MiB + 1 */
	uint32_t status;
	char *body, *junk;
	int good, fd;

	(void)state;
	good = raw_connect();
	expect_echo(c, good, "before", "echo|before#");

	/* Truncated: EOF in the middle of the payload. */
	fd = raw_connect();
	raw_send(c, fd, partial, sizeof(partial) - 1);
	close(fd);
	/* Truncated: EOF in the middle of the length. */
	fd = raw_connect();
	raw_send(c, fd, "\x00\x00", 2);
	close(fd);
	for (int i = 0; i < 1000 && stats(c).truncated < 2; i++) {
		gw_ctl_poll(c);
		usleep(1000);
	}
	assert_int_equal(stats(c).truncated, 2);
	expect_echo(c, good, "after truncated", "echo|after truncated#");

	/* Oversized: told so, then closed, even while it keeps sending. */
	fd = raw_connect();
	raw_send(c, fd, big_head, 4);
	junk = calloc(1, 300000);
	raw_send(c, fd, junk, 300000);
	free(junk);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_TOO_LARGE);
	assert_string_equal(body, "request of 2097153 bytes exceeds the control "
			    "socket's limit of 1048576 bytes\n");
	free(body);
	assert_true(raw_closed(c, fd));
	close(fd);

	/* Garbage: an HTTP request reads as a 1.2 GB length. */
	fd = raw_connect();
	raw_send(c, fd, http, sizeof(http) - 1);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_TOO_LARGE);
	free(body);
	assert_true(raw_closed(c, fd));
	close(fd);

	/* Garbage with a plausible length: NUL in the arguments. */
	fd = raw_connect();
	raw_send(c, fd, nul_payload, sizeof(nul_payload) - 1);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_BAD_REQUEST);
	assert_string_equal(body, "malformed request: control character in "
			    "an argument\n");
	free(body);
	assert_true(raw_closed(c, fd));
	close(fd);

	/* An empty frame. */
	fd = raw_connect();
	raw_send(c, fd, zero, 4);
	assert_int_equal(raw_reply(c, fd, &status, &body), 1);
	assert_int_equal(status, GW_CTL_BAD_REQUEST);
	assert_string_equal(body, "malformed request: empty request\n");
	free(body);
	close(fd);

	/* Random bytes. */
	srand(7);
	for (int k = 0; k < 50; k++) {
		uint8_t rnd[64];

		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)rand();
		rnd[0] = 0;     /* a length below the limit now and then */
		rnd[1] = k & 1 ? 0 : rnd[1];
		fd = raw_connect();
		raw_send(c, fd, rnd, sizeof(rnd));
		close(fd);
		gw_ctl_poll(c);
	}
	for (int i = 0; i < 100; i++) {
		gw_ctl_poll(c);
		usleep(500);
	}
	expect_echo(c, good, "after garbage", "echo|after garbage#");
	assert_int_equal(stats(c).oversized >= 2, true);
	assert_int_equal(stats(c).malformed >= 2, true);
	close(good);
	gw_ctl_free(c);
}

/* A silent client is dropped after the idle limit; a busy server refuses
 * connections beyond its bound with a message, and counts them. */
static void
test_idle_and_busy(void **state)
{
	struct gw_ctl *c = server(2, 0, 100, NULL);
	uint32_t status;
	char *body;
	int a, b, x;

	(void)state;
	a = raw_connect();
	b = raw_connect();
	for (int i = 0; i < 20; i++)
		gw_ctl_poll(c);
	assert_int_equal(stats(c).clients, 2);
	x = raw_connect();
	assert_int_equal(raw_reply(c, x, &status, &body), 1);
	assert_int_equal(status, GW_CTL_UNAVAILABLE);
	assert_string_equal(body, "too many control clients (2 connected); "
			    "try again\n");
	free(body);
	close(x);
	assert_int_equal(stats(c).refused_busy, 1);
	/*
	 * b keeps talking, a says nothing: a goes after 100 ms, b stays.
	 * b's requests follow each other closely, so that a loaded machine
	 * does not make b look idle too.
	 */
	for (int i = 0; i < 5000; i++) {
		char byte;

		expect_echo(c, b, "alive", "echo|alive#");
		if (recv(a, &byte, 1, 0) == 0)
			break;
		usleep(500);
	}
	assert_true(raw_closed(c, a));
	assert_int_equal(stats(c).timeouts, 1);
	expect_echo(c, b, "alive", "echo|alive#");
	close(a);
	close(b);
	gw_ctl_free(c);
}

/* ------------------------------------------------------------------ */
/* 100 concurrent clients                                              */

struct client_arg {
	int id;
	int ok;
};

static void *
client_thread(void *p)
{
	struct client_arg *a = p;
	char word[32], want[64], err[256];

	for (int k = 0; k < 5; k++) {
		struct gw_ctl_response resp;
		const char *argv[] = { "echo", word };

		snprintf(word, sizeof(word), "c%d-%d", a->id, k);
		snprintf(want, sizeof(want), "echo|%s#body%d", word, a->id);
		snprintf(err, sizeof(err), "body%d", a->id);
		if (gw_ctl_client_call(sock_path, 2, argv, err, strlen(err),
				       20000, &resp, err, sizeof(err)) != 0) {
			fprintf(stderr, "client %d: %s\n", a->id, err);
			return NULL;
		}
		if (resp.status == GW_CTL_OK && strcmp(resp.body, want) == 0)
			a->ok++;
		else
			fprintf(stderr, "client %d: %u %s\n", a->id,
				resp.status, resp.body);
		gw_ctl_response_free(&resp);
	}
	return NULL;
}

static volatile int server_stop;

static void *
server_thread(void *p)
{
	while (!__atomic_load_n(&server_stop, __ATOMIC_ACQUIRE)) {
		if (gw_ctl_poll(p) == 0)
			usleep(100);
	}
	return NULL;
}

static void
test_concurrent_clients(void **state)
{
	enum { N = 100 };
	struct gw_ctl *c = server(128, 0, 0, NULL);
	static struct client_arg args[N];
	pthread_t th[N], srv;
	int fds[N], total = 0;

	(void)state;
	/* 100 connections open at the same time, each answered. */
	for (int i = 0; i < N; i++) {
		fds[i] = raw_connect();
		gw_ctl_poll(c);
	}
	for (int i = 0; i < 50; i++)
		gw_ctl_poll(c);
	assert_int_equal(stats(c).clients, N);
	for (int i = 0; i < N; i++) {
		char word[16], want[32];

		snprintf(word, sizeof(word), "%d", i);
		snprintf(want, sizeof(want), "echo|%d#", i);
		expect_echo(c, fds[N - 1 - i], word, want);
	}
	for (int i = 0; i < N; i++)
		close(fds[i]);

	/* 100 threads with the real client, 5 calls each. */
	server_stop = 0;
	assert_int_equal(pthread_create(&srv, NULL, server_thread, c), 0);
	for (int i = 0; i < N; i++) {
		args[i].id = i;
		args[i].ok = 0;
		assert_int_equal(pthread_create(&th[i], NULL, client_thread,
						&args[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		total += args[i].ok;
	}
	__atomic_store_n(&server_stop, 1, __ATOMIC_RELEASE);
	pthread_join(srv, NULL);
	assert_int_equal(total, N * 5);
	assert_int_equal(stats(c).refused_busy, 0);
	assert_int_equal(stats(c).requests, N + N * 5);
	gw_ctl_free(c);
}

/* ------------------------------------------------------------------ */
/* Client errors                                                       */

static void
test_client_errors(void **state)
{
	const char *argv[] = { "echo" };
	struct gw_ctl_response resp;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[512];
	int fd;

	(void)state;
	assert_int_equal(gw_ctl_client_call(sock_path, 1, argv, NULL, 0, 1000,
					    &resp, err, sizeof(err)), -ENOENT);
	assert_true(strstr(err, "cannot connect to ") == err);
	assert_non_null(strstr(err, "No such file or directory — is gatewayd "
			       "running?"));

	/* A socket file nobody listens on. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(gw_ctl_client_call(sock_path, 1, argv, NULL, 0, 1000,
					    &resp, err, sizeof(err)),
			 -ECONNREFUSED);
	assert_non_null(strstr(err, "is gatewayd running?"));
	/* A listener that never answers: the deadline holds. */
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(gw_ctl_client_call(sock_path, 1, argv, NULL, 0, 200,
					    &resp, err, sizeof(err)),
			 -ETIMEDOUT);
	assert_non_null(strstr(err, "no reply from gatewayd"));
	close(fd);
	unlink(sock_path);
}

/* ------------------------------------------------------------------ */
/* Peer credentials                                                    */

/*
 * Run a client as another user in a child process (forked before any
 * thread exists) and report its status and body through a pipe:
 * "STATUS BODY" or "ERR CODE MESSAGE".
 */
static void
run_as(struct gw_ctl *c, uid_t uid, gid_t gid, const gid_t *groups,
       size_t n_groups, char *out, size_t out_len)
{
	int pfd[2];
	pid_t pid;
	size_t got = 0;
	int status;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[] = { "whoami" };
		struct gw_ctl_response resp;
		char err[512], line[1024];
		int rc, n;

		close(pfd[0]);
		if (setgroups(n_groups, groups) != 0 || setgid(gid) != 0 ||
		    setuid(uid) != 0)
			_exit(2);
		rc = gw_ctl_client_call(sock_path, 1, argv, NULL, 0, 5000,
					&resp, err, sizeof(err));
		if (rc == 0)
			n = snprintf(line, sizeof(line), "%u %s", resp.status,
				     resp.body);
		else
			n = snprintf(line, sizeof(line), "ERR %d %s", -rc, err);
		if (write(pfd[1], line, (size_t)n) != n)
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	/* Serve while the child talks; stop when it is gone. */
	for (;;) {
		gw_ctl_poll(c);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(200);
	}
	for (;;) {
		ssize_t n = read(pfd[0], out + got, out_len - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(pfd[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_peer_credentials(void **state)
{
	struct group *ng = getgrnam("nogroup");
	gid_t other = 4242, nogroup;
	struct gw_ctl *c;
	char out[1024];

	(void)state;
	if (geteuid() != 0)
		skip();
	/* The directory must be reachable by the other user. */
	assert_int_equal(chmod(tmpdir, 0755), 0);

	/* root:root 0660: the kernel refuses nobody at connect(). */
	c = server(0, 0, 0, NULL);
	run_as(c, NOBODY, NOBODY, NULL, 0, out, sizeof(out));
	assert_true(strncmp(out, "ERR 13 cannot connect to ", 25) == 0);
	assert_non_null(strstr(out, "Permission denied — run gwctl as root or "
			       "as a member of group root"));

	/* Even when the file is opened up, the server refuses by itself. */
	assert_int_equal(chmod(sock_path, 0666), 0);
	run_as(c, NOBODY, NOBODY, NULL, 0, out, sizeof(out));
	assert_string_equal(out, "403 permission denied: uid 65534 is not "
			    "root or in group root\n");
	assert_int_equal(stats(c).refused_permission, 1);
	/* root is welcome. */
	run_as(c, 0, 0, NULL, 0, out, sizeof(out));
	assert_string_equal(out, "200 uid=0");
	gw_ctl_free(c);

	/* A configured group: members by primary or supplementary gid. */
	if (ng == NULL)
		skip();
	nogroup = ng->gr_gid;
	c = server(0, 0, 0, "nogroup");
	run_as(c, NOBODY, nogroup, NULL, 0, out, sizeof(out));
	assert_string_equal(out, "200 uid=65534");
	run_as(c, NOBODY, other, &nogroup, 1, out, sizeof(out));
	assert_string_equal(out, "200 uid=65534");
	run_as(c, NOBODY, other, &other, 1, out, sizeof(out));
	assert_true(strncmp(out, "ERR 13 ", 7) == 0);
	assert_non_null(strstr(out, "as a member of group nogroup"));
	assert_int_equal(chmod(sock_path, 0666), 0);
	run_as(c, NOBODY, other, &other, 1, out, sizeof(out));
	assert_string_equal(out, "403 permission denied: uid 65534 is not "
			    "root or in group nogroup\n");
	gw_ctl_free(c);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gw-ctl-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_errors),
		cmocka_unit_test(test_reply_buffer),
		cmocka_unit_test(test_socket_file),
		cmocka_unit_test(test_request_reply),
		cmocka_unit_test(test_reply_too_large),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_idle_and_busy),
		cmocka_unit_test(test_client_errors),
		/* Forks: before any test that starts threads. */
		cmocka_unit_test(test_peer_credentials),
		cmocka_unit_test(test_concurrent_clients),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
