/*
 * test_check.c - the checks of test.h themselves: a check that cannot fail
 * would make every test that uses it pass whatever the code does.
 *
 * Each typed check runs once on values that hold and once on values that do
 * not, with stderr sent to a temporary file: a holding check returns 1,
 * prints nothing and counts nothing; a failing one returns 0, counts one
 * failure and prints file:line, the expression and both values. The
 * failures provoked here are taken back from test_failures before the
 * next case, so only a check of the checks can fail this test.
 */
#include "test.h"

#include <unistd.h>

static FILE *captured;
static int saved_stderr = -1;

/* From here to the next finish(), what the checks print goes to a file. */
static void start(void)
{
	fflush(stderr);
	captured = tmpfile();
	saved_stderr = dup(STDERR_FILENO);
	if (!captured || saved_stderr < 0 ||
	    dup2(fileno(captured), STDERR_FILENO) < 0) {
		perror("test_check: capturing stderr");
		exit(1);
	}
}

/* Ends the capture; out gets what was printed (NUL-terminated). */
static void finish(char *out, size_t size)
{
	size_t n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	rewind(captured);
	n = fread(out, 1, size - 1, captured);
	out[n] = 0;
	fclose(captured);
}

/*
 * expect(ok, failures, printed, want_ok, want_printed): the outcome of one
 * check made between start() and finish(). want_printed NULL: nothing may
 * be printed; else the output must contain it. The failures the check
 * counted are taken back.
 */
static int verdicts;

static void expect(const char *what, int ok, int failures, const char *printed,
		   int want_ok, const char *want_printed)
{
	int good = ok == want_ok && failures == !want_ok &&
		   (want_printed ? strstr(printed, want_printed) != NULL
				 : printed[0] == 0);

	test_failures -= failures;
	verdicts++;
	if (!good) {
		fprintf(stderr,
			"test_check: %s: returned %d, counted %d, printed "
			"'%s'; want %d and '%s'\n",
			what, ok, failures, printed, want_ok,
			want_printed ? want_printed : "");
		test_failures++;
	}
}

/* TRY(expr, want_ok, want_printed): run one check and judge it. */
#define TRY(expr, want_ok, want_printed)                                       \
	do {                                                                   \
		char out_[512];                                                \
		int before_ = test_failures, ok_;                              \
		start();                                                       \
		ok_ = (expr);                                                  \
		finish(out_, sizeof(out_));                                    \
		expect(#expr, ok_, test_failures - before_, out_, want_ok,     \
		       want_printed);                                          \
	} while (0)

int main(void)
{
	long n = 3;
	double third = 1.0 / 3;
	const char *none = NULL, *word = "lane-a";
	int evaluated = 0;

	TRY(CHECK(n == 3), 1, NULL);
	TRY(CHECK(n == 4), 0, "test_check.c:");
	TRY(CHECK(n == 4), 0, ": check failed: n == 4\n");
	TRY(CHECK_MSG(n == 3, "n %ld", n), 1, NULL);
	TRY(CHECK_MSG(n == 4, "n is %ld", n), 0,
	    "check failed: n == 4: n is 3\n");
	/* the message's arguments only when the check fails */
	TRY(CHECK_MSG(n == 3, "%d", evaluated++), 1, NULL);
	TRY(CHECK_EQ_INT(evaluated, 0), 1, NULL);

	TRY(CHECK_EQ_INT(n, 3), 1, NULL);
	TRY(CHECK_EQ_INT(n + 1, 3), 0, "check failed: n + 1 == 3 (4 vs 3)\n");
	TRY(CHECK_NE_INT(n, 4), 1, NULL);
	TRY(CHECK_NE_INT(n, 3), 0, "n != 3 (3 vs 3)");
	TRY(CHECK_LT_INT(-1, 0), 1, NULL);
	TRY(CHECK_LT_INT(0, -1), 0, "0 < -1 (0 vs -1)");
	TRY(CHECK_LE_INT(n, 3), 1, NULL);
	TRY(CHECK_LE_INT(n, 2), 0, "n <= 2 (3 vs 2)");
	TRY(CHECK_GT_INT(n, 2), 1, NULL);
	TRY(CHECK_GT_INT(n, 3), 0, "n > 3 (3 vs 3)");
	TRY(CHECK_GE_INT(n, 3), 1, NULL);
	TRY(CHECK_GE_INT(n, 4), 0, "n >= 4 (3 vs 4)");
	/* each side evaluated once */
	TRY(CHECK_EQ_INT(n++, 3), 1, NULL);
	TRY(CHECK_EQ_INT(n, 4), 1, NULL);

	TRY(CHECK_EQ_DBL(third * 3, 1, 1e-12), 1, NULL);
	TRY(CHECK_EQ_DBL(third, 0.3, 0.01), 0,
	    "third == 0.3 within 0.01 (0.33333333333333331 vs 0.29999999999999999)");
	TRY(CHECK_EQ_DBL(NAN, NAN, 1), 0, "(nan vs nan)");
	TRY(CHECK_NEAR(third, 0.3, 0.05), 1, NULL);

	TRY(CHECK_STREQ(word, "lane-a"), 1, NULL);
	TRY(CHECK_STREQ(word, "lane-b"), 0,
	    "word == \"lane-b\" (\"lane-a\" vs \"lane-b\")");
	TRY(CHECK_STREQ(none, "lane-a"), 0, "(NULL vs \"lane-a\")");
	TRY(CHECK_STREQ(none, NULL), 1, NULL);
	TRY(CHECK_STRNE(word, "lane-b"), 1, NULL);
	TRY(CHECK_STRNE(word, "lane-a"), 0, "word != \"lane-a\"");
	TRY(CHECK_STRNE(none, word), 1, NULL);

	TRY(CHECK_NULL(none), 1, NULL);
	TRY(CHECK_NULL(word), 0, "check failed: word == NULL (0x");
	TRY(CHECK_NOT_NULL(word), 1, NULL);
	TRY(CHECK_NOT_NULL(none), 0, "check failed: none != NULL (");

	printf("%d verdicts on the checks\n", verdicts);
	TEST_DONE();
}
