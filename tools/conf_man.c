/*
 * conf_man - writes panacea.conf(5) from the parameter table.
 *
 * Usage: conf_man TEMPLATE > man/panacea.conf.5
 *
 * TEMPLATE is the hand-written part of the page (man/panacea.conf.5.in:
 * the file format, the lookup tables); its line "@PARAMETERS@" is replaced
 * by one entry per parameter of lib/mail/conf_params.c, in the table's
 * order (sorted by name): the name, its type with the unit of a bare number,
 * its default and smallest value, then its doc string.  The page is
 * committed (readable without a build, installed as it is, and a table
 * change shows in review with its doc); "make man" rewrites it, and "make
 * man-check" (run by "make unit") fails when it differs from what this
 * program writes.  The output depends on nothing but the table and the
 * template, so the comparison is exact.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "iostuff.h"
#include "msg.h"

#define TEMPLATE_MAX (256 * 1024)
#define PARAMETERS_MARK "@PARAMETERS@"

/* Text for roff: a backslash is \e, a hyphen \- (so that man does not
 * break or replace it), and a line cannot start with a control character
 * because each entry's text starts after a request. */
static void
put_roff(FILE *out, const char *text)
{
	for (; *text != '\0'; text++) {
		if (*text == '\\')
			fputs("\\e", out);
		else if (*text == '-')
			fputs("\\-", out);
		else
			fputc(*text, out);
	}
}

static const char *
type_text(const struct conf_param *p)
{
	switch (p->type) {
	case CONF_INT:
		return "integer";
	case CONF_BOOL:
		return "yes or no";
	case CONF_SIZE:
		return "size in bytes";
	case CONF_TIME:
		switch (p->time_unit) {
		case 'm':
			return "time; a bare number is minutes";
		case 'h':
			return "time; a bare number is hours";
		case 'd':
			return "time; a bare number is days";
		case 'w':
			return "time; a bare number is weeks";
		default:
			return "time; a bare number is seconds";
		}
	default:
		return "string";
	}
}

static void
put_param(FILE *out, const struct conf_param *p)
{
	fputs(".TP\n.B ", out);
	put_roff(out, p->name);
	fputs("\n(", out);
	put_roff(out, type_text(p));
	if (*p->def == '\0')
		fputs("; default: empty", out);
	else {
		fputs("; default: ", out);
		put_roff(out, p->def);
	}
	if (p->type != CONF_STR && p->type != CONF_BOOL && p->min > 0)
		fprintf(out, "; at least %lld", p->min);
	fputs(")\n.br\n", out);
	put_roff(out, p->doc);
	fputc('\n', out);
}

int
main(int argc, char **argv)
{
	struct buf text = BUF_INIT;
	struct buf err = BUF_INIT;
	const struct conf_param *p;
	const char *mark;

	msg_init("conf_man");
	msg_also_stderr(1);
	if (argc != 2)
		msg_fatal("usage: conf_man TEMPLATE");
	if (io_read_text_file(argv[1], &text, TEMPLATE_MAX, &err) < 0)
		msg_fatal("%s", buf_cstr(&err));
	mark = strstr(buf_cstr(&text), PARAMETERS_MARK "\n");
	if (mark == NULL)
		msg_fatal("%s: no line %s", argv[1], PARAMETERS_MARK);
	fwrite(text.data, 1, (size_t)(mark - text.data), stdout);
	for (p = conf_params; p->name != NULL; p++) {
		if (p->doc == NULL || *p->doc == '\0')
			msg_fatal("parameter %s has no doc string", p->name);
		put_param(stdout, p);
	}
	fputs(mark + strlen(PARAMETERS_MARK) + 1, stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		msg_fatal("write error on standard output");
	buf_free(&text);
	buf_free(&err);
	return 0;
}
