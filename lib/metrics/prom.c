/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format 0.0.4: what a scraper and
 * `promtool check metrics` accept. Label values escape backslash, double
 * quote and newline; HELP text escapes backslash and newline; histogram
 * buckets are cumulative and end with le="+Inf", equal to _count.
 */
#include <inttypes.h>
#include <string.h>

#include "gw_metrics.h"

/* The bounds as Prometheus prints them ("le" values), in milliseconds. */
static const char *const bound_text[GW_METRICS_N_BOUNDS] = {
	"0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000",
	"2500", "5000", "10000", "30000", "60000", "300000", "600000",
	"1800000", "3600000",
};

void
gw_prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	for (const char *p = help; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

void
gw_prom_escape(FILE *f, const char *v)
{
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
}

/* name{a="x",b="y"[,le="..."]}: braces only when there is a label. */
static void
series_name(FILE *f, const char *name, const char *suffix,
	    const struct gw_prom_label *labels, unsigned int n, const char *le)
{
	fputs(name, f);
	fputs(suffix, f);
	if (n == 0 && le == NULL)
		return;
	fputc('{', f);
	for (unsigned int i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", labels[i].name);
		gw_prom_escape(f, labels[i].value);
		fputc('"', f);
	}
	if (le != NULL)
		fprintf(f, "%sle=\"%s\"", n ? "," : "", le);
	fputc('}', f);
}

void
gw_prom_sample(FILE *f, const char *name, const struct gw_prom_label *labels,
	       unsigned int n, uint64_t value)
{
	series_name(f, name, "", labels, n, NULL);
	fprintf(f, " %" PRIu64 "\n", value);
}

void
gw_prom_histogram(FILE *f, const char *name, const struct gw_prom_label *labels,
		  unsigned int n, const struct gw_metrics_hist *h)
{
	uint64_t cum = 0;

	for (unsigned int i = 0; i < GW_METRICS_N_BOUNDS; i++) {
		cum += h->buckets[i];
		series_name(f, name, "_bucket", labels, n, bound_text[i]);
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	cum += h->buckets[GW_METRICS_N_BOUNDS];
	series_name(f, name, "_bucket", labels, n, "+Inf");
	fprintf(f, " %" PRIu64 "\n", cum);
	series_name(f, name, "_sum", labels, n, NULL);
	fprintf(f, " %" PRIu64 ".%03u\n", h->sum_us / 1000,
		(unsigned int)(h->sum_us % 1000));
	series_name(f, name, "_count", labels, n, NULL);
	fprintf(f, " %" PRIu64 "\n", cum);
}

static unsigned int
istio_labels(const struct gw_metrics_series *s, struct gw_prom_label *l)
{
	l[0] = (struct gw_prom_label){ "destination_service", s->service };
	l[1] = (struct gw_prom_label){ "destination_version", s->version };
	l[2] = (struct gw_prom_label){ "response_code", s->code };
	l[3] = (struct gw_prom_label){ "response_flags", s->flags };
	l[4] = (struct gw_prom_label){ "source_workload", s->source };
	return 5;
}

void
gw_metrics_write_istio(FILE *f, const struct gw_metrics_agg *a)
{
	struct gw_prom_label l[5];
	unsigned int n;

	gw_prom_family(f, "istio_requests_total", "counter",
		       "Requests completed by the gateway (proxied or answered by it).");
	for (uint32_t i = 0; i < a->n; i++) {
		n = istio_labels(&a->series[i], l);
		gw_prom_sample(f, "istio_requests_total", l, n,
			       gw_metrics_hist_count(&a->series[i].hist));
	}
	gw_prom_family(f, "istio_request_duration_milliseconds", "histogram",
		       "Duration of requests, from the request head to the end of the response.");
	for (uint32_t i = 0; i < a->n; i++) {
		n = istio_labels(&a->series[i], l);
		gw_prom_histogram(f, "istio_request_duration_milliseconds", l, n,
				  &a->series[i].hist);
	}
}
