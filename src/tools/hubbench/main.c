/*
 * main.c - firelane-hubbench: the hub's latency benchmark (make bench).
 *
 *   firelane-hubbench --populate DB [--incidents N] [--sites S] [--lanes L]
 *                     [--days D] [--user U --password P]
 *       fills a new SQLite store with N incidents through the store's own
 *       ingest (populate.c) and an admin user U
 *   firelane-hubbench --url http://127.0.0.1:PORT --user U --password P
 *                     [--requests N] [--warmup W] [--budget-s S]
 *                     [--clients C] [--site SITE]
 *       times a running hub's API and page (latency.c); one JSON object
 *
 * scripts/bench.sh ("hub") runs both around a real hub.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fl.h"
#include "hubbench.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: firelane-hubbench --populate DB [--incidents N] [--sites S] "
		"[--lanes L] [--days D] [--user U --password P]\n"
		"       firelane-hubbench --url URL --user U --password P "
		"[--requests N] [--warmup W] [--budget-s S] [--clients C] "
		"[--site SITE]\n");
}

/* A whole number in [lo, hi] from an option, or exit 2. */
static long number(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi) {
		fprintf(stderr,
			"firelane-hubbench: %s: %s is not in %ld..%ld\n", opt,
			s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	enum {
		O_POP = 256,
		O_URL,
		O_INC,
		O_SITES,
		O_LANES,
		O_DAYS,
		O_USER,
		O_PASS,
		O_REQ,
		O_WARM,
		O_BUDGET,
		O_CLIENTS,
		O_SITE
	};
	static const struct option longopts[] = {
		{ "populate", required_argument, NULL, O_POP },
		{ "url", required_argument, NULL, O_URL },
		{ "incidents", required_argument, NULL, O_INC },
		{ "sites", required_argument, NULL, O_SITES },
		{ "lanes", required_argument, NULL, O_LANES },
		{ "days", required_argument, NULL, O_DAYS },
		{ "user", required_argument, NULL, O_USER },
		{ "password", required_argument, NULL, O_PASS },
		{ "requests", required_argument, NULL, O_REQ },
		{ "warmup", required_argument, NULL, O_WARM },
		{ "budget-s", required_argument, NULL, O_BUDGET },
		{ "clients", required_argument, NULL, O_CLIENTS },
		{ "site", required_argument, NULL, O_SITE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	hb_populate_opts p = { NULL,    100000,          50, 4, 60,
			       "bench", "bench-password" };
	hb_latency_opts l = { NULL, NULL, NULL, 200, 10, 10.0, 2, "site-07" };
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_POP:
			p.db_path = optarg;
			break;
		case O_URL:
			l.url = optarg;
			break;
		case O_INC:
			p.incidents = number("--incidents", optarg, 1,
					     100000000);
			break;
		case O_SITES:
			p.sites = (int)number("--sites", optarg, 1, 100);
			break;
		case O_LANES:
			p.lanes = (int)number("--lanes", optarg, 1, 100);
			break;
		case O_DAYS:
			p.days = (int)number("--days", optarg, 1, 3650);
			break;
		case O_USER:
			p.user = l.user = optarg;
			break;
		case O_PASS:
			p.password = l.password = optarg;
			break;
		case O_REQ:
			l.requests = (int)number("--requests", optarg, 1,
						 1000000);
			break;
		case O_WARM:
			l.warmup = (int)number("--warmup", optarg, 0, 100000);
			break;
		case O_BUDGET:
			l.budget_s = (double)number("--budget-s", optarg, 1,
						    86400);
			break;
		case O_CLIENTS:
			l.clients = (int)number("--clients", optarg, 1, 64);
			break;
		case O_SITE:
			l.site = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !p.db_path == !l.url) {
		usage(stderr);
		return 2;
	}
	if (p.db_path)
		return hb_populate(&p);
	if (!l.user || !l.password) {
		fprintf(stderr,
			"firelane-hubbench: --url needs --user and --password\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = hb_latency(&l);
	curl_global_cleanup();
	return rc;
}
