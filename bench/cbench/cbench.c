/*
 * cbench: a C client over the libesl API (this repository's csrc, or any libesl with the
 * same API). Event modes subscribe with esl_events and call esl_recv_event in a loop,
 * reading Event-Name, Unique-ID and Event-Date-Timestamp from handle.last_ievent; api
 * mode runs esl_send_recv("api ping") round trips. The modes plain-view and json-view
 * (csrc's extension, ESL_HAVE_EXTENSIONS) receive with esl_recv_event_view instead and read
 * the three headers through the view.
 *
 * usage: cbench HOST:PORT plain|json|plain-view|json-view|api N [PASSWORD] [LABEL]
 * prints: RESULT client=LABEL mode=... events=N secs=... sum=... got=... cpu_us=...
 *         allocs=... hwm_kib=... rss_kib=...
 *
 * Built with -DBENCH_COUNT_ALLOCS and -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * --wrap=strdup,--wrap=strndup, it counts the allocation calls made by the library (and
 * this program) during the measured part; allocations made inside libc (vasprintf...) are
 * not seen. Without it, allocs is -1.
 *
 * A watchdog thread ends the program (exit 2) when no event was counted for 10 s, with the
 * count so far and the number of messages that left no inner event in last_ievent.
 */
#include <esl.h>
#include <pthread.h>

#include "../csupport/bench.h"

static const char *prog = "cbench";

/* Progress, read by the watchdog: events counted, and messages that left no inner event;
 * every 65536 events the main loop notes the count, checksum and clock. */
static long n_events, n_no_inner, n_mode, mark_events;
static const char *run_mode = "";
static double mark_secs, mark_cpu;
static unsigned long long mark_sum;
static bench_clock_t t_start;
static pthread_mutex_t mark_mu = PTHREAD_MUTEX_INITIALIZER;

/* Ends the program when nothing was counted for 10 s (a library that lost events would
 * otherwise wait forever for the rest), saying how far it got. */
static void *watchdog(void *arg)
{
	long last = -1, idle = 0;

	(void) arg;
	for (;;) {
		long now = __atomic_load_n(&n_events, __ATOMIC_RELAXED);

		sleep(1);
		if (now != last) {
			last = now;
			idle = 0;
			continue;
		}
		if (++idle >= 10) {
			long me;
			double ms, mc;
			unsigned long long msum;

			pthread_mutex_lock(&mark_mu);
			me = mark_events, ms = mark_secs, mc = mark_cpu, msum = mark_sum;
			pthread_mutex_unlock(&mark_mu);
			/* the rate up to the last mark, so a stalled run still tells its speed */
			printf("RESULT client=stalled mode=%s events=%ld secs=%.6f sum=%016llx got=%ld cpu_us=%.0f allocs=-1 hwm_kib=-1 rss_kib=-1\n",
				run_mode, n_mode, ms, msum, me, mc);
			fflush(stdout);
			fprintf(stderr, "%s: stalled: %ld events counted, %ld messages without an inner event, no progress for 10 s\n", prog,
				now, __atomic_load_n(&n_no_inner, __ATOMIC_RELAXED));
			fflush(stderr);
			_exit(2);
		}
	}
	return NULL;
}

#ifdef BENCH_COUNT_ALLOCS
static unsigned long long n_allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n)
{
	n_allocs++;
	return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t m)
{
	n_allocs++;
	return __real_calloc(n, m);
}
void *__wrap_realloc(void *p, size_t n)
{
	n_allocs++;
	return __real_realloc(p, n);
}
char *__wrap_strdup(const char *s)
{
	n_allocs++;
	return __real_strdup(s);
}
char *__wrap_strndup(const char *s, size_t n)
{
	n_allocs++;
	return __real_strndup(s, n);
}
#define ALLOCS() ((long long) n_allocs)
#else
#define ALLOCS() (-1LL)
#endif

/* One message through esl_recv_event, its three headers from last_ievent added to sum: 1 for
 * an event, 0 for another message, -1 when the receive failed. */
static int recv_built(esl_handle_t *h, bench_sum_t *sum)
{
	esl_event_t *e;

	if (esl_recv_event(h, 1, NULL) != ESL_SUCCESS) {
		return -1;
	}
	if (!(e = h->last_ievent)) {
		return 0;
	}
	bench_sum_add_cstr(sum, esl_event_get_header(e, "Event-Name"), esl_event_get_header(e, "Unique-ID"),
		esl_event_get_header(e, "Event-Date-Timestamp"));
	return 1;
}

#ifdef ESL_HAVE_EXTENSIONS
/* The same through esl_recv_event_view. */
static int recv_view(esl_handle_t *h, esl_event_view_t *v, bench_sum_t *sum)
{
	if (esl_recv_event_view(h, 0, v) != ESL_SUCCESS) {
		return -1;
	}
	if (!esl_event_view_has_event(v)) {
		return 0;
	}
	bench_sum_add_cstr(sum, esl_event_view_get_header(v, "Event-Name"), esl_event_view_get_header(v, "Unique-ID"),
		esl_event_view_get_header(v, "Event-Date-Timestamp"));
	return 1;
}
#else
/* Built against a libesl without csrc's extensions: no views. */
typedef struct esl_event_view esl_event_view_t;

static esl_status_t esl_event_view_create(esl_event_view_t **v)
{
	*v = NULL;
	return ESL_FAIL;
}

static void esl_event_view_destroy(esl_event_view_t **v)
{
	(void) v;
}

static int recv_view(esl_handle_t *h, esl_event_view_t *v, bench_sum_t *sum)
{
	(void) h, (void) v, (void) sum;
	return -1;
}
#endif

int main(int argc, char **argv)
{
	static esl_handle_t h = {{0}};
	char host[256];
	const char *mode, *password = argc > 4 ? argv[4] : "ClueCon", *label = argc > 5 ? argv[5] : "c";
	int port;
	long n, i, hwm, rss;
	long long a0, a1;
	bench_sum_t sum;
	bench_clock_t t0, t1;
	esl_event_view_t *ev_view = NULL;

	if (argc < 4 || bench_split_addr(argv[1], host, sizeof(host), &port)) {
		bench_die(prog, "usage: cbench HOST:PORT plain|json|plain-view|json-view|api N [PASSWORD] [LABEL]");
	}
	mode = argv[2];
	n = atol(argv[3]);
	esl_global_set_default_logger(ESL_LOG_LEVEL_EMERG);
	esl_global_set_logger(NULL);
	if (esl_connect_timeout(&h, host, (esl_port_t) port, NULL, password, 10000) != ESL_SUCCESS) {
		fprintf(stderr, "%s: connect: %s\n", prog, h.err);
		return 1;
	}
	bench_sum_init(&sum);
	t0 = bench_now();
	a0 = ALLOCS();
	if (!strcmp(mode, "api")) {
		for (i = 0; i < n; i++) {
			if (esl_send_recv(&h, "api ping") != ESL_SUCCESS || !h.last_sr_event || !h.last_sr_event->body) {
				fprintf(stderr, "%s: api round trip %ld failed: %s\n", prog, i, h.err);
				return 1;
			}
		}
	} else {
		int json = !strncmp(mode, "json", 4), view = strstr(mode, "-view") != NULL;

		if (view && esl_event_view_create(&ev_view) != ESL_SUCCESS) {
			bench_die(prog, "the view modes need csrc's extensions (or memory ran out)");
		}

		if (esl_events(&h, json ? ESL_EVENT_TYPE_JSON : ESL_EVENT_TYPE_PLAIN, "ALL") != ESL_SUCCESS) {
			fprintf(stderr, "%s: event subscription failed: %s\n", prog, h.err);
			return 1;
		}
		pthread_t wd;

		n_mode = n;
		run_mode = mode;
		t_start = t0;
		pthread_create(&wd, NULL, watchdog, NULL);
		for (i = 0; i < n;) {
			int r = view ? recv_view(&h, ev_view, &sum) : recv_built(&h, &sum);

			if (r < 0) {
				fprintf(stderr, "%s: receive failed after %ld events: %s\n", prog, i, h.err);
				return 1;
			}
			if (!r) {
				/* not an event (or one the library did not decode) */
				__atomic_store_n(&n_no_inner, n_no_inner + 1, __ATOMIC_RELAXED);
				continue;
			}
			i++;
			__atomic_store_n(&n_events, i, __ATOMIC_RELAXED);
			if (!(i & 65535)) {
				bench_clock_t t = bench_now();

				pthread_mutex_lock(&mark_mu);
				mark_events = i, mark_secs = t.wall - t_start.wall, mark_cpu = t.cpu_us - t_start.cpu_us, mark_sum = sum.h;
				pthread_mutex_unlock(&mark_mu);
			}
		}
	}
	a1 = ALLOCS();
	t1 = bench_now();
	bench_proc_status(&hwm, &rss);
	printf("RESULT client=%s mode=%s events=%ld secs=%.6f sum=%016llx got=%llu cpu_us=%.0f allocs=%lld hwm_kib=%ld rss_kib=%ld\n",
		label, mode, n, t1.wall - t0.wall, (unsigned long long) sum.h, (unsigned long long) sum.n, t1.cpu_us - t0.cpu_us,
		a0 < 0 ? -1LL : a1 - a0, hwm, rss);
	esl_disconnect(&h);
	esl_event_view_destroy(&ev_view);
	return 0;
}
