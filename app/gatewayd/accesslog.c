/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The access-log writer of the control lcore: workers queue records on
 * their rings (lib/httpproxy); here they become lines in the file the
 * bootstrap names, so that no worker ever formats text or does I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accesslog.h"
#include "gw_worker.h"

static FILE *accesslog_out;

static FILE *
accesslog_open(const struct gatewayd *g)
{
	const char *path = g->cfg.access_log;

	if (path[0] == '\0' || strcmp(path, "-") == 0)
		return stdout;
	accesslog_out = fopen(path, "a");
	if (accesslog_out == NULL) {
		/* said once; records then go to stdout rather than nowhere */
		fprintf(stderr, "gatewayd: access log %s: %s; using stdout\n",
			path, strerror(errno));
		return stdout;
	}
	setvbuf(accesslog_out, NULL, _IOLBF, 0);
	return accesslog_out;
}

void
gatewayd_accesslog_drain(struct gatewayd *g)
{
	static FILE *out;

	if (g->dp == NULL)
		return;
	if (out == NULL)
		out = accesslog_open(g);
	gw_dataplane_accesslog_drain(g->dp, out);
}
