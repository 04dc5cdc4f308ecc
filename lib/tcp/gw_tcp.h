/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GW_TCP_H
#define GW_TCP_H

/**
 * @file
 * A worker's TCP stack (RFC 9293), both roles, zero copy. See docs/tcp.md.
 *
 * Threading: a stack and its connections belong to one worker; every
 * function here is called on that worker only. Callbacks run on it too,
 * from gw_tcp_input(), gw_tcp_poll() and gw_tcp_stack_free() (never from
 * inside gw_tcp_send, shutdown, abort, recv_consumed or connect); a callback
 * may call gw_tcp_send/shutdown/abort/recv_consumed on any connection of
 * the same stack.
 *
 * Addresses are IPv4 in network byte order; ports in host byte order.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gw_net.h"

struct gw_tcp_stack;
struct gw_tcp_conn;

/** Why a connection ended (the argument of on_closed). */
enum gw_tcp_close_reason {
	GW_TCP_CLOSED_NORMAL = 0,     /**< both FINs exchanged and acknowledged */
	GW_TCP_CLOSED_RESET,          /**< the peer sent RST */
	GW_TCP_CLOSED_REFUSED,        /**< active open answered by RST */
	GW_TCP_CLOSED_CONNECT_TIMEOUT,/**< active open: no SYN-ACK in time */
	GW_TCP_CLOSED_TIMEOUT,        /**< retransmissions exhausted */
	GW_TCP_CLOSED_ABORTED,        /**< gw_tcp_abort() (no callback is made for it) */
	GW_TCP_CLOSED_STACK_STOP,     /**< gw_tcp_stack_free() */
};

/** Connection states (RFC 9293 section 3.3.2), for gw_tcp_conn_state(). */
enum gw_tcp_state {
	GW_TCP_CLOSED = 0,
	GW_TCP_LISTEN,
	GW_TCP_SYN_SENT,
	GW_TCP_SYN_RCVD,
	GW_TCP_ESTABLISHED,   /**< this and every state below are synchronized */
	GW_TCP_FIN_WAIT_1,
	GW_TCP_FIN_WAIT_2,
	GW_TCP_CLOSE_WAIT,
	GW_TCP_CLOSING,
	GW_TCP_LAST_ACK,
	GW_TCP_TIME_WAIT,
};

/** What the application hears from a connection. Any member may be NULL. */
struct gw_tcp_callbacks {
	/** Active open completed (passive opens are announced by accept). */
	void (*on_established)(struct gw_tcp_conn *c, void *ctx);
	/**
	 * In-order payload, @p m trimmed to the payload (possibly a chain).
	 * The application owns @p m and must later call
	 * gw_tcp_recv_consumed() for its bytes: until then they count against
	 * the advertised window (backpressure).
	 */
	void (*on_data)(struct gw_tcp_conn *c, void *ctx, struct rte_mbuf *m);
	/**
	 * Send space became available after gw_tcp_send() ran out of it:
	 * ACKs freed a third of sndbuf, or all of it. Called from gw_tcp_poll().
	 */
	void (*on_writable)(struct gw_tcp_conn *c, void *ctx);
	/** The peer sent FIN (half-close): no more data will arrive. */
	void (*on_fin)(struct gw_tcp_conn *c, void *ctx);
	/** Last call: the connection is gone when this returns. */
	void (*on_closed)(struct gw_tcp_conn *c, void *ctx,
			  enum gw_tcp_close_reason reason);
};

/**
 * A listener's accept hook: called when a passive open completes. Returns
 * the connection's ctx (and sets *cb), or NULL to refuse it (it is reset).
 */
typedef void *(*gw_tcp_accept_fn)(void *listener_ctx, struct gw_tcp_conn *c,
				  const struct gw_tcp_callbacks **cb);

/** Transmit a frame whose IPv4/TCP headers are complete; Ethernet is filled
 * by the callee from the next hop (gw_worker_send_ip). Takes ownership. */
typedef void (*gw_tcp_xmit_fn)(void *arg, unsigned int port_index,
			       uint32_t next_hop, struct rte_mbuf *m);

/** A port as TCP sees it. */
struct gw_tcp_port {
	struct gw_net_iface iface;   /**< address, prefix, gateway */
	uint16_t mtu;                /**< IP MTU (1500) -> MSS 1460 */
	bool tx_ip_cksum;            /**< NIC computes IPv4 header checksums */
	bool tx_tcp_cksum;           /**< NIC computes TCP checksums */
	bool tx_multi_seg;           /**< NIC sends mbuf chains (else: linearise, counted) */
	/**
	 * Most mbufs in one transmitted frame, header included (the NIC's
	 * tx_desc_lim.nb_mtu_seg_max); 0 = 16. A segment whose payload would
	 * need more is cut short rather than copied.
	 */
	uint16_t tx_max_segs;
};

struct gw_tcp_stack_params {
	unsigned int worker_id;
	unsigned int n_workers;
	uint32_t max_conns;          /**< TCBs preallocated (limits.connections_per_worker) */
	uint32_t syn_backlog;        /**< embryonic conns per listener before SYN cookies (default 1024) */
	uint32_t timewait_max;       /**< conns in TIME_WAIT before the oldest is recycled */
	uint32_t rcvbuf;             /**< per-connection receive budget, bytes (default 256 KiB) */
	uint32_t sndbuf;             /**< per-connection send queue limit, bytes (default 256 KiB) */
	uint32_t reasm_segments;     /**< out-of-order segments held per worker (at most 256 per conn; default 4096) */
	uint32_t connect_timeout_ms; /**< active open gives up after this (default 5000) */
	uint64_t tsc_hz;
	struct rte_mempool *pool;    /**< header mbufs and clones */
	unsigned int n_ports;
	const struct gw_tcp_port *ports;
	gw_tcp_xmit_fn xmit;
	void *xmit_arg;
	/* Optional; 0 (or NULL) selects the default given. */
	uint32_t timewait_ms;        /**< TIME_WAIT length, 2*MSL (default 60000) */
	uint32_t delack_ms;          /**< delayed-ACK timer (default 40) */
	uint32_t max_retransmits;    /**< timeouts in a row before TIMEOUT (default 12) */
	uint32_t challenge_ack_limit;/**< challenge ACKs per second per stack (default 1000) */
	uint64_t start_tsc;          /**< the stack's clock at create (default rte_rdtsc()) */
	/**
	 * Source-port choice hook for gw_tcp_connect(): return true when
	 * @p local_port is acceptable for this worker (e.g. the NIC's RSS hash
	 * of the return 4-tuple lands on its queue). NULL: local_port %
	 * n_workers == worker_id, which gw_tcp_owner() assumes.
	 */
	bool (*src_port_ok)(void *arg, unsigned int port_index,
			    uint32_t local_ip, uint16_t local_port,
			    uint32_t remote_ip, uint16_t remote_port);
	void *src_port_arg;
	/** Source ports gw_tcp_connect() picks from (0: 32768..60999); a
	 * stack confined to a sub-range (the shadow engine's) says so here
	 * rather than refusing most ports one by one in src_port_ok. */
	uint16_t src_port_first, src_port_last;
};

/** Counters of one stack. */
struct gw_tcp_stats {
	uint64_t active_opens;           /**< gw_tcp_connect() calls that sent a SYN */
	uint64_t passive_opens;          /**< handshakes completed on listeners (accept called) */
	uint64_t accepts_refused;
	uint64_t conns_refused_limit;    /**< SYN or connect() at max_conns */
	uint64_t established;            /**< gauge: connections now ESTABLISHED */
	uint64_t conns;                  /**< gauge: TCBs in use */
	uint64_t timewait;               /**< gauge */
	uint64_t segs_in, segs_out, bytes_in, bytes_out;
	uint64_t retransmits, fast_retransmits, rto_timeouts;
	uint64_t out_of_order, reasm_dropped, dup_segments;
	uint64_t syncookies_sent, syncookies_ok, syncookies_failed;
	uint64_t resets_in, resets_out, challenge_acks;
	uint64_t bad_checksum, bad_segment, no_listener;
	uint64_t zero_window_probes;
	uint64_t copied_bytes;           /**< payload bytes copied (target: 0) */
	uint64_t no_mbuf;                /**< data segments not sent for want of mbufs (retried) */
};

/** Create a worker's stack (called on the control lcore at start). NULL on failure. */
struct gw_tcp_stack *gw_tcp_stack_create(const struct gw_tcp_stack_params *p);

/** Reset every connection (on_closed with STACK_STOP) and free the stack. */
void gw_tcp_stack_free(struct gw_tcp_stack *s);

/** Accept connections to @p ip (0 = any of ours) : @p port. 0, -EEXIST, -ENOSPC. */
int gw_tcp_listen(struct gw_tcp_stack *s, uint32_t ip, uint16_t port,
		  gw_tcp_accept_fn accept, void *listener_ctx);

/**
 * Open a connection to @p dst_ip:@p dst_port through port @p port_index,
 * from the port's address and a source port this worker owns (see
 * gw_tcp_owner()). Returns the connection (SYN sent; on_established or
 * on_closed follow) or NULL with rte_errno set (ENOSPC at max_conns,
 * EADDRINUSE when no source port is free, EINVAL for a bad port index;
 * positive, as DPDK sets rte_errno).
 */
struct gw_tcp_conn *gw_tcp_connect(struct gw_tcp_stack *s,
	unsigned int port_index, uint32_t dst_ip, uint16_t dst_port,
	const struct gw_tcp_callbacks *cb, void *ctx);

/**
 * Queue @p m (a chain, by reference) for sending. Takes ownership. Returns
 * 0, or -ENOBUFS when it does not fit gw_tcp_send_space() or, rarely, the
 * pool has no mbuf to replace queued ones a frame still holds (counted in
 * no_mbuf; either way @p m is not taken and on_writable follows), -EPIPE
 * after shutdown/close.
 * Allowed before the handshake completes (sent once it does). Segments go
 * out from gw_tcp_poll(), so sends within one loop are coalesced up to the
 * MSS (Nagle is off). The data must not be written while queued: it is
 * sent by reference, retransmissions included (mbufs the queue holds alone
 * may go out themselves, chained under a header).
 */
int gw_tcp_send(struct gw_tcp_conn *c, struct rte_mbuf *m);

/** Bytes gw_tcp_send() accepts now. */
uint32_t gw_tcp_send_space(const struct gw_tcp_conn *c);

/** The application has released @p bytes given by on_data: reopen the window. */
void gw_tcp_recv_consumed(struct gw_tcp_conn *c, uint32_t bytes);

/** Send FIN once queued data is sent (half-close). */
void gw_tcp_shutdown(struct gw_tcp_conn *c);

/** Send RST and free the connection now; no callback follows. */
void gw_tcp_abort(struct gw_tcp_conn *c);

/** The connection's 4-tuple (any pointer may be NULL). */
void gw_tcp_conn_tuple(const struct gw_tcp_conn *c, uint32_t *local_ip,
		       uint16_t *local_port, uint32_t *remote_ip,
		       uint16_t *remote_port);

/** Change callbacks/ctx (e.g. after accept hands a conn to a proxy session). */
void gw_tcp_conn_set_callbacks(struct gw_tcp_conn *c,
			       const struct gw_tcp_callbacks *cb, void *ctx);

/**
 * A TCP segment for us (lib/net said GW_NET_TCP: offsets in @p res).
 * Takes ownership of @p m.
 */
void gw_tcp_input(struct gw_tcp_stack *s, unsigned int port_index,
		  struct rte_mbuf *m, const struct gw_net_result *res);

/**
 * Which worker owns the connection of this segment (software steering for
 * ports without RSS): a hash of the client's address and ports for
 * listener ports, the worker encoded in the local port for upstream
 * connections.
 */
unsigned int gw_tcp_owner(const struct gw_tcp_stack *s, const struct rte_mbuf *m,
			  const struct gw_net_result *res);

/**
 * Run due timers; send ACKs and segments made ready by input. Call every
 * loop (after each RX burst too, so that ACKs are coalesced per burst).
 * @p now_tsc is the stack's clock until the next call: input and the
 * application calls in between use it (an earlier value is ignored).
 * Cheap when nothing is due. Passive connections announce themselves
 * through accept; a connection that ends in TIME_WAIT gets on_closed
 * (NORMAL) on entering it and lingers without its application.
 */
void gw_tcp_poll(struct gw_tcp_stack *s, uint64_t now_tsc);

/**
 * When gw_tcp_poll() has work next: the stack's clock when output is
 * pending, else no later than the earliest timer (possibly earlier),
 * UINT64_MAX when nothing is armed. For idle back-off and tests.
 */
uint64_t gw_tcp_next_expiry(struct gw_tcp_stack *s);

/** The connection's state (TIME_WAIT TCBs are never handed out). */
enum gw_tcp_state gw_tcp_conn_state(const struct gw_tcp_conn *c);

/** Upper-case name of a state ("ESTABLISHED"); never NULL. */
const char *gw_tcp_state_name(enum gw_tcp_state st);

/** This stack's counters (read by the control lcore; single writer). */
const struct gw_tcp_stats *gw_tcp_stack_stats(const struct gw_tcp_stack *s);

#endif /* GW_TCP_H */
