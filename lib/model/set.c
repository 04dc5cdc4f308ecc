/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sets: the resources of one apply (or one `gwctl validate`), read from
 * buffers, files and directories, all or nothing; and the cross-resource
 * checks run against the store the set would produce.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "model_private.h"

/* Files bigger than this are refused rather than read into memory. */
#define MODEL_FILE_MAX (64u * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* Error lists                                                         */
/* ------------------------------------------------------------------ */

void
errlist_init(struct errlist *e, char *buf, size_t len)
{
	e->buf = buf;
	e->len = len;
	e->used = 0;
	e->count = 0;
	if (buf != NULL && len > 0)
		buf[0] = '\0';
}

void
errlist_add(struct errlist *e, const char *line)
{
	int n;

	e->count++;
	if (e->buf == NULL || e->len == 0 || e->used + 1 >= e->len)
		return;
	n = snprintf(e->buf + e->used, e->len - e->used, "%s%s",
		     e->used > 0 ? "\n" : "", line);
	if (n < 0)
		return;
	e->used += (size_t)n;
	if (e->used >= e->len)
		e->used = e->len - 1;
}

void
errlist_addf(struct errlist *e, const char *fmt, ...)
{
	char line[GW_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	errlist_add(e, line);
}

/* ------------------------------------------------------------------ */
/* Sets                                                                */
/* ------------------------------------------------------------------ */

struct gw_model_set *
gw_model_set_create(void)
{
	return calloc(1, sizeof(struct gw_model_set));
}

void
gw_model_set_free(struct gw_model_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->n; i++)
		model_resource_put(set->items[i]);
	free(set->items);
	free(set->actions);
	free(set);
}

static int
set_reserve(struct gw_model_set *set, uint32_t more)
{
	uint32_t cap = set->cap != 0 ? set->cap : 8;
	struct gw_model_resource **items;
	enum gw_model_action *actions;

	if (set->n + more < set->n)
		return -ENOMEM;
	while (cap < set->n + more)
		cap *= 2;
	if (cap == set->cap)
		return 0;
	items = realloc(set->items, cap * sizeof(*items));
	if (items == NULL)
		return -ENOMEM;
	set->items = items;
	actions = realloc(set->actions, cap * sizeof(*actions));
	if (actions == NULL)
		return -ENOMEM;
	set->actions = actions;
	set->cap = cap;
	return 0;
}

int
model_set_push(struct gw_model_set *set, struct gw_model_resource *res)
{
	if (set_reserve(set, 1) < 0)
		return -ENOMEM;
	set->actions[set->n] = GW_MODEL_ACTION_NONE;
	set->items[set->n++] = res;
	return 0;
}

uint32_t
gw_model_set_count(const struct gw_model_set *set)
{
	return set != NULL ? set->n : 0;
}

const struct gw_model_resource *
gw_model_set_at(const struct gw_model_set *set, uint32_t i)
{
	return set != NULL && i < set->n ? set->items[i] : NULL;
}

enum gw_model_action
gw_model_set_action(const struct gw_model_set *set, uint32_t i)
{
	return set != NULL && i < set->n ? set->actions[i] :
		GW_MODEL_ACTION_NONE;
}

/* Decode every document; errors go to el; nothing is kept on error. */
static int
load_buffer(struct gw_model_set *set, const char *buf, size_t len,
	    const char *file, struct errlist *el)
{
	struct gw_model_resource **res = NULL;
	struct yaml_doc *docs = NULL;
	struct yaml_error yerr;
	uint32_t n_docs = 0, n_res = 0, errors = el->count;
	char msg[GW_ERR_LEN];
	int rc;

	rc = yaml_tree_parse(buf, len, &docs, &n_docs, &yerr);
	if (rc < 0) {
		errlist_addf(el, "%s:%u:%u: %s", file, yerr.line, yerr.col,
			     yerr.msg);
		return rc == -ENOMEM ? -ENOMEM : -GW_ECONFIG;
	}
	if (n_docs > 0) {
		res = calloc(n_docs, sizeof(*res));
		if (res == NULL) {
			yaml_docs_free(docs, n_docs);
			errlist_addf(el, "%s: out of memory", file);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < n_docs; i++) {
		rc = model_resource_decode(&docs[i], file, &res[n_res], msg,
					   sizeof(msg));
		if (rc < 0)
			errlist_add(el, msg);
		else
			n_res++;
	}
	if (el->count == errors && set_reserve(set, n_res) < 0) {
		errlist_addf(el, "%s: out of memory", file);
		rc = -ENOMEM;
	}
	if (el->count != errors) {
		for (uint32_t i = 0; i < n_res; i++)
			model_resource_put(res[i]);
		n_res = 0;
		if (rc != -ENOMEM)
			rc = -GW_ECONFIG;
	} else {
		for (uint32_t i = 0; i < n_res; i++)
			model_set_push(set, res[i]);  /* reserved above */
		rc = (int)n_res;
	}
	free(res);
	yaml_docs_free(docs, n_docs);
	return rc;
}

int
gw_model_set_load_buffer(struct gw_model_set *set, const char *buf,
			 size_t len, const char *file, char *err, size_t errlen)
{
	struct errlist el;

	errlist_init(&el, err, errlen);
	if (buf == NULL) {
		/* libyaml asserts on a NULL input, even an empty one. */
		buf = "";
		len = 0;
	}
	return load_buffer(set, buf, len, file != NULL ? file : "<input>",
			   &el);
}

/* Whole file (or stdin) into a malloc'd buffer. */
static int
read_all(FILE *f, char **out, size_t *out_len)
{
	size_t cap = 65536, len = 0, n;
	char *buf = malloc(cap), *p;

	if (buf == NULL)
		return -ENOMEM;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= MODEL_FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			p = realloc(buf, cap * 2);
			if (p == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

static int
load_file(struct gw_model_set *set, const char *path, struct errlist *el)
{
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	size_t len;
	char *buf;
	int rc;

	if (f == NULL) {
		rc = -errno;
		errlist_addf(el, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = read_all(f, &buf, &len);
	if (!is_stdin)
		fclose(f);
	if (rc < 0) {
		errlist_addf(el, "%s: %s", name, strerror(-rc));
		return rc;
	}
	rc = load_buffer(set, buf, len, name, el);
	free(buf);
	return rc;
}

int
gw_model_set_load_file(struct gw_model_set *set, const char *path,
		       char *err, size_t errlen)
{
	struct errlist el;

	errlist_init(&el, err, errlen);
	return load_file(set, path, &el);
}

static bool
yaml_name(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.')
		return false;
	return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
		(len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
gw_model_set_load_dir(struct gw_model_set *set, const char *dir, char *err,
		      size_t errlen)
{
	struct gw_model_set *staging = gw_model_set_create();
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	struct errlist el;
	struct dirent *de;
	int rc = 0;
	DIR *d;

	errlist_init(&el, err, errlen);
	if (staging == NULL)
		return -ENOMEM;
	d = opendir(dir);
	if (d == NULL) {
		rc = -errno;
		errlist_addf(&el, "%s: %s", dir, strerror(-rc));
		gw_model_set_free(staging);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!yaml_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				rc = -ENOMEM;
				break;
			}
			names = grown;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			rc = -ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	/* Every file is read, so that all their errors are reported. */
	for (size_t i = 0; i < n; i++) {
		int r = rc == -ENOMEM ? 0 : load_file(staging, names[i], &el);

		if (r < 0 && rc == 0)
			rc = r;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == 0 && set_reserve(set, staging->n) < 0)
		rc = -ENOMEM;
	if (rc < 0) {
		if (rc == -ENOMEM)
			errlist_addf(&el, "%s: out of memory", dir);
		gw_model_set_free(staging);
		return rc;
	}
	for (uint32_t i = 0; i < staging->n; i++)
		model_set_push(set, staging->items[i]);
	rc = (int)staging->n;
	staging->n = 0;
	gw_model_set_free(staging);
	return rc;
}
