/*
 * psl - the Public Suffix List and organisational domains; see psl.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "psl.h"
#include "xalloc.h"

struct psl {
	char **slot; /* open addressing, NULL: empty */
	size_t size; /* a power of two, at least twice the count */
	size_t count;
};

static uint32_t
hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The slot of s (len bytes): where it is, or the empty one it would go
 * to. */
static size_t
find(const struct psl *p, const char *s, size_t len)
{
	size_t i = hash(s, len) & (p->size - 1);

	while (p->slot[i] != NULL &&
	       (strlen(p->slot[i]) != len || memcmp(p->slot[i], s, len) != 0))
		i = (i + 1) & (p->size - 1);
	return i;
}

static int
has(const struct psl *p, const char *s, size_t len)
{
	return p->slot[find(p, s, len)] != NULL;
}

static void
grow(struct psl *p)
{
	char **old = p->slot;
	size_t oldsize = p->size;

	p->size = oldsize ? oldsize * 2 : 1024;
	p->slot = xcalloc(p->size, sizeof(*p->slot));
	for (size_t i = 0; i < oldsize; i++)
		if (old[i])
			p->slot[find(p, old[i], strlen(old[i]))] = old[i];
	xfree(old);
}

static void
add(struct psl *p, const char *s, size_t len)
{
	char rule[PSL_NAME_MAX + 3];
	size_t i;

	/* "!" and "*." add at most two bytes to a name. */
	if (len == 0 || len > PSL_NAME_MAX + 2 || p->count >= PSL_RULES_MAX)
		return;
	for (i = 0; i < len; i++)
		rule[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	/* A rule with a trailing dot names the same suffix. */
	if (rule[len - 1] == '.' && --len == 0)
		return;
	rule[len] = '\0';
	if ((p->count + 1) * 2 > p->size)
		grow(p);
	i = find(p, rule, len);
	if (p->slot[i] == NULL) {
		p->slot[i] = xstrndup(rule, len);
		p->count++;
	}
}

struct psl *
psl_parse(const char *text, size_t len)
{
	struct psl *p = xcalloc(1, sizeof(*p));
	const char *s = text, *e = text + len;

	grow(p);
	while (s < e) {
		const char *eol = memchr(s, '\n', (size_t)(e - s));
		const char *end = eol ? eol : e, *w = s;

		/* A rule is the line's first word; "//" starts a comment. */
		while (w < end && *w != ' ' && *w != '\t' && *w != '\r')
			w++;
		if (w > s && !(w - s >= 2 && s[0] == '/' && s[1] == '/') &&
		    memchr(s, '\0', (size_t)(w - s)) == NULL)
			add(p, s, (size_t)(w - s));
		s = eol ? eol + 1 : e;
	}
	return p;
}

struct psl *
psl_load(const char *path, struct buf *err)
{
	struct stat sb;
	struct psl *p;
	char *data;
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		buf_printf(err, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > PSL_FILE_MAX) {
		buf_printf(err, "%s: not a regular file of at most %d bytes",
			   path, PSL_FILE_MAX);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size &&
	       (n = read(fd, data + got, (size_t)sb.st_size - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			buf_printf(err, "read %s: %s", path, strerror(errno));
			close(fd);
			xfree(data);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	p = psl_parse(data, got);
	xfree(data);
	return p;
}

void
psl_free(struct psl *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->size; i++)
		xfree(p->slot[i]);
	xfree(p->slot);
	xfree(p);
}

size_t
psl_count(const struct psl *p)
{
	return p ? p->count : 0;
}

/* 1 when prefix followed by name (len bytes) is a rule. */
static int
rule(const struct psl *p, const char *prefix, const char *name, size_t len)
{
	char r[PSL_NAME_MAX + 3];
	size_t plen = strlen(prefix);

	memcpy(r, prefix, plen);
	memcpy(r + plen, name, len);
	return has(p, r, plen + len);
}

int
psl_org_domain(const struct psl *p, const char *name, char *out, size_t outlen)
{
	char d[PSL_NAME_MAX + 1];
	size_t len = strlen(name), start[128], nlabels = 0, i, suffix;
	int found = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > PSL_NAME_MAX || outlen < len + 1)
		return -1;
	for (i = 0; i < len; i++) {
		char c = name[i];

		d[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		if (i == 0 || name[i - 1] == '.') {
			if (c == '.' || nlabels >= 128)
				return -1;
			start[nlabels++] = i;
		}
	}
	d[len] = '\0';
	if (d[len - 1] == '.')
		return -1;
	/* An exception rule wins: its parent is the public suffix. */
	suffix = nlabels - 1;
	for (i = 0; p && i + 1 < nlabels; i++) {
		if (rule(p, "!", d + start[i], len - start[i])) {
			suffix = i + 1;
			found = 1;
			break;
		}
	}
	/* Otherwise the longest rule, a wildcard matching any label. */
	for (i = 0; p && !found && i < nlabels; i++) {
		if (rule(p, "", d + start[i], len - start[i]) ||
		    (i + 1 < nlabels &&
		     rule(p, "*.", d + start[i + 1], len - start[i + 1]))) {
			suffix = i;
			found = 1;
		}
	}
	/* The organisational domain: one label more than the suffix. */
	i = suffix > 0 ? suffix - 1 : 0;
	memcpy(out, d + start[i], len - start[i] + 1);
	return 0;
}
