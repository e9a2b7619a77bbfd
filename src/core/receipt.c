/*
 * receipt.c - the delivery receipt's format and its strict parser (see
 * receipt.h). The parser reads untrusted bytes from the broker: it never
 * reads past len, accepts one flat object of three known keys and refuses
 * everything else with a reason naming the byte offset.
 */
#include "receipt.h"

#include <stdio.h>
#include <string.h>

#include "fl.h"
#include "topic.h"

size_t fl_receipt_topic(char *buf, size_t len, const char *site,
			const char *device)
{
	char lvl[FL_TOPIC_MAX], dev[FL_TOPIC_MAX];
	int n;

	fl_topic_level(site, lvl, sizeof(lvl));
	fl_topic_level(device, dev, sizeof(dev));
	n = snprintf(buf, len, "firelane/%s/%s/receipt", lvl, dev);
	return n < 0 ? 0 : (size_t)n;
}

size_t fl_receipt_json(const fl_receipt *r, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "{\"incident_id\": \"%s\", \"verified\": %s, "
			 "\"manifest_sha256\": \"%s\"}",
			 r->incident_id, r->verified ? "true" : "false",
			 r->manifest_sha256);
	return n < 0 ? 0 : (size_t)n;
}

struct rd {
	const char *p;
	size_t n, i;
	char *err;
	size_t errlen;
};

static int bad(struct rd *r, const char *what)
{
	snprintf(r->err, r->errlen, "%s at byte %zu", what, r->i);
	return FL_EINVAL;
}

static void ws(struct rd *r)
{
	while (r->i < r->n && (r->p[r->i] == ' ' || r->p[r->i] == '\t' ||
			       r->p[r->i] == '\n' || r->p[r->i] == '\r'))
		r->i++;
}

static int expect(struct rd *r, char c)
{
	char what[32];

	ws(r);
	if (r->i < r->n && r->p[r->i] == c) {
		r->i++;
		return 0;
	}
	snprintf(what, sizeof(what), "'%c' expected", c);
	return bad(r, what);
}

/* A string without escapes into out (size cap, at most cap - 1 bytes). */
static int string(struct rd *r, char *out, size_t cap)
{
	size_t k = 0;

	if (expect(r, '"'))
		return FL_EINVAL;
	while (r->i < r->n && r->p[r->i] != '"') {
		unsigned char c = (unsigned char)r->p[r->i];

		if (c == '\\')
			return bad(r, "escapes are not accepted");
		if (c < 0x20)
			return bad(r, "control character in a string");
		if (k + 1 >= cap)
			return bad(r, "string too long");
		out[k++] = (char)c;
		r->i++;
	}
	if (r->i >= r->n)
		return bad(r, "unterminated string");
	r->i++;
	out[k] = '\0';
	return 0;
}

static int literal(struct rd *r, const char *word)
{
	size_t l = strlen(word);

	if (r->n - r->i >= l && !memcmp(r->p + r->i, word, l)) {
		r->i += l;
		return 1;
	}
	return 0;
}

static int hex64_ok(const char *s)
{
	size_t k;

	for (k = 0; s[k]; k++)
		if (!((s[k] >= '0' && s[k] <= '9') ||
		      (s[k] >= 'a' && s[k] <= 'f')))
			return 0;
	return k == 64;
}

int fl_receipt_parse(const void *payload, size_t len, fl_receipt *out,
		     char *err, size_t errlen)
{
	struct rd r = { payload, len, 0, err, errlen };
	int have_id = 0, have_v = 0, have_sha = 0;
	char key[32];

	memset(out, 0, sizeof(*out));
	if (!payload)
		return bad(&r, "no payload");
	if (expect(&r, '{'))
		return FL_EINVAL;
	for (;;) {
		size_t at;

		ws(&r);
		at = r.i;
		if (string(&r, key, sizeof(key)) || expect(&r, ':'))
			return FL_EINVAL;
		ws(&r);
		if (!strcmp(key, "incident_id")) {
			if (have_id++)
				goto dup;
			if (string(&r, out->incident_id,
				   sizeof(out->incident_id)))
				return FL_EINVAL;
			if (!fl_id_valid(out->incident_id, FL_INCIDENT_ID_MAX))
				return bad(&r, "incident_id: not an id");
		} else if (!strcmp(key, "verified")) {
			if (have_v++)
				goto dup;
			if (literal(&r, "true"))
				out->verified = 1;
			else if (literal(&r, "false"))
				out->verified = 0;
			else
				return bad(&r, "verified: true or false "
					       "expected");
		} else if (!strcmp(key, "manifest_sha256")) {
			if (have_sha++)
				goto dup;
			if (string(&r, out->manifest_sha256,
				   sizeof(out->manifest_sha256)))
				return FL_EINVAL;
			if (!hex64_ok(out->manifest_sha256))
				return bad(&r, "manifest_sha256: 64 lowercase "
					       "hex digits expected");
		} else {
			r.i = at;
			return bad(&r, "unknown key");
		}
		ws(&r);
		if (r.i < r.n && r.p[r.i] == ',') {
			r.i++;
			continue;
		}
		if (expect(&r, '}'))
			return FL_EINVAL;
		break;
	dup:
		r.i = at;
		return bad(&r, "duplicate key");
	}
	ws(&r);
	if (r.i != r.n)
		return bad(&r, "trailing bytes");
	if (!have_id || !have_v || !have_sha) {
		snprintf(err, errlen, "missing %s",
			 !have_id  ? "incident_id"
			 : !have_v ? "verified"
				   : "manifest_sha256");
		return FL_EINVAL;
	}
	return 0;
}
