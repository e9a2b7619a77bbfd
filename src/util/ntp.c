/*
 * ntp.c - the one adjtimex(2) call (clock.h, fl__adjtimex): alone in its
 * file so that a test can link its own instead.
 */
#include "clock.h"

#include <sys/timex.h>

int fl__adjtimex(struct timex *tx)
{
	return adjtimex(tx);
}
