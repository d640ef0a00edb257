// SPDX-License-Identifier: MIT
/*
 * config.c - the preload's configuration from MEMHOOK_* variables and the
 * in-place environment edits that decide what an exec'd image does.
 *
 * Never allocates through malloc (it runs in the constructor, when the
 * program's allocator may be anything) and never prints.
 */
#include "preload/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memhook/env.h"
#include "preload/sys.h"

extern char **environ;

/* "NAME=digits" of MH_ENV_TRACED_PID, owned by this image. */
static char marker[sizeof(MH_ENV_TRACED_PID) + 24];
/* "NAME=path" of MH_ENV_RING_PATH, owned by this image. */
static char path_var[sizeof(MH_ENV_RING_PATH) + 64];
/* "NAME=digits" of MH_ENV_RING_FD, owned by this image once the fd moved. */
static char ring_fd_var[sizeof(MH_ENV_RING_FD) + 24];

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s)
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static bool flag(const char *name, bool dflt)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return dflt;
	return strcmp(v, "0") != 0;
}

/*
 * How did this image come to be traced? See MH_ENV_TRACED_PID. A fork
 * copies an image and never runs its constructors (the atfork handler
 * announces it): an image starting here is a new program, exec'd in this
 * pid, or in a child whose fork the preload did not see (vfork,
 * posix_spawn) or whose marker a shell copied away (bash).
 */
static enum mh_process_start image_start(pid_t pid, pid_t root)
{
	unsigned long marked;

	if (parse_ulong(getenv(MH_ENV_TRACED_PID), 0x7fffffff, &marked) &&
	    (pid_t)marked == pid)
		return MH_PROCESS_EXECED;
	return pid == root ? MH_PROCESS_LAUNCHED : MH_PROCESS_EXECED;
}

int mh_config_load(struct mh_core_config *cfg, const char **bad)
{
	const char *unwind = getenv(MH_ENV_UNWIND);
	unsigned long v;
	pid_t pid = getpid();
	int saved = errno;

	memset(cfg, 0, sizeof(*cfg));
	*bad = NULL;
	if (!getenv(MH_ENV_RING_FD))
		return -ENOENT;
	if (!parse_ulong(getenv(MH_ENV_RING_FD), 0x7fffffff, &v)) {
		*bad = MH_ENV_RING_FD;
		goto out_inval;
	}
	cfg->ring_fd = (int)v;
	cfg->depth = MH_STACK_DEFAULT_DEPTH;
	if (getenv(MH_ENV_DEPTH)) {
		if (!parse_ulong(getenv(MH_ENV_DEPTH), MH_STACK_MAX_DEPTH, &v) || !v) {
			*bad = MH_ENV_DEPTH;
			goto out_inval;
		}
		cfg->depth = (unsigned int)v;
	}
	if (!unwind || !*unwind || !strcmp(unwind, "auto")) {
		cfg->unwind = MH_UNWIND_AUTO;
	} else if (!strcmp(unwind, "libunwind")) {
		cfg->unwind = MH_UNWIND_LIBUNWIND;
	} else if (!strcmp(unwind, "fp")) {
		cfg->unwind = MH_UNWIND_FP;
	} else {
		*bad = MH_ENV_UNWIND;
		goto out_inval;
	}
	cfg->follow_forks = flag(MH_ENV_FOLLOW_FORKS, false);
	cfg->follow_exec = flag(MH_ENV_FOLLOW_EXEC, true);
	cfg->freeres = flag(MH_ENV_FREERES, true);
	if (!parse_ulong(getenv(MH_ENV_ROOT_PID), 0x7fffffff, &v)) {
		*bad = MH_ENV_ROOT_PID;
		goto out_inval;
	}
	cfg->root_pid = (pid_t)v;
	cfg->ring_path = getenv(MH_ENV_RING_PATH);
	cfg->start = image_start(pid, cfg->root_pid);
	errno = saved;
	/* Env vars inherited by a fork+exec we were told not to follow. */
	if (pid != cfg->root_pid && !cfg->follow_forks)
		return -EPERM;
	return 0;

out_inval:
	errno = saved;
	return -EINVAL;
}

static size_t env_count(void)
{
	size_t n = 0;

	while (environ && environ[n])
		n++;
	return n;
}

/* Format "<name_eq><v>" into buf (big enough: name_eq and 20 digits). */
static void write_number_var(char *buf, const char *name_eq, unsigned long v)
{
	size_t len = strlen(name_eq);
	char digits[24];
	int d = 0;

	do {
		digits[d++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(buf, name_eq, len);
	while (d)
		buf[len++] = digits[--d];
	buf[len] = '\0';
}

/* Format "MEMHOOK_TRACED_PID=<pid>" into our own buffer. */
static void write_marker(pid_t pid)
{
	write_number_var(marker, MH_ENV_TRACED_PID "=", (unsigned long)pid);
}

/*
 * Point environ's NAME= slot at value (our own buffer), or return false if
 * there is no such slot. This runs before main, while environ is still the
 * array the kernel built: its slots belong to nobody's malloc.
 */
static bool replace_var(const char *name, size_t name_len, char *value)
{
	size_t i;

	for (i = 0; environ && environ[i]; i++) {
		if (environ[i] == value)
			return true;
		if (!strncmp(environ[i], name, name_len) && environ[i][name_len] == '=') {
			environ[i] = value;
			return true;
		}
	}
	return false;
}

int mh_config_mark_image(pid_t pid, const char *ring_path)
{
	char *add[2];
	size_t n, k = 0;
	char **env;

	write_marker(pid);
	if (!replace_var(MH_ENV_TRACED_PID, sizeof(MH_ENV_TRACED_PID) - 1, marker))
		add[k++] = marker;
	if (ring_path && strlen(ring_path) < sizeof(path_var) - sizeof(MH_ENV_RING_PATH) - 1) {
		memcpy(path_var, MH_ENV_RING_PATH "=", sizeof(MH_ENV_RING_PATH));
		memcpy(path_var + sizeof(MH_ENV_RING_PATH), ring_path, strlen(ring_path) + 1);
		if (!replace_var(MH_ENV_RING_PATH, sizeof(MH_ENV_RING_PATH) - 1, path_var))
			add[k++] = path_var;
	}
	if (!k)
		return 0;
	/* A new array, from mmap since malloc is not ours to call. */
	n = env_count();
	env = mh_sys_mmap(NULL, (n + k + 1) * sizeof(*env), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (env == MAP_FAILED)
		return -errno;
	if (n)
		memcpy(env, environ, n * sizeof(*env));
	memcpy(env + n, add, k * sizeof(*env));
	env[n + k] = NULL;
	environ = env;
	return 0;
}

int mh_config_set_ring_fd(int fd)
{
	write_number_var(ring_fd_var, MH_ENV_RING_FD "=", (unsigned long)fd);
	return replace_var(MH_ENV_RING_FD, sizeof(MH_ENV_RING_FD) - 1, ring_fd_var) ? 0 : -ENOENT;
}

void mh_config_mark_child(pid_t pid)
{
	/*
	 * Only our own buffer is rewritten: by now environ may be an array the
	 * program owns (bash frees its entries), so no slot of it is touched.
	 * If the program copied the environment, the marker goes stale; an
	 * exec in this child still reports itself EXECED (image_start()).
	 */
	if (marker[0])
		write_marker(pid);
}

static bool is_self(const char *entry, size_t len, const char *self_path)
{
	static const char base[] = "libmemhook.so";
	size_t blen = sizeof(base) - 1;

	if (self_path && strlen(self_path) == len && !memcmp(entry, self_path, len))
		return true;
	return len >= blen && !memcmp(entry + len - blen, base, blen) &&
	       (len == blen || entry[len - blen - 1] == '/');
}

/* Drop our path from an LD_PRELOAD value, in place. */
static void strip_preload(char *value, const char *self_path)
{
	char *out = value, *p = value;

	while (*p) {
		size_t len = strcspn(p, ": ");

		if (len && !is_self(p, len, self_path)) {
			if (out != value)
				*out++ = ':';
			memmove(out, p, len);
			out += len;
		}
		p += len;
		if (*p)
			p++;
	}
	*out = '\0';
}

void mh_config_strip_env(const char *self_path)
{
	static const char preload[] = "LD_PRELOAD=";
	size_t n = env_count(), i, kept = 0;

	for (i = 0; i < n; i++) {
		char *e = environ[i];

		if (!strncmp(e, "MEMHOOK_", 8))
			continue;
		if (!strncmp(e, preload, sizeof(preload) - 1)) {
			strip_preload(e + sizeof(preload) - 1, self_path);
			if (!e[sizeof(preload) - 1])
				continue;
		}
		environ[kept++] = e;
	}
	if (environ)
		environ[kept] = NULL;
}
