// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared helpers for the dm-dedup-index KUnit suites.
 */

#include <kunit/resource.h>
#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/dm-bufio.h>
#include <linux/file.h>
#include <linux/gfp.h>
#include <linux/fs.h>
#include <linux/jhash.h>
#include <linux/major.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/vmstat.h>

#include "save-stream.h"
#include "test-util.h"

static void close_disk(void *arg)
{
	struct ddi_test_disk *disk = arg;

	fput(disk->file);
}

struct ddi_test_disk *ddi_test_disk_open(struct kunit *test, unsigned int minor, u64 bytes)
{
	struct ddi_test_disk *disk = kunit_kzalloc(test, sizeof(*disk), GFP_KERNEL);
	struct file *file;

	KUNIT_ASSERT_NOT_NULL(test, disk);
	/*
	 * Not exclusive: the previous case's fput() of the same disk may
	 * still be pending on the delayed-fput work, holding its claim.
	 */
	file = bdev_file_open_by_dev(MKDEV(RAMDISK_MAJOR, minor),
				     BLK_OPEN_READ | BLK_OPEN_WRITE, NULL, NULL);
	/*
	 * A kernel without brd, or with fewer RAM disks than the suites use,
	 * cannot run the case: say so (kunit.py counts it as skipped, and
	 * scripts/kunit names it) rather than report a failure of the code.
	 */
	if (file == ERR_PTR(-ENXIO) || file == ERR_PTR(-ENODEV))
		kunit_skip(test, "no /dev/ram%u: load brd with rd_nr > %u", minor, minor);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(file), "cannot open /dev/ram%u: %ld", minor,
			       PTR_ERR(file));
	disk->file = file;
	disk->bdev = file_bdev(file);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_disk, disk));
	if (bdev_nr_bytes(disk->bdev) < bytes)
		kunit_skip(test, "/dev/ram%u has %llu bytes, the case needs %llu: raise rd_size",
			   minor, bdev_nr_bytes(disk->bdev), bytes);
	ddi_test_disk_zero(disk, 0, bytes);
	return disk;
}

void ddi_test_disk_zero(struct ddi_test_disk *disk, u64 offset, u64 bytes)
{
	/* brd frees discarded pages, which then read back as zeroes. */
	blkdev_issue_discard(disk->bdev, offset >> SECTOR_SHIFT,
			     round_up(bytes, PAGE_SIZE) >> SECTOR_SHIFT, GFP_KERNEL);
}

void ddi_test_disk_poke(struct kunit *test, struct ddi_test_disk *disk, u64 offset, u8 xor)
{
	struct dm_bufio_client *client;
	struct dm_buffer *buffer;
	u8 *data;

	client = dm_bufio_client_create(disk->bdev, PAGE_SIZE, 1, 0, NULL, NULL, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(client));
	data = dm_bufio_read(client, offset / PAGE_SIZE, &buffer);
	if (!IS_ERR(data)) {
		data[offset % PAGE_SIZE] ^= xor;
		dm_bufio_mark_buffer_dirty(buffer);
		dm_bufio_release(buffer);
	}
	KUNIT_EXPECT_EQ(test, 0, dm_bufio_write_dirty_buffers(client));
	dm_bufio_client_destroy(client);
	KUNIT_ASSERT_FALSE(test, IS_ERR(data));
}

/*
 * Rewrite @width bytes at @offset of the superblock to @value and stamp
 * a valid checksum: a crafted superblock, not a damaged one.
 */
void ddi_test_craft_super(struct kunit *test, struct ddi_test_disk *disk, u32 offset,
			  u32 width, u64 value)
{
	struct dm_bufio_client *client;
	struct dm_buffer *buffer;
	u8 *block;

	client = dm_bufio_client_create(disk->bdev, DDI_BLOCK_BYTES, 1, 0, NULL, NULL, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(client));
	block = dm_bufio_read(client, 0, &buffer);
	if (!IS_ERR(block)) {
		if (width == 8)
			put_unaligned_le64(value, block + offset);
		else if (width == 4)
			put_unaligned_le32(value, block + offset);
		else
			block[offset] = value;
		put_unaligned_le32(crc32_le(~0, block, DDI_BLOCK_BYTES - 4),
				   block + DDI_BLOCK_BYTES - 4);
		dm_bufio_mark_buffer_dirty(buffer);
		dm_bufio_release(buffer);
	}
	KUNIT_EXPECT_EQ(test, 0, dm_bufio_write_dirty_buffers(client));
	dm_bufio_client_destroy(client);
	KUNIT_ASSERT_FALSE(test, IS_ERR(block));
}

void ddi_test_disk_copy(struct ddi_test_disk *to, struct ddi_test_disk *from, u64 bytes)
{
	struct dm_bufio_client *src, *dst;
	sector_t block;

	src = dm_bufio_client_create(from->bdev, PAGE_SIZE, 1, 0, NULL, NULL, 0);
	dst = dm_bufio_client_create(to->bdev, PAGE_SIZE, 1, 0, NULL, NULL, 0);
	if (!IS_ERR(src) && !IS_ERR(dst)) {
		for (block = 0; block < bytes / PAGE_SIZE; block++) {
			struct dm_buffer *in, *out;
			void *data = dm_bufio_read(src, block, &in);
			void *copy;

			if (IS_ERR(data))
				break;
			copy = dm_bufio_new(dst, block, &out);
			if (!IS_ERR(copy)) {
				memcpy(copy, data, PAGE_SIZE);
				dm_bufio_mark_buffer_dirty(out);
				dm_bufio_release(out);
			}
			dm_bufio_release(in);
		}
		dm_bufio_write_dirty_buffers(dst);
	}
	if (!IS_ERR(src))
		dm_bufio_client_destroy(src);
	if (!IS_ERR(dst))
		dm_bufio_client_destroy(dst);
}

/*
 * One seed for the random data of every suite, so that two runs of the
 * same build test the same data and a failure seen once (in CI, say) is
 * seen again. scripts/kunit sets it from DDI_SEED; 0 draws a new one.
 */
static unsigned long long test_seed = 1;
module_param(test_seed, ullong, 0444);
MODULE_PARM_DESC(test_seed, "KUnit suites: seed of their random data (0: a new one each run)");

/**
 * ddi_test_base_seed() - The run's seed, from dm_dedup_index.test_seed.
 *
 * Return: the seed given, or a random one if it is 0.
 */
const struct ddi_client_state ddi_test_no_client;

const struct ddi_index_config ddi_test_target_config = {
	.record_pages_per_chapter = 4,
	.chapters_per_volume = 16,
	.zone_count = 2,
	.reader_count = 2,
	.cache_chapters = 2,
};

u64 ddi_test_base_seed(void)
{
	return test_seed ? test_seed : get_random_u64();
}

/**
 * ddi_test_seed() - Seed a test's generator and say how to replay it.
 * @test: the test; its name varies the seed, so tests draw different data.
 * @rnd: the generator to seed.
 */
void ddi_test_seed(struct kunit *test, struct rnd_state *rnd)
{
	u64 base = ddi_test_base_seed();
	u64 seed = base ^ ((u64)jhash(test->name, strlen(test->name), 0) << 32);

	kunit_info(test, "random seed %llu (replay: dm_dedup_index.test_seed=%llu)", seed, base);
	prandom_seed_state(rnd, seed);
}

void ddi_test_random_records(struct rnd_state *rnd, struct ddi_record *records, u32 count)
{
	prandom_bytes_state(rnd, records, count * sizeof(*records));
}

static void free_volume(void *arg)
{
	ddi_volume_free(arg);
}

struct ddi_volume *ddi_test_volume_create(struct kunit *test, const struct ddi_geometry *geo,
					  struct ddi_test_disk *disk,
					  struct ddi_volume_config *config)
{
	struct ddi_volume *volume = NULL;

	KUNIT_ASSERT_EQ(test, 0, ddi_volume_create(geo, disk->bdev, config, &volume));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_volume, volume));
	return volume;
}

static void free_chapter_index(void *arg)
{
	ddi_open_chapter_index_free(arg);
}

void ddi_test_write_chapter(struct kunit *test, struct ddi_volume *volume, u64 vcn,
			    const struct ddi_record *records, u32 count)
{
	const struct ddi_geometry *geo = &volume->geo;
	struct ddi_open_chapter_index *oci;
	u32 i;

	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_create(geo, &oci));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_chapter_index, oci));
	ddi_open_chapter_index_reset(oci, vcn);
	for (i = 0; i < count; i++)
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_put(oci, &records[i].name,
								    i / geo->records_per_page));
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_write_chapter(volume, oci, records, count));
	kunit_release_action(test, free_chapter_index, oci);
}

void ddi_test_poke_page(struct kunit *test, struct ddi_volume *volume, u32 physical_page,
			u32 offset, u8 xor)
{
	struct dm_buffer *buffer;
	u8 *data = dm_bufio_read(volume->client, physical_page, &buffer);

	KUNIT_ASSERT_FALSE(test, IS_ERR(data));
	data[offset] ^= xor;
	dm_bufio_mark_buffer_dirty(buffer);
	dm_bufio_release(buffer);
	KUNIT_ASSERT_EQ(test, 0, dm_bufio_write_dirty_buffers(volume->client));
}

/* The lowest free page count the save stream's hook has seen. */
static unsigned long stream_lowest_free;

static void stream_sample_free(void)
{
	stream_lowest_free = min(stream_lowest_free, global_zone_page_state(NR_FREE_PAGES));
}

void ddi_test_stream_sample_end(void *unused)
{
	WRITE_ONCE(ddi_save_stream_test_hook, NULL);
}

unsigned long ddi_test_stream_sample_start(void)
{
	unsigned long free;

	/* Pages parked on the per-CPU lists would hide what is taken. */
	drain_all_pages(NULL);
	free = global_zone_page_state(NR_FREE_PAGES);
	stream_lowest_free = free;
	WRITE_ONCE(ddi_save_stream_test_hook, stream_sample_free);
	return free;
}

u64 ddi_test_stream_sample_stop(unsigned long start)
{
	WRITE_ONCE(ddi_save_stream_test_hook, NULL);
	return start > stream_lowest_free ? (u64)(start - stream_lowest_free) << PAGE_SHIFT : 0;
}

u32 ddi_test_bufio_strays(struct ddi_volume *volume)
{
	u32 pages = volume->geo.pages_per_volume + DDI_HEADER_PAGES;
	struct dm_buffer *buffer;
	u32 page, strays = 0;

	/* The mutex keeps the cache's mapping still while it is compared. */
	mutex_lock(&volume->read_mutex);
	for (page = 0; page < pages; page++) {
		if (!dm_bufio_get(volume->client, page, &buffer))
			continue;
		if (!ddi_page_cache_lookup(&volume->cache, page))
			strays++;
		dm_bufio_release(buffer);
	}
	mutex_unlock(&volume->read_mutex);
	return strays;
}

void ddi_test_copy_page(struct kunit *test, struct ddi_volume *volume, u32 to, u32 from)
{
	struct dm_buffer *in, *out;
	void *data = dm_bufio_read(volume->client, from, &in);
	void *copy;

	KUNIT_ASSERT_FALSE(test, IS_ERR(data));
	copy = dm_bufio_new(volume->client, to, &out);
	if (IS_ERR(copy)) {
		dm_bufio_release(in);
		KUNIT_FAIL(test, "dm_bufio_new failed");
		return;
	}
	memcpy(copy, data, DDI_BLOCK_BYTES);
	dm_bufio_mark_buffer_dirty(out);
	dm_bufio_release(out);
	dm_bufio_release(in);
	KUNIT_ASSERT_EQ(test, 0, dm_bufio_write_dirty_buffers(volume->client));
}

void ddi_test_zones_init(struct ddi_test_zone *zones, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		spin_lock_init(&zones[i].lock);
		INIT_LIST_HEAD(&zones[i].requeued);
		init_waitqueue_head(&zones[i].wait);
		atomic_set(&zones[i].requeue_count, 0);
	}
}

void ddi_test_requeue(struct ddi_request *request, void *context)
{
	struct ddi_test_zone *zone = (struct ddi_test_zone *)context + request->priv.zone;
	struct ddi_test_request *tr = container_of(request, struct ddi_test_request, request);
	unsigned long flags;

	spin_lock_irqsave(&zone->lock, flags);
	list_add_tail(&tr->link, &zone->requeued);
	spin_unlock_irqrestore(&zone->lock, flags);
	atomic_inc(&zone->requeue_count);
	wake_up(&zone->wait);
}

struct ddi_test_request *ddi_test_zone_pop(struct ddi_test_zone *zone)
{
	struct ddi_test_request *tr;
	unsigned long flags;

	spin_lock_irqsave(&zone->lock, flags);
	tr = list_first_entry_or_null(&zone->requeued, struct ddi_test_request, link);
	if (tr)
		list_del(&tr->link);
	spin_unlock_irqrestore(&zone->lock, flags);
	return tr;
}

void ddi_test_request_init(struct ddi_test_request *tr, const struct ddi_record *record,
			   u32 index, u64 vcn, unsigned int zone)
{
	memset(tr, 0, sizeof(*tr));
	tr->request.name = record->name;
	tr->request.priv.vcn = vcn;
	tr->request.priv.zone = zone;
	tr->request.priv.stage = DDI_STAGE_START;
	tr->record = index;
	INIT_LIST_HEAD(&tr->link);
}
