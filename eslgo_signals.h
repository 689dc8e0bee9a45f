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
 * built against it, the call is made as it is, with no system call spent.
 */
#ifndef ESLGO_SIGNALS_H
#define ESLGO_SIGNALS_H

#include <pthread.h>
#include <signal.h>

#include "esl.h"

#ifdef ESL_HAVE_EXTENSIONS
/* st = call */
#define ESLGO_HOLDING_SIGNALS(st, call) ((st) = (call))
#else
/* Blocks the signals that can wait on this thread, the previous mask in saved; 0 if it
 * could not (then nothing was changed). */
static inline int eslgo_block_waitable(sigset_t *saved)
{
	sigset_t wait;

	sigfillset(&wait);
	sigdelset(&wait, SIGSEGV);
	sigdelset(&wait, SIGBUS);
	sigdelset(&wait, SIGFPE);
	sigdelset(&wait, SIGILL);
	sigdelset(&wait, SIGTRAP);
	sigdelset(&wait, SIGSYS);
	return pthread_sigmask(SIG_BLOCK, &wait, saved) == 0;
}

/* st = call, made with the signals that can wait held back on this thread */
#define ESLGO_HOLDING_SIGNALS(st, call)                           \
	do {                                                          \
		sigset_t eslgo_saved_;                                    \
		int eslgo_held_ = eslgo_block_waitable(&eslgo_saved_);    \
		(st) = (call);                                            \
		if (eslgo_held_) {                                        \
			pthread_sigmask(SIG_SETMASK, &eslgo_saved_, NULL);    \
		}                                                         \
	} while (0)
#endif

#endif
