/*
 * pingpong: the baseline for api round trips. On a raw socket it writes "api ping\n\n",
 * reads the api/response (header block up to "\n\n", then Content-Length body bytes) and
 * repeats, one request in flight, with no library and no copies.
 *
 * usage: pingpong HOST:PORT N [PASSWORD]
 * prints: RESULT client=rawpp mode=api events=N secs=... cpu_us=... hwm_kib=... rss_kib=...
 */
#include "../csupport/bench.h"

static const char *prog = "pingpong";

typedef struct {
	int fd;
	char buf[65536];
	size_t pos, len;
} rd_t;

/* Reads one message; returns its header length, or -1 at the end of the stream. */
static long read_message(rd_t *r)
{
	for (;;) {
		char *b = r->buf + r->pos, *he;
		size_t avail = r->len - r->pos;

		if (avail >= 2 && (he = memmem(b, avail, "\n\n", 2))) {
			size_t hlen = (size_t) (he - b);
			char *cl = memmem(b, hlen, "Content-Length: ", 16);
			size_t total = hlen + 2 + (cl ? (size_t) atol(cl + 16) : 0);

			if (total <= avail) {
				r->pos += total;
				return (long) hlen;
			}
		}
		if (r->pos > 0) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->len -= r->pos;
			r->pos = 0;
		}
		{
			ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);

			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				return -1;
			}
			r->len += (size_t) n;
		}
	}
}

int main(int argc, char **argv)
{
	static rd_t r;
	char host[256], cmd[128];
	const char *password = argc > 3 ? argv[3] : "ClueCon";
	static const char ping[] = "api ping\n\n";
	int port;
	long n, i, hwm, rss;
	bench_clock_t t0, t1;

	if (argc < 3 || bench_split_addr(argv[1], host, sizeof(host), &port)) {
		bench_die(prog, "usage: pingpong HOST:PORT N [PASSWORD]");
	}
	n = atol(argv[2]);
	if ((r.fd = bench_dial(host, port)) < 0) {
		bench_die(prog, "connect failed");
	}
	if (read_message(&r) < 0) {
		bench_die(prog, "no greeting");
	}
	snprintf(cmd, sizeof(cmd), "auth %s\n\n", password);
	if (bench_write_all(r.fd, cmd, strlen(cmd)) || read_message(&r) < 0) {
		bench_die(prog, "login failed");
	}
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if (bench_write_all(r.fd, ping, sizeof(ping) - 1) || read_message(&r) < 0) {
			bench_die(prog, "connection ended");
		}
	}
	t1 = bench_now();
	bench_proc_status(&hwm, &rss);
	printf("RESULT client=rawpp mode=api events=%ld secs=%.6f sum=%016llx got=0 cpu_us=%.0f hwm_kib=%ld rss_kib=%ld\n", n,
		t1.wall - t0.wall, (unsigned long long) BENCH_FNV_OFFSET, t1.cpu_us - t0.cpu_us, hwm, rss);
	close(r.fd);
	return 0;
}
