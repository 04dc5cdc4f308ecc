/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection timers on the worker's timing wheel (lib/timer), three per
 * TCB:
 *
 *   t_rtx      SYN/SYN-ACK retransmission and connect deadline, RTO
 *              (RFC 6298), then the 2*MSL of TIME_WAIT;
 *   t_delack   the delayed ACK (RFC 9293 3.8.6.3);
 *   t_persist  zero-window probes with back-off (RFC 9293 3.8.6.1).
 *
 * Callbacks run from gw_tcp_poll() before the pending list is drained, so
 * anything they mark for output goes out in the same poll.
 */
#include <rte_common.h>

#include "tcp_private.h"

static void
timeout_reset(struct gw_tcp_conn *c)
{
	/* RFC 9293 3.10.7.4 style reset so the peer lets go too. */
	tcp_send_ctl(c, c->snd_max, TCP_RST | TCP_ACK);
	c->s->stats.resets_out++;
	tcp_conn_close(c, GW_TCP_CLOSED_TIMEOUT, true);
}

/* Double the RTO, remembering the undoubled one for new_ack_input(). */
static void
rto_backoff(struct gw_tcp_conn *c)
{
	if (c->rto.backoff == 0)
		c->rto_base_us = c->rto.rto_us;
	gw_rto_backoff(&c->rto, NULL);
}

static void
rtx_expire(struct gw_timer_wheel *w __rte_unused, struct gw_timer *t __rte_unused,
	   void *arg)
{
	struct gw_tcp_conn *c = arg;
	struct gw_tcp_stack *s = c->s;
	uint32_t flight;

	if (!(c->flags & TCP_CF_RTX_ON))
		return;              /* cancelled lazily */
	c->flags &= ~TCP_CF_RTX_ON;
	switch (c->state) {
	case GW_TCP_TIME_WAIT:
		tcp_conn_close(c, GW_TCP_CLOSED_NORMAL, false);
		return;
	case GW_TCP_SYN_SENT:
		if (s->now >= c->deadline) {
			tcp_conn_close(c, GW_TCP_CLOSED_CONNECT_TIMEOUT, true);
			return;
		}
		c->rtx_count++;
		rto_backoff(c);
		s->stats.retransmits++;
		tcp_send_syn(c);
		tcp_rtx_arm(c);
		return;
	case GW_TCP_SYN_RCVD:
		if (c->rtx_count >= TCP_SYNACK_RETRIES) {
			/* An embryonic passive conn goes silently (no one
			 * knows it); a simultaneous open tells its owner. */
			if (c->flags & TCP_CF_ACTIVE)
				tcp_conn_close(c, GW_TCP_CLOSED_CONNECT_TIMEOUT, true);
			else
				tcp_conn_close(c, GW_TCP_CLOSED_TIMEOUT, false);
			return;
		}
		c->rtx_count++;
		rto_backoff(c);
		s->stats.retransmits++;
		tcp_send_syn(c);
		tcp_rtx_arm(c);
		return;
	case GW_TCP_ESTABLISHED:
	case GW_TCP_FIN_WAIT_1:
	case GW_TCP_CLOSE_WAIT:
	case GW_TCP_CLOSING:
	case GW_TCP_LAST_ACK:
		break;
	default:
		return;
	}
	if (c->snd_una == c->snd_max) {
		/* Nothing in flight: armed because a send found no mbufs
		 * (tcp_output()); try again. Else all was acknowledged. */
		if (gw_seq_lt(c->snd_nxt, tcp_sq_end(c)) ||
		    ((c->flags & TCP_CF_FIN_QUEUED) && !(c->flags & TCP_CF_FIN_SENT)))
			tcp_conn_pend(c);
		return;
	}
	if (c->rtx_count >= s->p.max_retransmits) {
		timeout_reset(c);
		return;
	}
	c->rtx_count++;
	s->stats.rto_timeouts++;
	flight = c->snd_max - c->snd_una;
	/* RFC 5681 (4) on the first timeout; later ones keep ssthresh. */
	if (c->rtx_count == 1 && !(c->flags & TCP_CF_RECOVERY))
		c->ssthresh = max32(flight / 2, 2u * c->snd_mss);
	else if (c->rtx_count == 1)
		c->ssthresh = max32(c->ssthresh, 2u * c->snd_mss);
	c->cwnd = c->snd_mss;
	c->bytes_acked = 0;
	c->dupacks = 0;
	/* RFC 6582 (4): no fast retransmit for what was sent before this. */
	c->recover = c->snd_max;
	c->flags &= ~(TCP_CF_RECOVERY | TCP_CF_RTT_TIMING | TCP_CF_RTX_HEAD);
	/* Go back N: resend from the first unacknowledged byte, by
	 * reference to the same queued data. */
	c->snd_nxt = c->snd_una;
	rto_backoff(c);
	tcp_conn_pend(c);
}

static void
delack_expire(struct gw_timer_wheel *w __rte_unused,
	      struct gw_timer *t __rte_unused, void *arg)
{
	struct gw_tcp_conn *c = arg;

	if (!(c->flags & TCP_CF_DELACK_ON))
		return;              /* cancelled lazily */
	c->flags &= ~TCP_CF_DELACK_ON;
	tcp_ack_now(c);
}

static void
persist_expire(struct gw_timer_wheel *w __rte_unused,
	       struct gw_timer *t __rte_unused, void *arg)
{
	struct gw_tcp_conn *c = arg;
	struct gw_tcp_stack *s = c->s;

	if (!tcp_state_synchronized(c->state) || c->state == GW_TCP_TIME_WAIT ||
	    c->snd_wnd != 0 || c->sq_bytes == 0) {
		c->flags &= ~TCP_CF_PERSIST;
		c->persist_shift = 0;
		return;
	}
	/* Probes the peer does not answer count as timeouts; an answer
	 * (even with the window still shut) resets the count. */
	if (c->rtx_count >= s->p.max_retransmits) {
		timeout_reset(c);
		return;
	}
	c->rtx_count++;
	/* An old sequence number without data: the peer must answer with an
	 * ACK carrying its window, and nothing is consumed (as Linux). */
	tcp_send_ctl(c, c->snd_una - 1, TCP_ACK);
	s->stats.zero_window_probes++;
	if (c->persist_shift < 16)
		c->persist_shift++;
	tcp_persist_arm(c);
}

void
tcp_timers_init(struct gw_tcp_conn *c)
{
	gw_timer_init(&c->t_rtx, rtx_expire, c);
	gw_timer_init(&c->t_delack, delack_expire, c);
	gw_timer_init(&c->t_persist, persist_expire, c);
}

void
tcp_timers_cancel(struct gw_tcp_conn *c)
{
	struct gw_timer_wheel *w = c->s->wheel;

	gw_timer_cancel(w, &c->t_rtx);
	gw_timer_cancel(w, &c->t_delack);
	gw_timer_cancel(w, &c->t_persist);
	c->flags &= ~(TCP_CF_RTX_ON | TCP_CF_DELACK_ON);
}

void
tcp_persist_arm(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;
	uint64_t us = (uint64_t)c->rto.rto_us << c->persist_shift;

	if (us < TCP_PERSIST_MIN_US)
		us = TCP_PERSIST_MIN_US;
	if (us > TCP_PERSIST_MAX_US)
		us = TCP_PERSIST_MAX_US;
	c->flags |= TCP_CF_PERSIST;
	gw_timer_arm_at(s->wheel, &c->t_persist, s->now + tcp_us_to_tsc(s, us));
}

void
tcp_persist_cancel(struct gw_tcp_conn *c)
{
	c->flags &= ~TCP_CF_PERSIST;
	c->persist_shift = 0;
	gw_timer_cancel(c->s->wheel, &c->t_persist);
}

void
tcp_timewait_arm(struct gw_tcp_conn *c)
{
	struct gw_tcp_stack *s = c->s;

	c->flags |= TCP_CF_RTX_ON;
	gw_timer_arm_at(s->wheel, &c->t_rtx, s->now + s->timewait_tsc);
}
