/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshot publication: the pointer swap, the QSBR grace period of each
 * retired snapshot, and its deferred free. Control lcore only, except the
 * worker online/offline calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "gw_common.h"
#include "gw_snapshot.h"

/* A snapshot waiting for its grace period (token) and for its holds. */
struct gw_snapshot_retired {
	struct gw_snapshot *snap;
	uint64_t token;
};

static uint64_t
now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
snapshot_free(struct gw_snapshot *snap)
{
	if (snap == NULL)
		return;
	gw_route_snapshot_free(snap->routes);
	free(snap);
}

struct gw_snapshot_pub *
gw_snapshot_pub_create(uint32_t n_workers, uint32_t max_retired, char *err,
		       size_t err_len)
{
	struct gw_snapshot_pub *pub;
	size_t qsize;

	if (n_workers == 0 || n_workers > RTE_MAX_LCORE) {
		gw_err(err, err_len, "snapshots: %u workers (1..%u)", n_workers,
		       RTE_MAX_LCORE);
		return NULL;
	}
	if (posix_memalign((void **)&pub, RTE_CACHE_LINE_SIZE,
			   sizeof(*pub)) != 0) {
		gw_err(err, err_len, "snapshots: out of memory");
		return NULL;
	}
	memset(pub, 0, sizeof(*pub));
	pub->n_workers = n_workers;
	pub->max_retired = max_retired ? max_retired :
		GW_SNAPSHOT_RETIRED_DEFAULT;
	pub->retired = calloc(pub->max_retired, sizeof(*pub->retired));
	/*
	 * Plain cache-aligned memory instead of rte_zmalloc(): the QSBR
	 * counters need no hugepages, and the publisher then works before
	 * (or without) rte_eal_init(), e.g. in unit tests.
	 */
	qsize = rte_rcu_qsbr_get_memsize(n_workers);
	if (pub->retired == NULL ||
	    posix_memalign((void **)&pub->qsbr, RTE_CACHE_LINE_SIZE,
			   qsize) != 0) {
		pub->qsbr = NULL;
		gw_err(err, err_len, "snapshots: out of memory");
		gw_snapshot_pub_free(pub);
		return NULL;
	}
	memset(pub->qsbr, 0, qsize);
	if (rte_rcu_qsbr_init(pub->qsbr, n_workers) != 0) {
		gw_err(err, err_len, "snapshots: rte_rcu_qsbr_init failed");
		gw_snapshot_pub_free(pub);
		return NULL;
	}
	return pub;
}

void
gw_snapshot_pub_free(struct gw_snapshot_pub *pub)
{
	if (pub == NULL)
		return;
	for (uint32_t i = 0; i < pub->n_retired; i++)
		snapshot_free(pub->retired[i].snap);
	snapshot_free(pub->current);
	free(pub->retired);
	free(pub->qsbr);
	free(pub);
}

static bool
snapshot_held(const struct gw_snapshot *snap)
{
	for (uint32_t w = 0; w < snap->n_workers; w++)
		if (__atomic_load_n(&snap->holds[w].n, __ATOMIC_ACQUIRE) != 0)
			return true;
	return false;
}

unsigned int
gw_snapshot_reclaim(struct gw_snapshot_pub *pub)
{
	unsigned int freed = 0;
	uint32_t kept = 0;

	pub->stats.held = 0;
	for (uint32_t i = 0; i < pub->n_retired; i++) {
		struct gw_snapshot_retired *r = &pub->retired[i];

		/*
		 * Grace period first: only once every worker reported after
		 * the swap are the hold counters final for new holds (a hold
		 * is taken before the report that publishes it).
		 */
		if (rte_rcu_qsbr_check(pub->qsbr, r->token, false) == 1) {
			if (!snapshot_held(r->snap)) {
				snapshot_free(r->snap);
				freed++;
				continue;
			}
			pub->stats.held++;
		}
		pub->retired[kept++] = *r;
	}
	pub->n_retired = kept;
	pub->stats.reclaimed += freed;
	pub->stats.retired = kept;
	return freed;
}

int
gw_snapshot_publish(struct gw_snapshot_pub *pub,
		    struct gw_route_snapshot *routes, uint64_t *generation)
{
	struct gw_snapshot *snap, *old = pub->current;
	size_t size = sizeof(*snap) +
		pub->n_workers * sizeof(struct gw_snapshot_holds);

	if (old != NULL && pub->n_retired == pub->max_retired &&
	    gw_snapshot_reclaim(pub) == 0) {
		pub->stats.refused++;
		return -EBUSY;
	}
	if (posix_memalign((void **)&snap, RTE_CACHE_LINE_SIZE, size) != 0)
		return -ENOMEM;
	memset(snap, 0, size);
	snap->routes = routes;
	snap->generation = ++pub->generation;
	snap->published_ns = now_ns(CLOCK_REALTIME);
	snap->n_workers = pub->n_workers;

	/* Everything written above is visible to a worker that sees the pointer. */
	__atomic_store_n(&pub->current, snap, __ATOMIC_RELEASE);
	/* The token orders after the swap (release inside start). */
	pub->last_token = rte_rcu_qsbr_start(pub->qsbr);
	if (old != NULL) {
		pub->retired[pub->n_retired].snap = old;
		pub->retired[pub->n_retired].token = pub->last_token;
		pub->n_retired++;
	}
	pub->stats.published++;
	pub->stats.generation = snap->generation;
	pub->stats.retired = pub->n_retired;
	if (generation != NULL)
		*generation = snap->generation;
	/* Often free already: no worker online, or they are quick. */
	gw_snapshot_reclaim(pub);
	return 0;
}

int
gw_snapshot_wait_seen(struct gw_snapshot_pub *pub, uint64_t timeout_us)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + timeout_us * 1000;

	while (rte_rcu_qsbr_check(pub->qsbr, pub->last_token, false) != 1) {
		if (now_ns(CLOCK_MONOTONIC) >= deadline)
			return -ETIMEDOUT;
		/* A worker loop is microseconds; an idle one sleeps ~100 us. */
		usleep(10);
	}
	return 0;
}

int
gw_snapshot_synchronize(struct gw_snapshot_pub *pub, uint64_t timeout_us)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + timeout_us * 1000;

	for (;;) {
		gw_snapshot_reclaim(pub);
		if (pub->n_retired == 0)
			return 0;
		if (now_ns(CLOCK_MONOTONIC) >= deadline)
			return -ETIMEDOUT;
		usleep(50);
	}
}

uint64_t
gw_snapshot_generation(const struct gw_snapshot_pub *pub)
{
	return pub->current != NULL ? pub->current->generation : 0;
}

void
gw_snapshot_stats_get(const struct gw_snapshot_pub *pub,
		      struct gw_snapshot_stats *stats)
{
	*stats = pub->stats;
}

int
gw_snapshot_worker_online(struct gw_snapshot_pub *pub, unsigned int worker_id)
{
	if (worker_id >= pub->n_workers)
		return -EINVAL;
	if (rte_rcu_qsbr_thread_register(pub->qsbr, worker_id) != 0)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(pub->qsbr, worker_id);
	return 0;
}

void
gw_snapshot_worker_offline(struct gw_snapshot_pub *pub, unsigned int worker_id)
{
	if (pub == NULL || worker_id >= pub->n_workers)
		return;
	rte_rcu_qsbr_thread_offline(pub->qsbr, worker_id);
	rte_rcu_qsbr_thread_unregister(pub->qsbr, worker_id);
}
