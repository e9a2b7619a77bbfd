/*
 * test_store.c - the evidence store on a full disk and on a read-only one.
 *
 * A real small file system, not a mock: the test forks a child that enters
 * new user and mount namespaces (what `unshare --user --map-root-user
 * --mount` does), mounts a 256 KiB tmpfs on a scratch directory, and runs
 * the checks there; later it remounts it read-only. Nothing outside the
 * child sees the mount. Where namespaces are not allowed (some containers)
 * the test says so and passes as skipped.
 *
 * What must hold: writes that hit ENOSPC return FL_EFULL and those that hit
 * a read-only file system FL_EIO, both with the path and the system's reason;
 * no temporary or half-written file is left; a bundle whose seal failed is
 * invisible in the store and aborts cleanly; a store that cannot be written
 * does not open.
 */
#define _GNU_SOURCE
#include "bundle.h"
#include "file.h"
#include "fl.h"
#include "internal.h"
#include "manifest.h"
#include "sign.h"
#include "store.h"
#include "tempfiles.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sodium.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP 77

static char mnt[128];

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries in dir (without . and ..), -1 if it cannot be read. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Become root of a new user namespace with a private mount namespace and
 * mount a 256 KiB tmpfs on mnt. 0, or -1 with the reason on stderr. */
static int enter_sandbox(void)
{
	char map[64];
	unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
		fprintf(stderr, "unshare: %s\n", strerror(errno));
		return -1;
	}
	write_proc("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_proc("/proc/self/uid_map", map) != 0) {
		fprintf(stderr, "uid_map: %s\n", strerror(errno));
		return -1;
	}
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (write_proc("/proc/self/gid_map", map) != 0) {
		fprintf(stderr, "gid_map: %s\n", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
		fprintf(stderr, "mount: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static fl_bundle *begin(fl_store *s, const char *id, char *err, size_t n)
{
	fl_bundle_info info = { .incident_id = id,
				.device = "edge-01",
				.site = "s",
				.camera = "c",
				.lane = "l",
				.cleared_wall = -1 };
	fl_bundle *b = NULL;
	int rc = fl_bundle_start(s, &info, &b, err, n);

	CHECK_MSG(rc == 0, "begin %s: %s", id, err);
	return b;
}

static void test_full(const fl_key *k, unsigned char *big, size_t bign)
{
	fl_store_opts o = { .min_free_bytes = 1 };
	char path[512], err[512], store[256], partial[512], out[1024];
	fl_store *s;
	fl_bundle *b;
	int rc, fd;

	/* A file larger than the disk. */
	snprintf(path, sizeof(path), "%s/big.bin", mnt);
	rc = fl_file_write(path, big, bign, 0640, 0, err, sizeof(err));
	CHECK_MSG(rc == FL_EFULL, "rc %d: %s", rc, err);
	CHECK_MSG(strstr(err, path) && strstr(err, strerror(ENOSPC)), "%s",
		  err);
	CHECK(temps_in(mnt) == 0 && !exists(path));

	/* A bundle whose second file does not fit: FL_EFULL, the first file
	 * stays, no temporary; the bundle is still usable and seals. */
	snprintf(store, sizeof(store), "%s/store", mnt);
	s = fl_store_open(store, &o, err, sizeof(err));
	CHECK_MSG(s, "%s", err);
	if (!s)
		return;
	snprintf(partial, sizeof(partial), "%s/.partial/inc-1", store);
	b = begin(s, "inc-1", err, sizeof(err));
	if (!b)
		goto out;
	CHECK(fl_bundle_add(b, "a.bin", big, 100 * 1024, NULL, err,
			    sizeof(err)) == 0);
	rc = fl_bundle_add(b, "b.bin", big, 200 * 1024, NULL, err, sizeof(err));
	CHECK_MSG(rc == FL_EFULL, "rc %d: %s", rc, err);
	CHECK_MSG(strstr(err, "b.bin") != NULL, "%s", err);
	CHECK(count_entries(partial) == 1);
	rc = fl_bundle_seal(b, k, out, sizeof(out), err, sizeof(err));
	CHECK_MSG(rc == 0, "seal: %s", err);
	if (rc)
		fl_bundle_abort(b);
	else
		CHECK(fl_bundle_verify(out, k->pk, err, sizeof(err)) == 0);

	/* Another bundle that does not fit, aborted: nothing remains. */
	snprintf(partial, sizeof(partial), "%s/.partial/inc-2", store);
	b = begin(s, "inc-2", err, sizeof(err));
	if (!b)
		goto out;
	rc = fl_bundle_add(b, "c.bin", big, 200 * 1024, NULL, err, sizeof(err));
	CHECK(rc == FL_EFULL);
	CHECK(count_entries(partial) == 0);
	fl_bundle_abort(b);
	CHECK(!exists(partial));

	/* The disk filled to the last byte after the files went in: the seal
	 * cannot write the manifest. FL_EFULL, the bundle stays invisible,
	 * and abort clears it. */
	b = begin(s, "inc-3", err, sizeof(err));
	if (!b)
		goto out;
	CHECK(fl_bundle_add(b, "d.bin", "data", 4, NULL, err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/filler", mnt);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	while (fd >= 0 && write(fd, big, 4096) > 0)
		;
	if (fd >= 0)
		close(fd);
	rc = fl_bundle_seal(b, k, NULL, 0, err, sizeof(err));
	CHECK_MSG(rc == FL_EFULL, "rc %d: %s", rc, err);
	CHECK_MSG(strstr(err, "manifest") != NULL, "%s", err);
	snprintf(out, sizeof(out), "%s/inc-3", store);
	CHECK(!exists(out));
	snprintf(partial, sizeof(partial), "%s/.partial/inc-3", store);
	CHECK(temps_in(partial) == 0);
	fl_bundle_abort(b);
	CHECK(!exists(partial));

	/* Below min_free: no new bundle. */
	fl_store_close(s);
	o.min_free_bytes = 1024 * 1024;
	s = fl_store_open(store, &o, err, sizeof(err));
	CHECK_MSG(s, "%s", err);
	if (s) {
		fl_bundle_info info = { .incident_id = "inc-4",
					.device = "e",
					.site = "s",
					.camera = "c",
					.lane = "l" };

		b = NULL;
		rc = fl_bundle_start(s, &info, &b, err, sizeof(err));
		CHECK_MSG(rc == FL_EFULL && !b, "rc %d: %s", rc, err);
		CHECK_MSG(strstr(err, "below the minimum"), "%s", err);
	}
	unlink(path); /* the filler */
out:
	fl_store_close(s);
}

static void test_read_only(const fl_key *k)
{
	fl_store_opts o = { .min_free_bytes = 1 };
	char path[512], err[512], store[256];
	fl_store *s, *s2;
	fl_bundle *b = NULL;
	int rc;

	snprintf(store, sizeof(store), "%s/store", mnt);
	s = fl_store_open(store, &o, err, sizeof(err));
	CHECK_MSG(s, "%s", err);
	if (!s)
		return;
	/* Possible only while no file there is open for writing: the store
	 * holds none between calls. */
	if (mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0) {
		CHECK_MSG(0, "remount read-only: %s", strerror(errno));
		fl_store_close(s);
		return;
	}
	snprintf(path, sizeof(path), "%s/x.txt", mnt);
	rc = fl_file_write(path, "x", 1, 0640, 0, err, sizeof(err));
	CHECK_MSG(rc == FL_EIO, "rc %d: %s", rc, err);
	CHECK_MSG(strstr(err, path) && strstr(err, strerror(EROFS)), "%s", err);
	CHECK(temps_in(mnt) == 0);

	/* An open store: no new bundle, no marker. */
	{
		fl_bundle_info info = { .incident_id = "inc-9",
					.device = "e",
					.site = "s",
					.camera = "c",
					.lane = "l" };

		rc = fl_bundle_start(s, &info, &b, err, sizeof(err));
		CHECK_MSG(rc == FL_EIO && !b, "rc %d: %s", rc, err);
		CHECK_MSG(strstr(err, "read-only"), "%s", err);
	}
	rc = fl_store_mark_delivered(s, "inc-1", err, sizeof(err));
	CHECK_MSG(rc == FL_EIO, "rc %d: %s", rc, err);
	/* What is there still verifies. */
	snprintf(path, sizeof(path), "%s/inc-1", store);
	CHECK_MSG(fl_bundle_verify(path, k->pk, err, sizeof(err)) == 0, "%s",
		  err);
	fl_store_close(s);

	/* Opening a store there fails, new or existing. */
	s2 = fl_store_open(store, &o, err, sizeof(err));
	CHECK_MSG(!s2, "opened a store on a read-only file system");
	fl_store_close(s2);
	snprintf(path, sizeof(path), "%s/new-store", mnt);
	err[0] = '\0';
	s2 = fl_store_open(path, &o, err, sizeof(err));
	CHECK(!s2);
	CHECK_MSG(strstr(err, path) && strstr(err, strerror(EROFS)), "%s", err);
	fl_store_close(s2);
}

static int child(void)
{
	size_t bign = 512 * 1024;
	unsigned char *big;
	fl_key k;

	if (enter_sandbox() != 0)
		return SKIP;
	CHECK(sodium_init() >= 0);
	crypto_sign_keypair(k.pk, k.sk);
	big = malloc(bign);
	if (!big)
		return 1;
	for (size_t i = 0; i < bign; i++)
		big[i] = (unsigned char)(i * 7);
	test_full(&k, big, bign);
	test_read_only(&k);
	free(big);
	return test_failures ? 1 : 0;
}

int main(void)
{
	pid_t pid;
	int status = 0;

	snprintf(mnt, sizeof(mnt), "/tmp/fl-test-store-XXXXXX");
	if (!mkdtemp(mnt)) {
		perror("mkdtemp");
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(child());
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	rmdir(mnt); /* the mount lived in the child's namespace only */
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP) {
		printf("skipped: no user/mount namespaces here (see above)\n");
		return 0;
	}
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the checks on the small file system failed (status %d)",
		  status);
	TEST_DONE();
}
