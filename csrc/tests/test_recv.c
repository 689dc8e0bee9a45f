/*
 * test_recv.c: the connection API over real sockets.
 *
 * Recorded streams through a handle attached to a socketpair, also read in place (views); send_recv and race_event order;
 * timed receives; receives that never wait; the late-reply drain; disconnect from another thread while calls block;
 * calls that signals interrupt while they wait;
 * login against a small in-test server over TCP (IPv4 and IPv6); long command arguments;
 * esl_send edge cases; and the listeners.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>

#include "eslt.h"
#include "eslt_wire.h"

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR) {
	}
}

/* ---- recorded streams through a handle ---------------------------------------------------- */

/* Receives until failure, summarizing every message (the final disconnect notice included). */
static void drain_handle(esl_handle_t *h, eslt_sums_t *got, int timed)
{
	for (;;) {
		esl_status_t st = timed ? esl_recv_event_timed(h, 5000, 1, NULL) : esl_recv_event(h, 0, NULL);

		if (st == ESL_SUCCESS) {
			eslt_sums_add_event(got, h->last_event, h->last_ievent);
			continue;
		}
		if (st == ESL_BREAK) {
			fprintf(stderr, "timed receive gave up (stalled?)\n");
			break;
		}
		if (!strcmp(h->err, "Disconnected by the server") && h->last_event) {
			eslt_sums_add_event(got, h->last_event, h->last_ievent);
		}
		break;
	}
}

/* Attaches h to a peer that writes data in chunks of about chunk bytes (varied), on a client
 * socket that is non-blocking when nonblock is set. 0 on success. */
static int attach_stream(esl_handle_t *h, eslt_peer_t *peer, const char *data, size_t len, size_t chunk, int nonblock)
{
	peer->data = data;
	peer->len = len;
	peer->chunk = chunk;
	peer->vary = 1;
	peer->client_nonblock = nonblock;
	return eslt_attach(h, peer);
}

static void test_recordings_over_socket(void)
{
	char **files = eslt_s2c_files();
	size_t f;

	CHECK(files != NULL);
	for (f = 0; files && files[f]; f++) {
		size_t len;
		char *data = eslt_read_file(files[f], &len);
		eslt_sums_t ref = { 0 }, got = { 0 };
		esl_handle_t h;
		eslt_peer_t peer = { 0 };
		long d;

		if (!data) {
			CHECK(data != NULL);
			continue;
		}
		eslt_ref_split(data, len, &ref);
		CHECK_INT(attach_stream(&h, &peer, data, len, 4093, f % 3 == 2), 0);
		CHECK_STR(h.last_sr_reply, "+OK");
		drain_handle(&h, &got, (int) (f & 1));
		if ((d = eslt_sums_diff(&ref, &got)) >= 0) {
			fprintf(stderr, "%s: differs at message %ld\n", files[f], d);
			eslt_sum_print("ref", &ref, d);
			eslt_sum_print("got", &got, d);
		}
		CHECK(d < 0);
		CHECK_INT(h.connected, 0);
		CHECK(h.err[0] != '\0');
		CHECK_INT(esl_disconnect(&h), ESL_SUCCESS);
		CHECK_INT(h.destroyed, 1);
		CHECK_INT(h.sock, ESL_SOCK_INVALID);
		CHECK_INT(esl_disconnect(&h), ESL_FAIL);
		eslt_peer_join(&peer);
		eslt_sums_free(&ref);
		eslt_sums_free(&got);
		free(data);
	}
	eslt_free_list(files);
}

/* What test_take_over_socket's take saw. */
typedef struct {
	eslt_sums_t *got;
	esl_wire_t *scratch;
	unsigned offers, taken;
	int bad;                /* a body not NUL-terminated, or one that could not be decoded */
} take_seen_t;

/* Summarizes an offered event as eslt_sums_add_event would its message, declining every
 * seventh offer and asking to stop after every fifth it takes. */
static int take_summary(void *ctx, const char *body, size_t len, int json)
{
	take_seen_t *t = ctx;
	esl_event_t *inner = NULL;
	esl_status_t st;

	if (++t->offers % 7 == 0) {
		return ESL_WIRE_DECLINE;
	}
	if (body[len] != '\0') {
		t->bad = 1;
	}
	st = json ? esl_wire_parse_json(t->scratch, body, len, &inner) : esl_wire_parse_plain(t->scratch, body, len, &inner);
	if (st != ESL_SUCCESS) {
		t->bad = 1;
	}
	eslt_sums_add(t->got, json ? "text/event-json" : "text/event-plain", NULL,
				  inner ? esl_event_get_header(inner, "Event-Name") : NULL, (long) len);
	esl_event_destroy(&inner);
	return ++t->taken % 5 == 0 ? ESL_WIRE_TAKEN_STOP : ESL_WIRE_TAKEN;
}

/* esl_recv_take_nowait gives every recorded stream, split at varying points, message for
 * message as the reference split does: events through take (NUL-terminated, decodable), the
 * rest, and the events take declines, through last_event. */
static void test_take_over_socket(void)
{
	char **files = eslt_s2c_files();
	unsigned taken = 0;
	size_t f;

	CHECK(files != NULL);
	for (f = 0; files && files[f]; f++) {
		size_t len;
		char *data = eslt_read_file(files[f], &len);
		eslt_sums_t ref = { 0 }, got = { 0 };
		take_seen_t seen = { &got, esl_wire_create(), 0, 0, 0 };
		esl_handle_t h;
		eslt_peer_t peer = { 0 };
		esl_status_t st;
		long d;

		if (!data || !seen.scratch) {
			CHECK(data != NULL && seen.scratch != NULL);
			free(data);
			esl_wire_destroy(&seen.scratch);
			continue;
		}
		eslt_ref_split(data, len, &ref);
		CHECK_INT(attach_stream(&h, &peer, data, len, 1021, (int) (f % 2)), 0);
		for (;;) {
			st = esl_recv_take_nowait(&h, take_summary, &seen);
			if (st == ESL_BREAK) {
				CHECK(h.last_event == NULL);
				CHECK(esl_wait_sock(h.sock, 5000, ESL_POLL_READ) > 0);
				continue;
			}
			if (h.last_event && (st == ESL_SUCCESS || !strcmp(h.err, "Disconnected by the server"))) {
				eslt_sums_add_event(&got, h.last_event, h.last_ievent);
			}
			if (st != ESL_SUCCESS) {
				break;
			}
		}
		if ((d = eslt_sums_diff(&ref, &got)) >= 0) {
			fprintf(stderr, "%s: differs at message %ld\n", files[f], d);
			eslt_sum_print("ref", &ref, d);
			eslt_sum_print("got", &got, d);
		}
		CHECK(d < 0);
		CHECK(!seen.bad);
		taken += seen.taken;
		CHECK_INT(h.connected, 0);
		CHECK_INT(esl_disconnect(&h), ESL_SUCCESS);
		eslt_peer_join(&peer);
		eslt_sums_free(&ref);
		eslt_sums_free(&got);
		esl_wire_destroy(&seen.scratch);
		free(data);
	}
	/* the call recordings alone hold hundreds of events */
	CHECK(taken > 100);
	eslt_free_list(files);
}

/* What test_view_over_socket saw. */
typedef struct {
	long in_place, other, built;
} view_counts_t;

/* Receives the stream data through a view and compares it, message for message, with the
 * reference split: the events read in place (no last_event then) with the type, Event-Name,
 * Unique-ID, Event-Date-Timestamp and body their full parse gives; every other message through
 * last_event, with its inner event read through the view. variant picks the split, the
 * socket's blocking mode and whether receives are timed. */
static void view_stream(esl_event_view_t *view, const char *name, const char *data, size_t len, size_t variant, view_counts_t *n)
{
	eslt_sums_t ref = { 0 }, got = { 0 };
	esl_handle_t h;
	eslt_peer_t peer = { 0 };
	esl_status_t st;
	long d;

	eslt_ref_split(data, len, &ref);
	CHECK_INT(attach_stream(&h, &peer, data, len, 997, (int) (variant % 2)), 0);
	for (;;) {
		size_t tlen;
		int json;
		const char *text;

		st = esl_recv_event_view(&h, variant % 3 ? 5000 : 0, view);
		if (st != ESL_SUCCESS) {
			CHECK(!esl_event_view_has_event(view));
			if (h.last_event && !strcmp(h.err, "Disconnected by the server")) {
				eslt_sums_add_event(&got, h.last_event, h.last_ievent);
			}
			CHECK(st != ESL_BREAK);
			break;
		}
		if ((text = esl_event_view_text(view, &tlen, &json))) {
			esl_event_t *ev = NULL;
			esl_size_t blen = 0;
			const char *body = esl_event_view_get_body(view, &blen);

			n->in_place++;
			CHECK(h.last_event == NULL && h.last_ievent == NULL);
			CHECK(esl_event_view_has_event(view) && esl_event_view_in_place(view));
			eslt_sums_add(&got, json ? "text/event-json" : "text/event-plain", NULL, esl_event_view_get_header(view, "Event-Name"),
						  (long) tlen);
			CHECK_INT(json ? esl_wire_parse_json(NULL, text, tlen, &ev) : esl_wire_parse_plain(NULL, text, tlen, &ev), ESL_SUCCESS);
			if (ev) {
				CHECK_INT(esl_event_view_id(view), ev->event_id);
				CHECK_STR(esl_event_view_get_header(view, "unique-id"), esl_event_get_header(ev, "Unique-ID"));
				CHECK_STR(esl_event_view_get_header(view, "Event-Date-Timestamp"), esl_event_get_header(ev, "Event-Date-Timestamp"));
				CHECK(!body == !ev->body && (!body || (blen == esl_wire_body_length(ev) && !memcmp(body, ev->body, blen))));
			}
			esl_event_destroy(&ev);
			continue;
		}
		n->other++;
		CHECK(h.last_event != NULL && !esl_event_view_in_place(view));
		CHECK_INT(esl_event_view_has_event(view), h.last_ievent != NULL);
		if (h.last_ievent) {
			esl_event_t *dup = NULL;
			esl_size_t blen = 0;
			const char *body = esl_event_view_get_body(view, &blen);

			n->built++;
			CHECK(esl_event_view_get_header(view, "Event-Name") == esl_event_get_header(h.last_ievent, "Event-Name"));
			CHECK_INT(esl_event_view_id(view), h.last_ievent->event_id);
			CHECK(body == h.last_ievent->body && blen == (body ? esl_wire_body_length(h.last_ievent) : 0));
			CHECK_INT(esl_event_view_to_event(view, &dup), ESL_SUCCESS);
			CHECK_STR(dup ? esl_event_get_header(dup, "Event-Name") : NULL, esl_event_get_header(h.last_ievent, "Event-Name"));
			esl_event_destroy(&dup);
		} else {
			esl_event_t *none = NULL;

			CHECK(esl_event_view_get_header(view, "Content-Type") == NULL);
			CHECK_INT(esl_event_view_to_event(view, &none), ESL_FAIL);
			CHECK(none == NULL);
		}
		eslt_sums_add_event(&got, h.last_event, h.last_ievent);
	}
	if ((d = eslt_sums_diff(&ref, &got)) >= 0) {
		fprintf(stderr, "%s: differs at message %ld\n", name, d);
		eslt_sum_print("ref", &ref, d);
		eslt_sum_print("got", &got, d);
	}
	CHECK(d < 0);
	CHECK_INT(h.connected, 0);
	CHECK_INT(esl_disconnect(&h), ESL_SUCCESS);
	eslt_peer_join(&peer);
	eslt_sums_free(&ref);
	eslt_sums_free(&got);
}

/* Appends one event message, framed as FreeSWITCH frames events, to *out (length *len). */
static void frame_event(char **out, size_t *len, const char *type, const char *body, size_t blen)
{
	char head[128];
	int hl = snprintf(head, sizeof(head), "Content-Length: %zu\nContent-Type: %s\n\n", blen, type);
	char *n = realloc(*out, *len + (size_t) hl + blen + 1);

	if (!n) {
		abort();
	}
	memcpy(n + *len, head, (size_t) hl);
	memcpy(n + *len + hl, body, blen);
	*len += (size_t) hl + blen;
	n[*len] = '\0';
	*out = n;
}

/* esl_recv_event_view over every recorded stream, and over a stream of events that need the
 * full parse between ones that do not (view_stream). */
static void test_view_over_socket(void)
{
	static const char *plain_full[] = {
		"Event-Name: CUSTOM\nEmpty:\n",
		"Event-Name: CUSTOM\nList: ARRAY::a|:b\n",
		"Event-Name: CUSTOM\nx[1]: y\n",
	};
	char **files = eslt_s2c_files();
	esl_event_view_t *view = NULL;
	view_counts_t n = { 0 }, syn = { 0 };
	char *stream = NULL, *big = malloc(70001);
	size_t f, slen = 0, i;

	CHECK_INT(esl_event_view_create(&view), ESL_SUCCESS);
	CHECK(files != NULL);
	for (f = 0; view && files && files[f]; f++) {
		size_t len;
		char *data = eslt_read_file(files[f], &len);

		CHECK(data != NULL);
		if (data) {
			view_stream(view, files[f], data, len, f, &n);
		}
		free(data);
	}
	/* the call recordings alone hold hundreds of events; replies and logs come the usual way */
	CHECK(n.in_place > 100);
	CHECK(n.other > 20);
	fprintf(stderr, "view over sockets: %ld events read in place, %ld other messages\n", n.in_place, n.other);

	CHECK(big != NULL);
	for (i = 0; view && big && i < 6; i++) {
		const char *ok = "Event-Name: HEARTBEAT\nUnique-ID: u-1\n";

		frame_event(&stream, &slen, "text/event-plain", ok, strlen(ok));
		if (i < 3) {
			frame_event(&stream, &slen, "text/event-plain", plain_full[i], strlen(plain_full[i]));
		} else if (i == 3) {
			const char *u = "{\"Event-Name\":\"DTMF\",\"A\":\"\\u00e9\"}";

			frame_event(&stream, &slen, "text/event-json", u, strlen(u));
		} else if (i == 4) {
			memcpy(big, "Event-Name: CUSTOM\nLong: ", 25);
			memset(big + 25, 'x', 70000 - 26);
			big[70000 - 1] = '\n';
			frame_event(&stream, &slen, "text/event-plain", big, 70000);
		} else {
			const char *js = "{\"Event-Name\":\"DTMF\",\"Unique-ID\":\"u-2\"}";

			frame_event(&stream, &slen, "text/event-json", js, strlen(js));
		}
	}
	for (i = 0; view && stream && i < 3; i++) {
		view_stream(view, "events for the full parse", stream, slen, i, &syn);
	}
	/* per pass: 7 in place (6 plain, 1 JSON); the 3 plain, 1 JSON and the 70,000-byte event built */
	CHECK_INT(syn.in_place, 3 * 7);
	CHECK_INT(syn.built, 3 * 5);
	free(stream);
	free(big);

	CHECK_INT(esl_recv_event_view(NULL, 0, view), ESL_FAIL);
	CHECK(!esl_event_view_has_event(view));
	CHECK_INT(esl_recv_event_view(&(esl_handle_t) { 0 }, 10, NULL), ESL_FAIL);
	esl_event_view_destroy(&view);
	CHECK(view == NULL);
	esl_event_view_destroy(&view);
	eslt_free_list(files);
}

/* Outbound recordings: the first block answers "connect" and becomes info_event (Q8). */
static void test_outbound_info(void)
{
	const char *dir = getenv("ESL_TESTDATA");
	char path[1024];
	size_t len;
	char *data;
	esl_handle_t h;
	eslt_peer_t peer = { 0 };
	eslt_sums_t ref = { 0 }, got = { 0 };
	long d;

	snprintf(path, sizeof(path), "%s/outbound-full.s2c", dir && *dir ? dir : "testdata/freeswitch");
	if (!(data = eslt_read_file(path, &len))) {
		CHECK(data != NULL);
		return;
	}
	eslt_ref_split(data, len, &ref);
	peer.data = data;
	peer.len = len;
	peer.chunk = 1000;
	peer.connect_reply = "";
	CHECK_INT(eslt_attach(&h, &peer), 0);
	CHECK(h.info_event != NULL);
	if (h.info_event) {
		CHECK_INT(h.info_event->event_id, ESL_EVENT_SOCKET_DATA);
		CHECK_STR(h.info_event->headers->value, "SOCKET_DATA");
		CHECK_STR(h.info_event->headers->next->value, "CHANNEL_DATA");
		CHECK_STR(esl_event_get_header(h.info_event, "Event-Name"), "SOCKET_DATA");
		CHECK_STR(esl_event_get_header(h.info_event, "Content-Type"), "command/reply");
		CHECK_STR(esl_event_get_header(h.info_event, "Socket-Mode"), "async");
		CHECK_STR(esl_event_get_header(h.info_event, "Control"), "full");
		CHECK(esl_event_get_header(h.info_event, "Unique-ID") != NULL);
	}
	CHECK_STR(h.last_sr_reply, "+OK\n");
	CHECK(h.last_sr_event == NULL);
	drain_handle(&h, &got, 0);
	/* the reference's first message is the connect reply */
	CHECK_INT(got.n + 1, ref.n);
	if (ref.n) {
		eslt_sums_t rest = ref;
		rest.v++;
		rest.n--;
		if ((d = eslt_sums_diff(&rest, &got)) >= 0) {
			eslt_sum_print("ref", &rest, d);
			eslt_sum_print("got", &got, d);
		}
		CHECK(d < 0);
	}
	esl_disconnect(&h);
	eslt_peer_join(&peer);
	eslt_sums_free(&ref);
	eslt_sums_free(&got);
	free(data);
}

/* ---- a scripted peer ------------------------------------------------------------------------ */

typedef struct script script_t;
typedef void (*script_fn)(script_t *s, const char *block, size_t blen, const char *body, size_t bodylen);

struct script {
	int fd;
	pthread_t thread;
	script_fn fn;
	pthread_mutex_t lock;
	char *last;          /* the last command block and body, as received */
	size_t last_len;
	int ncmds;
};

static void script_send(script_t *s, const char *text)
{
	eslt_write_all(s->fd, text, strlen(text));
}

/* Reads command blocks the way the server does (leading CR/LF dropped, Content-Length body). */
static void *script_main(void *arg)
{
	script_t *s = arg;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		char *e;
		size_t skip = 0, blen, body = 0;
		const char *cl;
		size_t vlen;

		while (skip < len && (buf[skip] == '\n' || buf[skip] == '\r')) {
			skip++;
		}
		if (skip) {
			memmove(buf, buf + skip, len - skip);
			len -= skip;
		}
		e = len >= 2 ? memmem(buf, len, "\n\n", 2) : NULL;
		if (e) {
			blen = (size_t) (e - buf) + 2;
			if ((cl = eslt_find_line(buf, blen, "Content-Length", &vlen))) {
				body = (size_t) strtoul(cl, NULL, 10);
			}
			if (len >= blen + body) {
				pthread_mutex_lock(&s->lock);
				free(s->last);
				s->last = eslt_dup_n(buf, blen + body);
				s->last_len = blen + body;
				s->ncmds++;
				pthread_mutex_unlock(&s->lock);
				s->fn(s, buf, blen, buf + blen, body);
				memmove(buf, buf + blen + body, len - blen - body);
				len -= blen + body;
				continue;
			}
		}
		if (len + 65536 > cap) {
			cap = (len + 65536) * 2;
			buf = realloc(buf, cap);
			if (!buf) {
				abort();
			}
		}
		{
			ssize_t n = read(s->fd, buf + len, cap - len);
			if (n <= 0) {
				break;
			}
			len += (size_t) n;
		}
	}
	free(buf);
	close(s->fd);
	return NULL;
}

static int script_attach_ex(esl_handle_t *h, script_t *s, script_fn fn, int nonblock)
{
	int sv[2];

	memset(h, 0, sizeof(*h));
	memset(s, 0, sizeof(*s));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		return -1;
	}
	if (nonblock) {
		fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	}
	s->fd = sv[1];
	s->fn = fn;
	pthread_mutex_init(&s->lock, NULL);
	pthread_create(&s->thread, NULL, script_main, s);
	return esl_attach_handle(h, sv[0], NULL) == ESL_SUCCESS ? 0 : -1;
}

static int script_attach(esl_handle_t *h, script_t *s, script_fn fn)
{
	return script_attach_ex(h, s, fn, 0);
}

static void script_finish(esl_handle_t *h, script_t *s)
{
	esl_disconnect(h);
	pthread_join(s->thread, NULL);
	free(s->last);
	pthread_mutex_destroy(&s->lock);
}

#define EV_PLAIN(name) "Content-Length: " #name

/* A plain event message with this text, framed as FreeSWITCH frames events. */
static void send_event_text(script_t *s, const char *inner)
{
	char msg[400];
	snprintf(msg, sizeof(msg), "Content-Length: %zu\nContent-Type: text/event-plain\n\n%s", strlen(inner), inner);
	script_send(s, msg);
}

/* Its X-Test value is an escaped 'A', which a view leaves to the full parse. */
static void send_plain_event(script_t *s, const char *name)
{
	char inner[200];
	snprintf(inner, sizeof(inner), "Event-Name: %s\nX-Test: %%41\n\n", name);
	send_event_text(s, inner);
}

static void race_fn(script_t *s, const char *block, size_t blen, const char *body, size_t bodylen)
{
	(void) blen;
	(void) body;
	(void) bodylen;
	if (!strncmp(block, "connect", 7)) {
		script_send(s, ESLT_CONNECT_REPLY);
	} else if (!strncmp(block, "api race", 8)) {
		send_plain_event(s, "HEARTBEAT");
		send_plain_event(s, "CHANNEL_CREATE");
		script_send(s, "Content-Type: api/response\nContent-Length: 3\n\n+OK");
		send_plain_event(s, "CHANNEL_ANSWER");
	} else if (!strncmp(block, "api inplace", 11)) {
		/* events a view reads in place, one before the reply and one after it */
		send_event_text(s, "Event-Name: CHANNEL_CREATE\nX-Test: before\n\n");
		script_send(s, "Content-Type: api/response\nContent-Length: 3\n\n+OK");
		send_event_text(s, "Event-Name: CHANNEL_ANSWER\nX-Test: after\n\n");
	} else if (!strncmp(block, "api slow", 8)) {
		msleep(400);
		script_send(s, "Content-Type: command/reply\nReply-Text: +OK slow\n\n");
	} else if (!strncmp(block, "api fast", 8)) {
		script_send(s, "Content-Type: command/reply\nReply-Text: +OK fast\n\n");
	} else if (!strncmp(block, "stall", 5)) {
		/* half a message now, the rest later */
		script_send(s, "Content-Type: command/reply\nReply-Te");
		msleep(500);
		script_send(s, "xt: +OK stalled\n\n");
	} else if (!strncmp(block, "silent", 6)) {
		/* no reply */
	} else {
		script_send(s, "Content-Type: command/reply\nReply-Text: +OK\n\n");
	}
}

static void test_race_ordering(void)
{
	esl_handle_t h;
	script_t s;

	CHECK_INT(script_attach(&h, &s, race_fn), 0);
	CHECK_INT(esl_send_recv(&h, "api race"), ESL_SUCCESS);
	CHECK(h.last_sr_event != NULL);
	CHECK_STR(esl_event_get_header(h.last_sr_event, "Content-Type"), "api/response");
	CHECK_STR(h.last_sr_event ? h.last_sr_event->body : NULL, "+OK");
	/* the two events that came first wait in race_event, in order */
	CHECK(h.race_event != NULL && h.race_event->next != NULL && h.race_event->next->next == NULL);
	/* check_q = 0 ignores the queue and reads the socket */
	CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
	CHECK(h.last_ievent && h.last_ievent->event_id == ESL_EVENT_CHANNEL_ANSWER);
	/* check_q = 1 takes the queue first, decoding the inner events then */
	CHECK_INT(esl_recv_event(&h, 1, NULL), ESL_SUCCESS);
	CHECK(h.last_ievent && h.last_ievent->event_id == ESL_EVENT_HEARTBEAT);
	CHECK_STR(esl_event_get_header(h.last_ievent, "X-Test"), "A");
	CHECK_INT(esl_recv_event_timed(&h, 1000, 1, NULL), ESL_SUCCESS);
	CHECK(h.last_ievent && h.last_ievent->event_id == ESL_EVENT_CHANNEL_CREATE);
	CHECK(h.race_event == NULL);
	/* a save_event pointer takes the message instead of last_event */
	{
		esl_event_t *mine = NULL, *before = h.last_event;
		CHECK_INT(esl_send(&h, "api race"), ESL_SUCCESS);
		CHECK_INT(esl_recv_event(&h, 0, &mine), ESL_SUCCESS);
		CHECK(mine != NULL && h.last_event == before);
		CHECK(h.last_ievent && h.last_ievent->event_id == ESL_EVENT_HEARTBEAT);
		esl_event_destroy(&mine);
		CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
		CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
		CHECK_STR(esl_event_get_header(h.last_event, "Content-Type"), "api/response");
		CHECK(h.last_ievent == NULL);
		CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
	}
	script_finish(&h, &s);
}

/* Events that waited in race_event while esl_send_recv waited for its reply come first
 * through a view too, built (they were received whole), then the socket's, read in place;
 * a timed view receive with nothing to read gives ESL_BREAK and no event. */
static void test_view_race(void)
{
	esl_handle_t h;
	script_t s;
	esl_event_view_t *v = NULL;

	CHECK_INT(esl_event_view_create(&v), ESL_SUCCESS);
	CHECK_INT(script_attach(&h, &s, race_fn), 0);
	CHECK_INT(esl_send_recv(&h, "api inplace"), ESL_SUCCESS);
	CHECK(h.race_event != NULL && h.race_event->next == NULL);
	CHECK_INT(esl_recv_event_view(&h, 0, v), ESL_SUCCESS);
	CHECK(esl_event_view_has_event(v) && !esl_event_view_in_place(v));
	CHECK_INT(esl_event_view_id(v), ESL_EVENT_CHANNEL_CREATE);
	CHECK_STR(esl_event_view_get_header(v, "x-test"), "before");
	CHECK(h.race_event == NULL);
	CHECK_INT(esl_recv_event_view(&h, 1000, v), ESL_SUCCESS);
	CHECK(esl_event_view_has_event(v) && esl_event_view_in_place(v));
	CHECK(h.last_event == NULL && h.last_ievent == NULL);
	CHECK_INT(esl_event_view_id(v), ESL_EVENT_CHANNEL_ANSWER);
	CHECK_STR(esl_event_view_get_header(v, "X-TEST"), "after");
	CHECK_INT(esl_recv_event_view(&h, 50, v), ESL_BREAK);
	CHECK(!esl_event_view_has_event(v) && !esl_event_view_get_header(v, "X-Test"));
	/* a reply received through a view is last_event's, and the view has no event */
	CHECK_INT(esl_send(&h, "api fast"), ESL_SUCCESS);
	CHECK_INT(esl_recv_event_view(&h, 1000, v), ESL_SUCCESS);
	CHECK(!esl_event_view_has_event(v));
	CHECK_STR(h.last_event ? esl_event_get_header(h.last_event, "Reply-Text") : NULL, "+OK fast");
	script_finish(&h, &s);
	esl_event_view_destroy(&v);
}

static void test_timed(void)
{
	esl_handle_t h;
	script_t s;
	double t0, el;

	CHECK_INT(script_attach(&h, &s, race_fn), 0);
	/* nothing arrives */
	t0 = eslt_now();
	CHECK_INT(esl_recv_event_timed(&h, 150, 0, NULL), ESL_BREAK);
	el = eslt_now() - t0;
	CHECK(el >= 0.14 && el < 2.0);

	/* half a message, then a stall: the timed receive still returns in time, and the bytes
	 * already received are kept for the next call */
	CHECK_INT(esl_send(&h, "stall"), ESL_SUCCESS);
	msleep(100);
	t0 = eslt_now();
	CHECK_INT(esl_recv_event_timed(&h, 100, 0, NULL), ESL_BREAK);
	el = eslt_now() - t0;
	CHECK(el < 0.35);
	CHECK_INT(h.connected, 1);
	CHECK_INT(esl_recv_event_timed(&h, 3000, 0, NULL), ESL_SUCCESS);
	CHECK_STR(h.last_reply, "+OK stalled");

	/* a timed send_recv that gives up returns ESL_BREAK with no reply */
	t0 = eslt_now();
	CHECK_INT(esl_send_recv_timed(&h, "silent", 120), ESL_BREAK);
	el = eslt_now() - t0;
	CHECK(el >= 0.11 && el < 2.0);
	CHECK(h.last_sr_event == NULL);

	/* esl_wait_sock */
	CHECK_INT(esl_wait_sock(ESL_SOCK_INVALID, 10, ESL_POLL_READ), ESL_SOCK_INVALID);
	CHECK_INT(esl_wait_sock(h.sock, 0, ESL_POLL_READ), 0);
	CHECK(esl_wait_sock(h.sock, 100, ESL_POLL_WRITE) & ESL_POLL_WRITE);
	script_finish(&h, &s);
}

/* Takes the next message with esl_recv_event_nowait, waiting for readability in between as
 * an event loop would; the last result. */
static esl_status_t nowait_next(esl_handle_t *h)
{
	esl_status_t st = ESL_BREAK;
	int i;

	for (i = 0; i < 50 && (st = esl_recv_event_nowait(h, 0, NULL)) == ESL_BREAK; i++) {
		CHECK(esl_wait_sock(h->sock, 200, ESL_POLL_READ) >= 0);
	}
	return st;
}

/* esl_recv_event_nowait: ESL_BREAK when nothing can be read, half a message kept until the
 * rest arrives, one message per call when a read brought several, ESL_FAIL once closed. */
static void test_nowait(void)
{
	static const int want[] = { ESL_EVENT_HEARTBEAT, ESL_EVENT_CHANNEL_CREATE, -1, ESL_EVENT_CHANNEL_ANSWER };
	esl_handle_t h;
	script_t s;
	size_t i;

	CHECK_INT(script_attach(&h, &s, race_fn), 0);
	CHECK_INT(esl_recv_event_nowait(&h, 0, NULL), ESL_BREAK);
	CHECK_INT(h.connected, 1);

	/* half a reply now, the rest 0.5 s later */
	CHECK_INT(esl_send(&h, "stall"), ESL_SUCCESS);
	msleep(100);
	CHECK_INT(esl_recv_event_nowait(&h, 0, NULL), ESL_BREAK);
	CHECK_INT(h.connected, 1);
	CHECK_INT(nowait_next(&h), ESL_SUCCESS);
	CHECK_STR(h.last_reply, "+OK stalled");

	/* four messages sent at once: each call takes the next one, in order */
	CHECK_INT(esl_send(&h, "api race"), ESL_SUCCESS);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_INT(nowait_next(&h), ESL_SUCCESS);
		if (want[i] < 0) {
			CHECK_STR(h.last_event ? esl_event_get_header(h.last_event, "Content-Type") : NULL, "api/response");
			CHECK_STR(h.last_event ? h.last_event->body : NULL, "+OK");
		} else {
			CHECK(h.last_ievent && (int) h.last_ievent->event_id == want[i]);
		}
	}
	CHECK_INT(esl_recv_event_nowait(&h, 0, NULL), ESL_BREAK);
	script_finish(&h, &s);
	CHECK_INT(esl_recv_event_nowait(&h, 0, NULL), ESL_FAIL);
}

/* esl_attach_socket (the Go binding's outbound attach): the handle takes the socket and is
 * connected, but sends nothing; "connect" and its reply then go as for any command, and the
 * handle closes the socket as esl_attach_handle's would. */
static void test_attach_socket(void)
{
	static const char reply[] = "Content-Type: command/reply\nReply-Text: +OK\nUnique-ID: u1\n\n";
	esl_handle_t h;
	int sv[2];
	char buf[64];
	ssize_t n;
	struct pollfd p;

	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_attach_socket(NULL, 3, NULL), ESL_FAIL);
	CHECK_INT(esl_attach_socket(&h, ESL_SOCK_INVALID, NULL), ESL_FAIL);
	CHECK_INT(h.connected, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		CHECK(0);
		return;
	}
	CHECK_INT(esl_attach_socket(&h, sv[0], NULL), ESL_SUCCESS);
	CHECK_INT(h.connected, 1);
	CHECK_INT(h.sock, sv[0]);
	CHECK(h.info_event == NULL);
	p.fd = sv[1];
	p.events = POLLIN;
	p.revents = 0;
	CHECK_INT(poll(&p, 1, 50), 0);

	CHECK_INT(esl_send(&h, "connect"), ESL_SUCCESS);
	n = read(sv[1], buf, sizeof(buf) - 1);
	CHECK_INT(n, 9);
	if (n > 0) {
		buf[n] = '\0';
		CHECK_STR(buf, "connect\n\n");
	}
	CHECK_INT(eslt_write_all(sv[1], reply, sizeof(reply) - 1), 0);
	CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
	CHECK_STR(h.last_event ? esl_event_get_header(h.last_event, "Unique-ID") : NULL, "u1");
	CHECK_STR(h.last_reply, "+OK");

	CHECK_INT(esl_disconnect(&h), ESL_SUCCESS);
	/* the handle owned the socket: the peer sees the end */
	CHECK_INT(read(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);
}

/* esl_handle_keep_inner (the Go binding's mode): event bodies arrive undecoded, intact
 * for esl_wire_plain_spans; replies are unchanged, and turning it off decodes again. */
static void test_keep_inner(void)
{
	static const int want[] = { ESL_EVENT_HEARTBEAT, ESL_EVENT_CHANNEL_CREATE, -1, ESL_EVENT_CHANNEL_ANSWER };
	esl_handle_t h;
	script_t s;
	esl_wire_t *w = esl_wire_create();
	size_t i;

	CHECK(w != NULL);
	CHECK_INT(script_attach(&h, &s, race_fn), 0);
	CHECK_INT(esl_handle_keep_inner(&h, 1), ESL_SUCCESS);
	CHECK_INT(esl_send(&h, "api race"), ESL_SUCCESS);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		esl_wire_spans_t p;

		CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
		CHECK(h.last_ievent == NULL);
		if (want[i] < 0) {
			CHECK_STR(h.last_event ? h.last_event->body : NULL, "+OK");
			continue;
		}
		CHECK_STR(h.last_event ? esl_event_get_header(h.last_event, "Content-Type") : NULL, "text/event-plain");
		CHECK(h.last_event && h.last_event->body &&
			  esl_wire_plain_spans(w, h.last_event->body, esl_wire_body_length(h.last_event), &p) == 1 &&
			  (int) p.event_id == want[i]);
	}
	CHECK_INT(esl_handle_keep_inner(&h, 0), ESL_SUCCESS);
	CHECK_INT(esl_send(&h, "api race"), ESL_SUCCESS);
	CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
	CHECK(h.last_ievent && h.last_ievent->event_id == ESL_EVENT_HEARTBEAT);
	script_finish(&h, &s);
	CHECK_INT(esl_handle_keep_inner(NULL, 1), ESL_FAIL);
	esl_wire_destroy(&w);
}

/* Q15: the reply to a timed-out command is dropped when it turns up late. */
static void test_late_reply_drained(void)
{
	esl_handle_t h;
	script_t s;

	CHECK_INT(script_attach(&h, &s, race_fn), 0);
	CHECK_INT(esl_send_recv_timed(&h, "api slow", 100), ESL_BREAK);
	CHECK_INT(esl_send_recv(&h, "api fast"), ESL_SUCCESS);
	CHECK_STR(h.last_sr_reply, "+OK fast");
	/* once more, with the late reply met by a plain receive */
	CHECK_INT(esl_send_recv_timed(&h, "api slow", 100), ESL_BREAK);
	CHECK_INT(esl_send(&h, "api fast"), ESL_SUCCESS);
	CHECK_INT(esl_recv_event(&h, 0, NULL), ESL_SUCCESS);
	CHECK_STR(esl_event_get_header(h.last_event, "Reply-Text"), "+OK fast");
	script_finish(&h, &s);
}

/* ---- disconnect from another thread ------------------------------------------------------------ */

typedef struct {
	esl_handle_t *h;
	int mode;
	esl_status_t st;
	double took;
} blocker_t;

static void *blocker_main(void *arg)
{
	blocker_t *b = arg;
	double t0 = eslt_now();

	switch (b->mode) {
	case 0:
		b->st = esl_recv_event(b->h, 0, NULL);
		break;
	case 1:
		b->st = esl_send_recv(b->h, "silent");
		break;
	default:
		b->st = esl_recv_event_timed(b->h, 60000, 1, NULL);
		break;
	}
	b->took = eslt_now() - t0;
	return NULL;
}

static void test_disconnect_while_blocked(void)
{
	int round;

	for (round = 0; round < 20; round++) {
		esl_handle_t *h = calloc(1, sizeof(*h));
		script_t s;
		blocker_t b[3];
		pthread_t t[3];
		int i;
		double t0;

		CHECK_INT(script_attach(h, &s, race_fn), 0);
		for (i = 0; i < 3; i++) {
			b[i].h = h;
			b[i].mode = i;
			b[i].st = ESL_SUCCESS;
			pthread_create(&t[i], NULL, blocker_main, &b[i]);
		}
		msleep(round < 2 ? 150 : round % 5);
		t0 = eslt_now();
		CHECK_INT(esl_disconnect(h), ESL_SUCCESS);
		CHECK(eslt_now() - t0 < 3.0);
		CHECK_INT(h->destroyed, 1);
		for (i = 0; i < 3; i++) {
			pthread_join(t[i], NULL);
			/* a thread that had not started its call yet sees the closed handle */
			CHECK(b[i].st == ESL_FAIL || b[i].st == ESL_BREAK);
		}
		free(h);
		pthread_join(s.thread, NULL);
		free(s.last);
		pthread_mutex_destroy(&s.lock);
	}

	/* calls on a handle that was never connected fail and touch no descriptor */
	{
		esl_handle_t z;
		memset(&z, 0, sizeof(z));
		CHECK_INT(esl_send(&z, "x"), ESL_FAIL);
		CHECK_INT(esl_recv_event(&z, 0, NULL), ESL_FAIL);
		CHECK_INT(esl_recv_event_timed(&z, 10, 0, NULL), ESL_FAIL);
		CHECK_INT(esl_send_recv(&z, "x"), ESL_FAIL);
		CHECK_INT(esl_execute(&z, "a", "b", NULL), ESL_FAIL);
		CHECK_INT(esl_disconnect(&z), ESL_FAIL);
		CHECK_INT(z.destroyed, 1);
		CHECK_INT(esl_disconnect(&z), ESL_FAIL);
		CHECK(fcntl(0, F_GETFD) != -1 || errno != EBADF);
		CHECK_INT(esl_send(NULL, "x"), ESL_FAIL);
		CHECK_INT(esl_disconnect(NULL), ESL_FAIL);
	}
}

/* ---- signals while a call waits ------------------------------------------------------------------ */

static volatile sig_atomic_t signals_caught;

static void count_signal(int sig)
{
	(void) sig;
	signals_caught++;
}

/* A handler installed without SA_RESTART makes every wait it interrupts fail with EINTR (poll
 * always does). Go programs get such signals on every thread (SIGURG preempts goroutines); a
 * wait must be taken up again, not end the connection as the original does. A thread blocked
 * in esl_recv_event, esl_recv_event_timed or esl_send_recv is signalled over and over; then
 * the peer sends what it waits for, and the call must succeed on a handle still connected. */
static void test_signals_while_waiting(void)
{
	struct sigaction sa, old;
	int mode;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	CHECK_INT(sigaction(SIGUSR1, &sa, &old), 0);
	for (mode = 0; mode < 3; mode++) {
		esl_handle_t h;
		script_t s;
		blocker_t b;
		pthread_t t;
		int k;

		signals_caught = 0;
		CHECK_INT(script_attach(&h, &s, race_fn), 0);
		b.h = &h;
		b.mode = mode;
		b.st = ESL_FAIL;
		pthread_create(&t, NULL, blocker_main, &b);
		msleep(20);
		for (k = 0; k < 300; k++) {
			pthread_kill(t, SIGUSR1);
			if (k % 30 == 0) {
				msleep(2);
			}
		}
		msleep(20);
		CHECK(signals_caught > 30);
		if (mode == 1) {
			/* the reply to "silent" */
			script_send(&s, "Content-Type: command/reply\nReply-Text: +OK late\n\n");
		} else {
			send_plain_event(&s, "HEARTBEAT");
		}
		pthread_join(t, NULL);
		CHECK_INT(b.st, ESL_SUCCESS);
		CHECK_INT(h.connected, 1);
		script_finish(&h, &s);
	}
	CHECK_INT(sigaction(SIGUSR1, &old, NULL), 0);
}

/* ---- esl_send ---------------------------------------------------------------------------------- */

static void capture_fn(script_t *s, const char *block, size_t blen, const char *body, size_t bodylen)
{
	(void) blen;
	(void) body;
	(void) bodylen;
	if (!strncmp(block, "connect", 7)) {
		script_send(s, ESLT_CONNECT_REPLY);
	} else if (!strncmp(block, "close", 5)) {
		shutdown(s->fd, SHUT_RDWR);
	} else {
		script_send(s, "Content-Type: command/reply\nReply-Text: +OK\n\n");
	}
}

static char *script_last(script_t *s, int want_cmds, size_t *len)
{
	int i;
	char *copy = NULL;

	for (i = 0; i < 500; i++) {
		pthread_mutex_lock(&s->lock);
		if (s->ncmds >= want_cmds) {
			copy = eslt_dup_n(s->last, s->last_len);
			*len = s->last_len;
		}
		pthread_mutex_unlock(&s->lock);
		if (copy) {
			return copy;
		}
		msleep(5);
	}
	return NULL;
}

static void test_send(void)
{
	esl_handle_t h;
	script_t s;
	char *got;
	size_t len = 0;

	CHECK_INT(script_attach(&h, &s, capture_fn), 0);
	CHECK_INT(esl_send(&h, NULL), ESL_FAIL);
	CHECK_INT(esl_send(&h, ""), ESL_FAIL);
	CHECK_INT(h.connected, 1);
	CHECK_INT(esl_send_recv(&h, "api status"), ESL_SUCCESS);
	got = script_last(&s, 2, &len);
	CHECK(got && len == 12 && !memcmp(got, "api status\n\n", 12));
	free(got);
	/* already terminated: nothing added */
	CHECK_INT(esl_send_recv(&h, "api x\n\n"), ESL_SUCCESS);
	got = script_last(&s, 3, &len);
	CHECK(got && len == 7 && !memcmp(got, "api x\n\n", 7));
	free(got);
	CHECK_INT(esl_send_recv(&h, "close"), ESL_FAIL);
	CHECK_INT(h.connected, 0);
	/* the peer is gone: no SIGPIPE, an error with errno */
	CHECK_INT(esl_send(&h, "x"), ESL_FAIL);
	script_finish(&h, &s);

	/* a write to a closed peer sets errnum (EPIPE) and never raises SIGPIPE */
	{
		esl_handle_t h2;
		eslt_peer_t peer = { 0 };
		CHECK_INT(eslt_attach(&h2, &peer), 0);
		eslt_peer_join(&peer);
		msleep(20);
		{
			int tries = 0;
			while (esl_send(&h2, "api status") == ESL_SUCCESS && tries++ < 10) {
				msleep(10);
			}
		}
		CHECK_INT(h2.connected, 0);
		CHECK(h2.errnum == EPIPE || h2.errnum == ECONNRESET);
		CHECK(h2.err[0] != '\0');
		esl_disconnect(&h2);
	}
}

/* ---- long arguments ---------------------------------------------------------------------------- */

static void test_long_args(void)
{
	esl_handle_t h;
	script_t s;
	char *arg = malloc(10241), *want = malloc(30000), *got;
	size_t len = 0;
	int n = 2, i;
	esl_event_t *ev = NULL;

	for (i = 0; i < 10240; i++) {
		arg[i] = (char) ('a' + i % 26);
	}
	arg[10240] = '\0';
	CHECK_INT(script_attach(&h, &s, capture_fn), 0);

	h.event_lock = 1;
	h.async_execute = 1;
	CHECK_INT(esl_execute(&h, "playback", arg, "uuid-1"), ESL_SUCCESS);
	snprintf(want, 30000, "sendmsg uuid-1\ncall-command: execute\nexecute-app-name: playback\nexecute-app-arg: %s\n"
						  "event-lock: true\nasync: true\n\n", arg);
	got = script_last(&s, n++, &len);
	CHECK(got && len == strlen(want) && !memcmp(got, want, len));
	free(got);
	CHECK_STR(h.last_sr_reply, "+OK");

	h.event_lock = 0;
	h.async_execute = 0;
	CHECK_INT(esl_execute(&h, arg, NULL, NULL), ESL_SUCCESS);
	snprintf(want, 30000, "sendmsg\ncall-command: execute\nexecute-app-name: %s\n\n", arg);
	got = script_last(&s, n++, &len);
	CHECK(got && len == strlen(want) && !memcmp(got, want, len));
	free(got);

	CHECK_INT(esl_filter(&h, "Unique-ID", arg), ESL_SUCCESS);
	snprintf(want, 30000, "filter Unique-ID %s\n\n", arg);
	got = script_last(&s, n++, &len);
	CHECK(got && len == strlen(want) && !memcmp(got, want, len));
	free(got);

	CHECK_INT(esl_events(&h, ESL_EVENT_TYPE_JSON, arg), ESL_SUCCESS);
	snprintf(want, 30000, "event json %s\n\n", arg);
	got = script_last(&s, n++, &len);
	CHECK(got && len == strlen(want) && !memcmp(got, want, len));
	free(got);
	CHECK_INT(esl_events(&h, (esl_event_type_t) 7, "ALL"), ESL_SUCCESS);
	got = script_last(&s, n++, &len);
	CHECK(got && len == 17 && !memcmp(got, "event plain ALL\n\n", 17));
	free(got);

	CHECK_INT(esl_event_create_subclass(&ev, ESL_EVENT_CUSTOM, "test::long"), ESL_SUCCESS);
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "X-Long", arg);
	esl_event_set_body(ev, "hello");
	CHECK_INT(esl_sendevent(&h, ev), ESL_SUCCESS);
	got = script_last(&s, n++, &len);
	CHECK(got && !strncmp(got, "sendevent CUSTOM\n", 17) && strstr(got, arg) && len > 10240 && !memcmp(got + len - 5, "hello", 5));
	free(got);
	CHECK_INT(esl_sendmsg(&h, ev, "uuid-2"), ESL_SUCCESS);
	got = script_last(&s, n++, &len);
	CHECK(got && !strncmp(got, "sendmsg uuid-2\n", 15) && strstr(got, arg));
	free(got);
	CHECK_INT(esl_sendmsg(&h, ev, NULL), ESL_SUCCESS);
	got = script_last(&s, n++, &len);
	CHECK(got && !strncmp(got, "sendmsg\n", 8));
	free(got);
	CHECK_INT(esl_sendevent(&h, NULL), ESL_FAIL);
	CHECK_INT(esl_filter(&h, NULL, "x"), ESL_FAIL);
	esl_event_destroy(&ev);

	script_finish(&h, &s);

	/* a command far larger than the socket buffer, through a non-blocking socket (EAGAIN) */
	{
		size_t big = 4 << 20;
		char *cmd = malloc(big + 1);
		memcpy(cmd, "api ", 4);
		memset(cmd + 4, 'x', big - 4);
		cmd[big] = '\0';
		CHECK_INT(script_attach_ex(&h, &s, capture_fn, 1), 0);
		CHECK_INT(esl_send_recv(&h, cmd), ESL_SUCCESS);
		got = script_last(&s, 2, &len);
		CHECK(got && len == big + 2 && !memcmp(got, cmd, big) && !memcmp(got + big, "\n\n", 2));
		free(got);
		CHECK_STR(h.last_sr_reply, "+OK");
		script_finish(&h, &s);
		free(cmd);
	}
	free(arg);
	free(want);
}

/* ---- login against a small server ---------------------------------------------------------------- */

enum { SRV_OK, SRV_BAD, SRV_SILENT, SRV_NO_AUTH_REPLY, SRV_WRONG_GREETING, SRV_CLOSE };

typedef struct {
	int lfd;
	int port;
	int mode;
	pthread_t thread;
	char *got;          /* the auth command as received */
	size_t got_len;
} server_t;

static void *server_main(void *arg)
{
	server_t *sv = arg;
	int fd = accept(sv->lfd, NULL, NULL);
	char buf[65536];
	size_t len = 0;

	if (fd < 0) {
		return NULL;
	}
	switch (sv->mode) {
	case SRV_SILENT:
		break;
	case SRV_CLOSE:
		goto done;
	case SRV_WRONG_GREETING:
		eslt_write_all(fd, "Content-Type: command/reply\nReply-Text: +OK\n\n", 45);
		break;
	default:
		eslt_write_all(fd, "Content-Type: auth/request\n\n", 28);
		/* the auth command, however long */
		for (;;) {
			ssize_t n;
			char *e = len >= 2 ? memmem(buf, len, "\n\n", 2) : NULL;
			if (e) {
				sv->got = eslt_dup_n(buf, (size_t) (e - buf) + 2);
				sv->got_len = (size_t) (e - buf) + 2;
				break;
			}
			if (len == sizeof(buf) || (n = read(fd, buf + len, sizeof(buf) - len)) <= 0) {
				break;
			}
			len += (size_t) n;
		}
		if (sv->mode == SRV_OK) {
			eslt_write_all(fd, "Content-Type: command/reply\nReply-Text: +OK accepted\n\n", 54);
		} else if (sv->mode == SRV_BAD) {
			static const char bye[] = "Content-Type: command/reply\nReply-Text: -ERR invalid\n\n"
									  "Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
									  "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";
			eslt_write_all(fd, bye, sizeof(bye) - 1);
			goto done;
		}
		break;
	}
	/* hold the connection until the client goes */
	while (read(fd, buf, sizeof(buf)) > 0) {
	}
done:
	close(fd);
	return NULL;
}

static int server_start(server_t *sv, int family, int mode)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1;

	memset(sv, 0, sizeof(*sv));
	memset(&ss, 0, sizeof(ss));
	sv->mode = mode;
	if ((sv->lfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return -1;
	}
	setsockopt(sv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ss.ss_family = (sa_family_t) family;
	if (family == AF_INET) {
		((struct sockaddr_in *) &ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *) &ss)->sin6_addr = in6addr_loopback;
		sl = sizeof(struct sockaddr_in6);
	}
	if (bind(sv->lfd, (struct sockaddr *) &ss, sl) || listen(sv->lfd, 4) || getsockname(sv->lfd, (struct sockaddr *) &ss, &sl)) {
		close(sv->lfd);
		return -1;
	}
	sv->port = ntohs(family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port : ((struct sockaddr_in6 *) &ss)->sin6_port);
	pthread_create(&sv->thread, NULL, server_main, sv);
	return 0;
}

static void server_stop(server_t *sv)
{
	pthread_join(sv->thread, NULL);
	close(sv->lfd);
	free(sv->got);
}

static void test_connect(void)
{
	server_t sv;
	esl_handle_t h;
	double t0, el;
	char *pw;

	/* auth ok */
	CHECK_INT(server_start(&sv, AF_INET, SRV_OK), 0);
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) sv.port, NULL, "ClueCon", 3000), ESL_SUCCESS);
	CHECK_INT(h.connected, 1);
	CHECK_STR(h.err, "");
	CHECK_STR(esl_event_get_header(h.last_event, "Reply-Text"), "+OK accepted");
	CHECK_STR(h.last_reply, "+OK accepted");
	CHECK_INT(esl_disconnect(&h), ESL_SUCCESS);
	server_stop(&sv);

	/* userauth with a 10 KB password: the whole line arrives */
	pw = malloc(10001);
	memset(pw, 'p', 10000);
	pw[10000] = '\0';
	CHECK_INT(server_start(&sv, AF_INET, SRV_OK), 0);
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_connect(&h, "localhost", (esl_port_t) sv.port, "user@example.com", pw), ESL_SUCCESS);
	esl_disconnect(&h);
	pthread_join(sv.thread, NULL);
	CHECK(sv.got && sv.got_len == 9 + 16 + 1 + 10000 + 2 && !strncmp(sv.got, "userauth user@example.com:pppp", 30));
	close(sv.lfd);
	free(sv.got);
	free(pw);

	/* bad password: err survives the cleanup (Q9) */
	CHECK_INT(server_start(&sv, AF_INET, SRV_BAD), 0);
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) sv.port, "", "wrong", 3000), ESL_FAIL);
	CHECK_STR(h.err, "Authentication Error");
	CHECK_INT(h.errnum, 0);
	CHECK_INT(h.connected, 0);
	CHECK_INT(h.destroyed, 1);
	pthread_join(sv.thread, NULL);
	CHECK(sv.got && !strcmp(sv.got, "auth wrong\n\n"));
	close(sv.lfd);
	free(sv.got);

	/* no greeting: the timeout bounds the login */
	CHECK_INT(server_start(&sv, AF_INET, SRV_SILENT), 0);
	memset(&h, 0, sizeof(h));
	t0 = eslt_now();
	CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) sv.port, NULL, "ClueCon", 200), ESL_FAIL);
	el = eslt_now() - t0;
	CHECK(el >= 0.19 && el < 2.0);
	CHECK_STR(h.err, "Connection timed out");
	CHECK_INT(h.errnum, ETIMEDOUT);
	server_stop(&sv);

	/* greeting but no reply to auth: the same deadline covers it */
	CHECK_INT(server_start(&sv, AF_INET, SRV_NO_AUTH_REPLY), 0);
	memset(&h, 0, sizeof(h));
	t0 = eslt_now();
	CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) sv.port, NULL, "ClueCon", 250), ESL_FAIL);
	el = eslt_now() - t0;
	CHECK(el >= 0.24 && el < 2.0);
	CHECK_STR(h.err, "Connection timed out");
	server_stop(&sv);

	/* a wrong greeting */
	CHECK_INT(server_start(&sv, AF_INET, SRV_WRONG_GREETING), 0);
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) sv.port, NULL, "ClueCon", 2000), ESL_FAIL);
	CHECK_STR(h.err, "Connection Error");
	server_stop(&sv);

	/* closed before the greeting */
	CHECK_INT(server_start(&sv, AF_INET, SRV_CLOSE), 0);
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_connect(&h, "127.0.0.1", (esl_port_t) sv.port, NULL, "ClueCon"), ESL_FAIL);
	CHECK_STR(h.err, "Connection Error");
	server_stop(&sv);

	/* refused port: err kept, errnum set */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0), port;
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *) &a, sizeof(a));
		getsockname(fd, (struct sockaddr *) &a, &al);
		port = ntohs(a.sin_port);
		close(fd);
		memset(&h, 0, sizeof(h));
		CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) port, NULL, "ClueCon", 1000), ESL_FAIL);
		CHECK_STR(h.err, "Socket Connection Error");
		CHECK_INT(h.errnum, ECONNREFUSED);
		memset(&h, 0, sizeof(h));
		CHECK_INT(esl_connect(&h, "127.0.0.1", (esl_port_t) port, NULL, "ClueCon"), ESL_FAIL);
		CHECK_INT(h.errnum, ECONNREFUSED);
	}

	/* unresolvable host, NULL host */
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_connect_timeout(&h, "no-such-host.invalid", 8021, NULL, "x", 1000), ESL_FAIL);
	CHECK_STR(h.err, "Cannot resolve host");
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_connect(&h, NULL, 8021, NULL, "x"), ESL_FAIL);
	CHECK_STR(h.err, "Cannot resolve host");
	CHECK_INT(esl_connect(NULL, "127.0.0.1", 8021, NULL, "x"), ESL_FAIL);

	/* IPv6, when the host has it */
	if (server_start(&sv, AF_INET6, SRV_OK) == 0) {
		memset(&h, 0, sizeof(h));
		CHECK_INT(esl_connect_timeout(&h, "::1", (esl_port_t) sv.port, NULL, "ClueCon", 3000), ESL_SUCCESS);
		CHECK_INT(h.sockaddr.ss_family, AF_INET6);
		esl_disconnect(&h);
		server_stop(&sv);
	} else {
		fprintf(stderr, "note: no IPv6 loopback, IPv6 connect not tested\n");
	}

	/* limits set before connecting are kept, and a reconnect after a disconnect works */
	CHECK_INT(server_start(&sv, AF_INET, SRV_OK), 0);
	memset(&h, 0, sizeof(h));
	CHECK_INT(esl_handle_set_limits(&h, 4096, 1024), ESL_SUCCESS);
	CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) sv.port, NULL, "ClueCon", 3000), ESL_SUCCESS);
	esl_disconnect(&h);
	server_stop(&sv);
	CHECK_INT(server_start(&sv, AF_INET, SRV_OK), 0);
	CHECK_INT(esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) sv.port, NULL, "ClueCon", 3000), ESL_SUCCESS);
	CHECK_INT(h.destroyed, 0);
	esl_disconnect(&h);
	server_stop(&sv);
}

/* ---- listeners --------------------------------------------------------------------------------- */

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int release;
	int calls;
	int family;
	int nonblock;
	int port;
} cbstate_t;

static void hold_cb(esl_socket_t server_sock, esl_socket_t client_sock, struct sockaddr_in *addr, void *user_data)
{
	cbstate_t *st = user_data;
	int fl = fcntl(client_sock, F_GETFL);

	(void) server_sock;
	pthread_mutex_lock(&st->lock);
	st->calls++;
	st->family = addr->sin_family;
	st->port = ntohs(addr->sin_port);
	st->nonblock = (fl & O_NONBLOCK) != 0;
	pthread_cond_broadcast(&st->cond);
	while (!st->release) {
		pthread_cond_wait(&st->cond, &st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	close(client_sock);
}

typedef struct {
	esl_listener_t *l;
	esl_listen_callback_t cb;
	void *ud;
	int threaded;
	int max;
	esl_status_t st;
} serve_args_t;

static void *serve_main(void *arg)
{
	serve_args_t *a = arg;
	a->st = esl_listener_serve(a->l, a->cb, a->ud, a->threaded, a->max);
	return NULL;
}

static int tcp_connect(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t) family;
	if (family == AF_INET) {
		((struct sockaddr_in *) &ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		((struct sockaddr_in *) &ss)->sin_port = htons((uint16_t) port);
		sl = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *) &ss)->sin6_addr = in6addr_loopback;
		((struct sockaddr_in6 *) &ss)->sin6_port = htons((uint16_t) port);
		sl = sizeof(struct sockaddr_in6);
	}
	if (fd >= 0 && connect(fd, (struct sockaddr *) &ss, sl)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* True when the peer closed fd within ms. */
static int sees_eof(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;
	return poll(&p, 1, ms) > 0 && read(fd, &c, 1) == 0;
}

static void listener_round(const char *host, int family)
{
	esl_listener_t *l = NULL;
	char err[256];
	cbstate_t st;
	serve_args_t a;
	pthread_t t;
	int c1, c2, port, active = -1;
	uint64_t acc = 0, ref = 0;

	if (esl_listener_create(&l, host, 0, 16, err, sizeof(err)) != ESL_SUCCESS) {
		if (family == AF_INET6) {
			fprintf(stderr, "note: cannot listen on %s (%s), IPv6 listener not tested\n", host, err);
			return;
		}
		CHECK(!"listener_create failed");
		fprintf(stderr, "%s\n", err);
		return;
	}
	port = esl_listener_port(l);
	CHECK(port > 0);
	CHECK(esl_listener_socket(l) >= 0);
	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.cond, NULL);
	a.l = l;
	a.cb = hold_cb;
	a.ud = &st;
	a.threaded = 1;
	a.max = 1;
	pthread_create(&t, NULL, serve_main, &a);

	c1 = tcp_connect(family, port);
	CHECK(c1 >= 0);
	pthread_mutex_lock(&st.lock);
	while (st.calls < 1) {
		pthread_cond_wait(&st.cond, &st.lock);
	}
	pthread_mutex_unlock(&st.lock);
	CHECK_INT(st.family, family);
	CHECK_INT(st.nonblock, 0);
	/* a second session over max_sessions is closed at once */
	c2 = tcp_connect(family, port);
	CHECK(c2 >= 0);
	CHECK(sees_eof(c2, 3000));
	esl_listener_stats(l, &acc, &ref, &active);
	CHECK(acc == 1 && ref == 1 && active == 1);
	CHECK_INT(esl_listener_wait_idle(l, 50), 1);

	pthread_mutex_lock(&st.lock);
	st.release = 1;
	pthread_cond_broadcast(&st.cond);
	pthread_mutex_unlock(&st.lock);
	CHECK_INT(esl_listener_wait_idle(l, 3000), 0);
	CHECK(sees_eof(c1, 3000));
	close(c1);
	close(c2);

	CHECK_INT(esl_listener_stop(l), ESL_SUCCESS);
	CHECK_INT(esl_listener_stop(l), ESL_SUCCESS);
	pthread_join(t, NULL);
	CHECK_INT(a.st, ESL_SUCCESS);
	/* a stopped listener's serve returns at once */
	CHECK_INT(esl_listener_serve(l, hold_cb, &st, 0, 0), ESL_SUCCESS);
	esl_listener_destroy(&l);
	CHECK(l == NULL);
	pthread_cond_destroy(&st.cond);
	pthread_mutex_destroy(&st.lock);
}

/* An outbound session end to end: the listener hands the socket to esl_attach_handle while a
 * "FreeSWITCH" thread dials in and plays a recording. */
typedef struct {
	int port;
	const char *data;
	size_t len;
} dialer_t;

static void *dialer_main(void *arg)
{
	dialer_t *d = arg;
	int fd = tcp_connect(AF_INET, d->port);

	if (fd < 0) {
		return NULL;
	}
	if (!eslt_read_block(fd)) {
		eslt_write_all(fd, d->data, d->len);
	}
	/* wait for the application's exit */
	{
		char buf[4096];
		while (read(fd, buf, sizeof(buf)) > 0) {
		}
	}
	close(fd);
	return NULL;
}

typedef struct {
	esl_listener_t *l;
	int messages;
	int got_info;
	int nonblock;
} session_state_t;

static void attach_cb(esl_socket_t server_sock, esl_socket_t client_sock, struct sockaddr_in *addr, void *user_data)
{
	session_state_t *ss = user_data;
	esl_handle_t h;

	(void) server_sock;
	(void) addr;
	memset(&h, 0, sizeof(h));
	ss->nonblock = (fcntl(client_sock, F_GETFL) & O_NONBLOCK) != 0;
	if (esl_attach_handle(&h, client_sock, addr) == ESL_SUCCESS) {
		ss->got_info = h.info_event != NULL;
		while (esl_recv_event(&h, 1, NULL) == ESL_SUCCESS) {
			ss->messages++;
		}
		ss->messages++; /* the goodbye notice that ended the loop */
		esl_disconnect(&h);
	}
	esl_listener_stop(ss->l);
}

static void test_listeners(void)
{
	listener_round("127.0.0.1", AF_INET);
	listener_round("::1", AF_INET6);

	/* binding a used port fails with a message */
	{
		esl_listener_t *l1 = NULL, *l2 = NULL;
		char err[256];
		CHECK_INT(esl_listener_create(&l1, "127.0.0.1", 0, 0, err, sizeof(err)), ESL_SUCCESS);
		CHECK_INT(esl_listener_create(&l2, "127.0.0.1", (esl_port_t) esl_listener_port(l1), 0, err, sizeof(err)), ESL_FAIL);
		CHECK(l2 == NULL && strstr(err, "cannot listen") != NULL);
		CHECK_INT(esl_listener_create(&l2, "no-such-host.invalid", 0, 0, err, sizeof(err)), ESL_FAIL);
		CHECK(err[0] != '\0');
		esl_listener_destroy(&l1);
	}

	/* the outbound flow through a non-threaded listener */
	{
		const char *dir = getenv("ESL_TESTDATA");
		char path[1024];
		size_t len;
		char *data;
		esl_listener_t *l = NULL;
		session_state_t ss;
		dialer_t d;
		pthread_t t;
		eslt_sums_t ref = { 0 };

		snprintf(path, sizeof(path), "%s/outbound-exit.s2c", dir && *dir ? dir : "testdata/freeswitch");
		data = eslt_read_file(path, &len);
		CHECK(data != NULL);
		CHECK_INT(esl_listener_create(&l, NULL, 0, 0, NULL, 0), ESL_SUCCESS);
		if (data && l) {
			eslt_ref_split(data, len, &ref);
			memset(&ss, 0, sizeof(ss));
			ss.l = l;
			d.port = esl_listener_port(l);
			d.data = data;
			d.len = len;
			pthread_create(&t, NULL, dialer_main, &d);
			CHECK_INT(esl_listener_serve(l, attach_cb, &ss, 0, 0), ESL_SUCCESS);
			pthread_join(t, NULL);
			CHECK_INT(ss.got_info, 1);
			CHECK_INT(ss.messages + 1, (int) ref.n);
			CHECK_INT(ss.nonblock, 0);
			eslt_sums_free(&ref);
		}
		esl_listener_destroy(&l);
		free(data);
	}
}

/* esl_listen: non-blocking client sockets (as the original), stopped by shutting the
 * listening socket down from another thread. */
typedef struct {
	esl_socket_t sock;
	esl_status_t st;
	cbstate_t *cb;
} listen_args_t;

static void *listen_main(void *arg)
{
	listen_args_t *a = arg;
	a->st = esl_listen("127.0.0.1", 0, hold_cb, a->cb, &a->sock);
	return NULL;
}

static void test_esl_listen(void)
{
	listen_args_t a;
	cbstate_t st;
	pthread_t t;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int i, c;

	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.cond, NULL);
	st.release = 1;
	a.sock = ESL_SOCK_INVALID;
	a.st = ESL_SUCCESS;
	a.cb = &st;
	pthread_create(&t, NULL, listen_main, &a);
	for (i = 0; i < 200 && __atomic_load_n(&a.sock, __ATOMIC_ACQUIRE) == ESL_SOCK_INVALID; i++) {
		msleep(5);
	}
	CHECK(a.sock != ESL_SOCK_INVALID);
	if (a.sock != ESL_SOCK_INVALID && getsockname(a.sock, (struct sockaddr *) &sa, &sl) == 0) {
		c = tcp_connect(AF_INET, ntohs(sa.sin_port));
		CHECK(c >= 0);
		CHECK(sees_eof(c, 3000));
		close(c);
		pthread_mutex_lock(&st.lock);
		CHECK_INT(st.calls, 1);
		CHECK_INT(st.nonblock, 1);
		CHECK_INT(st.family, AF_INET);
		pthread_mutex_unlock(&st.lock);
		shutdown(a.sock, SHUT_RDWR);
	}
	pthread_join(t, NULL);
	CHECK_INT(a.st, ESL_FAIL);
	pthread_cond_destroy(&st.cond);
	pthread_mutex_destroy(&st.lock);
}

int main(void)
{
	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE must never happen: let it kill the test if it does */
	test_recordings_over_socket();
	test_take_over_socket();
	test_view_over_socket();
	test_outbound_info();
	test_race_ordering();
	test_view_race();
	test_timed();
	test_nowait();
	test_keep_inner();
	test_attach_socket();
	test_late_reply_drained();
	test_disconnect_while_blocked();
	test_signals_while_waiting();
	test_send();
	test_long_args();
	test_connect();
	test_listeners();
	test_esl_listen();
	return ESLT_DONE();
}
