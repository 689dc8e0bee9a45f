/*
 * eslgo_shim.h: the C side of the Go binding.
 *
 * Uses the public libesl API, so the same shim links against this repository's csrc/ or
 * against an original libesl (build tag libesl).
 *
 * Received messages are packed into a buffer owned by the connection, in the layout Go keeps
 * them in, so Go copies each message with one memmove after a single cgo call for a whole
 * batch: no per-header crossings, and no C event outlives the call that received it. With
 * csrc, a plain or JSON event is packed straight from its text in the parser's receive
 * buffer (esl_recv_take_nowait), with no C event built at all, for the message or its event.
 */
#ifndef ESLGO_SHIM_H
#define ESLGO_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include <esl.h>

/* One header: name and value are spans of its message's strings. */
typedef struct {
	uint32_t name_off, name_len;
	uint32_t value_off, value_len;
	/* first element in the message's element table, and the element count (0: scalar header) */
	uint32_t elem_first;
	int32_t nelem;
} eslgo_hdr_t;

/* One array element: a span of its message's strings. */
typedef struct {
	uint32_t off, len;
} eslgo_span_t;

/*
 * One packed message: the event to hand out (the inner event of text/event-plain and
 * text/event-json, else the message itself). Its bytes in the connection's buffer are laid
 * out as Go keeps them, so Go copies them with one memmove: nhdr eslgo_hdr_t, then nelem
 * eslgo_span_t, then the strings (names, values, elements, body) that both tables point into.
 */
typedef struct {
	uint32_t off;		/* where the message starts in the buffer (4-byte aligned) */
	uint32_t size;		/* its bytes: tables and strings */
	uint32_t nhdr, nelem;
	uint32_t strs_off;	/* where the strings start, from off */
	int32_t event_id;
	int32_t priority;
	int32_t has_body;
	uint32_t body_off, body_len;	/* in the strings */
	/* the outer message is a reply (command/reply, api/response, or no Content-Type) */
	int32_t is_reply;
	/* an event kept as its text: 1 plain (esl_wire_plain_check), 2 JSON (esl_wire_json_check);
	 * 0 otherwise. No tables: the strings are the text, and its header section (all of it
	 * for JSON) is their first text_len bytes */
	int32_t is_text;
	uint32_t text_len;
	/* Text only: before the strings, nmember_at uint16_t offsets where each header starts
	 * (esl_wire_text_info_t's member_at), for plain followed by as many name lengths; 0
	 * without the table */
	uint32_t nmember_at;
} eslgo_msg_t;

/* A connection: the libesl handle plus the packed messages of the last receive. */
typedef struct {
	esl_handle_t handle;
	/* messages of the last receive, packed into buf */
	eslgo_msg_t *msgs;
	uint32_t nmsg, msgs_cap;
	/* messages dropped by the last receive because they could not be packed (out of memory,
	 * or over 4 GiB) */
	uint32_t dropped;
	char *buf;
	size_t buf_len, buf_cap;
	/* csrc only: the parser (esl_wire_t) that packs plain and JSON events straight from their
	 * text; NULL when the library decodes them */
	void *spans_wire;
} eslgo_conn_t;

eslgo_conn_t *eslgo_conn_new(void);
/* Frees the connection; call only after esl_disconnect returned (or when never connected). */
void eslgo_conn_free(eslgo_conn_t *c);

int eslgo_connect(eslgo_conn_t *c, const char *host, int port, const char *user, const char *password, uint32_t timeout_ms);
/* esl_attach_handle on an accepted socket; on success the info event is packed. */
int eslgo_attach(eslgo_conn_t *c, int fd);
/* csrc only: esl_attach_socket, the handle set up on an accepted socket without sending
 * "connect" (the Go side sends it and waits for the reply in the runtime's poller). -1 with
 * the original libesl. */
int eslgo_adopt(eslgo_conn_t *c, int fd);
/* One blocking receive; a received message (even with ESL_FAIL, e.g. a goodbye notice) is packed. */
int eslgo_recv(eslgo_conn_t *c);
/* Receives without waiting, packing up to max_msgs messages (fewer once max_bytes are packed).
 * ESL_SUCCESS: the batch is full and more may be buffered; ESL_BREAK: nothing more without
 * waiting for readability; else the connection ended (with the messages before the end, and a
 * goodbye notice, packed). -1 when the library has no esl_recv_event_nowait. */
int eslgo_recv_batch(eslgo_conn_t *c, uint32_t max_msgs, size_t max_bytes);
int eslgo_disconnect(eslgo_conn_t *c);
/* Waits for the socket to become writable (used when a non-blocking socket is full). */
int eslgo_wait_writable(int fd, uint32_t ms);

/* Extension: limits of received messages; -1 when the library lacks it. */
int eslgo_set_limits(eslgo_conn_t *c, size_t max_header_block, size_t max_body);
int eslgo_have_extensions(void);

/* Logging: level < 0 turns the bridge off; 0..7 routes libesl's logger to Go at that level. */
void eslgo_set_log_level(int level);
void eslgo_init(void);

/* Test helpers: build a C event and serialize it with the library (caller frees *out). */
esl_event_t *eslgo_event_new(int event_id, const char *subclass);
int eslgo_event_add(esl_event_t *e, int stack, const char *name, const char *value);
int eslgo_event_priority(esl_event_t *e, int priority);
int eslgo_event_body(esl_event_t *e, const char *body);
int eslgo_event_del(esl_event_t *e, const char *name);
char *eslgo_event_serialize(esl_event_t *e, int json);
void eslgo_event_free(esl_event_t *e);
esl_event_t *eslgo_event_json(const char *text);
/* Logs one line through the library's current logger (test helper for the bridge). */
void eslgo_log_test(int level, const char *text);
/* Packs e into c's tables (test helper for the unpacking code). */
int eslgo_pack_one(eslgo_conn_t *c, esl_event_t *e);
/* Packs a text/event-plain body (json 0) or a text/event-json body (json 1, NUL-terminated at
 * len) into c's tables (test helper): straight from the text as the receive path does (spans
 * 1), or through the full decode and the C event (spans 0). 1 when packed, 0 when the spans
 * were declined or the text has no event, -1 when memory ran out, -2 without csrc. */
int eslgo_pack_inner_test(eslgo_conn_t *c, const char *text, size_t len, int json, int spans);

#endif
