/*
 * fuzz_hub_msg.c - the hub's message validator (src/hub/msg.c) on arbitrary
 * bytes: everything the hub takes from the broker goes through it first.
 *
 * Input: a topic, a newline, then the payload (the rest, any bytes, not
 * NUL-terminated). What must hold besides never crashing or tripping a
 * sanitizer:
 *   - the result is a message kind (>= 0) or FL_EFORMAT with a non-empty
 *     reason, and the same input gives the same result twice;
 *   - an accepted incident message has an id of [A-Za-z0-9_.-] starting
 *     with "<topic's device>-", a seq >= 1, and every evidence file name is
 *     plain (no '/', no leading '.': it cannot leave its folder);
 *   - an accepted evidence chunk has a plain file name, its bytes lie
 *     inside the payload, and offset/count/length agree with the size.
 * The source is included (the hub's files are not a library).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_hub_msg: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char topic[1100], err[512], err2[512];
	size_t tl, plen;
	const uint8_t *payload;
	uint8_t *copy;
	hub_topic t;
	int rc, rc2;

	if (!nl)
		return 0;
	tl = (size_t)(nl - data);
	if (tl >= sizeof(topic) || memchr(data, 0, tl))
		return 0;
	memcpy(topic, data, tl);
	topic[tl] = 0;
	plen = size - tl - 1;
	/* an exact-size heap copy: reads past the end are caught */
	copy = malloc(plen ? plen : 1);
	if (!copy)
		return 0;
	memcpy(copy, nl + 1, plen);
	payload = copy;

	err[0] = 0;
	rc = hub_msg_check(topic, payload, plen, 256 * 1024, err, sizeof(err));
	rc2 = hub_msg_check(topic, payload, plen, 256 * 1024, err2,
			    sizeof(err2));
	CHECK(rc == rc2);
	CHECK(rc >= 0 || (rc == FL_EFORMAT && err[0] && strlen(err) < 512));
	if (rc >= 0 && hub_topic_parse(topic, &t, err, sizeof(err)) == 0) {
		if (t.kind == HUB_MSG_INCIDENT) {
			hub_incident in;
			hub_file files[HUB_MAX_FILES];
			size_t n = 0;

			CHECK(hub_incident_check(&t, payload, plen, &in, files,
						 &n, err, sizeof(err)) == 0);
			CHECK(fl_id_valid(in.incident_id, FL_INCIDENT_ID_MAX));
			CHECK(!strncmp(in.incident_id, t.device,
				       strlen(t.device)));
			CHECK(in.incident_id[strlen(t.device)] == '-');
			CHECK(in.seq >= 1);
			for (size_t i = 0; i < n; i++) {
				CHECK(hub_name_ok(files[i].name));
				CHECK(!strchr(files[i].name, '/'));
				CHECK(files[i].name[0] != '.');
			}
		}
		if (t.kind == HUB_MSG_EVIDENCE) {
			hub_chunk c;

			CHECK(hub_chunk_check(&t, payload, plen, &c, err,
					      sizeof(err)) == 0);
			CHECK(hub_name_ok(c.file) && !strchr(c.file, '/'));
			CHECK(c.data >= payload &&
			      c.data + c.len <= payload + plen);
			CHECK(c.offset == (long long)c.index * HUB_CHUNK);
			CHECK(c.index < c.count && c.len <= HUB_CHUNK);
			CHECK(c.offset + (long long)c.len <= c.size);
		}
	}
	free(copy);
	return 0;
}
