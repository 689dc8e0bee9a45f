/*
 * esl_threadmutex.c: recursive mutexes and detached threads on pthreads.
 * Part of esl, an implementation of the libesl API.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* PTHREAD_MUTEX_RECURSIVE, PTHREAD_STACK_MIN */
#endif
#include "esl.h"

#include <limits.h>
#include <pthread.h>

struct esl_mutex {
	pthread_mutex_t mutex;
};

struct esl_thread {
	pthread_t handle;
	esl_thread_function_t function;
	void *private_data;
	size_t stack_size;
};

#define DEFAULT_STACK_SIZE (240 * 1024)

/* Read when a thread is created; accessed atomically since any thread may create threads. */
static size_t thread_default_stacksize = DEFAULT_STACK_SIZE;

ESL_DECLARE(void) esl_thread_override_default_stacksize(size_t size)
{
	__atomic_store_n(&thread_default_stacksize, size, __ATOMIC_RELAXED);
}

static void *thread_launch(void *args)
{
	esl_thread_t *thread = args;
	void *ret = thread->function(thread, thread->private_data);

	free(thread);
	return ret;
}

esl_status_t esl_thread_create_detached_ex(esl_thread_function_t func, void *data, size_t stack_size)
{
	esl_thread_t *thread;
	pthread_attr_t attr;
	int ok;

	if (!func) {
		return ESL_FAIL;
	}
	if (!(thread = calloc(1, sizeof(*thread)))) {
		return ESL_FAIL;
	}
	thread->function = func;
	thread->private_data = data;
	thread->stack_size = stack_size ? stack_size : __atomic_load_n(&thread_default_stacksize, __ATOMIC_RELAXED);
	if (thread->stack_size < (size_t) PTHREAD_STACK_MIN) {
		thread->stack_size = PTHREAD_STACK_MIN;
	}

	if (pthread_attr_init(&attr) != 0) {
		free(thread);
		return ESL_FAIL;
	}
	ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
		pthread_attr_setstacksize(&attr, thread->stack_size) == 0 &&
		pthread_create(&thread->handle, &attr, thread_launch, thread) == 0;
	pthread_attr_destroy(&attr);
	if (!ok) {
		free(thread);
		return ESL_FAIL;
	}
	/* The thread owns and frees the struct from here on. */
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_thread_create_detached(esl_thread_function_t func, void *data)
{
	return esl_thread_create_detached_ex(func, data, 0);
}

ESL_DECLARE(esl_status_t) esl_mutex_create(esl_mutex_t **mutex)
{
	esl_mutex_t *m;
	pthread_mutexattr_t attr;
	int ok;

	if (!mutex) {
		return ESL_FAIL;
	}
	*mutex = NULL;
	if (!(m = malloc(sizeof(*m)))) {
		return ESL_FAIL;
	}
	if (pthread_mutexattr_init(&attr) != 0) {
		free(m);
		return ESL_FAIL;
	}
	ok = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE) == 0 && pthread_mutex_init(&m->mutex, &attr) == 0;
	pthread_mutexattr_destroy(&attr);
	if (!ok) {
		free(m);
		return ESL_FAIL;
	}
	*mutex = m;
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_mutex_destroy(esl_mutex_t **mutex)
{
	esl_mutex_t *m;

	if (!mutex || !(m = *mutex)) {
		return ESL_FAIL;
	}
	*mutex = NULL;
	if (pthread_mutex_destroy(&m->mutex) != 0) {
		/* Still locked: leaking beats freeing memory a thread may be using. */
		return ESL_FAIL;
	}
	free(m);
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_mutex_lock(esl_mutex_t *mutex)
{
	if (!mutex || pthread_mutex_lock(&mutex->mutex) != 0) {
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_mutex_trylock(esl_mutex_t *mutex)
{
	if (!mutex || pthread_mutex_trylock(&mutex->mutex) != 0) {
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_mutex_unlock(esl_mutex_t *mutex)
{
	if (!mutex || pthread_mutex_unlock(&mutex->mutex) != 0) {
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}
