/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/model: the lab's fixtures load into the expected
 * structures, a table of invalid documents gives exact messages with
 * line:col, the store applies all or nothing, serialisation round-trips.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "gw_common.h"
#include "gw_model.h"

#define FIXTURES SOURCE_ROOT "/tests/fixtures/istio"
#define SHARED_FIXTURES SOURCE_ROOT "/../shared/fixtures/istio"
#define DATA UNIT_DATA_DIR "/model"

static const char *const fixture_files[] = {
	"bookinfo/README.md",
	"bookinfo/destination-rule-all.yaml",
	"bookinfo/virtual-service-all-v1.yaml",
	"bookinfo/virtual-service-ratings-test-abort.yaml",
	"bookinfo/virtual-service-ratings-test-delay.yaml",
	"bookinfo/virtual-service-reviews-80-20.yaml",
	"bookinfo/virtual-service-reviews-test-v2.yaml",
	"seed/README.md",
	"seed/httpbin-all-v1.yaml",
	"seed/httpbin-mirror-v2.yaml",
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A set holding one fixture file; fails the test if it does not load. */
static struct gw_model_set *
load_fixture(const char *name)
{
	struct gw_model_set *set = gw_model_set_create();
	char path[512], err[GW_ERR_LEN];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	rc = gw_model_set_load_file(set, path, err, sizeof(err));
	if (rc < 0)
		fail_msg("%s: %s", name, err);
	return set;
}

static struct gw_model_set *
load_string(const char *yaml, char *err, size_t errlen, int *rc)
{
	struct gw_model_set *set = gw_model_set_create();

	assert_non_null(set);
	*rc = gw_model_set_load_buffer(set, yaml, strlen(yaml), "t.yaml",
				       err, errlen);
	return set;
}

static const struct gw_model_resource *
find(const struct gw_model_set *set, enum gw_model_kind kind,
     const char *name)
{
	for (uint32_t i = 0; i < gw_model_set_count(set); i++) {
		const struct gw_model_resource *r = gw_model_set_at(set, i);

		if (r->kind == kind && strcmp(r->meta.name, name) == 0)
			return r;
	}
	fail_msg("no %s %s", gw_model_kind_name(kind), name);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

/* The copies in tests/fixtures must stay the lab's files, byte for byte. */
static void
test_fixtures_identical(void **state)
{
	struct stat st;
	(void)state;

	if (stat(SHARED_FIXTURES, &st) != 0)
		skip();
	for (size_t i = 0; i < GW_ARRAY_SIZE(fixture_files); i++) {
		char a[512], b[512];
		size_t la, lb;
		char *da, *db;

		snprintf(a, sizeof(a), "%s/%s", FIXTURES, fixture_files[i]);
		snprintf(b, sizeof(b), "%s/%s", SHARED_FIXTURES,
			 fixture_files[i]);
		da = read_file(a, &la);
		db = read_file(b, &lb);
		if (da == NULL || db == NULL)
			fail_msg("missing %s", fixture_files[i]);
		if (la != lb || memcmp(da, db, la) != 0)
			fail_msg("%s differs from the lab's copy",
				 fixture_files[i]);
		free(da);
		free(db);
	}
}

static void
test_fixture_destination_rules(void **state)
{
	struct gw_model_set *set = load_fixture(
		"bookinfo/destination-rule-all.yaml");
	const struct gw_model_resource *r;
	const struct gw_dr *dr;
	(void)state;

	assert_int_equal(gw_model_set_count(set), 4);
	r = find(set, GW_MODEL_KIND_DESTINATION_RULE, "reviews");
	assert_string_equal(r->api_version, "networking.istio.io/v1");
	assert_string_equal(r->meta.namespace, "default");
	assert_int_equal(r->line, 12);
	dr = r->spec.dr;
	assert_string_equal(dr->host, "reviews");
	assert_int_equal(dr->n_subsets, 3);
	assert_false(dr->traffic_policy.present);
	for (uint32_t i = 0; i < 3; i++) {
		char want[4];

		snprintf(want, sizeof(want), "v%u", i + 1);
		assert_string_equal(dr->subsets[i].name, want);
		assert_int_equal(dr->subsets[i].n_labels, 1);
		assert_string_equal(dr->subsets[i].labels[0].key, "version");
		assert_string_equal(dr->subsets[i].labels[0].value, want);
	}
	assert_non_null(gw_model_dr_subset_find(dr, "v3"));
	assert_null(gw_model_dr_subset_find(dr, "v4"));
	dr = find(set, GW_MODEL_KIND_DESTINATION_RULE, "ratings")->spec.dr;
	assert_int_equal(dr->n_subsets, 4);
	assert_string_equal(dr->subsets[3].name, "v2-mysql-vm");
	gw_model_set_free(set);
}

static void
test_fixture_all_v1(void **state)
{
	static const char *const names[] = {
		"productpage", "reviews", "ratings", "details",
	};
	struct gw_model_set *set = load_fixture(
		"bookinfo/virtual-service-all-v1.yaml");
	(void)state;

	assert_int_equal(gw_model_set_count(set), 4);
	for (uint32_t i = 0; i < 4; i++) {
		const struct gw_model_resource *r = gw_model_set_at(set, i);
		const struct gw_vs *vs = r->spec.vs;
		const struct gw_http_destination *d;

		assert_int_equal(r->kind, GW_MODEL_KIND_VIRTUAL_SERVICE);
		assert_string_equal(r->meta.name, names[i]);
		assert_int_equal(vs->n_hosts, 1);
		assert_string_equal(vs->hosts[0], names[i]);
		assert_int_equal(vs->n_gateways, 0);
		assert_int_equal(vs->n_http, 1);
		assert_int_equal(vs->http[0].n_matches, 0);
		assert_int_equal(vs->http[0].n_route, 1);
		d = &vs->http[0].route[0];
		assert_string_equal(d->destination.host, names[i]);
		assert_string_equal(d->destination.subset, "v1");
		assert_int_equal(d->destination.port, 0);
		/* One destination without weight: all the traffic. */
		assert_false(d->weight_set);
		assert_int_equal(vs->http[0].n_mirrors, 0);
		assert_false(vs->http[0].has_fault);
		assert_int_equal(vs->http[0].timeout_us, GW_MODEL_UNSET);
	}
	gw_model_set_free(set);
}

static void
test_fixture_80_20(void **state)
{
	struct gw_model_set *set = load_fixture(
		"bookinfo/virtual-service-reviews-80-20.yaml");
	const struct gw_http_route *h;
	(void)state;

	assert_int_equal(gw_model_set_count(set), 1);
	h = &gw_model_set_at(set, 0)->spec.vs->http[0];
	assert_int_equal(h->n_route, 2);
	assert_string_equal(h->route[0].destination.subset, "v1");
	assert_int_equal(h->route[0].weight, 80);
	assert_true(h->route[0].weight_set);
	assert_string_equal(h->route[1].destination.subset, "v2");
	assert_int_equal(h->route[1].weight, 20);
	assert_int_equal(h->total_weight, 100);
	gw_model_set_free(set);
}

static void
test_fixture_test_v2(void **state)
{
	struct gw_model_set *set = load_fixture(
		"bookinfo/virtual-service-reviews-test-v2.yaml");
	const struct gw_vs *vs;
	const struct gw_http_match *m;
	(void)state;

	vs = gw_model_set_at(set, 0)->spec.vs;
	assert_int_equal(vs->n_http, 2);
	assert_int_equal(vs->http[0].n_matches, 1);
	m = &vs->http[0].matches[0];
	assert_int_equal(m->n_headers, 1);
	assert_string_equal(m->headers[0].name, "end-user");
	assert_int_equal(m->headers[0].match.kind, GW_MODEL_MATCH_EXACT);
	assert_string_equal(m->headers[0].match.value, "jason");
	assert_false(m->headers[0].present_only);
	assert_int_equal(m->uri.kind, GW_MODEL_MATCH_NONE);
	assert_string_equal(vs->http[0].route[0].destination.subset, "v2");
	assert_int_equal(vs->http[1].n_matches, 0);
	assert_string_equal(vs->http[1].route[0].destination.subset, "v1");
	gw_model_set_free(set);
}

static void
test_fixture_abort(void **state)
{
	struct gw_model_set *set = load_fixture(
		"bookinfo/virtual-service-ratings-test-abort.yaml");
	const struct gw_http_route *h;
	(void)state;

	h = &gw_model_set_at(set, 0)->spec.vs->http[0];
	assert_true(h->has_fault);
	assert_true(h->fault.has_abort);
	assert_false(h->fault.has_delay);
	assert_int_equal(h->fault.abort.http_status, 500);
	assert_int_equal(h->fault.abort.ppm, 1000000);
	assert_string_equal(h->matches[0].headers[0].match.value, "jason");
	assert_false(gw_model_set_at(set, 0)->spec.vs->http[1].has_fault);
	gw_model_set_free(set);
}

static void
test_fixture_delay(void **state)
{
	struct gw_model_set *set = load_fixture(
		"bookinfo/virtual-service-ratings-test-delay.yaml");
	const struct gw_http_route *h;
	(void)state;

	h = &gw_model_set_at(set, 0)->spec.vs->http[0];
	assert_true(h->fault.has_delay);
	assert_false(h->fault.has_abort);
	assert_int_equal(h->fault.delay.fixed_delay_us, 7000000);
	assert_int_equal(h->fault.delay.ppm, GW_MODEL_PPM_100);
	gw_model_set_free(set);
}

static void
test_fixture_seed(void **state)
{
	struct gw_model_set *set = load_fixture("seed/httpbin-all-v1.yaml");
	const struct gw_model_resource *r;
	const struct gw_http_route *h;
	(void)state;

	assert_int_equal(gw_model_set_count(set), 2);
	r = find(set, GW_MODEL_KIND_VIRTUAL_SERVICE, "httpbin");
	assert_string_equal(r->api_version, "networking.istio.io/v1alpha3");
	h = &r->spec.vs->http[0];
	assert_int_equal(h->route[0].weight, 100);
	assert_true(h->route[0].weight_set);
	assert_null(h->mirror);
	r = find(set, GW_MODEL_KIND_DESTINATION_RULE, "httpbin");
	assert_int_equal(r->spec.dr->n_subsets, 2);
	assert_int_equal(r->line, 15);
	gw_model_set_free(set);

	set = load_fixture("seed/httpbin-mirror-v2.yaml");
	r = gw_model_set_at(set, 0);
	assert_string_equal(r->api_version, "networking.istio.io/v1alpha3");
	h = &r->spec.vs->http[0];
	assert_non_null(h->mirror);
	assert_string_equal(h->mirror->host, "httpbin");
	assert_string_equal(h->mirror->subset, "v2");
	/* Deprecated mirror_percent: 100 -> exactly 1,000,000 ppm. */
	assert_int_equal(h->mirror_ppm, 1000000);
	assert_int_equal(h->n_mirrors, 1);
	assert_true(h->mirrors[0].legacy);
	assert_int_equal(h->mirrors[0].ppm, 1000000);
	assert_string_equal(h->mirrors[0].destination.subset, "v2");
	gw_model_set_free(set);
}

/* The whole lab applied in order into one store, as a user would. */
static void
test_fixtures_apply_all(void **state)
{
	struct gw_model_store *store = gw_model_store_create();
	char err[GW_ERR_LEN];
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(fixture_files); i++) {
		struct gw_model_set *set;
		int rc;

		if (strstr(fixture_files[i], ".yaml") == NULL)
			continue;
		set = load_fixture(fixture_files[i]);
		rc = gw_model_store_apply(store, set, err, sizeof(err));
		if (rc < 0)
			fail_msg("%s: %s", fixture_files[i], err);
		gw_model_set_free(set);
	}
	assert_int_equal(gw_model_store_count(store,
			 GW_MODEL_KIND_DESTINATION_RULE), 5);
	assert_int_equal(gw_model_store_count(store,
			 GW_MODEL_KIND_VIRTUAL_SERVICE), 5);
	gw_model_store_free(store);
}

/*
 * Every prefix of every fixture either loads or fails with a message, and
 * never reads past the end: each input sits right before a PROT_NONE page.
 */
static void
test_fixture_prefixes(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(fixture_files); i++) {
		char path[512], err[GW_ERR_LEN];
		size_t len, span;
		char *data, *mem;

		if (strstr(fixture_files[i], ".yaml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", FIXTURES,
			 fixture_files[i]);
		data = read_file(path, &len);
		assert_non_null(data);
		span = (len / (size_t)page + 1) * (size_t)page;
		mem = mmap(NULL, span + (size_t)page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(mem != MAP_FAILED);
		assert_int_equal(mprotect(mem + span, (size_t)page, PROT_NONE),
				 0);
		for (size_t n = 0; n <= len; n++) {
			struct gw_model_set *set = gw_model_set_create();
			char *p = mem + span - n;
			int rc;

			memcpy(p, data, n);
			rc = gw_model_set_load_buffer(set, p, n, "prefix", err,
						      sizeof(err));
			if (rc < 0)
				assert_true(strncmp(err, "prefix:", 7) == 0);
			gw_model_set_free(set);
		}
		munmap(mem, span + (size_t)page);
		free(data);
	}
}

/* ------------------------------------------------------------------ */
/* Multi-document streams                                              */
/* ------------------------------------------------------------------ */

#define DOC_A "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n" \
	"metadata:\n  name: a\nspec:\n  host: a\n"
#define DOC_B "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n" \
	"metadata:\n  name: b\nspec:\n  host: b"

static void
test_multi_document(void **state)
{
	static const struct {
		const char *yaml;
		int count;
	} cases[] = {
		{ DOC_A "---\n" DOC_B, 2 },             /* no final newline */
		{ DOC_A "---\n" DOC_B "\n", 2 },
		{ DOC_A "---\n" DOC_B "\n---\n", 2 },   /* final --- */
		{ DOC_A "---\n" DOC_B "\n---", 2 },
		{ "---\n" DOC_A "---\n---\n# only a comment\n---\n" DOC_B, 2 },
		{ DOC_A "...\n---\n" DOC_B "\n...\n", 2 },
		{ "", 0 },
		{ "# nothing here\n", 0 },
		{ "---\n---\n", 0 },
	};
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		char err[GW_ERR_LEN];
		struct gw_model_set *set;
		int rc;

		set = load_string(cases[i].yaml, err, sizeof(err), &rc);
		if (rc != cases[i].count)
			fail_msg("case %zu: rc %d: %s", i, rc, err);
		assert_int_equal(gw_model_set_count(set),
				 (uint32_t)cases[i].count);
		gw_model_set_free(set);
	}
}

/* One bad document rejects the whole buffer; every error is reported. */
static void
test_load_all_or_nothing(void **state)
{
	const char *yaml = DOC_A "---\n" DOC_B "\n  subsets: 3\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: Foo\n";
	struct gw_model_set *set;
	char err[GW_ERR_LEN];
	int rc;
	(void)state;

	set = load_string(DOC_A, err, sizeof(err), &rc);
	assert_int_equal(rc, 1);
	rc = gw_model_set_load_buffer(set, yaml, strlen(yaml), "t.yaml", err,
				      sizeof(err));
	assert_int_equal(rc, -GW_ECONFIG);
	assert_string_equal(err,
		"t.yaml:14:12: spec.subsets: must be a list, not a number\n"
		"t.yaml:17:7: kind: unknown kind \"Foo\" (want VirtualService, "
		"DestinationRule, ServiceEntry, WorkloadEntry or Gateway)");
	assert_int_equal(gw_model_set_count(set), 1);
	gw_model_set_free(set);
}

/* ------------------------------------------------------------------ */
/* Invalid documents                                                   */
/* ------------------------------------------------------------------ */

/* Lines 1-7; an http route's fields start at line 9 ("  - "). */
#define VS_HEAD "apiVersion: networking.istio.io/v1\n" \
	"kind: VirtualService\n" \
	"metadata:\n" \
	"  name: r\n" \
	"spec:\n" \
	"  hosts:\n" \
	"  - r\n"
/* Lines 8-11: one route to host r; route fields go on at line 12. */
#define VS_HTTP VS_HEAD \
	"  http:\n" \
	"  - route:\n" \
	"    - destination:\n" \
	"        host: r\n"
/* Lines 1-6; spec fields go on at line 7. */
#define DR_HEAD "apiVersion: networking.istio.io/v1\n" \
	"kind: DestinationRule\n" \
	"metadata:\n" \
	"  name: r\n" \
	"spec:\n" \
	"  host: r\n"
/* Lines 1-5; spec fields at line 6. */
#define SE_HEAD "apiVersion: networking.istio.io/v1\n" \
	"kind: ServiceEntry\n" \
	"metadata:\n" \
	"  name: s\n" \
	"spec:\n"
/* Lines 6-12: a valid STATIC entry; more fields at line 13. */
#define SE_BODY SE_HEAD \
	"  hosts: [s.example.com]\n" \
	"  resolution: STATIC\n" \
	"  ports:\n" \
	"  - number: 80\n" \
	"    name: http\n" \
	"    protocol: HTTP\n" \
	"    targetPort: 8080\n"
#define GW_HEAD "apiVersion: networking.istio.io/v1\n" \
	"kind: Gateway\n" \
	"metadata:\n" \
	"  name: g\n" \
	"spec:\n" \
	"  servers:\n" \
	"  - port: {number: 80, name: http, protocol: HTTP}\n" \
	"    hosts: [\"*\"]\n"

struct invalid_case {
	const char *name;
	const char *yaml;
	const char *error;
};

static const struct invalid_case invalid_cases[] = {
	/* YAML itself */
	{ "syntax error", "a: [1, 2\n",
	  "t.yaml:2:1: did not find expected ',' or ']' while parsing a "
	  "flow sequence" },
	{ "duplicate key", DR_HEAD "  host: s\n",
	  "t.yaml:7:3: duplicate key \"host\" (first at line 6)" },
	{ "alias", DR_HEAD "  subsets: &s []\n",
	  "t.yaml:7:12: YAML anchors are not supported" },
	{ "unknown tag", DR_HEAD "  exportTo: [!foo x]\n",
	  "t.yaml:7:14: unsupported YAML tag" },
	{ "not a mapping", "- a\n- b\n",
	  "t.yaml:1:1: a resource must be a mapping" },
	/* Resource envelope */
	{ "apiVersion unknown",
	  "apiVersion: networking.istio.io/v2\nkind: Gateway\n",
	  "t.yaml:1:13: apiVersion: unknown apiVersion "
	  "\"networking.istio.io/v2\" (want networking.istio.io/v1, v1beta1 "
	  "or v1alpha3)" },
	{ "apiVersion missing", "kind: Gateway\nmetadata: {name: g}\n",
	  "t.yaml:1:1: apiVersion: required field is missing" },
	{ "kind unknown", "apiVersion: networking.istio.io/v1\nkind: Sidecar\n",
	  "t.yaml:2:7: kind: unknown kind \"Sidecar\" (want VirtualService, "
	  "DestinationRule, ServiceEntry, WorkloadEntry or Gateway)" },
	{ "kind wrong case",
	  "apiVersion: networking.istio.io/v1\nkind: virtualservice\n",
	  "t.yaml:2:7: kind: unknown kind \"virtualservice\" (want "
	  "VirtualService, DestinationRule, ServiceEntry, WorkloadEntry or "
	  "Gateway)" },
	{ "top-level unknown field", DR_HEAD "status2: {}\n",
	  "t.yaml:7:1: unknown field \"status2\"" },
	{ "name missing",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata: {namespace: x}\nspec: {}\n",
	  "t.yaml:3:11: metadata.name: required field is missing" },
	{ "name not DNS-1123",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata:\n  name: Reviews_1\nspec: {}\n",
	  "t.yaml:4:9: metadata.name: \"Reviews_1\" is not a valid name: must "
	  "be a lowercase RFC 1123 subdomain" },
	{ "namespace invalid",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata:\n  name: g\n  namespace: a.b\nspec: {}\n",
	  "t.yaml:5:14: metadata.namespace: \"a.b\" is not a valid namespace: "
	  "must be a lowercase RFC 1123 label" },
	{ "metadata unknown field",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata:\n  name: g\n  nmae: x\nspec: {}\n",
	  "t.yaml:5:3: metadata: unknown field \"nmae\"" },
	{ "spec missing",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata:\n  name: g\n",
	  "t.yaml:1:1: spec: required field is missing" },
	/* VirtualService */
	{ "vs hosts missing",
	  "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	  "metadata:\n  name: r\nspec:\n  http: []\n",
	  "t.yaml:6:3: spec.hosts: at least one host is required" },
	{ "vs hosts wrong type",
	  "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
	  "metadata:\n  name: r\nspec:\n  hosts: r\n",
	  "t.yaml:6:10: spec.hosts: must be a list, not a string" },
	{ "vs no routes", VS_HEAD,
	  "t.yaml:6:3: spec: http, tcp or tls must be provided in virtual "
	  "service" },
	{ "vs duplicate hosts", VS_HEAD "  - R\n  http: []\n",
	  "t.yaml:8:5: spec.hosts[1]: duplicate hosts in virtual service: r "
	  "& R" },
	{ "vs bad host", VS_HEAD "  - a..b\n",
	  "t.yaml:8:5: spec.hosts[1]: invalid host \"a..b\"" },
	{ "vs tls unsupported", VS_HEAD "  tls: []\n",
	  "t.yaml:8:3: spec.tls: field is not supported by this gateway" },
	{ "vs unknown route field", VS_HTTP "    rout: []\n",
	  "t.yaml:12:5: spec.http[0]: unknown field \"rout\"" },
	{ "vs delegate unsupported", VS_HTTP "    delegate: {name: x}\n",
	  "t.yaml:12:5: spec.http[0].delegate: field is not supported by "
	  "this gateway" },
	{ "vs negative weight", VS_HTTP "      weight: -80\n",
	  "t.yaml:12:15: spec.http[0].route[0].weight: weight -80 < 0" },
	{ "vs weight is a string", VS_HTTP "      weight: \"80\"\n",
	  "t.yaml:12:15: spec.http[0].route[0].weight: must be an integer, "
	  "not a string" },
	{ "vs weight too big", VS_HTTP "      weight: 2147483648\n",
	  "t.yaml:12:15: spec.http[0].route[0].weight: must be between "
	  "-2147483648 and 2147483647" },
	{ "vs total weight 0", VS_HTTP "      weight: 0\n"
	  "    - destination: {host: r}\n",
	  "t.yaml:10:5: spec.http[0].route: total destination weight = 0" },
	{ "vs destination missing", VS_HEAD "  http:\n  - route:\n"
	  "    - weight: 100\n",
	  "t.yaml:10:7: spec.http[0].route[0].destination: destination is "
	  "required" },
	{ "vs destination host missing", VS_HEAD "  http:\n  - route:\n"
	  "    - destination:\n        subset: v1\n",
	  "t.yaml:11:9: spec.http[0].route[0].destination.host: required "
	  "field is missing" },
	{ "vs destination host *", VS_HEAD "  http:\n  - route:\n"
	  "    - destination: {host: \"*\"}\n",
	  "t.yaml:10:27: spec.http[0].route[0].destination.host: invalid "
	  "destination host *" },
	{ "vs subset invalid", VS_HTTP "        subset: V1\n",
	  "t.yaml:12:17: spec.http[0].route[0].destination.subset: subset "
	  "name is invalid: V1" },
	{ "vs port out of range", VS_HTTP "        port: {number: 0}\n",
	  "t.yaml:12:24: spec.http[0].route[0].destination.port.number: must "
	  "be between 1 and 65535" },
	{ "vs mirror and mirrors", VS_HTTP "    mirror: {host: m}\n"
	  "    mirrors:\n    - destination: {host: m}\n",
	  "t.yaml:13:5: spec.http[0]: HTTP route cannot contain both mirror "
	  "and mirrors" },
	{ "vs mirrors without destination", VS_HTTP "    mirrors:\n"
	  "    - percentage: {value: 5}\n",
	  "t.yaml:13:7: spec.http[0].mirrors[0].destination: destination is "
	  "required for mirrors" },
	{ "vs mirrorPercentage over 100", VS_HTTP "    mirror: {host: m}\n"
	  "    mirrorPercentage: {value: 100.5}\n",
	  "t.yaml:13:31: spec.http[0].mirrorPercentage.value: must be "
	  "between 0 and 100" },
	{ "vs mirrorPercentage negative", VS_HTTP "    mirror: {host: m}\n"
	  "    mirrorPercentage: {value: -1}\n",
	  "t.yaml:13:31: spec.http[0].mirrorPercentage.value: must be "
	  "between 0 and 100" },
	{ "vs mirror_percent over 100", VS_HTTP "    mirror: {host: m}\n"
	  "    mirror_percent: 101\n",
	  "t.yaml:13:21: spec.http[0].mirror_percent: mirror_percent must "
	  "have a max value of 100 (it has 101)" },
	{ "vs route and redirect", VS_HTTP "    redirect: {uri: /x}\n",
	  "t.yaml:12:5: spec.http[0]: HTTP route cannot contain both route "
	  "and redirect" },
	{ "vs route and directResponse", VS_HTTP
	  "    directResponse: {status: 503}\n",
	  "t.yaml:12:5: spec.http[0]: HTTP route cannot contain both route "
	  "and direct_response" },
	{ "vs redirect and directResponse", VS_HEAD "  http:\n"
	  "  - redirect: {uri: /x}\n    directResponse: {status: 503}\n",
	  "t.yaml:9:5: spec.http[0]: HTTP route rule cannot contain both "
	  "direct_response and redirect" },
	{ "vs no action", VS_HEAD "  http:\n  - name: x\n",
	  "t.yaml:9:5: spec.http[0]: HTTP route, redirect or direct_response "
	  "is required" },
	{ "vs redirect empty", VS_HEAD "  http:\n  - redirect: {}\n",
	  "t.yaml:9:15: spec.http[0].redirect: redirect must specify URI, "
	  "authority, scheme, or port" },
	{ "vs redirectCode not 3xx", VS_HEAD "  http:\n"
	  "  - redirect: {uri: /x, redirectCode: 200}\n",
	  "t.yaml:9:39: spec.http[0].redirect.redirectCode: 200 is not a "
	  "valid redirect code, must be 3xx" },
	{ "vs directResponse status missing", VS_HEAD "  http:\n"
	  "  - directResponse: {body: {string: x}}\n",
	  "t.yaml:9:21: spec.http[0].directResponse.status: required field "
	  "is missing" },
	{ "vs directResponse bad status", VS_HEAD "  http:\n"
	  "  - directResponse: {status: 99}\n",
	  "t.yaml:9:30: spec.http[0].directResponse.status: HTTP status 99 "
	  "is not in range 200-599" },
	{ "vs bad timeout", VS_HTTP "    timeout: 1x\n",
	  "t.yaml:12:14: spec.http[0].timeout: invalid duration \"1x\"" },
	{ "vs timeout below 1ms", VS_HTTP "    timeout: 500us\n",
	  "t.yaml:12:14: spec.http[0].timeout: duration must be at least 1ms" },
	{ "vs timeout not whole ms", VS_HTTP "    timeout: 1.5ms\n",
	  "t.yaml:12:14: spec.http[0].timeout: only durations to ms precision "
	  "are supported" },
	{ "vs empty uri match", VS_HTTP "    match:\n    - uri: {}\n",
	  "t.yaml:13:12: spec.http[0].match[0].uri: must set one of exact, "
	  "prefix or regex" },
	{ "vs two match kinds", VS_HTTP "    match:\n"
	  "    - uri: {exact: /a, prefix: /b}\n",
	  "t.yaml:13:32: spec.http[0].match[0].uri.prefix: only one of exact, "
	  "prefix or regex may be set" },
	{ "vs empty regex", VS_HTTP "    match:\n    - uri: {regex: \"\"}\n",
	  "t.yaml:13:20: spec.http[0].match[0].uri.regex: regex string match "
	  "should not be empty" },
	{ "vs header match null", VS_HTTP "    match:\n    - headers:\n"
	  "        end-user:\n",
	  "t.yaml:14:18: spec.http[0].match[0].headers.end-user: header match "
	  "end-user cannot be null" },
	{ "vs bad header name", VS_HTTP "    match:\n"
	  "    - headers: {\"a b\": {exact: x}}\n",
	  "t.yaml:13:17: spec.http[0].match[0].headers.a b: header name a b "
	  "is not a valid header name" },
	{ "vs query prefix", VS_HTTP "    match:\n"
	  "    - queryParams: {v: {prefix: x}}\n",
	  "t.yaml:13:24: spec.http[0].match[0].queryParams.v: prefix match "
	  "is not supported for query parameters" },
	{ "vs sourceLabels unsupported", VS_HTTP "    match:\n"
	  "    - sourceLabels: {app: x}\n",
	  "t.yaml:13:7: spec.http[0].match[0].sourceLabels: field is not "
	  "supported by this gateway" },
	{ "vs match port", VS_HTTP "    match:\n    - port: 70000\n",
	  "t.yaml:13:13: spec.http[0].match[0].port: must be between 1 and "
	  "65535" },
	{ "vs ignoreUriCase yes", VS_HTTP "    match:\n"
	  "    - ignoreUriCase: yes\n",
	  "t.yaml:13:22: spec.http[0].match[0].ignoreUriCase: must be a "
	  "boolean, not a string" },
	{ "vs fault empty", VS_HTTP "    fault: {}\n",
	  "t.yaml:12:12: spec.http[0].fault: HTTP fault injection must have "
	  "an abort and/or a delay" },
	{ "vs abort status", VS_HTTP "    fault:\n      abort:\n"
	  "        httpStatus: 700\n",
	  "t.yaml:14:21: spec.http[0].fault.abort.httpStatus: HTTP status 700 "
	  "is not in range 200-599" },
	{ "vs abort percentage", VS_HTTP "    fault:\n      abort:\n"
	  "        httpStatus: 500\n        percentage: {value: 100.01}\n",
	  "t.yaml:15:29: spec.http[0].fault.abort.percentage.value: must be "
	  "between 0 and 100" },
	{ "vs delay without fixedDelay", VS_HTTP "    fault:\n"
	  "      delay: {percentage: {value: 5}}\n",
	  "t.yaml:13:14: spec.http[0].fault.delay.fixedDelay: required field "
	  "is missing" },
	{ "vs delay percent", VS_HTTP "    fault:\n"
	  "      delay: {fixedDelay: 1s, percent: 101}\n",
	  "t.yaml:13:40: spec.http[0].fault.delay.percent: must be between 0 "
	  "and 100" },
	{ "vs retries negative", VS_HTTP "    retries: {attempts: -1}\n",
	  "t.yaml:12:25: spec.http[0].retries.attempts: attempts cannot be "
	  "negative" },
	{ "vs retryOn unknown", VS_HTTP
	  "    retries: {attempts: 2, retryOn: \"5xx,bogus\"}\n",
	  "t.yaml:12:37: spec.http[0].retries.retryOn: \"bogus\" is not a "
	  "valid retryOn policy" },
	{ "vs rewrite uri and regex", VS_HTTP "    rewrite:\n      uri: /x\n"
	  "      uriRegexRewrite: {match: a, rewrite: b}\n",
	  "t.yaml:13:7: spec.http[0].rewrite: rewrite may only contain one of "
	  "URI or UriRegexRewrite" },
	{ "vs rewrite regex invalid", VS_HTTP "    rewrite:\n"
	  "      uriRegexRewrite: {match: 'a(b', rewrite: x}\n",
	  "t.yaml:13:24: spec.http[0].rewrite.uriRegexRewrite.match: regex "
	  "'a(b': missing ) at offset 3" },
	{ "vs rewrite regex group", VS_HTTP "    rewrite:\n"
	  "      uriRegexRewrite: {match: '^/(a)', rewrite: '\\2'}\n",
	  "t.yaml:13:24: spec.http[0].rewrite.uriRegexRewrite.rewrite: "
	  "rewrite '\\2': \\2 at offset 0 refers to group 2 but the regex "
	  "has 1 group" },
	{ "vs cors method", VS_HTTP
	  "    corsPolicy: {allowMethods: [GET, FETCH]}\n",
	  "t.yaml:12:38: spec.http[0].corsPolicy.allowMethods: \"FETCH\" is "
	  "not a supported HTTP method" },
	{ "vs header op pseudo", VS_HTTP
	  "    headers: {request: {set: {\":path\": /x}}}\n",
	  "t.yaml:12:31: spec.http[0].headers.request.set.:path: header "
	  "\":path\" cannot be modified" },
	{ "vs tcp without route", VS_HEAD "  tcp:\n  - match: [{port: 3306}]\n",
	  "t.yaml:9:5: spec.tcp[0]: TCP route is required" },
	{ "vs tcp bad subnet", VS_HEAD "  tcp:\n"
	  "  - match: [{destinationSubnets: [10.0.0.0/33]}]\n"
	  "    route: [{destination: {host: db}}]\n",
	  "t.yaml:9:35: spec.tcp[0].match[0].destinationSubnets[0]: invalid "
	  "IP address or CIDR \"10.0.0.0/33\"" },
	{ "vs exportTo invalid", VS_HEAD "  exportTo: [Foo]\n",
	  "t.yaml:8:14: spec.exportTo[0]: invalid namespace \"Foo\" in "
	  "exportTo" },
	/* DestinationRule */
	{ "dr exportTo duplicate", DR_HEAD "  exportTo: [a, a]\n",
	  "t.yaml:7:17: spec.exportTo[1]: duplicate entry \"a\" in exportTo" },
	{ "dr host missing",
	  "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	  "metadata: {name: r}\nspec:\n  subsets: []\n",
	  "t.yaml:5:3: spec.host: required field is missing" },
	{ "dr tls mode", DR_HEAD "  trafficPolicy:\n    tls:\n"
	  "      mode: ISTIO_MUTUAL\n",
	  "t.yaml:9:13: spec.trafficPolicy.tls.mode: tls mode ISTIO_MUTUAL is "
	  "not supported by this gateway (only DISABLE)" },
	{ "dr duplicate subsets", DR_HEAD "  subsets:\n  - name: v1\n"
	  "  - name: v1\n",
	  "t.yaml:9:5: spec.subsets[1].name: duplicate subset names: v1" },
	{ "dr subset label value", DR_HEAD "  subsets:\n  - name: v1\n"
	  "    labels: {version: \"v 1\"}\n",
	  "t.yaml:9:23: spec.subsets[0].labels.version: invalid label value "
	  "\"v 1\"" },
	{ "dr empty traffic policy", DR_HEAD "  trafficPolicy: {}\n",
	  "t.yaml:7:18: spec.trafficPolicy: traffic policy must have at "
	  "least one field" },
	{ "dr unknown lb", DR_HEAD
	  "  trafficPolicy: {loadBalancer: {simple: FASTEST}}\n",
	  "t.yaml:7:42: spec.trafficPolicy.loadBalancer.simple: unknown load "
	  "balancer \"FASTEST\" (want ROUND_ROBIN, LEAST_REQUEST, RANDOM or "
	  "PASSTHROUGH)" },
	{ "dr simple and hash", DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	  "      simple: RANDOM\n      consistentHash: {useSourceIp: true}\n",
	  "t.yaml:10:23: spec.trafficPolicy.loadBalancer.consistentHash: only "
	  "one of simple or consistentHash may be set" },
	{ "dr maglev not prime", DR_HEAD "  trafficPolicy:\n    loadBalancer:\n"
	  "      consistentHash:\n        httpHeaderName: x-user\n"
	  "        maglev: {tableSize: 1000}\n",
	  "t.yaml:11:29: spec.trafficPolicy.loadBalancer.consistentHash."
	  "maglev.tableSize: tableSize must be a prime number" },
	{ "dr cookie without name", DR_HEAD "  trafficPolicy:\n"
	  "    loadBalancer:\n      consistentHash:\n"
	  "        httpCookie: {ttl: 10s}\n",
	  "t.yaml:10:21: spec.trafficPolicy.loadBalancer.consistentHash."
	  "httpCookie: name required for HttpCookie" },
	{ "dr max connections", DR_HEAD "  trafficPolicy:\n"
	  "    connectionPool: {tcp: {maxConnections: -1}}\n",
	  "t.yaml:8:44: spec.trafficPolicy.connectionPool.tcp.maxConnections: "
	  "max connections must be non-negative" },
	{ "dr ejection percent", DR_HEAD "  trafficPolicy:\n"
	  "    outlierDetection: {maxEjectionPercent: 120}\n",
	  "t.yaml:8:44: spec.trafficPolicy.outlierDetection."
	  "maxEjectionPercent: percentage 120 is not in range 0..100" },
	{ "dr locality unsupported", DR_HEAD "  trafficPolicy:\n"
	  "    loadBalancer: {localityLbSetting: {enabled: true}}\n",
	  "t.yaml:8:20: spec.trafficPolicy.loadBalancer.localityLbSetting: "
	  "field is not supported by this gateway" },
	{ "dr port level without port", DR_HEAD "  trafficPolicy:\n"
	  "    portLevelSettings:\n    - loadBalancer: {simple: RANDOM}\n",
	  "t.yaml:9:7: spec.trafficPolicy.portLevelSettings[0].port: "
	  "portTrafficPolicy must have valid port" },
	/* ServiceEntry, WorkloadEntry */
	{ "se resolution DNS", SE_HEAD "  hosts: [s.example.com]\n"
	  "  resolution: DNS\n",
	  "t.yaml:7:15: spec.resolution: resolution DNS is not supported by "
	  "this gateway (only STATIC)" },
	{ "se resolution default NONE", SE_HEAD "  hosts: [s.example.com]\n"
	  "  ports: [{number: 80, name: http}]\n",
	  "t.yaml:6:3: spec.resolution: resolution NONE (the default) is not "
	  "supported by this gateway; set resolution: STATIC" },
	{ "se without ports", SE_HEAD "  hosts: [s.example.com]\n"
	  "  resolution: STATIC\n",
	  "t.yaml:6:3: spec.ports: service entry must have at least one port" },
	{ "se without hosts", SE_HEAD "  resolution: STATIC\n",
	  "t.yaml:6:3: spec.hosts: service entry must have at least one host" },
	{ "se duplicate port", SE_BODY "  - number: 80\n    name: web\n",
	  "t.yaml:13:5: spec.ports[1].number: duplicate port number 80" },
	{ "se targetPort range", SE_BODY "  - number: 81\n    name: web\n"
	  "    targetPort: 65536\n",
	  "t.yaml:15:17: spec.ports[1].targetPort: must be between 1 and "
	  "65535" },
	{ "se bad address", SE_BODY "  addresses: [300.1.1.1]\n",
	  "t.yaml:13:15: spec.addresses[0]: invalid IP address or CIDR "
	  "\"300.1.1.1\"" },
	{ "se endpoint not an IP", SE_BODY "  endpoints:\n"
	  "  - address: foo.example.com\n",
	  "t.yaml:14:14: spec.endpoints[0].address: endpoint address "
	  "\"foo.example.com\" is not a valid IP address" },
	{ "se endpoint port name", SE_BODY "  endpoints:\n"
	  "  - address: 10.0.0.1\n    ports: {grpc: 9000}\n",
	  "t.yaml:15:13: spec.endpoints[0].ports: endpoint port grpc is not "
	  "defined by the service entry" },
	{ "se selector and endpoints", SE_BODY
	  "  endpoints: [{address: 10.0.0.1}]\n"
	  "  workloadSelector: {labels: {app: s}}\n",
	  "t.yaml:14:3: spec: only one of WorkloadSelector or Endpoints is "
	  "allowed in Service Entry" },
	{ "se protocol", SE_HEAD "  hosts: [s.example.com]\n"
	  "  ports: [{number: 80, name: http, protocol: QUIC}]\n",
	  "t.yaml:7:46: spec.ports[0].protocol: unrecognized protocol "
	  "\"QUIC\"" },
	{ "we address missing",
	  "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
	  "metadata: {name: w}\nspec:\n  labels: {app: w}\n",
	  "t.yaml:5:3: spec.address: address is required" },
	{ "we bad weight", "apiVersion: networking.istio.io/v1\n"
	  "kind: WorkloadEntry\nmetadata: {name: w}\n"
	  "spec: {address: 10.0.0.1, weight: -1}\n",
	  "t.yaml:4:35: spec.weight: must be between 0 and 4294967295" },
	/* Gateway */
	{ "gw tls unsupported", GW_HEAD "    tls: {mode: SIMPLE}\n",
	  "t.yaml:9:5: spec.servers[0].tls: field is not supported by this "
	  "gateway" },
	{ "gw https unsupported",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata: {name: g}\nspec:\n  servers:\n"
	  "  - port: {number: 443, name: https, protocol: HTTPS}\n"
	  "    hosts: [\"*\"]\n",
	  "t.yaml:6:48: spec.servers[0].port.protocol: protocol HTTPS is not "
	  "supported by this gateway (only HTTP and TCP)" },
	{ "gw no servers",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata: {name: g}\nspec:\n  selector: {istio: ingress}\n",
	  "t.yaml:5:3: spec.servers: gateway must have at least one server" },
	{ "gw no hosts",
	  "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
	  "metadata: {name: g}\nspec:\n  servers:\n"
	  "  - port: {number: 80, name: http, protocol: HTTP}\n",
	  "t.yaml:6:5: spec.servers[0].hosts: server config must contain at "
	  "least one host" },
};

static void
test_invalid_documents(void **state)
{
	int failures = 0;
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		struct gw_model_set *set;
		char err[GW_ERR_LEN];
		int rc;

		set = load_string(c->yaml, err, sizeof(err), &rc);
		if (rc != -GW_ECONFIG) {
			print_error("%s: rc %d, want -GW_ECONFIG\n", c->name,
				    rc);
			failures++;
		} else if (strcmp(err, c->error) != 0) {
			print_error("%s:\n  got:  %s\n  want: %s\n", c->name,
				    err, c->error);
			failures++;
		}
		assert_int_equal(gw_model_set_count(set), 0);
		gw_model_set_free(set);
	}
	assert_true(GW_ARRAY_SIZE(invalid_cases) >= 45);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */
/* The store                                                           */
/* ------------------------------------------------------------------ */

#define VS_REVIEWS(subset) "apiVersion: networking.istio.io/v1\n" \
	"kind: VirtualService\nmetadata:\n  name: reviews\nspec:\n" \
	"  hosts: [reviews]\n  http:\n  - route:\n" \
	"    - destination: {host: reviews, subset: " subset "}\n"
#define DR_REVIEWS(subsets) "apiVersion: networking.istio.io/v1\n" \
	"kind: DestinationRule\nmetadata:\n  name: reviews\nspec:\n" \
	"  host: reviews\n  subsets:\n" subsets
#define SUBSET(n) "  - {name: " n ", labels: {version: " n "}}\n"

/* Load and apply; returns apply's result, err holds its messages. */
static int
apply_string(struct gw_model_store *store, const char *yaml,
	     enum gw_model_action *actions, uint32_t max, char *err,
	     size_t errlen)
{
	struct gw_model_set *set;
	int rc;

	set = load_string(yaml, err, errlen, &rc);
	if (rc < 0)
		fail_msg("load: %s", err);
	rc = gw_model_store_apply(store, set, err, errlen);
	for (uint32_t i = 0; i < max; i++)
		actions[i] = gw_model_set_action(set, i);
	gw_model_set_free(set);
	return rc;
}

static void
test_store_apply_replace_unchanged(void **state)
{
	struct gw_model_store *store = gw_model_store_create();
	enum gw_model_action act[2];
	const struct gw_model_resource *r;
	char err[GW_ERR_LEN];
	uint64_t gen;
	(void)state;

	assert_int_equal(apply_string(store, DR_REVIEWS(SUBSET("v1")
		SUBSET("v2")) "---\n" VS_REVIEWS("v1"), act, 2, err,
		sizeof(err)), 2);
	assert_int_equal(act[0], GW_MODEL_ACTION_CREATED);
	assert_int_equal(act[1], GW_MODEL_ACTION_CREATED);
	gen = gw_model_store_generation(store);
	assert_true(gen > 0);

	/* Same documents, other formatting: unchanged, no new generation. */
	assert_int_equal(apply_string(store, "# reformatted\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		"metadata: {name: reviews}\nspec:\n  http:\n  - route:\n"
		"    - destination:\n        subset: v1\n        host: reviews\n"
		"  hosts:\n  - reviews\n", act, 1, err, sizeof(err)), 0);
	assert_int_equal(act[0], GW_MODEL_ACTION_UNCHANGED);
	assert_int_equal(gw_model_store_generation(store), gen);

	/* A change: configured, and the store holds the new version. */
	assert_int_equal(apply_string(store, VS_REVIEWS("v2"), act, 1, err,
				      sizeof(err)), 1);
	assert_int_equal(act[0], GW_MODEL_ACTION_CONFIGURED);
	assert_true(gw_model_store_generation(store) > gen);
	r = gw_model_store_get(store, GW_MODEL_KIND_VIRTUAL_SERVICE, NULL,
			       "reviews");
	assert_non_null(r);
	assert_string_equal(r->spec.vs->http[0].route[0].destination.subset,
			    "v2");
	assert_int_equal(gw_model_store_count(store, GW_MODEL_KIND_COUNT), 2);
	assert_null(gw_model_store_get(store, GW_MODEL_KIND_VIRTUAL_SERVICE,
				       "other", "reviews"));
	gw_model_store_free(store);
}

static void
test_store_order_and_namespaces(void **state)
{
	struct gw_model_store *store = gw_model_store_create();
	enum gw_model_action act[3];
	char err[GW_ERR_LEN];
	(void)state;

	assert_int_equal(apply_string(store,
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		"metadata: {name: b, namespace: prod}\nspec: {host: b}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		"metadata: {name: b}\nspec: {host: b}\n---\n"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		"metadata: {name: a}\nspec: {host: a}\n", act, 3, err,
		sizeof(err)), 3);
	assert_int_equal(gw_model_store_count(store,
			 GW_MODEL_KIND_DESTINATION_RULE), 3);
	/* Ordered by namespace then name. */
	assert_string_equal(gw_model_store_at(store,
		GW_MODEL_KIND_DESTINATION_RULE, 0)->meta.name, "a");
	assert_string_equal(gw_model_store_at(store,
		GW_MODEL_KIND_DESTINATION_RULE, 1)->meta.name, "b");
	assert_string_equal(gw_model_store_at(store,
		GW_MODEL_KIND_DESTINATION_RULE, 2)->meta.namespace, "prod");
	assert_null(gw_model_store_at(store, GW_MODEL_KIND_DESTINATION_RULE,
				      3));
	assert_non_null(gw_model_store_get(store,
		GW_MODEL_KIND_DESTINATION_RULE, "prod", "b"));
	assert_non_null(gw_model_store_at(store, GW_MODEL_KIND_COUNT, 2));
	assert_null(gw_model_store_at(store, GW_MODEL_KIND_COUNT, 3));
	gw_model_store_free(store);
}

static void
test_store_delete(void **state)
{
	struct gw_model_store *store = gw_model_store_create();
	const struct gw_model_resource *pinned;
	struct gw_model_set *set;
	enum gw_model_action act[2];
	enum gw_model_kind kind;
	char err[GW_ERR_LEN];
	int rc;
	(void)state;

	assert_int_equal(apply_string(store, DR_REVIEWS(SUBSET("v1")) "---\n"
		VS_REVIEWS("v1"), act, 2, err, sizeof(err)), 2);

	/* A pinned resource outlives its deletion from the store. */
	pinned = gw_model_store_get(store, GW_MODEL_KIND_VIRTUAL_SERVICE, NULL,
				    "reviews");
	gw_model_resource_ref(pinned);

	/* By kind alias and name, as `gwctl delete vs reviews`. */
	assert_int_equal(gw_model_kind_parse("vs", &kind), 0);
	assert_int_equal(gw_model_store_delete(store, kind, NULL, "reviews"),
			 0);
	assert_string_equal(pinned->spec.vs->hosts[0], "reviews");
	gw_model_resource_unref(pinned);
	assert_int_equal(gw_model_store_delete(store, kind, NULL, "reviews"),
			 -ENOENT);
	assert_int_equal(gw_model_store_count(store, kind), 0);

	/* By file, as `gwctl delete -f`: found and not found reported. */
	set = load_string(DR_REVIEWS(SUBSET("v1")) "---\n" VS_REVIEWS("v1"),
			  err, sizeof(err), &rc);
	assert_int_equal(rc, 2);
	assert_int_equal(gw_model_store_delete_set(store, set), 1);
	assert_int_equal(gw_model_set_action(set, 0), GW_MODEL_ACTION_DELETED);
	assert_int_equal(gw_model_set_action(set, 1),
			 GW_MODEL_ACTION_NOT_FOUND);
	assert_int_equal(gw_model_store_count(store, GW_MODEL_KIND_COUNT), 0);
	gw_model_set_free(set);
	gw_model_store_free(store);
}

static void
test_kind_aliases(void **state)
{
	static const struct {
		const char *word;
		enum gw_model_kind kind;
	} ok[] = {
		{ "VirtualService", GW_MODEL_KIND_VIRTUAL_SERVICE },
		{ "virtualservices", GW_MODEL_KIND_VIRTUAL_SERVICE },
		{ "VS", GW_MODEL_KIND_VIRTUAL_SERVICE },
		{ "virtualservices.networking.istio.io",
		  GW_MODEL_KIND_VIRTUAL_SERVICE },
		{ "destinationrule", GW_MODEL_KIND_DESTINATION_RULE },
		{ "DestinationRules", GW_MODEL_KIND_DESTINATION_RULE },
		{ "dr", GW_MODEL_KIND_DESTINATION_RULE },
		{ "serviceentry", GW_MODEL_KIND_SERVICE_ENTRY },
		{ "serviceentries", GW_MODEL_KIND_SERVICE_ENTRY },
		{ "se", GW_MODEL_KIND_SERVICE_ENTRY },
		{ "WorkloadEntry", GW_MODEL_KIND_WORKLOAD_ENTRY },
		{ "workloadentries", GW_MODEL_KIND_WORKLOAD_ENTRY },
		{ "we", GW_MODEL_KIND_WORKLOAD_ENTRY },
		{ "gateway", GW_MODEL_KIND_GATEWAY },
		{ "Gateways", GW_MODEL_KIND_GATEWAY },
		{ "gw", GW_MODEL_KIND_GATEWAY },
	};
	static const char *const bad[] = {
		"", "v", "virtualservicez", "sidecar", "vs.example.com", NULL,
	};
	enum gw_model_kind k;
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(ok); i++) {
		assert_int_equal(gw_model_kind_parse(ok[i].word, &k), 0);
		assert_int_equal(k, ok[i].kind);
	}
	for (size_t i = 0; bad[i] != NULL; i++)
		assert_int_equal(gw_model_kind_parse(bad[i], &k), -EINVAL);
	assert_int_equal(gw_model_kind_parse(NULL, &k), -EINVAL);
	assert_string_equal(gw_model_kind_name(GW_MODEL_KIND_SERVICE_ENTRY),
			    "ServiceEntry");
	assert_string_equal(gw_model_kind_singular(
		GW_MODEL_KIND_VIRTUAL_SERVICE), "virtualservice");
	assert_string_equal(gw_model_kind_plural(GW_MODEL_KIND_SERVICE_ENTRY),
			    "serviceentries");
	assert_string_equal(gw_model_action_name(GW_MODEL_ACTION_CONFIGURED),
			    "configured");
}

/* A batch with one bad document changes nothing, loaded or applied. */
static void
test_store_batch_all_or_nothing(void **state)
{
	struct gw_model_store *store = gw_model_store_create();
	struct gw_model_set *set;
	enum gw_model_action act[1];
	char err[GW_ERR_LEN];
	uint64_t gen;
	int rc;
	(void)state;

	assert_int_equal(apply_string(store, DR_REVIEWS(SUBSET("v1")), act, 1,
				      err, sizeof(err)), 1);
	gen = gw_model_store_generation(store);

	/* A bad document: the load fails, there is nothing to apply. */
	set = load_string(VS_REVIEWS("v1") "---\n"
		DR_REVIEWS("  - {name: v1, labels: 7}\n"), err, sizeof(err),
		&rc);
	assert_int_equal(rc, -GW_ECONFIG);
	assert_int_equal(gw_model_set_count(set), 0);
	gw_model_set_free(set);

	/* A cross-reference error: the store is left as it was. */
	set = load_string("apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\nmetadata: {name: ratings}\n"
		"spec: {host: ratings}\n---\n" VS_REVIEWS("v3"), err,
		sizeof(err), &rc);
	assert_int_equal(rc, 2);
	rc = gw_model_store_apply(store, set, err, sizeof(err));
	assert_int_equal(rc, -GW_ECONFIG);
	assert_string_equal(err, "t.yaml:14:44: spec.http[0].route[0]."
		"destination.subset: unknown subset \"v3\": DestinationRule "
		"default/reviews for host \"reviews\" does not define it");
	assert_int_equal(gw_model_set_action(set, 0), GW_MODEL_ACTION_NONE);
	gw_model_set_free(set);
	assert_int_equal(gw_model_store_generation(store), gen);
	assert_int_equal(gw_model_store_count(store, GW_MODEL_KIND_COUNT), 1);
	assert_null(gw_model_store_get(store, GW_MODEL_KIND_DESTINATION_RULE,
				       NULL, "ratings"));
	gw_model_store_free(store);
}

static void
test_store_unknown_subset(void **state)
{
	struct gw_model_store *store = gw_model_store_create();
	struct gw_model_set *set;
	enum gw_model_action act[2];
	char err[GW_ERR_LEN];
	int rc;
	(void)state;

	/* No DestinationRule for the host: any subset name is accepted. */
	assert_int_equal(apply_string(store, VS_REVIEWS("v9"), act, 1, err,
				      sizeof(err)), 1);
	/* A rule for the host that lacks v9 is refused against the store. */
	set = load_string(DR_REVIEWS(SUBSET("v1")), err, sizeof(err), &rc);
	assert_int_equal(rc, 1);
	assert_int_equal(gw_model_store_apply(store, set, err, sizeof(err)),
			 -GW_ECONFIG);
	assert_string_equal(err, "t.yaml:9:44: spec.http[0].route[0]."
		"destination.subset: unknown subset \"v9\": DestinationRule "
		"default/reviews for host \"reviews\" does not define it");
	gw_model_set_free(set);
	/* With the route fixed in the same batch it goes through. */
	assert_int_equal(apply_string(store, DR_REVIEWS(SUBSET("v1")) "---\n"
		VS_REVIEWS("v1"), act, 2, err, sizeof(err)), 2);
	assert_int_equal(act[1], GW_MODEL_ACTION_CONFIGURED);

	/* Short names match FQDNs in the resource's namespace. */
	set = load_string("apiVersion: networking.istio.io/v1\n"
		"kind: VirtualService\nmetadata: {name: fq}\nspec:\n"
		"  hosts: [fq]\n  http:\n  - route:\n    - destination:\n"
		"        host: reviews.default.svc.cluster.local\n"
		"        subset: v7\n", err, sizeof(err), &rc);
	assert_int_equal(rc, 1);
	assert_int_equal(gw_model_set_validate(set, store, err, sizeof(err)),
			 -GW_ECONFIG);
	assert_non_null(strstr(err, "unknown subset \"v7\""));
	/* Offline (no store), the same set alone is fine. */
	assert_int_equal(gw_model_set_validate(set, NULL, err, sizeof(err)),
			 0);
	gw_model_set_free(set);

	/* Mirrors are checked too. */
	set = load_string(DR_REVIEWS(SUBSET("v1")) "---\n" VS_REVIEWS("v1")
		"    mirror: {host: reviews, subset: v2}\n", err, sizeof(err),
		&rc);
	assert_int_equal(rc, 2);
	assert_int_equal(gw_model_set_validate(set, NULL, err, sizeof(err)),
			 -GW_ECONFIG);
	assert_string_equal(err, "t.yaml:19:37: spec.http[0].mirror.subset: "
		"unknown subset \"v2\": DestinationRule default/reviews for "
		"host \"reviews\" does not define it");
	gw_model_set_free(set);
	gw_model_store_free(store);
}

/* ------------------------------------------------------------------ */
/* Serialisation                                                       */
/* ------------------------------------------------------------------ */

static void
check_round_trip(const char *path)
{
	struct gw_model_set *a = gw_model_set_create();
	struct gw_model_set *b = gw_model_set_create();
	struct gw_model_store *store = gw_model_store_create();
	char err[GW_ERR_LEN];
	int n = gw_model_set_load_file(a, path, err, sizeof(err));

	if (n < 0)
		fail_msg("%s: %s", path, err);
	for (int i = 0; i < n; i++) {
		const struct gw_model_resource *r = gw_model_set_at(a, i);
		char *yaml, *yaml2, *json, *json2;
		size_t len;

		assert_int_equal(gw_model_resource_to_yaml(r, &yaml, &len), 0);
		assert_int_equal(strlen(yaml), len);
		assert_int_equal(gw_model_set_load_buffer(b, yaml, len, "rt",
							  err, sizeof(err)), 1);
		assert_int_equal(gw_model_resource_to_yaml(
			gw_model_set_at(b, 2 * i), &yaml2, &len), 0);
		assert_string_equal(yaml, yaml2);
		assert_int_equal(gw_model_resource_to_json(r, &json, &len), 0);
		assert_int_equal(gw_model_resource_to_json(
			gw_model_set_at(b, 2 * i), &json2, &len), 0);
		assert_string_equal(json, json2);
		/* JSON is YAML: it loads back into the same resource. */
		assert_int_equal(gw_model_set_load_buffer(b, json, len, "rt",
							  err, sizeof(err)), 1);
		free(yaml);
		free(yaml2);
		free(json);
		free(json2);
	}
	/* Applying the reloaded copies over the originals: unchanged. */
	assert_true(gw_model_store_apply(store, a, err, sizeof(err)) >= 0);
	for (int i = 0; i < n; i++) {
		struct gw_model_set *one = gw_model_set_create();
		char *yaml;
		size_t len;

		gw_model_resource_to_yaml(gw_model_set_at(b, 2 * i + 1), &yaml,
					  &len);
		assert_int_equal(gw_model_set_load_buffer(one, yaml, len, "rt",
							  err, sizeof(err)), 1);
		free(yaml);
		assert_int_equal(gw_model_store_apply(store, one, err,
						      sizeof(err)), 0);
		assert_int_equal(gw_model_set_action(one, 0),
				 GW_MODEL_ACTION_UNCHANGED);
		gw_model_set_free(one);
	}
	gw_model_set_free(a);
	gw_model_set_free(b);
	gw_model_store_free(store);
}

static void
test_round_trip(void **state)
{
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(fixture_files); i++) {
		char path[512];

		if (strstr(fixture_files[i], ".yaml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", FIXTURES,
			 fixture_files[i]);
		check_round_trip(path);
	}
	check_round_trip(DATA "/full-vs.yaml");
	check_round_trip(DATA "/registry.yaml");
}

static void
test_serialise_output(void **state)
{
	const char *yaml = "apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\nmetadata:\n  name: r\n"
		"  annotations: {n: \"80\", q: 'it''s', t: \"a\\tb\"}\nspec:\n"
		"  host: r\n  trafficPolicy:\n    connectionPool:\n"
		"      tcp: {maxConnections: 0x10}\n";
	struct gw_model_set *set;
	char err[GW_ERR_LEN], *out;
	size_t len;
	int rc;
	(void)state;

	set = load_string(yaml, err, sizeof(err), &rc);
	assert_int_equal(rc, 1);
	assert_int_equal(gw_model_resource_to_json(gw_model_set_at(set, 0),
						   &out, &len), 0);
	assert_string_equal(out, "{\n"
		"  \"apiVersion\": \"networking.istio.io/v1\",\n"
		"  \"kind\": \"DestinationRule\",\n"
		"  \"metadata\": {\n"
		"    \"name\": \"r\",\n"
		"    \"annotations\": {\n"
		"      \"n\": \"80\",\n"
		"      \"q\": \"it's\",\n"
		"      \"t\": \"a\\tb\"\n"
		"    }\n"
		"  },\n"
		"  \"spec\": {\n"
		"    \"host\": \"r\",\n"
		"    \"trafficPolicy\": {\n"
		"      \"connectionPool\": {\n"
		"        \"tcp\": {\n"
		"          \"maxConnections\": 16\n"
		"        }\n"
		"      }\n"
		"    }\n"
		"  }\n"
		"}\n");
	free(out);
	assert_int_equal(gw_model_resource_to_yaml(gw_model_set_at(set, 0),
						   &out, &len), 0);
	/* Quoted scalars stay quoted, so "80" stays a string. */
	assert_non_null(strstr(out, "n: \"80\""));
	assert_non_null(strstr(out, "maxConnections: 0x10"));
	free(out);
	gw_model_set_free(set);
}

/* ------------------------------------------------------------------ */
/* Every field, the registry, values                                   */
/* ------------------------------------------------------------------ */

/* Characters YAML reads as line breaks stay escaped in JSON. */
static void
test_serialise_line_breaks(void **state)
{
	const char *yaml = "apiVersion: networking.istio.io/v1\n"
		"kind: Gateway\nmetadata:\n  name: g\n"
		"  annotations: {x: \"a\\Nb\\Lc\\td\"}\n"
		"spec:\n  servers:\n"
		"  - port: {number: 80, name: http, protocol: HTTP}\n"
		"    hosts: [\"*\"]\n";
	struct gw_model_set *set;
	char err[GW_ERR_LEN], *json, *again;
	size_t len;
	int rc;
	(void)state;

	set = load_string(yaml, err, sizeof(err), &rc);
	assert_int_equal(rc, 1);
	assert_string_equal(gw_model_set_at(set, 0)->meta.annotations[0].value,
			    "a\xc2\x85" "b\xe2\x80\xa8" "c\td");
	assert_int_equal(gw_model_resource_to_json(gw_model_set_at(set, 0),
						   &json, &len), 0);
	assert_non_null(strstr(json, "\"a\\u0085b\\u2028c\\td\""));
	assert_int_equal(gw_model_set_load_buffer(set, json, len, "j", err,
						  sizeof(err)), 1);
	assert_int_equal(gw_model_resource_to_json(gw_model_set_at(set, 1),
						   &again, &len), 0);
	assert_string_equal(json, again);
	free(json);
	free(again);
	gw_model_set_free(set);
}

static void
test_full_virtual_service(void **state)
{
	struct gw_model_set *set = gw_model_set_create();
	const struct gw_model_resource *r;
	const struct gw_http_route *h;
	const struct gw_http_match *m;
	const struct gw_vs *vs;
	char err[GW_ERR_LEN];
	(void)state;

	if (gw_model_set_load_file(set, DATA "/full-vs.yaml", err,
				   sizeof(err)) != 1)
		fail_msg("%s", err);
	r = gw_model_set_at(set, 0);
	assert_string_equal(r->api_version, "networking.istio.io/v1beta1");
	assert_string_equal(r->meta.namespace, "shop");
	assert_int_equal(r->meta.n_labels, 1);
	assert_string_equal(r->meta.annotations[0].value, "kept as written");
	vs = r->spec.vs;
	assert_int_equal(vs->n_hosts, 2);
	assert_string_equal(vs->hosts[1], "*.full.example.com");
	assert_string_equal(vs->gateways[0], "shop/ingress");
	assert_string_equal(vs->export_to[0], ".");
	assert_int_equal(vs->n_http, 4);

	h = &vs->http[0];
	assert_string_equal(h->name, "canary");
	m = &h->matches[0];
	assert_string_equal(m->name, "jason");
	assert_int_equal(m->uri.kind, GW_MODEL_MATCH_PREFIX);
	assert_string_equal(m->uri.value, "/api/");
	assert_true(m->ignore_uri_case);
	assert_int_equal(m->method.kind, GW_MODEL_MATCH_EXACT);
	assert_int_equal(m->n_headers, 2);
	assert_string_equal(m->headers[0].name, "end-user");
	assert_true(m->headers[1].present_only);
	assert_int_equal(m->headers[1].match.kind, GW_MODEL_MATCH_NONE);
	assert_true(m->without_headers[0].present_only);
	assert_int_equal(m->query_params[0].match.kind, GW_MODEL_MATCH_REGEX);
	assert_int_equal(m->port, 8080);
	assert_int_equal(h->route[0].destination.port, 9080);
	assert_int_equal(h->route[0].weight, 75);
	assert_string_equal(h->route[0].headers.request.set[0].key, "x-route");
	assert_int_equal(h->total_weight, 100);
	assert_null(h->mirror);
	assert_int_equal(h->n_mirrors, 1);
	assert_false(h->mirrors[0].legacy);
	assert_int_equal(h->mirrors[0].ppm, 125000);
	assert_int_equal(h->timeout_us, 1500000);
	assert_int_equal(h->retries.attempts, 3);
	assert_int_equal(h->retries.per_try_timeout_us, 100000);
	assert_int_equal(h->retries.n_retry_on, 3);
	assert_string_equal(h->retries.retry_on_list[1], "connect-failure");
	assert_int_equal(h->retries.retry_remote_localities, 1);
	assert_int_equal(h->fault.delay.fixed_delay_us, 250000);
	assert_int_equal(h->fault.delay.ppm, 100000);
	assert_string_equal(h->headers.request.add[0].value, "1");
	assert_string_equal(h->headers.request.remove[0], "x-b");
	assert_string_equal(h->headers.response.set[0].key, "x-c");
	assert_string_equal(h->rewrite.uri, "/v2/");
	assert_string_equal(h->rewrite.authority, "backend");
	assert_true(h->has_cors);
	assert_int_equal(h->cors.n_allow_methods, 2);
	assert_int_equal(h->cors.max_age_us, 86400LL * 1000000);
	assert_int_equal(h->cors.allow_credentials, 0);

	h = &vs->http[1];
	assert_true(h->has_redirect);
	assert_int_equal(h->redirect.code, 308);
	assert_string_equal(h->redirect.authority, "new.example.com");
	h = &vs->http[2];
	assert_true(h->has_direct_response);
	assert_int_equal(h->direct_response.status, 418);
	assert_int_equal(h->direct_response.body_len, 12);
	assert_memory_equal(h->direct_response.body, "I'm a teapot", 12);
	h = &vs->http[3];
	assert_string_equal(h->mirror->subset, "v2");
	assert_int_equal(h->mirror_ppm, 1000);
	assert_int_equal(h->mirrors[0].ppm, 1000);
	assert_int_equal(h->fault.abort.http_status, 503);
	assert_int_equal(h->fault.abort.ppm, 1);

	assert_int_equal(vs->n_tcp, 1);
	assert_int_equal(vs->tcp[0].matches[0].port, 3306);
	assert_int_equal(vs->tcp[0].matches[0].destination_subnets[0].family,
			 AF_INET);
	assert_int_equal(vs->tcp[0].matches[0].destination_subnets[0].addr.v4,
			 htonl(0x0a000000));
	assert_int_equal(
		vs->tcp[0].matches[0].destination_subnets[0].prefix_len, 8);
	assert_int_equal(vs->tcp[0].route[0].destination.port, 3306);
	gw_model_set_free(set);
}

static void
test_traffic_policy(void **state)
{
	const char *yaml = DR_HEAD "  trafficPolicy:\n"
		"    loadBalancer:\n      consistentHash:\n"
		"        httpCookie: {name: sid, path: /, ttl: 30s}\n"
		"        maglev: {tableSize: 65537}\n"
		"    connectionPool:\n"
		"      tcp: {maxConnections: 100, connectTimeout: 30ms,\n"
		"            tcpKeepalive: {probes: 3, time: 7200s}}\n"
		"      http: {http1MaxPendingRequests: 10, maxRetries: 2,\n"
		"             idleTimeout: 1m}\n"
		"    outlierDetection: {consecutiveErrors: 7,\n"
		"      consecutive5xxErrors: 5, interval: 5m,\n"
		"      baseEjectionTime: 15m, maxEjectionPercent: 50}\n"
		"    tls: {mode: DISABLE}\n"
		"    portLevelSettings:\n"
		"    - port: {number: 9080}\n"
		"      loadBalancer: {simple: LEAST_CONN}\n"
		"  subsets:\n"
		"  - name: v2\n    labels: {version: v2}\n"
		"    trafficPolicy:\n"
		"      loadBalancer:\n        consistentHash:\n"
		"          useSourceIp: true\n          minimumRingSize: 1024\n";
	const struct gw_traffic_policy *tp;
	const struct gw_dr *dr;
	struct gw_model_set *set;
	char err[GW_ERR_LEN];
	int rc;
	(void)state;

	set = load_string(yaml, err, sizeof(err), &rc);
	if (rc != 1)
		fail_msg("%s", err);
	dr = gw_model_set_at(set, 0)->spec.dr;
	tp = &dr->traffic_policy;
	assert_true(tp->load_balancer.has_consistent_hash);
	assert_int_equal(tp->load_balancer.hash.key, GW_MODEL_HASH_HTTP_COOKIE);
	assert_string_equal(tp->load_balancer.hash.cookie_name, "sid");
	assert_int_equal(tp->load_balancer.hash.cookie_ttl_us, 30000000);
	assert_int_equal(tp->load_balancer.hash.algo, GW_MODEL_HASH_ALGO_MAGLEV);
	assert_int_equal(tp->load_balancer.hash.table_size, 65537);
	assert_int_equal(tp->connection_pool.max_connections, 100);
	assert_int_equal(tp->connection_pool.connect_timeout_us, 30000);
	assert_int_equal(tp->connection_pool.keepalive_probes, 3);
	assert_int_equal(tp->connection_pool.keepalive_interval_us,
			 GW_MODEL_UNSET);
	assert_int_equal(tp->connection_pool.http2_max_requests,
			 GW_MODEL_UNSET);
	assert_int_equal(tp->connection_pool.idle_timeout_us, 60000000);
	/* consecutive5xxErrors wins over the deprecated field. */
	assert_int_equal(tp->outlier_detection.consecutive_5xx_errors, 5);
	assert_int_equal(tp->outlier_detection.base_ejection_time_us,
			 900000000LL);
	assert_int_equal(tp->outlier_detection.min_health_percent,
			 GW_MODEL_UNSET);
	assert_int_equal(tp->tls_mode, GW_MODEL_TLS_DISABLE);
	assert_int_equal(tp->n_port_level, 1);
	assert_int_equal(tp->port_level[0].port, 9080);
	assert_int_equal(tp->port_level[0].load_balancer.simple,
			 GW_MODEL_LB_LEAST_REQUEST);
	/* The subset's own policy is kept beside the rule's. */
	tp = &dr->subsets[0].traffic_policy;
	assert_true(tp->present);
	assert_int_equal(tp->load_balancer.hash.key, GW_MODEL_HASH_SOURCE_IP);
	assert_int_equal(tp->load_balancer.hash.algo, GW_MODEL_HASH_ALGO_RING);
	assert_int_equal(tp->load_balancer.hash.minimum_ring_size, 1024);
	assert_false(tp->connection_pool.present);
	gw_model_set_free(set);
}

static void
test_registry(void **state)
{
	struct gw_model_store *store = gw_model_store_create();
	struct gw_model_set *set = gw_model_set_create();
	struct gw_model_endpoint eps[8];
	const struct gw_model_resource *owner;
	const struct gw_se *se;
	struct gw_subset v2 = { .name = "v2" };
	struct gw_kv v2_labels[] = { { "version", "v2" } };
	char err[GW_ERR_LEN];
	uint32_t n;
	(void)state;

	if (gw_model_set_load_file(set, DATA "/registry.yaml", err,
				   sizeof(err)) != 6)
		fail_msg("%s", err);
	assert_int_equal(gw_model_store_apply(store, set, err, sizeof(err)),
			 6);
	v2.labels = v2_labels;
	v2.n_labels = 1;

	/* Selected WorkloadEntries; "other" lacks app: httpbin. */
	n = gw_model_store_endpoints(store, "httpbin", NULL, NULL, eps, 8);
	assert_int_equal(n, 2);
	assert_string_equal(eps[0].workload->address, "10.0.1.1");
	assert_int_equal(eps[0].workload->ip.addr.v4, htonl(0x0a000101));
	assert_string_equal(eps[0].owner->meta.name, "httpbin-v1");
	/* Subset members: labels contain all of the subset's. */
	n = gw_model_store_endpoints(store, "httpbin", NULL, &v2, eps, 8);
	assert_int_equal(n, 1);
	assert_int_equal(eps[0].workload->weight, 3);
	/* FQDN in the default namespace names the same service. */
	n = gw_model_store_endpoints(store,
		"httpbin.default.svc.cluster.local", NULL, NULL, eps, 1);
	assert_int_equal(n, 2);     /* total, though only one was filled */

	se = gw_model_store_se_find(store, "httpbin", NULL, &owner);
	assert_non_null(se);
	assert_string_equal(owner->meta.name, "httpbin");
	assert_int_equal(se->location, GW_MODEL_LOCATION_MESH_INTERNAL);
	assert_int_equal(se->addresses[0].prefix_len, 32);
	assert_int_equal(se->ports[0].proto, GW_MODEL_PROTOCOL_HTTP);
	/* targetPort unless the workload names the port. */
	n = gw_model_store_endpoints(store, "httpbin", NULL, NULL, eps, 8);
	assert_int_equal(gw_model_workload_port(eps[0].workload,
						&se->ports[0]), 80);
	assert_int_equal(gw_model_workload_port(eps[1].workload,
						&se->ports[0]), 8080);

	/* Inline endpoints of a ServiceEntry. */
	n = gw_model_store_endpoints(store, "ratings.example.com", NULL, &v2,
				     eps, 8);
	assert_int_equal(n, 1);
	assert_string_equal(eps[0].workload->address, "192.0.2.11");
	assert_string_equal(eps[0].owner->meta.name, "ratings");
	se = gw_model_store_se_find(store, "ratings.example.com", NULL, NULL);
	assert_int_equal(gw_model_workload_port(eps[0].workload,
						&se->ports[0]), 9090);
	assert_int_equal(gw_model_store_endpoints(store, "nope", NULL, NULL,
						  eps, 8), 0);
	assert_null(gw_model_store_dr_find(store, "httpbin", NULL));

	/* The Gateway's listener. */
	owner = gw_model_store_get(store, GW_MODEL_KIND_GATEWAY, NULL,
				   "ingress");
	assert_non_null(owner);
	assert_int_equal(owner->spec.gateway->servers[0].port, 80);
	assert_int_equal(owner->spec.gateway->servers[0].proto,
			 GW_MODEL_PROTOCOL_HTTP);
	assert_string_equal(owner->spec.gateway->servers[0].hosts[0], "*");
	assert_string_equal(owner->spec.gateway->selector[0].value,
			    "ingressgateway");

	assert_true(gw_model_labels_match(NULL, 0, v2_labels, 1));
	assert_false(gw_model_labels_match(v2_labels, 1, NULL, 0));
	gw_model_set_free(set);
	gw_model_store_free(store);
}

static void
test_load_dir(void **state)
{
	struct gw_model_set *set = gw_model_set_create();
	char err[GW_ERR_LEN];
	int rc;
	(void)state;

	rc = gw_model_set_load_dir(set, DATA "/dir", err, sizeof(err));
	if (rc != 2)
		fail_msg("rc %d: %s", rc, err);
	/* Name order: a-route.yaml, then b-rule.yml; notes.txt skipped. */
	assert_int_equal(gw_model_set_at(set, 0)->kind,
			 GW_MODEL_KIND_VIRTUAL_SERVICE);
	assert_non_null(strstr(gw_model_set_at(set, 1)->file, "b-rule.yml"));
	assert_int_equal(gw_model_set_validate(set, NULL, err, sizeof(err)),
			 0);
	rc = gw_model_set_load_file(set, DATA "/missing.yaml", err,
				    sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err, DATA "/missing.yaml: No such file or "
			    "directory");
	rc = gw_model_set_load_dir(set, DATA "/missing", err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_int_equal(gw_model_set_count(set), 2);
	gw_model_set_free(set);
}

static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		int64_t us;
	} ok[] = {
		{ "7s", 7000000 }, { "1.5s", 1500000 }, { "100ms", 100000 },
		{ "250us", 250 }, { "1m30s", 90000000 }, { "1h", 3600000000LL },
		{ "0", 0 }, { ".5s", 500000 }, { "2\xc2\xb5s", 2 },
		{ "1000ns", 1 },
	};
	static const char *const bad[] = {
		"", "s", "1", "1x", "-1s", "1.s.", "1ns", "99999999999999h",
		"1.5", "ms",
	};
	int64_t us;
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(ok); i++) {
		assert_int_equal(gw_model_duration_parse(ok[i].text, &us), 0);
		assert_int_equal(us, ok[i].us);
	}
	for (size_t i = 0; i < GW_ARRAY_SIZE(bad); i++)
		if (gw_model_duration_parse(bad[i], &us) == 0)
			fail_msg("\"%s\" accepted", bad[i]);
}

static void
test_percentages(void **state)
{
	static const struct {
		const char *text;
		uint32_t ppm;
	} ok[] = {
		{ "100", 1000000 }, { "100.0", 1000000 }, { "0", 0 },
		{ "0.1", 1000 }, { "12.5", 125000 }, { "0.0001", 1 },
		{ "0.00005", 1 }, { "0.00004", 0 }, { "1e1", 100000 },
		{ "99.99995", 1000000 }, { "-0", 0 }, { "+50", 500000 },
		{ "33.333333", 333333 }, { "007.50", 75000 },
	};
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{ "100.00001", -ERANGE }, { "101", -ERANGE }, { "-1", -ERANGE },
		{ "1e3", -ERANGE }, { "abc", -EINVAL }, { "", -EINVAL },
		{ "1.2.3", -EINVAL }, { ".", -EINVAL }, { "5%", -EINVAL },
	};
	uint32_t ppm;
	(void)state;

	for (size_t i = 0; i < GW_ARRAY_SIZE(ok); i++) {
		if (gw_model_percent_parse(ok[i].text, &ppm) != 0)
			fail_msg("\"%s\" refused", ok[i].text);
		assert_int_equal(ppm, ok[i].ppm);
	}
	for (size_t i = 0; i < GW_ARRAY_SIZE(bad); i++)
		assert_int_equal(gw_model_percent_parse(bad[i].text, &ppm),
				 bad[i].rc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_identical),
		cmocka_unit_test(test_fixture_destination_rules),
		cmocka_unit_test(test_fixture_all_v1),
		cmocka_unit_test(test_fixture_80_20),
		cmocka_unit_test(test_fixture_test_v2),
		cmocka_unit_test(test_fixture_abort),
		cmocka_unit_test(test_fixture_delay),
		cmocka_unit_test(test_fixture_seed),
		cmocka_unit_test(test_fixtures_apply_all),
		cmocka_unit_test(test_fixture_prefixes),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_load_all_or_nothing),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_store_apply_replace_unchanged),
		cmocka_unit_test(test_store_order_and_namespaces),
		cmocka_unit_test(test_store_delete),
		cmocka_unit_test(test_kind_aliases),
		cmocka_unit_test(test_store_batch_all_or_nothing),
		cmocka_unit_test(test_store_unknown_subset),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_serialise_output),
		cmocka_unit_test(test_serialise_line_breaks),
		cmocka_unit_test(test_full_virtual_service),
		cmocka_unit_test(test_traffic_policy),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_percentages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
