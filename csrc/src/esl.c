/*
 * esl.c: the connection API (spec section 3) on top of the wire parser (esl_wire.h).
 *
 * Per-handle state that the fixed esl_handle_t layout has no room for lives in an esl_conn_t
 * that handle->packet_buf points to (the field is internal; its declared type is never
 * dereferenced): the parser, the receive limits, a write lock, the tail of race_event, the
 * count of replies owed to timed-out esl_send_recv_timed calls, and the count of threads
 * inside calls on the handle.
 *
 * Handle lifetime (Q27 fixed): each public call registers in conn->users under one
 * process-wide lock before it touches the handle, and deregisters on return. esl_disconnect
 * marks the handle closing (later calls fail at once), shuts the socket down so that blocked
 * readers and writers wake, waits until users drops to zero, and only then frees the events,
 * the parser and the mutex. So no thread can be waiting on, or about to use, the mutex when
 * it is destroyed, and once esl_disconnect returns no thread of ours uses the handle.
 *
 * Receiving: reads of 8 KiB at first, growing while they come back full up to 1 MiB (see
 * esl_wire.c), straight into the parser's buffer (or into the body of a large message).
 * Sockets are read with MSG_DONTWAIT and polled only when they had nothing, so blocking and
 * non-blocking sockets (esl_listen hands out the latter) behave alike; esl_recv_event_nowait
 * never polls at all. esl_recv_take_nowait (for the Go binding) hands event messages over as
 * spans of the parser's buffer, with no esl_event_t built.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <sys/uio.h>

#include "esl.h"
#include "esl_log_private.h"
#include "esl_wire.h"

typedef struct esl_conn {
	esl_wire_t *wire;
	/* serializes writes, so concurrent esl_send calls never interleave their bytes */
	pthread_mutex_t wlock;
	/* the last event of race_event, so appending stays O(1) */
	esl_event_t *race_tail;
	/* replies of timed-out esl_send_recv_timed calls, dropped when they arrive (Q15) */
	unsigned owed;
	/* limits asked for with esl_handle_set_limits; applied before each parse */
	size_t max_header;
	size_t max_body;
	/* threads inside public calls on this handle; guarded by g_lock */
	unsigned users;
	/* set once by esl_disconnect; read by blocked loops without the lock */
	int closing;
	/* the socket was set up by connect/attach and is ours to close */
	int owns_sock;
	/* the descriptor is not a socket: it is polled before each read (no MSG_DONTWAIT) */
	int not_sock;
	/* inner events are left for the caller to decode (esl_handle_keep_inner) */
	int keep_inner;
} esl_conn_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_idle = PTHREAD_COND_INITIALIZER;

/* Unbounded waits still wake this often, to notice a closed handle. */
#define WAIT_SLICE_MS 1000

static esl_conn_t *conn_of(const esl_handle_t *h)
{
	return (esl_conn_t *) (void *) h->packet_buf;
}

static int conn_closing(const esl_conn_t *c)
{
	return __atomic_load_n(&c->closing, __ATOMIC_ACQUIRE);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (0 = none: -1 returned), never negative otherwise. */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (!deadline) {
		return -1;
	}
	left = deadline - now_ms();
	if (left <= 0) {
		return 0;
	}
	return left > INT_MAX ? INT_MAX : (int) left;
}

static void set_err(esl_handle_t *h, int errnum, const char *msg)
{
	h->errnum = errnum;
	snprintf(h->err, sizeof(h->err), "%s", msg);
}

static void set_errno_err(esl_handle_t *h, int e)
{
	char buf[200];
	const char *msg;

#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	msg = strerror_r(e, buf, sizeof(buf));
#else
	msg = strerror_r(e, buf, sizeof(buf)) == 0 ? buf : NULL;
#endif
	if (!msg) {
		snprintf(buf, sizeof(buf), "socket error %d", e);
		msg = buf;
	}
	set_err(h, e, msg);
}

/* Registers the calling thread as a user of the handle; NULL when it is closed or closing. */
static esl_conn_t *enter(esl_handle_t *h)
{
	esl_conn_t *c = NULL;

	if (!h) {
		return NULL;
	}
	pthread_mutex_lock(&g_lock);
	if (!h->destroyed && (c = conn_of(h)) && !c->closing) {
		c->users++;
	} else {
		c = NULL;
	}
	pthread_mutex_unlock(&g_lock);
	return c;
}

static void leave(esl_conn_t *c)
{
	pthread_mutex_lock(&g_lock);
	if (--c->users == 0 && c->closing) {
		pthread_cond_broadcast(&g_idle);
	}
	pthread_mutex_unlock(&g_lock);
}

/* Creates the per-handle state and the mutex when missing. */
static esl_conn_t *conn_setup(esl_handle_t *h)
{
	esl_conn_t *c;

	pthread_mutex_lock(&g_lock);
	c = conn_of(h);
	if (!c) {
		if ((c = calloc(1, sizeof(*c))) && (c->wire = esl_wire_create()) && !pthread_mutex_init(&c->wlock, NULL)) {
			c->max_header = ESL_DEFAULT_MAX_HEADER_BLOCK;
			c->max_body = ESL_DEFAULT_MAX_BODY;
			h->packet_buf = (esl_buffer_t *) (void *) c;
		} else {
			if (c) {
				esl_wire_destroy(&c->wire);
				free(c);
			}
			c = NULL;
		}
	}
	pthread_mutex_unlock(&g_lock);
	if (c && !h->mutex && esl_mutex_create(&h->mutex) != ESL_SUCCESS) {
		return NULL;
	}
	return c;
}

/* Starts a new session on the handle's state: a socket of an earlier session that was never
 * disconnected is closed, and bytes or replies left from it are forgotten. */
static void conn_new_session(esl_handle_t *h, esl_conn_t *c, esl_socket_t keep)
{
	if (c->owns_sock && h->sock != ESL_SOCK_INVALID && h->sock != keep) {
		close(h->sock);
	}
	c->owns_sock = 0;
	h->sock = ESL_SOCK_INVALID;
	esl_wire_reset(c->wire);
	c->not_sock = 0;
	c->owed = 0;
	c->race_tail = NULL;
}

static int is_reply(esl_event_t *ev)
{
	const char *ct = esl_event_get_header(ev, "content-type");
	return !ct || !strcasecmp(ct, "api/response") || !strcasecmp(ct, "command/reply");
}

/* ------------------------------------------------------------------------------------ */
/* sending */

/* Writes all of a and then b, looping on partial writes, EINTR and (for non-blocking
 * sockets) EAGAIN. MSG_NOSIGNAL: a closed peer gives EPIPE, not a process-killing SIGPIPE. */
static esl_status_t write_all(esl_handle_t *h, esl_conn_t *c, const char *a, size_t alen, const char *b, size_t blen)
{
	struct iovec iov[2];
	int n = 0, use_writev = 0;

	iov[0].iov_base = (void *) a;
	iov[0].iov_len = alen;
	iov[1].iov_base = (void *) b;
	iov[1].iov_len = blen;
	while (n < 2) {
		ssize_t w;

		if (!iov[n].iov_len) {
			n++;
			continue;
		}
		if (use_writev) {
			w = writev(h->sock, iov + n, 2 - n);
		} else {
			struct msghdr mh;
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov + n;
			mh.msg_iovlen = (size_t) (2 - n);
			w = sendmsg(h->sock, &mh, MSG_NOSIGNAL);
		}
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			if (errno == ENOTSOCK && !use_writev) {
				use_writev = 1;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pfd = { h->sock, POLLOUT, 0 };
				if (conn_closing(c) || !h->connected) {
					set_err(h, 0, "Not connected");
					return ESL_FAIL;
				}
				if (poll(&pfd, 1, WAIT_SLICE_MS) < 0 && errno != EINTR) {
					break;
				}
				continue;
			}
			break;
		}
		while (w > 0 && n < 2) {
			if ((size_t) w >= iov[n].iov_len) {
				w -= (ssize_t) iov[n].iov_len;
				iov[n].iov_len = 0;
				n++;
			} else {
				iov[n].iov_base = (char *) iov[n].iov_base + w;
				iov[n].iov_len -= (size_t) w;
				w = 0;
			}
		}
	}
	if (n < 2) {
		set_errno_err(h, errno);
		h->connected = 0;
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

static esl_status_t send_cmd(esl_handle_t *h, esl_conn_t *c, const char *cmd)
{
	size_t len;
	int tail;
	esl_status_t st;

	if (!h->connected || h->sock == ESL_SOCK_INVALID) {
		return ESL_FAIL;
	}
	if (esl_strlen_zero(cmd)) {
		set_err(h, 0, "empty command");
		return ESL_FAIL;
	}
	len = strlen(cmd);
	/* every command ends with an empty line; add it unless the text already has one */
	tail = !(len >= 2 && cmd[len - 1] == '\n' && cmd[len - 2] == '\n');
	if (esl_log_enabled(ESL_LOG_LEVEL_DEBUG)) {
		esl_log(ESL_LOG_DEBUG, "SEND\n%s\n", cmd);
	}
	pthread_mutex_lock(&c->wlock);
	st = write_all(h, c, cmd, len, "\n\n", tail ? 2 : 0);
	pthread_mutex_unlock(&c->wlock);
	return st;
}

/* ------------------------------------------------------------------------------------ */
/* receiving */

/* Reads once into the parser without waiting: 1 when bytes came, 0 when there was nothing
 * to read, -1 when the connection ended (err set, connected = 0). Sockets are read with
 * MSG_DONTWAIT whatever their mode, so a read costs no poll first; other descriptors are
 * polled with a zero timeout before their read. */
static int read_now(esl_handle_t *h, esl_conn_t *c)
{
	for (;;) {
		ssize_t n;
		size_t room;
		void *p;

		if (!(p = esl_wire_reserve(c->wire, &room))) {
			set_err(h, ENOMEM, "out of memory");
			h->connected = 0;
			return -1;
		}
		if (!c->not_sock) {
			n = recv(h->sock, p, room, MSG_DONTWAIT);
			if (n < 0 && errno == ENOTSOCK) {
				esl_wire_commit(c->wire, 0);
				c->not_sock = 1;
				continue;
			}
		} else {
			struct pollfd pfd = { h->sock, POLLIN, 0 };
			int r = poll(&pfd, 1, 0);

			if (r == 0) {
				esl_wire_commit(c->wire, 0);
				return 0;
			}
			n = r < 0 ? -1 : read(h->sock, p, room);
		}
		if (n > 0) {
			esl_wire_commit(c->wire, (size_t) n);
			return 1;
		}
		esl_wire_commit(c->wire, 0);
		if (n == 0) {
			/* say so when a half-received message is lost with the connection */
			set_err(h, 0, esl_wire_buffered(c->wire) ? "Connection closed by peer in the middle of a message" : "Connection closed by peer");
			h->connected = 0;
			return -1;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return 0;
		}
		set_errno_err(h, errno);
		h->connected = 0;
		return -1;
	}
}

/* Reads once into the parser, waiting for readability until deadline (0 = no deadline).
 * ESL_BREAK when the deadline passed. The read comes first and the poll only when the
 * socket had nothing, which saves a system call per read while messages stream in. */
static esl_status_t fill(esl_handle_t *h, esl_conn_t *c, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd;
		int wait, r;

		if (!h->connected || conn_closing(c)) {
			if (!h->err[0]) {
				set_err(h, 0, "Not connected");
			}
			h->connected = 0;
			return ESL_FAIL;
		}
		wait = remaining_ms(deadline);
		if (wait == 0) {
			return ESL_BREAK;
		}
		if ((r = read_now(h, c)) != 0) {
			return r > 0 ? ESL_SUCCESS : ESL_FAIL;
		}
		if (wait < 0 || wait > WAIT_SLICE_MS) {
			wait = WAIT_SLICE_MS;
		}
		pfd.fd = h->sock;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, wait);
		if (r < 0 && errno != EINTR) {
			set_errno_err(h, errno);
			h->connected = 0;
			return ESL_FAIL;
		}
	}
}

/* Reads once into the parser if that can be done without waiting; ESL_BREAK when the socket
 * has nothing now. (A read that took less than it could does not prove the socket empty: an
 * end of stream that came with the last bytes shows only on the next read.) */
static esl_status_t fill_nowait(esl_handle_t *h, esl_conn_t *c)
{
	int r;

	if (!h->connected || conn_closing(c)) {
		if (!h->err[0]) {
			set_err(h, 0, "Not connected");
		}
		h->connected = 0;
		return ESL_FAIL;
	}
	if ((r = read_now(h, c)) > 0) {
		return ESL_SUCCESS;
	}
	return r == 0 ? ESL_BREAK : ESL_FAIL;
}

/* A receive's way of taking event messages without an esl_event_t (esl_recv_take_nowait);
 * fn NULL for none. */
typedef struct {
	esl_wire_take_fn fn;
	void *ctx;
} take_t;

/* The next message from the socket. Replies owed to timed-out calls are dropped here. With
 * take, the event messages esl_wire_take_event offers go to it first; ESL_SUCCESS with *out
 * NULL when it asked to stop. */
static esl_status_t read_message(esl_handle_t *h, esl_conn_t *c, int64_t deadline, int nowait, take_t take, esl_event_t **out)
{
	*out = NULL;
	for (;;) {
		esl_event_t *ev = NULL;
		esl_wire_status_t ws = ESL_WIRE_MORE;
		esl_status_t st;
		int r = -2;

		esl_wire_set_limits(c->wire, __atomic_load_n(&c->max_header, __ATOMIC_RELAXED), __atomic_load_n(&c->max_body, __ATOMIC_RELAXED));
		if (take.fn && (r = esl_wire_take_event(c->wire, take.fn, take.ctx)) == ESL_WIRE_TAKEN) {
			continue;
		}
		if (r == ESL_WIRE_TAKEN_STOP) {
			return ESL_SUCCESS;
		}
		/* a message not whole yet is read on, not begun by esl_wire_next (it would copy the
		 * body into an event) */
		if (r != -1) {
			ws = esl_wire_next(c->wire, &ev);
		}
		if (ws == ESL_WIRE_MESSAGE) {
			if (c->owed && is_reply(ev)) {
				c->owed--;
				esl_event_destroy(&ev);
				continue;
			}
			*out = ev;
			return ESL_SUCCESS;
		}
		if (ws == ESL_WIRE_ERROR) {
			const char *why = esl_wire_error(c->wire);
			set_err(h, why[0] && !strcmp(why, "out of memory") ? ENOMEM : 0, why);
			h->connected = 0;
			return ESL_FAIL;
		}
		if ((st = nowait ? fill_nowait(h, c) : fill(h, c, deadline)) != ESL_SUCCESS) {
			return st;
		}
	}
}

/* Stores a received message and applies spec 13.4; decode selects the inner-event step. */
static esl_status_t deliver(esl_handle_t *h, esl_conn_t *c, esl_event_t *ev, esl_event_t **save_event, int decode)
{
	const char *rt, *ct;

	if (save_event) {
		*save_event = ev;
	} else {
		esl_event_destroy(&h->last_event);
		h->last_event = ev;
	}
	rt = esl_event_get_header(ev, "reply-text");
	if (!esl_strlen_zero(rt)) {
		esl_copy_string(h->last_reply, rt, sizeof(h->last_reply));
	}
	if (esl_log_enabled(ESL_LOG_LEVEL_DEBUG)) {
		char *s = NULL;
		esl_event_serialize(ev, &s, ESL_FALSE);
		esl_log(ESL_LOG_DEBUG, "RECV MESSAGE\n%s\n", s ? s : "");
		free(s);
	}
	ct = esl_event_get_header(ev, "content-type");
	if (ct && ev->body && !strcasecmp(ct, "text/disconnect-notice")) {
		const char *disp = esl_event_get_header(ev, "content-disposition");
		if (!disp || strcasecmp(disp, "linger")) {
			set_err(h, 0, "Disconnected by the server");
			h->connected = 0;
			return ESL_FAIL;
		}
	}
	if (decode && ct && ev->body && !__atomic_load_n(&c->keep_inner, __ATOMIC_RELAXED) &&
		esl_wire_decode_inner(c->wire, ev, &h->last_ievent) != ESL_SUCCESS) {
		set_err(h, ENOMEM, "out of memory");
		h->connected = 0;
		return ESL_FAIL;
	}
	return ESL_SUCCESS;
}

/* esl_recv_event with the lock held; deadline (0 = none) bounds the whole receive, -1 asks
 * for no wait at all (ESL_BREAK when no message can be had without one). With take, see
 * esl_recv_take_nowait. */
static esl_status_t recv_locked(esl_handle_t *h, esl_conn_t *c, int check_q, esl_event_t **save_event, int64_t deadline,
								take_t take)
{
	esl_event_t *ev = NULL;
	esl_status_t st;

	esl_event_destroy(&h->last_ievent);
	if (take.fn) {
		/* last_event is set again only by a message received the usual way */
		esl_event_destroy(&h->last_event);
		if (esl_log_enabled(ESL_LOG_LEVEL_DEBUG)) {
			/* every message is logged as it is received */
			take.fn = NULL;
		}
	}
	if (!h->connected) {
		return ESL_FAIL;
	}
	if (check_q && h->race_event) {
		ev = h->race_event;
		h->race_event = ev->next;
		ev->next = NULL;
		if (!h->race_event) {
			c->race_tail = NULL;
		}
	} else if ((st = read_message(h, c, deadline < 0 ? 0 : deadline, deadline < 0, take, &ev)) != ESL_SUCCESS || !ev) {
		return st;
	}
	return deliver(h, c, ev, save_event, 1);
}

static void race_append(esl_handle_t *h, esl_conn_t *c, esl_event_t *ev)
{
	esl_event_t *t = h->race_event ? c->race_tail : NULL;

	ev->next = NULL;
	if (!t) {
		t = h->race_event;
	}
	while (t && t->next) {
		t = t->next;
	}
	if (t) {
		t->next = ev;
	} else {
		h->race_event = ev;
	}
	c->race_tail = ev;
}

/* ------------------------------------------------------------------------------------ */
/* public API */

ESL_DECLARE(int) esl_wait_sock(esl_socket_t sock, uint32_t ms, esl_poll_t flags)
{
	struct pollfd pfd;
	int64_t deadline = 0;
	int r, res = 0, timeout = ms > INT_MAX ? -1 : (int) ms;

	if (sock == ESL_SOCK_INVALID) {
		return ESL_SOCK_INVALID;
	}
	pfd.fd = sock;
	pfd.events = 0;
	pfd.revents = 0;
	if (flags & ESL_POLL_READ) {
		pfd.events |= POLLIN;
	}
	if (flags & ESL_POLL_WRITE) {
		pfd.events |= POLLOUT;
	}
	if (flags & ESL_POLL_ERROR) {
		pfd.events |= POLLERR;
	}
	if (timeout > 0) {
		deadline = now_ms() + timeout;
	}
	for (;;) {
		r = poll(&pfd, 1, timeout);
		if (r < 0 && errno == EINTR) {
			/* a signal is no reason to report an error: wait out the rest */
			if (deadline) {
				timeout = remaining_ms(deadline);
			}
			continue;
		}
		break;
	}
	if (r <= 0) {
		return r;
	}
	if (pfd.revents & POLLNVAL) {
		errno = EBADF;
		return -1;
	}
	/* a hang-up counts as readable: the read that follows sees the end of the stream */
	if ((flags & ESL_POLL_READ) && (pfd.revents & (POLLIN | POLLHUP))) {
		res |= ESL_POLL_READ;
	}
	if ((flags & ESL_POLL_WRITE) && (pfd.revents & POLLOUT)) {
		res |= ESL_POLL_WRITE;
	}
	if ((flags & ESL_POLL_ERROR) && (pfd.revents & POLLERR)) {
		res |= ESL_POLL_ERROR;
	}
	return res;
}

ESL_DECLARE(esl_status_t) esl_handle_set_limits(esl_handle_t *handle, esl_size_t max_header_block, esl_size_t max_body)
{
	esl_conn_t *c;

	if (!handle) {
		return ESL_FAIL;
	}
	/* a handle that was never connected gets its state now, so limits can precede connect */
	if (!(c = conn_setup(handle))) {
		return ESL_FAIL;
	}
	if (max_header_block) {
		__atomic_store_n(&c->max_header, max_header_block, __ATOMIC_RELAXED);
	}
	if (max_body) {
		__atomic_store_n(&c->max_body, max_body, __ATOMIC_RELAXED);
	}
	return ESL_SUCCESS;
}

esl_status_t esl_handle_keep_inner(esl_handle_t *handle, int on)
{
	esl_conn_t *c;

	if (!handle || !(c = conn_setup(handle))) {
		return ESL_FAIL;
	}
	__atomic_store_n(&c->keep_inner, on != 0, __ATOMIC_RELAXED);
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_send(esl_handle_t *handle, const char *cmd)
{
	esl_conn_t *c = enter(handle);
	esl_status_t st;

	if (!c) {
		return ESL_FAIL;
	}
	st = send_cmd(handle, c, cmd);
	leave(c);
	return st;
}

/* A receive as a public call: registered on the handle, under its lock. */
static esl_status_t recv_call(esl_handle_t *handle, int check_q, esl_event_t **save_event, int64_t deadline, take_t take)
{
	esl_conn_t *c = enter(handle);
	esl_status_t st = ESL_FAIL;

	if (!c) {
		return ESL_FAIL;
	}
	if (handle->connected && handle->sock != ESL_SOCK_INVALID) {
		esl_mutex_lock(handle->mutex);
		st = recv_locked(handle, c, check_q, save_event, deadline, take);
		esl_mutex_unlock(handle->mutex);
	}
	leave(c);
	return st;
}

ESL_DECLARE(esl_status_t) esl_recv_event(esl_handle_t *handle, int check_q, esl_event_t **save_event)
{
	return recv_call(handle, check_q, save_event, 0, (take_t) { NULL, NULL });
}

ESL_DECLARE(esl_status_t) esl_recv_event_nowait(esl_handle_t *handle, int check_q, esl_event_t **save_event)
{
	return recv_call(handle, check_q, save_event, -1, (take_t) { NULL, NULL });
}

esl_status_t esl_recv_take_nowait(esl_handle_t *handle, esl_wire_take_fn take, void *ctx)
{
	return recv_call(handle, 1, NULL, -1, (take_t) { take, ctx });
}

/*
 * Timed receive. Unlike the original (Q16), the whole call is bounded by ms: the deadline set
 * at entry also bounds reading a message that has started to arrive. When it passes in the
 * middle of a message, the call returns ESL_BREAK and the bytes received so far stay in the
 * parser, so the next receive carries on where this one stopped and nothing is lost.
 */
static esl_status_t recv_timed(esl_handle_t *handle, uint32_t ms, int check_q, esl_event_t **save_event, take_t take)
{
	esl_conn_t *c;
	esl_status_t st = ESL_FAIL;
	int64_t deadline;
	int ready;

	if (ms == 0) {
		return recv_call(handle, check_q, save_event, 0, take);
	}
	if (!(c = enter(handle))) {
		return ESL_FAIL;
	}
	deadline = now_ms() + ms;
	if (!handle->connected || handle->sock == ESL_SOCK_INVALID) {
		goto out;
	}
	if (esl_mutex_trylock(handle->mutex) != ESL_SUCCESS) {
		st = ESL_BREAK;
		goto out;
	}
	ready = (check_q && handle->race_event) || esl_wire_buffered(c->wire);
	if (!ready) {
		int r;

		/* wait without the lock, as the original does, so writers are not held up */
		esl_mutex_unlock(handle->mutex);
		r = esl_wait_sock(handle->sock, ms, ESL_POLL_READ | ESL_POLL_ERROR);
		if (r < 0) {
			set_errno_err(handle, errno);
			handle->connected = 0;
			goto out;
		}
		if (r == 0 || !(r & ESL_POLL_READ) || esl_mutex_trylock(handle->mutex) != ESL_SUCCESS) {
			st = ESL_BREAK;
			goto out;
		}
	}
	st = recv_locked(handle, c, check_q, save_event, deadline, take);
	esl_mutex_unlock(handle->mutex);
out:
	leave(c);
	return st;
}

ESL_DECLARE(esl_status_t) esl_recv_event_timed(esl_handle_t *handle, uint32_t ms, int check_q, esl_event_t **save_event)
{
	return recv_timed(handle, ms, check_q, save_event, (take_t) { NULL, NULL });
}

esl_status_t esl_recv_take_timed(esl_handle_t *handle, uint32_t ms, esl_wire_take_fn take, void *ctx)
{
	return recv_timed(handle, ms, 1, NULL, (take_t) { take, ctx });
}

/*
 * Sends cmd and waits for its reply; other messages go to race_event in arrival order. With
 * ms, the whole wait is bounded by ms (events arriving meanwhile do not extend it).
 *
 * Q15 fixed: when the wait times out (ESL_BREAK), the handle remembers that a reply is owed.
 * FreeSWITCH answers commands in order, so the next reply to arrive (command/reply,
 * api/response, or a message without Content-Type) is that late one: whichever receive call
 * meets it drops it, and later replies keep matching their commands.
 */
ESL_DECLARE(esl_status_t) esl_send_recv_timed(esl_handle_t *handle, const char *cmd, uint32_t ms)
{
	esl_conn_t *c = enter(handle);
	esl_status_t st;
	int64_t deadline;

	if (!c) {
		return ESL_FAIL;
	}
	esl_mutex_lock(handle->mutex);
	if (!handle->connected || handle->sock == ESL_SOCK_INVALID) {
		st = ESL_FAIL;
		goto out;
	}
	esl_event_destroy(&handle->last_sr_event);
	handle->last_sr_reply[0] = '\0';
	if ((st = send_cmd(handle, c, cmd)) != ESL_SUCCESS) {
		goto out;
	}
	deadline = ms ? now_ms() + ms : 0;
	for (;;) {
		esl_event_t *ev = NULL;

		esl_event_destroy(&handle->last_ievent);
		if ((st = read_message(handle, c, deadline, 0, (take_t) { NULL, NULL }, &ev)) != ESL_SUCCESS) {
			break;
		}
		if (is_reply(ev)) {
			st = deliver(handle, c, ev, &handle->last_sr_event, 1);
			break;
		}
		/* not ours: queue it (its inner event is decoded when it is taken from the queue) */
		if ((st = deliver(handle, c, ev, &handle->last_sr_event, 0)) != ESL_SUCCESS) {
			break;
		}
		race_append(handle, c, handle->last_sr_event);
		handle->last_sr_event = NULL;
		/* let other threads at the handle between messages, as the original does */
		esl_mutex_unlock(handle->mutex);
		esl_mutex_lock(handle->mutex);
		if (!handle->connected) {
			st = ESL_FAIL;
			break;
		}
	}
	if (st == ESL_SUCCESS && handle->last_sr_event) {
		const char *rt = esl_event_get_header(handle->last_sr_event, "reply-text");
		if (!esl_strlen_zero(rt)) {
			esl_copy_string(handle->last_sr_reply, rt, sizeof(handle->last_sr_reply));
		}
	} else if (st == ESL_BREAK) {
		c->owed++;
	}
out:
	esl_mutex_unlock(handle->mutex);
	leave(c);
	return st;
}

/* A growable string for building commands: no fixed buffer, so nothing is cut (Q12/Q13). */
typedef struct {
	char *s;
	size_t len, cap;
	int oom;
} sbuf_t;

static void sb_addn(sbuf_t *b, const char *s, size_t n)
{
	if (b->oom) {
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *p;
		while (ncap < b->len + n + 1) {
			ncap *= 2;
		}
		if (!(p = realloc(b->s, ncap))) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(sbuf_t *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* Sends the built command through esl_send_recv and frees it. */
static esl_status_t sb_send_recv(esl_handle_t *h, sbuf_t *b)
{
	esl_status_t st;

	if (b->oom || !b->s) {
		free(b->s);
		set_err(h, ENOMEM, "out of memory");
		return ESL_FAIL;
	}
	st = esl_send_recv(h, b->s);
	free(b->s);
	return st;
}

ESL_DECLARE(esl_status_t) esl_execute(esl_handle_t *handle, const char *app, const char *arg, const char *uuid)
{
	sbuf_t b = { 0 };

	if (!handle || !handle->connected || handle->sock == ESL_SOCK_INVALID) {
		return ESL_FAIL;
	}
	sb_add(&b, "sendmsg");
	if (uuid) {
		sb_add(&b, " ");
		sb_add(&b, uuid);
	}
	sb_add(&b, "\ncall-command: execute\n");
	if (app) {
		sb_add(&b, "execute-app-name: ");
		sb_add(&b, app);
		sb_add(&b, "\n");
	}
	if (arg) {
		sb_add(&b, "execute-app-arg: ");
		sb_add(&b, arg);
		sb_add(&b, "\n");
	}
	if (handle->event_lock) {
		sb_add(&b, "event-lock: true\n");
	}
	if (handle->async_execute) {
		sb_add(&b, "async: true\n");
	}
	sb_add(&b, "\n");
	return sb_send_recv(handle, &b);
}

/* "<line>\n" followed by the unencoded plain serialization of event (Q14: values go out as
 * they are, so a newline inside one breaks the framing). */
static esl_status_t send_event_cmd(esl_handle_t *handle, const char *line, esl_event_t *event)
{
	sbuf_t b = { 0 };
	char *txt = NULL;

	if (!handle || !event || !handle->connected || handle->sock == ESL_SOCK_INVALID) {
		return ESL_FAIL;
	}
	esl_event_serialize(event, &txt, ESL_FALSE);
	if (!txt) {
		set_err(handle, ENOMEM, "out of memory");
		return ESL_FAIL;
	}
	sb_add(&b, line);
	sb_add(&b, "\n");
	sb_add(&b, txt);
	free(txt);
	return sb_send_recv(handle, &b);
}

ESL_DECLARE(esl_status_t) esl_sendevent(esl_handle_t *handle, esl_event_t *event)
{
	sbuf_t b = { 0 };
	esl_status_t st;
	const char *name;

	/* an event_id outside the table has no name to send */
	if (!event || !(name = esl_event_name(event->event_id))) {
		return ESL_FAIL;
	}
	sb_add(&b, "sendevent ");
	sb_add(&b, name);
	if (b.oom) {
		free(b.s);
		return ESL_FAIL;
	}
	st = send_event_cmd(handle, b.s, event);
	free(b.s);
	return st;
}

ESL_DECLARE(esl_status_t) esl_sendmsg(esl_handle_t *handle, esl_event_t *event, const char *uuid)
{
	sbuf_t b = { 0 };
	esl_status_t st;

	sb_add(&b, "sendmsg");
	if (uuid) {
		sb_add(&b, " ");
		sb_add(&b, uuid);
	}
	if (b.oom) {
		free(b.s);
		return ESL_FAIL;
	}
	st = send_event_cmd(handle, b.s, event);
	free(b.s);
	return st;
}

ESL_DECLARE(esl_status_t) esl_filter(esl_handle_t *handle, const char *header, const char *value)
{
	sbuf_t b = { 0 };

	if (!handle || !header || !value || !handle->connected || handle->sock == ESL_SOCK_INVALID) {
		return ESL_FAIL;
	}
	sb_add(&b, "filter ");
	sb_add(&b, header);
	sb_add(&b, " ");
	sb_add(&b, value);
	sb_add(&b, "\n\n");
	return sb_send_recv(handle, &b);
}

ESL_DECLARE(esl_status_t) esl_events(esl_handle_t *handle, esl_event_type_t etype, const char *value)
{
	sbuf_t b = { 0 };
	const char *fmt = etype == ESL_EVENT_TYPE_XML ? "xml" : etype == ESL_EVENT_TYPE_JSON ? "json" : "plain";

	if (!handle || !value || !handle->connected || handle->sock == ESL_SOCK_INVALID) {
		return ESL_FAIL;
	}
	sb_add(&b, "event ");
	sb_add(&b, fmt);
	sb_add(&b, " ");
	sb_add(&b, value);
	sb_add(&b, "\n\n");
	return sb_send_recv(handle, &b);
}

esl_status_t esl_attach_socket(esl_handle_t *handle, esl_socket_t socket, struct sockaddr_in *addr)
{
	esl_conn_t *c;
	int one = 1;

	if (!handle || socket == ESL_SOCK_INVALID) {
		return ESL_FAIL;
	}
	handle->err[0] = '\0';
	handle->errnum = 0;
	if (!(c = conn_setup(handle))) {
		set_err(handle, ENOMEM, "out of memory");
		return ESL_FAIL;
	}
	conn_new_session(handle, c, socket);
	handle->sock = socket;
	c->owns_sock = 1;
	if (addr) {
		handle->addr = *addr;
	}
	/* fails harmlessly on a socket that is not TCP */
	setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	handle->destroyed = 0;
	handle->connected = 1;
	return ESL_SUCCESS;
}

ESL_DECLARE(esl_status_t) esl_attach_handle(esl_handle_t *handle, esl_socket_t socket, struct sockaddr_in *addr)
{
	char err[sizeof(handle->err)];
	int errnum;

	if (esl_attach_socket(handle, socket, addr) != ESL_SUCCESS) {
		return ESL_FAIL;
	}
	if (esl_send_recv(handle, "connect\n\n") == ESL_SUCCESS && handle->last_sr_event) {
		esl_event_destroy(&handle->info_event);
		handle->info_event = handle->last_sr_event;
		handle->last_sr_event = NULL;
		return ESL_SUCCESS;
	}
	memcpy(err, handle->err, sizeof(err));
	errnum = handle->errnum;
	esl_disconnect(handle);
	memcpy(handle->err, err, sizeof(err));
	handle->errnum = errnum;
	return ESL_FAIL;
}

/* Non-blocking connect to one address, waiting until deadline (0 = no limit). */
static esl_socket_t connect_addr(esl_handle_t *h, const struct addrinfo *ai, int64_t deadline)
{
	esl_socket_t fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, ai->ai_protocol);
	int flags, r, soerr = 0;
	socklen_t slen = sizeof(soerr);

	if (fd < 0) {
		set_err(h, errno, "Socket Error");
		return ESL_SOCK_INVALID;
	}
	flags = fcntl(fd, F_GETFL, 0);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		set_err(h, errno, "Socket Error");
		close(fd);
		return ESL_SOCK_INVALID;
	}
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r < 0 && errno != EINPROGRESS && errno != EINTR) {
		set_err(h, errno, "Socket Connection Error");
		close(fd);
		return ESL_SOCK_INVALID;
	}
	if (r < 0) {
		for (;;) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			int wait = remaining_ms(deadline);

			if (deadline && wait == 0) {
				set_err(h, ETIMEDOUT, "Connection timed out");
				close(fd);
				return ESL_SOCK_INVALID;
			}
			r = poll(&pfd, 1, wait);
			if (r > 0) {
				break;
			}
			if (r < 0 && errno != EINTR) {
				set_err(h, errno, "Socket Connection Error");
				close(fd);
				return ESL_SOCK_INVALID;
			}
		}
		/* the outcome of a non-blocking connect is only in SO_ERROR */
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0) {
			soerr = errno;
		}
		if (soerr) {
			set_err(h, soerr, "Socket Connection Error");
			close(fd);
			return ESL_SOCK_INVALID;
		}
	}
	if (fcntl(fd, F_SETFL, flags) < 0) {
		set_err(h, errno, "Socket Error");
		close(fd);
		return ESL_SOCK_INVALID;
	}
	return fd;
}

/*
 * Inbound login. The timeout (ms, 0 = none) bounds the whole login: TCP connect, greeting and
 * the reply to auth. Each address the host resolves to is tried in order until one connects.
 * On failure err and errnum describe the cause and survive the cleanup (Q9 fixed): errnum is
 * the OS error for socket failures (ETIMEDOUT for the timeout) and 0 for protocol failures.
 */
ESL_DECLARE(esl_status_t) esl_connect_timeout(esl_handle_t *handle, const char *host, esl_port_t port, const char *user, const char *password, uint32_t timeout)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int64_t deadline = timeout ? now_ms() + timeout : 0;
	esl_socket_t fd = ESL_SOCK_INVALID;
	esl_conn_t *c;
	esl_status_t st;
	const char *hval;
	sbuf_t b = { 0 };
	int one = 1, gai, unsupported = 0;
	char err[sizeof(handle->err)];
	int errnum;

	if (!handle) {
		return ESL_FAIL;
	}
	handle->err[0] = '\0';
	handle->errnum = 0;
	if (esl_strlen_zero(host)) {
		set_err(handle, 0, "Cannot resolve host");
		return ESL_FAIL;
	}
	if (!(c = conn_setup(handle))) {
		set_err(handle, ENOMEM, "out of memory");
		return ESL_FAIL;
	}
	conn_new_session(handle, c, ESL_SOCK_INVALID);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned) (uint16_t) port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0 || !res) {
		set_err(handle, gai == EAI_SYSTEM ? errno : 0, "Cannot resolve host");
		goto fail;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
			unsupported = 1;
			continue;
		}
		if ((fd = connect_addr(handle, ai, deadline)) != ESL_SOCK_INVALID) {
			memset(&handle->sockaddr, 0, sizeof(handle->sockaddr));
			memcpy(&handle->sockaddr, ai->ai_addr, ai->ai_addrlen);
			break;
		}
		if (deadline && remaining_ms(deadline) == 0) {
			break;
		}
	}
	freeaddrinfo(res);
	if (fd == ESL_SOCK_INVALID) {
		if (unsupported && !handle->err[0]) {
			set_err(handle, 0, "Host resolves to unsupported address family");
		}
		goto fail;
	}
	handle->err[0] = '\0';
	handle->errnum = 0;
	handle->sock = fd;
	c->owns_sock = 1;
	handle->destroyed = 0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	handle->connected = 1;

	esl_mutex_lock(handle->mutex);
	st = recv_locked(handle, c, 0, NULL, deadline, (take_t) { NULL, NULL });
	hval = st == ESL_SUCCESS ? esl_event_get_header(handle->last_event, "content-type") : NULL;
	if (st == ESL_BREAK) {
		set_err(handle, ETIMEDOUT, "Connection timed out");
	} else if (!hval || strcasecmp(hval, "auth/request")) {
		set_err(handle, st == ESL_SUCCESS ? 0 : handle->errnum, "Connection Error");
	} else {
		if (esl_strlen_zero(user)) {
			sb_add(&b, "auth ");
		} else {
			sb_add(&b, "userauth ");
			sb_add(&b, user);
			sb_add(&b, ":");
		}
		sb_add(&b, password ? password : "");
		sb_add(&b, "\n\n");
		if (b.oom) {
			set_err(handle, ENOMEM, "out of memory");
			st = ESL_FAIL;
		} else {
			st = send_cmd(handle, c, b.s);
		}
		free(b.s);
		if (st == ESL_SUCCESS) {
			st = recv_locked(handle, c, 0, NULL, deadline, (take_t) { NULL, NULL });
			hval = st == ESL_SUCCESS ? esl_event_get_header(handle->last_event, "reply-text") : NULL;
			if (st == ESL_BREAK) {
				set_err(handle, ETIMEDOUT, "Connection timed out");
			} else if (hval && !strcasecmp(hval, "+OK accepted")) {
				esl_mutex_unlock(handle->mutex);
				return ESL_SUCCESS;
			} else if (st == ESL_SUCCESS || !handle->err[0]) {
				set_err(handle, 0, "Authentication Error");
			}
		}
	}
	esl_mutex_unlock(handle->mutex);

fail:
	memcpy(err, handle->err, sizeof(err));
	errnum = handle->errnum;
	esl_disconnect(handle);
	memcpy(handle->err, err, sizeof(err));
	handle->errnum = errnum;
	return ESL_FAIL;
}

/* socket_buf is 64 KiB of scratch space in the public layout that nothing here reads or
 * writes. Writing it would fault its 16 pages in on every connection (they are often
 * untouched, or given back to the kernel since). */
void esl_handle_clear(esl_handle_t *handle)
{
	char *p = (char *) handle;
	size_t skip = offsetof(esl_handle_t, socket_buf);
	size_t rest = skip + sizeof(handle->socket_buf);

	memset(p, 0, skip);
	memset(p + rest, 0, sizeof(*handle) - rest);
}

/*
 * Closes the handle. Other threads blocked in calls on it wake up (the socket is shut down
 * first) and return ESL_FAIL; this call waits for them to leave before freeing anything.
 * Afterwards the handle is zeroed except err and errnum, sock is ESL_SOCK_INVALID and
 * destroyed is 1. ESL_SUCCESS when a socket was open.
 */
ESL_DECLARE(esl_status_t) esl_disconnect(esl_handle_t *handle)
{
	esl_conn_t *c;
	esl_socket_t sock = ESL_SOCK_INVALID;
	esl_mutex_t *mutex;
	esl_event_t *race, *evs[4];
	char err[sizeof(handle->err)];
	int errnum, i;

	if (!handle) {
		return ESL_FAIL;
	}
	pthread_mutex_lock(&g_lock);
	c = conn_of(handle);
	/* a destroyed handle may have state again only through esl_handle_set_limits: free it */
	if ((handle->destroyed && !c) || (c && c->closing)) {
		pthread_mutex_unlock(&g_lock);
		return ESL_FAIL;
	}
	if (c) {
		if (c->owns_sock && handle->sock != ESL_SOCK_INVALID) {
			sock = handle->sock;
			shutdown(sock, SHUT_RDWR);
		}
		__atomic_store_n(&c->closing, 1, __ATOMIC_RELEASE);
		handle->connected = 0;
		while (c->users) {
			pthread_cond_wait(&g_idle, &g_lock);
		}
	}
	race = handle->race_event;
	evs[0] = handle->last_event;
	evs[1] = handle->last_sr_event;
	evs[2] = handle->last_ievent;
	evs[3] = handle->info_event;
	mutex = handle->mutex;
	memcpy(err, handle->err, sizeof(err));
	errnum = handle->errnum;
	esl_handle_clear(handle);
	memcpy(handle->err, err, sizeof(err));
	handle->errnum = errnum;
	handle->sock = ESL_SOCK_INVALID;
	handle->destroyed = 1;
	pthread_mutex_unlock(&g_lock);

	/* nobody can reach these any more: free them outside the global lock */
	if (sock != ESL_SOCK_INVALID) {
		close(sock);
	}
	while (race) {
		esl_event_t *next = race->next;
		esl_event_destroy(&race);
		race = next;
	}
	for (i = 0; i < 4; i++) {
		esl_event_destroy(&evs[i]);
	}
	if (c) {
		esl_wire_destroy(&c->wire);
		pthread_mutex_destroy(&c->wlock);
		free(c);
	}
	if (mutex) {
		esl_mutex_destroy(&mutex);
	}
	return sock != ESL_SOCK_INVALID ? ESL_SUCCESS : ESL_FAIL;
}
