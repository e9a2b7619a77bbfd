/*
 * lang.h - the languages firelane speaks: Simplified Chinese first, English
 * second (docs/i18n.md).
 *
 * A language is named by its BCP 47 tag, exactly as written here: "zh-CN"
 * and "en". Configuration keys that choose one (the device's
 * evidence.language, the hub's ui.language and alerts.language) accept these
 * two and nothing else, so every table of words (the banner's labels, the
 * alerts' texts, the web UI's catalogues web/i18n/<tag>.json) has exactly
 * these entries. Pure.
 */
#ifndef FL_LANG_H
#define FL_LANG_H

#define FL_LANG_MAX 8 /* a tag with its NUL */

enum fl_lang { FL_LANG_ZH, FL_LANG_EN, FL_LANG_COUNT };

/* The tag of a language ("zh-CN", "en"). */
const char *fl_lang_tag(enum fl_lang l);

/* The language of a tag, or -1 (FL_EINVAL) when it is not one of ours. */
int fl_lang_of(const char *tag);

#endif /* FL_LANG_H */
