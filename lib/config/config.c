/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bootstrap configuration loader: the top-level schema, the checks across
 * sections, and the public API of gw_config.h.
 *
 * The file is loaded with libyaml's document API and walked against field
 * tables (config_walk.c); checks that involve several fields run once the
 * mapping holding them has been read, checks across sections once the
 * whole document has, so the outcome never depends on key order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "gw_common.h"
#include "gw_config.h"
#include "config_parse.h"

/* ------------------------------------------------------------------ */
/* eal                                                                 */

/*
 * The lcore options are built from the lcores section; a second source in
 * eal.args would let the EAL and the gateway disagree about the lcores.
 */
static bool
config_eal_arg_sets_lcores(const char *arg)
{
	return (arg[0] == '-' && (arg[1] == 'l' || arg[1] == 'c')) ||
		strncmp(arg, "--lcores", 8) == 0 ||
		strncmp(arg, "--main-lcore", 12) == 0 ||
		strncmp(arg, "--master-lcore", 14) == 0;
}

static int
config_eal_arg(struct config_parser *p, yaml_node_t *node, const char *field,
	       void *obj, unsigned int index)
{
	struct gw_config *cfg = obj;
	char shown[CONFIG_SHOW_LEN];
	char *arg;
	int rc;

	rc = config_check_string(p, node, field, 1, 4095);
	if (rc < 0)
		return rc;
	if (config_eal_arg_sets_lcores(config_text(node)))
		return CONFIG_ERR(p, node, field,
				  "\"%s\" selects lcores, which come from the lcores section",
				  config_show(shown, sizeof(shown),
					      config_text(node),
					      node->data.scalar.length));
	arg = strdup(config_text(node));
	if (arg == NULL)
		return config_error(p, &node->start_mark, field, -ENOMEM,
				    "out of memory");
	cfg->eal_args[index] = arg;
	cfg->n_eal_args = index + 1;
	return 0;
}

static int
config_eal_args(struct config_parser *p, yaml_node_t *node, const char *field,
		void *obj, const struct config_field *f)
{
	(void)f;
	return config_seq(p, node, field, false, GW_CONFIG_MAX_EAL_ARGS,
			  "EAL argument", config_eal_arg, obj);
}

static const struct config_field eal_fields[] = {
	FIELD("args", config_eal_args, false),
	FIELD_END
};

/* ------------------------------------------------------------------ */
/* lcores                                                              */

static int
config_worker_lcore(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, unsigned int index)
{
	struct gw_config *cfg = obj;
	unsigned int i;
	uint64_t lcore;
	int rc;

	rc = config_uint(p, node, field, 0, CONFIG_MAX_LCORE - 1, &lcore);
	if (rc < 0)
		return rc;
	for (i = 0; i < index; i++)
		if (cfg->worker_lcores[i] == lcore)
			return CONFIG_ERR(p, node, field,
					  "lcore %" PRIu64 " is listed twice",
					  lcore);
	cfg->worker_lcores[index] = (unsigned int)lcore;
	cfg->n_workers = index + 1;
	return 0;
}

static int
config_workers(struct config_parser *p, yaml_node_t *node, const char *field,
	       void *obj, const struct config_field *f)
{
	struct gw_config *cfg = obj;

	(void)f;
	cfg->n_workers = 0;     /* the list replaces the default */
	return config_seq(p, node, field, true, GW_CONFIG_MAX_WORKERS,
			  "worker lcore", config_worker_lcore, obj);
}

static int
config_shadow_lcore(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, const struct config_field *f)
{
	struct gw_config *cfg = obj;
	uint64_t lcore;
	int rc;

	(void)f;
	rc = config_uint(p, node, field, 0, CONFIG_MAX_LCORE - 1, &lcore);
	if (rc < 0)
		return rc;
	cfg->has_shadow_lcore = true;
	cfg->shadow_lcore = (unsigned int)lcore;
	return 0;
}

static const struct config_field lcores_fields[] = {
	FIELD_UINT("control", false, struct gw_config, control_lcore,
		   0, CONFIG_MAX_LCORE - 1),
	FIELD("workers", config_workers, false),
	FIELD("shadow", config_shadow_lcore, false),
	FIELD_END
};

static bool
config_is_worker(const struct gw_config *cfg, unsigned int lcore)
{
	unsigned int i;

	for (i = 0; i < cfg->n_workers; i++)
		if (cfg->worker_lcores[i] == lcore)
			return true;
	return false;
}

/* Control, workers and shadow each need an lcore of their own. */
static int
config_lcores(struct config_parser *p, yaml_node_t *node, const char *field,
	      void *obj, const struct config_field *f)
{
	struct gw_config *cfg = obj;
	char child[CONFIG_FIELD_LEN];
	yaml_node_t *workers, *at;
	unsigned int i;
	int rc;

	(void)f;
	rc = config_map(p, node, field, lcores_fields, cfg);
	if (rc < 0)
		return rc;
	workers = config_find(p, node, "workers");
	if (workers == NULL && config_is_worker(cfg, cfg->control_lcore)) {
		snprintf(child, sizeof(child), "%s.control", field);
		return CONFIG_ERR(p, config_find(p, node, "control"), child,
				  "lcore %u is the default worker lcore; set %s.workers",
				  cfg->control_lcore, field);
	}
	for (i = 0; i < cfg->n_workers && workers != NULL; i++) {
		if (cfg->worker_lcores[i] != cfg->control_lcore)
			continue;
		snprintf(child, sizeof(child), "%s.workers[%u]", field, i);
		return CONFIG_ERR(p, config_item(p, workers, i), child,
				  "lcore %u is the control lcore",
				  cfg->control_lcore);
	}
	if (!cfg->has_shadow_lcore)
		return 0;
	at = config_find(p, node, "shadow");
	snprintf(child, sizeof(child), "%s.shadow", field);
	if (cfg->shadow_lcore == cfg->control_lcore)
		return CONFIG_ERR(p, at, child, "lcore %u is the control lcore",
				  cfg->shadow_lcore);
	if (config_is_worker(cfg, cfg->shadow_lcore))
		return CONFIG_ERR(p, at, child, "lcore %u is a worker lcore",
				  cfg->shadow_lcore);
	return 0;
}

/* ------------------------------------------------------------------ */
/* idle_backoff, control, admin                                        */

static const struct config_field idle_backoff_fields[] = {
	FIELD_BOOL("enabled", struct gw_config, idle_backoff),
	FIELD_UINT("max_sleep_us", false, struct gw_config, idle_sleep_max_us,
		   1, 1000000),
	FIELD_END
};

static int
config_idle_backoff(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, const struct config_field *f)
{
	struct gw_config *cfg = obj;

	(void)f;
	if (node->type == YAML_MAPPING_NODE) {
		/* Writing the mapping asks for back-off unless it says not. */
		cfg->idle_backoff = true;
		return config_map(p, node, field, idle_backoff_fields, cfg);
	}
	if (node->type == YAML_SCALAR_NODE)
		return config_bool(p, node, field, &cfg->idle_backoff);
	return CONFIG_ERR(p, node, field, "expected true, false or a mapping");
}

static int
config_control_socket(struct config_parser *p, yaml_node_t *node,
		      const char *field, void *obj,
		      const struct config_field *f)
{
	struct gw_config *cfg = obj;

	(void)f;
	if (node->type == YAML_SCALAR_NODE &&
	    node->data.scalar.length > CONFIG_SUN_PATH_MAX)
		return CONFIG_ERR(p, node, field,
				  "too long for a Unix socket (at most %d characters)",
				  CONFIG_SUN_PATH_MAX);
	return config_string(p, node, field, cfg->control_socket,
			     sizeof(cfg->control_socket), 1);
}

static int
config_control_group(struct config_parser *p, yaml_node_t *node,
		     const char *field, void *obj, const struct config_field *f)
{
	struct gw_config *cfg = obj;

	(void)f;
	return config_name(p, node, field, cfg->control_group,
			   sizeof(cfg->control_group), 0);
}

static const struct config_field control_fields[] = {
	FIELD("socket", config_control_socket, false),
	FIELD("group", config_control_group, false),
	FIELD_STRING("state_dir", struct gw_config, control_state_dir, 0),
	FIELD_END
};

static const struct config_field admin_fields[] = {
	FIELD_BOOL("enabled", struct gw_config, admin_enabled),
	FIELD_IPV4("address", false, struct gw_config, admin_address),
	FIELD_UINT("port", false, struct gw_config, admin_port, 1, 65535),
	FIELD_END
};

static int
config_admin(struct config_parser *p, yaml_node_t *node, const char *field,
	     void *obj, const struct config_field *f)
{
	struct gw_config *cfg = obj;

	(void)f;
	if (node->type == YAML_MAPPING_NODE)
		return config_map(p, node, field, admin_fields, cfg);
	if (node->type == YAML_SCALAR_NODE)
		return config_bool(p, node, field, &cfg->admin_enabled);
	return CONFIG_ERR(p, node, field, "expected true, false or a mapping");
}

/* ------------------------------------------------------------------ */
/* limits, paths, mirror                                               */

static const struct config_field limits_fields[] = {
	FIELD_UINT("connections_per_worker", false, struct gw_config,
		   max_connections_per_worker, 1, 1u << 24),
	FIELD_UINT("requests_in_flight_per_worker", false, struct gw_config,
		   max_requests_in_flight_per_worker, 0, 1u << 24),
	/* Below ~1024 mbufs the RX rings alone would drain the pool. */
	FIELD_UINT("mbufs", false, struct gw_config, mbufs, 1024, 1u << 26),
	FIELD_UINT("neighbours", false, struct gw_config, neighbour_entries,
		   16, 1u << 20),
	FIELD_UINT("neighbour_pending", false, struct gw_config,
		   neighbour_pending, 1, 65536),
	/* Envoy's max_request_headers_kb and max_headers_count */
	FIELD_UINT("request_headers_kb", false, struct gw_config,
		   request_headers_kb, 1, 1024),
	FIELD_UINT("request_headers", false, struct gw_config,
		   request_headers, 1, 10000),
	FIELD_UINT("request_body", false, struct gw_config, request_body, 0,
		   UINT32_MAX),
	FIELD_END
};

static int
config_preload_file(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, unsigned int index)
{
	struct gw_config *cfg = obj;

	cfg->n_preload = index + 1;
	return config_string(p, node, field, cfg->preload[index],
			     sizeof(cfg->preload[index]), 1);
}

static int
config_preload(struct config_parser *p, yaml_node_t *node, const char *field,
	       void *obj, const struct config_field *f)
{
	(void)f;
	return config_seq(p, node, field, false, GW_CONFIG_MAX_PRELOAD,
			  "preload file", config_preload_file, obj);
}

static const struct config_field istio_fields[] = {
	FIELD("preload", config_preload, false),
	FIELD_END
};

static const struct config_field mirror_fields[] = {
	FIELD_BOOL("shadow_host_suffix", struct gw_config, shadow_host_suffix),
	FIELD_UINT("max_pending", false, struct gw_config, mirror_max_pending,
		   1, 65536),
	FIELD_UINT("timeout_ms", false, struct gw_config, mirror_timeout_ms,
		   1, 600000),
	FIELD_UINT("connect_timeout_ms", false, struct gw_config,
		   mirror_connect_timeout_ms, 1, 60000),
	FIELD_UINT("unavailable_ms", false, struct gw_config,
		   mirror_unavailable_ms, 0, GW_CONFIG_MIRROR_DOWN_MAX_MS),
	FIELD_END
};

static const struct config_field root_fields[] = {
	FIELD_MAP("eal", eal_fields),
	FIELD("lcores", config_lcores, false),
	FIELD("idle_backoff", config_idle_backoff, false),
	FIELD_MAP("control", control_fields),
	FIELD("admin", config_admin, false),
	FIELD("ports", config_ports, true),
	FIELD("listeners", config_listeners, false),
	FIELD_MAP("limits", limits_fields),
	FIELD_STRING("access_log", struct gw_config, access_log, 0),
	FIELD_MAP("istio", istio_fields),
	FIELD_MAP("mirror", mirror_fields),
	FIELD_END
};

/* ------------------------------------------------------------------ */
/* Checks across sections                                              */

/*
 * The device named by EAL option @p arg (with @p next, the argument that
 * follows it), or NULL if @p arg is no device option. *@p uses_next tells
 * whether the device is @p next.
 */
static const char *
config_eal_device_option(const char *arg, const char *next, bool *uses_next)
{
	static const char *const options[] = { "-a", "--allow", "-b",
					       "--block", "--vdev" };
	size_t i, n;

	*uses_next = false;
	for (i = 0; i < GW_ARRAY_SIZE(options); i++) {
		n = strlen(options[i]);
		if (strncmp(arg, options[i], n) != 0)
			continue;
		if (arg[n] == '\0') {
			*uses_next = true;
			return next;
		}
		if (arg[n] == '=')
			return arg + n + 1;
		if (n == 2)     /* "-a0000:03:00.0" */
			return arg + n;
	}
	return NULL;
}

/* Does @p device (an EAL option's value) name the device of @p port? */
static bool
config_names_port(const char *device, const struct gw_config_port *port)
{
	size_t len = config_device_name_len(device);
	size_t port_len = config_device_name_len(port->device);
	char pci[CONFIG_PCI_LEN];

	if (config_pci_parse(device, len, pci)) {
		device = pci;
		len = strlen(pci);
	}
	return len == port_len && memcmp(device, port->device, len) == 0;
}

/*
 * gatewayd hands every port's device to the EAL itself ("-a DEVICE" or
 * "--vdev DEVICE", see gw_port_eal_args()), so eal.args must not name one
 * again, block one, or switch off the PCI bus that a PCI port needs.
 */
static int
config_check_eal_devices(struct config_parser *p, yaml_node_t *root)
{
	const struct gw_config *cfg = p->cfg;
	yaml_node_t *args = config_find(p, config_find(p, root, "eal"), "args");
	yaml_node_t *ports = config_find(p, root, "ports");
	char child[CONFIG_FIELD_LEN];
	const char *device, *next;
	bool uses_next;
	yaml_node_t *at;
	unsigned int i, j;

	for (i = 0; i < cfg->n_eal_args; i++) {
		next = i + 1 < cfg->n_eal_args ? cfg->eal_args[i + 1] : NULL;
		device = config_eal_device_option(cfg->eal_args[i], next,
						  &uses_next);
		for (j = 0; device != NULL && j < cfg->n_ports; j++) {
			if (!config_names_port(device, &cfg->ports[j]))
				continue;
			snprintf(child, sizeof(child), "eal.args[%u]",
				 uses_next ? i + 1 : i);
			at = config_item(p, args, uses_next ? i + 1 : i);
			return CONFIG_ERR(p, at, child,
					  "names the device of ports[%u], which gatewayd passes to the EAL itself",
					  j);
		}
		if (strcmp(cfg->eal_args[i], "--no-pci") != 0)
			continue;
		for (j = 0; j < cfg->n_ports; j++) {
			const char *pci = cfg->ports[j].device;

			if (cfg->ports[j].is_vdev)
				continue;
			snprintf(child, sizeof(child), "ports[%u].device", j);
			at = config_find(p, config_item(p, ports, j), "device");
			return CONFIG_ERR(p, at, child,
					  "%.*s is a PCI device, but eal.args has --no-pci",
					  (int)config_device_name_len(pci), pci);
		}
	}
	return 0;
}

static int
config_check(struct config_parser *p, yaml_node_t *root)
{
	const struct gw_config *cfg = p->cfg;
	yaml_node_t *ports = config_find(p, root, "ports");
	yaml_node_t *listeners = config_find(p, root, "listeners");
	char child[CONFIG_FIELD_LEN], a[INET_ADDRSTRLEN];
	yaml_node_t *at;
	unsigned int i, j;
	int rc;

	if (gw_config_port_with_role(cfg, GW_ROLE_DOWNSTREAM) < 0)
		return CONFIG_ERR(p, ports, "ports",
				  "no port has the downstream role");
	rc = config_check_eal_devices(p, root);
	if (rc < 0)
		return rc;
	/*
	 * A listener address may be a port's own or one routed to the
	 * gateway (a service VIP), but clients never reach the gateway
	 * through a port without the downstream role.
	 */
	for (i = 0; i < cfg->n_listeners; i++) {
		const struct gw_config_listener *l = &cfg->listeners[i];

		if (!l->has_address)
			continue;
		for (j = 0; j < cfg->n_ports; j++)
			if (cfg->ports[j].address.s_addr == l->address.s_addr)
				break;
		if (j == cfg->n_ports ||
		    (cfg->ports[j].roles & GW_ROLE_DOWNSTREAM))
			continue;
		config_ntop(l->address, a);
		snprintf(child, sizeof(child), "listeners[%u].address", i);
		at = config_find(p, config_item(p, listeners, i), "address");
		return CONFIG_ERR(p, at, child,
				  "%s is the address of port %s, which has no downstream role",
				  a, cfg->ports[j].name);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

void
gw_config_defaults(struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->control_lcore = 0;
	cfg->n_workers = 1;
	cfg->worker_lcores[0] = 1;
	cfg->idle_backoff = false;      /* production busy-polls */
	cfg->idle_sleep_max_us = 100;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
		 "/run/gatewayd/gatewayd.sock");
	cfg->admin_enabled = true;
	cfg->admin_address.s_addr = htonl(INADDR_LOOPBACK);
	cfg->admin_port = 15000;
	cfg->max_connections_per_worker = 65536;
	cfg->mbufs = 16384;
	cfg->neighbour_entries = 1024;
	cfg->neighbour_pending = 256;
	cfg->request_headers_kb = 60;
	cfg->request_headers = 100;
	cfg->request_body = 0;
	cfg->shadow_host_suffix = true;
	cfg->mirror_max_pending = 128;
	cfg->mirror_timeout_ms = 10000;
	cfg->mirror_connect_timeout_ms = 3000;
	cfg->mirror_unavailable_ms = 1000;
}

void
gw_config_free(struct gw_config *cfg)
{
	unsigned int i;

	for (i = 0; i < cfg->n_eal_args; i++) {
		free(cfg->eal_args[i]);
		cfg->eal_args[i] = NULL;
	}
	cfg->n_eal_args = 0;
}

/* Line and column of byte @p offset, for reader errors (bad encoding). */
static yaml_mark_t
config_mark_at(const char *buf, size_t len, size_t offset)
{
	yaml_mark_t mark = { 0 };
	size_t i;

	for (i = 0; i < offset && i < len; i++) {
		if (buf[i] == '\n') {
			mark.line++;
			mark.column = 0;
		} else {
			mark.column++;
		}
	}
	return mark;
}

static int
config_syntax_error(struct config_parser *p, const yaml_parser_t *parser,
		    const char *buf, size_t len)
{
	yaml_mark_t mark = parser->problem_mark;
	const char *problem = parser->problem ? parser->problem : "syntax error";

	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return config_error(p, &mark, "yaml", -ENOMEM, "out of memory");
	case YAML_READER_ERROR:
		mark = config_mark_at(buf, len, parser->problem_offset);
		return config_error(p, &mark, "yaml", -GW_ECONFIG, "%s", problem);
	default:
		break;
	}
	if (parser->context != NULL)
		return config_error(p, &mark, "yaml", -GW_ECONFIG,
				    "%s (%s at line %zu)", problem, parser->context,
				    parser->context_mark.line + 1);
	return config_error(p, &mark, "yaml", -GW_ECONFIG, "%s", problem);
}

/* Load the one document of the stream and walk it. */
static int
config_load(struct config_parser *p, yaml_parser_t *parser, const char *yaml,
	    size_t len)
{
	yaml_document_t doc, extra;
	yaml_node_t *root, *extra_root;
	int rc;

	if (!yaml_parser_load(parser, &doc))
		return config_syntax_error(p, parser, yaml, len);
	p->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		rc = config_error(p, &doc.start_mark, "yaml", -GW_ECONFIG,
				  "the file is empty");
		goto out;
	}
	if (config_is_null(root)) {
		rc = CONFIG_ERR(p, root, "yaml", "the document is empty");
		goto out;
	}
	/* A reader stopping after the first document would miss the rest. */
	if (!yaml_parser_load(parser, &extra)) {
		rc = config_syntax_error(p, parser, yaml, len);
		goto out;
	}
	extra_root = yaml_document_get_root_node(&extra);
	if (extra_root != NULL) {
		rc = config_error(p, &extra.start_mark, "yaml", -GW_ECONFIG,
				  "only one document is allowed");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	if (root->type != YAML_MAPPING_NODE) {
		rc = CONFIG_ERR(p, root, "yaml",
				"expected a mapping at the top level");
		goto out;
	}
	rc = config_map(p, root, "", root_fields, p->cfg);
	if (rc == 0)
		rc = config_check(p, root);
out:
	yaml_document_delete(&doc);
	p->doc = NULL;
	return rc;
}

int
gw_config_load_buffer(struct gw_config *cfg, const char *name,
		      const char *yaml, size_t len, char *err, size_t err_len)
{
	struct config_parser p = {
		.name = name, .err = err, .err_len = err_len, .cfg = cfg,
	};
	yaml_parser_t parser;
	int rc;

	if (name == NULL)
		p.name = name = "(buffer)";
	if (yaml == NULL)       /* libyaml asserts on a NULL input */
		yaml = "";
	gw_config_defaults(cfg);
	if (!yaml_parser_initialize(&parser)) {
		gw_err(err, err_len, "%s: out of memory", name);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml,
				     len);
	rc = config_load(&p, &parser, yaml, len);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		gw_config_free(cfg);
		gw_config_defaults(cfg);
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	return rc;
}

/*
 * Read all of @p f (at most CONFIG_FILE_MAX bytes). Reads until EOF rather
 * than trusting st_size, so that pipes and /dev/fd paths work too.
 */
static int
config_read_all(FILE *f, char **out, size_t *out_len)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size), *bigger;

	while (buf != NULL) {
		len += fread(buf + len, 1, size - len, f);
		if (ferror(f)) {
			free(buf);
			return errno != 0 ? -errno : -EIO;
		}
		if (feof(f)) {
			*out = buf;
			*out_len = len;
			return 0;
		}
		if (size > CONFIG_FILE_MAX) {
			free(buf);
			return -EFBIG;
		}
		size *= 2;
		bigger = realloc(buf, size);
		if (bigger == NULL)
			free(buf);
		buf = bigger;
	}
	return -ENOMEM;
}

int
gw_config_load_file(struct gw_config *cfg, const char *path,
		    char *err, size_t err_len)
{
	size_t len = 0;
	char *buf = NULL;
	FILE *f;
	int rc;

	gw_config_defaults(cfg);
	f = fopen(path, "r");
	if (f == NULL) {
		rc = -errno;
		gw_err(err, err_len, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	errno = 0;
	rc = config_read_all(f, &buf, &len);
	fclose(f);
	if (rc == -EFBIG) {
		gw_err(err, err_len, "%s: cannot read: larger than %d bytes",
		       path, CONFIG_FILE_MAX);
		return rc;
	}
	if (rc < 0) {
		gw_err(err, err_len, "%s: cannot read: %s", path, strerror(-rc));
		return rc;
	}
	rc = gw_config_load_buffer(cfg, path, buf, len, err, err_len);
	free(buf);
	return rc;
}
