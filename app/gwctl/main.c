/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gwctl: the gateway's command-line client, shaped like kubectl.
 * Commands register themselves in the table below {words, usage, handler};
 * later issues add apply/get/delete/describe/stats over the control socket.
 */
#include <stdio.h>
#include <string.h>
#include <getopt.h>

#include "gw_common.h"
#include "validate.h"

#define GWCTL_DEFAULT_SOCKET "/run/gatewayd/gatewayd.sock"

struct gwctl_opts {
	const char *socket_path;
};

struct gwctl_command {
	const char *name;
	const char *usage;
	const char *help;
	int (*handler)(const struct gwctl_opts *opts, int argc, char **argv);
};

static int cmd_version(const struct gwctl_opts *opts, int argc, char **argv);
static int cmd_help(const struct gwctl_opts *opts, int argc, char **argv);

static const struct gwctl_command gwctl_commands[] = {
	{ "version", "version", "print gwctl's version", cmd_version },
	{ "help", "help", "show this help", cmd_help },
	{ "validate", "validate -f FILE|DIR|-",
	  "check Istio resources offline, as an apply would",
	  gwctl_cmd_validate },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"gwctl controls a running gatewayd through its control socket.\n\n"
		"Usage: gwctl [-s SOCKET] COMMAND [ARGS]\n\n"
		"Commands:\n");
	for (size_t i = 0; i < GW_ARRAY_SIZE(gwctl_commands); i++)
		fprintf(out, "  %-28s %s\n", gwctl_commands[i].usage,
			gwctl_commands[i].help);
	fprintf(out,
		"\nOptions:\n"
		"  -s, --socket PATH            control socket (default %s)\n"
		"  -h, --help                   show this help\n",
		GWCTL_DEFAULT_SOCKET);
}

static int
cmd_version(const struct gwctl_opts *opts, int argc, char **argv)
{
	(void)opts; (void)argc; (void)argv;
	printf("gwctl version %s\n", GW_VERSION);
	return 0;
}

static int
cmd_help(const struct gwctl_opts *opts, int argc, char **argv)
{
	(void)opts; (void)argc; (void)argv;
	usage(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gwctl_opts opts = { .socket_path = GWCTL_DEFAULT_SOCKET };
	int c;

	/* "+" stops at the first command word so that its flags stay its own. */
	while ((c = getopt_long(argc, argv, "+s:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			opts.socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	for (size_t i = 0; i < GW_ARRAY_SIZE(gwctl_commands); i++) {
		if (strcmp(argv[optind], gwctl_commands[i].name) == 0)
			return gwctl_commands[i].handler(&opts, argc - optind,
							 argv + optind);
	}
	fprintf(stderr, "gwctl: unknown command \"%s\"; see 'gwctl --help'\n",
		argv[optind]);
	return 1;
}
