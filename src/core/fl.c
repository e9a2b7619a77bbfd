/*
 * fl.c - the error table (see fl.h). Core holds no state: the log hook
 * lives in src/util/log.c.
 */
#include "fl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *fl_strerror(int err)
{
	switch (err) {
	case FL_OK:
		return "success";
#define XX(name, val, msg)                                                     \
	case FL_E##name:                                                       \
		return msg;
		FL_ERRNO_MAP(XX)
#undef XX
	}
	return "unknown error";
}

int fl_err_transient(int err)
{
	return err == FL_EIO || err == FL_EFULL || err == FL_EAGAIN ||
	       err == FL_ENOMEM;
}

uint32_t fl_crc32(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

void fl_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void fl_url_redact(const char *url, char *out, size_t len)
{
	const char *scheme = strstr(url, "://"), *host, *at, *colon, *end;
	size_t n = 0;

	if (!len)
		return;
	*out = 0;
	host = scheme ? scheme + 3 : url;
	end = host + strcspn(host, "/?#");
	/* the last '@' before the path: a password may hold one */
	at = NULL;
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
	/* the text up to the password, "***", then on from the '@' */
	if (colon)
		n = (size_t)snprintf(out, len, "%.*s:***", (int)(colon - url),
				     url);
	for (const char *p = colon ? at : url; *p && n + 1 < len;) {
		int key = p > end && (p[-1] == '?' || p[-1] == '&') &&
			  !strncmp(p, "password=", 9);

		if (key) {
			n += (size_t)snprintf(out + n, len - n, "password=***");
			p += 9 + strcspn(p + 9, "&#");
		} else {
			out[n++] = *p++;
			out[n] = 0;
		}
	}
	if (n >= len)
		out[len - 1] = 0;
}
