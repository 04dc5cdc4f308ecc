/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GATEWAYD_CTL_H
#define GATEWAYD_CTL_H

/*
 * gatewayd's control plane: routing snapshot publication (RCU), the
 * control socket and its verbs (apply, delete, get, describe route, get
 * endpoints, stats, version), and the saved state (control.state_dir).
 *
 * Order in gatewayd's module table:
 *
 *   istio       builds g->store and the first snapshot; calls
 *               gatewayd_state_load() after the preload files, before
 *               the build (and gatewayd_route_params() for the build)
 *   snapshots   gatewayd_snapshots_init()/_term(): right after istio,
 *               before the data plane whose workers read g->snapshots
 *   ...
 *   control     gatewayd_ctl_init()/_term(): last, once the gateway
 *               serves (after admin)
 *
 * and gatewayd_ctl_poll() once per control loop iteration.
 * Control lcore only.
 */

#include <stddef.h>
#include <stdint.h>

#include "gw_admin.h"
#include "gw_config.h"
#include "gw_route.h"

struct gatewayd;

/**
 * Build parameters of a routing snapshot from the bootstrap (listener
 * ports and protocols, workers, a fresh seed): the same for the first
 * snapshot and for every apply.
 * @param ports, protocols  caller storage, GW_CONFIG_MAX_LISTENERS entries
 */
void gatewayd_route_params(const struct gatewayd *g,
			   struct gw_route_build_params *params,
			   uint16_t *ports, enum gw_route_protocol *protocols);

/**
 * Apply STATE_DIR/resources.yaml (control.state_dir) to g->store, as one
 * batch, on top of what is there. Nothing to do (0) when state_dir is not
 * set or the file does not exist yet.
 * @return 0, or -GW_ECONFIG with "control.state_dir: FILE:LINE:COL: ..."
 *         in @p err (a damaged state file stops the start: the operator
 *         decides, gatewayd does not silently drop the saved rules).
 */
int gatewayd_state_load(struct gatewayd *g, char *err, size_t err_len);

/**
 * Create g->snapshots for the workers and publish g->snapshot as
 * generation 1. The publisher then owns that snapshot: g->snapshot is set
 * to NULL, and the current one is gw_snapshot_peek(g->snapshots)->routes
 * (control lcore) or gw_snapshot_current(g->snapshots)->routes (workers).
 * @return 0, or a negative code with a message in @p err.
 */
int gatewayd_snapshots_init(struct gatewayd *g, char *err, size_t err_len);

/**
 * Free every snapshot; workers must have stopped (or gone offline).
 * NULL-safe on g->snapshots.
 */
void gatewayd_snapshots_term(struct gatewayd *g);

/**
 * Open the control socket (control.socket, control.group) and register the
 * verbs. Needs g->store and g->snapshots.
 * @return 0, or a negative code with a message in @p err.
 */
int gatewayd_ctl_init(struct gatewayd *g, char *err, size_t err_len);

/**
 * Serve the control socket and free retired snapshots whose grace period
 * is over. Never blocks for long: an apply builds a snapshot (the time it
 * takes to compile the rules) and waits at most 200 ms for the workers to
 * switch to it.
 */
void gatewayd_ctl_poll(struct gatewayd *g);

/** Close the control socket. NULL-safe on g->ctl. */
void gatewayd_ctl_term(struct gatewayd *g);

/**
 * Counters of the control plane, `NAME VALUE` per line (snapshot.*,
 * control.*), for the admin /stats page; `gwctl stats` appends them to
 * that page's text.
 */
void gatewayd_ctl_stats_text(const struct gatewayd *g,
			     struct gw_admin_reply *reply);

#endif /* GATEWAYD_CTL_H */
