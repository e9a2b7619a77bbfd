/*
 * api_internal.h - what the files of the hub's web answers share.
 */
#ifndef FL_HUB_API_INTERNAL_H
#define FL_HUB_API_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "file.h"
#include "fl.h"
#include "http.h"
#include "httpparse.h"
#include "manifest.h"
#include "sign.h"
#include "zip.h"

#include "api.h"

#define TAG "http"

void api__header(hub_resp *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void api__json_text(hub_resp *r, int status, char *text);
void api__json_obj(hub_resp *r, int status, json_t *o);
void api__error(hub_resp *r, int status, const char *why);
int api__is(const hub_req *q, const char *method);
const char *api__arg(const hub_req *q, const char *name);
long long api__num(json_t *o, const char *k);
int api__paging(const hub_req *q, hub_resp *r, int *limit, int *offset);
int api__is_property(const hub_session_info *s);
int api__site_listed(const char *csv, const char *site);
int api__may_see(const hub_session_info *s, const char *site);
int api__incident_visible(hub_api *a, const hub_session_info *s,
			    const char *id, hub_resp *r, char *site,
			    size_t sitelen);
const char *api__allowed_sites(const hub_session_info *s);
int api__need_role(const hub_session_info *s, hub_resp *r, int enforcement);
json_t *api__sites_array(const char *csv);
void api__session_answer(hub_api *a, const hub_session_info *s,
			   hub_resp *r);
void api__login(hub_api *a, const hub_req *q, hub_resp *r);
void api__logout(hub_api *a, const hub_session_info *s, const char *id,
		   const hub_req *q, hub_resp *r);
void api__get_session(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r);
void api__incidents(hub_api *a, const hub_session_info *s, const char *id,
		      const hub_req *q, hub_resp *r);
void api__incident(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r);
void api__outcome(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r);
void api__incident_audit(hub_api *a, const hub_session_info *s,
			   const char *id, const hub_req *q, hub_resp *r);
void api__evidence(hub_api *a, const hub_session_info *s, const char *id,
		     const char *name, const hub_req *q, hub_resp *r);
void api__export_zip(hub_api *a, const hub_session_info *s, const char *id,
		       const hub_req *q, hub_resp *r);
void api__reports(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r);
void api__reports_csv(hub_api *a, const hub_session_info *s, const char *id,
			const hub_req *q, hub_resp *r);
void api__devices(hub_api *a, const hub_session_info *s, const char *id,
		    const hub_req *q, hub_resp *r);
void api__sites(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r);
void api__enrol(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r);
void api__user_add(hub_api *a, const hub_session_info *s, const char *id,
		     const hub_req *q, hub_resp *r);
void api__user_delete(hub_api *a, const hub_session_info *s,
			const char *name, const hub_req *q, hub_resp *r);
void api__users(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r);
void api__quarantine(hub_api *a, const hub_session_info *s, const char *id,
		       const hub_req *q, hub_resp *r);
void api__audit(hub_api *a, const hub_session_info *s, const char *id,
		  const hub_req *q, hub_resp *r);

#endif /* FL_HUB_API_INTERNAL_H */
