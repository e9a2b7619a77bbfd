/*
 * test.h - the few macros the unit tests share. Each test file is its own
 * executable (ctest runs each in its own process with a timeout); a failed
 * check prints file:line and the expression, and the run exits non-zero.
 */
#ifndef FL_TEST_H
#define FL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures;

#define CHECK(cond)                                                      \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n",     \
				__FILE__, __LINE__, #cond);              \
			test_failures++;                                 \
		}                                                        \
	} while (0)

#define CHECK_MSG(cond, ...)                                             \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: check failed: %s: ",     \
				__FILE__, __LINE__, #cond);              \
			fprintf(stderr, __VA_ARGS__);                    \
			fprintf(stderr, "\n");                           \
			test_failures++;                                 \
		}                                                        \
	} while (0)

#define CHECK_NEAR(a, b, tol) \
	CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%g vs %g", \
		  (double)(a), (double)(b))

#define TEST_DONE()                                                      \
	do {                                                             \
		if (test_failures) {                                     \
			fprintf(stderr, "%d check(s) failed\n",          \
				test_failures);                          \
			return 1;                                        \
		}                                                        \
		printf("all checks passed\n");                           \
		return 0;                                                \
	} while (0)

#endif /* FL_TEST_H */
