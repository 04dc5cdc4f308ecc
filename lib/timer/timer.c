/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hierarchical timing wheel (Varghese and Lauck, scheme 7), 4 levels of
 * 256 slots.
 *
 * `base` is the next tick to process: every tick before it is done. A
 * timer due at tick e, d = e - base ticks ahead, sits at level
 * l = floor(log256(d)) in slot (e >> 8l) & 255. Slots hold absolute
 * windows: level-l slot i is emptied ("cascaded") when base reaches the
 * start of its window, a multiple of 2^8l, and its timers are placed again
 * relative to that base, so they drop to finer levels and reach level 0
 * exactly at their tick. A level's slot for the current window is always
 * already cascaded unless base is the window's first tick, so a new timer
 * never lands in a slot that will come up a turn too early.
 *
 * Processing a tick moves its level-0 slot onto the `pending` list and only
 * then calls the callbacks, one timer at a time. Cancelling unlinks from
 * whichever list holds the timer, so a callback may cancel or re-arm
 * anything, and a bounded run leaves the rest on `pending` for the next
 * call.
 *
 * Occupancy bitmaps let a run jump straight to the next tick with work.
 * Bits are hints: cancel does not clear them (it would need to know the
 * slot); a search that finds an empty slot clears its bit and goes on.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gw_timer.h"

#define WHEEL_LEVELS    4
#define WHEEL_BITS      8
#define WHEEL_SLOTS     (1u << WHEEL_BITS)
#define WHEEL_SLOT_MASK (WHEEL_SLOTS - 1)
#define WHEEL_MAP_WORDS (WHEEL_SLOTS / 64)
/* The farthest a timer can be placed; later ones are parked there. */
#define WHEEL_MAX_DELTA ((UINT64_C(1) << (WHEEL_LEVELS * WHEEL_BITS)) - 1)

struct gw_timer_wheel {
	uint64_t origin;    /* caller time of tick 0 */
	uint64_t tick_len;  /* caller units per tick */
	uint64_t now;       /* latest time given to create or run */
	uint64_t base;      /* next tick to process */
	uint32_t count;     /* armed timers, pending ones included */
	struct gw_timer_link pending; /* due, callbacks not yet called */
	uint64_t map[WHEEL_LEVELS][WHEEL_MAP_WORDS];
	struct gw_timer_link slots[WHEEL_LEVELS][WHEEL_SLOTS];
};

/* ---- intrusive circular lists with a sentinel head ---- */

static inline void
list_init(struct gw_timer_link *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool
list_empty(const struct gw_timer_link *h)
{
	return h->next == h;
}

static inline void
list_append(struct gw_timer_link *h, struct gw_timer_link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

/* Unlink @p n; it then reads as "not armed". */
static inline void
list_remove(struct gw_timer_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = NULL;
	n->prev = NULL;
}

/* Move every node of @p src to the tail of @p dst, leaving @p src empty. */
static inline void
list_splice_tail(struct gw_timer_link *dst, struct gw_timer_link *src)
{
	if (list_empty(src))
		return;
	src->next->prev = dst->prev;
	dst->prev->next = src->next;
	src->prev->next = dst;
	dst->prev = src->prev;
	list_init(src);
}

static inline struct gw_timer *
link_timer(struct gw_timer_link *l)
{
	return (struct gw_timer *)((char *)l - offsetof(struct gw_timer, link));
}

/* ---- time ---- */

/* The first tick at or after caller time @p t: firing there is never early. */
static inline uint64_t
tick_ceil(const struct gw_timer_wheel *w, uint64_t t)
{
	uint64_t d;

	if (t <= w->origin)
		return 0;
	d = t - w->origin;
	return d / w->tick_len + (d % w->tick_len != 0);
}

/* Caller time of tick @p tick, saturating. */
static inline uint64_t
tick_time(const struct gw_timer_wheel *w, uint64_t tick)
{
	if (tick > (UINT64_MAX - w->origin) / w->tick_len)
		return UINT64_MAX;
	return w->origin + tick * w->tick_len;
}

/* ---- occupancy bitmaps ---- */

static inline void
map_set(uint64_t *map, unsigned int slot)
{
	map[slot >> 6] |= UINT64_C(1) << (slot & 63);
}

static inline void
map_clear(uint64_t *map, unsigned int slot)
{
	map[slot >> 6] &= ~(UINT64_C(1) << (slot & 63));
}

/*
 * Distance (0..255) from @p start, going round, to the first set bit; -1
 * when none is set. The start word is looked at twice: its bits from
 * @p start first, its bits below @p start last.
 */
static int
map_next(const uint64_t *map, unsigned int start)
{
	unsigned int w0 = start >> 6;
	unsigned int b = start & 63;

	for (unsigned int i = 0; i <= WHEEL_MAP_WORDS; i++) {
		unsigned int wi = (w0 + i) % WHEEL_MAP_WORDS;
		uint64_t word = map[wi];

		if (i == 0)
			word &= ~UINT64_C(0) << b;
		else if (i == WHEEL_MAP_WORDS)
			word &= (UINT64_C(1) << b) - 1;
		if (word != 0) {
			unsigned int slot = wi * 64 + (unsigned int)__builtin_ctzll(word);

			return (int)((slot - start) & WHEEL_SLOT_MASK);
		}
	}
	return -1;
}

/*
 * The first tick at or after base at which level @p level has work: the
 * tick itself for level 0, the start of the window to cascade otherwise.
 * UINT64_MAX when the level is empty.
 */
static uint64_t
level_next_event(struct gw_timer_wheel *w, unsigned int level)
{
	unsigned int shift = level * WHEEL_BITS;
	uint64_t low = (UINT64_C(1) << shift) - 1;
	/* The current window's slot is still to come only at its first tick. */
	uint64_t first = (w->base >> shift) + ((w->base & low) != 0);
	unsigned int start = (unsigned int)(first & WHEEL_SLOT_MASK);

	for (;;) {
		int d = map_next(w->map[level], start);
		unsigned int slot;

		if (d < 0)
			return UINT64_MAX;
		slot = (start + (unsigned int)d) & WHEEL_SLOT_MASK;
		if (!list_empty(&w->slots[level][slot]))
			return (first + (uint64_t)d) << shift;
		map_clear(w->map[level], slot); /* stale hint */
	}
}

static uint64_t
wheel_next_event(struct gw_timer_wheel *w)
{
	uint64_t best = UINT64_MAX;

	for (unsigned int l = 0; l < WHEEL_LEVELS; l++) {
		uint64_t e = level_next_event(w, l);

		if (e < best)
			best = e;
	}
	return best;
}

/* ---- placement ---- */

/* Link armed-but-unlinked @p t into the slot for its expiry, relative to base. */
static void
wheel_place(struct gw_timer_wheel *w, struct gw_timer *t)
{
	uint64_t tick = tick_ceil(w, t->expires);
	uint64_t delta;
	unsigned int level, slot;

	if (tick < w->base)
		tick = w->base; /* already due: the next tick processed */
	delta = tick - w->base;
	if (delta > WHEEL_MAX_DELTA) {
		/* Parked in the farthest slot; placed again from there. */
		delta = WHEEL_MAX_DELTA;
		tick = w->base + delta;
	}
	level = delta == 0 ? 0 :
		(unsigned int)(63 - __builtin_clzll(delta)) / WHEEL_BITS;
	slot = (unsigned int)(tick >> (level * WHEEL_BITS)) & WHEEL_SLOT_MASK;
	list_append(&w->slots[level][slot], &t->link);
	map_set(w->map[level], slot);
}

/* Empty one slot of a coarser level into finer ones (no callbacks run). */
static void
wheel_cascade(struct gw_timer_wheel *w, unsigned int level, unsigned int slot)
{
	struct gw_timer_link local;

	list_init(&local);
	list_splice_tail(&local, &w->slots[level][slot]);
	map_clear(w->map[level], slot);
	while (!list_empty(&local)) {
		struct gw_timer_link *l = local.next;

		list_remove(l);
		wheel_place(w, link_timer(l));
	}
}

/* Process tick @p tick (no work lies between base and it). */
static void
wheel_process_tick(struct gw_timer_wheel *w, uint64_t tick)
{
	unsigned int slot0 = (unsigned int)(tick & WHEEL_SLOT_MASK);

	w->base = tick;
	for (unsigned int l = WHEEL_LEVELS - 1; l > 0; l--) {
		unsigned int shift = l * WHEEL_BITS;

		if ((tick & ((UINT64_C(1) << shift) - 1)) == 0)
			wheel_cascade(w, l,
				(unsigned int)(tick >> shift) & WHEEL_SLOT_MASK);
	}
	list_splice_tail(&w->pending, &w->slots[0][slot0]);
	map_clear(w->map[0], slot0);
	w->base = tick + 1;
}

/* ---- API ---- */

struct gw_timer_wheel *
gw_timer_wheel_create(uint64_t now, uint64_t tick_len)
{
	struct gw_timer_wheel *w;

	if (tick_len == 0)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->origin = now;
	w->tick_len = tick_len;
	w->now = now;
	w->base = 0;
	list_init(&w->pending);
	for (unsigned int l = 0; l < WHEEL_LEVELS; l++)
		for (unsigned int s = 0; s < WHEEL_SLOTS; s++)
			list_init(&w->slots[l][s]);
	return w;
}

void
gw_timer_wheel_free(struct gw_timer_wheel *w)
{
	free(w);
}

void
gw_timer_arm_relink(struct gw_timer_wheel *w, struct gw_timer *t,
		    uint64_t expires)
{
	if (gw_timer_is_armed(t)) {
		/* Later: stay put, the old slot re-places it when it comes up. */
		if (expires >= t->expires) {
			t->expires = expires;
			return;
		}
		list_remove(&t->link);
	} else {
		w->count++;
	}
	t->expires = expires;
	wheel_place(w, t);
}

void
gw_timer_arm_in(struct gw_timer_wheel *w, struct gw_timer *t, uint64_t delay)
{
	uint64_t expires = w->now > UINT64_MAX - delay ? UINT64_MAX :
			   w->now + delay;

	gw_timer_arm_at(w, t, expires);
}

void
gw_timer_cancel(struct gw_timer_wheel *w, struct gw_timer *t)
{
	if (!gw_timer_is_armed(t))
		return;
	list_remove(&t->link);
	w->count--;
}

unsigned int
gw_timer_wheel_run(struct gw_timer_wheel *w, uint64_t now, unsigned int max)
{
	unsigned int fired = 0;
	bool started = now >= w->origin;
	uint64_t target = started ? (now - w->origin) / w->tick_len : 0;

	if (now > w->now)
		w->now = now;
	for (;;) {
		uint64_t e;

		while (!list_empty(&w->pending)) {
			struct gw_timer *t;

			if (fired >= max)
				return fired;
			t = link_timer(w->pending.next);
			list_remove(&t->link);
			if (tick_ceil(w, t->expires) >= w->base) {
				/* Moved later since it was placed. */
				wheel_place(w, t);
				continue;
			}
			w->count--;
			fired++;
			/* Last use of t here: the callback may free it. */
			t->fn(w, t, t->arg);
		}
		if (fired >= max || !started || w->base > target)
			break;
		e = wheel_next_event(w);
		if (e > target) {
			w->base = target + 1;
			break;
		}
		wheel_process_tick(w, e);
	}
	return fired;
}

uint64_t
gw_timer_wheel_next_expiry(struct gw_timer_wheel *w)
{
	uint64_t e;

	if (w->count == 0)
		return UINT64_MAX;
	if (!list_empty(&w->pending))
		return w->now;
	e = wheel_next_event(w);
	return e == UINT64_MAX ? UINT64_MAX : tick_time(w, e);
}

uint64_t
gw_timer_wheel_now(const struct gw_timer_wheel *w)
{
	return w->now;
}

uint32_t
gw_timer_wheel_count(const struct gw_timer_wheel *w)
{
	return w->count;
}
