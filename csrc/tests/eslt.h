/*
 * eslt.h: a minimal check harness for the C unit tests.
 *
 * Each CHECK counts as one passed or failed check; a failure prints its location and the
 * values involved. ESLT_DONE() prints "N passed, M failed" and gives the exit status.
 */
#ifndef ESLT_H
#define ESLT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int eslt_passed, eslt_failed;

#define CHECK(cond)                                                                           \
	do {                                                                                      \
		if (cond) {                                                                           \
			eslt_passed++;                                                                    \
		} else {                                                                              \
			eslt_failed++;                                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);          \
		}                                                                                     \
	} while (0)

static inline void eslt_print_str(const char *label, const char *s)
{
	const unsigned char *p;

	fprintf(stderr, "    %s: ", label);
	if (!s) {
		fprintf(stderr, "(null)\n");
		return;
	}
	fputc('"', stderr);
	for (p = (const unsigned char *) s; *p; p++) {
		if (*p == '\n') {
			fputs("\\n", stderr);
		} else if (*p == '\t') {
			fputs("\\t", stderr);
		} else if (*p < 0x20 || *p >= 0x7f) {
			fprintf(stderr, "\\x%02x", *p);
		} else {
			fputc(*p, stderr);
		}
	}
	fputs("\"\n", stderr);
}

/* Both NULL, or equal strings. */
#define CHECK_STR(got, want)                                                                  \
	do {                                                                                      \
		const char *eslt_g = (got), *eslt_w = (want);                                         \
		if ((!eslt_g && !eslt_w) || (eslt_g && eslt_w && !strcmp(eslt_g, eslt_w))) {         \
			eslt_passed++;                                                                    \
		} else {                                                                              \
			eslt_failed++;                                                                    \
			fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n", __FILE__, __LINE__, #got);      \
			eslt_print_str("got ", eslt_g);                                                   \
			eslt_print_str("want", eslt_w);                                                   \
		}                                                                                     \
	} while (0)

#define CHECK_INT(got, want)                                                                  \
	do {                                                                                      \
		long long eslt_g = (long long) (got), eslt_w = (long long) (want);                    \
		if (eslt_g == eslt_w) {                                                               \
			eslt_passed++;                                                                    \
		} else {                                                                              \
			eslt_failed++;                                                                    \
			fprintf(stderr, "%s:%d: CHECK_INT failed: %s: got %lld, want %lld\n", __FILE__,   \
					__LINE__, #got, eslt_g, eslt_w);                                          \
		}                                                                                     \
	} while (0)

#define CHECK_MEM(got, want, n)                                                               \
	do {                                                                                      \
		if (!memcmp((got), (want), (n))) {                                                    \
			eslt_passed++;                                                                    \
		} else {                                                                              \
			eslt_failed++;                                                                    \
			fprintf(stderr, "%s:%d: CHECK_MEM failed: %s\n", __FILE__, __LINE__, #got);      \
		}                                                                                     \
	} while (0)

static inline double eslt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Runs one test function and reports it when it is slow. */
#define ESLT_RUN(fn)                                                                          \
	do {                                                                                      \
		double eslt_t0 = eslt_now(), eslt_dt;                                                 \
		fn();                                                                                 \
		eslt_dt = eslt_now() - eslt_t0;                                                       \
		if (eslt_dt > 1.0) {                                                                  \
			fprintf(stderr, "note: %s took %.1f s\n", #fn, eslt_dt);                          \
		}                                                                                     \
	} while (0)

/* A new temporary file (in $TMPDIR, else /tmp) named after prefix; its path goes to path
 * (size len). Returns the open descriptor, or -1. */
static inline int eslt_temp_file(char *path, size_t len, const char *prefix)
{
	const char *dir = getenv("TMPDIR");

	if (!dir || !*dir) {
		dir = "/tmp";
	}
	if ((size_t) snprintf(path, len, "%s/%sXXXXXX", dir, prefix) >= len) {
		return -1;
	}
	return mkstemp(path);
}

#define ESLT_DONE() (printf("%d passed, %d failed\n", eslt_passed, eslt_failed), eslt_failed ? 1 : 0)

#endif
