/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The shape of an index volume: how records are grouped into pages, pages
 * into chapters and chapters into the circular volume on disk.
 */
#ifndef DDI_GEOMETRY_H
#define DDI_GEOMETRY_H

#include <linux/bits.h>
#include <linux/dm-dedup-index.h>
#include <linux/math64.h>

enum {
	/* The index device's unit: every volume page, superblock and save block. */
	DDI_BLOCK_BYTES = 4096,
	DDI_BYTES_PER_RECORD = sizeof(struct ddi_record),
	/* Page 0 of the volume holds its header; chapters start at page 1. */
	DDI_HEADER_PAGES = 1,
	/*
	 * A record page keeps its last record-sized slot for a header (magic,
	 * chapter, nonce, checksum), so 127 records form a perfect binary tree.
	 */
	DDI_RECORDS_PER_PAGE = DDI_BLOCK_BYTES / DDI_BYTES_PER_RECORD - 1,
	/* Header of a chapter index page, before its list offset table. */
	DDI_INDEX_PAGE_HEADER_BYTES = 40,
	/* Each delta list on an index page costs one 16-bit offset. */
	DDI_INDEX_PAGE_OFFSET_BITS = 16,
	/* Mean gap between neighbouring keys in a chapter delta list. */
	DDI_CHAPTER_MEAN_DELTA_BITS = 14,
	/* A chapter index aims at this many entries per delta list. */
	DDI_CHAPTER_LIST_TARGET_ENTRIES = 32,
	DDI_MAX_RECORD_PAGES_PER_CHAPTER = 1024,
	DDI_MAX_INDEX_PAGES_PER_CHAPTER = 255,
	DDI_MIN_CHAPTERS_PER_VOLUME = 2,
};

/*
 * The highest chapter number the index believes, on a page or in a save.
 * Chapter numbers are compared as s64 in places (the chapter writer's close
 * target and written end) and incremented everywhere, so a crafted page or
 * save must not bring one near 2^63 or 2^64; at one chapter a second a real
 * index takes over 10^11 years to get to 2^62.
 */
#define DDI_MAX_VCN BIT_ULL(62)

struct ddi_geometry {
	u32 bytes_per_page;
	u32 records_per_page;
	/* A chapter: its index pages first, then its record pages. */
	u32 index_pages_per_chapter;
	u32 record_pages_per_chapter;
	u32 pages_per_chapter;
	u32 records_per_chapter;
	/* The volume: a circular log of this many chapters. */
	u32 chapters_per_volume;
	/* Chapter pages in the volume, not counting the header page. */
	u32 pages_per_volume;
	u64 records_per_volume;
	/* Bytes of disk the whole volume needs, header page included. */
	u64 bytes_per_volume;

	/*
	 * How the chapter index splits a name's first eight bytes: the low
	 * address bits are the key kept in a delta list, the bits above them
	 * pick the list. Record page numbers are stored in payload bits.
	 */
	u32 delta_lists_per_chapter;
	u8 chapter_delta_list_bits;
	u8 chapter_address_bits;
	u8 chapter_mean_delta_bits;
	u8 chapter_payload_bits;

	/*
	 * A sparse volume: its oldest sparse_chapters_per_volume chapters keep
	 * only their hooks, a name in sparse_sample_rate, in the volume index.
	 * Both 0 for a dense volume.
	 */
	u32 sparse_chapters_per_volume;
	u32 sparse_sample_rate;
};

int ddi_geometry_init(struct ddi_geometry *geo, u32 record_pages_per_chapter,
		      u32 chapters_per_volume);
int ddi_geometry_init_sparse(struct ddi_geometry *geo, u32 record_pages_per_chapter,
			     u32 chapters_per_volume);
int ddi_geometry_validate(const struct ddi_geometry *geo);
void ddi_geometry_volume_index_part(const struct ddi_geometry *geo, bool hooks,
				    struct ddi_geometry *part);

static inline bool ddi_geometry_is_sparse(const struct ddi_geometry *geo)
{
	return geo->sparse_chapters_per_volume != 0;
}

/* The newest chapters, which keep every name in the volume index. */
static inline u32 ddi_geometry_dense_chapters(const struct ddi_geometry *geo)
{
	return geo->chapters_per_volume - geo->sparse_chapters_per_volume;
}

/*
 * Whether a name is a hook of a sparse volume. Byte 10 is used by nothing
 * else that picks a place for the name (the zone takes bytes 12 to 15, the
 * chapter index bytes 0 to 7, and the volume index mixes bytes 8 to 15
 * through a multiply), so hooks spread evenly over zones and lists.
 */
static inline bool ddi_geometry_is_hook(const struct ddi_geometry *geo,
					const struct ddi_name *name)
{
	return geo->sparse_sample_rate &&
	       (name->bytes[10] & (geo->sparse_sample_rate - 1)) == 0;
}

static inline u32 ddi_physical_chapter(const struct ddi_geometry *geo, u64 vcn)
{
	return do_div(vcn, geo->chapters_per_volume);
}

static inline u32 ddi_physical_page(const struct ddi_geometry *geo,
				    u32 chapter, u32 page)
{
	return DDI_HEADER_PAGES + chapter * geo->pages_per_chapter + page;
}

static inline u32 ddi_page_chapter(const struct ddi_geometry *geo, u32 physical_page)
{
	return (physical_page - DDI_HEADER_PAGES) / geo->pages_per_chapter;
}

static inline u32 ddi_page_in_chapter(const struct ddi_geometry *geo, u32 physical_page)
{
	return (physical_page - DDI_HEADER_PAGES) % geo->pages_per_chapter;
}

static inline bool ddi_is_record_page(const struct ddi_geometry *geo, u32 physical_page)
{
	return ddi_page_in_chapter(geo, physical_page) >= geo->index_pages_per_chapter;
}

u32 ddi_geometry_delta_list(const struct ddi_geometry *geo, const struct ddi_name *name);
u32 ddi_geometry_chapter_address(const struct ddi_geometry *geo, const struct ddi_name *name);

#endif /* DDI_GEOMETRY_H */
