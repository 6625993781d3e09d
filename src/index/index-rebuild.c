// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rebuilding the in-memory state from the volume after a crash: the index
 * page map from each closed chapter's index pages, the volume index from
 * the names on its record pages, oldest chapter first so that a name kept
 * in several chapters ends up pointing at the newest. Damaged pages cost
 * only themselves: the intact pages of a chapter are all taken, and its
 * damaged index pages are made again from its record pages.
 */

#include <linux/dm-bufio.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "bufio.h"
#include "chapter-repair.h"
#include "index.h"

static void set_windows(struct ddi_index *index, u64 lowest_vcn, u64 open_vcn)
{
	u32 chapters = index->geo.chapters_per_volume;
	u64 oldest = open_vcn > chapters ? open_vcn - chapters : 0;
	unsigned int z;

	oldest = max(oldest, lowest_vcn);
	for (z = 0; z < index->zone_count; z++)
		ddi_index_volume_index_set_window(index, z, oldest, open_vcn);
}

/*
 * Copy index page @i of chapter @vcn into @copy and check it: intact, and
 * of @vcn. Read through dm-bufio, bypassing the page cache: nothing else
 * runs during a rebuild, and the pages are read once.
 */
static int read_index_page(struct ddi_volume *volume, u64 vcn, u32 i, u8 *copy,
			   struct ddi_index_page *page)
{
	const struct ddi_geometry *geo = &volume->geo;
	struct dm_buffer *buffer;
	void *data;
	int ret;

	data = dm_bufio_read(volume->client,
			     ddi_physical_page(geo, ddi_physical_chapter(geo, vcn), i), &buffer);
	if (IS_ERR(data))
		return PTR_ERR(data);
	memcpy(copy, data, DDI_BLOCK_BYTES);
	ddi_bufio_drop(buffer);
	ret = ddi_chapter_index_page_init(page, geo, copy, volume->config.nonce);
	if (!ret && page->vcn != vcn)
		ret = -EBADMSG;
	return ret;
}

/* What a rebuild keeps of the chapter it is on; room for one chapter. */
struct rebuild_state {
	u8 *copy;
	/* Each index page's lists, or NO_LIST as lowest for a damaged one. */
	u32 *lowest;
	u32 *highest;
	struct ddi_chapter_repair *repair;
};

#define NO_LIST U32_MAX

/*
 * Read a chapter's index pages into the index page map. A page that is
 * damaged, or of another chapter (a torn write), gives no bounds of its
 * own: it is given the lists between its intact neighbours, so that a
 * lookup of one of them reads it, finds it damaged and misses, while the
 * lists on the intact pages are found as ever (until a repair gives the
 * damaged pages their own). Returns how many index pages are damaged, or
 * a negative errno.
 */
static int rebuild_page_map(struct ddi_index *index, u64 vcn, struct rebuild_state *state)
{
	const struct ddi_geometry *geo = &index->geo;
	u32 chapter = ddi_physical_chapter(geo, vcn);
	u32 next_list = 0, damaged_from = 0, i, j;
	int damaged = 0;

	for (i = 0; i < geo->index_pages_per_chapter; i++) {
		struct ddi_index_page page;
		int ret;

		state->lowest[i] = NO_LIST;
		ret = read_index_page(index->volume, vcn, i, state->copy, &page);
		if (ret == -ENOMEM)
			return ret;
		/* Intact, but out of order with the pages before it: damaged too. */
		if (!ret && page.lowest_list < next_list)
			ret = -EBADMSG;
		if (ret) {
			damaged++;
			continue;
		}
		/* Pages damaged_from..i-1 share the lists before this one's. */
		for (j = damaged_from; j < i; j++)
			ddi_index_page_map_update(index->volume->page_map, vcn, chapter, j,
						  page.lowest_list - 1);
		ddi_index_page_map_update(index->volume->page_map, vcn, chapter, i,
					  page.highest_list);
		state->lowest[i] = page.lowest_list;
		state->highest[i] = page.highest_list;
		next_list = page.highest_list + 1;
		damaged_from = i + 1;
	}
	for (j = damaged_from; j < geo->index_pages_per_chapter; j++)
		ddi_index_page_map_update(index->volume->page_map, vcn, chapter, j,
					  geo->delta_lists_per_chapter - 1);
	return damaged;
}

/*
 * Make the chapter's damaged index pages again from the names of its
 * intact record pages, run by run of damaged pages. Returns how many
 * pages were repaired, or a negative errno.
 */
static int repair_index_pages(struct ddi_index *index, u64 vcn, struct rebuild_state *state)
{
	const struct ddi_geometry *geo = &index->geo;
	u32 pages = geo->index_pages_per_chapter;
	u32 first = 0, end;
	int repaired = 0;

	while (first < pages) {
		u32 first_list, end_list;
		int ret;

		if (state->lowest[first] != NO_LIST) {
			first++;
			continue;
		}
		for (end = first; end < pages && state->lowest[end] == NO_LIST; end++)
			;
		first_list = first == 0 ? 0 : state->highest[first - 1] + 1;
		end_list = end == pages ? geo->delta_lists_per_chapter : state->lowest[end];
		ret = ddi_chapter_repair_run(state->repair, index->volume, first, end,
					     first_list, end_list);
		if (ret < 0) {
			/*
			 * Not fatal: the pages stay damaged, as without repair.
			 * Rate limited, as every chapter may say it; the summary
			 * line at the end of the rebuild counts them all.
			 */
			pr_warn_ratelimited("%pg: rebuild: chapter %llu index pages %u to %u cannot be repaired: %d\n",
					    index->bdev, vcn, first, end - 1, ret);
			break;
		}
		if (ret)
			pr_info_ratelimited("%pg: rebuild: chapter %llu index pages %u to %u repaired from its record pages\n",
					    index->bdev, vcn, first, end - 1);
		repaired += ret;
		first = end;
	}
	return repaired;
}

/*
 * Put a name as the zone threads would: an entry the volume index already
 * has under the name's tag may be another name's, and a plain put would
 * take it over. Ask the chapter it names (rebuilt already, so its page
 * map is right): if that chapter does not hold this name, the entry is
 * another's and the name goes beside it. Hits are rare outside names kept
 * in several chapters, so the extra reads are few.
 */
static int rebuild_put(struct ddi_index *index, const struct ddi_name *name, u64 vcn,
		       u64 open_vcn)
{
	struct ddi_volume_index *vi = ddi_index_volume_index(index, name);
	bool same_name = false;
	u64 hinted;

	/* A sparse chapter keeps only its hooks, as the zones would have left it. */
	if (vi == index->volume_index && ddi_index_chapter_is_sparse(index, open_vcn, vcn))
		return -ENOENT;

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

/*
 * Put the names of a chapter's intact record pages into the volume index.
 * Sets *@damaged to how many of its record pages are not intact pages of
 * @vcn (damaged, or left from the chapter's previous lap by a torn write).
 * The names also go to @repair, unless it is NULL.
 */
static u64 rebuild_records(struct ddi_index *index, u64 vcn, u64 open_vcn, u8 *copy,
			   struct ddi_chapter_repair *repair, u32 *damaged)
{
	const struct ddi_geometry *geo = &index->geo;
	u32 chapter = ddi_physical_chapter(geo, vcn);
	u64 records = 0;
	u32 page, i;
	int ret;

	*damaged = 0;
	for (page = 0; page < geo->record_pages_per_chapter; page++) {
		struct ddi_record_page_header header;
		const struct ddi_record *record = (const struct ddi_record *)copy;

		ret = ddi_volume_read_record_page(index->volume, chapter, page, copy, &header);
		if (ret || header.vcn != vcn || header.record_page != page) {
			/* The read counted a page it refused in corrupt_pages already. */
			if (!ret)
				atomic64_inc(&index->volume->corrupt_pages);
			(*damaged)++;
			continue;
		}
		for (i = 0; i < header.count; i++, record++) {
			if (repair)
				ddi_chapter_repair_add(repair, &record->name, page);
			if (!rebuild_put(index, &record->name, vcn, open_vcn))
				records++;
		}
	}
	return records;
}

/* Chapters with damage reported one by one; the rest only in the total. */
#define DDI_REBUILD_REPORTS 16

static void free_state(struct rebuild_state *state)
{
	vfree(state->copy);
	kfree(state->lowest);
	kfree(state->highest);
	ddi_chapter_repair_free(state->repair);
}

/**
 * ddi_index_rebuild() - Rebuild the page map and volume index from disk.
 * @index: the index, with empty state and no thread running.
 * @lowest_vcn: the oldest chapter the volume should hold.
 * @highest_vcn: the newest.
 *
 * Damage costs the pages it hit, not their chapters: the names on the
 * intact record pages of a chapter are all taken, and its damaged index
 * pages are made again from them (chapter-repair.c), in memory and on
 * disk, so that only a damaged record page loses names. A chapter none of
 * whose pages is intact (lost to damage, or never written by a torn
 * write) is skipped. Each is reported; damaged pages count in
 * corrupt_pages, repaired ones in repaired_pages too. Names on damaged
 * pages are missed later, never misreported.
 *
 * Return: 0 or -ENOMEM.
 */
int ddi_index_rebuild(struct ddi_index *index, u64 lowest_vcn, u64 highest_vcn)
{
	const struct ddi_geometry *geo = &index->geo;
	u64 chapters = highest_vcn - lowest_vcn + 1;
	ktime_t start = ktime_get();
	u64 records = 0, vcn, skipped = 0, damaged_pages = 0, repaired_pages = 0, reports = 0;
	struct rebuild_state state = {};
	int ret;

	state.copy = vmalloc(geo->bytes_per_page);
	state.lowest = kcalloc(geo->index_pages_per_chapter, sizeof(u32), GFP_KERNEL);
	state.highest = kcalloc(geo->index_pages_per_chapter, sizeof(u32), GFP_KERNEL);
	ret = ddi_chapter_repair_create(geo, &state.repair);
	if (ret || !state.copy || !state.lowest || !state.highest) {
		free_state(&state);
		return -ENOMEM;
	}

	pr_info("%pg: rebuilding index from chapters %llu to %llu\n",
		index->bdev, lowest_vcn, highest_vcn);
	set_windows(index, lowest_vcn, highest_vcn + 1);
	for (vcn = lowest_vcn; vcn <= highest_vcn; vcn++) {
		u64 done = vcn - lowest_vcn;
		u32 record_damage, damage;
		int index_damage, repaired = 0;

		/* Every page is read below, so none stays behind in dm-bufio. */
		ddi_volume_prefetch(index->volume, ddi_physical_chapter(geo, vcn), 0,
				    geo->pages_per_chapter);
		index_damage = rebuild_page_map(index, vcn, &state);
		if (index_damage < 0) {
			free_state(&state);
			return index_damage;
		}
		if (index_damage)
			ddi_chapter_repair_reset(state.repair, vcn);
		records += rebuild_records(index, vcn, highest_vcn + 1, state.copy,
					   index_damage ? state.repair : NULL, &record_damage);
		damage = index_damage + record_damage;
		if (index_damage && damage < geo->pages_per_chapter)
			repaired = repair_index_pages(index, vcn, &state);
		if (damage == geo->pages_per_chapter) {
			skipped++;
			if (reports++ < DDI_REBUILD_REPORTS)
				pr_warn("%pg: rebuild: chapter %llu has no intact page; skipped\n",
					index->bdev, vcn);
		} else if (damage) {
			if (reports++ < DDI_REBUILD_REPORTS)
				pr_warn("%pg: rebuild: chapter %llu: %d of %u index pages and %u of %u record pages damaged, %d repaired; the names on the others are lost\n",
					index->bdev, vcn, index_damage,
					geo->index_pages_per_chapter, record_damage,
					geo->record_pages_per_chapter, repaired);
		}
		damaged_pages += damage;
		repaired_pages += repaired;
		atomic64_add(index_damage, &index->volume->corrupt_pages);
		if (chapters >= 10 && (done + 1) % (chapters / 10) == 0)
			pr_info("%pg: rebuild: %llu of %llu chapters\n",
				index->bdev, done + 1, chapters);
	}

	if (repaired_pages) {
		ret = ddi_chapter_repair_flush(index->volume);
		if (ret)
			pr_warn("%pg: rebuild: the repaired index pages cannot be written: %d\n",
				index->bdev, ret);
	}
	pr_info("%pg: rebuilt %llu records from %llu chapters (%llu skipped, %llu damaged pages, %llu repaired) in %lld ms\n",
		index->bdev, records, chapters - skipped, skipped, damaged_pages, repaired_pages,
		ktime_ms_delta(ktime_get(), start));
	free_state(&state);
	return 0;
}
