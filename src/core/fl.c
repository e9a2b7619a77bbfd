/*
 * fl.c - the error table (see fl.h). Core holds no state: the log hook
 * lives in src/util/log.c.
 */
#include "fl.h"

#include <stdarg.h>
#include <stdio.h>

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
