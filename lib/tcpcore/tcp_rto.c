/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 6298 retransmission-timeout estimator.
 *
 * SRTT and RTTVAR are kept in fixed point with GW_RTO_FRAC_BITS fraction
 * bits, so that the 1/8 and 1/4 gains do not throw away the small
 * differences that integer microseconds would (Linux keeps 8*SRTT for the
 * same reason); the error stays far below a microsecond. The RTO is then
 * rounded up to whole microseconds: erring long costs a little latency on
 * a loss, erring short a spurious retransmission.
 */
#include "gw_tcpcore.h"

const struct gw_rto_params gw_rto_params_default = {
	.min_us = GW_RTO_MIN_US_DEFAULT,
	.max_us = GW_RTO_MAX_US_DEFAULT,
	.initial_us = GW_RTO_INITIAL_US_DEFAULT,
	.granularity_us = GW_RTO_GRANULARITY_US_DEFAULT,
};

static inline const struct gw_rto_params *
params_or_default(const struct gw_rto_params *p)
{
	return p != NULL ? p : &gw_rto_params_default;
}

static inline uint32_t
clamp_rto(uint64_t us, const struct gw_rto_params *p)
{
	if (us < p->min_us)
		us = p->min_us;
	if (us > p->max_us)
		us = p->max_us;
	return (uint32_t)us;
}

void
gw_rto_init(struct gw_rto *r, const struct gw_rto_params *p)
{
	p = params_or_default(p);
	r->srtt = 0;
	r->rttvar = 0;
	r->rto_us = clamp_rto(p->initial_us, p);
	r->backoff = 0;
	r->has_sample = false;
}

void
gw_rto_sample(struct gw_rto *r, const struct gw_rto_params *p, uint32_t rtt_us)
{
	const uint64_t one = UINT64_C(1) << GW_RTO_FRAC_BITS;
	uint64_t sample = (uint64_t)rtt_us << GW_RTO_FRAC_BITS;
	uint64_t g, var4, rto;

	p = params_or_default(p);
	g = (uint64_t)p->granularity_us << GW_RTO_FRAC_BITS;
	if (!r->has_sample) {
		/* (2.2) */
		r->srtt = sample;
		r->rttvar = sample / 2;
		r->has_sample = true;
	} else {
		/* (2.3): RTTVAR first, from the old SRTT. */
		uint64_t delta = r->srtt > sample ? r->srtt - sample :
			       sample - r->srtt;

		r->rttvar = (3 * r->rttvar + delta) / 4;
		r->srtt = (7 * r->srtt + sample) / 8;
	}
	var4 = 4 * r->rttvar;
	rto = r->srtt + (var4 > g ? var4 : g);
	r->rto_us = clamp_rto((rto + one - 1) >> GW_RTO_FRAC_BITS, p);
	r->backoff = 0;
}

uint32_t
gw_rto_backoff(struct gw_rto *r, const struct gw_rto_params *p)
{
	p = params_or_default(p);
	r->rto_us = clamp_rto((uint64_t)r->rto_us * 2, p);
	if (r->backoff < UINT8_MAX)
		r->backoff++;
	return r->rto_us;
}
