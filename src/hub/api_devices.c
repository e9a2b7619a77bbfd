/*
 * api_devices.c - a device's configuration and its cameras' snapshots
 * for the lane editor (docs/api.md, "Devices"; docs/devices.md).
 *
 * A note on who and where. Admins and installers only, and an installer
 * only on its sites: a device of another site answers 404 like one that
 * does not exist (api__device_visible). Property managers and enforcement
 * officers see the fleet (api_admin.c) but change nothing here.
 *
 * A note on waiting. A snapshot is one command and its answer, a few
 * seconds: the web thread waits for it (the editor shows a spinner). An
 * apply may take the edge's whole apply timeout (it answers once every
 * changed camera delivered a frame, or after rolling back), so it runs in
 * a thread of its own with its own store handle: the request answers 202
 * at once, the version is marked sent, and the outcome lands in the
 * store, where GET .../config shows it (the editor polls). Both send
 * through hub_command_send (signed by the hub key, each its own short
 * MQTT connection).
 *
 * Snapshots are kept under <evidence_dir>/.snapshots/<device>/ (the last
 * one per camera, its mask and its size), outside every incident's
 * folder: a snapshot is no evidence.
 */
#include "api_internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "command.h"
#include "devconf.h"
#include "file.h"
#include "fl.h"
#include "httpparse.h"
#include "id.h"
#include "schema.h"

#define SNAPSHOT_WAIT_S 20.0         /* an inline snapshot's answer */
#define APPLY_WAIT_S 90.0            /* longer than any edge's apply timeout */
#define SNAPSHOT_MAX (1024u * 1024u) /* a decoded picture */

/* ---- who and which ---------------------------------------------------------- */

/* 0 when s may edit devices (admin, installer), else -1 with 403. */
static int need_editor(const hub_session_info *s, hub_resp *r)
{
	if (!strcmp(s->role, "admin") || api__is_installer(s))
		return 0;
	api__error(r, 403, "not allowed for your role");
	return -1;
}

int api__device_visible(hub_api *a, const hub_session_info *s, const char *id,
			hub_resp *r, char *site, size_t sitelen)
{
	char pk[128];

	if (need_editor(s, r))
		return -1;
	if (!id || !hub_plain_name(id) ||
	    fl_db_device_get(a->db, id, site, sitelen, pk, sizeof(pk)) ||
	    !api__may_see(s, site)) {
		api__error(r, 404, "no such device");
		return -1;
	}
	return 0;
}

/* The path's segment n (0: "api") into buf; 0 or -1. */
static int path_segment(const char *path, int n, char *buf, size_t len)
{
	const char *p = path;

	while (*p == '/')
		p++;
	for (; n > 0 && p; n--) {
		p = strchr(p, '/');
		if (p)
			p++;
	}
	if (!p || !*p)
		return -1;
	size_t k = strcspn(p, "/");

	if (k >= len)
		return -1;
	memcpy(buf, p, k);
	buf[k] = 0;
	return 0;
}

/* ---- commands ------------------------------------------------------------- */

/* Send json to device and parse its answer into *answer (a new object):
 * 0 ok, 1 refused, 2 not sent or no answer (err says why); the wait ends
 * early once *cancel is set (NULL: never). */
static int command(const hub_conf *c, fl_db *db, const char *device,
		   const char *json, double timeout_s, const atomic_int *cancel,
		   json_t **answer, char *err, size_t errlen)
{
	char path[HUB_PATH + 16], *text = NULL;
	size_t tlen = 0;
	fl_key key;
	int created = 0, rc;
	FILE *out;

	*answer = NULL;
	hub_conf_key_path(c, path, sizeof(path));
	if (fl_key_load_or_create(path, &key, &created, err, errlen) < 0)
		return 2;
	out = open_memstream(&text, &tlen);
	if (!out) {
		fl_key_wipe(&key);
		fl_seterr(err, errlen, "out of memory");
		return 2;
	}
	rc = hub_command_send(c, db, &key, device, json, timeout_s, cancel, out,
			      err, errlen);
	fl_key_wipe(&key);
	fclose(out);
	if (rc != 2) {
		*answer = json_loads(text ? text : "", 0, NULL);
		if (!*answer) {
			fl_seterr(err, errlen,
				  "the device's answer is no JSON");
			rc = 2;
		}
	}
	free(text);
	return rc;
}

/* The answer's detail object (the edge's "detail", or "result"). */
static json_t *detail(json_t *answer)
{
	json_t *d = json_object_get(answer, "detail");

	return json_is_object(d) ? d : json_object_get(answer, "result");
}

/* Why the device refused: its error, else a generic text. */
static const char *refusal(json_t *answer)
{
	const char *e = json_string_value(json_object_get(answer, "error"));

	return e && *e ? e : "refused by the device";
}

/* ---- GET/PUT /api/devices/ID/config ----------------------------------------- */

/* 422 {"error", "key", "line", "reason", "code"} from hub_devconf_check. */
static void invalid(hub_resp *r, json_t *why)
{
	if (!why) {
		api__error(r, 500, "out of memory");
		return;
	}
	json_object_set_new(why, "code", json_string("invalid_config"));
	api__json_obj(r, 422, why);
}

/* No version yet: the device's own file (config_get) as version 1. */
static int import(hub_api *a, const hub_session_info *s, const char *device,
		  hub_resp *r)
{
	char err[512];
	json_t *ans = NULL;
	const char *yaml;
	int rc, version;

	rc = command(a->conf, a->db, device, "{\"cmd\": \"config_get\"}",
		     SNAPSHOT_WAIT_S, &a->stopping, &ans, err, sizeof(err));
	yaml = json_string_value(json_object_get(detail(ans), "yaml"));
	if (rc == 2 || (rc == 0 && !yaml)) {
		api__json_obj(r, 504,
			      json_pack("{s:s,s:s}", "error",
					rc == 2 ? err
						: "the device sent no "
						  "configuration",
					"code", "no_answer"));
		rc = -1;
	} else if (rc == 1) {
		api__json_obj(r, 502,
			      json_pack("{s:s,s:s}", "error", refusal(ans),
					"code", "device_refused"));
		rc = -1;
	} else if (fl_db_config_save(a->db, device, 0, yaml, s->user,
				     "imported from the device", fl_wall_s(),
				     &version, err, sizeof(err)) &&
		   (fl_db_config_latest(a->db, device, &version) ||
		    version == 0)) {
		api__error(r, 500, err);
		rc = -1;
	} else {
		rc = 0; /* (a save that lost to another import is fine) */
	}
	json_decref(ans);
	return rc;
}

static void snap_path(hub_api *a, const char *device, const char *camera,
		      const char *suffix, char *buf, size_t len);

/* Each camera's last snapshot ({time, width, height, url, mask_url}, as
 * its POST answered) into the camera as "snapshot", where there is one. */
static void last_snapshots(hub_api *a, const char *device, json_t *cams)
{
	char path[HUB_PATHLEN];
	json_t *c, *meta;
	size_t i;

	json_array_foreach(cams, i, c)
	{
		const char *id = json_string_value(json_object_get(c, "id"));

		if (!id)
			continue;
		snap_path(a, device, id, ".json", path, sizeof(path));
		meta = json_load_file(path, 0, NULL);
		if (json_is_object(meta))
			json_object_set(c, "snapshot", meta);
		json_decref(meta);
	}
}

static void config_get(hub_api *a, const hub_session_info *s,
		       const char *device, const char *site, hub_resp *r)
{
	char *row = NULL, *vers;
	json_t *o, *v, *conf;
	const char *yaml;
	int rc = fl_db_config_get(a->db, device, 0, &row);

	if (rc == FL_ENOENT) {
		if (import(a, s, device, r))
			return;
		rc = fl_db_config_get(a->db, device, 0, &row);
	}
	if (rc) {
		api__error(r, 500, "the store failed");
		return;
	}
	o = json_loads(row, 0, NULL);
	free(row);
	vers = fl_db_config_versions_json(a->db, device);
	v = vers ? json_loads(vers, 0, NULL) : NULL;
	free(vers);
	if (!o || !v) {
		json_decref(o);
		json_decref(v);
		api__error(r, 500, "the store failed");
		return;
	}
	yaml = json_string_value(json_object_get(o, "yaml"));
	conf = yaml ? hub_devconf_json(yaml, strlen(yaml)) : NULL;
	if (!conf) { /* stored, but not valid for this hub: say why */
		json_t *why = NULL;

		if (yaml)
			hub_devconf_check(yaml, strlen(yaml), &why);
		conf = json_pack("{s:[]}", "cameras");
		json_object_set_new(conf, "invalid", why ? why : json_null());
	}
	last_snapshots(a, device, json_object_get(conf, "cameras"));
	json_object_set_new(conf, "device", json_string(device));
	json_object_set_new(conf, "site", json_string(site));
	json_object_update(conf, o); /* version, yaml, author, created, ... */
	{
		/* never the broker password (docs/devices.md, "Secrets") */
		char *masked = NULL;

		hub_devconf_mask(yaml ? yaml : "", yaml ? strlen(yaml) : 0,
				 &masked);
		json_object_set_new(conf, "yaml",
				    masked ? json_string(masked) : json_null());
		free(masked);
	}
	json_object_set(conf, "versions", json_object_get(v, "versions"));
	json_decref(o);
	json_decref(v);
	api__json_obj(r, 200, conf);
}

static void config_put(hub_api *a, const hub_session_info *s,
		       const char *device, const hub_req *q, hub_resp *r)
{
	json_t *body = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES,
				  NULL);
	json_t *base = json_object_get(body, "base_version");
	json_t *cams = json_object_get(body, "cameras"), *why = NULL, *conf;
	const char *text = json_string_value(json_object_get(body, "yaml"));
	const char *note = json_string_value(json_object_get(body, "note"));
	char *latest = NULL, *yaml = NULL, err[512];
	const char *id;
	int version, rc;

	if (json_is_null(cams))
		cams = NULL;
	if (!json_is_integer(base) || (!text == !cams)) {
		api__error(r, 400,
			   "expected {\"base_version\": N, \"yaml\": TEXT} or "
			   "{\"base_version\": N, \"cameras\": [...]}");
		goto out;
	}
	if (cams) { /* lanes of these cameras into the latest file */
		json_t *row = NULL;
		const char *cur;

		rc = fl_db_config_get(a->db, device, 0, &latest);
		row = rc ? NULL : json_loads(latest, 0, NULL);
		cur = json_string_value(json_object_get(row, "yaml"));
		if (!cur) {
			json_decref(row);
			api__error(r, rc == FL_ENOENT ? 409 : 500,
				   rc == FL_ENOENT ? "no configuration yet: "
						     "GET it first"
						   : "the store failed");
			goto out;
		}
		rc = hub_devconf_replace_lanes(cur, strlen(cur), cams, &yaml,
					       err, sizeof(err));
		json_decref(row);
		if (rc) {
			api__json_obj(r, rc == FL_ENOMEM ? 500 : 422,
				      json_pack("{s:s,s:s,s:s,s:i,s:s}",
						"error", err, "key", "cameras",
						"line", 0, "reason", err,
						"code", "invalid_config"));
			goto out;
		}
		text = yaml;
	}
	if (!cams && strstr(text, FL_SECRET_MASK) &&
	    fl_db_config_get(a->db, device, 0, &latest) == 0) {
		/* a file as GET showed it: its masks are the stored secrets */
		json_t *row = json_loads(latest, 0, NULL);
		const char *cur = json_string_value(
			json_object_get(row, "yaml"));

		if (cur && hub_devconf_unmask(text, strlen(text), cur,
					      strlen(cur), &yaml) == 0)
			text = yaml;
		json_decref(row);
	}
	if (strlen(text) > HUB_DEVCONF_MAX) {
		api__error(r, 413, "configuration too large (256 KiB at most)");
		goto out;
	}
	if (hub_devconf_check(text, strlen(text), &why)) {
		invalid(r, why);
		goto out;
	}
	/* the edge refuses a file of another device: say so now */
	conf = hub_devconf_json(text, strlen(text));
	id = json_string_value(json_object_get(conf, "device"));
	if (!id || strcmp(id, device)) {
		api__json_obj(r, 422,
			      json_pack("{s:s,s:s,s:i,s:s,s:s}", "error",
					"device.id: not this device's", "key",
					"device.id", "line", 0, "reason",
					"not this device's id", "code",
					"invalid_config"));
		json_decref(conf);
		goto out;
	}
	json_decref(conf);
	rc = fl_db_config_save(a->db, device, (int)json_integer_value(base),
			       text, s->user, note, q->now, &version, err,
			       sizeof(err));
	if (rc == FL_EEXIST)
		api__error(r, 409, err);
	else if (rc)
		api__error(r, 500, err);
	else
		api__json_obj(r, 200, json_pack("{s:i}", "version", version));
out:
	free(latest);
	free(yaml);
	json_decref(body);
}

void api__device_config(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r)
{
	char site[256];

	if (api__device_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (api__is(q, "GET"))
		config_get(a, s, id, site, r);
	else
		config_put(a, s, id, q, r);
}

/* ---- POST /api/devices/ID/config/apply ----------------------------------------- */

struct apply_job {
	const hub_conf *conf; /* the hub's, lives as long as the process */
	char device[HUB_PLAIN_MAX];
	char user[256];
	int version;
	char *cmd; /* the command's JSON */
};

/* The worker: send, wait, store the outcome; its own store handle. */
static void *apply_run(void *p)
{
	struct apply_job *j = p;
	char url[HUB_PATH + 8], err[1024];
	json_t *ans = NULL;
	fl_db *db;
	int rc;

	hub_conf_store_url(j->conf, url, sizeof(url));
	db = fl_db_open(url, err, sizeof(err));
	if (!db) {
		fl_log(FL_LOG_ERROR, TAG, "apply to %s: store: %s", j->device,
		       err);
		goto out;
	}
	/* not cancelled by a stop: the process's end ends it, and the next
	 * start settles what it was waiting for */
	rc = command(j->conf, db, j->device, j->cmd, APPLY_WAIT_S, NULL, &ans,
		     err, sizeof(err));
	fl_log(rc ? FL_LOG_WARN : FL_LOG_INFO, TAG,
	       "configuration %d to %s: %s", j->version, j->device,
	       rc == 0   ? "applied"
	       : rc == 1 ? refusal(ans)
			 : err);
	fl_db_config_applied(db, j->device, j->version, j->user, rc == 0,
			     rc == 0   ? NULL
			     : rc == 1 ? refusal(ans)
				       : err,
			     fl_wall_s());
out:
	json_decref(ans);
	fl_db_close(db);
	free(j->cmd);
	free(j);
	return NULL;
}

void api__device_config_apply(hub_api *a, const hub_session_info *s,
			      const char *id, const hub_req *q, hub_resp *r)
{
	json_t *body = json_loadb(q->body, q->body_len, 0, NULL), *row = NULL;
	json_t *v = json_object_get(body, "version");
	struct apply_job *j = NULL;
	char site[256], *text = NULL;
	pthread_attr_t at;
	pthread_t t;
	int rc;

	if (api__device_visible(a, s, id, r, site, sizeof(site)))
		goto out;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 1000000000) {
		api__error(r, 400, "expected {\"version\": N}");
		goto out;
	}
	rc = fl_db_config_get(a->db, id, (int)json_integer_value(v), &text);
	row = rc ? NULL : json_loads(text, 0, NULL);
	if (!json_is_string(json_object_get(row, "yaml"))) {
		api__error(r, rc == FL_ENOENT ? 404 : 500,
			   rc == FL_ENOENT ? "no such version"
					   : "the store failed");
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		goto oom;
	j->conf = a->conf;
	j->version = (int)json_integer_value(v);
	snprintf(j->device, sizeof(j->device), "%s", id);
	snprintf(j->user, sizeof(j->user), "%s", s->user);
	{
		json_t *cmd = json_pack("{s:s,s:i,s:O}", "cmd", "config",
					"version", j->version, "yaml",
					json_object_get(row, "yaml"));

		j->cmd = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
		json_decref(cmd);
	}
	if (!j->cmd)
		goto oom;
	if (fl_db_config_applied(a->db, id, j->version, s->user, -1, NULL,
				 q->now)) {
		api__error(r, 500, "the store failed");
		goto out;
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &at, apply_run, j);
	pthread_attr_destroy(&at);
	if (rc) {
		fl_db_config_applied(a->db, id, j->version, s->user, 0,
				     "the hub could not start sending",
				     fl_wall_s());
		goto oom;
	}
	j = NULL; /* the worker's now */
	api__json_obj(r, 202,
		      json_pack("{s:i,s:s}", "version",
				(int)json_integer_value(v), "state", "sent"));
	goto out;
oom:
	api__error(r, 500, "out of memory");
out:
	if (j)
		free(j->cmd);
	free(j);
	free(text);
	json_decref(row);
	json_decref(body);
}

/* ---- snapshots -------------------------------------------------------------- */

/* <evidence_dir>/.snapshots/<device>[/<camera><suffix>] into buf. */
static void snap_path(hub_api *a, const char *device, const char *camera,
		      const char *suffix, char *buf, size_t len)
{
	if (camera)
		hub_fmt(buf, len, "%s/.snapshots/%s/%s%s",
			a->conf->evidence_dir, device, camera, suffix);
	else
		hub_fmt(buf, len, "%s/.snapshots/%s", a->conf->evidence_dir,
			device);
}

/* A base64 field of d decoded and written as path; 0, or -1 with err. */
static int save_b64(json_t *d, const char *field, const char *path, char *err,
		    size_t errlen)
{
	const char *b64 = json_string_value(json_object_get(d, field));
	size_t len = 0, n = b64 ? strlen(b64) : 0;
	unsigned char *bin = malloc(n * 3 / 4 + 4);
	int rc = -1;

	if (!b64 || !bin) {
		fl_seterr(err, errlen, "%s: missing in the answer", field);
		goto out;
	}
	if (sodium_base642bin(bin, n * 3 / 4 + 4, b64, n, " \r\n", &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    len < 4 || len > SNAPSHOT_MAX) {
		fl_seterr(err, errlen, "%s: not a picture in base64", field);
		goto out;
	}
	rc = fl_file_write(path, bin, len, 0640, 0, err, errlen) ? -1 : 0;
out:
	free(bin);
	return rc;
}

void api__snapshot(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r)
{
	char site[256], cam[HUB_PLAIN_MAX], path[HUB_PATHLEN], err[512];
	json_t *body = q->body_len ? json_loadb(q->body, q->body_len, 0, NULL)
				   : json_object();
	json_t *ans = NULL, *d, *cmd = NULL, *meta = NULL;
	int mask = json_is_true(json_object_get(body, "mask")), rc;
	char *text = NULL;

	if (api__device_visible(a, s, id, r, site, sizeof(site)))
		goto out;
	if (path_segment(q->path, 4, cam, sizeof(cam)) ||
	    !fl_id_valid(cam, sizeof(cam))) {
		api__error(r, 404, "no such camera");
		goto out;
	}
	cmd = json_pack("{s:s,s:s,s:b,s:b}", "cmd", "snapshot", "camera", cam,
			"inline", 1, "mask", mask);
	text = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
	rc = text ? command(a->conf, a->db, id, text, SNAPSHOT_WAIT_S,
			    &a->stopping, &ans, err, sizeof(err))
		  : 2;
	if (rc) {
		api__json_obj(r, rc == 1 ? 502 : 504,
			      json_pack("{s:s,s:s}", "error",
					rc == 1 ? refusal(ans) : err, "code",
					rc == 1 ? "device_refused"
						: "no_answer"));
		goto out;
	}
	d = detail(ans);
	snap_path(a, id, NULL, "", path, sizeof(path));
	if (fl_mkdir_p(path, 0750, err, sizeof(err))) {
		api__error(r, 500, err);
		goto out;
	}
	snap_path(a, id, cam, ".jpg", path, sizeof(path));
	if (save_b64(d, "jpeg", path, err, sizeof(err))) {
		api__json_obj(r, 502,
			      json_pack("{s:s,s:s}", "error", err, "code",
					"device_refused"));
		goto out;
	}
	snap_path(a, id, cam, ".mask", path, sizeof(path));
	if (!mask || save_b64(d, "mask", path, err, sizeof(err)))
		unlink(path); /* no mask: none of an older picture either */
	meta = json_pack("{s:O?,s:O?,s:O?,s:O?,s:s,s:s*}", "time",
			 json_object_get(d, "time"), "width",
			 json_object_get(d, "width"), "height",
			 json_object_get(d, "height"), "scale",
			 json_object_get(d, "scale"), "url", "", "mask_url",
			 NULL);
	{
		char url[600];

		snprintf(url, sizeof(url),
			 "/api/devices/%s/cameras/%s/snapshot.jpg?t=%.0f", id,
			 cam, q->now * 1000);
		json_object_set_new(meta, "url", json_string(url));
		if (!access(path, R_OK)) {
			snprintf(url, sizeof(url),
				 "/api/devices/%s/cameras/%s/mask.png?t=%.0f",
				 id, cam, q->now * 1000);
			json_object_set_new(meta, "mask_url", json_string(url));
		}
	}
	snap_path(a, id, cam, ".json", path, sizeof(path));
	{
		char *m = json_dumps(meta, JSON_COMPACT);

		/* the editor shows the last picture without asking again */
		if (!m || fl_file_write(path, m, strlen(m), 0640, 0, err,
					sizeof(err)))
			fl_log(FL_LOG_WARN, TAG, "snapshot of %s/%s: %s", id,
			       cam, m ? err : "out of memory");
		free(m);
	}
	api__json_obj(r, 200, json_incref(meta));
out:
	free(text);
	json_decref(meta);
	json_decref(cmd);
	json_decref(ans);
	json_decref(body);
}

/* GET .../snapshot.jpg and .../mask.png: the last ones fetched. */
void api__snapshot_file(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r)
{
	char site[256], cam[HUB_PLAIN_MAX], file[32], path[HUB_PATHLEN];
	unsigned char magic[4] = { 0 };
	struct stat st;
	int fd;

	if (api__device_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (path_segment(q->path, 4, cam, sizeof(cam)) ||
	    !fl_id_valid(cam, sizeof(cam)) ||
	    path_segment(q->path, 5, file, sizeof(file))) {
		api__error(r, 404, "no such camera");
		return;
	}
	snap_path(a, id, cam, strcmp(file, "mask.png") ? ".jpg" : ".mask", path,
		  sizeof(path));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic)) {
		if (fd >= 0)
			close(fd);
		api__error(r, 404, "no snapshot yet");
		return;
	}
	r->status = 200;
	r->fd = fd;
	r->offset = 0;
	r->flen = (long long)st.st_size;
	/* the mask may be a PNG or a JPEG (docs/mqtt.md, "snapshot") */
	r->ctype = magic[0] == 0x89 && magic[1] == 'P' ? "image/png"
						       : "image/jpeg";
}

/* ---- the lane table, a polygon's check -------------------------------------- */

void api__schema_lane(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r)
{
	if (need_editor(s, r))
		return;
	api__json_obj(r, 200,
		      json_pack("{s:o}", "settings", hub_devconf_lane_schema()));
}

void api__lanes_check(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r)
{
	json_t *body = json_loadb(q->body, q->body_len, 0, NULL);
	char err[512];

	if (need_editor(s, r))
		goto out;
	if (!json_is_array(json_object_get(body, "polygon"))) {
		api__error(r, 400, "expected {\"polygon\": [[x, y], ...]}");
		goto out;
	}
	if (hub_devconf_check_polygon(json_object_get(body, "polygon"), err,
				      sizeof(err)))
		api__json_obj(r, 200,
			      json_pack("{s:b,s:s}", "ok", 0, "reason", err));
	else
		api__json_obj(r, 200, json_pack("{s:b}", "ok", 1));
out:
	json_decref(body);
}

/* ---- applies the hub stopped waiting for ------------------------------------ */

/* device's versions sent and never answered, settled by its heartbeat's
 * config_version (hb_version; -1: none). */
static void settle_device(fl_db *db, const char *device, long hb_version,
			  double now)
{
	char *text = fl_db_config_versions_json(db, device);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL, *v;
	size_t i;

	free(text);
	json_array_foreach(json_object_get(o, "versions"), i, v)
	{
		int version = (int)json_integer_value(
			json_object_get(v, "version"));
		int ok;

		if (json_is_null(json_object_get(v, "applied")) ||
		    !json_is_null(json_object_get(v, "apply_ok")))
			continue;
		ok = hb_version == version;
		fl_log(FL_LOG_WARN, TAG, "configuration %d to %s: %s", version,
		       device,
		       ok ? "applied (the device's heartbeat says so)"
			  : HUB_APPLY_UNANSWERED);
		fl_db_config_applied(db, device, version, "hub", ok,
				     ok ? NULL : HUB_APPLY_UNANSWERED, now);
	}
	json_decref(o);
}

void hub_api_settle_applies(hub_api *a, double now)
{
	char *text = fl_db_devices_json(a->db);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL, *d;
	size_t i;

	free(text);
	json_array_foreach(json_object_get(o, "devices"), i, d)
	{
		json_t *hb = json_object_get(json_object_get(d, "heartbeat"),
					     "config_version");
		const char *id = json_string_value(json_object_get(d, "device"));

		if (id)
			settle_device(a->db, id,
				      json_is_integer(hb)
					      ? (long)json_integer_value(hb)
					      : -1,
				      now);
	}
	json_decref(o);
}
