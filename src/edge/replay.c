/*
 * replay.c - firelane-edge's replay mode: one camera to the end of its
 * input, on video time, as fast as it decodes (docs: README, "Running the
 * edge"). It needs no broker: events go to a JSON-lines file or stdout,
 * evidence (when on) to the store. A missing, corrupt or truncated input
 * is an error (exit 1); the end of the input is success.
 *
 * Replay windows: --start T begins analysis at T seconds of video time (the
 * frames before are decoded and dropped, as if the edge had been switched
 * on there; events keep the source's own times). --until T ends the replay
 * at T as a power cut would: the process ends at the first frame at or past
 * T with no orderly close (no final events, no evidence sealed, nothing
 * saved beyond what was written while running) and exit status 0.
 *
 * --capture-reference is the same start (open the camera, read) ending in
 * one frame written as the clear-lane reference image.
 */
#include "replay.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "event_lines.h"
#include "fl.h"

/* --stats-out: the camera's counters and the evidence writer's figures
 * (make bench reads them), wall the seconds the replay took. */
static void write_stats(const char *path, const edge_stats *st,
			const fl_evidence_stats *ev, double wall)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fl_log(FL_LOG_ERROR, "edge", "%s: %s", path, strerror(errno));
		return;
	}
	fprintf(f,
		"{\"frames\": %ld, \"wall_s\": %.6f, \"decode_s\": %.6f, "
		"\"analysis_s\": %.6f, \"analysed_frames\": %ld, "
		"\"detector_calls\": %ld, \"detector_s\": %.6f, "
		"\"evidence_sealed\": %d, \"evidence_discarded\": %d, "
		"\"evidence_failed\": %d, \"evidence_images\": %d, "
		"\"evidence_bytes\": %.0f, \"evidence_cpu_s\": %.6f, "
		"\"evidence_wall_s\": %.6f, \"preroll_bytes\": %zu, "
		"\"preroll_peak_bytes\": %zu, \"preroll_max_s\": %.1f}\n",
		st->frames, wall, st->decode_s, st->analysis_s, st->analysed,
		st->detector_calls, st->detector_s, ev->sealed, ev->discarded,
		ev->failed, ev->images, ev->bytes, ev->cpu_s, ev->wall_s,
		ev->preroll_bytes, ev->preroll_peak, ev->preroll_max_s);
	fclose(f);
}

/* Write a frame a second into the stream (past any start-up artefacts)
 * to path. The exit status. */
static int capture_reference(edge_camera *c, const char *path)
{
	char err[1024];
	int rc;

	for (int i = 0; i < 25 && edge_camera_step(c, err, sizeof(err)) == 0;
	     i++)
		;
	rc = edge_camera_write_frame(c, path, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "firelane-edge: %s\n", err);
	else
		fprintf(stderr, "firelane-edge: reference written to %s\n",
			path);
	return rc < 0;
}

int edge_replay_run(const edge_replay_args *a)
{
	edge_lines lines = { stdout, a->warning };
	char err[1024];
	edge_camera *c;
	double t0 = fl_mono_s();
	int rc = 0;

	if (a->events_out && strcmp(a->events_out, "-") != 0) {
		lines.out = fopen(a->events_out, "w");
		if (!lines.out) {
			fprintf(stderr, "firelane-edge: %s: %s\n",
				a->events_out, strerror(errno));
			return 1;
		}
	}
	c = edge_camera_open(a->cfg, a->camera, a->opts, edge_lines_event,
			     &lines, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "firelane-edge: %s\n", err);
		rc = 1;
		goto done;
	}
	if (a->capture) {
		rc = capture_reference(c, a->capture);
		goto done;
	}
	while (!*a->stop && (rc = edge_camera_step(c, err, sizeof(err))) == 0)
		edge_warning_tick(a->warning, a->cfg->cameras[a->camera].id,
				  edge_camera_time(c), edge_lines_event,
				  &lines);
	if (rc == FL_ERANGE && a->opts->until_s > 0) {
		/* --until: a power cut. Every event line is already flushed;
		 * nothing else may reach the disk, so no close of any kind. */
		fprintf(stderr,
			"firelane-edge: --until %g: power cut (the next frame "
			"is at %.3f s)\n",
			a->opts->until_s, edge_camera_time(c));
		_exit(0);
	}
	if (rc == FL_EEOF || *a->stop) {
		rc = 0;
	} else {
		fprintf(stderr, "firelane-edge: %s\n", err);
		rc = 1;
	}
	if (a->stats_out) {
		fl_evidence_stats ev;

		/* Seal what the end of input left open before counting. */
		edge_camera_evidence_stats(c, &ev);
		write_stats(a->stats_out, edge_camera_stats(c), &ev,
			    fl_mono_s() - t0);
	}
done:
	edge_camera_close(c);
	if (lines.out != stdout)
		fclose(lines.out);
	return rc;
}
