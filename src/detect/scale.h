/*
 * scale.h - area downscaling of a gray plane to analysis resolution.
 */
#ifndef FL_SCALE_H
#define FL_SCALE_H

#include <stdint.h>

/*
 * Average src (sw x sh, row stride sstride) into dst (dw x dh, packed) by
 * area: each destination pixel is the mean of the source pixels whose
 * centres fall in its footprint. dst is caller-allocated. dw <= sw, dh <= sh.
 */
void fl_downscale_gray(const uint8_t *src, int sw, int sh, int sstride,
		       uint8_t *dst, int dw, int dh);

#endif /* FL_SCALE_H */
