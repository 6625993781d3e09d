// SPDX-License-Identifier: GPL-2.0-only
/*
 * The index's life cycle: open (format a blank device, load a clean save
 * or rebuild after a crash), flush, save, statistics and close.
 */

#include <linux/random.h>
#include <linux/slab.h>

#include "index.h"

enum {
	/* Room in each save slot beyond today's state, for other zone counts. */
	DDI_SAVE_SLACK_BYTES = 1 << 20,
	DDI_MAX_READERS = 16,
};

/*
 * The volume's shape for a memory size, as UDS sizes it: below 1 GiB,
 * 1024 chapters of 64 record pages per 256 MiB; from 1 GiB, 1024 chapters
 * of 256 record pages per GiB.
 */
static int config_geometry(const struct ddi_index_config *config, struct ddi_geometry *geo)
{
	unsigned int mb = config->memory_mb;

	if (config->record_pages_per_chapter)
		return ddi_geometry_init(geo, config->record_pages_per_chapter,
					 config->chapters_per_volume);
	if (mb == 256 || mb == 512 || mb == 768)
		return ddi_geometry_init(geo, 64, 1024 * (mb / 256));
	if (mb >= 1024 && mb % 1024 == 0 && mb / 1024 <= 1024)
		return ddi_geometry_init(geo, 256, 1024 * (mb / 1024));
	return -EINVAL;
}

static int check_config(const struct ddi_index_config *config)
{
	if (config->zone_count == 0 || config->zone_count > DDI_MAX_ZONES ||
	    config->reader_count == 0 || config->reader_count > DDI_MAX_READERS ||
	    config->cache_chapters == 0)
		return -EINVAL;
	return 0;
}

/* The page cache must fit its 15-bit slot numbers and leave readers room. */
static int check_cache(struct ddi_index *index)
{
	u64 slots = (u64)index->config.cache_chapters * index->geo.record_pages_per_chapter;

	if (slots > DDI_CACHE_MAX_SLOTS || slots < index->config.reader_count + 2) {
		pr_err("a page cache of %llu pages is out of range (%u readers; at most %u)\n",
		       slots, index->config.reader_count, DDI_CACHE_MAX_SLOTS);
		return -ERANGE;
	}
	return 0;
}

static bool layout_matches(const struct ddi_index_layout *layout, const struct ddi_geometry *geo)
{
	return layout->record_pages_per_chapter == geo->record_pages_per_chapter &&
	       layout->chapters_per_volume == geo->chapters_per_volume;
}

/*
 * Save slots are sized once, at format time, but the index may later be
 * opened with another zone count, whose volume index rounds differently:
 * leave room for the largest. A volume index's memory is never less than
 * its saved size.
 */
static u64 save_bytes(const struct ddi_geometry *geo)
{
	u64 volume_index = 0;
	unsigned int zones;

	for (zones = 1; zones <= DDI_MAX_ZONES; zones++)
		volume_index = max(volume_index, ddi_volume_index_memory_needed(geo, zones));
	return ddi_index_page_map_save_size(geo) + ddi_open_chapter_save_size(geo) +
	       volume_index + DDI_SAVE_SLACK_BYTES;
}

/**
 * ddi_index_device_bytes() - The smallest index device for a configuration.
 * @config: the configuration; only its shape (memory or explicit) counts.
 * @bytes: set to the size in bytes.
 *
 * Return: 0, or -EINVAL if the configuration gives no volume shape.
 */
int ddi_index_device_bytes(const struct ddi_index_config *config, u64 *bytes)
{
	struct ddi_index_layout layout;
	struct ddi_geometry geo;
	int ret;

	ret = config_geometry(config, &geo);
	if (ret)
		return ret;
	ddi_layout_init(&layout, &geo, config->zone_count, save_bytes(&geo), 0);
	*bytes = layout.total_blocks * DDI_LAYOUT_BLOCK_BYTES;
	return 0;
}
EXPORT_SYMBOL_GPL(ddi_index_device_bytes);

/*
 * Read the superblock, or lay a new index out if the device is blank or
 * formatting was asked for. Sets *@formatted when the device was formatted.
 */
static int open_layout(struct ddi_index *index, bool *formatted)
{
	u64 device_bytes = bdev_nr_bytes(index->bdev);
	int ret;

	*formatted = false;
	ret = ddi_layout_read_super(index->bdev, &index->layout);
	if (!ret && !layout_matches(&index->layout, &index->geo)) {
		pr_err("the index device holds an index of another shape (%u record pages x %u chapters)\n",
		       index->layout.record_pages_per_chapter,
		       index->layout.chapters_per_volume);
		ret = -EINVAL;
	}
	if (!ret && index->layout.total_blocks * DDI_LAYOUT_BLOCK_BYTES > device_bytes) {
		pr_err("the index device is smaller than its index\n");
		return -ENOSPC;
	}
	if (!ret)
		return 0;
	if (ret == -EMEDIUMTYPE)
		pr_err("the index device holds something that is not an index\n");
	else if (ret == -EBADMSG)
		pr_err("the index superblock is damaged or of an unknown version\n");
	if (ret != -ENODATA && !index->config.format)
		return ret;

	ddi_layout_init(&index->layout, &index->geo, index->zone_count,
			save_bytes(&index->geo), get_random_u64());
	if (index->layout.total_blocks * DDI_LAYOUT_BLOCK_BYTES > device_bytes) {
		pr_err("the index device is too small: %llu bytes, %llu needed\n",
		       device_bytes, index->layout.total_blocks * DDI_LAYOUT_BLOCK_BYTES);
		return -ENOSPC;
	}
	ret = ddi_layout_invalidate_saves(index->bdev, &index->layout);
	if (!ret)
		ret = ddi_layout_write_super(index->bdev, &index->layout);
	if (ret)
		return ret;
	pr_info("formatted a new index: %u chapters of %u record pages, %llu MiB\n",
		index->geo.chapters_per_volume, index->geo.record_pages_per_chapter,
		(index->layout.total_blocks * DDI_LAYOUT_BLOCK_BYTES) >> 20);
	*formatted = true;
	return 0;
}

static int create_volume(struct ddi_index *index)
{
	struct ddi_volume_config config = {
		.zone_count = index->zone_count,
		.reader_count = index->config.reader_count,
		.cache_chapters = index->config.cache_chapters,
		.nonce = index->layout.nonce,
		.start = ddi_layout_volume_sector(&index->layout),
		.requeue = ddi_index_requeue,
		.requeue_context = index,
	};

	return ddi_volume_create(&index->geo, index->bdev, &config, &index->volume);
}

/* Throw a partly loaded state away so that a rebuild starts from nothing. */
static int reset_state(struct ddi_index *index)
{
	unsigned int z;

	ddi_volume_index_free(index->volume_index);
	index->volume_index = NULL;
	for (z = 0; z < index->zone_count; z++)
		ddi_open_chapter_zone_reset(index->zones[z]->open);
	return ddi_volume_index_create(&index->geo, index->zone_count, &index->volume_index);
}

static int recover_state(struct ddi_index *index, bool formatted, u64 *open_vcn)
{
	u64 lowest, highest, saved;
	bool empty;
	int ret;

	/*
	 * Every chapter below a save's open chapter was written before it: one
	 * of them found damaged must not pass for the end of the volume, which
	 * would make the saves look stale and drop the chapters after it.
	 */
	saved = formatted ? 0 : ddi_index_saved_open_vcn(index);
	ret = ddi_volume_find_boundaries_known(index->volume, saved, &lowest, &highest, &empty);
	if (ret) {
		pr_err("cannot find the volume's chapters: %d\n", ret);
		/* Not the superblock's fault, as -EBADMSG would say. */
		return ret == -EBADMSG ? -EUCLEAN : ret;
	}
	*open_vcn = empty ? 0 : highest + 1;
	ret = ddi_index_zones_create(index, *open_vcn);
	if (ret || formatted)
		return ret;

	if (!ddi_index_load_state(index, *open_vcn))
		return 0;
	ret = reset_state(index);
	if (ret || empty)
		return ret;
	return ddi_index_rebuild(index, lowest, highest);
}

/*
 * Zone threads stop first, then the writer; freeing the volume stops its
 * readers. Also the unwinding of a failed open: each part may be missing.
 */
static void free_index(struct ddi_index *index)
{
	ddi_index_zones_free(index);
	ddi_chapter_writer_free(index);
	ddi_volume_free(index->volume);
	ddi_volume_index_free(index->volume_index);
	kfree(index);
}

/**
 * ddi_index_open() - Open the index on a block device, or create one.
 * @bdev: the index device; the caller keeps it open until ddi_index_close().
 * @config: the index's shape and threads.
 * @index_ptr: set to the open index.
 *
 * A blank device is formatted. An index of the same shape is loaded from
 * its newest save, or rebuilt from its chapters if that save is missing or
 * older than the chapters (a crash). Anything else on the device is
 * refused unless @config->format allows formatting over it.
 *
 * Return: 0; -EINVAL for a bad configuration or an index of another
 * shape; -ERANGE for a page cache too large or too small for the shape;
 * -E2BIG for a volume index too large for the zone count; -EMEDIUMTYPE
 * for a device holding something else; -EBADMSG for a damaged superblock;
 * -ENOSPC for a device too small; -EUCLEAN for a volume whose chapters are
 * too damaged to rebuild from; or another errno. Only success or the
 * last four can have touched the device, and only success writes to it.
 */
int ddi_index_open(struct block_device *bdev, const struct ddi_index_config *config,
		   struct ddi_index **index_ptr)
{
	struct ddi_index *index;
	bool formatted;
	u64 open_vcn;
	int ret;

	ret = check_config(config);
	if (ret)
		return ret;
	index = kzalloc(sizeof(*index), GFP_KERNEL);
	if (!index)
		return -ENOMEM;
	index->config = *config;
	index->bdev = bdev;
	index->zone_count = config->zone_count;
	atomic64_set(&index->in_flight, 0);
	init_waitqueue_head(&index->flush_wait);
	mutex_init(&index->save_mutex);
	init_waitqueue_head(&index->pause_wait);

	ret = config_geometry(config, &index->geo);
	if (ret) {
		pr_err("no volume shape for this configuration\n");
		goto fail;
	}
	/* Everything that can refuse the line is checked before the device is touched. */
	ret = check_cache(index);
	if (!ret)
		ret = ddi_volume_index_create(&index->geo, index->zone_count,
					      &index->volume_index);
	if (ret == -EINVAL) {
		pr_err("a volume index this large needs more zones\n");
		ret = -E2BIG;
	}
	if (!ret)
		ret = open_layout(index, &formatted);
	if (!ret)
		ret = create_volume(index);
	if (!ret)
		ret = recover_state(index, formatted, &open_vcn);
	if (!ret)
		ret = ddi_chapter_writer_create(index, open_vcn);
	if (!ret)
		ret = ddi_index_zones_start(index);
	if (ret)
		goto fail;
	*index_ptr = index;
	return 0;

fail:
	free_index(index);
	return ret;
}
EXPORT_SYMBOL_GPL(ddi_index_open);

/**
 * ddi_index_flush() - Wait until every launched request has completed.
 * @index: the index.
 */
void ddi_index_flush(struct ddi_index *index)
{
	wait_event_idle(index->flush_wait, atomic64_read(&index->in_flight) == 0);
}
EXPORT_SYMBOL_GPL(ddi_index_flush);

/**
 * ddi_index_save() - Save the index state, so it opens without a rebuild.
 * @index: the index. Requests may go on being launched: the zones rest
 *	while the state is read, and what they answer afterwards is not in
 *	this save.
 *
 * Return: 0 or a negative errno.
 */
int ddi_index_save(struct ddi_index *index)
{
	int ret;

	mutex_lock(&index->save_mutex);
	ddi_index_zones_pause(index);
	ret = ddi_index_save_state(index);
	ddi_index_zones_resume(index);
	mutex_unlock(&index->save_mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(ddi_index_save);

/**
 * ddi_index_close() - Save and close the index.
 * @index: the index; nothing may be launched any more.
 */
void ddi_index_close(struct ddi_index *index)
{
	ddi_index_flush(index);
	ddi_index_save(index);
	free_index(index);
}
EXPORT_SYMBOL_GPL(ddi_index_close);

/*
 * Stop the index as a crash would: outstanding work completes and written
 * chapters stay, but nothing is saved, so the next open must rebuild.
 * For tests; not exported.
 */
void ddi_index_abandon(struct ddi_index *index)
{
	ddi_index_flush(index);
	ddi_chapter_writer_drain(index);
	free_index(index);
}

/**
 * ddi_index_get_stats() - Read the index's counters.
 * @index: the index.
 * @stats: filled in; counters read while requests run are each exact but
 *	not all from the same instant.
 */
void ddi_index_get_stats(struct ddi_index *index, struct ddi_index_stats *stats)
{
	struct ddi_volume_index_stats vi;
	struct ddi_volume_stats volume;
	unsigned int z;

	memset(stats, 0, sizeof(*stats));
	for (z = 0; z < index->zone_count; z++) {
		const struct ddi_zone_stats *zs = &index->zones[z]->stats;

		stats->posts_found += READ_ONCE(zs->posts_found);
		stats->posts_not_found += READ_ONCE(zs->posts_not_found);
		stats->queries += READ_ONCE(zs->queries);
		stats->updates += READ_ONCE(zs->updates);
		stats->deletes += READ_ONCE(zs->deletes);
		stats->requests += READ_ONCE(zs->requests);
	}
	ddi_volume_get_stats(index->volume, &volume);
	stats->cache_hits = volume.cache_hits;
	stats->cache_misses = volume.cache_misses;
	stats->pages_read = volume.pages_read;
	stats->corrupt_pages = volume.corrupt_pages;
	stats->chapters_written = READ_ONCE(index->writer.chapters_written);
	stats->newest_vcn = atomic64_read(&index->writer.close_target);
	ddi_volume_index_get_stats(index->volume_index, &vi);
	stats->entries = vi.entries + vi.collision_entries;
	stats->volume_index_bytes = vi.memory_bytes;
}
EXPORT_SYMBOL_GPL(ddi_index_get_stats);

/**
 * ddi_index_replace_storage() - Move the index to another device.
 * @index: the index, quiescent.
 * @bdev: a device holding a copy of the index's storage.
 *
 * Return: 0 or a negative errno, in which case the old device stays in use.
 */
int ddi_index_replace_storage(struct ddi_index *index, struct block_device *bdev)
{
	struct ddi_index_layout layout;
	int ret;

	ddi_index_flush(index);
	ddi_chapter_writer_drain(index);
	ret = ddi_layout_read_super(bdev, &layout);
	if (ret)
		return ret;
	if (layout.nonce != index->layout.nonce ||
	    layout.volume_start_block != index->layout.volume_start_block)
		return -EINVAL;
	ret = ddi_volume_replace_storage(index->volume, bdev,
					 ddi_layout_volume_sector(&layout));
	if (!ret)
		index->bdev = bdev;
	return ret;
}
EXPORT_SYMBOL_GPL(ddi_index_replace_storage);
