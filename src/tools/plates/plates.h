/*
 * plates.h - what the parts of firelane-plates share: annotated image
 * folders (the openalpr end-to-end benchmark's format, which
 * model/plates/render.py also writes), boxes and a clock.
 */
#ifndef FL_TOOL_PLATES_H
#define FL_TOOL_PLATES_H

#include <stddef.h>

#include "plate.h"

/* One annotation: "<file>\t<x>\t<y>\t<w>\t<h>\t<text>" (one plate per
 * image; the text may be missing in localiser-only sets). */
typedef struct plates_truth {
	char file[512];
	double box[4];
	char text[FL_PLATE_TEXT_MAX];
} plates_truth;

/* Read the first line of an annotation file. 0, or -1 (unreadable or
 * malformed: a message for stderr in why, whylen bytes). */
int plates_read_truth(const char *path, plates_truth *t, char *why,
		      size_t whylen);

/* The .txt files of dir, sorted by name: *names gets a malloc'd array of
 * *n malloc'd names (free with plates_free_names). 0 or -1 (errno set). */
int plates_list(const char *dir, char ***names, size_t *n);
void plates_free_names(char **names, size_t n);

/* Intersection over union of two x, y, w, h boxes. */
double plates_iou(const double *a, const double *b);

/* The reading modes (read.c); argv-style arguments after the mode flag. */
int plates_read_main(int argc, char **argv);

#endif /* FL_TOOL_PLATES_H */
