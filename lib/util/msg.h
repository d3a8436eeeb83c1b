/*
 * msg - diagnostics and logging.
 *
 * One line per event, in the shape Postfix's tools expect:
 *   "Nov 28 18:55:13 HOST panacea/smtpd[PID]: connect from ..."
 * Warnings, errors and fatal/panic messages carry the Postfix prefixes
 * "warning: ", "error: ", "fatal: " and "panic: ".
 *
 * Destinations:
 *  - until msg_log_to() is called, lines go to stderr as
 *    "panacea/PROG: fatal: text" (what a user sees on a bad config line);
 *  - msg_log_to(NULL or "") logs through syslog, facility mail, ident
 *    "panacea/PROG", opened at once so that it keeps working after chroot;
 *  - msg_log_to("-") writes full log lines to stderr;
 *  - msg_log_to(PATH) appends full log lines to PATH, opened at once (before
 *    chroot) with O_APPEND; each line is one write(2), so lines of
 *    concurrent processes never interleave.  A PATH it creates is
 *    MSG_MAILLOG_MODE (0640), group MSG_MAILLOG_GROUP (adm) when made by
 *    root and the group exists; an existing file is left as it is.
 * msg_also_stderr(1) additionally copies every line to stderr in the short
 * form (command-line tools do this).
 *
 * msg_fatal() runs the cleanup hook, then exits with status 1 (or the code
 * set by msg_set_fatal_status); msg_panic() aborts (core dump).  Neither
 * returns.  Lines are bounded (long texts are truncated, never overflowed);
 * msg never allocates, so it is safe from the out-of-memory path.
 */
#ifndef PANACEA_MSG_H
#define PANACEA_MSG_H

#include <stdarg.h>

#define MSG_PRINTF(f, a) __attribute__((format(printf, f, a)))

extern int msg_verbose;

#define MSG_MAILLOG_MODE 0640
#define MSG_MAILLOG_GROUP "adm"

/* progname is the short name ("smtpd"); the ident becomes panacea/progname. */
void msg_init(const char *progname);
/* The ident's first part, "panacea" unless syslog_name says otherwise
 * ("panacea/submission" makes "panacea/submission/smtpd"); call it before
 * msg_log_to(). */
void msg_set_syslog_name(const char *name);
/* Returns 0, or -1 with errno set when PATH cannot be opened. */
int msg_log_to(const char *maillog_file);
void msg_also_stderr(int on);
void msg_set_cleanup(void (*cleanup)(void));
void msg_set_fatal_status(int status);
const char *msg_progname(void);

void msg_info(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_error(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_debug(const char *fmt, ...) MSG_PRINTF(1, 2);
_Noreturn void msg_fatal(const char *fmt, ...) MSG_PRINTF(1, 2);
_Noreturn void msg_panic(const char *fmt, ...) MSG_PRINTF(1, 2);
void msg_vlog(int priority, const char *fmt, va_list ap) MSG_PRINTF(2, 0);

#endif
