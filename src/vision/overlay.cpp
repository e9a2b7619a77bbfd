/*
 * overlay.cpp - the text banner on every evidence image (SPEC 4: date and
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
 * Geometry. The text height follows the image's shorter side
 * (min(w, h) / 28, at least 14 px): 25 px on 1280x720, 38 px on 1920x1080,
 * 14..17 px on a 480 px close-up - legible without covering the scene. The band
 * is darkened, not blacked out (65% dark over the picture), so what lies
 * under it still shows. All drawing happens inside a cv::Mat view of the
 * band, so no pixel below the banner can change.
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
#include <cstring>
#include <new>
#include <string>

namespace
{

constexpr int kMaxLines = 16;
/* Darkening of the band: out = in * (1 - kBandAlpha). */
constexpr double kBandAlpha = 0.65;

int text_height(int w, int h)
{
	return std::max(14, std::min(w, h) / 28);
}

int line_pitch(int th)
{
	return (th * 3 + 1) / 2;
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

int fl_overlay_banner_height(int w, int h, int nlines)
{
	if (nlines <= 0 || w <= 0 || h <= 0)
		return 0;
	int th = text_height(w, h);
	return nlines * line_pitch(th) + 2 * margin(th) - (line_pitch(th) - th);
}

/*
 * Darken the band, then draw each line with its top at
 * margin + i * pitch, clipped to the band by drawing into a view of it.
 */
int fl_overlay_draw(fl_overlay *o, uint8_t *bgr, int w, int h,
		    const char *const *lines, int nlines, char *err,
		    size_t errlen)
{
	if (!o || !bgr || w <= 0 || h <= 0 || (long long)w * h > (1LL << 28) ||
	    nlines < 0 || nlines > kMaxLines || (nlines > 0 && !lines)) {
		fl__vision_err(err, errlen, "overlay: bad arguments");
		return FL_EINVAL;
	}
	if (nlines == 0)
		return 0;
	int bh = fl_overlay_banner_height(w, h, nlines);
	if (bh > h) {
		fl__vision_err(
			err, errlen,
			"overlay: %d lines need a %d px banner, image is %d px "
			"tall",
			nlines, bh, h);
		return FL_EINVAL;
	}
	try {
		cv::Mat img(h, w, CV_8UC3, bgr, (size_t)w * 3);
		cv::Mat band = img(cv::Rect(0, 0, w, bh));
		band.convertTo(band, -1, 1.0 - kBandAlpha, 0.0);
		int th = text_height(w, h), m = margin(th);
		for (int i = 0; i < nlines; i++) {
			if (!lines[i] || !*lines[i])
				continue;
			std::string s = clean_utf8(lines[i]);
			/* baseline at about 85% of the em below the line top:
			 * descenders (g, y) stay inside the line */
			int base = m + i * line_pitch(th) + (th * 85) / 100;
			o->ft->putText(band, s, cv::Point(m, base), th,
				       cv::Scalar(255, 255, 255), -1,
				       cv::LINE_AA, true);
		}
		if (band.data != bgr) {
			fl__vision_err(err, errlen, "overlay: internal error");
			return FL_EIO;
		}
		return 0;
	} catch (const std::bad_alloc &) {
		fl__vision_err(err, errlen, "overlay: out of memory");
		return FL_ENOMEM;
	} catch (const cv::Exception &e) {
		fl__vision_err(err, errlen, "overlay: %s", e.err.c_str());
		return FL_EIO;
	} catch (...) {
		fl__vision_err(err, errlen, "overlay: unexpected error");
		return FL_EIO;
	}
}
