//go:build cgo

/*
 * eslgo_shim.c: the C side of the Go binding (see eslgo_shim.h).
 * The public libesl API, so it builds against csrc/ and against an original libesl; with
 * csrc it also uses the parser's internal header (esl_wire.h) where that saves work.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "eslgo_shim.h"
#include "eslgo_signals.h"
#include "_cgo_export.h"

/* csrc's parser: the exact body length of every event it received, NUL bytes included
 * (esl_wire_body_length), an event's strings as one span (esl_wire_event_text), and plain
 * and JSON events as spans of their text (esl_wire_plain_spans, esl_wire_json_spans). The
 * original libesl has none of it. */
#if defined(ESL_HAVE_EXTENSIONS) && defined(__has_include)
#if __has_include("esl_wire.h")
#include "esl_wire.h"
#define ESLGO_HAVE_WIRE 1
#endif
#endif

/* Keep at most this much buffer space between receives; a rare huge message must not pin
 * its buffer for the life of the connection. */
#define ESLGO_KEEP_BYTES (256 * 1024)

eslgo_conn_t *eslgo_conn_new(void)
{
#ifdef ESLGO_HAVE_WIRE
	/* the handle's 64 KiB socket_buf is left unwritten (esl_handle_clear): zeroing it cost
	 * every outbound session 16 page faults. The original libesl reads into it. */
	eslgo_conn_t *c = malloc(sizeof(*c));

	_Static_assert(offsetof(eslgo_conn_t, handle) == 0, "the handle comes first");
	if (c) {
		esl_handle_clear(&c->handle);
		memset((char *) c + sizeof(c->handle), 0, sizeof(*c) - sizeof(c->handle));
	}
#else
	eslgo_conn_t *c = calloc(1, sizeof(*c));
#endif

	if (c) {
		c->handle.sock = ESL_SOCK_INVALID;
	}
	return c;
}

static void drop_spans_wire(eslgo_conn_t *c)
{
#ifdef ESLGO_HAVE_WIRE
	esl_wire_t *w = c->spans_wire;

	esl_wire_destroy(&w);
#endif
	c->spans_wire = NULL;
}

void eslgo_conn_free(eslgo_conn_t *c)
{
	if (!c) {
		return;
	}
	free(c->buf);
	free(c->msgs);
	drop_spans_wire(c);
	free(c);
}

/* Forgets the packed messages before a receive. */
static void reset_batch(eslgo_conn_t *c)
{
	if (c->buf_cap > ESLGO_KEEP_BYTES && c->buf_len < c->buf_cap / 4) {
		free(c->buf);
		c->buf = NULL;
		c->buf_cap = 0;
	}
	c->buf_len = 0;
	c->nmsg = 0;
	c->dropped = 0;
}

/* Makes room for need bytes in the buffer; -1 when memory runs out. */
static int reserve(eslgo_conn_t *c, size_t need)
{
	size_t ncap = c->buf_cap ? c->buf_cap : 64 * 1024;
	char *p;

	if (need <= c->buf_cap) {
		return 0;
	}
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			return -1;
		}
		ncap *= 2;
	}
	if (!(p = realloc(c->buf, ncap))) {
		return -1;
	}
	c->buf = p;
	c->buf_cap = ncap;
	return 0;
}

/* Appends len bytes at *pos, which stays relative to the buffer (it may move). */
static int put(eslgo_conn_t *c, size_t *pos, const char *s, size_t len)
{
	if (len > SIZE_MAX - *pos || reserve(c, *pos + len)) {
		return -1;
	}
	if (len) {
		memcpy(c->buf + *pos, s, len);
	}
	*pos += len;
	return 0;
}

/*
 * The body of an outer message is exactly Content-Length bytes, which may include NUL
 * bytes; strlen would cut them off. With the original libesl, inner bodies are C strings.
 */
static size_t body_len(esl_event_t *e, int outer)
{
#ifdef ESLGO_HAVE_WIRE
	/* inner events too: a NUL in the body of an inner plain event must not cut it */
	(void) outer;
	return esl_wire_body_length(e);
#else
	size_t n = strlen(e->body);
	const char *cl;
	long v;

	if (outer && (cl = esl_event_get_header(e, "content-length"))) {
		v = atol(cl);
		if (v > 0 && (size_t) v > n && v <= ESL_MAX_CONTENT_LENGTH) {
			n = (size_t) v;
		}
	}
	return n;
#endif
}

/* ASCII case-insensitive equality, as Go compares (strcasecmp follows the locale). */
static int ascii_ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char) *a, y = (unsigned char) *b;

		if (x >= 'A' && x <= 'Z') {
			x += 'a' - 'A';
		}
		if (y >= 'A' && y <= 'Z') {
			y += 'a' - 'A';
		}
		if (x != y) {
			return 0;
		}
		if (!x) {
			return 1;
		}
	}
}

/* Replies are matched in order to the commands; as in esl_send_recv, a message without
 * Content-Type (here: or with an empty one) counts as a reply. */
static int is_reply(const char *ct)
{
	return !ct || !*ct || ascii_ieq(ct, "command/reply") || ascii_ieq(ct, "api/response");
}

#ifdef ESLGO_HAVE_WIRE
/* The header table and strings of an event as csrc's parser left it: its names and values
 * are one span already (esl_wire_event_text), copied whole, and each header's lengths follow
 * from where the next string starts, so no string is measured or copied on its own. Fills
 * m's table fields and *strs and *pos as put_headers does. 1 when it did, 0 when e is not laid
 * out so, -1 when memory ran out. */
static int put_span_headers(eslgo_conn_t *c, const esl_event_t *e, size_t start, eslgo_msg_t *m, size_t *strs,
							size_t *pos)
{
	const esl_event_header_t *hp;
	const char *text;
	size_t text_len, nhdr;
	eslgo_hdr_t *h;

	if (esl_wire_event_text(e, &text, &text_len, &nhdr)) {
		return 0;
	}
	if (nhdr > UINT32_MAX) {
		return -1;
	}
	*strs = *pos = start + nhdr * sizeof(eslgo_hdr_t);
	if (put(c, pos, text, text_len)) {
		return -1;
	}
	h = (eslgo_hdr_t *) (void *) (c->buf + start);
	for (hp = e->headers; hp; hp = hp->next, h++) {
		const char *value_end = hp->next ? hp->next->name - 1 : text + text_len - 1;

		h->name_off = (uint32_t) (hp->name - text);
		h->name_len = (uint32_t) (hp->value - hp->name - 1);
		h->value_off = (uint32_t) (hp->value - text);
		h->value_len = (uint32_t) (value_end - hp->value);
		h->elem_first = 0;
		h->nelem = 0;
	}
	m->nhdr = (uint32_t) nhdr;
	return 1;
}
#endif

/* The header table, the element table and the strings of any event, one string at a time,
 * into the buffer from start on. Sets m->nhdr and m->nelem, *strs to where the strings start
 * and *pos to where they end. 0, or -1 when memory ran out or a count is over 32 bits. */
static int put_headers(eslgo_conn_t *c, const esl_event_t *e, size_t start, eslgo_msg_t *m, size_t *strs, size_t *pos)
{
	const esl_event_header_t *hp;
	size_t nhdr = 0, nelem = 0, i = 0, j = 0;

	for (hp = e->headers; hp; hp = hp->next) {
		nhdr++;
		if (hp->idx > 0 && hp->array) {
			nelem += (size_t) hp->idx;
		}
	}
	if (nhdr > UINT32_MAX || nelem > UINT32_MAX) {
		return -1;
	}
	*strs = *pos = start + nhdr * sizeof(eslgo_hdr_t) + nelem * sizeof(eslgo_span_t);
	if (reserve(c, *strs)) {
		return -1;
	}
	for (hp = e->headers; hp; hp = hp->next, i++) {
		const char *name = hp->name ? hp->name : "";
		const char *value = hp->value ? hp->value : "";
		size_t nl = strlen(name), vl = strlen(value);
		eslgo_hdr_t *h;

		if (nl > SIZE_MAX - vl || put(c, pos, name, nl)) {
			return -1;
		}
		if (put(c, pos, value, vl)) {
			return -1;
		}
		/* after the copies: they may have moved the buffer */
		h = (eslgo_hdr_t *) (void *) (c->buf + start) + i;
		h->name_off = (uint32_t) (*pos - nl - vl - *strs);
		h->name_len = (uint32_t) nl;
		h->value_off = (uint32_t) (*pos - vl - *strs);
		h->value_len = (uint32_t) vl;
		h->elem_first = (uint32_t) j;
		h->nelem = 0;
		if (hp->idx > 0 && hp->array) {
			int k;

			for (k = 0; k < hp->idx; k++, j++) {
				const char *el = hp->array[k] ? hp->array[k] : "";
				size_t el_len = strlen(el);
				eslgo_span_t *sp;

				if (put(c, pos, el, el_len)) {
					return -1;
				}
				sp = (eslgo_span_t *) (void *) (c->buf + start + nhdr * sizeof(eslgo_hdr_t)) + j;
				sp->off = (uint32_t) (*pos - el_len - *strs);
				sp->len = (uint32_t) el_len;
			}
			h = (eslgo_hdr_t *) (void *) (c->buf + start) + i;
			h->nelem = hp->idx;
		}
	}
	m->nhdr = (uint32_t) nhdr;
	m->nelem = (uint32_t) nelem;
	return 0;
}

/* The slot of the next packed message, cleared, with *start where its bytes go (4-byte
 * aligned: the tables hold 32-bit fields); NULL when memory ran out. The message counts only
 * once finish_msg completes it. */
static eslgo_msg_t *begin_msg(eslgo_conn_t *c, size_t *start)
{
	eslgo_msg_t *m;

	if (c->nmsg == c->msgs_cap) {
		uint32_t ncap = c->msgs_cap ? c->msgs_cap * 2 : 16;
		eslgo_msg_t *nm;

		if (c->msgs_cap > UINT32_MAX / 2 || !(nm = realloc(c->msgs, (size_t) ncap * sizeof(*nm)))) {
			return NULL;
		}
		c->msgs = nm;
		c->msgs_cap = ncap;
	}
	if (c->buf_len > SIZE_MAX - 3) {
		return NULL;
	}
	*start = (c->buf_len + 3) & ~(size_t) 3;
	m = &c->msgs[c->nmsg];
	memset(m, 0, sizeof(*m));
	return m;
}

/* Completes the message begun at start whose strings run from strs to pos. -1 when an offset
 * would not fit the 32-bit fields; nothing is appended then. */
static int finish_msg(eslgo_conn_t *c, eslgo_msg_t *m, size_t start, size_t strs, size_t pos, int event_id, int priority,
					  int reply)
{
	/* every offset in the message is below pos - start; past 32 bits they would wrap */
	if (pos - start > UINT32_MAX || start > UINT32_MAX) {
		return -1;
	}
	m->off = (uint32_t) start;
	m->size = (uint32_t) (pos - start);
	m->strs_off = (uint32_t) (strs - start);
	m->event_id = (int32_t) event_id;
	m->priority = (int32_t) priority;
	m->is_reply = reply;
	c->buf_len = pos;
	c->nmsg++;
	return 0;
}

/* Appends e to the packed messages, in the layout of eslgo_msg_t. outer: e is the message as
 * framed on the wire (its body is Content-Length bytes). -1 when it cannot be packed (out of
 * memory, or offsets beyond 32 bits); nothing is appended then. */
static int pack(eslgo_conn_t *c, esl_event_t *e, int outer, int reply)
{
	eslgo_msg_t *m;
	size_t start, strs = 0, pos = 0;
	int done = 0;

	if (!(m = begin_msg(c, &start))) {
		return -1;
	}
#ifdef ESLGO_HAVE_WIRE
	done = put_span_headers(c, e, start, m, &strs, &pos);
#endif
	if (done < 0 || (!done && put_headers(c, e, start, m, &strs, &pos))) {
		return -1;
	}
	if (e->body) {
		size_t bl = body_len(e, outer);

		m->has_body = 1;
		m->body_off = (uint32_t) (pos - strs);
		m->body_len = (uint32_t) bl;
		if (bl > UINT32_MAX || put(c, &pos, e->body, bl)) {
			return -1;
		}
	}
	return finish_msg(c, m, start, strs, pos, (int) e->event_id, (int) e->priority, reply);
}

#ifdef ESLGO_HAVE_WIRE
/* A plain or JSON event that Go can read from its text alone (esl_wire_plain_check,
 * esl_wire_json_check) is packed as the text itself: nothing decoded, and no header table
 * (copying one costs the garbage collector more than Go's walk over the text costs); Go
 * decodes only the values it is asked for. 1 when packed, 0 when the event needs the
 * tables, -1 when memory ran out. */
static int pack_text(eslgo_conn_t *c, const char *text, size_t len, int json)
{
	esl_wire_text_info_t info;
	eslgo_msg_t *m;
	size_t start, strs, pos;
	int r = json ? esl_wire_json_check((esl_wire_t *) c->spans_wire, text, len, &info)
				 : esl_wire_plain_check((esl_wire_t *) c->spans_wire, text, len, &info);

	if (r <= 0) {
		return r;
	}
	if (!(m = begin_msg(c, &start))) {
		return -1;
	}
	pos = start;
	if (info.member_at && info.nmember && (json || info.name_len)) {
		/* the member table (plain: the name lengths after it), then the text from the next
		 * 4-byte boundary */
		size_t tl = info.nmember * sizeof(uint16_t);

		if (info.nmember > UINT16_MAX || put(c, &pos, (const char *) info.member_at, tl) ||
			(info.name_len && put(c, &pos, (const char *) info.name_len, tl)) || put(c, &pos, "\0\0", (pos - start) & 3)) {
			return -1;
		}
		m->nmember_at = (uint32_t) info.nmember;
	}
	strs = pos;
	if (put(c, &pos, text, len)) {
		return -1;
	}
	m->is_text = json ? 2 : 1;
	m->text_len = (uint32_t) info.header_len;
	if (info.has_body) {
		m->has_body = 1;
		m->body_off = (uint32_t) info.body_off;
		m->body_len = (uint32_t) info.body_len;
	}
	return finish_msg(c, m, start, strs, pos, (int) info.event_id, ESL_PRIORITY_NORMAL, 0) ? -1 : 1;
}

/* The inner event of a text/event-plain or text/event-json message packed straight from its
 * body, with no C event in between: as its text when pack_text takes it; otherwise, for
 * plain, the header section is copied whole (names and values are spans of it) and only
 * values with escapes are copied decoded after it; for JSON, the decoded strings the reader
 * wrote. 1 when packed, 0 when the event needs the full parse (esl_wire_plain_spans /
 * esl_wire_json_spans say which), -1 when memory ran out. */
static int pack_inner(eslgo_conn_t *c, const char *text, size_t len, int json)
{
	esl_wire_spans_t p;
	eslgo_msg_t *m;
	eslgo_hdr_t *h;
	size_t start, strs, pos, i;
	int r;

	if ((r = pack_text(c, text, len, json))) {
		return r;
	}
	r = json ? esl_wire_json_spans((esl_wire_t *) c->spans_wire, text, len, &p)
			 : esl_wire_plain_spans((esl_wire_t *) c->spans_wire, text, len, &p);
	if (r <= 0) {
		return r;
	}
	if (!(m = begin_msg(c, &start)) || p.nline > UINT32_MAX / 2) {
		return -1;
	}
	strs = pos = start + p.nline * sizeof(eslgo_hdr_t);
	if (put(c, &pos, text, p.text_len) || put(c, &pos, p.decoded, p.decoded_len)) {
		return -1;
	}
	/* after the copies: they may have moved the buffer */
	h = (eslgo_hdr_t *) (void *) (c->buf + start);
	for (i = 0; i < p.nline; i++) {
		h[i].name_off = p.line[i].name_off;
		h[i].name_len = p.line[i].name_len;
		h[i].value_off = p.line[i].value_off;
		h[i].value_len = p.line[i].value_len;
		h[i].elem_first = 0;
		h[i].nelem = 0;
	}
	m->nhdr = (uint32_t) p.nline;
	if (p.has_body) {
		/* body_off counts in the strings, like every offset of p */
		m->has_body = 1;
		m->body_off = (uint32_t) p.body_off;
		m->body_len = (uint32_t) p.body_len;
	}
	return finish_msg(c, m, start, strs, pos, (int) p.event_id, ESL_PRIORITY_NORMAL, 0) ? -1 : 1;
}
#endif

/* Packs the message a receive left in last_event (the inner event from last_ievent when
 * there is one), then frees both: Go holds its own copy, nothing received stays in C, and
 * last_event is NULL before the next receive, so a NULL afterwards means nothing arrived.
 * With keep_inner the library decodes no inner event: a plain or JSON body is packed straight
 * from its text, or decoded here when it needs the full parse. */
static void take_message(eslgo_conn_t *c)
{
	esl_event_t *ev = c->handle.last_event;
	int r = 0;

	if (ev) {
		const char *ct = esl_event_get_header(ev, "content-type");
		int reply = is_reply(ct);

#ifdef ESLGO_HAVE_WIRE
		/* with spans_wire, the library decoded no inner event (keep_inner): plain and JSON
		 * bodies are decoded here, as esl_wire_decode_inner tells them apart */
		int json = ct && !strcasecmp(ct, "text/event-json");

		if (c->spans_wire && ev->body && ct && (json || !strcasecmp(ct, "text/event-plain"))) {
			r = pack_inner(c, ev->body, esl_wire_body_length(ev), json);
			if (!r && esl_wire_decode_inner((esl_wire_t *) c->spans_wire, ev, &c->handle.last_ievent) != ESL_SUCCESS) {
				r = -1;
			}
		}
#endif
		if (!r) {
			esl_event_t *inner = c->handle.last_ievent;
			r = pack(c, inner ? inner : ev, inner == NULL, reply) ? -1 : 1;
		}
		if (r < 0) {
			c->dropped++;
		}
	}
	esl_event_safe_destroy(&c->handle.last_event);
	esl_event_safe_destroy(&c->handle.last_ievent);
}

/* The login leaves its reply in last_event; eslgo_recv relies on last_event being NULL
 * before each receive, so that a failed receive is not mistaken for a message. */
static void clear_last(eslgo_conn_t *c)
{
	esl_event_safe_destroy(&c->handle.last_event);
	esl_event_safe_destroy(&c->handle.last_ievent);
	esl_event_safe_destroy(&c->handle.last_sr_event);
}

/* With csrc, plain and JSON events are packed straight from their text (pack_inner): the
 * library is asked to decode no inner event. Without the scratch parser that needs, nothing
 * changes. */
static void keep_inner(eslgo_conn_t *c)
{
#ifdef ESLGO_HAVE_WIRE
	if (!c->spans_wire) {
		c->spans_wire = esl_wire_create();
	}
	if (c->spans_wire && esl_handle_keep_inner(&c->handle, 1) != ESL_SUCCESS) {
		drop_spans_wire(c);
	}
#else
	(void) c;
#endif
}

int eslgo_connect(eslgo_conn_t *c, const char *host, int port, const char *user, const char *password, uint32_t timeout_ms)
{
	esl_status_t st;

	ESLGO_HOLDING_SIGNALS(st, esl_connect_timeout(&c->handle, host, (esl_port_t) port, user, password, timeout_ms));
	if (st == ESL_SUCCESS) {
		clear_last(c);
		keep_inner(c);
	}
	return (int) st;
}

/* The peer of an accepted socket, when it is IPv4 (all the handle's addr can hold). */
static struct sockaddr_in *peer_v4(int fd, struct sockaddr_in *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	memset(addr, 0, sizeof(*addr));
	if (fd >= 0 && getpeername(fd, (struct sockaddr *) &ss, &len) == 0 && ss.ss_family == AF_INET) {
		memcpy(addr, &ss, sizeof(*addr));
		return addr;
	}
	return NULL;
}

int eslgo_adopt(eslgo_conn_t *c, int fd)
{
#ifdef ESLGO_HAVE_WIRE
	struct sockaddr_in addr;
	esl_status_t st = esl_attach_socket(&c->handle, fd, peer_v4(fd, &addr));

	if (st == ESL_SUCCESS) {
		keep_inner(c);
	}
	return (int) st;
#else
	(void) c;
	(void) fd;
	return (int) ESL_FAIL;
#endif
}

int eslgo_attach(eslgo_conn_t *c, int fd)
{
	struct sockaddr_in addr;
	esl_status_t st;

	ESLGO_HOLDING_SIGNALS(st, esl_attach_handle(&c->handle, fd, peer_v4(fd, &addr)));
	reset_batch(c);
	if (st == ESL_SUCCESS) {
		clear_last(c);
	}
	if (st == ESL_SUCCESS) {
		keep_inner(c);
	}
	if (st == ESL_SUCCESS && c->handle.info_event && pack(c, c->handle.info_event, 1, 1)) {
		c->dropped++;
	}
	return (int) st;
}

int eslgo_recv(eslgo_conn_t *c)
{
	/* Without a save_event pointer the message lands in last_event and, for plain and json
	 * events, the decoded event in last_ievent (the original decodes the inner event only
	 * on this path). */
	esl_status_t st;

	ESLGO_HOLDING_SIGNALS(st, esl_recv_event(&c->handle, 1, NULL));
	reset_batch(c);
	take_message(c);
	return (int) st;
}

#ifdef ESLGO_HAVE_WIRE
/* A batch being received through esl_recv_take_nowait. */
typedef struct {
	eslgo_conn_t *c;
	uint32_t max_msgs;
	size_t max_bytes;
} take_batch_t;

/* Packs an event body straight from the parser's buffer (esl_wire_take_event): no outer event
 * is built and the body is copied once. Declines what needs the full parse. */
static int take_text(void *ctx, const char *body, size_t len, int json)
{
	take_batch_t *tb = ctx;
	eslgo_conn_t *c = tb->c;
	int r = pack_inner(c, body, len, json);

	if (!r) {
		return ESL_WIRE_DECLINE;
	}
	if (r < 0) {
		c->dropped++;
	}
	return c->nmsg < tb->max_msgs && c->buf_len < tb->max_bytes ? ESL_WIRE_TAKEN : ESL_WIRE_TAKEN_STOP;
}
#endif

int eslgo_recv_batch(eslgo_conn_t *c, uint32_t max_msgs, size_t max_bytes)
{
#ifdef ESL_HAVE_EXTENSIONS
#ifdef ESLGO_HAVE_WIRE
	take_batch_t tb = { c, max_msgs, max_bytes };
#endif
	reset_batch(c);
	while (c->nmsg < max_msgs && c->buf_len < max_bytes) {
		esl_status_t st;

#ifdef ESLGO_HAVE_WIRE
		if (c->spans_wire) {
			st = esl_recv_take_nowait(&c->handle, take_text, &tb);
		} else
#endif
			st = esl_recv_event_nowait(&c->handle, 1, NULL);

		take_message(c);
		if (st != ESL_SUCCESS) {
			return (int) st;
		}
	}
	return ESL_SUCCESS;
#else
	(void) c;
	(void) max_msgs;
	(void) max_bytes;
	return -1;
#endif
}

int eslgo_disconnect(eslgo_conn_t *c)
{
	return (int) esl_disconnect(&c->handle);
}

int eslgo_wait_writable(int fd, uint32_t ms)
{
	return esl_wait_sock(fd, ms, ESL_POLL_WRITE | ESL_POLL_ERROR);
}

int eslgo_set_limits(eslgo_conn_t *c, size_t max_header_block, size_t max_body)
{
#ifdef ESL_HAVE_EXTENSIONS
	return (int) esl_handle_set_limits(&c->handle, max_header_block, max_body);
#else
	(void) c;
	(void) max_header_block;
	(void) max_body;
	return -1;
#endif
}

int eslgo_have_extensions(void)
{
#ifdef ESL_HAVE_EXTENSIONS
	return 1;
#else
	return 0;
#endif
}

/* Logging bridge. esl_logger_t is variadic, which Go cannot export, so this C logger
 * formats the message and hands the finished text to the Go export eslgoLog. */
static int eslgo_log_level = -1;

static void eslgo_logger(const char *file, const char *func, int line, int level, const char *fmt, ...)
{
	char stackbuf[512];
	char *buf = stackbuf;
	va_list ap;
	int n;

	if (level > __atomic_load_n(&eslgo_log_level, __ATOMIC_RELAXED) || !fmt) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t) n >= sizeof(stackbuf)) {
		if (!(buf = malloc((size_t) n + 1))) {
			return;
		}
		va_start(ap, fmt);
		vsnprintf(buf, (size_t) n + 1, fmt, ap);
		va_end(ap);
	}
	eslgoLog((char *) (file ? file : ""), (char *) (func ? func : ""), line, level, buf, n);
	if (buf != stackbuf) {
		free(buf);
	}
}

void eslgo_set_log_level(int level)
{
	if (level < 0) {
		__atomic_store_n(&eslgo_log_level, -1, __ATOMIC_RELAXED);
		/* The global level also decides whether every received message is serialized for a
		 * debug line in the original (its quirk Q25): keep it low while nobody listens. */
		esl_global_set_default_logger(ESL_LOG_LEVEL_EMERG);
		esl_global_set_logger(NULL);
		return;
	}
	if (level > ESL_LOG_LEVEL_DEBUG) {
		level = ESL_LOG_LEVEL_DEBUG;
	}
	__atomic_store_n(&eslgo_log_level, level, __ATOMIC_RELAXED);
	esl_global_set_default_logger(level);
	esl_global_set_logger(eslgo_logger);
}

void eslgo_init(void)
{
	eslgo_set_log_level(-1);
}

/* Test helpers. */
esl_event_t *eslgo_event_new(int event_id, const char *subclass)
{
	esl_event_t *e = NULL;

	if (esl_event_create_subclass(&e, (esl_event_types_t) event_id, subclass) != ESL_SUCCESS) {
		return NULL;
	}
	return e;
}

int eslgo_event_add(esl_event_t *e, int stack, const char *name, const char *value)
{
	return (int) esl_event_add_header_string(e, (esl_stack_t) stack, name, value);
}

int eslgo_event_priority(esl_event_t *e, int priority)
{
	return (int) esl_event_set_priority(e, (esl_priority_t) priority);
}

int eslgo_event_body(esl_event_t *e, const char *body)
{
	return (int) esl_event_add_body(e, "%s", body);
}

int eslgo_event_del(esl_event_t *e, const char *name)
{
	return (int) esl_event_del_header(e, name);
}

char *eslgo_event_serialize(esl_event_t *e, int json)
{
	char *s = NULL;

	if (json) {
		esl_event_serialize_json(e, &s);
	} else {
		esl_event_serialize(e, &s, ESL_TRUE);
	}
	return s;
}

void eslgo_event_free(esl_event_t *e)
{
	esl_event_destroy(&e);
}

esl_event_t *eslgo_event_json(const char *text)
{
	esl_event_t *e = NULL;

	esl_event_create_json(&e, text);
	return e;
}

int eslgo_pack_inner_test(eslgo_conn_t *c, const char *text, size_t len, int json, int spans)
{
#ifdef ESLGO_HAVE_WIRE
	esl_event_t *e = NULL;
	esl_status_t st;
	int r;

	reset_batch(c);
	if (!c->spans_wire && !(c->spans_wire = esl_wire_create())) {
		return -1;
	}
	if (spans) {
		return pack_inner(c, text, len, json);
	}
	/* the receive path's full decode: with the parser, as esl_wire_decode_inner does */
	st = json ? esl_wire_parse_json((esl_wire_t *) c->spans_wire, text, len, &e) : esl_wire_parse_plain(NULL, text, len, &e);
	if (st == ESL_GENERR || (json && st != ESL_SUCCESS)) {
		return -1;
	}
	if (!e) {
		return 0;
	}
	r = pack(c, e, 0, 0) ? -1 : 1;
	esl_event_destroy(&e);
	return r;
#else
	(void) c;
	(void) text;
	(void) len;
	(void) json;
	(void) spans;
	return -2;
#endif
}

int eslgo_pack_one(eslgo_conn_t *c, esl_event_t *e)
{
	reset_batch(c);
	if (pack(c, e, 0, 0)) {
		c->dropped++;
		return -1;
	}
	return 0;
}

void eslgo_log_test(int level, const char *text)
{
	esl_log(ESL_PRE, level, "test line %d: %s\n", 42, text);
}
