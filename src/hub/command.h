/*
 * command.h - a command from the hub to one device (docs/mqtt.md,
 * "Commands"): stamped with the hub's time and a fresh nonce, signed with
 * the hub key for the device's command topic, published, and its answer
 * awaited. The hub's command line (firelane-hub --command) is its user.
 *
 * One call, on the calling thread; it makes its own short MQTT connection
 * (client id "<mqtt.client_id>-cmd-<pid>", so the running hub's session
 * is left alone) and closes it before it returns.
 */
#ifndef FL_HUB_COMMAND_H
#define FL_HUB_COMMAND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include "client.h"
#include "db.h"
#include "hubconf.h"
#include "sign.h"

/* The broker connection of c (host, account, TLS, keep-alive) into o,
 * the rest of o untouched; the strings are c's. The hub's main loop and
 * the command sender both connect so. */
void hub_mqtt_opts(const hub_conf *c, fl_mqtt_opts *o);

/*
 * The command text to send: json (one JSON object: "cmd" and its
 * arguments, optionally "id") with "time" (now, unix seconds) and "nonce"
 * (128 random bits, hex) added, and "id" when it has none; a "time" or
 * "nonce" already there is kept (a command prepared earlier). Into a
 * malloc'd string (*out, the caller frees; *id its request id, idlen >=
 * 65). 0, or FL_EFORMAT with the reason in err (not one JSON object).
 */
int hub_command_build(const char *json, double now, char **out, char *id,
		      size_t idlen, char *err, size_t errlen);

/*
 * Send json to device (enrolled in db: its site names the topic, its key
 * checks the answer) signed with key, and wait up to timeout_s for its
 * answer on command/state, or until *cancel (NULL: never) is set. The
 * answer (its JSON) goes to out. 0 when the device answered ok; 1 when it
 * refused (the answer says why); 2 when nothing could be sent or no answer
 * came (err says why).
 */
int hub_command_send(const hub_conf *c, fl_db *db, const fl_key *key,
		     const char *device, const char *json, double timeout_s,
		     const atomic_int *cancel, FILE *out, char *err,
		     size_t errlen);

#endif /* FL_HUB_COMMAND_H */
