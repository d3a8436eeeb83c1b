/*
 * alias - aliases(5) values and their expansion, with no I/O of its own.
 *
 * Parsing.  alias_parse() splits the value of an alias ("a, b@x, /file,
 * |command, :include:/path") into items.  Items are separated by commas
 * outside double quotes; blanks around an item are dropped; an item
 * wholly in double quotes is unquoted (\" and \\ inside are escapes), as
 * a command or file name with blanks or commas must be written.  Then:
 *   "|..."          ALIAS_COMMAND, the text after '|' (run by /bin/sh -c)
 *   "/..."          ALIAS_FILE, an absolute path (appended to, mbox style)
 *   ":include:/..." ALIAS_INCLUDE, a file of more items (case-insensitive)
 *   "\name"         ALIAS_ADDR with noexpand set: the mailbox of name,
 *                   without alias expansion
 *   anything else   ALIAS_ADDR, "local" or "local@domain"; "Name <addr>"
 *                   gives addr.
 * An address may not contain blanks or control characters (unless quoted
 * in the local part), a command or file may not contain control
 * characters, an item is at most ALIAS_ITEM_MAX bytes and a value has at
 * most ALIAS_ITEMS_MAX items.  Empty items (",,") are skipped.
 * alias_parse_include() parses the text of an :include: file: one or more
 * items a line, separated by commas, '#' comment lines and empty lines.
 *
 * Expansion.  alias_expand() expands a local name through the lookup and
 * include callbacks into a flat, de-duplicated list of targets: local
 * mailboxes (names), remote addresses, files and commands.  A local
 * address is a bare name or one whose domain ops->is_local() accepts.
 * Rules, as sendmail and Postfix: a name that lists itself ("bob: bob,
 * list") and "\name" mean name's own mailbox; a name that reappears
 * further down its own expansion is a loop (5.4.6), as is an expansion
 * deeper than ALIAS_DEPTH_MAX or wider than ALIAS_TARGETS_MAX.  When an
 * alias NAME has an "owner-NAME" alias, the targets expanded from NAME
 * carry owner "owner-NAME" (errors of that list go there); otherwise they
 * inherit the owner of the enclosing list (NULL at the top).  A target
 * from an :include: file records the file's path (include), so that the
 * caller can run its files and commands as that file's owner.
 */
#ifndef PANACEA_ALIAS_H
#define PANACEA_ALIAS_H

#include <stddef.h>

#include "buf.h"

#define ALIAS_ITEM_MAX 4096
#define ALIAS_ITEMS_MAX 10000
#define ALIAS_DEPTH_MAX 20
#define ALIAS_TARGETS_MAX 10000
#define ALIAS_INCLUDE_MAX (1024 * 1024) /* bytes of an :include: file */

enum alias_kind {
	ALIAS_ADDR,
	ALIAS_FILE,
	ALIAS_COMMAND,
	ALIAS_INCLUDE,
	ALIAS_MAILBOX, /* expansion result: a local name's own mailbox */
	ALIAS_REMOTE,  /* expansion result: an address elsewhere */
};

struct alias_item {
	enum alias_kind kind;
	char *value;
	int noexpand;  /* "\name" */
	char *owner;   /* expansion: "owner-LIST" or NULL */
	char *include; /* expansion: the :include: file, or NULL */
};

struct alias_list {
	struct alias_item *items;
	size_t count;
	size_t cap;
};

#define ALIAS_LIST_INIT                                                        \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void alias_list_free(struct alias_list *list);

/* 0, or -1 with a message in err (list then holds nothing new). */
int alias_parse(const char *value, struct alias_list *list, struct buf *err);
int alias_parse_include(const char *text, size_t len, struct alias_list *list,
			struct buf *err);

struct alias_ops {
	/* 1 and value set when name (lower case) is an alias, 0 when not,
	 * -1 on a lookup error (temporary). */
	int (*lookup)(const char *name, struct buf *value, void *ctx);
	/* 0 and text set, or -1 with why = "X.Y.Z text". */
	int (*include)(const char *path, struct buf *text, struct buf *why,
		       void *ctx);
	/* 1 when domain is one of ours. */
	int (*is_local)(const char *domain, void *ctx);
	void *ctx;
};

/*
 * Expands name (lower case, no domain).  Returns 0 when name is not an
 * alias (out unchanged), 1 with the targets appended to out (kinds
 * ALIAS_MAILBOX, ALIAS_REMOTE, ALIAS_FILE, ALIAS_COMMAND), or -1 with
 * why = "X.Y.Z text": 4.3.0 for a lookup or include error that may pass,
 * 5.4.6 for a loop, 5.3.5 for a malformed alias.
 */
int alias_expand(const char *name, const struct alias_ops *ops,
		 struct alias_list *out, struct buf *why);

#endif
