/*
 * test.h - the checks the unit tests share. Each test file is its own
 * executable (ctest runs each in its own process with a timeout). A failed
 * check prints file:line and the expression, and the typed checks both
 * values; it counts the failure and the test goes on, so one run reports
 * every failed check; TEST_DONE() at the end of main() makes the exit
 * status non-zero.
 *
 *   CHECK(cond)                         a condition
 *   CHECK_MSG(cond, fmt, ...)           a condition, with a message of your
 *                                       own (its arguments are evaluated only
 *                                       when the check fails)
 *   CHECK_EQ_INT(a, b)                  integers as long long; also _NE_,
 *                                       _LT_, _LE_, _GT_ and _GE_ (a double
 *                                       or a pointer does not compile)
 *   CHECK_EQ_DBL(a, b, tol)             |a - b| <= tol; a NaN never passes
 *   CHECK_STREQ(a, b), CHECK_STRNE      C strings; NULL only equals NULL
 *   CHECK_NULL(p), CHECK_NOT_NULL(p)    pointers
 *
 * The typed checks (as libuv's test/task.h) evaluate each side once. Every
 * check is an expression worth 1 when it holds and 0 when it fails, so a
 * test that cannot go on without it says
 *
 *   if (!CHECK_NOT_NULL(f))
 *           return;
 */
#ifndef FL_TEST_H
#define FL_TEST_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond) check__bool(!!(cond), #cond, __FILE__, __LINE__)

#define CHECK_MSG(cond, ...)                                                   \
	((cond) ? 1 : check__msg(#cond, __FILE__, __LINE__, __VA_ARGS__))

#define CHECK_EQ_INT(a, b) CHECK__INT(a, CHECK__EQ, b)
#define CHECK_NE_INT(a, b) CHECK__INT(a, CHECK__NE, b)
#define CHECK_LT_INT(a, b) CHECK__INT(a, CHECK__LT, b)
#define CHECK_LE_INT(a, b) CHECK__INT(a, CHECK__LE, b)
#define CHECK_GT_INT(a, b) CHECK__INT(a, CHECK__GT, b)
#define CHECK_GE_INT(a, b) CHECK__INT(a, CHECK__GE, b)

#define CHECK_EQ_DBL(a, b, tol)                                                \
	check__dbl((double)(a), (double)(b), (double)(tol), #a, #b, __FILE__,  \
		   __LINE__)
/* The name the tests used before CHECK_EQ_DBL: the same check. */
#define CHECK_NEAR(a, b, tol) CHECK_EQ_DBL(a, b, tol)

#define CHECK_STREQ(a, b) check__str(a, b, 1, #a, #b, __FILE__, __LINE__)
#define CHECK_STRNE(a, b) check__str(a, b, 0, #a, #b, __FILE__, __LINE__)

#define CHECK_NULL(p) check__ptr(p, 1, #p, __FILE__, __LINE__)
#define CHECK_NOT_NULL(p) check__ptr(p, 0, #p, __FILE__, __LINE__)

#define TEST_DONE()                                                            \
	do {                                                                   \
		if (test_failures) {                                           \
			fprintf(stderr, "%d check(s) failed\n",                \
				test_failures);                                \
			return 1;                                              \
		}                                                              \
		printf("all checks passed\n");                                 \
		return 0;                                                      \
	} while (0)

/* ---- behind the macros --------------------------------------------------- */

enum check__op {
	CHECK__EQ,
	CHECK__NE,
	CHECK__LT,
	CHECK__LE,
	CHECK__GT,
	CHECK__GE
};

#define CHECK__INT(a, op, b)                                                   \
	check__int(CHECK__INTEGER(a), op, CHECK__INTEGER(b), #a, #b, __FILE__, \
		   __LINE__)

/* x itself, unless it is a floating-point number: then a void expression,
 * so that CHECK_EQ_INT(0.5, 0) does not compile (it would pass, both
 * truncated to 0); a pointer does not convert to long long either.
 * (clang-format 14 takes _Generic's associations for labels.) */
/* clang-format off */
#define CHECK__INTEGER(x)                                                      \
	_Generic((x), float: (void)0, double: (void)0, long double: (void)0,   \
		 default: (x))
/* clang-format on */

/* Each returns 1 when the check holds; otherwise it prints the failure,
 * counts it and returns 0. */
static inline int check__bool(int ok, const char *expr, const char *file,
			      int line)
{
	if (ok)
		return 1;
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
	test_failures++;
	return 0;
}

__attribute__((format(printf, 4, 5))) static inline int
check__msg(const char *expr, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: check failed: %s: ", file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	test_failures++;
	return 0;
}

static inline int check__int(long long a, enum check__op op, long long b,
			     const char *ea, const char *eb, const char *file,
			     int line)
{
	static const char *const sym[] = { "==", "!=", "<", "<=", ">", ">=" };
	/* -1, 0 or 1 as a is below, equal to or above b */
	int cmp = (a > b) - (a < b);
	int ok = op == CHECK__EQ   ? cmp == 0
		 : op == CHECK__NE ? cmp != 0
		 : op == CHECK__LT ? cmp < 0
		 : op == CHECK__LE ? cmp <= 0
		 : op == CHECK__GT ? cmp > 0
				   : cmp >= 0;

	if (ok)
		return 1;
	fprintf(stderr, "%s:%d: check failed: %s %s %s (%lld vs %lld)\n", file,
		line, ea, sym[op], eb, a, b);
	test_failures++;
	return 0;
}

static inline int check__dbl(double a, double b, double tol, const char *ea,
			     const char *eb, const char *file, int line)
{
	if (fabs(a - b) <= tol) /* false when either is a NaN */
		return 1;
	fprintf(stderr,
		"%s:%d: check failed: %s == %s within %g (%.17g vs %.17g)\n",
		file, line, ea, eb, tol, a, b);
	test_failures++;
	return 0;
}

/* equal 1: CHECK_STREQ, 0: CHECK_STRNE. */
static inline int check__str(const char *a, const char *b, int equal,
			     const char *ea, const char *eb, const char *file,
			     int line)
{
	int same = a && b ? !strcmp(a, b) : a == b;
	const char *qa = a ? "\"" : "", *qb = b ? "\"" : "";

	if (same == equal)
		return 1;
	fprintf(stderr, "%s:%d: check failed: %s %s %s (%s%s%s vs %s%s%s)\n",
		file, line, ea, equal ? "==" : "!=", eb, qa, a ? a : "NULL", qa,
		qb, b ? b : "NULL", qb);
	test_failures++;
	return 0;
}

/* null 1: CHECK_NULL, 0: CHECK_NOT_NULL. */
static inline int check__ptr(const void *p, int null, const char *ep,
			     const char *file, int line)
{
	if ((p == NULL) == null)
		return 1;
	fprintf(stderr, "%s:%d: check failed: %s %s NULL (%p)\n", file, line,
		ep, null ? "==" : "!=", p);
	test_failures++;
	return 0;
}

#endif /* FL_TEST_H */
