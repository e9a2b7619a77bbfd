/*
 * assets.h - the web UI's files (web/), compiled into the hub at build time
 * by cmake/embed.cmake into web_assets.c, and served by api.c.
 */
#ifndef FL_HUB_ASSETS_H
#define FL_HUB_ASSETS_H

#include <stddef.h>

/* One file: path relative to web/ ("index.html"), content type, ETag
 * (quoted), bytes. The table ends with a row of NULLs; static data. */
struct hub_asset {
	const char *path, *mime, *etag;
	const unsigned char *data;
	size_t len;
};
extern const struct hub_asset hub_assets[];
extern const size_t hub_nassets;

#endif /* FL_HUB_ASSETS_H */
