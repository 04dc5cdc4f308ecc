/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ports and listeners sections of the bootstrap file: devices, roles,
 * addresses and on-link neighbours, and the checks that keep ports apart
 * (names, devices, non-overlapping prefixes) and listeners unambiguous.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "gw_common.h"
#include "gw_config.h"
#include "config_parse.h"

/* ------------------------------------------------------------------ */
/* ports                                                               */

static const struct {
	const char *name;
	uint32_t bit;
} config_roles[] = {
	{ "downstream", GW_ROLE_DOWNSTREAM },
	{ "upstream",   GW_ROLE_UPSTREAM },
	{ "shadow",     GW_ROLE_SHADOW },
};

static int
config_port_name(struct config_parser *p, yaml_node_t *node, const char *field,
		 void *obj, const struct config_field *f)
{
	struct gw_config_port *port = obj;

	(void)f;
	return config_name(p, node, field, port->name, sizeof(port->name), 1);
}

/* Exactly @p digits hex digits at *@p s; advances *@p s past them. */
static bool
config_hex(const char **s, unsigned int digits, unsigned int *out)
{
	unsigned int i, v = 0;

	for (i = 0; i < digits; i++) {
		char c = (*s)[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (unsigned int)(c - 'A' + 10);
		else
			return false;
	}
	*s += digits;
	*out = v;
	return true;
}

/*
 * "0000:03:00.0" or "03:00.0" (the first @p len bytes of @p s) into the
 * full lower-case form, which is the name the EAL gives the port.
 */
bool
config_pci_parse(const char *s, size_t len, char out[CONFIG_PCI_LEN])
{
	unsigned int domain = 0, bus, dev, fn;
	const char *end = s + len;

	if (len != 12 && len != 7)
		return false;
	if (len == 12 && (!config_hex(&s, 4, &domain) || *s++ != ':'))
		return false;
	if (!config_hex(&s, 2, &bus) || *s++ != ':' ||
	    !config_hex(&s, 2, &dev) || *s++ != '.' ||
	    !config_hex(&s, 1, &fn) || s != end || dev > 0x1f || fn > 7)
		return false;
	snprintf(out, CONFIG_PCI_LEN, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
	return true;
}

/* Length of the device name, without its ",key=value" arguments. */
size_t
config_device_name_len(const char *device)
{
	return strcspn(device, ",");
}

static int
config_port_device(struct config_parser *p, yaml_node_t *node,
		   const char *field, void *obj, const struct config_field *f)
{
	struct gw_config_port *port = obj;
	char shown[CONFIG_SHOW_LEN], pci[CONFIG_PCI_LEN];
	size_t name_len, i;
	int rc;

	(void)f;
	rc = config_string(p, node, field, port->device,
			   sizeof(port->device), 1);
	if (rc < 0)
		return rc;
	name_len = config_device_name_len(port->device);
	if (config_pci_parse(port->device, name_len, pci)) {
		/*
		 * Stored in the full form, the name the EAL gives the port;
		 * ",key=value" arguments stay (they go to the EAL with -a).
		 */
		if (strlen(pci) + strlen(port->device + name_len) >=
		    sizeof(port->device))
			return CONFIG_ERR(p, node, field,
					  "too long (at most %zu characters)",
					  sizeof(port->device) - 1);
		memmove(port->device + strlen(pci), port->device + name_len,
			strlen(port->device + name_len) + 1);
		memcpy(port->device, pci, strlen(pci));
		port->is_vdev = false;
		return 0;
	}
	/* A vdev name: the driver name ("net_af_xdp") and an instance. */
	for (i = 0; i < name_len; i++) {
		char c = port->device[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			break;
	}
	if (i == name_len && name_len > 4 &&
	    strncmp(port->device, "net_", 4) == 0) {
		port->is_vdev = true;
		return 0;
	}
	return CONFIG_ERR(p, node, field,
			  "\"%s\" is neither a PCI address (0000:03:00.0) nor a vdev (net_af_xdp0,iface=eth0)",
			  config_show(shown, sizeof(shown), port->device,
				      strlen(port->device)));
}

static int
config_port_role(struct config_parser *p, yaml_node_t *node, const char *field,
		 void *obj, unsigned int index)
{
	struct gw_config_port *port = obj;
	char shown[CONFIG_SHOW_LEN];
	size_t i;
	int rc;

	(void)index;
	rc = config_check_string(p, node, field, 1, CONFIG_SHOW_LEN);
	if (rc < 0)
		return rc;
	for (i = 0; i < GW_ARRAY_SIZE(config_roles); i++) {
		if (strcmp(config_text(node), config_roles[i].name) != 0)
			continue;
		if (port->roles & config_roles[i].bit)
			return CONFIG_ERR(p, node, field, "role %s is listed twice",
					  config_roles[i].name);
		port->roles |= config_roles[i].bit;
		return 0;
	}
	return CONFIG_ERR(p, node, field,
			  "unknown role \"%s\" (expected downstream, upstream or shadow)",
			  config_show(shown, sizeof(shown), config_text(node),
				      node->data.scalar.length));
}

static int
config_port_roles(struct config_parser *p, yaml_node_t *node, const char *field,
		  void *obj, const struct config_field *f)
{
	(void)f;
	return config_seq(p, node, field, true,
			  (unsigned int)GW_ARRAY_SIZE(config_roles),
			  "role", config_port_role, obj);
}

/* 0.0.0.0/8, 127.0.0.0/8, multicast and class E cannot be a port's. */
static bool
config_is_unicast(uint32_t addr)
{
	return (addr >> 24) != 0 && (addr >> 24) != 127 && (addr >> 28) < 14;
}

/*
 * "network" or "broadcast" if @p addr (host order) is that address of its
 * /@p prefix_len network, else NULL. /31 and /32 have neither (RFC 3021).
 */
static const char *
config_special_host(uint32_t addr, unsigned int prefix_len)
{
	uint32_t host_mask = ~config_mask(prefix_len);

	if (prefix_len > 30)
		return NULL;
	if ((addr & host_mask) == 0)
		return "network";
	if ((addr & host_mask) == host_mask)
		return "broadcast";
	return NULL;
}

static int
config_port_address(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, const struct config_field *f)
{
	struct gw_config_port *port = obj;
	char text[INET_ADDRSTRLEN + 3], net[INET_ADDRSTRLEN];
	char shown[CONFIG_SHOW_LEN];
	const char *special, *digits;
	unsigned int prefix_len;
	struct in_addr n;
	char *slash = NULL;
	uint32_t addr;

	(void)f;
	if (node->type != YAML_SCALAR_NODE || config_is_null(node))
		return CONFIG_ERR(p, node, field,
				  "expected an IPv4 address with a prefix length, like 10.0.0.1/24");
	if (node->data.scalar.length < sizeof(text)) {
		memcpy(text, config_text(node), node->data.scalar.length + 1);
		slash = strchr(text, '/');
	}
	if (slash == NULL)
		return CONFIG_ERR(p, node, field,
				  "\"%s\" is not an IPv4 address with a prefix length, like 10.0.0.1/24",
				  config_show(shown, sizeof(shown),
					      config_text(node),
					      node->data.scalar.length));
	*slash = '\0';
	if (inet_pton(AF_INET, text, &port->address) != 1)
		return CONFIG_ERR(p, node, field, "\"%s\" is not an IPv4 address",
				  config_show(shown, sizeof(shown), text,
					      strlen(text)));
	/* One or two digits, 1..32. */
	digits = slash + 1;
	prefix_len = 0;
	if (digits[0] >= '0' && digits[0] <= '9' && (digits[1] == '\0' ||
	    (digits[1] >= '0' && digits[1] <= '9' && digits[2] == '\0')))
		prefix_len = (unsigned int)atoi(digits);
	if (prefix_len < 1 || prefix_len > 32)
		return CONFIG_ERR(p, node, field,
				  "prefix length must be between 1 and 32");
	port->prefix_len = (uint8_t)prefix_len;
	addr = ntohl(port->address.s_addr);
	if (!config_is_unicast(addr))
		return CONFIG_ERR(p, node, field,
				  "%s is not a unicast host address", text);
	special = config_special_host(addr, prefix_len);
	if (special != NULL) {
		n.s_addr = htonl(addr & config_mask(prefix_len));
		config_ntop(n, net);
		return CONFIG_ERR(p, node, field, "%s is the %s address of %s/%u",
				  text, special, net, prefix_len);
	}
	return 0;
}

static int
config_port_gateway(struct config_parser *p, yaml_node_t *node,
		    const char *field, void *obj, const struct config_field *f)
{
	struct gw_config_port *port = obj;

	(void)f;
	port->has_gateway = true;
	return config_ipv4(p, node, field, &port->gateway);
}

static int
config_neighbour_mac(struct config_parser *p, yaml_node_t *node,
		     const char *field, void *obj, const struct config_field *f)
{
	struct gw_config_neighbour *n = obj;
	char shown[CONFIG_SHOW_LEN];
	const char *s;
	unsigned int i, byte;

	(void)f;
	if (node->type != YAML_SCALAR_NODE || config_is_null(node))
		return CONFIG_ERR(p, node, field, "expected a MAC address");
	s = config_text(node);
	config_show(shown, sizeof(shown), s, node->data.scalar.length);
	for (i = 0; i < 6; i++) {
		if (!config_hex(&s, 2, &byte) || *s != (i < 5 ? ':' : '\0'))
			return CONFIG_ERR(p, node, field,
					  "\"%s\" is not a MAC address like 02:00:00:00:00:01",
					  shown);
		n->mac[i] = (uint8_t)byte;
		s++;
	}
	if ((n->mac[0] & 1) ||
	    (n->mac[0] | n->mac[1] | n->mac[2] | n->mac[3] | n->mac[4] |
	     n->mac[5]) == 0)
		return CONFIG_ERR(p, node, field, "%s is not a unicast MAC address",
				  shown);
	return 0;
}

static const struct config_field neighbour_fields[] = {
	FIELD_IPV4("ip", true, struct gw_config_neighbour, ip),
	FIELD("mac", config_neighbour_mac, true),
	FIELD_END
};

static int
config_neighbour(struct config_parser *p, yaml_node_t *node, const char *field,
		 void *obj, unsigned int index)
{
	struct gw_config_port *port = obj;

	port->n_neighbours = index + 1;
	return config_map(p, node, field, neighbour_fields,
			  &port->neighbours[index]);
}

static int
config_port_neighbours(struct config_parser *p, yaml_node_t *node,
		       const char *field, void *obj,
		       const struct config_field *f)
{
	(void)f;
	return config_seq(p, node, field, false, GW_CONFIG_MAX_NEIGHBOURS,
			  "neighbour", config_neighbour, obj);
}

static const struct config_field port_fields[] = {
	FIELD("name", config_port_name, true),
	FIELD("device", config_port_device, true),
	FIELD("roles", config_port_roles, true),
	FIELD("address", config_port_address, true),
	FIELD("gateway", config_port_gateway, false),
	FIELD_UINT("mtu", false, struct gw_config_port, mtu, 68, 9000),
	FIELD("neighbours", config_port_neighbours, false),
	FIELD_END
};

static bool
config_same_device(const struct gw_config_port *a,
		   const struct gw_config_port *b)
{
	size_t len = config_device_name_len(a->device);

	return len == config_device_name_len(b->device) &&
		memcmp(a->device, b->device, len) == 0;
}

static bool
config_in_prefix(const struct gw_config_port *port, struct in_addr a)
{
	uint32_t mask = config_mask(port->prefix_len);

	return (ntohl(a.s_addr) & mask) == (ntohl(port->address.s_addr) & mask);
}

/*
 * An on-link address of @p port (gateway, static neighbour) must lie in
 * its prefix and not be the port's own.
 */
static int
config_check_on_link(struct config_parser *p,
		     const struct gw_config_port *port, yaml_node_t *node,
		     const char *field, struct in_addr a)
{
	char text[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];
	struct in_addr n;

	n.s_addr = htonl(ntohl(port->address.s_addr) &
			 config_mask(port->prefix_len));
	config_ntop(a, text);
	config_ntop(n, net);
	if (!config_in_prefix(port, a))
		return CONFIG_ERR(p, node, field,
				  "%s is outside the port's prefix %s/%u",
				  text, net, port->prefix_len);
	if (a.s_addr == port->address.s_addr)
		return CONFIG_ERR(p, node, field, "%s is the port's own address",
				  text);
	return 0;
}

/* Checks of port @p index against itself and the ports before it. */
static int
config_port_check(struct config_parser *p, yaml_node_t *node,
		  const char *field, const struct gw_config *cfg,
		  unsigned int index)
{
	const struct gw_config_port *port = &cfg->ports[index];
	char child[CONFIG_FIELD_LEN], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	yaml_node_t *at, *neighbours;
	unsigned int i, j;
	int rc;

	for (i = 0; i < index; i++) {
		const struct gw_config_port *other = &cfg->ports[i];
		unsigned int shorter = port->prefix_len < other->prefix_len ?
			port->prefix_len : other->prefix_len;
		uint32_t mask = config_mask(shorter);

		if (strcmp(other->name, port->name) == 0) {
			snprintf(child, sizeof(child), "%s.name", field);
			return CONFIG_ERR(p, config_find(p, node, "name"), child,
					  "name %s is already used by ports[%u]",
					  port->name, i);
		}
		if (config_same_device(other, port)) {
			int len = (int)config_device_name_len(other->device);

			snprintf(child, sizeof(child), "%s.device", field);
			at = config_find(p, node, "device");
			return CONFIG_ERR(p, at, child,
					  "device %.*s is already used by port %s",
					  len, other->device, other->name);
		}
		/*
		 * Overlapping prefixes would make the egress port of an
		 * address ambiguous; equal addresses are the extreme case.
		 */
		snprintf(child, sizeof(child), "%s.address", field);
		at = config_find(p, node, "address");
		config_ntop(port->address, a);
		config_ntop(other->address, b);
		if (port->address.s_addr == other->address.s_addr)
			return CONFIG_ERR(p, at, child,
					  "%s is already the address of port %s",
					  a, other->name);
		if ((ntohl(port->address.s_addr) & mask) ==
		    (ntohl(other->address.s_addr) & mask))
			return CONFIG_ERR(p, at, child,
					  "%s/%u overlaps %s/%u of port %s",
					  a, port->prefix_len, b,
					  other->prefix_len, other->name);
	}
	if (port->has_gateway) {
		snprintf(child, sizeof(child), "%s.gateway", field);
		at = config_find(p, node, "gateway");
		rc = config_check_on_link(p, port, at, child, port->gateway);
		if (rc < 0)
			return rc;
	}
	neighbours = config_find(p, node, "neighbours");
	for (i = 0; i < port->n_neighbours; i++) {
		struct in_addr ip = port->neighbours[i].ip;

		snprintf(child, sizeof(child), "%s.neighbours[%u].ip",
			 field, i);
		at = config_find(p, config_item(p, neighbours, i), "ip");
		rc = config_check_on_link(p, port, at, child, ip);
		if (rc < 0)
			return rc;
		for (j = 0; j < i; j++) {
			if (port->neighbours[j].ip.s_addr != ip.s_addr)
				continue;
			config_ntop(ip, a);
			return CONFIG_ERR(p, at, child,
					  "%s is already listed in neighbours[%u]",
					  a, j);
		}
	}
	return 0;
}

static int
config_port(struct config_parser *p, yaml_node_t *node, const char *field,
	    void *obj, unsigned int index)
{
	struct gw_config *cfg = obj;
	int rc;

	cfg->n_ports = index + 1;
	rc = config_map(p, node, field, port_fields, &cfg->ports[index]);
	if (rc < 0)
		return rc;
	return config_port_check(p, node, field, cfg, index);
}

int
config_ports(struct config_parser *p, yaml_node_t *node, const char *field,
	     void *obj, const struct config_field *f)
{
	(void)f;
	return config_seq(p, node, field, true, GW_CONFIG_MAX_PORTS, "port",
			  config_port, obj);
}

/* ------------------------------------------------------------------ */
/* listeners                                                           */

static int
config_listener_protocol(struct config_parser *p, yaml_node_t *node,
			 const char *field, void *obj,
			 const struct config_field *f)
{
	struct gw_config_listener *l = obj;
	char shown[CONFIG_SHOW_LEN];
	int rc;

	(void)f;
	rc = config_check_string(p, node, field, 1, CONFIG_SHOW_LEN);
	if (rc < 0)
		return rc;
	/* Case-insensitive as in Istio's Gateway servers. */
	if (strcasecmp(config_text(node), "HTTP") == 0)
		l->protocol = GW_PROTO_HTTP;
	else if (strcasecmp(config_text(node), "TCP") == 0)
		l->protocol = GW_PROTO_TCP;
	else
		return CONFIG_ERR(p, node, field,
				  "unknown protocol \"%s\" (expected HTTP or TCP)",
				  config_show(shown, sizeof(shown),
					      config_text(node),
					      node->data.scalar.length));
	return 0;
}

static int
config_listener_address(struct config_parser *p, yaml_node_t *node,
			const char *field, void *obj,
			const struct config_field *f)
{
	struct gw_config_listener *l = obj;
	char text[INET_ADDRSTRLEN];
	int rc;

	(void)f;
	l->has_address = true;
	rc = config_ipv4(p, node, field, &l->address);
	if (rc < 0)
		return rc;
	if (l->address.s_addr == htonl(INADDR_ANY))
		return CONFIG_ERR(p, node, field,
				  "leave the address out to listen on every address");
	if (!config_is_unicast(ntohl(l->address.s_addr))) {
		config_ntop(l->address, text);
		return CONFIG_ERR(p, node, field,
				  "%s is not a unicast host address", text);
	}
	return 0;
}

static const struct config_field listener_fields[] = {
	FIELD_UINT("port", true, struct gw_config_listener, port, 1, 65535),
	FIELD("protocol", config_listener_protocol, false),
	FIELD("address", config_listener_address, false),
	FIELD_END
};

static int
config_listener(struct config_parser *p, yaml_node_t *node, const char *field,
		void *obj, unsigned int index)
{
	struct gw_config *cfg = obj;
	struct gw_config_listener *l = &cfg->listeners[index];
	char child[CONFIG_FIELD_LEN];
	unsigned int i;
	int rc;

	cfg->n_listeners = index + 1;
	l->protocol = GW_PROTO_HTTP;
	rc = config_map(p, node, field, listener_fields, l);
	if (rc < 0)
		return rc;
	/* A listener without an address takes the port on every address. */
	for (i = 0; i < index; i++) {
		const struct gw_config_listener *other = &cfg->listeners[i];

		if (other->port != l->port ||
		    (other->has_address && l->has_address &&
		     other->address.s_addr != l->address.s_addr))
			continue;
		snprintf(child, sizeof(child), "%s.port", field);
		return CONFIG_ERR(p, config_find(p, node, "port"), child,
				  "port %u is already used by listeners[%u]",
				  l->port, i);
	}
	return 0;
}

int
config_listeners(struct config_parser *p, yaml_node_t *node, const char *field,
		 void *obj, const struct config_field *f)
{
	(void)f;
	return config_seq(p, node, field, false, GW_CONFIG_MAX_LISTENERS,
			  "listener", config_listener, obj);
}

/* ------------------------------------------------------------------ */
/* Role helpers of the public API                                      */

const char *
gw_config_roles_str(uint32_t roles, char *buf, size_t len)
{
	size_t i, used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < GW_ARRAY_SIZE(config_roles); i++) {
		if (!(roles & config_roles[i].bit))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? "," : "", config_roles[i].name);
		if (used >= len)
			break;
	}
	return buf;
}

int
gw_config_port_with_role(const struct gw_config *cfg, uint32_t role)
{
	unsigned int i;

	for (i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].roles & role)
			return (int)i;
	return -1;
}
