/*
 * hubbench.h - firelane-hubbench's two halves (src/tools/hubbench):
 * populate.c fills a store, latency.c times a running hub's HTTP API.
 * main.c reads argv and calls one of them.
 */
#ifndef FL_HUBBENCH_H
#define FL_HUBBENCH_H

/* What --populate makes. Strings are borrowed for the call. */
typedef struct hb_populate_opts {
	const char *db_path; /* SQLite file, created (must not hold incidents) */
	long incidents;      /* 100000 */
	int sites;           /* 50: site-00 .. site-49, one device each */
	int lanes;           /* 4 per site: lane-0 .. lane-3 */
	int days;            /* 60: the incidents' starts end about now */
	const char *user, *password; /* an admin for the latency half */
} hb_populate_opts;

/* Fills the store through fl_db_ingest() (group commits, synchronous=NORMAL:
 * populating need not be durable). Prints progress and a one-line JSON
 * summary to stdout. 0, or 1 with the reason on stderr. */
int hb_populate(const hb_populate_opts *o);

/* What the latency half times. */
typedef struct hb_latency_opts {
	const char *url; /* http://127.0.0.1:PORT (no trailing slash needed) */
	const char *user, *password;
	int requests;     /* timed requests per endpoint (200) */
	int warmup;       /* untimed requests first (10) */
	double budget_s;  /* at most this long per endpoint (stops early) */
	int clients;      /* concurrent clients of the list variant (2) */
	const char *site; /* the site of the filtered list and reports */
} hb_latency_opts;

/* Logs in, times every endpoint, prints one JSON object to stdout. 0, or 1
 * with the reason on stderr (a request that does not answer 200 is one). */
int hb_latency(const hb_latency_opts *o);

#endif /* FL_HUBBENCH_H */
