/*
 * detect.cpp - what is standing there? A COCO detector (cv::dnn) and a
 * model-free people detector (HOG), behind vision.h.
 *
 * A note on decoding. We run cv::dnn::Net ourselves instead of using
 * cv::dnn::DetectionModel, because DetectionModel in OpenCV 4.6 only decodes
 * Darknet "Region" outputs and SSD-style [1,1,N,7] tensors; decoding by hand
 * lets one code path read three layouts, told apart by shape:
 *
 *   Darknet YOLO   2-D [N, 5+80] per yolo layer; cx, cy, w, h normalised to
 *                  0..1; column 4 objectness; columns 5.. are already
 *                  objectness * class probability (OpenCV's region layer).
 *   YOLOv5 ONNX    3-D [1, N, 5+80]; cx, cy, w, h in input pixels; class
 *                  scores still need multiplying by objectness.
 *   YOLOv8 ONNX    3-D [1, 4+80, N] (transposed); input pixels; no
 *                  objectness.
 *
 * Anything else is FL_EUNSUPPORTED, found during create's warm-up run so a
 * bad model fails at start-up, not at the first incident. Scores pass the
 * threshold, then NMS runs per COCO class (IoU 0.45): a van called both "car"
 * and "truck" keeps both boxes, which is harmless because both map to
 * VEHICLE, while a person in front of a car is never suppressed by it.
 *
 * A note on the roi. The caller usually asks about a candidate blob from the
 * per-pixel models, which is tight around the object. Detectors need context,
 * so the roi grows by 25% of its size on each side (clamped to the image)
 * before cropping; the crop is stretched to the network input (no letterbox:
 * the model copes with mild aspect change, and a letterbox would waste input
 * pixels on a 320x320 budget). Boxes are mapped back to full-image pixels.
 * A Darknet YOLO is fully convolutional and OpenCV's region layer normalises
 * by the actual input size, so a small roi runs at a smaller square input
 * (1.5x the crop's longer side, multiple of 32, at least 160): a 74x58 van
 * crop runs at 192x192 instead of 320x320, roughly half the cost, and still
 * upscales the object. ONNX exports usually have a fixed input shape, so
 * they always run at their own size.
 *
 * Threads: create calls cv::setNumThreads(1). The device gives analysis one
 * core; OpenCV's pool would otherwise spread every forward pass over all of
 * them and steal time from capture and encoding. It is process-wide, which is
 * what we want in firelane-edge.
 *
 * Exceptions: every extern "C" function body is wrapped in try/catch(...);
 * cv::Exception and std::bad_alloc become fl_errno codes plus a log line.
 */
#include "internal.h"
#include "vision.h"

extern "C" {
#include "fl.h"
}

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

struct fl_detector {
	cv::dnn::Net net;
	std::vector<std::string> out_names;
	cv::Size input; /* network input size */
	bool resizable; /* Darknet: any multiple of 32 works (see roi note) */
	float conf;     /* score threshold */
	std::string path;
};

struct fl_people {
	cv::HOGDescriptor hog;
};

namespace
{

constexpr float kNmsIou = 0.45f;
constexpr int kCocoClasses = 80;
constexpr double kRoiGrow = 0.25;     /* per side, fraction of roi size */
constexpr double kHogMinRoiH = 160.0; /* upscale roi crops to this height */
constexpr double kHogMaxUpscale = 4.0;
constexpr int kRoiMinInput = 160; /* smallest roi network input */

bool file_exists(const std::string &p)
{
	struct stat st;

	return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool ends_with_ci(const std::string &s, const char *suffix)
{
	size_t n = strlen(suffix);

	if (s.size() < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = s[s.size() - n + i], b = suffix[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* Read width= and height= from a Darknet cfg's [net] section. Leaves size
 * untouched when absent (the caller's default stands). Returns false when the
 * file cannot be read at all. */
bool darknet_input_size(const std::string &cfg, cv::Size *size)
{
	std::ifstream in(cfg);
	std::string line;
	bool in_net = false;

	if (!in)
		return false;
	while (std::getline(in, line)) {
		std::string s;
		for (char c : line)
			if (c != ' ' && c != '\t' && c != '\r')
				s += c;
		if (s.empty() || s[0] == '#' || s[0] == ';')
			continue;
		if (s[0] == '[') {
			if (in_net)
				break; /* [net] is first; done */
			in_net = (s == "[net]" || s == "[network]");
			continue;
		}
		if (!in_net)
			continue;
		if (s.rfind("width=", 0) == 0)
			size->width = atoi(s.c_str() + 6);
		else if (s.rfind("height=", 0) == 0)
			size->height = atoi(s.c_str() + 7);
	}
	return true;
}

/* Grow roi (x, y, w, h) by kRoiGrow per side and clamp to a w x h image.
 * An empty result (roi outside the image, or non-positive size) is empty. */
cv::Rect expand_roi(const double *roi, int w, int h)
{
	if (!roi || !(roi[2] > 0) || !(roi[3] > 0) || !std::isfinite(roi[0]) ||
	    !std::isfinite(roi[1]) || !std::isfinite(roi[2]) ||
	    !std::isfinite(roi[3]))
		return cv::Rect();
	double x0 = roi[0] - kRoiGrow * roi[2];
	double y0 = roi[1] - kRoiGrow * roi[3];
	double x1 = roi[0] + roi[2] * (1.0 + kRoiGrow);
	double y1 = roi[1] + roi[3] * (1.0 + kRoiGrow);
	x0 = std::max(0.0, std::floor(x0));
	y0 = std::max(0.0, std::floor(y0));
	x1 = std::min((double)w, std::ceil(x1));
	y1 = std::min((double)h, std::ceil(y1));
	if (x1 <= x0 || y1 <= y0)
		return cv::Rect();
	return cv::Rect((int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0));
}

/* Clip a box to [0,w) x [0,h); false when nothing is left. */
bool clip_box(fl_detection *b, int w, int h)
{
	double x0 = std::max(0.0, b->x), y0 = std::max(0.0, b->y);
	double x1 = std::min((double)w, b->x + b->w);
	double y1 = std::min((double)h, b->y + b->h);

	if (x1 <= x0 || y1 <= y0)
		return false;
	b->x = x0;
	b->y = y0;
	b->w = x1 - x0;
	b->h = y1 - y0;
	return true;
}

/* Sort best first, copy up to max into out; returns the count written. */
int emit(std::vector<fl_detection> &v, fl_detection *out, int max)
{
	std::stable_sort(v.begin(), v.end(),
			 [](const fl_detection &a, const fl_detection &b) {
				 return a.conf > b.conf;
			 });
	int n = (int)std::min(v.size(), (size_t)std::max(max, 0));
	for (int i = 0; i < n; i++)
		out[i] = v[i];
	return n;
}

/* One candidate before NMS, in crop pixels. */
struct cand {
	cv::Rect2d box;
	float score;
	int cls;
};

/* Decode one output blob into candidates above thr. in: network input size;
 * crop: the crop's size (boxes are scaled from input/normalised to crop
 * pixels). Returns 0 or FL_EUNSUPPORTED for a layout we do not know. */
int decode(const cv::Mat &m, cv::Size in, cv::Size crop, float thr,
	   std::vector<cand> &cands)
{
	const int stride = 5 + kCocoClasses;

	if (m.dims == 2 && m.cols == stride && m.type() == CV_32F) {
		/* Darknet region output: normalised, scores premultiplied. */
		for (int r = 0; r < m.rows; r++) {
			const float *p = m.ptr<float>(r);
			const float *s = p + 5;
			int c = (int)(std::max_element(s, s + kCocoClasses) - s);
			if (s[c] < thr)
				continue;
			double bw = p[2] * crop.width, bh = p[3] * crop.height;
			cands.push_back({ cv::Rect2d(p[0] * crop.width - bw / 2,
						     p[1] * crop.height - bh / 2,
						     bw, bh),
					  s[c], c });
		}
		return 0;
	}
	if (m.dims == 3 && m.size[0] == 1 && m.type() == CV_32F) {
		double sx = (double)crop.width / in.width;
		double sy = (double)crop.height / in.height;
		bool v5 = m.size[2] == stride;
		bool v8 = !v5 && m.size[1] == 4 + kCocoClasses;
		if (!v5 && !v8)
			return FL_EUNSUPPORTED;
		int n = v5 ? m.size[1] : m.size[2];
		const float *base = m.ptr<float>();
		for (int i = 0; i < n; i++) {
			float f[4];
			float best = 0.0f;
			int c = 0;
			if (v5) {
				const float *p = base + (size_t)i * stride;
				for (int k = 0; k < 4; k++)
					f[k] = p[k];
				for (int k = 0; k < kCocoClasses; k++)
					if (p[5 + k] > best) {
						best = p[5 + k];
						c = k;
					}
				best *= p[4];
			} else {
				/* column i of a [84, n] matrix */
				for (int k = 0; k < 4; k++)
					f[k] = base[(size_t)k * n + i];
				for (int k = 0; k < kCocoClasses; k++) {
					float s = base[(size_t)(4 + k) * n + i];
					if (s > best) {
						best = s;
						c = k;
					}
				}
			}
			if (best < thr)
				continue;
			double bw = f[2] * sx, bh = f[3] * sy;
			cands.push_back({ cv::Rect2d(f[0] * sx - bw / 2,
						     f[1] * sy - bh / 2, bw, bh),
					  best, c });
		}
		return 0;
	}
	return FL_EUNSUPPORTED;
}

/* Describe a blob's shape for a log line ("2x85", "1x84x8400"). */
std::string shape_str(const cv::Mat &m)
{
	std::string s;

	for (int i = 0; i < m.dims; i++) {
		if (i)
			s += "x";
		s += std::to_string(m.size[i]);
	}
	return s;
}

/* Forward crop through d's net and append mapped, NMS'd detections (in crop
 * pixels offset by off) to res. Returns 0 or a negative fl_errno. */
int infer(fl_detector *d, const cv::Mat &crop, cv::Size input, cv::Point off,
	  std::vector<fl_detection> &res)
{
	cv::Mat blob = cv::dnn::blobFromImage(crop, 1.0 / 255.0, input,
					      cv::Scalar(), true, false);
	std::vector<cv::Mat> outs;
	std::vector<cand> cands;

	d->net.setInput(blob);
	d->net.forward(outs, d->out_names);
	for (const cv::Mat &m : outs) {
		int rc = decode(m, input, crop.size(), d->conf, cands);
		if (rc < 0) {
			fl_log(FL_LOG_ERROR, "vision",
			       "%s: unsupported output shape %s (want Nx85, "
			       "1xNx85 or 1x84xN)",
			       d->path.c_str(), shape_str(m).c_str());
			return rc;
		}
	}

	/* NMS per class: group candidates by class, suppress within. */
	std::vector<int> classes;
	for (const cand &c : cands)
		classes.push_back(c.cls);
	std::sort(classes.begin(), classes.end());
	classes.erase(std::unique(classes.begin(), classes.end()),
		      classes.end());
	for (int cls : classes) {
		std::vector<cv::Rect2d> boxes;
		std::vector<float> scores;
		std::vector<int> keep;
		for (const cand &c : cands)
			if (c.cls == cls) {
				boxes.push_back(c.box);
				scores.push_back(c.score);
			}
		cv::dnn::NMSBoxes(boxes, scores, d->conf, kNmsIou, keep);
		for (int k : keep) {
			fl_detection det;
			det.x = boxes[k].x + off.x;
			det.y = boxes[k].y + off.y;
			det.w = boxes[k].width;
			det.h = boxes[k].height;
			det.conf = scores[k];
			det.coco_id = cls;
			det.vclass = fl_vclass_from_coco(cls);
			res.push_back(det);
		}
	}
	return 0;
}

/* Network input for a crop of size c. Full-size input for whole frames and
 * for fixed-shape (ONNX) models; a small Darknet roi runs at 1.5x its longer
 * side rounded up to a multiple of 32, between kRoiMinInput and the model's
 * own size, square. */
cv::Size roi_input(const fl_detector *d, cv::Size c)
{
	int side = (int)std::ceil(std::max(c.width, c.height) * 1.5);

	if (!d->resizable)
		return d->input;
	side = (side + 31) / 32 * 32;
	side = std::max(side, kRoiMinInput);
	if (side >= d->input.width || side >= d->input.height)
		return d->input;
	return cv::Size(side, side);
}

/* Shared argument check for the run calls. */
bool image_ok(const uint8_t *px, int w, int h, fl_detection *out, int max)
{
	return px && w > 0 && h > 0 && max >= 0 && (out || max == 0) &&
	       (long long)w * h <= (1LL << 28);
}

} // namespace

/* ---- classes ---------------------------------------------------------- */

/* COCO-80 indices: 0 person, 1 bicycle, 2 car, 3 motorbike, 5 bus, 6 train,
 * 7 truck. */
int fl_vclass_from_coco(int coco_id)
{
	switch (coco_id) {
	case 0:
		return FL_VCLASS_PERSON;
	case 1:
	case 2:
	case 3:
	case 5:
	case 6:
	case 7:
		return FL_VCLASS_VEHICLE;
	default:
		return FL_VCLASS_OTHER;
	}
}

const char *fl_vclass_name(int vclass)
{
	switch (vclass) {
	case FL_VCLASS_VEHICLE:
		return "vehicle";
	case FL_VCLASS_PERSON:
		return "person";
	default:
		return "other";
	}
}

/* ---- detector --------------------------------------------------------- */

/* Resolve the model files, load the net, and run one warm-up inference on a
 * gray image to validate the output layout. Owns nothing on failure. */
fl_detector *fl_detector_create(const char *path, double conf, char *err,
				size_t errlen)
{
	fl_detector *d = nullptr;

	fl__vision_err(err, errlen, "unknown error");
	if (!path || !*path) {
		fl__vision_err(err, errlen, "(null): no model path");
		return nullptr;
	}
	if (!(conf > 0.0 && conf <= 1.0)) {
		fl__vision_err(err, errlen, "%s: confidence %g outside (0,1]",
			       path, conf);
		return nullptr;
	}
	try {
		std::string p(path);
		cv::setNumThreads(1);
		d = new fl_detector();
		d->path = p;
		d->conf = (float)conf;
		if (ends_with_ci(p, ".cfg") || ends_with_ci(p, ".weights")) {
			bool is_cfg = ends_with_ci(p, ".cfg");
			std::string stem = p.substr(0, p.size() - (is_cfg ? 4
									  : 8));
			std::string cfg = stem + ".cfg";
			std::string weights = stem + ".weights";
			if (!file_exists(cfg)) {
				fl__vision_err(err, errlen,
					       "%s: no such file%s%s", path,
					       is_cfg ? "" : " (looked for ",
					       is_cfg ? ""
						      : (cfg + ")").c_str());
				goto fail;
			}
			if (!file_exists(weights)) {
				fl__vision_err(
					err, errlen,
					"%s: weights %s not found (a Darknet "
					"cfg needs its .weights beside it)",
					path, weights.c_str());
				goto fail;
			}
			d->input = cv::Size(416, 416);
			d->resizable = true;
			darknet_input_size(cfg, &d->input);
			d->net = cv::dnn::readNetFromDarknet(cfg, weights);
		} else if (ends_with_ci(p, ".onnx")) {
			if (!file_exists(p)) {
				fl__vision_err(err, errlen, "%s: no such file",
					       path);
				goto fail;
			}
			d->input = cv::Size(640, 640);
			d->net = cv::dnn::readNetFromONNX(p);
		} else {
			fl__vision_err(err, errlen,
				       "%s: unsupported model type (want .cfg, "
				       ".weights or .onnx)",
				       path);
			goto fail;
		}
		if (d->net.empty()) {
			fl__vision_err(err, errlen,
				       "%s: OpenCV loaded an empty network",
				       path);
			goto fail;
		}
		if (d->input.width < 32 || d->input.height < 32 ||
		    d->input.width > 4096 || d->input.height > 4096) {
			fl__vision_err(err, errlen, "%s: bad input size %dx%d",
				       path, d->input.width, d->input.height);
			goto fail;
		}
		d->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
		d->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
		d->out_names = d->net.getUnconnectedOutLayersNames();

		/* Warm-up: allocates the net's buffers and proves we can
		 * decode what it produces. */
		{
			cv::Mat gray(d->input, CV_8UC3,
				     cv::Scalar(114, 114, 114));
			std::vector<fl_detection> res;
			if (infer(d, gray, d->input, cv::Point(0, 0), res) < 0) {
				fl__vision_err(
					err, errlen,
					"%s: unsupported output layout (%s)",
					path, fl_strerror(FL_EUNSUPPORTED));
				goto fail;
			}
		}
		fl_log(FL_LOG_INFO, "vision",
		       "loaded %s: input %dx%d, %zu output layer(s), conf %.2f",
		       path, d->input.width, d->input.height,
		       d->out_names.size(), conf);
		fl__vision_err(err, errlen, "ok");
		return d;
	} catch (const cv::Exception &e) {
		/* e.what() is long and multi-line; err_msg is the reason. */
		std::string msg = e.err;
		std::replace(msg.begin(), msg.end(), '\n', ' ');
		fl__vision_err(err, errlen,
			       "%s: OpenCV cannot load the model: %s", path,
			       msg.c_str());
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen, "%s: out of memory", path);
	} catch (...) {
		fl__vision_err(err, errlen,
			       "%s: unexpected error loading the model", path);
	}
fail:
	delete d;
	return nullptr;
}

/* Wrap the caller's BGR buffer (no copy), crop the expanded roi, infer, map
 * back, clip, rank. */
int fl_detector_run(fl_detector *d, const uint8_t *bgr, int w, int h,
		    const double *roi, fl_detection *out, int max)
{
	if (!d || !image_ok(bgr, w, h, out, max))
		return FL_EINVAL;
	try {
		cv::Mat img(h, w, CV_8UC3, const_cast<uint8_t *>(bgr),
			    (size_t)w * 3);
		cv::Rect r(0, 0, w, h);
		if (roi) {
			r = expand_roi(roi, w, h);
			if (r.empty())
				return FL_EINVAL;
		}
		std::vector<fl_detection> res;
		int rc = infer(d, img(r), roi_input(d, r.size()), r.tl(), res);
		if (rc < 0)
			return rc;
		std::vector<fl_detection> kept;
		for (fl_detection &b : res)
			if (clip_box(&b, w, h))
				kept.push_back(b);
		return emit(kept, out, max);
	} catch (const std::bad_alloc &) {
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl_log(FL_LOG_ERROR, "vision", "%s: inference failed: %s",
		       d->path.c_str(), e.err.c_str());
		return FL_EIO;
	} catch (...) {
		fl_log(FL_LOG_ERROR, "vision", "%s: inference failed",
		       d->path.c_str());
		return FL_EIO;
	}
}

void fl_detector_input_size(const fl_detector *d, int *w, int *h)
{
	if (w)
		*w = d ? d->input.width : 0;
	if (h)
		*h = d ? d->input.height : 0;
}

void fl_detector_destroy(fl_detector *d)
{
	try {
		delete d;
	} catch (...) {
		/* destructors of cv::dnn::Net do not throw; belt and braces */
	}
}

/* ---- people (HOG) ----------------------------------------------------- */

fl_people *fl_people_create(char *err, size_t errlen)
{
	fl_people *p = nullptr;

	try {
		p = new fl_people();
		p->hog.setSVMDetector(
			cv::HOGDescriptor::getDefaultPeopleDetector());
		fl__vision_err(err, errlen, "ok");
		return p;
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen,
			       "HOG people detector: out of memory");
	} catch (const cv::Exception &e) {
		fl__vision_err(err, errlen, "HOG people detector: %s",
			       e.err.c_str());
	} catch (...) {
		fl__vision_err(err, errlen,
			       "HOG people detector: unexpected error");
	}
	delete p;
	return nullptr;
}

/* Crop (and for a roi, upscale) the gray plane, run detectMultiScale with
 * OpenCV's usual people settings, map boxes back to image pixels. */
int fl_people_run(fl_people *p, const uint8_t *gray, int w, int h, int stride,
		  const double *roi, fl_detection *out, int max)
{
	if (!p || !image_ok(gray, w, h, out, max) || stride < w)
		return FL_EINVAL;
	try {
		cv::Mat img(h, w, CV_8UC1, const_cast<uint8_t *>(gray),
			    (size_t)stride);
		cv::Rect r(0, 0, w, h);
		double scale = 1.0;
		if (roi) {
			r = expand_roi(roi, w, h);
			if (r.empty())
				return FL_EINVAL;
			/* 64x128 windows: a small person needs enlarging */
			scale = std::min(kHogMaxUpscale,
					 std::max(1.0, kHogMinRoiH / roi[3]));
		}
		cv::Mat crop = img(r);
		if (scale > 1.0)
			cv::resize(img(r), crop, cv::Size(), scale, scale,
				   cv::INTER_LINEAR);
		std::vector<fl_detection> res;
		if (crop.cols >= p->hog.winSize.width &&
		    crop.rows >= p->hog.winSize.height) {
			std::vector<cv::Rect> found;
			std::vector<double> weights;
			p->hog.detectMultiScale(crop, found, weights, 0.0,
						cv::Size(8, 8), cv::Size(8, 8),
						1.05, 2.0, false);
			for (size_t i = 0; i < found.size(); i++) {
				/* The 64x128 window has margins round the
				 * person; shrink as OpenCV's peopledetect
				 * sample does so the box hugs the body. */
				const cv::Rect &f = found[i];
				fl_detection det;
				det.x = (f.x + 0.1 * f.width) / scale + r.x;
				det.y = (f.y + 0.07 * f.height) / scale + r.y;
				det.w = 0.8 * f.width / scale;
				det.h = 0.8 * f.height / scale;
				det.conf = i < weights.size() ? weights[i]
							      : 0.0;
				det.vclass = FL_VCLASS_PERSON;
				det.coco_id = -1;
				if (clip_box(&det, w, h))
					res.push_back(det);
			}
		}
		return emit(res, out, max);
	} catch (const std::bad_alloc &) {
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl_log(FL_LOG_ERROR, "vision", "HOG failed: %s", e.err.c_str());
		return FL_EIO;
	} catch (...) {
		fl_log(FL_LOG_ERROR, "vision", "HOG failed");
		return FL_EIO;
	}
}

void fl_people_destroy(fl_people *p)
{
	try {
		delete p;
	} catch (...) {
	}
}
