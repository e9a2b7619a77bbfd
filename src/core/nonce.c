/*
 * nonce.c - the window of fresh commands (see nonce.h).
 *
 * A note on the window. A signature proves who made a command, not when:
 * a command captured on the broker could be sent again a day later, or
 * the moment after it was carried out. So every command carries the hub's
 * time and a random nonce. A time outside the window is refused as stale;
 * inside it, the nonce must be new. An entry can be forgotten once its
 * time is outside the window, because from then on its command is stale
 * whatever its nonce; so the set never holds more than one window's worth
 * of commands, and a flood larger than FL_NONCES_MAX within one window is
 * refused rather than forgetting a nonce that is still live.
 */
#include "nonce.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"

int fl_nonce_ok(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	for (n = 0; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') ||
		      (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n >= FL_NONCE_MIN_LEN && n < FL_NONCE_MAX;
}

/* Drop the entries whose commands are stale at now. */
static void expire(fl_nonces *w, double now, double window_s)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n; i++)
		if (fabs(now - w->e[i].time) <= window_s)
			w->e[k++] = w->e[i];
	w->n = k;
}

int fl_nonces_check(fl_nonces *w, const char *nonce, double time, double now,
		    double window_s, char *err, size_t errlen)
{
	if (!fl_nonce_ok(nonce)) {
		fl_seterr(err, errlen,
			  "nonce: expected 16 to 64 lowercase hex digits");
		return FL_EFORMAT;
	}
	if (!isfinite(time) || !isfinite(now)) {
		fl_seterr(err, errlen, "time: expected unix seconds");
		return FL_EFORMAT;
	}
	if (fabs(now - time) > window_s) {
		fl_seterr(err, errlen,
			  "stale: the command's time is %.0f s %s this "
			  "device's clock (at most %.0f s either way); is a "
			  "clock wrong?",
			  fabs(now - time), time < now ? "behind" : "ahead of",
			  window_s);
		return FL_ERANGE;
	}
	expire(w, now, window_s);
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->e[i].nonce, nonce)) {
			fl_seterr(err, errlen,
				  "replayed: nonce %.16s... was used already",
				  nonce);
			return FL_EEXIST;
		}
	if (w->n == FL_NONCES_MAX) {
		fl_seterr(err, errlen,
			  "more than %d commands within %.0f s: refused",
			  FL_NONCES_MAX, window_s);
		return FL_EFULL;
	}
	w->e[w->n].time = time;
	memcpy(w->e[w->n].nonce, nonce, strlen(nonce) + 1);
	w->n++;
	return 0;
}

size_t fl_nonces_write(const fl_nonces *w, char *buf, size_t len)
{
	size_t pos = 0;

	if (buf && len)
		buf[0] = '\0';
	for (size_t i = 0; i < w->n; i++) {
		int k = snprintf(buf && pos < len ? buf + pos : NULL,
				 buf && pos < len ? len - pos : 0, "%.3f %s\n",
				 w->e[i].time, w->e[i].nonce);
		if (k < 0)
			return pos;
		pos += (size_t)k;
	}
	return pos;
}

size_t fl_nonces_read(fl_nonces *w, const char *text, size_t len, double now,
		      double window_s)
{
	const char *p = text, *end = text + len;

	w->n = 0;
	while (p < end && w->n < FL_NONCES_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[128], nonce[FL_NONCE_MAX + 1];
		double t;

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (sscanf(line, "%lf %65s", &t, nonce) == 2 &&
			    isfinite(t) && fl_nonce_ok(nonce) &&
			    fabs(now - t) <= window_s) {
				w->e[w->n].time = t;
				memcpy(w->e[w->n].nonce, nonce,
				       strlen(nonce) + 1);
				w->n++;
			}
		}
		p += n + (nl != NULL);
	}
	return w->n;
}
