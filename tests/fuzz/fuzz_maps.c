/*
 * fuzz_maps - libFuzzer target for the table parsers of lib/maps: cidr,
 * regexp, pcre and texthash files (lib/map_rules, lib/map_text) and
 * inline: names (map_text_braces).
 *
 * The first input byte selects the type, the rest is the table text
 * (written to a file for the file types, used as the name for inline).
 * Beyond "no crash, no leak", it checks the contract: an open that fails
 * says why; a table that opens answers lookups (of fixed keys and of the
 * input's first line) with found, not found or an error with a reason,
 * the same twice, and never a value over MAPS_VALUE_MAX.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "maps.h"

static const char *const types[] = {"cidr", "regexp", "pcre", "texthash",
				    "inline"};

static void
check_lookup(struct maps *m, const char *key)
{
	struct buf v1 = BUF_INIT, v2 = BUF_INIT, err = BUF_INIT;
	int r1 = maps_lookup(m, key, &v1, &err);
	int r2 = maps_lookup(m, key, &v2, &err);

	if (r1 < -1 || r1 > 1 || r1 != r2)
		abort();
	if (r1 < 0 && err.len == 0)
		abort();
	if (r1 > 0 && (v1.len > MAPS_VALUE_MAX ||
		       strcmp(buf_cstr(&v1), buf_cstr(&v2)) != 0))
		abort();
	buf_free(&v1);
	buf_free(&v2);
	buf_free(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct buf spec = BUF_INIT, err = BUF_INIT, first = BUF_INIT;
	const char *type;
	struct maps *m;
	const uint8_t *nl;
	FILE *fp;

	if (size < 1)
		return 0;
	type = types[data[0] % (sizeof(types) / sizeof(*types))];
	data++;
	size--;
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_maps.%ld",
			 (long)getpid());
	buf_printf(&spec, "%s:", type);
	if (strcmp(type, "inline") == 0) {
		if (memchr(data, '\0', size) != NULL)
			goto out;
		buf_append(&spec, data, size);
	} else {
		if ((fp = fopen(path, "w")) == NULL)
			abort();
		fwrite(data, 1, size, fp);
		fclose(fp);
		buf_puts(&spec, path);
	}
	m = maps_open(buf_cstr(&spec), &err);
	if (m == NULL) {
		if (err.len == 0)
			abort();
		goto out;
	}
	nl = memchr(data, '\n', size);
	buf_append(&first, data, nl ? (size_t)(nl - data) : size);
	check_lookup(m, "10.1.2.3");
	check_lookup(m, "2001:db8::1");
	check_lookup(m, "User@Example.COM");
	if (first.len > 0 && memchr(first.data, '\0', first.len) == NULL)
		check_lookup(m, buf_cstr(&first));
	maps_close(m);
out:
	buf_free(&spec);
	buf_free(&err);
	buf_free(&first);
	return 0;
}
