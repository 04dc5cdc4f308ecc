/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway: the listeners. Plain HTTP and TCP servers only; `tls` must be
 * absent.
 */
#include <stdio.h>
#include <string.h>

#include "model_private.h"

struct server_ctx {
	struct gw_gateway_server *s;
	bool has_port;
};

static void
server_port_field(struct decoder *d, void *obj, const char *key,
		  const struct gw_model_node *v)
{
	struct gw_gateway_server *s = obj;

	if (key_is(key, "number")) {
		s->port = dec_port(d, v);
	} else if (key_is(key, "name")) {
		s->port_name = dec_string(d, v);
	} else {
		s->protocol = dec_string(d, v);
		s->proto = model_protocol_parse(s->protocol);
		if (s->proto == GW_MODEL_PROTOCOL_UNSET)
			dec_fail(d, v, "invalid protocol \"%.40s\"",
				 s->protocol);
		if (s->proto != GW_MODEL_PROTOCOL_HTTP &&
		    s->proto != GW_MODEL_PROTOCOL_TCP)
			dec_fail(d, v, "protocol %.40s is not supported by "
				 "this gateway (only HTTP and TCP)", s->protocol);
	}
}

/* "host", "namespace/host"; namespace may be "*", "." or "~". */
static void
server_host_check(struct decoder *d, const struct gw_model_node *n,
		  const char *h)
{
	const char *slash = strchr(h, '/');
	const char *host = slash != NULL ? slash + 1 : h;

	if (slash != NULL) {
		char ns[64];
		size_t len = (size_t)(slash - h);

		if (len == 0 || len >= sizeof(ns))
			dec_fail(d, n, "invalid namespace in host \"%.80s\"",
				 h);
		memcpy(ns, h, len);
		ns[len] = '\0';
		if (strcmp(ns, "*") != 0 && strcmp(ns, ".") != 0 &&
		    strcmp(ns, "~") != 0 && !model_dns1123_label(ns))
			dec_fail(d, n, "invalid namespace in host \"%.80s\"",
				 h);
	}
	dec_check_host(d, n, host, true);
}

static void
server_field(struct decoder *d, void *obj, const char *key,
	     const struct gw_model_node *v)
{
	static const char *const port_known[] = {
		"number", "name", "protocol", NULL,
	};
	static const char *const port_unsupported[] = { "targetPort", NULL };
	struct server_ctx *c = obj;
	struct gw_gateway_server *s = c->s;

	if (key_is(key, "port")) {
		dec_fields(d, v, port_known, port_unsupported, s,
			   server_port_field);
		if (s->port == 0)
			dec_fail_field(d, v, "number",
				       "required field is missing");
		if (s->protocol == NULL)
			dec_fail_field(d, v, "protocol",
				       "required field is missing");
		if (s->port_name == NULL || s->port_name[0] == '\0')
			dec_fail_field(d, v, "name", "port name must be set");
		c->has_port = true;
	} else if (key_is(key, "hosts")) {
		s->hosts = dec_string_list(d, v, &s->n_hosts);
		for (uint32_t i = 0; i < s->n_hosts; i++) {
			size_t mark = dec_path_index(d, i);

			server_host_check(d, v->seq.items[i], s->hosts[i]);
			dec_path_restore(d, mark);
		}
	} else {
		s->name = dec_string(d, v);
	}
}

static void
gateway_field(struct decoder *d, void *obj, const char *key,
	      const struct gw_model_node *v)
{
	static const char *const server_known[] = {
		"port", "hosts", "name", NULL,
	};
	static const char *const server_unsupported[] = {
		"tls", "bind", "defaultEndpoint", NULL,
	};
	struct gw_gateway *gw = obj;

	if (key_is(key, "selector")) {
		gw->selector = dec_labels(d, v, &gw->n_selector);
		return;
	}
	dec_require_seq(d, v);
	gw->servers = dec_array(d, v->seq.n, sizeof(*gw->servers));
	gw->n_servers = v->seq.n;
	for (uint32_t i = 0; i < v->seq.n; i++) {
		const struct gw_model_node *item = v->seq.items[i];
		struct server_ctx c = { .s = &gw->servers[i] };
		size_t mark = dec_path_index(d, i);

		dec_fields(d, item, server_known, server_unsupported, &c,
			   server_field);
		if (!c.has_port)
			dec_fail_field(d, item, "port", "port is required");
		if (c.s->n_hosts == 0)
			dec_fail_field(d, item, "hosts", "server config must "
				       "contain at least one host");
		for (uint32_t j = 0; j < i && c.s->name != NULL; j++)
			if (gw->servers[j].name != NULL &&
			    strcmp(gw->servers[j].name, c.s->name) == 0)
				dec_fail_field(d, item, "name", "server name "
					       "must be unique: %.80s",
					       c.s->name);
		dec_path_restore(d, mark);
	}
}

void
model_gateway_decode(struct decoder *d, const struct gw_model_node *spec,
		     struct gw_gateway *gw)
{
	static const char *const known[] = { "selector", "servers", NULL };

	dec_fields(d, spec, known, NULL, gw, gateway_field);
	if (gw->n_servers == 0)
		dec_fail_field(d, spec, "servers", "gateway must have at least "
			       "one server");
}
