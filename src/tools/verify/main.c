/*
 * firelane-verify - check an evidence bundle the way the hub will.
 *
 *   firelane-verify [--public-key B64_OR_FILE] BUNDLE_DIR
 *
 * Exit 0 and "BUNDLE_DIR: ok (N files, key K)" when the bundle is intact;
 * exit 1 and "BUNDLE_DIR: FAIL: <file>: <fault>" when it is not; exit 2 on
 * usage errors (including a --public-key that is neither a base64 key nor a
 * readable file holding one). Without --public-key the key the manifest names
 * is trusted, which proves integrity but not origin: pin the device's key.
 * All checks are the library's fl_bundle_verify_ex (manifest.h).
 */
#include "fl.h"
#include "manifest.h"
#include "sign.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: firelane-verify [--public-key B64_OR_FILE] "
		   "BUNDLE_DIR\n"
		   "  --public-key  the device's Ed25519 public key, base64 or "
		   "a file holding it\n"
		   "                (base64 text or the 32 raw bytes); without "
		   "it the key named\n"
		   "                in the manifest is trusted\n");
}

/* The key argument: base64 itself, or a file with base64 text or 32 raw
 * bytes. 0 or -1 with a message on stderr. */
static int load_key(const char *arg, unsigned char pk[32])
{
	unsigned char buf[256];
	size_t n;
	FILE *f;

	if (fl_key_public_from_b64(arg, pk) == 0)
		return 0;
	f = fopen(arg, "rb");
	if (!f) {
		fprintf(stderr,
			"firelane-verify: --public-key %s: neither a "
			"base64 key nor a readable file\n",
			arg);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n == 32) {
		memcpy(pk, buf, 32);
		return 0;
	}
	buf[n] = '\0';
	if (strlen((char *)buf) == n &&
	    fl_key_public_from_b64((char *)buf, pk) == 0)
		return 0;
	fprintf(stderr,
		"firelane-verify: --public-key %s: the file holds "
		"no public key (base64 or 32 raw bytes)\n",
		arg);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned char pk[32];
	const char *key = NULL, *dir = NULL;
	fl_verify_info info;
	char err[1024];
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--public-key")) {
			if (++i >= argc) {
				fprintf(stderr, "firelane-verify: "
						"--public-key needs a value\n");
				usage(stderr);
				return 2;
			}
			key = argv[i];
		} else if (!strncmp(argv[i], "--public-key=", 13)) {
			key = argv[i] + 13;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "firelane-verify: unknown option %s\n",
				argv[i]);
			usage(stderr);
			return 2;
		} else if (dir) {
			fprintf(stderr, "firelane-verify: one bundle at a "
					"time\n");
			usage(stderr);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (!dir) {
		usage(stderr);
		return 2;
	}
	if (key && load_key(key, pk) != 0)
		return 2;
	rc = fl_bundle_verify_ex(dir, key ? pk : NULL, &info, err, sizeof(err));
	if (rc) {
		printf("%s: FAIL: %s\n", dir, err);
		return 1;
	}
	printf("%s: ok (%zu files, key %s%s)\n", dir, info.nfiles,
	       info.public_key, key ? ", pinned" : ", not pinned");
	fl_manifest_clock_text(&info.clock, err, sizeof(err));
	printf("%s: %s\n", dir, err);
	return 0;
}
