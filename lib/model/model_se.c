/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ServiceEntry and WorkloadEntry: the service registry without
 * Kubernetes. Only resolution STATIC is supported: endpoints are IP
 * addresses, listed in the entry or selected from WorkloadEntries.
 */
#include <stdio.h>
#include <string.h>

#include "model_private.h"

/* ------------------------------------------------------------------ */
/* Workloads (endpoints and WorkloadEntry specs)                       */
/* ------------------------------------------------------------------ */

static void
workload_ports_decode(struct decoder *d, const struct gw_model_node *n,
		      struct gw_workload *w)
{
	dec_require_map(d, n);
	w->ports = dec_array(d, n->map.n, sizeof(*w->ports));
	w->port_numbers = dec_array(d, n->map.n, sizeof(*w->port_numbers));
	w->n_ports = n->map.n;
	for (uint32_t i = 0; i < n->map.n; i++) {
		const struct gw_model_node *k = n->map.pairs[i].key;
		const struct gw_model_node *v = n->map.pairs[i].value;
		size_t mark = dec_path_key(d, k->scalar.value);

		w->ports[i].key = dec_string(d, k);
		if (!model_dns1123_label(w->ports[i].key))
			dec_fail(d, k, "invalid port name: %.80s",
				 w->ports[i].key);
		w->port_numbers[i] = dec_port(d, v);
		w->ports[i].value = v->scalar.value;
		dec_path_restore(d, mark);
	}
}

static void
workload_field(struct decoder *d, void *obj, const char *key,
	       const struct gw_model_node *v)
{
	struct gw_workload *w = obj;

	if (key_is(key, "address")) {
		w->address = dec_string(d, v);
		if (strncmp(w->address, "unix://", 7) == 0)
			dec_fail(d, v, "unix domain socket endpoints are not "
				 "supported by this gateway");
		/* STATIC resolution: an IP address, not a DNS name. */
		if (model_ip_prefix_parse(w->address, false, &w->ip) < 0)
			dec_fail(d, v, "endpoint address \"%.80s\" is not a "
				 "valid IP address", w->address);
	} else if (key_is(key, "ports")) {
		workload_ports_decode(d, v, w);
	} else if (key_is(key, "labels")) {
		w->labels = dec_labels(d, v, &w->n_labels);
	} else if (key_is(key, "weight")) {
		w->weight = (uint32_t)dec_int(d, v, 0, UINT32_MAX);
	} else if (key_is(key, "network")) {
		w->network = dec_string(d, v);
	} else if (key_is(key, "locality")) {
		w->locality = dec_string(d, v);
	} else {
		w->service_account = dec_string(d, v);
	}
}

void
model_workload_decode(struct decoder *d, const struct gw_model_node *n,
		      struct gw_workload *w)
{
	static const char *const known[] = {
		"address", "ports", "labels", "weight", "network", "locality",
		"serviceAccount", NULL,
	};

	dec_fields(d, n, known, NULL, w, workload_field);
	if (w->address == NULL || w->address[0] == '\0')
		dec_fail_field(d, n, "address", "address is required");
}

void
model_we_decode(struct decoder *d, const struct gw_model_node *spec,
		struct gw_we *we)
{
	model_workload_decode(d, spec, &we->workload);
}

/* ------------------------------------------------------------------ */
/* ServiceEntry                                                        */
/* ------------------------------------------------------------------ */

static void
service_port_field(struct decoder *d, void *obj, const char *key,
		   const struct gw_model_node *v)
{
	struct gw_service_port *p = obj;

	if (key_is(key, "number")) {
		p->number = dec_port(d, v);
	} else if (key_is(key, "protocol")) {
		p->protocol = dec_string(d, v);
		p->proto = model_protocol_parse(p->protocol);
		if (p->proto == GW_MODEL_PROTOCOL_UNSET)
			dec_fail(d, v, "unrecognized protocol \"%.40s\"",
				 p->protocol);
	} else if (key_is(key, "name")) {
		p->name = dec_string(d, v);
		if (!model_dns1123_label(p->name))
			dec_fail(d, v, "invalid port name: %.80s", p->name);
	} else {
		p->target_port = dec_port(d, v);
	}
}

static void
ports_decode(struct decoder *d, const struct gw_model_node *n,
	     struct gw_se *se)
{
	static const char *const known[] = {
		"number", "protocol", "name", "targetPort", NULL,
	};

	dec_require_seq(d, n);
	se->ports = dec_array(d, n->seq.n, sizeof(*se->ports));
	se->n_ports = n->seq.n;
	for (uint32_t i = 0; i < n->seq.n; i++) {
		const struct gw_model_node *item = n->seq.items[i];
		struct gw_service_port *p = &se->ports[i];
		size_t mark = dec_path_index(d, i);

		dec_fields(d, item, known, NULL, p, service_port_field);
		if (p->number == 0)
			dec_fail_field(d, item, "number",
				       "required field is missing");
		if (p->name == NULL)
			dec_fail_field(d, item, "name",
				       "required field is missing");
		for (uint32_t j = 0; j < i; j++) {
			if (se->ports[j].number == p->number)
				dec_fail_field(d, item, "number",
					"duplicate port number %u",
					(unsigned)p->number);
			if (strcmp(se->ports[j].name, p->name) == 0)
				dec_fail_field(d, item, "name",
					"duplicate port name %.80s", p->name);
		}
		dec_path_restore(d, mark);
	}
}

static void
workload_selector_field(struct decoder *d, void *obj, const char *key,
			const struct gw_model_node *v)
{
	struct gw_se *se = obj;

	(void)key;
	se->workload_selector = dec_labels(d, v, &se->n_workload_selector);
}

static void
se_field(struct decoder *d, void *obj, const char *key,
	 const struct gw_model_node *v)
{
	static const char *const selector_known[] = { "labels", NULL };
	struct gw_se *se = obj;
	const char *s;

	if (key_is(key, "hosts")) {
		se->hosts = dec_string_list(d, v, &se->n_hosts);
		for (uint32_t i = 0; i < se->n_hosts; i++) {
			size_t mark = dec_path_index(d, i);

			if (strcmp(se->hosts[i], "*") == 0)
				dec_fail(d, v->seq.items[i], "invalid host *");
			dec_check_host(d, v->seq.items[i], se->hosts[i], true);
			dec_path_restore(d, mark);
		}
	} else if (key_is(key, "addresses")) {
		dec_require_seq(d, v);
		se->addresses = dec_array(d, v->seq.n, sizeof(*se->addresses));
		se->n_addresses = v->seq.n;
		for (uint32_t i = 0; i < v->seq.n; i++) {
			size_t mark = dec_path_index(d, i);

			dec_ip_prefix(d, v->seq.items[i], true,
				      &se->addresses[i]);
			dec_path_restore(d, mark);
		}
	} else if (key_is(key, "ports")) {
		ports_decode(d, v, se);
	} else if (key_is(key, "location")) {
		s = dec_string(d, v);
		if (strcmp(s, "MESH_EXTERNAL") == 0)
			se->location = GW_MODEL_LOCATION_MESH_EXTERNAL;
		else if (strcmp(s, "MESH_INTERNAL") == 0)
			se->location = GW_MODEL_LOCATION_MESH_INTERNAL;
		else
			dec_fail(d, v, "unknown location \"%.40s\" (want "
				 "MESH_EXTERNAL or MESH_INTERNAL)", s);
	} else if (key_is(key, "resolution")) {
		s = dec_string(d, v);
		if (strcmp(s, "STATIC") != 0) {
			if (strcmp(s, "NONE") == 0 || strcmp(s, "DNS") == 0 ||
			    strcmp(s, "DNS_ROUND_ROBIN") == 0)
				dec_fail(d, v, "resolution %s is not supported "
					 "by this gateway (only STATIC)", s);
			dec_fail(d, v, "unknown resolution \"%.40s\"", s);
		}
		se->resolution = GW_MODEL_RESOLUTION_STATIC;
	} else if (key_is(key, "endpoints")) {
		dec_require_seq(d, v);
		se->endpoints = dec_array(d, v->seq.n, sizeof(*se->endpoints));
		se->n_endpoints = v->seq.n;
		for (uint32_t i = 0; i < v->seq.n; i++) {
			size_t mark = dec_path_index(d, i);

			model_workload_decode(d, v->seq.items[i],
					      &se->endpoints[i]);
			dec_path_restore(d, mark);
		}
	} else if (key_is(key, "workloadSelector")) {
		se->has_workload_selector = true;
		dec_fields(d, v, selector_known, NULL, se,
			   workload_selector_field);
	} else {
		se->export_to = dec_export_to(d, v, &se->n_export_to);
	}
}

/* Endpoint ports must name ports of the entry. */
static void
endpoint_ports_check(struct decoder *d, const struct gw_model_node *spec,
		     const struct gw_se *se)
{
	const struct gw_model_node *eps = tree_map_get(spec, "endpoints");
	size_t mark = dec_path_key(d, "endpoints");

	for (uint32_t i = 0; i < se->n_endpoints; i++) {
		const struct gw_workload *w = &se->endpoints[i];
		const struct gw_model_node *ports =
			tree_map_get(tree_seq_get(eps, i), "ports");
		size_t m2 = dec_path_index(d, i);

		for (uint32_t p = 0; p < w->n_ports; p++) {
			uint32_t j;

			for (j = 0; j < se->n_ports; j++)
				if (strcmp(se->ports[j].name,
					   w->ports[p].key) == 0)
					break;
			if (j == se->n_ports) {
				dec_path_key(d, "ports");
				dec_fail(d, ports->map.pairs[p].key,
					 "endpoint port %.80s is not defined "
					 "by the service entry",
					 w->ports[p].key);
			}
		}
		dec_path_restore(d, m2);
	}
	dec_path_restore(d, mark);
}

void
model_se_decode(struct decoder *d, const struct gw_model_node *spec,
		struct gw_se *se)
{
	static const char *const known[] = {
		"hosts", "addresses", "ports", "location", "resolution",
		"endpoints", "workloadSelector", "exportTo", NULL,
	};
	static const char *const unsupported[] = { "subjectAltNames", NULL };
	const struct gw_model_node *res;

	dec_fields(d, spec, known, unsupported, se, se_field);
	if (se->n_hosts == 0)
		dec_fail_field(d, spec, "hosts", "service entry must have at "
			       "least one host");
	if (se->n_ports == 0)
		dec_fail_field(d, spec, "ports", "service entry must have at "
			       "least one port");
	/* Istio's default resolution is NONE, which we cannot do. */
	res = tree_map_get(spec, "resolution");
	if (res == NULL || tree_is_null(res))
		dec_fail_field(d, spec, "resolution", "resolution NONE (the "
			       "default) is not supported by this gateway; "
			       "set resolution: STATIC");
	if (se->has_workload_selector && se->n_endpoints > 0)
		dec_fail(d, tree_map_key(spec, "workloadSelector"),
			 "only one of WorkloadSelector or Endpoints is allowed "
			 "in Service Entry");
	endpoint_ports_check(d, spec, se);
}
