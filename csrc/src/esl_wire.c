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
 *   1. it is split into lines in one pass (scan_lines): every name and its URL-decoded value
 *      are written NUL-terminated, one after another, into scratch text, and each name gets
 *      the event code's hash on the way;
 *   2. when every line simply adds a header at the bottom (no empty value, no "ARRAY::", no
 *      repeated inner Event-Name: nearly every real event), the event is written into one
 *      allocation (esl_event_private.h) straight from the scratch text (fast_build);
 *   3. otherwise the lines are replayed through the header-insertion rules of spec section 5
 *      (BOTTOM for scalars, esl_event_add_array for values containing "ARRAY::", an empty
 *      value deleting the headers of that name) onto a "plan": index arrays in scratch memory
 *      reused from message to message; the exact size of the event is summed from the plan
 *      and the event is written into one allocation.
 * Either way there is room for the body at the end of the block, and the body then fills it,
 * straight from the socket when nothing else is buffered. text/event-json inner events go
 * the same way: the JSON reader of esl_event_json.c hands its members over as lines.
 * A caller that copies events out instead of keeping them (the Go binding) can have a plain
 * inner event as spans of its text (esl_wire_plain_spans): the same scanner, compiled in a
 * mode that records offsets instead of copying, and no event at all.
 *
 * Linear time: the terminator scan resumes where it stopped (memchr); lines and escapes are
 * found through a bit map of the bytes that matter; name lookups, needed only on the plan
 * path, go through a hash table that is built lazily, seeded per parser (so crafted
 * colliding names cannot make it quadratic), and guarded by a small Bloom filter so the
 * common case never builds it.
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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(ESL_WIRE_NO_AVX2)
#include <immintrin.h>
#endif

#include "esl.h"
#include "esl_event_internal.h"
#include "esl_event_private.h"
#include "esl_wire.h"

/* Room offered to each read. A new connection starts with WIRE_FIRST_ROOM, so one that stays
 * quiet (an outbound session, a command connection) never allocates or faults in more. A read
 * that fills all the room it was offered doubles the room of the next ones, up to
 * WIRE_MAX_READ_ROOM: a busy stream is then received in few large reads. 1 MiB took a C
 * client 0.79-0.87 of the time 256 KiB did, in user as well as system time, with a quarter
 * of the reads. Once grown past WIRE_READ_ROOM, a read that brings less than an eighth of the
 * room halves it again, down to WIRE_READ_ROOM. */
#define WIRE_FIRST_ROOM ((size_t) 8 * 1024)
#define WIRE_READ_ROOM ((size_t) 64 * 1024)
#define WIRE_MAX_READ_ROOM ((size_t) 1024 * 1024)
/* A buffer grown past WIRE_SHRINK_CAP by one huge block is cut back to WIRE_KEEP_CAP once it
 * is empty. A stream read with the largest room needs twice that room (the room, and the
 * message begun before it), and keeps it: cut back and grown again whenever a read ended at a
 * message's end, it cost more in reallocations and page faults than the parsing. */
#define WIRE_KEEP_CAP ((size_t) 128 * 1024)
#define WIRE_SHRINK_CAP (2 * WIRE_MAX_READ_ROOM)
/* Offsets and array counts stay far from overflow below this. */
#define WIRE_MAX_HEADER_CAP ((size_t) 1 << 30)

enum { ST_HEAD, ST_BODY, ST_ERROR };

/* One "Name: value" line, both NUL-terminated in the scratch text (or in static memory). */
typedef struct {
	char *name;
	char *value;
	size_t name_len;
	size_t value_len;
	unsigned int h33;       /* name_h33 of the name */
	int colon;              /* the decoded value holds "::" (so it may hold "ARRAY::") */
	int element;            /* JSON: an element of an array member (pushed) */
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
	int json_paths;         /* esl_wire_set_json_compact: 1 both (default), 0 general only, 2 compact only */
	int reserved_body;
	size_t read_room;       /* what esl_wire_reserve asks for */

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
	/* the stop bit map of the text being scanned, one word per 64 bytes (see scan_lines) */
	uint64_t *mask;
	size_t mask_cap;
	/* the span table of esl_wire_plain_spans and esl_wire_json_spans */
	esl_wire_span_t *span;
	size_t span_cap;
	/* esl_wire_text_info_t's member_at */
	uint16_t *member_at;
	size_t member_cap;
};

static const char CL_NAME[] = "content-length";

/* ------------------------------------------------------------------------------------ */
/* small helpers */

static inline unsigned char lc(unsigned char c)
{
	return (unsigned char) ((unsigned) (c - 'A') < 26u ? c + 32 : c);
}

/* The event code's case-insensitive name hash: h = h * 33 + tolower(c) in unsigned int.
 * Four bytes per step (h * 33^4 + a polynomial of the four): the multiply chain of the
 * plain loop would otherwise bound the speed of every received header. */
static inline unsigned int name_h33(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *) s;
	unsigned int h = 0;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		h = h * 1185921u + lc(u[i]) * 35937u + lc(u[i + 1]) * 1089u + lc(u[i + 2]) * 33u + lc(u[i + 3]);
	}
	for (; i < n; i++) {
		h = h * 33 + lc(u[i]);
	}
	return h;
}

#if defined(__SSE2__)
/* Weights of name_h33 for the vector form: entry j is 33^(31 - j) mod 2^32 for j < 32 and 0
 * after, split into a low and a high 16-bit half for pmaddwd. The low half is read as signed,
 * so a low half of 0x8000 or more carries one into the high half. */
static const int16_t H33_LO[64] = {
	-14367, -12351, 23457, -5247, -159, 5953, -19679, 21249, 30433, -24895, 19105, -1407, 11873, 26177, 8737, -7679,
	9697, 28097, 14753, 2433, 23905, -19135, -28383, 28929, -11039, 15553, 10401, 6273, -29599, 1089, 33, 1
};
static const int16_t H33_HI[64] = {
	25951, -13115, -26215, -10724, -32100, 4985, 12067, -21480, -12567, -14282, 29356, 20749, -13273, -20262, -4586, -27942,
	3125, -23737, 15168, 20319, 12531, -31395, 1035, 29820, -5054, 19706, 597, 18, 1, 0, 0, 0
};
#define H33_POW32 288867329u /* 33^32 mod 2^32 */

/* name_h33 of the r (0..32) bytes at s, read as 32 bytes: the polynomial
 * sum of tolower(s[i]) * 33^(r - 1 - i) as one dot product, the bytes after r weighted 0. */
static inline unsigned int h33_chunk(const char *s, size_t r)
{
	const __m128i zero = _mm_setzero_si128(), a1 = _mm_set1_epi8('A' - 1), z1 = _mm_set1_epi8('Z' + 1);
	const __m128i k32 = _mm_set1_epi8(32);
	const int16_t *wl = H33_LO + (32 - r), *wh = H33_HI + (32 - r);
	__m128i v0 = _mm_loadu_si128((const __m128i *) (const void *) s);
	__m128i v1 = _mm_loadu_si128((const __m128i *) (const void *) (s + 16));
	__m128i b0, b1, b2, b3, lo, hi, t;

	v0 = _mm_add_epi8(v0, _mm_and_si128(_mm_and_si128(_mm_cmpgt_epi8(v0, a1), _mm_cmpgt_epi8(z1, v0)), k32));
	v1 = _mm_add_epi8(v1, _mm_and_si128(_mm_and_si128(_mm_cmpgt_epi8(v1, a1), _mm_cmpgt_epi8(z1, v1)), k32));
	b0 = _mm_unpacklo_epi8(v0, zero);
	b1 = _mm_unpackhi_epi8(v0, zero);
	b2 = _mm_unpacklo_epi8(v1, zero);
	b3 = _mm_unpackhi_epi8(v1, zero);
#define H33_W(p, i) _mm_loadu_si128((const __m128i *) (const void *) ((p) + 8 * (i)))
	lo = _mm_add_epi32(_mm_add_epi32(_mm_madd_epi16(b0, H33_W(wl, 0)), _mm_madd_epi16(b1, H33_W(wl, 1))),
					   _mm_add_epi32(_mm_madd_epi16(b2, H33_W(wl, 2)), _mm_madd_epi16(b3, H33_W(wl, 3))));
	hi = _mm_add_epi32(_mm_add_epi32(_mm_madd_epi16(b0, H33_W(wh, 0)), _mm_madd_epi16(b1, H33_W(wh, 1))),
					   _mm_add_epi32(_mm_madd_epi16(b2, H33_W(wh, 2)), _mm_madd_epi16(b3, H33_W(wh, 3))));
#undef H33_W
	t = _mm_add_epi32(lo, _mm_slli_epi32(hi, 16));
	t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
	t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
	return (unsigned int) _mm_cvtsi128_si32(t);
}

/* h33_chunk of r <= 16 bytes, read as 16: half the work, and most names are that short. */
static inline unsigned int h33_chunk16(const char *s, size_t r)
{
	const __m128i zero = _mm_setzero_si128(), a1 = _mm_set1_epi8('A' - 1), z1 = _mm_set1_epi8('Z' + 1);
	const int16_t *wl = H33_LO + (32 - r), *wh = H33_HI + (32 - r);
	__m128i v = _mm_loadu_si128((const __m128i *) (const void *) s);
	__m128i b0, b1, lo, hi, t;

	v = _mm_add_epi8(v, _mm_and_si128(_mm_and_si128(_mm_cmpgt_epi8(v, a1), _mm_cmpgt_epi8(z1, v)), _mm_set1_epi8(32)));
	b0 = _mm_unpacklo_epi8(v, zero);
	b1 = _mm_unpackhi_epi8(v, zero);
	lo = _mm_add_epi32(_mm_madd_epi16(b0, _mm_loadu_si128((const __m128i *) (const void *) wl)),
					   _mm_madd_epi16(b1, _mm_loadu_si128((const __m128i *) (const void *) (wl + 8))));
	hi = _mm_add_epi32(_mm_madd_epi16(b0, _mm_loadu_si128((const __m128i *) (const void *) wh)),
					   _mm_madd_epi16(b1, _mm_loadu_si128((const __m128i *) (const void *) (wh + 8))));
	t = _mm_add_epi32(lo, _mm_slli_epi32(hi, 16));
	t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
	t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
	return (unsigned int) _mm_cvtsi128_si32(t);
}

/* name_h33 without a branch per byte, for a name followed by at least 32 - n readable bytes.
 * (Always inlined: in the line scan's loop it is a few instructions, and a call there costs a
 * tenth of the plain parse.) */
static inline __attribute__((always_inline)) unsigned int name_h33_padded(const char *s, size_t n)
{
	size_t r;
	unsigned int h;

	if (n <= 16) {
		return h33_chunk16(s, n);
	}
	r = (n - 1) % 32 + 1;
	h = h33_chunk(s, r);

	for (s += r, n -= r; n; s += 32, n -= 32) {
		h = h * H33_POW32 + h33_chunk(s, 32);
	}
	return h;
}
#else
#define name_h33_padded name_h33
#endif

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

/* Room for one more record in the scratch line table (or the span table, for the spans
 * modes). -1 when memory ran out. */
static inline int line_room(esl_wire_t *w)
{
	if (w->nline == w->line_cap) {
		void *np = grow_array(w->line, &w->line_cap, w->nline + 1, sizeof(*w->line));
		if (!np) {
			return -1;
		}
		w->line = np;
	}
	return 0;
}

static inline int span_room(esl_wire_t *w)
{
	if (w->nline == w->span_cap) {
		void *np = grow_array(w->span, &w->span_cap, w->nline + 1, sizeof(*w->span));
		if (!np) {
			return -1;
		}
		w->span = np;
	}
	return 0;
}

/* Room in the scratch text for what a text of len bytes gives (never more than len + 1
 * bytes), and 63 more that copy_span and the name hashing may touch past it. -1 when memory
 * ran out. */
static int text_room(esl_wire_t *w, size_t len)
{
	char *nt;

	if (len > SIZE_MAX / 2 - 64) {
		return -1;
	}
	if (len + 64 <= w->text_cap) {
		return 0;
	}
	if (!(nt = realloc(w->text, len + 64))) {
		return -1;
	}
	w->text = nt;
	w->text_cap = len + 64;
	return 0;
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

/* Whether t[q] ('%') starts an escape the parser decodes: two hex digits, and not "%00"
 * (decoding it would cut the value). *d gets the byte it stands for. */
static inline int escape_at(const unsigned char *t, size_t q, size_t len, unsigned char *d)
{
	unsigned char hi, lo;

	if (len - q < 3 || !(hi = hexv[t[q + 1]]) || !(lo = hexv[t[q + 2]]) || (hi == 1 && lo == 1)) {
		return 0;
	}
	*d = (unsigned char) (((hi - 1) << 4) | (lo - 1));
	return 1;
}

char *esl_wire_plain_value_into(char *o, const char *s, size_t n)
{
	const unsigned char *t = (const unsigned char *) s;
	const char *pct;
	size_t q = 0;

	/* the runs between escapes are copied whole */
	while ((pct = memchr(s + q, '%', n - q))) {
		size_t p = (size_t) (pct - s);
		unsigned char d;

		memcpy(o, s + q, p - q);
		o += p - q;
		if (escape_at(t, p, n, &d)) {
			*o++ = (char) d;
			q = p + 3;
		} else {
			*o++ = '%';
			q = p + 1;
		}
	}
	memcpy(o, s + q, n - q);
	return o + (n - q);
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
	unsigned int h33 = l->h33;
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

/* What scan_lines found besides the lines. */
typedef struct {
	int special;            /* a name with '[' or the name "_body": the event code's own rules */
	int slow;               /* an empty value, "ARRAY::" in a value or a second inner Event-Name */
	int have_cl;            /* a line named Content-Length */
	int has_sep;            /* inner: the header section ended at an empty line */
	size_t body_off;        /* inner: where the text after that empty line starts */
	size_t out_len;         /* bytes of "name\0value\0" text written to the scratch memory */
	esl_event_types_t event_id; /* inner: named by the Event-Name line (CUSTOM without one) */
} scan_t;

/* name_h33 of the names looked for on every line */
#define H33_EVENT_NAME 2768839824u
#define H33_CONTENT_LENGTH 157516714u

/* The hash is compared first: most names of the same length are other names. */
static inline int is_name(const wire_line_t *l, const char *lower, size_t n, unsigned int h33)
{
	return l->name_len == n && l->h33 == h33 && !strncasecmp(l->name, lower, n);
}

/* name (n >= 8 bytes) equals lower, a lowercase name, ignoring ASCII case. The first 8 bytes
 * are compared as one word with the case bit set, which letters, digits and '-' survive; only
 * a match there is confirmed byte by byte. */
static inline int is_lower_name(const char *name, const char *lower, size_t n)
{
	uint64_t a, b;

	memcpy(&a, name, 8);
	memcpy(&b, lower, 8);
	return (a | 0x2020202020202020ULL) == b && !strncasecmp(name, lower, n);
}

/* One bit per byte of 64 bytes, set where the line scan has to look: NUL, LF, ':', '[' and
 * '%'. Everything else is copied in runs. */
static inline void block_map(const unsigned char *b, uint64_t *out)
{
#if defined(__SSE2__)
	const __m128i nul = _mm_setzero_si128(), lf = _mm_set1_epi8('\n'), col = _mm_set1_epi8(':');
	const __m128i br = _mm_set1_epi8('['), pct = _mm_set1_epi8('%');
#define STOPS16(i)                                                                                       \
	((uint64_t) (unsigned) _mm_movemask_epi8(_mm_or_si128(                                               \
		 _mm_or_si128(_mm_cmpeq_epi8(v##i, nul), _mm_cmpeq_epi8(v##i, lf)),                              \
		 _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v##i, col), _mm_cmpeq_epi8(v##i, br)), _mm_cmpeq_epi8(v##i, pct)))) \
	 << (16 * (i)))
	/* spelled out: the compiler keeps a loop here, and this runs for every 64 bytes */
	const __m128i v0 = _mm_loadu_si128((const __m128i *) (const void *) b);
	const __m128i v1 = _mm_loadu_si128((const __m128i *) (const void *) (b + 16));
	const __m128i v2 = _mm_loadu_si128((const __m128i *) (const void *) (b + 32));
	const __m128i v3 = _mm_loadu_si128((const __m128i *) (const void *) (b + 48));

	*out = STOPS16(0) | STOPS16(1) | STOPS16(2) | STOPS16(3);
#undef STOPS16
#else
	uint64_t bits = 0;
	int i;

	for (i = 0; i < 64; i++) {
		unsigned char c = b[i];
		if (!c || c == '\n' || c == ':' || c == '[' || c == '%') {
			bits |= (uint64_t) 1 << i;
		}
	}
	*out = bits;
#endif
}

/* block_map of n whole blocks. With AVX2 (checked at run time: the library is built for the
 * baseline x86-64) each block takes two 32-byte compares per stop byte instead of four.
 * ESL_WIRE_NO_AVX2 leaves it out (the C tests build the parser both ways). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(ESL_WIRE_NO_AVX2)
__attribute__((target("avx2"))) static void map_blocks_avx2(const unsigned char *t, size_t n, uint64_t *m)
{
	const __m256i nul = _mm256_setzero_si256(), lf = _mm256_set1_epi8('\n'), col = _mm256_set1_epi8(':');
	const __m256i br = _mm256_set1_epi8('['), pct = _mm256_set1_epi8('%');
	size_t b;

	for (b = 0; b < n; b++) {
		const unsigned char *p = t + 64 * b;
		__m256i v0 = _mm256_loadu_si256((const __m256i *) (const void *) p);
		__m256i v1 = _mm256_loadu_si256((const __m256i *) (const void *) (p + 32));
		__m256i s0 = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v0, nul), _mm256_cmpeq_epi8(v0, lf)),
									 _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v0, col), _mm256_cmpeq_epi8(v0, br)),
													 _mm256_cmpeq_epi8(v0, pct)));
		__m256i s1 = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v1, nul), _mm256_cmpeq_epi8(v1, lf)),
									 _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v1, col), _mm256_cmpeq_epi8(v1, br)),
													 _mm256_cmpeq_epi8(v1, pct)));

		m[b] = (uint64_t) (uint32_t) _mm256_movemask_epi8(s0) | (uint64_t) (uint32_t) _mm256_movemask_epi8(s1) << 32;
	}
}
#define HAVE_MAP_BLOCKS_AVX2 1
/* The bits of the 64 bytes in v0 and v1 equal to x (in functions built for AVX2). */
#define MASK64(v0, v1, x)                                                  \
	((uint64_t) (uint32_t) _mm256_movemask_epi8(_mm256_cmpeq_epi8(v0, x)) | \
	 (uint64_t) (uint32_t) _mm256_movemask_epi8(_mm256_cmpeq_epi8(v1, x)) << 32)
#endif

static void map_blocks(const unsigned char *t, size_t n, uint64_t *m)
{
	size_t b;

#ifdef HAVE_MAP_BLOCKS_AVX2
	if (__builtin_cpu_supports("avx2")) {
		map_blocks_avx2(t, n, m);
		return;
	}
#endif
	for (b = 0; b < n; b++) {
		block_map(t + 64 * b, &m[b]);
	}
}

/* Reads the set bits of a bit map (one word per 64 bytes of text, a bit at the end of the
 * text) in order. Each bit is taken straight from its word, so finding the next one is off
 * the chain of dependent loads and shifts that a search from a position would be. A scan
 * never asks for more after the bit at the end of the text. */
typedef struct {
	const uint64_t *map;
	size_t blk;    /* the word being read */
	uint64_t bits; /* its bits not taken yet */
} bit_cursor_t;

static inline bit_cursor_t bit_cursor(const uint64_t *map)
{
	bit_cursor_t c = { map, 0, map[0] };

	return c;
}

/* The position of the next set bit, which is taken. */
static inline size_t bit_next(bit_cursor_t *c)
{
	size_t at;

	while (!c->bits) {
		c->bits = c->map[++c->blk];
	}
	at = (c->blk << 6) + (size_t) __builtin_ctzll(c->bits);
	c->bits &= c->bits - 1;
	return at;
}

/* The first set bit at or after q, for a scan that only moves forward: bits before q are
 * dropped, and the one returned is taken. */
static inline size_t bit_from(bit_cursor_t *c, size_t q)
{
	size_t at;

	do {
		at = bit_next(c);
	} while (at < q);
	return at;
}

/* w->mask with room for words words (kept from message to message); NULL when memory ran out. */
static uint64_t *mask_room(esl_wire_t *w, size_t words)
{
	if (words > SIZE_MAX / sizeof(uint64_t)) {
		return NULL;
	}
	if (words > w->mask_cap) {
		uint64_t *nm = realloc(w->mask, words * sizeof(*nm));
		if (!nm) {
			return NULL;
		}
		w->mask = nm;
		w->mask_cap = words;
	}
	return w->mask;
}

/* The stop map of a whole text in w->mask (nblk words), with a stop at the end of the text.
 * NULL when memory ran out. */
static const uint64_t *map_text(esl_wire_t *w, const unsigned char *t, size_t len)
{
	size_t nblk = len / 64 + 1, b = nblk - 1, rest = len - 64 * b;
	unsigned char tail[64] = { 0 };
	uint64_t *m;

	if (!(m = mask_room(w, nblk))) {
		return NULL;
	}
	map_blocks(t, b, m);
	/* the last, partial block */
	if (rest) {
		memcpy(tail, t + 64 * b, rest);
	}
	block_map(tail, &m[b]);
	m[b] = (m[b] & (((uint64_t) 1 << rest) - 1)) | ((uint64_t) 1 << rest);
	return m;
}

/* Copies n bytes; may write up to 31 bytes past o + n and read up to 31 past s + n when
 * both buffers have that room (far is how many bytes may be read from s). */
static inline void copy_span(char *o, const unsigned char *s, size_t n, size_t far)
{
#if defined(__SSE2__)
	if (n + 32 <= far) {
		size_t i = 0;
		do {
			_mm_storeu_si128((__m128i *) (void *) (o + i), _mm_loadu_si128((const __m128i *) (const void *) (s + i)));
			_mm_storeu_si128((__m128i *) (void *) (o + i + 16), _mm_loadu_si128((const __m128i *) (const void *) (s + i + 16)));
			i += 32;
		} while (i < n);
		return;
	}
#else
	(void) far;
#endif
	memcpy(o, s, n);
}

/* Splits text into lines, writing each name and its URL-decoded value, NUL-terminated, one
 * after another into w->text. Only two hex digits form an escape, and "%00" stays as it is
 * (decoding it would cut the value). Outer blocks skip CR/LF runs before a line and spaces and
 * tabs after the colon; inner events skip only spaces, and their header section ends at the
 * first empty line. Lines without ':' are skipped.
 *
 * A bit map of the bytes where a name or a value may stop is made first, 64 bytes at a time;
 * each line is then a few bit scans and copies instead of a byte loop, and every line gets
 * its name hash here, so nothing walks the names again. Returns 0, -1 when memory ran out,
 * -2 at a NUL byte in the header section.
 *
 * spans (a constant: the function is compiled once per mode): the lines are left where they are
 * in text, for a caller that copies the text out whole (esl_wire_plain_spans), and recorded
 * as w->span instead of w->line. Only values with an escape to decode are written to w->text
 * (their offsets count from len, as if w->text followed the text), names are not hashed, and
 * nothing is NUL-terminated. */
static inline __attribute__((always_inline)) int scan_lines_mode(esl_wire_t *w, const char *text, size_t len, int outer,
																 const int spans, scan_t *sc)
{
	const unsigned char *t = (const unsigned char *) text;
	size_t q = 0;
	const uint64_t *m;
	char *o;
	int nevname = 0;
	bit_cursor_t stops;

	memset(sc, 0, sizeof(*sc));
	sc->event_id = ESL_EVENT_CUSTOM;
	w->nline = 0;
	/* the output never outgrows the text: a line gives back at most the byte after its last */
	if (text_room(w, len) || !(m = map_text(w, t, len))) {
		return -1;
	}

	o = w->text;
	stops = bit_cursor(m);
	for (;;) {
		size_t ns, nlen, nstart, vstart, value_len;
		unsigned int h33;
		char *name, *value;
		wire_line_t *l = NULL;
		int colon = 0, bracket = 0, decoding;

		if (outer) {
			while (q < len && (t[q] == '\r' || t[q] == '\n')) {
				q++;
			}
		} else if (q < len && t[q] == '\n') {
			sc->has_sep = 1;
			sc->body_off = q + 1;
			break;
		}
		if (q >= len) {
			break;
		}

		/* the name, up to ':' */
		ns = bit_from(&stops, q);
		if (ns < len && t[ns] != ':') {
			/* rare: '[' or '%' in a name */
			while (ns < len && (t[ns] == '[' || t[ns] == '%')) {
				bracket |= t[ns] == '[';
				ns = bit_from(&stops, ns + 1);
			}
		}
		if (ns >= len) {
			/* a last line without ':' */
			break;
		}
		if (t[ns] != ':') {
			if (t[ns] == '\0') {
				return -2;
			}
			/* a line without ':' */
			q = ns + 1;
			continue;
		}
		/* names with '[' have rules of their own (esl_event.c) */
		sc->special |= bracket;
		nlen = ns - q;
		nstart = q;
		/* hashed from the text, not from the copy: reading back bytes just stored in pieces
		 * would stall on store forwarding */
		if (spans) {
			h33 = 0;
			name = (char *) text + q;
		} else {
			h33 = len - q >= 32 ? name_h33_padded((const char *) t + q, nlen) : name_h33((const char *) t + q, nlen);
			name = o;
			copy_span(o, t + q, nlen, len - q);
			o += nlen;
			*o++ = '\0';
		}
		q = ns + 1;
		if (outer) {
			while (q < len && (t[q] == ' ' || t[q] == '\t')) {
				q++;
			}
		} else {
			while (q < len && t[q] == ' ') {
				q++;
			}
		}

		/* the value, up to the end of the line; most values need a single look. In spans mode
		 * it stays in text until an escape turns up, and is copied from there on. */
		value = spans ? (char *) text + q : o;
		vstart = q;
		decoding = !spans;
		for (;;) {
			size_t x = bit_from(&stops, q);
			unsigned char c, d;

			if (decoding) {
				copy_span(o, t + q, x - q, len - q);
				o += x - q;
			}
			q = x;
			if (q >= len || (c = t[q]) == '\n') {
				break;
			}
			if (c == '%') {
				/* the two hex digits are never LF, so an escape stays inside the line */
				if (escape_at(t, q, len, &d)) {
					if (!decoding) {
						decoding = 1;
						value = o;
						copy_span(o, t + vstart, q - vstart, len - vstart);
						o += q - vstart;
					}
					/* "::" made of escapes or of both kinds */
					colon |= d == ':' && o > value && o[-1] == ':';
					*o++ = (char) d;
					q += 3;
				} else {
					if (decoding) {
						*o++ = '%';
					}
					q++;
				}
			} else if (c) {
				if (c == ':') {
					colon |= decoding ? o > value && o[-1] == ':' : q > vstart && t[q - 1] == ':';
				}
				if (decoding) {
					*o++ = (char) c;
				}
				q++;
			} else {
				return -2;
			}
		}
		value_len = decoding ? (size_t) (o - value) : q - vstart;
		if (spans) {
			esl_wire_span_t *sp;

			if (span_room(w)) {
				return -1;
			}
			sp = &w->span[w->nline++];
			sp->name_off = (uint32_t) nstart;
			sp->name_len = (uint32_t) nlen;
			sp->value_off = (uint32_t) (decoding ? len + (size_t) (value - w->text) : vstart);
			sp->value_len = (uint32_t) value_len;
		} else {
			*o = '\0';
			if (line_room(w)) {
				return -1;
			}
			l = &w->line[w->nline++];
			l->name = name;
			l->name_len = nlen;
			l->value = value;
			l->value_len = value_len;
			l->h33 = h33;
			l->colon = colon;
			l->element = 0;
			o++;
		}
		if (q < len) {
			q++;
		}

		if (!value_len || (colon && has_marker(value, value_len))) {
			sc->slow = 1;
		}
		if (nlen == 5) {
			sc->special |= !memcmp(name, "_body", 5);
		} else if (nlen == 10) {
			/* (l is this line's record unless in spans mode) */
			if (!outer && (spans ? is_lower_name(name, "event-name", 10) : is_name(l, "event-name", 10, H33_EVENT_NAME))) {
				if (nevname++) {
					sc->slow = 1;
				}
				esl_name_event_n(value, value_len, &sc->event_id);
			}
		} else if (nlen == 14) {
			sc->have_cl |= spans ? is_lower_name(name, CL_NAME, 14) : is_name(l, CL_NAME, 14, H33_CONTENT_LENGTH);
		}
	}
	sc->out_len = (size_t) (o - w->text);
	return 0;
}

static int scan_lines(esl_wire_t *w, const char *text, size_t len, int outer, scan_t *sc)
{
	return scan_lines_mode(w, text, len, outer, 0, sc);
}

static int scan_lines_spans(esl_wire_t *w, const char *text, size_t len, scan_t *sc)
{
	return scan_lines_mode(w, text, len, 0, 1, sc);
}

/* Checks the Content-Length lines of an outer block. 0, or -2 with the parser in error. */
static int check_lengths(esl_wire_t *w, int *have_cl, size_t *cl)
{
	size_t i;

	for (i = 0; i < w->nline; i++) {
		const wire_line_t *l = &w->line[i];
		size_t val = 0;
		char msg[200];

		if (!is_name(l, CL_NAME, 14, H33_CONTENT_LENGTH)) {
			continue;
		}
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
	return 0;
}

/* The event of the scanned lines when every line simply adds a header at the bottom (the
 * common case): the scratch text already holds every string in order, so it is copied in
 * one piece and each header points into the copy. The outer message's first header,
 * Event-Name: SOCKET_DATA, goes in front. text_exact: the scratch text is the lines'
 * strings and nothing else, none with a NUL byte inside (scan_lines always; the JSON reader
 * may leave other strings there), so the event gets ESL_EF_WIRE_TEXT. NULL when memory ran out. */
static esl_event_t *fast_build(esl_wire_t *w, const scan_t *sc, int outer, esl_event_types_t id, int with_body,
							   size_t body_len, char **body, int text_exact)
{
	static const char PREFIX[] = "Event-Name\0SOCKET_DATA";
	size_t pre = outer ? sizeof(PREFIX) : 0, nh = w->nline + (outer ? 1 : 0), total, i;
	esl_event_arena_t *arena;
	esl_event_t *ev;
	esl_event_header_t *hp, *h;
	char *sp;

	total = sizeof(esl_event_arena_t) + sizeof(esl_event_t);
	if (nh > SIZE_MAX / sizeof(esl_event_header_t) || add_size(&total, nh * sizeof(esl_event_header_t)) ||
		add_size(&total, pre) || add_size(&total, sc->out_len) ||
		(with_body && (add_size(&total, body_len) || add_size(&total, 1)))) {
		return NULL;
	}
	if (!(arena = malloc(total))) {
		return NULL;
	}
	arena->size = total - sizeof(esl_event_arena_t);
	ev = (esl_event_t *) (void *) (arena + 1);
	memset(ev, 0, sizeof(*ev));
	ev->event_id = id;
	ev->flags = nh && text_exact ? ESL_EF_ARENA | ESL_EF_WIRE_TEXT : ESL_EF_ARENA;
	hp = (esl_event_header_t *) (void *) (ev + 1);
	sp = (char *) (hp + nh);
	h = hp;
	if (outer) {
		memcpy(sp, PREFIX, pre);
		h->name = sp;
		h->value = sp + 11;
		h->array = NULL;
		h->idx = 0;
		h->hash = name_h33("Event-Name", 10);
		h->next = h + 1;
		h++;
		sp += pre;
	}
	if (sc->out_len) {
		memcpy(sp, w->text, sc->out_len);
	}
	for (i = 0; i < w->nline; i++, h++) {
		const wire_line_t *l = &w->line[i];

		h->name = sp + (l->name - w->text);
		h->value = sp + (l->value - w->text);
		h->array = NULL;
		h->idx = 0;
		h->hash = l->h33;
		h->next = h + 1;
	}
	if (nh) {
		hp[nh - 1].next = NULL;
		ev->headers = hp;
		ev->last_header = &hp[nh - 1];
	}
	if (with_body) {
		/* the body is the last thing in the block: esl_wire_body_length relies on it */
		char *b = sp + sc->out_len;
		b[body_len] = '\0';
		ev->body = b;
		*body = b;
	}
	return ev;
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
	/* doubling from 4 KiB: the buffer is as large as the reads and messages have needed */
	ncap = w->cap ? w->cap : 4096;
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
		char *p = realloc(w->buf, WIRE_KEEP_CAP);
		if (p) {
			w->buf = p;
			w->cap = WIRE_KEEP_CAP;
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
	w->read_room = WIRE_FIRST_ROOM;
	w->json_paths = 1;
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
	w->read_room = WIRE_FIRST_ROOM;
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
	free(w->mask);
	free(w->span);
	free(w->member_at);
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

void esl_wire_set_json_compact(esl_wire_t *w, int on)
{
	if (w) {
		w->json_paths = on;
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
	if (wire_room(w, w->read_room)) {
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
		/* the read filled all the room it was offered: up to the end of the buffer */
		if (n && w->end == w->cap && w->read_room < WIRE_MAX_READ_ROOM) {
			w->read_room *= 2;
		} else if (n && n < w->read_room / 8 && w->read_room > WIRE_READ_ROOM) {
			w->read_room /= 2;
		}
	}
	w->reserved_body = 0;
}

size_t esl_wire_buffer_size(const esl_wire_t *w)
{
	return w ? w->cap : 0;
}

size_t esl_wire_read_room(const esl_wire_t *w)
{
	return w ? w->read_room : WIRE_FIRST_ROOM;
}

/* Parses the header block at buf[start .. start + blen) into w->pending. */
static int wire_parse_block(esl_wire_t *w, size_t blen)
{
	static const wire_line_t first = { (char *) "Event-Name", (char *) "SOCKET_DATA", 10, 11, 0, 0, 0 };
	int have_cl = 0;
	size_t cl = 0, i;
	scan_t sc;
	esl_event_t *ev;

	switch (scan_lines(w, w->buf + w->start, blen, 1, &sc)) {
	case 0:
		break;
	case -1:
		return wire_fail(w, "out of memory");
	default:
		return wire_fail(w, "NUL byte in a header block");
	}
	if (sc.have_cl && check_lengths(w, &have_cl, &cl)) {
		return -1;
	}
	if (sc.special || w->api_build) {
		ev = api_build(w, 0, &have_cl, &cl, &w->body);
	} else if (!sc.slow) {
		ev = fast_build(w, &sc, 1, ESL_EVENT_SOCKET_DATA, have_cl, cl, &w->body, 1);
	} else {
		/* Q8: every outer message starts with Event-Name: SOCKET_DATA */
		wire_line_t ev_name = first;

		ev_name.h33 = name_h33(first.name, first.name_len);
		plan_reset(w, ESL_EVENT_SOCKET_DATA);
		if (plan_add_line(w, &ev_name, 0)) {
			return wire_fail(w, "out of memory");
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

/* How much of the canonical event framing buffered text matches: 1 all of it (the frame is
 * whole), 0 a prefix (more is to come), -1 it differs. */
static int frame_match(const char *p, size_t have, const char *want, size_t n)
{
	if (have < n) {
		return memcmp(p, want, have) ? -1 : 0;
	}
	return memcmp(p, want, n) ? -1 : 1;
}

int esl_wire_take_event(esl_wire_t *w, esl_wire_take_fn take, void *ctx)
{
	static const char CL[] = "Content-Length: ";
	static const char PLAIN[] = "Content-Type: text/event-plain\n\n";
	static const char JSON[] = "Content-Type: text/event-json\n\n";
	const char *b, *p, *e;
	size_t have, cl = 0, blen, total, at;
	int r, json, mp, mj, more;
	char saved = 0;

	if (!w || !take || w->state != ST_HEAD) {
		return -2;
	}
	have = w->end - w->start;
	if (!have) {
		return -1;
	}
	b = w->buf + w->start;
	e = b + have;
	/* a header block cut short yet already over the limit: esl_wire_next says so */
	more = have < w->max_header ? -1 : -2;
	if ((r = frame_match(b, have, CL, sizeof(CL) - 1)) <= 0) {
		return r < 0 ? -2 : more;
	}
	for (p = b + sizeof(CL) - 1; p < e && *p >= '0' && *p <= '9'; p++) {
		size_t d = (size_t) (*p - '0');

		/* over the limit: esl_wire_next says so */
		if (d > w->max_body || cl > (w->max_body - d) / 10) {
			return -2;
		}
		cl = cl * 10 + d;
	}
	if (p == e) {
		return more;
	}
	if (*p != '\n' || p == b + sizeof(CL) - 1 || !cl) {
		return -2;
	}
	p++;
	mp = frame_match(p, (size_t) (e - p), PLAIN, sizeof(PLAIN) - 1);
	mj = frame_match(p, (size_t) (e - p), JSON, sizeof(JSON) - 1);
	if (mp < 0 && mj < 0) {
		return -2;
	}
	if (mp < 1 && mj < 1) {
		return more;
	}
	json = mj == 1;
	blen = (size_t) (p - b) + (json ? sizeof(JSON) : sizeof(PLAIN)) - 1;
	if (blen > w->max_header) {
		return -2;
	}
	total = blen + cl;
	if (total > have) {
		/* a large body is better read in place, as esl_wire_next does */
		return total <= WIRE_READ_ROOM ? -1 : -2;
	}
	/* the body is handed out NUL-terminated: the byte behind it is borrowed for the call */
	at = w->start + total;
	if (at >= w->cap) {
		return -2;
	}
	if (at < w->end) {
		saved = w->buf[at];
	}
	w->buf[at] = '\0';
	r = take(ctx, b + blen, cl, json);
	if (at < w->end) {
		w->buf[at] = saved;
	}
	if (r != ESL_WIRE_DECLINE) {
		w->start += total;
		w->scan = w->start;
		wire_settle(w);
	}
	return r;
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

int esl_wire_event_text(const esl_event_t *ev, const char **text, size_t *len, size_t *count)
{
	const esl_event_header_t *hp, *h;
	const char *start, *end, *prev;
	size_t i = 0;

	/* only the parser sets ESL_EF_WIRE_TEXT; the checks below catch later changes through
	 * the API, whose new parts never sit at the places the parser used */
	if (!ev || !(ev->flags & ESL_EF_WIRE_TEXT) || !(ev->flags & ESL_EF_ARENA) || !ev->headers) {
		return -1;
	}
	/* the strings end where the body starts, or with the block */
	end = (const char *) ev + esl_event_arena_of(ev)->size;
	if (ev->body) {
		if (!esl_event_in_arena(ev, ev->body)) {
			return -1;
		}
		end = ev->body;
	}
	/* a header added, removed or replaced breaks the array order or a string's place */
	hp = (const esl_event_header_t *) (const void *) (ev + 1);
	prev = (const char *) hp;
	for (h = ev->headers; h; h = h->next, i++) {
		if (h != hp + i || h->array || !h->name || !h->value || h->name < prev || h->value <= h->name ||
			h->value >= end || h->value[-1] || (i && h->name[-1])) {
			return -1;
		}
		prev = h->value + 1;
	}
	start = (const char *) (hp + i);
	if (ev->headers->name != start || ev->last_header != hp + i - 1 || end[-1]) {
		return -1;
	}
	*text = start;
	*len = (size_t) (end - start);
	if (count) {
		*count = i;
	}
	return 0;
}

esl_status_t esl_wire_parse_plain(esl_wire_t *wire, const char *text, size_t len, esl_event_t **event)
{
	esl_wire_t *w = wire;
	size_t body_off, cl, i;
	int with_body;
	scan_t sc;
	esl_event_t *ev = NULL;
	char *body = NULL;
	esl_status_t status = ESL_GENERR;

	*event = NULL;
	if (!text) {
		len = 0;
		text = "";
	}
	if (!w && !(w = esl_wire_create())) {
		return ESL_GENERR;
	}
	switch (scan_lines(w, text, len, 0, &sc)) {
	case 0:
		break;
	case -2:
		/* a NUL byte in the header section */
		status = ESL_FAIL;
		goto done;
	default:
		goto done;
	}
	/* the header section ends at the first empty line; with a Content-Length header,
	 * everything after that line is the body (Q6) */
	body_off = sc.has_sep ? sc.body_off : len;
	with_body = sc.has_sep;
	cl = len - body_off;
	if (sc.special || w->api_build) {
		ev = api_build(w, 1, &with_body, &cl, &body);
	} else if (!sc.slow) {
		with_body = with_body && sc.have_cl;
		ev = fast_build(w, &sc, 0, sc.event_id, with_body, cl, &body, 1);
	} else {
		plan_reset(w, ESL_EVENT_CUSTOM);
		for (i = 0; i < w->nline; i++) {
			if (plan_add_line(w, &w->line[i], 1)) {
				goto done;
			}
		}
		if (with_body) {
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

int esl_wire_plain_spans(esl_wire_t *w, const char *text, size_t len, esl_wire_spans_t *out)
{
	scan_t sc;

	memset(out, 0, sizeof(*out));
	/* every offset, into the kept text and the decoded values after it (at most len more),
	 * fits in 32 bits */
	if (!w || w->api_build || !text || len > UINT32_MAX / 2) {
		return 0;
	}
	switch (scan_lines_spans(w, text, len, &sc)) {
	case 0:
		break;
	case -1:
		return -1;
	default:
		/* a NUL byte in the header section: esl_wire_parse_plain says so */
		return 0;
	}
	/* the same cases as esl_wire_parse_plain's fast_build; the rest take the full parse */
	if (sc.special || sc.slow) {
		return 0;
	}
	out->has_body = sc.has_sep && sc.have_cl;
	out->line = w->span;
	out->nline = w->nline;
	out->text_len = len;
	out->decoded = w->text;
	out->decoded_len = sc.out_len;
	out->event_id = sc.event_id;
	if (out->has_body) {
		out->body_off = sc.body_off;
		out->body_len = len - sc.body_off;
	}
	return 1;
}

/* Room for n entries in the member table; 0 when memory ran out. */
static int member_room(esl_wire_t *w, size_t n)
{
	uint16_t *np = grow_array(w->member_at, &w->member_cap, n, sizeof(*w->member_at));

	if (!np) {
		return 0;
	}
	w->member_at = np;
	return 1;
}

/* Line maps of one 64-byte block for esl_wire_plain_check: one bit per byte for LF, for ':'
 * and for the rare bytes ('%', '[' and NUL). */
static inline void line_block(const unsigned char *b, uint64_t *lf, uint64_t *col, uint64_t *pct)
{
#if defined(__SSE2__)
	const __m128i l = _mm_set1_epi8('\n'), c = _mm_set1_epi8(':'), p = _mm_set1_epi8('%');
	const __m128i br = _mm_set1_epi8('['), nul = _mm_setzero_si128();
	uint64_t ml = 0, mc = 0, mp = 0;
	int i;

	for (i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *) (const void *) (b + 16 * i));
		__m128i odd = _mm_or_si128(_mm_cmpeq_epi8(v, p), _mm_or_si128(_mm_cmpeq_epi8(v, br), _mm_cmpeq_epi8(v, nul)));
		ml |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, l)) << (16 * i);
		mc |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) << (16 * i);
		mp |= (uint64_t) (unsigned) _mm_movemask_epi8(odd) << (16 * i);
	}
	*lf = ml;
	*col = mc;
	*pct = mp;
#else
	uint64_t ml = 0, mc = 0, mp = 0;
	int i;

	for (i = 0; i < 64; i++) {
		ml |= (uint64_t) (b[i] == '\n') << i;
		mc |= (uint64_t) (b[i] == ':') << i;
		mp |= (uint64_t) (b[i] == '%' || b[i] == '[' || !b[i]) << i;
	}
	*lf = ml;
	*col = mc;
	*pct = mp;
#endif
}

#ifdef HAVE_MAP_BLOCKS_AVX2
__attribute__((target("avx2"))) static void line_blocks_avx2(const unsigned char *t, size_t n, uint64_t *lf, uint64_t *col,
															 uint64_t *pct)
{
	const __m256i l = _mm256_set1_epi8('\n'), c = _mm256_set1_epi8(':'), p = _mm256_set1_epi8('%');
	const __m256i br = _mm256_set1_epi8('['), nul = _mm256_setzero_si256();
	size_t b;

#define ODD(v) _mm256_or_si256(_mm256_cmpeq_epi8(v, p), _mm256_or_si256(_mm256_cmpeq_epi8(v, br), _mm256_cmpeq_epi8(v, nul)))
	for (b = 0; b < n; b++) {
		const unsigned char *q = t + 64 * b;
		__m256i v0 = _mm256_loadu_si256((const __m256i *) (const void *) q);
		__m256i v1 = _mm256_loadu_si256((const __m256i *) (const void *) (q + 32));

		lf[b] = MASK64(v0, v1, l);
		col[b] = MASK64(v0, v1, c);
		pct[b] = (uint64_t) (uint32_t) _mm256_movemask_epi8(ODD(v0)) | (uint64_t) (uint32_t) _mm256_movemask_epi8(ODD(v1)) << 32;
	}
#undef ODD
}
#endif

/* The three line maps of a whole text in w->mask (nblk words each), with a bit at the end of
 * the text in the LF and ':' maps, so a scan always finds one. 0, or -1 when memory ran out. */
static int line_maps(esl_wire_t *w, const unsigned char *t, size_t len, uint64_t **lf, uint64_t **col, uint64_t **pct)
{
	size_t nblk = len / 64 + 1, b = nblk - 1, rest = len - 64 * b, b2;
	unsigned char tail[64] = { 0 };
	uint64_t keep = ((uint64_t) 1 << rest) - 1, end = (uint64_t) 1 << rest;

	if (nblk > SIZE_MAX / 3 || !(*lf = mask_room(w, 3 * nblk))) {
		return -1;
	}
	*col = *lf + nblk;
	*pct = *col + nblk;
#ifdef HAVE_MAP_BLOCKS_AVX2
	if (__builtin_cpu_supports("avx2")) {
		line_blocks_avx2(t, b, *lf, *col, *pct);
	} else
#endif
	{
		for (b2 = 0; b2 < b; b2++) {
			line_block(t + 64 * b2, &(*lf)[b2], &(*col)[b2], &(*pct)[b2]);
		}
	}
	if (rest) {
		memcpy(tail, t + 64 * b, rest);
	}
	line_block(tail, &(*lf)[b], &(*col)[b], &(*pct)[b]);
	(*lf)[b] = ((*lf)[b] & keep) | end;
	(*col)[b] = ((*col)[b] & keep) | end;
	(*pct)[b] &= keep;
	return 0;
}

/* Whether t[0, to) holds a NUL, a '[' or a '%' that escapes 'A', 'R' or 'Y', or ':' after
 * "ARRAY" (pct: the map of those three bytes). */
static int odd_bytes(const unsigned char *t, size_t len, const uint64_t *pct, size_t to)
{
	size_t b;

	for (b = 0; b << 6 < to; b++) {
		uint64_t bits = pct[b];

		while (bits) {
			size_t q = (b << 6) + (size_t) __builtin_ctzll(bits);
			unsigned char d;

			bits &= bits - 1;
			if (q >= to) {
				return 0;
			}
			if (t[q] != '%') {
				return 1;
			}
			if (!escape_at(t, q, len, &d)) {
				continue;
			}
			if (d == 'A' || d == 'R' || d == 'Y' || (d == ':' && q >= 5 && !memcmp(t + q - 5, "ARRAY", 5))) {
				return 1;
			}
		}
	}
	return 0;
}

/* Where the value of a header line starts, from just after its first ':' (v) to its end (e):
 * past its leading spaces (scan_lines skips only spaces in an inner event). */
static size_t skip_spaces(const unsigned char *t, size_t v, size_t e)
{
	while (v < e && t[v] == ' ') {
		v++;
	}
	return v;
}

int esl_wire_plain_check(esl_wire_t *w, const char *text, size_t len, esl_wire_text_info_t *out)
{
	const unsigned char *t = (const unsigned char *) text;
	uint64_t *lf, *col, *pct;
	bit_cursor_t ends, colons;
	size_t q = 0, h = len, c, nline = 0, half, evname = 0, evname_end = 0;
	int nevname = 0, have_cl = 0, sep = 0, table;
	uint16_t *starts = NULL, *name_lens = NULL;

	memset(out, 0, sizeof(*out));
	out->event_id = ESL_EVENT_CUSTOM;
	if (!w || w->api_build || !text || len > UINT32_MAX / 2) {
		return 0;
	}
	/* the table of header lines, when every offset fits: their starts, then from half on
	 * their names' lengths; a header line takes 2 bytes at least (":v", the last line may
	 * lack its LF) */
	half = len / 2 + 1;
	table = len <= UINT16_MAX && member_room(w, 2 * half);
	if (table) {
		starts = w->member_at;
		name_lens = starts + half;
	}
	if (line_maps(w, t, len, &lf, &col, &pct)) {
		return -1;
	}
	/* the lines of the header section, as scan_lines splits an inner event's: a line at a
	 * time, from its first ':' and its end; the rest of each line is looked at below, for the
	 * whole section at once. Every line takes one line end, and c, the first ':' at or after
	 * q, is followed by the value's other colons up to the next line's first one, which is
	 * kept for that line. Nothing is taken after the bit at the end of the text (q passes
	 * the end; a colon at the end makes every later line one without).
	 * The loop keeps to what every line needs; the three names with rules of their own are
	 * told apart by length first, out of line, and the type is looked up after the loop. */
	ends = bit_cursor(lf);
	colons = bit_cursor(col);
	c = bit_next(&colons);
	while (q < len) {
		size_t e, v, nl;

		if (t[q] == '\n') {
			h = q;
			sep = 1;
			break;
		}
		e = bit_next(&ends);
		if (c > e || c == len) {
			/* a line without ':' is skipped; so is a last line without one */
			q = e + 1;
			continue;
		}
		v = c + 1;
		nl = c - q;
		/* nearly every value starts with one space and a byte that is not one */
		if (__builtin_expect(e - v < 2 || t[v + 1] == ' ' || t[v] != ' ', 0) && skip_spaces(t, v, e) == e) {
			/* an empty value deletes headers */
			return 0;
		}
		if (__builtin_expect(nl == 5 || nl == 10 || nl == 14, 0)) {
			if (nl == 5 && !memcmp(t + q, "_body", 5)) {
				return 0;
			}
			if (nl == 10 && is_lower_name((const char *) t + q, "event-name", 10)) {
				/* a second Event-Name takes the full parse */
				if (nevname++) {
					return 0;
				}
				evname = v;
				evname_end = e;
			} else if (nl == 14 && is_lower_name((const char *) t + q, CL_NAME, 14)) {
				have_cl = 1;
			}
		}
		if (table) {
			name_lens[nline] = (uint16_t) nl;
			starts[nline++] = (uint16_t) q;
		}
		/* the array marker needs "ARRAY" before a ':' of the value (or an escaped one, or
		 * escaped letters: both are looked for below) */
		for (c = bit_next(&colons); c < e; c = bit_next(&colons)) {
			if (c - v >= 5 && !memcmp(t + c - 5, "ARRAY", 5)) {
				return 0;
			}
		}
		q = e + 1;
	}
	if (nevname) {
		evname = skip_spaces(t, evname, evname_end);
		/* an Event-Name with escapes takes the full parse */
		if (memchr(t + evname, '%', evname_end - evname)) {
			return 0;
		}
		esl_name_event_n((const char *) t + evname, evname_end - evname, &out->event_id);
	}
	/* The full parse for: a NUL byte (it cannot be represented), '[' (array rules when in a
	 * name; values rarely have one), and escapes that may spell the array marker once
	 * decoded. */
	if (odd_bytes(t, len, pct, h)) {
		return 0;
	}
	out->header_len = h;
	if (sep && have_cl) {
		out->has_body = 1;
		out->body_off = h + 1;
		out->body_len = len - h - 1;
	}
	if (table) {
		out->member_at = starts;
		out->name_len = name_lens;
		out->nmember = nline;
	}
	return 1;
}

/* esl_wire_json_check's sink: every member a string that goes in as one header, unchanged by
 * the header rules, and readable without decoding its name. */
typedef struct {
	int nevname;
	esl_event_types_t event_id;
	const char *body;
	size_t body_len;
} json_check_t;

/* (inlined into json_check_compact, whose loop it is most of; the general check calls it
 * through its sink) */
static inline __attribute__((always_inline)) int json_check_member(void *ctx, const char *key, size_t klen,
																   const char *val, size_t vlen, unsigned seen)
{
	json_check_t *jc = ctx;
	unsigned kseen = seen & ((1u << ESL_JSON_VALUE_SHIFT) - 1), vseen = seen >> ESL_JSON_VALUE_SHIFT;

	/* a name with escapes: Go compares names as they are */
	if (kseen & ESL_JSON_ESCAPE) {
		return -1;
	}
	/* "_body" (any case) is the body, the last one wins; Go decodes it when it copies it */
	if (klen == 5 && !strncasecmp(key, "_body", 5)) {
		if (vseen & ESL_JSON_UNICODE) {
			return -1;
		}
		jc->body = val;
		jc->body_len = vlen;
		return 0;
	}
	/* '[' in a name (array rules), an empty value (it deletes), a \u escape (it could spell
	 * the array marker), the marker itself (one-character escapes cannot make it) */
	if ((kseen & ESL_JSON_BRACKET) || !vlen || (vseen & ESL_JSON_UNICODE) ||
		((vseen & ESL_JSON_COLON) && has_marker(val, vlen))) {
		return -1;
	}
	if (klen == 10 && is_lower_name(key, "event-name", 10)) {
		if (jc->nevname++ || (vseen & ESL_JSON_ESCAPE)) {
			return -1;
		}
		esl_name_event_n(val, vlen, &jc->event_id);
	}
	return 0;
}

/* Any member that is not a string: arrays and skipped values take the spans. */
static int json_check_other(void *ctx, const char *key, size_t klen, const char *val, size_t vlen, unsigned seen)
{
	(void) ctx;
	(void) key;
	(void) klen;
	(void) val;
	(void) vlen;
	(void) seen;
	return -1;
}

/* Fills out with what the JSON check found: the whole text is the header section. */
static void json_check_answer(const json_check_t *jc, const char *json, size_t len, esl_wire_text_info_t *out)
{
	out->header_len = len;
	out->event_id = jc->event_id;
	if (jc->body) {
		out->has_body = 1;
		out->body_off = (size_t) (jc->body - json);
		out->body_len = jc->body_len;
	}
}

/* The maps of 64 bytes of JSON text for json_check_compact: quotes, backslashes, colons and
 * '['; *bad gets the bytes that end the compact path (control bytes, NUL included). */
static inline void json_block(const unsigned char *b, uint64_t *quote, uint64_t *bsl, uint64_t *bad, uint64_t *col,
							  uint64_t *br)
{
#if defined(__SSE2__)
	const __m128i qt = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1F);
	const __m128i c = _mm_set1_epi8(':'), l = _mm_set1_epi8('[');
	uint64_t mq = 0, ms = 0, mb = 0, mc = 0, ml = 0;
	int i;

	for (i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *) (const void *) (b + 16 * i));

		mq |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, qt)) << (16 * i);
		ms |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, bs)) << (16 * i);
		mb |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl)) << (16 * i);
		mc |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) << (16 * i);
		ml |= (uint64_t) (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(v, l)) << (16 * i);
	}
#else
	uint64_t mq = 0, ms = 0, mb = 0, mc = 0, ml = 0;
	int i;

	for (i = 0; i < 64; i++) {
		mq |= (uint64_t) (b[i] == '"') << i;
		ms |= (uint64_t) (b[i] == '\\') << i;
		mb |= (uint64_t) (b[i] < 0x20) << i;
		mc |= (uint64_t) (b[i] == ':') << i;
		ml |= (uint64_t) (b[i] == '[') << i;
	}
#endif
	*quote = mq;
	*bsl = ms;
	*bad = mb;
	*col = mc;
	*br = ml;
}

#ifdef HAVE_MAP_BLOCKS_AVX2
/* json_block for n whole blocks, 32 bytes per compare; 1 when a block has a byte that ends the
 * compact path (the maps are then incomplete), else 0. */
__attribute__((target("avx2"))) static int json_blocks_avx2(const unsigned char *t, size_t n, uint64_t *quote, uint64_t *bsl,
															uint64_t *col, uint64_t *br)
{
	const __m256i qt = _mm256_set1_epi8('"'), bs = _mm256_set1_epi8('\\'), ctl = _mm256_set1_epi8(0x1F);
	const __m256i c = _mm256_set1_epi8(':'), l = _mm256_set1_epi8('[');
	size_t b;

#define CTL(v) _mm256_cmpeq_epi8(_mm256_max_epu8(v, ctl), ctl)
	for (b = 0; b < n; b++) {
		const unsigned char *q = t + 64 * b;
		__m256i v0 = _mm256_loadu_si256((const __m256i *) (const void *) q);
		__m256i v1 = _mm256_loadu_si256((const __m256i *) (const void *) (q + 32));

		if (!_mm256_testz_si256(_mm256_or_si256(CTL(v0), CTL(v1)), _mm256_set1_epi8(-1))) {
			return 1;
		}
		quote[b] = MASK64(v0, v1, qt);
		bsl[b] = MASK64(v0, v1, bs);
		col[b] = MASK64(v0, v1, c);
		br[b] = MASK64(v0, v1, l);
	}
#undef CTL
	return 0;
}
#endif

/* Whether map m has a bit in [from, to). */
static inline int map_any(const uint64_t *m, size_t from, size_t to)
{
	size_t b = from >> 6, e = to >> 6;
	uint64_t lo = ~(uint64_t) 0 << (from & 63);

	if (from >= to) {
		return 0;
	}
	if (b == e) {
		return (m[b] & lo & (((uint64_t) 1 << (to & 63)) - 1)) != 0;
	}
	if (m[b] & lo) {
		return 1;
	}
	for (b++; b < e; b++) {
		if (m[b]) {
			return 1;
		}
	}
	return (to & 63) && (m[e] & (((uint64_t) 1 << (to & 63)) - 1)) != 0;
}

/* Takes the escaped quotes of a JSON text out of its quote map, so that each string ends at
 * its next quote: a backslash that is not itself escaped escapes the byte after it, which
 * must make one of JSON's one-character escapes. 0, or -1 at a \u escape (it could spell the
 * array marker or a name's letters) or an invalid one: the general check decides those. */
static int json_unescape_quotes(const unsigned char *t, size_t len, uint64_t *quote, const uint64_t *bsl, size_t nblk)
{
	size_t b, free_from = 0;

	for (b = 0; b < nblk; b++) {
		uint64_t bits = bsl[b];

		while (bits) {
			size_t q = (b << 6) + (size_t) __builtin_ctzll(bits), e = q + 1;

			bits &= bits - 1;
			if (q < free_from) {
				continue; /* the escaped byte of the backslash before it */
			}
			if (e >= len || esl_json_short_escape(t[e]) < 0) {
				return -1;
			}
			quote[e >> 6] &= ~((uint64_t) 1 << (e & 63));
			free_from = e + 1;
		}
	}
	return 0;
}

/* The maps of a compact JSON object (json_compact_maps). */
typedef struct {
	uint64_t *quote, *bsl, *col, *br;
	uint64_t any_bracket, any_escape;
} json_maps_t;

/* Where the member walk is: the quotes not taken yet, and where the next member starts (0
 * after the last); the "::" not passed yet, and where the next one is (the end of the text
 * when there is none: nearly every event has one, an IPv6 address). The caller keeps it
 * apart from the maps, so that it stays in registers. */
typedef struct {
	bit_cursor_t quotes, pairs;
	size_t p, pair;
} json_walk_t;

/* One member of a compact object: its key is t[ks, ke), its value t[vs, ve), p is its
 * opening quote. seen has the flags json_check_member and json_member read: '[' in the key,
 * the array marker's "::" in the value (the first colon of every "::" is mapped; a pair never
 * crosses a quote, so it lies inside one string), and escapes in either. */
typedef struct {
	size_t p, ks, ke, vs, ve;
	unsigned seen;
} json_walk_member_t;

/* Maps the JSON FreeSWITCH writes: one compact object ('{' first, '}' last, no white space)
 * of string members with one-character escapes at most. With the escaped quotes taken out,
 * strings end at the next quote, so each member is then found with four bit scans instead
 * of being read byte by byte. 0, or -1 when the text is not of that kind (or memory ran out):
 * the general reader decides. */
static int json_compact_maps(esl_wire_t *w, const unsigned char *t, size_t len, json_maps_t *m)
{
	size_t nblk = len / 64 + 1, rest = len % 64, b;
	uint64_t bad, keep = ((uint64_t) 1 << rest) - 1;
	unsigned char tail[64] = { 0 };

	memset(m, 0, sizeof(*m));
	if (len < 2 || t[0] != '{' || t[len - 1] != '}' || nblk > SIZE_MAX / 4 || !(m->quote = mask_room(w, 4 * nblk))) {
		return -1;
	}
	m->bsl = m->quote + nblk;
	m->col = m->bsl + nblk;
	m->br = m->col + nblk;
#ifdef HAVE_MAP_BLOCKS_AVX2
	if (__builtin_cpu_supports("avx2")) {
		if (json_blocks_avx2(t, nblk - 1, m->quote, m->bsl, m->col, m->br)) {
			return -1;
		}
		b = nblk - 1;
	} else
#endif
	{
		for (b = 0; b + 1 < nblk; b++) {
			json_block(t + 64 * b, &m->quote[b], &m->bsl[b], &bad, &m->col[b], &m->br[b]);
			if (bad) {
				return -1;
			}
		}
	}
	if (rest) {
		memcpy(tail, t + 64 * b, rest);
	}
	json_block(tail, &m->quote[b], &m->bsl[b], &bad, &m->col[b], &m->br[b]);
	if (bad & keep) {
		return -1;
	}
	/* a quote at the end of the text stops every scan */
	m->quote[b] = (m->quote[b] & keep) | (uint64_t) 1 << rest;
	m->col[b] &= keep;
	m->br[b] &= keep;
	m->bsl[b] &= keep;
	/* the bracket and backslash maps are nearly always empty, and a member is looked up in
	 * one only when it has a bit at all; the pairs are taken in order, and one at the end of
	 * the text stops their scan */
	for (b = 0; b < nblk; b++) {
		m->col[b] &= (m->col[b] >> 1) | (b + 1 < nblk ? m->col[b + 1] << 63 : 0);
		m->any_bracket |= m->br[b];
		m->any_escape |= m->bsl[b];
	}
	m->col[nblk - 1] |= (uint64_t) 1 << rest;
	if (m->any_escape && json_unescape_quotes(t, len, m->quote, m->bsl, nblk)) {
		return -1;
	}
	return 0;
}

static inline json_walk_t json_walk(const json_maps_t *m)
{
	json_walk_t k = { bit_cursor(m->quote), bit_cursor(m->col), 1, 0 };

	k.pair = bit_next(&k.pairs);
	return k;
}

/* The next member of a mapped compact object: 1 with mp filled, 0 after the last one (the
 * object ended where the text does), -1 when the text is not a compact object after all. A
 * member is exactly four quotes ("key":"value"), taken one after another; every position
 * taken is checked at once, and the quote at the end of the text fails every check, so none
 * is taken after it. */
static inline __attribute__((always_inline)) int json_walk_next(const json_maps_t *m, json_walk_t *k,
																const unsigned char *t, size_t len, json_walk_member_t *mp)
{
	size_t p = k->p, ke, vs, ve;

	if (!p) {
		return 0;
	}
	if (bit_next(&k->quotes) != p) {
		return -1;
	}
	ke = bit_next(&k->quotes);
	if (ke + 2 >= len || t[ke + 1] != ':' || bit_next(&k->quotes) != ke + 2) {
		return -1;
	}
	vs = ke + 3;
	ve = bit_next(&k->quotes);
	if (ve + 1 >= len) {
		return -1;
	}
	if (t[ve + 1] == '}') {
		if (ve + 2 != len) {
			return -1;
		}
		k->p = 0;
	} else if (t[ve + 1] == ',') {
		k->p = ve + 2;
	} else {
		return -1;
	}
	mp->p = p;
	mp->ks = p + 1;
	mp->ke = ke;
	mp->vs = vs;
	mp->ve = ve;
	mp->seen = m->any_bracket && map_any(m->br, p + 1, ke) ? ESL_JSON_BRACKET : 0;
	if (k->pair < ve) {
		/* pairs before the value (in its key, or in earlier members) are passed over */
		while (k->pair < vs) {
			k->pair = bit_next(&k->pairs);
		}
		if (k->pair < ve) {
			mp->seen |= ESL_JSON_COLON << ESL_JSON_VALUE_SHIFT;
		}
	}
	if (m->any_escape) {
		mp->seen |= (map_any(m->bsl, p + 1, ke) ? ESL_JSON_ESCAPE : 0) |
					(map_any(m->bsl, vs, ve) ? ESL_JSON_ESCAPE << ESL_JSON_VALUE_SHIFT : 0);
	}
	return 1;
}

/* esl_wire_json_check for the JSON FreeSWITCH writes (json_compact_maps): every member still
 * goes through json_check_member. 1 when the event is accepted (out filled); 0 when it is not
 * that kind (or memory ran out): the general check decides. */
static int json_check_compact(esl_wire_t *w, const char *json, size_t len, esl_wire_text_info_t *out)
{
	const unsigned char *t = (const unsigned char *) json;
	json_check_t jc = { 0, ESL_EVENT_CUSTOM, NULL, 0 };
	size_t nmember = 0;
	/* the member table, when every offset fits; a member takes 6 bytes at least ("":"",) */
	uint16_t *at = len <= UINT16_MAX && member_room(w, len / 6 + 1) ? w->member_at : NULL;
	json_maps_t m;
	json_walk_t k;
	json_walk_member_t mp;
	int r;

	if (json_compact_maps(w, t, len, &m)) {
		return 0;
	}
	k = json_walk(&m);
	while ((r = json_walk_next(&m, &k, t, len, &mp)) == 1) {
		if (json_check_member(&jc, json + mp.ks, mp.ke - mp.ks, json + mp.vs, mp.ve - mp.vs, mp.seen)) {
			return 0;
		}
		/* a "_body" member is the body (json_check_member took its value), not a header */
		if (at && jc.body != json + mp.vs) {
			at[nmember++] = (uint16_t) mp.p;
		}
	}
	if (r) {
		return 0;
	}
	json_check_answer(&jc, json, len, out);
	if (at) {
		out->member_at = at;
		out->nmember = nmember;
	}
	return 1;
}

int esl_wire_json_check(esl_wire_t *w, const char *json, size_t len, esl_wire_text_info_t *out)
{
	static const esl_json_sink_t sink = { json_check_member, json_check_other };
	json_check_t jc = { 0, ESL_EVENT_CUSTOM, NULL, 0 };

	memset(out, 0, sizeof(*out));
	out->event_id = ESL_EVENT_CUSTOM;
	if (!w || w->api_build || !json || len > UINT32_MAX / 2) {
		return 0;
	}
	if (w->json_paths && json_check_compact(w, json, len, out)) {
		return 1;
	}
	if (w->json_paths == 2 || esl_json_scan_event(json, len, &sink, &jc)) {
		return 0;
	}
	json_check_answer(&jc, json, len, out);
	return 1;
}

/* ------------------------------------------------------------------------------------ */
/* text/event-json straight into the plan */

/* The members are first collected as lines (kind 1 marks an array element), like a plain
 * event's; when every one simply adds a header, the event is built from the scratch text in
 * one copy, otherwise the lines are replayed through the plan. */
typedef struct {
	esl_wire_t *w;
	const char *body;
	size_t body_len;
	char *end;              /* past the last decoded string in the scratch text */
	int loose;              /* a line's strings do not follow the previous string directly */
	int have_body;
	int fallback;           /* a name with rules of its own: the event code builds this one */
	int slow;
	int nevname;
	int spans;              /* for esl_wire_json_spans: no name hashes */
	esl_event_types_t event_id;
} json_plan_t;

/* One member as a span of the scratch text, where the reader writes every key and value
 * (spans mode). */
static int json_span(json_plan_t *jp, const char *key, size_t klen, const char *val, size_t vlen)
{
	esl_wire_t *w = jp->w;
	esl_wire_span_t *sp;

	if (span_room(w)) {
		return -1;
	}
	sp = &w->span[w->nline++];
	sp->name_off = (uint32_t) (key - w->text);
	sp->name_len = (uint32_t) klen;
	sp->value_off = (uint32_t) (val - w->text);
	sp->value_len = (uint32_t) vlen;
	jp->end = (char *) val + vlen + 1;
	return 0;
}

/* One member as a line. */
static int json_line(json_plan_t *jp, const char *key, size_t klen, unsigned int h33, const char *val, size_t vlen,
					 int kind)
{
	esl_wire_t *w = jp->w;
	wire_line_t *l;

	if (line_room(w)) {
		return -1;
	}
	l = &w->line[w->nline++];
	l->name = (char *) key;
	l->name_len = klen;
	l->value = (char *) val;
	l->value_len = vlen;
	l->h33 = h33;
	l->colon = 0;
	l->element = kind;
	/* a member that was not a string may have left its key in the text before this one */
	jp->loose |= key != jp->end || val != key + klen + 1;
	jp->end = (char *) val + vlen + 1;
	return 0;
}

/* A string member, as esl_event_create_json adds it: "_body" (any case) sets the body, the
 * rest goes in like a received line. h33 is the key's name hash (unused in spans mode). */
static inline __attribute__((always_inline)) int json_member_hashed(json_plan_t *jp, const char *key, size_t klen,
																	unsigned int h33, const char *val, size_t vlen,
																	unsigned seen)
{
	if (klen == 5 && !strncasecmp(key, "_body", 5)) {
		jp->body = val;
		jp->body_len = vlen;
		jp->have_body = 1;
		jp->end = (char *) val + vlen + 1;
		return 0;
	}
	if (seen & ESL_JSON_BRACKET) {
		jp->fallback = 1;
		return -1;
	}
	if (!vlen || ((seen & (ESL_JSON_COLON << ESL_JSON_VALUE_SHIFT)) && has_marker(val, vlen))) {
		jp->slow = 1;
	}
	if (klen == 10 && (jp->spans ? is_lower_name(key, "event-name", 10) : h33 == H33_EVENT_NAME && !strncasecmp(key, "event-name", 10))) {
		if (jp->nevname++) {
			jp->slow = 1;
		}
		esl_name_event(val, &jp->event_id);
	}
	return jp->spans ? json_span(jp, key, klen, val, vlen) : json_line(jp, key, klen, h33, val, vlen, 0);
}

/* json_member_hashed as the JSON reader's sink: the scratch text has 32 readable bytes past
 * every key; spans need no hash. */
static int json_member(void *ctx, const char *key, size_t klen, const char *val, size_t vlen, unsigned seen)
{
	json_plan_t *jp = ctx;

	return json_member_hashed(jp, key, klen, jp->spans ? 0 : name_h33_padded(key, klen), val, vlen, seen);
}

static int json_element(void *ctx, const char *key, size_t klen, const char *val, size_t vlen, unsigned seen)
{
	json_plan_t *jp = ctx;

	if ((klen == 5 && !memcmp(key, "_body", 5)) || (seen & ESL_JSON_BRACKET)) {
		jp->fallback = 1;
		return -1;
	}
	jp->slow = 1;
	/* (an element makes the event slow: spans mode declines it) */
	return jp->spans ? json_span(jp, key, klen, val, vlen) : json_line(jp, key, klen, name_h33_padded(key, klen), val, vlen, 1);
}

/* ESL_STACK_PUSH of an array element: it joins the first header of its name; without one, an
 * empty element adds nothing, one holding "ARRAY::" goes through esl_event_add_array, and
 * anything else starts a one-element array. */
static int plan_push_element(esl_wire_t *w, const wire_line_t *l)
{
	plan_group_t *g;
	size_t idx1;
	int err;

	g = plan_lookup(w, l->name, l->name_len, l->h33, &err);
	if (err) {
		return -1;
	}
	if (g && g->head) {
		plan_hdr_t *h = &w->hdr[g->head - 1];
		if (!h->nelem && plan_add_elem(w, g->head, h->value, h->value_len)) {
			return -1;
		}
		return plan_add_elem(w, g->head, l->value, l->value_len);
	}
	if (!l->value_len) {
		return 0;
	}
	if (has_marker(l->value, l->value_len)) {
		return plan_add_array(w, l->name, l->name_len, l->h33, l->value, l->value_len);
	}
	if (!(idx1 = plan_new_header(w, l->name, l->name_len, l->h33))) {
		return -1;
	}
	return plan_add_elem(w, idx1, l->value, l->value_len);
}

/* Readies jp and the scratch text and lines of w for the members of a JSON text of len bytes:
 * the readers write at most len + 1 bytes there, the name hashing reads a little past, and
 * copy_span may write 31 bytes past the end. -2 when memory ran out, else 0. */
static int json_plan_start(esl_wire_t *w, size_t len, int spans, json_plan_t *jp)
{
	if (text_room(w, len)) {
		return -2;
	}
	memset(jp, 0, sizeof(*jp));
	jp->w = w;
	jp->end = w->text;
	jp->event_id = ESL_EVENT_CUSTOM;
	jp->spans = spans;
	w->nline = 0;
	return 0;
}

/* Runs the JSON reader into the scratch lines of w (json_member, json_element); with spans, the
 * lines get no name hash (only the plan needs it). Returns what esl_json_read_event returns, or
 * -2 when memory ran out first. */
static int json_read(esl_wire_t *w, const char *json, size_t len, int spans, json_plan_t *jp)
{
	static const esl_json_sink_t sink = { json_member, json_element };

	if (json_plan_start(w, len, spans, jp)) {
		return -2;
	}
	return esl_json_read_event(json, len, w->text, 1, &sink, jp);
}

char *esl_wire_json_string_into(char *o, const char *s, size_t n)
{
	const char *end = s + n, *bs;

	/* the runs between escapes are copied whole */
	while ((bs = memchr(s, '\\', (size_t) (end - s))) && end - bs > 1) {
		memcpy(o, s, (size_t) (bs - s));
		o += bs - s;
		*o++ = (char) esl_json_short_escape((unsigned char) bs[1]);
		s = bs + 2;
	}
	memcpy(o, s, (size_t) (end - s));
	return o + (end - s);
}

/* json_read's answer when the text is not the JSON FreeSWITCH writes: the general reader
 * then reads it. */
#define JSON_NOT_COMPACT 2

/* json_read for the JSON FreeSWITCH writes (json_compact_maps): each member's key and value
 * are copied into the scratch text in runs, NUL-terminated (a value with escapes is decoded
 * byte by byte), and handed to json_member with the flags the reader would have given it.
 * What json_read returns, or JSON_NOT_COMPACT (a key with escapes included: the general
 * reader starts over). */
static int json_read_compact(esl_wire_t *w, const char *json, size_t len, json_plan_t *jp)
{
	const unsigned char *t = (const unsigned char *) json;
	json_maps_t m;
	json_walk_t k;
	json_walk_member_t mp;
	char *o;
	int r;

	if (json_compact_maps(w, t, len, &m)) {
		return JSON_NOT_COMPACT;
	}
	/* (a member loses its four quotes and gains two NULs) */
	if (json_plan_start(w, len, 0, jp)) {
		return -2;
	}
	o = w->text;
	k = json_walk(&m);
	while ((r = json_walk_next(&m, &k, t, len, &mp)) == 1) {
		size_t klen = mp.ke - mp.ks, vlen = mp.ve - mp.vs;
		char *key = o, *val;
		unsigned int h33;

		if (mp.seen & ESL_JSON_ESCAPE) {
			return JSON_NOT_COMPACT;
		}
		/* hashed from the text, not from the copy: reading back bytes just stored in pieces
		 * would stall on store forwarding */
		h33 = len - mp.ks >= 32 ? name_h33_padded(json + mp.ks, klen) : name_h33(json + mp.ks, klen);
		copy_span(o, t + mp.ks, klen, len - mp.ks);
		o += klen;
		*o++ = '\0';
		val = o;
		if (mp.seen & (ESL_JSON_ESCAPE << ESL_JSON_VALUE_SHIFT)) {
			o = esl_wire_json_string_into(o, json + mp.vs, vlen);
			vlen = (size_t) (o - val);
		} else {
			copy_span(o, t + mp.vs, vlen, len - mp.vs);
			o += vlen;
		}
		*o++ = '\0';
		if (json_member_hashed(jp, key, klen, h33, val, vlen, mp.seen)) {
			return -1;
		}
	}
	return r ? JSON_NOT_COMPACT : 0;
}

/* esl_event_create_json's event, built into one block like a plain one. json is
 * NUL-terminated at len. ESL_FAIL only when memory ran out. */
static esl_status_t json_build(esl_wire_t *w, const char *json, size_t len, esl_event_t **inner)
{
	json_plan_t jp;
	esl_event_t *ev;
	char *body = NULL;
	size_t i;
	int r = w->json_paths ? json_read_compact(w, json, len, &jp) : JSON_NOT_COMPACT;

	if (r == JSON_NOT_COMPACT) {
		r = json_read(w, json, len, 0, &jp);
	}

	if (r == -2) {
		return ESL_FAIL;
	}
	if (r > 0) {
		return ESL_SUCCESS;
	}
	if (r < 0) {
		if (!jp.fallback) {
			return ESL_FAIL;
		}
		/* raw NUL bytes are never valid JSON (esl_event_create_json would stop at the first) */
		if (memchr(json, '\0', len)) {
			return ESL_SUCCESS;
		}
		return esl_event_create_json(inner, json) == ESL_SUCCESS ? ESL_SUCCESS : ESL_FAIL;
	}
	if (!jp.slow) {
		scan_t sc;

		memset(&sc, 0, sizeof(sc));
		sc.out_len = (size_t) (jp.end - w->text);
		/* exact when nothing lies between the lines' strings: no "_body" string, no key left
		 * behind */
		ev = fast_build(w, &sc, 0, jp.event_id, jp.have_body, jp.body_len, &body, !jp.have_body && !jp.loose);
	} else {
		plan_reset(w, ESL_EVENT_CUSTOM);
		for (i = 0; i < w->nline; i++) {
			const wire_line_t *l = &w->line[i];
			if (l->element ? plan_push_element(w, l) : plan_add_line(w, l, 1)) {
				return ESL_FAIL;
			}
		}
		ev = plan_build(w, jp.have_body, jp.body_len, &body);
	}
	if (!ev) {
		return ESL_FAIL;
	}
	if (jp.have_body && jp.body_len) {
		memcpy(body, jp.body, jp.body_len);
	}
	*inner = ev;
	return ESL_SUCCESS;
}

esl_status_t esl_wire_parse_json(esl_wire_t *w, const char *json, size_t len, esl_event_t **event)
{
	*event = NULL;
	if (!json) {
		return ESL_SUCCESS;
	}
	if (w && !w->api_build) {
		return json_build(w, json, len, event);
	}
	/* raw NUL bytes are never valid JSON */
	if (!memchr(json, '\0', len) && esl_event_create_json(event, json) != ESL_SUCCESS) {
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

int esl_wire_json_spans(esl_wire_t *w, const char *json, size_t len, esl_wire_spans_t *out)
{
	json_plan_t jp;

	memset(out, 0, sizeof(*out));
	if (!w || w->api_build || !json || len > UINT32_MAX / 2) {
		return 0;
	}
	switch (json_read(w, json, len, 1, &jp)) {
	case 0:
		break;
	case -2:
		return -1;
	default:
		/* not an object, a name with rules of its own, or out of memory in a callback:
		 * esl_wire_decode_inner sorts these out */
		return 0;
	}
	/* the same case as json_build's fast_build; the rest take the full parse */
	if (jp.slow) {
		return 0;
	}
	/* json_line recorded the spans; the body is a decoded string too */
	if (jp.have_body) {
		out->has_body = 1;
		out->body_off = (size_t) (jp.body - w->text);
		out->body_len = jp.body_len;
	}
	out->line = w->span;
	out->nline = w->nline;
	out->text_len = 0;
	out->decoded = w->text;
	out->decoded_len = (size_t) (jp.end - w->text);
	out->event_id = jp.event_id;
	return 1;
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
		return esl_wire_parse_json(w, outer->body, len, inner);
	}
	return ESL_SUCCESS;
}
