/*
 * eslgo_shim.h: the C side of the Go binding.
 *
 * Uses only the public libesl API, so the same shim links against this repository's
 * csrc/ or against an original libesl (build tag libesl).
 *
 * Received messages are packed into flat tables owned by the connection, so Go copies a
 * whole message (outer and inner event) after a single cgo call: no per-header crossings,
 * and no C event outlives the call that received it.
 */
#ifndef ESLGO_SHIM_H
#define ESLGO_SHIM_H

#include <stdint.h>
#include <stddef.h>
#include <esl.h>

/* One header: name and value are spans of the string table. */
typedef struct {
	uint32_t name_off, name_len;
	uint32_t value_off, value_len;
	/* first element in the element table, and the element count (0: scalar header) */
	uint32_t elem_first;
	int32_t nelem;
} eslgo_hdr_t;

/* One array element: a span of the string table. */
typedef struct {
	uint32_t off, len;
} eslgo_span_t;

/* One packed event. */
typedef struct {
	int32_t event_id;
	int32_t priority;
	uint32_t hdr_first, nhdr;
	int32_t has_body;
	uint32_t body_off, body_len;
} eslgo_ev_t;

/* A connection: the libesl handle plus the tables of the last packed message. */
typedef struct {
	esl_handle_t handle;
	/* events of the last packed message: 0 none, 1 outer, 2 outer and inner */
	int32_t nev;
	/* 1 when the last message could not be packed (out of memory) */
	int32_t oom;
	eslgo_ev_t ev[2];
	char *strs;
	size_t strs_len, strs_cap;
	eslgo_hdr_t *hdrs;
	uint32_t nhdr, hdrs_cap;
	eslgo_span_t *elems;
	uint32_t nelem, elems_cap;
} eslgo_conn_t;

eslgo_conn_t *eslgo_conn_new(void);
/* Frees the connection; call only after esl_disconnect returned (or when never connected). */
void eslgo_conn_free(eslgo_conn_t *c);

int eslgo_connect(eslgo_conn_t *c, const char *host, int port, const char *user, const char *password, uint32_t timeout_ms);
/* esl_attach_handle on an accepted socket; on success the info event is packed. */
int eslgo_attach(eslgo_conn_t *c, int fd);
/* One blocking receive; a received message (even with ESL_FAIL, e.g. a goodbye notice) is packed. */
int eslgo_recv(eslgo_conn_t *c);
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

#endif
