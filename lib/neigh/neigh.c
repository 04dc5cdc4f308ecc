/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Neighbour table and per-worker pending queue.
 *
 * The table is open addressing with linear probing over a power-of-two slot
 * array twice the entry limit, so probe runs stay short and a free slot
 * always ends a run. One writer (the control lcore), lock-free readers.
 *
 * Each slot is a seqlock: the writer makes the sequence odd, stores the
 * fields, makes it even again; a reader copies the fields between two equal
 * even reads of the sequence. Fields are accessed with relaxed atomics, so
 * the copy is race-free in the C11 sense, and the MAC lives in one 64-bit
 * word, so even a torn copy could not mix two MACs.
 *
 * Deletion is backward-shift, not tombstones: entries further along the
 * run move back into the hole, so the table never degrades however many
 * addresses come and go (a scan of spoofed sources creates and expires an
 * entry each). The hole is filled before the slot an entry leaves is
 * reused, so a run never shows a free slot in its middle. The price: a
 * reader that already passed the hole can miss the moved entry and get
 * -ENOENT for one lookup; it never reads a half-written entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_neigh.h"
#include "neigh_hash.h"

#define NEIGH_MAX_CAPACITY (UINT32_C(1) << 24)
/* A writer holds a slot odd for a few stores; past this many tries it was
 * preempted, and the reader gives up rather than spin. */
#define NEIGH_READ_RETRIES 64

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

struct neigh_slot {
	uint32_t seq;       /* odd while the writer changes the slot */
	uint32_t ip;
	uint16_t port;
	uint8_t state;      /* enum gw_neigh_state */
	uint32_t probes;
	uint64_t mac;       /* the 6 bytes in memcpy order, top 2 bytes zero */
	uint64_t updated;
	uint64_t since;     /* writer only: last probe sent, or when FAILED */
};

/* What a reader copies out of a slot. */
struct slot_copy {
	uint32_t ip;
	uint16_t port;
	uint8_t state;
	uint32_t probes;
	uint64_t mac;
	uint64_t updated;
};

struct gw_neigh_table {
	struct neigh_slot *slots;
	uint32_t mask;         /* slot count - 1 */
	uint32_t max_entries;
	uint32_t count;
	/* No entry needs the tick before this: the tick is called on every
	 * control loop iteration and should not scan the table each time. */
	uint64_t next_due;
	struct gw_neigh_params params;
};

static inline uint64_t
mac_pack(const uint8_t mac[6])
{
	uint64_t v = 0;

	memcpy(&v, mac, 6);
	return v;
}

static inline void
mac_unpack(uint64_t v, uint8_t mac[6])
{
	memcpy(mac, &v, 6);
}

/* Ticks from @p then to @p now; a clock read out of order counts as 0. */
static inline uint64_t
elapsed(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static inline uint64_t
add_saturated(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* When the tick next has something to do for @p s. */
static uint64_t
slot_deadline(const struct gw_neigh_table *t, const struct neigh_slot *s)
{
	switch (s->state) {
	case GW_NEIGH_INCOMPLETE:
	case GW_NEIGH_STALE:
		return add_saturated(s->since, t->params.retrans_ticks);
	case GW_NEIGH_REACHABLE:
		return add_saturated(s->updated, t->params.reachable_ticks);
	case GW_NEIGH_FAILED:
		return add_saturated(s->since, t->params.failed_ticks);
	default:
		return UINT64_MAX;
	}
}

static inline void
deadline_note(struct gw_neigh_table *t, const struct neigh_slot *s)
{
	uint64_t d = slot_deadline(t, s);

	if (d < t->next_due)
		t->next_due = d;
}

static inline uint32_t
home_slot(const struct gw_neigh_table *t, uint16_t port, uint32_t ip)
{
	return neigh_hash(port, ip) & t->mask;
}

/* ---- seqlock ---- */

/* Reader: false when the writer kept the slot busy for every retry. */
static bool
slot_read(const struct neigh_slot *s, struct slot_copy *c)
{
	for (unsigned int i = 0; i < NEIGH_READ_RETRIES; i++) {
		uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

		if (seq & 1) {
			cpu_relax();
			continue;
		}
		c->ip = __atomic_load_n(&s->ip, __ATOMIC_RELAXED);
		c->port = __atomic_load_n(&s->port, __ATOMIC_RELAXED);
		c->state = __atomic_load_n(&s->state, __ATOMIC_RELAXED);
		c->probes = __atomic_load_n(&s->probes, __ATOMIC_RELAXED);
		c->mac = __atomic_load_n(&s->mac, __ATOMIC_RELAXED);
		c->updated = __atomic_load_n(&s->updated, __ATOMIC_RELAXED);
		/* Orders the field loads before the second sequence load. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			return true;
	}
	return false;
}

/* Writer: publish @p v into @p s. The only way visible fields change. */
static void
slot_write(struct neigh_slot *s, const struct neigh_slot *v)
{
	uint32_t seq = s->seq;

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	/* Readers that see any new field also see the odd sequence. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->ip, v->ip, __ATOMIC_RELAXED);
	__atomic_store_n(&s->port, v->port, __ATOMIC_RELAXED);
	__atomic_store_n(&s->state, v->state, __ATOMIC_RELAXED);
	__atomic_store_n(&s->probes, v->probes, __ATOMIC_RELAXED);
	__atomic_store_n(&s->mac, v->mac, __ATOMIC_RELAXED);
	__atomic_store_n(&s->updated, v->updated, __ATOMIC_RELAXED);
	s->since = v->since;
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Writer: change the state (and what goes with it) of a used slot. */
static void
slot_set_state(struct neigh_slot *s, enum gw_neigh_state state,
	       uint32_t probes, uint64_t since)
{
	struct neigh_slot v = *s;

	v.state = (uint8_t)state;
	v.probes = probes;
	v.since = since;
	slot_write(s, &v);
}

/* ---- table ---- */

static uint32_t
roundup_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

struct gw_neigh_table *
gw_neigh_table_create(uint32_t capacity, const struct gw_neigh_params *params)
{
	struct gw_neigh_table *t;
	uint32_t entries;

	if (params == NULL || params->max_probes == 0 || capacity == 0 ||
	    capacity > NEIGH_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	entries = roundup_pow2(capacity);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->slots = calloc((size_t)entries * 2, sizeof(*t->slots));
	if (t->slots == NULL) {
		free(t);
		return NULL;
	}
	t->mask = entries * 2 - 1;
	t->max_entries = entries;
	t->next_due = UINT64_MAX;
	t->params = *params;
	return t;
}

void
gw_neigh_table_free(struct gw_neigh_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

/* Writer: the slot holding the key, or NULL. */
static struct neigh_slot *
slot_find(struct gw_neigh_table *t, uint16_t port, uint32_t ip)
{
	uint32_t i = home_slot(t, port, ip);

	for (;;) {
		struct neigh_slot *s = &t->slots[i];

		if (s->state == GW_NEIGH_FREE)
			return NULL;
		if (s->ip == ip && s->port == port)
			return s;
		i = (i + 1) & t->mask;
	}
}

/* Writer: a new entry for a key known to be absent; NULL when full. */
static struct neigh_slot *
slot_insert(struct gw_neigh_table *t, uint16_t port, uint32_t ip,
	    enum gw_neigh_state state, uint64_t mac, uint32_t probes,
	    uint64_t now)
{
	struct neigh_slot v = {
		.ip = ip, .port = port, .state = (uint8_t)state,
		.probes = probes, .mac = mac, .updated = now, .since = now,
	};
	uint32_t i;

	if (t->count >= t->max_entries)
		return NULL;
	i = home_slot(t, port, ip);
	while (t->slots[i].state != GW_NEIGH_FREE)
		i = (i + 1) & t->mask;
	slot_write(&t->slots[i], &v);
	deadline_note(t, &t->slots[i]);
	t->count++;
	return &t->slots[i];
}

/*
 * Writer: free the slot at @p hole by backward shift. Each later entry of
 * the run whose probe path crosses the hole is copied into it first; only
 * then does its old slot become the hole, and only the last hole is marked
 * free.
 */
static void
slot_remove(struct gw_neigh_table *t, uint32_t hole)
{
	static const struct neigh_slot free_slot;
	uint32_t j = hole;

	for (;;) {
		const struct neigh_slot *s;
		uint32_t home;

		j = (j + 1) & t->mask;
		s = &t->slots[j];
		if (s->state == GW_NEIGH_FREE)
			break;
		home = home_slot(t, s->port, s->ip);
		/* The hole is on the path home..j: the entry may move there. */
		if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
			slot_write(&t->slots[hole], s);
			hole = j;
		}
	}
	slot_write(&t->slots[hole], &free_slot);
	t->count--;
}

int
gw_neigh_static_add(struct gw_neigh_table *t, uint16_t port, uint32_t ip,
		    const uint8_t mac[6])
{
	struct neigh_slot *s = slot_find(t, port, ip);

	if (s != NULL) {
		struct neigh_slot v = *s;

		v.state = GW_NEIGH_PERMANENT;
		v.mac = mac_pack(mac);
		v.probes = 0;
		slot_write(s, &v);
		return 0;
	}
	if (slot_insert(t, port, ip, GW_NEIGH_PERMANENT, mac_pack(mac), 0, 0) == NULL)
		return -ENOSPC;
	return 0;
}

int
gw_neigh_delete(struct gw_neigh_table *t, uint16_t port, uint32_t ip)
{
	struct neigh_slot *s = slot_find(t, port, ip);

	if (s == NULL)
		return -ENOENT;
	slot_remove(t, (uint32_t)(s - t->slots));
	return 0;
}

int
gw_neigh_learn(struct gw_neigh_table *t, uint16_t port, uint32_t ip,
	       const uint8_t mac[6], bool create, uint64_t now)
{
	struct neigh_slot *s = slot_find(t, port, ip);
	struct neigh_slot v;

	if (s == NULL) {
		if (!create)
			return -ENOENT;
		if (slot_insert(t, port, ip, GW_NEIGH_REACHABLE, mac_pack(mac),
				0, now) == NULL)
			return -ENOSPC;
		return 0;
	}
	/* Configured by the operator: ARP, spoofed or not, cannot move it. */
	if (s->state == GW_NEIGH_PERMANENT)
		return 0;
	v = *s;
	v.state = GW_NEIGH_REACHABLE;
	v.mac = mac_pack(mac);
	v.updated = now;
	v.probes = 0;
	v.since = now;
	slot_write(s, &v);
	deadline_note(t, s);
	return 0;
}

int
gw_neigh_resolve(struct gw_neigh_table *t, uint16_t port, uint32_t ip,
		 uint64_t now)
{
	struct neigh_slot *s = slot_find(t, port, ip);

	if (s == NULL) {
		/* The caller sends the first probe now: count it. */
		if (slot_insert(t, port, ip, GW_NEIGH_INCOMPLETE, 0, 1, now) == NULL)
			return -ENOSPC;
		return 1;
	}
	if (s->state == GW_NEIGH_FAILED)
		return -EHOSTUNREACH;
	return 0;
}

/* Writer: one probe interval went by without an answer. */
static void
probe_or_fail(const struct gw_neigh_table *t, struct neigh_slot *s,
	      uint64_t now, gw_neigh_probe_fn probe, void *arg)
{
	if (elapsed(now, s->since) < t->params.retrans_ticks)
		return;
	if (s->probes >= t->params.max_probes) {
		slot_set_state(s, GW_NEIGH_FAILED, s->probes, now);
		return;
	}
	slot_set_state(s, (enum gw_neigh_state)s->state, s->probes + 1, now);
	probe(arg, s->port, s->ip);
}

unsigned int
gw_neigh_table_tick(struct gw_neigh_table *t, uint64_t now,
		    gw_neigh_probe_fn probe, void *arg)
{
	const struct gw_neigh_params *p = &t->params;
	uint32_t nslots = t->mask + 1;
	unsigned int expired = 0, freed = 0;
	uint64_t next_due = UINT64_MAX;

	if (now < t->next_due)
		return 0;

	/* Pass 1: state changes in place; nothing moves. */
	for (uint32_t i = 0; i < nslots; i++) {
		struct neigh_slot *s = &t->slots[i];
		uint64_t d;

		switch (s->state) {
		case GW_NEIGH_INCOMPLETE:
		case GW_NEIGH_STALE:
			probe_or_fail(t, s, now, probe, arg);
			break;
		case GW_NEIGH_REACHABLE:
			if (elapsed(now, s->updated) >= p->reachable_ticks) {
				slot_set_state(s, GW_NEIGH_STALE, 1, now);
				probe(arg, s->port, s->ip);
			}
			break;
		case GW_NEIGH_FAILED:
			if (elapsed(now, s->since) >= p->failed_ticks) {
				expired++;
				continue; /* freed below: no deadline */
			}
			break;
		default:
			break;
		}
		d = slot_deadline(t, s);
		if (d < next_due)
			next_due = d;
	}
	t->next_due = next_due;
	if (expired == 0)
		return 0;

	/*
	 * Pass 2: a removal shifts later entries of the run backwards, so
	 * re-check a slot until it holds something to keep. Entries moved
	 * into later slots are checked when the loop gets there; an entry
	 * that moves across the end of the array came from a slot already
	 * checked and kept.
	 */
	for (uint32_t i = 0; i < nslots && freed < expired; i++) {
		const struct neigh_slot *s = &t->slots[i];

		while (s->state == GW_NEIGH_FAILED &&
		       elapsed(now, s->since) >= p->failed_ticks) {
			slot_remove(t, i);
			freed++;
		}
	}
	return freed;
}

int
gw_neigh_lookup(const struct gw_neigh_table *t, uint16_t port, uint32_t ip,
		uint8_t mac[6])
{
	uint32_t i = home_slot(t, port, ip);

	/* Bounded by the slot count: a run always ends at a free slot, but a
	 * reader racing with shifts must not rely on seeing it. */
	for (uint32_t n = 0; n <= t->mask; n++) {
		struct slot_copy c;

		if (!slot_read(&t->slots[i], &c))
			return -EAGAIN;
		if (c.state == GW_NEIGH_FREE)
			return -ENOENT;
		if (c.ip == ip && c.port == port) {
			switch (c.state) {
			case GW_NEIGH_INCOMPLETE:
				return -EAGAIN;
			case GW_NEIGH_FAILED:
				return -EHOSTUNREACH;
			default:
				mac_unpack(c.mac, mac);
				return 0;
			}
		}
		i = (i + 1) & t->mask;
	}
	return -ENOENT;
}

unsigned int
gw_neigh_table_walk(const struct gw_neigh_table *t,
		    void (*fn)(void *arg, const struct gw_neigh_entry_view *e),
		    void *arg)
{
	unsigned int count = 0;

	for (uint32_t i = 0; i <= t->mask; i++) {
		struct gw_neigh_entry_view view;
		struct slot_copy c;

		if (!slot_read(&t->slots[i], &c) || c.state == GW_NEIGH_FREE)
			continue;
		view = (struct gw_neigh_entry_view){
			.port = c.port,
			.ip = c.ip,
			.state = (enum gw_neigh_state)c.state,
			.updated = c.updated,
			.probes = c.probes,
		};
		mac_unpack(c.mac, view.mac);
		fn(arg, &view);
		count++;
	}
	return count;
}

const char *
gw_neigh_state_name(enum gw_neigh_state state)
{
	switch (state) {
	case GW_NEIGH_FREE:       return "FREE";
	case GW_NEIGH_INCOMPLETE: return "INCOMPLETE";
	case GW_NEIGH_REACHABLE:  return "REACHABLE";
	case GW_NEIGH_STALE:      return "STALE";
	case GW_NEIGH_FAILED:     return "FAILED";
	case GW_NEIGH_PERMANENT:  return "PERMANENT";
	}
	return "UNKNOWN";
}

/* ---- per-worker pending queue ---- */

struct pending_item {
	void *pkt;
	uint64_t added;
	uint32_t next_hop;
	uint16_t port;
};

/*
 * A fixed array in arrival order, items[0 .. count). Every flush visits
 * every item and compacts the kept ones to the front, so a ring's moving
 * head would buy nothing.
 */
struct gw_neigh_pending {
	uint32_t capacity;
	uint32_t count;
	struct pending_item items[];
};

struct gw_neigh_pending *
gw_neigh_pending_create(uint32_t capacity)
{
	struct gw_neigh_pending *q;

	if (capacity == 0 || capacity > NEIGH_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q) + (size_t)capacity * sizeof(q->items[0]));
	if (q == NULL)
		return NULL;
	q->capacity = capacity;
	return q;
}

void
gw_neigh_pending_free(struct gw_neigh_pending *q)
{
	free(q);
}

int
gw_neigh_pending_add(struct gw_neigh_pending *q, uint16_t port,
		     uint32_t next_hop, void *pkt, uint64_t now)
{
	if (q->count == q->capacity)
		return -ENOSPC;
	q->items[q->count] = (struct pending_item){
		.pkt = pkt, .added = now, .next_hop = next_hop, .port = port,
	};
	q->count++;
	return 0;
}

uint32_t
gw_neigh_pending_count(const struct gw_neigh_pending *q)
{
	return q->count;
}

unsigned int
gw_neigh_pending_flush(struct gw_neigh_pending *q,
	const struct gw_neigh_table *t, uint64_t now, uint64_t timeout_ticks,
	void (*send)(void *arg, void *pkt, uint16_t port, const uint8_t mac[6]),
	void (*drop)(void *arg, void *pkt), void *arg)
{
	uint32_t kept = 0;
	unsigned int released = 0;

	/* Compact in place: kept items slide to the front, in order. */
	for (uint32_t r = 0; r < q->count; r++) {
		const struct pending_item item = q->items[r];
		uint8_t mac[6];
		int rc = gw_neigh_lookup(t, item.port, item.next_hop, mac);

		if (rc == 0) {
			send(arg, item.pkt, item.port, mac);
			released++;
		} else if (rc == -EHOSTUNREACH ||
			   elapsed(now, item.added) >= timeout_ticks) {
			drop(arg, item.pkt);
			released++;
		} else {
			q->items[kept++] = item;
		}
	}
	q->count = kept;
	return released;
}
