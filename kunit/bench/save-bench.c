// SPDX-License-Identifier: GPL-2.0-only
/*
 * Save and load benchmark: the time ddi_index_state_save() and
 * ddi_index_state_load() take for a full index of the shapes that
 * "memory 256" and "memory 2048" give, one zone each. The volume index is
 * filled by putting names straight into it (writing the 2048 chapters that
 * would fill it through posts would take far longer than the save), and the
 * open chapter is filled by posts to one record short of closing. A save
 * writes every table slot whether it is used or not, so the time depends on
 * the shape, not on how the names were put. After the load, a sample of the
 * names must be found again, so a broken save cannot pass for a fast one.
 * Also timed: the format that opens the index (it allocates and zeroes
 * the whole volume index); and measured: the most memory the save and the
 * load take beyond the index's own, which the save stream bounds.
 *
 * Both shapes need more RAM disk than scripts/bench gives (memory 2048
 * about 3 GiB; the disk fills only as written, and some 700 MiB of RAM do):
 * run it as
 *
 *   scripts/kunit --kunitconfig kunit/bench.kunitconfig --build-name bench-um \
 *	--filter 'dm_dedup_index_bench_save' -- --kernel_args brd.rd_size=3400000
 *
 * Without it, each case prints a "save-skipped" line.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/random.h>

#include "../test-util.h"
#include "bench-shapes.h"
#include "index.h"

enum {
	SAVE_BENCH_DISK = 0,
	/* Names of the volume index checked after the load. */
	SAMPLE = 4096,
};

struct sync_post {
	struct ddi_request request;
	struct completion done;
};

static void sync_post_done(struct ddi_request *request)
{
	complete(&container_of(request, struct sync_post, request)->done);
}

static void random_name(struct rnd_state *rnd, struct ddi_name *name)
{
	prandom_bytes_state(rnd, name->bytes, sizeof(name->bytes));
}

/* Post @count new names from @rnd, one at a time; returns how many were new. */
static u32 post_names(struct ddi_index *index, struct rnd_state *rnd, u32 count)
{
	struct sync_post post = {};
	u32 i, fresh = 0;

	for (i = 0; i < count; i++) {
		post.request = (struct ddi_request) {
			.type = DDI_POST,
			.callback = sync_post_done,
		};
		random_name(rnd, &post.request.name);
		memcpy(post.request.new_data.bytes, post.request.name.bytes,
		       sizeof(post.request.new_data.bytes));
		init_completion(&post.done);
		ddi_index_launch(index, &post.request);
		wait_for_completion(&post.done);
		if (!post.request.status && !post.request.found)
			fresh++;
	}
	return fresh;
}

static void bench_save(struct kunit *test)
{
	unsigned int memory_mb = *(const unsigned int *)test->param_value;
	struct ddi_index_config config = {
		.memory_mb = memory_mb,
		.zone_count = 1,
		.reader_count = 2,
		.cache_chapters = 1,
	};
	struct ddi_test_disk *disk;
	struct ddi_index_stats stats;
	struct ddi_index *index;
	struct ddi_geometry geo;
	struct rnd_state rnd, names;
	u64 device_bytes, seed, puts, i, slot_bytes;
	u32 open_records, found = 0, in_open = 0;
	unsigned long free;
	u64 save_peak, load_peak;
	ktime_t start;
	s64 format_ns, save_ns, load_ns;
	int save_ret, load_ret;

	KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &device_bytes));
	disk = ddi_test_disk_open(test, SAVE_BENCH_DISK, 0);
	if (!ddi_bench_shape_fits(test, "save", memory_mb, disk->bdev, device_bytes,
				  3 * device_bytes / 10))
		return;
	ddi_test_disk_zero(disk, 0, device_bytes);
	config.format = true;
	start = ktime_get();
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(disk->bdev, &config, &index, NULL));
	format_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, ddi_test_stream_sample_end, NULL));

	seed = get_random_u64();
	kunit_info(test, "memory %u: seed %llu\n", memory_mb, seed);
	prandom_seed_state(&rnd, seed);
	open_records = index->geo.records_per_chapter - 1;
	KUNIT_EXPECT_EQ(test, post_names(index, &rnd, open_records), open_records);

	/* The zones rest; put names straight into the volume index, all in chapter 0. */
	mutex_lock(&index->save_mutex);
	ddi_index_zones_pause(index);
	puts = index->geo.records_per_volume / 8 * 7;
	names = rnd;
	for (i = 0; i < puts; i++) {
		struct ddi_name name;

		random_name(&rnd, &name);
		ddi_volume_index_put(index->volume_index, &name, index->zones[0]->open_vcn);
	}

	free = ddi_test_stream_sample_start();
	start = ktime_get();
	save_ret = ddi_index_state_save(index, &ddi_test_no_client);
	save_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	save_peak = ddi_test_stream_sample_stop(free);
	free = ddi_test_stream_sample_start();
	start = ktime_get();
	load_ret = save_ret ? save_ret :
		   ddi_index_state_load(index, index->zones[0]->open_vcn);
	load_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	load_peak = ddi_test_stream_sample_stop(free);

	for (i = 0; i < SAMPLE; i++) {
		struct ddi_name name;
		u64 vcn;

		random_name(&names, &name);
		found += ddi_volume_index_lookup(index->volume_index, &name, &vcn) && vcn == 0;
	}
	prandom_seed_state(&rnd, seed);
	for (i = 0; i < SAMPLE; i++) {
		struct ddi_name name;

		random_name(&rnd, &name);
		in_open += ddi_open_chapter_zone_search(index->zones[0]->open, &name, NULL);
	}
	ddi_index_zones_resume(index);
	mutex_unlock(&index->save_mutex);
	ddi_index_get_stats(index, &stats);
	geo = index->geo;
	slot_bytes = (index->layout.save_slot_blocks - 1) * DDI_BLOCK_BYTES;
	ddi_index_abandon(index);

	KUNIT_EXPECT_EQ(test, save_ret, 0);
	KUNIT_EXPECT_EQ(test, load_ret, 0);
	/* Puts refused for room (a handful at 7/8 full) miss; nearly all must be found. */
	KUNIT_EXPECT_GE(test, found, SAMPLE - SAMPLE / 100);
	KUNIT_EXPECT_EQ(test, in_open, (u32)SAMPLE);
	kunit_info(test, "ddi-bench: save memory=%u shape=%ux%u entries=%llu memory_bytes=%llu volume_index_bytes=%llu save_slot_bytes=%llu format_ms=%lld save_ms=%lld load_ms=%lld save_peak_bytes=%llu load_peak_bytes=%llu\n",
		   memory_mb, geo.record_pages_per_chapter, geo.chapters_per_volume,
		   stats.entries, stats.memory_bytes, stats.volume_index_bytes, slot_bytes,
		   div_s64(format_ns, NSEC_PER_MSEC), div_s64(save_ns, NSEC_PER_MSEC),
		   div_s64(load_ns, NSEC_PER_MSEC), save_peak, load_peak);
}

static struct kunit_case save_bench_cases[] = {
	KUNIT_CASE_PARAM_ATTR(bench_save, ddi_bench_memory_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite save_bench_suite = {
	.name = "dm_dedup_index_bench_save",
	.test_cases = save_bench_cases,
};

kunit_test_suite(save_bench_suite);
