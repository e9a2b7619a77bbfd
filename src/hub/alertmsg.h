/*
 * alertmsg.h - what an alert says: the payload of one incident step
 * (alarm, all-clear, escalation) for each platform, in the alerts'
 * language (docs/hub.md, "Alerts").
 *
 * One function builds every payload from one description of the step
 * (hub_alert_msg), so the platforms say the same things: the site's and
 * the lane's names, local time with its offset, how long the lane has been
 * blocked, the incident's page and the alarm picture. The lines a person
 * reads are one table in alertmsg.c (facts()): a new line (a plate, an
 * owner) is one entry there and one field here. Pure apart from the
 * process's time zone (fl_time_local); no I/O.
 */
#ifndef FL_HUB_ALERTMSG_H
#define FL_HUB_ALERTMSG_H

#include <stddef.h>

#include "lang.h"

/* One incident step, as an alert tells it. Strings are borrowed; "" (or
 * NULL) when unknown, except kind, site, device, camera, lane, iid, url. */
typedef struct hub_alert_msg {
	const char *kind; /* alarm | cleared | escalated */
	const char *site, *site_name;
	const char *device, *camera, *lane, *lane_name;
	const char *iid;
	const char *plate;   /* the device's plate read, or NULL/"" */
	double wall;         /* the step's time (unix seconds); an
			      * escalation's is its alarm's */
	double now;          /* when the alert is made (an escalation's
			      * time blocked counts to it) */
	double since;        /* when the lane became blocked; < 0 unknown */
	const char *picture; /* the alarm still's signed link, or "" */
	const char *url;     /* the incident's page */
	enum fl_lang lang;
} hub_alert_msg;

/* Limits of the platforms' group robots (docs/hub.md, "Alerts"). */
#define HUB_WECOM_TITLE_MAX 128 /* news article title, bytes */
#define HUB_WECOM_DESC_MAX 512  /* news article description, bytes */
#define HUB_WECOM_MD_MAX 4096   /* markdown content, bytes */

/*
 * The payload of m for format (enum hub_hook_format in hubconf.h:
 * HUB_HOOK_GENERIC, also the MQTT alert; HUB_HOOK_WECOM, a group robot's
 * "news" card with the picture as picurl, or "markdown" when there is no
 * picture; HUB_HOOK_DINGTALK, a group robot's "markdown" with the picture
 * as an image). Texts are cut at a UTF-8 character boundary to the
 * platform's limits. malloc'd JSON text (free()), NULL on no memory.
 */
char *hub_alert_body(const hub_alert_msg *m, int format);

/* seconds as a duration people read in lang ("1小时5分", "1 h 5 min",
 * "12分30秒", "12 min 30 s"); "" for a negative or NaN duration. */
void hub_alert_duration(double seconds, enum fl_lang lang, char *buf,
			size_t len);

#endif /* FL_HUB_ALERTMSG_H */
