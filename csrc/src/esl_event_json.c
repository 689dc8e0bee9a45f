/*
 * esl_event_json.c: events to and from JSON, without an outside JSON library.
 * Part of esl, an implementation of the libesl API.
 *
 * Output is byte for byte what cJSON's formatted printer gives for the same object (libesl
 * builds its JSON with cJSON_Print): one member per line, indented with a tab, ":\t" after
 * the key, arrays inline as ["a", "b"], an empty object as "{\n}".
 *
 * Input is strict RFC 8259 JSON with a nesting limit, parsed in one pass without recursion.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasecmp, strnlen */
#endif
#include "esl.h"
#include "esl_event_internal.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------------------------------ */
/* output */

/* 1 for bytes that need an escape in a JSON string. */
static const unsigned char JSON_ESC[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0
	/* the rest (0x60 .. 0xff) is 0: DEL and non-ASCII bytes are copied as they are */
};

static void add_json_string(esl_strbuf_t *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *) s, *run;
	char esc[6];

	esl_strbuf_add(sb, "\"", 1);
	for (;;) {
		for (run = p; *p && !JSON_ESC[*p]; p++) {
		}
		if (p > run) {
			esl_strbuf_add(sb, (const char *) run, (size_t) (p - run));
		}
		if (!*p) {
			break;
		}
		esc[0] = '\\';
		switch (*p) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			/* other control characters as \u00xx, lower-case hex like cJSON */
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0x0f];
			esl_strbuf_add(sb, esc, 6);
			p++;
			continue;
		}
		esl_strbuf_add(sb, esc, 2);
		p++;
	}
	esl_strbuf_add(sb, "\"", 1);
}

/* Starts a member: the separator after the previous one, the indent, the key and ":\t". */
static void add_key(esl_strbuf_t *sb, const char *key, int *first)
{
	if (!*first) {
		esl_strbuf_add(sb, ",\n", 2);
	}
	*first = 0;
	esl_strbuf_add(sb, "\t", 1);
	add_json_string(sb, key);
	esl_strbuf_add(sb, ":\t", 2);
}

ESL_DECLARE(esl_status_t) esl_event_serialize_json(esl_event_t *event, char **str)
{
	esl_strbuf_t sb = { 0 };
	const esl_event_header_t *hp;
	int first = 1, i, n;
	char num[32];

	if (!str) {
		return ESL_FAIL;
	}
	*str = NULL;
	if (!event) {
		return ESL_FAIL;
	}
	esl_strbuf_add(&sb, "{\n", 2);
	for (hp = event->headers; hp; hp = hp->next) {
		/* cJSON drops members whose name or string is missing; so does this */
		if (!hp->name) {
			continue;
		}
		if (hp->idx > 0 && hp->array) {
			int firstel = 1;

			add_key(&sb, hp->name, &first);
			esl_strbuf_add(&sb, "[", 1);
			for (i = 0; i < hp->idx; i++) {
				if (!hp->array[i]) {
					continue;
				}
				if (!firstel) {
					esl_strbuf_add(&sb, ", ", 2);
				}
				firstel = 0;
				add_json_string(&sb, hp->array[i]);
			}
			esl_strbuf_add(&sb, "]", 1);
		} else if (hp->value) {
			add_key(&sb, hp->name, &first);
			add_json_string(&sb, hp->value);
		}
	}
	if (event->body) {
		n = snprintf(num, sizeof(num), "%zu", strlen(event->body));
		add_key(&sb, "Content-Length", &first);
		esl_strbuf_add(&sb, "\"", 1);
		esl_strbuf_add(&sb, num, (size_t) n);
		esl_strbuf_add(&sb, "\"", 1);
		add_key(&sb, "_body", &first);
		add_json_string(&sb, event->body);
	}
	if (!first) {
		esl_strbuf_add(&sb, "\n", 1);
	}
	esl_strbuf_add(&sb, "}", 1);
	return esl_strbuf_finish(&sb, str);
}

/* ------------------------------------------------------------------------------------------ */
/* input */

int esl_event_json_use_index = 1;

/* Deepest nesting of objects and arrays accepted (the top-level object counts as 1). */
#define JSON_MAX_DEPTH 256

enum { JP_OK = 0, JP_SYNTAX = -1, JP_NOMEM = -2 };

typedef struct {
	/* the text is NUL-terminated: the NUL ends every scan, so no separate end pointer */
	const unsigned char *p;
	/* the terminating NUL: how far 16-byte loads may go */
	const unsigned char *end;
	/* where decoded strings go; a decoded string is never longer than its JSON form */
	char *out;
	/* keep every decoded string (they are laid out one after another) */
	int keep;
	const esl_json_sink_t *sink;
	void *ctx;
	/* esl_json_scan_event: strings are checked, not decoded, and handed over as they are */
	int raw;
} jparser_t;

static void skip_ws(jparser_t *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r') {
		j->p++;
	}
}

static int hex4(const unsigned char *s, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9') {
			v |= (unsigned int) (c - '0');
		} else if (c >= 'a' && c <= 'f') {
			v |= (unsigned int) (c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			v |= (unsigned int) (c - 'A' + 10);
		} else {
			/* also stops at the terminating NUL, so nothing past it is read */
			return 0;
		}
	}
	*out = v;
	return 1;
}

/* Parses the string at j->p (on its opening quote). With out, writes the decoded bytes and a
 * NUL there and returns their count in *outlen. \u0000 is refused: header values are C
 * strings, and a value cut at a NUL would be silently wrong. */
static int parse_string(jparser_t *j, char *out, size_t *outlen, unsigned *seen)
{
	const unsigned char *p = j->p + 1, *run;
	char *w = out;
	unsigned found = 0;

	for (;;) {
#if defined(__SSE2__)
		{
			/* 16 bytes at a time, copied when decoding. The output never runs ahead of the
			 * input (a decoded string and its NUL are shorter than its JSON form), so the store
			 * stays inside the len + 1 bytes of out. */
			const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1F);
			const __m128i col = _mm_set1_epi8(':'), br = _mm_set1_epi8('[');

			while (j->end - p >= 16) {
				__m128i v = _mm_loadu_si128((const __m128i *) (const void *) p);
				unsigned m, mc, mb;

				if (w) {
					_mm_storeu_si128((__m128i *) (void *) w, v);
				}
				m = (unsigned) _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bs)),
															  _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl)));
				mc = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, col));
				mb = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, br));
				if (m) {
					int k = __builtin_ctz(m);
					unsigned before = (1u << k) - 1;
					found |= ((mc & before) ? ESL_JSON_COLON : 0) | ((mb & before) ? ESL_JSON_BRACKET : 0);
					p += k;
					if (w) {
						w += k;
					}
					goto stopped;
				}
				found |= (mc ? ESL_JSON_COLON : 0) | (mb ? ESL_JSON_BRACKET : 0);
				p += 16;
				if (w) {
					w += 16;
				}
			}
		}
#endif
		for (run = p; *p >= 0x20 && *p != '"' && *p != '\\'; p++) {
			found |= *p == ':' ? ESL_JSON_COLON : *p == '[' ? ESL_JSON_BRACKET : 0;
		}
		if (w && p > run) {
			memcpy(w, run, (size_t) (p - run));
			w += p - run;
		}
#if defined(__SSE2__)
	stopped:
#endif
		if (*p == '"') {
			break;
		}
		if (*p != '\\') {
			/* a raw control character or the end of the text */
			return JP_SYNTAX;
		}
		p++;
		found |= j->raw ? ESL_JSON_ESCAPE : 0;
		switch (*p) {
		case 'u': {
			unsigned int cp, lo;

			found |= j->raw ? ESL_JSON_UNICODE : 0;
			if (!hex4(p + 1, &cp)) {
				return JP_SYNTAX;
			}
			p += 5;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				/* a high surrogate must be followed by an escaped low one */
				if (p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
					return JP_SYNTAX;
				}
				p += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				return JP_SYNTAX;
			}
			if (cp == 0) {
				return JP_SYNTAX;
			}
			found |= cp == ':' ? ESL_JSON_COLON : cp == '[' ? ESL_JSON_BRACKET : 0;
			if (w) {
				if (cp < 0x80) {
					*w++ = (char) cp;
				} else if (cp < 0x800) {
					*w++ = (char) (0xC0 | (cp >> 6));
					*w++ = (char) (0x80 | (cp & 0x3F));
				} else if (cp < 0x10000) {
					*w++ = (char) (0xE0 | (cp >> 12));
					*w++ = (char) (0x80 | ((cp >> 6) & 0x3F));
					*w++ = (char) (0x80 | (cp & 0x3F));
				} else {
					*w++ = (char) (0xF0 | (cp >> 18));
					*w++ = (char) (0x80 | ((cp >> 12) & 0x3F));
					*w++ = (char) (0x80 | ((cp >> 6) & 0x3F));
					*w++ = (char) (0x80 | (cp & 0x3F));
				}
			}
			break;
		}
		default: {
			int d = esl_json_short_escape(*p);

			if (d < 0) {
				return JP_SYNTAX;
			}
			if (w) {
				*w++ = (char) d;
			}
			p++;
			break;
		}
		}
	}
	j->p = p + 1;
	if (w) {
		*w = '\0';
		*outlen = (size_t) (w - out);
	}
	if (seen) {
		*seen = found;
	}
	return JP_OK;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(jparser_t *j)
{
	const unsigned char *p = j->p;

	if (*p == '-') {
		p++;
	}
	if (*p == '0') {
		p++;
	} else if (is_digit(*p)) {
		while (is_digit(*p)) {
			p++;
		}
	} else {
		return JP_SYNTAX;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p)) {
			return JP_SYNTAX;
		}
		while (is_digit(*p)) {
			p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-') {
			p++;
		}
		if (!is_digit(*p)) {
			return JP_SYNTAX;
		}
		while (is_digit(*p)) {
			p++;
		}
	}
	j->p = p;
	return JP_OK;
}

static int parse_literal(jparser_t *j, const char *word, size_t len)
{
	if (strncmp((const char *) j->p, word, len)) {
		return JP_SYNTAX;
	}
	j->p += len;
	return JP_OK;
}

/* Checks and skips one value of any type. depth is the nesting of the container that holds
 * it. Nested containers are tracked in a small explicit stack instead of by recursion. */
static int skip_value(jparser_t *j, int depth)
{
	unsigned char stack[JSON_MAX_DEPTH];
	int sp = 0, r;

	for (;;) {
		/* a value starts here */
		skip_ws(j);
		switch (*j->p) {
		case '{':
		case '[':
			if (depth + sp + 1 > JSON_MAX_DEPTH) {
				return JP_SYNTAX;
			}
			stack[sp++] = *j->p;
			j->p++;
			skip_ws(j);
			if (*j->p == (stack[sp - 1] == '{' ? '}' : ']')) {
				j->p++;
				sp--;
				break;
			}
			if (stack[sp - 1] == '{') {
				if (*j->p != '"' || (r = parse_string(j, NULL, NULL, NULL)) != JP_OK) {
					return JP_SYNTAX;
				}
				skip_ws(j);
				if (*j->p != ':') {
					return JP_SYNTAX;
				}
				j->p++;
			}
			continue;
		case '"':
			if ((r = parse_string(j, NULL, NULL, NULL)) != JP_OK) {
				return r;
			}
			break;
		case 't':
			if ((r = parse_literal(j, "true", 4)) != JP_OK) {
				return r;
			}
			break;
		case 'f':
			if ((r = parse_literal(j, "false", 5)) != JP_OK) {
				return r;
			}
			break;
		case 'n':
			if ((r = parse_literal(j, "null", 4)) != JP_OK) {
				return r;
			}
			break;
		default:
			if ((r = parse_number(j)) != JP_OK) {
				return r;
			}
			break;
		}

		/* a value ended: close containers, or move on to the next element or member */
		for (;;) {
			if (!sp) {
				return JP_OK;
			}
			skip_ws(j);
			if (*j->p == ',') {
				j->p++;
				if (stack[sp - 1] == '{') {
					skip_ws(j);
					if (*j->p != '"' || parse_string(j, NULL, NULL, NULL) != JP_OK) {
						return JP_SYNTAX;
					}
					skip_ws(j);
					if (*j->p != ':') {
						return JP_SYNTAX;
					}
					j->p++;
				}
				break;
			}
			if (*j->p == (stack[sp - 1] == '{' ? '}' : ']')) {
				j->p++;
				sp--;
				continue;
			}
			return JP_SYNTAX;
		}
	}
}

/* The opening of the top-level object: 1 when members follow, JP_OK for an empty object
 * (closed), JP_SYNTAX when the text is not an object. */
static int open_object(jparser_t *j)
{
	skip_ws(j);
	if (*j->p != '{') {
		return JP_SYNTAX;
	}
	j->p++;
	skip_ws(j);
	if (*j->p == '}') {
		j->p++;
		return JP_OK;
	}
	return 1;
}

/* After a member of the top-level object: 1 when another follows, JP_OK at the end of the
 * object, JP_SYNTAX otherwise. */
static int next_member(jparser_t *j)
{
	skip_ws(j);
	if (*j->p == ',') {
		j->p++;
		skip_ws(j);
		return 1;
	}
	if (*j->p == '}') {
		j->p++;
		return JP_OK;
	}
	return JP_SYNTAX;
}

/* A member's name and the ':' after it, leaving j->p at the value. *key is where to decode the
 * name to, or NULL to leave it as it is in the text (raw mode): then *key is set to it there.
 * JP_OK, or JP_SYNTAX. */
static int member_name(jparser_t *j, char **key, size_t *klen, unsigned *kseen)
{
	const unsigned char *raw = j->p + 1;

	if (*j->p != '"' || parse_string(j, *key, klen, kseen) != JP_OK) {
		return JP_SYNTAX;
	}
	if (!*key) {
		*key = (char *) raw;
		*klen = (size_t) (j->p - 1 - raw);
	}
	skip_ws(j);
	if (*j->p != ':') {
		return JP_SYNTAX;
	}
	j->p++;
	skip_ws(j);
	return JP_OK;
}

/* The members of the top-level object, in order. */
static int parse_event(jparser_t *j)
{
	char *key, *val;
	size_t klen, vlen;
	unsigned kseen, vseen;
	int r;

	if ((r = open_object(j)) != 1) {
		return r;
	}
	for (;;) {
		key = j->out;
		if (member_name(j, &key, &klen, &kseen) != JP_OK) {
			return JP_SYNTAX;
		}
		val = key + klen + 1;
		if (*j->p == '"') {
			if ((r = parse_string(j, val, &vlen, &vseen)) != JP_OK) {
				return r;
			}
			if (j->sink->member(j->ctx, key, klen, val, vlen, kseen | vseen << ESL_JSON_VALUE_SHIFT)) {
				return JP_NOMEM;
			}
			if (j->keep) {
				j->out = val + vlen + 1;
			}
		} else if (*j->p == '[') {
			/* string elements are pushed under the key; anything else is checked and skipped */
			if (j->keep) {
				j->out = val;
			}
			j->p++;
			skip_ws(j);
			if (*j->p == ']') {
				j->p++;
			} else {
				for (;;) {
					skip_ws(j);
					if (*j->p == '"') {
						if ((r = parse_string(j, val, &vlen, &vseen)) != JP_OK) {
							return r;
						}
						if (j->sink->element(j->ctx, key, klen, val, vlen, kseen | vseen << ESL_JSON_VALUE_SHIFT)) {
							return JP_NOMEM;
						}
						if (j->keep) {
							val += vlen + 1;
							j->out = val;
						}
					} else if ((r = skip_value(j, 2)) != JP_OK) {
						return r;
					}
					skip_ws(j);
					if (*j->p == ',') {
						j->p++;
						continue;
					}
					if (*j->p == ']') {
						j->p++;
						break;
					}
					return JP_SYNTAX;
				}
			}
		} else if ((r = skip_value(j, 1)) != JP_OK) {
			return r;
		}
		if ((r = next_member(j)) != 1) {
			return r;
		}
	}
}

/* The result of a reader that ran parse or scan (r): nothing but white space may follow the
 * object, and a NUL byte ends the text early. */
static int finish_read(jparser_t *j, const char *json, size_t len, int r)
{
	if (r == JP_OK) {
		skip_ws(j);
		if (j->p != (const unsigned char *) json + len) {
			r = JP_SYNTAX;
		}
	}
	return r == JP_OK ? 0 : r == JP_NOMEM ? -1 : 1;
}

/* parse_event for esl_json_scan_event: the same grammar, strings checked but not decoded. */
static int scan_event(jparser_t *j)
{
	int r;

	if ((r = open_object(j)) != 1) {
		return r;
	}
	for (;;) {
		const unsigned char *val;
		char *key = NULL;
		unsigned kseen, vseen;
		size_t klen;

		if (member_name(j, &key, &klen, &kseen) != JP_OK) {
			return JP_SYNTAX;
		}
		if (*j->p == '"') {
			val = j->p + 1;
			if ((r = parse_string(j, NULL, NULL, &vseen)) != JP_OK) {
				return r;
			}
			if (j->sink->member(j->ctx, key, klen, (const char *) val, (size_t) (j->p - 1 - val),
								kseen | vseen << ESL_JSON_VALUE_SHIFT)) {
				return JP_NOMEM;
			}
		} else {
			if (j->sink->element(j->ctx, key, klen, NULL, 0, kseen)) {
				return JP_NOMEM;
			}
			if ((r = skip_value(j, 1)) != JP_OK) {
				return r;
			}
		}
		if ((r = next_member(j)) != 1) {
			return r;
		}
	}
}

int esl_json_scan_event(const char *json, size_t len, const esl_json_sink_t *sink, void *ctx)
{
	jparser_t j = { 0 };

	j.p = (const unsigned char *) json;
	j.end = j.p + len;
	j.raw = 1;
	j.sink = sink;
	j.ctx = ctx;
	return finish_read(&j, json, len, scan_event(&j));
}

int esl_json_read_event(const char *json, size_t len, char *out, int keep, const esl_json_sink_t *sink, void *ctx)
{
	jparser_t j = { 0 };

	j.p = (const unsigned char *) json;
	j.end = j.p + len;
	j.out = out;
	j.keep = keep;
	j.sink = sink;
	j.ctx = ctx;
	return finish_read(&j, json, len, parse_event(&j));
}

/* esl_event_create_json's sink: the event API with the bulk builder. */
typedef struct {
	esl_event_t *ev;
	esl_event_builder_t *b;
} jevent_t;

/* A top-level string member. The body is set literally: never used as a format. */
static int ev_member(void *ctx, const char *key, size_t klen, const char *val, size_t vlen, unsigned seen)
{
	jevent_t *je = ctx;

	(void) klen;
	(void) seen;
	if (!strcasecmp(key, "_body")) {
		return esl_event_set_body_len(je->ev, val, vlen) == ESL_SUCCESS ? 0 : -1;
	}
	if (!strcasecmp(key, "event-name")) {
		esl_event_build_del(je->ev, je->b, "Event-Name");
		esl_name_event(val, &je->ev->event_id);
	}
	return esl_event_build_add(je->ev, je->b, ESL_STACK_BOTTOM, key, val, vlen) == ESL_SUCCESS ? 0 : -1;
}

static int ev_element(void *ctx, const char *key, size_t klen, const char *val, size_t vlen, unsigned seen)
{
	jevent_t *je = ctx;

	(void) klen;
	(void) seen;
	return esl_event_build_add(je->ev, je->b, ESL_STACK_PUSH, key, val, vlen) == ESL_SUCCESS ? 0 : -1;
}

ESL_DECLARE(esl_status_t) esl_event_create_json(esl_event_t **event, const char *json)
{
	static const esl_json_sink_t sink = { ev_member, ev_element };
	jevent_t je = { 0 };
	esl_event_t *ev = NULL;
	char *scratch;
	size_t len;
	int r;

	if (!event) {
		return ESL_FAIL;
	}
	/* Like libesl, text that is not a JSON object gives ESL_SUCCESS and leaves *event alone. */
	if (!json) {
		return ESL_SUCCESS;
	}
	len = strlen(json);
	if (esl_event_create(&ev, ESL_EVENT_CLONE) != ESL_SUCCESS) {
		return ESL_FAIL;
	}
	if (!(scratch = malloc(len + 1))) {
		esl_event_destroy(&ev);
		return ESL_FAIL;
	}
	je.ev = ev;
	je.b = esl_event_json_use_index ? esl_event_build_begin(ev) : NULL;
	r = esl_json_read_event(json, len, scratch, 0, &sink, &je);
	esl_event_build_end(ev, je.b);
	free(scratch);
	if (r) {
		esl_event_destroy(&ev);
		return r < 0 ? ESL_FAIL : ESL_SUCCESS;
	}
	*event = ev;
	return ESL_SUCCESS;
}
