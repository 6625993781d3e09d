// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rebuilding the in-memory state from the volume after a crash: the index
 * page map from each closed chapter's index pages, the volume index from
 * the names on its record pages, oldest chapter first so that a name kept
 * in several chapters ends up pointing at the newest.
 */

#include <linux/ktime.h>
#include <linux/vmalloc.h>

#include "index.h"

static void set_windows(struct ddi_index *index, u64 lowest_vcn, u64 open_vcn)
{
	u32 chapters = index->geo.chapters_per_volume;
	u64 oldest = open_vcn > chapters ? open_vcn - chapters : 0;
	unsigned int z;

	oldest = max(oldest, lowest_vcn);
	for (z = 0; z < index->zone_count; z++)
		ddi_volume_index_set_window(index->volume_index, z, oldest, open_vcn);
}

static int rebuild_page_map(struct ddi_index *index, u64 vcn, u8 *pages, u32 *last_lists)
{
	const struct ddi_geometry *geo = &index->geo;
	u32 chapter = ddi_physical_chapter(geo, vcn);
	u32 i;
	int ret;

	ret = ddi_volume_read_chapter_index(index->volume, vcn, pages, last_lists);
	if (ret)
		return ret;
	for (i = 0; i < geo->index_pages_per_chapter; i++)
		ddi_index_page_map_update(index->volume->page_map, vcn, chapter, i,
					  last_lists[i]);
	return 0;
}

/*
 * Put a name as the zone threads would: an entry the volume index already
 * has under the name's tag may be another name's, and a plain put would
 * take it over. Ask the chapter it names (rebuilt already, so its page
 * map is right): if that chapter does not hold this name, the entry is
 * another's and the name goes beside it. Hits are rare outside names kept
 * in several chapters, so the extra reads are few.
 */
static int rebuild_put(struct ddi_index *index, const struct ddi_name *name, u64 vcn)
{
	struct ddi_volume_index *vi = index->volume_index;
	bool same_name = false;
	u64 hinted;

	if (!ddi_volume_index_lookup(vi, name, &hinted))
		return ddi_volume_index_put(vi, name, vcn);
	/* A chapter holds a name once: a hit in this chapter is another name. */
	if (hinted != vcn &&
	    ddi_volume_search_sync(index->volume, name, hinted, &same_name, NULL))
		same_name = false;
	if (same_name)
		return ddi_volume_index_put(vi, name, vcn);
	return ddi_volume_index_put_collision(vi, name, vcn);
}

static u64 rebuild_records(struct ddi_index *index, u64 vcn, u8 *copy)
{
	const struct ddi_geometry *geo = &index->geo;
	u32 chapter = ddi_physical_chapter(geo, vcn);
	u64 records = 0;
	u32 page, i;

	for (page = 0; page < geo->record_pages_per_chapter; page++) {
		struct ddi_record_page_header header;
		const struct ddi_record *record = (const struct ddi_record *)copy;

		if (ddi_volume_read_record_page(index->volume, chapter, page, copy, &header) ||
		    header.vcn != vcn) {
			pr_warn("rebuild: chapter %llu record page %u is damaged; its names are lost\n",
				vcn, page);
			continue;
		}
		for (i = 0; i < header.count; i++, record++) {
			if (!rebuild_put(index, &record->name, vcn))
				records++;
		}
	}
	return records;
}

/**
 * ddi_index_rebuild() - Rebuild the page map and volume index from disk.
 * @index: the index, with empty state and no thread running.
 * @lowest_vcn: the oldest closed chapter on the volume.
 * @highest_vcn: the newest.
 *
 * A chapter whose pages are damaged is skipped with a warning: its names
 * are missed later, never misreported.
 *
 * Return: 0 or -ENOMEM.
 */
int ddi_index_rebuild(struct ddi_index *index, u64 lowest_vcn, u64 highest_vcn)
{
	const struct ddi_geometry *geo = &index->geo;
	u64 chapters = highest_vcn - lowest_vcn + 1;
	ktime_t start = ktime_get();
	u64 records = 0, vcn, skipped = 0;
	u32 *last_lists;
	u8 *pages, *copy;

	pages = vmalloc((size_t)geo->index_pages_per_chapter * geo->bytes_per_page);
	copy = vmalloc(geo->bytes_per_page);
	last_lists = vmalloc_array(geo->index_pages_per_chapter, sizeof(*last_lists));
	if (!pages || !copy || !last_lists) {
		vfree(pages);
		vfree(copy);
		vfree(last_lists);
		return -ENOMEM;
	}

	pr_info("rebuilding index from chapters %llu to %llu\n", lowest_vcn, highest_vcn);
	set_windows(index, lowest_vcn, highest_vcn + 1);
	for (vcn = lowest_vcn; vcn <= highest_vcn; vcn++) {
		u64 done = vcn - lowest_vcn;

		ddi_volume_prefetch_chapter(index->volume, ddi_physical_chapter(geo, vcn));
		if (rebuild_page_map(index, vcn, pages, last_lists)) {
			pr_warn("rebuild: chapter %llu index is damaged; skipped\n", vcn);
			skipped++;
			continue;
		}
		records += rebuild_records(index, vcn, copy);
		if (chapters >= 10 && (done + 1) % (chapters / 10) == 0)
			pr_info("rebuild: %llu of %llu chapters\n", done + 1, chapters);
	}

	pr_info("rebuilt %llu records from %llu chapters (%llu skipped) in %lld ms\n",
		records, chapters - skipped, skipped,
		ktime_ms_delta(ktime_get(), start));
	vfree(pages);
	vfree(copy);
	vfree(last_lists);
	return 0;
}
