/*
 * api_stills.c - an incident's alarm still, small (stills.h): the incident
 * list's thumbnail for a user who may see the incident, and an alert's
 * picture for whoever holds its signed link.
 *
 * GET /api/incidents/ID/still answers like the incident itself (404 for an
 * incident of a site the user may not see) and 204 when the incident has
 * no verified picture (yet): the list then shows its placeholder. A still
 * never changes once made, so the browser may keep it (private, an hour).
 * Thumbnails are not audited one by one: the list that shows them is not
 * either; opening the incident or its evidence is.
 *
 * GET /pictures/ID/<expires>-<sig>.jpg needs no session: the link is the
 * capability (a chat platform fetches it). A link that is not the hub's,
 * or has expired, answers 404 as an unknown path would; every picture
 * served is audited (user "link", the client's address).
 */
#include "api_internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl.h"
#include "httpparse.h"
#include "stills.h"

/* Serve the still of id at width as r's file; 0, or FL_ENOENT when there
 * is none (nothing answered yet), or -1 with a 500 answered. */
static int serve(hub_api *a, const char *id, int width, double now, hub_resp *r)
{
	char path[HUB_PATHLEN], err[512];
	struct stat st;
	int fd, rc;

	rc = hub_still(a->conf->evidence_dir, a->intact, a->db, id, width, now,
		       path, sizeof(path), err, sizeof(err));
	if (rc == FL_ENOENT)
		return FL_ENOENT;
	if (rc) {
		fl_log(FL_LOG_ERROR, TAG, "still of %s: %s", id, err);
		api__error(r, 500, "cannot make the picture");
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return FL_ENOENT;
	}
	r->status = 200;
	r->fd = fd;
	r->offset = 0;
	r->flen = (long long)st.st_size;
	r->ctype = "image/jpeg";
	r->no_store = 0;
	api__header(r, "Cache-Control", "private, max-age=3600");
	return 0;
}

void api__still(hub_api *a, const hub_session_info *s, const char *id,
		const hub_req *q, hub_resp *r)
{
	char site[256];

	if (api__incident_visible(a, s, id, r, site, sizeof(site)))
		return;
	if (serve(a, id, HUB_STILL_THUMB, q->now, r) == FL_ENOENT)
		r->status = 204; /* no picture (yet): the list's placeholder */
}

void api__picture(hub_api *a, const char *id, const char *file,
		  const hub_req *q, hub_resp *r)
{
	r->no_store = 1;
	if (!hub_plain_name(id) ||
	    !hub_still_link_ok(a->still_key, id, file, q->now)) {
		api__error(r, 404, "no such picture");
		return;
	}
	if (serve(a, id, HUB_STILL_ALERT, q->now, r) == FL_ENOENT) {
		api__error(r, 404, "no picture (yet)");
		return;
	}
	if (r->fd >= 0)
		fl_db_audit(a->db, "link", "picture_view", id,
			    q->addr ? q->addr : "", q->now);
}
