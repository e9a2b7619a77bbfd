/*
 * internal.h - helpers shared by the vision sources; not part of the C API.
 */
#ifndef FL_VISION_INTERNAL_H
#define FL_VISION_INTERNAL_H

#include <stddef.h>

/* Format into a caller's error buffer; NULL or 0-length buffers are fine. */
void fl__vision_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* FL_VISION_INTERNAL_H */
