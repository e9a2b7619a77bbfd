/*
 * fuzz_eval.c - firelane-eval's parsers and scorer on arbitrary bytes.
 *
 * Input: GROUND-TRUTH-JSON, then optionally "\n==\n" and EVENTS-JSONL. Without
 * the separator the same bytes are tried as both. Whatever parses is scored,
 * so the matcher also sees odd but valid inputs (NaN-free by JSON, but huge
 * numbers, empty zones, thousands of alarms in one window). Must never crash,
 * leak or trip a sanitizer; errors are fine. The truth is also cut, and the
 * events scored as a restart, at a time the first byte picks.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "score.h"
#include "truth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *sep = NULL;
	size_t gt_len = size, ev_off = 0;
	eval_truth truth;
	eval_events ev = { 0 };
	eval_figures f;
	char err[256];
	int rt, re;

	for (size_t i = 0; i + 4 <= size; i++)
		if (memcmp(text + i, "\n==\n", 4) == 0) {
			sep = text + i;
			break;
		}
	if (sep) {
		gt_len = (size_t)(sep - text);
		ev_off = gt_len + 4;
	}

	rt = eval_truth_parse(text, gt_len, "fuzz.json", &truth, err,
			      sizeof(err));
	re = eval_events_parse(text + ev_off, size - ev_off, "fuzz.jsonl", &ev,
			       err, sizeof(err));
	if (rt == 0) {
		eval_truth cut;
		/* a cut and a restart somewhere inside the clip, picked by
		 * the input so both see every kind of boundary */
		double at = truth.duration_s * (size ? data[0] / 255.0 : 0.5);

		eval_score(&truth, ev.v, ev.n, &f);
		eval_figures_add(&f, &f);
		eval_figures_finish(&f);
		if (eval_truth_cut(&truth, at, &cut) == 0)
			eval_score(&cut, ev.v, ev.n, &f);
		eval_truth_free(&cut);
		eval_score_restart(&truth, ev.v, ev.n, at, &f);
	}
	(void)re;
	eval_events_free(&ev);
	eval_truth_free(&truth);
	return 0;
}
