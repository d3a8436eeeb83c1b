/*
 * local_status - a recipient's delivery status (local.h): class, DSN
 * code and text, as the reply and the log line carry them.  Apart from
 * local.c so that the unit tests of local's parts link it
 * (tests/unit/local/).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "local.h"

#define LOCAL_TEXT_MAX 1024 /* status text in the reply and the log */

void
local_status_init(struct local_status *st)
{
	memset(st, 0, sizeof(*st));
	st->cls = 4;
	strcpy(st->dsn, "4.3.0");
}

void
local_status_free(struct local_status *st)
{
	buf_free(&st->text);
}

void
local_status_set(struct local_status *st, int cls, const char *dsn,
		 const char *fmt, ...)
{
	va_list ap;

	st->cls = cls;
	snprintf(st->dsn, sizeof(st->dsn), "%s", dsn);
	buf_reset(&st->text);
	va_start(ap, fmt);
	buf_vprintf(&st->text, fmt, ap);
	va_end(ap);
	if (st->text.len > LOCAL_TEXT_MAX)
		buf_truncate(&st->text, LOCAL_TEXT_MAX);
}

void
local_status_why(struct local_status *st, const char *why)
{
	size_t n = strcspn(why, " ");
	char dsn[16];

	if (n < 5 || n >= sizeof(dsn) || (why[0] != '4' && why[0] != '5')) {
		local_status_set(st, 4, "4.3.0", "%s", why);
		return;
	}
	memcpy(dsn, why, n);
	dsn[n] = '\0';
	local_status_set(st, why[0] - '0', dsn, "%s",
			 why[n] ? why + n + 1 : "");
}

void
local_status_copy(struct local_status *dst, const struct local_status *src)
{
	local_status_set(dst, src->cls, src->dsn, "%s", buf_cstr(&src->text));
}
