// SPDX-License-Identifier: GPL-2.0-only
/*
 * Searching the volume: zone threads look names up in cached chapter pages
 * without locking; a page that is not cached is queued for the reader
 * threads (volume-readers.c), which read it, install it, search it on
 * behalf of every request waiting for it and hand those requests back to
 * their zones.
 *
 * A request carries its progress in priv.stage, so when it comes back it
 * resumes where it stopped: an index page search that found the record
 * page number is not repeated, and a record page searched by the reader
 * gives its answer directly.
 *
 * Two kinds of page are never read into the cache, both checked under the
 * read mutex: a page of the chapter being overwritten (volume.c explains
 * why), and a page already found damaged, until its chapter is rewritten.
 * A lookup that needs either is a miss, answered without a read.
 */

#include <linux/bitops.h>
#include <linux/dm-bufio.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "stat-counter.h"
#include "volume.h"

/* Searches a page for a request; returns 0 or a negative errno. */
typedef int (*page_searcher_t)(struct ddi_volume *volume, struct ddi_request *request,
			       struct ddi_cached_page *page);

static int search_index_page(struct ddi_volume *volume, struct ddi_request *request,
			     struct ddi_cached_page *page)
{
	u32 record_page;
	int ret;

	/* An older lap of the volume: the chapter wanted is gone. */
	if (page->vcn != request->priv.vcn) {
		request->priv.stage = DDI_STAGE_ABSENT;
		return 0;
	}

	ret = ddi_chapter_index_page_search(&page->index_page, &volume->geo, &request->name,
					    &record_page);
	if (ret)
		return ret;
	if (record_page == DDI_NO_RECORD_PAGE) {
		request->priv.stage = DDI_STAGE_ABSENT;
		return 0;
	}
	if (record_page >= volume->geo.record_pages_per_chapter)
		return -EBADMSG;
	request->priv.record_page = record_page;
	request->priv.stage = DDI_STAGE_RECORD_PAGE_KNOWN;
	return 0;
}

static int search_record_page(struct ddi_volume *volume, struct ddi_request *request,
			      struct ddi_cached_page *page)
{
	if (page->vcn != request->priv.vcn) {
		request->priv.stage = DDI_STAGE_ABSENT;
		return 0;
	}
	request->found = ddi_record_page_search(dm_bufio_get_block_data(page->buffer),
						&request->name, &request->old_data);
	request->priv.stage = DDI_STAGE_RECORD_PAGE_SEARCHED;
	return 0;
}

static page_searcher_t searcher_for(struct ddi_volume *volume, u32 physical_page)
{
	return ddi_is_record_page(&volume->geo, physical_page) ?
	       search_record_page : search_index_page;
}

/**
 * ddi_volume_search_page() - Search a cached page for a request.
 * @volume: the volume.
 * @request: the request; its stage says whether @page is an index page
 *	     or a record page for it.
 * @page: the page, cached and valid.
 *
 * Return: 0 or a negative errno.
 */
int ddi_volume_search_page(struct ddi_volume *volume, struct ddi_request *request,
			   struct ddi_cached_page *page)
{
	return searcher_for(volume, page->physical_page)(volume, request, page);
}

/*
 * Whether a page may be read and cached: -ESTALE while its chapter is being
 * overwritten, -EBADMSG once it is known damaged, else 0.
 */
static int page_unusable(struct ddi_volume *volume, u32 physical_page)
{
	lockdep_assert_held(&volume->read_mutex);
	if (ddi_page_chapter(&volume->geo, physical_page) == volume->writing_chapter)
		return -ESTALE;
	if (test_bit(physical_page, volume->bad_pages))
		return -EBADMSG;
	return 0;
}

/**
 * ddi_volume_read_failed() - Count and report a page read the device failed.
 * @volume: the volume.
 * @physical_page: the page that could not be read.
 * @error: the read's errno.
 *
 * Unlike a damaged page, the page is not remembered as bad: the error may
 * pass, and the next lookup that needs the page reads it again. One line
 * in the kernel log says so, rate limited as a failing device fails often.
 */
void ddi_volume_read_failed(struct ddi_volume *volume, u32 physical_page, int error)
{
	atomic64_inc(&volume->read_errors);
	pr_warn_ratelimited("%pg: cannot read volume page %u (%d): its lookups are misses\n",
			    volume->bdev, physical_page, error);
}

/**
 * ddi_volume_page_sum_ok() - Check the checksum of a page just read.
 * @volume: the volume; no lock is needed.
 * @data: the page's data.
 * @physical_page: where it was read from, which says what kind of page it is.
 *
 * The costly part of ddi_volume_search_validate(), which a reader does with
 * the read mutex dropped. If the page's chapter began to be overwritten
 * meanwhile, the writer may be filling this very buffer and the answer is
 * garbage; the reader then finds its read invalidated when it takes the
 * mutex back and throws the answer away unused, as it does the page. So
 * the race with the writer is harmless, and marked so for KCSAN.
 *
 * Return: true if the page's checksum is right.
 */
bool ddi_volume_page_sum_ok(const struct ddi_volume *volume, const u8 *data, u32 physical_page)
{
	bool record = ddi_is_record_page(&volume->geo, physical_page);

	/* A sum raced by the writer is thrown away unused, as said above. */
	return data_race(record ? ddi_record_page_sum_ok(data) :
			 ddi_chapter_index_page_sum_ok(data, &volume->geo));
}

/**
 * ddi_volume_search_validate() - Check a page just read, before caching it.
 * @volume: the volume; the caller holds the read mutex.
 * @page: the claimed cache slot whose buffer holds the page.
 * @physical_page: where the page was read from.
 * @sum_ok: what ddi_volume_page_sum_ok() said of the page's data.
 *
 * Decodes what the cache keeps about the page, and remembers a damaged page
 * as such.
 *
 * Return: 0; -EBADMSG for a page that is damaged, foreign, or not the page
 * the volume layout and the index page map say belongs at this place; or
 * -ESTALE, without looking at the data, for a page whose chapter is being
 * overwritten: the writer may be filling this very buffer.
 */
int ddi_volume_search_validate(struct ddi_volume *volume, struct ddi_cached_page *page,
			       u32 physical_page, bool sum_ok)
{
	const struct ddi_geometry *geo = &volume->geo;
	const u8 *data = dm_bufio_get_block_data(page->buffer);
	u32 chapter = ddi_page_chapter(geo, physical_page);
	u32 page_number = ddi_page_in_chapter(geo, physical_page);
	int ret;

	ret = page_unusable(volume, physical_page);
	if (ret)
		return ret;

	if (!sum_ok) {
		ret = -EBADMSG;
	} else if (ddi_is_record_page(geo, physical_page)) {
		struct ddi_record_page_header header = {};

		ret = ddi_record_page_parse(data, volume->config.nonce, &header);
		if (!ret && (header.record_page != page_number - geo->index_pages_per_chapter ||
			     ddi_physical_chapter(geo, header.vcn) != chapter))
			ret = -EBADMSG;
		page->vcn = header.vcn;
	} else {
		u32 lowest, highest;

		ret = ddi_chapter_index_page_parse(&page->index_page, geo, data,
						   volume->config.nonce);
		if (!ret) {
			ddi_index_page_map_bounds(volume->page_map, chapter, page_number,
						  &lowest, &highest);
			if (ddi_physical_chapter(geo, page->index_page.vcn) != chapter ||
			    page->index_page.lowest_list != lowest ||
			    page->index_page.highest_list != highest)
				ret = -EBADMSG;
		}
		page->vcn = page->index_page.vcn;
	}

	if (ret) {
		__set_bit(physical_page, volume->bad_pages);
		atomic64_inc(&volume->corrupt_pages);
		pr_warn_ratelimited("%pg: corrupt or foreign %s page %u (chapter %u page %u)\n",
				    volume->bdev,
				    ddi_is_record_page(geo, physical_page) ? "record" : "index",
				    physical_page, chapter, page_number);
	}
	return ret;
}

/*
 * Read a page into the cache while holding the read mutex throughout.
 * Used by synchronous callers, never by zone threads. Returns -ESTALE for
 * a page of the chapter being overwritten and -EBADMSG for a damaged one.
 */
static int read_page_locked(struct ddi_volume *volume, u32 physical_page,
			    struct ddi_cached_page **page_ptr)
{
	struct ddi_cached_page *page;
	void *data;
	int ret;

	lockdep_assert_held(&volume->read_mutex);
	page = ddi_page_cache_lookup(&volume->cache, physical_page);
	if (page) {
		ddi_page_cache_touch(&volume->cache, page);
		*page_ptr = page;
		return 0;
	}

	ret = page_unusable(volume, physical_page);
	if (ret)
		return ret;
	page = ddi_page_cache_claim_victim(&volume->cache);
	if (!page)
		return -EBUSY;
	data = dm_bufio_read(volume->client, physical_page, &page->buffer);
	if (IS_ERR(data)) {
		page->buffer = NULL;
		ddi_page_cache_cancel(&volume->cache, page);
		ddi_volume_read_failed(volume, physical_page, PTR_ERR(data));
		return PTR_ERR(data);
	}
	atomic64_inc(&volume->pages_read);

	/* The mutex is held throughout and the chapter is not being written. */
	ret = ddi_volume_search_validate(volume, page, physical_page,
					 ddi_volume_page_sum_ok(volume, data, physical_page));
	if (ret) {
		ddi_page_cache_cancel(&volume->cache, page);
		return ret;
	}
	ddi_page_cache_install(&volume->cache, page, physical_page);
	*page_ptr = page;
	return 0;
}

/*
 * Search @physical_page for @request if it is cached; otherwise queue the
 * request behind a read of it. Returns 0 when searched, DDI_QUEUED, or a
 * negative errno.
 */
static int search_or_queue(struct ddi_volume *volume, struct ddi_request *request,
			   u32 physical_page)
{
	struct ddi_page_cache *cache = &volume->cache;
	unsigned int zone = request->priv.zone;
	page_searcher_t search = searcher_for(volume, physical_page);
	struct ddi_zone_counters *counters = &volume->zone_counters[zone];
	struct ddi_cached_page *page;
	int ret;

	ddi_page_cache_begin_search(cache, zone, physical_page);
	page = ddi_page_cache_lookup(cache, physical_page);
	if (page) {
		if (zone == 0)
			ddi_page_cache_touch(cache, page);
		ret = search(volume, request, page);
		ddi_page_cache_end_search(cache, zone);
		ddi_stat_add(counters->cache_hits, 1);
		return ret;
	}
	ddi_page_cache_end_search(cache, zone);
	ddi_stat_add(counters->cache_misses, 1);

	mutex_lock(&volume->read_mutex);
	/*
	 * A reader may have installed the page since we looked. Holding the
	 * mutex, nobody can evict it, so search it here rather than queue a
	 * second read that would put the same page in two slots.
	 */
	page = ddi_page_cache_lookup(cache, physical_page);
	if (page) {
		ret = search(volume, request, page);
		mutex_unlock(&volume->read_mutex);
		return ret;
	}
	/*
	 * A page being overwritten belongs to a chapter that has left every
	 * zone's window or is not written yet: either way the name is not
	 * there. A damaged page stays damaged: reading it again would only
	 * count it again.
	 */
	ret = page_unusable(volume, physical_page);
	if (ret) {
		mutex_unlock(&volume->read_mutex);
		if (ret == -ESTALE) {
			request->priv.stage = DDI_STAGE_ABSENT;
			return 0;
		}
		return ret;
	}

	if (!ddi_read_queue_add(cache, request, physical_page)) {
		atomic64_inc(&volume->read_queue_full_waits);
		wait_with_mutex(&volume->read_mutex, volume->queue_space_wait,
				ddi_read_queue_add(cache, request, physical_page),
				TASK_UNINTERRUPTIBLE);
	}
	mutex_unlock(&volume->read_mutex);
	wake_up(&volume->reader_wait);
	return DDI_QUEUED;
}

/**
 * ddi_volume_search() - Look a request's name up in its chapter.
 * @volume: the volume.
 * @request: the request, with priv.vcn the chapter to search, priv.zone
 *           the calling zone and priv.stage where to resume.
 *
 * Called by the request's zone thread. On return 0 the search is done:
 * @request->found tells whether the chapter holds the name and, if so,
 * @request->old_data is its data. DDI_QUEUED means a page read was queued;
 * the request comes back through the volume's requeue callback and must
 * then be searched again.
 *
 * Return: 0, DDI_QUEUED or a negative errno (-EBADMSG for corrupt data).
 */
int ddi_volume_search(struct ddi_volume *volume, struct ddi_request *request)
{
	const struct ddi_geometry *geo = &volume->geo;
	u32 chapter = ddi_physical_chapter(geo, request->priv.vcn);
	u32 page;
	int ret;

	if (request->priv.stage == DDI_STAGE_START) {
		page = ddi_index_page_map_find(volume->page_map, &request->name, chapter);
		ret = search_or_queue(volume, request, ddi_physical_page(geo, chapter, page));
		if (ret)
			return ret;
	}

	if (request->priv.stage == DDI_STAGE_RECORD_PAGE_KNOWN) {
		page = geo->index_pages_per_chapter + request->priv.record_page;
		ret = search_or_queue(volume, request, ddi_physical_page(geo, chapter, page));
		if (ret)
			return ret;
	}

	if (request->priv.stage == DDI_STAGE_ABSENT)
		request->found = false;
	return 0;
}

/**
 * ddi_volume_search_sync() - Look a name up, reading pages as needed.
 * @volume: the volume.
 * @name: the name.
 * @vcn: the virtual chapter to search.
 * @found: set to whether the chapter holds @name.
 * @data: where to copy its data if found; may be NULL.
 *
 * Holds the read mutex throughout, so it is safe alongside zone threads
 * and readers, but it waits for I/O: for rebuild, checks and tests. A
 * chapter being overwritten holds no name, old or new, until it is written.
 *
 * Return: 0 or a negative errno (-EBADMSG for a damaged page).
 */
int ddi_volume_search_sync(struct ddi_volume *volume, const struct ddi_name *name,
			   u64 vcn, bool *found, struct ddi_data *data)
{
	const struct ddi_geometry *geo = &volume->geo;
	u32 chapter = ddi_physical_chapter(geo, vcn);
	struct ddi_request request = { .name = *name, .priv.vcn = vcn };
	struct ddi_cached_page *page;
	u32 page_number;
	int ret;

	*found = false;
	mutex_lock(&volume->read_mutex);
	page_number = ddi_index_page_map_find(volume->page_map, name, chapter);
	ret = read_page_locked(volume, ddi_physical_page(geo, chapter, page_number), &page);
	if (!ret)
		ret = search_index_page(volume, &request, page);
	if (!ret && request.priv.stage == DDI_STAGE_RECORD_PAGE_KNOWN) {
		page_number = geo->index_pages_per_chapter + request.priv.record_page;
		ret = read_page_locked(volume, ddi_physical_page(geo, chapter, page_number),
				       &page);
		if (!ret)
			ret = search_record_page(volume, &request, page);
	}
	mutex_unlock(&volume->read_mutex);
	if (ret == -ESTALE)
		return 0;

	if (!ret && request.priv.stage == DDI_STAGE_RECORD_PAGE_SEARCHED && request.found) {
		*found = true;
		if (data)
			*data = request.old_data;
	}
	return ret;
}

/**
 * ddi_volume_read_record_page() - Copy out one record page of a chapter.
 * @volume: the volume.
 * @chapter: the physical chapter.
 * @record_page: the record page number within the chapter.
 * @copy: DDI_BLOCK_BYTES bytes to copy the page into.
 * @header: filled in with the page's header.
 *
 * The page is checked (checksum, nonce, place) and cached on the way.
 *
 * Return: 0 or a negative errno (-EBADMSG for a damaged page, -ESTALE while
 * the chapter is being overwritten).
 */
int ddi_volume_read_record_page(struct ddi_volume *volume, u32 chapter, u32 record_page,
				u8 *copy, struct ddi_record_page_header *header)
{
	const struct ddi_geometry *geo = &volume->geo;
	struct ddi_cached_page *page;
	int ret;

	if (chapter >= geo->chapters_per_volume || record_page >= geo->record_pages_per_chapter)
		return -EINVAL;

	mutex_lock(&volume->read_mutex);
	ret = read_page_locked(volume, ddi_physical_page(geo, chapter,
							 geo->index_pages_per_chapter +
							 record_page), &page);
	if (!ret) {
		memcpy(copy, dm_bufio_get_block_data(page->buffer), DDI_BLOCK_BYTES);
		ret = ddi_record_page_validate(copy, volume->config.nonce, header);
	}
	mutex_unlock(&volume->read_mutex);
	return ret;
}
