/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The change pipeline behind `gwctl apply` and `gwctl delete`:
 *
 *   validate (the model, in the caller) -> compile a new snapshot on the
 *   control lcore -> save the state -> publish by pointer -> grace period
 *   -> free the old snapshot (later, from the control loop)
 *
 * with the store rolled back whenever a step fails, so that a rejected
 * change leaves the running configuration exactly as it was. Also the
 * snapshot publisher's set-up, the saved state (control.state_dir), and the
 * per-resource bookkeeping `get` shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <rte_cycles.h>

#include "gw_common.h"
#include "gw_snapshot.h"
#include "gatewayd.h"
#include "ctl.h"
#include "ctl_private.h"

/* How long an apply waits for every worker to route with the new rules. */
#define CTL_SWITCH_WAIT_US 200000
#define CTL_STATE_FILE "resources.yaml"
#define CTL_STATE_TMP  ".resources.yaml.tmp"

/* ------------------------------------------------------------------ */
/* Bookkeeping                                                         */

static int
meta_cmp(const struct ctl_meta *m, enum gw_model_kind kind, const char *ns,
	 const char *name)
{
	int c;

	if (m->kind != kind)
		return m->kind < kind ? -1 : 1;
	c = strcmp(m->namespace, ns);
	return c != 0 ? c : strcmp(m->name, name);
}

/* Index of the entry, or where it would go (*found false). */
static uint32_t
meta_search(const struct gatewayd_ctl_state *st, enum gw_model_kind kind,
	    const char *ns, const char *name, bool *found)
{
	uint32_t lo = 0, hi = st->n_meta;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = meta_cmp(&st->meta[mid], kind, ns, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct ctl_meta *
ctl_meta_find(const struct gatewayd_ctl_state *st, enum gw_model_kind kind,
	      const char *ns, const char *name)
{
	bool found;
	uint32_t i = meta_search(st, kind, ns, name, &found);

	return found ? &st->meta[i] : NULL;
}

/* Bookkeeping is best effort: out of memory, `get` shows "-" for it. */
static void
meta_touch(struct gatewayd_ctl_state *st, enum gw_model_kind kind,
	   const char *ns, const char *name, uint64_t generation, time_t now)
{
	bool found;
	uint32_t i = meta_search(st, kind, ns, name, &found);
	struct ctl_meta m;

	if (found) {
		st->meta[i].generation = generation;
		return;
	}
	if (st->n_meta == st->cap_meta) {
		uint32_t cap = st->cap_meta ? st->cap_meta * 2 : 64;
		struct ctl_meta *a = realloc(st->meta, cap * sizeof(*a));

		if (a == NULL)
			return;
		st->meta = a;
		st->cap_meta = cap;
	}
	m.kind = kind;
	m.namespace = strdup(ns);
	m.name = strdup(name);
	m.generation = generation;
	m.created = now;
	if (m.namespace == NULL || m.name == NULL) {
		free(m.namespace);
		free(m.name);
		return;
	}
	memmove(&st->meta[i + 1], &st->meta[i],
		(st->n_meta - i) * sizeof(st->meta[0]));
	st->meta[i] = m;
	st->n_meta++;
}

void
ctl_meta_applied(struct gatewayd_ctl_state *st, const struct gw_model_set *set,
		 uint64_t generation)
{
	time_t now = time(NULL);

	for (uint32_t i = 0; i < gw_model_set_count(set); i++) {
		const struct gw_model_resource *r = gw_model_set_at(set, i);
		enum gw_model_action a = gw_model_set_action(set, i);

		if (a == GW_MODEL_ACTION_CREATED ||
		    a == GW_MODEL_ACTION_CONFIGURED)
			meta_touch(st, r->kind, r->meta.namespace, r->meta.name,
				   generation, now);
	}
}

void
ctl_meta_deleted(struct gatewayd_ctl_state *st, enum gw_model_kind kind,
		 const char *ns, const char *name)
{
	bool found;
	uint32_t i = meta_search(st, kind, ns != NULL ? ns :
				 GW_MODEL_DEFAULT_NAMESPACE, name, &found);

	if (!found)
		return;
	free(st->meta[i].namespace);
	free(st->meta[i].name);
	memmove(&st->meta[i], &st->meta[i + 1],
		(st->n_meta - i - 1) * sizeof(st->meta[0]));
	st->n_meta--;
}

void
ctl_meta_init(struct gatewayd_ctl_state *st, const struct gw_model_store *store,
	      uint64_t generation)
{
	time_t now = time(NULL);

	for (uint32_t i = 0; i < gw_model_store_count(store, GW_MODEL_KIND_COUNT);
	     i++) {
		const struct gw_model_resource *r =
			gw_model_store_at(store, GW_MODEL_KIND_COUNT, i);

		meta_touch(st, r->kind, r->meta.namespace, r->meta.name,
			   generation, now);
	}
}

void
ctl_meta_free(struct gatewayd_ctl_state *st)
{
	for (uint32_t i = 0; i < st->n_meta; i++) {
		free(st->meta[i].namespace);
		free(st->meta[i].name);
	}
	free(st->meta);
	st->meta = NULL;
	st->n_meta = st->cap_meta = 0;
}

const char *
ctl_age(time_t since, char *buf, size_t len)
{
	long s = (long)(time(NULL) - since);

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%lds", s);
	else if (s < 600)
		snprintf(buf, len, "%ldm%lds", s / 60, s % 60);
	else if (s < 3 * 3600)
		snprintf(buf, len, "%ldm", s / 60);
	else if (s < 8 * 3600)
		snprintf(buf, len, "%ldh%ldm", s / 3600, s / 60 % 60);
	else if (s < 48 * 3600)
		snprintf(buf, len, "%ldh", s / 3600);
	else if (s < 8 * 86400)
		snprintf(buf, len, "%ldd%ldh", s / 86400, s / 3600 % 24);
	else
		snprintf(buf, len, "%ldd", s / 86400);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */

void
gatewayd_route_params(const struct gatewayd *g,
		      struct gw_route_build_params *params, uint16_t *ports,
		      enum gw_route_protocol *protocols)
{
	memset(params, 0, sizeof(*params));
	for (unsigned int i = 0; i < g->cfg.n_listeners; i++) {
		ports[i] = g->cfg.listeners[i].port;
		protocols[i] = g->cfg.listeners[i].protocol == GW_PROTO_TCP ?
			GW_ROUTE_PROTOCOL_TCP : GW_ROUTE_PROTOCOL_HTTP;
	}
	params->listener_ports = ports;
	params->listener_protocols = protocols;
	params->n_listener_ports = g->cfg.n_listeners;
	params->n_workers = g->cfg.n_workers;
	params->seed = rte_rdtsc();
}

int
gatewayd_snapshots_init(struct gatewayd *g, char *err, size_t err_len)
{
	int rc;

	g->snapshots = gw_snapshot_pub_create(g->cfg.n_workers, 0, err,
					      err_len);
	if (g->snapshots == NULL)
		return -GW_EMODULE;
	if (g->snapshot == NULL)
		return 0;
	rc = gw_snapshot_publish(g->snapshots, g->snapshot, NULL);
	if (rc < 0) {
		gw_snapshot_pub_free(g->snapshots);
		g->snapshots = NULL;
		return gw_err(err, err_len, "cannot publish the first snapshot: %s",
			      strerror(-rc));
	}
	g->snapshot = NULL;     /* the publisher owns it now */
	return 0;
}

void
gatewayd_snapshots_term(struct gatewayd *g)
{
	if (g->snapshots == NULL)
		return;
	gw_snapshot_pub_free(g->snapshots);
	g->snapshots = NULL;
}

/* ------------------------------------------------------------------ */
/* Saved state                                                         */

static int
state_path(const struct gatewayd *g, const char *file, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", g->cfg.control_state_dir, file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Every resource of the store as one multi-document YAML file, written
 * beside the old one and renamed over it, with fsyncs so that after a
 * crash the file is the old or the new state, whole.
 */
int
ctl_state_save(const struct gatewayd *g, char *err, size_t err_len)
{
	char path[PATH_MAX], tmp[PATH_MAX], head[256];
	const char *dir = g->cfg.control_state_dir;
	uint32_t n = gw_model_store_count(g->store, GW_MODEL_KIND_COUNT);
	int fd, dfd, rc = 0;

	if (dir[0] == '\0')
		return 0;
	if (state_path(g, CTL_STATE_FILE, path, sizeof(path)) < 0 ||
	    state_path(g, CTL_STATE_TMP, tmp, sizeof(tmp)) < 0)
		return gw_err(err, err_len, "control.state_dir: path too long");
	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return gw_err(err, err_len, "control.state_dir: cannot create %s: %s",
			      dir, strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return gw_err(err, err_len, "control.state_dir: cannot write %s: %s",
			      tmp, strerror(errno));
	snprintf(head, sizeof(head),
		 "# gatewayd saved state: the Istio resources applied through "
		 "the control socket\n# (%u resources). Loaded at start after "
		 "istio.preload; written by gatewayd.\n", n);
	rc = write_all(fd, head, strlen(head));
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		const struct gw_model_resource *r =
			gw_model_store_at(g->store, GW_MODEL_KIND_COUNT, i);
		char *yaml = NULL;
		size_t len = 0;

		rc = gw_model_resource_to_yaml(r, &yaml, &len);
		if (rc == 0)
			rc = write_all(fd, "---\n", 4);
		if (rc == 0)
			rc = write_all(fd, yaml, len);
		free(yaml);
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return gw_err(err, err_len, "control.state_dir: cannot save %s: %s",
			      path, strerror(-rc));
	}
	/* The rename itself must reach the disk too. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int
gatewayd_state_load(struct gatewayd *g, char *err, size_t err_len)
{
	char path[PATH_MAX], msg[GW_ERR_LEN];
	struct gw_model_set *set;
	int rc;

	if (g->cfg.control_state_dir[0] == '\0')
		return 0;
	if (state_path(g, CTL_STATE_FILE, path, sizeof(path)) < 0)
		return gw_err(err, err_len, "control.state_dir: path too long");
	if (access(path, F_OK) != 0)
		return 0;       /* nothing saved yet */
	set = gw_model_set_create();
	if (set == NULL)
		return gw_err(err, err_len, "out of memory");
	msg[0] = '\0';
	rc = gw_model_set_load_file(set, path, msg, sizeof(msg));
	if (rc >= 0)
		rc = gw_model_store_apply(g->store, set, msg, sizeof(msg));
	gw_model_set_free(set);
	if (rc < 0)
		return gw_err(err, err_len, "control.state_dir: %s (fix or remove "
			      "the saved state)", msg);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Publish or roll back                                                */

static void
rollback(struct gw_model_store_txn *txn, struct gw_ctl_reply *r)
{
	char err[GW_ERR_LEN];

	/* Cannot fail while the store is kept consistent; say so loudly if it does. */
	if (gw_model_store_txn_rollback(txn, err, sizeof(err)) < 0)
		gw_ctl_reply_printf(r, "error: the rollback failed too: %s\n", err);
}

int
ctl_publish_change(struct gatewayd *g, struct gw_model_store_txn *txn,
		   bool dry_run, struct gw_ctl_reply *r, uint64_t *generation)
{
	struct gatewayd_ctl_state *st = g->ctl_state;
	uint16_t ports[GW_CONFIG_MAX_LISTENERS];
	enum gw_route_protocol protocols[GW_CONFIG_MAX_LISTENERS];
	struct gw_route_build_params params;
	struct gw_route_snapshot *snap;
	char err[GW_ERR_LEN];
	struct timespec t0, t1;
	uint64_t us;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	*generation = gw_snapshot_generation(g->snapshots);
	gatewayd_route_params(g, &params, ports, protocols);
	err[0] = '\0';
	snap = gw_route_snapshot_build(g->store, &params, err, sizeof(err));
	if (snap == NULL) {
		rollback(txn, r);
		gw_ctl_reply_error(r, GW_CTL_BAD_REQUEST, "error: %s\n",
				   err[0] ? err : "cannot compile the routing snapshot");
		return -1;
	}
	if (dry_run) {
		gw_route_snapshot_free(snap);
		rollback(txn, r);
		st->dry_runs++;
		return 0;
	}
	/* Saved before it is published: what runs is never ahead of the file. */
	if (ctl_state_save(g, err, sizeof(err)) < 0) {
		gw_route_snapshot_free(snap);
		rollback(txn, r);
		gw_ctl_reply_error(r, GW_CTL_INTERNAL, "error: %s\n", err);
		return -1;
	}
	/* ejected endpoints stay out from the first request on the new rules */
	if (g->dp != NULL)
		gw_outlier_apply(g->dp->outlier, snap);
	rc = gw_snapshot_publish(g->snapshots, snap, generation);
	if (rc < 0) {
		gw_route_snapshot_free(snap);
		rollback(txn, r);
		ctl_state_save(g, err, sizeof(err));  /* back to what runs */
		gw_ctl_reply_error(r, rc == -EBUSY ? GW_CTL_UNAVAILABLE :
				   GW_CTL_INTERNAL, "error: cannot publish the "
				   "new rules: %s\n", rc == -EBUSY ?
				   "earlier versions are still in use by a worker "
				   "that stopped reporting; try again" :
				   strerror(-rc));
		return -1;
	}
	gw_model_store_txn_commit(txn);
	st->changes++;
	/*
	 * "New requests see the new rules as soon as apply returns": every
	 * worker has passed a quiescent point since the swap, hence reads
	 * the new pointer, before the operator hears "configured".
	 */
	if (gw_snapshot_wait_seen(g->snapshots, CTL_SWITCH_WAIT_US) < 0)
		st->slow_switches++;
	/* Apply latency as the operator waits for it: rules in force. */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (uint64_t)(((int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 +
			 (t1.tv_nsec - t0.tv_nsec)) / 1000);
	st->last_apply_us = us;
	gw_metrics_hist_observe(&st->apply_latency, us);
	return 0;
}
