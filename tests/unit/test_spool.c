/*
 * test_spool.c - the store-and-forward spool (src/mqtt/spool.c).
 *
 * What must hold:
 *   - messages come back in append order with their topic, payload, QoS,
 *     retain and priority; ack removes exactly one;
 *   - a reopen (a restart, a kill) finds every unacknowledged message, in
 *     order, and numbers new ones after them;
 *   - a temporary left by a crash is removed, a damaged file (cut short or
 *     a flipped byte) is removed and skipped, files of other names are left;
 *   - the budget: heartbeats are dropped oldest first to make room,
 *     evidence and incidents never; when nothing more can go, the append is
 *     refused with FL_EFULL and counted, and nothing is written.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl.h"
#include "spool.h"
#include "test.h"

static char dir[256];

static void rm_rf(const char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", d);
}

static int count_files(const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);
		if (l >= s && !strcmp(de->d_name + l - s, suffix))
			n++;
	}
	closedir(d);
	return n;
}

static int append(fl_spool *s, int prio, const char *topic, const char *p,
		  uint64_t *seq)
{
	char err[256];

	return fl_spool_append(s, prio, 1, 0, topic, p, strlen(p), seq, err,
			       sizeof(err));
}

static void test_order_and_reopen(void)
{
	char err[256];
	fl_spool *s = fl_spool_open(dir, 0, err, sizeof(err));
	fl_spool_msg m;
	uint64_t a, b, c, d;

	CHECK_MSG(s != NULL, "%s", err);
	if (!s)
		return;
	CHECK(append(s, FL_SPOOL_INCIDENT, "t/1", "one", &a) == 0);
	CHECK(append(s, FL_SPOOL_HEARTBEAT, "t/2", "two", &b) == 0);
	CHECK(fl_spool_append(s, FL_SPOOL_EVIDENCE, 0, 1, "t/3", "\0bin", 4, &c,
			      err, sizeof(err)) == 0);
	CHECK(a < b && b < c);
	CHECK(fl_spool_next(s, 0, &m) == 0 && m.seq == a &&
	      !strcmp(m.topic, "t/1") && m.len == 3 &&
	      !memcmp(m.payload, "one", 3) && m.prio == FL_SPOOL_INCIDENT &&
	      m.qos == 1 && !m.retain);
	fl_spool_msg_free(&m);
	CHECK(fl_spool_next(s, a, &m) == 0 && m.seq == b);
	fl_spool_msg_free(&m);
	CHECK(fl_spool_next(s, b, &m) == 0 && m.seq == c && m.len == 4 &&
	      !memcmp(m.payload, "\0bin", 4) && m.qos == 0 && m.retain);
	fl_spool_msg_free(&m);
	CHECK_EQ_INT(fl_spool_next(s, c, &m), FL_EEOF);
	CHECK_EQ_INT(fl_spool_ack(s, b), 0);
	CHECK_EQ_INT(fl_spool_ack(s, 999), 0); /* unknown: ignored */
	fl_spool_close(s);

	/* a restart: a and c are still there, in order; new after them */
	s = fl_spool_open(dir, 0, err, sizeof(err));
	CHECK_NOT_NULL(s);
	if (!s)
		return;
	CHECK(fl_spool_next(s, 0, &m) == 0 && m.seq == a);
	fl_spool_msg_free(&m);
	CHECK(fl_spool_next(s, a, &m) == 0 && m.seq == c);
	fl_spool_msg_free(&m);
	CHECK(append(s, FL_SPOOL_INCIDENT, "t/4", "four", &d) == 0 && d > c);
	fl_spool_ack(s, a);
	fl_spool_ack(s, c);
	fl_spool_ack(s, d);
	CHECK(count_files(".msg") == 0);
	fl_spool_close(s);
}

static void test_damage(void)
{
	char err[256], path[512], name[64];
	fl_spool *s = fl_spool_open(dir, 0, err, sizeof(err));
	fl_spool_msg m;
	uint64_t a, b, c;
	FILE *f;

	if (!s)
		return;
	append(s, FL_SPOOL_INCIDENT, "t/a", "aaaa", &a);
	append(s, FL_SPOOL_INCIDENT, "t/b", "bbbb", &b);
	append(s, FL_SPOOL_INCIDENT, "t/c", "cccc", &c);
	fl_spool_close(s);
	/* b cut short, c with a flipped payload byte, a crash's temporary and
	 * a stranger's file */
	snprintf(name, sizeof(name), "%020llu.2.msg", (unsigned long long)b);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK_EQ_INT(truncate(path, 22), 0);
	snprintf(path, sizeof(path), "%s/%020llu.2.msg", dir,
		 (unsigned long long)c);
	f = fopen(path, "r+b");
	if (f) {
		fseek(f, -1, SEEK_END);
		fputc('X', f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/.tmp-77", dir);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/README", dir);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	fl_log_set(NULL, 0, NULL);
	s = fl_spool_open(dir, 0, err, sizeof(err));
	CHECK_NOT_NULL(s);
	if (!s)
		return;
	CHECK_EQ_INT(access(path, F_OK), 0); /* README left alone */
	snprintf(path, sizeof(path), "%s/.tmp-77", dir);
	CHECK_NE_INT(access(path, F_OK), 0);
	CHECK(fl_spool_next(s, 0, &m) == 0 && m.seq == a);
	fl_spool_msg_free(&m);
	CHECK_EQ_INT(fl_spool_next(s, a, &m), FL_EEOF); /* b and c removed */
	CHECK(count_files(".msg") == 1);
	fl_spool_ack(s, a);
	fl_spool_close(s);
	snprintf(path, sizeof(path), "%s/README", dir);
	unlink(path);
}

static void test_budget(void)
{
	char err[256], big[1000];
	/* each message: 20 header + 3 topic + payload */
	fl_spool *s = fl_spool_open(dir, 3 * 1023.0 + 10, err, sizeof(err));
	fl_spool_stats st;
	fl_spool_msg m;
	uint64_t h1, h2, i1, i2, e1;

	if (!s)
		return;
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0'; /* 999 bytes: 1022 on disk */
	CHECK(append(s, FL_SPOOL_HEARTBEAT, "t/h", big, &h1) == 0);
	CHECK(append(s, FL_SPOOL_HEARTBEAT, "t/h", big, &h2) == 0);
	CHECK(append(s, FL_SPOOL_INCIDENT, "t/i", big, &i1) == 0);
	/* full: the oldest heartbeat goes for an incident */
	CHECK(append(s, FL_SPOOL_INCIDENT, "t/i", big, &i2) == 0);
	CHECK(fl_spool_next(s, 0, &m) == 0 && m.seq == h2);
	fl_spool_msg_free(&m);
	/* and the next heartbeat for evidence */
	CHECK(append(s, FL_SPOOL_EVIDENCE, "t/e", big, &e1) == 0);
	CHECK(fl_spool_next(s, 0, &m) == 0 && m.seq == i1);
	fl_spool_msg_free(&m);
	/* nothing droppable is left: refused, counted, nothing written */
	CHECK(append(s, FL_SPOOL_INCIDENT, "t/i", big, NULL) == FL_EFULL);
	CHECK(append(s, FL_SPOOL_HEARTBEAT, "t/h", big, NULL) == FL_EFULL);
	fl_spool_stats_get(s, &st);
	CHECK(st.messages == 3 && st.dropped == 2 && st.refused == 2);
	CHECK(count_files(".msg") == 3);
	/* delivery makes room again */
	fl_spool_ack(s, i1);
	CHECK(append(s, FL_SPOOL_INCIDENT, "t/i", big, NULL) == 0);
	fl_spool_close(s);
}

static void test_bad_dir(void)
{
	char err[256];

	CHECK(fl_spool_open("/proc/firelane-no/spool", 0, err, sizeof(err)) ==
	      NULL);
	CHECK_NE_INT(err[0], '\0');
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s/fl-spool-%d",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	rm_rf(dir);
	test_order_and_reopen();
	test_damage();
	rm_rf(dir);
	test_budget();
	test_bad_dir();
	rm_rf(dir);
	TEST_DONE();
}
