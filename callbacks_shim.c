//go:build cgo

/*
 * callbacks_shim.c: trampoline from libesl's listener threads into Go (see callbacks_shim.h).
 * It does nothing but forward: the listener thread has a small stack, and everything that can
 * fail or panic belongs on the Go side, where it is recovered.
 */
#include "callbacks_shim.h"
#include "eslgo_signals.h"
#include "_cgo_export.h"

void eslgo_listen_trampoline(esl_socket_t server_sock, esl_socket_t client_sock, struct sockaddr_in *addr, void *user_data)
{
	(void)server_sock;
	(void)addr; /* IPv4 only in the original; Go asks the socket for its peer when needed */
	eslgoListenCallback((int)client_sock, user_data);
}

esl_status_t eslgo_listen_threaded(const char *host, esl_port_t port, void *user_data, int max)
{
	esl_status_t st;

	ESLGO_HOLDING_SIGNALS(st, esl_listen_threaded(host, port, eslgo_listen_trampoline, user_data, max));
	return st;
}

esl_status_t eslgo_listen(const char *host, esl_port_t port, void *user_data)
{
	esl_status_t st;

	ESLGO_HOLDING_SIGNALS(st, esl_listen(host, port, eslgo_listen_trampoline, user_data, NULL));
	return st;
}
