/*
 * cli - what the administration commands share.
 *
 * cli_init() sets up diagnostics for a command run by a person (messages
 * on stderr, "panacea/NAME: fatal: ..." and exit 1 on errors, exit codes
 * per sysexits.h where a command documents them) and loads the
 * configuration from -c DIR, $MAIL_CONFIG or the default.
 * cli_open_queue() opens the queue environment as mail_owner, as every
 * process must (DESIGN.md): as root the command first becomes mail_owner
 * for good; an ordinary user gets a clear error unless they are
 * mail_owner (the development instance).
 */
#ifndef PANACEA_CLI_H
#define PANACEA_CLI_H

#include "queue.h"

void cli_init(const char *argv0, const char *config_dir);
struct queue *cli_open_queue(void);

#endif
