// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the scan thread against writes: a write in flight when a
 * chunk's window opens holds the scan until it is done (its data is on the
 * device before the scan reads), a write mapped while the window is open
 * leaves its block to the write, and writers mapping and ending bios all
 * over the range while a scan runs never stall it nor lose a block from
 * its count. Writes are driven through ddi_target_scan_map() and
 * ddi_target_scan_end_io() as the target's map and end_io call them; the
 * scan reads a RAM disk and posts into a real index on another.
 *
 * On x86_64 (two CPUs, preemption, lockdep, KASAN) the writers and the
 * scan thread run at once.
 */

#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/vmstat.h>

#include "target.h"
#include "test-util.h"

enum {
	INDEX_DISK = 1,
	DATA_DISK = 2,
	DISK_BYTES = 32 << 20,
	DATA_BLOCKS = DISK_BYTES / DDI_BLOCK_SIZE,
	WRITERS = 2,
};

struct fixture {
	struct ddi_target *target;
	struct ddi_test_disk *index;
	struct dm_dev data;
};

static void free_fixture(void *arg)
{
	struct fixture *f = arg;

	ddi_target_scan_exit(f->target);
	ddi_target_registry_put(f->target->shared);
}

static struct fixture *make_fixture(struct kunit *test)
{
	struct ddi_test_disk *index = ddi_test_disk_open(test, INDEX_DISK, DISK_BYTES);
	struct ddi_test_disk *data = ddi_test_disk_open(test, DATA_DISK, DISK_BYTES);
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct ddi_index_storage *storage;
	struct ddi_target *target;
	char *error = NULL;

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->index = index;
	target = kunit_kzalloc(test, sizeof(*target), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, target);
	f->target = target;
	f->data.bdev = data->bdev;
	strscpy(f->data.name, "ram2", sizeof(f->data.name));
	target->data = &f->data;
	KUNIT_ASSERT_EQ(test, 0, ddi_target_registry_get(index->bdev, data->bdev,
							 &ddi_test_target_config,
							 &target->shared, &storage, &error));
	target->index = ddi_target_registry_index(target->shared);
	ddi_target_scan_init(target, DATA_BLOCKS);
	ddi_target_scan_resume(target);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_fixture, f));
	return f;
}

static void scan(struct kunit *test, struct fixture *f, u64 first, u64 count)
{
	char word[] = "scan", from[24], blocks[24];
	char *argv[3];

	/* As dm hands a message over: words it may change. */
	argv[0] = word;
	argv[1] = from;
	argv[2] = blocks;
	snprintf(from, sizeof(from), "%llu", first);
	snprintf(blocks, sizeof(blocks), "%llu", count);
	KUNIT_ASSERT_EQ(test, 0, ddi_target_scan_message(f->target, 3, argv));
}

static struct ddi_scan_progress progress(struct fixture *f)
{
	struct ddi_scan_progress p;

	ddi_scan_state_get(f->target->scan_state, &p);
	return p;
}

/* Wait up to a minute for the scan to be done. */
static bool scan_done(struct fixture *f)
{
	unsigned int tries;

	for (tries = 0; tries < 6000; tries++) {
		if (progress(f).phase == DDI_SCAN_DONE)
			return true;
		usleep_range(10000, 11000);
	}
	return false;
}

/* A write bio of one block, as map would see it; never submitted. */
static void write_bio(struct bio *bio, u64 block)
{
	bio_init(bio, NULL, NULL, 0, REQ_OP_WRITE);
	bio->bi_iter.bi_sector = block * DDI_BLOCK_SECTORS;
	bio->bi_iter.bi_size = DDI_BLOCK_SIZE;
}

static void scan_waits_for_writes_and_leaves_their_blocks(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct ddi_scan_progress p;
	struct bio early, during;
	int early_epoch, during_epoch;

	/* In flight before the scan: the scan must wait for it. */
	write_bio(&early, 5);
	early_epoch = ddi_target_scan_map(f->target, &early);
	KUNIT_ASSERT_GE(test, early_epoch, 0);
	scan(test, f, 0, DDI_SCAN_CHUNK_BLOCKS);
	msleep(200);
	p = progress(f);
	KUNIT_EXPECT_EQ(test, DDI_SCAN_RUNNING, p.phase);
	KUNIT_EXPECT_EQ_MSG(test, 0ULL, p.done, "the scan read past a write in flight");

	/* Mapped while the window is open: its block is left to it. */
	write_bio(&during, 7);
	during_epoch = ddi_target_scan_map(f->target, &during);
	ddi_target_scan_end_io(f->target, during_epoch);
	msleep(50);
	KUNIT_EXPECT_EQ(test, 0ULL, progress(f).done);

	ddi_target_scan_end_io(f->target, early_epoch);
	KUNIT_ASSERT_TRUE(test, scan_done(f));
	p = progress(f);
	KUNIT_EXPECT_EQ(test, (u64)DDI_SCAN_CHUNK_BLOCKS, p.done);
	KUNIT_EXPECT_EQ(test, 1ULL, p.written);
	KUNIT_EXPECT_EQ(test, (u64)DDI_SCAN_CHUNK_BLOCKS - 1, p.posted);
	/* Zero blocks all: every post after the first finds the first. */
	KUNIT_EXPECT_EQ(test, (u64)DDI_SCAN_CHUNK_BLOCKS - 2, p.duplicates);
	KUNIT_EXPECT_EQ(test, (s64)DDI_SCAN_CHUNK_BLOCKS - 1,
			atomic64_read(&f->target->stats.blocks_indexed));
}

struct writer {
	struct fixture *f;
	u64 seed;
	bool stop;
	atomic_t writes;
	struct completion done;
};

/* Maps and ends writes of 1 to 64 blocks anywhere in the range, at random. */
static int writer_fn(void *arg)
{
	struct writer *w = arg;
	struct rnd_state rnd;
	struct bio bio;

	prandom_seed_state(&rnd, w->seed);
	while (!READ_ONCE(w->stop)) {
		u32 blocks = 1 + prandom_u32_state(&rnd) % 64;
		u64 block = prandom_u32_state(&rnd) % (DATA_BLOCKS - blocks);
		int epoch;

		write_bio(&bio, block);
		bio.bi_iter.bi_size = blocks * DDI_BLOCK_SIZE;
		epoch = ddi_target_scan_map(w->f->target, &bio);
		if (prandom_u32_state(&rnd) % 4 == 0)
			usleep_range(50, 200);
		ddi_target_scan_end_io(w->f->target, epoch);
		atomic_inc(&w->writes);
		cond_resched();
	}
	complete(&w->done);
	return 0;
}

static void scan_under_writes_counts_every_block(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct writer *writers = kunit_kcalloc(test, WRITERS, sizeof(*writers), GFP_KERNEL);
	struct ddi_scan_progress p;
	u64 seed = ddi_test_base_seed();
	unsigned int i;
	bool done;

	KUNIT_ASSERT_NOT_NULL(test, writers);
	kunit_info(test, "writer seed %llu (dm_dedup_index.test_seed)", seed);
	for (i = 0; i < WRITERS; i++) {
		struct task_struct *task;

		writers[i].f = f;
		writers[i].seed = seed + i;
		init_completion(&writers[i].done);
		task = kthread_run(writer_fn, &writers[i], "ddi-test-writer/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	scan(test, f, 0, DATA_BLOCKS);
	done = scan_done(f);
	for (i = 0; i < WRITERS; i++) {
		WRITE_ONCE(writers[i].stop, true);
		wait_for_completion(&writers[i].done);
	}
	p = progress(f);
	kunit_info(test, "scan of %u blocks under %d + %d writes: %llu posted, %llu left to writes",
		   DATA_BLOCKS, atomic_read(&writers[0].writes), atomic_read(&writers[1].writes),
		   p.posted, p.written);
	KUNIT_EXPECT_TRUE_MSG(test, done, "the scan stalled at %llu under writes", p.done);
	KUNIT_EXPECT_EQ(test, (u64)DATA_BLOCKS, p.posted + p.written);
	KUNIT_EXPECT_GT(test, atomic_read(&writers[0].writes), 0);
	/* Nothing is left counted in flight once the writers are done. */
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&f->target->writes_in_flight[0]) +
			atomic_read(&f->target->writes_in_flight[1]));
}

/* Two live devices on one index share its scan: one thread may run it. */
static void scan_of_a_shared_index_runs_once(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct ddi_target *second = kunit_kzalloc(test, sizeof(*second), GFP_KERNEL);
	struct ddi_index_storage *storage;
	char word[] = "scan", stop[] = "stop";
	char *argv[2];
	char *error = NULL;
	struct bio held;
	int epoch;

	KUNIT_ASSERT_NOT_NULL(test, second);
	second->data = f->target->data;
	KUNIT_ASSERT_EQ(test, 0, ddi_target_registry_get(f->index->bdev, f->data.bdev,
							 &ddi_test_target_config,
							 &second->shared, &storage, &error));
	KUNIT_ASSERT_PTR_EQ(test, f->target->shared, second->shared);
	second->index = ddi_target_registry_index(second->shared);
	ddi_target_scan_init(second, DATA_BLOCKS);
	ddi_target_scan_resume(second);

	/* A write in flight keeps the first device's scan thread running. */
	write_bio(&held, 3);
	epoch = ddi_target_scan_map(f->target, &held);
	scan(test, f, 0, DDI_SCAN_CHUNK_BLOCKS);
	argv[0] = word;
	argv[1] = stop;
	KUNIT_EXPECT_EQ(test, -EBUSY, ddi_target_scan_message(second, 2, argv));
	KUNIT_EXPECT_EQ(test, DDI_SCAN_RUNNING, progress(f).phase);
	KUNIT_EXPECT_EQ(test, -EBUSY, ddi_target_scan_message(second, 1, argv));
	ddi_target_scan_end_io(f->target, epoch);
	KUNIT_EXPECT_TRUE(test, scan_done(f));
	/* The refused message left the running scan's progress alone. */
	KUNIT_EXPECT_EQ(test, (u64)DDI_SCAN_CHUNK_BLOCKS, progress(f).posted);
	ddi_target_scan_exit(second);
	ddi_target_registry_put(second->shared);
}

/* The parts of memory_bytes in the "stats" message, read from one answer. */
struct memory_report {
	u64 total;
	u64 index;
	u64 posts;
	u64 verify;
	u64 scan;
	u64 io;
};

static u64 stats_value(struct kunit *test, const char *stats, const char *key)
{
	size_t len = strlen(key);
	const char *line;
	u64 value;

	for (line = stats; *line; ) {
		if (!strncmp(line, key, len) && line[len] == '=' &&
		    sscanf(line + len + 1, "%llu", &value) == 1)
			return value;
		line = strchrnul(line, '\n');
		if (*line)
			line++;
	}
	KUNIT_FAIL(test, "no %s in the stats", key);
	return 0;
}

static struct memory_report memory_report(struct kunit *test, struct fixture *f)
{
	enum { STATS_BYTES = 4096 };
	char *stats = kunit_kzalloc(test, STATS_BYTES, GFP_KERNEL);
	char word[] = "stats";
	struct memory_report r;
	char *argv[1];

	KUNIT_ASSERT_NOT_NULL(test, stats);
	argv[0] = word;
	KUNIT_ASSERT_EQ(test, 1, ddi_target_status_message(f->target, 1, argv, stats,
							   STATS_BYTES));
	r = (struct memory_report) {
		.total = stats_value(test, stats, "memory_bytes"),
		.index = stats_value(test, stats, "index_memory_bytes"),
		.posts = stats_value(test, stats, "post_memory_limit_bytes"),
		.verify = stats_value(test, stats, "verify_memory_bytes"),
		.scan = stats_value(test, stats, "scan_memory_bytes"),
		.io = stats_value(test, stats, "io_memory_bytes"),
	};
	kunit_kfree(test, stats);
	KUNIT_EXPECT_EQ_MSG(test, r.total, r.index + r.posts + r.verify + r.scan + r.io,
			    "memory_bytes is not the sum of its parts");
	return r;
}

/*
 * Free pages, with the per-CPU lists drained so that none hide there, and
 * the pages of slab (large kmalloc()s included).
 */
struct page_count {
	unsigned long free;
	unsigned long slab;
};

static struct page_count pages_now(void)
{
	drain_all_pages(NULL);
	return (struct page_count) {
		.free = global_zone_page_state(NR_FREE_PAGES),
		.slab = global_node_page_state_pages(NR_SLAB_UNRECLAIMABLE_B) +
			global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B),
	};
}

/*
 * Bytes of the pages taken from @from to @to but not by slab, or 0 if
 * more came back. Slab is left out as KASAN's quarantine holds freed slab
 * objects, and gives a batch of them back whenever it is full, at any
 * allocation: pages that move between slab and free by themselves.
 */
static u64 bytes_taken_not_slab(struct page_count from, struct page_count to)
{
	long pages = (long)(from.free - to.free) - (long)(to.slab - from.slab);

	return pages > 0 ? (u64)pages << PAGE_SHIFT : 0;
}

/*
 * The scanner is memory the table holds while its scan reads, and only
 * then. While a write in flight holds the scan at its first chunk (so
 * that nothing moves while it is measured), stats reports what the
 * scanner took from the page allocator, within a quarter, and
 * memory_bytes counts it. Once the scan is done, stats reports no
 * scanner, with no suspend (the scanner is freed before the scan reports
 * itself done), and its pages are back: the scan keeps less than half of
 * what it held, where it would keep all of it were the scanner not freed.
 *
 * Slab is left out of what is measured (see bytes_taken_not_slab(); the
 * index's saves at the scan's tenths and end leave about 190 KiB of it
 * in the quarantine per save on UML). What the scan takes is then its
 * 2 MiB of data pages (the report adds the chunks' posts, 2 x 64 KiB of
 * large kmalloc(), which counts as slab), the stack of its thread, which
 * is not reported, and what the other CPU takes or gives back meanwhile:
 * UML took the 2048 KiB of data pages exactly, x86_64 1944 to 2208 KiB in
 * thirteen runs, and kept up to 556 KiB once done (the thread, which
 * lingers until stopped, what the index cached, the other CPU).
 *
 * A scan of the same range runs first, so that the saves the measured
 * one makes land on blocks of the index's RAM disk that already have
 * their pages; "scan stop" then ends its thread, so that the stack it
 * gives back is not counted against the measured scan.
 */
static void scan_holds_its_memory_only_while_reading(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct memory_report idle, held, done;
	struct page_count before, during, after;
	char word[] = "scan", stop[] = "stop";
	u64 took, kept;
	struct bio write;
	char *argv[2];
	int epoch;

	scan(test, f, 0, 2 * DDI_SCAN_CHUNK_BLOCKS);
	KUNIT_ASSERT_TRUE(test, scan_done(f));
	idle = memory_report(test, f);
	KUNIT_EXPECT_EQ_MSG(test, 0ULL, idle.scan, "a scan that is done holds its scanner");
	argv[0] = word;
	argv[1] = stop;
	KUNIT_ASSERT_EQ(test, 0, ddi_target_scan_message(f->target, 2, argv));
	KUNIT_EXPECT_EQ(test, DDI_SCAN_DONE, progress(f).phase);
	idle = memory_report(test, f);
	KUNIT_EXPECT_EQ(test, 0ULL, idle.scan);

	before = pages_now();
	write_bio(&write, 5);
	epoch = ddi_target_scan_map(f->target, &write);
	KUNIT_ASSERT_GE(test, epoch, 0);
	scan(test, f, 0, 2 * DDI_SCAN_CHUNK_BLOCKS);
	during = pages_now();
	held = memory_report(test, f);
	KUNIT_EXPECT_EQ(test, DDI_SCAN_RUNNING, progress(f).phase);
	KUNIT_EXPECT_EQ(test, 0ULL, progress(f).done);
	ddi_target_scan_end_io(f->target, epoch);
	KUNIT_ASSERT_TRUE(test, scan_done(f));
	done = memory_report(test, f);
	after = pages_now();

	took = bytes_taken_not_slab(before, during);
	kept = bytes_taken_not_slab(before, after);
	kunit_info(test, "scanner: stats says %llu KiB, the scan took %llu KiB of pages besides slab and kept %llu KiB once done; memory_bytes %llu KiB while scanning, %llu KiB once done\n",
		   held.scan >> 10, took >> 10, kept >> 10, held.total >> 10, done.total >> 10);
	/* Two chunks of 1 MiB at the least. */
	KUNIT_EXPECT_GE(test, held.scan, 2ULL * DDI_SCAN_CHUNK_BLOCKS * DDI_BLOCK_SIZE);
	KUNIT_EXPECT_LE(test, took, held.scan + held.scan / 4);
	KUNIT_EXPECT_GE(test, took + held.scan / 4, held.scan);
	KUNIT_EXPECT_EQ(test, held.total, idle.total + held.scan);
	KUNIT_EXPECT_EQ_MSG(test, 0ULL, done.scan, "a scan that is done holds its scanner");
	KUNIT_EXPECT_EQ(test, done.total, idle.total);
	KUNIT_EXPECT_LE_MSG(test, kept, held.scan / 2, "the scanner's pages are not back");
}

static struct kunit_case scan_cases[] = {
	KUNIT_CASE(scan_waits_for_writes_and_leaves_their_blocks),
	KUNIT_CASE_SLOW(scan_under_writes_counts_every_block),
	KUNIT_CASE(scan_of_a_shared_index_runs_once),
	KUNIT_CASE(scan_holds_its_memory_only_while_reading),
	{}
};

static struct kunit_suite scan_suite = {
	.name = "dm_dedup_index_target_scan",
	.test_cases = scan_cases,
};

kunit_test_suite(scan_suite);
