/*
 * conc_feedback - how many deliveries qmgr runs at once to one
 * destination: the concurrency window and its feedback (Postfix 2.5's
 * scheduler, as postconf(5) and SCHEDULER_README describe it).
 *
 * A destination starts with a window of initial_destination_concurrency
 * deliveries (never above its concurrency limit).  Each delivery that
 * ends without a failure of the destination as a whole (qmgr.h: the
 * agent failed, or every recipient was deferred for a network reason)
 * is positive feedback: g is added to a success count, and each whole
 * unit of it widens the window by one, up to the limit.  With g = 1 the
 * window doubles every pseudo-cohort (as many deliveries as the window);
 * with g = 1/concurrency it grows by one per pseudo-cohort.  A failure is
 * negative feedback f, applied the other way round: the window shrinks
 * by one at the first failure of a run of 1/f, not at its end, so that an
 * overloaded server is relieved at once; it never shrinks below 1.
 * Every failure also adds 1/window to a count of failed pseudo-cohorts,
 * which a success resets; when that count reaches the failed-cohort
 * limit (0: never), the destination is dead: its queued deliveries are
 * deferred and nothing is tried for minimal_backoff_time, after which it
 * starts again from the initial window.
 *
 * Growth is only earned while the window is in use: a success widens it
 * only while it is below the deliveries in flight plus the initial
 * window, so that a destination that never has more than one delivery
 * at a time does not drift to its limit and then hit a server with a
 * burst (the "safety" rule of SCHEDULER_README).
 *
 * Pure arithmetic on plain structures, no I/O; qmgr_sched.c keeps one
 * window per destination, tests/unit/test_conc_feedback.c checks the
 * sequences.
 */
#ifndef PANACEA_CONC_FEEDBACK_H
#define PANACEA_CONC_FEEDBACK_H

/* An amount of feedback per delivery: value, divided by the window when
 * per_window is set ("1/concurrency"). */
struct conc_feedback {
	double value; /* 0..1 */
	int per_window;
};

/* A transport's settings (the TRANSPORT_* parameters, or the defaults). */
struct conc_params {
	int initial; /* >= 1; a value above limit counts as limit */
	int limit;   /* >= 1 */
	struct conc_feedback positive, negative;
	int cohort_limit; /* failed pseudo-cohorts before dead; 0: never */
};

/* One destination's state. */
struct conc_window {
	int window; /* deliveries allowed at once, 1..limit */
	double success, failure, fail_cohorts;
};

/* Parses a feedback value: "number", "number/number" or
 * "number/concurrency", blanks allowed around "/", every number and the
 * result in 0..1.  0, or -1 for anything else. */
int conc_feedback_parse(const char *text, struct conc_feedback *out);
/* The amount for a window of window deliveries. */
double conc_feedback_amount(const struct conc_feedback *f, int window);

/* A destination's first window (also after a dead spell). */
void conc_window_init(struct conc_window *w, const struct conc_params *p);
/* A delivery ended without a failure of the destination; busy is the
 * number of its deliveries in flight, this one included.  Returns the
 * feedback applied (0 when none: the window is at its limit or not in
 * use). */
double conc_window_success(struct conc_window *w, const struct conc_params *p,
			   int busy);
/* A delivery ended with a failure of the destination.  Returns 1 when the
 * destination is now dead (the caller suspends it and starts it again
 * with conc_window_init), else 0; *applied (may be NULL) gets the
 * negative feedback applied. */
int conc_window_failure(struct conc_window *w, const struct conc_params *p,
			double *applied);

#endif
