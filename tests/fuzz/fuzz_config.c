/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the bootstrap configuration parser.
 *
 * Besides crashes, leaks and sanitizer reports, it checks the contract of
 * gw_config_load_buffer(): on success the invariants that later modules
 * rely on hold; on failure the message has the documented shape and
 * nothing is left allocated.
 *
 *   ./fuzz_config tests/fuzz/corpus/config
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.yaml"

static void
check_valid(const struct gw_config *cfg)
{
	unsigned int i, j;

	if (cfg->n_ports < 1 || cfg->n_ports > GW_CONFIG_MAX_PORTS ||
	    cfg->n_workers < 1 || cfg->n_workers > GW_CONFIG_MAX_WORKERS ||
	    cfg->n_listeners > GW_CONFIG_MAX_LISTENERS ||
	    cfg->n_eal_args > GW_CONFIG_MAX_EAL_ARGS ||
	    cfg->n_preload > GW_CONFIG_MAX_PRELOAD)
		abort();
	if (gw_config_port_with_role(cfg, GW_ROLE_DOWNSTREAM) < 0)
		abort();
	for (i = 0; i < cfg->n_workers; i++)
		if (cfg->worker_lcores[i] == cfg->control_lcore)
			abort();
	for (i = 0; i < cfg->n_eal_args; i++)
		if (cfg->eal_args[i] == NULL || cfg->eal_args[i][0] == '\0')
			abort();
	for (i = 0; i < cfg->n_ports; i++) {
		const struct gw_config_port *p = &cfg->ports[i];

		if (p->roles == 0 || p->prefix_len < 1 || p->prefix_len > 32 ||
		    p->n_neighbours > GW_CONFIG_MAX_NEIGHBOURS ||
		    memchr(p->name, '\0', sizeof(p->name)) == NULL ||
		    memchr(p->device, '\0', sizeof(p->device)) == NULL ||
		    p->name[0] == '\0' || p->device[0] == '\0')
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(cfg->ports[j].name, p->name) == 0 ||
			    cfg->ports[j].address.s_addr == p->address.s_addr)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_config cfg;    /* ~40 KB: keep it off the stack */
	char err[GW_ERR_LEN];
	int rc;

	err[0] = '\0';
	rc = gw_config_load_buffer(&cfg, NAME, (const char *)data, size,
				   err, sizeof(err));
	if (rc == 0) {
		check_valid(&cfg);
		gw_config_free(&cfg);
		if (cfg.n_eal_args != 0)
			abort();
		return 0;
	}
	/* "fuzz.yaml:LINE:COL: FIELD: reason", and nothing kept. */
	if (strncmp(err, NAME ":", sizeof(NAME)) != 0 ||
	    strchr(err, '\n') != NULL || cfg.n_eal_args != 0)
		abort();
	return 0;
}
