/*
 * pancat - show a queued message, as Postfix's postcat -q does.
 *
 * pancat [-c DIR] [-e] [-h] [-b] QUEUEID ...
 *
 * Without -e/-h/-b it prints the envelope records, then the message
 * contents, between postcat's "*** ... ***" markers.  -e prints only the
 * envelope, -h only the header section, -b only the body; -hb prints the
 * message exactly as stored (byte for byte, what tests compare).
 * Exit status: 0, 1 when a queue id is unknown or malformed, 64 (EX_USAGE)
 * for bad arguments.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "msg.h"
#include "queue.h"

#define SHOW_ENV 1
#define SHOW_HEAD 2
#define SHOW_BODY 4

static const char *const state_names[] = {"pending", "deferred", "delivered",
					  "bounced", "expired"};

static void
print_envelope(const struct queue_envelope *env)
{
	time_t t = (time_t)env->arrival_sec;
	char when[64];

	strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", localtime(&t));
	printf("*** ENVELOPE RECORDS %s ***\n", env->id);
	printf("message_size: %llu\n", (unsigned long long)env->size);
	printf("message_arrival_time: %s\n", when);
	printf("sender: %s\n", env->sender);
	printf("client_name: %s\nclient_address: %s\nhelo_name: %s\n",
	       env->client_name, env->client_addr, env->helo);
	printf("protocol_name: %s\n", env->protocol);
	if (*env->auth_user)
		printf("sasl_username: %s\n", env->auth_user);
	if (*env->envid)
		printf("dsn_envid: %s\n", env->envid);
	if (env->ret)
		printf("dsn_ret: %s\n",
		       env->ret == QUEUE_RET_FULL ? "FULL" : "HDRS");
	printf("hold: %s\n", env->hold ? "yes" : "no");
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];
		printf("recipient: %s\n", r->address);
		if (*r->orcpt)
			printf("  original_recipient: %s\n", r->orcpt);
		if (r->notify)
			printf("  dsn_notify: %u\n", r->notify);
		printf("  state: %s, attempts: %u", state_names[r->state],
		       r->attempts);
		if (*r->dsn)
			printf(", status: %s (%s)", r->dsn, r->text);
		printf("\n");
	}
}

/* Writes the part of the content selected by what: the header section
 * ends with the first empty line (LF or CRLF), which belongs to it.  The
 * state carries across chunks, so a CRLF split by a chunk boundary is
 * still seen. */
static int
print_content(struct queue *q, const char *id, int what)
{
	struct queue_content *rd = queue_content_open(q, id);
	struct buf chunk = BUF_INIT;
	int in_header = 1, line_len = 0, r;

	while ((r = queue_content_read(rd, &chunk)) == 1) {
		for (size_t i = 0; i < chunk.len; i++) {
			char c = chunk.data[i];
			if ((in_header ? what & SHOW_HEAD : what & SHOW_BODY))
				putchar(c);
			if (!in_header)
				continue;
			if (c == '\n') {
				/* An empty line: only "\n" or "\r\n". */
				if (line_len == 0)
					in_header = 0;
				line_len = 0;
			} else if (!(c == '\r' && line_len == 0)) {
				line_len++;
			}
		}
	}
	queue_content_close(rd);
	buf_free(&chunk);
	return r < 0 ? -1 : 0;
}

#define USAGE "pancat [-c config_dir] [-e] [-h] [-b] queue_id ..."

int
main(int argc, char **argv)
{
	const char *config_dir = NULL;
	int what = 0, c, status = 0;
	struct queue *q;

	cli_help(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "c:ehbq")) != -1) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'e':
			what |= SHOW_ENV;
			break;
		case 'h':
			what |= SHOW_HEAD;
			break;
		case 'b':
			what |= SHOW_BODY;
			break;
		case 'q':
			/* postcat -q: ids are queue ids (always, here). */
			break;
		default:
			cli_usage(USAGE);
		}
	}
	cli_init_operands(argc, argv, USAGE, config_dir);
	if (what == 0)
		what = SHOW_ENV | SHOW_HEAD | SHOW_BODY;
	q = cli_open_queue();
	for (int i = optind; i < argc; i++) {
		struct queue_envelope env;
		if (!queue_id_valid(argv[i]) ||
		    queue_envelope_get(q, argv[i], &env) != QUEUE_OK) {
			msg_warn("%s: no such message in the queue", argv[i]);
			status = 1;
			continue;
		}
		if (what & SHOW_ENV)
			print_envelope(&env);
		if ((what & SHOW_ENV) && (what & (SHOW_HEAD | SHOW_BODY)))
			printf("*** MESSAGE CONTENTS %s ***\n", env.id);
		fflush(stdout);
		if ((what & (SHOW_HEAD | SHOW_BODY)) &&
		    print_content(q, argv[i], what) < 0)
			status = 1;
		if (what & SHOW_ENV)
			printf("*** END OF MESSAGE %s ***\n", env.id);
		queue_envelope_free(&env);
	}
	fflush(stdout);
	queue_close(q);
	return status;
}
