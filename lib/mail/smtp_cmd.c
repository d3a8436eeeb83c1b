/*
 * smtp_cmd - SMTP server command line parser; see smtp_cmd.h.
 *
 * The line is copied once into cmd->store and cut into NUL-terminated
 * words in place; every string in struct smtp_cmd points there.  Nothing
 * else is allocated, and nothing is read beyond len.
 */
#include <string.h>
#include <strings.h>

#include "smtp_cmd.h"
#include "xalloc.h"
#include "xtext.h"

#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_WSP(c) ((c) == ' ' || (c) == '\t')

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
    {"HELO", SMTP_VERB_HELO},	      {"EHLO", SMTP_VERB_EHLO},
    {"MAIL", SMTP_VERB_MAIL},	      {"RCPT", SMTP_VERB_RCPT},
    {"DATA", SMTP_VERB_DATA},	      {"BDAT", SMTP_VERB_BDAT},
    {"RSET", SMTP_VERB_RSET},	      {"NOOP", SMTP_VERB_NOOP},
    {"QUIT", SMTP_VERB_QUIT},	      {"VRFY", SMTP_VERB_VRFY},
    {"EXPN", SMTP_VERB_EXPN},	      {"HELP", SMTP_VERB_HELP},
    {"STARTTLS", SMTP_VERB_STARTTLS}, {"AUTH", SMTP_VERB_AUTH},
    {"ETRN", SMTP_VERB_ETRN},
};

const char *
smtp_verb_name(enum smtp_verb verb)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == verb)
			return verbs[i].name;
	return "UNKNOWN";
}

/* Control characters (TAB excepted) and malformed UTF-8 are refused. */
static int
check_chars(const char *line, size_t len)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t i, k;

	for (i = 0; i < len; i++) {
		if (p[i] >= 0x80) {
			if ((k = addr_utf8_seq(p + i, len - i)) == 0)
				return -1;
			i += k - 1;
		} else if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
			return -1;
		}
	}
	return 0;
}

static char *
skip_wsp(char *s)
{
	while (IS_WSP(*s))
		s++;
	return s;
}

/* Cuts the word at s; returns the start of the next one (or of ""). */
static char *
cut_word(char *s)
{
	while (*s && !IS_WSP(*s))
		s++;
	if (*s)
		*s++ = 0;
	return skip_wsp(s);
}

static void
trim_right(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && IS_WSP(s[n - 1]))
		s[--n] = 0;
}

/*
 * Decimal to uint64_t: 0 on success, -1 when s is not 1*DIGIT, -2 when
 * the value does not fit.
 */
static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;

	if (*s == 0)
		return -1;
	for (; *s; s++) {
		if (!IS_DIGIT(*s))
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -2;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
is_keyword(const char *s)
{
	if (!IS_ALPHA(*s) && !IS_DIGIT(*s))
		return 0;
	for (s++; *s; s++)
		if (!IS_ALPHA(*s) && !IS_DIGIT(*s) && *s != '-')
			return 0;
	return 1;
}

/* esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 under SMTPUTF8. */
static int
is_value(const char *s, int utf8)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == 0)
		return 0;
	for (; *p; p++) {
		if (*p >= 0x80 && utf8)
			continue;
		if (*p < 33 || *p > 126 || *p == '=')
			return 0;
	}
	return 1;
}

/*
 * An xtext value whose decoded form is printable US-ASCII of at most max
 * octets (RFC 3461 ENVID and ORCPT).
 */
static int
check_xtext_printable(const char *s, size_t max)
{
	struct buf dec = BUF_INIT;
	size_t i;
	int ok;

	ok = xtext_decode(&dec, s, strlen(s)) == 0 && dec.len <= max;
	for (i = 0; ok && i < dec.len; i++)
		if ((unsigned char)dec.data[i] < 32 ||
		    (unsigned char)dec.data[i] > 126)
			ok = 0;
	buf_free(&dec);
	return ok;
}

static int
check_orcpt(const char *s, unsigned ext)
{
	const char *semi = strchr(s, ';');
	const char *p;

	if (semi == NULL || semi == s || semi[1] == 0)
		return 0;
	for (p = s; p < semi; p++)
		if (!IS_ALPHA(*p) && !IS_DIGIT(*p) && *p != '-')
			return 0;
	/* RFC 6533 utf-8 addresses may carry raw UTF-8 (unitext). */
	if ((size_t)(semi - s) == 5 && strncasecmp(s, "utf-8", 5) == 0 &&
	    (ext & SMTP_EXT_SMTPUTF8))
		return strlen(semi + 1) <= SMTP_ORCPT_MAX;
	return check_xtext_printable(semi + 1, SMTP_ORCPT_MAX);
}

static int
parse_notify(const char *s, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} words[] = {
	    {"NEVER", SMTP_NOTIFY_NEVER},
	    {"SUCCESS", SMTP_NOTIFY_SUCCESS},
	    {"FAILURE", SMTP_NOTIFY_FAILURE},
	    {"DELAY", SMTP_NOTIFY_DELAY},
	};
	unsigned mask = 0;
	size_t i, n;
	const char *end;

	for (;;) {
		end = strchr(s, ',');
		n = end ? (size_t)(end - s) : strlen(s);
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].name) == n &&
			    strncasecmp(s, words[i].name, n) == 0)
				break;
		if (i == sizeof(words) / sizeof(words[0]))
			return -1;
		mask |= words[i].bit;
		if (end == NULL)
			break;
		s = end + 1;
	}
	/* NEVER excludes every other keyword (RFC 3461 section 4.1). */
	if ((mask & SMTP_NOTIFY_NEVER) && mask != SMTP_NOTIFY_NEVER)
		return -1;
	*out = mask;
	return 0;
}

/* MAIL FROM parameters. */
static int
mail_param(struct smtp_cmd *cmd, const char *kw, const char *val, unsigned ext)
{
	int r;

	if (strcasecmp(kw, "SIZE") == 0 && (ext & SMTP_EXT_SIZE)) {
		if (val == NULL)
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		if ((r = parse_u64(val, &cmd->size)) == -2)
			return SMTP_CMD_ERR_TOO_BIG;
		if (r < 0)
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		cmd->has_size = 1;
	} else if (strcasecmp(kw, "BODY") == 0 && (ext & SMTP_EXT_8BITMIME)) {
		if (val == NULL)
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		if (strcasecmp(val, "7BIT") == 0)
			cmd->body = SMTP_BODY_7BIT;
		else if (strcasecmp(val, "8BITMIME") == 0)
			cmd->body = SMTP_BODY_8BITMIME;
		else if (strcasecmp(val, "BINARYMIME") == 0 &&
			 (ext & SMTP_EXT_BINARYMIME))
			cmd->body = SMTP_BODY_BINARYMIME;
		else
			return SMTP_CMD_ERR_PARAM_SYNTAX;
	} else if (strcasecmp(kw, "AUTH") == 0 && (ext & SMTP_EXT_AUTH)) {
		if (val == NULL ||
		    (strcmp(val, "<>") != 0 && !xtext_valid(val, strlen(val))))
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		cmd->auth = val;
	} else if (strcasecmp(kw, "RET") == 0 && (ext & SMTP_EXT_DSN)) {
		if (val && strcasecmp(val, "FULL") == 0)
			cmd->ret = SMTP_RET_FULL;
		else if (val && strcasecmp(val, "HDRS") == 0)
			cmd->ret = SMTP_RET_HDRS;
		else
			return SMTP_CMD_ERR_PARAM_SYNTAX;
	} else if (strcasecmp(kw, "ENVID") == 0 && (ext & SMTP_EXT_DSN)) {
		if (val == NULL || !check_xtext_printable(val, SMTP_ENVID_MAX))
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		cmd->envid = val;
	} else if (strcasecmp(kw, "SMTPUTF8") == 0 &&
		   (ext & SMTP_EXT_SMTPUTF8)) {
		if (val != NULL)
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		cmd->smtputf8 = 1;
	} else {
		return SMTP_CMD_ERR_PARAM_UNKNOWN;
	}
	return SMTP_CMD_OK;
}

/* RCPT TO parameters. */
static int
rcpt_param(struct smtp_cmd *cmd, const char *kw, const char *val, unsigned ext)
{
	if (strcasecmp(kw, "NOTIFY") == 0 && (ext & SMTP_EXT_DSN)) {
		if (val == NULL || parse_notify(val, &cmd->notify) < 0)
			return SMTP_CMD_ERR_PARAM_SYNTAX;
	} else if (strcasecmp(kw, "ORCPT") == 0 && (ext & SMTP_EXT_DSN)) {
		if (val == NULL || !check_orcpt(val, ext))
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		cmd->orcpt = val;
	} else {
		return SMTP_CMD_ERR_PARAM_UNKNOWN;
	}
	return SMTP_CMD_OK;
}

/* Splits "kw[=value] kw[=value] ..." into cmd->params. */
static int
split_params(struct smtp_cmd *cmd, char *s, unsigned ext)
{
	char *kw, *eq;
	int i;

	while (*s) {
		kw = s;
		s = cut_word(s);
		if (cmd->nparams == SMTP_PARAM_MAX) {
			cmd->bad_param = NULL;
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		}
		cmd->params[cmd->nparams].keyword = kw;
		cmd->params[cmd->nparams].value = NULL;
		if ((eq = strchr(kw, '=')) != NULL) {
			*eq++ = 0;
			cmd->params[cmd->nparams].value = eq;
		}
		cmd->nparams++;
		cmd->bad_param = kw;
		if (!is_keyword(kw) ||
		    (eq && !is_value(eq, ext & SMTP_EXT_SMTPUTF8)))
			return SMTP_CMD_ERR_PARAM_SYNTAX;
		for (i = 0; i < cmd->nparams - 1; i++)
			if (strcasecmp(cmd->params[i].keyword, kw) == 0)
				return SMTP_CMD_ERR_PARAM_DUP;
	}
	cmd->bad_param = NULL;
	return SMTP_CMD_OK;
}

static int
addr_error(struct smtp_cmd *cmd, int err)
{
	cmd->addr_err = err;
	switch (err) {
	case ADDR_ERR_LOCAL_TOO_LONG:
	case ADDR_ERR_DOMAIN_TOO_LONG:
	case ADDR_ERR_PATH_TOO_LONG:
		return SMTP_CMD_ERR_ADDR_LENGTH;
	case ADDR_ERR_8BIT:
		return SMTP_CMD_ERR_ADDR_8BIT;
	default:
		return cmd->verb == SMTP_VERB_MAIL ? SMTP_CMD_ERR_SENDER
						   : SMTP_CMD_ERR_RCPT;
	}
}

/*
 * Finds the end of the path at s: the '>' that closes '<' (outside a
 * quoted string), or the end of the word.  Returns NULL when unclosed.
 */
static char *
path_end(char *s)
{
	int quoted = 0;

	if (*s != '<') {
		while (*s && !IS_WSP(*s))
			s++;
		return s;
	}
	for (s++; *s; s++) {
		if (quoted && *s == '\\' && s[1])
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (*s == '>' && !quoted)
			return s + 1;
	}
	return NULL;
}

/*
 * The end of the path word in the lenient syntax: white space ends it,
 * except inside a quoted string or angle brackets (Postfix's command
 * tokenizer).  NULL when a quote or a bracket is left open.
 */
static char *
path_end_lenient(char *s)
{
	size_t angle = 0;
	int quoted = 0;

	for (; *s; s++) {
		if (quoted) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				quoted = 0;
		} else if (*s == '"') {
			quoted = 1;
		} else if (*s == '<') {
			angle++;
		} else if (*s == '>' && angle > 0) {
			angle--;
		} else if (IS_WSP(*s) && angle == 0) {
			break;
		}
	}
	return quoted || angle ? NULL : s;
}

/*
 * strict_rfc821_envelopes = no: reduces the path word w, in place, to
 * what addr_parse() takes.  RFC 822 comments (nested, with quoted
 * pairs) and blanks outside quoted strings go; when the word has a
 * "<...>", the text around it (a phrase, "Joe<joe@example.org>") goes
 * too and the brackets stay; without one the bare address stays.  More
 * than one "<...>", a '>' or ')' without its opening, or an unclosed
 * comment is ADDR_ERR_SYNTAX; so is a word that was only a comment.
 * Quoted strings are copied untouched.
 */
static int
path_lenient(char *w)
{
	char *r, *d, *lt = NULL, *gt = NULL;
	size_t depth = 0;
	int quoted = 0;

	/* Pass 1: comments and unquoted blanks out. */
	for (r = d = w; *r; r++) {
		if (quoted) {
			if (*r == '\\' && r[1])
				*d++ = *r++;
			else if (*r == '"')
				quoted = 0;
			*d++ = *r;
		} else if (depth > 0) {
			if (*r == '\\' && r[1])
				r++;
			else if (*r == '(')
				depth++;
			else if (*r == ')')
				depth--;
		} else if (*r == '(') {
			depth = 1;
		} else if (*r == ')') {
			return ADDR_ERR_SYNTAX;
		} else if (!IS_WSP(*r)) {
			if (*r == '"')
				quoted = 1;
			*d++ = *r;
		}
	}
	*d = 0;
	if (depth > 0 || quoted || *w == 0)
		return ADDR_ERR_SYNTAX;

	/* Pass 2: the one "<...>", if any, outside quoted strings. */
	for (r = w; *r; r++) {
		if (quoted) {
			if (*r == '\\' && r[1])
				r++;
			else if (*r == '"')
				quoted = 0;
		} else if (*r == '"') {
			quoted = 1;
		} else if (*r == '<') {
			if (lt != NULL)
				return ADDR_ERR_SYNTAX;
			lt = r;
		} else if (*r == '>') {
			if (lt == NULL || gt != NULL)
				return ADDR_ERR_SYNTAX;
			gt = r;
		}
	}
	if (lt == NULL)
		return ADDR_OK;
	if (gt == NULL)
		return ADDR_ERR_SYNTAX;
	/* "<" content ">" moved to the front; the phrase is dropped. */
	memmove(w, lt, (size_t)(gt - lt) + 1);
	w[gt - lt + 1] = 0;
	return ADDR_OK;
}

/* MAIL FROM:<path> [params] and RCPT TO:<path> [params]. */
static int
parse_path_cmd(struct smtp_cmd *cmd, char *arg, unsigned ext, unsigned flags)
{
	const char *kw = cmd->verb == SMTP_VERB_MAIL ? "FROM:" : "TO:";
	size_t kwlen = strlen(kw);
	unsigned aflags = 0;
	char *path, *end, save;
	int err, i, aerr;

	if (strncasecmp(arg, kw, kwlen) != 0)
		return SMTP_CMD_ERR_SYNTAX;
	path = skip_wsp(arg + kwlen);
	if (*path == 0)
		return SMTP_CMD_ERR_SYNTAX;
	end = (flags & SMTP_CMD_F_LENIENT) ? path_end_lenient(path)
					   : path_end(path);
	if (end == NULL)
		return addr_error(cmd, ADDR_ERR_SYNTAX);
	if (*end && !IS_WSP(*end))
		return addr_error(cmd, ADDR_ERR_SYNTAX);
	save = *end;
	*end = 0;
	err = split_params(cmd, save ? skip_wsp(end + 1) : end, ext);
	if ((flags & SMTP_CMD_F_LENIENT) && (aerr = path_lenient(path)) != 0)
		return addr_error(cmd, aerr);

	/* The address first, as Postfix does; SMTPUTF8 decides its charset. */
	if (cmd->verb == SMTP_VERB_MAIL) {
		aflags |= ADDR_F_NULL_OK;
		for (i = 0; i < cmd->nparams; i++)
			if (strcasecmp(cmd->params[i].keyword, "SMTPUTF8") ==
				0 &&
			    (ext & SMTP_EXT_SMTPUTF8))
				aflags |= ADDR_F_UTF8;
	} else if (flags & SMTP_CMD_F_UTF8) {
		aflags |= ADDR_F_UTF8;
	}
	if (flags & (SMTP_CMD_F_NO_BRACKETS | SMTP_CMD_F_LENIENT))
		aflags |= ADDR_F_NO_BRACKETS;
	if (flags & SMTP_CMD_F_BARE_LOCAL)
		aflags |= ADDR_F_BARE_LOCAL;
	if ((aerr = addr_parse(path, strlen(path), aflags, &cmd->path)) != 0)
		return addr_error(cmd, aerr);
	if (err != SMTP_CMD_OK)
		return err;

	for (i = 0; i < cmd->nparams; i++) {
		cmd->bad_param = cmd->params[i].keyword;
		err = cmd->verb == SMTP_VERB_MAIL
			  ? mail_param(cmd, cmd->params[i].keyword,
				       cmd->params[i].value, ext)
			  : rcpt_param(cmd, cmd->params[i].keyword,
				       cmd->params[i].value, ext);
		if (err != SMTP_CMD_OK)
			return err;
	}
	cmd->bad_param = NULL;
	return SMTP_CMD_OK;
}

/* BDAT chunk-size [LAST] */
static int
parse_bdat(struct smtp_cmd *cmd, char *arg)
{
	char *size = arg, *last;
	int r;

	last = cut_word(arg);
	if ((r = parse_u64(size, &cmd->bdat_size)) == -2)
		return SMTP_CMD_ERR_TOO_BIG;
	if (r < 0)
		return SMTP_CMD_ERR_SYNTAX;
	if (*last == 0)
		return SMTP_CMD_OK;
	if (*cut_word(last) != 0 || strcasecmp(last, "LAST") != 0)
		return SMTP_CMD_ERR_SYNTAX;
	cmd->bdat_last = 1;
	return SMTP_CMD_OK;
}

/* AUTH mechanism [initial-response] (RFC 4954). */
static int
parse_auth(struct smtp_cmd *cmd, char *arg)
{
	char *mech = arg, *resp, *p;

	resp = cut_word(arg);
	if (*mech == 0 || strlen(mech) > SMTP_AUTH_MECH_MAX)
		return SMTP_CMD_ERR_SYNTAX;
	for (p = mech; *p; p++)
		if (!IS_ALPHA(*p) && !IS_DIGIT(*p) && *p != '-' && *p != '_')
			return SMTP_CMD_ERR_SYNTAX;
	cmd->auth_mech = mech;
	if (*resp == 0)
		return SMTP_CMD_OK;
	if (*cut_word(resp) != 0)
		return SMTP_CMD_ERR_SYNTAX;
	/* base64 or "=" for an empty response */
	for (p = resp; *p; p++)
		if (!IS_ALPHA(*p) && !IS_DIGIT(*p) && *p != '+' && *p != '/' &&
		    *p != '=')
			return SMTP_CMD_ERR_SYNTAX;
	cmd->auth_initial = resp;
	return SMTP_CMD_OK;
}

static int
parse_args(struct smtp_cmd *cmd, char *arg, unsigned ext, unsigned flags)
{
	switch (cmd->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
	case SMTP_VERB_ETRN:
		return *arg ? SMTP_CMD_OK : SMTP_CMD_ERR_SYNTAX;
	case SMTP_VERB_DATA:
	case SMTP_VERB_RSET:
	case SMTP_VERB_STARTTLS:
		return *arg ? SMTP_CMD_ERR_SYNTAX : SMTP_CMD_OK;
	case SMTP_VERB_MAIL:
	case SMTP_VERB_RCPT:
		return parse_path_cmd(cmd, arg, ext, flags);
	case SMTP_VERB_BDAT:
		return parse_bdat(cmd, arg);
	case SMTP_VERB_AUTH:
		return parse_auth(cmd, arg);
	default:
		/* NOOP, HELP, QUIT: arguments are ignored. */
		return SMTP_CMD_OK;
	}
}

int
smtp_cmd_parse(const char *line, size_t len, unsigned ext, unsigned flags,
	       struct smtp_cmd *cmd)
{
	char *verb, *rest, *arg_copy;
	size_t i, n;

	memset(cmd, 0, sizeof(*cmd));
	/* Room for the line and for a second copy of the argument. */
	if (len > (SIZE_MAX - 2) / 2)
		len = (SIZE_MAX - 2) / 2;
	cmd->store = xmalloc(2 * len + 2);
	memcpy(cmd->store, line, len);
	cmd->store[len] = 0;
	cmd->verb_text = cmd->arg = "";
	if (check_chars(line, len) < 0)
		return cmd->err = SMTP_CMD_ERR_BAD_CHAR;

	verb = skip_wsp(cmd->store);
	rest = cut_word(verb);
	cmd->verb_text = verb;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcasecmp(verb, verbs[i].name) == 0)
			cmd->verb = verbs[i].verb;
	if (cmd->verb == SMTP_VERB_UNKNOWN)
		return cmd->err = SMTP_CMD_ERR_UNKNOWN;

	/* arg keeps the whole argument; parsers cut their own copy. */
	trim_right(rest);
	n = strlen(rest);
	arg_copy = cmd->store + len + 1;
	memcpy(arg_copy, rest, n + 1);
	cmd->arg = rest;
	return cmd->err = parse_args(cmd, arg_copy, ext, flags);
}

void
smtp_cmd_free(struct smtp_cmd *cmd)
{
	xfree(cmd->store);
	cmd->store = NULL;
}

int
smtp_cmd_must_close(const struct smtp_cmd *cmd)
{
	return cmd->verb == SMTP_VERB_BDAT && cmd->err != SMTP_CMD_OK;
}

static const char *
syntax_text(enum smtp_verb verb)
{
	switch (verb) {
	case SMTP_VERB_HELO:
		return "Syntax: HELO hostname";
	case SMTP_VERB_EHLO:
		return "Syntax: EHLO hostname";
	case SMTP_VERB_MAIL:
		return "Syntax: MAIL FROM:<address>";
	case SMTP_VERB_RCPT:
		return "Syntax: RCPT TO:<address>";
	case SMTP_VERB_DATA:
		return "Syntax: DATA";
	case SMTP_VERB_BDAT:
		return "Syntax: BDAT count [LAST]";
	case SMTP_VERB_RSET:
		return "Syntax: RSET";
	case SMTP_VERB_STARTTLS:
		return "Syntax: STARTTLS";
	case SMTP_VERB_VRFY:
		return "Syntax: VRFY address";
	case SMTP_VERB_EXPN:
		return "Syntax: EXPN address";
	case SMTP_VERB_AUTH:
		return "Syntax: AUTH mechanism [initial-response]";
	case SMTP_VERB_ETRN:
		return "Syntax: ETRN domain";
	default:
		return "Error: bad syntax";
	}
}

int
smtp_cmd_reply_code(const struct smtp_cmd *cmd)
{
	switch (cmd->err) {
	case SMTP_CMD_OK:
		return 0;
	case SMTP_CMD_ERR_UNKNOWN:
	case SMTP_CMD_ERR_BAD_CHAR:
		return 500;
	case SMTP_CMD_ERR_ADDR_LENGTH:
	case SMTP_CMD_ERR_ADDR_8BIT:
		return 553;
	case SMTP_CMD_ERR_PARAM_UNKNOWN:
		return 555;
	case SMTP_CMD_ERR_TOO_BIG:
		return 552;
	default:
		return 501;
	}
}

void
smtp_cmd_reply(const struct smtp_cmd *cmd, struct buf *out)
{
	int sender = cmd->verb == SMTP_VERB_MAIL;
	/* Keywords are checked for syntax, not length: bound the echo. */
	const char *kw = cmd->bad_param ? cmd->bad_param : "";

	switch (cmd->err) {
	case SMTP_CMD_OK:
		buf_puts(out, "250 2.0.0 Ok");
		break;
	case SMTP_CMD_ERR_UNKNOWN:
		buf_puts(out, "500 5.5.2 Error: command not recognized");
		break;
	case SMTP_CMD_ERR_BAD_CHAR:
		buf_puts(out, "500 5.5.2 Error: invalid character in command");
		break;
	case SMTP_CMD_ERR_SYNTAX:
		buf_printf(out, "501 5.5.4 %s", syntax_text(cmd->verb));
		break;
	case SMTP_CMD_ERR_SENDER:
		buf_printf(out, "501 5.1.7 Bad sender address syntax (%s)",
			   addr_strerror(cmd->addr_err));
		break;
	case SMTP_CMD_ERR_RCPT:
		buf_printf(out, "501 5.1.3 Bad recipient address syntax (%s)",
			   addr_strerror(cmd->addr_err));
		break;
	case SMTP_CMD_ERR_ADDR_LENGTH:
		buf_printf(out, "553 %s %s address too long (%s)",
			   sender ? "5.1.7" : "5.1.3",
			   sender ? "Sender" : "Recipient",
			   addr_strerror(cmd->addr_err));
		break;
	case SMTP_CMD_ERR_ADDR_8BIT:
		buf_puts(out, "553 5.6.7 Non-ASCII address requires SMTPUTF8");
		break;
	case SMTP_CMD_ERR_PARAM_SYNTAX:
		if (*kw)
			buf_printf(out, "501 5.5.4 Bad %.64s parameter syntax",
				   kw);
		else
			buf_puts(out, "501 5.5.4 Too many parameters");
		break;
	case SMTP_CMD_ERR_PARAM_DUP:
		buf_printf(out, "501 5.5.4 Duplicate %.64s parameter", kw);
		break;
	case SMTP_CMD_ERR_PARAM_UNKNOWN:
		buf_printf(out, "555 5.5.4 Unsupported option: %.64s", kw);
		break;
	case SMTP_CMD_ERR_TOO_BIG:
		buf_puts(out, "552 5.3.4 Message size exceeds fixed limit");
		break;
	}
}
