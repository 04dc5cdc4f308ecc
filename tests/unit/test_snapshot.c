/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshot publication through RCU (QSBR), with pthreads as workers (QSBR
 * thread ids are ours, any thread may use one): a retired snapshot is not
 * freed while a worker that may still read it has not reported quiescence,
 * nor while a worker holds it for an in-flight request, and is freed once
 * both are over. Readers dereference what they load, so under ASan an
 * early free is a heap-use-after-free report, not a silent pass.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gw_model.h"
#include "gw_route.h"
#include "gw_snapshot.h"

#define N_WORKERS 2

static struct gw_model_store *store;

/* A small real snapshot: an empty store and one bootstrap listener. */
static struct gw_route_snapshot *
routes(void)
{
	static const uint16_t ports[] = { 8000 };
	struct gw_route_build_params p = {
		.listener_ports = ports, .n_listener_ports = 1,
		.n_workers = N_WORKERS, .seed = 1,
	};
	char err[256];
	struct gw_route_snapshot *s = gw_route_snapshot_build(store, &p, err,
							      sizeof(err));

	if (s == NULL)
		fail_msg("gw_route_snapshot_build: %s", err);
	return s;
}

/* Something that reads the snapshot's memory. */
static uint32_t
touch(const struct gw_snapshot *s)
{
	return gw_route_snapshot_listener_count(s->routes) +
	       (uint32_t)s->generation;
}

static struct gw_snapshot_stats
stats(const struct gw_snapshot_pub *pub)
{
	struct gw_snapshot_stats st;

	gw_snapshot_stats_get(pub, &st);
	return st;
}

/* ------------------------------------------------------------------ */
/* A worker thread driven step by step by the test.                    */

enum step {
	STEP_NONE = 0,
	STEP_LOAD,          /* online, load the current snapshot */
	STEP_READ,          /* read the loaded snapshot again */
	STEP_HOLD,          /* take a hold on it */
	STEP_QUIESCENT,     /* report */
	STEP_RELEASE,       /* drop the hold */
	STEP_EXIT,          /* offline and leave */
};

struct worker {
	struct gw_snapshot_pub *pub;
	unsigned int id;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum step step;     /* asked, STEP_NONE once done */
	const struct gw_snapshot *seen;
	uint64_t seen_generation;
	pthread_t thread;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		enum step s;

		pthread_mutex_lock(&w->lock);
		while (w->step == STEP_NONE)
			pthread_cond_wait(&w->cond, &w->lock);
		s = w->step;
		pthread_mutex_unlock(&w->lock);

		switch (s) {
		case STEP_LOAD:
			w->seen = gw_snapshot_current(w->pub);
			w->seen_generation = w->seen->generation;
			touch(w->seen);
			break;
		case STEP_READ:
			/* Still valid: never freed under the reader. */
			assert_int_equal(w->seen->generation, w->seen_generation);
			touch(w->seen);
			break;
		case STEP_HOLD:
			gw_snapshot_hold(w->seen, w->id);
			break;
		case STEP_QUIESCENT:
			gw_snapshot_quiescent(w->pub, w->id);
			break;
		case STEP_RELEASE:
			touch(w->seen);
			gw_snapshot_release(w->seen, w->id);
			break;
		case STEP_EXIT:
			gw_snapshot_worker_offline(w->pub, w->id);
			break;
		default:
			break;
		}
		pthread_mutex_lock(&w->lock);
		w->step = STEP_NONE;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		if (s == STEP_EXIT)
			return NULL;
	}
}

static void
worker_do(struct worker *w, enum step s)
{
	pthread_mutex_lock(&w->lock);
	w->step = s;
	pthread_cond_broadcast(&w->cond);
	while (w->step != STEP_NONE)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static void *
worker_online_main(void *arg)
{
	struct worker *w = arg;

	/* Online from the worker's own thread, as gatewayd's workers do. */
	assert_int_equal(gw_snapshot_worker_online(w->pub, w->id), 0);
	return worker_main(arg);
}

static void
worker_start(struct worker *w, struct gw_snapshot_pub *pub, unsigned int id)
{
	memset(w, 0, sizeof(*w));
	w->pub = pub;
	w->id = id;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	assert_int_equal(pthread_create(&w->thread, NULL, worker_online_main,
					w), 0);
}

static void
worker_stop(struct worker *w)
{
	worker_do(w, STEP_EXIT);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}

/* ------------------------------------------------------------------ */

static void
test_publish_without_workers(void **state)
{
	char err[128];
	struct gw_snapshot_pub *pub = gw_snapshot_pub_create(N_WORKERS, 0, err,
							     sizeof(err));
	uint64_t gen = 0;

	(void)state;
	assert_non_null(pub);
	assert_null(gw_snapshot_current(pub));
	assert_int_equal(gw_snapshot_generation(pub), 0);
	assert_int_equal(gw_snapshot_publish(pub, routes(), &gen), 0);
	assert_int_equal(gen, 1);
	assert_int_equal(gw_snapshot_current(pub)->generation, 1);
	/* No worker online: nothing to wait for, freed at once. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(gw_snapshot_publish(pub, routes(), &gen), 0);
	assert_int_equal(gen, 6);
	assert_int_equal(stats(pub).published, 6);
	assert_int_equal(stats(pub).reclaimed, 5);
	assert_int_equal(stats(pub).retired, 0);
	assert_int_equal(gw_snapshot_wait_seen(pub, 1000), 0);
	assert_int_equal(gw_snapshot_synchronize(pub, 1000), 0);
	gw_snapshot_pub_free(pub);

	assert_null(gw_snapshot_pub_create(0, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "0 workers"));
}

/* The core property: not freed while a reader may hold it, freed after
 * every reader reported. */
static void
test_grace_period(void **state)
{
	struct gw_snapshot_pub *pub = gw_snapshot_pub_create(N_WORKERS, 0, NULL, 0);
	struct worker w0, w1;

	(void)state;
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	worker_start(&w0, pub, 0);
	worker_start(&w1, pub, 1);
	worker_do(&w0, STEP_LOAD);
	worker_do(&w1, STEP_LOAD);
	assert_int_equal(w0.seen_generation, 1);

	/* Generation 2 replaces 1 while both workers may still read 1. */
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	assert_int_equal(gw_snapshot_current(pub)->generation, 2);
	assert_int_equal(gw_snapshot_reclaim(pub), 0);
	assert_int_equal(stats(pub).retired, 1);
	assert_int_equal(gw_snapshot_wait_seen(pub, 2000), -ETIMEDOUT);
	worker_do(&w0, STEP_READ);
	worker_do(&w1, STEP_READ);

	/* One report is not enough. */
	worker_do(&w0, STEP_QUIESCENT);
	assert_int_equal(gw_snapshot_reclaim(pub), 0);
	worker_do(&w1, STEP_READ);
	/* Both: freed. New loads see generation 2. */
	worker_do(&w1, STEP_QUIESCENT);
	assert_int_equal(gw_snapshot_wait_seen(pub, 1000), 0);
	assert_int_equal(gw_snapshot_reclaim(pub), 1);
	assert_int_equal(stats(pub).reclaimed, 1);
	assert_int_equal(stats(pub).retired, 0);
	worker_do(&w0, STEP_LOAD);
	assert_int_equal(w0.seen_generation, 2);

	/* An offline worker is not waited for. */
	worker_stop(&w1);
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	assert_int_equal(gw_snapshot_reclaim(pub), 0);
	worker_do(&w0, STEP_QUIESCENT);
	assert_int_equal(gw_snapshot_reclaim(pub), 1);
	worker_stop(&w0);
	gw_snapshot_pub_free(pub);
}

/* An in-flight request keeps its snapshot past the grace period. */
static void
test_hold(void **state)
{
	struct gw_snapshot_pub *pub = gw_snapshot_pub_create(N_WORKERS, 0, NULL, 0);
	struct worker w0;

	(void)state;
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	worker_start(&w0, pub, 0);
	worker_do(&w0, STEP_LOAD);
	worker_do(&w0, STEP_HOLD);
	worker_do(&w0, STEP_QUIESCENT);
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	worker_do(&w0, STEP_QUIESCENT);
	/* Grace period over, but held: kept, and counted as held. */
	assert_int_equal(gw_snapshot_reclaim(pub), 0);
	assert_int_equal(stats(pub).held, 1);
	assert_int_equal(gw_snapshot_synchronize(pub, 20000), -ETIMEDOUT);
	worker_do(&w0, STEP_READ);
	worker_do(&w0, STEP_RELEASE);
	assert_int_equal(gw_snapshot_reclaim(pub), 1);
	assert_int_equal(stats(pub).held, 0);
	worker_stop(&w0);
	gw_snapshot_pub_free(pub);
}

/* A worker that never reports cannot make retired snapshots pile up. */
static void
test_retired_bound(void **state)
{
	struct gw_snapshot_pub *pub = gw_snapshot_pub_create(1, 2, NULL, 0);
	struct gw_route_snapshot *extra;
	struct worker w0;

	(void)state;
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	worker_start(&w0, pub, 0);
	worker_do(&w0, STEP_LOAD);
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	extra = routes();
	assert_int_equal(gw_snapshot_publish(pub, extra, NULL), -EBUSY);
	/* Refused: nothing changed, the caller still owns its snapshot. */
	assert_int_equal(gw_snapshot_generation(pub), 3);
	assert_int_equal(stats(pub).refused, 1);
	worker_do(&w0, STEP_QUIESCENT);
	assert_int_equal(gw_snapshot_publish(pub, extra, NULL), 0);
	assert_int_equal(gw_snapshot_generation(pub), 4);
	assert_int_equal(gw_snapshot_synchronize(pub, 100000), -ETIMEDOUT);
	worker_do(&w0, STEP_QUIESCENT);
	assert_int_equal(gw_snapshot_synchronize(pub, 100000), 0);
	worker_stop(&w0);
	/* Retired snapshots still there at free are freed too. */
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	gw_snapshot_pub_free(pub);
}

/* ------------------------------------------------------------------ */
/* Free-running readers against a publisher: ASan is the judge.        */

struct runner {
	struct gw_snapshot_pub *pub;
	unsigned int id;
	volatile int *stop;
	uint64_t loops;
	uint64_t max_generation;
};

static void *
runner_main(void *arg)
{
	struct runner *r = arg;
	const struct gw_snapshot *held = NULL;

	gw_snapshot_worker_online(r->pub, r->id);
	while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE)) {
		const struct gw_snapshot *s = gw_snapshot_current(r->pub);

		/* Generations only go up for a reader. */
		assert_true(s->generation >= r->max_generation);
		r->max_generation = s->generation;
		touch(s);
		/* Every 7th loop an "in-flight request" over a few loops. */
		if (held != NULL && r->loops % 5 == 0) {
			touch(held);
			gw_snapshot_release(held, r->id);
			held = NULL;
		}
		if (held == NULL && r->loops % 7 == 0) {
			gw_snapshot_hold(s, r->id);
			held = s;
		}
		r->loops++;
		gw_snapshot_quiescent(r->pub, r->id);
	}
	if (held != NULL)
		gw_snapshot_release(held, r->id);
	gw_snapshot_worker_offline(r->pub, r->id);
	return NULL;
}

static void
test_concurrent_readers(void **state)
{
	struct gw_snapshot_pub *pub = gw_snapshot_pub_create(N_WORKERS, 0, NULL, 0);
	struct runner r[N_WORKERS];
	pthread_t th[N_WORKERS];
	volatile int stop = 0;
	int published = 1;

	(void)state;
	assert_int_equal(gw_snapshot_publish(pub, routes(), NULL), 0);
	for (unsigned int i = 0; i < N_WORKERS; i++) {
		r[i] = (struct runner){ .pub = pub, .id = i, .stop = &stop };
		assert_int_equal(pthread_create(&th[i], NULL, runner_main,
						&r[i]), 0);
	}
	/* Publish only once every reader runs, so that on a loaded machine a
	 * reader the scheduler starts late still overlaps the publications. */
	for (unsigned int i = 0; i < N_WORKERS; i++)
		while (__atomic_load_n(&r[i].loops, __ATOMIC_RELAXED) == 0)
			sched_yield();
	while (published < 300) {
		struct gw_route_snapshot *s = routes();

		if (gw_snapshot_publish(pub, s, NULL) == 0)
			published++;
		else
			gw_route_snapshot_free(s);
		gw_snapshot_reclaim(pub);
		if (published % 50 == 0)
			gw_snapshot_wait_seen(pub, 100000);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < N_WORKERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(gw_snapshot_synchronize(pub, 1000000), 0);
	assert_int_equal(stats(pub).reclaimed, 299);
	assert_int_equal(gw_snapshot_generation(pub), 300);
	for (unsigned int i = 0; i < N_WORKERS; i++)
		assert_true(r[i].loops > 0);
	gw_snapshot_pub_free(pub);
}

static int
setup(void **state)
{
	(void)state;
	store = gw_model_store_create();
	return store == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	gw_model_store_free(store);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_without_workers),
		cmocka_unit_test(test_grace_period),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_retired_bound),
		cmocka_unit_test(test_concurrent_readers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
