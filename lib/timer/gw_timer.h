/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_TIMER_H
#define GW_TIMER_H

/**
 * @file
 * Per-worker hierarchical timing wheel: TCP timers (retransmission,
 * delayed ACK, persist, TIME_WAIT, keep-alive, connect) and HTTP timeouts.
 *
 * Ownership: one wheel per worker, used only by that worker; no locks.
 * Timers are intrusive: a struct gw_timer lives inside its owner (a TCB,
 * a request) and the wheel only links it, so nothing is allocated after
 * gw_timer_wheel_create().
 *
 * Time is in caller units (the gateway passes TSC cycles); the wheel
 * counts ticks of @c tick_len units from the @c now given at creation.
 * Four levels of 256 slots cover 2^32 ticks ahead; a timer further out is
 * parked in the farthest slot and placed again when that slot comes up.
 *
 * Precision: a timer never fires before its expiry (it fires at the first
 * tick boundary at or after it), and fires in the first
 * gw_timer_wheel_run() whose @c now has reached that boundary, so at most
 * one tick late when the wheel is run at least once per tick.
 *
 * Cost: arm, cancel and is_armed are O(1). Moving an armed timer later
 * (the RTO timer on every ACK) only stores the new expiry: the timer stays
 * in its old slot and is moved when that slot comes up. Run is O(ticks
 * with work + timers fired + timers cascaded); idle stretches are skipped
 * with per-level occupancy bitmaps, so a run after a long idle time costs
 * no more than the timers it touches.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_timer_wheel;
struct gw_timer;

/**
 * Expiry callback. @p t is no longer armed when this is called; the
 * callback may arm it again (a periodic timer), cancel or arm any other
 * timer of @p w, and free the memory holding @p t. It must not call
 * gw_timer_wheel_run() or gw_timer_wheel_free() on @p w.
 */
typedef void (*gw_timer_fn)(struct gw_timer_wheel *w, struct gw_timer *t,
			    void *arg);

/** List links of an armed timer. Private to the wheel. */
struct gw_timer_link {
	struct gw_timer_link *next; /* NULL when the timer is not armed */
	struct gw_timer_link *prev;
};

/**
 * A timer, embedded in its owner. Initialise with gw_timer_init() before
 * any other use; the fields are for the wheel, read them through the
 * functions below.
 */
struct gw_timer {
	struct gw_timer_link link;
	uint64_t expires;  /* absolute, caller units; meaningful while armed */
	gw_timer_fn fn;
	void *arg;
};

/** Initialise @p t, not armed, to call @p fn(w, t, @p arg) on expiry. */
static inline void
gw_timer_init(struct gw_timer *t, gw_timer_fn fn, void *arg)
{
	t->link.next = NULL;
	t->link.prev = NULL;
	t->expires = 0;
	t->fn = fn;
	t->arg = arg;
}

/** True from arming until it fires or is cancelled. */
static inline bool
gw_timer_is_armed(const struct gw_timer *t)
{
	return t->link.next != NULL;
}

/** Expiry of an armed timer, in caller units (undefined when not armed). */
static inline uint64_t
gw_timer_expires(const struct gw_timer *t)
{
	return t->expires;
}

/**
 * A wheel whose time starts at @p now, with ticks of @p tick_len caller
 * units (e.g. TSC cycles per millisecond). NULL when @p tick_len is 0 or
 * out of memory. This is the only allocation.
 */
struct gw_timer_wheel *gw_timer_wheel_create(uint64_t now, uint64_t tick_len);

/**
 * Free @p w (NULL is fine). Timers still armed are forgotten, not fired;
 * their owners must not use them with any wheel until gw_timer_init().
 */
void gw_timer_wheel_free(struct gw_timer_wheel *w);

/**
 * gw_timer_arm_at() when @p t is not armed or moves earlier: links it
 * into the slot for @p expires. Call gw_timer_arm_at() instead.
 */
void gw_timer_arm_relink(struct gw_timer_wheel *w, struct gw_timer *t,
			 uint64_t expires);

/**
 * Arm @p t to expire at @p expires (absolute, caller units), or move it
 * there when already armed. An expiry already past fires at the next tick
 * processed. Moving a timer later is a single store (see the file
 * comment), inline because TCP does it per segment; moving it earlier
 * relinks it.
 */
static inline void
gw_timer_arm_at(struct gw_timer_wheel *w, struct gw_timer *t, uint64_t expires)
{
	if (gw_timer_is_armed(t) && expires >= t->expires) {
		t->expires = expires;
		return;
	}
	gw_timer_arm_relink(w, t, expires);
}

/**
 * Arm @p t to expire @p delay caller units after gw_timer_wheel_now()
 * (the latest time the wheel was given), saturating. Same rules as
 * gw_timer_arm_at().
 */
void gw_timer_arm_in(struct gw_timer_wheel *w, struct gw_timer *t,
		     uint64_t delay);

/** Disarm @p t if armed; a no-op otherwise. @p t is then free to reuse. */
void gw_timer_cancel(struct gw_timer_wheel *w, struct gw_timer *t);

/**
 * Fire the timers due at @p now, at most @p max of them (UINT_MAX for no
 * bound); timers left over stay due and fire first on the next call.
 * Timers fire in order of their tick; within one tick the order is
 * unspecified. A timer armed by a callback for a time already due fires
 * at the next tick, not in the tick being processed, so a callback that
 * re-arms its own timer in the past cannot loop. A @p now earlier than a
 * previous one fires nothing new. Returns the number fired.
 */
unsigned int gw_timer_wheel_run(struct gw_timer_wheel *w, uint64_t now,
				unsigned int max);

/**
 * The time (caller units) until which an idle worker may sleep without
 * missing a timer: never later than the tick at which the earliest armed
 * timer fires, and equal to it when that timer is within 256 ticks and was
 * not moved later since arming. Otherwise it may be earlier (the next
 * cascade of a coarser level, or a postponed timer's old slot): calling
 * gw_timer_wheel_run() then fires nothing and refines the answer. A value
 * not after gw_timer_wheel_now() means work is due now (e.g. left by a
 * bounded run). UINT64_MAX when no timer is armed.
 */
uint64_t gw_timer_wheel_next_expiry(struct gw_timer_wheel *w);

/** The latest @p now given to create or run. */
uint64_t gw_timer_wheel_now(const struct gw_timer_wheel *w);

/** Number of armed timers. */
uint32_t gw_timer_wheel_count(const struct gw_timer_wheel *w);

#endif /* GW_TIMER_H */
