/*
 * esl_buffer.h: a growable FIFO byte buffer with a read head.
 * Part of esl, an implementation of the libesl API.
 */
#ifndef ESL_BUFFER_H
#define ESL_BUFFER_H

#ifdef __cplusplus
extern "C" {
#endif

struct esl_buffer;
typedef struct esl_buffer esl_buffer_t;

/* start_len 0 becomes 250, blocksize 0 becomes start_len, max_len 0 means no maximum. */
ESL_DECLARE(esl_status_t) esl_buffer_create(esl_buffer_t **buffer, esl_size_t blocksize, esl_size_t start_len, esl_size_t max_len);
/* Allocated size. */
ESL_DECLARE(esl_size_t) esl_buffer_len(esl_buffer_t *buffer);
/* max_len minus the bytes in use, or 1000000 when there is no maximum. */
ESL_DECLARE(esl_size_t) esl_buffer_freespace(esl_buffer_t *buffer);
/* Unread bytes. */
ESL_DECLARE(esl_size_t) esl_buffer_inuse(esl_buffer_t *buffer);
/* Consumes up to datalen bytes into data; returns the count. */
ESL_DECLARE(esl_size_t) esl_buffer_read(esl_buffer_t *buffer, void *data, esl_size_t datalen);
/* Consumes one complete header block (up to and including LF [CR] LF) into data,
 * at most maxlen bytes; returns its length, or 0 when no complete block is buffered. */
ESL_DECLARE(esl_size_t) esl_buffer_read_packet(esl_buffer_t *buffer, void *data, esl_size_t maxlen);
/* Number of complete header blocks buffered. */
ESL_DECLARE(esl_size_t) esl_buffer_packet_count(esl_buffer_t *buffer);
/* Reads like esl_buffer_read, rewinding to the start as many times as set by esl_buffer_set_loops. */
ESL_DECLARE(esl_size_t) esl_buffer_read_loop(esl_buffer_t *buffer, void *data, esl_size_t datalen);
ESL_DECLARE(void) esl_buffer_set_loops(esl_buffer_t *buffer, int32_t loops);
/* Appends; returns the bytes in use, or 0 when max_len would be exceeded or memory ran out. */
ESL_DECLARE(esl_size_t) esl_buffer_write(esl_buffer_t *buffer, const void *data, esl_size_t datalen);
/* Drops up to datalen unread bytes; returns the bytes still in use. */
ESL_DECLARE(esl_size_t) esl_buffer_toss(esl_buffer_t *buffer, esl_size_t datalen);
ESL_DECLARE(void) esl_buffer_zero(esl_buffer_t *buffer);
ESL_DECLARE(void) esl_buffer_destroy(esl_buffer_t **buffer);
/* Moves the read head forward by up to datalen bytes; returns how far it moved. */
ESL_DECLARE(esl_size_t) esl_buffer_seek(esl_buffer_t *buffer, esl_size_t datalen);
/* Writes; on failure empties the buffer and writes again. */
ESL_DECLARE(esl_size_t) esl_buffer_zwrite(esl_buffer_t *buffer, const void *data, esl_size_t datalen);

#ifdef __cplusplus
}
#endif

#endif
