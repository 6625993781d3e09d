// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dedup-index device-mapper target: bios are remapped to the data
 * device as dm-linear does, and the whole blocks of every successful write
 * are posted to a deduplication index kept on the index device.
 */

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/device-mapper.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "target-config.h"
#include "target.h"

#define DM_MSG_PREFIX "dedup-index"

/*
 * One device must never serve as both: index writes would land in the
 * data. A partition and the disk holding it overlap just the same.
 */
static bool devices_overlap(struct block_device *a, struct block_device *b)
{
	return a == b || a == bdev_whole(b) || bdev_whole(a) == b;
}

static int open_index(struct ddi_target *target, struct dm_target *ti)
{
	const struct ddi_target_config *tc = &target->config;
	struct ddi_index_config config = {
		.memory_mb = tc->memory_mib,
		.record_pages_per_chapter = tc->record_pages,
		.chapters_per_volume = tc->chapters,
		.zone_count = tc->zones,
		.reader_count = tc->readers,
		.cache_chapters = tc->cache_chapters,
		.format = tc->format,
		.sparse = tc->sparse,
	};

	int r;

	r = ddi_target_registry_get(target->index_dev->bdev, target->data->bdev, &config,
				    &target->shared, &target->storage, &ti->error);
	if (r)
		return r;
	target->index = ddi_target_registry_index(target->shared);
	return 0;
}

/*
 * Releases only what this table made: a copy prepared but never moved onto
 * is closed, and the index, still on its own device, is left alone.
 */
static void free_target(struct dm_target *ti, struct ddi_target *target)
{
	ddi_index_close_storage(target->storage);
	target->storage = NULL;
	if (target->shared)
		ddi_target_registry_put(target->shared);
	if (target->verify_wq)
		destroy_workqueue(target->verify_wq);
	if (target->hash_wq)
		destroy_workqueue(target->hash_wq);
	free_percpu(target->gather);
	if (target->index_dev)
		dm_put_device(ti, target->index_dev);
	if (target->data)
		dm_put_device(ti, target->data);
	kfree(target);
}

static int ddi_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	const blk_mode_t mode = BLK_OPEN_READ | BLK_OPEN_WRITE;
	struct ddi_target_config config;
	struct ddi_target *target;
	int r;

	r = ddi_target_config_parse(&config, argc, argv, &ti->error);
	if (r)
		return r;
	/*
	 * The target's sector n is data_dev's sector n, so a second segment
	 * would map onto the first one's blocks (and, on the same data_dev,
	 * into the same index). Only a table's first segment may be ours.
	 */
	if (ti->begin) {
		ti->error = "dedup-index must be the segment at sector 0 of its table";
		return -EINVAL;
	}

	target = kzalloc(sizeof(*target), GFP_KERNEL);
	if (!target) {
		ti->error = "cannot allocate the target";
		return -ENOMEM;
	}
	ddi_target_io_init(target);
	target->posts_limit = (unsigned long)config.post_memory_kib * SZ_1K;
	target->gather = alloc_percpu(struct ddi_block_buffer);
	if (!target->gather) {
		ti->error = "cannot allocate the target";
		r = -ENOMEM;
		goto fail;
	}

	r = dm_get_device(ti, config.data_dev, mode, &target->data);
	if (r) {
		ti->error = "cannot open data_dev";
		goto fail;
	}
	r = dm_get_device(ti, config.index_dev, mode, &target->index_dev);
	if (r) {
		ti->error = "cannot open index_dev";
		goto fail;
	}
	if (devices_overlap(target->data->bdev, target->index_dev->bdev)) {
		ti->error = "data_dev and index_dev must be different devices";
		r = -EINVAL;
		goto fail;
	}

	/* Report devices as dm does everywhere else: by major:minor. */
	target->config = config;
	target->config.data_dev = target->data->name;
	target->config.index_dev = target->index_dev->name;

	/* Unbound, so that DDI_VERIFY_ACTIVE bounds the reads of the whole target. */
	target->verify_wq = alloc_workqueue("ddi-verify", WQ_UNBOUND | WQ_MEM_RECLAIM,
					    DDI_VERIFY_ACTIVE);
	if (!target->verify_wq) {
		ti->error = "cannot allocate the verify workqueue";
		r = -ENOMEM;
		goto fail;
	}
	/*
	 * Writes wait for it to complete, reclaim's among them: it needs a
	 * rescuer. Unbound, so a large write is hashed by several CPUs.
	 */
	target->hash_wq = alloc_workqueue("ddi-hash", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!target->hash_wq) {
		ti->error = "cannot allocate the hash workqueue";
		r = -ENOMEM;
		goto fail;
	}
	r = open_index(target, ti);
	if (r)
		goto fail;
	ddi_target_scan_init(target, ti->len / DDI_BLOCK_SECTORS);

	/* Flushes and discards must reach the data device: map sends them there. */
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->per_io_data_size = sizeof(struct ddi_bio_context);
	ti->private = target;
	return 0;

fail:
	free_target(ti, target);
	return r;
}

static void ddi_dtr(struct dm_target *ti)
{
	struct ddi_target *target = ti->private;

	ddi_target_scan_exit(target);
	ddi_target_io_wait_for_posts(target);
	free_target(ti, target);
}

static int ddi_map(struct dm_target *ti, struct bio *bio)
{
	struct ddi_target *target = ti->private;
	struct ddi_bio_context *context = dm_per_bio_data(bio, sizeof(*context));

	context->posts = NULL;
	if (bio_op(bio) == REQ_OP_WRITE && bio_sectors(bio))
		context->posts = ddi_target_io_map_write(target, ti, bio, &context->hashing);

	bio_set_dev(bio, target->data->bdev);
	/* An empty flush has no position to move. */
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	/* After the remap: the scan's windows are in data_dev's blocks. */
	context->write_epoch = ddi_target_scan_map(target, bio);
	return DM_MAPIO_REMAPPED;
}

static int ddi_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error)
{
	struct ddi_target *target = ti->private;
	struct ddi_bio_context *context = dm_per_bio_data(bio, sizeof(*context));
	struct ddi_write_posts *posts = context->posts;

	/*
	 * A write still being hashed comes back here once it is hashed: this
	 * end is then its second, and must find nothing left to do.
	 */
	ddi_target_scan_end_io(target, context->write_epoch);
	context->write_epoch = -1;
	context->posts = NULL;
	if (posts && !ddi_target_io_end_write(posts, *error))
		return DM_ENDIO_INCOMPLETE;
	return DM_ENDIO_DONE;
}

/* The index hashes what is written: the data must not change while it is. */
static void ddi_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	limits->features |= BLK_FEAT_STABLE_WRITES;
}

/* Before suspend: stop the scan thread, so the save below records its place. */
static void ddi_presuspend(struct dm_target *ti)
{
	ddi_target_scan_suspend(ti->private);
}

/* Suspend: let every post be answered, then save so a reload needs no rebuild. */
static void ddi_postsuspend(struct dm_target *ti)
{
	struct ddi_target *target = ti->private;

	ddi_target_io_wait_for_posts(target);
	ddi_index_save(target->index);
}

/*
 * Resume of a table naming a copy of the index device: the index moves
 * onto it now, while the device is suspended and the old table, which
 * holds the old device open, still exists. The old client is closed here,
 * before the old table is destroyed and lets go of its device. A table
 * loaded and never resumed has moved nothing.
 */
static int ddi_preresume(struct dm_target *ti)
{
	struct ddi_target *target = ti->private;

	if (target->storage) {
		ddi_target_registry_move(target->shared, target->index_dev->bdev, target->storage);
		ddi_index_close_storage(target->storage);
		target->storage = NULL;
	}
	return 0;
}

/* Live again: a scan that was running goes on. */
static void ddi_resume(struct dm_target *ti)
{
	ddi_target_scan_resume(ti->private);
}

static void ddi_status(struct dm_target *ti, status_type_t type, unsigned int status_flags,
		       char *result, unsigned int maxlen)
{
	struct ddi_target *target = ti->private;
	const struct ddi_target_config *config = &target->config;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		ddi_target_status_emit(target, result, maxlen);
		break;
	case STATUSTYPE_TABLE:
		/*
		 * A line too long for @result leaves it full, which is how dm
		 * knows to ask again with a bigger buffer.
		 */
		ddi_target_config_format(config, result, maxlen);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",data_dev=%s,index_dev=%s", config->data_dev, config->index_dev);
		DMEMIT(",memory=%u,record_pages=%u,chapters=%u,zones=%u,readers=%u",
		       config->memory_mib, config->record_pages, config->chapters,
		       config->zones, config->readers);
		DMEMIT(",cache_chapters=%u,post_memory_kib=%u,scan_rate=%u,verify=%c,format=%c;",
		       config->cache_chapters, config->post_memory_kib, config->scan_rate_mib,
		       config->verify ? 'y' : 'n', config->format ? 'y' : 'n');
		break;
	}
}

static int ddi_message(struct dm_target *ti, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen)
{
	return ddi_target_status_message(ti->private, argc, argv, result, maxlen);
}

static int ddi_iterate_devices(struct dm_target *ti, iterate_devices_callout_fn fn, void *data)
{
	struct ddi_target *target = ti->private;

	return fn(ti, target->data, 0, ti->len, data);
}

static struct target_type dedup_index_target = {
	.name = "dedup-index",
	.version = { 1, 0, 0 },
	.module = THIS_MODULE,
	.ctr = ddi_ctr,
	.dtr = ddi_dtr,
	.map = ddi_map,
	.end_io = ddi_end_io,
	.presuspend = ddi_presuspend,
	.postsuspend = ddi_postsuspend,
	.preresume = ddi_preresume,
	.resume = ddi_resume,
	.status = ddi_status,
	.message = ddi_message,
	.iterate_devices = ddi_iterate_devices,
	.io_hints = ddi_io_hints,
};

module_dm(dedup_index);

MODULE_DESCRIPTION("dm-dedup-index: persistent deduplication index target");
MODULE_AUTHOR("dm-dedup-index developers");
MODULE_LICENSE("GPL");
/* Also dkms.conf's PACKAGE_VERSION: scripts/dkms-build checks they agree. */
MODULE_VERSION("0.3");
