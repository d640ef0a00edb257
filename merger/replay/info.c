// SPDX-License-Identifier: MIT
/*
 * info.c - the INFO records the replay acts on (images.h): the trace's
 * kernel status and other trace-wide values, an image's arguments and the
 * end of its exit-time scan, children not followed, and execs the kernel
 * saw that never attached.
 * Never prints; keeps nothing per record.
 */
#include "merger/replay/images.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger/leaks/leaks.h"
#include "merger/replay/modmap.h"

/* An INFO record about the whole trace. */
struct mh_info_entry {
	char *key, *value;
	UT_hash_handle hh;
};

void mh_replay_infos_free(struct mh_replay *rp)
{
	struct mh_info_entry *e, *tmp;

	HASH_ITER(hh, rp->infos, e, tmp) {
		HASH_DEL(rp->infos, e);
		free(e->key);
		free(e->value);
		free(e);
	}
}

const char *mh_replay_info(const struct mh_replay *rp, const char *key)
{
	struct mh_info_entry *e;

	HASH_FIND_STR(rp->infos, key, e);
	return e ? e->value : NULL;
}

/* Keep a trace-wide INFO value; a later one with the same key replaces it. */
static int keep_info(struct mh_replay *rp, const char *key, size_t key_len, const char *value,
		     size_t value_len)
{
	char *v = strndup(value, value_len);
	struct mh_info_entry *e;

	if (!v)
		return -ENOMEM;
	HASH_FIND(hh, rp->infos, key, key_len, e);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strndup(key, key_len))) {
			free(e);
			free(v);
			return -ENOMEM;
		}
		HASH_ADD_KEYPTR(hh, rp->infos, e->key, strlen(e->key), e);
	}
	free(e->value);
	e->value = v;
	return 0;
}

static bool key_is(const struct mh_rec_info *i, const char *key, const char *name)
{
	return i->key_len == strlen(name) && !memcmp(key, name, i->key_len);
}

/*
 * The kernel saw pid exec path at ts (INFO "exec", recorder/procwatch.h).
 * Unless the image has already announced itself (its PROCESS record is as
 * late or later), the pid's image is replaced by a new one, named by
 * path and "untraced" until its own PROCESS record adopts it.
 */
static int exec_seen(struct mh_replay *rp, uint32_t pid, uint64_t ts, const char *path,
		     size_t path_len)
{
	struct mh_process *cur = mh_replay_current(rp, pid), *p;

	/* Announced at or after the exec: that image is the exec's. Never announced: unknown yet. */
	if (cur && ((cur->start && cur->start_ts_ns >= ts) || (!cur->start && !cur->untraced_why)))
		return 0;
	if (cur) {
		mh_replay_end_by_exec(rp, cur);
		mh_modmap_exec(rp->modules, pid);
	}
	p = mh_replay_new_image(rp, pid);
	if (!p)
		return -ENOMEM;
	p->exec_index = cur ? cur->exec_index + 1 : 0;
	p->ppid = cur ? cur->ppid : 0;
	p->start_ts_ns = ts;
	p->command = strndup(path, path_len);
	p->untraced_why = strdup("it did not attach to the recording (the preload's message on stderr says why)");
	return p->command && p->untraced_why ? 0 : -ENOMEM;
}

/* INFO "exec.why": why the image just exec'd cannot attach, if it did not. */
static int exec_why(struct mh_replay *rp, uint32_t pid, const char *why, size_t len)
{
	struct mh_process *p = mh_replay_current(rp, pid);

	if (!p || !p->untraced_why)
		return 0;
	free(p->untraced_why);
	p->untraced_why = strndup(why, len);
	return p->untraced_why ? 0 : -ENOMEM;
}

/* Count a child that ran untraced, once per pid. */
static int note_untraced(struct mh_replay *rp, uint32_t pid)
{
	struct mh_pid_entry *e;

	HASH_FIND(hh, rp->untraced, &pid, sizeof(pid), e);
	if (e)
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->pid = pid;
	HASH_ADD(hh, rp->untraced, pid, sizeof(e->pid), e);
	rp->untraced_children++;
	return 0;
}

/* The arguments of the image just announced (the preload sends them after its PROCESS). */
static int set_argv(struct mh_process *p, const char *value, uint32_t len)
{
	char *argv = malloc((size_t)len + 1);

	if (!argv)
		return -ENOMEM;
	memcpy(argv, value, len);
	argv[len] = '\0';
	free(p->argv);
	p->argv = argv;
	p->argv_len = len;
	return 0;
}

/*
 * INFO records about a process: its arguments, a child not followed, and
 * the end of its exit-time scan, which names the image its verdicts are
 * for (they came before it, without a timestamp).
 */
int mh_replay_on_info(struct mh_replay *rp, const struct mh_rec_info *i)
{
	const char *key = (const char *)(i + 1), *value = key + i->key_len + 1;
	struct mh_process *p;

	if (i->hdr.size < sizeof(*i) + (size_t)i->key_len + i->value_len + 2)
		return -EBADMSG;
	if (key_is(i, key, "kernel.status")) {
		free(rp->kernel_status);
		rp->kernel_status = strndup(value, i->value_len);
		if (!rp->kernel_status)
			return -ENOMEM;
	}
	if (!i->pid)
		return keep_info(rp, key, i->key_len, value, i->value_len);
	if (key_is(i, key, "exec"))
		return exec_seen(rp, i->pid, i->ts_ns, value, i->value_len);
	if (key_is(i, key, "exec.why"))
		return exec_why(rp, i->pid, value, i->value_len);
	if (key_is(i, key, "process.untraced"))
		return note_untraced(rp, i->pid);
	if (!key_is(i, key, "process.argv") && !key_is(i, key, "leakscan.status"))
		return 0;
	p = mh_replay_process(rp, i->pid);
	if (!p)
		return -ENOMEM;
	if (key_is(i, key, "process.argv"))
		return set_argv(p, value, i->value_len);
	free(p->leakscan_status);
	p->leakscan_status = strndup(value, i->value_len);
	return p->leakscan_status ? mh_leaks_adopt(rp, p) : -ENOMEM;
}
