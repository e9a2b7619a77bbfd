/*
 * http.c - libmicrohttpd under the hub's web answers (api.c).
 *
 * A note on the server. libmicrohttpd runs its own listening thread pool
 * (MHD_USE_INTERNAL_POLLING_THREAD with http.threads threads, epoll where
 * the platform has it): a request is read, answered and written by one of
 * those threads, so a slow report never blocks ingest (the MQTT thread and
 * the HTTP threads use different store handles) and the HTTP threads share
 * one handle whose own mutex serialises them. Limits: 256 connections,
 * 32 per address, 30 s without traffic closes a connection, and a request
 * body is kept up to 64 KiB (more answers 413; a Content-Length above that
 * is refused before the body is read).
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
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

struct hub_http {
	struct MHD_Daemon *d;
	hub_api api;
	char *tls_cert, *tls_key; /* PEM text, kept while the daemon runs */
	int port;
	const char *trusted[HUB_MAX_PROXIES]; /* into the configuration */
	int ntrusted;
	atomic_int xff_logged; /* a malformed X-Forwarded-For was logged */
};

/* One request's state across the handler's calls. */
struct request {
	char *body;
	size_t len;
	int too_large;
};

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

static const char *query_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

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

		if (cl && strtoull(cl, NULL, 10) > BODY_MAX)
			return send_error(c, 413,
					  "{\"error\": \"body too large (64 "
					  "KiB at most)\"}");
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*state = rq;
		return MHD_YES;
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
	q.addr = addr;
	q.body = rq->body ? rq->body : "";
	q.body_len = rq->len;
	q.body_too_large = rq->too_large;
	q.now = fl_wall_s();
	hub_api_handle(&h->api, &q, &r);
	fl_log(FL_LOG_DEBUG, TAG, "%s %s %d", method, url, r.status);
	ok = send_resp(c, &r);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *state;

	(void)cls;
	(void)c;
	(void)toe;
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

hub_http *hub_http_start(const hub_conf *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char url[HUB_PATH + 16], dberr[256];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
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
	for (int i = 0; i < c->http.ntrusted_proxies; i++)
		h->trusted[h->ntrusted++] = c->http.trusted_proxies[i];
	snprintf(url, sizeof(url), "sqlite:%s", c->store.sqlite);
	h->api.db = fl_db_open(url, dberr, sizeof(dberr));
	h->api.sessions = hub_sessions_create(c->http.session_idle_s);
	h->api.rate = hub_ratelimit_create();
	if (!h->api.db || !h->api.sessions || !h->api.rate) {
		snprintf(err, errlen, "store %s: %s", c->store.sqlite,
			 h->api.db ? "out of memory" : dberr);
		goto fail;
	}
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
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
		mhd_log, h, /* first, or MHD warns */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->http.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)32,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->tls_cert,
		MHD_OPTION_HTTPS_MEM_KEY, h->tls_key, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen,
			 "cannot listen on %s (in use, or not an "
			 "address of this machine)",
			 c->http.listen);
		goto fail;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	fl_log(FL_LOG_INFO, TAG, "listening on %s (port %d, %s, %d threads)",
	       c->http.listen, h->port, tls ? "https" : "http",
	       c->http.threads);
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
	if (h->d)
		MHD_stop_daemon(h->d);
	hub_ratelimit_destroy(h->api.rate);
	hub_sessions_destroy(h->api.sessions);
	fl_db_close(h->api.db);
	free(h->tls_cert);
	if (h->tls_key)
		memset(h->tls_key, 0, strlen(h->tls_key));
	free(h->tls_key);
	free(h);
}
