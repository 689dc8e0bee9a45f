/*
 * three.h: how the raw reader finds the three values it reads in an event (header only),
 * shared with parsebench so that its "frames" step times exactly this code. Nothing is
 * decoded or copied: each value is a span of the event text.
 */
#ifndef BENCH_THREE_H
#define BENCH_THREE_H

#include <string.h>

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
