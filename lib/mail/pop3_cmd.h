/*
 * pop3_cmd - the pure parts of the POP3 protocol (RFC 1939, RFC 2449,
 * RFC 5034): command parsing, which command is valid in which state, and
 * the conversion of a stored message into a multi-line reply.
 *
 * Parsing.  pop3_cmd_parse() takes one command line without its CRLF
 * (len bytes, NUL bytes allowed in the input and refused) and fills a
 * struct pop3_cmd whose strings point into the caller's cmd->buf copy, so
 * the line may be reused at once.  Keywords are case-insensitive; words
 * are separated by spaces (one per RFC 1939, more are tolerated, as are
 * trailing ones).  Bounds: a command line is at most POP3_CMD_LINE_MAX
 * octets (RFC 2449: 255 with CRLF) except PASS and AUTH, which may carry
 * long secrets and initial responses (RFC 5034 lifts the limit for AUTH)
 * up to POP3_AUTH_LINE_MAX; a user name at most POP3_NAME_MAX octets; a
 * message number is 1 to POP3_NUM_DIGITS decimal digits (0 parses and is
 * refused by the session as "no such message"); control characters
 * anywhere in the line are a syntax error.  PASS takes the rest of the
 * line, spaces included (RFC 1939 allows this; passwords have spaces).
 * A reader therefore reads lines of up to POP3_AUTH_LINE_MAX octets and
 * lets the parser refuse the longer ones.  Results: POP3_PARSE_OK,
 * POP3_PARSE_UNKNOWN (not a POP3 command), POP3_PARSE_SYNTAX (a known command
 * with bad arguments; cmd->id set, cmd->why says what is wrong) and
 * POP3_PARSE_TOO_LONG.
 *
 * States.  pop3_cmd_allowed() says whether a command is valid in the
 * AUTHORIZATION or TRANSACTION state (RFC 1939 section 3, CAPA in both,
 * STLS/AUTH/APOP/USER/PASS only before login); the session still decides
 * details such as "PASS must follow USER".
 *
 * Taking a line.  pop3_cmd_take() is what both sides of the server
 * (pop3d before login, pop3session after) do with each line: parse it,
 * check it against the state, count the lines in a row that are no
 * command (POP3_JUNK_LIMIT of them and the server hangs up), and word the
 * -ERR answer.  A command that is not valid in the state is answered but
 * is no junk: the client speaks POP3.
 *
 * Capabilities.  pop3_capa() gives the lines of the CAPA reply (RFC
 * 2449) one at a time, the one list of both sides: those of every state,
 * then the AUTHORIZATION state's that the caller says apply (USER, SASL,
 * STLS; after login none do).
 *
 * Multi-line replies.  struct pop3_wire converts message bytes as stored
 * (Unix LF lines, or CRLF lines; with POP3_WIRE_UNQUOTE an mbox's ">From "
 * quoting is undone: a line starting with ">From " loses one '>') into
 * what is sent: every line ends with CRLF (a CR right before LF is part
 * of the line end, any other CR is data), a last line without LF gets a
 * CRLF, and a line starting with '.' gets another '.' (byte-stuffing,
 * RFC 1939 section 3).  The terminating ".\r\n" is the caller's.  Input
 * may come in pieces of any size: the output is the same for any split.
 * octets counts the bytes of the message as sent without the stuffing
 * dots: the size LIST and STAT report.  body_lines >= 0 stops after the
 * header section, the empty line after it and that many body lines (TOP);
 * pop3_wire_feed() then returns 1 and ignores further input.  out may be
 * NULL to count only.
 */
#ifndef PANACEA_POP3_CMD_H
#define PANACEA_POP3_CMD_H

#include <stddef.h>

#include "buf.h"

#define POP3_CMD_LINE_MAX 253	/* 255 octets with CRLF (RFC 2449) */
#define POP3_AUTH_LINE_MAX 8192 /* PASS, AUTH and SASL responses */
#define POP3_NAME_MAX 255	/* USER / APOP name */
#define POP3_NUM_DIGITS 9	/* message numbers and TOP line counts */
#define POP3_MECH_MAX 20	/* SASL mechanism names (RFC 4422) */
#define POP3_APOP_DIGEST_LEN 32 /* hex MD5 */

enum pop3_cmd_id {
	POP3_CMD_NONE = 0,
	POP3_CMD_USER,
	POP3_CMD_PASS,
	POP3_CMD_APOP,
	POP3_CMD_AUTH,
	POP3_CMD_STLS,
	POP3_CMD_CAPA,
	POP3_CMD_QUIT,
	POP3_CMD_STAT,
	POP3_CMD_LIST,
	POP3_CMD_RETR,
	POP3_CMD_DELE,
	POP3_CMD_NOOP,
	POP3_CMD_RSET,
	POP3_CMD_TOP,
	POP3_CMD_UIDL,
};

enum pop3_state { POP3_AUTHORIZATION, POP3_TRANSACTION };

enum pop3_parse_result {
	POP3_PARSE_OK = 0,
	POP3_PARSE_UNKNOWN = 1,
	POP3_PARSE_SYNTAX = 2,
	POP3_PARSE_TOO_LONG = 3,
};

struct pop3_cmd {
	enum pop3_cmd_id id;
	const char *name; /* canonical keyword ("RETR"), NULL if unknown */
	int nargs;	  /* arguments given (PASS: 1, the rest of line) */
	const char *arg1; /* USER/APOP name, PASS password, AUTH mech */
	const char *arg2; /* APOP digest (lower case), AUTH initial resp */
	long num1;	  /* LIST/UIDL/RETR/DELE/TOP message number */
	long num2;	  /* TOP line count */
	const char *why;  /* POP3_PARSE_SYNTAX: a short reason */
	struct buf buf;	  /* owns the argument strings */
};

void pop3_cmd_init(struct pop3_cmd *cmd);
void pop3_cmd_free(struct pop3_cmd *cmd);
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd);
int pop3_cmd_allowed(enum pop3_state state, enum pop3_cmd_id id);

#define POP3_JUNK_LIMIT 20 /* lines in a row that are no command */

enum pop3_take {
	POP3_TAKE_RUN,	   /* run cmd; *junk is 0 again */
	POP3_TAKE_REFUSE,  /* answer reply ("-ERR ...") and go on */
	POP3_TAKE_HANG_UP, /* answer reply, then POP3_JUNK_REPLY; close */
};
#define POP3_JUNK_REPLY "-ERR Too many bad commands"

int pop3_cmd_take(const char *line, size_t len, enum pop3_state state,
		  int *junk, struct pop3_cmd *cmd, struct buf *reply);

struct pop3_capa {
	int login_delay;  /* seconds; > 0: LOGIN-DELAY */
	int user;	  /* USER (plaintext passwords) is offered */
	const char *sasl; /* the SASL mechanisms offered; NULL: none */
	int stls;	  /* STLS is offered */
};

/* Calls line(arg, text) for each line of the CAPA reply, the +OK and
 * the final "." included. */
void pop3_capa(const struct pop3_capa *capa,
	       void (*line)(void *arg, const char *text), void *arg);

#define POP3_WIRE_UNQUOTE 0x1

struct pop3_wire {
	int flags;
	long body_lines; /* -1: all */
	unsigned long long octets;
	/* private */
	int state;    /* line start, ">From" prefix, middle */
	int cr;	      /* a CR is held: line end or data */
	char pend[8]; /* ">From " prefix seen so far */
	size_t npend;
	int line_empty; /* nothing but a held CR on this line so far */
	int in_body;
	long lines; /* body lines sent */
	int done;
};

void pop3_wire_init(struct pop3_wire *w, int flags, long body_lines);
/* 0, or 1 once the TOP limit is reached (the rest is ignored). */
int pop3_wire_feed(struct pop3_wire *w, const char *data, size_t len,
		   struct buf *out);
/* Ends a last line without LF. */
void pop3_wire_finish(struct pop3_wire *w, struct buf *out);

#endif
