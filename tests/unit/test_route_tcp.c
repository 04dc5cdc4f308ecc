/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/route's TCP part: bootstrap TCP listeners, Gateway TCP
 * servers and ServiceEntry VIP TCP ports; VirtualService `tcp` routes in
 * order with port and destinationSubnets matches, first match wins;
 * weighted splits exact per worker; a VIP without a VirtualService routing
 * to all of the service's endpoints; source-IP consistent hashing for the
 * endpoint; HTTP listeners unaffected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_common.h"
#include "gw_model.h"
#include "gw_route.h"

#define IP4(a, b, c, d) htonl(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* Two echo workloads behind one service, plus a database with a VIP. */
static const char services_yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: echo, namespace: l4}\n"
	"spec:\n"
	"  hosts: [echo.l4.svc]\n"
	"  addresses: [10.96.0.20]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 9000, name: tcp-echo, protocol: TCP, targetPort: 7000}\n"
	"  endpoints:\n"
	"  - address: 10.10.2.11\n"
	"    labels: {app: echo, version: v1}\n"
	"  - address: 10.10.2.12\n"
	"    labels: {app: echo, version: v2}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: DestinationRule\n"
	"metadata: {name: echo, namespace: l4}\n"
	"spec:\n"
	"  host: echo.l4.svc\n"
	"  subsets:\n"
	"  - name: v1\n"
	"    labels: {version: v1}\n"
	"  - name: v2\n"
	"    labels: {version: v2}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: db}\n"
	"spec:\n"
	"  hosts: [db]\n"
	"  addresses: [10.96.0.30]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 5432, name: postgres, protocol: TCP}\n"
	"  - {number: 8080, name: http, protocol: HTTP}\n"
	"  endpoints:\n"
	"  - address: 10.20.0.1\n"
	"  - address: 10.20.0.2\n"
	"  - address: 10.20.0.3\n";

/* The example: port 9000 split 80/20 between v1 and v2. */
static const char vs_split_yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: VirtualService\n"
	"metadata: {name: echo, namespace: l4}\n"
	"spec:\n"
	"  hosts: [echo.l4.svc]\n"
	"  tcp:\n"
	"  - match:\n"
	"    - port: 9000\n"
	"    route:\n"
	"    - destination: {host: echo.l4.svc, subset: v1, port: {number: 9000}}\n"
	"      weight: 80\n"
	"    - destination: {host: echo.l4.svc, subset: v2, port: {number: 9000}}\n"
	"      weight: 20\n";

struct fixture {
	struct gw_model_store *store;
	struct gw_route_snapshot *snap;
	char err[4096];
};

static void
apply_buffer(struct fixture *fx, const char *yaml, const char *name)
{
	struct gw_model_set *set = gw_model_set_create();
	int rc;

	assert_non_null(set);
	rc = gw_model_set_load_buffer(set, yaml, strlen(yaml), name, fx->err,
				      sizeof(fx->err));
	if (rc < 0)
		fail_msg("%s: %s", name, fx->err);
	rc = gw_model_store_apply(fx->store, set, fx->err, sizeof(fx->err));
	if (rc < 0)
		fail_msg("apply %s: %s", name, fx->err);
	gw_model_set_free(set);
}

/* Bootstrap: 8000 HTTP, 9000 and 9001 TCP. */
static void
build_mode(struct fixture *fx, enum gw_lb_weighted_mode mode)
{
	static const uint16_t ports[] = {8000, 9000, 9001};
	static const enum gw_route_protocol protos[] = {
		GW_ROUTE_PROTOCOL_HTTP, GW_ROUTE_PROTOCOL_TCP, GW_ROUTE_PROTOCOL_TCP,
	};
	struct gw_route_build_params p = {
		.listener_ports = ports,
		.n_listener_ports = GW_ARRAY_SIZE(ports),
		.listener_protocols = protos,
		.n_workers = 2,
		.weighted_mode = mode,
		.seed = 7,
	};

	gw_route_snapshot_free(fx->snap);
	fx->snap = gw_route_snapshot_build(fx->store, &p, fx->err, sizeof(fx->err));
	if (fx->snap == NULL)
		fail_msg("build: %s", fx->err);
}

static void
build(struct fixture *fx)
{
	build_mode(fx, GW_LB_WEIGHTED_SMOOTH);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->store = gw_model_store_create();
	assert_non_null(fx->store);
	apply_buffer(fx, services_yaml, "services.yaml");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	gw_route_snapshot_free(fx->snap);
	gw_model_store_free(fx->store);
	free(fx);
	return 0;
}

/* Cluster name a connection to ip:port goes to, or the status name. */
static const char *
tcp_to(struct fixture *fx, unsigned int worker, uint32_t ip, uint16_t port,
       struct gw_route_tcp_result *res)
{
	struct gw_route_tcp_result local;
	int rc;

	if (res == NULL)
		res = &local;
	rc = gw_route_tcp_lookup(fx->snap, worker, ip, port, res);
	if (rc < 0) {
		assert_int_equal(rc, -ENOENT);
		assert_int_not_equal(res->status, GW_ROUTE_OK);
		assert_null(res->route);
		assert_int_equal(res->cluster, GW_ROUTE_NO_CLUSTER);
		return gw_route_status_name(res->status);
	}
	assert_non_null(res->route);
	assert_true(res->destination >= 0 &&
		    (uint32_t)res->destination < res->route->n_destinations);
	return gw_route_snapshot_cluster(fx->snap, res->cluster)->name;
}

static const char *
simple(struct fixture *fx, uint32_t ip, uint16_t port)
{
	return tcp_to(fx, 0, ip, port, NULL);
}

/* ---- bootstrap listeners ---- */

static void
test_bootstrap_split_80_20_exact(void **state)
{
	struct fixture *fx = *state;
	const char *name;
	int w, i, win, v1;

	apply_buffer(fx, vs_split_yaml, "vs.yaml");
	build(fx);
	/* every window of 5 connections is 4:1, on each worker independently */
	for (win = 0; win < 40; win++) {
		for (w = 0; w < 2; w++) {
			v1 = 0;
			for (i = 0; i < 5; i++) {
				name = tcp_to(fx, (unsigned int)w, IP4(10, 10, 1, 1),
					      9000, NULL);
				if (strcmp(name, "outbound|9000|v1|echo.l4.svc") == 0)
					v1++;
				else
					assert_string_equal(name,
						"outbound|9000|v2|echo.l4.svc");
			}
			assert_int_equal(v1, 4);
		}
	}
}

static void
test_bootstrap_split_random_mode(void **state)
{
	struct fixture *fx = *state;
	int i, v1 = 0;

	apply_buffer(fx, vs_split_yaml, "vs.yaml");
	build_mode(fx, GW_LB_WEIGHTED_RANDOM);
	for (i = 0; i < 10000; i++)
		if (strcmp(simple(fx, IP4(10, 10, 1, 1), 9000),
			   "outbound|9000|v1|echo.l4.svc") == 0)
			v1++;
	assert_true(v1 > 7600 && v1 < 8400);
}

static void
test_endpoints_and_target_port(void **state)
{
	struct fixture *fx = *state;
	const struct gw_route_cluster *c;
	struct gw_route_tcp_result res;
	int ep;

	apply_buffer(fx, vs_split_yaml, "vs.yaml");
	build(fx);
	/* the first pick of a fresh worker is v1 (weight 80) */
	assert_string_equal(tcp_to(fx, 1, IP4(10, 10, 1, 1), 9000, &res),
			    "outbound|9000|v1|echo.l4.svc");
	c = gw_route_snapshot_cluster(fx->snap, res.cluster);
	assert_int_equal(c->n_endpoints, 1);
	ep = gw_route_pick_endpoint(fx->snap, 1, res.cluster, NULL, NULL, NULL);
	assert_int_equal(ep, 0);
	assert_int_equal(c->endpoints[0].addr.v4, IP4(10, 10, 2, 11));
	assert_int_equal(c->endpoints[0].port, 7000); /* targetPort */
	assert_string_equal(res.route->vs_namespace, "l4");
	assert_string_equal(res.route->vs_name, "echo");
	assert_int_equal(res.route->tcp_index, 0);
	assert_non_null(res.route->spec);
	assert_int_equal(res.route->n_destinations, 2);
	assert_int_equal(res.route->destinations[0].weight, 80);
	assert_null(res.route->destinations[0].headers);
}

static void
test_bootstrap_port_is_not_http(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_listener_info info;
	struct gw_route_request req;
	struct gw_route_result res;
	uint32_t i;

	apply_buffer(fx, vs_split_yaml, "vs.yaml");
	build(fx);
	memset(&req, 0, sizeof(req));
	req.listener_ip = IP4(10, 10, 1, 1);
	req.listener_port = 9000;
	req.http.authority = "echo.l4.svc";
	req.http.authority_len = 11;
	req.http.path = "/";
	req.http.path_len = 1;
	assert_int_equal(gw_route_lookup(fx->snap, 0, &req, &res), -ENOENT);
	assert_int_equal(res.status, GW_ROUTE_NO_LISTENER);
	for (i = 0; i < gw_route_snapshot_listener_count(fx->snap); i++) {
		assert_int_equal(gw_route_snapshot_listener(fx->snap, i, &info), 0);
		assert_int_not_equal(info.port, 9000);
		assert_int_not_equal(info.port, 9001);
	}
	/* the HTTP bootstrap port is no TCP listener */
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 8000), "NO_LISTENER");
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9999), "NO_LISTENER");
}

static void
test_first_match_wins_by_port(void **state)
{
	struct fixture *fx = *state;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: echo, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  tcp:\n"
		"  - match: [{port: 9001}]\n"
		"    route:\n"
		"    - destination: {host: echo.l4.svc, subset: v2}\n"
		"  - route:\n"
		"    - destination: {host: echo.l4.svc, subset: v1}\n"
		"  - match: [{port: 9000}]\n"
		"    route:\n"
		"    - destination: {host: db}\n", "vs.yaml");
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9001),
			    "outbound|9000|v2|echo.l4.svc");
	/* the route without a match comes first on 9000 */
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000),
			    "outbound|9000|v1|echo.l4.svc");
	/* three routes compiled once, shared by both listeners */
	assert_int_equal(gw_route_snapshot_tcp_route_count(fx->snap), 3 + 2);
}

static void
test_matches_are_ored_and_subnets(void **state)
{
	struct fixture *fx = *state;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: echo, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  tcp:\n"
		"  - match:\n"
		"    - {port: 9000, destinationSubnets: [10.10.1.0/24, 192.0.2.7]}\n"
		"    - {port: 9001}\n"
		"    route:\n"
		"    - destination: {host: echo.l4.svc, subset: v2}\n"
		"  - match:\n"
		"    - destinationSubnets: [0.0.0.0/0]\n"
		"    route:\n"
		"    - destination: {host: db, port: {number: 5432}}\n", "vs.yaml");
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000),
			    "outbound|9000|v2|echo.l4.svc");
	assert_string_equal(simple(fx, IP4(10, 10, 1, 200), 9000),
			    "outbound|9000|v2|echo.l4.svc");
	assert_string_equal(simple(fx, IP4(192, 0, 2, 7), 9000),
			    "outbound|9000|v2|echo.l4.svc");
	/* outside the subnets: the next route (0.0.0.0/0) */
	assert_string_equal(simple(fx, IP4(192, 0, 2, 8), 9000),
			    "outbound|5432||db");
	assert_string_equal(simple(fx, IP4(10, 10, 9, 1), 9000),
			    "outbound|5432||db");
	/* the second match of the first route: port alone */
	assert_string_equal(simple(fx, IP4(192, 0, 2, 8), 9001),
			    "outbound|9000|v2|echo.l4.svc");
}

static void
test_no_route_is_no_match(void **state)
{
	struct fixture *fx = *state;

	/* no VirtualService at all: a bootstrap TCP port routes nowhere */
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000), "NO_MATCH");
	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: echo, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  tcp:\n"
		"  - match: [{port: 7777}]\n"
		"    route:\n"
		"    - destination: {host: echo.l4.svc}\n", "vs.yaml");
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000), "NO_MATCH");
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9001), "NO_MATCH");
}

static void
test_gateway_bound_vs_not_on_mesh(void **state)
{
	struct fixture *fx = *state;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: a-gw, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  gateways: [other]\n"
		"  tcp:\n"
		"  - route:\n"
		"    - destination: {host: db}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: b-mesh, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  gateways: [other, mesh]\n"
		"  tcp:\n"
		"  - route:\n"
		"    - destination: {host: echo.l4.svc, subset: v1}\n", "vs.yaml");
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000),
			    "outbound|9000|v1|echo.l4.svc");
}

/* ---- ServiceEntry VIPs ---- */

static void
test_vip_without_vs_spreads_over_endpoints(void **state)
{
	struct fixture *fx = *state;
	const struct gw_route_cluster *c;
	struct gw_route_tcp_result res;
	int i, seen[3] = {0, 0, 0}, ep;

	build(fx);
	for (i = 0; i < 30; i++) {
		assert_string_equal(tcp_to(fx, 0, IP4(10, 96, 0, 30), 5432, &res),
				    "outbound|5432||db");
		assert_null(res.route->spec);
		assert_null(res.route->vs_namespace);
		assert_string_equal(res.route->vs_name, "db");
		ep = gw_route_pick_endpoint(fx->snap, 0, res.cluster, NULL, NULL,
					    NULL);
		assert_true(ep >= 0 && ep < 3);
		seen[ep]++;
	}
	/* round robin: evenly */
	assert_int_equal(seen[0], 10);
	assert_int_equal(seen[1], 10);
	assert_int_equal(seen[2], 10);
	c = gw_route_snapshot_cluster(fx->snap, res.cluster);
	assert_int_equal(c->n_endpoints, 3);
	assert_int_equal(c->endpoints[2].port, 5432);
	/* the service's HTTP port is an HTTP VIP listener, not a TCP one */
	assert_string_equal(simple(fx, IP4(10, 96, 0, 30), 8080), "NO_LISTENER");
	/* the VIP port at another address: nothing listens */
	assert_string_equal(simple(fx, IP4(10, 96, 0, 31), 5432), "NO_LISTENER");
	/* echo's VIP, port 9000: exact VIP listener before the bootstrap one */
	assert_string_equal(simple(fx, IP4(10, 96, 0, 20), 9000),
			    "outbound|9000||echo.l4.svc");
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000), "NO_MATCH");
}

static void
test_vip_with_vs_then_fallback(void **state)
{
	struct fixture *fx = *state;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: echo, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  tcp:\n"
		"  - match: [{port: 9000, destinationSubnets: [10.96.0.0/16]}]\n"
		"    route:\n"
		"    - destination: {host: echo.l4.svc, subset: v2}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: db}\n"
		"spec:\n"
		"  hosts: [db]\n"
		"  tcp:\n"
		"  - match: [{destinationSubnets: [192.0.2.0/24]}]\n"
		"    route:\n"
		"    - destination: {host: db}\n", "vs.yaml");
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 96, 0, 20), 9000),
			    "outbound|9000|v2|echo.l4.svc");
	/* the db route does not match the VIP: the service's default */
	assert_string_equal(simple(fx, IP4(10, 96, 0, 30), 5432),
			    "outbound|5432||db");
}

static void
test_source_ip_hash(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_tcp_result res;
	struct gw_route_request req;
	int i, first[16], seen[3] = {0, 0, 0};

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\n"
		"metadata: {name: db}\n"
		"spec:\n"
		"  host: db\n"
		"  trafficPolicy:\n"
		"    loadBalancer:\n"
		"      consistentHash: {useSourceIp: true}\n", "dr.yaml");
	build(fx);
	memset(&req, 0, sizeof(req));
	for (i = 0; i < 16; i++) {
		req.source_ip = IP4(10, 10, 1, 2 + i);
		assert_string_equal(tcp_to(fx, 0, IP4(10, 96, 0, 30), 5432, &res),
				    "outbound|5432||db");
		first[i] = gw_route_pick_endpoint(fx->snap, 0, res.cluster, &req,
						  NULL, NULL);
		assert_true(first[i] >= 0 && first[i] < 3);
		seen[first[i]]++;
	}
	for (i = 0; i < 16; i++) {
		req.source_ip = IP4(10, 10, 1, 2 + i);
		assert_int_equal(gw_route_pick_endpoint(fx->snap, 1, res.cluster,
							&req, NULL, NULL),
				 first[i]);
	}
	assert_true(seen[0] + seen[1] + seen[2] == 16);
	assert_true((seen[0] > 0) + (seen[1] > 0) + (seen[2] > 0) >= 2);
}

/* ---- Gateway TCP servers ---- */

static void
test_gateway_tcp_server(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_listener_info info;
	uint32_t i, n_gw = 0;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: Gateway\n"
		"metadata: {name: tcp-gw, namespace: l4}\n"
		"spec:\n"
		"  selector: {istio: ingressgateway}\n"
		"  servers:\n"
		"  - port: {number: 31400, name: tcp, protocol: TCP}\n"
		"    hosts: [\"*\"]\n"
		"  - port: {number: 9001, name: tcp-b, protocol: TCP}\n"
		"    hosts: [\"*\"]\n"
		"  - port: {number: 8000, name: tcp-c, protocol: TCP}\n"
		"    hosts: [\"*\"]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: bound, namespace: l4}\n"
		"spec:\n"
		"  hosts: [\"*\"]\n"
		"  gateways: [tcp-gw]\n"
		"  tcp:\n"
		"  - match: [{port: 31400}]\n"
		"    route:\n"
		"    - destination: {host: echo.l4.svc, subset: v2, port: {number: 9000}}\n"
		"  - match: [{port: 9001}]\n"
		"    route:\n"
		"    - destination: {host: db}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: mesh, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  tcp:\n"
		"  - route:\n"
		"    - destination: {host: echo.l4.svc, subset: v1}\n", "gw.yaml");
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 31400),
			    "outbound|9000|v2|echo.l4.svc");
	/* a port both Gateway and bootstrap: the Gateway's routes first */
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9001),
			    "outbound|5432||db");
	/* the bootstrap port without Gateway routes: the mesh's */
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000),
			    "outbound|9000|v1|echo.l4.svc");
	/* 8000 is an HTTP bootstrap listener: HTTP keeps it */
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 8000), "NO_LISTENER");

	for (i = 0; i < gw_route_snapshot_tcp_listener_count(fx->snap); i++) {
		assert_int_equal(gw_route_snapshot_tcp_listener(fx->snap, i, &info), 0);
		if (i > 0) {
			struct gw_route_listener_info prev;

			gw_route_snapshot_tcp_listener(fx->snap, i - 1, &prev);
			assert_true(prev.port < info.port ||
				    (prev.port == info.port && prev.ip < info.ip));
		}
		if (info.port == 31400) {
			assert_int_equal(info.kind, GW_ROUTE_LISTENER_GATEWAY);
			assert_string_equal(info.name, "0.0.0.0:31400 (tcp, gateway)");
			n_gw++;
		}
		if (info.port == 9001)
			assert_int_equal(info.kind, GW_ROUTE_LISTENER_BOOTSTRAP);
	}
	assert_int_equal(n_gw, 1);
	/* listeners: 9000, 9001 (bootstrap), 31400 (gateway), 5432 and 9000 VIPs */
	assert_int_equal(gw_route_snapshot_tcp_listener_count(fx->snap), 5);
	assert_int_equal(gw_route_snapshot_tcp_listener(fx->snap, 5, &info),
			 -ENOENT);
}

static void
test_gateway_server_hosts_filter(void **state)
{
	struct fixture *fx = *state;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: Gateway\n"
		"metadata: {name: tcp-gw, namespace: l4}\n"
		"spec:\n"
		"  servers:\n"
		"  - port: {number: 31400, name: tcp, protocol: TCP}\n"
		"    hosts: [\"l4/*.l4.svc\"]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: a-other-host, namespace: l4}\n"
		"spec:\n"
		"  hosts: [db.example.com]\n"
		"  gateways: [tcp-gw]\n"
		"  tcp:\n"
		"  - route:\n"
		"    - destination: {host: db}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: b-echo, namespace: l4}\n"
		"spec:\n"
		"  hosts: [echo.l4.svc]\n"
		"  gateways: [tcp-gw]\n"
		"  tcp:\n"
		"  - route:\n"
		"    - destination: {host: echo.l4.svc, subset: v2}\n", "gw.yaml");
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 31400),
			    "outbound|9000|v2|echo.l4.svc");
}

static void
test_gateway_protocols_in_model(void **state)
{
	struct fixture *fx = *state;
	struct gw_model_set *set = gw_model_set_create();
	static const char https[] =
		"apiVersion: networking.istio.io/v1\nkind: Gateway\n"
		"metadata: {name: g}\nspec:\n  servers:\n"
		"  - port: {number: 443, name: https, protocol: HTTPS}\n"
		"    hosts: [\"*\"]\n";

	assert_non_null(set);
	assert_true(gw_model_set_load_buffer(set, https, strlen(https), "t.yaml",
					     fx->err, sizeof(fx->err)) < 0);
	assert_non_null(strstr(fx->err, "(only HTTP and TCP)"));
	gw_model_set_free(set);
}

/* ---- snapshot lifetime ---- */

static void
test_snapshot_outlives_store_and_views(void **state)
{
	struct fixture *fx = *state;
	const struct gw_route_tcp *r;
	uint32_t i;

	apply_buffer(fx, vs_split_yaml, "vs.yaml");
	build(fx);
	assert_int_equal(gw_model_store_delete(fx->store,
		GW_MODEL_KIND_VIRTUAL_SERVICE, "l4", "echo"), 0);
	assert_int_equal(gw_model_store_delete(fx->store,
		GW_MODEL_KIND_SERVICE_ENTRY, "l4", "echo"), 0);
	/* the old snapshot still routes with what it was built from */
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000),
			    "outbound|9000|v1|echo.l4.svc");
	for (i = 0; i < gw_route_snapshot_tcp_route_count(fx->snap); i++) {
		r = gw_route_snapshot_tcp_route(fx->snap, i);
		assert_non_null(r);
		assert_int_equal(r->id, i);
		assert_non_null(r->vs_name);
	}
	assert_null(gw_route_snapshot_tcp_route(fx->snap, i));
	assert_true(gw_route_snapshot_memory(fx->snap) > 0);
	build(fx);
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000), "NO_MATCH");
	/* the VIP is gone: the bootstrap listener, without routes */
	assert_string_equal(simple(fx, IP4(10, 96, 0, 20), 9000), "NO_MATCH");
	assert_string_equal(simple(fx, IP4(10, 96, 0, 30), 5432),
			    "outbound|5432||db");
}

static void
test_no_protocols_means_http(void **state)
{
	struct fixture *fx = *state;
	static const uint16_t ports[] = {9000};
	struct gw_route_build_params p = {
		.listener_ports = ports,
		.n_listener_ports = 1,
		.n_workers = 1,
	};

	apply_buffer(fx, vs_split_yaml, "vs.yaml");
	fx->snap = gw_route_snapshot_build(fx->store, &p, fx->err, sizeof(fx->err));
	assert_non_null(fx->snap);
	/* 9000 stays an HTTP bootstrap listener: only the VIPs are TCP */
	assert_string_equal(simple(fx, IP4(10, 10, 1, 1), 9000), "NO_LISTENER");
	assert_int_equal(gw_route_snapshot_tcp_listener_count(fx->snap), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_bootstrap_split_80_20_exact),
		T(test_bootstrap_split_random_mode),
		T(test_endpoints_and_target_port),
		T(test_bootstrap_port_is_not_http),
		T(test_first_match_wins_by_port),
		T(test_matches_are_ored_and_subnets),
		T(test_no_route_is_no_match),
		T(test_gateway_bound_vs_not_on_mesh),
		T(test_vip_without_vs_spreads_over_endpoints),
		T(test_vip_with_vs_then_fallback),
		T(test_source_ip_hash),
		T(test_gateway_tcp_server),
		T(test_gateway_server_hosts_filter),
		T(test_gateway_protocols_in_model),
		T(test_snapshot_outlives_store_and_views),
		T(test_no_protocols_means_http),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
