/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `gwctl validate`, like `istioctl validate`: the files are read and
 * checked together (cross references included) exactly as one apply would
 * check them, without a gateway. Errors go to stderr, one per line, and the
 * exit status is 1; otherwise one "KIND.networking.istio.io/NAME valid"
 * line per resource.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gw_common.h"
#include "gw_model.h"
#include "validate.h"

/* Room for many "file:line:col: message" lines. */
#define VALIDATE_ERR_LEN (64 * 1024)

static const char validate_usage[] =
	"Usage: gwctl validate -f FILE|DIR|- [-f FILE|DIR|- ...]\n"
	"  DIR: every *.yaml and *.yml file in it; -: standard input\n";

static int
validate_path(struct gw_model_set *set, const char *path, char *err,
	      size_t errlen)
{
	struct stat st;

	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		return gw_model_set_load_dir(set, path, err, errlen);
	return gw_model_set_load_file(set, path, err, errlen);
}

int
gwctl_cmd_validate(const struct gwctl_opts *opts, int argc, char **argv)
{
	struct gw_model_set *set;
	char *err;
	int n_paths = 0, status = 0;

	(void)opts;
	set = gw_model_set_create();
	err = malloc(VALIDATE_ERR_LEN);
	if (set == NULL || err == NULL) {
		fprintf(stderr, "gwctl: out of memory\n");
		gw_model_set_free(set);
		free(err);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *path = NULL;

		if (strcmp(argv[i], "-f") == 0 ||
		    strcmp(argv[i], "--filename") == 0) {
			if (i + 1 < argc)
				path = argv[++i];
		} else if (strncmp(argv[i], "--filename=", 11) == 0) {
			path = argv[i] + 11;
		} else if (strncmp(argv[i], "-f", 2) == 0) {
			path = argv[i] + 2;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			fputs(validate_usage, stdout);
			goto out;
		}
		if (path == NULL || path[0] == '\0') {
			fprintf(stderr, "gwctl validate: unexpected argument "
				"\"%s\"\n%s", argv[i], validate_usage);
			status = 1;
			goto out;
		}
		n_paths++;
		/* Keep going: every file's errors are worth printing. */
		if (validate_path(set, path, err, VALIDATE_ERR_LEN) < 0) {
			fprintf(stderr, "%s\n", err);
			status = 1;
		}
	}
	if (n_paths == 0) {
		fprintf(stderr, "gwctl validate: -f FILE is required\n%s",
			validate_usage);
		status = 1;
		goto out;
	}
	if (status != 0)
		goto out;
	if (gw_model_set_count(set) == 0) {
		fprintf(stderr, "error: no objects passed to validate\n");
		status = 1;
		goto out;
	}
	if (gw_model_set_validate(set, NULL, err, VALIDATE_ERR_LEN) < 0) {
		fprintf(stderr, "%s\n", err);
		status = 1;
		goto out;
	}
	for (uint32_t i = 0; i < gw_model_set_count(set); i++) {
		const struct gw_model_resource *r = gw_model_set_at(set, i);

		printf("%s.networking.istio.io/%s valid\n",
		       gw_model_kind_singular(r->kind), r->meta.name);
	}
out:
	gw_model_set_free(set);
	free(err);
	return status;
}
