/*
 * apply.h - a configuration sent by the hub (the config command): checked,
 * written, compared with the running one, remembered. The live mode
 * (live.c) drives it; see apply.c for the model and docs/mqtt.md,
 * "Remote configuration".
 *
 * Everything here runs on the control thread. Files are named after the
 * configuration file PATH: PATH.good (the previous file), PATH.version
 * (the version applied remotely) and PATH.apply (an apply across a
 * restart, see edge_pending).
 */
#ifndef FL_EDGE_APPLY_H
#define FL_EDGE_APPLY_H

#include <stddef.h>

#include "config.h"
#include "topic.h"

/* Why a text was refused, for the answer: "KEY: reason" and its parts. */
typedef struct edge_refusal {
	char key[128]; /* "cameras[0].lanes[1].dwell_s" or "" */
	int line;      /* 0: none */
	char reason[512];
} edge_refusal;

/*
 * Check text (len bytes, from the hub) as the configuration at path would
 * be (relative paths against path's folder) into *out, and that it is for
 * this device (device.id and site as in running). 0, or FL_ECONFIG with
 * the refusal in *why; *out is unusable then.
 */
int edge_apply_check(const fl_config *running, const char *path,
		     const char *text, size_t len, fl_config *out,
		     edge_refusal *why);

/* How a new configuration differs from the running one. */
typedef struct edge_diff {
	int restart; /* more than lane settings changed: restart */
	int ncams;   /* the cameras whose source changed, or new ones */
	char cams[FL_MAX_CAMERAS][FL_ID_MAX];
	int mqtt; /* how the edge reaches the broker changed */
} edge_diff;

/* Whether two lanes have the same id and polygon (their settings may
 * differ: those a reload applies). */
int edge_lane_same_shape(const fl_lane_conf *a, const fl_lane_conf *b);

/* Compare o (running) and n (new). No I/O. */
void edge_apply_diff(const fl_config *o, const fl_config *n, edge_diff *d);

/*
 * The file at path as config_get sends it: every secret (mqtt.password)
 * masked, FL_SECRET_MASK, so it never leaves the device (secrets.h). Into
 * *out (malloc'd, NUL-terminated, *outlen bytes; the caller frees). 0, or
 * a negative fl_errno with the reason in err.
 */
int edge_apply_masked(const char *path, char **out, size_t *outlen, char *err,
		      size_t errlen);

/*
 * text (a config command's) with every masked secret given the device's
 * own value, from the file at path: a file the hub has only seen masked
 * applies with the password the device has. Into *out as
 * edge_apply_masked. 0, or a negative fl_errno with the reason in err.
 */
int edge_apply_unmask(const char *path, const char *text, size_t len,
		      char **out, size_t *outlen, char *err, size_t errlen);

/*
 * Write text as path crash-safely, the current file kept first as
 * path.good. 0, or a negative fl_errno with the reason in err (path then
 * still holds its old content).
 */
int edge_apply_write(const char *path, const char *text, size_t len, char *err,
		     size_t errlen);

/* Put path.good back as path. 0 or a negative fl_errno (reason in err). */
int edge_apply_restore(const char *path, char *err, size_t errlen);

/* The version applied remotely (path.version), 0 when none. */
long edge_apply_version(const char *path);

/* Remember v as the applied version. 0 or a negative fl_errno. */
int edge_apply_set_version(const char *path, long v, char *err, size_t errlen);

/*
 * An apply that spans a restart (path.apply): written before the edge
 * restarts into a new configuration, read at the next start, where the
 * live mode waits for the cameras named and answers the hub; or, after a
 * roll-back, answers with the error.
 */
typedef struct edge_pending {
	char req[FL_CMD_REQ_MAX]; /* the command's id */
	long version;             /* the version being applied */
	long previous;            /* the version before it */
	double deadline;          /* wall clock: the cameras by then */
	int rollback;             /* 1: rolled back; answer error */
	char error[512];          /* rollback: the answer's error */
	int ncams;
	char cams[FL_MAX_CAMERAS][FL_ID_MAX];
	int mqtt; /* the broker must be reached by the deadline too */
} edge_pending;

/* Read path.apply into *p: 0, FL_ENOENT (none) or FL_EFORMAT (garbled:
 * it is logged and removed). */
int edge_pending_read(const char *path, edge_pending *p);

/* Write (crash-safe) or remove path.apply. 0 or a negative fl_errno. */
int edge_pending_write(const char *path, const edge_pending *p, char *err,
		       size_t errlen);
void edge_pending_clear(const char *path);

#endif /* FL_EDGE_APPLY_H */
