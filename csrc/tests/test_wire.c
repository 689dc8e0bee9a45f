/*
 * test_wire.c: the wire parser on byte strings.
 *
 * Every recorded stream is parsed whole and in chunks of every size from 1 to 64 (through
 * both input paths, feed and reserve/commit), and must give the same messages as an
 * independent reference split. Events built by the parser's own plan are compared with
 * events built through the event API. Then the framing edge cases and the header rules.
 */
#include "eslt.h"
#include "eslt_wire.h"
#include "esl_event_private.h"

/* Feeds data in chunks (0 = all at once) and summarizes every message. Returns the number of
 * messages, or -1 on a parser error (its text in err). */
static long run_stream(const char *data, size_t len, size_t chunk, int via_reserve, eslt_sums_t *out, char *err, size_t errlen)
{
	esl_wire_t *w = esl_wire_create();
	size_t off = 0;
	long count = 0;
	int done = 0;

	err[0] = '\0';
	if (!w) {
		snprintf(err, errlen, "no memory");
		return -1;
	}
	while (!done) {
		size_t n = len - off;
		esl_event_t *ev = NULL;
		esl_wire_status_t st;

		if (chunk && n > chunk) {
			n = chunk;
		}
		if (via_reserve) {
			size_t left = n;
			while (left) {
				size_t room, m;
				char *p = esl_wire_reserve(w, &room);
				if (!p) {
					snprintf(err, errlen, "reserve failed");
					esl_wire_destroy(&w);
					return -1;
				}
				m = room < left ? room : left;
				memcpy(p, data + off + (n - left), m);
				esl_wire_commit(w, m);
				left -= m;
			}
		} else if (n && esl_wire_feed(w, data + off, n)) {
			snprintf(err, errlen, "feed failed");
			esl_wire_destroy(&w);
			return -1;
		}
		off += n;
		done = off >= len;
		while ((st = esl_wire_next(w, &ev)) == ESL_WIRE_MESSAGE) {
			esl_event_t *inner = NULL;
			esl_wire_decode_inner(w, ev, &inner);
			eslt_sums_add_event(out, ev, inner);
			esl_event_destroy(&inner);
			esl_event_destroy(&ev);
			count++;
		}
		if (st == ESL_WIRE_ERROR) {
			snprintf(err, errlen, "%s", esl_wire_error(w));
			esl_wire_destroy(&w);
			return -1;
		}
	}
	if (esl_wire_buffered(w)) {
		snprintf(err, errlen, "bytes left over");
		count = -1;
	}
	esl_wire_destroy(&w);
	return count;
}

/* Parses data twice, once through the plan and once through the event API, and compares every
 * outer and inner event field by field. Returns the number of differences. */
static int differential(const char *name, const char *data, size_t len)
{
	esl_wire_t *a = esl_wire_create(), *b = esl_wire_create();
	int diffs = 0;
	long i = 0;

	esl_wire_set_api_build(b, 1);
	esl_wire_feed(a, data, len);
	esl_wire_feed(b, data, len);
	for (;; i++) {
		esl_event_t *ea = NULL, *eb = NULL, *ia = NULL, *ib = NULL;
		esl_wire_status_t sa = esl_wire_next(a, &ea), sb = esl_wire_next(b, &eb);
		char why[300];

		if (sa != sb) {
			fprintf(stderr, "%s: message %ld: status %d vs %d\n", name, i, sa, sb);
			diffs++;
		}
		if (sa != ESL_WIRE_MESSAGE || sb != ESL_WIRE_MESSAGE) {
			esl_event_destroy(&ea);
			esl_event_destroy(&eb);
			break;
		}
		if (!(ea->flags & ESL_EF_ARENA) || !(eb->flags & ESL_EF_ARENA)) {
			fprintf(stderr, "%s: message %ld: not a single-block event\n", name, i);
			diffs++;
		}
		if (eslt_event_diff(ea, eb, why, sizeof(why))) {
			fprintf(stderr, "%s: message %ld (outer): %s\n", name, i, why);
			diffs++;
		}
		esl_wire_decode_inner(a, ea, &ia);
		esl_wire_decode_inner(b, eb, &ib);
		if ((ia || ib) && eslt_event_diff(ia, ib, why, sizeof(why))) {
			fprintf(stderr, "%s: message %ld (inner): %s\n", name, i, why);
			diffs++;
		}
		esl_event_destroy(&ia);
		esl_event_destroy(&ib);
		esl_event_destroy(&ea);
		esl_event_destroy(&eb);
	}
	esl_wire_destroy(&a);
	esl_wire_destroy(&b);
	return diffs;
}

static void test_recordings(void)
{
	char **files = eslt_s2c_files();
	size_t f;
	int nfiles = 0;

	CHECK(files != NULL);
	for (f = 0; files && files[f]; f++) {
		size_t len, chunk;
		char *data = eslt_read_file(files[f], &len), err[300];
		eslt_sums_t ref = { 0 }, whole = { 0 };
		long n, d;
		int bad_chunks = 0;

		nfiles++;
		CHECK(data != NULL);
		if (!data) {
			continue;
		}
		CHECK_INT(eslt_ref_split(data, len, &ref), 0);
		n = run_stream(data, len, 0, 0, &whole, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "%s: %s\n", files[f], err);
		}
		CHECK_INT(n, (long) ref.n);
		if ((d = eslt_sums_diff(&ref, &whole)) >= 0) {
			fprintf(stderr, "%s: whole stream differs from the reference at message %ld\n", files[f], d);
			eslt_sum_print("ref", &ref, d);
			eslt_sum_print("got", &whole, d);
		}
		CHECK(d < 0);
		for (chunk = 1; chunk <= 64; chunk++) {
			eslt_sums_t got = { 0 };
			n = run_stream(data, len, chunk, (int) (chunk & 1), &got, err, sizeof(err));
			if (n < 0 || eslt_sums_diff(&ref, &got) >= 0) {
				if (!bad_chunks++) {
					fprintf(stderr, "%s: chunk size %zu differs (%s)\n", files[f], chunk, err);
				}
			}
			eslt_sums_free(&got);
		}
		CHECK_INT(bad_chunks, 0);
		CHECK_INT(differential(files[f], data, len), 0);
		eslt_sums_free(&ref);
		eslt_sums_free(&whole);
		free(data);
	}
	CHECK(nfiles >= 15);
	eslt_free_list(files);
}

/* A small stream that exercises both terminators, an empty message, CR in values and a body;
 * split into two and three chunks at every position. */
static void test_terminator_splits(void)
{
	static const char stream[] =
		"Content-Type: one\n\n"
		"Content-Type: two\nContent-Length: 3\n\nabc"
		"Content-Type: three\n\r\n"
		"\n\n"
		"Content-Type: five\r\n\r\n"
		"Content-Type: six\nContent-Length: 0\n\n";
	size_t len = sizeof(stream) - 1, i, j;
	eslt_sums_t want = { 0 };
	int bad2 = 0, bad3 = 0;

	eslt_sums_add(&want, "one", NULL, NULL, -1);
	eslt_sums_add(&want, "two", NULL, NULL, 3);
	eslt_sums_add(&want, "three", NULL, NULL, -1);
	eslt_sums_add(&want, NULL, NULL, NULL, -1);
	eslt_sums_add(&want, "five\r", NULL, NULL, -1);
	eslt_sums_add(&want, "six", NULL, NULL, 0);

	for (i = 0; i <= len; i++) {
		for (j = i; j <= len; j++) {
			esl_wire_t *w = esl_wire_create();
			eslt_sums_t got = { 0 };
			esl_event_t *ev;
			size_t cuts[4] = { 0, i, j, len }, k;

			for (k = 0; k < 3; k++) {
				esl_wire_feed(w, stream + cuts[k], cuts[k + 1] - cuts[k]);
				while (esl_wire_next(w, &ev) == ESL_WIRE_MESSAGE) {
					eslt_sums_add_event(&got, ev, NULL);
					esl_event_destroy(&ev);
				}
			}
			if (eslt_sums_diff(&want, &got) >= 0 || esl_wire_buffered(w)) {
				if (i == j || j == len) {
					bad2++;
				} else {
					bad3++;
				}
				if (bad2 + bad3 == 1) {
					long d = eslt_sums_diff(&want, &got);
					fprintf(stderr, "split at %zu/%zu differs at %ld\n", i, j, d);
					eslt_sum_print("want", &want, d);
					eslt_sum_print("got ", &got, d);
				}
			}
			eslt_sums_free(&got);
			esl_wire_destroy(&w);
		}
	}
	CHECK_INT(bad2, 0);
	CHECK_INT(bad3, 0);
	eslt_sums_free(&want);

	/* the terminator bytes arriving one at a time around every kind of line end */
	{
		static const char *pieces[] = { "A: 1\n", "\n" };
		esl_wire_t *w = esl_wire_create();
		esl_event_t *ev = NULL;
		CHECK_INT(esl_wire_feed(w, pieces[0], strlen(pieces[0])), 0);
		CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MORE);
		CHECK_INT(esl_wire_feed(w, "\r", 1), 0);
		CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MORE);
		CHECK_INT(esl_wire_feed(w, "\r", 1), 0);
		CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MORE);
		CHECK_INT(esl_wire_feed(w, pieces[1], 1), 0);
		CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MORE); /* "\n\r\r\n" is no terminator */
		CHECK_INT(esl_wire_feed(w, "\n", 1), 0);
		CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MESSAGE);
		CHECK_STR(esl_event_get_header(ev, "A"), "1");
		esl_event_destroy(&ev);
		esl_wire_destroy(&w);
	}
}

/* Parses one complete message. */
static esl_event_t *parse1(const char *s, size_t len, int api)
{
	esl_wire_t *w = esl_wire_create();
	esl_event_t *ev = NULL;

	esl_wire_set_api_build(w, api);
	esl_wire_feed(w, s, len);
	if (esl_wire_next(w, &ev) != ESL_WIRE_MESSAGE) {
		ev = NULL;
	}
	esl_wire_destroy(&w);
	return ev;
}

#define PARSE(lit) parse1(lit, sizeof(lit) - 1, 0)

static int header_count(esl_event_t *ev)
{
	int n = 0;
	esl_event_header_t *h;
	for (h = ev ? ev->headers : NULL; h; h = h->next) {
		n++;
	}
	return n;
}

static void test_outer_rules(void)
{
	esl_event_t *ev;
	esl_event_header_t *h;

	/* Q8: every outer message starts with Event-Name: SOCKET_DATA */
	ev = PARSE("Event-Name: CHANNEL_DATA\nContent-Type: command/reply\nReply-Text: %2BOK%0A\n\n");
	CHECK(ev != NULL);
	if (ev) {
		CHECK_INT(ev->event_id, ESL_EVENT_SOCKET_DATA);
		CHECK_STR(ev->headers->name, "Event-Name");
		CHECK_STR(ev->headers->value, "SOCKET_DATA");
		CHECK_STR(ev->headers->next->value, "CHANNEL_DATA");
		CHECK_STR(esl_event_get_header(ev, "Event-Name"), "SOCKET_DATA");
		CHECK_STR(esl_event_get_header(ev, "reply-text"), "+OK\n");
		CHECK(ev->body == NULL);
		CHECK(ev->flags & ESL_EF_ARENA);
		CHECK(ev->last_header && !ev->last_header->next);
		CHECK_STR(ev->last_header->name, "Reply-Text");
		/* the stored hash is the event code's: lookups through the public API find it */
		CHECK(esl_event_get_header_ptr(ev, "CONTENT-TYPE") != NULL);
		esl_event_destroy(&ev);
	}

	/* Q5: a CR before LF stays in the value; spaces and tabs after the colon are skipped */
	ev = PARSE("A: b\r\nB:\t \tc\nC:d\n\n");
	CHECK_STR(esl_event_get_header(ev, "A"), "b\r");
	CHECK_STR(esl_event_get_header(ev, "B"), "c");
	CHECK_STR(esl_event_get_header(ev, "C"), "d");
	esl_event_destroy(&ev);

	/* CR/LF runs before a line are skipped, line ends included ("\n\r\r\n" ends no
	 * block): the scan that skips them goes past stops of the line map */
	ev = PARSE("A: 1\n\r\r\nB: 2\n\r\r\r\r\nC: 3\n\n");
	CHECK(ev != NULL);
	if (ev) {
		CHECK_STR(esl_event_get_header(ev, "A"), "1");
		CHECK_STR(esl_event_get_header(ev, "B"), "2");
		CHECK_STR(esl_event_get_header(ev, "C"), "3");
		CHECK_INT(header_count(ev), 4);
		esl_event_destroy(&ev);
	}

	/* 16.1b: a line without ':' is skipped on its own; a Content-Length after it counts */
	ev = PARSE("Content-Type: x\nno colon here\nContent-Length: 2\n\nhi");
	CHECK(ev != NULL);
	if (ev) {
		CHECK_STR(ev->body, "hi");
		CHECK_INT(header_count(ev), 3);
		esl_event_destroy(&ev);
	}

	/* URL decoding: only two hex digits make an escape; %00 stays so nothing is cut */
	ev = PARSE("A: %41%42%zz%4\nB: x%00y\nC: 100%\nD: %2\nE: %e2%82%ac\n\n");
	CHECK_STR(esl_event_get_header(ev, "A"), "AB%zz%4");
	CHECK_STR(esl_event_get_header(ev, "B"), "x%00y");
	CHECK_STR(esl_event_get_header(ev, "C"), "100%");
	CHECK_STR(esl_event_get_header(ev, "D"), "%2");
	CHECK_STR(esl_event_get_header(ev, "E"), "\xe2\x82\xac");
	esl_event_destroy(&ev);

	/* arrays */
	ev = PARSE("X: ARRAY::a|:b|:c\nY: ARRAY::\nZ: ARRAY::q\nM: 1\nM: ARRAY::2|:3\nE: ARRAY::|:|:z\n\n");
	CHECK(ev != NULL);
	h = esl_event_get_header_ptr(ev, "X");
	CHECK(h && h->idx == 3);
	if (h && h->idx == 3) {
		CHECK_STR(h->value, "ARRAY::a|:b|:c");
		CHECK_STR(h->array[0], "a");
		CHECK_STR(h->array[2], "c");
	}
	CHECK(esl_event_get_header_ptr(ev, "Y") == NULL);
	h = esl_event_get_header_ptr(ev, "Z");
	CHECK(h && h->idx == 1 && !strcmp(h->value, "q") && !strcmp(h->array[0], "q"));
	h = esl_event_get_header_ptr(ev, "M");
	CHECK(h && h->idx == 3);
	CHECK_STR(esl_event_get_header(ev, "M"), "ARRAY::1|:2|:3");
	/* empty first pieces create nothing; the header starts with the first non-empty one */
	h = esl_event_get_header_ptr(ev, "E");
	CHECK(h && h->idx == 1);
	CHECK_STR(esl_event_get_header(ev, "E"), "z");
	esl_event_destroy(&ev);

	/* Q19: ARRAY:: anywhere; the first 7 characters of the whole value are dropped */
	ev = PARSE("P: pre ARRAY::a|:b\nN: ARRAY::ARRAY::ARRAY::x\nQ: ARRAY::ARRAY::\n\n");
	CHECK_STR(esl_event_get_header(ev, "P"), "ARRAY::AY::a|:b");
	CHECK_STR(esl_event_get_header(ev, "N"), "x");
	CHECK(esl_event_get_header_ptr(ev, "Q") == NULL);
	esl_event_destroy(&ev);

	/* an empty value deletes the headers of that name (User-Data in log/data) */
	ev = PARSE("A: 1\nB: 2\nA: 3\nA: \nUser-Data: \n\n");
	CHECK(esl_event_get_header_ptr(ev, "A") == NULL);
	CHECK(esl_event_get_header_ptr(ev, "User-Data") == NULL);
	CHECK_STR(esl_event_get_header(ev, "B"), "2");
	CHECK_INT(header_count(ev), 2);
	esl_event_destroy(&ev);

	/* names with their own rules go through the event code */
	ev = PARSE("_body: hello\nv[2]: x\n\n");
	CHECK(ev != NULL);
	if (ev) {
		CHECK(ev->flags & ESL_EF_ARENA);
		CHECK_STR(ev->body, "hello");
		CHECK_STR(esl_event_get_header(ev, "_body"), "hello");
		h = esl_event_get_header_ptr(ev, "v");
		CHECK(h && h->idx == 3);
		CHECK_STR(esl_event_get_header_idx(ev, "v", 2), "x");
		esl_event_destroy(&ev);
	}

	/* Content-Length 0: an empty body, not none */
	ev = PARSE("Content-Type: a\nContent-Length: 0\n\n");
	CHECK(ev && ev->body && ev->body[0] == '\0' && esl_wire_body_length(ev) == 0);
	esl_event_destroy(&ev);

	/* equal duplicates are fine, leading zeros included */
	ev = PARSE("Content-Length: 3\nContent-Length: 003\n\nabc");
	CHECK(ev && ev->body && !strcmp(ev->body, "abc"));
	esl_event_destroy(&ev);

	/* a body with NUL bytes is delivered whole */
	{
		static const char msg[] = "Content-Type: x\nContent-Length: 5\n\na\0b\0c";
		ev = parse1(msg, sizeof(msg) - 1, 0);
		CHECK(ev && ev->body && esl_wire_body_length(ev) == 5 && !memcmp(ev->body, "a\0b\0c", 6));
		esl_event_destroy(&ev);
	}
}

/* The span of names and values that the Go binding copies whole: each header's lengths are
 * where the next string starts, and any change through the API makes the span unusable. */
static void check_span_lengths(esl_event_t *ev)
{
	const char *text;
	size_t len;

	CHECK_INT(esl_wire_event_text(ev, &text, &len, NULL), 0);
	CHECK(eslt_span_consistent(ev));
}

static void test_event_text_span(void)
{
	static const char plain[] = "Event-Name: CUSTOM\nA: %41%3Ab\nEmpty-Value-Not: x\nB:   \tv\nContent-Length: 3\n\nxyz";
	static const char outer[] = "Content-Type: api/response\nContent-Length: 4\n\n+OK\n";
	const char *text;
	size_t len;
	int change;
	esl_event_t *ev = NULL, *dup = NULL;

	CHECK_INT(esl_wire_parse_plain(NULL, plain, sizeof(plain) - 1, &ev), ESL_SUCCESS);
	if (ev) {
		check_span_lengths(ev);
		CHECK_INT(esl_event_dup(&dup, ev), ESL_SUCCESS);
		CHECK_INT(esl_wire_event_text(dup, &text, &len, NULL), -1);
		esl_event_destroy(&dup);
		esl_event_destroy(&ev);
	}
	/* any change through the API: a header added at the bottom or at the top, one removed
	 * from the middle or from the end, the body replaced */
	for (change = 0; change < 5; change++) {
		CHECK_INT(esl_wire_parse_plain(NULL, plain, sizeof(plain) - 1, &ev), ESL_SUCCESS);
		if (!ev) {
			continue;
		}
		switch (change) {
		case 0:
			CHECK_INT(esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "Added", "1"), ESL_SUCCESS);
			break;
		case 1:
			CHECK_INT(esl_event_add_header_string(ev, ESL_STACK_TOP, "Event-Name", "X"), ESL_SUCCESS);
			break;
		case 2:
			CHECK_INT(esl_event_del_header(ev, "A"), ESL_SUCCESS);
			break;
		case 3:
			CHECK_INT(esl_event_del_header(ev, "Content-Length"), ESL_SUCCESS);
			break;
		default:
			CHECK_INT(esl_event_set_body(ev, "other"), ESL_SUCCESS);
			break;
		}
		CHECK_INT(esl_wire_event_text(ev, &text, &len, NULL), -1);
		esl_event_destroy(&ev);
	}
	/* an outer message, with the SOCKET_DATA header in front */
	ev = parse1(outer, sizeof(outer) - 1, 0);
	if (ev) {
		check_span_lengths(ev);
		CHECK_STR(ev->headers->name, "Event-Name");
		esl_event_destroy(&ev);
	}
	/* events built through the API have no span */
	CHECK_INT(esl_event_create(&ev, ESL_EVENT_CUSTOM), ESL_SUCCESS);
	CHECK_INT(esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "A", "b"), ESL_SUCCESS);
	CHECK_INT(esl_wire_event_text(ev, &text, &len, NULL), -1);
	esl_event_destroy(&ev);
}

/* Regressions of two faults fuzz_wire found in the line scanner before it was committed:
 * the stop map read past the text when a line ended near a 64-byte block boundary, and the
 * JSON fallback (names with '[') read a body with a NUL byte as if it ended there. */
static void test_fuzz_regressions(void)
{
	size_t vlen;

	for (vlen = 0; vlen <= 200; vlen++) {
		/* exactly as long as the text, so AddressSanitizer sees any read past it */
		size_t len = 3 + vlen + 6, i; /* "Va:", the value, "\nB: c\n" */
		char *text = malloc(len), why[300];
		esl_wire_t *b = esl_wire_create();
		esl_event_t *ea = NULL, *eb = NULL;

		if (!text || !b) {
			CHECK(0);
			free(text);
			esl_wire_destroy(&b);
			return;
		}
		memcpy(text, "Va:", 3);
		for (i = 0; i < vlen; i++) {
			text[3 + i] = (char) ('a' + i % 26);
		}
		memcpy(text + 3 + vlen, "\nB: c\n", 6);
		esl_wire_set_api_build(b, 1);
		CHECK_INT(esl_wire_parse_plain(NULL, text, len, &ea), ESL_SUCCESS);
		CHECK_INT(esl_wire_parse_plain(b, text, len, &eb), ESL_SUCCESS);
		if (eslt_event_diff(ea, eb, why, sizeof(why))) {
			fprintf(stderr, "value of %zu bytes: %s\n", vlen, why);
			CHECK(0);
		}
		CHECK_INT(ea ? (long) strlen(esl_event_get_header(ea, "Va") ? esl_event_get_header(ea, "Va") : "") : -1,
				  vlen ? (long) vlen : 0);
		CHECK_STR(ea ? esl_event_get_header(ea, "B") : NULL, "c");
		esl_event_destroy(&ea);
		esl_event_destroy(&eb);
		esl_wire_destroy(&b);
		free(text);
	}
	{
		static const char msg[] = "Content-Type: text/event-json\nContent-Length: 14\n\n{\"a[1]\":\"x\"}\0{";
		esl_wire_t *a = esl_wire_create();
		esl_event_t *ea = NULL, *ia = NULL;

		esl_wire_feed(a, msg, sizeof(msg) - 1);
		CHECK(esl_wire_next(a, &ea) == ESL_WIRE_MESSAGE);
		CHECK_INT(esl_wire_decode_inner(a, ea, &ia), ESL_SUCCESS);
		CHECK(ia == NULL);
		esl_event_destroy(&ia);
		esl_event_destroy(&ea);
		esl_wire_destroy(&a);
	}
}

static void test_inner_rules(void)
{
	esl_event_t *ev = NULL;
	esl_event_header_t *h;
	static const char plain[] = "Event-Name: CHANNEL_CREATE\nA: %41\nT:\tv\nS:   s\nX: ARRAY::1|:2\nno colon\n"
								"Content-Length: 3\n\nhello\n\nworld";

	CHECK_INT(esl_wire_parse_plain(NULL, plain, sizeof(plain) - 1, &ev), ESL_SUCCESS);
	CHECK(ev != NULL);
	if (ev) {
		CHECK_INT(ev->event_id, ESL_EVENT_CHANNEL_CREATE);
		CHECK(ev->flags & ESL_EF_ARENA);
		CHECK_STR(esl_event_get_header(ev, "A"), "A");
		CHECK_STR(esl_event_get_header(ev, "T"), "\tv"); /* only spaces are skipped */
		CHECK_STR(esl_event_get_header(ev, "S"), "s");
		h = esl_event_get_header_ptr(ev, "X");
		CHECK(h && h->idx == 2);
		/* Q6: everything after the empty line, not Content-Length bytes */
		CHECK_STR(ev->body, "hello\n\nworld");
		CHECK_INT(esl_wire_body_length(ev), 12);
		esl_event_destroy(&ev);
	}

	/* no Content-Length: no body even though bytes follow the empty line */
	CHECK_INT(esl_wire_parse_plain(NULL, "Event-Name: API\n\nrest", 21, &ev), ESL_SUCCESS);
	CHECK(ev && ev->body == NULL && ev->event_id == ESL_EVENT_API);
	esl_event_destroy(&ev);

	/* Q7: an unknown name keeps CUSTOM; a second Event-Name replaces the first */
	CHECK_INT(esl_wire_parse_plain(NULL, "Event-Name: CERT_RELOAD\n\n", 25, &ev), ESL_SUCCESS);
	CHECK(ev && ev->event_id == ESL_EVENT_CUSTOM);
	esl_event_destroy(&ev);
	CHECK_INT(esl_wire_parse_plain(NULL, "Event-Name: CUSTOM\nX: 1\nEvent-Name: HEARTBEAT\n", 46, &ev), ESL_SUCCESS);
	CHECK(ev && ev->event_id == ESL_EVENT_HEARTBEAT && header_count(ev) == 2);
	CHECK_STR(esl_event_get_header(ev, "Event-Name"), "HEARTBEAT");
	esl_event_destroy(&ev);

	/* the header section may end without an empty line, or be empty */
	CHECK_INT(esl_wire_parse_plain(NULL, "A: 1\nB: 2", 9, &ev), ESL_SUCCESS);
	CHECK(ev && header_count(ev) == 2 && !ev->body);
	CHECK_STR(esl_event_get_header(ev, "B"), "2");
	esl_event_destroy(&ev);
	CHECK_INT(esl_wire_parse_plain(NULL, "\nContent-Length: 1\n\nx", 21, &ev), ESL_SUCCESS);
	CHECK(ev && header_count(ev) == 0 && !ev->body);
	esl_event_destroy(&ev);
	CHECK_INT(esl_wire_parse_plain(NULL, "", 0, &ev), ESL_SUCCESS);
	CHECK(ev && header_count(ev) == 0);
	esl_event_destroy(&ev);

	/* NUL in the header section: not decodable; NUL in the body: kept */
	CHECK_INT(esl_wire_parse_plain(NULL, "A: 1\0\nB: 2\n\n", 12, &ev), ESL_FAIL);
	CHECK(ev == NULL);
	CHECK_INT(esl_wire_parse_plain(NULL, "Content-Length: 3\n\na\0b", 22, &ev), ESL_SUCCESS);
	CHECK(ev && ev->body && esl_wire_body_length(ev) == 3 && !memcmp(ev->body, "a\0b", 4));
	esl_event_destroy(&ev);

	/* decode_inner dispatches on Content-Type */
	{
		static const char msg_plain[] = "Content-Length: 27\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\nA: b\n";
		static const char msg_json[] = "Content-Length: 38\nContent-Type: text/event-json\n\n{\"Event-Name\":\"HEARTBEAT\",\"A\":\"b\"}    ";
		static const char msg_xml[] = "Content-Length: 8\nContent-Type: text/event-xml\n\n<event/>";
		static const char msg_badjson[] = "Content-Length: 3\nContent-Type: text/event-json\n\n{\0}";
		esl_event_t *o, *in = NULL;

		o = parse1(msg_plain, sizeof(msg_plain) - 1, 0);
		CHECK_INT(esl_wire_decode_inner(NULL, o, &in), ESL_SUCCESS);
		CHECK(in && in->event_id == ESL_EVENT_HEARTBEAT);
		CHECK_STR(esl_event_get_header(in, "A"), "b");
		esl_event_destroy(&in);
		esl_event_destroy(&o);

		o = parse1(msg_json, sizeof(msg_json) - 1, 0);
		CHECK_INT(esl_wire_decode_inner(NULL, o, &in), ESL_SUCCESS);
		CHECK(in && in->event_id == ESL_EVENT_HEARTBEAT);
		CHECK_STR(esl_event_get_header(in, "A"), "b");
		esl_event_destroy(&in);
		esl_event_destroy(&o);

		o = parse1(msg_xml, sizeof(msg_xml) - 1, 0);
		CHECK_INT(esl_wire_decode_inner(NULL, o, &in), ESL_SUCCESS);
		CHECK(in == NULL && o && !strcmp(o->body, "<event/>"));
		esl_event_destroy(&o);

		o = parse1(msg_badjson, sizeof(msg_badjson) - 1, 0);
		CHECK(o != NULL);
		CHECK_INT(esl_wire_decode_inner(NULL, o, &in), ESL_SUCCESS);
		CHECK(in == NULL);
		esl_event_destroy(&o);
	}
}

/* Parser events must behave like any other event under the event API. */
static void test_arena_interop(void)
{
	static const char msg[] = "Content-Type: x\nA: 1\nX: ARRAY::a|:b\nS: ARRAY::s\nContent-Length: 4\n\nbody";
	esl_event_t *ev = parse1(msg, sizeof(msg) - 1, 0), *dup = NULL;
	char *txt = NULL;

	CHECK(ev != NULL);
	if (!ev) {
		return;
	}
	CHECK_INT(esl_event_add_header_string(ev, ESL_STACK_PUSH, "X", "c"), ESL_SUCCESS);
	CHECK_STR(esl_event_get_header(ev, "X"), "ARRAY::a|:b|:c");
	CHECK_INT(esl_event_add_header_string(ev, ESL_STACK_PUSH, "S", "t"), ESL_SUCCESS);
	CHECK_STR(esl_event_get_header(ev, "S"), "ARRAY::s|:t");
	CHECK_INT(esl_event_add_header_string(ev, ESL_STACK_TOP, "A", "2"), ESL_SUCCESS);
	CHECK_STR(esl_event_get_header(ev, "A"), "2");
	CHECK_INT(esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "New", "n"), ESL_SUCCESS);
	esl_event_del_header(ev, "Content-Type");
	CHECK(esl_event_get_header(ev, "Content-Type") == NULL);
	CHECK_INT(esl_event_dup(&dup, ev), ESL_SUCCESS);
	CHECK(dup && !(dup->flags & ESL_EF_ARENA));
	CHECK_STR(esl_event_get_header(dup, "X"), "ARRAY::a|:b|:c");
	CHECK_INT(esl_event_serialize(ev, &txt, ESL_FALSE), ESL_SUCCESS);
	CHECK(txt && strstr(txt, "New: n\n"));
	free(txt);
	CHECK_INT(esl_event_set_body(ev, "other"), ESL_SUCCESS);
	CHECK_STR(ev->body, "other");
	CHECK_INT(esl_wire_body_length(ev), 5);
	esl_event_destroy(&dup);
	esl_event_destroy(&ev);
	CHECK(ev == NULL);
}

static void test_limits_and_errors(void)
{
	esl_wire_t *w = esl_wire_create();
	esl_event_t *ev = NULL;
	size_t hb = 0, mb = 0;
	char big[300];

	esl_wire_set_limits(w, 64, 10);
	esl_wire_get_limits(w, &hb, &mb);
	CHECK(hb == 64 && mb == 10);

	/* exactly at the limits is fine */
	memset(big, 'a', sizeof(big));
	memcpy(big, "Content-Length: 10\nX: ", 22);
	big[62] = '\n';
	big[63] = '\n';
	memcpy(big + 64, "0123456789", 10);
	esl_wire_feed(w, big, 74);
	CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MESSAGE);
	CHECK(ev && esl_wire_body_length(ev) == 10);
	esl_event_destroy(&ev);

	/* a block at the limit without a terminator yet can only grow past it */
	memset(big, 'b', 64);
	esl_wire_feed(w, big, 64);
	CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_ERROR);
	CHECK(strstr(esl_wire_error(w), "header block") != NULL);
	/* errors are sticky until a reset */
	CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_ERROR);
	CHECK_INT(esl_wire_feed(w, "x", 1), -1);
	esl_wire_reset(w);
	CHECK_STR(esl_wire_error(w), "");
	CHECK_INT(esl_wire_feed(w, "Content-Length: 11\n\n", 20), 0);
	CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_ERROR);
	CHECK(strstr(esl_wire_error(w), "exceeds the limit of 10") != NULL);
	esl_wire_destroy(&w);
	esl_wire_destroy(&w); /* a second destroy of the NULLed pointer is harmless */
}

/* A large body goes straight into the event when nothing else is buffered. */
static void test_large_body_in_place(void)
{
	esl_wire_t *w = esl_wire_create();
	const size_t blen = 3 * 1024 * 1024 + 7;
	char hdr[64], *p;
	size_t room, got = 0;
	esl_event_t *ev = NULL;
	int direct = 0, ok = 1;

	snprintf(hdr, sizeof(hdr), "Content-Length: %zu\n\n", blen);
	esl_wire_feed(w, hdr, strlen(hdr));
	CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MORE);
	CHECK(esl_wire_buffered(w));
	while (got < blen) {
		size_t n, i;
		p = esl_wire_reserve(w, &room);
		if (!p) {
			ok = 0;
			break;
		}
		if (room <= blen - got && room == blen - got) {
			direct++;
		}
		n = room < 50000 ? room : 50000;
		if (n > blen - got) {
			n = blen - got;
		}
		for (i = 0; i < n; i++) {
			p[i] = (char) ((got + i) * 7);
		}
		esl_wire_commit(w, n);
		got += n;
		if (esl_wire_next(w, &ev) == ESL_WIRE_MESSAGE) {
			break;
		}
	}
	CHECK(ok);
	CHECK(direct > 0);
	CHECK(ev && esl_wire_body_length(ev) == blen);
	if (ev) {
		size_t i, bad = 0;
		for (i = 0; i < blen; i++) {
			bad += ev->body[i] != (char) (i * 7);
		}
		CHECK_INT(bad, 0);
	}
	CHECK(!esl_wire_buffered(w));
	esl_event_destroy(&ev);
	esl_wire_destroy(&w);
}

/* text/event-json bodies decoded by the wire parser's own build and by esl_event_create_json
 * (the api-build parser) must give the same event, headers, hashes, arrays and body. */
static void test_json_rules(void)
{
	static const char *const cases[] = {
		"{\"Event-Name\":\"CHANNEL_CREATE\",\"A\":\"1\",\"B\":\"x:y\"}",
		"{\"Event-Name\":\"CUSTOM\",\"Event-Name\":\"HEARTBEAT\",\"A\":\"1\"}",
		"{\"A\":\"\",\"B\":\"2\",\"B\":\"\",\"C\":\"3\"}",
		"{\"A\":\"ARRAY::1|:2|:3\",\"A\":\"4\",\"B\":\"ARRAY::x\",\"C\":\"ARRAY::\"}",
		"{\"A\":[\"1\",\"2\"],\"A\":[\"3\"],\"B\":\"s\",\"B\":[\"t\",\"\",7,null,{\"k\":[1]}]}",
		"{\"E\":[\"\"],\"F\":[\"ARRAY::p|:q\"],\"G\":[\"xARRAY::ARRAY::long enough\"]}",
		"{\"_body\":\"first\",\"A\":\"1\",\"_BODY\":\"second\\nline\"}",
		"{\"_body\":[\"a\",\"b\"],\"A\":\"1\"}",
		"{\"A[1]\":\"x\",\"A\":\"y\"}",
		"{\"Event-Name\":\"HEARTBEAT\",\"N\":1.5e3,\"T\":true,\"O\":{\"x\":\"y\"},\"U\":\"\\u00e9\\u003a\\ud83d\\ude00\"}",
		"{\"a\\u005bb\":\"bracket by escape\"}",
		"{\"K\":\"ARRAY\\u003a:v|:w\"}",
		"{}",
		"  {\"A\":\"1\"}  \n",
		"{\"A\":\"1\"} x",
		"{\"A\":\"1\"",
		"[\"A\"]",
		"{\"Event-Name\":\"MESSAGE\",\"Long-Header-Name-That-Is-Longer-Than-Thirty-Two-Bytes-Easily\":\"v\","
		"\"x\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		esl_wire_t *a = esl_wire_create(), *b = esl_wire_create();
		esl_event_t *ea = NULL, *eb = NULL, *ia = NULL, *ib = NULL;
		char head[128], why[300];
		size_t len = strlen(cases[i]);
		int n = snprintf(head, sizeof(head), "Content-Type: text/event-json\nContent-Length: %zu\n\n", len);

		esl_wire_set_api_build(b, 1);
		esl_wire_feed(a, head, (size_t) n);
		esl_wire_feed(a, cases[i], len);
		esl_wire_feed(b, head, (size_t) n);
		esl_wire_feed(b, cases[i], len);
		CHECK(esl_wire_next(a, &ea) == ESL_WIRE_MESSAGE);
		CHECK(esl_wire_next(b, &eb) == ESL_WIRE_MESSAGE);
		CHECK(esl_wire_decode_inner(a, ea, &ia) == ESL_SUCCESS);
		CHECK(esl_wire_decode_inner(b, eb, &ib) == ESL_SUCCESS);
		if ((ia || ib) && eslt_event_diff(ia, ib, why, sizeof(why))) {
			fprintf(stderr, "json case %zu: %s\n", i, why);
			CHECK(0);
		}
		{
			/* where the parser offers the span of strings, it must give the strings' lengths */
			const char *text;
			size_t text_len;
			int has_span = ia && !esl_wire_event_text(ia, &text, &text_len, NULL);

			if (has_span) {
				check_span_lengths(ia);
			}
			if (i == 0) {
				CHECK(has_span);
			} else if (i == 6) {
				CHECK(!has_span);
			}
		}
		esl_event_destroy(&ia);
		esl_event_destroy(&ib);
		esl_event_destroy(&ea);
		esl_event_destroy(&eb);
		esl_wire_destroy(&a);
		esl_wire_destroy(&b);
	}
	{
		/* the common case is one block, like a plain event */
		esl_wire_t *a = esl_wire_create();
		esl_event_t *ea = NULL, *ia = NULL;
		static const char msg[] = "Content-Type: text/event-json\nContent-Length: 28\n\n{\"Event-Name\":\"API\",\"A\":\"1\"}";

		esl_wire_feed(a, msg, sizeof(msg) - 1);
		CHECK(esl_wire_next(a, &ea) == ESL_WIRE_MESSAGE);
		CHECK(esl_wire_decode_inner(a, ea, &ia) == ESL_SUCCESS);
		CHECK(ia && (ia->flags & ESL_EF_ARENA) && ia->event_id == ESL_EVENT_API);
		CHECK_STR(ia ? esl_event_get_header(ia, "a") : NULL, "1");
		esl_event_destroy(&ia);
		esl_event_destroy(&ea);
		esl_wire_destroy(&a);
	}
}

/* One text through eslt_spans_check: want 1 when the spans must be given, 0 when the text must
 * take the full parse. */
static void spans_case_as(esl_wire_t *w, const char *text, size_t len, int json, int want)
{
	char why[300] = "";
	int got = eslt_spans_check(w, text, len, json, why, sizeof(why));

	if (got != want) {
		fprintf(stderr, "spans of \"%.*s\": %d, want %d %s\n", (int) (len > 80 ? 80 : len), text, got, want, why);
	}
	CHECK_INT(got, want);
}

static void spans_case(esl_wire_t *w, const char *text, size_t len, int want)
{
	spans_case_as(w, text, len, 0, want);
}

/* A text and whether its spans must be given (1) or declined (0). */
typedef struct {
	const char *text;
	int spans;
} spans_want_t;

static void spans_cases(esl_wire_t *w, const spans_want_t *cases, size_t n, int json)
{
	size_t i;

	for (i = 0; i < n; i++) {
		spans_case_as(w, cases[i].text, strlen(cases[i].text), json, cases[i].spans);
	}
}

/* "Va:" and a value of n bytes (every seventh a ':' with colons) with an escape in its middle,
 * then "\nB: %" and a last byte that is a line end for odd n: its line ends, colons and
 * escapes fall at every place around the 64-byte blocks of the parser's maps as n grows. The
 * buffer has the exact size, so that AddressSanitizer sees any read past it. NULL when
 * memory ran out. */
static char *boundary_text(size_t n, int colons, size_t *len)
{
	char *text;
	size_t k;

	*len = 3 + n + 6;
	if (!(text = malloc(*len))) {
		return NULL;
	}
	memcpy(text, "Va:", 3);
	for (k = 0; k < n; k++) {
		text[3 + k] = (char) (colons && k % 7 == 0 ? ':' : 'a' + k % 26);
	}
	if (n >= 3) {
		memcpy(text + 3 + n / 2 - 1, "%4A", 3);
	}
	memcpy(text + 3 + n, "\nB: %", 5);
	text[*len - 1] = (char) (n & 1 ? '\n' : 'x');
	return text;
}

/* Calls fn for every plain and JSON event message of the recordings. */
static void each_recorded_event(eslt_event_fn fn, void *ctx)
{
	char **files = eslt_s2c_files();
	size_t f;

	CHECK(files != NULL);
	for (f = 0; files && files[f]; f++) {
		CHECK_INT(eslt_each_event_message(files[f], fn, ctx), 0);
	}
	eslt_free_list(files);
}

/* What test_plain_spans saw of the recorded events. */
typedef struct {
	esl_wire_t *w;
	size_t given, declined, given_json;
} spans_seen_t;

static void spans_of_recorded(const char *file, esl_wire_t *rd, esl_event_t *msg, int json, void *ctx)
{
	spans_seen_t *seen = ctx;
	char why[300];
	int r = eslt_spans_check(seen->w, msg->body, esl_wire_body_length(msg), json, why, sizeof(why));

	(void) rd;
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", file, why);
	}
	CHECK(r >= 0);
	seen->given += r == 1;
	seen->declined += r == 0;
	seen->given_json += json && r == 1;
}

/* esl_wire_plain_spans and esl_wire_json_spans, which the Go binding packs events from, give
 * exactly the event the full parse builds, and decline every text that needs the full rules. */
static void test_plain_spans(void)
{
	static const spans_want_t cases[] = {
		{ "Event-Name: HEARTBEAT\nA: b\n", 1 },
		{ "Event-Name: CHANNEL_ANSWER\nA: %41%3a%20x%\nB: %4\nC: %zz%\nD: %00%41\nE: x%4", 1 },
		{ "A: %41\n", 1 },
		{ "A: x%41\n", 1 },
		{ "A: xyz%41\n", 1 },
		{ "A: 1:2:3\nT:\tv\nS:    s\nR: r\r\nno colon line\nZ: z", 1 },
		{ "Event-Name: SWITCH_EVENT_DTMF\n\n", 1 },
		{ "Event-Name: NOT_AN_EVENT\n", 1 },
		{ "Event-Name: CUSTOM\nContent-Length: 3\n\nabc", 1 },
		{ "Event-Name: CUSTOM\nContent-Length: 9\n\nbody\n\nmore", 1 },
		{ "Content-Length: 0\n\n", 1 },
		{ "Event-Name: CUSTOM\n\nbody without a length", 1 },
		{ "content-LENGTH: 2\n\nhi", 1 },
		{ "A%41: x\n", 1 },
		{ "", 1 },
		{ "\n", 1 },
		{ "no colon at all", 1 },
		/* the full rules: empty values delete, ARRAY:: makes arrays, '[' and _body names, a
		 * second Event-Name, a NUL byte in the header section */
		{ "A: 1\nA:\n", 0 },
		{ "A:    \n", 0 },
		{ "X: ARRAY::a|:b\n", 0 },
		{ "X: ARRAY%3A%3Aa|:b\n", 0 },
		{ "X: ARRAY:%3Aa\n", 0 },
		{ "A[1]: x\n", 0 },
		{ "_body: x\n", 0 },
		{ "Event-Name: CUSTOM\nevent-name: HEARTBEAT\n", 0 },
	};
	static const char with_nul[] = "A: 1\0\nB: 2\n";
	static const char nul_body[] = "Content-Length: 3\n\na\0b";
	spans_seen_t seen = { esl_wire_create(), 0, 0, 0 };
	esl_wire_t *w = seen.w;
	size_t i;

	CHECK(w != NULL);
	if (!w) {
		return;
	}
	spans_cases(w, cases, sizeof(cases) / sizeof(cases[0]), 0);
	spans_case(w, with_nul, sizeof(with_nul) - 1, 0);
	spans_case(w, nul_body, sizeof(nul_body) - 1, 1);

	/* escapes and line ends at every place around the 64-byte blocks of the stop map, from
	 * buffers of the exact size so that AddressSanitizer sees any read past them (values of
	 * 1 byte on: an empty one takes the full rules) */
	for (i = 1; i <= 140; i++) {
		size_t len;
		char *text = boundary_text(i, 0, &len);

		if (!text) {
			CHECK(0);
			break;
		}
		spans_case(w, text, len, 1);
		free(text);
	}

	/* JSON: the decoded strings as spans, body included; arrays and the other full rules not */
	{
		static const spans_want_t json_cases[] = {
			{ "{\"Event-Name\":\"HEARTBEAT\",\"A\":\"b\"}", 1 },
			{ "{\"A\":\"\\u00e9\\n%41\",\"Num\":12,\"Obj\":{\"x\":\"y\"},\"B\":\"c\"}", 1 },
			{ "{\"Event-Name\":\"CUSTOM\",\"_body\":\"hello\",\"Z\":\"z\"}", 1 },
			{ "{\"_BODY\":\"\"}", 1 },
			{ "{}", 1 },
			{ "{\"A\":[\"x\",\"y\"]}", 0 },
			{ "{\"A\":\"\"}", 0 },
			{ "{\"A\":\"ARRAY::x|:y\"}", 0 },
			{ "{\"a[1]\":\"x\"}", 0 },
			{ "{\"Event-Name\":\"CUSTOM\",\"event-name\":\"DTMF\"}", 0 },
			{ "[1,2]", 0 },
			{ "{\"A\":", 0 },
		};

		spans_cases(w, json_cases, sizeof(json_cases) / sizeof(json_cases[0]), 1);
	}

	/* every plain and JSON event of the recordings: all of them are given as spans, and match */
	each_recorded_event(spans_of_recorded, &seen);
	CHECK(seen.given >= 98);
	CHECK(seen.given_json >= 49);
	CHECK_INT(seen.declined, 0);
	esl_wire_destroy(&seen.w);
}

/* esl_wire_plain_check, which lets the Go binding keep a plain event as its text: it takes
 * the common events (every recorded one), declines what needs the full rules or might, and
 * whatever it takes reads, line by line, as the spans and the full parse (eslt_spans_check
 * compares all three). */
static void test_plain_check(void)
{
	static const spans_want_t cases[] = {
		{ "Event-Name: HEARTBEAT\nA: b\n", 1 },
		{ "A: x\na: y\nA-B: z\n: empty name\n_BODY: b\ncontent-length: 2\n\nhi", 1 },
		{ "A: 1:2:3\nT:\tv\nS:    s\nR: r\r\nno colon line\nZ: z", 1 },
		{ "A: %3A%3a%40%00%zz%4\nB: %", 1 },
		{ "Event-Name:  CHANNEL_ANSWER\nA%2F: ARRA\n\nARRAY::body", 1 },
		{ "", 1 },
		{ "no colon at all", 1 },
		/* values that do not start with one space and a byte that is not one */
		{ "A:x\nB:  y\nC: z", 1 },
		{ "A:\t\nB: \t", 1 },
		/* the full rules */
		{ "A: 1\nA:\n", 0 },
		{ "A: \n", 0 },
		{ "A:  ", 0 },
		{ "A: 1\nB:", 0 },
		{ "A:    \n", 0 },
		{ "X: ARRAY::a|:b\n", 0 },
		{ "A[1]: x\n", 0 },
		{ "_body: x\n", 0 },
		{ "Event-Name: CUSTOM\nevent-name: HEARTBEAT\n", 0 },
		/* declined to be safe, though the spans take them */
		{ "X: ARRAY:y\n", 0 },
		{ "X: ARRAY%3ay\n", 0 },
		{ "X: %41RRAY::y\n", 0 },
		{ "X: AR%52AY\n", 0 },
		{ "X: a[b]\n", 0 },
		{ "Event-Name: CHANNEL%5FANSWER\n", 0 },
	};
	static const char with_nul[] = "A: 1\0\nB: 2\n";
	static const char nul_body[] = "Content-Length: 3\n\na\0b";
	esl_wire_t *w = esl_wire_create();
	esl_wire_text_info_t ti;
	char **files = eslt_s2c_files(), why[300];
	size_t i, f, taken = 0;

	CHECK(w != NULL);
	if (!w) {
		eslt_free_list(files);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = esl_wire_plain_check(w, cases[i].text, strlen(cases[i].text), &ti);

		if (r != cases[i].spans) {
			fprintf(stderr, "plain check of %s: %d\n", cases[i].text, r);
		}
		CHECK_INT(r, cases[i].spans);
		CHECK(eslt_spans_check(w, cases[i].text, strlen(cases[i].text), 0, why, sizeof(why)) >= 0);
	}
	/* the type, from an Event-Name line anywhere in the header section, its spaces skipped */
	{
		static const char typed[] = "A: 1\nevent-NAME:   CHANNEL_ANSWER\nB: 2\n\nEvent-Name: API";
		CHECK_INT(esl_wire_plain_check(w, typed, sizeof(typed) - 1, &ti), 1);
	}
	CHECK_INT(ti.event_id, ESL_EVENT_CHANNEL_ANSWER);
	CHECK_INT(esl_wire_plain_check(w, "Event-Name: NO_SUCH_EVENT\n", 26, &ti), 1);
	CHECK_INT(ti.event_id, ESL_EVENT_CUSTOM);
	CHECK_INT(esl_wire_plain_check(w, with_nul, sizeof(with_nul) - 1, &ti), 0);
	CHECK_INT(esl_wire_plain_check(w, nul_body, sizeof(nul_body) - 1, &ti), 1);
	CHECK(ti.has_body && ti.body_off == 19 && ti.body_len == 3 && ti.header_len == 18);
	CHECK(ti.member_at && ti.nmember == 1 && ti.member_at[0] == 0);
	/* the table of header lines: where each starts; a line without ':' and the body's lines
	 * are left out */
	{
		static const char lines[] = "A: 1\nno colon\nBb: x:y\nContent-Length: 4\n\nC: 3";

		CHECK_INT(esl_wire_plain_check(w, lines, sizeof(lines) - 1, &ti), 1);
		CHECK(ti.member_at && ti.nmember == 3 && ti.member_at[0] == 0 && ti.member_at[1] == 14 && ti.member_at[2] == 22);
		CHECK(ti.name_len && ti.name_len[0] == 1 && ti.name_len[1] == 2 && ti.name_len[2] == 14);
	}

	/* line ends, colons and escapes at every place around the 64-byte blocks of the maps */
	for (i = 1; i <= 140; i++) {
		size_t len;
		char *text = boundary_text(i, 1, &len);

		if (!text) {
			CHECK(0);
			break;
		}
		CHECK_INT(esl_wire_plain_check(w, text, len, &ti), 1);
		CHECK(ti.member_at && ti.nmember > 0);
		CHECK(eslt_spans_check(w, text, len, 0, why, sizeof(why)) == 1);
		free(text);
	}

	for (f = 0; files && files[f]; f++) {
		size_t len;
		char *data = eslt_read_file(files[f], &len);
		esl_wire_t *rd = esl_wire_create();
		esl_event_t *ev = NULL;

		if (data && rd && esl_wire_feed(rd, data, len) == 0) {
			while (esl_wire_next(rd, &ev) == ESL_WIRE_MESSAGE) {
				const char *ct = esl_event_get_header(ev, "content-type");

				if (ct && !strcasecmp(ct, "text/event-plain") && ev->body) {
					CHECK_INT(esl_wire_plain_check(w, ev->body, esl_wire_body_length(ev), &ti), 1);
					taken++;
				}
				esl_event_destroy(&ev);
			}
		}
		esl_wire_destroy(&rd);
		free(data);
	}
	CHECK(taken >= 49);

	/* JSON: string members with plain names; everything else goes to the spans */
	{
		static const spans_want_t json_cases[] = {
			{ "{\"Event-Name\":\"HEARTBEAT\",\"A\":\"b\"}", 1 },
			{ " { \"A\" : \"x\\\"y\\\\\\/\\n\" , \"a\":\"IPv6 fd00::2\",\"_BODY\":\"\",\"_body\":\"b\\tc\"}\n", 1 },
			{ "{}", 1 },
			{ "{\"A\":\"\\u00e9\"}", 0 },
			{ "{\"\\u0041\":\"x\"}", 0 },
			{ "{\"A\\\"B\":\"x\"}", 0 },
			{ "{\"_body\":\"\\u0041\"}", 0 },
			{ "{\"Num\":12}", 0 },
			{ "{\"A\":[\"x\"]}", 0 },
			{ "{\"A\":\"\"}", 0 },
			{ "{\"A\":\"ARRAY::x|:y\"}", 0 },
			{ "{\"a[1]\":\"x\"}", 0 },
			{ "{\"Event-Name\":\"CUSTOM\",\"event-name\":\"DTMF\"}", 0 },
			{ "{\"Event-Name\":\"CUST\\tOM\"}", 0 },
			{ "[1,2]", 0 },
			{ "{\"A\":\"x\"", 0 },
			{ "{\"A\":\"x\"} x", 0 },
			{ "{\"A\":\"x\001\"}", 0 },
		};

		for (i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
			const char *text = json_cases[i].text;
			int r = esl_wire_json_check(w, text, strlen(text), &ti);

			if (r != json_cases[i].spans) {
				fprintf(stderr, "JSON check of %s: %d\n", text, r);
			}
			CHECK_INT(r, json_cases[i].spans);
			CHECK(eslt_spans_check(w, text, strlen(text), 1, why, sizeof(why)) >= 0);
		}
		CHECK_INT(esl_wire_json_check(w, json_cases[1].text, strlen(json_cases[1].text), &ti), 1);
		CHECK(ti.has_body && ti.body_len == 4 && !memcmp(json_cases[1].text + ti.body_off, "b\\tc", 4));
	}
	{
		/* the array marker's "::" at every offset of the compact check's 64-byte blocks, and
		 * so across each block boundary; a value with single colons only is taken */
		char text[300];
		int pad;

		for (pad = 0; pad < 140; pad++) {
			int n = snprintf(text, sizeof(text), "{\"Pad\":\"%.*s\",\"A\":\"ARRAY::x|:y\"}", pad + 1,
							 "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
							 "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp");
			int r = esl_wire_json_check(w, text, (size_t) n, &ti);

			if (r != 0) {
				fprintf(stderr, "JSON check of %s: %d\n", text, r);
			}
			CHECK_INT(r, 0);
			memcpy(strstr(text, "::"), "x:", 2);
			CHECK_INT(esl_wire_json_check(w, text, (size_t) n, &ti), 1);
		}
	}
	eslt_free_list(files);
	esl_wire_destroy(&w);
}

/* The read room starts at 8 KiB, grows while reads fill it (a busy stream), stops at 1 MiB,
 * shrinks again after small reads down to 64 KiB, and messages that span the growth are parsed
 * whole. The buffer such a stream grew is kept when it empties; one that a huge message grew
 * is cut back. */
static void test_read_room(void)
{
	esl_wire_t *w = esl_wire_create();
	const char *msg = "Content-Type: text/event-plain\nContent-Length: 25\n\nEvent-Name: HEARTBEAT\nX: y\n";
	size_t mlen = strlen(msg), room, i, fed = 0, sent = 0, got = 0, prev;
	esl_event_t *ev = NULL;
	char *p;

	CHECK(w != NULL);
	if (!w) {
		return;
	}
	CHECK_INT((long) esl_wire_read_room(w), 8 * 1024);
	/* full reads of a stream of small messages: 8 -> 16 -> ... -> 1024 KiB, and no further */
	for (i = 0; i < 9; i++) {
		size_t n;

		prev = esl_wire_read_room(w);
		p = esl_wire_reserve(w, &room);
		CHECK(p != NULL && room >= prev);
		if (!p) {
			break;
		}
		for (n = 0; n < room; n++) {
			p[n] = msg[(fed + n) % mlen];
		}
		fed += room;
		esl_wire_commit(w, room);
		CHECK_INT((long) esl_wire_read_room(w), (long) (prev < 1024 * 1024 ? 2 * prev : prev));
		while (esl_wire_next(w, &ev) == ESL_WIRE_MESSAGE) {
			const char *name = esl_event_get_header(ev, "Event-Name");

			/* the outer message; its body is the inner event's text */
			got += ev && name && !strcmp(name, "SOCKET_DATA") && esl_wire_body_length(ev) == 25;
			sent++;
			esl_event_destroy(&ev);
		}
	}
	CHECK_INT((long) esl_wire_read_room(w), 1024 * 1024);
	CHECK(sent == fed / mlen && got == sent);
	/* a read that ends at a message's end empties the buffer: a stream's buffer stays. (The
	 * body is 25 bytes of msg's 27: its last two, "y\n", begin the next header block, which
	 * one more LF ends.) */
	p = esl_wire_reserve(w, &room);
	CHECK(p != NULL && room >= mlen + 1);
	if (p) {
		size_t n = (mlen - fed % mlen) % mlen;

		memcpy(p, msg + fed % mlen, n);
		p[n] = '\n';
		esl_wire_commit(w, n + 1);
		while (esl_wire_next(w, &ev) == ESL_WIRE_MESSAGE) {
			esl_event_destroy(&ev);
		}
	}
	CHECK_INT((long) esl_wire_buffered(w), 0);
	CHECK(esl_wire_buffer_size(w) >= 1024 * 1024);
	CHECK(esl_wire_buffer_size(w) <= 2 * 1024 * 1024);
	/* a small read halves it, down to 64 KiB */
	for (i = 0; i < 5; i++) {
		prev = esl_wire_read_room(w);
		p = esl_wire_reserve(w, &room);
		CHECK(p != NULL);
		if (!p) {
			break;
		}
		memcpy(p, msg, 10);
		esl_wire_commit(w, 10);
		CHECK_INT((long) esl_wire_read_room(w), (long) (prev > 64 * 1024 ? prev / 2 : prev));
	}
	CHECK_INT((long) esl_wire_read_room(w), 64 * 1024);
	esl_wire_destroy(&w);

	/* a 3 MiB header block grows the buffer past a stream's; it is cut back once taken */
	w = esl_wire_create();
	CHECK(w != NULL);
	if (!w) {
		return;
	}
	esl_wire_set_limits(w, 4 * 1024 * 1024, 0);
	{
		size_t huge = 3 * 1024 * 1024;
		char *blk = malloc(huge);

		CHECK(blk != NULL);
		if (blk) {
			memset(blk, 'x', huge);
			memcpy(blk, "X-Huge: ", 8);
			blk[huge - 2] = '\n';
			blk[huge - 1] = '\n';
			CHECK_INT(esl_wire_feed(w, blk, huge), 0);
			CHECK(esl_wire_buffer_size(w) >= huge);
			CHECK_INT(esl_wire_next(w, &ev), ESL_WIRE_MESSAGE);
			CHECK(ev && esl_event_get_header(ev, "X-Huge") && strlen(esl_event_get_header(ev, "X-Huge")) == huge - 10);
			esl_event_destroy(&ev);
			CHECK(esl_wire_buffer_size(w) <= 128 * 1024);
			free(blk);
		}
	}
	esl_wire_destroy(&w);
}

/* What take_copy was offered. */
typedef struct {
	char body[8192];
	size_t len;
	int json, calls, unterminated;
	int answer;             /* what take_copy returns */
} taken_t;

static int take_copy(void *ctx, const char *body, size_t len, int json)
{
	taken_t *t = ctx;

	t->calls++;
	t->unterminated |= body[len] != '\0';
	t->len = len < sizeof(t->body) ? len : sizeof(t->body);
	memcpy(t->body, body, t->len);
	t->json = json;
	return t->answer;
}

/* The body of the outer message esl_wire_next gives next, as a string (NULL when none). */
static char *next_body(esl_wire_t *w, esl_wire_status_t *st)
{
	esl_event_t *ev = NULL;
	char *b = NULL;

	*st = esl_wire_next(w, &ev);
	if (ev && ev->body) {
		b = eslt_dup_n(ev->body, esl_wire_body_length(ev));
	}
	esl_event_destroy(&ev);
	return b;
}

/* esl_wire_take_event: only whole messages framed exactly as FreeSWITCH frames events are
 * offered, NUL-terminated and with the borrowed byte put back; a declined one stays for
 * esl_wire_next; everything else is left to esl_wire_next, with the same result it gives. */
static void test_take_event(void)
{
	static const char two[] = "Content-Length: 5\nContent-Type: text/event-plain\n\nA: b\n"
							  "Content-Length: 9\nContent-Type: text/event-json\n\n{\"A\":\"b\"}";
	static const char *const not_offered[] = {
		"Content-Type: text/event-plain\nContent-Length: 5\n\nA: b\n",
		"Content-Length: 5\r\nContent-Type: text/event-plain\r\n\r\nA: b\n",
		"Content-Length: 5\nContent-Type: text/event-plain\nX: y\n\nA: b\n",
		"Content-Length: 5\nContent-Type: text/event-xml\n\nA: b\n",
		"Content-Length: 5\nContent-Type: api/response\n\n+OK a",
		"Content-Length:  5\nContent-Type: text/event-plain\n\nA: b\n",
		"content-length: 5\nContent-Type: text/event-plain\n\nA: b\n",
		"Content-Type: command/reply\nReply-Text: +OK\n\n",
	};
	esl_wire_t *w = esl_wire_create();
	taken_t t;
	esl_wire_status_t st;
	size_t i;
	char *b;

	CHECK(w != NULL);
	if (!w) {
		return;
	}
	/* two events at once: both taken in order, the first one's borrowed byte put back */
	memset(&t, 0, sizeof(t));
	t.answer = ESL_WIRE_TAKEN;
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), -1);
	CHECK_INT(esl_wire_feed(w, two, sizeof(two) - 1), 0);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), ESL_WIRE_TAKEN);
	CHECK(t.len == 5 && !memcmp(t.body, "A: b\n", 5) && !t.json);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), ESL_WIRE_TAKEN);
	CHECK(t.len == 9 && !memcmp(t.body, "{\"A\":\"b\"}", 9) && t.json);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), -1);
	CHECK(!esl_wire_buffered(w) && !t.unterminated && t.calls == 2);

	/* one byte at a time: "more" until the message is whole, then offered exactly once */
	memset(&t, 0, sizeof(t));
	t.answer = ESL_WIRE_TAKEN_STOP;
	for (i = 0; i < sizeof(two) - 1; i++) {
		int r;

		CHECK_INT(esl_wire_feed(w, two + i, 1), 0);
		r = esl_wire_take_event(w, take_copy, &t);
		CHECK_INT(r, i == 54 || i == sizeof(two) - 2 ? ESL_WIRE_TAKEN_STOP : -1);
	}
	CHECK(t.calls == 2 && t.json && !t.unterminated && !esl_wire_buffered(w));

	/* declined: offered again, and esl_wire_next gives the same message */
	memset(&t, 0, sizeof(t));
	t.answer = ESL_WIRE_DECLINE;
	CHECK_INT(esl_wire_feed(w, two, 55), 0);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), ESL_WIRE_DECLINE);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), ESL_WIRE_DECLINE);
	b = next_body(w, &st);
	CHECK_INT(st, ESL_WIRE_MESSAGE);
	CHECK_STR(b, "A: b\n");
	free(b);
	CHECK(t.calls == 2 && !esl_wire_buffered(w));

	/* other framings are left to esl_wire_next, whole or not */
	for (i = 0; i < sizeof(not_offered) / sizeof(not_offered[0]); i++) {
		size_t n = strlen(not_offered[i]);

		memset(&t, 0, sizeof(t));
		t.answer = ESL_WIRE_TAKEN;
		CHECK_INT(esl_wire_feed(w, not_offered[i], n), 0);
		CHECK_INT(esl_wire_take_event(w, take_copy, &t), -2);
		b = next_body(w, &st);
		CHECK_INT(st, ESL_WIRE_MESSAGE);
		CHECK(t.calls == 0 && !esl_wire_buffered(w));
		free(b);
	}
	/* Content-Length 0, and one over the limit: esl_wire_next gives the message, or the error */
	CHECK_INT(esl_wire_feed(w, "Content-Length: 0\nContent-Type: text/event-plain\n\n", 50), 0);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), -2);
	b = next_body(w, &st);
	CHECK_INT(st, ESL_WIRE_MESSAGE);
	CHECK_STR(b, "");
	free(b);
	esl_wire_set_limits(w, 0, 100);
	CHECK_INT(esl_wire_feed(w, "Content-Length: 101\nContent-Type: text/event-plain\n\n", 52), 0);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), -2);
	b = next_body(w, &st);
	CHECK_INT(st, ESL_WIRE_ERROR);
	CHECK(b == NULL && strstr(esl_wire_error(w), "exceeds the limit") != NULL);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), -2);
	CHECK(t.calls == 0);
	esl_wire_destroy(&w);

	/* a large body not yet whole is read in place by esl_wire_next; a message begun by
	 * esl_wire_next is finished by it */
	CHECK((w = esl_wire_create()) != NULL);
	if (!w) {
		return;
	}
	CHECK_INT(esl_wire_feed(w, "Content-Length: 70000\nContent-Type: text/event-plain\n\nA: b\n", 59), 0);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), -2);
	b = next_body(w, &st);
	CHECK_INT(st, ESL_WIRE_MORE);
	CHECK_INT(esl_wire_take_event(w, take_copy, &t), -2);
	esl_wire_destroy(&w);

	/* a body that ends at the very end of the buffer has no byte to borrow: left to esl_wire_next */
	CHECK((w = esl_wire_create()) != NULL);
	if (!w) {
		return;
	}
	{
		static const char head[] = "Content-Length: 4043\nContent-Type: text/event-plain\n\n";
		char msg[4096];

		CHECK_INT(sizeof(head) - 1 + 4043, 4096);
		memcpy(msg, head, sizeof(head) - 1);
		memset(msg + sizeof(head) - 1, 'x', 4043);
		memcpy(msg + sizeof(head) - 1, "A: b\n", 5);
		CHECK_INT(esl_wire_feed(w, msg, sizeof(msg)), 0);
		memset(&t, 0, sizeof(t));
		t.answer = ESL_WIRE_TAKEN;
		CHECK_INT(esl_wire_take_event(w, take_copy, &t), -2);
		b = next_body(w, &st);
		CHECK_INT(st, ESL_WIRE_MESSAGE);
		CHECK(b && strlen(b) == 4043);
		free(b);
	}
	esl_wire_destroy(&w);
}

/* The same event from esl_wire_parse_json with the compact reader (a) and with the general
 * reader alone (g). */
static void json_build_same(esl_wire_t *a, esl_wire_t *g, const char *text, size_t len)
{
	esl_event_t *ea = NULL, *eg = NULL;
	char why[300] = "";

	esl_wire_set_json_compact(a, 1);
	CHECK_INT(esl_wire_parse_json(a, text, len, &ea), ESL_SUCCESS);
	CHECK_INT(esl_wire_parse_json(g, text, len, &eg), ESL_SUCCESS);
	if ((ea || eg) && eslt_event_diff(ea, eg, why, sizeof(why))) {
		fprintf(stderr, "JSON build of %.80s: %s\n", text, why);
		CHECK(0);
	}
	esl_event_destroy(&ea);
	esl_event_destroy(&eg);
}

/* The fast path of esl_wire_json_check and of the JSON event build (compact objects of
 * strings with one-character escapes at most) decides every recorded JSON event, and answers
 * as the general reader does on them and on shapes at its edges; what it cannot decide it
 * leaves to the general reader. */
static void test_json_compact(void)
{
	static const struct {
		const char *text;
		int fast;               /* the fast path decides it */
	} cases[] = {
		{ "{\"Event-Name\":\"HEARTBEAT\",\"A\":\"b:c\",\"_body\":\"x\",\"_BODY\":\"y\"}", 1 },
		{ "{\"\":\"empty name\"}", 1 },
		{ "{\"A\":\"1\",\"A\":\"2\"}", 1 },
		{ "{\"A\":\"a[b\"}", 1 },
		{ "{\"A[1]\":\"x\"}", 0 },
		{ "{\"A\":\"\"}", 0 },
		{ "{\"A\":\"ARRAY::x|:y\"}", 0 },
		{ "{\"A::b\":\"fd00::2\",\"C\":\"y\",\"D\":\"::1\"}", 1 },
		{ "{\"A::b\":\"fd00::2\",\"C::\":\"ARRAY::y|:z\"}", 0 },
		{ "{\"Event-Name\":\"CUSTOM\",\"event-name\":\"HEARTBEAT\"}", 0 },
		{ "{\"A\":\"tab\\tin\"}", 1 },
		{ "{\"A\":\"say \\\"hi\\\"\",\"B\":\"x\"}", 1 },
		{ "{\"A\":\"back\\\\\",\"B\":\"x\"}", 1 },
		{ "{\"A\":\"x\\\\\\\"\",\"B\":\"\\/\\b\\f\\n\\r\\t\"}", 1 },
		{ "{\"_body\":\"a\\nb\"}", 1 },
		{ "{\"A\\\"B\":\"x\"}", 0 },
		{ "{\"A\":\"\\u0041\"}", 0 },
		{ "{\"A\":\"bad\\q\"}", 0 },
		{ "{\"A\":\"x\\\\\\\"}", 0 },
		{ "{\"Event-Name\":\"CUST\\tOM\"}", 0 },
		{ "{\"A\": \"1\"}", 0 },
		{ "{\"A\":\"1\"} ", 0 },
		{ "{\"A\":1}", 0 },
		{ "{\"A\":\"1\",}", 0 },
		{ "{\"A\":\"1\"}}", 0 },
		{ "{\"A\":\"1\"", 0 },
		{ "{}", 0 },
		{ "{\"A\":\"raw\x01\"}", 0 },
		{ "{\"A\":\"1\"\"B\":\"2\"}", 0 },
		{ "{\"A\"", 0 },
		{ "{\"A\":\"", 0 },
	};
	esl_wire_t *w = esl_wire_create(), *g = esl_wire_create();
	char **files = eslt_s2c_files();
	size_t i, f, plain = 0, fast = 0;

	CHECK(w != NULL && g != NULL);
	if (!w || !g) {
		esl_wire_destroy(&w);
		esl_wire_destroy(&g);
		eslt_free_list(files);
		return;
	}
	esl_wire_set_json_compact(g, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		esl_wire_text_info_t a, b;
		size_t len = strlen(cases[i].text);
		int ra, rb;

		esl_wire_set_json_compact(w, 2);
		ra = esl_wire_json_check(w, cases[i].text, len, &a);
		if (ra != cases[i].fast) {
			fprintf(stderr, "json compact case %zu: fast path %d, want %d: %s\n", i, ra, cases[i].fast, cases[i].text);
		}
		CHECK_INT(ra, cases[i].fast);
		esl_wire_set_json_compact(w, 1);
		ra = esl_wire_json_check(w, cases[i].text, len, &a);
		rb = esl_wire_json_check(g, cases[i].text, len, &b);
		CHECK_INT(ra, rb);
		CHECK(ra != 1 || eslt_info_same(&a, &b));
		json_build_same(w, g, cases[i].text, len);
	}
	/* an escaped quote, and a backslash before a closing quote, at every offset of the 64-byte
	 * blocks: the fast path decides and answers as the general reader does */
	for (i = 1; i < 140; i++) {
		static const char *const tails[] = { "\",\"A\":\"q\\\"q\"}", "\",\"A\":\"q\\\\\",\"B\":\"x\"}" };
		char text[300];
		size_t k;

		for (k = 0; k < 2; k++) {
			esl_wire_text_info_t a, b;
			int n = snprintf(text, sizeof(text), "{\"Pad\":\"%.*s%s", (int) i,
							 "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
							 "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp",
							 tails[k]);

			esl_wire_set_json_compact(w, 2);
			CHECK_INT(esl_wire_json_check(w, text, (size_t) n, &a), 1);
			CHECK_INT(esl_wire_json_check(g, text, (size_t) n, &b), 1);
			CHECK(eslt_info_same(&a, &b));
			CHECK_INT(a.nmember, k + 2);
			json_build_same(w, g, text, (size_t) n);
		}
	}
	/* every recorded JSON event (through the spans check, which compares both paths), and the
	 * fast path decides each one */
	esl_wire_set_json_compact(w, 2);
	for (f = 0; files && files[f]; f++) {
		size_t len, off = 0;
		char *data = eslt_read_file(files[f], &len);

		while (data && off < len) {
			const char *end = strstr(data + off, "\n\n"), *cl, *ct;
			size_t blen, n = 0, ctl = 0;

			if (!end) {
				break;
			}
			blen = (size_t) (end - (data + off)) + 2;
			cl = eslt_find_line(data + off, blen, "Content-Length", &n);
			n = cl ? (size_t) strtoul(cl, NULL, 10) : 0;
			if (off + blen + n > len) {
				break;
			}
			ct = eslt_find_line(data + off, blen, "Content-Type", &ctl);
			if (ct && ctl == 15 && !strncmp(ct, "text/event-json", 15)) {
				char *body = eslt_dup_n(data + off + blen, n), why[300];
				esl_wire_text_info_t ti;

				if (body) {
					plain++;
					/* decided, with a member table (the spans check below checks it) */
					fast += esl_wire_json_check(w, body, n, &ti) == 1 && ti.member_at && ti.nmember > 10;
				}
				esl_wire_set_json_compact(w, 1);
				if (body && eslt_spans_check(w, body, n, 1, why, sizeof(why)) < 0) {
					fprintf(stderr, "%s: %s\n", files[f], why);
					CHECK(0);
				}
				if (body) {
					json_build_same(w, g, body, n);
				}
				esl_wire_set_json_compact(w, 2);
				free(body);
			}
			off += blen + n;
		}
		free(data);
	}
	CHECK(plain >= 49 && fast == plain);
	eslt_free_list(files);
	esl_wire_destroy(&w);
	esl_wire_destroy(&g);
}

/* One text through the view (eslt_view_same, against the full parse): want 1 when it must be
 * read in place, 0 when it must be declined. */
static void view_case(const char *text, int json, int want)
{
	esl_event_t *ev = NULL;
	esl_wire_t *w = esl_wire_create();
	char why[300] = "";
	int r = -1;

	if (w && (json ? esl_wire_parse_json(w, text, strlen(text), &ev) : esl_wire_parse_plain(NULL, text, strlen(text), &ev)) ==
				 ESL_SUCCESS && ev) {
		r = eslt_view_same(ev, text, strlen(text), json, why, sizeof(why));
	}
	if (r != want) {
		fprintf(stderr, "view of [%.80s]: %d, want %d: %s\n", text, r, want, why);
	}
	CHECK_INT(r, want);
	esl_event_destroy(&ev);
	esl_wire_destroy(&w);
}

/* A recorded event through the view against its full parse; counts it by format. */
static void view_of_recorded(const char *file, esl_wire_t *rd, esl_event_t *msg, int json, void *ctx)
{
	long *counts = ctx;
	esl_event_t *inner = NULL;
	char why[300] = "";
	int r = -1;

	if (esl_wire_decode_inner(rd, msg, &inner) == ESL_SUCCESS && inner) {
		r = eslt_view_same(inner, msg->body, esl_wire_body_length(msg), json, why, sizeof(why));
	}
	if (r != 1) {
		fprintf(stderr, "%s: view %d: %s\n", file, r, why);
	}
	CHECK_INT(r, 1);
	counts[json] += r == 1;
	esl_event_destroy(&inner);
}

/* esl_event_view_*: events read in place give what the full parse gives, header by header
 * (eslt_view_same): every recorded plain and JSON event, and the shapes around the rules */
static void test_view(void)
{
	static const char *plain_in_place[] = {
		"Event-Name: HEARTBEAT\nA: b\n",
		"Event-Name: CUSTOM\nA: %3d%2C%4 x%zz%00%4a\nB:  two spaces\nC:%20lead\nTail: %4",
		"A: first\na: second\nEvent-Name: DTMF\n",
		"Event-Name: CUSTOM\nContent-Length: 5\n\nhello",
		"Event-Name: CUSTOM\nContent-Length: 3\n\nab\n",
		"No-Colon-Line\nEvent-Name: API\nX: a:b:c\nY: tab\tin\r\n",
		"Event-Name: CUSTOM\n: no name\n\xc3\xa9t\xc3\xa9: summer\n\xc3\x89T\xc3\x89: SUMMER\n`x: grave\n@X: at\n",
	};
	static const char *plain_declined[] = {
		"Event-Name: CUSTOM\nA:\n",
		"Event-Name: CUSTOM\nA: ARRAY::x|:y\n",
		"Event-Name: CUSTOM\na[1]: x\n",
		"Event-Name: CUSTOM\nevent-name: DTMF\n",
	};
	static const char *json_in_place[] = {
		"{\"Event-Name\":\"HEARTBEAT\",\"A\":\"b\"}",
		"{\"Event-Name\":\"CUSTOM\",\"A\":\"q\\\"uote\\\\back\\/sl\\n\\t\\r\\b\\f\",\"_body\":\"x\\ny\"}",
		"{\"A\":\"first\",\"a\":\"second\",\"Event-Name\":\"DTMF\"}",
		"{\"Event-Name\":\"CUSTOM\",\"_BODY\":\"b1\",\"_body\":\"b2\",\"Z\":\"%41\"}",
		"{\"\":\"no name\",\"\xc3\xa9t\xc3\xa9\":\"summer\",\"`x\":\"grave\",\"@X\":\"at\",\"Q\":\"a\\\\\\\"b\\\\\"}",
	};
	static const char *json_declined[] = {
		"{\"A\":\"\\u00e9\"}",
		"{\"A\":[\"x\",\"y\"]}",
		"{\"A\":\"\"}",
		"{\"Num\":12}",
	};
	size_t i, big_len = 70000;
	char *big = malloc(big_len + 1);
	long counts[2] = { 0, 0 }; /* plain, JSON events read in place */

	for (i = 0; i < sizeof(plain_in_place) / sizeof(plain_in_place[0]); i++) {
		view_case(plain_in_place[i], 0, 1);
	}
	for (i = 0; i < sizeof(plain_declined) / sizeof(plain_declined[0]); i++) {
		view_case(plain_declined[i], 0, 0);
	}
	for (i = 0; i < sizeof(json_in_place) / sizeof(json_in_place[0]); i++) {
		view_case(json_in_place[i], 1, 1);
	}
	for (i = 0; i < sizeof(json_declined) / sizeof(json_declined[0]); i++) {
		view_case(json_declined[i], 1, 0);
	}
	/* a text over 64 KiB has no member table: the full parse takes it */
	CHECK(big != NULL);
	if (big) {
		memcpy(big, "Event-Name: CUSTOM\nLong: ", 25);
		memset(big + 25, 'x', big_len - 26);
		big[big_len - 1] = '\n';
		big[big_len] = '\0';
		view_case(big, 0, 0);
		free(big);
	}

	/* every plain and JSON event of the recordings is read in place */
	each_recorded_event(view_of_recorded, counts);
	CHECK(counts[0] >= 49);
	CHECK(counts[1] >= 49);
}

int main(void)
{
	test_recordings();
	test_terminator_splits();
	test_outer_rules();
	test_inner_rules();
	test_event_text_span();
	test_plain_spans();
	test_plain_check();
	test_fuzz_regressions();
	test_json_rules();
	test_arena_interop();
	test_limits_and_errors();
	test_large_body_in_place();
	test_read_room();
	test_take_event();
	test_json_compact();
	test_view();
	return ESLT_DONE();
}
