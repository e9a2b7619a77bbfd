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
 *   3. take each blob's bounding box, trim it to the rows and columns
 *      where the edges are dense (blobs merge with bumper edges and
 *      screws), keep it if it has a plate-like aspect and a size
 *      plausible for the roi;
 *   4. score it: the number of character-like connected components, the
 *      dark/light transitions along its middle rows (4..9 characters give
 *      8..24; a grille or a bumper edge far fewer or far more), edge
 *      density, gray contrast, and isolation (the edges thin out round a
 *      plate);
 *   5. grow the characters' box to the plate's (the plate has a border
 *      and room above and below the characters), suppress overlaps, drop
 *      runners-up far below the best, and return the rest.
 *
 * Steps 1-4 run on a pyramid of the roi (the longer side capped at 1280
 * px, then 0.6x per level down to 64 px), so one 17x3 kernel suits plates
 * from about 50 px wide to most of the roi's width; each blob is tried
 * with two trims (tight, and loose enough to bridge "ABC 123").
 * Deterministic, no model files, no openalpr cascades (AGPL). How well it
 * does is measured by firelane-plates on the openalpr benchmark images;
 * see docs/plates.md.
 *
 * Exceptions never leave: the entry point catches everything.
 */
#include "internal.h"
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

namespace
{

/* Keep runners-up scoring at least this fraction of the best box. */
constexpr double kRelScore = 0.5;

struct cand {
	cv::Rect2d r; /* in roi pixels (full resolution) */
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
 * Character-like connected components in a binary crop of a box: height
 * 35..100% of the box, width at most the height and at least 1 px, not
 * touching both top and bottom edges by being a border. Counted in both
 * polarities (dark on light, light on dark); the larger count wins.
 */
int char_count(const cv::Mat &g)
{
	cv::Mat bin;
	int best = 0;

	cv::threshold(g, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
	for (int pol = 0; pol < 2; pol++) {
		if (pol)
			cv::bitwise_not(bin, bin);
		cv::Mat lab, st, cen;
		int n = cv::connectedComponentsWithStats(bin, lab, st, cen, 8,
							 CV_32S);
		int c = 0;
		for (int i = 1; i < n; i++) {
			int cw = st.at<int>(i, cv::CC_STAT_WIDTH);
			int ch = st.at<int>(i, cv::CC_STAT_HEIGHT);
			int ar = st.at<int>(i, cv::CC_STAT_AREA);
			if (ch < g.rows * 0.35 || ch >= g.rows)
				continue;
			if (cw > ch * 1.1 || cw * 8 < ch / 2)
				continue;
			if (ar < cw * ch / 8)
				continue;
			c++;
		}
		best = std::max(best, c);
	}
	return best;
}

/*
 * Score a candidate box (working-scale pixels) on the gray and edge planes,
 * in [0,1]; 0 for a box that is clearly not a plate. Four cues: the number
 * of character-like blobs, dark/light transitions along the middle rows,
 * edge density and contrast, and isolation (the edges thin out round a
 * plate; a grille or foliage continues).
 */
double score_box(const cv::Mat &gray, const cv::Mat &edges, cv::Rect r)
{
	cv::Mat g = gray(r), e = edges(r);
	cv::Scalar mean, sd;
	cv::meanStdDev(g, mean, sd);
	double contrast = sd[0];
	double density = (double)cv::countNonZero(e) / r.area();
	if (contrast < 6.0 || density < 0.05)
		return 0.0;

	cv::Mat bin;
	cv::threshold(g, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
	std::vector<int> tr;
	for (int k = 3; k <= 7; k++)
		tr.push_back(transitions(bin, std::min(r.height - 1,
						       r.height * k / 10)));
	std::sort(tr.begin(), tr.end());
	int t = tr[tr.size() / 2];
	/* 4..9 characters: 8..18 transitions; a peak with slack */
	double s_tr;
	if (t < 4)
		return 0.0;
	else if (t < 8)
		s_tr = 0.4 + 0.15 * (t - 4);
	else if (t <= 24)
		s_tr = 1.0;
	else
		s_tr = std::max(0.0, 1.0 - (t - 24) / 20.0);

	int nc = char_count(g);
	double s_ch = nc >= 4 && nc <= 10   ? 1.0
		      : nc >= 2 && nc <= 14 ? 0.6
					    : 0.25;

	cv::Rect ring(r.x - r.width / 4, r.y - r.height / 2,
		      r.width + r.width / 2, r.height * 2);
	ring &= cv::Rect(0, 0, edges.cols, edges.rows);
	double rin = (double)cv::countNonZero(edges(ring)) -
		     cv::countNonZero(e);
	double rarea = (double)ring.area() - r.area();
	double rden = rarea > 0 ? rin / rarea : 0.0;
	double s_iso = std::max(0.0, std::min(1.0, 1.0 - rden / density));

	double s_den = std::min(1.0, density / 0.5);
	double s_con = std::min(1.0, contrast / 50.0);
	double sc = s_tr * s_ch * (0.3 * s_den + 0.3 * s_con + 0.4 * s_iso);
	return sc;
}

/*
 * Shrink a blob's box to the band of rows, then of columns, where the
 * edges are dense: a plate's blob often merges with a bumper edge or a
 * frame screw. Rows: the run round the densest row where the row density
 * stays >= 40% of it. Columns: the same on a profile smoothed over about a
 * character's width, at 30%.
 */
cv::Rect trim(const cv::Mat &edges, cv::Rect r, int kdiv, float frac)
{
	cv::Mat e = edges(r);
	cv::Mat rows, cols;
	cv::reduce(e, rows, 1, cv::REDUCE_SUM, CV_32S);
	int peak = 0;
	for (int y = 1; y < r.height; y++)
		if (rows.at<int>(y) > rows.at<int>(peak))
			peak = y;
	int lim = rows.at<int>(peak) * 4 / 10;
	int y0 = peak, y1 = peak;
	while (y0 > 0 && rows.at<int>(y0 - 1) >= lim)
		y0--;
	while (y1 + 1 < r.height && rows.at<int>(y1 + 1) >= lim)
		y1++;
	cv::Rect band(r.x, r.y + y0, r.width, y1 - y0 + 1);
	cv::reduce(edges(band), cols, 0, cv::REDUCE_SUM, CV_32F);
	int k = std::max(3, band.height / kdiv) | 1;
	cv::blur(cols, cols, cv::Size(k, 1));
	int cpeak = 0;
	for (int x = 1; x < band.width; x++)
		if (cols.at<float>(x) > cols.at<float>(cpeak))
			cpeak = x;
	float clim = cols.at<float>(cpeak) * frac;
	int x0 = cpeak, x1 = cpeak;
	while (x0 > 0 && cols.at<float>(x0 - 1) >= clim)
		x0--;
	while (x1 + 1 < band.width && cols.at<float>(x1 + 1) >= clim)
		x1++;
	return cv::Rect(band.x + x0, band.y, x1 - x0 + 1, band.height);
}

/* Filter one box by shape and size, score it, and keep it as a plate
 * box in roi pixels. */
void consider(const cv::Mat &g, const cv::Mat &edges, cv::Rect r, double scale,
	      std::vector<cand> &out)
{
	if (r.height < 8 || r.width < 24)
		return;
	double asp = (double)r.width / r.height;
	if (asp < 1.5 || asp > 7.0)
		return;
	if (r.width > g.cols * 0.9 || r.height > g.rows * 0.5)
		return;
	double s = score_box(g, edges, r);
	if (s <= 0.05)
		return;
	/* characters' box -> plate box */
	double gx0 = r.x - r.width * 0.08, gy0 = r.y - r.height * 0.25;
	double gw = r.width * 1.16, gh = r.height * 1.5;
	out.push_back(
		{ cv::Rect2d(gx0 / scale, gy0 / scale, gw / scale, gh / scale),
		  s });
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
	if (otsu < 20.0)
		cv::threshold(mag, edges, 20.0, 255, cv::THRESH_BINARY);

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
		cv::Rect r0 = cv::boundingRect(c);
		if (r0.height < 8 || r0.width < 24)
			continue;
		/* two trims: a tight one (characters in one group) and a
		 * looser one that bridges the gap between groups */
		cv::Rect tr[2] = { trim(edges, r0, 2, 0.3f),
				   trim(edges, r0, 1, 0.25f) };
		for (int i = 0; i < 2; i++) {
			cv::Rect r = tr[i];
			if (i == 1 && r == tr[0])
				break;
			consider(g, edges, r, scale, out);
		}
	}
}

} // namespace

int fl_plate_find(const uint8_t *bgr, int w, int h, const double *roi,
		  fl_plate *out, int max)
{
	if (!bgr || w <= 0 || h <= 0 || (long long)w * h > (1LL << 28) ||
	    max < 0 || (max > 0 && !out))
		return FL_EINVAL;
	if (max == 0)
		return 0;
	try {
		cv::Mat gray;
		cv::Point o;
		int rc = fl__vision_gray_crop(bgr, w, h, roi, 16, 8, gray, o);
		if (rc < 0)
			return rc;
		int x0 = o.x, y0 = o.y;

		double base = std::min(1.0,
				       1280.0 / std::max(gray.cols, gray.rows));
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
			/* a runner-up far below the best is noise: it would
			 * only add a false box to the close-up */
			if (c.score < kRelScore * cands[0].score)
				break;
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
		cv::Rect2d crop(0, 0, gray.cols, gray.rows);
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
