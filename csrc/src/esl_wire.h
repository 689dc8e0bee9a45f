/*
 * esl_wire.h: the receive-side parser of the event socket protocol (internal).
 *
 * A pure function of bytes: the caller appends what it read (esl_wire_feed, or
 * esl_wire_reserve + esl_wire_commit to read straight into the parser's memory) and takes
 * complete messages out with esl_wire_next. Nothing here touches a socket, so tests,
 * fuzzers and benchmarks drive it with byte strings alone.
 *
 * Framing (spec 13.1-13.3 with the project rules of 16.1b):
 *   - a header block ends at LF [CR] LF; the terminator scan is incremental (it resumes
 *     where the previous call stopped), so feeding a block in any number of pieces costs
 *     time linear in its size, and NUL bytes never stall it;
 *   - a NUL byte inside a header block, a block longer than the header limit, and a
 *     Content-Length that is empty, non-numeric, negative, over the body limit, or given
 *     twice with different values are errors: esl_wire_next returns ESL_WIRE_ERROR and
 *     esl_wire_error says why. Errors are sticky until esl_wire_reset;
 *   - a body is taken by its length and delivered intact (NUL bytes included), followed
 *     by one terminating NUL that is not part of it.
 *
 * Every event handed out is an arena event (esl_event_private.h): one allocation holding
 * the event, its headers, arrays, strings and body, with the body last in the block, so
 * esl_wire_body_length is exact even when the body holds NUL bytes.
 *
 * Not thread-safe: one parser belongs to one connection and is used under its lock.
 */
#ifndef ESL_WIRE_H
#define ESL_WIRE_H

#include <stdint.h>

#include "esl.h"

typedef struct esl_wire esl_wire_t;

typedef enum {
	ESL_WIRE_ERROR = -1,   /* framing or memory error; see esl_wire_error */
	ESL_WIRE_MORE = 0,     /* no complete message buffered yet */
	ESL_WIRE_MESSAGE = 1   /* *event holds the next message; the caller owns it */
} esl_wire_status_t;

/* Creates a parser with the default limits (ESL_DEFAULT_MAX_HEADER_BLOCK, ESL_DEFAULT_MAX_BODY);
 * NULL when memory runs out. */
esl_wire_t *esl_wire_create(void);
void esl_wire_destroy(esl_wire_t **wire);
/* Drops buffered bytes, any half-received message and a sticky error. */
void esl_wire_reset(esl_wire_t *wire);
/* 0 keeps a limit as it is. The header limit is capped at 1 GiB. Applies to messages whose
 * header block has not been parsed yet. */
void esl_wire_set_limits(esl_wire_t *wire, size_t max_header_block, size_t max_body);
void esl_wire_get_limits(const esl_wire_t *wire, size_t *max_header_block, size_t *max_body);

/* Copies len bytes in; 0 on success, -1 when memory ran out (the parser is then in error). */
int esl_wire_feed(esl_wire_t *wire, const void *data, size_t len);
/* Where the next read should put its bytes: at least esl_wire_read_room bytes of room, or, while
 * a large body is being received and nothing else is buffered, the rest of that body (so a read
 * never runs into the next message there). NULL when memory ran out. Call esl_wire_commit with
 * the count read before any other call on the parser. */
void *esl_wire_reserve(esl_wire_t *wire, size_t *room);
void esl_wire_commit(esl_wire_t *wire, size_t n);
/* The room reads are offered now: 8 KiB at first, doubled after each read that filled all it
 * was offered, up to 1 MiB, and halved after a read of less than an eighth of it (not below
 * 64 KiB). */
size_t esl_wire_read_room(const esl_wire_t *wire);
/* The size of the receive buffer, for tests. */
size_t esl_wire_buffer_size(const esl_wire_t *wire);

/* Takes the next complete message. */
esl_wire_status_t esl_wire_next(esl_wire_t *wire, esl_event_t **event);
/* For a caller that copies events out instead of keeping them (the Go binding): what take
 * returns for an event body it was offered. */
enum {
	ESL_WIRE_DECLINE = 0,   /* not taken: the message is to be received with esl_wire_next */
	ESL_WIRE_TAKEN = 1,     /* taken: offer the next one */
	ESL_WIRE_TAKEN_STOP = 2 /* taken, and offer no more for now */
};
typedef int (*esl_wire_take_fn)(void *ctx, const char *body, size_t len, int json);

/* Offers the next message to take without building an event, when it is buffered whole and
 * framed as FreeSWITCH frames events: exactly "Content-Length: N\nContent-Type:
 * text/event-plain\n\n" (or text/event-json), N from 1 to the body limit. body is its N bytes
 * in the parser's buffer, NUL-terminated at len for the call (the byte there is put back
 * after), valid only during the call, which must not call the parser. Returns take's result
 * (the message is consumed unless it is ESL_WIRE_DECLINE), or:
 *   -1 (ESL_WIRE_MORE's meaning): the next message is not buffered whole yet; read more and
 *      call again;
 *   -2: the next message is not offered (another framing or Content-Type, a large or
 *      over-limit body, an error, or one begun by esl_wire_next): take it with esl_wire_next. */
int esl_wire_take_event(esl_wire_t *wire, esl_wire_take_fn take, void *ctx);

/* Writes the n bytes of a plain header value at s to o, URL-decoded as the plain parser decodes
 * values (two hex digits; "%00" stays), and returns the end of what it wrote (no NUL). o needs
 * room for n bytes. */
char *esl_wire_plain_value_into(char *o, const char *s, size_t n);
/* The same for the n bytes inside a JSON string whose escapes are all one-character ones (as
 * the JSON checks and the compact reader take them): decoded, the end returned. */
char *esl_wire_json_string_into(char *o, const char *s, size_t n);

/* Why the parser is in error ("" when it is not). */
const char *esl_wire_error(const esl_wire_t *wire);
/* True while bytes of a message not yet handed out are held. */
int esl_wire_buffered(const esl_wire_t *wire);

/* The number of body bytes of an event made by this parser (exact, NUL bytes included);
 * strlen(body) for any other event; 0 without a body. */
size_t esl_wire_body_length(const esl_event_t *event);

/* For a plain event as this parser built it, the span that holds all its names and values,
 * each NUL-terminated, name then value, in header order, none with a NUL byte inside: a
 * header's lengths follow from where the next string starts. 0 with *text and *len set (and
 * *count, the number of headers, unless count is NULL), or -1 when the event is not laid out
 * so (it was built another way, or headers or the body were added, removed or replaced
 * since). Editing a string in place is not detected. */
int esl_wire_event_text(const esl_event_t *event, const char **text, size_t *len, size_t *count);

/* Parses a text/event-plain body into a new arena event (spec 13.4: a CLONE, Event-Name
 * sets event_id, lines without ':' skipped, values URL-decoded, header section up to the
 * first empty line, and when a Content-Length header results, everything after that line
 * is the body). wire may be NULL (scratch memory is then allocated for the call).
 * Returns ESL_SUCCESS with *event set; ESL_FAIL with *event NULL when the header section
 * holds a NUL byte (it cannot be represented without cutting a string); ESL_GENERR when
 * memory ran out. */
esl_status_t esl_wire_parse_plain(esl_wire_t *wire, const char *text, size_t len, esl_event_t **event);

/* One header of esl_wire_plain_spans: byte offsets and lengths. */
typedef struct {
	uint32_t name_off, name_len;
	uint32_t value_off, value_len;
} esl_wire_span_t;

/* An inner event as spans, for a caller that copies the event out instead of keeping an
 * esl_event_t (the Go binding). Every offset counts in the strings: the first text_len bytes
 * of the text, followed by the decoded_len bytes at decoded. For a plain event a name is a
 * span of the text and a value too, unless it had an escape to decode; for a JSON event
 * (text_len 0) every string is decoded. Names and values are not NUL-terminated. */
typedef struct {
	const esl_wire_span_t *line;   /* nline headers, in order; valid until the next call on the parser */
	size_t nline;
	size_t text_len;
	const char *decoded;
	size_t decoded_len;
	esl_event_types_t event_id;
	int has_body;
	size_t body_off, body_len;     /* the body: in the text for a plain event, decoded for JSON */
} esl_wire_spans_t;

/* Fills *out with the event esl_wire_parse_plain would build from the same text, when that event
 * is one header per line in line order (nearly every real event). Returns 1 then; 0 when the
 * event needs esl_wire_parse_plain (a name with '[' or "_body", an empty value, "ARRAY::", a
 * second Event-Name, a NUL byte in the header section, text over 2 GiB, api_build); -1 when
 * memory ran out. */
int esl_wire_plain_spans(esl_wire_t *wire, const char *text, size_t len, esl_wire_spans_t *out);

/* An inner event for a caller that keeps its text and finds headers in it itself. */
typedef struct {
	size_t header_len;             /* the header section, text[0, header_len): one header per line */
	esl_event_types_t event_id;
	int has_body;
	size_t body_off, body_len;     /* the body, in the text (JSON: still escaped) */
	/* For a caller that looks names up in the text, when the text is 64 KiB or less: where
	 * each header starts, in order. Plain: the header lines (each a name, its first ':', the
	 * value). JSON, read by the fast path of esl_wire_json_check: each member's opening quote,
	 * "_body" members left out. NULL otherwise. Valid until the next call on the parser. */
	const uint16_t *member_at;
	/* plain, with member_at: the length of each header's name (up to its line's first ':') */
	const uint16_t *name_len;
	size_t nmember;
} esl_wire_text_info_t;

/* Returns 1 when the event esl_wire_plain_spans would give for the text can be read from the
 * text alone: every line of the header section with a ':' is one header in line order, its name
 * up to the first ':', its value the rest of the line after any spaces, URL-decoded (two hex
 * digits; "%00" stays). Fills *out then. 0 when the event needs esl_wire_plain_spans or the full
 * parse: the cases of esl_wire_plain_spans, and also (erring on the safe side) any '[' in
 * the header section, "ARRAY" before a ':' in a value, an escape of 'A', 'R' or 'Y', and an
 * Event-Name value with '%'. -1 when memory ran out. Each line is looked at where it starts,
 * at its colons and at its end: nothing is copied or decoded. */
int esl_wire_plain_check(esl_wire_t *wire, const char *text, size_t len, esl_wire_text_info_t *out);

/* The same for a text/event-json body (NUL-terminated at len): 1 when it is a valid object
 * whose members are all strings that esl_wire_json_spans would give as one header each, in
 * order, with names free of escapes and values free of \u escapes, so that a caller can read
 * the event from the JSON text itself (header_len is len; the body is the raw value of the
 * last "_body" member, still to be decoded, and may have no \u escapes either). 0 otherwise:
 * the spans or the full parse decide. Nothing is decoded. */
int esl_wire_json_check(esl_wire_t *wire, const char *json, size_t len, esl_wire_text_info_t *out);

/* The same for a text/event-json body (NUL-terminated at len): the event esl_wire_parse_json
 * builds with a parser, when every member is one header in order. 0 for anything else (arrays,
 * empty values, "ARRAY::", a second Event-Name, names with '[', not a JSON object). */
int esl_wire_json_spans(esl_wire_t *wire, const char *json, size_t len, esl_wire_spans_t *out);

/* A text/event-json body (NUL-terminated at len) as the receive path decodes it: into one block
 * with a parser, through esl_event_create_json without one. ESL_SUCCESS with *event NULL when
 * it is not a JSON object; ESL_FAIL when memory ran out. */
esl_status_t esl_wire_parse_json(esl_wire_t *wire, const char *json, size_t len, esl_event_t **event);

/* Extension for the Go binding: the first half of esl_attach_handle. The handle takes socket
 * (an accepted outbound connection) and is connected, but nothing is sent: the caller sends
 * "connect" and receives its reply itself, without blocking a thread on it. ESL_FAIL when
 * the socket is invalid or memory ran out (the socket is then not the handle's). */
esl_status_t esl_attach_socket(esl_handle_t *handle, esl_socket_t socket, struct sockaddr_in *addr);

/* Extension for the Go binding: zeroes every field of a handle but socket_buf, which csrc
 * never uses (esl_disconnect clears a handle the same way). */
void esl_handle_clear(esl_handle_t *handle);

/* Extension for the Go binding: with on, receives decode no inner event (last_ievent stays
 * NULL), for a caller that decodes the body itself with esl_wire_plain_spans /
 * esl_wire_json_spans or esl_wire_decode_inner. ESL_FAIL when the handle cannot be set up. */
esl_status_t esl_handle_keep_inner(esl_handle_t *handle, int on);

/* Extension for the Go binding: esl_recv_event_nowait (check_q on, no save_event) for a
 * caller that copies events out. While messages can be had without waiting, each one that
 * esl_wire_take_event offers goes to take and never becomes an esl_event_t; the first other
 * message (or one take declines) is received as esl_recv_event_nowait receives it, into
 * last_event, and the call returns ESL_SUCCESS. last_event is NULL otherwise: the call also
 * returns ESL_SUCCESS with it NULL when take asked to stop (ESL_WIRE_TAKEN_STOP); ESL_BREAK
 * when nothing more can be had without waiting; anything else as esl_recv_event_nowait does.
 * Messages queued by esl_send_recv (race_event) go first, and while debug logging is on
 * nothing is offered, so every message is logged as usual. One lock for the whole call. */
esl_status_t esl_recv_take_nowait(esl_handle_t *handle, esl_wire_take_fn take, void *ctx);

/* esl_recv_take_nowait's way of taking events, in a receive that waits like
 * esl_recv_event_timed(handle, ms, 1, NULL) (ms 0: without a bound) until a message was taken
 * or received. take should ask to stop (ESL_WIRE_TAKEN_STOP) after the first one it takes:
 * the call then returns ESL_SUCCESS with last_event NULL. For esl_recv_event_view. */
esl_status_t esl_recv_take_timed(esl_handle_t *handle, uint32_t ms, esl_wire_take_fn take, void *ctx);

/* Puts an event's text (NUL-terminated at len) into view to be read in place, when the checks
 * allow it: 1 then, 0 when the event needs the full parse (the view is then empty), -1 when
 * memory ran out. esl_recv_event_view's step, and a way for tests to reach it without a
 * socket. */
int esl_event_view_set_text(esl_event_view_t *view, const char *text, size_t len, int json);

/* Testing aid: the text an event read in place is read from, and whether it is JSON; NULL
 * when the view does not read one. */
const char *esl_event_view_text(const esl_event_view_t *view, size_t *len, int *json);

/* The inner event of a received message (spec 13.4): text/event-plain through
 * esl_wire_parse_plain, text/event-json into the same one-allocation event (the same result as
 * esl_event_create_json gives; rare shapes go through it), anything else none.
 * A body that cannot be decoded (invalid JSON, a NUL byte in the plain header section or
 * anywhere in JSON) gives *inner NULL and ESL_SUCCESS: the outer message stays intact.
 * ESL_FAIL only when memory ran out. */
esl_status_t esl_wire_decode_inner(esl_wire_t *wire, const esl_event_t *outer, esl_event_t **inner);

/* Testing aid: when on, events are first built through the public event API
 * (esl_event_add_header_string / esl_event_add_array) and then copied into one block, instead
 * of being planned directly. Both ways must give the same events. */
void esl_wire_set_api_build(esl_wire_t *wire, int on);

/* Testing aid: esl_wire_json_check tries its fast path for compact objects of unescaped
 * strings first and the general JSON reader after it (on 1, the default); on 0 uses only the
 * general reader, on 2 only the fast path (0 for anything it cannot decide). Where the fast
 * path decides, both must give the same answers. */
void esl_wire_set_json_compact(esl_wire_t *wire, int on);

#endif
