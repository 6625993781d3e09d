// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the chapter volume store: writing chapters, finding every
 * record through index and record pages, cached and uncached, wrapping,
 * replacing storage, and refusing damaged or foreign pages.
 */

#include <kunit/test.h>
#include <linux/random.h>
#include <linux/vmalloc.h>

#include "test-util.h"

struct volume_fixture {
	struct ddi_geometry geo;
	struct ddi_test_disk *disk;
	struct ddi_volume_config config;
	struct ddi_test_zone zones[DDI_MAX_ZONES];
	struct ddi_volume *volume;
	struct rnd_state rnd;
	/* records[c * records_per_chapter + i]: record i of virtual chapter c */
	struct ddi_record *records;
	u32 chapters_written;
};

static void free_records(void *arg)
{
	vfree(arg);
}

static struct volume_fixture *setup(struct kunit *test, u32 record_pages, u32 chapters,
				    u32 cache_chapters, u32 max_vcns)
{
	struct volume_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&f->geo, record_pages, chapters));
	f->disk = ddi_test_disk_open(test, 0, f->geo.bytes_per_volume);
	ddi_test_zones_init(f->zones, DDI_MAX_ZONES);
	ddi_test_seed(test, &f->rnd);
	f->config = (struct ddi_volume_config) {
		.zone_count = 1,
		.reader_count = 2,
		.cache_chapters = cache_chapters,
		.nonce = get_random_u64(),
		.requeue = ddi_test_requeue,
		.requeue_context = f->zones,
	};
	f->volume = ddi_test_volume_create(test, &f->geo, f->disk, &f->config);
	f->records = vmalloc_array((size_t)max_vcns * f->geo.records_per_chapter,
				   sizeof(*f->records));
	KUNIT_ASSERT_NOT_NULL(test, f->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_records, f->records));
	ddi_test_random_records(&f->rnd, f->records, max_vcns * f->geo.records_per_chapter);
	return f;
}

static struct ddi_record *chapter_records(struct volume_fixture *f, u64 vcn)
{
	return &f->records[vcn * f->geo.records_per_chapter];
}

static void write_chapters(struct kunit *test, struct volume_fixture *f, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++, f->chapters_written++)
		ddi_test_write_chapter(test, f->volume, f->chapters_written,
				       chapter_records(f, f->chapters_written),
				       f->geo.records_per_chapter);
}

/* Search synchronously and require the record's own data back. */
static void expect_found(struct kunit *test, struct volume_fixture *f, u64 vcn, u32 i)
{
	const struct ddi_record *record = &chapter_records(f, vcn)[i];
	struct ddi_data data;
	bool found = false;

	KUNIT_ASSERT_EQ(test, 0, ddi_volume_search_sync(f->volume, &record->name, vcn,
							&found, &data));
	KUNIT_ASSERT_TRUE_MSG(test, found, "chapter %llu record %u not found", vcn, i);
	KUNIT_ASSERT_EQ(test, 0, memcmp(&data, &record->data, sizeof(data)));
}

/*
 * Search as zone 0 would, waiting for the reader threads whenever the
 * request is queued. Returns the final status.
 */
static int search_async(struct volume_fixture *f, struct ddi_test_request *tr)
{
	struct ddi_test_zone *zone = &f->zones[0];
	int ret;

	while ((ret = ddi_volume_search(f->volume, &tr->request)) == DDI_QUEUED) {
		struct ddi_test_request *back;

		wait_event(zone->wait, !list_empty_careful(&zone->requeued));
		back = ddi_test_zone_pop(zone);
		if (back != tr)
			return -EPROTO;
		if (tr->request.status)
			return tr->request.status;
	}
	return ret;
}

static void volume_finds_every_record(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 8, 16, 2, 5);
	struct ddi_record absent;
	bool found = true;
	u64 vcn;
	u32 i;

	write_chapters(test, f, 5);
	for (vcn = 0; vcn < 5; vcn++)
		for (i = 0; i < f->geo.records_per_chapter; i++)
			expect_found(test, f, vcn, i);

	/* Names never written are not found in any chapter. */
	for (i = 0; i < 200; i++) {
		ddi_test_random_records(&f->rnd, &absent, 1);
		KUNIT_ASSERT_EQ(test, 0, ddi_volume_search_sync(f->volume, &absent.name, i % 5,
								&found, NULL));
		KUNIT_EXPECT_FALSE(test, found);
	}
}

static void volume_async_search_through_readers(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 4, 16, 1, 6);
	struct ddi_volume_stats before, after;
	struct ddi_test_request tr;
	u64 vcn;
	u32 i;

	write_chapters(test, f, 6);
	/* The cache holds 4 pages: nearly every lookup needs the readers. */
	for (vcn = 0; vcn < 6; vcn++) {
		for (i = 0; i < f->geo.records_per_chapter; i += 7) {
			const struct ddi_record *record = &chapter_records(f, vcn)[i];

			ddi_test_request_init(&tr, record, i, vcn, 0);
			KUNIT_ASSERT_EQ(test, 0, search_async(f, &tr));
			KUNIT_ASSERT_TRUE(test, tr.request.found);
			KUNIT_ASSERT_EQ(test, 0, memcmp(&tr.request.old_data, &record->data,
							sizeof(record->data)));
		}
	}
	ddi_volume_get_stats(f->volume, &before);
	KUNIT_EXPECT_GT(test, before.cache_misses, 0ULL);
	KUNIT_EXPECT_GT(test, before.pages_read, 0ULL);

	/* The same record again: both its pages are cached now. */
	ddi_test_request_init(&tr, &chapter_records(f, 5)[0], 0, 5, 0);
	KUNIT_ASSERT_EQ(test, 0, search_async(f, &tr));
	ddi_test_request_init(&tr, &chapter_records(f, 5)[0], 0, 5, 0);
	KUNIT_ASSERT_EQ(test, 0, search_async(f, &tr));
	KUNIT_EXPECT_TRUE(test, tr.request.found);
	ddi_volume_get_stats(f->volume, &after);
	KUNIT_EXPECT_GE(test, after.cache_hits, before.cache_hits + 2);
}

static void volume_wrap_forgets_old_chapters(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 2, 8, 2, 11);
	struct ddi_test_request tr;
	u64 vcn;
	u32 i;

	write_chapters(test, f, 11);
	/* Chapters 0-2 were overwritten by 8-10: their names are gone. */
	for (vcn = 0; vcn < 3; vcn++) {
		for (i = 0; i < f->geo.records_per_chapter; i += 5) {
			ddi_test_request_init(&tr, &chapter_records(f, vcn)[i], i, vcn, 0);
			KUNIT_ASSERT_EQ(test, 0, search_async(f, &tr));
			KUNIT_EXPECT_FALSE(test, tr.request.found);
		}
	}
	for (vcn = 3; vcn < 11; vcn++)
		for (i = 0; i < f->geo.records_per_chapter; i++)
			expect_found(test, f, vcn, i);
}

/* Every name of @vcn whose list is on @index_page must fail with -EBADMSG. */
static void expect_page_rejected(struct kunit *test, struct volume_fixture *f, u64 vcn,
				 u32 index_page)
{
	u32 chapter = ddi_physical_chapter(&f->geo, vcn);
	u32 i, checked = 0;

	ddi_volume_forget_chapter(f->volume, vcn);
	for (i = 0; i < f->geo.records_per_chapter; i++) {
		const struct ddi_record *record = &chapter_records(f, vcn)[i];
		bool found = false;

		if (ddi_index_page_map_find(f->volume->page_map, &record->name, chapter) !=
		    index_page)
			continue;
		KUNIT_ASSERT_EQ(test, -EBADMSG,
				ddi_volume_search_sync(f->volume, &record->name, vcn,
						       &found, NULL));
		KUNIT_ASSERT_FALSE(test, found);
		checked++;
	}
	KUNIT_EXPECT_GT(test, checked, 0U);
}

static void volume_rejects_damaged_index_pages(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 8, 16, 2, 3);
	u32 page = ddi_physical_page(&f->geo, 1, 0);
	struct ddi_volume_stats stats;
	int round;

	write_chapters(test, f, 3);
	for (round = 0; round < 16; round++) {
		u32 offset = prandom_u32_state(&f->rnd) % DDI_BLOCK_BYTES;
		u8 flip = 1 << (prandom_u32_state(&f->rnd) % 8);

		ddi_test_poke_page(test, f->volume, page, offset, flip);
		expect_page_rejected(test, f, 1, 0);
		ddi_test_poke_page(test, f->volume, page, offset, flip);
		ddi_volume_forget_chapter(f->volume, 1);
		expect_found(test, f, 1, 0);
	}

	/* An intact index page of another chapter in its place. */
	ddi_test_copy_page(test, f->volume, page, ddi_physical_page(&f->geo, 2, 0));
	expect_page_rejected(test, f, 1, 0);

	ddi_volume_get_stats(f->volume, &stats);
	KUNIT_EXPECT_GT(test, stats.corrupt_pages, 16ULL);
}

static void volume_rejects_damaged_record_pages(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 4, 16, 2, 2);
	u32 first_record_page = ddi_physical_page(&f->geo, 1, f->geo.index_pages_per_chapter);
	u32 i;

	write_chapters(test, f, 2);
	ddi_test_poke_page(test, f->volume, first_record_page, 100, 0x40);
	ddi_volume_forget_chapter(f->volume, 1);
	for (i = 0; i < f->geo.records_per_chapter; i++) {
		const struct ddi_record *record = &chapter_records(f, 1)[i];
		bool found = false;
		int ret = ddi_volume_search_sync(f->volume, &record->name, 1, &found, NULL);

		if (i < f->geo.records_per_page) {
			KUNIT_ASSERT_EQ(test, -EBADMSG, ret);
			KUNIT_ASSERT_FALSE(test, found);
		} else {
			KUNIT_ASSERT_EQ(test, 0, ret);
			KUNIT_ASSERT_TRUE(test, found);
		}
	}
}

/*
 * A damaged page is read once: later lookups that need it are misses
 * without a read, until its chapter is forgotten or rewritten.
 */
static void volume_remembers_damaged_pages(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 4, 16, 2, 18);
	u32 damaged = ddi_physical_page(&f->geo, 1, f->geo.index_pages_per_chapter);
	struct ddi_volume_stats before, after;
	struct ddi_test_request tr;
	bool found = true;
	u32 i;

	write_chapters(test, f, 2);
	ddi_test_poke_page(test, f->volume, damaged, 100, 0x40);
	ddi_volume_forget_chapter(f->volume, 1);
	/* A name on record page 1 brings the chapter's index pages in. */
	expect_found(test, f, 1, f->geo.records_per_page);

	ddi_volume_get_stats(f->volume, &before);
	for (i = 0; i < 20; i++) {
		const struct ddi_record *record = &chapter_records(f, 1)[i];

		/* Zone lookups, then synchronous ones. */
		ddi_test_request_init(&tr, record, i, 1, 0);
		KUNIT_EXPECT_EQ(test, -EBADMSG, search_async(f, &tr));
		KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_search_sync(f->volume, &record->name,
								       1, &found, NULL));
		KUNIT_EXPECT_FALSE(test, found);
	}
	ddi_volume_get_stats(f->volume, &after);
	KUNIT_EXPECT_EQ(test, 1ULL, after.pages_read - before.pages_read);
	KUNIT_EXPECT_EQ(test, 1ULL, after.corrupt_pages - before.corrupt_pages);
	/* The other record pages are still there. */
	expect_found(test, f, 1, 2 * f->geo.records_per_page);

	/* Rewriting the chapter (vcn 17 is physical chapter 1) makes it good again. */
	ddi_test_write_chapter(test, f->volume, 17, chapter_records(f, 17),
			       f->geo.records_per_chapter);
	for (i = 0; i < 20; i++)
		expect_found(test, f, 17, i);
	ddi_volume_get_stats(f->volume, &before);
	KUNIT_EXPECT_EQ(test, after.corrupt_pages, before.corrupt_pages);
}

static void volume_rejects_foreign_nonce(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 4, 16, 2, 2);
	struct ddi_volume_config other = f->config;
	struct ddi_volume *stranger;
	bool found = true;
	u32 i;

	write_chapters(test, f, 2);
	other.nonce++;
	stranger = ddi_test_volume_create(test, &f->geo, f->disk, &other);
	for (i = 0; i < f->geo.records_per_chapter; i += 11) {
		KUNIT_EXPECT_EQ(test, -EBADMSG,
				ddi_volume_search_sync(stranger, &chapter_records(f, 1)[i].name,
						       1, &found, NULL));
		KUNIT_EXPECT_FALSE(test, found);
	}
}

static void volume_reads_whole_chapter_index(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 8, 16, 2, 2);
	u8 *pages = kunit_kmalloc_array(test, f->geo.index_pages_per_chapter,
					DDI_BLOCK_BYTES, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, pages);
	write_chapters(test, f, 2);
	KUNIT_EXPECT_EQ(test, 0, ddi_volume_read_chapter_index(f->volume, 1, pages, NULL));
	/* Chapter 2 was never written, and vcn 17 is not what chapter 1 holds. */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_read_chapter_index(f->volume, 2, pages, NULL));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_read_chapter_index(f->volume, 17, pages, NULL));
}

static void volume_replaces_storage(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 4, 16, 2, 3);
	struct ddi_test_disk *copy = ddi_test_disk_open(test, 1, f->geo.bytes_per_volume);
	struct ddi_volume_storage storage;
	u32 i;
	u64 vcn;

	write_chapters(test, f, 3);
	ddi_test_disk_copy(copy, f->disk, f->geo.bytes_per_volume);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_open_storage(f->volume, copy->bdev, 0, &storage));
	ddi_volume_replace_storage(f->volume, &storage);
	/* What comes back is the old client, on the old disk. */
	KUNIT_EXPECT_PTR_EQ(test, storage.bdev, f->disk->bdev);
	ddi_volume_close_storage(&storage);
	/* Only the copy holds the volume now. */
	ddi_test_disk_zero(f->disk, 0, f->geo.bytes_per_volume);
	for (vcn = 0; vcn < 3; vcn++)
		for (i = 0; i < f->geo.records_per_chapter; i += 3)
			expect_found(test, f, vcn, i);
}

static void volume_rejects_bad_configs(struct kunit *test)
{
	struct volume_fixture *f = setup(test, 4, 16, 2, 1);
	struct ddi_volume_config config = f->config;
	struct ddi_volume *volume = NULL;

	config.cache_chapters = 0;
	KUNIT_EXPECT_EQ(test, -EINVAL,
			ddi_volume_create(&f->geo, f->disk->bdev, &config, &volume));
	config = f->config;
	config.zone_count = DDI_MAX_ZONES + 1;
	KUNIT_EXPECT_EQ(test, -EINVAL,
			ddi_volume_create(&f->geo, f->disk->bdev, &config, &volume));
	config = f->config;
	config.reader_count = 4;	/* 4 cache slots cannot feed 4 readers */
	config.cache_chapters = 1;
	KUNIT_EXPECT_EQ(test, -EINVAL,
			ddi_volume_create(&f->geo, f->disk->bdev, &config, &volume));
	KUNIT_EXPECT_NULL(test, volume);
}

static struct kunit_case volume_cases[] = {
	KUNIT_CASE(volume_finds_every_record),
	KUNIT_CASE(volume_async_search_through_readers),
	KUNIT_CASE(volume_wrap_forgets_old_chapters),
	KUNIT_CASE(volume_rejects_damaged_index_pages),
	KUNIT_CASE(volume_rejects_damaged_record_pages),
	KUNIT_CASE(volume_remembers_damaged_pages),
	KUNIT_CASE(volume_rejects_foreign_nonce),
	KUNIT_CASE(volume_reads_whole_chapter_index),
	KUNIT_CASE(volume_replaces_storage),
	KUNIT_CASE(volume_rejects_bad_configs),
	{}
};

static struct kunit_suite volume_suite = {
	.name = "dm_dedup_index_volume",
	.test_cases = volume_cases,
};

kunit_test_suite(volume_suite);
