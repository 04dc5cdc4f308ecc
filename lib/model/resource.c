/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One document -> one resource: apiVersion, kind, metadata, then the
 * kind's spec decoder. Also reference counting and serialisation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "model_private.h"

static const char *const api_versions[] = {
	"networking.istio.io/v1",
	"networking.istio.io/v1beta1",
	"networking.istio.io/v1alpha3",
	NULL,
};

static void
meta_field(struct decoder *d, void *obj, const char *key,
	   const struct gw_model_node *v)
{
	struct gw_model_meta *m = obj;

	if (key_is(key, "name")) {
		m->name = dec_string(d, v);
		if (m->name[0] == '\0')
			dec_fail(d, v, "name must not be empty");
		if (!model_dns1123_subdomain(m->name))
			dec_fail(d, v, "\"%.80s\" is not a valid name: must be "
				 "a lowercase RFC 1123 subdomain", m->name);
	} else if (key_is(key, "namespace")) {
		m->namespace = dec_string(d, v);
		if (!model_dns1123_label(m->namespace))
			dec_fail(d, v, "\"%.80s\" is not a valid namespace: "
				 "must be a lowercase RFC 1123 label",
				 m->namespace);
	} else if (key_is(key, "labels")) {
		m->labels = dec_labels(d, v, &m->n_labels);
	} else if (key_is(key, "annotations")) {
		m->annotations = dec_string_map(d, v, &m->n_annotations);
	}
	/* The rest is server-set metadata that kubectl output carries. */
}

static void
meta_decode(struct decoder *d, const struct gw_model_node *n,
	    struct gw_model_meta *m)
{
	static const char *const known[] = {
		"name", "namespace", "labels", "annotations",
		"resourceVersion", "uid", "generation", "creationTimestamp",
		NULL,
	};

	dec_fields(d, n, known, NULL, m, meta_field);
	if (m->name == NULL)
		dec_fail_field(d, n, "name", "required field is missing");
	if (m->namespace == NULL)
		m->namespace = GW_MODEL_DEFAULT_NAMESPACE;
}

static const struct gw_model_node *
top_field(struct decoder *d, const struct gw_model_node *root,
	  const char *key)
{
	const struct gw_model_node *v = tree_map_get(root, key);

	if (v == NULL || tree_is_null(v))
		dec_fail_field(d, root, key, "required field is missing");
	return v;
}

/* The part of decoding that may longjmp back to the caller. */
static void
resource_decode(struct decoder *d, const struct yaml_doc *doc,
		struct gw_model_resource *res)
{
	static const char *const known[] = {
		"apiVersion", "kind", "metadata", "spec", "status", NULL,
	};
	const struct gw_model_node *root = doc->root;
	const struct gw_model_node *v;
	const char *s;
	size_t mark;
	int k;

	if (root->type != NODE_MAP)
		dec_fail(d, root, "a resource must be a mapping");
	for (uint32_t i = 0; i < root->map.n; i++) {
		const struct gw_model_node *key = root->map.pairs[i].key;
		uint32_t j;

		for (j = 0; known[j] != NULL; j++)
			if (strcmp(key->scalar.value, known[j]) == 0)
				break;
		if (known[j] == NULL)
			dec_fail(d, key, "unknown field \"%.80s\"",
				 key->scalar.value);
	}

	v = top_field(d, root, "apiVersion");
	mark = dec_path_key(d, "apiVersion");
	res->api_version = dec_string(d, v);
	for (k = 0; api_versions[k] != NULL; k++)
		if (strcmp(res->api_version, api_versions[k]) == 0)
			break;
	if (api_versions[k] == NULL)
		dec_fail(d, v, "unknown apiVersion \"%.80s\" (want "
			 "networking.istio.io/v1, v1beta1 or v1alpha3)",
			 res->api_version);
	dec_path_restore(d, mark);

	v = top_field(d, root, "kind");
	mark = dec_path_key(d, "kind");
	s = dec_string(d, v);
	for (k = 0; k < GW_MODEL_KIND_COUNT; k++)
		if (strcmp(s, gw_model_kind_name((enum gw_model_kind)k)) == 0)
			break;
	if (k == GW_MODEL_KIND_COUNT)
		dec_fail(d, v, "unknown kind \"%.80s\" (want VirtualService, "
			 "DestinationRule, ServiceEntry, WorkloadEntry or "
			 "Gateway)", s);
	res->kind = (enum gw_model_kind)k;
	dec_path_restore(d, mark);

	v = top_field(d, root, "metadata");
	mark = dec_path_key(d, "metadata");
	meta_decode(d, v, &res->meta);
	dec_path_restore(d, mark);
	d->namespace = res->meta.namespace;

	v = top_field(d, root, "spec");
	mark = dec_path_key(d, "spec");
	dec_require_map(d, v);
	switch (res->kind) {
	case GW_MODEL_KIND_VIRTUAL_SERVICE:
		res->spec.vs = dec_alloc(d, sizeof(*res->spec.vs));
		model_vs_decode(d, v, res->spec.vs);
		break;
	case GW_MODEL_KIND_DESTINATION_RULE:
		res->spec.dr = dec_alloc(d, sizeof(*res->spec.dr));
		model_dr_decode(d, v, res->spec.dr);
		break;
	case GW_MODEL_KIND_SERVICE_ENTRY:
		res->spec.se = dec_alloc(d, sizeof(*res->spec.se));
		model_se_decode(d, v, res->spec.se);
		break;
	case GW_MODEL_KIND_WORKLOAD_ENTRY:
		res->spec.we = dec_alloc(d, sizeof(*res->spec.we));
		model_we_decode(d, v, res->spec.we);
		break;
	default:
		res->spec.gateway = dec_alloc(d, sizeof(*res->spec.gateway));
		model_gateway_decode(d, v, res->spec.gateway);
		break;
	}
	dec_path_restore(d, mark);
}

int
model_resource_decode(struct yaml_doc *doc, const char *file,
		      struct gw_model_resource **out, char *msg,
		      size_t msglen)
{
	/*
	 * Heap, not stack: members written after setjmp() are then read
	 * safely after the longjmp.
	 */
	struct decoder *d = calloc(1, sizeof(*d));
	struct gw_model_resource *res;
	int rc;

	*out = NULL;
	if (d == NULL)
		return -ENOMEM;
	d->arena = doc->arena;
	d->file = file;
	d->msg = msg;
	d->msglen = msglen;
	if (setjmp(d->fail) != 0) {
		rc = d->rc;
		free(d);
		return rc;
	}
	res = dec_alloc(d, sizeof(*res));
	res->file = dec_strdup(d, file);
	res->line = doc->line;
	res->tree = doc->root;
	res->arena = doc->arena;
	res->refcnt = 1;
	resource_decode(d, doc, res);
	free(d);
	doc->arena = NULL;      /* the resource owns it now */
	*out = res;
	return 0;
}

void
model_resource_get(struct gw_model_resource *res)
{
	res->refcnt++;
}

void
model_resource_put(struct gw_model_resource *res)
{
	if (res == NULL || --res->refcnt > 0)
		return;
	/* The resource itself lives in its arena. */
	arena_free(res->arena);
}

/* The public names; const because users only ever see const resources. */
void
gw_model_resource_ref(const struct gw_model_resource *res)
{
	model_resource_get((struct gw_model_resource *)(uintptr_t)res);
}

void
gw_model_resource_unref(const struct gw_model_resource *res)
{
	model_resource_put((struct gw_model_resource *)(uintptr_t)res);
}

int
model_resource_cmp(const struct gw_model_resource *a,
		   const struct gw_model_resource *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->meta.namespace, b->meta.namespace);
	if (c != 0)
		return c;
	return strcmp(a->meta.name, b->meta.name);
}

int
gw_model_resource_to_yaml(const struct gw_model_resource *res, char **out,
			  size_t *len)
{
	return tree_emit_yaml(res->tree, out, len);
}

int
gw_model_resource_to_json(const struct gw_model_resource *res, char **out,
			  size_t *len)
{
	return tree_emit_json(res->tree, out, len);
}
