/*
 * abparse: the parser of two source trees in one process, on the recorded events, interleaved
 * round by round: a change's effect on the parser measured apart from the machine's load,
 * which moves a whole run of parsebench by more than most changes do. `./build.sh abparse REV`
 * builds it: the library of revision REV ("base"), its functions renamed base_*, beside the
 * working tree's ("tree").
 *
 *   check  esl_wire_plain_check or esl_wire_json_check on the event text
 *   parse  esl_wire_parse_plain or esl_wire_parse_json, the three headers read, the event
 *          destroyed
 *
 * Each iteration times every recorded event ROUNDS times through one library, then through the
 * other, the order swapped every iteration; the result is the median of the per-iteration
 * ratios tree/base, with the quartiles, and the mean time per event of each.
 *
 * Both revisions must declare these functions as the tree does; the text info is written into
 * a buffer large enough for either layout and is not read.
 *
 * usage: abparse FILE.s2c plain|json [ITERATIONS [ROUNDS]]
 * prints: one "AB step=... mode=... base_ns=... tree_ns=... ratio=... q1=... q3=..." line per
 *         step; exits 1 when the two disagree on an event (the check's verdict, or the three
 *         values of a parsed event).
 */
#include <esl.h>
#include <strings.h>

#include "../csupport/bench.h"
#include "../csupport/rawscan.h"
#include "../csupport/recorded.h"
#include "esl_wire.h"

static const char *prog = "abparse";

/* The functions of one library. */
typedef struct {
	esl_wire_t *(*create)(void);
	void (*destroy)(esl_wire_t **);
	int (*check[2])(esl_wire_t *, const char *, size_t, esl_wire_text_info_t *);
	esl_status_t (*parse[2])(esl_wire_t *, const char *, size_t, esl_event_t **);
	char *(*get_header_idx)(esl_event_t *, const char *, int);
	void (*event_destroy)(esl_event_t **);
} parser_lib_t;

/* revision REV's library, renamed by ./build.sh abparse */
esl_wire_t *base_esl_wire_create(void);
void base_esl_wire_destroy(esl_wire_t **wire);
int base_esl_wire_plain_check(esl_wire_t *wire, const char *text, size_t len, esl_wire_text_info_t *out);
int base_esl_wire_json_check(esl_wire_t *wire, const char *json, size_t len, esl_wire_text_info_t *out);
esl_status_t base_esl_wire_parse_plain(esl_wire_t *wire, const char *text, size_t len, esl_event_t **event);
esl_status_t base_esl_wire_parse_json(esl_wire_t *wire, const char *json, size_t len, esl_event_t **event);
char *base_esl_event_get_header_idx(esl_event_t *event, const char *header_name, int idx);
void base_esl_event_destroy(esl_event_t **event);

static const parser_lib_t base = {
	base_esl_wire_create,         base_esl_wire_destroy,
	{ base_esl_wire_plain_check, base_esl_wire_json_check },
	{ base_esl_wire_parse_plain, base_esl_wire_parse_json },
	base_esl_event_get_header_idx, base_esl_event_destroy,
};

static const parser_lib_t tree = {
	esl_wire_create,         esl_wire_destroy,
	{ esl_wire_plain_check, esl_wire_json_check },
	{ esl_wire_parse_plain, esl_wire_parse_json },
	esl_event_get_header_idx, esl_event_destroy,
};

/* Room for the text info of either revision; never read. */
typedef union {
	esl_wire_text_info_t info;
	unsigned char room[1024];
} info_room_t;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* One pass of a step over the events, rounds times; what it found goes into *sum (the
 * check's verdicts, or the parsed events' three values). */
static double run_step(const parser_lib_t *lib, esl_wire_t *w, int parse, int json, const msg_t *m, size_t n,
					   size_t rounds, bench_sum_t *sum)
{
	double t = now();
	size_t r, i;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			if (!parse) {
				info_room_t out;
				int ok = lib->check[json](w, m[i].body, m[i].body_len, &out.info);

				sum->h = (sum->h ^ (uint64_t) (ok + 2)) * BENCH_FNV_PRIME;
				sum->n++;
			} else {
				esl_event_t *ev = NULL;

				if (lib->parse[json](w, m[i].body, m[i].body_len, &ev) != ESL_SUCCESS || !ev) {
					recorded_die(prog, "event %zu did not parse", i);
				}
				bench_sum_add_cstr(sum, lib->get_header_idx(ev, "Event-Name", -1), lib->get_header_idx(ev, "Unique-ID", -1),
								   lib->get_header_idx(ev, "Event-Date-Timestamp", -1));
				lib->event_destroy(&ev);
			}
		}
	}
	return now() - t;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const char *const steps[] = { "check", "parse" };
	int json, step;
	size_t n, it, iters, rounds;
	msg_t *m;
	double *ratio;

	if (argc < 3 || (strcmp(argv[2], "plain") && strcmp(argv[2], "json"))) {
		fprintf(stderr, "usage: %s FILE.s2c plain|json [ITERATIONS [ROUNDS]]\n", prog);
		return 2;
	}
	json = !strcmp(argv[2], "json");
	iters = argc > 3 ? (size_t) strtoul(argv[3], NULL, 10) : 300;
	rounds = argc > 4 ? (size_t) strtoul(argv[4], NULL, 10) : 20;
	if (!iters || !rounds) {
		recorded_die(prog, "ITERATIONS and ROUNDS must be positive");
	}
	m = load_recorded(prog, argv[1], json, &n);
	if (!(ratio = malloc(iters * sizeof(*ratio)))) {
		recorded_die(prog, "out of memory");
	}
	for (step = 0; step < 2; step++) {
		esl_wire_t *wb = base.create(), *wt = tree.create();
		double tb = 0, tt = 0;
		bench_sum_t sb, st;

		if (!wb || !wt) {
			recorded_die(prog, "out of memory");
		}
		bench_sum_init(&sb);
		bench_sum_init(&st);
		for (it = 0; it < iters; it++) {
			double b, t;

			if (it % 2) {
				t = run_step(&tree, wt, step, json, m, n, rounds, &st);
				b = run_step(&base, wb, step, json, m, n, rounds, &sb);
			} else {
				b = run_step(&base, wb, step, json, m, n, rounds, &sb);
				t = run_step(&tree, wt, step, json, m, n, rounds, &st);
			}
			tb += b;
			tt += t;
			ratio[it] = t / b;
		}
		if (sb.h != st.h) {
			recorded_die(prog, "%s: base and tree disagree on the recorded events", steps[step]);
		}
		qsort(ratio, iters, sizeof(*ratio), by_value);
		printf("AB step=%s mode=%s base_ns=%.1f tree_ns=%.1f ratio=%.3f q1=%.3f q3=%.3f iterations=%zu\n", steps[step],
			   argv[2], tb * 1e9 / (double) (iters * rounds * n), tt * 1e9 / (double) (iters * rounds * n), ratio[iters / 2],
			   ratio[iters / 4], ratio[3 * iters / 4], iters);
		base.destroy(&wb);
		tree.destroy(&wt);
	}
	free(ratio);
	for (it = 0; it < n; it++) {
		free(m[it].frame);
	}
	free(m);
	return 0;
}
