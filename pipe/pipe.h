/*
 * pipe - Postfix's pipe(8): delivery to an external command named in the
 * services table (maildrop, dovecot-lda, mailman, spamc...).
 *
 *   pipe.c          main, the request from qmgr (deliver_proto.h), one
 *                   command per request (or per recipient with D or O),
 *                   the statuses and the log lines
 *   pipe_args.c     the service's attributes (flags=, user=, argv=, ...)
 *                   and the expansion of argv's macros: pure, unit-tested
 *   pipe_message.c  the message as the command reads it (flags F R O D
 *                   . > B, eol=)
 *
 * The command runs through lib/mail/pipe_command.h, the runner local(8)
 * uses for its commands too.
 *
 * Privileges (DESIGN.md, "Privileges and chroot"): pipe runs as root,
 * unjailed (services: unpriv n, chroot n, as Postfix's line "pipe unix -
 * n n - - pipe"), because it must start commands as user=, which is
 * never root, never a group 0 and never mail_owner.  It never opens the
 * queue (rule 2): qmgr passes the content as a sealed memory file with
 * the request.  It takes requests only from root and mail_owner (qmgr),
 * checked with SO_PEERCRED, and parses nothing a client sent but the
 * request, through the strict codec (deliver_request.h).
 */
#ifndef PANACEA_PIPE_H
#define PANACEA_PIPE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* flags= */
#define PIPE_FLAG_B 0x001    /* blank line at the end */
#define PIPE_FLAG_D 0x002    /* Delivered-To: */
#define PIPE_FLAG_F 0x004    /* From_ line */
#define PIPE_FLAG_O 0x008    /* X-Original-To: */
#define PIPE_FLAG_R 0x010    /* Return-Path: */
#define PIPE_FLAG_X 0x020    /* final delivery */
#define PIPE_FLAG_h 0x040    /* fold domains to lower case */
#define PIPE_FLAG_q 0x080    /* quote local parts (RFC 822) */
#define PIPE_FLAG_u 0x100    /* fold local parts to lower case */
#define PIPE_FLAG_DOT 0x200  /* "." before a line that starts with "." */
#define PIPE_FLAG_FROM 0x400 /* ">" before "From " */

struct pipe_attrs {
	unsigned flags;
	char *user;  /* user=NAME[:GROUP]: the name */
	char *group; /* the group, or NULL */
	char **argv; /* argv=: the words after it, unexpanded */
	size_t argc;
	long long size_limit; /* size=, 0 for none */
	char *eol;	      /* eol=, decoded; "\n" by default */
	char *null_sender;    /* null_sender=, "MAILER-DAEMON" by default */
	char *directory;      /* directory=, NULL for queue_directory */
};

/* The service's arguments (daemon_argv() without argv[0]): 0, or -1
 * with err set (an unknown attribute or flag, a missing user= or argv=,
 * chroot=, which Panacea does not do, a malformed value, an argv= macro
 * that does not exist). */
int pipe_attrs_parse(char **args, size_t n, struct pipe_attrs *a,
		     struct buf *err);
void pipe_attrs_free(struct pipe_attrs *a);

struct pipe_rcpt {
	const char *address;
	const char *orig; /* the address before rewriting, or "" */
};

/* What argv's macros expand to. */
struct pipe_macros {
	const char *sender; /* "" for the null sender */
	const char *nexthop;
	const char *queue_id;
	const char *client_address;
	long long size;
	const char *delimiter; /* recipient_delimiter */
	const struct pipe_rcpt *rcpts;
	size_t nrcpt;
};

/* argv= with its macros expanded (an argument with a recipient macro
 * becomes one argument per recipient): a NULL-terminated vector for
 * pipe_argv_free().  0, or -1 with err set (an unknown macro). */
int pipe_argv_expand(const struct pipe_attrs *a, const struct pipe_macros *m,
		     char ***out, struct buf *err);
void pipe_argv_free(char **argv);

/* The message as the command reads it: the content as queued (CRLF
 * lines) with the headers and transformations flags ask for, lines ended
 * by a->eol.  rcpt is the recipient for D and O. */
void pipe_message(const struct pipe_attrs *a, const char *sender,
		  const struct pipe_rcpt *rcpt, const char *content, size_t len,
		  struct buf *out);

#endif
