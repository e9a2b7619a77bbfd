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

void fl_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
