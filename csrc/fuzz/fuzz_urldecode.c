/*
 * fuzz_urldecode.c: libFuzzer harness for esl_url_decode and esl_url_encode.
 *
 * Decoding is compared with what libesl does (sscanf "%2x" after each '%'). Encoding into a
 * buffer whose size comes from the input must stay inside it, never cut an escape, give a
 * prefix of the full encoding, and the full encoding must decode back to the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esl.h"

/* sscanf("%2x") on s, given only the white space it skips and the two characters after it,
 * so long inputs full of escapes do not cost a strlen per escape. */
static int scan_hex(const char *s, unsigned int *out)
{
	size_t w = strspn(s, " \t\n\v\f\r"), n = w;
	char small[64], *copy = small;
	int r;

	while (n < w + 2 && s[n]) {
		n++;
	}
	if (n + 1 > sizeof(small) && !(copy = malloc(n + 1))) {
		return 0;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	r = sscanf(copy, "%2x", out);
	if (copy != small) {
		free(copy);
	}
	return r == 1;
}

static char *ref_decode(char *s)
{
	char *o = s;
	unsigned int tmp;

	for (; *s; s++, o++) {
		if (*s == '%' && s[1] && s[2] && scan_hex(s + 1, &tmp)) {
			*o = (char) tmp;
			s += 2;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a, *b, *full, *part, *end, *refend;
	size_t n, fulln, partlen, partn;

	if (size < 1) {
		return 0;
	}
	partlen = data[0];
	data++;
	size--;

	a = malloc(size + 1);
	b = malloc(size + 1);
	full = malloc(size * 3 + 1);
	part = malloc(partlen + 1);
	if (!a || !b || !full || !part) {
		goto done;
	}
	memcpy(a, data, size);
	a[size] = '\0';
	memcpy(b, data, size);
	b[size] = '\0';
	n = strlen(a);

	/* decode: same bytes as the reference, and the returned pointer is the end of them */
	end = esl_url_decode(a);
	refend = ref_decode(b);
	if (memcmp(a, b, size + 1) || (n ? end - a != refend - b : end != a)) {
		__builtin_trap();
	}

	/* encode: in full, then into a small buffer */
	memcpy(b, data, size);
	b[size] = '\0';
	fulln = esl_url_encode(b, full, n * 3 + 1);
	if (fulln != strlen(full) || fulln > n * 3) {
		__builtin_trap();
	}
	memset(part, 0x5a, partlen + 1);
	partn = esl_url_encode(b, part, partlen);
	if (partlen) {
		size_t unit;

		if (partn > partlen - 1 || part[partn] != '\0' || strncmp(part, full, partn)) {
			__builtin_trap();
		}
		/* never an escape cut in two */
		if ((partn >= 1 && part[partn - 1] == '%') || (partn >= 2 && part[partn - 2] == '%')) {
			__builtin_trap();
		}
		/* and it only stops when the next character or escape does not fit */
		unit = full[partn] == '%' ? 3 : 1;
		if (partn < fulln && partn + unit <= partlen - 1) {
			__builtin_trap();
		}
	} else if (partn != 0 || part[0] != 0x5a) {
		__builtin_trap();
	}
	if (part[partlen] != 0x5a) {
		__builtin_trap();
	}
	esl_url_decode(full);
	if (strcmp(full, b)) {
		__builtin_trap();
	}
done:
	free(a);
	free(b);
	free(full);
	free(part);
	return 0;
}
