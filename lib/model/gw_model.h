/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stable: add only. lib/match, lib/lb and lib/route compile against these
 * types; never rename or remove a type, field, enumerator or function here.
 */
#ifndef GW_MODEL_H
#define GW_MODEL_H

/**
 * @file
 * The Istio traffic model: VirtualService, DestinationRule, ServiceEntry,
 * WorkloadEntry and Gateway (`networking.istio.io/v1`, `v1beta1`,
 * `v1alpha3`) loaded from multi-document YAML, validated like Istio does,
 * and kept in a store of applied resources (the running configuration).
 * No EAL needed.
 *
 * Ownership: every resource lives in one arena of its own (its node tree,
 * its strings, its arrays), freed in one go when the last reference goes.
 * All pointers reached from a resource stay valid while the resource is
 * referenced by a set or a store. Strings are NUL-terminated, never NULL
 * when documented as required, NULL when an optional field is absent.
 *
 * Errors are reported as "FILE:LINE:COL: FIELD: reason" (LINE and COL
 * 1-based, pointing at the offending node) in a caller-supplied buffer, one
 * line per rejected document, e.g.
 * "vs.yaml:13:15: spec.http[0].route[1].weight: weight -5 < 0".
 *
 * Units: durations are microseconds (int64_t, GW_MODEL_UNSET = absent),
 * percentages parts per million (uint32_t, 1,000,000 = 100 %, exact from the
 * decimal text), IPv4 addresses in network byte order, ports uint16_t with
 * 0 meaning "absent".
 *
 * Weights follow Istio's current rule (validateHTTPRouteDestinations):
 * every weight must be >= 0, and when a route has several destinations their
 * total must not be 0. Weights are relative: destination i receives
 * weight_i / total_weight of the requests; a single destination receives
 * everything whatever its weight. Sums of 100 (80/20) are the usual case.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Value of an optional signed numeric field that is absent. */
#define GW_MODEL_UNSET (-1)
/** 100 % in parts per million. */
#define GW_MODEL_PPM_100 1000000u
/** The default namespace of a resource without metadata.namespace. */
#define GW_MODEL_DEFAULT_NAMESPACE "default"

/* ------------------------------------------------------------------ */
/* Small shared types                                                  */
/* ------------------------------------------------------------------ */

/** Resource kinds. */
enum gw_model_kind {
	GW_MODEL_KIND_VIRTUAL_SERVICE = 0,
	GW_MODEL_KIND_DESTINATION_RULE,
	GW_MODEL_KIND_SERVICE_ENTRY,
	GW_MODEL_KIND_WORKLOAD_ENTRY,
	GW_MODEL_KIND_GATEWAY,
	GW_MODEL_KIND_COUNT,       /**< number of kinds; also "any kind" */
};

/** A key/value pair (labels, annotations, header operations, ports map). */
struct gw_kv {
	const char *key;
	const char *value;
};

/** StringMatch kinds. NONE is `{}`: "present" in header/query matches. */
enum gw_string_match_kind {
	GW_MODEL_MATCH_NONE = 0,
	GW_MODEL_MATCH_EXACT,
	GW_MODEL_MATCH_PREFIX,
	GW_MODEL_MATCH_REGEX,
};

/** Istio StringMatch: one of exact, prefix, regex (RE2 syntax). */
struct gw_string_match {
	enum gw_string_match_kind kind;
	const char *value;          /**< NULL when kind is NONE */
};

/** An IPv4 or IPv6 address with a prefix length (host: 32 or 128). */
struct gw_ip_prefix {
	uint8_t family;             /**< AF_INET or AF_INET6 */
	uint8_t prefix_len;
	union {
		uint32_t v4;        /**< network byte order */
		uint8_t v6[16];
	} addr;
};

/** Application protocols of ports (Istio names, case-insensitive). */
enum gw_model_protocol {
	GW_MODEL_PROTOCOL_UNSET = 0,
	GW_MODEL_PROTOCOL_HTTP,
	GW_MODEL_PROTOCOL_HTTPS,
	GW_MODEL_PROTOCOL_HTTP2,
	GW_MODEL_PROTOCOL_GRPC,
	GW_MODEL_PROTOCOL_TCP,
	GW_MODEL_PROTOCOL_TLS,
	GW_MODEL_PROTOCOL_MONGO,
	GW_MODEL_PROTOCOL_UDP,
};

/** Header operations of one direction: set, add, remove. */
struct gw_header_ops {
	struct gw_kv *set;          /**< replace (names as written) */
	uint32_t n_set;
	struct gw_kv *add;          /**< append */
	uint32_t n_add;
	const char **remove;
	uint32_t n_remove;
};

/** Istio Headers: operations on the request and on the response. */
struct gw_headers {
	struct gw_header_ops request;
	struct gw_header_ops response;
};

/* ------------------------------------------------------------------ */
/* VirtualService                                                      */
/* ------------------------------------------------------------------ */

/** A header (or query parameter) condition. */
struct gw_header_match {
	const char *name;           /**< header names lower-cased */
	struct gw_string_match match;
	bool present_only;          /**< `{}`: the header must be present */
};

/** HTTPMatchRequest: all set conditions must hold (AND). */
struct gw_http_match {
	const char *name;           /**< NULL if absent */
	struct gw_string_match uri;       /**< kind NONE = any */
	struct gw_string_match scheme;
	struct gw_string_match method;
	struct gw_string_match authority;
	struct gw_header_match *headers;
	uint32_t n_headers;
	struct gw_header_match *without_headers; /**< must not match */
	uint32_t n_without_headers;
	struct gw_header_match *query_params;    /**< exact/regex/present */
	uint32_t n_query_params;
	uint16_t port;              /**< 0 = any listener port */
	bool ignore_uri_case;
};

/** Destination: a service host, optional subset and port. */
struct gw_destination {
	const char *host;           /**< required */
	const char *subset;         /**< NULL if absent */
	uint16_t port;              /**< 0 = absent */
};

/** HTTPRouteDestination. */
struct gw_http_destination {
	struct gw_destination destination;
	uint32_t weight;            /**< as written, 0 if absent */
	bool weight_set;
	struct gw_headers headers;
};

/** One mirror target (from `mirrors`, or the legacy `mirror`). */
struct gw_mirror {
	struct gw_destination destination;
	uint32_t ppm;               /**< share of requests mirrored */
	bool legacy;                /**< built from `mirror` + percentage */
};

/** HTTPRedirect `derivePort`. */
enum gw_model_derive_port {
	GW_MODEL_DERIVE_PORT_UNSET = 0,
	GW_MODEL_DERIVE_PORT_FROM_PROTOCOL_DEFAULT,
	GW_MODEL_DERIVE_PORT_FROM_REQUEST_PORT,
};

/** HTTPRedirect. */
struct gw_redirect {
	const char *uri;            /**< NULL = keep */
	const char *authority;      /**< NULL = keep */
	const char *scheme;         /**< NULL = keep; "http" or "https" */
	uint16_t port;              /**< 0 = keep */
	enum gw_model_derive_port derive_port;
	uint16_t code;              /**< 3xx, default 301 */
};

/** HTTPDirectResponse. */
struct gw_direct_response {
	uint16_t status;            /**< 200..599 */
	bool has_body;
	const uint8_t *body;        /**< body.string or decoded body.bytes */
	uint32_t body_len;
};

/** HTTPRewrite. */
struct gw_rewrite {
	const char *uri;            /**< prefix rewrite, NULL if absent */
	const char *uri_regex_match;    /**< uriRegexRewrite.match */
	const char *uri_regex_rewrite;  /**< uriRegexRewrite.rewrite */
	const char *authority;
};

/** HTTPRetry. */
struct gw_retries {
	int32_t attempts;
	int64_t per_try_timeout_us; /**< GW_MODEL_UNSET if absent */
	const char *retry_on;       /**< as written, NULL if absent */
	const char **retry_on_list; /**< retry_on split at commas, trimmed */
	uint32_t n_retry_on;
	int8_t retry_remote_localities; /**< GW_MODEL_UNSET, 0 or 1 */
};

/** HTTPFaultInjection.Delay. */
struct gw_fault_delay {
	int64_t fixed_delay_us;
	uint32_t ppm;               /**< percentage or percent; 100 % if absent */
};

/** HTTPFaultInjection.Abort. */
struct gw_fault_abort {
	uint16_t http_status;       /**< 200..599 */
	uint32_t ppm;               /**< 100 % if absent */
};

/** HTTPFaultInjection. */
struct gw_fault {
	bool has_delay;
	struct gw_fault_delay delay;
	bool has_abort;
	struct gw_fault_abort abort;
};

/** CorsPolicy. */
struct gw_cors {
	struct gw_string_match *allow_origins;
	uint32_t n_allow_origins;
	const char **allow_methods;
	uint32_t n_allow_methods;
	const char **allow_headers;
	uint32_t n_allow_headers;
	const char **expose_headers;
	uint32_t n_expose_headers;
	int64_t max_age_us;         /**< GW_MODEL_UNSET if absent */
	int8_t allow_credentials;   /**< GW_MODEL_UNSET, 0 or 1 */
};

/** HTTPRoute: one ordered rule of a VirtualService. */
struct gw_http_route {
	const char *name;           /**< NULL if absent */
	struct gw_http_match *matches;  /**< OR of matches; none = match all */
	uint32_t n_matches;
	struct gw_http_destination *route;
	uint32_t n_route;
	uint64_t total_weight;      /**< sum of route[].weight */

	/** Legacy `mirror` as written (NULL if absent) and its share:
	 * mirrorPercentage, else mirror_percent, else 100 %. */
	const struct gw_destination *mirror;
	uint32_t mirror_ppm;
	/** Every mirror target to use, the legacy one included: read these. */
	struct gw_mirror *mirrors;
	uint32_t n_mirrors;

	bool has_redirect;
	struct gw_redirect redirect;
	bool has_direct_response;
	struct gw_direct_response direct_response;
	bool has_rewrite;
	struct gw_rewrite rewrite;
	int64_t timeout_us;         /**< GW_MODEL_UNSET if absent; 0 = none */
	bool has_retries;
	struct gw_retries retries;
	bool has_fault;
	struct gw_fault fault;
	struct gw_headers headers;
	bool has_cors;
	struct gw_cors cors;
};

/** L4MatchAttributes. */
struct gw_tcp_match {
	struct gw_ip_prefix *destination_subnets;
	uint32_t n_destination_subnets;
	uint16_t port;              /**< 0 = any */
};

/** RouteDestination (TCP). */
struct gw_tcp_destination {
	struct gw_destination destination;
	uint32_t weight;
	bool weight_set;
};

/** TCPRoute. */
struct gw_tcp_route {
	struct gw_tcp_match *matches;
	uint32_t n_matches;
	struct gw_tcp_destination *route;
	uint32_t n_route;
	uint64_t total_weight;
};

/** VirtualService spec. */
struct gw_vs {
	const char **hosts;
	uint32_t n_hosts;
	const char **gateways;      /**< as written ("ns/name", "mesh") */
	uint32_t n_gateways;
	const char **export_to;
	uint32_t n_export_to;
	struct gw_http_route *http;
	uint32_t n_http;
	struct gw_tcp_route *tcp;
	uint32_t n_tcp;
};

/* ------------------------------------------------------------------ */
/* DestinationRule                                                     */
/* ------------------------------------------------------------------ */

/** LoadBalancerSettings.simple (LEAST_CONN is read as LEAST_REQUEST). */
enum gw_model_lb_simple {
	GW_MODEL_LB_UNSET = 0,      /**< also UNSPECIFIED: the default */
	GW_MODEL_LB_ROUND_ROBIN,
	GW_MODEL_LB_LEAST_REQUEST,
	GW_MODEL_LB_RANDOM,
	GW_MODEL_LB_PASSTHROUGH,
};

/** What a consistent hash is computed on. */
enum gw_model_hash_key {
	GW_MODEL_HASH_NONE = 0,
	GW_MODEL_HASH_HTTP_HEADER,
	GW_MODEL_HASH_HTTP_COOKIE,
	GW_MODEL_HASH_SOURCE_IP,
	GW_MODEL_HASH_QUERY_PARAM,
};

/** The consistent hash algorithm. */
enum gw_model_hash_algo {
	GW_MODEL_HASH_ALGO_DEFAULT = 0, /**< neither maglev nor ringHash */
	GW_MODEL_HASH_ALGO_RING,
	GW_MODEL_HASH_ALGO_MAGLEV,
};

/** ConsistentHashLB. */
struct gw_consistent_hash {
	enum gw_model_hash_key key;
	const char *header_name;    /**< httpHeaderName */
	const char *cookie_name;    /**< httpCookie.name */
	const char *cookie_path;    /**< httpCookie.path, NULL if absent */
	int64_t cookie_ttl_us;      /**< httpCookie.ttl, GW_MODEL_UNSET */
	const char *query_param;    /**< httpQueryParameterName */
	enum gw_model_hash_algo algo;
	int64_t table_size;         /**< maglev.tableSize, GW_MODEL_UNSET */
	int64_t minimum_ring_size;  /**< ringHash or legacy, GW_MODEL_UNSET */
};

/** LoadBalancerSettings. */
struct gw_lb_policy {
	bool present;
	enum gw_model_lb_simple simple;
	bool has_consistent_hash;
	struct gw_consistent_hash hash;
};

/** ConnectionPoolSettings; every number GW_MODEL_UNSET if absent. */
struct gw_connection_pool {
	bool present;
	/* tcp */
	int32_t max_connections;
	int64_t connect_timeout_us;
	bool has_tcp_keepalive;
	int32_t keepalive_probes;
	int64_t keepalive_time_us;
	int64_t keepalive_interval_us;
	/* http */
	int32_t http1_max_pending_requests;
	int32_t http2_max_requests;
	int32_t max_requests_per_connection;
	int32_t max_retries;
	int64_t idle_timeout_us;
};

/** OutlierDetection; every number GW_MODEL_UNSET if absent. */
struct gw_outlier_detection {
	bool present;
	/** consecutive5xxErrors, or deprecated consecutiveErrors */
	int32_t consecutive_5xx_errors;
	int32_t consecutive_gateway_errors;
	int64_t interval_us;
	int64_t base_ejection_time_us;
	int32_t max_ejection_percent;
	int32_t min_health_percent;
};

/** ClientTLSSettings.mode: only DISABLE is supported. */
enum gw_model_tls_mode {
	GW_MODEL_TLS_UNSET = 0,
	GW_MODEL_TLS_DISABLE,
};

/** TrafficPolicy.PortTrafficPolicy. */
struct gw_port_policy {
	uint16_t port;
	struct gw_lb_policy load_balancer;
	struct gw_connection_pool connection_pool;
	struct gw_outlier_detection outlier_detection;
	enum gw_model_tls_mode tls_mode;
};

/** TrafficPolicy. The snapshot applies subset over rule over port-level. */
struct gw_traffic_policy {
	bool present;
	struct gw_lb_policy load_balancer;
	struct gw_connection_pool connection_pool;
	struct gw_outlier_detection outlier_detection;
	enum gw_model_tls_mode tls_mode;
	struct gw_port_policy *port_level;
	uint32_t n_port_level;
};

/** Subset. */
struct gw_subset {
	const char *name;
	struct gw_kv *labels;
	uint32_t n_labels;
	struct gw_traffic_policy traffic_policy;
};

/** DestinationRule spec. */
struct gw_dr {
	const char *host;
	struct gw_traffic_policy traffic_policy;
	struct gw_subset *subsets;
	uint32_t n_subsets;
	const char **export_to;
	uint32_t n_export_to;
};

/* ------------------------------------------------------------------ */
/* ServiceEntry, WorkloadEntry                                         */
/* ------------------------------------------------------------------ */

/** ServiceEntry.location. */
enum gw_model_location {
	GW_MODEL_LOCATION_MESH_EXTERNAL = 0, /**< the default */
	GW_MODEL_LOCATION_MESH_INTERNAL,
};

/** ServiceEntry.resolution: only STATIC is supported. */
enum gw_model_resolution {
	GW_MODEL_RESOLUTION_STATIC = 0,
};

/** ServicePort. */
struct gw_service_port {
	uint16_t number;
	const char *protocol;       /**< as written, NULL if absent */
	enum gw_model_protocol proto;
	const char *name;
	uint16_t target_port;       /**< 0 = same as number */
};

/**
 * A workload: a ServiceEntry endpoint or a WorkloadEntry spec.
 * `address` is an IP address (no DNS names: resolution is STATIC).
 */
struct gw_workload {
	const char *address;
	struct gw_ip_prefix ip;     /**< parsed address, full prefix length */
	struct gw_kv *ports;        /**< port name -> number (value as text) */
	uint16_t *port_numbers;     /**< parallel to ports */
	uint32_t n_ports;
	struct gw_kv *labels;
	uint32_t n_labels;
	uint32_t weight;            /**< 0 if absent (means 1 for LB) */
	const char *network;
	const char *locality;
	const char *service_account;
};

/** ServiceEntry spec. */
struct gw_se {
	const char **hosts;
	uint32_t n_hosts;
	struct gw_ip_prefix *addresses;
	uint32_t n_addresses;
	struct gw_service_port *ports;
	uint32_t n_ports;
	enum gw_model_location location;
	enum gw_model_resolution resolution;
	struct gw_workload *endpoints;
	uint32_t n_endpoints;
	bool has_workload_selector;
	struct gw_kv *workload_selector; /**< workloadSelector.labels */
	uint32_t n_workload_selector;
	const char **export_to;
	uint32_t n_export_to;
};

/** WorkloadEntry spec. */
struct gw_we {
	struct gw_workload workload;
};

/* ------------------------------------------------------------------ */
/* Gateway                                                             */
/* ------------------------------------------------------------------ */

/** Server of a Gateway (a listener): plain HTTP or TCP, `tls` absent. */
struct gw_gateway_server {
	uint16_t port;
	const char *port_name;
	const char *protocol;       /**< as written */
	enum gw_model_protocol proto;
	const char **hosts;         /**< "ns/host" or "host", "*" */
	uint32_t n_hosts;
	const char *name;
};

/** Gateway spec. */
struct gw_gateway {
	struct gw_kv *selector;
	uint32_t n_selector;
	struct gw_gateway_server *servers;
	uint32_t n_servers;
};

/* ------------------------------------------------------------------ */
/* Resources                                                           */
/* ------------------------------------------------------------------ */

/** Kubernetes object metadata. */
struct gw_model_meta {
	const char *name;           /**< DNS-1123 subdomain, required */
	const char *namespace;      /**< "default" when absent */
	struct gw_kv *labels;
	uint32_t n_labels;
	struct gw_kv *annotations;
	uint32_t n_annotations;
};

/** Opaque internals (node tree, arena) of a resource. */
struct gw_model_node;
struct gw_model_arena;

/**
 * One loaded resource. Read-only for users; reference counted so that a
 * set and a store can share it.
 */
struct gw_model_resource {
	enum gw_model_kind kind;
	const char *api_version;    /**< as written */
	struct gw_model_meta meta;
	const char *file;           /**< where it was read from */
	uint32_t line;              /**< 1-based line of the document start */
	union {
		struct gw_vs *vs;
		struct gw_dr *dr;
		struct gw_se *se;
		struct gw_we *we;
		struct gw_gateway *gateway;
	} spec;
	/* private */
	uint32_t refcnt;
	struct gw_model_arena *arena;
	struct gw_model_node *tree; /**< the document as parsed */
};

/** What applying or deleting did to one resource (kubectl's words). */
enum gw_model_action {
	GW_MODEL_ACTION_NONE = 0,
	GW_MODEL_ACTION_CREATED,
	GW_MODEL_ACTION_CONFIGURED,
	GW_MODEL_ACTION_UNCHANGED,
	GW_MODEL_ACTION_DELETED,
	GW_MODEL_ACTION_NOT_FOUND,
};

/** A batch of resources read from one or several files. */
struct gw_model_set;
/** The applied resources: the gateway's running configuration. */
struct gw_model_store;

/* ------------------------------------------------------------------ */
/* Kinds                                                               */
/* ------------------------------------------------------------------ */

/**
 * Resolve a kind from a word: full name, plural or short name, any case
 * ("VirtualService", "virtualservices", "vs", "dr", "se", "we", "gw").
 * @return 0 and *kind set, or -EINVAL.
 */
int gw_model_kind_parse(const char *word, enum gw_model_kind *kind);

/** "VirtualService" (the YAML kind). Never NULL. */
const char *gw_model_kind_name(enum gw_model_kind kind);

/** "virtualservice" (singular, lower case, as kubectl prints it). */
const char *gw_model_kind_singular(enum gw_model_kind kind);

/** "virtualservices". */
const char *gw_model_kind_plural(enum gw_model_kind kind);

/** "created", "configured", "unchanged", "deleted", "not found". */
const char *gw_model_action_name(enum gw_model_action action);

/* ------------------------------------------------------------------ */
/* Loading: sets                                                       */
/* ------------------------------------------------------------------ */

/** An empty set, or NULL when out of memory. */
struct gw_model_set *gw_model_set_create(void);

/** Drop the set's references to its resources and free it. NULL-safe. */
void gw_model_set_free(struct gw_model_set *set);

/**
 * Parse and validate every document of a YAML buffer and append the
 * resources to the set, all or nothing: on any error the set is unchanged.
 * Empty documents (comments only) are skipped.
 *
 * @param file name used in messages and recorded in the resources
 * @param err  receives one "file:line:col: field: message" line per
 *             rejected document (newline separated, truncated to errlen)
 * @return number of resources added, or -GW_ECONFIG (-ENOMEM).
 */
int gw_model_set_load_buffer(struct gw_model_set *set, const char *buf,
			     size_t len, const char *file,
			     char *err, size_t errlen);

/**
 * gw_model_set_load_buffer() on a file's contents; path "-" reads stdin
 * and names it "<stdin>". Unreadable files are reported in err.
 */
int gw_model_set_load_file(struct gw_model_set *set, const char *path,
			   char *err, size_t errlen);

/**
 * Load every *.yaml and *.yml file of a directory, in name order, as one
 * all-or-nothing batch.
 */
int gw_model_set_load_dir(struct gw_model_set *set, const char *dir,
			  char *err, size_t errlen);

/** Number of resources in the set. */
uint32_t gw_model_set_count(const struct gw_model_set *set);

/** Resource i of the set in load order, NULL when out of range. */
const struct gw_model_resource *
gw_model_set_at(const struct gw_model_set *set, uint32_t i);

/** What the last apply or delete did to resource i of the set. */
enum gw_model_action gw_model_set_action(const struct gw_model_set *set,
					 uint32_t i);

/**
 * Cross-resource validation of the set as it would be applied on store
 * (store may be NULL: the set alone, as `gwctl validate` does): duplicate
 * resources within the set, routes naming a subset that the
 * DestinationRule(s) for that host do not define.
 * @return 0, or -GW_ECONFIG with the messages in err.
 */
int gw_model_set_validate(const struct gw_model_set *set,
			  const struct gw_model_store *store,
			  char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* The store                                                           */
/* ------------------------------------------------------------------ */

/** An empty store, or NULL when out of memory. */
struct gw_model_store *gw_model_store_create(void);

/** Free the store and drop its references. NULL-safe. */
void gw_model_store_free(struct gw_model_store *store);

/**
 * Apply a set, all or nothing: validate it against the store as it would
 * become (gw_model_set_validate()), then insert or replace by
 * kind+namespace+name. gw_model_set_action() reports created, configured
 * or unchanged (same document contents) per resource. The store takes its
 * own references; the caller still frees the set.
 * @return number of resources created or configured, or -GW_ECONFIG with
 *         the store unchanged.
 */
int gw_model_store_apply(struct gw_model_store *store,
			 struct gw_model_set *set, char *err, size_t errlen);

/**
 * Delete one resource.
 * @param namespace NULL means "default"
 * @return 0, or -ENOENT when there is none.
 */
int gw_model_store_delete(struct gw_model_store *store,
			  enum gw_model_kind kind, const char *namespace,
			  const char *name);

/**
 * Delete the resources named by a set (kubectl delete -f FILE);
 * gw_model_set_action() reports deleted or not found per resource.
 * @return number deleted.
 */
int gw_model_store_delete_set(struct gw_model_store *store,
			      struct gw_model_set *set);

/** Look a resource up; namespace NULL means "default". NULL if absent. */
const struct gw_model_resource *
gw_model_store_get(const struct gw_model_store *store,
		   enum gw_model_kind kind, const char *namespace,
		   const char *name);

/** Number of resources of a kind (GW_MODEL_KIND_COUNT: all kinds). */
uint32_t gw_model_store_count(const struct gw_model_store *store,
			      enum gw_model_kind kind);

/**
 * Resource i of a kind, ordered by namespace then name (with
 * GW_MODEL_KIND_COUNT: by kind first). NULL when out of range. Pointers
 * stay valid until the next apply or delete.
 */
const struct gw_model_resource *
gw_model_store_at(const struct gw_model_store *store,
		  enum gw_model_kind kind, uint32_t i);

/** Incremented by every apply or delete that changed something. */
uint64_t gw_model_store_generation(const struct gw_model_store *store);

/* ------------------------------------------------------------------ */
/* Service registry helpers for the route compiler                     */
/* ------------------------------------------------------------------ */

/**
 * True when every selector label is among labels with the same value
 * (subset membership, workloadSelector). An empty selector matches all.
 */
bool gw_model_labels_match(const struct gw_kv *selector, uint32_t n_selector,
			   const struct gw_kv *labels, uint32_t n_labels);

/** Subset of a DestinationRule by name, NULL if absent. */
const struct gw_subset *gw_model_dr_subset_find(const struct gw_dr *dr,
						const char *name);

/**
 * The DestinationRule for a host; one in namespace is preferred, then any.
 * Host names compare case-insensitively, and a short name resolves in the
 * namespace of the resource that wrote it, as in Istio ("reviews" in
 * "default" is "reviews.default.svc.cluster.local"). NULL if none.
 */
const struct gw_dr *
gw_model_store_dr_find(const struct gw_model_store *store, const char *host,
		       const char *namespace);

/**
 * The ServiceEntry that lists host (compared as for
 * gw_model_store_dr_find()), preferring namespace; *owner (may be NULL)
 * receives its resource. NULL if none.
 */
const struct gw_se *
gw_model_store_se_find(const struct gw_model_store *store, const char *host,
		       const char *namespace,
		       const struct gw_model_resource **owner);

/** An endpoint of a service and the resource that declared it. */
struct gw_model_endpoint {
	const struct gw_workload *workload;
	const struct gw_model_resource *owner; /**< the SE or the WE */
};

/**
 * Endpoints of the ServiceEntry for host: its `endpoints`, plus the
 * WorkloadEntries of its namespace its workloadSelector selects; only those
 * whose labels contain all subset labels when subset is not NULL.
 * Fills at most max entries.
 * @return total number of endpoints (may exceed max), 0 if no such service.
 */
uint32_t gw_model_store_endpoints(const struct gw_model_store *store,
				  const char *host, const char *namespace,
				  const struct gw_subset *subset,
				  struct gw_model_endpoint *out, uint32_t max);

/**
 * The port number a workload listens on for a service port: the workload's
 * ports[service port name], else the service port's targetPort, else its
 * number.
 */
uint16_t gw_model_workload_port(const struct gw_workload *workload,
				const struct gw_service_port *port);

/* ------------------------------------------------------------------ */
/* References                                                          */
/* ------------------------------------------------------------------ */

/**
 * Take a reference to a resource, so that everything reached from it stays
 * valid after the store replaces or deletes it (a compiled snapshot that
 * points into model strings pins its resources until its grace period
 * ends). Not atomic: control thread only.
 */
void gw_model_resource_ref(const struct gw_model_resource *res);

/** Drop a reference; the last one frees the resource. NULL-safe. */
void gw_model_resource_unref(const struct gw_model_resource *res);

/* ------------------------------------------------------------------ */
/* Serialisation                                                       */
/* ------------------------------------------------------------------ */

/**
 * The resource as YAML, from the tree it was parsed from (faithful to what
 * was applied, comments aside). *out is malloc'd, NUL-terminated, owned by
 * the caller.
 * @return 0 or -ENOMEM.
 */
int gw_model_resource_to_yaml(const struct gw_model_resource *res,
			      char **out, size_t *len);

/** The resource as one JSON object. Same contract as _to_yaml. */
int gw_model_resource_to_json(const struct gw_model_resource *res,
			      char **out, size_t *len);

/* ------------------------------------------------------------------ */
/* Value helpers (exposed for tests and other modules)                 */
/* ------------------------------------------------------------------ */

/**
 * Parse a duration ("1.5s", "100ms", "7s", "1m30s", "250us") into
 * microseconds. @return 0, or -EINVAL (bad syntax, negative, overflow).
 */
int gw_model_duration_parse(const char *text, int64_t *us);

/**
 * Parse a percentage ("100", "100.0", "0.5") into parts per million,
 * exactly, rounding half up below 1 ppm. @return 0 or -EINVAL (syntax,
 * outside 0..100).
 */
int gw_model_percent_parse(const char *text, uint32_t *ppm);

#endif /* GW_MODEL_H */
