/*
 * snapshot.c - a snapshot carried in the command's answer (see
 * snapshot.h).
 *
 * The camera thread writes the frame as a JPEG (quality 90) and the mask
 * as a PNG into the spool folder, as the path-only snapshot always did;
 * this reads them back and makes the answer's result. Base64 adds a
 * third, and an MQTT answer should stay small enough for any broker and
 * for the hub's wait (docs/mqtt.md): a frame too large is encoded again,
 * first at a lower quality (a 1080p frame of a busy scene usually fits
 * then), then smaller. The mask is a PNG of flat colours and is never
 * the problem; one that does not fit is an error.
 */
#include "snapshot.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "file.h"
#include "fl.h"
#include "vision.h"

/* Base64 of n bytes as a JSON string, appended to *out (malloc'd, grown). */
static int put_b64(char **out, size_t *len, const char *key,
		   const unsigned char *data, size_t n)
{
	size_t b = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	size_t need = *len + strlen(key) + b + 16;
	char *p = realloc(*out, need);

	if (!p)
		return FL_ENOMEM;
	*out = p;
	*len += (size_t)sprintf(p + *len, ", \"%s\": \"", key);
	sodium_bin2base64(p + *len, b, data, n, sodium_base64_VARIANT_ORIGINAL);
	*len += strlen(p + *len);
	*len += (size_t)sprintf(p + *len, "\"");
	return 0;
}

char *edge_snapshot_inline(const char *camera, const char *path,
			   const char *mask_path, double t, int w, int h,
			   char *err, size_t errlen)
{
	static const struct {
		double scale;
		int quality;
	} steps[] = { { 1, 0 },    { 1, 70 },    { 1, 50 },
		      { 0.5, 70 }, { 0.25, 70 }, { 0.25, 40 } };
	char *jpeg = NULL, *mask = NULL, *out = NULL;
	uint8_t *small = NULL;
	size_t jlen = 0, mlen = 0, len, room;
	const uint8_t *pic = NULL;
	size_t plen = 0;
	double scale = 1;
	int rc;

	if (fl_file_read(path, 64u << 20, &jpeg, &jlen, err, errlen) < 0)
		goto fail;
	if (mask_path[0] &&
	    fl_file_read(mask_path, 64u << 20, &mask, &mlen, err, errlen) < 0)
		goto fail;
	/* base64 is 4/3; 2 kB for the rest of the answer and envelope */
	room = (EDGE_ANSWER_MAX - 2048) / 4 * 3;
	if (mlen >= room) {
		snprintf(err, errlen,
			 "the mask is %zu bytes: too large for an answer",
			 mlen);
		goto fail;
	}
	room -= mlen;
	for (size_t i = 0; i < FL_ARRAY_SIZE(steps); i++) {
		free(small);
		small = NULL;
		if (!steps[i].quality) {
			pic = (const uint8_t *)jpeg;
			plen = jlen;
		} else {
			rc = fl_jpeg_thumb((const uint8_t *)jpeg, jlen, 0,
					   FL_MAX(16, (int)(w * steps[i].scale)),
					   steps[i].quality, &small, &plen, err,
					   errlen);
			if (rc < 0)
				goto fail;
			pic = small;
		}
		scale = steps[i].scale;
		if (plen <= room)
			break;
		pic = NULL;
	}
	if (!pic) {
		snprintf(err, errlen, "the picture does not fit in an answer");
		goto fail;
	}
	out = malloc(256 + 2 * FL_ID_MAX);
	if (!out)
		goto oom;
	len = (size_t)snprintf(out, 256 + 2 * FL_ID_MAX,
			       "{\"camera\": \"%s\", \"width\": %d, "
			       "\"height\": %d, \"time\": %.3f, \"scale\": %g",
			       camera, w, h, t, scale);
	if (put_b64(&out, &len, "jpeg", pic, plen) ||
	    (mask && put_b64(&out, &len, "mask", (const uint8_t *)mask, mlen)))
		goto oom;
	out[len++] = '}';
	out[len] = '\0';
	free(small);
	free(jpeg);
	free(mask);
	return out;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	free(out);
	free(small);
	free(jpeg);
	free(mask);
	return NULL;
}
