/*
 * internal.h - helpers shared by the evidence library's files, not part of its
 * API (fl__ names). Paths are NUL-terminated; errors as in fl.h. Writing,
 * reading and hashing files is src/util/file.h's.
 */
#ifndef FL_EVIDENCE_INTERNAL_H
#define FL_EVIDENCE_INTERNAL_H

#include <stddef.h>

#define FL__TAG "evidence"
#define FL__PATH_MAX 4096

/* sodium_init() once; returns 0 or FL_EIO. */
int fl__sodium_ready(void);

/* Remove path and everything below it (no symlink is followed). Returns 0 or
 * FL_EIO; a path that does not exist is success. */
int fl__rm_rf(const char *path);

/* Whether name is a plain file name: non-empty, < 256 bytes, no '/', no NUL
 * before the end, not "." or "..", no control characters. */
int fl__plain_name(const char *name);

#endif /* FL_EVIDENCE_INTERNAL_H */
