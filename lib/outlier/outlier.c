/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control lcore's half of outlier detection: ejection state per
 * (cluster, endpoint) of the bound snapshot, Envoy's ejection algorithm,
 * and its publication as the clusters' health bitmaps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_outlier.h"

#define OL_NONE UINT32_MAX

struct ol_host {
	uint64_t key;            /* hash of cluster name and endpoint */
	uint32_t cluster;        /* engine cluster */
	uint32_t endpoint;       /* index in the snapshot's cluster */
	char ep[64];             /* "address:port", the identity */
	bool ejected;
	bool came_back;          /* brought back since its last ejection */
	uint32_t backoff;        /* Envoy's ejection time multiplier */
	uint64_t ejected_at;
	uint64_t ejections;
};

struct ol_cluster {
	char *name;
	uint64_t key;
	uint32_t snap_cluster;
	struct gw_outlier_config cfg;
	uint32_t first, n;       /* its hosts */
	uint32_t n_ejected;
	bool panic;
	uint64_t next_check;
	struct gw_outlier_stats st;
};

/* Open addressing: index + 1 by 64-bit key (0 = free). */
struct ol_index {
	uint64_t *keys;
	uint32_t *idx1;
	uint32_t mask;
};

struct gw_outlier {
	uint64_t generation;
	struct gw_route_snapshot *routes;
	struct ol_cluster *clusters;
	uint32_t n_clusters;
	struct ol_host *hosts;
	uint32_t n_hosts;
	uint32_t *by_snap;       /* snapshot cluster -> engine cluster */
	uint32_t n_snap;
	struct ol_index host_index;
	struct ol_index cluster_index;
	struct gw_outlier_event_stats ev;
};

uint64_t
gw_outlier_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* FNV-1a, then a final mix: keys only need to spread. */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
key_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t
cluster_key(const char *name)
{
	return key_mix(hash_str(0xcbf29ce484222325ULL, name));
}

static uint64_t
host_key(const char *cluster, const char *ep)
{
	uint64_t h = hash_str(0xcbf29ce484222325ULL, cluster);

	h = hash_str(h ^ '|', ep);
	return key_mix(h);
}

static void
endpoint_id(const struct gw_route_endpoint *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", e->address != NULL ? e->address : "", e->port);
}

static void
index_free(struct ol_index *ix)
{
	free(ix->keys);
	free(ix->idx1);
	memset(ix, 0, sizeof(*ix));
}

static int
index_init(struct ol_index *ix, uint32_t n)
{
	uint32_t cap = 16;

	while (cap < n * 2)
		cap <<= 1;
	ix->keys = calloc(cap, sizeof(*ix->keys));
	ix->idx1 = calloc(cap, sizeof(*ix->idx1));
	ix->mask = cap - 1;
	if (ix->keys == NULL || ix->idx1 == NULL) {
		index_free(ix);
		return -ENOMEM;
	}
	return 0;
}

static void
index_add(struct ol_index *ix, uint64_t key, uint32_t idx)
{
	uint32_t s = (uint32_t)key & ix->mask;

	while (ix->idx1[s] != 0)
		s = (s + 1) & ix->mask;
	ix->keys[s] = key;
	ix->idx1[s] = idx + 1;
}

/* Hosts of the engine matching @p cl_name and @p ep; OL_NONE if none. */
static uint32_t
host_find(const struct gw_outlier *o, const char *cl_name, const char *ep)
{
	const struct ol_index *ix = &o->host_index;
	uint64_t key;
	uint32_t s;

	if (ix->idx1 == NULL)
		return OL_NONE;
	key = host_key(cl_name, ep);
	for (s = (uint32_t)key & ix->mask; ix->idx1[s] != 0; s = (s + 1) & ix->mask) {
		const struct ol_host *h = &o->hosts[ix->idx1[s] - 1];

		if (ix->keys[s] == key && strcmp(h->ep, ep) == 0 &&
		    strcmp(o->clusters[h->cluster].name, cl_name) == 0)
			return ix->idx1[s] - 1;
	}
	return OL_NONE;
}

static uint32_t
cluster_find(const struct gw_outlier *o, const char *name)
{
	const struct ol_index *ix = &o->cluster_index;
	uint64_t key;
	uint32_t s;

	if (ix->idx1 == NULL)
		return OL_NONE;
	key = cluster_key(name);
	for (s = (uint32_t)key & ix->mask; ix->idx1[s] != 0; s = (s + 1) & ix->mask)
		if (ix->keys[s] == key &&
		    strcmp(o->clusters[ix->idx1[s] - 1].name, name) == 0)
			return ix->idx1[s] - 1;
	return OL_NONE;
}

struct gw_outlier *
gw_outlier_create(void)
{
	return calloc(1, sizeof(struct gw_outlier));
}

static void
state_free(struct gw_outlier *o)
{
	for (uint32_t i = 0; i < o->n_clusters; i++)
		free(o->clusters[i].name);
	free(o->clusters);
	free(o->hosts);
	free(o->by_snap);
	index_free(&o->host_index);
	index_free(&o->cluster_index);
	o->clusters = NULL;
	o->hosts = NULL;
	o->by_snap = NULL;
	o->n_clusters = o->n_hosts = o->n_snap = 0;
}

void
gw_outlier_free(struct gw_outlier *o)
{
	if (o == NULL)
		return;
	state_free(o);
	free(o);
}

uint64_t
gw_outlier_generation(const struct gw_outlier *o)
{
	return o->generation;
}

/* How long a host with @p backoff ejections stays out (Envoy: base x
 * count, at most max(max_ejection_time, base)). */
static uint64_t
ejection_us(const struct ol_cluster *c, uint32_t backoff)
{
	uint64_t cap = c->cfg.base_ejection_us > GW_OUTLIER_MAX_EJECT_US ?
		       c->cfg.base_ejection_us : GW_OUTLIER_MAX_EJECT_US;
	uint64_t t = c->cfg.base_ejection_us * backoff;

	return t < cap ? t : cap;
}

/*
 * Below minHealthPercent healthy hosts the load balancer ignores health
 * (Envoy's panic threshold): ejections stay recorded but are not applied.
 */
static bool
in_panic(uint32_t n, uint32_t n_ejected, uint32_t min_health_percent)
{
	return n_ejected > 0 &&
	       (uint64_t)(n - n_ejected) * 100 < (uint64_t)min_health_percent * n;
}

/* Store word @p w of @p routes' cluster @p snap_cluster; @p host_of holds
 * the engine host of each of its 64 endpoints (OL_NONE: unknown). */
static void
bitmap_write_word(struct gw_route_snapshot *routes, uint32_t snap_cluster,
		  uint32_t w, const struct gw_outlier *o, const uint32_t *host_of)
{
	uint64_t bits = ~0ULL;

	for (uint32_t k = 0; k < 64; k++)
		if (host_of[k] != OL_NONE && o->hosts[host_of[k]].ejected)
			bits &= ~(1ULL << k);
	gw_route_cluster_health_store(routes, snap_cluster, w, bits);
}

/* Publish engine cluster @p ci into the bound snapshot. */
static void
cluster_publish(struct gw_outlier *o, uint32_t ci)
{
	struct ol_cluster *c = &o->clusters[ci];
	uint32_t words = (c->n + 63) / 64;

	c->panic = in_panic(c->n, c->n_ejected, c->cfg.min_health_percent);
	c->st.ejections_active = c->n_ejected;
	c->st.panic = c->panic;
	for (uint32_t w = 0; w < words; w++) {
		uint64_t bits = ~0ULL;

		for (uint32_t i = w * 64; i < c->n && i < w * 64 + 64 && !c->panic; i++)
			if (o->hosts[c->first + i].ejected)
				bits &= ~(1ULL << (i % 64));
		gw_route_cluster_health_store(o->routes, c->snap_cluster, w, bits);
	}
}

int
gw_outlier_bind(struct gw_outlier *o, struct gw_route_snapshot *routes,
		uint64_t generation, uint64_t now_us)
{
	struct gw_outlier old = *o;
	uint32_t n_snap = gw_route_snapshot_cluster_count(routes);
	uint32_t nc = 0, nh = 0, c, i;
	char ep[64];

	if (o->routes == routes && o->generation == generation)
		return 0;
	for (c = 0; c < n_snap; c++) {
		const struct gw_route_cluster *cl = gw_route_snapshot_cluster(routes, c);

		if (gw_route_cluster_health(routes, c) != NULL) {
			nc++;
			nh += cl->n_endpoints;
		}
	}
	memset(&o->host_index, 0, sizeof(o->host_index));
	memset(&o->cluster_index, 0, sizeof(o->cluster_index));
	o->clusters = calloc(nc + 1, sizeof(*o->clusters));
	o->hosts = calloc(nh + 1, sizeof(*o->hosts));
	o->by_snap = malloc((n_snap + 1) * sizeof(*o->by_snap));
	o->n_clusters = o->n_hosts = 0;
	o->n_snap = n_snap;
	o->routes = routes;
	o->generation = generation;
	if (o->clusters == NULL || o->hosts == NULL || o->by_snap == NULL ||
	    index_init(&o->host_index, nh) < 0 ||
	    index_init(&o->cluster_index, nc) < 0)
		goto nomem;
	for (c = 0; c < n_snap; c++) {
		const struct gw_route_cluster *cl = gw_route_snapshot_cluster(routes, c);
		struct ol_cluster *oc;
		uint32_t prev;

		o->by_snap[c] = OL_NONE;
		if (gw_route_cluster_health(routes, c) == NULL)
			continue;
		oc = &o->clusters[o->n_clusters];
		oc->name = strdup(cl->name);
		if (oc->name == NULL)
			goto nomem;
		oc->key = cluster_key(cl->name);
		oc->snap_cluster = c;
		gw_outlier_config_from(cl->outlier_detection, &oc->cfg);
		oc->first = o->n_hosts;
		oc->n = cl->n_endpoints;
		oc->next_check = now_us + oc->cfg.interval_us;
		prev = cluster_find(&old, cl->name);
		if (prev != OL_NONE) {
			/* keep the counters and the rhythm of the checks */
			oc->st = old.clusters[prev].st;
			if (old.clusters[prev].next_check < oc->next_check)
				oc->next_check = old.clusters[prev].next_check;
		}
		o->by_snap[c] = o->n_clusters;
		index_add(&o->cluster_index, oc->key, o->n_clusters);
		for (i = 0; i < cl->n_endpoints; i++) {
			struct ol_host *h = &o->hosts[o->n_hosts];
			uint32_t ph;

			endpoint_id(&cl->endpoints[i], ep, sizeof(ep));
			memcpy(h->ep, ep, sizeof(h->ep));
			h->key = host_key(cl->name, ep);
			h->cluster = o->n_clusters;
			h->endpoint = i;
			ph = host_find(&old, cl->name, ep);
			if (ph != OL_NONE) {
				const struct ol_host *p = &old.hosts[ph];

				h->ejected = p->ejected;
				h->came_back = p->came_back;
				h->backoff = p->backoff;
				h->ejected_at = p->ejected_at;
				h->ejections = p->ejections;
				oc->n_ejected += h->ejected;
			}
			index_add(&o->host_index, h->key, o->n_hosts);
			o->n_hosts++;
		}
		o->n_clusters++;
		cluster_publish(o, o->n_clusters - 1);
	}
	state_free(&old);
	return 0;
nomem:
	state_free(o);
	state_free(&old);
	o->routes = NULL;
	o->generation = 0;
	return -ENOMEM;
}

void
gw_outlier_apply(const struct gw_outlier *o, struct gw_route_snapshot *routes)
{
	uint32_t n_snap = gw_route_snapshot_cluster_count(routes);
	uint32_t host_of[64];

	for (uint32_t c = 0; c < n_snap; c++) {
		const struct gw_route_cluster *cl = gw_route_snapshot_cluster(routes, c);
		struct gw_outlier_config cfg;
		uint32_t n_ejected = 0;
		char ep[64];

		if (gw_route_cluster_health(routes, c) == NULL ||
		    cluster_find(o, cl->name) == OL_NONE)
			continue;
		gw_outlier_config_from(cl->outlier_detection, &cfg);
		for (uint32_t i = 0; i < cl->n_endpoints; i++) {
			uint32_t h;

			endpoint_id(&cl->endpoints[i], ep, sizeof(ep));
			h = host_find(o, cl->name, ep);
			n_ejected += h != OL_NONE && o->hosts[h].ejected;
		}
		if (n_ejected == 0 ||
		    in_panic(cl->n_endpoints, n_ejected, cfg.min_health_percent))
			continue; /* the bitmap is built all usable */
		/* a word at a time: host_of holds one word's hosts */
		for (uint32_t w = 0; w < (cl->n_endpoints + 63) / 64; w++) {
			uint32_t base = w * 64, k;

			for (k = 0; k < 64; k++) {
				host_of[k] = OL_NONE;
				if (base + k < cl->n_endpoints) {
					endpoint_id(&cl->endpoints[base + k], ep,
						    sizeof(ep));
					host_of[k] = host_find(o, cl->name, ep);
				}
			}
			bitmap_write_word(routes, c, w, o, host_of);
		}
	}
}

bool
gw_outlier_report(struct gw_outlier *o, const struct gw_outlier_event *ev,
		  uint64_t now_us)
{
	struct ol_cluster *c;
	struct ol_host *h;
	uint32_t ci;

	o->ev.events++;
	if (o->routes == NULL || ev->generation != o->generation ||
	    ev->cluster >= o->n_snap || (ci = o->by_snap[ev->cluster]) == OL_NONE ||
	    ev->endpoint >= o->clusters[ci].n) {
		o->ev.stale++;
		return false;
	}
	c = &o->clusters[ci];
	h = &o->hosts[c->first + ev->endpoint];
	if (h->ejected ||
	    (ev->kind == GW_OUTLIER_5XX && c->cfg.consecutive_5xx == 0) ||
	    (ev->kind == GW_OUTLIER_GATEWAY && c->cfg.consecutive_gateway == 0) ||
	    (ev->kind != GW_OUTLIER_5XX && ev->kind != GW_OUTLIER_GATEWAY)) {
		o->ev.ignored++;
		return false;
	}
	/* maxEjectionPercent, but one host may always go (unless 0%) */
	if (c->cfg.max_ejection_percent == 0 ||
	    (c->n_ejected > 0 && (uint64_t)(c->n_ejected + 1) * 100 >
				 (uint64_t)c->cfg.max_ejection_percent * c->n)) {
		c->st.ejections_overflow++;
		return false;
	}
	h->ejected = true;
	h->came_back = false;
	if (ejection_us(c, h->backoff) < ejection_us(c, h->backoff + 1))
		h->backoff++;
	h->ejected_at = now_us;
	h->ejections++;
	c->n_ejected++;
	c->st.ejections_total++;
	if (ev->kind == GW_OUTLIER_5XX)
		c->st.ejections_5xx++;
	else
		c->st.ejections_gateway++;
	cluster_publish(o, ci);
	return true;
}

unsigned int
gw_outlier_tick(struct gw_outlier *o, uint64_t now_us)
{
	unsigned int back = 0;

	if (o->routes == NULL)
		return 0;
	for (uint32_t ci = 0; ci < o->n_clusters; ci++) {
		struct ol_cluster *c = &o->clusters[ci];
		bool changed = false;

		if (now_us < c->next_check)
			continue;
		c->next_check = now_us + c->cfg.interval_us;
		for (uint32_t i = 0; i < c->n; i++) {
			struct ol_host *h = &o->hosts[c->first + i];

			if (!h->ejected) {
				/* in service for a whole interval: shorter next time */
				if (h->came_back && h->backoff > 0)
					h->backoff--;
				continue;
			}
			if (now_us - h->ejected_at < ejection_us(c, h->backoff))
				continue;
			h->ejected = false;
			h->came_back = true;
			c->n_ejected--;
			c->st.unejections++;
			changed = true;
			back++;
		}
		if (changed)
			cluster_publish(o, ci);
	}
	return back;
}

int
gw_outlier_endpoint(const struct gw_outlier *o, uint32_t cluster,
		    uint32_t endpoint, uint64_t now_us,
		    struct gw_outlier_endpoint_info *info)
{
	const struct ol_cluster *c;
	const struct ol_host *h;
	uint32_t ci;

	memset(info, 0, sizeof(*info));
	if (o->routes == NULL || cluster >= o->n_snap)
		return -ENOENT;
	ci = o->by_snap[cluster];
	if (ci == OL_NONE)
		return 0; /* no outlierDetection: nothing tracked */
	c = &o->clusters[ci];
	if (endpoint >= c->n)
		return -ENOENT;
	h = &o->hosts[c->first + endpoint];
	info->tracked = true;
	info->ejected = h->ejected;
	info->panic = c->panic;
	info->ejection_count = h->backoff;
	info->ejections = h->ejections;
	if (h->ejected) {
		uint64_t until = h->ejected_at + ejection_us(c, h->backoff);

		info->ejected_us_left = until > now_us ? until - now_us : 0;
	}
	return 0;
}

uint32_t
gw_outlier_cluster_count(const struct gw_outlier *o)
{
	return o->n_clusters;
}

int
gw_outlier_cluster_stats(const struct gw_outlier *o, uint32_t i,
			 const char **name, struct gw_outlier_stats *st)
{
	if (i >= o->n_clusters)
		return -ENOENT;
	*name = o->clusters[i].name;
	*st = o->clusters[i].st;
	return 0;
}

void
gw_outlier_stats_get(const struct gw_outlier *o, struct gw_outlier_stats *st,
		     struct gw_outlier_event_stats *ev)
{
	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < o->n_clusters; i++) {
		const struct gw_outlier_stats *c = &o->clusters[i].st;

		st->ejections_total += c->ejections_total;
		st->ejections_active += c->ejections_active;
		st->ejections_overflow += c->ejections_overflow;
		st->ejections_5xx += c->ejections_5xx;
		st->ejections_gateway += c->ejections_gateway;
		st->unejections += c->unejections;
		st->panic += c->panic;
	}
	if (ev != NULL)
		*ev = o->ev;
}
