/*
 * test_hostile.c: bad and extreme input through a real handle.
 *
 * Each case writes its bytes from the far end of a socketpair and receives until the handle
 * gives up. Framing violations must end in ESL_FAIL with a readable err and connected == 0
 * (the peer keeps its end open, so the failure comes from the parser, not from EOF); inputs
 * that are merely large must be delivered in time linear in their size. Never a crash, a
 * hang or a leak (the sanitizers watch).
 */
#include "eslt.h"
#include "eslt_wire.h"

typedef struct hcase hcase_t;
typedef void (*hcheck_t)(const hcase_t *c, esl_handle_t *h, int idx);

struct hcase {
	const char *name;
	char *(*make)(size_t *len);   /* builds the input, or NULL to use text */
	const char *text;
	size_t text_len;              /* 0: strlen(text) */
	int want_msgs;                /* messages delivered before the end; -1: any */
	const char *want_err;         /* substring of err at the end */
	int hold_open;                /* the peer keeps its end open after writing */
	size_t max_header;            /* limits for the handle (0: default) */
	size_t max_body;
	double max_seconds;           /* generous bound (sanitizers, a busy machine) */
	hcheck_t check;               /* looks at each delivered message */
};

/* ---- generators ------------------------------------------------------------------------ */

typedef struct {
	char *s;
	size_t len, cap;
} gbuf_t;

static void gadd(gbuf_t *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			abort();
		}
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void gadds(gbuf_t *b, const char *s)
{
	gadd(b, s, strlen(s));
}

static char *gen_over_limit(size_t *len)
{
	gbuf_t b = { 0 };
	while (b.len < 2 * 1024 * 1024) {
		gadds(&b, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	}
	*len = b.len;
	return b.s;
}

static char *gen_one_mib_line(size_t *len)
{
	size_t n = 1024 * 1024;
	char *s = malloc(n + 6);
	memcpy(s, "X: ", 3);
	memset(s + 3, 'a', n);
	memcpy(s + 3 + n, "\n\n", 3);
	*len = n + 5;
	return s;
}

static char *gen_100k_headers(size_t *len)
{
	gbuf_t b = { 0 };
	char line[64];
	int i;
	gadds(&b, "Content-Type: test/many\n");
	for (i = 0; i < 100000; i++) {
		snprintf(line, sizeof(line), "H%06d: v%d\n", i, i);
		gadds(&b, line);
	}
	gadds(&b, "\n");
	*len = b.len;
	return b.s;
}

/* every header twice, the second time empty: all of them deleted again */
static char *gen_100k_deletes(size_t *len)
{
	gbuf_t b = { 0 };
	char line[64];
	int i;
	gadds(&b, "Content-Type: test/deletes\n");
	for (i = 0; i < 100000; i++) {
		snprintf(line, sizeof(line), "H%06d: v\nH%06d: \n", i, i);
		gadds(&b, line);
	}
	gadds(&b, "\n");
	*len = b.len;
	return b.s;
}

/* one name, 100000 array lines: all merge into the first header's array */
static char *gen_100k_pushes(size_t *len)
{
	gbuf_t b = { 0 };
	int i;
	gadds(&b, "Content-Type: test/pushes\n");
	for (i = 0; i < 100000; i++) {
		gadds(&b, "A: ARRAY::x|:y\n");
	}
	gadds(&b, "\n");
	*len = b.len;
	return b.s;
}

static char *gen_empty_messages(size_t *len)
{
	size_t n = 100000, i;
	char *s = malloc(2 * n + 1);
	for (i = 0; i < n; i++) {
		s[2 * i] = '\n';
		s[2 * i + 1] = '\n';
	}
	s[2 * n] = '\0';
	*len = 2 * n;
	return s;
}

static char *gen_array_10k(size_t *len)
{
	gbuf_t b = { 0 }, inner = { 0 };
	char hdr[128];
	int i;

	/* outer header */
	gadds(&b, "Content-Type: test/array\nX: ARRAY::");
	for (i = 0; i < 10000; i++) {
		gadds(&b, i ? "|:e" : "e");
	}
	gadds(&b, "\n\n");
	/* inner plain event, URL-encoded as the server sends it */
	gadds(&inner, "Event-Name: CUSTOM\nY: ARRAY%3A%3A");
	for (i = 0; i < 10000; i++) {
		gadds(&inner, i ? "%7C%3Ae" : "e");
	}
	gadds(&inner, "\n\n");
	snprintf(hdr, sizeof(hdr), "Content-Length: %zu\nContent-Type: text/event-plain\n\n", inner.len);
	gadds(&b, hdr);
	gadd(&b, inner.s, inner.len);
	free(inner.s);
	*len = b.len;
	return b.s;
}

static char *gen_max_body(size_t *len)
{
	size_t n = ESL_MAX_CONTENT_LENGTH;
	char hdr[64];
	int hl = snprintf(hdr, sizeof(hdr), "Content-Type: big\nContent-Length: %zu\n\n", n);
	char *s = malloc((size_t) hl + n + 1);
	memcpy(s, hdr, (size_t) hl);
	memset(s + hl, 'b', n);
	s[(size_t) hl + n - 1] = '!';
	*len = (size_t) hl + n;
	return s;
}

/* deterministic noise with plenty of line ends, NULs and percent signs */
static char *gen_noise(size_t *len)
{
	size_t n = 1024 * 1024, i;
	char *s = malloc(n);
	uint32_t x = 12345;
	static const char alphabet[] = "\n\n\n:: %%0aA-Content-Length\r\0xyz|ARRAY";
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		s[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
	}
	*len = n;
	return s;
}

/* ---- checks ------------------------------------------------------------------------------ */

static int count_headers(esl_event_t *ev)
{
	int n = 0;
	esl_event_header_t *h;
	for (h = ev->headers; h; h = h->next) {
		n++;
	}
	return n;
}

static void check_many(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_INT(count_headers(h->last_event), 100002);
	CHECK_STR(esl_event_get_header(h->last_event, "H099999"), "v99999");
	CHECK_STR(esl_event_get_header(h->last_event, "H000000"), "v0");
}

static void check_deletes(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_INT(count_headers(h->last_event), 2);
}

static void check_pushes(const hcase_t *c, esl_handle_t *h, int idx)
{
	esl_event_header_t *hp = esl_event_get_header_ptr(h->last_event, "A");
	(void) c;
	(void) idx;
	CHECK(hp && hp->idx == 200000);
	CHECK_INT(count_headers(h->last_event), 3);
}

static void check_empty_msg(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	/* checking every one would add 100000 checks to the count */
	if (idx % 10000 == 0) {
		CHECK(h->last_event && count_headers(h->last_event) == 1 && !h->last_event->body);
	}
}

static void check_array(const hcase_t *c, esl_handle_t *h, int idx)
{
	esl_event_header_t *hp;
	(void) c;
	if (idx == 0) {
		hp = esl_event_get_header_ptr(h->last_event, "X");
		CHECK(hp && hp->idx == 10000);
	} else {
		CHECK(h->last_ievent != NULL);
		hp = h->last_ievent ? esl_event_get_header_ptr(h->last_ievent, "Y") : NULL;
		CHECK(hp && hp->idx == 10000 && hp->array && !strcmp(hp->array[9999], "e"));
	}
}

static void check_nul_body(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK(h->last_event->body && esl_wire_body_length(h->last_event) == 7);
	CHECK(h->last_event->body && !memcmp(h->last_event->body, "a\0b\0\0c\0", 8));
}

static void check_escapes(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_STR(esl_event_get_header(h->last_event, "A"), "%zz%4");
	CHECK_STR(esl_event_get_header(h->last_event, "B"), "x%00y");
	CHECK_STR(esl_event_get_header(h->last_event, "C"), "%");
	CHECK_STR(esl_event_get_header(h->last_event, "D"), "%AA");
}

static void check_dup_equal(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_STR(h->last_event->body, "hello");
}

static void check_rude(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	if (idx == 0) {
		CHECK_STR(esl_event_get_header(h->last_event, "Content-Type"), "text/rude-rejection");
		CHECK_STR(h->last_event->body, "Access Denied, go away.\n");
	}
}

static void check_linger(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_INT(h->connected, 1);
	CHECK_STR(esl_event_get_header(h->last_event, "Content-Disposition"), "linger");
}

static void check_unknown(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_STR(esl_event_get_header(h->last_event, "Content-Type"), "foo/bar");
	CHECK_STR(h->last_event->body, "xyz");
	CHECK(h->last_ievent == NULL);
}

static void check_max_body(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_INT(esl_wire_body_length(h->last_event), ESL_MAX_CONTENT_LENGTH);
	CHECK(h->last_event->body[ESL_MAX_CONTENT_LENGTH - 1] == '!');
}

static void check_cr_length(const hcase_t *c, esl_handle_t *h, int idx)
{
	(void) c;
	(void) idx;
	CHECK_STR(h->last_event->body, "abc");
	CHECK_STR(esl_event_get_header(h->last_event, "Content-Length"), "3\r");
}

/* ---- the table ------------------------------------------------------------------------------ */

#define T(s) s, sizeof(s) - 1

static const hcase_t cases[] = {
	{ "negative Content-Length", NULL, T("Content-Length: -1\n\n"), 0, "negative", 1, 0, 0, 10, NULL },
	{ "negative Content-Length -2", NULL, T("Content-Type: x\nContent-Length: -2\n\nab"), 0, "negative", 1, 0, 0, 10, NULL },
	{ "huge Content-Length", NULL, T("Content-Length: 99999999999\n\n"), 0, "exceeds the limit", 1, 0, 0, 10, NULL },
	{ "Content-Length one over 16 MiB", NULL, T("Content-Length: 16777217\n\n"), 0, "exceeds the limit", 1, 0, 0, 10, NULL },
	{ "Content-Length of 30 digits", NULL, T("Content-Length: 123456789012345678901234567890\n\n"), 0, "exceeds", 1, 0, 0, 10, NULL },
	{ "non-numeric Content-Length", NULL, T("Content-Length: abc\n\nabc"), 0, "invalid Content-Length", 1, 0, 0, 10, NULL },
	{ "Content-Length with junk", NULL, T("Content-Length: 12abc\n\n"), 0, "invalid Content-Length", 1, 0, 0, 10, NULL },
	{ "hex Content-Length", NULL, T("Content-Length: 0x10\n\n"), 0, "invalid Content-Length", 1, 0, 0, 10, NULL },
	{ "plus-signed Content-Length", NULL, T("Content-Length: +5\n\nhello"), 0, "invalid Content-Length", 1, 0, 0, 10, NULL },
	{ "empty Content-Length", NULL, T("Content-Length: \n\n"), 0, "empty Content-Length", 1, 0, 0, 10, NULL },
	{ "empty Content-Length, no space", NULL, T("Content-Type: x\nContent-Length:\n\n"), 0, "empty Content-Length", 1, 0, 0, 10, NULL },
	{ "conflicting Content-Length", NULL, T("Content-Length: 5\ncontent-length: 6\n\nhello!"), 0, "conflicting", 1, 0, 0, 10, NULL },
	{ "equal duplicate Content-Length", NULL, T("Content-Length: 5\nContent-Length: 5\n\nhello"), 1, "closed", 0, 0, 0, 10, check_dup_equal },
	{ "Content-Length with trailing CR", NULL, T("Content-Length: 3\r\n\r\nabc"), 1, "closed", 0, 0, 0, 10, check_cr_length },
	{ "header block over the limit", gen_over_limit, NULL, 0, 0, "header block", 1, 0, 0, 20, NULL },
	{ "one 1 MiB header line", gen_one_mib_line, NULL, 0, 0, "header block", 1, 0, 0, 20, NULL },
	{ "100000 headers", gen_100k_headers, NULL, 0, 1, "closed", 0, 8 << 20, 0, 20, check_many },
	{ "100000 headers deleted again", gen_100k_deletes, NULL, 0, 1, "closed", 0, 8 << 20, 0, 20, check_deletes },
	{ "100000 array lines of one name", gen_100k_pushes, NULL, 0, 1, "closed", 0, 8 << 20, 0, 20, check_pushes },
	{ "100000 empty messages", gen_empty_messages, NULL, 0, 100000, "closed", 0, 0, 0, 30, check_empty_msg },
	{ "10000 array elements", gen_array_10k, NULL, 0, 2, "closed", 0, 0, 0, 20, check_array },
	{ "NUL in a header block", NULL, T("Content-Type: x\nA: b\0c\n\n"), 0, "NUL byte", 1, 0, 0, 10, NULL },
	{ "NUL in a header name", NULL, T("A\0: b\n\n"), 0, "NUL byte", 1, 0, 0, 10, NULL },
	{ "NUL bytes in a body", NULL, T("Content-Type: x\nContent-Length: 7\n\na\0b\0\0c\0"), 1, "closed", 0, 0, 0, 10, check_nul_body },
	{ "invalid and truncated escapes", NULL, T("A: %zz%4\nB: x%00y\nC: %\nD: %%41%41\n\n"), 1, "closed", 0, 0, 0, 10, check_escapes },
	{ "body shorter than announced, then EOF", NULL, T("Content-Type: x\nContent-Length: 10\n\nabc"), 0, "closed", 0, 0, 0, 10, NULL },
	{ "peer closes mid-header", NULL, T("Content-Type: x\nReply-Te"), 0, "closed", 0, 0, 0, 10, NULL },
	{ "peer closes after one LF of the terminator", NULL, T("Content-Type: x\n"), 0, "closed", 0, 0, 0, 10, NULL },
	{ "rude rejection, then goodbye", NULL,
	  T("Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
		"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
		"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"),
	  1, "Disconnected by the server", 1, 0, 0, 10, check_rude },
	{ "unknown Content-Type", NULL, T("Content-Type: foo/bar\nContent-Length: 3\n\nxyz"), 1, "closed", 0, 0, 0, 10, check_unknown },
	{ "disconnect notice with linger", NULL,
	  T("Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\nContent-Disposition: linger\n"
		"Channel-Name: x\nLinger-Time: -1\nContent-Length: 0\n\n"),
	  1, "closed", 0, 0, 0, 10, check_linger },
	{ "disconnect notice without linger", NULL,
	  T("Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\nContent-Disposition: disconnect\n"
		"Content-Length: 3\n\nbye"),
	  0, "Disconnected by the server", 1, 0, 0, 10, NULL },
	{ "disconnect notice without a body", NULL, T("Content-Type: text/disconnect-notice\n\n"), 1, "closed", 0, 0, 0, 10, NULL },
	{ "body of exactly 16 MiB", gen_max_body, NULL, 0, 1, "closed", 0, 0, 0, 30, check_max_body },
	{ "body over a lowered limit", NULL, T("Content-Length: 101\n\n"), 0, "exceeds the limit of 100", 1, 0, 100, 10, NULL },
	/* 50 bytes still admit the 45-byte connect reply */
	{ "header block over a lowered limit", NULL, T("Content-Type: 0123456789\nX: 0123456789\nY: 0123456789\n\n"), 0, "header block", 1, 50, 0, 10, NULL },
	{ "noise", gen_noise, NULL, 0, -1, "", 0, 0, 0, 30, NULL },
};

static void run_case(const hcase_t *c)
{
	esl_handle_t h;
	eslt_peer_t peer = { 0 };
	char *data;
	size_t len;
	int msgs = 0;
	esl_status_t st;
	double t0;

	if (c->make) {
		data = c->make(&len);
	} else {
		len = c->text_len ? c->text_len : strlen(c->text);
		data = malloc(len + 1);
		memcpy(data, c->text, len);
	}
	/* limits first: they apply from the first message after the connect reply */
	peer.data = NULL;
	peer.len = 0;
	peer.hold_open = 1;
	memset(&h, 0, sizeof(h));
	if (c->max_header || c->max_body) {
		esl_handle_set_limits(&h, c->max_header, c->max_body);
	}
	{
		/* eslt_attach zeroes the handle; attach by hand to keep the limits */
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
			CHECK(!"socketpair");
			free(data);
			return;
		}
		peer.fd = sv[1];
		peer.answer_connect = 1;
		peer.data = data;
		peer.len = len;
		peer.chunk = 65536;
		peer.hold_open = c->hold_open;
		pthread_create(&peer.thread, NULL, eslt_peer_main, &peer);
		peer.started = 1;
		if (esl_attach_handle(&h, sv[0], NULL) != ESL_SUCCESS) {
			fprintf(stderr, "%s: attach failed: %s\n", c->name, h.err);
			CHECK(!"attach");
			eslt_peer_join(&peer);
			free(data);
			return;
		}
	}
	t0 = eslt_now();
	for (;;) {
		st = esl_recv_event_timed(&h, 10000, 0, NULL);
		if (st != ESL_SUCCESS) {
			break;
		}
		if (c->check) {
			c->check(c, &h, msgs);
		}
		msgs++;
	}
	if (eslt_now() - t0 > c->max_seconds) {
		fprintf(stderr, "%s: took %.2f s\n", c->name, eslt_now() - t0);
		CHECK(!"too slow");
	}
	if (st != ESL_FAIL || h.connected || !h.err[0] || (c->want_msgs >= 0 && msgs != c->want_msgs) ||
		!strstr(h.err, c->want_err)) {
		fprintf(stderr, "%s: status %d, connected %d, %d messages (want %d), err \"%s\" (want \"%s\")\n", c->name, st,
				h.connected, msgs, c->want_msgs, h.err, c->want_err);
	}
	CHECK_INT(st, ESL_FAIL);
	CHECK_INT(h.connected, 0);
	CHECK(h.err[0] != '\0');
	CHECK(strstr(h.err, c->want_err) != NULL);
	if (c->want_msgs >= 0) {
		CHECK_INT(msgs, c->want_msgs);
	}
	esl_disconnect(&h);
	eslt_peer_join(&peer);
	free(data);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double t0 = eslt_now();
		run_case(&cases[i]);
		printf("%-45s %.3f s\n", cases[i].name, eslt_now() - t0);
	}
	return ESLT_DONE();
}
