// SPDX-License-Identifier: GPL-2.0-only
/*
 * Finding which chapters of a volume hold valid records, for rebuilding the
 * index after a crash.
 *
 * Chapters are written in order of their virtual chapter numbers (vcn) to
 * physical chapter vcn % chapters_per_volume, so a volume that has never
 * wrapped holds chapters 0..n-1 followed by blank space, and a wrapped one
 * holds a run of increasing vcns that drops once, where the newest chapter
 * meets the oldest. A crash may leave the chapters that were being written
 * damaged: at most one run of bad chapters, next to the newest good one.
 * A chapter is bad only when none of its pages is intact: damage to a few
 * pages leaves it in place (it holds the rest of its records).
 *
 * Probing reads pages straight through dm-bufio, bypassing the page cache:
 * the index page map is not trusted yet, and nothing probed is worth
 * caching.
 */

#include <linux/dm-bufio.h>
#include <linux/slab.h>

#include "bufio.h"
#include "volume.h"

/* A run of bad chapters longer than this means the volume is corrupt. */
#define DDI_MAX_BAD_CHAPTERS 100

static const u64 BAD_CHAPTER = U64_MAX;

/* The newer of two vcns, either of which may be BAD_CHAPTER. */
static u64 newer_vcn(u64 a, u64 b)
{
	if (a == BAD_CHAPTER)
		return b;
	if (b == BAD_CHAPTER)
		return a;
	return max(a, b);
}

/*
 * The vcn of index page @i of a physical chapter, or BAD_CHAPTER unless
 * the page is intact and its vcn belongs in this chapter. Fills @page.
 */
static u64 probe_index_page(struct ddi_volume *volume, u32 chapter, u32 i,
			    struct ddi_index_page *page)
{
	const struct ddi_geometry *geo = &volume->geo;
	struct dm_buffer *buffer;
	void *data;
	int ret;

	data = dm_bufio_read(volume->client, ddi_physical_page(geo, chapter, i), &buffer);
	if (IS_ERR(data))
		return BAD_CHAPTER;
	ret = ddi_chapter_index_page_init(page, geo, data, volume->config.nonce);
	ddi_bufio_drop(buffer);
	page->data = NULL;
	/* Past DDI_MAX_VCN: crafted or damaged, as the index never writes one. */
	if (ret || page->vcn > DDI_MAX_VCN || ddi_physical_chapter(geo, page->vcn) != chapter)
		return BAD_CHAPTER;
	return page->vcn;
}

/* As probe_index_page(), for record page @i, which must say it is page @i. */
static u64 probe_record_page(struct ddi_volume *volume, u32 chapter, u32 i)
{
	const struct ddi_geometry *geo = &volume->geo;
	struct ddi_record_page_header header;
	struct dm_buffer *buffer;
	void *data;
	int ret;

	data = dm_bufio_read(volume->client,
			     ddi_physical_page(geo, chapter, geo->index_pages_per_chapter + i),
			     &buffer);
	if (IS_ERR(data))
		return BAD_CHAPTER;
	ret = ddi_record_page_validate(data, volume->config.nonce, &header);
	ddi_bufio_drop(buffer);
	if (ret || header.record_page != i || header.vcn > DDI_MAX_VCN ||
	    ddi_physical_chapter(geo, header.vcn) != chapter)
		return BAD_CHAPTER;
	return header.vcn;
}

/*
 * The vcn of a physical chapter: the newest vcn that an intact page of it
 * shows, or BAD_CHAPTER if no page is intact. A damaged page costs its
 * own names, not its chapter's: a chapter with a page or two damaged still
 * holds its other records and still marks where the volume ends. A torn
 * write (a crash while the chapter was rewritten) leaves pages of the new
 * vcn and of the one it replaced; the new one is the chapter's, and a
 * rebuild passes over the pages of the other.
 *
 * The quick way, taken for an undamaged chapter: every index page intact
 * and of one vcn, their lists running from 0 to the last without a gap,
 * and the record page written last of the same vcn, which shows the write
 * completed. Only otherwise are the other record pages read.
 */
static u64 probe_chapter(struct ddi_volume *volume, u32 chapter)
{
	const struct ddi_geometry *geo = &volume->geo;
	u64 first = BAD_CHAPTER, newest = BAD_CHAPTER, vcn;
	u32 last = geo->record_pages_per_chapter - 1;
	bool whole = true;
	u32 next_list = 0;
	u32 i;

	/*
	 * Prefetch only what the quick way reads: a page prefetched and never
	 * read would stay in dm-bufio, where no drop reaches it.
	 */
	ddi_volume_prefetch(volume, chapter, 0, geo->index_pages_per_chapter);
	ddi_volume_prefetch(volume, chapter, geo->index_pages_per_chapter + last, 1);
	for (i = 0; i < geo->index_pages_per_chapter; i++) {
		struct ddi_index_page page;

		vcn = probe_index_page(volume, chapter, i, &page);
		if (i == 0)
			first = vcn;
		if (vcn == BAD_CHAPTER || vcn != first || page.lowest_list != next_list)
			whole = false;
		else
			next_list = page.highest_list + 1;
		newest = newer_vcn(newest, vcn);
	}

	vcn = probe_record_page(volume, chapter, last);
	if (whole && next_list == geo->delta_lists_per_chapter && vcn == first)
		return first;
	newest = newer_vcn(newest, vcn);
	ddi_volume_prefetch(volume, chapter, geo->index_pages_per_chapter, last);
	for (i = 0; i < last; i++)
		newest = newer_vcn(newest, probe_record_page(volume, chapter, i));
	pr_debug("chapter %u is damaged or torn: taken as vcn %lld\n", chapter,
		 newest == BAD_CHAPTER ? -1LL : (s64)newest);
	return newest;
}

/*
 * On a volume that has not wrapped, chapters past the last one written are
 * blank. Find the end of the written chapters: the smallest limit such
 * that chapter limit - 1 is good and the ones after it are not, probing
 * backwards in steps that double while they keep finding bad chapters.
 * The first @known chapters are known to be written: a damaged one among
 * them would otherwise pass for the end.
 */
static u32 find_written_limit(struct ddi_volume *volume, u32 known)
{
	u32 limit = volume->geo.chapters_per_volume;
	u32 step = 1;

	while (limit > 0) {
		u32 chapter = step >= limit ? 0 : limit - step;

		if (probe_chapter(volume, chapter) != BAD_CHAPTER) {
			if (step == 1)
				break;
			/* Good chapter found: close in on the end one step at a time. */
			step = 1;
			continue;
		}
		/* Nothing at or past this chapter is good. */
		limit = chapter;
		step *= 2;
	}
	return max(limit, known);
}

/*
 * Among chapters [0, limit), find the lowest and the highest vcn. Returns
 * -ERANGE if what was found is not consistent, which damage away from the
 * newest chapter can cause, or -EBADMSG for too many bad chapters. Bad
 * chapters count as higher than chapter 0's vcn: they sit where the newest
 * chapters were being written, so the drop to the oldest vcn comes after
 * them, and binary search finds the first chapter with a vcn below
 * chapter 0's. Then the newest good chapter is found by walking backwards
 * from there past the bad run.
 */
static int find_vcn_range(struct ddi_volume *volume, u32 limit, u64 *lowest_vcn,
			  u64 *highest_vcn)
{
	u64 zero_vcn = probe_chapter(volume, 0);
	u32 low = 0, high = limit;
	u32 oldest, chapter, bad;
	u64 vcn;

	while (low < high) {
		u32 middle = low + (high - low) / 2;

		if (probe_chapter(volume, middle) >= zero_vcn)
			low = middle + 1;
		else
			high = middle;
	}
	oldest = low < limit ? low : 0;

	*lowest_vcn = probe_chapter(volume, oldest);
	if (*lowest_vcn == BAD_CHAPTER)
		return -ERANGE;

	chapter = oldest;
	for (bad = 0; bad <= DDI_MAX_BAD_CHAPTERS; bad++) {
		chapter = (chapter + limit - 1) % limit;
		vcn = probe_chapter(volume, chapter);
		if (vcn != BAD_CHAPTER) {
			*highest_vcn = vcn;
			if (vcn < *lowest_vcn ||
			    vcn - *lowest_vcn >= volume->geo.chapters_per_volume)
				return -ERANGE;
			return 0;
		}
	}
	pr_err("%pg: more than %d bad chapters in the volume\n",
	       volume->bdev, DDI_MAX_BAD_CHAPTERS);
	return -EBADMSG;
}

/*
 * When damage away from the newest chapter has misled find_vcn_range():
 * probe every chapter, and take the newest good vcn and the oldest good
 * one of the same lap. Reads the whole volume, so only as a fallback.
 */
static int scan_vcn_range(struct ddi_volume *volume, u64 *lowest_vcn, u64 *highest_vcn)
{
	u32 chapters = volume->geo.chapters_per_volume;
	u64 *vcns, highest = BAD_CHAPTER, lowest = BAD_CHAPTER;
	u32 chapter;

	vcns = kvmalloc_array(chapters, sizeof(*vcns), GFP_KERNEL);
	if (!vcns)
		return -ENOMEM;
	for (chapter = 0; chapter < chapters; chapter++) {
		vcns[chapter] = probe_chapter(volume, chapter);
		if (vcns[chapter] != BAD_CHAPTER &&
		    (highest == BAD_CHAPTER || vcns[chapter] > highest))
			highest = vcns[chapter];
	}
	for (chapter = 0; chapter < chapters && highest != BAD_CHAPTER; chapter++) {
		/* Every good vcn is at most highest: the difference cannot wrap, a sum could. */
		if (vcns[chapter] != BAD_CHAPTER && highest - vcns[chapter] < chapters &&
		    vcns[chapter] < lowest)
			lowest = vcns[chapter];
	}
	kvfree(vcns);
	if (highest == BAD_CHAPTER)
		return -EBADMSG;
	*lowest_vcn = lowest;
	*highest_vcn = highest;
	return 0;
}

/**
 * ddi_chapter_boundaries_find_known() - Find the chapters that hold valid
 * records, given how many were written at some point.
 * @volume: the volume; its page cache and page map are not used.
 * @written: a count of chapters known to have been written, such as the
 *	open chapter of a save: every chapter below it was written before it.
 * @lowest_vcn: set to the oldest valid virtual chapter.
 * @highest_vcn: set to the newest valid virtual chapter.
 * @is_empty: set to true if no chapter was ever completely written.
 *
 * Chapters from @lowest_vcn to @highest_vcn that probe good are the ones a
 * rebuild may take records from. Damage that misleads the quick search is
 * met by probing every chapter.
 *
 * Return: 0, or -EBADMSG if the chapters found cannot be a volume's (a run
 * of more than DDI_MAX_BAD_CHAPTERS bad chapters, or none good at all).
 */
int ddi_chapter_boundaries_find_known(struct ddi_volume *volume, u64 written,
				      u64 *lowest_vcn, u64 *highest_vcn, bool *is_empty)
{
	u32 limit = find_written_limit(volume, min_t(u64, written,
						     volume->geo.chapters_per_volume));
	int ret;

	*lowest_vcn = 0;
	*highest_vcn = 0;
	*is_empty = limit == 0;
	if (*is_empty)
		return 0;
	ret = find_vcn_range(volume, limit, lowest_vcn, highest_vcn);
	if (ret != -ERANGE)
		return ret;
	pr_warn("%pg: damaged chapters hide the volume's boundaries: probing every chapter\n",
		volume->bdev);
	return scan_vcn_range(volume, lowest_vcn, highest_vcn);
}

/* KUnit only: entry points the tests use and the index does not. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_chapter_boundaries_find() - Find the chapters that hold valid records.
 * @volume: the volume; its page cache and page map are not used.
 * @lowest_vcn: set to the oldest valid virtual chapter.
 * @highest_vcn: set to the newest valid virtual chapter.
 * @is_empty: set to true if no chapter was ever completely written.
 *
 * As ddi_chapter_boundaries_find_known(), knowing nothing of what was written.
 *
 * Return: 0, or -EBADMSG if the chapters found cannot be a volume's.
 */
int ddi_chapter_boundaries_find(struct ddi_volume *volume, u64 *lowest_vcn,
				u64 *highest_vcn, bool *is_empty)
{
	return ddi_chapter_boundaries_find_known(volume, 0, lowest_vcn, highest_vcn, is_empty);
}
#endif
