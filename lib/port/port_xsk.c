/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel's own counters of an AF_XDP port's sockets.
 *
 * DPDK 22.11's AF_XDP PMD reports only XDP_STATISTICS' rx_dropped (as
 * imissed). Frames the kernel refuses for other reasons — a full RX ring,
 * an empty fill ring, a TX descriptor outside the UMEM — vanish without a
 * trace in the ethdev counters. The PMD does not expose its sockets, so
 * the port finds them itself: the AF_XDP sockets that appeared in the
 * process while the port was opened are the port's (ports open one after
 * the other, on one thread). Reading them is a getsockopt per socket, done
 * by the control lcore when stats are asked for, never by a worker.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "gw_port.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

static bool
is_xsk(int fd, struct xdp_statistics *st)
{
	struct xdp_statistics tmp;
	socklen_t len = sizeof(tmp);

	if (st == NULL)
		st = &tmp;
	memset(st, 0, sizeof(*st));
	return getsockopt(fd, SOL_XDP, XDP_STATISTICS, st, &len) == 0;
}

static bool
claimed(const struct gw_port *ports, unsigned int n_ports, int fd)
{
	for (unsigned int i = 0; i < n_ports; i++)
		for (unsigned int k = 0; k < ports[i].n_xsk; k++)
			if (ports[i].xsk_fds[k] == fd)
				return true;
	return false;
}

int
gw_port_xsk_claim(struct gw_port *port, const struct gw_port *others,
		  unsigned int n_others)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return -errno;
	port->n_xsk = 0;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end != '\0' || e->d_name[0] == '\0' || fd == dirfd(d))
			continue;
		if (!is_xsk((int)fd, NULL) || claimed(others, n_others, (int)fd))
			continue;
		if (port->n_xsk == GW_PORT_MAX_XSK)
			break;
		port->xsk_fds[port->n_xsk++] = (int)fd;
	}
	closedir(d);
	return 0;
}

int
gw_port_xsk_stats(const struct gw_port *port, struct gw_port_xsk_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (port->n_xsk == 0)
		return -ENOTSUP;
	for (unsigned int k = 0; k < port->n_xsk; k++) {
		struct xdp_statistics st;

		if (!is_xsk(port->xsk_fds[k], &st))
			return -errno;
		s->rx_dropped += st.rx_dropped;
		s->rx_invalid_descs += st.rx_invalid_descs;
		s->tx_invalid_descs += st.tx_invalid_descs;
		s->rx_ring_full += st.rx_ring_full;
		s->rx_fill_ring_empty += st.rx_fill_ring_empty_descs;
		s->tx_ring_empty += st.tx_ring_empty_descs;
	}
	return 0;
}

const struct gw_port_xsk_counter gw_port_xsk_counters[] = {
#define X(f) { #f, offsetof(struct gw_port_xsk_stats, f) }
	X(rx_dropped), X(rx_invalid_descs), X(tx_invalid_descs),
	X(rx_ring_full), X(rx_fill_ring_empty), X(tx_ring_empty),
#undef X
};
const unsigned int gw_port_n_xsk_counters =
	sizeof(gw_port_xsk_counters) / sizeof(gw_port_xsk_counters[0]);
