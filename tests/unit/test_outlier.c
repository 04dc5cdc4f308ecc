/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/outlier and its snapshot hooks in lib/route: Istio's
 * defaults, the workers' consecutive counts, ejection for baseEjectionTime
 * x ejections, return at the interval checks, Envoy's multiplier decay,
 * maxEjectionPercent (one host always), minHealthPercent (panic), stale
 * events, and state carried over to a new snapshot, all observed through
 * the health bitmap that the load balancer reads.
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
#include "gw_outlier.h"
#include "gw_route.h"

#define S 1000000ULL  /* one second in microseconds */

static const char services_yaml[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: web}\n"
	"spec:\n"
	"  hosts: [web.example]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 80, name: http, protocol: HTTP}\n"
	"  endpoints:\n"
	"  - {address: 10.0.0.1}\n"
	"  - {address: 10.0.0.2}\n"
	"  - {address: 10.0.0.3}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\n"
	"kind: ServiceEntry\n"
	"metadata: {name: plain}\n"
	"spec:\n"
	"  hosts: [plain.example]\n"
	"  location: MESH_INTERNAL\n"
	"  resolution: STATIC\n"
	"  ports:\n"
	"  - {number: 80, name: http, protocol: HTTP}\n"
	"  endpoints:\n"
	"  - {address: 10.0.1.1}\n"
	"  - {address: 10.0.1.2}\n";

struct fixture {
	struct gw_model_store *store;
	struct gw_route_snapshot *snap;
	struct gw_outlier *o;
	uint32_t web;     /* cluster of web.example */
	uint32_t plain;   /* cluster of plain.example */
	char err[GW_ERR_LEN];
};

static void
apply_yaml(struct fixture *fx, const char *yaml)
{
	struct gw_model_set *set = gw_model_set_create();

	assert_non_null(set);
	if (gw_model_set_load_buffer(set, yaml, strlen(yaml), "test.yaml",
				     fx->err, sizeof(fx->err)) < 0)
		fail_msg("load: %s", fx->err);
	if (gw_model_store_apply(fx->store, set, fx->err, sizeof(fx->err)) < 0)
		fail_msg("apply: %s", fx->err);
	gw_model_set_free(set);
}

/* A DestinationRule for web.example with @p od as its outlierDetection. */
static void
apply_dr(struct fixture *fx, const char *od)
{
	char yaml[1024];

	snprintf(yaml, sizeof(yaml),
		 "apiVersion: networking.istio.io/v1\n"
		 "kind: DestinationRule\n"
		 "metadata: {name: web}\n"
		 "spec:\n"
		 "  host: web.example\n"
		 "  trafficPolicy:\n"
		 "    outlierDetection: %s\n", od);
	apply_yaml(fx, yaml);
}

static uint32_t
cluster_of(struct gw_route_snapshot *snap, const char *host)
{
	for (uint32_t c = 0; c < gw_route_snapshot_cluster_count(snap); c++)
		if (strcmp(gw_route_snapshot_cluster(snap, c)->host, host) == 0)
			return c;
	fail_msg("no cluster for %s", host);
	return 0;
}

static struct gw_route_snapshot *
build(struct fixture *fx)
{
	static const uint16_t ports[] = { 8000 };
	struct gw_route_build_params p = {
		.listener_ports = ports,
		.n_listener_ports = 1,
		.n_workers = 2,
		.seed = 1,
	};
	struct gw_route_snapshot *snap =
		gw_route_snapshot_build(fx->store, &p, fx->err, sizeof(fx->err));

	if (snap == NULL)
		fail_msg("build: %s", fx->err);
	return snap;
}

/* Store, rule @p od, snapshot bound as generation 1 at time 0. */
static void
start(struct fixture *fx, const char *od)
{
	apply_dr(fx, od);
	fx->snap = build(fx);
	fx->web = cluster_of(fx->snap, "web.example");
	fx->plain = cluster_of(fx->snap, "plain.example");
	assert_int_equal(gw_outlier_bind(fx->o, fx->snap, 1, 0), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->store = gw_model_store_create();
	fx->o = gw_outlier_create();
	assert_non_null(fx->store);
	assert_non_null(fx->o);
	apply_yaml(fx, services_yaml);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	gw_outlier_free(fx->o);
	gw_route_snapshot_free(fx->snap);
	gw_model_store_free(fx->store);
	free(fx);
	return 0;
}

static bool
usable(const struct fixture *fx, uint32_t endpoint)
{
	const uint64_t *h = gw_route_cluster_health(fx->snap, fx->web);

	assert_non_null(h);
	return (h[0] >> endpoint) & 1;
}

static bool
eject(struct fixture *fx, uint32_t endpoint, uint8_t kind, uint64_t now)
{
	struct gw_outlier_event ev = {
		.generation = gw_outlier_generation(fx->o),
		.cluster = fx->web,
		.endpoint = endpoint,
		.kind = kind,
	};

	return gw_outlier_report(fx->o, &ev, now);
}

static struct gw_outlier_endpoint_info
info_of(struct fixture *fx, uint32_t endpoint, uint64_t now)
{
	struct gw_outlier_endpoint_info in;

	assert_int_equal(gw_outlier_endpoint(fx->o, fx->web, endpoint, now, &in), 0);
	return in;
}

/* ---- worker side ---- */

static void
test_config_defaults(void **state)
{
	struct gw_outlier_detection od = {
		.present = true,
		.consecutive_5xx_errors = GW_MODEL_UNSET,
		.consecutive_gateway_errors = GW_MODEL_UNSET,
		.interval_us = GW_MODEL_UNSET,
		.base_ejection_time_us = GW_MODEL_UNSET,
		.max_ejection_percent = GW_MODEL_UNSET,
		.min_health_percent = GW_MODEL_UNSET,
	};
	struct gw_outlier_config c;

	(void)state;
	gw_outlier_config_from(&od, &c);
	assert_int_equal(c.consecutive_5xx, 5);
	assert_int_equal(c.consecutive_gateway, 0);
	assert_int_equal(c.interval_us, 10 * S);
	assert_int_equal(c.base_ejection_us, 30 * S);
	assert_int_equal(c.max_ejection_percent, 10);
	assert_int_equal(c.min_health_percent, 0);
	od.consecutive_5xx_errors = 0;
	od.consecutive_gateway_errors = 2;
	od.interval_us = 1 * S;
	od.max_ejection_percent = 100;
	gw_outlier_config_from(&od, &c);
	assert_int_equal(c.consecutive_5xx, 0);
	assert_int_equal(c.consecutive_gateway, 2);
	assert_int_equal(c.interval_us, S);
	assert_int_equal(c.max_ejection_percent, 100);
	gw_outlier_config_from(NULL, &c);
	assert_int_equal(c.consecutive_5xx, 0);
}

static void
test_count(void **state)
{
	uint32_t k[2] = {0, 0};

	(void)state;
	/* 5xx: the third in a row, and a success in between restarts */
	assert_int_equal(gw_outlier_count(k, 500, 3, 0), 0);
	assert_int_equal(gw_outlier_count(k, 500, 3, 0), 0);
	assert_int_equal(gw_outlier_count(k, 200, 3, 0), 0);
	assert_int_equal(gw_outlier_count(k, 500, 3, 0), 0);
	assert_int_equal(gw_outlier_count(k, 503, 3, 0), 0);
	assert_int_equal(gw_outlier_count(k, 501, 3, 0), GW_OUTLIER_5XX);
	assert_int_equal(k[0], 0);
	/* 4xx is a success for outlier detection */
	assert_int_equal(gw_outlier_count(k, 500, 2, 0), 0);
	assert_int_equal(gw_outlier_count(k, 404, 2, 0), 0);
	assert_int_equal(gw_outlier_count(k, 500, 2, 0), 0);
	assert_int_equal(gw_outlier_count(k, 500, 2, 0), GW_OUTLIER_5XX);
	/* gateway errors: a 500 in between restarts them, not the 5xx count */
	assert_int_equal(gw_outlier_count(k, 502, 10, 2), 0);
	assert_int_equal(gw_outlier_count(k, 500, 10, 2), 0);
	assert_int_equal(gw_outlier_count(k, 504, 10, 2), 0);
	assert_int_equal(gw_outlier_count(k, 503, 10, 2), GW_OUTLIER_GATEWAY);
	assert_int_equal(k[0], 0);
	assert_int_equal(k[1], 0);
	/* both reached at once: one report, the gateway one */
	assert_int_equal(gw_outlier_count(k, 502, 2, 2), 0);
	assert_int_equal(gw_outlier_count(k, 502, 2, 2), GW_OUTLIER_GATEWAY);
	/* disabled thresholds never fire */
	for (int i = 0; i < 100; i++)
		assert_int_equal(gw_outlier_count(k, 502, 0, 0), 0);
}

static void
test_snapshot_hooks(void **state)
{
	struct fixture *fx = *state;
	uint32_t *w0, *w1;

	start(fx, "{consecutive5xxErrors: 3}");
	/* only clusters with outlierDetection get a bitmap and counters */
	assert_null(gw_route_cluster_health(fx->snap, fx->plain));
	assert_null(gw_route_outlier_counters(fx->snap, 0, fx->plain));
	assert_int_equal(gw_route_cluster_health(fx->snap, fx->web)[0], 0x7);
	w0 = gw_route_outlier_counters(fx->snap, 0, fx->web);
	w1 = gw_route_outlier_counters(fx->snap, 1, fx->web);
	assert_non_null(w0);
	assert_non_null(w1);
	assert_ptr_not_equal(w0, w1);
	for (int i = 0; i < 6; i++)
		assert_int_equal(w0[i] | w1[i], 0);
	assert_null(gw_route_outlier_counters(fx->snap, 2, fx->web));
	/* bits past the endpoints never read as usable */
	assert_int_equal(gw_route_cluster_health_store(fx->snap, fx->web, 0, ~0ULL), 0);
	assert_int_equal(gw_route_cluster_health(fx->snap, fx->web)[0], 0x7);
	assert_int_equal(gw_route_cluster_health_store(fx->snap, fx->web, 1, 0), -ENOENT);
	assert_int_equal(gw_route_cluster_health_store(fx->snap, fx->plain, 0, 0), -ENOENT);
	assert_int_equal(gw_outlier_cluster_count(fx->o), 1);
}

/* ---- control side ---- */

static void
test_eject_and_return(void **state)
{
	struct fixture *fx = *state;
	struct gw_outlier_stats st;
	struct gw_outlier_event_stats evs;
	const char *name;
	int picked[3] = {0, 0, 0};

	start(fx, "{consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 5s, "
		  "maxEjectionPercent: 100}");
	assert_true(eject(fx, 1, GW_OUTLIER_5XX, 100000));
	assert_false(usable(fx, 1));
	assert_true(usable(fx, 0));
	assert_true(usable(fx, 2));
	/* the load balancer honours the bitmap */
	for (int i = 0; i < 30; i++) {
		int e = gw_route_pick_endpoint(fx->snap, 0, fx->web, NULL,
			gw_route_cluster_health(fx->snap, fx->web), NULL);

		assert_true(e >= 0 && e < 3);
		picked[e]++;
	}
	assert_int_equal(picked[1], 0);
	assert_int_equal(picked[0], 15);
	assert_int_equal(picked[2], 15);
	/* a second report while ejected changes nothing */
	assert_false(eject(fx, 1, GW_OUTLIER_5XX, 200000));
	assert_true(info_of(fx, 1, 1 * S).ejected);
	assert_int_equal(info_of(fx, 1, 1 * S).ejected_us_left, 4 * S + 100000);
	/* the checks run every interval: not back before 5 s have passed */
	for (uint64_t t = 1; t <= 5; t++)
		assert_int_equal(gw_outlier_tick(fx->o, t * S), 0);
	assert_false(usable(fx, 1));
	assert_int_equal(gw_outlier_tick(fx->o, 6 * S), 1);
	assert_true(usable(fx, 1));
	assert_false(info_of(fx, 1, 6 * S).ejected);
	/* failing again at once: out for 2 x 5 s */
	assert_true(eject(fx, 1, GW_OUTLIER_5XX, 6 * S + 500000));
	assert_false(usable(fx, 1));
	assert_int_equal(info_of(fx, 1, 6 * S + 500000).ejected_us_left, 10 * S);
	assert_int_equal(info_of(fx, 1, 7 * S).ejection_count, 2);
	for (uint64_t t = 7; t <= 16; t++)
		assert_int_equal(gw_outlier_tick(fx->o, t * S), 0);
	assert_int_equal(gw_outlier_tick(fx->o, 17 * S), 1);
	assert_true(usable(fx, 1));
	assert_int_equal(gw_outlier_cluster_stats(fx->o, 0, &name, &st), 0);
	assert_non_null(strstr(name, "web.example"));
	assert_int_equal(st.ejections_total, 2);
	assert_int_equal(st.ejections_5xx, 2);
	assert_int_equal(st.ejections_active, 0);
	assert_int_equal(st.unejections, 2);
	gw_outlier_stats_get(fx->o, &st, &evs);
	assert_int_equal(evs.events, 3);
	assert_int_equal(evs.ignored, 1);
}

static void
test_multiplier_decays(void **state)
{
	struct fixture *fx = *state;

	start(fx, "{consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 5s, "
		  "maxEjectionPercent: 100}");
	assert_true(eject(fx, 0, GW_OUTLIER_5XX, 0));
	assert_int_equal(gw_outlier_tick(fx->o, 5 * S), 1);
	assert_true(eject(fx, 0, GW_OUTLIER_5XX, 5 * S + 1));
	assert_int_equal(info_of(fx, 0, 5 * S + 1).ejection_count, 2);
	assert_int_equal(gw_outlier_tick(fx->o, 15 * S + 1), 1);
	/* healthy through three checks: 2 -> 1 -> 0 (not below) */
	gw_outlier_tick(fx->o, 16 * S + 1);
	assert_int_equal(info_of(fx, 0, 16 * S + 2).ejection_count, 1);
	gw_outlier_tick(fx->o, 17 * S + 1);
	gw_outlier_tick(fx->o, 18 * S + 1);
	assert_int_equal(info_of(fx, 0, 18 * S + 2).ejection_count, 0);
	/* so the next ejection is the base time again */
	assert_true(eject(fx, 0, GW_OUTLIER_5XX, 19 * S));
	assert_int_equal(info_of(fx, 0, 19 * S).ejected_us_left, 5 * S);
}

static void
test_max_ejection_percent(void **state)
{
	struct fixture *fx = *state;
	struct gw_outlier_stats st;
	const char *name;

	/* Istio's default 10% of 3 hosts: still one may go, not two */
	start(fx, "{consecutive5xxErrors: 3}");
	assert_true(eject(fx, 0, GW_OUTLIER_5XX, 0));
	assert_false(eject(fx, 1, GW_OUTLIER_5XX, 0));
	assert_true(usable(fx, 1));
	assert_int_equal(gw_outlier_cluster_stats(fx->o, 0, &name, &st), 0);
	assert_int_equal(st.ejections_overflow, 1);
	assert_int_equal(st.ejections_active, 1);
	/* the default base time is 30 s */
	assert_int_equal(info_of(fx, 0, 0).ejected_us_left, 30 * S);
}

static void
test_max_ejection_percent_zero(void **state)
{
	struct fixture *fx = *state;

	start(fx, "{consecutive5xxErrors: 3, maxEjectionPercent: 0}");
	assert_false(eject(fx, 0, GW_OUTLIER_5XX, 0));
	assert_true(usable(fx, 0));
}

static void
test_all_ejected_without_panic(void **state)
{
	struct fixture *fx = *state;

	/* minHealthPercent 0 (default): no panic, nothing is usable */
	start(fx, "{consecutive5xxErrors: 3, maxEjectionPercent: 100}");
	for (uint32_t e = 0; e < 3; e++)
		assert_true(eject(fx, e, GW_OUTLIER_5XX, 0));
	assert_int_equal(gw_route_cluster_health(fx->snap, fx->web)[0], 0);
	assert_int_equal(gw_route_pick_endpoint(fx->snap, 0, fx->web, NULL,
		gw_route_cluster_health(fx->snap, fx->web), NULL), -1);
}

static void
test_min_health_panic(void **state)
{
	struct fixture *fx = *state;
	struct gw_outlier_stats st;

	start(fx, "{consecutive5xxErrors: 3, maxEjectionPercent: 100, "
		  "minHealthPercent: 50}");
	assert_true(eject(fx, 0, GW_OUTLIER_5XX, 0));
	assert_false(usable(fx, 0));   /* 2 of 3 healthy: 66% */
	assert_true(eject(fx, 1, GW_OUTLIER_5XX, 0));
	/* 1 of 3 healthy is below 50%: every endpoint is used again */
	assert_true(usable(fx, 0));
	assert_true(usable(fx, 1));
	assert_true(info_of(fx, 1, 0).panic);
	assert_true(info_of(fx, 1, 0).ejected);
	gw_outlier_stats_get(fx->o, &st, NULL);
	assert_int_equal(st.panic, 1);
	assert_int_equal(st.ejections_active, 2);
}

static void
test_gateway_kind(void **state)
{
	struct fixture *fx = *state;
	struct gw_outlier_stats st;

	/* consecutive5xxErrors 0 turns the 5xx detector off */
	start(fx, "{consecutive5xxErrors: 0, consecutiveGatewayErrors: 2}");
	assert_false(eject(fx, 2, GW_OUTLIER_5XX, 0));
	assert_true(eject(fx, 2, GW_OUTLIER_GATEWAY, 0));
	gw_outlier_stats_get(fx->o, &st, NULL);
	assert_int_equal(st.ejections_gateway, 1);
	assert_int_equal(st.ejections_5xx, 0);
}

static void
test_stale_events(void **state)
{
	struct fixture *fx = *state;
	struct gw_outlier_event ev = {
		.generation = 7, .cluster = 0, .endpoint = 0,
		.kind = GW_OUTLIER_5XX,
	};
	struct gw_outlier_event_stats evs;
	struct gw_outlier_stats st;

	start(fx, "{consecutive5xxErrors: 3, maxEjectionPercent: 100}");
	ev.cluster = fx->web;
	assert_false(gw_outlier_report(fx->o, &ev, 0));    /* generation */
	ev.generation = 1;
	ev.endpoint = 3;
	assert_false(gw_outlier_report(fx->o, &ev, 0));    /* endpoint */
	ev.endpoint = 0;
	ev.cluster = fx->plain;
	assert_false(gw_outlier_report(fx->o, &ev, 0));    /* no detection */
	ev.cluster = 1000;
	assert_false(gw_outlier_report(fx->o, &ev, 0));    /* cluster */
	gw_outlier_stats_get(fx->o, &st, &evs);
	assert_int_equal(evs.stale, 4);
	assert_int_equal(st.ejections_total, 0);
	assert_int_equal(gw_route_cluster_health(fx->snap, fx->web)[0], 0x7);
}

static void
test_carry_over(void **state)
{
	struct fixture *fx = *state;
	struct gw_route_snapshot *next;
	uint32_t web2;

	start(fx, "{consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 5s, "
		  "maxEjectionPercent: 100}");
	assert_true(eject(fx, 2, GW_OUTLIER_5XX, 0));
	/* a new snapshot where 10.0.0.2 is gone: 10.0.0.3 is now index 1 */
	apply_yaml(fx,
		"apiVersion: networking.istio.io/v1\n"
		"kind: ServiceEntry\n"
		"metadata: {name: web}\n"
		"spec:\n"
		"  hosts: [web.example]\n"
		"  location: MESH_INTERNAL\n"
		"  resolution: STATIC\n"
		"  ports:\n"
		"  - {number: 80, name: http, protocol: HTTP}\n"
		"  endpoints:\n"
		"  - {address: 10.0.0.1}\n"
		"  - {address: 10.0.0.3}\n");
	next = build(fx);
	web2 = cluster_of(next, "web.example");
	assert_int_equal(gw_route_cluster_health(next, web2)[0], 0x3);
	/* before it is published: the ejection is written in */
	gw_outlier_apply(fx->o, next);
	assert_int_equal(gw_route_cluster_health(next, web2)[0], 0x1);
	/* bound: events of the old generation are stale, state carried */
	assert_int_equal(gw_outlier_bind(fx->o, next, 2, 1 * S), 0);
	gw_route_snapshot_free(fx->snap);
	fx->snap = next;
	fx->web = web2;
	assert_true(info_of(fx, 1, 1 * S).ejected);
	assert_int_equal(info_of(fx, 1, 1 * S).ejected_us_left, 4 * S);
	assert_false(info_of(fx, 0, 1 * S).ejected);
	assert_int_equal(gw_outlier_generation(fx->o), 2);
	/* and it comes back on time */
	gw_outlier_tick(fx->o, 5 * S);
	assert_true(usable(fx, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_count),
		cmocka_unit_test_setup_teardown(test_snapshot_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eject_and_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiplier_decays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_ejection_percent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_ejection_percent_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_ejected_without_panic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_health_panic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gateway_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_carry_over, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
