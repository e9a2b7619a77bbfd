/*
 * memory.c - the edge camera's memory as bytes, and its comparisons.
 *
 * A note on the format. One file per camera, written whole (the edge
 * replaces it crash-safely), little-endian throughout:
 *
 *   "FLMEMORY" | u32 version (1) | u64 fingerprint | u32 w | u32 h |
 *   f64 saved_at |
 *   2 x slot: u8 used | f64 learnt_at | w*h bg | w*h q       (when used)
 *   u32 nlanes | per lane: 64 B id | u32 next_seq | u32 n |
 *     per incident: 128 B incident id | 4 x f64 box | f64 rest_since |
 *                   i32 cls | u8 alarmed | u8 announced | u8 pw | u8 ph |
 *                   pw*ph patch
 *   u32 CRC-32 of everything before it
 *
 * Ids are NUL-padded fields, checked on reading like the configuration's
 * (fl_id_valid rules for lanes, printable for incident ids). Nothing in a
 * file is trusted: a short, long, foreign or corrupt file is refused as a
 * whole with the reason, and the edge runs without memory.
 */
#include "memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"

#define MAGIC "FLMEMORY"
#define VERSION 1
#define LANE_ID_BYTES 64
#define INC_ID_BYTES 128

fl_memory *fl_memory_create(int w, int h)
{
	fl_memory *m;

	if (w < 8 || h < 8 || w > 4096 || h > 4096)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->w = w;
	m->h = h;
	for (int i = 0; i < FL_MEM_SLOTS; i++) {
		m->slot[i].bg = calloc((size_t)w * (size_t)h, 1);
		m->slot[i].q = calloc((size_t)w * (size_t)h, 1);
		if (!m->slot[i].bg || !m->slot[i].q) {
			fl_memory_destroy(m);
			return NULL;
		}
	}
	return m;
}

void fl_memory_destroy(fl_memory *m)
{
	if (!m)
		return;
	for (int i = 0; i < FL_MEM_SLOTS; i++) {
		free(m->slot[i].bg);
		free(m->slot[i].q);
	}
	free(m);
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t fl_memory_fingerprint(const char *device, const char *camera, int w,
			       int h)
{
	uint64_t f = 0xcbf29ce484222325ull;
	int32_t size[2] = { w, h };

	f = fnv(f, device, strlen(device) + 1);
	f = fnv(f, camera, strlen(camera) + 1);
	return fnv(f, size, sizeof(size));
}

/* ---- writing ---- */

typedef struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int failed;
} wbuf;

static void put(wbuf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		size_t cap = FL_MAX(b->cap * 2, b->len + len + 4096);
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put_u(wbuf *b, uint64_t v, int bytes)
{
	uint8_t x[8];

	for (int i = 0; i < bytes; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put(b, x, (size_t)bytes);
}

static void put_f64(wbuf *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	put_u(b, u, 8);
}

static void put_str(wbuf *b, const char *s, size_t field)
{
	uint8_t z[INC_ID_BYTES] = { 0 };
	size_t n = strnlen(s, field - 1);

	put(b, s, n);
	put(b, z, field - n);
}

int fl_memory_encode(const fl_memory *m, uint8_t **out, size_t *len)
{
	wbuf b = { 0 };
	size_t px = (size_t)m->w * (size_t)m->h;

	put(&b, MAGIC, 8);
	put_u(&b, VERSION, 4);
	put_u(&b, m->fingerprint, 8);
	put_u(&b, (uint64_t)m->w, 4);
	put_u(&b, (uint64_t)m->h, 4);
	put_f64(&b, m->saved_at);
	for (int i = 0; i < FL_MEM_SLOTS; i++) {
		put_u(&b, m->slot[i].used ? 1 : 0, 1);
		if (!m->slot[i].used)
			continue;
		put_f64(&b, m->slot[i].learnt_at);
		put(&b, m->slot[i].bg, px);
		put(&b, m->slot[i].q, px);
	}
	put_u(&b, (uint64_t)m->nlanes, 4);
	for (int l = 0; l < m->nlanes; l++) {
		const fl_mem_lane *ln = &m->lane[l];
		put_str(&b, ln->id, LANE_ID_BYTES);
		put_u(&b, ln->next_seq, 4);
		put_u(&b, (uint64_t)ln->n, 4);
		for (int i = 0; i < ln->n; i++) {
			const fl_mem_incident *in = &ln->inc[i];
			put_str(&b, in->m.incident_id, INC_ID_BYTES);
			for (int k = 0; k < 4; k++)
				put_f64(&b, in->m.box[k]);
			put_f64(&b, in->m.rest_since);
			put_u(&b, (uint32_t)in->m.cls, 4);
			put_u(&b, in->m.alarmed ? 1 : 0, 1);
			put_u(&b, in->m.announced ? 1 : 0, 1);
			put_u(&b, (uint64_t)in->pw, 1);
			put_u(&b, (uint64_t)in->ph, 1);
			put(&b, in->patch, (size_t)in->pw * (size_t)in->ph);
		}
	}
	put_u(&b, b.failed ? 0 : fl_crc32(0, b.p, b.len), 4);
	if (b.failed) {
		free(b.p);
		return FL_ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* ---- reading ---- */

typedef struct rbuf {
	const uint8_t *p;
	size_t len, at;
	const char *why; /* the first thing that did not fit */
} rbuf;

static const uint8_t *take(rbuf *b, size_t n, const char *what)
{
	const uint8_t *p;

	if (b->why)
		return NULL;
	if (n > b->len - b->at) {
		b->why = what;
		return NULL;
	}
	p = b->p + b->at;
	b->at += n;
	return p;
}

static uint64_t get_u(rbuf *b, int bytes, const char *what)
{
	const uint8_t *p = take(b, (size_t)bytes, what);
	uint64_t v = 0;

	for (int i = 0; p && i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static double get_f64(rbuf *b, const char *what)
{
	uint64_t u = get_u(b, 8, what);
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

/* A NUL-padded text field: at least one printable ASCII byte (ids), then
 * nothing but NULs to the field's end. */
static int get_str(rbuf *b, char *out, size_t field, const char *what)
{
	const uint8_t *p = take(b, field, what);
	size_t n;

	if (!p)
		return -1;
	n = strnlen((const char *)p, field);
	if (n == 0 || n >= field) {
		b->why = what;
		return -1;
	}
	for (size_t i = 0; i < field; i++)
		if (i < n ? p[i] < 0x21 || p[i] > 0x7e : p[i] != 0) {
			b->why = what;
			return -1;
		}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int bad(fl_memory *m, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	for (int i = 0; i < FL_MEM_SLOTS; i++)
		m->slot[i].used = 0;
	m->nlanes = 0;
	return FL_EFORMAT;
}

int fl_memory_decode(fl_memory *m, const uint8_t *buf, size_t len,
		     uint64_t expect, char *err, size_t errlen)
{
	rbuf b = { buf, len, 0, NULL };
	size_t px = (size_t)m->w * (size_t)m->h;
	uint64_t v;

	m->nlanes = 0;
	for (int i = 0; i < FL_MEM_SLOTS; i++)
		m->slot[i].used = 0;
	if (len < 12 || memcmp(buf, MAGIC, 8))
		return bad(m, err, errlen, "not a firelane memory file");
	if (get_u(&(rbuf){ buf + len - 4, 4, 0, NULL }, 4, "") !=
	    fl_crc32(0, buf, len - 4))
		return bad(m, err, errlen, "checksum mismatch (corrupt)");
	b.len = len - 4;
	take(&b, 8, "magic");
	if ((v = get_u(&b, 4, "version")) != VERSION) {
		char why[64];
		snprintf(why, sizeof(why), "version %llu, not %d",
			 (unsigned long long)v, VERSION);
		return bad(m, err, errlen, why);
	}
	m->fingerprint = get_u(&b, 8, "fingerprint");
	if (!b.why && m->fingerprint != expect)
		return bad(m, err, errlen,
			   "written by another device or camera, or at "
			   "another analysis size");
	if (get_u(&b, 4, "width") != (uint64_t)m->w ||
	    get_u(&b, 4, "height") != (uint64_t)m->h)
		return bad(m, err, errlen,
			   b.why ? b.why : "frame size differs");
	m->saved_at = get_f64(&b, "saved_at");
	for (int i = 0; i < FL_MEM_SLOTS; i++) {
		const uint8_t *p;
		v = get_u(&b, 1, "slot");
		if (v > 1)
			return bad(m, err, errlen, "bad slot flag");
		if (!v)
			continue;
		m->slot[i].learnt_at = get_f64(&b, "slot time");
		if (!b.why && !isfinite(m->slot[i].learnt_at))
			return bad(m, err, errlen, "bad slot time");
		if ((p = take(&b, px, "slot image")))
			memcpy(m->slot[i].bg, p, px);
		if ((p = take(&b, px, "slot quality")))
			memcpy(m->slot[i].q, p, px);
		for (size_t k = 0; p && k < px; k++)
			if (m->slot[i].q[k] > 2)
				return bad(m, err, errlen, "bad quality value");
		m->slot[i].used = !b.why;
	}
	v = get_u(&b, 4, "lane count");
	if (v > FL_MAX_LANES)
		return bad(m, err, errlen, "too many lanes");
	for (uint64_t l = 0; l < v && !b.why; l++) {
		fl_mem_lane *ln = &m->lane[l];
		uint64_t n;
		get_str(&b, ln->id, LANE_ID_BYTES, "lane id");
		ln->next_seq = (unsigned)get_u(&b, 4, "next incident");
		n = get_u(&b, 4, "incident count");
		if (n > FL_LANE_SPOTS)
			return bad(m, err, errlen, "too many incidents");
		ln->n = (int)n;
		for (int i = 0; i < ln->n && !b.why; i++) {
			fl_mem_incident *in = &ln->inc[i];
			const uint8_t *p;
			memset(in, 0, sizeof(*in));
			get_str(&b, in->m.incident_id, INC_ID_BYTES,
				"incident id");
			for (int k = 0; k < 4; k++)
				in->m.box[k] = get_f64(&b, "box");
			in->m.rest_since = get_f64(&b, "rest_since");
			in->m.cls = (int)(int32_t)get_u(&b, 4, "class");
			in->m.alarmed = (int)get_u(&b, 1, "alarmed");
			in->m.announced = (int)get_u(&b, 1, "announced");
			in->pw = (int)get_u(&b, 1, "look width");
			in->ph = (int)get_u(&b, 1, "look height");
			if (b.why)
				break;
			if (in->pw > FL_MEM_PATCH || in->ph > FL_MEM_PATCH ||
			    (in->pw == 0) != (in->ph == 0) ||
			    in->m.alarmed > 1 || in->m.announced > 1 ||
			    in->m.cls < 0 || in->m.cls > 7 ||
			    !isfinite(in->m.rest_since) ||
			    !isfinite(in->m.box[0]) ||
			    !isfinite(in->m.box[1]) ||
			    !(in->m.box[2] > 0 && in->m.box[2] < 1e5) ||
			    !(in->m.box[3] > 0 && in->m.box[3] < 1e5))
				return bad(m, err, errlen, "bad incident");
			if ((p = take(&b, (size_t)in->pw * (size_t)in->ph,
				      "look")))
				memcpy(in->patch, p,
				       (size_t)in->pw * (size_t)in->ph);
		}
		m->nlanes = (int)l + 1;
	}
	if (b.why)
		return bad(m, err, errlen, b.why);
	if (b.at != b.len)
		return bad(m, err, errlen, "trailing bytes");
	if (!isfinite(m->saved_at))
		return bad(m, err, errlen, "bad time");
	return 0;
}

/* ---- looks ---- */

/* Box (analysis pixels) clipped to the frame, as integer bounds; 0 when
 * nothing is left. */
static int clip_box(const double *box, int w, int h, int *x0, int *y0, int *x1,
		    int *y1)
{
	*x0 = (int)FL_MAX(0, floor(box[0]));
	*y0 = (int)FL_MAX(0, floor(box[1]));
	*x1 = (int)FL_MIN(w, ceil(box[0] + box[2]));
	*y1 = (int)FL_MIN(h, ceil(box[1] + box[3]));
	return *x1 > *x0 && *y1 > *y0;
}

/* The box's pixels, averaged down into pw x ph cells. */
static void sample(const uint8_t *img, int w, int x0, int y0, int x1, int y1,
		   int pw, int ph, double *out)
{
	for (int j = 0; j < ph; j++)
		for (int i = 0; i < pw; i++) {
			int xa = x0 + (x1 - x0) * i / pw;
			int xb = FL_MAX(xa + 1, x0 + (x1 - x0) * (i + 1) / pw);
			int ya = y0 + (y1 - y0) * j / ph;
			int yb = FL_MAX(ya + 1, y0 + (y1 - y0) * (j + 1) / ph);
			double s = 0;
			for (int y = ya; y < yb; y++)
				for (int x = xa; x < xb; x++)
					s += img[(size_t)y * w + x];
			out[j * pw + i] = s / ((xb - xa) * (yb - ya));
		}
}

void fl_memory_take_look(fl_mem_incident *inc, const uint8_t *img, int w, int h,
			 const double *box)
{
	double v[FL_MEM_PATCH * FL_MEM_PATCH];
	int x0, y0, x1, y1;

	inc->pw = inc->ph = 0;
	if (!clip_box(box, w, h, &x0, &y0, &x1, &y1))
		return;
	inc->pw = FL_MIN(FL_MEM_PATCH, x1 - x0);
	inc->ph = FL_MIN(FL_MEM_PATCH, y1 - y0);
	sample(img, w, x0, y0, x1, y1, inc->pw, inc->ph, v);
	for (int i = 0; i < inc->pw * inc->ph; i++)
		inc->patch[i] = (uint8_t)lround(v[i]);
}

double fl_memory_look_like(const fl_mem_incident *inc, const uint8_t *img,
			   int w, int h, const double *box)
{
	double v[FL_MEM_PATCH * FL_MEM_PATCH];
	double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
	int x0, y0, x1, y1, n = inc->pw * inc->ph;

	if (!n || !clip_box(box, w, h, &x0, &y0, &x1, &y1))
		return -1;
	sample(img, w, x0, y0, x1, y1, inc->pw, inc->ph, v);
	for (int i = 0; i < n; i++) {
		double a = inc->patch[i], b = v[i];
		sa += a;
		sb += b;
		saa += a * a;
		sbb += b * b;
		sab += a * b;
	}
	saa -= sa * sa / n;
	sbb -= sb * sb / n;
	sab -= sa * sb / n;
	if (saa <= 1e-9 || sbb <= 1e-9) /* flat: level alone decides */
		return fabs(sa - sb) / n < 16 ? 1 : 0;
	return sab / sqrt(saa * sbb);
}
