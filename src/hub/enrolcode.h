/*
 * enrolcode.h - enrolment by one-time code, the hub's side (docs/api.md,
 * "Enrolment"; docs/security.md, "Enrolment by code"): the codes, the
 * device's broker account, the QR code an admin shows the installer.
 *
 * The web answers are in api_enrol.c; the codes' rows in the store
 * (src/store/enrol.c). Everything here is callable from any thread.
 */
#ifndef FL_HUB_ENROLCODE_H
#define FL_HUB_ENROLCODE_H

#include <stddef.h>

#include "hubconf.h"

/* A code: HUB_ENROL_CODE_LEN characters of an alphabet without look-alikes
 * (no 0/O, 1/I/L, 5/S, 8/B): 27^8, about 2^38. */
#define HUB_ENROL_CODE_LEN 8
#define HUB_ENROL_ALPHABET "234679ACDEFGHJKMNPQRTUVWXYZ"

/* A new random code into code (HUB_ENROL_CODE_LEN + 1 bytes). */
void hub_enrol_code_new(char *code);

/*
 * The code as typed into its canonical form: letters upper-cased, spaces
 * and '-' dropped (an installer may type "abcd-efgh"). 0 and the code in
 * out (HUB_ENROL_CODE_LEN + 1 bytes), or FL_EINVAL when what is left is
 * not HUB_ENROL_CODE_LEN characters of the alphabet.
 */
int hub_enrol_code_norm(const char *typed, char *out);

/* The hex SHA-256 of a canonical code (65 bytes): what the store keeps. */
void hub_enrol_hash(const char *code, char *hex);

/* A fresh random broker password (base64url, 32 characters) into pw
 * (at least 33 bytes). */
void hub_enrol_password(char *pw, size_t len);

/*
 * Makes (or, when it exists, replaces) the broker account user with
 * password through the broker's dynamic security plugin: the hub connects
 * with enrol.admin_username, publishes deleteClient and createClient on
 * $CONTROL/dynamic-security/v1 and waits up to enrol.broker_timeout_s for
 * the plugin's answer. 0, or a negative fl_errno with the reason in err
 * (FL_EAGAIN: no answer; FL_EIO: the plugin refused, its words in err;
 * FL_EUNSUPPORTED: no enrol.admin_username). Blocks; any thread.
 */
int hub_enrol_broker_account(const hub_conf *c, const char *user,
			     const char *password, char *err, size_t errlen);

/*
 * The QR code of text as an SVG document (malloc'd; the caller frees), or
 * NULL when text does not fit a QR code or memory ran out. Dark modules
 * are black squares on white with a quiet zone of 4.
 */
char *hub_qr_svg(const char *text);

#endif /* FL_HUB_ENROLCODE_H */
