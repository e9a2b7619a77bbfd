/*
 * incoming.c - quotas and the reserve for evidence being reassembled.
 *
 * A note on the model. A chunk is stored in .incoming/<incident>/ until
 * its file is complete; a device that sends chunks and never finishes -
 * broken or hostile - leaves them there until incoming_max_age_s (a week:
 * an edge offline for days must still be able to finish its bundle). Left
 * at that, one device can fill the disk, and then nothing of anyone can
 * be stored. So:
 *
 *   - per device, the bytes in its incidents' folders are bounded
 *     (incoming_device_max_mb), and all of .incoming too
 *     (incoming_max_mb): a chunk beyond either is refused - the sender's
 *     fault, quarantined and acknowledged - and it costs the others
 *     nothing;
 *   - the evidence folder's file system keeps evidence_reserve_mb free:
 *     a chunk that would eat into it is not stored now - a transient
 *     failure: the message is held, the hub degraded, until space is
 *     freed. The reserve is what lets the store (and the quarantine, and
 *     the alerts' job files) still commit on a shared disk: evidence
 *     never takes the last megabytes.
 *
 * The bytes are counted in memory, per incident folder, with the device
 * that sent its chunks: a chunk written adds its size (less what it
 * replaced), a file assembled takes its chunks' off. hub_incoming_scan()
 * counts the folders on disk again (at start and with each budget sweep),
 * so whatever else removed files is caught within seconds; it keeps the
 * device of each folder it knew. A folder left from before a restart
 * counts in the total until a chunk of it arrives and names its device.
 */
#include "incoming.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fl.h"
#include "id.h"

struct folder {
	char iid[FL_INCIDENT_ID_MAX];
	char device[FL_ID_MAX]; /* "" until a chunk names it */
	long long bytes;
	int seen; /* found by the current scan */
};

struct hub_incoming {
	const hub_conf *conf;
	struct folder *f;
	size_t n, cap;
};

#define MIB 1048576.0

static struct folder *find(hub_incoming *q, const char *iid, int make)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->f[i].iid, iid))
			return &q->f[i];
	if (!make)
		return NULL;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 32;
		struct folder *f = realloc(q->f, cap * sizeof(*f));

		if (!f)
			return NULL;
		q->f = f;
		q->cap = cap;
	}
	memset(&q->f[q->n], 0, sizeof(q->f[0]));
	snprintf(q->f[q->n].iid, sizeof(q->f[0].iid), "%s", iid);
	return &q->f[q->n++];
}

/* The bytes of the regular files in a flat folder. */
static long long folder_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[HUB_PATHLEN];
	struct stat sb;
	long long n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		hub_fmt(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			n += (long long)sb.st_size;
	}
	closedir(d);
	return n;
}

void hub_incoming_scan(hub_incoming *q)
{
	char base[HUB_PATHLEN], in[HUB_PATHLEN];
	DIR *d;
	struct dirent *e;
	size_t i, k;

	for (i = 0; i < q->n; i++)
		q->f[i].seen = 0;
	hub_fmt(base, sizeof(base), "%s/.incoming", q->conf->evidence_dir);
	if ((d = opendir(base))) {
		while ((e = readdir(d))) {
			struct folder *f;

			if (e->d_name[0] == '.' ||
			    !fl_id_valid(e->d_name, FL_INCIDENT_ID_MAX))
				continue;
			f = find(q, e->d_name, 1);
			if (!f)
				break;
			hub_fmt(in, sizeof(in), "%s/%s", base, e->d_name);
			f->bytes = folder_bytes(in);
			f->seen = 1;
		}
		closedir(d);
	}
	for (i = k = 0; i < q->n; i++) /* folders gone: forgotten */
		if (q->f[i].seen)
			q->f[k++] = q->f[i];
	q->n = k;
}

hub_incoming *hub_incoming_create(const hub_conf *conf)
{
	hub_incoming *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->conf = conf;
	hub_incoming_scan(q);
	return q;
}

void hub_incoming_destroy(hub_incoming *q)
{
	if (!q)
		return;
	free(q->f);
	free(q);
}

long long hub_incoming_bytes(const hub_incoming *q, const char *device)
{
	long long n = 0;

	for (size_t i = 0; i < q->n; i++)
		if (!device || !strcmp(q->f[i].device, device))
			n += q->f[i].bytes;
	return n;
}

int hub_incoming_check(hub_incoming *q, const char *device, const char *iid,
		       long long bytes, char *err, size_t errlen)
{
	const hub_conf *c = q->conf;
	double dev = (double)hub_incoming_bytes(q, device);
	double all = (double)hub_incoming_bytes(q, NULL);
	struct statvfs vs;

	(void)iid;
	if (dev + (double)bytes > c->incoming_device_max_mb * MIB) {
		fl_seterr(err, errlen,
			  "device %s has %.1f MiB of unfinished evidence in "
			  ".incoming: over incoming_device_max_mb %g",
			  device, dev / MIB, c->incoming_device_max_mb);
		return FL_ERANGE;
	}
	if (all + (double)bytes > c->incoming_max_mb * MIB) {
		fl_seterr(err, errlen,
			  ".incoming holds %.1f MiB of unfinished evidence: "
			  "over incoming_max_mb %g",
			  all / MIB, c->incoming_max_mb);
		return FL_ERANGE;
	}
	if (statvfs(c->evidence_dir, &vs) == 0) {
		double avail = (double)vs.f_bavail * (double)vs.f_frsize;

		if (avail - (double)bytes < c->evidence_reserve_mb * MIB) {
			fl_seterr(err, errlen,
				  "evidence folder %s: %.1f MiB free, below "
				  "evidence_reserve_mb %g (kept for the store)",
				  c->evidence_dir, avail / MIB,
				  c->evidence_reserve_mb);
			return FL_EFULL;
		}
	}
	return 0;
}

void hub_incoming_add(hub_incoming *q, const char *device, const char *iid,
		      long long delta)
{
	struct folder *f = find(q, iid, delta > 0);

	if (!f)
		return;
	if (device && device[0])
		snprintf(f->device, sizeof(f->device), "%s", device);
	f->bytes += delta;
	if (f->bytes < 0)
		f->bytes = 0;
}
