/*
 * fuzz_plate.c - plate texts in core (src/core/plate.c) on arbitrary bytes:
 * fl_utf8_decode / fl_utf8_encode, fl_plate_shape and fl_plate_vote. Plate
 * texts come from a model's output today, and from the network (incident
 * messages, the register's CSV) when the hub handles plates.
 *
 * The input is split at '\n' into up to 8 reads; in each, the first byte
 * sets the confidences (per character and overall), the rest is the text
 * (not necessarily UTF-8). What must hold, besides never crashing:
 *   - decode gives FL_EFORMAT, FL_ERANGE or a count; what decodes encodes
 *     back to the same bytes;
 *   - a text whose shape is CN or LATIN decodes to 4..8 characters;
 *   - the vote returns 1 or 0; a read vote is valid UTF-8 of nchars
 *     characters, its conf in [0, 1] and >= min_conf, and each of its
 *     characters is what some read of that length says at that position;
 *     an unread vote has an empty text.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "plate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_plate: %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fl_plate_text reads[8], out;
	uint32_t cp[8][FL_PLATE_MAX_CHARS];
	int n = 0, rc;
	size_t i = 0;

	while (i < size && n < 8) {
		size_t j = i;
		while (j < size && data[j] != '\n')
			j++;
		fl_plate_text *r = &reads[n];
		memset(r, 0, sizeof(*r));
		if (j > i) {
			uint8_t c = data[i];
			size_t len = j - i - 1;
			if (len >= sizeof(r->text))
				len = sizeof(r->text) - 1;
			memcpy(r->text, data + i + 1, len);
			r->text[len] = '\0';
			for (int k = 0; k < FL_PLATE_MAX_CHARS; k++)
				r->char_conf[k] = (float)((c + 17 * k) % 101) /
						  100.0f;
			r->conf = (c % 11) / 10.0;
			r->rows = 1 + (c & 1);
		}
		int k = fl_utf8_decode(r->text, cp[n], FL_PLATE_MAX_CHARS);
		CHECK(k >= 0 || k == FL_EFORMAT || k == FL_ERANGE);
		if (k >= 0) {
			char back[FL_PLATE_TEXT_MAX];
			int b = fl_utf8_encode(cp[n], k, back, sizeof(back));
			CHECK(b >= 0 && strcmp(back, r->text) == 0);
		}
		enum fl_plate_shape s = fl_plate_shape(r->text);
		if (s != FL_PLATE_SHAPE_NONE)
			CHECK(k >= 4 && k <= 8);
		/* mostly consistent nchars; sometimes not, which must be
		 * ignored */
		r->nchars = (k >= 0 && !(data[i < size ? i : 0] & 0x80)) ? k
									 : 3;
		n++;
		i = j + 1;
	}
	double min_conf = size ? (data[size - 1] % 10) / 10.0 : 0.5;
	rc = fl_plate_vote(reads, n, min_conf, &out);
	CHECK(rc == 0 || rc == 1);
	CHECK(out.conf >= 0.0 && out.conf <= 1.0);
	if (rc == 0) {
		CHECK(out.text[0] == '\0' && out.nchars == 0);
		return 0;
	}
	uint32_t v[FL_PLATE_MAX_CHARS];
	CHECK(out.conf >= min_conf);
	CHECK(fl_utf8_decode(out.text, v, FL_PLATE_MAX_CHARS) == out.nchars);
	for (int pos = 0; pos < out.nchars; pos++) {
		int said = 0;
		for (int r = 0; r < n; r++) {
			uint32_t c[FL_PLATE_MAX_CHARS];
			int k = fl_utf8_decode(reads[r].text, c,
					       FL_PLATE_MAX_CHARS);
			if (k == out.nchars && k == reads[r].nchars &&
			    c[pos] == v[pos])
				said = 1;
		}
		CHECK(said);
		CHECK(out.char_conf[pos] > 0 && out.char_conf[pos] <= 1);
	}
	return 0;
}
