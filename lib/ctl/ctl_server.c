/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket server: a non-blocking Unix stream listener polled by
 * the control lcore through one epoll set, a bounded array of clients, each
 * reading one frame at a time, running its command and writing the reply
 * before it reads the next frame (so one client can never queue work or
 * memory beyond one frame). Whatever a client sends, the worst it gets is
 * an error reply and a closed connection; other clients never notice.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "gw_common.h"
#include "gw_ctl.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59        /* Linux >= 4.13; older headers lack it */
#endif

#define CTL_LISTEN_BACKLOG 128
#define CTL_EPOLL_BATCH    64
#define CTL_ACCEPT_BATCH   64   /* per poll, so that a flood cannot starve clients */
#define CTL_LISTEN_TAG     UINT32_MAX
#define CTL_GROUP_NAME_LEN 64

struct ctl_client {
	int fd;                    /* -1: the slot is free */
	pid_t pid;
	uid_t uid;
	gid_t gid;
	uint64_t last_ms;          /* last progress, for the idle limit */
	struct gw_ctl_frame_in in;
	uint8_t *out;              /* the reply frame being written */
	size_t out_len;
	size_t out_off;
	bool close_after;          /* close once the reply is out */
};

struct gw_ctl {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int epoll_fd;
	dev_t dev;                 /* identity of the socket file we created */
	ino_t ino;
	gid_t gid;
	char group[CTL_GROUP_NAME_LEN];
	size_t max_frame;
	unsigned int idle_ms;
	const struct gw_ctl_command *commands;
	unsigned int n_commands;
	void *ctx;
	unsigned int max_clients;
	struct ctl_client *clients;
	struct gw_ctl_stats stats;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Creation                                                            */

static int
ctl_group_resolve(struct gw_ctl *c, const char *group, char *err,
		  size_t err_len)
{
	struct group gr, *res = NULL;
	char buf[4096];
	int rc;

	if (group == NULL || group[0] == '\0') {
		c->gid = 0;
		snprintf(c->group, sizeof(c->group), "root");
		return 0;
	}
	rc = getgrnam_r(group, &gr, buf, sizeof(buf), &res);
	if (rc != 0 || res == NULL)
		return gw_err(err, err_len,
			      "control socket: no group named \"%s\" (control.group)%s%s",
			      group, rc != 0 ? ": " : "",
			      rc != 0 ? strerror(rc) : "");
	c->gid = gr.gr_gid;
	snprintf(c->group, sizeof(c->group), "%s", group);
	return 0;
}

/* Create the socket's directory when it is missing (one level: /run is
 * there, /run/gatewayd may not be after a reboot). */
static int
ctl_dir_prepare(const char *path, char *err, size_t err_len)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return gw_err(err, err_len,
				      "control socket: %s is not a directory", dir);
		return 0;
	}
	if (errno != ENOENT || mkdir(dir, 0755) != 0)
		return gw_err(err, err_len,
			      "control socket: cannot create directory %s: %s",
			      dir, strerror(errno));
	return 0;
}

/*
 * A socket file left by a gateway that died is removed; one with a live
 * listener is another gateway's (never steal it); anything else at the
 * path is the operator's and stays.
 */
static int
ctl_path_prepare(const char *path, char *err, size_t err_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return gw_err(err, err_len, "control socket: cannot stat %s: %s",
			      path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return gw_err(err, err_len,
			      "control socket: %s exists and is not a socket; "
			      "remove it or set control.socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gw_err(err, err_len, "control socket: socket: %s",
			      strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0 || errno == EAGAIN) {
		close(fd);
		return gw_err(err, err_len,
			      "control socket: another process listens on %s "
			      "(is another gatewayd running?)", path);
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED)
		return gw_err(err, err_len,
			      "control socket: cannot check %s: %s", path,
			      strerror(rc));
	if (unlink(path) != 0 && errno != ENOENT)
		return gw_err(err, err_len,
			      "control socket: cannot remove the stale %s: %s",
			      path, strerror(errno));
	return 0;
}

struct gw_ctl *
gw_ctl_create(const struct gw_ctl_params *p, char *err, size_t err_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u32 = CTL_LISTEN_TAG };
	struct gw_ctl *c;
	struct stat st;
	bool bound = false;

	if (p->path == NULL || p->path[0] == '\0' ||
	    strlen(p->path) >= sizeof(sa.sun_path)) {
		gw_err(err, err_len, "control socket: path must be 1 to %zu bytes",
		       sizeof(sa.sun_path) - 1);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		gw_err(err, err_len, "control socket: out of memory");
		return NULL;
	}
	c->listen_fd = -1;
	c->epoll_fd = -1;
	snprintf(c->path, sizeof(c->path), "%s", p->path);
	c->max_frame = p->max_frame ? p->max_frame : GW_CTL_FRAME_MAX_DEFAULT;
	if (c->max_frame > UINT32_MAX)
		c->max_frame = UINT32_MAX;
	c->idle_ms = p->idle_ms ? p->idle_ms : GW_CTL_IDLE_MS_DEFAULT;
	c->commands = p->commands;
	c->n_commands = p->n_commands;
	c->ctx = p->ctx;
	c->max_clients = p->max_clients ? p->max_clients : GW_CTL_CLIENTS_DEFAULT;
	c->clients = calloc(c->max_clients, sizeof(*c->clients));
	if (c->clients == NULL) {
		gw_err(err, err_len, "control socket: out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < c->max_clients; i++)
		c->clients[i].fd = -1;

	if (ctl_group_resolve(c, p->group, err, err_len) < 0 ||
	    ctl_dir_prepare(c->path, err, err_len) < 0 ||
	    ctl_path_prepare(c->path, err, err_len) < 0)
		goto fail;

	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			      SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		gw_err(err, err_len, "control socket: socket: %s", strerror(errno));
		goto fail;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		gw_err(err, err_len, "control socket: cannot bind %s: %s",
		       c->path, strerror(errno));
		goto fail;
	}
	bound = true;
	/*
	 * Ownership and mode before listen(): until then a connect() is
	 * refused, so nobody gets in through the umask-derived mode.
	 */
	if (chown(c->path, geteuid() == 0 ? 0 : (uid_t)-1, c->gid) != 0 ||
	    chmod(c->path, 0660) != 0) {
		gw_err(err, err_len,
		       "control socket: cannot give %s to root:%s mode 0660: %s",
		       c->path, c->group, strerror(errno));
		goto fail;
	}
	if (stat(c->path, &st) != 0) {
		gw_err(err, err_len, "control socket: cannot stat %s: %s",
		       c->path, strerror(errno));
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (listen(c->listen_fd, CTL_LISTEN_BACKLOG) != 0) {
		gw_err(err, err_len, "control socket: cannot listen on %s: %s",
		       c->path, strerror(errno));
		goto fail;
	}
	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epoll_fd < 0 ||
	    epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->listen_fd, &ev) != 0) {
		gw_err(err, err_len, "control socket: epoll: %s", strerror(errno));
		goto fail;
	}
	return c;
fail:
	if (bound)
		unlink(c->path);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	free(c->clients);
	free(c);
	return NULL;
}

const char *
gw_ctl_path(const struct gw_ctl *ctl)
{
	return ctl->path;
}

void
gw_ctl_stats_get(const struct gw_ctl *ctl, struct gw_ctl_stats *stats)
{
	*stats = ctl->stats;
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */

static void
client_close(struct gw_ctl *c, struct ctl_client *cl)
{
	if (cl->fd < 0)
		return;
	/* Closing the fd removes it from the epoll set. */
	close(cl->fd);
	gw_ctl_frame_in_reset(&cl->in);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
	c->stats.clients--;
}

static void
client_watch(struct gw_ctl *c, struct ctl_client *cl, uint32_t events)
{
	struct epoll_event ev = {
		.events = events,
		.data.u32 = (uint32_t)(cl - c->clients),
	};

	if (epoll_ctl(c->epoll_fd, EPOLL_CTL_MOD, cl->fd, &ev) != 0)
		client_close(c, cl);
}

/*
 * Write what is pending. Returns true when the client is still open.
 * MSG_NOSIGNAL: a client that went away must not kill the gateway with
 * SIGPIPE.
 */
static bool
client_flush(struct gw_ctl *c, struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off,
				 cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				client_watch(c, cl, EPOLLOUT);
				return cl->fd >= 0;
			}
			if (errno == EINTR)
				continue;
			client_close(c, cl);
			return false;
		}
		cl->out_off += (size_t)n;
		cl->last_ms = now_ms();
	}
	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_off = 0;
	if (cl->close_after) {
		client_close(c, cl);
		return false;
	}
	client_watch(c, cl, EPOLLIN);
	return cl->fd >= 0;
}

/* Queue a reply frame (head + body) and start writing it. */
static void
client_reply(struct gw_ctl *c, struct ctl_client *cl, uint32_t status,
	     const char *body, size_t len, bool close_after)
{
	cl->out = malloc(GW_CTL_REPLY_HEAD + len);
	if (cl->out == NULL) {
		client_close(c, cl);
		return;
	}
	gw_ctl_reply_head_encode(cl->out, status, (uint32_t)len);
	if (len > 0)
		memcpy(cl->out + GW_CTL_REPLY_HEAD, body, len);
	cl->out_len = GW_CTL_REPLY_HEAD + len;
	cl->out_off = 0;
	cl->close_after = close_after;
	client_flush(c, cl);
}

static void
client_reply_text(struct gw_ctl *c, struct ctl_client *cl, uint32_t status,
		  bool close_after, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
client_reply_text(struct gw_ctl *c, struct ctl_client *cl, uint32_t status,
		  bool close_after, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	client_reply(c, cl, status, text, (size_t)n, close_after);
}

/* Best effort, for connections refused at accept: one small write on a
 * fresh socket, whose buffer is empty, does not block. */
static void
refuse(int fd, uint32_t status, const char *text)
{
	uint8_t head[GW_CTL_REPLY_HEAD];
	struct iovec iov[2] = {
		{ .iov_base = head, .iov_len = sizeof(head) },
		{ .iov_base = (void *)(uintptr_t)text, .iov_len = strlen(text) },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	gw_ctl_reply_head_encode(head, status, (uint32_t)iov[1].iov_len);
	if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* The peer is gone already: nothing to tell it. */
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

/* Number of argv entries the words match, 0 when they do not. */
static unsigned int
command_match(const char *words, const struct gw_ctl_request *req)
{
	unsigned int k = 0;
	const char *w = words;

	while (*w != '\0') {
		size_t n = strcspn(w, " ");

		if (k >= req->argc || strlen(req->argv[k]) != n ||
		    strncmp(req->argv[k], w, n) != 0)
			return 0;
		k++;
		w += n;
		while (*w == ' ')
			w++;
	}
	return k;
}

static void
command_help(const struct gw_ctl *c, struct gw_ctl_reply *r)
{
	gw_ctl_reply_printf(r, "Commands:\n");
	for (unsigned int i = 0; i < c->n_commands; i++)
		gw_ctl_reply_printf(r, "  %-40s %s\n", c->commands[i].usage,
				    c->commands[i].help ? c->commands[i].help : "");
}

static void
command_run(struct gw_ctl *c, struct gw_ctl_request *req,
	    struct gw_ctl_reply *r)
{
	const struct gw_ctl_command *best = NULL;
	unsigned int best_n = 0;

	for (unsigned int i = 0; i < c->n_commands; i++) {
		unsigned int n = command_match(c->commands[i].words, req);

		if (n > best_n) {
			best = &c->commands[i];
			best_n = n;
		}
	}
	if (best != NULL) {
		req->n_words = best_n;
		best->handler(c->ctx, req, r);
		return;
	}
	if (strcmp(req->argv[0], "help") == 0) {
		command_help(c, r);
		return;
	}
	gw_ctl_reply_error(r, GW_CTL_NOT_FOUND,
			   "unknown command \"%s\"; the gateway knows:", req->argv[0]);
	for (unsigned int i = 0; i < c->n_commands; i++)
		gw_ctl_reply_printf(r, " %s%s", c->commands[i].words,
				    i + 1 < c->n_commands ? "," : "");
	gw_ctl_reply_printf(r, "\n");
}

/* A whole frame is in cl->in: decode, run, reply. */
static void
client_request(struct gw_ctl *c, struct ctl_client *cl)
{
	struct gw_ctl_request req;
	struct gw_ctl_reply r = { .status = GW_CTL_OK };
	const char *why = NULL;

	if (gw_ctl_request_decode((char *)cl->in.data, cl->in.data_len, &req,
				  &why) < 0) {
		c->stats.malformed++;
		gw_ctl_frame_in_reset(&cl->in);
		client_reply_text(c, cl, GW_CTL_BAD_REQUEST, true,
				  "malformed request: %s\n", why);
		return;
	}
	req.n_words = 0;
	req.peer_pid = cl->pid;
	req.peer_uid = cl->uid;
	req.peer_gid = cl->gid;
	command_run(c, &req, &r);
	gw_ctl_frame_in_reset(&cl->in);
	c->stats.requests++;
	if (r.oom) {
		gw_ctl_reply_reset(&r);
		gw_ctl_reply_error(&r, GW_CTL_INTERNAL,
				   "out of memory while building the reply\n");
	} else if (r.len > c->max_frame) {
		size_t len = r.len;

		gw_ctl_reply_reset(&r);
		gw_ctl_reply_error(&r, GW_CTL_TOO_LARGE,
				   "the reply (%zu bytes) exceeds the control "
				   "socket's limit of %zu bytes; ask for less "
				   "(one kind, one name)\n", len, c->max_frame);
	}
	if (r.status != GW_CTL_OK)
		c->stats.errors++;
	client_reply(c, cl, r.status, r.body, r.len, false);
	free(r.body);
}

/* Read what is there, one frame at most. */
static void
client_read(struct gw_ctl *c, struct ctl_client *cl)
{
	for (;;) {
		size_t want = gw_ctl_frame_in_want(&cl->in);
		ssize_t n = recv(cl->fd, gw_ctl_frame_in_ptr(&cl->in), want,
				 MSG_DONTWAIT);
		int rc;

		if (n == 0 || (n < 0 && errno != EAGAIN &&
			       errno != EWOULDBLOCK && errno != EINTR)) {
			/* EOF between frames is a normal goodbye. */
			if (!gw_ctl_frame_in_idle(&cl->in))
				c->stats.truncated++;
			client_close(c, cl);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		cl->last_ms = now_ms();
		rc = gw_ctl_frame_in_advance(&cl->in, (size_t)n);
		if (rc == 0)
			continue;
		if (rc == 1) {
			client_request(c, cl);
			return;
		}
		if (rc == -EMSGSIZE) {
			size_t len = cl->in.data_len;

			c->stats.oversized++;
			gw_ctl_frame_in_reset(&cl->in);
			client_reply_text(c, cl, GW_CTL_TOO_LARGE, true,
					  "request of %zu bytes exceeds the control "
					  "socket's limit of %zu bytes\n",
					  len, c->max_frame);
			return;
		}
		gw_ctl_frame_in_reset(&cl->in);
		client_reply_text(c, cl, GW_CTL_INTERNAL, true,
				  "out of memory\n");
		return;
	}
}

static void
client_event(struct gw_ctl *c, struct ctl_client *cl)
{
	if (cl->fd < 0)
		return;
	if (cl->out != NULL)
		client_flush(c, cl);
	else
		client_read(c, cl);
}

/* uid 0, or the group as primary or supplementary group of the peer. */
static bool
peer_allowed(const struct gw_ctl *c, int fd, const struct ucred *cr)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool ok = false;

	if (cr->uid == 0 || cr->gid == c->gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
		if (errno != ERANGE)
			return false;
		groups = malloc(len);
		if (groups == NULL ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == c->gid)
			ok = true;
	if (groups != small)
		free(groups);
	return ok;
}

/*
 * A full table may hold clients that already hung up (gwctl closes right
 * after its reply) and whose EOF this poll has not read yet: reap those
 * before refusing anyone. Returns a free slot or NULL.
 */
static struct ctl_client *
client_slot(struct gw_ctl *c)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < c->max_clients; i++)
			if (c->clients[i].fd < 0)
				return &c->clients[i];
		if (pass == 1)
			break;
		for (unsigned int i = 0; i < c->max_clients; i++) {
			struct ctl_client *cl = &c->clients[i];
			char b;

			if (cl->out == NULL &&
			    recv(cl->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
				if (!gw_ctl_frame_in_idle(&cl->in))
					c->stats.truncated++;
				client_close(c, cl);
			}
		}
	}
	return NULL;
}

static void
accept_clients(struct gw_ctl *c)
{
	for (unsigned int k = 0; k < CTL_ACCEPT_BATCH; k++) {
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		struct ctl_client *cl;
		struct epoll_event ev = { .events = EPOLLIN };
		char text[160];
		int fd;

		fd = accept4(c->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;     /* EAGAIN, or a transient error: next poll */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
			close(fd);
			continue;
		}
		if (!peer_allowed(c, fd, &cr)) {
			c->stats.refused_permission++;
			snprintf(text, sizeof(text),
				 "permission denied: uid %u is not root or in "
				 "group %s\n", (unsigned int)cr.uid, c->group);
			refuse(fd, GW_CTL_FORBIDDEN, text);
			continue;
		}
		cl = client_slot(c);
		if (cl == NULL) {
			c->stats.refused_busy++;
			snprintf(text, sizeof(text),
				 "too many control clients (%u connected); try "
				 "again\n", c->max_clients);
			refuse(fd, GW_CTL_UNAVAILABLE, text);
			continue;
		}
		ev.data.u32 = (uint32_t)(cl - c->clients);
		if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->pid = cr.pid;
		cl->uid = cr.uid;
		cl->gid = cr.gid;
		cl->last_ms = now_ms();
		gw_ctl_frame_in_init(&cl->in, false, c->max_frame);
		c->stats.accepted++;
		c->stats.clients++;
	}
}

static void
expire_idle(struct gw_ctl *c)
{
	uint64_t now = now_ms();

	for (unsigned int i = 0; i < c->max_clients; i++) {
		struct ctl_client *cl = &c->clients[i];

		if (cl->fd >= 0 && now - cl->last_ms > c->idle_ms) {
			c->stats.timeouts++;
			client_close(c, cl);
		}
	}
}

int
gw_ctl_poll(struct gw_ctl *c)
{
	struct epoll_event evs[CTL_EPOLL_BATCH];
	uint64_t before = c->stats.requests + c->stats.malformed +
			  c->stats.oversized;
	bool accept_ready = false;
	int n;

	n = epoll_wait(c->epoll_fd, evs, CTL_EPOLL_BATCH, 0);
	/* Clients first: their goodbyes free slots for the newcomers. */
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u32 == CTL_LISTEN_TAG)
			accept_ready = true;
		else if (evs[i].data.u32 < c->max_clients)
			client_event(c, &c->clients[evs[i].data.u32]);
	}
	if (accept_ready)
		accept_clients(c);
	if (c->stats.clients > 0)
		expire_idle(c);
	return (int)(c->stats.requests + c->stats.malformed +
		     c->stats.oversized - before);
}

void
gw_ctl_free(struct gw_ctl *c)
{
	struct stat st;

	if (c == NULL)
		return;
	for (unsigned int i = 0; i < c->max_clients; i++)
		client_close(c, &c->clients[i]);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	/* Another gateway may have taken the path over since: leave its file. */
	if (stat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c->clients);
	free(c);
}
