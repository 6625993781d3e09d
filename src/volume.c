// SPDX-License-Identifier: GPL-2.0-only
/*
 * The chapter volume store: the volume's life cycle and its chapter writes.
 *
 * The volume is a circular log of chapters on a block device, accessed in
 * page-sized dm-bufio blocks. Page 0 is the volume header; chapter c
 * occupies the pages after it in order, its index pages first and then its
 * record pages. Writing virtual chapter v overwrites physical chapter
 * v % chapters_per_volume, the oldest one.
 */

#include <linux/dm-bufio.h>
#include <linux/slab.h>

#include "volume.h"

static int open_bufio(struct ddi_volume *volume, struct block_device *bdev, sector_t start)
{
	struct dm_bufio_client *client;

	client = dm_bufio_client_create(bdev, DDI_BYTES_PER_PAGE, volume->reserved_buffers,
					0, NULL, NULL, 0);
	if (IS_ERR(client))
		return PTR_ERR(client);
	dm_bufio_set_sector_offset(client, start);
	volume->client = client;
	volume->bdev = bdev;
	volume->config.start = start;
	return 0;
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
	/* A buffer per cache slot, and one for the chapter being written. */
	volume->reserved_buffers = slots + 1;

	ret = ddi_page_cache_init(&volume->cache, geo->pages_per_volume + DDI_HEADER_PAGES,
				  slots, config->zone_count);
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
	if (!volume->record_pointers || !volume->zone_counters || !volume->readers)
		goto fail;

	ret = open_bufio(volume, bdev, config->start);
	if (ret)
		goto fail;
	ret = ddi_volume_start_readers(volume);
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
		ddi_volume_stop_readers(volume);
	/* Cached pages hold bufio buffers: release them before the client. */
	ddi_page_cache_destroy(&volume->cache);
	if (volume->client)
		dm_bufio_client_destroy(volume->client);
	ddi_index_page_map_free(volume->page_map);
	ddi_radix_sorter_free(volume->sorter);
	kfree(volume->record_pointers);
	kfree(volume->zone_counters);
	kfree(volume->readers);
	mutex_destroy(&volume->read_mutex);
	kfree(volume);
}

/**
 * ddi_volume_replace_storage() - Move the volume to another device.
 * @volume: the volume; the index must be idle (nothing queued).
 * @bdev: the device now holding the same volume contents.
 * @start: the sector where its page 0 starts.
 *
 * Every cached page is dropped, since it belongs to the old device.
 *
 * Return: 0 or a negative errno; on error the volume has no storage and
 * must be freed.
 */
int ddi_volume_replace_storage(struct ddi_volume *volume, struct block_device *bdev,
			       sector_t start)
{
	int ret;

	mutex_lock(&volume->read_mutex);
	ddi_page_cache_clear_all(&volume->cache);
	dm_bufio_client_destroy(volume->client);
	volume->client = NULL;
	ret = open_bufio(volume, bdev, start);
	mutex_unlock(&volume->read_mutex);
	return ret;
}

/**
 * ddi_volume_forget_chapter() - Drop a chapter's pages from the cache.
 * @volume: the volume.
 * @vcn: the virtual chapter leaving the index (or about to be overwritten).
 *
 * Queued reads of its pages are invalidated: their requests come back to
 * their zones unanswered and search again.
 */
void ddi_volume_forget_chapter(struct ddi_volume *volume, u64 vcn)
{
	const struct ddi_geometry *geo = &volume->geo;
	u32 first = ddi_physical_page(geo, ddi_physical_chapter(geo, vcn), 0);
	u32 i;

	mutex_lock(&volume->read_mutex);
	for (i = 0; i < geo->pages_per_chapter; i++)
		ddi_page_cache_invalidate(&volume->cache, first + i);
	mutex_unlock(&volume->read_mutex);
}

/*
 * A chapter just written is likely to be searched soon, so its index pages
 * go straight into the cache with the buffers they were written from.
 * Takes over the caller's hold on @buffer either way.
 */
static int donate_index_page(struct ddi_volume *volume, u32 physical_page,
			     struct dm_buffer *buffer)
{
	struct ddi_page_cache *cache = &volume->cache;
	struct ddi_cached_page *page;
	int ret;

	mutex_lock(&volume->read_mutex);
	page = ddi_page_cache_claim_victim(cache);
	if (!page) {
		mutex_unlock(&volume->read_mutex);
		dm_bufio_release(buffer);
		return 0;
	}
	page->buffer = buffer;
	ret = ddi_index_page_init(&page->index_page, &volume->geo,
				  dm_bufio_get_block_data(buffer), volume->config.nonce);
	if (ret) {
		ddi_page_cache_cancel(cache, page);
	} else {
		page->vcn = page->index_page.vcn;
		ddi_page_cache_install(cache, page, physical_page);
	}
	mutex_unlock(&volume->read_mutex);
	return ret;
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

		data = dm_bufio_new(volume->client, physical_page, &buffer);
		if (IS_ERR(data))
			return PTR_ERR(data);

		ret = ddi_open_chapter_index_pack_page(chapter_index, data,
						       volume->config.nonce, next_list,
						       last_page, &packed);
		if (ret) {
			dm_bufio_release(buffer);
			return ret;
		}
		dm_bufio_mark_buffer_dirty(buffer);
		next_list += packed;
		/* Page i holds lists up to next_list - 1 (none if it packed none). */
		ddi_index_page_map_update(volume->page_map, vcn, chapter, i, next_list - 1);

		ret = donate_index_page(volume, physical_page, buffer);
		if (ret)
			return ret;
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

		data = dm_bufio_new(volume->client,
				    ddi_physical_page(geo, chapter,
						      geo->index_pages_per_chapter + i),
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
 * The physical chapter's old pages are dropped from the cache first, and
 * every page is written and the device cache flushed before this returns.
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
	int ret;

	if (record_count > geo->records_per_chapter)
		return -EINVAL;

	ddi_volume_forget_chapter(volume, vcn);
	ret = write_index_pages(volume, chapter, chapter_index);
	if (!ret)
		ret = write_record_pages(volume, chapter, vcn, records, record_count);
	if (!ret)
		ret = dm_bufio_write_dirty_buffers(volume->client);
	/* Written is not durable on a disk with a volatile write cache. */
	if (!ret)
		ret = dm_bufio_issue_flush(volume->client);
	if (ret)
		pr_err("cannot write chapter %llu: %d\n", vcn, ret);
	return ret;
}

/**
 * ddi_volume_prefetch_chapter() - Start reading a whole chapter.
 * @volume: the volume.
 * @chapter: the physical chapter.
 */
void ddi_volume_prefetch_chapter(struct ddi_volume *volume, u32 chapter)
{
	const struct ddi_geometry *geo = &volume->geo;

	dm_bufio_prefetch(volume->client, ddi_physical_page(geo, chapter, 0),
			  geo->pages_per_chapter);
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
 * cover every delta list once, in order.
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
		u8 *copy = pages + (size_t)i * DDI_BYTES_PER_PAGE;
		struct ddi_index_page page;
		struct dm_buffer *buffer;
		void *data;
		int ret;

		data = dm_bufio_read(volume->client, first + i, &buffer);
		if (IS_ERR(data))
			return PTR_ERR(data);
		memcpy(copy, data, DDI_BYTES_PER_PAGE);
		dm_bufio_release(buffer);

		ret = ddi_index_page_init(&page, geo, copy, volume->config.nonce);
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
}
