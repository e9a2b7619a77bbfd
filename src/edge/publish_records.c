/*
 * publish_records.c - the open-incident records: what survives a kill -9.
 *
 * Kill -9 and power loss. Every open incident has a small record in
 * <spool>/open/<incident_id> (camera, lane, last seq, and where its
 * evidence upload stands), written crash-safe (fl_file_write) before each
 * of its messages is spooled and removed when it closes. At start, a
 * record whose incident the cameras' memory holds (device.state_dir,
 * src/edge/state.c, docs/memory.md) stays open: its camera resumes it if
 * the obstruction is still there (no message at all) or closes it as
 * cleared, and those messages continue its seq. Without memory an incident
 * cannot be resumed (the lane logic starts afresh and re-detects a vehicle
 * still standing as a new incident from time zero), so every other record
 * left over becomes one last spooled message of type "interrupted" with
 * the next seq: the hub sees the old incident closed (not cleared: its
 * fate is unknown) and, if the obstruction is still there, a new incident
 * opened by the new process. Nothing spooled is lost: the spool itself
 * survives and is delivered after the restart.
 */
#include "publish_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "file.h"
#include "fl.h"
#include "state.h"

/* One record, crash-safe (fl_file_write). 0 or an fl_errno (logged). */
static int write_record(const char *dir, const char *name, const char *text)
{
	char path[FL_PATH_MAX + 300], err[512];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = fl_file_write(path, text, strlen(text), 0600, 0, err, sizeof(err));
	if (rc < 0)
		fl_log(FL_LOG_ERROR, "publish", "%s", err);
	return rc;
}

void publish__remove_record(edge_publish *p, const char *id)
{
	char path[FL_PATH_MAX + 300];

	snprintf(path, sizeof(path), "%s/%s", p->open_dir, id);
	unlink(path);
}

void publish__save_record(edge_publish *p, const struct incident *in)
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
void publish__recover(edge_publish *p)
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
			if (fl_file_is_temp(de->d_name)) {
				snprintf(path, sizeof(path), "%s/%s",
					 p->open_dir, de->d_name);
				unlink(path);
			}
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", p->open_dir, de->d_name);
		if (fl_file_read(path, 4096, &text, &len, NULL, 0) < 0 ||
		    sscanf(text, "%63s %63s %u %d %d %zu %ld", camera, lane,
			   &seq, &closed, &due, &file, &chunk) < 4) {
			fl_log(FL_LOG_WARN, "publish",
			       "%s: unreadable; removed", path);
			free(text);
			unlink(path);
			continue;
		}
		free(text);
		cam = edge_camera_index(p->cfg, camera);
		ln = edge_lane_index(p->cfg, cam, lane);
		if (!closed && cam >= 0 && ln >= 0 &&
		    held(ids, nheld, de->d_name) &&
		    (in = publish__incident_get(p, de->d_name, cam, ln))) {
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
			m.wall_time = fl_wall_s();
			m.video_time_s = m.rest_since_s = m.left_at_s = -1;
			m.reason = "the edge restarted; an obstruction still "
				   "there is reported as a new incident";
			fl_topic(topic, sizeof(topic), FL_TOPIC_INCIDENT,
				 p->cfg->site, p->cfg->device_id, camera, lane);
			n = fl_incident_json(&m, payload, sizeof(payload));
			if (n >= sizeof(payload) ||
			    publish__spool(p, FL_SPOOL_INCIDENT, topic, payload,
					   n) < 0)
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
		    (in = publish__incident_get(p, de->d_name, cam, ln))) {
			in->seq = seq;
			in->alarmed = 1;
			in->closed = 1;
			in->closed_at = fl_mono_s();
			in->evid = EVID_SENDING;
			in->file = file;
			in->chunk = chunk;
			publish__save_record(p, in);
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
