/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client side of the control socket, for gwctl and the tests: one
 * request, one reply, under one deadline, with messages that tell a person
 * what to do ("is gatewayd running?", "run gwctl as root or as a member of
 * group gateway").
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "gw_common.h"
#include "gw_ctl.h"

#define CLIENT_TIMEOUT_DEFAULT_MS 60000

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left > 0 ? (int)left : 0;
}

/* Name the socket's group, so that a refused user knows which to join. */
static void
explain_access(const char *path, int code, char *err, size_t err_len)
{
	struct stat st;
	struct group *gr;

	if (stat(path, &st) != 0) {
		gw_err(err, err_len, "cannot connect to %s: %s — run gwctl as "
		       "root or as a member of the control socket's group",
		       path, strerror(code));
		return;
	}
	gr = getgrgid(st.st_gid);
	if (gr != NULL)
		gw_err(err, err_len, "cannot connect to %s: %s — run gwctl as "
		       "root or as a member of group %s (the socket is mode "
		       "%04o, group %s)", path, strerror(code), gr->gr_name,
		       (unsigned int)(st.st_mode & 07777), gr->gr_name);
	else
		gw_err(err, err_len, "cannot connect to %s: %s — run gwctl as "
		       "root or as a member of group %u (the socket is mode "
		       "%04o)", path, strerror(code), (unsigned int)st.st_gid,
		       (unsigned int)(st.st_mode & 07777));
}

static int
client_connect(const char *path, int64_t deadline, char *err, size_t err_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, code;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		gw_err(err, err_len, "socket path %s is too long (at most %zu "
		       "bytes)", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		code = errno;
		gw_err(err, err_len, "socket: %s", strerror(code));
		return -code;
	}
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		code = errno;
		/* A full accept queue: the gateway is busy, not gone. */
		if (code == EAGAIN && remaining(deadline) > 0) {
			usleep(2000);
			continue;
		}
		if (code == EINTR)
			continue;
		break;
	}
	close(fd);
	switch (code) {
	case ENOENT:
		gw_err(err, err_len, "cannot connect to %s: %s — is gatewayd "
		       "running?", path, strerror(code));
		break;
	case ECONNREFUSED:
		gw_err(err, err_len, "cannot connect to %s: %s — is gatewayd "
		       "running? (nothing listens on the socket file)", path,
		       strerror(code));
		break;
	case EACCES:
	case EPERM:
		explain_access(path, code, err, err_len);
		break;
	case EAGAIN:
		gw_err(err, err_len, "cannot connect to %s: gatewayd is busy "
		       "(its connection queue is full); try again", path);
		break;
	default:
		gw_err(err, err_len, "cannot connect to %s: %s", path,
		       strerror(code));
	}
	return -code;
}

/* Wait for @p events on @p fd; 0, or -ETIMEDOUT. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int n = poll(&pfd, 1, remaining(deadline));

		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Send the whole frame. A server that refuses the request early (too
 * large, permission) replies and closes while we still write: EPIPE then
 * means "go and read the reply", not failure.
 */
static int
client_send(int fd, const uint8_t *frame, size_t len, int64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, frame + off, len - off, MSG_NOSIGNAL);

		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (wait_fd(fd, POLLOUT, deadline) < 0)
			return -ETIMEDOUT;
	}
	return 0;
}

static int
client_receive(int fd, struct gw_ctl_response *resp, int64_t deadline,
	       const char *path, char *err, size_t err_len)
{
	struct gw_ctl_frame_in in;
	int rc;

	gw_ctl_frame_in_init(&in, true, GW_CTL_CLIENT_REPLY_MAX);
	for (;;) {
		ssize_t n = recv(fd, gw_ctl_frame_in_ptr(&in),
				 gw_ctl_frame_in_want(&in), 0);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(fd, POLLIN, deadline) < 0) {
				gw_err(err, err_len, "no reply from gatewayd on "
				       "%s in time", path);
				rc = -ETIMEDOUT;
				break;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/*
		 * ECONNRESET after a complete reply cannot happen here: we stop
		 * reading at the end of the frame.
		 */
		if (n <= 0) {
			gw_err(err, err_len, "gatewayd closed the connection %s "
			       "(%s)", gw_ctl_frame_in_idle(&in) ?
			       "without replying" : "in the middle of its reply",
			       n == 0 ? "end of file" : strerror(errno));
			rc = -ECONNRESET;
			break;
		}
		rc = gw_ctl_frame_in_advance(&in, (size_t)n);
		if (rc == 0)
			continue;
		if (rc == 1) {
			resp->status = in.status;
			resp->body = (char *)in.data;  /* NUL-terminated by the reader */
			resp->len = in.data_len;
			in.data = NULL;
			return 0;
		}
		if (rc == -EMSGSIZE)
			gw_err(err, err_len, "the reply from gatewayd is too large "
			       "(%zu bytes, at most %u)", in.data_len,
			       GW_CTL_CLIENT_REPLY_MAX);
		else
			gw_err(err, err_len, "out of memory reading the reply");
		break;
	}
	gw_ctl_frame_in_reset(&in);
	return rc;
}

int
gw_ctl_client_call(const char *path, unsigned int argc,
		   const char *const *argv, const void *body, size_t body_len,
		   int timeout_ms, struct gw_ctl_response *resp, char *err,
		   size_t err_len)
{
	int64_t deadline;
	uint8_t *frame;
	size_t frame_len;
	int fd, rc;

	memset(resp, 0, sizeof(*resp));
	deadline = now_ms() + (timeout_ms > 0 ? timeout_ms :
			       CLIENT_TIMEOUT_DEFAULT_MS);
	/* The server enforces its own limit; the client only the format's. */
	rc = gw_ctl_request_encode(argc, argv, body, body_len,
				   UINT32_MAX - 1, &frame, &frame_len);
	if (rc < 0) {
		gw_err(err, err_len, "%s", rc == -EINVAL ?
		       "invalid request: empty argument, control character, "
		       "or too many arguments" : rc == -EMSGSIZE ?
		       "request too large" : "out of memory");
		return rc;
	}
	fd = client_connect(path, deadline, err, err_len);
	if (fd < 0) {
		free(frame);
		return fd;
	}
	rc = client_send(fd, frame, frame_len, deadline);
	free(frame);
	if (rc < 0) {
		gw_err(err, err_len, "cannot send the request to %s: %s", path,
		       rc == -ETIMEDOUT ? "gatewayd does not read it (timed out)" :
		       strerror(-rc));
		close(fd);
		return rc;
	}
	rc = client_receive(fd, resp, deadline, path, err, err_len);
	close(fd);
	return rc;
}

void
gw_ctl_response_free(struct gw_ctl_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
