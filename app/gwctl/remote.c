/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gwctl's commands that talk to gatewayd: the command line goes to the
 * server nearly as typed (it parses and answers in kubectl's words), with
 * one exception: `-f FILE|DIR|-` is read here, because the gateway may not
 * see the caller's files; each file becomes a "-f SIZE:NAME" argument and
 * its contents go in the request body, so messages still say
 * "vs.yaml:13:15: ...".
 *
 * The reply's body goes to stdout when the status is OK, to stderr
 * otherwise; the exit status is 0 or 1.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gw_common.h"
#include "gw_ctl.h"
#include "gwctl.h"

/* Bytes of files one request may carry (the server's default limit, less
 * room for the argument lines). */
#define GWCTL_FILES_MAX (GW_CTL_FRAME_MAX_DEFAULT - GW_CTL_ARGS_BYTES_MAX)

struct request {
	unsigned int argc;
	const char *argv[GW_CTL_MAX_ARGS];
	char *owned[GW_CTL_MAX_ARGS];   /* "SIZE:NAME" strings to free */
	unsigned int n_owned;
	char *body;
	size_t len;
	size_t cap;
	unsigned int n_files;
};

static int
req_arg(struct request *q, const char *arg)
{
	if (q->argc == GW_CTL_MAX_ARGS) {
		fprintf(stderr, "error: too many arguments (at most %d, files "
			"count twice)\n", GW_CTL_MAX_ARGS);
		return -1;
	}
	q->argv[q->argc++] = arg;
	return 0;
}

static void
req_free(struct request *q)
{
	for (unsigned int i = 0; i < q->n_owned; i++)
		free(q->owned[i]);
	free(q->body);
}

/* Append one file's contents as "-f SIZE:NAME". */
static int
req_file(struct request *q, const char *name, FILE *f)
{
	size_t start = q->len;
	char *label;

	for (;;) {
		size_t n;

		if (q->len > GWCTL_FILES_MAX) {
			fprintf(stderr, "error: the files are too large: the "
				"control socket takes at most %u MiB per request\n",
				GWCTL_FILES_MAX >> 20);
			return -1;
		}
		if (q->len == q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 65536;
			char *b = realloc(q->body, cap);

			if (b == NULL) {
				fprintf(stderr, "error: out of memory\n");
				return -1;
			}
			q->body = b;
			q->cap = cap;
		}
		n = fread(q->body + q->len, 1, q->cap - q->len, f);
		q->len += n;
		if (n == 0) {
			if (ferror(f)) {
				fprintf(stderr, "error: cannot read %s: %s\n",
					name, strerror(errno));
				return -1;
			}
			break;
		}
	}
	if (asprintf(&label, "%zu:%s", q->len - start, name) < 0) {
		fprintf(stderr, "error: out of memory\n");
		return -1;
	}
	q->owned[q->n_owned++] = label;
	if (req_arg(q, "-f") < 0 || req_arg(q, label) < 0)
		return -1;
	q->n_files++;
	return 0;
}

static int
req_path(struct request *q, const char *path)
{
	FILE *f;
	int rc;

	if (strcmp(path, "-") == 0)
		return req_file(q, "<stdin>", stdin);
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			fprintf(stderr, "error: the path \"%s\" does not exist\n",
				path);
		else
			fprintf(stderr, "error: cannot open %s: %s\n", path,
				strerror(errno));
		return -1;
	}
	rc = req_file(q, path, f);
	fclose(f);
	return rc;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
yaml_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' &&
	       ((n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
		(n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

/* Every *.yaml and *.yml file of a directory, in name order (as
 * gw_model_set_load_dir() and `gwctl validate` read one). */
static int
req_dir(struct request *q, const char *dir)
{
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	DIR *d = opendir(dir);

	if (d == NULL) {
		fprintf(stderr, "error: cannot read directory %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!yaml_name(e->d_name))
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap = cap ? cap * 2 : 16) *
					   sizeof(*p));

			if (p == NULL) {
				rc = -1;
				break;
			}
			names = p;
		}
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == 0) {
		qsort(names, n, sizeof(*names), name_cmp);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = req_path(q, names[i]);
	} else {
		fprintf(stderr, "error: out of memory\n");
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int
req_source(struct request *q, const char *path)
{
	struct stat st;

	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return req_dir(q, path);
	return req_path(q, path);
}

/* Send, print, and turn the reply into an exit status. */
static int
call(const struct gwctl_opts *opts, const struct request *q)
{
	struct gw_ctl_response resp;
	char err[1024];
	int rc;

	rc = gw_ctl_client_call(opts->socket_path, q->argc, q->argv, q->body,
				q->len, opts->timeout_ms, &resp, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	fwrite(resp.body, 1, resp.len, resp.status == GW_CTL_OK ? stdout :
	       stderr);
	fflush(stdout);
	rc = resp.status == GW_CTL_OK ? 0 : 1;
	gw_ctl_response_free(&resp);
	return rc;
}

/* "-f X", "-fX", "--filename X", "--filename=X": the path, else NULL. */
static const char *
file_flag(int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (strcmp(a, "-f") == 0 || strcmp(a, "--filename") == 0)
		return *i + 1 < argc ? argv[++*i] : "";
	if (strncmp(a, "--filename=", 11) == 0)
		return a + 11;
	if (strncmp(a, "-f", 2) == 0 && a[2] != '-')
		return a + 2;
	return NULL;
}

static bool
help_flag(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/*
 * apply and delete: files are read here, other arguments go through.
 * Returns the exit status.
 */
static int
files_command(const struct gwctl_opts *opts, int argc, char **argv,
	      const char *usage, bool files_required)
{
	struct request q = { .argc = 0 };
	bool any_f = false;
	int status = 1;

	if (req_arg(&q, argv[0]) < 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *path;

		if (help_flag(argv[i])) {
			fputs(usage, stdout);
			status = 0;
			goto out;
		}
		path = file_flag(argc, argv, &i);
		if (path == NULL) {
			if (strcmp(argv[i], "--dry-run=client") == 0) {
				/* Checked by the server all the same. */
				if (req_arg(&q, "--dry-run") < 0)
					goto out;
				continue;
			}
			if (req_arg(&q, argv[i]) < 0)
				goto out;
			continue;
		}
		any_f = true;
		if (path[0] == '\0') {
			fprintf(stderr, "error: flag needs an argument: -f\n%s",
				usage);
			goto out;
		}
		if (req_source(&q, path) < 0)
			goto out;
	}
	if (files_required && !any_f) {
		fprintf(stderr, "error: must specify -f FILE|DIR|-\n%s", usage);
		goto out;
	}
	if (any_f && q.n_files == 0) {
		fprintf(stderr, "error: no objects passed to %s (no *.yaml or "
			"*.yml file)\n", argv[0]);
		goto out;
	}
	status = call(opts, &q);
out:
	req_free(&q);
	return status;
}

static const char apply_usage[] =
	"Usage: gwctl apply -f FILE|DIR|- [-f ...] [--dry-run]\n"
	"  Create or update Istio resources. Every document of every file is\n"
	"  checked first; one bad document rejects the whole apply and the\n"
	"  running configuration stays as it was.\n"
	"  DIR: its *.yaml and *.yml files, in name order; -: standard input.\n"
	"  --dry-run: check and compile, change nothing.\n";

int
gwctl_cmd_apply(const struct gwctl_opts *opts, int argc, char **argv)
{
	return files_command(opts, argc, argv, apply_usage, true);
}

static const char delete_usage[] =
	"Usage: gwctl delete -f FILE|DIR|- [--ignore-not-found] [--dry-run]\n"
	"       gwctl delete KIND NAME... [-n NAMESPACE] [--ignore-not-found]\n"
	"  KIND: virtualservice (vs), destinationrule (dr), serviceentry (se),\n"
	"        workloadentry (we), gateway (gw); plural forms too.\n";

int
gwctl_cmd_delete(const struct gwctl_opts *opts, int argc, char **argv)
{
	return files_command(opts, argc, argv, delete_usage, false);
}

/* Commands whose arguments the server parses: sent as typed. */
static int
forward(const struct gwctl_opts *opts, int argc, char **argv,
	const char *usage)
{
	struct request q = { .argc = 0 };

	for (int i = 0; i < argc; i++) {
		if (i > 0 && help_flag(argv[i])) {
			fputs(usage, stdout);
			return 0;
		}
		if (argv[i][0] == '\0') {
			fprintf(stderr, "error: empty argument\n%s", usage);
			return 1;
		}
		if (req_arg(&q, argv[i]) < 0)
			return 1;
	}
	return call(opts, &q);
}

static const char get_usage[] =
	"Usage: gwctl get KIND[,KIND...] [NAME] [-n NAMESPACE] [-o yaml|json|name]\n"
	"       gwctl get endpoints [HOST] [-o json]\n"
	"  KIND: virtualservices (vs), destinationrules (dr), serviceentries (se),\n"
	"        workloadentries (we), gateways (gw), all.\n"
	"  Lists every namespace unless -n is given; NAME is looked up in -n\n"
	"  (default \"default\"). GENERATION is the snapshot generation that\n"
	"  last changed the resource.\n";

int
gwctl_cmd_get(const struct gwctl_opts *opts, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "error: you must specify the type of resource "
			"to get\n%s", get_usage);
		return 1;
	}
	return forward(opts, argc, argv, get_usage);
}

static const char describe_usage[] =
	"Usage: gwctl describe route HOST\n"
	"  The compiled view of HOST: for each listener that resolves it, the\n"
	"  routes in order (matches, weighted destinations, mirrors, policies),\n"
	"  then the clusters they use with their endpoints and weights.\n";

int
gwctl_cmd_describe(const struct gwctl_opts *opts, int argc, char **argv)
{
	char *args[4];

	if (argc >= 2 && help_flag(argv[1])) {
		fputs(describe_usage, stdout);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "route") != 0 &&
			  strcmp(argv[1], "routes") != 0)) {
		fprintf(stderr, "error: gwctl describe knows one thing: "
			"route HOST\n%s", describe_usage);
		return 1;
	}
	args[0] = argv[0];
	args[1] = (char *)(uintptr_t)"route";
	args[2] = argv[2];
	args[3] = NULL;
	return forward(opts, 3, args, describe_usage);
}

static const char stats_usage[] =
	"Usage: gwctl stats [-o text|prometheus] [--prometheus]\n"
	"  The gateway's counters, NAME VALUE per line, as on the admin /stats\n"
	"  page, with the snapshot generation and the control socket's.\n"
	"  -o prometheus (or --prometheus): Istio's request metrics and the\n"
	"  counters in Prometheus text format, as on /stats/prometheus.\n";

int
gwctl_cmd_stats(const struct gwctl_opts *opts, int argc, char **argv)
{
	char *args[GW_CTL_MAX_ARGS + 1];
	int n = 0;

	/* --prometheus is gwctl's spelling of the server's -o prometheus */
	for (int i = 0; i < argc; i++) {
		if (n + 2 > GW_CTL_MAX_ARGS) {
			fprintf(stderr, "error: too many arguments\n%s", stats_usage);
			return 1;
		}
		if (i > 0 && strcmp(argv[i], "--prometheus") == 0) {
			args[n++] = (char *)(uintptr_t)"-o";
			args[n++] = (char *)(uintptr_t)"prometheus";
		} else {
			args[n++] = argv[i];
		}
	}
	args[n] = NULL;
	return forward(opts, n, args, stats_usage);
}

int
gwctl_cmd_version(const struct gwctl_opts *opts, int argc, char **argv)
{
	struct request q = { .argc = 1, .argv = { "version" } };
	bool client_only = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--client") == 0) {
			client_only = true;
		} else if (help_flag(argv[i])) {
			fputs("Usage: gwctl version [--client]\n", stdout);
			return 0;
		} else {
			fprintf(stderr, "error: unknown flag: %s\n", argv[i]);
			return 1;
		}
	}
	printf("gwctl version %s\n", GW_VERSION);
	fflush(stdout);
	if (client_only)
		return 0;
	return call(opts, &q);
}
