/*
 * scale.h - downscaling a camera's luma plane to analysis resolution.
 */
#ifndef FL_SCALE_H
#define FL_SCALE_H

#include <stdint.h>

/*
 * Shrink src (sw x sh, row stride sstride) into dst (dw x dh, packed,
 * caller-allocated), dw <= sw, dh <= sh, dw <= 4096. Each destination pixel
 * is the mean over its footprint's full width on up to two of its rows:
 * enough averaging to quiet sensor noise, at a fraction of a full area
 * resize's memory traffic (this runs on every analysed 1080p frame).
 */
void fl_downscale_gray(const uint8_t *src, int sw, int sh, int sstride,
		       uint8_t *dst, int dw, int dh);

#endif /* FL_SCALE_H */
