// SPDX-License-Identifier: GPL-2.0-only
/*
 * The chapter volume store: the volume's life cycle and its chapter writes.
 *
 * The volume is a circular log of chapters on a block device, accessed in
 * page-sized dm-bufio blocks. Page 0 is the volume header; chapter c
 * occupies the pages after it in order, its index pages first and then its
 * record pages. Writing virtual chapter v overwrites physical chapter
 * v % chapters_per_volume, the oldest one.
 *
 * While a chapter is overwritten, none of its pages is in the page cache:
 * ddi_volume_write_chapter() marks the physical chapter as being written
 * (volume->writing_chapter, under the read mutex), then forgets its pages,
 * and every path that installs a page refuses pages of the marked chapter.
 * dm_bufio_new() hands the writer the very buffer a cached page would hold,
 * so without this a zone could search a page while it is re-encoded.
 */

#include <linux/bitmap.h>
#include <linux/dm-bufio.h>
#include <linux/slab.h>

#include "bufio.h"
#include "volume.h"

static int open_bufio(struct ddi_volume *volume, struct block_device *bdev, sector_t start)
{
	struct dm_bufio_client *client;

	client = dm_bufio_client_create(bdev, DDI_BLOCK_BYTES, volume->reserved_buffers,
					0, NULL, NULL, 0);
	if (IS_ERR(client))
		return PTR_ERR(client);
	dm_bufio_set_sector_offset(client, start);
	volume->client = client;
	volume->bdev = bdev;
	volume->config.start = start;
	return 0;
}

/*
 * What dm-bufio adds to each 4 KiB buffer: its struct dm_buffer, private
 * to dm-bufio.c, which adds up to about 144 bytes on x86_64 in 6.12
 * without its debug stack traces, from a slab of its own.
 */
#define DDI_BUFIO_BUFFER_OVERHEAD 160

/*
 * The most buffers a volume holds: one per cache slot, and for the chapter
 * being written its index pages (held until it is written) and one record
 * page.
 */
static u32 held_buffers(const struct ddi_geometry *geo, const struct ddi_volume_config *config)
{
	return config->cache_chapters * geo->record_pages_per_chapter +
	       geo->index_pages_per_chapter + 1;
}

/*
 * The buffers dm-bufio sets aside for a volume, allocated with the client
 * and kept until it is destroyed. dm-bufio takes from them only when it
 * cannot allocate, so they are in addition to the ones held, and need only
 * cover what can be allocated at once while every other buffer is held:
 * the chapter writer's index pages and record page, one page per reader,
 * the page a zone reads itself under the read mutex, and one for a sparse
 * chapter load or a boundary probe.
 */
static u32 reserved_buffers(const struct ddi_geometry *geo, const struct ddi_volume_config *config)
{
	return geo->index_pages_per_chapter + 1 + config->reader_count + 2;
}

/**
 * ddi_volume_reserve_bytes() - RAM of the buffers dm-bufio reserves for a volume.
 * @geo: the volume geometry.
 * @config: its configuration; only the reader count counts.
 *
 * Not in ddi_volume_memory_bytes(), which plans shapes: these are a few
 * pages, and the shape "memory N" buys must not change with them.
 *
 * Return: the bytes.
 */
u64 ddi_volume_reserve_bytes(const struct ddi_geometry *geo,
			     const struct ddi_volume_config *config)
{
	return (u64)reserved_buffers(geo, config) * (DDI_BLOCK_BYTES + DDI_BUFIO_BUFFER_OVERHEAD);
}

/**
 * ddi_volume_memory_bytes() - RAM a volume of this shape takes.
 * @geo: the volume geometry.
 * @config: its configuration; only the cache, zone and reader counts count.
 *
 * Return: the bytes ddi_volume_create() allocates, and the most dm-bufio
 * buffers the volume holds (a full page cache, a chapter being written);
 * dm-bufio's reserve is ddi_volume_reserve_bytes(). Pages the volume
 * reads or writes outside its page cache are dropped from dm-bufio once
 * used (see bufio.h), so they are not counted.
 */
u64 ddi_volume_memory_bytes(const struct ddi_geometry *geo, const struct ddi_volume_config *config)
{
	u32 slots = config->cache_chapters * geo->record_pages_per_chapter;
	u32 pages = geo->pages_per_volume + DDI_HEADER_PAGES;
	struct ddi_volume *volume;

	return kmalloc_size_roundup(sizeof(*volume)) +
	       (u64)held_buffers(geo, config) * (DDI_BLOCK_BYTES + DDI_BUFIO_BUFFER_OVERHEAD) +
	       ddi_page_cache_memory_bytes(pages, slots, config->zone_count) +
	       ddi_radix_sorter_memory_bytes(geo->records_per_page) +
	       ddi_index_page_map_memory_bytes(geo) +
	       kmalloc_size_roundup(geo->records_per_page * sizeof(*volume->record_pointers)) +
	       kmalloc_size_roundup(config->zone_count * sizeof(*volume->zone_counters)) +
	       kmalloc_size_roundup(config->reader_count * sizeof(*volume->readers)) +
	       kmalloc_size_roundup(geo->index_pages_per_chapter *
				    sizeof(*volume->index_buffers)) +
	       kmalloc_size_roundup(BITS_TO_LONGS(pages) * sizeof(long)) +
	       config->reader_count * DDI_THREAD_BYTES;
}

/**
 * ddi_volume_create() - Set up a volume on a block device.
 * @geo: the volume geometry, already validated.
 * @bdev: the device holding the volume; the caller keeps it open.
 * @config: zones, readers, cache size, nonce, start and requeue hook.
 * @volume_ptr: set to the new volume.
 *
 * Nothing is read or written: the volume's chapters are whatever the device
 * holds, and the caller loads or rebuilds the index page map.
 *
 * Return: 0, -EINVAL for an unusable configuration, or -ENOMEM.
 */
int ddi_volume_create(const struct ddi_geometry *geo, struct block_device *bdev,
		      const struct ddi_volume_config *config,
		      struct ddi_volume **volume_ptr)
{
	struct ddi_volume *volume;
	u32 slots;
	int ret;

	if (!config->requeue || config->reader_count == 0 ||
	    config->cache_chapters == 0 || ddi_geometry_validate(geo))
		return -EINVAL;
	/* Each reader holds a claimed slot while reading; keep some to evict. */
	slots = config->cache_chapters * geo->record_pages_per_chapter;
	if (slots > DDI_CACHE_MAX_SLOTS || slots < config->reader_count + 2)
		return -EINVAL;

	volume = kzalloc(sizeof(*volume), GFP_KERNEL);
	if (!volume)
		return -ENOMEM;
	volume->geo = *geo;
	volume->config = *config;
	mutex_init(&volume->read_mutex);
	init_waitqueue_head(&volume->reader_wait);
	init_waitqueue_head(&volume->queue_space_wait);
	volume->writing_chapter = geo->chapters_per_volume;
	volume->reserved_buffers = reserved_buffers(geo, config);

	ret = ddi_page_cache_init(&volume->cache, geo->pages_per_volume + DDI_HEADER_PAGES,
				  slots, config->zone_count, &volume->read_mutex);
	if (ret)
		goto fail;

	ret = ddi_radix_sorter_create(geo->records_per_page, &volume->sorter);
	if (ret)
		goto fail;
	ret = ddi_index_page_map_create(geo, &volume->page_map);
	if (ret)
		goto fail;

	ret = -ENOMEM;
	volume->record_pointers = kcalloc(geo->records_per_page,
					  sizeof(*volume->record_pointers), GFP_KERNEL);
	volume->zone_counters = kcalloc(config->zone_count, sizeof(*volume->zone_counters),
					GFP_KERNEL);
	volume->readers = kcalloc(config->reader_count, sizeof(*volume->readers), GFP_KERNEL);
	volume->index_buffers = kcalloc(geo->index_pages_per_chapter,
					sizeof(*volume->index_buffers), GFP_KERNEL);
	volume->bad_pages = bitmap_zalloc(geo->pages_per_volume + DDI_HEADER_PAGES, GFP_KERNEL);
	if (!volume->record_pointers || !volume->zone_counters || !volume->readers ||
	    !volume->index_buffers || !volume->bad_pages)
		goto fail;

	ret = open_bufio(volume, bdev, config->start);
	if (ret)
		goto fail;
	ret = ddi_volume_readers_start(volume);
	if (ret)
		goto fail;

	*volume_ptr = volume;
	return 0;

fail:
	ddi_volume_free(volume);
	return ret;
}

/**
 * ddi_volume_free() - Stop the reader threads and free the volume.
 * @volume: the volume, or NULL. No request may still be queued on it.
 */
void ddi_volume_free(struct ddi_volume *volume)
{
	if (!volume)
		return;

	if (volume->readers)
		ddi_volume_readers_stop(volume);
	/* Cached pages hold bufio buffers: release them before the client. */
	ddi_page_cache_destroy(&volume->cache);
	if (volume->client)
		dm_bufio_client_destroy(volume->client);
	ddi_index_page_map_free(volume->page_map);
	ddi_radix_sorter_free(volume->sorter);
	kfree(volume->record_pointers);
	kfree(volume->zone_counters);
	kfree(volume->readers);
	kfree(volume->index_buffers);
	bitmap_free(volume->bad_pages);
	mutex_destroy(&volume->read_mutex);
	kfree(volume);
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/* Set by tests: the next ddi_volume_open_storage() fails as if out of memory. */
bool ddi_volume_fail_next_storage;
#endif

/**
 * ddi_volume_open_storage() - Make a volume's dm-bufio client on another device.
 * @volume: the volume, whose shape sets the buffers the client reserves.
 * @bdev: the device that holds (or will hold) a copy of the volume.
 * @start: the sector where its page 0 starts.
 * @storage: filled in with the new client; nothing is read yet.
 *
 * The volume goes on using its own storage: this only prepares a later
 * ddi_volume_replace_storage(), so that the allocation that can fail (the
 * client's reserved buffers) fails while the old storage is still in
 * place. A storage not handed over is released with
 * ddi_volume_close_storage().
 *
 * Return: 0 or a negative errno (-ENOMEM when the buffers cannot be had).
 */
int ddi_volume_open_storage(struct ddi_volume *volume, struct block_device *bdev,
			    sector_t start, struct ddi_volume_storage *storage)
{
	struct dm_bufio_client *client;

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
	if (READ_ONCE(ddi_volume_fail_next_storage)) {
		WRITE_ONCE(ddi_volume_fail_next_storage, false);
		return -ENOMEM;
	}
#endif
	client = dm_bufio_client_create(bdev, DDI_BLOCK_BYTES, volume->reserved_buffers,
					0, NULL, NULL, 0);
	if (IS_ERR(client))
		return PTR_ERR(client);
	dm_bufio_set_sector_offset(client, start);
	*storage = (struct ddi_volume_storage) {
		.client = client,
		.bdev = bdev,
		.start = start,
	};
	return 0;
}

/**
 * ddi_volume_close_storage() - Release a storage no volume uses.
 * @storage: from ddi_volume_open_storage(), or given back by
 *	ddi_volume_replace_storage(); its client may be NULL.
 */
void ddi_volume_close_storage(struct ddi_volume_storage *storage)
{
	if (storage->client)
		dm_bufio_client_destroy(storage->client);
	storage->client = NULL;
}

/* No read is queued or in progress; the caller holds the read mutex. */
static bool reads_idle(struct ddi_volume *volume)
{
	lockdep_assert_held(&volume->read_mutex);
	return volume->cache.read_queue_first == volume->cache.read_queue_last;
}

/**
 * ddi_volume_replace_storage() - Move the volume to another device.
 * @volume: the volume. The caller has brought every zone thread to rest
 *	and drained the chapter writer: nothing searches the cache, writes a
 *	chapter or queues a read any more. Reads already queued may still run.
 * @storage: from ddi_volume_open_storage(); on return it holds the old
 *	storage, which the caller releases with ddi_volume_close_storage()
 *	once it may (the old device must stay open until then).
 *
 * Waits, under the read mutex, until the reader threads have finished
 * every queued read: a reader drops the mutex only while it holds a read
 * queue entry reserved, and entries leave the queue only once released,
 * so an empty queue means no reader is inside dm-bufio. With the mutex
 * still held no reader can start another, and every cached page (holding
 * a buffer of the old client) is dropped before the clients change places.
 * Nothing here can fail.
 */
void ddi_volume_replace_storage(struct ddi_volume *volume, struct ddi_volume_storage *storage)
{
	struct ddi_volume_storage old = {
		.client = volume->client,
		.bdev = volume->bdev,
		.start = volume->config.start,
	};

	mutex_lock(&volume->read_mutex);
	/* Readers wake queue_space_wait after each entry they release. */
	(void)___wait_event(volume->queue_space_wait, reads_idle(volume),
			    TASK_UNINTERRUPTIBLE, 0, 0,
			    mutex_unlock(&volume->read_mutex); schedule();
			    mutex_lock(&volume->read_mutex));
	ddi_page_cache_clear_all(&volume->cache);
	/* The copy's pages were never read: what was damaged here may not be there. */
	bitmap_zero(volume->bad_pages, volume->geo.pages_per_volume + DDI_HEADER_PAGES);
	volume->client = storage->client;
	volume->bdev = storage->bdev;
	volume->config.start = storage->start;
	mutex_unlock(&volume->read_mutex);
	*storage = old;
}

static void forget_chapter_locked(struct ddi_volume *volume, u32 chapter)
{
	const struct ddi_geometry *geo = &volume->geo;
	u32 first = ddi_physical_page(geo, chapter, 0);
	u32 i;

	lockdep_assert_held(&volume->read_mutex);
	for (i = 0; i < geo->pages_per_chapter; i++)
		ddi_page_cache_invalidate(&volume->cache, first + i);
	bitmap_clear(volume->bad_pages, first, geo->pages_per_chapter);
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_volume_forget_chapter() - Drop what the volume knows of a chapter.
 * @volume: the volume.
 * @vcn: the virtual chapter leaving the index, or whose pages changed.
 *
 * Its cached pages are dropped and its pages are no longer known to be
 * damaged. Queued reads of its pages are invalidated: their requests come
 * back to their zones unanswered, and search again if their chapter is
 * still in the zone's window.
 */
void ddi_volume_forget_chapter(struct ddi_volume *volume, u64 vcn)
{
	mutex_lock(&volume->read_mutex);
	forget_chapter_locked(volume, ddi_physical_chapter(&volume->geo, vcn));
	mutex_unlock(&volume->read_mutex);
}
#endif

/*
 * A chapter just written is likely to be searched soon, so its index pages
 * go straight into the cache with the buffers they were written from, once
 * the whole chapter is written and no longer marked. Takes over the
 * caller's hold on @buffer either way.
 */
static void donate_index_page(struct ddi_volume *volume, u32 physical_page,
			      struct dm_buffer *buffer)
{
	struct ddi_page_cache *cache = &volume->cache;
	struct ddi_cached_page *page;

	lockdep_assert_held(&volume->read_mutex);
	page = ddi_page_cache_claim_victim(cache);
	if (!page) {
		dm_bufio_release(buffer);
		return;
	}
	page->buffer = buffer;
	if (ddi_chapter_index_page_init(&page->index_page, &volume->geo,
					dm_bufio_get_block_data(buffer), volume->config.nonce)) {
		ddi_page_cache_cancel(cache, page);
		return;
	}
	page->vcn = page->index_page.vcn;
	ddi_page_cache_install(cache, page, physical_page);
}

/*
 * Get the buffer of a page of the chapter being written. The chapter's
 * pages were forgotten with the chapter marked, so none may be cached: if
 * one is, a zone could be searching the buffer we are about to fill.
 */
static void *new_page(struct ddi_volume *volume, u32 physical_page, struct dm_buffer **buffer)
{
	if (ddi_page_cache_lookup(&volume->cache, physical_page))
		atomic64_inc(&volume->cached_pages_overwritten);
	return dm_bufio_new(volume->client, physical_page, buffer);
}

static int write_index_pages(struct ddi_volume *volume, u32 chapter,
			     struct ddi_open_chapter_index *chapter_index)
{
	const struct ddi_geometry *geo = &volume->geo;
	u64 vcn = ddi_open_chapter_index_vcn(chapter_index);
	u32 next_list = 0;
	u32 i;

	for (i = 0; i < geo->index_pages_per_chapter; i++) {
		u32 physical_page = ddi_physical_page(geo, chapter, i);
		bool last_page = i + 1 == geo->index_pages_per_chapter;
		struct dm_buffer *buffer;
		u32 packed;
		void *data;
		int ret;

		data = new_page(volume, physical_page, &buffer);
		if (IS_ERR(data))
			return PTR_ERR(data);
		/* Held until the chapter is written; released on error too. */
		volume->index_buffers[i] = buffer;

		ret = ddi_open_chapter_index_pack_page(chapter_index, data,
						       volume->config.nonce, next_list,
						       last_page, &packed);
		if (ret)
			return ret;
		dm_bufio_mark_buffer_dirty(buffer);
		next_list += packed;
		/* Page i holds lists up to next_list - 1 (none if it packed none). */
		ddi_index_page_map_update(volume->page_map, vcn, chapter, i, next_list - 1);
	}
	return 0;
}

static int write_record_pages(struct ddi_volume *volume, u32 chapter, u64 vcn,
			      const struct ddi_record *records, u32 record_count)
{
	const struct ddi_geometry *geo = &volume->geo;
	u32 i;

	for (i = 0; i < geo->record_pages_per_chapter; i++) {
		u32 first = min(i * geo->records_per_page, record_count);
		u32 count = min(record_count - first, geo->records_per_page);
		struct dm_buffer *buffer;
		void *data;
		int ret;

		data = new_page(volume,
				ddi_physical_page(geo, chapter, geo->index_pages_per_chapter + i),
				&buffer);
		if (IS_ERR(data))
			return PTR_ERR(data);

		ret = ddi_record_page_encode(data, &records[first], count,
					     volume->record_pointers, volume->sorter,
					     volume->config.nonce, vcn, i);
		if (!ret)
			dm_bufio_mark_buffer_dirty(buffer);
		dm_bufio_release(buffer);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * ddi_volume_write_chapter() - Write a closed chapter to its place.
 * @volume: the volume.
 * @chapter_index: the chapter's index, holding the virtual chapter number
 *                 and, for each record, the record page it goes to.
 * @records: the chapter's records, records_per_page to each record page
 *           in order; the last pages may be partly filled or empty.
 * @record_count: how many records, at most records_per_chapter.
 *
 * The physical chapter is marked as being written and its old pages are
 * dropped from the cache first; until every page is written and the device
 * cache flushed, none of its pages can be cached or searched, and lookups
 * that need one are answered as misses. Then the mark is cleared and the
 * new index pages are put in the cache.
 * A crash in the middle may leave any mix of the chapter's pages: the
 * boundary probe checks every index page and the last record page, and
 * each page is checked again when it is read, so a torn chapter costs
 * records, never a wrong answer.
 *
 * Return: 0 or a negative errno.
 */
int ddi_volume_write_chapter(struct ddi_volume *volume,
			     struct ddi_open_chapter_index *chapter_index,
			     const struct ddi_record *records, u32 record_count)
{
	const struct ddi_geometry *geo = &volume->geo;
	u64 vcn = ddi_open_chapter_index_vcn(chapter_index);
	u32 chapter = ddi_physical_chapter(geo, vcn);
	u32 i;
	int ret;

#if IS_ENABLED(CONFIG_KUNIT)
	/*
	 * Lets a test fail the write of a chapter, as a dying device would
	 * (a static stub cannot: this runs on the writer thread, not the
	 * test's).
	 */
	if (volume->write_fault_hook) {
		ret = volume->write_fault_hook(volume, vcn);
		if (ret)
			return ret;
	}
#endif
	if (record_count > geo->records_per_chapter)
		return -EINVAL;

	/*
	 * Mark first, then forget, both under the mutex: a reader that read a
	 * page of the chapter with the mutex dropped finds its queue entry
	 * invalidated or the chapter marked when it takes the mutex back, and
	 * gives the page up unused.
	 */
	mutex_lock(&volume->read_mutex);
	volume->writing_chapter = chapter;
	forget_chapter_locked(volume, chapter);
	mutex_unlock(&volume->read_mutex);
#if IS_ENABLED(CONFIG_KUNIT)
	if (volume->write_pause_hook)
		volume->write_pause_hook(volume);
#endif

	ret = write_index_pages(volume, chapter, chapter_index);
	if (!ret)
		ret = write_record_pages(volume, chapter, vcn, records, record_count);
	/*
	 * Written is not durable on a disk with a volatile write cache: this
	 * waits for the writes and then flushes the cache, one flush in all.
	 */
	if (!ret)
		ret = dm_bufio_write_dirty_buffers(volume->client);
	if (ret)
		pr_err("%pg: cannot write chapter %llu: %d\n", volume->bdev, vcn, ret);
	/*
	 * The record pages are on disk (or failed): drop them, or dm-bufio
	 * would keep each chapter's for minutes. A search reads them again.
	 */
	dm_bufio_forget_buffers(volume->client,
				ddi_physical_page(geo, chapter, geo->index_pages_per_chapter),
				geo->record_pages_per_chapter);

	/*
	 * The buffers are complete: the mutex orders our writes to them before
	 * any reader that installs one of them after taking the mutex.
	 */
	mutex_lock(&volume->read_mutex);
	volume->writing_chapter = geo->chapters_per_volume;
	for (i = 0; i < geo->index_pages_per_chapter; i++) {
		struct dm_buffer *buffer = volume->index_buffers[i];

		if (!buffer)
			break;
		volume->index_buffers[i] = NULL;
		if (ret)
			dm_bufio_release(buffer);
		else
			donate_index_page(volume, ddi_physical_page(geo, chapter, i), buffer);
	}
	mutex_unlock(&volume->read_mutex);
	return ret;
}

/**
 * ddi_volume_prefetch() - Start reading pages of a chapter.
 * @volume: the volume.
 * @chapter: the physical chapter.
 * @first: its first page to read, counting its index pages first.
 * @count: how many pages.
 *
 * The caller reads every page it prefetches: one prefetched and never
 * read stays in dm-bufio's cache, outside the index's memory.
 */
void ddi_volume_prefetch(struct ddi_volume *volume, u32 chapter, u32 first, u32 count)
{
	const struct ddi_geometry *geo = &volume->geo;

	if (count)
		dm_bufio_prefetch(volume->client, ddi_physical_page(geo, chapter, first), count);
}

/**
 * ddi_volume_read_chapter_index() - Read all index pages of a chapter.
 * @volume: the volume.
 * @vcn: the virtual chapter.
 * @pages: room for index_pages_per_chapter pages, filled in order.
 * @last_lists: if not NULL, set to each page's last delta list, as the
 *	index page map records it.
 *
 * Each page must be an intact index page of @vcn, and together they must
 * cover every delta list once, in order. Read through dm-bufio, bypassing
 * the page cache; the caller makes sure @vcn is not being overwritten.
 *
 * Return: 0, -EBADMSG if any page is damaged or from another chapter, or
 * an I/O error.
 */
int ddi_volume_read_chapter_index(struct ddi_volume *volume, u64 vcn, u8 *pages,
				  u32 *last_lists)
{
	const struct ddi_geometry *geo = &volume->geo;
	u32 first = ddi_physical_page(geo, ddi_physical_chapter(geo, vcn), 0);
	u32 next_list = 0;
	u32 i;

	dm_bufio_prefetch(volume->client, first, geo->index_pages_per_chapter);
	for (i = 0; i < geo->index_pages_per_chapter; i++) {
		u8 *copy = pages + (size_t)i * DDI_BLOCK_BYTES;
		struct ddi_index_page page;
		struct dm_buffer *buffer;
		void *data;
		int ret;

		data = dm_bufio_read(volume->client, first + i, &buffer);
		if (IS_ERR(data))
			return PTR_ERR(data);
		memcpy(copy, data, DDI_BLOCK_BYTES);
		ddi_bufio_drop(buffer);

		ret = ddi_chapter_index_page_init(&page, geo, copy, volume->config.nonce);
		if (ret)
			return ret;
		if (page.vcn != vcn || page.lowest_list != next_list)
			return -EBADMSG;
		if (last_lists)
			last_lists[i] = page.highest_list;
		next_list = page.highest_list + 1;
	}
	return next_list == geo->delta_lists_per_chapter ? 0 : -EBADMSG;
}

/**
 * ddi_volume_get_stats() - Sum up the volume's counters.
 * @volume: the volume.
 * @stats: filled in.
 */
void ddi_volume_get_stats(struct ddi_volume *volume, struct ddi_volume_stats *stats)
{
	unsigned int zone;

	memset(stats, 0, sizeof(*stats));
	for (zone = 0; zone < volume->config.zone_count; zone++) {
		stats->cache_hits += READ_ONCE(volume->zone_counters[zone].cache_hits);
		stats->cache_misses += READ_ONCE(volume->zone_counters[zone].cache_misses);
	}
	stats->pages_read = atomic64_read(&volume->pages_read);
	stats->read_queue_full_waits = atomic64_read(&volume->read_queue_full_waits);
	stats->corrupt_pages = atomic64_read(&volume->corrupt_pages);
	stats->repaired_pages = atomic64_read(&volume->repaired_pages);
	stats->read_errors = atomic64_read(&volume->read_errors);
}
