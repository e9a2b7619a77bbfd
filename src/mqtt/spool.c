/*
 * spool.c - store-and-forward: one file per message, written atomically.
 *
 * A note on the format and why. A capture device loses its uplink, its
 * broker, and sometimes its power; what the hub must get has to be on disk
 * before we count it as sent. The spool is a folder with one file per
 * message, named by a strictly increasing sequence number and priority:
 *
 *     dir/00000000000000000042.2.msg
 *
 *     "FLSP" | version 1 | prio | qos | retain | topic length (u32 LE)
 *     | payload length (u32 LE) | CRC-32 of topic and payload (u32 LE)
 *     | topic | payload
 *
 * A message is written to dir/.tmp-<seq>, fsync'ed, renamed to its name and
 * the folder fsync'ed: when fl_spool_append() returns 0 the message is
 * either entirely there after a crash or power cut, or (if the call did not
 * return) not there at all. A temporary left by a crash is removed at the
 * next open; a file whose length or CRC does not match (a disk that lied) is
 * removed and logged. Delivery removes the file (no fsync: if the removal is
 * lost in a power cut the message is sent again, and the receiver knows it
 * by its ids - at least once, never lost).
 *
 * The append does not go through fl_file_write (src/util/file.h), on
 * purpose (the steps are the same): a message is written from
 * three parts (header, topic, payload: an evidence chunk is 64 KiB, not
 * copied into one buffer first), and the spool keeps its folder open
 * (dirfd) so each message costs one renameat and one fsync of that
 * descriptor instead of opening the folder again; appending is on the
 * path of every event and chunk (bench.sh: spool_us_per_msg).
 *
 * Why not a segment log with a committed offset: a log is cheaper per
 * message, but a device sends a few messages a minute, and one file per
 * message makes the hard parts trivial: dropping one heartbeat from the
 * middle, removing a delivered message, and recovering (a file is whole or
 * absent). bench.sh measures the cost (spool_us_per_msg).
 *
 * Order and the budget. Messages are delivered in sequence order (the
 * client sends the lowest unacknowledged first, see client.c), so the
 * messages of one incident, appended in order, arrive in order. The folder
 * is bounded by max_bytes. When an append would exceed it, the oldest
 * heartbeats are removed until it fits (they are stale anyway); evidence
 * chunks and incident messages are never removed to make room: if the
 * budget is still exceeded the append is refused with FL_EFULL, counted in
 * the heartbeat ("refused") and logged by the caller. An incident is thus
 * never dropped silently.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl.h"

#define HDR_LEN 20
#define NAME_LEN 32

struct entry {
	uint64_t seq;
	int prio;
	double bytes;
};

struct fl_spool {
	pthread_mutex_t mu;
	char dir[1024];
	int dirfd;
	double max_bytes;
	struct entry *e; /* sorted by seq */
	size_t n, cap;
	double bytes;
	uint64_t next_seq;
	long dropped, refused;
};

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void file_name(char *buf, size_t len, uint64_t seq, int prio)
{
	snprintf(buf, len, "%020" PRIu64 ".%d.msg", seq, prio);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int index_push(fl_spool *s, uint64_t seq, int prio, double bytes)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct entry *e = realloc(s->e, cap * sizeof(*e));
		if (!e)
			return FL_ENOMEM;
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n].seq = seq;
	s->e[s->n].prio = prio;
	s->e[s->n].bytes = bytes;
	s->n++;
	s->bytes += bytes;
	return 0;
}

static void index_remove(fl_spool *s, size_t i)
{
	s->bytes -= s->e[i].bytes;
	memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof(s->e[0]));
	s->n--;
}

static void unlink_entry(fl_spool *s, size_t i)
{
	char name[NAME_LEN];

	file_name(name, sizeof(name), s->e[i].seq, s->e[i].prio);
	if (unlinkat(s->dirfd, name, 0) < 0 && errno != ENOENT)
		fl_log(FL_LOG_WARN, "spool", "%s/%s: %s", s->dir, name,
		       strerror(errno));
	index_remove(s, i);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int fl__spool_parse(const void *data, size_t len, fl_spool_msg *m)
{
	const unsigned char *hdr = data;
	uint32_t tl, pl;

	memset(m, 0, sizeof(*m));
	if (!data || len < HDR_LEN || memcmp(hdr, "FLSP", 4) != 0 ||
	    hdr[4] != 1)
		return FL_EFORMAT;
	tl = get32(hdr + 8);
	pl = get32(hdr + 12);
	if (tl == 0 || tl > 65535 ||
	    (uint64_t)len != (uint64_t)HDR_LEN + tl + pl ||
	    fl_crc32(0, hdr + HDR_LEN, (size_t)tl + pl) != get32(hdr + 16))
		return FL_EFORMAT;
	m->topic = malloc((size_t)tl + 1);
	m->payload = malloc((size_t)pl + 1);
	if (!m->topic || !m->payload) {
		fl_spool_msg_free(m);
		return FL_ENOMEM;
	}
	memcpy(m->topic, hdr + HDR_LEN, tl);
	m->topic[tl] = '\0';
	memcpy(m->payload, hdr + HDR_LEN + tl, pl);
	((char *)m->payload)[pl] = '\0';
	m->len = pl;
	m->prio = hdr[5];
	m->qos = hdr[6];
	m->retain = hdr[7];
	return 0;
}

/* Read and check one file; 0 and a filled message, or FL_EFORMAT/FL_EIO. */
static int read_msg(fl_spool *s, const char *name, fl_spool_msg *m)
{
	struct stat st;
	unsigned char *buf = NULL;
	int fd, rc = FL_EFORMAT;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? FL_ENOENT : FL_EIO;
	/* the header bounds a record to 20 + 65535 + 4 GiB; the parser checks
	 * that the size matches the header's */
	if (fstat(fd, &st) < 0 || st.st_size < HDR_LEN ||
	    (uint64_t)st.st_size > (uint64_t)HDR_LEN + 65535 + UINT32_MAX)
		goto done;
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		rc = FL_ENOMEM;
		goto done;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != (ssize_t)st.st_size)
		goto done;
	rc = fl__spool_parse(buf, (size_t)st.st_size, m);
done:
	free(buf);
	close(fd);
	return rc;
}

/* Load what a previous run left; drop temporaries and damaged files. */
static int scan(fl_spool *s, char *err, size_t errlen)
{
	int fd = dup(s->dirfd);
	DIR *d;
	struct dirent *de;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
		return FL_EIO;
	}
	while ((de = readdir(d))) {
		unsigned long long seq;
		int prio, used = 0;
		char tail;
		struct stat st;

		if (!strncmp(de->d_name, ".tmp-", 5)) {
			unlinkat(s->dirfd, de->d_name, 0);
			continue;
		}
		if (sscanf(de->d_name, "%20llu.%d.ms%c%n", &seq, &prio, &tail,
			   &used) != 3 ||
		    tail != 'g' || de->d_name[used] || prio < 0 || prio > 2)
			continue;
		if (fstatat(s->dirfd, de->d_name, &st, 0) < 0)
			continue;
		if (index_push(s, seq, prio, (double)st.st_size) < 0) {
			closedir(d);
			snprintf(err, errlen, "out of memory");
			return FL_ENOMEM;
		}
	}
	closedir(d);
	if (s->n)
		qsort(s->e, s->n, sizeof(s->e[0]), cmp_entry);
	s->next_seq = s->n ? s->e[s->n - 1].seq + 1 : 1;
	return 0;
}

fl_spool *fl_spool_open(const char *dir, double max_bytes, char *err,
			size_t errlen)
{
	fl_spool *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->dirfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir)) {
		snprintf(err, errlen, "spool dir: path too long");
		goto fail;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (access(dir, W_OK) < 0) {
		snprintf(err, errlen, "%s: not writable (%s)", dir,
			 strerror(errno));
		goto fail;
	}
	s->max_bytes = max_bytes;
	if (scan(s, err, errlen) < 0)
		goto fail;
	if (s->n)
		fl_log(FL_LOG_INFO, "spool", "%s: %zu message(s) from before",
		       dir, s->n);
	return s;
fail:
	fl_spool_close(s);
	return NULL;
}

void fl_spool_close(fl_spool *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	pthread_mutex_destroy(&s->mu);
	free(s->e);
	free(s);
}

/* Make room for need bytes of priority prio; 0 or FL_EFULL. Locked. */
static int make_room(fl_spool *s, double need, int prio)
{
	if (s->max_bytes <= 0)
		return 0;
	for (size_t i = 0; i < s->n && s->bytes + need > s->max_bytes;) {
		if (s->e[i].prio == FL_SPOOL_HEARTBEAT &&
		    prio >= FL_SPOOL_HEARTBEAT) {
			unlink_entry(s, i);
			s->dropped++;
			continue;
		}
		i++;
	}
	return s->bytes + need > s->max_bytes ? FL_EFULL : 0;
}

int fl_spool_append(fl_spool *s, int prio, int qos, int retain,
		    const char *topic, const void *payload, size_t len,
		    uint64_t *seq_out, char *err, size_t errlen)
{
	unsigned char hdr[HDR_LEN];
	char tmp[NAME_LEN], name[NAME_LEN];
	size_t tl = strlen(topic);
	uint32_t crc;
	uint64_t seq;
	int fd = -1, rc;

	if (tl == 0 || tl > 65535 || len > 0x7fffffffu || prio < 0 ||
	    prio > 2 || qos < 0 || qos > 2) {
		snprintf(err, errlen, "spool: bad message");
		return FL_EINVAL;
	}
	crc = fl_crc32(0, topic, tl);
	crc = fl_crc32(crc, payload, len);
	memcpy(hdr, "FLSP", 4);
	hdr[4] = 1;
	hdr[5] = (unsigned char)prio;
	hdr[6] = (unsigned char)qos;
	hdr[7] = (unsigned char)retain;
	put32(hdr + 8, (uint32_t)tl);
	put32(hdr + 12, (uint32_t)len);
	put32(hdr + 16, crc);

	pthread_mutex_lock(&s->mu);
	if (make_room(s, (double)(HDR_LEN + tl + len), prio) < 0) {
		s->refused++;
		snprintf(err, errlen,
			 "spool %s full (%.0f of %.0f bytes, none of it "
			 "droppable): message to %s refused",
			 s->dir, s->bytes, s->max_bytes, topic);
		rc = FL_EFULL;
		goto done;
	}
	seq = s->next_seq++;
	snprintf(tmp, sizeof(tmp), ".tmp-%" PRIu64, seq);
	file_name(name, sizeof(name), seq, prio);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0 || write_all(fd, hdr, HDR_LEN) < 0 ||
	    write_all(fd, topic, tl) < 0 || write_all(fd, payload, len) < 0 ||
	    fsync(fd) < 0)
		goto io;
	close(fd);
	fd = -1;
	if (renameat(s->dirfd, tmp, s->dirfd, name) < 0 || fsync(s->dirfd) < 0)
		goto io;
	rc = index_push(s, seq, prio, (double)(HDR_LEN + tl + len));
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (seq_out)
		*seq_out = seq;
	rc = 0;
	goto done;
io:
	rc = (errno == ENOSPC || errno == EDQUOT) ? FL_EFULL : FL_EIO;
	snprintf(err, errlen, "spool %s: %s", s->dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlinkat(s->dirfd, tmp, 0);
	if (rc == FL_EFULL)
		s->refused++;
done:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int fl_spool_next(fl_spool *s, uint64_t after, fl_spool_msg *out)
{
	int rc = FL_EEOF;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n; i++) {
		char name[NAME_LEN];

		if (s->e[i].seq <= after)
			continue;
		file_name(name, sizeof(name), s->e[i].seq, s->e[i].prio);
		rc = read_msg(s, name, out);
		if (rc == 0) {
			out->seq = s->e[i].seq;
			break;
		}
		if (rc == FL_ENOMEM)
			break;
		fl_log(FL_LOG_ERROR, "spool",
		       "%s/%s: %s; the message is removed", s->dir, name,
		       rc == FL_EFORMAT ? "damaged (length or CRC)"
					: "unreadable");
		unlink_entry(s, i);
		i--;
		rc = FL_EEOF;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void fl_spool_msg_free(fl_spool_msg *m)
{
	if (!m)
		return;
	free(m->topic);
	free(m->payload);
	m->topic = NULL;
	m->payload = NULL;
}

int fl_spool_ack(fl_spool *s, uint64_t seq)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n; i++) {
		if (s->e[i].seq == seq) {
			unlink_entry(s, i);
			break;
		}
		if (s->e[i].seq > seq)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void fl_spool_stats_get(fl_spool *s, fl_spool_stats *st)
{
	pthread_mutex_lock(&s->mu);
	st->messages = (long)s->n;
	st->bytes = s->bytes;
	st->dropped = s->dropped;
	st->refused = s->refused;
	pthread_mutex_unlock(&s->mu);
}

const char *fl_spool_dir(const fl_spool *s)
{
	return s->dir;
}
