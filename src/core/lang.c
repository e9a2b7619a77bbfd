/*
 * lang.c - the languages firelane speaks (see lang.h).
 */
#include "lang.h"

#include <string.h>

#include "fl.h"

static const char *const tags[FL_LANG_COUNT] = {
	[FL_LANG_ZH] = "zh-CN",
	[FL_LANG_EN] = "en",
};

const char *fl_lang_tag(enum fl_lang l)
{
	return (unsigned)l < FL_LANG_COUNT ? tags[l] : tags[FL_LANG_ZH];
}

int fl_lang_of(const char *tag)
{
	for (int i = 0; tag && i < FL_LANG_COUNT; i++)
		if (!strcmp(tag, tags[i]))
			return i;
	return FL_EINVAL;
}
