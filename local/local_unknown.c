/*
 * local_unknown - a local name that is no account and no alias, as
 * Postfix's local treats it: fallback_transport when set (the delivery
 * handed to that transport's agent, local_pass.c: a mailbox server that
 * knows users the passwd database does not), else luser_relay when set
 * (a copy queued for that address, which qmgr makes from the reply, as
 * for alias members elsewhere), else 5.1.1 'unknown user: "name"'.
 *
 * luser_relay's macros, as Postfix expands them: $user (the name without
 * its extension), $extension, $recipient (the whole address), $local
 * (the local part), $domain, $recipient_delimiter and $home (empty: an
 * unknown user has none; forward_path's is the user's home); ${name}
 * works as $name.  Another name of the configuration ($myhostname) is
 * its value; an unknown one stays as it is written.
 */
#include <ctype.h>
#include <string.h>

#include "conf.h"
#include "local.h"
#include "xalloc.h"

void
local_macro_expand(const char *tmpl, const char *to, const char *name,
		   const char *home, struct buf *out)
{
	const char *at = strrchr(to, '@');
	size_t ll = at ? (size_t)(at - to) : strlen(to);
	size_t bl =
	    *local_cfg.delimiter ? strcspn(to, local_cfg.delimiter) : ll;

	struct buf nm = BUF_INIT;

	if (bl == 0 || bl > ll)
		bl = ll;
	buf_reset(out);
	for (const char *s = tmpl; *s;) {
		const char *p = s + 1, *end;
		int brace = 0;
		size_t n;

		if (*s != '$') {
			buf_putc(out, *s++);
			continue;
		}
		if (*p == '{')
			brace = 1, p++;
		for (end = p; isalnum((unsigned char)*end) || *end == '_';
		     end++)
			;
		n = (size_t)(end - p);
		buf_set(&nm, "");
		buf_append(&nm, p, n);
		if (n == 0 || (brace && *end != '}')) {
			buf_putc(out, *s++);
			continue;
		}
#define IS(w) (n == strlen(w) && strncmp(p, w, n) == 0)
		if (IS("user"))
			buf_puts(out, name);
		else if (IS("extension"))
			buf_append(out, to + bl + (bl < ll),
				   ll - bl - (bl < ll));
		else if (IS("recipient"))
			buf_puts(out, to);
		else if (IS("local"))
			buf_append(out, to, ll);
		else if (IS("domain"))
			buf_puts(out, at ? at + 1 : "");
		else if (IS("recipient_delimiter"))
			buf_puts(out, local_cfg.delimiter);
		else if (IS("home"))
			buf_puts(out, home ? home : "");
		else if (conf_lookup(buf_cstr(&nm)) != NULL)
			/* $myhostname and the like, as the configuration
			 * would have expanded them. */
			buf_puts(out, conf_lookup(buf_cstr(&nm)));
		else
			buf_append(out, s, (size_t)(end - s) + brace);
#undef IS
		s = end + brace;
	}
	buf_free(&nm);
}

void
local_deliver_unknown(struct local_msg *msg, const char *name, const char *to,
		      const char *orig_to, struct local_status *st,
		      struct local_forwards *fw)
{
	struct buf addr = BUF_INIT;

	if (*local_cfg.fallback_transport) {
		/* The agent decided and logged it, or st says why not. */
		if (!local_pass(msg, local_cfg.fallback_transport, to, orig_to,
				st))
			local_log(msg, to, orig_to, st);
		return;
	}
	if (*local_cfg.luser_relay) {
		local_macro_expand(local_cfg.luser_relay, to, name, "", &addr);
		if (addr.len == 0 || strchr(buf_cstr(&addr), '\n')) {
			local_status_set(st, 4, "4.3.5",
					 "luser_relay expands to nothing "
					 "usable");
		} else {
			struct local_forward_group *g;

			fw->groups = xreallocarray(fw->groups, fw->n + 1,
						   sizeof(*fw->groups));
			g = &fw->groups[fw->n++];
			g->sender = xstrdup(msg->sender);
			g->addrs = xcalloc(1, sizeof(char *));
			g->addrs[0] = xstrdup(buf_cstr(&addr));
			g->n = 1;
			local_status_set(st, 2, "2.0.0", "forwarded to %s",
					 buf_cstr(&addr));
		}
	} else {
		local_status_set(st, 5, "5.1.1", "unknown user: \"%s\"", name);
	}
	local_log(msg, to, orig_to, st);
	buf_free(&addr);
}
