/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

/**
 * @file
 * HTTP/1.1 message heads and body framing (RFC 9110, RFC 9112), on plain
 * byte chunks so that it needs no EAL: the proxy hands over each mbuf
 * segment's data pointer and length in turn.
 *
 * Contract of the head parser, gw_http_head_parse()
 * -------------------------------------------------
 * The parser is a resumable state machine (its state lives in the struct,
 * like nginx's r->state): call it with each chunk of the connection's
 * input in order. Each call returns one of
 *
 *   GW_HTTP_AGAIN  the chunk ended inside the head. Every byte was taken
 *                  (*consumed == len); the part of the head it held was
 *                  copied into the parser's buffer, so the caller may
 *                  release the chunk. Call again with the next chunk.
 *   GW_HTTP_DONE   the head is complete and p->head describes it. The body
 *                  (or the next message) starts at data + *consumed.
 *                  Further calls return GW_HTTP_DONE with *consumed == 0
 *                  until gw_http_parser_reset().
 *   < 0            -GW_HTTP_E_*: the message is invalid or too large.
 *                  p->status is the status to answer (400, 414, 431, 501,
 *                  505 for a request; always 502 for a response from a
 *                  backend) and gw_http_strerror() a short reason. The
 *                  caller answers and closes the connection: nothing after
 *                  an invalid head can be framed safely. The error is
 *                  sticky; *consumed is the offset of the rejected byte
 *                  in this chunk (the end of the head when fields
 *                  conflict), for the log.
 *
 * Empty lines (CRLF) before the start line are skipped (RFC 9112 §2.2).
 * The verdict never depends on how the input is cut into chunks: feeding a
 * message in one chunk, byte by byte or split anywhere gives the same
 * result, and limits are enforced byte-exactly (a head of exactly max_head
 * bytes passes, one more byte is 431).
 *
 * Lifetime of the parsed head: every pointer in p->head points into one
 * contiguous copy of the head. When the whole head arrived in the chunk
 * that completed it, that is the caller's chunk (zero copy): the pointers
 * stay valid while the caller keeps the chunk. When the head spanned
 * chunks, it is the parser's own buffer (head->copied is true and
 * p->copied_bytes counts the bytes): the pointers stay valid until
 * gw_http_parser_reset(). The only exception is head->path for an
 * absolute-form target without a path, which points to a static "/".
 *
 * What the parser rejects (RFC 9112 smuggling defences, all 400 and close
 * for a request): Content-Length with Transfer-Encoding, differing
 * Content-Length values, Transfer-Encoding in HTTP/1.0, chunked applied
 * twice or with parameters, a bare CR or LF anywhere in the head,
 * whitespace between a field name and its colon, obs-fold (a field line
 * starting with SP/HTAB), CTLs other than HTAB in a value, non-token bytes
 * in the method or a field name, anything but one SP between the parts of
 * the request line,
 * SP/CTL/'#'/bad %-escapes in the request-target, a missing Host in an
 * HTTP/1.1 request and more than one Host. Transfer codings other than
 * chunked in a request are 501, so a request body is either chunked alone
 * or Content-Length. HTTP versions other than 1.x are 505.
 *
 * Contract of the chunked decoder, gw_http_chunked_feed()
 * -------------------------------------------------------
 * Also resumable over chunks and zero copy: it reports which byte ranges of
 * each chunk are payload (spans), so the proxy can forward the original
 * chunked bytes untouched, or only the payload when it must. See the
 * function for details.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Default limits (configurable per parser through struct gw_http_limits). */
#define GW_HTTP_MAX_HEAD_DEFAULT    (60 * 1024) /**< start line + fields + CRLF */
#define GW_HTTP_MAX_HEADERS_DEFAULT 100         /**< field lines */
#define GW_HTTP_MAX_TARGET_DEFAULT  (8 * 1024)  /**< request-target bytes */

/** Chunked decoder limits. */
#define GW_HTTP_CHUNK_LINE_MAX      1024        /**< chunk-ext bytes per chunk */
#define GW_HTTP_TRAILER_MAX_DEFAULT (8 * 1024)  /**< trailer section bytes */

/** Return values of the parsers besides negative errors. */
enum {
	GW_HTTP_DONE = 0,   /**< the head (or body) is complete */
	GW_HTTP_AGAIN = 1,  /**< all input taken, more is needed */
};

/**
 * Why a message was rejected; functions return the negated value. They
 * start above the project's other codes (enum gw_error) so that they never
 * read as an errno.
 */
enum gw_http_error {
	GW_HTTP_EBASE = 1100,
	GW_HTTP_E_REQUEST_LINE,      /**< 400: not "method SP target SP version" */
	GW_HTTP_E_METHOD,            /**< 400: method is not a token */
	GW_HTTP_E_TARGET,            /**< 400: bad request-target (bytes or form) */
	GW_HTTP_E_TARGET_TOO_LONG,   /**< 414 */
	GW_HTTP_E_VERSION,           /**< 400: not "HTTP/" DIGIT "." DIGIT */
	GW_HTTP_E_VERSION_UNSUPPORTED, /**< 505: not HTTP/1.x */
	GW_HTTP_E_STATUS_LINE,       /**< response: bad status line */
	GW_HTTP_E_BARE_CR,           /**< CR not followed by LF */
	GW_HTTP_E_BARE_LF,           /**< LF not preceded by CR */
	GW_HTTP_E_FIELD_NAME,        /**< empty name, non-token byte, no colon */
	GW_HTTP_E_SPACE_BEFORE_COLON,
	GW_HTTP_E_OBS_FOLD,          /**< line folding, or SP after the start line */
	GW_HTTP_E_FIELD_VALUE,       /**< NUL or another CTL in a value */
	GW_HTTP_E_HEAD_TOO_LARGE,    /**< 431: more than max_head bytes */
	GW_HTTP_E_TOO_MANY_FIELDS,   /**< 431: more than max_headers field lines */
	GW_HTTP_E_CONTENT_LENGTH,    /**< not 1*DIGIT (list), or above 2^63-1 */
	GW_HTTP_E_CONTENT_LENGTH_CONFLICT, /**< differing Content-Length values */
	GW_HTTP_E_CL_AND_TE,         /**< both Content-Length and Transfer-Encoding */
	GW_HTTP_E_TRANSFER_ENCODING, /**< chunked not last, twice, or bad list */
	GW_HTTP_E_TE_UNSUPPORTED,    /**< 501: a coding other than chunked */
	GW_HTTP_E_TE_HTTP10,         /**< Transfer-Encoding in an HTTP/1.0 message */
	GW_HTTP_E_NO_HOST,           /**< HTTP/1.1 request without Host */
	GW_HTTP_E_MULTIPLE_HOST,
	GW_HTTP_E_HOST,              /**< Host (or target authority) is not host[:port] */
	GW_HTTP_E_CONNECT_BODY,      /**< CONNECT with Content-Length or Transfer-Encoding */
	GW_HTTP_E_CHUNK_SIZE,        /**< empty, non-hex, more than 16 digits, > 2^63-1 */
	GW_HTTP_E_CHUNK_EXT,         /**< bad or too long chunk extension */
	GW_HTTP_E_CHUNK_CRLF,        /**< chunk data not followed by CRLF */
	GW_HTTP_E_TRAILER,           /**< bad trailer field line */
	GW_HTTP_E_TRAILER_TOO_LARGE,
	GW_HTTP_E_MAX
};

/**
 * Short reason for a negative GW_HTTP_E_* code, fit for an error body and
 * the access log ("bare LF in head"). Never returns NULL.
 */
const char *gw_http_strerror(int code);

/**
 * Status to answer a client whose request failed with @p code (400, 414,
 * 431, 501 or 505). A response from a backend that fails is answered 502
 * whatever the code.
 */
uint16_t gw_http_error_status(int code);

/** Request methods: the nine of RFC 9110 and RFC 5789, and any other token. */
enum gw_http_method {
	GW_HTTP_METHOD_OTHER = 0,   /**< a valid token; see head->method_name */
	GW_HTTP_METHOD_GET,
	GW_HTTP_METHOD_HEAD,
	GW_HTTP_METHOD_POST,
	GW_HTTP_METHOD_PUT,
	GW_HTTP_METHOD_DELETE,
	GW_HTTP_METHOD_CONNECT,
	GW_HTTP_METHOD_OPTIONS,
	GW_HTTP_METHOD_TRACE,
	GW_HTTP_METHOD_PATCH,
	GW_HTTP_METHOD_MAX
};

/** "GET", ...; "" for GW_HTTP_METHOD_OTHER. Never NULL. */
const char *gw_http_method_name(enum gw_http_method m);

/** Request-target forms (RFC 9112 §3.2). */
enum gw_http_target_form {
	GW_HTTP_TARGET_ORIGIN = 0,  /**< /path?query */
	GW_HTTP_TARGET_ABSOLUTE,    /**< http://authority/path?query */
	GW_HTTP_TARGET_AUTHORITY,   /**< host:port, CONNECT only */
	GW_HTTP_TARGET_ASTERISK,    /**< *, OPTIONS only */
};

/** How the body of a message is delimited (RFC 9112 §6.3). */
enum gw_http_body {
	GW_HTTP_BODY_NONE = 0,      /**< no body: the next message follows */
	GW_HTTP_BODY_LENGTH,        /**< head->content_length bytes (> 0) */
	GW_HTTP_BODY_CHUNKED,       /**< feed it to a struct gw_http_chunked */
	GW_HTTP_BODY_CLOSE,         /**< response: until the backend closes */
	GW_HTTP_BODY_TUNNEL,        /**< response: 101 or 2xx to CONNECT; opaque bytes follow */
};

/** Bytes inside the head; ptr is NULL when the item is absent. */
struct gw_http_str {
	const char *ptr;
	uint32_t len;
};

/**
 * Field names the gateway acts on, classified once by the parser so that
 * later lookups compare a number instead of the name. UNCLASSIFIED (zero)
 * is a field line not built by the parser: its name must be compared.
 */
enum gw_http_field {
	GW_HTTP_F_UNCLASSIFIED = 0,
	GW_HTTP_F_OTHER,                /**< classified: none of the below */
	GW_HTTP_F_HOST,
	GW_HTTP_F_CONTENT_LENGTH,
	GW_HTTP_F_TRANSFER_ENCODING,
	GW_HTTP_F_CONNECTION,
	GW_HTTP_F_KEEP_ALIVE,
	GW_HTTP_F_PROXY_CONNECTION,
	GW_HTTP_F_TE,
	GW_HTTP_F_UPGRADE,
	GW_HTTP_F_EXPECT,
	GW_HTTP_F_USER_AGENT,
	GW_HTTP_F_ORIGIN,
	GW_HTTP_F_X_REQUEST_ID,
	GW_HTTP_F_X_FORWARDED_FOR,
	GW_HTTP_F_X_FORWARDED_PROTO,
	GW_HTTP_F_X_ENVOY_UPSTREAM_SERVICE_TIME,
	GW_HTTP_F_ACCESS_CONTROL_REQUEST_METHOD,
	GW_HTTP_F_MAX
};

/**
 * One field line, value without leading and trailing whitespace. The
 * layout of name, name_len, value and value_len is that of struct
 * gw_match_header, so that the proxy can hand the array to routing
 * without copying; id sits in what is padding there.
 */
struct gw_http_header {
	const char *name;
	uint32_t name_len;
	uint32_t id;                      /**< enum gw_http_field */
	const char *value;
	uint32_t value_len;
};

/** A parsed request or response head. See the lifetime rules above. */
struct gw_http_head {
	/* request line */
	enum gw_http_method method;
	struct gw_http_str method_name;   /**< as received (methods are case-sensitive) */
	enum gw_http_target_form target_form;
	struct gw_http_str target;        /**< request-target as received */
	struct gw_http_str scheme;        /**< absolute-form only */
	/**
	 * Effective authority: from the target in absolute and authority form
	 * (RFC 9112 §3.2.2 says to ignore Host then), else the Host value.
	 */
	struct gw_http_str authority;
	struct gw_http_str path;          /**< origin/absolute form ("/" if empty); "*" */
	struct gw_http_str query;         /**< after '?', without it; absent without '?' */
	/* status line */
	uint16_t status;                  /**< 100..599 */
	struct gw_http_str reason;        /**< reason phrase (may be empty) */
	/* both */
	uint8_t version_minor;            /**< HTTP/1.x; 1.2 and later count as 1.1 */
	uint32_t n_headers;
	struct gw_http_header *headers;   /**< the parser's array */
	/**
	 * Bit (1 << id) for the id of every field line; 0 when the lines are
	 * not classified (or there are none), and lookups compare names.
	 */
	uint32_t fields_seen;
	/* derived from the fields */
	struct gw_http_str host;          /**< Host value, absent when none */
	struct gw_http_str upgrade;       /**< Upgrade value when Connection lists "upgrade" */
	enum gw_http_body body;
	uint64_t content_length;          /**< valid when has_content_length */
	bool has_content_length;
	bool chunked;                     /**< Transfer-Encoding ends with chunked */
	bool conn_close;                  /**< Connection lists "close" */
	bool conn_keep_alive;             /**< Connection lists "keep-alive" */
	bool keep_alive;                  /**< connection persists after this message */
	bool expect_continue;             /**< HTTP/1.1 request with Expect: 100-continue */
	bool informational;               /**< 1xx other than 101: a final response follows */
	bool copied;                      /**< the head is in the parser's buffer */
	uint32_t head_len;                /**< start line through the final CRLF */
};

/** Per-parser limits; a zero member takes the default. */
struct gw_http_limits {
	uint32_t max_head;       /**< > this many head bytes: 431 */
	uint32_t max_headers;    /**< > this many field lines: 431 */
	uint32_t max_target;     /**< > this many request-target bytes: 414 */
};

enum gw_http_kind {
	GW_HTTP_REQUEST = 0,
	GW_HTTP_RESPONSE,
};

/**
 * A head parser, one per connection direction. Embed it or use
 * gw_http_parser_create(); members below "private" are the state machine's.
 */
struct gw_http_parser {
	enum gw_http_kind kind;
	struct gw_http_limits limits;     /**< with defaults filled in */
	uint8_t *buf;                     /**< limits.max_head bytes, for split heads */
	struct gw_http_header *headers;   /**< limits.max_headers entries */
	/** Response parsers: method of the request being answered (HEAD and
	 * CONNECT change the framing); GET after init. */
	enum gw_http_method request_method;
	struct gw_http_head head;         /**< valid after GW_HTTP_DONE */
	uint16_t status;                  /**< after an error: the status to answer */
	int err;                          /**< after an error: the negative code */
	uint64_t copied_bytes;            /**< bytes copied into buf, ever (stats) */

	/* private */
	uint8_t state;
	uint8_t vidx;           /* index in "HTTP/d.d" or the status digits */
	uint8_t major;
	bool buffered;          /* the head so far is in buf */
	uint32_t pos;           /* head bytes taken so far */
	uint32_t skipped;       /* empty-line bytes before the start line */
	uint32_t tok_off;       /* start of the current method/name/reason */
	uint32_t tok_len;       /* method or name length */
	uint32_t target_off, target_len;
	uint32_t value_off, value_end;
	uint16_t code;
	void *alloc;            /* what gw_http_parser_free() frees */
};

/**
 * Prepare @p p for @p kind messages with caller-provided memory: @p buf of
 * at least limits.max_head bytes (it is only written when a head spans
 * chunks) and @p headers of at least limits.max_headers entries.
 * @p limits may be NULL for the defaults.
 *
 * @return 0, or -EINVAL when the memory is too small, the kind unknown or
 *         max_head of 2^31 or more.
 */
int gw_http_parser_init(struct gw_http_parser *p, enum gw_http_kind kind,
			const struct gw_http_limits *limits,
			uint8_t *buf, size_t buf_len,
			struct gw_http_header *headers, size_t n_headers);

/** A parser with its memory allocated in one block; NULL when out of memory. */
struct gw_http_parser *gw_http_parser_create(enum gw_http_kind kind,
					     const struct gw_http_limits *limits);

/** Free a parser from gw_http_parser_create() (NULL is fine). */
void gw_http_parser_free(struct gw_http_parser *p);

/**
 * Start the next message on the same connection (after GW_HTTP_DONE and
 * the body, or after a 1xx response). Keeps limits, memory,
 * request_method and copied_bytes; invalidates p->head.
 */
void gw_http_parser_reset(struct gw_http_parser *p);

/**
 * Parse the next @p len bytes of a head; see the contract at the top of
 * this file.
 *
 * @return GW_HTTP_DONE, GW_HTTP_AGAIN or -GW_HTTP_E_*.
 */
int gw_http_head_parse(struct gw_http_parser *p, const uint8_t *data,
		       size_t len, size_t *consumed);

/** Case-insensitive (ASCII) comparison of two names. */
bool gw_http_name_eq(const char *a, size_t a_len, const char *b, size_t b_len);

/**
 * Index of the first field named @p name (case-insensitive) at or after
 * index @p from, or -1. Call again with the index + 1 for repeated fields.
 */
int gw_http_header_find(const struct gw_http_head *h, const char *name,
			uint32_t from);

/**
 * The id of field name @p name (case-insensitive, any bytes):
 * GW_HTTP_F_OTHER when it is none of enum gw_http_field's names.
 */
enum gw_http_field gw_http_field_id(const char *name, size_t len);

/** The id of @p f: the parser's, or worked out from the name. */
static inline enum gw_http_field
gw_http_header_id(const struct gw_http_header *f)
{
	if (f->id != GW_HTTP_F_UNCLASSIFIED)
		return (enum gw_http_field)f->id;
	return gw_http_field_id(f->name, f->name_len);
}

/**
 * gw_http_header_find() for a known name: index of the first field with
 * id @p id (not GW_HTTP_F_OTHER nor _UNCLASSIFIED) at or after @p from,
 * or -1.
 */
int gw_http_header_find_id(const struct gw_http_head *h, enum gw_http_field id,
			   uint32_t from);

/**
 * True when the comma-separated list @p value (a Connection or similar
 * field value) has an element equal to @p token, case-insensitively.
 */
bool gw_http_list_has(const char *value, size_t len, const char *token);

/**
 * Chunked body decoder (RFC 9112 §7.1). Initialise with
 * gw_http_chunked_init(); the limits may be changed before the first feed.
 */
struct gw_http_chunked {
	uint64_t payload_bytes;   /**< chunk data reported in spans so far */
	uint64_t framing_bytes;   /**< size lines, extensions, CRLFs, trailers */
	uint32_t max_trailer;     /**< trailer section bytes before an error */
	int err;                  /**< negative code after an error */
	/* private */
	uint64_t remaining;       /* chunk data still to come */
	uint32_t line_len;        /* extension bytes on this size line */
	uint32_t trailer_len;
	uint8_t digits;
	uint8_t state;
};

/** A byte range of a chunk passed to gw_http_chunked_feed(). */
struct gw_http_span {
	size_t off;
	size_t len;
};

/** Reset @p c for a new chunked body, default limits. */
void gw_http_chunked_init(struct gw_http_chunked *c);

/**
 * Decode the next @p len bytes of a chunked body. Writes up to @p max_spans
 * payload ranges of @p data into @p spans (spans may be NULL with
 * max_spans 0 when the caller only forwards the bytes as they are); the
 * rest of the consumed bytes are framing. A span never crosses a chunk
 * boundary of the input, and consecutive spans of one call are separated
 * by framing.
 *
 * It stops when the body ends (last-chunk, trailers and final CRLF taken:
 * gw_http_chunked_done() becomes true and the next message starts at
 * data + *consumed), when @p data is used up, or before a span that would
 * not fit in @p spans (then *consumed < len: call again with the rest).
 * Errors (-GW_HTTP_E_CHUNK_*, _TRAILER*, _BARE_CR/LF) are sticky; the
 * caller closes the connection.
 *
 * @return the number of spans written, or a negative code.
 */
int gw_http_chunked_feed(struct gw_http_chunked *c, const uint8_t *data,
			 size_t len, struct gw_http_span *spans,
			 unsigned int max_spans, size_t *consumed);

/** True once the whole chunked body, trailers included, was consumed. */
bool gw_http_chunked_done(const struct gw_http_chunked *c);

#endif /* GW_HTTP_H */
