/*
 * test_configs.c - the devices' configurations in the store
 * (src/store/configs.c) and the installer role, on real SQLite files:
 * versions numbered from 1, a save from a stale base refused and nothing
 * stored, one version read back whole, the list newest first without the
 * files, the outcome of sending (pending, applied, refused), every save
 * and apply audited; an apply never answered settled by the device's
 * heartbeat, and nothing else; an installer added only with sites; and a store at
 * version 10 with users migrated to 11 (users kept, the installer role
 * then taken). With FL_TEST_STORE=postgresql://... the same on that
 * database (teststore.h; tests/integration/store_pg.sh).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "db.h"
#include "fl.h"
#include "test.h"
#include "teststore.h"

static char dir[] = "/tmp/fl-test-configs-XXXXXX";

/* The audit rows (of every object) with action, and user and detail
 * where they are not NULL, read through the store. */
static int audits(fl_db *db, const char *action, const char *user,
		  const char *detail)
{
	char *text = fl_db_audit_json(db, NULL, 1000, 0);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL, *row;
	size_t i;
	int n = 0;

	free(text);
	if (!CHECK_NOT_NULL(o))
		return -1;
	json_array_foreach(json_object_get(o, "audit"), i, row)
	{
		const char *a = json_string_value(
			json_object_get(row, "action"));
		const char *u = json_string_value(json_object_get(row, "user"));
		const char *d = json_string_value(
			json_object_get(row, "detail"));

		n += a && !strcmp(a, action) &&
		     (!user || (u && !strcmp(u, user))) &&
		     (!detail || (d && !strcmp(d, detail)));
	}
	json_decref(o);
	return n;
}

/* A fresh store: file on SQLite, or FL_TEST_STORE's database emptied; its
 * URL in url. */
static int store_url(const char *file, char *url, size_t len)
{
	char sq[400];
	const char *u;

	snprintf(sq, sizeof(sq), "sqlite:%s", file);
	u = test_store_url(sq);
	if (!CHECK_NOT_NULL(u))
		return -1;
	snprintf(url, len, "%s", u);
	return 0;
}

static json_t *get(fl_db *db, const char *dev, int version)
{
	char *text = NULL;
	json_t *o;

	if (fl_db_config_get(db, dev, version, &text))
		return NULL;
	o = json_loads(text, 0, NULL);
	free(text);
	return o;
}

static void test_versions(const char *file)
{
	char url[400], err[256];
	fl_db *db;
	json_t *o, *v;
	int ver = -1;
	char *text;

	if (store_url(file, url, sizeof(url)))
		return;
	db = fl_db_open(url, err, sizeof(err));
	if (!CHECK_MSG(db != NULL, "%s", err))
		return;
	CHECK_EQ_INT(fl_db_config_latest(db, "d1", &ver), 0);
	CHECK_EQ_INT(ver, 0);
	CHECK_EQ_INT(fl_db_config_get(db, "d1", 0, &text), FL_ENOENT);
	CHECK_EQ_INT(fl_db_config_save(db, "d1", 0, "a: 1\n", "inst", "first",
				       100, &ver, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(ver, 1);
	/* a stale base: refused, nothing stored */
	CHECK_EQ_INT(fl_db_config_save(db, "d1", 0, "a: 2\n", "other", NULL,
				       101, &ver, err, sizeof(err)),
		     FL_EEXIST);
	CHECK(strstr(err, "version 1 is the latest") != NULL);
	CHECK_EQ_INT(fl_db_config_save(db, "d1", 1, "a: 3\n", "inst", NULL, 102,
				       &ver, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(ver, 2);
	/* another device counts its own */
	CHECK_EQ_INT(fl_db_config_save(db, "d2", 0, "b: 1\n", "root", NULL, 103,
				       &ver, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(ver, 1);
	o = get(db, "d1", 0);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(o, "version")), 2);
	CHECK_STREQ(json_string_value(json_object_get(o, "yaml")), "a: 3\n");
	CHECK(json_is_null(json_object_get(o, "applied")));
	json_decref(o);
	o = get(db, "d1", 1);
	CHECK_STREQ(json_string_value(json_object_get(o, "note")), "first");
	json_decref(o);
	CHECK(get(db, "d1", 3) == NULL);
	/* sent, then refused; version 1 applied */
	CHECK_EQ_INT(fl_db_config_applied(db, "d1", 2, "inst", -1, NULL, 110),
		     0);
	o = get(db, "d1", 2);
	CHECK_EQ_DBL(json_real_value(json_object_get(o, "applied")), 110, 0);
	CHECK(json_is_null(json_object_get(o, "apply_ok")));
	json_decref(o);
	CHECK_EQ_INT(fl_db_config_applied(db, "d1", 2, "inst", 0,
					  "camera cam-1: no frame", 120),
		     0);
	CHECK_EQ_INT(fl_db_config_applied(db, "d1", 1, "inst", 1, NULL, 130),
		     0);
	CHECK_EQ_INT(fl_db_config_applied(db, "d1", 9, "inst", 1, NULL, 130),
		     FL_ENOENT);
	text = fl_db_config_versions_json(db, "d1");
	o = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	v = json_object_get(o, "versions");
	CHECK_EQ_INT((int)json_array_size(v), 2);
	CHECK_EQ_INT((int)json_integer_value(
			     json_object_get(json_array_get(v, 0), "version")),
		     2);
	CHECK(json_object_get(json_array_get(v, 0), "yaml") == NULL);
	CHECK_EQ_INT((int)json_integer_value(
			     json_object_get(json_array_get(v, 0), "apply_ok")),
		     0);
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(v, 0),
						      "apply_error")),
		    "camera cam-1: no frame");
	CHECK_EQ_INT((int)json_integer_value(
			     json_object_get(json_array_get(v, 1), "apply_ok")),
		     1);
	json_decref(o);
	CHECK_EQ_INT(audits(db, "config_save", NULL, NULL), 3);
	CHECK_EQ_INT(audits(db, "config_apply", NULL, NULL), 3);
	fl_db_close(db);
}

static void test_installer(const char *file)
{
	char url[400], err[256], role[32], sites[256];
	fl_db *db;

	/* a store at version 10 with a user: migrated, the user kept */
	if (store_url(file, url, sizeof(url)))
		return;
	db = fl__db_open_version(url, 10, err, sizeof(err));
	if (!CHECK_MSG(db != NULL, "%s", err))
		return;
	CHECK_EQ_INT(fl_db_user_add(db, "pm", "pw", "property", "s1", err,
				    sizeof(err)),
		     0);
	CHECK(fl_db_user_add(db, "inst0", "pw", "installer", "s1", err,
			     sizeof(err)) != 0); /* version 10's CHECK */
	fl_db_close(db);
	db = fl_db_open(url, err, sizeof(err));
	if (!CHECK_MSG(db != NULL, "%s", err))
		return;
	CHECK_EQ_INT(fl_db_schema_version(db), fl_db_schema_latest());
	CHECK_EQ_INT(fl_db_user_check(db, "pm", "pw", role, sizeof(role), sites,
				      sizeof(sites)),
		     0);
	CHECK_STREQ(sites, "s1");
	CHECK_EQ_INT(fl_db_user_add(db, "inst", "pw", "installer", " s1, s2 ",
				    err, sizeof(err)),
		     0);
	CHECK_EQ_INT(fl_db_user_check(db, "inst", "pw", role, sizeof(role),
				      sites, sizeof(sites)),
		     0);
	CHECK_STREQ(role, "installer");
	CHECK_STREQ(sites, "s1,s2");
	CHECK_EQ_INT(fl_db_user_add(db, "inst2", "pw", "installer", " , ", err,
				    sizeof(err)),
		     FL_EINVAL);
	CHECK(strstr(err, "needs --sites") != NULL);
	CHECK_EQ_INT(fl_db_user_add(db, "inst3", "pw", "installer", NULL, err,
				    sizeof(err)),
		     FL_EINVAL);
	fl_db_close(db);
}

/* fl_db_config_heard: only a version stored as not applied is settled */
static void test_heard(const char *file)
{
	char url[400], err[256];
	fl_db *db;
	json_t *o;
	int ver;

	if (store_url(file, url, sizeof(url)))
		return;
	db = fl_db_open(url, err, sizeof(err));
	if (!CHECK_MSG(db != NULL, "%s", err))
		return;
	CHECK_EQ_INT(fl_db_config_save(db, "d1", 0, "a: 1\n", "inst", NULL, 100,
				       &ver, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(fl_db_config_save(db, "d1", 1, "a: 2\n", "inst", NULL, 101,
				       &ver, err, sizeof(err)),
		     0);
	/* never sent, then sent and awaited: the waiter answers, not this */
	CHECK_EQ_INT(fl_db_config_heard(db, "d1", 1, 105), FL_ENOENT);
	CHECK_EQ_INT(fl_db_config_applied(db, "d1", 1, "inst", -1, NULL, 110),
		     0);
	CHECK_EQ_INT(fl_db_config_heard(db, "d1", 1, 111), FL_ENOENT);
	CHECK_EQ_INT(fl_db_config_applied(db, "d1", 1, "hub", 0,
					  "no answer (hub restarted)", 120),
		     0);
	CHECK_EQ_INT(fl_db_config_heard(db, "d1", 1, 130), 0);
	o = get(db, "d1", 1);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(o, "apply_ok")),
		     1);
	CHECK(json_is_null(json_object_get(o, "apply_error")));
	CHECK_EQ_DBL(json_real_value(json_object_get(o, "applied")), 130, 0);
	json_decref(o);
	/* settled once; unknown versions and devices are nothing to settle */
	CHECK_EQ_INT(fl_db_config_heard(db, "d1", 1, 140), FL_ENOENT);
	CHECK_EQ_INT(fl_db_config_heard(db, "d1", 9, 140), FL_ENOENT);
	CHECK_EQ_INT(fl_db_config_heard(db, "d9", 1, 140), FL_ENOENT);
	CHECK_EQ_INT(fl_db_config_heard(db, "d1", 0, 140), FL_EINVAL);
	CHECK_EQ_INT(audits(db, "config_apply", "hub",
			    "version 1: applied (the device's heartbeat "
			    "says so)"),
		     1);
	fl_db_close(db);
}

int main(void)
{
	char a[300], b[300], c[300];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, sizeof(a), "%s/a.db", dir);
	snprintf(b, sizeof(b), "%s/b.db", dir);
	snprintf(c, sizeof(c), "%s/c.db", dir);
	test_versions(a);
	test_installer(b);
	test_heard(c);
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK_EQ_INT(system(cmd), 0);
	}
	TEST_DONE();
}
