/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of lib/metrics: the per-worker request table (series by
 * labels, defaults, truncation, the overflow series when full),
 * aggregation across tables, histogram buckets, cluster-name parsing, and
 * the Prometheus text exposition (exact text, label escaping).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_metrics.h"

static struct gw_metrics_labels
labels(const char *svc, const char *ver, uint16_t code, const char *flags)
{
	return (struct gw_metrics_labels){
		.service = svc, .service_len = svc ? strlen(svc) : 0,
		.version = ver, .version_len = ver ? strlen(ver) : 0,
		.flags = flags, .code = code,
	};
}

static const struct gw_metrics_series *
find(const struct gw_metrics_agg *a, const char *svc, const char *ver,
     const char *code, const char *flags)
{
	for (uint32_t i = 0; i < a->n; i++) {
		const struct gw_metrics_series *s = &a->series[i];

		if (strcmp(s->service, svc) == 0 && strcmp(s->version, ver) == 0 &&
		    strcmp(s->code, code) == 0 && strcmp(s->flags, flags) == 0)
			return s;
	}
	return NULL;
}

/* The exposition of @p a as a string (caller frees). */
static char *
expose(const struct gw_metrics_agg *a)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	gw_metrics_write_istio(f, a);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_table_series(void **unused)
{
	struct gw_metrics_table *t = gw_metrics_table_create(16);
	const struct gw_metrics_table *tabs[1];
	struct gw_metrics_labels ok = labels("httpbin", "v1", 200, NULL);
	struct gw_metrics_labels nr = labels(NULL, NULL, 404, "NR");
	struct gw_metrics_agg a;
	const struct gw_metrics_series *s;

	(void)unused;
	assert_non_null(t);
	tabs[0] = t;
	for (int i = 0; i < 5; i++)
		gw_metrics_record(t, &ok, 300);       /* 0.3 ms */
	gw_metrics_record(t, &ok, 7000);              /* 7 ms */
	gw_metrics_record(t, &nr, 100);
	gw_metrics_record(t, &nr, 100);
	assert_int_equal(gw_metrics_table_series(t), 2);
	assert_int_equal(gw_metrics_table_dropped_series(t), 0);

	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	assert_int_equal(a.n, 2);
	s = find(&a, "httpbin", "v1", "200", "-");
	assert_non_null(s);
	assert_string_equal(s->source, "unknown");
	assert_int_equal(gw_metrics_hist_count(&s->hist), 6);
	assert_int_equal(s->hist.buckets[0], 5);     /* le 0.5 */
	assert_int_equal(s->hist.buckets[3], 1);     /* 5 < 7 <= 10 */
	assert_int_equal(s->hist.sum_us, 5 * 300 + 7000);
	s = find(&a, "unknown", "unknown", "404", "NR");
	assert_non_null(s);
	assert_int_equal(gw_metrics_hist_count(&s->hist), 2);
	/* sorted: httpbin before unknown */
	assert_string_equal(a.series[0].service, "httpbin");
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(t);
}

static void
test_hist_bounds(void **unused)
{
	struct gw_metrics_hist h;

	(void)unused;
	memset(&h, 0, sizeof(h));
	gw_metrics_hist_observe(&h, 500);            /* on the bound: le="0.5" */
	gw_metrics_hist_observe(&h, 501);            /* le="1" */
	gw_metrics_hist_observe(&h, 3600000000ull);  /* the last bound */
	gw_metrics_hist_observe(&h, 3600000001ull);  /* +Inf only */
	assert_int_equal(h.buckets[0], 1);
	assert_int_equal(h.buckets[1], 1);
	assert_int_equal(h.buckets[GW_METRICS_N_BOUNDS - 1], 1);
	assert_int_equal(h.buckets[GW_METRICS_N_BOUNDS], 1);
	assert_int_equal(gw_metrics_hist_count(&h), 4);
	assert_int_equal(gw_metrics_bounds_us[GW_METRICS_N_BOUNDS - 1],
			 3600000000ull);
}

static void
test_overflow(void **unused)
{
	struct gw_metrics_table *t = gw_metrics_table_create(2);
	const struct gw_metrics_table *tabs[1];
	struct gw_metrics_labels a1 = labels("a", "v1", 200, NULL);
	struct gw_metrics_labels b1 = labels("b", "v1", 200, NULL);
	struct gw_metrics_labels c1 = labels("c", "v1", 200, NULL);
	struct gw_metrics_labels d1 = labels("d", "v1", 503, "UH");
	struct gw_metrics_agg a;
	const struct gw_metrics_series *s;

	(void)unused;
	assert_non_null(t);
	tabs[0] = t;
	gw_metrics_record(t, &a1, 1000);
	gw_metrics_record(t, &b1, 1000);
	gw_metrics_record(t, &c1, 1000);   /* full: folded */
	gw_metrics_record(t, &d1, 1000);   /* folded */
	gw_metrics_record(t, &a1, 1000);   /* known series still counted */
	assert_int_equal(gw_metrics_table_series(t), 2);
	assert_int_equal(gw_metrics_table_dropped_series(t), 2);
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.dropped_series, 2);
	s = find(&a, "a", "v1", "200", "-");
	assert_non_null(s);
	assert_int_equal(gw_metrics_hist_count(&s->hist), 2);
	s = find(&a, "overflow", "overflow", "overflow", "overflow");
	assert_non_null(s);
	assert_string_equal(s->source, "overflow");
	assert_int_equal(gw_metrics_hist_count(&s->hist), 2);
	assert_null(find(&a, "c", "v1", "200", "-"));
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(t);

	assert_null(gw_metrics_table_create(0));
	assert_null(gw_metrics_table_create((1u << 20) + 1));
}

/* Many series: every one found again, none lost while the table has room. */
static void
test_many_series(void **unused)
{
	struct gw_metrics_table *t = gw_metrics_table_create(1000);
	const struct gw_metrics_table *tabs[1];
	struct gw_metrics_agg a;
	char name[32];

	(void)unused;
	assert_non_null(t);
	tabs[0] = t;
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 1000; i++) {
			struct gw_metrics_labels l;

			snprintf(name, sizeof(name), "svc-%d", i);
			l = labels(name, "v1", (uint16_t)(200 + i % 5), NULL);
			gw_metrics_record(t, &l, 1000);
		}
	assert_int_equal(gw_metrics_table_series(t), 1000);
	assert_int_equal(gw_metrics_table_dropped_series(t), 0);
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	assert_int_equal(a.n, 1000);
	for (uint32_t i = 0; i < a.n; i++)
		assert_int_equal(gw_metrics_hist_count(&a.series[i].hist), 3);
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(t);
}

static void
test_truncation_and_defaults(void **unused)
{
	struct gw_metrics_table *t = gw_metrics_table_create(4);
	const struct gw_metrics_table *tabs[1];
	char longname[200];
	struct gw_metrics_labels l1, l2, empty;
	struct gw_metrics_agg a;

	(void)unused;
	tabs[0] = t;
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	l1 = labels(longname, "v1", 200, "");
	l2 = labels(longname, "v1", 200, "-");
	l2.service_len = 150;    /* differs only beyond the kept length */
	gw_metrics_record(t, &l1, 1);
	gw_metrics_record(t, &l2, 1);
	empty = labels("", "", 0, NULL);
	gw_metrics_record(t, &empty, 1);
	assert_int_equal(gw_metrics_table_series(t), 2);
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(strlen(a.series[1].service), GW_METRICS_SERVICE_MAX);
	assert_int_equal(gw_metrics_hist_count(&a.series[1].hist), 2);
	assert_string_equal(a.series[1].flags, "-");
	assert_non_null(find(&a, "unknown", "unknown", "0", "-"));
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(t);
}

/* A series differing from the previous sample's in one byte of one
 * label, or only in its code, is another series: the table's shortcut
 * for a repeated series (labels compared word by word, no hash) must
 * not take it for the previous one. */
static void
test_repeat_and_near_labels(void **unused)
{
	static const char *const svc[] = {
		"reviews.default.svc.cluster.local",   /* words, tail overlapping */
		"reviews.default.svc.cluster.locaL",   /* last byte */
		"reviews.defaulT.svc.cluster.local",   /* a middle word */
		"Reviews.default.svc.cluster.local",   /* first byte */
		"abcdefghi", "abcdXfghi",              /* 9: two overlapping words */
		"abcd", "abXd", "abcde", "abcXe",      /* 4..7: two 32-bit loads */
		"a", "ab", "aXb", "aYb",               /* 1..3: bytes */
	};
	const unsigned int n = sizeof(svc) / sizeof(svc[0]);
	struct gw_metrics_table *t = gw_metrics_table_create(128);
	const struct gw_metrics_table *tabs[1] = { t };
	struct gw_metrics_agg a;

	(void)unused;
	assert_non_null(t);
	/* each label in turn: runs of one series, then a near one */
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k <= i; k++) {
			struct gw_metrics_labels l = labels(svc[i], "v1", 200, "-");

			gw_metrics_record(t, &l, 100);
			l = labels(svc[i], "v2", 200, "-");    /* version */
			gw_metrics_record(t, &l, 100);
			l = labels(svc[i], "v1", 201, "-");    /* code only */
			gw_metrics_record(t, &l, 100);
			l = labels(svc[i], "v1", 200, "UH");   /* flags */
			gw_metrics_record(t, &l, 100);
			l = labels(svc[i], "v1", 200, "-");
			l.source = "ns/client";                /* source */
			l.source_len = strlen(l.source);
			gw_metrics_record(t, &l, 100);
		}
	assert_int_equal(gw_metrics_table_series(t), 5 * n);
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	assert_int_equal(a.n, 5 * n);
	for (unsigned int i = 0; i < n; i++) {
		const struct gw_metrics_series *s[4] = {
			find(&a, svc[i], "v1", "200", "-"),
			find(&a, svc[i], "v2", "200", "-"),
			find(&a, svc[i], "v1", "201", "-"),
			find(&a, svc[i], "v1", "200", "UH"),
		};

		for (unsigned int j = 0; j < 4; j++) {
			assert_non_null(s[j]);
			assert_int_equal(gw_metrics_hist_count(&s[j]->hist), i + 1);
		}
		/* "v1","200","-" is two series: sorted by source */
		assert_string_equal(s[0]->source, "ns/client");
		assert_string_equal(s[0][1].source, "unknown");
		assert_string_equal(s[0][1].service, svc[i]);
		assert_string_equal(s[0][1].code, "200");
		assert_int_equal(gw_metrics_hist_count(&s[0][1].hist), i + 1);
	}
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(t);
}

static void
test_aggregate_tables(void **unused)
{
	struct gw_metrics_table *t0 = gw_metrics_table_create(8);
	struct gw_metrics_table *t1 = gw_metrics_table_create(8);
	const struct gw_metrics_table *tabs[3] = { t0, NULL, t1 };
	struct gw_metrics_labels v1 = labels("httpbin", "v1", 200, NULL);
	struct gw_metrics_labels v2 = labels("httpbin", "v2", 200, NULL);
	struct gw_metrics_labels e5 = labels("httpbin", "v1", 503, "UH");
	struct gw_metrics_agg a;
	const struct gw_metrics_series *s;

	(void)unused;
	for (int i = 0; i < 3; i++)
		gw_metrics_record(t0, &v1, 2000);
	for (int i = 0; i < 4; i++)
		gw_metrics_record(t1, &v1, 20000);
	gw_metrics_record(t1, &v2, 1);
	gw_metrics_record(t0, &e5, 1);
	assert_int_equal(gw_metrics_aggregate(tabs, 3, &a), 0);
	assert_int_equal(a.n, 3);
	s = find(&a, "httpbin", "v1", "200", "-");
	assert_non_null(s);
	assert_int_equal(gw_metrics_hist_count(&s->hist), 7);
	assert_int_equal(s->hist.buckets[2], 3);    /* 1 < 2 <= 5 ms */
	assert_int_equal(s->hist.buckets[4], 4);    /* 10 < 20 <= 25 ms */
	assert_int_equal(s->hist.sum_us, 3 * 2000 + 4 * 20000);
	/* order: version, then code numerically */
	assert_string_equal(a.series[0].code, "200");
	assert_string_equal(a.series[0].version, "v1");
	assert_string_equal(a.series[1].code, "503");
	assert_string_equal(a.series[2].version, "v2");
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(t0);
	gw_metrics_table_free(t1);
}

static void
test_parse_cluster(void **unused)
{
	struct gw_metrics_labels l = { 0 };
	const char *c = "outbound|8000|v1|httpbin.default.svc.cluster.local";

	(void)unused;
	assert_true(gw_metrics_parse_cluster(c, strlen(c), &l));
	assert_int_equal(l.service_len, strlen("httpbin.default.svc.cluster.local"));
	assert_memory_equal(l.service, "httpbin.default.svc.cluster.local",
			    l.service_len);
	assert_int_equal(l.version_len, 2);
	assert_memory_equal(l.version, "v1", 2);
	c = "outbound|9080||reviews";
	assert_true(gw_metrics_parse_cluster(c, strlen(c), &l));
	assert_int_equal(l.version_len, 0);
	assert_memory_equal(l.service, "reviews", 7);
	l = (struct gw_metrics_labels){ 0 };
	assert_false(gw_metrics_parse_cluster("", 0, &l));
	assert_false(gw_metrics_parse_cluster("inbound|80|x|y", 14, &l));
	assert_false(gw_metrics_parse_cluster("outbound|80|v1|", 15, &l));
	assert_false(gw_metrics_parse_cluster("outbound|80", 11, &l));
	assert_false(gw_metrics_parse_cluster("outbound||v1|h", 14, &l));
	assert_null(l.service);
}

static void
test_exposition_exact(void **unused)
{
	struct gw_metrics_table *t = gw_metrics_table_create(4);
	const struct gw_metrics_table *tabs[1] = { t };
	struct gw_metrics_labels l = labels("httpbin", "v1", 200, NULL);
	struct gw_metrics_agg a;
	char *text;
	const char *expected =
		"# HELP istio_requests_total Requests completed by the gateway (proxied or answered by it).\n"
		"# TYPE istio_requests_total counter\n"
		"istio_requests_total{destination_service=\"httpbin\",destination_version=\"v1\",response_code=\"200\",response_flags=\"-\",source_workload=\"unknown\"} 2\n"
		"# HELP istio_request_duration_milliseconds Duration of requests, from the request head to the end of the response.\n"
		"# TYPE istio_request_duration_milliseconds histogram\n"
#define B(le, v) "istio_request_duration_milliseconds_bucket{destination_service=\"httpbin\",destination_version=\"v1\",response_code=\"200\",response_flags=\"-\",source_workload=\"unknown\",le=\"" le "\"} " v "\n"
		B("0.5", "0") B("1", "0") B("5", "1") B("10", "1") B("25", "1")
		B("50", "1") B("100", "1") B("250", "1") B("500", "1")
		B("1000", "1") B("2500", "1") B("5000", "1") B("10000", "1")
		B("30000", "1") B("60000", "1") B("300000", "1")
		B("600000", "1") B("1800000", "1") B("3600000", "1")
		B("+Inf", "2")
#undef B
		"istio_request_duration_milliseconds_sum{destination_service=\"httpbin\",destination_version=\"v1\",response_code=\"200\",response_flags=\"-\",source_workload=\"unknown\"} 3600002.251\n"
		"istio_request_duration_milliseconds_count{destination_service=\"httpbin\",destination_version=\"v1\",response_code=\"200\",response_flags=\"-\",source_workload=\"unknown\"} 2\n";

	(void)unused;
	gw_metrics_record(t, &l, 2250);                /* 2.25 ms */
	gw_metrics_record(t, &l, 3600000001ull);       /* over an hour: +Inf */
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	text = expose(&a);
	assert_string_equal(text, expected);
	free(text);
	gw_metrics_agg_free(&a);

	/* nothing recorded: the families are still declared */
	memset(&a, 0, sizeof(a));
	text = expose(&a);
	assert_string_equal(text,
		"# HELP istio_requests_total Requests completed by the gateway (proxied or answered by it).\n"
		"# TYPE istio_requests_total counter\n"
		"# HELP istio_request_duration_milliseconds Duration of requests, from the request head to the end of the response.\n"
		"# TYPE istio_request_duration_milliseconds histogram\n");
	free(text);
	gw_metrics_table_free(t);
}

static void
test_escaping(void **unused)
{
	struct gw_prom_label l[2] = {
		{ "service", "a\"b\\c\nd" },
		{ "empty", "" },
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)unused;
	assert_non_null(f);
	gw_prom_family(f, "gateway_x_total", "counter", "back\\slash\nnew \"line\"");
	gw_prom_sample(f, "gateway_x_total", l, 2, 18446744073709551615ull);
	gw_prom_sample(f, "gateway_y", NULL, 0, 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text,
		"# HELP gateway_x_total back\\\\slash\\nnew \"line\"\n"
		"# TYPE gateway_x_total counter\n"
		"gateway_x_total{service=\"a\\\"b\\\\c\\nd\",empty=\"\"} 18446744073709551615\n"
		"gateway_y 0\n");
	free(text);
}

/* A histogram without labels: le is the only label. */
static void
test_histogram_no_labels(void **unused)
{
	struct gw_metrics_hist h;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)unused;
	memset(&h, 0, sizeof(h));
	gw_metrics_hist_observe(&h, 400);
	gw_prom_histogram(f, "gateway_apply", NULL, 0, &h);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "gateway_apply_bucket{le=\"0.5\"} 1\n"));
	assert_non_null(strstr(text, "gateway_apply_bucket{le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(text, "gateway_apply_sum 0.400\n"));
	assert_non_null(strstr(text, "gateway_apply_count 1\n"));
	free(text);
}

/*
 * gw_metrics_record_cluster() counts exactly as gw_metrics_parse_cluster()
 * then gw_metrics_record() do, whatever the sequence: repeats (its
 * remembered last request), a change of cluster, flags or code alone,
 * clusters of another shape and too long to remember, flags longer than
 * their label, and a full table (every folded sample counted as dropped).
 */
static void
test_record_cluster_same_as_parse(void **unused)
{
	static const char *const flags[] = {
		"-", "", NULL, "UF,URX", "UH", "UF", "DC,UF,URX,UT,UO,NR",
	};
	static const uint16_t codes[] = {200, 503, 0, 200};
	static const uint64_t us[] = {0, 400, 500, 501, 7000, 3600000001ull};
	char clusters[8][200];
	struct gw_metrics_table *ref = gw_metrics_table_create(6);
	struct gw_metrics_table *got = gw_metrics_table_create(6);
	const struct gw_metrics_table *tabs[1];
	struct gw_metrics_agg a, b;
	char *ta, *tb;
	uint32_t x = 12345;

	(void)unused;
	assert_non_null(ref);
	assert_non_null(got);
	strcpy(clusters[0], "outbound|8000|v1|svc.test");
	strcpy(clusters[1], "outbound|8000|v2|svc.test");
	strcpy(clusters[2], "outbound|8000||svc.test");
	strcpy(clusters[3], "outbound|9080|v1|reviews.default.svc.cluster.local");
	strcpy(clusters[4], "");                      /* not routed */
	strcpy(clusters[5], "inbound|8000||x");       /* another shape */
	/* longer than the remembered one (127): always parsed */
	memset(clusters[6], 'h', 199);
	memcpy(clusters[6], "outbound|8000|v1|", 17);
	clusters[6][199] = '\0';
	memset(clusters[7], 'h', 199);
	memcpy(clusters[7], "outbound|8000|v1|", 17);
	clusters[7][198] = 'i';                       /* differs at the end */
	clusters[7][199] = '\0';
	for (unsigned int i = 0; i < 4000; i++) {
		struct gw_metrics_labels l;
		const char *c, *f;
		uint16_t code;
		uint64_t d;

		x = x * 1103515245u + 12345u;
		/* runs of repeats, one part changing at a time */
		c = clusters[(i / 3 + (x >> 20) % 2) % 8];
		f = flags[(i / 5) % 7];
		code = codes[(i / 7) % 4];
		d = us[(x >> 8) % 6];
		l = (struct gw_metrics_labels){ .flags = f, .code = code };
		gw_metrics_parse_cluster(c, strlen(c), &l);
		gw_metrics_record(ref, &l, d);
		gw_metrics_record_cluster(got, c, strlen(c), f, code, d);
		/* another writer path in between: the remembered series holds */
		if (i % 97 == 0) {
			struct gw_metrics_labels o = { .service = "o",
				.service_len = 1, .code = 201 };

			gw_metrics_record(ref, &o, 10);
			gw_metrics_record(got, &o, 10);
		}
	}
	assert_true(gw_metrics_table_dropped_series(ref) > 0);
	assert_int_equal(gw_metrics_table_dropped_series(got),
			 gw_metrics_table_dropped_series(ref));
	assert_int_equal(gw_metrics_table_series(got), gw_metrics_table_series(ref));
	tabs[0] = ref;
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	tabs[0] = got;
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &b), 0);
	assert_int_equal(a.n, b.n);
	ta = expose(&a);
	tb = expose(&b);
	assert_string_equal(tb, ta);
	free(ta);
	free(tb);
	gw_metrics_agg_free(&a);
	gw_metrics_agg_free(&b);
	gw_metrics_table_free(ref);
	gw_metrics_table_free(got);

	/* one part changing at a time, same lengths: a series each */
	ref = gw_metrics_table_create(8);
	assert_non_null(ref);
	gw_metrics_record_cluster(ref, clusters[0], strlen(clusters[0]), "UH", 503, 1);
	gw_metrics_record_cluster(ref, clusters[0], strlen(clusters[0]), "UF", 503, 1);
	gw_metrics_record_cluster(ref, clusters[0], strlen(clusters[0]), "UF", 504, 1);
	gw_metrics_record_cluster(ref, clusters[1], strlen(clusters[1]), "UF", 504, 1);
	gw_metrics_record_cluster(ref, clusters[1], strlen(clusters[1]), "UF", 504, 1);
	assert_int_equal(gw_metrics_table_series(ref), 4);
	tabs[0] = ref;
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	assert_int_equal(gw_metrics_hist_count(&find(&a, "svc.test", "v1", "503",
						      "UH")->hist), 1);
	assert_int_equal(gw_metrics_hist_count(&find(&a, "svc.test", "v1", "503",
						      "UF")->hist), 1);
	assert_int_equal(gw_metrics_hist_count(&find(&a, "svc.test", "v1", "504",
						      "UF")->hist), 1);
	assert_int_equal(gw_metrics_hist_count(&find(&a, "svc.test", "v2", "504",
						      "UF")->hist), 2);
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(ref);

	/* a repeated request after the table filled up: dropped each time */
	ref = gw_metrics_table_create(1);
	assert_non_null(ref);
	gw_metrics_record_cluster(ref, clusters[0], strlen(clusters[0]), "-", 200, 1);
	for (int i = 0; i < 3; i++)
		gw_metrics_record_cluster(ref, clusters[1], strlen(clusters[1]),
					  "-", 200, 1);
	assert_int_equal(gw_metrics_table_dropped_series(ref), 3);
	gw_metrics_record_cluster(ref, clusters[0], strlen(clusters[0]), "-", 200, 1);
	assert_int_equal(gw_metrics_table_dropped_series(ref), 3);
	tabs[0] = ref;
	assert_int_equal(gw_metrics_aggregate(tabs, 1, &a), 0);
	assert_int_equal(gw_metrics_hist_count(&find(&a, "svc.test", "v1", "200",
						      "-")->hist), 2);
	gw_metrics_agg_free(&a);
	gw_metrics_table_free(ref);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_series),
		cmocka_unit_test(test_hist_bounds),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_many_series),
		cmocka_unit_test(test_truncation_and_defaults),
		cmocka_unit_test(test_repeat_and_near_labels),
		cmocka_unit_test(test_aggregate_tables),
		cmocka_unit_test(test_parse_cluster),
		cmocka_unit_test(test_exposition_exact),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_histogram_no_labels),
		cmocka_unit_test(test_record_cluster_same_as_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
