/*
 * test_bundle.c - the device key, the anti-forgery code, sealing a bundle and
 * every way of tampering with one that the verifier must catch.
 *
 * Each tamper case starts from a fresh copy of one good bundle and checks
 * that verification fails AND that the message names the file at fault, so a
 * verifier that rejected everything (or blamed the wrong file) fails too. The
 * code is checked against an independent computation (libsodium + a base32
 * written here), not against itself.
 *
 * Also a helper mode for tests/integration/verify_cli.sh:
 *   test_bundle --make-bundle DIR   key in DIR/device.key, its public key in
 *                                   DIR/device.pub, a sealed bundle under
 *                                   DIR/store/; prints the bundle path.
 */
#include "bundle.h"
#include "clock.h"
#include "file.h"
#include "fl.h"
#include "internal.h"
#include "manifest.h"
#include "sign.h"
#include "store.h"
#include "tempfiles.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[256]; /* this run's scratch directory */

/*
 * The clock seam (clock.h, fl__adjtimex): this test's kernel clock. By
 * default synchronised within 20 ms; test_clock() plays the others.
 */
struct fake_clock {
	int state; /* adjtimex's result: TIME_OK, TIME_ERROR, or -1 */
	int status;
	long esterror_us, maxerror_us;
	int calls;
};
static struct fake_clock fake_clock = { TIME_OK, 0, 5000, 20000, 0 };

int fl__adjtimex(struct timex *tx)
{
	fake_clock.calls++;
	tx->status = fake_clock.status;
	tx->esterror = fake_clock.esterror_us;
	tx->maxerror = fake_clock.maxerror_us;
	return fake_clock.state;
}

/* ---- helpers ---------------------------------------------------------------- */

static void pathf(char *out, size_t n, const char *a, const char *b)
{
	if (snprintf(out, n, "%s/%s", a, b) >= (int)n)
		CHECK_MSG(0, "path too long: %s/%s", a, b);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;

	if (f)
		ok = (fclose(f) == 0) && ok;
	return ok ? 0 : -1;
}

/* The whole file (malloc'd, NUL after the end) or NULL. */
static char *slurp(const char *path, size_t *len)
{
	char err[256];
	char *buf;

	if (fl_file_read(path, 1 << 26, &buf, len, err, sizeof(err)))
		return NULL;
	return buf;
}

/* Copy the flat folder src to dst (fresh). */
static int copy_dir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *e;
	int rc = 0;

	fl__rm_rf(dst);
	if (!d || mkdir(dst, 0750) != 0) {
		if (d)
			closedir(d);
		return -1;
	}
	while ((e = readdir(d))) {
		char a[1024], b[1024], *buf;
		size_t n;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		pathf(a, sizeof(a), src, e->d_name);
		pathf(b, sizeof(b), dst, e->d_name);
		buf = slurp(a, &n);
		if (!buf || write_file(b, buf, n) != 0)
			rc = -1;
		free(buf);
	}
	closedir(d);
	return rc;
}

static void flip_byte(const char *path, size_t off)
{
	size_t n;
	char *buf = slurp(path, &n);

	if (!buf || off >= n) {
		free(buf);
		CHECK_MSG(0, "cannot flip byte %zu of %s", off, path);
		return;
	}
	buf[off] ^= 0x01;
	CHECK_EQ_INT(write_file(path, buf, n), 0);
	free(buf);
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Re-sign dir's manifest.json with k, as a forger with that key would. */
static void resign(const char *dir, const fl_key *k)
{
	char path[1024], b64[FL_SIG_B64_LEN + 1];
	unsigned char sig[64];
	size_t n;
	char *text;

	pathf(path, sizeof(path), dir, "manifest.json");
	text = slurp(path, &n);
	CHECK_NOT_NULL(text);
	if (!text)
		return;
	crypto_sign_detached(sig, NULL, (unsigned char *)text, n, k->sk);
	sodium_bin2base64(b64, FL_SIG_B64_LEN, sig, 64,
			  sodium_base64_VARIANT_ORIGINAL);
	strcat(b64, "\n");
	pathf(path, sizeof(path), dir, "manifest.sig");
	CHECK_EQ_INT(write_file(path, b64, strlen(b64)), 0);
	free(text);
}

/* Replace the first occurrence of from by to (same length or not) in file. */
static int replace_in(const char *path, const char *from, const char *to)
{
	size_t n;
	char *text = slurp(path, &n), *hit, *out;
	int rc = -1;

	if (!text)
		return -1;
	hit = strstr(text, from);
	if (hit) {
		size_t pre = (size_t)(hit - text), fl = strlen(from),
		       tl = strlen(to);

		out = malloc(n - fl + tl + 1);
		memcpy(out, text, pre);
		memcpy(out + pre, to, tl);
		memcpy(out + pre + tl, hit + fl, n - pre - fl);
		rc = write_file(path, out, n - fl + tl);
		free(out);
	}
	free(text);
	return rc;
}

/* ---- an independent anti-forgery code ------------------------------------------ */

static void ref_code(const fl_key *k, const char *msg, char code[13])
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char sig[64], h[32];
	int bit = 0;

	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg),
			     k->sk);
	crypto_hash_sha256(h, sig, 64);
	for (int i = 0; i < 12; i++, bit += 5) {
		int v = 0;

		for (int j = 0; j < 5; j++) {
			int b = bit + j;

			v = (v << 1) | ((h[b / 8] >> (7 - b % 8)) & 1);
		}
		code[i] = alpha[v];
	}
	code[12] = '\0';
}

/* ---- a sample bundle -------------------------------------------------------------- */

#define DEVICE "edge-01"
#define LANE "lane-a"

static const char *const image_names[] = { "scene-1.jpg", "scene-2.jpg",
					   "scene-3.jpg" };

/* Seal incident id into s with k: 3 JPEG-ish scene images and a clip the
 * "media layer" writes through fl_bundle_path. out gets the bundle path. */
static int make_bundle(fl_store *s, const fl_key *k, const char *id, char *out,
		       size_t outlen)
{
	fl_bundle_info info = {
		.incident_id = id,
		.device = DEVICE,
		.site = "site-7",
		.camera = "cam-1",
		.lane = LANE,
		.site_name = "Tower 7 \xe5\x8c\x97\xe9\x97\xa8",
		.lane_name = "North fire lane",
		.rest_since_wall = 1764419600.25,
		.alarm_wall = 1764419900.5,
		.cleared_wall = -1,
		.bbox = { 10, 20, 300, 200 },
		.cls = "vehicle",
		.dwell_s = 300,
	};
	char err[512], path[1024];
	fl_bundle *b;
	int rc;

	b = fl_bundle_begin(s, &info, err, sizeof(err));
	CHECK_MSG(b != NULL, "begin: %s", err);
	if (!b)
		return -1;
	for (int i = 0; i < 3; i++) {
		unsigned char jpg[3000];
		char t[32], code[13], sig[FL_SIG_B64_LEN], overlay[256];
		double plate[4] = { 100, 120, 80, 24 };
		fl_bundle_image img;

		for (size_t j = 0; j < sizeof(jpg); j++)
			jpg[j] = (unsigned char)(j * 31 + i * 7);
		jpg[0] = 0xff, jpg[1] = 0xd8, jpg[2] = 0xff; /* SOI */
		jpg[sizeof(jpg) - 2] = 0xff, jpg[sizeof(jpg) - 1] = 0xd9;
		snprintf(t, sizeof(t), "2026-11-29 12:%02d:00", 30 + 5 * i);
		rc = fl_evidence_code(k, DEVICE, id, LANE, i + 1, t, code, sig,
				      sizeof(sig));
		CHECK_EQ_INT(rc, 0);
		snprintf(overlay, sizeof(overlay),
			 "%s\nsite-7 lane-a\n" DEVICE " %s\n%s", t, id, code);
		img = (fl_bundle_image){ .kind = "scene",
					 .seq = i + 1,
					 .wall = 1764419800.0 + 150 * i,
					 .video_t = 200.0 + 150 * i,
					 .time_utc = t,
					 .code = code,
					 .code_sig = sig,
					 .overlay = overlay,
					 .plate = i == 0 ? plate : NULL };
		rc = fl_bundle_add(b, image_names[i], jpg, sizeof(jpg), &img,
				   err, sizeof(err));
		CHECK_MSG(rc == 0, "add: %s", err);
	}
	CHECK(fl_bundle_path(b, "clip.mp4", path, sizeof(path)) == 0);
	CHECK(write_file(path, "....ftypisom fake clip bytes", 28) == 0);
	rc = fl_bundle_add_existing(b, "clip.mp4", "clip", 150.0, 420.0, err,
				    sizeof(err));
	CHECK_MSG(rc == 0, "add_existing: %s", err);
	fl_bundle_note(b, "left before the third image? no: all three taken");
	fl_bundle_set_cleared(b, 1764420000.0);
	fl_bundle_set_plate(b, "粤B12345", 0.9985); /* the vote (writer.c) */
	rc = fl_bundle_seal(b, k, out, outlen, err, sizeof(err));
	CHECK_MSG(rc == 0, "seal: %s", err);
	if (rc) {
		fl_bundle_abort(b);
		return -1;
	}
	return 0;
}

/* ---- the clock ------------------------------------------------------------------- */

/* The manifest of bundle dir, parsed as JSON (caller json_decref's). */
static json_t *manifest_json(const char *dir)
{
	char path[1024];
	json_error_t je;

	pathf(path, sizeof(path), dir, "manifest.json");
	return json_load_file(path, 0, &je);
}

/* 1 when a note of manifest m starts with prefix. */
static int has_note(json_t *m, const char *prefix)
{
	json_t *n;
	size_t i;

	json_array_foreach(json_object_get(m, "notes"), i, n)
	{
		if (json_is_string(n) &&
		    starts_with(json_string_value(n), prefix))
			return 1;
	}
	return 0;
}

/*
 * Seal a bundle id under the fake clock and check its manifest's clock
 * keys: synced, trusted, clock_maxerror_s (NAN: null) and the note (NULL:
 * no "clock:" note, else its start).
 */
static void expect_clock(fl_store *s, const fl_key *k, const char *id,
			 int synced, int trusted, double maxerror,
			 const char *note)
{
	char out[1024];
	json_t *m, *me;

	CHECK_EQ_INT(make_bundle(s, k, id, out, sizeof(out)), 0);
	m = manifest_json(out);
	CHECK_MSG(m != NULL, "%s: no manifest", id);
	if (!m)
		return;
	CHECK_EQ_INT(json_is_true(json_object_get(m, "clock_synced")), synced);
	CHECK_EQ_INT(json_is_true(json_object_get(m, "clock_trusted")),
		     trusted);
	me = json_object_get(m, "clock_maxerror_s");
	if (isnan(maxerror))
		CHECK(json_is_null(me));
	else
		CHECK_NEAR(json_number_value(me), maxerror, 1e-9);
	if (note)
		CHECK_MSG(has_note(m, note), "%s: no note \"%s\"", id, note);
	else
		CHECK_MSG(!has_note(m, "clock:"), "%s: a clock note", id);
	json_decref(m);
}

/*
 * Each manifest says how the device clock stood while its bundle was made
 * (clock_synced, clock_esterror_s, clock_maxerror_s, clock_trusted), and a
 * bundle made with an unsynchronised clock, or one whose error may be over
 * 1 s, says so in a note. Readings are taken at each image and at the seal;
 * the worst counts.
 */
static void test_clock(fl_store *s, const fl_key *k)
{
	const struct fake_clock good = { TIME_OK, 0, 5000, 20000, 0 };

	/* synchronised, 5 ms estimated, 20 ms at most (the default) */
	fake_clock = good;
	expect_clock(s, k, "inc-clock-ok", 1, 1, 0.02, NULL);
	CHECK_GE_INT(fake_clock.calls, 4); /* 3 images, the seal */
	/* not synchronised: no daemon, the kernel's 16 s */
	fake_clock = (struct fake_clock){ TIME_ERROR, STA_UNSYNC, 16000000,
					  16000000, 0 };
	expect_clock(s, k, "inc-clock-unsync", 0, 0, 16.0,
		     "clock: the device clock was not synchronised");
	/* synchronised, but its error may be 1.5 s: not trusted */
	fake_clock = (struct fake_clock){ TIME_OK, 0, 400000, 1500000, 0 };
	expect_clock(s, k, "inc-clock-drift", 1, 0, 1.5,
		     "clock: the device clock's error was over 1 s");
	/* the kernel will not say: null figures, not trusted */
	fake_clock = (struct fake_clock){ -1, 0, 0, 0, 0 };
	expect_clock(s, k, "inc-clock-unknown", 0, 0, NAN,
		     "clock: the device clock was not synchronised");
	fake_clock = good;
}

/* ---- the key --------------------------------------------------------------------- */

static void test_key(void)
{
	char path[512], err[512], b64[FL_KEY_B64_LEN];
	fl_key k, k2;
	struct stat st;
	int created = -1, rc;
	mode_t old;

	snprintf(path, sizeof(path), "%s/keys/deep/device.key", root);
	old = umask(0); /* the key must be 0600 whatever the umask */
	rc = fl_key_load_or_create(path, &k, &created, err, sizeof(err));
	umask(old);
	CHECK_MSG(rc == 0, "%s", err);
	CHECK_EQ_INT(created, 1);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_MSG((st.st_mode & 07777) == 0600, "mode %o", st.st_mode & 07777);
	CHECK_EQ_INT(st.st_size, 64);
	*strrchr(path, '/') = '\0'; /* the key's folder */
	CHECK_EQ_INT(temps_in(path), 0);
	strcat(path, "/device.key");

	rc = fl_key_load_or_create(path, &k2, &created, err, sizeof(err));
	CHECK_MSG(rc == 0, "%s", err);
	CHECK_EQ_INT(created, 0);
	CHECK(memcmp(k.pk, k2.pk, 32) == 0 && memcmp(k.sk, k2.sk, 64) == 0);

	fl_key_public_b64(&k, b64, sizeof(b64));
	CHECK_EQ_INT(strlen(b64), 44);
	CHECK_EQ_INT(fl_key_public_from_b64(b64, k2.pk), 0);
	CHECK(memcmp(k.pk, k2.pk, 32) == 0);
	CHECK(fl_key_public_from_b64("not a key", k2.pk) == FL_EFORMAT);

	/* Looser permissions: refused, the path named. */
	CHECK_EQ_INT(chmod(path, 0644), 0);
	err[0] = '\0';
	rc = fl_key_load_or_create(path, &k2, &created, err, sizeof(err));
	CHECK_EQ_INT(rc, FL_EFORMAT);
	CHECK_MSG(strstr(err, path) && strstr(err, "0644"), "%s", err);
	CHECK_EQ_INT(chmod(path, 0640), 0);
	CHECK_EQ_INT(fl_key_load_or_create(path, &k2, NULL, err, sizeof(err)),
		     FL_EFORMAT);
	CHECK_EQ_INT(chmod(path, 0400), 0); /* tighter is fine */
	CHECK_EQ_INT(fl_key_load_or_create(path, &k2, NULL, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(chmod(path, 0600), 0);

	/* Truncated: refused, not replaced by a new key. */
	CHECK_EQ_INT(truncate(path, 63), 0);
	err[0] = '\0';
	rc = fl_key_load_or_create(path, &k2, &created, err, sizeof(err));
	CHECK_EQ_INT(rc, FL_EFORMAT);
	CHECK_MSG(strstr(err, path) && strstr(err, "truncated"), "%s", err);
	CHECK(stat(path, &st) == 0 && st.st_size == 63);
	CHECK_EQ_INT(truncate(path, 0), 0);
	CHECK_EQ_INT(fl_key_load_or_create(path, &k2, &created, err,
					   sizeof(err)),
		     FL_EFORMAT);
	CHECK_MSG(strstr(err, "truncated"), "%s", err);

	/* Right size, wrong content (public half does not belong). */
	{
		unsigned char bad[64];

		memcpy(bad, k.sk, 64);
		bad[40] ^= 1;
		CHECK_EQ_INT(write_file(path, bad, 64), 0);
		CHECK_EQ_INT(chmod(path, 0600), 0);
		CHECK_EQ_INT(fl_key_load_or_create(path, &k2, NULL, err,
						   sizeof(err)),
			     FL_EFORMAT);
		CHECK_MSG(strstr(err, "corrupt") != NULL, "%s", err);
	}
	fl_key_wipe(&k);
	fl_key_wipe(&k2);
	fl_key_wipe(NULL);

	/* Eight processes start at once on a device without a key: one key
	 * wins and all of them use it. */
	{
		char race[512], out[600], *first = NULL;
		pid_t pids[8];

		snprintf(race, sizeof(race), "%s/race/device.key", root);
		fflush(NULL);
		for (int i = 0; i < 8; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				char hex[65];
				int r = fl_key_load_or_create(race, &k, NULL,
							      err, sizeof(err));

				if (r) {
					fprintf(stderr, "key race: %s\n", err);
					_exit(1);
				}
				sodium_bin2hex(hex, 65, k.pk, 32);
				snprintf(out, sizeof(out), "%s.%d", race, i);
				_exit(write_file(out, hex, 64) ? 1 : 0);
			}
		}
		for (int i = 0; i < 8; i++) {
			int ws = 0;
			size_t n;
			char *hex;

			CHECK(pids[i] > 0 &&
			      waitpid(pids[i], &ws, 0) == pids[i]);
			CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
			snprintf(out, sizeof(out), "%s.%d", race, i);
			hex = slurp(out, &n);
			CHECK(hex && n == 64);
			if (hex && first)
				CHECK_MSG(!strcmp(hex, first),
					  "process %d has another key", i);
			if (!first)
				first = hex;
			else
				free(hex);
		}
		CHECK_EQ_INT(fl_key_load_or_create(race, &k, NULL, err,
						   sizeof(err)),
			     0);
		if (first) {
			char hex[65];

			sodium_bin2hex(hex, 65, k.pk, 32);
			CHECK_STREQ(hex, first);
		}
		free(first);
		fl_key_wipe(&k);
	}
}

/* ---- the code ----------------------------------------------------------------------- */

static void test_code(const fl_key *k)
{
	char code[13], code2[13], ref[13], sig[FL_SIG_B64_LEN], err[256];
	const char *t = "2026-11-29 12:34:56";

	CHECK(fl_evidence_code(k, DEVICE, "inc-1", LANE, 2, t, code, sig,
			       sizeof(sig)) == 0);
	ref_code(k,
		 "firelane-image/1\n" DEVICE "\ninc-1\n" LANE
		 "\n2\n2026-11-29 12:34:56",
		 ref);
	CHECK_STREQ(code, ref);
	CHECK(strlen(code) == 12 && strlen(sig) == 88);
	CHECK(strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == 12);
	CHECK(fl_evidence_code_check(k->pk, DEVICE, "inc-1", LANE, 2, t, code,
				     sig, err, sizeof(err)) == 0);
	/* Any other fact: another code, and the old one does not check. */
	CHECK(fl_evidence_code(k, DEVICE, "inc-1", LANE, 3, t, code2, sig,
			       sizeof(sig)) == 0);
	CHECK_STRNE(code, code2);
	CHECK(fl_evidence_code_check(k->pk, DEVICE, "inc-1", LANE, 3, t, code,
				     sig, err, sizeof(err)) == FL_EFORMAT);
	CHECK_MSG(strstr(err, "code does not match"), "%s", err);
	CHECK(fl_evidence_code_check(k->pk, DEVICE, "inc-1", LANE, 2, t, code2,
				     sig, err, sizeof(err)) == FL_EFORMAT);
	CHECK_MSG(strstr(err, "signature does not verify"), "%s", err);
	/* A newline would make the message ambiguous. */
	CHECK(fl_evidence_code(k, "a\nb", "inc-1", LANE, 1, t, code, sig,
			       sizeof(sig)) == FL_EINVAL);
	CHECK(fl_evidence_code(k, DEVICE, "inc-1", LANE, 0, t, code, sig,
			       sizeof(sig)) == FL_EINVAL);
	CHECK(fl_evidence_code(k, DEVICE, "inc-1", LANE, 1, t, code, sig, 10) ==
	      FL_EINVAL);
}

/* ---- seal and verify ------------------------------------------------------------------ */

static void test_seal_verify(fl_store *s, const fl_key *k, const char *dir)
{
	char err[512], path[1024], b64[FL_KEY_B64_LEN];
	fl_verify_info info;
	unsigned char sig[64];
	size_t n, sn = 0;
	char *text, *sigtxt;
	int rc;

	rc = fl_bundle_verify_ex(dir, NULL, &info, err, sizeof(err));
	CHECK_MSG(rc == 0, "verify: %s", err);
	CHECK_EQ_INT(info.nfiles, 4);
	fl_key_public_b64(k, b64, sizeof(b64));
	CHECK_STREQ(info.public_key, b64);
	CHECK(strcmp(info.incident_id, "inc-good") == 0);
	rc = fl_bundle_verify(dir, k->pk, err, sizeof(err));
	CHECK_MSG(rc == 0, "pinned verify: %s", err);

	/* The signature is over the exact bytes, checked independently. */
	pathf(path, sizeof(path), dir, "manifest.json");
	text = slurp(path, &n);
	pathf(path, sizeof(path), dir, "manifest.sig");
	sigtxt = slurp(path, &sn);
	CHECK(text && sigtxt && sn == 89 && sigtxt[88] == '\n');
	if (text && sigtxt) {
		size_t got = 0;

		CHECK_EQ_INT(sodium_base642bin(sig, 64, sigtxt, 88, NULL, &got,
					       NULL,
					       sodium_base64_VARIANT_ORIGINAL),
			     0);
		CHECK_EQ_INT(crypto_sign_verify_detached(sig,
							 (unsigned char *)text,
							 n, k->pk),
			     0);
		CHECK(strstr(text, "\"format\": \"firelane-evidence/1\""));
		CHECK(strstr(text, "\"public_key\": \"") != NULL);
		CHECK(strstr(text, "\"cleared_wall\": 1764420000"));
		CHECK(strstr(text, "\"t_from\": 150"));
		CHECK(strstr(text, "\"plate\": ["));
		CHECK(strstr(text, "all three taken"));
	}
	free(text);
	free(sigtxt);

	/* Nothing left in the partial area; only the expected files. */
	pathf(path, sizeof(path), fl_store_dir(s), ".partial/inc-good");
	CHECK(!exists(path));
	pathf(path, sizeof(path), dir, "clip.mp4");
	CHECK(exists(path));

	/* An incident is sealed once. */
	{
		fl_bundle_info info2 = { .incident_id = "inc-good",
					 .device = DEVICE,
					 .site = "s",
					 .camera = "c",
					 .lane = LANE };
		fl_bundle *b = NULL;

		rc = fl_bundle_start(s, &info2, &b, err, sizeof(err));
		CHECK(rc == FL_EINVAL && b == NULL);
		CHECK_MSG(strstr(err, "already sealed"), "%s", err);
	}

	/* The parser sees what the writer wrote. */
	{
		fl_manifest m;

		pathf(path, sizeof(path), dir, "manifest.json");
		text = slurp(path, &n);
		rc = fl_manifest_parse(text, n, &m, err, sizeof(err));
		CHECK_MSG(rc == 0, "%s", err);
		CHECK(m.nfiles == 4 && !strcmp(m.lane, LANE));
		CHECK(m.has_plate && m.plate && !strcmp(m.plate, "粤B12345") &&
		      m.plate_confidence == 0.9985);
		CHECK(m.files[1].is_image && m.files[1].seq == 2);
		CHECK(!m.files[3].is_image && m.files[3].bytes == 28);
		fl_manifest_free(&m);
		fl_manifest_free(&m);
		free(text);
	}
}

/* Expect dir to fail verification with err starting with (or, when contains,
 * containing) want. */
static void expect_fail(const char *what, const char *dir,
			const unsigned char *pin, const char *want,
			int contains)
{
	char err[512] = "";
	int rc = fl_bundle_verify(dir, pin, err, sizeof(err));
	int named = contains ? strstr(err, want) != NULL
			     : starts_with(err, want);

	CHECK_MSG(rc < 0, "%s: verified, should fail", what);
	CHECK_MSG(named, "%s: err \"%s\", want \"%s\"", what, err, want);
}

static void test_tamper(const char *good, const fl_key *k, const fl_key *other,
			fl_store *s2)
{
	char copy[512], path[1024], err[512], want[300], what[400];
	DIR *d = opendir(good);
	struct dirent *e;
	int files = 0;

	snprintf(copy, sizeof(copy), "%s/copy", root);
	/* One flipped byte at the start, middle and end of every file. */
	while (d && (e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		files++;
		pathf(path, sizeof(path), good, e->d_name);
		CHECK_EQ_INT(stat(path, &st), 0);
		for (int w = 0; w < 3; w++) {
			size_t off = w == 0   ? 0
				     : w == 1 ? (size_t)st.st_size / 2
					      : (size_t)st.st_size - 1;

			CHECK_EQ_INT(copy_dir(good, copy), 0);
			pathf(path, sizeof(path), copy, e->d_name);
			flip_byte(path, off);
			snprintf(want, sizeof(want), "%s%s", e->d_name,
				 strcmp(e->d_name, "manifest.json") ? ":" : "");
			snprintf(what, sizeof(what), "byte %zu of %s", off,
				 e->d_name);
			/* A changed manifest may still parse; then the
			 * signature fails, and the message mentions
			 * manifest.json too. */
			expect_fail(what, copy, NULL, want,
				    !strcmp(e->d_name, "manifest.json"));
			expect_fail(what, copy, k->pk, want,
				    !strcmp(e->d_name, "manifest.json"));
		}
	}
	if (d)
		closedir(d);
	CHECK_EQ_INT(files, 6);

	/* A copy verifies (the copying itself is sound). */
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	CHECK_EQ_INT(fl_bundle_verify(copy, k->pk, err, sizeof(err)), 0);

	/* A removed file, each in turn. */
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(copy_dir(good, copy), 0);
		pathf(path, sizeof(path), copy, image_names[i]);
		CHECK_EQ_INT(unlink(path), 0);
		snprintf(want, sizeof(want), "%s: missing", image_names[i]);
		expect_fail("removed image", copy, NULL, want, 0);
	}
	/* A byte more: the size says so before the hash. */
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	pathf(path, sizeof(path), copy, "clip.mp4");
	{
		FILE *f = fopen(path, "ab");

		CHECK(f && fputc('x', f) == 'x' && fclose(f) == 0);
	}
	expect_fail("appended byte", copy, NULL,
		    "clip.mp4: size 29, manifest says 28", 0);

	CHECK_EQ_INT(copy_dir(good, copy), 0);
	pathf(path, sizeof(path), copy, "manifest.sig");
	CHECK_EQ_INT(unlink(path), 0);
	expect_fail("removed signature", copy, NULL, "manifest.sig: missing",
		    0);

	/* A FIFO under a listed name is refused, not waited on. */
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	pathf(path, sizeof(path), copy, "scene-3.jpg");
	CHECK(unlink(path) == 0 && mkfifo(path, 0640) == 0);
	expect_fail("fifo", copy, NULL, "scene-3.jpg: unreadable", 0);
	/* A symlink to the real file is refused too. */
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	CHECK_EQ_INT(unlink(path), 0);
	{
		char target[1024];

		pathf(target, sizeof(target), good, "scene-3.jpg");
		CHECK_EQ_INT(symlink(target, path), 0);
	}
	expect_fail("symlink", copy, NULL, "scene-3.jpg: unreadable", 0);

	/* An added file; the delivery marker is the one allowed extra. */
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	pathf(path, sizeof(path), copy, ".delivered");
	CHECK(write_file(path, "1\n", 2) == 0);
	CHECK_EQ_INT(fl_bundle_verify(copy, k->pk, err, sizeof(err)), 0);
	pathf(path, sizeof(path), copy, "extra.txt");
	CHECK(write_file(path, "hello", 5) == 0);
	expect_fail("added file", copy, NULL, "extra.txt: not in manifest", 0);
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	pathf(path, sizeof(path), copy, ".hidden");
	CHECK(write_file(path, "x", 1) == 0);
	expect_fail("added hidden file", copy, NULL, ".hidden: not in manifest",
		    0);

	/* Signed by another key: fine alone, refused against the pinned key. */
	{
		char dir2[1024];

		CHECK(make_bundle(s2, other, "inc-other", dir2, sizeof(dir2)) ==
		      0);
		CHECK_EQ_INT(fl_bundle_verify(dir2, NULL, err, sizeof(err)), 0);
		expect_fail("other key", dir2, k->pk,
			    "manifest.json: signed by another key", 0);
	}

	/* A forger swaps the key and re-signs the manifest with his own: the
	 * pin catches it, and without a pin the image codes (signed by the
	 * device key) still do. */
	{
		char okb64[FL_KEY_B64_LEN], kb64[FL_KEY_B64_LEN];

		CHECK_EQ_INT(copy_dir(good, copy), 0);
		fl_key_public_b64(k, kb64, sizeof(kb64));
		fl_key_public_b64(other, okb64, sizeof(okb64));
		pathf(path, sizeof(path), copy, "manifest.json");
		CHECK_EQ_INT(replace_in(path, kb64, okb64), 0);
		resign(copy, other);
		expect_fail("forged key, pinned", copy, k->pk,
			    "manifest.json: signed by another key", 0);
		expect_fail("forged key, unpinned", copy, NULL,
			    "scene-1.jpg: anti-forgery signature does not "
			    "verify",
			    0);
	}

	/* The manifest's code for scene-2 replaced and the manifest re-signed
	 * with the real key (a code that was never derived from code_sig). */
	{
		char code[13], sig[FL_SIG_B64_LEN], from[32], to[32];

		CHECK(fl_evidence_code(k, DEVICE, "inc-good", LANE, 2,
				       "2026-11-29 12:35:00", code, sig,
				       sizeof(sig)) == 0);
		snprintf(from, sizeof(from), "\"code\": \"%s\"", code);
		code[5] = code[5] == 'A' ? 'B' : 'A';
		snprintf(to, sizeof(to), "\"code\": \"%s\"", code);
		CHECK_EQ_INT(copy_dir(good, copy), 0);
		pathf(path, sizeof(path), copy, "manifest.json");
		CHECK_EQ_INT(replace_in(path, from, to), 0);
		resign(copy, k);
		expect_fail("code mismatch", copy, k->pk,
			    "scene-2.jpg: anti-forgery code does not match", 0);
		/* Without re-signing, the signature catches it first. */
		CHECK_EQ_INT(copy_dir(good, copy), 0);
		CHECK_EQ_INT(replace_in(path, from, to), 0);
		expect_fail("code changed", copy, k->pk,
			    "manifest.sig: signature does not verify", 0);
	}

	/* A listed name that escapes the folder is refused by the parser even
	 * when signed. */
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	pathf(path, sizeof(path), copy, "manifest.json");
	CHECK(replace_in(path, "\"name\": \"clip.mp4\"",
			 "\"name\": \"../clip.mp4\"") == 0);
	resign(copy, k);
	expect_fail("path in name", copy, k->pk, "manifest.json: files[3]", 0);

	/* Too many files for the verifier's quadratic checks: refused. */
	{
		size_t cap = 10002 * 160 + 400, len;
		char *big = malloc(cap), kb64[FL_KEY_B64_LEN];
		fl_manifest m;
		int rc;

		fl_key_public_b64(k, kb64, sizeof(kb64));
		len = (size_t)snprintf(big, cap,
				       "{\"format\": \"firelane-evidence/1\", "
				       "\"public_key\": \"%s\", \"incident_id\": "
				       "\"i\", \"device\": \"d\", \"site\": "
				       "\"s\", \"camera\": \"c\", \"lane\": "
				       "\"l\", \"files\": [",
				       kb64);
		for (int i = 0; i < 10001; i++)
			len += (size_t)snprintf(
				big + len, cap - len,
				"%s{\"name\": \"f%d\", \"kind\": \"x\", "
				"\"sha256\": \"%064d\", \"bytes\": 0}",
				i ? "," : "", i, 0);
		len += (size_t)snprintf(big + len, cap - len, "]}");
		rc = fl_manifest_parse(big, len, &m, err, sizeof(err));
		CHECK_EQ_INT(rc, FL_EFORMAT);
		CHECK_MSG(strstr(err, "more than 10000 files"), "%s", err);
		fl_manifest_free(&m);
		free(big);
	}

	/* Malformed JSON, signed. */
	CHECK_EQ_INT(copy_dir(good, copy), 0);
	CHECK(write_file(path, "{\"format\": ", 11) == 0);
	resign(copy, k);
	expect_fail("truncated manifest", copy, k->pk,
		    "manifest.json: malformed JSON", 0);
	expect_fail("no bundle", "/nonexistent/bundle", NULL,
		    "manifest.json: missing", 0);
	fl__rm_rf(copy);
}

/* ---- abort, seal failures, crash litter --------------------------------------------- */

static void test_abort(fl_store *s, const fl_key *k, const fl_key *other,
		       fl_bundle **crashed)
{
	/* A display name in Latin-1, not UTF-8: must not stop the seal. */
	fl_bundle_info info = { .incident_id = "inc-gone",
				.device = DEVICE,
				.site = "s",
				.camera = "c",
				.lane = LANE,
				.site_name = "Caf\xe9 Nord",
				.cleared_wall = -1 };
	char err[512], path[1024], partial[1024], final[1024];
	char code[13], sig[FL_SIG_B64_LEN];
	fl_bundle_image img = { .kind = "scene",
				.seq = 1,
				.time_utc = "2026-11-29 00:00:00",
				.code = code,
				.code_sig = sig };
	fl_bundle *b;

	pathf(partial, sizeof(partial), fl_store_dir(s), ".partial/inc-gone");
	pathf(final, sizeof(final), fl_store_dir(s), "inc-gone");

	/* The object left before the alarm: nothing kept. */
	b = fl_bundle_begin(s, &info, err, sizeof(err));
	CHECK_MSG(b, "%s", err);
	if (!b)
		return;
	CHECK(exists(partial));
	CHECK(fl_bundle_add(b, "a.bin", "abc", 3, NULL, err, sizeof(err)) == 0);
	CHECK(fl_bundle_add(b, "a.bin", "abc", 3, NULL, err, sizeof(err)) ==
	      FL_EINVAL); /* twice */
	CHECK(fl_bundle_add(b, "x/y", "abc", 3, NULL, err, sizeof(err)) ==
	      FL_EINVAL);
	CHECK(fl_bundle_add(b, "manifest.json", "{}", 2, NULL, err,
			    sizeof(err)) == FL_EINVAL);
	CHECK(fl_bundle_path(b, "../x", path, sizeof(path)) == FL_EINVAL);
	CHECK(fl_bundle_path(b, "clip.mp4", path, sizeof(path)) == 0);
	CHECK(write_file(path, "clip", 4) == 0);
	fl_bundle_abort(b);
	CHECK(!exists(partial));
	CHECK(!exists(final));
	fl_bundle_abort(NULL);

	/* Seal refuses an image whose code is not this key's, and a file
	 * written but never added; the bundle stays invisible and abortable. */
	b = fl_bundle_begin(s, &info, err, sizeof(err));
	CHECK_MSG(b, "%s", err);
	if (!b)
		return;
	CHECK(fl_evidence_code(other, DEVICE, "inc-gone", LANE, 1, img.time_utc,
			       code, sig, sizeof(sig)) == 0);
	CHECK(fl_bundle_add(b, "scene-1.jpg", "jpg", 3, &img, err,
			    sizeof(err)) == 0);
	CHECK_EQ_INT(fl_bundle_seal(b, k, NULL, 0, err, sizeof(err)),
		     FL_EINVAL);
	CHECK_MSG(starts_with(err, "scene-1.jpg: "), "%s", err);
	CHECK(!exists(final));
	fl_bundle_abort(b);
	CHECK(!exists(partial));

	b = fl_bundle_begin(s, &info, err, sizeof(err));
	CHECK_MSG(b, "%s", err);
	if (!b)
		return;
	CHECK(fl_bundle_path(b, "clip.mp4", path, sizeof(path)) == 0);
	CHECK(write_file(path, "clip", 4) == 0);
	CHECK_EQ_INT(fl_bundle_seal(b, k, NULL, 0, err, sizeof(err)),
		     FL_EINVAL);
	CHECK_MSG(starts_with(err, "clip.mp4: "), "%s", err);
	CHECK(!exists(final));
	/* Adding it makes the seal go through. */
	CHECK(fl_bundle_add_existing(b, "clip.mp4", "clip", 0, 1, err,
				     sizeof(err)) == 0);
	CHECK_EQ_INT(fl_bundle_seal(b, k, path, sizeof(path), err, sizeof(err)),
		     0);
	CHECK_STREQ(path, final);
	CHECK_EQ_INT(fl_bundle_verify(final, k->pk, err, sizeof(err)), 0);
	{
		char *text;
		size_t n;

		pathf(path, sizeof(path), final, "manifest.json");
		text = slurp(path, &n);
		CHECK(text && strstr(text, "\"site_name\": \"Caf? Nord\""));
		free(text);
	}
	CHECK_EQ_INT(fl__rm_rf(final), 0);

	/* A second open while s owns the store must not touch the bundle s is
	 * writing; once the owner is gone, the next open clears the litter (as
	 * after a crash). */
	{
		fl_store *s2;
		char lit[1024];

		b = fl_bundle_begin(s, &info, err, sizeof(err));
		CHECK_MSG(b, "%s", err);
		if (!b)
			return;
		CHECK(fl_bundle_add(b, "a.bin", "abc", 3, NULL, err,
				    sizeof(err)) == 0);
		s2 = fl_store_open(fl_store_dir(s), NULL, err, sizeof(err));
		CHECK_MSG(s2, "%s", err);
		CHECK(exists(partial));
		fl_store_close(s2);
		fl_store_close(NULL);
		pathf(lit, sizeof(lit), partial, "a.bin");
		CHECK(exists(lit));
		pathf(lit, sizeof(lit), fl_store_dir(s), ".partial/inc-crash");
		CHECK_EQ_INT(mkdir(lit, 0750), 0);
		pathf(path, sizeof(path), lit, "scene-1.jpg.tmp");
		CHECK(write_file(path, "half", 4) == 0);
		/* The "crash": the bundle is never finished; the owner goes. */
		*crashed = b;
	}
}

/* After the owner of the store closed: its partial bundles are litter. */
static void test_crash_litter(const char *dir)
{
	char err[512], path[1024];
	fl_store *s = fl_store_open(dir, NULL, err, sizeof(err));

	CHECK_MSG(s, "%s", err);
	pathf(path, sizeof(path), dir, ".partial/inc-crash");
	CHECK(!exists(path));
	pathf(path, sizeof(path), dir, ".partial/inc-gone");
	CHECK(!exists(path));
	pathf(path, sizeof(path), dir, ".partial");
	CHECK(exists(path));
	fl_store_close(s);
}

/* ---- retention -------------------------------------------------------------------------- */

static char last_warning[1024];

static void log_hook(int level, const char *tag, const char *msg, void *user)
{
	if (level == FL_LOG_WARN)
		snprintf(last_warning, sizeof(last_warning), "%s: %s", tag,
			 msg);
}

/* Make dir/<id>'s manifest.sig (the bundle's age) look t old. */
static void set_age(fl_store *s, const char *id, double t)
{
	char path[1024];
	struct timespec ts[2] = { { (time_t)t, 0 }, { (time_t)t, 0 } };

	snprintf(path, sizeof(path), "%s/%s/manifest.sig", fl_store_dir(s), id);
	CHECK_EQ_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int bundle_exists(fl_store *s, const char *id)
{
	char path[1024];

	pathf(path, sizeof(path), fl_store_dir(s), id);
	return exists(path);
}

static void test_retention(const fl_key *k)
{
	fl_store_opts o = { .max_bytes = 0,
			    .max_age_s = 1000,
			    .min_free_bytes = 1 };
	char dir[512], err[512], out[1024];
	const char *ids[] = { "r-1", "r-2", "r-3", "r-4" };
	double t0 = 1700000000, total = 0, undelivered = 0;
	fl_store *s;
	int rc;

	snprintf(dir, sizeof(dir), "%s/retention", root);
	s = fl_store_open(dir, &o, err, sizeof(err));
	CHECK_MSG(s, "%s", err);
	if (!s)
		return;
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(make_bundle(s, k, ids[i], out, sizeof(out)), 0);
		set_age(s, ids[i], t0 + 10 * i);
	}
	CHECK(fl_store_mark_delivered(s, "r-1", err, sizeof(err)) == 0);
	CHECK(fl_store_mark_delivered(s, "r-3", err, sizeof(err)) == 0);
	CHECK(fl_store_mark_delivered(s, "nope", err, sizeof(err)) == FL_ENOENT);
	CHECK(fl_store_is_delivered(s, "r-1") == 1);
	CHECK(fl_store_is_delivered(s, "r-2") == 0);
	/* Undelivered: r-2 (sealed at t0 + 10) and r-4 (t0 + 30), oldest
	 * first, those sealed long enough before now only, at most max. */
	{
		char asked[3][FL_INCIDENT_ID_MAX];
		size_t na = 9, nt = 9;

		CHECK_EQ_INT(fl_store_undelivered(s, t0 + 40, 5, asked, 3, &na,
						  &nt, err, sizeof(err)),
			     0);
		CHECK_EQ_INT((int)nt, 2);
		CHECK_EQ_INT((int)na, 2);
		CHECK_STREQ(asked[0], "r-2");
		CHECK_STREQ(asked[1], "r-4");
		CHECK_EQ_INT(fl_store_undelivered(s, t0 + 40, 20, asked, 3, &na,
						  &nt, err, sizeof(err)),
			     0);
		CHECK_EQ_INT((int)nt, 2);
		CHECK_EQ_INT((int)na, 1); /* r-4 is 10 s old */
		CHECK_STREQ(asked[0], "r-2");
		CHECK_EQ_INT(fl_store_undelivered(s, t0 + 40, 0, asked, 1, &na,
						  &nt, err, sizeof(err)),
			     0);
		CHECK_EQ_INT((int)na, 1);
		CHECK_EQ_INT(fl_store_undelivered(s, t0 + 40, 0, NULL, 0, &na,
						  &nt, err, sizeof(err)),
			     0);
		CHECK_EQ_INT((int)na, 0);
		CHECK_EQ_INT((int)nt, 2);
	}
	/* A delivered bundle still verifies (the marker is ignored). */
	CHECK_EQ_INT(fl_bundle_verify(out, NULL, err, sizeof(err)), 0);
	snprintf(out, sizeof(out), "%s/r-1", dir);
	CHECK_MSG(fl_bundle_verify(out, k->pk, err, sizeof(err)) == 0, "%s",
		  err);

	/* Age: at t0 + 1015 r-1 (1015 s) and r-2 (1005 s) are past 1000 s,
	 * but only the delivered r-1 goes. */
	rc = fl_store_prune(s, t0 + 1015, err, sizeof(err));
	CHECK_MSG(rc == 1, "prune removed %d: %s", rc, err);
	CHECK(!bundle_exists(s, "r-1"));
	CHECK(bundle_exists(s, "r-2") && bundle_exists(s, "r-3") &&
	      bundle_exists(s, "r-4"));
	/* Nothing more at the same time: idempotent. */
	CHECK_EQ_INT(fl_store_prune(s, t0 + 1015, err, sizeof(err)), 0);
	fl_store_close(s);
	/* A marker write a crash cut short leaves a temporary in a sealed
	 * bundle (which would then fail to verify): the next owner sweeps
	 * it. */
	snprintf(out, sizeof(out), "%s/r-2/." FL_DELIVERED_MARKER ".tmp-1-1",
		 dir);
	CHECK(write_file(out, "12", 2) == 0);

	/* Budget: one byte. The delivered r-3 goes; the undelivered r-2 and
	 * r-4 stay, with a warning; a new bundle is refused (FL_EFULL). */
	o.max_age_s = 0;
	o.max_bytes = 1;
	s = fl_store_open(dir, &o, err, sizeof(err));
	CHECK_MSG(s, "%s", err);
	if (!s)
		return;
	CHECK(!exists(out));
	snprintf(out, sizeof(out), "%s/r-2", dir);
	CHECK_MSG(fl_bundle_verify(out, k->pk, err, sizeof(err)) == 0, "%s",
		  err);
	last_warning[0] = '\0';
	fl_log_set(log_hook, FL_LOG_WARN, NULL);
	rc = fl_store_prune(s, t0 + 1e9, err, sizeof(err));
	fl_log_set(NULL, 0, NULL);
	CHECK_MSG(rc == 1, "prune removed %d: %s", rc, err);
	CHECK(!bundle_exists(s, "r-3"));
	CHECK(bundle_exists(s, "r-2") && bundle_exists(s, "r-4"));
	CHECK_MSG(strstr(last_warning, "undelivered"), "warning: %s",
		  last_warning);
	CHECK_EQ_INT(fl_store_usage(s, &total, &undelivered, err, sizeof(err)),
		     0);
	CHECK(total > 1 && total == undelivered);
	{
		fl_bundle_info info = { .incident_id = "r-5",
					.device = DEVICE,
					.site = "s",
					.camera = "c",
					.lane = LANE };
		fl_bundle *b = NULL;

		rc = fl_bundle_start(s, &info, &b, err, sizeof(err));
		CHECK(rc == FL_EFULL && b == NULL);
		CHECK_MSG(strstr(err, "undelivered"), "%s", err);
	}
	/* Delivered later: now the oldest goes first, and only as many as
	 * needed (budget big enough for one bundle). */
	CHECK(fl_store_mark_delivered(s, "r-2", err, sizeof(err)) == 0);
	CHECK(fl_store_mark_delivered(s, "r-4", err, sizeof(err)) == 0);
	CHECK_EQ_INT(fl_store_usage(s, &total, &undelivered, err, sizeof(err)),
		     0);
	CHECK_EQ_DBL(undelivered, 0, 0);
	fl_store_close(s);
	o.max_bytes = total * 0.75; /* room for one of the two */
	s = fl_store_open(dir, &o, err, sizeof(err));
	CHECK_NOT_NULL(s);
	if (!s)
		return;
	rc = fl_store_prune(s, t0 + 1e9, err, sizeof(err));
	CHECK_MSG(rc == 1, "prune removed %d: %s", rc, err);
	CHECK(!bundle_exists(s, "r-2") && bundle_exists(s, "r-4"));
	fl_store_close(s);
}

/* ---- the atomic write -------------------------------------------------------------------- */

static void test_write_atomic(void)
{
	char path[512], err[512], dir[512];
	struct stat st;
	size_t n;
	char *got;
	mode_t old;
	int rc;

	snprintf(path, sizeof(path), "%s/atomic.txt", root);
	old = umask(077);
	rc = fl_file_write(path, "one", 3, 0640, 0, err, sizeof(err));
	umask(old);
	CHECK_MSG(rc == 0, "%s", err);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(fl_file_write(path, "second", 6, 0640, 0, err, sizeof(err)) == 0);
	got = slurp(path, &n);
	CHECK(got && n == 6 && !memcmp(got, "second", 6));
	free(got);
	CHECK(temps_in(root) == 0);

	/* No such directory: FL_EIO naming the path, no temporary file. */
	snprintf(dir, sizeof(dir), "%s/no/such/dir/f", root);
	rc = fl_file_write(dir, "x", 1, 0640, 0, err, sizeof(err));
	CHECK_EQ_INT(rc, FL_EIO);
	CHECK_MSG(strstr(err, dir) && strstr(err, strerror(ENOENT)), "%s", err);

	/* The rename fails (a directory is in the way) after the data went
	 * into the temporary file: it must be gone. */
	snprintf(dir, sizeof(dir), "%s/adir", root);
	CHECK_EQ_INT(mkdir(dir, 0750), 0);
	pathf(path, sizeof(path), dir, "inside");
	CHECK(write_file(path, "keep", 4) == 0);
	rc = fl_file_write(dir, "data", 4, 0640, 0, err, sizeof(err));
	CHECK_EQ_INT(rc, FL_EIO);
	CHECK_MSG(strstr(err, dir) != NULL, "%s", err);
	CHECK_MSG(temps_in(root) == 0, "a temporary left behind in %s", root);
	CHECK(exists(path));
}

/* ---- main ------------------------------------------------------------------------------------- */

static int make_bundle_mode(const char *dir)
{
	char path[1024], err[512], out[1024], b64[FL_KEY_B64_LEN + 1];
	fl_store_opts o = { .min_free_bytes = 1 };
	fl_store *s;
	fl_key k;
	int rc;

	pathf(path, sizeof(path), dir, "device.key");
	if (fl_key_load_or_create(path, &k, NULL, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	fl_key_public_b64(&k, b64, sizeof(b64) - 1);
	strcat(b64, "\n");
	pathf(path, sizeof(path), dir, "device.pub");
	if (write_file(path, b64, strlen(b64))) {
		fprintf(stderr, "%s: cannot write\n", path);
		return 1;
	}
	pathf(path, sizeof(path), dir, "store");
	s = fl_store_open(path, &o, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = make_bundle(s, &k, "inc-cli", out, sizeof(out));
	fl_store_close(s);
	fl_key_wipe(&k);
	if (rc || test_failures)
		return 1;
	printf("%s\n", out);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[512], err[512], good[1024];
	fl_store_opts o = { .min_free_bytes = 1 };
	fl_store *s, *s2;
	fl_bundle *crashed = NULL;
	fl_key k, other;

	if (argc == 3 && !strcmp(argv[1], "--make-bundle"))
		return make_bundle_mode(argv[2]);
	CHECK_GE_INT(sodium_init(), 0);
	snprintf(root, sizeof(root), "/tmp/fl-test-bundle-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_key();

	crypto_sign_keypair(k.pk, k.sk);
	crypto_sign_keypair(other.pk, other.sk);
	test_code(&k);
	test_write_atomic();

	snprintf(dir, sizeof(dir), "%s/store", root);
	s = fl_store_open(dir, &o, err, sizeof(err));
	CHECK_MSG(s, "%s", err);
	snprintf(dir, sizeof(dir), "%s/store2", root);
	s2 = fl_store_open(dir, &o, err, sizeof(err));
	CHECK_MSG(s2, "%s", err);
	if (s && s2 && make_bundle(s, &k, "inc-good", good, sizeof(good)) == 0) {
		test_seal_verify(s, &k, good);
		test_tamper(good, &k, &other, s2);
	}
	if (s)
		test_clock(s, &k);
	if (s)
		test_abort(s, &k, &other, &crashed);
	snprintf(dir, sizeof(dir), "%s/store", root);
	fl_store_close(s);
	fl_store_close(s2);
	test_crash_litter(dir);
	fl_bundle_abort(crashed); /* free it; its folder is already gone */
	test_retention(&k);

	if (!test_failures)
		fl__rm_rf(root);
	else
		fprintf(stderr, "scratch left in %s\n", root);
	TEST_DONE();
}
