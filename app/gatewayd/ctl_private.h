/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GATEWAYD_CTL_PRIVATE_H
#define GATEWAYD_CTL_PRIVATE_H

/*
 * Shared by the control verbs (ctl_handlers.c, ctl_get.c), their helpers
 * (ctl_util.c) and the change pipeline (ctl_apply.c): what gatewayd
 * remembers about each applied resource (the generation that last changed
 * it, when it was created), the publish-or-roll-back step every apply and
 * delete ends with, argument parsing and output.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gw_ctl.h"
#include "gw_metrics.h"
#include "gw_model.h"
#include "gw_model_txn.h"

struct gatewayd;

/** Bookkeeping of one resource in the store, for `get`. */
struct ctl_meta {
	enum gw_model_kind kind;
	char *namespace;
	char *name;
	uint64_t generation;      /**< snapshot generation that last changed it */
	time_t created;
};

struct gatewayd_ctl_state {
	time_t started;
	struct ctl_meta *meta;    /**< sorted by kind, namespace, name */
	uint32_t n_meta;
	uint32_t cap_meta;
	uint64_t changes;         /**< applies and deletes published */
	uint64_t rejected;        /**< refused: invalid, did not compile, ... */
	uint64_t dry_runs;
	uint64_t slow_switches;   /**< workers slower than 200 ms to switch */
	/** Published changes: compile, save, publish and switch, in µs. */
	struct gw_metrics_hist apply_latency;
	uint64_t last_apply_us;
};

/** The entry of a resource, NULL when unknown. */
const struct ctl_meta *ctl_meta_find(const struct gatewayd_ctl_state *st,
				     enum gw_model_kind kind,
				     const char *namespace, const char *name);

/** Record the outcome of an apply (created / configured) at @p generation. */
void ctl_meta_applied(struct gatewayd_ctl_state *st,
		      const struct gw_model_set *set, uint64_t generation);

/** Forget a deleted resource. */
void ctl_meta_deleted(struct gatewayd_ctl_state *st, enum gw_model_kind kind,
		      const char *namespace, const char *name);

/** Record every resource of the store at @p generation (at start). */
void ctl_meta_init(struct gatewayd_ctl_state *st,
		   const struct gw_model_store *store, uint64_t generation);

void ctl_meta_free(struct gatewayd_ctl_state *st);

/**
 * The end of every change: @p txn has modified g->store; compile a
 * snapshot of it, save the state (control.state_dir), publish, and wait
 * (bounded) until the workers use it; then commit. On any failure, or with
 * @p dry_run after the compile, roll the store back.
 *
 * @return 0 with *generation the generation in force (the new one, or the
 *         unchanged one for a dry run), or -1 with an error for a person
 *         and its status in @p reply, the running configuration unchanged
 *         (the caller counts the rejection).
 */
int ctl_publish_change(struct gatewayd *g, struct gw_model_store_txn *txn,
		       bool dry_run, struct gw_ctl_reply *reply,
		       uint64_t *generation);

/** Save the store to STATE_DIR/resources.yaml (no-op without state_dir). */
int ctl_state_save(const struct gatewayd *g, char *err, size_t err_len);

/** "5m12s", like kubectl's AGE column. */
const char *ctl_age(time_t since, char *buf, size_t len);

/* ---- arguments (ctl_util.c) ---- */

/** Flags a verb accepts, for ctl_parse_args(). */
enum {
	ARG_OUTPUT = 1u << 0,        /**< -o FORMAT */
	ARG_NAMESPACE = 1u << 1,     /**< -n NS, -A */
	ARG_FILES = 1u << 2,         /**< -f SIZE:NAME (gwctl read the file) */
	ARG_IGNORE = 1u << 3,        /**< --ignore-not-found */
	ARG_DRY_RUN = 1u << 4,       /**< --dry-run */
};

/** A file of the request: @p size bytes of the body, in order. */
struct ctl_file {
	size_t size;
	const char *name;
};

/** A verb's arguments after its command words. Large: keep one per call. */
struct ctl_args {
	const char *output;          /**< -o, NULL when absent */
	const char *namespace;       /**< -n, NULL when absent (or -A) */
	bool ignore_not_found;
	bool dry_run;
	unsigned int n_files;
	struct ctl_file files[GW_CTL_MAX_ARGS];
	unsigned int n_pos;          /**< positional arguments */
	const char *pos[GW_CTL_MAX_ARGS];
};

/** "virtualservices (vs), ..." for messages about kinds. */
extern const char ctl_kinds_help[];

/**
 * Parse the arguments after the command words; @p allowed is a set of
 * ARG_* flags, others are "unknown flag" errors.
 * @return 0, or -1 with the error in @p reply.
 */
int ctl_parse_args(const struct gw_ctl_request *req, unsigned int allowed,
		   struct ctl_args *a, struct gw_ctl_reply *reply);

/** -n, or "default". */
const char *ctl_arg_namespace(const struct ctl_args *a);

/* ---- output (ctl_util.c) ---- */

#define CTL_TABLE_COLS 8

/** A table printed as kubectl prints one. */
struct ctl_table {
	unsigned int n_cols;
	const char *head[CTL_TABLE_COLS];
	char **cells;                 /**< n_rows * n_cols, owned */
	unsigned int n_rows;
	unsigned int cap_rows;
};

/** Add a row: n_cols strings (NULL or "" print as <none>). */
void ctl_table_row(struct ctl_table *t, ...);
/** Columns as wide as their widest cell, three spaces apart. */
void ctl_table_print(struct ctl_table *t, struct gw_ctl_reply *reply);
void ctl_table_free(struct ctl_table *t);

/** A JSON string literal, escaped. */
void ctl_json_string(struct gw_ctl_reply *reply, const char *s);

/** ["a","b"] into @p buf, "" for none (kubectl's list columns). */
char *ctl_string_list(const char *const *items, uint32_t n, char *buf,
		      size_t len);

/** Append model messages, ending with a newline. */
void ctl_reply_lines(struct gw_ctl_reply *reply, const char *text);

/* ---- verbs in ctl_get.c ---- */

void ctl_cmd_get(void *ctx, const struct gw_ctl_request *req,
		 struct gw_ctl_reply *reply);
void ctl_cmd_get_endpoints(void *ctx, const struct gw_ctl_request *req,
			   struct gw_ctl_reply *reply);

#endif /* GATEWAYD_CTL_PRIVATE_H */
