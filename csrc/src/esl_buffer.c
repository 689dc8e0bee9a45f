/*
 * esl_buffer.c: a growable FIFO byte buffer with a read head.
 * Part of esl, an implementation of the libesl API.
 *
 * The unread bytes are data[head, end). Reads only move head; the consumed prefix is
 * reclaimed when the buffer runs empty or when a write needs room and moving the unread
 * bytes costs no more than the space it frees, so every byte is copied O(1) times.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* POSIX and GNU declarations with -std=c11 */
#endif
#include "esl.h"

struct esl_buffer {
	unsigned char *data;
	esl_size_t cap;
	esl_size_t head;
	esl_size_t end;
	esl_size_t blocksize;
	esl_size_t max_len;
	int32_t loops;
	/* read_packet resumes its terminator search here instead of rescanning from head;
	 * no terminator starts in [head, scan) */
	esl_size_t scan;
};

#define UNLIMITED_FREESPACE 1000000

ESL_DECLARE(esl_status_t) esl_buffer_create(esl_buffer_t **buffer, esl_size_t blocksize, esl_size_t start_len, esl_size_t max_len)
{
	esl_buffer_t *b;

	if (!buffer) {
		return ESL_FAIL;
	}
	*buffer = NULL;
	if (!start_len) {
		start_len = 250;
	}
	if (!blocksize) {
		blocksize = start_len;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		return ESL_FAIL;
	}
	if (!(b->data = malloc(start_len))) {
		free(b);
		return ESL_FAIL;
	}
	b->cap = start_len;
	b->blocksize = blocksize;
	b->max_len = max_len;
	*buffer = b;
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_size_t) esl_buffer_len(esl_buffer_t *buffer)
{
	return buffer ? buffer->cap : 0;
}

ESL_DECLARE(esl_size_t) esl_buffer_inuse(esl_buffer_t *buffer)
{
	return buffer ? buffer->end - buffer->head : 0;
}

ESL_DECLARE(esl_size_t) esl_buffer_freespace(esl_buffer_t *buffer)
{
	esl_size_t used;

	if (!buffer) {
		return 0;
	}
	if (!buffer->max_len) {
		return UNLIMITED_FREESPACE;
	}
	used = buffer->end - buffer->head;
	return used >= buffer->max_len ? 0 : buffer->max_len - used;
}

/* Called after the read head moved: an empty buffer starts over at offset 0 (unless looping
 * needs the consumed bytes), and the packet scan never lags behind the head. */
static void after_consume(esl_buffer_t *b)
{
	if (b->head == b->end && !b->loops) {
		b->head = b->end = b->scan = 0;
	}
	if (b->scan < b->head) {
		b->scan = b->head;
	}
}

ESL_DECLARE(esl_size_t) esl_buffer_seek(esl_buffer_t *buffer, esl_size_t datalen)
{
	esl_size_t n;

	if (!buffer) {
		return 0;
	}
	n = buffer->end - buffer->head;
	if (datalen < n) {
		n = datalen;
	}
	buffer->head += n;
	after_consume(buffer);
	return n;
}

ESL_DECLARE(esl_size_t) esl_buffer_toss(esl_buffer_t *buffer, esl_size_t datalen)
{
	if (!buffer) {
		return 0;
	}
	esl_buffer_seek(buffer, datalen);
	return buffer->end - buffer->head;
}

ESL_DECLARE(void) esl_buffer_set_loops(esl_buffer_t *buffer, int32_t loops)
{
	if (buffer) {
		buffer->loops = loops;
	}
}

ESL_DECLARE(esl_size_t) esl_buffer_read(esl_buffer_t *buffer, void *data, esl_size_t datalen)
{
	esl_size_t n;

	if (!buffer || !data || !datalen) {
		return 0;
	}
	n = buffer->end - buffer->head;
	if (datalen < n) {
		n = datalen;
	}
	if (n) {
		memcpy(data, buffer->data + buffer->head, n);
		buffer->head += n;
		after_consume(buffer);
	}
	return n;
}

ESL_DECLARE(esl_size_t) esl_buffer_read_loop(esl_buffer_t *buffer, void *data, esl_size_t datalen)
{
	esl_size_t len;

	if (!buffer || !data) {
		return 0;
	}
	len = esl_buffer_read(buffer, data, datalen);
	if (len < datalen && buffer->loops && buffer->end) {
		/* Rewind to the oldest byte still held and read the rest from there. */
		buffer->head = 0;
		buffer->scan = 0;
		len += esl_buffer_read(buffer, (char *) data + len, datalen - len);
		if (buffer->loops > 0) {
			buffer->loops--;
		}
	}
	return len;
}

/* Offset just past the first LF [CR] LF at or after from, or 0 if none is complete. memchr
 * keeps NUL bytes ordinary data and never looks past end. */
static esl_size_t find_terminator(const esl_buffer_t *b, esl_size_t from)
{
	const unsigned char *p = b->data + from, *stop = b->data + b->end, *lf;

	while (p < stop && (lf = memchr(p, '\n', (size_t) (stop - p)))) {
		if (lf + 1 < stop && lf[1] == '\n') {
			return (esl_size_t) (lf + 2 - b->data);
		}
		if (lf + 2 < stop && lf[1] == '\r' && lf[2] == '\n') {
			return (esl_size_t) (lf + 3 - b->data);
		}
		p = lf + 1;
	}
	return 0;
}

ESL_DECLARE(esl_size_t) esl_buffer_read_packet(esl_buffer_t *buffer, void *data, esl_size_t maxlen)
{
	esl_size_t stop, len;

	if (!buffer || !data || !maxlen) {
		return 0;
	}
	if (!(stop = find_terminator(buffer, buffer->scan))) {
		/* The last two bytes may begin a terminator that the next write completes. */
		esl_size_t resume = buffer->end >= 2 ? buffer->end - 2 : 0;

		buffer->scan = resume > buffer->head ? resume : buffer->head;
		return 0;
	}
	len = stop - buffer->head;
	/* A block longer than maxlen is handed out in pieces, as the original does; the caller
	 * can tell from the missing terminator. */
	if (len > maxlen) {
		len = maxlen;
	}
	memcpy(data, buffer->data + buffer->head, len);
	buffer->head += len;
	buffer->scan = buffer->head;
	after_consume(buffer);
	return len;
}

ESL_DECLARE(esl_size_t) esl_buffer_packet_count(esl_buffer_t *buffer)
{
	esl_size_t count = 0, pos;

	if (!buffer) {
		return 0;
	}
	for (pos = buffer->head; (pos = find_terminator(buffer, pos)); ) {
		count++;
	}
	return count;
}

static void compact(esl_buffer_t *b)
{
	esl_size_t used = b->end - b->head;

	memmove(b->data, b->data + b->head, used);
	b->scan -= b->head;
	b->end = used;
	b->head = 0;
}

/* Makes room for datalen more bytes at end; 0 when memory runs out. The caller has checked
 * max_len against the unread bytes. */
static int make_room(esl_buffer_t *b, esl_size_t datalen)
{
	esl_size_t need, ncap;
	unsigned char *nd;

	if (b->cap - b->end >= datalen) {
		return 1;
	}
	/* Moving the unread bytes down pays for itself when it frees at least as much as it
	 * copies; otherwise the buffer grows geometrically. */
	if (b->head && b->head >= b->end - b->head) {
		compact(b);
		if (b->cap - b->end >= datalen) {
			return 1;
		}
	}
	ncap = b->cap + (b->cap >> 1);
	if (ncap < b->cap + b->blocksize) {
		ncap = b->cap + b->blocksize;
	}
	if (b->max_len && ncap > b->max_len) {
		/* Growth is capped: use the space already held first. */
		if (b->head) {
			compact(b);
			if (b->cap - b->end >= datalen) {
				return 1;
			}
		}
		ncap = b->max_len;
	}
	need = b->end + datalen;
	if (need < b->end) {
		return 0;
	}
	if (ncap < need || ncap < b->cap) {
		ncap = need;
	}
	if (!(nd = realloc(b->data, ncap))) {
		return 0;
	}
	b->data = nd;
	b->cap = ncap;
	return 1;
}

ESL_DECLARE(esl_size_t) esl_buffer_write(esl_buffer_t *buffer, const void *data, esl_size_t datalen)
{
	esl_size_t used;

	if (!buffer) {
		return 0;
	}
	used = buffer->end - buffer->head;
	if (!data || !datalen) {
		return used;
	}
	if (buffer->max_len && (datalen > buffer->max_len || used > buffer->max_len - datalen)) {
		return 0;
	}
	if (!make_room(buffer, datalen)) {
		return 0;
	}
	memcpy(buffer->data + buffer->end, data, datalen);
	buffer->end += datalen;
	return buffer->end - buffer->head;
}

ESL_DECLARE(void) esl_buffer_zero(esl_buffer_t *buffer)
{
	if (buffer) {
		buffer->head = buffer->end = buffer->scan = 0;
	}
}

ESL_DECLARE(esl_size_t) esl_buffer_zwrite(esl_buffer_t *buffer, const void *data, esl_size_t datalen)
{
	esl_size_t w;

	if (!buffer) {
		return 0;
	}
	if (!(w = esl_buffer_write(buffer, data, datalen)) && data && datalen) {
		esl_buffer_zero(buffer);
		w = esl_buffer_write(buffer, data, datalen);
	}
	return w;
}

ESL_DECLARE(void) esl_buffer_destroy(esl_buffer_t **buffer)
{
	if (buffer && *buffer) {
		free((*buffer)->data);
		free(*buffer);
		*buffer = NULL;
	}
}
