/*
 * map_text - the text that tables are written in, read the way Postfix
 * reads it (postmap(1), cidr_table(5), regexp_table(5)).
 *
 * Logical lines: '#' comment lines (also indented) and blank lines are
 * skipped; a line that starts with white space continues the previous
 * one (joined as Postfix does: the newline goes, the leading white space
 * stays).  A NUL byte, a file over MAP_TEXT_MAX or a
 * logical line over MAP_TEXT_LINE_MAX is an error.
 *
 * map_text_read() gives each logical line of a table's source to fn:
 * the file NAME, or, when NAME starts with '{', the rules of an inline
 * specification ("cidr:{ { rule-1 }, { rule-2 } }", Postfix 3.7): each
 * element is one line.  An error of fn (its message in err) comes back
 * as "FILE:LINE: message" ("{...}:N: message" for the Nth inline rule).
 * For a file, w (when non-NULL) is set to watch it.
 */
#ifndef PANACEA_MAP_TEXT_H
#define PANACEA_MAP_TEXT_H

#include "buf.h"
#include "map_int.h"

#define MAP_TEXT_MAX (256 * 1024 * 1024)
#define MAP_TEXT_LINE_MAX (1024 + 65536 + 2)

/* lineno: where the logical line starts (the rule's number inline). */
typedef int (*map_text_fn)(char *line, long lineno, void *ctx, struct buf *err);

int map_text_read(const char *name, map_text_fn fn, void *ctx,
		  struct map_watch *w, struct buf *err);

/* The elements of "{ a, b c, { d e } }": separated by commas or white
 * space; a braced element keeps its inner text (trimmed), spaces and
 * commas included.  A NULL-terminated list (str_list_free), or NULL with
 * err for unbalanced braces or text after the closing one. */
char **map_text_braces(const char *text, struct buf *err);

/* Splits a postmap line "key value" (or "name: value" with aliases set)
 * in place; 0, or -1 with the reason in err.  The key is not folded. */
int map_text_entry(char *line, int aliases, char **key, char **value,
		   struct buf *err);

#endif
