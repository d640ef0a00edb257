/* SPDX-License-Identifier: MIT */
/*
 * version.h - the memhook release, printed by --version (with the git
 * revision, $(O)/gen/revision.h from scripts/revision.sh) and recorded in
 * every trace's INFO "memhook.version".
 */
#ifndef MEMHOOK_CLI_VERSION_H
#define MEMHOOK_CLI_VERSION_H

#define MH_VERSION "0.1.0"

#endif /* MEMHOOK_CLI_VERSION_H */
