/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DestinationRule: subsets and traffic policies, validated like Istio's
 * ValidateDestinationRule. The model keeps the rule's and each subset's
 * policy separately; the snapshot applies subset over rule.
 */
#include <stdio.h>
#include <string.h>

#include "model_private.h"

static bool
is_prime(int64_t n)
{
	if (n < 2)
		return false;
	for (int64_t i = 2; i * i <= n; i++)
		if (n % i == 0)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* loadBalancer                                                        */
/* ------------------------------------------------------------------ */

static void
cookie_field(struct decoder *d, void *obj, const char *key,
	     const struct gw_model_node *v)
{
	struct gw_consistent_hash *h = obj;

	if (key_is(key, "name"))
		h->cookie_name = dec_string(d, v);
	else if (key_is(key, "path"))
		h->cookie_path = dec_string(d, v);
	else
		h->cookie_ttl_us = dec_duration(d, v);
}

static void
table_size_field(struct decoder *d, void *obj, const char *key,
		 const struct gw_model_node *v)
{
	struct gw_consistent_hash *h = obj;

	if (key_is(key, "tableSize")) {
		h->table_size = dec_int(d, v, 0, UINT32_MAX);
		if (h->table_size != 0 && !is_prime(h->table_size))
			dec_fail(d, v, "tableSize must be a prime number");
	} else {
		h->minimum_ring_size = dec_int(d, v, 0, INT64_MAX);
	}
}

static void
set_hash_key(struct decoder *d, const struct gw_model_node *v,
	     struct gw_consistent_hash *h, enum gw_model_hash_key key)
{
	if (h->key != GW_MODEL_HASH_NONE)
		dec_fail(d, v, "only one of httpHeaderName, httpCookie, "
			 "useSourceIp or httpQueryParameterName may be set");
	h->key = key;
}

static void
hash_field(struct decoder *d, void *obj, const char *key,
	   const struct gw_model_node *v)
{
	static const char *const cookie_known[] = {
		"name", "path", "ttl", NULL,
	};
	static const char *const cookie_unsupported[] = {
		"attributes", NULL,
	};
	static const char *const maglev_known[] = { "tableSize", NULL };
	static const char *const ring_known[] = { "minimumRingSize", NULL };
	struct gw_consistent_hash *h = obj;

	if (key_is(key, "httpHeaderName")) {
		set_hash_key(d, v, h, GW_MODEL_HASH_HTTP_HEADER);
		h->header_name = dec_string_nonempty(d, v);
	} else if (key_is(key, "httpCookie")) {
		set_hash_key(d, v, h, GW_MODEL_HASH_HTTP_COOKIE);
		dec_fields(d, v, cookie_known, cookie_unsupported, h,
			   cookie_field);
		if (h->cookie_name == NULL || h->cookie_name[0] == '\0')
			dec_fail(d, v, "name required for HttpCookie");
	} else if (key_is(key, "useSourceIp")) {
		/* useSourceIp: false is the same as leaving it out. */
		if (dec_bool(d, v))
			set_hash_key(d, v, h, GW_MODEL_HASH_SOURCE_IP);
	} else if (key_is(key, "httpQueryParameterName")) {
		set_hash_key(d, v, h, GW_MODEL_HASH_QUERY_PARAM);
		h->query_param = dec_string_nonempty(d, v);
	} else if (key_is(key, "maglev") || key_is(key, "ringHash")) {
		bool maglev = key_is(key, "maglev");

		if (h->algo != GW_MODEL_HASH_ALGO_DEFAULT)
			dec_fail(d, v, "only one of maglev or ringHash may "
				 "be set");
		h->algo = maglev ? GW_MODEL_HASH_ALGO_MAGLEV :
			GW_MODEL_HASH_ALGO_RING;
		dec_fields(d, v, maglev ? maglev_known : ring_known, NULL, h,
			   table_size_field);
	} else {
		/* Legacy minimumRingSize: a ring hash. */
		if (h->algo == GW_MODEL_HASH_ALGO_MAGLEV)
			dec_fail(d, v, "only one of MinimumRingSize or Maglev "
				 "can be specified");
		if (h->algo == GW_MODEL_HASH_ALGO_RING)
			dec_fail(d, v, "only one of MinimumRingSize or "
				 "RingHash can be specified");
		h->minimum_ring_size = dec_int(d, v, 0, INT64_MAX);
		h->algo = GW_MODEL_HASH_ALGO_RING;
	}
}

static void
lb_field(struct decoder *d, void *obj, const char *key,
	 const struct gw_model_node *v)
{
	static const char *const hash_known[] = {
		"httpHeaderName", "httpCookie", "useSourceIp",
		"httpQueryParameterName", "maglev", "ringHash",
		"minimumRingSize", NULL,
	};
	static const struct {
		const char *name;
		enum gw_model_lb_simple lb;
	} simple[] = {
		{ "UNSPECIFIED", GW_MODEL_LB_UNSET },
		{ "ROUND_ROBIN", GW_MODEL_LB_ROUND_ROBIN },
		{ "LEAST_REQUEST", GW_MODEL_LB_LEAST_REQUEST },
		{ "LEAST_CONN", GW_MODEL_LB_LEAST_REQUEST },
		{ "RANDOM", GW_MODEL_LB_RANDOM },
		{ "PASSTHROUGH", GW_MODEL_LB_PASSTHROUGH },
	};
	struct gw_lb_policy *lb = obj;
	const char *s;
	size_t i;

	if (key_is(key, "simple")) {
		if (lb->has_consistent_hash)
			dec_fail(d, v, "only one of simple or consistentHash "
				 "may be set");
		s = dec_string(d, v);
		for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (strcmp(s, simple[i].name) == 0)
				break;
		if (i == sizeof(simple) / sizeof(simple[0]))
			dec_fail(d, v, "unknown load balancer \"%.40s\" (want "
				 "ROUND_ROBIN, LEAST_REQUEST, RANDOM or "
				 "PASSTHROUGH)", s);
		lb->simple = simple[i].lb;
		return;
	}
	if (lb->simple != GW_MODEL_LB_UNSET)
		dec_fail(d, v, "only one of simple or consistentHash may be "
			 "set");
	lb->has_consistent_hash = true;
	lb->hash.cookie_ttl_us = GW_MODEL_UNSET;
	lb->hash.table_size = GW_MODEL_UNSET;
	lb->hash.minimum_ring_size = GW_MODEL_UNSET;
	dec_fields(d, v, hash_known, NULL, &lb->hash, hash_field);
	if (lb->hash.key == GW_MODEL_HASH_NONE)
		dec_fail(d, v, "consistentHash needs one of httpHeaderName, "
			 "httpCookie, useSourceIp or httpQueryParameterName");
}

static void
lb_decode(struct decoder *d, const struct gw_model_node *n,
	  struct gw_lb_policy *lb)
{
	static const char *const known[] = {
		"simple", "consistentHash", NULL,
	};
	static const char *const unsupported[] = {
		"localityLbSetting", "warmupDurationSecs", "warmup", NULL,
	};

	lb->present = true;
	dec_fields(d, n, known, unsupported, lb, lb_field);
}

/* ------------------------------------------------------------------ */
/* connectionPool, outlierDetection, tls                               */
/* ------------------------------------------------------------------ */

static int32_t
dec_count(struct decoder *d, const struct gw_model_node *v, const char *what)
{
	int64_t n = dec_int(d, v, INT32_MIN, INT32_MAX);

	if (n < 0)
		dec_fail(d, v, "%s must be non-negative", what);
	return (int32_t)n;
}

static void
keepalive_field(struct decoder *d, void *obj, const char *key,
		const struct gw_model_node *v)
{
	struct gw_connection_pool *p = obj;

	if (key_is(key, "probes"))
		p->keepalive_probes = (int32_t)dec_int(d, v, 0, INT32_MAX);
	else if (key_is(key, "time"))
		p->keepalive_time_us = dec_duration(d, v);
	else
		p->keepalive_interval_us = dec_duration(d, v);
}

static void
pool_tcp_field(struct decoder *d, void *obj, const char *key,
	       const struct gw_model_node *v)
{
	static const char *const ka_known[] = {
		"probes", "time", "interval", NULL,
	};
	struct gw_connection_pool *p = obj;

	if (key_is(key, "maxConnections")) {
		p->max_connections = dec_count(d, v, "max connections");
	} else if (key_is(key, "connectTimeout")) {
		p->connect_timeout_us = dec_duration(d, v);
	} else {
		p->has_tcp_keepalive = true;
		dec_fields(d, v, ka_known, NULL, p, keepalive_field);
	}
}

static void
pool_http_field(struct decoder *d, void *obj, const char *key,
		const struct gw_model_node *v)
{
	struct gw_connection_pool *p = obj;

	if (key_is(key, "http1MaxPendingRequests"))
		p->http1_max_pending_requests = dec_count(d, v,
			"http1 max pending requests");
	else if (key_is(key, "http2MaxRequests"))
		p->http2_max_requests = dec_count(d, v,
			"http2 max requests");
	else if (key_is(key, "maxRequestsPerConnection"))
		p->max_requests_per_connection = dec_count(d, v,
			"max requests per connection");
	else if (key_is(key, "maxRetries"))
		p->max_retries = dec_count(d, v, "max retries");
	else
		p->idle_timeout_us = dec_duration(d, v);
}

static void
pool_field(struct decoder *d, void *obj, const char *key,
	   const struct gw_model_node *v)
{
	static const char *const tcp_known[] = {
		"maxConnections", "connectTimeout", "tcpKeepalive", NULL,
	};
	static const char *const tcp_unsupported[] = {
		"maxConnectionDuration", "idleTimeout", NULL,
	};
	static const char *const http_known[] = {
		"http1MaxPendingRequests", "http2MaxRequests",
		"maxRequestsPerConnection", "maxRetries", "idleTimeout", NULL,
	};
	static const char *const http_unsupported[] = {
		"h2UpgradePolicy", "useClientProtocol",
		"maxConcurrentStreams", NULL,
	};

	if (key_is(key, "tcp"))
		dec_fields(d, v, tcp_known, tcp_unsupported, obj,
			   pool_tcp_field);
	else
		dec_fields(d, v, http_known, http_unsupported, obj,
			   pool_http_field);
}

static void
pool_decode(struct decoder *d, const struct gw_model_node *n,
	    struct gw_connection_pool *p)
{
	static const char *const known[] = { "tcp", "http", NULL };

	p->present = true;
	p->max_connections = GW_MODEL_UNSET;
	p->connect_timeout_us = GW_MODEL_UNSET;
	p->keepalive_probes = GW_MODEL_UNSET;
	p->keepalive_time_us = GW_MODEL_UNSET;
	p->keepalive_interval_us = GW_MODEL_UNSET;
	p->http1_max_pending_requests = GW_MODEL_UNSET;
	p->http2_max_requests = GW_MODEL_UNSET;
	p->max_requests_per_connection = GW_MODEL_UNSET;
	p->max_retries = GW_MODEL_UNSET;
	p->idle_timeout_us = GW_MODEL_UNSET;
	dec_fields(d, n, known, NULL, p, pool_field);
	if (tree_map_get(n, "tcp") == NULL && tree_map_get(n, "http") == NULL)
		dec_fail(d, n, "connection pool must have at least one field");
}

static void
outlier_field(struct decoder *d, void *obj, const char *key,
	      const struct gw_model_node *v)
{
	struct gw_outlier_detection *o = obj;

	if (key_is(key, "consecutiveErrors")) {
		/* Deprecated: consecutive5xxErrors wins when both are set. */
		int32_t n = dec_count(d, v, "consecutiveErrors");

		if (o->consecutive_5xx_errors == GW_MODEL_UNSET)
			o->consecutive_5xx_errors = n;
	} else if (key_is(key, "consecutive5xxErrors")) {
		o->consecutive_5xx_errors = (int32_t)dec_int(d, v, 0,
							      INT32_MAX);
	} else if (key_is(key, "consecutiveGatewayErrors")) {
		o->consecutive_gateway_errors = (int32_t)dec_int(d, v, 0,
								  INT32_MAX);
	} else if (key_is(key, "interval")) {
		o->interval_us = dec_duration(d, v);
	} else if (key_is(key, "baseEjectionTime")) {
		o->base_ejection_time_us = dec_duration(d, v);
	} else {
		int64_t pct = dec_int(d, v, INT32_MIN, INT32_MAX);

		if (pct < 0 || pct > 100)
			dec_fail(d, v, "percentage %d is not in range 0..100",
				 (int)pct);
		if (key_is(key, "maxEjectionPercent"))
			o->max_ejection_percent = (int32_t)pct;
		else
			o->min_health_percent = (int32_t)pct;
	}
}

static void
outlier_decode(struct decoder *d, const struct gw_model_node *n,
	       struct gw_outlier_detection *o)
{
	static const char *const known[] = {
		"consecutiveErrors", "consecutive5xxErrors",
		"consecutiveGatewayErrors", "interval", "baseEjectionTime",
		"maxEjectionPercent", "minHealthPercent", NULL,
	};
	static const char *const unsupported[] = {
		"consecutiveLocalOriginFailures",
		"splitExternalLocalOriginErrors", NULL,
	};
	const struct gw_model_node *k5 = tree_map_get(n, "consecutive5xxErrors");

	o->present = true;
	o->consecutive_5xx_errors = GW_MODEL_UNSET;
	o->consecutive_gateway_errors = GW_MODEL_UNSET;
	o->interval_us = GW_MODEL_UNSET;
	o->base_ejection_time_us = GW_MODEL_UNSET;
	o->max_ejection_percent = GW_MODEL_UNSET;
	o->min_health_percent = GW_MODEL_UNSET;
	dec_fields(d, n, known, unsupported, o, outlier_field);
	/* Field order must not decide which of the two counts wins. */
	if (k5 != NULL && !tree_is_null(k5)) {
		size_t mark = dec_path_key(d, "consecutive5xxErrors");

		o->consecutive_5xx_errors = (int32_t)dec_int(d, k5, 0,
							      INT32_MAX);
		dec_path_restore(d, mark);
	}
}

static void
tls_field(struct decoder *d, void *obj, const char *key,
	  const struct gw_model_node *v)
{
	enum gw_model_tls_mode *mode = obj;
	const char *s = dec_string(d, v);

	(void)key;
	if (strcmp(s, "DISABLE") != 0)
		dec_fail(d, v, "tls mode %.40s is not supported by this "
			 "gateway (only DISABLE)", s);
	*mode = GW_MODEL_TLS_DISABLE;
}

static void
tls_decode(struct decoder *d, const struct gw_model_node *n,
	   enum gw_model_tls_mode *mode)
{
	static const char *const known[] = { "mode", NULL };
	static const char *const unsupported[] = {
		"clientCertificate", "privateKey", "caCertificates",
		"credentialName", "subjectAltNames", "sni",
		"insecureSkipVerify", "caCrl", NULL,
	};

	dec_fields(d, n, known, unsupported, mode, tls_field);
	if (*mode == GW_MODEL_TLS_UNSET)
		*mode = GW_MODEL_TLS_DISABLE;
}

/* ------------------------------------------------------------------ */
/* trafficPolicy                                                       */
/* ------------------------------------------------------------------ */

static void
port_number_field(struct decoder *d, void *obj, const char *key,
		  const struct gw_model_node *v)
{
	struct gw_port_policy *p = obj;

	(void)key;
	p->port = dec_port(d, v);
}

static void
port_policy_field(struct decoder *d, void *obj, const char *key,
		  const struct gw_model_node *v)
{
	static const char *const port_known[] = { "number", NULL };
	struct gw_port_policy *p = obj;

	if (key_is(key, "port")) {
		dec_fields(d, v, port_known, NULL, p, port_number_field);
		if (p->port == 0)
			dec_fail(d, v, "portTrafficPolicy must have valid port");
	} else if (key_is(key, "loadBalancer")) {
		lb_decode(d, v, &p->load_balancer);
	} else if (key_is(key, "connectionPool")) {
		pool_decode(d, v, &p->connection_pool);
	} else if (key_is(key, "outlierDetection")) {
		outlier_decode(d, v, &p->outlier_detection);
	} else {
		tls_decode(d, v, &p->tls_mode);
	}
}

static void
port_level_decode(struct decoder *d, const struct gw_model_node *n,
		  struct gw_traffic_policy *tp)
{
	static const char *const known[] = {
		"port", "loadBalancer", "connectionPool", "outlierDetection",
		"tls", NULL,
	};

	dec_require_seq(d, n);
	tp->port_level = dec_array(d, n->seq.n, sizeof(*tp->port_level));
	tp->n_port_level = n->seq.n;
	for (uint32_t i = 0; i < n->seq.n; i++) {
		const struct gw_model_node *item = n->seq.items[i];
		struct gw_port_policy *p = &tp->port_level[i];
		size_t mark = dec_path_index(d, i);

		dec_fields(d, item, known, NULL, p, port_policy_field);
		if (p->port == 0)
			dec_fail_field(d, item, "port", "portTrafficPolicy "
				       "must have valid port");
		if (item->map.n < 2)
			dec_fail(d, item, "port traffic policy must have at "
				 "least one field");
		for (uint32_t j = 0; j < i; j++)
			if (tp->port_level[j].port == p->port)
				dec_fail(d, item, "duplicate port %u in "
					 "portLevelSettings", (unsigned)p->port);
		dec_path_restore(d, mark);
	}
}

static void
policy_field(struct decoder *d, void *obj, const char *key,
	     const struct gw_model_node *v)
{
	struct gw_traffic_policy *tp = obj;

	if (key_is(key, "loadBalancer"))
		lb_decode(d, v, &tp->load_balancer);
	else if (key_is(key, "connectionPool"))
		pool_decode(d, v, &tp->connection_pool);
	else if (key_is(key, "outlierDetection"))
		outlier_decode(d, v, &tp->outlier_detection);
	else if (key_is(key, "tls"))
		tls_decode(d, v, &tp->tls_mode);
	else
		port_level_decode(d, v, tp);
}

static void
policy_decode(struct decoder *d, const struct gw_model_node *n,
	      struct gw_traffic_policy *tp)
{
	static const char *const known[] = {
		"loadBalancer", "connectionPool", "outlierDetection", "tls",
		"portLevelSettings", NULL,
	};
	static const char *const unsupported[] = {
		"proxyProtocol", "tunnel", NULL,
	};

	tp->present = true;
	dec_fields(d, n, known, unsupported, tp, policy_field);
	if (n->map.n == 0)
		dec_fail(d, n, "traffic policy must have at least one field");
}

/* ------------------------------------------------------------------ */
/* The spec                                                            */
/* ------------------------------------------------------------------ */

static void
subset_field(struct decoder *d, void *obj, const char *key,
	     const struct gw_model_node *v)
{
	struct gw_subset *s = obj;

	if (key_is(key, "name")) {
		s->name = dec_string(d, v);
		if (s->name[0] == '\0')
			dec_fail(d, v, "subset name cannot be empty");
		if (!model_dns1123_label(s->name))
			dec_fail(d, v, "subset name is invalid: %.80s",
				 s->name);
	} else if (key_is(key, "labels")) {
		s->labels = dec_labels(d, v, &s->n_labels);
	} else {
		policy_decode(d, v, &s->traffic_policy);
	}
}

static void
dr_field(struct decoder *d, void *obj, const char *key,
	 const struct gw_model_node *v)
{
	static const char *const subset_known[] = {
		"name", "labels", "trafficPolicy", NULL,
	};
	struct gw_dr *dr = obj;

	if (key_is(key, "host")) {
		dr->host = dec_string(d, v);
		dec_check_host(d, v, dr->host, true);
	} else if (key_is(key, "trafficPolicy")) {
		policy_decode(d, v, &dr->traffic_policy);
	} else if (key_is(key, "exportTo")) {
		dr->export_to = dec_export_to(d, v, &dr->n_export_to);
	} else {
		dec_require_seq(d, v);
		dr->subsets = dec_array(d, v->seq.n, sizeof(*dr->subsets));
		dr->n_subsets = v->seq.n;
		for (uint32_t i = 0; i < v->seq.n; i++) {
			const struct gw_model_node *item = v->seq.items[i];
			struct gw_subset *s = &dr->subsets[i];
			size_t mark = dec_path_index(d, i);

			dec_fields(d, item, subset_known, NULL, s,
				   subset_field);
			if (s->name == NULL)
				dec_fail_field(d, item, "name",
					       "subset name cannot be empty");
			for (uint32_t j = 0; j < i; j++)
				if (strcmp(dr->subsets[j].name, s->name) == 0)
					dec_fail_field(d, item, "name",
						"duplicate subset names: %.80s",
						s->name);
			dec_path_restore(d, mark);
		}
	}
}

void
model_dr_decode(struct decoder *d, const struct gw_model_node *spec,
		struct gw_dr *dr)
{
	static const char *const known[] = {
		"host", "trafficPolicy", "subsets", "exportTo", NULL,
	};
	static const char *const unsupported[] = { "workloadSelector", NULL };

	dec_fields(d, spec, known, unsupported, dr, dr_field);
	if (dr->host == NULL)
		dec_fail_field(d, spec, "host", "required field is missing");
}
