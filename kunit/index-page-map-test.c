// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the index page map: finding a list's page, page bounds,
 * and save/load through a memory buffer, intact and damaged.
 */

#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/unaligned.h>

#include "index-page-map.h"

struct map_fixture {
	struct ddi_geometry geo;
	struct ddi_index_page_map *map;
};

static void free_map(void *arg)
{
	ddi_index_page_map_free(arg);
}

static struct ddi_index_page_map *make_map(struct kunit *test, struct ddi_geometry *geo,
					   u32 record_pages, u32 chapters)
{
	struct ddi_index_page_map *map;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(geo, record_pages, chapters));
	KUNIT_ASSERT_GE(test, geo->index_pages_per_chapter, 3U);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_page_map_create(geo, &map));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_map, map));
	return map;
}

/* A name whose delta list is @list (the list bits sit above the address bits). */
static struct ddi_name name_in_list(const struct ddi_geometry *geo, u32 list)
{
	struct ddi_name name = {};

	put_unaligned_be64((u64)list << geo->chapter_address_bits, name.bytes);
	return name;
}

/*
 * Split the chapter's lists over its pages as evenly as possible, but
 * leave page 1 empty to cover pages that hold no list.
 */
static void fill_chapter(struct ddi_index_page_map *map, u64 vcn, u32 chapter)
{
	const struct ddi_geometry *geo = map->geo;
	u32 pages = geo->index_pages_per_chapter;
	u32 lists = geo->delta_lists_per_chapter;
	u32 page, next = 0;

	for (page = 0; page < pages; page++) {
		if (page != 1)
			next = (page + 1 == pages) ? lists : next + lists / pages;
		ddi_index_page_map_update(map, vcn, chapter, page, next - 1);
	}
}

static void page_map_finds_every_list(struct kunit *test)
{
	struct ddi_geometry geo;
	struct ddi_index_page_map *map = make_map(test, &geo, 64, 8);
	u32 chapter, list;

	for (chapter = 0; chapter < geo.chapters_per_volume; chapter++)
		fill_chapter(map, chapter + 100, chapter);
	KUNIT_EXPECT_EQ(test, map->last_update, 107ULL);

	for (chapter = 0; chapter < geo.chapters_per_volume; chapter++) {
		for (list = 0; list < geo.delta_lists_per_chapter; list++) {
			struct ddi_name name = name_in_list(&geo, list);
			u32 page = ddi_index_page_map_find(map, &name, chapter);
			u32 lowest, highest;

			KUNIT_ASSERT_LT(test, page, geo.index_pages_per_chapter);
			KUNIT_EXPECT_NE(test, page, 1U);
			ddi_index_page_map_bounds(map, chapter, page, &lowest, &highest);
			KUNIT_EXPECT_LE(test, lowest, list);
			KUNIT_EXPECT_GE(test, highest, list);
		}
	}
}

static void page_map_bounds_tile_the_chapter(struct kunit *test)
{
	struct ddi_geometry geo;
	struct ddi_index_page_map *map = make_map(test, &geo, 64, 4);
	u32 page, expected_lowest = 0;

	fill_chapter(map, 2, 2);
	for (page = 0; page < geo.index_pages_per_chapter; page++) {
		u32 lowest, highest;

		ddi_index_page_map_bounds(map, 2, page, &lowest, &highest);
		KUNIT_EXPECT_EQ(test, lowest, expected_lowest);
		if (page == 1)
			KUNIT_EXPECT_EQ(test, highest, lowest - 1);
		expected_lowest = highest + 1;
	}
	KUNIT_EXPECT_EQ(test, expected_lowest, geo.delta_lists_per_chapter);
}

/* A chapter whose first pages hold nothing: "last list" -1 on page 0. */
static void page_map_handles_leading_empty_pages(struct kunit *test)
{
	struct ddi_geometry geo;
	struct ddi_index_page_map *map = make_map(test, &geo, 64, 4);
	u32 last = geo.index_pages_per_chapter - 1;
	struct ddi_name name = name_in_list(&geo, 0);
	u32 page, lowest, highest;

	for (page = 0; page < last; page++)
		ddi_index_page_map_update(map, 0, 0, page, U32_MAX);
	ddi_index_page_map_update(map, 0, 0, last, geo.delta_lists_per_chapter - 1);

	KUNIT_EXPECT_EQ(test, ddi_index_page_map_find(map, &name, 0), last);
	ddi_index_page_map_bounds(map, 0, 0, &lowest, &highest);
	KUNIT_EXPECT_EQ(test, lowest, 0U);
	KUNIT_EXPECT_EQ(test, highest, U32_MAX);
	ddi_index_page_map_bounds(map, 0, last, &lowest, &highest);
	KUNIT_EXPECT_EQ(test, lowest, 0U);
	KUNIT_EXPECT_EQ(test, highest, geo.delta_lists_per_chapter - 1);
}

static u8 *saved_map(struct kunit *test, struct ddi_index_page_map *map, size_t *len)
{
	u8 *buf;

	*len = ddi_index_page_map_save_size(map->geo);
	buf = kunit_kzalloc(test, *len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_page_map_save(map, buf, *len));
	return buf;
}

static void page_map_round_trips(struct kunit *test)
{
	struct ddi_geometry geo;
	struct ddi_index_page_map *map = make_map(test, &geo, 64, 8);
	struct ddi_index_page_map *copy;
	size_t len, count;
	u32 chapter;
	u8 *buf;

	for (chapter = 0; chapter < geo.chapters_per_volume; chapter++)
		fill_chapter(map, chapter + 40, chapter);
	buf = saved_map(test, map, &len);
	KUNIT_EXPECT_MEMEQ(test, buf, "DDIIPM01", 8);

	KUNIT_ASSERT_EQ(test, 0, ddi_index_page_map_create(&geo, &copy));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_map, copy));
	KUNIT_ASSERT_EQ(test, 0, ddi_index_page_map_load(copy, buf, len));
	count = (size_t)map->entries_per_chapter * geo.chapters_per_volume;
	KUNIT_EXPECT_MEMEQ(test, copy->entries, map->entries, count * sizeof(u16));
	KUNIT_EXPECT_EQ(test, copy->last_update, 47ULL);
}

static void expect_load_refused(struct kunit *test, struct ddi_index_page_map *map,
				const u8 *buf, size_t len)
{
	size_t count = (size_t)map->entries_per_chapter * map->geo->chapters_per_volume;
	u16 *before = kunit_kmalloc_array(test, count, sizeof(u16), GFP_KERNEL);
	u64 last_update = map->last_update;

	KUNIT_ASSERT_NOT_NULL(test, before);
	memcpy(before, map->entries, count * sizeof(u16));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_index_page_map_load(map, buf, len));
	/* Nothing of a refused map is taken. */
	KUNIT_EXPECT_MEMEQ(test, before, map->entries, count * sizeof(u16));
	KUNIT_EXPECT_EQ(test, last_update, map->last_update);
}

static void page_map_refuses_damaged_saves(struct kunit *test)
{
	struct ddi_geometry geo;
	struct ddi_index_page_map *map = make_map(test, &geo, 64, 8);
	size_t len;
	u8 *buf, *bad;

	fill_chapter(map, 3, 3);
	buf = saved_map(test, map, &len);
	bad = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bad);

	/* Short read. */
	expect_load_refused(test, map, buf, len - 1);
	/* Bad magic. */
	memcpy(bad, buf, len);
	bad[3] ^= 0x20;
	expect_load_refused(test, map, bad, len);
	/* Saved for another chapter count. */
	memcpy(bad, buf, len);
	put_unaligned_le32(geo.chapters_per_volume + 1, bad + 16);
	expect_load_refused(test, map, bad, len);
	/* An entry past the chapter's lists. */
	memcpy(bad, buf, len);
	put_unaligned_le16(geo.delta_lists_per_chapter + 1, bad + 24);
	expect_load_refused(test, map, bad, len);
	/* Counts going backwards within chapter 3. */
	memcpy(bad, buf, len);
	put_unaligned_le16(0, bad + 24 + 2 * (3 * map->entries_per_chapter + 2));
	expect_load_refused(test, map, bad, len);

	/* And a too-short buffer cannot be saved into. */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_index_page_map_save(map, bad, len - 1));
	KUNIT_EXPECT_EQ(test, 0, ddi_index_page_map_load(map, buf, len));
}

static void page_map_refuses_other_geometry(struct kunit *test)
{
	struct ddi_geometry geo, other_geo;
	struct ddi_index_page_map *map = make_map(test, &geo, 64, 8);
	struct ddi_index_page_map *other = make_map(test, &other_geo, 256, 8);
	size_t len;
	u8 *buf;

	KUNIT_ASSERT_NE(test, map->entries_per_chapter, other->entries_per_chapter);
	buf = saved_map(test, other, &len);
	expect_load_refused(test, map, buf, len);
}

static struct kunit_case index_page_map_cases[] = {
	KUNIT_CASE(page_map_finds_every_list),
	KUNIT_CASE(page_map_bounds_tile_the_chapter),
	KUNIT_CASE(page_map_handles_leading_empty_pages),
	KUNIT_CASE(page_map_round_trips),
	KUNIT_CASE(page_map_refuses_damaged_saves),
	KUNIT_CASE(page_map_refuses_other_geometry),
	{}
};

static struct kunit_suite index_page_map_suite = {
	.name = "dm_dedup_index_index_page_map",
	.test_cases = index_page_map_cases,
};

kunit_test_suite(index_page_map_suite);
