/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Value syntax shared by the decoders: Kubernetes names and labels, host
 * names, IP addresses, durations and exact percentages; and the kind
 * names users type.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model_private.h"

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 chars. */
static bool
dns_label(const char *s, size_t len, bool upper_ok)
{
	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = upper_ok ? is_alnum(c) : is_lower_alnum(c);

		if (!ok && !(c == '-' && i > 0 && i < len - 1))
			return false;
	}
	return true;
}

bool
model_dns1123_label(const char *s)
{
	return dns_label(s, strlen(s), false);
}

/* Dot-separated labels, at most 253 chars. */
static bool
dns_subdomain(const char *s, bool upper_ok)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (!dns_label(p, n, upper_ok))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

bool
model_dns1123_subdomain(const char *s)
{
	return dns_subdomain(s, false);
}

/* Istio's ValidateWildcardDomain: "*", "*.suffix" or an FQDN. */
bool
model_wildcard_domain(const char *s)
{
	if (strcmp(s, "*") == 0)
		return true;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	else if (s[0] == '*')
		s += 1; /* "*foo.com" is accepted by Istio as a suffix */
	if (strlen(s) > 255)
		return false;
	return dns_subdomain(s, true);
}

/* Kubernetes qualified name: [prefix/]name, name <= 63 [-_.A-Za-z0-9]. */
static bool
qualified_name(const char *s, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	if (!is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return false;
	return true;
}

bool
model_label_key_valid(const char *s)
{
	const char *slash = strchr(s, '/');
	char prefix[254];
	size_t plen;

	if (slash == NULL)
		return qualified_name(s, strlen(s));
	plen = (size_t)(slash - s);
	if (plen == 0 || plen >= sizeof(prefix))
		return false;
	memcpy(prefix, s, plen);
	prefix[plen] = '\0';
	return model_dns1123_subdomain(prefix) &&
		qualified_name(slash + 1, strlen(slash + 1));
}

bool
model_label_value_valid(const char *s)
{
	return s[0] == '\0' || qualified_name(s, strlen(s));
}

int
model_ip_prefix_parse(const char *s, bool allow_cidr,
		      struct gw_ip_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	long plen = -1;
	int max;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= INET6_ADDRSTRLEN || (slash && !allow_cidr))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &out->addr.v4) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr.v6) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	if (slash != NULL) {
		char *end;

		if (!(slash[1] >= '0' && slash[1] <= '9'))
			return -EINVAL;
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || plen > max)
			return -EINVAL;
	}
	out->prefix_len = (uint8_t)(plen >= 0 ? plen : max);
	return 0;
}

enum gw_model_protocol
model_protocol_parse(const char *s)
{
	static const struct {
		const char *name;
		enum gw_model_protocol proto;
	} protos[] = {
		{ "HTTP", GW_MODEL_PROTOCOL_HTTP },
		{ "HTTPS", GW_MODEL_PROTOCOL_HTTPS },
		{ "HTTP2", GW_MODEL_PROTOCOL_HTTP2 },
		{ "GRPC", GW_MODEL_PROTOCOL_GRPC },
		{ "TCP", GW_MODEL_PROTOCOL_TCP },
		{ "TLS", GW_MODEL_PROTOCOL_TLS },
		{ "MONGO", GW_MODEL_PROTOCOL_MONGO },
		{ "UDP", GW_MODEL_PROTOCOL_UDP },
	};

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcasecmp(s, protos[i].name) == 0)
			return protos[i].proto;
	return GW_MODEL_PROTOCOL_UNSET;
}

/*
 * Istio resolves a short name ("reviews") in the namespace of the resource
 * naming it ("reviews.default.svc.cluster.local"); compare both forms.
 */
static void
host_fqdn(const char *h, const char *ns, char *buf, size_t len)
{
	if (strchr(h, '.') != NULL || strchr(h, '*') != NULL || ns == NULL)
		snprintf(buf, len, "%s", h);
	else
		snprintf(buf, len, "%s.%s.svc.cluster.local", h, ns);
}

bool
model_host_equal(const char *a, const char *ns_a, const char *b,
		 const char *ns_b)
{
	char fa[320], fb[320];

	if (strcasecmp(a, b) == 0)
		return true;
	host_fqdn(a, ns_a, fa, sizeof(fa));
	host_fqdn(b, ns_b, fb, sizeof(fb));
	return strcasecmp(fa, fb) == 0;
}

/* ------------------------------------------------------------------ */
/* Durations and percentages                                           */
/* ------------------------------------------------------------------ */

/* Go's time.ParseDuration units, in nanoseconds. */
static int64_t
unit_ns(const char *u, size_t len)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000LL }, { "m", 60000000000LL },
		{ "h", 3600000000000LL },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len &&
		    memcmp(units[i].name, u, len) == 0)
			return units[i].ns;
	return 0;
}

/* Go's duration syntax: [-+]?([0-9]*(\.[0-9]*)?unit)+, or "0". */
static int
duration_parse_ns(const char *s, int64_t *ns_out)
{
	__int128 total = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ns_out = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		__int128 whole = 0, frac = 0, scale = 1;
		bool digits = false;
		const char *u;
		int64_t unit;

		while (*s >= '0' && *s <= '9') {
			whole = whole * 10 + (*s++ - '0');
			digits = true;
			if (whole > INT64_MAX)
				return -EINVAL;
		}
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				/* Digits beyond ns precision do not count. */
				if (scale < 1000000000000000000LL) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
				s++;
				digits = true;
			}
		}
		if (!digits)
			return -EINVAL;
		u = s;
		while (*s != '\0' && !(*s >= '0' && *s <= '9') && *s != '.')
			s++;
		unit = unit_ns(u, (size_t)(s - u));
		if (unit == 0)
			return -EINVAL;
		total += whole * unit + frac * unit / scale;
		if (total > INT64_MAX)
			return -EINVAL;
	}
	*ns_out = neg ? -(int64_t)total : (int64_t)total;
	return 0;
}

int
gw_model_duration_parse(const char *text, int64_t *us)
{
	int64_t ns;

	if (text == NULL || duration_parse_ns(text, &ns) < 0 || ns < 0)
		return -EINVAL;
	*us = ns / 1000;
	/* Whole microseconds only: nothing below is representable. */
	if (ns % 1000 != 0)
		return -EINVAL;
	return 0;
}

/*
 * Decimal text -> parts per million without floating point, so that
 * 0.1 % is exactly 1000 ppm. Accepts [+-]digits[.digits][e[+-]digits].
 */
int
gw_model_percent_parse(const char *text, uint32_t *ppm)
{
	char digits[48];
	size_t nd = 0;
	long exp10 = 0, frac = 0;
	bool neg = false, any = false, nonzero = false;
	const char *s = text;
	uint64_t v = 0;
	long k;

	if (s == NULL)
		return -EINVAL;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (int part = 0; part < 2; part++) {
		while (*s >= '0' && *s <= '9') {
			any = true;
			if (*s != '0')
				nonzero = true;
			/* Leading zeros carry no value. */
			if (nd > 0 || *s != '0') {
				if (nd == sizeof(digits))
					return -EINVAL;
				digits[nd++] = *s;
			}
			if (part == 1)
				frac++;
			s++;
		}
		if (part == 0 && *s == '.')
			s++;
		else
			break;
	}
	if (!any)
		return -EINVAL;
	if (*s == 'e' || *s == 'E') {
		char *end;

		errno = 0;
		exp10 = strtol(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0' ||
		    exp10 > 1000 || exp10 < -1000)
			return -EINVAL;
		s = end;
	}
	if (*s != '\0')
		return -EINVAL;
	if (!nonzero) {
		*ppm = 0;
		return 0;
	}
	if (neg)
		return -ERANGE;
	/* value = digits * 10^(exp10 - frac); ppm = value * 10^4 */
	k = exp10 - frac + 4;
	if (k >= 0) {
		if ((long)nd + k > 7)
			return -ERANGE;
		for (size_t i = 0; i < nd; i++)
			v = v * 10 + (uint64_t)(digits[i] - '0');
		while (k-- > 0)
			v *= 10;
	} else {
		long keep = (long)nd + k;   /* digits left of the point */

		for (long i = 0; i < keep; i++) {
			if (i >= 8)
				return -ERANGE;
			v = v * 10 + (uint64_t)(digits[i] - '0');
		}
		/* 100.00001 would round to 100 % but is above 100. */
		if (v >= GW_MODEL_PPM_100)
			for (long i = keep > 0 ? keep : 0; i < (long)nd; i++)
				if (digits[i] != '0')
					return -ERANGE;
		/* Round half up on the first dropped digit. */
		if (keep >= 0 && keep < (long)nd && digits[keep] >= '5')
			v++;
	}
	if (v > GW_MODEL_PPM_100)
		return -ERANGE;
	*ppm = (uint32_t)v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Kinds and actions                                                   */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	const char *singular;
	const char *plural;
	const char *shortname;
} kinds[GW_MODEL_KIND_COUNT] = {
	[GW_MODEL_KIND_VIRTUAL_SERVICE] = { "VirtualService",
		"virtualservice", "virtualservices", "vs" },
	[GW_MODEL_KIND_DESTINATION_RULE] = { "DestinationRule",
		"destinationrule", "destinationrules", "dr" },
	[GW_MODEL_KIND_SERVICE_ENTRY] = { "ServiceEntry",
		"serviceentry", "serviceentries", "se" },
	[GW_MODEL_KIND_WORKLOAD_ENTRY] = { "WorkloadEntry",
		"workloadentry", "workloadentries", "we" },
	[GW_MODEL_KIND_GATEWAY] = { "Gateway", "gateway", "gateways", "gw" },
};

int
gw_model_kind_parse(const char *word, enum gw_model_kind *kind)
{
	char base[64];
	const char *dot;
	size_t len;

	if (word == NULL)
		return -EINVAL;
	/* kubectl also takes "virtualservices.networking.istio.io". */
	dot = strchr(word, '.');
	len = dot != NULL ? (size_t)(dot - word) : strlen(word);
	if (len == 0 || len >= sizeof(base))
		return -EINVAL;
	if (dot != NULL && strcasecmp(dot, ".networking.istio.io") != 0)
		return -EINVAL;
	memcpy(base, word, len);
	base[len] = '\0';
	for (int k = 0; k < GW_MODEL_KIND_COUNT; k++) {
		if (strcasecmp(base, kinds[k].name) == 0 ||
		    strcasecmp(base, kinds[k].plural) == 0 ||
		    strcasecmp(base, kinds[k].shortname) == 0) {
			*kind = (enum gw_model_kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
gw_model_kind_name(enum gw_model_kind kind)
{
	return (unsigned)kind < GW_MODEL_KIND_COUNT ? kinds[kind].name :
		"Unknown";
}

const char *
gw_model_kind_singular(enum gw_model_kind kind)
{
	return (unsigned)kind < GW_MODEL_KIND_COUNT ? kinds[kind].singular :
		"unknown";
}

const char *
gw_model_kind_plural(enum gw_model_kind kind)
{
	return (unsigned)kind < GW_MODEL_KIND_COUNT ? kinds[kind].plural :
		"unknown";
}

const char *
gw_model_action_name(enum gw_model_action action)
{
	switch (action) {
	case GW_MODEL_ACTION_CREATED:
		return "created";
	case GW_MODEL_ACTION_CONFIGURED:
		return "configured";
	case GW_MODEL_ACTION_UNCHANGED:
		return "unchanged";
	case GW_MODEL_ACTION_DELETED:
		return "deleted";
	case GW_MODEL_ACTION_NOT_FOUND:
		return "not found";
	default:
		return "none";
	}
}
