/*
 * test_mqtt.c - src/mqtt/client.c and spool.c against a real mosquitto.
 *
 * The test starts its own mosquitto (/usr/sbin/mosquitto, or $FL_MOSQUITTO)
 * on a free loopback port with its own config file, and kills it at exit.
 * A Paho subscriber in the same process receives what an fl_mqtt client
 * sends from its spool; the client is pumped by its own thread, as the
 * edge's control thread does, while the main thread appends (as camera
 * threads do). Checks:
 *   - every spooled message arrives, in spool order, and the spool is
 *     emptied by the acknowledgements;
 *   - messages appended while the broker is down are kept, and delivered
 *     in order once it is back (the client reconnects by itself);
 *   - the last will: the retained status reads "offline" after the client
 *     vanishes without a clean stop, "stopped" after fl_mqtt_stop().
 *
 *   test_mqtt --bench N   (scripts/bench.sh) sends N incident-sized
 *   messages, one every 2 ms, and prints one JSON object: publish-to-receive
 *   latency p50/p99/max in ms (from before the spool append to the
 *   subscriber's callback, same monotonic clock), and the spool's cost per
 *   message (append with its fsyncs, in microseconds, and bytes on disk).
 */
#include <MQTTAsync.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "fl.h"
#include "spool.h"
#include "test.h"

#define MAXN 20000

static char work[256];
static int port;
static pid_t broker = -1;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double s)
{
	struct timespec ts = { (time_t)s,
			       (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static int free_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		p = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static int broker_up(void)
{
	struct sockaddr_in a = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int broker_start(void)
{
	const char *bin = getenv("FL_MOSQUITTO") ? getenv("FL_MOSQUITTO")
						 : "/usr/sbin/mosquitto";
	char conf[300], log[300];
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", work);
	snprintf(log, sizeof(log), "%s/mosquitto.log", work);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	/* persistence: the subscriber's session and queue survive the
	 * broker's restart, as a hub's would. Anonymous on purpose: this is
	 * the client's delivery mechanics on loopback; accounts and the ACL
	 * (docs/security.md) are the integration tests' broker's */
	fprintf(f,
		"listener %d 127.0.0.1\nallow_anonymous true\n"
		"persistence true\npersistence_location %s/\n",
		port, work);
	fclose(f);
	broker = fork();
	if (broker == 0) {
		/* the broker dies with us, even when a sanitizer aborts us */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (!freopen(log, "a", stdout) || !freopen(log, "a", stderr))
			_exit(127);
		execl(bin, bin, "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		if (broker_up())
			return 0;
		nap(0.05);
	}
	fprintf(stderr, "mosquitto (%s) did not start; see %s\n", bin, log);
	return -1;
}

static void broker_stop(void)
{
	if (broker > 0) {
		kill(broker, SIGTERM);
		waitpid(broker, NULL, 0);
		broker = -1;
	}
}

/* ---- the subscriber (Paho, callbacks on Paho's thread) -------------- */

struct sub {
	MQTTAsync cli;
	atomic_int connected;
	pthread_mutex_t mu;
	long got[MAXN];    /* arrival order: message index */
	double when[MAXN]; /* arrival time of index i */
	int n;
	int dups;
	char status[32];
};

static struct sub S;

static int sub_arrived(void *ctx, char *topic, int tl, MQTTAsync_message *m)
{
	(void)ctx;
	(void)tl;
	pthread_mutex_lock(&S.mu);
	if (strstr(topic, "/status")) {
		snprintf(S.status, sizeof(S.status), "%.*s", m->payloadlen,
			 (char *)m->payload);
	} else {
		long idx = strtol((char *)m->payload + 1, NULL, 10);
		if (idx >= 0 && idx < MAXN) {
			int seen = 0;
			for (int i = 0; i < S.n; i++)
				seen |= S.got[i] == idx;
			if (seen) {
				S.dups++;
			} else if (S.n < MAXN) {
				S.got[S.n++] = idx;
				S.when[idx] = mono();
			}
		}
	}
	pthread_mutex_unlock(&S.mu);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void sub_connected(void *ctx, char *cause)
{
	MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;

	(void)ctx;
	(void)cause;
	MQTTAsync_subscribe(S.cli, "t/#", 1, &r);
	atomic_store(&S.connected, 1);
}

static void sub_lost(void *ctx, char *cause)
{
	(void)ctx;
	(void)cause;
	atomic_store(&S.connected, 0);
}

static int sub_start(void)
{
	MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
	char uri[64];

	pthread_mutex_init(&S.mu, NULL);
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", port);
	if (MQTTAsync_create(&S.cli, uri, "test-sub",
			     MQTTCLIENT_PERSISTENCE_NONE,
			     NULL) != MQTTASYNC_SUCCESS)
		return -1;
	MQTTAsync_setCallbacks(S.cli, NULL, sub_lost, sub_arrived, NULL);
	MQTTAsync_setConnected(S.cli, NULL, sub_connected);
	c.cleansession = 0; /* our queue survives the broker's restart */
	c.automaticReconnect = 1;
	c.minRetryInterval = 1;
	c.maxRetryInterval = 1;
	if (MQTTAsync_connect(S.cli, &c) != MQTTASYNC_SUCCESS)
		return -1;
	for (int i = 0; i < 100 && !atomic_load(&S.connected); i++)
		nap(0.05);
	nap(0.2); /* the subscription */
	return atomic_load(&S.connected) ? 0 : -1;
}

/* ---- the client under test, pumped by its own thread ---------------- */

static fl_mqtt *M;
static atomic_int pump_quit;

static void *pump(void *arg)
{
	(void)arg;
	while (!atomic_load(&pump_quit))
		fl_mqtt_run(M, 50);
	return NULL;
}

static fl_mqtt *client(fl_spool *sp, const char *id)
{
	fl_mqtt_opts o = { 0 };
	char err[256];
	fl_mqtt *m;

	o.host = "127.0.0.1";
	o.port = port;
	o.client_id = id;
	o.keepalive_s = 5;
	o.will_topic = "t/status";
	o.will_payload = "offline";
	m = fl_mqtt_create(&o, sp, err, sizeof(err));
	CHECK_MSG(m != NULL, "%s", err);
	if (m)
		fl_mqtt_start(m);
	return m;
}

static int wait_count(int n, double secs)
{
	double until = mono() + secs;
	int got = 0;

	while (mono() < until) {
		pthread_mutex_lock(&S.mu);
		got = S.n;
		pthread_mutex_unlock(&S.mu);
		if (got >= n)
			return got;
		nap(0.01);
	}
	return got;
}

static int append_msg(fl_spool *sp, long idx, double *cost_us)
{
	char payload[600], err[256];
	double t0;
	int rc;

	/* the size of a real incident message */
	snprintf(payload, sizeof(payload), "#%ld %0512d", idx, 0);
	t0 = mono();
	rc = fl_spool_append(sp, FL_SPOOL_INCIDENT, 1, 0, "t/incident", payload,
			     strlen(payload), NULL, err, sizeof(err));
	if (cost_us)
		*cost_us = (mono() - t0) * 1e6;
	CHECK_MSG(rc == 0, "%s", err);
	fl_mqtt_kick(M);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void run(long nbench)
{
	char dir[300], err[256];
	fl_spool *sp;
	pthread_t th;
	fl_spool_stats st;
	static double sent[MAXN], lat[MAXN], cost[MAXN];
	long n = nbench ? nbench : 50;
	int got;

	snprintf(dir, sizeof(dir), "%s/spool", work);
	sp = fl_spool_open(dir, 0, err, sizeof(err));
	CHECK_MSG(sp != NULL, "%s", err);
	if (!sp || sub_start() < 0) {
		CHECK(!"subscriber");
		fl_spool_close(sp);
		return;
	}
	M = client(sp, "test-pub");
	if (!M)
		return;
	pthread_create(&th, NULL, pump, NULL);
	for (int i = 0; i < 100 && !fl_mqtt_connected(M); i++)
		nap(0.05);
	CHECK(fl_mqtt_connected(M));

	/* 1. in order, all of them */
	for (long i = 0; i < n; i++) {
		sent[i] = mono();
		append_msg(sp, i, &cost[i]);
		if (nbench)
			nap(0.002);
	}
	got = wait_count((int)n, 20);
	CHECK_MSG(got == n, "%d of %ld arrived", got, n);
	for (int i = 0; i < got; i++)
		CHECK_MSG(S.got[i] == i, "arrival %d is message %ld", i,
			  S.got[i]);
	for (int i = 0; i < 100; i++) {
		fl_spool_stats_get(sp, &st);
		if (st.messages == 0)
			break;
		nap(0.02);
	}
	CHECK_MSG(st.messages == 0, "%ld left in the spool", st.messages);

	if (nbench) {
		double c_sum = 0;
		for (long i = 0; i < n; i++) {
			lat[i] = (S.when[i] - sent[i]) * 1e3;
			c_sum += cost[i];
		}
		qsort(lat, (size_t)n, sizeof(lat[0]), cmp_double);
		qsort(cost, (size_t)n, sizeof(cost[0]), cmp_double);
		printf("{\"messages\": %ld, \"latency_ms_p50\": %.3f, "
		       "\"latency_ms_p99\": %.3f, \"latency_ms_max\": %.3f, "
		       "\"spool_us_per_msg_mean\": %.1f, "
		       "\"spool_us_per_msg_p50\": %.1f, "
		       "\"spool_bytes_per_msg\": %d, \"payload_bytes\": %d}\n",
		       n, lat[n / 2], lat[(n * 99) / 100], lat[n - 1],
		       c_sum / (double)n, cost[n / 2],
		       20 + (int)strlen("t/incident") + 519, 519);
		goto stop;
	}

	/* 2. the broker goes away: appends are kept, then delivered */
	broker_stop();
	for (int i = 0; i < 100 && fl_mqtt_connected(M); i++)
		nap(0.05);
	for (long i = n; i < n + 20; i++)
		append_msg(sp, i, NULL);
	fl_spool_stats_get(sp, &st);
	CHECK_MSG(st.messages == 20, "%ld spooled while down", st.messages);
	nap(1.0);
	if (broker_start() < 0) {
		CHECK(!"broker restart");
		goto stop;
	}
	got = wait_count((int)n + 20, 30);
	CHECK_MSG(got == n + 20, "%d of %ld after the outage", got, n + 20);
	for (int i = 0; i < got; i++)
		CHECK_MSG(S.got[i] == i, "arrival %d is message %ld", i,
			  S.got[i]);

	/* 3. the will of the vanished child (see main) is retained */
	CHECK_MSG(!strcmp(S.status, "offline"),
		  "status '%s' after a client "
		  "was killed",
		  S.status);
stop:
	atomic_store(&pump_quit, 1);
	pthread_join(th, NULL);
	if (!nbench) {
		CHECK(fl_mqtt_stop(M, "t/status", "stopped", 3000) == 0);
		for (int i = 0; i < 100 && strcmp(S.status, "stopped"); i++)
			nap(0.05);
		CHECK_MSG(!strcmp(S.status, "stopped"), "status '%s'",
			  S.status);
	}
	fl_mqtt_destroy(M);
	MQTTAsync_disconnect(S.cli, NULL);
	MQTTAsync_destroy(&S.cli);
	fl_spool_close(sp);
}

int main(int argc, char **argv)
{
	long nbench = 0;
	char cmd[700];

	if (argc > 2 && !strcmp(argv[1], "--bench"))
		nbench = FL_MIN(atol(argv[2]), MAXN);
	snprintf(work, sizeof(work), "%s/fl-test-mqtt-%d",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	/* 0777: mosquitto started as root drops to its own user and must
	 * still write its database here */
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && chmod 0777 '%s'", work,
		 work);
	if (system(cmd) != 0)
		return 1;
	port = free_port();
	if (port > 0 && broker_start() == 0) {
		/* The will: a child process (forked before any Paho thread
		 * exists) connects and is killed with SIGKILL - no DISCONNECT,
		 * so the broker publishes its retained "offline". */
		if (!nbench) {
			pid_t child = fork();
			if (child == 0) {
				char err[256];
				fl_mqtt_opts o = { 0 };
				o.host = "127.0.0.1";
				o.port = port;
				o.client_id = "test-will";
				o.will_topic = "t/status";
				o.will_payload = "offline";
				M = fl_mqtt_create(&o, NULL, err, sizeof(err));
				if (M && fl_mqtt_start(M) == 0)
					for (int i = 0;
					     i < 200 && !fl_mqtt_connected(M);
					     i++)
						fl_mqtt_run(M, 20);
				raise(SIGKILL);
				_exit(1);
			}
			waitpid(child, NULL, 0);
		}
		run(nbench);
	} else
		CHECK(!"mosquitto started");
	broker_stop();
	if (test_failures) {
		snprintf(cmd, sizeof(cmd), "tail -n 20 '%s/mosquitto.log' >&2",
			 work);
		if (system(cmd) != 0)
			fprintf(stderr, "(no broker log)\n");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", work);
	if (nbench)
		return test_failures ? 1 : 0;
	TEST_DONE();
}
