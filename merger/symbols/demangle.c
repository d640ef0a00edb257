// SPDX-License-Identifier: MIT
/*
 * demangle.c - C++ demangling through the C++ runtime's __cxa_demangle,
 * found with dlopen() at first use. Must never fail a report: a missing
 * runtime leaves names mangled.
 */
#include "merger/symbols/demangle.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*cxa_demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);

static cxa_demangle_fn demangler(void)
{
	static cxa_demangle_fn fn;
	static bool tried;
	void *lib;

	if (tried)
		return fn;
	tried = true;
	lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
	if (lib)
		fn = (cxa_demangle_fn)dlsym(lib, "__cxa_demangle");
	return fn;
}

char *mh_demangle(const char *name)
{
	cxa_demangle_fn fn;
	char *out;
	int status;

	if (strncmp(name, "_Z", 2) == 0) {
		fn = demangler();
		if (fn) {
			out = fn(name, NULL, NULL, &status);
			if (out && status == 0)
				return out;
			free(out);
		}
	}
	return strdup(name);
}
