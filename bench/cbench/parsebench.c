/*
 * parsebench: the library's receive-side parsing alone, with no socket, against the least
 * any reader has to do. The event messages of a recorded stream (the stream ./build.sh
 * bench cycles) are held in memory and parsed round after round:
 *
 *   frames  each message's end ("\n\n", then Content-Length bytes) and the three values
 *           of its event, found by the raw reader's own code (rawscan.h: it stops at the third)
 *   recv    esl_wire_feed and esl_wire_next, then esl_wire_decode_inner: what
 *           esl_recv_event does with the bytes it read, up to handle.last_ievent; the three
 *           headers read, both events destroyed
 *   check   esl_wire_plain_check or esl_wire_json_check on the event text: the C part of
 *           the Go binding's path for a plain or JSON event it keeps as text
 *   view    esl_recv_event_view's work on the event text (the check, the copy into the
 *           view) and the three headers read through the view
 *
 * Each prints the time per event and per header line of the event text, and the share of
 * the frames time: the parsing a client of the libesl API cannot skip, measured apart from
 * the kernel's and the scheduler's share of a streamed run.
 *
 * usage: parsebench FILE.s2c plain|json [ROUNDS]
 * prints: one "PARSE step=... mode=... events=... ns_event=... ns_line=... of_frames=..." line
 *         per step; exits 1 when recv or view did not find the three values frames found in
 *         every event, or the check or the view declined a recorded event (they take every one
 *         of them).
 */
#include <esl.h>
#include <strings.h>

#include "../csupport/bench.h"
#include "../csupport/rawscan.h"
#include "../csupport/recorded.h"
#include "esl_wire.h"

static const char *prog = "parsebench";

#define die(...) recorded_die(prog, __VA_ARGS__)

/* CPU seconds since t: the loops are single-threaded, so CPU time leaves out the time the
 * machine gave to other processes. */
static double cpu_since(bench_clock_t t)
{
	return (bench_now().cpu_us - t.cpu_us) / 1e6;
}

static void report(const char *step, const char *mode, size_t events, size_t lines, double secs, double frames_secs,
				   const bench_sum_t *sum)
{
	printf("PARSE step=%s mode=%s events=%zu ns_event=%.1f ns_line=%.2f of_frames=%.2f sum=%016llx\n", step, mode, events,
		   secs * 1e9 / (double) events, secs * 1e9 / (double) lines, frames_secs > 0 ? secs / frames_secs : 1.0,
		   (unsigned long long) sum->h);
}

int main(int argc, char **argv)
{
	int json;
	size_t n, i, r, rounds, lines = 0, events;
	msg_t *m;
	esl_wire_t *w, *chk;
	bench_clock_t t;
	double frames_secs, secs;
	bench_sum_t sum;
	uint64_t frames_sum, taken = 0;

	if (argc < 3 || (strcmp(argv[2], "plain") && strcmp(argv[2], "json"))) {
		fprintf(stderr, "usage: %s FILE.s2c plain|json [ROUNDS]\n", prog);
		return 2;
	}
	json = !strcmp(argv[2], "json");
	rounds = argc > 3 ? (size_t) strtoul(argv[3], NULL, 10) : 20000;
	m = load_recorded(prog, argv[1], json, &n);
	for (i = 0; i < n; i++) {
		lines += m[i].lines;
	}
	lines *= rounds;
	events = n * rounds;
	if (!(w = esl_wire_create()) || !(chk = esl_wire_create())) {
		die("out of memory");
	}

	/* frames */
	bench_sum_init(&sum);
	t = bench_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			bench_span_t v[3] = { { "", 0 }, { "", 0 }, { "", 0 } };
			bench_frame_t f;
			const char *b;

			/* as the raw reader does */
			if (!bench_frame(m[i].frame, m[i].frame_len, &f) || !f.is_event) {
				die("message %zu not framed as an event", i);
			}
			b = m[i].frame + f.hlen + 2;
			if (json) {
				bench_json_three(b, b + f.clen, v);
			} else {
				bench_plain_three(b, b + f.clen, v);
			}
			bench_sum_add(&sum, v[0].p, v[0].n, v[1].p, v[1].n, v[2].p, v[2].n);
		}
	}
	frames_secs = cpu_since(t);
	report("frames", argv[2], events, lines, frames_secs, frames_secs, &sum);
	frames_sum = sum.h;

	/* recv: the library's parse into last_ievent */
	bench_sum_init(&sum);
	t = bench_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			esl_event_t *ev = NULL, *inner = NULL;

			if (esl_wire_feed(w, m[i].frame, m[i].frame_len) || esl_wire_next(w, &ev) != ESL_WIRE_MESSAGE ||
				esl_wire_decode_inner(w, ev, &inner) != ESL_SUCCESS || !inner) {
				die("message %zu not parsed: %s", i, esl_wire_error(w));
			}
			bench_sum_add_cstr(&sum, esl_event_get_header(inner, "Event-Name"), esl_event_get_header(inner, "Unique-ID"),
							   esl_event_get_header(inner, "Event-Date-Timestamp"));
			esl_event_destroy(&inner);
			esl_event_destroy(&ev);
		}
	}
	secs = cpu_since(t);
	report("recv", argv[2], events, lines, secs, frames_secs, &sum);
	if (sum.h != frames_sum) {
		die("recv found other header values than frames (checksum %016llx, frames %016llx)", (unsigned long long) sum.h,
			(unsigned long long) frames_sum);
	}

	/* check: the text check of the Go binding's path */
	t = bench_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			esl_wire_text_info_t ti;
			int ok = json ? esl_wire_json_check(chk, m[i].body, m[i].body_len, &ti)
						  : esl_wire_plain_check(chk, m[i].body, m[i].body_len, &ti);

			taken += ok == 1;
		}
	}
	secs = cpu_since(t);
	printf("PARSE step=check mode=%s events=%zu ns_event=%.1f ns_line=%.2f of_frames=%.2f taken=%llu\n", argv[2], events,
		   secs * 1e9 / (double) events, secs * 1e9 / (double) lines, secs / frames_secs, (unsigned long long) taken);
	if (taken != events) {
		die("the check declined %llu recorded events", (unsigned long long) (events - taken));
	}

	/* view: what esl_recv_event_view does with an event's text, and the three lookups */
	{
		esl_event_view_t *view = NULL;

		if (esl_event_view_create(&view) != ESL_SUCCESS) {
			die("out of memory");
		}
		bench_sum_init(&sum);
		t = bench_now();
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < n; i++) {
				if (esl_event_view_set_text(view, m[i].body, m[i].body_len, json) != 1) {
					die("the view declined message %zu", i);
				}
				bench_sum_add_cstr(&sum, esl_event_view_get_header(view, "Event-Name"),
								   esl_event_view_get_header(view, "Unique-ID"),
								   esl_event_view_get_header(view, "Event-Date-Timestamp"));
			}
		}
		secs = cpu_since(t);
		report("view", argv[2], events, lines, secs, frames_secs, &sum);
		esl_event_view_destroy(&view);
		if (sum.h != frames_sum) {
			die("view found other header values than frames (checksum %016llx, frames %016llx)", (unsigned long long) sum.h,
				(unsigned long long) frames_sum);
		}
	}

	esl_wire_destroy(&w);
	esl_wire_destroy(&chk);
	for (i = 0; i < n; i++) {
		free(m[i].frame);
	}
	free(m);
	return 0;
}
