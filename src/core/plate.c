/*
 * plate.c - plate texts: UTF-8, the shapes of Chinese plate numbers, and
 * voting over many reads of one parked car.
 *
 * A note on voting. A single read of a plate in a fire lane is often
 * poor: the car is far, at an angle, in the dark, half behind a person.
 * But the car stays - that is why there is an incident - and the edge can
 * read it again on every evidence still and on frames while it rests. Most
 * reading mistakes then move: a 8 read as B in one frame is an 8 in the next
 * three. So we vote, character by character, weighting each read by the
 * confidence the reader gives each character.
 *
 * Reads are grouped by length first. A CTC reader that drops or doubles a
 * character shifts every later position, so mixing lengths position by
 * position would compare the wrong characters; the length holding the most
 * confidence wins and the other reads count only against it. Within the
 * winning length every witness (below: a moment) speaks per position: it
 * is right with its character's confidence p, else it says one of the
 * other K - 1 symbols alike (K = FL_PLATE_VOTE_SYMBOLS, about the letters
 * and digits a position can hold). The posterior of a symbol is then
 * proportional to the product of p for the witnesses that say it and
 * (1 - p) / (K - 1) for those that do not,
 * and the K - m symbols no witness says share the rest. One witness at 0.9
 * gives 0.9; two agreeing at 0.9 give 0.9988; two that disagree at 0.9 and
 * 0.6 give 0.86 to the first.
 *
 * But reads of a parked car are not independent witnesses. Frames a few
 * seconds apart show the same angle, the same light and the same dirt, and
 * a reader that takes a 京 for a 津 once takes it so in every one of them:
 * twenty agreeing reads of one moment are one opinion, not twenty
 * (counted as independent, the reads of a still synthetic scene voted a
 * wrong plate, B12345 for 京B12345, at confidence 1.0: docs/plate-model.md).
 * So reads less than FL_PLATE_VOTE_APART_S apart
 * form one moment, and a moment is one witness: per position it says what
 * its reads support most, as sure as its surest read that says it and only
 * as far as its reads agree. Independent witnesses are moments far apart,
 * when the light, the shade and the people in front have changed. The
 * voted confidence is also never above 1 - prod(1 - b) over the moments (b
 * the best single read of each): one moment is no surer than its best read,
 * and only agreeing moments make the vote surer than any read.
 *
 * The voted text is "unread" below a confidence threshold chosen by the
 * caller: the reader's calibration (docs/plate-model.md) says what precision
 * a threshold buys for one read, and with reads of one moment the vote is
 * no more confident than its best read, so the same threshold holds.
 * Moments far apart are still the same car at the same angle, so even
 * their agreement is optimistic: see docs/plate-model.md for what the vote
 * measured on rendered sequences.
 */
#include "plate.h"

#include <math.h>
#include <string.h>

#include "fl.h"

int fl_utf8_decode(const char *s, uint32_t *cp, int max)
{
	const unsigned char *p = (const unsigned char *)s;
	int n = 0;

	if (!s || (max > 0 && !cp) || max < 0)
		return FL_EINVAL;
	while (*p) {
		uint32_t c;
		int len;

		if (p[0] < 0x80) {
			c = p[0];
			len = 1;
		} else if ((p[0] & 0xE0) == 0xC0) {
			c = p[0] & 0x1F;
			len = 2;
		} else if ((p[0] & 0xF0) == 0xE0) {
			c = p[0] & 0x0F;
			len = 3;
		} else if ((p[0] & 0xF8) == 0xF0) {
			c = p[0] & 0x07;
			len = 4;
		} else {
			return FL_EFORMAT;
		}
		for (int i = 1; i < len; i++) {
			/* a NUL here also fails the test: no read past it */
			if ((p[i] & 0xC0) != 0x80)
				return FL_EFORMAT;
			c = (c << 6) | (p[i] & 0x3F);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
		    (len == 4 && c < 0x10000) || c > 0x10FFFF ||
		    (c >= 0xD800 && c <= 0xDFFF))
			return FL_EFORMAT;
		if (n == max)
			return FL_ERANGE;
		cp[n++] = c;
		p += len;
	}
	return n;
}

int fl_utf8_encode(const uint32_t *cp, int n, char *buf, size_t size)
{
	size_t o = 0;

	if (!buf || size == 0 || n < 0 || (n > 0 && !cp))
		return FL_EINVAL;
	for (int i = 0; i < n; i++) {
		uint32_t c = cp[i];
		unsigned char b[4];
		size_t len;

		if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || c == 0)
			return FL_EINVAL;
		if (c < 0x80) {
			b[0] = (unsigned char)c;
			len = 1;
		} else if (c < 0x800) {
			b[0] = (unsigned char)(0xC0 | (c >> 6));
			b[1] = (unsigned char)(0x80 | (c & 0x3F));
			len = 2;
		} else if (c < 0x10000) {
			b[0] = (unsigned char)(0xE0 | (c >> 12));
			b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
			b[2] = (unsigned char)(0x80 | (c & 0x3F));
			len = 3;
		} else {
			b[0] = (unsigned char)(0xF0 | (c >> 18));
			b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
			b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
			b[3] = (unsigned char)(0x80 | (c & 0x3F));
			len = 4;
		}
		if (o + len + 1 > size)
			return FL_ERANGE;
		memcpy(buf + o, b, len);
		o += len;
	}
	buf[o] = '\0';
	return (int)o;
}

/* ---- shapes -------------------------------------------------------------- */

/* The provinces' one-character names, in the order of GA 36's table, and the
 * suffixes of special plates; UTF-8. */
static const char provinces[] =
	"京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

static int in_utf8_set(const char *set, uint32_t c)
{
	uint32_t cp[64];
	int n = fl_utf8_decode(set, cp, (int)FL_ARRAY_SIZE(cp));

	for (int i = 0; i < n; i++)
		if (cp[i] == c)
			return 1;
	return 0;
}

static int is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

/* A–Z without I and O: Chinese plates leave them out (they read as 1, 0). */
static int is_cn_letter(uint32_t c)
{
	return c >= 'A' && c <= 'Z' && c != 'I' && c != 'O';
}

static int is_cn_alnum(uint32_t c)
{
	return is_digit(c) || is_cn_letter(c);
}

/* Characters i..j-1 of cp all pass f. */
static int all(const uint32_t *cp, int i, int j, int (*f)(uint32_t))
{
	for (int k = i; k < j; k++)
		if (!f(cp[k]))
			return 0;
	return 1;
}

/* Does a text with at least one character beyond ASCII fit GA 36? */
static int cn_shape(const uint32_t *cp, int n)
{
	if (n == 7 && cp[0] == 0x4F7F) /* 使 */
		return all(cp, 1, 7, is_digit);
	if (n == 7 && cp[0] == 0x7CA4 && cp[1] == 'Z' && /* 粤Z..港|澳 */
	    (cp[6] == 0x6E2F || cp[6] == 0x6FB3))
		return all(cp, 2, 6, is_cn_alnum);
	if (n < 7 || n > 8 || !in_utf8_set(provinces, cp[0]) ||
	    !is_cn_letter(cp[1]))
		return 0;
	if (n == 8) {
		int df2 = cp[2] == 'D' || cp[2] == 'F';
		int df7 = cp[7] == 'D' || cp[7] == 'F';
		return (df2 && is_cn_alnum(cp[3]) && all(cp, 4, 8, is_digit)) ||
		       (df7 && all(cp, 2, 7, is_digit));
	}
	if (all(cp, 2, 7, is_cn_alnum))
		return 1;
	/* 学 挂 警 领 */
	return all(cp, 2, 6, is_cn_alnum) &&
	       (cp[6] == 0x5B66 || cp[6] == 0x6302 || cp[6] == 0x8B66 ||
		cp[6] == 0x9886);
}

static int is_latin_alnum(uint32_t c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z');
}

enum fl_plate_shape fl_plate_shape(const char *text)
{
	uint32_t cp[FL_PLATE_MAX_CHARS];
	int n;

	if (!text)
		return FL_PLATE_SHAPE_NONE;
	n = fl_utf8_decode(text, cp, FL_PLATE_MAX_CHARS);
	if (n <= 0)
		return FL_PLATE_SHAPE_NONE;
	if (all(cp, 0, n, is_latin_alnum))
		return n >= 4 && n <= 8 ? FL_PLATE_SHAPE_LATIN
					: FL_PLATE_SHAPE_NONE;
	return cn_shape(cp, n) ? FL_PLATE_SHAPE_CN : FL_PLATE_SHAPE_NONE;
}

double fl_plate_min_conf(const char *text, int rows)
{
	switch (fl_plate_shape(text)) {
	case FL_PLATE_SHAPE_CN:
		return rows == 2 ? FL_PLATE_MIN_CONF_CN2 : FL_PLATE_MIN_CONF_CN;
	case FL_PLATE_SHAPE_LATIN:
		return FL_PLATE_MIN_CONF_LATIN;
	default:
		return 2.0;
	}
}

/* ---- voting -------------------------------------------------------------- */

/* Keep a probability away from 0 and 1: a reader's 1.0 is never certain,
 * and one witness at 1.0 would silence all the others. */
static double clamp_p(double p)
{
	if (!(p >= 0.001))
		return 0.001;
	return p > 0.999 ? 0.999 : p;
}

/* The posterior of the most likely symbol at one position, over the
 * witnesses w[0..nw) (their symbol and char confidence); *symbol gets it. */
static double vote_position(const uint32_t *said, const double *p, int nw,
			    uint32_t *symbol)
{
	const double k1 = FL_PLATE_VOTE_SYMBOLS - 1;
	uint32_t sym[FL_PLATE_VOTE_MAX];
	double logp[FL_PLATE_VOTE_MAX], lother = 0, mx, z = 0;
	int m = 0, best = 0;

	for (int u = 0; u < nw; u++) {
		int j = 0;
		while (j < m && sym[j] != said[u])
			j++;
		if (j == m) {
			sym[m] = said[u];
			logp[m++] = 0;
		}
	}
	/* each witness: log p for what it says, log (1-p)/(K-1) elsewhere */
	for (int u = 0; u < nw; u++) {
		double yes = log(p[u]), no = log((1 - p[u]) / k1);
		for (int j = 0; j < m; j++)
			logp[j] += sym[j] == said[u] ? yes : no;
		lother += no;
	}
	mx = lother;
	for (int j = 0; j < m; j++) {
		mx = fmax(mx, logp[j]);
		if (logp[j] > logp[best])
			best = j;
	}
	for (int j = 0; j < m; j++)
		z += exp(logp[j] - mx);
	/* the symbols nobody said share what is left */
	if (FL_PLATE_VOTE_SYMBOLS > m)
		z += (FL_PLATE_VOTE_SYMBOLS - m) * exp(lother - mx);
	*symbol = sym[best];
	return exp(logp[best] - mx) / z;
}

/* A read's time for grouping: any finite t, else 0 (one moment). */
static double read_t(const fl_plate_text *r)
{
	return isfinite(r->t) ? r->t : 0.0;
}

/* Sort the rows idx[0..n) by their read's time (insertion sort: n is at
 * most FL_PLATE_VOTE_MAX; stable, so equal times keep the callers' order). */
static void sort_by_time(const fl_plate_text *reads, int *idx, int n)
{
	for (int i = 1; i < n; i++) {
		int v = idx[i], j = i;
		while (j > 0 && read_t(&reads[idx[j - 1]]) > read_t(&reads[v])) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

/* One witness at one position from the reads rows[0..nr) of one moment:
 * the symbol most of them support (by the sum of char_conf), with the
 * highest char_conf among the reads that say it times their share. */
static double moment_witness(const uint32_t (*cp)[FL_PLATE_MAX_CHARS],
			     const fl_plate_text *reads, const int *from,
			     const int *rows, int nr, int pos, uint32_t *symbol)
{
	double best_sum = -1, best_p = 0;

	for (int a = 0; a < nr; a++) {
		uint32_t c = cp[rows[a]][pos];
		double sum = 0, mx = 0;
		int said = 0, seen = 0;

		for (int b = 0; b < a && !seen; b++)
			seen = cp[rows[b]][pos] == c;
		if (seen)
			continue;
		for (int b = 0; b < nr; b++)
			if (cp[rows[b]][pos] == c) {
				double q = clamp_p(
					reads[from[rows[b]]].char_conf[pos]);
				sum += q;
				mx = fmax(mx, q);
				said++;
			}
		if (sum > best_sum) {
			best_sum = sum;
			best_p = mx * said / nr;
			*symbol = c;
		}
	}
	return clamp_p(best_p);
}

int fl_plate_vote(const fl_plate_text *reads, int n, double min_conf,
		  fl_plate_text *out)
{
	uint32_t cp[FL_PLATE_VOTE_MAX][FL_PLATE_MAX_CHARS];
	uint32_t voted[FL_PLATE_MAX_CHARS];
	int from[FL_PLATE_VOTE_MAX]; /* decoded row -> index in reads */
	int order[FL_PLATE_VOTE_MAX], start[FL_PLATE_VOTE_MAX + 1];
	double mass[FL_PLATE_MAX_CHARS + 1] = { 0 }, total = 0, conf, prod = 1;
	double none_right = 1; /* prod over witnesses of 1 - best read */
	int used = 0, best_len = 0, rows2 = 0, nw = 0, nmom = 0;

	if (n < 0 || (n > 0 && !reads) || !out)
		return FL_EINVAL;
	memset(out, 0, sizeof(*out));
	out->rows = 1;
	for (int i = 0; i < n && used < FL_PLATE_VOTE_MAX; i++) {
		int k = fl_utf8_decode(reads[i].text, cp[used],
				       FL_PLATE_MAX_CHARS);
		if (k <= 0 || k != reads[i].nchars)
			continue; /* nothing read, or inconsistent */
		mass[k] += clamp_p(reads[i].conf);
		total += clamp_p(reads[i].conf);
		from[used++] = i;
	}
	for (int k = 1; k <= FL_PLATE_MAX_CHARS; k++)
		if (mass[k] > mass[best_len])
			best_len = k;
	if (best_len == 0)
		return 0;

	/* reads of the other lengths only count against the winner */
	conf = mass[best_len] / total;
	for (int u = 0; u < used; u++)
		if (reads[from[u]].nchars == best_len) {
			from[nw] = from[u];
			memcpy(cp[nw], cp[u], sizeof(cp[u]));
			rows2 += reads[from[u]].rows == 2;
			order[nw] = nw;
			nw++;
		}

	/* moments: runs of reads less than FL_PLATE_VOTE_APART_S after the
	 * run's first one; each is one witness */
	sort_by_time(reads, order, nw);
	for (int u = 0; u < nw; u++) {
		double t = read_t(&reads[from[order[u]]]);
		if (u == 0 ||
		    t - read_t(&reads[from[order[start[nmom - 1]]]]) >=
			    FL_PLATE_VOTE_APART_S)
			start[nmom++] = u;
		out->t = t; /* sorted: the last is the latest */
	}
	start[nmom] = nw;
	for (int m = 0; m < nmom; m++) {
		double b = 0;
		for (int u = start[m]; u < start[m + 1]; u++)
			b = fmax(b, clamp_p(reads[from[order[u]]].conf));
		none_right *= 1 - b;
	}

	for (int pos = 0; pos < best_len; pos++) {
		uint32_t said[FL_PLATE_VOTE_MAX];
		double p[FL_PLATE_VOTE_MAX], post;

		for (int m = 0; m < nmom; m++)
			p[m] = moment_witness(
				(const uint32_t(*)[FL_PLATE_MAX_CHARS])cp,
				reads, from, order + start[m],
				start[m + 1] - start[m], pos, &said[m]);
		post = vote_position(said, p, nmom, &voted[pos]);
		out->char_conf[pos] = (float)post;
		prod *= post;
	}
	conf *= fmin(prod, 1 - none_right);
	out->rows = 2 * rows2 > nw ? 2 : 1;
	out->conf = conf;
	if (fl_utf8_encode(voted, best_len, out->text, sizeof(out->text)) < 0 ||
	    conf < (min_conf < 0 ? fl_plate_min_conf(out->text, out->rows)
				 : min_conf)) {
		memset(out->char_conf, 0, sizeof(out->char_conf));
		out->text[0] = '\0';
		return 0;
	}
	out->nchars = best_len;
	return 1;
}
