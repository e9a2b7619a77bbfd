/*
 * register.h - the resident vehicle register's CSV (docs/hub.md, "The
 * resident vehicle register"): parsing and checking an import, and masking
 * a phone number for display. See register.c for the rules.
 *
 * Ownership: hub_register_parse() fills a caller-allocated array of rows
 * whose strings point into a buffer it allocates (rows->buf, freed with
 * hub_register_free()). No I/O, no globals.
 */
#ifndef HUB_REGISTER_H
#define HUB_REGISTER_H

#include <stddef.h>

#include "plate.h"

#define HUB_REGISTER_MAX_ROWS 20000 /* rows of one site's import at most */
#define HUB_REGISTER_FIELD_MAX 128  /* bytes of an owner or unit */
#define HUB_PHONE_MAX 24            /* bytes of a normalised phone */

typedef struct hub_resident {
	char plate[FL_PLATE_TEXT_MAX]; /* normalised: no blanks, ASCII upper */
	char owner[HUB_REGISTER_FIELD_MAX];
	char unit[HUB_REGISTER_FIELD_MAX];
	char phone[HUB_PHONE_MAX]; /* digits, an optional leading '+' */
} hub_resident;

typedef struct hub_register {
	hub_resident *rows; /* malloc'd, n of them */
	size_t n;
} hub_register;

/*
 * Parse a register CSV (UTF-8, an optional BOM; RFC 4180 quoting; a header
 * naming the columns plate, owner, unit and phone in any order, other
 * columns ignored; "building/unit" is accepted for unit). Every row is
 * checked; the whole file is refused when any row is bad: out (caller-
 * allocated) is then empty and err (errlen bytes) lists the bad rows,
 * "row N: reason; ..." (N counts the header as row 1; the first few).
 * A plate must have a plate's shape (fl_plate_shape) and appear once; owner
 * and unit 1..HUB_REGISTER_FIELD_MAX-1 bytes of valid UTF-8 without control
 * characters; a phone 7..15 digits after spaces, dashes and brackets are
 * dropped, with an optional leading '+'. Blank lines are skipped. Returns
 * the number of rows (>= 0), or FL_EFORMAT / FL_ERANGE (too many rows) /
 * FL_ENOMEM. The fuzz target's entry.
 */
int hub_register_parse(const char *text, size_t len, hub_register *out,
		       char *err, size_t errlen);

/* Release what reg holds (NULL-safe, idempotent). */
void hub_register_free(hub_register *reg);

/* phone masked for display: the first 3 and the last 4 characters kept,
 * the rest '*' (13812341234 -> 138****1234); shorter than 8: all but the
 * last 2 masked. out gets at most outlen bytes. */
void hub_phone_mask(const char *phone, char *out, size_t outlen);

#endif /* HUB_REGISTER_H */
