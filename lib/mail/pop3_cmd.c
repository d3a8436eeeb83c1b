/*
 * pop3_cmd - POP3 command parsing, the state table and byte-stuffing
 * (contract in pop3_cmd.h).
 */
#include <string.h>

#include "pop3_cmd.h"
#include "strutil.h"

static const struct {
	const char *name;
	enum pop3_cmd_id id;
} pop3_cmds[] = {
    {"USER", POP3_CMD_USER}, {"PASS", POP3_CMD_PASS}, {"APOP", POP3_CMD_APOP},
    {"AUTH", POP3_CMD_AUTH}, {"STLS", POP3_CMD_STLS}, {"CAPA", POP3_CMD_CAPA},
    {"QUIT", POP3_CMD_QUIT}, {"STAT", POP3_CMD_STAT}, {"LIST", POP3_CMD_LIST},
    {"RETR", POP3_CMD_RETR}, {"DELE", POP3_CMD_DELE}, {"NOOP", POP3_CMD_NOOP},
    {"RSET", POP3_CMD_RSET}, {"TOP", POP3_CMD_TOP},   {"UIDL", POP3_CMD_UIDL},
};

void
pop3_cmd_init(struct pop3_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
}

void
pop3_cmd_free(struct pop3_cmd *cmd)
{
	buf_free(&cmd->buf);
	memset(cmd, 0, sizeof(*cmd));
}

static void
cmd_clear(struct pop3_cmd *cmd)
{
	struct buf keep = cmd->buf;

	memset(cmd, 0, sizeof(*cmd));
	cmd->buf = keep;
	buf_reset(&cmd->buf);
}

static int
syntax(struct pop3_cmd *cmd, const char *why)
{
	cmd->why = why;
	return POP3_PARSE_SYNTAX;
}

/* Splits the words after the keyword in place; at most max + 1 are
 * counted so that "too many" can be told apart. */
static int
split_words(char *p, char **words, int max)
{
	int n = 0;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return n;
		if (n == max)
			return n + 1;
		words[n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static int
parse_num(const char *s, long *out)
{
	long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > POP3_NUM_DIGITS)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

static int
mech_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POP3_MECH_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static int
hex_digest_ok(char *s)
{
	if (strlen(s) != POP3_APOP_DIGEST_LEN)
		return 0;
	str_lower(s);
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* The arguments of a known command; rest is after the keyword. */
static int
parse_args(struct pop3_cmd *cmd, char *rest)
{
	char *w[3];
	int n;

	if (cmd->id == POP3_CMD_PASS) {
		/* The whole rest of the line after one space. */
		if (*rest != ' ' || rest[1] == '\0')
			return syntax(cmd, "PASS needs a password");
		cmd->arg1 = rest + 1;
		cmd->nargs = 1;
		return POP3_PARSE_OK;
	}
	n = split_words(rest, w, 2);
	cmd->nargs = n;
	switch (cmd->id) {
	case POP3_CMD_USER:
		if (n != 1)
			return syntax(cmd, "USER needs one user name");
		if (strlen(w[0]) > POP3_NAME_MAX)
			return syntax(cmd, "user name too long");
		cmd->arg1 = w[0];
		return POP3_PARSE_OK;
	case POP3_CMD_APOP:
		if (n != 2)
			return syntax(cmd, "APOP needs a name and a digest");
		if (strlen(w[0]) > POP3_NAME_MAX)
			return syntax(cmd, "user name too long");
		if (!hex_digest_ok(w[1]))
			return syntax(cmd, "bad APOP digest");
		cmd->arg1 = w[0];
		cmd->arg2 = w[1];
		return POP3_PARSE_OK;
	case POP3_CMD_AUTH:
		if (n > 2)
			return syntax(cmd, "too many arguments");
		if (n >= 1 && !mech_ok(w[0]))
			return syntax(cmd, "bad mechanism name");
		cmd->arg1 = n >= 1 ? w[0] : NULL;
		cmd->arg2 = n >= 2 ? w[1] : NULL;
		return POP3_PARSE_OK;
	case POP3_CMD_LIST:
	case POP3_CMD_UIDL:
		if (n > 1)
			return syntax(cmd, "too many arguments");
		if (n == 1 && parse_num(w[0], &cmd->num1) < 0)
			return syntax(cmd, "bad message number");
		return POP3_PARSE_OK;
	case POP3_CMD_RETR:
	case POP3_CMD_DELE:
		if (n != 1)
			return syntax(cmd, "a message number is needed");
		if (parse_num(w[0], &cmd->num1) < 0)
			return syntax(cmd, "bad message number");
		return POP3_PARSE_OK;
	case POP3_CMD_TOP:
		if (n != 2)
			return syntax(cmd, "TOP needs a message number and a "
					   "line count");
		if (parse_num(w[0], &cmd->num1) < 0)
			return syntax(cmd, "bad message number");
		if (parse_num(w[1], &cmd->num2) < 0)
			return syntax(cmd, "bad line count");
		return POP3_PARSE_OK;
	default:
		if (n != 0)
			return syntax(cmd, "no arguments allowed");
		return POP3_PARSE_OK;
	}
}

int
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
	size_t kw, i;
	char *p;

	cmd_clear(cmd);
	for (kw = 0; kw < len && kw < 5 && line[kw] != ' '; kw++)
		;
	for (i = 0; i < sizeof(pop3_cmds) / sizeof(pop3_cmds[0]); i++) {
		if (strlen(pop3_cmds[i].name) == kw &&
		    str_ncasecmp(line, pop3_cmds[i].name, kw) == 0) {
			cmd->id = pop3_cmds[i].id;
			cmd->name = pop3_cmds[i].name;
			break;
		}
	}
	if (cmd->id == POP3_CMD_NONE)
		return len > POP3_AUTH_LINE_MAX ? POP3_PARSE_TOO_LONG
						: POP3_PARSE_UNKNOWN;
	if (len > POP3_AUTH_LINE_MAX ||
	    (len > POP3_CMD_LINE_MAX && cmd->id != POP3_CMD_PASS &&
	     cmd->id != POP3_CMD_AUTH))
		return POP3_PARSE_TOO_LONG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			return syntax(cmd, "control character in command");
	}
	buf_append(&cmd->buf, line, len);
	p = cmd->buf.data + kw;
	return parse_args(cmd, p);
}

int
pop3_cmd_allowed(enum pop3_state state, enum pop3_cmd_id id)
{
	switch (id) {
	case POP3_CMD_CAPA:
	case POP3_CMD_QUIT:
		return 1;
	case POP3_CMD_USER:
	case POP3_CMD_PASS:
	case POP3_CMD_APOP:
	case POP3_CMD_AUTH:
	case POP3_CMD_STLS:
		return state == POP3_AUTHORIZATION;
	case POP3_CMD_STAT:
	case POP3_CMD_LIST:
	case POP3_CMD_RETR:
	case POP3_CMD_DELE:
	case POP3_CMD_NOOP:
	case POP3_CMD_RSET:
	case POP3_CMD_TOP:
	case POP3_CMD_UIDL:
		return state == POP3_TRANSACTION;
	default:
		return 0;
	}
}

int
pop3_cmd_take(const char *line, size_t len, enum pop3_state state, int *junk,
	      struct pop3_cmd *cmd, struct buf *reply)
{
	int r = pop3_cmd_parse(line, len, cmd);

	buf_reset(reply);
	if (r == POP3_PARSE_OK) {
		*junk = 0;
		if (pop3_cmd_allowed(state, cmd->id))
			return POP3_TAKE_RUN;
		buf_printf(reply, "-ERR %s is not valid in this state",
			   cmd->name);
		return POP3_TAKE_REFUSE;
	}
	if (r == POP3_PARSE_UNKNOWN)
		buf_set(reply, "-ERR Unknown command");
	else if (r == POP3_PARSE_TOO_LONG)
		buf_set(reply, "-ERR Command line too long");
	else
		buf_printf(reply, "-ERR Syntax error: %s", cmd->why);
	return ++*junk >= POP3_JUNK_LIMIT ? POP3_TAKE_HANG_UP
					  : POP3_TAKE_REFUSE;
}

void
pop3_capa(const struct pop3_capa *capa,
	  void (*line)(void *arg, const char *text), void *arg)
{
	static const char *const always[] = {
	    "+OK Capability list follows",
	    "TOP",
	    "UIDL",
	    "RESP-CODES",
	    "AUTH-RESP-CODE",
	    "PIPELINING",
	    "EXPIRE NEVER",
	};
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		line(arg, always[i]);
	if (capa->login_delay > 0) {
		buf_printf(&b, "LOGIN-DELAY %d", capa->login_delay);
		line(arg, buf_cstr(&b));
	}
	if (capa->user)
		line(arg, "USER");
	if (capa->sasl != NULL) {
		buf_reset(&b);
		buf_printf(&b, "SASL %s", capa->sasl);
		line(arg, buf_cstr(&b));
	}
	if (capa->stls)
		line(arg, "STLS");
	line(arg, "IMPLEMENTATION Panacea");
	line(arg, ".");
	buf_free(&b);
}

/* The wire converter. */

enum { W_START, W_PREFIX, W_MIDDLE };

static const char from_quoted[] = ">From ";

void
pop3_wire_init(struct pop3_wire *w, int flags, long body_lines)
{
	memset(w, 0, sizeof(*w));
	w->flags = flags;
	w->body_lines = body_lines;
	w->line_empty = 1;
	/* TOP n 0 of a message: the header section still comes. */
}

static void
emit(struct pop3_wire *w, struct buf *out, const char *p, size_t n)
{
	w->octets += n;
	if (out != NULL && n > 0)
		buf_append(out, p, n);
}

/* One line ended: CRLF, and the TOP bookkeeping. */
static void
line_end(struct pop3_wire *w, struct buf *out)
{
	emit(w, out, "\r\n", 2);
	if (w->in_body) {
		w->lines++;
	} else if (w->line_empty) {
		w->in_body = 1;
	}
	if (w->in_body && w->body_lines >= 0 && w->lines >= w->body_lines)
		w->done = 1;
	w->state = W_START;
	w->line_empty = 1;
}

/* The held prefix turned out to be data. */
static void
flush_prefix(struct pop3_wire *w, struct buf *out)
{
	emit(w, out, w->pend, w->npend);
	w->npend = 0;
	w->state = W_MIDDLE;
}

/* Any byte but LF after a held CR: the CR was data. */
static void
release_cr(struct pop3_wire *w, struct buf *out)
{
	w->cr = 0;
	emit(w, out, "\r", 1);
	w->line_empty = 0;
	if (w->state == W_START)
		w->state = W_MIDDLE;
}

int
pop3_wire_feed(struct pop3_wire *w, const char *data, size_t len,
	       struct buf *out)
{
	size_t i = 0, j;
	char c;

	while (i < len && !w->done) {
		c = data[i];
		if (w->cr) {
			if (c == '\n') {
				w->cr = 0;
				i++;
				line_end(w, out);
				continue;
			}
			release_cr(w, out);
		}
		if (w->state == W_PREFIX) {
			if (c == from_quoted[w->npend]) {
				w->pend[w->npend++] = c;
				i++;
				if (w->npend == sizeof(from_quoted) - 1) {
					/* ">From " -> "From " */
					emit(w, out, w->pend + 1, w->npend - 1);
					w->npend = 0;
					w->state = W_MIDDLE;
				}
				continue;
			}
			flush_prefix(w, out);
		}
		if (c == '\n') {
			i++;
			line_end(w, out);
			continue;
		}
		if (c == '\r') {
			w->cr = 1;
			i++;
			continue;
		}
		if (w->state == W_START) {
			w->line_empty = 0;
			if (c == '.') {
				/* The stuffing dot is not part of the size. */
				if (out != NULL)
					buf_putc(out, '.');
			} else if (c == '>' && (w->flags & POP3_WIRE_UNQUOTE)) {
				w->pend[0] = c;
				w->npend = 1;
				w->state = W_PREFIX;
				i++;
				continue;
			}
			w->state = W_MIDDLE;
		}
		/* The middle of a line: copy up to the next CR or LF. */
		for (j = i; j < len && data[j] != '\r' && data[j] != '\n'; j++)
			;
		emit(w, out, data + i, j - i);
		w->line_empty = 0;
		i = j;
	}
	return w->done;
}

void
pop3_wire_finish(struct pop3_wire *w, struct buf *out)
{
	if (w->done)
		return;
	if (w->state == W_PREFIX)
		flush_prefix(w, out);
	if (w->cr)
		release_cr(w, out);
	if (w->state != W_START)
		line_end(w, out);
}
