//go:build cgo

/*
 * eslgo_shim.c: the C side of the Go binding (see eslgo_shim.h).
 * Public libesl API only, so it builds against csrc/ and against an original libesl.
 */
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "eslgo_shim.h"
#include "_cgo_export.h"

/* csrc knows the exact body length of every event it received, NUL bytes included (its
 * esl_wire_body_length); the original libesl has no such thing. */
#if defined(ESL_HAVE_EXTENSIONS) && defined(__has_include)
#if __has_include("esl_wire.h")
#include "esl_wire.h"
#define ESLGO_EXACT_BODY 1
#endif
#endif

/* Keep at most this much table space between messages; a rare huge message must not pin
 * its buffers for the life of the connection. */
#define ESLGO_KEEP_BYTES (256 * 1024)

eslgo_conn_t *eslgo_conn_new(void)
{
	eslgo_conn_t *c = calloc(1, sizeof(*c));

	if (c) {
		c->handle.sock = ESL_SOCK_INVALID;
	}
	return c;
}

void eslgo_conn_free(eslgo_conn_t *c)
{
	if (!c) {
		return;
	}
	free(c->strs);
	free(c->hdrs);
	free(c->elems);
	free(c);
}

static void reset_tables(eslgo_conn_t *c)
{
	if (c->strs_cap > ESLGO_KEEP_BYTES && c->strs_len < c->strs_cap / 4) {
		free(c->strs);
		c->strs = NULL;
		c->strs_cap = 0;
	}
	if (c->hdrs_cap * sizeof(eslgo_hdr_t) > ESLGO_KEEP_BYTES && c->nhdr < c->hdrs_cap / 4) {
		free(c->hdrs);
		c->hdrs = NULL;
		c->hdrs_cap = 0;
	}
	if (c->elems_cap * sizeof(eslgo_span_t) > ESLGO_KEEP_BYTES && c->nelem < c->elems_cap / 4) {
		free(c->elems);
		c->elems = NULL;
		c->elems_cap = 0;
	}
	c->nev = 0;
	c->oom = 0;
	c->strs_len = 0;
	c->nhdr = 0;
	c->nelem = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap) {
		return 0;
	}
	while (ncap < need) {
		ncap *= 2;
	}
	if (!(np = realloc(*p, ncap * elem))) {
		return -1;
	}
	*p = np;
	*cap = ncap;
	return 0;
}

static int add_str(eslgo_conn_t *c, const char *s, size_t len, uint32_t *off)
{
	if (len > UINT32_MAX - c->strs_len) {
		return -1;
	}
	if (grow((void **) &c->strs, &c->strs_cap, c->strs_len + len, 1)) {
		return -1;
	}
	if (len) {
		memcpy(c->strs + c->strs_len, s, len);
	}
	*off = (uint32_t) c->strs_len;
	c->strs_len += len;
	return 0;
}

static int add_hdr(eslgo_conn_t *c, eslgo_hdr_t **out)
{
	size_t cap = c->hdrs_cap;

	if (grow((void **) &c->hdrs, &cap, (size_t) c->nhdr + 1, sizeof(eslgo_hdr_t))) {
		return -1;
	}
	c->hdrs_cap = (uint32_t) cap;
	*out = &c->hdrs[c->nhdr++];
	return 0;
}

static int add_elem(eslgo_conn_t *c, const char *s)
{
	size_t cap = c->elems_cap;
	eslgo_span_t *sp;

	if (grow((void **) &c->elems, &cap, (size_t) c->nelem + 1, sizeof(eslgo_span_t))) {
		return -1;
	}
	c->elems_cap = (uint32_t) cap;
	sp = &c->elems[c->nelem++];
	sp->len = s ? (uint32_t) strlen(s) : 0;
	return add_str(c, s, sp->len, &sp->off);
}

/*
 * The body of an outer message is exactly Content-Length bytes, which may include NUL
 * bytes; strlen would cut them off. With the original libesl, inner bodies are C strings.
 */
static size_t body_len(esl_event_t *e, int outer)
{
#ifdef ESLGO_EXACT_BODY
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

static int pack(eslgo_conn_t *c, esl_event_t *e, int slot, int with_body, int outer)
{
	eslgo_ev_t *ev = &c->ev[slot];
	esl_event_header_t *hp;

	memset(ev, 0, sizeof(*ev));
	ev->event_id = (int32_t) e->event_id;
	ev->priority = (int32_t) e->priority;
	ev->hdr_first = c->nhdr;
	for (hp = e->headers; hp; hp = hp->next) {
		eslgo_hdr_t *h;
		const char *name = hp->name ? hp->name : "";
		const char *value = hp->value ? hp->value : "";

		if (add_hdr(c, &h)) {
			return -1;
		}
		h->name_len = (uint32_t) strlen(name);
		if (add_str(c, name, h->name_len, &h->name_off)) {
			return -1;
		}
		h->value_len = (uint32_t) strlen(value);
		if (add_str(c, value, h->value_len, &h->value_off)) {
			return -1;
		}
		h->elem_first = c->nelem;
		h->nelem = 0;
		if (hp->idx > 0 && hp->array) {
			int i;

			for (i = 0; i < hp->idx; i++) {
				if (add_elem(c, hp->array[i])) {
					return -1;
				}
			}
			h->nelem = hp->idx;
		}
		ev->nhdr++;
	}
	if (with_body && e->body) {
		ev->has_body = 1;
		ev->body_len = (uint32_t) body_len(e, outer);
		if (add_str(c, e->body, ev->body_len, &ev->body_off)) {
			return -1;
		}
	}
	return 0;
}

/* The login leaves its reply in last_event; eslgo_recv relies on last_event being NULL
 * before each receive, so that a failed receive is not mistaken for a message. */
static void clear_last(eslgo_conn_t *c)
{
	esl_event_safe_destroy(&c->handle.last_event);
	esl_event_safe_destroy(&c->handle.last_ievent);
	esl_event_safe_destroy(&c->handle.last_sr_event);
}

int eslgo_connect(eslgo_conn_t *c, const char *host, int port, const char *user, const char *password, uint32_t timeout_ms)
{
	esl_status_t st = esl_connect_timeout(&c->handle, host, (esl_port_t) port, user, password, timeout_ms);

	if (st == ESL_SUCCESS) {
		clear_last(c);
	}
	return (int) st;
}

int eslgo_attach(eslgo_conn_t *c, int fd)
{
	struct sockaddr_storage ss;
	struct sockaddr_in addr, *ap = NULL;
	socklen_t len = sizeof(ss);
	esl_status_t st;

	memset(&ss, 0, sizeof(ss));
	memset(&addr, 0, sizeof(addr));
	if (fd >= 0 && getpeername(fd, (struct sockaddr *) &ss, &len) == 0 && ss.ss_family == AF_INET) {
		memcpy(&addr, &ss, sizeof(addr));
		ap = &addr;
	}
	st = esl_attach_handle(&c->handle, fd, ap);
	reset_tables(c);
	if (st == ESL_SUCCESS) {
		clear_last(c);
	}
	if (st == ESL_SUCCESS && c->handle.info_event) {
		if (pack(c, c->handle.info_event, 0, 1, 1)) {
			c->oom = 1;
		} else {
			c->nev = 1;
		}
	}
	return (int) st;
}

int eslgo_recv(eslgo_conn_t *c)
{
	esl_event_t *ev, *inner;
	esl_status_t st;

	/* Without a save_event pointer the message lands in last_event and, for plain and json
	 * events, the decoded event in last_ievent (the original decodes the inner event only
	 * on this path). Both are destroyed right after packing, so last_event is NULL before
	 * every call and a NULL afterwards means nothing arrived (EOF). */
	st = esl_recv_event(&c->handle, 1, NULL);
	reset_tables(c);
	ev = c->handle.last_event;
	inner = c->handle.last_ievent;
	if (ev) {
		if (pack(c, ev, 0, inner == NULL, 1) || (inner && pack(c, inner, 1, 1, 0))) {
			c->oom = 1;
			c->nev = 0;
		} else {
			c->nev = inner ? 2 : 1;
		}
	}
	/* Go holds its own copy now: nothing received stays in C. */
	esl_event_safe_destroy(&c->handle.last_event);
	esl_event_safe_destroy(&c->handle.last_ievent);
	return (int) st;
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

int eslgo_pack_one(eslgo_conn_t *c, esl_event_t *e)
{
	reset_tables(c);
	if (pack(c, e, 0, 1, 0)) {
		c->oom = 1;
		return -1;
	}
	c->nev = 1;
	return 0;
}

void eslgo_log_test(int level, const char *text)
{
	esl_log(ESL_PRE, level, "test line %d: %s\n", 42, text);
}
