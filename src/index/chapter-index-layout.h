/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * On-disk layout of a chapter index page, shared by the code that packs
 * pages and the code that reads them back. All fields are little-endian.
 *
 *   0  magic     "DDICHIX1"
 *   8  vcn       virtual chapter number
 *  16  nonce     the volume's nonce
 *  24  lowest    first delta list on the page
 *  28  highest   last delta list; lowest - 1 when the page holds none
 *  32  crc       crc32_le of the whole page with this field taken as zero
 *  36  entries   entries coded on the page
 *  40  offsets   u16 bit offset of each list's start in the stream, plus
 *                one for the end of the last list
 *  ..  stream    the lists' entries, packed by bit-stream.h
 *
 * Each entry: the gap from the previous key in its list (from 0 for the
 * first) Rice-coded with parameter k = chapter_mean_delta_bits, that is
 * gap >> k in unary (ones ended by a zero) and the low k bits; then the
 * record page in chapter_payload_bits. An entry after the first whose gap
 * is zero collides with the key before it, and carries the full 16-byte
 * name as well so the right one of the colliding names can be told apart.
 */
#ifndef DDI_CHAPTER_INDEX_LAYOUT_H
#define DDI_CHAPTER_INDEX_LAYOUT_H

#include <linux/crc32.h>

#include "geometry.h"

enum {
	DDI_CI_VCN = 8,
	DDI_CI_NONCE = 16,
	DDI_CI_LOWEST = 24,
	DDI_CI_HIGHEST = 28,
	DDI_CI_CRC = 32,
	DDI_CI_ENTRIES = 36,
	DDI_CI_OFFSETS = DDI_INDEX_PAGE_HEADER_BYTES,
	DDI_CI_COLLISION_NAME_BITS = DDI_NAME_SIZE * 8,
};

#define DDI_CI_MAGIC "DDICHIX1"
#define DDI_CI_MAGIC_BYTES 8

/* Bytes of a page taken by the header and the offsets of @lists lists. */
static inline u32 ddi_ci_stream_start(u32 lists)
{
	return DDI_CI_OFFSETS + sizeof(u16) * (lists + 1);
}

static inline u32 ddi_ci_page_crc(const u8 *page, u32 page_bytes)
{
	static const u8 zero_crc[sizeof(u32)];
	u32 crc = crc32_le(~0, page, DDI_CI_CRC);

	crc = crc32_le(crc, zero_crc, sizeof(zero_crc));
	return crc32_le(crc, page + DDI_CI_CRC + sizeof(u32),
			page_bytes - DDI_CI_CRC - sizeof(u32));
}

#endif /* DDI_CHAPTER_INDEX_LAYOUT_H */
