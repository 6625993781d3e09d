/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MurmurHash3, x64 128-bit variant (Austin Appleby's public-domain design):
 * a fast non-cryptographic hash whose output is spread well enough to serve
 * directly as a record name.
 */
#ifndef DDI_MURMUR3_H
#define DDI_MURMUR3_H

#include <linux/types.h>

#define DDI_MURMUR3_BYTES 16

void ddi_murmur3_128(const void *data, size_t length, u32 seed, u8 hash[DDI_MURMUR3_BYTES]);

#endif /* DDI_MURMUR3_H */
