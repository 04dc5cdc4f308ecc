/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

/**
 * @file
 * The bootstrap configuration: what gatewayd needs before it touches a
 * device (EAL arguments, lcores, ports and addresses, listeners, limits,
 * paths). Parsed from YAML with libyaml; no EAL needed.
 *
 * Errors are reported as "FILE:LINE:COL: FIELD: reason" in a caller buffer,
 * LINE and COL 1-based as an editor shows them.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <netinet/in.h>

#define GW_CONFIG_MAX_EAL_ARGS   64
#define GW_CONFIG_MAX_WORKERS    64
#define GW_CONFIG_MAX_PORTS      8
#define GW_CONFIG_MAX_NEIGHBOURS 64
#define GW_CONFIG_MAX_LISTENERS  64
#define GW_CONFIG_MAX_PRELOAD    64
#define GW_CONFIG_NAME_LEN       32
#define GW_CONFIG_PATH_LEN       256
#define GW_CONFIG_DEVICE_LEN     256

/** Port roles, a bit set: one port may carry several (one-arm mode). */
enum gw_port_role {
	GW_ROLE_DOWNSTREAM = 1u << 0, /**< listeners: clients connect here */
	GW_ROLE_UPSTREAM   = 1u << 1, /**< backends are reached through it */
	GW_ROLE_SHADOW     = 1u << 2, /**< mirror copies leave through it */
};

enum gw_listener_protocol {
	GW_PROTO_HTTP = 1,
	GW_PROTO_TCP  = 2,
};

struct gw_config_neighbour {
	struct in_addr ip;
	uint8_t mac[6];
};

struct gw_config_port {
	char name[GW_CONFIG_NAME_LEN];
	/** PCI address ("0000:03:00.0") or vdev string ("net_af_xdp0,iface=gw-c"). */
	char device[GW_CONFIG_DEVICE_LEN];
	bool is_vdev;             /**< device is a vdev string, not a PCI address */
	uint32_t roles;           /**< enum gw_port_role bits, at least one */
	struct in_addr address;   /**< the gateway's own IPv4 address */
	uint8_t prefix_len;       /**< 0..32 */
	bool has_gateway;
	struct in_addr gateway;   /**< next hop for destinations off-link */
	uint16_t mtu;             /**< 0 = leave the device default (1500) */
	unsigned int n_neighbours;
	struct gw_config_neighbour neighbours[GW_CONFIG_MAX_NEIGHBOURS];
};

struct gw_config_listener {
	uint16_t port;
	enum gw_listener_protocol protocol;
	bool has_address;          /**< bound to one gateway address, else all */
	struct in_addr address;
};

struct gw_config {
	char path[GW_CONFIG_PATH_LEN]; /**< file it was read from, for messages */

	/* EAL */
	unsigned int n_eal_args;
	char *eal_args[GW_CONFIG_MAX_EAL_ARGS]; /**< extra EAL arguments (owned) */

	/* lcores */
	unsigned int control_lcore;
	unsigned int n_workers;
	unsigned int worker_lcores[GW_CONFIG_MAX_WORKERS];
	bool has_shadow_lcore;
	unsigned int shadow_lcore;

	/** Sleep when a poll finds nothing (demo/test); busy-poll otherwise. */
	bool idle_backoff;
	unsigned int idle_sleep_max_us;  /**< upper bound of the back-off sleep */

	/* control plane */
	char control_socket[GW_CONFIG_PATH_LEN];
	char control_group[GW_CONFIG_NAME_LEN]; /**< "" = root's group */
	/** Where applied Istio resources are saved and reloaded; "" = not saved. */
	char control_state_dir[GW_CONFIG_PATH_LEN];
	bool admin_enabled;
	struct in_addr admin_address;
	uint16_t admin_port;

	/* data plane */
	unsigned int n_ports;
	struct gw_config_port ports[GW_CONFIG_MAX_PORTS];
	unsigned int n_listeners;
	struct gw_config_listener listeners[GW_CONFIG_MAX_LISTENERS];

	/* limits */
	uint32_t max_connections_per_worker;
	/** HTTP requests in flight per worker (exchange contexts); 0:
	 * min(max_connections_per_worker / 2 + 1, 8192) */
	uint32_t max_requests_in_flight_per_worker;
	uint32_t mbufs;              /**< mbufs in the packet pool (all workers) */
	uint32_t neighbour_entries;  /**< neighbour table size */
	uint32_t neighbour_pending;  /**< packets held while resolving, per worker */
	uint32_t request_headers_kb; /**< HTTP request head limit, KiB (431 beyond) */
	uint32_t request_headers;    /**< HTTP header fields per head (431 beyond) */
	uint32_t request_body;       /**< HTTP request body limit, bytes (413 beyond); 0: none */

	/* paths */
	char access_log[GW_CONFIG_PATH_LEN]; /**< "" or "-" = stdout */
	unsigned int n_preload;
	char preload[GW_CONFIG_MAX_PRELOAD][GW_CONFIG_PATH_LEN]; /**< Istio YAML */

	/* mirroring */
	bool shadow_host_suffix;     /**< append "-shadow" to mirrored Host */
	uint32_t mirror_max_pending; /**< shadow requests in flight (beyond: dropped) */
	uint32_t mirror_timeout_ms;  /**< a shadow response must be whole by then */
	uint32_t mirror_connect_timeout_ms;
	uint32_t mirror_unavailable_ms; /**< skip an endpoint after a failed connect (0: never) */
};

/** Upper bound of mirror.unavailable_ms (lib/shadow's back-off cap). */
#define GW_CONFIG_MIRROR_DOWN_MAX_MS 30000u

/** Fill @p cfg with the defaults documented in the README. */
void gw_config_defaults(struct gw_config *cfg);

/**
 * Parse a bootstrap file. On success returns 0 and @p cfg holds the
 * configuration (release with gw_config_free()). On failure returns a
 * negative code, writes "FILE:LINE:COL: FIELD: reason" into @p err and
 * leaves nothing allocated.
 */
int gw_config_load_file(struct gw_config *cfg, const char *path,
			char *err, size_t err_len);

/**
 * Same as gw_config_load_file() on a memory buffer; @p name is the file
 * name used in messages.
 */
int gw_config_load_buffer(struct gw_config *cfg, const char *name,
			  const char *yaml, size_t len,
			  char *err, size_t err_len);

/** Release what a successful load allocated. Safe on a defaulted config. */
void gw_config_free(struct gw_config *cfg);

/** Text form of a role bit set, e.g. "downstream,upstream". */
const char *gw_config_roles_str(uint32_t roles, char *buf, size_t len);

/** Index of the first port with @p role, or -1. */
int gw_config_port_with_role(const struct gw_config *cfg, uint32_t role);

#endif /* GW_CONFIG_H */
