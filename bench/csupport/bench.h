/*
 * bench.h: helpers shared by the C benchmark programs (header only).
 *
 * The checksum is bench/pump.Sum: FNV-1a 64 over each of Event-Name, Unique-ID and
 * Event-Date-Timestamp followed by a NUL byte (a missing header counts as ""), chained
 * over every event in order. Every program prints one "RESULT key=value ..." line.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#define BENCH_FNV_OFFSET 14695981039346656037ULL
#define BENCH_FNV_PRIME 1099511628211ULL

typedef struct {
	uint64_t h, n;
} bench_sum_t;

static inline void bench_sum_init(bench_sum_t *s)
{
	s->h = BENCH_FNV_OFFSET;
	s->n = 0;
}

static inline uint64_t bench_fnv(uint64_t h, const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char) v[i];
		h *= BENCH_FNV_PRIME;
	}
	return h * BENCH_FNV_PRIME;
}

static inline void bench_sum_add(bench_sum_t *s, const char *name, size_t nl, const char *uid, size_t ul, const char *ts, size_t tl)
{
	uint64_t h = s->h;

	h = bench_fnv(h, name, nl);
	h = bench_fnv(h, uid, ul);
	h = bench_fnv(h, ts, tl);
	s->h = h;
	s->n++;
}

static inline void bench_sum_add_cstr(bench_sum_t *s, const char *name, const char *uid, const char *ts)
{
	name = name ? name : "";
	uid = uid ? uid : "";
	ts = ts ? ts : "";
	bench_sum_add(s, name, strlen(name), uid, strlen(uid), ts, strlen(ts));
}

typedef struct {
	double wall;
	double cpu_us;
} bench_clock_t;

static inline bench_clock_t bench_now(void)
{
	bench_clock_t c;
	struct timespec ts;
	struct rusage ru;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	getrusage(RUSAGE_SELF, &ru);
	c.wall = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
	c.cpu_us = (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return c;
}

/* VmHWM and VmRSS in KiB from /proc/self/status (-1 when unknown). */
static inline void bench_proc_status(long *hwm, long *rss)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*hwm = *rss = -1;
	if (!f) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmHWM: %ld kB", hwm);
		sscanf(line, "VmRSS: %ld kB", rss);
	}
	fclose(f);
}

/* Splits "host:port". */
static inline int bench_split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
	const char *c = strrchr(addr, ':');
	size_t n;

	if (!c) {
		return -1;
	}
	n = (size_t) (c - addr);
	if (n >= hostlen) {
		return -1;
	}
	memcpy(host, addr, n);
	host[n] = '\0';
	*port = atoi(c + 1);
	return *port > 0 ? 0 : -1;
}

static inline int bench_dial(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t) port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static inline int bench_write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		b += w;
		n -= (size_t) w;
	}
	return 0;
}

static inline void bench_die(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s\n", prog, what);
	exit(1);
}

#endif
