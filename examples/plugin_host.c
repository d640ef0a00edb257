// SPDX-License-Identifier: MIT
/*
 * plugin_host.c - dlopen()s plugin.so, calls plugin_run(), dlclose()s it.
 *
 * Usage: plugin_host [PLUGIN_PATH]   (default: plugin.so beside this program)
 *
 * plugin_run(3, 333) leaks 3 blocks of 333 bytes (999 bytes, definitely
 * lost) allocated inside the plugin (plugin_run -> plugin_alloc -> malloc);
 * then the plugin is unloaded. A correct report still shows those frames
 * by name, from plugin.so, although the module is gone at exit. dlopen and
 * dlclose allocate and free memory of their own inside libc/ld.so (all
 * freed by dlclose or at exit by __libc_freeres).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEAKS 3
#define LEAK_BYTES 333

static int plugin_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash || (size_t)(slash - buf) + sizeof("/plugin.so") > len)
		return -1;
	strcpy(slash, "/plugin.so");
	return 0;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	int (*run)(int, size_t);
	void *handle;
	int n;

	if (argc > 1)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else if (plugin_path(path, sizeof(path)))
		return 1;
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		fprintf(stderr, "plugin_host: %s\n", dlerror());
		return 1;
	}
	*(void **)&run = dlsym(handle, "plugin_run");
	if (!run) {
		fprintf(stderr, "plugin_host: %s\n", dlerror());
		dlclose(handle);
		return 1;
	}
	n = run(LEAKS, LEAK_BYTES);
	dlclose(handle);
	printf("plugin_leaked_blocks=%d plugin_leaked_bytes=%d\n", n, n * LEAK_BYTES);
	return n == LEAKS ? 0 : 1;
}
