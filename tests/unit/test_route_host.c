/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual host a lookup finds from (listener, Host), with the
 * worker's cache of the last one: a request after another to a different
 * host, port, listener, case or length gets its own answer, the same as
 * a lookup that could not have used the cache.
 */
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

#define LONG_HOST "a-host-name-longer-than-the-cache-keeps.example.test"

static const char yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: alpha}\n"
	"spec:\n"
	"  hosts: [alpha.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 8000, name: http, protocol: HTTP}]\n"
	"  endpoints: [{address: 10.5.0.1}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: alphb}\n"
	"spec:\n"
	"  hosts: [alpha.tesu]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 8000, name: http, protocol: HTTP}]\n"
	"  endpoints: [{address: 10.5.0.2}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: beta}\n"
	"spec:\n"
	"  hosts: [beta.test]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 9080, name: http, protocol: HTTP}]\n"
	"  endpoints: [{address: 10.5.0.3}]\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: long}\n"
	"spec:\n"
	"  hosts: [" LONG_HOST "]\n"
	"  resolution: STATIC\n"
	"  ports: [{number: 8000, name: http, protocol: HTTP}]\n"
	"  endpoints: [{address: 10.5.0.4}]\n";

static const uint16_t ports[] = {8000, 9080};

struct fixture {
	struct gw_model_store *store;
	struct gw_route_snapshot *snap;
	char err[4096];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct gw_model_set *set = gw_model_set_create();
	struct gw_route_build_params p = {
		.listener_ports = ports,
		.n_listener_ports = GW_ARRAY_SIZE(ports),
		.n_workers = 2,
		.seed = 1,
	};

	assert_non_null(fx);
	assert_non_null(set);
	fx->store = gw_model_store_create();
	assert_non_null(fx->store);
	if (gw_model_set_load_buffer(set, yaml, strlen(yaml), "hosts.yaml",
				     fx->err, sizeof(fx->err)) < 0 ||
	    gw_model_store_apply(fx->store, set, fx->err, sizeof(fx->err)) < 0)
		fail_msg("%s", fx->err);
	gw_model_set_free(set);
	fx->snap = gw_route_snapshot_build(fx->store, &p, fx->err, sizeof(fx->err));
	if (fx->snap == NULL)
		fail_msg("build: %s", fx->err);
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

/* Cluster name of (port, host) on @p worker, or the status name. */
static const char *
route_to(struct fixture *fx, unsigned int worker, uint16_t port,
	 const char *host)
{
	struct gw_route_request r;
	struct gw_route_result res;
	int rc;

	memset(&r, 0, sizeof(r));
	r.listener_port = port;
	r.http.authority = host;
	r.http.authority_len = host != NULL ? (uint32_t)strlen(host) : 0;
	r.http.path = "/";
	r.http.path_len = 1;
	r.http.method = "GET";
	r.http.method_len = 3;
	r.http.scheme = "http";
	r.http.scheme_len = 4;
	r.http.port = port;
	rc = gw_route_lookup(fx->snap, worker, &r, &res);
	if (rc < 0) {
		assert_int_not_equal(res.status, GW_ROUTE_OK);
		return gw_route_status_name(res.status);
	}
	assert_int_equal(res.status, GW_ROUTE_OK);
	if (res.cluster == GW_ROUTE_NO_CLUSTER)
		return "no cluster";
	return gw_route_snapshot_cluster(fx->snap, res.cluster)->name;
}

/* Hand-written sequences, each request after one the cache holds. */
static void
test_host_after_host(void **state)
{
	struct fixture *fx = *state;

	assert_string_equal(route_to(fx, 0, 8000, "alpha.test"), "outbound|8000||alpha.test");
	/* the same again, from the cache */
	assert_string_equal(route_to(fx, 0, 8000, "alpha.test"), "outbound|8000||alpha.test");
	/* same length, last byte differs */
	assert_string_equal(route_to(fx, 0, 8000, "alpha.tesu"), "outbound|8000||alpha.tesu");
	/* first byte differs */
	assert_string_equal(route_to(fx, 0, 8000, "blpha.tesu"), "NO_VHOST");
	assert_string_equal(route_to(fx, 0, 8000, "blpha.tesu"), "NO_VHOST");
	/* cut short, then case and port variants of a cached host */
	assert_string_equal(route_to(fx, 0, 8000, "alpha.tes"), "NO_VHOST");
	assert_string_equal(route_to(fx, 0, 8000, "alpha.test"), "outbound|8000||alpha.test");
	assert_string_equal(route_to(fx, 0, 8000, "ALPHA.test:8000"), "outbound|8000||alpha.test");
	assert_string_equal(route_to(fx, 0, 8000, "alpha.test."), "outbound|8000||alpha.test");
	/* another listener with the same Host, then one that does not exist */
	assert_string_equal(route_to(fx, 0, 9080, "beta.test"), "outbound|9080||beta.test");
	assert_string_equal(route_to(fx, 0, 1234, "beta.test"), "NO_LISTENER");
	assert_string_equal(route_to(fx, 0, 9080, "beta.test"), "outbound|9080||beta.test");
	/* no Host at all, short hosts, a host longer than the cache keeps */
	assert_string_equal(route_to(fx, 0, 8000, NULL), "NO_VHOST");
	assert_string_equal(route_to(fx, 0, 8000, "ab"), "NO_VHOST");
	assert_string_equal(route_to(fx, 0, 8000, "abcde"), "NO_VHOST");
	assert_string_equal(route_to(fx, 0, 8000, LONG_HOST), "outbound|8000||" LONG_HOST);
	assert_string_equal(route_to(fx, 0, 8000, LONG_HOST), "outbound|8000||" LONG_HOST);
	assert_string_equal(route_to(fx, 0, 8000, "alpha.test"), "outbound|8000||alpha.test");
	/* each worker has its own cache */
	assert_string_equal(route_to(fx, 1, 8000, "alpha.tesu"), "outbound|8000||alpha.tesu");
	assert_string_equal(route_to(fx, 0, 8000, "alpha.test"), "outbound|8000||alpha.test");
}

/*
 * Random sequences of near hosts: every answer equals the one worker 1
 * gives right after a lookup of another host (a cache miss).
 */
static void
test_host_random_sequence(void **state)
{
	static const char *const hosts[] = {
		"alpha.test", "alpha.tesu", "Alpha.Test", "alpha.test:8000",
		"alpha.test.", "alpha.tes", "alpha.testt", "beta.test",
		"BETA.TEST:9080", "b", "", "[::1]:8000", LONG_HOST, NULL,
	};
	static const uint16_t lports[] = {8000, 9080, 1234};
	struct fixture *fx = *state;
	uint64_t x = 88172645463325252ULL;
	uint32_t i, hits = 0;

	for (i = 0; i < 20000; i++) {
		const char *host, *want;
		uint16_t port;
		char got[128];

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		host = hosts[x % GW_ARRAY_SIZE(hosts)];
		/* now and then a port nothing listens on */
		port = lports[(x >> 8) % 8 == 0 ? 2 : (x >> 8) % 2];
		snprintf(got, sizeof(got), "%s", route_to(fx, 0, port, host));
		/* worker 1: another host first, so this one is looked up */
		route_to(fx, 1, 8000, "flush.invalid");
		want = route_to(fx, 1, port, host);
		if (strcmp(got, want) != 0)
			fail_msg("request %u (%u, %s): got %s, want %s", i, port,
				 host ? host : "(none)", got, want);
		hits += strncmp(got, "outbound", 8) == 0;
	}
	/* both routed and unrouted requests were seen */
	assert_true(hits > 5000);
	assert_true(hits < 15000);
}

/*
 * 9,000 routes of one virtual host: each path finds its own route and
 * the route's cluster through its hot record.
 */
static void
test_many_routes(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_build_params p = {
		.listener_ports = ports,
		.n_listener_ports = GW_ARRAY_SIZE(ports),
		.n_workers = 2,
		.seed = 1,
	};
	size_t cap = 9000 * 96 + 512, len;
	struct gw_model_set *set = gw_model_set_create();
	char *text = malloc(cap);
	uint32_t r;

	assert_non_null(set);
	assert_non_null(text);
	len = (size_t)snprintf(text, cap,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: many}\n"
		"spec:\n"
		"  hosts: [alpha.test]\n"
		"  http:\n");
	for (r = 0; r < 9000; r++)
		len += (size_t)snprintf(text + len, cap - len,
			"  - match: [{uri: {prefix: /r%u/}}]\n"
			"    route: [{destination: {host: %s}}]\n",
			r, r % 2 ? "alpha.test" : "alpha.tesu");
	assert_true(len < cap);
	if (gw_model_set_load_buffer(set, text, len, "many.yaml", fx->err,
				     sizeof(fx->err)) < 0 ||
	    gw_model_store_apply(fx->store, set, fx->err, sizeof(fx->err)) < 0)
		fail_msg("%s", fx->err);
	gw_model_set_free(set);
	free(text);
	gw_route_snapshot_free(fx->snap);
	fx->snap = gw_route_snapshot_build(fx->store, &p, fx->err, sizeof(fx->err));
	if (fx->snap == NULL)
		fail_msg("build: %s", fx->err);
	for (r = 0; r < 9000; r++) {
		struct gw_route_request q;
		struct gw_route_result res;
		char path[32];

		snprintf(path, sizeof(path), "/r%u/item", r);
		memset(&q, 0, sizeof(q));
		q.listener_port = 8000;
		q.http.authority = "alpha.test";
		q.http.authority_len = 10;
		q.http.path = path;
		q.http.path_len = (uint32_t)strlen(path);
		q.http.method = "GET";
		q.http.method_len = 3;
		assert_int_equal(gw_route_lookup(fx->snap, r % 2, &q, &res), 0);
		assert_int_equal(res.route->http_index, r);
		assert_string_equal(gw_route_snapshot_cluster(fx->snap, res.cluster)->name,
				    r % 2 ? "outbound|8000||alpha.test" :
					    "outbound|8000||alpha.tesu");
	}
	assert_string_equal(route_to(fx, 0, 8000, "alpha.test"), "NO_MATCH");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_after_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_random_sequence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_routes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
