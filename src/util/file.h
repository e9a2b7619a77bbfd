/*
 * file.h - files written so that a crash cannot leave half of one, read
 * whole, hashed, and the folders they live in (curl's lib/curlx/,
 * mosquitto's util_mosq.c): the one copy of each that every module uses.
 *
 * A note on crashes and full disks. A device is switched off without
 * warning and its SD card fills up; a hub's disk fills up too. Neither may
 * leave a file that looks complete but is not (a key, a manifest, a
 * delivery receipt, an open-incident record, an alert job). So a file is
 * written the one safe way: under a temporary name in the same folder,
 * written in full, fsync'ed, renamed over its name, and the folder
 * fsync'ed so the rename itself survives a power cut. A reader sees the old
 * file or the new one, never a mixture. With FL_FILE_EXCL the last step is
 * link(2) instead of rename(2): it refuses to replace a file that exists,
 * so of two processes making the same file one wins (a device key, an alert
 * job made by one of several hub workers).
 *
 * Temporary names are ".<name>.tmp-<pid>-<n>": hidden (folder scans skip
 * dotfiles), unique per process and call (two writers of one name never
 * share a temporary), and recognisable (fl_file_is_temp) so a sweep at
 * start can remove what a crash left.
 *
 * Errors: 0 or a negative fl_errno. ENOSPC and EDQUOT become FL_EFULL (the
 * caller may prune and retry, or raise an alarm), everything else FL_EIO,
 * with "<what> <path>: <system's reason>" in err. err may be NULL (errlen
 * 0) where the caller only wants the code.
 *
 * Thread-safe: no state but a counter for temporary names.
 */
#ifndef FL_UTIL_FILE_H
#define FL_UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* fl_file_write() flags. */
#define FL_FILE_EXCL 1 /* link, not rename: FL_EEXIST when path exists */

/*
 * Write len bytes of data as path, crash-safe (see the note above), the
 * file's mode exactly `mode` whatever the umask (a key must not end up
 * 0644). Leaves no temporary file behind on failure; path keeps its old
 * content (or stays absent) then. FL_EEXIST only with FL_FILE_EXCL. When
 * everything but the folder's fsync succeeded the file is in place and the
 * error is still returned: the rename may not survive a power cut.
 */
int fl_file_write(const char *path, const void *data, size_t len, int mode,
		  int flags, char *err, size_t errlen);

/* Whether a folder entry's name is a temporary of fl_file_write(). */
int fl_file_is_temp(const char *name);

/*
 * Read the whole regular file path (at most max bytes) into a malloc'd
 * buffer the caller frees, with a NUL after the end (*len excludes it).
 * Symbolic links are not followed, a FIFO does not block (it is refused as
 * not a regular file). FL_ENOENT when missing, FL_ERANGE when larger than
 * max, FL_EFORMAT when not a regular file; *out is NULL on any error.
 */
int fl_file_read(const char *path, size_t max, char **out, size_t *len,
		 char *err, size_t errlen);

/*
 * SHA-256 of the regular file path as 64 lowercase hex digits (and a NUL),
 * streamed; *size (may be NULL) gets its length. With do_sync the file is
 * fsync'ed first (the hash then describes what is on disk). Links are not
 * followed; FL_ENOENT when missing, FL_EFORMAT when not a regular file.
 */
int fl_file_sha256(const char *path, int do_sync, char hex[65], long long *size,
		   char *err, size_t errlen);

/*
 * The same of what the open descriptor fd holds, from its start to its end
 * (read with pread: fd's offset does not move, so a caller may hash a file
 * and then send it from the same descriptor). name is for messages only.
 */
int fl_fd_sha256(int fd, const char *name, char hex[65], long long *size,
		 char *err, size_t errlen);

/* SHA-256 of len bytes of data as 64 lowercase hex digits and a NUL. */
void fl_sha256_hex(const void *data, size_t len, char hex[65]);

/* The folder of path into out (len bytes): "." for a bare name, "/" for a
 * name in the root, else everything before the last '/'. */
void fl_path_dir(const char *path, char *out, size_t len);

/* mkdir -p: path and its missing parents, each created with mode.
 * FL_EIO when a part exists and is not a folder. */
int fl_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* fsync the folder path, so renames and creations in it are durable. A
 * file system that cannot (EINVAL, EROFS) counts as success. */
int fl_fsync_dir(const char *path, char *err, size_t errlen);

/* The errno of a failed write-side call as an fl_errno (ENOSPC, EDQUOT:
 * FL_EFULL; else FL_EIO), with "<what> <path>: <strerror(e)>" in err. */
int fl_file_errno(int e, const char *what, const char *path, char *err,
		  size_t errlen);

#endif /* FL_UTIL_FILE_H */
