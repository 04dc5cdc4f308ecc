/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GATEWAYD_ACCESSLOG_H
#define GATEWAYD_ACCESSLOG_H

#include "gatewayd.h"

/**
 * Control loop: write the workers' access-log records to the bootstrap's
 * `access_log` (appended; "" or "-" is stdout), opening it on first use.
 * Never blocks on a worker.
 */
void gatewayd_accesslog_drain(struct gatewayd *g);

#endif /* GATEWAYD_ACCESSLOG_H */
