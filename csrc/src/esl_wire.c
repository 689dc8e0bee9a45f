/*
 * esl_wire.c: the receive-side parser of the event socket protocol (see esl_wire.h).
 *
 * Receive buffer: one growable array with a read head (start), a data end (end) and the
 * terminator scan position (scan; start <= scan <= end). Reads land at end and messages
 * leave from start. When the room behind end runs short, the unread bytes (at most one
 * partial message) move to the front, or the array doubles; when it empties, the indexes
 * go back to 0. So every byte is copied a bounded number of times.
 *
 * A header block is parsed as soon as its terminator is seen:
 *   1. it is split into lines; each value is URL-decoded in place and each name and value
 *      NUL-terminated in place (the bytes are ours and are consumed right after);
 *   2. the lines are replayed through the header-insertion rules of spec section 5 (BOTTOM
 *      for scalars, esl_event_add_array for values containing "ARRAY::", an empty value
 *      deleting the headers of that name) onto a "plan": index arrays in scratch memory
 *      reused from message to message;
 *   3. the exact size of the event is summed from the plan and the event is written into
 *      one allocation (esl_event_private.h), with room for the body at the end.
 * The body then fills that room, straight from the socket when nothing else is buffered.
 *
 * Linear time: the terminator scan resumes where it stopped (memchr); lines and escapes are
 * found with memchr; name lookups, needed only when a value is empty or an array, go through
 * a hash table that is built lazily, seeded per parser (so crafted colliding names cannot
 * make it quadratic), and guarded by a small Bloom filter so the common case never builds it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "esl.h"
#include "esl_event_internal.h"
#include "esl_event_private.h"
#include "esl_wire.h"

#define WIRE_START_CAP ((size_t) 128 * 1024)
/* Room offered to each read: large reads keep the syscall count low. */
#define WIRE_READ_ROOM ((size_t) 64 * 1024)
/* A buffer grown past this by one huge block is given back once it is empty. */
#define WIRE_SHRINK_CAP (4 * WIRE_START_CAP)
/* Offsets and array counts stay far from overflow below this. */
#define WIRE_MAX_HEADER_CAP ((size_t) 1 << 30)

enum { ST_HEAD, ST_BODY, ST_ERROR };

/* One "Name: value" line, both NUL-terminated in the text being parsed. */
typedef struct {
	char *name;
	char *value;
	size_t name_len;
	size_t value_len;
} wire_line_t;

/* A header of the event being planned. Strings are (pointer, length) into the parsed text,
 * or into a temporary event when copying one. */
typedef struct {
	const char *name;
	const char *value;      /* scalar value, or a given rendering of an array */
	size_t name_len;
	size_t value_len;
	size_t first, last;     /* elements of an array header (index + 1; 0 = none) */
	size_t nelem;           /* 0 for a scalar header */
	size_t gnext;           /* next live header with the same name (index + 1) */
	unsigned int h33;       /* the event code's name hash, stored in the header */
	int live;
	int rendered;           /* value holds the array's rendering (copied events) */
} plan_hdr_t;

typedef struct {
	const char *s;
	size_t len;
	size_t next;            /* index + 1 */
} plan_elem_t;

/* One name in the lookup table: its live headers in list order. */
typedef struct {
	const char *name;       /* NULL: free slot */
	size_t name_len;
	uint64_t hx;
	size_t head, tail;      /* index + 1 */
} plan_group_t;

struct esl_wire {
	char *buf;
	size_t cap, start, end, scan;
	size_t max_header, max_body;
	int state;
	int api_build;
	int reserved_body;

	/* the message whose body is arriving */
	esl_event_t *pending;
	char *body;
	size_t body_len, body_got;

	char err[256];

	/* scratch memory, reused from message to message */
	wire_line_t *line;
	size_t nline, line_cap;
	plan_hdr_t *hdr;
	size_t nhdr, hdr_cap;
	plan_elem_t *elem;
	size_t nelem, elem_cap;
	plan_group_t *grp;
	size_t grp_alloc, grp_cap, grp_used;
	int grp_on;
	size_t live;
	uint64_t bloom[16];
	uint64_t seed;
	esl_event_types_t event_id;
	char *text;
	size_t text_cap;
};

static const char CL_NAME[] = "content-length";

/* ------------------------------------------------------------------------------------ */
/* small helpers */

static inline unsigned char lc(unsigned char c)
{
	return (unsigned char) ((unsigned) (c - 'A') < 26u ? c + 32 : c);
}

/* The event code's case-insensitive name hash: h = h * 33 + tolower(c) in unsigned int. */
static unsigned int name_h33(const char *s, size_t n)
{
	unsigned int h = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		h = h * 33 + lc((unsigned char) s[i]);
	}
	return h;
}

/* Seeded hash for the lookup table (FNV-1a over lowercased bytes, then a finalizer). */
static uint64_t name_hx(uint64_t seed, const char *s, size_t n)
{
	uint64_t h = seed ^ ((uint64_t) n * 0x9E3779B97F4A7C15ULL);
	size_t i;

	for (i = 0; i < n; i++) {
		h = (h ^ lc((unsigned char) s[i])) * 0x100000001B3ULL;
	}
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	return h;
}

static uint64_t wire_seed(const void *salt)
{
	struct timespec ts;
	uint64_t s;

	clock_gettime(CLOCK_REALTIME, &ts);
	s = (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 30) ^ (uint64_t) (uintptr_t) salt ^ ((uint64_t) getpid() << 17);
	s ^= s >> 31;
	s *= 0xBF58476D1CE4E5B9ULL;
	s ^= s >> 29;
	return s;
}

/* Grows an array to hold at least need elements; returns the new array or NULL (old kept). */
static void *grow_array(void *arr, size_t *cap, size_t need, size_t elsize)
{
	size_t ncap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap) {
		return arr;
	}
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elsize) {
			return NULL;
		}
		ncap *= 2;
	}
	p = realloc(arr, ncap * elsize);
	if (p) {
		*cap = ncap;
	}
	return p;
}

static int add_size(size_t *acc, size_t n)
{
	if (*acc > SIZE_MAX - n) {
		return -1;
	}
	*acc += n;
	return 0;
}

static const unsigned char hexv[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

/* Decodes %XX escapes in place and returns the new length. Only two hex digits form an
 * escape; anything else after '%' stays as it is. "%00" also stays: decoding it would cut
 * the value at the NUL. */
static size_t url_decode_inplace(char *s, size_t n)
{
	char *e = s + n, *r, *w;

	r = memchr(s, '%', n);
	if (!r) {
		return n;
	}
	w = r;
	while (r < e) {
		if (*r == '%') {
			unsigned char a, b;

			if (e - r >= 3 && (a = hexv[(unsigned char) r[1]]) && (b = hexv[(unsigned char) r[2]]) && (a != 1 || b != 1)) {
				*w++ = (char) (((a - 1) << 4) | (b - 1));
				r += 3;
			} else {
				*w++ = *r++;
			}
		} else {
			char *next = memchr(r, '%', (size_t) (e - r));
			size_t run;

			if (!next) {
				next = e;
			}
			run = (size_t) (next - r);
			if (w != r) {
				memmove(w, r, run);
			}
			w += run;
			r = next;
		}
	}
	return (size_t) (w - s);
}

static int wire_fail(esl_wire_t *w, const char *msg)
{
	snprintf(w->err, sizeof(w->err), "%s", msg);
	w->state = ST_ERROR;
	if (w->pending) {
		esl_event_destroy(&w->pending);
	}
	w->body = NULL;
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* the plan: header insertion rules replayed on index arrays */

static void plan_reset(esl_wire_t *w, esl_event_types_t id)
{
	w->nhdr = 0;
	w->nelem = 0;
	w->live = 0;
	w->grp_on = 0;
	w->grp_used = 0;
	w->event_id = id;
	memset(w->bloom, 0, sizeof(w->bloom));
}

static inline unsigned bloom_bit(unsigned int h33)
{
	return (unsigned) ((h33 * 2654435761u) >> 22) & 1023u;
}

static inline void bloom_set(esl_wire_t *w, unsigned int h33)
{
	unsigned b = bloom_bit(h33);
	w->bloom[b >> 6] |= (uint64_t) 1 << (b & 63);
}

static inline int bloom_test(const esl_wire_t *w, unsigned int h33)
{
	unsigned b = bloom_bit(h33);
	return (int) ((w->bloom[b >> 6] >> (b & 63)) & 1);
}

static int names_equal(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || strncasecmp(a, b, an) == 0);
}

static plan_group_t *grp_find(esl_wire_t *w, const char *name, size_t n, uint64_t hx)
{
	size_t mask = w->grp_cap - 1, i = (size_t) hx & mask;

	for (;;) {
		plan_group_t *g = &w->grp[i];
		if (!g->name) {
			return NULL;
		}
		if (g->hx == hx && names_equal(g->name, g->name_len, name, n)) {
			return g;
		}
		i = (i + 1) & mask;
	}
}

/* Starts an empty table of cap slots (a power of two), reusing the allocation. */
static int grp_start(esl_wire_t *w, size_t cap)
{
	if (cap > w->grp_alloc) {
		plan_group_t *g = cap > SIZE_MAX / sizeof(*g) ? NULL : calloc(cap, sizeof(*g));
		if (!g) {
			return -1;
		}
		free(w->grp);
		w->grp = g;
		w->grp_alloc = cap;
	} else {
		memset(w->grp, 0, cap * sizeof(*w->grp));
	}
	w->grp_cap = cap;
	w->grp_used = 0;
	return 0;
}

/* Doubles a table in use, moving its entries into new memory. */
static int grp_grow(esl_wire_t *w)
{
	size_t ncap = w->grp_cap * 2, i;
	plan_group_t *ng;

	if (ncap > SIZE_MAX / sizeof(*ng) || !(ng = calloc(ncap, sizeof(*ng)))) {
		return -1;
	}
	for (i = 0; i < w->grp_cap; i++) {
		if (w->grp[i].name) {
			size_t j = (size_t) w->grp[i].hx & (ncap - 1);
			while (ng[j].name) {
				j = (j + 1) & (ncap - 1);
			}
			ng[j] = w->grp[i];
		}
	}
	free(w->grp);
	w->grp = ng;
	w->grp_alloc = ncap;
	w->grp_cap = ncap;
	return 0;
}

/* The group of a name, created when missing. */
static plan_group_t *grp_get(esl_wire_t *w, const char *name, size_t n)
{
	uint64_t hx = name_hx(w->seed, name, n);
	plan_group_t *g = grp_find(w, name, n, hx);
	size_t i;

	if (g) {
		return g;
	}
	if ((w->grp_used + 1) * 2 > w->grp_cap && grp_grow(w)) {
		return NULL;
	}
	i = (size_t) hx & (w->grp_cap - 1);
	while (w->grp[i].name) {
		i = (i + 1) & (w->grp_cap - 1);
	}
	g = &w->grp[i];
	g->name = name;
	g->name_len = n;
	g->hx = hx;
	g->head = g->tail = 0;
	w->grp_used++;
	return g;
}

static void grp_append(esl_wire_t *w, plan_group_t *g, size_t idx1)
{
	w->hdr[idx1 - 1].gnext = 0;
	if (g->tail) {
		w->hdr[g->tail - 1].gnext = idx1;
	} else {
		g->head = idx1;
	}
	g->tail = idx1;
}

/* Builds the lookup table from the live headers; called the first time a lookup can hit. */
static int grp_enable(esl_wire_t *w)
{
	size_t cap = 64, i;

	while (cap < (w->live + 8) * 2) {
		cap *= 2;
	}
	w->grp_on = 0;
	if (grp_start(w, cap)) {
		return -1;
	}
	w->grp_on = 1;
	for (i = 0; i < w->nhdr; i++) {
		plan_hdr_t *h = &w->hdr[i];
		plan_group_t *g;

		if (!h->live) {
			continue;
		}
		if (!(g = grp_get(w, h->name, h->name_len))) {
			return -1;
		}
		grp_append(w, g, i + 1);
	}
	return 0;
}

/* The group holding a name's live headers, or NULL when none can exist. *err on failure. */
static plan_group_t *plan_lookup(esl_wire_t *w, const char *name, size_t n, unsigned int h33, int *err)
{
	*err = 0;
	if (!w->live || !bloom_test(w, h33)) {
		return NULL;
	}
	if (!w->grp_on && grp_enable(w)) {
		*err = 1;
		return NULL;
	}
	return grp_find(w, name, n, name_hx(w->seed, name, n));
}

static int plan_delete_all(esl_wire_t *w, const char *name, size_t n, unsigned int h33)
{
	int err;
	plan_group_t *g = plan_lookup(w, name, n, h33, &err);
	size_t i;

	if (err) {
		return -1;
	}
	if (!g) {
		return 0;
	}
	for (i = g->head; i; i = w->hdr[i - 1].gnext) {
		w->hdr[i - 1].live = 0;
		w->live--;
	}
	g->head = g->tail = 0;
	return 0;
}

/* Appends a new header at the end of the list; returns its index + 1, 0 on failure. */
static size_t plan_new_header(esl_wire_t *w, const char *name, size_t n, unsigned int h33)
{
	plan_hdr_t *h;
	size_t idx1;

	if (w->nhdr == w->hdr_cap) {
		void *p = grow_array(w->hdr, &w->hdr_cap, w->nhdr + 1, sizeof(*w->hdr));
		if (!p) {
			return 0;
		}
		w->hdr = p;
	}
	h = &w->hdr[w->nhdr];
	memset(h, 0, sizeof(*h));
	h->name = name;
	h->name_len = n;
	h->h33 = h33;
	h->live = 1;
	idx1 = ++w->nhdr;
	w->live++;
	bloom_set(w, h33);
	if (w->grp_on) {
		plan_group_t *g = grp_get(w, name, n);
		if (!g) {
			return 0;
		}
		grp_append(w, g, idx1);
	}
	return idx1;
}

static int plan_add_elem(esl_wire_t *w, size_t idx1, const char *s, size_t len)
{
	plan_hdr_t *h;
	plan_elem_t *e;

	if (w->nelem == w->elem_cap) {
		void *p = grow_array(w->elem, &w->elem_cap, w->nelem + 1, sizeof(*w->elem));
		if (!p) {
			return -1;
		}
		w->elem = p;
	}
	e = &w->elem[w->nelem++];
	e->s = s;
	e->len = len;
	e->next = 0;
	h = &w->hdr[idx1 - 1];
	if (h->last) {
		w->elem[h->last - 1].next = w->nelem;
	} else {
		h->first = w->nelem;
	}
	h->last = w->nelem;
	h->nelem++;
	return 0;
}

/* True when s holds "ARRAY::". Anchored on "::" found with memchr: far cheaper than memmem
 * on the short values that make up nearly every header. */
static int has_marker(const char *s, size_t n)
{
	const char *p = s + 5, *e = s + n;

	if (n < 7) {
		return 0;
	}
	while (p < e - 1 && (p = memchr(p, ':', (size_t) (e - 1 - p)))) {
		if (p[1] == ':' && !memcmp(p - 5, "ARRAY", 5)) {
			return 1;
		}
		p++;
	}
	return 0;
}

static int find_marker(const char *s, size_t n, size_t *last)
{
	const char *p = s, *q;
	size_t rest = n;
	int found = 0;

	while (rest >= 7 && (q = memmem(p, rest, "ARRAY::", 7))) {
		found = 1;
		*last = (size_t) (q - s);
		rest -= (size_t) (q - p) + 1;
		p = q + 1;
	}
	return found;
}

/* ESL_STACK_PUSH of one array piece. */
static int plan_push(esl_wire_t *w, const char *name, size_t n, unsigned int h33, const char *piece, size_t plen)
{
	int err;
	plan_group_t *g = plan_lookup(w, name, n, h33, &err);
	size_t idx1, pos;

	if (err) {
		return -1;
	}
	if (g && g->head) {
		plan_hdr_t *h = &w->hdr[g->head - 1];
		/* an existing scalar becomes a one-element array first; no other rule applies */
		if (!h->nelem && plan_add_elem(w, g->head, h->value, h->value_len)) {
			return -1;
		}
		return plan_add_elem(w, g->head, piece, plen);
	}
	/* a brand-new header: an empty value only deletes (nothing is there to delete) */
	if (!plen) {
		return 0;
	}
	if (find_marker(piece, plen, &pos)) {
		/* The piece goes through add_array again, which drops its first 7 characters; a
		 * piece holds no "|:", so each round yields one shorter piece. The rounds go on while
		 * the rest still holds "ARRAY::" (an occurrence at or after the cut), and stop with
		 * nothing when a round's input is under 8 characters. Solved in one step. */
		size_t j = 0;
		for (;;) {
			if (plen - 7 * j < 8) {
				return 0;
			}
			j++;
			if (pos < 7 * j) {
				break;
			}
		}
		piece += 7 * j;
		plen -= 7 * j;
	}
	if (!(idx1 = plan_new_header(w, name, n, h33))) {
		return -1;
	}
	return plan_add_elem(w, idx1, piece, plen);
}

/* esl_event_add_array: drop the first 7 characters, split the rest on "|:", push each piece. */
static int plan_add_array(esl_wire_t *w, const char *name, size_t n, unsigned int h33, const char *v, size_t vlen)
{
	const char *s;
	size_t rest;

	if (vlen < 8) {
		return 0;
	}
	s = v + 7;
	rest = vlen - 7;
	for (;;) {
		const char *k = rest >= 2 ? memmem(s, rest, "|:", 2) : NULL;
		size_t plen = k ? (size_t) (k - s) : rest;

		if (plan_push(w, name, n, h33, s, plen)) {
			return -1;
		}
		if (!k) {
			return 0;
		}
		s = k + 2;
		rest -= plen + 2;
	}
}

/* One received line, as esl_event_add_header_string(BOTTOM) / esl_event_add_array see it. */
static int plan_add_line(esl_wire_t *w, const wire_line_t *l, int inner)
{
	unsigned int h33 = name_h33(l->name, l->name_len);
	size_t idx1;

	if (inner && names_equal(l->name, l->name_len, "event-name", 10)) {
		/* the inner Event-Name replaces earlier ones and names the event */
		if (plan_delete_all(w, l->name, l->name_len, h33)) {
			return -1;
		}
		esl_name_event(l->value, &w->event_id);
	}
	if (has_marker(l->value, l->value_len)) {
		return plan_add_array(w, l->name, l->name_len, h33, l->value, l->value_len);
	}
	if (!l->value_len) {
		return plan_delete_all(w, l->name, l->name_len, h33);
	}
	if (!(idx1 = plan_new_header(w, l->name, l->name_len, h33))) {
		return -1;
	}
	w->hdr[idx1 - 1].value = l->value;
	w->hdr[idx1 - 1].value_len = l->value_len;
	return 0;
}

static char *put(char **sp, const char *s, size_t n)
{
	char *d = *sp;
	if (n) {
		memcpy(d, s, n);
	}
	d[n] = '\0';
	*sp = d + n + 1;
	return d;
}

/* Writes the planned event into one allocation. With with_body, *body points at
 * body_len + 1 bytes at the very end of the block. NULL when memory ran out. */
static esl_event_t *plan_build(esl_wire_t *w, int with_body, size_t body_len, char **body)
{
	size_t nlive = 0, nslots = 0, strings = 0, total, i;
	esl_event_arena_t *arena;
	esl_event_t *ev;
	esl_event_header_t *hp, *prev = NULL;
	char **slots, *sp;

	for (i = 0; i < w->nhdr; i++) {
		const plan_hdr_t *h = &w->hdr[i];

		if (!h->live) {
			continue;
		}
		nlive++;
		if (add_size(&strings, h->name_len + 1)) {
			return NULL;
		}
		if (!h->nelem) {
			if (add_size(&strings, h->value_len + 1)) {
				return NULL;
			}
		} else {
			size_t sum = 0, e;

			if (h->nelem > INT_MAX) {
				return NULL;
			}
			nslots += h->nelem;
			for (e = h->first; e; e = w->elem[e - 1].next) {
				if (add_size(&sum, w->elem[e - 1].len + 1)) {
					return NULL;
				}
			}
			if (add_size(&strings, sum)) {
				return NULL;
			}
			if (h->rendered) {
				if (add_size(&strings, h->value_len + 1)) {
					return NULL;
				}
			} else if (h->nelem >= 2) {
				/* "ARRAY::" + elements joined with "|:" + NUL */
				if (add_size(&strings, 7 + (sum - h->nelem) + 2 * (h->nelem - 1) + 1)) {
					return NULL;
				}
			}
		}
	}
	total = sizeof(esl_event_arena_t) + sizeof(esl_event_t);
	if (nlive > SIZE_MAX / sizeof(esl_event_header_t) || nslots > SIZE_MAX / sizeof(char *) ||
		add_size(&total, nlive * sizeof(esl_event_header_t)) || add_size(&total, nslots * sizeof(char *)) ||
		add_size(&total, strings) || (with_body && (add_size(&total, body_len) || add_size(&total, 1)))) {
		return NULL;
	}
	if (!(arena = malloc(total))) {
		return NULL;
	}
	arena->size = total - sizeof(esl_event_arena_t);
	ev = (esl_event_t *) (void *) (arena + 1);
	memset(ev, 0, sizeof(*ev));
	ev->event_id = w->event_id;
	ev->flags = ESL_EF_ARENA;
	hp = (esl_event_header_t *) (void *) (ev + 1);
	slots = (char **) (void *) (hp + nlive);
	sp = (char *) (slots + nslots);

	for (i = 0; i < w->nhdr; i++) {
		const plan_hdr_t *h = &w->hdr[i];

		if (!h->live) {
			continue;
		}
		hp->name = put(&sp, h->name, h->name_len);
		hp->hash = h->h33;
		hp->next = NULL;
		if (!h->nelem) {
			hp->value = put(&sp, h->value, h->value_len);
			hp->array = NULL;
			hp->idx = 0;
		} else {
			size_t e, k = 0;

			hp->array = slots;
			for (e = h->first; e; e = w->elem[e - 1].next) {
				slots[k++] = put(&sp, w->elem[e - 1].s, w->elem[e - 1].len);
			}
			hp->idx = (int) h->nelem;
			if (h->rendered) {
				hp->value = put(&sp, h->value, h->value_len);
			} else if (h->nelem == 1) {
				hp->value = slots[0];
			} else {
				char *r = sp;
				memcpy(r, "ARRAY::", 7);
				r += 7;
				for (e = h->first; e; e = w->elem[e - 1].next) {
					if (e != h->first) {
						*r++ = '|';
						*r++ = ':';
					}
					if (w->elem[e - 1].len) {
						memcpy(r, w->elem[e - 1].s, w->elem[e - 1].len);
					}
					r += w->elem[e - 1].len;
				}
				*r++ = '\0';
				hp->value = sp;
				sp = r;
			}
			slots += h->nelem;
		}
		if (prev) {
			prev->next = hp;
		} else {
			ev->headers = hp;
		}
		prev = hp;
		hp++;
	}
	ev->last_header = prev;
	if (with_body) {
		/* the body is the last thing in the block: esl_wire_body_length relies on it */
		ev->body = sp;
		sp[body_len] = '\0';
		*body = sp;
	}
	return ev;
}

/* Copies an event built through the public API into one allocation (and destroys it).
 * A body from the wire gets body_len bytes of room; otherwise the event's own body, if any,
 * is kept. */
static esl_event_t *plan_copy_event(esl_wire_t *w, esl_event_t **src, int with_body, size_t body_len, char **body)
{
	esl_event_header_t *sh;
	esl_event_t *ev = NULL, *s = *src;
	const char *own_body = NULL;
	size_t own_len = 0;

	plan_reset(w, s->event_id);
	for (sh = s->headers; sh; sh = sh->next) {
		size_t nlen = strlen(sh->name);
		size_t idx1 = plan_new_header(w, sh->name, nlen, name_h33(sh->name, nlen));
		plan_hdr_t *h;

		if (!idx1) {
			goto done;
		}
		h = &w->hdr[idx1 - 1];
		h->value = sh->value ? sh->value : "";
		h->value_len = strlen(h->value);
		if (sh->idx > 0 && sh->array) {
			int k;
			h->rendered = 1;
			for (k = 0; k < sh->idx; k++) {
				const char *el = sh->array[k] ? sh->array[k] : "";
				if (plan_add_elem(w, idx1, el, strlen(el))) {
					goto done;
				}
			}
		}
	}
	if (!with_body && s->body) {
		own_body = s->body;
		own_len = strlen(s->body);
		with_body = 1;
		body_len = own_len;
	}
	ev = plan_build(w, with_body, body_len, body);
	if (ev && own_body) {
		memcpy(*body, own_body, own_len);
	}
done:
	esl_event_destroy(src);
	return ev;
}

/* Builds an event from the lines through the event code's own insertion routine (names with
 * '[' and the name "_body" have rules of their own there), then copies it into one block.
 * The bulk builder keeps this linear; esl_event_add_array is spelled out as the pushes it
 * makes, because nothing else may touch the event while the builder holds it. */
static esl_event_t *api_build(esl_wire_t *w, int inner, int *with_body, size_t *body_len, char **body)
{
	esl_event_t *t = NULL;
	esl_event_builder_t *b;
	size_t i;
	int ok = 1;

	if (esl_event_create_subclass(&t, ESL_EVENT_CLONE, NULL) != ESL_SUCCESS || !t) {
		return NULL;
	}
	b = esl_event_build_begin(t);
	if (!inner) {
		t->event_id = ESL_EVENT_SOCKET_DATA;
		ok = esl_event_build_add(t, b, ESL_STACK_BOTTOM, "Event-Name", "SOCKET_DATA", 11) == ESL_SUCCESS;
	}
	for (i = 0; ok && i < w->nline; i++) {
		const wire_line_t *l = &w->line[i];

		if (inner && !strcasecmp(l->name, "Event-Name")) {
			esl_event_build_del(t, b, "Event-Name");
			esl_name_event(l->value, &t->event_id);
		}
		if (l->value_len >= 7 && !memcmp(l->value, "ARRAY::", 7)) {
			const char *s = l->value + 7, *e = l->value + l->value_len;

			/* esl_event_add_array: nothing under 8 characters, else push every piece */
			while (ok && l->value_len >= 8) {
				const char *k = memmem(s, (size_t) (e - s), "|:", 2);
				size_t plen = k ? (size_t) (k - s) : (size_t) (e - s);

				ok = esl_event_build_add(t, b, ESL_STACK_PUSH, l->name, s, plen) == ESL_SUCCESS;
				if (!k) {
					break;
				}
				s = k + 2;
			}
		} else {
			ok = esl_event_build_add(t, b, ESL_STACK_BOTTOM, l->name, l->value, l->value_len) == ESL_SUCCESS;
		}
	}
	esl_event_build_end(t, b);
	if (!ok) {
		esl_event_destroy(&t);
		return NULL;
	}
	if (inner) {
		/* the inner body exists only when a Content-Length header resulted */
		*with_body = *with_body && esl_event_get_header(t, "Content-Length") != NULL;
	}
	return plan_copy_event(w, &t, *with_body, *body_len, body);
}

/* ------------------------------------------------------------------------------------ */
/* lines */

static int line_is_special(const wire_line_t *l)
{
	return memchr(l->name, '[', l->name_len) || (l->name_len == 5 && !memcmp(l->name, "_body", 5));
}

/* Parses a Content-Length value: decimal digits, optionally followed by CR, spaces or tabs. */
static int parse_length(esl_wire_t *w, const wire_line_t *l, size_t *out)
{
	size_t n = l->value_len, i, val = 0;
	const char *v = l->value;
	char msg[200];

	while (n && (v[n - 1] == '\r' || v[n - 1] == ' ' || v[n - 1] == '\t')) {
		n--;
	}
	if (!n) {
		return wire_fail(w, "empty Content-Length header");
	}
	if (v[0] == '-') {
		snprintf(msg, sizeof(msg), "negative Content-Length: %.*s", (int) (n > 40 ? 40 : n), v);
		return wire_fail(w, msg);
	}
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			snprintf(msg, sizeof(msg), "invalid Content-Length: %.*s", (int) (n > 40 ? 40 : n), v);
			return wire_fail(w, msg);
		}
	}
	for (i = 0; i < n; i++) {
		val = val * 10 + (size_t) (v[i] - '0');
		if (val > w->max_body) {
			snprintf(msg, sizeof(msg), "Content-Length %.*s exceeds the limit of %zu bytes", (int) (n > 40 ? 40 : n), v, w->max_body);
			return wire_fail(w, msg);
		}
	}
	*out = val;
	return 0;
}

/* Splits text into lines, decoding and terminating names and values in place. The byte at
 * text[len] must be writable. Outer blocks skip CR/LF runs before a line and spaces and tabs
 * after the colon, and check Content-Length; inner events skip only spaces. Lines without ':'
 * are skipped. Returns 0, -1 when memory ran out (state untouched), -2 on a framing error
 * (the parser is then in error). */
static int split_lines(esl_wire_t *w, char *text, size_t len, int outer, int *special, int *have_cl, size_t *cl)
{
	char *p = text, *e = text + len;

	w->nline = 0;
	*special = 0;
	while (p < e) {
		char *eol, *colon;

		if (outer) {
			while (p < e && (*p == '\r' || *p == '\n')) {
				p++;
			}
			if (p >= e) {
				break;
			}
		}
		eol = memchr(p, '\n', (size_t) (e - p));
		if (!eol) {
			eol = e;
		}
		colon = memchr(p, ':', (size_t) (eol - p));
		if (colon) {
			char *v = colon + 1;
			wire_line_t *l;

			if (outer) {
				while (v < eol && (*v == ' ' || *v == '\t')) {
					v++;
				}
			} else {
				while (v < eol && *v == ' ') {
					v++;
				}
			}
			if (w->nline == w->line_cap) {
				void *np = grow_array(w->line, &w->line_cap, w->nline + 1, sizeof(*w->line));
				if (!np) {
					return -1;
				}
				w->line = np;
			}
			l = &w->line[w->nline++];
			l->name = p;
			l->name_len = (size_t) (colon - p);
			l->value = v;
			l->value_len = url_decode_inplace(v, (size_t) (eol - v));
			*colon = '\0';
			v[l->value_len] = '\0';
			if (line_is_special(l)) {
				*special = 1;
			}
			if (outer && names_equal(l->name, l->name_len, CL_NAME, 14)) {
				size_t val = 0;
				char msg[200];

				if (parse_length(w, l, &val)) {
					return -2;
				}
				if (*have_cl && val != *cl) {
					snprintf(msg, sizeof(msg), "conflicting Content-Length headers: %zu and %zu", *cl, val);
					wire_fail(w, msg);
					return -2;
				}
				*have_cl = 1;
				*cl = val;
			}
		}
		p = eol + 1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* the receive buffer */

/* Makes room for need more bytes behind end. */
static int wire_room(esl_wire_t *w, size_t need)
{
	size_t ncap;
	char *p;

	if (w->cap - w->end >= need) {
		return 0;
	}
	if (w->start > 0) {
		size_t have = w->end - w->start;
		if (have) {
			memmove(w->buf, w->buf + w->start, have);
		}
		w->scan -= w->start;
		w->end = have;
		w->start = 0;
		if (w->cap - w->end >= need) {
			return 0;
		}
	}
	if (w->end > SIZE_MAX - need) {
		return -1;
	}
	/* small first feeds (tests, fuzzing) start small; reads ask for WIRE_READ_ROOM at once */
	ncap = w->cap ? w->cap : need <= 4096 ? 4096 : WIRE_START_CAP;
	while (ncap - w->end < need) {
		if (ncap > SIZE_MAX / 2) {
			return -1;
		}
		ncap *= 2;
	}
	if (!(p = realloc(w->buf, ncap))) {
		return -1;
	}
	w->buf = p;
	w->cap = ncap;
	return 0;
}

/* Called when the buffer may have emptied: rewinds it, and gives back memory a huge block took. */
static void wire_settle(esl_wire_t *w)
{
	if (w->start != w->end) {
		return;
	}
	w->start = w->end = w->scan = 0;
	if (w->cap > WIRE_SHRINK_CAP) {
		char *p = realloc(w->buf, WIRE_START_CAP);
		if (p) {
			w->buf = p;
			w->cap = WIRE_START_CAP;
		}
	}
}

/* Looks for LF [CR] LF from the scan position; returns the block length or 0. Only bytes
 * that cannot start a terminator any more are passed over for good. */
static size_t wire_scan(esl_wire_t *w)
{
	const char *b = w->buf;
	size_t i = w->scan, end = w->end;

	while (i < end) {
		const char *lf = memchr(b + i, '\n', end - i);

		if (!lf) {
			w->scan = end;
			return 0;
		}
		i = (size_t) (lf - b);
		if (i + 1 >= end) {
			w->scan = i;
			return 0;
		}
		if (b[i + 1] == '\n') {
			w->scan = i + 2;
			return i + 2 - w->start;
		}
		if (b[i + 1] == '\r') {
			if (i + 2 >= end) {
				w->scan = i;
				return 0;
			}
			if (b[i + 2] == '\n') {
				w->scan = i + 3;
				return i + 3 - w->start;
			}
		}
		i++;
	}
	w->scan = end;
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* public functions */

esl_wire_t *esl_wire_create(void)
{
	esl_wire_t *w = calloc(1, sizeof(*w));

	if (!w) {
		return NULL;
	}
	w->max_header = ESL_DEFAULT_MAX_HEADER_BLOCK;
	w->max_body = ESL_DEFAULT_MAX_BODY;
	w->seed = wire_seed(w);
	w->state = ST_HEAD;
	return w;
}

void esl_wire_reset(esl_wire_t *w)
{
	if (!w) {
		return;
	}
	if (w->pending) {
		esl_event_destroy(&w->pending);
	}
	w->body = NULL;
	w->body_len = w->body_got = 0;
	w->start = w->end = w->scan = 0;
	w->reserved_body = 0;
	w->state = ST_HEAD;
	w->err[0] = '\0';
}

void esl_wire_destroy(esl_wire_t **wp)
{
	esl_wire_t *w;

	if (!wp || !(w = *wp)) {
		return;
	}
	esl_wire_reset(w);
	free(w->buf);
	free(w->line);
	free(w->hdr);
	free(w->elem);
	free(w->grp);
	free(w->text);
	free(w);
	*wp = NULL;
}

void esl_wire_set_limits(esl_wire_t *w, size_t max_header_block, size_t max_body)
{
	if (!w) {
		return;
	}
	if (max_header_block) {
		w->max_header = max_header_block > WIRE_MAX_HEADER_CAP ? WIRE_MAX_HEADER_CAP : max_header_block;
	}
	if (max_body) {
		w->max_body = max_body;
	}
}

void esl_wire_get_limits(const esl_wire_t *w, size_t *max_header_block, size_t *max_body)
{
	if (max_header_block) {
		*max_header_block = w ? w->max_header : ESL_DEFAULT_MAX_HEADER_BLOCK;
	}
	if (max_body) {
		*max_body = w ? w->max_body : ESL_DEFAULT_MAX_BODY;
	}
}

void esl_wire_set_api_build(esl_wire_t *w, int on)
{
	if (w) {
		w->api_build = on;
	}
}

const char *esl_wire_error(const esl_wire_t *w)
{
	return w && w->state == ST_ERROR ? w->err : "";
}

int esl_wire_buffered(const esl_wire_t *w)
{
	return w && (w->start < w->end || w->state == ST_BODY);
}

int esl_wire_feed(esl_wire_t *w, const void *data, size_t len)
{
	const char *d = data;

	if (!w || w->state == ST_ERROR) {
		return -1;
	}
	w->reserved_body = 0;
	if (w->state == ST_BODY && w->start == w->end) {
		size_t take = w->body_len - w->body_got;
		if (take > len) {
			take = len;
		}
		if (take) {
			memcpy(w->body + w->body_got, d, take);
			w->body_got += take;
			d += take;
			len -= take;
		}
	}
	if (len) {
		if (wire_room(w, len)) {
			return wire_fail(w, "out of memory");
		}
		memcpy(w->buf + w->end, d, len);
		w->end += len;
	}
	return 0;
}

void *esl_wire_reserve(esl_wire_t *w, size_t *room)
{
	*room = 0;
	if (!w || w->state == ST_ERROR) {
		return NULL;
	}
	w->reserved_body = 0;
	if (w->state == ST_BODY && w->start == w->end && w->body_len - w->body_got >= WIRE_READ_ROOM) {
		/* a large body: read it in place, and never past its end */
		w->reserved_body = 1;
		*room = w->body_len - w->body_got;
		return w->body + w->body_got;
	}
	if (wire_room(w, WIRE_READ_ROOM)) {
		wire_fail(w, "out of memory");
		return NULL;
	}
	*room = w->cap - w->end;
	return w->buf + w->end;
}

void esl_wire_commit(esl_wire_t *w, size_t n)
{
	if (!w || w->state == ST_ERROR) {
		return;
	}
	if (w->reserved_body) {
		w->body_got += n;
	} else {
		w->end += n;
	}
	w->reserved_body = 0;
}

/* Parses the header block at buf[start .. start + blen) into w->pending. */
static int wire_parse_block(esl_wire_t *w, size_t blen)
{
	char *text = w->buf + w->start;
	int special = 0, have_cl = 0;
	size_t cl = 0, i;
	esl_event_t *ev;

	if (memchr(text, '\0', blen)) {
		return wire_fail(w, "NUL byte in a header block");
	}
	switch (split_lines(w, text, blen, 1, &special, &have_cl, &cl)) {
	case 0:
		break;
	case -1:
		return wire_fail(w, "out of memory");
	default:
		return -1;
	}
	if (special || w->api_build) {
		ev = api_build(w, 0, &have_cl, &cl, &w->body);
	} else {
		plan_reset(w, ESL_EVENT_SOCKET_DATA);
		{
			/* Q8: every outer message starts with Event-Name: SOCKET_DATA */
			static const wire_line_t first = { (char *) "Event-Name", (char *) "SOCKET_DATA", 10, 11 };
			if (plan_add_line(w, &first, 0)) {
				return wire_fail(w, "out of memory");
			}
		}
		for (i = 0; i < w->nline; i++) {
			if (plan_add_line(w, &w->line[i], 0)) {
				return wire_fail(w, "out of memory");
			}
		}
		ev = plan_build(w, have_cl, cl, &w->body);
	}
	if (!ev) {
		return wire_fail(w, "out of memory");
	}
	w->pending = ev;
	w->body_len = have_cl ? cl : 0;
	w->body_got = 0;
	if (!have_cl) {
		w->body = NULL;
	}
	return 0;
}

esl_wire_status_t esl_wire_next(esl_wire_t *w, esl_event_t **event)
{
	if (event) {
		*event = NULL;
	}
	if (!w || !event) {
		return ESL_WIRE_ERROR;
	}
	w->reserved_body = 0;
	if (w->state == ST_ERROR) {
		return ESL_WIRE_ERROR;
	}
	if (w->state == ST_HEAD) {
		size_t blen;

		if (w->scan < w->start) {
			w->scan = w->start;
		}
		blen = wire_scan(w);
		if (!blen) {
			if (w->end - w->start >= w->max_header) {
				char msg[160];
				snprintf(msg, sizeof(msg), "header block exceeds the limit of %zu bytes", w->max_header);
				wire_fail(w, msg);
				return ESL_WIRE_ERROR;
			}
			wire_settle(w);
			return ESL_WIRE_MORE;
		}
		if (blen > w->max_header) {
			char msg[160];
			snprintf(msg, sizeof(msg), "header block of %zu bytes exceeds the limit of %zu bytes", blen, w->max_header);
			wire_fail(w, msg);
			return ESL_WIRE_ERROR;
		}
		if (wire_parse_block(w, blen)) {
			return ESL_WIRE_ERROR;
		}
		w->start += blen;
		w->scan = w->start;
		if (!w->body_len) {
			*event = w->pending;
			w->pending = NULL;
			w->body = NULL;
			wire_settle(w);
			return ESL_WIRE_MESSAGE;
		}
		w->state = ST_BODY;
	}
	/* ST_BODY */
	{
		size_t have = w->end - w->start, take = w->body_len - w->body_got;

		if (take > have) {
			take = have;
		}
		if (take) {
			memcpy(w->body + w->body_got, w->buf + w->start, take);
			w->start += take;
			w->body_got += take;
		}
		wire_settle(w);
		if (w->body_got < w->body_len) {
			return ESL_WIRE_MORE;
		}
		*event = w->pending;
		w->pending = NULL;
		w->body = NULL;
		w->body_len = w->body_got = 0;
		w->state = ST_HEAD;
		w->scan = w->start;
		return ESL_WIRE_MESSAGE;
	}
}

size_t esl_wire_body_length(const esl_event_t *ev)
{
	if (!ev || !ev->body) {
		return 0;
	}
	if (esl_event_in_arena(ev, ev->body)) {
		const char *block_end = (const char *) ev + esl_event_arena_of(ev)->size;
		return (size_t) (block_end - ev->body) - 1;
	}
	return strlen(ev->body);
}

/* The first "\n\n" in text, found line end by line end (memchr is much faster than memmem with
 * a two-byte needle, and lines are short). */
static const char *find_blank_line(const char *text, size_t len)
{
	const char *p = text, *e = text + len;

	while (p < e && (p = memchr(p, '\n', (size_t) (e - p)))) {
		if (p + 1 < e && p[1] == '\n') {
			return p;
		}
		p++;
	}
	return NULL;
}

esl_status_t esl_wire_parse_plain(esl_wire_t *wire, const char *text, size_t len, esl_event_t **event)
{
	esl_wire_t *w = wire;
	size_t hdr_len, body_off = 0, i;
	int has_sep = 0, special = 0, have_cl = 0, with_body;
	size_t cl = 0;
	esl_event_t *ev = NULL;
	char *body = NULL;
	esl_status_t status = ESL_GENERR;

	*event = NULL;
	if (!text) {
		len = 0;
		text = "";
	}
	/* the header section ends at the first empty line */
	if (len && text[0] == '\n') {
		hdr_len = 0;
		body_off = 1;
		has_sep = 1;
	} else {
		const char *sep = find_blank_line(text, len);
		if (sep) {
			hdr_len = (size_t) (sep - text) + 1;
			body_off = hdr_len + 1;
			has_sep = 1;
		} else {
			hdr_len = len;
		}
	}
	if (memchr(text, '\0', hdr_len)) {
		return ESL_FAIL;
	}
	if (!w && !(w = esl_wire_create())) {
		return ESL_GENERR;
	}
	if (hdr_len + 1 > w->text_cap) {
		char *p = realloc(w->text, hdr_len + 1);
		if (!p) {
			goto done;
		}
		w->text = p;
		w->text_cap = hdr_len + 1;
	}
	if (hdr_len) {
		memcpy(w->text, text, hdr_len);
	}
	w->text[hdr_len] = '\0';
	if (split_lines(w, w->text, hdr_len, 0, &special, &have_cl, &cl)) {
		goto done;
	}
	with_body = has_sep;
	cl = len - body_off;
	if (special || w->api_build) {
		ev = api_build(w, 1, &with_body, &cl, &body);
	} else {
		plan_reset(w, ESL_EVENT_CUSTOM);
		for (i = 0; i < w->nline; i++) {
			if (plan_add_line(w, &w->line[i], 1)) {
				goto done;
			}
		}
		if (with_body) {
			/* Q6: any Content-Length header makes everything after the empty line the body */
			int found = 0;
			for (i = 0; i < w->nhdr && !found; i++) {
				found = w->hdr[i].live && names_equal(w->hdr[i].name, w->hdr[i].name_len, CL_NAME, 14);
			}
			with_body = found;
		}
		ev = plan_build(w, with_body, cl, &body);
	}
	if (!ev) {
		goto done;
	}
	if (with_body && cl) {
		memcpy(body, text + body_off, cl);
	}
	*event = ev;
	status = ESL_SUCCESS;
done:
	if (w != wire) {
		esl_wire_destroy(&w);
	}
	return status;
}

esl_status_t esl_wire_decode_inner(esl_wire_t *w, const esl_event_t *outer, esl_event_t **inner)
{
	const char *ct;
	size_t len;

	*inner = NULL;
	if (!outer || !outer->body) {
		return ESL_SUCCESS;
	}
	ct = esl_event_get_header((esl_event_t *) outer, "content-type");
	if (!ct) {
		return ESL_SUCCESS;
	}
	len = esl_wire_body_length(outer);
	if (!strcasecmp(ct, "text/event-plain")) {
		return esl_wire_parse_plain(w, outer->body, len, inner) == ESL_GENERR ? ESL_FAIL : ESL_SUCCESS;
	}
	if (!strcasecmp(ct, "text/event-json")) {
		/* raw NUL bytes are never valid JSON */
		if (!memchr(outer->body, '\0', len)) {
			esl_event_create_json(inner, outer->body);
		}
	}
	return ESL_SUCCESS;
}
