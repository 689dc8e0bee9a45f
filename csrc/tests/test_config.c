/*
 * test_config.c: unit tests of the configuration file reader (esl_config.h).
 */
#include <stdlib.h>
#include <unistd.h>

#include "esl.h"
#include "eslt.h"

static char logged[1024];
static int log_count;

static void capture_logger(const char *file, const char *func, int line, int level, const char *fmt, ...)
{
	va_list ap;

	(void) file;
	(void) func;
	(void) line;
	if (level > ESL_LOG_LEVEL_WARNING) {
		return;
	}
	log_count++;
	va_start(ap, fmt);
	vsnprintf(logged, sizeof(logged), fmt, ap);
	va_end(ap);
}

/* Writes text to a new temporary file; its path goes to path (size 512). */
static void write_temp(char *path, const char *text, size_t len)
{
	int fd = eslt_temp_file(path, 512, "eslt_cfg");

	CHECK(fd >= 0);
	CHECK(write(fd, text, len) == (ssize_t) len);
	close(fd);
}

typedef struct {
	const char *category;
	const char *section;
	const char *var;
	const char *val;
} pair_t;

static void expect_pairs(const char *text, const pair_t *want, int nwant)
{
	char path[512], *var, *val;
	esl_config_t cfg;
	int i = 0;

	write_temp(path, text, strlen(text));
	CHECK_INT(esl_config_open_file(&cfg, path), 1);
	CHECK_STR(cfg.path, path);
	while (esl_config_next_pair(&cfg, &var, &val)) {
		if (i >= nwant) {
			fprintf(stderr, "    unexpected pair %s = %s\n", var, val);
			CHECK(i < nwant);
			break;
		}
		CHECK_STR(var, want[i].var);
		CHECK_STR(val, want[i].val);
		CHECK_STR(cfg.category, want[i].category);
		CHECK_STR(cfg.section, want[i].section);
		i++;
	}
	CHECK_INT(i, nwant);
	esl_config_close_file(&cfg);
	CHECK(cfg.file == NULL);
	unlink(path);
}

static void test_pairs(void)
{
	static const pair_t want[] = {
		{ "", "", "top", "level" },
		{ "general", "", "host", "127.0.0.1" },
		{ "general", "", "port", "8021" },
		{ "general", "", "password", "Clue Con" },
		{ "general", "", "empty", "" },
		{ "general", "", "url", "http://x/?a=b;c" },
		{ "general", "", "crlf", "yes" },
		{ "general", "", "eq", "a=b" },
		{ "general", "sec1", "", "" },
		{ "general", "sec1", "inner", "1" },
		{ "other", "sec1", "k", "v" },
		{ "other", "sec2", "", "" },
		{ "other", "sec2", "last", "one" },
	};
	const char *text =
		"top => level\n"
		"# a comment\n"
		"; another comment\n"
		"\n"
		"[general]\n"
		"host => 127.0.0.1\n"
		"  port =  8021  \n"
		"\tpassword\t=>\tClue Con ;; inline comment\n"
		"empty =>\n"
		"url => http://x/?a=b;c\n"
		"crlf => yes\r\n"
		"eq = a=b\n"
		"no equals sign here\n"
		"   \n"
		"[+sec1]\n"
		"inner => 1\n"
		"[other]\n"
		"k=v\n"
		"[+sec2]\n"
		"last => one\n"
		"__END__\n"
		"after => end\n";

	expect_pairs(text, want, (int) (sizeof(want) / sizeof(want[0])));
}

static void test_long_lines(void)
{
	static const pair_t want[] = {
		{ "", "", "before", "1" },
		{ "", "", "fits", NULL },
		{ "", "", "after", "2" },
		{ "", "", "last", "3" },
	};
	size_t cut = sizeof(((esl_config_t *) 0)->buf);
	char *text = malloc(cut * 5 + 256), *w = text, *fits;
	pair_t w2[4];

	memcpy(w2, want, sizeof(want));
	w += sprintf(w, "before => 1\n");
	/* far too long: reported and skipped, not cut into a bogus pair */
	w += sprintf(w, "long => ");
	memset(w, 'x', cut * 3);
	w += cut * 3;
	w += sprintf(w, "\nmore => tail\n");
	/* exactly the size of the buffer without its newline: still read whole */
	w += sprintf(w, "fits => ");
	fits = w;
	memset(w, 'y', cut - 1 - 8);
	w += cut - 1 - 8;
	*w++ = '\n';
	*w = '\0';
	w2[1].val = strndup(fits, cut - 1 - 8);
	w += sprintf(w, "after => 2\n");
	/* one byte too long */
	w += sprintf(w, "over => ");
	memset(w, 'z', cut - 8);
	w += cut - 8;
	w += sprintf(w, "\nlast => 3");

	log_count = 0;
	esl_global_set_logger(capture_logger);
	{
		/* "more => tail" follows the skipped line and is a pair of its own */
		pair_t all[5] = { w2[0], { "", "", "more", "tail" }, w2[1], w2[2], w2[3] };

		expect_pairs(text, all, 5);
	}
	esl_global_set_logger(NULL);
	CHECK_INT(log_count, 2);
	CHECK(strstr(logged, "longer than") != NULL);
	free((char *) w2[1].val);
	free(text);
}

static void test_open_failures(void)
{
	esl_config_t cfg;
	char *var = (char *) "x", *val = (char *) "y";

	CHECK_INT(esl_config_open_file(&cfg, "/nonexistent/dir/file.conf"), 0);
	CHECK(cfg.file == NULL);
	/* a relative name is looked up under ESL_CONFIG_DIR, then in openesl.conf */
	CHECK_INT(esl_config_open_file(&cfg, "surely-not-there-eslt.conf"), 0);
	CHECK_INT(esl_config_open_file(&cfg, ""), 0);
	CHECK_INT(esl_config_open_file(NULL, "/dev/null"), 0);
	/* reading a closed config gives nothing */
	memset(&cfg, 0, sizeof(cfg));
	CHECK_INT(esl_config_next_pair(&cfg, &var, &val), 0);
	CHECK(var == NULL && val == NULL);
	esl_config_close_file(&cfg);
	esl_config_close_file(NULL);
	{
		char path[1100];

		memset(path, 'a', sizeof(path) - 1);
		path[0] = '/';
		path[sizeof(path) - 1] = '\0';
		esl_global_set_logger(capture_logger);
		log_count = 0;
		CHECK_INT(esl_config_open_file(&cfg, path), 0);
		CHECK_INT(log_count, 1);
		esl_global_set_logger(NULL);
	}
}

static void test_long_names(void)
{
	char path[512], text[2048], *var, *val;
	esl_config_t cfg;
	int n = 0;

	snprintf(text, sizeof(text), "[%0300d]\nk => v\n[+%0300d]\n[cat]\nk2 => v2\n", 0, 0);
	write_temp(path, text, strlen(text));
	esl_global_set_logger(capture_logger);
	log_count = 0;
	CHECK_INT(esl_config_open_file(&cfg, path), 1);
	while (esl_config_next_pair(&cfg, &var, &val)) {
		n++;
		if (n == 1) {
			CHECK_STR(var, "k");
			CHECK_STR(cfg.category, "");
		} else {
			CHECK_STR(var, "k2");
			CHECK_STR(cfg.category, "cat");
		}
	}
	CHECK_INT(n, 2);
	CHECK_INT(log_count, 2);
	esl_global_set_logger(NULL);
	esl_config_close_file(&cfg);
	unlink(path);
}

static void test_cas_bits(void)
{
	unsigned char bits = 0xAA;
	char v1[] = "abcd:1010", v2[] = "x:0001", v3[] = "1111", v4[] = "x:10a1", v5[] = "x:101", v6[] = "a:b:1100",
		 v7[] = "x:10101", v8[] = "x:0110 \n";

	CHECK_INT(esl_config_get_cas_bits(v1, &bits), 0);
	CHECK_INT(bits, 0x0A);
	CHECK_INT(esl_config_get_cas_bits(v2, &bits), 0);
	CHECK_INT(bits, 0x01);
	bits = 0x55;
	CHECK_INT(esl_config_get_cas_bits(v3, &bits), -1);
	CHECK_INT(bits, 0x55);
	CHECK_INT(esl_config_get_cas_bits(v4, &bits), -1);
	CHECK_INT(esl_config_get_cas_bits(v5, &bits), -1);
	CHECK_INT(esl_config_get_cas_bits(v6, &bits), 0);
	CHECK_INT(bits, 0x0C);
	CHECK_INT(esl_config_get_cas_bits(v7, &bits), -1);
	CHECK_INT(esl_config_get_cas_bits(v8, &bits), 0);
	CHECK_INT(bits, 0x06);
	CHECK_INT(esl_config_get_cas_bits(NULL, &bits), -1);
}

static void test_true_false(void)
{
	static const char *trues[] = { "yes", "On", "TRUE", "enabled", "active", "allow", "1", "-3", "42abc", NULL };
	static const char *falses[] = { "no", "OFF", "false", "disabled", "inactive", "disallow", "0", "garbage", "", NULL };
	int i;

	for (i = 0; trues[i]; i++) {
		CHECK(esl_true(trues[i]));
	}
	/* words are also "false", since atoi gives 0 for them (as in libesl); numbers are not */
	CHECK(esl_false("yes"));
	CHECK(!esl_false("1"));
	CHECK(!esl_false("-3"));
	for (i = 0; falses[i]; i++) {
		CHECK(esl_false(falses[i]));
		CHECK(!esl_true(falses[i]));
	}
	CHECK(!esl_true(NULL));
	CHECK(!esl_false(NULL));
	CHECK(esl_is_file_path("/etc/x"));
	CHECK(esl_is_file_path("http://x"));
	CHECK(!esl_is_file_path("rel/x"));
}

int main(void)
{
	ESLT_RUN(test_pairs);
	ESLT_RUN(test_long_lines);
	ESLT_RUN(test_open_failures);
	ESLT_RUN(test_long_names);
	ESLT_RUN(test_cas_bits);
	ESLT_RUN(test_true_false);
	return ESLT_DONE();
}
