/*
 * plate.cpp - licence-plate localisation without a trained cascade, behind
 * vision.h (fl_plate_find).
 *
 * A note on the method. A plate is a short row of high-contrast characters
 * on a flat background: seen through a horizontal gradient it is a dense
 * cluster of strong vertical edges, a few pixels apart, in a box 2..6 times
 * wider than tall. Little else on a car looks like that at the same time
 * (a grille has vertical edges but weak contrast and regular bars; a
 * headlamp is bright but has few edges; a dealer sticker is text but rarely
 * the right shape). So:
 *
 *   1. gray, Sobel x, keep the strong edges (Otsu on the gradient, with a
 *      floor so a flat image has none);
 *   2. close horizontally so a plate's characters merge into one blob,
 *      open to drop thin lines and isolated specks;
 *   3. take each blob's bounding box with a plate-like aspect and a size
 *      plausible for the roi;
 *   4. score it: edge density, gray contrast, and the number of dark/light
 *      transitions along its middle rows (characters are 5..8 strokes
 *      pairs; a grille or a bumper edge gives far fewer or far more);
 *   5. grow the characters' box to the plate's (the plate has a border
 *      and room above and below the characters), suppress overlaps, and
 *      return the best.
 *
 * Steps 1-3 run at two or three scales (a pyramid of the roi) so one kernel
 * suits plates from ~40 px to the roi's width. Deterministic, no model
 * files, no openalpr cascades (AGPL). How well it does is measured by
 * firelane-plates on the openalpr benchmark images; see docs/plates.md.
 *
 * Exceptions never leave: the entry point catches everything.
 */
#include "vision.h"

extern "C" {
#include "fl.h"
}

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <new>
#include <vector>

namespace {

struct cand {
	cv::Rect2d r;	/* in roi pixels (full resolution) */
	double score;
};

double iou(const cv::Rect2d &a, const cv::Rect2d &b)
{
	double in = (a & b).area();
	double un = a.area() + b.area() - in;
	return un > 0 ? in / un : 0.0;
}

/* Number of dark/light transitions along row y of a binary plate crop. */
int transitions(const cv::Mat &bin, int y)
{
	const uchar *p = bin.ptr(y);
	int n = 0;
	for (int x = 1; x < bin.cols; x++)
		n += (p[x] != p[x - 1]);
	return n;
}

/*
 * Score a candidate box (working-scale pixels) on the gray and edge planes.
 * Returns 0 for a box that is clearly not a plate.
 */
double score_box(const cv::Mat &gray, const cv::Mat &edges, cv::Rect r)
{
	cv::Mat g = gray(r), e = edges(r);
	cv::Scalar mean, sd;
	cv::meanStdDev(g, mean, sd);
	double contrast = sd[0];
	if (contrast < 18.0)
		return 0.0;
	double density = (double)cv::countNonZero(e) / r.area();

	cv::Mat bin;
	cv::threshold(g, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
	std::vector<int> tr;
	for (int k = 3; k <= 7; k++)
		tr.push_back(transitions(bin, std::min(r.height - 1,
						       r.height * k / 10)));
	std::sort(tr.begin(), tr.end());
	int t = tr[tr.size() / 2];
	/* 4..9 characters: 8..18 transitions; allow some slack */
	double s_tr;
	if (t < 6)
		return 0.0;
	else if (t <= 24)
		s_tr = 1.0;
	else
		s_tr = std::max(0.0, 1.0 - (t - 24) / 20.0);
	double s_den = std::min(1.0, density / 0.35);
	double s_con = std::min(1.0, contrast / 60.0);
	return s_tr * (0.5 * s_den + 0.5 * s_con);
}

/* Steps 1-4 at one scale: candidates in working pixels, times 1/scale. */
void find_at_scale(const cv::Mat &gray, double scale, std::vector<cand> &out)
{
	cv::Mat g;
	if (scale != 1.0)
		cv::resize(gray, g, cv::Size(), scale, scale, cv::INTER_AREA);
	else
		g = gray;
	if (g.cols < 24 || g.rows < 12)
		return;

	cv::Mat gx, mag, edges;
	cv::Sobel(g, gx, CV_16S, 1, 0, 3);
	cv::convertScaleAbs(gx, mag);
	double otsu = cv::threshold(mag, edges, 0, 255,
				    cv::THRESH_BINARY | cv::THRESH_OTSU);
	if (otsu < 40.0)
		cv::threshold(mag, edges, 40.0, 255, cv::THRESH_BINARY);

	cv::Mat blob;
	cv::morphologyEx(edges, blob, cv::MORPH_CLOSE,
			 cv::getStructuringElement(cv::MORPH_RECT,
						   cv::Size(17, 3)));
	cv::morphologyEx(blob, blob, cv::MORPH_OPEN,
			 cv::getStructuringElement(cv::MORPH_RECT,
						   cv::Size(5, 5)));

	std::vector<std::vector<cv::Point>> contours;
	cv::findContours(blob, contours, cv::RETR_EXTERNAL,
			 cv::CHAIN_APPROX_SIMPLE);
	for (const auto &c : contours) {
		cv::Rect r = cv::boundingRect(c);
		if (r.height < 8 || r.width < 24)
			continue;
		double asp = (double)r.width / r.height;
		if (asp < 1.5 || asp > 7.0)
			continue;
		if (r.width > g.cols * 0.9 || r.height > g.rows * 0.5)
			continue;
		double s = score_box(g, edges, r);
		if (s <= 0.05)
			continue;
		/* characters' box -> plate box */
		double gx0 = r.x - r.width * 0.08, gy0 = r.y - r.height * 0.25;
		double gw = r.width * 1.16, gh = r.height * 1.5;
		out.push_back({cv::Rect2d(gx0 / scale, gy0 / scale, gw / scale,
					  gh / scale), s});
	}
}

}  // namespace

int fl_plate_find(const uint8_t *bgr, int w, int h, const double *roi,
		  fl_plate *out, int max)
{
	if (!bgr || w <= 0 || h <= 0 || (long long)w * h > (1LL << 28) ||
	    max < 0 || (max > 0 && !out))
		return FL_EINVAL;
	if (max == 0)
		return 0;
	try {
		cv::Rect2d full(0, 0, w, h), want = full;
		if (roi) {
			if (!std::isfinite(roi[0]) || !std::isfinite(roi[1]) ||
			    !std::isfinite(roi[2]) || !std::isfinite(roi[3]))
				return FL_EINVAL;
			want = cv::Rect2d(roi[0], roi[1], roi[2], roi[3]) & full;
		}
		int x0 = (int)std::floor(want.x), y0 = (int)std::floor(want.y);
		int x1 = (int)std::ceil(want.x + want.width);
		int y1 = (int)std::ceil(want.y + want.height);
		if (x1 - x0 < 16 || y1 - y0 < 8)
			return FL_EINVAL;
		cv::Mat img(h, w, CV_8UC3, const_cast<uint8_t *>(bgr),
			    (size_t)w * 3);
		cv::Mat gray;
		cv::cvtColor(img(cv::Rect(x0, y0, x1 - x0, y1 - y0)), gray,
			     cv::COLOR_BGR2GRAY);

		double base = std::min(1.0, 1280.0 / std::max(gray.cols,
							      gray.rows));
		std::vector<cand> cands;
		for (double s = base; s * std::max(gray.cols, gray.rows) >= 64;
		     s *= 0.6)
			find_at_scale(gray, s, cands);

		std::sort(cands.begin(), cands.end(),
			  [](const cand &a, const cand &b) {
				  return a.score > b.score;
			  });
		std::vector<cand> keep;
		for (const auto &c : cands) {
			bool dup = false;
			for (const auto &k : keep)
				if (iou(c.r, k.r) > 0.3) {
					dup = true;
					break;
				}
			if (!dup)
				keep.push_back(c);
			if ((int)keep.size() >= max)
				break;
		}
		cv::Rect2d crop(0, 0, x1 - x0, y1 - y0);
		int n = 0;
		for (const auto &k : keep) {
			cv::Rect2d r = k.r & crop;
			if (r.area() <= 0)
				continue;
			out[n].x = r.x + x0;
			out[n].y = r.y + y0;
			out[n].w = r.width;
			out[n].h = r.height;
			out[n].score = k.score;
			n++;
		}
		return n;
	} catch (const std::bad_alloc &) {
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl_log(FL_LOG_WARN, "vision", "plate find: %s", e.what());
		return FL_EIO;
	} catch (...) {
		return FL_EIO;
	}
}
