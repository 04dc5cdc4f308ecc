/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gatewayd: reads the bootstrap, brings modules up in order (EAL, mbuf pool,
 * ports, data plane, workers, admin, signals), prints one "ready" line, then
 * runs the control loop on the main lcore until SIGINT/SIGTERM, and takes
 * the modules down in reverse order.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "gw_common.h"
#include "accesslog.h"
#include "gatewayd.h"
#include "ctl.h"
#include "telemetry.h"

volatile sig_atomic_t gatewayd_stop;

#define GATEWAYD_MBUF_CACHE 256
#define GATEWAYD_CONTROL_PERIOD_US 1000
/* while the shadow engine has work: it must keep up with the workers */
#define GATEWAYD_CONTROL_BUSY_US 20

/* ---- module: eal ---- */

static int
eal_arg(struct gatewayd *g, char *arg)
{
	if (g->eal_argc >= GATEWAYD_MAX_EAL_ARGS - 1)
		return -ENOSPC;
	g->eal_argv[g->eal_argc++] = arg;
	return 0;
}

static int
eal_init(struct gatewayd *g, char *err, size_t err_len)
{
	static char lcores[512], main_lcore[16], prog[] = "gatewayd";
	const struct gw_config *cfg = &g->cfg;
	int n, rc;

	/* Lcore ids are logical: each runs on CPU (id mod online CPUs), so a
	 * 2-worker test profile also runs on a 2-core machine (--lcores id@cpu). */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int ids[GW_CONFIG_MAX_WORKERS + 2], n_ids = 0;

	if (ncpu < 1)
		ncpu = 1;
	ids[n_ids++] = cfg->control_lcore;
	for (unsigned int i = 0; i < cfg->n_workers; i++)
		ids[n_ids++] = cfg->worker_lcores[i];
	if (cfg->has_shadow_lcore)
		ids[n_ids++] = cfg->shadow_lcore;
	n = 0;
	for (unsigned int i = 0; i < n_ids; i++) {
		unsigned int cpu = ids[i] % (unsigned int)ncpu;

		if (cpu != ids[i])
			fprintf(stderr, "gatewayd: lcore %u runs on CPU %u (%ld CPUs online)\n",
				ids[i], cpu, ncpu);
		n += snprintf(lcores + n, sizeof(lcores) - (size_t)n, "%s%u@%u",
			      i ? "," : "", ids[i], cpu);
	}
	snprintf(main_lcore, sizeof(main_lcore), "%u", cfg->control_lcore);

	g->eal_argc = 0;
	eal_arg(g, prog);
	eal_arg(g, "--lcores");
	eal_arg(g, lcores);
	eal_arg(g, "--main-lcore");
	eal_arg(g, main_lcore);
	for (unsigned int i = 0; i < cfg->n_eal_args; i++)
		eal_arg(g, cfg->eal_args[i]);
	if (g->eal_extra != NULL) {
		char *save = NULL;

		g->eal_extra_copy = strdup(g->eal_extra);
		for (char *t = strtok_r(g->eal_extra_copy, " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save))
			if (eal_arg(g, t) != 0)
				return gw_err(err, err_len, "too many EAL arguments");
	}
	rc = gw_port_eal_args(cfg, g->eal_argv, g->eal_argc,
			      GATEWAYD_MAX_EAL_ARGS - 1);
	if (rc < 0)
		return gw_err(err, err_len, "too many EAL arguments");
	g->eal_argc = rc;
	g->eal_argv[g->eal_argc] = NULL;

	rc = rte_eal_init(g->eal_argc, g->eal_argv);
	if (rc < 0)
		return gw_err(err, err_len, "rte_eal_init failed: %s",
			      rte_strerror(rte_errno));
	return 0;
}

static void
eal_term(struct gatewayd *g)
{
	(void)g;
	rte_eal_cleanup();
}

/* ---- module: mempool ---- */

static int
mempool_init(struct gatewayd *g, char *err, size_t err_len)
{
	g->pool = gw_port_pool_create(&g->cfg, "gw_mbufs", g->cfg.mbufs,
				      GATEWAYD_MBUF_CACHE, err, err_len);
	if (g->pool == NULL)
		return -1;
	return 0;
}

static void
mempool_term(struct gatewayd *g)
{
	rte_mempool_free(g->pool);
	g->pool = NULL;
}

/* ---- module: ports ---- */

static int
ports_init(struct gatewayd *g, char *err, size_t err_len)
{
	return gw_port_open_all(&g->cfg, (uint16_t)g->cfg.n_workers, g->pool,
				g->ports, err, err_len);
}

static void
ports_term(struct gatewayd *g)
{
	gw_port_close_all(g->ports, g->cfg.n_ports);
}

/* ---- module: istio (preloaded resources and the first snapshot) ---- */

static int
istio_init(struct gatewayd *g, char *err, size_t err_len)
{
	uint16_t ports[GW_CONFIG_MAX_LISTENERS];
	enum gw_route_protocol protocols[GW_CONFIG_MAX_LISTENERS];
	struct gw_route_build_params params;
	struct gw_model_set *set;
	int rc = 0;

	g->store = gw_model_store_create();
	set = gw_model_set_create();
	if (g->store == NULL || set == NULL) {
		gw_model_set_free(set);
		return gw_err(err, err_len, "out of memory");
	}
	/* All preload files form one all-or-nothing batch, like one apply. */
	for (unsigned int i = 0; i < g->cfg.n_preload && rc >= 0; i++)
		rc = gw_model_set_load_file(set, g->cfg.preload[i], err, err_len);
	if (rc >= 0)
		rc = gw_model_store_apply(g->store, set, err, err_len);
	gw_model_set_free(set);
	if (rc < 0)
		return rc;

	/* Saved state (control.state_dir) applies on top of the preload. */
	rc = gatewayd_state_load(g, err, err_len);
	if (rc < 0)
		return rc;
	gatewayd_route_params(g, &params, ports, protocols);
	g->snapshot = gw_route_snapshot_build(g->store, &params, err, err_len);
	return g->snapshot == NULL ? -GW_ECONFIG : 0;
}

static void
istio_term(struct gatewayd *g)
{
	gw_route_snapshot_free(g->snapshot);
	g->snapshot = NULL;
	gw_model_store_free(g->store);
	g->store = NULL;
}

/* ---- module: dataplane (neighbour table, worker state, rings) ---- */

static int
dataplane_init(struct gatewayd *g, char *err, size_t err_len)
{
	g->dp = gw_dataplane_create(&g->cfg, g->ports, g->pool, g->snapshots,
				    err, err_len);
	return g->dp == NULL ? -GW_EMODULE : 0;
}

static void
dataplane_term(struct gatewayd *g)
{
	gw_dataplane_free(g->dp);
	g->dp = NULL;
}

/* ---- module: workers ---- */

static int
workers_init(struct gatewayd *g, char *err, size_t err_len)
{
	int rc = gw_dataplane_launch(g->dp);

	if (rc != 0)
		return gw_err(err, err_len, "cannot launch workers: %s",
			      strerror(-rc));
	/* Learn the next hops we already know we will need. */
	for (unsigned int i = 0; i < g->cfg.n_ports; i++)
		if (g->cfg.ports[i].has_gateway)
			gw_dataplane_neigh_resolve(g->dp, i,
						   g->cfg.ports[i].gateway.s_addr);
	return 0;
}

static void
workers_term(struct gatewayd *g)
{
	gw_dataplane_stop(g->dp);
}

/* ---- module: admin ---- */

static int
admin_init(struct gatewayd *g, char *err, size_t err_len)
{
	if (!g->cfg.admin_enabled)
		return 0;
	g->admin = gw_admin_create(g->cfg.admin_address, g->cfg.admin_port,
		gatewayd_admin_routes, gatewayd_admin_n_routes, g, err, err_len);
	return g->admin == NULL ? -GW_EMODULE : 0;
}

static void
admin_term(struct gatewayd *g)
{
	gw_admin_free(g->admin);
	g->admin = NULL;
}

/* ---- module: signals ---- */

static void
on_stop_signal(int sig)
{
	(void)sig;
	gatewayd_stop = 1;
}

static int
signals_init(struct gatewayd *g, char *err, size_t err_len)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, &g->old_int) != 0 ||
	    sigaction(SIGTERM, &sa, &g->old_term) != 0)
		return gw_err(err, err_len, "sigaction: %s", strerror(errno));
	return 0;
}

static void
signals_term(struct gatewayd *g)
{
	sigaction(SIGINT, &g->old_int, NULL);
	sigaction(SIGTERM, &g->old_term, NULL);
}

/* Brought up in this order, taken down in reverse. */
static const struct gatewayd_module {
	const char *name;
	int (*init)(struct gatewayd *g, char *err, size_t err_len);
	void (*term)(struct gatewayd *g);
} gatewayd_modules[] = {
	{ "signals",   signals_init,   signals_term },   /* first: a stop during init is seen */
	{ "eal",       eal_init,       eal_term },
	{ "mempool",   mempool_init,   mempool_term },
	{ "istio",     istio_init,     istio_term },     /* before ports: bad rules touch no device */
	{ "snapshots", gatewayd_snapshots_init, gatewayd_snapshots_term }, /* publishes generation 1 */
	{ "ports",     ports_init,     ports_term },
	{ "dataplane", dataplane_init, dataplane_term },
	/* before workers: pdump stops after them, so no capture callback runs on */
	{ "telemetry", gatewayd_telemetry_init, gatewayd_telemetry_term },
	{ "workers",   workers_init,   workers_term },
	{ "admin",     admin_init,     admin_term },
	{ "control",   gatewayd_ctl_init, gatewayd_ctl_term }, /* gwctl's socket */
};

static void
modules_term(struct gatewayd *g, int n_up)
{
	for (int i = n_up - 1; i >= 0; i--)
		gatewayd_modules[i].term(g);
}

static int
modules_init(struct gatewayd *g)
{
	char err[GW_ERR_LEN];

	for (size_t i = 0; i < GW_ARRAY_SIZE(gatewayd_modules); i++) {
		err[0] = '\0';
		int rc = gatewayd_modules[i].init(g, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "gatewayd: module %s failed: %s\n",
				gatewayd_modules[i].name,
				err[0] ? err : gw_strerror(rc));
			/* Ports being configured are closed too. */
			if (strcmp(gatewayd_modules[i].name, "ports") == 0)
				ports_term(g);
			modules_term(g, (int)i);
			return rc;
		}
	}
	return 0;
}

static void
print_ready(const struct gatewayd *g)
{
	char mac[18], roles[64];

	printf("gatewayd ready:");
	for (unsigned int i = 0; i < g->cfg.n_ports; i++) {
		const struct gw_port *p = &g->ports[i];
		struct in_addr a = { .s_addr = p->iface.addr };

		printf("%s %s %s %s/%u (%s)", i ? ";" : "", p->name,
		       gw_port_mac_str(p->iface.mac, mac), inet_ntoa(a),
		       p->iface.prefix_len,
		       gw_config_roles_str(p->roles, roles, sizeof(roles)));
	}
	printf("; workers %u", g->cfg.n_workers);
	if (g->admin != NULL)
		printf("; admin http://%s:%u/", inet_ntoa(g->cfg.admin_address),
		       gw_admin_port(g->admin));
	printf("\n");
	fflush(stdout);
}

static void
control_loop(struct gatewayd *g)
{
	while (!gatewayd_stop) {
		bool busy;

		gw_dataplane_control_poll(g->dp);
		busy = gw_dataplane_shadow_poll(g->dp);
		gatewayd_accesslog_drain(g);
		if (g->admin != NULL)
			gw_admin_poll(g->admin);
		gatewayd_ctl_poll(g);
		usleep(busy ? GATEWAYD_CONTROL_BUSY_US : GATEWAYD_CONTROL_PERIOD_US);
	}
}

static void
usage(FILE *out)
{
	fprintf(out,
		"gatewayd: userspace Istio ingress gateway on DPDK\n\n"
		"Usage: gatewayd -c BOOTSTRAP.yaml [--eal-extra \"ARGS\"] [--check]\n\n"
		"  -c, --config FILE     bootstrap configuration (see drivers-config/)\n"
		"      --eal-extra ARGS  extra EAL arguments, space separated\n"
		"                        (e.g. \"--no-huge -m 1024\")\n"
		"      --check           validate the bootstrap and its Istio preload\n"
		"                        files, then exit\n"
		"  -V, --version         print the version\n"
		"  -h, --help            show this help\n");
}

int
main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "eal-extra", required_argument, NULL, 'E' },
		{ "check", no_argument, NULL, 'K' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct gatewayd g;
	const char *config_path = NULL;
	char err[GW_ERR_LEN];
	bool check_only = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:Vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'E': g.eal_extra = optarg; break;
		case 'K': check_only = true; break;
		case 'V': printf("gatewayd version %s\n", GW_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (config_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Every configuration error is reported before any device is touched. */
	if (gw_config_load_file(&g.cfg, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "gatewayd: %s\n", err);
		return 2;
	}
	if (check_only) {
		/* The preloaded Istio resources are checked too, without EAL. */
		rc = istio_init(&g, err, sizeof(err));
		istio_term(&g);
		if (rc != 0) {
			fprintf(stderr, "gatewayd: %s\n", err);
			gw_config_free(&g.cfg);
			return 2;
		}
		printf("%s: ok (%u ports, %u workers, %u Istio files)\n",
		       config_path, g.cfg.n_ports, g.cfg.n_workers,
		       g.cfg.n_preload);
		gw_config_free(&g.cfg);
		return 0;
	}

	rc = modules_init(&g);
	if (rc == 0) {
		print_ready(&g);
		control_loop(&g);
		printf("gatewayd: stopping\n");
		fflush(stdout);
		modules_term(&g, (int)GW_ARRAY_SIZE(gatewayd_modules));
	}
	free(g.eal_extra_copy);
	gw_config_free(&g.cfg);
	return rc == 0 ? 0 : 1;
}
