/*
 * enrol.h - firelane-edge --enrol HUB_URL CODE: the device enrols itself at
 * the hub with a one-time code (docs/edge.md, "Enrolment by code";
 * docs/api.md, "Enrolment").
 */
#ifndef FL_EDGE_ENROL_H
#define FL_EDGE_ENROL_H

#include <stddef.h>
#include <stdio.h>

/* What the hub answers (POST /api/enrol), every string checked. */
typedef struct edge_enrol_answer {
	char device[64];
	char site[257];
	char host[256];
	int port;
	int tls;
	char username[256];
	char password[256];
	char hub_key[64];
} edge_enrol_answer;

/*
 * Parse the hub's answer (len bytes of JSON): 0, or FL_EFORMAT with what
 * is wrong in err. a is zeroed first.
 */
int edge_enrol_answer_parse(const char *json, size_t len, edge_enrol_answer *a,
			    char *err, size_t errlen);

/* The QR code's text: firelane-enrol:HUB_URL?code=CODE. */
#define EDGE_ENROL_SCHEME "firelane-enrol:"

/* Splits a QR code's text into the hub's URL and the code: 0, or
 * FL_EINVAL when it is not one (or does not fit the buffers). */
int edge_enrol_uri(const char *uri, char *url, size_t urllen, char *code,
		   size_t codelen);

typedef struct edge_enrol_args {
	const char *config;  /* the configuration file to complete */
	const char *hub_url; /* or the QR code's text (EDGE_ENROL_SCHEME) */
	const char *code;    /* NULL: the one in hub_url's QR code text */
	const char *ca;      /* CA file for the hub's certificate, or NULL */
	int insecure; /* plain HTTP and unverified certificates allowed */
	FILE *out;    /* what was done, for a person */
} edge_enrol_args;

/*
 * The answer written into the configuration text (len bytes of the file
 * a->config; a->ca the --ca file or NULL): the new text in *out
 * (malloc'd, *outlen bytes), which loads as a configuration. With TLS,
 * mqtt.tls_ca is the text's own if it names one, else a->ca (absolute),
 * else the system's CA bundle; without, "". 0, or 1 with the reason in
 * err.
 */
int edge_enrol_config(const edge_enrol_args *a, const edge_enrol_answer *ans,
		      const char *text, size_t len, char **out, size_t *outlen,
		      char *err, size_t errlen);

/*
 * The whole enrolment (a->hub_url may be the QR code's text, which then
 * gives the code too): the device key (device.key_file, created if
 * absent), POST HUB_URL/api/enrol with the code and the public key over
 * HTTPS (certificate verified against the system's CAs or a->ca), then
 * the answer written into the configuration file atomically (device.id,
 * device.site, mqtt host, port, username, password, tls_ca and hub_key;
 * everything else kept, src/config/yamledit.h), and a summary on a->out.
 * Returns 0, 1 (refused or failed: err says why, for a person) or 2 (a
 * usage or configuration error).
 */
int edge_enrol(const edge_enrol_args *a, char *err, size_t errlen);

#endif /* FL_EDGE_ENROL_H */
