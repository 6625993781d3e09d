// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for finding the valid chapters of a volume before a rebuild:
 * empty, partly written, wrapped, and wrapped with runs of zeroed chapters
 * such as a crash mid-write leaves, damage elsewhere, and damaged pages
 * that must not cost their chapters.
 */

#include <kunit/test.h>
#include <linux/dm-bufio.h>
#include <linux/random.h>
#include <linux/vmalloc.h>

#include "test-util.h"

struct boundaries {
	struct ddi_geometry geo;
	struct ddi_test_disk *disk;
	struct ddi_volume *volume;
	struct ddi_test_zone zones[1];
	struct ddi_record *records;
};

static void free_vmem(void *arg)
{
	vfree(arg);
}

static struct boundaries *setup(struct kunit *test, u32 record_pages, u32 chapters)
{
	struct boundaries *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct ddi_volume_config config;
	struct rnd_state rnd;

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&b->geo, record_pages, chapters));
	b->disk = ddi_test_disk_open(test, 3, b->geo.bytes_per_volume);
	ddi_test_zones_init(b->zones, 1);
	config = (struct ddi_volume_config) {
		.zone_count = 1,
		.reader_count = 1,
		.cache_chapters = 4,
		.nonce = get_random_u64(),
		.requeue = ddi_test_requeue,
		.requeue_context = b->zones,
	};
	b->volume = ddi_test_volume_create(test, &b->geo, b->disk, &config);
	b->records = vmalloc_array(b->geo.records_per_chapter, sizeof(*b->records));
	KUNIT_ASSERT_NOT_NULL(test, b->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, b->records));
	ddi_test_seed(test, &rnd);
	ddi_test_random_records(&rnd, b->records, b->geo.records_per_chapter);
	return b;
}

static void write_vcns(struct kunit *test, struct boundaries *b, u64 first, u64 end)
{
	u64 vcn;

	for (vcn = first; vcn < end; vcn++) {
		/* Vary the names per chapter so no two chapters are alike. */
		b->records[0].name.bytes[0] = vcn;
		b->records[0].name.bytes[1] = vcn >> 8;
		ddi_test_write_chapter(test, b->volume, vcn, b->records,
				       b->geo.records_per_chapter);
	}
}

static void zero_chapters(struct boundaries *b, u32 first, u32 count)
{
	u64 page_bytes = DDI_BLOCK_BYTES;
	u32 chapter;

	/*
	 * Drop the volume's cached pages and buffered copies too, or it
	 * would not see the damage.
	 */
	for (chapter = first; chapter < first + count; chapter++)
		ddi_volume_forget_chapter(b->volume, chapter);
	dm_bufio_forget_buffers(b->volume->client, ddi_physical_page(&b->geo, first, 0),
				(sector_t)count * b->geo.pages_per_chapter);
	ddi_test_disk_zero(b->disk, ddi_physical_page(&b->geo, first, 0) * page_bytes,
			   count * b->geo.pages_per_chapter * page_bytes);
}

static void expect_boundaries(struct kunit *test, struct boundaries *b, u64 lowest,
			      u64 highest)
{
	u64 low = 1, high = 1;
	bool empty = true;

	KUNIT_ASSERT_EQ(test, 0, ddi_chapter_boundaries_find(b->volume, &low, &high, &empty));
	KUNIT_EXPECT_FALSE(test, empty);
	KUNIT_EXPECT_EQ(test, lowest, low);
	KUNIT_EXPECT_EQ(test, highest, high);
}

/* As expect_boundaries(), knowing that @written chapters were written. */
static void expect_known_boundaries(struct kunit *test, struct boundaries *b, u64 written,
				    u64 lowest, u64 highest)
{
	u64 low = 1, high = 1;
	bool empty = true;
	int ret;

	ret = ddi_chapter_boundaries_find_known(b->volume, written, &low, &high, &empty);
	KUNIT_ASSERT_EQ(test, 0, ret);
	KUNIT_EXPECT_FALSE(test, empty);
	KUNIT_EXPECT_EQ(test, lowest, low);
	KUNIT_EXPECT_EQ(test, highest, high);
}

static void boundaries_of_empty_volume(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);
	u64 low = 1, high = 1;
	bool empty = false;

	KUNIT_ASSERT_EQ(test, 0, ddi_chapter_boundaries_find(b->volume, &low, &high, &empty));
	KUNIT_EXPECT_TRUE(test, empty);
	KUNIT_EXPECT_EQ(test, 0ULL, low);
	KUNIT_EXPECT_EQ(test, 0ULL, high);
}

static void boundaries_of_partly_written_volume(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);
	u64 count;

	for (count = 1; count <= 16; count++) {
		write_vcns(test, b, count - 1, count);
		expect_boundaries(test, b, 0, count - 1);
	}
}

static void boundaries_of_wrapped_volume(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);
	u64 end;

	write_vcns(test, b, 0, 16);
	for (end = 17; end <= 40; end++) {
		write_vcns(test, b, end - 1, end);
		expect_boundaries(test, b, end - 16, end - 1);
	}
}

static void boundaries_skip_a_run_of_zeroed_chapters(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);

	/* Physical chapters 0-3 hold vcns 16-19, chapters 4-15 hold 4-15. */
	write_vcns(test, b, 0, 20);
	/* A torn write of the newest chapters, right after vcn 19. */
	zero_chapters(b, 4, 3);
	expect_boundaries(test, b, 7, 19);

	/* The same run where the volume ends and wraps. */
	b = setup(test, 2, 16);
	write_vcns(test, b, 0, 29);
	zero_chapters(b, 13, 3);
	expect_boundaries(test, b, 16, 28);

	/* The run covering physical chapter 0, where vcns 16 and 17 went. */
	b = setup(test, 2, 16);
	write_vcns(test, b, 0, 18);
	zero_chapters(b, 0, 2);
	expect_boundaries(test, b, 2, 15);
}

/*
 * A damaged page costs its names, not its chapter: a chapter with any
 * intact page is still there, so damage to one page of each chapter, be it
 * an index page or the record page written last, leaves every boundary.
 */
static void boundaries_keep_chapters_with_damaged_pages(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);
	u32 last = b->geo.pages_per_chapter - 1;
	u32 chapter, page;

	write_vcns(test, b, 0, 20);
	for (chapter = 4; chapter < 6; chapter++)
		ddi_test_poke_page(test, b->volume, ddi_physical_page(&b->geo, chapter, 0),
				   300 + chapter, 0x10);
	expect_boundaries(test, b, 4, 19);

	b = setup(test, 2, 16);
	write_vcns(test, b, 0, 20);
	ddi_test_poke_page(test, b->volume, ddi_physical_page(&b->geo, 4, last), 7, 1);
	expect_boundaries(test, b, 4, 19);

	/* One page of every chapter, wrapped or not. */
	for (page = 0; page <= last; page += last) {
		b = setup(test, 2, 16);
		write_vcns(test, b, 0, 5);
		for (chapter = 0; chapter < 5; chapter++)
			ddi_test_poke_page(test, b->volume,
					   ddi_physical_page(&b->geo, chapter, page), 9, 4);
		expect_boundaries(test, b, 0, 4);
		expect_known_boundaries(test, b, 5, 0, 4);

		b = setup(test, 2, 16);
		write_vcns(test, b, 0, 20);
		for (chapter = 0; chapter < 16; chapter++)
			ddi_test_poke_page(test, b->volume,
					   ddi_physical_page(&b->geo, chapter, page), 9, 4);
		expect_boundaries(test, b, 4, 19);
	}

	/* Every page of a chapter damaged but one: still there. */
	b = setup(test, 2, 16);
	write_vcns(test, b, 0, 20);
	for (page = 0; page < last; page++)
		ddi_test_poke_page(test, b->volume, ddi_physical_page(&b->geo, 3, page), 9, 4);
	expect_boundaries(test, b, 4, 19);
}

static void boundaries_refuse_too_many_bad_chapters(struct kunit *test)
{
	struct boundaries *b = setup(test, 1, 256);
	u64 low, high;
	bool empty;

	/* Physical 0-43 hold vcns 256-299; then a 121-chapter hole from 0. */
	write_vcns(test, b, 0, 300);
	zero_chapters(b, 0, 121);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			ddi_chapter_boundaries_find(b->volume, &low, &high, &empty));

	/* A shorter hole is tolerated. */
	b = setup(test, 1, 256);
	write_vcns(test, b, 0, 300);
	zero_chapters(b, 0, 90);
	expect_boundaries(test, b, 90, 255);
}

/*
 * Damage away from the newest chapter: a chapter known written (from a
 * save) does not pass for the end of the volume, and a search misled by
 * damaged chapters falls back to probing every one.
 */
static void boundaries_survive_damage_elsewhere(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);

	/* vcns 0-3, chapter 1 damaged: alone, the search stops before it. */
	write_vcns(test, b, 0, 4);
	zero_chapters(b, 1, 1);
	expect_boundaries(test, b, 0, 0);
	expect_known_boundaries(test, b, 4, 0, 3);

	/* vcns 0-4 with chapters 0 and 2 damaged: the binary search is misled. */
	b = setup(test, 2, 16);
	write_vcns(test, b, 0, 5);
	zero_chapters(b, 0, 1);
	zero_chapters(b, 2, 1);
	expect_known_boundaries(test, b, 5, 1, 4);

	/* Wrapped, physical 0-4 holding vcns 16-20: chapters 0 and 9 damaged. */
	b = setup(test, 2, 16);
	write_vcns(test, b, 0, 21);
	zero_chapters(b, 0, 1);
	zero_chapters(b, 9, 1);
	expect_boundaries(test, b, 5, 20);
}

/*
 * Pages claiming chapter numbers at the top of the u64 range are crafted
 * or damaged: the index never writes a chapter past DDI_MAX_VCN, nor loads
 * a save claiming one. Their chapters count as bad, and the boundaries
 * are those of the chapters left; an open chapter of U64_MAX would wrap
 * every vcn + 1 after it.
 */
static void boundaries_refuse_chapters_near_u64_max(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);

	write_vcns(test, b, 0, 1);
	write_vcns(test, b, U64_MAX - 2, U64_MAX);
	expect_boundaries(test, b, 0, 0);
}

/* Up to DDI_MAX_VCN itself a lap is whole; one chapter past it is bad. */
static void boundaries_stop_at_max_vcn(struct kunit *test)
{
	struct boundaries *b = setup(test, 2, 16);

	write_vcns(test, b, DDI_MAX_VCN - 15, DDI_MAX_VCN + 1);
	expect_boundaries(test, b, DDI_MAX_VCN - 15, DDI_MAX_VCN);
	/* Physical chapter 1 held the oldest, DDI_MAX_VCN - 15. */
	write_vcns(test, b, DDI_MAX_VCN + 1, DDI_MAX_VCN + 2);
	expect_boundaries(test, b, DDI_MAX_VCN - 14, DDI_MAX_VCN);
}

/*
 * What the volume reads or writes outside its page cache leaves dm-bufio
 * once used: record pages once written, every page a probe reads (blank
 * chapters and one with a damaged page are read whole), and a copied
 * chapter index. Before bufio.h each stayed in dm-bufio's cache, which is
 * bounded by a share of the machine's RAM, not by the index's memory.
 */
static void boundaries_leave_no_page_in_bufio(struct kunit *test)
{
	struct boundaries *b = setup(test, 4, 16);
	u32 last = ddi_physical_page(&b->geo, 2, b->geo.pages_per_chapter - 1);
	u8 *pages;

	write_vcns(test, b, 0, 6);
	KUNIT_EXPECT_EQ(test, 0U, ddi_test_bufio_strays(b->volume));

	/* Chapter 2 loses its last record page: its probe reads it whole. */
	ddi_volume_forget_chapter(b->volume, 2);
	dm_bufio_forget(b->volume->client, last);
	ddi_test_disk_zero(b->disk, (u64)last * DDI_BLOCK_BYTES, DDI_BLOCK_BYTES);
	expect_boundaries(test, b, 0, 5);
	KUNIT_EXPECT_EQ(test, 0U, ddi_test_bufio_strays(b->volume));

	pages = kunit_kmalloc_array(test, b->geo.index_pages_per_chapter, DDI_BLOCK_BYTES,
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_EXPECT_EQ(test, 0, ddi_volume_read_chapter_index(b->volume, 4, pages, NULL));
	KUNIT_EXPECT_EQ(test, 0U, ddi_test_bufio_strays(b->volume));
}

static struct kunit_case boundaries_cases[] = {
	KUNIT_CASE(boundaries_of_empty_volume),
	KUNIT_CASE(boundaries_of_partly_written_volume),
	KUNIT_CASE(boundaries_of_wrapped_volume),
	KUNIT_CASE(boundaries_skip_a_run_of_zeroed_chapters),
	KUNIT_CASE(boundaries_keep_chapters_with_damaged_pages),
	KUNIT_CASE(boundaries_survive_damage_elsewhere),
	KUNIT_CASE(boundaries_refuse_chapters_near_u64_max),
	KUNIT_CASE(boundaries_stop_at_max_vcn),
	KUNIT_CASE(boundaries_leave_no_page_in_bufio),
	KUNIT_CASE_SLOW(boundaries_refuse_too_many_bad_chapters),
	{}
};

static struct kunit_suite boundaries_suite = {
	.name = "dm_dedup_index_chapter_boundaries",
	.test_cases = boundaries_cases,
};

kunit_test_suite(boundaries_suite);
