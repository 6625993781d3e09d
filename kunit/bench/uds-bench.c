// SPDX-License-Identifier: GPL-2.0-only
/*
 * This index side by side with the upstream dm-vdo indexer (UDS, in
 * drivers/md/dm-vdo/indexer/), in one boot, on one workload: NAMES random
 * names posted with IN_FLIGHT requests outstanding ("new": none is found),
 * the same names again ("repeat": all are found), then a quarter of them,
 * drawn from the first three quarters, in random order ("shuffled": all are
 * found, in chapters that have left the page cache and that span nearly
 * twice what it holds, so that most posts wait for a page read).
 *
 * UDS runs its 256 MB dense configuration, 64M records in 1024 chapters of
 * 64 record pages of 1024 records; this index runs the same window, 1024
 * chapters of 516 record pages of 127 records, with UDS's page cache of 7
 * chapters and its 2 reader threads. For 1 and 2 zones, and 4 on a kernel
 * with 4 CPUs, UDS runs, then this index on the same RAM disk, and
 * "uds-vs-ours" lines give the ratio of their posts per second.
 *
 * UDS is driven only through its public request API (indexer.h). Its
 * symbols are not exported, so the benchmark needs dm-vdo built into the
 * kernel, as kunit/bench.kunitconfig has it; otherwise the case skips. The
 * two volumes need a RAM disk of 2.7 GiB, which scripts/bench gives only to
 * this suite's own run: with smaller RAM disks the case prints a
 * "ddi-bench: uds-skipped" line and passes. Results are printed as
 * "ddi-bench: uds" lines for scripts/bench. Every answer is checked, so a
 * broken index cannot pass for a fast one; no time is asserted.
 */

#include <kunit/test.h>

#if IS_BUILTIN(CONFIG_DM_VDO) && IS_BUILTIN(CONFIG_DM_DEDUP_INDEX)

#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/dm-dedup-index.h>
#include <linux/ktime.h>
#include <linux/llist.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "../test-util.h"
#include "ip-profile.h"
/* Found through the dm-vdo folder that Kbuild adds for this file alone. */
#include "indexer/indexer.h"

enum {
	BENCH_DISK = 0,
	IN_FLIGHT = 256,
	/* 16 chapters of either index. */
	NAMES = 1 << 20,
	/*
	 * Names drawn from those of the first 12 chapters of each run, whose
	 * pages are 1.7 times what either page cache holds.
	 */
	SHUFFLED_POOL = NAMES / 4 * 3,
	SHUFFLED = NAMES / 4,
	/* This index's shape of UDS's 256 MB window: 67.1M records, what memory 256 gives. */
	OURS_RECORD_PAGES = 516,
	OURS_CHAPTERS = 1024,
	/* UDS's defaults, which its parameters do not set. */
	OURS_CACHE_CHAPTERS = 7,
	OURS_READERS = 2,
	UDS_READERS = 2,
};

static_assert(sizeof(struct uds_record_name) == sizeof(struct ddi_name));
static_assert(sizeof(struct uds_record_data) == sizeof(struct ddi_data));

/* A plan entry is a record number, with this bit if it was posted before. */
#define DUPLICATE BIT(31)

/* RAM the case needs: UDS takes 221 MB, this index a little more, one after the other. */
#define BENCH_RAM_BYTES (768ULL << 20)

enum bench_workload { WORKLOAD_NEW, WORKLOAD_REPEAT, WORKLOAD_SHUFFLED, WORKLOADS };

static const char *const workload_names[WORKLOADS] = { "new", "repeat", "shuffled" };

static const unsigned int zone_counts[] = { 1, 2, 4 };

static void zones_desc(const unsigned int *zones, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "zones %u", *zones);
}

KUNIT_ARRAY_PARAM(bench_zones, zone_counts, zones_desc);

struct bench_run;

struct bench_slot {
	union {
		struct uds_request uds;
		struct ddi_request ours;
	};
	struct llist_node free_node;
	struct bench_run *run;
	u32 plan_entry;
};

/* One batch of posts kept IN_FLIGHT deep, and what the answers were. */
struct bench_run {
	const struct ddi_record *records;
	struct bench_slot slots[IN_FLIGHT];
	/* Slots whose post has been answered: callbacks add, the poster takes. */
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

/* The index under test: a UDS session, or this index. */
struct bench {
	struct ddi_test_disk *disk;
	u64 disk_bytes;
	struct uds_index_session *session;
	struct ddi_index *index;
	struct ddi_record *records;
	u32 *plan;
	u32 *shuffled;
	struct bench_run *run;
	unsigned int zones;
};

struct bench_result {
	u32 posts;
	s64 ns;
	int found;
	u64 posts_found;
	u64 posts_not_found;
	u64 memory_bytes;
	u64 pages_read;
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

static void uds_parameters_init(struct uds_parameters *params, struct block_device *bdev,
				unsigned int zones)
{
	*params = (struct uds_parameters) {
		.bdev = bdev,
		.memory_size = UDS_MEMORY_CONFIG_256MB,
		.sparse = false,
		.zone_count = zones,
		.read_threads = UDS_READERS,
		.nonce = 0xdd1be7c4,
	};
}

static void ours_config_init(struct ddi_index_config *config, unsigned int zones)
{
	*config = (struct ddi_index_config) {
		.record_pages_per_chapter = OURS_RECORD_PAGES,
		.chapters_per_volume = OURS_CHAPTERS,
		.zone_count = zones,
		.reader_count = OURS_READERS,
		.cache_chapters = OURS_CACHE_CHAPTERS,
		.format = true,
	};
}

/*
 * The disk, the names and the plans, or NULL if the disk or the kernel is
 * too small for the two volumes (said in a "uds-skipped" line).
 */
static struct bench *bench_setup(struct kunit *test, unsigned int zones)
{
	struct bench *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct ddi_index_config config;
	struct uds_parameters params;
	struct rnd_state rnd;
	u64 uds_bytes, ours_bytes, ram;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->zones = zones;
	uds_parameters_init(&params, NULL, zones);
	KUNIT_ASSERT_EQ(test, 0, uds_compute_index_size(&params, &uds_bytes));
	ours_config_init(&config, zones);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &ours_bytes));
	kunit_info(test, "ddi-bench: uds-device zones=%u uds_bytes=%llu ours_bytes=%llu\n",
		   zones, uds_bytes, ours_bytes);
	b->disk_bytes = max(uds_bytes, ours_bytes);
	b->disk = ddi_test_disk_open(test, BENCH_DISK, 0);
	ram = (u64)totalram_pages() << PAGE_SHIFT;
	if (bdev_nr_bytes(b->disk->bdev) < b->disk_bytes || ram < BENCH_RAM_BYTES) {
		kunit_info(test, "ddi-bench: uds-skipped zones=%u device_bytes=%llu disk_bytes=%llu ram_bytes=%llu\n",
			   zones, b->disk_bytes, bdev_nr_bytes(b->disk->bdev), ram);
		return NULL;
	}

	b->run = kunit_kzalloc(test, sizeof(*b->run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->run);
	b->records = bench_vmalloc(test, NAMES, sizeof(*b->records));
	b->plan = bench_vmalloc(test, NAMES, sizeof(*b->plan));
	b->shuffled = bench_vmalloc(test, SHUFFLED, sizeof(*b->shuffled));
	ddi_test_seed(test, &rnd);
	ddi_test_random_records(&rnd, b->records, NAMES);
	/* One draw for both indexes, so that each sees the same workload. */
	for (i = 0; i < SHUFFLED_POOL; i++)
		b->plan[i] = DUPLICATE | i;
	for (i = 0; i < SHUFFLED; i++) {
		swap(b->plan[i], b->plan[i + prandom_u32_state(&rnd) % (SHUFFLED_POOL - i)]);
		b->shuffled[i] = b->plan[i];
	}
	b->run->records = b->records;
	return b;
}

static void destroy_session(void *arg)
{
	struct bench *b = arg;

	uds_destroy_index_session(b->session);
	b->session = NULL;
}

static void close_ours(void *arg)
{
	struct bench *b = arg;

	ddi_index_close(b->index);
	b->index = NULL;
}

/* Create a UDS index on the blank disk; closed when the test ends, if not before. */
static void open_uds(struct kunit *test, struct bench *b)
{
	struct uds_parameters params;

	ddi_test_disk_zero(b->disk, 0, b->disk_bytes);
	uds_parameters_init(&params, b->disk->bdev, b->zones);
	params.size = b->disk_bytes;
	KUNIT_ASSERT_EQ(test, 0, uds_create_index_session(&b->session));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, destroy_session, b));
	KUNIT_ASSERT_EQ(test, 0, uds_open_index(UDS_CREATE, &params, b->session));
}

static void close_uds(struct kunit *test, struct bench *b)
{
	KUNIT_EXPECT_EQ(test, 0, uds_close_index(b->session));
	kunit_release_action(test, destroy_session, b);
	ddi_test_disk_zero(b->disk, 0, b->disk_bytes);
}

static void open_ours(struct kunit *test, struct bench *b)
{
	struct ddi_index_config config;

	ddi_test_disk_zero(b->disk, 0, b->disk_bytes);
	ours_config_init(&config, b->zones);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(b->disk->bdev, &config, &b->index, NULL));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_ours, b));
}

static void close_ours_now(struct kunit *test, struct bench *b)
{
	kunit_release_action(test, close_ours, b);
	ddi_test_disk_zero(b->disk, 0, b->disk_bytes);
}

/*
 * Check an answer, then free its slot: on the thread of the index's
 * callback, or the poster's if the launch failed.
 */
static void post_done(struct bench_slot *slot, int status, bool found, const void *old_data)
{
	struct bench_run *run = slot->run;
	u32 entry = slot->plan_entry;
	const struct ddi_record *record = &run->records[entry & ~DUPLICATE];

	if (status)
		atomic_inc(&run->wrong);
	else if (!(entry & DUPLICATE))
		atomic_add(found, &run->wrong);
	else if (!found)
		atomic_inc(&run->missed);
	else if (memcmp(old_data, &record->data, sizeof(record->data)))
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

static void uds_post_done(struct uds_request *request)
{
	struct bench_slot *slot = container_of(request, struct bench_slot, uds);

	post_done(slot, request->status, request->found, &request->old_metadata);
}

static void ours_post_done(struct ddi_request *request)
{
	struct bench_slot *slot = container_of(request, struct bench_slot, ours);

	post_done(slot, request->status, request->found, &request->old_data);
}

/*
 * Post @record from @slot. A duplicate is posted with zeroed data, so that
 * an answer carrying the first post's data cannot come from this post.
 */
static void launch(struct bench *b, struct bench_slot *slot, const struct ddi_record *record,
		   bool duplicate)
{
	int ret;

	if (!b->session) {
		slot->ours = (struct ddi_request) {
			.type = DDI_POST,
			.name = record->name,
			.callback = ours_post_done,
		};
		if (!duplicate)
			slot->ours.new_data = record->data;
		ddi_index_launch(b->index, &slot->ours);
		return;
	}
	slot->uds = (struct uds_request) {
		.type = UDS_POST,
		.session = b->session,
		.callback = uds_post_done,
	};
	memcpy(slot->uds.record_name.name, record->name.bytes, UDS_RECORD_NAME_SIZE);
	if (!duplicate)
		memcpy(slot->uds.new_metadata.data, record->data.bytes, UDS_RECORD_DATA_SIZE);
	ret = uds_launch_request(&slot->uds);
	if (ret)
		post_done(slot, ret, false, NULL);
}

/* The index's counters: posts found and not found, memory, pages read. */
static void get_stats(struct kunit *test, struct bench *b, struct bench_result *r)
{
	if (b->session) {
		struct uds_index_stats stats;

		KUNIT_ASSERT_EQ(test, 0, uds_get_index_session_stats(b->session, &stats));
		r->posts_found = stats.posts_found;
		r->posts_not_found = stats.posts_not_found;
		r->memory_bytes = stats.memory_used;
		/* Not in UDS's public statistics. */
		r->pages_read = 0;
	} else {
		struct ddi_index_stats stats;

		ddi_index_get_stats(b->index, &stats);
		r->posts_found = stats.posts_found;
		r->posts_not_found = stats.posts_not_found;
		/* The same parts as UDS counts, and the open chapters besides. */
		r->memory_bytes = stats.memory_bytes;
		r->pages_read = stats.pages_read;
	}
}

/* Post plan[0..count) in order, never more than IN_FLIGHT at a time, and wait for every answer. */
static void run_posts(struct kunit *test, struct bench *b, const u32 *plan, u32 count,
		      struct bench_result *result)
{
	struct bench_run *run = b->run;
	struct bench_result before;
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

	get_stats(test, b, &before);
	start = ktime_get();
	for (i = 0; i < count; i++) {
		struct bench_slot *slot;

		wait_event(run->slot_wait, !llist_empty(&run->free));
		slot = llist_entry(llist_del_first(&run->free), struct bench_slot, free_node);
		slot->plan_entry = plan[i];
		atomic_inc(&run->outstanding);
		launch(b, slot, &b->records[plan[i] & ~DUPLICATE], plan[i] & DUPLICATE);
	}
	if (!atomic_dec_and_test(&run->outstanding))
		wait_for_completion(&run->done);
	result->ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	result->posts = count;
	result->found = atomic_read(&run->found);
	get_stats(test, b, result);
	result->posts_found -= before.posts_found;
	result->posts_not_found -= before.posts_not_found;
	result->pages_read -= before.pages_read;
}

static u64 posts_per_sec(const struct bench_result *r)
{
	return div64_u64((u64)r->posts * NSEC_PER_SEC, max_t(s64, r->ns, 1));
}

/* Run the three workloads on the open index, checking and reporting each. */
static void run_workloads(struct kunit *test, struct bench *b, const char *name,
			  struct bench_result *results)
{
	char label[64];
	bool profiling;
	unsigned int w;
	u32 i;

	for (i = 0; i < NAMES; i++)
		b->plan[i] = i;
	for (w = 0; w < WORKLOADS; w++) {
		struct bench_result *r = &results[w];
		const u32 *plan = w == WORKLOAD_SHUFFLED ? b->shuffled : b->plan;
		u32 count = w == WORKLOAD_SHUFFLED ? SHUFFLED : NAMES;
		int duplicates = w == WORKLOAD_NEW ? 0 : count;

		if (w == WORKLOAD_REPEAT) {
			for (i = 0; i < NAMES; i++)
				b->plan[i] = DUPLICATE | i;
		}
		profiling = ddi_bench_profile_start();
		run_posts(test, b, plan, count, r);
		if (profiling) {
			snprintf(label, sizeof(label), "index=%s workload=%s zones=%u", name,
				 workload_names[w], b->zones);
			ddi_bench_profile_stop(test, label);
		}
		kunit_info(test, "ddi-bench: uds index=%s workload=%s zones=%u posts=%u ns=%lld posts_per_sec=%llu duplicates_found=%d memory_bytes=%llu pages_read=%llu\n",
			   name, workload_names[w], b->zones, r->posts, r->ns, posts_per_sec(r),
			   r->found, r->memory_bytes, r->pages_read);
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&b->run->wrong), 0, "%s %s", name,
				    workload_names[w]);
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&b->run->missed), 0, "%s %s", name,
				    workload_names[w]);
		KUNIT_EXPECT_EQ_MSG(test, r->found, duplicates, "%s %s", name,
				    workload_names[w]);
		KUNIT_EXPECT_EQ_MSG(test, r->posts_found, (u64)duplicates, "%s %s", name,
				    workload_names[w]);
		KUNIT_EXPECT_EQ_MSG(test, r->posts_not_found, (u64)(count - duplicates), "%s %s",
				    name, workload_names[w]);
	}
}

/* UDS, then this index, on the same disk, each with @zones zones. */
static void bench_uds_side_by_side(struct kunit *test)
{
	const unsigned int *zones = test->param_value;
	struct bench_result uds[WORKLOADS], ours[WORKLOADS];
	struct bench *b;
	unsigned int w;

	/* Two zones always, to compare with one; four only on four CPUs. */
	if (*zones > 2 && *zones > num_online_cpus()) {
		kunit_info(test, "ddi-bench: uds-skipped zones=%u cpus=%u\n", *zones,
			   num_online_cpus());
		return;
	}
	b = bench_setup(test, *zones);
	if (!b)
		return;

	open_uds(test, b);
	run_workloads(test, b, "uds", uds);
	close_uds(test, b);

	open_ours(test, b);
	run_workloads(test, b, "ours", ours);
	close_ours_now(test, b);

	for (w = 0; w < WORKLOADS; w++) {
		u64 theirs = max(posts_per_sec(&uds[w]), 1ULL);
		u64 ratio = div64_u64(posts_per_sec(&ours[w]) * 100, theirs);

		kunit_info(test, "ddi-bench: uds-vs-ours workload=%s zones=%u uds_posts_per_sec=%llu ours_posts_per_sec=%llu ratio=%llu.%02llu uds_memory_bytes=%llu ours_memory_bytes=%llu\n",
			   workload_names[w], *zones, posts_per_sec(&uds[w]),
			   posts_per_sec(&ours[w]), ratio / 100, ratio % 100,
			   uds[w].memory_bytes, ours[w].memory_bytes);
	}
}

static struct kunit_case uds_bench_cases[] = {
	KUNIT_CASE_PARAM_ATTR(bench_uds_side_by_side, bench_zones_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

#else /* !(IS_BUILTIN(CONFIG_DM_VDO) && IS_BUILTIN(CONFIG_DM_DEDUP_INDEX)) */

static void bench_uds_side_by_side(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DM_VDO=y and CONFIG_DM_DEDUP_INDEX=y: UDS exports nothing");
}

static struct kunit_case uds_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_uds_side_by_side),
	{}
};

#endif

static struct kunit_suite uds_bench_suite = {
	.name = "dm_dedup_index_bench_uds",
	.test_cases = uds_bench_cases,
};

kunit_test_suite(uds_bench_suite);
