/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiled Hyperscan databases shared between match sets.
 *
 * An apply rebuilds every match set of the snapshot, and compiling the regex
 * databases is nearly all of its time (hs_compile_multi: about 3 s for
 * 10,000 mixed routes). Most applies change a destination or a weight, not
 * the patterns, so a set whose field compiles exactly the same patterns
 * (expressions, flags and atom ids, in order) as a set still alive reuses
 * that database. A database is immutable once compiled, so several snapshots
 * (the running one and the one being published) can scan it at once; each
 * set keeps its own scratch. Entries are counted references, freed with the
 * last set that uses them.
 *
 * Only the control thread builds and frees sets; the mutex is for tests and
 * tools that build from several threads. The fast path never comes here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "match_private.h"

struct db_entry {
	struct db_entry *next;
	uint64_t digest;
	size_t key_len;
	hs_database_t *db;
	uint32_t refs;
	unsigned char key[]; /* the compile inputs, compared exactly */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db_entry *cache_head;
static struct gw_match_db_cache_stats cache_stats;

/* The compile inputs as one byte string: per pattern flags, id, length,
 * expression. NULL when out of memory. */
static unsigned char *
key_make(const char *const *exprs, const unsigned int *flags,
	 const unsigned int *ids, uint32_t n, size_t *len)
{
	size_t total = 0, off = 0;
	unsigned char *k;
	uint32_t i;

	for (i = 0; i < n; i++)
		total += 3 * sizeof(uint32_t) + strlen(exprs[i]);
	k = malloc(total ? total : 1);
	if (k == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		uint32_t head[3] = {flags[i], ids[i], (uint32_t)strlen(exprs[i])};

		memcpy(k + off, head, sizeof(head));
		off += sizeof(head);
		memcpy(k + off, exprs[i], head[2]);
		off += head[2];
	}
	*len = total;
	return k;
}

hs_error_t
match_db_get(const char *const *exprs, const unsigned int *flags,
	     const unsigned int *ids, uint32_t n, hs_database_t **db,
	     hs_compile_error_t **cerr)
{
	struct db_entry *e;
	unsigned char *key;
	size_t key_len = 0;
	uint64_t digest;
	hs_error_t hrc;

	*db = NULL;
	*cerr = NULL;
	key = key_make(exprs, flags, ids, n, &key_len);
	if (key == NULL)
		return HS_NOMEM;
	/* a filter before the exact comparison */
	digest = match_hash((const char *)key, (uint32_t)key_len, 0);
	pthread_mutex_lock(&cache_lock);
	for (e = cache_head; e != NULL; e = e->next)
		if (e->digest == digest && e->key_len == key_len &&
		    memcmp(e->key, key, key_len) == 0) {
			e->refs++;
			cache_stats.hits++;
			*db = e->db;
			pthread_mutex_unlock(&cache_lock);
			free(key);
			return HS_SUCCESS;
		}
	pthread_mutex_unlock(&cache_lock);

	/* compile outside the lock: it is the long part */
	hrc = hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, db, cerr);
	if (hrc != HS_SUCCESS) {
		free(key);
		return hrc;
	}
	e = malloc(sizeof(*e) + key_len);
	pthread_mutex_lock(&cache_lock);
	cache_stats.misses++;
	if (e != NULL) {
		/* not shared if out of memory: match_db_put frees it alone */
		e->digest = digest;
		e->key_len = key_len;
		e->db = *db;
		e->refs = 1;
		memcpy(e->key, key, key_len);
		e->next = cache_head;
		cache_head = e;
		cache_stats.entries++;
	}
	pthread_mutex_unlock(&cache_lock);
	free(key);
	return HS_SUCCESS;
}

void
match_db_put(hs_database_t *db)
{
	struct db_entry **pp, *e;

	if (db == NULL)
		return;
	pthread_mutex_lock(&cache_lock);
	for (pp = &cache_head; (e = *pp) != NULL; pp = &e->next)
		if (e->db == db)
			break;
	if (e != NULL && --e->refs > 0) {
		pthread_mutex_unlock(&cache_lock);
		return;
	}
	if (e != NULL) {
		*pp = e->next;
		cache_stats.entries--;
		free(e);
	}
	pthread_mutex_unlock(&cache_lock);
	hs_free_database(db);
}

void
gw_match_db_cache_stats(struct gw_match_db_cache_stats *out)
{
	pthread_mutex_lock(&cache_lock);
	*out = cache_stats;
	pthread_mutex_unlock(&cache_lock);
}
