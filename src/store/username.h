/*
 * username.h - the one rule for a user name, and its look-alike key
 * (docs/hub.md, "User names").
 *
 * Pure functions over UTF-8 strings (ICU underneath), thread-safe, nothing
 * kept between calls. fl_db_user_add() applies both: a name that breaks the
 * rule, or whose key equals an existing user's key, is refused.
 */
#ifndef FL_STORE_USERNAME_H
#define FL_STORE_USERNAME_H

#include <stddef.h>

/* Code points a name may have, and room for its key (with the NUL). */
#define FL_USER_NAME_MAX 64
#define FL_USER_KEY_LEN 4096

/* 0 when name is a valid user name, else FL_EINVAL and the reason for a
 * person in err ("user name: ..."). NULL is invalid. */
int fl_user_name_check(const char *name, char *err, size_t errlen);

/* The look-alike key of a valid name into out (outlen >= FL_USER_KEY_LEN):
 * two names with the same key are confusable. 0, FL_EINVAL (not a valid
 * name), FL_ENOMEM (ICU could not start). */
int fl_user_name_key(const char *name, char *out, size_t outlen);

#endif /* FL_STORE_USERNAME_H */
