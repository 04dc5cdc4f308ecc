/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-worker request tables and their aggregation. The table is an open
 * addressing hash (linear probing) over a power-of-two array at most half
 * full, so that a lookup stays a probe or two; entries are never removed,
 * so a probe ends at the first free slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "gw_common.h"
#include "gw_metrics.h"

const uint64_t gw_metrics_bounds_us[GW_METRICS_N_BOUNDS] = {
	500, 1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 300000000,
	600000000, 1800000000, 3600000000,
};

#define SLOT_FREE      0u
#define SLOT_PUBLISHED 1u

struct metrics_entry {
	uint32_t state;          /* SLOT_*, release-stored once labels are in */
	uint32_t hash;
	uint16_t code;
	/* label lengths: a probe compares them before any byte */
	uint8_t service_len, version_len, source_len, flags_len;
	char service[GW_METRICS_SERVICE_MAX + 1];
	char version[GW_METRICS_VERSION_MAX + 1];
	char source[GW_METRICS_SOURCE_MAX + 1];
	char flags[GW_METRICS_FLAGS_MAX + 1];
	struct gw_metrics_hist hist;
};

/* gw_metrics_record_cluster()'s last request: its cluster, flags and code
 * and their series (series never move nor change labels, so the pair
 * stays true for the table's life) */
#define LAST_CLUSTER_MAX 127u
struct cluster_memo {
	struct metrics_entry *e;     /* NULL: none */
	uint16_t code;
	uint8_t len;
	char flags[GW_METRICS_FLAGS_MAX + 1];   /* NUL-terminated */
	char cluster[LAST_CLUSTER_MAX];
};

struct gw_metrics_table {
	uint32_t mask;           /* slots - 1 */
	uint32_t max_series;
	uint32_t n_series;       /* written by the worker, read relaxed */
	uint64_t dropped_series;
	struct metrics_entry *last;  /* the writer's last series; NULL: none */
	struct cluster_memo memo;
	struct metrics_entry overflow;
	struct metrics_entry slots[];
};

/* A label value after defaults and truncation. */
struct key_part {
	const char *p;
	size_t len;
};

/* The single writer increments with relaxed stores: plain MOVs on x86-64,
 * and readers on other threads never see a torn word. */
static inline void
counter_add(uint64_t *c, uint64_t v)
{
	__atomic_store_n(c, *c + v, __ATOMIC_RELAXED);
}

static inline uint64_t
counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Most requests take well under the first bounds: a scan from the
 * bottom is a compare or two for them. */
static inline void
observe(struct gw_metrics_hist *h, uint64_t us)
{
	unsigned int i = 0;

	while (i < GW_METRICS_N_BOUNDS && us > gw_metrics_bounds_us[i])
		i++;
	counter_add(&h->buckets[i], 1);
	counter_add(&h->sum_us, us);
}

void
gw_metrics_hist_observe(struct gw_metrics_hist *h, uint64_t us)
{
	observe(h, us);
}

void
gw_metrics_hist_add(struct gw_metrics_hist *sum, const struct gw_metrics_hist *h)
{
	for (unsigned int i = 0; i <= GW_METRICS_N_BOUNDS; i++)
		sum->buckets[i] += counter_read(&h->buckets[i]);
	sum->sum_us += counter_read(&h->sum_us);
}

uint64_t
gw_metrics_hist_count(const struct gw_metrics_hist *h)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i <= GW_METRICS_N_BOUNDS; i++)
		n += h->buckets[i];
	return n;
}

bool
gw_metrics_parse_cluster(const char *name, size_t len,
			 struct gw_metrics_labels *l)
{
	const char *end = name + len, *port, *subset, *host;

	if (name == NULL || len < 9 || memcmp(name, "outbound|", 9) != 0)
		return false;
	/* PORT and SUBSET are a few bytes: a loop beats a memchr() call */
	port = name + 9;
	for (subset = port; subset < end && *subset != '|'; subset++)
		;
	if (subset == end || subset == port)
		return false;
	subset++;
	for (host = subset; host < end && *host != '|'; host++)
		;
	if (host == end || host + 1 == end)
		return false;
	l->version = subset;
	l->version_len = (size_t)(host - subset);
	host++;
	l->service = host;
	l->service_len = (size_t)(end - host);
	return true;
}

static inline struct key_part
part(const char *p, size_t len, const char *dflt, size_t dflt_len, size_t max)
{
	struct key_part k;

	if (p == NULL || len == 0) {
		k.p = dflt;
		k.len = dflt_len;
	} else {
		k.p = p;
		k.len = len;
	}
	if (k.len > max)
		k.len = max;
	return k;
}

static inline uint64_t
mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/*
 * A word at a time, the length mixed in first (separates "ab","c" from
 * "a","bc"); a tail shorter than a word is read as overlapping loads, so
 * nothing past the string is touched. The hash only picks a slot: a
 * probe compares the labels themselves.
 */
static inline uint64_t
hash_part(uint64_t h, const struct key_part *k)
{
	const char *p = k->p;
	size_t n = k->len;

	h = mix(h, n);
	if (n >= 8) {
		for (; n > 8; p += 8, n -= 8)
			h = mix(h, gw_load64(p));
		return mix(h, gw_load64(p + n - 8));
	}
	if (n >= 4)
		return mix(h, (uint64_t)gw_load32(p) << 32 | gw_load32(p + n - 4));
	if (n > 0)
		return mix(h, (uint64_t)(uint8_t)p[0] << 16 |
			      (uint64_t)(uint8_t)p[n / 2] << 8 | (uint8_t)p[n - 1]);
	return h;
}

/* gw_bytes_eq() for a cluster name (tens of bytes): 16 at a time, the last
 * 16 overlapping */
static inline bool
long_eq(const char *a, const char *b, size_t n)
{
#ifdef __SSE2__
	if (n >= 16) {
		__m128i d = _mm_setzero_si128();

		for (; n > 16; a += 16, b += 16, n -= 16)
			d = _mm_or_si128(d, _mm_xor_si128(
				_mm_loadu_si128((const __m128i *)(const void *)a),
				_mm_loadu_si128((const __m128i *)(const void *)b)));
		d = _mm_or_si128(d, _mm_xor_si128(
			_mm_loadu_si128((const __m128i *)(const void *)(a + n - 16)),
			_mm_loadu_si128((const __m128i *)(const void *)(b + n - 16))));
		return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) ==
		       0xffff;
	}
#endif
	return gw_bytes_eq(a, b, n);
}

static inline bool
same(const char *stored, uint8_t stored_len, const struct key_part *k)
{
	return stored_len == k->len && gw_bytes_eq(stored, k->p, k->len);
}

static inline bool
entry_is(const struct metrics_entry *e, uint16_t code,
	 const struct key_part *svc, const struct key_part *ver,
	 const struct key_part *src, const struct key_part *flg)
{
	return e->code == code && same(e->service, e->service_len, svc) &&
	       same(e->version, e->version_len, ver) &&
	       same(e->flags, e->flags_len, flg) &&
	       same(e->source, e->source_len, src);
}

static void
put(char *dst, uint8_t *dst_len, const struct key_part *k)
{
	memcpy(dst, k->p, k->len);
	dst[k->len] = '\0';
	*dst_len = (uint8_t)k->len;
}

struct gw_metrics_table *
gw_metrics_table_create(uint32_t max_series)
{
	struct gw_metrics_table *t;
	uint32_t slots = 2;
	size_t size;

	if (max_series == 0 || max_series > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	while (slots < 2 * max_series)
		slots <<= 1;
	size = sizeof(*t) + (size_t)slots * sizeof(struct metrics_entry);
	t = calloc(1, size);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	t->mask = slots - 1;
	t->max_series = max_series;
	strcpy(t->overflow.service, GW_METRICS_OVERFLOW);
	strcpy(t->overflow.version, GW_METRICS_OVERFLOW);
	strcpy(t->overflow.source, GW_METRICS_OVERFLOW);
	strcpy(t->overflow.flags, GW_METRICS_OVERFLOW);
	t->overflow.state = SLOT_PUBLISHED;
	return t;
}

void
gw_metrics_table_free(struct gw_metrics_table *t)
{
	free(t);
}

#define LIT(s) s, sizeof(s) - 1

/* The series of @p l; the overflow series (counted) when the table is
 * full. */
static struct metrics_entry *
series_of(struct gw_metrics_table *t, const struct gw_metrics_labels *l)
{
	struct key_part svc = part(l->service, l->service_len,
				   LIT(GW_METRICS_UNKNOWN), GW_METRICS_SERVICE_MAX);
	struct key_part ver = part(l->version, l->version_len,
				   LIT(GW_METRICS_UNKNOWN), GW_METRICS_VERSION_MAX);
	struct key_part src = part(l->source, l->source_len,
				   LIT(GW_METRICS_UNKNOWN), GW_METRICS_SOURCE_MAX);
	struct key_part flg;
	struct metrics_entry *e;
	size_t flen = 0;
	uint64_t h64;
	uint32_t h, i;

	/* flags are a few bytes ("-", "UF,URX"): no library call */
	if (l->flags != NULL)
		while (flen <= GW_METRICS_FLAGS_MAX && l->flags[flen] != '\0')
			flen++;
	flg = part(l->flags, flen, LIT("-"), GW_METRICS_FLAGS_MAX);
	/* most requests repeat the previous one's series: no hash, no probe */
	e = t->last;
	if (e != NULL && entry_is(e, l->code, &svc, &ver, &src, &flg))
		return e;
	h64 = hash_part(l->code, &svc);
	h64 = hash_part(h64, &ver);
	h64 = hash_part(h64, &src);
	h64 = hash_part(h64, &flg);
	h = (uint32_t)(h64 >> 32) ^ (uint32_t)h64;
	for (i = h & t->mask;; i = (i + 1) & t->mask) {
		e = &t->slots[i];
		if (e->state == SLOT_FREE)
			break;
		if (e->hash == h && entry_is(e, l->code, &svc, &ver, &src, &flg))
			goto hit;
	}
	if (t->n_series >= t->max_series) {
		/* Full: the sample still counts, under the overflow series. */
		counter_add(&t->dropped_series, 1);
		return &t->overflow;
	}
	e->hash = h;
	e->code = l->code;
	put(e->service, &e->service_len, &svc);
	put(e->version, &e->version_len, &ver);
	put(e->source, &e->source_len, &src);
	put(e->flags, &e->flags_len, &flg);
	/* labels first, then the state: a reader that sees the series sees them */
	__atomic_store_n(&e->state, SLOT_PUBLISHED, __ATOMIC_RELEASE);
	__atomic_store_n(&t->n_series, t->n_series + 1, __ATOMIC_RELAXED);
hit:
	t->last = e;             /* never the overflow series: not its labels */
	return e;
}

void
gw_metrics_record(struct gw_metrics_table *t, const struct gw_metrics_labels *l,
		  uint64_t duration_us)
{
	observe(&series_of(t, l)->hist, duration_us);
}

/* gw_metrics_record_cluster() for a request unlike the last one: out of
 * line, so that the usual one saves no registers. */
static __attribute__((noinline)) void
record_cluster_new(struct gw_metrics_table *t, const char *cluster,
		   size_t len, const char *flags, uint16_t code,
		   uint64_t duration_us)
{
	struct cluster_memo *m = &t->memo;
	struct gw_metrics_labels l = { .flags = flags, .code = code };
	struct metrics_entry *e;
	size_t flen = 0;

	if (flags != NULL)
		while (flen <= GW_METRICS_FLAGS_MAX && flags[flen] != '\0')
			flen++;
	gw_metrics_parse_cluster(cluster, len, &l);
	e = series_of(t, &l);
	observe(&e->hist, duration_us);
	/* not the overflow series: each of its samples counts as dropped */
	if (e != &t->overflow && len <= LAST_CLUSTER_MAX &&
	    flen <= GW_METRICS_FLAGS_MAX) {
		m->e = e;
		m->code = code;
		m->len = (uint8_t)len;
		if (len > 0)
			memcpy(m->cluster, cluster, len);
		memcpy(m->flags, flags != NULL ? flags : "", flen);
		m->flags[flen] = '\0';
	}
}

void
gw_metrics_record_cluster(struct gw_metrics_table *t, const char *cluster,
			  size_t len, const char *flags, uint16_t code,
			  uint64_t duration_us)
{
	const struct cluster_memo *m = &t->memo;

	if (m->e != NULL && m->code == code && m->len == len &&
	    long_eq(m->cluster, cluster, len)) {
		/* the flags against the remembered ones (NUL-terminated
		 * there), as far as their NUL: one pass, no length first */
		const char *f = flags != NULL ? flags : "";

		for (size_t i = 0; f[i] == m->flags[i]; i++)
			if (f[i] == '\0') {
				observe(&m->e->hist, duration_us);
				return;
			}
	}
	record_cluster_new(t, cluster, len, flags, code, duration_us);
}

uint64_t
gw_metrics_table_dropped_series(const struct gw_metrics_table *t)
{
	return counter_read(&t->dropped_series);
}

uint32_t
gw_metrics_table_series(const struct gw_metrics_table *t)
{
	return __atomic_load_n(&t->n_series, __ATOMIC_RELAXED);
}

/* ---- aggregation ---- */

static int
series_cmp(const void *a, const void *b)
{
	const struct gw_metrics_series *x = a, *y = b;
	int c;

	if ((c = strcmp(x->service, y->service)) != 0)
		return c;
	if ((c = strcmp(x->version, y->version)) != 0)
		return c;
	if (strlen(x->code) != strlen(y->code))  /* numeric order for codes */
		return strlen(x->code) < strlen(y->code) ? -1 : 1;
	if ((c = strcmp(x->code, y->code)) != 0)
		return c;
	if ((c = strcmp(x->flags, y->flags)) != 0)
		return c;
	return strcmp(x->source, y->source);
}

static int
agg_push(struct gw_metrics_agg *a, const struct metrics_entry *e, bool overflow)
{
	struct gw_metrics_series *s;

	if (a->n == a->cap) {
		uint32_t cap = a->cap ? a->cap * 2 : 64;
		void *p = realloc(a->series, (size_t)cap * sizeof(*a->series));

		if (p == NULL)
			return -ENOMEM;
		a->series = p;
		a->cap = cap;
	}
	s = &a->series[a->n++];
	memset(s, 0, sizeof(*s));
	memcpy(s->service, e->service, sizeof(s->service));
	memcpy(s->version, e->version, sizeof(s->version));
	memcpy(s->source, e->source, sizeof(s->source));
	memcpy(s->flags, e->flags, sizeof(s->flags));
	if (overflow)
		strcpy(s->code, GW_METRICS_OVERFLOW);
	else
		snprintf(s->code, sizeof(s->code), "%u", e->code);
	gw_metrics_hist_add(&s->hist, &e->hist);
	return 0;
}

int
gw_metrics_aggregate(const struct gw_metrics_table *const *tables,
		     unsigned int n, struct gw_metrics_agg *out)
{
	uint32_t w = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned int k = 0; k < n; k++) {
		const struct gw_metrics_table *t = tables[k];

		if (t == NULL)
			continue;
		for (uint32_t i = 0; i <= t->mask; i++) {
			const struct metrics_entry *e = &t->slots[i];

			if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) !=
			    SLOT_PUBLISHED)
				continue;
			if (agg_push(out, e, false) != 0)
				goto nomem;
		}
		/* the overflow series exists once a sample was folded into it */
		if (gw_metrics_table_dropped_series(t) > 0 &&
		    agg_push(out, &t->overflow, true) != 0)
			goto nomem;
		out->dropped_series += gw_metrics_table_dropped_series(t);
	}
	if (out->n == 0)
		return 0;
	qsort(out->series, out->n, sizeof(*out->series), series_cmp);
	for (uint32_t r = 1; r < out->n; r++) {
		struct gw_metrics_series *dst = &out->series[w];

		if (series_cmp(dst, &out->series[r]) == 0)
			gw_metrics_hist_add(&dst->hist, &out->series[r].hist);
		else
			out->series[++w] = out->series[r];
	}
	out->n = w + 1;
	return 0;
nomem:
	gw_metrics_agg_free(out);
	return -ENOMEM;
}

void
gw_metrics_agg_free(struct gw_metrics_agg *a)
{
	free(a->series);
	memset(a, 0, sizeof(*a));
}
