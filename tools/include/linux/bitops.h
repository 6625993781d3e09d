/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace stand-in for the kernel's rol64(); see types.h here. */
#ifndef DDI_TOOLS_LINUX_BITOPS_H
#define DDI_TOOLS_LINUX_BITOPS_H

#include <linux/types.h>

static inline u64 rol64(u64 word, unsigned int shift)
{
	return (word << (shift & 63)) | (word >> ((-shift) & 63));
}

#endif
