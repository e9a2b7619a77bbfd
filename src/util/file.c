/*
 * file.c - the crash-safe writer, whole-file reads, file hashing and
 * folders of file.h. Every module's files go through here; the note on
 * crashes and full disks is at the top of file.h.
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl.h"

#define PATH_LEN 4096

static atomic_uint temp_seq; /* unique temporary names within the process */

int fl_file_errno(int e, const char *what, const char *path, char *err,
		  size_t errlen)
{
	fl_seterr(err, errlen, "%s %s: %s", what, path, strerror(e));
	return e == ENOSPC || e == EDQUOT ? FL_EFULL : FL_EIO;
}

int fl_fsync_dir(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return fl_file_errno(errno, "cannot open directory", path, err,
				     errlen);
	if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		rc = fl_file_errno(errno, "cannot sync directory", path, err,
				   errlen);
	close(fd);
	return rc;
}

int fl_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char buf[PATH_LEN];
	size_t n = path ? strlen(path) : 0;

	if (n == 0 || n >= sizeof(buf)) {
		fl_seterr(err, errlen, "%s: bad directory path",
			  path ? path : "(null)");
		return FL_EINVAL;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		struct stat st;

		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return fl_file_errno(errno, "cannot create directory",
					     buf, err, errlen);
		if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fl_seterr(err, errlen, "%s: not a directory", buf);
			return FL_EIO;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

void fl_path_dir(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

int fl_file_is_temp(const char *name)
{
	return name && name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fl_file_write(const char *path, const void *data, size_t len, int mode,
		  int flags, char *err, size_t errlen)
{
	char tmp[PATH_LEN], dir[PATH_LEN];
	const char *base;
	int fd, rc, n;

	if (!path || !*path || (!data && len)) {
		fl_seterr(err, errlen, "%s: bad path", path ? path : "(null)");
		return FL_EINVAL;
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	fl_path_dir(path, dir, sizeof(dir));
	n = snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp-%ld-%u", (int)(base - path),
		     path, base, (long)getpid(),
		     atomic_fetch_add(&temp_seq, 1));
	if (!*base || n < 0 || (size_t)n >= sizeof(tmp)) {
		fl_seterr(err, errlen, "%s: bad path", path);
		return FL_EINVAL;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0)
		return fl_file_errno(errno, "cannot create", path, err, errlen);
	/* Exactly mode, whatever the umask: a key must not end up 0644 and
	 * evidence must stay readable by the uploader. */
	if (fchmod(fd, (mode_t)mode) != 0) {
		rc = fl_file_errno(errno, "cannot chmod", tmp, err, errlen);
		goto fail;
	}
	if (write_all(fd, data, len) != 0) {
		rc = fl_file_errno(errno, "cannot write", path, err, errlen);
		goto fail;
	}
	if (fsync(fd) != 0) {
		rc = fl_file_errno(errno, "cannot sync", path, err, errlen);
		goto fail;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		rc = fl_file_errno(errno, "cannot close", path, err, errlen);
		goto fail;
	}
	if (flags & FL_FILE_EXCL) {
		/* link(2) fails when path exists: the first writer wins */
		if (link(tmp, path) != 0) {
			rc = errno == EEXIST
				     ? FL_EEXIST
				     : fl_file_errno(errno, "cannot create",
						     path, err, errlen);
			if (rc == FL_EEXIST)
				fl_seterr(err, errlen, "%s: exists", path);
			goto fail;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		rc = fl_file_errno(errno, "cannot rename into", path, err,
				   errlen);
		goto fail;
	}
	return fl_fsync_dir(dir, err, errlen);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* Open path for reading: a regular file, no link followed, no blocking on
 * a FIFO planted under the name (O_NONBLOCK changes nothing for regular
 * files). The descriptor, or a negative fl_errno with the reason. */
static int open_regular(const char *path, struct stat *sb, char *err,
			size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		int e = errno;

		fl_seterr(err, errlen, "%s: %s", path, strerror(e));
		return e == ENOENT ? FL_ENOENT : FL_EIO;
	}
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode)) {
		fl_seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		return FL_EFORMAT;
	}
	return fd;
}

int fl_file_read(const char *path, size_t max, char **out, size_t *len,
		 char *err, size_t errlen)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	fd = open_regular(path, &sb, err, errlen);
	if (fd < 0)
		return fd;
	if ((unsigned long long)sb.st_size > max) {
		fl_seterr(err, errlen, "%s: larger than %zu bytes", path, max);
		rc = FL_ERANGE;
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		fl_seterr(err, errlen, "%s: out of memory", path);
		rc = FL_ENOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fl_seterr(err, errlen, "%s: %s", path,
				  n < 0 ? strerror(errno) : "short read");
			rc = FL_EIO;
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int fl_fd_sha256(int fd, const char *name, char hex[65], long long *size,
		 char *err, size_t errlen)
{
	crypto_hash_sha256_state st;
	unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
	long long total = 0;

	hex[0] = '\0';
	if (size)
		*size = 0;
	if (sodium_init() < 0) {
		fl_seterr(err, errlen, "libsodium failed to initialise");
		return FL_EIO;
	}
	crypto_hash_sha256_init(&st);
	for (;;) {
		/* pread: the descriptor's offset stays where it was */
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fl_file_errno(errno, "cannot read", name, err,
					     errlen);
		if (n == 0)
			break;
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
		total += n;
	}
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, 65, h, sizeof(h));
	if (size)
		*size = total;
	return 0;
}

int fl_file_sha256(const char *path, int do_sync, char hex[65], long long *size,
		   char *err, size_t errlen)
{
	struct stat sb;
	int fd, rc;

	hex[0] = '\0';
	if (size)
		*size = 0;
	fd = open_regular(path, &sb, err, errlen);
	if (fd < 0)
		return fd;
	if (do_sync && fsync(fd) != 0)
		rc = fl_file_errno(errno, "cannot sync", path, err, errlen);
	else
		rc = fl_fd_sha256(fd, path, hex, size, err, errlen);
	close(fd);
	return rc;
}

void fl_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(hex, 65, h, sizeof(h));
}
