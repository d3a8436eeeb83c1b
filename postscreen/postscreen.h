/*
 * postscreen.h - what the files of postscreen(8) share.
 *
 * postscreen is Postfix's zombie blocker in front of smtpd on port 25
 * (POSTSCREEN_README): one event-driven process (maxproc 1) holds the
 * inet listener, screens each client before the SMTP greeting and hands
 * the connection of a clean one to smtpd through smtpd's pass service
 * (the descriptor itself: smtpd sees the real client).  Files:
 *   postscreen.c     main: parameters, start-up (tables, DNS, cache);
 *   ps_access.c      postscreen_access_list (permit, reject, dunno,
 *                    permit_mynetworks, type:table);
 *   ps_dnsbl.c       postscreen_dnsbl_sites: parsing, the lookups of a
 *                    client (a child process per client), the score;
 *   ps_cache.c       the temporary allowlist (postscreen_cache_map);
 *   ps_session.c     one client: the tests before the greeting, the
 *                    hand-off, and the dummy SMTP engine that refuses
 *                    every RCPT of a client that failed with "enforce".
 */
#ifndef PANACEA_POSTSCREEN_H
#define PANACEA_POSTSCREEN_H

#include <stddef.h>

#include "buf.h"

struct maps;
struct match_list;

/* What a test's failure makes postscreen do (the *_action parameters). */
enum ps_action { PS_ACT_IGNORE, PS_ACT_ENFORCE, PS_ACT_DROP };

/* "ignore", "enforce", "drop" (case-insensitive); -1 for anything else. */
int ps_action_parse(const char *s);

/* One entry of postscreen_dnsbl_sites: "zone[=filter][*weight]". */
struct ps_dnsbl_site {
	char *zone;
	unsigned char (*filter)[32]; /* NULL: any reply address */
	int weight;
};

struct ps_dnsbl_sites {
	struct ps_dnsbl_site *items;
	size_t count;
};

/* Parses the list (comma or white space separated); 0, or -1 with a
 * message naming the bad entry in err. */
int ps_dnsbl_sites_parse(const char *value, struct ps_dnsbl_sites *sites,
			 struct buf *err);
void ps_dnsbl_sites_free(struct ps_dnsbl_sites *sites);

/* The result line a lookup child writes: "SCORE ZONE\n" (ZONE "-" when
 * no site with a positive weight listed the client). */
#define PS_DNSBL_RESULT_MAX 512
/* Parses it; 0, or -1 when it is malformed. */
int ps_dnsbl_result_parse(const char *line, int *score, char *zone,
			  size_t zonelen);
/* Starts the lookups of addr in every site in a child process; the
 * descriptor to read its result line from (non-blocking), or -1.
 * *pid is the child's; in_child (optional) runs first in the child (it
 * closes what the child must not hold). */
int ps_dnsbl_start(const struct ps_dnsbl_sites *sites, const char *addr,
		   int *pid, void (*in_child)(void));
/* Ends a child (killed if still running) and reaps it. */
void ps_dnsbl_end(int pid);

/* postscreen_access_list. */
enum ps_access { PS_ACCESS_DUNNO, PS_ACCESS_PERMIT, PS_ACCESS_REJECT };

struct ps_access_list;
/* Opens the list (its tables before the jail); NULL with err. */
struct ps_access_list *ps_access_open(const char *value,
				      const struct match_list *mynetworks,
				      struct buf *err);
/* Closes the list's tables (NULL is a no-op); not the mynetworks list. */
void ps_access_free(struct ps_access_list *l);
/* The decision for a client address; a table that fails is logged and
 * taken as dunno for that entry. */
enum ps_access ps_access_eval(const struct ps_access_list *l, const char *addr);
/* The command of an access table's value or of a list word
 * ("permit", "reject", "dunno", case-insensitive); -1 otherwise. */
int ps_access_word(const char *word);

/* The temporary allowlist.  An entry's value is "GREET;DNSBL": the
 * times (seconds since the epoch) until which the pregreet and the DNSBL
 * test stay passed (0: not passed). */
int ps_cache_open(const char *spec, struct buf *err);
/* 1 and the two times, 0 when absent (or malformed), -1 on error. */
int ps_cache_get(const char *addr, long long *greet, long long *dnsbl);
void ps_cache_put(const char *addr, long long greet, long long dnsbl);
void ps_cache_close(void);
int ps_cache_value_parse(const char *v, size_t len, long long *greet,
			 long long *dnsbl);

/* Text of a pregreet for the log: at most max bytes of data, bytes that
 * are not printable as C escapes (\r, \n, \t, \ooo). */
void ps_escape(struct buf *out, const char *data, size_t len, size_t max);
/* ps_escape'd text of at most PS_LOG_TEXT_MAX bytes, as a new string. */
#define PS_LOG_TEXT_MAX 2048
char *ps_log_text(const char *p, size_t len);
/* The address of "MAIL FROM:<a>" or "RCPT TO:<a>" (after the colon, in
 * angle brackets or up to a blank), as ps_log_text gives it. */
char *ps_path_arg(const char *line);

/* The parameters, bound by postscreen.c. */
struct ps_config {
	const char *access_list_raw;
	const char *denylist_action_raw;
	const char *greet_action_raw;
	const char *dnsbl_action_raw;
	const char *dnsbl_sites_raw;
	const char *dnsbl_reply_map_raw;
	const char *cache_map;
	const char *greet_banner;
	const char *smtpd_banner;
	const char *myhostname;
	const char *service_name; /* smtpd_service_name */
	const char *dns_nameservers;
	long long greet_wait;
	long long greet_ttl;
	long long dnsbl_ttl;
	long long dnsbl_timeout;
	long long dnsbl_threshold;
	long long command_count_limit;
	long long command_time_limit;
	int respectful_logging;

	int denylist_action, greet_action, dnsbl_action;
	struct ps_dnsbl_sites sites;
	struct maps *reply_map;
	struct ps_access_list *access;
	int have_cache;
	char *smtpd_socket; /* private/SERVICE, valid in the jail */
};

extern struct ps_config ps_cfg;

/* ps_session.c: serves one accepted client connection (non-blocking). */
void ps_session_start(int fd);

#endif
