/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the control verbs: kubectl-style argument parsing ("-o yaml",
 * "-oyaml", "--output=yaml"), tables with columns as wide as their widest
 * cell, JSON strings, and model messages as reply lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_ctl.h"
#include "gw_model.h"
#include "ctl_private.h"

const char ctl_kinds_help[] =
	"virtualservices (vs), destinationrules (dr), serviceentries (se), "
	"workloadentries (we), gateways (gw), endpoints (ep)";

/* ------------------------------------------------------------------ */
/* Arguments                                                           */

/* "-o yaml", "-oyaml", "--output yaml", "--output=yaml". */
static bool
arg_value(const struct gw_ctl_request *req, unsigned int *i,
	  const char *short_opt, const char *long_opt, const char **value)
{
	const char *a = req->argv[*i];
	size_t sl = strlen(short_opt), ll = strlen(long_opt);

	if (strcmp(a, short_opt) == 0 || strcmp(a, long_opt) == 0) {
		*value = *i + 1 < req->argc ? req->argv[++*i] : "";
		return true;
	}
	if (strncmp(a, long_opt, ll) == 0 && a[ll] == '=') {
		*value = a + ll + 1;
		return true;
	}
	if (strncmp(a, short_opt, sl) == 0 && a[sl] != '\0' &&
	    short_opt[1] != '-') {
		*value = a + sl;
		return true;
	}
	return false;
}

/* "SIZE:NAME", as gwctl sends a file. */
static bool
file_arg(const char *v, struct ctl_file *f)
{
	char *end;
	unsigned long long n;

	if (v[0] < '0' || v[0] > '9')
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != ':' || end[1] == '\0')
		return false;
	f->size = (size_t)n;
	f->name = end + 1;
	return true;
}

int
ctl_parse_args(const struct gw_ctl_request *req, unsigned int allowed,
	   struct ctl_args *a, struct gw_ctl_reply *r)
{
	memset(a, 0, sizeof(*a));
	for (unsigned int i = req->n_words; i < req->argc; i++) {
		const char *arg = req->argv[i], *v;

		if ((allowed & ARG_OUTPUT) &&
		    arg_value(req, &i, "-o", "--output", &v)) {
			a->output = v;
		} else if ((allowed & ARG_NAMESPACE) &&
			   arg_value(req, &i, "-n", "--namespace", &v)) {
			if (v[0] == '\0')
				goto missing;
			a->namespace = v;
		} else if ((allowed & ARG_NAMESPACE) &&
			   (strcmp(arg, "-A") == 0 ||
			    strcmp(arg, "--all-namespaces") == 0)) {
			a->namespace = NULL;
		} else if ((allowed & ARG_FILES) &&
			   arg_value(req, &i, "-f", "--filename", &v)) {
			if (!file_arg(v, &a->files[a->n_files])) {
				gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
					"error: malformed file argument \"%s\" "
					"(gwctl sends SIZE:NAME)\n", v);
				return -1;
			}
			a->n_files++;
		} else if ((allowed & ARG_IGNORE) &&
			   strcmp(arg, "--ignore-not-found") == 0) {
			a->ignore_not_found = true;
		} else if ((allowed & ARG_DRY_RUN) &&
			   (strcmp(arg, "--dry-run") == 0 ||
			    strcmp(arg, "--dry-run=server") == 0)) {
			a->dry_run = true;
		} else if (arg[0] == '-' && arg[1] != '\0') {
			gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
					   "error: unknown flag: %s\n", arg);
			return -1;
		} else {
			a->pos[a->n_pos++] = arg;
		}
		continue;
missing:
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				   "error: flag needs an argument: %s\n", arg);
		return -1;
	}
	if (a->output != NULL && a->output[0] == '\0') {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				   "error: flag needs an argument: -o\n");
		return -1;
	}
	return 0;
}

const char *
ctl_arg_namespace(const struct ctl_args *a)
{
	return a->namespace != NULL ? a->namespace : GW_MODEL_DEFAULT_NAMESPACE;
}

/* ------------------------------------------------------------------ */
/* Output helpers                                                      */

void
ctl_table_row(struct ctl_table *t, ...)
{
	va_list ap;

	if (t->n_rows == t->cap_rows) {
		unsigned int cap = t->cap_rows ? t->cap_rows * 2 : 32;
		char **c = realloc(t->cells, (size_t)cap * t->n_cols * sizeof(*c));

		if (c == NULL)
			return;
		t->cells = c;
		t->cap_rows = cap;
	}
	va_start(ap, t);
	for (unsigned int i = 0; i < t->n_cols; i++) {
		const char *s = va_arg(ap, const char *);

		/* An empty cell would shift the columns for awk and people. */
		t->cells[t->n_rows * t->n_cols + i] =
			strdup(s != NULL && s[0] != '\0' ? s : "<none>");
	}
	va_end(ap);
	t->n_rows++;
}

/* Columns as wide as their widest cell, three spaces apart (kubectl). */
void
ctl_table_print(struct ctl_table *t, struct gw_ctl_reply *r)
{
	size_t w[CTL_TABLE_COLS];

	for (unsigned int c = 0; c < t->n_cols; c++) {
		w[c] = strlen(t->head[c]);
		for (unsigned int i = 0; i < t->n_rows; i++) {
			const char *s = t->cells[i * t->n_cols + c];
			size_t n = s ? strlen(s) : 0;

			if (n > w[c])
				w[c] = n;
		}
	}
	for (int row = -1; row < (int)t->n_rows; row++) {
		for (unsigned int c = 0; c < t->n_cols; c++) {
			const char *s = row < 0 ? t->head[c] :
				t->cells[(unsigned int)row * t->n_cols + c];

			if (s == NULL)
				s = "?";
			if (c + 1 == t->n_cols)
				gw_ctl_reply_printf(r, "%s\n", s);
			else
				gw_ctl_reply_printf(r, "%-*s   ", (int)w[c], s);
		}
	}
}

void
ctl_table_free(struct ctl_table *t)
{
	for (unsigned int i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n_rows = t->cap_rows = 0;
}

/* A JSON string literal (control characters and quotes escaped). */
void
ctl_json_string(struct gw_ctl_reply *r, const char *s)
{
	gw_ctl_reply_printf(r, "\"");
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			gw_ctl_reply_printf(r, "\\%c", c);
		else if (c < 0x20)
			gw_ctl_reply_printf(r, "\\u%04x", c);
		else
			gw_ctl_reply_append(r, &c, 1);
	}
	gw_ctl_reply_printf(r, "\"");
}

/* kubectl prints list columns as JSON arrays: ["a","b"]. */
char *
ctl_string_list(const char *const *items, uint32_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (n == 0)
		return buf;
	off += (size_t)snprintf(buf, len, "[");
	for (uint32_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s\"%s\"",
					i ? "," : "", items[i]);
	if (off < len)
		snprintf(buf + off, len - off, "]");
	return buf;
}

/* Model messages end without a newline; each becomes one line. */
void
ctl_reply_lines(struct gw_ctl_reply *r, const char *text)
{
	size_t n = strlen(text);

	if (n == 0)
		return;
	gw_ctl_reply_append(r, text, n);
	if (text[n - 1] != '\n')
		gw_ctl_reply_append(r, "\n", 1);
}

