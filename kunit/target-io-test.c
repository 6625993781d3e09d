// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the write path's hashing (target-io.c): the names posted
 * are those of the blocks written, whether a write is hashed in map() or
 * in pieces on the hash workqueue, whatever its segments and alignment;
 * a write that ends before it is hashed is held (end_io is told to return
 * DM_ENDIO_INCOMPLETE) and ended again once hashed, exactly once; a write
 * that failed posts nothing and gives back what it charged. Bios are
 * built over pages of seeded random data and never submitted: the test
 * calls ddi_target_io_map_write() and ddi_target_io_end_write() as map and
 * end_io do, and asks a real index what was posted.
 *
 * On x86_64 (two CPUs, preemption, lockdep, KASAN) writers race their
 * ends against the unbound hash workqueue.
 */

#include <kunit/test.h>
#include <linux/bio.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/prandom.h>

#include "murmur3.h"
#include "target.h"
#include "test-util.h"

enum {
	INDEX_DISK = 1,
	DATA_DISK = 2,
	DISK_BYTES = 32 << 20,
	/* The most whole blocks a test write has, and its pages. */
	MAX_BLOCKS = 320,
	MAX_PAGES = MAX_BLOCKS + 2,
	MAX_SEGMENTS = 8 * MAX_PAGES,
	WRITERS = 2,
	WRITES_EACH = 24,
};

struct fixture {
	struct ddi_target *target;
	struct dm_target ti;
	struct dm_dev data;
	/* Queued ahead of the pieces on an ordered hash_wq, to hold them. */
	struct work_struct gate_work;
	struct completion gate;
};

/* Undoes as much of make_fixture() as was done. */
static void free_fixture(void *arg)
{
	struct fixture *f = arg;
	struct ddi_target *target = f->target;

	complete_all(&f->gate);
	if (target->hash_wq)
		destroy_workqueue(target->hash_wq);
	if (target->shared) {
		ddi_target_io_wait_for_posts(target);
		ddi_target_registry_put(target->shared);
	}
	if (target->verify_wq)
		destroy_workqueue(target->verify_wq);
	free_percpu(target->gather);
}

/* @ordered: a hash workqueue that runs one piece at a time, which a gate can hold. */
static struct fixture *make_fixture(struct kunit *test, bool ordered)
{
	struct ddi_test_disk *index = ddi_test_disk_open(test, INDEX_DISK, DISK_BYTES);
	struct ddi_test_disk *data = ddi_test_disk_open(test, DATA_DISK, DISK_BYTES);
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct ddi_index_storage *storage;
	struct ddi_target *target;
	char *error = NULL;

	KUNIT_ASSERT_NOT_NULL(test, f);
	target = kunit_kzalloc(test, sizeof(*target), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, target);
	f->target = target;
	init_completion(&f->gate);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_fixture, f));
	ddi_target_io_init(target);
	target->posts_limit = SZ_16M;
	target->gather = alloc_percpu(struct ddi_block_buffer);
	KUNIT_ASSERT_NOT_NULL(test, target->gather);
	if (ordered)
		target->hash_wq = alloc_ordered_workqueue("ddi-test-hash", WQ_MEM_RECLAIM);
	else
		target->hash_wq = alloc_workqueue("ddi-test-hash", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	KUNIT_ASSERT_NOT_NULL(test, target->hash_wq);
	target->verify_wq = alloc_workqueue("ddi-test-verify", WQ_UNBOUND | WQ_MEM_RECLAIM,
					    DDI_VERIFY_ACTIVE);
	KUNIT_ASSERT_NOT_NULL(test, target->verify_wq);
	f->data.bdev = data->bdev;
	strscpy(f->data.name, "ram2", sizeof(f->data.name));
	target->data = &f->data;
	KUNIT_ASSERT_EQ_MSG(test, 0, ddi_target_registry_get(index->bdev, data->bdev,
							     &ddi_test_target_config,
							     &target->shared, &storage, &error),
			    "cannot open the index: %s", error);
	target->index = ddi_target_registry_index(target->shared);
	return f;
}

static void wait_at_gate(struct work_struct *work)
{
	wait_for_completion(&container_of(work, struct fixture, gate_work)->gate);
}

/* Hold the ordered hash workqueue until open_gate(). */
static void close_gate(struct fixture *f)
{
	reinit_completion(&f->gate);
	INIT_WORK(&f->gate_work, wait_at_gate);
	queue_work(f->target->hash_wq, &f->gate_work);
}

static void open_gate(struct fixture *f)
{
	complete_all(&f->gate);
}

/*
 * A write bio over pages of random data, as map would see it: segments of
 * @segment bytes or less (none crossing a page), @bytes in all, starting
 * at sector @sector. data: the bytes in order, to name its blocks by.
 */
struct test_write {
	struct bio bio;
	/* What the target keeps in the bio's per-bio data. */
	struct ddi_write_hashing hashing;
	struct bio_vec vecs[MAX_SEGMENTS];
	struct page *pages[MAX_PAGES];
	unsigned int page_count;
	u8 *data;
	u64 sector;
	u32 bytes;
	/* Whose hashing to let finish before freeing, if a case stops early. */
	struct fixture *fixture;
	/* Times the bio was ended, and a wakeup for the first. */
	atomic_t ends;
	struct completion ended;
};

static void test_write_ended(struct bio *bio)
{
	struct test_write *w = container_of(bio, struct test_write, bio);

	atomic_inc(&w->ends);
	complete(&w->ended);
}

static void free_write(struct test_write *w)
{
	unsigned int i;

	for (i = 0; i < w->page_count; i++)
		__free_page(w->pages[i]);
	kvfree(w->data);
	kvfree(w);
}

static void free_write_action(void *arg)
{
	struct test_write *w = arg;

	open_gate(w->fixture);
	flush_workqueue(w->fixture->target->hash_wq);
	free_write(w);
}

/* Make the write's bio as map first sees it: the device moves its iterator. */
static void reset_bio(struct test_write *w, unsigned short segments)
{
	bio_init(&w->bio, NULL, w->vecs, segments, REQ_OP_WRITE);
	w->bio.bi_vcnt = segments;
	w->bio.bi_iter.bi_sector = w->sector;
	w->bio.bi_iter.bi_size = w->bytes;
	w->bio.bi_end_io = test_write_ended;
}

/*
 * Build a write of random data from @rnd, or of @data if @rnd is NULL;
 * NULL if memory is short. The caller frees it.
 */
static struct test_write *new_write(struct rnd_state *rnd, const u8 *data, u64 sector,
				    u32 bytes, u32 segment)
{
	struct test_write *w = kvzalloc(sizeof(*w), GFP_KERNEL);
	u32 done = 0, page_used = PAGE_SIZE;
	unsigned int segments = 0;

	if (!w)
		return NULL;
	w->sector = sector;
	w->bytes = bytes;
	atomic_set(&w->ends, 0);
	init_completion(&w->ended);
	w->data = kvmalloc(bytes, GFP_KERNEL);
	if (!w->data)
		goto fail;
	if (rnd)
		prandom_bytes_state(rnd, w->data, bytes);
	else
		memcpy(w->data, data, bytes);
	while (done < bytes) {
		u32 take;
		u8 *to;

		if (page_used == PAGE_SIZE) {
			if (w->page_count == MAX_PAGES)
				goto fail;
			w->pages[w->page_count] = alloc_page(GFP_KERNEL);
			if (!w->pages[w->page_count])
				goto fail;
			w->page_count++;
			page_used = 0;
		}
		take = min3(segment, bytes - done, (u32)PAGE_SIZE - page_used);
		if (segments == MAX_SEGMENTS)
			goto fail;
		bvec_set_page(&w->vecs[segments], w->pages[w->page_count - 1], take, page_used);
		to = kmap_local_page(w->pages[w->page_count - 1]);
		memcpy(to + page_used, w->data + done, take);
		kunmap_local(to);
		segments++;
		page_used += take;
		done += take;
	}
	reset_bio(w, segments);
	return w;

fail:
	free_write(w);
	return NULL;
}

/* A write from new_write(), freed when the case ends. */
static struct test_write *keep_write(struct kunit *test, struct fixture *f,
				     struct test_write *w)
{
	KUNIT_ASSERT_NOT_NULL(test, w);
	w->fixture = f;
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_write_action, w));
	return w;
}

static struct test_write *make_write(struct kunit *test, struct fixture *f,
				     struct rnd_state *rnd, u64 sector, u32 bytes, u32 segment)
{
	return keep_write(test, f, new_write(rnd, NULL, sector, bytes, segment));
}

/* The whole blocks of a write: its first and how many. */
static u32 whole_blocks(const struct test_write *w, u64 *first)
{
	u64 start = w->sector, end = w->sector + (w->bytes >> SECTOR_SHIFT);
	u64 last = end / DDI_BLOCK_SECTORS;

	*first = DIV_ROUND_UP_ULL(start, DDI_BLOCK_SECTORS);
	return last > *first ? last - *first : 0;
}

/* How many of the write's whole blocks the index knows, at their addresses. */
static u32 blocks_known(struct kunit *test, struct fixture *f, const struct test_write *w)
{
	u64 first, block;
	u32 i, count = whole_blocks(w, &first), known = 0;
	u32 skip = (first * DDI_BLOCK_SECTORS - w->sector) << SECTOR_SHIFT;

	ddi_target_io_wait_for_posts(f->target);
	for (i = 0; i < count; i++) {
		struct ddi_name name;
		bool found;

		ddi_murmur3_128(w->data + skip + i * DDI_BLOCK_SIZE, DDI_BLOCK_SIZE, 0,
				name.bytes);
		KUNIT_ASSERT_EQ(test, 0, ddi_target_io_query_name(f->target, &name, &found,
								  &block));
		if (found && block == first + i)
			known++;
	}
	return known;
}

/* Map, let the hashing finish, then end the write: it completes at once. */
static void write_hashed_first(struct kunit *test, struct fixture *f, struct test_write *w)
{
	struct ddi_write_posts *posts;

	posts = ddi_target_io_map_write(f->target, &f->ti, &w->bio, &w->hashing);
	KUNIT_ASSERT_NOT_NULL(test, posts);
	flush_workqueue(f->target->hash_wq);
	KUNIT_EXPECT_TRUE(test, ddi_target_io_end_write(posts, BLK_STS_OK));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&w->ends));
}

static void io_names_blocks_of_large_write(struct kunit *test)
{
	struct fixture *f = make_fixture(test, false);
	struct rnd_state rnd;
	struct test_write *w;

	ddi_test_seed(test, &rnd);
	/* 1 MiB in 4 KiB segments: four pieces of 64 blocks. */
	w = make_write(test, f, &rnd, 8 * 100, SZ_1M, PAGE_SIZE);
	write_hashed_first(test, f, w);
	KUNIT_EXPECT_EQ(test, 256U, blocks_known(test, f, w));
	KUNIT_EXPECT_EQ(test, 256LL, atomic64_read(&f->target->stats.blocks_indexed));
}

static void io_names_blocks_split_across_segments(struct kunit *test)
{
	static const u32 segments[] = { 512, 1536, 3000 };
	struct fixture *f = make_fixture(test, false);
	struct rnd_state rnd;
	unsigned int i;

	ddi_test_seed(test, &rnd);
	for (i = 0; i < ARRAY_SIZE(segments); i++) {
		/*
		 * Starting a sector into a block, ending 1 KiB into one: 300
		 * whole blocks, so four pieces, each starting inside a segment.
		 */
		u64 sector = 2000 * 8 * (i + 1) + 1;
		struct test_write *w = make_write(test, f, &rnd, sector,
						  7 * SECTOR_SIZE + 300 * DDI_BLOCK_SIZE + SZ_1K,
						  segments[i]);
		u64 first;

		KUNIT_ASSERT_EQ(test, 300U, whole_blocks(w, &first));
		write_hashed_first(test, f, w);
		KUNIT_EXPECT_EQ_MSG(test, 300U, blocks_known(test, f, w),
				    "segments of %u bytes", segments[i]);
	}
}

static void io_hashes_small_write_in_map(struct kunit *test)
{
	struct fixture *f = make_fixture(test, true);
	struct ddi_write_posts *posts;
	struct rnd_state rnd;
	struct test_write *w;

	ddi_test_seed(test, &rnd);
	/* With the workqueue held, a write of a few blocks needs it not. */
	close_gate(f);
	w = make_write(test, f, &rnd, 8 * 7, DDI_HASH_INLINE_BLOCKS * DDI_BLOCK_SIZE, 1536);
	posts = ddi_target_io_map_write(f->target, &f->ti, &w->bio, &w->hashing);
	KUNIT_ASSERT_NOT_NULL(test, posts);
	KUNIT_EXPECT_TRUE(test, ddi_target_io_end_write(posts, BLK_STS_OK));
	KUNIT_EXPECT_EQ(test, (u32)DDI_HASH_INLINE_BLOCKS, blocks_known(test, f, w));
	open_gate(f);
}

/*
 * map() may not wait for memory: each write is mapped with preemption
 * off, where anything that might sleep (an allocation that may reclaim,
 * a mutex) is reported by CONFIG_DEBUG_ATOMIC_SLEEP, and the runner fails
 * the run on the splat.
 */
static void io_map_never_sleeps(struct kunit *test)
{
	static const u32 blocks[] = { 1, DDI_HASH_INLINE_BLOCKS, 300 };
	struct fixture *f = make_fixture(test, false);
	struct rnd_state rnd;
	unsigned int i;

	ddi_test_seed(test, &rnd);
	for (i = 0; i < ARRAY_SIZE(blocks); i++) {
		struct test_write *w = make_write(test, f, &rnd, 8 * 3000 * (i + 1) + 3,
						  blocks[i] * DDI_BLOCK_SIZE + 5 * SECTOR_SIZE,
						  1536);
		struct ddi_write_posts *posts;
		u64 first;

		preempt_disable();
		posts = ddi_target_io_map_write(f->target, &f->ti, &w->bio, &w->hashing);
		preempt_enable();
		KUNIT_ASSERT_NOT_NULL(test, posts);
		flush_workqueue(f->target->hash_wq);
		KUNIT_EXPECT_TRUE(test, ddi_target_io_end_write(posts, BLK_STS_OK));
		KUNIT_EXPECT_EQ(test, whole_blocks(w, &first), blocks_known(test, f, w));
	}
}

static void io_holds_write_until_hashed(struct kunit *test)
{
	struct fixture *f = make_fixture(test, true);
	struct ddi_write_posts *posts;
	struct rnd_state rnd;
	struct test_write *w;

	ddi_test_seed(test, &rnd);
	close_gate(f);
	w = make_write(test, f, &rnd, 8 * 500, (DDI_HASH_INLINE_BLOCKS + 1) * DDI_BLOCK_SIZE,
		       PAGE_SIZE);
	posts = ddi_target_io_map_write(f->target, &f->ti, &w->bio, &w->hashing);
	KUNIT_ASSERT_NOT_NULL(test, posts);
	/* The write is done before its hashing: end_io must hold it. */
	KUNIT_EXPECT_FALSE(test, ddi_target_io_end_write(posts, BLK_STS_OK));
	msleep(20);
	KUNIT_EXPECT_EQ_MSG(test, 0, atomic_read(&w->ends), "ended before it was hashed");
	KUNIT_EXPECT_EQ(test, 0LL, atomic64_read(&f->target->stats.blocks_indexed));
	open_gate(f);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&w->ended, 10 * HZ), 0UL);
	flush_workqueue(f->target->hash_wq);
	KUNIT_EXPECT_EQ(test, 1, atomic_read(&w->ends));
	KUNIT_EXPECT_EQ(test, DDI_HASH_INLINE_BLOCKS + 1U, blocks_known(test, f, w));
}

static void io_failed_write_posts_nothing(struct kunit *test)
{
	struct fixture *f = make_fixture(test, true);
	struct ddi_write_posts *posts;
	struct test_write *held, *hashed;
	struct rnd_state rnd;

	ddi_test_seed(test, &rnd);
	/* Failing while hashed: the hashing ends it, posting nothing. */
	close_gate(f);
	held = make_write(test, f, &rnd, 8 * 1000, SZ_256K, PAGE_SIZE);
	posts = ddi_target_io_map_write(f->target, &f->ti, &held->bio, &held->hashing);
	KUNIT_ASSERT_NOT_NULL(test, posts);
	KUNIT_EXPECT_GT(test, atomic_long_read(&f->target->posts_bytes), 0L);
	KUNIT_EXPECT_FALSE(test, ddi_target_io_end_write(posts, BLK_STS_IOERR));
	open_gate(f);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&held->ended, 10 * HZ), 0UL);
	/* Failing once hashed: end_io frees its posts itself. */
	hashed = make_write(test, f, &rnd, 8 * 1200, SZ_256K, PAGE_SIZE);
	posts = ddi_target_io_map_write(f->target, &f->ti, &hashed->bio, &hashed->hashing);
	KUNIT_ASSERT_NOT_NULL(test, posts);
	flush_workqueue(f->target->hash_wq);
	KUNIT_EXPECT_TRUE(test, ddi_target_io_end_write(posts, BLK_STS_IOERR));

	KUNIT_EXPECT_EQ(test, 1, atomic_read(&held->ends));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&hashed->ends));
	KUNIT_EXPECT_EQ(test, 0U, blocks_known(test, f, held));
	KUNIT_EXPECT_EQ(test, 0U, blocks_known(test, f, hashed));
	KUNIT_EXPECT_EQ(test, 0LL, atomic64_read(&f->target->stats.blocks_indexed));
	KUNIT_EXPECT_EQ(test, 0L, atomic_long_read(&f->target->posts_bytes));
}

/* Put the write's data on the data disk, then map and end it there. */
static void write_through(struct kunit *test, struct fixture *f, struct test_write *w)
{
	bio_set_dev(&w->bio, f->data.bdev);
	KUNIT_ASSERT_EQ(test, 0, submit_bio_wait(&w->bio));
	reset_bio(w, w->bio.bi_vcnt);
	write_hashed_first(test, f, w);
	ddi_target_io_wait_for_posts(f->target);
}

static struct test_write *copy_write(struct kunit *test, struct fixture *f, const u8 *data,
				     u64 block, u32 blocks)
{
	return keep_write(test, f, new_write(NULL, data, block * DDI_BLOCK_SECTORS,
					     blocks * DDI_BLOCK_SIZE, PAGE_SIZE));
}

static void io_verify_reads_runs_of_advice(struct kunit *test)
{
	struct fixture *f = make_fixture(test, false);
	struct ddi_target_stats *stats = &f->target->stats;
	struct test_write *original, *copy, *swapped;
	struct rnd_state rnd;
	u8 *pairs;
	u32 i;

	ddi_test_seed(test, &rnd);
	f->target->config.verify = true;
	original = make_write(test, f, &rnd, 1000 * DDI_BLOCK_SECTORS, 300 * DDI_BLOCK_SIZE,
			      PAGE_SIZE);
	write_through(test, f, original);
	KUNIT_EXPECT_EQ(test, 0LL, atomic64_read(&stats->duplicate_advice));
	/* Block 70 changes behind the index's back: its advice is stale. */
	ddi_test_disk_poke(test, &(struct ddi_test_disk){ .bdev = f->data.bdev },
			   (1000 + 70) * DDI_BLOCK_SIZE + 5, 0x40);

	/*
	 * A copy: advice for 300 adjacent blocks, read in runs of 64, the
	 * stale block found inside one of them.
	 */
	copy = copy_write(test, f, original->data, 3000, 300);
	write_through(test, f, copy);
	KUNIT_EXPECT_EQ(test, 300LL, atomic64_read(&stats->duplicate_advice));
	KUNIT_EXPECT_EQ(test, 299LL, atomic64_read(&stats->verified_duplicates));
	KUNIT_EXPECT_EQ(test, 1LL, atomic64_read(&stats->stale_advice));
	KUNIT_EXPECT_EQ(test, (s64)DIV_ROUND_UP(300, DDI_VERIFY_RUN_BLOCKS),
			atomic64_read(&stats->verify_reads));
	KUNIT_EXPECT_EQ(test, 300LL * DDI_BLOCK_SIZE, atomic64_read(&stats->verify_read_bytes));

	/* Blocks 1, 0, 3, 2, ...: no two advised blocks adjacent in order, one read each. */
	pairs = kunit_kmalloc(test, 8 * DDI_BLOCK_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pairs);
	for (i = 0; i < 8; i++)
		memcpy(pairs + i * DDI_BLOCK_SIZE, original->data + (i ^ 1) * DDI_BLOCK_SIZE,
		       DDI_BLOCK_SIZE);
	swapped = copy_write(test, f, pairs, 6000, 8);
	write_through(test, f, swapped);
	KUNIT_EXPECT_EQ(test, 307LL, atomic64_read(&stats->verified_duplicates));
	KUNIT_EXPECT_EQ(test, (s64)DIV_ROUND_UP(300, DDI_VERIFY_RUN_BLOCKS) + 8,
			atomic64_read(&stats->verify_reads));
	KUNIT_EXPECT_EQ(test, 0L, atomic_long_read(&f->target->posts_bytes));
}

struct writer {
	struct fixture *fixture;
	u64 seed;
	unsigned int index;
	/* Whole blocks written, writes not ended exactly once, failures to build one. */
	u64 blocks;
	unsigned int bad_ends;
	unsigned int no_memory;
	/* Writes that ended before they were hashed, and were held. */
	unsigned int held;
	/* The writer's last write, kept to ask the index about. */
	struct test_write *last;
	struct completion done;
};

/*
 * Writes of random size, alignment and segments in this writer's own
 * range, each ended after a random delay, as a device would: the ends
 * race the hashing on the workqueue.
 */
static int writer_thread(void *arg)
{
	struct writer *wr = arg;
	struct fixture *f = wr->fixture;
	struct rnd_state rnd;
	unsigned int i;

	prandom_seed_state(&rnd, wr->seed);
	for (i = 0; i < WRITES_EACH; i++) {
		u32 blocks = 1 + prandom_u32_state(&rnd) % (MAX_BLOCKS - 1);
		u32 segment = 512 * (1 + prandom_u32_state(&rnd) % 8);
		u64 sector = (wr->index * 1000000ULL + i * 400ULL) * DDI_BLOCK_SECTORS +
			     prandom_u32_state(&rnd) % 8;
		struct ddi_write_posts *posts;
		struct test_write *w;
		u64 first;
		bool ended;

		w = new_write(&rnd, NULL, sector, blocks * DDI_BLOCK_SIZE, segment);
		if (!w) {
			wr->no_memory++;
			continue;
		}
		posts = ddi_target_io_map_write(f->target, &f->ti, &w->bio, &w->hashing);
		wr->blocks += whole_blocks(w, &first);
		udelay(prandom_u32_state(&rnd) % 2000);
		ended = !posts || ddi_target_io_end_write(posts, BLK_STS_OK);
		wr->held += !ended;
		if (!ended && !wait_for_completion_timeout(&w->ended, 10 * HZ))
			wr->bad_ends++;
		/* Ended by the hashing: its part of the work is over. */
		flush_workqueue(f->target->hash_wq);
		if (atomic_read(&w->ends) != (ended ? 0 : 1))
			wr->bad_ends++;
		if (wr->last)
			free_write(wr->last);
		wr->last = w;
	}
	complete(&wr->done);
	return 0;
}

static void io_ends_race_hashing(struct kunit *test)
{
	struct fixture *f = make_fixture(test, false);
	struct writer writers[WRITERS] = {};
	u64 seed = ddi_test_base_seed(), blocks = 0;
	unsigned int i;

	kunit_info(test, "writer seed %llu (dm_dedup_index.test_seed)", seed);
	for (i = 0; i < WRITERS; i++) {
		struct task_struct *task;

		writers[i].fixture = f;
		writers[i].seed = seed + i;
		writers[i].index = i;
		init_completion(&writers[i].done);
		task = kthread_run(writer_thread, &writers[i], "ddi-test-writer%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < WRITERS; i++)
		wait_for_completion(&writers[i].done);
	for (i = 0; i < WRITERS; i++) {
		KUNIT_EXPECT_EQ(test, 0U, writers[i].bad_ends);
		KUNIT_EXPECT_EQ(test, 0U, writers[i].no_memory);
		kunit_info(test, "writer %u: %u of %u writes ended before they were hashed", i,
			   writers[i].held, WRITES_EACH);
		blocks += writers[i].blocks;
		if (writers[i].last) {
			u64 first;

			KUNIT_EXPECT_EQ(test, whole_blocks(writers[i].last, &first),
					blocks_known(test, f, writers[i].last));
			free_write(writers[i].last);
		}
	}
	ddi_target_io_wait_for_posts(f->target);
	KUNIT_EXPECT_EQ(test, blocks, (u64)atomic64_read(&f->target->stats.blocks_indexed));
	KUNIT_EXPECT_EQ(test, 0LL, atomic64_read(&f->target->stats.blocks_skipped));
	KUNIT_EXPECT_EQ(test, 0L, atomic_long_read(&f->target->posts_bytes));
}

static struct kunit_case target_io_cases[] = {
	KUNIT_CASE(io_names_blocks_of_large_write),
	KUNIT_CASE(io_names_blocks_split_across_segments),
	KUNIT_CASE(io_hashes_small_write_in_map),
	KUNIT_CASE(io_map_never_sleeps),
	KUNIT_CASE(io_holds_write_until_hashed),
	KUNIT_CASE(io_failed_write_posts_nothing),
	KUNIT_CASE(io_verify_reads_runs_of_advice),
	KUNIT_CASE(io_ends_race_hashing),
	{}
};

static struct kunit_suite target_io_suite = {
	.name = "dm_dedup_index_target_io",
	.test_cases = target_io_cases,
};

kunit_test_suite(target_io_suite);
