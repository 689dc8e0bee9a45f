/*
 * esl_log_private.h: internal logging helpers.
 */
#ifndef ESL_LOG_PRIVATE_H
#define ESL_LOG_PRIVATE_H

/* True when a message of this level can reach a logger that uses it: a logger other than the
 * do-nothing one is installed and, for the built-in stderr logger, level passes its filter.
 * Callers test it before preparing expensive log text (for example serializing an event). */
int esl_log_enabled(int level);

#endif
