/*
 * internal.h - helpers shared by the evidence library's files, not part of its
 * API (fl__ names). Paths are NUL-terminated; errors as in fl.h.
 */
#ifndef FL_EVIDENCE_INTERNAL_H
#define FL_EVIDENCE_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#define FL__TAG "evidence"
#define FL__PATH_MAX 4096

/* sodium_init() once; returns 0 or FL_EIO. */
int fl__sodium_ready(void);

/* Map errno after a failed write-side call: ENOSPC/EDQUOT -> FL_EFULL, else
 * FL_EIO; writes "<what> <path>: <strerror>" into err. */
int fl__errno_fail(int e, const char *what, const char *path, char *err,
		   size_t errlen);

/* fsync the directory path (EINVAL on file systems that cannot: ignored). */
int fl__fsync_dir(const char *path, char *err, size_t errlen);

/* mkdir -p with mode for the created parts. */
int fl__mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* Remove path and everything below it (no symlink is followed). Returns 0 or
 * FL_EIO; a path that does not exist is success. */
int fl__rm_rf(const char *path);

/* Whether name is a plain file name: non-empty, < 256 bytes, no '/', no NUL
 * before the end, not "." or "..", no control characters. */
int fl__plain_name(const char *name);

/* SHA-256 of the regular file at dirfd/name (or path when dirfd is AT_FDCWD),
 * streamed; fsyncs it first when do_sync. *size gets its length. */
int fl__sha256_file(const char *path, int do_sync, char hex[65],
		    long long *size, char *err, size_t errlen);

/* Read a whole regular file (at most max bytes) into a malloc'd buffer with a
 * NUL after the end. FL_ENOENT when missing, FL_ERANGE when larger. */
int fl__read_file(const char *path, size_t max, char **out, size_t *len,
		  char *err, size_t errlen);

/* Lowercase hex of n bytes into out (2n + 1). */
void fl__hex(const unsigned char *in, size_t n, char *out);

#endif /* FL_EVIDENCE_INTERNAL_H */
