// SPDX-License-Identifier: GPL-2.0-only
/*
 * Repairing damaged chapter index pages. A chapter's index pages only say
 * which record page holds each name, and its record pages hold every name:
 * so a damaged index page can be made again from them, whereas a damaged
 * record page's names are lost. Without repair, one damaged index page
 * hides every name it lists (all of a chapter's, in a chapter of one
 * index page).
 *
 * The chapter index is built again from the names of the intact record
 * pages and the damaged pages are packed again, from the first list the
 * damaged run must start at. Packing is deterministic, so with every record
 * page intact the pages come out as they were written; the repair is kept
 * only if they end exactly where the next intact page begins (or at the
 * last list), so a repaired page always fits the index page map. Otherwise
 * (a damaged record page changed the packing) the pages stay damaged, and
 * the names they list are missed as before, never misreported.
 *
 * Repaired pages are written back through dm-bufio. This runs during a
 * rebuild, before any zone or request uses the volume, and a damaged page
 * never passed validation, so no page cache slot holds its buffer.
 */

#include <linux/dm-bufio.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "chapter-repair.h"

struct ddi_chapter_repair {
	const struct ddi_geometry *geo;
	struct ddi_open_chapter_index *chapter_index;
	/* Room for the pages of one damaged run: at most every index page. */
	u8 *pages;
	u32 *highest;
	u64 vcn;
	/* Set when a name did not fit: the chapter cannot be packed again. */
	bool failed;
};

/**
 * ddi_chapter_repair_create() - Make room to repair one chapter at a time.
 * @geo: the volume geometry.
 * @repair_ptr: set to the repair state.
 *
 * Takes a chapter index of records_per_chapter entries and room for the
 * index pages of one chapter: bounded by the geometry, once per rebuild.
 *
 * Return: 0 or -ENOMEM.
 */
int ddi_chapter_repair_create(const struct ddi_geometry *geo,
			      struct ddi_chapter_repair **repair_ptr)
{
	struct ddi_chapter_repair *repair;
	int ret;

	repair = kzalloc(sizeof(*repair), GFP_KERNEL);
	if (!repair)
		return -ENOMEM;
	repair->geo = geo;
	repair->pages = vmalloc_array(geo->index_pages_per_chapter, geo->bytes_per_page);
	repair->highest = kcalloc(geo->index_pages_per_chapter, sizeof(u32), GFP_KERNEL);
	ret = ddi_open_chapter_index_create(geo, &repair->chapter_index);
	if (ret || !repair->pages || !repair->highest) {
		ddi_chapter_repair_free(repair);
		return ret ?: -ENOMEM;
	}
	*repair_ptr = repair;
	return 0;
}

/**
 * ddi_chapter_repair_free() - Free the repair state.
 * @repair: the state; may be NULL.
 */
void ddi_chapter_repair_free(struct ddi_chapter_repair *repair)
{
	if (!repair)
		return;
	ddi_open_chapter_index_free(repair->chapter_index);
	vfree(repair->pages);
	kfree(repair->highest);
	kfree(repair);
}

/**
 * ddi_chapter_repair_reset() - Start on another chapter.
 * @repair: the state.
 * @vcn: the virtual chapter whose names follow.
 */
void ddi_chapter_repair_reset(struct ddi_chapter_repair *repair, u64 vcn)
{
	ddi_open_chapter_index_reset(repair->chapter_index, vcn);
	repair->vcn = vcn;
	repair->failed = false;
}

/**
 * ddi_chapter_repair_add() - Note a name of the chapter.
 * @repair: the state, reset for the chapter.
 * @name: a name read from an intact record page.
 * @record_page: that page's number within the chapter.
 *
 * Return: 0, or a negative errno after which the chapter is not repaired.
 */
int ddi_chapter_repair_add(struct ddi_chapter_repair *repair, const struct ddi_name *name,
			   u32 record_page)
{
	int ret = ddi_open_chapter_index_put(repair->chapter_index, name, record_page);

	if (ret)
		repair->failed = true;
	return ret;
}

/**
 * ddi_chapter_repair_run() - Pack a run of damaged index pages again.
 * @repair: the state, holding every name of the chapter's intact record
 *	pages.
 * @volume: the volume; nothing else may use it.
 * @first_page: the first damaged index page of the run.
 * @end_page: the index page after the run (an intact one, or the end).
 * @first_list: the first list the run holds: the list after those of the
 *	intact page before it, or 0.
 * @end_list: the first list of the intact page after the run, or
 *	delta_lists_per_chapter.
 *
 * On success the pages are in the dm-bufio client, dirty (written out by
 * ddi_chapter_repair_flush()), and the index page map has their bounds.
 *
 * Return: the number of pages repaired: end_page - first_page, or 0 when
 * the pages could not be made to fit; or a negative errno.
 */
int ddi_chapter_repair_run(struct ddi_chapter_repair *repair, struct ddi_volume *volume,
			   u32 first_page, u32 end_page, u32 first_list, u32 end_list)
{
	const struct ddi_geometry *geo = repair->geo;
	u32 chapter = ddi_physical_chapter(geo, repair->vcn);
	u32 next_list = first_list, i;

	if (repair->failed || first_page >= end_page ||
	    end_page > geo->index_pages_per_chapter)
		return 0;
	for (i = first_page; i < end_page; i++) {
		u8 *page = repair->pages + (size_t)(i - first_page) * geo->bytes_per_page;
		bool last_page = i + 1 == geo->index_pages_per_chapter;
		u32 packed;

		if (ddi_open_chapter_index_pack_page(repair->chapter_index, page,
						     volume->config.nonce, next_list, last_page,
						     &packed))
			return 0;
		next_list += packed;
		repair->highest[i] = next_list - 1;
		/* Past the next intact page's first list: these pages would not fit. */
		if (next_list > end_list)
			return 0;
	}
	if (next_list != end_list)
		return 0;

	for (i = first_page; i < end_page; i++) {
		u8 *page = repair->pages + (size_t)(i - first_page) * geo->bytes_per_page;
		struct dm_buffer *buffer;
		void *data;

		data = dm_bufio_new(volume->client, ddi_physical_page(geo, chapter, i), &buffer);
		if (IS_ERR(data))
			return PTR_ERR(data);
		memcpy(data, page, geo->bytes_per_page);
		dm_bufio_mark_buffer_dirty(buffer);
		dm_bufio_release(buffer);
		ddi_index_page_map_update(volume->page_map, repair->vcn, chapter, i,
					  repair->highest[i]);
	}
	atomic64_add(end_page - first_page, &volume->repaired_pages);
	return end_page - first_page;
}

/**
 * ddi_chapter_repair_flush() - Put the repaired pages on disk.
 * @volume: the volume.
 *
 * Return: 0 or a negative errno, after which the pages are still right
 * in memory but may be damaged on disk, costing their names again once
 * dm-bufio lets them go.
 */
int ddi_chapter_repair_flush(struct ddi_volume *volume)
{
	const struct ddi_geometry *geo = &volume->geo;
	int ret;

	/* Waits for the writes, then flushes the device's cache. */
	ret = dm_bufio_write_dirty_buffers(volume->client);
	/*
	 * On disk, the repaired pages need not sit in dm-bufio; pages the
	 * page cache holds stay. After a failed write they are kept: the
	 * copy in memory is the only good one.
	 */
	if (!ret)
		dm_bufio_forget_buffers(volume->client, 0,
					geo->pages_per_volume + DDI_HEADER_PAGES);
	return ret;
}
