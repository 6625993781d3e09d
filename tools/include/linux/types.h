/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Just enough of the kernel's <linux/types.h> for the index's own code
 * that tools/ programs build in userspace (src/target/murmur3.c), so that
 * they compute exactly what the module does rather than a copy of it.
 */
#ifndef DDI_TOOLS_LINUX_TYPES_H
#define DDI_TOOLS_LINUX_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

#endif
