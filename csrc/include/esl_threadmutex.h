/*
 * esl_threadmutex.h: recursive mutexes and detached threads.
 * Part of esl, an implementation of the libesl API.
 */
#ifndef ESL_THREADMUTEX_H
#define ESL_THREADMUTEX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esl_mutex esl_mutex_t;
typedef struct esl_thread esl_thread_t;
typedef void *(*esl_thread_function_t)(esl_thread_t *, void *);

/* Starts func(thread, data) on a detached thread with the default stack size. */
ESL_DECLARE(esl_status_t) esl_thread_create_detached(esl_thread_function_t func, void *data);
/* The same with an explicit stack size in bytes (0 means the default). */
esl_status_t esl_thread_create_detached_ex(esl_thread_function_t func, void *data, size_t stack_size);
/* Changes the default stack size of later detached threads (240 KiB at start). */
ESL_DECLARE(void) esl_thread_override_default_stacksize(size_t size);

/* Creates a recursive mutex. */
ESL_DECLARE(esl_status_t) esl_mutex_create(esl_mutex_t **mutex);
/* Destroys the mutex and sets *mutex to NULL; ESL_FAIL when *mutex is NULL. */
ESL_DECLARE(esl_status_t) esl_mutex_destroy(esl_mutex_t **mutex);
ESL_DECLARE(esl_status_t) esl_mutex_lock(esl_mutex_t *mutex);
/* ESL_FAIL when another thread holds the mutex. */
ESL_DECLARE(esl_status_t) esl_mutex_trylock(esl_mutex_t *mutex);
ESL_DECLARE(esl_status_t) esl_mutex_unlock(esl_mutex_t *mutex);

#ifdef __cplusplus
}
#endif

#endif
