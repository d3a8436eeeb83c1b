/*
 * delivery_log - the delivery-status log line (delivery_log.h).
 */
#include <math.h>
#include <string.h>
#include <sys/time.h>

#include "conf.h"
#include "delivery_log.h"
#include "msg.h"
#include "strutil.h"
#include "xtext.h"

#define USEC_PER_SEC 1000000LL

/* The significant digits of a delay below one second. */
#define DELAY_SIG_DIGITS_UNIT 100 /* two digits: 10^2 units */

void
delivery_log_delay(struct buf *out, long long usec, int decimals)
{
	long long sec, frac, unit = USEC_PER_SEC, place;

	if (usec < 0)
		usec = 0;
	if (decimals < 0)
		decimals = 0;
	if (decimals > DELIVERY_LOG_DECIMALS_MAX)
		decimals = DELIVERY_LOG_DECIMALS_MAX;
	for (int i = 0; i < decimals; i++)
		unit /= 10;
	sec = usec / USEC_PER_SEC;
	frac = usec % USEC_PER_SEC;
	/* unit: the value of the last digit printed, in microseconds. */
	if (decimals > 0) {
		if (sec >= 10)
			unit = USEC_PER_SEC;
		else if (sec >= 1)
			unit = USEC_PER_SEC / 10;
		else
			while (frac >= DELAY_SIG_DIGITS_UNIT * unit)
				unit *= 10;
	}
	frac += unit / 2;
	if (frac >= USEC_PER_SEC) {
		sec++;
		frac -= USEC_PER_SEC;
	}
	buf_printf(out, "%lld", sec);
	if (frac < unit)
		return;
	buf_putc(out, '.');
	/* Digits while what is left is worth printing: no trailing zeros. */
	for (place = USEC_PER_SEC / 10; place > 0 && frac >= unit;
	     place /= 10) {
		buf_putc(out, (char)('0' + frac / place));
		frac %= place;
	}
}

/* From stamp a to stamp b, in microseconds, never negative. */
static long long
span(double a, double b)
{
	double d = (b - a) * 1e6;

	/* Nearest microsecond (doubles near today's epoch carry about a
	 * quarter of one); a NaN or a negative span is 0. */
	return isfinite(d) && d > 0 ? (long long)(d + 0.5) : 0;
}

static double
now_sec(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void
delivery_log_format(struct buf *out, const struct delivery_event *ev,
		    int decimals)
{
	double end = ev->done > 0 ? ev->done : now_sec();
	long long a, b = 0, c = 0, d = 0;

	if (ev->active > 0) {
		a = span(ev->arrival, ev->active);
		if (ev->handoff > 0) {
			b = span(ev->active, ev->handoff);
			if (ev->conn_setup > 0) {
				c = span(ev->handoff, ev->conn_setup);
				d = span(ev->conn_setup, end);
			} else {
				d = span(ev->handoff, end);
			}
		} else {
			b = span(ev->active, end);
		}
	} else {
		a = span(ev->arrival, end);
	}
	buf_printf(out, "%s: to=<%s>", ev->queue_id, ev->to);
	if (ev->orig_to && *ev->orig_to && str_casecmp(ev->orig_to, ev->to))
		buf_printf(out, ", orig_to=<%s>", ev->orig_to);
	buf_printf(out, ", relay=%s, delay=", ev->relay);
	delivery_log_delay(out, span(ev->arrival, end), decimals);
	buf_puts(out, ", delays=");
	delivery_log_delay(out, a, decimals);
	buf_putc(out, '/');
	delivery_log_delay(out, b, decimals);
	buf_putc(out, '/');
	delivery_log_delay(out, c, decimals);
	buf_putc(out, '/');
	delivery_log_delay(out, d, decimals);
	buf_printf(out, ", dsn=%s, status=%s (%s)", ev->dsn, ev->status,
		   ev->text ? ev->text : "");
}

void
delivery_log(const struct delivery_event *ev)
{
	/* Read once: a line is logged per recipient, and a process loads
	 * its configuration once, at start (daemon.c), so it cannot change. */
	static int limit = -1;
	struct buf line = BUF_INIT;

	if (limit < 0)
		limit = (int)conf_int("delay_logging_resolution_limit");
	delivery_log_format(&line, ev, limit);
	msg_info("%s", buf_cstr(&line));
	buf_free(&line);
}

void
delivery_log_orcpt(struct buf *out, const char *orcpt)
{
	const char *semi = strchr(orcpt, ';');
	const char *x = semi ? semi + 1 : orcpt;

	buf_reset(out);
	if (xtext_decode(out, x, strlen(x)) < 0) {
		buf_reset(out);
		buf_puts(out, x);
	}
	for (size_t i = 0; i < out->len; i++)
		if ((unsigned char)out->data[i] < 0x20 ||
		    (unsigned char)out->data[i] == 0x7f)
			out->data[i] = '?';
}

const char *
delivery_log_status(int cls)
{
	return cls == 2 ? "sent" : cls == 5 ? "bounced" : "deferred";
}
