/*
 * rawreader: the upper bound for an event-socket client. It logs in, subscribes, then
 * only moves bytes and finds what a client must find: each message's end (the "\n\n" of
 * the header block plus Content-Length body bytes) and, in each event, the values of
 * Event-Name, Unique-ID and Event-Date-Timestamp, with no decoding and no copies.
 *
 * usage: rawreader HOST:PORT plain|json N [PASSWORD]
 * prints: RESULT client=raw mode=plain events=N secs=... sum=... got=... cpu_us=... hwm_kib=... rss_kib=...
 */
#include "../csupport/bench.h"
#include "../csupport/rawscan.h"

/* As large as csrc's largest read (WIRE_MAX_READ_ROOM): larger reads made both faster (this
 * reader 0.82-0.96 of the time with 1 MiB than with 256 KiB), and the upper bound must not
 * lose to the library on the read size. */
#define READ_SIZE (1024 * 1024)

static const char *prog = "rawreader";

int main(int argc, char **argv)
{
	char host[256], cmd[128];
	const char *password = argc > 4 ? argv[4] : "ClueCon";
	int port, fd, json, state = 0;
	long n, got = 0, hwm, rss;
	size_t cap = 4 * 1024 * 1024, len = 0, pos = 0;
	char *buf;
	bench_sum_t sum;
	bench_clock_t t0 = {0}, t1;

	if (argc < 4 || bench_split_addr(argv[1], host, sizeof(host), &port)) {
		bench_die(prog, "usage: rawreader HOST:PORT plain|json N [PASSWORD]");
	}
	json = !strcmp(argv[2], "json");
	n = atol(argv[3]);
	if ((fd = bench_dial(host, port)) < 0) {
		bench_die(prog, "connect failed");
	}
	if (!(buf = malloc(cap))) {
		bench_die(prog, "out of memory");
	}
	bench_sum_init(&sum);
	while (got < n) {
		const char *b = buf + pos;
		bench_frame_t f;

		if (bench_frame(b, len - pos, &f)) {
			if (f.is_event) {
				bench_span_t v[3] = {{"", 0}, {"", 0}, {"", 0}};
				const char *body = b + f.hlen + 2, *bend = body + f.clen;

				if (json) {
					bench_json_three(body, bend, v);
				} else {
					bench_plain_three(body, bend, v);
				}
				bench_sum_add(&sum, v[0].p, v[0].n, v[1].p, v[1].n, v[2].p, v[2].n);
				got++;
			} else if (state == 0) { /* auth/request */
				snprintf(cmd, sizeof(cmd), "auth %s\n\n", password);
				bench_write_all(fd, cmd, strlen(cmd));
				state = 1;
			} else if (state == 1) { /* the auth reply */
				if (!memmem(b, f.hlen, "+OK", 3)) {
					bench_die(prog, "authentication failed");
				}
				t0 = bench_now();
				snprintf(cmd, sizeof(cmd), "event %s ALL\n\n", json ? "json" : "plain");
				bench_write_all(fd, cmd, strlen(cmd));
				state = 2;
			}
			pos += f.total;
			continue;
		}
		/* need more bytes: keep the partial message at the start of the buffer */
		if (pos > 0) {
			memmove(buf, buf + pos, len - pos);
			len -= pos;
			pos = 0;
		}
		if (cap - len < READ_SIZE) {
			cap *= 2;
			if (!(buf = realloc(buf, cap))) {
				bench_die(prog, "out of memory");
			}
		}
		{
			ssize_t r = read(fd, buf + len, READ_SIZE);

			if (r < 0 && errno == EINTR) {
				continue;
			}
			if (r <= 0) {
				fprintf(stderr, "%s: connection ended after %ld events\n", prog, got);
				return 1;
			}
			len += (size_t) r;
		}
	}
	t1 = bench_now();
	bench_proc_status(&hwm, &rss);
	printf("RESULT client=raw mode=%s events=%ld secs=%.6f sum=%016llx got=%llu cpu_us=%.0f hwm_kib=%ld rss_kib=%ld\n",
		json ? "json" : "plain", n, t1.wall - t0.wall, (unsigned long long) sum.h, (unsigned long long) sum.n,
		t1.cpu_us - t0.cpu_us, hwm, rss);
	close(fd);
	free(buf);
	return 0;
}
