/*
 * esl_event_private.h: internal contract between the event code and the wire parser.
 *
 * The wire parser builds each received event in a single allocation (one malloc per
 * event instead of several per header). Such an event has ESL_EF_ARENA set in flags and
 * is laid out as
 *
 *     [esl_event_arena_t][esl_event_t][headers, array slots, names, values, body ...]
 *
 * in one block that starts at the arena header. Any part of the event (a header struct,
 * name, value, array, array element, body, subclass_name) may live inside the block or,
 * after later changes through the public API, on the heap on its own. Code that frees a
 * part must therefore go through esl_event_free_part(), and esl_event_destroy() frees the
 * block itself last. esl_event_dup() never copies ESL_EF_ARENA.
 *
 * A header array that lives on the heap is always one allocated by esl_event.c, which keeps
 * bookkeeping after the slots (so pushes append to the rendered value in linear time).
 * Other code builds arrays only inside the block, or through the event API; it never
 * mallocs or reallocs a header's array itself.
 */
#ifndef ESL_EVENT_PRIVATE_H
#define ESL_EVENT_PRIVATE_H

#include <stddef.h>

#include "esl.h"

/* Internal flag bit, kept clear of the public esl_event_flag_t values. */
#define ESL_EF_ARENA (1 << 30)
/* Set by the wire parser on an arena event whose header structs are one array right after
 * the event struct, followed by every name and value, each NUL-terminated and free of NUL
 * bytes, name then value, in header order (see esl_wire_event_text). Never copied. */
#define ESL_EF_WIRE_TEXT (1 << 29)

typedef struct esl_event_arena {
	/* bytes from the start of the event struct to the end of the block */
	size_t size;
	/* keeps the event struct that follows aligned for any type */
	max_align_t align;
} esl_event_arena_t;

static inline esl_event_arena_t *esl_event_arena_of(const esl_event_t *event)
{
	return ((esl_event_arena_t *) (void *) event) - 1;
}

/* True when p points into the single block of an arena event. */
static inline int esl_event_in_arena(const esl_event_t *event, const void *p)
{
	const char *base, *cp = (const char *) p;

	if (!event || !(event->flags & ESL_EF_ARENA) || !p) {
		return 0;
	}
	base = (const char *) event;
	return cp >= base && cp < base + esl_event_arena_of(event)->size;
}

/* Frees one part of an event unless it lives in the event's block. */
static inline void esl_event_free_part(const esl_event_t *event, void *p)
{
	if (p && !esl_event_in_arena(event, p)) {
		free(p);
	}
}

#endif
