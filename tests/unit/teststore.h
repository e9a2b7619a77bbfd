/*
 * teststore.h - the store a unit test of src/store opens: SQLite, or the
 * PostgreSQL database FL_TEST_STORE names (tests/integration/store_pg.sh
 * runs the store's tests so, against a server of its own), so the same
 * tests run on both backends (docs/store.md, "What exists").
 *
 * Include after test.h; the program links fl_db (libpq with it where the
 * build has it: FL_HAVE_LIBPQ).
 */
#ifndef FL_TESTSTORE_H
#define FL_TESTSTORE_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"

#ifdef FL_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

/* FL_TEST_STORE: a postgresql:// URL of a database the test may empty, or
 * NULL when unset (SQLite). */
static inline const char *test_pg_url(void)
{
	const char *u = getenv("FL_TEST_STORE");

	return u && *u ? u : NULL;
}

/* Runs constant SQL on url's database, beside the store: 0, or -1 (a
 * failed check) when it fails or the build has no libpq. */
static inline int test_pg_exec(const char *url, const char *sql)
{
#ifdef FL_HAVE_LIBPQ
	PGconn *c = PQconnectdb(url);
	PGresult *r = NULL;
	int ok = PQstatus(c) == CONNECTION_OK;

	if (ok) {
		r = PQexec(c, sql);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
		     PQresultStatus(r) == PGRES_TUPLES_OK;
	}
	CHECK_MSG(ok, "%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
#else
	(void)sql;
	CHECK_MSG(0, "FL_TEST_STORE=%s: built without libpq", url);
	return -1;
#endif
}

/* url's database emptied: every table of a previous test gone. */
static inline int test_pg_reset(const char *url)
{
	return test_pg_exec(url, "SET client_min_messages = warning;"
				 "DROP SCHEMA public CASCADE;"
				 " CREATE SCHEMA public");
}

/* The URL a test opens a fresh store at: FL_TEST_STORE's database emptied
 * (NULL when that fails), else sqlite_url. */
static inline const char *test_store_url(const char *sqlite_url)
{
	const char *pg = test_pg_url();

	if (!pg)
		return sqlite_url;
	return test_pg_reset(pg) == 0 ? pg : NULL;
}

/* How many audit rows of action the incident has (its newest 100). */
static inline int test_audits(fl_db *db, const char *iid, const char *action)
{
	char *t = fl_db_audit_json(db, iid, 100, 0);
	json_t *j = t ? json_loads(t, 0, NULL) : NULL, *row;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(j, "audit"), i, row)
		n += !strcmp(json_string_value(json_object_get(row, "action")),
			     action);
	json_decref(j);
	free(t);
	return n;
}

#endif /* FL_TESTSTORE_H */
