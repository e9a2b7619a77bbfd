/*
 * nonce.h - which commands are fresh: the time window and the nonces seen
 * in it (docs/mqtt.md, "Commands": "Signed, timed, used once"). Pure: the
 * time is passed in.
 *
 * A command carries the hub's wall clock ("time", unix seconds) and a
 * nonce (16-64 lowercase hex digits, random). The edge takes it only when
 * its time is within window_s of its own clock (either side: clocks
 * drift) and its nonce has not been taken before; a nonce is remembered
 * until a command of its time would be stale anyway, so the memory is
 * bounded by the commands of one window (FL_NONCES_MAX).
 *
 * fl_nonces is plain caller-owned data (about 80 KB): zero it to start.
 * Its text form (fl_nonces_write / fl_nonces_read) lets the edge keep it
 * across a restart, so a command replayed just after one is still
 * refused.
 */
#ifndef FL_NONCE_H
#define FL_NONCE_H

#include <stddef.h>

#define FL_NONCE_MAX 65     /* 64 hex digits + NUL */
#define FL_NONCE_MIN_LEN 16 /* 64 bits at least */
#define FL_NONCES_MAX 1024  /* commands remembered at once */
#define FL_NONCE_WINDOW_S 300.0

typedef struct fl_nonce_seen {
	double time; /* the command's time */
	char nonce[FL_NONCE_MAX];
} fl_nonce_seen;

typedef struct fl_nonces {
	fl_nonce_seen e[FL_NONCES_MAX];
	size_t n;
} fl_nonces;

/* 1 when s is 16..64 lowercase hex digits. */
int fl_nonce_ok(const char *s);

/*
 * Is a command of this time and nonce fresh at now? 0: yes, and the
 * nonce is remembered from now on. Otherwise nothing is remembered and err
 * says why:
 *   FL_EFORMAT  the nonce is not 16..64 lowercase hex digits, or the time
 *               is not a finite number;
 *   FL_ERANGE   stale: time is more than window_s from now (either way);
 *   FL_EEXIST   replayed: the nonce was taken already;
 *   FL_EFULL    FL_NONCES_MAX fresh nonces are held (a flood).
 * Forgets what has expired first.
 */
int fl_nonces_check(fl_nonces *w, const char *nonce, double time, double now,
		    double window_s, char *err, size_t errlen);

/* The nonces as text, one "TIME NONCE\n" line each. snprintf semantics. */
size_t fl_nonces_write(const fl_nonces *w, char *buf, size_t len);

/* Read that text (len bytes, not NUL-terminated) into a zeroed w, keeping
 * the lines still within the window at now; bad lines are skipped. The
 * number of nonces kept. */
size_t fl_nonces_read(fl_nonces *w, const char *text, size_t len, double now,
		      double window_s);

#endif /* FL_NONCE_H */
