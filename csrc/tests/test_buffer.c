/*
 * test_buffer.c: unit tests of the FIFO byte buffer (esl_buffer.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "esl.h"
#include "eslt.h"

static void test_basics(void)
{
	esl_buffer_t *b = NULL;
	char out[64];

	CHECK_INT(esl_buffer_create(&b, 0, 0, 0), ESL_SUCCESS);
	CHECK(b != NULL);
	CHECK_INT(esl_buffer_len(b), 250);
	CHECK_INT(esl_buffer_inuse(b), 0);
	CHECK_INT(esl_buffer_freespace(b), 1000000);
	CHECK_INT(esl_buffer_read(b, out, sizeof(out)), 0);

	CHECK_INT(esl_buffer_write(b, "hello", 5), 5);
	CHECK_INT(esl_buffer_write(b, " world", 6), 11);
	CHECK_INT(esl_buffer_write(b, "x", 0), 11);
	CHECK_INT(esl_buffer_inuse(b), 11);
	CHECK_INT(esl_buffer_read(b, out, 5), 5);
	CHECK_MEM(out, "hello", 5);
	CHECK_INT(esl_buffer_inuse(b), 6);
	CHECK_INT(esl_buffer_toss(b, 1), 5);
	CHECK_INT(esl_buffer_read(b, out, sizeof(out)), 5);
	CHECK_MEM(out, "world", 5);
	CHECK_INT(esl_buffer_toss(b, 10), 0);

	esl_buffer_write(b, "abcdef", 6);
	CHECK_INT(esl_buffer_seek(b, 2), 2);
	CHECK_INT(esl_buffer_seek(b, 100), 4);
	CHECK_INT(esl_buffer_inuse(b), 0);
	esl_buffer_write(b, "abc", 3);
	esl_buffer_zero(b);
	CHECK_INT(esl_buffer_inuse(b), 0);
	esl_buffer_destroy(&b);
	CHECK(b == NULL);
	esl_buffer_destroy(&b);
	esl_buffer_destroy(NULL);

	CHECK_INT(esl_buffer_create(NULL, 0, 0, 0), ESL_FAIL);
	CHECK_INT(esl_buffer_len(NULL), 0);
	CHECK_INT(esl_buffer_inuse(NULL), 0);
	CHECK_INT(esl_buffer_write(NULL, "x", 1), 0);
	CHECK_INT(esl_buffer_read(NULL, out, 1), 0);
}

static void test_max_len(void)
{
	esl_buffer_t *b = NULL;
	char out[32];

	CHECK_INT(esl_buffer_create(&b, 4, 8, 16), ESL_SUCCESS);
	CHECK_INT(esl_buffer_freespace(b), 16);
	CHECK_INT(esl_buffer_write(b, "0123456789", 10), 10);
	CHECK_INT(esl_buffer_freespace(b), 6);
	/* would exceed max_len: nothing written */
	CHECK_INT(esl_buffer_write(b, "0123456", 7), 0);
	CHECK_INT(esl_buffer_inuse(b), 10);
	CHECK_INT(esl_buffer_write(b, "abcdef", 6), 16);
	CHECK(esl_buffer_len(b) <= 16);
	/* room comes back as data is read, reusing the same memory */
	CHECK_INT(esl_buffer_read(b, out, 4), 4);
	CHECK_INT(esl_buffer_write(b, "WXYZ", 4), 16);
	CHECK(esl_buffer_len(b) <= 16);
	CHECK_INT(esl_buffer_read(b, out, sizeof(out)), 16);
	CHECK_MEM(out, "456789abcdefWXYZ", 16);

	/* zwrite empties the buffer when the write does not fit */
	esl_buffer_write(b, "0123456789", 10);
	CHECK_INT(esl_buffer_zwrite(b, "abcdefghij", 10), 10);
	CHECK_INT(esl_buffer_read(b, out, sizeof(out)), 10);
	CHECK_MEM(out, "abcdefghij", 10);
	CHECK_INT(esl_buffer_zwrite(b, "0123456789abcdefXYZ", 19), 0);
	esl_buffer_destroy(&b);
}

static void test_packets(void)
{
	esl_buffer_t *b = NULL;
	char out[256];
	size_t n;

	esl_buffer_create(&b, 0, 16, 0);
	esl_buffer_write(b, "A: 1\nB: 2\n\nC: 3\n\r\nrest", 22);
	CHECK_INT(esl_buffer_packet_count(b), 2);
	n = esl_buffer_read_packet(b, out, sizeof(out));
	CHECK_INT(n, 11);
	CHECK_MEM(out, "A: 1\nB: 2\n\n", 11);
	n = esl_buffer_read_packet(b, out, sizeof(out));
	CHECK_INT(n, 7);
	CHECK_MEM(out, "C: 3\n\r\n", 7);
	CHECK_INT(esl_buffer_packet_count(b), 0);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 0);
	CHECK_INT(esl_buffer_inuse(b), 4);
	/* CRLF CRLF contains LF CR LF */
	esl_buffer_write(b, "\r\n\r\n", 4);
	n = esl_buffer_read_packet(b, out, sizeof(out));
	CHECK_INT(n, 8);
	CHECK_MEM(out, "rest\r\n\r\n", 8);
	CHECK_INT(esl_buffer_inuse(b), 0);

	/* a terminator split across writes, byte by byte */
	{
		const char *msg = "Content-Type: x\n\n";
		size_t i, len = strlen(msg);

		for (i = 0; i < len; i++) {
			CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 0);
			esl_buffer_write(b, msg + i, 1);
		}
		n = esl_buffer_read_packet(b, out, sizeof(out));
		CHECK_INT(n, len);
		CHECK_MEM(out, msg, len);
	}
	/* ... and LF | CR | LF split */
	esl_buffer_write(b, "K: v\n", 5);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 0);
	esl_buffer_write(b, "\r", 1);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 0);
	esl_buffer_write(b, "\n", 1);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 7);
	/* a lone CR between LFs that are not adjacent is not a terminator */
	esl_buffer_write(b, "a\nb\r\nc\n", 7);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 0);
	CHECK_INT(esl_buffer_packet_count(b), 0);
	esl_buffer_zero(b);

	/* NUL bytes are ordinary data: they neither stall nor cut a block */
	esl_buffer_write(b, "A: \0\0x\n\0\n\nB\n\n", 13);
	CHECK_INT(esl_buffer_packet_count(b), 2);
	n = esl_buffer_read_packet(b, out, sizeof(out));
	CHECK_INT(n, 10);
	CHECK_MEM(out, "A: \0\0x\n\0\n\n", 10);
	n = esl_buffer_read_packet(b, out, sizeof(out));
	CHECK_INT(n, 3);
	CHECK_MEM(out, "B\n\n", 3);

	/* nothing past the received data is looked at: stale bytes after the end of the data
	 * must not complete a terminator */
	esl_buffer_zero(b);
	esl_buffer_write(b, "x\n\n", 3);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 3);
	esl_buffer_write(b, "c\n", 2);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 0);
	CHECK_INT(esl_buffer_packet_count(b), 0);
	esl_buffer_write(b, "\n", 1);
	CHECK_INT(esl_buffer_read_packet(b, out, sizeof(out)), 3);

	/* a block longer than maxlen comes out in pieces */
	esl_buffer_write(b, "0123456789\n\n", 12);
	CHECK_INT(esl_buffer_read_packet(b, out, 5), 5);
	CHECK_MEM(out, "01234", 5);
	CHECK_INT(esl_buffer_read_packet(b, out, 5), 5);
	CHECK_INT(esl_buffer_read_packet(b, out, 5), 2);
	CHECK_MEM(out, "\n\n", 2);
	CHECK_INT(esl_buffer_read_packet(b, out, 0), 0);
	CHECK_INT(esl_buffer_read_packet(NULL, out, 5), 0);
	esl_buffer_destroy(&b);
}

static void test_loops(void)
{
	esl_buffer_t *b = NULL;
	char out[16];

	esl_buffer_create(&b, 0, 0, 0);
	esl_buffer_write(b, "abc", 3);
	esl_buffer_set_loops(b, 1);
	CHECK_INT(esl_buffer_read_loop(b, out, 2), 2);
	CHECK_MEM(out, "ab", 2);
	/* one byte left, then a rewind to the start */
	CHECK_INT(esl_buffer_read_loop(b, out, 3), 3);
	CHECK_MEM(out, "cab", 3);
	CHECK_INT(esl_buffer_read_loop(b, out, 3), 1);
	CHECK_MEM(out, "c", 1);
	/* loops used up: the data is gone once read */
	CHECK_INT(esl_buffer_read_loop(b, out, 3), 0);
	/* -1 loops for ever */
	esl_buffer_set_loops(b, -1);
	esl_buffer_write(b, "xy", 2);
	CHECK_INT(esl_buffer_read_loop(b, out, 3), 3);
	CHECK_MEM(out, "xyx", 3);
	CHECK_INT(esl_buffer_read_loop(b, out, 3), 3);
	CHECK_MEM(out, "yxy", 3);
	CHECK_INT(esl_buffer_inuse(b), 0);
	esl_buffer_destroy(&b);
}

/* Random writes, reads and packet reads against a simple model of the contents. */
static void test_model(void)
{
	esl_buffer_t *b = NULL;
	size_t cap = 1 << 20, mhead = 0, mend = 0, i, n, maxlen;
	unsigned char *model = malloc(cap), in[700], out[2048];
	unsigned int seed = 99;
	int ok = 1, step;

	esl_buffer_create(&b, 64, 64, 0);
	for (step = 0; step < 200000 && ok; step++) {
		seed = seed * 1103515245 + 12345;
		switch ((seed >> 16) % 4) {
		case 0:
		case 1:
			n = (seed >> 8) % sizeof(in);
			for (i = 0; i < n; i++) {
				seed = seed * 1103515245 + 12345;
				/* many LFs and NULs, some CRs */
				in[i] = "\n\n\r\0abc"[(seed >> 16) % 7];
			}
			if (mend + n > cap) {
				memmove(model, model + mhead, mend - mhead);
				mend -= mhead;
				mhead = 0;
			}
			if (mend + n > cap) {
				break;
			}
			memcpy(model + mend, in, n);
			mend += n;
			if (esl_buffer_write(b, in, n) != (n ? mend - mhead : mend - mhead)) {
				ok = 0;
			}
			break;
		case 2:
			n = (seed >> 8) % sizeof(out);
			i = esl_buffer_read(b, out, n);
			if (i != (n < mend - mhead ? n : mend - mhead) || memcmp(out, model + mhead, i)) {
				ok = 0;
			}
			mhead += i;
			break;
		default: {
			/* find the first LF [CR] LF in the model */
			size_t p, stop = 0;

			for (p = mhead; p + 1 < mend; p++) {
				if (model[p] == '\n' && model[p + 1] == '\n') {
					stop = p + 2;
					break;
				}
				if (model[p] == '\n' && p + 2 < mend && model[p + 1] == '\r' && model[p + 2] == '\n') {
					stop = p + 3;
					break;
				}
			}
			maxlen = 1 + (seed >> 8) % sizeof(out);
			n = esl_buffer_read_packet(b, out, maxlen);
			if (!stop) {
				if (n) {
					ok = 0;
				}
			} else {
				size_t want = stop - mhead < maxlen ? stop - mhead : maxlen;

				if (n != want || memcmp(out, model + mhead, n)) {
					ok = 0;
				}
				mhead += n;
			}
			break;
		}
		}
		if (esl_buffer_inuse(b) != mend - mhead) {
			ok = 0;
		}
	}
	if (!ok) {
		fprintf(stderr, "    model mismatch at step %d\n", step);
	}
	CHECK(ok);
	/* the buffer did not grow without bound */
	CHECK(esl_buffer_len(b) < 64 * 1024);
	esl_buffer_destroy(&b);
	free(model);
}

/* A block that arrives in many small pieces is found in linear time. */
static void test_incremental_scan(void)
{
	esl_buffer_t *b = NULL;
	size_t n = 2 * 1024 * 1024, i;
	char *out = malloc(n + 2);
	double t0 = eslt_now();

	esl_buffer_create(&b, 0, 0, 0);
	for (i = 0; i < n; i += 16) {
		esl_buffer_write(b, "abcdefghijklmn\r\n", 16);
		if (esl_buffer_read_packet(b, out, n + 2)) {
			CHECK(0);
			break;
		}
	}
	esl_buffer_write(b, "\n", 1);
	CHECK_INT(esl_buffer_read_packet(b, out, n + 2), n + 1);
	CHECK(eslt_now() - t0 < 10.0);
	esl_buffer_destroy(&b);
	free(out);
}

int main(void)
{
	ESLT_RUN(test_basics);
	ESLT_RUN(test_max_len);
	ESLT_RUN(test_packets);
	ESLT_RUN(test_loops);
	ESLT_RUN(test_model);
	ESLT_RUN(test_incremental_scan);
	return ESLT_DONE();
}
