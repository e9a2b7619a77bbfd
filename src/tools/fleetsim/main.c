/*
 * main.c - firelane-fleetsim: N simulated devices in one process, the load
 * the hub is measured under (docs/fleetsim.md; make bench, member fleet).
 *
 *   firelane-fleetsim --enrol FILE [fleet options]
 *   firelane-fleetsim --host H --port P [fleet options] [rates] [--duration S]
 *
 * A note on what it is. Each device has its own Ed25519 key (derived from
 * --key-seed and its id, so --enrol and the run agree without key files),
 * its own client id and broker account (user = device id, password
 * --password-prefix + id, the test brokers' convention), and says what an
 * edge says, in the edge's own formats (src/core/topic.c) signed with the
 * edge's own signer (fl_msg_sign): on every connection a signed, retained
 * `status online EPOCH` with the signed `offline EPOCH` as its last will,
 * every lane's retained `state`; heartbeats every --heartbeat-s; incidents
 * at --incidents-per-hour per device, each its `occupied`, `alarm` and
 * `cleared` messages (seq 1-3, sent together; the alarm's unix_time is the
 * moment it is queued, so the hub's `received` minus it is the alarm's
 * way to the store), the lane's state following. Evidence bundles are not
 * sent (so no receipts come; a receipt that does come is acknowledged and
 * counted). It is not the edge: no spool on disk (the queue is memory, so
 * what the hub must get survives a dropped connection but not this
 * process), no cameras, no commands.
 *
 * Delivery: QoS 1, at most 8 unacknowledged per device, in order; when a
 * connection drops, what was in flight is sent again, first, with DUP set
 * (the same bytes: the hub stores an (incident_id, seq) once). Status and
 * lane states describe the present: a dropped connection forgets them and
 * the next one sends them again.
 *
 * Faults. SIGUSR1 drops a share --kill-share of the devices (default all)
 * without DISCONNECT (the broker publishes their wills) and reconnects
 * them at random moments within --burst seconds (default 5): a broker
 * restart or a district's network coming back. SIGTERM/SIGINT (or the end
 * of --duration) ends the run: no new incidents, up to --drain-s for every
 * queue to be acknowledged, then each device publishes `stopped` and
 * disconnects cleanly (a second signal cuts that short). The summary, one JSON object, goes to stdout; a line
 * "firelane-fleetsim: settled" goes to stderr each time every device is
 * connected with an empty queue after a start or a drop.
 *
 * One thread, one epoll loop, non-blocking sockets (mqttw.c says why not a
 * client library); timers are checked by a scan of the devices every
 * 20 ms. RLIMIT_NOFILE is raised to its hard limit.
 *
 * Exit: 0 when every message was acknowledged, 1 when some were not (the
 * summary says how many), 2 for bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "envelope.h"
#include "fl.h"
#include "id.h"
#include "msgsign.h"
#include "mqttw.h"
#include "topic.h"

#define FS_INFLIGHT 8 /* unacknowledged messages per device, as the edge */
#define FS_KEEPALIVE 60
#define FS_IBUF 65536 /* the largest packet a device takes in */

/* What a message is, for the counts. */
enum { K_STATUS, K_HEARTBEAT, K_STATE, K_INCIDENT, K_STOPPED, K_N };
static const char *const kind_name[K_N] = { "status", "heartbeat", "state",
					    "incident", "stopped" };

/* One queued PUBLISH, encoded; pid at a known offset. */
typedef struct msg {
	struct msg *next;
	int kind, direct; /* direct: forgotten when the connection drops */
	int sent;         /* written on this connection, awaiting PUBACK */
	int ever_sent;
	uint16_t pid;
	size_t len;
	unsigned char *pkt;
} msg;

enum { D_DOWN, D_TCP, D_CONNACK, D_UP, D_STOPPING, D_DONE };

typedef struct dev {
	int fd, state, lanes_busy;
	char id[32];
	fl_key key;
	unsigned long long epoch;
	double next_connect, next_hb, next_incident, backoff, last_out;
	msg *head, *tail;
	int inflight;
	uint16_t pid;
	long incidents;
	unsigned char *ob; /* bytes to write */
	size_t on, ocap;
	unsigned char *ib; /* bytes read, not yet a whole packet */
	size_t in;
} dev;

typedef struct fleet {
	const char *host, *site, *prefix, *pw_prefix, *seed, *tag;
	int port, n, lanes;
	double hb_s, inc_per_h, burst_s, kill_share, duration, drain_s;
	double connect_rate;
	long max_incidents;
	dev *d;
	int ep;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	double t0;
	long sent[K_N], acked[K_N], resent, receipts, connects, refused, errors,
		drops;
	long incidents;
	int want_settle;
	double settle_from, settled_s[16];
	int nsettled;
} fleet;

static volatile sig_atomic_t stop_requested, drop_requested;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		drop_requested = 1;
	else
		stop_requested++; /* a second one cuts the drain short */
}

static double jitter(double s)
{
	return s * (0.8 + 0.4 * ((double)rand() / RAND_MAX));
}

/* ---- keys ------------------------------------------------------------------ */

/* Device i's id and key: the seed is SHA-256 of "firelane-fleetsim/1",
 * the fleet's seed and the id, so a run and its --enrol agree. */
static void dev_identity(const fleet *f, int i, dev *d)
{
	unsigned char seed[crypto_hash_sha256_BYTES];
	char text[256];

	snprintf(d->id, sizeof(d->id), "%s-%05d", f->prefix, i);
	snprintf(text, sizeof(text), "firelane-fleetsim/1\n%s\n%s", f->seed,
		 d->id);
	crypto_hash_sha256(seed, (const unsigned char *)text, strlen(text));
	crypto_sign_seed_keypair(d->key.pk, d->key.sk, seed);
}

/* --enrol FILE: one line per device, "ID SITE PUBLIC-KEY" (base64, what
 * firelane-hub --enrol-device --public-key takes). */
static int enrol(fleet *f, const char *path)
{
	FILE *o = strcmp(path, "-") ? fopen(path, "w") : stdout;
	char b64[FL_KEY_B64_LEN];
	dev d;

	if (!o) {
		fprintf(stderr, "firelane-fleetsim: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	for (int i = 0; i < f->n; i++) {
		memset(&d, 0, sizeof(d));
		dev_identity(f, i, &d);
		fl_key_public_b64(&d.key, b64, sizeof(b64));
		fprintf(o, "%s %s %s\n", d.id, f->site, b64);
	}
	if (o != stdout ? fclose(o) : fflush(o)) {
		fprintf(stderr, "firelane-fleetsim: %s: write failed\n", path);
		return 1;
	}
	return 0;
}

/* ---- the queue and the socket ---------------------------------------------- */

static void out_append(dev *d, const unsigned char *p, size_t n)
{
	if (d->on + n > d->ocap) {
		size_t cap = (d->on + n) * 2;
		unsigned char *np = realloc(d->ob, cap);

		if (!np)
			abort(); /* a simulator out of memory has no figures */
		d->ob = np;
		d->ocap = cap;
	}
	memcpy(d->ob + d->on, p, n);
	d->on += n;
}

static void want_write(fleet *f, dev *d, int on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
				  .data.ptr = d };

	epoll_ctl(f->ep, EPOLL_CTL_MOD, d->fd, &ev);
}

/* Write what is buffered; -1 when the connection failed. */
static int flush_out(fleet *f, dev *d)
{
	size_t off = 0;

	while (off < d->on) {
		ssize_t w = send(d->fd, d->ob + off, d->on - off, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	memmove(d->ob, d->ob + off, d->on - off);
	d->on -= off;
	if (off)
		d->last_out = fl_mono_s();
	want_write(f, d, d->on > 0);
	return 0;
}

/* Queue a signed (sign) or plain message for topic; direct messages go
 * first (they describe the present and come before the backlog). */
static void enqueue(dev *d, int kind, int direct, int retain, int sign,
		    const char *topic, const char *body)
{
	size_t bl = strlen(body), n, cap;
	unsigned char *sbuf = NULL;
	const void *payload = body;
	msg *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	if (sign) {
		sbuf = malloc(FL_ENVELOPE_HEADER + bl);
		if (!sbuf ||
		    fl_msg_sign(&d->key, FL_DOMAIN_DEVICE, topic, body, bl,
				sbuf, FL_ENVELOPE_HEADER + bl, &n) != 0)
			abort(); /* our own topics and bodies: cannot fail */
		payload = sbuf;
		bl = n;
	}
	cap = strlen(topic) + bl + 16;
	m->pkt = malloc(cap);
	if (!m->pkt)
		abort();
	if (++d->pid == 0)
		d->pid = 1;
	m->pid = d->pid;
	m->kind = kind;
	m->direct = direct;
	m->len = mqttw_publish(m->pkt, cap, topic, payload, bl, m->pid, retain);
	free(sbuf);
	if (direct) {
		/* after the directs already at the front, before the rest */
		msg **pp = &d->head;

		while (*pp && (*pp)->direct)
			pp = &(*pp)->next;
		m->next = *pp;
		*pp = m;
		if (!m->next)
			d->tail = m;
	} else {
		if (d->tail)
			d->tail->next = m;
		else
			d->head = m;
		d->tail = m;
	}
}

/* Write queued messages up to the in-flight limit. */
static void pump(fleet *f, dev *d)
{
	for (msg *m = d->head; m && d->inflight < FS_INFLIGHT; m = m->next) {
		if (m->sent)
			continue;
		if (m->ever_sent) {
			m->pkt[0] |= 0x08; /* DUP */
			f->resent++;
		} else {
			f->sent[m->kind]++;
		}
		m->sent = m->ever_sent = 1;
		d->inflight++;
		out_append(d, m->pkt, m->len);
	}
}

static void msg_free(msg *m)
{
	free(m->pkt);
	free(m);
}

static void on_puback(fleet *f, dev *d, uint16_t pid)
{
	msg **pp = &d->head, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		msg *m = *pp;

		if (!m->sent || m->pid != pid)
			continue;
		*pp = m->next;
		if (d->tail == m)
			d->tail = prev;
		f->acked[m->kind]++;
		d->inflight--;
		msg_free(m);
		return;
	}
}

/* ---- connections ------------------------------------------------------------ */

static void topic_of(const fleet *f, const dev *d, enum fl_topic_kind k,
		     int lane, char *buf, size_t len)
{
	char ln[24];

	snprintf(ln, sizeof(ln), "lane-%d", lane);
	fl_topic(buf, len, k, f->site, d->id, "cam-1", ln);
}

/* Close d's connection: clean (DISCONNECT already written) or dropped.
 * In-flight messages are sent again on the next connection; direct ones
 * are forgotten. */
static void dev_close(fleet *f, dev *d, double reconnect_in)
{
	msg **pp = &d->head, *prev = NULL;

	if (d->fd >= 0) {
		epoll_ctl(f->ep, EPOLL_CTL_DEL, d->fd, NULL);
		close(d->fd);
	}
	d->fd = -1;
	d->on = d->in = 0;
	d->inflight = 0;
	while (*pp) {
		msg *m = *pp;

		m->sent = 0;
		if (m->direct) {
			*pp = m->next;
			msg_free(m);
			continue;
		}
		prev = m;
		pp = &m->next;
	}
	d->tail = prev;
	if (d->state != D_STOPPING && d->state != D_DONE) {
		d->state = D_DOWN;
		d->next_connect = fl_mono_s() + reconnect_in;
	} else {
		d->state = D_DONE;
	}
}

/* A failed connection: the edge's back-off, 0.5 s doubling to 5 s. */
static void dev_fail(fleet *f, dev *d)
{
	f->errors++;
	d->backoff = d->backoff ? fmin(d->backoff * 2, 5.0) : 0.5;
	dev_close(f, d, jitter(d->backoff));
}

static void dev_connect(fleet *f, dev *d)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = d };
	int one = 1;

	d->fd = socket(f->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (d->fd < 0) {
		fprintf(stderr, "firelane-fleetsim: socket: %s\n",
			strerror(errno));
		dev_fail(f, d);
		return;
	}
	setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(d->fd, (struct sockaddr *)&f->addr, f->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		dev_fail(f, d);
		return;
	}
	epoll_ctl(f->ep, EPOLL_CTL_ADD, d->fd, &ev);
	d->state = D_TCP;
	d->last_out = fl_mono_s();
}

/* TCP is up: CONNECT with the signed will of this connection's epoch. */
static void dev_send_connect(fleet *f, dev *d)
{
	char topic[FL_TOPIC_MAX], body[64], pw[128];
	unsigned char will[FL_ENVELOPE_HEADER + 64], pkt[1024];
	unsigned long long now = (unsigned long long)(fl_wall_s() * 1000);
	size_t bl, wl, n;

	d->epoch = now > d->epoch ? now : d->epoch + 1;
	topic_of(f, d, FL_TOPIC_STATUS, 0, topic, sizeof(topic));
	bl = fl_status_payload("offline", d->epoch, body, sizeof(body));
	fl_msg_sign(&d->key, FL_DOMAIN_DEVICE, topic, body, bl, will,
		    sizeof(will), &wl);
	snprintf(pw, sizeof(pw), "%s%s", f->pw_prefix, d->id);
	n = mqttw_connect(pkt, sizeof(pkt), d->id, d->id, pw, FS_KEEPALIVE,
			  topic, will, wl);
	out_append(d, pkt, n);
	d->state = D_CONNACK;
}

static void lane_state(fleet *f, dev *d, int lane, const char *word)
{
	char topic[FL_TOPIC_MAX];

	topic_of(f, d, FL_TOPIC_LANE_STATE, lane, topic, sizeof(topic));
	enqueue(d, K_STATE, 1, 1, 0, topic, word);
}

/* CONNACK accepted: subscribe to receipts, say online and the lanes. */
static void dev_online(fleet *f, dev *d)
{
	char topic[FL_TOPIC_MAX + 16], body[64];
	unsigned char pkt[FL_TOPIC_MAX + 16];
	size_t n;

	d->state = D_UP;
	d->backoff = 0;
	f->connects++;
	n = fl_topic(topic, sizeof(topic), FL_TOPIC_STATUS, f->site, d->id,
		     NULL, NULL);
	memcpy(topic + n - strlen("status"), "receipt", sizeof("receipt"));
	n = mqttw_subscribe(pkt, sizeof(pkt), topic, 65535);
	out_append(d, pkt, n);
	topic_of(f, d, FL_TOPIC_STATUS, 0, topic, sizeof(topic));
	fl_status_payload("online", d->epoch, body, sizeof(body));
	enqueue(d, K_STATUS, 1, 1, 1, topic, body);
	for (int l = 0; l < f->lanes; l++)
		lane_state(f, d, l, "clear");
	pump(f, d);
}

/* ---- what a device says ------------------------------------------------------- */

static void heartbeat(fleet *f, dev *d, double now)
{
	char topic[FL_TOPIC_MAX], body[1024];
	fl_camera_health cam = {
		.id = "cam-1", .fps = 25.0, .load = 0.05, .online = 1
	};
	long queued = 0;
	fl_health h = { 0 };

	for (msg *m = d->head; m; m = m->next)
		queued++;
	h.wall_time = fl_wall_s();
	h.epoch = d->epoch;
	h.uptime_s = now - f->t0;
	h.cameras = &cam;
	h.ncameras = 1;
	h.spool_messages = queued;
	h.disk_free_mb = -1;
	h.clock_synced = 1;
	fl_heartbeat_json(&h, body, sizeof(body));
	topic_of(f, d, FL_TOPIC_HEARTBEAT, 0, topic, sizeof(topic));
	enqueue(d, K_HEARTBEAT, 0, 0, 1, topic, body);
}

/* One incident on the device's next lane: occupied, alarm, cleared. */
static void incident(fleet *f, dev *d)
{
	static const char *const steps[] = { "occupied", "alarm", "cleared" };
	static const char *const states[] = { "occupied", "blocked", "clear" };
	static const double bbox[4] = { 200, 140, 40, 38 };
	char topic[FL_TOPIC_MAX], id[96], body[2048];
	int lane = (int)(d->incidents % f->lanes);
	double t = fl_wall_s();
	char ln[24];

	snprintf(ln, sizeof(ln), "lane-%d", lane);
	snprintf(id, sizeof(id), "%s-%s-%ld", d->id, f->tag, d->incidents);
	topic_of(f, d, FL_TOPIC_INCIDENT, lane, topic, sizeof(topic));
	for (unsigned i = 0; i < 3; i++) {
		fl_incident_msg m = { 0 };

		m.incident_id = id;
		m.type = steps[i];
		m.seq = i + 1;
		m.site = f->site;
		m.device = d->id;
		m.camera = "cam-1";
		m.lane = ln;
		m.wall_time = t;
		m.video_time_s = -1;
		m.rest_since_s = -1;
		m.left_at_s = i == 2 ? 0 : -1;
		m.bbox = bbox;
		m.cls = "vehicle";
		fl_incident_json(&m, body, sizeof(body));
		enqueue(d, K_INCIDENT, 0, 0, 1, topic, body);
		if (d->state == D_UP)
			lane_state(f, d, lane, states[i]);
	}
	d->incidents++;
	f->incidents++;
}

/* ---- reading -------------------------------------------------------------------- */

static void on_packet(fleet *f, dev *d, int type, int flags,
		      const unsigned char *b, size_t n)
{
	unsigned char ack[4];

	switch (type) {
	case MQTTW_CONNACK:
		if (n < 2 || b[1] != 0) {
			if (f->refused++ < 5)
				fprintf(stderr,
					"firelane-fleetsim: %s: refused by "
					"the broker (code %d)\n",
					d->id, n < 2 ? -1 : b[1]);
			dev_fail(f, d);
			return;
		}
		dev_online(f, d);
		break;
	case MQTTW_PUBACK:
		if (n >= 2)
			on_puback(f, d, (uint16_t)(b[0] << 8 | b[1]));
		pump(f, d);
		break;
	case MQTTW_PUBLISH: /* a receipt */
		f->receipts++;
		if (((flags >> 1) & 3) && n >= 2) {
			size_t tl = (size_t)(b[0] << 8 | b[1]);

			if (n >= tl + 4) {
				uint16_t pid = (uint16_t)(b[2 + tl] << 8 |
							  b[3 + tl]);
				out_append(d, ack, mqttw_puback(ack, pid));
			}
		}
		break;
	default: /* SUBACK, PINGRESP */
		break;
	}
}

static void on_readable(fleet *f, dev *d)
{
	for (;;) {
		ssize_t r = recv(d->fd, d->ib + d->in, FS_IBUF - d->in, 0);
		const unsigned char *body;
		size_t blen, total, off = 0;
		int type, flags, k;

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			if (d->state == D_STOPPING)
				dev_close(f, d, 0);
			else
				dev_fail(f, d);
			return;
		}
		if (r < 0)
			return;
		d->in += (size_t)r;
		while ((k = mqttw_next(d->ib + off, d->in - off, &type, &flags,
				       &body, &blen, &total)) == 1) {
			on_packet(f, d, type, flags, body, blen);
			if (d->fd < 0)
				return;
			off += total;
		}
		if (k < 0 || (off == 0 && d->in == FS_IBUF)) {
			fprintf(stderr,
				"firelane-fleetsim: %s: a malformed or too "
				"large packet from the broker\n",
				d->id);
			dev_fail(f, d);
			return;
		}
		memmove(d->ib, d->ib + off, d->in - off);
		d->in -= off;
	}
}

static void on_event(fleet *f, dev *d, unsigned events)
{
	if (d->state == D_TCP && (events & (EPOLLOUT | EPOLLERR))) {
		int err = 0;
		socklen_t l = sizeof(err);

		getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			dev_fail(f, d);
			return;
		}
		dev_send_connect(f, d);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		on_readable(f, d);
		if (d->fd < 0)
			return;
	}
	if (flush_out(f, d) < 0)
		dev_fail(f, d);
}

/* ---- the loop -------------------------------------------------------------------- */

static long pending(const fleet *f)
{
	long n = 0;

	for (int i = 0; i < f->n; i++)
		for (msg *m = f->d[i].head; m; m = m->next)
			n++;
	return n;
}

static int all_settled(const fleet *f)
{
	for (int i = 0; i < f->n; i++)
		if (f->d[i].state != D_UP || f->d[i].head)
			return 0;
	return 1;
}

/* SIGUSR1: a share of the devices vanish without DISCONNECT and come back
 * within burst_s. */
static void drop_share(fleet *f)
{
	double now = fl_mono_s();

	for (int i = 0; i < f->n; i++) {
		dev *d = &f->d[i];

		if (rand() / ((double)RAND_MAX + 1) >= f->kill_share)
			continue;
		if (d->fd >= 0) {
			struct linger lg = { 1, 0 }; /* RST: no goodbye */

			setsockopt(d->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		}
		dev_close(f, d, 0);
		d->next_connect = now + f->burst_s * rand() / RAND_MAX;
		f->drops++;
	}
	f->want_settle = 1;
	f->settle_from = now;
	fprintf(stderr, "firelane-fleetsim: dropped %ld devices so far\n",
		f->drops);
}

/* Timers of every device: connects (paced), heartbeats, incidents, pings. */
static void tick(fleet *f, double now, int generate, double *budget)
{
	unsigned char ping[2] = { MQTTW_PINGREQ << 4, 0 };

	for (int i = 0; i < f->n; i++) {
		dev *d = &f->d[i];

		if (d->state == D_DOWN && now >= d->next_connect &&
		    *budget >= 1) {
			*budget -= 1;
			dev_connect(f, d);
			continue;
		}
		/* a broker that never answers the connection */
		if ((d->state == D_TCP || d->state == D_CONNACK) &&
		    now - d->last_out > FS_KEEPALIVE) {
			dev_fail(f, d);
			continue;
		}
		if (!generate || d->state == D_STOPPING || d->state == D_DONE)
			goto ping;
		if (now >= d->next_hb) {
			/* a heartbeat names its connection's epoch: none before
			 * the first (the hub refuses a signed one without) */
			if (d->epoch)
				heartbeat(f, d, now);
			d->next_hb += f->hb_s;
		}
		if (f->inc_per_h > 0 && now >= d->next_incident &&
		    (!f->max_incidents || d->incidents < f->max_incidents)) {
			incident(f, d);
			d->next_incident += jitter(3600.0 / f->inc_per_h);
		}
	ping:
		if (d->state >= D_UP && d->state <= D_STOPPING) {
			if (now - d->last_out > FS_KEEPALIVE / 2)
				out_append(d, ping, 2);
			pump(f, d);
			if (d->on && flush_out(f, d) < 0)
				dev_fail(f, d);
		}
	}
}

static void loop_once(fleet *f, int generate, double *budget, double *last)
{
	struct epoll_event evs[256];
	double now;
	int n = epoll_wait(f->ep, evs, 256, 20);

	for (int i = 0; i < n; i++)
		on_event(f, evs[i].data.ptr, evs[i].events);
	now = fl_mono_s();
	*budget = fmin(*budget + (now - *last) * f->connect_rate,
		       fmax(f->connect_rate / 10, 1));
	*last = now;
	tick(f, now, generate, budget);
	if (f->want_settle && all_settled(f)) {
		f->want_settle = 0;
		if (f->nsettled < 16)
			f->settled_s[f->nsettled++] = now - f->settle_from;
		fprintf(stderr, "firelane-fleetsim: settled after %.2f s\n",
			now - f->settle_from);
	}
}

/* The end: queues drained (up to drain_s), then `stopped` and DISCONNECT. */
static void finish(fleet *f, double *budget, double *last)
{
	double until = fl_mono_s() + f->drain_s;
	char topic[FL_TOPIC_MAX], body[64];
	unsigned char disc[2] = { MQTTW_DISCONNECT << 4, 0 };

	while (fl_mono_s() < until && pending(f) > 0 && stop_requested < 2)
		loop_once(f, 0, budget, last);
	for (int i = 0; i < f->n; i++) {
		dev *d = &f->d[i];

		if (d->state != D_UP) {
			d->state = D_DONE;
			continue;
		}
		topic_of(f, d, FL_TOPIC_STATUS, 0, topic, sizeof(topic));
		fl_status_payload("stopped", d->epoch, body, sizeof(body));
		enqueue(d, K_STOPPED, 0, 1, 1, topic, body);
		d->state = D_STOPPING;
	}
	until = fl_mono_s() + 10;
	while (fl_mono_s() < until && stop_requested < 2) {
		int busy = 0;

		loop_once(f, 0, budget, last);
		for (int i = 0; i < f->n; i++) {
			dev *d = &f->d[i];

			if (d->state != D_STOPPING)
				continue;
			if (d->head) {
				busy = 1;
				continue;
			}
			out_append(d, disc, 2);
			flush_out(f, d);
			shutdown(d->fd, SHUT_WR);
			dev_close(f, d, 0);
		}
		if (!busy)
			break;
	}
}

static void summary(const fleet *f, double elapsed, long left)
{
	printf("{\"devices\": %d, \"elapsed_s\": %.2f, \"connects\": %ld, "
	       "\"refused\": %ld, \"errors\": %ld, \"drops\": %ld, "
	       "\"incidents\": %ld, ",
	       f->n, elapsed, f->connects, f->refused, f->errors, f->drops,
	       f->incidents);
	for (int pass = 0; pass < 2; pass++) {
		const long *v = pass ? f->acked : f->sent;
		long total = 0;

		printf("\"%s\": {", pass ? "acked" : "sent");
		for (int k = 0; k < K_N; k++) {
			printf("\"%s\": %ld, ", kind_name[k], v[k]);
			total += v[k];
		}
		printf("\"total\": %ld}, ", total);
	}
	printf("\"resent\": %ld, \"receipts\": %ld, \"unacked\": %ld, "
	       "\"settled_s\": [",
	       f->resent, f->receipts, left);
	for (int i = 0; i < f->nsettled; i++)
		printf("%s%.2f", i ? ", " : "", f->settled_s[i]);
	printf("]}\n");
	fflush(stdout);
}

static int resolve(fleet *f)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char port[16];
	int rc;

	snprintf(port, sizeof(port), "%d", f->port);
	rc = getaddrinfo(f->host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "firelane-fleetsim: %s: %s\n", f->host,
			gai_strerror(rc));
		return -1;
	}
	memcpy(&f->addr, ai->ai_addr, ai->ai_addrlen);
	f->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Raise the open-file limit to its hard limit: one socket per device. */
static void raise_nofile(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)n + 16 > rl.rlim_cur)
			fprintf(stderr,
				"firelane-fleetsim: only %ld open files "
				"allowed for %d devices\n",
				(long)rl.rlim_cur, n);
	}
}

static void usage(FILE *o)
{
	fprintf(o, "usage: firelane-fleetsim [--enrol FILE] [--host H] "
		   "[--port P] [--devices N]\n"
		   "         [--site S] [--prefix P] [--password-prefix PW] "
		   "[--key-seed K] [--lanes L]\n"
		   "         [--heartbeat-s H] [--incidents-per-hour R] "
		   "[--incidents N] [--tag T]\n"
		   "         [--connect-rate C] [--burst S] [--kill-share F] "
		   "[--duration S] [--drain-s S]\n");
}

static int num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || end == s || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "enrol", required_argument, NULL, 'E' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "devices", required_argument, NULL, 'n' },
		{ "site", required_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "password-prefix", required_argument, NULL, 'w' },
		{ "key-seed", required_argument, NULL, 'k' },
		{ "lanes", required_argument, NULL, 'l' },
		{ "heartbeat-s", required_argument, NULL, 'b' },
		{ "incidents-per-hour", required_argument, NULL, 'r' },
		{ "incidents", required_argument, NULL, 'i' },
		{ "tag", required_argument, NULL, 't' },
		{ "connect-rate", required_argument, NULL, 'c' },
		{ "burst", required_argument, NULL, 'B' },
		{ "kill-share", required_argument, NULL, 'K' },
		{ "duration", required_argument, NULL, 'd' },
		{ "drain-s", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	fleet f = { .host = "127.0.0.1",
		    .port = 1883,
		    .n = 100,
		    .site = "fleet-site",
		    .prefix = "sim",
		    .pw_prefix = "pw-",
		    .seed = "fleetsim",
		    .lanes = 2,
		    .hb_s = 60,
		    .inc_per_h = 1,
		    .connect_rate = 1000,
		    .burst_s = 5,
		    .kill_share = 1,
		    .drain_s = 60 };
	const char *enrol_to = NULL;
	char tag[32];
	double v, budget = 0, last, elapsed;
	struct sigaction sa;
	long left;
	int c, li = -1;

	snprintf(tag, sizeof(tag), "%lx", (unsigned long)fl_wall_s());
	f.tag = tag;
	while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
		int bad = 0;

		switch (c) {
		case 'E':
			enrol_to = optarg;
			break;
		case 'H':
			f.host = optarg;
			break;
		case 'p':
			bad = num(optarg, 1, 65535, &v);
			f.port = (int)v;
			break;
		case 'n':
			bad = num(optarg, 1, 99999, &v);
			f.n = (int)v;
			break;
		case 's':
			f.site = optarg;
			break;
		case 'P':
			f.prefix = optarg;
			bad = !fl_id_valid(optarg, 25);
			break;
		case 'w':
			f.pw_prefix = optarg;
			break;
		case 'k':
			f.seed = optarg;
			break;
		case 'l':
			bad = num(optarg, 1, 64, &v);
			f.lanes = (int)v;
			break;
		case 'b':
			bad = num(optarg, 0.1, 86400, &f.hb_s);
			break;
		case 'r':
			bad = num(optarg, 0, 3600000, &f.inc_per_h);
			break;
		case 'i':
			bad = num(optarg, 0, 1e9, &v);
			f.max_incidents = (long)v;
			break;
		case 't':
			f.tag = optarg;
			bad = !fl_id_valid(optarg, 25);
			break;
		case 'c':
			bad = num(optarg, 1, 1e6, &f.connect_rate);
			break;
		case 'B':
			bad = num(optarg, 0, 3600, &f.burst_s);
			break;
		case 'K':
			bad = num(optarg, 0, 1, &f.kill_share);
			break;
		case 'd':
			bad = num(optarg, 0, 1e7, &f.duration);
			break;
		case 'D':
			bad = num(optarg, 0, 1e5, &f.drain_s);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			bad = 1;
		}
		if (bad) {
			if (c != '?' && li >= 0)
				fprintf(stderr,
					"firelane-fleetsim: --%s %s: invalid\n",
					opts[li].name, optarg);
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (enrol_to)
		return enrol(&f, enrol_to);
	if (resolve(&f) < 0)
		return 2;
	raise_nofile(f.n);
	srand((unsigned)getpid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	f.ep = epoll_create1(0);
	f.d = calloc((size_t)f.n, sizeof(dev));
	if (f.ep < 0 || !f.d)
		return 1;
	f.t0 = last = fl_mono_s();
	for (int i = 0; i < f.n; i++) {
		dev *d = &f.d[i];

		dev_identity(&f, i, d);
		d->fd = -1;
		d->ib = malloc(FS_IBUF);
		if (!d->ib)
			return 1;
		/* phases spread over one period, so the fleet does not beat */
		d->next_hb = f.t0 + f.hb_s * rand() / RAND_MAX;
		d->next_incident =
			f.t0 + (f.inc_per_h > 0 ? 3600.0 / f.inc_per_h : 0) *
				       rand() / RAND_MAX;
	}
	f.want_settle = 1;
	f.settle_from = f.t0;
	while (!stop_requested &&
	       (f.duration <= 0 || fl_mono_s() < f.t0 + f.duration)) {
		if (drop_requested) {
			drop_requested = 0;
			drop_share(&f);
		}
		loop_once(&f, 1, &budget, &last);
	}
	finish(&f, &budget, &last);
	elapsed = fl_mono_s() - f.t0;
	left = pending(&f);
	summary(&f, elapsed, left);
	for (int i = 0; i < f.n; i++) {
		dev *d = &f.d[i];

		while (d->head) {
			msg *m = d->head;

			d->head = m->next;
			msg_free(m);
		}
		if (d->fd >= 0)
			close(d->fd);
		free(d->ob);
		free(d->ib);
		sodium_memzero(&d->key, sizeof(d->key));
	}
	free(f.d);
	close(f.ep);
	return left ? 1 : 0;
}
