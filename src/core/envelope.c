/*
 * envelope.c - the signed form of a message: layout and parser (see
 * envelope.h for the format).
 *
 * A note on strictness. The envelope is read before anything is known
 * about the sender, so the parser trusts nothing: the header has a fixed
 * length and a fixed alphabet, and the signature's base64 must be the one
 * canonical encoding of 64 bytes (padding "==", the unused low bits zero).
 * A message has exactly one signed form: two payloads that differ only in
 * how their signature is spelled cannot both pass, so a redelivery is
 * always byte-identical to the first copy.
 */
#include "envelope.h"

#include <stdio.h>
#include <string.h>

#include "fl.h"

static const char B64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int fl_b64_decode(const char *s, size_t slen, unsigned char *out, size_t outlen)
{
	size_t full = outlen / 3 * 4, rest = outlen % 3;
	size_t chars = full + (rest ? rest + 1 : 0), o = 0;
	unsigned acc = 0;
	int bits = 0;

	/* exactly the canonical length: padded to a multiple of 4 */
	if (!s || slen != (outlen + 2) / 3 * 4)
		return -1;
	for (size_t i = chars; i < slen; i++)
		if (s[i] != '=')
			return -1;
	for (size_t i = 0; i < chars; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* the unused low bits of the last character must be zero */
	return o == outlen && acc == 0 ? 0 : -1;
}

static void sig_encode(const unsigned char sig[64], char out[89])
{
	size_t o = 0, i;

	for (i = 0; i + 3 <= 64; i += 3) {
		unsigned v = (unsigned)sig[i] << 16 |
			     (unsigned)sig[i + 1] << 8 | sig[i + 2];
		out[o++] = B64[(v >> 18) & 63];
		out[o++] = B64[(v >> 12) & 63];
		out[o++] = B64[(v >> 6) & 63];
		out[o++] = B64[v & 63];
	}
	/* 64 = 21 x 3 + 1: one byte left, two characters and "==" */
	out[o++] = B64[sig[63] >> 2];
	out[o++] = B64[(sig[63] & 3) << 4];
	out[o++] = '=';
	out[o++] = '=';
	out[o] = '\0';
}

int fl_envelope_kid_ok(const char *kid)
{
	size_t n;

	if (!kid)
		return 0;
	for (n = 0; kid[n]; n++)
		if (!((kid[n] >= '0' && kid[n] <= '9') ||
		      (kid[n] >= 'a' && kid[n] <= 'f')))
			return 0;
	return n == FL_ENVELOPE_KID;
}

int fl_envelope_topic_ok(const char *topic)
{
	size_t n;

	if (!topic || !topic[0])
		return 0;
	n = strlen(topic);
	return n <= FL_ENVELOPE_TOPIC_MAX && !memchr(topic, '\n', n);
}

int fl_envelope_parse(const void *payload, size_t len, fl_envelope *out,
		      char *err, size_t errlen)
{
	const unsigned char *p = payload;
	const unsigned char *kid = p + FL_ENVELOPE_MAGIC_LEN;
	const unsigned char *sig = kid + FL_ENVELOPE_KID + 1;

	memset(out, 0, sizeof(*out));
	out->body = p;
	out->body_len = len;
	if (!p || len < FL_ENVELOPE_MAGIC_LEN ||
	    memcmp(p, FL_ENVELOPE_MAGIC, FL_ENVELOPE_MAGIC_LEN))
		return FL_ENOENT;
	out->body = NULL;
	out->body_len = 0;
	if (len < FL_ENVELOPE_HEADER) {
		fl_seterr(err, errlen, "signed message: header cut short");
		return FL_EFORMAT;
	}
	memcpy(out->kid, kid, FL_ENVELOPE_KID);
	out->kid[FL_ENVELOPE_KID] = '\0';
	if (!fl_envelope_kid_ok(out->kid) || kid[FL_ENVELOPE_KID] != ' ') {
		fl_seterr(err, errlen,
			  "signed message: key id is not 16 lowercase hex "
			  "digits");
		out->kid[0] = '\0';
		return FL_EFORMAT;
	}
	if (fl_b64_decode((const char *)sig, FL_ENVELOPE_SIG_B64, out->sig,
			  sizeof(out->sig)) < 0 ||
	    sig[FL_ENVELOPE_SIG_B64] != ' ') {
		fl_seterr(err, errlen,
			  "signed message: the signature is not the base64 of "
			  "64 bytes");
		return FL_EFORMAT;
	}
	out->body = p + FL_ENVELOPE_HEADER;
	out->body_len = len - FL_ENVELOPE_HEADER;
	return 0;
}

size_t fl_envelope_prefix(const char *domain, const char *kid,
			  const char *topic, char *buf, size_t len)
{
	int n;

	if (buf && len)
		buf[0] = '\0';
	if (!domain || !kid || !fl_envelope_topic_ok(topic))
		return 0;
	n = snprintf(buf, len, "%s\n%s\n%s\n", domain, kid, topic);
	return n < 0 ? 0 : (size_t)n;
}

size_t fl_envelope_header(const char *kid, const unsigned char sig[64],
			  char *buf, size_t len)
{
	char b64[89];
	int n;

	sig_encode(sig, b64);
	n = snprintf(buf, len, FL_ENVELOPE_MAGIC "%s %s ", kid ? kid : "", b64);
	return n < 0 ? 0 : (size_t)n;
}
