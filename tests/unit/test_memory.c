/*
 * test_memory.c - the edge camera's memory as bytes (src/detect/memory.c):
 * what is written is read back exactly; a corrupt, truncated, foreign or
 * future file is refused whole with a reason; an object's look is told
 * from another object's under a change of light.
 */
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "memory.h"
#include "test.h"

#define W 40
#define H 30

static fl_memory *sample_memory(void)
{
	fl_memory *m = fl_memory_create(W, H);
	uint8_t img[W * H];
	double box[4] = { 5, 6, 12, 9 };

	if (!m)
		return NULL;
	for (int i = 0; i < W * H; i++)
		img[i] = (uint8_t)((i * 37) % 251);
	m->fingerprint = fl_memory_fingerprint("edge-01", "cam-1", W, H);
	m->saved_at = 1700000123.5;
	m->slot[FL_MEM_NIGHT].used = 1;
	m->slot[FL_MEM_NIGHT].learnt_at = 1700000100.25;
	for (int i = 0; i < W * H; i++) {
		m->slot[FL_MEM_NIGHT].bg[i] = img[i];
		m->slot[FL_MEM_NIGHT].q[i] = (uint8_t)(i % 3);
	}
	m->nlanes = 2;
	snprintf(m->lane[0].id, sizeof(m->lane[0].id), "lane-a");
	snprintf(m->lane[1].id, sizeof(m->lane[1].id), "lane-b");
	m->lane[1].next_seq = 17;
	m->lane[0].n = 1;
	snprintf(m->lane[0].inc[0].m.incident_id, FL_INCIDENT_ID_MAX,
		 "edge-01-1700000000-lane-a-3");
	m->lane[0].inc[0].m.box[0] = 10.5;
	m->lane[0].inc[0].m.box[1] = 12;
	m->lane[0].inc[0].m.box[2] = 24;
	m->lane[0].inc[0].m.box[3] = 18;
	m->lane[0].inc[0].m.rest_since = 1700000050.125;
	m->lane[0].inc[0].m.cls = FL_CLASS_VEHICLE;
	m->lane[0].inc[0].m.alarmed = 1;
	m->lane[0].inc[0].m.announced = 1;
	fl_memory_take_look(&m->lane[0].inc[0], img, W, H, box);
	return m;
}

static void test_round_trip(void)
{
	fl_memory *m = sample_memory(), *r = fl_memory_create(W, H);
	uint8_t *buf = NULL;
	size_t len = 0;
	char err[128] = "";

	CHECK(m && r);
	if (!m || !r)
		return;
	CHECK(fl_memory_encode(m, &buf, &len) == 0);
	CHECK(fl_memory_decode(r, buf, len, m->fingerprint, err, sizeof(err)) ==
	      0);
	CHECK_MSG(err[0] == 0, "%s", err);
	CHECK(r->saved_at == m->saved_at);
	CHECK(!r->slot[FL_MEM_DAY].used && r->slot[FL_MEM_NIGHT].used);
	CHECK(r->slot[FL_MEM_NIGHT].learnt_at == 1700000100.25);
	CHECK(!memcmp(r->slot[FL_MEM_NIGHT].bg, m->slot[FL_MEM_NIGHT].bg,
		      W * H));
	CHECK(!memcmp(r->slot[FL_MEM_NIGHT].q, m->slot[FL_MEM_NIGHT].q, W * H));
	CHECK(r->nlanes == 2 && !strcmp(r->lane[1].id, "lane-b") &&
	      r->lane[1].n == 0 && r->lane[0].n == 1 &&
	      r->lane[1].next_seq == 17);
	CHECK(!strcmp(r->lane[0].inc[0].m.incident_id,
		      "edge-01-1700000000-lane-a-3"));
	CHECK(r->lane[0].inc[0].m.box[0] == 10.5 &&
	      r->lane[0].inc[0].m.rest_since == 1700000050.125 &&
	      r->lane[0].inc[0].m.alarmed && r->lane[0].inc[0].m.announced &&
	      r->lane[0].inc[0].m.cls == FL_CLASS_VEHICLE);
	CHECK(r->lane[0].inc[0].pw == 12 && r->lane[0].inc[0].ph == 9 &&
	      !memcmp(r->lane[0].inc[0].patch, m->lane[0].inc[0].patch, 12 * 9));

	/* every single flipped byte is refused (the checksum, or a check) */
	for (size_t i = 0; i < len; i += 7) {
		buf[i] ^= 0x5a;
		CHECK_MSG(fl_memory_decode(r, buf, len, m->fingerprint, err,
					   sizeof(err)) == FL_EFORMAT,
			  "byte %zu flipped accepted", i);
		CHECK(r->nlanes == 0 && !r->slot[FL_MEM_NIGHT].used);
		buf[i] ^= 0x5a;
	}
	/* cut short anywhere */
	for (size_t n = 0; n < len; n += 97)
		CHECK(fl_memory_decode(r, buf, n, m->fingerprint, err,
				       sizeof(err)) == FL_EFORMAT);
	/* another camera's, or another size */
	CHECK(fl_memory_decode(r, buf, len,
			       fl_memory_fingerprint("edge-01", "cam-2", W, H),
			       err, sizeof(err)) == FL_EFORMAT);
	CHECK_MSG(strstr(err, "another device or camera") != NULL, "%s", err);
	fl_memory_destroy(r);
	r = fl_memory_create(W + 1, H);
	CHECK(r && fl_memory_decode(r, buf, len, m->fingerprint, err,
				    sizeof(err)) == FL_EFORMAT);
	CHECK(fl_memory_decode(r, (const uint8_t *)"hello world!", 12, 0, err,
			       sizeof(err)) == FL_EFORMAT);
	CHECK_MSG(strstr(err, "not a firelane memory") != NULL, "%s", err);
	free(buf);
	fl_memory_destroy(m);
	fl_memory_destroy(r);
	fl_memory_destroy(NULL);
	CHECK(fl_memory_create(4, 4) == NULL);
}

/* A look is the same object under other light, not another object. */
static void test_looks(void)
{
	uint8_t a[W * H], lit[W * H], other[W * H];
	double box[4] = { 8, 4, 20, 16 };
	fl_mem_incident inc;
	unsigned r = 5;

	for (int i = 0; i < W * H; i++) {
		int x = i % W, y = i / W;
		r = r * 1103515245u + 12345u;
		a[i] = (uint8_t)(60 + 40 * ((x / 4 + y / 3) % 3) +
				 (r >> 16) % 5);
		lit[i] = (uint8_t)FL_MIN(255, a[i] * 1.6 + 10);
		other[i] = (uint8_t)(60 + 40 * ((x / 5 + 2 * y / 3) % 3));
	}
	memset(&inc, 0, sizeof(inc));
	CHECK(fl_memory_look_like(&inc, a, W, H, box) == -1);
	fl_memory_take_look(&inc, a, W, H, box);
	CHECK(inc.pw == 20 && inc.ph == 16);
	CHECK(fl_memory_look_like(&inc, a, W, H, box) > 0.99);
	CHECK(fl_memory_look_like(&inc, lit, W, H, box) > 0.95);
	CHECK_MSG(fl_memory_look_like(&inc, other, W, H, box) < 0.5, "%.2f",
		  fl_memory_look_like(&inc, other, W, H, box));
}

int main(void)
{
	test_round_trip();
	test_looks();
	TEST_DONE();
}
