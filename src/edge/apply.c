/*
 * apply.c - a configuration sent by the hub: checked, written, compared,
 * remembered (see apply.h; docs/mqtt.md, "Remote configuration").
 *
 * A note on the model. The device's configuration file stays the source of
 * truth on the device: what the hub sends is checked with the same schema
 * as the file (fl_config_parse, named after the file so that relative
 * paths mean the same), must be for this device (device.id and site), and
 * is then written over the file crash-safely, the file it replaces kept
 * beside it as FILE.good, so that a restart runs what was applied and a
 * roll-back has something to go back to. Then it is applied one of two
 * ways (edge_apply_diff decides):
 *
 *   - in place, when only lane settings changed (everything SIGHUP
 *     applies: not a lane's id or polygon): the lanes' open incidents go
 *     on as they are;
 *   - by restarting the program, for anything else (a lane added, removed
 *     or moved, a camera's source, a camera added or removed, the device,
 *     detect, evidence, board, mqtt or health sections). The live mode
 *     stops as on SIGTERM (the cameras' memory saves their open
 *     incidents, src/edge/state.c) and executes itself again; the new
 *     process resumes the incidents of the lanes that are still there (a
 *     lane is known by its id) and forgets those of lanes gone. Why not
 *     restart only the cameras changed: a camera's index, its lanes' and
 *     its topics are wired into the publisher, the warning and the
 *     evidence writer at start, and rebuilding each in place would be a
 *     second start-up path to get right; a restart is the one we have and
 *     test (a few seconds, docs/mqtt.md has the figure).
 *
 * Across the restart the apply is carried by FILE.apply (edge_pending):
 * the command's id, the version, the one before, the cameras to wait for
 * and a deadline on the wall clock. The new process waits until each of
 * those cameras has delivered a frame (and, when the new configuration
 * reaches the broker another way, until it is connected: else nothing
 * could ever answer or fix it); when one has not by the deadline,
 * it puts FILE.good back, writes the roll-back with its reason into
 * FILE.apply and restarts again, and that process answers the hub. The
 * version applied is kept in FILE.version (0, or absent: never applied
 * remotely) and reported in the heartbeat.
 */
#include "apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "fl.h"
#include "secrets.h"
#include "tz.h"
#include "yaml.h"

#define SIDE_MAX (FL_PATH_MAX + 16)
#define PENDING_MAX 8192
#define DUMP_MAX (512 * 1024) /* fl_config_dump's text at most */

static void side(char *out, const char *path, const char *ext)
{
	snprintf(out, SIDE_MAX, "%s%s", path, ext);
}

/* "NAME:LINE: KEY: reason" (fl_config_parse's message) into its parts. */
static void refusal_of(const char *msg, const char *name, edge_refusal *why)
{
	size_t nl = strlen(name);
	const char *p = msg, *colon;
	char *end;
	long line;

	memset(why, 0, sizeof(*why));
	if (!strncmp(p, name, nl) && p[nl] == ':')
		p += nl + 1;
	line = strtol(p, &end, 10);
	if (end != p && *end == ':' && line > 0) {
		why->line = (int)line;
		p = end + 1;
	}
	while (*p == ' ')
		p++;
	colon = strstr(p, ": ");
	/* a key is one word: "dwell_s", not "did not find expected key" */
	if (colon && (size_t)(colon - p) < sizeof(why->key) &&
	    !memchr(p, ' ', (size_t)(colon - p))) {
		memcpy(why->key, p, (size_t)(colon - p));
		p = colon + 2;
	}
	snprintf(why->reason, sizeof(why->reason), "%.*s",
		 (int)sizeof(why->reason) - 1, p);
}

/* The refused key as its path in the text ("cameras[cam-1].lanes[lane-a]
 * .dwell_s", as the hub names it: fl_node_key_at), where the key on its
 * line is the one the message names: a form can point at the field. */
static void key_path(const char *text, size_t len, const char *name,
		     edge_refusal *why)
{
	char p[sizeof(why->key)];
	fl_node *doc;
	size_t n, kl = strlen(why->key);

	if (!why->key[0] || why->line < 1)
		return;
	doc = fl_yaml_parse(text, len, name, NULL, 0);
	n = doc ? fl_node_key_at(doc, why->line, p, sizeof(p)) : 0;
	if (n > kl && n < sizeof(p) && !strcmp(p + n - kl, why->key) &&
	    p[n - kl - 1] == '.')
		memcpy(why->key, p, n + 1);
	fl_node_free(doc);
}

int edge_apply_check(const fl_config *running, const char *path,
		     const char *text, size_t len, fl_config *out,
		     edge_refusal *why)
{
	char err[1024];

	memset(why, 0, sizeof(*why));
	if (fl_config_parse(out, text, len, path, err, sizeof(err)) < 0) {
		refusal_of(err, path, why);
		key_path(text, len, path, why);
		return FL_ECONFIG;
	}
	/* what the program checks after loading, and would stop on:
	 * checked here, or a restart into it would never come up */
	if (fl_tz_check(out->time_zone, err, sizeof(err)) < 0) {
		snprintf(why->key, sizeof(why->key), "device.time_zone");
		why->line = out->time_zone_line;
		snprintf(why->reason, sizeof(why->reason), "%.500s", err);
		return FL_ECONFIG;
	}
	/* the key is the device's identity at the hub: a new one would
	 * make everything it says, the answer included, a stranger's */
	if (strcmp(out->key_file, running->key_file)) {
		snprintf(why->key, sizeof(why->key), "device.key_file");
		snprintf(why->reason, sizeof(why->reason),
			 "the device's key is not changed remotely (it is "
			 "%.400s)",
			 running->key_file);
		return FL_ECONFIG;
	}
	if (strcmp(out->device_id, running->device_id)) {
		snprintf(why->key, sizeof(why->key), "device.id");
		snprintf(why->reason, sizeof(why->reason),
			 "'%s' is another device (this is '%s')",
			 out->device_id, running->device_id);
		return FL_ECONFIG;
	}
	if (strcmp(out->site, running->site)) {
		snprintf(why->key, sizeof(why->key), "device.site");
		snprintf(why->reason, sizeof(why->reason),
			 "'%s' is another site (this device is in '%s')",
			 out->site, running->site);
		return FL_ECONFIG;
	}
	return 0;
}

int edge_lane_same_shape(const fl_lane_conf *a, const fl_lane_conf *b)
{
	if (strcmp(a->id, b->id) || a->npoints != b->npoints)
		return 0;
	for (int i = 0; i < a->npoints; i++)
		if (a->points[i].x != b->points[i].x ||
		    a->points[i].y != b->points[i].y)
			return 0;
	return 1;
}

/* The camera of o with n's id, or NULL. */
static const fl_camera_conf *camera_of(const fl_config *o, const char *id)
{
	for (int c = 0; c < o->ncameras; c++)
		if (!strcmp(o->cameras[c].id, id))
			return &o->cameras[c];
	return NULL;
}

void edge_apply_diff(const fl_config *o, const fl_config *n, edge_diff *d)
{
	/* What is left when the lane settings SIGHUP applies are taken
	 * from o into a copy of n: the same as o, then nothing else
	 * changed. Compared as the effective configuration's text
	 * (fl_config_dump: every key of the schema), not as bytes: a
	 * string's bytes after its NUL need not match. */
	fl_config *t = malloc(sizeof(*t));
	char *dt = malloc(DUMP_MAX), *du = malloc(DUMP_MAX);

	memset(d, 0, sizeof(*d));
	for (int c = 0; c < n->ncameras; c++) {
		const fl_camera_conf *oc = camera_of(o, n->cameras[c].id);

		if (!oc || !fl_camera_same_streams(oc, &n->cameras[c]))
			snprintf(d->cams[d->ncams++], FL_ID_MAX, "%s",
				 n->cameras[c].id);
	}
	/* what a connection is made with (not the spool, the heartbeat) */
	d->mqtt = strcmp(o->mqtt.host, n->mqtt.host) ||
		  o->mqtt.port != n->mqtt.port ||
		  strcmp(o->mqtt.username, n->mqtt.username) ||
		  strcmp(o->mqtt.password, n->mqtt.password) ||
		  strcmp(o->mqtt.tls_ca, n->mqtt.tls_ca) ||
		  strcmp(o->mqtt.tls_cert, n->mqtt.tls_cert) ||
		  strcmp(o->mqtt.tls_key, n->mqtt.tls_key) ||
		  strcmp(o->mqtt.client_id, n->mqtt.client_id) ||
		  strcmp(o->device_id, n->device_id) ||
		  strcmp(o->site, n->site);
	d->restart = 1;
	if (!t || !dt || !du)
		goto out;
	*t = *n;
	for (int c = 0; c < t->ncameras && c < o->ncameras; c++) {
		fl_camera_conf *tc = &t->cameras[c];
		const fl_camera_conf *oc = &o->cameras[c];

		for (int l = 0; l < tc->nlanes && l < oc->nlanes; l++)
			if (edge_lane_same_shape(&tc->lanes[l], &oc->lanes[l]))
				tc->lanes[l] = oc->lanes[l];
	}
	if (fl_config_dump(t, dt, DUMP_MAX) < DUMP_MAX &&
	    fl_config_dump(o, du, DUMP_MAX) < DUMP_MAX)
		d->restart = strcmp(dt, du) != 0;
out:
	free(t);
	free(dt);
	free(du);
}

/* A configuration file (or its .good) into *text (malloc'd). */
static int read_config(const char *path, char **text, size_t *len, char *err,
		       size_t errlen)
{
	return fl_file_read(path, FL_CMD_CONFIG_MAX * 4, text, len, err,
			    errlen);
}

/* Copy the file from over to (crash-safe). 0 or a negative fl_errno. */
static int copy_file(const char *from, const char *to, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = read_config(from, &text, &len, err, errlen);

	if (rc == 0)
		rc = fl_file_write(to, text, len, 0600, 0, err, errlen);
	free(text);
	return rc;
}

int edge_apply_masked(const char *path, char **out, size_t *outlen, char *err,
		      size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = read_config(path, &text, &len, err, errlen);

	*out = NULL;
	if (rc == 0)
		rc = fl_secrets_mask(fl_config_schema(), text, len, path, out,
				     outlen, err, errlen);
	free(text);
	return rc;
}

int edge_apply_unmask(const char *path, const char *text, size_t len,
		      char **out, size_t *outlen, char *err, size_t errlen)
{
	char *old = NULL;
	size_t oldlen = 0;
	int rc = read_config(path, &old, &oldlen, err, errlen);

	*out = NULL;
	if (rc == 0)
		rc = fl_secrets_keep(fl_config_schema(), text, len, old, oldlen,
				     path, out, outlen, err, errlen);
	free(old);
	return rc;
}

int edge_apply_write(const char *path, const char *text, size_t len, char *err,
		     size_t errlen)
{
	char good[SIDE_MAX];
	int rc;

	side(good, path, ".good");
	rc = copy_file(path, good, err, errlen);
	if (rc < 0)
		return rc;
	return fl_file_write(path, text, len, 0600, 0, err, errlen);
}

int edge_apply_restore(const char *path, char *err, size_t errlen)
{
	char good[SIDE_MAX];

	side(good, path, ".good");
	return copy_file(good, path, err, errlen);
}

long edge_apply_version(const char *path)
{
	char vp[SIDE_MAX], *text = NULL;
	size_t len;
	long v = 0;

	side(vp, path, ".version");
	if (fl_file_read(vp, 64, &text, &len, NULL, 0) == 0) {
		char *end;

		v = strtol(text, &end, 10);
		if (end == text || v < 0)
			v = 0;
	}
	free(text);
	return v;
}

int edge_apply_set_version(const char *path, long v, char *err, size_t errlen)
{
	char vp[SIDE_MAX], text[32];
	int n = snprintf(text, sizeof(text), "%ld\n", v);

	side(vp, path, ".version");
	return fl_file_write(vp, text, (size_t)n, 0600, 0, err, errlen);
}

/* ---- the apply across a restart ------------------------------------------
 * One "key value" per line: req, version, previous, deadline, rollback,
 * camera (one line each), error (last: the rest of its line). */

int edge_pending_read(const char *path, edge_pending *p)
{
	char ap[SIDE_MAX], *text = NULL, *line, *save = NULL;
	size_t len;
	int rc, ok = 1;

	memset(p, 0, sizeof(*p));
	side(ap, path, ".apply");
	rc = fl_file_read(ap, PENDING_MAX, &text, &len, NULL, 0);
	if (rc < 0)
		return rc == FL_ENOENT ? FL_ENOENT : FL_EFORMAT;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, ' ');

		if (!v) {
			ok = 0;
			break;
		}
		*v++ = '\0';
		if (!strcmp(line, "req"))
			snprintf(p->req, sizeof(p->req), "%s",
				 strcmp(v, "-") ? v : "");
		else if (!strcmp(line, "version"))
			p->version = strtol(v, NULL, 10);
		else if (!strcmp(line, "previous"))
			p->previous = strtol(v, NULL, 10);
		else if (!strcmp(line, "deadline"))
			p->deadline = strtod(v, NULL);
		else if (!strcmp(line, "rollback"))
			p->rollback = atoi(v);
		else if (!strcmp(line, "mqtt"))
			p->mqtt = atoi(v);
		else if (!strcmp(line, "error"))
			snprintf(p->error, sizeof(p->error), "%s", v);
		else if (!strcmp(line, "camera") && p->ncams < FL_MAX_CAMERAS)
			snprintf(p->cams[p->ncams++], FL_ID_MAX, "%s", v);
		else
			ok = 0;
	}
	free(text);
	if (!ok || p->version < 1) {
		fl_log(FL_LOG_ERROR, "apply", "%s: garbled; removed", ap);
		edge_pending_clear(path);
		return FL_EFORMAT;
	}
	return 0;
}

int edge_pending_write(const char *path, const edge_pending *p, char *err,
		       size_t errlen)
{
	char ap[SIDE_MAX], text[PENDING_MAX], req[FL_CMD_REQ_MAX];
	char error[sizeof(p->error)];
	size_t n = 0;

	side(ap, path, ".apply");
	/* one record per line: a line break in the request's id (any
	 * string) or the error becomes a space */
	snprintf(req, sizeof(req), "%s", p->req[0] ? p->req : "-");
	snprintf(error, sizeof(error), "%s", p->error);
	for (char *c = req; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	for (char *c = error; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "req %s\nversion %ld\nprevious %ld\n"
			      "deadline %.3f\nrollback %d\nmqtt %d\n",
			      req, p->version, p->previous, p->deadline,
			      p->rollback, p->mqtt);
	for (int c = 0; c < p->ncams && n < sizeof(text); c++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "camera %s\n",
				      p->cams[c]);
	if (error[0] && n < sizeof(text))
		n += (size_t)snprintf(text + n, sizeof(text) - n, "error %s\n",
				      error);
	if (n >= sizeof(text)) {
		snprintf(err, errlen, "%s: too long", ap);
		return FL_ERANGE;
	}
	return fl_file_write(ap, text, n, 0600, 0, err, errlen);
}

void edge_pending_clear(const char *path)
{
	char ap[SIDE_MAX];

	side(ap, path, ".apply");
	if (unlink(ap) < 0 && errno != ENOENT)
		fl_log(FL_LOG_ERROR, "apply", "%s: %s", ap, strerror(errno));
}
