// SPDX-License-Identifier: GPL-2.0-only
/*
 * Volume lookup benchmarks: cached-page lookups with 1, 2 and 4 zone
 * threads, and uncached lookups that go through the reader threads.
 * Results are printed as "ddi-bench:" lines for scripts/bench; nothing
 * here asserts a time.
 */

#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "../test-util.h"

enum {
	RECORD_PAGES = 64,
	CHAPTERS = 16,
	CACHED_LOOKUPS_PER_ZONE = 200000,
	UNCACHED_LOOKUPS = 20000,
	IN_FLIGHT = 32,
};

struct bench {
	struct ddi_geometry geo;
	struct ddi_test_disk *disk;
	struct ddi_volume *volume;
	struct ddi_test_zone zones[DDI_MAX_ZONES];
	struct ddi_record *records;
	u32 record_count;
	u32 chapters_written;
};

static void free_vmem(void *arg)
{
	vfree(arg);
}

static struct bench *bench_setup(struct kunit *test, unsigned int disk, unsigned int zones,
				 unsigned int readers, u32 cache_chapters, u32 chapters)
{
	struct bench *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct ddi_volume_config config;
	struct rnd_state rnd;
	u32 c;

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&b->geo, RECORD_PAGES, CHAPTERS));
	b->disk = ddi_test_disk_open(test, disk, b->geo.bytes_per_volume);
	ddi_test_zones_init(b->zones, DDI_MAX_ZONES);
	config = (struct ddi_volume_config) {
		.zone_count = zones,
		.reader_count = readers,
		.cache_chapters = cache_chapters,
		.nonce = get_random_u64(),
		.requeue = ddi_test_requeue,
		.requeue_context = b->zones,
	};
	b->volume = ddi_test_volume_create(test, &b->geo, b->disk, &config);
	b->record_count = chapters * b->geo.records_per_chapter;
	b->records = vmalloc_array(b->record_count, sizeof(*b->records));
	KUNIT_ASSERT_NOT_NULL(test, b->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, b->records));
	ddi_test_seed(test, &rnd);
	ddi_test_random_records(&rnd, b->records, b->record_count);
	for (c = 0; c < chapters; c++)
		ddi_test_write_chapter(test, b->volume, c,
				       &b->records[c * b->geo.records_per_chapter],
				       b->geo.records_per_chapter);
	b->chapters_written = chapters;
	return b;
}

struct cached_zone {
	struct bench *bench;
	unsigned int zone;
	unsigned int zone_count;
	atomic_t *ready;
	atomic_t *go;
	wait_queue_head_t *go_wait;
	u32 found;
	int error;
	struct completion done;
};

/* Every lookup must hit: the whole volume fits in the cache. */
static int cached_zone_fn(void *arg)
{
	struct cached_zone *cz = arg;
	struct bench *b = cz->bench;
	u32 per_chapter = b->geo.records_per_chapter;
	struct ddi_test_request tr;
	u32 i, r = cz->zone;

	atomic_inc(cz->ready);
	/*
	 * Sleep, not spin, until released: on a uniprocessor kernel without
	 * preemption (UML) a spinning thread would keep the releasing one
	 * from ever running.
	 */
	wait_event(*cz->go_wait, atomic_read(cz->go));
	for (i = 0; i < CACHED_LOOKUPS_PER_ZONE; i++) {
		ddi_test_request_init(&tr, &b->records[r], r, r / per_chapter, cz->zone);
		if (ddi_volume_search(b->volume, &tr.request)) {
			cz->error = -EAGAIN;
			break;
		}
		cz->found += tr.request.found;
		r += cz->zone_count * 7;
		if (r >= b->record_count)
			r = (r % cz->zone_count + cz->zone) % b->record_count;
	}
	complete(&cz->done);
	return 0;
}

static void bench_cached_lookups(struct kunit *test)
{
	struct bench *b = bench_setup(test, 0, 4, 2, CHAPTERS, 8);
	static const unsigned int zone_counts[] = { 1, 2, 4 };
	struct ddi_test_request tr;
	unsigned int n, z;
	u32 i;

	/* Warm the cache: one synchronous lookup per record page. */
	for (i = 0; i < b->record_count; i += b->geo.records_per_page) {
		bool found;

		KUNIT_ASSERT_EQ(test, 0, ddi_volume_search_sync(b->volume, &b->records[i].name,
								i / b->geo.records_per_chapter,
								&found, NULL));
	}
	ddi_test_request_init(&tr, &b->records[0], 0, 0, 0);

	for (n = 0; n < ARRAY_SIZE(zone_counts); n++) {
		unsigned int zones = zone_counts[n];
		struct cached_zone *cz = kunit_kcalloc(test, zones, sizeof(*cz), GFP_KERNEL);
		atomic_t ready = ATOMIC_INIT(0), go = ATOMIC_INIT(0);
		DECLARE_WAIT_QUEUE_HEAD_ONSTACK(go_wait);
		u64 found = 0, lookups = (u64)zones * CACHED_LOOKUPS_PER_ZONE;
		ktime_t start;
		s64 ns;

		KUNIT_ASSERT_NOT_NULL(test, cz);
		for (z = 0; z < zones; z++) {
			cz[z] = (struct cached_zone) { .bench = b, .zone = z, .zone_count = zones,
						       .ready = &ready, .go = &go,
						       .go_wait = &go_wait };
			init_completion(&cz[z].done);
			KUNIT_ASSERT_FALSE(test, IS_ERR(kthread_run(cached_zone_fn, &cz[z],
								    "ddi-bench/%u", z)));
		}
		while (atomic_read(&ready) < zones)
			schedule();
		start = ktime_get();
		atomic_set(&go, 1);
		wake_up_all(&go_wait);
		for (z = 0; z < zones; z++) {
			wait_for_completion(&cz[z].done);
			KUNIT_EXPECT_EQ(test, 0, cz[z].error);
			found += cz[z].found;
		}
		ns = ktime_to_ns(ktime_sub(ktime_get(), start));
		KUNIT_EXPECT_EQ(test, lookups, found);
		kunit_info(test, "ddi-bench: volume-cached zones=%u lookups=%llu ns=%lld lookups_per_sec=%llu ns_per_lookup=%llu\n",
			   zones, lookups, ns, div64_u64(lookups * NSEC_PER_SEC, max_t(s64, ns, 1)),
			   div64_u64(ns, lookups));
	}
}

/*
 * Uncached lookups from one zone thread keeping IN_FLIGHT requests queued:
 * the cache holds one chapter of record pages while the lookups spread
 * over sixteen, so nearly every lookup waits for a reader thread. A lookup
 * answered at once from the cache frees its slot for the next one, so the
 * queue stays full until all UNCACHED_LOOKUPS have been started.
 */
static void bench_uncached_lookups(struct kunit *test)
{
	static const unsigned int reader_counts[] = { 1, 2, 4 };
	unsigned int n;

	for (n = 0; n < ARRAY_SIZE(reader_counts); n++) {
		/* Disks stay open until the test ends: one RAM disk per round. */
		struct bench *b = bench_setup(test, n, 1, reader_counts[n], 1, CHAPTERS);
		struct ddi_test_request *slots, *idle[IN_FLIGHT];
		unsigned int idle_count = 0;
		struct ddi_volume_stats stats;
		struct rnd_state rnd;
		u32 started = 0, finished = 0, found = 0, i;
		ktime_t start;
		s64 ns;

		slots = kunit_kcalloc(test, IN_FLIGHT, sizeof(*slots), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, slots);
		for (i = 0; i < IN_FLIGHT; i++)
			idle[idle_count++] = &slots[i];
		prandom_seed_state(&rnd, 42);
		start = ktime_get();
		while (finished < UNCACHED_LOOKUPS) {
			struct ddi_test_request *tr;
			int ret;

			while (idle_count > 0 && started < UNCACHED_LOOKUPS) {
				u32 r = prandom_u32_state(&rnd) % b->record_count;

				tr = idle[--idle_count];
				ddi_test_request_init(tr, &b->records[r], r,
						      r / b->geo.records_per_chapter, 0);
				started++;
				ret = ddi_volume_search(b->volume, &tr->request);
				if (ret == DDI_QUEUED)
					continue;
				KUNIT_EXPECT_EQ(test, 0, ret);
				found += tr->request.found;
				finished++;
				idle[idle_count++] = tr;
			}
			if (finished == UNCACHED_LOOKUPS)
				break;

			wait_event(b->zones[0].wait,
				   !list_empty_careful(&b->zones[0].requeued));
			while ((tr = ddi_test_zone_pop(&b->zones[0]))) {
				ret = ddi_volume_search(b->volume, &tr->request);
				if (ret == DDI_QUEUED)
					continue;
				KUNIT_EXPECT_EQ(test, 0, ret);
				found += tr->request.found;
				finished++;
				idle[idle_count++] = tr;
			}
		}
		ns = ktime_to_ns(ktime_sub(ktime_get(), start));
		ddi_volume_get_stats(b->volume, &stats);
		KUNIT_EXPECT_EQ(test, started, found);
		kunit_info(test, "ddi-bench: volume-uncached readers=%u lookups=%u ns=%lld lookups_per_sec=%llu pages_read=%llu cache_hits=%llu\n",
			   reader_counts[n], started, ns,
			   div64_u64((u64)started * NSEC_PER_SEC, max_t(s64, ns, 1)),
			   stats.pages_read, stats.cache_hits);
	}
}

static struct kunit_case volume_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_cached_lookups),
	KUNIT_CASE_SLOW(bench_uncached_lookups),
	{}
};

static struct kunit_suite volume_bench_suite = {
	.name = "dm_dedup_index_bench_volume",
	.test_cases = volume_bench_cases,
};

kunit_test_suite(volume_bench_suite);
