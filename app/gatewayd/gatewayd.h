/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GATEWAYD_H
#define GATEWAYD_H

/* State of the gatewayd process, shared by its module init/term functions
 * and the admin handlers. Lives on the control lcore. */

#include <stdbool.h>
#include <signal.h>

#include <rte_mempool.h>

#include "gw_admin.h"
#include "gw_config.h"
#include "gw_model.h"
#include "gw_port.h"
#include "gw_route.h"
#include "gw_worker.h"

#define GATEWAYD_MAX_EAL_ARGS 256

struct gw_snapshot_pub;
struct gw_ctl;
struct gatewayd_ctl_state;

struct gatewayd {
	struct gw_config cfg;
	const char *eal_extra;                 /**< --eal-extra, split on spaces */
	char *eal_extra_copy;
	int eal_argc;
	char *eal_argv[GATEWAYD_MAX_EAL_ARGS];
	struct rte_mempool *pool;
	struct gw_port ports[GW_CONFIG_MAX_PORTS];
	struct gw_model_store *store;          /**< applied Istio resources */
	struct gw_route_snapshot *snapshot;    /**< compiled from the store */
	struct gw_dataplane *dp;
	struct gw_admin *admin;
	struct sigaction old_int, old_term;
	/* control plane (app/gatewayd/ctl.h) */
	struct gw_snapshot_pub *snapshots;     /**< routing snapshots published to workers (RCU) */
	struct gw_ctl *ctl;                    /**< control socket for gwctl */
	struct gatewayd_ctl_state *ctl_state;  /**< control verbs' bookkeeping */
};

/** Set by SIGINT/SIGTERM; the control loop exits when it is set. */
extern volatile sig_atomic_t gatewayd_stop;

/** The admin listener's routes. */
extern const struct gw_admin_route gatewayd_admin_routes[];
extern const unsigned int gatewayd_admin_n_routes;

#endif /* GATEWAYD_H */
