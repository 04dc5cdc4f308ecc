/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_CTL_H
#define GW_CTL_H

/**
 * @file
 * The control socket: a Unix stream socket through which `gwctl` talks to
 * gatewayd. The server is polled without blocking by the control lcore
 * (like lib/admin); commands register from a table {words, usage, help,
 * handler}, as HAProxy's CLI keywords do. Not on the data path: it may
 * allocate and make syscalls. No EAL needed.
 *
 * Wire format (all integers big-endian):
 *
 *     request:  | length (4) | payload (length bytes)               |
 *     payload:  word "\n" word "\n" ... word "\n" "\n" body
 *     reply:    | status (4) | length (4) | body (length bytes)       |
 *
 * A request is a command line, one argument per line (so arguments may
 * hold spaces), an empty line, then an optional body of any bytes (YAML for
 * `apply`). Arguments are non-empty and hold no control character but TAB.
 * The status is one of enum gw_ctl_status (HTTP-like, so that people and
 * scripts read it easily); the body is text for a person, or the YAML/JSON
 * that was asked for. Several requests may follow each other on one
 * connection; each gets exactly one reply, in order.
 *
 * Robustness: a length above the server's limit gets a GW_CTL_TOO_LARGE
 * reply and the connection is closed; a payload that does not decode gets
 * GW_CTL_BAD_REQUEST and is closed; EOF in the middle of a frame, or a
 * client silent for longer than the idle limit, is closed. All are counted
 * (struct gw_ctl_stats), and none affects other clients.
 *
 * Access: the socket file is created mode 0660, owned by root and the
 * configured group, so the kernel already refuses other users at connect();
 * the server checks the peer's credentials again (SO_PEERCRED and
 * SO_PEERGROUPS) and refuses with "permission denied: uid N is not root or
 * in group G" anyone who is neither root nor in the group.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Default bound on a request payload and on a reply body. */
#define GW_CTL_FRAME_MAX_DEFAULT   (16u << 20)
/** Default number of clients served at once; more are refused. */
#define GW_CTL_CLIENTS_DEFAULT     128
/** Default limit of silence (no byte read or written) per client. */
#define GW_CTL_IDLE_MS_DEFAULT     30000
/** Most arguments (command words included) in one request. */
#define GW_CTL_MAX_ARGS            1024
/** Bound on the argument part of a request (the lines before the body). */
#define GW_CTL_ARGS_BYTES_MAX      65536
/** Bytes of a request frame before its payload. */
#define GW_CTL_REQUEST_HEAD        4
/** Bytes of a reply frame before its body. */
#define GW_CTL_REPLY_HEAD          8
/** Largest reply gw_ctl_client_call() accepts. */
#define GW_CTL_CLIENT_REPLY_MAX    (64u << 20)

/** Reply statuses (HTTP's numbers and meanings). */
enum gw_ctl_status {
	GW_CTL_OK = 200,
	GW_CTL_BAD_REQUEST = 400,   /**< bad arguments, invalid resources */
	GW_CTL_FORBIDDEN = 403,     /**< peer is not root nor in the group */
	GW_CTL_NOT_FOUND = 404,     /**< unknown command or resource */
	GW_CTL_CONFLICT = 409,      /**< the change contradicts the running state */
	GW_CTL_TOO_LARGE = 413,     /**< request or reply above the limit */
	GW_CTL_INTERNAL = 500,      /**< out of memory, I/O error */
	GW_CTL_UNAVAILABLE = 503,   /**< too many clients, try again */
};

/** A decoded request, as handlers see it. Valid during the handler call. */
struct gw_ctl_request {
	unsigned int argc;
	char *argv[GW_CTL_MAX_ARGS + 1]; /**< NUL-terminated; argv[argc] NULL */
	unsigned int n_words;      /**< leading argv entries that named the command */
	const char *body;          /**< NULL when there is none */
	size_t body_len;
	/** Who sent it (SO_PEERCRED at accept time). */
	pid_t peer_pid;
	uid_t peer_uid;
	gid_t peer_gid;
};

/** A reply being built; status GW_CTL_OK unless set. */
struct gw_ctl_reply {
	uint32_t status;
	char *body;                /**< malloc'd, NUL-terminated when not NULL */
	size_t len;
	size_t cap;
	bool oom;                  /**< an append failed: the body is incomplete */
};

/** Append formatted text. 0, or -ENOMEM (reply->oom is then set). */
int gw_ctl_reply_printf(struct gw_ctl_reply *reply, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Append bytes. 0, or -ENOMEM (reply->oom is then set). */
int gw_ctl_reply_append(struct gw_ctl_reply *reply, const void *data,
			size_t len);

/**
 * Set @p status and append a formatted message (an error for a person).
 * Returns 0 or -ENOMEM, like gw_ctl_reply_printf().
 */
int gw_ctl_reply_error(struct gw_ctl_reply *reply, uint32_t status,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Free the body and reset the reply to an empty GW_CTL_OK. */
void gw_ctl_reply_reset(struct gw_ctl_reply *reply);

/** A command handler: reads @p req, fills @p reply. Runs on the polling thread. */
typedef void (*gw_ctl_handler_fn)(void *ctx, const struct gw_ctl_request *req,
				  struct gw_ctl_reply *reply);

/** One row of the command table. */
struct gw_ctl_command {
	/**
	 * The words that select the command, space separated ("get",
	 * "describe route"); the request's first arguments must equal them.
	 * The longest match wins.
	 */
	const char *words;
	const char *usage;         /**< "get KIND [NAME] [-o yaml|json]" */
	const char *help;          /**< one line for `help` */
	gw_ctl_handler_fn handler;
};

/** Parameters of gw_ctl_create(); zero means the default. */
struct gw_ctl_params {
	const char *path;          /**< socket path, at most 107 bytes */
	/** Group allowed besides root: a name or "" for root's group (gid 0). */
	const char *group;
	unsigned int max_clients;  /**< GW_CTL_CLIENTS_DEFAULT */
	size_t max_frame;          /**< GW_CTL_FRAME_MAX_DEFAULT */
	unsigned int idle_ms;      /**< GW_CTL_IDLE_MS_DEFAULT */
	const struct gw_ctl_command *commands; /**< kept by reference */
	unsigned int n_commands;
	void *ctx;                 /**< passed to handlers */
};

/** Counters since gw_ctl_create(). */
struct gw_ctl_stats {
	uint64_t accepted;         /**< connections accepted and served */
	uint64_t clients;          /**< connected now */
	uint64_t requests;         /**< replies sent to decoded requests */
	uint64_t errors;           /**< of those, with a status other than OK */
	uint64_t refused_permission; /**< peers neither root nor in the group */
	uint64_t refused_busy;     /**< connections beyond max_clients */
	uint64_t malformed;        /**< payloads that did not decode */
	uint64_t oversized;        /**< frames above max_frame */
	uint64_t truncated;        /**< EOF or error in the middle of a frame */
	uint64_t timeouts;         /**< clients silent for longer than idle_ms */
};

struct gw_ctl;

/**
 * Create the socket file and listen.
 *
 * An existing socket file is replaced only when nobody listens on it (the
 * leftover of a process that died); a live one, or a file that is not a
 * socket, is an error. The parent directory is created (0755) when it is
 * missing. The file is owned by root (when running as root) and the group,
 * mode 0660; the group and the path are checked before anything is created.
 *
 * @return the server, or NULL with a message for a person in @p err.
 */
struct gw_ctl *gw_ctl_create(const struct gw_ctl_params *params,
			     char *err, size_t err_len);

/**
 * Accept, read, run handlers and write replies, without blocking; call
 * often from the control loop.
 * @return the number of requests answered (0 when idle).
 */
int gw_ctl_poll(struct gw_ctl *ctl);

/** Counters. */
void gw_ctl_stats_get(const struct gw_ctl *ctl, struct gw_ctl_stats *stats);

/** The socket path. */
const char *gw_ctl_path(const struct gw_ctl *ctl);

/**
 * Close every client and the listener, and remove the socket file if it is
 * still the one this server created. NULL-safe.
 */
void gw_ctl_free(struct gw_ctl *ctl);

/* ------------------------------------------------------------------ */
/* Frame codec (shared by the server, the client and the tests)        */
/* ------------------------------------------------------------------ */

/**
 * Encode a request frame (length prefix included) into a malloc'd buffer.
 * @return 0 with *frame and *frame_len set (caller frees), -EINVAL when an
 *         argument is empty or holds a control character (TAB aside), or
 *         there are no or too many arguments, -EMSGSIZE when the payload
 *         would exceed @p max_frame, -ENOMEM.
 */
int gw_ctl_request_encode(unsigned int argc, const char *const *argv,
			  const void *body, size_t body_len, size_t max_frame,
			  uint8_t **frame, size_t *frame_len);

/**
 * Decode a request payload (the bytes after the length prefix) in place:
 * argument lines become NUL-terminated strings pointed to by req->argv.
 * The body, when present, stays where it is and is not NUL-terminated.
 * Only argc, argv, body and body_len of @p req are set.
 * @return 0, or -EINVAL with the reason in @p why (a static string).
 */
int gw_ctl_request_decode(char *payload, size_t len,
			  struct gw_ctl_request *req, const char **why);

/** Write a reply head (status, body length) into @p head. */
void gw_ctl_reply_head_encode(uint8_t head[GW_CTL_REPLY_HEAD],
			      uint32_t status, uint32_t body_len);

/**
 * A resumable frame reader, fed by the caller's reads: it says where the
 * next bytes go and how many it wants, so that it never reads past the
 * end of a frame (the next frame stays in the socket).
 *
 * Usage: gw_ctl_frame_in_init(); then repeatedly read up to
 * gw_ctl_frame_in_want() bytes into gw_ctl_frame_in_ptr() and call
 * gw_ctl_frame_in_advance() with the count; it returns 1 when the frame is
 * complete (data/data_len hold the payload or body, owned by the reader
 * until gw_ctl_frame_in_reset() or gw_ctl_frame_in_take()).
 */
struct gw_ctl_frame_in {
	uint8_t head[GW_CTL_REPLY_HEAD];
	unsigned int head_len;     /**< 4 (request) or 8 (reply) */
	unsigned int head_got;
	uint32_t status;           /**< reply frames: the status */
	uint8_t *data;             /**< the payload, malloc'd */
	size_t data_len;           /**< its announced length */
	size_t data_got;
	size_t max;                /**< largest acceptable data_len */
};

/** Prepare to read a request (@p reply false) or reply frame. */
void gw_ctl_frame_in_init(struct gw_ctl_frame_in *f, bool reply, size_t max);

/** Free the payload and wait for the next frame. */
void gw_ctl_frame_in_reset(struct gw_ctl_frame_in *f);

/** Where the next bytes go. */
uint8_t *gw_ctl_frame_in_ptr(struct gw_ctl_frame_in *f);

/** How many bytes the frame still needs (never 0 before completion). */
size_t gw_ctl_frame_in_want(const struct gw_ctl_frame_in *f);

/** True when no byte of the current frame has been read yet. */
bool gw_ctl_frame_in_idle(const struct gw_ctl_frame_in *f);

/**
 * Account for @p n bytes just read.
 * @return 1 when the frame is complete, 0 when more is needed, -EMSGSIZE
 *         when the announced length exceeds the maximum (data_len holds
 *         it), -ENOMEM.
 */
int gw_ctl_frame_in_advance(struct gw_ctl_frame_in *f, size_t n);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/** A reply as the client receives it. */
struct gw_ctl_response {
	uint32_t status;
	char *body;                /**< malloc'd, NUL-terminated, never NULL */
	size_t len;
};

/**
 * Connect to @p path, send one request, wait for its reply, close.
 *
 * @param timeout_ms  for the whole exchange; <= 0 means 60 s
 * @return 0 with @p resp filled (free it with gw_ctl_response_free()), or
 *         a negative errno with a message for a person in @p err, e.g.
 *         "cannot connect to /run/gatewayd/gatewayd.sock: No such file or
 *         directory — is gatewayd running?".
 */
int gw_ctl_client_call(const char *path, unsigned int argc,
		       const char *const *argv, const void *body,
		       size_t body_len, int timeout_ms,
		       struct gw_ctl_response *resp, char *err, size_t err_len);

/** Free a response's body. NULL-safe. */
void gw_ctl_response_free(struct gw_ctl_response *resp);

#endif /* GW_CTL_H */
