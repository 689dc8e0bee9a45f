/*
 * callbacks_shim.h: the C side of Go callbacks from libesl's listeners.
 *
 * esl_listen and esl_listen_threaded call a C function pointer, on the accept thread or on a
 * thread of their own. cgo cannot hand a Go function to C as a function pointer, so
 * eslgo_listen_trampoline is the esl_listen_callback_t given to C; it only forwards to the
 * exported Go function. Declarations only: this header reaches _cgo_export.h.
 */
#ifndef ESLGO_CALLBACKS_SHIM_H
#define ESLGO_CALLBACKS_SHIM_H

#include "esl.h"

/* An esl_listen_callback_t: forwards the accepted socket and user_data to Go. */
void eslgo_listen_trampoline(esl_socket_t server_sock, esl_socket_t client_sock, struct sockaddr_in *addr, void *user_data);

/* esl_listen_threaded and esl_listen with the calling thread's signals held back while they
 * wait (eslgo_signals.h); the session threads esl_listen_threaded starts inherit that mask. */
esl_status_t eslgo_listen_threaded(const char *host, esl_port_t port, void *user_data, int max);
esl_status_t eslgo_listen(const char *host, esl_port_t port, void *user_data);

#endif
