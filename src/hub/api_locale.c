/*
 * api_locale.c - GET /api/locale: which language the web UI speaks to this
 * browser, and in which zone it shows times (docs/i18n.md).
 *
 * The page asks before it draws anything, the login page included, so
 * this is the one answer besides login that needs no session; it says
 * nothing about the fleet. The language is the browser's own choice when
 * it made one with the header's switch (the fl_lang cookie), else what its
 * Accept-Language accepts, Chinese first (hub_lang_pick), else ui.language.
 * The zone is the hub's (timezone): its tz database name for
 * Intl.DateTimeFormat, or null for a fixed offset, and the offset now.
 */
#include "api_internal.h"

#include <string.h>

#include "httpparse.h"
#include "lang.h"
#include "session.h"

void api__locale(hub_api *a, const hub_req *q, hub_resp *r)
{
	char cookie[16];
	const char *tz = a->conf->tz_name;
	json_t *langs = json_array();
	int lang;

	if (hub_cookie_get(q->cookie, "fl_lang", cookie, sizeof(cookie)))
		cookie[0] = 0;
	lang = hub_lang_pick(cookie, q->accept_language,
			     fl_lang_of(a->conf->ui.language));
	for (int i = 0; i < FL_LANG_COUNT; i++)
		json_array_append_new(langs, json_string(fl_lang_tag(i)));
	api__json_obj(r, 200,
		      json_pack("{s:s,s:o,s:o,s:i}", "lang", fl_lang_tag(lang),
				"languages", langs, "time_zone",
				tz[0] ? json_string(tz) : json_null(),
				"tz_offset_s", a->conf->tz_offset_s));
}
