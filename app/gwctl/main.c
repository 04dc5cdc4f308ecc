/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gwctl: the gateway's command-line client, shaped like kubectl.
 * Commands register themselves in the table below {words, usage, handler};
 * all but `validate` and `help` talk to gatewayd over its control socket
 * (remote.c). Exit status 0 when the command did what was asked, 1
 * otherwise.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "gw_common.h"
#include "gwctl.h"
#include "validate.h"

/* Long enough for a large apply (the gateway compiles the rules first). */
#define GWCTL_DEFAULT_TIMEOUT_MS 60000

struct gwctl_command {
	const char *name;
	const char *usage;
	const char *help;
	int (*handler)(const struct gwctl_opts *opts, int argc, char **argv);
};

static int cmd_help(const struct gwctl_opts *opts, int argc, char **argv);

static const struct gwctl_command gwctl_commands[] = {
	{ "apply", "apply -f FILE|DIR|- [--dry-run]",
	  "create or update resources; all or nothing", gwctl_cmd_apply },
	{ "delete", "delete -f FILE|DIR|- | delete KIND NAME... [-n NS]",
	  "delete resources", gwctl_cmd_delete },
	{ "get", "get KIND [NAME] [-n NS] [-o yaml|json|name]",
	  "list resources (vs, dr, se, we, gw, all), or show one",
	  gwctl_cmd_get },
	{ "get endpoints", "get endpoints [HOST]",
	  "endpoints of every cluster, with their health", gwctl_cmd_get },
	{ "describe", "describe route HOST",
	  "the compiled routes, subsets, endpoints and mirrors for a host",
	  gwctl_cmd_describe },
	{ "stats", "stats [--prometheus]", "the gateway's counters and snapshot generation (or Prometheus text)",
	  gwctl_cmd_stats },
	{ "version", "version [--client]",
	  "print gwctl's version and the gateway's", gwctl_cmd_version },
	{ "validate", "validate -f FILE|DIR|-",
	  "check Istio resources offline, as an apply would",
	  gwctl_cmd_validate },
	{ "help", "help", "show this help", cmd_help },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"gwctl controls a running gatewayd through its control socket.\n\n"
		"Usage: gwctl [-s SOCKET] COMMAND [ARGS]\n\n"
		"Commands:\n");
	for (size_t i = 0; i < GW_ARRAY_SIZE(gwctl_commands); i++) {
		const struct gwctl_command *c = &gwctl_commands[i];

		/* A long usage gets its own line, the help under it. */
		if (strlen(c->usage) > 28)
			fprintf(out, "  %s\n  %-28s %s\n", c->usage, "", c->help);
		else
			fprintf(out, "  %-28s %s\n", c->usage, c->help);
	}
	fprintf(out,
		"\nOptions:\n"
		"  -s, --socket PATH            control socket (default $GWCTL_SOCKET,\n"
		"                               else %s)\n"
		"      --request-timeout SECS   give up after SECS seconds (default %d)\n"
		"  -h, --help                   show this help\n"
		"\nExit status: 0 when the command did what was asked, 1 otherwise.\n",
		GWCTL_DEFAULT_SOCKET, GWCTL_DEFAULT_TIMEOUT_MS / 1000);
}

/* "30", "30s", "2m": seconds into milliseconds; -1 when malformed. */
static int
parse_timeout(const char *text)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || end == text || text[0] == '-' || v > 86400)
		return -1;
	if (strcmp(end, "m") == 0)
		v *= 60;
	else if (end[0] != '\0' && strcmp(end, "s") != 0)
		return -1;
	return v == 0 ? -1 : (int)(v * 1000);
}

static int
cmd_help(const struct gwctl_opts *opts, int argc, char **argv)
{
	(void)opts; (void)argc; (void)argv;
	usage(stdout);
	return 0;
}

/*
 * Take -s/--socket and --request-timeout out of the command's arguments
 * (from @p from on), so that `gwctl get vs -s PATH` works.
 */
static int
global_flags(struct gwctl_opts *opts, int *argc, char **argv, int from)
{
	int out = from;

	for (int i = from; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		bool timeout = false;

		if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0) {
			v = i + 1 < *argc ? argv[++i] : "";
		} else if (strncmp(a, "--socket=", 9) == 0) {
			v = a + 9;
		} else if (strcmp(a, "--request-timeout") == 0) {
			v = i + 1 < *argc ? argv[++i] : "";
			timeout = true;
		} else if (strncmp(a, "--request-timeout=", 18) == 0) {
			v = a + 18;
			timeout = true;
		} else {
			argv[out++] = argv[i];
			continue;
		}
		if (v[0] == '\0') {
			fprintf(stderr, "error: flag needs an argument: %s\n", a);
			return -1;
		}
		if (!timeout) {
			opts->socket_path = v;
			continue;
		}
		opts->timeout_ms = parse_timeout(v);
		if (opts->timeout_ms < 0) {
			fprintf(stderr, "error: --request-timeout: expected "
				"seconds (30, 30s, 2m), got \"%s\"\n", v);
			return -1;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "request-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gwctl_opts opts = { .socket_path = GWCTL_DEFAULT_SOCKET,
				   .timeout_ms = GWCTL_DEFAULT_TIMEOUT_MS };
	const char *env = getenv("GWCTL_SOCKET");
	int c;

	if (env != NULL && env[0] != '\0')
		opts.socket_path = env;

	/* "+" stops at the first command word so that its flags stay its own. */
	while ((c = getopt_long(argc, argv, "+s:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			opts.socket_path = optarg;
			break;
		case 'T':
			opts.timeout_ms = parse_timeout(optarg);
			if (opts.timeout_ms < 0) {
				fprintf(stderr, "error: --request-timeout: expected "
					"seconds (30, 30s, 2m), got \"%s\"\n", optarg);
				return 1;
			}
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
	/* Global flags may also follow the command, as with kubectl. */
	if (global_flags(&opts, &argc, argv, optind + 1) < 0)
		return 1;
	/* Rows whose name has a space only document a form of another. */
	for (size_t i = 0; i < GW_ARRAY_SIZE(gwctl_commands); i++) {
		if (strcmp(argv[optind], gwctl_commands[i].name) == 0)
			return gwctl_commands[i].handler(&opts, argc - optind,
							 argv + optind);
	}
	fprintf(stderr, "error: unknown command \"%s\" for \"gwctl\"; see "
		"'gwctl --help'\n", argv[optind]);
	return 1;
}
