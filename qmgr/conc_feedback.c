/*
 * conc_feedback - the per-destination concurrency window; see
 * conc_feedback.h.
 */
#include <string.h>

#include "conc_feedback.h"

/* Sums of thirds and sevenths are not exact in binary: a run of 1/N
 * feedback must still add up to one whole step after N deliveries. */
#define CONC_EPSILON 1e-9

static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A plain decimal number (digits with at most one point, at least one
 * digit); *end after it.  -1 when there is none. */
static int
parse_number(const char *s, double *out, const char **end)
{
	double v = 0, scale = 1;
	int digits = 0, point = 0;

	for (; *s; s++) {
		if (*s == '.' && !point) {
			point = 1;
		} else if (*s >= '0' && *s <= '9') {
			digits++;
			if (point) {
				scale /= 10;
				v += (*s - '0') * scale;
			} else {
				v = v * 10 + (*s - '0');
			}
		} else {
			break;
		}
	}
	if (digits == 0)
		return -1;
	*out = v;
	*end = s;
	return 0;
}

int
conc_feedback_parse(const char *text, struct conc_feedback *out)
{
	const char *s = skip_blanks(text), *word;
	double num, den;

	if (parse_number(s, &num, &s) < 0)
		return -1;
	s = skip_blanks(s);
	if (*s == '\0') {
		if (num > 1)
			return -1;
		out->value = num;
		out->per_window = 0;
		return 0;
	}
	if (*s != '/')
		return -1;
	s = skip_blanks(s + 1);
	word = "concurrency";
	if (strncmp(s, word, strlen(word)) == 0) {
		s = skip_blanks(s + strlen(word));
		if (*s != '\0' || num > 1)
			return -1;
		out->value = num;
		out->per_window = 1;
		return 0;
	}
	/* The quotient is the value: 2/4 is 0.5. */
	if (parse_number(s, &den, &s) < 0 || den == 0 || num > den)
		return -1;
	if (*skip_blanks(s) != '\0')
		return -1;
	out->value = num / den;
	out->per_window = 0;
	return 0;
}

double
conc_feedback_amount(const struct conc_feedback *f, int window)
{
	if (!f->per_window)
		return f->value;
	return f->value / (window > 1 ? window : 1);
}

static int
initial_window(const struct conc_params *p)
{
	int n = p->initial < p->limit ? p->initial : p->limit;

	return n > 1 ? n : 1;
}

void
conc_window_init(struct conc_window *w, const struct conc_params *p)
{
	w->window = initial_window(p);
	w->success = 0;
	w->failure = 0;
	w->fail_cohorts = 0;
}

double
conc_window_success(struct conc_window *w, const struct conc_params *p,
		    int busy)
{
	double g;

	w->fail_cohorts = 0;
	if (w->window >= p->limit) {
		w->window = p->limit;
		return 0;
	}
	if (w->window >= busy + initial_window(p))
		return 0;
	g = conc_feedback_amount(&p->positive, w->window);
	w->success += g;
	/* Growth comes at the end of a run of 1/g successes. */
	while (w->success >= 1 - CONC_EPSILON) {
		w->window++;
		w->success -= 1;
		w->failure = 0;
	}
	if (w->success < 0)
		w->success = 0;
	if (w->window > p->limit)
		w->window = p->limit;
	return g;
}

int
conc_window_failure(struct conc_window *w, const struct conc_params *p,
		    double *applied)
{
	double f = conc_feedback_amount(&p->negative, w->window);

	if (applied)
		*applied = 0;
	w->fail_cohorts += 1.0 / w->window;
	if (p->cohort_limit > 0 &&
	    w->fail_cohorts >= p->cohort_limit - CONC_EPSILON)
		return 1;
	if (applied)
		*applied = f;
	/* Shrinking comes at the start of a run of 1/f failures: the
	 * failure count goes below zero at the first one. */
	w->failure -= f;
	while (w->failure < -CONC_EPSILON) {
		w->window--;
		w->failure += 1;
		w->success = 0;
	}
	if (w->failure < 0)
		w->failure = 0;
	if (w->window < 1)
		w->window = 1;
	return 0;
}
