/*
 * esl_listen.c: outbound-mode servers: esl_listen, esl_listen_threaded and the esl_listener_*
 * extension (esl.h).
 *
 * Both original entry points are built on the listener: the host is honoured (Q23 partly
 * fixed: IPv4 or IPv6 through getaddrinfo; NULL or "" binds every IPv4 address), the accept
 * loop survives EINTR and transient accept errors instead of passing -1 to the callback, and
 * they still hand out non-blocking client sockets and treat max as the listen backlog.
 *
 * The callback's address argument is declared struct sockaddr_in *. It always points to
 * storage of sizeof(struct sockaddr_storage) holding the peer address: IPv4 peers (including
 * IPv4-mapped peers of a dual-stack IPv6 socket) appear as a plain AF_INET sockaddr_in;
 * other IPv6 peers keep sin_family == AF_INET6 and can be read by casting the pointer to
 * struct sockaddr_in6 *. Code that only knows sockaddr_in must check sin_family first.
 *
 * Accounting: a session counts as active from just before its thread starts until its
 * callback has returned; esl_listener_wait_idle waits on a condition variable for the count
 * to reach zero, and a session thread touches the listener for the last time when it
 * decrements the count. Stopping uses a self-pipe that the accept loop polls alongside the
 * listening socket, so esl_listener_stop works from any thread, including a callback.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>

#include "esl.h"

struct esl_listener {
	esl_socket_t sock;
	int port;
	/* self-pipe: esl_listener_stop writes one byte, the accept loop wakes */
	int wake[2];
	int stopped;
	/* esl_listen and esl_listen_threaded hand out non-blocking sockets, as the original does */
	int nonblock_clients;
	/* the listening socket was found closed by someone else: not ours to close again */
	int sock_gone;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int active;
	uint64_t accepted;
	uint64_t refused;
};

typedef struct {
	esl_listener_t *listener;
	esl_listen_callback_t callback;
	void *user_data;
	esl_socket_t server_sock;
	esl_socket_t client_sock;
	struct sockaddr_storage addr;
} session_t;

static void put_err(char *err, size_t errlen, const char *what, const char *host, int port, const char *why)
{
	if (err && errlen) {
		snprintf(err, errlen, "%s %s port %d: %s", what, esl_strlen_zero(host) ? "*" : host, port, why);
	}
}

ESL_DECLARE(esl_status_t) esl_listener_create(esl_listener_t **listener, const char *host, esl_port_t port, int backlog, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char portstr[16];
	esl_listener_t *l;
	esl_socket_t fd = ESL_SOCK_INVALID;
	pthread_condattr_t cattr;
	int gai, one = 1, last_errno = 0, uport = (uint16_t) port;

	if (err && errlen) {
		err[0] = '\0';
	}
	if (!listener) {
		return ESL_FAIL;
	}
	*listener = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = esl_strlen_zero(host) ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", uport);
	if ((gai = getaddrinfo(esl_strlen_zero(host) ? NULL : host, portstr, &hints, &res)) != 0) {
		put_err(err, errlen, "cannot resolve", host, uport, gai_strerror(gai));
		return ESL_FAIL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
			continue;
		}
		if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, ai->ai_protocol)) < 0) {
			last_errno = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog > 0 ? backlog : SOMAXCONN) == 0) {
			break;
		}
		last_errno = errno;
		close(fd);
		fd = ESL_SOCK_INVALID;
	}
	freeaddrinfo(res);
	if (fd == ESL_SOCK_INVALID) {
		put_err(err, errlen, "cannot listen on", host, uport, last_errno ? strerror(last_errno) : "no usable address");
		return ESL_FAIL;
	}
	if (!(l = calloc(1, sizeof(*l)))) {
		close(fd);
		put_err(err, errlen, "cannot listen on", host, uport, strerror(ENOMEM));
		return ESL_FAIL;
	}
	l->sock = fd;
	if (getsockname(fd, (struct sockaddr *) &ss, &slen) == 0) {
		l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port : ((struct sockaddr_in *) &ss)->sin_port);
	}
	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		last_errno = errno;
		close(fd);
		free(l);
		put_err(err, errlen, "cannot listen on", host, uport, strerror(last_errno));
		return ESL_FAIL;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->idle, &cattr);
	pthread_condattr_destroy(&cattr);
	*listener = l;
	return ESL_SUCCESS;
}

ESL_DECLARE(int) esl_listener_port(esl_listener_t *listener)
{
	return listener ? listener->port : -1;
}

ESL_DECLARE(esl_socket_t) esl_listener_socket(esl_listener_t *listener)
{
	return listener ? listener->sock : ESL_SOCK_INVALID;
}

static void session_done(esl_listener_t *l)
{
	pthread_mutex_lock(&l->lock);
	if (--l->active == 0) {
		pthread_cond_broadcast(&l->idle);
	}
	pthread_mutex_unlock(&l->lock);
}

static void *session_main(esl_thread_t *thread, void *arg)
{
	session_t *s = arg;
	esl_listener_t *l = s->listener;

	(void) thread;
	s->callback(s->server_sock, s->client_sock, (struct sockaddr_in *) (void *) &s->addr, s->user_data);
	free(s);
	/* the last touch of the listener: after this it may be destroyed */
	session_done(l);
	return NULL;
}

/* Presents IPv4-mapped IPv6 peers as plain IPv4 (see the top of the file). */
static void normalize_peer(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) (void *) ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		struct sockaddr_in s4;

		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_port = s6->sin6_port;
		memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &s4, sizeof(s4));
	}
}

/* Accept errors after which the loop goes on: the peer went away, or resources are short for a
 * moment (then a short pause, which esl_listener_stop still interrupts). */
static int accept_error_transient(esl_listener_t *l, int e)
{
	switch (e) {
	case EINTR:
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EOPNOTSUPP:
	case ETIMEDOUT:
		return 1;
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM: {
		struct pollfd pfd = { l->wake[0], POLLIN, 0 };
		poll(&pfd, 1, 100);
		return 1;
	}
	default:
		return 0;
	}
}

ESL_DECLARE(esl_status_t) esl_listener_serve(esl_listener_t *l, esl_listen_callback_t callback, void *user_data, int threaded, int max_sessions)
{
	if (!l || !callback) {
		return ESL_FAIL;
	}
	for (;;) {
		struct pollfd pfd[2];
		struct sockaddr_storage ss;
		socklen_t slen = sizeof(ss);
		esl_socket_t client;
		int r;

		if (__atomic_load_n(&l->stopped, __ATOMIC_ACQUIRE)) {
			return ESL_SUCCESS;
		}
		pfd[0].fd = l->sock;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = l->wake[0];
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		r = poll(pfd, 2, -1);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			return ESL_FAIL;
		}
		if (pfd[1].revents) {
			/* stopped; the byte stays in the pipe so later serve calls return at once too */
			return ESL_SUCCESS;
		}
		if (pfd[0].revents & POLLNVAL) {
			l->sock_gone = 1;
			return ESL_FAIL;
		}
		if (!(pfd[0].revents & (POLLIN | POLLERR | POLLHUP))) {
			continue;
		}
		memset(&ss, 0, sizeof(ss));
		client = accept4(l->sock, (struct sockaddr *) &ss, &slen, SOCK_CLOEXEC | (l->nonblock_clients ? SOCK_NONBLOCK : 0));
		if (client < 0) {
			if (accept_error_transient(l, errno)) {
				continue;
			}
			l->sock_gone = errno == EBADF || errno == ENOTSOCK;
			return ESL_FAIL;
		}
		normalize_peer(&ss);

		pthread_mutex_lock(&l->lock);
		if (max_sessions > 0 && l->active >= max_sessions) {
			l->refused++;
			pthread_mutex_unlock(&l->lock);
			close(client);
			continue;
		}
		l->active++;
		pthread_mutex_unlock(&l->lock);

		if (threaded) {
			session_t *s = malloc(sizeof(*s));

			if (s) {
				s->listener = l;
				s->callback = callback;
				s->user_data = user_data;
				s->server_sock = l->sock;
				s->client_sock = client;
				memcpy(&s->addr, &ss, sizeof(ss));
			}
			if (!s || esl_thread_create_detached(session_main, s) != ESL_SUCCESS) {
				/* no thread to serve it: the connection is closed and counted as refused */
				free(s);
				close(client);
				pthread_mutex_lock(&l->lock);
				l->refused++;
				pthread_mutex_unlock(&l->lock);
				session_done(l);
				continue;
			}
			pthread_mutex_lock(&l->lock);
			l->accepted++;
			pthread_mutex_unlock(&l->lock);
		} else {
			pthread_mutex_lock(&l->lock);
			l->accepted++;
			pthread_mutex_unlock(&l->lock);
			callback(l->sock, client, (struct sockaddr_in *) (void *) &ss, user_data);
			session_done(l);
		}
	}
}

ESL_DECLARE(esl_status_t) esl_listener_stop(esl_listener_t *listener)
{
	if (!listener) {
		return ESL_FAIL;
	}
	if (!__atomic_exchange_n(&listener->stopped, 1, __ATOMIC_ACQ_REL)) {
		ssize_t n;
		do {
			n = write(listener->wake[1], "x", 1);
		} while (n < 0 && errno == EINTR);
	}
	return ESL_SUCCESS;
}

ESL_DECLARE(int) esl_listener_wait_idle(esl_listener_t *l, uint32_t ms)
{
	struct timespec deadline;
	int n;

	if (!l) {
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long) (ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->lock);
	while (l->active > 0) {
		if (ms == 0) {
			pthread_cond_wait(&l->idle, &l->lock);
		} else if (pthread_cond_timedwait(&l->idle, &l->lock, &deadline) == ETIMEDOUT) {
			break;
		}
	}
	n = l->active;
	pthread_mutex_unlock(&l->lock);
	return n;
}

ESL_DECLARE(void) esl_listener_stats(esl_listener_t *l, uint64_t *accepted, uint64_t *refused, int *active)
{
	if (!l) {
		return;
	}
	pthread_mutex_lock(&l->lock);
	if (accepted) {
		*accepted = l->accepted;
	}
	if (refused) {
		*refused = l->refused;
	}
	if (active) {
		*active = l->active;
	}
	pthread_mutex_unlock(&l->lock);
}

/* Waits for running sessions first, so a session thread never outlives the memory it uses. */
ESL_DECLARE(void) esl_listener_destroy(esl_listener_t **listener)
{
	esl_listener_t *l;

	if (!listener || !(l = *listener)) {
		return;
	}
	*listener = NULL;
	esl_listener_wait_idle(l, 0);
	if (l->sock != ESL_SOCK_INVALID && !l->sock_gone) {
		close(l->sock);
	}
	close(l->wake[0]);
	close(l->wake[1]);
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* Shared body of esl_listen and esl_listen_threaded. */
static esl_status_t listen_classic(const char *host, esl_port_t port, esl_listen_callback_t callback, void *user_data, esl_socket_t *server_sockP, int threaded, int backlog)
{
	esl_listener_t *l = NULL;
	esl_status_t st;

	if (!callback || esl_listener_create(&l, host, port, backlog, NULL, 0) != ESL_SUCCESS) {
		return ESL_FAIL;
	}
	l->nonblock_clients = 1;
	if (server_sockP) {
		*server_sockP = l->sock;
	}
	st = esl_listener_serve(l, callback, user_data, threaded, 0);
	esl_listener_destroy(&l);
	return st == ESL_SUCCESS ? ESL_SUCCESS : ESL_FAIL;
}

ESL_DECLARE(esl_status_t) esl_listen(const char *host, esl_port_t port, esl_listen_callback_t callback, void *user_data, esl_socket_t *server_sockP)
{
	return listen_classic(host, port, callback, user_data, server_sockP, 0, 10000);
}

ESL_DECLARE(esl_status_t) esl_listen_threaded(const char *host, esl_port_t port, esl_listen_callback_t callback, void *user_data, int max)
{
	return listen_classic(host, port, callback, user_data, NULL, 1, max);
}
