/*
 * stills.h - an incident's alarm still, small: the incident list's
 * thumbnail and the alerts' picture, and the signed links that let a chat
 * platform fetch the picture without a session (docs/hub.md, "Stills").
 *
 * A still is made once from the verified bundle (the alarm scene image,
 * else the first scene image, else the composite), its banner band cropped
 * off, scaled to a width, and cached as <evidence_dir>/.stills/<id>-<w>.jpg.
 * Functions are thread-safe (the web server's threads and the alerts call
 * them at once); nothing is kept in memory.
 */
#ifndef FL_HUB_STILLS_H
#define FL_HUB_STILLS_H

#include <stddef.h>

#include "db.h"
#include "intact.h"

#define HUB_STILL_THUMB 320 /* the incident list (160 CSS px, 2x screens) */
#define HUB_STILL_ALERT 960 /* the alerts' picture */
#define HUB_STILL_KEY 32    /* the links' HMAC-SHA256 key */

/*
 * The still of incident iid at width (HUB_STILL_*) into path (pathlen
 * bytes): made from the verified bundle on first use, else the cached file.
 * Only a bundle that verified, was not removed by retention and has no
 * file found tampered gives a still; its files are read through
 * hub_intact_open (ic, the web server's cache, may be NULL; now for its
 * records). Returns 0, FL_ENOENT (no verified picture for it: none yet,
 * none at all, removed, or altered since it verified; why in err), or
 * another negative fl_errno with the reason in err.
 */
int hub_still(const char *evidence_dir, hub_intact *ic, fl_db *db,
	      const char *iid, int width, double now, char *path,
	      size_t pathlen, char *err, size_t errlen);

/* Remove the cached stills of iid (its bundle is gone). */
void hub_still_forget(const char *evidence_dir, const char *iid);

/* The links' key (<evidence_dir>/.stills/link.key, 0600, 32 random bytes),
 * made by the first worker that needs it. 0, or FL_EIO with why in err. */
int hub_still_key(const char *evidence_dir, unsigned char key[HUB_STILL_KEY],
		  char *err, size_t errlen);

/* <public_url>/pictures/<iid>/<expires>-<sig>.jpg: the alert picture's
 * link, valid until unix time expires. snprintf semantics. */
int hub_still_link(const unsigned char key[HUB_STILL_KEY],
		   const char *public_url, const char *iid, long long expires,
		   char *buf, size_t len);

/* 1 when file ("<expires>-<sig>.jpg") is a link that key signed for iid
 * and that has not expired at now; else 0. Constant time in the sig. */
int hub_still_link_ok(const unsigned char key[HUB_STILL_KEY], const char *iid,
		      const char *file, double now);

#endif /* FL_HUB_STILLS_H */
