/*
 * map_dl - loading a directory table's client library; see map_dl.h.
 */
#include <dlfcn.h>

#include "map_dl.h"

int
map_dl_load(const char *soname, const char *what, const char *const *names,
	    void **ptrs, size_t n, struct buf *err)
{
	/* RTLD_NOW: a missing symbol is found here, not at a lookup. */
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		buf_set(err, "");
		buf_printf(err, "cannot load %s (install %s): %s", soname, what,
			   dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((ptrs[i] = dlsym(h, names[i])) == NULL) {
			buf_set(err, "");
			buf_printf(err, "%s: no symbol %s", soname, names[i]);
			return -1;
		}
	}
	return 0;
}
