/*
 * suite.c - run the edge over a folder of labelled clips and score each one.
 *
 * A suite is a folder of ground-truth files (DIR/NAME.json, EVAL.md). For
 * each one we need three things, and the order of lookup is the contract:
 *
 *   media   the "media" field; absolute, or relative to --data-root when
 *           given, else to the json's own folder.
 *   config  DIR/NAME.yaml when it exists (hand-tuned lanes), else one we
 *           generate into OUT/NAME.yaml from the zones: device eval-edge at
 *           eval-site, one camera cam-1, one lane per zone with the zone's
 *           name as id, its points, and the file's dwell_s.
 *   events  OUT/NAME.events.jsonl, written by
 *             EDGE --config CFG --replay --source MEDIA --events-out EV
 *                  [--model M] [--fps FPS]   (--fps for image patterns)
 *           with the edge's stdout and stderr in OUT/NAME.edge.log.
 *
 * A clip is run once per offset (--offsets; 0 is the plain run, the only
 * one by default) and once per restart time (--restart-at):
 *
 *   cut      NAME@T: the edge with --start T (no memory of before T),
 *            scored against the truth cut at T (eval_truth_cut).
 *   restart  NAME@rT: the edge with --until T --state-dir D (it ends at T
 *            as a power cut would; OUT/NAME@rT.before.*), then again with
 *            --start T --state-dir D (the same folder, made fresh for the
 *            pair); both events files together, scored against the uncut
 *            truth, with duplicates across T counted apart.
 *
 * Runs are plain fork/exec children, up to --jobs at once (the two halves
 * of a restart one after the other); a run is scored after its child (the
 * last of them) exits 0. A failed run is a failed row (the tail of its log
 * is shown), never a silent zero: the suite then exits 1. That includes an
 * edge that does not know --state-dir: a restart row then says FAILED.
 */
#include "eval.h"
#include "truth.h"

#include "fl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUITE_PATH_MAX 4096

/* One clip of the suite: its truth and where its inputs are. */
struct clip {
	char json[SUITE_PATH_MAX];
	char name[256];
	char media[SUITE_PATH_MAX];
	char config[SUITE_PATH_MAX];
	char fps[32]; /* "" unless media is an image pattern */
	eval_truth truth;
};

/* One run of a clip: plain, cut or restarted (see the essay). */
struct run {
	struct clip *c;
	int mode;                    /* enum eval_mode */
	double t;                    /* cut or restart time */
	char name[300];              /* NAME, NAME@T or NAME@rT */
	char events[SUITE_PATH_MAX]; /* what is scored */
	char log[SUITE_PATH_MAX];
	char before[SUITE_PATH_MAX]; /* restart: events before the cut */
	char before_log[SUITE_PATH_MAX];
	char after[SUITE_PATH_MAX]; /* restart: events after it */
	char state[SUITE_PATH_MAX]; /* restart: the --state-dir */
	int stage;                  /* restart: 1 before the cut, 2 after */
	int state_; /* 0 ready to start, 1 running, 2 finished */
	pid_t pid;
	int status; /* wait status of the last child */
};
static int path_join(char *out, const char *dir, const char *rel)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(out, SUITE_PATH_MAX, "%s", rel);
	else
		n = snprintf(out, SUITE_PATH_MAX, "%s/%s", dir, rel);
	return n < 0 || n >= SUITE_PATH_MAX ? FL_ERANGE : 0;
}

static void dir_of(const char *path, char *out)
{
	const char *s = strrchr(path, '/');

	if (!s)
		snprintf(out, SUITE_PATH_MAX, ".");
	else if (s == path)
		snprintf(out, SUITE_PATH_MAX, "/");
	else
		snprintf(out, SUITE_PATH_MAX, "%.*s", (int)(s - path), path);
}

/* The edge binary beside this program (/proc/self/exe), or "firelane-edge". */
static void default_edge(char *out)
{
	char self[SUITE_PATH_MAX], dir[SUITE_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(out, SUITE_PATH_MAX, "firelane-edge");
		return;
	}
	self[n] = '\0';
	dir_of(self, dir);
	if (path_join(out, dir, "firelane-edge"))
		snprintf(out, SUITE_PATH_MAX, "firelane-edge");
}

/* Write s as a double-quoted YAML scalar. */
static void yaml_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * Generate c->config from the zones of c->truth (SPEC 5.3 minimal form).
 * Returns 0, or an error with a message in err.
 */
static int write_config(struct clip *c, char *err, size_t errlen)
{
	const eval_truth *t = &c->truth;
	FILE *f;

	for (size_t z = 0; z < t->nzones; z++)
		if (t->zones[z].npoints < 3) {
			snprintf(err, errlen,
				 "%s: zone \"%s\" has fewer than 3 points; cannot generate a config",
				 c->json, t->zones[z].name);
			return FL_EFORMAT;
		}
	f = fopen(c->config, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", c->config, strerror(errno));
		return FL_EIO;
	}
	fprintf(f, "# Generated by firelane-eval from %s\n", c->json);
	fprintf(f, "device: {id: eval-edge, site: eval-site}\n");
	fprintf(f, "cameras:\n  - id: cam-1\n    source: ");
	yaml_str(f, c->media);
	fprintf(f, "\n    lanes:\n");
	for (size_t z = 0; z < t->nzones; z++) {
		const eval_zone *zn = &t->zones[z];

		fprintf(f, "      - id: ");
		yaml_str(f, zn->name);
		fprintf(f, "\n        points: [");
		for (size_t k = 0; k < zn->npoints; k++)
			fprintf(f, "%s[%.6g, %.6g]", k ? ", " : "",
				zn->points[2 * k], zn->points[2 * k + 1]);
		fprintf(f, "]\n        dwell_s: %.6g\n", t->dwell_s);
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", c->config, strerror(errno));
		return FL_EIO;
	}
	return 0;
}

/* Load the truth of c and work out its media and config. */
static int prepare(struct clip *c, const eval_suite_opts *o, const char *outdir,
		   char *err, size_t errlen)
{
	char dir[SUITE_PATH_MAX], yaml[SUITE_PATH_MAX];
	const char *base = strrchr(c->json, '/');
	struct stat st;
	size_t n;
	int rc;

	base = base ? base + 1 : c->json;
	n = strlen(base);
	if (n > 5)
		n -= 5; /* ".json" */
	snprintf(c->name, sizeof(c->name), "%.*s", (int)FL_MIN(n, 255), base);

	rc = eval_truth_load(c->json, &c->truth, err, errlen);
	if (rc)
		return rc;
	if (!c->truth.media) {
		snprintf(err, errlen, "%s: media: missing (needed by --suite)",
			 c->json);
		return FL_EFORMAT;
	}
	dir_of(c->json, dir);
	if (path_join(c->media, o->data_root ? o->data_root : dir,
		      c->truth.media))
		goto too_long;
	if (strchr(c->media, '%'))
		snprintf(c->fps, sizeof(c->fps), "%.6g",
			 c->truth.fps > 0 ? c->truth.fps : 25.0);

	if (snprintf(yaml, sizeof(yaml), "%s/%s.yaml", dir, c->name) >=
	    (int)sizeof(yaml))
		goto too_long;
	if (stat(yaml, &st) == 0) {
		snprintf(c->config, sizeof(c->config), "%s", yaml);
		return 0;
	}
	if (snprintf(c->config, sizeof(c->config), "%s/%s.yaml", outdir,
		     c->name) >= (int)sizeof(c->config))
		goto too_long;
	return write_config(c, err, errlen);
too_long:
	snprintf(err, errlen, "%s: path too long", c->json);
	return FL_ERANGE;
}

/* snprintf into a SUITE_PATH_MAX buffer; 0, or FL_ERANGE when cut short. */
static int fmt_path(char *out, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static int fmt_path(char *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, SUITE_PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= SUITE_PATH_MAX ? FL_ERANGE : 0;
}

/*
 * Set up run r of clip c: its name and files in outdir, and for a restart
 * a fresh state folder. Returns 0, or an error with a message in err.
 */
static int plan_run(struct run *r, struct clip *c, int mode, double t,
		    const char *outdir, char *err, size_t errlen)
{
	int bad = 0;

	memset(r, 0, sizeof(*r));
	r->c = c;
	r->mode = mode;
	r->t = t;
	r->stage = 1;
	if (mode == EVAL_PLAIN)
		snprintf(r->name, sizeof(r->name), "%s", c->name);
	else
		snprintf(r->name, sizeof(r->name), "%s@%s%g", c->name,
			 mode == EVAL_RESTART ? "r" : "", t);
	bad |= fmt_path(r->events, "%s/%s.events.jsonl", outdir, r->name);
	bad |= fmt_path(r->log, "%s/%s.edge.log", outdir, r->name);
	if (mode == EVAL_RESTART) {
		bad |= fmt_path(r->before, "%s/%s.before.jsonl", outdir,
				r->name);
		bad |= fmt_path(r->before_log, "%s/%s.before.log", outdir,
				r->name);
		bad |= fmt_path(r->after, "%s/%s.after.jsonl", outdir, r->name);
		bad |= fmt_path(r->state, "%s/%s.state.XXXXXX", outdir,
				r->name);
	}
	if (bad) {
		snprintf(err, errlen, "%s: path too long", c->json);
		return FL_ERANGE;
	}
	/* the memory of this pair of runs and nothing else */
	if (mode == EVAL_RESTART && !mkdtemp(r->state)) {
		snprintf(err, errlen, "%s: cannot make its state folder: %s",
			 r->name, strerror(errno));
		return FL_EIO;
	}
	return 0;
}

/* Start the edge for the next stage of r; its output goes to the stage's
 * log. Returns 0 or FL_EIO. */
static int start(struct run *r, const char *edge, const eval_suite_opts *o)
{
	const struct clip *c = r->c;
	const char *argv[24], *events = r->events, *log = r->log;
	char t[32];
	int n = 0;
	pid_t pid;

	snprintf(t, sizeof(t), "%.6g", r->t);
	argv[n++] = edge;
	argv[n++] = "--config";
	argv[n++] = c->config;
	argv[n++] = "--replay";
	argv[n++] = "--source";
	argv[n++] = c->media;
	if (r->mode == EVAL_CUT || (r->mode == EVAL_RESTART && r->stage == 2)) {
		argv[n++] = "--start";
		argv[n++] = t;
	}
	if (r->mode == EVAL_RESTART) {
		if (r->stage == 1) {
			argv[n++] = "--until";
			argv[n++] = t;
			events = r->before;
			log = r->before_log;
		} else {
			events = r->after;
		}
		argv[n++] = "--state-dir";
		argv[n++] = r->state;
	}
	argv[n++] = "--events-out";
	argv[n++] = events;
	if (o->model) {
		argv[n++] = "--model";
		argv[n++] = o->model;
	}
	if (c->fps[0]) {
		argv[n++] = "--fps";
		argv[n++] = c->fps;
	}
	argv[n] = NULL;

	/* never score a stale file */
	unlink(events);
	if (r->stage == 1)
		unlink(r->events);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return FL_EIO;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(edge, (char *const *)argv);
		fprintf(stderr, "firelane-eval: cannot run %s: %s\n", edge,
			strerror(errno));
		_exit(127);
	}
	r->pid = pid;
	return 0;
}
/* Print the last lines of path to stderr, indented. */
static void log_tail(const char *path, int lines)
{
	char *text;
	size_t len, pos;
	int seen = 0;

	if (eval_read_file(path, &text, &len) != 0)
		return;
	pos = len;
	while (pos > 0 && seen <= lines) {
		pos--;
		if (text[pos] == '\n' && pos + 1 < len)
			seen++;
	}
	if (seen > lines)
		pos++;
	fprintf(stderr, "---- %s (tail)\n%s%s----\n", path, text + pos,
		len && text[len - 1] != '\n' ? "\n" : "");
	free(text);
}

/* Write the events of both halves of a restart into r->events. */
static int join_restart(const struct run *r, char *err, size_t errlen)
{
	const char *parts[2] = { r->before, r->after };
	FILE *f = fopen(r->events, "w");
	int rc = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", r->events, strerror(errno));
		return FL_EIO;
	}
	for (int i = 0; i < 2 && !rc; i++) {
		char *text;
		size_t len;

		rc = eval_read_file(parts[i], &text, &len);
		if (rc) {
			snprintf(err, errlen, "%s: %s", parts[i],
				 fl_strerror(rc));
			break;
		}
		if (fwrite(text, 1, len, f) != len ||
		    (len && text[len - 1] != '\n' && fputc('\n', f) == EOF))
			rc = FL_EIO;
		free(text);
	}
	if (fclose(f) && !rc)
		rc = FL_EIO;
	if (rc == FL_EIO)
		snprintf(err, errlen, "%s: write failed", r->events);
	return rc;
}

/* Score a run whose edge runs have finished; fills res. Returns an exit
 * code. */
static int finish(struct run *r, eval_result *res)
{
	const eval_truth *truth = &r->c->truth;
	eval_truth cut = { 0 };
	eval_events ev = { 0 };
	int rc;

	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
		const char *half = r->mode != EVAL_RESTART ? ""
				   : r->stage == 1
					   ? " (the run before the restart)"
					   : " (the run after the restart)";

		res->failed = 1;
		if (WIFEXITED(r->status))
			snprintf(res->error, sizeof(res->error),
				 "edge exited %d%s", WEXITSTATUS(r->status),
				 half);
		else
			snprintf(res->error, sizeof(res->error),
				 "edge killed by signal %d%s",
				 WIFSIGNALED(r->status) ? WTERMSIG(r->status)
							: 0,
				 half);
		fprintf(stderr, "firelane-eval: %s: %s\n", r->name, res->error);
		log_tail(r->mode == EVAL_RESTART && r->stage == 1
				 ? r->before_log
				 : r->log,
			 20);
		return EVAL_EXIT_FAIL;
	}
	rc = r->mode == EVAL_RESTART
		     ? join_restart(r, res->error, sizeof(res->error))
		     : 0;
	if (!rc)
		rc = eval_events_load(r->events, &ev, res->error,
				      sizeof(res->error));
	if (!rc && r->mode == EVAL_CUT) {
		rc = eval_truth_cut(truth, r->t, &cut);
		truth = &cut;
	}
	if (!rc)
		rc = eval_score_restart(truth, ev.v, ev.n,
					r->mode == EVAL_RESTART ? r->t : NAN,
					&res->f);
	eval_truth_free(&cut);
	eval_events_free(&ev);
	if (rc) {
		if (rc == FL_ENOMEM)
			snprintf(res->error, sizeof(res->error),
				 "out of memory");
		res->failed = 1;
		fprintf(stderr, "firelane-eval: %s\n", res->error);
		return EVAL_EXIT_ERROR;
	}
	return EVAL_EXIT_OK;
}

static int make_outdir(const eval_suite_opts *o, char *out)
{
	if (o->out) {
		snprintf(out, SUITE_PATH_MAX, "%s", o->out);
		if (mkdir(out, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "firelane-eval: %s: %s\n", out,
				strerror(errno));
			return FL_EIO;
		}
		return 0;
	}
	snprintf(out, SUITE_PATH_MAX, "%s/firelane-eval.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(out)) {
		fprintf(stderr, "firelane-eval: mkdtemp: %s\n",
			strerror(errno));
		return FL_EIO;
	}
	fprintf(stderr, "firelane-eval: configs, events and logs in %s\n", out);
	return 0;
}

/* Run every planned run, at most jobs children at once; the second half
 * of a restart starts once the first has ended well. Fills r[i].status. */
static int run_all(struct run *r, size_t n, const char *edge,
		   const eval_suite_opts *o)
{
	size_t running = 0, left = n;

	while (left > 0) {
		int status;
		pid_t pid;

		for (size_t i = 0; i < n && running < (size_t)o->jobs; i++) {
			if (r[i].state_ != 0)
				continue;
			fprintf(stderr, "firelane-eval: running %s%s\n",
				r[i].name,
				r[i].mode != EVAL_RESTART ? ""
				: r[i].stage == 1 ? " (before the restart)"
						  : " (after the restart)");
			if (start(&r[i], edge, o) != 0) {
				fprintf(stderr, "firelane-eval: fork: %s\n",
					strerror(errno));
				r[i].status = 127 << 8;
				r[i].state_ = 2;
				left--;
				continue;
			}
			r[i].state_ = 1;
			running++;
		}
		if (running == 0)
			continue;
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return FL_EIO;
		}
		for (size_t i = 0; i < n; i++) {
			if (r[i].state_ != 1 || r[i].pid != pid)
				continue;
			r[i].status = status;
			r[i].pid = 0;
			running--;
			if (r[i].mode == EVAL_RESTART && r[i].stage == 1 &&
			    WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				r[i].stage = 2;
				r[i].state_ = 0;
			} else {
				r[i].state_ = 2;
				left--;
			}
		}
	}
	return 0;
}

int eval_suite_run(const eval_suite_opts *o, eval_result **res, size_t *nres)
{
	static const double plain_only[1] = { 0 };
	const double *offs = o->offsets ? o->offsets : plain_only;
	size_t noffs = o->offsets ? o->noffsets : 1;
	char pattern[SUITE_PATH_MAX], outdir[SUITE_PATH_MAX];
	char edge[SUITE_PATH_MAX], err[1024];
	glob_t g = { 0 };
	struct clip *c = NULL;
	struct run *runs = NULL;
	eval_result *r = NULL;
	size_t n = 0, nr = 0;
	int rc = EVAL_EXIT_ERROR, grc;

	*res = NULL;
	*nres = 0;
	if (path_join(pattern, o->dir, "*.json"))
		return EVAL_EXIT_ERROR;
	grc = glob(pattern, 0, NULL, &g);
	if (grc != 0) {
		fprintf(stderr, "firelane-eval: %s: no ground truth (*.json)\n",
			o->dir);
		goto out_glob;
	}
	n = g.gl_pathc;
	c = calloc(n, sizeof(*c));
	runs = calloc(n * (noffs + o->nrestarts), sizeof(*runs));
	if (!c || !runs)
		goto out_clips;
	for (size_t i = 0; i < n; i++)
		snprintf(c[i].json, sizeof(c[i].json), "%s", g.gl_pathv[i]);

	if (make_outdir(o, outdir))
		goto out_clips;
	for (size_t i = 0; i < n; i++) {
		if (prepare(&c[i], o, outdir, err, sizeof(err))) {
			fprintf(stderr, "firelane-eval: %s\n", err);
			goto out_clips;
		}
		/* the name of a clip is its label file's, so reports line up
		 * with the folder even when two labels share a video */
		for (size_t k = 0; k < noffs + o->nrestarts; k++) {
			int mode = k >= noffs    ? EVAL_RESTART
				   : offs[k] > 0 ? EVAL_CUT
						 : EVAL_PLAIN;
			double t = k >= noffs ? o->restarts[k - noffs]
					      : offs[k];

			if (mode != EVAL_PLAIN &&
			    t >= c[i].truth.duration_s - 1) {
				fprintf(stderr,
					"firelane-eval: %s: %g s is past "
					"its end (%g s): not run\n",
					c[i].name, t, c[i].truth.duration_s);
				continue;
			}
			if (plan_run(&runs[nr], &c[i], mode, t, outdir, err,
				     sizeof(err))) {
				fprintf(stderr, "firelane-eval: %s\n", err);
				goto out_clips;
			}
			nr++;
		}
	}
	r = calloc(nr + 1, sizeof(*r));
	if (!r)
		goto out_clips;
	if (o->edge)
		snprintf(edge, sizeof(edge), "%s", o->edge);
	else
		default_edge(edge);

	if (run_all(runs, nr, edge, o))
		goto out_clips;
	rc = EVAL_EXIT_OK;
	for (size_t i = 0; i < nr; i++) {
		int frc;

		r[i].name = malloc(strlen(runs[i].name) + 1);
		if (!r[i].name) {
			rc = EVAL_EXIT_ERROR;
			break;
		}
		strcpy(r[i].name, runs[i].name);
		r[i].mode = runs[i].mode;
		r[i].offset_s = runs[i].mode == EVAL_PLAIN ? 0 : runs[i].t;
		snprintf(r[i].cls, sizeof(r[i].cls), "%s",
			 runs[i].c->truth.cls ? runs[i].c->truth.cls : "");
		*nres = i + 1;
		frc = finish(&runs[i], &r[i]);
		if (frc > rc)
			rc = frc;
	}
	*res = r;
	r = NULL;
out_clips:
	for (size_t i = 0; c && i < n; i++)
		eval_truth_free(&c[i].truth);
	free(c);
	free(runs);
	eval_results_free(r, 0);
out_glob:
	globfree(&g);
	return rc;
}
