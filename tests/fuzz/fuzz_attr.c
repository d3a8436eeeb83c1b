/*
 * fuzz_attr - libFuzzer target for the attribute list decoder.
 *
 * Feeds arbitrary bytes to attr_decode() with a small and a large limit.
 * On success the list must re-encode to exactly the bytes consumed (the
 * encoding is canonical), every name must be well-formed, and every value
 * NUL-terminated; a consumed count past the input is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *data, size_t size, size_t max_len)
{
	struct attr_list list = ATTR_LIST_INIT;
	struct buf again = BUF_INIT;
	enum attr_status st;
	size_t used = 0, i, n;

	st = attr_decode(data, size, max_len, &list, &used);
	if (st != ATTR_OK) {
		if (list.count != 0)
			abort(); /* failures leave the list empty */
		attr_list_free(&list);
		return;
	}
	if (used > size || used > max_len || list.count > ATTR_COUNT_MAX)
		abort();
	for (i = 0; i < list.count; i++) {
		n = strlen(list.items[i].name);
		if (n < 1 || n > ATTR_NAME_MAX ||
		    strspn(list.items[i].name,
			   "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
			abort();
		if (list.items[i].value[list.items[i].len] != '\0')
			abort();
	}
	attr_encode(&list, &again);
	if (again.len != used || memcmp(again.data, data, used) != 0)
		abort();
	buf_free(&again);
	attr_list_free(&list);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check((const char *)data, size, 64);
	check((const char *)data, size, ATTR_LIST_MAX_DEFAULT);
	return 0;
}
