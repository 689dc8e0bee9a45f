/*
 * esl_util.c: string helpers of libesl (URL encoding, case mapping, formatting, splitting).
 * Part of esl, an implementation of the libesl API.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf, asprintf, memmem */
#endif
#include "esl.h"

/* 1 for the bytes esl_url_encode escapes: controls, non-ASCII, DEL, space and the listed
 * punctuation. */
static const unsigned char URL_UNSAFE[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* space ! " # $ % & ' ( ) * + , - . / */
	1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0,
	/* 0-9 : ; < = > ? */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
	/* @ A-O */
	1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* P-Z [ \ ] ^ _ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0,
	/* ` a-o */
	1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* p-z { | } ~ DEL */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};

ESL_DECLARE(size_t) esl_url_encode(const char *url, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t x = 0;

	if (!url || !buf || !len) {
		return 0;
	}

	/* At most len - 1 characters, so the terminating NUL always fits; an escape that does
	 * not fit whole ends the output rather than being cut. */
	for (p = (const unsigned char *) url; *p; p++) {
		if (URL_UNSAFE[*p]) {
			if (len - 1 - x < 3) {
				break;
			}
			buf[x++] = '%';
			buf[x++] = hex[(*p >> 4) & 0x0f];
			buf[x++] = hex[*p & 0x0f];
		} else {
			if (len - 1 - x < 1) {
				break;
			}
			buf[x++] = (char) *p;
		}
	}
	buf[x] = '\0';
	return x;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static int scanf_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The original reads each escape with sscanf("%2x"), which also takes a single hex digit, a
 * sign, or digits after leading white space. Two hex digits (the normal case) are decoded
 * directly; anything else is handed to sscanf on a bounded copy so the result is the same
 * without scanning the rest of the string. */
static int lenient_hex2(const char *s, unsigned int *out)
{
	char tmp[3];
	size_t i = 0;
	int hi = hexval((unsigned char) s[0]), lo;

	if (hi >= 0 && (lo = hexval((unsigned char) s[1])) >= 0) {
		*out = (unsigned int) (hi * 16 + lo);
		return 1;
	}
	while (scanf_space((unsigned char) *s)) {
		s++;
	}
	while (i < 2 && s[i]) {
		tmp[i] = s[i];
		i++;
	}
	tmp[i] = '\0';
	return i && sscanf(tmp, "%2x", out) == 1;
}

ESL_DECLARE(char *) esl_url_decode(char *s)
{
	char *o;
	unsigned int tmp;

	if (esl_strlen_zero(s)) {
		return s;
	}

	for (o = s; *s; s++, o++) {
		/* An escape needs two more characters; it always consumes exactly those two. */
		if (*s == '%' && s[1] && s[2] && lenient_hex2(s + 1, &tmp)) {
			*o = (char) (unsigned char) tmp;
			s += 2;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
	return o;
}

ESL_DECLARE(int) esl_toupper(int c)
{
	if (c < -1) {
		return EOF;
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 'A';
	}
	return c;
}

ESL_DECLARE(int) esl_tolower(int c)
{
	if (c < -1) {
		return EOF;
	}
	if (c >= 'A' && c <= 'Z') {
		return c - 'A' + 'a';
	}
	return c;
}

static int ascii_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
}

ESL_DECLARE(const char *) esl_stristr(const char *instr, const char *str)
{
	const char *start;

	if (!str || !instr || !*instr) {
		return NULL;
	}

	for (start = str; *start; start++) {
		const unsigned char *n = (const unsigned char *) instr, *h = (const unsigned char *) start;

		while (*n && *h && ascii_upper(*n) == ascii_upper(*h)) {
			n++;
			h++;
		}
		if (!*n) {
			return start;
		}
		if (!*h) {
			/* the rest of the haystack is shorter than the needle */
			return NULL;
		}
	}
	return NULL;
}

ESL_DECLARE(int) esl_snprintf(char *buffer, size_t count, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	if (count < 2) {
		/* Nothing fits besides the terminator; still report the would-be length. */
		ret = vsnprintf(NULL, 0, fmt, ap);
		if (count == 1) {
			buffer[0] = '\0';
		}
	} else {
		/* count - 1 as the original does, so at most count - 2 characters are written. */
		ret = vsnprintf(buffer, count - 1, fmt, ap);
		if (ret < 0) {
			buffer[count - 1] = '\0';
		}
	}
	va_end(ap);
	return ret;
}

ESL_DECLARE(int) esl_vasprintf(char **ret, const char *fmt, va_list ap)
{
	int n;

	if (!ret) {
		return -1;
	}
	if (!fmt) {
		*ret = NULL;
		return -1;
	}
	n = vasprintf(ret, fmt, ap);
	if (n < 0) {
		*ret = NULL;
		return -1;
	}
	return n;
}

ESL_DECLARE(unsigned int) esl_separate_string_string(char *buf, const char *delim, char **array, unsigned int arraylen)
{
	unsigned int count = 0;
	size_t dlen;
	char *p;

	if (!buf || !array || !arraylen) {
		return 0;
	}

	array[count++] = buf;
	if (!delim || !(dlen = strlen(delim))) {
		return count;
	}

	/* Once the slots run out, the last one keeps the rest of the text unsplit. */
	for (p = buf; count < arraylen && (p = strstr(p, delim)); ) {
		*p = '\0';
		p += dlen;
		array[count++] = p;
	}
	return count;
}
