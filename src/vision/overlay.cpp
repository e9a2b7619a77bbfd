/*
 * overlay.cpp - the text banner of every evidence image (SPEC 4: date and
 * time, site, lane, device id, incident id, anti-forgery code), behind
 * vision.h.
 *
 * A note on fonts. cv::putText only knows the Hershey vector fonts, which
 * have no CJK glyphs: a site called "消防通道 A" would come out as "?? A".
 * So the banner goes through cv::freetype with a real OpenType font, by
 * default Noto Sans CJK (Debian fonts-noto-cjk). That file is a collection
 * (.ttc); face 2 is the Simplified Chinese one, whose glyph shapes are the
 * ones a mainland reader expects (face 0 is Japanese). A font that cannot be
 * loaded fails fl_overlay_create(): evidence without a readable banner must
 * not be produced silently.
 *
 * A note on the band. Enforcement pictures carry their text in a band of
 * their own, above the scene, and so does this: the banner never covers a
 * pixel of the picture (nor collides with the camera's own time stamp in a
 * corner); the picture is copied unchanged below the band. The text height
 * follows the picture's shorter side (min(w, h) / 36, at least 14 px: 20 px
 * on 1280x720, 30 px on 1920x1080, 14 px on 640x360 or a 480 px close-up),
 * and the fields (time, image number and code, site, lane, camera, device,
 * incident) are laid out in reading order into as few lines as the width
 * holds, so the band stays compact: two lines on a 1280 px scene, three or
 * four on a narrow close-up. A field wider than a whole line is broken
 * between two characters.
 *
 * Exceptions never leave: every entry point catches everything.
 */
#include "internal.h"
#include "vision.h"

extern "C" {
#include "fl.h"
}

#include <opencv2/core.hpp>
#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>

#include <strings.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace
{

constexpr int kMaxLines = 16;
/* The band's grey: near black, so white text reads in print too. */
constexpr int kBandGrey = 24;

int text_height(int w, int h)
{
	return std::max(14, std::min(w, h) / 36);
}

int line_pitch(int th)
{
	return (th * 7 + 2) / 5; /* 1.4 text heights */
}

int margin(int th)
{
	return std::max(4, th / 3);
}

/* Replace bytes that are not well-formed UTF-8 with '?', so the freetype
 * decoder never sees a truncated sequence. */
std::string clean_utf8(const char *s)
{
	std::string out;
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = 0;
		if (*p < 0x80)
			n = 1;
		else if ((*p & 0xE0) == 0xC0 && *p >= 0xC2)
			n = 2;
		else if ((*p & 0xF0) == 0xE0)
			n = 3;
		else if ((*p & 0xF8) == 0xF0 && *p <= 0xF4)
			n = 4;
		bool ok = n > 0;
		for (int i = 1; ok && i < n; i++)
			ok = (p[i] & 0xC0) == 0x80;
		/* no overlong forms, surrogates or code points > U+10FFFF */
		if (ok && ((p[0] == 0xE0 && p[1] < 0xA0) ||
			   (p[0] == 0xED && p[1] > 0x9F) ||
			   (p[0] == 0xF0 && p[1] < 0x90) ||
			   (p[0] == 0xF4 && p[1] > 0x8F)))
			ok = false;
		if (!ok) {
			out += '?';
			p++;
			continue;
		}
		if (n == 1 && *p < 0x20)
			out += ' '; /* control characters: a space */
		else
			out.append((const char *)p, (size_t)n);
		p += n;
	}
	return out;
}

bool has_suffix_ci(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

} // namespace

struct fl_overlay {
	cv::Ptr<cv::freetype::FreeType2> ft;
};

fl_overlay *fl_overlay_create(const char *font_path, char *err, size_t errlen)
{
	const char *path = font_path ? font_path : FL_OVERLAY_DEFAULT_FONT;
	struct stat st;

	if (!*path || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		fl__vision_err(err, errlen, "%s: no such font file%s",
			       *path ? path : "(empty)",
			       font_path ? "" : " (install fonts-noto-cjk)");
		fl_log(FL_LOG_ERROR, "vision", "overlay: %s: no such font file",
		       path);
		return nullptr;
	}
	fl_overlay *o = nullptr;
	try {
		o = new fl_overlay;
		o->ft = cv::freetype::createFreeType2();
		bool loaded = false;
		/* a collection: prefer the Simplified Chinese face */
		if (has_suffix_ci(path, ".ttc")) {
			try {
				o->ft->loadFontData(path, 2);
				loaded = true;
			} catch (const cv::Exception &) {
				loaded = false;
			}
		}
		if (!loaded)
			o->ft->loadFontData(path, 0);
		return o;
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen, "%s: out of memory", path);
	} catch (const cv::Exception &e) {
		fl__vision_err(err, errlen, "%s: not a loadable font (%s)",
			       path, e.err.c_str());
	} catch (...) {
		fl__vision_err(err, errlen, "%s: not a loadable font", path);
	}
	fl_log(FL_LOG_ERROR, "vision", "overlay: %s: cannot load font", path);
	delete o;
	return nullptr;
}

void fl_overlay_destroy(fl_overlay *o)
{
	delete o;
}

namespace
{

int band_height(int th, int nlines)
{
	return nlines * line_pitch(th) + 2 * margin(th) - (line_pitch(th) - th);
}

/* The length of the longest prefix of s (whole UTF-8 characters, at least
 * one) that fits in maxw pixels. */
size_t fit_prefix(cv::freetype::FreeType2 &ft, const std::string &s, int th,
		  int maxw)
{
	size_t best = 0, i = 0;
	int base;

	while (i < s.size()) {
		size_t n = 1;
		while (i + n < s.size() &&
		       ((unsigned char)s[i + n] & 0xC0) == 0x80)
			n++;
		if (best &&
		    ft.getTextSize(s.substr(0, i + n), th, -1, &base).width >
			    maxw)
			break;
		i += n;
		best = i;
	}
	return best;
}

/* The fields laid out into lines of at most maxw pixels, two spaces
 * between fields on a line. */
std::vector<std::string> layout(cv::freetype::FreeType2 &ft,
				const char *const *fields, int n, int th,
				int maxw)
{
	std::vector<std::string> lines;
	std::string cur;
	int base;

	for (int i = 0; i < n; i++) {
		if (!fields[i] || !*fields[i])
			continue;
		std::string f = clean_utf8(fields[i]);
		std::string cand = cur.empty() ? f : cur + "  " + f;

		if (ft.getTextSize(cand, th, -1, &base).width <= maxw) {
			cur = cand;
			continue;
		}
		if (!cur.empty())
			lines.push_back(cur);
		cur.clear();
		while (ft.getTextSize(f, th, -1, &base).width > maxw) {
			size_t k = fit_prefix(ft, f, th, maxw);
			lines.push_back(f.substr(0, k));
			f.erase(0, k);
		}
		cur = f;
	}
	if (!cur.empty())
		lines.push_back(cur);
	return lines;
}

} // namespace

int fl_overlay_band(fl_overlay *o, const fl_image *pic,
		    const char *const *fields, int nfields, fl_image *out,
		    int *band_h, char *lines, size_t lineslen, char *err,
		    size_t errlen)
{
	if (out)
		*out = fl_image{};
	if (band_h)
		*band_h = 0;
	if (lines && lineslen)
		lines[0] = 0;
	if (!o || !pic || !pic->bgr || !out || pic->w <= 0 || pic->h <= 0 ||
	    (long long)pic->w * pic->h > (1LL << 28) || nfields < 0 ||
	    (nfields > 0 && !fields)) {
		fl__vision_err(err, errlen, "overlay: bad arguments");
		return FL_EINVAL;
	}
	try {
		int w = pic->w, h = pic->h;
		int th = text_height(w, h), m = margin(th);
		std::vector<std::string> ls = layout(*o->ft, fields, nfields,
						     th, w - 2 * m);
		if ((int)ls.size() > kMaxLines) {
			fl__vision_err(err, errlen,
				       "overlay: %zu lines do not fit a %d px "
				       "wide picture (%d at most)",
				       ls.size(), w, kMaxLines);
			return FL_EINVAL;
		}
		int bh = ls.empty() ? 0 : band_height(th, (int)ls.size());
		size_t bytes = (size_t)w * (size_t)(h + bh) * 3;
		uint8_t *buf = (uint8_t *)malloc(bytes);
		if (!buf) {
			fl__vision_err(err, errlen, "overlay: out of memory");
			return FL_ENOMEM;
		}
		cv::Mat img(h + bh, w, CV_8UC3, buf, (size_t)w * 3);
		cv::Mat band = img(cv::Rect(0, 0, w, bh));
		band.setTo(cv::Scalar(kBandGrey, kBandGrey, kBandGrey));
		memcpy(buf + (size_t)bh * w * 3, pic->bgr, (size_t)w * h * 3);
		std::string joined;
		for (size_t i = 0; i < ls.size(); i++) {
			/* baseline at about 85% of the em below the line
			 * top: descenders (g, y) stay inside the line */
			int base = m + (int)i * line_pitch(th) +
				   (th * 85) / 100;
			o->ft->putText(band, ls[i], cv::Point(m, base), th,
				       cv::Scalar(255, 255, 255), -1,
				       cv::LINE_AA, true);
			joined += (i ? "\n" : "") + ls[i];
		}
		out->bgr = buf;
		out->w = w;
		out->h = h + bh;
		if (band_h)
			*band_h = bh;
		if (lines && lineslen)
			snprintf(lines, lineslen, "%s", joined.c_str());
		return 0;
	} catch (const std::bad_alloc &) {
		fl_image_free(out);
		fl__vision_err(err, errlen, "overlay: out of memory");
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl_image_free(out);
		fl__vision_err(err, errlen, "overlay: %s", e.err.c_str());
		return FL_EIO;
	} catch (...) {
		fl_image_free(out);
		fl__vision_err(err, errlen, "overlay: unexpected error");
		return FL_EIO;
	}
}
