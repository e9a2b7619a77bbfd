/*
 * test_incoming.c - what the hub may take and what it must hold: the
 * split between transient and permanent failures (fl_err_transient,
 * src/core/fl.c) and the .incoming quotas and reserve (src/hub/incoming.c)
 * on a real folder. The end-to-end behaviour is in the fault suite
 * (tests/integration/faults_*.sh, hub_incoming_quota.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "fl.h"
#include "hubconf.h"
#include "incoming.h"
#include "test.h"

static void test_transient(void)
{
	static const struct {
		int err, transient;
	} cases[] = {
		{ FL_EIO, 1 },     { FL_EFULL, 1 },  { FL_EAGAIN, 1 },
		{ FL_ENOMEM, 1 },  { FL_EINVAL, 0 }, { FL_EFORMAT, 0 },
		{ FL_ERANGE, 0 },  { FL_ENOENT, 0 }, { FL_EEXIST, 0 },
		{ FL_EDECODE, 0 },
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(cases); i++)
		CHECK_MSG(fl_err_transient(cases[i].err) == cases[i].transient,
			  "%s", fl_strerror(cases[i].err));
}

#define MIB 1048576LL

static void test_quotas(void)
{
	static hub_conf c;
	char dir[] = "/tmp/test_incoming_XXXXXX", path[512], err[256];
	static char junk[4096];
	hub_incoming *q;

	CHECK(mkdtemp(dir) != NULL);
	hub_conf_defaults(&c);
	snprintf(c.evidence_dir, sizeof(c.evidence_dir), "%s", dir);
	c.incoming_device_max_mb = 2;
	c.incoming_max_mb = 3;
	c.evidence_reserve_mb = 0;
	q = hub_incoming_create(&c);
	CHECK(q != NULL);
	if (!q)
		return;
	CHECK_EQ_INT(hub_incoming_bytes(q, NULL), 0);

	/* a device up to its quota, then refused: its fault (not transient) */
	CHECK_EQ_INT(hub_incoming_check(q, "a", "a-1", MIB, err, sizeof(err)),
		     0);
	hub_incoming_add(q, "a", "a-1", MIB);
	hub_incoming_add(q, "a", "a-2", MIB);
	CHECK_EQ_INT(hub_incoming_bytes(q, "a"), 2 * MIB);
	CHECK_EQ_INT(hub_incoming_check(q, "a", "a-3", 1, err, sizeof(err)),
		     FL_ERANGE);
	CHECK_MSG(strstr(err, "incoming_device_max_mb") != NULL, "%s", err);
	CHECK(!fl_err_transient(FL_ERANGE));
	/* another device is not starved by it ... */
	CHECK_EQ_INT(hub_incoming_check(q, "b", "b-1", MIB, err, sizeof(err)),
		     0);
	hub_incoming_add(q, "b", "b-1", MIB);
	/* ... until the total is reached */
	CHECK_EQ_INT(hub_incoming_check(q, "c", "c-1", 1, err, sizeof(err)),
		     FL_ERANGE);
	CHECK_MSG(strstr(err, "incoming_max_mb") != NULL, "%s", err);
	/* a file assembled takes its chunks off */
	hub_incoming_add(q, "a", "a-1", -MIB);
	CHECK_EQ_INT(hub_incoming_bytes(q, "a"), MIB);
	CHECK_EQ_INT(hub_incoming_check(q, "c", "c-1", MIB, err, sizeof(err)),
		     0);

	/* the scan counts what is on disk: nothing here, so all forgotten */
	hub_incoming_scan(q);
	CHECK_EQ_INT(hub_incoming_bytes(q, NULL), 0);
	snprintf(path, sizeof(path), "%s/.incoming/a-9", dir);
	CHECK_EQ_INT(fl_mkdir_p(path, 0755, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/.incoming/a-9/clip.mp4.0", dir);
	CHECK_EQ_INT(fl_file_write(path, junk, sizeof(junk), 0644, 0, err,
				   sizeof(err)),
		     0);
	hub_incoming_scan(q);
	CHECK_EQ_INT(hub_incoming_bytes(q, NULL), (long long)sizeof(junk));

	/* the reserve: more than the disk has is transient (held) */
	c.evidence_reserve_mb = 1e6; /* a terabyte */
	CHECK_EQ_INT(hub_incoming_check(q, "a", "a-9", 1, err, sizeof(err)),
		     FL_EFULL);
	CHECK_MSG(strstr(err, "evidence_reserve_mb") != NULL, "%s", err);
	CHECK(fl_err_transient(FL_EFULL));

	hub_incoming_destroy(q);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.incoming/a-9", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.incoming", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	test_transient();
	test_quotas();
	TEST_DONE();
}
