/*
 * plate.h - what a licence-plate read is, whether its text can be a plate,
 * and voting over many reads of the same parked car.
 *
 * See plate.c for the essay on voting. The reader itself (a CNN) lives in
 * src/vision (fl_plate_reader, vision.h) and fills an fl_plate_text; the
 * edge reads the plate of a vehicle at rest on every evidence still and on
 * frames while it stays, and fl_plate_vote() turns those reads into one
 * text, character by character, or "unread".
 *
 * Pure C11: no I/O, no clocks, no globals, no heap. Every struct is plain
 * data owned by the caller; functions borrow their arguments for the call.
 */
#ifndef FL_PLATE_H
#define FL_PLATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* src/vision's reader fills these from C++ */
#endif

/* Characters in a plate text, at most (Chinese new-energy plates have 8). */
#define FL_PLATE_MAX_CHARS 10
/* Bytes of a plate text: up to 4 UTF-8 bytes per character and the NUL. */
#define FL_PLATE_TEXT_MAX (FL_PLATE_MAX_CHARS * 4 + 1)

/*
 * One read of one plate.
 *   text       UTF-8, NUL-terminated; "" when nothing was read.
 *   nchars     characters (code points) in text, 0..FL_PLATE_MAX_CHARS.
 *   char_conf  per character, the probability the reader gives it, [0,1].
 *   conf       the whole read: the estimated probability that text is the
 *              plate exactly (the reader's calibration, docs/plate-model.md).
 *   rows       1, or 2 when read as a double-row plate (rows split).
 *   t          when the frame read was taken, seconds on any one clock
 *              (only differences count: fl_plate_vote); the reader leaves
 *              0, the caller that knows the frame's time sets it.
 */
typedef struct fl_plate_text {
	char text[FL_PLATE_TEXT_MAX];
	int nchars;
	float char_conf[FL_PLATE_MAX_CHARS];
	double conf;
	int rows;
	double t;
} fl_plate_text;

/* Decode UTF-8 text (NUL-terminated, borrowed) into at most max code points
 * in cp (caller-allocated). Returns the number of code points, or
 * FL_EFORMAT (malformed or overlong UTF-8, a surrogate, > U+10FFFF) or
 * FL_ERANGE (more than max characters). */
int fl_utf8_decode(const char *s, uint32_t *cp, int max);

/* Encode code points as UTF-8 into buf (size bytes, NUL-terminated).
 * Returns the bytes written without the NUL, or FL_ERANGE (too small) /
 * FL_EINVAL (not a scalar value). */
int fl_utf8_encode(const uint32_t *cp, int n, char *buf, size_t size);

/* How a text looks as a plate. */
enum fl_plate_shape {
	FL_PLATE_SHAPE_NONE = 0, /* empty, or no plate we know */
	FL_PLATE_SHAPE_CN = 1,   /* a Chinese plate as GA 36 numbers them */
	FL_PLATE_SHAPE_LATIN = 2 /* 4..8 Latin letters and digits */
};

/*
 * Which shape text has (borrowed, UTF-8). Chinese plates, as the reader
 * covers them (docs/plate-model.md):
 *   province, office letter, 5 letters/digits        blue, yellow (7)
 *   province, letter, D|F, letter/digit, 4 digits    small new energy (8)
 *   province, letter, 5 digits, D|F                  large new energy (8)
 *   province, letter, 4 letters/digits, 学|挂|警|领  coach, trailer,
 *                                                    police, consulate (7)
 *   粤Z, 4 letters/digits, 港|澳                     Hong Kong, Macau (7)
 *   使, 6 digits                                     embassy (7)
 * where letters are A-Z without I and O. Anything with a Chinese character
 * that fits none of these is NONE, as is malformed UTF-8. Pure.
 */
enum fl_plate_shape fl_plate_shape(const char *text);

/*
 * The reader's thresholds, one per script: a read (or a vote) whose conf is
 * at or above the threshold of its text's script is reported, one below is
 * "unread". Each is the lowest confidence that kept 99% of the kept reads
 * exact on the synthetic validation reads of its own script (model/plates/
 * train.py, "thresholds" in plate-reader.json; `train.py --calibrate-only`
 * recomputes them from the committed model), rounded up to 0.001. Chinese
 * double-row plates are apart: their reads are right less often at the
 * same confidence. What they keep on real photographs is in
 * docs/plate-model.md ("Thresholds").
 */
#define FL_PLATE_MIN_CONF_CN 0.828
#define FL_PLATE_MIN_CONF_CN2 0.908 /* Chinese, read as two rows */
#define FL_PLATE_MIN_CONF_LATIN 0.983
/* fl_plate_vote's min_conf: the threshold of the voted text's script. */
#define FL_PLATE_MIN_CONF_SCRIPT (-1.0)

/* The threshold for a read of text (borrowed, UTF-8) read in rows rows:
 * FL_PLATE_MIN_CONF_CN or _CN2 (rows 2) for a Chinese shape,
 * FL_PLATE_MIN_CONF_LATIN for a Latin one, and 2 (above any confidence:
 * never kept) for a text of no plate shape. Pure. */
double fl_plate_min_conf(const char *text, int rows);

/*
 * Vote over n reads of the same plate (borrowed; reads with nchars 0 or
 * malformed text count as "nothing read"). The model, stated so its limits
 * are plain (the essay in plate.c says why):
 *   - the length (in characters) with the largest summed confidence wins;
 *     reads of other lengths only lower the result by their share;
 *   - reads of that length taken less than FL_PLATE_VOTE_APART_S apart (by
 *     t) are one witness, not several: the same angle, light and dirt give
 *     the same mistake. Per position a witness says the symbol its reads
 *     support most, with the highest char_conf among the reads that say it
 *     times the share of its reads that do;
 *   - witnesses are independent: each is right with its probability p and
 *     otherwise says any of the FL_PLATE_VOTE_SYMBOLS - 1 other symbols
 *     alike; the posterior of the winning symbol is the character's
 *     confidence;
 *   - the voted conf is the product of the characters' confidences times
 *     the length's share, and never more than 1 - prod(1 - b) over the
 *     witnesses, b the highest conf of a single read in each: reads of one
 *     moment are no surer than their best read.
 *
 * out (caller-allocated) gets the voted read (rows: the most common among
 * the winners; t: the latest read's). If its conf is below min_conf
 * (FL_PLATE_MIN_CONF_SCRIPT: below fl_plate_min_conf of the voted text and
 * rows), or nothing was read, the plate is unread: out->text is "" and
 * nchars 0, out->conf keeps the voted confidence. Returns 1 (read), 0
 * (unread) or FL_EINVAL (n < 0, reads NULL with n > 0, out NULL).
 */
#define FL_PLATE_VOTE_SYMBOLS 36
/* Reads that take part in one vote, at most (the first ones are used): a car
 * at rest is read a few dozen times at most, and later reads add little. */
#define FL_PLATE_VOTE_MAX 64
/* Reads closer in time than this are one witness in a vote: a parked car
 * looks the same for a while (light, shade and the people around it change
 * over minutes, not seconds). A choice, not a measurement of real scenes. */
#define FL_PLATE_VOTE_APART_S 30.0
int fl_plate_vote(const fl_plate_text *reads, int n, double min_conf,
		  fl_plate_text *out);

#ifdef __cplusplus
}
#endif

#endif /* FL_PLATE_H */
