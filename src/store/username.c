/*
 * username.c - what a user name may be, and when two look alike.
 *
 * A note on the rule. A user name is what a person types at the login and
 * what the audit trail shows, so it must be readable, unambiguous and safe
 * wherever it goes: in a URL path (DELETE /api/users/NAME), a log line, the
 * audit. Names are UTF-8 and Chinese names are normal, so the rule is by
 * Unicode category, not by an ASCII list: 1 to 64 code points of letters,
 * marks, digits and other numbers, punctuation, symbols and the plain space;
 * the first a letter or a digit; no space at the end or two in a row. That
 * leaves out '/' and '\' (path separators), every control, format (zero
 * width, bidirectional overrides), separator other than U+0020, private use
 * and unassigned code point, and malformed UTF-8.
 *
 * A note on look-alikes. "root", "Root", "r00t", "rооt" (Cyrillic o),
 * "ｒｏｏｔ" (full width) and "rn" for "m" are different strings a reviewer
 * reads as one name. We go as far as Unicode's own answer: the key of a
 * name is NFKC case folding, then the UTS #39 skeleton (ICU's spoof
 * checker, with the full confusables table from the Unicode data ICU
 * ships), then NFKC case folding again; two names with equal keys are
 * confusable, and a new name whose key is an existing user's is refused. So
 * case and width never make a second name, nor do the confusables Unicode
 * lists (digit zero and capital O, one and small l, Cyrillic and Greek
 * letters shaped like Latin ones). What is not in that table (two
 * different Han characters that merely look similar, or a name that is a
 * prefix of another) is allowed.
 */
#include "username.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "fl.h"

/* UTF-16 units of a key at most (64 code points, NFKC expands some). */
#define KEY_UNITS 4096

static int bad(char *err, size_t errlen, const char *why)
{
	fl_seterr(err, errlen, "user name: %s", why);
	return FL_EINVAL;
}

int fl_user_name_check(const char *name, char *err, size_t errlen)
{
	const uint32_t ok = U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK |
			    U_GC_P_MASK | U_GC_S_MASK;
	int32_t i = 0, len, n = 0;
	UChar32 c, prev = 0;

	if (!name || !*name)
		return bad(err, errlen, "empty");
	len = (int32_t)strnlen(name, 4 * FL_USER_NAME_MAX + 1);
	if (len > 4 * FL_USER_NAME_MAX)
		return bad(err, errlen, "more than 64 characters");
	while (i < len) {
		U8_NEXT(name, i, len, c);
		if (c < 0)
			return bad(err, errlen, "not UTF-8");
		if (++n > FL_USER_NAME_MAX)
			return bad(err, errlen, "more than 64 characters");
		if (c == '/' || c == '\\')
			return bad(err, errlen, "no '/' or '\\'");
		if (c == ' ') {
			if (n == 1 || prev == ' ')
				return bad(err, errlen,
					   "no space first or two in a row");
		} else if (!(U_GET_GC_MASK(c) & ok)) {
			return bad(err, errlen,
				   "letters, digits, punctuation, symbols and "
				   "single spaces only (no control, format or "
				   "unassigned characters)");
		} else if (n == 1 &&
			   !(U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK))) {
			return bad(err, errlen,
				   "the first character is a letter or a "
				   "digit");
		}
		prev = c;
	}
	if (prev == ' ')
		return bad(err, errlen, "no space at the end");
	return FL_OK;
}

int fl_user_name_key(const char *name, char *out, size_t outlen)
{
	UChar *x = NULL, *y = NULL; /* 8 KiB each: not on a thread's stack */
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *cf;
	USpoofChecker *sc = NULL;
	int32_t n;
	int rc = FL_EINVAL;

	if (fl_user_name_check(name, NULL, 0) || outlen < 1)
		return FL_EINVAL;
	x = calloc(KEY_UNITS, sizeof(*x));
	y = calloc(KEY_UNITS, sizeof(*y));
	if (!x || !y) {
		rc = FL_ENOMEM;
		goto out;
	}
	u_strFromUTF8(x, KEY_UNITS, &n, name, -1, &st);
	cf = unorm2_getNFKCCasefoldInstance(&st);
	if (U_FAILURE(st)) {
		rc = FL_ENOMEM;
		goto out;
	}
	n = unorm2_normalize(cf, x, n, y, KEY_UNITS, &st);
	sc = uspoof_open(&st);
	if (!sc || U_FAILURE(st)) {
		rc = FL_ENOMEM;
		goto out;
	}
	n = uspoof_getSkeleton(sc, 0, y, n, x, KEY_UNITS, &st);
	n = unorm2_normalize(cf, x, n, y, KEY_UNITS, &st);
	u_strToUTF8(out, (int32_t)outlen, NULL, y, n, &st);
	/* a terminating NUL that does not fit is a warning, not an error */
	if (U_SUCCESS(st) && st != U_STRING_NOT_TERMINATED_WARNING)
		rc = FL_OK;
out:
	uspoof_close(sc);
	free(x);
	free(y);
	return rc;
}
