/*
 * panconf - shows and edits the configuration, as Postfix's postconf.
 *
 * panconf [-c config_dir] [-n | -d] [-h] [-x] [name ...]
 * panconf [-c config_dir] -e name=value ...
 * panconf [-c config_dir] -X name ...
 * panconf [-c config_dir] -M [service[/type] ...]
 *
 * Without options every parameter is printed as "name = value" (the
 * value as written, $names unexpanded), defaults included, sorted; -n
 * prints only what panacea.conf (or -o) sets, -d the compiled-in
 * defaults; names select parameters; -h prints values only, -x expands
 * them.  -e sets parameters in panacea.conf: the line that defines a name
 * (and its continuation lines) is replaced, every comment and other line
 * is kept, a new name is appended; -X removes definitions.  An edit is
 * checked as a whole before it replaces the file (atomically, keeping its
 * owner and mode): a value that would stop the mail system is refused.
 * -M prints the services table, one normalised line per service.
 * Exit status: 0; 1 an unknown parameter name was asked for; 64
 * (EX_USAGE) bad arguments; 65 (EX_DATAERR) an edit refused; 74
 * (EX_IOERR) the file cannot be written.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "iostuff.h"
#include "msg.h"
#include "services.h"
#include "xalloc.h"

#define USAGE                                                                  \
	"panconf [-c config_dir] [-n|-d] [-h] [-x] [-M] [-e name=value ...] "  \
	"[-X name ...] [name ...]"
#define CONF_FILE_MAX (1024 * 1024)

struct show {
	int values_only;
	int expand;
};

static void
print_param(const struct show *s, const char *name, const char *raw)
{
	const char *v = raw;

	if (s->expand && conf_lookup(name))
		v = conf_lookup(name);
	if (s->values_only)
		printf("%s\n", v);
	else
		printf("%s =%s%s\n", name, *v ? " " : "", v);
}

static void
walk_fn(const char *name, const char *raw, void *ctx)
{
	print_param(ctx, name, raw);
}

static int
show_defaults(const struct show *s, char **names, int n)
{
	int status = EX_OK;

	if (n == 0) {
		for (const struct conf_param *p = conf_params; p->name; p++)
			print_param(&(struct show){s->values_only, 0}, p->name,
				    p->def);
		return status;
	}
	for (int i = 0; i < n; i++) {
		const struct conf_param *p = conf_param_find(names[i]);
		if (p == NULL) {
			fprintf(stderr,
				"panconf: warning: %s: unknown parameter\n",
				names[i]);
			status = 1;
			continue;
		}
		print_param(&(struct show){s->values_only, 0}, p->name, p->def);
	}
	return status;
}

static int
show_names(const struct show *s, char **names, int n)
{
	int status = EX_OK;

	for (int i = 0; i < n; i++) {
		const char *raw = conf_raw(names[i]);
		if (raw == NULL) {
			fprintf(stderr,
				"panconf: warning: %s: unknown parameter\n",
				names[i]);
			status = 1;
			continue;
		}
		print_param(s, names[i], raw);
	}
	return status;
}

/* Editing panacea.conf. */

static int
valid_name(const char *s, size_t len)
{
	if (len == 0 || len > 100)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* The parameter a line defines, as its length at the start of line, or
 * 0 for comments, blank and continuation lines. */
static size_t
defined_name(const char *line, size_t len)
{
	size_t n = 0, k;

	while (n < len && (isalnum((unsigned char)line[n]) || line[n] == '_'))
		n++;
	k = n;
	while (k < len && (line[k] == ' ' || line[k] == '\t'))
		k++;
	return n > 0 && k < len && line[k] == '=' ? n : 0;
}

static int
blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * Rewrites text: every definition of name (with its continuation lines)
 * goes; when value is not NULL, the first one becomes "name = value" (or
 * a new line at the end).
 */
static void
edit_text(struct buf *text, const char *name, const char *value)
{
	struct buf out = BUF_INIT;
	size_t pos = 0, nlen = strlen(name);
	int skipping = 0, done = value == NULL;

	while (pos < text->len) {
		const char *line = text->data + pos;
		const char *nl = memchr(line, '\n', text->len - pos);
		size_t len = nl ? (size_t)(nl - line) : text->len - pos;
		size_t def = defined_name(line, len);
		int cont = len > 0 && (line[0] == ' ' || line[0] == '\t') &&
			   !blank(line, len);

		pos += len + (nl ? 1 : 0);
		if (skipping && cont)
			continue;
		skipping = 0;
		if (def == nlen && memcmp(line, name, nlen) == 0) {
			skipping = 1;
			if (!done)
				buf_printf(&out, "%s = %s\n", name, value);
			done = 1;
			continue;
		}
		buf_append(&out, line, len);
		buf_putc(&out, '\n');
	}
	if (!done)
		buf_printf(&out, "%s = %s\n", name, value);
	buf_free(text);
	*text = out;
}

/* Writes text over path: a temporary file, same owner and mode, synced,
 * renamed. */
static int
replace_file(const char *path, const struct buf *text)
{
	struct buf tmp = BUF_INIT;
	struct stat st;
	int fd, ok;

	buf_printf(&tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp.data)) < 0) {
		fprintf(stderr, "panconf: create %s: %s\n", buf_cstr(&tmp),
			strerror(errno));
		buf_free(&tmp);
		return EX_IOERR;
	}
	if (stat(path, &st) == 0) {
		if (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM)
			msg_warn("chown %s: %s", buf_cstr(&tmp),
				 strerror(errno));
		(void)fchmod(fd, st.st_mode & 07777);
	} else {
		(void)fchmod(fd, 0644);
	}
	ok =
	    io_write_full(fd, text->data, text->len, -1) == 0 && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(buf_cstr(&tmp), path) < 0) {
		fprintf(stderr, "panconf: write %s: %s\n", path,
			strerror(errno));
		unlink(buf_cstr(&tmp));
		buf_free(&tmp);
		return EX_IOERR;
	}
	buf_free(&tmp);
	return EX_OK;
}

static int
edit(const char *config_dir, char **args, int n, int remove)
{
	struct buf path = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
	int status;

	buf_printf(&path, "%s/panacea.conf", config_dir);
	if (io_read_text_file(buf_cstr(&path), &text, CONF_FILE_MAX, &err) <
		0 &&
	    errno != ENOENT) {
		fprintf(stderr, "panconf: %s\n", buf_cstr(&err));
		return EX_IOERR;
	}
	for (int i = 0; i < n; i++) {
		char *arg = xstrdup(args[i]);
		char *eq = strchr(arg, '=');
		char *name = arg, *value = eq ? eq + 1 : NULL;
		size_t nlen;
		if (eq)
			*eq = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		nlen = strlen(name);
		while (nlen &&
		       (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
			name[--nlen] = '\0';
		if (value)
			while (*value == ' ' || *value == '\t')
				value++;
		if (!valid_name(name, nlen) || (remove == (eq != NULL)) ||
		    (value && strpbrk(value, "\r\n"))) {
			fprintf(stderr, "panconf: bad %s argument: %s\n",
				remove ? "-X" : "-e", args[i]);
			xfree(arg);
			cli_usage(USAGE);
		}
		edit_text(&text, name, value);
		xfree(arg);
	}
	/* The whole new file must load, or nothing changes. */
	buf_reset(&err);
	if (conf_read_string(buf_cstr(&path), buf_cstr(&text), &err) < 0 ||
	    conf_check(&err) < 0) {
		fprintf(stderr, "panconf: edit refused: %s\n", buf_cstr(&err));
		status = EX_DATAERR;
	} else {
		status = replace_file(buf_cstr(&path), &text);
	}
	buf_free(&path);
	buf_free(&text);
	buf_free(&err);
	return status;
}

/* -M */
static int
show_services(char **names, int n)
{
	struct service_table t = {NULL, 0};
	struct buf path = BUF_INIT, err = BUF_INIT, line = BUF_INIT;
	int status = EX_OK;

	buf_printf(&path, "%s/services", conf_str("config_directory"));
	if (services_read(buf_cstr(&path),
			  (int)conf_int("default_process_limit"), 0, &t,
			  &err) < 0) {
		fprintf(stderr, "panconf: %s\n", buf_cstr(&err));
		status = EX_CONFIG;
	}
	for (size_t i = 0; i < t.count; i++) {
		const struct service_def *d = &t.items[i];
		const char *type = service_type_name(d->type);
		int match = n == 0;
		for (int k = 0; k < n && !match; k++) {
			const char *slash = strchr(names[k], '/');
			size_t len = slash ? (size_t)(slash - names[k])
					   : strlen(names[k]);
			match = strlen(d->name) == len &&
				strncmp(d->name, names[k], len) == 0 &&
				(!slash || strcmp(slash + 1, type) == 0);
		}
		if (!match)
			continue;
		buf_reset(&line);
		if (d->wakeup)
			buf_printf(&line, "%d%s", d->wakeup,
				   d->wakeup_if_used ? "?" : "");
		else
			buf_puts(&line, "-");
		printf("%-10s %-5s %-7s %-7s %-7s %-7s %-7d", d->name, type,
		       d->is_private ? "y" : "n", d->unpriv ? "y" : "n",
		       d->chroot ? "y" : "n", buf_cstr(&line), d->maxproc);
		/* An argument with blanks (or none) was grouped: show it
		 * as it can be read back, "{ name = value }". */
		for (int a = 0; a < d->argc; a++)
			printf(a > 0 && (*d->argv[a] == '\0' ||
					 strpbrk(d->argv[a], " \t") != NULL)
				   ? " { %s }"
				   : " %s",
			       d->argv[a]);
		putchar('\n');
	}
	services_free(&t);
	buf_free(&path);
	buf_free(&err);
	buf_free(&line);
	return status;
}

int
main(int argc, char **argv)
{
	const char *config_dir = NULL;
	struct show s = {0, 0};
	int c, only_set = 0, defaults = 0, edit_mode = 0, remove = 0;
	int services = 0;

	cli_help(argc, argv, USAGE);
	while ((c = getopt(argc, argv, "c:ndhxeXMv")) != -1) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'n':
			only_set = 1;
			break;
		case 'd':
			defaults = 1;
			break;
		case 'h':
			s.values_only = 1;
			break;
		case 'x':
			s.expand = 1;
			break;
		case 'e':
			edit_mode = 1;
			break;
		case 'X':
			remove = 1;
			break;
		case 'M':
			services = 1;
			break;
		case 'v':
			break;
		default:
			cli_usage(USAGE);
		}
	}
	if (edit_mode + remove + services + (only_set || defaults) > 1 ||
	    (only_set && defaults) || ((edit_mode || remove) && optind >= argc))
		cli_usage(USAGE);
	cli_init(argv[0], config_dir);
	if (edit_mode || remove)
		return edit(conf_str("config_directory"), argv + optind,
			    argc - optind, remove);
	if (services)
		return show_services(argv + optind, argc - optind);
	if (defaults)
		return show_defaults(&s, argv + optind, argc - optind);
	if (optind < argc)
		return show_names(&s, argv + optind, argc - optind);
	conf_walk(only_set, walk_fn, &s);
	return EX_OK;
}
