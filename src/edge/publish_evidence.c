/*
 * publish_evidence.c - evidence bundles to the hub, and the hub's delivery
 * receipts back.
 *
 * Evidence to the hub (design in docs/mqtt.md): when an alarmed incident's
 * bundle is sealed in the evidence store, its files (the listed ones, then
 * manifest.json and manifest.sig) are cut into 64 KiB chunks, each spooled
 * as one QoS 1 message on <camera>/<lane>/evidence with a JSON header line
 * (incident, file, index, count, offset, size, chunk and file SHA-256) and
 * the raw bytes; then one incident message of type "evidence" lists every
 * file with its SHA-256: the receiver has a file when its chunks are all
 * there and the whole-file hash matches. Re-sent chunks are idempotent
 * (same file, same offset, same bytes). The store's bundle stays
 * undelivered (never pruned) until the hub's delivery receipt says it
 * verified that very manifest (publish__on_receipt, below).
 * The incident's open record also notes whether evidence is due and which
 * file and chunk the transfer reached, so a transfer cut by a kill resumes
 * at the next start (publish__recover()).
 */
#include "publish_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "file.h"
#include "fl.h"
#include "manifest.h"
#include "receipt.h"

#define CHUNK_BYTES (64 * 1024)
#define EVIDENCE_WAIT_S 900.0 /* after close, give up on a bundle */

/* The largest file read whole here: a manifest or an evidence image. */
#define READ_MAX (32 << 20)

/*
 * Spool the chunks of file `name` of the bundle in dir from chunk *chunk on.
 * Returns 0 when the file is done, FL_EAGAIN when the spool refused a chunk
 * (full, read-only, failing: logged with the spool's own reason; resume
 * later from *chunk), another error when the file cannot be read (logged
 * with the reason).
 */
static int spool_file(edge_publish *p, const struct incident *in,
		      const char *dir, const char *name, long *chunk)
{
	const fl_camera_conf *cc = &p->cfg->cameras[in->cam];
	char path[FL_PATH_MAX + 300], fsha[65], csha[65], topic[FL_TOPIC_MAX];
	char *msg = NULL, err[512];
	long long size;
	long count;
	FILE *f = NULL;
	int rc = FL_EIO;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err[0] = '\0';
	if ((rc = fl_file_sha256(path, 0, fsha, &size, err, sizeof(err))) < 0)
		goto unreadable;
	if (!(f = fopen(path, "rb"))) {
		rc = FL_EIO;
		snprintf(err, sizeof(err), "%s", strerror(errno));
		goto unreadable;
	}
	count = size > 0 ? (long)ceil((double)size / CHUNK_BYTES) : 1;
	msg = malloc(CHUNK_BYTES + 1024);
	if (!msg) {
		rc = FL_ENOMEM;
		goto out;
	}
	fl_topic(topic, sizeof(topic), FL_TOPIC_EVIDENCE, p->cfg->site,
		 p->cfg->device_id, cc->id, cc->lanes[in->lane].id);
	for (; *chunk < count; (*chunk)++) {
		long off = *chunk * CHUNK_BYTES;
		char data[CHUNK_BYTES];
		size_t n, hl;

		if (fseek(f, off, SEEK_SET) != 0) {
			rc = FL_EIO;
			snprintf(err, sizeof(err), "%s", strerror(errno));
			goto unreadable;
		}
		n = fread(data, 1, sizeof(data), f);
		fl_sha256_hex(data, n, csha);
		hl = fl_evidence_chunk_header(in->id, name, *chunk, count,
					      (double)off, (double)size, csha,
					      fsha, msg, 1024);
		if (hl >= 1024) {
			rc = FL_EINVAL;
			snprintf(err, sizeof(err), "chunk header too long");
			goto unreadable;
		}
		memcpy(msg + hl, data, n);
		rc = publish__append(p, FL_SPOOL_EVIDENCE, topic, msg, hl + n,
				     err, sizeof(err));
		if (rc < 0) {
			/* the spool's own reason: full, read-only, failing */
			fl_log(FL_LOG_WARN, "evidence",
			       "%s %s chunk %ld: %s; the transfer pauses and "
			       "resumes from this chunk",
			       in->id, name, *chunk, err);
			rc = FL_EAGAIN;
			goto out;
		}
	}
	rc = 0;
	goto out;
unreadable:
	fl_log(FL_LOG_ERROR, "evidence", "%s %s: cannot read: %s", in->id, name,
	       err);
out:
	if (f)
		fclose(f);
	free(msg);
	return rc;
}

/* The latest evidence image for Home Assistant (retained, direct). */
static void publish_image(edge_publish *p, const struct incident *in,
			  const char *dir, const fl_manifest *man)
{
	const fl_camera_conf *cc = &p->cfg->cameras[in->cam];
	char path[FL_PATH_MAX + 300], topic[FL_TOPIC_MAX];
	const char *name = NULL;
	size_t len = 0;
	char *img;

	for (size_t i = 0; i < man->nfiles; i++)
		if (!strcmp(man->files[i].kind, "scene"))
			name = man->files[i].name; /* the last scene image */
	if (!name || !p->mqtt)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fl_file_read(path, READ_MAX, &img, &len, NULL, 0) < 0)
		return;
	fl_topic(topic, sizeof(topic), FL_TOPIC_IMAGE, p->cfg->site,
		 p->cfg->device_id, cc->id, cc->lanes[in->lane].id);
	fl_mqtt_publish(p->mqtt, topic, img, len, 1, 1);
	free(img);
}

/* What one evidence step came to. */
enum evid_result { EV_NOT_SEALED, EV_PAUSED, EV_FAILED, EV_SENT };

/* Everything the closing "evidence" message needs. */
struct evid_list {
	fl_manifest man;
	fl_evidence_file files[512];
	char shas[2][65];
	size_t n;
	char dir[FL_PATH_MAX + 200];
};

/*
 * Spool what is ready of one incident's evidence: in is a copy, taken under
 * the lock and worked on without it (hashing and writing chunks takes
 * tens or hundreds of milliseconds; camera threads must not wait on it).
 * in->file and in->chunk advance. EV_SENT: every chunk is spooled and l
 * holds the file list (the caller spools the message, under the lock).
 */
static enum evid_result evidence_step(edge_publish *p, struct incident *in,
				      struct evid_list *l)
{
	char path[FL_PATH_MAX + 300], err[512];
	enum evid_result res = EV_FAILED;
	size_t len = 0, nf;
	char *text = NULL;
	struct stat st;

	snprintf(l->dir, sizeof(l->dir), "%s/%s", fl_store_dir(p->store),
		 in->id);
	snprintf(path, sizeof(path), "%s/manifest.sig", l->dir);
	if (stat(path, &st) < 0) { /* not sealed (yet) */
		if (in->closed &&
		    fl_mono_s() - in->closed_at > EVIDENCE_WAIT_S) {
			fl_log(FL_LOG_WARN, "evidence",
			       "%s: no sealed bundle %.0f s after the "
			       "incident closed; not sent",
			       in->id, EVIDENCE_WAIT_S);
			return EV_FAILED;
		}
		return EV_NOT_SEALED;
	}
	snprintf(path, sizeof(path), "%s/manifest.json", l->dir);
	if (fl_file_read(path, READ_MAX, &text, &len, err, sizeof(err)) < 0 ||
	    fl_manifest_parse(text, len, &l->man, err, sizeof(err)) < 0) {
		fl_log(FL_LOG_ERROR, "evidence", "%s: %s", path, err);
		goto out;
	}
	nf = FL_MIN(l->man.nfiles, FL_ARRAY_SIZE(l->files) - 2);
	/* the listed files, then manifest.json and manifest.sig */
	while (in->file < nf + 2) {
		const char *name = in->file < nf ? l->man.files[in->file].name
				   : in->file == nf ? "manifest.json"
						    : "manifest.sig";
		int rc = spool_file(p, in, l->dir, name, &in->chunk);
		if (rc == FL_EAGAIN || rc == FL_ENOMEM) {
			res = EV_PAUSED; /* resume at the next poll */
			goto out;
		}
		if (rc < 0)
			goto out;
		in->file++;
		in->chunk = 0;
	}
	for (size_t i = 0; i < nf; i++) {
		l->files[i].name = l->man.files[i].name;
		l->files[i].sha256 = l->man.files[i].sha256;
		l->files[i].bytes = (double)l->man.files[i].bytes;
	}
	for (int k = 0; k < 2; k++) {
		fl_evidence_file *f = &l->files[nf + (size_t)k];
		snprintf(path, sizeof(path), "%s/%s", l->dir,
			 k ? "manifest.sig" : "manifest.json");
		long long bytes = 0;

		f->name = k ? "manifest.sig" : "manifest.json";
		f->sha256 = l->shas[k];
		if (fl_file_sha256(path, 0, l->shas[k], &bytes, NULL, 0) < 0)
			l->shas[k][0] = '\0';
		f->bytes = (double)bytes;
	}
	l->n = nf + 2;
	res = EV_SENT;
out:
	free(text);
	return res;
}

void publish__evidence_poll(edge_publish *p)
{
	static struct evid_list l; /* control thread only */

	if (!p->store || fl_mono_s() < p->next_evidence_poll)
		return;
	p->next_evidence_poll = fl_mono_s() + 1.0;
	for (int i = 0; i < MAX_INCIDENTS; i++) {
		struct incident *in = &p->inc[i], work;
		enum evid_result r;
		fl_incident_msg m = { 0 };
		fl_plate_text plate;

		pthread_mutex_lock(&p->mu);
		work = *in;
		pthread_mutex_unlock(&p->mu);
		if (!work.used ||
		    !(work.evid == EVID_WAIT || work.evid == EVID_SENDING))
			continue;
		memset(&l, 0, sizeof(l));
		r = evidence_step(p, &work, &l);
		pthread_mutex_lock(&p->mu);
		if (in->used && !strcmp(in->id, work.id)) {
			in->file = work.file;
			in->chunk = work.chunk;
			if (r == EV_FAILED) {
				in->evid = EVID_NONE;
			} else if (r == EV_PAUSED) {
				in->evid = EVID_SENDING;
				publish__save_record(
					p, in); /* resume here after a kill */
			} else if (r == EV_SENT) {
				in->seq++;
				publish__save_record(p, in);
				m.type = "evidence";
				m.wall_time = fl_wall_s();
				m.video_time_s = m.rest_since_s = m.left_at_s =
					-1;
				m.files = l.files;
				m.nfiles = l.n;
				/* the plate voted over all the stills, as
				 * sealed in the manifest */
				if (l.man.has_plate) {
					memset(&plate, 0, sizeof(plate));
					snprintf(plate.text, sizeof(plate.text),
						 "%s",
						 l.man.plate ? l.man.plate
							     : "");
					plate.conf = l.man.plate_confidence;
					m.plate = &plate;
				}
				publish__spool_incident(p, in, &m);
				in->evid = EVID_DONE;
				fl_log(FL_LOG_INFO, "evidence",
				       "%s: %zu files queued for the hub",
				       in->id, l.n);
			}
			if (in->closed)
				publish__incident_retire(p, in);
		}
		pthread_mutex_unlock(&p->mu);
		if (r == EV_SENT)
			publish_image(p, &work, l.dir, &l.man);
		fl_manifest_free(&l.man);
	}
}

/*
 * The hub's delivery receipt (docs/mqtt.md, "Delivery receipt"): mark the
 * bundle delivered - so retention may prune it - only when the hub
 * verified it and names the SHA-256 of the very manifest.json we hold.
 * Anything else is logged and changes nothing: a malformed or foreign
 * receipt, one for a bundle we do not have, one for another manifest, and
 * a failed verification (the bundle is kept). Repeats are harmless.
 */
void publish__on_receipt(edge_publish *p, const void *payload, size_t len)
{
	char err[256], path[FL_PATH_MAX + 200], hex[65];
	size_t dl = strlen(p->cfg->device_id), n;
	char *buf = NULL;
	fl_receipt r;
	int d;

	if (fl_receipt_parse(payload, len, &r, err, sizeof(err)) < 0) {
		fl_log(FL_LOG_WARN, "receipt", "refused: %s", err);
		return;
	}
	if (strncmp(r.incident_id, p->cfg->device_id, dl) ||
	    r.incident_id[dl] != '-') {
		fl_log(FL_LOG_WARN, "receipt",
		       "%s: not an incident of this "
		       "device; ignored",
		       r.incident_id);
		return;
	}
	d = p->store ? fl_store_is_delivered(p->store, r.incident_id)
		     : FL_ENOENT;
	if (d < 0) {
		fl_log(FL_LOG_WARN, "receipt",
		       "%s: no sealed bundle here; "
		       "ignored",
		       r.incident_id);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/manifest.json",
		 fl_store_dir(p->store), r.incident_id);
	if (fl_file_read(path, 1 << 22, &buf, &n, NULL, 0) == 0)
		fl_sha256_hex(buf, n, hex);
	else
		hex[0] = '\0';
	free(buf);
	if (strcmp(hex, r.manifest_sha256)) {
		fl_log(FL_LOG_WARN, "receipt",
		       "%s: names manifest %.12s..., "
		       "ours is %.12s...; ignored",
		       r.incident_id, r.manifest_sha256,
		       hex[0] ? hex : "unreadable");
		return;
	}
	if (!r.verified) {
		fl_log(FL_LOG_WARN, "receipt",
		       "%s: the hub could NOT verify "
		       "the bundle; kept here, not marked delivered",
		       r.incident_id);
		return;
	}
	if (d == 1) {
		fl_log(FL_LOG_DEBUG, "receipt", "%s: already delivered",
		       r.incident_id);
		return;
	}
	if (fl_store_mark_delivered(p->store, r.incident_id, err, sizeof(err)) <
	    0)
		fl_log(FL_LOG_ERROR, "receipt", "%s: %s", r.incident_id, err);
	else
		fl_log(FL_LOG_INFO, "receipt",
		       "%s: delivered and verified "
		       "by the hub",
		       r.incident_id);
}
