/*
 * recorded.h: the event messages of a recorded server-to-client stream, held in memory for the
 * programs that parse them without a socket (parsebench, abparse). Header only; include it
 * after bench.h and rawscan.h.
 */
#ifndef RECORDED_H
#define RECORDED_H

#include <stdarg.h>

/* Exits with a formatted message, prefixed with the program's name. */
static void recorded_die(const char *prog, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	bench_die(prog, why);
}

typedef struct {
	char *frame; /* the whole message: outer header block and body, then a NUL */
	size_t frame_len;
	const char *body; /* the event text, inside frame */
	size_t body_len;
	size_t lines; /* header lines of the event text */
} msg_t;

/* Header lines of an event text: plain, the lines before the first empty one; JSON, the
 * members (every "\":\"" starts a string member's value, enough for a per-line figure). */
static size_t count_lines(const char *p, size_t n, int json)
{
	const char *end = p + n;
	size_t c = 0;

	if (json) {
		const char *q = p;
		while ((q = memmem(q, (size_t) (end - q), "\":", 2))) {
			c++, q += 2;
		}
		return c;
	}
	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		c++;
		p = nl ? nl + 1 : end;
	}
	return c;
}

/* The event messages of a recorded server-to-client stream, in order (prog names the program
 * in an error). */
static msg_t *load_recorded(const char *prog, const char *file, int json, size_t *count)
{
	FILE *f = fopen(file, "rb");
	char *data = NULL;
	size_t cap = 0, len = 0, n = 0, off = 0;
	msg_t *m = NULL;
	const char *ctype = json ? "text/event-json" : "text/event-plain";

	if (!f) {
		recorded_die(prog, "cannot open %s: %s", file, strerror(errno));
	}
	for (;;) {
		size_t r;
		if (len == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			if (!(data = realloc(data, cap))) {
				recorded_die(prog, "out of memory");
			}
		}
		if (!(r = fread(data + len, 1, cap - len, f))) {
			break;
		}
		len += r;
	}
	fclose(f);
	while (off < len) {
		const char *h = data + off;
		size_t hlen, body;
		bench_frame_t f;

		if (!bench_frame(h, len - off, &f)) {
			break;
		}
		hlen = f.hlen + 2;
		body = f.clen;
		if (body && f.is_event && memmem(h, hlen, ctype, strlen(ctype))) {
			msg_t *nm = realloc(m, (n + 1) * sizeof(*m));
			if (!nm || !(nm[n].frame = malloc(hlen + body + 1))) {
				recorded_die(prog, "out of memory");
			}
			m = nm;
			memcpy(m[n].frame, h, hlen + body);
			/* the JSON check reads a NUL-terminated text, as the library hands it over */
			m[n].frame[hlen + body] = '\0';
			m[n].frame_len = hlen + body;
			m[n].body = m[n].frame + hlen;
			m[n].body_len = body;
			m[n].lines = count_lines(m[n].body, body, json);
			n++;
		}
		off += hlen + body;
	}
	free(data);
	if (!n) {
		recorded_die(prog, "no %s messages in %s", ctype, file);
	}
	*count = n;
	return m;
}

#endif
