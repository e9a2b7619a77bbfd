/*
 * zip.c - stored-entry ZIP archives (PKWARE APPNOTE 6.3, no ZIP64).
 *
 * Layout: for each entry a local header, then its bytes; at the end the
 * central directory (one record per entry) and the end record. An entry's
 * local header is first written with zero CRC and sizes, the data is
 * streamed while its CRC-32 is computed, and the header is patched in place
 * with pwrite(): no data descriptor, which every reader accepts.
 */
#include "zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "fl.h"

#define ZIP_MAX 0xFFFFFFFFULL

struct entry {
	char *name;
	uint32_t crc, size, offset;
	uint16_t dtime, ddate;
};

struct hub_zip {
	int fd;
	unsigned long long off; /* where the next byte goes */
	struct entry *e;
	int n, cap;
};

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, unsigned long v)
{
	put16(p, (unsigned)(v & 0xFFFF));
	put16(p + 2, (unsigned)(v >> 16));
}

static int write_all(hub_zip *z, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (z->off + len > ZIP_MAX)
		return FL_EFULL;
	while (len) {
		ssize_t w = write(z->fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return FL_EIO;
		p += w;
		len -= (size_t)w;
		z->off += (size_t)w;
	}
	return FL_OK;
}

static void dos_time(double t, uint16_t *dtime, uint16_t *ddate)
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	if (tm.tm_year < 80) { /* DOS dates start in 1980 */
		*dtime = 0;
		*ddate = (1 << 5) | 1;
		return;
	}
	*dtime = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) |
			    (tm.tm_sec / 2));
	*ddate = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) |
			    tm.tm_mday);
}

hub_zip *hub_zip_open(int fd)
{
	hub_zip *z = calloc(1, sizeof(*z));
	off_t o;

	if (!z)
		return NULL;
	z->fd = fd;
	o = lseek(fd, 0, SEEK_END);
	z->off = o > 0 ? (unsigned long long)o : 0;
	return z;
}

void hub_zip_abort(hub_zip *z)
{
	if (!z)
		return;
	for (int i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	free(z);
}

/* Writes the local header of a new entry (CRC and sizes zero for now). */
static int begin(hub_zip *z, const char *name, double mtime, struct entry **out)
{
	unsigned char h[30];
	size_t nl = strlen(name);
	struct entry *e;
	int rc;

	if (!nl || nl > 1024 || name[0] == '/' || strstr(name, ".."))
		return FL_EINVAL;
	if (z->n == z->cap) {
		int cap = z->cap ? z->cap * 2 : 16;
		struct entry *v = realloc(z->e, (size_t)cap * sizeof(*v));

		if (!v)
			return FL_ENOMEM;
		z->e = v;
		z->cap = cap;
	}
	e = &z->e[z->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	if (!e->name)
		return FL_ENOMEM;
	e->offset = (uint32_t)z->off;
	dos_time(mtime, &e->dtime, &e->ddate);
	memset(h, 0, sizeof(h));
	put32(h, 0x04034b50);
	put16(h + 4, 20);     /* version needed: 2.0 */
	put16(h + 6, 0x0800); /* names are UTF-8 */
	put16(h + 8, 0);      /* stored */
	put16(h + 10, e->dtime);
	put16(h + 12, e->ddate);
	put16(h + 26, (unsigned)nl);
	rc = write_all(z, h, sizeof(h));
	if (!rc)
		rc = write_all(z, name, nl);
	if (rc) {
		free(e->name);
		return rc;
	}
	z->n++;
	*out = e;
	return FL_OK;
}

/* Patches the entry's local header with its CRC and size. */
static int finish(hub_zip *z, struct entry *e)
{
	unsigned char p[12];

	put32(p, e->crc);
	put32(p + 4, e->size);
	put32(p + 8, e->size);
	return pwrite(z->fd, p, sizeof(p), (off_t)e->offset + 14) ==
			       (ssize_t)sizeof(p)
		       ? FL_OK
		       : FL_EIO;
}

int hub_zip_add_mem(hub_zip *z, const char *name, const void *data, size_t len,
		    double mtime)
{
	struct entry *e;
	int rc;

	if (len > ZIP_MAX)
		return FL_EFULL;
	rc = begin(z, name, mtime, &e);
	if (rc)
		return rc;
	rc = write_all(z, data, len);
	if (rc)
		return rc;
	e->crc = (uint32_t)crc32(crc32(0, NULL, 0), data, (uInt)len);
	e->size = (uint32_t)len;
	return finish(z, e);
}

int hub_zip_add_fd(hub_zip *z, const char *name, int fd, char sha256[65])
{
	unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
	unsigned long long total = 0;
	crypto_hash_sha256_state st_sha;
	struct entry *e;
	struct stat st;
	uLong crc = crc32(0, NULL, 0);
	int rc;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return FL_EINVAL;
	if ((unsigned long long)st.st_size > ZIP_MAX)
		return FL_EFULL;
	rc = begin(z, name, (double)st.st_mtime, &e);
	if (rc)
		return rc;
	crypto_hash_sha256_init(&st_sha);
	for (;;) {
		ssize_t r = pread(fd, buf, sizeof(buf), (off_t)total);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return FL_EIO;
		if (r == 0)
			break;
		total += (size_t)r;
		if (total > ZIP_MAX)
			return FL_EFULL;
		crc = crc32(crc, buf, (uInt)r);
		crypto_hash_sha256_update(&st_sha, buf, (unsigned long long)r);
		rc = write_all(z, buf, (size_t)r);
		if (rc)
			return rc;
	}
	crypto_hash_sha256_final(&st_sha, h);
	if (sha256)
		sodium_bin2hex(sha256, 65, h, sizeof(h));
	e->crc = (uint32_t)crc;
	e->size = (uint32_t)total;
	return finish(z, e);
}

int hub_zip_close(hub_zip *z, long long *size)
{
	unsigned long long cd = z->off;
	unsigned char h[46], end[22];
	int rc = FL_OK;

	for (int i = 0; i < z->n && !rc; i++) {
		const struct entry *e = &z->e[i];
		size_t nl = strlen(e->name);

		memset(h, 0, sizeof(h));
		put32(h, 0x02014b50);
		put16(h + 4, (3 << 8) | 20); /* made by: unix, 2.0 */
		put16(h + 6, 20);
		put16(h + 8, 0x0800);
		put16(h + 10, 0);
		put16(h + 12, e->dtime);
		put16(h + 14, e->ddate);
		put32(h + 16, e->crc);
		put32(h + 20, e->size);
		put32(h + 24, e->size);
		put16(h + 28, (unsigned)nl);
		put32(h + 38, 0100644UL << 16); /* -rw-r--r-- */
		put32(h + 42, e->offset);
		rc = write_all(z, h, sizeof(h));
		if (!rc)
			rc = write_all(z, e->name, nl);
	}
	if (!rc && z->n > 0xFFFF)
		rc = FL_EFULL;
	if (!rc) {
		memset(end, 0, sizeof(end));
		put32(end, 0x06054b50);
		put16(end + 8, (unsigned)z->n);
		put16(end + 10, (unsigned)z->n);
		put32(end + 12, (unsigned long)(z->off - cd));
		put32(end + 16, (unsigned long)cd);
		rc = write_all(z, end, sizeof(end));
	}
	if (!rc && size)
		*size = (long long)z->off;
	hub_zip_abort(z);
	return rc;
}
