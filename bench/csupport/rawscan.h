/*
 * rawscan.h: how the raw reader scans a stream (header only): each message's end, and the
 * three values it reads in an event. Shared with parsebench, whose "frames" step so times
 * exactly this code. Nothing is decoded or copied: each value is a span of the text.
 */
#ifndef BENCH_RAWSCAN_H
#define BENCH_RAWSCAN_H

#include <stdlib.h>
#include <string.h>

/* One message's frame: its outer header block is hlen bytes before the "\n\n", its body the
 * clen bytes after, total bytes in all. */
typedef struct {
	size_t hlen, clen, total;
	int is_event; /* Content-Type: text/event-... */
} bench_frame_t;

/* Frames the message at b (avail bytes buffered): 1 when it is buffered whole, 0 when more
 * bytes are needed. Only Content-Length and Content-Type are looked at. */
static inline int bench_frame(const char *b, size_t avail, bench_frame_t *f)
{
	const char *he = avail >= 2 ? memmem(b, avail, "\n\n", 2) : NULL, *line;

	if (!he) {
		return 0;
	}
	f->hlen = (size_t) (he - b);
	f->clen = 0;
	f->is_event = 0;
	for (line = b; line < he;) {
		const char *nl = memchr(line, '\n', (size_t) (he - line));

		if (!nl) {
			nl = he;
		}
		if (nl - line > 16 && !memcmp(line, "Content-Length: ", 16)) {
			f->clen = (size_t) atol(line + 16);
		} else if (nl - line > 24 && !memcmp(line, "Content-Type: text/event", 24)) {
			f->is_event = 1;
		}
		line = nl + 1;
	}
	f->total = f->hlen + 2 + f->clen;
	return f->total <= avail;
}

typedef struct {
	const char *p;
	size_t n;
} bench_span_t;

/* Event-Name, Unique-ID and Event-Date-Timestamp of the plain event text p..end: line by
 * line from the top, stopping at the empty line or once all three are found. The spans of
 * those not found are left as they are. */
static inline void bench_plain_three(const char *p, const char *end, bench_span_t out[3])
{
	int found = 0;

	while (p < end && found < 3) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t len;

		if (!nl) {
			nl = end;
		}
		len = (size_t) (nl - p);
		if (len == 0) {
			break; /* end of the event's headers */
		}
		if (p[0] == 'E' && len > 12 && !memcmp(p, "Event-Name: ", 12)) {
			out[0].p = p + 12, out[0].n = len - 12, found++;
		} else if (p[0] == 'U' && len > 11 && !memcmp(p, "Unique-ID: ", 11)) {
			out[1].p = p + 11, out[1].n = len - 11, found++;
		} else if (p[0] == 'E' && len > 22 && !memcmp(p, "Event-Date-Timestamp: ", 22)) {
			out[2].p = p + 22, out[2].n = len - 22, found++;
		}
		p = nl + 1;
	}
}

/* The string value of key ("\"Name\":\"") in the compact JSON text p..end. */
static inline void bench_json_value(const char *p, const char *end, const char *key, size_t klen, bench_span_t *out)
{
	const char *k = memmem(p, (size_t) (end - p), key, klen), *q;

	if (!k) {
		return;
	}
	k += klen;
	if ((q = memchr(k, '"', (size_t) (end - k)))) {
		out->p = k, out->n = (size_t) (q - k);
	}
}

/* The three values of a compact JSON event text, as FreeSWITCH writes it. */
static inline void bench_json_three(const char *p, const char *end, bench_span_t out[3])
{
	bench_json_value(p, end, "\"Event-Name\":\"", 14, &out[0]);
	bench_json_value(p, end, "\"Unique-ID\":\"", 13, &out[1]);
	bench_json_value(p, end, "\"Event-Date-Timestamp\":\"", 24, &out[2]);
}

#endif
