/*
 * scale.c - downscaling to analysis resolution (see scale.h).
 *
 * At 1080p an area resize reads two million pixels per analysed frame, as
 * much work as the rest of the analysis. Analysis needs noise averaged, not
 * every pixel: reading two rows of each footprint halves (at 6:1, thirds)
 * the traffic, and the row sums vectorise.
 */
#include "scale.h"

#include <string.h>

void fl_downscale_gray(const uint8_t *src, int sw, int sh, int sstride,
		       uint8_t *dst, int dw, int dh)
{
	uint16_t acc[8192];
	int xs[4097];

	if (dw > 4096 || sw > 8192)
		return;
	for (int x = 0; x <= dw; x++)
		xs[x] = (int)((long)x * sw / dw);
	for (int y = 0; y < dh; y++) {
		int y0 = (int)((long)y * sh / dh);
		int y1 = (int)((long)(y + 1) * sh / dh);
		int span = y1 - y0 > 0 ? y1 - y0 : 1;
		/* one row, or two spread over the footprint */
		int ra = y0 + span / 4, rb = y0 + (3 * span) / 4;
		int rows = rb > ra ? 2 : 1;
		const uint8_t *a = src + (size_t)ra * (size_t)sstride;
		const uint8_t *b = src + (size_t)rb * (size_t)sstride;

		if (rows == 2)
			for (int x = 0; x < sw; x++)
				acc[x] = (uint16_t)(a[x] + b[x]);
		else
			for (int x = 0; x < sw; x++)
				acc[x] = a[x];
		for (int x = 0; x < dw; x++) {
			unsigned sum = 0,
				 cnt = (unsigned)(xs[x + 1] - xs[x]) * rows;
			for (int xx = xs[x]; xx < xs[x + 1]; xx++)
				sum += acc[xx];
			dst[(size_t)y * dw + x] =
				(uint8_t)(cnt ? (sum + cnt / 2) / cnt : 0);
		}
	}
}
