/*
 * test_plate.c - plate texts in core (src/core/plate.c): UTF-8, the shapes
 * of Chinese and Latin plate numbers, and voting over reads of one car.
 */
#include <math.h>
#include <string.h>

#include "fl.h"
#include "plate.h"
#include "test.h"

/* A read of text with every character at p and the whole at conf. */
static fl_plate_text mk(const char *text, double p, double conf)
{
	fl_plate_text t;
	uint32_t cp[FL_PLATE_MAX_CHARS];

	memset(&t, 0, sizeof(t));
	snprintf(t.text, sizeof(t.text), "%s", text);
	t.nchars = fl_utf8_decode(text, cp, FL_PLATE_MAX_CHARS);
	if (t.nchars < 0)
		t.nchars = 0;
	for (int i = 0; i < t.nchars; i++)
		t.char_conf[i] = (float)p;
	t.conf = conf;
	t.rows = 1;
	return t;
}

static void test_utf8(void)
{
	uint32_t cp[8];
	char buf[16];

	CHECK(fl_utf8_decode("渝A12345", cp, 8) == 7);
	CHECK(cp[0] == 0x6E1D && cp[1] == 'A' && cp[6] == '5');
	CHECK(fl_utf8_encode(cp, 7, buf, sizeof(buf)) == 9);
	CHECK(strcmp(buf, "渝A12345") == 0);
	CHECK(fl_utf8_encode(cp, 7, buf, 9) == FL_ERANGE); /* no room for NUL */
	CHECK(fl_utf8_decode("", cp, 8) == 0);
	CHECK(fl_utf8_decode("ABCDEFGHI", cp, 8) == FL_ERANGE);
	CHECK(fl_utf8_decode("\xC0\x80", cp, 8) == FL_EFORMAT); /* overlong */
	CHECK(fl_utf8_decode("\xED\xA0\x80", cp, 8) ==
	      FL_EFORMAT);                                      /* surrogate */
	CHECK(fl_utf8_decode("\xE6\xB8", cp, 8) == FL_EFORMAT); /* cut short */
	CHECK(fl_utf8_decode("\xF4\x90\x80\x80", cp, 8) == FL_EFORMAT);
	CHECK(fl_utf8_decode("\x80", cp, 8) == FL_EFORMAT);
	uint32_t bad = 0xD800;
	CHECK(fl_utf8_encode(&bad, 1, buf, sizeof(buf)) == FL_EINVAL);
}

static void test_shapes(void)
{
	static const struct {
		const char *text;
		enum fl_plate_shape shape;
	} cases[] = {
		{ "渝A12345", FL_PLATE_SHAPE_CN },  /* blue */
		{ "京AD12345", FL_PLATE_SHAPE_CN }, /* small new energy */
		{ "京AFA2345", FL_PLATE_SHAPE_CN },
		{ "京AF1A345", FL_PLATE_SHAPE_NONE },
		{ "沪B12345D", FL_PLATE_SHAPE_CN }, /* large new energy */
		{ "粤B1234学", FL_PLATE_SHAPE_CN },
		{ "川A1234挂", FL_PLATE_SHAPE_CN },
		{ "苏A1234警", FL_PLATE_SHAPE_CN },
		{ "沪A1234领", FL_PLATE_SHAPE_CN },
		{ "粤Z1234港", FL_PLATE_SHAPE_CN },
		{ "粤ZAB12澳", FL_PLATE_SHAPE_CN },
		{ "使014578", FL_PLATE_SHAPE_CN },
		{ "渝I12345", FL_PLATE_SHAPE_NONE },  /* no I or O */
		{ "渝A1234", FL_PLATE_SHAPE_NONE },   /* short */
		{ "渝A123456", FL_PLATE_SHAPE_NONE }, /* 8 without D/F */
		{ "京AD1234X", FL_PLATE_SHAPE_NONE },
		{ "A渝12345", FL_PLATE_SHAPE_NONE },
		{ "港A12345", FL_PLATE_SHAPE_NONE },  /* not a province */
		{ "沪Z1234港", FL_PLATE_SHAPE_NONE }, /* 港 only after 粤Z */
		{ "渝A1234澳", FL_PLATE_SHAPE_NONE },
		{ "使01457", FL_PLATE_SHAPE_NONE },
		{ "7ABC123", FL_PLATE_SHAPE_LATIN },
		{ "RK867AD", FL_PLATE_SHAPE_LATIN },
		{ "ABC", FL_PLATE_SHAPE_NONE },
		{ "ABCDEFGHI", FL_PLATE_SHAPE_NONE },
		{ "abc123", FL_PLATE_SHAPE_NONE },
		{ "", FL_PLATE_SHAPE_NONE },
		{ "\xE6\xB8", FL_PLATE_SHAPE_NONE },
	};
	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		CHECK_MSG(fl_plate_shape(cases[i].text) == cases[i].shape,
			  "%s: %d, want %d", cases[i].text,
			  fl_plate_shape(cases[i].text), cases[i].shape);
	CHECK(fl_plate_shape(NULL) == FL_PLATE_SHAPE_NONE);
}

/* Reads of one moment are one witness: a still car read again and again
 * agrees with itself whether it is right or not. */
static void test_vote_moments(void)
{
	fl_plate_text r[8], out, one;

	/* eight agreeing reads within 14 s: no surer than the best of them */
	for (int i = 0; i < 8; i++) {
		r[i] = mk("京B12345", 0.9 - 0.01 * i, 0.6 - 0.02 * i);
		r[i].t = 1000 + 2 * i;
	}
	CHECK(fl_plate_vote(r, 1, 0.0, &one) == 1);
	CHECK(fl_plate_vote(r, 8, 0.0, &out) == 1);
	CHECK(strcmp(out.text, "京B12345") == 0);
	CHECK_NEAR(out.conf, one.conf, 1e-6);
	CHECK(out.conf <= 0.6 + 1e-9);
	CHECK_NEAR(out.char_conf[0], 0.9, 1e-6);
	CHECK_NEAR(out.t, 1014, 1e-9);
	/* the same reads, given in any order, vote alike */
	fl_plate_text rev[8];
	for (int i = 0; i < 8; i++)
		rev[i] = r[7 - i];
	fl_plate_text back;
	CHECK(fl_plate_vote(rev, 8, 0.0, &back) == 1);
	CHECK_NEAR(back.conf, out.conf, 1e-9);

	/* a moment that disagrees with itself is less sure: 4 of 8 say 津 */
	for (int i = 0; i < 4; i++)
		strcpy(r[i].text, "津B12345");
	CHECK(fl_plate_vote(r, 8, 0.0, &out) == 1);
	CHECK(out.char_conf[0] < 0.5);
	CHECK(out.char_conf[1] > 0.85);

	/* the same eight reads in four moments a minute apart: surer than
	 * any one read, each position agreeing across moments */
	for (int i = 0; i < 8; i++) {
		r[i] = mk("京B12345", 0.9, 0.6);
		r[i].t = 60.0 * (i / 2);
	}
	CHECK(fl_plate_vote(r, 8, 0.0, &out) == 1);
	CHECK(out.conf > 0.97 && out.conf <= 1 - pow(0.4, 4) + 1e-9);

	/* times that are not numbers count as one moment */
	for (int i = 0; i < 4; i++) {
		r[i] = mk("京B12345", 0.9, 0.6);
		r[i].t = i % 2 ? NAN : INFINITY;
	}
	CHECK(fl_plate_vote(r, 4, 0.0, &out) == 1);
	CHECK_NEAR(out.conf, pow(0.9, 7), 1e-6);
}

static void test_vote(void)
{
	fl_plate_text r[4], out;

	/* one read: itself, its confidences */
	r[0] = mk("渝A12345", 0.9, 0.6);
	CHECK(fl_plate_vote(r, 1, 0.4, &out) == 1);
	CHECK(strcmp(out.text, "渝A12345") == 0);
	CHECK(out.nchars == 7);
	CHECK_NEAR(out.char_conf[0], 0.9, 1e-6);
	CHECK_NEAR(out.conf, pow(0.9, 7), 1e-6);

	/* two agreeing at 0.9 a minute apart: each character 1 - tiny, and
	 * the read no surer than 1 - 0.4 * 0.4 (the best read of each) */
	r[1] = mk("渝A12345", 0.9, 0.6);
	r[1].t = 60;
	CHECK(fl_plate_vote(r, 2, 0.5, &out) == 1);
	CHECK(out.char_conf[3] > 0.998);
	CHECK_NEAR(out.conf, 1 - 0.4 * 0.4, 1e-6);
	CHECK_NEAR(out.t, 60, 1e-9);

	/* a mistake in one of three reads is voted away, character by
	 * character: 8 read as B once */
	r[0] = mk("渝A12385", 0.8, 0.3);
	r[1] = mk("渝A123B5", 0.7, 0.3);
	r[2] = mk("渝A12385", 0.8, 0.3);
	r[1].t = 40;
	r[2].t = 80;
	CHECK(fl_plate_vote(r, 3, 0.5, &out) == 1);
	CHECK(strcmp(out.text, "渝A12385") == 0);
	CHECK(out.char_conf[5] < out.char_conf[4]);
	/* the disputed character alone: 0.8, 0.8 for 8 against 0.7 for B */
	CHECK(out.char_conf[5] > 0.9 && out.char_conf[5] < 0.999);

	/* two reads that disagree: the more confident character wins, with
	 * less confidence than it had alone */
	r[0] = mk("RK867AD", 0.9, 0.5);
	r[1] = mk("RK867A0", 0.6, 0.4);
	r[1].char_conf[6] = 0.6f;
	r[1].t = 100;
	CHECK(fl_plate_vote(r, 2, 0.0, &out) == 1);
	CHECK(strcmp(out.text, "RK867AD") == 0);
	CHECK(out.char_conf[6] < 0.9 && out.char_conf[6] > 0.5);

	/* lengths: two 7-character reads outweigh one of 6 (a dropped
	 * character), which lowers the confidence by its share */
	r[0] = mk("沪B12345", 0.9, 0.6);
	r[1] = mk("沪B1245", 0.9, 0.4);
	r[2] = mk("沪B12345", 0.9, 0.6);
	r[2].t = 31;
	CHECK(fl_plate_vote(r, 3, 0.0, &out) == 1);
	CHECK(strcmp(out.text, "沪B12345") == 0);
	fl_plate_text two, pair[2] = { r[0], r[2] };
	CHECK(fl_plate_vote(pair, 2, 0.0, &two) == 1);
	CHECK_NEAR(out.conf, two.conf * 1.2 / 1.6, 1e-6);

	/* unread: below the threshold the text is withheld, the confidence
	 * kept */
	r[0] = mk("渝A12345", 0.6, 0.05);
	CHECK(fl_plate_vote(r, 1, 0.5, &out) == 0);
	CHECK(out.text[0] == '\0' && out.nchars == 0);
	CHECK_NEAR(out.conf, pow(0.6, 7), 1e-6);

	/* nothing read, malformed or inconsistent reads are ignored */
	r[0] = mk("", 0.9, 0.9);
	r[1] = mk("\xE6\xB8", 0.9, 0.9);
	r[2] = mk("ABC1234", 0.9, 0.9);
	r[2].nchars = 5; /* does not match its text */
	CHECK(fl_plate_vote(r, 3, 0.0, &out) == 0);
	CHECK(out.text[0] == '\0' && out.conf == 0);
	CHECK(fl_plate_vote(NULL, 0, 0.0, &out) == 0);

	/* a reader's 1.0 does not silence the others */
	r[0] = mk("ABC1234", 1.0, 1.0);
	r[1] = mk("ABC1284", 0.9, 0.9);
	r[2] = mk("ABC1284", 0.9, 0.9);
	r[1].t = 50;
	r[2].t = 100;
	CHECK(fl_plate_vote(r, 3, 0.0, &out) == 1);
	CHECK(strcmp(out.text, "ABC1284") == 0);

	/* rows: the majority of the winners */
	r[0] = mk("皖A12345", 0.9, 0.9);
	r[0].rows = 2;
	r[1] = r[0];
	r[2] = mk("皖A12345", 0.9, 0.9);
	CHECK(fl_plate_vote(r, 3, 0.0, &out) == 1 && out.rows == 2);

	/* bad arguments */
	CHECK(fl_plate_vote(r, -1, 0.0, &out) == FL_EINVAL);
	CHECK(fl_plate_vote(NULL, 2, 0.0, &out) == FL_EINVAL);
	CHECK(fl_plate_vote(r, 1, 0.0, NULL) == FL_EINVAL);
}

/* One threshold per script (plate.h): a Latin read, or a Chinese one read
 * as two rows, must be surer than a Chinese single-row read to be kept. */
static void test_thresholds(void)
{
	fl_plate_text r, out;

	CHECK_NEAR(fl_plate_min_conf("渝A12345", 1), FL_PLATE_MIN_CONF_CN, 0);
	CHECK_NEAR(fl_plate_min_conf("渝A12345", 2), FL_PLATE_MIN_CONF_CN2, 0);
	CHECK_NEAR(fl_plate_min_conf("AB123CD", 1), FL_PLATE_MIN_CONF_LATIN, 0);
	CHECK_NEAR(fl_plate_min_conf("AB123CD", 2), FL_PLATE_MIN_CONF_LATIN, 0);
	CHECK(fl_plate_min_conf("渝", 1) > 1);
	CHECK(fl_plate_min_conf("", 1) > 1);
	CHECK(fl_plate_min_conf(NULL, 1) > 1);
	CHECK(FL_PLATE_MIN_CONF_CN < FL_PLATE_MIN_CONF_CN2 &&
	      FL_PLATE_MIN_CONF_CN2 < FL_PLATE_MIN_CONF_LATIN);

	/* the vote applies the threshold of the voted text's script: one
	 * read at a confidence between the Chinese and the Latin ones */
	double mid = (FL_PLATE_MIN_CONF_CN2 + FL_PLATE_MIN_CONF_LATIN) / 2;
	r = mk("渝A12345", 0.9999, mid);
	CHECK(fl_plate_vote(&r, 1, FL_PLATE_MIN_CONF_SCRIPT, &out) == 1);
	CHECK(strcmp(out.text, "渝A12345") == 0);
	r = mk("AB12345", 0.9999, mid);
	CHECK(fl_plate_vote(&r, 1, FL_PLATE_MIN_CONF_SCRIPT, &out) == 0);
	CHECK(out.text[0] == '\0' && out.nchars == 0);
	CHECK_NEAR(out.conf, mid, 1e-9);
	CHECK(fl_plate_vote(&r, 1, mid - 0.01, &out) == 1); /* given: used */
	/* a double-row read between the two Chinese thresholds */
	mid = (FL_PLATE_MIN_CONF_CN + FL_PLATE_MIN_CONF_CN2) / 2;
	r = mk("渝A12345", 0.9999, mid);
	CHECK(fl_plate_vote(&r, 1, FL_PLATE_MIN_CONF_SCRIPT, &out) == 1);
	r.rows = 2;
	CHECK(fl_plate_vote(&r, 1, FL_PLATE_MIN_CONF_SCRIPT, &out) == 0);
	/* no plate shape: never kept, however sure */
	r = mk("AB1", 0.9999, 0.99);
	CHECK(fl_plate_vote(&r, 1, FL_PLATE_MIN_CONF_SCRIPT, &out) == 0);
}

int main(void)
{
	test_utf8();
	test_shapes();
	test_vote();
	test_vote_moments();
	test_thresholds();
	TEST_DONE();
}
