/*
 * esl_config.h: a reader for "var => value" configuration files with [categories].
 * Part of esl, an implementation of the libesl API.
 */
#ifndef ESL_CONFIG_H
#define ESL_CONFIG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ESL_CONFIG_DIR
#ifdef _WIN32
#define ESL_CONFIG_DIR "c:\\openesl"
#else
#define ESL_CONFIG_DIR "/etc/openesl"
#endif
#endif

#define ESL_URL_SEPARATOR "://"
#ifdef _WIN32
#define ESL_PATH_SEPARATOR "\\"
#else
#define ESL_PATH_SEPARATOR "/"
#endif

/* True for an absolute path or a URL. */
#ifdef _WIN32
#define esl_is_file_path(file) ((*(file) == '\\' || *((file) + 1) == ':' || *(file) == '/' || strstr((file), ESL_URL_SEPARATOR)) ? 1 : 0)
#else
#define esl_is_file_path(file) ((*(file) == '/' || strstr((file), ESL_URL_SEPARATOR)) ? 1 : 0)
#endif

/* True for yes/on/true/enabled/active/allow (any case) or a non-zero integer. */
static __inline__ int esl_true(const char *expr)
{
	return (expr && (!strcasecmp(expr, "yes") || !strcasecmp(expr, "on") || !strcasecmp(expr, "true") ||
					 !strcasecmp(expr, "enabled") || !strcasecmp(expr, "active") || !strcasecmp(expr, "allow") ||
					 atoi(expr))) ? 1 : 0;
}

/* True for no/off/false/disabled/inactive/disallow (any case) or a zero integer. */
static __inline__ int esl_false(const char *expr)
{
	return (expr && (!strcasecmp(expr, "no") || !strcasecmp(expr, "off") || !strcasecmp(expr, "false") ||
					 !strcasecmp(expr, "disabled") || !strcasecmp(expr, "inactive") || !strcasecmp(expr, "disallow") ||
					 !atoi(expr))) ? 1 : 0;
}

typedef struct esl_config esl_config_t;

/* State of an open configuration file. Lines longer than buf are reported and skipped, never cut. */
struct esl_config {
	FILE *file;
	char path[1024];
	char category[256];
	char section[256];
	char buf[1024];
	int lineno;
	int catno;
	int sectno;
	int lockto;
};

/* Opens file_path (relative paths are looked up under ESL_CONFIG_DIR, falling back to the
 * [+file_path] section of openesl.conf). Returns 1 on success, 0 on failure. */
ESL_DECLARE(int) esl_config_open_file(esl_config_t *cfg, const char *file_path);
ESL_DECLARE(void) esl_config_close_file(esl_config_t *cfg);
/* Returns 1 with the next pair in *var and *val (pointers into cfg->buf), 0 at the end. */
ESL_DECLARE(int) esl_config_next_pair(esl_config_t *cfg, char **var, char **val);
/* Parses the four 0/1 characters after the last ':' of strvalue; 0 on success, -1 on error. */
ESL_DECLARE(int) esl_config_get_cas_bits(char *strvalue, unsigned char *outbits);

#ifdef __cplusplus
}
#endif

#endif
