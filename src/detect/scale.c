/*
 * scale.c - area downscaling (see scale.h).
 *
 * Analysis runs at about 320 pixels wide whatever the camera gives, so this
 * runs on every analysed frame over the full luma plane: it reads each
 * source pixel once, sums rows into a column accumulator and divides once per
 * destination pixel. Footprints are integer pixel ranges (the rounding error
 * of a fraction of a source pixel does not matter at this scale).
 */
#include "scale.h"

#include <stdlib.h>
#include <string.h>

void fl_downscale_gray(const uint8_t *src, int sw, int sh, int sstride,
		       uint8_t *dst, int dw, int dh)
{
	uint32_t acc[4096];
	int xs[4097];

	if (dw > 4096)
		dw = 4096;
	for (int x = 0; x <= dw; x++)
		xs[x] = (int)((long)x * sw / dw);
	for (int y = 0; y < dh; y++) {
		int y0 = (int)((long)y * sh / dh), y1 = (int)((long)(y + 1) * sh / dh);
		memset(acc, 0, sizeof(uint32_t) * (size_t)dw);
		for (int yy = y0; yy < y1; yy++) {
			const uint8_t *row = src + (size_t)yy * (size_t)sstride;
			for (int x = 0; x < dw; x++) {
				uint32_t sum = 0;
				for (int xx = xs[x]; xx < xs[x + 1]; xx++)
					sum += row[xx];
				acc[x] += sum;
			}
		}
		for (int x = 0; x < dw; x++) {
			uint32_t cnt = (uint32_t)((xs[x + 1] - xs[x]) * (y1 - y0));
			dst[(size_t)y * dw + x] =
				(uint8_t)(cnt ? (acc[x] + cnt / 2) / cnt : 0);
		}
	}
}
