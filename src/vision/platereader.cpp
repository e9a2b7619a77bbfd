/*
 * platereader.cpp - reading a licence plate: firelane's own small CNN with
 * CTC decoding (model/plates/plate-reader.onnx) through cv::dnn, behind
 * vision.h (fl_plate_reader_*).
 *
 * A note on the model and what this file does around it. The network is
 * trained by model/plates/train.py on plates that model/plates/render.py
 * draws (docs/plate-model.md is its card). It takes one gray 32x128 crop,
 * normalised to zero mean and unit deviation, and gives two outputs:
 *
 *   chars [1, C, 1, 32]  per step (a column band of the crop) the logits of
 *                        the CTC blank and the C - 1 symbols of kAlphabet;
 *   rows  [1, 1]         one logit: "this crop is a double-row plate".
 *
 * Reading is: crop the box, gray, stretch to 32x128, run. If the rows head
 * says double-row, the crop is split the way the renderer splits it (the
 * top row's middle beside the bottom row, each at the bottom row's height)
 * and run again; that second read is the answer. Then greedy CTC decoding:
 * the best class per step, repeats merged, blanks dropped; a character's
 * probability is the best softmax probability over the steps it spans, and
 * the read's confidence is the product of its characters' probabilities.
 * Training calibrated that product (a temperature folded into the last
 * layer) so that it estimates the chance that the whole text is exact;
 * the thresholds that kept 99% precision on the synthetic validation reads
 * are per script (fl_plate_min_conf, plate.h): Chinese reads, Chinese
 * double-row reads and Latin reads are not equally sure at the same
 * confidence (docs/plate-model.md, "Thresholds"). A text that cannot be a plate
 * (fl_plate_shape() NONE: a Chinese character where GA 36 puts none, or a
 * Latin text shorter than 4) is decoded once more without the Chinese
 * classes (see run: an EU plate's band reads as a province otherwise);
 * if that is no plate either, it gets confidence 0: it is kept for a
 * person to look at, never reported as a read.
 *
 * Threads: create calls cv::setNumThreads(1), like the detector (the edge
 * gives analysis one core). A reader holds a cv::dnn::Net, which is not
 * safe to run from two threads: one reader per thread.
 *
 * Exceptions never leave: every entry point catches everything.
 */
#include "internal.h"
#include "vision.h"

extern "C" {
#include "fl.h"
#include "plate.h"
}

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace
{

/* The network's classes after the CTC blank, in order (UTF-8). The same
 * string as model/plates/render.py's ALPHABET; create checks the count. */
const char kAlphabet[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	"京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
	"警学港澳挂使领";

constexpr int kInH = 32, kInW = 128;
/* The Latin classes: the first 36 of kAlphabet, 0-9 and A-Z. */
constexpr int kLatin = 36;

/* Double-row split, fractions of the crop (x0, y0, x1, y1): render.py's
 * SPLIT_TOP and SPLIT_BOTTOM. */
constexpr double kSplitTop[4] = { 0.12, 0.0, 0.88, 0.42 };
constexpr double kSplitBottom[4] = { 0.0, 0.34, 1.0, 1.0 };

} // namespace

struct fl_plate_reader {
	cv::dnn::Net net;
	std::vector<uint32_t> symbols; /* class k + 1 -> code point */
	std::vector<cv::String> outs;  /* "chars", "rows" */
};

namespace
{

/* The network's input blob from a gray crop: stretched to 32x128, zero
 * mean, unit deviation (train.py: normalise). */
cv::Mat blob_of(const cv::Mat &gray)
{
	cv::Mat small, f;
	cv::resize(gray, small, cv::Size(kInW, kInH), 0, 0,
		   gray.rows > kInH ? cv::INTER_AREA : cv::INTER_LINEAR);
	small.convertTo(f, CV_32F, 1.0 / 255.0);
	cv::Scalar mean, sd;
	cv::meanStdDev(f, mean, sd);
	/* torch's std is the sample deviation (n - 1) */
	double n = (double)kInW * kInH;
	double s = std::max(1e-3, sd[0] * std::sqrt(n / (n - 1)));
	f = (f - mean[0]) / s;
	int shape[4] = { 1, 1, kInH, kInW };
	return cv::Mat(4, shape, CV_32F, f.data).clone();
}

/* A double-row crop as one line (render.py: split_rows). */
cv::Mat split_rows(const cv::Mat &gray)
{
	auto part = [&](const double *fr) {
		int x0 = (int)(fr[0] * gray.cols),
		    y0 = (int)(fr[1] * gray.rows);
		int x1 = std::max(x0 + 1, (int)(fr[2] * gray.cols));
		int y1 = std::max(y0 + 1, (int)(fr[3] * gray.rows));
		return gray(cv::Rect(x0, y0, x1 - x0, y1 - y0));
	};
	cv::Mat top = part(kSplitTop), bot = part(kSplitBottom), t2, out;
	int tw = std::max(1, (int)std::lround((double)top.cols * bot.rows /
					      top.rows));
	cv::resize(top, t2, cv::Size(tw, bot.rows), 0, 0, cv::INTER_LINEAR);
	cv::hconcat(t2, bot, out);
	return out;
}

/* Greedy CTC over chars ([1, C, 1, T] logits) into out; latin_only: only
 * the blank and the classes of 0-9 and A-Z may win a step. */
void decode(const fl_plate_reader *r, const cv::Mat &chars, bool latin_only,
	    fl_plate_text *out)
{
	int C = chars.size[1], T = chars.size[3];
	const float *L = (const float *)chars.data;
	/* classes 1..kLatin are "0-9A-Z", the first of kAlphabet */
	int allowed = latin_only ? std::min(C, kLatin + 1) : C;
	uint32_t cp[FL_PLATE_MAX_CHARS];
	int n = 0, prev = 0;
	double conf = 1.0;

	std::memset(out, 0, sizeof(*out));
	for (int t = 0; t < T; t++) {
		int best = 0;
		float mx = L[t];
		for (int c = 1; c < allowed; c++)
			if (L[c * T + t] > mx) {
				mx = L[c * T + t];
				best = c;
			}
		/* the probability among all classes, so a masked decode is
		 * never surer than the model */
		double z = 0;
		for (int c = 0; c < C; c++)
			z += std::exp((double)L[c * T + t] - mx);
		float p = (float)(1.0 / z);
		if (best != 0 && best == prev && n > 0) {
			/* the same character over several steps */
			out->char_conf[n - 1] = std::max(out->char_conf[n - 1],
							 p);
		} else if (best != 0) {
			if (n == FL_PLATE_MAX_CHARS) {
				/* longer than any plate: not a plate */
				n = 0;
				break;
			}
			cp[n] = r->symbols[best - 1];
			out->char_conf[n++] = p;
		}
		prev = best;
	}
	for (int i = 0; i < n; i++)
		conf *= out->char_conf[i];
	if (n == 0 || fl_utf8_encode(cp, n, out->text, sizeof(out->text)) < 0) {
		std::memset(out, 0, sizeof(*out));
		return;
	}
	out->nchars = n;
	out->conf = conf;
	out->rows = 1;
}

/*
 * Run the net on one gray crop and decode: greedy CTC into out, and the
 * rows logit. A read with a Chinese character that fits no plate shape is
 * decoded again with the Chinese classes left out: the EU plate's blue
 * band and seals look enough like a province character or 学 to win a step
 * ("粤RK867AD"), while the letters and digits around them are right. The
 * Latin decode is kept if it has a Latin plate's shape.
 */
void run(fl_plate_reader *r, const cv::Mat &gray, fl_plate_text *out,
	 float *rows_logit)
{
	std::vector<cv::Mat> o;
	r->net.setInput(blob_of(gray));
	r->net.forward(o, r->outs);
	*rows_logit = *(const float *)o[1].data;
	decode(r, o[0], false, out);
	if (out->nchars > 0 &&
	    fl_plate_shape(out->text) == FL_PLATE_SHAPE_NONE) {
		fl_plate_text latin;
		decode(r, o[0], true, &latin);
		if (fl_plate_shape(latin.text) == FL_PLATE_SHAPE_LATIN)
			*out = latin;
	}
}

} // namespace

fl_plate_reader *fl_plate_reader_create(const char *model_path, char *err,
					size_t errlen)
{
	fl_plate_reader *r = nullptr;
	struct stat st;

	if (!model_path) {
		fl__vision_err(err, errlen, "(null): no model path");
		return nullptr;
	}
	if (stat(model_path, &st) != 0 || !S_ISREG(st.st_mode)) {
		fl__vision_err(err, errlen, "%s: no such file", model_path);
		return nullptr;
	}
	try {
		cv::setNumThreads(1);
		r = new fl_plate_reader();
		uint32_t cp[128];
		int n = fl_utf8_decode(kAlphabet, cp, 128);
		r->symbols.assign(cp, cp + n);
		r->net = cv::dnn::readNetFromONNX(model_path);
		if (r->net.empty()) {
			fl__vision_err(err, errlen,
				       "%s: OpenCV loaded an empty network",
				       model_path);
			goto fail;
		}
		r->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
		r->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
		r->outs = { "chars", "rows" };
		/* warm-up, and the shape check: a model for another alphabet
		 * or input fails here, not on the first plate */
		{
			std::vector<cv::Mat> o;
			r->net.setInput(blob_of(
				cv::Mat(kInH, kInW, CV_8U, cv::Scalar(128))));
			r->net.forward(o, r->outs);
			if (o.size() != 2 || o[0].dims != 4 ||
			    o[0].size[1] != n + 1 || o[0].size[2] != 1 ||
			    o[0].size[3] < 2 * FL_PLATE_MAX_CHARS ||
			    o[1].total() != 1) {
				fl__vision_err(err, errlen,
					       "%s: not a plate reader for "
					       "this alphabet (want outputs "
					       "chars [1,%d,1,T] and rows)",
					       model_path, n + 1);
				goto fail;
			}
		}
		fl_log(FL_LOG_INFO, "vision", "loaded plate reader %s",
		       model_path);
		fl__vision_err(err, errlen, "ok");
		return r;
	} catch (const cv::Exception &e) {
		std::string msg = e.err;
		std::replace(msg.begin(), msg.end(), '\n', ' ');
		fl__vision_err(err, errlen,
			       "%s: OpenCV cannot load the model: %s",
			       model_path, msg.c_str());
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen, "%s: out of memory", model_path);
	} catch (...) {
		fl__vision_err(err, errlen,
			       "%s: unexpected error loading the model",
			       model_path);
	}
fail:
	delete r;
	return nullptr;
}

int fl_plate_read(fl_plate_reader *r, const uint8_t *bgr, int w, int h,
		  const double *box, fl_plate_text *out)
{
	if (out)
		std::memset(out, 0, sizeof(*out));
	if (!r || !bgr || !out || w <= 0 || h <= 0 ||
	    (long long)w * h > (1LL << 28))
		return FL_EINVAL;
	try {
		cv::Mat gray;
		cv::Point origin;
		int rc = fl__vision_gray_crop(bgr, w, h, box, 8, 4, gray,
					      origin);
		if (rc < 0)
			return rc;
		float rows;
		run(r, gray, out, &rows);
		if (rows > 0.0f) {
			/* double-row plate: read the rows as one line */
			float unused;
			run(r, split_rows(gray), out, &unused);
			if (out->nchars > 0)
				out->rows = 2;
		}
		if (out->nchars > 0 &&
		    fl_plate_shape(out->text) == FL_PLATE_SHAPE_NONE)
			out->conf = 0.0;
		return 0;
	} catch (const std::bad_alloc &) {
		std::memset(out, 0, sizeof(*out));
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl_log(FL_LOG_WARN, "vision", "plate read: %s", e.what());
		std::memset(out, 0, sizeof(*out));
		return FL_EIO;
	} catch (...) {
		std::memset(out, 0, sizeof(*out));
		return FL_EIO;
	}
}

void fl_plate_reader_destroy(fl_plate_reader *r)
{
	try {
		delete r;
	} catch (...) {
	}
}
