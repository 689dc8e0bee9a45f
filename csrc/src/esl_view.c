/*
 * esl_view.c: events read in place (esl_recv_event_view and the esl_event_view_* calls).
 *
 * A view holds a copy of an event's text and the table of where its headers start, both
 * from the text checks of the parser (esl_wire_plain_check, esl_wire_json_check). Those
 * checks accept only texts whose event is one header per line or member, in order, so the
 * first header with a name is the first line or member with it, and its value is that line's
 * or member's, decoded. A lookup walks the table, compares the names of the right length,
 * and decodes the value it finds into the view's scratch memory, once: a second lookup of
 * the same header gives the same string. The scratch memory is sized when the text arrives
 * (every decoded value is no longer than its text, plus a NUL), so what a lookup returned
 * never moves until the next receive.
 *
 * Texts the checks decline, texts over 64 KiB (their table does not fit in 16 bits), JSON the
 * compact reader did not take, and every other message go the usual way into last_ievent.
 */
#include <esl.h>

#include "esl_wire.h"

enum { VIEW_NONE, VIEW_PLAIN, VIEW_JSON, VIEW_EVENT };

/* What a lookup decoded: the generation of the text it belongs to, and where it is. */
typedef struct {
	uint32_t gen;
	uint32_t off;
} view_slot_t;

struct esl_event_view {
	int mode;
	esl_handle_t *handle;       /* VIEW_EVENT: the event is handle->last_ievent */
	esl_wire_t *wire;           /* the checks' scratch; holds the member table */
	char *text;                 /* the event's text, NUL-terminated at text_len */
	size_t text_len, text_cap;
	esl_wire_text_info_t info;
	char *scratch;              /* decoded values and body */
	size_t scratch_len, scratch_cap;
	view_slot_t *slot;          /* per member, and the body last */
	size_t slot_cap;
	uint32_t gen;               /* the text's generation: a slot of another one is empty */
};

ESL_DECLARE(esl_status_t) esl_event_view_create(esl_event_view_t **view)
{
	esl_event_view_t *v;

	if (!view) {
		return ESL_FAIL;
	}
	*view = NULL;
	if (!(v = calloc(1, sizeof(*v)))) {
		return ESL_FAIL;
	}
	if (!(v->wire = esl_wire_create())) {
		free(v);
		return ESL_FAIL;
	}
	*view = v;
	return ESL_SUCCESS;
}

ESL_DECLARE(void) esl_event_view_destroy(esl_event_view_t **view)
{
	esl_event_view_t *v;

	if (!view || !(v = *view)) {
		return;
	}
	esl_wire_destroy(&v->wire);
	free(v->text);
	free(v->scratch);
	free(v->slot);
	free(v);
	*view = NULL;
}

/* Makes room for n bytes at *p (capacity *cap); the contents are not kept. */
static int room(char **p, size_t *cap, size_t n)
{
	char *np;

	if (n <= *cap) {
		return 0;
	}
	if (n < 4096) {
		n = 4096;
	}
	if (!(np = malloc(n))) {
		return -1;
	}
	free(*p);
	*p = np;
	*cap = n;
	return 0;
}

/* Reads text (NUL-terminated at len, json or plain) in place when the checks allow it: 1 then,
 * 0 when the event needs the full parse, -1 when memory ran out. The view is left empty
 * unless it returns 1. */
int esl_event_view_set_text(esl_event_view_t *v, const char *text, size_t len, int json)
{
	esl_wire_text_info_t info;
	int r;

	v->mode = VIEW_NONE;
	r = json ? esl_wire_json_check(v->wire, text, len, &info) : esl_wire_plain_check(v->wire, text, len, &info);
	if (r <= 0) {
		return r;
	}
	if (!info.member_at || (!json && !info.name_len)) {
		/* no table: a text over 64 KiB, or JSON the compact reader did not take */
		return 0;
	}
	if (room(&v->text, &v->text_cap, len + 1) || room(&v->scratch, &v->scratch_cap, len + info.nmember + 2)) {
		return -1;
	}
	if (info.nmember + 1 > v->slot_cap) {
		view_slot_t *ns = calloc(info.nmember + 1, sizeof(*ns));

		if (!ns) {
			return -1;
		}
		free(v->slot);
		v->slot = ns;
		v->slot_cap = info.nmember + 1;
		v->gen = 0;
	}
	if (++v->gen == 0) {
		/* wrapped: no slot may look filled */
		memset(v->slot, 0, v->slot_cap * sizeof(*v->slot));
		v->gen = 1;
	}
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	v->text_len = len;
	v->info = info;
	v->scratch_len = 0;
	v->mode = json ? VIEW_JSON : VIEW_PLAIN;
	return 1;
}

static int view_take(void *ctx, const char *body, size_t len, int json)
{
	/* declined (or out of memory here): the usual receive takes it and reports its own errors */
	return esl_event_view_set_text(ctx, body, len, json) == 1 ? ESL_WIRE_TAKEN_STOP : ESL_WIRE_DECLINE;
}

ESL_DECLARE(esl_status_t) esl_recv_event_view(esl_handle_t *handle, uint32_t ms, esl_event_view_t *view)
{
	esl_status_t st;

	if (!view) {
		return ESL_FAIL;
	}
	view->mode = VIEW_NONE;
	view->handle = NULL;
	st = esl_recv_take_timed(handle, ms, view_take, view);
	if (st == ESL_SUCCESS && view->mode == VIEW_NONE) {
		/* received the usual way: the view reads last_ievent (after a timeout or a failure it
		 * may still hold an earlier message's event, which the view does not show) */
		view->mode = VIEW_EVENT;
		view->handle = handle;
	}
	return st;
}

const char *esl_event_view_text(const esl_event_view_t *view, size_t *len, int *json)
{
	if (!view || (view->mode != VIEW_PLAIN && view->mode != VIEW_JSON)) {
		return NULL;
	}
	*len = view->text_len;
	*json = view->mode == VIEW_JSON;
	return view->text;
}

static esl_event_t *view_event(const esl_event_view_t *v)
{
	return v->mode == VIEW_EVENT && v->handle ? v->handle->last_ievent : NULL;
}

ESL_DECLARE(int) esl_event_view_has_event(const esl_event_view_t *view)
{
	return view && (view->mode == VIEW_PLAIN || view->mode == VIEW_JSON || view_event(view));
}

ESL_DECLARE(int) esl_event_view_in_place(const esl_event_view_t *view)
{
	return view && (view->mode == VIEW_PLAIN || view->mode == VIEW_JSON);
}

ESL_DECLARE(esl_event_types_t) esl_event_view_id(const esl_event_view_t *view)
{
	esl_event_t *e;

	if (esl_event_view_in_place(view)) {
		return view->info.event_id;
	}
	return view && (e = view_event(view)) ? e->event_id : ESL_EVENT_CUSTOM;
}

/* The value slot s holds for this text, or NULL when it holds none yet: the slot is then
 * claimed for the value put next. */
static const char *slot_value(esl_event_view_t *v, view_slot_t *s)
{
	if (s->gen == v->gen) {
		return v->scratch + s->off;
	}
	s->gen = v->gen;
	s->off = (uint32_t) v->scratch_len;
	return NULL;
}

/* Appends the n bytes at s to the scratch memory, decoded as a plain value or as a JSON string
 * by the view's mode, NUL-terminated. */
static const char *put_decoded(esl_event_view_t *v, const char *s, size_t n)
{
	char *out = v->scratch + v->scratch_len;
	char *end = v->mode == VIEW_PLAIN ? esl_wire_plain_value_into(out, s, n) : esl_wire_json_string_into(out, s, n);

	*end++ = '\0';
	v->scratch_len = (size_t) (end - v->scratch);
	return out;
}

/* The raw contents of the JSON string that opens at t[p] ('"'): *n bytes at the result. A
 * quote ends it unless an odd run of backslashes comes before it. */
static const char *json_string_at(const char *t, size_t p, size_t end, size_t *n)
{
	const char *s = t + p + 1, *e = t + end, *q = s;

	while ((q = memchr(q, '"', (size_t) (e - q)))) {
		const char *b = q;

		while (b > s && b[-1] == '\\') {
			b--;
		}
		if (!((q - b) & 1)) {
			break;
		}
		q++;
	}
	*n = (size_t) ((q ? q : e) - s);
	return s;
}

/* Member i's value, decoded (once per text). */
static const char *member_value(esl_event_view_t *v, size_t i, size_t name_len)
{
	const char *t = v->text, *val = slot_value(v, &v->slot[i]);
	size_t at = v->info.member_at[i], p, n;

	if (val) {
		return val;
	}
	if (v->mode == VIEW_PLAIN) {
		const char *lf;
		size_t end = v->info.header_len;

		for (p = at + name_len + 1; p < end && t[p] == ' '; p++) {
		}
		lf = memchr(t + p, '\n', end - p);
		return put_decoded(v, t + p, (lf ? (size_t) (lf - t) : end) - p);
	}
	/* the table comes only with compact JSON ("key":"value", no white space): from the name's
	 * opening quote, past the name, its closing quote and the colon, to the value's quote */
	val = json_string_at(t, at + name_len + 3, v->text_len, &n);
	return put_decoded(v, val, n);
}

/* Whether the n bytes at t are name, ASCII case aside. Equal names have equal first bytes once
 * bit 5 is set in both: a cheap first test before the library's comparison. */
static inline int same_name(const char *t, const char *name, size_t n)
{
	return !n || ((((unsigned char) t[0] | 0x20) == ((unsigned char) name[0] | 0x20)) && !strncasecmp(t, name, n));
}

ESL_DECLARE(const char *) esl_event_view_get_header(esl_event_view_t *view, const char *name)
{
	const uint16_t *at;
	const char *t;
	size_t i, nlen, nm;

	if (!view || !name) {
		return NULL;
	}
	if (!esl_event_view_in_place(view)) {
		esl_event_t *e = view_event(view);

		return e ? esl_event_get_header(e, name) : NULL;
	}
	at = view->info.member_at;
	nm = view->info.nmember;
	t = view->text;
	nlen = strlen(name);
	if (view->mode == VIEW_PLAIN) {
		const uint16_t *lens = view->info.name_len;

		/* a name never holds ':' (it ends at the line's first one), so the length rules it out */
		for (i = 0; i < nm; i++) {
			if (lens[i] == nlen && same_name(t + at[i], name, nlen)) {
				return member_value(view, i, nlen);
			}
		}
	} else if (!strchr(name, '"')) {
		/* JSON names have no escapes here, so a name is the bytes up to its closing quote */
		for (i = 0; i < nm; i++) {
			size_t k = (size_t) at[i] + 1;

			if (k + nlen < view->text_len && t[k + nlen] == '"' && same_name(t + k, name, nlen)) {
				return member_value(view, i, nlen);
			}
		}
	}
	return !strcmp(name, "_body") ? esl_event_view_get_body(view, NULL) : NULL;
}

ESL_DECLARE(const char *) esl_event_view_get_body(esl_event_view_t *view, esl_size_t *len)
{
	const char *b = NULL;
	size_t n = 0;

	if (view && esl_event_view_in_place(view)) {
		if (view->info.has_body && view->mode == VIEW_PLAIN) {
			/* the rest of the text, NUL-terminated by the copy */
			b = view->text + view->info.body_off;
			n = view->info.body_len;
		} else if (view->info.has_body) {
			/* the JSON body is still escaped: decoded once, in the slot after the members' */
			if (!(b = slot_value(view, &view->slot[view->info.nmember]))) {
				b = put_decoded(view, view->text + view->info.body_off, view->info.body_len);
			}
			n = strlen(b);
		}
	} else if (view) {
		esl_event_t *e = view_event(view);

		if (e && e->body) {
			b = e->body;
			n = esl_wire_body_length(e);
		}
	}
	if (len) {
		*len = n;
	}
	return b;
}

ESL_DECLARE(esl_status_t) esl_event_view_to_event(esl_event_view_t *view, esl_event_t **event)
{
	esl_event_t *e = NULL;

	if (!event) {
		return ESL_FAIL;
	}
	*event = NULL;
	if (!view) {
		return ESL_FAIL;
	}
	if (view->mode == VIEW_PLAIN) {
		/* no parser: its scratch holds the member table the view still reads */
		if (esl_wire_parse_plain(NULL, view->text, view->text_len, &e) != ESL_SUCCESS) {
			return ESL_FAIL;
		}
	} else if (view->mode == VIEW_JSON) {
		if (esl_wire_parse_json(NULL, view->text, view->text_len, &e) != ESL_SUCCESS || !e) {
			esl_event_destroy(&e);
			return ESL_FAIL;
		}
	} else if (!view_event(view) || esl_event_dup(&e, view_event(view)) != ESL_SUCCESS) {
		return ESL_FAIL;
	}
	*event = e;
	return ESL_SUCCESS;
}
