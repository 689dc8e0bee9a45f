/*
 * esl_event.c: events, their headers, and the plain text form.
 * Part of esl, an implementation of the libesl API.
 *
 * Header insertion reproduces libesl's observable behaviour exactly, quirks included (the
 * stack modes act as bit tests: TOP overwrites in place, UNSHIFT appends, an indexed replace
 * leaves the rendered value stale); see the "header insertion" section of the spec.
 *
 * Memory rules:
 *  - every part of an event (header struct, name, value, array, element, body, subclass) is
 *    its own heap block or lives in the single block of an arena event (esl_event_private.h);
 *    parts are always freed through esl_event_free_part();
 *  - a header's value and its array elements never share memory;
 *  - a heap array (one not inside an arena) is allocated here with room for arr_cap(idx)
 *    slots followed by an arr_meta_t. The meta remembers the length and capacity of the
 *    rendered value, so pushing an element appends to the rendered text instead of
 *    rebuilding it: n pushes cost O(total length), not O(n^2).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf, asprintf, memmem */
#endif
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "esl.h"
#include "esl_event_private.h"
#include "esl_event_internal.h"

static const char *const EVENT_NAMES[] = {
	"CUSTOM",
	"CLONE",
	"CHANNEL_CREATE",
	"CHANNEL_DESTROY",
	"CHANNEL_STATE",
	"CHANNEL_CALLSTATE",
	"CHANNEL_ANSWER",
	"CHANNEL_HANGUP",
	"CHANNEL_HANGUP_COMPLETE",
	"CHANNEL_EXECUTE",
	"CHANNEL_EXECUTE_COMPLETE",
	"CHANNEL_HOLD",
	"CHANNEL_UNHOLD",
	"CHANNEL_BRIDGE",
	"CHANNEL_UNBRIDGE",
	"CHANNEL_PROGRESS",
	"CHANNEL_PROGRESS_MEDIA",
	"CHANNEL_OUTGOING",
	"CHANNEL_PARK",
	"CHANNEL_UNPARK",
	"CHANNEL_APPLICATION",
	"CHANNEL_ORIGINATE",
	"CHANNEL_UUID",
	"API",
	"LOG",
	"INBOUND_CHAN",
	"OUTBOUND_CHAN",
	"STARTUP",
	"SHUTDOWN",
	"PUBLISH",
	"UNPUBLISH",
	"TALK",
	"NOTALK",
	"SESSION_CRASH",
	"MODULE_LOAD",
	"MODULE_UNLOAD",
	"DTMF",
	"MESSAGE",
	"PRESENCE_IN",
	"NOTIFY_IN",
	"PRESENCE_OUT",
	"PRESENCE_PROBE",
	"MESSAGE_WAITING",
	"MESSAGE_QUERY",
	"ROSTER",
	"CODEC",
	"BACKGROUND_JOB",
	"DETECTED_SPEECH",
	"DETECTED_TONE",
	"PRIVATE_COMMAND",
	"HEARTBEAT",
	"TRAP",
	"ADD_SCHEDULE",
	"DEL_SCHEDULE",
	"EXE_SCHEDULE",
	"RE_SCHEDULE",
	"RELOADXML",
	"NOTIFY",
	"PHONE_FEATURE",
	"PHONE_FEATURE_SUBSCRIBE",
	"SEND_MESSAGE",
	"RECV_MESSAGE",
	"REQUEST_PARAMS",
	"CHANNEL_DATA",
	"GENERAL",
	"COMMAND",
	"SESSION_HEARTBEAT",
	"CLIENT_DISCONNECTED",
	"SERVER_DISCONNECTED",
	"SEND_INFO",
	"RECV_INFO",
	"RECV_RTCP_MESSAGE",
	"SEND_RTCP_MESSAGE",
	"CALL_SECURE",
	"NAT",
	"RECORD_START",
	"RECORD_STOP",
	"PLAYBACK_START",
	"PLAYBACK_STOP",
	"CALL_UPDATE",
	"FAILURE",
	"SOCKET_DATA",
	"MEDIA_BUG_START",
	"MEDIA_BUG_STOP",
	"CONFERENCE_DATA_QUERY",
	"CONFERENCE_DATA",
	"CALL_SETUP_REQ",
	"CALL_SETUP_RESULT",
	"CALL_DETAIL",
	"DEVICE_STATE",
	"TEXT",
	"SHUTDOWN_REQUESTED",
	"ALL"
};

_Static_assert(sizeof(EVENT_NAMES) / sizeof(EVENT_NAMES[0]) == ESL_EVENT_ALL + 1, "one name per event type");

/* strlen of each name, so esl_name_event compares only names of the right length */
static const unsigned char EVENT_NAME_LENS[] = {
	6, 5, 14, 15, 13, 17, 14, 14, 23, 15, 24, 12, 14, 14, 16, 16,
	22, 16, 12, 14, 19, 17, 12, 3, 3, 12, 13, 7, 8, 7, 9, 4,
	6, 13, 11, 13, 4, 7, 11, 9, 12, 14, 15, 13, 6, 5, 14, 15,
	13, 15, 9, 4, 12, 12, 12, 11, 9, 6, 13, 23, 12, 12, 14, 12,
	7, 7, 17, 19, 19, 9, 9, 17, 17, 11, 3, 12, 11, 14, 13, 11,
	7, 11, 15, 14, 21, 15, 14, 17, 11, 12, 4, 18, 3,
};

_Static_assert(sizeof(EVENT_NAME_LENS) == sizeof(EVENT_NAMES) / sizeof(EVENT_NAMES[0]), "one length per event type");
_Static_assert(ESL_EVENT_ALL < 256, "event types fit the length index");

/* Largest N accepted in an indexed header name "name[N]". */
#define INDEX_MAX 4000

static const char ARRAY_PREFIX[] = "ARRAY::";
#define ARRAY_PREFIX_LEN 7

/* ------------------------------------------------------------------------------------------ */
/* small helpers */

static inline unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/* The header hash of the struct documentation: h = h * 33 + tolower(c) in unsigned int. */
static unsigned long hash_name(const char *s)
{
	unsigned int h = 0;

	for (; *s; s++) {
		h = h * 33 + ascii_lower((unsigned char) *s);
	}
	return h;
}

static int name_matches(const esl_event_header_t *h, const char *name, unsigned long hash)
{
	return (!h->hash || h->hash == hash) && h->name && !strcasecmp(h->name, name);
}

static char *dup_len(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

static const void *find_bytes(const void *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/* First "ARRAY::" in s[0..len). Every value added is searched, so this looks only at the
 * colons (rare in most values) instead of running a general substring search. */
static const char *find_array_prefix(const char *s, size_t len)
{
	const char *c = s, *end = s + len;

	while (c < end && (c = memchr(c, ':', (size_t) (end - c)))) {
		if (c - s >= 5 && c + 1 < end && c[1] == ':' && !memcmp(c - 5, "ARRAY", 5)) {
			return c - 5;
		}
		c++;
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* headers and their arrays */

typedef struct arr_meta {
	/* the value this describes; anything else in header->value means "rebuild it" */
	char *rendered;
	size_t vlen;
	size_t vcap;
} arr_meta_t;

static size_t arr_cap(size_t n)
{
	size_t c = 4;

	while (c < n) {
		c <<= 1;
	}
	return c;
}

static int arr_is_heap(const esl_event_t *ev, const esl_event_header_t *h)
{
	return h->array && !esl_event_in_arena(ev, h->array);
}

static arr_meta_t *meta_ptr(const esl_event_header_t *h)
{
	return (arr_meta_t *) (void *) (h->array + arr_cap((size_t) h->idx));
}

static arr_meta_t meta_load(const esl_event_t *ev, const esl_event_header_t *h)
{
	arr_meta_t m = { 0 };

	if (arr_is_heap(ev, h)) {
		m = *meta_ptr(h);
	}
	return m;
}

static void meta_invalidate(const esl_event_t *ev, esl_event_header_t *h)
{
	if (arr_is_heap(ev, h)) {
		meta_ptr(h)->rendered = NULL;
	}
}

/* Makes h->array a heap array with room for n elements and the meta, keeping elements
 * [0, idx). The meta itself is rewritten by the caller. Returns 0 (h unchanged) on failure. */
static int arr_grow(const esl_event_t *ev, esl_event_header_t *h, size_t n)
{
	size_t cap = arr_cap(n);
	char **a;

	if (cap > (SIZE_MAX - sizeof(arr_meta_t)) / sizeof(char *)) {
		return 0;
	}
	if (arr_is_heap(ev, h)) {
		if (cap <= arr_cap((size_t) h->idx)) {
			return 1;
		}
		if (!(a = realloc(h->array, cap * sizeof(char *) + sizeof(arr_meta_t)))) {
			return 0;
		}
	} else {
		/* none yet, or one inside the arena block that cannot be resized */
		if (!(a = malloc(cap * sizeof(char *) + sizeof(arr_meta_t)))) {
			return 0;
		}
		if (h->array && h->idx > 0) {
			memcpy(a, h->array, (size_t) h->idx * sizeof(char *));
		}
	}
	h->array = a;
	return 1;
}

/* Renders the value of an array made of src[0..k), then fill empty elements, then last:
 * "ARRAY::e0|:e1|:..." for two or more elements, the element itself for one. Leaves room
 * to append more elements when there are several. */
static char *render(char *const *src, size_t k, size_t fill, const char *last, size_t lastlen, size_t *outlen,
					size_t *outcap)
{
	size_t n = k + fill + 1, len, cap, i;
	char *buf, *w;

	if (n == 1) {
		len = lastlen;
		cap = len + 1;
	} else {
		len = ARRAY_PREFIX_LEN + 2 * (n - 1) + lastlen;
		for (i = 0; i < k; i++) {
			len += strlen(src[i]);
		}
		cap = len + 1 + len / 2 + 16;
		if (cap < len) {
			return NULL;
		}
	}
	if (!(buf = malloc(cap))) {
		return NULL;
	}
	w = buf;
	if (n > 1) {
		memcpy(w, ARRAY_PREFIX, ARRAY_PREFIX_LEN);
		w += ARRAY_PREFIX_LEN;
	}
	for (i = 0; i < k; i++) {
		size_t l = strlen(src[i]);

		memcpy(w, src[i], l);
		w += l;
		*w++ = '|';
		*w++ = ':';
	}
	for (i = 0; i < fill; i++) {
		*w++ = '|';
		*w++ = ':';
	}
	memcpy(w, last, lastlen);
	w += lastlen;
	*w = '\0';
	*outlen = len;
	*outcap = cap;
	return buf;
}

static esl_event_header_t *hdr_new(const char *name, size_t nlen)
{
	esl_event_header_t *h = calloc(1, sizeof(*h));

	if (!h) {
		return NULL;
	}
	if (!(h->name = dup_len(name, nlen))) {
		free(h);
		return NULL;
	}
	h->hash = hash_name(h->name);
	return h;
}

static void hdr_free(const esl_event_t *ev, esl_event_header_t *h)
{
	int i;

	if (h->array) {
		for (i = 0; i < h->idx; i++) {
			esl_event_free_part(ev, h->array[i]);
		}
		esl_event_free_part(ev, h->array);
	}
	esl_event_free_part(ev, h->name);
	esl_event_free_part(ev, h->value);
	esl_event_free_part(ev, h);
}

/* Appends data (taken over on success) as a new element. A scalar header first becomes a
 * one-element array holding its old value. */
static esl_status_t hdr_push(const esl_event_t *ev, esl_event_header_t *h, char *data, size_t dlen)
{
	arr_meta_t m = meta_load(ev, h);
	int convert = h->idx <= 0;
	size_t k = convert ? (h->value ? 1 : 0) : (size_t) h->idx;
	int append = !convert && k >= 2 && m.rendered && m.rendered == h->value;
	char *nv = NULL;
	size_t nlen = 0, ncap = 0;

	if (k >= INT_MAX) {
		return ESL_FAIL;
	}
	if (append) {
		size_t need = m.vlen + 2 + dlen + 1;

		if (need > m.vcap) {
			size_t nc = m.vcap * 2;
			char *p;

			if (nc < need) {
				nc = need;
			}
			if (!(p = realloc(h->value, nc))) {
				return ESL_FAIL;
			}
			/* same text, new place: keep the meta in step at once */
			h->value = p;
			m.rendered = p;
			m.vcap = nc;
			*meta_ptr(h) = m;
		}
	} else if (!(nv = render(convert ? &h->value : h->array, k, 0, data, dlen, &nlen, &ncap))) {
		return ESL_FAIL;
	}

	if (!arr_grow(ev, h, k + 1)) {
		free(nv);
		return ESL_FAIL;
	}
	if (convert && k) {
		/* the old scalar value becomes element 0 */
		h->array[0] = h->value;
		h->value = NULL;
	}
	h->array[k] = data;
	h->idx = (int) (k + 1);
	if (append) {
		memcpy(h->value + m.vlen, "|:", 2);
		memcpy(h->value + m.vlen + 2, data, dlen);
		m.vlen += 2 + dlen;
		h->value[m.vlen] = '\0';
	} else {
		esl_event_free_part(ev, h->value);
		h->value = nv;
		m.rendered = nv;
		m.vlen = nlen;
		m.vcap = ncap;
	}
	*meta_ptr(h) = m;
	return ESL_SUCCESS;
}

/* name[n] = data (taken over on success). Below the element count the element is replaced and
 * the rendered value is left as it was (libesl does not redraw it); otherwise the array is
 * padded with empty elements up to n and the value is rebuilt. */
static esl_status_t hdr_index_set(const esl_event_t *ev, esl_event_header_t *h, size_t n, char *data, size_t dlen)
{
	size_t k = h->idx > 0 ? (size_t) h->idx : 0, i;
	char **old_array = h->array, *nv;
	int was_heap = arr_is_heap(ev, h);
	arr_meta_t m = meta_load(ev, h);
	size_t nlen, ncap;

	if (n < k) {
		esl_event_free_part(ev, h->array[n]);
		h->array[n] = data;
		meta_invalidate(ev, h);
		return ESL_SUCCESS;
	}

	/* a scalar's old value is dropped, not kept as element 0 */
	if (!(nv = render(h->array, k, n - k, data, dlen, &nlen, &ncap))) {
		return ESL_FAIL;
	}
	if (!arr_grow(ev, h, n + 1)) {
		free(nv);
		return ESL_FAIL;
	}
	for (i = k; i < n; i++) {
		if (!(h->array[i] = dup_len("", 0))) {
			while (i-- > k) {
				free(h->array[i]);
			}
			free(nv);
			if (was_heap) {
				/* the block only grew; put the meta back where idx expects it */
				*meta_ptr(h) = m;
			} else {
				free(h->array);
				h->array = old_array;
			}
			return ESL_FAIL;
		}
	}
	h->array[n] = data;
	h->idx = (int) (n + 1);
	esl_event_free_part(ev, h->value);
	h->value = nv;
	m.rendered = nv;
	m.vlen = nlen;
	m.vcap = ncap;
	*meta_ptr(h) = m;
	return ESL_SUCCESS;
}

/* TOP on an existing header: only the value is replaced; an array keeps its elements. */
static void hdr_overwrite(const esl_event_t *ev, esl_event_header_t *h, char *data)
{
	meta_invalidate(ev, h);
	esl_event_free_part(ev, h->value);
	h->value = data;
}

/* ------------------------------------------------------------------------------------------ */
/* the header list, directly or through a builder index */

typedef struct {
	uint64_t ih;
	const char *name;
	esl_event_header_t *first;
	uint32_t gen;
} bent_t;

typedef struct {
	esl_event_header_t *h;
	uint32_t ent;
	uint32_t gen;
	int top;
} brec_t;

struct esl_event_builder {
	/* 0 when the index could not be allocated: operate on the list */
	int indexed;
	uint64_t seed;
	bent_t *ents;
	size_t nents, capents;
	/* open addressing over ents: slot value is entry index + 1, 0 = empty */
	uint32_t *slots;
	size_t nslots;
	brec_t *recs;
	size_t nrecs, caprecs;
};

static void list_link(esl_event_t *ev, esl_event_header_t *h, int top)
{
	if (top) {
		h->next = ev->headers;
		ev->headers = h;
		if (!ev->last_header) {
			ev->last_header = h;
		}
	} else {
		h->next = NULL;
		if (ev->last_header) {
			ev->last_header->next = h;
		} else {
			ev->headers = h;
		}
		ev->last_header = h;
	}
}

static esl_event_header_t *list_find(esl_event_t *ev, const char *name, unsigned long hash)
{
	esl_event_header_t *h;

	for (h = ev->headers; h; h = h->next) {
		if (name_matches(h, name, hash)) {
			return h;
		}
	}
	return NULL;
}

/* Removes every header called name (and, when var is non-empty, whose value is var). The
 * matches are freed only after the walk, because name or var may point into one of them. */
static void list_del(esl_event_t *ev, const char *name, const char *var)
{
	esl_event_header_t *h, *prev = NULL, *next, *dead = NULL;
	unsigned long hash = hash_name(name);

	for (h = ev->headers; h; h = next) {
		next = h->next;
		if (name_matches(h, name, hash) && (esl_strlen_zero(var) || (h->value && !strcmp(h->value, var)))) {
			if (prev) {
				prev->next = next;
			} else {
				ev->headers = next;
			}
			if (ev->last_header == h) {
				ev->last_header = prev;
			}
			h->next = dead;
			dead = h;
		} else {
			prev = h;
		}
	}
	while (dead) {
		next = dead->next;
		hdr_free(ev, dead);
		dead = next;
	}
}

static uint64_t index_hash(const esl_event_builder_t *b, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ b->seed;

	for (; *s; s++) {
		h ^= ascii_lower((unsigned char) *s);
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* Entry index for name, or -1. With create, a missing entry is added (name must outlive the
 * builder); -2 then means out of memory. */
static long index_lookup(esl_event_builder_t *b, const char *name, int create)
{
	uint64_t ih = index_hash(b, name);
	size_t mask = b->nslots - 1, i = (size_t) ih & mask;
	uint32_t s;

	while ((s = b->slots[i])) {
		bent_t *e = &b->ents[s - 1];

		if (e->ih == ih && !strcasecmp(e->name, name)) {
			return (long) (s - 1);
		}
		i = (i + 1) & mask;
	}
	if (!create) {
		return -1;
	}
	if (b->nents >= UINT32_MAX - 1) {
		return -2;
	}
	if ((b->nents + 1) * 2 > b->nslots) {
		/* keep the table at most half full */
		size_t ns = b->nslots * 2, j;
		uint32_t *nsl = calloc(ns, sizeof(*nsl));

		if (!nsl) {
			return -2;
		}
		for (j = 0; j < b->nents; j++) {
			size_t p = (size_t) b->ents[j].ih & (ns - 1);

			while (nsl[p]) {
				p = (p + 1) & (ns - 1);
			}
			nsl[p] = (uint32_t) (j + 1);
		}
		free(b->slots);
		b->slots = nsl;
		b->nslots = ns;
		mask = ns - 1;
		for (i = (size_t) ih & mask; b->slots[i]; i = (i + 1) & mask) {
		}
	}
	if (b->nents == b->capents) {
		size_t nc = b->capents * 2;
		bent_t *ne = realloc(b->ents, nc * sizeof(*ne));

		if (!ne) {
			return -2;
		}
		b->ents = ne;
		b->capents = nc;
	}
	b->ents[b->nents].ih = ih;
	b->ents[b->nents].name = name;
	b->ents[b->nents].first = NULL;
	b->ents[b->nents].gen = 0;
	b->slots[i] = (uint32_t) (b->nents + 1);
	return (long) b->nents++;
}

static int index_link(esl_event_builder_t *b, esl_event_header_t *h, int top)
{
	bent_t *ent;
	long e;

	/* room for the record first: an entry must never name a header that was not linked */
	if (b->nrecs == b->caprecs) {
		size_t nc = b->caprecs * 2;
		brec_t *nr = realloc(b->recs, nc * sizeof(*nr));

		if (!nr) {
			return 0;
		}
		b->recs = nr;
		b->caprecs = nc;
	}
	if ((e = index_lookup(b, h->name, 1)) < 0) {
		return 0;
	}
	ent = &b->ents[e];
	b->recs[b->nrecs].h = h;
	b->recs[b->nrecs].ent = (uint32_t) e;
	b->recs[b->nrecs].gen = ent->gen;
	b->recs[b->nrecs].top = top;
	b->nrecs++;
	if (top || !ent->first) {
		ent->first = h;
	}
	return 1;
}

static esl_event_header_t *op_find(esl_event_t *ev, esl_event_builder_t *b, const char *name, unsigned long hash)
{
	if (b && b->indexed) {
		long e = index_lookup(b, name, 0);

		return e >= 0 ? b->ents[e].first : NULL;
	}
	return list_find(ev, name, hash);
}

static void op_del(esl_event_t *ev, esl_event_builder_t *b, const char *name)
{
	if (b && b->indexed) {
		long e = index_lookup(b, name, 0);

		/* the headers stay allocated until the end of the build; they are just dead */
		if (e >= 0) {
			b->ents[e].gen++;
			b->ents[e].first = NULL;
		}
		return;
	}
	list_del(ev, name, NULL);
}

static int op_link(esl_event_t *ev, esl_event_builder_t *b, esl_event_header_t *h, int top)
{
	if (b && b->indexed) {
		return index_link(b, h, top);
	}
	list_link(ev, h, top);
	return 1;
}

esl_event_builder_t *esl_event_build_begin(esl_event_t *event)
{
	static unsigned long counter;
	esl_event_builder_t *b;
	esl_event_header_t *h, *next;
	size_t n = 0;

	if (!event || !(b = calloc(1, sizeof(*b)))) {
		return NULL;
	}
	for (h = event->headers; h; h = h->next) {
		n++;
	}
	/* a varying seed keeps chosen names from all landing in one probe chain */
	b->seed = ((uint64_t) (uintptr_t) b << 16) ^ (uint64_t) time(NULL) ^
			  ((uint64_t) __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) << 40);
	b->capents = 16;
	b->caprecs = 16;
	while (b->capents < n) {
		b->capents *= 2;
		b->caprecs *= 2;
	}
	b->nslots = b->capents * 2;
	b->ents = malloc(b->capents * sizeof(*b->ents));
	b->recs = malloc(b->caprecs * sizeof(*b->recs));
	b->slots = calloc(b->nslots, sizeof(*b->slots));
	if (!b->ents || !b->recs || !b->slots) {
		free(b->ents);
		free(b->recs);
		free(b->slots);
		b->ents = NULL;
		b->recs = NULL;
		b->slots = NULL;
		return b;
	}
	b->indexed = 1;
	for (h = event->headers; h; h = h->next) {
		if (!index_link(b, h, 0)) {
			/* out of memory: forget the index, the list is still intact */
			free(b->ents);
			free(b->recs);
			free(b->slots);
			b->ents = NULL;
			b->recs = NULL;
			b->slots = NULL;
			b->indexed = 0;
			return b;
		}
	}
	/* the index now owns the headers until build_end */
	for (h = event->headers; h; h = next) {
		next = h->next;
		h->next = NULL;
	}
	event->headers = event->last_header = NULL;
	return b;
}

void esl_event_build_end(esl_event_t *event, esl_event_builder_t *b)
{
	esl_event_header_t *head = NULL, *tail = NULL;
	size_t i;
	int pass;

	if (!b) {
		return;
	}
	if (b->indexed) {
		/* prepended headers first (latest first), then the appended ones in order */
		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i < b->nrecs; i++) {
				brec_t *r = &b->recs[pass == 0 ? b->nrecs - 1 - i : i];

				if (r->top != (pass == 0)) {
					continue;
				}
				if (r->gen != b->ents[r->ent].gen) {
					continue;
				}
				r->h->next = NULL;
				if (tail) {
					tail->next = r->h;
				} else {
					head = r->h;
				}
				tail = r->h;
			}
		}
		/* entry names point into headers: free the dead ones only now */
		for (i = 0; i < b->nrecs; i++) {
			brec_t *r = &b->recs[i];

			if (r->gen != b->ents[r->ent].gen) {
				hdr_free(event, r->h);
			}
		}
		event->headers = head;
		event->last_header = tail;
	}
	free(b->ents);
	free(b->recs);
	free(b->slots);
	free(b);
}

/* ------------------------------------------------------------------------------------------ */
/* insertion */

static esl_status_t base_add(esl_event_t *ev, esl_event_builder_t *b, int stack, const char *name, char *data,
							 size_t dlen);

esl_status_t esl_event_set_body_len(esl_event_t *event, const char *body, size_t len)
{
	char *copy = NULL;

	if (!event) {
		return ESL_FAIL;
	}
	/* copy first: body may point into the current body */
	if (body && !(copy = dup_len(body, len))) {
		return ESL_FAIL;
	}
	esl_event_free_part(event, event->body);
	event->body = copy;
	return ESL_SUCCESS;
}

/* Creates name as a new one-element array header holding a copy of val, at the end. */
static esl_status_t new_array_header(esl_event_t *ev, esl_event_builder_t *b, const char *name, const char *val,
									 size_t vlen)
{
	esl_event_header_t *h;
	char *data;

	if (!(h = hdr_new(name, strlen(name)))) {
		return ESL_FAIL;
	}
	if (!(data = dup_len(val, vlen))) {
		hdr_free(NULL, h);
		return ESL_FAIL;
	}
	if (hdr_push(NULL, h, data, vlen) != ESL_SUCCESS) {
		free(data);
		hdr_free(NULL, h);
		return ESL_FAIL;
	}
	if (!op_link(ev, b, h, 0)) {
		hdr_free(NULL, h);
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

/* esl_event_add_array on val (vlen >= 8): splits val + 7 on "|:" and pushes every piece under
 * name. After the first piece the header is held on to, so n pieces cost one lookup, not n;
 * that gives the same result because pushes never change which header comes first. */
static esl_status_t split_and_push(esl_event_t *ev, esl_event_builder_t *b, const char *name, const char *val,
								   size_t vlen)
{
	const char *p = val + ARRAY_PREFIX_LEN, *end = val + vlen, *sep, *last = NULL;
	size_t lastlen = 0;
	int is_body = !strcmp(name, "_body"), indexed = strchr(name, '[') != NULL, direct = 0;
	unsigned long hash = hash_name(name);
	esl_event_header_t *h = NULL;
	esl_status_t st;

	for (;;) {
		size_t plen;
		char *piece;

		sep = find_bytes(p, (size_t) (end - p), "|:", 2);
		plen = sep ? (size_t) (sep - p) : (size_t) (end - p);
		if (!(piece = dup_len(p, plen))) {
			return ESL_FAIL;
		}
		if (h) {
			if (hdr_push(ev, h, piece, plen) != ESL_SUCCESS) {
				free(piece);
				return ESL_FAIL;
			}
			last = p;
			lastlen = plen;
			direct = 1;
		} else {
			if ((st = base_add(ev, b, ESL_STACK_PUSH, name, piece, plen)) != ESL_SUCCESS) {
				return st;
			}
			if (!indexed) {
				h = op_find(ev, b, name, hash);
			}
			direct = 0;
		}
		if (!sep) {
			break;
		}
		p = sep + 2;
	}
	/* each push of a piece under "_body" also sets the body; only the last one shows */
	if (is_body && direct) {
		return esl_event_set_body_len(ev, last, lastlen);
	}
	return ESL_SUCCESS;
}

/* A value containing "ARRAY::" given for a header that does not exist yet (no '[' in name):
 * what esl_event_add_array(name, val) does. A single piece that again contains "ARRAY::" would
 * recurse once per 7 characters in libesl; the loop below gives the same result. */
static esl_status_t array_value(esl_event_t *ev, esl_event_builder_t *b, const char *name, const char *val, size_t vlen)
{
	const char *p, *occ;
	size_t len;
	esl_event_header_t *h;
	char *piece;

	if (vlen < ARRAY_PREFIX_LEN + 1) {
		return ESL_SUCCESS;
	}
	p = val + ARRAY_PREFIX_LEN;
	len = vlen - ARRAY_PREFIX_LEN;
	if (find_bytes(p, len, "|:", 2)) {
		return split_and_push(ev, b, name, val, vlen);
	}

	/* One piece, pushed under name: it joins an existing header as it is. */
	if ((h = op_find(ev, b, name, hash_name(name)))) {
		if (!strcmp(name, "_body") && esl_event_set_body_len(ev, p, len) != ESL_SUCCESS) {
			return ESL_FAIL;
		}
		if (!(piece = dup_len(p, len))) {
			return ESL_FAIL;
		}
		if (hdr_push(ev, h, piece, len) != ESL_SUCCESS) {
			free(piece);
			return ESL_FAIL;
		}
		return ESL_SUCCESS;
	}

	/* Otherwise a piece that still contains "ARRAY::" loses 7 more characters, until it has
	 * none left (then it becomes a new header) or is shorter than 8 (then nothing is added). */
	occ = find_array_prefix(p, len);
	while (occ) {
		if (len < ARRAY_PREFIX_LEN + 1) {
			break;
		}
		p += ARRAY_PREFIX_LEN;
		len -= ARRAY_PREFIX_LEN;
		if (occ < p) {
			occ = find_array_prefix(p, len);
		}
	}
	if (!strcmp(name, "_body") && esl_event_set_body_len(ev, p, len) != ESL_SUCCESS) {
		return ESL_FAIL;
	}
	if (occ) {
		return ESL_SUCCESS;
	}
	return new_array_header(ev, b, name, p, len);
}

/* name[N]: see hdr_index_set. An N outside 0..4000 is ignored and still reports success. */
static esl_status_t indexed_add(esl_event_t *ev, esl_event_builder_t *b, int stack, const char *name, const char *br,
								char *data, size_t dlen)
{
	char *end;
	long n;
	char *real;
	esl_event_header_t *h;
	int fly = 0;
	esl_status_t st;

	errno = 0;
	n = strtol(br + 1, &end, 10);
	if (end == br + 1 || errno == ERANGE) {
		/* what atoi gives for no digits */
		n = (end == br + 1) ? 0 : -1;
	}
	if (n < 0 || n > INDEX_MAX) {
		free(data);
		return ESL_SUCCESS;
	}
	if (!(real = dup_len(name, (size_t) (br - name)))) {
		free(data);
		return ESL_FAIL;
	}
	if (!(h = op_find(ev, b, real, hash_name(real)))) {
		if (!(h = hdr_new(real, strlen(real)))) {
			free(real);
			free(data);
			return ESL_FAIL;
		}
		fly = 1;
	}
	free(real);
	if ((st = hdr_index_set(fly ? NULL : ev, h, (size_t) n, data, dlen)) != ESL_SUCCESS) {
		free(data);
		if (fly) {
			hdr_free(NULL, h);
		}
		return st;
	}
	if (fly && !op_link(ev, b, h, stack & ESL_STACK_TOP)) {
		hdr_free(NULL, h);
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

/*
 * The one insertion routine behind every add path. data is taken over (stored or freed).
 * The stack value is tested bit by bit as libesl does: with TOP=1, PUSH=2, UNSHIFT=3 this
 * makes TOP overwrite an existing header in place, UNSHIFT append, and TOP/UNSHIFT on a new
 * name prepend a one-element array.
 */
static esl_status_t base_add(esl_event_t *ev, esl_event_builder_t *b, int stack, const char *name, char *data,
							 size_t dlen)
{
	esl_event_header_t *h;
	const char *br;
	esl_status_t st;

	if (!strcmp(name, "_body") && esl_event_set_body_len(ev, data, dlen) != ESL_SUCCESS) {
		free(data);
		return ESL_FAIL;
	}

	if ((br = strchr(name, '['))) {
		return indexed_add(ev, b, stack, name, br, data, dlen);
	}

	if ((stack & ESL_STACK_PUSH) || (stack & ESL_STACK_UNSHIFT)) {
		if ((h = op_find(ev, b, name, hash_name(name)))) {
			if (stack & ESL_STACK_PUSH) {
				/* PUSH and UNSHIFT */
				if ((st = hdr_push(ev, h, data, dlen)) != ESL_SUCCESS) {
					free(data);
				}
				return st;
			}
			/* TOP */
			hdr_overwrite(ev, h, data);
			return ESL_SUCCESS;
		}
	}

	/* A brand-new header. */
	if (!dlen) {
		op_del(ev, b, name);
		free(data);
		return ESL_SUCCESS;
	}
	/* The new header owns a copy of the name before anything is deleted: name may point into
	 * a header that the deletion frees. */
	if (!(h = hdr_new(name, strlen(name)))) {
		free(data);
		return ESL_FAIL;
	}
	if (ev->flags & ESL_EF_UNIQ_HEADERS) {
		op_del(ev, b, h->name);
	}
	if (find_array_prefix(data, dlen)) {
		st = array_value(ev, b, h->name, data, dlen);
		hdr_free(NULL, h);
		free(data);
		return st;
	}
	if ((stack & ESL_STACK_PUSH) || (stack & ESL_STACK_UNSHIFT)) {
		if (hdr_push(NULL, h, data, dlen) != ESL_SUCCESS) {
			free(data);
			hdr_free(NULL, h);
			return ESL_FAIL;
		}
	} else {
		h->value = data;
	}
	if (!op_link(ev, b, h, stack & ESL_STACK_TOP)) {
		hdr_free(NULL, h);
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

esl_status_t esl_event_build_add(esl_event_t *event, esl_event_builder_t *b, esl_stack_t stack, const char *name,
								 const char *value, size_t vlen)
{
	char *data;

	if (!event || !name || !value) {
		return ESL_FAIL;
	}
	/* values are C strings: an embedded NUL would make the lengths kept here disagree with
	 * strlen() of the stored text */
	vlen = strnlen(value, vlen);
	if (!(data = dup_len(value, vlen))) {
		return ESL_FAIL;
	}
	return base_add(event, b, (int) stack, name, data, vlen);
}

void esl_event_build_del(esl_event_t *event, esl_event_builder_t *b, const char *name)
{
	if (event && name) {
		op_del(event, b, name);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* public API */

ESL_DECLARE(const char *) esl_event_name(esl_event_types_t event)
{
	/* libesl does not check the range; an unknown value gives NULL instead of a wild read */
	if ((unsigned int) event > (unsigned int) ESL_EVENT_ALL) {
		return NULL;
	}
	return EVENT_NAMES[event];
}

/* The event types by name length, in type order, so esl_name_event compares only names of the
 * right length (every received event names its type). Built once. */
#define NAME_LEN_MAX 24
#define NAMES_PER_LEN_MAX 16
static unsigned char g_by_len[NAME_LEN_MAX + 1][NAMES_PER_LEN_MAX];
static unsigned char g_by_len_n[NAME_LEN_MAX + 1];
static pthread_once_t g_by_len_once = PTHREAD_ONCE_INIT;

static void by_len_init(void)
{
	int x;

	for (x = 0; x <= ESL_EVENT_ALL; x++) {
		unsigned l = EVENT_NAME_LENS[x];

		if (l <= NAME_LEN_MAX && g_by_len_n[l] < NAMES_PER_LEN_MAX) {
			g_by_len[l][g_by_len_n[l]++] = (unsigned char) x;
		}
	}
}

/* The first type whose name is the len bytes at s (any case; s need not be NUL-terminated);
 * -1 for none. */
static int type_of_name(const char *s, size_t len)
{
	unsigned char c0 = ascii_lower((unsigned char) s[0]);
	unsigned i;

	if (len > NAME_LEN_MAX) {
		return -1;
	}
	for (i = 0; i < g_by_len_n[len]; i++) {
		int x = g_by_len[len][i];

		/* same length, so strncasecmp compares whole names */
		if (ascii_lower((unsigned char) EVENT_NAMES[x][0]) == c0 && !strncasecmp(s, EVENT_NAMES[x], len)) {
			return x;
		}
	}
	return -1;
}

esl_status_t esl_name_event_n(const char *name, size_t len, esl_event_types_t *type)
{
	int x, y;

	if (!name || !len) {
		return ESL_FAIL;
	}
	pthread_once(&g_by_len_once, by_len_init);
	x = type_of_name(name, len);
	/* names longer than 13 characters also match after their first 13 (SWITCH_EVENT_XXX);
	 * the lower type wins, as when every type is tried in order */
	y = len > 13 ? type_of_name(name + 13, len - 13) : -1;
	if (y >= 0 && (x < 0 || y < x)) {
		x = y;
	}
	if (x < 0) {
		return ESL_FAIL;
	}
	if (type) {
		*type = (esl_event_types_t) x;
	}
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_name_event(const char *name, esl_event_types_t *type)
{
	return name ? esl_name_event_n(name, strlen(name), type) : ESL_FAIL;
}

ESL_DECLARE(const char *) esl_priority_name(esl_priority_t priority)
{
	switch (priority) {
	case ESL_PRIORITY_NORMAL:
		return "NORMAL";
	case ESL_PRIORITY_LOW:
		return "LOW";
	case ESL_PRIORITY_HIGH:
		return "HIGH";
	default:
		return "INVALID";
	}
}

ESL_DECLARE(esl_status_t) esl_event_create_subclass(esl_event_t **event, esl_event_types_t event_id, const char *subclass_name)
{
	esl_event_t *ev;

	if (!event) {
		return ESL_FAIL;
	}
	*event = NULL;
	if ((unsigned int) event_id > (unsigned int) ESL_EVENT_ALL) {
		return ESL_FAIL;
	}
	if (subclass_name && event_id != ESL_EVENT_CUSTOM && event_id != ESL_EVENT_CLONE) {
		return ESL_FAIL;
	}
	if (!(ev = calloc(1, sizeof(*ev)))) {
		return ESL_FAIL;
	}
	/* a CLONE keeps event_id 0 and gets no Event-Name */
	if (event_id != ESL_EVENT_CLONE) {
		ev->event_id = event_id;
		if (esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "Event-Name", EVENT_NAMES[event_id]) != ESL_SUCCESS) {
			esl_event_destroy(&ev);
			return ESL_FAIL;
		}
	}
	if (subclass_name) {
		if (!(ev->subclass_name = strdup(subclass_name)) ||
			esl_event_add_header_string(ev, ESL_STACK_BOTTOM, "Event-Subclass", subclass_name) != ESL_SUCCESS) {
			esl_event_destroy(&ev);
			return ESL_FAIL;
		}
	}
	*event = ev;
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_event_set_priority(esl_event_t *event, esl_priority_t priority)
{
	if (!event) {
		return ESL_FAIL;
	}
	event->priority = priority;
	/* libesl ignores the result here; a failure can only be out of memory */
	esl_event_add_header_string(event, ESL_STACK_TOP, "priority", esl_priority_name(priority));
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_event_header_t *) esl_event_get_header_ptr(esl_event_t *event, const char *header_name)
{
	if (!event || !header_name) {
		return NULL;
	}
	return list_find(event, header_name, hash_name(header_name));
}

ESL_DECLARE(char *) esl_event_get_header_idx(esl_event_t *event, const char *header_name, int idx)
{
	esl_event_header_t *h;

	if (!event || !header_name) {
		return NULL;
	}
	if ((h = list_find(event, header_name, hash_name(header_name)))) {
		if (idx > -1) {
			return (idx < h->idx && h->array) ? h->array[idx] : NULL;
		}
		return h->value;
	}
	if (!strcmp(header_name, "_body")) {
		return event->body;
	}
	return NULL;
}

ESL_DECLARE(char *) esl_event_get_body(esl_event_t *event)
{
	return event ? event->body : NULL;
}

ESL_DECLARE(esl_status_t) esl_event_add_header_string(esl_event_t *event, esl_stack_t stack, const char *header_name, const char *data)
{
	if (!data) {
		return ESL_FAIL;
	}
	return esl_event_build_add(event, NULL, stack, header_name, data, strlen(data));
}

ESL_DECLARE(esl_status_t) esl_event_add_header(esl_event_t *event, esl_stack_t stack, const char *header_name, const char *fmt, ...)
{
	char *data = NULL;
	va_list ap;
	int ret;

	if (!event || !header_name || !fmt) {
		return ESL_FAIL;
	}
	va_start(ap, fmt);
	ret = esl_vasprintf(&data, fmt, ap);
	va_end(ap);
	if (ret < 0 || !data) {
		return ESL_FAIL;
	}
	return base_add(event, NULL, (int) stack, header_name, data, (size_t) ret);
}

ESL_DECLARE(int) esl_event_add_array(esl_event_t *event, const char *var, const char *val)
{
	size_t vlen;
	char *copy;

	if (!event || !var || !val || (vlen = strlen(val)) < ARRAY_PREFIX_LEN + 1) {
		return -1;
	}
	/* work on a copy: val may be the value of a header that the pushes rewrite */
	if (!(copy = dup_len(val, vlen))) {
		return -1;
	}
	split_and_push(event, NULL, var, copy, vlen);
	free(copy);
	return 0;
}

ESL_DECLARE(esl_status_t) esl_event_del_header_val(esl_event_t *event, const char *header_name, const char *var)
{
	if (event && header_name) {
		list_del(event, header_name, var);
	}
	/* libesl reports success whether or not anything was removed */
	return ESL_SUCCESS;
}

ESL_DECLARE(void) esl_event_destroy(esl_event_t **event)
{
	esl_event_t *ev;
	esl_event_header_t *h, *next;

	if (!event || !(ev = *event)) {
		return;
	}
	if (ev->flags & ESL_EF_ARENA) {
		/* Usually every part lives in the block: one range test per pointer instead of a call
		 * per part, and only parts outside it are freed. */
		uintptr_t base = (uintptr_t) ev, size = esl_event_arena_of(ev)->size;
#define ESL_IN_BLOCK(p) ((uintptr_t) (p) - base < size)
		for (h = ev->headers; h; h = next) {
			next = h->next;
			if (ESL_IN_BLOCK(h) && ESL_IN_BLOCK(h->name) && (!h->value || ESL_IN_BLOCK(h->value)) && !h->array) {
				continue;
			}
			hdr_free(ev, h);
		}
#undef ESL_IN_BLOCK
	} else {
		for (h = ev->headers; h; h = next) {
			next = h->next;
			hdr_free(ev, h);
		}
	}
	esl_event_free_part(ev, ev->body);
	esl_event_free_part(ev, ev->subclass_name);
	if (ev->flags & ESL_EF_ARENA) {
		free(esl_event_arena_of(ev));
	} else {
		free(ev);
	}
	*event = NULL;
}

/* Copies the headers of src into dst the way libesl does: arrays element by element with PUSH,
 * scalars with BOTTOM, so the result follows the insertion rules (duplicate names merge into
 * the first array, empty values delete, ...). */
static esl_status_t copy_headers(esl_event_t *dst, const esl_event_t *src, int skip_subclass)
{
	esl_event_builder_t *b = NULL;
	const esl_event_header_t *hp;
	size_t n = 0, slow = 0;
	esl_status_t st = ESL_SUCCESS;
	int i;

	for (hp = src->headers; hp; hp = hp->next) {
		n++;
		if (hp->idx > 0 || !hp->value || !*hp->value) {
			slow++;
		}
	}
	/* Lookups and deletions walk the list; index it when there are enough of both. */
	if ((slow || (dst->flags & ESL_EF_UNIQ_HEADERS)) && n > 16) {
		b = esl_event_build_begin(dst);
	}
	for (hp = src->headers; hp && st == ESL_SUCCESS; hp = hp->next) {
		if (!hp->name || (skip_subclass && !strcmp(hp->name, "Event-Subclass"))) {
			continue;
		}
		if (hp->idx > 0) {
			for (i = 0; i < hp->idx && st == ESL_SUCCESS; i++) {
				if (hp->array[i]) {
					st = esl_event_build_add(dst, b, ESL_STACK_PUSH, hp->name, hp->array[i], strlen(hp->array[i]));
				}
			}
		} else if (hp->value) {
			st = esl_event_build_add(dst, b, ESL_STACK_BOTTOM, hp->name, hp->value, strlen(hp->value));
		}
	}
	esl_event_build_end(dst, b);
	return st;
}

ESL_DECLARE(esl_status_t) esl_event_dup(esl_event_t **event, esl_event_t *todup)
{
	esl_event_t *ev;

	if (!event) {
		return ESL_GENERR;
	}
	*event = NULL;
	if (!todup) {
		return ESL_GENERR;
	}
	if (esl_event_create_subclass(&ev, ESL_EVENT_CLONE, todup->subclass_name) != ESL_SUCCESS) {
		return ESL_GENERR;
	}
	ev->event_id = todup->event_id;
	ev->event_user_data = todup->event_user_data;
	ev->bind_user_data = todup->bind_user_data;
	/* the copy is an ordinary heap event */
	ev->flags = todup->flags & ~(ESL_EF_ARENA | ESL_EF_WIRE_TEXT);
	if (copy_headers(ev, todup, todup->subclass_name != NULL) != ESL_SUCCESS) {
		esl_event_destroy(&ev);
		return ESL_GENERR;
	}
	/* replaces any body a "_body" header set while copying */
	if (todup->body && esl_event_set_body(ev, todup->body) != ESL_SUCCESS) {
		esl_event_destroy(&ev);
		return ESL_GENERR;
	}
	ev->key = todup->key;
	*event = ev;
	return ESL_SUCCESS;
}

ESL_DECLARE(void) esl_event_merge(esl_event_t *event, esl_event_t *tomerge)
{
	esl_event_t *copy = NULL;

	if (!event || !tomerge) {
		return;
	}
	if (event == tomerge) {
		/* merging an event into itself would walk the headers it is appending */
		if (esl_event_dup(&copy, tomerge) != ESL_SUCCESS) {
			return;
		}
		tomerge = copy;
	}
	copy_headers(event, tomerge, 0);
	esl_event_destroy(&copy);
}

ESL_DECLARE(esl_status_t) esl_event_add_body(esl_event_t *event, const char *fmt, ...)
{
	char *data = NULL;
	va_list ap;
	int ret;

	if (!event || !fmt) {
		return ESL_FAIL;
	}
	va_start(ap, fmt);
	ret = esl_vasprintf(&data, fmt, ap);
	va_end(ap);
	if (ret < 0 || !data) {
		return ESL_FAIL;
	}
	esl_event_free_part(event, event->body);
	event->body = data;
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_event_set_body(esl_event_t *event, const char *body)
{
	return esl_event_set_body_len(event, body, body ? strlen(body) : 0);
}

ESL_DECLARE(esl_status_t) esl_event_serialize(esl_event_t *event, char **str, esl_bool_t encode)
{
	esl_strbuf_t sb = { 0 };
	const esl_event_header_t *hp;
	char num[32];

	if (!str) {
		return ESL_FAIL;
	}
	*str = NULL;
	if (!event) {
		return ESL_FAIL;
	}
	for (hp = event->headers; hp; hp = hp->next) {
		const char *v = hp->value ? hp->value : "";
		size_t vlen = strlen(v);

		esl_strbuf_adds(&sb, hp->name ? hp->name : "");
		esl_strbuf_add(&sb, ": ", 2);
		if (encode && vlen) {
			/* an escape takes 3 characters, so 3 * vlen + 1 always holds the whole value */
			if (vlen > (SIZE_MAX - 1) / 3 || !esl_strbuf_reserve(&sb, vlen * 3 + 1)) {
				sb.failed = 1;
				break;
			}
			vlen = esl_url_encode(v, sb.s + sb.len, vlen * 3 + 1);
			sb.len += vlen;
		} else {
			esl_strbuf_add(&sb, v, vlen);
		}
		if (!vlen) {
			esl_strbuf_add(&sb, "_undef_", 7);
		}
		esl_strbuf_add(&sb, "\n", 1);
	}
	if (event->body && *event->body) {
		size_t blen = strlen(event->body);
		int n = snprintf(num, sizeof(num), "%zu", blen);

		esl_strbuf_add(&sb, "Content-Length: ", 16);
		esl_strbuf_add(&sb, num, (size_t) n);
		esl_strbuf_add(&sb, "\n\n", 2);
		esl_strbuf_add(&sb, event->body, blen);
	} else {
		esl_strbuf_add(&sb, "\n", 1);
	}
	return esl_strbuf_finish(&sb, str);
}
