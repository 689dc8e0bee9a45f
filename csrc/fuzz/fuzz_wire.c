/*
 * fuzz_wire.c: libFuzzer harness for the wire parser.
 *
 * The input is an arbitrary server stream. It is fed to one parser in pieces whose sizes are
 * derived from the input itself (so the fuzzer explores read boundaries), and whole to a second
 * parser that builds its events through the event API instead of its own plan (for inputs up
 * to 64 KiB; larger ones use the plan in both). Both must hand out the same messages, with the
 * same inner events, and end in the same state: any difference traps. The same bytes are also
 * given to the plain inner-event parser directly, both ways. Wherever the parser offers the
 * span of an event's strings (esl_wire_event_text, which the Go binding copies whole), the
 * lengths it implies must be the strings' own. Wherever a plain or JSON inner event is offered
 * as spans (esl_wire_plain_spans, esl_wire_json_spans, which the Go binding packs from), they
 * must describe the event the full parse builds.
 *
 * With bit 1 of byte 0, each message is first offered as a body span (esl_wire_take_event,
 * which the Go binding receives events with): a taken body must be the one the full parse
 * gives, framed by exactly its two headers, and a declined message must still come whole.
 *
 * Input layout: byte 0 picks small or default limits and the take path, byte 1 seeds the
 * piece sizes, the rest is the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esl.h"
#include "esl_wire.h"
#include "../tests/eslt_wire.h"

static int same_event(esl_event_t *a, esl_event_t *b)
{
	esl_event_header_t *x, *y;
	size_t la, lb;

	if (!a || !b) {
		return a == b;
	}
	if (a->event_id != b->event_id || (a->flags & ESL_EF_UNIQ_HEADERS) != (b->flags & ESL_EF_UNIQ_HEADERS)) {
		return 0;
	}
	for (x = a->headers, y = b->headers; x && y; x = x->next, y = y->next) {
		int i;
		if (strcmp(x->name, y->name) || strcmp(x->value, y->value) || x->idx != y->idx || x->hash != y->hash) {
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

static void check(int ok)
{
	if (!ok) {
		__builtin_trap();
	}
}

/* What esl_wire_take_event offered, copied. */
typedef struct {
	char *body;
	size_t len;
	int json, calls, unterminated;
	int answer;             /* 0 declines (esl_wire_next must then give it), else takes */
} fuzz_taken_t;

static int fuzz_take(void *ctx, const char *body, size_t len, int json)
{
	fuzz_taken_t *t = ctx;

	t->calls++;
	t->unterminated |= body[len] != '\0';
	if (t->answer == 0) {
		return ESL_WIRE_DECLINE;
	}
	free(t->body);
	if (!(t->body = malloc(len + 1))) {
		__builtin_trap();
	}
	memcpy(t->body, body, len);
	t->len = len;
	t->json = json;
	return t->answer == 1 ? ESL_WIRE_TAKEN_STOP : ESL_WIRE_TAKEN;
}

static void stream(const uint8_t *data, size_t size, uint8_t mode, uint8_t seed)
{
	esl_wire_t *a = esl_wire_create(), *b = esl_wire_create();
	size_t off = 0;
	uint32_t x = seed * 2654435761u + 1;
	esl_wire_status_t sa = ESL_WIRE_MORE, sb;

	if (!a || !b) {
		esl_wire_destroy(&a);
		esl_wire_destroy(&b);
		return;
	}
	if (mode & 1) {
		esl_wire_set_limits(a, 512, 256);
		esl_wire_set_limits(b, 512, 256);
	} else {
		esl_wire_set_limits(a, 0, 1 << 20);
		esl_wire_set_limits(b, 0, 1 << 20);
	}
	/* the event-API half is slow (allocations per header): keep it to inputs where mutations
	 * pay off; larger ones still compare chunked against whole parsing */
	esl_wire_set_api_build(b, size <= 65536);
	esl_wire_feed(b, data, size);

	for (;;) {
		esl_event_t *ea = NULL, *eb = NULL, *ia = NULL, *ib = NULL;

		fuzz_taken_t t = { NULL, 0, 0, 0, (int) ((x >> 7) % 5) };
		int r = -2;

		/* pull from a until it has a message, an error, or the input is used up; with mode
		 * bit 1, each message is first offered to take (esl_wire_take_event) */
		for (;;) {
			size_t n;

			if (mode & 2) {
				r = esl_wire_take_event(a, fuzz_take, &t);
				if (r == ESL_WIRE_TAKEN || r == ESL_WIRE_TAKEN_STOP) {
					sa = ESL_WIRE_MESSAGE;
					break;
				}
				check(r == -1 || r == -2 || (r == ESL_WIRE_DECLINE && t.calls == 1));
			}
			sa = esl_wire_next(a, &ea);
			/* a message not yet whole is not one yet for esl_wire_next either */
			check(r != -1 || sa == ESL_WIRE_MORE);
			check(r != ESL_WIRE_DECLINE || sa == ESL_WIRE_MESSAGE);
			if (sa != ESL_WIRE_MORE || off >= size) {
				break;
			}
			x = x * 1103515245u + 12345u;
			n = (x >> 16) % 8 == 0 ? (x >> 8) % 4096 + 1 : (x >> 16) % 17 + 1;
			if (n > size - off) {
				n = size - off;
			}
			if ((x >> 12) & 1) {
				esl_wire_feed(a, data + off, n);
			} else {
				size_t room, left = n;
				while (left) {
					char *p = esl_wire_reserve(a, &room);
					size_t m;
					if (!p) {
						break;
					}
					m = room < left ? room : left;
					memcpy(p, data + off + (n - left), m);
					esl_wire_commit(a, m);
					left -= m;
				}
			}
			off += n;
		}
		sb = esl_wire_next(b, &eb);
		check(sa == sb);
		if (sa != ESL_WIRE_MESSAGE) {
			free(t.body);
			break;
		}
		if (!ea) {
			/* taken: the message b gives is exactly the two framing headers and this body */
			const char *ct = esl_event_get_header(eb, "content-type");
			const esl_event_header_t *h;
			int nh = 0;

			for (h = eb->headers; h; h = h->next) {
				nh++;
			}
			check(t.calls == 1 && !t.unterminated && nh == 3 && ct &&
				  !strcmp(ct, t.json ? "text/event-json" : "text/event-plain") && eb->body &&
				  esl_wire_body_length(eb) == t.len && !memcmp(eb->body, t.body, t.len));
			free(t.body);
			esl_event_destroy(&eb);
			continue;
		}
		free(t.body);
		check(same_event(ea, eb));
		check(esl_wire_decode_inner(a, ea, &ia) == ESL_SUCCESS);
		check(esl_wire_decode_inner(b, eb, &ib) == ESL_SUCCESS);
		check(same_event(ia, ib));
		check(eslt_span_consistent(ea));
		check(eslt_span_consistent(ia));
		if (ea && ea->body) {
			const char *ct = esl_event_get_header(ea, "content-type");
			char why[300];
			int json = ct && !strcasecmp(ct, "text/event-json");

			if (json || (ct && !strcasecmp(ct, "text/event-plain"))) {
				check(eslt_spans_check(a, ea->body, esl_wire_body_length(ea), json, why, sizeof(why)) >= 0);
			}
		}
		esl_event_destroy(&ia);
		esl_event_destroy(&ib);
		esl_event_destroy(&ea);
		esl_event_destroy(&eb);
	}
	check(sa == ESL_WIRE_ERROR ? esl_wire_error(a)[0] != '\0' : !esl_wire_buffered(a) == !esl_wire_buffered(b));
	esl_wire_destroy(&a);
	esl_wire_destroy(&b);
}

static void plain(const uint8_t *data, size_t size)
{
	esl_wire_t *b = esl_wire_create();
	esl_event_t *ea = NULL, *eb = NULL;
	esl_status_t sa, sb;

	if (!b) {
		return;
	}
	esl_wire_set_api_build(b, 1);
	sa = esl_wire_parse_plain(NULL, (const char *) data, size, &ea);
	sb = esl_wire_parse_plain(b, (const char *) data, size, &eb);
	check(sa == sb);
	check(same_event(ea, eb));
	check(eslt_span_consistent(ea));
	esl_event_destroy(&ea);
	esl_event_destroy(&eb);
	esl_wire_destroy(&b);
	{
		esl_wire_t *w = esl_wire_create();
		char why[300];

		check(!w || eslt_spans_check(w, (const char *) data, size, 0, why, sizeof(why)) >= 0);
		esl_wire_destroy(&w);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2) {
		return 0;
	}
	stream(data + 2, size - 2, data[0], data[1]);
	plain(data + 2, size - 2);
	return 0;
}
