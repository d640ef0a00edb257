/* SPDX-License-Identifier: MIT */
/*
 * version.h - the memhook release, printed by --version (with the git
 * revision, $(O)/cli/revision.h from scripts/revision.sh) and recorded in
 * every trace's INFO "memhook.version".
 */
#ifndef MEMHOOK_COMMON_VERSION_H
#define MEMHOOK_COMMON_VERSION_H

#define MH_VERSION "0.1.0"

#endif /* MEMHOOK_COMMON_VERSION_H */
