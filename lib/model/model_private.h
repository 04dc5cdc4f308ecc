/* SPDX-License-Identifier: Apache-2.0 */
#ifndef MODEL_PRIVATE_H
#define MODEL_PRIVATE_H

/*
 * Internals shared by the model's files: the decoder that turns a node
 * tree into the structs of gw_model.h, value checks, and the set layout.
 *
 * Decoding stops at the first error of a document: dec_fail() formats
 * "file:line:col: path: message" and longjmps back to
 * model_resource_decode(), which frees the document's arena whole, so a
 * failing decoder never has anything to clean up.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gw_model.h"
#include "arena.h"
#include "yaml_tree.h"

#define DEC_PATH_LEN 384

struct decoder {
	struct gw_model_arena *arena;
	const char *file;
	const char *namespace;          /* of the resource being decoded */
	char path[DEC_PATH_LEN];        /* "spec.http[0].route[1]" */
	size_t path_len;
	char *msg;                      /* receives the error line */
	size_t msglen;
	int rc;                         /* -GW_ECONFIG or -ENOMEM on failure */
	jmp_buf fail;
};

/* Report an error at node `at` under the current path and stop. */
_Noreturn void dec_fail(struct decoder *d, const struct gw_model_node *at,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, with the path extended by ".field" (a missing field). */
_Noreturn void dec_fail_field(struct decoder *d,
			      const struct gw_model_node *at,
			      const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

_Noreturn void dec_oom(struct decoder *d);

void *dec_alloc(struct decoder *d, size_t size);
void *dec_array(struct decoder *d, size_t n, size_t size);
char *dec_strdup(struct decoder *d, const char *s);

/* Path segments; each returns the length to restore afterwards. */
size_t dec_path_key(struct decoder *d, const char *key);
size_t dec_path_index(struct decoder *d, uint32_t i);
void dec_path_restore(struct decoder *d, size_t len);

/*
 * Walk a mapping's fields: each key must be in known (NULL-terminated),
 * else "unknown field"; keys in unsupported (may be NULL) are refused as
 * "not supported". Null values count as absent and are skipped; the others
 * go to fn with the path extended by the key.
 */
typedef void (*dec_field_fn)(struct decoder *d, void *obj, const char *key,
			     const struct gw_model_node *value);
void dec_fields(struct decoder *d, const struct gw_model_node *map,
		const char *const *known, const char *const *unsupported,
		void *obj, dec_field_fn fn);

void dec_require_map(struct decoder *d, const struct gw_model_node *n);
void dec_require_seq(struct decoder *d, const struct gw_model_node *n);

/* Typed scalars; wrong types are errors at the node. */
const char *dec_string(struct decoder *d, const struct gw_model_node *n);
const char *dec_string_nonempty(struct decoder *d,
				const struct gw_model_node *n);
int64_t dec_int(struct decoder *d, const struct gw_model_node *n,
		int64_t min, int64_t max);
bool dec_bool(struct decoder *d, const struct gw_model_node *n);
uint16_t dec_port(struct decoder *d, const struct gw_model_node *n);
/* A double 0..100 (Percent.value, mirrorPercentage.value) in ppm. */
uint32_t dec_percent_double(struct decoder *d, const struct gw_model_node *n);
/* Istio durations: >= 1ms, whole milliseconds. */
int64_t dec_duration(struct decoder *d, const struct gw_model_node *n);

const char **dec_string_list(struct decoder *d, const struct gw_model_node *n,
			     uint32_t *count);
struct gw_kv *dec_string_map(struct decoder *d, const struct gw_model_node *n,
			     uint32_t *count);
/* A map of Kubernetes labels (key and value syntax checked). */
struct gw_kv *dec_labels(struct decoder *d, const struct gw_model_node *n,
			 uint32_t *count);
/* StringMatch; `{}` gives kind NONE. */
struct gw_string_match dec_string_match(struct decoder *d,
					const struct gw_model_node *n);
void dec_ip_prefix(struct decoder *d, const struct gw_model_node *n,
		   bool allow_cidr, struct gw_ip_prefix *out);
/* A host name: FQDN, "*.suffix" or "*" when wildcard_ok. */
void dec_check_host(struct decoder *d, const struct gw_model_node *n,
		    const char *host, bool wildcard_ok);
/* exportTo: ".", "*", "~" or namespace names. */
const char **dec_export_to(struct decoder *d, const struct gw_model_node *n,
			   uint32_t *count);
/* Istio Headers {request, response} {set, add, remove}. */
void dec_headers(struct decoder *d, const struct gw_model_node *n,
		 struct gw_headers *h);

static inline bool
key_is(const char *key, const char *name)
{
	return strcmp(key, name) == 0;
}

/* Value checks (values.c). */
bool model_dns1123_label(const char *s);
bool model_dns1123_subdomain(const char *s);
bool model_wildcard_domain(const char *s);
bool model_label_key_valid(const char *s);
bool model_label_value_valid(const char *s);
int model_ip_prefix_parse(const char *s, bool allow_cidr,
			  struct gw_ip_prefix *out);
enum gw_model_protocol model_protocol_parse(const char *s);
/* Host equality as Istio resolves short names in a namespace. */
bool model_host_equal(const char *a, const char *ns_a, const char *b,
		      const char *ns_b);

/* HTTP route actions (model_http_actions.c). */
uint32_t model_percent_decode(struct decoder *d,
			      const struct gw_model_node *n);
void model_redirect_decode(struct decoder *d, const struct gw_model_node *n,
			   struct gw_redirect *r);
void model_direct_response_decode(struct decoder *d,
				  const struct gw_model_node *n,
				  struct gw_direct_response *r);
void model_rewrite_decode(struct decoder *d, const struct gw_model_node *n,
			  struct gw_rewrite *r);
void model_retries_decode(struct decoder *d, const struct gw_model_node *n,
			  struct gw_retries *r);
void model_fault_decode(struct decoder *d, const struct gw_model_node *n,
			struct gw_fault *f);
void model_cors_decode(struct decoder *d, const struct gw_model_node *n,
		       struct gw_cors *c);

/* Per-kind spec decoders. */
void model_vs_decode(struct decoder *d, const struct gw_model_node *spec,
		     struct gw_vs *vs);
void model_dr_decode(struct decoder *d, const struct gw_model_node *spec,
		     struct gw_dr *dr);
void model_se_decode(struct decoder *d, const struct gw_model_node *spec,
		     struct gw_se *se);
void model_we_decode(struct decoder *d, const struct gw_model_node *spec,
		     struct gw_we *we);
void model_workload_decode(struct decoder *d, const struct gw_model_node *n,
			   struct gw_workload *w);
void model_gateway_decode(struct decoder *d,
			  const struct gw_model_node *spec,
			  struct gw_gateway *gw);

/*
 * Turn one parsed document into a resource that takes over its arena
 * (doc->arena is cleared). On error msg holds one line, the document is
 * left to the caller to free, and -GW_ECONFIG or -ENOMEM is returned.
 */
int model_resource_decode(struct yaml_doc *doc, const char *file,
			  struct gw_model_resource **out,
			  char *msg, size_t msglen);

void model_resource_get(struct gw_model_resource *res);
void model_resource_put(struct gw_model_resource *res);

/* Resource identity: kind, namespace, name. */
int model_resource_cmp(const struct gw_model_resource *a,
		       const struct gw_model_resource *b);

/* Error lines appended to a caller buffer, newline separated. */
struct errlist {
	char *buf;
	size_t len;
	size_t used;
	uint32_t count;
};

void errlist_init(struct errlist *e, char *buf, size_t len);
void errlist_add(struct errlist *e, const char *line);
void errlist_addf(struct errlist *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct gw_model_set {
	struct gw_model_resource **items;
	enum gw_model_action *actions;
	uint32_t n;
	uint32_t cap;
};

/* Append a resource (taking the caller's reference). 0 or -ENOMEM. */
int model_set_push(struct gw_model_set *set, struct gw_model_resource *res);

#endif /* MODEL_PRIVATE_H */
