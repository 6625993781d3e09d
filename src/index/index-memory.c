// SPDX-License-Identifier: GPL-2.0-only
/*
 * The index's RAM, and the volume shape that "memory N" buys.
 *
 * Every part of the index says what it allocates for a shape: the volume
 * index, the volume (its page cache's dm-bufio buffers, its maps), each
 * zone's open chapter and the chapter being written, the answer thread and
 * the chapter writer, and for a sparse volume its hooks and sparse cache.
 * ddi_index_memory_bytes() adds them up; it is what "stats"
 * reports, and what the shape for "memory N" is chosen by: the largest
 * volume whose index, with the default cache and the default bound on the
 * target's posts in flight, fits in N MiB.
 *
 * Indexes formatted before "memory" was a RAM budget had the UDS shapes
 * (64 record pages of 4 KiB per chapter below 1 GiB, 256 above), with
 * windows 7 to 8 times smaller for the same N. The legacy shape for N is
 * still opened as it is, so that an index on disk keeps working.
 */

#include <linux/dm-dedup-index.h>
#include <linux/minmax.h>

#include "chapter-index.h"
#include "index.h"

/*
 * The shape is planned for one zone (others differ by under 1%), the
 * default cache and readers, and posts in flight at the target's default
 * bound: the shape must not change with options a table may change.
 */
enum {
	PLAN_CACHE_CHAPTERS = 7,
	PLAN_READERS = 2,
	PLAN_POST_BYTES = 4 << 20,
	PLAN_CHAPTERS_STEP = 1024,
	PLAN_SPARSE_CHAPTERS_STEP = 10 * PLAN_CHAPTERS_STEP,
};

/**
 * ddi_index_memory_bytes() - RAM an index of this shape holds.
 * @geo: the volume geometry.
 * @zone_count: its zone threads.
 * @reader_count: its reader threads.
 * @cache_chapters: its page cache, in chapters of record pages.
 *
 * Return: the bytes ddi_index_open() allocates and keeps until close, less
 * dm-bufio's reserve of a few pages (ddi_volume_reserve_bytes(), which
 * "stats" adds), or 0 if the volume index would refuse the shape for
 * @zone_count zones. A save or a load streams through at most 128 more
 * dm-bufio blocks.
 */
u64 ddi_index_memory_bytes(const struct ddi_geometry *geo, unsigned int zone_count,
			   unsigned int reader_count, unsigned int cache_chapters)
{
	struct ddi_volume_config volume = {
		.zone_count = zone_count,
		.reader_count = reader_count,
		.cache_chapters = cache_chapters,
	};
	u64 volume_index = ddi_index_volume_index_bytes(geo, zone_count);

	if (!volume_index)
		return 0;
	return kmalloc_size_roundup(sizeof(struct ddi_index)) + volume_index +
	       ddi_volume_memory_bytes(geo, &volume) +
	       zone_count * (kmalloc_size_roundup(sizeof(struct ddi_index_zone)) +
			     2 * ddi_open_chapter_zone_memory_bytes(geo, zone_count) +
			     DDI_THREAD_BYTES) +
	       DDI_THREAD_BYTES + ddi_chapter_writer_memory_bytes(geo);
}

/**
 * ddi_index_memory_planned() - What "memory N" plans to spend on a shape.
 * @geo: the volume geometry.
 *
 * Return: the index's RAM with one zone (or, for a volume index too large
 * for one, the most zones), the default cache and readers, plus the posts
 * in flight at the target's default bound; U64_MAX if no zone count can
 * hold the volume index.
 */
u64 ddi_index_memory_planned(const struct ddi_geometry *geo)
{
	u64 bytes;

	if (!ddi_index_volume_index_bytes(geo, DDI_MAX_ZONES))
		return U64_MAX;
	bytes = ddi_index_memory_bytes(geo, 1, PLAN_READERS, PLAN_CACHE_CHAPTERS);
	if (!bytes)
		bytes = ddi_index_memory_bytes(geo, DDI_MAX_ZONES, PLAN_READERS,
					       PLAN_CACHE_CHAPTERS);
	return bytes + PLAN_POST_BYTES;
}

static int init_shape(struct ddi_geometry *geo, u32 record_pages, u32 chapters, bool sparse)
{
	return sparse ? ddi_geometry_init_sparse(geo, record_pages, chapters) :
			ddi_geometry_init(geo, record_pages, chapters);
}

static u64 planned_bytes(u32 record_pages, u32 chapters, bool sparse)
{
	struct ddi_geometry geo;

	if (init_shape(&geo, record_pages, chapters, sparse))
		return U64_MAX;
	return ddi_index_memory_planned(&geo);
}

/*
 * The most record pages per chapter, for this many chapters, that fit in
 * @budget bytes, or 0 if not even one does. The cost rises with the pages.
 */
static u32 most_pages(u32 chapters, bool sparse, u64 budget)
{
	u32 low = 0, high = DDI_MAX_RECORD_PAGES_PER_CHAPTER;

	while (low < high) {
		u32 mid = low + (high - low + 1) / 2;

		if (planned_bytes(mid, chapters, sparse) <= budget)
			low = mid;
		else
			high = mid - 1;
	}
	return low;
}

/**
 * ddi_index_memory_geometry() - The volume shape "memory N" buys.
 * @memory_mb: the RAM budget in MiB.
 * @sparse: a sparse volume.
 * @geo: set to the shape.
 *
 * 1024 chapters, with as many record pages each as fit; once chapters are
 * at their largest (1024 record pages), 1024 chapters more at a time. A
 * sparse volume takes ten times the chapters at each step (most of them
 * keep a name in 32), up to the most a volume index part can number; so
 * above about 1.4 GiB a sparse volume is at its largest.
 *
 * Return: 0, or -EINVAL if the budget holds no index.
 */
int ddi_index_memory_geometry(unsigned int memory_mb, bool sparse, struct ddi_geometry *geo)
{
	u32 step = sparse ? PLAN_SPARSE_CHAPTERS_STEP : PLAN_CHAPTERS_STEP;
	u64 budget = (u64)memory_mb << 20;
	u32 chapters = step, pages, best_pages = 0, best_chapters = 0;

	for (;;) {
		pages = most_pages(chapters, sparse, budget);
		if (!pages)
			break;
		best_pages = pages;
		best_chapters = chapters;
		if (pages < DDI_MAX_RECORD_PAGES_PER_CHAPTER ||
		    chapters == DDI_VOLUME_INDEX_MAX_CHAPTERS)
			break;
		/* The last step stops at the most chapters a volume index numbers. */
		chapters = min_t(u32, chapters + step, DDI_VOLUME_INDEX_MAX_CHAPTERS);
	}
	if (!best_pages)
		return -EINVAL;
	return init_shape(geo, best_pages, best_chapters, sparse);
}

/**
 * ddi_index_memory_adopt_shape() - Whether "memory N" opens an index of another shape.
 * @memory_mb: the table's budget, N.
 * @sparse: the table asks for a sparse index.
 * @found: the superblock of the index on the device.
 * @geo: set to that index's own shape.
 *
 * What N buys is worked out from what each part of the index takes, and
 * that count changes from one version to the next (a more compact volume
 * index buys a larger window), so an index formatted for N by another
 * version may have a shape that N no longer gives. It keeps its shape: a
 * superblock that records the budget it was formatted for is opened with
 * its own shape when that budget is N. One written before budgets were
 * recorded is, when its shape is what about N MiB buys: its planned RAM,
 * by this version's count, within 3/4 and 11/10 of N MiB (the budget's
 * 10%, and room for a count that has come down by a quarter since). A
 * far smaller shape (an explicit one made for tests, say) or a larger one
 * is another index, which the table must name or format over.
 *
 * Return: 0 with @geo set, or -EINVAL.
 */
int ddi_index_memory_adopt_shape(unsigned int memory_mb, bool sparse,
				 const struct ddi_index_layout *found, struct ddi_geometry *geo)
{
	u64 budget = (u64)memory_mb << 20, planned;

	if (!found->sparse_chapters_per_volume != !sparse ||
	    (found->memory_mb && found->memory_mb != memory_mb) ||
	    init_shape(geo, found->record_pages_per_chapter, found->chapters_per_volume, sparse))
		return -EINVAL;
	if (geo->sparse_chapters_per_volume != found->sparse_chapters_per_volume ||
	    geo->sparse_sample_rate != found->sparse_sample_rate)
		return -EINVAL;
	if (found->memory_mb)
		return 0;
	planned = ddi_index_memory_planned(geo);
	if (planned == U64_MAX || planned > budget + budget / 10 || planned < budget / 4 * 3)
		return -EINVAL;
	return 0;
}

/**
 * ddi_index_legacy_geometry() - The shape "memory N" had before it was a budget.
 * @memory_mb: the memory size in MiB.
 * @geo: set to the shape.
 *
 * Return: 0, or -EINVAL if that size had no shape (only 256, 512, 768 and
 * multiples of 1024 did).
 */
int ddi_index_legacy_geometry(unsigned int memory_mb, struct ddi_geometry *geo)
{
	if (memory_mb == 256 || memory_mb == 512 || memory_mb == 768)
		return ddi_geometry_init(geo, 64, 1024 * (memory_mb / 256));
	if (memory_mb >= 1024 && memory_mb % 1024 == 0 && memory_mb / 1024 <= 1024)
		return ddi_geometry_init(geo, 256, 1024 * (memory_mb / 1024));
	return -EINVAL;
}
