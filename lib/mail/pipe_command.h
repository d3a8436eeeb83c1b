/*
 * pipe_command - runs one external command for a delivery and tells what
 * became of it, for every agent that hands mail to a program: local(8)'s
 * |command aliases and mailbox_command, and pipe(8).
 *
 * The command is executed directly (argv[0] a path; the caller puts a
 * shell in front when it wants one) in its own session, with the
 * environment it is given, standard input the descriptor it is given (a
 * memory file holding the message as the command reads it, so that a
 * command that reads only part of it never blocks the agent) and
 * standard output and error on a pipe (and no other descriptor: master's
 * status pipe, the listeners and the client's connection stay with the
 * agent), of which the first
 * PIPE_COMMAND_OUTPUT_MAX bytes are kept.  When uid is not (uid_t)-1 the
 * child switches to (uid, gid) for good in every uid before the exec
 * (pipe(8) runs as root; local's children have switched already).  The
 * whole process group is killed when time_limit seconds have passed.
 *
 * What became of it maps to a delivery status as Postfix maps it: exit 0
 * is delivered; an exit status of <sysexits.h> gets its enhanced status
 * code (EX_TEMPFAIL and EX_OSERR temporary, the others permanent); an
 * exit status outside it is 5.3.0, a signal or the time limit 4.3.0;
 * and when the output of a failed command starts with an enhanced status
 * code "4.X.Y" or "5.X.Y", that code decides instead of the exit status.
 */
#ifndef PANACEA_PIPE_COMMAND_H
#define PANACEA_PIPE_COMMAND_H

#include <sys/types.h>

#include "buf.h"

#define PIPE_COMMAND_OUTPUT_MAX 512
#define PIPE_COMMAND_SHOW_MAX 200 /* bytes of a command in a status text */

struct pipe_command {
	char *const *argv; /* argv[0]: the program's path */
	char *const *env;
	int in_fd;	 /* the command's standard input */
	const char *cwd; /* "" or NULL: the caller's; else chdir there */
	int cwd_or_root; /* cwd unreachable: "/" instead of a deferral */
	uid_t uid;	 /* (uid_t)-1: stay who we are */
	gid_t gid;
	int time_limit;	  /* seconds */
	const char *what; /* the command as status texts name it */
};

/* The outcome: cls 2, 4 or 5, dsn its enhanced code, text the reason
 * (for a failure: Postfix's "Command died with status N: "what". Command
 * output: ..."); for success text is the command's output, made
 * printable, possibly empty.  Returns cls. */
int pipe_command_run(const struct pipe_command *pc, char dsn[16],
		     struct buf *text);

/* The enhanced status code and class of a <sysexits.h> exit status: 4 or
 * 5, with dsn set ("5.3.0" for a status outside sysexits). */
int pipe_command_exit_dsn(int code, char dsn[16]);

/* Makes a command's output one printable line (control characters to
 * spaces, trailing blanks gone). */
void pipe_command_clean(struct buf *output);

#endif
