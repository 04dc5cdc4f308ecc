/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GWCTL_VALIDATE_H
#define GWCTL_VALIDATE_H

struct gwctl_opts;

/*
 * gwctl validate -f FILE|DIR|- [-f ...]: check Istio resources offline,
 * as an apply would, with no gateway running. Returns the exit status.
 */
int gwctl_cmd_validate(const struct gwctl_opts *opts, int argc, char **argv);

#endif /* GWCTL_VALIDATE_H */
