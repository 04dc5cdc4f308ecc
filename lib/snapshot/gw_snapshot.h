/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_SNAPSHOT_H
#define GW_SNAPSHOT_H

/**
 * @file
 * Publication of routing snapshots to the workers, read-copy-update style.
 *
 * The control lcore builds a new immutable struct gw_route_snapshot, then
 * gw_snapshot_publish() stores a pointer to it with release semantics and
 * retires the previous one. Workers load the pointer with acquire
 * semantics (gw_snapshot_current()) and report a quiescent state once per
 * loop iteration (gw_snapshot_quiescent()), after which they hold no
 * pointer obtained before it. A retired snapshot is freed by
 * gw_snapshot_reclaim(), from the control loop, once every online worker
 * has reported since it was retired (an rte_rcu_qsbr grace period) and no
 * worker still holds it (gw_snapshot_hold()): nothing ever waits on the
 * data path, and the control lcore does not block either.
 *
 * Requests that live across loop iterations (an HTTP request waiting for
 * its upstream) keep the snapshot they were routed with by a hold: a
 * per-worker counter in the snapshot, written only by that worker, read by
 * the control lcore. So a rule update never pulls the routes, clusters or
 * policies from under an in-flight request, and new requests see the new
 * rules from the next loop iteration on.
 *
 * Model: DPDK lib/hash rte_hash_rcu_qsbr_add() and the defer queue of
 * lib/lpm. The QSBR variable lives in ordinary (not hugepage) memory, so
 * no EAL is needed; worker ids are 0..n_workers-1, whatever thread runs
 * them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "gw_route.h"

/** Default bound on snapshots retired and not yet freed. */
#define GW_SNAPSHOT_RETIRED_DEFAULT 64

/** One worker's holds on a snapshot; a cache line each, no sharing. */
struct gw_snapshot_holds {
	uint64_t n;                /**< written by its worker only */
} __rte_cache_aligned;

/** One published version of the routing configuration. Read-only. */
struct gw_snapshot {
	struct gw_route_snapshot *routes;
	uint64_t generation;       /**< 1 for the first published, then +1 each */
	uint64_t published_ns;     /**< CLOCK_REALTIME at publication */
	uint32_t n_workers;
	struct gw_snapshot_holds holds[]; /**< one per worker */
};

/** Counters of a publisher (control lcore). */
struct gw_snapshot_stats {
	uint64_t generation;       /**< of the current snapshot, 0 when none */
	uint64_t published;        /**< snapshots published */
	uint64_t reclaimed;        /**< retired snapshots freed */
	uint64_t retired;          /**< retired, waiting for their grace period */
	uint64_t held;             /**< of those, past their grace period but held */
	uint64_t refused;          /**< publications refused: too many retired */
};

struct gw_snapshot_retired;

/**
 * The publisher. Fields are private; the first cache line is what the
 * workers read, the rest belongs to the control lcore.
 */
struct gw_snapshot_pub {
	struct gw_snapshot *current;   /* release store / acquire load */
	struct rte_rcu_qsbr *qsbr;
	uint32_t n_workers;

	/* control lcore only */
	uint64_t generation __rte_cache_aligned;
	uint64_t last_token;           /* QSBR token of the last publication */
	uint32_t max_retired;
	uint32_t n_retired;
	struct gw_snapshot_retired *retired;
	struct gw_snapshot_stats stats;
};

/**
 * Create a publisher for @p n_workers readers (worker ids 0..n-1).
 * @param max_retired  bound on retired snapshots awaiting their grace
 *                     period (0: GW_SNAPSHOT_RETIRED_DEFAULT)
 * @return the publisher (no snapshot yet), or NULL with a message in @p err.
 */
struct gw_snapshot_pub *gw_snapshot_pub_create(uint32_t n_workers,
					       uint32_t max_retired,
					       char *err, size_t err_len);

/**
 * Free the publisher, the current snapshot and every retired one, held or
 * not. Workers must have stopped (or gone offline). NULL-safe.
 */
void gw_snapshot_pub_free(struct gw_snapshot_pub *pub);

/**
 * Publish @p routes as the current snapshot and retire the previous one.
 *
 * On success the publisher owns @p routes (it frees it with
 * gw_route_snapshot_free() once retired and reclaimed) and *generation
 * (may be NULL) receives its generation. On failure the caller still owns
 * @p routes and nothing changed.
 *
 * @return 0, -EBUSY when max_retired snapshots are still in use by a
 *         worker (one that stopped reporting quiescence), or -ENOMEM.
 */
int gw_snapshot_publish(struct gw_snapshot_pub *pub,
			struct gw_route_snapshot *routes, uint64_t *generation);

/**
 * Free the retired snapshots whose grace period is over and that no
 * worker holds. Never blocks; call from the control loop.
 * @return the number freed.
 */
unsigned int gw_snapshot_reclaim(struct gw_snapshot_pub *pub);

/**
 * Wait until every online worker has reported a quiescent state since the
 * last publication, i.e. every worker now routes with the current
 * snapshot; at most @p timeout_us microseconds (spinning with short
 * sleeps). Used before telling an operator that an apply is in effect.
 * @return 0, or -ETIMEDOUT.
 */
int gw_snapshot_wait_seen(struct gw_snapshot_pub *pub, uint64_t timeout_us);

/**
 * Wait (at most @p timeout_us) until every retired snapshot is freed:
 * grace periods over and holds released. For shutdown and tests.
 * @return 0, or -ETIMEDOUT with the rest still retired.
 */
int gw_snapshot_synchronize(struct gw_snapshot_pub *pub, uint64_t timeout_us);

/** The current snapshot for the control lcore (NULL before the first publish). */
static inline const struct gw_snapshot *
gw_snapshot_peek(const struct gw_snapshot_pub *pub)
{
	return pub->current;   /* the control lcore is the only writer */
}

/** Generation of the current snapshot (0 before the first publish). */
uint64_t gw_snapshot_generation(const struct gw_snapshot_pub *pub);

/** Counters. */
void gw_snapshot_stats_get(const struct gw_snapshot_pub *pub,
			   struct gw_snapshot_stats *stats);

/* ------------------------------------------------------------------ */
/* Worker side                                                         */
/* ------------------------------------------------------------------ */

/**
 * Register worker @p worker_id as a reader and put it online: from now on
 * grace periods wait for its quiescent reports. Call from the worker
 * before its loop. @return 0 or -EINVAL (id out of range).
 */
int gw_snapshot_worker_online(struct gw_snapshot_pub *pub,
			      unsigned int worker_id);

/**
 * Take worker @p worker_id offline and unregister it: grace periods stop
 * waiting for it. Call from the worker when it leaves its loop, holding
 * nothing. NULL-safe.
 */
void gw_snapshot_worker_offline(struct gw_snapshot_pub *pub,
				unsigned int worker_id);

/**
 * The current snapshot (acquire load): valid until the caller's next
 * gw_snapshot_quiescent(), or its gw_snapshot_release() if it took a hold.
 * NULL before the first publication.
 */
static __rte_always_inline const struct gw_snapshot *
gw_snapshot_current(const struct gw_snapshot_pub *pub)
{
	return __atomic_load_n(&pub->current, __ATOMIC_ACQUIRE);
}

/**
 * Report that worker @p worker_id holds no snapshot pointer obtained before
 * this call (except under a hold). Once per loop iteration.
 */
static __rte_always_inline void
gw_snapshot_quiescent(struct gw_snapshot_pub *pub, unsigned int worker_id)
{
	rte_rcu_qsbr_quiescent(pub->qsbr, worker_id);
}

/**
 * Keep @p snap past the next quiescent report (an in-flight request);
 * worker @p worker_id only, before that report. Plain store: the counter
 * has one writer, and the quiescent report publishes it.
 */
static __rte_always_inline void
gw_snapshot_hold(const struct gw_snapshot *snap, unsigned int worker_id)
{
	struct gw_snapshot_holds *h =
		(struct gw_snapshot_holds *)(uintptr_t)&snap->holds[worker_id];

	__atomic_store_n(&h->n, h->n + 1, __ATOMIC_RELAXED);
}

/**
 * Drop a hold taken by gw_snapshot_hold() on the same worker. The worker
 * must not touch @p snap afterwards (release: the control lcore may free
 * it as soon as it sees the count drop).
 */
static __rte_always_inline void
gw_snapshot_release(const struct gw_snapshot *snap, unsigned int worker_id)
{
	struct gw_snapshot_holds *h =
		(struct gw_snapshot_holds *)(uintptr_t)&snap->holds[worker_id];

	__atomic_store_n(&h->n, h->n - 1, __ATOMIC_RELEASE);
}

#endif /* GW_SNAPSHOT_H */
