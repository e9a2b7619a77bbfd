/*
 * snapshot.h - a snapshot carried in the command's answer (docs/mqtt.md,
 * "Commands", inline snapshot). See snapshot.c.
 */
#ifndef FL_EDGE_SNAPSHOT_H
#define FL_EDGE_SNAPSHOT_H

#include <stddef.h>

/* An answer with a picture in it stays under this, envelope included. */
#define EDGE_ANSWER_MAX (512 * 1024)

/*
 * The result of an inline snapshot: {"camera", "width", "height", "time",
 * "scale", "jpeg", "mask"} with the JPEG at path and, when mask_path is
 * not "", the mask (a PNG) there, both base64. w and h are the frame's
 * size (the lanes' coordinate space), t the frame's wall-clock time. When
 * the two would make the answer larger than EDGE_ANSWER_MAX, the JPEG is
 * encoded again smaller (a lower quality, then half, then a quarter of
 * the size): "scale" says by what (1: as taken). Strings are borrowed for
 * the call. Returns a malloc'd JSON object text (free()), or NULL with
 * the reason in err. Any thread.
 */
char *edge_snapshot_inline(const char *camera, const char *path,
			   const char *mask_path, double t, int w, int h,
			   char *err, size_t errlen);

#endif /* FL_EDGE_SNAPSHOT_H */
