/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the bootstrap configuration (lib/config).
 *
 * Valid files are checked field by field; invalid documents are a table of
 * {description, YAML, exact message}, so that a change of wording or of
 * position shows up as a test failure. Every input is also parsed from
 * the end of a page followed by a PROT_NONE guard page, and every prefix
 * of the full file is parsed, to catch reads past the buffer under ASan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gw_common.h"
#include "gw_config.h"

#define DATA_DIR    UNIT_DATA_DIR "/config"
#define PROFILE_DIR SOURCE_ROOT "/drivers-config"

/* A large struct: one static instance per test instead of the stack. */
static struct gw_config cfg;
static char err[GW_ERR_LEN];

static int
load(const char *yaml)
{
	err[0] = '\0';
	return gw_config_load_buffer(&cfg, "t.yaml", yaml, strlen(yaml),
				     err, sizeof(err));
}

static void
assert_ip(struct in_addr a, const char *expected)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, text, sizeof(text));
	assert_string_equal(text, expected);
}

static void
assert_mac(const uint8_t *mac, uint8_t last)
{
	const uint8_t expected[6] = { 0x02, 0, 0, 0, 0, last };

	assert_memory_equal(mac, expected, sizeof(expected));
}

/* "NAME:LINE:COL: FIELD: reason" with LINE, COL >= 1 and FIELD non-empty. */
static int
message_is_well_formed(const char *msg, const char *name)
{
	size_t n = strlen(name);
	unsigned long line, col;
	char *end;

	if (strncmp(msg, name, n) != 0 || msg[n] != ':')
		return 0;
	line = strtoul(msg + n + 1, &end, 10);
	if (line == 0 || *end != ':')
		return 0;
	col = strtoul(end + 1, &end, 10);
	if (col == 0 || strncmp(end, ": ", 2) != 0)
		return 0;
	end += 2;
	if (*end == ' ' || *end == ':' || *end == '\0')
		return 0;
	end = strstr(end, ": ");
	return end != NULL && end[2] != '\0';
}

/* ------------------------------------------------------------------ */
/* Valid files                                                         */

static void
test_defaults(void **state)
{
	(void)state;
	gw_config_defaults(&cfg);
	assert_int_equal(cfg.n_eal_args, 0);
	assert_int_equal(cfg.control_lcore, 0);
	assert_int_equal(cfg.n_workers, 1);
	assert_int_equal(cfg.worker_lcores[0], 1);
	assert_false(cfg.has_shadow_lcore);
	assert_false(cfg.idle_backoff);
	assert_int_equal(cfg.idle_sleep_max_us, 100);
	assert_string_equal(cfg.control_socket, "/run/gatewayd/gatewayd.sock");
	assert_string_equal(cfg.control_group, "");
	assert_string_equal(cfg.control_state_dir, "");
	assert_true(cfg.admin_enabled);
	assert_ip(cfg.admin_address, "127.0.0.1");
	assert_int_equal(cfg.admin_port, 15000);
	assert_int_equal(cfg.n_ports, 0);
	assert_int_equal(cfg.n_listeners, 0);
	assert_int_equal(cfg.max_connections_per_worker, 65536);
	assert_int_equal(cfg.max_requests_in_flight_per_worker, 0);
	assert_int_equal(cfg.mbufs, 16384);
	assert_int_equal(cfg.neighbour_entries, 1024);
	assert_int_equal(cfg.neighbour_pending, 256);
	assert_int_equal(cfg.request_headers_kb, 60);
	assert_int_equal(cfg.request_headers, 100);
	assert_int_equal(cfg.request_body, 0);
	assert_string_equal(cfg.access_log, "");
	assert_int_equal(cfg.n_preload, 0);
	assert_true(cfg.shadow_host_suffix);
	assert_int_equal(cfg.mirror_max_pending, 128);
	assert_int_equal(cfg.mirror_timeout_ms, 10000);
	assert_int_equal(cfg.mirror_connect_timeout_ms, 3000);
	assert_int_equal(cfg.mirror_unavailable_ms, 1000);
	gw_config_free(&cfg);   /* safe on a defaulted config */
	gw_config_free(&cfg);
}

static void
test_full_file(void **state)
{
	const struct gw_config_port *down, *up;

	(void)state;
	assert_int_equal(gw_config_load_file(&cfg, DATA_DIR "/full.yaml",
					     err, sizeof(err)), 0);
	assert_string_equal(cfg.path, DATA_DIR "/full.yaml");

	assert_int_equal(cfg.n_eal_args, 3);
	assert_string_equal(cfg.eal_args[0], "--no-pci");
	assert_string_equal(cfg.eal_args[1], "--file-prefix=gw-test");
	assert_string_equal(cfg.eal_args[2], "--log-level=lib.eal:debug");

	assert_int_equal(cfg.control_lcore, 2);
	assert_int_equal(cfg.n_workers, 3);
	assert_int_equal(cfg.worker_lcores[0], 3);
	assert_int_equal(cfg.worker_lcores[1], 5);
	assert_int_equal(cfg.worker_lcores[2], 4);
	assert_true(cfg.has_shadow_lcore);
	assert_int_equal(cfg.shadow_lcore, 6);

	assert_true(cfg.idle_backoff);
	assert_int_equal(cfg.idle_sleep_max_us, 250);

	assert_string_equal(cfg.control_socket, "/tmp/gatewayd-test.sock");
	assert_string_equal(cfg.control_group, "gateway");
	assert_true(cfg.admin_enabled);
	assert_ip(cfg.admin_address, "0.0.0.0");
	assert_int_equal(cfg.admin_port, 15001);

	assert_int_equal(cfg.n_ports, 2);
	down = &cfg.ports[0];
	assert_string_equal(down->name, "down0");
	assert_string_equal(down->device, "net_af_xdp0,iface=gw-down");
	assert_true(down->is_vdev);
	assert_int_equal(down->roles, GW_ROLE_DOWNSTREAM);
	assert_ip(down->address, "10.10.1.1");
	assert_int_equal(down->prefix_len, 24);
	assert_true(down->has_gateway);
	assert_ip(down->gateway, "10.10.1.254");
	assert_int_equal(down->mtu, 9000);
	assert_int_equal(down->n_neighbours, 2);
	assert_ip(down->neighbours[0].ip, "10.10.1.2");
	assert_mac(down->neighbours[0].mac, 0x02);
	assert_ip(down->neighbours[1].ip, "10.10.1.3");
	assert_mac(down->neighbours[1].mac, 0x0a);

	up = &cfg.ports[1];
	assert_string_equal(up->name, "up0");
	assert_string_equal(up->device, "net_af_packet1,iface=gw-up,qpairs=2");
	assert_true(up->is_vdev);
	assert_int_equal(up->roles, GW_ROLE_UPSTREAM | GW_ROLE_SHADOW);
	assert_ip(up->address, "10.10.2.1");
	assert_int_equal(up->prefix_len, 30);
	assert_false(up->has_gateway);
	assert_int_equal(up->mtu, 68);
	assert_int_equal(up->n_neighbours, 0);

	assert_int_equal(cfg.n_listeners, 2);
	assert_int_equal(cfg.listeners[0].port, 8000);
	assert_int_equal(cfg.listeners[0].protocol, GW_PROTO_HTTP);
	assert_true(cfg.listeners[0].has_address);
	assert_ip(cfg.listeners[0].address, "10.10.1.1");
	assert_int_equal(cfg.listeners[1].port, 9000);
	assert_int_equal(cfg.listeners[1].protocol, GW_PROTO_TCP);
	assert_false(cfg.listeners[1].has_address);

	assert_int_equal(cfg.max_connections_per_worker, 1000);
	assert_int_equal(cfg.max_requests_in_flight_per_worker, 64);
	assert_int_equal(cfg.mbufs, 4096);
	assert_int_equal(cfg.neighbour_entries, 64);
	assert_int_equal(cfg.neighbour_pending, 8);

	assert_string_equal(cfg.access_log, "/var/log/gatewayd/access.log");
	assert_int_equal(cfg.n_preload, 2);
	assert_string_equal(cfg.preload[0], "/etc/gatewayd/istio/httpbin.yaml");
	assert_string_equal(cfg.preload[1], "/etc/gatewayd/istio/mirror.yaml");
	assert_false(cfg.shadow_host_suffix);
	assert_int_equal(cfg.mirror_max_pending, 512);
	assert_int_equal(cfg.mirror_timeout_ms, 2000);
	assert_int_equal(cfg.mirror_connect_timeout_ms, 500);
	assert_int_equal(cfg.mirror_unavailable_ms, 0);

	assert_int_equal(gw_config_port_with_role(&cfg, GW_ROLE_DOWNSTREAM), 0);
	assert_int_equal(gw_config_port_with_role(&cfg, GW_ROLE_SHADOW), 1);
	gw_config_free(&cfg);
	assert_int_equal(cfg.n_eal_args, 0);
}

/* Optional sections absent: everything but the port keeps its default. */
static void
test_minimal_file(void **state)
{
	struct gw_config defaults;

	(void)state;
	assert_int_equal(gw_config_load_file(&cfg, DATA_DIR "/minimal.yaml",
					     err, sizeof(err)), 0);
	assert_int_equal(cfg.n_ports, 1);
	assert_string_equal(cfg.ports[0].name, "p0");
	assert_string_equal(cfg.ports[0].device, "0000:03:00.0");
	assert_false(cfg.ports[0].is_vdev);
	assert_int_equal(cfg.ports[0].roles,
			 GW_ROLE_DOWNSTREAM | GW_ROLE_UPSTREAM);
	assert_ip(cfg.ports[0].address, "192.168.7.10");
	assert_int_equal(cfg.ports[0].prefix_len, 24);
	assert_int_equal(cfg.ports[0].mtu, 0);
	assert_int_equal(gw_config_port_with_role(&cfg, GW_ROLE_SHADOW), -1);

	/* Apart from path and ports, byte for byte the defaults. */
	gw_config_defaults(&defaults);
	memcpy(defaults.path, cfg.path, sizeof(defaults.path));
	defaults.n_ports = cfg.n_ports;
	memcpy(defaults.ports, cfg.ports, sizeof(defaults.ports));
	assert_memory_equal(&cfg, &defaults, sizeof(cfg));
	gw_config_free(&cfg);
}

/* Alternative spellings that must be accepted, and what they mean. */
static void
test_valid_variants(void **state)
{
	static const char port0[] =
		"ports:\n"
		"  - {name: d0, device: net_ring0, roles: [downstream], address: 10.0.0.1/24}\n";
	char text[1024];

	(void)state;
	/* admin: off / false disables, a mapping enables. */
	snprintf(text, sizeof(text), "admin: off\n%s", port0);
	assert_int_equal(load(text), 0);
	assert_false(cfg.admin_enabled);
	snprintf(text, sizeof(text), "admin: false\n%s", port0);
	assert_int_equal(load(text), 0);
	assert_false(cfg.admin_enabled);
	snprintf(text, sizeof(text), "admin: {port: 16000}\n%s", port0);
	assert_int_equal(load(text), 0);
	assert_true(cfg.admin_enabled);
	assert_int_equal(cfg.admin_port, 16000);
	assert_ip(cfg.admin_address, "127.0.0.1");
	snprintf(text, sizeof(text), "admin: {enabled: false}\n%s", port0);
	assert_int_equal(load(text), 0);
	assert_false(cfg.admin_enabled);

	/* idle_backoff as a bool, or a mapping that enables it. */
	snprintf(text, sizeof(text), "idle_backoff: True\n%s", port0);
	assert_int_equal(load(text), 0);
	assert_true(cfg.idle_backoff);
	assert_int_equal(cfg.idle_sleep_max_us, 100);
	snprintf(text, sizeof(text), "idle_backoff: {max_sleep_us: 50}\n%s",
		 port0);
	assert_int_equal(load(text), 0);
	assert_true(cfg.idle_backoff);
	assert_int_equal(cfg.idle_sleep_max_us, 50);

	/* control.state_dir: saved Istio resources (off when absent). */
	snprintf(text, sizeof(text),
		 "control: {state_dir: /var/lib/gatewayd, group: gw}\n%s", port0);
	assert_int_equal(load(text), 0);
	assert_string_equal(cfg.control_state_dir, "/var/lib/gatewayd");
	assert_string_equal(cfg.control_group, "gw");

	/* Protocols are case-insensitive; the default is HTTP. */
	snprintf(text, sizeof(text),
		 "%slisteners:\n  - {port: 80}\n  - {port: 81, protocol: Tcp}\n",
		 port0);
	assert_int_equal(load(text), 0);
	assert_int_equal(cfg.listeners[0].protocol, GW_PROTO_HTTP);
	assert_int_equal(cfg.listeners[1].protocol, GW_PROTO_TCP);

	/* PCI addresses are stored in the EAL's full lower-case form. */
	assert_int_equal(load("ports:\n"
			      "  - {name: a, device: 0000:AF:1f.7, roles: [downstream], address: 10.0.0.1/24}\n"
			      "  - {name: b, device: \"3b:00.1\", roles: [upstream], address: 10.0.1.1/24}\n"),
			 0);
	assert_string_equal(cfg.ports[0].device, "0000:af:1f.7");
	assert_false(cfg.ports[0].is_vdev);
	assert_string_equal(cfg.ports[1].device, "0000:3b:00.1");

	/* PCI device arguments stay with the device: gatewayd passes
	 * "-a DEVICE" to the EAL. Other devices may be named in eal.args. */
	assert_int_equal(load("eal: {args: [-a, \"0000:05:00.0,class=eth\", \"--vdev=net_pcap0,iface=lo\"]}\n"
			      "ports:\n"
			      "  - {name: a, device: \"03:00.0,txq_inline_max=0\", roles: [downstream], address: 10.0.0.1/24}\n"),
			 0);
	assert_string_equal(cfg.ports[0].device, "0000:03:00.0,txq_inline_max=0");
	assert_false(cfg.ports[0].is_vdev);
	assert_int_equal(cfg.n_eal_args, 3);
	gw_config_free(&cfg);

	/* One-arm: one port with every role; /31 and /32 have no network
	 * or broadcast address to refuse. */
	assert_int_equal(load("ports:\n"
			      "  - {name: a, device: net_tap0, roles: [shadow, upstream, downstream], address: 10.0.0.0/31}\n"
			      "  - {name: b, device: net_tap1, roles: [upstream], address: 10.0.1.255/32}\n"),
			 0);
	assert_int_equal(cfg.ports[0].roles, GW_ROLE_DOWNSTREAM |
			 GW_ROLE_UPSTREAM | GW_ROLE_SHADOW);

	/* Listeners on the same port but different addresses, one of them
	 * a service VIP routed to the gateway rather than a port's own. */
	assert_int_equal(load("ports:\n"
			      "  - {name: a, device: net_tap0, roles: [downstream], address: 10.0.0.1/24}\n"
			      "  - {name: b, device: net_tap1, roles: [downstream], address: 10.0.1.1/24}\n"
			      "listeners:\n"
			      "  - {port: 80, address: 10.0.0.1}\n"
			      "  - {port: 80, address: 10.0.1.1}\n"
			      "  - {port: 80, address: 10.96.0.10}\n"),
			 0);
	assert_int_equal(cfg.n_listeners, 3);

	/* Anchors and aliases are plain YAML and work. */
	assert_int_equal(load("ports:\n"
			      "  - {name: a, device: net_tap0, roles: &both [downstream, upstream], address: 10.0.0.1/24}\n"
			      "  - {name: b, device: net_tap1, roles: *both, address: 10.0.1.1/24}\n"),
			 0);
	assert_int_equal(cfg.ports[1].roles,
			 GW_ROLE_DOWNSTREAM | GW_ROLE_UPSTREAM);

	/* Keys in any order: lcores checked once the section is read. */
	snprintf(text, sizeof(text),
		 "lcores: {workers: [0, 2], control: 1}\naccess_log: \"-\"\n%s",
		 port0);
	assert_int_equal(load(text), 0);
	assert_int_equal(cfg.control_lcore, 1);
	assert_string_equal(cfg.access_log, "-");
}

/* ------------------------------------------------------------------ */
/* Invalid documents                                                   */

#define P0 "ports:\n" \
	"  - {name: d0, device: net_ring0, roles: [downstream], address: 10.0.0.1/24}\n"
#define PORT(extra, name, device, roles, address) "ports:\n" \
	"  - name: " name "\n" \
	"    device: " device "\n" \
	"    roles: " roles "\n" \
	"    address: " address "\n" extra
#define PORT_WITH(extra) PORT(extra, "d0", "net_ring0", "[downstream]", \
			      "10.0.0.1/24")
#define PORT_ROLES(roles) PORT("", "d0", "net_ring0", roles, "10.0.0.1/24")
#define PORT_ADDRESS(a) PORT("", "d0", "net_ring0", "[downstream]", a)
#define PORT_DEVICE(d) PORT("", "d0", d, "[downstream]", "10.0.0.1/24")

struct invalid_case {
	const char *what;
	const char *yaml;
	const char *message;
};

static const struct invalid_case invalid_cases[] = {
	/* structure */
	{ "empty file", "",
	  "t.yaml:1:1: yaml: the file is empty" },
	{ "only a comment", "# nothing here\n",
	  "t.yaml:1:1: yaml: the file is empty" },
	{ "empty document", "---\n",
	  "t.yaml:2:1: yaml: the document is empty" },
	{ "two documents", P0 "---\n" P0,
	  "t.yaml:3:1: yaml: only one document is allowed" },
	{ "top level is a list", "- a\n- b\n",
	  "t.yaml:1:1: yaml: expected a mapping at the top level" },
	{ "syntax error: bad indentation", "ports:\n  - name: d0\n   device: x\n",
	  "t.yaml:3:4: yaml: did not find expected '-' indicator (while parsing a block collection at line 2)" },
	{ "syntax error: unclosed flow list", "ports: [\n",
	  "t.yaml:2:1: yaml: did not find expected node content (while parsing a flow node at line 2)" },
	{ "syntax error: tab indentation", "ports:\n\t- name: d0\n",
	  "t.yaml:2:1: yaml: found character that cannot start any token (while scanning for the next token at line 2)" },
	{ "invalid UTF-8", "ports:\n  - name: \xff\n",
	  "t.yaml:2:11: yaml: invalid leading UTF-8 octet" },
	{ "unknown top-level key", "foo: 1\n" P0,
	  "t.yaml:1:1: foo: unknown field" },
	{ "unknown port key", PORT_WITH("    speed: 10G\n"),
	  "t.yaml:6:5: ports[0].speed: unknown field" },
	{ "duplicate key", P0 "limits:\n  mbufs: 2048\n  mbufs: 4096\n",
	  "t.yaml:5:3: limits.mbufs: duplicate key (first at line 4)" },
	{ "duplicate top-level key", P0 "access_log: a\naccess_log: b\n",
	  "t.yaml:4:1: access_log: duplicate key (first at line 3)" },
	{ "empty key", "\"\": 1\n" P0,
	  "t.yaml:1:1: \"\": unknown field" },
	{ "key that is not a string", "[a]: 1\n" P0,
	  "t.yaml:1:1: yaml: keys must be strings" },
	{ "section is null", "lcores:\n" P0,
	  "t.yaml:1:8: lcores: expected a mapping" },

	/* eal */
	{ "eal.args not a list", "eal:\n  args: --no-pci\n" P0,
	  "t.yaml:2:9: eal.args: expected a list" },
	{ "eal.args sets lcores", "eal:\n  args: [\"-l\", \"0-3\"]\n" P0,
	  "t.yaml:2:10: eal.args[0]: \"-l\" selects lcores, which come from the lcores section" },
	{ "eal.args empty string", "eal:\n  args: [\"\"]\n" P0,
	  "t.yaml:2:10: eal.args[0]: must not be empty" },
	{ "too many EAL arguments", "eal:\n  args: ["
	  "a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,"
	  "a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,b]\n" P0,
	  "t.yaml:2:138: eal.args[64]: too many EAL arguments (at most 64)" },

	/* lcores */
	{ "worker lcore is the control lcore",
	  "lcores:\n  control: 1\n  workers: [2, 1]\n" P0,
	  "t.yaml:3:16: lcores.workers[1]: lcore 1 is the control lcore" },
	{ "control lcore is the default worker", "lcores:\n  control: 1\n" P0,
	  "t.yaml:2:12: lcores.control: lcore 1 is the default worker lcore; set lcores.workers" },
	{ "duplicate worker lcore", "lcores:\n  workers: [1, 2, 1]\n" P0,
	  "t.yaml:2:19: lcores.workers[2]: lcore 1 is listed twice" },
	{ "non-integer lcore", "lcores:\n  workers: [1, two]\n" P0,
	  "t.yaml:2:16: lcores.workers[1]: expected an integer" },
	{ "quoted integer", "lcores:\n  control: \"0\"\n" P0,
	  "t.yaml:2:12: lcores.control: expected an integer" },
	{ "lcore out of range", "lcores:\n  control: 128\n" P0,
	  "t.yaml:2:12: lcores.control: must be between 0 and 127" },
	{ "negative lcore", "lcores:\n  control: -1\n" P0,
	  "t.yaml:2:12: lcores.control: must be between 0 and 127" },
	{ "octal-looking lcore", "lcores:\n  control: 010\n" P0,
	  "t.yaml:2:12: lcores.control: leading zeros are not allowed (YAML reads them as octal)" },
	{ "no worker lcores", "lcores:\n  workers: []\n" P0,
	  "t.yaml:2:12: lcores.workers: at least one worker lcore is required" },
	{ "shadow lcore is a worker",
	  "lcores:\n  workers: [1, 2]\n  shadow: 2\n" P0,
	  "t.yaml:3:11: lcores.shadow: lcore 2 is a worker lcore" },
	{ "shadow lcore is the control lcore", "lcores:\n  shadow: 0\n" P0,
	  "t.yaml:2:11: lcores.shadow: lcore 0 is the control lcore" },
	{ "too many worker lcores", "lcores:\n  control: 0\n  workers: ["
	  "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,"
	  "25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,"
	  "46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65]\n" P0,
	  "t.yaml:3:196: lcores.workers[64]: too many worker lcores (at most 64)" },

	/* idle_backoff, control, admin */
	{ "idle_backoff not a bool", "idle_backoff: yes\n" P0,
	  "t.yaml:1:15: idle_backoff: expected true or false" },
	{ "idle_backoff a list", "idle_backoff: [true]\n" P0,
	  "t.yaml:1:15: idle_backoff: expected true, false or a mapping" },
	{ "idle_backoff sleep out of range",
	  "idle_backoff: {max_sleep_us: 0}\n" P0,
	  "t.yaml:1:30: idle_backoff.max_sleep_us: must be between 1 and 1000000" },
	{ "control socket too long for sun_path", P0 "control:\n  socket: "
	  "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	  "t.yaml:4:11: control.socket: too long for a Unix socket (at most 107 characters)" },
	{ "control group with a bad character", P0 "control:\n  group: \"wheel!\"\n",
	  "t.yaml:4:10: control.group: may contain only letters, digits, '-', '_' and '.', and must start with a letter or digit" },
	{ "admin is a list", P0 "admin: [1]\n",
	  "t.yaml:3:8: admin: expected true, false or a mapping" },
	{ "admin port 0", P0 "admin:\n  port: 0\n",
	  "t.yaml:4:9: admin.port: must be between 1 and 65535" },
	{ "admin address is a name", P0 "admin:\n  address: localhost\n",
	  "t.yaml:4:12: admin.address: \"localhost\" is not an IPv4 address" },

	/* ports */
	{ "no ports", "ports: []\n",
	  "t.yaml:1:8: ports: at least one port is required" },
	{ "ports missing", "lcores:\n  control: 0\n",
	  "t.yaml:1:1: ports: required field is missing" },
	{ "no downstream port", PORT_ROLES("[upstream]"),
	  "t.yaml:2:3: ports: no port has the downstream role" },
	{ "too many ports", "ports:\n"
	  "  - {name: p0, device: net_ring0, roles: [downstream], address: 10.0.0.1/24}\n"
	  "  - {name: p1, device: net_ring1, roles: [downstream], address: 10.0.1.1/24}\n"
	  "  - {name: p2, device: net_ring2, roles: [downstream], address: 10.0.2.1/24}\n"
	  "  - {name: p3, device: net_ring3, roles: [downstream], address: 10.0.3.1/24}\n"
	  "  - {name: p4, device: net_ring4, roles: [downstream], address: 10.0.4.1/24}\n"
	  "  - {name: p5, device: net_ring5, roles: [downstream], address: 10.0.5.1/24}\n"
	  "  - {name: p6, device: net_ring6, roles: [downstream], address: 10.0.6.1/24}\n"
	  "  - {name: p7, device: net_ring7, roles: [downstream], address: 10.0.7.1/24}\n"
	  "  - {name: p8, device: net_ring8, roles: [downstream], address: 10.0.8.1/24}\n",
	  "t.yaml:10:5: ports[8]: too many ports (at most 8)" },
	{ "port is not a mapping", "ports: [down0]\n",
	  "t.yaml:1:9: ports[0]: expected a mapping" },
	{ "duplicate port name", P0
	  "  - {name: d0, device: net_ring1, roles: [upstream], address: 10.0.1.1/24}\n",
	  "t.yaml:3:12: ports[1].name: name d0 is already used by ports[0]" },
	{ "bad port name", PORT("", "\"d 0\"", "net_ring0", "[downstream]", "10.0.0.1/24"),
	  "t.yaml:2:11: ports[0].name: may contain only letters, digits, '-', '_' and '.', and must start with a letter or digit" },
	{ "port name too long",
	  PORT("", "abcdefghijklmnopqrstuvwxyz012345", "net_ring0", "[downstream]", "10.0.0.1/24"),
	  "t.yaml:2:11: ports[0].name: too long (at most 31 characters)" },
	{ "port name null", PORT("", "", "net_ring0", "[downstream]", "10.0.0.1/24"),
	  "t.yaml:2:10: ports[0].name: expected a string" },
	{ "device with a control character", PORT_DEVICE("\"net_tap0,iface=a\\tb\""),
	  "t.yaml:3:13: ports[0].device: contains a control character" },
	{ "port name with NUL", PORT("", "\"a\\0b\"", "net_ring0", "[downstream]", "10.0.0.1/24"),
	  "t.yaml:2:11: ports[0].name: contains a NUL character" },
	{ "duplicate device", P0
	  "  - {name: u0, device: \"net_ring0,foo=1\", roles: [upstream], address: 10.0.1.1/24}\n",
	  "t.yaml:3:24: ports[1].device: device net_ring0 is already used by port d0" },
	{ "device neither PCI nor vdev", PORT_DEVICE("eth0"),
	  "t.yaml:3:13: ports[0].device: \"eth0\" is neither a PCI address (0000:03:00.0) nor a vdev (net_af_xdp0,iface=eth0)" },
	{ "PCI device with --no-pci", "eal:\n  args: [--no-pci]\n" PORT_DEVICE("0000:03:00.0"),
	  "t.yaml:5:13: ports[0].device: 0000:03:00.0 is a PCI device, but eal.args has --no-pci" },
	{ "eal.args allows a port's PCI device",
	  "eal:\n  args: [--log-level=8, -a, \"0000:03:00.0,foo=1\"]\n" PORT_DEVICE("03:00.0"),
	  "t.yaml:2:29: eal.args[2]: names the device of ports[0], which gatewayd passes to the EAL itself" },
	{ "eal.args adds a port's vdev",
	  "eal:\n  args: [\"--vdev=net_ring0,nodeaction=r1:0:CREATE\"]\n" P0,
	  "t.yaml:2:10: eal.args[0]: names the device of ports[0], which gatewayd passes to the EAL itself" },
	{ "eal.args blocks a port's device",
	  "eal:\n  args: [-b0000:03:00.0]\n" PORT_DEVICE("0000:03:00.0"),
	  "t.yaml:2:10: eal.args[0]: names the device of ports[0], which gatewayd passes to the EAL itself" },
	{ "unknown role", PORT_ROLES("[downstream, sideways]"),
	  "t.yaml:4:25: ports[0].roles[1]: unknown role \"sideways\" (expected downstream, upstream or shadow)" },
	{ "duplicate role", PORT_ROLES("[upstream, downstream, upstream]"),
	  "t.yaml:4:35: ports[0].roles[2]: role upstream is listed twice" },
	{ "empty roles", PORT_ROLES("[]"),
	  "t.yaml:4:12: ports[0].roles: at least one role is required" },
	{ "roles not a list", PORT_ROLES("downstream"),
	  "t.yaml:4:12: ports[0].roles: expected a list" },
	{ "bad IPv4 address", PORT_ADDRESS("10.0.0.300/24"),
	  "t.yaml:5:14: ports[0].address: \"10.0.0.300\" is not an IPv4 address" },
	{ "prefix length above 32", PORT_ADDRESS("10.0.0.1/33"),
	  "t.yaml:5:14: ports[0].address: prefix length must be between 1 and 32" },
	{ "address without prefix", PORT_ADDRESS("10.0.0.1"),
	  "t.yaml:5:14: ports[0].address: \"10.0.0.1\" is not an IPv4 address with a prefix length, like 10.0.0.1/24" },
	{ "network address", PORT_ADDRESS("10.0.0.0/24"),
	  "t.yaml:5:14: ports[0].address: 10.0.0.0 is the network address of 10.0.0.0/24" },
	{ "broadcast address", PORT_ADDRESS("10.0.0.255/24"),
	  "t.yaml:5:14: ports[0].address: 10.0.0.255 is the broadcast address of 10.0.0.0/24" },
	{ "loopback address", PORT_ADDRESS("127.0.0.1/8"),
	  "t.yaml:5:14: ports[0].address: 127.0.0.1 is not a unicast host address" },
	{ "missing address",
	  "ports:\n  - name: d0\n    device: net_ring0\n    roles: [downstream]\n",
	  "t.yaml:2:5: ports[0].address: required field is missing" },
	{ "duplicate address", P0
	  "  - {name: u0, device: net_ring1, roles: [upstream], address: 10.0.0.1/16}\n",
	  "t.yaml:3:63: ports[1].address: 10.0.0.1 is already the address of port d0" },
	{ "overlapping prefixes", P0
	  "  - {name: u0, device: net_ring1, roles: [upstream], address: 10.0.0.129/25}\n",
	  "t.yaml:3:63: ports[1].address: 10.0.0.129/25 overlaps 10.0.0.1/24 of port d0" },
	{ "gateway outside the prefix", PORT_WITH("    gateway: 10.0.1.1\n"),
	  "t.yaml:6:14: ports[0].gateway: 10.0.1.1 is outside the port's prefix 10.0.0.0/24" },
	{ "gateway is the port's address", PORT_WITH("    gateway: 10.0.0.1\n"),
	  "t.yaml:6:14: ports[0].gateway: 10.0.0.1 is the port's own address" },
	{ "mtu below 68", PORT_WITH("    mtu: 67\n"),
	  "t.yaml:6:10: ports[0].mtu: must be between 68 and 9000" },
	{ "mtu above 9000", PORT_WITH("    mtu: 9001\n"),
	  "t.yaml:6:10: ports[0].mtu: must be between 68 and 9000" },
	{ "bad MAC", PORT_WITH("    neighbours:\n"
			       "      - {ip: 10.0.0.2, mac: \"02:00:00:00:00\"}\n"),
	  "t.yaml:7:29: ports[0].neighbours[0].mac: \"02:00:00:00:00\" is not a MAC address like 02:00:00:00:00:01" },
	{ "multicast MAC", PORT_WITH("    neighbours:\n"
				     "      - {ip: 10.0.0.2, mac: \"01:00:5e:00:00:01\"}\n"),
	  "t.yaml:7:29: ports[0].neighbours[0].mac: 01:00:5e:00:00:01 is not a unicast MAC address" },
	{ "neighbour off link", PORT_WITH("    neighbours:\n"
					  "      - {ip: 10.0.9.2, mac: \"02:00:00:00:00:01\"}\n"),
	  "t.yaml:7:14: ports[0].neighbours[0].ip: 10.0.9.2 is outside the port's prefix 10.0.0.0/24" },
	{ "neighbour listed twice", PORT_WITH("    neighbours:\n"
					      "      - {ip: 10.0.0.2, mac: \"02:00:00:00:00:01\"}\n"
					      "      - {ip: 10.0.0.2, mac: \"02:00:00:00:00:02\"}\n"),
	  "t.yaml:8:14: ports[0].neighbours[1].ip: 10.0.0.2 is already listed in neighbours[0]" },
	{ "neighbour without MAC", PORT_WITH("    neighbours:\n      - ip: 10.0.0.2\n"),
	  "t.yaml:7:9: ports[0].neighbours[0].mac: required field is missing" },

	/* listeners */
	{ "listener port 0", P0 "listeners:\n  - port: 0\n",
	  "t.yaml:4:11: listeners[0].port: must be between 1 and 65535" },
	{ "listener port 70000", P0 "listeners:\n  - {port: 70000, protocol: HTTP}\n",
	  "t.yaml:4:12: listeners[0].port: must be between 1 and 65535" },
	{ "listener bad protocol", P0 "listeners:\n  - {port: 80, protocol: UDP}\n",
	  "t.yaml:4:26: listeners[0].protocol: unknown protocol \"UDP\" (expected HTTP or TCP)" },
	{ "listener without port", P0 "listeners:\n  - {protocol: HTTP}\n",
	  "t.yaml:4:5: listeners[0].port: required field is missing" },
	{ "listener port used twice", P0
	  "listeners:\n  - {port: 80}\n  - {port: 80, address: 10.0.0.1}\n",
	  "t.yaml:5:12: listeners[1].port: port 80 is already used by listeners[0]" },
	{ "listener on an upstream port's address", P0
	  "  - {name: u0, device: net_ring1, roles: [upstream], address: 10.0.1.1/24}\n"
	  "listeners:\n  - {port: 80, address: 10.0.1.1}\n",
	  "t.yaml:5:25: listeners[0].address: 10.0.1.1 is the address of port u0, which has no downstream role" },
	{ "listener on 0.0.0.0", P0 "listeners:\n  - {port: 80, address: 0.0.0.0}\n",
	  "t.yaml:4:25: listeners[0].address: leave the address out to listen on every address" },
	{ "listener on a multicast address", P0 "listeners:\n  - {port: 80, address: 239.1.1.1}\n",
	  "t.yaml:4:25: listeners[0].address: 239.1.1.1 is not a unicast host address" },

	/* limits, paths, mirror */
	{ "too few mbufs", P0 "limits:\n  mbufs: 512\n",
	  "t.yaml:4:10: limits.mbufs: must be between 1024 and 67108864" },
	{ "zero connections", P0 "limits:\n  connections_per_worker: 0\n",
	  "t.yaml:4:27: limits.connections_per_worker: must be between 1 and 16777216" },
	{ "integer overflow", P0 "limits:\n  mbufs: 99999999999999999999999\n",
	  "t.yaml:4:10: limits.mbufs: must be between 1024 and 67108864" },
	{ "access_log null", P0 "access_log:\n",
	  "t.yaml:3:12: access_log: expected a string" },
	{ "preload item not a string", P0 "istio:\n  preload: [[a]]\n",
	  "t.yaml:4:13: istio.preload[0]: expected a string" },
	{ "shadow_host_suffix not a bool", P0 "mirror:\n  shadow_host_suffix: 1\n",
	  "t.yaml:4:23: mirror.shadow_host_suffix: expected true or false" },
	{ "mirror back-off beyond its cap", P0 "mirror:\n  unavailable_ms: 30001\n",
	  "t.yaml:4:19: mirror.unavailable_ms: must be between 0 and 30000" },
	{ "requests in flight beyond the bound", P0 "limits:\n  requests_in_flight_per_worker: 16777217\n",
	  "t.yaml:4:34: limits.requests_in_flight_per_worker: must be between 0 and 16777216" },
	{ "no shadow request in flight", P0 "mirror:\n  max_pending: 0\n",
	  "t.yaml:4:16: mirror.max_pending: must be between 1 and 65536" },
};

static void
test_invalid_documents(void **state)
{
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < GW_ARRAY_SIZE(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		rc = load(c->yaml);
		if (rc != -GW_ECONFIG || strcmp(err, c->message) != 0)
			print_error("case \"%s\": rc %d\n  got:      %s\n  expected: %s\n",
				    c->what, rc, err, c->message);
		assert_int_equal(rc, -GW_ECONFIG);
		assert_string_equal(err, c->message);
		/* Nothing stays allocated, the config is back to defaults. */
		assert_int_equal(cfg.n_eal_args, 0);
		assert_int_equal(cfg.n_ports, 0);
	}
}

/* A failure after EAL arguments were copied must free them (ASan). */
static void
test_failure_frees_eal_args(void **state)
{
	(void)state;
	assert_int_equal(load("eal: {args: [--no-pci, --in-memory]}\nports: []\n"),
			 -GW_ECONFIG);
	assert_int_equal(cfg.n_eal_args, 0);
	assert_null(cfg.eal_args[0]);
}

/* A short error buffer truncates the message and stays terminated. */
static void
test_short_error_buffer(void **state)
{
	char small[12];

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(gw_config_load_buffer(&cfg, "t.yaml", "foo: 1\n", 7,
					       small, sizeof(small)),
			 -GW_ECONFIG);
	assert_string_equal(small, "t.yaml:1:1:");
	assert_int_equal(gw_config_load_buffer(&cfg, "t.yaml", "foo: 1\n", 7,
					       NULL, 0),
			 -GW_ECONFIG);
	/* No buffer at all is an empty file. */
	assert_int_equal(gw_config_load_buffer(&cfg, "t.yaml", NULL, 0,
					       err, sizeof(err)),
			 -GW_ECONFIG);
	assert_string_equal(err, "t.yaml:1:1: yaml: the file is empty");
}

/* ------------------------------------------------------------------ */
/* Buffers at the edge of mapped memory, and truncated files           */

/* Parse @p len bytes placed right before a PROT_NONE page. */
static int
load_against_guard_page(const char *yaml, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t span = ((len + (size_t)page - 1) / (size_t)page + 1) *
		(size_t)page;
	char *map, *buf;
	int rc;

	map = mmap(NULL, span, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + span - page, (size_t)page, PROT_NONE),
			 0);
	buf = map + span - page - len;
	memcpy(buf, yaml, len);
	rc = gw_config_load_buffer(&cfg, "t.yaml", buf, len, err, sizeof(err));
	if (rc == 0)
		gw_config_free(&cfg);
	munmap(map, span);
	return rc;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void
test_guard_page(void **state)
{
	size_t i, len;
	char *full;

	(void)state;
	for (i = 0; i < GW_ARRAY_SIZE(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];

		assert_int_equal(load_against_guard_page(c->yaml,
							 strlen(c->yaml)),
				 -GW_ECONFIG);
		assert_string_equal(err, c->message);
	}
	full = read_file(DATA_DIR "/full.yaml", &len);
	assert_int_equal(load_against_guard_page(full, len), 0);
	free(full);
}

/*
 * Every prefix of the full file either parses or fails with a well-formed
 * message; none crashes, leaks or reads past its end.
 */
static void
test_every_prefix(void **state)
{
	size_t len, n;
	unsigned int ok = 0;
	char *full;
	int rc;

	(void)state;
	full = read_file(DATA_DIR "/full.yaml", &len);
	for (n = 0; n <= len; n++) {
		rc = load_against_guard_page(full, n);
		if (rc == 0) {
			ok++;
			continue;
		}
		assert_int_equal(rc, -GW_ECONFIG);
		if (!message_is_well_formed(err, "t.yaml"))
			print_error("prefix %zu: %s\n", n, err);
		assert_true(message_is_well_formed(err, "t.yaml"));
	}
	/* The whole file, and the cuts after its last port's fields. */
	assert_true(ok >= 1);
	free(full);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

static void
test_load_file_errors(void **state)
{
	static const char missing[] = DATA_DIR "/no-such-file.yaml";
	static const char broken[] = DATA_DIR "/syntax-error.yaml";
	char expected[GW_ERR_LEN];

	(void)state;
	assert_int_equal(gw_config_load_file(&cfg, missing, err, sizeof(err)),
			 -ENOENT);
	snprintf(expected, sizeof(expected),
		 "%s: cannot open: No such file or directory", missing);
	assert_string_equal(err, expected);

	assert_int_equal(gw_config_load_file(&cfg, DATA_DIR, err, sizeof(err)),
			 -EISDIR);
	snprintf(expected, sizeof(expected), "%s: cannot read: Is a directory",
		 DATA_DIR);
	assert_string_equal(err, expected);

	/* Errors inside a file name the file. */
	assert_int_equal(gw_config_load_file(&cfg, broken, err, sizeof(err)),
			 -GW_ECONFIG);
	snprintf(expected, sizeof(expected),
		 "%s:4:1: yaml: did not find expected ',' or ']' (while parsing a flow sequence at line 3)",
		 broken);
	assert_string_equal(err, expected);
}

/* Every profile in drivers-config/ parses; the demo one as documented. */
static void
test_profiles(void **state)
{
	char path[512];
	struct dirent *e;
	unsigned int n = 0;
	DIR *dir;
	int rc;

	(void)state;
	dir = opendir(PROFILE_DIR);
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", PROFILE_DIR, e->d_name);
		rc = gw_config_load_file(&cfg, path, err, sizeof(err));
		if (rc != 0)
			print_error("%s\n", err);
		assert_int_equal(rc, 0);
		gw_config_free(&cfg);
		n++;
	}
	closedir(dir);
	assert_true(n >= 7);

	assert_int_equal(gw_config_load_file(&cfg,
					     PROFILE_DIR "/demo-af_xdp.yaml",
					     err, sizeof(err)), 0);
	assert_int_equal(cfg.n_ports, 2);
	assert_string_equal(cfg.ports[0].name, "down0");
	assert_string_equal(cfg.ports[0].device, "net_af_xdp0,iface=gw-down");
	assert_int_equal(cfg.ports[0].roles, GW_ROLE_DOWNSTREAM);
	assert_ip(cfg.ports[0].address, "10.10.1.1");
	assert_string_equal(cfg.ports[1].name, "up0");
	assert_string_equal(cfg.ports[1].device, "net_af_xdp1,iface=gw-up");
	assert_int_equal(cfg.ports[1].roles, GW_ROLE_UPSTREAM | GW_ROLE_SHADOW);
	assert_ip(cfg.ports[1].address, "10.10.2.1");
	assert_true(cfg.idle_backoff);
	assert_int_equal(cfg.n_listeners, 1);
	assert_int_equal(cfg.listeners[0].port, 8000);
	assert_string_equal(cfg.access_log, "-");
	gw_config_free(&cfg);
}

static void
test_roles_str(void **state)
{
	char buf[64], tiny[8];

	(void)state;
	assert_string_equal(gw_config_roles_str(0, buf, sizeof(buf)), "");
	assert_string_equal(gw_config_roles_str(GW_ROLE_UPSTREAM, buf,
						sizeof(buf)), "upstream");
	assert_string_equal(gw_config_roles_str(GW_ROLE_SHADOW |
						GW_ROLE_DOWNSTREAM |
						GW_ROLE_UPSTREAM,
						buf, sizeof(buf)),
			    "downstream,upstream,shadow");
	/* Truncated, still terminated. */
	assert_string_equal(gw_config_roles_str(GW_ROLE_DOWNSTREAM, tiny,
						sizeof(tiny)), "downstr");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_minimal_file),
		cmocka_unit_test(test_valid_variants),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_failure_frees_eal_args),
		cmocka_unit_test(test_short_error_buffer),
		cmocka_unit_test(test_guard_page),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_roles_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
