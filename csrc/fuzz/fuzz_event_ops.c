/*
 * fuzz_event_ops.c: libFuzzer harness for header operations on an event.
 *
 * The input is decoded into a sequence of operations (add with each stack mode, names with
 * an [index], delete, delete by value, add_array, priority, body) on names and values meant
 * to collide. The adds and deletes are applied twice: through the public API, which works
 * on the header list, and through the bulk builder (esl_event_build_*), which keeps an
 * index; both must give the same event. The rest is applied to the result, which must stay
 * well formed after every step (list, last_header, arrays), serialize both ways, read back
 * from its own JSON, survive dup and merge, and leak nothing.
 *
 * Input layout: byte 0 picks the event type and subclass, then per operation one kind byte
 * followed by a name and a value, each either an index into a pool (a byte below 0xC0) or
 * free text (0xC0 + length, then that many bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "esl.h"
#include "esl_event_internal.h"

static void check(int ok)
{
	if (!ok) {
		__builtin_trap();
	}
}

static const char *NAMES[] = { "A", "a", "B", "Event-Name", "priority", "_body", "Arr", "arr[0]", "Arr[2]",
							   "Arr[4001]", "X[1]", "Content-Length", "Event-Subclass", "Arr[-1]", "[3]", "Arr[]" };
static const char *VALUES[] = { "v", "", "ARRAY::x|:y", "ARRAY::", "ARRAY::z", "pre ARRAY::a|:b", "ARRAY::|:q",
								"sp ace", "a&b=c%", "\"q\"\\", "tab\tnl\n", "ctl\x01\x7f\xff", "ARRAY::ARRAY::r|:s",
								"CHANNEL_ANSWER", "ARRAY::|:|:", "%41%zz" };

typedef struct {
	const uint8_t *p;
	size_t n;
	char buf[2][64];
	int which;
} reader_t;

static const char *take_str(reader_t *r, const char **pool, size_t npool)
{
	uint8_t b;
	size_t len;
	char *out;

	if (!r->n) {
		return pool[0];
	}
	b = *r->p++;
	r->n--;
	if (b < 0xC0) {
		return pool[b % npool];
	}
	len = (size_t) (b - 0xC0);
	if (len > r->n) {
		len = r->n;
	}
	out = r->buf[r->which];
	r->which ^= 1;
	memcpy(out, r->p, len);
	out[len] = '\0';
	r->p += len;
	r->n -= len;
	return out;
}

static void check_event(esl_event_t *e)
{
	esl_event_header_t *h, *last = NULL;
	int i;

	for (h = e->headers; h; h = h->next) {
		check(h->name && h->value && (h->idx > 0) == (h->array != NULL));
		for (i = 0; i < h->idx; i++) {
			check(h->array[i] != NULL);
		}
		check(esl_event_get_header_ptr(e, h->name) != NULL);
		last = h;
	}
	check(last == e->last_header);
}

static int same_headers(esl_event_t *a, esl_event_t *b)
{
	esl_event_header_t *x, *y;

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
	return !x && !y && a->event_id == b->event_id;
}

static char *ser(esl_event_t *e, int json)
{
	char *s = NULL;

	if (json) {
		check(esl_event_serialize_json(e, &s) == ESL_SUCCESS && s);
	} else {
		check(esl_event_serialize(e, &s, ESL_TRUE) == ESL_SUCCESS && s);
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const esl_event_types_t types[] = { ESL_EVENT_CUSTOM, ESL_EVENT_CLONE, ESL_EVENT_CHANNEL_CREATE,
											   ESL_EVENT_MESSAGE };
	esl_event_t *api = NULL, *built = NULL, *back = NULL, *d = NULL;
	esl_event_builder_t *b;
	reader_t r = { 0 };
	uint8_t sel;
	size_t phase_end;
	char *s1, *s2;
	int nops = 0;

	if (size < 1) {
		return 0;
	}
	sel = data[0];
	r.p = data + 1;
	r.n = size - 1;
	{
		const char *sub = (sel & 4) && types[sel % 4] <= ESL_EVENT_CLONE ? "s::t" : NULL;
		/* two events made the same way (esl_event_dup would put Event-Subclass first) */
		check(esl_event_create_subclass(&api, types[sel % 4], sub) == ESL_SUCCESS);
		check(esl_event_create_subclass(&built, types[sel % 4], sub) == ESL_SUCCESS);
	}

	/* phase 1: adds and deletes, list against index; the first half of the input */
	phase_end = r.n / 2;
	b = esl_event_build_begin(built);
	while (r.n > phase_end && nops++ < 256) {
		uint8_t kind = *r.p++;
		const char *name, *value;

		r.n--;
		name = take_str(&r, NAMES, sizeof(NAMES) / sizeof(NAMES[0]));
		/* the name lives in a rotating buffer; keep a copy across the value's read */
		{
			char nbuf[64];
			snprintf(nbuf, sizeof(nbuf), "%s", name);
			value = take_str(&r, VALUES, sizeof(VALUES) / sizeof(VALUES[0]));
			if (kind % 5 == 4) {
				esl_event_del_header(api, nbuf);
				esl_event_build_del(built, b, nbuf);
			} else {
				esl_stack_t st = (esl_stack_t) (kind % 4);
				esl_status_t s_api = esl_event_add_header_string(api, st, nbuf, value);
				esl_status_t s_b = esl_event_build_add(built, b, st, nbuf, value, strlen(value));
				check(s_api == s_b);
			}
		}
	}
	esl_event_build_end(built, b);
	check_event(api);
	check_event(built);
	check(same_headers(api, built));
	s1 = ser(api, 0);
	s2 = ser(built, 0);
	check(!strcmp(s1, s2));
	free(s1);
	free(s2);
	esl_event_destroy(&built);

	/* phase 2: everything else on the API event */
	while (r.n && nops++ < 512) {
		uint8_t kind = *r.p++;
		const char *name, *value;
		char nbuf[64];

		r.n--;
		name = take_str(&r, NAMES, sizeof(NAMES) / sizeof(NAMES[0]));
		snprintf(nbuf, sizeof(nbuf), "%s", name);
		value = take_str(&r, VALUES, sizeof(VALUES) / sizeof(VALUES[0]));
		switch (kind % 8) {
		case 0:
		case 1:
			esl_event_add_header_string(api, (esl_stack_t) (kind % 4), nbuf, value);
			break;
		case 2:
			esl_event_add_array(api, nbuf, value);
			break;
		case 3:
			esl_event_del_header_val(api, nbuf, value);
			break;
		case 4:
			esl_event_set_priority(api, (esl_priority_t) (kind % 3));
			break;
		case 5:
			esl_event_set_body(api, value);
			break;
		case 6:
			esl_event_add_body(api, "%s", value);
			break;
		default:
			esl_event_del_header(api, nbuf);
			break;
		}
		check_event(api);
		/* a value is found only for a header that exists ("_body" falls back to the body) */
		check(esl_event_get_header_idx(api, nbuf, (int) (kind % 5) - 1) == NULL ||
			  esl_event_get_header_ptr(api, nbuf) != NULL || !strcasecmp(nbuf, "_body"));
	}

	/* serializations, its own JSON, dup and merge */
	s1 = ser(api, 1);
	check(esl_event_create_json(&back, s1) == ESL_SUCCESS && back);
	check_event(back);
	free(ser(back, 0));
	s2 = ser(api, 1);
	check(!strcmp(s1, s2));
	free(s1);
	free(s2);
	free(ser(api, 0));
	check(esl_event_dup(&d, api) == ESL_SUCCESS);
	check_event(d);
	/* (dup pushes array elements again, so an array whose first element is empty comes out
	 * shorter, as in libesl: only well-formedness is checked) */
	esl_event_merge(d, back);
	check_event(d);
	esl_event_destroy(&d);
	esl_event_destroy(&back);
	esl_event_destroy(&api);
	return 0;
}
