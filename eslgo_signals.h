/*
 * eslgo_signals.h: holding signals back while a thread waits inside an original libesl.
 *
 * Go signals every thread of the process: SIGURG to preempt goroutines, SIGPROF to
 * profile, and any signal sent to the process may land on a thread that waits in C. The
 * original libesl takes a wait that a signal interrupts (poll or accept failing with
 * EINTR) for a lost connection, or hands -1 to the listener callback as a socket. So
 * while a thread waits in it, the signals that can wait are blocked on that thread: they
 * stay pending and are delivered when the mask is restored, or go to another thread. The
 * faults that C code itself raises (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) are
 * never blocked, so Go still reports a crash in C. csrc takes EINTR up again itself:
 * built against it, nothing is blocked and no system call is spent.
 */
#ifndef ESLGO_SIGNALS_H
#define ESLGO_SIGNALS_H

#include <pthread.h>
#include <signal.h>

#include "esl.h"

typedef struct {
	sigset_t saved;
	int held;
} eslgo_held_signals_t;

static inline void eslgo_hold_signals(eslgo_held_signals_t *h)
{
	h->held = 0;
#ifndef ESL_HAVE_EXTENSIONS
	sigset_t wait;

	sigfillset(&wait);
	sigdelset(&wait, SIGSEGV);
	sigdelset(&wait, SIGBUS);
	sigdelset(&wait, SIGFPE);
	sigdelset(&wait, SIGILL);
	sigdelset(&wait, SIGTRAP);
	sigdelset(&wait, SIGSYS);
	h->held = pthread_sigmask(SIG_BLOCK, &wait, &h->saved) == 0;
#endif
}

static inline void eslgo_release_signals(const eslgo_held_signals_t *h)
{
	if (h->held) {
		pthread_sigmask(SIG_SETMASK, &h->saved, NULL);
	}
}

#endif
