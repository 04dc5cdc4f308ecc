/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_ADMIN_H
#define GW_ADMIN_H

/**
 * @file
 * The admin HTTP listener (like Envoy's admin port): a small HTTP/1.x
 * server on a kernel socket, polled without blocking by the control lcore.
 * Handlers register from a table {method, path, help, handler}; one request
 * per connection, answered and closed. Not on the data path: it may
 * allocate and make syscalls. No EAL needed.
 */

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define GW_ADMIN_MAX_CLIENTS   32
#define GW_ADMIN_REQUEST_MAX   8192   /**< request head + body bound */
#define GW_ADMIN_IDLE_MS       5000   /**< a silent client is dropped after this */

/** A reply being built by a handler. */
struct gw_admin_reply {
	int status;               /**< HTTP status, 200 unless set */
	const char *content_type; /**< "text/plain; charset=utf-8" unless set */
	char *body;
	size_t len;
	size_t cap;
};

/** Append formatted text to the reply body. 0 or -ENOMEM. */
int gw_admin_reply_printf(struct gw_admin_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * A handler: @p query is the text after '?' ("" when none), @p body the
 * request body. Fills @p reply.
 */
typedef void (*gw_admin_handler_fn)(void *ctx, const char *query,
				    const char *body, size_t body_len,
				    struct gw_admin_reply *reply);

struct gw_admin_route {
	const char *method;   /**< "GET", "POST" */
	const char *path;     /**< exact path, e.g. "/stats" */
	const char *help;     /**< one line for the index page */
	gw_admin_handler_fn handler;
};

struct gw_admin;

/**
 * Listen on @p addr:@p port (port 0 = any free port) and serve @p routes
 * (@p n entries, kept by reference) with @p ctx passed to handlers.
 * NULL with a message in @p err on failure.
 */
struct gw_admin *gw_admin_create(struct in_addr addr, uint16_t port,
				 const struct gw_admin_route *routes,
				 unsigned int n, void *ctx,
				 char *err, size_t err_len);

/** The port actually bound (useful with port 0). */
uint16_t gw_admin_port(const struct gw_admin *a);

/**
 * Accept, read, answer and close without blocking. Call often from the
 * control loop. Returns the number of requests answered.
 */
int gw_admin_poll(struct gw_admin *a);

/** Close the listener and every client. NULL-safe. */
void gw_admin_free(struct gw_admin *a);

/** Value of @p key in a query string "a=1&b=2" into @p out; 0, -ENOENT, or -ENOSPC when it does not fit. */
int gw_admin_query_get(const char *query, const char *key, char *out,
		       size_t out_len);

#endif /* GW_ADMIN_H */
