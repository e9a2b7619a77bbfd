/*
 * fuzz_manifest.c - the evidence manifest parser, fl_manifest_parse(), on
 * arbitrary bytes (the verifier runs it on whatever a bundle folder holds
 * before the signature has been checked, so it must survive anything).
 *
 * What must hold, besides never crashing or tripping a sanitizer:
 *   - a rejected input leaves the struct empty and says why in err;
 *   - an accepted one has the format string, a 32-byte key that re-encodes
 *     to a key the decoder accepts, non-empty ids, and files whose names are
 *     plain (no '/', not "." or "..", not manifest.*), unique, with 64 hex
 *     digit hashes and sizes >= 0, and images with seq >= 1 and their
 *     time, code and signature;
 *   - fl_manifest_free() is idempotent;
 *   - the image-code check on accepted fields and the public key decoder on
 *     the raw text return an answer rather than crash.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "fl.h"
#include "manifest.h"
#include "sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_manifest: %s:%d: %s\n",          \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static int hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fl_manifest m;
	char err[512] = "", *text;
	unsigned char pk[32];
	int rc;

	rc = fl_manifest_parse(data, size, &m, err, sizeof(err));
	if (rc) {
		CHECK(rc == FL_EFORMAT || rc == FL_ENOMEM);
		CHECK(err[0] != '\0');
		CHECK(m.files == NULL && m.nfiles == 0 && m.priv == NULL);
		fl_manifest_free(&m);
	} else {
		CHECK(!strcmp(m.format, FL_EVIDENCE_FORMAT));
		CHECK(fl_key_public_from_b64(m.public_key, pk) == 0);
		CHECK(!memcmp(pk, m.pk, 32));
		CHECK(*m.incident_id && *m.device && *m.site && *m.camera &&
		      *m.lane);
		for (size_t i = 0; i < m.nfiles; i++) {
			const fl_manifest_file *f = &m.files[i];
			char why[256];

			CHECK(f->name && *f->name && !strchr(f->name, '/'));
			CHECK(strcmp(f->name, ".") && strcmp(f->name, ".."));
			CHECK(strcmp(f->name, "manifest.json") &&
			      strcmp(f->name, "manifest.sig"));
			CHECK(f->kind && hex64(f->sha256) && f->bytes >= 0);
			for (size_t j = 0; j < i; j++)
				CHECK(strcmp(m.files[j].name, f->name));
			if (!f->is_image)
				continue;
			CHECK(f->seq >= 1 && f->time_utc && f->code &&
			      f->code_sig);
			rc = fl_evidence_code_check(m.pk, m.device,
						    m.incident_id, m.lane,
						    f->seq, f->time_utc,
						    f->code, f->code_sig, why,
						    sizeof(why));
			CHECK(rc == 0 || (rc < 0 && why[0]));
		}
		fl_manifest_free(&m);
		CHECK(m.priv == NULL && m.files == NULL);
		fl_manifest_free(&m);
	}

	/* The same bytes as a --public-key argument. */
	text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	(void)fl_key_public_from_b64(text, pk);
	free(text);
	return 0;
}
