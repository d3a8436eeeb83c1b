/*
 * panacea trace [-H HOSTNAME] [FILE] - the path of a delivered message
 * (FILE, or the standard input): one line per Received: hop and per
 * Authentication-Results: field, marked "ours" when this host wrote it
 * (trustworthy) or "outside" (anyone upstream could have written it);
 * lib/mail/trace.h says how.  This host is myhostname, which is also its
 * authserv-id, unless -H names another (a message delivered elsewhere).
 * Only the header section is read, at most TRACE_READ_MAX bytes.  Exit
 * status: 0; 1 when the input cannot be read; 64 (EX_USAGE) bad
 * arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "panacea.h"
#include "trace.h"

#define TRACE_READ_MAX (4 * 1024 * 1024)

int
panacea_trace(int argc, char **argv)
{
	const char *host = NULL, *path = NULL;
	struct buf msg = BUF_INIT, out = BUF_INIT;
	char chunk[8192];
	FILE *fp;
	size_t n;
	int i = 0;

	if (argc >= 2 && strcmp(argv[0], "-H") == 0) {
		host = argv[1];
		i = 2;
	}
	if (argc - i > 1 ||
	    (argc - i == 1 && argv[i][0] == '-' && argv[i][1] != '\0'))
		return EX_USAGE;
	if (argc - i == 1 && strcmp(argv[i], "-") != 0)
		path = argv[i];
	if (host == NULL)
		host = conf_str("myhostname");
	fp = path ? fopen(path, "r") : stdin;
	if (fp == NULL) {
		fprintf(stderr, "panacea: fatal: open %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	/* The header section ends at the first empty line. */
	while (msg.len < TRACE_READ_MAX &&
	       (n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		buf_append(&msg, chunk, n);
		if (memmem(msg.data, msg.len, "\n\n", 2) ||
		    memmem(msg.data, msg.len, "\n\r\n", 3))
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "panacea: fatal: read %s: %s\n",
			path ? path : "standard input", strerror(errno));
		if (path)
			fclose(fp);
		buf_free(&msg);
		return 1;
	}
	if (path)
		fclose(fp);
	trace_message(msg.data ? msg.data : "", msg.len, host, &out);
	fputs(buf_cstr(&out), stdout);
	buf_free(&msg);
	buf_free(&out);
	return fflush(stdout) == 0 ? 0 : 1;
}
