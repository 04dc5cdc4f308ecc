/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store transactions (gw_model_txn.h): a journal of the versions a change
 * replaced or removed, built only from the store's public operations, so
 * that the store itself needs no undo logic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_model_txn.h"
#include "model_private.h"

/* What the store held for one identity before the transaction touched it. */
struct txn_entry {
	enum gw_model_kind kind;
	char *namespace;
	char *name;
	struct gw_model_resource *before;   /* a reference, NULL if absent */
};

struct gw_model_store_txn {
	struct gw_model_store *store;
	struct txn_entry *entries;
	uint32_t n;
	uint32_t cap;
};

struct gw_model_store_txn *
gw_model_store_txn_begin(struct gw_model_store *store)
{
	struct gw_model_store_txn *txn;

	if (store == NULL)
		return NULL;
	txn = calloc(1, sizeof(*txn));
	if (txn != NULL)
		txn->store = store;
	return txn;
}

static bool
txn_has(const struct gw_model_store_txn *txn, enum gw_model_kind kind,
	const char *ns, const char *name)
{
	for (uint32_t i = 0; i < txn->n; i++)
		if (txn->entries[i].kind == kind &&
		    strcmp(txn->entries[i].namespace, ns) == 0 &&
		    strcmp(txn->entries[i].name, name) == 0)
			return true;
	return false;
}

/* Journal an identity once, before its first change. 0 or -ENOMEM. */
static int
txn_record(struct gw_model_store_txn *txn, enum gw_model_kind kind,
	   const char *ns, const char *name)
{
	const struct gw_model_resource *cur;
	struct txn_entry *e;

	if (ns == NULL)
		ns = GW_MODEL_DEFAULT_NAMESPACE;
	if (txn_has(txn, kind, ns, name))
		return 0;
	if (txn->n == txn->cap) {
		uint32_t cap = txn->cap ? txn->cap * 2 : 16;

		e = realloc(txn->entries, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		txn->entries = e;
		txn->cap = cap;
	}
	e = &txn->entries[txn->n];
	e->kind = kind;
	e->namespace = strdup(ns);
	e->name = strdup(name);
	if (e->namespace == NULL || e->name == NULL) {
		free(e->namespace);
		free(e->name);
		return -ENOMEM;
	}
	cur = gw_model_store_get(txn->store, kind, ns, name);
	e->before = (struct gw_model_resource *)(uintptr_t)cur;
	if (e->before != NULL)
		model_resource_get(e->before);
	txn->n++;
	return 0;
}

static int
txn_record_set(struct gw_model_store_txn *txn, const struct gw_model_set *set)
{
	for (uint32_t i = 0; i < gw_model_set_count(set); i++) {
		const struct gw_model_resource *r = gw_model_set_at(set, i);

		if (txn_record(txn, r->kind, r->meta.namespace,
			       r->meta.name) < 0)
			return -ENOMEM;
	}
	return 0;
}

int
gw_model_store_txn_apply(struct gw_model_store_txn *txn,
			 struct gw_model_set *set, char *err, size_t errlen)
{
	if (txn_record_set(txn, set) < 0) {
		gw_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return gw_model_store_apply(txn->store, set, err, errlen);
}

int
gw_model_store_txn_delete(struct gw_model_store_txn *txn,
			  enum gw_model_kind kind, const char *namespace,
			  const char *name)
{
	if ((unsigned int)kind >= GW_MODEL_KIND_COUNT || name == NULL)
		return -EINVAL;
	if (txn_record(txn, kind, namespace, name) < 0)
		return -ENOMEM;
	return gw_model_store_delete(txn->store, kind, namespace, name);
}

int
gw_model_store_txn_delete_set(struct gw_model_store_txn *txn,
			      struct gw_model_set *set)
{
	if (txn_record_set(txn, set) < 0)
		return -ENOMEM;
	return gw_model_store_delete_set(txn->store, set);
}

int
gw_model_store_txn_check(struct gw_model_store_txn *txn, char *err,
			 size_t errlen)
{
	struct gw_model_set *empty = gw_model_set_create();
	int rc;

	if (empty == NULL) {
		gw_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = gw_model_set_validate(empty, txn->store, err, errlen);
	gw_model_set_free(empty);
	return rc;
}

unsigned int
gw_model_store_txn_size(const struct gw_model_store_txn *txn)
{
	return txn != NULL ? txn->n : 0;
}

static void
txn_free(struct gw_model_store_txn *txn)
{
	for (uint32_t i = 0; i < txn->n; i++) {
		free(txn->entries[i].namespace);
		free(txn->entries[i].name);
		if (txn->entries[i].before != NULL)
			model_resource_put(txn->entries[i].before);
	}
	free(txn->entries);
	free(txn);
}

void
gw_model_store_txn_commit(struct gw_model_store_txn *txn)
{
	if (txn != NULL)
		txn_free(txn);
}

int
gw_model_store_txn_rollback(struct gw_model_store_txn *txn, char *err,
			    size_t errlen)
{
	struct gw_model_set *set;
	int rc = 0;

	if (txn == NULL)
		return 0;
	/*
	 * Remove every touched identity, then put the earlier versions back
	 * in one apply: the result is the store as it was, which the apply's
	 * checks accept, and no step needs more room than the store had.
	 */
	for (uint32_t i = 0; i < txn->n; i++)
		gw_model_store_delete(txn->store, txn->entries[i].kind,
				      txn->entries[i].namespace,
				      txn->entries[i].name);
	set = gw_model_set_create();
	if (set == NULL) {
		rc = gw_err(err, errlen, "rollback: out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < txn->n; i++) {
		struct gw_model_resource *before = txn->entries[i].before;

		if (before == NULL)
			continue;
		model_resource_get(before);
		if (model_set_push(set, before) < 0) {
			model_resource_put(before);
			rc = gw_err(err, errlen, "rollback: out of memory");
			goto out;
		}
	}
	if (gw_model_set_count(set) > 0 &&
	    gw_model_store_apply(txn->store, set, err, errlen) < 0)
		rc = -GW_ECONFIG;
out:
	gw_model_set_free(set);
	txn_free(txn);
	return rc;
}
