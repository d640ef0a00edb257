/* SPDX-License-Identifier: MIT */
/*
 * own.h - the registry of memhook's own memory inside a traced process,
 * so the recorder can leave it out of the program's figures and roots.
 *
 * libmemhook.so exports one struct mh_own_registry under the dynamic
 * symbol MH_OWN_REGISTRY_SYMBOL. The preload fills it as it maps its
 * tables (anonymous memory the kernel cannot name on every system) and
 * says where its static TLS block sits; the recorder finds it through
 * the library's .dynsym and reads it with process_vm_readv. What the
 * program can write is input to check: the recorder uses only ranges
 * that /proc/PID/maps confirms, and a registry without MH_OWN_MAGIC is
 * ignored.
 *
 * Never reorder or resize a field: the recorder and the preload of one
 * build agree on it, and a mismatch is caught by the magic.
 */
#ifndef MEMHOOK_INCLUDE_OWN_H
#define MEMHOOK_INCLUDE_OWN_H

#include <linux/types.h>

#define MH_OWN_REGISTRY_SYMBOL "mh_own_registry"
#define MH_OWN_MAGIC 0x314e574f4b4f4f48ULL	/* "HOOKOWN1" little-endian */
/* Anonymous mappings of the preload a registry can hold. */
#define MH_OWN_RANGES 8

struct mh_own_range {
	__u64 start;		/* page-aligned first byte */
	__u64 bytes;		/* length, bytes */
};

struct mh_own_registry {
	__u64 magic;		/* MH_OWN_MAGIC once the preload has filled it */
	__u32 range_count;	/* entries of ranges[] in use */
	__u32 pad;
	__s64 tls_offset;	/* the preload's static TLS block: thread pointer + this, bytes */
	__u64 tls_bytes;	/* its size, bytes; 0 if the preload has no TLS */
	struct mh_own_range ranges[MH_OWN_RANGES]; /* the preload's own anonymous mappings */
};

_Static_assert(sizeof(struct mh_own_registry) == 32 + 16 * MH_OWN_RANGES, "own registry size");

#endif /* MEMHOOK_INCLUDE_OWN_H */
