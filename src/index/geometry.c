// SPDX-License-Identifier: GPL-2.0-only
/*
 * Volume geometry: derives every size of the on-disk volume from two
 * choices, the record pages per chapter and the chapters per volume.
 */

#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "geometry.h"

/*
 * An upper bound on the bits one chapter's index can need, whatever the
 * names. An entry costs the remainder bits, a stop bit and the payload; the
 * unary quotients of one list add up to at most its address span shifted
 * down by the remainder bits, because the deltas of a sorted list sum to
 * less than that span.
 */
static u64 chapter_index_bits_bound(const struct ddi_geometry *geo)
{
	u32 k = geo->chapter_mean_delta_bits;
	u64 entry_bits = k + 1 + geo->chapter_payload_bits;
	u64 quotient_bits = 1ULL << (geo->chapter_address_bits - k);

	return geo->records_per_chapter * entry_bits +
	       geo->delta_lists_per_chapter * (quotient_bits + DDI_INDEX_PAGE_OFFSET_BITS);
}

static u32 index_pages_per_chapter(const struct ddi_geometry *geo)
{
	u32 page_bits = (DDI_BLOCK_BYTES - DDI_INDEX_PAGE_HEADER_BYTES) * 8 -
			DDI_INDEX_PAGE_OFFSET_BITS;
	u32 mean_entries = DIV_ROUND_UP(geo->records_per_chapter,
					geo->delta_lists_per_chapter);
	/*
	 * Lists never straddle pages, so a page may end with room that its
	 * next list does not fit in. Allow two average lists of it per page,
	 * plus a spare page, so hashed names essentially never overflow.
	 */
	u32 mean_list_bits = mean_entries * (geo->chapter_mean_delta_bits + 2 +
					     geo->chapter_payload_bits) +
			     DDI_INDEX_PAGE_OFFSET_BITS;
	u32 usable = page_bits - min(page_bits / 2, 2 * mean_list_bits);

	return DIV_ROUND_UP_ULL(chapter_index_bits_bound(geo), usable) + 1;
}

/**
 * ddi_geometry_init() - Compute a volume geometry.
 * @geo: the geometry to fill in.
 * @record_pages_per_chapter: record pages in each chapter.
 * @chapters_per_volume: chapters kept in the circular volume.
 *
 * Return: 0, or -EINVAL if no valid volume has this shape.
 */
int ddi_geometry_init(struct ddi_geometry *geo, u32 record_pages_per_chapter,
		      u32 chapters_per_volume)
{
	u32 lists;
	u64 pages;

	memset(geo, 0, sizeof(*geo));
	if (record_pages_per_chapter == 0 ||
	    record_pages_per_chapter > DDI_MAX_RECORD_PAGES_PER_CHAPTER ||
	    chapters_per_volume < DDI_MIN_CHAPTERS_PER_VOLUME)
		return -EINVAL;

	geo->bytes_per_page = DDI_BLOCK_BYTES;
	geo->records_per_page = DDI_RECORDS_PER_PAGE;
	geo->record_pages_per_chapter = record_pages_per_chapter;
	geo->records_per_chapter = record_pages_per_chapter * DDI_RECORDS_PER_PAGE;
	geo->chapters_per_volume = chapters_per_volume;

	lists = rounddown_pow_of_two(max_t(u32, 1, geo->records_per_chapter /
					   DDI_CHAPTER_LIST_TARGET_ENTRIES));
	geo->delta_lists_per_chapter = lists;
	geo->chapter_delta_list_bits = ilog2(lists);
	geo->chapter_mean_delta_bits = DDI_CHAPTER_MEAN_DELTA_BITS;
	geo->chapter_address_bits = DDI_CHAPTER_MEAN_DELTA_BITS +
		order_base_2(DIV_ROUND_UP(geo->records_per_chapter, lists));
	geo->chapter_payload_bits = max(1, order_base_2(record_pages_per_chapter));

	geo->index_pages_per_chapter = index_pages_per_chapter(geo);
	geo->pages_per_chapter = geo->index_pages_per_chapter + record_pages_per_chapter;

	pages = (u64)geo->pages_per_chapter * chapters_per_volume;
	if (pages + DDI_HEADER_PAGES > U32_MAX)
		return -EINVAL;
	geo->pages_per_volume = pages;
	geo->records_per_volume = (u64)geo->records_per_chapter * chapters_per_volume;
	geo->bytes_per_volume = (pages + DDI_HEADER_PAGES) * DDI_BLOCK_BYTES;

	return ddi_geometry_validate(geo);
}

/**
 * ddi_geometry_init_sparse() - Compute the geometry of a sparse volume.
 * @geo: the geometry to fill in.
 * @record_pages_per_chapter: record pages in each chapter.
 * @chapters_per_volume: chapters kept in the circular volume, at least 3.
 *
 * The newest twentieth of the chapters stays dense, the open chapter
 * counted, and never fewer than 2 (the open chapter and the one written
 * last, which a run of duplicates is likely still reading); the rest keep
 * their hooks only.
 *
 * Return: 0, or -EINVAL if no valid sparse volume has this shape.
 */
int ddi_geometry_init_sparse(struct ddi_geometry *geo, u32 record_pages_per_chapter,
			     u32 chapters_per_volume)
{
	int ret = ddi_geometry_init(geo, record_pages_per_chapter, chapters_per_volume);

	if (ret)
		return ret;
	geo->sparse_chapters_per_volume =
		chapters_per_volume - max(2U, chapters_per_volume / 20);
	geo->sparse_sample_rate = DDI_SPARSE_SAMPLE_RATE;
	return ddi_geometry_validate(geo);
}

/**
 * ddi_geometry_volume_index_part() - The shape a part of the volume index covers.
 * @geo: the volume geometry.
 * @hooks: the part for hooks (a sparse volume's every chapter) rather than
 *	for all names of the dense chapters.
 * @part: set to @geo with its chapter count and records changed to what
 *	the part spans and holds; the volume index sizes itself by these.
 *
 * A dense volume has one part, with every chapter and record.
 */
void ddi_geometry_volume_index_part(const struct ddi_geometry *geo, bool hooks,
				    struct ddi_geometry *part)
{
	*part = *geo;
	if (!ddi_geometry_is_sparse(geo))
		return;
	if (hooks) {
		part->records_per_volume = DIV_ROUND_UP_ULL(geo->records_per_volume,
							    geo->sparse_sample_rate);
	} else {
		part->chapters_per_volume = ddi_geometry_dense_chapters(geo);
		part->records_per_volume = (u64)geo->records_per_chapter *
					   part->chapters_per_volume;
	}
}

/**
 * ddi_geometry_validate() - Check that a geometry describes a usable volume.
 * @geo: the geometry, freshly computed or decoded from disk.
 *
 * A geometry read back from disk must pass this before any of its sizes
 * are used to allocate memory or compute page numbers.
 *
 * Return: 0, or -EINVAL naming no particular field (the caller knows where
 * the geometry came from and reports that).
 */
int ddi_geometry_validate(const struct ddi_geometry *geo)
{
	u64 pages;

	if (geo->bytes_per_page != DDI_BLOCK_BYTES ||
	    geo->records_per_page != DDI_RECORDS_PER_PAGE ||
	    geo->record_pages_per_chapter == 0 ||
	    geo->record_pages_per_chapter > DDI_MAX_RECORD_PAGES_PER_CHAPTER ||
	    geo->records_per_chapter !=
		geo->record_pages_per_chapter * geo->records_per_page ||
	    geo->index_pages_per_chapter == 0 ||
	    geo->index_pages_per_chapter > DDI_MAX_INDEX_PAGES_PER_CHAPTER ||
	    geo->pages_per_chapter !=
		geo->index_pages_per_chapter + geo->record_pages_per_chapter ||
	    geo->chapters_per_volume < DDI_MIN_CHAPTERS_PER_VOLUME)
		return -EINVAL;

	pages = (u64)geo->pages_per_chapter * geo->chapters_per_volume;
	if (pages + DDI_HEADER_PAGES > U32_MAX || geo->pages_per_volume != pages ||
	    geo->records_per_volume !=
		(u64)geo->records_per_chapter * geo->chapters_per_volume ||
	    geo->bytes_per_volume != (pages + DDI_HEADER_PAGES) * DDI_BLOCK_BYTES)
		return -EINVAL;

	/* The index page map stores list counts in 16 bits. */
	if (!is_power_of_2(geo->delta_lists_per_chapter) ||
	    geo->delta_lists_per_chapter > U16_MAX ||
	    geo->chapter_delta_list_bits != ilog2(geo->delta_lists_per_chapter) ||
	    geo->chapter_mean_delta_bits == 0 ||
	    geo->chapter_address_bits <= geo->chapter_mean_delta_bits ||
	    geo->chapter_address_bits > 32 ||
	    geo->chapter_address_bits + geo->chapter_delta_list_bits > 64 ||
	    geo->chapter_payload_bits == 0 || geo->chapter_payload_bits > 16 ||
	    (1ULL << geo->chapter_payload_bits) < geo->record_pages_per_chapter)
		return -EINVAL;

	if (geo->sparse_chapters_per_volume == 0)
		return geo->sparse_sample_rate ? -EINVAL : 0;
	if (geo->sparse_sample_rate != DDI_SPARSE_SAMPLE_RATE ||
	    geo->sparse_chapters_per_volume + DDI_MIN_CHAPTERS_PER_VOLUME >
	    geo->chapters_per_volume)
		return -EINVAL;
	return 0;
}

static u64 chapter_index_bits(const struct ddi_name *name)
{
	return get_unaligned_be64(name->bytes);
}

/**
 * ddi_geometry_delta_list() - Which chapter delta list a name belongs to.
 * @geo: the volume geometry.
 * @name: the record name.
 *
 * Return: the list number, below @geo->delta_lists_per_chapter.
 */
u32 ddi_geometry_delta_list(const struct ddi_geometry *geo, const struct ddi_name *name)
{
	return (chapter_index_bits(name) >> geo->chapter_address_bits) &
	       (geo->delta_lists_per_chapter - 1);
}

/**
 * ddi_geometry_chapter_address() - The key a name has within its delta list.
 * @geo: the volume geometry.
 * @name: the record name.
 *
 * Return: the low @geo->chapter_address_bits of the name's index bits.
 */
u32 ddi_geometry_chapter_address(const struct ddi_geometry *geo, const struct ddi_name *name)
{
	return chapter_index_bits(name) & ((1ULL << geo->chapter_address_bits) - 1);
}
