/* SPDX-License-Identifier: MIT */
/*
 * units.h - figures as people read them: bytes in binary units. Shared by
 * the reports and the recording's status line.
 */
#ifndef MEMHOOK_COMMON_UNITS_H
#define MEMHOOK_COMMON_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes as "512 B", "1.5 KiB", "3.2 GiB" in buf; returns buf. Thread-safe. */
const char *mh_human_bytes(uint64_t bytes, char *buf, size_t len);

#endif /* MEMHOOK_COMMON_UNITS_H */
