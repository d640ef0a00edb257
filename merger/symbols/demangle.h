/* SPDX-License-Identifier: MIT */
/*
 * demangle.h - C++ symbol demangling, as `addr2line -C` prints names.
 *
 * Uses the C++ runtime's __cxa_demangle, looked up in libstdc++.so.6 at
 * first use, so the memhook command does not link the C++ runtime. Where
 * it is not installed, names stay mangled (consistently). Never prints.
 */
#ifndef MEMHOOK_MERGER_SYMBOLS_DEMANGLE_H
#define MEMHOOK_MERGER_SYMBOLS_DEMANGLE_H

/*
 * A malloc'd copy of name, demangled when it is a mangled C++ name
 * ("_Z..."). NULL with errno set (ENOMEM).
 */
char *mh_demangle(const char *name);

#endif /* MEMHOOK_MERGER_SYMBOLS_DEMANGLE_H */
