/*
 * esl_log.c: the global logger of libesl.
 * Part of esl, an implementation of the libesl API.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf, asprintf, memmem */
#endif
#include "esl.h"
#include "esl_log_private.h"

static const char *const LEVEL_NAMES[] = {
	"EMERG", "ALERT", "CRIT", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"
};

/* Messages above this level are dropped by the built-in logger; read and set atomically, since
 * any thread may log while another changes it. */
static int esl_log_level = ESL_LOG_LEVEL_DEBUG;

static void null_logger(const char *file, const char *func, int line, int level, const char *fmt, ...)
{
	(void) file;
	(void) func;
	(void) line;
	(void) level;
	(void) fmt;
}

static const char *base_name(const char *file)
{
	const char *slash;

	if (!file) {
		return "";
	}
	slash = strrchr(file, '/');
	return slash ? slash + 1 : file;
}

static void default_logger(const char *file, const char *func, int line, int level, const char *fmt, ...)
{
	const char *lname = (level >= 0 && level <= ESL_LOG_LEVEL_DEBUG) ? LEVEL_NAMES[level] : "UNKNOWN";
	char *msg = NULL, *full = NULL;
	va_list ap;
	int n;

	if (level > __atomic_load_n(&esl_log_level, __ATOMIC_RELAXED) || !fmt) {
		return;
	}

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}

	/* One write per message, so lines of concurrent threads do not interleave. */
	if (asprintf(&full, "[%s] %s:%d %s() %s", lname, base_name(file), line, func ? func : "", msg) >= 0) {
		fputs(full, stderr);
		free(full);
	} else {
		fprintf(stderr, "[%s] %s:%d %s() ", lname, base_name(file), line, func ? func : "");
		fputs(msg, stderr);
	}
	free(msg);
}

ESL_DECLARE_DATA esl_logger_t esl_log = null_logger;

ESL_DECLARE(void) esl_global_set_logger(esl_logger_t logger)
{
	esl_log = logger ? logger : null_logger;
}

ESL_DECLARE(void) esl_global_set_default_logger(int level)
{
	if (level < 0 || level > ESL_LOG_LEVEL_DEBUG) {
		level = ESL_LOG_LEVEL_DEBUG;
	}
	__atomic_store_n(&esl_log_level, level, __ATOMIC_RELAXED);
	esl_log = default_logger;
}

int esl_log_enabled(int level)
{
	esl_logger_t cur = esl_log;

	if (cur == null_logger) {
		return 0;
	}
	if (cur == default_logger) {
		return level <= __atomic_load_n(&esl_log_level, __ATOMIC_RELAXED);
	}
	return 1;
}
