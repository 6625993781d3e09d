// SPDX-License-Identifier: GPL-2.0-only
/*
 * Target path benchmark: what a written block costs the target in all, on
 * one core: hashing it (target-io.c, in map for small writes, on the hash
 * workqueue for large ones), posting it, and the index's answer on a zone
 * thread. Writes of 8 and of 256 blocks over 64 MiB of random pages go
 * through ddi_target_io_map_write() and ddi_target_io_end_write() as map
 * and end_io call them, once as new data and once again at other blocks
 * as all duplicates; the time runs until every post is answered, and the
 * median of three runs is reported. On UML,
 * with one CPU, the blocks per second are per core: the figure to set
 * against a 7 GB/s device's 1.7M blocks/s, or 430K per core on four.
 * Results are "ddi-bench:" lines for scripts/bench; the counts of blocks
 * posted and of duplicates found are asserted, no time is.
 */

#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/vmalloc.h>

#include "../test-util.h"
#include "target.h"

enum {
	INDEX_DISK = 0,
	DATA_DISK = 1,
	DISK_BYTES = 56 << 20,
	BLOCKS = 16384,
};

static const struct ddi_index_config config = {
	.record_pages_per_chapter = 64,
	.chapters_per_volume = 128,
	.zone_count = 1,
	.reader_count = 2,
	.cache_chapters = 2,
};

static const u32 write_blocks[] = { 8, 256 };

struct bench {
	struct ddi_target target;
	struct dm_target ti;
	struct dm_dev data;
	struct page *pages[BLOCKS];
	/* One bio per write, with its vecs after all the bios. */
	struct bio *bios;
	struct bio_vec *vecs;
	/* The per-bio data of each write. */
	struct ddi_write_hashing *hashing;
	atomic_t held;
	wait_queue_head_t held_wait;
};

static void free_bench(void *arg)
{
	struct bench *b = arg;
	unsigned int i;

	if (b->target.hash_wq)
		destroy_workqueue(b->target.hash_wq);
	if (b->target.shared) {
		ddi_target_io_wait_for_posts(&b->target);
		ddi_target_registry_put(b->target.shared);
	}
	if (b->target.verify_wq)
		destroy_workqueue(b->target.verify_wq);
	free_percpu(b->target.gather);
	for (i = 0; i < BLOCKS; i++)
		if (b->pages[i])
			__free_page(b->pages[i]);
	vfree(b->bios);
	vfree(b->vecs);
	vfree(b->hashing);
	vfree(b);
}

/* A write the hashing ended, after end_io held it. */
static void bench_write_ended(struct bio *bio)
{
	struct bench *b = bio->bi_private;

	if (atomic_dec_and_test(&b->held))
		wake_up(&b->held_wait);
}

static struct bench *bench_setup(struct kunit *test)
{
	struct ddi_test_disk *index = ddi_test_disk_open(test, INDEX_DISK, DISK_BYTES);
	struct ddi_test_disk *data = ddi_test_disk_open(test, DATA_DISK, 4096);
	struct bench *b = vzalloc(sizeof(*b));
	struct ddi_index_storage *storage;
	struct rnd_state rnd;
	char *error = NULL;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_bench, b));
	ddi_test_seed(test, &rnd);
	for (i = 0; i < BLOCKS; i++) {
		void *to;

		b->pages[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, b->pages[i]);
		to = kmap_local_page(b->pages[i]);
		prandom_bytes_state(&rnd, to, PAGE_SIZE);
		kunmap_local(to);
	}
	b->bios = vcalloc(BLOCKS, sizeof(*b->bios));
	b->vecs = vcalloc(BLOCKS, sizeof(*b->vecs));
	b->hashing = vcalloc(BLOCKS, sizeof(*b->hashing));
	KUNIT_ASSERT_NOT_NULL(test, b->hashing);
	KUNIT_ASSERT_NOT_NULL(test, b->bios);
	KUNIT_ASSERT_NOT_NULL(test, b->vecs);
	init_waitqueue_head(&b->held_wait);
	ddi_target_io_init(&b->target);
	b->target.posts_limit = SZ_64M;
	b->target.gather = alloc_percpu(struct ddi_block_buffer);
	KUNIT_ASSERT_NOT_NULL(test, b->target.gather);
	b->target.hash_wq = alloc_workqueue("ddi-bench-hash", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	KUNIT_ASSERT_NOT_NULL(test, b->target.hash_wq);
	b->target.verify_wq = alloc_workqueue("ddi-bench-verify", WQ_UNBOUND | WQ_MEM_RECLAIM,
					      DDI_VERIFY_ACTIVE);
	KUNIT_ASSERT_NOT_NULL(test, b->target.verify_wq);
	b->data.bdev = data->bdev;
	b->target.data = &b->data;
	ddi_test_disk_zero(index, 0, DISK_BYTES);
	KUNIT_ASSERT_EQ_MSG(test, 0, ddi_target_registry_get(index->bdev, data->bdev, &config,
							     &b->target.shared, &storage, &error),
			    "%s", error);
	b->target.index = ddi_target_registry_index(b->target.shared);
	return b;
}

/*
 * Write all the pages in writes of @per blocks from block @first on, and
 * wait until the index has answered every post. Return: the nanoseconds.
 */
static u64 write_all(struct bench *b, u32 per, u64 first)
{
	u32 writes = BLOCKS / per, w, i;
	ktime_t start = ktime_get();

	atomic_set(&b->held, 1);
	for (w = 0; w < writes; w++) {
		struct bio *bio = &b->bios[w];
		struct bio_vec *vecs = &b->vecs[w * per];
		struct ddi_write_posts *posts;

		bio_init(bio, NULL, vecs, per, REQ_OP_WRITE);
		for (i = 0; i < per; i++)
			__bio_add_page(bio, b->pages[w * per + i], DDI_BLOCK_SIZE, 0);
		bio->bi_iter.bi_sector = (first + w * per) * DDI_BLOCK_SECTORS;
		bio->bi_end_io = bench_write_ended;
		bio->bi_private = b;
		posts = ddi_target_io_map_write(&b->target, &b->ti, bio, &b->hashing[w]);
		/* The device is done at once: only the target's work is timed. */
		atomic_inc(&b->held);
		if (!posts || ddi_target_io_end_write(posts, BLK_STS_OK))
			atomic_dec(&b->held);
	}
	if (!atomic_dec_and_test(&b->held))
		wait_event(b->held_wait, !atomic_read(&b->held));
	ddi_target_io_wait_for_posts(&b->target);
	return ktime_to_ns(ktime_sub(ktime_get(), start));
}

static void report(struct kunit *test, u32 per, const char *data, u64 ns)
{
	kunit_info(test, "ddi-bench: target-path write_blocks=%u data=%s blocks=%u ns_per_block=%llu blocks_per_s=%llu\n",
		   per, data, BLOCKS, div_u64(ns, BLOCKS),
		   div64_u64((u64)BLOCKS * NSEC_PER_SEC, max(ns, 1ULL)));
}

static u64 median3(u64 *ns)
{
	u64 lo = min(ns[0], ns[1]), hi = max(ns[0], ns[1]);

	return clamp(ns[2], lo, hi);
}

/* Each size three times on a fresh index: the median of each pass is reported. */
static void bench_target_path(struct kunit *test)
{
	unsigned int i, r;

	for (i = 0; i < ARRAY_SIZE(write_blocks); i++) {
		u32 per = write_blocks[i];
		u64 new_ns[3], dup_ns[3];

		for (r = 0; r < 3; r++) {
			struct bench *b = bench_setup(test);
			struct ddi_target_stats *stats = &b->target.stats;

			new_ns[r] = write_all(b, per, 0);
			KUNIT_EXPECT_EQ(test, (s64)BLOCKS, atomic64_read(&stats->blocks_indexed));
			KUNIT_EXPECT_EQ(test, 0LL, atomic64_read(&stats->duplicate_advice));
			dup_ns[r] = write_all(b, per, BLOCKS);
			KUNIT_EXPECT_EQ(test, 2LL * BLOCKS, atomic64_read(&stats->blocks_indexed));
			KUNIT_EXPECT_EQ(test, (s64)BLOCKS, atomic64_read(&stats->duplicate_advice));
			KUNIT_EXPECT_EQ(test, 0LL, atomic64_read(&stats->blocks_skipped));
			kunit_release_action(test, free_bench, b);
		}
		report(test, per, "new", median3(new_ns));
		report(test, per, "duplicate", median3(dup_ns));
	}
}

static struct kunit_case target_path_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_target_path),
	{}
};

static struct kunit_suite target_path_bench_suite = {
	.name = "dm_dedup_index_bench_target_path",
	.test_cases = target_path_bench_cases,
};

kunit_test_suite(target_path_bench_suite);
