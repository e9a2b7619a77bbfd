/*
 * http.h - the hub's web server: the review UI and the JSON API
 * (docs/api.md) over libmicrohttpd.
 *
 * hub_http_start() opens the server's own store handle on the same database
 * (SQLite's WAL lets its readers run beside the ingest writer), creates the
 * session table and starts libmicrohttpd with a small
 * internal thread pool (http.threads). Requests are answered by api.c.
 * hub_http_stop() stops the server (in-flight requests finish), then closes
 * its store handle: call it before the program closes its own handle.
 */
#ifndef FL_HUB_HTTP_H
#define FL_HUB_HTTP_H

#include <stddef.h>

#include "hubconf.h"
#include "metrics.h"
#include "status.h"

typedef struct hub_http hub_http;

/* NULL with a reason in err when the server cannot start (address in use,
 * TLS files unreadable, store). c, status (the hub's own state for
 * GET /healthz and /api/hub) and metrics (the counters of GET /metrics)
 * must outlive the server; status and metrics may be NULL. */
hub_http *hub_http_start(const hub_conf *c, hub_status *status,
			 hub_metrics *metrics, char *err, size_t errlen);
/* The port the server listens on (useful with port 0), or 0. */
int hub_http_port(const hub_http *h);
void hub_http_stop(hub_http *h); /* NULL-safe */

#endif /* FL_HUB_HTTP_H */
