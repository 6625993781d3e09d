// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole-index benchmarks: posts per second through ddi_index_launch() with
 * IN_FLIGHT requests outstanding, for new names, for half duplicates of
 * recent names, and for duplicates of names whose chapters have left the
 * page cache, each with 1, 2 and 4 zones; and the volume index's RAM per
 * record. Results are printed as "ddi-bench:" lines for scripts/bench.
 * Every post's answer is checked, so a broken index cannot pass for a fast
 * one; no time is asserted.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/llist.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "../test-util.h"
#include "index.h"

enum {
	BENCH_DISK = 0,
	/* 1040384 records in 128 chapters: 47.4 MiB of index device. */
	RECORD_PAGES = 64,
	CHAPTERS = 128,
	DISK_BYTES = 56 << 20,
	READERS = 2,
	/* Small, so that chapters older than the last few are not cached. */
	CACHE_CHAPTERS = 2,
	IN_FLIGHT = 256,
	/*
	 * Chapters' worth of posts in each timed run. A run of old duplicates
	 * posts OLD + FILLER chapters, then OLD more as the names found are
	 * refreshed: the whole run stays well inside the volume's chapters.
	 */
	NEW_CHAPTERS = 48,
	MIXED_CHAPTERS = 48,
	OLD_CHAPTERS = 32,
	FILLER_CHAPTERS = 8,
	RECORDS_PER_CHAPTER = RECORD_PAGES * DDI_RECORDS_PER_PAGE,
	/* Records, and plan entries, of the longest run. */
	MAX_RECORDS = NEW_CHAPTERS * RECORDS_PER_CHAPTER,
};

static_assert(MIXED_CHAPTERS <= NEW_CHAPTERS && OLD_CHAPTERS + FILLER_CHAPTERS <= NEW_CHAPTERS);

/* A plan entry is a record number, with this bit if it was posted before. */
#define DUPLICATE BIT(31)

static const unsigned int zone_counts[] = { 1, 2, 4 };

struct bench_run;

struct bench_slot {
	struct ddi_request request;
	struct llist_node free_node;
	struct bench_run *run;
	u32 plan_entry;
};

/* One batch of posts kept IN_FLIGHT deep, and what the answers were. */
struct bench_run {
	const struct ddi_record *records;
	struct bench_slot slots[IN_FLIGHT];
	/* Slots whose post has been answered: zone threads add, the poster takes. */
	struct llist_head free;
	wait_queue_head_t slot_wait;
	/* Posts not yet answered, plus one held by the poster until it is done. */
	atomic_t outstanding;
	struct completion done;
	/* Duplicates found with the data of their first post. */
	atomic_t found;
	/* Duplicates not found. */
	atomic_t missed;
	/* New names reported found, wrong data, or a failed request. */
	atomic_t wrong;
};

struct bench {
	struct ddi_test_disk *disk;
	struct ddi_index *index;
	struct ddi_record *records;
	u32 *plan;
	struct bench_run *run;
	struct rnd_state rnd;
};

struct bench_result {
	u32 posts;
	s64 ns;
	struct ddi_index_stats before;
	struct ddi_index_stats after;
};

static void free_vmem(void *arg)
{
	vfree(arg);
}

static void *bench_vmalloc(struct kunit *test, size_t count, size_t size)
{
	void *mem = vmalloc_array(count, size);

	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, mem));
	return mem;
}

static struct bench *bench_setup(struct kunit *test)
{
	struct bench *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->run = kunit_kzalloc(test, sizeof(*b->run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->run);
	b->disk = ddi_test_disk_open(test, BENCH_DISK, DISK_BYTES);
	b->records = bench_vmalloc(test, MAX_RECORDS, sizeof(*b->records));
	b->plan = bench_vmalloc(test, MAX_RECORDS, sizeof(*b->plan));
	ddi_test_seed(test, &b->rnd);
	ddi_test_random_records(&b->rnd, b->records, MAX_RECORDS);
	b->run->records = b->records;
	return b;
}

static void close_index(void *arg)
{
	struct bench *b = arg;

	ddi_index_close(b->index);
	b->index = NULL;
}

/* Open a fresh index with @zones zones; closed when the test ends, if not before. */
static void bench_open(struct kunit *test, struct bench *b, unsigned int zones)
{
	struct ddi_index_config config = {
		.record_pages_per_chapter = RECORD_PAGES,
		.chapters_per_volume = CHAPTERS,
		.zone_count = zones,
		.reader_count = READERS,
		.cache_chapters = CACHE_CHAPTERS,
	};

	/* A blank device, so that no earlier round's index is loaded. */
	ddi_test_disk_zero(b->disk, 0, DISK_BYTES);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(b->disk->bdev, &config, &b->index, NULL));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_index, b));
}

static void bench_close(struct kunit *test, struct bench *b)
{
	kunit_release_action(test, close_index, b);
}

/* Runs on a zone thread: check the answer, then free the slot. */
static void post_done(struct ddi_request *request)
{
	struct bench_slot *slot = container_of(request, struct bench_slot, request);
	struct bench_run *run = slot->run;
	u32 entry = slot->plan_entry;
	const struct ddi_record *record = &run->records[entry & ~DUPLICATE];

	if (request->status)
		atomic_inc(&run->wrong);
	else if (!(entry & DUPLICATE))
		atomic_add(request->found, &run->wrong);
	else if (!request->found)
		atomic_inc(&run->missed);
	else if (memcmp(&request->old_data, &record->data, sizeof(record->data)))
		atomic_inc(&run->wrong);
	else
		atomic_inc(&run->found);

	/* The poster may reuse the slot at once: nothing in it is read after this. */
	llist_add(&slot->free_node, &run->free);
	if (wq_has_sleeper(&run->slot_wait))
		wake_up(&run->slot_wait);
	if (atomic_dec_and_test(&run->outstanding))
		complete(&run->done);
}

/*
 * Post plan[0..count) in order, never more than IN_FLIGHT at a time, and
 * wait for every answer. Duplicates are posted with zeroed data, so that
 * an answer carrying the first post's data cannot come from this post.
 */
static void run_posts(struct bench *b, u32 count, struct bench_result *result)
{
	struct bench_run *run = b->run;
	ktime_t start;
	u32 i;

	init_llist_head(&run->free);
	init_waitqueue_head(&run->slot_wait);
	init_completion(&run->done);
	atomic_set(&run->outstanding, 1);
	atomic_set(&run->found, 0);
	atomic_set(&run->missed, 0);
	atomic_set(&run->wrong, 0);
	for (i = 0; i < IN_FLIGHT; i++) {
		run->slots[i].run = run;
		llist_add(&run->slots[i].free_node, &run->free);
	}

	ddi_index_get_stats(b->index, &result->before);
	start = ktime_get();
	for (i = 0; i < count; i++) {
		const struct ddi_record *record = &b->records[b->plan[i] & ~DUPLICATE];
		struct bench_slot *slot;

		wait_event(run->slot_wait, !llist_empty(&run->free));
		slot = llist_entry(llist_del_first(&run->free), struct bench_slot, free_node);
		slot->plan_entry = b->plan[i];
		slot->request = (struct ddi_request) {
			.type = DDI_POST,
			.name = record->name,
			.callback = post_done,
		};
		if (!(b->plan[i] & DUPLICATE))
			slot->request.new_data = record->data;
		atomic_inc(&run->outstanding);
		ddi_index_launch(b->index, &slot->request);
	}
	if (!atomic_dec_and_test(&run->outstanding))
		wait_for_completion(&run->done);
	result->ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	result->posts = count;
	ddi_index_get_stats(b->index, &result->after);
}

static void report(struct kunit *test, struct bench *b, const char *workload,
		   unsigned int zones, const struct bench_result *r)
{
	const struct ddi_index_stats *s0 = &r->before, *s1 = &r->after;

	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&b->run->wrong), 0, "%s zones=%u", workload,
			    zones);
	kunit_info(test, "ddi-bench: index workload=%s zones=%u posts=%u ns=%lld posts_per_sec=%llu duplicates_found=%d pages_read=%llu cache_hits=%llu cache_misses=%llu chapters_written=%llu false_hints=%llu close_wait_ms=%llu\n",
		   workload, zones, r->posts, r->ns,
		   div64_u64((u64)r->posts * NSEC_PER_SEC, max_t(s64, r->ns, 1)),
		   atomic_read(&b->run->found), s1->pages_read - s0->pages_read,
		   s1->cache_hits - s0->cache_hits, s1->cache_misses - s0->cache_misses,
		   s1->chapters_written - s0->chapters_written,
		   s1->false_hints - s0->false_hints,
		   div_u64(s1->close_wait_ns - s0->close_wait_ns, NSEC_PER_MSEC));
}

/* Post @count new names, records [first, first + count), untimed. */
static void post_new(struct kunit *test, struct bench *b, u32 first, u32 count)
{
	struct bench_result r;
	u32 i;

	for (i = 0; i < count; i++)
		b->plan[i] = first + i;
	run_posts(b, count, &r);
	KUNIT_ASSERT_EQ(test, atomic_read(&b->run->wrong), 0);
}

/* Every name new: the volume index misses and the open chapter takes it. */
static void bench_index_new_names(struct kunit *test)
{
	struct bench *b = bench_setup(test);
	u32 count = NEW_CHAPTERS * RECORDS_PER_CHAPTER;
	unsigned int n;

	for (n = 0; n < ARRAY_SIZE(zone_counts); n++) {
		struct bench_result r;
		u32 i;

		bench_open(test, b, zone_counts[n]);
		for (i = 0; i < count; i++)
			b->plan[i] = i;
		run_posts(b, count, &r);
		report(test, b, "new", zone_counts[n], &r);
		KUNIT_EXPECT_EQ(test, r.after.posts_not_found, (u64)count);
		KUNIT_EXPECT_GE(test, r.after.chapters_written, (u64)NEW_CHAPTERS - 1);
		bench_close(test, b);
	}
}

/*
 * Every other post repeats one of the last chapter's worth of new names,
 * found in the open chapter, the one being written, or a chapter just
 * written, whose index pages the cache holds.
 */
static void bench_index_recent_duplicates(struct kunit *test)
{
	struct bench *b = bench_setup(test);
	u32 count = MIXED_CHAPTERS * RECORDS_PER_CHAPTER;
	unsigned int n;

	for (n = 0; n < ARRAY_SIZE(zone_counts); n++) {
		struct bench_result r;
		u32 i, fresh = 0, duplicates = 0;

		for (i = 0; i < count; i++) {
			u32 window = min_t(u32, fresh, RECORDS_PER_CHAPTER);

			if (i % 2 == 0 || fresh == 0) {
				b->plan[i] = fresh++;
				continue;
			}
			b->plan[i] = DUPLICATE |
				     (fresh - 1 - prandom_u32_state(&b->rnd) % window);
			duplicates++;
		}
		bench_open(test, b, zone_counts[n]);
		run_posts(b, count, &r);
		report(test, b, "recent-duplicates", zone_counts[n], &r);
		KUNIT_EXPECT_EQ(test, atomic_read(&b->run->found), (int)duplicates);
		KUNIT_EXPECT_EQ(test, atomic_read(&b->run->missed), 0);
		KUNIT_EXPECT_EQ(test, r.after.posts_found, (u64)duplicates);
		bench_close(test, b);
	}
}

/*
 * OLD_CHAPTERS' worth of names, then FILLER_CHAPTERS of others so that
 * the old chapters leave the small cache, then the old names again: each
 * needs its chapter's pages read. In order, as a second copy of old data
 * would come, a chapter's pages are read once and serve the posts after;
 * shuffled, nearly every post waits for a read.
 */
static void old_duplicates(struct kunit *test, bool shuffled)
{
	const char *workload = shuffled ? "old-duplicates-shuffled" : "old-duplicates";
	struct bench *b = bench_setup(test);
	u32 old = OLD_CHAPTERS * RECORDS_PER_CHAPTER;
	unsigned int n;

	for (n = 0; n < ARRAY_SIZE(zone_counts); n++) {
		struct bench_result r;
		u32 i;

		bench_open(test, b, zone_counts[n]);
		post_new(test, b, 0, old + FILLER_CHAPTERS * RECORDS_PER_CHAPTER);

		for (i = 0; i < old; i++)
			b->plan[i] = DUPLICATE | i;
		for (i = old - 1; shuffled && i > 0; i--)
			swap(b->plan[i], b->plan[prandom_u32_state(&b->rnd) % (i + 1)]);
		run_posts(b, old, &r);
		report(test, b, workload, zone_counts[n], &r);
		KUNIT_EXPECT_EQ(test, atomic_read(&b->run->found), (int)old);
		KUNIT_EXPECT_EQ(test, atomic_read(&b->run->missed), 0);
		KUNIT_EXPECT_GT(test, r.after.pages_read, r.before.pages_read);
		bench_close(test, b);
	}
}

static void bench_index_old_duplicates(struct kunit *test)
{
	old_duplicates(test, false);
}

static void bench_index_old_duplicates_shuffled(struct kunit *test)
{
	old_duplicates(test, true);
}

/*
 * The volume index's bytes per record, and the whole index's with the
 * default cache and readers (all in, as "memory" counts, less the posts).
 */
static void report_memory(struct kunit *test, const char *how, const struct ddi_geometry *geo,
			  unsigned int zones, u64 bytes)
{
	u64 per_record_x100 = div64_u64(bytes * 100, geo->records_per_volume);
	u64 all = ddi_index_memory_bytes(geo, zones, 2, 7);
	u64 all_x100 = div64_u64(all * 100, geo->records_per_volume);

	kunit_info(test, "ddi-bench: index-memory how=%s shape=%ux%u zones=%u records_per_volume=%llu volume_index_bytes=%llu bytes_per_record=%llu.%02llu index_bytes=%llu index_bytes_per_record=%llu.%02llu\n",
		   how, geo->record_pages_per_chapter, geo->chapters_per_volume, zones,
		   geo->records_per_volume, bytes, per_record_x100 / 100, per_record_x100 % 100,
		   all, all_x100 / 100, all_x100 % 100);
}

/*
 * RAM of the volume index per record the volume holds: of an index opened
 * with the benchmark's shape, and, from the same sizing code without
 * allocating, of the shapes the memory sizes of 256 MiB and 1 GiB give.
 */
static void bench_index_memory(struct kunit *test)
{
	static const unsigned int memory_mb[] = { 256, 1024 };
	struct bench *b = bench_setup(test);
	struct ddi_geometry geo;
	unsigned int n, s;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, RECORD_PAGES, CHAPTERS));
	for (n = 0; n < ARRAY_SIZE(zone_counts); n++) {
		struct ddi_index_stats stats;

		bench_open(test, b, zone_counts[n]);
		ddi_index_get_stats(b->index, &stats);
		KUNIT_EXPECT_EQ(test, b->index->geo.records_per_volume, geo.records_per_volume);
		KUNIT_EXPECT_EQ(test, stats.volume_index_bytes,
				ddi_volume_index_memory_needed(&geo, zone_counts[n]));
		/* An entry a record at least: 8 chapter bits and a 16-bit tag. */
		KUNIT_EXPECT_GE(test, stats.volume_index_bytes, geo.records_per_volume * 3);
		report_memory(test, "opened", &geo, zone_counts[n], stats.volume_index_bytes);
		bench_close(test, b);
	}
	for (s = 0; s < ARRAY_SIZE(memory_mb); s++) {
		struct ddi_geometry big;
		u64 bytes;

		KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(memory_mb[s], false, &big));
		bytes = ddi_volume_index_memory_needed(&big, 1);
		KUNIT_EXPECT_GT(test, bytes, 0ULL);
		report_memory(test, "computed", &big, 1, bytes);
	}
}

static struct kunit_case index_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_index_new_names),
	KUNIT_CASE_SLOW(bench_index_recent_duplicates),
	KUNIT_CASE_SLOW(bench_index_old_duplicates),
	KUNIT_CASE_SLOW(bench_index_old_duplicates_shuffled),
	KUNIT_CASE_SLOW(bench_index_memory),
	{}
};

static struct kunit_suite index_bench_suite = {
	.name = "dm_dedup_index_bench_index",
	.test_cases = index_bench_cases,
};

kunit_test_suite(index_bench_suite);
