// SPDX-License-Identifier: GPL-2.0-only
/*
 * MurmurHash3 x64-128. Two 64-bit lanes absorb the input 16 bytes at a
 * time; the final avalanche makes every output bit depend on every input
 * bit. Byte order is fixed (little-endian reads, h1 then h2 stored
 * little-endian) so names are the same on every machine and match the
 * published test vectors.
 */

#include <linux/bitops.h>
#include <linux/unaligned.h>

#include "murmur3.h"

#define MIX_C1 0x87c37b91114253d5ULL
#define MIX_C2 0x4cf5ad432745937fULL

static inline u64 scramble_k1(u64 k1)
{
	return rol64(k1 * MIX_C1, 31) * MIX_C2;
}

static inline u64 scramble_k2(u64 k2)
{
	return rol64(k2 * MIX_C2, 33) * MIX_C1;
}

/* The finalizer: a bijection that flips each output bit with ~1/2 chance per input bit. */
static inline u64 avalanche(u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/* Little-endian value of the @count (< 8) bytes at @bytes. */
static inline u64 partial_le64(const u8 *bytes, size_t count)
{
	u64 value = 0;

	while (count-- > 0)
		value = (value << 8) | bytes[count];
	return value;
}

/**
 * ddi_murmur3_128() - Hash a buffer with MurmurHash3 x64-128.
 * @data: the bytes to hash.
 * @length: how many.
 * @seed: the seed; 0 for the standard hash.
 * @hash: the 16-byte result.
 */
void ddi_murmur3_128(const void *data, size_t length, u32 seed, u8 hash[DDI_MURMUR3_BYTES])
{
	const u8 *bytes = data;
	size_t blocks = length / 16;
	size_t tail = length % 16;
	u64 h1 = seed, h2 = seed;
	size_t i;

	for (i = 0; i < blocks; i++, bytes += 16) {
		h1 ^= scramble_k1(get_unaligned_le64(bytes));
		h1 = (rol64(h1, 27) + h2) * 5 + 0x52dce729;
		h2 ^= scramble_k2(get_unaligned_le64(bytes + 8));
		h2 = (rol64(h2, 31) + h1) * 5 + 0x38495ab5;
	}

	if (tail > 8)
		h2 ^= scramble_k2(partial_le64(bytes + 8, tail - 8));
	if (tail >= 8)
		h1 ^= scramble_k1(get_unaligned_le64(bytes));
	else if (tail > 0)
		h1 ^= scramble_k1(partial_le64(bytes, tail));

	h1 ^= length;
	h2 ^= length;
	h1 += h2;
	h2 += h1;
	h1 = avalanche(h1);
	h2 = avalanche(h2);
	h1 += h2;
	h2 += h1;
	put_unaligned_le64(h1, hash);
	put_unaligned_le64(h2, hash + 8);
}
