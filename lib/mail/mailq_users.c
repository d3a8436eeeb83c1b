/*
 * mailq_users - who may list the queue; see mailq_users.h.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "mailq_users.h"
#include "match_list.h"
#include "xalloc.h"

#define PARAM "authorized_mailq_users"

struct account {
	uid_t uid;
	size_t seq; /* order of discovery: the first name of a uid wins */
	char *name;
};

struct mailq_users {
	struct match_list *list;
	int anyone; /* the value starts with a static: table */
	int owner_known;
	uid_t owner_uid;
	enum mailq_users_names how;
	struct account *accounts; /* SNAPSHOT: sorted by uid, one a uid */
	size_t count, size;
};

static void
account_add(struct mailq_users *m, uid_t uid, const char *name)
{
	if (m->count == m->size) {
		m->size = m->size ? 2 * m->size : 64;
		m->accounts =
		    xrealloc(m->accounts, m->size * sizeof(*m->accounts));
	}
	m->accounts[m->count].uid = uid;
	m->accounts[m->count].seq = m->count;
	m->accounts[m->count].name = xstrdup(name);
	m->count++;
}

static int
account_cmp(const void *a, const void *b)
{
	const struct account *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A word of the list that names an account: its uid under the name
 * getpwuid() would give (the first account of that uid). */
static void
word_account(const char *word, void *ctx)
{
	struct mailq_users *m = ctx;
	struct passwd *pw = getpwnam(word);
	uid_t uid;

	if (pw == NULL)
		return;
	uid = pw->pw_uid;
	pw = getpwuid(uid);
	account_add(m, uid, pw ? pw->pw_name : word);
}

static void
snapshot(struct mailq_users *m)
{
	struct passwd *pw;
	size_t kept = 0;

	setpwent();
	while ((pw = getpwent()) != NULL)
		account_add(m, pw->pw_uid, pw->pw_name);
	endpwent();
	match_list_each_word(m->list, word_account, m);
	if (m->count == 0)
		return;
	qsort(m->accounts, m->count, sizeof(*m->accounts), account_cmp);
	for (size_t i = 0; i < m->count; i++) {
		if (kept > 0 && m->accounts[kept - 1].uid == m->accounts[i].uid)
			xfree(m->accounts[i].name);
		else
			m->accounts[kept++] = m->accounts[i];
	}
	m->count = kept;
}

static const char *
snapshot_name(const struct mailq_users *m, uid_t uid)
{
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->accounts[mid].uid == uid)
			return m->accounts[mid].name;
		if (m->accounts[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct mailq_users *
mailq_users_open(const char *value, const char *mail_owner,
		 enum mailq_users_names how, struct buf *err)
{
	struct mailq_users *m = xcalloc(1, sizeof(*m));
	struct passwd *pw;

	if ((m->list = match_list_open(PARAM, value, err)) == NULL) {
		xfree(m);
		return NULL;
	}
	m->how = how;
	/* As Postfix: only the start of the value is looked at, so that a
	 * system whose password database is down still lists the queue. */
	m->anyone =
	    strncmp(value + strspn(value, ", \t\r\n"), "static:", 7) == 0;
	if ((pw = getpwnam(mail_owner)) != NULL) {
		m->owner_known = 1;
		m->owner_uid = pw->pw_uid;
	}
	if (how == MAILQ_USERS_SNAPSHOT && !m->anyone)
		snapshot(m);
	return m;
}

int
mailq_users_allow(const struct mailq_users *m, uid_t uid, struct buf *name,
		  struct buf *err)
{
	struct buf own = BUF_INIT;
	struct buf *who = name ? name : &own;
	const char *found;
	struct passwd *pw;
	int rc;

	if (name != NULL)
		buf_set(name, "");
	if (uid == 0 || (m->owner_known && uid == m->owner_uid) || m->anyone)
		return 1;
	if (m->how == MAILQ_USERS_LIVE) {
		pw = getpwuid(uid);
		found = pw ? pw->pw_name : NULL;
	} else {
		found = snapshot_name(m, uid);
	}
	buf_set(who, found ? found : "unknown");
	rc = match_list_string(m->list, buf_cstr(who), err);
	buf_free(&own);
	return rc;
}

void
mailq_users_free(struct mailq_users *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++)
		xfree(m->accounts[i].name);
	xfree(m->accounts);
	match_list_free(m->list);
	xfree(m);
}
