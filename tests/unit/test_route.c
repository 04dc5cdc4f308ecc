/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/route: the lab's fixtures (Bookinfo and the mirroring
 * seed) loaded through lib/model produce the lab's routing; wildcard
 * hosts, default routes of services without a VirtualService, unknown
 * hosts, ServiceEntry VIP and Gateway listeners, consistent hashing, the
 * describe text, and a snapshot outliving the store's changes.
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
#include <unistd.h>

#include <cmocka.h>

#include "gw_common.h"
#include "gw_model.h"
#include "gw_route.h"

/* The registry the lab's Kubernetes would provide, as ServiceEntries. */
static const char services_yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata:\n"
	"  name: reviews\n"
	"spec:\n"
	"  hosts: [reviews]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 9080, name: http, protocol: HTTP}\n"
	"  endpoints:\n"
	"  - address: 10.1.0.1\n"
	"    labels: {app: reviews, version: v1}\n"
	"  - address: 10.1.0.2\n"
	"    labels: {app: reviews, version: v2}\n"
	"  - address: 10.1.0.3\n"
	"    labels: {app: reviews, version: v3}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata:\n"
	"  name: ratings\n"
	"spec:\n"
	"  hosts: [ratings]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 9080, name: http, protocol: HTTP}\n"
	"  endpoints:\n"
	"  - address: 10.2.0.1\n"
	"    labels: {app: ratings, version: v1}\n"
	"  - address: 10.2.0.2\n"
	"    labels: {app: ratings, version: v2}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata:\n"
	"  name: details\n"
	"spec:\n"
	"  hosts: [details]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 9080, name: http, protocol: HTTP}\n"
	"  endpoints:\n"
	"  - address: 10.3.0.1\n"
	"    labels: {app: details, version: v1}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata:\n"
	"  name: productpage\n"
	"spec:\n"
	"  hosts: [productpage]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 9080, name: http, protocol: HTTP}\n"
	"  endpoints:\n"
	"  - address: 10.4.0.1\n"
	"    labels: {app: productpage, version: v1}\n"
	"---\n"
	"# the seed lab's Service httpbin: port 8000 (http) to target port 80\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata:\n"
	"  name: httpbin\n"
	"spec:\n"
	"  hosts: [httpbin]\n"
	"  addresses: [10.96.0.10]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 8000, name: http, protocol: HTTP, targetPort: 80}\n"
	"  endpoints:\n"
	"  - address: 10.5.0.1\n"
	"    labels: {app: httpbin, version: v1}\n"
	"  - address: 10.5.0.2\n"
	"    labels: {app: httpbin, version: v2}\n";

static const uint16_t bootstrap_ports[] = {8000, 9080};

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

/* A fixture from tests/fixtures/istio, or the shared copy. */
static void
apply_fixture(struct fixture *fx, const char *rel)
{
	struct gw_model_set *set = gw_model_set_create();
	char path[1024];
	int rc;

	snprintf(path, sizeof(path), "%s/tests/fixtures/istio/%s", SOURCE_ROOT, rel);
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof(path), "%s/../shared/fixtures/istio/%s",
			 SOURCE_ROOT, rel);
	assert_non_null(set);
	rc = gw_model_set_load_file(set, path, fx->err, sizeof(fx->err));
	if (rc < 0)
		fail_msg("%s: %s", path, fx->err);
	rc = gw_model_store_apply(fx->store, set, fx->err, sizeof(fx->err));
	if (rc < 0)
		fail_msg("apply %s: %s", path, fx->err);
	gw_model_set_free(set);
}

static void
build(struct fixture *fx)
{
	struct gw_route_build_params p = {
		.listener_ports = bootstrap_ports,
		.n_listener_ports = GW_ARRAY_SIZE(bootstrap_ports),
		.n_workers = 2,
		.seed = 1,
	};

	gw_route_snapshot_free(fx->snap);
	fx->snap = gw_route_snapshot_build(fx->store, &p, fx->err, sizeof(fx->err));
	if (fx->snap == NULL)
		fail_msg("build: %s", fx->err);
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

/* A request to @p host on 0.0.0.0:@p port with optional end-user. */
struct req {
	struct gw_route_request r;
	struct gw_match_header h[4];
};

static void
req_init(struct req *q, uint16_t port, const char *host, const char *path,
	 const char *end_user)
{
	memset(q, 0, sizeof(*q));
	q->r.listener_port = port;
	q->r.source_ip = htonl(0x0a090001);
	q->r.http.authority = host;
	q->r.http.authority_len = host ? (uint32_t)strlen(host) : 0;
	q->r.http.path = path;
	q->r.http.path_len = (uint32_t)strlen(path);
	q->r.http.method = "GET";
	q->r.http.method_len = 3;
	q->r.http.scheme = "http";
	q->r.http.scheme_len = 4;
	q->r.http.port = port;
	q->r.http.headers = q->h;
	if (end_user != NULL) {
		q->h[0].name = "end-user";
		q->h[0].name_len = 8;
		q->h[0].value = end_user;
		q->h[0].value_len = (uint32_t)strlen(end_user);
		q->r.http.n_headers = 1;
	}
}

/* Cluster name the request is routed to, or the status name. */
static const char *
route_to(struct fixture *fx, unsigned int worker, struct req *q,
	 struct gw_route_result *res)
{
	int rc = gw_route_lookup(fx->snap, worker, &q->r, res);

	if (rc < 0) {
		assert_int_not_equal(res->status, GW_ROUTE_OK);
		return gw_route_status_name(res->status);
	}
	if (res->cluster == GW_ROUTE_NO_CLUSTER)
		return "no cluster";
	return gw_route_snapshot_cluster(fx->snap, res->cluster)->name;
}

static const char *
simple(struct fixture *fx, uint16_t port, const char *host, const char *user)
{
	struct gw_route_result res;
	struct req q;

	req_init(&q, port, host, "/", user);
	return route_to(fx, 0, &q, &res);
}

/* ---- Bookinfo ---- */

static void
test_bookinfo_all_v1(void **state)
{
	struct fixture *fx = *state;
	const struct gw_route_cluster *c;
	struct gw_route_result res;
	struct req q;
	int i, ep;

	apply_fixture(fx, "bookinfo/destination-rule-all.yaml");
	apply_fixture(fx, "bookinfo/virtual-service-all-v1.yaml");
	build(fx);
	for (i = 0; i < 100; i++) {
		req_init(&q, 9080, "reviews:9080", "/reviews/0", i % 2 ? "jason" : NULL);
		assert_string_equal(route_to(fx, i % 2, &q, &res),
				    "outbound|9080|v1|reviews");
		ep = gw_route_pick_endpoint(fx->snap, i % 2, res.cluster, &q.r,
					    NULL, NULL);
		c = gw_route_snapshot_cluster(fx->snap, res.cluster);
		assert_int_equal(ep, 0);
		assert_string_equal(c->endpoints[ep].address, "10.1.0.1");
		assert_int_equal(c->endpoints[ep].port, 9080);
	}
	assert_string_equal(simple(fx, 9080, "ratings", NULL), "outbound|9080|v1|ratings");
	assert_string_equal(simple(fx, 9080, "details", NULL), "outbound|9080|v1|details");
	assert_string_equal(simple(fx, 9080, "productpage", NULL),
			    "outbound|9080|v1|productpage");
}

static void
test_bookinfo_jason_v2(void **state)
{
	struct fixture *fx = *state;

	apply_fixture(fx, "bookinfo/destination-rule-all.yaml");
	apply_fixture(fx, "bookinfo/virtual-service-reviews-test-v2.yaml");
	build(fx);
	assert_string_equal(simple(fx, 9080, "reviews", "jason"), "outbound|9080|v2|reviews");
	assert_string_equal(simple(fx, 9080, "reviews", NULL), "outbound|9080|v1|reviews");
	assert_string_equal(simple(fx, 9080, "reviews", "Jason"), "outbound|9080|v1|reviews");
	assert_string_equal(simple(fx, 9080, "reviews", "bob"), "outbound|9080|v1|reviews");
}

static void
test_bookinfo_80_20_exact(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	unsigned int v1 = 0, v2 = 0, i;
	int window[5] = {0};
	struct req q;

	apply_fixture(fx, "bookinfo/destination-rule-all.yaml");
	apply_fixture(fx, "bookinfo/virtual-service-reviews-80-20.yaml");
	build(fx);
	req_init(&q, 9080, "reviews", "/", NULL);
	for (i = 0; i < 1000; i++) {
		const char *c = route_to(fx, 0, &q, &res);
		int is_v2 = strcmp(c, "outbound|9080|v2|reviews") == 0;

		assert_true(is_v2 || strcmp(c, "outbound|9080|v1|reviews") == 0);
		v1 += !is_v2;
		v2 += is_v2;
		window[i % 5] = is_v2;
		/* every window of 5 consecutive requests holds exactly one v2 */
		if (i >= 4)
			assert_int_equal(window[0] + window[1] + window[2] +
					 window[3] + window[4], 1);
	}
	assert_int_equal(v1, 800);
	assert_int_equal(v2, 200);
	/* the other worker has its own, equally exact, sequence */
	for (v2 = 0, i = 0; i < 100; i++)
		v2 += strcmp(route_to(fx, 1, &q, &res), "outbound|9080|v2|reviews") == 0;
	assert_int_equal(v2, 20);
}

static void
test_bookinfo_ratings_fault(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	struct req q;

	apply_fixture(fx, "bookinfo/destination-rule-all.yaml");
	apply_fixture(fx, "bookinfo/virtual-service-ratings-test-abort.yaml");
	build(fx);
	req_init(&q, 9080, "ratings", "/ratings/0", "jason");
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|9080|v1|ratings");
	assert_non_null(res.route->spec);
	assert_true(res.route->spec->has_fault && res.route->spec->fault.has_abort);
	assert_int_equal(res.route->spec->fault.abort.http_status, 500);
	assert_int_equal(res.route->spec->fault.abort.ppm, 1000000);
	req_init(&q, 9080, "ratings", "/ratings/0", NULL);
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|9080|v1|ratings");
	assert_int_equal(res.route->http_index, 1);
	assert_false(res.route->spec->has_fault);

	apply_fixture(fx, "bookinfo/virtual-service-ratings-test-delay.yaml");
	build(fx);
	req_init(&q, 9080, "ratings", "/", "jason");
	route_to(fx, 0, &q, &res);
	assert_true(res.route->spec->has_fault && res.route->spec->fault.has_delay);
	assert_int_equal(res.route->spec->fault.delay.fixed_delay_us, 7000000);
	req_init(&q, 9080, "ratings", "/", "mike");
	route_to(fx, 0, &q, &res);
	assert_false(res.route->spec->has_fault);
}

/* ---- the mirroring seed ---- */

static void
test_seed_all_v1_then_mirror(void **state)
{
	struct fixture *fx = *state;
	const struct gw_route_cluster *c;
	struct gw_route_result res;
	struct req q;
	int i, ep;

	apply_fixture(fx, "seed/httpbin-all-v1.yaml");
	build(fx);
	req_init(&q, 8000, "httpbin:8000", "/headers", NULL);
	for (i = 0; i < 10; i++) {
		assert_string_equal(route_to(fx, 0, &q, &res), "outbound|8000|v1|httpbin");
		assert_int_equal(res.n_mirrors, 0);
	}
	/* the endpoint port is the targetPort */
	ep = gw_route_pick_endpoint(fx->snap, 0, res.cluster, &q.r, NULL, NULL);
	c = gw_route_snapshot_cluster(fx->snap, res.cluster);
	assert_string_equal(c->endpoints[ep].address, "10.5.0.1");
	assert_int_equal(c->endpoints[ep].port, 80);

	apply_fixture(fx, "seed/httpbin-mirror-v2.yaml");
	build(fx);
	for (i = 0; i < 100; i++) {
		assert_string_equal(route_to(fx, i % 2, &q, &res),
				    "outbound|8000|v1|httpbin");
		assert_int_equal(res.n_mirrors, 1);
		assert_string_equal(gw_route_snapshot_cluster(fx->snap,
				    res.mirror_clusters[0])->name,
				    "outbound|8000|v2|httpbin");
	}
}

static void
test_mirror_percentage_exact(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	struct req q;
	int i, n = 0;

	apply_fixture(fx, "seed/httpbin-all-v1.yaml"); /* the DestinationRule */
	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: httpbin}\n"
		"spec:\n"
		"  hosts: [httpbin]\n"
		"  http:\n"
		"  - route:\n"
		"    - destination: {host: httpbin, subset: v1}\n"
		"    mirror: {host: httpbin, subset: v2}\n"
		"    mirrorPercentage: {value: 25.0}\n", "mirror25.yaml");
	build(fx);
	req_init(&q, 8000, "httpbin", "/", NULL);
	for (i = 1; i <= 400; i++) {
		route_to(fx, 0, &q, &res);
		assert_int_equal(res.n_mirrors, i % 4 == 0);
		n += res.n_mirrors;
	}
	assert_int_equal(n, 100);
}

/* A route with mirrors carries its name for the shadow's counters and
 * log, formatted once when compiled: NAMESPACE/VIRTUALSERVICE/ and the
 * route's name or its index; a route without mirrors has none. Cluster
 * names carry their length. */
static void
test_mirror_key(void **state)
{
	struct fixture *fx = *state;
	const struct gw_route_cluster *c;
	struct gw_route_result res;
	struct req q;

	apply_fixture(fx, "seed/httpbin-all-v1.yaml"); /* the DestinationRule */
	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: httpbin}\n"
		"spec:\n"
		"  hosts: [httpbin]\n"
		"  http:\n"
		"  - name: first\n"
		"    match: [{uri: {prefix: /a}}]\n"
		"    route: [{destination: {host: httpbin, subset: v1}}]\n"
		"    mirror: {host: httpbin, subset: v2}\n"
		"  - match: [{uri: {prefix: /b}}]\n"
		"    route: [{destination: {host: httpbin, subset: v1}}]\n"
		"  - route: [{destination: {host: httpbin, subset: v1}}]\n"
		"    mirror: {host: httpbin, subset: v2}\n", "mirror-key.yaml");
	build(fx);
	req_init(&q, 8000, "httpbin", "/a", NULL);
	route_to(fx, 0, &q, &res);
	assert_int_equal(res.n_mirrors, 1);
	assert_string_equal(res.route->mirror_key, "default/httpbin/first");
	assert_int_equal(res.route->mirror_key_len, 21);
	c = gw_route_snapshot_cluster(fx->snap, res.mirror_clusters[0]);
	assert_string_equal(c->name, "outbound|8000|v2|httpbin");
	assert_int_equal(c->name_len, strlen(c->name));
	req_init(&q, 8000, "httpbin", "/b", NULL);
	route_to(fx, 0, &q, &res);
	assert_int_equal(res.n_mirrors, 0);
	assert_null(res.route->mirror_key);
	req_init(&q, 8000, "httpbin", "/c", NULL);
	route_to(fx, 0, &q, &res);
	assert_int_equal(res.n_mirrors, 1);
	assert_string_equal(res.route->mirror_key, "default/httpbin/2");
	assert_int_equal(res.route->mirror_key_len, 17);
}

static void
test_no_vs_default_route_spreads(void **state)
{
	struct fixture *fx = *state;
	const struct gw_route_cluster *c;
	struct gw_route_result res;
	unsigned int seen[2] = {0, 0};
	struct req q;
	int i, ep;

	/* the DestinationRule alone does not change the default route */
	apply_fixture(fx, "seed/httpbin-all-v1.yaml");
	assert_int_equal(gw_model_store_delete(fx->store,
			 GW_MODEL_KIND_VIRTUAL_SERVICE, NULL, "httpbin"), 0);
	build(fx);
	req_init(&q, 8000, "httpbin:8000", "/headers", NULL);
	for (i = 0; i < 100; i++) {
		assert_string_equal(route_to(fx, 0, &q, &res), "outbound|8000||httpbin");
		c = gw_route_snapshot_cluster(fx->snap, res.cluster);
		assert_int_equal(c->n_endpoints, 2);
		ep = gw_route_pick_endpoint(fx->snap, 0, res.cluster, &q.r, NULL, NULL);
		assert_true(ep == 0 || ep == 1);
		seen[ep]++;
	}
	/* round robin over v1 and v2 */
	assert_int_equal(seen[0], 50);
	assert_int_equal(seen[1], 50);
	/* a service with three versions spreads over three */
	assert_string_equal(simple(fx, 9080, "reviews", NULL), "outbound|9080||reviews");
}

static void
test_unknown_host_and_listener(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	struct req q;

	build(fx);
	req_init(&q, 8000, "nosuch.example.com", "/", NULL);
	assert_int_equal(gw_route_lookup(fx->snap, 0, &q.r, &res), -ENOENT);
	assert_int_equal(res.status, GW_ROUTE_NO_VHOST);
	assert_null(res.route);
	req_init(&q, 8000, NULL, "/", NULL); /* no Host at all */
	assert_int_equal(gw_route_lookup(fx->snap, 0, &q.r, &res), -ENOENT);
	req_init(&q, 1234, "httpbin", "/", NULL);
	assert_int_equal(gw_route_lookup(fx->snap, 0, &q.r, &res), -ENOENT);
	assert_int_equal(res.status, GW_ROUTE_NO_LISTENER);
	/* host names: case and port do not matter, a trailing dot neither */
	assert_string_equal(simple(fx, 8000, "HTTPBIN:8000", NULL), "outbound|8000||httpbin");
	assert_string_equal(simple(fx, 8000, "httpbin.", NULL), "outbound|8000||httpbin");
}

static void
test_vs_no_match_is_404(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	struct req q;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: httpbin}\n"
		"spec:\n"
		"  hosts: [httpbin]\n"
		"  http:\n"
		"  - match:\n"
		"    - uri: {prefix: /status/}\n"
		"    - uri: {regex: '/delay/[0-9]+'}\n"
		"    route:\n"
		"    - destination: {host: httpbin}\n", "partial.yaml");
	build(fx);
	req_init(&q, 8000, "httpbin", "/status/418", NULL);
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|8000||httpbin");
	req_init(&q, 8000, "httpbin", "/delay/3", NULL);
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|8000||httpbin");
	req_init(&q, 8000, "httpbin", "/headers", NULL);
	assert_int_equal(gw_route_lookup(fx->snap, 0, &q.r, &res), -ENOENT);
	assert_int_equal(res.status, GW_ROUTE_NO_MATCH);
}

static void
test_direct_response_redirect_and_port(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	struct req q;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: httpbin}\n"
		"spec:\n"
		"  hosts: [httpbin]\n"
		"  http:\n"
		"  - match: [{uri: {exact: /health}}]\n"
		"    directResponse: {status: 200, body: {string: ok}}\n"
		"  - match: [{uri: {prefix: /old/}}]\n"
		"    redirect: {uri: /new/}\n"
		"  - match: [{port: 9080}]\n"
		"    route: [{destination: {host: reviews}}]\n"
		"  - route: [{destination: {host: httpbin}}]\n", "direct.yaml");
	build(fx);
	req_init(&q, 8000, "httpbin", "/health", NULL);
	assert_string_equal(route_to(fx, 0, &q, &res), "no cluster");
	assert_int_equal(res.destination, -1);
	assert_true(res.route->spec->has_direct_response);
	assert_int_equal(res.route->spec->direct_response.status, 200);
	req_init(&q, 8000, "httpbin", "/old/x", NULL);
	assert_string_equal(route_to(fx, 0, &q, &res), "no cluster");
	assert_true(res.route->spec->has_redirect);
	/* match.port is the listener's port when the caller leaves it 0 */
	req_init(&q, 9080, "httpbin", "/x", NULL);
	q.r.http.port = 0;
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|9080||reviews");
	req_init(&q, 8000, "httpbin", "/x", NULL);
	q.r.http.port = 0;
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|8000||httpbin");
}

/* ---- hosts and listeners ---- */

static void
test_wildcard_hosts_on_gateway(void **state)
{
	struct fixture *fx = *state;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: Gateway\n"
		"metadata: {name: public}\n"
		"spec:\n"
		"  selector: {istio: ingressgateway}\n"
		"  servers:\n"
		"  - port: {number: 8080, name: http, protocol: HTTP}\n"
		"    hosts: ['*']\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: a-exact}\n"
		"spec:\n"
		"  hosts: [www.example.com]\n"
		"  gateways: [public]\n"
		"  http:\n"
		"  - route: [{destination: {host: details}}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: b-wild}\n"
		"spec:\n"
		"  hosts: ['*.example.com']\n"
		"  gateways: [public]\n"
		"  http:\n"
		"  - route: [{destination: {host: ratings}}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: c-wild-longer}\n"
		"spec:\n"
		"  hosts: ['*.api.example.com']\n"
		"  gateways: [default/public]\n"
		"  http:\n"
		"  - route: [{destination: {host: reviews}}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: d-star}\n"
		"spec:\n"
		"  hosts: ['*']\n"
		"  gateways: [public]\n"
		"  http:\n"
		"  - route: [{destination: {host: productpage}}]\n", "wild.yaml");
	build(fx);
	assert_string_equal(simple(fx, 8080, "www.example.com", NULL),
			    "outbound|9080||details");
	assert_string_equal(simple(fx, 8080, "shop.example.com:8080", NULL),
			    "outbound|9080||ratings");
	assert_string_equal(simple(fx, 8080, "v1.api.example.com", NULL),
			    "outbound|9080||reviews");
	assert_string_equal(simple(fx, 8080, "a.b.api.example.com", NULL),
			    "outbound|9080||reviews");
	/* "*.example.com" does not cover example.com itself */
	assert_string_equal(simple(fx, 8080, "example.com", NULL),
			    "outbound|9080||productpage");
	assert_string_equal(simple(fx, 8080, "anything.else", NULL),
			    "outbound|9080||productpage");
	/* these VirtualServices name a Gateway: not on the mesh listeners */
	assert_string_equal(simple(fx, 8000, "www.example.com", NULL), "NO_VHOST");
	/* and the Gateway listener has no default service routes */
	assert_string_equal(simple(fx, 8080, "httpbin", NULL),
			    "outbound|9080||productpage");
}

static void
test_gateway_server_hosts_filter(void **state)
{
	struct fixture *fx = *state;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: Gateway\n"
		"metadata: {name: gw}\n"
		"spec:\n"
		"  selector: {istio: ingressgateway}\n"
		"  servers:\n"
		"  - port: {number: 8080, name: http, protocol: HTTP}\n"
		"    hosts: ['*.example.com']\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: both}\n"
		"spec:\n"
		"  hosts: [httpbin, httpbin.example.com]\n"
		"  gateways: [gw, mesh]\n"
		"  http:\n"
		"  - route: [{destination: {host: httpbin, subset: v2}}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\n"
		"metadata: {name: httpbin}\n"
		"spec:\n"
		"  host: httpbin\n"
		"  subsets:\n"
		"  - {name: v2, labels: {version: v2}}\n", "gw.yaml");
	build(fx);
	/* the server accepts *.example.com only */
	assert_string_equal(simple(fx, 8080, "httpbin.example.com", NULL),
			    "outbound|8000|v2|httpbin");
	assert_string_equal(simple(fx, 8080, "httpbin", NULL), "NO_VHOST");
	/* "mesh" keeps it on the mesh listeners too */
	assert_string_equal(simple(fx, 8000, "httpbin", NULL), "outbound|8000|v2|httpbin");
}

static void
test_service_entry_vip_listener(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_listener_info info;
	struct gw_route_result res;
	struct req q;
	uint32_t i, vip = 0;

	apply_fixture(fx, "seed/httpbin-all-v1.yaml");
	build(fx);
	for (i = 0; i < gw_route_snapshot_listener_count(fx->snap); i++) {
		assert_int_equal(gw_route_snapshot_listener(fx->snap, i, &info), 0);
		if (info.kind == GW_ROUTE_LISTENER_VIP) {
			assert_int_equal(info.ip, htonl(0x0a60000a));
			assert_int_equal(info.port, 8000);
			vip++;
		}
	}
	assert_int_equal(vip, 1);
	/* traffic to the VIP reaches httpbin even when Host names the VIP */
	req_init(&q, 8000, "10.96.0.10:8000", "/", NULL);
	q.r.listener_ip = htonl(0x0a60000a);
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|8000|v1|httpbin");
	/* a Host naming another service still routes by Host */
	req_init(&q, 8000, "reviews", "/", NULL);
	q.r.listener_ip = htonl(0x0a60000a);
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|9080||reviews");
	/* the same Host on the bootstrap listener, any local address */
	req_init(&q, 8000, "10.96.0.10:8000", "/", NULL);
	q.r.listener_ip = htonl(0x0a000001);
	assert_string_equal(route_to(fx, 0, &q, &res), "NO_VHOST");
}

/* ---- endpoints ---- */

static void
test_consistent_hash_on_header(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	struct req q;
	char user[16];
	int i, first[20], seen[3] = {0, 0, 0};
	uint32_t size;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\n"
		"metadata: {name: reviews}\n"
		"spec:\n"
		"  host: reviews\n"
		"  trafficPolicy:\n"
		"    loadBalancer:\n"
		"      consistentHash:\n"
		"        httpHeaderName: end-user\n"
		"        maglev: {tableSize: 1009}\n", "hash.yaml");
	build(fx);
	for (i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		req_init(&q, 9080, "reviews", "/", user);
		assert_string_equal(route_to(fx, 0, &q, &res), "outbound|9080||reviews");
		first[i] = gw_route_pick_endpoint(fx->snap, 0, res.cluster, &q.r,
						  NULL, NULL);
		assert_true(first[i] >= 0 && first[i] < 3);
		seen[first[i]]++;
	}
	/* the same user always lands on the same endpoint, on any worker */
	for (i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		req_init(&q, 9080, "reviews", "/", user);
		route_to(fx, 1, &q, &res);
		assert_int_equal(gw_route_pick_endpoint(fx->snap, 1, res.cluster,
							&q.r, NULL, NULL), first[i]);
	}
	assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
	assert_int_equal(gw_route_snapshot_cluster(fx->snap, res.cluster)->lb_policy,
			 GW_LB_MAGLEV);
	assert_non_null(gw_lb_set_maglev_table(
		gw_route_snapshot_cluster(fx->snap, res.cluster)->lb, &size));
	assert_int_equal(size, 1009);
}

static void
test_unhealthy_and_least_request(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	uint64_t healthy = 1u << 2, nobody = 0;
	struct req q;
	int i;

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\n"
		"metadata: {name: reviews}\n"
		"spec:\n"
		"  host: reviews\n"
		"  trafficPolicy:\n"
		"    loadBalancer: {simple: LEAST_REQUEST}\n", "lr.yaml");
	build(fx);
	req_init(&q, 9080, "reviews", "/", NULL);
	route_to(fx, 0, &q, &res);
	assert_int_equal(gw_route_snapshot_cluster(fx->snap, res.cluster)->lb_policy,
			 GW_LB_LEAST_REQUEST);
	for (i = 0; i < 50; i++)
		assert_int_equal(gw_route_pick_endpoint(fx->snap, 0, res.cluster,
							&q.r, &healthy, NULL), 2);
	assert_int_equal(gw_route_pick_endpoint(fx->snap, 0, res.cluster, &q.r,
						&nobody, NULL), -1);
}

/* ---- errors, describe, lifetime ---- */

static void
test_bad_regex_names_the_route(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_build_params p = {.n_workers = 1};

	apply_buffer(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\n"
		"metadata: {name: backref}\n"
		"spec:\n"
		"  hosts: [httpbin]\n"
		"  http:\n"
		"  - match:\n"
		"    - headers:\n"
		"        x-twice: {regex: '(a)\\1'}\n"
		"    route: [{destination: {host: httpbin}}]\n", "bad.yaml");
	assert_null(gw_route_snapshot_build(fx->store, &p, fx->err, sizeof(fx->err)));
	print_message("%s\n", fx->err);
	assert_non_null(strstr(fx->err, "default/backref"));
	assert_non_null(strstr(fx->err, "http[0].match[0].headers.x-twice"));
	assert_non_null(strstr(fx->err, "(a)\\1"));
}

static void
test_describe(void **state)
{
	struct fixture *fx = *state;
	char *text;
	size_t len;

	apply_fixture(fx, "seed/httpbin-all-v1.yaml");
	apply_fixture(fx, "seed/httpbin-mirror-v2.yaml");
	apply_fixture(fx, "bookinfo/destination-rule-all.yaml");
	apply_fixture(fx, "bookinfo/virtual-service-reviews-test-v2.yaml");
	build(fx);
	assert_int_equal(gw_route_snapshot_describe(fx->snap, "httpbin", &text, &len), 0);
	print_message("%s", text);
	assert_non_null(strstr(text, "virtual host default/httpbin"));
	assert_non_null(strstr(text, "-> outbound|8000|v1|httpbin"));
	assert_non_null(strstr(text, "mirror outbound|8000|v2|httpbin 100%"));
	assert_non_null(strstr(text, "10.5.0.2:80 weight 1 app=httpbin,version=v2"));
	free(text);
	assert_int_equal(gw_route_snapshot_describe(fx->snap, "reviews:9080", &text,
						    &len), 0);
	print_message("%s", text);
	assert_non_null(strstr(text, "match header end-user exact \"jason\""));
	assert_non_null(strstr(text, "route 1: any request"));
	free(text);
	assert_int_equal(gw_route_snapshot_describe(fx->snap, "nosuch", &text, &len),
			 -ENOENT);
	assert_non_null(strstr(text, "no route"));
	free(text);
}

static void
test_snapshot_outlives_store_changes(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_result res;
	struct req q;

	apply_fixture(fx, "bookinfo/destination-rule-all.yaml");
	apply_fixture(fx, "bookinfo/virtual-service-ratings-test-abort.yaml");
	build(fx);
	/* the store drops the resources; the snapshot keeps its references */
	apply_fixture(fx, "bookinfo/virtual-service-ratings-test-delay.yaml");
	assert_int_equal(gw_model_store_delete(fx->store, GW_MODEL_KIND_DESTINATION_RULE,
					       NULL, "ratings"), 0);
	req_init(&q, 9080, "ratings", "/", "jason");
	assert_string_equal(route_to(fx, 0, &q, &res), "outbound|9080|v1|ratings");
	assert_true(res.route->spec->fault.has_abort); /* the old rules */
	assert_string_equal(res.route->vs_name, "ratings");
}

static void
test_memory_and_counts(void **state)
{
	struct fixture *fx = *state;

	apply_fixture(fx, "bookinfo/destination-rule-all.yaml");
	apply_fixture(fx, "bookinfo/virtual-service-all-v1.yaml");
	build(fx);
	/* 4 VirtualServices + httpbin's default */
	assert_int_equal(gw_route_snapshot_vhost_count(fx->snap), 5);
	assert_int_equal(gw_route_snapshot_route_count(fx->snap), 5);
	assert_non_null(gw_route_snapshot_cluster_find(fx->snap,
						       "outbound|9080|v1|reviews"));
	assert_null(gw_route_snapshot_cluster_find(fx->snap, "outbound|1|x|y"));
	assert_true(gw_route_snapshot_memory(fx->snap) > 0);
	/* 2 bootstrap listeners and httpbin's VIP */
	assert_int_equal(gw_route_snapshot_listener_count(fx->snap), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_bookinfo_all_v1),
		T(test_bookinfo_jason_v2),
		T(test_bookinfo_80_20_exact),
		T(test_bookinfo_ratings_fault),
		T(test_seed_all_v1_then_mirror),
		T(test_mirror_percentage_exact),
		T(test_mirror_key),
		T(test_no_vs_default_route_spreads),
		T(test_unknown_host_and_listener),
		T(test_vs_no_match_is_404),
		T(test_direct_response_redirect_and_port),
		T(test_wildcard_hosts_on_gateway),
		T(test_gateway_server_hosts_filter),
		T(test_service_entry_vip_listener),
		T(test_consistent_hash_on_header),
		T(test_unhealthy_and_least_request),
		T(test_bad_regex_names_the_route),
		T(test_describe),
		T(test_snapshot_outlives_store_changes),
		T(test_memory_and_counts),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
