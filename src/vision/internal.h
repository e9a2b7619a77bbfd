/*
 * internal.h - helpers shared by the vision sources; not part of the C API.
 */
#ifndef FL_VISION_INTERNAL_H
#define FL_VISION_INTERNAL_H

#include <stddef.h>

/* Format into a caller's error buffer; NULL or 0-length buffers are fine. */
void fl__vision_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
#include <stdint.h>

#include <opencv2/core.hpp>

/* The gray crop of roi (x, y, w, h in pixels; NULL = the whole image;
 * clipped to it, outward to whole pixels) of a packed BGR24 image w x h
 * (borrowed), into gray (a new matrix); origin gets the crop's top-left in
 * the image. Returns 0, or FL_EINVAL (a non-finite roi, or a crop smaller
 * than min_w x min_h after clipping). OpenCV exceptions propagate: the
 * caller's entry point catches them. */
int fl__vision_gray_crop(const uint8_t *bgr, int w, int h, const double *roi,
			 int min_w, int min_h, cv::Mat &gray,
			 cv::Point &origin);
#endif

#endif /* FL_VISION_INTERNAL_H */
