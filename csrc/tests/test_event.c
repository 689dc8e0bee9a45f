/*
 * test_event.c: unit tests of the event API (esl_event.h), plain and JSON forms included.
 */
#include <stdint.h>
#include <stdlib.h>

#include "esl.h"
#include "esl_event_private.h"
#include "eslt.h"

/* ------------------------------------------------------------------------------------------ */
/* helpers */

static char *ser(esl_event_t *e, int encode)
{
	char *s = NULL;

	CHECK_INT(esl_event_serialize(e, &s, encode ? ESL_TRUE : ESL_FALSE), ESL_SUCCESS);
	return s;
}

static char *ser_json(esl_event_t *e)
{
	char *s = NULL;

	CHECK_INT(esl_event_serialize_json(e, &s), ESL_SUCCESS);
	return s;
}

static void check_ser(esl_event_t *e, int encode, const char *want)
{
	char *s = ser(e, encode);

	CHECK_STR(s, want);
	free(s);
}

static void check_json(esl_event_t *e, const char *want)
{
	char *s = ser_json(e);

	CHECK_STR(s, want);
	free(s);
}

static int count_headers(esl_event_t *e)
{
	int n = 0;
	esl_event_header_t *h;

	for (h = e->headers; h; h = h->next) {
		n++;
	}
	return n;
}

/* The list is well formed: last_header is the tail. */
static int list_ok(esl_event_t *e)
{
	esl_event_header_t *h, *last = NULL;

	for (h = e->headers; h; h = h->next) {
		last = h;
	}
	return last == e->last_header;
}

static unsigned long ref_hash(const char *s)
{
	unsigned int h = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		h = h * 33 + (unsigned int) ((c >= 'A' && c <= 'Z') ? c + 32 : c);
	}
	return h;
}

/* What the value of an array header must read. */
static char *expected_render(esl_event_header_t *h)
{
	size_t len = 8, l;
	int i;
	char *s, *w;

	for (i = 0; i < h->idx; i++) {
		len += strlen(h->array[i]) + 2;
	}
	w = s = malloc(len);
	if (h->idx > 1) {
		memcpy(w, "ARRAY::", 7);
		w += 7;
	}
	for (i = 0; i < h->idx; i++) {
		if (i) {
			*w++ = '|';
			*w++ = ':';
		}
		l = strlen(h->array[i]);
		memcpy(w, h->array[i], l);
		w += l;
	}
	*w = '\0';
	return s;
}

static int values_rendered(esl_event_t *e)
{
	esl_event_header_t *h;
	int ok = 1;

	for (h = e->headers; h; h = h->next) {
		if (h->idx > 0) {
			char *r = expected_render(h);

			if (strcmp(r, h->value)) {
				ok = 0;
			}
			free(r);
		}
	}
	return ok;
}

/* Same header list (names, values, elements), event id and body. */
static int same_event(esl_event_t *a, esl_event_t *b, int compare_values)
{
	esl_event_header_t *x = a->headers, *y = b->headers;
	int i;

	for (; x && y; x = x->next, y = y->next) {
		if (strcmp(x->name, y->name) || x->idx != y->idx) {
			return 0;
		}
		if (compare_values && strcmp(x->value, y->value)) {
			return 0;
		}
		for (i = 0; i < x->idx; i++) {
			if (strcmp(x->array[i], y->array[i])) {
				return 0;
			}
		}
	}
	if (x || y) {
		return 0;
	}
	if ((a->body == NULL) != (b->body == NULL) || (a->body && strcmp(a->body, b->body))) {
		return 0;
	}
	return a->event_id == b->event_id;
}

/* A reader of the plain form for round trips: "Name: value" lines, values URL-decoded when
 * asked, ARRAY:: values as arrays, then the body after the empty line per Content-Length. */
static esl_event_t *parse_plain(const char *text, int decode)
{
	esl_event_t *e = NULL;
	const char *p = text;
	long clen = -1;

	esl_event_create(&e, ESL_EVENT_CLONE);
	while (*p && *p != '\n') {
		const char *nl = strchr(p, '\n'), *colon = strchr(p, ':');
		char *name, *val;

		if (!nl || !colon || colon > nl) {
			break;
		}
		name = strndup(p, (size_t) (colon - p));
		colon += 2;
		val = strndup(colon, (size_t) (nl - colon));
		if (decode) {
			esl_url_decode(val);
		}
		if (!strcmp(name, "Content-Length")) {
			clen = atol(val);
		} else if (!strncmp(val, "ARRAY::", 7)) {
			esl_event_add_array(e, name, val);
		} else {
			esl_event_add_header_string(e, ESL_STACK_BOTTOM, name, val);
		}
		free(name);
		free(val);
		p = nl + 1;
	}
	if (*p == '\n' && clen >= 0) {
		esl_event_set_body(e, p + 1);
		CHECK_INT(strlen(p + 1), clen);
	}
	return e;
}

/* ------------------------------------------------------------------------------------------ */

static void test_names(void)
{
	esl_event_types_t t;
	int i;

	CHECK_STR(esl_event_name(ESL_EVENT_CUSTOM), "CUSTOM");
	CHECK_STR(esl_event_name(ESL_EVENT_CLONE), "CLONE");
	CHECK_STR(esl_event_name(ESL_EVENT_CHANNEL_CREATE), "CHANNEL_CREATE");
	CHECK_STR(esl_event_name(ESL_EVENT_BACKGROUND_JOB), "BACKGROUND_JOB");
	CHECK_STR(esl_event_name(ESL_EVENT_DETECTED_SPEECH), "DETECTED_SPEECH");
	CHECK_STR(esl_event_name(ESL_EVENT_SOCKET_DATA), "SOCKET_DATA");
	CHECK_STR(esl_event_name(ESL_EVENT_SHUTDOWN_REQUESTED), "SHUTDOWN_REQUESTED");
	CHECK_STR(esl_event_name(ESL_EVENT_ALL), "ALL");
	CHECK_INT(ESL_EVENT_ALL, 92);
	CHECK_INT(ESL_EVENT_SOCKET_DATA, 81);
	CHECK_INT(ESL_EVENT_BACKGROUND_JOB, 46);
	CHECK(esl_event_name((esl_event_types_t) 93) == NULL);

	/* every name maps back to its id */
	for (i = 0; i <= ESL_EVENT_ALL; i++) {
		t = ESL_EVENT_ALL;
		CHECK(esl_name_event(esl_event_name((esl_event_types_t) i), &t) == ESL_SUCCESS && (int) t == i);
	}
	/* and after the SWITCH_EVENT_ prefix (the 13-character rule), in any case */
	for (i = 0; i <= ESL_EVENT_ALL; i++) {
		char buf[64];
		size_t k;

		snprintf(buf, sizeof(buf), "SWITCH_EVENT_%s", esl_event_name((esl_event_types_t) i));
		for (k = 0; buf[k]; k++) {
			buf[k] = (char) ((k & 1) ? tolower((unsigned char) buf[k]) : buf[k]);
		}
		t = ESL_EVENT_ALL;
		CHECK(esl_name_event(buf, &t) == ESL_SUCCESS && (int) t == i);
	}
	CHECK_INT(esl_name_event("channel_answer", &t), ESL_SUCCESS);
	CHECK_INT(t, ESL_EVENT_CHANNEL_ANSWER);
	CHECK_INT(esl_name_event("SWITCH_EVENT_CHANNEL_HANGUP", &t), ESL_SUCCESS);
	CHECK_INT(t, ESL_EVENT_CHANNEL_HANGUP);
	/* any 13-character prefix works */
	CHECK_INT(esl_name_event("xxxxxxxxxxxxxheartbeat", &t), ESL_SUCCESS);
	CHECK_INT(t, ESL_EVENT_HEARTBEAT);
	/* a name of exactly 13 characters is only compared whole */
	t = ESL_EVENT_TRAP;
	CHECK_INT(esl_name_event("SWITCH_EVENT_", &t), ESL_FAIL);
	CHECK_INT(t, ESL_EVENT_TRAP);
	CHECK_INT(esl_name_event("CERT_RELOAD", &t), ESL_FAIL);
	CHECK_INT(t, ESL_EVENT_TRAP);
	CHECK_INT(esl_name_event("", &t), ESL_FAIL);
	CHECK_INT(esl_name_event(NULL, &t), ESL_FAIL);
	/* the first match in id order wins: "API" vs names ending in ...API after 13 chars */
	CHECK_INT(esl_name_event("0123456789abcAPI", &t), ESL_SUCCESS);
	CHECK_INT(t, ESL_EVENT_API);

	CHECK_STR(esl_priority_name(ESL_PRIORITY_NORMAL), "NORMAL");
	CHECK_STR(esl_priority_name(ESL_PRIORITY_LOW), "LOW");
	CHECK_STR(esl_priority_name(ESL_PRIORITY_HIGH), "HIGH");
	CHECK_STR(esl_priority_name((esl_priority_t) 7), "INVALID");
}

static void test_create(void)
{
	esl_event_t *e = (esl_event_t *) (uintptr_t) 1;

	CHECK_INT(esl_event_create(&e, ESL_EVENT_CHANNEL_CREATE), ESL_SUCCESS);
	CHECK(e != NULL);
	CHECK_INT(e->event_id, ESL_EVENT_CHANNEL_CREATE);
	CHECK_STR(esl_event_get_header(e, "Event-Name"), "CHANNEL_CREATE");
	CHECK_INT(count_headers(e), 1);
	CHECK(e->subclass_name == NULL && e->body == NULL && e->flags == 0 && e->priority == ESL_PRIORITY_NORMAL);
	CHECK(e->headers->hash == ref_hash("Event-Name"));
	CHECK(e->headers->idx == 0 && e->headers->array == NULL);
	check_ser(e, 0, "Event-Name: CHANNEL_CREATE\n\n");
	esl_event_destroy(&e);
	CHECK(e == NULL);
	esl_event_destroy(&e);
	esl_event_destroy(NULL);

	CHECK_INT(esl_event_create_subclass(&e, ESL_EVENT_CUSTOM, "my::sub"), ESL_SUCCESS);
	CHECK_STR(e->subclass_name, "my::sub");
	check_ser(e, 0, "Event-Name: CUSTOM\nEvent-Subclass: my::sub\n\n");
	esl_event_destroy(&e);

	/* a CLONE keeps id 0 and has no Event-Name */
	CHECK_INT(esl_event_create_subclass(&e, ESL_EVENT_CLONE, "c::s"), ESL_SUCCESS);
	CHECK_INT(e->event_id, ESL_EVENT_CUSTOM);
	check_ser(e, 0, "Event-Subclass: c::s\n\n");
	esl_event_destroy(&e);
	CHECK_INT(esl_event_create(&e, ESL_EVENT_CLONE), ESL_SUCCESS);
	CHECK(e->headers == NULL && e->last_header == NULL);
	check_ser(e, 0, "\n");
	check_json(e, "{\n}");
	esl_event_destroy(&e);

	/* a subclass needs CUSTOM or CLONE */
	e = (esl_event_t *) (uintptr_t) 1;
	CHECK_INT(esl_event_create_subclass(&e, ESL_EVENT_API, "x"), ESL_FAIL);
	CHECK(e == NULL);
	CHECK_INT(esl_event_create_subclass(&e, (esl_event_types_t) 500, NULL), ESL_FAIL);
	CHECK_INT(esl_event_create_subclass(NULL, ESL_EVENT_API, NULL), ESL_FAIL);

	/* an empty subclass is stored, but its header is not added (empty values delete) */
	CHECK_INT(esl_event_create_subclass(&e, ESL_EVENT_CUSTOM, ""), ESL_SUCCESS);
	CHECK_STR(e->subclass_name, "");
	CHECK(esl_event_get_header(e, "Event-Subclass") == NULL);
	esl_event_destroy(&e);
}

/* The verified example of the header insertion section, byte for byte. */
static void test_worked_example(void)
{
	esl_event_t *e = NULL;
	char *s;

	esl_event_create(&e, ESL_EVENT_CUSTOM);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "A", "1"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_TOP, "A", "2"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_TOP, "B", "3"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_UNSHIFT, "C", "x"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_UNSHIFT, "C", "y"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_PUSH, "D", "p"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_PUSH, "D", "q"), ESL_SUCCESS);
	CHECK_INT(esl_event_set_priority(e, ESL_PRIORITY_HIGH), ESL_SUCCESS);
	CHECK_INT(e->priority, ESL_PRIORITY_HIGH);

	check_ser(e, 0,
			  "priority: HIGH\n"
			  "C: ARRAY::x|:y\n"
			  "B: 3\n"
			  "Event-Name: CUSTOM\n"
			  "A: 2\n"
			  "D: ARRAY::p|:q\n"
			  "\n");
	check_ser(e, 1,
			  "priority: HIGH\n"
			  "C: ARRAY%3A%3Ax%7C%3Ay\n"
			  "B: 3\n"
			  "Event-Name: CUSTOM\n"
			  "A: 2\n"
			  "D: ARRAY%3A%3Ap%7C%3Aq\n"
			  "\n");
	check_json(e,
			   "{\n"
			   "\t\"priority\":\t[\"HIGH\"],\n"
			   "\t\"C\":\t[\"x\", \"y\"],\n"
			   "\t\"B\":\t[\"3\"],\n"
			   "\t\"Event-Name\":\t\"CUSTOM\",\n"
			   "\t\"A\":\t\"2\",\n"
			   "\t\"D\":\t[\"p\", \"q\"]\n"
			   "}");

	/* TOP created one-element arrays */
	CHECK_STR(esl_event_get_header_idx(e, "B", 0), "3");
	CHECK_STR(esl_event_get_header_idx(e, "priority", 0), "HIGH");
	CHECK(esl_event_get_header_idx(e, "A", 0) == NULL);
	CHECK_STR(esl_event_get_header_idx(e, "c", 1), "y");
	CHECK(esl_event_get_header_idx(e, "C", 2) == NULL);
	CHECK(list_ok(e));
	CHECK(values_rendered(e));

	/* a second set_priority overwrites the value in place; the element stays (libesl) */
	esl_event_set_priority(e, ESL_PRIORITY_LOW);
	CHECK_STR(esl_event_get_header(e, "priority"), "LOW");
	CHECK_STR(esl_event_get_header_idx(e, "priority", 0), "HIGH");
	CHECK_INT(count_headers(e), 6);
	s = ser(e, 0);
	CHECK(!strncmp(s, "priority: LOW\nC: ", 17));
	free(s);
	s = ser_json(e);
	CHECK(!strncmp(s, "{\n\t\"priority\":\t[\"HIGH\"],", 24));
	free(s);
	/* a push after the overwrite renders from the elements again */
	esl_event_add_header_string(e, ESL_STACK_PUSH, "priority", "X");
	CHECK_STR(esl_event_get_header(e, "priority"), "ARRAY::HIGH|:X");
	esl_event_destroy(&e);
}

static void test_add_paths(void)
{
	esl_event_t *e = NULL;
	esl_event_header_t *h;
	char big[64];

	esl_event_create(&e, ESL_EVENT_CLONE);

	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "X", NULL), ESL_FAIL);
	CHECK_INT(esl_event_add_header_string(NULL, ESL_STACK_BOTTOM, "X", "v"), ESL_FAIL);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, NULL, "v"), ESL_FAIL);
	CHECK_INT(esl_event_add_header(e, ESL_STACK_BOTTOM, "Fmt", "%d-%s", 42, "x"), ESL_SUCCESS);
	CHECK_STR(esl_event_get_header(e, "fmt"), "42-x");
	CHECK_INT(esl_event_add_header(e, ESL_STACK_BOTTOM, "Pct", "%s", "100%"), ESL_SUCCESS);
	CHECK_STR(esl_event_get_header(e, "Pct"), "100%");

	/* BOTTOM keeps duplicates; lookups find the first */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Dup", "1");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "dup", "2");
	CHECK_STR(esl_event_get_header(e, "DUP"), "1");
	CHECK_INT(count_headers(e), 4);

	/* PUSH on a scalar: it becomes [old, new] and keeps its place */
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Fmt", "more");
	h = esl_event_get_header_ptr(e, "Fmt");
	CHECK(h == e->headers);
	CHECK_INT(h->idx, 2);
	CHECK_STR(h->value, "ARRAY::42-x|:more");
	CHECK_STR(h->array[0], "42-x");

	/* UNSHIFT on an existing header appends */
	esl_event_add_header_string(e, ESL_STACK_UNSHIFT, "Fmt", "last");
	CHECK_STR(esl_event_get_header(e, "Fmt"), "ARRAY::42-x|:more|:last");

	/* UNSHIFT on a missing header prepends a one-element array */
	esl_event_add_header_string(e, ESL_STACK_UNSHIFT, "First", "f");
	CHECK(e->headers == esl_event_get_header_ptr(e, "First"));
	CHECK_INT(e->headers->idx, 1);
	CHECK_STR(e->headers->value, "f");
	CHECK(e->headers->array[0] != e->headers->value);

	/* PUSH on a missing header appends a one-element array */
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Tail", "t");
	CHECK(e->last_header == esl_event_get_header_ptr(e, "Tail"));
	CHECK_INT(e->last_header->idx, 1);

	/* TOP on an existing scalar overwrites in place */
	esl_event_add_header_string(e, ESL_STACK_TOP, "dup", "one");
	CHECK_STR(esl_event_get_header(e, "Dup"), "one");
	CHECK_INT(count_headers(e), 6);
	CHECK(list_ok(e));

	/* an empty value deletes every header of that name and adds nothing */
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "DUP", ""), ESL_SUCCESS);
	CHECK(esl_event_get_header(e, "Dup") == NULL);
	CHECK_INT(count_headers(e), 4);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_TOP, "Tail", ""), ESL_SUCCESS);
	/* ...but not on an existing header for TOP/PUSH: TOP overwrote Tail with "" */
	CHECK_STR(esl_event_get_header(e, "Tail"), "");
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_PUSH, "Tail", ""), ESL_SUCCESS);
	CHECK_INT(esl_event_get_header_ptr(e, "Tail")->idx, 2);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Tail", ""), ESL_SUCCESS);
	CHECK(esl_event_get_header_ptr(e, "Tail") == NULL);
	CHECK(list_ok(e));

	/* _body sets the body and adds a header too */
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "_body", "the body"), ESL_SUCCESS);
	CHECK_STR(e->body, "the body");
	CHECK_STR(esl_event_get_header(e, "_body"), "the body");
	/* only the exact name */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "_Body", "other");
	CHECK_STR(e->body, "the body");
	esl_event_destroy(&e);

	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "_body", "b");
	check_json(e, "{\n\t\"_body\":\t\"b\",\n\t\"Content-Length\":\t\"1\",\n\t\"_body\":\t\"b\"\n}");
	check_ser(e, 0, "_body: b\nContent-Length: 1\n\nb");
	/* the body through get_header when no header has the name */
	esl_event_del_header(e, "_body");
	CHECK_STR(esl_event_get_header(e, "_body"), "b");
	CHECK(esl_event_get_header(e, "_BODY") == NULL);
	CHECK_STR(esl_event_get_body(e), "b");
	CHECK(esl_event_get_body(NULL) == NULL);
	CHECK(esl_event_get_header(NULL, "x") == NULL);
	CHECK(esl_event_get_header(e, NULL) == NULL);
	CHECK(esl_event_get_header_ptr(e, NULL) == NULL);
	esl_event_destroy(&e);

	/* a long value through the format path */
	esl_event_create(&e, ESL_EVENT_CLONE);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	esl_event_add_header(e, ESL_STACK_BOTTOM, "Big", "%s%s", big, big);
	CHECK_INT(strlen(esl_event_get_header(e, "Big")), 2 * (sizeof(big) - 1));
	esl_event_destroy(&e);
}

static void test_array_values(void)
{
	esl_event_t *e = NULL;
	esl_event_header_t *h;

	esl_event_create(&e, ESL_EVENT_CLONE);

	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Arr", "ARRAY::a|:b|:c");
	h = esl_event_get_header_ptr(e, "Arr");
	CHECK_INT(h->idx, 3);
	CHECK_STR(h->value, "ARRAY::a|:b|:c");
	CHECK_STR(h->array[2], "c");

	/* ARRAY:: anywhere: the first 7 characters of the whole value are dropped */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Pre", "pre ARRAY::a|:b");
	h = esl_event_get_header_ptr(e, "Pre");
	CHECK_INT(h->idx, 2);
	CHECK_STR(h->array[0], "AY::a");
	CHECK_STR(h->array[1], "b");
	CHECK_STR(h->value, "ARRAY::AY::a|:b");

	/* too short: nothing is added, still success */
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Short", "ARRAY::"), ESL_SUCCESS);
	CHECK(esl_event_get_header_ptr(e, "Short") == NULL);

	/* an empty first piece deletes instead of adding; the rest follow */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "E1", "ARRAY::|:x");
	h = esl_event_get_header_ptr(e, "E1");
	CHECK(h && h->idx == 1 && !strcmp(h->value, "x"));
	/* a trailing separator gives an empty last element */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "E2", "ARRAY::x|:");
	h = esl_event_get_header_ptr(e, "E2");
	CHECK(h && h->idx == 2 && !strcmp(h->array[1], "") && !strcmp(h->value, "ARRAY::x|:"));

	/* a single piece that again contains ARRAY:: loses 7 more characters */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "N1", "ARRAY::ARRAY::inner");
	h = esl_event_get_header_ptr(e, "N1");
	CHECK(h && h->idx == 1 && !strcmp(h->value, "inner"));
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "N2", "ARRAY::ARRAY::");
	CHECK(esl_event_get_header_ptr(e, "N2") == NULL);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "N3", "ARRAY::xARRAY::yz");
	h = esl_event_get_header_ptr(e, "N3");
	CHECK(h && h->idx == 1 && !strcmp(h->value, ":yz"));

	/* the pieces are pushed: BOTTOM with ARRAY:: joins an existing header */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Arr", "ARRAY::d|:e");
	CHECK_STR(esl_event_get_header(e, "Arr"), "ARRAY::a|:b|:c|:d|:e");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Arr", "ARRAY::f");
	CHECK_STR(esl_event_get_header(e, "Arr"), "ARRAY::a|:b|:c|:d|:e|:f");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Pre", "ARRAY::ARRAY::q");
	CHECK_STR(esl_event_get_header(e, "Pre"), "ARRAY::AY::a|:b|:ARRAY::q");

	/* PUSH / TOP of an ARRAY:: value on an existing header store it as it is */
	esl_event_add_header_string(e, ESL_STACK_PUSH, "E1", "ARRAY::1|:2");
	CHECK_STR(esl_event_get_header(e, "E1"), "ARRAY::x|:ARRAY::1|:2");
	CHECK_INT(esl_event_get_header_ptr(e, "E1")->idx, 2);

	/* esl_event_add_array itself */
	CHECK_INT(esl_event_add_array(e, "AA", "ARRAY::"), -1);
	CHECK_INT(esl_event_add_array(e, "AA", "short"), -1);
	CHECK_INT(esl_event_add_array(e, "AA", "XXXXXXXp|:q"), 0);
	CHECK_STR(esl_event_get_header(e, "AA"), "ARRAY::p|:q");
	/* its value may be the header's own value */
	CHECK_INT(esl_event_add_array(e, "AA", esl_event_get_header(e, "AA")), 0);
	CHECK_STR(esl_event_get_header(e, "AA"), "ARRAY::p|:q|:p|:q");
	CHECK(values_rendered(e));
	CHECK(list_ok(e));

	/* a piece is pushed under "_body": the body follows the last one */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "_body", "ARRAY::b1|:b2|:b3");
	CHECK_STR(e->body, "b3");
	CHECK_STR(esl_event_get_header(e, "_body"), "ARRAY::b1|:b2|:b3");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "_body", "ARRAY::ARRAY::zz");
	CHECK_STR(e->body, "ARRAY::zz");
	CHECK_STR(esl_event_get_header(e, "_body"), "ARRAY::b1|:b2|:b3|:ARRAY::zz");
	esl_event_destroy(&e);

	/* a value that is a long chain of ARRAY:: costs linear time */
	{
		size_t n = 200000, i;
		char *v = malloc(n * 7 + 3);
		double t0;

		for (i = 0; i < n; i++) {
			memcpy(v + i * 7, "ARRAY::", 7);
		}
		strcpy(v + n * 7, "ok");
		esl_event_create(&e, ESL_EVENT_CLONE);
		t0 = eslt_now();
		esl_event_add_header_string(e, ESL_STACK_BOTTOM, "_body", v);
		CHECK(eslt_now() - t0 < 5.0);
		CHECK_STR(esl_event_get_header(e, "_body"), "ok");
		CHECK_STR(e->body, "ok");
		esl_event_destroy(&e);
		free(v);
	}
}

static void test_indexed(void)
{
	esl_event_t *e = NULL;
	esl_event_header_t *h;

	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "first", "1");

	/* a missing header is created and padded with empty elements */
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "arr[2]", "c"), ESL_SUCCESS);
	h = esl_event_get_header_ptr(e, "arr");
	CHECK(h && h == e->last_header);
	CHECK_INT(h->idx, 3);
	CHECK_STR(h->value, "ARRAY::|:|:c");
	CHECK_STR(h->array[0], "");
	CHECK(esl_event_get_header_ptr(e, "arr[2]") == NULL);

	/* below the count: replaced, and the rendered value goes stale */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "arr[0]", "a");
	CHECK_STR(h->array[0], "a");
	CHECK_STR(h->value, "ARRAY::|:|:c");
	check_ser(e, 0, "first: 1\narr: ARRAY::|:|:c\n\n");
	check_json(e, "{\n\t\"first\":\t\"1\",\n\t\"arr\":\t[\"a\", \"\", \"c\"]\n}");

	/* at or past the count: extended and redrawn (the stale value is gone) */
	esl_event_add_header_string(e, ESL_STACK_PUSH, "ARR[4]", "e");
	CHECK_INT(h->idx, 5);
	CHECK_STR(h->value, "ARRAY::a|:|:c|:|:e");
	/* a push after a stale replace renders from the elements */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "arr[1]", "b");
	CHECK_STR(h->value, "ARRAY::a|:|:c|:|:e");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "arr", "f");
	CHECK_STR(h->value, "ARRAY::a|:b|:c|:|:e|:f");

	/* out of range or negative: nothing happens, success anyway */
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "arr[4001]", "x"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "arr[-1]", "x"), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "new[99999999999999999999]", "x"), ESL_SUCCESS);
	CHECK(esl_event_get_header_ptr(e, "new") == NULL);
	CHECK_INT(h->idx, 6);

	/* N = 4000 is allowed */
	CHECK_INT(esl_event_add_header_string(e, ESL_STACK_BOTTOM, "wide[4000]", "w"), ESL_SUCCESS);
	h = esl_event_get_header_ptr(e, "wide");
	CHECK_INT(h->idx, 4001);
	CHECK_INT(strlen(h->value), 7 + 2 * 4000 + 1);

	/* on a scalar: the old value is dropped, not kept as element 0 */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "first[1]", "x");
	h = esl_event_get_header_ptr(e, "first");
	CHECK_INT(h->idx, 2);
	CHECK_STR(h->value, "ARRAY::|:x");
	CHECK(h == e->headers);

	/* index 0 of a new header: a one-element array; TOP/UNSHIFT place it first */
	esl_event_add_header_string(e, ESL_STACK_TOP, "top[0]", "t");
	CHECK(e->headers == esl_event_get_header_ptr(e, "top"));
	CHECK_INT(e->headers->idx, 1);
	CHECK_STR(e->headers->value, "t");
	/* no digits reads as 0, like atoi */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "top[]", "u");
	CHECK_STR(esl_event_get_header_idx(e, "top", 0), "u");
	CHECK_STR(esl_event_get_header(e, "top"), "t");
	/* an empty value is stored as an element, nothing is deleted */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "top[1]", "");
	CHECK_INT(esl_event_get_header_ptr(e, "top")->idx, 2);
	/* the indexed form does not look inside ARRAY:: values */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "lit[0]", "ARRAY::a|:b");
	CHECK_INT(esl_event_get_header_ptr(e, "lit")->idx, 1);
	CHECK_STR(esl_event_get_header(e, "lit"), "ARRAY::a|:b");
	CHECK(list_ok(e));
	esl_event_destroy(&e);

	/* a one-element indexed header with an empty element serializes as _undef_ */
	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "u[0]", "");
	check_ser(e, 0, "u: _undef_\n\n");
	check_ser(e, 1, "u: _undef_\n\n");
	check_json(e, "{\n\t\"u\":\t[\"\"]\n}");
	esl_event_destroy(&e);
}

static void test_uniq(void)
{
	esl_event_t *e = NULL;

	esl_event_create(&e, ESL_EVENT_CLONE);
	e->flags |= ESL_EF_UNIQ_HEADERS;
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "A", "1");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "B", "x");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "a", "2");
	check_ser(e, 0, "B: x\na: 2\n\n");
	/* PUSH and TOP on an existing name keep it */
	esl_event_add_header_string(e, ESL_STACK_PUSH, "A", "3");
	esl_event_add_header_string(e, ESL_STACK_TOP, "B", "y");
	check_ser(e, 0, "B: y\na: ARRAY::2|:3\n\n");
	/* an ARRAY:: value replaces the old header */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "B", "ARRAY::m|:n");
	check_ser(e, 0, "a: ARRAY::2|:3\nB: ARRAY::m|:n\n\n");
	/* the name may point into the header being replaced */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, e->headers->name, "z");
	check_ser(e, 0, "B: ARRAY::m|:n\na: z\n\n");
	/* the value too */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "a", e->last_header->value);
	check_ser(e, 0, "B: ARRAY::m|:n\na: z\n\n");
	CHECK(list_ok(e));
	esl_event_destroy(&e);
}

static void test_del(void)
{
	esl_event_t *e = NULL;

	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "K", "1");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "M", "m");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "k", "2");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "K", "1");

	/* returns success whether or not something was removed */
	CHECK_INT(esl_event_del_header(e, "nothing"), ESL_SUCCESS);
	CHECK_INT(esl_event_del_header(NULL, "x"), ESL_SUCCESS);
	CHECK_INT(esl_event_del_header(e, NULL), ESL_SUCCESS);
	CHECK_INT(count_headers(e), 4);

	/* with a value: only matching values (case-sensitive) */
	CHECK_INT(esl_event_del_header_val(e, "K", "1"), ESL_SUCCESS);
	check_ser(e, 0, "M: m\nk: 2\n\n");
	CHECK(list_ok(e));
	esl_event_del_header_val(e, "K", "X");
	CHECK_INT(count_headers(e), 2);
	/* an empty value means any value */
	esl_event_del_header_val(e, "K", "");
	check_ser(e, 0, "M: m\n\n");
	CHECK(e->last_header == e->headers);
	esl_event_del_header(e, "m");
	CHECK(e->headers == NULL && e->last_header == NULL);

	/* the name may be the name of a header being removed */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Z", "1");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "z", "2");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Y", "3");
	esl_event_del_header(e, e->headers->name);
	check_ser(e, 0, "Y: 3\n\n");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Y", "3");
	esl_event_del_header_val(e, "Y", e->headers->value);
	CHECK(e->headers == NULL && e->last_header == NULL);

	/* an array header compares its rendered value */
	esl_event_add_header_string(e, ESL_STACK_PUSH, "R", "a");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "R", "b");
	esl_event_del_header_val(e, "R", "a");
	CHECK_INT(count_headers(e), 1);
	esl_event_del_header_val(e, "R", "ARRAY::a|:b");
	CHECK_INT(count_headers(e), 0);

	/* after deleting the tail, appends still go to the end */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "1", "1");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "2", "2");
	esl_event_del_header(e, "2");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "3", "3");
	check_ser(e, 0, "1: 1\n3: 3\n\n");
	esl_event_destroy(&e);
}

static void test_body(void)
{
	esl_event_t *e = NULL;

	esl_event_create(&e, ESL_EVENT_CLONE);
	CHECK_INT(esl_event_add_body(e, "%s=%d", "n", 5), ESL_SUCCESS);
	CHECK_STR(e->body, "n=5");
	/* add_body replaces */
	CHECK_INT(esl_event_add_body(e, "%s", "second"), ESL_SUCCESS);
	CHECK_STR(e->body, "second");
	CHECK_INT(esl_event_add_body(e, NULL), ESL_FAIL);
	CHECK_STR(e->body, "second");
	CHECK_INT(esl_event_add_body(NULL, "x"), ESL_FAIL);
	check_ser(e, 0, "Content-Length: 6\n\nsecond");

	/* set_body copies; it may be given the current body */
	CHECK_INT(esl_event_set_body(e, e->body), ESL_SUCCESS);
	CHECK_STR(e->body, "second");
	CHECK_INT(esl_event_set_body(e, NULL), ESL_SUCCESS);
	CHECK(e->body == NULL);
	check_ser(e, 0, "\n");
	check_json(e, "{\n}");

	/* an empty body: no Content-Length in plain, but both members in JSON */
	esl_event_set_body(e, "");
	check_ser(e, 0, "\n");
	check_json(e, "{\n\t\"Content-Length\":\t\"0\",\n\t\"_body\":\t\"\"\n}");

	/* Q20: a Content-Length header is printed as well */
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Content-Length", "3");
	esl_event_set_body(e, "abc");
	check_ser(e, 0, "Content-Length: 3\nContent-Length: 3\n\nabc");
	esl_event_destroy(&e);
}

static void test_serialize_encode(void)
{
	esl_event_t *e = NULL, *back;
	char all[256], *s;
	int i;

	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Plain", "abc-XYZ_09.~!$'()*,/");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Odd", "a b\"#%&+:;<=>?@[\\]^`{|}\x7f\x01\xc3\xa9\r\n");
	check_ser(e, 1,
			  "Plain: abc-XYZ_09.~!$'()*,/\n"
			  "Odd: a%20b%22%23%25%26%2B%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D%7F%01%C3%A9%0D%0A\n"
			  "\n");
	esl_event_destroy(&e);

	/* every byte survives an encoded round trip */
	for (i = 1; i < 256; i++) {
		all[i - 1] = (char) i;
	}
	all[255] = '\0';
	esl_event_create(&e, ESL_EVENT_CHANNEL_DATA);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "All", all);
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "x|y");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "%41\n");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Pct", "100% %zz %4");
	esl_event_set_body(e, "body\nwith lines\n\n");
	s = ser(e, 1);
	back = parse_plain(s, 1);
	back->event_id = e->event_id;
	CHECK(same_event(e, back, 1));
	free(s);
	esl_event_destroy(&back);

	/* without encoding, for values without newlines */
	esl_event_del_header(e, "All");
	esl_event_del_header(e, "Arr");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "p");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "q r");
	s = ser(e, 0);
	back = parse_plain(s, 0);
	back->event_id = e->event_id;
	CHECK(same_event(e, back, 1));
	free(s);
	esl_event_destroy(&back);
	esl_event_destroy(&e);

	CHECK_INT(esl_event_serialize(NULL, &s, ESL_FALSE), ESL_FAIL);
	CHECK(s == NULL);
	CHECK_INT(esl_event_serialize_json(NULL, &s), ESL_FAIL);
}

static void test_dup_merge(void)
{
	esl_event_t *e = NULL, *d = NULL, *m = NULL;
	int i;

	esl_event_create_subclass(&e, ESL_EVENT_CUSTOM, "app::thing");
	e->event_user_data = (void *) &e;
	e->bind_user_data = (void *) &d;
	e->key = 77;
	e->owner = (char *) "owner";
	esl_event_set_priority(e, ESL_PRIORITY_HIGH);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "S", "v");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "1");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "2");
	esl_event_add_body(e, "body");

	CHECK_INT(esl_event_dup(&d, e), ESL_SUCCESS);
	CHECK_INT(d->event_id, ESL_EVENT_CUSTOM);
	CHECK_STR(d->subclass_name, "app::thing");
	CHECK(d->event_user_data == (void *) &e && d->bind_user_data == (void *) &d);
	CHECK_INT(d->key, 77);
	CHECK(d->owner == NULL);
	CHECK_INT(d->priority, ESL_PRIORITY_NORMAL);
	CHECK_STR(d->body, "body");
	CHECK(d->body != e->body);
	/* Event-Subclass comes first, the original one is skipped; priority (TOP, 1 element)
	 * becomes a pushed one-element array at the end of the order it had */
	check_ser(d, 0,
			  "Event-Subclass: app::thing\n"
			  "priority: HIGH\n"
			  "Event-Name: CUSTOM\n"
			  "S: v\n"
			  "Arr: ARRAY::1|:2\n"
			  "Content-Length: 4\n\nbody");
	CHECK_INT(d->headers->next->idx, 1);
	esl_event_destroy(&d);

	CHECK_INT(esl_event_dup(&d, NULL), ESL_GENERR);
	CHECK(d == NULL);
	CHECK_INT(esl_event_dup(NULL, e), ESL_GENERR);

	/* merge appends copies of every header, arrays into the first of their name */
	esl_event_create(&m, ESL_EVENT_API);
	esl_event_add_header_string(m, ESL_STACK_PUSH, "Arr", "0");
	esl_event_merge(m, e);
	check_ser(m, 0,
			  "Event-Name: API\n"
			  "Arr: ARRAY::0|:1|:2\n"
			  "priority: HIGH\n"
			  "Event-Name: CUSTOM\n"
			  "Event-Subclass: app::thing\n"
			  "S: v\n"
			  "\n");
	CHECK(m->body == NULL);
	esl_event_destroy(&m);

	/* merging an event into itself */
	esl_event_create(&m, ESL_EVENT_CLONE);
	esl_event_add_header_string(m, ESL_STACK_BOTTOM, "A", "1");
	esl_event_add_header_string(m, ESL_STACK_PUSH, "B", "x");
	esl_event_add_header_string(m, ESL_STACK_PUSH, "B", "y");
	esl_event_merge(m, m);
	check_ser(m, 0, "A: 1\nB: ARRAY::x|:y|:x|:y\nA: 1\n\n");
	CHECK(list_ok(m));
	esl_event_destroy(&m);
	esl_event_destroy(&e);

	/* a "_body" header sets the body while copying; the copied body then replaces it */
	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "_body", "from header");
	esl_event_set_body(e, "real");
	CHECK_INT(esl_event_dup(&d, e), ESL_SUCCESS);
	CHECK_STR(d->body, "real");
	CHECK_STR(esl_event_get_header(d, "_body"), "from header");
	esl_event_destroy(&d);
	esl_event_destroy(&e);

	/* flags are copied before the headers: UNIQ collapses duplicates in the copy */
	esl_event_create(&e, ESL_EVENT_CLONE);
	for (i = 0; i < 40; i++) {
		esl_event_add_header(e, ESL_STACK_BOTTOM, "H", "%d", i % 3);
		esl_event_add_header(e, ESL_STACK_BOTTOM, "U", "%d", i);
	}
	e->flags = ESL_EF_UNIQ_HEADERS;
	esl_event_dup(&d, e);
	CHECK_INT(d->flags, ESL_EF_UNIQ_HEADERS);
	check_ser(d, 0, "H: 0\nU: 39\n\n");
	esl_event_destroy(&d);
	esl_event_destroy(&e);
}

/* dup and merge index large events; the result must be what header-by-header adds give. */
static void test_dup_indexed_equivalence(void)
{
	esl_event_t *src = NULL, *d = NULL, *ref = NULL;
	esl_event_header_t *h;
	char name[32];
	int i, j, flags;

	for (flags = 0; flags <= ESL_EF_UNIQ_HEADERS; flags += ESL_EF_UNIQ_HEADERS) {
		esl_event_create(&src, ESL_EVENT_CLONE);
		for (i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "n%d", (i * 7) % 23);
			if (i % 5 == 0) {
				esl_event_add_header(src, ESL_STACK_PUSH, name, "p%d", i);
			} else if (i % 11 == 0) {
				esl_event_add_header(src, ESL_STACK_BOTTOM, name, "ARRAY::a%d|:b", i);
			} else {
				esl_event_add_header(src, ESL_STACK_BOTTOM, name, "v%d", i);
			}
		}
		/* an indexed element that is empty: dup re-pushes "" */
		esl_event_add_header_string(src, ESL_STACK_BOTTOM, "n1[30]", "z");
		src->flags = flags;
		CHECK_INT(esl_event_dup(&d, src), ESL_SUCCESS);

		esl_event_create(&ref, ESL_EVENT_CLONE);
		ref->flags = flags;
		for (h = src->headers; h; h = h->next) {
			if (h->idx) {
				for (j = 0; j < h->idx; j++) {
					esl_event_add_header_string(ref, ESL_STACK_PUSH, h->name, h->array[j]);
				}
			} else {
				esl_event_add_header_string(ref, ESL_STACK_BOTTOM, h->name, h->value);
			}
		}
		CHECK(same_event(d, ref, 1));
		CHECK(list_ok(d));
		CHECK(values_rendered(d));
		esl_event_destroy(&d);
		esl_event_destroy(&ref);
		esl_event_destroy(&src);
	}
}

static void test_value_after_each_push(void)
{
	esl_event_t *e = NULL;
	esl_event_header_t *h;
	char want[4096], el[16];
	int i;

	esl_event_create(&e, ESL_EVENT_CLONE);
	want[0] = '\0';
	for (i = 0; i < 300; i++) {
		snprintf(el, sizeof(el), "e%d", i);
		esl_event_add_header_string(e, ESL_STACK_PUSH, "P", el);
		h = e->headers;
		if (i == 0) {
			strcpy(want, el);
		} else {
			if (i == 1) {
				memmove(want + 7, want, strlen(want) + 1);
				memcpy(want, "ARRAY::", 7);
			}
			strcat(want, "|:");
			strcat(want, el);
		}
		if (strcmp(h->value, want) || h->idx != i + 1) {
			CHECK_STR(h->value, want);
			break;
		}
	}
	CHECK_INT(e->headers->idx, 300);
	CHECK(values_rendered(e));
	esl_event_destroy(&e);
}

static void test_scaling(void)
{
	esl_event_t *e = NULL, *d = NULL;
	esl_event_header_t *h;
	size_t n = 200000, i, total;
	char el[32], *json, *w;
	double t0, t;

	/* n pushes onto one header: amortised linear */
	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Other", "o");
	t0 = eslt_now();
	total = 7;
	for (i = 0; i < n; i++) {
		int l = snprintf(el, sizeof(el), "elem%zu", i);

		esl_event_add_header_string(e, ESL_STACK_PUSH, "Big", el);
		total += (size_t) l + (i ? 2 : 0);
	}
	t = eslt_now() - t0;
	CHECK(t < 10.0);
	h = esl_event_get_header_ptr(e, "Big");
	CHECK_INT(h->idx, n);
	CHECK_INT(strlen(h->value), total);
	CHECK(values_rendered(e));
	CHECK_STR(esl_event_get_header_idx(e, "Big", 123456), "elem123456");

	/* dup of it is linear too */
	t0 = eslt_now();
	CHECK_INT(esl_event_dup(&d, e), ESL_SUCCESS);
	CHECK(eslt_now() - t0 < 10.0);
	CHECK(same_event(e, d, 1));
	esl_event_destroy(&d);
	esl_event_destroy(&e);

	/* JSON with n distinct array members, and members that delete each other */
	json = malloc(n * 64 + 16);
	w = json;
	*w++ = '{';
	for (i = 0; i < n; i++) {
		w += sprintf(w, "%s\"k%zu\":[\"a\",\"b\"],\"d%zu\":\"x\",\"d%zu\":\"\"", i ? "," : "", i, i % 1000, i % 1000);
	}
	*w++ = '}';
	*w = '\0';
	t0 = eslt_now();
	CHECK_INT(esl_event_create_json(&e, json), ESL_SUCCESS);
	t = eslt_now() - t0;
	CHECK(t < 10.0);
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(count_headers(e), n);
		CHECK_STR(esl_event_get_header(e, "k199999"), "ARRAY::a|:b");
		CHECK(esl_event_get_header(e, "d5") == NULL);
		CHECK(list_ok(e));
		esl_event_destroy(&e);
	}
	free(json);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON */

static void test_json_output(void)
{
	esl_event_t *e = NULL;

	esl_event_create(&e, ESL_EVENT_CLONE);
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Esc", "q\" b\\ s/ \b\f\n\r\t \x01\x1f \x7f \xc3\xa9 \xff");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Key\"\n", "v");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "One", "1");
	check_json(e,
			   "{\n"
			   "\t\"Esc\":\t\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f \x7f \xc3\xa9 \xff\",\n"
			   "\t\"Key\\\"\\n\":\t\"v\",\n"
			   "\t\"One\":\t[\"1\"]\n"
			   "}");
	esl_event_add_body(e, "b\"ody");
	check_json(e,
			   "{\n"
			   "\t\"Esc\":\t\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f \x7f \xc3\xa9 \xff\",\n"
			   "\t\"Key\\\"\\n\":\t\"v\",\n"
			   "\t\"One\":\t[\"1\"],\n"
			   "\t\"Content-Length\":\t\"5\",\n"
			   "\t\"_body\":\t\"b\\\"ody\"\n"
			   "}");
	esl_event_destroy(&e);
}

static esl_event_t *from_json(const char *json)
{
	esl_event_t *e = NULL;

	CHECK_INT(esl_event_create_json(&e, json), ESL_SUCCESS);
	return e;
}

static void test_json_input(void)
{
	esl_event_t *e, *sentinel = (esl_event_t *) (uintptr_t) 0x1234;
	esl_event_header_t *h;

	e = from_json("{\"Event-Name\":\"CHANNEL_ANSWER\",\"Core-UUID\":\"abc\",\"Arr\":[\"x\",1,true,null,{\"a\":[]},[\"n\"],\"y\"],"
				  "\"num\":-1.5e+3,\"t\":true,\"f\":false,\"n\":null,\"obj\":{\"k\":\"v\",\"deep\":[1,{\"x\":{}}]},"
				  "\"_body\":\"hello %s %n %%\"}");
	CHECK(e != NULL);
	CHECK_INT(e->event_id, ESL_EVENT_CHANNEL_ANSWER);
	/* Q18 fixed: the body is taken literally */
	CHECK_STR(e->body, "hello %s %n %%");
	check_ser(e, 0,
			  "Event-Name: CHANNEL_ANSWER\n"
			  "Core-UUID: abc\n"
			  "Arr: ARRAY::x|:y\n"
			  "Content-Length: 14\n\nhello %s %n %%");
	CHECK(e->subclass_name == NULL);
	esl_event_destroy(&e);

	/* event-name in any case; earlier Event-Name headers go; unknown names leave the id */
	e = from_json("{\"Event-Name\":\"API\",\"X\":\"1\",\"event-NAME\":\"NO_SUCH\",\"_BODY\":\"b1\",\"_body\":\"b2\"}");
	CHECK_INT(e->event_id, ESL_EVENT_API);
	check_ser(e, 0, "X: 1\nevent-NAME: NO_SUCH\nContent-Length: 2\n\nb2");
	esl_event_destroy(&e);
	e = from_json("{\"event-name\":\"SWITCH_EVENT_HEARTBEAT\"}");
	CHECK_INT(e->event_id, ESL_EVENT_HEARTBEAT);
	esl_event_destroy(&e);

	/* duplicate keys are kept; empty strings delete; ARRAY:: values become arrays */
	e = from_json(" {\"D\":\"1\", \"d\":\"2\",\"E\":\"e\",\"e\":\"\",\"A\":\"ARRAY::p|:q\",\"Z\":[]} \n\t");
	check_ser(e, 0, "D: 1\nd: 2\nA: ARRAY::p|:q\n\n");
	esl_event_destroy(&e);

	/* indexed names and pushes under _body behave as through add_header_string */
	e = from_json("{\"x[1]\":\"b\",\"x[0]\":\"a\",\"_body\":[\"p\",\"q\"]}");
	h = esl_event_get_header_ptr(e, "x");
	CHECK(h && h->idx == 2 && !strcmp(h->array[0], "a") && !strcmp(h->value, "ARRAY::|:b"));
	CHECK_STR(e->body, "q");
	CHECK_STR(esl_event_get_header(e, "_body"), "ARRAY::p|:q");
	esl_event_destroy(&e);

	/* escapes, \u, surrogate pairs */
	e = from_json("{\"k\\u00e9\\n\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\uD834\\uDD1E\"}");
	CHECK(e != NULL);
	if (e) {
		CHECK(e->headers && !strcmp(e->headers->name, "k\xc3\xa9\n"));
		CHECK_STR(e->headers->value, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf0\x9d\x84\x9e");
		esl_event_destroy(&e);
	}
	/* bytes >= 0x80 pass through, valid UTF-8 or not */
	e = from_json("{\"h\":\"\xc3\xa9\xff\xfe\x80\"}");
	CHECK_STR(esl_event_get_header(e, "h"), "\xc3\xa9\xff\xfe\x80");
	esl_event_destroy(&e);

	/* empty object: an event without headers */
	e = from_json("{}");
	CHECK(e && e->headers == NULL && e->event_id == ESL_EVENT_CUSTOM);
	esl_event_destroy(&e);

	/* invalid input: success, *event untouched (Q17) */
	{
		static const char *bad[] = {
			"", " ", "[]", "\"s\"", "1", "null", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":\"b\",}", "{,}",
			"{\"a\":\"b\"} x", "{\"a\":\"b\"}{}", "{\"a\" \"b\"}", "{a:\"b\"}", "{'a':'b'}", "{\"a\":'b'}",
			"{\"a\":\"b\n\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}",
			"{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800x\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\udc00\"}",
			"{\"a\":\"\\u0000\"}", "{\"a\":\"unterminated}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}",
			"{\"a\":-}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":[1,]}",
			"{\"a\":[,1]}", "{\"a\":[\"x\" \"y\"]}", "{\"a\":{\"b\"}}", "{\"a\":{\"b\":1,}}",
			"{\"a\":{1:2}}", "{\"a\":[}", "{\"a\":[{]}", "{\"a\":\"b\"", "{\"a\":NaN}", "{\"a\":Infinity}",
			"{\"a\":0x10}", "\xef\xbb\xbf{}", "{\"a\":\"b\"\x00}", "{\"a\":[\"\\u0000\"]}",
			NULL
		};
		int i;

		for (i = 0; bad[i]; i++) {
			e = sentinel;
			CHECK_INT(esl_event_create_json(&e, bad[i]), ESL_SUCCESS);
			if (e != sentinel) {
				fprintf(stderr, "    accepted bad JSON #%d: %s\n", i, bad[i]);
				CHECK(e == sentinel);
				if (e) {
					esl_event_destroy(&e);
				}
			}
		}
	}
	/* NUL inside the text ends it: the rest is not seen */
	e = from_json("{\"a\":\"b\"}\0garbage");
	CHECK(e != NULL);
	esl_event_destroy(&e);
	e = sentinel;
	CHECK_INT(esl_event_create_json(&e, NULL), ESL_SUCCESS);
	CHECK(e == sentinel);
	CHECK_INT(esl_event_create_json(NULL, "{}"), ESL_FAIL);

	/* valid odd numbers and literals */
	e = from_json("{\"n\":[0,-0,1e5,1E-5,0.25,-12.5e+01,true,false,null],\"s\":\"ok\"}");
	CHECK_STR(esl_event_get_header(e, "s"), "ok");
	CHECK(esl_event_get_header(e, "n") == NULL);
	esl_event_destroy(&e);
}

static void test_json_depth(void)
{
	esl_event_t *e, *sentinel = (esl_event_t *) (uintptr_t) 0x1234;
	size_t n, i;
	char *s;

	/* the top-level object counts as 1: 256 levels are accepted, 257 are not */
	for (n = 254; n <= 256; n++) {
		s = malloc(n * 2 + 32);
		strcpy(s, "{\"a\":");
		for (i = 0; i < n; i++) {
			strcat(s, "[");
		}
		for (i = 0; i < n; i++) {
			strcat(s, "]");
		}
		strcat(s, ",\"z\":\"1\"}");
		e = sentinel;
		esl_event_create_json(&e, s);
		if (n < 256) {
			CHECK(e != sentinel && e && !strcmp(esl_event_get_header(e, "z"), "1"));
			if (e != sentinel) {
				esl_event_destroy(&e);
			}
		} else {
			CHECK(e == sentinel);
		}
		free(s);
	}
	/* objects count the same way */
	s = malloc(256 * 8 + 32);
	strcpy(s, "{\"a\":");
	for (i = 0; i < 255; i++) {
		strcat(s, "{\"k\":");
	}
	strcat(s, "1");
	for (i = 0; i < 256; i++) {
		strcat(s, "}");
	}
	e = sentinel;
	esl_event_create_json(&e, s);
	CHECK(e != sentinel);
	if (e != sentinel) {
		esl_event_destroy(&e);
	}
	free(s);

	/* very deep input fails quickly and without recursion */
	n = 1000000;
	s = malloc(n + 8);
	strcpy(s, "{\"a\":");
	memset(s + 5, '[', n);
	s[n + 5] = '\0';
	e = sentinel;
	esl_event_create_json(&e, s);
	CHECK(e == sentinel);
	free(s);
}

static void test_json_huge(void)
{
	size_t n = 16 * 1024 * 1024, i;
	char *s = malloc(n + 64);
	esl_event_t *e = NULL;

	strcpy(s, "{\"big\":\"");
	for (i = 0; i < n; i++) {
		s[8 + i] = (char) ('a' + i % 26);
	}
	strcpy(s + 8 + n, "\",\"_body\":\"b\"}");
	e = from_json(s);
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(strlen(esl_event_get_header(e, "big")), n);
		CHECK_STR(e->body, "b");
		esl_event_destroy(&e);
	}
	free(s);
}

static void test_json_round_trip(void)
{
	esl_event_t *e = NULL, *back = NULL;
	char all[256], *s;
	int i;

	for (i = 1; i < 256; i++) {
		all[i - 1] = (char) i;
	}
	all[255] = '\0';
	esl_event_create_subclass(&e, ESL_EVENT_CUSTOM, "x::y");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "All", all);
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "a\"b");
	esl_event_add_header_string(e, ESL_STACK_PUSH, "Arr", "\\c\n");
	esl_event_add_header_string(e, ESL_STACK_TOP, "One", "1");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Dup", "1");
	esl_event_add_header_string(e, ESL_STACK_BOTTOM, "Dup", "2");
	esl_event_add_body(e, "%s", all);
	s = ser_json(e);
	back = from_json(s);
	CHECK(back != NULL);
	if (back) {
		/* the body's Content-Length member comes back as a header */
		CHECK_STR(esl_event_get_header(back, "Content-Length"), "255");
		esl_event_del_header(back, "Content-Length");
		CHECK(same_event(e, back, 1));
		esl_event_destroy(&back);
	}
	free(s);
	esl_event_destroy(&e);
}

/* create_json builds through an index; the same members applied one add_header call at a
 * time must give the same event. */
static void test_json_differential(void)
{
	static const char *keys[] = { "A", "a", "B", "Event-Name", "event-name", "_body", "k[0]", "k[2]", "k", "K[1]", "X" };
	static const char *vals[] = { "", "v", "w", "ARRAY::p|:q", "pre ARRAY::x|:y", "ARRAY::", "ARRAY::ARRAY::z",
								  "CHANNEL_CREATE", "API", "%s%n", "ARRAY::|:e", "q\"uo\\te", "ARRAY::a|:", "x|:y" };
	const size_t nk = sizeof(keys) / sizeof(keys[0]), nv = sizeof(vals) / sizeof(vals[0]);
	unsigned int seed = 12345;
	int round, ok = 1;

	for (round = 0; round < 3000; round++) {
		esl_event_t *ref = NULL, *got = NULL;
		char json[8192], *w = json, *a, *b;
		int members, m;

		esl_event_create(&ref, ESL_EVENT_CLONE);
		seed = seed * 1103515245 + 12345;
		members = (int) ((seed >> 16) % 40);
		*w++ = '{';
		for (m = 0; m < members; m++) {
			const char *k, *v;
			int kind, j, cnt;

			seed = seed * 1103515245 + 12345;
			k = keys[(seed >> 16) % nk];
			seed = seed * 1103515245 + 12345;
			kind = (int) ((seed >> 16) % 5);
			w += sprintf(w, "%s\"%s\":", m ? "," : "", k);
			if (kind <= 2) {
				seed = seed * 1103515245 + 12345;
				v = vals[(seed >> 16) % nv];
				*w++ = '"';
				for (j = 0; v[j]; j++) {
					if (v[j] == '"' || v[j] == '\\') {
						*w++ = '\\';
					}
					*w++ = v[j];
				}
				*w++ = '"';
				if (!strcasecmp(k, "_body")) {
					esl_event_set_body(ref, v);
				} else {
					if (!strcasecmp(k, "event-name")) {
						esl_event_del_header(ref, "Event-Name");
						esl_name_event(v, &ref->event_id);
					}
					esl_event_add_header_string(ref, ESL_STACK_BOTTOM, k, v);
				}
			} else if (kind == 3) {
				seed = seed * 1103515245 + 12345;
				cnt = (int) ((seed >> 16) % 4);
				*w++ = '[';
				for (j = 0; j < cnt; j++) {
					int c;

					seed = seed * 1103515245 + 12345;
					v = vals[(seed >> 16) % nv];
					if (j) {
						*w++ = ',';
					}
					if ((seed >> 8) % 5 == 0) {
						w += sprintf(w, "42");
						continue;
					}
					*w++ = '"';
					for (c = 0; v[c]; c++) {
						if (v[c] == '"' || v[c] == '\\') {
							*w++ = '\\';
						}
						*w++ = v[c];
					}
					*w++ = '"';
					esl_event_add_header_string(ref, ESL_STACK_PUSH, k, v);
				}
				*w++ = ']';
			} else {
				w += sprintf(w, "{\"n\":[1,2,{}]}");
			}
		}
		*w++ = '}';
		*w = '\0';

		got = from_json(json);
		if (!got) {
			ok = 0;
			esl_event_destroy(&ref);
			break;
		}
		a = ser(ref, 0);
		b = ser(got, 0);
		if (strcmp(a, b) || !same_event(ref, got, 1) || !list_ok(got)) {
			ok = 0;
			fprintf(stderr, "    differs for %s\n", json);
			CHECK_STR(b, a);
		}
		free(a);
		free(b);
		a = ser_json(ref);
		b = ser_json(got);
		if (strcmp(a, b)) {
			ok = 0;
		}
		free(a);
		free(b);
		esl_event_destroy(&ref);
		esl_event_destroy(&got);
		if (!ok) {
			break;
		}
	}
	CHECK(ok);
}

/* ------------------------------------------------------------------------------------------ */
/* arena events, built by hand the way the wire parser lays them out */

typedef struct {
	char *base;
	size_t used, size;
} bump_t;

static void *bump(bump_t *b, size_t n)
{
	void *p;

	b->used = (b->used + 15) & ~(size_t) 15;
	p = b->base + b->used;
	b->used += n;
	if (b->used > b->size) {
		abort();
	}
	return p;
}

static char *bump_str(bump_t *b, const char *s)
{
	char *p = bump(b, strlen(s) + 1);

	strcpy(p, s);
	return p;
}

static esl_event_header_t *bump_hdr(bump_t *b, esl_event_t *ev, const char *name, const char *value, int with_hash)
{
	esl_event_header_t *h = bump(b, sizeof(*h));

	memset(h, 0, sizeof(*h));
	h->name = bump_str(b, name);
	h->value = value ? bump_str(b, value) : NULL;
	h->hash = with_hash ? ref_hash(name) : 0;
	if (ev->last_header) {
		ev->last_header->next = h;
	} else {
		ev->headers = h;
	}
	ev->last_header = h;
	return h;
}

static esl_event_t *make_arena_event(void)
{
	size_t total = 8192;
	char *block = malloc(sizeof(esl_event_arena_t) + total);
	esl_event_arena_t *arena = (esl_event_arena_t *) (void *) block;
	esl_event_t *ev = (esl_event_t *) (void *) (arena + 1);
	bump_t b;
	esl_event_header_t *h;

	memset(ev, 0, sizeof(*ev));
	arena->size = total;
	b.base = (char *) ev;
	b.used = sizeof(*ev);
	b.size = total;

	ev->flags = ESL_EF_ARENA;
	ev->event_id = ESL_EVENT_SOCKET_DATA;
	bump_hdr(&b, ev, "Event-Name", "SOCKET_DATA", 0);
	bump_hdr(&b, ev, "Content-Type", "text/event-plain", 1);
	h = bump_hdr(&b, ev, "X-Arr", "ARRAY::a|:b|:c", 1);
	h->array = bump(&b, 3 * sizeof(char *));
	h->array[0] = bump_str(&b, "a");
	h->array[1] = bump_str(&b, "b");
	h->array[2] = bump_str(&b, "c");
	h->idx = 3;
	/* a one-element array whose value is the element itself */
	h = bump_hdr(&b, ev, "X-One", NULL, 1);
	h->array = bump(&b, sizeof(char *));
	h->array[0] = bump_str(&b, "solo");
	h->value = h->array[0];
	h->idx = 1;
	bump_hdr(&b, ev, "Dup", "1", 1);
	bump_hdr(&b, ev, "Mid", "m", 0);
	bump_hdr(&b, ev, "dup", "2", 1);
	ev->body = bump_str(&b, "hello");
	ev->subclass_name = bump_str(&b, "sub::class");
	return ev;
}

static void test_arena(void)
{
	esl_event_t *ev = make_arena_event(), *d = NULL;
	esl_event_header_t *h;
	char *s;

	/* read-only use, then destroy */
	CHECK_STR(esl_event_get_header(ev, "event-name"), "SOCKET_DATA");
	CHECK_STR(esl_event_get_header_idx(ev, "x-arr", 1), "b");
	CHECK_STR(esl_event_get_header(ev, "X-One"), "solo");
	check_ser(ev, 0,
			  "Event-Name: SOCKET_DATA\nContent-Type: text/event-plain\nX-Arr: ARRAY::a|:b|:c\nX-One: solo\n"
			  "Dup: 1\nMid: m\ndup: 2\nContent-Length: 5\n\nhello");
	esl_event_destroy(&ev);
	CHECK(ev == NULL);

	ev = make_arena_event();
	/* dup gives a plain heap event */
	CHECK_INT(esl_event_dup(&d, ev), ESL_SUCCESS);
	CHECK(!(d->flags & ESL_EF_ARENA));
	CHECK_STR(d->subclass_name, "sub::class");
	esl_event_destroy(&d);

	/* deletions: arena parts are never freed */
	esl_event_del_header(ev, "DUP");
	CHECK(ev->last_header == esl_event_get_header_ptr(ev, "Mid"));
	esl_event_del_header(ev, "Mid");
	CHECK(ev->last_header == esl_event_get_header_ptr(ev, "X-One"));
	esl_event_del_header(ev, "Event-Name");
	CHECK(ev->headers == esl_event_get_header_ptr(ev, "Content-Type"));
	/* TOP overwrite in place */
	esl_event_add_header_string(ev, ESL_STACK_TOP, "content-type", "text/plain");
	CHECK_STR(esl_event_get_header(ev, "Content-Type"), "text/plain");
	esl_event_add_header_string(ev, ESL_STACK_TOP, "content-type", "again");
	/* pushes copy the arena array out */
	esl_event_add_header_string(ev, ESL_STACK_PUSH, "X-Arr", "d");
	CHECK_STR(esl_event_get_header(ev, "X-Arr"), "ARRAY::a|:b|:c|:d");
	esl_event_add_header_string(ev, ESL_STACK_PUSH, "X-Arr", "e");
	CHECK_STR(esl_event_get_header(ev, "X-Arr"), "ARRAY::a|:b|:c|:d|:e");
	/* indexed replace inside an arena array; value shared with the element */
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "X-One[0]", "z");
	h = esl_event_get_header_ptr(ev, "X-One");
	CHECK_STR(h->array[0], "z");
	CHECK_STR(h->value, "solo");
	esl_event_add_header_string(ev, ESL_STACK_PUSH, "X-One", "y");
	CHECK_STR(h->value, "ARRAY::z|:y");
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "X-Arr[1]", "B");
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "X-Arr[7]", "H");
	CHECK_STR(esl_event_get_header(ev, "X-Arr"), "ARRAY::a|:B|:c|:d|:e|:|:|:H");
	/* new headers mix with arena ones */
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "New", "n");
	esl_event_add_header_string(ev, ESL_STACK_TOP, "Top", "t");
	CHECK(list_ok(ev));
	/* body and subclass */
	esl_event_set_body(ev, "new body");
	esl_event_add_body(ev, "%s", "third");
	CHECK_STR(ev->body, "third");
	s = ser_json(ev);
	CHECK(strstr(s, "\"X-One\":\t[\"z\", \"y\"]") != NULL);
	free(s);
	esl_event_merge(ev, ev);
	CHECK(list_ok(ev));
	esl_event_destroy(&ev);

	/* an arena event whose every header is deleted, then rebuilt */
	ev = make_arena_event();
	for (h = ev->headers; h; h = ev->headers) {
		esl_event_del_header(ev, h->name);
	}
	CHECK(ev->headers == NULL && ev->last_header == NULL);
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "Only", "o");
	esl_event_set_body(ev, NULL);
	check_ser(ev, 0, "Only: o\n\n");
	esl_event_destroy(&ev);

	/* TOP overwrite of an arena one-element array whose value is the element */
	ev = make_arena_event();
	esl_event_add_header_string(ev, ESL_STACK_TOP, "X-One", "over");
	h = esl_event_get_header_ptr(ev, "X-One");
	CHECK_STR(h->value, "over");
	CHECK_STR(h->array[0], "solo");
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "X-One[0]", "s2");
	esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "X-One[0]", "s3");
	esl_event_destroy(&ev);
}

int main(void)
{
	ESLT_RUN(test_names);
	ESLT_RUN(test_create);
	ESLT_RUN(test_worked_example);
	ESLT_RUN(test_add_paths);
	ESLT_RUN(test_array_values);
	ESLT_RUN(test_indexed);
	ESLT_RUN(test_uniq);
	ESLT_RUN(test_del);
	ESLT_RUN(test_body);
	ESLT_RUN(test_serialize_encode);
	ESLT_RUN(test_dup_merge);
	ESLT_RUN(test_dup_indexed_equivalence);
	ESLT_RUN(test_value_after_each_push);
	ESLT_RUN(test_scaling);
	ESLT_RUN(test_json_output);
	ESLT_RUN(test_json_input);
	ESLT_RUN(test_json_depth);
	ESLT_RUN(test_json_huge);
	ESLT_RUN(test_json_round_trip);
	ESLT_RUN(test_json_differential);
	ESLT_RUN(test_arena);
	return ESLT_DONE();
}
