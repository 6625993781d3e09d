// SPDX-License-Identifier: GPL-2.0-only
/*
 * The index's life cycle: open (format a blank device, load a clean save
 * or rebuild after a crash), flush, save, statistics and close.
 */

#include <kunit/static_stub.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "index.h"

/* Ends the reason for a refusal that 'format' in the table line overrules. */
#define FORMAT_HINT " (add format to overwrite it)"

enum {
	/* Room in each save slot beyond today's state, for other zone counts. */
	DDI_SAVE_SLACK_BYTES = 1 << 20,
};

/*
 * The volume's shape: the explicit one, or the largest that the memory
 * budget holds (see index-memory.c).
 */
static int config_geometry(const struct ddi_index_config *config, struct ddi_geometry *geo)
{
	if (config->record_pages_per_chapter && config->sparse)
		return ddi_geometry_init_sparse(geo, config->record_pages_per_chapter,
						config->chapters_per_volume);
	if (config->record_pages_per_chapter)
		return ddi_geometry_init(geo, config->record_pages_per_chapter,
					 config->chapters_per_volume);
	return ddi_index_memory_geometry(config->memory_mb, config->sparse, geo);
}

/* What the index holds at most: its shape's, and dm-bufio's small reserve. */
static u64 index_memory_bytes(const struct ddi_index *index)
{
	struct ddi_volume_config volume = { .reader_count = index->config.reader_count };

	return ddi_index_memory_bytes(&index->geo, index->zone_count, index->config.reader_count,
				      index->config.cache_chapters) +
	       ddi_volume_reserve_bytes(&index->geo, &volume);
}

/*
 * Why an open failed, for ddi_index_open()'s error string, and the errno
 * to return. The words are the table line's: a dm target puts them in
 * ti->error as they are.
 */
static int open_failed(char **why_ptr, char *why, int ret)
{
	*why_ptr = why;
	return ret;
}

/*
 * A save slot must hold the state of this index, at this zone count. Only
 * an index whose shape was adopted can fail this: every other's slots were
 * sized by this version for the largest zone count.
 */
static int check_save_slots(struct ddi_index *index, char **why)
{
	u64 bytes = ddi_index_state_bytes(index);

	if (ddi_layout_save_fits(&index->layout, bytes))
		return 0;
	pr_err("%pg: a save of this index with %u zones takes %llu bytes; a save slot of index_dev holds %llu\n",
	       index->bdev, index->zone_count, bytes,
	       (index->layout.save_slot_blocks - 1) * DDI_BLOCK_BYTES);
	return open_failed(why, "the save slots of index_dev are too small for this index",
			   -ENOSPC);
}

/* The page cache must fit its 15-bit slot numbers and leave readers room. */
static int check_cache(struct ddi_index *index, char **why)
{
	u64 slots = (u64)index->config.cache_chapters * index->geo.record_pages_per_chapter;

	if (slots > DDI_CACHE_MAX_SLOTS || slots < index->config.reader_count + 2) {
		pr_err("%pg: a page cache of %llu pages is out of range (%u readers; at most %u)\n",
		       index->bdev, slots, index->config.reader_count, DDI_CACHE_MAX_SLOTS);
		return open_failed(why,
				   "cache_chapters x record pages per chapter must be readers + 2 to 32767",
				   -ERANGE);
	}
	return 0;
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
		volume_index = max(volume_index, ddi_index_volume_index_bytes(geo, zones));
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
	if (!ret)
		ret = ddi_layout_init(&layout, &geo, config->zone_count, save_bytes(&geo), 0);
	if (!ret)
		ret = ddi_layout_bytes(&layout, bytes);
	return ret;
}
EXPORT_SYMBOL_GPL(ddi_index_device_bytes);

/*
 * Lay a new index out, in memory only: write_format() puts it on the device
 * once the rest of the open has succeeded.
 */
static int plan_format(struct ddi_index *index, char **why)
{
	u64 device_bytes = bdev_nr_bytes(index->bdev), bytes;
	int ret;

	ret = ddi_layout_init(&index->layout, &index->geo, index->zone_count,
			      save_bytes(&index->geo), get_random_u64());
	if (!index->config.record_pages_per_chapter)
		index->layout.memory_mb = index->config.memory_mb;
	if (!ret)
		ret = ddi_layout_bytes(&index->layout, &bytes);
	if (ret)
		return open_failed(why, "no volume layout for this shape", ret);
	if (bytes > device_bytes) {
		pr_err("%pg: the index device is too small: %llu bytes, %llu needed\n",
		       index->bdev, device_bytes, bytes);
		return open_failed(why, "index_dev is too small for the index", -ENOSPC);
	}
	return 0;
}

/* Empty both save slots, then write the superblock that makes it an index. */
static int write_format(struct ddi_index *index)
{
	int ret = ddi_layout_invalidate_saves(index->bdev, &index->layout);

	if (!ret)
		ret = ddi_layout_write_super(index->bdev, &index->layout);
	if (ret) {
		pr_err("%pg: cannot format the index device: %d\n", index->bdev, ret);
		return ret;
	}
	pr_info("%pg: formatted a new index: %u chapters of %u record pages, %llu MiB\n",
		index->bdev, index->geo.chapters_per_volume, index->geo.record_pages_per_chapter,
		(index->layout.total_blocks * DDI_BLOCK_BYTES) >> 20);
	if (ddi_geometry_is_sparse(&index->geo))
		pr_info("%pg: sparse: the newest %u chapters keep every name, the other %u one in %u\n",
			index->bdev, ddi_geometry_dense_chapters(&index->geo),
			index->geo.sparse_chapters_per_volume, index->geo.sparse_sample_rate);
	pr_info("%pg: its window: %llu records, %llu GiB of distinct 4 KiB blocks, in %llu MiB of RAM\n",
		index->bdev, index->geo.records_per_volume,
		(index->geo.records_per_volume * DDI_BLOCK_BYTES) >> 30,
		index_memory_bytes(index) >> 20);
	return 0;
}

/*
 * An index that "memory N" made before N was a RAM budget has N's legacy
 * shape: open it as it is, rather than refuse a working index. Its save
 * slots were sized for the volume index of then, which took up to 1.35
 * times what it takes now. Returns 0 if @found is such an index, with
 * index->geo set to its shape.
 */
static int adopt_legacy_shape(struct ddi_index *index, const struct ddi_index_layout *found)
{
	struct ddi_geometry legacy;
	const char *field;

	if (index->config.record_pages_per_chapter || index->config.sparse ||
	    ddi_index_legacy_geometry(index->config.memory_mb, &legacy) ||
	    ddi_layout_check(found, &legacy, save_bytes(&legacy), 2 * save_bytes(&legacy), &field))
		return -EINVAL;
	pr_warn("%pg: an index of the earlier shape for memory %u (%u record pages x %u chapters, %llu records): opened as it is; a new index (format) would cover more\n",
		index->bdev, index->config.memory_mb, legacy.record_pages_per_chapter,
		legacy.chapters_per_volume, legacy.records_per_volume);
	index->geo = legacy;
	return 0;
}

/*
 * Check a superblock against the layout the table asks for. An explicit
 * shape must be laid out exactly as this version lays it out. "memory N"
 * opens what was formatted for N, by this version or another, with the
 * shape and save slots it has (ddi_index_memory_adopt_shape()): its slots
 * were sized by the count of the version that formatted it, so they may be
 * from half to twice this one's, and the open checks that the state fits
 * them once the volume index is made (check_save_slots()). Anything else
 * must be N's shape by this version's count, or N's legacy shape. Returns
 * 0, with index->geo set to the shape on disk; -EINVAL for an index of
 * another shape; or -EBADMSG, with *@field set, for a superblock whose
 * fields are not what its shape lays out.
 */
static int check_found(struct ddi_index *index, const struct ddi_index_layout *found,
		       const char **field)
{
	struct ddi_geometry geo;
	u64 save;
	int ret;

	if (index->config.record_pages_per_chapter ||
	    ddi_index_memory_adopt_shape(index->config.memory_mb, index->config.sparse,
					 found, &geo)) {
		save = save_bytes(&index->geo);
		ret = ddi_layout_check(found, &index->geo, save, save, field);
		if (ret == -EINVAL && !adopt_legacy_shape(index, found))
			ret = 0;
		return ret;
	}
	save = save_bytes(&geo);
	ret = ddi_layout_check(found, &geo, save / 2, 2 * save, field);
	if (ret)
		return ret;
	if (geo.record_pages_per_chapter != index->geo.record_pages_per_chapter ||
	    geo.chapters_per_volume != index->geo.chapters_per_volume)
		pr_warn("%pg: an index of %u record pages x %u chapters (%llu records), formatted for memory %u%s: opened with its own shape, which memory %u no longer gives\n",
			index->bdev, geo.record_pages_per_chapter, geo.chapters_per_volume,
			geo.records_per_volume, index->config.memory_mb,
			found->memory_mb ? "" : " or about it", index->config.memory_mb);
	index->geo = geo;
	return 0;
}

/*
 * Read the superblock and check every field of it against the layout this
 * shape has, or plan a format if the device is blank or (with format)
 * holds something that is not an index of this shape. A superblock that
 * could not be read at all (-EIO, -ENOMEM, ...) fails the open: it may be
 * a good index behind a transient error. Sets *@formatted when a format
 * is planned. On failure, sets *@why to the reason.
 */
static int open_layout(struct ddi_index *index, bool *formatted, char **why)
{
	u64 device_bytes = bdev_nr_bytes(index->bdev), bytes;
	struct ddi_index_layout found;
	const char *field = NULL;
	char *reason;
	int ret;

	*formatted = false;
	ret = ddi_layout_read_super(index->bdev, &found);
	if (!ret)
		ret = check_found(index, &found, &field);
	if (!ret) {
		ret = ddi_layout_bytes(&found, &bytes);
		if (ret || bytes > device_bytes) {
			pr_err("%pg: the index device is smaller than its index\n", index->bdev);
			return open_failed(why, "index_dev is too small for the index", -ENOSPC);
		}
		index->layout = found;
		return 0;
	}

	switch (ret) {
	case -ENODATA:
		reason = NULL;
		break;
	case -EINVAL:
		if (!found.sparse_chapters_per_volume == ddi_geometry_is_sparse(&index->geo)) {
			pr_err("%pg: the index device holds a %s index; the table asks for a %s one\n",
			       index->bdev, found.sparse_chapters_per_volume ? "sparse" : "dense",
			       ddi_geometry_is_sparse(&index->geo) ? "sparse" : "dense");
			reason = found.sparse_chapters_per_volume ?
				 "index_dev holds a sparse index: add sparse" FORMAT_HINT :
				 "index_dev holds a dense index: drop sparse" FORMAT_HINT;
			break;
		}
		if (found.memory_mb)
			pr_err("%pg: the index device holds an index of another shape (%u record pages x %u chapters), formatted for memory %u\n",
			       index->bdev, found.record_pages_per_chapter,
			       found.chapters_per_volume, found.memory_mb);
		else
			pr_err("%pg: the index device holds an index of another shape (%u record pages x %u chapters)\n",
			       index->bdev, found.record_pages_per_chapter,
			       found.chapters_per_volume);
		reason = "index_dev holds an index of another size" FORMAT_HINT;
		break;
	case -EMEDIUMTYPE:
		pr_err("%pg: the index device holds something that is not an index\n", index->bdev);
		reason = "index_dev holds something other than an index" FORMAT_HINT;
		break;
	case -EBADMSG:
		if (field)
			pr_err("%pg: the index superblock's %s is not what its shape lays out\n",
			       index->bdev, field);
		else
			pr_err("%pg: the index superblock is damaged or of an unknown version\n",
			       index->bdev);
		reason = "index_dev has a damaged or unknown superblock" FORMAT_HINT;
		break;
	default:
		pr_err("%pg: cannot read the index superblock: %d; not formatting over it\n",
		       index->bdev, ret);
		return open_failed(why, "cannot read the superblock of index_dev", ret);
	}
	if (reason && !index->config.format)
		return open_failed(why, reason, ret);
	if (reason)
		pr_warn("%pg: formatting over it, as the table allows ('format')\n", index->bdev);
	ret = plan_format(index, why);
	if (!ret)
		*formatted = true;
	return ret;
}

static int create_volume(struct ddi_index *index)
{
	struct ddi_volume_config config = {
		.zone_count = index->zone_count,
		.reader_count = index->config.reader_count,
		.cache_chapters = index->config.cache_chapters,
		.nonce = index->layout.nonce,
		.start = ddi_layout_volume_sector(&index->layout),
		.requeue = ddi_index_zone_requeue,
		.requeue_context = index,
	};

	return ddi_volume_create(&index->geo, index->bdev, &config, &index->volume);
}

/* Throw a partly loaded state away so that a rebuild starts from nothing. */
static int reset_state(struct ddi_index *index)
{
	unsigned int z;

	for (z = 0; z < index->zone_count; z++)
		ddi_open_chapter_zone_reset(index->zones[z]->open);
	if (index->sparse_cache)
		ddi_sparse_cache_clear(index->sparse_cache);
	return ddi_index_volume_index_create(index);
}

/*
 * A save is made only once every chapter below its open chapter is on
 * disk, so a save whose open chapter is ahead of the newest chapter the
 * volume shows means those chapters were lost to damage since, not that
 * the save is stale: it is kept, and the lost chapters are counted as
 * damaged pages. A claim beyond a whole volume's worth is not believed.
 * Returns the open chapter to use.
 */
static u64 check_saved_open_vcn(struct ddi_index *index, u64 saved, u64 volume_open)
{
	u32 pages = index->geo.pages_per_chapter;
	u64 lost = saved - volume_open;

	if (saved <= volume_open)
		return volume_open;
	if (lost > index->geo.chapters_per_volume) {
		pr_warn("%pg: the newest save claims open chapter %llu, but the volume ends at %llu: not believed\n",
			index->bdev, saved, volume_open);
		return volume_open;
	}
	pr_warn("%pg: chapters %llu to %llu, written before the newest save, are damaged (%llu pages): keeping the save\n",
		index->bdev, volume_open, saved - 1, lost * pages);
	atomic64_add(lost * pages, &index->volume->corrupt_pages);
	return saved;
}

/*
 * Find the chapters, then load the newest save that matches them or
 * rebuild from them. Sets index->opened to what was done; a formatted
 * device is not read at all. On failure, sets *@why to the reason.
 */
static int recover_state(struct ddi_index *index, bool formatted, u64 *open_vcn,
			 char **why)
{
	u32 chapters = index->geo.chapters_per_volume;
	u64 lowest, highest, saved;
	bool empty;
	int ret;

	*open_vcn = 0;
	if (formatted) {
		index->opened = DDI_OPENED_FORMATTED;
		return ddi_index_zones_create(index, 0);
	}
	/*
	 * Every chapter below a save's open chapter was written before it: one
	 * of them found damaged must not pass for the end of the volume, which
	 * would make the saves look stale and drop the chapters after it.
	 */
	saved = ddi_index_state_open_vcn(index);
	ret = ddi_chapter_boundaries_find_known(index->volume, saved, &lowest, &highest, &empty);
	if (ret) {
		pr_err("%pg: cannot find the volume's chapters: %d\n", index->bdev, ret);
		/* Not the superblock's fault, as -EBADMSG would say. */
		if (ret == -EBADMSG)
			return open_failed(why,
					   "index_dev has too many damaged chapters to rebuild the index from",
					   -EUCLEAN);
		return open_failed(why, "cannot read the chapters of index_dev", ret);
	}
	*open_vcn = check_saved_open_vcn(index, saved, empty ? 0 : highest + 1);
	ret = ddi_index_zones_create(index, *open_vcn);
	if (ret)
		return ret;

	if (!ddi_index_state_load(index, *open_vcn)) {
		index->opened = DDI_OPENED_LOADED;
		return 0;
	}
	ret = reset_state(index);
	if (ret)
		return ret;
	if (*open_vcn == 0) {
		index->opened = DDI_OPENED_EMPTY;
		return 0;
	}
	/*
	 * Rebuild every chapter the volume should hold, not only those the
	 * boundary search found: oldest chapters lost to damage are then
	 * counted as skipped rather than silently left out.
	 */
	index->opened = DDI_OPENED_REBUILT;
	index->rebuilt_lowest = *open_vcn > chapters ? *open_vcn - chapters : 0;
	index->rebuilt_highest = *open_vcn - 1;
	return ddi_index_rebuild(index, index->rebuilt_lowest, index->rebuilt_highest);
}

/*
 * The index's chapters are too damaged to find the volume's boundaries and
 * the table allows formatting: start over on a new, empty index. Nothing
 * of the old state was loaded, so only the volume and zones go.
 */
static int format_over_damage(struct ddi_index *index, u64 *open_vcn, char **why)
{
	int ret;

	pr_warn("%pg: the index is too damaged to open; formatting over it, as the table allows ('format')\n",
		index->bdev);
	ddi_index_zones_free(index);
	/* The sparse cache reads through the volume: it goes with it. */
	ddi_sparse_cache_free(index->sparse_cache);
	index->sparse_cache = NULL;
	ddi_volume_free(index->volume);
	index->volume = NULL;
	ret = plan_format(index, why);
	if (!ret)
		ret = create_volume(index);
	if (!ret && ddi_geometry_is_sparse(&index->geo))
		ret = ddi_sparse_cache_create(index->volume, &index->sparse_cache);
	if (!ret)
		ret = recover_state(index, true, open_vcn, why);
	return ret;
}

/* One line for every open, saying what the index now holds and where from. */
static void report_open(struct ddi_index *index, u64 open_vcn)
{
	struct block_device *bdev = index->bdev;

	switch (index->opened) {
	case DDI_OPENED_FORMATTED:
		pr_info("%pg: opened the newly formatted index, empty\n", bdev);
		break;
	case DDI_OPENED_LOADED:
		pr_info("%pg: opened the index from save slot %u (sequence %llu): open chapter %llu\n",
			bdev, index->layout_save_slot, index->layout_save_sequence, open_vcn);
		break;
	case DDI_OPENED_REBUILT:
		pr_info("%pg: opened the index rebuilt from chapters %llu to %llu: open chapter %llu\n",
			bdev, index->rebuilt_lowest, index->rebuilt_highest, open_vcn);
		break;
	case DDI_OPENED_EMPTY:
		pr_info("%pg: opened an empty index: no usable save and no chapter written\n",
			bdev);
		break;
	}
}

/*
 * Zone threads stop first, then the writer; freeing the volume stops its
 * readers. Also the unwinding of a failed open: each part may be missing.
 */
static void free_index(struct ddi_index *index)
{
	ddi_index_zones_free(index);
	ddi_chapter_writer_free(index);
	ddi_sparse_cache_free(index->sparse_cache);
	ddi_volume_free(index->volume);
	ddi_volume_index_free(index->volume_index);
	ddi_volume_index_free(index->hook_index);
	kfree(index);
}

static struct ddi_index *alloc_index(struct block_device *bdev,
				     const struct ddi_index_config *config)
{
	struct ddi_index *index = kzalloc(sizeof(*index), GFP_KERNEL);

	if (!index)
		return NULL;
	index->config = *config;
	index->bdev = bdev;
	index->zone_count = config->zone_count;
	init_waitqueue_head(&index->flush_wait);
	mutex_init(&index->save_mutex);
	init_waitqueue_head(&index->pause_wait);
	return index;
}

/**
 * ddi_index_open() - Open the index on a block device, or create one.
 * @bdev: the index device; the caller keeps it open until ddi_index_close().
 * @config: the index's shape and threads.
 * @index_ptr: set to the open index.
 * @error: if not NULL, set on failure to why, in words a device-mapper
 *	table line's user understands (a dm target's ti->error).
 *
 * A blank device is formatted. An index of the same shape is loaded from
 * its newest save, or rebuilt from its chapters if that save is missing or
 * older than the chapters (a crash). Anything else on the device is
 * refused unless @config->format allows formatting over it.
 *
 * Return: 0; -EINVAL for a bad configuration, a volume index too large
 * for the zone count or an index of another shape; -ERANGE for a page
 * cache too large or too small for the shape; -EMEDIUMTYPE for a device
 * holding something else; -EBADMSG for a damaged superblock; -ENOSPC for
 * a device too small; -EUCLEAN for a volume whose chapters are too
 * damaged to rebuild from (with @config->format, such an index is
 * formatted over instead); or another errno, such as the -EIO or -ENOMEM
 * of a superblock that could not be read, which is never formatted over.
 *
 * Only formatting writes to the device during an open, and it is written
 * last, once the volume, the state and the chapter writer are set up: an
 * open refused for any of the reasons above writes nothing. Only a failure
 * to start the zone threads after that can leave a freshly formatted,
 * empty index behind, where the device was blank or @config->format
 * allowed it to be formatted. Every successful open logs what it opened:
 * a new index, a save, a rebuild from which chapters, or an empty index.
 */
int ddi_index_open(struct block_device *bdev, const struct ddi_index_config *config,
		   struct ddi_index **index_ptr, char **error)
{
	ktime_t start = ktime_get();
	struct ddi_index *index;
	char *why = NULL;
	bool formatted;
	u64 open_vcn;
	int ret;

	/* The registry's KUnit suite holds an open up to test who waits for it. */
	KUNIT_STATIC_STUB_REDIRECT(ddi_index_open, bdev, config, index_ptr, error);

	if (config->zone_count == 0 || config->zone_count > DDI_MAX_ZONES ||
	    config->reader_count == 0 || config->reader_count > DDI_MAX_READERS ||
	    config->cache_chapters == 0) {
		ret = open_failed(&why, "zones, readers or cache_chapters out of range", -EINVAL);
		goto out;
	}
	ret = -ENOMEM;
	index = alloc_index(bdev, config);
	if (!index)
		goto out;

	ret = config_geometry(config, &index->geo);
	if (ret) {
		open_failed(&why, "no volume shape for this memory size", ret);
		goto fail;
	}
	/*
	 * Everything that can refuse the line is checked before the device is
	 * written; the layout, which may give an index on disk its own shape,
	 * is only read.
	 */
	ret = open_layout(index, &formatted, &why);
	if (ret)
		goto fail;
	ret = check_cache(index, &why);
	if (ret)
		goto fail;
	ret = ddi_index_volume_index_create(index);
	if (ret == -EINVAL) {
		pr_err("%pg: a volume index this large needs more zones\n", bdev);
		open_failed(&why, "the volume index is too large for one zone: add zones", ret);
	}
	if (ret)
		goto fail;
	ret = check_save_slots(index, &why);
	if (ret)
		goto fail;
	ret = create_volume(index);
	if (!ret && ddi_geometry_is_sparse(&index->geo))
		ret = ddi_sparse_cache_create(index->volume, &index->sparse_cache);
	if (ret)
		goto fail;
	ret = recover_state(index, formatted, &open_vcn, &why);
	if (ret == -EUCLEAN && config->format)
		ret = format_over_damage(index, &open_vcn, &why);
	if (ret)
		goto fail;
	ret = ddi_chapter_writer_create(index, open_vcn);
	if (ret)
		goto fail;
	if (index->opened == DDI_OPENED_FORMATTED) {
		ret = write_format(index);
		if (ret) {
			open_failed(&why, "cannot write the superblock of index_dev", ret);
			goto fail;
		}
	}
	ret = ddi_index_zones_start(index);
	if (ret)
		goto fail;
	index->open_ms = ktime_ms_delta(ktime_get(), start);
	report_open(index, open_vcn);
	*index_ptr = index;
	return 0;

fail:
	free_index(index);
out:
	/* What fails without saying why is an allocation or a thread start. */
	if (error)
		*error = why ?: (ret == -ENOMEM ? "not enough memory for the index" :
				 "cannot open the index");
	return ret;
}
EXPORT_SYMBOL_GPL(ddi_index_open);

static bool requests_in_flight(struct ddi_index *index)
{
	unsigned int z;

	for (z = 0; z < index->zone_count; z++) {
		if (atomic64_read(&index->zones[z]->in_flight))
			return true;
	}
	return false;
}

/**
 * ddi_index_flush() - Wait until every launched request has completed.
 * @index: the index.
 */
void ddi_index_flush(struct ddi_index *index)
{
	wait_event_idle(index->flush_wait, !requests_in_flight(index));
}
EXPORT_SYMBOL_GPL(ddi_index_flush);

/* Requests the zones have finished; read while they rest. */
static u64 requests_done(struct ddi_index *index)
{
	u64 sum = 0;
	unsigned int z;

	for (z = 0; z < index->zone_count; z++)
		sum += READ_ONCE(index->zones[z]->stats.requests);
	return sum;
}

/*
 * Every change to the state is made by a request a zone finishes, so a
 * state that finished no request since it was saved to the same device
 * is that save: with @if_changed, it is not written again.
 */
static int save_index(struct ddi_index *index, bool if_changed)
{
	struct ddi_client_state client = {};
	u64 requests;
	int error, ret = 0;

	mutex_lock(&index->save_mutex);
	ddi_index_zones_pause(index);
	requests = requests_done(index);
	if (index->save_hook)
		index->save_hook(index->save_hook_context, &client);
	/*
	 * A save would vouch for chapters that never reached the device; with
	 * none, the next open finds the chapters on disk newer than the last
	 * save, or the same, and rebuilds or loads accordingly.
	 */
	error = READ_ONCE(index->writer.error);
	if (error) {
		pr_warn_ratelimited("%pg: not saved: a chapter write failed (%d)\n", index->bdev,
				    error);
		ret = -EIO;
	} else if (!if_changed || index->saved_bdev != index->bdev ||
		   index->saved_requests != requests ||
		   memcmp(&index->client_state, &client, sizeof(client))) {
		ret = ddi_index_state_save(index, &client);
		index->saved_bdev = ret ? NULL : index->bdev;
		index->saved_requests = requests;
		if (!ret)
			index->client_state = client;
	}
	ddi_index_zones_resume(index);
	mutex_unlock(&index->save_mutex);
	return ret;
}

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
	return save_index(index, false);
}
EXPORT_SYMBOL_GPL(ddi_index_save);

/**
 * ddi_index_set_save_hook() - Keep state of the user's own in every save.
 * @index: the index.
 * @fn: called by each save, with no request being processed, to fill in
 *	the client state the save keeps; NULL saves zeros.
 * @context: passed to @fn; must stay valid until ddi_index_close() returns,
 *	which saves too, or until another hook is set.
 */
void ddi_index_set_save_hook(struct ddi_index *index, ddi_save_hook_fn fn, void *context)
{
	mutex_lock(&index->save_mutex);
	index->save_hook = fn;
	index->save_hook_context = context;
	mutex_unlock(&index->save_mutex);
}
EXPORT_SYMBOL_GPL(ddi_index_set_save_hook);

/**
 * ddi_index_get_client_state() - The client state of the last save.
 * @index: the index.
 * @state: set to the client state of the save the index was loaded from,
 *	or saved to since; after a rebuild, that of the newest save whose
 *	open chapter the volume has since written; zeros if there is none.
 */
void ddi_index_get_client_state(struct ddi_index *index, struct ddi_client_state *state)
{
	mutex_lock(&index->save_mutex);
	*state = index->client_state;
	mutex_unlock(&index->save_mutex);
}
EXPORT_SYMBOL_GPL(ddi_index_get_client_state);

/**
 * ddi_index_close() - Save and close the index.
 * @index: the index; nothing may be launched any more.
 *
 * An index saved since its last change (a suspend just before) is not
 * saved again.
 */
void ddi_index_close(struct ddi_index *index)
{
	/* As for ddi_index_open(): the registry's tests hold a close up. */
	KUNIT_STATIC_STUB_REDIRECT(ddi_index_close, index);
	ddi_index_flush(index);
	save_index(index, true);
	free_index(index);
}
EXPORT_SYMBOL_GPL(ddi_index_close);

/* KUnit only: entry points the tests use and the index does not. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
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
#endif

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
		stats->close_wait_ns += READ_ONCE(zs->close_wait_ns);
		stats->sparse_cache_hits += READ_ONCE(zs->sparse_hits);
		stats->sparse_cache_misses += READ_ONCE(zs->sparse_misses);
	}
	ddi_volume_get_stats(index->volume, &volume);
	stats->cache_hits = volume.cache_hits;
	stats->cache_misses = volume.cache_misses;
	stats->pages_read = volume.pages_read;
	stats->corrupt_pages = volume.corrupt_pages;
	stats->read_errors = volume.read_errors;
	stats->opened = index->opened;
	stats->open_ms = index->open_ms;
	stats->repaired_pages = volume.repaired_pages;
	stats->chapters_written = READ_ONCE(index->writer.chapters_written);
	stats->chapters_failed = READ_ONCE(index->writer.chapters_failed);
	stats->chapter_entries_dropped = READ_ONCE(index->writer.entries_dropped);
	stats->write_error = READ_ONCE(index->writer.error);
	stats->newest_vcn = atomic64_read(&index->writer.close_target);
	ddi_volume_index_get_stats(index->volume_index, &vi);
	stats->entries = vi.entries + vi.collision_entries;
	stats->volume_index_bytes = vi.memory_bytes;
	stats->window_records = index->geo.records_per_volume;
	stats->false_hints = vi.collisions;
	if (index->hook_index) {
		ddi_volume_index_get_stats(index->hook_index, &vi);
		stats->entries += vi.entries + vi.collision_entries;
		stats->volume_index_bytes += vi.memory_bytes;
		stats->false_hints += vi.collisions;
	}
	if (index->sparse_cache) {
		stats->sparse_chapters = index->geo.sparse_chapters_per_volume;
		stats->sparse_chapters_loaded = READ_ONCE(index->sparse_cache->loaded);
	}
	stats->memory_bytes = index_memory_bytes(index);
}
EXPORT_SYMBOL_GPL(ddi_index_get_stats);

/* The same index: a copy of its device agrees with it in every field. */
static bool same_layout(const struct ddi_index_layout *a, const struct ddi_index_layout *b)
{
	return a->record_pages_per_chapter == b->record_pages_per_chapter &&
	       a->chapters_per_volume == b->chapters_per_volume &&
	       a->sparse_chapters_per_volume == b->sparse_chapters_per_volume &&
	       a->sparse_sample_rate == b->sparse_sample_rate &&
	       a->zone_count == b->zone_count && a->nonce == b->nonce &&
	       a->save_slot_blocks == b->save_slot_blocks &&
	       a->volume_start_block == b->volume_start_block &&
	       a->total_blocks == b->total_blocks && a->memory_mb == b->memory_mb;
}

/**
 * ddi_index_open_storage() - Get a copy of the index's device ready for use.
 * @index: the open index, which goes on using its own device meanwhile.
 * @bdev: a device holding a copy of the index's device (made while
 *	nothing was written to it, e.g. while the dm device was suspended);
 *	the caller keeps it open until the storage is closed.
 * @storage_ptr: set to the prepared storage, for ddi_index_replace_storage()
 *	or ddi_index_close_storage().
 *
 * Reads @bdev's superblock and makes the dm-bufio client the volume will
 * use there, with all its buffers, so that everything that can fail fails
 * here, with the index untouched. Nothing is written.
 *
 * Return: 0; -EINVAL if @bdev holds no copy of this index; -ENOSPC if it
 * is smaller than the index; -ENOMEM; or the error reading the superblock.
 */
int ddi_index_open_storage(struct ddi_index *index, struct block_device *bdev,
			   struct ddi_index_storage **storage_ptr)
{
	struct ddi_index_storage *storage;
	struct ddi_index_layout layout;
	u64 bytes;
	int ret;

	ret = ddi_layout_read_super(bdev, &layout);
	if (ret)
		return ret;
	if (!same_layout(&layout, &index->layout))
		return -EINVAL;
	if (check_mul_overflow(layout.total_blocks, (u64)DDI_BLOCK_BYTES, &bytes) ||
	    bytes > bdev_nr_bytes(bdev))
		return -ENOSPC;

	storage = kzalloc(sizeof(*storage), GFP_KERNEL);
	if (!storage)
		return -ENOMEM;
	ret = ddi_volume_open_storage(index->volume, bdev, ddi_layout_volume_sector(&layout),
				      &storage->volume);
	if (ret) {
		kfree(storage);
		return ret;
	}
	storage->bdev = bdev;
	*storage_ptr = storage;
	return 0;
}
EXPORT_SYMBOL_GPL(ddi_index_open_storage);

/**
 * ddi_index_replace_storage() - Move the index onto prepared storage.
 * @index: the index. Requests may be in flight: they wait while it moves.
 * @storage: from ddi_index_open_storage() for this index. On return it
 *	holds the device the index used until now, which the caller closes
 *	with ddi_index_close_storage() before letting go of that device.
 *
 * The zone threads are brought to rest as for a save, which also waits
 * for the chapter writer to finish the chapters asked for; the volume then
 * waits for its reader threads to finish the reads already queued, drops
 * its cached pages and changes clients. Saves are held off throughout,
 * so none is split between the two devices. Cannot fail.
 */
void ddi_index_replace_storage(struct ddi_index *index, struct ddi_index_storage *storage)
{
	struct block_device *old = index->bdev;

	mutex_lock(&index->save_mutex);
	ddi_index_zones_pause(index);
	ddi_volume_replace_storage(index->volume, &storage->volume);
	index->bdev = storage->bdev;
	ddi_index_zones_resume(index);
	mutex_unlock(&index->save_mutex);
	storage->bdev = old;
}
EXPORT_SYMBOL_GPL(ddi_index_replace_storage);

/**
 * ddi_index_close_storage() - Release storage the index does not use.
 * @storage: from ddi_index_open_storage() or ddi_index_replace_storage(),
 *	or NULL.
 */
void ddi_index_close_storage(struct ddi_index_storage *storage)
{
	if (!storage)
		return;
	ddi_volume_close_storage(&storage->volume);
	kfree(storage);
}
EXPORT_SYMBOL_GPL(ddi_index_close_storage);
