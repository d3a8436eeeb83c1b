/*
 * unit_helpers - what several unit tests need around the code they test:
 * a scratch folder under /tmp, and files written into it.  A failure to
 * write fails the test (cmocka); linked from build/std/tests/unit/libunit.a
 * into every unit test (the Makefile), so a test that uses none of it
 * links none of it.
 */
#ifndef PANACEA_UNIT_HELPERS_H
#define PANACEA_UNIT_HELPERS_H

#include <stddef.h>

/* The size a dir given to unit_tmpdir needs. */
#define UNIT_DIR_MAX 64

/* Makes the folder /tmp/PREFIX.XXXXXX and puts its name in dir: 0, or -1
 * (a setup that returns it fails the group). */
int unit_tmpdir(char *dir, const char *prefix);
/* Removes dir with all it holds (the teardown of unit_tmpdir): 0, or -1. */
int unit_rmtree(const char *dir);
/* "dir/name" in a static buffer, which the next call (and
 * unit_write_file) overwrites. */
const char *unit_path(const char *dir, const char *name);
/* Writes text to dir/name; its path (unit_path). */
const char *unit_write_file(const char *dir, const char *name,
			    const char *text);
/* Writes len bytes (NULs included) to path, mode 0644. */
void unit_write_bytes(const char *path, const void *data, size_t len);

#endif
