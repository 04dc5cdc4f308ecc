/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an HTTP route does besides routing: redirect, directResponse,
 * rewrite, retries, fault injection, CORS; and Istio's Percent. Validated
 * like Istio's validateHTTPRedirect, validateHTTPFaultInjection, etc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_regex.h"
#include "model_private.h"

/* Istio refuses direct response bodies above 1 MB. */
#define DIRECT_RESPONSE_MAX (1024 * 1024)

/* Percent {value: double}. */
static void
percent_field(struct decoder *d, void *obj, const char *key,
	      const struct gw_model_node *v)
{
	uint32_t *ppm = obj;

	(void)key;
	*ppm = dec_percent_double(d, v);
}

uint32_t
model_percent_decode(struct decoder *d, const struct gw_model_node *n)
{
	static const char *const known[] = { "value", NULL };
	uint32_t ppm = 0;

	dec_fields(d, n, known, NULL, &ppm, percent_field);
	return ppm;
}

static void
redirect_field(struct decoder *d, void *obj, const char *key,
	       const struct gw_model_node *v)
{
	struct gw_redirect *r = obj;
	const char *s;

	if (key_is(key, "uri")) {
		r->uri = dec_string(d, v);
	} else if (key_is(key, "authority")) {
		r->authority = dec_string(d, v);
	} else if (key_is(key, "scheme")) {
		r->scheme = dec_string(d, v);
		if (r->scheme[0] != '\0' && strcmp(r->scheme, "http") != 0 &&
		    strcmp(r->scheme, "https") != 0)
			dec_fail(d, v, "invalid redirect scheme, must be "
				 "\"http\" or \"https\"");
	} else if (key_is(key, "port")) {
		if (r->derive_port != GW_MODEL_DERIVE_PORT_UNSET)
			dec_fail(d, v, "only one of port or derivePort may "
				 "be set");
		r->port = dec_port(d, v);
	} else if (key_is(key, "derivePort")) {
		if (r->port != 0)
			dec_fail(d, v, "only one of port or derivePort may "
				 "be set");
		s = dec_string(d, v);
		if (strcmp(s, "FROM_PROTOCOL_DEFAULT") == 0)
			r->derive_port =
				GW_MODEL_DERIVE_PORT_FROM_PROTOCOL_DEFAULT;
		else if (strcmp(s, "FROM_REQUEST_PORT") == 0)
			r->derive_port = GW_MODEL_DERIVE_PORT_FROM_REQUEST_PORT;
		else
			dec_fail(d, v, "unknown derivePort \"%.40s\"", s);
	} else {
		r->code = (uint16_t)dec_int(d, v, 0, 65535);
		if (r->code != 0 && (r->code < 300 || r->code > 399))
			dec_fail(d, v, "%u is not a valid redirect code, must "
				 "be 3xx", (unsigned)r->code);
	}
}

void
model_redirect_decode(struct decoder *d, const struct gw_model_node *n,
		struct gw_redirect *r)
{
	static const char *const known[] = {
		"uri", "authority", "scheme", "port", "derivePort",
		"redirectCode", NULL,
	};

	dec_fields(d, n, known, NULL, r, redirect_field);
	if ((r->uri == NULL || r->uri[0] == '\0') &&
	    (r->authority == NULL || r->authority[0] == '\0') &&
	    r->port == 0 && r->derive_port == GW_MODEL_DERIVE_PORT_UNSET &&
	    (r->scheme == NULL || r->scheme[0] == '\0'))
		dec_fail(d, n, "redirect must specify URI, authority, scheme, "
			 "or port");
	if (r->code == 0)
		r->code = 301;
}

static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Protobuf JSON bytes: standard or URL-safe base64, padding optional. */
static int
base64_decode(struct decoder *d, const char *s, const uint8_t **out,
	      uint32_t *out_len)
{
	size_t len = strlen(s), n = 0;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *buf;

	while (len > 0 && s[len - 1] == '=')
		len--;
	buf = dec_alloc(d, len * 3 / 4 + 1);
	for (size_t i = 0; i < len; i++) {
		int v = base64_value(s[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6)
		return -EINVAL;
	*out = buf;
	*out_len = (uint32_t)n;
	return 0;
}

static void
body_field(struct decoder *d, void *obj, const char *key,
	   const struct gw_model_node *v)
{
	struct gw_direct_response *r = obj;
	const char *s = dec_string(d, v);

	if (r->has_body)
		dec_fail(d, v, "only one of string or bytes may be set");
	if (strlen(s) > DIRECT_RESPONSE_MAX * 2)
		dec_fail(d, v, "large direct_responses may impact control "
			 "plane performance, must be less than 1MB");
	if (key_is(key, "string")) {
		r->body = (const uint8_t *)s;
		r->body_len = (uint32_t)strlen(s);
	} else if (base64_decode(d, s, &r->body, &r->body_len) < 0) {
		dec_fail(d, v, "invalid base64");
	}
	if (r->body_len > DIRECT_RESPONSE_MAX)
		dec_fail(d, v, "large direct_responses may impact control "
			 "plane performance, must be less than 1MB");
	r->has_body = true;
}

static void
direct_response_field(struct decoder *d, void *obj, const char *key,
		      const struct gw_model_node *v)
{
	static const char *const body_known[] = { "string", "bytes", NULL };
	struct gw_direct_response *r = obj;
	int64_t status;

	if (key_is(key, "status")) {
		status = dec_int(d, v, 0, 65535);
		if (status < 200 || status > 599)
			dec_fail(d, v, "HTTP status %d is not in range 200-599",
				 (int)status);
		r->status = (uint16_t)status;
	} else {
		dec_fields(d, v, body_known, NULL, r, body_field);
	}
}

void
model_direct_response_decode(struct decoder *d, const struct gw_model_node *n,
		       struct gw_direct_response *r)
{
	static const char *const known[] = { "status", "body", NULL };

	dec_fields(d, n, known, NULL, r, direct_response_field);
	if (r->status == 0)
		dec_fail_field(d, n, "status", "required field is missing");
}

static void
regex_rewrite_field(struct decoder *d, void *obj, const char *key,
		    const struct gw_model_node *v)
{
	struct gw_rewrite *r = obj;

	if (key_is(key, "match"))
		r->uri_regex_match = dec_string(d, v);
	else
		r->uri_regex_rewrite = dec_string(d, v);
}

static void
rewrite_field(struct decoder *d, void *obj, const char *key,
	      const struct gw_model_node *v)
{
	static const char *const regex_known[] = { "match", "rewrite", NULL };
	struct gw_rewrite *r = obj;

	if (key_is(key, "uri")) {
		r->uri = dec_string(d, v);
	} else if (key_is(key, "authority")) {
		r->authority = dec_string(d, v);
	} else {
		dec_fields(d, v, regex_known, NULL, r, regex_rewrite_field);
		if (r->uri_regex_match == NULL || r->uri_regex_match[0] == 0 ||
		    r->uri_regex_rewrite == NULL)
			dec_fail(d, v, "UriRegexRewrite requires both Rewrite "
				 "and Match fields to be specified");
		if (strlen(r->uri_regex_match) > 1024)
			dec_fail(d, v, "regex is too large, max length "
				 "allowed is 1024");
		/* the gateway's own engine (lib/regex) must take both */
		{
			char err[256];
			struct gw_regex *re = gw_regex_compile(r->uri_regex_match,
							       err, sizeof(err));
			int rc;

			if (re == NULL)
				dec_fail_field(d, v, "match", "%s", err);
			rc = gw_regex_check_rewrite(re, r->uri_regex_rewrite,
						    err, sizeof(err));
			gw_regex_free(re);
			if (rc != 0)
				dec_fail_field(d, v, "rewrite", "%s", err);
		}
	}
}

void
model_rewrite_decode(struct decoder *d, const struct gw_model_node *n,
	       struct gw_rewrite *r)
{
	static const char *const known[] = {
		"uri", "uriRegexRewrite", "authority", NULL,
	};

	dec_fields(d, n, known, NULL, r, rewrite_field);
	if (r->uri != NULL && r->uri[0] != '\0' && r->uri_regex_match != NULL)
		dec_fail(d, n, "rewrite may only contain one of URI or "
			 "UriRegexRewrite");
	if ((r->uri == NULL || r->uri[0] == '\0') &&
	    r->uri_regex_match == NULL &&
	    (r->authority == NULL || r->authority[0] == '\0'))
		dec_fail(d, n, "rewrite must specify at least one of URI, "
			 "UriRegexRewrite, or authority");
}

/* Envoy retry_on values Istio accepts (supportedRetryOnPolicies). */
static bool
retry_on_policy_ok(const char *p)
{
	static const char *const policies[] = {
		"5xx", "gateway-error", "reset", "connect-failure",
		"retriable-4xx", "refused-stream", "retriable-status-codes",
		"retriable-headers", "envoy-ratelimited",
		"http3-post-connect-failure", "cancelled", "deadline-exceeded",
		"internal", "resource-exhausted", "unavailable",
		"reset-before-request",
	};
	char *end;
	long code;

	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcmp(p, policies[i]) == 0)
			return true;
	/* Or an HTTP status code to retry on. */
	code = strtol(p, &end, 10);
	return *p != '\0' && *end == '\0' && code >= 100 && code <= 599;
}

static void
retry_on_split(struct decoder *d, const struct gw_model_node *v,
	       struct gw_retries *r)
{
	char *copy = dec_strdup(d, r->retry_on);
	uint32_t n = 1;
	char *p, *save = NULL;

	for (p = copy; *p != '\0'; p++)
		if (*p == ',')
			n++;
	r->retry_on_list = dec_array(d, n, sizeof(*r->retry_on_list));
	for (p = strtok_r(copy, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save)) {
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!retry_on_policy_ok(p))
			dec_fail(d, v, "\"%.40s\" is not a valid retryOn policy",
				 p);
		r->retry_on_list[r->n_retry_on++] = p;
	}
}

static void
retries_field(struct decoder *d, void *obj, const char *key,
	      const struct gw_model_node *v)
{
	struct gw_retries *r = obj;

	if (key_is(key, "attempts")) {
		r->attempts = (int32_t)dec_int(d, v, INT32_MIN, INT32_MAX);
		if (r->attempts < 0)
			dec_fail(d, v, "attempts cannot be negative");
	} else if (key_is(key, "perTryTimeout")) {
		r->per_try_timeout_us = dec_duration(d, v);
	} else if (key_is(key, "retryOn")) {
		r->retry_on = dec_string(d, v);
		retry_on_split(d, v, r);
	} else {
		r->retry_remote_localities = dec_bool(d, v) ? 1 : 0;
	}
}

void
model_retries_decode(struct decoder *d, const struct gw_model_node *n,
	       struct gw_retries *r)
{
	static const char *const known[] = {
		"attempts", "perTryTimeout", "retryOn",
		"retryRemoteLocalities", NULL,
	};
	static const char *const unsupported[] = { "backoff", NULL };

	r->per_try_timeout_us = GW_MODEL_UNSET;
	r->retry_remote_localities = GW_MODEL_UNSET;
	dec_fields(d, n, known, unsupported, r, retries_field);
	if (r->attempts == 0 && (r->per_try_timeout_us != GW_MODEL_UNSET ||
	    (r->retry_on != NULL && r->retry_on[0] != '\0') ||
	    r->retry_remote_localities != GW_MODEL_UNSET))
		dec_fail(d, n, "http retry policy configured when attempts "
			 "are set to 0 (disabled)");
}

struct fault_ctx {
	struct gw_fault *f;
	bool has_percentage;
	bool has_percent;
	bool has_fixed_delay;
	bool has_status;
};

static void
delay_field(struct decoder *d, void *obj, const char *key,
	    const struct gw_model_node *v)
{
	struct fault_ctx *c = obj;

	if (key_is(key, "fixedDelay")) {
		c->f->delay.fixed_delay_us = dec_duration(d, v);
		c->has_fixed_delay = true;
	} else if (key_is(key, "percentage")) {
		c->f->delay.ppm = model_percent_decode(d, v);
		c->has_percentage = true;
	} else {
		/* Deprecated integer percent; percentage wins, as in Istio. */
		uint32_t ppm = (uint32_t)dec_int(d, v, 0, 100) * 10000u;

		if (!c->has_percentage)
			c->f->delay.ppm = ppm;
		c->has_percent = true;
	}
}

static void
abort_field(struct decoder *d, void *obj, const char *key,
	    const struct gw_model_node *v)
{
	struct fault_ctx *c = obj;
	int64_t status;

	if (key_is(key, "httpStatus")) {
		status = dec_int(d, v, INT32_MIN, INT32_MAX);
		if (status < 200 || status > 599)
			dec_fail(d, v, "HTTP status %d is not in range 200-599",
				 (int)status);
		c->f->abort.http_status = (uint16_t)status;
		c->has_status = true;
	} else {
		c->f->abort.ppm = model_percent_decode(d, v);
		c->has_percentage = true;
	}
}

static void
fault_field(struct decoder *d, void *obj, const char *key,
	    const struct gw_model_node *v)
{
	static const char *const delay_known[] = {
		"fixedDelay", "percentage", "percent", NULL,
	};
	static const char *const delay_unsupported[] = {
		"exponentialDelay", NULL,
	};
	static const char *const abort_known[] = {
		"httpStatus", "percentage", NULL,
	};
	static const char *const abort_unsupported[] = {
		"grpcStatus", "http2Error", NULL,
	};
	struct gw_fault *f = obj;
	struct fault_ctx c = { .f = f };

	if (key_is(key, "delay")) {
		f->has_delay = true;
		dec_fields(d, v, delay_known, delay_unsupported, &c,
			   delay_field);
		if (!c.has_fixed_delay)
			dec_fail_field(d, v, "fixedDelay",
				       "required field is missing");
		if (!c.has_percentage && !c.has_percent)
			f->delay.ppm = GW_MODEL_PPM_100;
	} else {
		f->has_abort = true;
		dec_fields(d, v, abort_known, abort_unsupported, &c,
			   abort_field);
		if (!c.has_status)
			dec_fail_field(d, v, "httpStatus",
				       "required field is missing");
		if (!c.has_percentage)
			f->abort.ppm = GW_MODEL_PPM_100;
	}
}

void
model_fault_decode(struct decoder *d, const struct gw_model_node *n,
	     struct gw_fault *f)
{
	static const char *const known[] = { "delay", "abort", NULL };

	dec_fields(d, n, known, NULL, f, fault_field);
	if (!f->has_delay && !f->has_abort)
		dec_fail(d, n, "HTTP fault injection must have an abort "
			 "and/or a delay");
}

static bool
cors_method_ok(const char *m)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
		"TRACE", "PATCH",
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i]) == 0)
			return true;
	return false;
}

static void
cors_field(struct decoder *d, void *obj, const char *key,
	   const struct gw_model_node *v)
{
	struct gw_cors *c = obj;

	if (key_is(key, "allowOrigins")) {
		dec_require_seq(d, v);
		c->allow_origins = dec_array(d, v->seq.n,
					     sizeof(*c->allow_origins));
		c->n_allow_origins = v->seq.n;
		for (uint32_t i = 0; i < v->seq.n; i++) {
			size_t mark = dec_path_index(d, i);
			struct gw_string_match m =
				dec_string_match(d, v->seq.items[i]);

			if (m.kind == GW_MODEL_MATCH_NONE || m.value[0] == '\0')
				dec_fail(d, v->seq.items[i], "'' is not a valid "
					 "match type for CORS allow origins");
			c->allow_origins[i] = m;
			dec_path_restore(d, mark);
		}
	} else if (key_is(key, "allowMethods")) {
		c->allow_methods = dec_string_list(d, v, &c->n_allow_methods);
		for (uint32_t i = 0; i < c->n_allow_methods; i++)
			if (!cors_method_ok(c->allow_methods[i]))
				dec_fail(d, v->seq.items[i], "\"%.40s\" is not "
					 "a supported HTTP method",
					 c->allow_methods[i]);
	} else if (key_is(key, "allowHeaders") ||
		   key_is(key, "exposeHeaders")) {
		bool allow = key_is(key, "allowHeaders");
		uint32_t n;
		const char **list = dec_string_list(d, v, &n);

		for (uint32_t i = 0; i < n; i++)
			if (list[i][0] == '\0')
				dec_fail(d, v->seq.items[i],
					 "header name cannot be empty");
		if (allow) {
			c->allow_headers = list;
			c->n_allow_headers = n;
		} else {
			c->expose_headers = list;
			c->n_expose_headers = n;
		}
	} else if (key_is(key, "maxAge")) {
		c->max_age_us = dec_duration(d, v);
		if (c->max_age_us % 1000000 != 0)
			dec_fail(d, v, "max_age duration is accurate only to "
				 "seconds precision");
	} else {
		c->allow_credentials = dec_bool(d, v) ? 1 : 0;
	}
}

void
model_cors_decode(struct decoder *d, const struct gw_model_node *n,
	    struct gw_cors *c)
{
	static const char *const known[] = {
		"allowOrigins", "allowMethods", "allowHeaders",
		"exposeHeaders", "maxAge", "allowCredentials", NULL,
	};
	static const char *const unsupported[] = {
		"allowOrigin", "unmatchedPreflights", NULL,
	};

	c->max_age_us = GW_MODEL_UNSET;
	c->allow_credentials = GW_MODEL_UNSET;
	dec_fields(d, n, known, unsupported, c, cors_field);
}

