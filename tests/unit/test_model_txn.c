/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store transactions (gw_model_txn.h): whatever a transaction applied or
 * deleted, a rollback leaves the store exactly as it was (the same
 * resource objects, not copies), and a commit keeps the changes.
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
#include "gw_model_txn.h"

#define VS(name, host, subset) \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: VirtualService\n" \
	"metadata: {name: " name "}\n" \
	"spec:\n" \
	"  hosts: [" host "]\n" \
	"  http:\n" \
	"  - route:\n" \
	"    - destination: {host: " host ", subset: " subset "}\n"

#define DR(name, ns, host, subset) \
	"apiVersion: networking.istio.io/v1\n" \
	"kind: DestinationRule\n" \
	"metadata: {name: " name ", namespace: " ns "}\n" \
	"spec:\n" \
	"  host: " host "\n" \
	"  subsets:\n" \
	"  - {name: " subset ", labels: {version: " subset "}}\n"

static struct gw_model_set *
load(const char *yaml)
{
	struct gw_model_set *set = gw_model_set_create();
	char err[512] = "";

	if (gw_model_set_load_buffer(set, yaml, strlen(yaml), "t.yaml", err,
				     sizeof(err)) < 0)
		fail_msg("load: %s", err);
	return set;
}

static void
apply(struct gw_model_store *store, const char *yaml)
{
	struct gw_model_set *set = load(yaml);
	char err[512] = "";

	if (gw_model_store_apply(store, set, err, sizeof(err)) < 0)
		fail_msg("apply: %s", err);
	gw_model_set_free(set);
}

/* Every resource of the store, by identity and object. */
struct picture {
	uint32_t n;
	const struct gw_model_resource *items[32];
};

static struct picture
picture(const struct gw_model_store *store)
{
	struct picture p = { .n = gw_model_store_count(store, GW_MODEL_KIND_COUNT) };

	assert_true(p.n <= 32);
	for (uint32_t i = 0; i < p.n; i++)
		p.items[i] = gw_model_store_at(store, GW_MODEL_KIND_COUNT, i);
	return p;
}

static void
assert_same(const struct picture *a, const struct picture *b)
{
	assert_int_equal(a->n, b->n);
	for (uint32_t i = 0; i < a->n; i++)
		assert_ptr_equal(a->items[i], b->items[i]);
}

static struct gw_model_store *
base_store(void)
{
	struct gw_model_store *store = gw_model_store_create();

	apply(store, VS("a", "svc", "v1") "---\n" DR("d", "default", "svc", "v1")
		     "---\n" VS("keep", "other", "x"));
	return store;
}

static void
test_apply_rollback(void **state)
{
	struct gw_model_store *store = base_store();
	struct picture before = picture(store), after;
	struct gw_model_store_txn *txn;
	struct gw_model_set *set;
	char err[512];

	(void)state;
	txn = gw_model_store_txn_begin(store);
	assert_non_null(txn);
	/* Replace a and d (subset v1 -> v2 together), add b and e. */
	set = load(VS("a", "svc", "v2") "---\n" DR("d", "default", "svc", "v2")
		   "---\n" VS("b", "svc", "v2") "---\n"
		   DR("e", "other-ns", "x", "v9"));
	assert_int_equal(gw_model_store_txn_apply(txn, set, err, sizeof(err)), 4);
	assert_int_equal(gw_model_store_count(store, GW_MODEL_KIND_COUNT), 5);
	assert_int_equal(gw_model_store_txn_size(txn), 4);
	/* A second change to the same identity inside the transaction. */
	assert_int_equal(gw_model_store_txn_delete(txn,
			 GW_MODEL_KIND_VIRTUAL_SERVICE, NULL, "a"), 0);
	assert_int_equal(gw_model_store_txn_size(txn), 4);
	assert_int_equal(gw_model_store_txn_rollback(txn, err, sizeof(err)), 0);
	gw_model_set_free(set);
	after = picture(store);
	assert_same(&before, &after);
	assert_null(gw_model_store_get(store, GW_MODEL_KIND_VIRTUAL_SERVICE,
				       NULL, "b"));
	assert_string_equal(gw_model_store_get(store,
			    GW_MODEL_KIND_VIRTUAL_SERVICE, NULL, "a")
			    ->spec.vs->http[0].route[0].destination.subset, "v1");
	gw_model_store_free(store);
}

static void
test_delete_rollback(void **state)
{
	struct gw_model_store *store = base_store();
	struct picture before = picture(store), after;
	struct gw_model_store_txn *txn = gw_model_store_txn_begin(store);
	struct gw_model_set *set = load(VS("a", "svc", "v1") "---\n"
					VS("nosuch", "svc", "v1"));
	char err[512];

	(void)state;
	assert_int_equal(gw_model_store_txn_delete(txn,
			 GW_MODEL_KIND_VIRTUAL_SERVICE, NULL, "keep"), 0);
	assert_int_equal(gw_model_store_txn_delete(txn,
			 GW_MODEL_KIND_GATEWAY, NULL, "none"), -ENOENT);
	assert_int_equal(gw_model_store_txn_delete_set(txn, set), 1);
	assert_int_equal(gw_model_set_action(set, 0), GW_MODEL_ACTION_DELETED);
	assert_int_equal(gw_model_set_action(set, 1), GW_MODEL_ACTION_NOT_FOUND);
	assert_int_equal(gw_model_store_count(store, GW_MODEL_KIND_COUNT), 1);
	assert_int_equal(gw_model_store_txn_rollback(txn, err, sizeof(err)), 0);
	after = picture(store);
	assert_same(&before, &after);
	gw_model_set_free(set);
	gw_model_store_free(store);
}

static void
test_commit(void **state)
{
	struct gw_model_store *store = base_store();
	struct gw_model_store_txn *txn = gw_model_store_txn_begin(store);
	struct gw_model_set *set = load(VS("b", "svc", "v1"));
	char err[512];

	(void)state;
	assert_int_equal(gw_model_store_txn_apply(txn, set, err, sizeof(err)), 1);
	assert_int_equal(gw_model_store_txn_delete(txn,
			 GW_MODEL_KIND_VIRTUAL_SERVICE, NULL, "keep"), 0);
	gw_model_store_txn_commit(txn);
	gw_model_set_free(set);
	assert_non_null(gw_model_store_get(store, GW_MODEL_KIND_VIRTUAL_SERVICE,
					   NULL, "b"));
	assert_null(gw_model_store_get(store, GW_MODEL_KIND_VIRTUAL_SERVICE,
				       NULL, "keep"));
	gw_model_store_txn_commit(NULL);
	assert_int_equal(gw_model_store_txn_rollback(NULL, NULL, 0), 0);
	gw_model_store_free(store);
}

/* An apply the model refuses changes nothing, in or out of a transaction. */
static void
test_rejected_apply(void **state)
{
	struct gw_model_store *store = base_store();
	struct picture before = picture(store), after;
	struct gw_model_store_txn *txn = gw_model_store_txn_begin(store);
	struct gw_model_set *set = load(VS("c", "svc", "nosuchsubset"));
	char err[512] = "";

	(void)state;
	assert_int_equal(gw_model_store_txn_apply(txn, set, err, sizeof(err)),
			 -GW_ECONFIG);
	assert_non_null(strstr(err, "unknown subset \"nosuchsubset\""));
	after = picture(store);
	assert_same(&before, &after);
	assert_int_equal(gw_model_store_txn_rollback(txn, err, sizeof(err)), 0);
	after = picture(store);
	assert_same(&before, &after);
	gw_model_set_free(set);
	gw_model_store_free(store);
}

/*
 * A delete can leave routes naming a subset that no DestinationRule for
 * the host defines any more: the check says so, and the rollback undoes it.
 */
static void
test_check_after_delete(void **state)
{
	struct gw_model_store *store = base_store();
	struct picture before, after;
	struct gw_model_store_txn *txn;
	char err[512] = "";

	(void)state;
	/* A second DestinationRule for svc, in another namespace. */
	apply(store, DR("d2", "ns2", "svc.default.svc.cluster.local", "v7"));
	before = picture(store);
	txn = gw_model_store_txn_begin(store);
	assert_int_equal(gw_model_store_txn_check(txn, err, sizeof(err)), 0);
	assert_int_equal(gw_model_store_txn_delete(txn,
			 GW_MODEL_KIND_DESTINATION_RULE, "default", "d"), 0);
	assert_int_equal(gw_model_store_txn_check(txn, err, sizeof(err)),
			 -GW_ECONFIG);
	assert_non_null(strstr(err, "unknown subset \"v1\""));
	assert_int_equal(gw_model_store_txn_rollback(txn, err, sizeof(err)), 0);
	after = picture(store);
	assert_same(&before, &after);

	/* Deleting the only DestinationRule of a host is fine (no subsets). */
	gw_model_store_free(store);
	store = base_store();
	txn = gw_model_store_txn_begin(store);
	assert_int_equal(gw_model_store_txn_delete(txn,
			 GW_MODEL_KIND_DESTINATION_RULE, NULL, "d"), 0);
	assert_int_equal(gw_model_store_txn_check(txn, err, sizeof(err)), 0);
	gw_model_store_txn_commit(txn);
	gw_model_store_free(store);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_rollback),
		cmocka_unit_test(test_delete_rollback),
		cmocka_unit_test(test_commit),
		cmocka_unit_test(test_rejected_apply),
		cmocka_unit_test(test_check_after_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
