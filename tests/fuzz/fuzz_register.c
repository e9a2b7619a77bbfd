/*
 * fuzz_register.c - the resident register's CSV parser (src/hub/register.c)
 * and the phone mask on arbitrary bytes. What must hold, besides never
 * crashing: a parse that succeeds gives that many rows, each with a plate
 * of a plate's shape, non-empty owner and unit, a phone of 7..15 digits,
 * and no plate twice; one that fails gives no rows and a reason; the mask
 * of a phone keeps its length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl.h"
#include "register.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz_register: %s:%d: %s\n",          \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hub_register reg;
	char err[1024], m[HUB_PHONE_MAX];
	int n = hub_register_parse((const char *)data, size, &reg, err,
				   sizeof(err));

	if (n < 0) {
		CHECK(reg.n == 0 && reg.rows == NULL && err[0]);
		return 0;
	}
	CHECK((size_t)n == reg.n);
	for (size_t i = 0; i < reg.n; i++) {
		const hub_resident *r = &reg.rows[i];
		size_t digits = strspn(r->phone + (r->phone[0] == '+'),
				       "0123456789");

		CHECK(fl_plate_shape(r->plate) != FL_PLATE_SHAPE_NONE);
		CHECK(r->owner[0] && r->unit[0]);
		CHECK(digits >= 7 && digits <= 15 &&
		      digits + (r->phone[0] == '+') == strlen(r->phone));
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(reg.rows[j].plate, r->plate));
		hub_phone_mask(r->phone, m, sizeof(m));
		CHECK(strlen(m) == strlen(r->phone));
	}
	hub_register_free(&reg);
	return 0;
}
