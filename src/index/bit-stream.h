/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bit fields packed least-significant bit first into a byte array: bit n
 * of a stream is bit (n % 8) of byte n / 8. Chapter index pages store
 * their delta lists this way.
 */
#ifndef DDI_BIT_STREAM_H
#define DDI_BIT_STREAM_H

#include <linux/bits.h>
#include <linux/minmax.h>
#include <linux/types.h>
#include <linux/unaligned.h>

/* OR @bits (at most 64) bits of @value into @stream at bit @offset. */
static inline void ddi_put_bits(u8 *stream, u32 offset, u64 value, u32 bits)
{
	while (bits > 0) {
		u32 shift = offset % 8;
		u32 take = min(8 - shift, bits);

		stream[offset / 8] |= (value & GENMASK_ULL(take - 1, 0)) << shift;
		value >>= take;
		offset += take;
		bits -= take;
	}
}

/*
 * Read @bits (at most 56) bits at bit @offset of a stream of @stream_bytes
 * bytes. The caller has checked that offset + bits fits in the stream; the
 * wide load is only taken when all eight bytes it touches do too.
 */
static inline u64 ddi_get_bits(const u8 *stream, u32 stream_bytes, u32 offset, u32 bits)
{
	u32 byte = offset / 8;
	u32 shift = offset % 8;
	u64 value = 0;
	u32 got = 0;

	if (bits == 0)
		return 0;
	if (byte + 8 <= stream_bytes)
		return (get_unaligned_le64(stream + byte) >> shift) & GENMASK_ULL(bits - 1, 0);

	while (got < bits) {
		u32 take = min(8 - shift, bits - got);

		value |= (u64)((stream[byte] >> shift) & GENMASK(take - 1, 0)) << got;
		got += take;
		byte++;
		shift = 0;
	}
	return value;
}

#endif /* DDI_BIT_STREAM_H */
