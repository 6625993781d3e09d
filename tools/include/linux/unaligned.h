/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-ins for the kernel's little-endian unaligned access. */
#ifndef DDI_TOOLS_LINUX_UNALIGNED_H
#define DDI_TOOLS_LINUX_UNALIGNED_H

#include <endian.h>
#include <string.h>
#include <linux/types.h>

static inline u64 get_unaligned_le64(const void *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void put_unaligned_le64(u64 v, void *p)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

#endif
