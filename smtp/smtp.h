/*
 * smtp - the SMTP client delivery agent: what its files share.
 *
 * The same program is the LMTP client (RFC 2033) when it runs as "lmtp"
 * (a services line "lmtp unix ... lmtp", as Postfix's smtp(8) and
 * lmtp(8) are one program): it reads the lmtp_* parameters instead of
 * the smtp_* ones, takes the LMTP next hops (nexthop.h: unix:PATH,
 * inet:HOST[:PORT], no MX lookup), says LHLO, and reads one reply per
 * accepted recipient after the final dot (smtp_session.c).
 *
 *   smtp.c          main, configuration, the delivery request from qmgr
 *                   and the reply (deliver_proto.h), per-recipient logs
 *   smtp_connect.c  the next hop's MX hosts and addresses, tried in order
 *                   with fallback, connection reuse
 *   smtp_session.c  one SMTP dialogue: greeting, EHLO/HELO, STARTTLS,
 *                   AUTH, MAIL/RCPT/DATA (pipelined when offered), QUIT
 *   smtp_tls.c      the TLS policy of a destination (global level and
 *                   smtp_tls_policy_maps)
 *   smtp_dane.c     DANE (RFC 7672): the decision table of one server
 *   smtp_auth.c     SMTP AUTH as a client (smtp_sasl_password_maps)
 *   smtp_content.c  the message from the queue as DATA (CRLF line endings
 *                   only and dot-stuffing) or BDAT chunks
 *   smtp_body.c     what the message must become for the next hop: 8-bit
 *                   MIME to 7 bits, smtp_line_length_limit, BINARYMIME
 *   nexthop.c       the next hop's forms ([host]:port, service names),
 *                   no I/O (nexthop.h)
 *
 * A recipient's fate is decided once (state DONE with class 2 or 5, or 4
 * on the last server); a soft failure on a server that is not the last
 * one keeps the recipient for the next server, with its text kept for the
 * deferral, as Postfix does.
 */
#ifndef PANACEA_SMTP_H
#define PANACEA_SMTP_H

#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "maps.h"
#include "mime_conv.h"
#include "nexthop.h"
#include "queue.h"
#include "smtp_dane.h"
#include "smtp_reply.h"
#include "stream.h"
#include "tls.h"
#include "tls_params.h"

#define SMTP_DSN_SIZE 16
#define SMTP_REASONS_MAX 2000 /* bytes of connection failures kept */
/* "host[address]:port", where an LMTP socket's path is the address */
#define SMTP_HOSTADDR_MAX (DNS_NAME_MAX + NEXTHOP_PATH_MAX + 16)

struct smtp_config {
	int lmtp;	   /* runs as lmtp (above) */
	const char *proto; /* "smtp" or "lmtp": parameter prefix */
	const char *helo_name;
	const char *myhostnames; /* names that mean "this host" (MX loops) */
	unsigned dest_port;
	int families; /* DNS_INET4 | DNS_INET6 */
	long mx_address_limit;
	int connect_timeout_ms;
	int helo_timeout_ms;
	int starttls_timeout_ms;
	int mail_timeout_ms;
	int rcpt_timeout_ms;
	int data_init_timeout_ms;
	int data_xfer_timeout_ms;
	int data_done_timeout_ms;
	int quit_timeout_ms;
	int cache_time_limit; /* seconds a session is kept for reuse */
	int skip_5xx_greeting;
	struct sockaddr_storage bind4, bind6;
	socklen_t bind4_len, bind6_len;
	enum tls_level tls_level;
	enum smtp_dane_mode tls_dane; /* the global level is dane(-only) */
	int dns_level;		      /* SMTP_DNS_* (smtp_dns_support_level) */
	long long
	    tls_loglevel; /* smtp_tls_loglevel: 1 summary, 2 certificate */
	struct tls_ctx *tls;
	const struct tls_params *tls_params; /* for policy attributes */
	struct maps *tls_policy;
	int tls_note_starttls_offer; /* smtp_tls_note_starttls_offer */
	int tls_wrappermode; /* smtp_tls_wrappermode: TLS from connect on */
	int sasl_enable;
	struct maps *sasl_passwords;
	int sasl_plain_without_tls;
	int sasl_plain_with_tls;
	const char *sasl_mech_filter; /* mechanisms we may use, "" any */
	struct queue *queue;
	/* smtp_header_checks and friends (smtp_content.c). */
	const char *header_checks, *mime_header_checks;
	const char *nested_header_checks, *body_checks;
	long long body_checks_size_limit, line_limit, header_limit;
	long long mime_boundary_limit, mime_nesting_limit;
	/* The body for the next hop (smtp_body.c). */
	long long smtp_line_limit; /* smtp_line_length_limit; 0: none */
	int disable_mime_oconv;	   /* disable_mime_output_conversion */
	int strict_8bitmime, strict_8bitmime_body, strict_7bit_headers;
};

/* smtp_dns_support_level */
#define SMTP_DNS_DISABLED 0 /* no MX lookups, addresses from getaddrinfo */
#define SMTP_DNS_ENABLED 1
#define SMTP_DNS_DNSSEC 2 /* DO bit; AD-bit answers are validated */

extern struct smtp_config smtp_cfg;

enum smtp_rcpt_state {
	SMTP_RCPT_TODO = 0, /* not decided (maybe a soft failure kept) */
	SMTP_RCPT_ACCEPTED, /* RCPT accepted in this session, DATA pending */
	SMTP_RCPT_DONE,	    /* decided */
};

struct smtp_rcpt {
	long long index;
	char *address;
	char *orcpt; /* "rfc822;xtext" as queued, or "" */
	unsigned notify;
	enum smtp_rcpt_state state;
	int class; /* 2, 4, 5; 0 while nothing is known */
	char dsn[SMTP_DSN_SIZE];
	struct buf text;
	char relay[SMTP_HOSTADDR_MAX];
	char remote_mta[DNS_NAME_MAX + 1];
	double t_conn; /* when the session that decided it was set up */
	double t_done;
};

struct smtp_request {
	char queue_id[QUEUE_ID_SIZE];
	char *nexthop;
	char *sender;
	char *envid;
	char *client_addr;
	double arrival;
	double active;
	uint64_t size;
	unsigned flags;
	int ret;
	struct smtp_rcpt *rcpts;
	size_t nrcpt;
	double t_start;	    /* request received */
	double t_conn;	    /* current session set up (MAIL FROM about to go) */
	struct buf reasons; /* why each server failed, "; "-joined */
	char reason_dsn[SMTP_DSN_SIZE];
};

/* One address to try. */
struct smtp_target {
	char host[DNS_NAME_MAX + 1];
	char ip[INET6_ADDRSTRLEN];
	char path[NEXTHOP_PATH_MAX + 1]; /* LMTP socket: connect here */
	unsigned port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const struct nexthop *nh;
	const char *nexthop_text; /* canonical next hop */
	/* smtp_dns_support_level = dnssec: the MX records that named host
	 * (1 for a "[host]" next hop) and host's addresses were validated;
	 * canon is the name host's CNAMEs led to ("" when none). */
	int mx_secure, addr_secure;
	char canon[DNS_NAME_MAX + 1];
};

/* The TLS policy of one destination (smtp_tls.c), and of one server
 * once DANE has decided (smtp_connect.c). */
#define SMTP_TLS_ATTR_MAX 512
struct smtp_tls_policy {
	enum tls_level level;
	enum smtp_dane_mode dane;
	char match[SMTP_TLS_ATTR_MAX];	   /* names to verify, ':'-separated;
					    * "" = MX host */
	char servername[DNS_NAME_MAX + 1]; /* SNI; "" = the name verified */
	char protocols[SMTP_TLS_ATTR_MAX]; /* "" = the parameters' */
	char ciphers[32];
	char exclude[SMTP_TLS_ATTR_MAX];
	char tafile[SMTP_TLS_ATTR_MAX]; /* trust anchors of verify/secure */
	/* DANE verification of this server: the usable records and their
	 * base domain (smtp_connect.c); NULL otherwise. */
	const struct dns_tlsa_result *tlsa;
	char tlsa_base[DNS_NAME_MAX + 1];
};

/* A connection to one server, kept across requests when reused. */
struct smtp_conn {
	int fd;
	struct stream s;
	struct smtp_caps caps;
	int tls_on;
	int broken; /* lost, timed out or out of step: no QUIT */
	struct smtp_target t;
	char key[NEXTHOP_MAX + 1]; /* canonical next hop it serves */
	double since;		   /* when it was last used */
};

/* Results of one session with one server. */
enum smtp_sess_result {
	SMTP_SESS_DONE,	     /* the server took part: see the recipients */
	SMTP_SESS_NEXT,	     /* try the next server (reason recorded) */
	SMTP_SESS_PLAINTEXT, /* TLS failed at level may: again without */
};

/* smtp.c */
double smtp_now(void);
size_t smtp_pending(const struct smtp_request *req);
/* Decides (or, for a soft failure on a server that is not the last,
 * notes) the result of recipient r. */
void smtp_rcpt_result(struct smtp_request *req, struct smtp_rcpt *r, int cls,
		      const char *dsn, const char *text,
		      const struct smtp_target *t, int final);
/* The same for every recipient not yet decided. */
void smtp_all_result(struct smtp_request *req, int cls, const char *dsn,
		     const char *text, const struct smtp_target *t, int final);
/* Notes why a server could not be used (appended to req->reasons,
 * bounded, and logged with the queue id); dsn is the code pending
 * recipients get when no server is left. */
void smtp_add_reason(struct smtp_request *req, const char *dsn,
		     const char *text);
/* The same, logged as the text alone: a failed connection is a fact
 * about the server, not the message, and Postfix logs it so
 * ("connect to host[addr]:port: reason", which pflogsumm counts). */
void smtp_add_server_reason(struct smtp_request *req, const char *dsn,
			    const char *text);

/* smtp_connect.c */
void smtp_deliver(struct smtp_request *req);
/* Ends a kept connection, if any (at exit). */
void smtp_cache_close(void);

/* smtp_session.c: runs the dialogue on c (connected; greeting not read
 * yet unless reused).  *keep is set when the connection is clean and may
 * be kept for reuse; otherwise the caller ends it with smtp_conn_close()
 * (which sends QUIT unless c->broken). */
enum smtp_sess_result smtp_session(struct smtp_request *req,
				   struct smtp_conn *c,
				   const struct smtp_tls_policy *pol,
				   int reused, int use_tls, int final,
				   int *keep);
/* With quit and a connection in step: sends QUIT and waits for the reply
 * (bounded).  Then stops TLS, frees the stream, closes the descriptor. */
void smtp_conn_close(struct smtp_conn *c, int quit);
/* RSET on a kept connection; 0 when the server answered 2xx. */
int smtp_session_rset(struct smtp_conn *c);

/* smtp_tls.c: a level word, dane and dane-only included; 0 or -1. */
int smtp_tls_level_parse(const char *word, enum tls_level *level,
			 enum smtp_dane_mode *dane);
/* A policy value (level and attributes) into pol; 0, or -1 with why. */
int smtp_tls_policy_parse(const char *value, struct smtp_tls_policy *pol,
			  struct buf *why);
/* What a policy's attributes (and DANE's records) make of one
 * handshake with target t at level: smtp_tls_opts_make() fills it, 0, or
 * -1 with err set (a bad protocols=, ciphers= or tafile=); free it with
 * smtp_tls_opts_free() either way. */
#define SMTP_TLS_NAMES_MAX 8
struct smtp_tls_opts {
	struct tls_client_opts o;
	char peer[DNS_NAME_MAX + 2]; /* the first name to verify */
	char names[SMTP_TLS_NAMES_MAX][DNS_NAME_MAX + 2];
	const char *namep[SMTP_TLS_NAMES_MAX + 1];
	char sni[DNS_NAME_MAX + 1];
	struct buf ciphers;
	struct tls_dane dane;
	struct tls_tlsa rr[DNS_TLSA_MAX]; /* DANE: borrowed data */
	struct tls_tlsa *ta;		  /* tafile=: owned */
	size_t nta;
};
int smtp_tls_opts_make(const struct smtp_tls_policy *pol,
		       const struct smtp_target *t, enum tls_level level,
		       struct smtp_tls_opts *out, struct buf *err);
void smtp_tls_opts_free(struct smtp_tls_opts *out);
/* 0 and pol, or -1 with why (a table error or bad entry). */
int smtp_tls_policy_get(const struct nexthop *nh, const char *nexthop_text,
			struct smtp_tls_policy *pol, struct buf *why);

/* smtp_auth.c */
/* 1 with user and password, 0 when there is no entry, -1 table error. */
int smtp_auth_lookup(const struct smtp_target *t, struct buf *user,
		     struct buf *pass, struct buf *why);
/* Runs AUTH; 0 authenticated, -1 failure with dsn and text set (soft). */
int smtp_auth_run(struct stream *s, const struct smtp_caps *caps,
		  const struct smtp_target *t, const char *user,
		  const char *pass, int tls_on, int timeout_ms,
		  char dsn[SMTP_DSN_SIZE], struct buf *text);

/* smtp_body.c: the message as the next hop gets it. */
struct smtp_body {
	struct mime_conv *conv; /* NULL: the content as stored */
	int binary;		/* BODY=BINARYMIME: by BDAT, byte for byte */
	int eightbit;		/* declare BODY=8BITMIME */
};
/* Decides, for a next hop with extensions ext, reading the content once
 * when it may need converting.  0; 1 when the message must bounce (dsn
 * and why set); -1 when the queue could not be read. */
int smtp_body_prepare(const struct smtp_request *req, unsigned ext,
		      const char *server, struct smtp_body *b,
		      char dsn[SMTP_DSN_SIZE], struct buf *why);
void smtp_body_free(struct smtp_body *b);

/* smtp_content.c: opens the smtp_*_checks tables before the jail (a bad
 * one stops smtp). */
void smtp_content_init(void);

#define SMTP_BDAT_CHUNK 65536 /* octets of a BDAT chunk (at least) */

/* Where the content goes: DATA (chunk NULL: dot-stuffing and the final
 * ".", written to s) or BDAT (chunk called with each chunk, last set on
 * the last; it returns 0 to go on, 1 when the server refused the chunk,
 * -1 when the connection failed). */
struct smtp_sink {
	struct stream *s;
	int (*chunk)(void *ctx, const char *p, size_t len, int last);
	void *ctx;
};
/* smtp_content.c: sends the message; 0, -1 when the stream failed, -2
 * when the queue could not be read (the caller must drop the connection
 * without ending DATA or sending the LAST chunk), -3 when a chunk was
 * refused. */
int smtp_content_send(struct queue *q, const char *queue_id, uint64_t size,
		      const struct smtp_body *b, const struct smtp_sink *k);

/* "host[ip]" and "host[ip]:port" of a target. */
void smtp_target_name(const struct smtp_target *t, char *out, size_t len);
void smtp_target_relay(const struct smtp_target *t, char *out, size_t len);

#endif
