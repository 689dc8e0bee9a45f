//go:build cgo

/*
 * callbacks_shim.c: trampoline from libesl's listener threads into Go (see callbacks_shim.h).
 * It does nothing but forward: the listener thread has a small stack, and everything that can
 * fail or panic belongs on the Go side, where it is recovered.
 */
#include "callbacks_shim.h"
#include "_cgo_export.h"

#ifdef __linux__
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

void eslgo_listen_trampoline(esl_socket_t server_sock, esl_socket_t client_sock, struct sockaddr_in *addr, void *user_data)
{
	(void)server_sock;
	(void)addr; /* IPv4 only in the original; Go asks the socket for its peer when needed */
	eslgoListenCallback((int)client_sock, user_data, eslgo_thread_id());
}

long eslgo_thread_id(void)
{
#ifdef __linux__
	return (long)syscall(SYS_gettid);
#else
	return 0;
#endif
}

int eslgo_thread_alive(long tid)
{
#ifdef __linux__
	/* Signal 0 only checks that the thread exists; ESRCH means the kernel has reaped it. */
	if (tid <= 0) {
		return 0;
	}
	if (syscall(SYS_tgkill, (long)getpid(), tid, 0) == 0) {
		return 1;
	}
	return errno != ESRCH;
#else
	(void)tid;
	return 0;
#endif
}
