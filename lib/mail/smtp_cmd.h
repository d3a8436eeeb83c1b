/*
 * smtp_cmd - SMTP server command line parser (RFC 5321 and extensions).
 *
 * smtp_cmd_parse() takes one command line, without its CRLF and already
 * bounded by the caller's line limit, and returns a structured command:
 * the verb, its argument, and for MAIL and RCPT the parsed path (addr.h)
 * and the ESMTP parameters, validated and typed:
 *   MAIL: SIZE (RFC 1870), BODY=7BIT|8BITMIME|BINARYMIME (RFC 6152, 3030),
 *         AUTH=xtext|<> (RFC 4954), RET=FULL|HDRS and ENVID=xtext (RFC 3461),
 *         SMTPUTF8 (RFC 6531);
 *   RCPT: NOTIFY=NEVER|SUCCESS,FAILURE,DELAY and ORCPT=type;xtext (RFC 3461);
 *   BDAT: chunk size and LAST (RFC 3030).
 * It does no I/O and keeps no state between calls.
 *
 * Leniency, as in Postfix: verbs and keywords are case-insensitive, runs
 * of spaces or tabs separate words, and spaces after "FROM:" / "TO:" are
 * tolerated.  Everything else follows the RFC grammar: esmtp-keyword =
 * (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), esmtp-value = 1*(%d33-60 /
 * %d62-126) (plus UTF-8 in an SMTPUTF8 transaction).
 *
 * The path is RFC 5321's "<...>" (Postfix's strict_rfc821_envelopes =
 * yes) unless SMTP_CMD_F_LENIENT (its default, no), which takes what
 * Postfix's smtpd takes: the path is the word after "FROM:" / "TO:",
 * where blanks inside a quoted string or "<...>" do not end it; RFC 822
 * comments in it are dropped, and so is a phrase before a "<...>"
 * ("MAIL FROM:user@example.org", "MAIL FROM:Joe<joe@example.org>(Joe)",
 * "RCPT TO:< user@example.org >").  A second "<...>", unbalanced
 * brackets, quotes or parentheses stay errors (501 5.1.7 / 5.1.3), and
 * the address itself is judged by addr_parse() as in the strict syntax.
 * A line the strict syntax takes means the same in the lenient one.
 *
 * Contract:
 *  - the line is len bytes and may contain anything; NUL, CR, LF and other
 *    control characters (TAB excepted) and malformed UTF-8 make it an
 *    error, valid UTF-8 is left for the address parser to judge;
 *  - cmd is always initialised, also on error, and must be released with
 *    smtp_cmd_free(); its strings point into storage it owns;
 *  - a parameter of an extension the caller did not enable (ext flags) is
 *    an unknown parameter (555), as it would be for a server that did not
 *    advertise the extension; so is a MAIL parameter on RCPT and vice
 *    versa.  Parameters appear at most once (501 otherwise);
 *  - numbers (SIZE, BDAT) are decimal, overflow-checked into uint64_t: a
 *    value that does not fit is SMTP_CMD_ERR_TOO_BIG, never wrapped;
 *  - ENVID (<= 100 octets) and ORCPT (<= 500 octets) are limited on their
 *    decoded value, which must be printable US-ASCII (RFC 3461);
 *  - smtp_cmd_reply() formats the reply for an error ("501 5.5.4 ...",
 *    no CRLF).  After any error on BDAT the chunk length is unknown, so
 *    the chunk cannot be skipped and its bytes must never be read as
 *    commands: smtp_cmd_must_close() says so, and the caller closes the
 *    session after the reply.
 */
#ifndef PANACEA_SMTP_CMD_H
#define PANACEA_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_ETRN,
};

enum smtp_cmd_err {
	SMTP_CMD_OK = 0,
	SMTP_CMD_ERR_UNKNOWN,	    /* 500 5.5.2 command not recognized */
	SMTP_CMD_ERR_BAD_CHAR,	    /* 500 5.5.2 control char or bad UTF-8 */
	SMTP_CMD_ERR_SYNTAX,	    /* 501 5.5.4 Syntax: ... */
	SMTP_CMD_ERR_SENDER,	    /* 501 5.1.7 bad sender address syntax */
	SMTP_CMD_ERR_RCPT,	    /* 501 5.1.3 bad recipient address syntax */
	SMTP_CMD_ERR_ADDR_LENGTH,   /* 553 5.1.3 / 5.1.7 address too long */
	SMTP_CMD_ERR_ADDR_8BIT,	    /* 553 5.6.7 non-ASCII without SMTPUTF8 */
	SMTP_CMD_ERR_PARAM_SYNTAX,  /* 501 5.5.4 bad parameter syntax */
	SMTP_CMD_ERR_PARAM_DUP,	    /* 501 5.5.4 duplicate parameter */
	SMTP_CMD_ERR_PARAM_UNKNOWN, /* 555 5.5.4 unsupported option */
	SMTP_CMD_ERR_TOO_BIG,	    /* 552 5.3.4 SIZE/BDAT overflows */
};

/* Extensions the server advertises (the ext argument). */
#define SMTP_EXT_SIZE 0x01
#define SMTP_EXT_8BITMIME 0x02
#define SMTP_EXT_BINARYMIME 0x04 /* also needs CHUNKING */
#define SMTP_EXT_DSN 0x08
#define SMTP_EXT_SMTPUTF8 0x10
#define SMTP_EXT_AUTH 0x20
#define SMTP_EXT_ALL 0x3f

/* Parse flags (the flags argument). */
#define SMTP_CMD_F_UTF8 0x01	    /* RCPT in an SMTPUTF8 transaction */
#define SMTP_CMD_F_NO_BRACKETS 0x02 /* accept paths without < > */
#define SMTP_CMD_F_BARE_LOCAL 0x04  /* accept a local part without domain */
#define SMTP_CMD_F_LENIENT 0x08	    /* strict_rfc821_envelopes = no */

enum smtp_body {
	SMTP_BODY_NONE = 0,
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
};

enum smtp_ret {
	SMTP_RET_NONE = 0,
	SMTP_RET_FULL,
	SMTP_RET_HDRS,
};

/* NOTIFY bits; 0 means the parameter was not given. */
#define SMTP_NOTIFY_NEVER 0x01
#define SMTP_NOTIFY_SUCCESS 0x02
#define SMTP_NOTIFY_FAILURE 0x04
#define SMTP_NOTIFY_DELAY 0x08

#define SMTP_PARAM_MAX 16     /* parameters per command */
#define SMTP_ENVID_MAX 100    /* RFC 3461 section 4.4 */
#define SMTP_ORCPT_MAX 500    /* RFC 3461 section 4.2 */
#define SMTP_AUTH_MECH_MAX 20 /* RFC 4422 sasl-mech */

struct smtp_param {
	const char *keyword; /* as sent */
	const char *value;   /* NULL when absent */
};

struct smtp_cmd {
	enum smtp_verb verb;
	enum smtp_cmd_err err;
	/* The verb as sent (also for UNKNOWN, for logging). */
	const char *verb_text;
	/*
	 * What follows the verb, spaces trimmed, "" when nothing: the HELO/EHLO
	 * name, the VRFY/EXPN/HELP/NOOP argument, the AUTH arguments, the ETRN
	 * site.
	 */
	const char *arg;
	/* MAIL / RCPT */
	struct addr path;
	int addr_err; /* ADDR_ERR_* when err is an address error */
	struct smtp_param params[SMTP_PARAM_MAX];
	int nparams;
	/* The first offending parameter keyword, for the reply text. */
	const char *bad_param;
	/* MAIL parameters. */
	int has_size;
	uint64_t size;
	enum smtp_body body;
	const char
	    *auth; /* AUTH= value as sent: xtext or "<>"; NULL if absent */
	enum smtp_ret ret;
	const char *envid; /* ENVID= xtext as sent, NULL if absent */
	int smtputf8;
	/* RCPT parameters. */
	unsigned notify;
	const char *orcpt; /* ORCPT= value as sent ("rfc822;xtext"), or NULL */
	/* BDAT */
	uint64_t bdat_size;
	int bdat_last;
	/* AUTH mechanism [initial-response] */
	const char *auth_mech;
	const char *auth_initial; /* NULL when absent */
	/* Owned storage. */
	char *store;
};

/*
 * Parses line[0..len) into *cmd; returns cmd->err.  ext is a mask of
 * SMTP_EXT_* (what the server advertised), flags a mask of SMTP_CMD_F_*.
 */
int smtp_cmd_parse(const char *line, size_t len, unsigned ext, unsigned flags,
		   struct smtp_cmd *cmd);
void smtp_cmd_free(struct smtp_cmd *cmd);

/* The reply for cmd->err ("501 5.5.4 Syntax: MAIL FROM:<address>"). */
void smtp_cmd_reply(const struct smtp_cmd *cmd, struct buf *out);
/* The numeric reply code for cmd->err (0 for SMTP_CMD_OK). */
int smtp_cmd_reply_code(const struct smtp_cmd *cmd);

/* 1 when the session cannot continue after this error (bad BDAT). */
int smtp_cmd_must_close(const struct smtp_cmd *cmd);

/* The verb's name in upper case ("MAIL"; "UNKNOWN"). */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
