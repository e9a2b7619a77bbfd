/*
 * register.c - the resident vehicle register's CSV (see register.h).
 *
 * A property manager exports the register from a spreadsheet: plate,
 * owner, building/unit, phone. An import is all or nothing: one bad row
 * and nothing changes, and the answer names every bad row (the first
 * REPORT_MAX) with its number and why, so the file can be fixed in one go.
 *
 * Plates are normalised the way the reader writes them (no blanks, dots or
 * hyphens, Latin letters upper case) so that a read matches the register
 * by plain equality. Phones keep only their digits and a leading '+'.
 */
#include "register.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"

#define REPORT_MAX 8 /* bad rows named in err */
#define COLS_MAX 32  /* columns of a row at most */
#define FIELD_MAX 512

enum { C_PLATE, C_OWNER, C_UNIT, C_PHONE, C_N };

/* One CSV record from *p (end e) into fields (each FIELD_MAX bytes, cut;
 * *cut set when one was longer); the number of fields, or -1 for an
 * unterminated quote. *p moves past the record's line end. */
static int record(const char **p, const char *e, char (*f)[FIELD_MAX], int max,
		  int *cut)
{
	const char *s = *p;
	int n = 0;
	size_t k = 0;
	int quoted = 0, any = 0;

	*cut = 0;
	if (max > 0)
		f[0][0] = '\0';
	while (s < e) {
		char c = *s++;

		if (quoted) {
			if (c == '"' && s < e && *s == '"') {
				s++;
			} else if (c == '"') {
				quoted = 0;
				continue;
			}
		} else if (c == '"') {
			quoted = 1;
			any = 1;
			continue;
		} else if (c == ',') {
			n++;
			k = 0;
			if (n < max)
				f[n][0] = '\0';
			continue;
		} else if (c == '\n' || c == '\r') {
			if (c == '\r' && s < e && *s == '\n')
				s++;
			break;
		}
		any = 1;
		if (n < max && k + 1 < FIELD_MAX) {
			f[n][k++] = c;
			f[n][k] = '\0';
		} else if (n < max) {
			*cut = 1;
		}
	}
	*p = s;
	if (quoted)
		return -1;
	return any || n ? n + 1 : 0;
}

/* s without leading and trailing blanks, in place. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Valid UTF-8 without control characters. */
static int text_ok(const char *s)
{
	uint32_t cp[FIELD_MAX];
	int n = fl_utf8_decode(s, cp, FIELD_MAX);

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (cp[i] < 0x20 || cp[i] == 0x7f)
			return 0;
	return 1;
}

static int plate_norm(const char *in, char *out, size_t len)
{
	size_t k = 0;

	for (const char *s = in; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == ' ' || c == '-' || c == '.')
			continue;
		/* the middle dot (U+00B7) some write after the office letter */
		if (c == 0xc2 && (unsigned char)s[1] == 0xb7) {
			s++;
			continue;
		}
		if (k + 1 >= len)
			return -1;
		out[k++] = (char)(c < 0x80 ? toupper(c) : c);
	}
	out[k] = '\0';
	return fl_plate_shape(out) == FL_PLATE_SHAPE_NONE ? -1 : 0;
}

static int phone_norm(const char *in, char *out, size_t len)
{
	size_t k = 0, digits = 0;

	for (const char *s = in; *s; s++) {
		if (*s == '+' && k == 0) {
			out[k++] = '+';
		} else if (*s >= '0' && *s <= '9') {
			if (k + 1 >= len)
				return -1;
			out[k++] = *s;
			digits++;
		} else if (!strchr(" -()", *s)) {
			return -1;
		}
	}
	out[k] = '\0';
	return digits >= 7 && digits <= 15 ? 0 : -1;
}

static void report(char *err, size_t errlen, int *nbad, long row,
		   const char *why)
{
	size_t n = err ? strlen(err) : 0;

	if (err && *nbad < REPORT_MAX && n < errlen)
		snprintf(err + n, errlen - n, "%srow %ld: %s", n ? "; " : "",
			 row, why);
	else if (err && *nbad == REPORT_MAX && n < errlen)
		snprintf(err + n, errlen - n, "; ...");
	(*nbad)++;
}

/* Column indexes of the header's names into col (-1: missing). */
static int header(char (*f)[FIELD_MAX], int n, int *col, char *err,
		  size_t errlen)
{
	static const char *const names[C_N][2] = {
		{ "plate", NULL },
		{ "owner", NULL },
		{ "unit", "building/unit" },
		{ "phone", NULL },
	};

	for (int c = 0; c < C_N; c++)
		col[c] = -1;
	for (int i = 0; i < n && i < COLS_MAX; i++) {
		char *h = trim(f[i]);

		for (char *q = h; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		for (int c = 0; c < C_N; c++)
			if (col[c] < 0 &&
			    (!strcmp(h, names[c][0]) ||
			     (names[c][1] && !strcmp(h, names[c][1]))))
				col[c] = i;
	}
	for (int c = 0; c < C_N; c++)
		if (col[c] < 0) {
			snprintf(err, errlen,
				 "row 1: the header must name the columns "
				 "plate, owner, unit and phone (%s missing)",
				 names[c][0]);
			return FL_EFORMAT;
		}
	return 0;
}

int hub_register_parse(const char *text, size_t len, hub_register *out,
		       char *err, size_t errlen)
{
	const char *p = text, *e = text + len;
	int col[C_N], nbad = 0, cut, n, rc;
	long row = 0;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!text) {
		snprintf(err, errlen, "no text");
		return FL_EFORMAT;
	}
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	{
		char(*g)[FIELD_MAX] = malloc(sizeof(char[COLS_MAX][FIELD_MAX]));

		if (!g)
			return FL_ENOMEM;
		/* the header: the first line with anything on it */
		do {
			row++;
			n = record(&p, e, g, COLS_MAX, &cut);
		} while (n == 0 && p < e);
		if (n <= 0) {
			snprintf(err, errlen,
				 n < 0 ? "row %ld: a quote is not closed"
				       : "row %ld: no header",
				 row);
			free(g);
			return FL_EFORMAT;
		}
		if ((rc = header(g, n, col, err, errlen)) < 0) {
			free(g);
			return rc;
		}
		while (p < e) {
			hub_resident r;
			const char *why = NULL;
			char *v[C_N];

			row++;
			n = record(&p, e, g, COLS_MAX, &cut);
			if (n == 0)
				continue;
			if (n < 0) {
				report(err, errlen, &nbad, row,
				       "a quote is not closed");
				break;
			}
			memset(&r, 0, sizeof(r));
			for (int c = 0; c < C_N; c++)
				v[c] = col[c] < n ? trim(g[col[c]]) : "";
			if (cut)
				why = "a field is too long";
			else if (plate_norm(v[C_PLATE], r.plate,
					    sizeof(r.plate)) < 0)
				why = "plate: not a plate (docs/plate-model.md)";
			else if (!*v[C_OWNER] || !text_ok(v[C_OWNER]) ||
				 strlen(v[C_OWNER]) >= sizeof(r.owner))
				why = "owner: empty, too long or not UTF-8 text";
			else if (!*v[C_UNIT] || !text_ok(v[C_UNIT]) ||
				 strlen(v[C_UNIT]) >= sizeof(r.unit))
				why = "unit: empty, too long or not UTF-8 text";
			else if (phone_norm(v[C_PHONE], r.phone,
					    sizeof(r.phone)) < 0)
				why = "phone: 7..15 digits (spaces, dashes, "
				      "brackets and a leading + allowed)";
			for (size_t i = 0; !why && i < out->n; i++)
				if (!strcmp(out->rows[i].plate, r.plate))
					why = "plate: listed twice";
			if (why) {
				report(err, errlen, &nbad, row, why);
				continue;
			}
			snprintf(r.owner, sizeof(r.owner), "%s", v[C_OWNER]);
			snprintf(r.unit, sizeof(r.unit), "%s", v[C_UNIT]);
			if (out->n == HUB_REGISTER_MAX_ROWS) {
				snprintf(err, errlen, "more than %d rows",
					 HUB_REGISTER_MAX_ROWS);
				free(g);
				hub_register_free(out);
				return FL_ERANGE;
			}
			if (out->n == cap) {
				size_t nc = cap ? 2 * cap : 64;
				hub_resident *nr = realloc(out->rows,
							   nc * sizeof(*nr));

				if (!nr) {
					free(g);
					hub_register_free(out);
					return FL_ENOMEM;
				}
				out->rows = nr;
				cap = nc;
			}
			out->rows[out->n++] = r;
		}
		free(g);
	}
	if (nbad) {
		hub_register_free(out);
		return FL_EFORMAT;
	}
	return (int)out->n;
}

void hub_register_free(hub_register *reg)
{
	if (!reg)
		return;
	free(reg->rows);
	memset(reg, 0, sizeof(*reg));
}

void hub_phone_mask(const char *phone, char *out, size_t outlen)
{
	size_t n = phone ? strlen(phone) : 0, k = 0;
	size_t head = n >= 8 ? 3 : 0, tail = n >= 8 ? 4 : (n > 2 ? 2 : 0);

	if (!outlen)
		return;
	for (size_t i = 0; i < n && k + 1 < outlen; i++)
		out[k++] = i < head || i >= n - tail ? phone[i] : '*';
	out[k] = '\0';
}
