/*
 * panqueue - the user's queue command, as Postfix's postqueue.
 *
 * panqueue [-c config_dir] -p | -j | -f | -s site | -i queue_id
 *
 *   -p  lists the queue in mailq's format (also "mailq", "sendmail -bp");
 *   -j  lists it as one JSON object per message, as postqueue -j;
 *   -f  flushes: every message not on hold is tried now;
 *   -s  flushes the messages for one destination (domain);
 *   -i  delivers one message now.
 * Any local user may list and flush: the listing comes from the showq
 * service and the flush requests go to qmgr (public/qmgr), so nobody but
 * mail_owner opens the queue.
 * Exit status: 0; 64 (EX_USAGE) for bad arguments; 69 (EX_UNAVAILABLE)
 * when the mail system is down.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "queue.h"

#define USAGE "panqueue [-c config_dir] -p | -j | -f | -s site | -i queue_id"
#define SITE_MAX 255

int
main(int argc, char **argv)
{
	const char *config_dir = NULL, *arg = NULL;
	struct buf req = BUF_INIT;
	int action = 0, c, status = EX_OK;

	cli_help(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "c:pjfs:i:v")) != -1) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'p':
		case 'j':
		case 'f':
		case 's':
		case 'i':
			if (action && action != c)
				cli_usage(USAGE);
			action = c;
			arg = optarg;
			break;
		case 'v':
			break;
		default:
			cli_usage(USAGE);
		}
	}
	if (action == 0 || optind != argc)
		cli_usage(USAGE);
	if (action == 's' &&
	    (*arg == '\0' || strlen(arg) > SITE_MAX || strpbrk(arg, " \t\r\n")))
		cli_usage(USAGE);
	if (action == 'i' && !queue_id_valid(arg)) {
		fprintf(stderr, "panqueue: bad queue id: %s\n", arg);
		cli_usage(USAGE);
	}
	cli_init(argv[0], config_dir);
	switch (action) {
	case 'p':
		return cli_queue_listing(CLI_LIST_MAILQ);
	case 'j':
		return cli_queue_listing(CLI_LIST_JSON);
	case 'f':
		buf_puts(&req, "F");
		break;
	case 's':
		buf_printf(&req, "S%s", arg);
		break;
	case 'i':
		buf_printf(&req, "I%s", arg);
		break;
	}
	if (cli_qmgr_request(buf_cstr(&req)) < 0) {
		fprintf(stderr, "panqueue: fatal: Cannot flush mail queue - "
				"mail system is down\n");
		status = EX_UNAVAILABLE;
	}
	buf_free(&req);
	return status;
}
