/*
 * test_faults.c: the server disconnects after byte k, for every k of every recorded stream.
 *
 * A recorded stream (testdata/freeswitch/NAME.s2c) is cut after its first k bytes and the
 * peer closes its side. Every call must then return in bounded time: ESL_SUCCESS exactly for
 * the messages that lie wholly within the bytes sent, then ESL_FAIL with a readable err and
 * connected == 0. The number of messages delivered must equal the number of complete
 * messages in the prefix (the final goodbye notice, which libesl reports as ESL_FAIL with
 * last_event set, counts as delivered). The sanitizers watch for crashes and leaks; a
 * watchdog aborts on a call that blocks for more than WATCHDOG_MS.
 *
 * Passes (the summary printed at the end gives the numbers for HARDENING.md):
 *   1. parser  every k of every stream: the bytes fed one at a time into one esl_wire parser;
 *              after each byte exactly the complete messages have come out, the rest is held
 *              (esl_wire_buffered) and there is no error.
 *   2. handle  a real handle on a socketpair: the peer answers "connect" with a short reply,
 *              writes bytes [s, k) of the stream and shuts its side down; the handle then
 *              receives until it fails (blocking, timed, or through a view, by k).
 *   3. attach  outbound streams: the stream itself answers "connect" (its first message is
 *              the CHANNEL_DATA reply): esl_attach_handle fails when k cuts that reply and
 *              succeeds otherwise; then as in pass 2.
 *   4. login   inbound streams over TCP through esl_connect_timeout: the login fails when k
 *              cuts the greeting or the auth reply, and succeeds (when the recorded auth
 *              succeeded) otherwise; then as in pass 2.
 *
 * Which k (CI mode; ESL_FAULTS_FULL=1 runs every k of every stream in passes 2 and 3, with
 * s chosen as below, which takes many minutes under the sanitizers):
 *   - streams under SMALL_LIMIT bytes: every k, s = 0, in passes 2 and 3;
 *   - larger streams, pass 2: every k within BOUNDARY_NEAR bytes of a message boundary or of
 *     the end of a header block (the empty line), and every STRIDE-th k. s is the start of
 *     the message two before the one that k cuts (the handle sees up to two complete
 *     messages, then the cut), and additionally s = 0 for every FULL_STRIDE-th k and the
 *     last;
 *   - larger streams, pass 3: every k up to LOGIN_TAIL bytes past the CHANNEL_DATA reply,
 *     the boundary neighbourhoods as in pass 2, and every FULL_STRIDE-th k; s = 0;
 *   - pass 4: every k up to LOGIN_TAIL bytes past the auth reply, then every FULL_STRIDE-th k
 *     and the last.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>

#include "eslt.h"
#include "eslt_wire.h"

#define SMALL_LIMIT (8 * 1024)
#define STRIDE 31
#define FULL_STRIDE 997
#define BOUNDARY_NEAR 2
#define LOGIN_TAIL 16
#define CALL_MS 10000
#define WATCHDOG_MS 30000

static const char CONNECT_REPLY[] = "Content-Type: command/reply\nReply-Text: +OK\n\n";

/* ---- counters ---------------------------------------------------------------------------- */

typedef struct {
	long cuts;          /* connections (or parser prefixes) cut */
	long calls;         /* library calls made */
	long failed_calls;  /* calls that returned ESL_FAIL */
	long ok_calls;      /* calls that returned ESL_SUCCESS */
	long hangs;         /* ESL_BREAK from a timed call, or a call over CALL_MS */
	long mismatches;    /* message count differs from the complete messages of the prefix */
	long delivered;     /* messages delivered in total */
	double max_call;    /* the slowest single call, seconds */
} counts_t;

static counts_t g_parser, g_handle, g_attach, g_login;

/* ---- a watchdog for blocking calls ------------------------------------------------------- */

static volatile double g_call_start; /* 0 when no call is running */
static volatile const char *g_call_what;

static void *watchdog_main(void *arg)
{
	(void) arg;
	for (;;) {
		double t0 = g_call_start;
		struct timespec ts = { 0, 200 * 1000000L };
		if (t0 > 0 && eslt_now() - t0 > WATCHDOG_MS / 1000.0) {
			fprintf(stderr, "watchdog: a call has blocked for %d ms (%s)\n", WATCHDOG_MS,
					g_call_what ? (const char *) g_call_what : "?");
			abort();
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void call_begin(const char *what)
{
	g_call_what = what;
	g_call_start = eslt_now();
}

static void call_end(counts_t *c, esl_status_t st)
{
	double dt = eslt_now() - g_call_start;
	g_call_start = 0;
	c->calls++;
	if (dt > c->max_call) {
		c->max_call = dt;
	}
	if (dt > CALL_MS / 1000.0) {
		c->hangs++;
	}
	if (st == ESL_SUCCESS) {
		c->ok_calls++;
	} else if (st == ESL_FAIL) {
		c->failed_calls++;
	} else {
		c->hangs++;
	}
}

/* ---- message boundaries ------------------------------------------------------------------ */

typedef struct {
	size_t *end;     /* end offset of each message */
	size_t *hdr_end; /* end offset of its header block (after the empty line) */
	size_t n;
	int inbound;   /* the stream starts with auth/request */
	int login_ok;  /* and its second message is "+OK accepted" */
} frames_t;

/* The reference split of eslt_ref_split, keeping the end offsets. */
static int split_frames(const char *d, size_t len, frames_t *f)
{
	size_t pos = 0, cap = 0;

	memset(f, 0, sizeof(*f));
	while (pos < len) {
		const char *e = memmem(d + pos, len - pos, "\n\n", 2);
		size_t blen, vlen, end;
		const char *v;
		long body = 0;

		if (!e) {
			return -1;
		}
		blen = (size_t) (e - (d + pos)) + 1;
		if ((v = eslt_find_line(d + pos, blen, "Content-Length", &vlen))) {
			body = strtol(v, NULL, 10);
		}
		end = pos + blen + 1 + (size_t) body;
		if (end > len) {
			return -1;
		}
		if (f->n == cap) {
			cap = cap ? cap * 2 : 64;
			f->end = realloc(f->end, cap * sizeof(*f->end));
			f->hdr_end = realloc(f->hdr_end, cap * sizeof(*f->hdr_end));
			if (!f->end || !f->hdr_end) {
				abort();
			}
		}
		f->hdr_end[f->n] = pos + blen + 1;
		f->end[f->n++] = end;
		pos = end;
	}
	f->inbound = len > 26 && !strncmp(d, "Content-Type: auth/request\n", 27);
	if (f->inbound && f->n > 1) {
		size_t vlen;
		const char *v = eslt_find_line(d + f->end[0], f->end[1] - f->end[0], "Reply-Text", &vlen);
		f->login_ok = v && vlen == 12 && !strncmp(v, "+OK accepted", 12);
	}
	return 0;
}

/* Messages that lie wholly in [from, to): those starting at or after from and ending by to. */
static size_t complete_between(const frames_t *f, size_t from, size_t to)
{
	size_t i, n = 0, start = 0;

	for (i = 0; i < f->n; i++) {
		if (start >= from && f->end[i] <= to) {
			n++;
		}
		start = f->end[i];
	}
	return n;
}

/* The index of the message that byte offset k falls in (f->n when k is at or past the end). */
static size_t frame_of(const frames_t *f, size_t k)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (k < f->end[i]) {
			return i;
		}
	}
	return f->n;
}

static size_t frame_start(const frames_t *f, size_t i)
{
	return i == 0 ? 0 : f->end[i - 1];
}

/* Within BOUNDARY_NEAR bytes of a message boundary or of the end of a header block. */
static int near_boundary(const frames_t *f, size_t k)
{
	size_t i;

	if (k <= BOUNDARY_NEAR) {
		return 1;
	}
	for (i = 0; i < f->n; i++) {
		size_t b = f->end[i], h = f->hdr_end[i];
		if ((k >= b ? k - b : b - k) <= BOUNDARY_NEAR || (k >= h ? k - h : h - k) <= BOUNDARY_NEAR) {
			return 1;
		}
	}
	return 0;
}

static int at_boundary(const frames_t *f, size_t k)
{
	size_t i;

	if (k == 0) {
		return 1;
	}
	for (i = 0; i < f->n; i++) {
		if (f->end[i] == k) {
			return 1;
		}
	}
	return 0;
}

/* Whether pass 2 cuts at k in CI mode (see the top of the file). */
static int selected(const frames_t *f, size_t len, size_t k, int full)
{
	return full || len < SMALL_LIMIT || k % STRIDE == 0 || k == len || near_boundary(f, k);
}

/* Whether pass 3 cuts at k in CI mode. */
static int selected_attach(const frames_t *f, size_t len, size_t k, int full)
{
	return full || len < SMALL_LIMIT || k <= f->end[0] + LOGIN_TAIL || k % FULL_STRIDE == 0 || k == len ||
		   near_boundary(f, k);
}

/* ---- pass 1: the parser, one byte at a time ---------------------------------------------- */

static void parser_pass(const char *name, const char *d, size_t len, const frames_t *f)
{
	esl_wire_t *w = esl_wire_create();
	size_t k, got = 0, bad = 0;

	if (!w) {
		CHECK(!"esl_wire_create");
		return;
	}
	for (k = 1; k <= len; k++) {
		esl_event_t *ev = NULL;
		esl_wire_status_t ws;

		if (esl_wire_feed(w, d + k - 1, 1)) {
			CHECK(!"esl_wire_feed");
			break;
		}
		while ((ws = esl_wire_next(w, &ev)) == ESL_WIRE_MESSAGE) {
			got++;
			esl_event_destroy(&ev);
		}
		g_parser.cuts++;
		if (ws == ESL_WIRE_ERROR || got != complete_between(f, 0, k) || (esl_wire_buffered(w) != 0) == at_boundary(f, k)) {
			if (!bad++) {
				fprintf(stderr, "%s: parser after %zu bytes: status %d, %zu messages (want %zu), buffered %d: %s\n", name,
						k, (int) ws, got, complete_between(f, 0, k), esl_wire_buffered(w), esl_wire_error(w));
			}
			g_parser.mismatches++;
			if (ws == ESL_WIRE_ERROR) {
				break;
			}
		}
	}
	g_parser.delivered += (long) got;
	CHECK_INT(bad, 0);
	CHECK_INT(got, f->n);
	esl_wire_destroy(&w);
}

/* ---- the peer: bytes written up front, or by a thread when they do not fit ------------------ */

typedef struct {
	int fd;
	const char *a, *b;
	size_t alen, blen;
	pthread_t thread;
	int threaded;
} feeder_t;

static void *feeder_main(void *arg)
{
	feeder_t *p = arg;

	if (!eslt_write_all(p->fd, p->a, p->alen)) {
		eslt_write_all(p->fd, p->b, p->blen);
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

/* Writes a then b to fd and shuts fd's sending side; small amounts go straight into the
 * socket buffer, large ones through a thread. The peer keeps reading side open, so the
 * client's own writes ("connect") never fail. */
static void feeder_start(feeder_t *p, int fd, const char *a, size_t alen, const char *b, size_t blen)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->a = a;
	p->alen = alen;
	p->b = b;
	p->blen = blen;
	if (alen + blen <= 60000) {
		feeder_main(p);
		return;
	}
	if (pthread_create(&p->thread, NULL, feeder_main, p)) {
		abort();
	}
	p->threaded = 1;
}

static void feeder_join(feeder_t *p)
{
	if (p->threaded) {
		pthread_join(p->thread, NULL);
		p->threaded = 0;
	}
}

/* ---- receiving until the end -------------------------------------------------------------- */

/* Receives until the handle fails; returns the messages delivered. how picks the receive:
 * 0 blocking, 1 timed, 2 through a view (esl_recv_event_view, timed or not by the cut). */
static size_t drain(esl_handle_t *h, counts_t *c, int how)
{
	static const char *what[] = { "esl_recv_event", "esl_recv_event_timed", "esl_recv_event_view" };
	esl_event_view_t *view = NULL;
	size_t got = 0;

	if (how == 2 && esl_event_view_create(&view) != ESL_SUCCESS) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	for (;;) {
		esl_status_t st;

		call_begin(what[how]);
		st = how == 2 ? esl_recv_event_view(h, got & 1 ? CALL_MS : 0, view)
					  : how ? esl_recv_event_timed(h, CALL_MS, 0, NULL) : esl_recv_event(h, 0, NULL);
		call_end(c, st);
		if (st == ESL_SUCCESS) {
			got++;
			continue;
		}
		if (st == ESL_FAIL && h->last_event && !strcmp(h->err, "Disconnected by the server")) {
			got++;
		}
		break;
	}
	esl_event_view_destroy(&view);
	/* once ended, every call fails at once */
	call_begin("esl_recv_event after the end");
	call_end(c, esl_recv_event(h, 0, NULL));
	call_begin("esl_send_recv after the end");
	call_end(c, esl_send_recv(h, "api status"));
	return got;
}

/* The err text a cut at k must leave: mid-message, or between messages. */
static int err_fits(const esl_handle_t *h, const frames_t *f, size_t k, size_t last_complete_end)
{
	if (!strcmp(h->err, "Disconnected by the server")) {
		return 1;
	}
	if (k == last_complete_end) {
		return !strcmp(h->err, "Connection closed by peer");
	}
	(void) f;
	return !strcmp(h->err, "Connection closed by peer in the middle of a message");
}

/* ---- pass 2: a handle after a synthetic connect reply ---------------------------------------- */

static void handle_cut(const char *name, const char *d, const frames_t *f, size_t s, size_t k)
{
	int sv[2];
	esl_handle_t h;
	feeder_t fd;
	size_t got, want;
	esl_status_t st;
	size_t last_end = s, i;
	static int reported;

	memset(&h, 0, sizeof(h));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		CHECK(!"socketpair");
		return;
	}
	feeder_start(&fd, sv[1], CONNECT_REPLY, sizeof(CONNECT_REPLY) - 1, d + s, k - s);
	g_handle.cuts++;
	call_begin("esl_attach_handle");
	st = esl_attach_handle(&h, sv[0], NULL);
	call_end(&g_handle, st);
	if (st != ESL_SUCCESS) {
		fprintf(stderr, "%s: attach failed at k=%zu: %s\n", name, k, h.err);
		CHECK(!"attach");
		feeder_join(&fd);
		close(sv[1]);
		return;
	}
	got = drain(&h, &g_handle, (int) (k % 3));
	want = complete_between(f, s, k);
	for (i = 0; i < f->n; i++) {
		if (f->end[i] <= k && f->end[i] >= s) {
			last_end = f->end[i];
		}
	}
	g_handle.delivered += (long) got;
	if (got != want || h.connected || !err_fits(&h, f, k, last_end)) {
		g_handle.mismatches++;
		if (reported++ < 10) {
			fprintf(stderr, "%s: cut at %zu (from %zu): %zu messages, want %zu; connected %d; err \"%s\"\n", name, k, s, got,
					want, h.connected, h.err);
		}
	}
	esl_disconnect(&h);
	feeder_join(&fd);
	close(sv[1]);
}

static void handle_pass(const char *name, const char *d, size_t len, const frames_t *f, int full)
{
	size_t k;
	long before = g_handle.mismatches;

	for (k = 0; k <= len; k++) {
		size_t i, s;

		if (!selected(f, len, k, full)) {
			continue;
		}
		if (len < SMALL_LIMIT) {
			handle_cut(name, d, f, 0, k);
			continue;
		}
		/* from two messages before the one being cut, and now and then from the start */
		i = frame_of(f, k);
		s = frame_start(f, i >= 2 ? i - 2 : 0);
		handle_cut(name, d, f, s, k);
		if (s && (k % FULL_STRIDE == 0 || k == len)) {
			handle_cut(name, d, f, 0, k);
		}
	}
	CHECK_INT(g_handle.mismatches - before, 0);
}

/* ---- pass 3: outbound streams answer connect themselves -------------------------------------- */

static void attach_cut(const char *name, const char *d, const frames_t *f, size_t k)
{
	int sv[2];
	esl_handle_t h;
	feeder_t fd;
	size_t got = 0, want = complete_between(f, 0, k), last_end = 0, i;
	esl_status_t st;
	int ok;
	static int reported;

	memset(&h, 0, sizeof(h));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		CHECK(!"socketpair");
		return;
	}
	feeder_start(&fd, sv[1], d, k, NULL, 0);
	g_attach.cuts++;
	call_begin("esl_attach_handle");
	st = esl_attach_handle(&h, sv[0], NULL);
	call_end(&g_attach, st);
	for (i = 0; i < f->n; i++) {
		if (f->end[i] <= k) {
			last_end = f->end[i];
		}
	}
	if (st == ESL_SUCCESS) {
		got = 1 + drain(&h, &g_attach, (int) (k % 3));
		ok = k >= f->end[0] && h.info_event != NULL && !h.connected && err_fits(&h, f, k, last_end);
	} else {
		/* the reply to connect was cut: attach fails and closes the socket */
		ok = k < f->end[0] && h.err[0] && h.sock == ESL_SOCK_INVALID && !h.connected &&
			 strstr(h.err, "Connection closed by peer") != NULL;
	}
	g_attach.delivered += (long) got;
	if (got != want || !ok) {
		g_attach.mismatches++;
		if (reported++ < 10) {
			fprintf(stderr, "%s: attach cut at %zu: status %d, %zu messages, want %zu; err \"%s\"\n", name, k, (int) st, got,
					want, h.err);
		}
	}
	if (st == ESL_SUCCESS) {
		esl_disconnect(&h);
	}
	feeder_join(&fd);
	close(sv[1]);
}

/* ---- pass 4: inbound login over TCP ---------------------------------------------------------- */

typedef struct {
	int lfd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *data;   /* what the next connection gets */
	size_t len;
	int pending;        /* a connection is expected */
	int done;           /* the last connection was served and closed */
	int stop;
} tcp_srv_t;

static void *tcp_main(void *arg)
{
	tcp_srv_t *s = arg;

	for (;;) {
		int fd;
		char buf[4096];

		pthread_mutex_lock(&s->lock);
		while (!s->pending && !s->stop) {
			pthread_cond_wait(&s->cond, &s->lock);
		}
		if (s->stop) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_unlock(&s->lock);
		fd = accept(s->lfd, NULL, NULL);
		if (fd >= 0) {
			eslt_write_all(fd, s->data, s->len);
			shutdown(fd, SHUT_WR);
			/* read what the client sends until it closes: no reset destroys the data */
			while (read(fd, buf, sizeof(buf)) > 0) {
			}
			close(fd);
		}
		pthread_mutex_lock(&s->lock);
		s->pending = 0;
		s->done = 1;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static int tcp_start(tcp_srv_t *s)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		return -1;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->lfd, (struct sockaddr *) &a, sizeof(a)) || listen(s->lfd, 16) ||
		getsockname(s->lfd, (struct sockaddr *) &a, &al)) {
		close(s->lfd);
		return -1;
	}
	s->port = ntohs(a.sin_port);
	return pthread_create(&s->thread, NULL, tcp_main, s);
}

static void tcp_stop(tcp_srv_t *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

static void login_cut(tcp_srv_t *srv, const char *name, const char *d, const frames_t *f, size_t k)
{
	esl_handle_t h;
	esl_status_t st;
	size_t got = 0, want = complete_between(f, 0, k), last_end = 0, i;
	int ok;
	static int reported;

	pthread_mutex_lock(&srv->lock);
	srv->data = d;
	srv->len = k;
	srv->pending = 1;
	srv->done = 0;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);

	memset(&h, 0, sizeof(h));
	g_login.cuts++;
	call_begin("esl_connect_timeout");
	st = esl_connect_timeout(&h, "127.0.0.1", (esl_port_t) srv->port, NULL, "ClueCon", CALL_MS);
	call_end(&g_login, st);
	for (i = 0; i < f->n; i++) {
		if (f->end[i] <= k) {
			last_end = f->end[i];
		}
	}
	if (st == ESL_SUCCESS) {
		got = 2 + drain(&h, &g_login, (int) (k % 3));
		ok = f->login_ok && k >= f->end[1] && !h.connected && err_fits(&h, f, k, last_end);
		esl_disconnect(&h);
	} else {
		got = want; /* the login consumed what there was; only the outcome is checked */
		ok = h.err[0] && h.sock == ESL_SOCK_INVALID && (!f->login_ok || k < f->end[1]);
		/* a cut greeting is a connection error; a cut auth reply says the peer closed */
		if (k < f->end[0]) {
			ok = ok && !strcmp(h.err, "Connection Error");
		} else if (k < f->end[1]) {
			ok = ok && strstr(h.err, "Connection closed by peer") != NULL;
		} else {
			ok = ok && !strcmp(h.err, "Authentication Error");
		}
	}
	g_login.delivered += (long) got;
	if (got != want || !ok) {
		g_login.mismatches++;
		if (reported++ < 10) {
			fprintf(stderr, "%s: login cut at %zu: status %d, %zu messages, want %zu; err \"%s\"\n", name, k, (int) st, got,
					want, h.err);
		}
	}
	/* wait until the server has seen the close: the next connection gets the next k */
	pthread_mutex_lock(&srv->lock);
	while (!srv->done) {
		pthread_cond_wait(&srv->cond, &srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
}

/* ---- driver ---------------------------------------------------------------------------------- */

static void print_counts(const char *pass, const counts_t *c)
{
	printf("%-7s cuts %8ld  calls %8ld  ESL_FAIL %8ld  ESL_SUCCESS %8ld  delivered %8ld  mismatches %ld  hangs %ld  "
		   "slowest call %.3f s\n",
		   pass, c->cuts, c->calls, c->failed_calls, c->ok_calls, c->delivered, c->mismatches, c->hangs, c->max_call);
}

static int count_open_fds(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) != -1) {
			n++;
		}
	}
	return n;
}

int main(void)
{
	char **files = eslt_s2c_files();
	const char *full_env = getenv("ESL_FAULTS_FULL");
	int full = full_env && *full_env && strcmp(full_env, "0");
	pthread_t wd;
	tcp_srv_t srv;
	int fds_before, fd_leak, have_tcp;
	size_t i;
	double t0 = eslt_now();

	signal(SIGPIPE, SIG_IGN);
	pthread_create(&wd, NULL, watchdog_main, NULL);
	pthread_detach(wd);
	have_tcp = tcp_start(&srv) == 0;
	CHECK(have_tcp);
	fds_before = count_open_fds();
	CHECK(files != NULL);
	for (i = 0; files && files[i]; i++) {
		size_t len, k;
		char *d = eslt_read_file(files[i], &len);
		const char *name = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
		frames_t f;
		double t1 = eslt_now();

		if (!d || split_frames(d, len, &f) || !f.n) {
			CHECK(!"recording does not split");
			free(d);
			continue;
		}
		parser_pass(name, d, len, &f);
		handle_pass(name, d, len, &f, full);
		if (!f.inbound) {
			long before = g_attach.mismatches;
			for (k = 0; k <= len; k++) {
				if (selected_attach(&f, len, k, full)) {
					attach_cut(name, d, &f, k);
				}
			}
			CHECK_INT(g_attach.mismatches - before, 0);
		} else if (have_tcp && f.n >= 2) {
			long before = g_login.mismatches;
			for (k = 0; k <= len; k++) {
				if (k <= f.end[1] + LOGIN_TAIL || k % FULL_STRIDE == 0 || k == len) {
					login_cut(&srv, name, d, &f, k);
				}
			}
			CHECK_INT(g_login.mismatches - before, 0);
		}
		printf("%-32s %7zu bytes %4zu messages  %.1f s\n", name, len, f.n, eslt_now() - t1);
		fflush(stdout);
		free(f.end);
		free(f.hdr_end);
		free(d);
	}
	eslt_free_list(files);
	fd_leak = count_open_fds() - fds_before;
	CHECK_INT(fd_leak, 0);
	if (have_tcp) {
		tcp_stop(&srv);
	}
	print_counts("parser", &g_parser);
	print_counts("handle", &g_handle);
	print_counts("attach", &g_attach);
	print_counts("login", &g_login);
	{
		long cuts = g_handle.cuts + g_attach.cuts + g_login.cuts;
		long fails = g_handle.failed_calls + g_attach.failed_calls + g_login.failed_calls;
		long hangs = g_handle.hangs + g_attach.hangs + g_login.hangs;
		long mism = g_parser.mismatches + g_handle.mismatches + g_attach.mismatches + g_login.mismatches;
		printf("faults total: %ld connections cut, %ld parser prefixes, %ld calls returned ESL_FAIL, %ld mismatches, "
			   "%ld hangs, 0 crashes, fd leak %d (mode %s, %.1f s)\n",
			   cuts, g_parser.cuts, fails, mism, hangs, fd_leak, full ? "full" : "ci",
			   eslt_now() - t0);
		CHECK_INT(hangs, 0);
	}
	return ESLT_DONE();
}
