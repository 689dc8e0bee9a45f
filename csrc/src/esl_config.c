/*
 * esl_config.c: reader for "var => value" configuration files with [categories] and
 * [+sections].
 * Part of esl, an implementation of the libesl API.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* POSIX and GNU declarations with -std=c11 */
#endif
#include "esl.h"

/* Copies src into dst (size dstlen) only if it fits whole. */
static int copy_whole(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstlen) {
		return 0;
	}
	memcpy(dst, src, n + 1);
	return 1;
}

ESL_DECLARE(int) esl_config_open_file(esl_config_t *cfg, const char *file_path)
{
	char path_buf[sizeof(cfg->path)];
	const char *path;
	FILE *f;
	int n;

	if (!cfg || esl_strlen_zero(file_path)) {
		return 0;
	}

	memset(cfg, 0, sizeof(*cfg));
	cfg->lockto = -1;

	if (file_path[0] == '/') {
		path = file_path;
	} else {
		n = snprintf(path_buf, sizeof(path_buf), "%s%s%s", ESL_CONFIG_DIR, ESL_PATH_SEPARATOR, file_path);
		if (n < 0 || (size_t) n >= sizeof(path_buf)) {
			esl_log(ESL_LOG_ERROR, "Configuration path too long: %s\n", file_path);
			return 0;
		}
		path = path_buf;
	}
	if (!copy_whole(cfg->path, sizeof(cfg->path), path)) {
		esl_log(ESL_LOG_ERROR, "Configuration path too long: %s\n", path);
		return 0;
	}

	esl_log(ESL_LOG_DEBUG, "Configuration file is %s.\n", path);
	if ((f = fopen(path, "r"))) {
		cfg->file = f;
		return 1;
	}
	if (file_path[0] == '/') {
		memset(cfg, 0, sizeof(*cfg));
		return 0;
	}

	/* Fall back to the [+file_path] section of the shared openesl.conf. */
	n = snprintf(path_buf, sizeof(path_buf), "%s%sopenesl.conf", ESL_CONFIG_DIR, ESL_PATH_SEPARATOR);
	if (n < 0 || (size_t) n >= sizeof(path_buf) || !(f = fopen(path_buf, "r"))) {
		memset(cfg, 0, sizeof(*cfg));
		return 0;
	}
	cfg->file = f;
	memcpy(cfg->path, path_buf, (size_t) n + 1);
	{
		char *var, *val;

		while (esl_config_next_pair(cfg, &var, &val)) {
			if (!*var && !strcmp(cfg->section, file_path)) {
				cfg->lockto = cfg->sectno;
				return 1;
			}
		}
	}
	esl_config_close_file(cfg);
	memset(cfg, 0, sizeof(*cfg));
	return 0;
}

ESL_DECLARE(void) esl_config_close_file(esl_config_t *cfg)
{
	if (cfg && cfg->file) {
		fclose(cfg->file);
		cfg->file = NULL;
	}
}

/* Reads one line into cfg->buf. Returns 1 for a line, 0 at EOF, -1 for a line too long for
 * buf (its remainder has been read and dropped). */
static int read_line(esl_config_t *cfg)
{
	size_t len;
	int c;

	if (!fgets(cfg->buf, sizeof(cfg->buf), cfg->file)) {
		return 0;
	}
	len = strlen(cfg->buf);
	if (len && cfg->buf[len - 1] == '\n') {
		return 1;
	}
	/* No newline: either the last line of the file, or a line longer than buf. */
	if ((c = fgetc(cfg->file)) == EOF) {
		return 1;
	}
	if (c == '\n') {
		/* the text filled buf exactly; only its newline was left */
		return 1;
	}
	while (c != '\n' && c != EOF) {
		c = fgetc(cfg->file);
	}
	return -1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	e = s + strlen(s);
	while (e > s && is_blank(e[-1])) {
		*--e = '\0';
	}
	return s;
}

ESL_DECLARE(int) esl_config_next_pair(esl_config_t *cfg, char **var, char **val)
{
	char *line, *end, *eq;
	int r;

	if (var) {
		*var = NULL;
	}
	if (val) {
		*val = NULL;
	}
	if (!cfg || !cfg->file || !var || !val) {
		return 0;
	}

	for (;;) {
		cfg->lineno++;
		if ((r = read_line(cfg)) == 0) {
			return 0;
		}
		if (r < 0) {
			esl_log(ESL_LOG_ERROR, "%s line %d is longer than %d bytes; skipped\n", cfg->path, cfg->lineno,
					(int) sizeof(cfg->buf) - 1);
			continue;
		}
		line = cfg->buf;

		if (*line == '[' && (end = strchr(line, ']'))) {
			*end = '\0';
			line++;
			if (*line == '+') {
				line++;
				if (!copy_whole(cfg->section, sizeof(cfg->section), line)) {
					esl_log(ESL_LOG_ERROR, "%s line %d: section name too long; skipped\n", cfg->path, cfg->lineno);
					continue;
				}
				cfg->sectno++;
				if (cfg->lockto > -1 && cfg->sectno != cfg->lockto) {
					/* reading was locked to one section, and it has ended */
					return 0;
				}
				cfg->catno = 0;
				cfg->lineno = 0;
				*var = (char *) "";
				*val = (char *) "";
				return 1;
			}
			if (!copy_whole(cfg->category, sizeof(cfg->category), line)) {
				esl_log(ESL_LOG_ERROR, "%s line %d: category name too long; skipped\n", cfg->path, cfg->lineno);
				continue;
			}
			cfg->catno++;
			continue;
		}

		if (*line == '#' || *line == ';' || *line == '\n' || *line == '\r') {
			continue;
		}
		if (!strncmp(line, "__END__", 7)) {
			return 0;
		}
		if ((end = strstr(line, ";;"))) {
			*end = '\0';
		}
		if (!(eq = strchr(line, '='))) {
			/* not a pair: ignored, as blank and malformed lines are */
			continue;
		}
		*eq++ = '\0';
		if (*eq == '>') {
			eq++;
		}
		*var = trim(line);
		*val = trim(eq);
		return 1;
	}
}

ESL_DECLARE(int) esl_config_get_cas_bits(char *strvalue, unsigned char *outbits)
{
	const char *p;
	unsigned char bits = 0;
	int i;

	if (!strvalue || !outbits || !(p = strrchr(strvalue, ':'))) {
		esl_log(ESL_LOG_ERROR, "No CAS bits specified: %s, :xxxx definition expected\n", strvalue ? strvalue : "(null)");
		return -1;
	}
	p++;
	for (i = 0; i < 4; i++) {
		if (p[i] != '0' && p[i] != '1') {
			esl_log(ESL_LOG_ERROR, "Invalid CAS bits specified: %s, :xxxx definition expected, x being 0 or 1\n", strvalue);
			return -1;
		}
		bits = (unsigned char) (bits << 1 | (p[i] == '1'));
	}
	for (p += 4; *p; p++) {
		if (!is_blank(*p)) {
			esl_log(ESL_LOG_ERROR, "Invalid CAS bits specified: %s, exactly four bits expected\n", strvalue);
			return -1;
		}
	}
	*outbits = bits;
	return 0;
}
