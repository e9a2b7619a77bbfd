#!/usr/bin/env bash
# store_pg.sh - the store's tests' own PostgreSQL server (lib/harness.sh,
# pg_start and pg_stop; docs/store.md, "A PostgreSQL backend").
#
# Debian's postgresql binaries, a cluster made by initdb in WORK/pg, the
# socket in that folder, TCP on 127.0.0.1 at a free port. Checks:
#   (a) the database "firelane" answers through the socket in WORK/pg and
#       through PG_URL on loopback;
#   (b) as root, the server runs as the unprivileged user (initdb and
#       postgres refuse root) and WORK stays closed to others' reading;
#   (c) a commit is on disk: a row written, the server stopped (fast
#       shutdown) and started again on the same folder, the row is there;
#   (d) pg_stop ends the server and its backends (the harness fails the
#       test for any process left);
#   (e) the store's tests pass against this server (FL_TEST_STORE,
#       tests/unit/teststore.h): test_db (migrations, the backend's
#       contract, ingest, the register, two writers racing on one
#       incident, ...), test_enrol (enrolment codes), test_configs (the
#       devices' configurations, the installer role's migration) and
#       test_intact (the hub's check of evidence files and its scrub),
#       test_alertjobs (the alerts' jobs, leases and steps, several
#       connections at once), test_hub_bundles (two hubs completing one
#       evidence bundle at once, each with its own connection).
# Skipped when the server package is absent.
# Env: FL_BUILD_DIR, FL_SOURCE_DIR.
set -eu
. "$(dirname "$0")/lib/harness.sh"
need python3 "$BUILD/tests/test_db" "$BUILD/tests/test_enrol" "$BUILD/tests/test_configs" \
	"$BUILD/tests/test_intact" "$BUILD/tests/test_alertjobs" "$BUILD/tests/test_hub_bundles"
pg_start
need psql

# (a) the socket in the test's folder, and loopback TCP
[ -S "$PGHOST/.s.PGSQL.$PGPORT" ] || fail "no socket $PGHOST/.s.PGSQL.$PGPORT"
[ "$(pg_sql 'SELECT current_database()')" = firelane ] || fail "no database firelane through the socket"
[ "$(psql "$PG_URL" -Atqc 'SELECT inet_server_addr()')" = 127.0.0.1 ] ||
	fail "$PG_URL does not answer on 127.0.0.1"
[ "$(pg_sql 'SHOW port')" = "$PGPORT" ] || fail "the server is not on port $PGPORT"

# (b) not root
user=$(ps -o user= -p "$PG_PID" | tr -d ' ')
if [ "$(id -u)" = 0 ]; then
	[ "$user" = "${PG_USER:-nobody}" ] || fail "postgres runs as $user, not ${PG_USER:-nobody}"
	case $(stat -c %A "$WORK") in
	d??????--x) ;;
	*) fail "WORK is $(stat -c %A "$WORK"): others may pass through it, not read it" ;;
	esac
fi

# (c) durable: the row survives a restart of the server on the same folder
pg_sql 'CREATE TABLE t (v text); INSERT INTO t VALUES ($$kept$$)' >/dev/null
[ "$(pg_sql 'SHOW fsync')" = on ] || fail "fsync is off"
old=$PG_PID
pg_stop
kill -0 "$old" 2>/dev/null && fail "postgres $old still runs after pg_stop"
# the same cluster again (PG_AS: as root, the unprivileged user)
"${PG_AS[@]}" "$(pg_bin postgres)" -D "$PGHOST/data" -p "$PGPORT" -k "$PGHOST" \
	-c listen_addresses=127.0.0.1 >>"$WORK/postgres.log" 2>&1 &
PG_PID=$!
track "$PG_PID"
for i in $(seq 300); do
	[ "$(pg_sql 'SELECT v FROM t' 2>/dev/null)" = kept ] && break
	kill -0 "$PG_PID" 2>/dev/null || fail "postgres did not start again"
	sleep 0.1
done
[ "$(pg_sql 'SELECT v FROM t')" = kept ] || fail "the committed row is gone after a restart"

# (e) the store's tests on this server, through loopback TCP and through
# the socket (the hub's two ways to name a server)
FL_TEST_STORE=$PG_URL "$BUILD/tests/test_db" >"$WORK/test_db-tcp.log" 2>&1 ||
	fail "test_db on $PG_URL: $(grep -E 'check failed|FAIL' "$WORK/test_db-tcp.log" | head -n 20)"
grep -q 'all checks passed' "$WORK/test_db-tcp.log" || fail "test_db did not finish on $PG_URL"
FL_TEST_STORE=$PG_SOCKET_URL "$BUILD/tests/test_db" >"$WORK/test_db-socket.log" 2>&1 ||
	fail "test_db on $PG_SOCKET_URL: $(grep -E 'check failed|FAIL' "$WORK/test_db-socket.log" | head -n 20)"
# the other store tests, each on the database emptied; what each leaves
# there shows it ran on PostgreSQL, not on SQLite by mistake
pg_store_test() { # test, SQL counting what it leaves
	FL_TEST_STORE=$PG_URL "$BUILD/tests/$1" >"$WORK/$1.log" 2>&1 ||
		fail "$1 on $PG_URL: $(grep -E 'check failed|FAIL' "$WORK/$1.log" | head -n 20)"
	grep -q 'all checks passed' "$WORK/$1.log" || fail "$1 did not finish on $PG_URL"
	[ "$(pg_sql "$2")" -gt 0 ] || fail "$1 left nothing on PostgreSQL ($2)"
}
pg_store_test test_enrol "SELECT count(*) FROM devices WHERE device = 'gate-1'"
pg_store_test test_configs "SELECT count(*) FROM device_configs"
# the hub's check of evidence files and its scrub thread (a second handle)
pg_store_test test_intact "SELECT count(*) FROM evidence WHERE tampered IS NOT NULL"
# the alerts' jobs (the last test's all-clears, made under two connections)
pg_store_test test_alertjobs "SELECT count(*) FROM alert_jobs WHERE kind = 'cleared'"
# two hubs completing one bundle at once (a connection each)
pg_store_test test_hub_bundles "SELECT count(*) FROM incidents WHERE verified = 1"

# (d) pg_stop, with a backend busy in a query
pg__as psql -h "$PGHOST" -p "$PGPORT" -U fl -d firelane -Atqc 'SELECT pg_sleep(120)' \
	>"$WORK/psql-sleep.log" 2>&1 &
track $!
for i in $(seq 300); do
	[ "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")" = 1 ] && break
	sleep 0.1
done
[ "$i" != 300 ] || fail "the sleeping query did not start"
pg_stop
left=$(leftovers)
[ -z "$left" ] || fail "left after pg_stop: $left"
echo "$NAME: ok"
