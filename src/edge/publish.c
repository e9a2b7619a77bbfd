/*
 * publish.c - the edge's MQTT sink (docs/mqtt.md is the contract).
 *
 * A note on what goes where. The edge talks to the hub on two paths.
 *
 *   - The spool (src/mqtt/spool.c): everything the hub must get exactly as
 *     it happened - incident messages, camera events, evidence chunks,
 *     heartbeats. A message is on disk (fsync'ed) before the event sink
 *     returns, and leaves the disk only when the broker has acknowledged
 *     it. Delivery is in spool order, so an incident's messages arrive in
 *     the order of their seq.
 *   - Direct publishes: what describes the present and is simply
 *     re-published on every (re)connection - status, retained lane states
 *     and settings, Home Assistant discovery, command answers, the latest
 *     evidence image. Losing one while offline loses nothing: the next
 *     connection publishes the current value.
 *
 * Incident identity. An incident message is (incident_id, seq): seq counts
 * 1, 2, ... per incident in the order the messages were spooled. The
 * incident id comes from the lane logic (<device>-<start>-<lane>-<n>) and
 * is unique across runs. A message sent twice (after a reconnect) is the
 * same bytes, so the hub deduplicates on (incident_id, seq).
 *
 * Kill -9 and power loss. Every open incident has a small record in
 * <spool>/open/<incident_id> (camera, lane, last seq), written atomically
 * before each of its messages is spooled and removed when it closes. At
 * start, a record whose incident the cameras' memory holds
 * (device.state_dir, src/edge/state.c) stays open: its camera resumes it
 * if the obstruction is still there (no message at all) or closes it as
 * cleared, and those messages continue its seq. Every other record left
 * over becomes one last spooled message of type "interrupted" with the
 * next seq: the hub sees the old incident closed (not cleared: its fate is
 * unknown) and, if the obstruction is still there, a new incident opened
 * by the new process. Nothing spooled is lost: the spool itself survives
 * and is delivered after the restart.
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
 * undelivered (never pruned) until the hub confirms it, a later issue.
 * The incident's open record also notes whether evidence is due and which
 * file and chunk the transfer reached, so a transfer cut by a kill resumes
 * at the next start (recover()).
 *
 * Locking: one mutex guards the incident table and lane states; camera
 * threads take it in edge_publish_event(), the control thread in run().
 * Evidence is cut and hashed on a copy of the incident, outside the lock,
 * so a camera's event sink never waits behind a clip being spooled.
 */
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "client.h"
#include "fl.h"
#include "manifest.h"
#include "receipt.h"
#include "sign.h"
#include "spool.h"
#include "state.h"

#define MAX_INCIDENTS 64
#define CHUNK_BYTES (64 * 1024)
#define EVIDENCE_WAIT_S 900.0 /* after close, give up on a bundle */

enum ev_state { EVID_NONE, EVID_WAIT, EVID_SENDING, EVID_DONE };

struct incident {
	int used;
	char id[FL_INCIDENT_ID_MAX];
	int cam, lane;
	unsigned seq;
	int alarmed, closed;
	double closed_at; /* monotonic */
	enum ev_state evid;
	/* evidence in progress */
	size_t file; /* next file index (listed, then manifest) */
	long chunk;  /* next chunk of that file */
};

struct lane_pub {
	int occupied, blocked; /* open incidents, of which alarmed */
	int dirty;             /* state to publish */
	int disabled;
	double dwell_s;
	int settings_dirty;
};

struct edge_publish {
	const fl_config *cfg;
	fl_store *store;
	fl_spool *spool;
	fl_mqtt *mqtt;
	edge_command_fn on_command;
	void *user;
	char open_dir[FL_PATH_MAX + 8];
	char status_topic[FL_TOPIC_MAX];
	char cmd_topic[FL_TOPIC_MAX];
	char receipt_topic[FL_TOPIC_MAX];

	pthread_mutex_t mu;
	struct incident inc[MAX_INCIDENTS];
	struct lane_pub lanes[FL_MAX_CAMERAS][FL_MAX_LANES];
	double wall0[FL_MAX_CAMERAS];
	double next_evidence_poll;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int find_camera(const fl_config *cfg, const char *id)
{
	for (int i = 0; id && i < cfg->ncameras; i++)
		if (!strcmp(cfg->cameras[i].id, id))
			return i;
	return -1;
}

static int find_lane(const fl_config *cfg, int cam, const char *id)
{
	for (int i = 0; id && cam >= 0 && i < cfg->cameras[cam].nlanes; i++)
		if (!strcmp(cfg->cameras[cam].lanes[i].id, id))
			return i;
	return -1;
}

/* ---- open-incident records ------------------------------------------ */

/* Atomic small write: tmp, fsync, rename, fsync dir. 0 or -1 (logged). */
static int write_record(const char *dir, const char *name, const char *text)
{
	char tmp[FL_PATH_MAX + 300], path[FL_PATH_MAX + 300];
	int fd, dfd, rc = -1;
	size_t len = strlen(text);

	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
out:
	if (rc < 0)
		fl_log(FL_LOG_ERROR, "publish", "%s: %s", path,
		       strerror(errno));
	return rc;
}

static void remove_record(edge_publish *p, const char *id)
{
	char path[FL_PATH_MAX + 300];

	snprintf(path, sizeof(path), "%s/%s", p->open_dir, id);
	unlink(path);
}

static void save_record(edge_publish *p, const struct incident *in)
{
	char text[512];

	/* camera lane seq closed alarmed evidence-file evidence-chunk */
	snprintf(text, sizeof(text), "%s %s %u %d %d %zu %ld\n",
		 p->cfg->cameras[in->cam].id,
		 p->cfg->cameras[in->cam].lanes[in->lane].id, in->seq,
		 in->closed, in->evid == EVID_WAIT || in->evid == EVID_SENDING,
		 in->file, in->chunk);
	write_record(p->open_dir, in->id, text);
}

/* ---- spooling ------------------------------------------------------- */

static int spool(edge_publish *p, int prio, const char *topic,
		 const void *payload, size_t len)
{
	char err[512];
	int rc = fl_spool_append(p->spool, prio, 1, 0, topic, payload, len,
				 NULL, err, sizeof(err));

	if (rc < 0)
		fl_log(FL_LOG_ERROR, "spool", "%s", err);
	else if (p->mqtt)
		fl_mqtt_kick(p->mqtt);
	return rc;
}

/* Spool one incident message of in (seq already advanced). Locked. */
static void spool_incident(edge_publish *p, struct incident *in,
			   fl_incident_msg *m)
{
	const fl_camera_conf *cc = &p->cfg->cameras[in->cam];
	char topic[FL_TOPIC_MAX], payload[16384];
	size_t n;

	m->incident_id = in->id;
	m->seq = in->seq;
	m->site = p->cfg->site;
	m->device = p->cfg->device_id;
	m->camera = cc->id;
	m->lane = cc->lanes[in->lane].id;
	fl_topic(topic, sizeof(topic), FL_TOPIC_INCIDENT, p->cfg->site,
		 p->cfg->device_id, m->camera, m->lane);
	n = fl_incident_json(m, payload, sizeof(payload));
	if (n >= sizeof(payload)) {
		fl_log(FL_LOG_ERROR, "publish", "%s seq %u: message too long",
		       in->id, in->seq);
		return;
	}
	if (spool(p, FL_SPOOL_INCIDENT, topic, payload, n) < 0)
		fl_log(FL_LOG_ERROR, "publish",
		       "incident %s seq %u (%s) NOT queued for the hub", in->id,
		       in->seq, m->type);
}

static void lane_recount(edge_publish *p, int cam, int lane)
{
	struct lane_pub *lp = &p->lanes[cam][lane];
	int occ = 0, blk = 0;

	for (int i = 0; i < MAX_INCIDENTS; i++) {
		const struct incident *in = &p->inc[i];
		if (!in->used || in->closed || in->cam != cam ||
		    in->lane != lane)
			continue;
		occ++;
		blk += in->alarmed;
	}
	if (occ != lp->occupied || blk != lp->blocked)
		lp->dirty = 1;
	lp->occupied = occ;
	lp->blocked = blk;
}

static const char *lane_state(const struct lane_pub *lp)
{
	return lp->blocked ? "blocked" : lp->occupied ? "occupied" : "clear";
}

static struct incident *incident_get(edge_publish *p, const char *id, int cam,
				     int lane)
{
	struct incident *free_slot = NULL;

	for (int i = 0; i < MAX_INCIDENTS; i++) {
		if (p->inc[i].used && !strcmp(p->inc[i].id, id))
			return &p->inc[i];
		if (!p->inc[i].used && !free_slot)
			free_slot = &p->inc[i];
	}
	if (!free_slot) {
		/* Evict the oldest closed one still waiting for evidence. */
		for (int i = 0; i < MAX_INCIDENTS; i++)
			if (p->inc[i].closed) {
				fl_log(FL_LOG_WARN, "publish",
				       "%s: evidence no longer awaited "
				       "(too many incidents)",
				       p->inc[i].id);
				remove_record(p, p->inc[i].id);
				free_slot = &p->inc[i];
				break;
			}
	}
	if (!free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = 1;
	snprintf(free_slot->id, sizeof(free_slot->id), "%s", id);
	free_slot->cam = cam;
	free_slot->lane = lane;
	return free_slot;
}

/* Close in's record once nothing more will be sent for it. Locked. */
static void incident_retire(edge_publish *p, struct incident *in)
{
	if (in->evid == EVID_WAIT || in->evid == EVID_SENDING)
		return;
	remove_record(p, in->id);
	in->used = 0;
}

void edge_publish_event(const fl_event *ev, void *user)
{
	edge_publish *p = user;
	int cam = find_camera(p->cfg, ev->camera);
	fl_incident_msg m = { 0 };
	struct incident *in;
	char topic[FL_TOPIC_MAX], line[4096];
	int lane;

	if (cam < 0)
		return;
	if (fl_event_is_camera(ev->type)) {
		size_t n = fl_event_json(ev, line, sizeof(line));
		fl_topic(topic, sizeof(topic), FL_TOPIC_CAMERA_EVENT,
			 p->cfg->site, p->cfg->device_id, ev->camera, NULL);
		if (n < sizeof(line))
			spool(p, FL_SPOOL_INCIDENT, topic, line, n);
		return;
	}
	lane = find_lane(p->cfg, cam, ev->lane);
	if (lane < 0 || !ev->incident_id[0])
		return;
	pthread_mutex_lock(&p->mu);
	in = incident_get(p, ev->incident_id, cam, lane);
	if (!in) {
		fl_log(FL_LOG_ERROR, "publish",
		       "%s: too many open incidents; message NOT queued",
		       ev->incident_id);
		goto out;
	}
	in->seq++;
	if (ev->type == FL_EV_CLEARED || ev->type == FL_EV_VACATED) {
		in->closed = 1;
		in->closed_at = mono();
	}
	if (ev->type == FL_EV_ALARM) {
		in->alarmed = 1;
		if (p->store && in->evid == EVID_NONE)
			in->evid = EVID_WAIT; /* in the record from now on */
	}
	/* The record first: a crash between the two leaves a gap in seq at
	 * worst, never two different messages with one seq. */
	save_record(p, in);
	m.type = fl_event_type_name(ev->type);
	m.wall_time = p->wall0[cam] + ev->t;
	m.video_time_s = ev->t;
	m.rest_since_s = ev->rest_since;
	m.left_at_s = (ev->type == FL_EV_CLEARED || ev->type == FL_EV_VACATED)
			      ? ev->left_at
			      : -1;
	m.bbox = ev->bbox;
	m.cls = ev->cls ? fl_class_name(ev->cls) : NULL;
	spool_incident(p, in, &m);
	switch (ev->type) {
	case FL_EV_CLEARED:
	case FL_EV_VACATED:
		if (ev->type == FL_EV_VACATED && in->evid == EVID_WAIT)
			in->evid = EVID_NONE; /* nothing is kept */
		break;
	default:
		break;
	}
	lane_recount(p, cam, lane);
	if (in->closed)
		incident_retire(p, in);
out:
	pthread_mutex_unlock(&p->mu);
}

/* ---- evidence ------------------------------------------------------- */

static void hex(const unsigned char *h, char *out)
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int file_sha256(const char *path, char *out, double *bytes)
{
	crypto_hash_sha256_state st;
	unsigned char buf[65536], h[32];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	*bytes = 0;
	crypto_hash_sha256_init(&st);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		crypto_hash_sha256_update(&st, buf, n);
		*bytes += (double)n;
	}
	fclose(f);
	crypto_hash_sha256_final(&st, h);
	hex(h, out);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/*
 * Spool the chunks of file `name` of the bundle in dir from chunk *chunk on.
 * Returns 0 when the file is done, FL_EFULL when the spool refused (resume
 * later from *chunk), another error when the file cannot be read.
 */
static int spool_file(edge_publish *p, const struct incident *in,
		      const char *dir, const char *name, long *chunk)
{
	const fl_camera_conf *cc = &p->cfg->cameras[in->cam];
	char path[FL_PATH_MAX + 300], fsha[65], csha[65], topic[FL_TOPIC_MAX];
	char *msg = NULL, err[512];
	unsigned char h[32];
	double size;
	long count;
	FILE *f = NULL;
	int rc = FL_EIO;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (file_sha256(path, fsha, &size) < 0 || !(f = fopen(path, "rb")))
		goto out;
	count = size > 0 ? (long)ceil(size / CHUNK_BYTES) : 1;
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

		if (fseek(f, off, SEEK_SET) != 0)
			goto out;
		n = fread(data, 1, sizeof(data), f);
		crypto_hash_sha256(h, (const unsigned char *)data, n);
		hex(h, csha);
		hl = fl_evidence_chunk_header(in->id, name, *chunk, count,
					      (double)off, size, csha, fsha,
					      msg, 1024);
		if (hl >= 1024)
			goto out;
		memcpy(msg + hl, data, n);
		rc = fl_spool_append(p->spool, FL_SPOOL_EVIDENCE, 1, 0, topic,
				     msg, hl + n, NULL, err, sizeof(err));
		if (rc < 0) {
			fl_log(FL_LOG_WARN, "evidence",
			       "%s %s chunk %ld: %s; retried later", in->id,
			       name, *chunk, err);
			goto out;
		}
		if (p->mqtt)
			fl_mqtt_kick(p->mqtt);
	}
	rc = 0;
out:
	if (rc == FL_EIO)
		fl_log(FL_LOG_ERROR, "evidence", "%s: cannot read (%s)", path,
		       strerror(errno));
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
	img = slurp(path, &len);
	if (!img)
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
	char *text;
	struct stat st;

	snprintf(l->dir, sizeof(l->dir), "%s/%s", fl_store_dir(p->store),
		 in->id);
	snprintf(path, sizeof(path), "%s/manifest.sig", l->dir);
	if (stat(path, &st) < 0) { /* not sealed (yet) */
		if (in->closed && mono() - in->closed_at > EVIDENCE_WAIT_S) {
			fl_log(FL_LOG_WARN, "evidence",
			       "%s: no sealed bundle %.0f s after the "
			       "incident closed; not sent",
			       in->id, EVIDENCE_WAIT_S);
			return EV_FAILED;
		}
		return EV_NOT_SEALED;
	}
	snprintf(path, sizeof(path), "%s/manifest.json", l->dir);
	text = slurp(path, &len);
	if (!text ||
	    fl_manifest_parse(text, len, &l->man, err, sizeof(err)) < 0) {
		fl_log(FL_LOG_ERROR, "evidence", "%s: %s", path,
		       text ? err : strerror(errno));
		goto out;
	}
	nf = FL_MIN(l->man.nfiles, FL_ARRAY_SIZE(l->files) - 2);
	/* the listed files, then manifest.json and manifest.sig */
	while (in->file < nf + 2) {
		const char *name = in->file < nf ? l->man.files[in->file].name
				   : in->file == nf ? "manifest.json"
						    : "manifest.sig";
		int rc = spool_file(p, in, l->dir, name, &in->chunk);
		if (rc == FL_EFULL || rc == FL_ENOMEM) {
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
		f->name = k ? "manifest.sig" : "manifest.json";
		f->sha256 = l->shas[k];
		if (file_sha256(path, l->shas[k], &f->bytes) < 0)
			l->shas[k][0] = '\0';
	}
	l->n = nf + 2;
	res = EV_SENT;
out:
	free(text);
	return res;
}

static void evidence_poll(edge_publish *p)
{
	static struct evid_list l; /* control thread only */

	if (!p->store || mono() < p->next_evidence_poll)
		return;
	p->next_evidence_poll = mono() + 1.0;
	for (int i = 0; i < MAX_INCIDENTS; i++) {
		struct incident *in = &p->inc[i], work;
		enum evid_result r;
		fl_incident_msg m = { 0 };

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
				save_record(p,
					    in); /* resume here after a kill */
			} else if (r == EV_SENT) {
				in->seq++;
				save_record(p, in);
				m.type = "evidence";
				m.wall_time = wall();
				m.video_time_s = m.rest_since_s = m.left_at_s =
					-1;
				m.files = l.files;
				m.nfiles = l.n;
				spool_incident(p, in, &m);
				in->evid = EVID_DONE;
				fl_log(FL_LOG_INFO, "evidence",
				       "%s: %zu files queued for the hub",
				       in->id, l.n);
			}
			if (in->closed)
				incident_retire(p, in);
		}
		pthread_mutex_unlock(&p->mu);
		if (r == EV_SENT)
			publish_image(p, &work, l.dir, &l.man);
		fl_manifest_free(&l.man);
	}
}

/* ---- the connection's view ------------------------------------------ */

static void publish_lane(edge_publish *p, int cam, int lane, int state,
			 int settings)
{
	const fl_camera_conf *cc = &p->cfg->cameras[cam];
	struct lane_pub *lp = &p->lanes[cam][lane];
	char topic[FL_TOPIC_MAX], buf[256];
	size_t n;

	if (state) {
		const char *s = lane_state(lp);
		fl_topic(topic, sizeof(topic), FL_TOPIC_LANE_STATE,
			 p->cfg->site, p->cfg->device_id, cc->id,
			 cc->lanes[lane].id);
		if (fl_mqtt_publish(p->mqtt, topic, s, strlen(s), 1, 1) == 0)
			lp->dirty = 0;
	}
	if (settings) {
		n = fl_lane_settings_json(!lp->disabled, lp->dwell_s, buf,
					  sizeof(buf));
		fl_topic(topic, sizeof(topic), FL_TOPIC_LANE_SETTINGS,
			 p->cfg->site, p->cfg->device_id, cc->id,
			 cc->lanes[lane].id);
		if (fl_mqtt_publish(p->mqtt, topic, buf, n, 1, 1) == 0)
			lp->settings_dirty = 0;
	}
}

static void publish_discovery(edge_publish *p)
{
	char topic[FL_TOPIC_MAX], buf[4096];

	for (int c = 0; c < p->cfg->ncameras; c++) {
		const fl_camera_conf *cc = &p->cfg->cameras[c];
		for (int l = 0; l < cc->nlanes; l++)
			for (int w = 0; w < FL_DISCOVERY_ENTITIES; w++) {
				size_t n = fl_discovery(w, p->cfg->site,
							p->cfg->device_id,
							cc->id, cc->lanes[l].id,
							cc->lanes[l].name,
							topic, sizeof(topic),
							buf, sizeof(buf));
				if (n < sizeof(buf))
					fl_mqtt_publish(p->mqtt, topic, buf, n,
							1, 1);
			}
	}
}

static void on_connect(void *user)
{
	edge_publish *p = user;

	fl_mqtt_publish(p->mqtt, p->status_topic, "online", 6, 1, 1);
	pthread_mutex_lock(&p->mu);
	for (int c = 0; c < p->cfg->ncameras; c++)
		for (int l = 0; l < p->cfg->cameras[c].nlanes; l++)
			publish_lane(p, c, l, 1, 1);
	pthread_mutex_unlock(&p->mu);
	publish_discovery(p);
}

void edge_publish_answer(edge_publish *p, const char *req, const char *cmd,
			 int ok, const char *error, const char *detail)
{
	char topic[FL_TOPIC_MAX], buf[2048];
	size_t n = fl_command_answer(req, cmd, ok, error, detail, buf,
				     sizeof(buf));

	fl_topic(topic, sizeof(topic), FL_TOPIC_CMD_STATE, p->cfg->site,
		 p->cfg->device_id, NULL, NULL);
	if (n < sizeof(buf) && fl_mqtt_publish(p->mqtt, topic, buf, n, 1, 0))
		fl_log(FL_LOG_WARN, "command",
		       "answer to '%s' not sent "
		       "(offline)",
		       req ? req : "");
}

/*
 * The hub's delivery receipt (docs/mqtt.md, "Delivery receipt"): mark the
 * bundle delivered - so retention may prune it - only when the hub
 * verified it and names the SHA-256 of the very manifest.json we hold.
 * Anything else is logged and changes nothing: a malformed or foreign
 * receipt, one for a bundle we do not have, one for another manifest, and
 * a failed verification (the bundle is kept). Repeats are harmless.
 */
static void on_receipt(edge_publish *p, const void *payload, size_t len)
{
	char err[256], path[FL_PATH_MAX + 200], hex[65];
	size_t dl = strlen(p->cfg->device_id);
	unsigned char *buf = NULL;
	fl_receipt r;
	FILE *f;
	long n;
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
	f = fopen(path, "rb");
	if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    n <= (1L << 22) && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		fl_sha256_hex(buf, (size_t)n, hex);
	} else {
		hex[0] = '\0';
	}
	if (f)
		fclose(f);
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

static void on_message(const char *topic, const void *payload, size_t len,
		       void *user)
{
	edge_publish *p = user;
	fl_command cmd;
	char err[256];
	int cam;

	if (!strcmp(topic, "homeassistant/status")) {
		if (len == 6 && !memcmp(payload, "online", 6))
			publish_discovery(p);
		return;
	}
	if (!strcmp(topic, p->receipt_topic)) {
		on_receipt(p, payload, len);
		return;
	}
	if (strcmp(topic, p->cmd_topic))
		return;
	if (fl_command_parse(payload, len, &cmd, err, sizeof(err)) < 0) {
		fl_log(FL_LOG_WARN, "command", "rejected: %s", err);
		edge_publish_answer(p, cmd.req, NULL, 0, err, NULL);
		return;
	}
	cam = cmd.camera[0] ? find_camera(p->cfg, cmd.camera) : 0;
	if (cam < 0) {
		snprintf(err, sizeof(err), "no camera '%s'", cmd.camera);
	} else if (cmd.lane[0] && find_lane(p->cfg, cam, cmd.lane) < 0) {
		snprintf(err, sizeof(err), "no lane '%s' on camera '%s'",
			 cmd.lane, cmd.camera);
	} else {
		fl_log(FL_LOG_INFO, "command", "%s %s %s",
		       fl_command_name(cmd.kind), cmd.camera, cmd.lane);
		p->on_command(&cmd, p->user);
		return;
	}
	fl_log(FL_LOG_WARN, "command", "rejected: %s", err);
	edge_publish_answer(p, cmd.req, fl_command_name(cmd.kind), 0, err,
			    NULL);
}

/* ---- life ------------------------------------------------------------ */

/* Is incident id held by the cameras' memory (they resume or close it)? */
static int held(char (*ids)[FL_INCIDENT_ID_MAX], int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return 1;
	return 0;
}

/* Close what a killed predecessor left open: one "interrupted" each, but
 * for what the cameras' memory holds. */
static void recover(edge_publish *p)
{
	static char ids[FL_MAX_CAMERAS * FL_MAX_LANES * FL_LANE_SPOTS]
		       [FL_INCIDENT_ID_MAX];
	int nheld = edge_state_incidents(p->cfg->state_dir, p->cfg, ids,
					 (int)FL_ARRAY_SIZE(ids));
	DIR *d = opendir(p->open_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[FL_PATH_MAX + 300], camera[FL_ID_MAX],
			lane[FL_ID_MAX];
		char topic[FL_TOPIC_MAX], payload[4096];
		fl_incident_msg m = { 0 };
		unsigned seq = 0;
		int closed = 0, due = 0, cam, ln;
		size_t len = 0, n, file = 0;
		long chunk = 0;
		struct incident *in;
		struct stat st;
		char *text;

		if (de->d_name[0] == '.') {
			if (!strncmp(de->d_name, ".tmp-", 5)) {
				snprintf(path, sizeof(path), "%s/%s",
					 p->open_dir, de->d_name);
				unlink(path);
			}
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", p->open_dir, de->d_name);
		text = slurp(path, &len);
		if (!text ||
		    sscanf(text, "%63s %63s %u %d %d %zu %ld", camera, lane,
			   &seq, &closed, &due, &file, &chunk) < 4) {
			fl_log(FL_LOG_WARN, "publish",
			       "%s: unreadable; removed", path);
			free(text);
			unlink(path);
			continue;
		}
		free(text);
		cam = find_camera(p->cfg, camera);
		ln = find_lane(p->cfg, cam, lane);
		if (!closed && cam >= 0 && ln >= 0 &&
		    held(ids, nheld, de->d_name) &&
		    (in = incident_get(p, de->d_name, cam, ln))) {
			/* its camera decides, and its messages go on */
			in->seq = seq;
			if (due && p->store)
				in->evid = EVID_WAIT;
			in->file = file;
			in->chunk = chunk;
			fl_log(FL_LOG_INFO, "publish",
			       "incident %s was open when the edge stopped; "
			       "its camera's memory resumes or closes it",
			       de->d_name);
			continue;
		}
		if (!closed) {
			m.incident_id = de->d_name;
			m.type = "interrupted";
			m.seq = ++seq;
			m.site = p->cfg->site;
			m.device = p->cfg->device_id;
			m.camera = camera;
			m.lane = lane;
			m.wall_time = wall();
			m.video_time_s = m.rest_since_s = m.left_at_s = -1;
			m.reason = "the edge restarted; an obstruction still "
				   "there is reported as a new incident";
			fl_topic(topic, sizeof(topic), FL_TOPIC_INCIDENT,
				 p->cfg->site, p->cfg->device_id, camera, lane);
			n = fl_incident_json(&m, payload, sizeof(payload));
			if (n >= sizeof(payload) ||
			    spool(p, FL_SPOOL_INCIDENT, topic, payload, n) < 0)
				continue; /* kept: tried again next start */
			fl_log(FL_LOG_WARN, "publish",
			       "incident %s was open when the edge stopped; "
			       "closed as interrupted",
			       de->d_name);
		}
		/* Evidence still due: resume it if the bundle was sealed
		 * (a bundle the crash left half-written is gone: the store's
		 * owner removed it when it opened). */
		snprintf(path, sizeof(path), "%s/%s/manifest.sig",
			 p->store ? fl_store_dir(p->store) : "", de->d_name);
		if (due && p->store && cam >= 0 && ln >= 0 &&
		    stat(path, &st) == 0 &&
		    (in = incident_get(p, de->d_name, cam, ln))) {
			in->seq = seq;
			in->alarmed = 1;
			in->closed = 1;
			in->closed_at = mono();
			in->evid = EVID_SENDING;
			in->file = file;
			in->chunk = chunk;
			save_record(p, in);
			fl_log(FL_LOG_WARN, "evidence",
			       "%s: sending the evidence resumes (file %zu, "
			       "chunk %ld)",
			       de->d_name, file, chunk);
			continue;
		}
		if (due)
			fl_log(FL_LOG_WARN, "evidence",
			       "%s: evidence not sent before the edge stopped "
			       "and no sealed bundle to resume from",
			       de->d_name);
		snprintf(path, sizeof(path), "%s/%s", p->open_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

edge_publish *edge_publish_create(const fl_config *cfg, fl_store *store,
				  edge_command_fn on_command, void *user,
				  char *err, size_t errlen)
{
	const fl_mqtt_conf *mc = &cfg->mqtt;
	edge_publish *p = calloc(1, sizeof(*p));
	fl_mqtt_opts o = { 0 };
	char client_id[FL_NAME_MAX + 16];
	double now = wall();

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	p->cfg = cfg;
	p->store = store;
	p->on_command = on_command;
	p->user = user;
	for (int c = 0; c < FL_MAX_CAMERAS; c++)
		p->wall0[c] = now;
	for (int c = 0; c < cfg->ncameras; c++)
		for (int l = 0; l < cfg->cameras[c].nlanes; l++) {
			p->lanes[c][l].disabled =
				cfg->cameras[c].lanes[l].disabled;
			p->lanes[c][l].dwell_s =
				cfg->cameras[c].lanes[l].dwell_s;
		}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		goto fail;
	}
	p->spool = fl_spool_open(mc->spool_dir, mc->spool_max_mb * 1048576.0,
				 err, errlen);
	if (!p->spool)
		goto fail;
	snprintf(p->open_dir, sizeof(p->open_dir), "%s/open", mc->spool_dir);
	if (mkdir(p->open_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", p->open_dir, strerror(errno));
		goto fail;
	}
	recover(p);
	fl_topic(p->status_topic, sizeof(p->status_topic), FL_TOPIC_STATUS,
		 cfg->site, cfg->device_id, NULL, NULL);
	fl_topic(p->cmd_topic, sizeof(p->cmd_topic), FL_TOPIC_CMD_SET,
		 cfg->site, cfg->device_id, NULL, NULL);
	fl_receipt_topic(p->receipt_topic, sizeof(p->receipt_topic), cfg->site,
			 cfg->device_id);
	snprintf(client_id, sizeof(client_id), "%s",
		 mc->client_id[0] ? mc->client_id : "");
	if (!client_id[0])
		snprintf(client_id, sizeof(client_id), "firelane-%s",
			 cfg->device_id);
	o.host = mc->host;
	o.port = mc->port;
	o.username = mc->username;
	o.password = mc->password;
	o.tls_ca = mc->tls_ca;
	o.tls_cert = mc->tls_cert;
	o.tls_key = mc->tls_key;
	o.keepalive_s = mc->keepalive_s;
	o.client_id = client_id;
	o.will_topic = p->status_topic;
	o.will_payload = "offline";
	o.on_connect = on_connect;
	o.on_message = on_message;
	o.user = p;
	p->mqtt = fl_mqtt_create(&o, p->spool, err, errlen);
	if (!p->mqtt)
		goto fail;
	if (fl_mqtt_subscribe(p->mqtt, p->cmd_topic) < 0 ||
	    fl_mqtt_subscribe(p->mqtt, p->receipt_topic) < 0 ||
	    fl_mqtt_subscribe(p->mqtt, "homeassistant/status") < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return p;
fail:
	edge_publish_destroy(p);
	return NULL;
}

int edge_publish_start(edge_publish *p)
{
	return fl_mqtt_start(p->mqtt);
}

void edge_publish_camera_base(edge_publish *p, int cam, double wall0)
{
	if (cam < 0 || cam >= FL_MAX_CAMERAS)
		return;
	pthread_mutex_lock(&p->mu);
	p->wall0[cam] = wall0;
	pthread_mutex_unlock(&p->mu);
}

void edge_publish_run(edge_publish *p, int timeout_ms)
{
	fl_mqtt_run(p->mqtt, timeout_ms);
	evidence_poll(p);
	if (!fl_mqtt_connected(p->mqtt))
		return;
	pthread_mutex_lock(&p->mu);
	for (int c = 0; c < p->cfg->ncameras; c++)
		for (int l = 0; l < p->cfg->cameras[c].nlanes; l++)
			if (p->lanes[c][l].dirty ||
			    p->lanes[c][l].settings_dirty)
				publish_lane(p, c, l, p->lanes[c][l].dirty,
					     p->lanes[c][l].settings_dirty);
	pthread_mutex_unlock(&p->mu);
}

void edge_publish_heartbeat(edge_publish *p, fl_health *h)
{
	char topic[FL_TOPIC_MAX], buf[4096];
	size_t n;

	edge_publish_spool_stats(p, &h->spool_messages, &h->spool_bytes,
				 &h->spool_dropped, &h->spool_refused);
	n = fl_heartbeat_json(h, buf, sizeof(buf));
	fl_topic(topic, sizeof(topic), FL_TOPIC_HEARTBEAT, p->cfg->site,
		 p->cfg->device_id, NULL, NULL);
	if (n < sizeof(buf))
		spool(p, FL_SPOOL_HEARTBEAT, topic, buf, n);
}

void edge_publish_settings(edge_publish *p, int cam, int lane, int disabled,
			   double dwell_s)
{
	pthread_mutex_lock(&p->mu);
	p->lanes[cam][lane].disabled = disabled;
	p->lanes[cam][lane].dwell_s = dwell_s;
	p->lanes[cam][lane].settings_dirty = 1;
	pthread_mutex_unlock(&p->mu);
}

void edge_publish_spool_stats(edge_publish *p, long *messages, double *bytes,
			      long *dropped, long *refused)
{
	fl_spool_stats st;

	fl_spool_stats_get(p->spool, &st);
	*messages = st.messages;
	*bytes = st.bytes;
	*dropped = st.dropped;
	*refused = st.refused;
}

int edge_publish_connected(edge_publish *p)
{
	return fl_mqtt_connected(p->mqtt);
}

const char *edge_publish_spool_dir(const edge_publish *p)
{
	return fl_spool_dir(p->spool);
}

void edge_publish_stop(edge_publish *p, int timeout_ms)
{
	/* Evidence of incidents still waiting stays in the store; their
	 * records make the next start close them as interrupted. */
	int up = fl_mqtt_connected(p->mqtt);

	if (fl_mqtt_stop(p->mqtt, p->status_topic, "stopped", timeout_ms) < 0)
		fl_log(FL_LOG_WARN, "mqtt", "%s",
		       up ? "'stopped' not acknowledged before the exit"
			  : "not connected at the exit: 'stopped' not sent");
}

void edge_publish_destroy(edge_publish *p)
{
	if (!p)
		return;
	fl_mqtt_destroy(p->mqtt);
	fl_spool_close(p->spool);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
