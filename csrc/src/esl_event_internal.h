/*
 * esl_event_internal.h: helpers shared by esl_event.c and esl_event_json.c.
 */
#ifndef ESL_EVENT_INTERNAL_H
#define ESL_EVENT_INTERNAL_H

#include "esl.h"

/*
 * Bulk header insertion. Between begin and end the event's header list is detached and kept
 * in an index, so name lookups and "delete every header called X" cost O(1) instead of a walk
 * of the list; building an event of n headers stays linear whatever the input. The result
 * is exactly what the same sequence of esl_event_add_header_string / esl_event_del_header
 * calls gives. Nothing else may touch the event's headers until esl_event_build_end.
 */
typedef struct esl_event_builder esl_event_builder_t;

/* Never fails: when the index cannot be allocated the builder works on the list directly.
 * Returns NULL only when event is NULL or the builder itself cannot be allocated; the other
 * functions then act on the event directly. */
esl_event_builder_t *esl_event_build_begin(esl_event_t *event);
/* esl_event_add_header_string semantics; name and value (vlen bytes, or up to its first NUL)
 * are copied. */
esl_status_t esl_event_build_add(esl_event_t *event, esl_event_builder_t *b, esl_stack_t stack, const char *name,
								 const char *value, size_t vlen);
/* esl_event_del_header semantics. */
void esl_event_build_del(esl_event_t *event, esl_event_builder_t *b, const char *name);
/* Relinks the headers into the event and frees the builder. */
void esl_event_build_end(esl_event_t *event, esl_event_builder_t *b);

/* esl_name_event of the len bytes at name, which need not be NUL-terminated (a value in a
 * received text). */
esl_status_t esl_name_event_n(const char *name, size_t len, esl_event_types_t *type);

/* Tests only: 0 makes esl_event_create_json add its headers one by one without the index,
 * so a test can check that both ways build the same event. */
extern int esl_event_json_use_index;

/*
 * The JSON reader behind esl_event_create_json, for callers that build events their own way.
 * It calls member for each string member of the top-level object and element for each string
 * element of an array member, in order; every other value is checked and skipped. key and val
 * are decoded and NUL-terminated (klen and vlen bytes, no NUL inside) in out, which must hold
 * len + 1 bytes. With keep, every string stays valid until the reader returns; without, only
 * during its call. A callback returns 0, or -1 to stop the reader.
 * seen tells what the decoded strings hold: ESL_JSON_COLON / ESL_JSON_BRACKET for the key,
 * the same shifted left by ESL_JSON_VALUE_SHIFT for the value (so a caller looks for
 * "ARRAY::" or "[" only when it can be there).
 * json must be NUL-terminated at len. Returns 0 for a valid object, 1 for anything else
 * (also a NUL byte before len), -1 when a callback stopped it.
 */
#define ESL_JSON_COLON 1u
#define ESL_JSON_BRACKET 2u
#define ESL_JSON_VALUE_SHIFT 4
typedef struct {
	int (*member)(void *ctx, const char *key, size_t klen, const char *val, size_t vlen, unsigned seen);
	int (*element)(void *ctx, const char *key, size_t klen, const char *val, size_t vlen, unsigned seen);
} esl_json_sink_t;
int esl_json_read_event(const char *json, size_t len, char *out, int keep, const esl_json_sink_t *sink, void *ctx);

/* The same walk, checking the same grammar, without decoding: key and val point into json at
 * the bytes between the quotes, as they are. seen holds the key's flags, and the value's
 * shifted left by ESL_JSON_VALUE_SHIFT, with two more: ESL_JSON_ESCAPE (a backslash escape) and
 * ESL_JSON_UNICODE (a \u escape). element is called once for each member whose value is not
 * a string, with val NULL and vlen 0; when it returns 0 the value is checked and skipped. */
#define ESL_JSON_ESCAPE 4u
#define ESL_JSON_UNICODE 8u
int esl_json_scan_event(const char *json, size_t len, const esl_json_sink_t *sink, void *ctx);

/* The byte a JSON one-character escape stands for (c is the byte after the backslash), or -1
 * when c makes none (a \u escape is not one). */
static inline int esl_json_short_escape(unsigned char c)
{
	switch (c) {
	case '"':
	case '\\':
	case '/':
		return c;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return -1;
	}
}

/* Sets the body to a copy of len bytes of body. */
esl_status_t esl_event_set_body_len(esl_event_t *event, const char *body, size_t len);

/* Growable string used by the serializers. */
typedef struct {
	char *s;
	size_t len;
	size_t cap;
	int failed;
} esl_strbuf_t;

static inline int esl_strbuf_reserve(esl_strbuf_t *sb, size_t more)
{
	size_t need, ncap;
	char *p;

	if (sb->failed) {
		return 0;
	}
	need = sb->len + more + 1;
	if (need < sb->len) {
		sb->failed = 1;
		return 0;
	}
	if (need <= sb->cap) {
		return 1;
	}
	ncap = sb->cap ? sb->cap * 2 : 1024;
	if (ncap < need) {
		ncap = need;
	}
	if (!(p = realloc(sb->s, ncap))) {
		sb->failed = 1;
		return 0;
	}
	sb->s = p;
	sb->cap = ncap;
	return 1;
}

static inline void esl_strbuf_add(esl_strbuf_t *sb, const char *s, size_t n)
{
	if (esl_strbuf_reserve(sb, n)) {
		memcpy(sb->s + sb->len, s, n);
		sb->len += n;
		sb->s[sb->len] = '\0';
	}
}

static inline void esl_strbuf_adds(esl_strbuf_t *sb, const char *s)
{
	esl_strbuf_add(sb, s, strlen(s));
}

/* Hands the text to *out (NULL and ESL_FAIL after an allocation failure). */
static inline esl_status_t esl_strbuf_finish(esl_strbuf_t *sb, char **out)
{
	if (sb->failed || !esl_strbuf_reserve(sb, 0)) {
		free(sb->s);
		*out = NULL;
		return ESL_FAIL;
	}
	sb->s[sb->len] = '\0';
	*out = sb->s;
	return ESL_SUCCESS;
}

#endif
