/*
 * truth.h - read a clip's ground-truth JSON and an edge's events JSON lines
 * into the plain structs of score.h (jansson lives only in truth.c).
 *
 * Every function fills a caller-owned struct which the caller releases with
 * eval_truth_free() / eval_events_free(), also after a failure. On error the
 * return is negative (FL_EFORMAT for bad content, FL_EIO / FL_ENOENT for a
 * file, FL_ENOMEM) and err receives "FILE: problem" or "FILE:LINE: problem".
 */
#ifndef FL_EVAL_TRUTH_H
#define FL_EVAL_TRUTH_H

#include "score.h"

#include <stddef.h>

/* Parse a ground-truth document (len bytes, need not be NUL-terminated).
 * file names it in messages and gives the default clip name. */
int eval_truth_parse(const char *text, size_t len, const char *file,
		     eval_truth *out, char *err, size_t errlen);
int eval_truth_load(const char *path, eval_truth *out, char *err,
		    size_t errlen);

/* Parse an events file: one JSON object per line; blank lines are skipped,
 * types other than "alarm" and "cleared" are ignored. Appends to out. */
int eval_events_parse(const char *text, size_t len, const char *file,
		      eval_events *out, char *err, size_t errlen);
int eval_events_load(const char *path, eval_events *out, char *err,
		     size_t errlen);

/* Read a whole file into a NUL-terminated heap buffer (*len bytes before the
 * NUL). Returns 0, FL_ENOENT, FL_EIO or FL_ENOMEM; caller frees *buf. */
int eval_read_file(const char *path, char **buf, size_t *len);

#endif /* FL_EVAL_TRUTH_H */
