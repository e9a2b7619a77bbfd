/*
 * enrolcode.c - enrolment by one-time code, the hub's side (see
 * enrolcode.h).
 *
 * A note on the code. It is what an installer types on a device (or
 * scans), so it is short: 8 characters of 27 that cannot be mistaken for
 * one another, about 38 bits. That is enough because it is not a password
 * that lives: it works once, for one device and site an admin named, for
 * a day (enrol.code_ttl_s), and POST /api/enrol is throttled per address
 * like the login (api_roles.c), so a guesser gets a few hundred tries a
 * day from one address against 2^38. The store keeps only its SHA-256:
 * a copy of the database gives no usable code.
 *
 * A note on the broker account. The broker is the tests' and the
 * documented deployment's mosquitto (docs/security.md, "The broker") with
 * its dynamic security plugin loaded beside the password file and the
 * ACL. The plugin answers commands on $CONTROL/dynamic-security/v1 from
 * an account allowed to send them (enrol.admin_username); the hub makes
 * the device's account there, named after the device id, with no roles of
 * its own: the ACL's per-device patterns (%u) decide what it may publish
 * and read, as for an account in the password file. Re-enrolling a device
 * replaces its account (delete, then create) so the old password stops
 * working. The connection is the hub's own short one, like --command's
 * (command.c): the HTTP thread waits for the plugin's answer, so the
 * device is told its password only once the broker takes it.
 */
#include "enrolcode.h"

#include <jansson.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "command.h"
#include "fl.h"

#define TAG "enrol"

#define DYNSEC_TOPIC "$CONTROL/dynamic-security/v1"
#define DYNSEC_RESPONSE DYNSEC_TOPIC "/response"

/* ---- codes ------------------------------------------------------------------ */

void hub_enrol_code_new(char *code)
{
	const size_t n = sizeof(HUB_ENROL_ALPHABET) - 1;

	for (int i = 0; i < HUB_ENROL_CODE_LEN; i++)
		code[i] = HUB_ENROL_ALPHABET[randombytes_uniform((uint32_t)n)];
	code[HUB_ENROL_CODE_LEN] = '\0';
}

int hub_enrol_code_norm(const char *typed, char *out)
{
	int n = 0;

	for (const char *p = typed; *p; p++) {
		char ch = *p;

		if (ch == ' ' || ch == '-')
			continue;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		if (n == HUB_ENROL_CODE_LEN || !strchr(HUB_ENROL_ALPHABET, ch))
			return FL_EINVAL;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == HUB_ENROL_CODE_LEN ? 0 : FL_EINVAL;
}

void hub_enrol_hash(const char *code, char *hex)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)code, strlen(code));
	sodium_bin2hex(hex, 2 * sizeof(h) + 1, h, sizeof(h));
}

void hub_enrol_password(char *pw, size_t len)
{
	unsigned char rnd[24];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2base64(pw, len, rnd, sizeof(rnd),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(rnd, sizeof(rnd));
}

/* ---- the broker account -------------------------------------------------------- */

/* One request to the plugin and the wait for its answer. */
struct dynsec {
	fl_mqtt *m;
	const char *msg, *corr;
	int sent, answered;
	char why[256]; /* the plugin's error, "" when it took the account */
};

static void ds_connect(void *user)
{
	struct dynsec *d = user;

	/* the response's subscription went out first (client.h) */
	if (!d->sent)
		d->sent = fl_mqtt_publish(d->m, DYNSEC_TOPIC, d->msg,
					  strlen(d->msg), 1, 0) == 0;
}

/* The plugin answers every command of a request in order; ours is
 * answered when createClient's response (with our correlation data) has
 * come: an "error" there is the refusal. deleteClient's error (no such
 * client: a first enrolment) is expected. */
static int ds_message(const char *topic, const void *payload, size_t len,
		      void *user)
{
	struct dynsec *d = user;
	json_t *j, *r;
	size_t i;

	if (strcmp(topic, DYNSEC_RESPONSE) || d->answered || !payload)
		return 0;
	j = json_loadb(payload, len, 0, NULL);
	json_array_foreach(json_object_get(j, "responses"), i, r)
	{
		const char *cmd = json_string_value(
			json_object_get(r, "command"));
		const char *corr = json_string_value(
			json_object_get(r, "correlationData"));
		const char *err = json_string_value(json_object_get(r, "error"));

		if (!cmd || strcmp(cmd, "createClient") || !corr ||
		    strcmp(corr, d->corr))
			continue;
		d->answered = 1;
		snprintf(d->why, sizeof(d->why), "%s", err ? err : "");
	}
	json_decref(j);
	return 0;
}

int hub_enrol_broker_account(const hub_conf *c, const char *user,
			     const char *password, char *err, size_t errlen)
{
	static atomic_int serial;
	const hub_enrol_conf *e = &c->enrol;
	struct dynsec d = { 0 };
	fl_mqtt_opts o = { 0 };
	char client_id[HUB_STR + 48], corr[33];
	unsigned char rnd[16];
	json_t *req;
	double until;
	int rc = FL_EAGAIN;

	if (!e->admin_username[0]) {
		fl_seterr(err, errlen,
			  "the hub makes no broker accounts "
			  "(enrol.admin_username is not set)");
		return FL_EUNSUPPORTED;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(corr, sizeof(corr), rnd, sizeof(rnd));
	req = json_pack("{s:[{s:s,s:s,s:s},{s:s,s:s,s:s,s:s}]}", "commands",
			"command", "deleteClient", "username", user,
			"correlationData", corr, "command", "createClient",
			"username", user, "password", password,
			"correlationData", corr);
	d.msg = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	d.corr = corr;
	if (!d.msg) {
		fl_seterr(err, errlen, "out of memory");
		return FL_ENOMEM;
	}
	snprintf(client_id, sizeof(client_id), "%s-enrol-%ld-%d",
		 c->mqtt.client_id, (long)getpid(),
		 atomic_fetch_add(&serial, 1));
	hub_mqtt_opts(c, &o);
	o.username = e->admin_username;
	o.password = e->admin_password;
	o.client_id = client_id;
	o.on_connect = ds_connect;
	o.on_message = ds_message;
	o.user = &d;
	d.m = fl_mqtt_create(&o, NULL, err, errlen);
	if (!d.m) {
		rc = FL_EIO;
		goto out;
	}
	if (fl_mqtt_subscribe(d.m, DYNSEC_RESPONSE) < 0 || fl_mqtt_start(d.m)) {
		fl_seterr(err, errlen, "cannot subscribe to %s",
			  DYNSEC_RESPONSE);
		rc = FL_EIO;
		goto out;
	}
	until = fl_mono_s() + e->broker_timeout_s;
	while (!d.answered && fl_mono_s() < until)
		fl_mqtt_run(d.m, 100);
	if (!d.answered) {
		fl_seterr(err, errlen,
			  "the broker's dynamic security plugin did not answer "
			  "within %.0f s%s",
			  e->broker_timeout_s,
			  d.sent ? ""
				 : " (not connected to the broker as "
				   "enrol.admin_username)");
	} else if (d.why[0]) {
		fl_seterr(err, errlen, "the broker refused the account: %s",
			  d.why);
		rc = FL_EIO;
	} else {
		rc = 0;
	}
out:
	if (d.m)
		fl_mqtt_stop(d.m, NULL, NULL, 1000);
	fl_mqtt_destroy(d.m);
	/* the request holds the password */
	sodium_memzero((char *)d.msg, strlen(d.msg));
	free((char *)d.msg);
	return rc;
}

/* ---- the QR code ---------------------------------------------------------------- */

char *hub_qr_svg(const char *text)
{
	QRcode *q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	size_t cap, n = 0;
	char *svg;
	int w, size;

	if (!q)
		return NULL;
	w = q->width;
	size = w + 8; /* a quiet zone of 4 modules on each side */
	/* one path segment per dark module: "M%d %dh1v1h-1z" < 32 bytes */
	cap = 512 + (size_t)w * (size_t)w * 32;
	svg = malloc(cap);
	if (!svg) {
		QRcode_free(q);
		return NULL;
	}
	n += (size_t)
		snprintf(svg + n, cap - n,
			 "<svg xmlns=\"http://www.w3.org/2000/svg\" "
			 "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
			 "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
			 "<path fill=\"#000\" d=\"",
			 size, size, size, size);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				n += (size_t)snprintf(svg + n, cap - n,
						      "M%d %dh1v1h-1z", x + 4,
						      y + 4);
	snprintf(svg + n, cap - n, "\"/></svg>");
	QRcode_free(q);
	return svg;
}
