/*
 * fuzz_json.c: libFuzzer harness for esl_event_create_json and the serializers.
 *
 * The input is JSON text. Whatever it is, parsing must not crash or leak; when it gives an
 * event, that event must be well formed, serialize both ways, survive dup, and its own JSON
 * must parse again (the serializer only writes valid JSON). Building the event through the
 * header index and without it must give the same result, and so must the wire parser's own
 * build of a received text/event-json message (esl_wire_decode_inner). The text check
 * (esl_wire_json_check) must answer the same through its fast path and without it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esl.h"
#include "esl_event_internal.h"
#include "esl_wire.h"

/* Same headers (names, values, hashes, arrays) in the same order, same id and body. */
static int same_event(esl_event_t *a, esl_event_t *b)
{
	esl_event_header_t *x, *y;

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
	if (x || y || !a->body != !b->body || (a->body && strcmp(a->body, b->body))) {
		return 0;
	}
	return 1;
}

/* The text received as a text/event-json message and decoded by the wire parser. */
static esl_event_t *wire_json(const char *text, size_t size)
{
	static esl_wire_t *w;
	char head[128];
	esl_event_t *outer = NULL, *inner = NULL;
	int n;

	if (!w && !(w = esl_wire_create())) {
		__builtin_trap();
	}
	esl_wire_reset(w);
	esl_wire_set_limits(w, 0, size + 1);
	n = snprintf(head, sizeof(head), "Content-Type: text/event-json\nContent-Length: %zu\n\n", size);
	if (esl_wire_feed(w, head, (size_t) n) || esl_wire_feed(w, text, size) ||
		esl_wire_next(w, &outer) != ESL_WIRE_MESSAGE) {
		__builtin_trap();
	}
	if (esl_wire_decode_inner(w, outer, &inner) != ESL_SUCCESS) {
		__builtin_trap();
	}
	esl_event_destroy(&outer);
	return inner;
}

static void check_event(esl_event_t *e)
{
	esl_event_header_t *h, *last = NULL;
	int i;

	for (h = e->headers; h; h = h->next) {
		if (!h->name || !h->value || (h->idx > 0) != (h->array != NULL)) {
			__builtin_trap();
		}
		for (i = 0; i < h->idx; i++) {
			if (!h->array[i]) {
				__builtin_trap();
			}
		}
		if (esl_event_get_header_ptr(e, h->name) == NULL) {
			__builtin_trap();
		}
		last = h;
	}
	if (last != e->last_header) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *s = NULL, *s2 = NULL;
	esl_event_t *e = NULL, *e2 = NULL, *d = NULL;

	if (!text) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';

	esl_event_json_use_index = 0;
	esl_event_create_json(&e2, text);
	esl_event_json_use_index = 1;
	esl_event_create_json(&e, text);
	if ((e == NULL) != (e2 == NULL)) {
		__builtin_trap();
	}
	{
		/* the wire parser sees the raw bytes, NUL bytes included: they make the text invalid */
		esl_event_t *we = wire_json((const char *) data, size);
		if (!same_event(we, memchr(data, 0, size) ? NULL : e)) {
			__builtin_trap();
		}
		esl_event_destroy(&we);
	}
	{
		/* the JSON text check: its fast path for compact objects answers as the general
		 * reader does */
		esl_wire_t *fw = esl_wire_create(), *gw = esl_wire_create();

		if (fw && gw) {
			esl_wire_text_info_t a, b;
			int ra = esl_wire_json_check(fw, text, size, &a), rb;

			esl_wire_set_json_compact(gw, 0);
			rb = esl_wire_json_check(gw, text, size, &b);
			if (ra != rb || (ra == 1 && (a.header_len != b.header_len || a.event_id != b.event_id ||
										 a.has_body != b.has_body || a.body_off != b.body_off || a.body_len != b.body_len))) {
				__builtin_trap();
			}
		}
		esl_wire_destroy(&fw);
		esl_wire_destroy(&gw);
	}
	if (e) {
		char *a = NULL, *b = NULL;

		if (e->event_id != e2->event_id || (e->body == NULL) != (e2->body == NULL) ||
			(e->body && strcmp(e->body, e2->body))) {
			__builtin_trap();
		}
		esl_event_serialize(e, &a, ESL_FALSE);
		esl_event_serialize(e2, &b, ESL_FALSE);
		if (!a || !b || strcmp(a, b)) {
			__builtin_trap();
		}
		free(a);
		free(b);
		esl_event_serialize_json(e, &a);
		esl_event_serialize_json(e2, &b);
		if (!a || !b || strcmp(a, b)) {
			__builtin_trap();
		}
		free(a);
		free(b);
		esl_event_destroy(&e2);
	}
	if (e) {
		check_event(e);
		if (esl_event_serialize(e, &s, ESL_TRUE) != ESL_SUCCESS || !s) {
			__builtin_trap();
		}
		free(s);
		s = NULL;
		if (esl_event_serialize(e, &s, ESL_FALSE) != ESL_SUCCESS || !s) {
			__builtin_trap();
		}
		free(s);
		s = NULL;
		if (esl_event_serialize_json(e, &s) != ESL_SUCCESS || !s) {
			__builtin_trap();
		}
		esl_event_create_json(&e2, s);
		if (!e2) {
			/* our own output must be valid JSON */
			__builtin_trap();
		}
		check_event(e2);
		/* printing twice gives the same text */
		if (esl_event_serialize_json(e, &s2) != ESL_SUCCESS || strcmp(s, s2)) {
			__builtin_trap();
		}
		if (esl_event_dup(&d, e) != ESL_SUCCESS) {
			__builtin_trap();
		}
		check_event(d);
		esl_event_merge(d, e);
		check_event(d);
		esl_event_destroy(&d);
		esl_event_destroy(&e2);
		esl_event_destroy(&e);
		free(s);
		free(s2);
	}
	free(text);
	return 0;
}
