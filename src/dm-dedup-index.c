// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dedup-index device-mapper target. For now it opens both devices and
 * remaps every bio to the data device, as dm-linear does, counting what
 * passes through; the index behind it is built up separately.
 */

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/device-mapper.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "target-config.h"
#include "target.h"

#define DM_MSG_PREFIX "dedup-index"

/**
 * struct ddi_target - One dedup-index target instance.
 * @data: the device bios are remapped to.
 * @index: the device that will hold the index.
 * @config: the table line; its device names are @data's and @index's.
 * @read_bios: read bios mapped.
 * @read_sectors: sectors those bios covered.
 * @write_bios: write bios with data mapped.
 * @write_sectors: sectors those bios covered.
 * @flush_bios: empty flush bios mapped.
 */
struct ddi_target {
	struct dm_dev *data;
	struct dm_dev *index;
	struct ddi_target_config config;
	atomic64_t read_bios;
	atomic64_t read_sectors;
	atomic64_t write_bios;
	atomic64_t write_sectors;
	atomic64_t flush_bios;
};

/*
 * One device must never serve as both: index writes would land in the
 * data. A partition and the disk holding it overlap just the same.
 */
static bool devices_overlap(struct block_device *a, struct block_device *b)
{
	return a == b || a == bdev_whole(b) || bdev_whole(a) == b;
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

	target = kzalloc(sizeof(*target), GFP_KERNEL);
	if (!target) {
		ti->error = "cannot allocate the target";
		return -ENOMEM;
	}

	r = dm_get_device(ti, config.data_dev, mode, &target->data);
	if (r) {
		ti->error = "cannot open data_dev";
		goto free_target;
	}
	r = dm_get_device(ti, config.index_dev, mode, &target->index);
	if (r) {
		ti->error = "cannot open index_dev";
		goto put_data;
	}
	if (devices_overlap(target->data->bdev, target->index->bdev)) {
		ti->error = "data_dev and index_dev must be different devices";
		r = -EINVAL;
		goto put_index;
	}

	/* Report devices as dm does everywhere else: by major:minor. */
	target->config = config;
	target->config.data_dev = target->data->name;
	target->config.index_dev = target->index->name;

	/* Flushes must reach the data device: the map function sends them there. */
	ti->num_flush_bios = 1;
	ti->private = target;
	return 0;

put_index:
	dm_put_device(ti, target->index);
put_data:
	dm_put_device(ti, target->data);
free_target:
	kfree(target);
	return r;
}

static void ddi_dtr(struct dm_target *ti)
{
	struct ddi_target *target = ti->private;

	dm_put_device(ti, target->index);
	dm_put_device(ti, target->data);
	kfree(target);
}

static void count_bio(struct ddi_target *target, struct bio *bio)
{
	unsigned int sectors = bio_sectors(bio);

	if (bio_data_dir(bio) == READ) {
		atomic64_inc(&target->read_bios);
		atomic64_add(sectors, &target->read_sectors);
	} else if (sectors) {
		atomic64_inc(&target->write_bios);
		atomic64_add(sectors, &target->write_sectors);
	} else if (bio->bi_opf & REQ_PREFLUSH) {
		atomic64_inc(&target->flush_bios);
	}
}

static int ddi_map(struct dm_target *ti, struct bio *bio)
{
	struct ddi_target *target = ti->private;

	count_bio(target, bio);
	bio_set_dev(bio, target->data->bdev);
	/* An empty flush has no position to move. */
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void ddi_status(struct dm_target *ti, status_type_t type, unsigned int status_flags,
		       char *result, unsigned int maxlen)
{
	struct ddi_target *target = ti->private;
	const struct ddi_target_config *config = &target->config;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%lld %lld %lld %lld %lld",
		       atomic64_read(&target->read_bios),
		       atomic64_read(&target->read_sectors),
		       atomic64_read(&target->write_bios),
		       atomic64_read(&target->write_sectors),
		       atomic64_read(&target->flush_bios));
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
		DMEMIT(",memory=%u,zones=%u,readers=%u,cache_chapters=%u,verify=%c,format=%c;",
		       config->memory_mib, config->zones, config->readers, config->cache_chapters,
		       config->verify ? 'y' : 'n', config->format ? 'y' : 'n');
		break;
	}
}

static int ddi_iterate_devices(struct dm_target *ti, iterate_devices_callout_fn fn, void *data)
{
	struct ddi_target *target = ti->private;

	return fn(ti, target->data, 0, ti->len, data);
}

static struct target_type ddi_target_type = {
	.name = "dedup-index",
	.version = { 0, 1, 0 },
	.module = THIS_MODULE,
	.ctr = ddi_ctr,
	.dtr = ddi_dtr,
	.map = ddi_map,
	.status = ddi_status,
	.iterate_devices = ddi_iterate_devices,
};

/**
 * ddi_target_register() - Make the dedup-index target available to dm.
 *
 * Return: 0, or the error dm_register_target() gave.
 */
int ddi_target_register(void)
{
	int r = dm_register_target(&ddi_target_type);

	if (r)
		DMERR("cannot register the target: %d", r);
	return r;
}

/**
 * ddi_target_unregister() - Withdraw the dedup-index target from dm.
 */
void ddi_target_unregister(void)
{
	dm_unregister_target(&ddi_target_type);
}
