/*
 * ps_dnsbl - postscreen_dnsbl_sites and the lookups of one client.
 *
 * An entry is "zone[=filter][*weight]" (Postfix's syntax): the filter is
 * smtpd's reply filter (dnsbl.h), the weight an integer, 1 when absent,
 * negative for an allowlist.  A site that lists the client adds its
 * weight once, whatever number of addresses it answers with.
 *
 * The lookups of lib/mail/dns are synchronous, and postscreen serves
 * every client in one event loop, so the lookups of a client run in a
 * child process forked for it, which asks every site in turn (each with
 * the resolver's timeout, postscreen_dnsbl_timeout) and writes one line,
 * "SCORE ZONE\n", on a pipe the session reads in its event loop.  The
 * child holds nothing of the client but its address and exits after the
 * line; the session kills it when the greet wait is over first.  (Postfix
 * asks its dnsblog(8) service, a process per query; a child per client
 * costs one fork and keeps the lookups in parallel with the greet wait,
 * which is what the test needs.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dns.h"
#include "dnsbl.h"
#include "iostuff.h"
#include "msg.h"
#include "postscreen.h"
#include "strutil.h"
#include "xalloc.h"

static int
parse_weight(const char *s, int *weight)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < -1000000 ||
	    v > 1000000)
		return -1;
	*weight = (int)v;
	return 0;
}

int
ps_dnsbl_sites_parse(const char *value, struct ps_dnsbl_sites *sites,
		     struct buf *err)
{
	char **words = str_split(value, ", \t\r\n", NULL);
	int rc = 0;

	memset(sites, 0, sizeof(*sites));
	for (size_t i = 0; words[i] != NULL && rc == 0; i++) {
		struct ps_dnsbl_site site = {NULL, NULL, 1};
		char *w = words[i], *star, *eq;

		if ((star = strrchr(w, '*')) != NULL) {
			if (parse_weight(star + 1, &site.weight) < 0) {
				buf_printf(err, "\"%s\": bad weight \"%s\"", w,
					   star + 1);
				rc = -1;
				break;
			}
			*star = '\0';
		}
		if ((eq = strchr(w, '=')) != NULL)
			*eq = '\0';
		if (!dns_name_valid(w)) {
			buf_printf(err, "\"%s\" is not a DNS domain", w);
			rc = -1;
			break;
		}
		if (eq != NULL) {
			site.filter = xcalloc(4, 32);
			if (dnsbl_filter_parse(eq + 1, site.filter) < 0) {
				buf_printf(err,
					   "\"%s\": bad reply filter \"%s\" "
					   "(d.d.d.d, where d is n, [n..m] or "
					   "[n;m;...])",
					   w, eq + 1);
				xfree(site.filter);
				rc = -1;
				break;
			}
		}
		site.zone = xstrdup(w);
		sites->items = xreallocarray(sites->items, sites->count + 1,
					     sizeof(*sites->items));
		sites->items[sites->count++] = site;
	}
	str_list_free(words);
	if (rc < 0)
		ps_dnsbl_sites_free(sites);
	return rc;
}

void
ps_dnsbl_sites_free(struct ps_dnsbl_sites *sites)
{
	for (size_t i = 0; i < sites->count; i++) {
		xfree(sites->items[i].zone);
		xfree(sites->items[i].filter);
	}
	xfree(sites->items);
	memset(sites, 0, sizeof(*sites));
}

int
ps_dnsbl_result_parse(const char *line, int *score, char *zone, size_t zonelen)
{
	char name[DNS_NAME_MAX + 2];
	char tail;

	if (sscanf(line, "%d %254s%c", score, name, &tail) != 3 || tail != '\n')
		return -1;
	if (strcmp(name, "-") != 0 && !dns_name_valid(name))
		return -1;
	snprintf(zone, zonelen, "%s", name);
	return 0;
}

/* 1 when zone lists the client (prefix: its reversed address). */
static int
site_lists(const struct ps_dnsbl_site *site, const char *prefix)
{
	struct buf name = BUF_INIT, why = BUF_INIT;
	struct dns_addr_list list;
	int listed = 0;

	buf_printf(&name, "%s.%s", prefix, site->zone);
	if (dns_lookup_addr(buf_cstr(&name), DNS_INET4, &list, &why) ==
	    DNS_OK) {
		for (size_t i = 0; i < list.count && !listed; i++) {
			const struct sockaddr_in *sin =
			    (const struct sockaddr_in *)&list.addr[i];
			char ip[INET6_ADDRSTRLEN];

			if (list.addr[i].ss_family != AF_INET ||
			    !inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
				continue;
			listed = site->filter == NULL ||
				 dnsbl_filter_match(site->filter, ip);
		}
	}
	buf_free(&name);
	buf_free(&why);
	return listed;
}

/* The child: every site in turn, one line, exit. */
static _Noreturn void
dnsbl_child(const struct ps_dnsbl_sites *sites, const char *addr, int out)
{
	char prefix[80], line[PS_DNSBL_RESULT_MAX];
	const char *zone = "-";
	int score = 0;
	int len;

	if (dnsbl_client_prefix(addr, prefix, sizeof(prefix)) == 0) {
		for (size_t i = 0; i < sites->count; i++) {
			if (!site_lists(&sites->items[i], prefix))
				continue;
			score += sites->items[i].weight;
			if (sites->items[i].weight > 0 && zone[0] == '-')
				zone = sites->items[i].zone;
		}
	}
	len = snprintf(line, sizeof(line), "%d %s\n", score, zone);
	if (len > 0 && (size_t)len < sizeof(line))
		(void)io_write_full(out, line, (size_t)len, 5000);
	_exit(0);
}

int
ps_dnsbl_start(const struct ps_dnsbl_sites *sites, const char *addr, int *pid,
	       void (*in_child)(void))
{
	int fds[2];
	pid_t child;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		msg_warn("DNSBL lookups of [%s]: pipe: %m", addr);
		return -1;
	}
	if ((child = fork()) < 0) {
		msg_warn("DNSBL lookups of [%s]: fork: %m", addr);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (child == 0) {
		close(fds[0]);
		if (in_child != NULL)
			in_child();
		/* The parent's handlers write to its event loop's pipe. */
		signal(SIGTERM, SIG_DFL);
		dnsbl_child(sites, addr, fds[1]);
	}
	close(fds[1]);
	(void)io_set_nonblock(fds[0], 1);
	*pid = (int)child;
	return fds[0];
}

void
ps_dnsbl_end(int pid)
{
	if (pid <= 0)
		return;
	(void)kill((pid_t)pid, SIGKILL);
	while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
		;
}
