// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rebuild benchmark: how long an index of the shape "memory 256" (the
 * default) or "memory 2048" takes to open after a crash, when every chapter
 * of its volume must be read back, next to how long the same index takes
 * to close (a save) and to open again from that save.
 *
 * The volume is filled the way a target fills it, by posts of new names
 * through ddi_index_launch() with IN_FLIGHT outstanding, until all but one
 * of its chapters are closed. The index is closed (it saves), opened (it
 * loads), closed again, and then both save slots are blanked, so the next
 * open has no save and must rebuild the volume index from the chapter
 * index pages. After the load and after the rebuild a sample of the names
 * is queried: each must be found with the data it was posted with, so a
 * broken load or rebuild cannot pass for a fast one.
 *
 * A full memory 256 volume needs about 330 MiB of RAM disk, memory 2048
 * about 2.6 GiB and 3.5 GiB of RAM in all; scripts/bench gives neither.
 * memory 256 runs with
 *
 *   scripts/kunit --kunitconfig kunit/bench.kunitconfig --build-name bench-um \
 *	--filter 'dm_dedup_index_bench_rebuild' -- --kernel_args brd.rd_size=3400000
 *
 * and both shapes by starting that build's UML kernel by hand, since
 * kunit.py's own mem=1G comes after any mem= given to it:
 *
 *   bench-um/linux mem=4G kunit_shutdown=halt brd.rd_size=3400000 \
 *	kunit.filter_glob=dm_dedup_index_bench_rebuild
 *
 * A shape that does not fit prints a "rebuild-skipped" line (bench-shapes.h).
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "../test-util.h"
#include "bench-shapes.h"
#include "index.h"

enum {
	REBUILD_BENCH_DISK = 0,
	IN_FLIGHT = 256,
	/* Names queried after each open. */
	SAMPLE = 8192,
};

struct rebuild_slot {
	struct ddi_request request;
	struct rebuild_run *run;
};

/* Posts or queries kept IN_FLIGHT deep; answers are checked as they come. */
struct rebuild_run {
	struct rebuild_slot slots[IN_FLIGHT];
	atomic_t outstanding;
	wait_queue_head_t wait;
	/* Answers whose found flag or data was not what the name's history says. */
	atomic_t wrong;
	/* The answer a query expects: found, with the name as its data. */
	bool expect_found;
};

/* The data of a name is its first bytes, so any answer can be checked. */
static void name_data(const struct ddi_name *name, struct ddi_data *data)
{
	memcpy(data->bytes, name->bytes, sizeof(data->bytes));
}

static void rebuild_done(struct ddi_request *request)
{
	struct rebuild_slot *slot = container_of(request, struct rebuild_slot, request);
	struct rebuild_run *run = slot->run;
	struct ddi_data want;

	name_data(&request->name, &want);
	if (request->status || request->found != run->expect_found ||
	    (request->found && memcmp(&request->old_data, &want, sizeof(want))))
		atomic_inc(&run->wrong);
	/*
	 * Release: pairs with the acquire in run_names(), which reuses the
	 * slots once it sees none outstanding. @run outlives the test's runs.
	 */
	if (!atomic_dec_return_release(&run->outstanding))
		wake_up(&run->wait);
}

/* Launch @count names from a stream seeded with @seed, as @type requests. */
static void run_names(struct ddi_index *index, struct rebuild_run *run,
		      enum ddi_request_type type, u64 seed, u64 count)
{
	struct rnd_state rnd;
	u64 i;

	prandom_seed_state(&rnd, seed);
	run->expect_found = type != DDI_POST;
	for (i = 0; i < count; i++) {
		struct rebuild_slot *slot = &run->slots[i % IN_FLIGHT];

		/*
		 * The index need not answer in order, so a slot is not known
		 * to be free until the whole lap of IN_FLIGHT is answered.
		 */
		if (i && !(i % IN_FLIGHT))
			wait_event(run->wait, !atomic_read_acquire(&run->outstanding));
		slot->run = run;
		slot->request = (struct ddi_request) {
			.type = type,
			.callback = rebuild_done,
		};
		prandom_bytes_state(&rnd, slot->request.name.bytes,
				    sizeof(slot->request.name.bytes));
		name_data(&slot->request.name, &slot->request.new_data);
		atomic_inc(&run->outstanding);
		ddi_index_launch(index, &slot->request);
	}
	wait_event(run->wait, !atomic_read_acquire(&run->outstanding));
}

static s64 ms_since(ktime_t start)
{
	return div_s64(ktime_to_ns(ktime_sub(ktime_get(), start)), NSEC_PER_MSEC);
}

/* Open the index on @disk, timed, and check what the open says it did. */
static struct ddi_index *timed_open(struct kunit *test, struct ddi_test_disk *disk,
				    struct ddi_index_config *config,
				    enum ddi_index_opened want, s64 *ms)
{
	struct ddi_index_stats stats;
	struct ddi_index *index;
	ktime_t start = ktime_get();

	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(disk->bdev, config, &index, NULL));
	*ms = ms_since(start);
	ddi_index_get_stats(index, &stats);
	KUNIT_EXPECT_EQ(test, stats.opened, want);
	return index;
}

static void bench_rebuild(struct kunit *test)
{
	unsigned int memory_mb = *(const unsigned int *)test->param_value;
	struct ddi_index_config config = {
		.memory_mb = memory_mb,
		.zone_count = 1,
		.reader_count = 2,
		.cache_chapters = 1,
		.format = true,
	};
	struct ddi_index_layout layout;
	struct ddi_index_stats stats;
	struct ddi_test_disk *disk;
	struct ddi_index *index;
	struct rebuild_run *run;
	struct ddi_geometry geo;
	u64 device_bytes, seed, posts;
	s64 format_ms, fill_ms, close_ms, load_ms, rebuild_ms;
	ktime_t start;
	int wrong_load, wrong_rebuild;

	KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &device_bytes));
	disk = ddi_test_disk_open(test, REBUILD_BENCH_DISK, 0);
	/* The RAM disk's pages come out of the same RAM as the index's. */
	if (!ddi_bench_shape_fits(test, "rebuild", memory_mb, disk->bdev, device_bytes,
				  device_bytes + device_bytes / 4))
		return;
	run = kunit_kzalloc(test, sizeof(*run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, run);
	init_waitqueue_head(&run->wait);
	ddi_test_disk_zero(disk, 0, device_bytes);
	seed = get_random_u64();
	kunit_info(test, "memory %u: seed %llu\n", memory_mb, seed);

	index = timed_open(test, disk, &config, DDI_OPENED_FORMATTED, &format_ms);
	geo = index->geo;
	layout = index->layout;
	posts = (u64)geo.records_per_chapter * (geo.chapters_per_volume - 1);
	start = ktime_get();
	run_names(index, run, DDI_POST, seed, posts);
	fill_ms = ms_since(start);
	KUNIT_EXPECT_EQ(test, atomic_read(&run->wrong), 0);
	ddi_index_get_stats(index, &stats);
	KUNIT_EXPECT_EQ(test, stats.posts_not_found, posts);
	start = ktime_get();
	ddi_index_close(index);
	close_ms = ms_since(start);

	config.format = false;
	index = timed_open(test, disk, &config, DDI_OPENED_LOADED, &load_ms);
	atomic_set(&run->wrong, 0);
	run_names(index, run, DDI_QUERY_NO_UPDATE, seed, SAMPLE);
	wrong_load = atomic_read(&run->wrong);
	ddi_index_close(index);

	KUNIT_ASSERT_EQ(test, 0, ddi_layout_invalidate_saves(disk->bdev, &layout));
	index = timed_open(test, disk, &config, DDI_OPENED_REBUILT, &rebuild_ms);
	atomic_set(&run->wrong, 0);
	run_names(index, run, DDI_QUERY_NO_UPDATE, seed, SAMPLE);
	wrong_rebuild = atomic_read(&run->wrong);
	ddi_index_get_stats(index, &stats);
	ddi_index_abandon(index);

	KUNIT_EXPECT_EQ(test, wrong_load, 0);
	KUNIT_EXPECT_EQ(test, wrong_rebuild, 0);
	kunit_info(test, "ddi-bench: rebuild memory=%u shape=%ux%u records=%llu entries=%llu format_ms=%lld fill_posts_per_sec=%llu close_ms=%lld load_ms=%lld rebuild_ms=%lld\n",
		   memory_mb, geo.record_pages_per_chapter, geo.chapters_per_volume,
		   posts, stats.entries, format_ms,
		   div64_u64(posts * MSEC_PER_SEC, max_t(s64, fill_ms, 1)),
		   close_ms, load_ms, rebuild_ms);
}

static struct kunit_case rebuild_bench_cases[] = {
	KUNIT_CASE_PARAM_ATTR(bench_rebuild, ddi_bench_memory_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite rebuild_bench_suite = {
	.name = "dm_dedup_index_bench_rebuild",
	.test_cases = rebuild_bench_cases,
};

kunit_test_suite(rebuild_bench_suite);
