/*
 * http.c - libmicrohttpd under the hub's web answers (api.c).
 *
 * A note on the server. libmicrohttpd runs its own listening thread pool
 * (MHD_USE_INTERNAL_POLLING_THREAD with http.threads threads, epoll where
 * the platform has it): a request is read, answered and written by one of
 * those threads, so a slow report never blocks ingest (the MQTT thread and
 * the HTTP threads use different store handles) and the HTTP threads share
 * one handle whose own mutex serialises them. A request body is kept up to
 * 64 KiB (more answers 413; a Content-Length above that is refused before
 * the body is read).
 *
 * A note on slow clients (docs/hub.md, "Slow clients"). libmicrohttpd's own
 * timeout counts from the last byte, so a client sending one header line
 * every few seconds kept its connection for ever, and 256 of them held
 * every slot the server had. Three limits, none of which a handful of slow
 * clients can exhaust:
 *   - a deadline for a whole request: from the connection's start, or the
 *     end of its previous answer, the request's headers and body must be in
 *     within http.request_timeout_s. The connections table below knows
 *     when each request began and whether it is in; a reaper thread shuts
 *     down (shutdown(2)) the socket of one that is late, and libmicrohttpd,
 *     reading end-of-file, closes it. A connection whose request is in and
 *     being answered (a long clip going out) is not cut: libmicrohttpd's
 *     30 s without progress covers a reader that stalls;
 *   - at most http.max_per_address connections from one address, refused
 *     at accept (our own count, not libmicrohttpd's, so a trusted reverse
 *     proxy - every client's address - is exempt: the proxy limits its own
 *     clients, docs/deploy-nginx.md);
 *   - http.max_connections in all (file descriptors raised to match), so
 *     the per-address limit times a handful of addresses is far from it.
 * The table's entry is removed when libmicrohttpd says the connection
 * closed, which it says before it closes the socket: while the reaper holds
 * the table's mutex, every socket in it is still open, so it never shuts
 * down a descriptor that was reused for another connection.
 *
 * A note on waiting. A few requests wait for something outside the hub: a
 * snapshot and the import of a device's configuration for the device's
 * answer over MQTT (up to 20 s), an enrolment for the broker (up to its
 * broker_timeout_s). Answered on the pool's threads, two of them held the
 * default two threads and every other user's page waited behind them
 * (and a connection is tied to one pool thread, so more threads only make
 * that less likely). hub_api_waits names them; such a request is
 * suspended (MHD_suspend_connection), answered by a thread of its own, and
 * resumed with its answer, so the pool's threads only ever do short work.
 * The API and the answers are the same. hub_http_stop waits for those
 * threads first: libmicrohttpd must not stop with a connection suspended.
 *
 * This file only translates: headers and the body into a hub_req, the
 * hub_resp back into an MHD response, plus the headers every answer
 * carries (docs/api.md, "Conventions"). The one decision here is the
 * client's address: the TCP peer's, or, when the peer is one of
 * http.trusted_proxies, the one its X-Forwarded-For names
 * (hub_client_addr); a client talking to the hub directly cannot choose
 * its address with that header.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "clock.h"
#include "db.h"
#include "file.h"
#include "fl.h"
#include "stills.h"
#include "httpparse.h"
#include "session.h"

#define TAG "http"
#define BODY_MAX 65536
#define XFF_MAX 2048 /* X-Forwarded-For, all of its lines joined */

/* One open connection: libmicrohttpd's socket context for it. */
struct conn {
	struct conn *prev, *next;
	int fd;
	char addr[HUB_ADDR_LEN]; /* the TCP peer's */
	int in;                  /* its request is in and being answered */
	int cut;                 /* the deadline shut it down */
	double since; /* fl_mono_s(): when the wait for its request began */
};

/* The open connections, for the per-address limit and the deadline. */
struct conns {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* wakes the reaper to stop */
	struct conn *head;
	int stop;
	pthread_t reaper;
	int reaper_on;
	double deadline_s;
	int per_address;
	long refused, cut; /* counted for the log (under mu) */
};

struct hub_http {
	struct MHD_Daemon *d;
	hub_api api;
	char *tls_cert, *tls_key; /* PEM text, kept while the daemon runs */
	int port;
	const char *trusted[HUB_MAX_PROXIES]; /* into the configuration */
	int ntrusted;
	atomic_int xff_logged; /* a malformed X-Forwarded-For was logged */
	struct conns conns;
	/* requests answered off the pool (see "A note on waiting") */
	pthread_mutex_t wait_mu;
	pthread_cond_t wait_cv;
	int waiting;  /* threads answering one (under wait_mu) */
	int stopping; /* no new ones: hub_http_stop is waiting */
};

/* One request's state across the handler's calls. */
struct request {
	char *body;
	size_t len;
	int too_large;
	/* answered off the pool: the request as read, then its answer */
	hub_http *h;
	struct MHD_Connection *c;
	hub_req q;
	char addr[HUB_ADDR_LEN];
	hub_resp r;
	int answered;
};

/* The thread that answers one suspended request, then resumes it (the
 * handler, called again, sends the answer). */
static void *answer_off_pool(void *arg)
{
	struct request *rq = arg;
	hub_http *h = rq->h;

	hub_api_handle(&h->api, &rq->q, &rq->r);
	pthread_mutex_lock(&h->wait_mu);
	rq->answered = 1;
	MHD_resume_connection(rq->c);
	h->waiting--;
	pthread_cond_broadcast(&h->wait_cv);
	pthread_mutex_unlock(&h->wait_mu);
	return NULL;
}

/* q (read by the handler, its strings the connection's, which live while
 * it is suspended) answered by a thread of its own: 1 when that thread
 * runs (the connection suspended), 0 to answer it here. */
static int answer_later(hub_http *h, struct MHD_Connection *c,
			struct request *rq, const hub_req *q)
{
	pthread_attr_t at;
	pthread_t t;
	int rc = -1;

	rq->h = h;
	rq->c = c;
	rq->q = *q;
	snprintf(rq->addr, sizeof(rq->addr), "%s", q->addr);
	rq->q.addr = rq->addr;
	pthread_mutex_lock(&h->wait_mu);
	if (!h->stopping) {
		/* suspended before the thread can resume it */
		MHD_suspend_connection(c);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &at, answer_off_pool, rq);
		pthread_attr_destroy(&at);
		if (rc == 0)
			h->waiting++;
		else
			MHD_resume_connection(c);
	}
	pthread_mutex_unlock(&h->wait_mu);
	return rc == 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	fl_log(FL_LOG_WARN, TAG, "%s", msg);
}

/* ---- slow clients: the connections table ---------------------------------- */

/* A socket address in text (numeric), "?" when it is neither family. */
static void sockaddr_text(const struct sockaddr *sa, char *out, size_t len)
{
	snprintf(out, len, "?");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)len);
}

/* Whether a new connection from addr may be accepted: at most
 * max_per_address open from it, unless it is a trusted proxy. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa,
				 socklen_t salen)
{
	hub_http *h = cls;
	struct conns *t = &h->conns;
	char addr[HUB_ADDR_LEN];
	int n = 0;
	long refused = 0;

	(void)salen;
	sockaddr_text(sa, addr, sizeof(addr));
	if (hub_addr_trusted(addr, h->trusted, h->ntrusted))
		return MHD_YES;
	pthread_mutex_lock(&t->mu);
	for (struct conn *c = t->head; c; c = c->next)
		n += !strcmp(c->addr, addr);
	if (n >= t->per_address)
		refused = ++t->refused;
	pthread_mutex_unlock(&t->mu);
	if (!refused)
		return MHD_YES;
	/* the first, then every 1000th: a flood must not flood the log */
	if (refused % 1000 == 1)
		fl_log(FL_LOG_WARN, TAG,
		       "%s has %d connections open (http.max_per_address): "
		       "refused (%ld refused so far)",
		       addr, n, refused);
	return MHD_NO;
}

/* libmicrohttpd opened or closed a connection: the table follows. */
static void on_connection(void *cls, struct MHD_Connection *mc,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	hub_http *h = cls;
	struct conns *t = &h->conns;
	struct conn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fi = MHD_get_connection_info(
			mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ai = MHD_get_connection_info(
			mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		c = calloc(1, sizeof(*c));
		if (!c || !fi) { /* not in the table: no deadline, logged */
			fl_log(FL_LOG_WARN, TAG,
			       "a connection is not tracked (out of memory)");
			free(c);
			return;
		}
		c->fd = fi->connect_fd;
		sockaddr_text(ai ? ai->client_addr : NULL, c->addr,
			      sizeof(c->addr));
		c->since = fl_mono_s();
		pthread_mutex_lock(&t->mu);
		c->next = t->head;
		if (t->head)
			t->head->prev = c;
		t->head = c;
		pthread_mutex_unlock(&t->mu);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&t->mu);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&t->mu);
	free(c);
	*socket_context = NULL;
}

/* Marks the connection's request in (being answered, in 1) or done (0: the
 * wait for the next request begins). */
static void conn_mark(hub_http *h, struct MHD_Connection *mc, int in)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci ? ci->socket_context : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&h->conns.mu);
	c->in = in;
	if (!in)
		c->since = fl_mono_s();
	pthread_mutex_unlock(&h->conns.mu);
}

/* Once a second: shut down the connections whose request is late. */
static void *reaper(void *arg)
{
	hub_http *h = arg;
	struct conns *t = &h->conns;
	struct timespec ts;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		double now = fl_mono_s();
		int cut = 0;

		for (struct conn *c = t->head; c; c = c->next) {
			if (c->in || c->cut || now - c->since < t->deadline_s)
				continue;
			/* the socket is open: c is in the table (see above) */
			shutdown(c->fd, SHUT_RDWR);
			c->cut = 1;
			cut++;
		}
		t->cut += cut;
		/* the first, then one line per 1000: no flood of the log */
		if (cut &&
		    (t->cut == cut || t->cut / 1000 != (t->cut - cut) / 1000))
			fl_log(FL_LOG_WARN, TAG,
			       "%d connection(s) closed: no whole request "
			       "within %.0f s (http.request_timeout_s; %ld so "
			       "far)",
			       cut, t->deadline_s, t->cut);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* Raises the soft limit of open files to what max connections need (the
 * hard limit permitting); returns the connections that fit. */
static unsigned fit_fd_limit(unsigned want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + 128; /* the store, MQTT, logs, ... */

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return want;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= need)
		return want;
	fl_log(FL_LOG_WARN, TAG,
	       "http.max_connections %u: only %lu files may be open "
	       "(ulimit -n); %lu connections at most",
	       want, (unsigned long)rl.rlim_cur,
	       (unsigned long)(rl.rlim_cur > 256 ? rl.rlim_cur - 128 : 128));
	return rl.rlim_cur > 256 ? (unsigned)(rl.rlim_cur - 128) : 128;
}

static const char *query_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	sockaddr_text(ci ? ci->client_addr : NULL, out, len);
}

/* Collects the X-Forwarded-For lines, joined with ','. */
struct xff {
	char v[XFF_MAX];
	size_t len;
	int n, too_long;
};

static enum MHD_Result xff_line(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct xff *x = cls;
	size_t vl = value ? strlen(value) : 0;

	(void)kind;
	if (!key || strcasecmp(key, "X-Forwarded-For"))
		return MHD_YES;
	if (x->len + vl + 2 > sizeof(x->v)) {
		x->too_long = 1;
		return MHD_YES;
	}
	if (x->n++)
		x->v[x->len++] = ',';
	memcpy(x->v + x->len, value ? value : "", vl);
	x->len += vl;
	x->v[x->len] = 0;
	return MHD_YES;
}

/* The client's address into out (docs/hub.md, http.trusted_proxies). */
static void request_addr(hub_http *h, struct MHD_Connection *c, char *out,
			 size_t len)
{
	char peer[HUB_ADDR_LEN];
	struct xff x;
	int rc;

	client_addr(c, peer, sizeof(peer));
	if (!h->ntrusted) {
		snprintf(out, len, "%s", peer);
		return;
	}
	memset(&x, 0, sizeof(x));
	MHD_get_connection_values(c, MHD_HEADER_KIND, xff_line, &x);
	/* a header too long to keep is malformed: the peer's address */
	rc = hub_client_addr(peer,
			     x.too_long ? "(too long)"
			     : x.n      ? x.v
					: NULL,
			     h->trusted, h->ntrusted, out, len);
	if (rc == FL_EINVAL && !atomic_exchange(&h->xff_logged, 1))
		fl_log(FL_LOG_DEBUG, TAG,
		       "X-Forwarded-For from the trusted proxy %s is malformed; "
		       "using the proxy's address (logged once)",
		       peer);
}

/* The headers of every answer (docs/api.md). */
static void common_headers(struct MHD_Response *m, int no_store)
{
	MHD_add_response_header(
		m, "Content-Security-Policy",
		"default-src 'self'; img-src 'self' data:; style-src 'self'; "
		"frame-ancestors 'none'");
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(m, "Referrer-Policy", "same-origin");
	if (no_store)
		MHD_add_response_header(m, "Cache-Control", "no-store");
}

static enum MHD_Result send_resp(struct MHD_Connection *c, hub_resp *r)
{
	struct MHD_Response *m;
	enum MHD_Result ok;

	if (r->fd >= 0) {
		m = MHD_create_response_from_fd_at_offset64(
			(uint64_t)r->flen, r->fd, (uint64_t)r->offset);
		if (!m)
			close(r->fd);
		r->fd = -1;
	} else {
		m = MHD_create_response_from_buffer(
			r->len, r->body,
			r->body_static ? MHD_RESPMEM_PERSISTENT
				       : MHD_RESPMEM_MUST_FREE);
		if (!m && !r->body_static)
			free(r->body);
		r->body = NULL;
	}
	if (!m)
		return MHD_NO;
	common_headers(m, r->no_store);
	if (r->ctype)
		MHD_add_response_header(m, "Content-Type", r->ctype);
	for (int i = 0; i < r->nhdr; i++)
		MHD_add_response_header(m, r->hdr[i].name, r->hdr[i].value);
	ok = MHD_queue_response(c, (unsigned)r->status, m);
	MHD_destroy_response(m);
	return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status,
				  const char *json)
{
	hub_resp r;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.status = status;
	r.ctype = "application/json";
	r.body = strdup(json);
	r.len = r.body ? strlen(r.body) : 0;
	r.no_store = 1;
	return send_resp(c, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	hub_http *h = cls;
	struct request *rq = *state;
	char addr[HUB_ADDR_LEN];
	hub_req q;
	hub_resp r;
	enum MHD_Result ok;

	(void)version;
	if (!rq) { /* headers are in: refuse an announced oversized body */
		const char *cl = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (cl && strtoull(cl, NULL, 10) > BODY_MAX) {
			conn_mark(h, c, 1);
			return send_error(c, 413,
					  "{\"error\": \"body too large (64 "
					  "KiB at most)\"}");
		}
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*state = rq;
		return MHD_YES;
	}
	if (rq->answered) { /* resumed: the thread's answer */
		fl_log(FL_LOG_DEBUG, TAG, "%s %s %d", method, url,
		       rq->r.status);
		rq->answered = 0;
		return send_resp(c, &rq->r);
	}
	if (*upload_size) { /* a piece of the body */
		if (!rq->too_large && rq->len + *upload_size <= BODY_MAX) {
			char *b = realloc(rq->body, rq->len + *upload_size + 1);

			if (!b)
				return MHD_NO;
			rq->body = b;
			memcpy(b + rq->len, upload, *upload_size);
			rq->len += *upload_size;
			b[rq->len] = 0;
		} else {
			rq->too_large = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	conn_mark(h, c, 1); /* the whole request is in */
	request_addr(h, c, addr, sizeof(addr));
	memset(&q, 0, sizeof(q));
	q.method = method;
	q.path = url;
	q.arg = query_arg;
	q.ctx = c;
	q.cookie = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	q.csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					     "X-CSRF-Token");
	q.range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
	q.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      "If-None-Match");
	q.accept_language = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							"Accept-Language");
	q.ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					      MHD_HTTP_HEADER_CONTENT_TYPE);
	q.origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	q.referer = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_REFERER);
	q.host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_HOST);
	q.authorization =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_AUTHORIZATION);
	q.addr = addr;
	q.body = rq->body ? rq->body : "";
	q.body_len = rq->len;
	q.body_too_large = rq->too_large;
	q.now = fl_wall_s();
	if (hub_api_waits(method, url) && answer_later(h, c, rq, &q))
		return MHD_YES;
	hub_api_handle(&h->api, &q, &r);
	fl_log(FL_LOG_DEBUG, TAG, "%s %s %d", method, url, r.status);
	ok = send_resp(c, &r);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *state;

	(void)toe;
	conn_mark(cls, c, 0);     /* the wait for the next request begins */
	if (rq && rq->answered) { /* an answer never sent (the client left) */
		if (rq->r.fd >= 0)
			close(rq->r.fd);
		else if (!rq->r.body_static)
			free(rq->r.body);
	}
	if (rq) {
		free(rq->body);
		free(rq);
	}
	*state = NULL;
}

/* A whole small file (a PEM) as a string, or NULL. */
static char *slurp(const char *path)
{
	char *s;
	size_t n;

	return fl_file_read(path, 1 << 20, &s, &n, NULL, 0) == 0 ? s : NULL;
}

/* "ADDR:PORT" ("[::1]:8080", "0.0.0.0:8080") into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
			int *v6)
{
	char host[HUB_STR];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints, *res = NULL;
	size_t hl;

	if (!colon)
		return FL_EINVAL;
	hl = (size_t)(colon - listen);
	if (hl >= sizeof(host))
		return FL_EINVAL;
	memcpy(host, listen, hl);
	host[hl] = 0;
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res) || !res)
		return FL_EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return FL_OK;
}

hub_http *hub_http_start(const hub_conf *c, hub_status *status,
			 hub_metrics *metrics, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char url[HUB_PATH + 16], dberr[256];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *info;
	hub_http *h;
	int v6 = 0, tls = c->http.tls_cert[0] != 0;

	if (parse_listen(c->http.listen, &ss, &v6)) {
		snprintf(err, errlen,
			 "http.listen '%s': not ADDR:PORT with a "
			 "numeric address",
			 c->http.listen);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->api.conf = c;
	h->api.status = status;
	h->api.metrics = metrics;
	pthread_mutex_init(&h->api.fleet_mu, NULL);
	for (int i = 0; i < c->http.ntrusted_proxies; i++)
		h->trusted[h->ntrusted++] = c->http.trusted_proxies[i];
	pthread_mutex_init(&h->conns.mu, NULL);
	pthread_cond_init(&h->conns.cv, NULL);
	pthread_mutex_init(&h->wait_mu, NULL);
	pthread_cond_init(&h->wait_cv, NULL);
	h->conns.deadline_s = c->http.request_timeout_s;
	h->conns.per_address = c->http.max_per_address;
	hub_conf_store_url(c, url, sizeof(url));
	h->api.db = fl_db_open(url, dberr, sizeof(dberr));
	h->api.sessions = hub_sessions_create(h->api.db,
					      c->http.session_idle_s);
	h->api.intact = hub_intact_create();
	if (!h->api.db || !h->api.sessions || !h->api.intact) {
		hub_conf_store_name(c, url, sizeof(url));
		snprintf(err, errlen, "store %s: %s", url,
			 h->api.db ? "out of memory" : dberr);
		goto fail;
	}
	/* applies sent before a stop wait for nothing now */
	hub_api_settle_applies(&h->api, fl_wall_s());
	/* the alerts' picture links (stills.h) */
	if (hub_still_key(c->evidence_dir, h->api.still_key, dberr,
			  sizeof(dberr))) {
		snprintf(err, errlen, "picture links: %s", dberr);
		goto fail;
	}
	if (!strcmp(c->http.secure_cookies, "on"))
		h->api.secure_cookies = 1;
	else if (!strcmp(c->http.secure_cookies, "auto"))
		h->api.secure_cookies = tls ||
					!strncmp(c->public_url, "https://", 8);
	if (tls) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen,
				 "http.tls_cert: this "
				 "libmicrohttpd has no TLS");
			goto fail;
		}
		h->tls_cert = slurp(c->http.tls_cert);
		h->tls_key = slurp(c->http.tls_key);
		if (!h->tls_cert || !h->tls_key) {
			snprintf(err, errlen,
				 "http.tls_cert/tls_key: cannot "
				 "read %s",
				 h->tls_cert ? c->http.tls_key
					     : c->http.tls_cert);
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	if (pthread_create(&h->conns.reaper, NULL, reaper, h)) {
		snprintf(err, errlen, "cannot start a thread");
		goto fail;
	}
	h->conns.reaper_on = 1;
	/* the per-address limit is ours (on_accept), not
	 * MHD_OPTION_PER_IP_CONNECTION_LIMIT: a trusted proxy is exempt */
	h->d = MHD_start_daemon(flags, 0, on_accept, h, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
				h, /* first, or MHD warns */
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE,
				(unsigned)c->http.threads,
				MHD_OPTION_CONNECTION_LIMIT,
				fit_fd_limit((unsigned)c->http.max_connections),
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				tls ? MHD_OPTION_HTTPS_MEM_CERT
				    : MHD_OPTION_END,
				h->tls_cert, MHD_OPTION_HTTPS_MEM_KEY,
				h->tls_key, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen,
			 "cannot listen on %s (in use, or not an "
			 "address of this machine)",
			 c->http.listen);
		goto fail;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	fl_log(FL_LOG_INFO, TAG,
	       "listening on %s (port %d, %s, %d threads; a request within "
	       "%.0f s, %d connections, %d per address)",
	       c->http.listen, h->port, tls ? "https" : "http", c->http.threads,
	       c->http.request_timeout_s, c->http.max_connections,
	       c->http.max_per_address);
	return h;
fail:
	hub_http_stop(h);
	return NULL;
}

int hub_http_port(const hub_http *h)
{
	return h ? h->port : 0;
}

void hub_http_stop(hub_http *h)
{
	if (!h)
		return;
	/* the requests answered off the pool first: their waits for a
	 * device end at once (api.stopping; a request that comes now waits
	 * for nothing either), each resumes its connection, which
	 * MHD_stop_daemon takes back (it must find none suspended) */
	pthread_mutex_lock(&h->wait_mu);
	h->stopping = 1;
	atomic_store(&h->api.stopping, 1); /* their waits for devices end */
	while (h->waiting > 0)
		pthread_cond_wait(&h->wait_cv, &h->wait_mu);
	pthread_mutex_unlock(&h->wait_mu);
	if (h->d)
		MHD_stop_daemon(h->d); /* every connection closed first */
	if (h->conns.reaper_on) {
		pthread_mutex_lock(&h->conns.mu);
		h->conns.stop = 1;
		pthread_cond_signal(&h->conns.cv);
		pthread_mutex_unlock(&h->conns.mu);
		pthread_join(h->conns.reaper, NULL);
	}
	pthread_cond_destroy(&h->conns.cv);
	pthread_mutex_destroy(&h->conns.mu);
	pthread_cond_destroy(&h->wait_cv);
	pthread_mutex_destroy(&h->wait_mu);
	pthread_mutex_destroy(&h->api.fleet_mu);
	hub_intact_destroy(h->api.intact);
	hub_sessions_destroy(h->api.sessions);
	fl_db_close(h->api.db);
	free(h->tls_cert);
	if (h->tls_key)
		memset(h->tls_key, 0, strlen(h->tls_key));
	free(h->tls_key);
	free(h);
}
