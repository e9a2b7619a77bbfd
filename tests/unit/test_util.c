/*
 * test_util.c - the shared plumbing of src/util: the crash-safe writer
 * (replace, exact mode, exclusive creation raced by several processes, no
 * temporary left on failure), whole-file reads (missing, too large, a FIFO,
 * a symbolic link), SHA-256 of files and buffers against known vectors,
 * mkdir -p, the errno mapping, and the clocks; and the one id validator
 * of src/core/id.h that all of them use. Real files in a scratch folder
 * under /tmp.
 */
#include "clock.h"
#include "file.h"
#include "fl.h"
#include "id.h"
#include "tempfiles.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[64];

static void at(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", root, name);
}

static int content_is(const char *path, const char *want)
{
	char err[256], *got;
	size_t n;
	int same;

	if (fl_file_read(path, 1 << 20, &got, &n, err, sizeof(err)))
		return 0;
	same = n == strlen(want) && !memcmp(got, want, n) && got[n] == '\0';
	free(got);
	return same;
}

static void test_write(void)
{
	char path[256], dir[256], err[512];
	struct stat st;
	mode_t old;
	int rc;

	at(path, sizeof(path), "a.txt");
	old = umask(077); /* the mode is exact, whatever the umask */
	rc = fl_file_write(path, "one", 3, 0644, 0, err, sizeof(err));
	umask(old);
	CHECK_MSG(rc == 0, "%s", err);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK(fl_file_write(path, "second", 6, 0600, 0, err, sizeof(err)) == 0);
	CHECK(content_is(path, "second"));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(fl_file_write(path, NULL, 0, 0600, 0, err, sizeof(err)) == 0);
	CHECK(content_is(path, ""));
	CHECK(temps_in(root) == 0);

	/* No such folder: FL_EIO naming the path. */
	at(path, sizeof(path), "no/such/f");
	rc = fl_file_write(path, "x", 1, 0600, 0, err, sizeof(err));
	CHECK(rc == FL_EIO);
	CHECK_MSG(strstr(err, path) && strstr(err, strerror(ENOENT)), "%s",
		  err);

	/* The rename fails (a folder is in the way) after the data went into
	 * the temporary: it is gone, the folder untouched. */
	at(dir, sizeof(dir), "adir");
	CHECK(mkdir(dir, 0700) == 0);
	rc = fl_file_write(dir, "data", 4, 0600, 0, err, sizeof(err));
	CHECK_MSG(rc == FL_EIO && strstr(err, dir), "rc %d: %s", rc, err);
	CHECK(temps_in(root) == 0);
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));

	/* Bad arguments. */
	CHECK(fl_file_write(NULL, "x", 1, 0600, 0, NULL, 0) == FL_EINVAL);
	CHECK(fl_file_write(path, NULL, 1, 0600, 0, NULL, 0) == FL_EINVAL);
	at(path, sizeof(path), "");
	CHECK(fl_file_write(path, "x", 1, 0600, 0, NULL, 0) == FL_EINVAL);
}

static void test_exclusive(void)
{
	char path[256], err[512], want[32];
	pid_t kids[6];
	int won = 0;

	at(path, sizeof(path), "excl.json");
	CHECK(fl_file_write(path, "first", 5, 0640, FL_FILE_EXCL, err,
			    sizeof(err)) == 0);
	CHECK(fl_file_write(path, "second", 6, 0640, FL_FILE_EXCL, err,
			    sizeof(err)) == FL_EEXIST);
	CHECK(content_is(path, "first"));
	CHECK(temps_in(root) == 0);
	unlink(path);

	/* Several processes make the same file at once: exactly one wins and
	 * the file is that one's, whole. */
	for (int i = 0; i < 6; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char mine[32];
			int rc;

			snprintf(mine, sizeof(mine), "writer %d", i);
			rc = fl_file_write(path, mine, strlen(mine), 0640,
					   FL_FILE_EXCL, NULL, 0);
			_exit(rc == 0 ? 0 : rc == FL_EEXIST ? 1 : 2);
		}
	}
	for (int i = 0; i < 6; i++) {
		int st = 0;

		CHECK(kids[i] > 0 && waitpid(kids[i], &st, 0) == kids[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) < 2);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			won++;
			snprintf(want, sizeof(want), "writer %d", i);
		}
	}
	CHECK_MSG(won == 1, "%d winners", won);
	CHECK(won == 1 && content_is(path, want));
	CHECK(temps_in(root) == 0);
}

static void test_temp_names(void)
{
	CHECK(fl_file_is_temp(".a.json.tmp-123-0"));
	CHECK(fl_file_is_temp("..delivered.tmp-9-4"));
	CHECK(!fl_file_is_temp("a.json"));
	CHECK(!fl_file_is_temp("a.tmp-1-2")); /* not hidden: not ours */
	CHECK(!fl_file_is_temp(".delivered"));
	CHECK(!fl_file_is_temp(NULL));
}

static void test_read(void)
{
	char path[256], link_path[256], err[512], *buf = (char *)1;
	size_t n = 7;

	at(path, sizeof(path), "missing");
	CHECK(fl_file_read(path, 100, &buf, &n, err, sizeof(err)) == FL_ENOENT);
	CHECK(buf == NULL && n == 0);

	at(path, sizeof(path), "ten");
	CHECK(fl_file_write(path, "0123456789", 10, 0600, 0, NULL, 0) == 0);
	CHECK(fl_file_read(path, 9, &buf, &n, err, sizeof(err)) == FL_ERANGE);
	CHECK_MSG(strstr(err, path) != NULL, "%s", err);
	CHECK(fl_file_read(path, 10, &buf, &n, err, sizeof(err)) == 0);
	CHECK(buf && n == 10 && !memcmp(buf, "0123456789", 11));
	free(buf);

	/* A symbolic link is not followed; a FIFO does not block. */
	at(link_path, sizeof(link_path), "link");
	CHECK(symlink(path, link_path) == 0);
	CHECK(fl_file_read(link_path, 100, &buf, &n, NULL, 0) < 0);
	at(path, sizeof(path), "fifo");
	CHECK(mkfifo(path, 0600) == 0);
	CHECK(fl_file_read(path, 100, &buf, &n, err, sizeof(err)) == FL_EFORMAT);
	CHECK(fl_file_sha256(path, 0, (char[65]){ 0 }, NULL, NULL, 0) ==
	      FL_EFORMAT);
}

static void test_sha256(void)
{
	static const char abc[] = "ba7816bf8f01cfea414140de5dae2223"
				  "b00361a396177a9cb410ff61f20015ad";
	static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb924"
				    "27ae41e4649b934ca495991b7852b855";
	char path[256], hex[65], err[512];
	long long size = -1;

	fl_sha256_hex("abc", 3, hex);
	CHECK(!strcmp(hex, abc));
	at(path, sizeof(path), "abc");
	CHECK(fl_file_write(path, "abc", 3, 0600, 0, NULL, 0) == 0);
	CHECK(fl_file_sha256(path, 1, hex, &size, err, sizeof(err)) == 0);
	CHECK_MSG(!strcmp(hex, abc) && size == 3, "%s %lld", hex, size);
	at(path, sizeof(path), "empty");
	CHECK(fl_file_write(path, "", 0, 0600, 0, NULL, 0) == 0);
	CHECK(fl_file_sha256(path, 0, hex, NULL, err, sizeof(err)) == 0);
	CHECK(!strcmp(hex, empty));
	at(path, sizeof(path), "nothing");
	CHECK(fl_file_sha256(path, 0, hex, &size, err, sizeof(err)) ==
	      FL_ENOENT);
	CHECK(hex[0] == '\0' && size == 0);
}

static void test_dirs(void)
{
	char path[256], err[512];
	struct stat st;

	at(path, sizeof(path), "d1/d2/d3");
	CHECK(fl_mkdir_p(path, 0750, err, sizeof(err)) == 0);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(fl_mkdir_p(path, 0750, err, sizeof(err)) == 0); /* exists */
	CHECK(fl_fsync_dir(path, err, sizeof(err)) == 0);
	at(path, sizeof(path), "ten/below"); /* a file in the way */
	CHECK(fl_mkdir_p(path, 0750, err, sizeof(err)) == FL_EIO);
	CHECK(fl_mkdir_p("", 0750, err, sizeof(err)) == FL_EINVAL);
	at(path, sizeof(path), "no-such-dir");
	CHECK(fl_fsync_dir(path, err, sizeof(err)) == FL_EIO);
}

static void test_errno_map(void)
{
	char err[256];

	CHECK(fl_file_errno(ENOSPC, "cannot write", "/x/y", err, sizeof(err)) ==
	      FL_EFULL);
	CHECK_MSG(strstr(err, "/x/y") && strstr(err, strerror(ENOSPC)), "%s",
		  err);
	CHECK(fl_file_errno(EDQUOT, "w", "p", NULL, 0) == FL_EFULL);
	CHECK(fl_file_errno(EROFS, "w", "p", NULL, 0) == FL_EIO);
	CHECK(!strcmp(fl_strerror(FL_EEXIST), "already exists"));
}

static void test_clocks(void)
{
	double m0 = fl_mono_s(), c0 = fl_cpu_s(), m1, wall = fl_wall_s();
	struct timespec d = fl_mono_deadline(1500), now;
	volatile unsigned long spin = 0;

	CHECK_NEAR(wall, (double)time(NULL), 2.0);
	CHECK(fl_mono_ns() / 1e9 >= m0);
	/* burn some CPU: the process's CPU clock advances with it */
	do
		spin++;
	while ((m1 = fl_mono_s()) < m0 + 0.05);
	CHECK(m1 >= m0 && fl_cpu_s() > c0);
	clock_gettime(CLOCK_MONOTONIC, &now);
	CHECK_NEAR((double)d.tv_sec + d.tv_nsec / 1e9,
		   (double)now.tv_sec + now.tv_nsec / 1e9 + 1.5, 1.0);
	CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	d = fl_wall_deadline(999);
	CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
	CHECK_NEAR((double)d.tv_sec, (double)time(NULL) + 1, 2.0);
}

static void test_ids(void)
{
	static const struct {
		const char *s;
		size_t max;
		int ok;
	} cases[] = {
		{ "a", FL_ID_MAX, 1 },
		{ "edge-01.north_gate", FL_ID_MAX, 1 },
		{ "..", FL_ID_MAX,
		  1 }, /* an id; names add "not starting with ." */
		{ "", FL_ID_MAX, 0 },
		{ NULL, FL_ID_MAX, 0 },
		{ "a/b", FL_ID_MAX, 0 },
		{ "a b", FL_ID_MAX, 0 },
		{ "a+b", FL_ID_MAX, 0 },
		{ "a#", FL_ID_MAX, 0 },
		{ "\xe6\xbc\x94", FL_ID_MAX, 0 }, /* not ASCII */
		{ "a\n", FL_ID_MAX, 0 },
	};
	char id[200];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		CHECK_MSG(fl_id_valid(cases[i].s, cases[i].max) == cases[i].ok,
			  "case %zu", i);
	/* the limits count the NUL: 63 characters, and 127 for incidents */
	memset(id, 'x', sizeof(id));
	id[63] = '\0';
	CHECK(fl_id_valid(id, FL_ID_MAX));
	id[63] = 'x';
	id[64] = '\0';
	CHECK(!fl_id_valid(id, FL_ID_MAX));
	CHECK(fl_id_valid(id, FL_INCIDENT_ID_MAX));
	id[64] = 'x';
	id[127] = '\0';
	CHECK(fl_id_valid(id, FL_INCIDENT_ID_MAX));
	id[127] = 'x';
	id[128] = '\0';
	CHECK(!fl_id_valid(id, FL_INCIDENT_ID_MAX));
}

/* A password in a URL never reaches a message: the user information's,
 * a query's password=, both; the rest as written; cut, not overrun. */
static void test_redact(void)
{
	static const char *const cases[][2] = {
		{ "rtsp://admin:s3cret@10.0.0.2:554/sub",
		  "rtsp://admin:***@10.0.0.2:554/sub" },
		{ "postgresql://fl:pw@db.example:5432/firelane",
		  "postgresql://fl:***@db.example:5432/firelane" },
		{ "postgresql://fl@db/firelane?password=pw&sslmode=require",
		  "postgresql://fl@db/firelane?password=***&sslmode=require" },
		{ "postgresql://u:a@b@h/db?x=1&password=p",
		  "postgresql://u:***@h/db?x=1&password=***" },
		{ "postgresql://fl@127.0.0.1:5432/firelane",
		  "postgresql://fl@127.0.0.1:5432/firelane" },
		{ "rtsp://10.0.0.2/a:b@c", "rtsp://10.0.0.2/a:b@c" },
		{ "/dev/video0", "/dev/video0" },
		{ "file:clip.mp4?mypassword=x", "file:clip.mp4?mypassword=x" },
		{ "", "" },
	};
	char out[128];

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		fl_url_redact(cases[i][0], out, sizeof(out));
		CHECK_STREQ(out, cases[i][1]);
	}
	fl_url_redact("postgresql://fl:pw@h/db", out, 20);
	CHECK_STREQ(out, "postgresql://fl:***");
	fl_url_redact("postgresql://fl:pw@h/db", out, 16);
	CHECK_STREQ(out, "postgresql://fl");
}

int main(void)
{
	char cmd[128];

	snprintf(root, sizeof(root), "/tmp/fl-test-util-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_write();
	test_exclusive();
	test_temp_names();
	test_read();
	test_sha256();
	test_dirs();
	test_errno_map();
	test_clocks();
	test_ids();
	test_redact();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
	TEST_DONE();
}
