/*
 * eslt_wire.h: helpers shared by the wire, receive and hostile-input tests.
 *
 *   - an independent reference split of recorded server streams (header block up to the
 *     first "\n\n", then Content-Length bytes), reduced to one summary per message;
 *   - field-by-field comparison of two events, a check of a parsed event's string span, and a
 *     check of the spans of a plain or JSON event (esl_wire_plain_spans, esl_wire_json_spans)
 *     against its full parse;
 *   - a peer thread on the far end of a socketpair that answers "connect" and then writes
 *     a byte string in chunks, so a real handle can be driven with any bytes.
 */
#ifndef ESLT_WIRE_H
#define ESLT_WIRE_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esl.h"
#include "esl_wire.h"

/* ---- files ------------------------------------------------------------------------------ */

static inline char *eslt_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (!f) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t) n + 1))) {
		if (fread(buf, 1, (size_t) n, f) != (size_t) n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t) n;
		}
	}
	fclose(f);
	return buf;
}

static int eslt_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The recorded .s2c files under $ESL_TESTDATA (or testdata/freeswitch), sorted; NULL-terminated. */
static inline char **eslt_s2c_files(void)
{
	const char *dir = getenv("ESL_TESTDATA");
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	if (!dir || !*dir) {
		dir = "testdata/freeswitch";
	}
	if (!(d = opendir(dir))) {
		return NULL;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nv;
		if (l < 5 || strcmp(de->d_name + l - 4, ".s2c")) {
			continue;
		}
		if (!(nv = realloc(v, (n + 2) * sizeof(*v)))) {
			break;
		}
		v = nv;
		v[n] = malloc(strlen(dir) + l + 2);
		if (!v[n]) {
			break;
		}
		sprintf(v[n], "%s/%s", dir, de->d_name);
		v[++n] = NULL;
	}
	closedir(d);
	if (v) {
		qsort(v, n, sizeof(*v), eslt_cmp_names);
	}
	return v;
}

/* What eslt_each_event_message calls: the file, the parser that read the message, the message
 * and whether its event is JSON. */
typedef void (*eslt_event_fn)(const char *file, esl_wire_t *rd, esl_event_t *msg, int json, void *ctx);

/* Calls fn for every plain and JSON event message (with a body) of the recorded stream at
 * path, in order. 0, or -1 when the file cannot be read or parsed. */
static inline int eslt_each_event_message(const char *path, eslt_event_fn fn, void *ctx)
{
	size_t len;
	char *data = eslt_read_file(path, &len);
	esl_wire_t *rd = esl_wire_create();
	esl_event_t *ev = NULL;
	int r = -1;

	if (data && rd && esl_wire_feed(rd, data, len) == 0) {
		while (esl_wire_next(rd, &ev) == ESL_WIRE_MESSAGE) {
			const char *ct = esl_event_get_header(ev, "content-type");
			int json = ct && !strcasecmp(ct, "text/event-json");

			if (ct && (json || !strcasecmp(ct, "text/event-plain")) && ev->body) {
				fn(path, rd, ev, json, ctx);
			}
			esl_event_destroy(&ev);
		}
		r = 0;
	}
	esl_wire_destroy(&rd);
	free(data);
	return r;
}

static inline void eslt_free_list(char **v)
{
	size_t i;
	for (i = 0; v && v[i]; i++) {
		free(v[i]);
	}
	free(v);
}

/* ---- message summaries ------------------------------------------------------------------- */

typedef struct {
	char *ct;          /* Content-Type or NULL */
	char *reply;       /* Reply-Text (decoded) or NULL */
	char *inner;       /* Event-Name of the inner event or NULL */
	long body;         /* body length, -1 without a body */
} eslt_sum_t;

typedef struct {
	eslt_sum_t *v;
	size_t n, cap;
} eslt_sums_t;

static inline char *eslt_dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static inline void eslt_sums_add(eslt_sums_t *s, const char *ct, const char *reply, const char *inner, long body)
{
	eslt_sum_t *m;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		eslt_sum_t *nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv) {
			abort();
		}
		s->v = nv;
		s->cap = ncap;
	}
	m = &s->v[s->n++];
	m->ct = ct ? strdup(ct) : NULL;
	m->reply = reply ? strdup(reply) : NULL;
	m->inner = inner ? strdup(inner) : NULL;
	m->body = body;
}

static inline void eslt_sums_free(eslt_sums_t *s)
{
	size_t i;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].ct);
		free(s->v[i].reply);
		free(s->v[i].inner);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static inline int eslt_str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Index of the first differing summary, or -1 when both lists are equal. */
static inline long eslt_sums_diff(const eslt_sums_t *a, const eslt_sums_t *b)
{
	size_t i;

	for (i = 0; i < a->n && i < b->n; i++) {
		if (!eslt_str_eq(a->v[i].ct, b->v[i].ct) || !eslt_str_eq(a->v[i].reply, b->v[i].reply) ||
			!eslt_str_eq(a->v[i].inner, b->v[i].inner) || a->v[i].body != b->v[i].body) {
			return (long) i;
		}
	}
	return a->n == b->n ? -1 : (long) i;
}

static inline void eslt_sum_print(const char *label, const eslt_sums_t *s, long i)
{
	if (i < 0 || (size_t) i >= s->n) {
		fprintf(stderr, "    %s[%ld]: (none; %zu messages)\n", label, i, s->n);
		return;
	}
	fprintf(stderr, "    %s[%ld]: ct=%s reply=%s inner=%s body=%ld\n", label, i, s->v[i].ct ? s->v[i].ct : "(null)",
			s->v[i].reply ? s->v[i].reply : "(null)", s->v[i].inner ? s->v[i].inner : "(null)", s->v[i].body);
}

/* %XX decoding for the reference (values in the recordings are well formed). */
static inline char *eslt_decode(const char *s, size_t n)
{
	char *d = malloc(n + 1), *w = d;
	size_t i;

	if (!d) {
		abort();
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			*w++ = (char) strtol(hex, NULL, 16);
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return d;
}

/* The value of the first "Name: " line in [p, p + n), as raw bytes (not decoded). */
static inline const char *eslt_find_line(const char *p, size_t n, const char *name, size_t *vlen)
{
	size_t nl = strlen(name), i = 0;

	while (i < n) {
		const char *eol = memchr(p + i, '\n', n - i);
		size_t ll = eol ? (size_t) (eol - (p + i)) : n - i;

		if (ll > nl + 1 && !strncmp(p + i, name, nl) && p[i + nl] == ':' && p[i + nl + 1] == ' ') {
			*vlen = ll - nl - 2;
			return p + i + nl + 2;
		}
		i += ll + 1;
	}
	return NULL;
}

/* The reference split of a server stream. Independent of the parser on purpose: block up to
 * the first "\n\n", Content-Length bytes of body, header values looked up by plain search. */
static inline int eslt_ref_split(const char *data, size_t len, eslt_sums_t *out)
{
	size_t pos = 0;

	while (pos < len) {
		const char *e = memmem(data + pos, len - pos, "\n\n", 2);
		size_t blen, vlen, blk_end;
		const char *v;
		char *ct = NULL, *reply = NULL, *inner = NULL;
		long body = -1;

		if (!e) {
			return -1;
		}
		blen = (size_t) (e - (data + pos)) + 1;
		blk_end = pos + blen + 1;
		if ((v = eslt_find_line(data + pos, blen, "Content-Length", &vlen))) {
			body = strtol(v, NULL, 10);
		}
		if ((v = eslt_find_line(data + pos, blen, "Content-Type", &vlen))) {
			ct = eslt_dup_n(v, vlen);
		}
		if ((v = eslt_find_line(data + pos, blen, "Reply-Text", &vlen))) {
			reply = eslt_decode(v, vlen);
		}
		if (body >= 0 && blk_end + (size_t) body > len) {
			free(ct);
			free(reply);
			return -1;
		}
		if (ct && body > 0 && !strcmp(ct, "text/event-plain")) {
			const char *b = data + blk_end;
			const char *sep = memmem(b, (size_t) body, "\n\n", 2);
			size_t hl = sep ? (size_t) (sep - b) + 1 : (size_t) body;
			if ((v = eslt_find_line(b, hl, "Event-Name", &vlen))) {
				inner = eslt_decode(v, vlen);
			}
		} else if (ct && body > 0 && !strcmp(ct, "text/event-json")) {
			const char *b = data + blk_end;
			const char *k = memmem(b, (size_t) body, "\"Event-Name\":\"", 14);
			if (k) {
				const char *q = memchr(k + 14, '"', (size_t) (b + body - (k + 14)));
				if (q) {
					inner = eslt_dup_n(k + 14, (size_t) (q - (k + 14)));
				}
			}
		}
		eslt_sums_add(out, ct, reply, inner, body);
		free(ct);
		free(reply);
		free(inner);
		pos = blk_end + (body > 0 ? (size_t) body : 0);
	}
	return 0;
}

/* The summary of a parsed message and its inner event. */
static inline void eslt_sums_add_event(eslt_sums_t *s, esl_event_t *ev, esl_event_t *inner)
{
	eslt_sums_add(s, esl_event_get_header(ev, "Content-Type"), esl_event_get_header(ev, "Reply-Text"),
				  inner ? esl_event_get_header(inner, "Event-Name") : NULL, ev->body ? (long) esl_wire_body_length(ev) : -1);
}

/* ---- event comparison -------------------------------------------------------------------- */

/* 1 when the event offers no string span (esl_wire_event_text), or when every length the
 * span implies, from where the next string starts, is the string's own and the header count
 * is right; 0 otherwise. */
static inline int eslt_span_consistent(const esl_event_t *e)
{
	const esl_event_header_t *h;
	const char *text;
	size_t len, count, n = 0;

	if (!e || esl_wire_event_text(e, &text, &len, &count)) {
		return 1;
	}
	for (h = e->headers; h; h = h->next, n++) {
		const char *end = h->next ? h->next->name - 1 : text + len - 1;

		if (h->name < text || end >= text + len || (size_t) (h->value - h->name - 1) != strlen(h->name) ||
			(size_t) (end - h->value) != strlen(h->value)) {
			return 0;
		}
	}
	return n == count;
}

/* The string at offset off of spans p over text (see esl_wire_spans_t). */
static inline const char *eslt_span_str(const esl_wire_spans_t *p, const char *text, size_t off)
{
	return off < p->text_len ? text + off : p->decoded + (off - p->text_len);
}

/* Whether [off, off + n) lies in one part of the strings of p: the text or the decoded bytes. */
static inline int eslt_span_ok(const esl_wire_spans_t *p, size_t off, size_t n)
{
	return off < p->text_len ? n <= p->text_len - off : off - p->text_len <= p->decoded_len && n <= p->decoded_len - (off - p->text_len);
}

static inline int eslt_hex(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Whether the text's own lines, read as esl_wire_plain_check promises (one header per line
 * of the header section with a ':', the name up to it, the value after its spaces,
 * URL-decoded), give exactly the spans of esl_wire_plain_spans. 0, or -1 with why. */
static inline int eslt_text_same(const esl_wire_text_info_t *ti, const esl_wire_spans_t *p, const char *text, size_t len,
								 char *why, size_t whylen)
{
	size_t q = 0, i = 0;

	if (ti->event_id != p->event_id || !ti->has_body != !p->has_body ||
		(p->has_body && (ti->body_off != p->body_off || ti->body_len != p->body_len)) || ti->header_len > len) {
		snprintf(why, whylen, "text check: event_id %d, body %d %zu %zu; spans %d, %d %zu %zu", (int) ti->event_id,
				 ti->has_body, ti->body_off, ti->body_len, (int) p->event_id, p->has_body, p->body_off, p->body_len);
		return -1;
	}
	while (q < ti->header_len) {
		const char *nl = memchr(text + q, '\n', ti->header_len - q), *colon;
		size_t e = nl ? (size_t) (nl - text) : ti->header_len, v, k, n = 0;
		const esl_wire_span_t *sp;
		const char *want;

		colon = memchr(text + q, ':', e - q);
		if (!colon) {
			q = e + 1;
			continue;
		}
		/* (the spans may be empty, with no table at all) */
		sp = i < p->nline ? &p->line[i] : NULL;
		if (!sp || sp->name_off != q || sp->name_len != (size_t) (colon - text) - q) {
			snprintf(why, whylen, "text check: line at %zu is not header %zu of the spans", q, i);
			return -1;
		}
		v = (size_t) (colon - text) + 1;
		while (v < e && text[v] == ' ') {
			v++;
		}
		want = eslt_span_str(p, text, sp->value_off);
		for (k = v; k < e; n++) {
			unsigned char c = (unsigned char) text[k];
			int hi = k + 2 < len ? eslt_hex((unsigned char) text[k + 1]) : -1, lo = k + 2 < len ? eslt_hex((unsigned char) text[k + 2]) : -1;

			if (c == '%' && hi >= 0 && lo >= 0 && (hi | lo)) {
				c = (unsigned char) (hi << 4 | lo);
				k += 3;
			} else {
				k++;
			}
			if (n >= sp->value_len || (unsigned char) want[n] != c) {
				snprintf(why, whylen, "text check: header %zu: the line's value differs from the spans' at byte %zu", i, n);
				return -1;
			}
		}
		if (n != sp->value_len) {
			snprintf(why, whylen, "text check: header %zu: value of %zu bytes, spans say %zu", i, n, (size_t) sp->value_len);
			return -1;
		}
		i++;
		q = e + 1;
	}
	if (i != p->nline) {
		snprintf(why, whylen, "text check: %zu headers in the lines, %zu spans", i, p->nline);
		return -1;
	}
	return 0;
}

/* The answers of two text checks are the same (the member table aside: of the JSON check,
 * only the fast path gives one). */
static inline int eslt_info_same(const esl_wire_text_info_t *a, const esl_wire_text_info_t *b)
{
	return a->header_len == b->header_len && a->event_id == b->event_id && a->has_body == b->has_body &&
		   a->body_off == b->body_off && a->body_len == b->body_len;
}

/* Whether a text check's table points at each header, in order. JSON: at an opening quote,
 * the name (free of escapes), a closing quote. Plain: at the start of a line with the name,
 * then ':', and the name lengths (at + nmember) are right. 0, or -1 with why. */
static inline int eslt_members_same(const esl_wire_text_info_t *ti, const uint16_t *at, const esl_wire_spans_t *p,
									const char *text, size_t len, int json, char *why, size_t whylen)
{
	size_t i;

	if (ti->nmember != p->nline) {
		snprintf(why, whylen, "text check: %zu entries in the table, %zu spans", ti->nmember, p->nline);
		return -1;
	}
	for (i = 0; i < p->nline; i++) {
		size_t n = p->line[i].name_len, k = at[i] + (json ? 1 : 0);
		const char *name = eslt_span_str(p, text, p->line[i].name_off);

		if (k + n + 1 > len || memcmp(text + k, name, n) || (json && text[at[i]] != '"') ||
			text[k + n] != (json ? '"' : ':') || (!json && ((at[i] && text[at[i] - 1] != '\n') || at[ti->nmember + i] != n))) {
			snprintf(why, whylen, "text check: header %zu does not start at %u", i, (unsigned) at[i]);
			return -1;
		}
	}
	return 0;
}

/* 0 when equal; otherwise writes the first difference into why. */
static inline int eslt_event_diff(esl_event_t *a, esl_event_t *b, char *why, size_t whylen)
{
	esl_event_header_t *x, *y;
	size_t n = 0, la, lb;

	if (!a || !b) {
		snprintf(why, whylen, "missing event (%p, %p)", (void *) a, (void *) b);
		return a != b;
	}
	if (a->event_id != b->event_id) {
		snprintf(why, whylen, "event_id %d vs %d", (int) a->event_id, (int) b->event_id);
		return 1;
	}
	for (x = a->headers, y = b->headers; x && y; x = x->next, y = y->next, n++) {
		int i;
		if (strcmp(x->name, y->name) || strcmp(x->value, y->value) || x->idx != y->idx) {
			snprintf(why, whylen, "header %zu: [%s]=[%.60s] idx %d vs [%s]=[%.60s] idx %d", n, x->name, x->value, x->idx,
					 y->name, y->value, y->idx);
			return 1;
		}
		/* 0 means "not computed"; any two computed hashes of one name agree */
		if (x->hash && y->hash && x->hash != y->hash) {
			snprintf(why, whylen, "header %zu (%s): hash %lu vs %lu", n, x->name, x->hash, y->hash);
			return 1;
		}
		for (i = 0; i < x->idx; i++) {
			if (strcmp(x->array[i], y->array[i])) {
				snprintf(why, whylen, "header %zu (%s) element %d: [%.60s] vs [%.60s]", n, x->name, i, x->array[i], y->array[i]);
				return 1;
			}
		}
	}
	if (x || y) {
		snprintf(why, whylen, "header count differs after %zu (%s vs %s)", n, x ? x->name : "end", y ? y->name : "end");
		return 1;
	}
	if (!a->body != !b->body) {
		snprintf(why, whylen, "body present %d vs %d", !!a->body, !!b->body);
		return 1;
	}
	if (a->body) {
		la = esl_wire_body_length(a);
		lb = esl_wire_body_length(b);
		if (la != lb || memcmp(a->body, b->body, la)) {
			snprintf(why, whylen, "body differs (%zu vs %zu bytes)", la, lb);
			return 1;
		}
	}
	return 0;
}
/* One lookup through the view against the full parse's event; the second lookup must give the
 * same string. 0 when they agree. */
static inline int eslt_view_lookup(esl_event_view_t *v, esl_event_t *ev, const char *name, char *why, size_t whylen)
{
	const char *got = esl_event_view_get_header(v, name), *want = esl_event_get_header(ev, name);

	if (!eslt_str_eq(got, want) || esl_event_view_get_header(v, name) != got) {
		snprintf(why, whylen, "view: [%.60s] gives [%.60s], the event [%.60s]", name, got ? got : "(null)",
				 want ? want : "(null)");
		return -1;
	}
	return 0;
}

/* A view that holds no event must give none. 0 when it does not. */
static inline int eslt_view_empty(esl_event_view_t *v, char *why, size_t whylen)
{
	if (esl_event_view_has_event(v) || esl_event_view_in_place(v) || esl_event_view_get_header(v, "Event-Name") ||
		esl_event_view_get_body(v, NULL)) {
		snprintf(why, whylen, "view: declined, yet it gives an event");
		return -1;
	}
	return 0;
}

/* An event's text read in place (esl_event_view_set_text) must give what the full parse's event
 * ev gives: the type, the first value of every header name (as written, in upper and in lower
 * case), the body and "_body", nothing for names no header has, and, through
 * esl_event_view_to_event, the same event. 1 when the view read it, 0 when it declined, -1
 * with why when they differ or memory ran out. */
static inline int eslt_view_same(esl_event_t *ev, const char *text, size_t len, int json, char *why, size_t whylen)
{
	static const char *absent[] = { "No-Such-Header", "Event-Name:", "Event-Name\"", "Event-Nam", "", "_BODY" };
	esl_event_view_t *v = NULL;
	esl_event_t *back = NULL;
	esl_event_header_t *h;
	const char *body;
	esl_size_t blen = 0;
	size_t i;
	int r, bad = 0;

	if (esl_event_view_create(&v) != ESL_SUCCESS || (r = esl_event_view_set_text(v, text, len, json)) < 0) {
		snprintf(why, whylen, "view: out of memory");
		esl_event_view_destroy(&v);
		return -1;
	}
	if (r == 0) {
		bad = eslt_view_empty(v, why, whylen);
		esl_event_view_destroy(&v);
		return bad ? -1 : 0;
	}
	if (!esl_event_view_in_place(v) || esl_event_view_id(v) != ev->event_id) {
		snprintf(why, whylen, "view: in place %d, type %d, the event's %d", esl_event_view_in_place(v),
				 (int) esl_event_view_id(v), (int) ev->event_id);
		bad = 1;
	}
	for (h = ev->headers; h && !bad; h = h->next) {
		char *up = strdup(h->name), *low = strdup(h->name);

		if (!up || !low) {
			snprintf(why, whylen, "out of memory");
			bad = 1;
		}
		for (i = 0; !bad && up[i]; i++) {
			up[i] = (char) toupper((unsigned char) up[i]);
			low[i] = (char) tolower((unsigned char) low[i]);
		}
		bad = bad || eslt_view_lookup(v, ev, h->name, why, whylen) || eslt_view_lookup(v, ev, up, why, whylen) ||
			  eslt_view_lookup(v, ev, low, why, whylen);
		free(up);
		free(low);
	}
	for (i = 0; !bad && i < sizeof(absent) / sizeof(absent[0]); i++) {
		bad = eslt_view_lookup(v, ev, absent[i], why, whylen) != 0;
	}
	if (!bad) {
		body = esl_event_view_get_body(v, &blen);
		if (!body != !ev->body || (body && (blen != esl_wire_body_length(ev) || memcmp(body, ev->body, blen + 1))) ||
			!eslt_str_eq(esl_event_view_get_header(v, "_body"), esl_event_get_header(ev, "_body"))) {
			snprintf(why, whylen, "view: body %s (%zu bytes), the event's %s (%zu)", body ? "given" : "none", (size_t) blen,
					 ev->body ? "given" : "none", ev->body ? esl_wire_body_length(ev) : 0);
			bad = 1;
		}
	}
	if (!bad && (esl_event_view_to_event(v, &back) != ESL_SUCCESS || eslt_event_diff(ev, back, why, whylen))) {
		if (!back) {
			snprintf(why, whylen, "view: no event back");
		}
		bad = 1;
	}
	esl_event_destroy(&back);
	/* an empty value needs the full parse */
	if (!bad && esl_event_view_set_text(v, json ? "{\"A\":\"\"}" : "A:\n", json ? 8 : 3, json) != 0) {
		snprintf(why, whylen, "view: took a text with an empty value");
		bad = 1;
	}
	/* after a declined text the view is empty, whatever it held */
	bad = bad || eslt_view_empty(v, why, whylen);
	esl_event_view_destroy(&v);
	return bad ? -1 : 1;
}

/* esl_wire_plain_spans (json: esl_wire_json_spans; text NUL-terminated at len) against the full
 * parse of the same text (esl_wire_parse_plain, or esl_wire_parse_json with a parser, as the
 * receive path decodes): 1 when the spans were given and describe the event the full parse
 * builds (names, values, order, event type, body), 0 when they were declined, -1 with why when
 * they differ or memory ran out. */
static inline int eslt_spans_check(esl_wire_t *w, const char *text, size_t len, int json, char *why, size_t whylen)
{
	esl_wire_spans_t p;
	esl_wire_text_info_t ti;
	esl_wire_t *full_w = NULL;
	esl_event_t *ev = NULL;
	const esl_event_header_t *h;
	size_t i = 0;
	/* esl_wire_plain_check / esl_wire_json_check first (they leave the spans alone): they may
	 * only accept what the spans accept; a plain event must read the same from its lines (the
	 * Go tests compare JSON ones header by header) */
	int tr = json ? esl_wire_json_check(w, text, len, &ti) : esl_wire_plain_check(w, text, len, &ti);
	/* the member table lasts until the next call on the parser: a copy (plain: the name
	 * lengths after the starts) */
	uint16_t *at = ti.member_at && ti.nmember ? malloc(2 * ti.nmember * sizeof(*at)) : NULL;
	int r, bad = 0;
	esl_status_t st;

	if (at) {
		memcpy(at, ti.member_at, ti.nmember * sizeof(*at));
		if (ti.name_len) {
			memcpy(at + ti.nmember, ti.name_len, ti.nmember * sizeof(*at));
		}
	}
	/* a plain text of 64 KiB or less has the table with its name lengths; JSON has none */
	if (tr == 1 && (json ? ti.name_len != NULL : (len <= UINT16_MAX && (!ti.member_at || !ti.name_len)))) {
		snprintf(why, whylen, "text check: table %s, name lengths %s for a %s event", ti.member_at ? "given" : "missing",
				 ti.name_len ? "given" : "missing", json ? "JSON" : "plain");
		free(at);
		return -1;
	}
	r = json ? esl_wire_json_spans(w, text, len, &p) : esl_wire_plain_spans(w, text, len, &p);
	if (r < 0 || tr < 0 || (ti.member_at && ti.nmember && !at)) {
		free(at);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (tr == 1 && r == 1 && at && eslt_members_same(&ti, at, &p, text, len, json, why, whylen)) {
		free(at);
		return -1;
	}
	free(at);
	if (json) {
		/* the compact path must answer as the general reader does */
		esl_wire_text_info_t gi;
		int gr;

		esl_wire_set_json_compact(w, 0);
		gr = esl_wire_json_check(w, text, len, &gi);
		esl_wire_set_json_compact(w, 1);
		if (gr >= 0 && (gr != tr || (tr == 1 && !eslt_info_same(&gi, &ti)))) {
			snprintf(why, whylen, "JSON text check: %d (event_id %d, body %zu %zu), the general reader %d (%d, %zu %zu)", tr,
					 (int) ti.event_id, ti.body_off, ti.body_len, gr, (int) gi.event_id, gi.body_off, gi.body_len);
			return -1;
		}
	}
	if (tr == 1 && r == 0) {
		snprintf(why, whylen, "the text check accepts what the spans decline");
		return -1;
	}
	if (r == 0) {
		return 0;
	}
	if (tr == 1 && !json && eslt_text_same(&ti, &p, text, len, why, whylen)) {
		return -1;
	}
	if (tr == 1 && json && (ti.event_id != p.event_id || !ti.has_body != !p.has_body || ti.header_len != len)) {
		snprintf(why, whylen, "JSON text check: event_id %d, body %d; spans %d, %d", (int) ti.event_id, ti.has_body,
				 (int) p.event_id, p.has_body);
		return -1;
	}
	if (json && !(full_w = esl_wire_create())) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	st = json ? esl_wire_parse_json(full_w, text, len, &ev) : esl_wire_parse_plain(NULL, text, len, &ev);
	esl_wire_destroy(&full_w);
	if (st != ESL_SUCCESS || !ev) {
		snprintf(why, whylen, "spans given for text the full parse refuses");
		esl_event_destroy(&ev);
		return -1;
	}
	if (ev->event_id != p.event_id) {
		snprintf(why, whylen, "event_id %d, spans say %d", (int) ev->event_id, (int) p.event_id);
		bad = 1;
	}
	for (h = ev->headers; h && !bad; h = h->next, i++) {
		const esl_wire_span_t *sp = &p.line[i];
		const char *n, *v;

		if (i >= p.nline) {
			snprintf(why, whylen, "the event has more than the %zu spans", p.nline);
			bad = 1;
			break;
		}
		if (!eslt_span_ok(&p, sp->name_off, sp->name_len) || !eslt_span_ok(&p, sp->value_off, sp->value_len)) {
			snprintf(why, whylen, "header %zu: span out of bounds", i);
			bad = 1;
			break;
		}
		n = eslt_span_str(&p, text, sp->name_off);
		v = eslt_span_str(&p, text, sp->value_off);
		if (h->idx || strlen(h->name) != sp->name_len || memcmp(h->name, n, sp->name_len) ||
			strlen(h->value) != sp->value_len || memcmp(h->value, v, sp->value_len)) {
			snprintf(why, whylen, "header %zu: [%s]=[%.60s], spans say [%.*s]=[%.*s]", i, h->name, h->value,
					 (int) sp->name_len, n, (int) (sp->value_len > 60 ? 60 : sp->value_len), v);
			bad = 1;
		}
	}
	if (!bad && i != p.nline) {
		snprintf(why, whylen, "%zu headers, %zu spans", i, p.nline);
		bad = 1;
	}
	if (!bad && (!ev->body != !p.has_body ||
				 (ev->body && (esl_wire_body_length(ev) != p.body_len || !eslt_span_ok(&p, p.body_off, p.body_len) ||
							   memcmp(ev->body, eslt_span_str(&p, text, p.body_off), p.body_len))))) {
		snprintf(why, whylen, "body differs (event %s one, spans %s)", ev->body ? "has" : "has no", p.has_body ? "have" : "have none");
		bad = 1;
	}
	if (!bad && tr == 1 && eslt_view_same(ev, text, len, json, why, whylen) < 0) {
		bad = 1;
	}
	esl_event_destroy(&ev);
	return bad ? -1 : 1;
}


/* ---- a peer on the far end of a socketpair ------------------------------------------------ */

static const char ESLT_CONNECT_REPLY[] = "Content-Type: command/reply\nReply-Text: +OK\n\n";

typedef struct {
	int fd;                 /* the peer's end */
	const char *data;       /* bytes to write after answering connect */
	size_t len;
	size_t chunk;           /* write size; 0 = everything at once; cycles 1..chunk when vary */
	int vary;
	int answer_connect;     /* read "connect\n\n" first and answer it */
	const char *connect_reply; /* NULL: ESLT_CONNECT_REPLY; "" : write data as the reply */
	int hold_open;          /* keep the socket open until the client side closes */
	int client_nonblock;    /* give the handle a non-blocking socket, as esl_listen does */
	pthread_t thread;
	int started;
} eslt_peer_t;

/* Reads until the byte sequence "\n\n" has been seen (or EOF). */
static inline int eslt_read_block(int fd)
{
	char c, prev = 0;

	for (;;) {
		ssize_t n = read(fd, &c, 1);
		if (n <= 0) {
			if (n < 0 && errno == EINTR) {
				continue;
			}
			return -1;
		}
		if (c == '\n' && prev == '\n') {
			return 0;
		}
		prev = c;
	}
}

static inline int eslt_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

static void *eslt_peer_main(void *arg)
{
	eslt_peer_t *p = arg;
	size_t off = 0, step = 1;

	if (p->answer_connect) {
		if (eslt_read_block(p->fd)) {
			goto out;
		}
		if (!p->connect_reply || *p->connect_reply) {
			const char *r = p->connect_reply ? p->connect_reply : ESLT_CONNECT_REPLY;
			if (eslt_write_all(p->fd, r, strlen(r))) {
				goto out;
			}
		}
	}
	while (off < p->len) {
		size_t n = p->len - off;
		if (p->chunk) {
			size_t want = p->vary ? step : p->chunk;
			if (n > want) {
				n = want;
			}
			step = step % p->chunk + 1;
		}
		if (eslt_write_all(p->fd, p->data + off, n)) {
			goto out;
		}
		off += n;
	}
	if (p->hold_open) {
		char buf[4096];
		while (read(p->fd, buf, sizeof(buf)) > 0) {
		}
	}
out:
	shutdown(p->fd, SHUT_RDWR);
	close(p->fd);
	return NULL;
}

/* Attaches h to one end of a socketpair whose other end p drives. 0 on success. */
static inline int eslt_attach(esl_handle_t *h, eslt_peer_t *p)
{
	int sv[2];

	memset(h, 0, sizeof(*h));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		return -1;
	}
	p->fd = sv[1];
	p->answer_connect = 1;
	if (p->client_nonblock) {
		fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	}
	if (pthread_create(&p->thread, NULL, eslt_peer_main, p)) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	p->started = 1;
	if (esl_attach_handle(h, sv[0], NULL) != ESL_SUCCESS) {
		return -1;
	}
	return 0;
}

static inline void eslt_peer_join(eslt_peer_t *p)
{
	if (p->started) {
		pthread_join(p->thread, NULL);
		p->started = 0;
	}
}

#endif
