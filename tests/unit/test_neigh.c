/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/neigh: the neighbour table's state machine on a fake clock, open
 * addressing with keys chosen to collide, the pending queue, and lock-free
 * readers racing the writer.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "gw_neigh.h"
#include "neigh_hash.h"

#define IP(n) ((uint32_t)(n)) /* opaque keys: byte order does not matter here */

static const uint8_t MAC_A[6] = { 0x02, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
static const uint8_t MAC_B[6] = { 0x02, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb };
static const uint8_t MAC_C[6] = { 0x02, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc };

/* Ticks: small numbers keep the timeline readable. */
static const struct gw_neigh_params params = {
	.reachable_ticks = 1000,
	.retrans_ticks = 10,
	.max_probes = 3,
	.failed_ticks = 100,
};

/* ---- probe recorder ---- */

#define MAX_PROBES 64

struct probes {
	unsigned int n;
	uint16_t port[MAX_PROBES];
	uint32_t ip[MAX_PROBES];
};

static void
record_probe(void *arg, uint16_t port, uint32_t ip)
{
	struct probes *p = arg;

	if (p->n < MAX_PROBES) {
		p->port[p->n] = port;
		p->ip[p->n] = ip;
	}
	p->n++;
}

/* ---- walk helpers ---- */

struct view_set {
	unsigned int n;
	struct gw_neigh_entry_view v[64];
};

static void
collect_view(void *arg, const struct gw_neigh_entry_view *e)
{
	struct view_set *s = arg;

	if (s->n < 64)
		s->v[s->n] = *e;
	s->n++;
}

static const struct gw_neigh_entry_view *
view_of(struct gw_neigh_table *t, struct view_set *s, uint16_t port, uint32_t ip)
{
	memset(s, 0, sizeof(*s));
	gw_neigh_table_walk(t, collect_view, s);
	for (unsigned int i = 0; i < s->n && i < 64; i++)
		if (s->v[i].port == port && s->v[i].ip == ip)
			return &s->v[i];
	return NULL;
}

static enum gw_neigh_state
state_of(struct gw_neigh_table *t, uint16_t port, uint32_t ip)
{
	struct view_set s;
	const struct gw_neigh_entry_view *v = view_of(t, &s, port, ip);

	return v == NULL ? GW_NEIGH_FREE : v->state;
}

/* Keys whose home slot is @p home in a table of @p nslots slots. */
static unsigned int
colliding_keys(uint32_t nslots, uint32_t home, uint16_t port, uint32_t *out,
	       unsigned int want, uint32_t start)
{
	unsigned int n = 0;

	for (uint32_t ip = start; n < want; ip++)
		if ((neigh_hash(port, ip) & (nslots - 1)) == home)
			out[n++] = ip;
	return n;
}

/* ---- table ---- */

static void
test_create_invalid(void **state)
{
	struct gw_neigh_params bad = params;

	(void)state;
	assert_null(gw_neigh_table_create(16, NULL));
	assert_null(gw_neigh_table_create(0, &params));
	assert_null(gw_neigh_table_create(UINT32_MAX, &params));
	bad.max_probes = 0;
	assert_null(gw_neigh_table_create(16, &bad));
	gw_neigh_table_free(NULL);
	assert_null(gw_neigh_pending_create(0));
	gw_neigh_pending_free(NULL);
}

static void
test_learn_lookup(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	uint8_t mac[6];

	(void)state;
	assert_non_null(t);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(1), mac), -ENOENT);
	/* Without create, learning only updates. */
	assert_int_equal(gw_neigh_learn(t, 0, IP(1), MAC_A, false, 5), -ENOENT);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(1), mac), -ENOENT);

	assert_int_equal(gw_neigh_learn(t, 0, IP(1), MAC_A, true, 5), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(1), mac), 0);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(state_of(t, 0, IP(1)), GW_NEIGH_REACHABLE);

	/* The key is (port, ip). */
	assert_int_equal(gw_neigh_lookup(t, 1, IP(1), mac), -ENOENT);
	assert_int_equal(gw_neigh_learn(t, 1, IP(1), MAC_B, true, 5), 0);
	assert_int_equal(gw_neigh_lookup(t, 1, IP(1), mac), 0);
	assert_memory_equal(mac, MAC_B, 6);

	/* A new MAC for a known address replaces the old one. */
	assert_int_equal(gw_neigh_learn(t, 0, IP(1), MAC_C, false, 6), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(1), mac), 0);
	assert_memory_equal(mac, MAC_C, 6);
	assert_int_equal(gw_neigh_lookup(t, 1, IP(1), mac), 0);
	assert_memory_equal(mac, MAC_B, 6);
	gw_neigh_table_free(t);
}

static void
test_static_entries(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	struct probes p = { 0 };
	uint8_t mac[6];

	(void)state;
	assert_int_equal(gw_neigh_static_add(t, 0, IP(7), MAC_A), 0);
	assert_int_equal(state_of(t, 0, IP(7)), GW_NEIGH_PERMANENT);
	/* ARP, with or without create, cannot move a static entry. */
	assert_int_equal(gw_neigh_learn(t, 0, IP(7), MAC_B, true, 1), 0);
	assert_int_equal(gw_neigh_learn(t, 0, IP(7), MAC_B, false, 1), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(7), mac), 0);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(gw_neigh_resolve(t, 0, IP(7), 1), 0);
	/* Nor can time. */
	for (uint64_t now = 0; now < 100000; now += 997)
		assert_int_equal(gw_neigh_table_tick(t, now, record_probe, &p), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(state_of(t, 0, IP(7)), GW_NEIGH_PERMANENT);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(7), mac), 0);
	assert_memory_equal(mac, MAC_A, 6);

	/* A static entry replaces a learnt one. */
	assert_int_equal(gw_neigh_learn(t, 0, IP(8), MAC_B, true, 1), 0);
	assert_int_equal(gw_neigh_static_add(t, 0, IP(8), MAC_C), 0);
	assert_int_equal(state_of(t, 0, IP(8)), GW_NEIGH_PERMANENT);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(8), mac), 0);
	assert_memory_equal(mac, MAC_C, 6);
	/* And is removed only on request. */
	assert_int_equal(gw_neigh_delete(t, 0, IP(8)), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(8), mac), -ENOENT);
	assert_int_equal(gw_neigh_delete(t, 0, IP(8)), -ENOENT);
	gw_neigh_table_free(t);
}

static void
test_resolve(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	struct view_set s;
	const struct gw_neigh_entry_view *v;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(gw_neigh_resolve(t, 2, IP(9), 100), 1);
	assert_int_equal(gw_neigh_lookup(t, 2, IP(9), mac), -EAGAIN);
	v = view_of(t, &s, 2, IP(9));
	assert_non_null(v);
	assert_int_equal(v->state, GW_NEIGH_INCOMPLETE);
	assert_int_equal(v->probes, 1); /* the caller's probe */
	/* Outstanding: do not probe again. */
	assert_int_equal(gw_neigh_resolve(t, 2, IP(9), 101), 0);
	assert_int_equal(gw_neigh_resolve(t, 2, IP(9), 105), 0);

	/* The reply to our request updates the entry, no create needed. */
	assert_int_equal(gw_neigh_learn(t, 2, IP(9), MAC_A, false, 107), 0);
	assert_int_equal(gw_neigh_lookup(t, 2, IP(9), mac), 0);
	assert_memory_equal(mac, MAC_A, 6);
	v = view_of(t, &s, 2, IP(9));
	assert_int_equal(v->state, GW_NEIGH_REACHABLE);
	assert_int_equal(v->probes, 0);
	assert_int_equal(v->updated, 107);
	assert_int_equal(gw_neigh_resolve(t, 2, IP(9), 108), 0);
	gw_neigh_table_free(t);
}

static void
test_incomplete_to_failed_to_freed(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	struct probes p = { 0 };
	uint8_t mac[6];

	(void)state;
	/* t=0: resolve, the caller sends probe 1. */
	assert_int_equal(gw_neigh_resolve(t, 3, IP(42), 0), 1);
	assert_int_equal(gw_neigh_table_tick(t, 9, record_probe, &p), 0);
	assert_int_equal(p.n, 0);
	/* t=10, 20: probes 2 and 3, one per retrans interval. */
	gw_neigh_table_tick(t, 10, record_probe, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.port[0], 3);
	assert_int_equal(p.ip[0], IP(42));
	gw_neigh_table_tick(t, 15, record_probe, &p);
	assert_int_equal(p.n, 1);
	gw_neigh_table_tick(t, 20, record_probe, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.ip[1], IP(42));
	assert_int_equal(state_of(t, 3, IP(42)), GW_NEIGH_INCOMPLETE);
	/* t=30: max_probes unanswered: FAILED, no fourth probe. */
	gw_neigh_table_tick(t, 30, record_probe, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(state_of(t, 3, IP(42)), GW_NEIGH_FAILED);
	assert_int_equal(gw_neigh_lookup(t, 3, IP(42), mac), -EHOSTUNREACH);
	assert_int_equal(gw_neigh_resolve(t, 3, IP(42), 31), -EHOSTUNREACH);

	/* Kept failed_ticks, then freed, then resolvable again. */
	assert_int_equal(gw_neigh_table_tick(t, 129, record_probe, &p), 0);
	assert_int_equal(gw_neigh_lookup(t, 3, IP(42), mac), -EHOSTUNREACH);
	assert_int_equal(gw_neigh_table_tick(t, 130, record_probe, &p), 1);
	assert_int_equal(p.n, 2);
	assert_int_equal(gw_neigh_lookup(t, 3, IP(42), mac), -ENOENT);
	assert_int_equal(gw_neigh_resolve(t, 3, IP(42), 131), 1);

	/* A late answer rescues a FAILED entry. */
	gw_neigh_table_tick(t, 141, record_probe, &p);
	gw_neigh_table_tick(t, 151, record_probe, &p);
	gw_neigh_table_tick(t, 161, record_probe, &p);
	assert_int_equal(state_of(t, 3, IP(42)), GW_NEIGH_FAILED);
	assert_int_equal(gw_neigh_learn(t, 3, IP(42), MAC_B, false, 170), 0);
	assert_int_equal(gw_neigh_lookup(t, 3, IP(42), mac), 0);
	assert_memory_equal(mac, MAC_B, 6);
	gw_neigh_table_free(t);
}

static void
test_reachable_stale_reachable(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	struct probes p = { 0 };
	struct view_set s;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(gw_neigh_learn(t, 0, IP(5), MAC_A, true, 0), 0);
	gw_neigh_table_tick(t, 999, record_probe, &p);
	assert_int_equal(p.n, 0);
	assert_int_equal(state_of(t, 0, IP(5)), GW_NEIGH_REACHABLE);

	/* reachable_ticks after the confirmation: STALE, probed, still usable. */
	gw_neigh_table_tick(t, 1000, record_probe, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.ip[0], IP(5));
	assert_int_equal(state_of(t, 0, IP(5)), GW_NEIGH_STALE);
	assert_int_equal(view_of(t, &s, 0, IP(5))->probes, 1);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(5), mac), 0);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(gw_neigh_resolve(t, 0, IP(5), 1001), 0);

	/* The answer: REACHABLE again, no more probes. */
	assert_int_equal(gw_neigh_learn(t, 0, IP(5), MAC_A, false, 1005), 0);
	assert_int_equal(state_of(t, 0, IP(5)), GW_NEIGH_REACHABLE);
	gw_neigh_table_tick(t, 1010, record_probe, &p);
	gw_neigh_table_tick(t, 1020, record_probe, &p);
	assert_int_equal(p.n, 1);

	/* Stale again, and this time nobody answers. */
	gw_neigh_table_tick(t, 2005, record_probe, &p);
	assert_int_equal(p.n, 2);
	gw_neigh_table_tick(t, 2015, record_probe, &p);
	gw_neigh_table_tick(t, 2025, record_probe, &p);
	assert_int_equal(p.n, 4);
	assert_int_equal(state_of(t, 0, IP(5)), GW_NEIGH_STALE);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(5), mac), 0);
	gw_neigh_table_tick(t, 2035, record_probe, &p);
	assert_int_equal(p.n, 4);
	assert_int_equal(state_of(t, 0, IP(5)), GW_NEIGH_FAILED);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(5), mac), -EHOSTUNREACH);
	assert_int_equal(gw_neigh_table_tick(t, 2135, record_probe, &p), 1);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(5), mac), -ENOENT);
	gw_neigh_table_free(t);
}

/* The tick skips work until the earliest deadline; new entries move it. */
static void
test_tick_deadlines(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	struct probes p = { 0 };

	(void)state;
	assert_int_equal(gw_neigh_learn(t, 0, IP(1), MAC_A, true, 0), 0);
	gw_neigh_table_tick(t, 5, record_probe, &p);        /* next due: 1000 */
	assert_int_equal(gw_neigh_resolve(t, 0, IP(2), 500), 1);
	gw_neigh_table_tick(t, 510, record_probe, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.ip[0], IP(2));
	/* An answer pushes IP(2) to 1520; IP(1) is still due at 1000. */
	gw_neigh_learn(t, 0, IP(2), MAC_B, false, 520);
	gw_neigh_table_tick(t, 999, record_probe, &p);
	assert_int_equal(p.n, 1);
	gw_neigh_table_tick(t, 1000, record_probe, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.ip[1], IP(1));
	gw_neigh_learn(t, 0, IP(1), MAC_A, false, 1001);
	gw_neigh_table_tick(t, 1519, record_probe, &p);
	assert_int_equal(p.n, 2);
	gw_neigh_table_tick(t, 1520, record_probe, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.ip[2], IP(2));
	gw_neigh_table_free(t);
}

static void
test_table_full(void **state)
{
	/* 3 rounds up to 4 entries. */
	struct gw_neigh_table *t = gw_neigh_table_create(3, &params);
	uint8_t mac[6];

	(void)state;
	for (uint32_t i = 1; i <= 4; i++)
		assert_int_equal(gw_neigh_learn(t, 0, IP(i), MAC_A, true, 0), 0);
	assert_int_equal(gw_neigh_learn(t, 0, IP(5), MAC_A, true, 0), -ENOSPC);
	assert_int_equal(gw_neigh_resolve(t, 0, IP(5), 0), -ENOSPC);
	assert_int_equal(gw_neigh_static_add(t, 0, IP(5), MAC_A), -ENOSPC);
	assert_int_equal(gw_neigh_lookup(t, 0, IP(5), mac), -ENOENT);
	/* Existing entries still update. */
	assert_int_equal(gw_neigh_learn(t, 0, IP(4), MAC_B, false, 1), 0);
	assert_int_equal(gw_neigh_static_add(t, 0, IP(3), MAC_C), 0);
	/* Room again after a removal. */
	assert_int_equal(gw_neigh_delete(t, 0, IP(2)), 0);
	assert_int_equal(gw_neigh_resolve(t, 0, IP(5), 2), 1);
	assert_int_equal(gw_neigh_learn(t, 0, IP(6), MAC_A, true, 0), -ENOSPC);
	for (uint32_t i = 1; i <= 5; i++)
		assert_int_equal(gw_neigh_lookup(t, 0, IP(i), mac),
				 i == 2 ? -ENOENT : i == 5 ? -EAGAIN : 0);
	gw_neigh_table_free(t);
}

/*
 * Capacity 8 gives 16 slots. Three keys share the last slot as home (so
 * their run wraps to slots 0 and 1) and a fourth has slot 0 as home: it
 * lands behind them and must shift back across the wrap when one leaves.
 */
static void
test_collisions_delete_reinsert(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(8, &params);
	uint32_t at15[3], at0[1], a, b, c, d;
	uint8_t mac[6];
	struct view_set s;

	(void)state;
	assert_int_equal(colliding_keys(16, 15, 0, at15, 3, 1000), 3);
	assert_int_equal(colliding_keys(16, 0, 0, at0, 1, 1000), 1);
	a = at15[0];
	b = at15[1];
	c = at15[2];
	d = at0[0];

	assert_int_equal(gw_neigh_learn(t, 0, a, MAC_A, true, 0), 0);
	assert_int_equal(gw_neigh_learn(t, 0, b, MAC_B, true, 0), 0);
	assert_int_equal(gw_neigh_learn(t, 0, c, MAC_C, true, 0), 0);
	assert_int_equal(gw_neigh_static_add(t, 0, d, MAC_A), 0);

	/* Remove the head of the run: b, c, d all shift back one slot. */
	assert_int_equal(gw_neigh_delete(t, 0, a), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, a, mac), -ENOENT);
	assert_int_equal(gw_neigh_lookup(t, 0, b, mac), 0);
	assert_memory_equal(mac, MAC_B, 6);
	assert_int_equal(gw_neigh_lookup(t, 0, c, mac), 0);
	assert_memory_equal(mac, MAC_C, 6);
	assert_int_equal(gw_neigh_lookup(t, 0, d, mac), 0);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(gw_neigh_table_walk(t, collect_view, memset(&s, 0, sizeof(s))), 3);

	/* Remove from the middle, then reinsert both. */
	assert_int_equal(gw_neigh_delete(t, 0, c), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, b, mac), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, d, mac), 0);
	assert_int_equal(gw_neigh_learn(t, 0, c, MAC_C, true, 1), 0);
	assert_int_equal(gw_neigh_learn(t, 0, a, MAC_A, true, 1), 0);
	assert_int_equal(gw_neigh_table_walk(t, collect_view, memset(&s, 0, sizeof(s))), 4);
	assert_int_equal(gw_neigh_lookup(t, 0, a, mac), 0);
	assert_memory_equal(mac, MAC_A, 6);
	assert_int_equal(gw_neigh_lookup(t, 0, c, mac), 0);
	assert_memory_equal(mac, MAC_C, 6);

	/* The tick frees FAILED entries inside a run and keeps the rest. */
	assert_int_equal(gw_neigh_delete(t, 0, b), 0);
	assert_int_equal(gw_neigh_resolve(t, 0, b, 0), 1);
	for (uint64_t now = 10; now <= 30; now += 10)
		gw_neigh_table_tick(t, now, record_probe, &(struct probes){ 0 });
	assert_int_equal(state_of(t, 0, b), GW_NEIGH_FAILED);
	assert_int_equal(gw_neigh_table_tick(t, 130, record_probe,
					     &(struct probes){ 0 }), 1);
	assert_int_equal(gw_neigh_lookup(t, 0, b, mac), -ENOENT);
	assert_int_equal(gw_neigh_lookup(t, 0, a, mac), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, c, mac), 0);
	assert_int_equal(gw_neigh_lookup(t, 0, d, mac), 0);
	gw_neigh_table_free(t);
}

/* A whole run expiring at once, across the end of the array: each removal
 * shifts the next expired entry into the slot just freed. */
static void
test_tick_frees_whole_run(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(8, &params);
	uint32_t k[4];
	uint8_t mac[6];

	(void)state;
	assert_int_equal(colliding_keys(16, 15, 0, k, 4, 1), 4);
	assert_int_equal(gw_neigh_learn(t, 0, k[3], MAC_A, true, 0), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gw_neigh_resolve(t, 0, k[i], 0), 1);
	for (uint64_t now = 10; now <= 30; now += 10)
		gw_neigh_table_tick(t, now, record_probe, &(struct probes){ 0 });
	assert_int_equal(gw_neigh_table_tick(t, 130, record_probe,
					     &(struct probes){ 0 }), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(gw_neigh_lookup(t, 0, k[i], mac), -ENOENT);
	assert_int_equal(gw_neigh_lookup(t, 0, k[3], mac), 0);
	assert_memory_equal(mac, MAC_A, 6);
	gw_neigh_table_free(t);
}

/* Random inserts and removals in a small table against a plain model. */
static void
test_random_against_model(void **state)
{
	enum { KEYS = 40 };
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	bool present[KEYS] = { false };
	unsigned int count = 0;
	uint32_t rnd = 12345;

	(void)state;
	for (int op = 0; op < 20000; op++) {
		uint32_t k;
		uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };

		rnd = rnd * 1103515245 + 12345;
		k = (rnd >> 8) % KEYS;
		mac[5] = (uint8_t)k;
		if (present[k]) {
			assert_int_equal(gw_neigh_delete(t, (uint16_t)(k & 1), IP(k)), 0);
			present[k] = false;
			count--;
		} else {
			int rc = gw_neigh_learn(t, (uint16_t)(k & 1), IP(k), mac,
						true, 0);

			if (count == 16) {
				assert_int_equal(rc, -ENOSPC);
			} else {
				assert_int_equal(rc, 0);
				present[k] = true;
				count++;
			}
		}
		for (uint32_t j = 0; j < KEYS; j++) {
			int rc = gw_neigh_lookup(t, (uint16_t)(j & 1), IP(j), mac);

			assert_int_equal(rc, present[j] ? 0 : -ENOENT);
			if (rc == 0)
				assert_int_equal(mac[5], j);
		}
	}
	gw_neigh_table_free(t);
}

static void
test_walk_and_names(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	struct view_set s = { 0 };
	const struct gw_neigh_entry_view *v;

	(void)state;
	assert_int_equal(gw_neigh_table_walk(t, collect_view, &s), 0);
	gw_neigh_learn(t, 1, IP(1), MAC_A, true, 11);
	gw_neigh_static_add(t, 2, IP(2), MAC_B);
	gw_neigh_resolve(t, 3, IP(3), 12);
	assert_int_equal(gw_neigh_table_walk(t, collect_view, &s), 3);
	v = view_of(t, &s, 1, IP(1));
	assert_int_equal(v->state, GW_NEIGH_REACHABLE);
	assert_memory_equal(v->mac, MAC_A, 6);
	assert_int_equal(v->updated, 11);
	v = view_of(t, &s, 2, IP(2));
	assert_int_equal(v->state, GW_NEIGH_PERMANENT);
	assert_memory_equal(v->mac, MAC_B, 6);
	v = view_of(t, &s, 3, IP(3));
	assert_int_equal(v->state, GW_NEIGH_INCOMPLETE);

	assert_string_equal(gw_neigh_state_name(GW_NEIGH_FREE), "FREE");
	assert_string_equal(gw_neigh_state_name(GW_NEIGH_INCOMPLETE), "INCOMPLETE");
	assert_string_equal(gw_neigh_state_name(GW_NEIGH_REACHABLE), "REACHABLE");
	assert_string_equal(gw_neigh_state_name(GW_NEIGH_STALE), "STALE");
	assert_string_equal(gw_neigh_state_name(GW_NEIGH_FAILED), "FAILED");
	assert_string_equal(gw_neigh_state_name(GW_NEIGH_PERMANENT), "PERMANENT");
	assert_string_equal(gw_neigh_state_name((enum gw_neigh_state)99), "UNKNOWN");
	gw_neigh_table_free(t);
}

/* ---- pending queue ---- */

struct released {
	unsigned int n_sent, n_dropped;
	int sent[32];
	uint16_t sent_port[32];
	uint8_t sent_mac[32][6];
	int dropped[32];
};

static void
on_send(void *arg, void *pkt, uint16_t port, const uint8_t mac[6])
{
	struct released *r = arg;

	r->sent[r->n_sent] = *(int *)pkt;
	r->sent_port[r->n_sent] = port;
	memcpy(r->sent_mac[r->n_sent], mac, 6);
	r->n_sent++;
}

static void
on_drop(void *arg, void *pkt)
{
	struct released *r = arg;

	r->dropped[r->n_dropped++] = *(int *)pkt;
}

static void
test_pending(void **state)
{
	struct gw_neigh_table *t = gw_neigh_table_create(16, &params);
	struct gw_neigh_pending *q = gw_neigh_pending_create(6);
	int pkt[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct released r = { 0 };

	(void)state;
	assert_non_null(q);
	assert_int_equal(gw_neigh_pending_count(q), 0);
	/* Next hops: 1 resolves later, 2 fails, 3 (on port 1) is unknown. */
	gw_neigh_resolve(t, 0, IP(1), 0);
	gw_neigh_resolve(t, 0, IP(2), 0);
	assert_int_equal(gw_neigh_pending_add(q, 0, IP(1), &pkt[0], 0), 0);
	assert_int_equal(gw_neigh_pending_add(q, 1, IP(3), &pkt[1], 0), 0);
	assert_int_equal(gw_neigh_pending_add(q, 0, IP(2), &pkt[2], 0), 0);
	assert_int_equal(gw_neigh_pending_add(q, 0, IP(1), &pkt[3], 1), 0);
	assert_int_equal(gw_neigh_pending_add(q, 1, IP(3), &pkt[4], 40), 0);
	assert_int_equal(gw_neigh_pending_add(q, 0, IP(1), &pkt[5], 2), 0);
	assert_int_equal(gw_neigh_pending_add(q, 0, IP(1), &pkt[6], 2), -ENOSPC);
	assert_int_equal(gw_neigh_pending_count(q), 6);

	/* Nothing resolved yet, nothing timed out: all kept. */
	assert_int_equal(gw_neigh_pending_flush(q, t, 40, 50, on_send, on_drop, &r), 0);
	assert_int_equal(gw_neigh_pending_count(q), 6);

	/* IP(1) answers, IP(2) fails; at t=45 packet 1 (added at 0) times out. */
	gw_neigh_learn(t, 0, IP(1), MAC_A, false, 6);
	gw_neigh_table_tick(t, 10, record_probe, &(struct probes){ 0 });
	gw_neigh_table_tick(t, 20, record_probe, &(struct probes){ 0 });
	gw_neigh_table_tick(t, 30, record_probe, &(struct probes){ 0 });
	assert_int_equal(gw_neigh_lookup(t, 0, IP(2), (uint8_t[6]){ 0 }),
			 -EHOSTUNREACH);
	assert_int_equal(gw_neigh_pending_flush(q, t, 50, 50, on_send, on_drop, &r), 5);
	assert_int_equal(r.n_sent, 3);
	assert_int_equal(r.sent[0], 0);
	assert_int_equal(r.sent[1], 3);
	assert_int_equal(r.sent[2], 5);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(r.sent_port[i], 0);
		assert_memory_equal(r.sent_mac[i], MAC_A, 6);
	}
	assert_int_equal(r.n_dropped, 2);
	assert_int_equal(r.dropped[0], 1); /* timed out */
	assert_int_equal(r.dropped[1], 2); /* FAILED */
	assert_int_equal(gw_neigh_pending_count(q), 1);

	/* The kept packet stays first, new ones follow. */
	for (int i = 6; i < 10; i++)
		assert_int_equal(gw_neigh_pending_add(q, 1, IP(3), &pkt[i], 60), 0);
	assert_int_equal(gw_neigh_pending_add(q, 0, IP(1), &pkt[7], 60), 0);
	assert_int_equal(gw_neigh_pending_add(q, 0, IP(1), &pkt[7], 60), -ENOSPC);
	gw_neigh_learn(t, 1, IP(3), MAC_C, true, 61);
	memset(&r, 0, sizeof(r));
	assert_int_equal(gw_neigh_pending_flush(q, t, 62, 50, on_send, on_drop, &r), 6);
	assert_int_equal(r.n_dropped, 0);
	assert_int_equal(r.n_sent, 6);
	assert_int_equal(r.sent[0], 4);
	for (int i = 1; i < 5; i++) {
		assert_int_equal(r.sent[i], i + 5);
		assert_int_equal(r.sent_port[i], 1);
		assert_memory_equal(r.sent_mac[i], MAC_C, 6);
	}
	assert_int_equal(r.sent[5], 7);
	assert_memory_equal(r.sent_mac[5], MAC_A, 6);
	assert_int_equal(gw_neigh_pending_count(q), 0);

	/* Shutdown: timeout 0 releases everything. */
	gw_neigh_pending_add(q, 0, IP(99), &pkt[0], 100);
	gw_neigh_pending_add(q, 0, IP(1), &pkt[1], 100);
	memset(&r, 0, sizeof(r));
	assert_int_equal(gw_neigh_pending_flush(q, t, UINT64_MAX, 0, on_send,
						on_drop, &r), 2);
	assert_int_equal(r.n_dropped, 1);
	assert_int_equal(r.n_sent, 1);
	assert_int_equal(gw_neigh_pending_count(q), 0);
	gw_neigh_pending_free(q);
	gw_neigh_table_free(t);
}

/* ---- readers racing the writer ---- */

struct race {
	struct gw_neigh_table *t;
	uint32_t key;            /* the entry readers look up */
	uint32_t mover;          /* 0, or a key ahead of it in its run */
	int stop;
	unsigned long lookups, found, missed, busy, seen_a, seen_b, torn, bad_rc;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The writer stores MAC_A with odd ticks and MAC_B with even ones: a walk's
 * copy pairs them right only if the fields come from one write. */
static void
race_walk_check(void *arg, const struct gw_neigh_entry_view *e)
{
	struct race *r = arg;

	if (e->ip != r->key || e->updated == 0)
		return;
	if (memcmp(e->mac, (e->updated & 1) ? MAC_A : MAC_B, 6) != 0)
		r->torn++;
}

static void *
race_reader(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		uint8_t mac[6];
		int rc = gw_neigh_lookup(r->t, 0, r->key, mac);

		if ((r->lookups & 15) == 0)
			gw_neigh_table_walk(r->t, race_walk_check, r);
		r->lookups++;
		if (rc == 0) {
			r->found++;
			if (memcmp(mac, MAC_A, 6) == 0)
				r->seen_a++;
			else if (memcmp(mac, MAC_B, 6) == 0)
				r->seen_b++;
			else
				r->torn++;
		} else if (rc == -ENOENT) {
			r->missed++;
		} else if (rc == -EAGAIN) {
			r->busy++;
		} else {
			r->bad_rc++;
		}
	}
	return NULL;
}

static void
race_run(struct race *r)
{
	pthread_t reader;
	uint64_t end = now_ns() + 200 * 1000 * 1000;
	uint64_t tick = 1;

	assert_int_equal(pthread_create(&reader, NULL, race_reader, r), 0);
	while (now_ns() < end) {
		for (int i = 0; i < 1000; i++, tick++) {
			if (r->mover != 0) {
				/* Removing the key ahead shifts ours back;
				 * re-adding puts it at the end of the run. */
				gw_neigh_delete(r->t, 0, r->mover);
				gw_neigh_learn(r->t, 0, r->mover, MAC_C, true, tick);
			}
			gw_neigh_learn(r->t, 0, r->key, (tick & 1) ? MAC_A : MAC_B,
				       false, tick);
		}
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_join(reader, NULL);
	print_message("%lu lookups: %lu found (%lu A, %lu B), %lu missed, "
		      "%lu busy\n", r->lookups, r->found, r->seen_a, r->seen_b,
		      r->missed, r->busy);
	assert_int_equal(r->torn, 0);
	assert_int_equal(r->bad_rc, 0);
	assert_true(r->found > 0);
}

static void
test_concurrent_mac_flip(void **state)
{
	struct race r = { .key = IP(77) };

	(void)state;
	r.t = gw_neigh_table_create(64, &params);
	assert_int_equal(gw_neigh_learn(r.t, 0, r.key, MAC_A, true, 0), 0);
	race_run(&r);
	/* The entry never moves: every lookup finds it. */
	assert_int_equal(r.missed, 0);
	gw_neigh_table_free(r.t);
}

static void
test_concurrent_shifting(void **state)
{
	struct race r = { 0 };
	uint32_t keys[2];

	(void)state;
	r.t = gw_neigh_table_create(64, &params);
	colliding_keys(128, 5, 0, keys, 2, 1);
	r.mover = keys[0];
	r.key = keys[1];
	assert_int_equal(gw_neigh_learn(r.t, 0, r.mover, MAC_C, true, 0), 0);
	assert_int_equal(gw_neigh_learn(r.t, 0, r.key, MAC_A, true, 0), 0);
	race_run(&r);
	gw_neigh_table_free(r.t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_learn_lookup),
		cmocka_unit_test(test_static_entries),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_incomplete_to_failed_to_freed),
		cmocka_unit_test(test_reachable_stale_reachable),
		cmocka_unit_test(test_tick_deadlines),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_collisions_delete_reinsert),
		cmocka_unit_test(test_tick_frees_whole_run),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_walk_and_names),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_concurrent_mac_flip),
		cmocka_unit_test(test_concurrent_shifting),
	};

	return cmocka_run_group_tests_name("neigh", tests, NULL, NULL);
}
