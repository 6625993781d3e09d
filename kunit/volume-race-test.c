// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the volume under concurrency: zone threads searching the
 * lock-free page cache while reader threads fill and evict it and chapters
 * are forgotten, and the bounded read queue filling up and draining.
 *
 * On UML these run on one CPU without preemption; the x86_64 run under
 * qemu with two CPUs and PREEMPT is where the races are real.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/vmalloc.h>

#include "test-util.h"

struct race {
	struct kunit *test;
	struct ddi_geometry geo;
	struct ddi_volume *volume;
	struct ddi_test_zone zones[DDI_MAX_ZONES];
	struct ddi_record *records;
	u32 chapters;
	unsigned int zone_count;
	u32 passes;
	/* Filled in by the zone threads; checked by the test afterwards. */
	atomic_t searches;
	atomic_t wrong;
	atomic_t missing;
	atomic_t errors;
	atomic_t zones_done;
	atomic_t queued;
	bool stop_forgetting;
};

struct zone_thread {
	struct race *race;
	unsigned int zone;
	struct completion done;
};

static void free_vmem(void *arg)
{
	vfree(arg);
}

static struct race *race_setup(struct kunit *test, u32 record_pages, u32 chapters,
			       unsigned int zones, unsigned int readers, u32 cache_chapters)
{
	struct race *race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
	struct ddi_volume_config config;
	struct ddi_test_disk *disk;
	struct rnd_state rnd;
	u32 c;

	KUNIT_ASSERT_NOT_NULL(test, race);
	race->test = test;
	race->chapters = chapters;
	race->zone_count = zones;
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&race->geo, record_pages, chapters));
	disk = ddi_test_disk_open(test, 2, race->geo.bytes_per_volume);
	ddi_test_zones_init(race->zones, DDI_MAX_ZONES);
	config = (struct ddi_volume_config) {
		.zone_count = zones,
		.reader_count = readers,
		.cache_chapters = cache_chapters,
		.nonce = get_random_u64(),
		.requeue = ddi_test_requeue,
		.requeue_context = race->zones,
	};
	race->volume = ddi_test_volume_create(test, &race->geo, disk, &config);

	race->records = vmalloc_array((size_t)chapters * race->geo.records_per_chapter,
				      sizeof(*race->records));
	KUNIT_ASSERT_NOT_NULL(test, race->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, race->records));
	ddi_test_seed(test, &rnd);
	ddi_test_random_records(&rnd, race->records, chapters * race->geo.records_per_chapter);
	for (c = 0; c < chapters; c++)
		ddi_test_write_chapter(test, race->volume, c,
				       &race->records[c * race->geo.records_per_chapter],
				       race->geo.records_per_chapter);
	return race;
}

static void check_result(struct race *race, struct ddi_test_request *tr)
{
	const struct ddi_record *record = &race->records[tr->record];

	atomic_inc(&race->searches);
	if (tr->request.status)
		atomic_inc(&race->errors);
	else if (!tr->request.found)
		atomic_inc(&race->missing);
	else if (memcmp(&tr->request.old_data, &record->data, sizeof(record->data)))
		atomic_inc(&race->wrong);
}

/* Run one search step; true if the request is finished. */
static bool step(struct race *race, struct ddi_test_request *tr)
{
	int ret;

	if (tr->request.status)
		return true;
	ret = ddi_volume_search(race->volume, &tr->request);
	if (ret == DDI_QUEUED)
		return false;
	if (ret < 0)
		tr->request.status = ret;
	return true;
}

enum { IN_FLIGHT = 8 };

/*
 * A zone thread: keeps up to IN_FLIGHT searches going for the records
 * of its zone, resuming the ones the readers hand back.
 */
static int zone_thread_fn(void *arg)
{
	struct zone_thread *zt = arg;
	struct race *race = zt->race;
	struct ddi_test_zone *zone = &race->zones[zt->zone];
	u32 per_chapter = race->geo.records_per_chapter;
	u32 total = race->chapters * per_chapter;
	struct ddi_test_request *slots;
	u32 next = zt->zone, pass = 0;
	unsigned int busy = 0, i;

	slots = kcalloc(IN_FLIGHT, sizeof(*slots), GFP_KERNEL);
	if (!slots)
		goto out;
	for (i = 0; i < IN_FLIGHT; i++)
		slots[i].record = U32_MAX;

	for (;;) {
		struct ddi_test_request *tr;

		/* Start new searches in free slots. */
		for (i = 0; i < IN_FLIGHT && pass < race->passes; i++) {
			if (slots[i].record != U32_MAX)
				continue;
			tr = &slots[i];
			ddi_test_request_init(tr, &race->records[next], next, next / per_chapter,
					      zt->zone);
			next += race->zone_count * 3;
			if (next >= total) {
				pass++;
				next = zt->zone + pass % 3 * race->zone_count;
			}
			busy++;
			if (step(race, tr)) {
				check_result(race, tr);
				tr->record = U32_MAX;
				busy--;
			} else {
				atomic_inc(&race->queued);
			}
		}
		if (busy == 0 && pass >= race->passes)
			break;

		/* Resume requests the readers have handed back. */
		wait_event(zone->wait, !list_empty_careful(&zone->requeued) ||
			   (busy < IN_FLIGHT && pass < race->passes));
		while ((tr = ddi_test_zone_pop(zone))) {
			if (step(race, tr)) {
				check_result(race, tr);
				tr->record = U32_MAX;
				busy--;
			}
		}
	}
	kfree(slots);
out:
	atomic_inc(&race->zones_done);
	complete(&zt->done);
	return 0;
}

static void race_zones_readers_and_forgetting(struct kunit *test)
{
	struct race *race = race_setup(test, 4, 24, 4, 2, 1);
	struct zone_thread *threads;
	struct rnd_state rnd;
	unsigned int z;
	u32 forgets = 0;

	race->passes = 3;
	threads = kunit_kcalloc(test, race->zone_count, sizeof(*threads), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	for (z = 0; z < race->zone_count; z++) {
		struct task_struct *task;

		threads[z].race = race;
		threads[z].zone = z;
		init_completion(&threads[z].done);
		task = kthread_run(zone_thread_fn, &threads[z], "ddi-test-zone/%u", z);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}

	/* Forget chapters at random while the zones search them. */
	ddi_test_seed(test, &rnd);
	while (atomic_read(&race->zones_done) < race->zone_count) {
		ddi_volume_forget_chapter(race->volume, prandom_u32_state(&rnd) % race->chapters);
		forgets++;
		usleep_range(50, 200);
	}
	for (z = 0; z < race->zone_count; z++)
		wait_for_completion(&threads[z].done);

	kunit_info(test, "%d searches, %d queued, %u chapters forgotten",
		   atomic_read(&race->searches), atomic_read(&race->queued), forgets);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&race->wrong));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&race->missing));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&race->errors));
	KUNIT_EXPECT_GT(test, atomic_read(&race->queued), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&race->searches), 1000);
}

/* A zone thread that queues one request per record page, in order. */
struct filler {
	struct race *race;
	struct ddi_test_request *requests;
	u32 count;
	atomic_t queued;
	struct completion done;
};

static int filler_fn(void *arg)
{
	struct filler *filler = arg;
	struct race *race = filler->race;
	const struct ddi_geometry *geo = &race->geo;
	u32 i;

	for (i = 0; i < filler->count; i++) {
		struct ddi_test_request *tr = &filler->requests[i];
		u32 chapter = i / geo->record_pages_per_chapter;
		u32 page = i % geo->record_pages_per_chapter;
		u32 record = chapter * geo->records_per_chapter + page * geo->records_per_page;

		ddi_test_request_init(tr, &race->records[record], record, chapter, 0);
		tr->request.priv.stage = DDI_STAGE_RECORD_PAGE_KNOWN;
		tr->request.priv.record_page = page;
		if (ddi_volume_search(race->volume, &tr->request) == DDI_QUEUED)
			atomic_inc(&filler->queued);
	}
	complete(&filler->done);
	return 0;
}

static void race_full_read_queue_waits_then_drains(struct kunit *test)
{
	struct race *race = race_setup(test, 32, 130, 1, 2, 1);
	struct ddi_volume_stats stats;
	struct ddi_test_request *tr;
	struct filler *filler;
	struct task_struct *task;
	u32 answered = 0, i;

	filler = kunit_kzalloc(test, sizeof(*filler), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, filler);
	filler->race = race;
	filler->count = race->chapters * race->geo.record_pages_per_chapter;
	KUNIT_ASSERT_GT(test, filler->count, (u32)DDI_READ_QUEUE_SIZE);
	filler->requests = vcalloc(filler->count, sizeof(*filler->requests));
	KUNIT_ASSERT_NOT_NULL(test, filler->requests);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, filler->requests));
	init_completion(&filler->done);

	/* With no reader running, every distinct page takes a queue entry. */
	ddi_volume_readers_stop(race->volume);
	task = kthread_run(filler_fn, filler, "ddi-test-filler");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));

	/* The queue keeps one entry free: 4095 reads fit, the next one waits. */
	for (i = 0; i < 10000 && !atomic64_read(&race->volume->read_queue_full_waits); i++)
		msleep(20);
	KUNIT_ASSERT_EQ(test, 1LL, atomic64_read(&race->volume->read_queue_full_waits));
	KUNIT_EXPECT_EQ(test, DDI_READ_QUEUE_SIZE - 1, atomic_read(&filler->queued));
	KUNIT_EXPECT_FALSE(test, completion_done(&filler->done));

	KUNIT_ASSERT_EQ(test, 0, ddi_volume_readers_start(race->volume));
	wait_for_completion(&filler->done);
	KUNIT_EXPECT_EQ(test, filler->count, (u32)atomic_read(&filler->queued));

	/* Every request comes back, its record page searched by a reader. */
	while (answered < filler->count) {
		wait_event(race->zones[0].wait, !list_empty_careful(&race->zones[0].requeued));
		while ((tr = ddi_test_zone_pop(&race->zones[0]))) {
			KUNIT_EXPECT_EQ(test, 0, tr->request.status);
			KUNIT_EXPECT_EQ(test, DDI_STAGE_RECORD_PAGE_SEARCHED,
					tr->request.priv.stage);
			KUNIT_EXPECT_EQ(test, 0, ddi_volume_search(race->volume, &tr->request));
			check_result(race, tr);
			answered++;
		}
	}
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&race->wrong) + atomic_read(&race->missing) +
			atomic_read(&race->errors));
	ddi_volume_get_stats(race->volume, &stats);
	KUNIT_EXPECT_EQ(test, (u64)filler->count, stats.pages_read);
}

static void race_forgotten_queued_reads_requeue_unread(struct kunit *test)
{
	struct race *race = race_setup(test, 4, 8, 1, 2, 2);
	const struct ddi_geometry *geo = &race->geo;
	struct ddi_test_request *requests, *tr;
	struct ddi_volume_stats stats;
	u32 count = 2 * geo->record_pages_per_chapter;
	u32 i, back = 0;

	requests = kunit_kcalloc(test, count, sizeof(*requests), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, requests);
	ddi_volume_readers_stop(race->volume);

	/* Two requests for each record page of chapter 3: one entry per page. */
	for (i = 0; i < count; i++) {
		u32 page = i % geo->record_pages_per_chapter;
		u32 record = 3 * geo->records_per_chapter + page * geo->records_per_page + i / 4;

		tr = &requests[i];
		ddi_test_request_init(tr, &race->records[record], record, 3, 0);
		tr->request.priv.stage = DDI_STAGE_RECORD_PAGE_KNOWN;
		tr->request.priv.record_page = page;
		KUNIT_ASSERT_EQ(test, DDI_QUEUED, ddi_volume_search(race->volume, &tr->request));
	}
	KUNIT_EXPECT_EQ(test, (u16)geo->record_pages_per_chapter,
			race->volume->cache.read_queue_last);

	ddi_volume_forget_chapter(race->volume, 3);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_readers_start(race->volume));
	while (back < count) {
		wait_event(race->zones[0].wait, !list_empty_careful(&race->zones[0].requeued));
		while ((tr = ddi_test_zone_pop(&race->zones[0]))) {
			/* Handed back unread: still waiting for its record page. */
			KUNIT_EXPECT_EQ(test, DDI_STAGE_RECORD_PAGE_KNOWN, tr->request.priv.stage);
			KUNIT_EXPECT_TRUE(test, tr->request.priv.requeued);
			back++;
		}
	}
	ddi_volume_get_stats(race->volume, &stats);
	KUNIT_EXPECT_EQ(test, 0ULL, stats.pages_read);

	/* Searching again reads the pages and finds every record. */
	for (i = 0; i < count; i++) {
		tr = &requests[i];
		while (ddi_volume_search(race->volume, &tr->request) == DDI_QUEUED) {
			wait_event(race->zones[0].wait,
				   !list_empty_careful(&race->zones[0].requeued));
			KUNIT_ASSERT_PTR_EQ(test, tr, ddi_test_zone_pop(&race->zones[0]));
		}
		check_result(race, tr);
	}
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&race->wrong) + atomic_read(&race->missing) +
			atomic_read(&race->errors));
}

/*
 * Rewriting the oldest chapter while zones search it. Records are made
 * from (seed, vcn, record) alone, so any thread can tell what a chapter
 * holds without sharing a buffer with the writer.
 */
enum {
	REWRITE_CHAPTERS = 3,
	REWRITE_SEARCHERS = 2,
	REWRITE_ITERATIONS = 1000,
	/* The verifying (writing) thread searches as this zone. */
	REWRITE_CHECK_ZONE = REWRITE_SEARCHERS,
};

struct rewrite {
	struct race *race;
	u64 seed;
	/* The chapter the searchers look in: the next one to be overwritten. */
	u64 target;
	bool stop;
	atomic_t searches;
	atomic_t found;
	atomic_t wrong;
	atomic_t errors;
	atomic_t queued;
};

struct rewrite_request {
	struct ddi_test_request tr;
	struct ddi_data expected;
	bool busy;
};

struct searcher {
	struct rewrite *rw;
	unsigned int zone;
	struct completion done;
};

static void rewrite_record(const struct rewrite *rw, u64 vcn, u32 i, struct ddi_record *record)
{
	struct rnd_state rnd;

	prandom_seed_state(&rnd, rw->seed + vcn * rw->race->geo.records_per_chapter + i);
	ddi_test_random_records(&rnd, record, 1);
}

static void rewrite_chapter(struct kunit *test, struct rewrite *rw,
			    struct ddi_open_chapter_index *oci, struct ddi_record *records,
			    u64 vcn)
{
	const struct ddi_geometry *geo = &rw->race->geo;
	u32 i;

	ddi_open_chapter_index_reset(oci, vcn);
	for (i = 0; i < geo->records_per_chapter; i++) {
		rewrite_record(rw, vcn, i, &records[i]);
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_put(oci, &records[i].name,
								    i / geo->records_per_page));
	}
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_write_chapter(rw->race->volume, oci, records,
							  geo->records_per_chapter));
}

static void rewrite_done(struct rewrite *rw, struct rewrite_request *rr)
{
	const struct ddi_request *request = &rr->tr.request;

	atomic_inc(&rw->searches);
	if (request->status)
		atomic_inc(&rw->errors);
	else if (request->found && memcmp(&request->old_data, &rr->expected,
					  sizeof(rr->expected)))
		atomic_inc(&rw->wrong);
	else if (request->found)
		atomic_inc(&rw->found);
	rr->busy = false;
}

/*
 * A zone that keeps IN_FLIGHT searches of the target chapter going and,
 * unlike the index's zones, searches again every request handed back, in
 * or out of the window: the volume alone must keep a chapter being
 * overwritten out of the cache.
 */
static int rewrite_searcher_fn(void *arg)
{
	struct searcher *s = arg;
	struct rewrite *rw = s->rw;
	struct race *race = rw->race;
	struct ddi_test_zone *zone = &race->zones[s->zone];
	u32 per_chapter = race->geo.records_per_chapter;
	struct rewrite_request *slots;
	struct ddi_test_request *tr;
	struct rnd_state rnd;
	unsigned int busy = 0, i;

	slots = kcalloc(IN_FLIGHT, sizeof(*slots), GFP_KERNEL);
	if (!slots) {
		atomic_inc(&rw->errors);
		goto out;
	}
	prandom_seed_state(&rnd, rw->seed ^ s->zone);
	for (;;) {
		bool stop = READ_ONCE(rw->stop);

		for (i = 0; i < IN_FLIGHT && !stop; i++) {
			struct rewrite_request *rr = &slots[i];
			u64 vcn = READ_ONCE(rw->target);
			u32 r = prandom_u32_state(&rnd) % per_chapter;
			struct ddi_record record;

			if (rr->busy)
				continue;
			rewrite_record(rw, vcn, r, &record);
			ddi_test_request_init(&rr->tr, &record, r, vcn, s->zone);
			rr->expected = record.data;
			rr->busy = true;
			busy++;
			if (step(race, &rr->tr)) {
				rewrite_done(rw, rr);
				busy--;
			} else {
				atomic_inc(&rw->queued);
			}
		}
		if (stop && busy == 0)
			break;
		/*
		 * All answered from the cache: let the writer run (UML does
		 * not preempt). Otherwise wait for a request to come back.
		 */
		if (busy == 0)
			usleep_range(10, 20);
		else
			wait_event(zone->wait, !list_empty_careful(&zone->requeued));
		while ((tr = ddi_test_zone_pop(zone))) {
			struct rewrite_request *rr = container_of(tr, struct rewrite_request, tr);

			if (step(race, tr)) {
				rewrite_done(rw, rr);
				busy--;
			}
		}
	}
	kfree(slots);
out:
	complete(&s->done);
	return 0;
}

/* Search @vcn for its record @i as a zone would, waiting for the readers. */
static int rewrite_search(struct rewrite *rw, u64 vcn, u32 i, bool *found)
{
	struct ddi_test_zone *zone = &rw->race->zones[REWRITE_CHECK_ZONE];
	struct ddi_record record;
	struct ddi_test_request tr;
	int ret;

	rewrite_record(rw, vcn, i, &record);
	ddi_test_request_init(&tr, &record, i, vcn, REWRITE_CHECK_ZONE);
	while ((ret = ddi_volume_search(rw->race->volume, &tr.request)) == DDI_QUEUED) {
		wait_event(zone->wait, !list_empty_careful(&zone->requeued));
		if (ddi_test_zone_pop(zone) != &tr)
			return -EPROTO;
		if (tr.request.status)
			return tr.request.status;
	}
	*found = !ret && tr.request.found &&
		 !memcmp(&tr.request.old_data, &record.data, sizeof(record.data));
	return ret;
}

/* Give readers and zones a chance to run between forgetting and writing. */
static void rewrite_pause(struct ddi_volume *volume)
{
	usleep_range(20, 40);
}

static void race_rewrite_oldest_while_searched(struct kunit *test)
{
	struct race *race = race_setup(test, 4, REWRITE_CHAPTERS, REWRITE_SEARCHERS + 1, 2, 2);
	const struct ddi_geometry *geo = &race->geo;
	struct ddi_open_chapter_index *oci;
	struct ddi_volume_stats stats;
	struct ddi_record *records;
	struct searcher *searchers;
	struct rewrite *rw;
	u32 missed = 0, checked = 0, i;
	unsigned int z;
	u64 vcn;

	rw = kunit_kzalloc(test, sizeof(*rw), GFP_KERNEL);
	searchers = kunit_kcalloc(test, REWRITE_SEARCHERS, sizeof(*searchers), GFP_KERNEL);
	records = kunit_kmalloc_array(test, geo->records_per_chapter, sizeof(*records),
				      GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rw);
	KUNIT_ASSERT_NOT_NULL(test, searchers);
	KUNIT_ASSERT_NOT_NULL(test, records);
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_create(geo, &oci));
	rw->race = race;
	rw->seed = ddi_test_base_seed();
	kunit_info(test, "record seed %llu (dm_dedup_index.test_seed)", rw->seed);

	/* Chapters 0..2 again, made of records the searchers can recompute. */
	for (vcn = 0; vcn < REWRITE_CHAPTERS; vcn++)
		rewrite_chapter(test, rw, oci, records, vcn);
	race->volume->write_pause_hook = rewrite_pause;

	for (z = 0; z < REWRITE_SEARCHERS; z++) {
		struct task_struct *task;

		searchers[z].rw = rw;
		searchers[z].zone = z;
		init_completion(&searchers[z].done);
		task = kthread_run(rewrite_searcher_fn, &searchers[z], "ddi-test-rw/%u", z);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}

	for (vcn = REWRITE_CHAPTERS; vcn < REWRITE_CHAPTERS + REWRITE_ITERATIONS; vcn++) {
		/* The searchers are on the chapter this write overwrites. */
		rewrite_chapter(test, rw, oci, records, vcn);
		WRITE_ONCE(rw->target, vcn + 1 - REWRITE_CHAPTERS);
		/* One name of every record page and a few more of the new chapter. */
		for (i = vcn % 7; i < geo->records_per_chapter; i += 7) {
			bool found = false;

			KUNIT_ASSERT_EQ(test, 0, rewrite_search(rw, vcn, i, &found));
			checked++;
			if (!found)
				missed++;
		}
	}
	WRITE_ONCE(rw->stop, true);
	for (z = 0; z < REWRITE_SEARCHERS; z++) {
		wake_up(&race->zones[z].wait);
		wait_for_completion(&searchers[z].done);
	}
	ddi_open_chapter_index_free(oci);

	ddi_volume_get_stats(race->volume, &stats);
	kunit_info(test, "%d searches of the oldest chapter (%d queued, %d found), %u of %u new names missed, %llu corrupt pages, %llu cached pages overwritten",
		   atomic_read(&rw->searches), atomic_read(&rw->queued), atomic_read(&rw->found),
		   missed, checked, stats.corrupt_pages,
		   atomic64_read(&race->volume->cached_pages_overwritten));
	KUNIT_EXPECT_EQ(test, 0U, missed);
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&rw->wrong));
	KUNIT_EXPECT_EQ(test, 0, atomic_read(&rw->errors));
	KUNIT_EXPECT_EQ(test, 0ULL, stats.corrupt_pages);
	KUNIT_EXPECT_EQ(test, 0LL, atomic64_read(&race->volume->cached_pages_overwritten));
	KUNIT_EXPECT_GT(test, atomic_read(&rw->queued), 0);
}

static struct kunit_case race_cases[] = {
	KUNIT_CASE_SLOW(race_zones_readers_and_forgetting),
	KUNIT_CASE_SLOW(race_full_read_queue_waits_then_drains),
	KUNIT_CASE(race_forgotten_queued_reads_requeue_unread),
	KUNIT_CASE_SLOW(race_rewrite_oldest_while_searched),
	{}
};

static struct kunit_suite race_suite = {
	.name = "dm_dedup_index_volume_race",
	.test_cases = race_cases,
};

kunit_test_suite(race_suite);
