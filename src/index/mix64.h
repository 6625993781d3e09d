/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A 64-bit mixer for the index and its tests: where bits that are not
 * random enough (a delta list's sorted addresses, a generator's counter)
 * must pick filter bits or fake names, this spreads every input bit over
 * every output bit. The target's MurmurHash3 has the same finaliser as
 * part of that hash's definition; the layers share no headers, so it keeps
 * its own.
 */
#ifndef DDI_MIX64_H
#define DDI_MIX64_H

#include <linux/types.h>

/* A bijection: two xor-shift steps and two odd multiplies, each invertible. */
static inline u64 ddi_mix64(u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif /* DDI_MIX64_H */
