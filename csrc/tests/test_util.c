/*
 * test_util.c: unit tests of the string helpers, the logger, and threads and mutexes.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "esl.h"
#include "esl_log_private.h"
#include "eslt.h"

/* ------------------------------------------------------------------------------------------ */
/* URL encoding */

static int must_encode(unsigned char c)
{
	return c < 0x20 || c > 0x7e || strchr(" \"#%&+:;<=>?@[\\]^`{|}", c) != NULL;
}

static void test_url_encode(void)
{
	char buf[64], in[2] = { 0, 0 }, want[8];
	int c, ok = 1;
	size_t n;

	for (c = 1; c < 256; c++) {
		in[0] = (char) c;
		n = esl_url_encode(in, buf, sizeof(buf));
		if (must_encode((unsigned char) c)) {
			snprintf(want, sizeof(want), "%%%02X", c);
		} else {
			want[0] = (char) c;
			want[1] = '\0';
		}
		if (strcmp(buf, want) || n != strlen(want)) {
			ok = 0;
			fprintf(stderr, "    byte 0x%02x encoded as %s\n", c, buf);
		}
	}
	CHECK(ok);

	CHECK_INT(esl_url_encode("a b", buf, sizeof(buf)), 5);
	CHECK_STR(buf, "a%20b");
	/* Q21 fixed: high bytes use their real hex digits */
	esl_url_encode("\xc3\xa9\xff\x80", buf, sizeof(buf));
	CHECK_STR(buf, "%C3%A9%FF%80");
	esl_url_encode("100%", buf, sizeof(buf));
	CHECK_STR(buf, "100%25");
	esl_url_encode("%41", buf, sizeof(buf));
	CHECK_STR(buf, "%2541");
	esl_url_encode("", buf, sizeof(buf));
	CHECK_STR(buf, "");

	/* never more than len - 1 characters, never a cut escape */
	memset(buf, 'X', sizeof(buf));
	CHECK_INT(esl_url_encode("abcdef", buf, 4), 3);
	CHECK_STR(buf, "abc");
	CHECK(buf[4] == 'X');
	CHECK_INT(esl_url_encode("a b", buf, 4), 1);
	CHECK_STR(buf, "a");
	CHECK_INT(esl_url_encode("a b", buf, 5), 4);
	CHECK_STR(buf, "a%20");
	CHECK_INT(esl_url_encode(" ", buf, 3), 0);
	CHECK_STR(buf, "");
	CHECK_INT(esl_url_encode(" ", buf, 4), 3);
	CHECK_INT(esl_url_encode("abc", buf, 1), 0);
	CHECK_STR(buf, "");
	buf[0] = 'X';
	CHECK_INT(esl_url_encode("abc", buf, 0), 0);
	CHECK(buf[0] == 'X');
	CHECK_INT(esl_url_encode(NULL, buf, 10), 0);
	CHECK_INT(esl_url_encode("a", NULL, 10), 0);
	/* stops at the first thing that does not fit, even if a later plain char would */
	CHECK_INT(esl_url_encode("ab cd", buf, 5), 2);
	CHECK_STR(buf, "ab");
}

/* What libesl does for one escape: sscanf "%2x" on the two characters after '%'. */
static char *ref_decode(const char *in)
{
	char *out = strdup(in), *o = out;
	const char *s;
	unsigned int tmp;

	for (s = in; *s; s++, o++) {
		if (*s == '%' && strlen(s) > 2 && sscanf(s + 1, "%2x", &tmp) == 1) {
			*o = (char) tmp;
			s += 2;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
	return out;
}

static void test_url_decode(void)
{
	static const char alphabet[] = { '%', '0', '4', '9', 'a', 'F', 'g', 'z', ' ', '\t', '+', '-', 'x', 'X', '\n', '1' };
	char buf[64], *end;
	int i, j, k, l, ok = 1;

	strcpy(buf, "a%41b");
	end = esl_url_decode(buf);
	CHECK_STR(buf, "aAb");
	/* Q22: the end of the decoded text is returned */
	CHECK(end == buf + 3 && *end == '\0');

	strcpy(buf, "%c3%A9+x");
	esl_url_decode(buf);
	CHECK_STR(buf, "\xc3\xa9+x");
	strcpy(buf, "%");
	CHECK(esl_url_decode(buf) == buf + 1);
	CHECK_STR(buf, "%");
	strcpy(buf, "%4");
	esl_url_decode(buf);
	CHECK_STR(buf, "%4");
	strcpy(buf, "x%zz");
	esl_url_decode(buf);
	CHECK_STR(buf, "x%zz");
	/* sscanf leniency kept: one hex digit, and the second character is consumed anyway */
	strcpy(buf, "%4zA");
	esl_url_decode(buf);
	CHECK_STR(buf, "\x04" "A");
	strcpy(buf, "%%41");
	esl_url_decode(buf);
	CHECK_STR(buf, "%A");
	strcpy(buf, "");
	CHECK(esl_url_decode(buf) == buf);
	CHECK(esl_url_decode(NULL) == NULL);
	/* %00 writes a NUL: the C string ends there */
	strcpy(buf, "a%00b");
	end = esl_url_decode(buf);
	CHECK(end == buf + 3);
	CHECK(buf[0] == 'a' && buf[1] == '\0' && buf[2] == 'b');

	/* every combination of up to four characters from a tricky alphabet matches sscanf */
	for (i = 0; i < 16 && ok; i++) {
		for (j = 0; j < 16 && ok; j++) {
			for (k = 0; k < 16 && ok; k++) {
				for (l = 0; l < 16 && ok; l++) {
					char in[6] = { alphabet[i], alphabet[j], alphabet[k], alphabet[l], 'e', 0 }, *want;

					want = ref_decode(in);
					strcpy(buf, in);
					esl_url_decode(buf);
					if (memcmp(buf, want, 6)) {
						ok = 0;
						fprintf(stderr, "    decode of \"%s\" differs\n", in);
					}
					free(want);
				}
			}
		}
	}
	CHECK(ok);
	/* white space before the digits, as sscanf skips it */
	strcpy(buf, "% 41x");
	esl_url_decode(buf);
	CHECK_STR(buf, "A1x");
	end = ref_decode("% \t\n41x");
	strcpy(buf, "% \t\n41x");
	esl_url_decode(buf);
	CHECK_STR(buf, end);
	free(end);

	/* round trip of every byte */
	{
		char all[256], enc[800];

		for (i = 1; i < 256; i++) {
			all[i - 1] = (char) i;
		}
		all[255] = '\0';
		esl_url_encode(all, enc, sizeof(enc));
		esl_url_decode(enc);
		CHECK_STR(enc, all);
	}

	/* long runs of escapes and of bad escapes decode in linear time */
	{
		size_t n = 4 * 1024 * 1024, m;
		char *big = malloc(n + 1);
		double t0 = eslt_now();

		for (m = 0; m + 3 <= n; m += 3) {
			memcpy(big + m, (m / 3) % 2 ? "%41" : "%zz", 3);
		}
		big[m] = '\0';
		esl_url_decode(big);
		CHECK(eslt_now() - t0 < 5.0);
		CHECK(!strncmp(big, "%zzA%zzA", 8));
		free(big);
	}
}

static void test_case_and_search(void)
{
	int c, ok = 1;
	const char *hay = "Hello World, hello again";

	for (c = 0; c < 256; c++) {
		int up = (c >= 'a' && c <= 'z') ? c - 32 : c, lo = (c >= 'A' && c <= 'Z') ? c + 32 : c;

		if (esl_toupper(c) != up || esl_tolower(c) != lo) {
			ok = 0;
		}
	}
	CHECK(ok);
	CHECK_INT(esl_toupper(300), 300);
	CHECK_INT(esl_tolower(1000), 1000);
	CHECK_INT(esl_toupper(-1), -1);
	CHECK_INT(esl_toupper(-2), EOF);
	CHECK_INT(esl_tolower(-100), EOF);

	/* the needle comes first */
	CHECK(esl_stristr("WORLD", hay) == hay + 6);
	CHECK(esl_stristr("hello", hay) == hay);
	CHECK(esl_stristr("AGAIN", hay) == hay + 19);
	CHECK(esl_stristr("again!", hay) == NULL);
	CHECK(esl_stristr("xyz", hay) == NULL);
	CHECK(esl_stristr(hay, "Hello") == NULL);
	CHECK(esl_stristr("", hay) == NULL);
	CHECK(esl_stristr("a", "") == NULL);
	CHECK(esl_stristr(NULL, hay) == NULL);
	CHECK(esl_stristr("a", NULL) == NULL);
	CHECK(esl_stristr("aab", "aaab") != NULL);
	CHECK(esl_stristr("\xc3\xa9", "caf\xc3\xa9") != NULL);
	/* non-ASCII bytes only match themselves */
	CHECK(esl_stristr("\xc3\x89", "caf\xc3\xa9") == NULL);
}

static void test_format(void)
{
	char buf[16];
	int n;

	/* Q29: count - 1 goes to vsnprintf, so at most count - 2 characters */
	memset(buf, 'X', sizeof(buf));
	n = esl_snprintf(buf, 5, "%s", "abcdef");
	CHECK_INT(n, 6);
	CHECK_STR(buf, "abc");
	CHECK(buf[4] == 'X');
	n = esl_snprintf(buf, sizeof(buf), "%d-%s", 7, "x");
	CHECK_INT(n, 3);
	CHECK_STR(buf, "7-x");
	buf[0] = 'X';
	CHECK_INT(esl_snprintf(buf, 1, "%s", "abc"), 3);
	CHECK(buf[0] == '\0');
	buf[0] = 'X';
	CHECK_INT(esl_snprintf(buf, 0, "%s", "abc"), 3);
	CHECK(buf[0] == 'X');
}

static int call_vasprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = esl_vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

static void test_vasprintf_and_split(void)
{
	char *s = NULL, *arr[8], buf[64];
	unsigned int n;

	CHECK_INT(call_vasprintf(&s, "%s:%d", "a", 12), 4);
	CHECK_STR(s, "a:12");
	free(s);
	s = (char *) "x";
	CHECK_INT(call_vasprintf(&s, NULL), -1);
	CHECK(s == NULL);

	strcpy(buf, "a|:b|:c");
	n = esl_separate_string_string(buf, "|:", arr, 8);
	CHECK_INT(n, 3);
	CHECK_STR(arr[0], "a");
	CHECK_STR(arr[1], "b");
	CHECK_STR(arr[2], "c");

	strcpy(buf, "a|:b|:c");
	n = esl_separate_string_string(buf, "|:", arr, 2);
	CHECK_INT(n, 2);
	CHECK_STR(arr[0], "a");
	CHECK_STR(arr[1], "b|:c");

	strcpy(buf, "|:x|:|:");
	n = esl_separate_string_string(buf, "|:", arr, 8);
	CHECK_INT(n, 4);
	CHECK_STR(arr[0], "");
	CHECK_STR(arr[1], "x");
	CHECK_STR(arr[2], "");
	CHECK_STR(arr[3], "");

	strcpy(buf, "");
	n = esl_separate_string_string(buf, "|:", arr, 8);
	CHECK_INT(n, 1);
	CHECK(arr[0] == buf);
	strcpy(buf, "nodelim");
	CHECK_INT(esl_separate_string_string(buf, "|:", arr, 8), 1);
	CHECK_INT(esl_separate_string_string(buf, "", arr, 8), 1);
	CHECK_INT(esl_separate_string_string(buf, "|:", arr, 0), 0);
	CHECK_INT(esl_separate_string_string(NULL, "|:", arr, 8), 0);
	strcpy(buf, "a::::b");
	n = esl_separate_string_string(buf, "::", arr, 8);
	CHECK_INT(n, 3);
	CHECK_STR(arr[1], "");
	CHECK_STR(arr[2], "b");
}

/* ------------------------------------------------------------------------------------------ */
/* logging */

static int custom_calls, custom_level;
static char custom_text[256];

static void custom_logger(const char *file, const char *func, int line, int level, const char *fmt, ...)
{
	va_list ap;

	(void) file;
	(void) func;
	(void) line;
	custom_calls++;
	custom_level = level;
	va_start(ap, fmt);
	vsnprintf(custom_text, sizeof(custom_text), fmt, ap);
	va_end(ap);
}

/* Runs esl_log with stderr sent to a file and returns what was written. */
static char *capture_stderr(void (*fn)(void))
{
	char path[512], *out;
	int fd = eslt_temp_file(path, sizeof(path), "eslt_log"), saved;
	FILE *f;
	long len;

	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	out = calloc(1, (size_t) len + 1);
	if (fread(out, 1, (size_t) len, f) != (size_t) len) {
		out[0] = '\0';
	}
	fclose(f);
	unlink(path);
	return out;
}

static int log_line;

static void log_some(void)
{
	log_line = __LINE__ + 1;
	esl_log(ESL_LOG_ERROR, "bad %s %d\n", "thing", 7);
	esl_log(ESL_LOG_DEBUG, "debug %d\n", 1);
	esl_log("/x/y/file.c", "fn", 12, ESL_LOG_LEVEL_WARNING, "%s", "no newline");
}

static void test_log(void)
{
	char *out;

	/* the do-nothing logger at start */
	CHECK(!esl_log_enabled(ESL_LOG_LEVEL_EMERG));
	out = capture_stderr(log_some);
	CHECK_STR(out, "");
	free(out);

	esl_global_set_logger(custom_logger);
	CHECK(esl_log_enabled(ESL_LOG_LEVEL_DEBUG));
	esl_log(ESL_LOG_INFO, "hi %d", 5);
	CHECK_INT(custom_calls, 1);
	CHECK_INT(custom_level, ESL_LOG_LEVEL_INFO);
	CHECK_STR(custom_text, "hi 5");

	esl_global_set_default_logger(ESL_LOG_LEVEL_WARNING);
	CHECK(esl_log_enabled(ESL_LOG_LEVEL_WARNING));
	CHECK(esl_log_enabled(ESL_LOG_LEVEL_ERROR));
	CHECK(!esl_log_enabled(ESL_LOG_LEVEL_DEBUG));
	out = capture_stderr(log_some);
	{
		char want[256];

		snprintf(want, sizeof(want), "[ERROR] test_util.c:%d log_some() bad thing 7\n[WARNING] file.c:12 fn() no newline",
				 log_line);
		CHECK_STR(out, want);
	}
	free(out);

	/* out-of-range levels become 7 */
	esl_global_set_default_logger(99);
	CHECK(esl_log_enabled(ESL_LOG_LEVEL_DEBUG));
	esl_global_set_default_logger(-1);
	CHECK(esl_log_enabled(ESL_LOG_LEVEL_DEBUG));

	/* set_logger keeps the level; NULL restores the do-nothing logger */
	esl_global_set_default_logger(ESL_LOG_LEVEL_ERROR);
	esl_global_set_logger(NULL);
	CHECK(!esl_log_enabled(ESL_LOG_LEVEL_EMERG));
	out = capture_stderr(log_some);
	CHECK_STR(out, "");
	free(out);
	esl_global_set_logger(custom_logger);
	esl_global_set_logger(NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* threads and mutexes */

typedef struct {
	esl_mutex_t *mutex;
	volatile int counter;
	volatile int done;
	int iterations;
	volatile int trylock_result;
	pthread_mutex_t done_lock;
} shared_t;

static void *adder(esl_thread_t *thread, void *data)
{
	shared_t *s = data;
	int i;

	if (!thread) {
		return NULL;
	}
	for (i = 0; i < s->iterations; i++) {
		esl_mutex_lock(s->mutex);
		/* recursive: the owner may lock again */
		esl_mutex_lock(s->mutex);
		s->counter++;
		esl_mutex_unlock(s->mutex);
		esl_mutex_unlock(s->mutex);
	}
	pthread_mutex_lock(&s->done_lock);
	s->done++;
	pthread_mutex_unlock(&s->done_lock);
	return NULL;
}

static void *try_other(esl_thread_t *thread, void *data)
{
	shared_t *s = data;

	(void) thread;
	s->trylock_result = esl_mutex_trylock(s->mutex);
	if (s->trylock_result == ESL_SUCCESS) {
		esl_mutex_unlock(s->mutex);
	}
	pthread_mutex_lock(&s->done_lock);
	s->done++;
	pthread_mutex_unlock(&s->done_lock);
	return NULL;
}

static void *deep_stack(esl_thread_t *thread, void *data)
{
	shared_t *s = data;
	volatile char big[400 * 1024];

	(void) thread;
	big[0] = 1;
	big[sizeof(big) - 1] = 1;
	pthread_mutex_lock(&s->done_lock);
	s->done += big[0] + big[sizeof(big) - 1] - 1;
	pthread_mutex_unlock(&s->done_lock);
	return NULL;
}

static int wait_done(shared_t *s, int want)
{
	int i, d = 0;

	for (i = 0; i < 2000; i++) {
		pthread_mutex_lock(&s->done_lock);
		d = s->done;
		pthread_mutex_unlock(&s->done_lock);
		if (d >= want) {
			return 1;
		}
		usleep(5000);
	}
	return 0;
}

static void test_threads(void)
{
	shared_t s = { 0 };
	esl_mutex_t *m = NULL;
	int i;

	pthread_mutex_init(&s.done_lock, NULL);
	CHECK_INT(esl_mutex_create(&m), ESL_SUCCESS);
	CHECK(m != NULL);
	/* recursive on one thread */
	CHECK_INT(esl_mutex_lock(m), ESL_SUCCESS);
	CHECK_INT(esl_mutex_lock(m), ESL_SUCCESS);
	CHECK_INT(esl_mutex_trylock(m), ESL_SUCCESS);
	CHECK_INT(esl_mutex_unlock(m), ESL_SUCCESS);
	CHECK_INT(esl_mutex_unlock(m), ESL_SUCCESS);

	/* still held once: another thread's trylock fails */
	s.mutex = m;
	CHECK_INT(esl_thread_create_detached(try_other, &s), ESL_SUCCESS);
	CHECK(wait_done(&s, 1));
	CHECK_INT(s.trylock_result, ESL_FAIL);
	CHECK_INT(esl_mutex_unlock(m), ESL_SUCCESS);
	/* and succeeds once it is free */
	CHECK_INT(esl_thread_create_detached(try_other, &s), ESL_SUCCESS);
	CHECK(wait_done(&s, 2));
	CHECK_INT(s.trylock_result, ESL_SUCCESS);

	/* many threads counting under the lock */
	s.done = 0;
	s.iterations = 2000;
	for (i = 0; i < 8; i++) {
		CHECK_INT(esl_thread_create_detached_ex(adder, &s, i % 2 ? 0 : 512 * 1024), ESL_SUCCESS);
	}
	CHECK(wait_done(&s, 8));
	CHECK_INT(s.counter, 8 * 2000);

	/* a larger default stack is used by later threads */
	s.done = 0;
	esl_thread_override_default_stacksize(2 * 1024 * 1024);
	CHECK_INT(esl_thread_create_detached(deep_stack, &s), ESL_SUCCESS);
	CHECK(wait_done(&s, 1));
	esl_thread_override_default_stacksize(240 * 1024);
	/* a tiny stack size is raised to the minimum rather than failing */
	s.done = 0;
	CHECK_INT(esl_thread_create_detached_ex(try_other, &s, 1), ESL_SUCCESS);
	CHECK(wait_done(&s, 1));
	CHECK_INT(esl_thread_create_detached(NULL, &s), ESL_FAIL);

	CHECK_INT(esl_mutex_destroy(&m), ESL_SUCCESS);
	CHECK(m == NULL);
	CHECK_INT(esl_mutex_destroy(&m), ESL_FAIL);
	CHECK_INT(esl_mutex_destroy(NULL), ESL_FAIL);
	CHECK_INT(esl_mutex_lock(NULL), ESL_FAIL);
	CHECK_INT(esl_mutex_trylock(NULL), ESL_FAIL);
	CHECK_INT(esl_mutex_unlock(NULL), ESL_FAIL);
	CHECK_INT(esl_mutex_create(NULL), ESL_FAIL);
	/* detached threads free their own bookkeeping; give them a moment to finish exiting */
	usleep(50000);
	pthread_mutex_destroy(&s.done_lock);
}

int main(void)
{
	ESLT_RUN(test_url_encode);
	ESLT_RUN(test_url_decode);
	ESLT_RUN(test_case_and_search);
	ESLT_RUN(test_format);
	ESLT_RUN(test_vasprintf_and_split);
	ESLT_RUN(test_log);
	ESLT_RUN(test_threads);
	return ESLT_DONE();
}
