/*
 * vision.h - the only door into OpenCV: a small C API over cv::dnn, HOG and
 * image files.
 *
 * A note on what vision is for. Firelane finds obstructions with cheap
 * per-pixel models in C (src/detect): something new that stays at rest in a
 * lane. Those models cannot say *what* is at rest. Vision answers that one
 * question for a candidate region: is it a vehicle, a person (who will
 * usually walk away, so the incident should wait), or other clutter (piled
 * goods, a suitcase), which still blocks the lane. It is called rarely - once
 * per candidate, not per frame - so a CPU-only detector with a one-thread
 * budget is enough.
 *
 * Rules this header keeps:
 *  - C11 callers only ever see plain structs, ints and caller-owned buffers.
 *    The C++ lives in the .cpp files beside this header; no C++ exception
 *    crosses this API: every entry point catches everything and returns a negative fl_errno
 *    (or NULL plus a message for constructors).
 *  - Images are packed 8-bit planes: BGR24 (stride w*3) or gray (with an
 *    explicit stride). Boxes are doubles in the pixels of the image passed in,
 *    never normalised, and a roi never changes the coordinate frame.
 *  - Libraries never print: diagnostics go through fl_log(.., "vision", ..).
 *  - Threads: fl_detector_create() calls cv::setNumThreads(1) (the device
 *    budget for analysis is one thread; OpenCV's pool would otherwise take
 *    every core). A detector or people object is not thread-safe: use one per
 *    thread. The free functions are thread-safe.
 */
#ifndef FL_VISION_H
#define FL_VISION_H

#include <stddef.h>
#include <stdint.h>

#include "plate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a box is, as far as a fire lane cares. COCO mapping: person -> PERSON;
 * bicycle, car, motorbike, bus, train, truck -> VEHICLE; everything else
 * (suitcase, chair, ...) -> OTHER. */
enum fl_vclass {
	FL_VCLASS_OTHER = 0,
	FL_VCLASS_VEHICLE = 1,
	FL_VCLASS_PERSON = 2
};

/* One detection. x, y, w, h: top-left and size in pixels of the full image
 * passed to the run call (clipped to it). conf: in [0,1] for the detector
 * (class score times objectness); for fl_people_run the raw HOG SVM margin
 * (0 = on the decision boundary, ~1+ = confident), see fl_people_run.
 * vclass: enum fl_vclass. coco_id: 0-based COCO-80 index (0 = person, 2 = car,
 * 7 = truck), or -1 when the box does not come from a COCO model (HOG). */
typedef struct fl_detection {
	double x, y, w, h;
	double conf;
	int vclass;
	int coco_id;
} fl_detection;

/* Map a 0-based COCO-80 class index to enum fl_vclass (OTHER when out of
 * range). Pure. */
int fl_vclass_from_coco(int coco_id);

/* A static name for an fl_vclass ("other", "vehicle", "person"); never NULL. */
const char *fl_vclass_name(int vclass);

/* ---- object detector (cv::dnn) ---------------------------------------- */

typedef struct fl_detector fl_detector;

/* Load a COCO-80 detector. Supported:
 *  - Darknet YOLO (.cfg; the .weights beside it with the same basename; a
 *    .weights path is also accepted and finds its .cfg). Input size is read
 *    from the cfg's [net] width/height (320x320 for Yolo-Fastest 1.1).
 *  - ONNX (.onnx) with a YOLOv5-style output [1, N, 85] or a YOLOv8-style
 *    output [1, 84, N], 640x640 input. Any other output layout fails here
 *    (FL_EUNSUPPORTED in the log and message).
 * Preprocessing: scale 1/255, BGR->RGB, stretch to the input size (no
 * letterbox). conf: score threshold in (0,1]. create runs one warm-up
 * inference, so a model whose outputs cannot be decoded fails here rather than
 * on the first frame.
 * path is borrowed for the call only. err (errlen bytes, may be NULL/0) gets a
 * one-line reason naming the path on failure. Returns a detector the caller
 * frees with fl_detector_destroy(), or NULL. */
fl_detector *fl_detector_create(const char *path, double conf, char *err,
				size_t errlen);

/* Detect on a packed BGR24 image (w*h*3 bytes, stride w*3), borrowed for the
 * call. roi: NULL for the whole image, or 4 doubles x, y, w, h in image
 * pixels; the roi is expanded by 25% of its size on each side (clamped to the
 * image) for context, cropped, run, and the boxes are mapped back to image
 * coordinates. Per-class NMS at IoU 0.45. Up to max results, best first, are
 * written into out (caller-allocated, max entries; may be NULL when max is 0).
 * Returns the number written (>= 0), or FL_EINVAL (bad arguments, empty roi
 * after clamping), FL_ENOMEM, FL_EUNSUPPORTED (unexpected output layout) or
 * FL_EIO (OpenCV failed; details in the log). */
int fl_detector_run(fl_detector *d, const uint8_t *bgr, int w, int h,
		    const double *roi, fl_detection *out, int max);

/* Input size the model runs at (e.g. 320x320); either pointer may be NULL. */
void fl_detector_input_size(const fl_detector *d, int *w, int *h);

/* Free a detector. NULL is a no-op. */
void fl_detector_destroy(fl_detector *d);

/* ---- people without a model (HOG) ------------------------------------- */

typedef struct fl_people fl_people;

/* OpenCV's built-in HOG people detector (Dalal-Triggs, 64x128 window,
 * HOGDescriptor::getDefaultPeopleDetector). Needs no files. Returns an object
 * freed with fl_people_destroy(), or NULL with a reason in err. */
fl_people *fl_people_create(char *err, size_t errlen);

/* Find upright people in an 8-bit gray plane (w x h, row stride >= w bytes),
 * borrowed for the call. roi as in fl_detector_run (expanded 25% per side).
 * The window is 64x128, so a person must be about 100+ px tall to be found;
 * with a roi the crop is upscaled (up to 4x) so the roi's height becomes at
 * least 160 px. Boxes are the detection windows shrunk to 80% (the window
 * has margins round the body). Results: vclass PERSON, coco_id -1, conf = SVM margin (not a
 * probability; boxes below margin 0 are never returned). Up to max results,
 * best first, into out (caller-allocated). Returns the number written or a
 * negative fl_errno as fl_detector_run. */
int fl_people_run(fl_people *p, const uint8_t *gray, int w, int h, int stride,
		  const double *roi, fl_detection *out, int max);

/* Free a people detector. NULL is a no-op. */
void fl_people_destroy(fl_people *p);

/* ---- images ----------------------------------------------------------- */

/* Load an image file (PNG, JPEG, BMP ... whatever imgcodecs reads) as 8-bit
 * gray, resized to w x h with INTER_AREA into dst (caller-allocated, w*h
 * bytes, stride w). dst NULL: only report the native size (w, h ignored).
 * native_w/native_h (either may be NULL) get the file's own size. path is
 * borrowed. Returns 0, FL_ENOENT (no such file), FL_EFORMAT (not a decodable
 * image), FL_EINVAL or FL_EIO; err gets a reason naming the path. */
int fl_image_load_gray(const char *path, int w, int h, uint8_t *dst,
		       int *native_w, int *native_h, char *err, size_t errlen);

/* Load an image file as packed BGR24 at its native size. On success *bgr is a
 * malloc'd buffer of (*w)*(*h)*3 bytes that the caller frees with free().
 * Errors as fl_image_load_gray; *bgr is NULL then. */
int fl_image_load_bgr(const char *path, uint8_t **bgr, int *w, int *h,
		      char *err, size_t errlen);

/* Write a packed BGR24 frame (borrowed) as PNG (.png) or JPEG (.jpg, .jpeg,
 * quality 90), chosen by the path's extension (case-insensitive). Returns 0,
 * FL_EUNSUPPORTED (other extension), FL_EINVAL or FL_EIO (cannot write). */
int fl_image_write_bgr(const char *path, const uint8_t *bgr, int w, int h,
		       char *err, size_t errlen);

/* Resize an 8-bit gray plane (sw x sh, row stride sstride >= sw) to dw x dh
 * with INTER_AREA (a box average when shrinking) into dst (caller-allocated,
 * dw*dh bytes, stride dw). src and dst are borrowed and must not overlap.
 * The per-frame fast path: dst is written in place (OpenCV may use scratch
 * memory internally). Returns 0 or FL_EINVAL / FL_EIO. */
int fl_resize_gray(const uint8_t *src, int sw, int sh, int sstride,
		   uint8_t *dst, int dw, int dh);

/* ---- evidence images (SPEC 4: overlay, close-up, composite, plates) ---- */
/*
 * The pixels of an evidence bundle: every image carries a text banner
 * (date and time, site, lane, device, incident, anti-forgery code), the
 * object gets a close-up with its plate boxed when one is found, and the
 * scene images and close-up are joined in one composite a reviewer reads at
 * a glance. Implemented in evidence.cpp, overlay.cpp and plate.cpp. Every
 * entry point catches every C++ exception and returns a negative fl_errno
 * (FL_EINVAL, FL_ENOMEM, FL_EIO, FL_EUNSUPPORTED) with a reason in err (err
 * may be NULL/0). The free functions are thread-safe.
 */

/* A packed BGR24 image (stride w*3) owned by whoever received it. bgr is
 * malloc'd; release it with fl_image_free(). */
typedef struct fl_image {
	uint8_t *bgr;
	int w, h;
} fl_image;

/* Free img->bgr and set it NULL (w, h to 0). Does not free img itself.
 * NULL img or NULL img->bgr are no-ops. */
void fl_image_free(fl_image *img);

/* JPEG-encode a packed BGR24 buffer (w x h, stride w*3, borrowed) at quality
 * 1..100. On success *out is a malloc'd buffer of *len bytes that the caller
 * frees with free(); on error *out is NULL and *len 0. Returns 0, FL_EINVAL
 * (bad arguments, quality out of range) or FL_EIO / FL_ENOMEM. */
int fl_jpeg_encode(const uint8_t *bgr, int w, int h, int quality, uint8_t **out,
		   size_t *len, char *err, size_t errlen);

/* A small JPEG of a JPEG picture (len bytes, borrowed): the top crop_top
 * rows cut off (an evidence image's banner band, manifest banner_px), the
 * rest scaled to at most max_w (>= 16) pixels wide, keeping its shape
 * (never enlarged), encoded at quality 1..100. *out is malloc'd (free()),
 * *outlen its size. Returns 0, FL_EINVAL (bad arguments), FL_EFORMAT (not a
 * JPEG, or nothing left below crop_top), FL_ENOMEM or FL_EIO. Thread-safe. */
int fl_jpeg_thumb(const uint8_t *jpeg, size_t len, int crop_top, int max_w,
		  int quality, uint8_t **out, size_t *outlen, char *err,
		  size_t errlen);

/* ---- text overlay ---- */

typedef struct fl_overlay fl_overlay;

/* Default font: the Debian CJK font (package fonts-noto-cjk), so Chinese
 * site and lane names render as glyphs rather than '?'. */
#define FL_OVERLAY_DEFAULT_FONT                                                \
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

/* Load a TrueType/OpenType font (cv::freetype) for fl_overlay_band().
 * font_path NULL = FL_OVERLAY_DEFAULT_FONT; borrowed for the call. A missing
 * or unreadable font fails here (NULL, reason naming the path in err), never
 * later with a silent fallback. Returns an object freed with
 * fl_overlay_destroy(). Not thread-safe: use one per thread. */
fl_overlay *fl_overlay_create(const char *font_path, char *err, size_t errlen);

/* Free an overlay. NULL is a no-op. */
void fl_overlay_destroy(fl_overlay *o);

/*
 * The banner of an evidence image, in a band added above the picture
 * (overlay.cpp, "A note on the band"): pic (borrowed) is copied unchanged
 * below a near-black band in which the nfields fields (UTF-8, borrowed;
 * NULL or "" skipped) are written in white, in order, two spaces apart,
 * wrapped into as few lines as the width holds (a field wider than a line
 * is broken between characters; malformed UTF-8 bytes are drawn as '?').
 * Text height max(14, min(w, h) / 36) px, lines 1.4 text heights apart,
 * a margin of a third of the text height round them. out gets a new image
 * of pic->w x (pic->h + band) (fl_image_free); *band_h (may be NULL) the
 * band's height, 0 when no field has text; lines (may be NULL) the lines
 * as drawn, joined with '\n' (cut to lineslen). Returns 0, FL_EINVAL (bad
 * arguments, or more than 16 lines), FL_ENOMEM or FL_EIO; out is empty on
 * failure.
 */
int fl_overlay_band(fl_overlay *o, const fl_image *pic,
		    const char *const *fields, int nfields, fl_image *out,
		    int *band_h, char *lines, size_t lineslen, char *err,
		    size_t errlen);

/* ---- licence plates ---- */

/* A candidate plate: box in image pixels, score in [0,1] (higher = more
 * plate-like; comparable between calls, not a probability). */
typedef struct fl_plate {
	double x, y, w, h, score;
} fl_plate;

/* Find licence-plate candidates in a packed BGR24 image (w x h, borrowed)
 * inside roi (x, y, w, h in image pixels, clipped to the image; NULL = the
 * whole image). The method is our own (no openalpr cascades, no model
 * files): dense vertical character edges closed into blobs at a few scales,
 * plate-shaped boxes (characters' aspect 1.5..7) scored by character count,
 * stroke transitions, edge density, contrast and isolation; see plate.cpp
 * and docs/plates.md for how well it does. Up to max boxes, best first, are
 * written to out (caller-allocated, max entries; runners-up scoring under
 * half the best are dropped), all inside the roi. Returns the number written
 * (0 = none found), or FL_EINVAL (bad arguments, roi smaller than 16x8 px
 * after clipping) / FL_ENOMEM / FL_EIO. Large rois are analysed downscaled
 * (longer side <= 1280 px). Deterministic; thread-safe. */
int fl_plate_find(const uint8_t *bgr, int w, int h, const double *roi,
		  fl_plate *out, int max);

/* ---- reading plates ---- */

typedef struct fl_plate_reader fl_plate_reader;

/* Load firelane's plate reader (model/plates/plate-reader.onnx, trained by
 * `make plate-model`; docs/plate-model.md). model_path is borrowed for the
 * call. Runs one warm-up read and checks the model's outputs against the
 * reader's alphabet, so a wrong file fails here. Calls cv::setNumThreads(1).
 * err (errlen bytes, may be NULL/0) gets a reason naming the path on failure.
 * Returns a reader freed with fl_plate_reader_destroy(), or NULL. A reader
 * is not thread-safe (it owns one cv::dnn::Net): use one per thread. */
fl_plate_reader *fl_plate_reader_create(const char *model_path, char *err,
					size_t errlen);

/*
 * Read the plate in box (x, y, w, h in pixels of the packed BGR24 image
 * w x h, borrowed; clipped to the image; NULL = the whole image is the
 * plate crop). The box should be the plate with a small margin, as
 * fl_plate_find() returns it. Chinese plates (GA 36: blue, green new
 * energy, yellow single and double row, white police, black Hong Kong /
 * Macau / embassy) and Latin plates (US, EU). A double-row plate is
 * recognised by the model, split into one line and read as one text
 * (out->rows = 2). out (caller-allocated) gets the text (UTF-8), the
 * per-character probabilities and the calibrated confidence; a text that
 * fits no plate shape (fl_plate_shape) gets confidence 0; nothing read
 * gives text "" and conf 0. Compare conf with the threshold of its script,
 * fl_plate_min_conf(text, rows) (plate.h), or vote several reads with
 * fl_plate_vote, before showing a text as the plate.
 * Returns 0, or FL_EINVAL (bad arguments, box smaller than 8x4 px after
 * clipping), FL_ENOMEM or FL_EIO; out is zeroed on error.
 */
int fl_plate_read(fl_plate_reader *r, const uint8_t *bgr, int w, int h,
		  const double *box, fl_plate_text *out);

/* Free a reader. NULL is a no-op. */
void fl_plate_reader_destroy(fl_plate_reader *r);

/* ---- close-up and composite ---- */

/* A close-up of an object in a packed BGR24 image (w x h, borrowed): box
 * (x, y, w, h in image pixels) grown by 15% of its size on each side,
 * clipped to the image, cropped, and scaled so its longer side is at most
 * max_side (> 0), or upscaled to 480 px on the longer side (but never past
 * max_side) when it is smaller, so a small object stays legible. plate
 * (may be NULL): box in the same image pixels; a 2..4 px rectangle is drawn
 * round it in the close-up. out gets a new image (release with
 * fl_image_free); on error out->bgr is NULL. Returns 0, FL_EINVAL (bad
 * arguments, box outside the image) or FL_ENOMEM / FL_EIO. */
int fl_evidence_closeup(const uint8_t *bgr, int w, int h, const double box[4],
			const fl_plate *plate, int max_side, fl_image *out,
			char *err, size_t errlen);

/* Composite of n scene images (1..4, any sizes, borrowed) and one close-up
 * (borrowed) in one image. Scenes are scaled to a common height H (the
 * smallest scene height, capped at 1080) and laid in a row (n <= 2) or a
 * 2x2 grid (n = 3, 4; the empty cell stays black); the close-up is scaled to
 * the height of that block (never upscaled more than 2x; it is centred
 * vertically) and placed to the right, with a 8 px dark gap between tiles.
 * If the result is wider than max_w (>= 320; 0 = 3840) the whole is scaled
 * down to max_w. out gets a new image (fl_image_free). Returns 0, FL_EINVAL
 * or FL_ENOMEM / FL_EIO. */
int fl_evidence_composite(const fl_image *scenes, int n,
			  const fl_image *closeup, int max_w, fl_image *out,
			  char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* FL_VISION_H */
