/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_MODEL_TXN_H
#define GW_MODEL_TXN_H

/**
 * @file
 * Transactions on the store: apply and delete as usual, then either keep
 * the result (commit) or put the store back exactly as it was (rollback).
 *
 * Why: an apply is all-or-nothing against the model's checks, but what
 * follows it can still fail (the routing snapshot does not compile, the
 * saved state cannot be written); the operator must then find the running
 * configuration unchanged. The transaction journals, per resource it
 * touches, the version the store held before (a reference), so a rollback
 * costs the size of the change, not of the store.
 *
 * A rollback re-applies the journalled versions, which the model validates
 * again: it succeeds whenever the store was consistent before the
 * transaction, which holds when every change goes through
 * gw_model_store_apply() or a delete checked by
 * gw_model_store_txn_check().
 *
 * Control thread only, like the store. One transaction per store at a time.
 */

#include <stddef.h>

#include "gw_model.h"

struct gw_model_store_txn;

/** Start a transaction on @p store. NULL when out of memory. */
struct gw_model_store_txn *gw_model_store_txn_begin(struct gw_model_store *store);

/** gw_model_store_apply() within the transaction; same contract. */
int gw_model_store_txn_apply(struct gw_model_store_txn *txn,
			     struct gw_model_set *set, char *err, size_t errlen);

/** gw_model_store_delete() within the transaction; -ENOMEM besides. */
int gw_model_store_txn_delete(struct gw_model_store_txn *txn,
			      enum gw_model_kind kind, const char *namespace,
			      const char *name);

/** gw_model_store_delete_set() within the transaction; -ENOMEM besides. */
int gw_model_store_txn_delete_set(struct gw_model_store_txn *txn,
				  struct gw_model_set *set);

/**
 * Check the store as the transaction left it, as an apply would
 * (gw_model_set_validate() with an empty set): after deletes, routes
 * that name a subset no DestinationRule defines any more.
 * @return 0, or -GW_ECONFIG with the messages in @p err.
 */
int gw_model_store_txn_check(struct gw_model_store_txn *txn, char *err,
			     size_t errlen);

/** Number of resources the transaction touched so far. */
unsigned int gw_model_store_txn_size(const struct gw_model_store_txn *txn);

/** Keep the changes and free the transaction. NULL-safe. */
void gw_model_store_txn_commit(struct gw_model_store_txn *txn);

/**
 * Undo every change and free the transaction (NULL-safe).
 * @return 0, or a negative code with @p err set when the earlier state
 *         could not be restored (store inconsistent before the
 *         transaction, out of memory): the store then holds the
 *         transaction's changes minus what could be undone.
 */
int gw_model_store_txn_rollback(struct gw_model_store_txn *txn, char *err,
				size_t errlen);

#endif /* GW_MODEL_TXN_H */
