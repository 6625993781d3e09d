// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the index's RAM: that "memory N" buys a shape whose
 * index fits in N MiB and covers nearly as much as N MiB can, that the
 * figure the index reports is what an open really takes from the page
 * allocator, that save slots sized by an earlier, larger volume index
 * are still accepted while other sizes are not, and that an index keeps
 * the shape it was formatted with when N comes to buy another.
 */

#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "test-util.h"
#include "index.h"

enum {
	MEMORY_DISK = 1,
	MEMORY_DISK_BYTES = 64 << 20,
};

/*
 * For each budget: the index and its posts fit, and a budget of 256 MiB
 * to 4 GiB buys a window of a record for every 4 bytes of it (upstream's
 * 64M records in 256 MiB), to within 0.1%: a page more per chapter would
 * double the open chapter's hash buckets. Above, chapter numbers take
 * more bits and 4.2 bytes is the bound. Up to the largest shape, the budget is
 * nearly all used (within 10%), and a larger budget never buys less. One
 * line per budget gives the sizing table of the admin guide.
 */
static void memory_shape_fits_budget(struct kunit *test)
{
	static const unsigned int budgets[] = {
		64, 100, 256, 512, 768, 1024, 1536, 2048, 4096, 8192, 16384, 32768,
	};
	u64 last_records = 0, bytes, budget, records, device;
	struct ddi_index_config config = { .zone_count = 1 };
	struct ddi_geometry geo;
	unsigned int i, zones;

	for (i = 0; i < ARRAY_SIZE(budgets); i++) {
		budget = (u64)budgets[i] << 20;
		KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(budgets[i], false, &geo));
		bytes = ddi_index_memory_planned(&geo);
		records = geo.records_per_volume;
		config.memory_mb = budgets[i];
		KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &device));
		for (zones = 1; !ddi_volume_index_memory_needed(&geo, zones); zones++)
			;
		kunit_info(test, "memory %u: %u x %u, %llu records, %llu GiB, %llu KiB of RAM (%llu.%02llu bytes/record), index_dev %llu bytes, %u zones at least\n",
			   budgets[i], geo.record_pages_per_chapter, geo.chapters_per_volume,
			   records, (records * DDI_BLOCK_BYTES) >> 30, bytes >> 10,
			   div64_u64(bytes, records), div64_u64(100 * bytes, records) % 100,
			   device, zones);
		KUNIT_EXPECT_LE(test, bytes, budget);
		KUNIT_EXPECT_GT(test, records, last_records);
		last_records = records;
		/* The largest shape, which larger budgets than it needs stop at. */
		if (geo.record_pages_per_chapter == DDI_MAX_RECORD_PAGES_PER_CHAPTER &&
		    geo.chapters_per_volume == DDI_VOLUME_INDEX_MAX_CHAPTERS)
			continue;
		KUNIT_EXPECT_GE(test, bytes, budget * 9 / 10);
		if (budgets[i] >= 256 && budgets[i] <= 4096)
			KUNIT_EXPECT_GE(test, 4000 * records, budget * 999);
		if (budgets[i] > 4096)
			KUNIT_EXPECT_GE(test, 42 * records, budget * 10);
	}
	/* Too small a budget for any index. */
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_memory_geometry(4, false, &geo));
}

/*
 * The small explicit shapes of the admin guide: what their volume index
 * and whole index take (one zone, the default cache), and their index_dev.
 */
static void memory_small_shapes(struct kunit *test)
{
	static const u32 shapes[][2] = { { 4, 16 }, { 16, 64 }, { 16, 128 }, { 64, 128 } };
	struct ddi_index_config config = { .zone_count = 1 };
	u64 volume_index, bytes, device;
	struct ddi_geometry geo;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, shapes[i][0], shapes[i][1]));
		config.record_pages_per_chapter = shapes[i][0];
		config.chapters_per_volume = shapes[i][1];
		KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &device));
		volume_index = ddi_volume_index_memory_needed(&geo, 1);
		bytes = ddi_index_memory_bytes(&geo, 1, 2, 7);
		kunit_info(test, "record_pages %u chapters %u: %llu records, volume index %llu KiB, index %llu KiB, index_dev %llu bytes\n",
			   shapes[i][0], shapes[i][1], geo.records_per_volume, volume_index >> 10,
			   bytes >> 10, device);
		KUNIT_EXPECT_GT(test, volume_index, 0ULL);
		KUNIT_EXPECT_LT(test, volume_index, bytes);
		KUNIT_EXPECT_GT(test, device, geo.bytes_per_volume);
	}
}

/* The legacy shapes, which indexes made before the budget still have. */
static void memory_legacy_shapes(struct kunit *test)
{
	struct ddi_geometry geo;

	KUNIT_ASSERT_EQ(test, 0, ddi_index_legacy_geometry(256, &geo));
	KUNIT_EXPECT_EQ(test, geo.record_pages_per_chapter, 64U);
	KUNIT_EXPECT_EQ(test, geo.chapters_per_volume, 1024U);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_legacy_geometry(768, &geo));
	KUNIT_EXPECT_EQ(test, geo.chapters_per_volume, 3072U);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_legacy_geometry(2048, &geo));
	KUNIT_EXPECT_EQ(test, geo.record_pages_per_chapter, 256U);
	KUNIT_EXPECT_EQ(test, geo.chapters_per_volume, 2048U);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_legacy_geometry(100, &geo));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_legacy_geometry(1536, &geo));
}

static unsigned long free_pages_now(void)
{
	drain_all_pages(NULL);
	return global_zone_page_state(NR_FREE_PAGES);
}

static void close_index(void *index)
{
	ddi_index_close(index);
}

/* Requests launched a batch at a time, each batch waited for. */
enum { MEMORY_BATCH = 256 };

struct memory_batch {
	struct memory_request {
		struct ddi_request request;
		struct memory_batch *batch;
	} requests[MEMORY_BATCH];
	atomic_t pending;
	struct completion done;
};

static void memory_batch_callback(struct ddi_request *request)
{
	struct memory_batch *batch = container_of(request, struct memory_request,
						  request)->batch;

	if (atomic_dec_and_test(&batch->pending))
		complete(&batch->done);
}

/*
 * Send @type for records[i] for each i < @count in steps of @step; count
 * errors, and in *@found (if not NULL) the names found.
 */
static u32 run_records(struct ddi_index *index, struct memory_batch *batch,
		       enum ddi_request_type type, const struct ddi_record *records,
		       u32 count, u32 step, u32 *found)
{
	u32 i = 0, n, errors = 0;

	while (i < count) {
		atomic_set(&batch->pending, 1);
		init_completion(&batch->done);
		for (n = 0; n < MEMORY_BATCH && i < count; n++, i += step) {
			batch->requests[n] = (struct memory_request) {
				.request = {
					.type = type,
					.name = records[i].name,
					.new_data = records[i].data,
					.callback = memory_batch_callback,
				},
				.batch = batch,
			};
			atomic_inc(&batch->pending);
			ddi_index_launch(index, &batch->requests[n].request);
		}
		memory_batch_callback(&batch->requests[0].request);
		wait_for_completion(&batch->done);
		while (n--) {
			errors += batch->requests[n].request.status != 0;
			if (found)
				*found += batch->requests[n].request.found;
		}
	}
	return errors;
}

static void free_vmem(void *arg)
{
	vfree(arg);
}

/* @count seeded random records, freed when the test ends. */
static struct ddi_record *memory_records(struct kunit *test, u32 count)
{
	struct ddi_record *records = vmalloc_array(count, sizeof(*records));
	struct rnd_state rnd;

	KUNIT_ASSERT_NOT_NULL(test, records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, records));
	ddi_test_seed(test, &rnd);
	ddi_test_random_records(&rnd, records, count);
	return records;
}

/*
 * The index holds what it reports, within 10% and 1.5 MiB for pages on
 * the per-CPU lists, freed memory that KASAN keeps in quarantine, and the
 * RAM disk's blocks that an open writes. A format holds at most that: its
 * page cache takes buffers as it fills. A load, followed by lookups over
 * far more record pages than the cache holds, holds it all: every slot
 * filled and every page evicted given back. Before bufio.h, dm-bufio kept
 * each evicted page, and reserved as many buffers again as the cache has
 * slots: a load took 2.4 times the figure reported.
 */
static void memory_bytes_is_what_open_takes(struct kunit *test)
{
	static const struct ddi_index_config config = {
		.record_pages_per_chapter = 64,
		.chapters_per_volume = 48,
		.zone_count = 2,
		.reader_count = 2,
		.cache_chapters = 2,
		.format = true,
	};
	struct ddi_test_disk *disk = ddi_test_disk_open(test, MEMORY_DISK, MEMORY_DISK_BYTES);
	struct ddi_index_config reopen = config;
	struct memory_batch *batch;
	struct ddi_index_stats stats;
	struct ddi_record *records;
	struct ddi_geometry geo;
	struct ddi_index *index;
	unsigned long before, after;
	u64 took, slack = 3 << 19;
	u32 count;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, config.record_pages_per_chapter,
						   config.chapters_per_volume));
	/* Sixteen chapters: eight times the record pages the cache holds. */
	count = 16 * geo.records_per_chapter;
	records = memory_records(test, count);
	batch = kunit_kzalloc(test, sizeof(*batch), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);

	before = free_pages_now();
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(disk->bdev, &config, &index, NULL));
	after = free_pages_now();
	took = before > after ? (u64)(before - after) << PAGE_SHIFT : 0;
	ddi_index_get_stats(index, &stats);
	kunit_info(test, "format took %llu KiB; the index reports %llu KiB, its volume index %llu KiB\n",
		   took >> 10, stats.memory_bytes >> 10, stats.volume_index_bytes >> 10);
	KUNIT_EXPECT_LE(test, took, stats.memory_bytes + stats.memory_bytes / 10 + slack);
	KUNIT_EXPECT_LT(test, stats.volume_index_bytes, stats.memory_bytes);
	KUNIT_EXPECT_EQ(test, 0U, run_records(index, batch, DDI_POST, records, count, 1, NULL));
	ddi_index_close(index);

	reopen.format = false;
	before = free_pages_now();
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(disk->bdev, &reopen, &index, NULL));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_index, index));
	KUNIT_EXPECT_EQ(test, 0U, run_records(index, batch, DDI_QUERY_NO_UPDATE, records,
					      count, 4, NULL));
	after = free_pages_now();
	took = before > after ? (u64)(before - after) << PAGE_SHIFT : 0;
	ddi_index_get_stats(index, &stats);
	kunit_info(test, "load and %u lookups took %llu KiB; the index reports %llu KiB; %llu pages read\n",
		   count / 4, took >> 10, stats.memory_bytes >> 10, stats.pages_read);
	KUNIT_EXPECT_EQ(test, stats.opened, DDI_OPENED_LOADED);
	KUNIT_EXPECT_GT(test, stats.pages_read,
			4ULL * config.cache_chapters * geo.record_pages_per_chapter);
	KUNIT_EXPECT_LE(test, took, stats.memory_bytes + stats.memory_bytes / 10 + slack);
	KUNIT_EXPECT_GE(test, took + stats.memory_bytes / 10 + slack, stats.memory_bytes);
}

/*
 * A superblock whose save slots are larger than this code lays out, as an
 * index formatted with 32-bit volume index entries has, is accepted where
 * the caller allows it (up to twice the size, for the legacy shapes); a
 * smaller slot, or a larger one than allowed, is not.
 */
static void memory_larger_save_slots_accepted(struct kunit *test)
{
	struct ddi_index_layout found;
	struct ddi_geometry geo;
	const char *field;
	u64 save = 3 << 20;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, 64, 128));
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &geo, 1, save, 7));
	KUNIT_EXPECT_EQ(test, 0, ddi_layout_check(&found, &geo, save, 2 * save, &field));
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &geo, 1, save * 13 / 10, 7));
	KUNIT_EXPECT_EQ(test, 0, ddi_layout_check(&found, &geo, save, 2 * save, &field));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_layout_check(&found, &geo, save, save, &field));
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &geo, 1, save * 5 / 2, 7));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_layout_check(&found, &geo, save, 2 * save, &field));
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &geo, 1, save / 2, 7));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_layout_check(&found, &geo, save, 2 * save, &field));
	/* Larger slots, but a volume that does not start after them. */
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &geo, 1, save * 13 / 10, 7));
	found.volume_start_block--;
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_layout_check(&found, &geo, save, 2 * save, &field));
}

/*
 * What "memory N" opens of an index whose shape N no longer gives, as
 * after a change to the count of what N buys: a superblock recording N is
 * opened with its own shape, whatever it is; one recording another budget,
 * or the other density, is not; one recording no budget (written before
 * budgets were recorded) is when its shape is what about N MiB buys, and
 * not when it is far smaller (an explicit shape for tests) or larger.
 */
static void memory_adopts_shapes_formatted_for_it(struct kunit *test)
{
	struct ddi_geometry now, earlier, small, larger, geo;
	struct ddi_index_layout found;

	KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(256, false, &now));
	KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(512, false, &larger));
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&earlier, now.record_pages_per_chapter * 9 / 10,
						   now.chapters_per_volume));
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&small, 16, 64));

	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &earlier, 1, 1 << 20, 7));
	found.memory_mb = 256;
	KUNIT_EXPECT_EQ(test, 0, ddi_index_memory_adopt_shape(256, false, &found, &geo));
	KUNIT_EXPECT_EQ(test, geo.record_pages_per_chapter, earlier.record_pages_per_chapter);
	KUNIT_EXPECT_EQ(test, geo.chapters_per_volume, earlier.chapters_per_volume);
	KUNIT_EXPECT_EQ(test, geo.records_per_volume, earlier.records_per_volume);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_memory_adopt_shape(512, false, &found, &geo));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_memory_adopt_shape(256, true, &found, &geo));
	found.memory_mb = 0;
	KUNIT_EXPECT_EQ(test, 0, ddi_index_memory_adopt_shape(256, false, &found, &geo));
	KUNIT_EXPECT_EQ(test, geo.record_pages_per_chapter, earlier.record_pages_per_chapter);

	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &small, 1, 1 << 20, 7));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_memory_adopt_shape(256, false, &found, &geo));
	found.memory_mb = 256;
	KUNIT_EXPECT_EQ(test, 0, ddi_index_memory_adopt_shape(256, false, &found, &geo));
	KUNIT_EXPECT_EQ(test, geo.record_pages_per_chapter, 16U);

	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &larger, 1, 1 << 20, 7));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_memory_adopt_shape(256, false, &found, &geo));
	KUNIT_EXPECT_EQ(test, 0, ddi_index_memory_adopt_shape(512, false, &found, &geo));

	/* A sparse index's shape: its sparse chapters must be what it gives. */
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init_sparse(&earlier, 64, 2048));
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_init(&found, &earlier, 1, 1 << 20, 7));
	found.memory_mb = 256;
	KUNIT_EXPECT_EQ(test, 0, ddi_index_memory_adopt_shape(256, true, &found, &geo));
	KUNIT_EXPECT_EQ(test, geo.sparse_chapters_per_volume, earlier.sparse_chapters_per_volume);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_memory_adopt_shape(256, false, &found, &geo));
	found.sparse_chapters_per_volume--;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_memory_adopt_shape(256, true, &found, &geo));
}

/* Where layout.c keeps these fields of the superblock. */
enum {
	SUPER_SLOT_BLOCKS_AT = 32,
	SUPER_VOLUME_START_AT = 40,
	SUPER_TOTAL_BLOCKS_AT = 48,
	SUPER_MEMORY_MB_AT = 64,
};

/* Open @config on @disk, or fail the test. */
static struct ddi_index *open_index(struct kunit *test, struct ddi_test_disk *disk,
				    const struct ddi_index_config *config)
{
	struct ddi_index *index = NULL;
	char *error = NULL;

	KUNIT_ASSERT_EQ_MSG(test, 0, ddi_index_open(disk->bdev, config, &index, &error),
			    "%s", error ?: "");
	return index;
}

/*
 * An index formatted for "memory 64" by a version that gave it another
 * shape (here a small explicit one, its superblock made to record 64) is
 * opened by memory 64 with that shape, from its save, every name found.
 * Recording another budget, it is refused. With save slots too small for
 * its state (sizes that add up, and within what the layout check allows
 * an adopted shape), it is refused before anything is written, and opens
 * whole once they are put back.
 */
static void memory_opens_index_with_its_recorded_shape(struct kunit *test)
{
	static const struct ddi_index_config explicit = {
		.record_pages_per_chapter = 64,
		.chapters_per_volume = 128,
		.zone_count = 1,
		.reader_count = 2,
		.cache_chapters = 2,
		.format = true,
	};
	struct ddi_test_disk *disk = ddi_test_disk_open(test, MEMORY_DISK, MEMORY_DISK_BYTES);
	struct ddi_index_config budget = explicit;
	struct ddi_index_layout layout;
	struct ddi_index *index = NULL;
	struct memory_batch *batch;
	struct ddi_index_stats stats;
	struct ddi_record *records;
	struct ddi_geometry geo;
	u64 need_blocks, slot;
	char *error = NULL;
	u32 count, found;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, explicit.record_pages_per_chapter,
						   explicit.chapters_per_volume));
	count = 2 * geo.records_per_chapter;
	records = memory_records(test, count);
	batch = kunit_kzalloc(test, sizeof(*batch), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, batch);

	index = open_index(test, disk, &explicit);
	KUNIT_EXPECT_EQ(test, 0U, run_records(index, batch, DDI_POST, records, count, 1, NULL));
	need_blocks = DIV_ROUND_UP_ULL(ddi_index_state_bytes(index), DDI_BLOCK_BYTES);
	ddi_index_close(index);
	/* An explicit shape records no budget. */
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_read_super(disk->bdev, &layout));
	KUNIT_EXPECT_EQ(test, layout.memory_mb, 0U);

	ddi_test_craft_super(test, disk, SUPER_MEMORY_MB_AT, 4, 64);
	budget.record_pages_per_chapter = 0;
	budget.chapters_per_volume = 0;
	budget.memory_mb = 64;
	budget.format = false;
	index = open_index(test, disk, &budget);
	KUNIT_EXPECT_EQ(test, index->geo.record_pages_per_chapter, geo.record_pages_per_chapter);
	KUNIT_EXPECT_EQ(test, index->geo.chapters_per_volume, geo.chapters_per_volume);
	KUNIT_EXPECT_EQ(test, index->layout.memory_mb, 64U);
	found = 0;
	KUNIT_EXPECT_EQ(test, 0U, run_records(index, batch, DDI_QUERY_NO_UPDATE, records,
					      count, 1, &found));
	ddi_index_get_stats(index, &stats);
	KUNIT_EXPECT_EQ(test, stats.opened, DDI_OPENED_LOADED);
	KUNIT_EXPECT_EQ(test, found, count);
	ddi_index_close(index);

	ddi_test_craft_super(test, disk, SUPER_MEMORY_MB_AT, 4, 100);
	index = NULL;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_open(disk->bdev, &budget, &index, &error));
	KUNIT_EXPECT_NULL(test, index);
	KUNIT_EXPECT_STREQ(test, error ?: "(none)",
			   "index_dev holds an index of another size (add format to overwrite it)");
	ddi_test_craft_super(test, disk, SUPER_MEMORY_MB_AT, 4, 64);

	/* One block short of the state, and still over half what was laid out. */
	slot = need_blocks;
	KUNIT_ASSERT_GE(test, slot, layout.save_slot_blocks / 2 + 2);
	ddi_test_craft_super(test, disk, SUPER_SLOT_BLOCKS_AT, 8, slot);
	ddi_test_craft_super(test, disk, SUPER_VOLUME_START_AT, 8, 1 + 2 * slot);
	ddi_test_craft_super(test, disk, SUPER_TOTAL_BLOCKS_AT, 8,
			     1 + 2 * slot + layout.total_blocks - layout.volume_start_block);
	error = NULL;
	KUNIT_EXPECT_EQ(test, -ENOSPC, ddi_index_open(disk->bdev, &budget, &index, &error));
	KUNIT_EXPECT_NULL(test, index);
	KUNIT_EXPECT_STREQ(test, error ?: "(none)",
			   "the save slots of index_dev are too small for this index");
	ddi_test_craft_super(test, disk, SUPER_SLOT_BLOCKS_AT, 8, layout.save_slot_blocks);
	ddi_test_craft_super(test, disk, SUPER_VOLUME_START_AT, 8, layout.volume_start_block);
	ddi_test_craft_super(test, disk, SUPER_TOTAL_BLOCKS_AT, 8, layout.total_blocks);
	index = open_index(test, disk, &budget);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_index, index));
	found = 0;
	KUNIT_EXPECT_EQ(test, 0U, run_records(index, batch, DDI_QUERY_NO_UPDATE, records,
					      count, 1, &found));
	ddi_index_get_stats(index, &stats);
	KUNIT_EXPECT_EQ(test, stats.opened, DDI_OPENED_LOADED);
	KUNIT_EXPECT_EQ(test, found, count);
}

/*
 * The layout "memory N" gives an index device, pinned so that a change to
 * it is made on purpose. Indexes already formatted survive such a change
 * only as far as ddi_index_memory_adopt_shape() takes them: those whose
 * superblocks record N whatever their shape, but those formatted before
 * superblocks recorded it only while their shape is about N MiB's by the
 * new count, and any only with save slots from half to twice the new
 * size. Check that before putting new figures here.
 */
static void memory_layouts_stay_the_same(struct kunit *test)
{
	static const struct {
		unsigned int memory_mb;
		u64 device_bytes;
	} formatted[] = {
		{ 64, 685318144ULL }, { 100, 1097498624ULL }, { 256, 2898567168ULL },
		{ 2048, 24088010752ULL }, { 32768, 188882280448ULL },
	};
	struct ddi_index_config config = { .zone_count = 1 };
	unsigned int i;
	u64 device;

	for (i = 0; i < ARRAY_SIZE(formatted); i++) {
		config.memory_mb = formatted[i].memory_mb;
		KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &device));
		KUNIT_EXPECT_EQ_MSG(test, device, formatted[i].device_bytes, "memory %u",
				    formatted[i].memory_mb);
	}
}

static struct kunit_case index_memory_cases[] = {
	KUNIT_CASE(memory_shape_fits_budget),
	KUNIT_CASE(memory_small_shapes),
	KUNIT_CASE(memory_legacy_shapes),
	KUNIT_CASE(memory_bytes_is_what_open_takes),
	KUNIT_CASE(memory_larger_save_slots_accepted),
	KUNIT_CASE(memory_layouts_stay_the_same),
	KUNIT_CASE(memory_adopts_shapes_formatted_for_it),
	KUNIT_CASE(memory_opens_index_with_its_recorded_shape),
	{}
};

static struct kunit_suite index_memory_suite = {
	.name = "dm_dedup_index_index_memory",
	.test_cases = index_memory_cases,
};

kunit_test_suite(index_memory_suite);
