/*
 * msg - diagnostics and logging; see msg.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"

#define MSG_LINE_MAX 4096

enum msg_dest { DEST_BOOT, DEST_SYSLOG, DEST_FD };

int msg_verbose;

static char msg_ident[128] = "panacea";
static const char *msg_prog = "panacea";
static char msg_host[256] = "localhost";
static enum msg_dest msg_dest = DEST_BOOT;
static int msg_fd = -1;
static int msg_stderr_copy;
static int msg_fatal_status = 1;
static void (*msg_cleanup)(void);

void
msg_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	msg_prog = slash ? slash + 1 : progname;
	snprintf(msg_ident, sizeof(msg_ident), "panacea/%s", msg_prog);
	if (gethostname(msg_host, sizeof(msg_host)) != 0)
		snprintf(msg_host, sizeof(msg_host), "localhost");
	msg_host[sizeof(msg_host) - 1] = '\0';
	/* Log lines use the short host name, as syslog does. */
	msg_host[strcspn(msg_host, ".")] = '\0';
}

void
msg_set_syslog_name(const char *name)
{
	if (name == NULL || *name == '\0')
		name = "panacea";
	snprintf(msg_ident, sizeof(msg_ident), "%s/%s", name, msg_prog);
}

const char *
msg_progname(void)
{
	return msg_prog;
}

/*
 * Opens maillog_file for appending.  A file made here is 0640, and group
 * adm when root makes it and that group exists (Debian's group for reading
 * logs, as rsyslog gives /var/log/mail.log): client addresses, senders
 * and recipients are not for every local user.  The mode is set on the
 * descriptor, whatever the umask.  A file that exists keeps the owner and
 * mode the administrator gave it.
 */
static int
open_maillog(const char *path)
{
	struct group *adm;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC,
		  MSG_MAILLOG_MODE);
	if (fd < 0 && errno == EEXIST)
		return open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Best effort: on failure the file stays the creator's group, or
	 * the umask's stricter mode, which is never more open. */
	if (geteuid() == 0 && (adm = getgrnam(MSG_MAILLOG_GROUP)) != NULL &&
	    fchown(fd, (uid_t)-1, adm->gr_gid) < 0)
		errno = 0;
	if (fchmod(fd, MSG_MAILLOG_MODE) < 0)
		errno = 0;
	return fd;
}

int
msg_log_to(const char *maillog_file)
{
	int fd;

	if (maillog_file == NULL || *maillog_file == '\0') {
		openlog(msg_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
		msg_dest = DEST_SYSLOG;
		return 0;
	}
	if (strcmp(maillog_file, "-") == 0) {
		fd = dup(STDERR_FILENO);
	} else {
		fd = open_maillog(maillog_file);
	}
	if (fd < 0)
		return -1;
	if (fd <= STDERR_FILENO) {
		/* Keep the log off the standard descriptors a child reuses. */
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		if (moved < 0)
			return -1;
		fd = moved;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* The same number means the old descriptor was closed behind our
	 * back (a forked child closing what it inherited) and reused. */
	if (msg_fd >= 0 && msg_fd != fd)
		close(msg_fd);
	msg_fd = fd;
	msg_dest = DEST_FD;
	return 0;
}

void
msg_also_stderr(int on)
{
	msg_stderr_copy = on;
}

void
msg_set_cleanup(void (*cleanup)(void))
{
	msg_cleanup = cleanup;
}

void
msg_set_fatal_status(int status)
{
	msg_fatal_status = status;
}

static const char *
msg_prefix(int priority)
{
	switch (priority) {
	case LOG_WARNING:
		return "warning: ";
	case LOG_ERR:
		return "error: ";
	case LOG_CRIT:
		return "fatal: ";
	case LOG_EMERG:
		return "panic: ";
	default:
		return "";
	}
}

static void
msg_write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

/* Short form for a human at a terminal: "panacea/PROG: warning: text". */
static void
msg_to_stderr(const char *prefix, const char *text)
{
	char line[MSG_LINE_MAX + 128];
	int n;

	n = snprintf(line, sizeof(line), "%s: %s%s\n", msg_ident, prefix, text);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	msg_write_all(STDERR_FILENO, line, (size_t)n);
}

static void
msg_to_fd(const char *prefix, const char *text)
{
	char line[MSG_LINE_MAX + 512];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s%s\n", stamp,
		     msg_host, msg_ident, (long)getpid(), prefix, text);
	if (n > (int)sizeof(line) - 1) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	msg_write_all(msg_fd, line, (size_t)n);
}

void
msg_vlog(int priority, const char *fmt, va_list ap)
{
	char text[MSG_LINE_MAX];
	int saved_errno = errno;
	const char *prefix = msg_prefix(priority);
	char *p;

	vsnprintf(text, sizeof(text), fmt, ap);
	/* One event, one line: never let data split a log record. */
	for (p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	switch (msg_dest) {
	case DEST_BOOT:
		msg_to_stderr(prefix, text);
		break;
	case DEST_SYSLOG:
		syslog(priority == LOG_EMERG ? LOG_CRIT : priority, "%s%s",
		       prefix, text);
		break;
	case DEST_FD:
		msg_to_fd(prefix, text);
		break;
	}
	if (msg_stderr_copy && msg_dest != DEST_BOOT)
		msg_to_stderr(prefix, text);
	errno = saved_errno;
}

#define MSG_BODY(pri)                                                          \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		msg_vlog(pri, fmt, ap);                                        \
		va_end(ap);                                                    \
	} while (0)

void
msg_info(const char *fmt, ...)
{
	MSG_BODY(LOG_INFO);
}

void
msg_warn(const char *fmt, ...)
{
	MSG_BODY(LOG_WARNING);
}

void
msg_error(const char *fmt, ...)
{
	MSG_BODY(LOG_ERR);
}

void
msg_debug(const char *fmt, ...)
{
	if (msg_verbose)
		MSG_BODY(LOG_DEBUG);
}

void
msg_fatal(const char *fmt, ...)
{
	static int dying;

	MSG_BODY(LOG_CRIT);
	if (!dying++ && msg_cleanup)
		msg_cleanup();
	fflush(stdout);
	_exit(msg_fatal_status);
}

void
msg_panic(const char *fmt, ...)
{
	MSG_BODY(LOG_EMERG);
	abort();
}
