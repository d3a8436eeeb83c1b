/*
 * cli_common - set-up shared by the commands; see cli.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "queue_owner.h"
#include "conf.h"
#include "msg.h"
#include "qmgr_request.h"

#define CLI_CONNECT_MS 5000

void
cli_init(const char *argv0, const char *config_dir)
{
	const char *slash = strrchr(argv0, '/');

	msg_init(slash ? slash + 1 : argv0);
	conf_load(conf_choose_dir(config_dir), NULL, 0);
	msg_set_syslog_name(conf_str("syslog_name"));
}

void
cli_help(int argc, char **argv, const char *usage)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: %s\n", usage);
		exit(EX_OK);
	}
}

_Noreturn void
cli_usage(const char *usage)
{
	fprintf(stderr, "usage: %s\n", usage);
	exit(EX_USAGE);
}

void
cli_init_operands(int argc, char **argv, const char *usage,
		  const char *config_dir)
{
	if (optind >= argc)
		cli_usage(usage);
	cli_init(argv[0], config_dir);
}

struct queue *
cli_open_queue(void)
{
	return queue_open_as_owner();
}

void
cli_public_path(struct buf *out, const char *name)
{
	buf_printf(out, "%s/public/%s", conf_str("queue_directory"), name);
}

int
cli_qmgr_request(const char *request)
{
	return qmgr_request(conf_str("queue_directory"), request,
			    CLI_CONNECT_MS);
}

int
cli_master_running(long *pid)
{
	struct buf path = BUF_INIT;
	struct flock fl;
	char text[32];
	ssize_t n;
	int fd, running = 0;

	buf_printf(&path, "%s/pid/master.pid", conf_str("queue_directory"));
	fd = open(buf_cstr(&path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	buf_free(&path);
	if (fd < 0)
		return 0;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
		running = 1;
		if (pid) {
			*pid = fl.l_pid;
			/* Another pid namespace: the kernel says 0. */
			if (*pid <= 0 &&
			    (n = pread(fd, text, sizeof(text) - 1, 0)) > 0) {
				text[n] = '\0';
				*pid = strtol(text, NULL, 10);
			}
		}
	}
	close(fd);
	return running;
}
