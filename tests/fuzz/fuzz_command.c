/*
 * fuzz_command.c - the command parser, fl_command_parse(), on arbitrary
 * bytes (the payload of .../command/set comes from the network).
 *
 * What must hold, besides never crashing, reading out of bounds (the input
 * is not NUL-terminated: libFuzzer's buffer ends exactly at size) or
 * tripping a sanitizer:
 *   - the result is 0 or FL_EFORMAT, and on FL_EFORMAT the reason is a
 *     non-empty NUL-terminated string;
 *   - an accepted command is valid: a known kind, ids of [A-Za-z0-9_.-],
 *     camera and lane present exactly when the kind needs them, dwell_s in
 *     [1, 86400] for set_dwell; the request id is NUL-terminated; a
 *     config command has a version in [1, 2^31-1] and its "yaml" decodes
 *     (fl_command_text) to exactly text_size bytes inside the payload,
 *     with no NUL in them;
 *   - parsing is deterministic (twice the same result), and the answer
 *     written for it (fl_command_answer) fits the edge's buffer whenever
 *     the error message does.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_command: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

static int id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= FL_ID_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
		      *s == '-'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	fl_command a, b;
	char err[256], err2[256], answer[2048];
	int rc, rc2;

	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	err[0] = err2[0] = '\0';
	rc = fl_command_parse(buf, size, &a, err, sizeof(err));
	rc2 = fl_command_parse(buf, size, &b, err2, sizeof(err2));
	CHECK(rc == 0 || rc == FL_EFORMAT);
	CHECK(rc == rc2);
	CHECK(memchr(a.req, '\0', sizeof(a.req)) != NULL);
	CHECK(!strcmp(a.req, b.req));
	if (rc < 0) {
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		CHECK(!strcmp(err, err2));
		CHECK(fl_command_answer(a.req, NULL, 0, err, NULL, answer,
					sizeof(answer)) < sizeof(answer));
	} else {
		int cam = 1, lane = 1, val = 0;
		switch (a.kind) {
		case FL_CMD_ENABLE:
		case FL_CMD_DISABLE:
		case FL_CMD_WARN:
			break;
		case FL_CMD_DWELL:
			val = 1;
			break;
		case FL_CMD_SNAPSHOT:
			lane = 0;
			break;
		case FL_CMD_RELOAD:
		case FL_CMD_CONFIG_GET:
			cam = lane = 0;
			break;
		case FL_CMD_CONFIG: {
			char *text = malloc(a.text_size + 1);

			cam = lane = 0;
			CHECK(text);
			CHECK(a.version >= 1 && a.version <= 2147483647L);
			CHECK(a.text >= buf &&
			      a.text + a.text_len <= buf + size);
			CHECK(fl_command_text(&a, text, a.text_size + 1) ==
			      a.text_size);
			CHECK(strlen(text) == a.text_size);
			CHECK(a.text_size == 0 ||
			      fl_command_text(&a, text, a.text_size) ==
				      (size_t)-1);
			free(text);
			break;
		}
		default:
			CHECK(0);
		}
		CHECK(cam ? id_ok(a.camera) : a.camera[0] == '\0');
		CHECK(lane ? id_ok(a.lane) : a.lane[0] == '\0');
		CHECK(!val || (a.value >= 1 && a.value <= 86400));
		CHECK(a.kind == FL_CMD_SNAPSHOT || (!a.inline_pic && !a.mask));
		CHECK(a.kind == FL_CMD_CONFIG || size <= FL_CMD_MAX);
		CHECK(a.kind == b.kind && !strcmp(a.camera, b.camera) &&
		      !strcmp(a.lane, b.lane));
		CHECK(fl_command_answer(a.req, fl_command_name(a.kind), 1, NULL,
					NULL, answer,
					sizeof(answer)) < sizeof(answer));
	}
	free(buf);
	return 0;
}
