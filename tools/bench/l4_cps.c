/* SPDX-License-Identifier: Apache-2.0 */
/*
 * l4-cps: new TCP connections per second through an L4 proxy.
 *
 * Keeps C connections in flight against HOST:PORT for T seconds. Each one
 * connects, reads until the server closes (a server that writes a few
 * bytes and closes, e.g. nginx `stream { return "x"; }`), closes, and is
 * replaced at once. Prints one line:
 *
 *     connections OK, failures F, seconds S, per second R (reset X,
 *     refused Y, empty Z, timeout T, other U)
 *
 * A connection counts as OK when it connected, read at least one byte
 * and saw EOF; as a failure on a connect error, a reset, or when it took
 * longer than the per-connection timeout (2 s). Non-blocking sockets and
 * one epoll set on one thread, so that the client costs little CPU next
 * to the proxies it measures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_TIMEOUT_NS (2ull * 1000000000ull)

struct slot {
	int fd;
	uint64_t started;
	uint32_t got;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: l4-cps -H ADDRESS -p PORT [-c CONCURRENCY] [-t SECONDS]\n"
		"  Opens connections to ADDRESS:PORT, CONCURRENCY (32) at a time,\n"
		"  for SECONDS (10); each reads until the server closes.\n"
		"  Prints: connections OK, failures F, seconds S, per second R\n");
}

/* Start a non-blocking connect in slot @p s; -1 when socket() fails. */
static int
slot_open(struct slot *s, int ep, const struct sockaddr_in *dst, uint32_t idx)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = idx};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->started = now_ns();
	s->got = 0;
	return 0;
}

static void
slot_close(struct slot *s, int ep)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in dst = {.sin_family = AF_INET};
	unsigned int conc = 32, seconds = 10, i;
	uint64_t ok = 0, failed = 0, start, end, t, last_scan;
	uint64_t n_reset = 0, n_refused = 0, n_empty = 0, n_timeout = 0, n_other = 0;
	struct epoll_event evs[256];
	struct slot *slots;
	const char *host = NULL;
	int port = 0, ep, c, n;

	while ((c = getopt(argc, argv, "H:p:c:t:h")) != -1) {
		switch (c) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': conc = (unsigned int)atoi(optarg); break;
		case 't': seconds = (unsigned int)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (host == NULL || port <= 0 || port > 65535 || conc == 0 ||
	    conc > 65536 || seconds == 0 || seconds > 3600 ||
	    inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
		usage(stderr);
		return 2;
	}
	dst.sin_port = htons((uint16_t)port);
	slots = calloc(conc, sizeof(*slots));
	ep = epoll_create1(0);
	if (slots == NULL || ep < 0) {
		perror("l4-cps");
		return 1;
	}
	start = now_ns();
	end = start + (uint64_t)seconds * 1000000000ull;
	last_scan = start;
	for (i = 0; i < conc; i++)
		if (slot_open(&slots[i], ep, &dst, i) < 0) {
			perror("l4-cps: socket");
			return 1;
		}
	while ((t = now_ns()) < end) {
		n = epoll_wait(ep, evs, 256, 10);
		for (c = 0; c < n; c++) {
			struct slot *s = &slots[evs[c].data.u32];
			char buf[512];
			ssize_t r;

			if (s->fd < 0)
				continue;
			r = read(s->fd, buf, sizeof(buf));
			if (r > 0) {
				s->got += (uint32_t)r;
				continue;
			}
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			/* EOF after data: done; EOF before data or an error: failed */
			if (r == 0 && s->got > 0) {
				ok++;
			} else {
				failed++;
				if (r == 0)
					n_empty++;
				else if (errno == ECONNRESET)
					n_reset++;
				else if (errno == ECONNREFUSED)
					n_refused++;
				else
					n_other++;
			}
			slot_close(s, ep);
			if (slot_open(s, ep, &dst, evs[c].data.u32) < 0)
				failed++;
		}
		/* connections that hang: count them and start over */
		if (t - last_scan > 100000000ull) {
			last_scan = t;
			for (i = 0; i < conc; i++) {
				if (slots[i].fd >= 0 &&
				    t - slots[i].started < CONN_TIMEOUT_NS)
					continue;
				if (slots[i].fd >= 0) {
					failed++;
					n_timeout++;
					slot_close(&slots[i], ep);
				}
				if (slot_open(&slots[i], ep, &dst, i) < 0)
					failed++;
			}
		}
	}
	t = now_ns();
	for (i = 0; i < conc; i++)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
	printf("connections %llu, failures %llu, seconds %.2f, per second %.0f "
	       "(reset %llu, refused %llu, empty %llu, timeout %llu, other %llu)\n",
	       (unsigned long long)ok, (unsigned long long)failed,
	       (double)(t - start) / 1e9, (double)ok * 1e9 / (double)(t - start),
	       (unsigned long long)n_reset, (unsigned long long)n_refused,
	       (unsigned long long)n_empty, (unsigned long long)n_timeout,
	       (unsigned long long)n_other);
	free(slots);
	close(ep);
	return 0;
}
