// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the volume geometry.
 */

#include <kunit/test.h>
#include <linux/log2.h>
#include <linux/unaligned.h>

#include "geometry.h"

static void geometry_derives_consistent_sizes(struct kunit *test)
{
	static const u32 shapes[][2] = { { 1, 2 }, { 4, 16 }, { 64, 1024 }, { 256, 1024 },
					 { 1024, 64 } };
	struct ddi_geometry geo;
	int i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, shapes[i][0], shapes[i][1]));
		KUNIT_EXPECT_EQ(test, geo.records_per_page, 127U);
		KUNIT_EXPECT_EQ(test, geo.records_per_chapter, shapes[i][0] * 127);
		KUNIT_EXPECT_EQ(test, geo.pages_per_chapter,
				geo.index_pages_per_chapter + shapes[i][0]);
		KUNIT_EXPECT_EQ(test, geo.pages_per_volume, geo.pages_per_chapter * shapes[i][1]);
		KUNIT_EXPECT_EQ(test, geo.bytes_per_volume,
				(u64)(geo.pages_per_volume + 1) * 4096);
		KUNIT_EXPECT_TRUE(test, is_power_of_2(geo.delta_lists_per_chapter));
		KUNIT_EXPECT_GE(test, 1U << geo.chapter_payload_bits, shapes[i][0]);
		KUNIT_EXPECT_EQ(test, 0, ddi_geometry_validate(&geo));
	}
}

/* The default 1 GiB shape: close to the record and index page counts UDS uses. */
static void geometry_default_shape(struct kunit *test)
{
	struct ddi_geometry geo;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, 256, 1024));
	KUNIT_EXPECT_EQ(test, geo.records_per_chapter, 32512U);
	KUNIT_EXPECT_EQ(test, geo.delta_lists_per_chapter, 512U);
	KUNIT_EXPECT_GE(test, geo.index_pages_per_chapter, 24U);
	KUNIT_EXPECT_LE(test, geo.index_pages_per_chapter, 32U);
	KUNIT_EXPECT_EQ(test, geo.chapter_payload_bits, 8);
}

static void geometry_rejects_impossible_shapes(struct kunit *test)
{
	struct ddi_geometry geo;

	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_init(&geo, 0, 16));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_init(&geo, 1025, 16));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_init(&geo, 4, 1));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_init(&geo, 4, 0));
	/* More pages than a u32 page number can address. */
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_init(&geo, 1024, 1U << 23));
}

static void geometry_validate_catches_tampering(struct kunit *test)
{
	struct ddi_geometry good, bad;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&good, 16, 64));

	bad = good;
	bad.pages_per_volume++;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&bad));
	bad = good;
	bad.index_pages_per_chapter = 0;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&bad));
	bad = good;
	bad.delta_lists_per_chapter = 3;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&bad));
	bad = good;
	bad.chapter_payload_bits = 2;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&bad));
	bad = good;
	bad.records_per_page = 128;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&bad));
	bad = good;
	bad.chapter_address_bits = 60;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&bad));
}

static void geometry_maps_chapters_and_pages(struct kunit *test)
{
	struct ddi_geometry geo;
	u32 page;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, 4, 16));
	KUNIT_EXPECT_EQ(test, ddi_physical_chapter(&geo, 0), 0U);
	KUNIT_EXPECT_EQ(test, ddi_physical_chapter(&geo, 15), 15U);
	KUNIT_EXPECT_EQ(test, ddi_physical_chapter(&geo, 16), 0U);
	KUNIT_EXPECT_EQ(test, ddi_physical_chapter(&geo, (1ULL << 40) + 5), 5U);

	KUNIT_EXPECT_EQ(test, ddi_physical_page(&geo, 0, 0), 1U);
	page = ddi_physical_page(&geo, 3, geo.index_pages_per_chapter);
	KUNIT_EXPECT_EQ(test, ddi_page_chapter(&geo, page), 3U);
	KUNIT_EXPECT_EQ(test, ddi_page_in_chapter(&geo, page), geo.index_pages_per_chapter);
	KUNIT_EXPECT_TRUE(test, ddi_is_record_page(&geo, page));
	KUNIT_EXPECT_FALSE(test, ddi_is_record_page(&geo, page - 1));
	KUNIT_EXPECT_EQ(test, ddi_physical_page(&geo, 15, geo.pages_per_chapter - 1),
			geo.pages_per_volume);
}

static void geometry_splits_names(struct kunit *test)
{
	struct ddi_geometry geo;
	struct ddi_name name = { };
	u64 bits;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, 256, 16));
	/* List number and address come from the first eight bytes, big-endian. */
	bits = ((u64)5 << geo.chapter_address_bits) | 0x1234;
	put_unaligned_be64(bits, name.bytes);
	KUNIT_EXPECT_EQ(test, ddi_geometry_delta_list(&geo, &name), 5U);
	KUNIT_EXPECT_EQ(test, ddi_geometry_chapter_address(&geo, &name), 0x1234U);
	memset(name.bytes, 0xff, sizeof(name.bytes));
	KUNIT_EXPECT_EQ(test, ddi_geometry_delta_list(&geo, &name),
			geo.delta_lists_per_chapter - 1);
	KUNIT_EXPECT_EQ(test, ddi_geometry_chapter_address(&geo, &name),
			(u32)((1ULL << geo.chapter_address_bits) - 1));
}

static struct kunit_case geometry_cases[] = {
	KUNIT_CASE(geometry_derives_consistent_sizes),
	KUNIT_CASE(geometry_default_shape),
	KUNIT_CASE(geometry_rejects_impossible_shapes),
	KUNIT_CASE(geometry_validate_catches_tampering),
	KUNIT_CASE(geometry_maps_chapters_and_pages),
	KUNIT_CASE(geometry_splits_names),
	{}
};

static struct kunit_suite geometry_suite = {
	.name = "dm_dedup_index_geometry",
	.test_cases = geometry_cases,
};

kunit_test_suite(geometry_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
