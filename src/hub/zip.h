/*
 * zip.h - a ZIP writer for case packages: stored entries (the evidence is
 * JPEG and MP4, already compressed), CRC-32 from zlib, no ZIP64: an archive
 * or entry that would pass 4 GiB is refused with FL_EFULL.
 *
 * The archive is written to an open, seekable file descriptor the caller
 * owns (a temporary file the server then sends); each entry's local header
 * is patched with its size and CRC once the data is written, so files are
 * streamed, never held in memory.
 */
#ifndef FL_HUB_ZIP_H
#define FL_HUB_ZIP_H

#include <stddef.h>

typedef struct hub_zip hub_zip;

/* Starts an archive at the current end of fd (borrowed: stays open and the
 * caller's). NULL on allocation failure. */
hub_zip *hub_zip_open(int fd);
/* Adds name from memory. 0, FL_EIO, FL_EFULL, FL_EINVAL (name), FL_ENOMEM. */
int hub_zip_add_mem(hub_zip *z, const char *name, const void *data, size_t len,
		    double mtime);
/* Adds name with the contents of the regular file open as fd (borrowed;
 * read from its start with pread, its offset unmoved), and the SHA-256 of
 * exactly the bytes written into sha256 (may be NULL): the caller can
 * compare what went into the archive with what it expected. */
int hub_zip_add_fd(hub_zip *z, const char *name, int fd, char sha256[65]);
/* Writes the central directory, frees z; *size gets the archive's size.
 * 0 or an error (z freed in every case). */
int hub_zip_close(hub_zip *z, long long *size);
/* Frees z without finishing (after an error). NULL-safe. */
void hub_zip_abort(hub_zip *z);

#endif /* FL_HUB_ZIP_H */
