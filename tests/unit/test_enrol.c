/*
 * test_enrol.c - enrolment by one-time code, the parts without a network:
 * the configuration editor (src/config/yamledit.c), the hub's codes and
 * QR code (src/hub/enrol.c), the codes in the store (src/store/enrol.c)
 * and the edge's reading of the hub's answer (src/edge/enrol.c).
 * enrol_code.sh runs the whole path with the real programs. The codes in
 * the store run on FL_TEST_STORE's PostgreSQL database where it is set
 * (teststore.h; tests/integration/store_pg.sh).
 */
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "enrol.h" /* the edge's */
#include "enrolcode.h"
#include "file.h"
#include "fl.h"
#include "sign.h"
#include "test.h"
#include "teststore.h"
#include "yaml.h"
#include "yamledit.h"

static const char block_conf[] =
	"# the packaged sample\n"
	"device:  # device identity\n"
	"  id: \"edge-01\"  # device id\n"
	"  site: \"demo-site\"  # site\n"
	"  key_file: device.key\n"
	"\n"
	"# the broker\n"
	"mqtt:  # broker and spool\n"
	"  host: \"\"  # broker host\n"
	"  password: \"a#b\"  # a '#' inside quotes is no comment\n"
	"  heartbeat_s: 60\n"
	"\n"
	"cameras:\n"
	"  - id: cam-1\n";

static char *set(const char *text, const fl_yaml_kv *kv, size_t n)
{
	char *out = NULL, err[256] = "";
	size_t len = 0;
	int rc = fl_yaml_set(text, strlen(text), "t.yaml", kv, n, &out, &len,
			     err, sizeof(err));

	CHECK_MSG(rc == 0, "fl_yaml_set: %s", err);
	if (out)
		CHECK_EQ_INT(strlen(out), len);
	return out;
}

static void test_yamledit(void)
{
	const fl_yaml_kv kv[] = {
		{ "device", "id", "\"gate-7\"" },
		{ "device", "site", "\"north\"" },
		{ "mqtt", "host", "\"broker.example\"" },
		{ "mqtt", "password", "\"p w\"" },
		{ "mqtt", "port", "8883" },
		{ "evidence", "dir", "\"/var/ev\"" },
	};
	const fl_yaml_kv flow[] = { { "device", "id", "\"gate-7\"" } };
	char q[64], *out, err[256];
	size_t len;

	out = set(block_conf, kv, FL_ARRAY_SIZE(kv));
	if (!CHECK_NOT_NULL(out))
		return;
	/* replaced in place, comments kept */
	CHECK(strstr(out, "  id: \"gate-7\"  # device id\n") != NULL);
	CHECK(strstr(out, "  site: \"north\"  # site\n") != NULL);
	CHECK(strstr(out, "  host: \"broker.example\"  # broker host\n"));
	CHECK(strstr(out, "  password: \"p w\"  # a '#' inside quotes is no "
			  "comment\n"));
	/* absent: at the end of its section, before the blank line */
	CHECK(strstr(out, "  heartbeat_s: 60\n  port: 8883\n\ncameras:") !=
	      NULL);
	/* a section absent: at the end */
	CHECK(strstr(out, "  - id: cam-1\n\nevidence:\n  dir: \"/var/ev\"\n"));
	CHECK(!strncmp(out,
		       "# the packaged sample\ndevice:  # device identity\n",
		       48));
	CHECK(strstr(out, "# the broker\nmqtt:") != NULL);
	CHECK(strstr(out, "edge-01") == NULL);
	free(out);

	/* a flow section becomes block style, its other keys kept */
	out = set("device: {id: a, site: \"b c\", key_file: k.key}\n"
		  "mqtt: {host: h}\n",
		  flow, 1);
	if (CHECK_NOT_NULL(out))
		CHECK_STREQ(out, "device:\n  id: \"gate-7\"\n  site: \"b c\"\n"
				 "  key_file: k.key\nmqtt: {host: h}\n");
	free(out);

	/* a value over several lines: a block scalar goes with its key; a
	 * quoted one whose lines are not indented is refused */
	{
		const fl_yaml_kv pw[] = { { "mqtt", "password", "\"new\"" } };

		out = set(
			"mqtt:\n  password: |\n    old\n    lines\n  port: 1\n",
			pw, 1);
		if (CHECK_NOT_NULL(out))
			CHECK_STREQ(out,
				    "mqtt:\n  password: \"new\"\n  port: 1\n");
		free(out);
		/* (what the fuzzer found: YAML that lines cannot edit) */
		static const char odd[] = "mqtt:\n  pSassword: 'ory}\nmts, "
					  "a'#asels: []mqtt:\n  password: "
					  "'ory}\nmts, a'#asels: [\n";

		CHECK_EQ_INT(fl_yaml_set(odd, sizeof(odd) - 1, "t", pw, 1, &out,
					 &len, err, sizeof(err)),
			     FL_EFORMAT);
		CHECK_MSG(strstr(err, "cannot set mqtt.password") != NULL, "%s",
			  err);
	}

	/* not YAML, not a map, a section that is not a map, bad keys */
	CHECK_EQ_INT(fl_yaml_set("a: [", 4, "t", flow, 1, &out, &len, err,
				 sizeof(err)),
		     FL_EFORMAT);
	CHECK_EQ_INT(fl_yaml_set("- a\n", 4, "t", flow, 1, &out, &len, err,
				 sizeof(err)),
		     FL_EFORMAT);
	CHECK_EQ_INT(fl_yaml_set("device: [a]\n", 12, "t", flow, 1, &out, &len,
				 err, sizeof(err)),
		     FL_EFORMAT);
	{
		const fl_yaml_kv bad[] = { { "device", "id: x\nevil", "1" } };
		const fl_yaml_kv nl[] = { { "device", "id", "1\nevil: 2" } };

		CHECK_EQ_INT(fl_yaml_set("a: 1\n", 5, "t", bad, 1, &out, &len,
					 err, sizeof(err)),
			     FL_EINVAL);
		CHECK_EQ_INT(fl_yaml_set("a: 1\n", 5, "t", nl, 1, &out, &len,
					 err, sizeof(err)),
			     FL_EINVAL);
	}

	fl_yaml_quote("a\"b\\c\nd", q, sizeof(q));
	CHECK_STREQ(q, "\"a\\\"b\\\\c\\x0ad\"");
	CHECK_EQ_INT(fl_yaml_quote("abc", q, 3), 5);
	CHECK_STREQ(q, "\"a");
}

static void test_codes(void)
{
	char code[HUB_ENROL_CODE_LEN + 1], norm[HUB_ENROL_CODE_LEN + 1];
	char hex[65], *svg;

	for (int i = 0; i < 50; i++) {
		hub_enrol_code_new(code);
		CHECK_EQ_INT(strlen(code), HUB_ENROL_CODE_LEN);
		CHECK_EQ_INT(strspn(code, HUB_ENROL_ALPHABET),
			     HUB_ENROL_CODE_LEN);
	}
	CHECK_EQ_INT(hub_enrol_code_norm("abcd-efgh", norm), FL_EINVAL); /* B */
	CHECK_EQ_INT(hub_enrol_code_norm("acde-fg hj", norm), 0);
	CHECK_STREQ(norm, "ACDEFGHJ");
	CHECK_EQ_INT(hub_enrol_code_norm("ACDEFGH", norm), FL_EINVAL);
	CHECK_EQ_INT(hub_enrol_code_norm("ACDEFGHJK", norm), FL_EINVAL);
	CHECK_EQ_INT(hub_enrol_code_norm("ACDEFGH0", norm), FL_EINVAL);
	CHECK_EQ_INT(hub_enrol_code_norm("", norm), FL_EINVAL);
	hub_enrol_hash("ACDEFGHJ", hex);
	CHECK_EQ_INT(strlen(hex), 64);
	/* sha256("ACDEFGHJ"), as sha256sum says */
	CHECK_STREQ(hex,
		    "371156f22c432829c3b43770b9e5fdcb8029d1b8f2eaacbff401afe"
		    "ff3d71f5c");

	svg = hub_qr_svg("firelane-enrol:https://hub.example?code=ACDEFGHJ");
	if (CHECK_NOT_NULL(svg)) {
		CHECK(!strncmp(svg, "<svg ", 5));
		CHECK(strstr(svg, "<path fill=\"#000\" d=\"M") != NULL);
		CHECK(!strcmp(svg + strlen(svg) - 6, "</svg>"));
	}
	free(svg);
	{ /* more than any QR code holds */
		char *big = malloc(8000);

		memset(big, 'x', 7999);
		big[7999] = '\0';
		CHECK_NULL(hub_qr_svg(big));
		free(big);
	}
}

static void test_store(void)
{
	char err[256] = "", dev[64], site[64], pk[FL_KEY_B64_LEN];
	unsigned char pub[32], sec[64];
	char *j;
	const char *url = test_store_url("sqlite::memory:");
	fl_db *db = url ? fl_db_open(url, err, sizeof(err)) : NULL;

	if (!CHECK_MSG(db != NULL, "%s", err))
		return;
	crypto_sign_keypair(pub, sec);
	sodium_bin2base64(pk, sizeof(pk), pub, 32,
			  sodium_base64_VARIANT_ORIGINAL);
	CHECK_EQ_INT(fl_db_enrol_code_add(db, "h1", "gate-1", "north", 1000,
					  2000, "ada", err, sizeof(err)),
		     0);
	CHECK_EQ_INT(fl_db_enrol_code_add(db, "h2", "bad/id", "north", 1000,
					  2000, "ada", err, sizeof(err)),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_db_enrol_code_add(db, "h3", "gate-3", "north", 1000,
					  900, "ada", err, sizeof(err)),
		     FL_EINVAL);
	CHECK_NE_INT(fl_db_enrol_code_add(db, "h1", "gate-9", "north", 1000,
					  2000, "ada", err, sizeof(err)),
		     0);
	j = fl_db_enrol_codes_json(db, 1500, NULL);
	CHECK(j && strstr(j, "\"device\":\"gate-1\"") &&
	      strstr(j, "\"created_by\":\"ada\""));
	free(j);
	/* an installer's sites: north's code, not for "nort" or others */
	j = fl_db_enrol_codes_json(db, 1500, "south,north");
	CHECK(j && strstr(j, "\"device\":\"gate-1\""));
	free(j);
	j = fl_db_enrol_codes_json(db, 1500, "south,nort");
	CHECK_STREQ(j, "{\"codes\":[]}");
	free(j);
	j = fl_db_enrol_codes_json(db, 2000, NULL); /* expired: not pending */
	CHECK_STREQ(j, "{\"codes\":[]}");
	free(j);

	CHECK_EQ_INT(fl_db_enrol_redeem(db, "nope", pk, 1500, dev, sizeof(dev),
					site, sizeof(site), err, sizeof(err)),
		     FL_ENOENT);
	/* a bad key says nothing of the code: the same for none */
	CHECK_EQ_INT(fl_db_enrol_redeem(db, "nope", "bad key", 1500, dev,
					sizeof(dev), site, sizeof(site), err,
					sizeof(err)),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_db_enrol_redeem(db, "h1", "bad key", 1500, dev,
					sizeof(dev), site, sizeof(site), err,
					sizeof(err)),
		     FL_EINVAL);
	CHECK_EQ_INT(fl_db_enrol_redeem(db, "h1", pk, 2500, dev, sizeof(dev),
					site, sizeof(site), err, sizeof(err)),
		     FL_ERANGE);
	CHECK_EQ_INT(fl_db_device_get(db, "gate-1", NULL, 0, NULL, 0),
		     FL_ENOENT);
	CHECK_EQ_INT(fl_db_enrol_redeem(db, "h1", pk, 1500, dev, sizeof(dev),
					site, sizeof(site), err, sizeof(err)),
		     0);
	CHECK_STREQ(dev, "gate-1");
	CHECK_STREQ(site, "north");
	{
		char s[64], k[64];

		CHECK_EQ_INT(fl_db_device_get(db, "gate-1", s, sizeof(s), k,
					      sizeof(k)),
			     0);
		CHECK_STREQ(s, "north");
		CHECK_STREQ(k, pk);
	}
	CHECK_EQ_INT(fl_db_enrol_redeem(db, "h1", pk, 1501, dev, sizeof(dev),
					site, sizeof(site), err, sizeof(err)),
		     FL_EEXIST);
	j = fl_db_enrol_codes_json(db, 1500, NULL); /* used: not pending */
	CHECK_STREQ(j, "{\"codes\":[]}");
	free(j);
	/* given back (the broker failed): usable again, then revoked */
	CHECK_EQ_INT(fl_db_enrol_release(db, "h1"), 0);
	CHECK_EQ_INT(fl_db_enrol_release(db, "none"), FL_ENOENT);
	/* not by an installer of another site */
	CHECK_EQ_INT(fl_db_enrol_code_revoke(db, 1, "south"), FL_ENOENT);
	CHECK_EQ_INT(fl_db_enrol_code_revoke(db, 1, "south,north"), 0);
	CHECK_EQ_INT(fl_db_enrol_code_revoke(db, 1, NULL), FL_ENOENT);
	CHECK_EQ_INT(fl_db_enrol_redeem(db, "h1", pk, 1500, dev, sizeof(dev),
					site, sizeof(site), err, sizeof(err)),
		     FL_ENOENT);
	fl_db_close(db);
}

static void test_answer(void)
{
	static const char good[] =
		"{\"device\":\"gate-7\",\"site\":\"north\",\"mqtt\":{\"host\":"
		"\"b.example\",\"port\":8883,\"tls\":true,\"username\":\"gate-7\","
		"\"password\":\"pw\"},\"hub_key\":"
		"\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}";
	static const char *const bad[] = {
		"[]",
		"{\"device\":\"a/b\"}",
		"{\"device\":\"gate-7\",\"site\":\"north\",\"mqtt\":{\"host\":"
		"\"b\",\"port\":0,\"tls\":true,\"username\":\"u\",\"password\":"
		"\"p\"},\"hub_key\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}",
		"{\"device\":\"gate-7\",\"site\":\"north\",\"mqtt\":{\"host\":"
		"\"b\",\"port\":1,\"tls\":1,\"username\":\"u\",\"password\":"
		"\"p\"},\"hub_key\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}",
		"{\"device\":\"gate-7\",\"site\":\"north\",\"mqtt\":{\"host\":"
		"\"b\",\"port\":1,\"tls\":false,\"username\":\"u\",\"password\":"
		"\"p\\nq\"},\"hub_key\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}",
		"{\"device\":\"gate-7\",\"site\":\"north\",\"mqtt\":{\"host\":"
		"\"b\",\"port\":1,\"tls\":false,\"username\":\"u\",\"password\":"
		"\"p\"},\"hub_key\":\"short\"}",
	};
	edge_enrol_answer a;
	char err[256];

	{
		char url[64], code[16];

		CHECK_EQ_INT(edge_enrol_uri("firelane-enrol:https://h.example/"
					    "x?code=ACDEFGHJ",
					    url, sizeof(url), code,
					    sizeof(code)),
			     0);
		CHECK_STREQ(url, "https://h.example/x");
		CHECK_STREQ(code, "ACDEFGHJ");
		CHECK_EQ_INT(edge_enrol_uri("https://h?code=A", url,
					    sizeof(url), code, sizeof(code)),
			     FL_EINVAL);
		CHECK_EQ_INT(edge_enrol_uri("firelane-enrol:https://h?code=",
					    url, sizeof(url), code,
					    sizeof(code)),
			     FL_EINVAL);
		CHECK_EQ_INT(edge_enrol_uri("firelane-enrol:https://h", url,
					    sizeof(url), code, sizeof(code)),
			     FL_EINVAL);
		CHECK_EQ_INT(edge_enrol_uri("firelane-enrol:https://h?code="
					    "0123456789abcdef0",
					    url, sizeof(url), code,
					    sizeof(code)),
			     FL_EINVAL);
	}
	CHECK_EQ_INT(edge_enrol_answer_parse(good, strlen(good), &a, err,
					     sizeof(err)),
		     0);
	CHECK_STREQ(a.device, "gate-7");
	CHECK_STREQ(a.host, "b.example");
	CHECK_EQ_INT(a.port, 8883);
	CHECK_EQ_INT(a.tls, 1);
	for (size_t i = 0; i < FL_ARRAY_SIZE(bad); i++)
		CHECK_MSG(edge_enrol_answer_parse(bad[i], strlen(bad[i]), &a,
						  err,
						  sizeof(err)) == FL_EFORMAT,
			  "accepted: %s", bad[i]);
}

/* The packaged sample (docs/firelane.sample.yaml) completed by an answer,
 * with and without TLS: it loads, says what the answer said, and keeps
 * its comments. */
static void test_config(void)
{
	static edge_enrol_answer ans = {
		.device = "gate-7",
		.site = "north",
		.host = "b.example",
		.port = 8883,
		.tls = 1,
		.username = "gate-7",
		.password = "p\"w",
		.hub_key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapi"
			   "MlrwIaaPcHURo="
	};
	const char *src = getenv("FL_SOURCE_DIR");
	char path[1024], ca[1100], err[512], *text = NULL, *out = NULL;
	edge_enrol_args a = { .config = "/etc/firelane/edge.yaml" };
	fl_config *cfg = malloc(sizeof(*cfg));
	size_t len = 0, outlen = 0;

	if (!CHECK_NOT_NULL(src) || !CHECK_NOT_NULL(cfg))
		goto out;
	snprintf(path, sizeof(path), "%s/docs/firelane.sample.yaml", src);
	if (!CHECK_MSG(fl_file_read(path, 1 << 20, &text, &len, err,
				    sizeof(err)) == 0,
		       "%s", err))
		goto out;
	/* TLS, no --ca: the system's CAs */
	if (CHECK_EQ_INT(edge_enrol_config(&a, &ans, text, len, &out, &outlen,
					   err, sizeof(err)),
			 0) &&
	    CHECK_MSG(fl_config_parse(cfg, out, outlen, a.config, err,
				      sizeof(err)) == 0,
		      "%s", err)) {
		CHECK_STREQ(cfg->device_id, "gate-7");
		CHECK_STREQ(cfg->site, "north");
		CHECK_STREQ(cfg->mqtt.host, "b.example");
		CHECK_EQ_INT(cfg->mqtt.port, 8883);
		CHECK_STREQ(cfg->mqtt.username, "gate-7");
		CHECK_STREQ(cfg->mqtt.password, "p\"w");
		CHECK_STREQ(cfg->mqtt.hub_key, ans.hub_key);
		CHECK_STREQ(cfg->mqtt.tls_ca,
			    "/etc/ssl/certs/ca-certificates.crt");
		CHECK(strstr(out, "  id: \"gate-7\"  # device id") != NULL);
	}
	free(out);
	out = NULL;
	/* TLS with --ca: that file, absolute */
	snprintf(ca, sizeof(ca), "%s/docs/api.md", src);
	a.ca = ca;
	if (CHECK_EQ_INT(edge_enrol_config(&a, &ans, text, len, &out, &outlen,
					   err, sizeof(err)),
			 0) &&
	    CHECK_EQ_INT(fl_config_parse(cfg, out, outlen, a.config, err,
					 sizeof(err)),
			 0)) {
		char real[4096];

		CHECK(realpath(ca, real) != NULL);
		CHECK_STREQ(cfg->mqtt.tls_ca, real);
	}
	free(out);
	out = NULL;
	/* no TLS: none */
	ans.tls = 0;
	if (CHECK_EQ_INT(edge_enrol_config(&a, &ans, text, len, &out, &outlen,
					   err, sizeof(err)),
			 0) &&
	    CHECK_EQ_INT(fl_config_parse(cfg, out, outlen, a.config, err,
					 sizeof(err)),
			 0))
		CHECK_STREQ(cfg->mqtt.tls_ca, "");
out:
	free(out);
	free(text);
	free(cfg);
}

int main(void)
{
	CHECK(sodium_init() >= 0);
	test_yamledit();
	test_codes();
	test_store();
	test_answer();
	test_config();
	TEST_DONE();
}
