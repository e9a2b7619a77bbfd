/*
 * fuzz_event.c - the core's JSON writers, fl_json_string() and fl_event_json(),
 * on arbitrary names and numbers.
 *
 * Input: byte 0 picks the event type (one past the last is "unknown"), byte 1
 * is the class, the next 7 * 8 bytes are the doubles t, rest_since, left_at
 * and bbox[4] (zero when the input is short; NaN, infinities and 1e308 are
 * all fair game), byte 58 picks a truncated buffer length, and the rest is
 * text: camera, lane, incident id and reason separated by NUL bytes.
 *
 * What must hold, besides never crashing or tripping a sanitizer:
 *   - the output is well-formed JSON (a small validator below: one value,
 *     strings closed, no raw control characters, numbers in JSON's grammar,
 *     so "nan" or "inf" fail), a string for fl_json_string() and an object
 *     for fl_event_json();
 *   - fl_json_string() round-trips: unescaping its output gives the input;
 *   - snprintf semantics: the return value is the full length whatever the
 *     buffer, a NULL buffer of length 0 is fine, and a short buffer gets the
 *     same bytes as a long one, cut short and NUL-terminated.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_event: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* ---- a small JSON validator ---------------------------------------------- */

struct cur {
	const char *s;
	size_t i, n;
};

static int peek(const struct cur *c)
{
	return c->i < c->n ? (unsigned char)c->s[c->i] : -1;
}

static void skip_ws(struct cur *c)
{
	while (peek(c) == ' ' || peek(c) == '\t' || peek(c) == '\n' ||
	       peek(c) == '\r')
		c->i++;
}

static int is_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

static int digits(struct cur *c)
{
	size_t start = c->i;

	while (peek(c) >= '0' && peek(c) <= '9')
		c->i++;
	return c->i > start;
}

static int j_string(struct cur *c)
{
	if (peek(c) != '"')
		return 0;
	c->i++;
	for (;;) {
		int ch = peek(c);

		if (ch < 0x20) /* end of input or a raw control character */
			return 0;
		c->i++;
		if (ch == '"')
			return 1;
		if (ch != '\\')
			continue;
		ch = peek(c);
		c->i++;
		if (ch == 'u') {
			for (int k = 0; k < 4; k++, c->i++)
				if (!is_hex(peek(c)))
					return 0;
		} else if (!ch || !strchr("\"\\/bfnrt", ch)) {
			return 0;
		}
	}
}

static int j_number(struct cur *c)
{
	if (peek(c) == '-')
		c->i++;
	if (peek(c) == '0')
		c->i++;
	else if (!digits(c))
		return 0;
	if (peek(c) == '.') {
		c->i++;
		if (!digits(c))
			return 0;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->i++;
		if (peek(c) == '+' || peek(c) == '-')
			c->i++;
		if (!digits(c))
			return 0;
	}
	return 1;
}

static int j_word(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	if (c->n - c->i < n || memcmp(c->s + c->i, w, n) != 0)
		return 0;
	c->i += n;
	return 1;
}

static int j_value(struct cur *c, int depth);

/* Object or array: open, close, and members separated by commas. */
static int j_container(struct cur *c, int depth, int open, int close)
{
	if (depth > 16)
		return 0;
	c->i++; /* open */
	skip_ws(c);
	if (peek(c) == close) {
		c->i++;
		return 1;
	}
	for (;;) {
		if (open == '{') {
			if (!j_string(c))
				return 0;
			skip_ws(c);
			if (peek(c) != ':')
				return 0;
			c->i++;
			skip_ws(c);
		}
		if (!j_value(c, depth + 1))
			return 0;
		skip_ws(c);
		if (peek(c) == close) {
			c->i++;
			return 1;
		}
		if (peek(c) != ',')
			return 0;
		c->i++;
		skip_ws(c);
	}
}

static int j_value(struct cur *c, int depth)
{
	switch (peek(c)) {
	case '{':
		return j_container(c, depth, '{', '}');
	case '[':
		return j_container(c, depth, '[', ']');
	case '"':
		return j_string(c);
	case 't':
		return j_word(c, "true");
	case 'f':
		return j_word(c, "false");
	case 'n':
		return j_word(c, "null");
	default:
		return j_number(c);
	}
}

/* Whether s[0..n) is exactly one JSON value that starts with first. */
static int valid_json(const char *s, size_t n, int first)
{
	struct cur c = { s, 0, n };

	if (n == 0 || s[0] != first || !j_value(&c, 0))
		return 0;
	skip_ws(&c);
	return c.i == n;
}

/* Unescape the JSON string s (as fl_json_string writes it) into out. */
static int unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 1; i + 1 < n; i++) {
		char ch = s[i];

		if (ch == '\\') {
			ch = s[++i];
			if (ch == 'n')
				ch = '\n';
			else if (ch == 'r')
				ch = '\r';
			else if (ch == 't')
				ch = '\t';
			else if (ch == 'b')
				ch = '\b';
			else if (ch == 'f')
				ch = '\f';
			else if (ch == 'u') {
				unsigned v;

				if (sscanf(s + i + 1, "%4x", &v) != 1 ||
				    v > 0x7f)
					return -1;
				ch = (char)v;
				i += 4;
			}
		}
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

/* ---- snprintf semantics ---------------------------------------------------- */

typedef size_t (*writer_fn)(const void *arg, char *buf, size_t len);

static size_t w_string(const void *arg, char *buf, size_t len)
{
	return fl_json_string(arg, buf, len);
}

static size_t w_event(const void *arg, char *buf, size_t len)
{
	return fl_event_json(arg, buf, len);
}

/*
 * Run w into a NULL buffer, an exact one and several short ones (each its
 * own allocation, so ASan sees any write past the end). Returns the full
 * output (caller frees) and its length in *np.
 */
static char *write_all(writer_fn w, const void *arg, size_t extra, size_t *np)
{
	size_t n = w(arg, NULL, 0);
	char *full = malloc(n + 1);
	size_t lens[] = { 1, 2, n / 2, n > 0 ? n - 1 : 0, n, n + 1, extra };

	CHECK(full);
	memset(full, 'x', n + 1);
	CHECK(w(arg, full, n + 1) == n);
	CHECK(full[n] == '\0' && strlen(full) == n);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t len = lens[k], cut;
		char *buf;

		if (len == 0)
			continue;
		buf = malloc(len);
		CHECK(buf);
		memset(buf, 'x', len);
		CHECK(w(arg, buf, len) == n);
		cut = n < len ? n : len - 1;
		CHECK(buf[cut] == '\0');
		CHECK(memcmp(buf, full, cut) == 0);
		free(buf);
	}
	*np = n;
	return full;
}

/* ---- the target ------------------------------------------------------------- */

#define HEAD (2 + 7 * sizeof(double) + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t head[HEAD] = { 0 };
	double num[7];
	fl_event ev;
	char *text, *s, *out;
	const char *field[4] = { "", "", "", "" };
	size_t tlen, n;

	memcpy(head, data, size < HEAD ? size : HEAD);
	tlen = size > HEAD ? size - HEAD : 0;
	text = malloc(tlen + 1);
	CHECK(text);
	if (tlen)
		memcpy(text, data + HEAD, tlen);
	text[tlen] = '\0';

	/* fl_json_string on the whole text (up to its first NUL). */
	out = write_all(w_string, text, head[HEAD - 1], &n);
	CHECK(valid_json(out, n, '"'));
	s = malloc(n + 1);
	CHECK(s);
	CHECK(unescape(out, n, s) == 0);
	CHECK(strcmp(s, text) == 0);
	free(s);
	free(out);

	/* fl_event_json: camera, lane and incident id from the NUL-split text. */
	s = text;
	for (int k = 0; k < 4 && s < text + tlen; k++) {
		field[k] = s;
		s += strlen(s) + 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = (enum fl_event_type)(head[0] % (FL_EV_HEALTH + 2));
	ev.cls = (int)(int8_t)head[1];
	memcpy(num, head + 2, sizeof(num));
	ev.camera = field[0];
	ev.lane = field[1];
	ev.reason = field[3];
	snprintf(ev.incident_id, sizeof(ev.incident_id), "%s", field[2]);
	ev.t = num[0];
	ev.rest_since = num[1];
	ev.left_at = num[2];
	memcpy(ev.bbox, num + 3, sizeof(ev.bbox));
	out = write_all(w_event, &ev, head[HEAD - 1], &n);
	CHECK(valid_json(out, n, '{'));
	/* Only camera events say why; lane events' lines never changed. */
	CHECK(!fl_event_is_camera(ev.type) == !strstr(out, ",\"reason\":"));
	free(out);

	/* A NULL camera, lane or reason is written as "". */
	ev.camera = NULL;
	ev.lane = NULL;
	ev.reason = NULL;
	out = write_all(w_event, &ev, head[HEAD - 1], &n);
	CHECK(valid_json(out, n, '{'));
	free(out);

	free(text);
	return 0;
}
