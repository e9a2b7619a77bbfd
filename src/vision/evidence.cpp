/*
 * evidence.cpp - the pictures of an evidence bundle (SPEC 4): JPEG bytes,
 * the close-up of the object and the composite, behind vision.h.
 *
 * A note on the shapes. A reviewer looks at an incident once, on a screen,
 * and has to see three things without zooming: where the object stood (the
 * scene images), what it is (the close-up, with its plate boxed when the
 * plate finder found one) and that the scene images really are one sequence
 * (the composite puts them side by side). So the close-up is never left
 * tiny - a 60 px bicycle is upscaled to 480 px on its longer side - and the
 * composite scales every scene to one height so no tile dominates, then the
 * whole down to a display width (3840 px by default) so the file stays
 * viewable. Scaling uses INTER_AREA when shrinking (a true box average, no
 * aliasing of fine text such as the overlay) and INTER_CUBIC when enlarging.
 *
 * The hub shows each incident's alarm still small (the incident list's
 * thumbnail, the alerts' picture): fl_jpeg_thumb() decodes the JPEG,
 * crops the banner band off and scales the rest to the width asked for.
 *
 * Every output is a fresh malloc'd fl_image the caller frees with
 * fl_image_free(); inputs are borrowed and wrapped in cv::Mat headers
 * without copying. Exceptions never leave: every entry point catches
 * everything.
 */
#include "internal.h"
#include "vision.h"

extern "C" {
#include "fl.h"
}

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace
{

/* Largest image we build or accept: keeps w*h*3 well inside size_t/int. */
constexpr long long kMaxPixels = 1LL << 28;

/* Close-ups smaller than this on the longer side are enlarged to it. */
constexpr int kCloseupMinSide = 480;

/* Gap between composite tiles, and its colour (dark gray, not black, so an
 * empty grid cell and a gap read differently). */
constexpr int kGap = 8;
const cv::Scalar kGapColour(40, 40, 40);

bool image_ok(const uint8_t *bgr, int w, int h)
{
	return bgr && w > 0 && h > 0 && (long long)w * h <= kMaxPixels;
}

/* The exception in flight as an fl error with a reason (from a catch). */
int failed(const char *what, char *err, size_t errlen)
{
	try {
		throw;
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen, "%s: out of memory", what);
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl__vision_err(err, errlen, "%s: %s", what, e.err.c_str());
		fl_log(FL_LOG_WARN, "vision", "%s: %s", what, e.what());
		return FL_EIO;
	} catch (...) {
		fl__vision_err(err, errlen, "%s: unexpected error", what);
		return FL_EIO;
	}
}

/* Copy a (possibly non-continuous) 8UC3 Mat into a new packed fl_image. */
int to_image(const cv::Mat &m, fl_image *out, const char *what, char *err,
	     size_t errlen)
{
	size_t row = (size_t)m.cols * 3;
	uint8_t *buf = (uint8_t *)malloc(row * (size_t)m.rows);

	if (!buf) {
		fl__vision_err(err, errlen, "%s: out of memory", what);
		return FL_ENOMEM;
	}
	for (int y = 0; y < m.rows; y++)
		memcpy(buf + row * (size_t)y, m.ptr(y), row);
	out->bgr = buf;
	out->w = m.cols;
	out->h = m.rows;
	return 0;
}

/* Resize src to dw x dh into dst with the interpolation that suits the
 * direction (area when shrinking, cubic when enlarging). */
void scale_to(const cv::Mat &src, cv::Mat dst)
{
	if (src.cols == dst.cols && src.rows == dst.rows) {
		src.copyTo(dst);
		return;
	}
	int interp = (dst.cols < src.cols) ? cv::INTER_AREA : cv::INTER_CUBIC;
	cv::resize(src, dst, dst.size(), 0, 0, interp);
}

cv::Mat wrap(const fl_image *im)
{
	return cv::Mat(im->h, im->w, CV_8UC3, im->bgr, (size_t)im->w * 3);
}

} // namespace

void fl_image_free(fl_image *img)
{
	if (!img)
		return;
	free(img->bgr);
	img->bgr = nullptr;
	img->w = img->h = 0;
}

int fl_jpeg_encode(const uint8_t *bgr, int w, int h, int quality, uint8_t **out,
		   size_t *len, char *err, size_t errlen)
{
	if (out)
		*out = nullptr;
	if (len)
		*len = 0;
	if (!out || !len || !image_ok(bgr, w, h) || quality < 1 ||
	    quality > 100) {
		fl__vision_err(err, errlen,
			       "jpeg encode: bad arguments (%dx%d, quality %d)",
			       w, h, quality);
		return FL_EINVAL;
	}
	try {
		cv::Mat img(h, w, CV_8UC3, const_cast<uint8_t *>(bgr),
			    (size_t)w * 3);
		std::vector<uchar> buf;
		std::vector<int> params = { cv::IMWRITE_JPEG_QUALITY, quality };
		if (!cv::imencode(".jpg", img, buf, params) || buf.empty()) {
			fl__vision_err(err, errlen,
				       "jpeg encode: encoder failed");
			return FL_EIO;
		}
		uint8_t *mem = (uint8_t *)malloc(buf.size());
		if (!mem) {
			fl__vision_err(err, errlen,
				       "jpeg encode: out of memory");
			return FL_ENOMEM;
		}
		memcpy(mem, buf.data(), buf.size());
		*out = mem;
		*len = buf.size();
		return 0;
	} catch (...) {
		return failed("jpeg encode", err, errlen);
	}
}

int fl_jpeg_thumb(const uint8_t *jpeg, size_t len, int crop_top, int max_w,
		  int quality, uint8_t **out, size_t *outlen, char *err,
		  size_t errlen)
{
	if (out)
		*out = nullptr;
	if (outlen)
		*outlen = 0;
	if (!jpeg || !out || !outlen || max_w < 16 || crop_top < 0 ||
	    quality < 1 || quality > 100 || len > ((size_t)1 << 30)) {
		fl__vision_err(err, errlen, "thumbnail: bad arguments");
		return FL_EINVAL;
	}
	try {
		/* decoded whole: a still is made once per incident and
		 * cached, so a reduced decode is not worth a header parser */
		cv::Mat raw(1, (int)len, CV_8UC1, const_cast<uint8_t *>(jpeg));
		cv::Mat img = cv::imdecode(raw, cv::IMREAD_COLOR);
		if (img.empty() || img.type() != CV_8UC3 ||
		    crop_top >= img.rows) {
			fl__vision_err(err, errlen,
				       "thumbnail: not a JPEG picture below "
				       "a %d px band",
				       crop_top);
			return FL_EFORMAT;
		}
		cv::Mat pic = img(
			cv::Rect(0, crop_top, img.cols, img.rows - crop_top));
		cv::Mat small = pic;
		if (pic.cols > max_w) {
			int th = std::max(1,
					  (int)std::lround((double)pic.rows *
							   max_w / pic.cols));
			cv::resize(pic, small, cv::Size(max_w, th), 0, 0,
				   cv::INTER_AREA);
		}
		if (!small.isContinuous())
			small = small.clone();
		return fl_jpeg_encode(small.data, small.cols, small.rows,
				      quality, out, outlen, err, errlen);
	} catch (...) {
		return failed("thumbnail", err, errlen);
	}
}

/*
 * Grow, clip, crop, scale, then draw the plate in the scaled crop's pixels
 * (drawing after scaling keeps the line width the same at every zoom).
 */
int fl_evidence_closeup(const uint8_t *bgr, int w, int h, const double box[4],
			const fl_plate *plate, int max_side, fl_image *out,
			char *err, size_t errlen)
{
	if (out) {
		out->bgr = nullptr;
		out->w = out->h = 0;
	}
	if (!out || !image_ok(bgr, w, h) || !box || max_side <= 0 ||
	    !std::isfinite(box[0]) || !std::isfinite(box[1]) ||
	    !std::isfinite(box[2]) || !std::isfinite(box[3]) || box[2] <= 0 ||
	    box[3] <= 0) {
		fl__vision_err(err, errlen, "close-up: bad arguments");
		return FL_EINVAL;
	}
	try {
		/* 15% margin per side: enough context to see the object's
		 * surroundings (kerb, lane marking) without losing it. */
		double mx = box[2] * 0.15, my = box[3] * 0.15;
		double fx0 = std::max(0.0, box[0] - mx);
		double fy0 = std::max(0.0, box[1] - my);
		double fx1 = std::min((double)w, box[0] + box[2] + mx);
		double fy1 = std::min((double)h, box[1] + box[3] + my);
		if (fx1 - fx0 < 1.0 || fy1 - fy0 < 1.0) {
			fl__vision_err(
				err, errlen,
				"close-up: box %.0f,%.0f %.0fx%.0f outside the "
				"%dx%d image",
				box[0], box[1], box[2], box[3], w, h);
			return FL_EINVAL;
		}
		int x0 = (int)std::floor(fx0), y0 = (int)std::floor(fy0);
		int x1 = (int)std::ceil(fx1), y1 = (int)std::ceil(fy1);
		cv::Mat img(h, w, CV_8UC3, const_cast<uint8_t *>(bgr),
			    (size_t)w * 3);
		cv::Mat crop = img(cv::Rect(x0, y0, x1 - x0, y1 - y0));

		int longer = std::max(crop.cols, crop.rows);
		int target = longer;
		if (target > max_side)
			target = max_side;
		else if (target < kCloseupMinSide)
			target = std::min(kCloseupMinSide, max_side);
		double s = (double)target / longer;
		int ow = std::max(1, (int)std::lround(crop.cols * s));
		int oh = std::max(1, (int)std::lround(crop.rows * s));
		cv::Mat scaled(oh, ow, CV_8UC3);
		scale_to(crop, scaled);

		if (plate && std::isfinite(plate->x) &&
		    std::isfinite(plate->y) && plate->w > 0 && plate->h > 0 &&
		    plate->w < 1e6 && plate->h < 1e6 &&
		    std::fabs(plate->x) < 1e6 && std::fabs(plate->y) < 1e6) {
			int t = std::max(2,
					 std::min(4, std::max(ow, oh) / 240));
			cv::Point p0((int)std::lround((plate->x - x0) * s),
				     (int)std::lround((plate->y - y0) * s));
			cv::Point p1((int)std::lround(
					     (plate->x + plate->w - x0) * s),
				     (int)std::lround(
					     (plate->y + plate->h - y0) * s));
			/* yellow: stands out on white, yellow-on-blue and
			 * black plates alike with a dark outline */
			cv::rectangle(scaled, p0, p1, cv::Scalar(0, 0, 0),
				      t + 2, cv::LINE_AA);
			cv::rectangle(scaled, p0, p1, cv::Scalar(0, 230, 255),
				      t, cv::LINE_AA);
		}
		return to_image(scaled, out, "close-up", err, errlen);
	} catch (...) {
		return failed("close-up", err, errlen);
	}
}

/*
 * Layout: scenes in cells of height H (row, or 2x2 grid), close-up to the
 * right at the block's height, gaps between, then one overall downscale to
 * max_w.
 */
int fl_evidence_composite(const fl_image *scenes, int n,
			  const fl_image *closeup, int max_w, fl_image *out,
			  char *err, size_t errlen)
{
	if (out) {
		out->bgr = nullptr;
		out->w = out->h = 0;
	}
	if (max_w == 0)
		max_w = 3840;
	if (!out || !scenes || n < 1 || n > 4 || !closeup ||
	    !image_ok(closeup->bgr, closeup->w, closeup->h) || max_w < 320) {
		fl__vision_err(err, errlen,
			       "composite: bad arguments (n %d, max_w %d)", n,
			       max_w);
		return FL_EINVAL;
	}
	for (int i = 0; i < n; i++)
		if (!image_ok(scenes[i].bgr, scenes[i].w, scenes[i].h)) {
			fl__vision_err(
				err, errlen,
				"composite: scene %d is empty or too large", i);
			return FL_EINVAL;
		}
	try {
		int H = 1080;
		for (int i = 0; i < n; i++)
			H = std::min(H, scenes[i].h);
		int cols = n <= 2 ? n : 2, rows = n <= 2 ? 1 : 2;
		std::vector<int> sw(n);
		for (int i = 0; i < n; i++)
			sw[i] = std::max(1,
					 (int)std::lround((double)scenes[i].w *
							  H / scenes[i].h));
		/* column widths: widest cell in each column */
		std::vector<int> colw(cols, 0);
		for (int i = 0; i < n; i++)
			colw[i % cols] = std::max(colw[i % cols], sw[i]);
		int block_w = (cols - 1) * kGap,
		    block_h = rows * H + (rows - 1) * kGap;
		for (int c = 0; c < cols; c++)
			block_w += colw[c];

		/* close-up at the block's height, at most 2x enlarged */
		double cs = std::min(2.0, (double)block_h / closeup->h);
		int cw = std::max(1, (int)std::lround(closeup->w * cs));
		int ch = std::max(1, (int)std::lround(closeup->h * cs));

		int W = block_w + kGap + cw, Hh = block_h;
		if ((long long)W * Hh > kMaxPixels) {
			fl__vision_err(err, errlen,
				       "composite: too large (%dx%d)", W, Hh);
			return FL_EINVAL;
		}
		cv::Mat canvas(Hh, W, CV_8UC3, cv::Scalar(0, 0, 0));
		/* gaps */
		for (int c = 1; c < cols; c++) {
			int gx = 0;
			for (int k = 0; k < c; k++)
				gx += colw[k] + kGap;
			canvas(cv::Rect(gx - kGap, 0, kGap, Hh)) = kGapColour;
		}
		if (rows == 2)
			canvas(cv::Rect(0, H, block_w, kGap)) = kGapColour;
		canvas(cv::Rect(block_w, 0, kGap, Hh)) = kGapColour;

		for (int i = 0; i < n; i++) {
			int c = i % cols, r = i / cols, x = 0;
			for (int k = 0; k < c; k++)
				x += colw[k] + kGap;
			/* centre a narrower scene in its column */
			x += (colw[c] - sw[i]) / 2;
			cv::Mat cell = canvas(
				cv::Rect(x, r * (H + kGap), sw[i], H));
			scale_to(wrap(&scenes[i]), cell);
		}
		cv::Mat cell = canvas(
			cv::Rect(block_w + kGap, (Hh - ch) / 2, cw, ch));
		scale_to(wrap(closeup), cell);

		if (W > max_w) {
			int oh = std::max(1, (int)std::lround((double)Hh *
							      max_w / W));
			cv::Mat small(oh, max_w, CV_8UC3);
			cv::resize(canvas, small, small.size(), 0, 0,
				   cv::INTER_AREA);
			return to_image(small, out, "composite", err, errlen);
		}
		return to_image(canvas, out, "composite", err, errlen);
	} catch (...) {
		return failed("composite", err, errlen);
	}
}
