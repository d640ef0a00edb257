/* SPDX-License-Identifier: MIT */
/*
 * noevents.h - say why a program that ran sent no allocation events: the
 * preload library never loaded into it (a static executable has no
 * dynamic loader; the loader ignores LD_PRELOAD for a set-user-ID,
 * set-group-ID or file-capability program).
 */
#ifndef MEMHOOK_RECORDER_NOEVENTS_H
#define MEMHOOK_RECORDER_NOEVENTS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Find prog as execvp() would (PATH when it has no '/') and write to why
 * the most likely reason libmemhook.so did not load into it when run as
 * uid/gid: "PROG is statically linked (...)", "PROG is set-user-ID (...)",
 * or a general reason when nothing in the file explains it. Never fails;
 * not thread-safe (libelf's version is global).
 */
void mh_noevents_reason(const char *prog, uid_t uid, gid_t gid, char *why, size_t len);

#endif /* MEMHOOK_RECORDER_NOEVENTS_H */
