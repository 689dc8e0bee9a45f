/*
 * test_lossless.c: every event of a long stream arrives exactly once, in order, through a view
 * (esl_recv_event_view) and through esl_recv_event, whatever the boundaries of the writes.
 *
 * The recorded plain and JSON events (testdata/freeswitch/events-{plain,json}-call.s2c) are
 * framed as FreeSWITCH frames events and sent cycled, N of them (ESL_LOSSLESS_EVENTS; by
 * default 100,000 with random splits and 20,000 with adversarial ones), by a peer thread on a
 * socketpair:
 *   random       writes of 1 byte to 16 KiB, wherever they fall;
 *   adversarial  each message in two writes, split before, between or after the two newlines
 *                that end its header block (in turn), the writer waiting until the reader
 *                has taken every byte of a write before the next (SIOCOUTQ), so that the
 *                reader sees each split.
 * The receiver counts the events and hashes Event-Name, Unique-ID and Event-Date-Timestamp of
 * each, in order; count and hash must equal those of the full parse of the events sent.
 * It counts, it does not time.
 */
#include <linux/sockios.h>
#include <sched.h>
#include <sys/ioctl.h>

#include "eslt.h"
#include "eslt_wire.h"

/* One recorded event: its message as FreeSWITCH frames it, where its header block ends, and
 * the hash of its three values. */
typedef struct {
	char *frame;
	size_t len, block_end;
	uint64_t hash;
} lossless_event_t;

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

/* Folds a value (a marker for none) and a separator into h. */
static uint64_t hash_value(uint64_t h, const char *v)
{
	if (!v) {
		return (h ^ 0xffu) * FNV_PRIME;
	}
	for (; *v; v++) {
		h = (h ^ (unsigned char) *v) * FNV_PRIME;
	}
	return h * FNV_PRIME; /* the NUL */
}

/* The running hash of the events so far, after one more event with these three values. */
static uint64_t hash_event(uint64_t h, const char *name, const char *uid, const char *ts)
{
	return hash_value(hash_value(hash_value(h, name), uid), ts);
}

/* The events load_events collects. */
typedef struct {
	lossless_event_t *ev;
	size_t n, cap;
	int json;
} loaded_t;

/* One recorded event of the wanted format, framed again, with its values from the full parse. */
static void collect_event(const char *file, esl_wire_t *rd, esl_event_t *msg, int json, void *ctx)
{
	loaded_t *l = ctx;
	esl_event_t *inner = NULL;
	size_t blen = esl_wire_body_length(msg);
	char head[128];
	int hl;
	lossless_event_t *e;

	(void) file;
	if (json != l->json || esl_wire_decode_inner(rd, msg, &inner) != ESL_SUCCESS || !inner) {
		esl_event_destroy(&inner);
		return;
	}
	hl = snprintf(head, sizeof(head), "Content-Length: %zu\nContent-Type: text/event-%s\n\n", blen, json ? "json" : "plain");
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if (!(l->ev = realloc(l->ev, l->cap * sizeof(*l->ev)))) {
			abort();
		}
	}
	e = &l->ev[l->n++];
	e->len = (size_t) hl + blen;
	e->block_end = (size_t) hl;
	if (!(e->frame = malloc(e->len))) {
		abort();
	}
	memcpy(e->frame, head, (size_t) hl);
	memcpy(e->frame + hl, msg->body, blen);
	e->hash = hash_event(FNV_OFFSET, esl_event_get_header(inner, "Event-Name"), esl_event_get_header(inner, "Unique-ID"),
						 esl_event_get_header(inner, "Event-Date-Timestamp"));
	esl_event_destroy(&inner);
}

/* The plain or JSON events of their recording, framed as FreeSWITCH frames events. */
static lossless_event_t *load_events(int json, size_t *n)
{
	const char *dir = getenv("ESL_TESTDATA");
	char path[1024];
	loaded_t l = { NULL, 0, 0, json };

	snprintf(path, sizeof(path), "%s/events-%s-call.s2c", dir && *dir ? dir : "testdata/freeswitch", json ? "json" : "plain");
	if (eslt_each_event_message(path, collect_event, &l)) {
		free(l.ev);
		l.ev = NULL;
		l.n = 0;
	}
	*n = l.n;
	return l.ev;
}

typedef struct {
	int fd;
	const lossless_event_t *ev;
	size_t nev;
	long count;
	int adversarial;
	int failed;
	pthread_t thread;
} writer_t;

/* Waits until the reader has taken every byte written so far. */
static void wait_drained(int fd)
{
	int queued;

	while (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0) {
		sched_yield();
	}
}

static void *writer_main(void *arg)
{
	writer_t *w = arg;
	uint64_t rnd = 0x9e3779b97f4a7c15ULL;
	size_t piece = 0;
	long i;

	if (eslt_read_block(w->fd) || eslt_write_all(w->fd, ESLT_CONNECT_REPLY, strlen(ESLT_CONNECT_REPLY))) {
		w->failed = 1;
		goto out;
	}
	for (i = 0; i < w->count && !w->failed; i++) {
		const lossless_event_t *e = &w->ev[(size_t) i % w->nev];

		if (w->adversarial) {
			/* before, between or after the two newlines that end the header block */
			size_t cut = e->block_end - 2 + (size_t) (i % 3);

			wait_drained(w->fd);
			w->failed = eslt_write_all(w->fd, e->frame, cut);
			wait_drained(w->fd);
			w->failed |= eslt_write_all(w->fd, e->frame + cut, e->len - cut);
			continue;
		}
		for (size_t off = 0; off < e->len && !w->failed;) {
			size_t n;

			if (!piece) {
				rnd ^= rnd << 13;
				rnd ^= rnd >> 7;
				rnd ^= rnd << 17;
				piece = 1 + (size_t) (rnd % 16384);
			}
			n = e->len - off < piece ? e->len - off : piece;
			w->failed = eslt_write_all(w->fd, e->frame + off, n);
			off += n;
			piece -= n;
		}
	}
out:
	shutdown(w->fd, SHUT_WR);
	return NULL;
}

/* Streams count events (cycled) to a handle and receives them through a view or through
 * esl_recv_event; checks the count and the hash. */
static void run(const char *what, const lossless_event_t *ev, size_t nev, long count, int adversarial, int view)
{
	int sv[2];
	writer_t w = { 0 };
	esl_handle_t h;
	esl_event_view_t *v = NULL;
	uint64_t want = FNV_OFFSET, got = FNV_OFFSET;
	long i, received = 0, others = 0;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < count; i++) {
		/* chained as the receiver chains what it gets */
		want = (want ^ ev[(size_t) i % nev].hash) * FNV_PRIME;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || (view && esl_event_view_create(&v) != ESL_SUCCESS)) {
		CHECK(0);
		return;
	}
	if (adversarial) {
		int queued = -1;

		/* the lockstep rests on this */
		CHECK(ioctl(sv[1], SIOCOUTQ, &queued) == 0 && queued == 0);
	}
	w.fd = sv[1];
	w.ev = ev;
	w.nev = nev;
	w.count = count;
	w.adversarial = adversarial;
	if (pthread_create(&w.thread, NULL, writer_main, &w)) {
		CHECK(0);
		return;
	}
	CHECK_INT(esl_attach_handle(&h, sv[0], NULL), ESL_SUCCESS);
	while (received < count) {
		const char *name, *uid, *ts;
		esl_status_t st = view ? esl_recv_event_view(&h, received & 1 ? 10000 : 0, v) : esl_recv_event(&h, 1, NULL);

		if (st != ESL_SUCCESS) {
			fprintf(stderr, "%s: receive failed after %ld events: %s\n", what, received, h.err);
			break;
		}
		if (view ? !esl_event_view_has_event(v) : !h.last_ievent) {
			others++;
			continue;
		}
		if (view) {
			name = esl_event_view_get_header(v, "Event-Name");
			uid = esl_event_view_get_header(v, "Unique-ID");
			ts = esl_event_view_get_header(v, "Event-Date-Timestamp");
		} else {
			name = esl_event_get_header(h.last_ievent, "Event-Name");
			uid = esl_event_get_header(h.last_ievent, "Unique-ID");
			ts = esl_event_get_header(h.last_ievent, "Event-Date-Timestamp");
		}
		got = (got ^ hash_event(FNV_OFFSET, name, uid, ts)) * FNV_PRIME;
		received++;
	}
	/* the writer has closed: nothing more may arrive */
	CHECK(esl_recv_event(&h, 1, NULL) != ESL_SUCCESS);
	pthread_join(w.thread, NULL);
	close(sv[1]);
	esl_disconnect(&h);
	esl_event_view_destroy(&v);
	fprintf(stderr, "%s: %ld events sent, %ld received, %ld other messages, hash %s\n", what, count, received, others,
			got == want ? "equal" : "DIFFERS");
	CHECK(!w.failed);
	CHECK_INT(received, count);
	CHECK_INT(others, 0);
	CHECK(got == want);
}

int main(void)
{
	const char *env = getenv("ESL_LOSSLESS_EVENTS");
	long n_random = env ? atol(env) : 100000, n_adversarial = env ? atol(env) : 20000;
	int json;

	for (json = 0; json < 2; json++) {
		size_t nev, i;
		lossless_event_t *ev = load_events(json, &nev);
		char what[96];
		int view;

		CHECK(ev != NULL && nev >= 49);
		for (view = 1; ev && view >= 0; view--) {
			snprintf(what, sizeof(what), "%s random, %s", json ? "json" : "plain", view ? "view" : "esl_recv_event");
			run(what, ev, nev, n_random, 0, view);
			snprintf(what, sizeof(what), "%s adversarial, %s", json ? "json" : "plain", view ? "view" : "esl_recv_event");
			run(what, ev, nev, n_adversarial, 1, view);
		}
		for (i = 0; ev && i < nev; i++) {
			free(ev[i].frame);
		}
		free(ev);
	}
	return ESLT_DONE();
}
