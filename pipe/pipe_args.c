/*
 * pipe_args - pipe(8)'s service attributes and argv= macros; see pipe.h.
 *
 * Attributes come as Postfix writes them in master.cf, one a word
 * (services.h joins "{ ... }" into one word): flags=, user=, size=, eol=,
 * null_sender=, directory=, then argv= last, whose value and every word
 * after it are the command.  chroot= is refused: Panacea's pipe does not
 * change its root.
 *
 * Macros: ${name}, $name and $(name); "$$" is one "$".  Per recipient
 * (an argument holding one becomes one argument per recipient):
 * recipient, original_recipient, user, extension, mailbox, domain (as
 * Postfix, domain is per recipient too).  Per request: sender (the null
 * sender as null_sender=), nexthop, queue_id, size, client_address, and
 * client_helo, client_hostname, client_port, client_protocol,
 * sasl_method, sasl_sender, sasl_username, which expand to "" (the
 * delivery request does not carry them).  Flags: u folds the local part
 * of recipient and original_recipient and user, extension and mailbox to
 * lower case, h the domain of recipient and original_recipient, domain
 * and nexthop; q quotes the local part of sender, recipient and
 * original_recipient as RFC 822 wants when it holds specials.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"
#include "xalloc.h"

static const struct {
	char c;
	unsigned flag;
} flag_chars[] = {
    {'B', PIPE_FLAG_B},	  {'D', PIPE_FLAG_D},	 {'F', PIPE_FLAG_F},
    {'O', PIPE_FLAG_O},	  {'R', PIPE_FLAG_R},	 {'X', PIPE_FLAG_X},
    {'h', PIPE_FLAG_h},	  {'q', PIPE_FLAG_q},	 {'u', PIPE_FLAG_u},
    {'.', PIPE_FLAG_DOT}, {'>', PIPE_FLAG_FROM},
};

static int
parse_flags(const char *s, unsigned *out, struct buf *err)
{
	*out = 0;
	for (; *s; s++) {
		size_t i;

		for (i = 0; i < sizeof(flag_chars) / sizeof(flag_chars[0]); i++)
			if (flag_chars[i].c == *s)
				break;
		if (i == sizeof(flag_chars) / sizeof(flag_chars[0])) {
			buf_printf(err,
				   "flags=: unknown flag '%c' (known: "
				   "BDFORXhqu.>)",
				   *s);
			return -1;
		}
		*out |= flag_chars[i].flag;
	}
	return 0;
}

/* eol= with C escapes: \a \b \f \n \r \t \v \ddd \\ */
static int
parse_eol(const char *s, struct buf *out, struct buf *err)
{
	static const char esc[] = "abfnrtv", val[] = "\a\b\f\n\r\t\v";

	for (; *s; s++) {
		const char *e;
		int v = 0, n = 0;

		if (*s != '\\') {
			buf_putc(out, *s);
			continue;
		}
		s++;
		if (*s == '\\') {
			buf_putc(out, '\\');
		} else if (*s && (e = strchr(esc, *s)) != NULL) {
			buf_putc(out, val[e - esc]);
		} else if (*s >= '0' && *s <= '7') {
			while (n < 3 && *s >= '0' && *s <= '7')
				v = v * 8 + (*s++ - '0'), n++;
			s--;
			if (v == 0 || v > 255)
				goto bad;
			buf_putc(out, (char)v);
		} else {
			goto bad;
		}
	}
	if (out->len > 0)
		return 0;
bad:
	buf_printf(err, "eol=: bad escape or empty value");
	return -1;
}

/* Macro names, and whether each is per recipient. */
static const struct {
	const char *name;
	int per_rcpt;
} macros[] = {
    {"client_address", 0},
    {"client_helo", 0},
    {"client_hostname", 0},
    {"client_port", 0},
    {"client_protocol", 0},
    {"domain", 1},
    {"extension", 1},
    {"mailbox", 1},
    {"nexthop", 0},
    {"original_recipient", 1},
    {"queue_id", 0},
    {"recipient", 1},
    {"sasl_method", 0},
    {"sasl_sender", 0},
    {"sasl_username", 0},
    {"sender", 0},
    {"size", 0},
    {"user", 1},
};

/* The macro at s ('$' first): its name into name, the length taken
 * from s into *used; 1 a macro, 0 "$$", -1 malformed. */
static int
macro_at(const char *s, struct buf *name, size_t *used)
{
	const char *p = s + 1, *end;
	char close = 0;

	buf_reset(name);
	if (*p == '$') {
		*used = 2;
		return 0;
	}
	if (*p == '{' || *p == '(') {
		close = *p == '{' ? '}' : ')';
		p++;
	}
	for (end = p; isalnum((unsigned char)*end) || *end == '_'; end++)
		;
	if (end == p || (close && *end != close))
		return -1;
	buf_append(name, p, (size_t)(end - p));
	*used = (size_t)(end - s) + (close ? 1 : 0);
	return 1;
}

/* -1 unknown, else per_rcpt. */
static int
macro_kind(const char *name)
{
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcmp(macros[i].name, name) == 0)
			return macros[i].per_rcpt;
	return -1;
}

/* 1 when arg holds a per-recipient macro, 0 when not, -1 (err set) when
 * it holds an unknown or malformed one. */
static int
arg_scan(const char *arg, struct buf *err)
{
	struct buf name = BUF_INIT;
	int per = 0, k, r = 0;
	size_t used;

	for (const char *s = arg; *s; s += used) {
		used = 1;
		if (*s != '$')
			continue;
		k = macro_at(s, &name, &used);
		if (k < 0 || (k == 1 && (r = macro_kind(name.data)) < 0)) {
			buf_printf(err, "argv=: %s macro in \"%s\"",
				   k < 0 ? "malformed" : "unknown", arg);
			per = -1;
			break;
		}
		if (k == 1 && r == 1)
			per = 1;
	}
	buf_free(&name);
	return per;
}

int
pipe_attrs_parse(char **args, size_t n, struct pipe_attrs *a, struct buf *err)
{
	struct buf eol = BUF_INIT;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->eol = xstrdup("\n");
	a->null_sender = xstrdup("MAILER-DAEMON");
	for (i = 0; i < n; i++) {
		const char *w = args[i], *v = strchr(w, '=');
		size_t k = v ? (size_t)(v - w) : 0;

		if (v == NULL) {
			buf_printf(err, "\"%s\": not a name=value attribute",
				   w);
			return -1;
		}
		v++;
#define IS(name) (k == strlen(name) && strncmp(w, name, k) == 0)
		if (IS("argv")) {
			if (*v == '\0') {
				buf_printf(err, "argv=: no command");
				return -1;
			}
			a->argc = n - i;
			a->argv = xcalloc(a->argc + 1, sizeof(char *));
			a->argv[0] = xstrdup(v);
			for (size_t j = 1; j < a->argc; j++)
				a->argv[j] = xstrdup(args[i + j]);
			break;
		} else if (IS("flags")) {
			if (parse_flags(v, &a->flags, err) < 0)
				return -1;
		} else if (IS("user")) {
			const char *c = strchr(v, ':');

			xfree(a->user);
			xfree(a->group);
			a->user = c ? xstrndup(v, (size_t)(c - v)) : xstrdup(v);
			a->group = c ? xstrdup(c + 1) : NULL;
			if (*a->user == '\0' || (a->group && !*a->group)) {
				buf_printf(err, "user=: empty user or group");
				return -1;
			}
		} else if (IS("size")) {
			char *end;

			a->size_limit = strtoll(v, &end, 10);
			if (*v == '\0' || *end != '\0' || a->size_limit < 0) {
				buf_printf(err, "size=: not a number: %s", v);
				return -1;
			}
		} else if (IS("eol")) {
			buf_reset(&eol);
			if (parse_eol(v, &eol, err) < 0) {
				buf_free(&eol);
				return -1;
			}
			xfree(a->eol);
			a->eol = buf_steal(&eol);
		} else if (IS("null_sender")) {
			xfree(a->null_sender);
			a->null_sender = xstrdup(v);
		} else if (IS("directory")) {
			xfree(a->directory);
			a->directory = xstrdup(v);
		} else if (IS("chroot")) {
			buf_printf(err, "chroot=: not supported by Panacea's "
					"pipe (run the command in a jail of "
					"its own)");
			return -1;
		} else {
			buf_printf(err, "unknown attribute \"%.*s\"", (int)k,
				   w);
			return -1;
		}
#undef IS
	}
	buf_free(&eol);
	if (a->user == NULL) {
		buf_printf(err, "missing user= attribute");
		return -1;
	}
	if (a->argv == NULL) {
		buf_printf(err, "missing argv= attribute");
		return -1;
	}
	for (i = 0; i < a->argc; i++)
		if (arg_scan(a->argv[i], err) < 0)
			return -1;
	return 0;
}

void
pipe_attrs_free(struct pipe_attrs *a)
{
	for (size_t i = 0; i < a->argc; i++)
		xfree(a->argv[i]);
	xfree(a->argv);
	xfree(a->user);
	xfree(a->group);
	xfree(a->eol);
	xfree(a->null_sender);
	xfree(a->directory);
	memset(a, 0, sizeof(*a));
}

static void
lower(char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
}

/* An RFC 822 local part that needs quotes: specials, blanks, controls,
 * or dots where a dot-atom has none. */
static int
needs_quotes(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return n > 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || strchr("()<>@,;:\\\"[]", c) ||
		    (c == '.' && s[i + 1] == '.'))
			return 1;
	}
	return 0;
}

/* addr to out, with the flags' folding and quoting. */
static void
put_address(struct buf *out, const char *addr, unsigned flags, int fold)
{
	const char *at = strrchr(addr, '@');
	size_t ln = at ? (size_t)(at - addr) : strlen(addr);
	size_t start = out->len;

	if ((flags & PIPE_FLAG_q) && needs_quotes(addr, ln)) {
		buf_putc(out, '"');
		for (size_t i = 0; i < ln; i++) {
			if (addr[i] == '"' || addr[i] == '\\')
				buf_putc(out, '\\');
			buf_putc(out, addr[i]);
		}
		buf_putc(out, '"');
	} else {
		buf_append(out, addr, ln);
	}
	if (fold && (flags & PIPE_FLAG_u))
		lower(out->data + start, out->len - start);
	if (at) {
		start = out->len;
		buf_puts(out, at);
		if (fold && (flags & PIPE_FLAG_h))
			lower(out->data + start, out->len - start);
	}
}

static void
expand_one(const struct pipe_attrs *a, const struct pipe_macros *m,
	   const struct pipe_rcpt *r, const char *name, struct buf *out)
{
	const char *addr = r ? r->address : "", *at = strrchr(addr, '@');
	size_t ln = at ? (size_t)(at - addr) : strlen(addr);
	size_t start = out->len, bl = ln;
	const char *d = m->delimiter ? m->delimiter : "";

	/* user and extension: split at the first delimiter, as local does;
	 * "+ext" alone is a user. */
	if (*d) {
		bl = strcspn(addr, d);
		if (bl == 0 || bl > ln)
			bl = ln;
	}
	if (strcmp(name, "sender") == 0) {
		if (*m->sender)
			put_address(out, m->sender, a->flags, 0);
		else if (*a->null_sender)
			put_address(out, a->null_sender, a->flags, 0);
	} else if (strcmp(name, "recipient") == 0) {
		put_address(out, addr, a->flags, 1);
	} else if (strcmp(name, "original_recipient") == 0) {
		put_address(out, r && *r->orig ? r->orig : addr, a->flags, 1);
	} else if (strcmp(name, "user") == 0) {
		buf_append(out, addr, bl);
	} else if (strcmp(name, "extension") == 0) {
		if (bl < ln)
			buf_append(out, addr + bl + 1, ln - bl - 1);
	} else if (strcmp(name, "mailbox") == 0) {
		buf_append(out, addr, ln);
	} else if (strcmp(name, "domain") == 0) {
		buf_puts(out, at ? at + 1 : "");
		if (a->flags & PIPE_FLAG_h)
			lower(out->data + start, out->len - start);
		return;
	} else if (strcmp(name, "nexthop") == 0) {
		buf_puts(out, m->nexthop);
		if (a->flags & PIPE_FLAG_h)
			lower(out->data + start, out->len - start);
		return;
	} else if (strcmp(name, "queue_id") == 0) {
		buf_puts(out, m->queue_id);
	} else if (strcmp(name, "size") == 0) {
		buf_printf(out, "%lld", m->size);
	} else if (strcmp(name, "client_address") == 0) {
		buf_puts(out, m->client_address ? m->client_address : "");
	}
	/* The parts of a local part fold with u. */
	if ((a->flags & PIPE_FLAG_u) &&
	    (strcmp(name, "user") == 0 || strcmp(name, "extension") == 0 ||
	     strcmp(name, "mailbox") == 0))
		lower(out->data + start, out->len - start);
}

static char *
expand_arg(const struct pipe_attrs *a, const struct pipe_macros *m,
	   const struct pipe_rcpt *r, const char *arg)
{
	struct buf out = BUF_INIT, name = BUF_INIT;
	size_t used;

	for (const char *s = arg; *s; s += used) {
		used = 1;
		if (*s != '$') {
			buf_putc(&out, *s);
			continue;
		}
		/* arg_scan checked every macro at start-up. */
		if (macro_at(s, &name, &used) == 0)
			buf_putc(&out, '$');
		else
			expand_one(a, m, r, name.data, &out);
	}
	buf_free(&name);
	if (out.data == NULL)
		return xstrdup("");
	return buf_steal(&out);
}

int
pipe_argv_expand(const struct pipe_attrs *a, const struct pipe_macros *m,
		 char ***out, struct buf *err)
{
	char **v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < a->argc; i++) {
		int per = arg_scan(a->argv[i], err);

		if (per < 0) {
			v = xreallocarray(v, n + 1, sizeof(char *));
			v[n] = NULL;
			pipe_argv_free(v);
			return -1;
		}
		if (per && m->nrcpt > 0) {
			v = xreallocarray(v, n + m->nrcpt, sizeof(char *));
			for (size_t j = 0; j < m->nrcpt; j++)
				v[n++] =
				    expand_arg(a, m, &m->rcpts[j], a->argv[i]);
		} else {
			v = xreallocarray(v, n + 1, sizeof(char *));
			v[n++] = expand_arg(
			    a, m, m->nrcpt ? &m->rcpts[0] : NULL, a->argv[i]);
		}
	}
	v = xreallocarray(v, n + 1, sizeof(char *));
	v[n] = NULL;
	*out = v;
	return 0;
}

void
pipe_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p; p++)
		xfree(*p);
	xfree(argv);
}
