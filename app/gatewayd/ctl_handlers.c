/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verbs of the control socket, one row each in ctl_commands: apply,
 * delete, get, get endpoints, describe route, stats, version. They answer
 * in kubectl's words ("virtualservice.networking.istio.io/httpbin
 * configured", "Error from server (NotFound): ..."), so that an operator
 * who knows kubectl reads gwctl without a manual. gwctl sends the command
 * line as the user typed it, with `-f` files turned into "SIZE:NAME"
 * arguments and their contents concatenated in the body.
 *
 * Here: apply, delete, describe route, stats, version and the module's
 * init/poll/term; `get` is in ctl_get.c, argument parsing and output
 * helpers in ctl_util.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_common.h"
#include "gw_ctl.h"
#include "gw_model_txn.h"
#include "gw_snapshot.h"
#include "gatewayd.h"
#include "ctl.h"
#include "ctl_private.h"
#include "telemetry.h"

/* Room for one "file:line:col: field: reason" line per rejected document. */
#define CTL_MODEL_ERR_LEN (64 * 1024)

static uint64_t
generation(const struct gatewayd *g)
{
	return gw_snapshot_generation(g->snapshots);
}

static void
unchanged_trailer(const struct gatewayd *g, struct gw_ctl_reply *r,
		  const char *what)
{
	gw_ctl_reply_printf(r, "error: nothing %s; the running configuration "
			    "is unchanged (generation %" PRIu64 ")\n", what,
			    generation(g));
}

/* ------------------------------------------------------------------ */
/* Loading the files of a request                                      */

/*
 * Every file of the request into one set, as one batch. All files are
 * read even after an error, so that the operator sees every problem at
 * once; the set is only used when all of them loaded.
 */
static struct gw_model_set *
load_files(const struct gw_ctl_request *req, const struct ctl_args *a,
	   struct gw_ctl_reply *r, char *err)
{
	struct gw_model_set *set;
	size_t off = 0, total = 0;
	bool failed = false;

	for (unsigned int i = 0; i < a->n_files; i++) {
		if (a->files[i].size > req->body_len - total) {
			gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				"error: malformed request: the files are larger "
				"than the body\n");
			return NULL;
		}
		total += a->files[i].size;
	}
	if (total != req->body_len) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				   "error: malformed request: the files do not "
				   "add up to the body\n");
		return NULL;
	}
	set = gw_model_set_create();
	if (set == NULL) {
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: out of memory\n");
		return NULL;
	}
	for (unsigned int i = 0; i < a->n_files; i++) {
		err[0] = '\0';
		if (gw_model_set_load_buffer(set, req->body + off,
					     a->files[i].size, a->files[i].name,
					     err, CTL_MODEL_ERR_LEN) < 0) {
			r->status = GW_CTL_BAD_REQUEST;
			ctl_reply_lines(r, err);
			failed = true;
		}
		off += a->files[i].size;
	}
	if (failed) {
		gw_model_set_free(set);
		return NULL;
	}
	return set;
}

/* ------------------------------------------------------------------ */
/* apply                                                               */

static void
cmd_apply(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	struct gatewayd *g = ctx;
	struct gw_model_store_txn *txn = NULL;
	struct gw_model_set *set = NULL;
	struct ctl_args a;
	uint64_t gen;
	char *err;
	int rc;

	if (ctl_parse_args(req, ARG_FILES | ARG_DRY_RUN, &a, r) < 0)
		return;
	if (a.n_pos > 0 || a.n_files == 0) {
		if (a.n_pos > 0)
			gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: "
					   "unexpected argument \"%s\"; usage: "
					   "apply -f FILE|DIR|-\n", a.pos[0]);
		else
			gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: must "
					   "specify -f FILE|DIR|- (a file, a "
					   "directory, or - for standard input)\n");
		return;
	}
	err = malloc(CTL_MODEL_ERR_LEN);
	if (err == NULL) {
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: out of memory\n");
		return;
	}
	set = load_files(req, &a, r, err);
	if (set == NULL)
		goto rejected;
	if (gw_model_set_count(set) == 0) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				   "error: no objects passed to apply\n");
		goto out;
	}
	txn = gw_model_store_txn_begin(g->store);
	if (txn == NULL) {
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: out of memory\n");
		goto out;
	}
	err[0] = '\0';
	rc = gw_model_store_txn_apply(txn, set, err, CTL_MODEL_ERR_LEN);
	if (rc < 0) {
		gw_model_store_txn_rollback(txn, NULL, 0);  /* nothing changed */
		r->status = GW_CTL_BAD_REQUEST;
		ctl_reply_lines(r, err);
		goto rejected;
	}
	if (rc == 0) {
		/* Everything unchanged: no new snapshot, no new generation. */
		gw_model_store_txn_commit(txn);
	} else if (ctl_publish_change(g, txn, a.dry_run, r, &gen) < 0) {
		goto rejected;
	} else if (!a.dry_run) {
		ctl_meta_applied(g->ctl_state, set, gen);
	}
	for (uint32_t i = 0; i < gw_model_set_count(set); i++) {
		const struct gw_model_resource *res = gw_model_set_at(set, i);

		gw_ctl_reply_printf(r, "%s.networking.istio.io/%s %s%s\n",
				    gw_model_kind_singular(res->kind),
				    res->meta.name,
				    gw_model_action_name(gw_model_set_action(set, i)),
				    a.dry_run ? " (server dry run)" : "");
	}
	goto out;
rejected:
	g->ctl_state->rejected++;
	unchanged_trailer(g, r, "applied");
out:
	gw_model_set_free(set);
	free(err);
}

/* ------------------------------------------------------------------ */
/* delete                                                              */

static void
print_deleted(struct gw_ctl_reply *r, enum gw_model_kind kind,
	      const char *name, bool deleted, bool dry_run)
{
	if (deleted)
		gw_ctl_reply_printf(r, "%s.networking.istio.io \"%s\" deleted%s\n",
				    gw_model_kind_singular(kind), name,
				    dry_run ? " (server dry run)" : "");
	else
		gw_ctl_reply_printf(r, "Error from server (NotFound): "
				    "%s.networking.istio.io \"%s\" not found\n",
				    gw_model_kind_plural(kind), name);
}

static void
cmd_delete(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	struct gatewayd *g = ctx;
	struct gw_model_store_txn *txn = NULL;
	struct gw_model_set *set = NULL;
	enum gw_model_kind kind = GW_MODEL_KIND_COUNT;
	bool gone[GW_CTL_MAX_ARGS] = { false };
	unsigned int deleted = 0, missing = 0;
	struct ctl_args a;
	uint64_t gen;
	char *err;

	if (ctl_parse_args(req, ARG_FILES | ARG_NAMESPACE | ARG_IGNORE |
		       ARG_DRY_RUN, &a, r) < 0)
		return;
	if (a.n_files > 0 && a.n_pos > 0) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: names and -f "
				   "cannot be used together\n");
		return;
	}
	if (a.n_files == 0 && a.n_pos < 2) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, a.n_pos == 0 ?
			"error: you must provide one or more resources by "
			"argument or filename (delete -f FILE, delete KIND NAME)\n" :
			"error: resource(s) were provided, but no name was "
			"specified (delete KIND NAME)\n");
		return;
	}
	if (a.n_files == 0 && gw_model_kind_parse(a.pos[0], &kind) < 0) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: the server "
				   "doesn't have a resource type \"%s\" (known: "
				   "%s)\n", a.pos[0], ctl_kinds_help);
		return;
	}
	err = malloc(CTL_MODEL_ERR_LEN);
	txn = gw_model_store_txn_begin(g->store);
	if (err == NULL || txn == NULL) {
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: out of memory\n");
		goto out;
	}
	if (a.n_files > 0) {
		set = load_files(req, &a, r, err);
		if (set == NULL)
			goto rejected;
		if (gw_model_store_txn_delete_set(txn, set) < 0) {
			gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: out of memory\n");
			goto rejected;
		}
		for (uint32_t i = 0; i < gw_model_set_count(set); i++) {
			if (gw_model_set_action(set, i) == GW_MODEL_ACTION_DELETED)
				deleted++;
			else
				missing++;
		}
	} else {
		for (unsigned int i = 1; i < a.n_pos; i++) {
			int rc = gw_model_store_txn_delete(txn, kind,
							   ctl_arg_namespace(&a),
							   a.pos[i]);

			if (rc == 0) {
				gone[i] = true;
				deleted++;
			} else if (rc == -ENOENT) {
				missing++;
			} else {
				gw_ctl_reply_error(r, GW_CTL_INTERNAL,
						   "error: %s\n", strerror(-rc));
				goto rejected;
			}
		}
	}
	if (deleted > 0) {
		/* What is left must still hold together (routes to subsets). */
		err[0] = '\0';
		if (gw_model_store_txn_check(txn, err, CTL_MODEL_ERR_LEN) < 0) {
			r->status = GW_CTL_CONFLICT;
			gw_ctl_reply_printf(r, "error: other resources depend on "
					    "what this would delete:\n");
			ctl_reply_lines(r, err);
			goto rejected;
		}
		if (ctl_publish_change(g, txn, a.dry_run, r, &gen) < 0) {
			txn = NULL;
			goto rejected_done;
		}
		txn = NULL;
	}
	/* Report in the order given, as kubectl does. */
	if (set != NULL) {
		for (uint32_t i = 0; i < gw_model_set_count(set); i++) {
			const struct gw_model_resource *res = gw_model_set_at(set, i);
			bool d = gw_model_set_action(set, i) == GW_MODEL_ACTION_DELETED;

			if (d && !a.dry_run)
				ctl_meta_deleted(g->ctl_state, res->kind,
						 res->meta.namespace, res->meta.name);
			if (d || !a.ignore_not_found)
				print_deleted(r, res->kind, res->meta.name, d,
					      a.dry_run);
		}
	} else {
		for (unsigned int i = 1; i < a.n_pos; i++) {
			if (gone[i] && !a.dry_run)
				ctl_meta_deleted(g->ctl_state, kind,
						 ctl_arg_namespace(&a), a.pos[i]);
			if (gone[i] || !a.ignore_not_found)
				print_deleted(r, kind, a.pos[i], gone[i], a.dry_run);
		}
	}
	if (missing > 0 && !a.ignore_not_found)
		r->status = GW_CTL_NOT_FOUND;
	goto out;
rejected:
	if (txn != NULL)
		gw_model_store_txn_rollback(txn, NULL, 0);
	txn = NULL;
rejected_done:
	g->ctl_state->rejected++;
	unchanged_trailer(g, r, "deleted");
out:
	if (txn != NULL)
		gw_model_store_txn_commit(txn);   /* nothing was deleted */
	gw_model_set_free(set);
	free(err);
}

/* ------------------------------------------------------------------ */
/* describe route, stats, version                                      */

static void
cmd_describe_route(void *ctx, const struct gw_ctl_request *req,
		   struct gw_ctl_reply *r)
{
	struct gatewayd *g = ctx;
	const struct gw_snapshot *s = gw_snapshot_peek(g->snapshots);
	struct ctl_args a;
	char *text = NULL, when[64], age[24];
	size_t len = 0;
	time_t t;
	int rc;

	if (ctl_parse_args(req, 0, &a, r) < 0)
		return;
	if (a.n_pos != 1) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				   "error: usage: describe route HOST\n");
		return;
	}
	if (s == NULL) {
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: no routing snapshot\n");
		return;
	}
	rc = gw_route_snapshot_describe(s->routes, a.pos[0], &text, &len);
	if (rc == -ENOMEM || text == NULL) {
		free(text);
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: out of memory\n");
		return;
	}
	t = (time_t)(s->published_ns / 1000000000u);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	if (rc == -ENOENT) {
		r->status = GW_CTL_NOT_FOUND;
		ctl_reply_lines(r, text);
	} else {
		gw_ctl_reply_printf(r, "Snapshot:  generation %" PRIu64
				    ", published %s (%s ago)\n\n", s->generation,
				    when, ctl_age(t, age, sizeof(age)));
		ctl_reply_lines(r, text);
	}
	free(text);
}

void
gatewayd_ctl_stats_text(const struct gatewayd *g, struct gw_admin_reply *r)
{
	struct gw_snapshot_stats ss;
	const struct gw_snapshot *s;

	if (g->snapshots != NULL) {
		gw_snapshot_stats_get(g->snapshots, &ss);
		s = gw_snapshot_peek(g->snapshots);
#define S(name, v) gw_admin_reply_printf(r, "snapshot.%s %" PRIu64 "\n", name, \
					 (uint64_t)(v))
		S("generation", ss.generation);
		S("published", ss.published);
		S("reclaimed", ss.reclaimed);
		S("retired", ss.retired);
		S("held", ss.held);
		S("refused", ss.refused);
		if (s != NULL) {
			S("routes", gw_route_snapshot_route_count(s->routes));
			S("clusters", gw_route_snapshot_cluster_count(s->routes));
			S("listeners", gw_route_snapshot_listener_count(s->routes));
			S("virtual_hosts", gw_route_snapshot_vhost_count(s->routes));
			S("memory_bytes", gw_route_snapshot_memory(s->routes));
		}
#undef S
	}
	if (g->ctl != NULL) {
		struct gw_ctl_stats cs;

		gw_ctl_stats_get(g->ctl, &cs);
#define C(name) gw_admin_reply_printf(r, "control.%s %" PRIu64 "\n", #name, \
				      (uint64_t)cs.name)
		C(clients); C(accepted); C(requests); C(errors);
		C(refused_permission); C(refused_busy); C(malformed);
		C(oversized); C(truncated); C(timeouts);
#undef C
	}
	if (g->ctl_state != NULL) {
		gw_admin_reply_printf(r, "control.changes %" PRIu64 "\n",
				      g->ctl_state->changes);
		gw_admin_reply_printf(r, "control.changes_rejected %" PRIu64 "\n",
				      g->ctl_state->rejected);
		gw_admin_reply_printf(r, "control.dry_runs %" PRIu64 "\n",
				      g->ctl_state->dry_runs);
		gw_admin_reply_printf(r, "control.slow_switches %" PRIu64 "\n",
				      g->ctl_state->slow_switches);
	}
	gw_admin_reply_printf(r, "control.resources %u\n",
			      gw_model_store_count(g->store, GW_MODEL_KIND_COUNT));
}

/* One unlabelled sample with its HELP and TYPE lines. */
static void
prom_one(FILE *f, const char *name, const char *type, const char *help,
	 uint64_t v)
{
	gw_prom_family(f, name, type, help);
	gw_prom_sample(f, name, NULL, 0, v);
}

void
gatewayd_ctl_stats_prometheus(const struct gatewayd *g, FILE *f)
{
	if (g->snapshots != NULL) {
		struct gw_snapshot_stats ss;
		const struct gw_snapshot *s = gw_snapshot_peek(g->snapshots);

		gw_snapshot_stats_get(g->snapshots, &ss);
		prom_one(f, "gateway_snapshot_generation", "gauge",
			 "Generation of the routing snapshot in force.", ss.generation);
		prom_one(f, "gateway_snapshot_published_total", "counter",
			 "Routing snapshots published to the workers.", ss.published);
		prom_one(f, "gateway_snapshot_reclaimed_total", "counter",
			 "Retired snapshots freed after their grace period.",
			 ss.reclaimed);
		prom_one(f, "gateway_snapshot_retired", "gauge",
			 "Retired snapshots waiting for their grace period.",
			 ss.retired);
		prom_one(f, "gateway_snapshot_held", "gauge",
			 "Retired snapshots still held by a request in flight.",
			 ss.held);
		prom_one(f, "gateway_snapshot_refused_total", "counter",
			 "Publications refused: too many retired snapshots.",
			 ss.refused);
		if (s != NULL) {
			prom_one(f, "gateway_snapshot_routes", "gauge",
				 "Routes of the snapshot in force.",
				 gw_route_snapshot_route_count(s->routes));
			prom_one(f, "gateway_snapshot_clusters", "gauge",
				 "Clusters of the snapshot in force.",
				 gw_route_snapshot_cluster_count(s->routes));
			prom_one(f, "gateway_snapshot_memory_bytes", "gauge",
				 "Memory of the snapshot in force.",
				 gw_route_snapshot_memory(s->routes));
		}
	}
	if (g->ctl != NULL) {
		struct gw_ctl_stats cs;

		gw_ctl_stats_get(g->ctl, &cs);
		prom_one(f, "gateway_control_clients", "gauge",
			 "gwctl connections now.", cs.clients);
#define C(name, help) prom_one(f, "gateway_control_" #name "_total", "counter", \
			       help, cs.name)
		C(accepted, "Control socket connections served.");
		C(requests, "Control requests answered.");
		C(errors, "Control requests answered with an error.");
		C(refused_permission, "Control connections refused: not root nor in control.group.");
		C(refused_busy, "Control connections refused: too many clients.");
		C(malformed, "Control frames that did not decode.");
		C(oversized, "Control frames above the size limit.");
		C(truncated, "Control connections that ended mid-frame.");
		C(timeouts, "Control clients dropped for silence.");
#undef C
	}
	if (g->ctl_state != NULL) {
		const struct gatewayd_ctl_state *st = g->ctl_state;

		prom_one(f, "gateway_control_changes_total", "counter",
			 "Applies and deletes published.", st->changes);
		prom_one(f, "gateway_control_changes_rejected_total", "counter",
			 "Applies and deletes refused.", st->rejected);
		prom_one(f, "gateway_control_dry_runs_total", "counter",
			 "Dry-run applies and deletes.", st->dry_runs);
		prom_one(f, "gateway_control_slow_switches_total", "counter",
			 "Changes the workers took more than 200 ms to switch to.",
			 st->slow_switches);
		gw_prom_family(f, "gateway_control_apply_duration_milliseconds",
			       "histogram", "Published changes, from compile to "
			       "every worker on the new rules.");
		gw_prom_histogram(f, "gateway_control_apply_duration_milliseconds",
				  NULL, 0, &st->apply_latency);
		gw_prom_family(f, "gateway_control_last_apply_duration_milliseconds",
			       "gauge", "The last published change, from compile "
			       "to every worker on the new rules.");
		fprintf(f, "gateway_control_last_apply_duration_milliseconds %"
			PRIu64 ".%03u\n", st->last_apply_us / 1000,
			(unsigned int)(st->last_apply_us % 1000));
	}
	prom_one(f, "gateway_control_resources", "gauge",
		 "Istio resources applied.",
		 gw_model_store_count(g->store, GW_MODEL_KIND_COUNT));
}

/*
 * The admin /stats page's text (through its own handler, so the two can
 * never differ), then the control plane's counters unless the page already
 * carries them. `-o prometheus`: the /stats/prometheus text.
 */
static void
cmd_stats(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	struct gatewayd *g = ctx;
	struct gw_admin_reply ar = { .status = 200 };
	struct ctl_args a;

	if (ctl_parse_args(req, ARG_OUTPUT, &a, r) < 0)
		return;
	if (a.n_pos > 0) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST,
				   "error: stats takes no argument\n");
		return;
	}
	if (a.output != NULL && strcmp(a.output, "prometheus") == 0) {
		char *text;
		size_t len;

		if (gatewayd_prometheus_text(g, &text, &len) != 0) {
			gw_ctl_reply_error(r, GW_CTL_INTERNAL,
					   "error: out of memory\n");
			return;
		}
		gw_ctl_reply_append(r, text, len);
		free(text);
		return;
	}
	if (a.output != NULL && strcmp(a.output, "text") != 0) {
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: unknown output "
				   "format \"%s\" (text or prometheus)\n",
				   a.output);
		return;
	}
	for (unsigned int i = 0; g->dp != NULL && i < gatewayd_admin_n_routes; i++)
		if (strcmp(gatewayd_admin_routes[i].path, "/stats") == 0)
			gatewayd_admin_routes[i].handler(g, "", NULL, 0, &ar);
	if (ar.body == NULL || (strncmp(ar.body, "snapshot.generation ", 20) != 0 &&
				strstr(ar.body, "\nsnapshot.generation ") == NULL))
		gatewayd_ctl_stats_text(g, &ar);
	if (ar.body != NULL)
		gw_ctl_reply_append(r, ar.body, ar.len);
	free(ar.body);
}

static void
cmd_version(void *ctx, const struct gw_ctl_request *req, struct gw_ctl_reply *r)
{
	struct gatewayd *g = ctx;
	char age[24];

	(void)req;
	gw_ctl_reply_printf(r, "gatewayd version %s (pid %d, up %s, snapshot "
			    "generation %" PRIu64 ")\n", GW_VERSION, (int)getpid(),
			    ctl_age(g->ctl_state->started, age, sizeof(age)),
			    generation(g));
}

static const struct gw_ctl_command ctl_commands[] = {
	{ "apply", "apply -f FILE|DIR|- [--dry-run]",
	  "create or update resources, all or nothing", cmd_apply },
	{ "delete", "delete (-f FILE|DIR|- | KIND NAME...) [-n NS]",
	  "delete resources [--ignore-not-found] [--dry-run]", cmd_delete },
	{ "get", "get KIND[,KIND] [NAME] [-n NS] [-o yaml|json|name]",
	  "list resources, or show one", ctl_cmd_get },
	{ "get endpoints", "get endpoints [HOST] [-o json]",
	  "endpoints of every cluster, with their health", ctl_cmd_get_endpoints },
	{ "describe route", "describe route HOST",
	  "the compiled routes, clusters and endpoints for a host",
	  cmd_describe_route },
	{ "stats", "stats [-o text|prometheus]",
	  "counters, as on the admin /stats (or /stats/prometheus) page",
	  cmd_stats },
	{ "version", "version", "gatewayd's version and snapshot generation",
	  cmd_version },
};

/* ------------------------------------------------------------------ */
/* Module                                                              */

int
gatewayd_ctl_init(struct gatewayd *g, char *err, size_t err_len)
{
	struct gw_ctl_params p = {
		.path = g->cfg.control_socket,
		.group = g->cfg.control_group,
		.commands = ctl_commands,
		.n_commands = GW_ARRAY_SIZE(ctl_commands),
		.ctx = g,
	};

	if (g->store == NULL || g->snapshots == NULL)
		return gw_err(err, err_len, "control: no store or snapshots");
	g->ctl_state = calloc(1, sizeof(*g->ctl_state));
	if (g->ctl_state == NULL)
		return gw_err(err, err_len, "control: out of memory");
	g->ctl_state->started = time(NULL);
	ctl_meta_init(g->ctl_state, g->store, generation(g));
	g->ctl = gw_ctl_create(&p, err, err_len);
	if (g->ctl == NULL) {
		ctl_meta_free(g->ctl_state);
		free(g->ctl_state);
		g->ctl_state = NULL;
		return -GW_EMODULE;
	}
	return 0;
}

void
gatewayd_ctl_poll(struct gatewayd *g)
{
	if (g->ctl != NULL)
		gw_ctl_poll(g->ctl);
	if (g->snapshots != NULL)
		gw_snapshot_reclaim(g->snapshots);
}

void
gatewayd_ctl_term(struct gatewayd *g)
{
	gw_ctl_free(g->ctl);
	g->ctl = NULL;
	if (g->ctl_state != NULL) {
		ctl_meta_free(g->ctl_state);
		free(g->ctl_state);
		g->ctl_state = NULL;
	}
}
