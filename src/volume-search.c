// SPDX-License-Identifier: GPL-2.0-only
/*
 * Searching the volume: zone threads look names up in cached chapter pages
 * without locking; a page that is not cached is queued for the reader
 * threads, which read it, install it, search it on behalf of every request
 * waiting for it and hand those requests back to their zones.
 *
 * A request carries its progress in priv.stage, so when it comes back it
 * resumes where it stopped: an index page search that found the record
 * page number is not repeated, and a record page searched by the reader
 * gives its answer directly.
 */

#include <linux/dm-bufio.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "volume.h"

/*
 * Sleep on @wq until @condition holds, dropping the read mutex meanwhile.
 * The condition is always evaluated with the mutex held. TASK_IDLE keeps
 * idle reader threads out of the load average and the hung task detector.
 */
#define wait_with_mutex(lock, wq, condition, state)			\
({									\
	struct mutex *__held = (lock);					\
	___wait_event(wq, condition, state, 0, 0,			\
		      mutex_unlock(__held); schedule(); mutex_lock(__held)); \
})

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

	ret = ddi_index_page_search(&page->index_page, &volume->geo, &request->name,
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

/*
 * Check a page just read from disk and decode what the cache keeps about
 * it. Returns -EBADMSG for a page that is damaged, foreign, or not the page
 * the volume layout and the index page map say belongs at this place.
 */
static int validate_page(struct ddi_volume *volume, struct ddi_cached_page *page,
			 u32 physical_page)
{
	const struct ddi_geometry *geo = &volume->geo;
	const u8 *data = dm_bufio_get_block_data(page->buffer);
	u32 chapter = ddi_page_chapter(geo, physical_page);
	u32 page_number = ddi_page_in_chapter(geo, physical_page);
	int ret;

	if (ddi_is_record_page(geo, physical_page)) {
		struct ddi_record_page_header header;

		ret = ddi_record_page_validate(data, volume->config.nonce, &header);
		if (!ret && (header.record_page != page_number - geo->index_pages_per_chapter ||
			     ddi_physical_chapter(geo, header.vcn) != chapter))
			ret = -EBADMSG;
		page->vcn = header.vcn;
	} else {
		u32 lowest, highest;

		ret = ddi_index_page_init(&page->index_page, geo, data, volume->config.nonce);
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
		atomic64_inc(&volume->corrupt_pages);
		pr_warn_ratelimited("corrupt or foreign %s page %u (chapter %u page %u)\n",
				    ddi_is_record_page(geo, physical_page) ? "record" : "index",
				    physical_page, chapter, page_number);
	}
	return ret;
}

/*
 * Read a page into the cache while holding the read mutex throughout.
 * Used by synchronous callers, never by zone threads.
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

	page = ddi_page_cache_claim_victim(&volume->cache);
	if (!page)
		return -EBUSY;
	data = dm_bufio_read(volume->client, physical_page, &page->buffer);
	if (IS_ERR(data)) {
		page->buffer = NULL;
		ddi_page_cache_cancel(&volume->cache, page);
		return PTR_ERR(data);
	}
	atomic64_inc(&volume->pages_read);

	ret = validate_page(volume, page, physical_page);
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
		WRITE_ONCE(counters->cache_hits, counters->cache_hits + 1);
		return ret;
	}
	ddi_page_cache_end_search(cache, zone);
	WRITE_ONCE(counters->cache_misses, counters->cache_misses + 1);

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

/*
 * Read the page of a reserved queue entry into the cache and search it for
 * each waiting request. Called and returns with the read mutex held, but
 * drops it for the read itself.
 */
static int read_queued_page(struct ddi_volume *volume, struct ddi_queued_read *read)
{
	struct ddi_page_cache *cache = &volume->cache;
	u16 marker = DDI_CACHE_QUEUED | (read - cache->read_queue);
	u32 physical_page = read->physical_page;
	page_searcher_t search = searcher_for(volume, physical_page);
	struct ddi_cached_page *page;
	struct ddi_request *request;
	void *data;
	int ret;

	if (read->invalid)
		return 0;

	page = ddi_page_cache_claim_victim(cache);
	if (!page)
		return -EBUSY;

	mutex_unlock(&volume->read_mutex);
	data = dm_bufio_read(volume->client, physical_page, &page->buffer);
	mutex_lock(&volume->read_mutex);

	if (IS_ERR(data)) {
		page->buffer = NULL;
		ret = PTR_ERR(data);
		goto cancel;
	}
	atomic64_inc(&volume->pages_read);

	/*
	 * While we read, the chapter may have been forgotten, or a synchronous
	 * reader may have cached the page itself; either way ours is not
	 * wanted, and the requests will search again.
	 */
	ret = 0;
	if (read->invalid || cache->index[physical_page] != marker)
		goto cancel;

	ret = validate_page(volume, page, physical_page);
	if (ret)
		goto cancel;
	ddi_page_cache_install(cache, page, physical_page);

	for (request = read->first_request; request; request = request->priv.next_in_read) {
		ret = search(volume, request, page);
		if (ret)
			request->status = ret;
	}
	return 0;

cancel:
	ddi_page_cache_cancel(cache, page);
	if (cache->index[physical_page] == marker)
		WRITE_ONCE(cache->index[physical_page], cache->slot_count);
	return ret;
}

static void requeue_waiting_requests(struct ddi_volume *volume,
				     struct ddi_queued_read *read, int status)
{
	struct ddi_request *request = read->first_request;

	while (request) {
		struct ddi_request *next = request->priv.next_in_read;

		if (status)
			request->status = status;
		request->priv.requeued = true;
		volume->config.requeue(request, volume->config.requeue_context);
		request = next;
	}
}

static int reader_thread(void *arg)
{
	struct ddi_volume *volume = arg;
	struct ddi_page_cache *cache = &volume->cache;

	mutex_lock(&volume->read_mutex);
	for (;;) {
		struct ddi_queued_read *read;
		int ret;

		wait_with_mutex(&volume->read_mutex, volume->reader_wait,
				kthread_should_stop() || ddi_read_queue_has_work(cache),
				TASK_IDLE);
		if (kthread_should_stop())
			break;

		read = ddi_read_queue_reserve(cache);
		ret = read_queued_page(volume, read);
		requeue_waiting_requests(volume, read, ret);
		ddi_read_queue_release(cache, read);
		wake_up_all(&volume->queue_space_wait);
	}
	mutex_unlock(&volume->read_mutex);
	return 0;
}

/**
 * ddi_volume_start_readers() - Start the volume's reader threads again.
 * @volume: the volume, its readers stopped: ddi_volume_create() starts
 *	them, so this is only for after ddi_volume_stop_readers().
 *
 * Return: 0 or the error of the first thread that failed to start (the ones
 * started are left for ddi_volume_stop_readers()).
 */
int ddi_volume_start_readers(struct ddi_volume *volume)
{
	unsigned int i;

	/* A second set would overwrite the first's handles and outlive the volume. */
	if (WARN_ON_ONCE(volume->reader_count))
		return -EBUSY;
	for (i = 0; i < volume->config.reader_count; i++) {
		struct task_struct *task;

		task = kthread_run(reader_thread, volume, "ddi-reader/%u", i);
		if (IS_ERR(task))
			return PTR_ERR(task);
		volume->readers[i] = task;
		volume->reader_count = i + 1;
	}
	return 0;
}

/**
 * ddi_volume_stop_readers() - Stop and join every reader thread.
 * @volume: the volume; no request may be queued any more.
 */
void ddi_volume_stop_readers(struct ddi_volume *volume)
{
	while (volume->reader_count > 0)
		kthread_stop(volume->readers[--volume->reader_count]);
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
 * and readers, but it waits for I/O: for rebuild, checks and tests.
 *
 * Return: 0 or a negative errno.
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
 * @copy: DDI_BYTES_PER_PAGE bytes to copy the page into.
 * @header: filled in with the page's header.
 *
 * The page is checked (checksum, nonce, place) and cached on the way.
 *
 * Return: 0 or a negative errno (-EBADMSG for a damaged page).
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
		memcpy(copy, dm_bufio_get_block_data(page->buffer), DDI_BYTES_PER_PAGE);
		ret = ddi_record_page_validate(copy, volume->config.nonce, header);
	}
	mutex_unlock(&volume->read_mutex);
	return ret;
}
