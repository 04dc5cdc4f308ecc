/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GWCTL_H
#define GWCTL_H

/*
 * gwctl's commands. Each takes the command's own argc/argv (argv[0] is
 * the command word) and returns the process exit status: 0 when it did
 * what was asked, 1 otherwise, with a message for a person on stderr.
 */

#define GWCTL_DEFAULT_SOCKET "/run/gatewayd/gatewayd.sock"

struct gwctl_opts {
	const char *socket_path;   /**< -s, --socket, or $GWCTL_SOCKET */
	int timeout_ms;            /**< --request-timeout */
};

/* remote.c: through the control socket */
int gwctl_cmd_apply(const struct gwctl_opts *opts, int argc, char **argv);
int gwctl_cmd_delete(const struct gwctl_opts *opts, int argc, char **argv);
int gwctl_cmd_get(const struct gwctl_opts *opts, int argc, char **argv);
int gwctl_cmd_describe(const struct gwctl_opts *opts, int argc, char **argv);
int gwctl_cmd_stats(const struct gwctl_opts *opts, int argc, char **argv);
/* version: gwctl's, then the gateway's unless --client */
int gwctl_cmd_version(const struct gwctl_opts *opts, int argc, char **argv);

#endif /* GWCTL_H */
