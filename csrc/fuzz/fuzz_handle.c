/*
 * fuzz_handle.c: libFuzzer harness for the connection layer (esl.c) over a real socket.
 *
 * The input is what a server sends on an outbound connection, then it closes: the first
 * message answers "connect" (esl_attach_handle), the rest is received until the handle
 * fails. A parser fed the same bytes is the oracle:
 *   - attach succeeds exactly when the parser's first message is a reply (a message that
 *     is not is queued in race_event, as libesl does, and attach waits for the next one);
 *   - each esl_recv_event hands out the parser's next message, equal field by field, until
 *     the parser errs or runs out; a goodbye notice (text/disconnect-notice with a body and
 *     a disposition other than linger) ends it with ESL_FAIL;
 *   - at the end connected is 0 and err says why: the parser's error, "Connection closed by
 *     peer" between messages, "... in the middle of a message" within one;
 *   - every call after the end fails at once, and esl_disconnect frees everything (LSan).
 * Input byte 0 picks the receive call (blocking with and without check_q, timed, or through a view:
 * an event read in place must be the parser's message, its body the view's text) and whether
 * an esl_send_recv runs first (it queues events to race_event and takes the first reply).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esl.h"
#include "esl_wire.h"

static void check(int ok)
{
	if (!ok) {
		__builtin_trap();
	}
}

static int same_event(esl_event_t *a, esl_event_t *b)
{
	esl_event_header_t *x, *y;
	size_t la, lb;

	if (!a || !b) {
		return a == b;
	}
	if (a->event_id != b->event_id) {
		return 0;
	}
	for (x = a->headers, y = b->headers; x && y; x = x->next, y = y->next) {
		int i;
		if (strcmp(x->name, y->name) || strcmp(x->value, y->value) || x->idx != y->idx) {
			return 0;
		}
		for (i = 0; i < x->idx; i++) {
			if (strcmp(x->array[i], y->array[i])) {
				return 0;
			}
		}
	}
	if (x || y || !a->body != !b->body) {
		return 0;
	}
	if (a->body) {
		la = esl_wire_body_length(a);
		lb = esl_wire_body_length(b);
		if (la != lb || memcmp(a->body, b->body, la + 1)) {
			return 0;
		}
	}
	return 1;
}

static int is_reply(esl_event_t *ev)
{
	const char *ct = esl_event_get_header(ev, "content-type");
	return !ct || !strcasecmp(ct, "api/response") || !strcasecmp(ct, "command/reply");
}

/* An event a view read in place against the parser's message: an event message (framed as
 * FreeSWITCH frames them) whose body is the view's text, and whose inner event gives the
 * view's type, Event-Name and body. */
static int same_in_place(esl_event_view_t *view, esl_event_t *msg)
{
	esl_wire_t *w = esl_wire_create();
	esl_event_t *inner = NULL;
	const char *text, *ct = esl_event_get_header(msg, "content-type"), *body;
	size_t len, blen;
	int json, ok;

	check(w != NULL);
	text = esl_event_view_text(view, &len, &json);
	ok = text && ct && !strcasecmp(ct, json ? "text/event-json" : "text/event-plain") && msg->body &&
		 esl_wire_body_length(msg) == len && !memcmp(msg->body, text, len) &&
		 esl_wire_decode_inner(w, msg, &inner) == ESL_SUCCESS && inner;
	if (ok) {
		const char *a = esl_event_view_get_header(view, "Event-Name"), *b = esl_event_get_header(inner, "Event-Name");

		body = esl_event_view_get_body(view, &blen);
		ok = esl_event_view_id(view) == inner->event_id && ((!a && !b) || (a && b && !strcmp(a, b))) && !body == !inner->body &&
			 (!body || (blen == esl_wire_body_length(inner) && !memcmp(body, inner->body, blen)));
	}
	esl_event_destroy(&inner);
	esl_wire_destroy(&w);
	return ok;
}

static int is_goodbye(esl_event_t *ev)
{
	const char *ct = esl_event_get_header(ev, "content-type");
	const char *disp = esl_event_get_header(ev, "content-disposition");
	return ct && ev->body && !strcasecmp(ct, "text/disconnect-notice") && (!disp || strcasecmp(disp, "linger"));
}

typedef struct {
	int fd;
	const uint8_t *data;
	size_t size;
} writer_t;

static void *writer_main(void *arg)
{
	writer_t *w = arg;
	size_t off = 0;

	while (off < w->size) {
		ssize_t n = send(w->fd, w->data + off, w->size - off, MSG_NOSIGNAL);
		if (n <= 0) {
			break;
		}
		off += (size_t) n;
	}
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

/* The oracle: every message of data, in order; how the parser ends. */
typedef struct {
	esl_event_t **ev;
	size_t n;
	int error;        /* the parser erred (its text in why) */
	int buffered;     /* bytes of an incomplete message are left */
	char why[256];
} oracle_t;

static void oracle_run(oracle_t *o, const uint8_t *data, size_t size)
{
	esl_wire_t *w = esl_wire_create();
	esl_event_t *ev = NULL;
	esl_wire_status_t st;
	size_t cap = 0;

	memset(o, 0, sizeof(*o));
	check(w != NULL);
	esl_wire_feed(w, data, size);
	while ((st = esl_wire_next(w, &ev)) == ESL_WIRE_MESSAGE) {
		if (o->n == cap) {
			cap = cap ? cap * 2 : 16;
			o->ev = realloc(o->ev, cap * sizeof(*o->ev));
			check(o->ev != NULL);
		}
		o->ev[o->n++] = ev;
	}
	o->error = st == ESL_WIRE_ERROR;
	o->buffered = esl_wire_buffered(w);
	snprintf(o->why, sizeof(o->why), "%s", esl_wire_error(w));
	esl_wire_destroy(&w);
}

static void oracle_free(oracle_t *o)
{
	size_t i;
	for (i = 0; i < o->n; i++) {
		esl_event_destroy(&o->ev[i]);
	}
	free(o->ev);
}

/* The end of a handle must match the oracle's end. */
static void check_end(esl_handle_t *h, const oracle_t *o, int goodbye)
{
	check(!h->connected);
	if (goodbye) {
		check(!strcmp(h->err, "Disconnected by the server"));
	} else if (o->error) {
		check(!strcmp(h->err, o->why));
	} else if (o->buffered) {
		check(!strcmp(h->err, "Connection closed by peer in the middle of a message"));
	} else {
		check(!strcmp(h->err, "Connection closed by peer"));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	writer_t w;
	pthread_t th;
	esl_handle_t h;
	oracle_t o;
	uint8_t mode;
	size_t next, first_reply;
	esl_status_t st;
	esl_event_view_t *view = NULL;

	if (size < 1) {
		return 0;
	}
	mode = data[0];
	data++;
	size--;
	if ((mode & 3) == 3) {
		check(esl_event_view_create(&view) == ESL_SUCCESS);
	}
	oracle_run(&o, data, size);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		oracle_free(&o);
		return 0;
	}
	w.fd = sv[1];
	w.data = data;
	w.size = size;
	check(pthread_create(&th, NULL, writer_main, &w) == 0);
	memset(&h, 0, sizeof(h));

	/* attach: waits for the first reply; non-replies before it go to race_event */
	for (first_reply = 0; first_reply < o.n && !is_reply(o.ev[first_reply]); first_reply++) {
	}
	st = esl_attach_handle(&h, sv[0], NULL);
	{
		int ended_early = 0;
		size_t i;
		/* a goodbye notice among the messages before the reply ends the attach */
		for (i = 0; i < first_reply && i < o.n; i++) {
			if (is_goodbye(o.ev[i])) {
				ended_early = 1;
			}
		}
		check((st == ESL_SUCCESS) == (first_reply < o.n && !ended_early));
	}
	if (st != ESL_SUCCESS) {
		check(h.sock == ESL_SOCK_INVALID && h.err[0]);
		goto out;
	}
	check(same_event(h.info_event, o.ev[first_reply]));
	{
		/* what must come out: with check_q, the queue (non-replies read while waiting for a
		 * reply) first; then the socket's messages after the last reply taken */
		int check_q = (mode & 3) != 1, goodbye = 0;
		size_t sock_next = first_reply + 1, nexp = 0, i;
		esl_event_t **exp = calloc(o.n + 1, sizeof(*exp));

		check(exp != NULL);
		if (check_q) {
			for (i = 0; i < first_reply; i++) {
				exp[nexp++] = o.ev[i];
			}
		}
		if (mode & 4) {
			/* a command: its reply is the next reply; events before it join the queue */
			size_t r;
			int ended = 0;
			for (r = sock_next; r < o.n && !is_reply(o.ev[r]); r++) {
				if (is_goodbye(o.ev[r])) {
					ended = 1;
					break;
				}
			}
			st = esl_send_recv(&h, "api status");
			if (!ended && r < o.n) {
				check(st == ESL_SUCCESS);
				check(same_event(h.last_sr_event, o.ev[r]));
				if (check_q) {
					for (i = sock_next; i < r; i++) {
						exp[nexp++] = o.ev[i];
					}
				}
				sock_next = r + 1;
			} else {
				check(st == ESL_FAIL);
				check_end(&h, &o, ended);
				free(exp);
				goto done;
			}
		}
		for (i = sock_next; i < o.n; i++) {
			exp[nexp++] = o.ev[i];
		}
		for (next = 0;; next++) {
			switch (mode & 3) {
			case 0:
				st = esl_recv_event(&h, 1, NULL);
				break;
			case 1:
				st = esl_recv_event(&h, 0, NULL);
				break;
			case 2:
				st = esl_recv_event_timed(&h, 10000, 1, NULL);
				break;
			default:
				st = view ? esl_recv_event_view(&h, next & 1 ? 10000 : 0, view) : ESL_FAIL;
				check(view != NULL);
				break;
			}
			check(st != ESL_BREAK);
			if (st == ESL_SUCCESS) {
				check(next < nexp);
				if (view && esl_event_view_in_place(view)) {
					check(same_in_place(view, exp[next]));
				} else {
					check(same_event(h.last_event, exp[next]));
				}
				continue;
			}
			if (next < nexp && is_goodbye(exp[next])) {
				/* a goodbye notice ends the receive with the notice in hand */
				check(same_event(h.last_event, exp[next]));
				goodbye = 1;
			} else {
				/* everything the parser had was handed out first */
				check(next == nexp);
			}
			check_end(&h, &o, goodbye);
			break;
		}
		free(exp);
		for (i = 0; i < 2; i++) {
			check(esl_recv_event(&h, 1, NULL) == ESL_FAIL);
			check(esl_send_recv(&h, "api status") == ESL_FAIL);
		}
	}
done:
	check(esl_disconnect(&h) == ESL_SUCCESS);
out:
	esl_event_view_destroy(&view);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[1]);
	oracle_free(&o);
	return 0;
}
