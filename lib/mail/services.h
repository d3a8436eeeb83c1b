/*
 * services - the master.cf-like service table ($config_directory/services).
 *
 * One service a line, columns separated by white space:
 *   service type private unpriv chroot wakeup maxproc command [args...]
 * '#' starts a comment line; a line starting with white space continues
 * the previous one.  type is "inet", "unix" or "pass" (Postfix's unix-dgram
 * and fifo are an error that says why).  A pass service listens on a
 * unix socket like a unix service; each connection to it carries one
 * client connection's descriptor (SCM_RIGHTS), which the program serves
 * as if it had accepted it (postscreen hands clean clients to smtpd so).  From
 * the command's arguments on, "{ text }" is one argument: the text without the
 * braces and the blanks inside them ("-o { name = value with spaces }").
 * private/unpriv/chroot are
 * y or n, '-' meaning the default (y, y, y).  wakeup is a number of
 * seconds, optionally followed by '?' (wake only once used), or '-' / 0
 * for none; only unix services take one.  maxproc is a number (0 = no
 * limit) or '-' for default_maxproc.  command is a program name in
 * daemon_directory, or an absolute path.  (name, type) must be unique.
 *
 * An inet service's name is "port", "host:port", "*:port" or
 * "[ipv6]:port", where port is 1..65535 or a name from /etc/services
 * (only its shape is checked here); a unix or pass service's name is the
 * socket's file name under private/ or public/ (private = n means public/):
 * letters, digits, '.', '_', '-', not starting with '.'.
 *
 * Errors are reported as "file:line: message" (the line a logical line
 * starts on) and nothing is kept: the table is overwritten (free a previous
 * one first) and left empty.  Files over 1 MiB are refused.
 */
#ifndef PANACEA_SERVICES_H
#define PANACEA_SERVICES_H

#include "buf.h"

enum service_type { SERVICE_INET, SERVICE_UNIX, SERVICE_PASS };

struct service_def {
	char *name;
	enum service_type type;
	int is_private;
	int unpriv;
	int chroot;
	int wakeup;	    /* seconds; 0 = none */
	int wakeup_if_used; /* "300?" */
	int maxproc;	    /* 0 = unlimited */
	int argc;
	char **argv; /* argv[0] = command; NULL-terminated */
	int lineno;
	char *text; /* the joined line, for change detection on reload */
};

struct service_table {
	struct service_def *items;
	size_t count;
};

/* 0 on success; -1 with "file:line: message" in err.  A missing file
 * is an error unless missing_ok. */
int services_read(const char *path, int default_maxproc, int missing_ok,
		  struct service_table *table, struct buf *err);
/* Parses text as if it were the file named path. */
int services_parse(const char *path, const char *text, int default_maxproc,
		   struct service_table *table, struct buf *err);
void services_free(struct service_table *table);
/* The service with this name and type, or NULL. */
const struct service_def *services_find(const struct service_table *table,
					const char *name,
					enum service_type type);
/* 1 when two definitions would run the same way (all columns and args). */
int service_same(const struct service_def *a, const struct service_def *b);
const char *service_type_name(enum service_type type);

#endif
