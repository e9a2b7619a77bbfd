/*
 * image.cpp - pixels in and out: image files (imgcodecs) and the per-frame
 * gray downscale (imgproc), behind vision.h.
 *
 * A note on why these live here. The clear-lane reference is a still image
 * an installer captures once (--capture-reference writes it, start-up reads
 * it back); decoding PNG/JPEG ourselves would be a second image library for
 * no gain, and OpenCV is already linked for the detector. The downscale is
 * the one call made on every analysed frame: the per-pixel models in
 * src/detect work on a small gray plane, and INTER_AREA is a true box average
 * when shrinking, so it also removes sensor noise rather than aliasing it.
 * Every call wraps the caller's buffer in a cv::Mat header (no copy) and
 * writes its answer into caller-owned memory.
 *
 * Exceptions never leave: every entry point catches everything.
 */
#include "internal.h"
#include "vision.h"

extern "C" {
#include "fl.h"
}

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <sys/stat.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace
{

/* Largest image we accept from a file: guards the w*h*3 arithmetic and the
 * caller's malloc against a hostile header. */
constexpr long long kMaxPixels = 1LL << 28;

/* Lower-cased extension after the last '.', or "" if none. */
std::string extension(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	std::string e;

	if (!dot || (slash && dot < slash))
		return e;
	for (const char *c = dot + 1; *c; c++)
		e += (char)((*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a' : *c);
	return e;
}

/* imread with our error mapping. flags: cv::IMREAD_GRAYSCALE or _COLOR. */
int read_image(const char *path, int flags, cv::Mat *img, char *err,
	       size_t errlen)
{
	struct stat st;

	if (!path || !*path) {
		fl__vision_err(err, errlen, "(null): no image path");
		return FL_EINVAL;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		fl__vision_err(err, errlen, "%s: no such file", path);
		return FL_ENOENT;
	}
	*img = cv::imread(path, flags);
	if (img->empty()) {
		fl__vision_err(err, errlen, "%s: not a readable image", path);
		return FL_EFORMAT;
	}
	if ((long long)img->cols * img->rows > kMaxPixels) {
		fl__vision_err(err, errlen, "%s: image too large (%dx%d)", path,
			       img->cols, img->rows);
		return FL_EFORMAT;
	}
	return 0;
}

/*
 * The exception in flight while reading path, as an fl error with a reason:
 * called from a catch (...) so no exception leaves the C API.
 */
int read_failed(const char *path, char *err, size_t errlen)
{
	const char *p = path ? path : "(null)";

	try {
		throw;
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen, "%s: out of memory", p);
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl__vision_err(err, errlen, "%s: %s", p, e.err.c_str());
		return FL_EFORMAT;
	} catch (...) {
		fl__vision_err(err, errlen, "%s: unexpected error", p);
		return FL_EIO;
	}
}

} // namespace

/* Decode as gray, then INTER_AREA straight into the caller's buffer. */
int fl_image_load_gray(const char *path, int w, int h, uint8_t *dst,
		       int *native_w, int *native_h, char *err, size_t errlen)
{
	try {
		cv::Mat img;
		int rc;

		if (dst && (w <= 0 || h <= 0)) {
			fl__vision_err(err, errlen, "%s: bad target size %dx%d",
				       path ? path : "(null)", w, h);
			return FL_EINVAL;
		}
		rc = read_image(path, cv::IMREAD_GRAYSCALE, &img, err, errlen);
		if (rc < 0)
			return rc;
		if (native_w)
			*native_w = img.cols;
		if (native_h)
			*native_h = img.rows;
		if (!dst)
			return 0;
		cv::Mat out(h, w, CV_8UC1, dst, (size_t)w);
		if (img.cols == w && img.rows == h)
			img.copyTo(out);
		else
			cv::resize(img, out, out.size(), 0, 0, cv::INTER_AREA);
		/* resize/copyTo reuse out's buffer because size and type
		 * match; check, since a reallocation would silently leave
		 * dst unwritten */
		if (out.data != dst) {
			fl__vision_err(err, errlen, "%s: internal resize error",
				       path);
			return FL_EIO;
		}
		return 0;
	} catch (...) {
		return read_failed(path, err, errlen);
	}
}

/* Decode as BGR and hand the caller a malloc'd packed copy. */
int fl_image_load_bgr(const char *path, uint8_t **bgr, int *w, int *h,
		      char *err, size_t errlen)
{
	if (!bgr || !w || !h) {
		fl__vision_err(err, errlen, "%s: NULL output pointer",
			       path ? path : "(null)");
		return FL_EINVAL;
	}
	*bgr = nullptr;
	try {
		cv::Mat img;
		int rc = read_image(path, cv::IMREAD_COLOR, &img, err, errlen);
		if (rc < 0)
			return rc;
		size_t row = (size_t)img.cols * 3;
		uint8_t *buf = (uint8_t *)malloc(row * img.rows);
		if (!buf) {
			fl__vision_err(err, errlen, "%s: out of memory", path);
			return FL_ENOMEM;
		}
		for (int y = 0; y < img.rows; y++)
			memcpy(buf + row * y, img.ptr(y), row);
		*bgr = buf;
		*w = img.cols;
		*h = img.rows;
		return 0;
	} catch (...) {
		return read_failed(path, err, errlen);
	}
}

/* Pick the codec from the extension ourselves so an unknown one is a clear
 * FL_EUNSUPPORTED rather than an OpenCV exception. */
int fl_image_write_bgr(const char *path, const uint8_t *bgr, int w, int h,
		       char *err, size_t errlen)
{
	if (!path || !*path || !bgr || w <= 0 || h <= 0 ||
	    (long long)w * h > kMaxPixels) {
		fl__vision_err(err, errlen, "%s: bad arguments to image write",
			       path ? path : "(null)");
		return FL_EINVAL;
	}
	try {
		std::string ext = extension(path);
		std::vector<int> params;
		if (ext == "jpg" || ext == "jpeg") {
			params = { cv::IMWRITE_JPEG_QUALITY, 90 };
		} else if (ext != "png") {
			fl__vision_err(
				err, errlen,
				"%s: unsupported image type '.%s' (want .png, "
				".jpg or .jpeg)",
				path, ext.c_str());
			return FL_EUNSUPPORTED;
		}
		cv::Mat img(h, w, CV_8UC3, const_cast<uint8_t *>(bgr),
			    (size_t)w * 3);
		if (!cv::imwrite(path, img, params)) {
			fl__vision_err(err, errlen, "%s: cannot write image",
				       path);
			return FL_EIO;
		}
		return 0;
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen, "%s: out of memory", path);
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl__vision_err(err, errlen, "%s: cannot write image: %s", path,
			       e.err.c_str());
		return FL_EIO;
	} catch (...) {
		fl__vision_err(err, errlen, "%s: cannot write image", path);
		return FL_EIO;
	}
}

/* Wrap both planes and let cv::resize write dst in place. */
int fl_resize_gray(const uint8_t *src, int sw, int sh, int sstride,
		   uint8_t *dst, int dw, int dh)
{
	if (!src || !dst || sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 ||
	    sstride < sw)
		return FL_EINVAL;
	try {
		cv::Mat in(sh, sw, CV_8UC1, const_cast<uint8_t *>(src),
			   (size_t)sstride);
		cv::Mat out(dh, dw, CV_8UC1, dst, (size_t)dw);
		if (sw == dw && sh == dh)
			in.copyTo(out);
		else
			cv::resize(in, out, out.size(), 0, 0, cv::INTER_AREA);
		return out.data == dst ? 0 : FL_EIO;
	} catch (const std::bad_alloc &) {
		return FL_ENOMEM;
	} catch (...) {
		return FL_EIO;
	}
}

/* Shared with detect.cpp (internal.h). */
int fl__vision_gray_crop(const uint8_t *bgr, int w, int h, const double *roi,
			 int min_w, int min_h, cv::Mat &gray, cv::Point &origin)
{
	cv::Rect2d full(0, 0, w, h), want = full;
	if (roi) {
		for (int i = 0; i < 4; i++)
			if (!std::isfinite(roi[i]))
				return FL_EINVAL;
		want = cv::Rect2d(roi[0], roi[1], roi[2], roi[3]) & full;
	}
	int x0 = (int)std::floor(want.x), y0 = (int)std::floor(want.y);
	int x1 = (int)std::ceil(want.x + want.width);
	int y1 = (int)std::ceil(want.y + want.height);
	if (x1 - x0 < min_w || y1 - y0 < min_h)
		return FL_EINVAL;
	cv::Mat img(h, w, CV_8UC3, const_cast<uint8_t *>(bgr), (size_t)w * 3);
	cv::cvtColor(img(cv::Rect(x0, y0, x1 - x0, y1 - y0)), gray,
		     cv::COLOR_BGR2GRAY);
	origin = cv::Point(x0, y0);
	return 0;
}

void fl__vision_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
