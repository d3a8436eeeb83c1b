/*
 * cli - what the administration commands share.
 *
 * cli_init() sets up diagnostics for a command run by a person (messages
 * on stderr, "panacea/NAME: fatal: ..." and exit 1 on errors, or the
 * sysexits.h code given with msg_set_fatal_status) and loads the
 * configuration from -c DIR, $MAIL_CONFIG or the default.
 * cli_open_queue() opens the queue environment as mail_owner, as every
 * process must (DESIGN.md): as root the command first becomes mail_owner
 * for good; an ordinary user gets a clear error unless they are
 * mail_owner (the development instance); queue_owner.h is that step
 * alone, for the test suite's fixtures too.
 *
 * Every command answers --help (usage on stdout, exit 0) and refuses bad
 * arguments with its usage line on stderr and exit status EX_USAGE (64):
 * cli_help() and cli_usage().
 *
 * Requests to daemons go over $queue_directory/public/ (ordinary users
 * never open the queue): cli_qmgr_request() writes one qmgr_proto.h
 * request; cli_queue_listing() prints the showq listing (showq.h) in
 * mailq's format or as postqueue -j's JSON lines; cli_newaliases() builds
 * every hash: table of alias_maps.
 */
#ifndef PANACEA_CLI_H
#define PANACEA_CLI_H

#include <stdio.h>

#include "buf.h"
#include "queue.h"

void cli_init(const char *argv0, const char *config_dir);
struct queue *cli_open_queue(void);

/* When argv[1] is "--help": prints "usage: TEXT" on stdout, exits 0. */
void cli_help(int argc, char **argv, const char *usage);
/* Prints "usage: TEXT" on stderr and exits EX_USAGE. */
_Noreturn void cli_usage(const char *usage);
/* After getopt(3), for a command that takes one operand or more: usage
 * when there is none (optind >= argc), else cli_init(). */
void cli_init_operands(int argc, char **argv, const char *usage,
		       const char *config_dir);

/* $queue_directory/public/NAME */
void cli_public_path(struct buf *out, const char *name);
/* Sends one flush request ("F", "S<site>", "I<id>") to qmgr, waiting
 * longer than a daemon's wakeup would (a user asked for it); 0 or -1.
 * A wakeup is qmgr_wakeup() (qmgr_request.h). */
int cli_qmgr_request(const char *request);
/* Non-zero when master runs for this configuration (its pid file is
 * locked); *pid gets its pid when known. */
int cli_master_running(long *pid);

enum cli_listing { CLI_LIST_MAILQ, CLI_LIST_JSON };
/* Prints the queue listing; returns an exit status (EX_OK, or
 * EX_UNAVAILABLE when neither showq nor the queue can be read). */
int cli_queue_listing(enum cli_listing how);
/* The pure part: formats a showq listing (data, len) onto fp; 0, or -1
 * for a malformed or incomplete listing. */
int cli_format_listing(const char *data, size_t len, enum cli_listing how,
		       FILE *fp);

/* Builds the hash: tables of alias_maps from their text files; returns
 * an exit status. */
int cli_newaliases(void);

#endif
