/*
 * test_apply.c - a configuration sent by the hub (src/edge/apply.c): what
 * is refused and how it is said, what counts as lane settings only (in
 * place) and what needs a restart, the files beside the configuration
 * (FILE.good, FILE.version, FILE.apply) written, read and put back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "file.h"
#include "fl.h"
#include "schema.h"
#include "tempfiles.h"
#include "test.h"
#include "yaml.h"

static const char base[] =
	"device: {id: edge-01, site: demo-site}\n"
	"cameras:\n"
	"  - id: cam-1\n"
	"    source: a.mp4\n"
	"    lanes:\n"
	"      - id: lane-a\n"
	"        points: [[0, 0], [100, 0], [100, 100], [0, 100]]\n"
	"        dwell_s: 60\n";

static char dir[64], path[128];

/* base with one replacement (from -> to), parsed into cfg */
static char *variant(const char *from, const char *to)
{
	static char out[4096];
	const char *at = from ? strstr(base, from) : NULL;

	if (!from) {
		snprintf(out, sizeof(out), "%s", base);
		return out;
	}
	if (!at)
		return NULL;
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - base), base, to,
		 at + strlen(from));
	return out;
}

static void test_check(void)
{
	static fl_config run, n;
	edge_refusal why;
	char err[512], *t;

	CHECK_EQ_INT(fl_config_parse(&run, base, strlen(base), path, err,
				     sizeof(err)),
		     0);
	t = variant(NULL, NULL);
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why), 0);
	/* a value out of its range: the key, the line, the reason */
	t = variant("dwell_s: 60", "dwell_s: 0");
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why),
		     FL_ECONFIG);
	CHECK_STREQ(why.key, "cameras[cam-1].lanes[lane-a].dwell_s");
	CHECK_EQ_INT(why.line, 8);
	CHECK_STREQ(why.reason, "0 is out of range 1..86400");
	/* YAML that does not parse: a line, no key */
	t = variant("dwell_s: 60", "dwell_s: [60");
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why),
		     FL_ECONFIG);
	CHECK_STREQ(why.key, "");
	CHECK_GT_INT(why.line, 0);
	CHECK(why.reason[0] != '\0');
	/* another device, another site */
	t = variant("id: edge-01", "id: edge-02");
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why),
		     FL_ECONFIG);
	CHECK_STREQ(why.key, "device.id");
	CHECK_MSG(strstr(why.reason, "another device") != NULL, "%s",
		  why.reason);
	t = variant("site: demo-site", "site: north");
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why),
		     FL_ECONFIG);
	CHECK_STREQ(why.key, "device.site");
	/* what would stop the program at start: a zone not on this machine,
	 * and a key of its own (another identity at the hub) */
	t = variant("site: demo-site}",
		    "site: demo-site, time_zone: Mars/Olympus}");
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why),
		     FL_ECONFIG);
	CHECK_STREQ(why.key, "device.time_zone");
	CHECK_EQ_INT(why.line, 1);
	t = variant("site: demo-site}",
		    "site: demo-site, key_file: other.key}");
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why),
		     FL_ECONFIG);
	CHECK_STREQ(why.key, "device.key_file");
	t = variant("site: demo-site}",
		    "site: demo-site, time_zone: \"+08:00\"}");
	CHECK_EQ_INT(edge_apply_check(&run, path, t, strlen(t), &n, &why), 0);
}

/* diff of base and base with one replacement */
static void diff_of(const char *from, const char *to, edge_diff *d)
{
	static fl_config o, n;
	char err[512], *t;

	CHECK_EQ_INT(fl_config_parse(&o, base, strlen(base), path, err,
				     sizeof(err)),
		     0);
	t = variant(from, to);
	if (!CHECK_NOT_NULL(t))
		return;
	CHECK_MSG(fl_config_parse(&n, t, strlen(t), path, err, sizeof(err)) == 0,
		  "%s", err);
	edge_apply_diff(&o, &n, d);
}

static const struct {
	const char *from, *to;
	int restart, ncams, mqtt;
} diffs[] = {
	{ NULL, NULL, 0, 0, 0 },
	{ "dwell_s: 60", "dwell_s: 90", 0, 0, 0 },
	{ "device:", "mqtt: {host: b, heartbeat_s: 9}\ndevice:", 1, 0, 1 },
	{ "device:", "mqtt: {heartbeat_s: 9}\ndevice:", 1, 0, 0 },
	{ "dwell_s: 60",
	  "dwell_s: 60\n        name: \"\xe4\xb8\x9c\"\n"
	  "        quiet_hours: [\"22:00-07:00\"]",
	  0, 0 },
	/* a comment and another order change nothing that runs */
	{ "    source: a.mp4\n", "    source: a.mp4 # the gate\n", 0, 0 },
	{ "[100, 100]", "[100, 90]", 1, 0 },
	{ "id: lane-a", "id: lane-z", 1, 0 },
	{ "        dwell_s: 60\n",
	  "        dwell_s: 60\n      - id: lane-b\n"
	  "        points: [[0, 0], [10, 0], [10, 10]]\n",
	  1, 0 },
	{ "source: a.mp4", "source: b.mp4", 1, 1 },
	{ "id: cam-1", "id: cam-2", 1, 1 },
	{ "{id: edge-01, site: demo-site}",
	  "{id: edge-01, site: demo-site, apply_timeout_s: 5}", 1, 0 },
	{ "device:", "detect: {rest_s: 3}\ndevice:", 1, 0 },
};

static void test_diff(void)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(diffs); i++) {
		edge_diff d;

		memset(&d, 0xff, sizeof(d));
		diff_of(diffs[i].from, diffs[i].to, &d);
		CHECK_MSG(d.restart == diffs[i].restart, "case %zu: restart %d",
			  i, d.restart);
		CHECK_MSG(d.ncams == diffs[i].ncams, "case %zu: %d cameras", i,
			  d.ncams);
		CHECK_MSG(d.mqtt == diffs[i].mqtt, "case %zu: mqtt %d", i,
			  d.mqtt);
	}
	{
		edge_diff d;

		diff_of("source: a.mp4", "source: rtsp://x/y", &d);
		CHECK_STREQ(d.cams[0], "cam-1");
	}
}

static char *slurp(const char *p)
{
	char *t = NULL;
	size_t n;

	if (fl_file_read(p, 1 << 20, &t, &n, NULL, 0) < 0)
		return NULL;
	return t;
}

static void test_files(void)
{
	char side[160], err[256], *t;
	edge_pending p, q;

	CHECK_EQ_INT(fl_file_write(path, "one\n", 4, 0600, 0, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(edge_apply_version(path), 0);
	CHECK_EQ_INT(edge_apply_write(path, "two\n", 4, err, sizeof(err)), 0);
	t = slurp(path);
	CHECK_STREQ(t, "two\n");
	free(t);
	snprintf(side, sizeof(side), "%s.good", path);
	t = slurp(side);
	CHECK_STREQ(t, "one\n");
	free(t);
	CHECK_EQ_INT(edge_apply_restore(path, err, sizeof(err)), 0);
	t = slurp(path);
	CHECK_STREQ(t, "one\n");
	free(t);
	CHECK_EQ_INT(edge_apply_set_version(path, 42, err, sizeof(err)), 0);
	CHECK_EQ_INT(edge_apply_version(path), 42);
	CHECK_EQ_INT(temps_in(dir), 0);

	/* the apply across a restart, round trip */
	CHECK_EQ_INT(edge_pending_read(path, &q), FL_ENOENT);
	memset(&p, 0, sizeof(p));
	snprintf(p.req, sizeof(p.req), "op 7\nx");
	p.version = 5;
	p.previous = 4;
	p.deadline = 1795955761.5;
	p.rollback = 1;
	p.mqtt = 1;
	p.ncams = 2;
	snprintf(p.cams[0], FL_ID_MAX, "cam-1");
	snprintf(p.cams[1], FL_ID_MAX, "cam-3");
	snprintf(p.error, sizeof(p.error), "camera cam-1: gone\nwithin 20 s");
	CHECK_EQ_INT(edge_pending_write(path, &p, err, sizeof(err)), 0);
	CHECK_EQ_INT(edge_pending_read(path, &q), 0);
	CHECK_STREQ(q.req, "op 7 x");
	CHECK_EQ_INT(q.version, 5);
	CHECK_EQ_INT(q.previous, 4);
	CHECK_EQ_DBL(q.deadline, 1795955761.5, 1e-3);
	CHECK_EQ_INT(q.rollback, 1);
	CHECK_EQ_INT(q.mqtt, 1);
	CHECK_EQ_INT(q.ncams, 2);
	CHECK_STREQ(q.cams[1], "cam-3");
	CHECK_STREQ(q.error, "camera cam-1: gone within 20 s");
	edge_pending_clear(path);
	CHECK_EQ_INT(edge_pending_read(path, &q), FL_ENOENT);
	/* a garbled one is removed */
	snprintf(side, sizeof(side), "%s.apply", path);
	CHECK_EQ_INT(fl_file_write(side, "nonsense", 8, 0600, 0, err,
				   sizeof(err)),
		     0);
	CHECK_EQ_INT(edge_pending_read(path, &q), FL_EFORMAT);
	CHECK(access(side, F_OK) != 0);
}

/* config_get's text: the password masked, comments kept; a config sent
 * back masked applies with the device's own password. */
static void test_secrets(void)
{
	static const char own[] =
		"# the device's own file\n"
		"device: {id: edge-01, site: demo-site}\n"
		"mqtt:\n"
		"  host: 127.0.0.1  # the broker\n"
		"  username: edge-01\n"
		"  password: \"s3cret: #1\"  # edge-01's account\n"
		"cameras:\n"
		"  - id: cam-1\n"
		"    source: a.mp4\n"
		"    lanes:\n"
		"      - id: lane-a\n"
		"        points: [[0, 0], [100, 0], [100, 100], [0, 100]]\n";
	static fl_config run, n;
	char err[512], *masked = NULL, *back = NULL;
	size_t len = 0, blen = 0;
	edge_refusal why;

	CHECK_EQ_INT(fl_file_write(path, own, strlen(own), 0600, 0, err,
				   sizeof(err)),
		     0);
	CHECK_EQ_INT(edge_apply_masked(path, &masked, &len, err, sizeof(err)),
		     0);
	CHECK(masked && strstr(masked, "s3cret") == NULL);
	CHECK(masked &&
	      strstr(masked, "password: \"" FL_SECRET_MASK "\"") != NULL);
	CHECK(masked && strstr(masked, "# edge-01's account") != NULL);
	CHECK(masked && strstr(masked, "# the device's own file") != NULL);
	CHECK_EQ_INT((int)len, masked ? (int)strlen(masked) : -1);
	/* sent back as it was shown: the device's password again */
	CHECK_EQ_INT(edge_apply_unmask(path, masked, len, &back, &blen, err,
				       sizeof(err)),
		     0);
	CHECK(back && strstr(back, "password: \"s3cret: #1\"") != NULL);
	CHECK_EQ_INT(fl_config_parse(&run, own, strlen(own), path, err,
				     sizeof(err)),
		     0);
	CHECK_EQ_INT(edge_apply_check(&run, path, back, blen, &n, &why), 0);
	CHECK_STREQ(n.mqtt.password, "s3cret: #1");
	free(back);
	/* a password the hub sets is the hub's */
	CHECK_EQ_INT(edge_apply_unmask(path, "mqtt: {password: new}\n", 22,
				       &back, &blen, err, sizeof(err)),
		     0);
	CHECK(back && strstr(back, "new") && !strstr(back, "s3cret"));
	free(back);
	/* no password set: nothing to mask, the text as it is */
	free(masked);
	CHECK_EQ_INT(fl_file_write(path, base, strlen(base), 0600, 0, err,
				   sizeof(err)),
		     0);
	CHECK_EQ_INT(edge_apply_masked(path, &masked, &len, err, sizeof(err)),
		     0);
	CHECK(masked && !strcmp(masked, base));
	free(masked);
}

int main(void)
{
	char cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/fl-test-apply-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/edge.yaml", dir);
	test_check();
	test_diff();
	test_files();
	test_secrets();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test_apply: could not remove %s\n", dir);
	TEST_DONE();
}
