/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the Istio traffic model loader.
 *
 * Besides crashes, leaks and sanitizer reports, it checks the loader's
 * contract: a failed load leaves the set empty and says where
 * ("fuzz.yaml:LINE:COL: ..."); a successful one serialises to YAML and
 * JSON that load back into the same documents, and applying the set to a
 * store and deleting it again leaves the store empty.
 *
 *   ./fuzz_model tests/fuzz/corpus/model
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.yaml"

/* Serialise, reload, serialise again: the two texts must be equal. */
static void
check_round_trip(const struct gw_model_resource *res)
{
	int (*emit[2])(const struct gw_model_resource *, char **, size_t *) = {
		gw_model_resource_to_yaml, gw_model_resource_to_json,
	};

	for (int i = 0; i < 2; i++) {
		struct gw_model_set *set = gw_model_set_create();
		char err[GW_ERR_LEN], *a, *b;
		size_t la, lb;

		if (set == NULL || emit[i](res, &a, &la) != 0)
			abort();
		if (gw_model_set_load_buffer(set, a, la, "rt", err,
					     sizeof(err)) != 1)
			abort();
		if (emit[i](gw_model_set_at(set, 0), &b, &lb) != 0)
			abort();
		if (la != lb || memcmp(a, b, la) != 0)
			abort();
		free(a);
		free(b);
		gw_model_set_free(set);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_model_set *set = gw_model_set_create();
	struct gw_model_store *store = gw_model_store_create();
	char err[GW_ERR_LEN];
	int rc;

	if (set == NULL || store == NULL)
		abort();
	rc = gw_model_set_load_buffer(set, (const char *)data, size, NAME,
				      err, sizeof(err));
	if (rc < 0) {
		if (gw_model_set_count(set) != 0 ||
		    strncmp(err, NAME ":", strlen(NAME ":")) != 0)
			abort();
		goto out;
	}
	if ((uint32_t)rc != gw_model_set_count(set))
		abort();
	for (uint32_t i = 0; i < gw_model_set_count(set); i++)
		check_round_trip(gw_model_set_at(set, i));
	rc = gw_model_store_apply(store, set, err, sizeof(err));
	if (rc < 0) {
		if (gw_model_store_count(store, GW_MODEL_KIND_COUNT) != 0)
			abort();
		goto out;
	}
	gw_model_store_delete_set(store, set);
	if (gw_model_store_count(store, GW_MODEL_KIND_COUNT) != 0)
		abort();
out:
	gw_model_set_free(set);
	gw_model_store_free(store);
	return 0;
}
