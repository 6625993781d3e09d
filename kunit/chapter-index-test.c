// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for chapter index pages: pack a chapter's names, read the
 * pages back and find every name's record page; colliding keys; damaged
 * and foreign pages refused; and the density of the coding reported.
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#include "chapter-index.h"
#include "chapter-index-layout.h"

#define TEST_NONCE 0x0123456789abcdefULL

struct packed_chapter {
	struct ddi_geometry geo;
	struct ddi_open_chapter_index *oci;
	struct ddi_name *names;
	u32 *record_pages;
	u32 count;
	u8 *pages;
	struct ddi_index_page *index_pages;
	u32 *first_list;
};

static void free_oci(void *arg)
{
	ddi_open_chapter_index_free(arg);
}

static void free_vmem(void *arg)
{
	vfree(arg);
}

static void *test_vzalloc(struct kunit *test, size_t size)
{
	void *p = vzalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, p));
	return p;
}

static struct packed_chapter *make_chapter(struct kunit *test, u32 record_pages, u32 count,
					   u64 seed)
{
	struct packed_chapter *pc = kunit_kzalloc(test, sizeof(*pc), GFP_KERNEL);
	struct rnd_state rnd;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, pc);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&pc->geo, record_pages, 4));
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_create(&pc->geo, &pc->oci));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_oci, pc->oci));
	pc->count = count;
	pc->names = test_vzalloc(test, sizeof(*pc->names) * (count + 1));
	pc->record_pages = test_vzalloc(test, sizeof(u32) * (count + 1));
	pc->pages = test_vzalloc(test, (size_t)pc->geo.index_pages_per_chapter *
				 pc->geo.bytes_per_page);
	pc->index_pages = test_vzalloc(test, sizeof(*pc->index_pages) *
				       pc->geo.index_pages_per_chapter);
	pc->first_list = test_vzalloc(test, sizeof(u32) *
				      (pc->geo.index_pages_per_chapter + 1));
	prandom_seed_state(&rnd, seed);
	prandom_bytes_state(&rnd, pc->names, sizeof(*pc->names) * count);
	for (i = 0; i < count; i++)
		pc->record_pages[i] = i / pc->geo.records_per_page;
	return pc;
}

static void pack_chapter(struct kunit *test, struct packed_chapter *pc, u64 vcn)
{
	const struct ddi_geometry *geo = &pc->geo;
	u32 page, next = 0, i;

	ddi_open_chapter_index_reset(pc->oci, vcn);
	for (i = 0; i < pc->count; i++)
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_put(pc->oci, &pc->names[i],
								    pc->record_pages[i]));
	for (page = 0; page < geo->index_pages_per_chapter; page++) {
		u8 *data = pc->pages + (size_t)page * geo->bytes_per_page;
		u32 packed;

		bool last = page + 1 == geo->index_pages_per_chapter;
		int ret;

		pc->first_list[page] = next;
		ret = ddi_open_chapter_index_pack_page(pc->oci, data, TEST_NONCE, next, last,
						       &packed);
		KUNIT_ASSERT_EQ(test, 0, ret);
		next += packed;
		KUNIT_ASSERT_EQ(test, 0, ddi_chapter_index_page_init(&pc->index_pages[page], geo,
								     data,
								     TEST_NONCE));
		KUNIT_EXPECT_EQ(test, pc->index_pages[page].vcn, vcn);
		KUNIT_EXPECT_EQ(test, pc->index_pages[page].lowest_list, pc->first_list[page]);
		KUNIT_EXPECT_EQ(test, pc->index_pages[page].highest_list, next - 1);
	}
	pc->first_list[page] = next;
	KUNIT_EXPECT_EQ(test, next, geo->delta_lists_per_chapter);
}

static u32 page_of_list(const struct packed_chapter *pc, u32 list)
{
	u32 page = 0;

	while (pc->first_list[page + 1] <= list)
		page++;
	return page;
}

static u32 search_chapter(struct kunit *test, const struct packed_chapter *pc,
			  const struct ddi_name *name)
{
	u32 list = ddi_geometry_delta_list(&pc->geo, name);
	u32 record_page;

	KUNIT_EXPECT_EQ(test, 0, ddi_chapter_index_page_search(&pc->index_pages[page_of_list(pc,
											     list)],
							       &pc->geo, name, &record_page));
	return record_page;
}

static void chapter_index_finds_every_name(struct kunit *test)
{
	static const u32 shapes[] = { 1, 16, 64, 256 };
	u32 s;

	for (s = 0; s < ARRAY_SIZE(shapes); s++) {
		struct ddi_geometry geo;
		struct packed_chapter *pc;
		u32 i, wrong = 0, entries = 0, bits = 0, page;

		KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, shapes[s], 4));
		pc = make_chapter(test, shapes[s], geo.records_per_chapter, s);
		pack_chapter(test, pc, 1000 + s);
		KUNIT_EXPECT_EQ(test, 0U, ddi_open_chapter_index_dropped(pc->oci));
		for (i = 0; i < pc->count; i++) {
			if (search_chapter(test, pc, &pc->names[i]) != pc->record_pages[i])
				wrong++;
		}
		KUNIT_EXPECT_EQ_MSG(test, wrong, 0U, "record pages per chapter %u", shapes[s]);

		for (page = 0; page < geo.index_pages_per_chapter; page++) {
			entries += pc->index_pages[page].entry_count;
			bits += pc->index_pages[page].coded_bits;
		}
		KUNIT_EXPECT_EQ(test, entries, pc->count);
		kunit_info(test, "%u record pages: %u entries on %u index pages, %u.%02u bits/entry (payload %u bits)\n",
			   shapes[s], entries, geo.index_pages_per_chapter, bits / entries,
			   bits % entries * 100 / entries, geo.chapter_payload_bits);
	}
}

static void chapter_index_misses_absent_names(struct kunit *test)
{
	struct packed_chapter *pc = make_chapter(test, 64, 64 * 127 + 2000, 11);
	u32 present = pc->count - 2000;
	u32 i, no_page = 0;

	pc->count = present;
	pack_chapter(test, pc, 5);
	for (i = present; i < present + 2000; i++) {
		u32 record_page = search_chapter(test, pc, &pc->names[i]);

		/* A key collision may name a page; it must still be a real one. */
		if (record_page == DDI_NO_RECORD_PAGE)
			no_page++;
		else
			KUNIT_EXPECT_LT(test, record_page, pc->geo.record_pages_per_chapter);
	}
	/* Keys are ~20 bits in lists of ~64: collisions are rare. */
	KUNIT_EXPECT_GT(test, no_page, 1990U);
}

/* Names sharing their first eight bytes share a key: told apart by name. */
static void chapter_index_separates_colliding_keys(struct kunit *test)
{
	struct packed_chapter *pc = make_chapter(test, 16, 16 * 127, 3);
	struct ddi_name stranger;
	u32 i;

	for (i = 1; i < 40; i++) {
		memcpy(pc->names[i * 40].bytes, pc->names[0].bytes, 8);
		pc->record_pages[i * 40] = i % 16;
	}
	/* And an exact duplicate name, put twice on different pages. */
	pc->names[1] = pc->names[2];
	pack_chapter(test, pc, 9);
	KUNIT_EXPECT_EQ(test, 0U, ddi_open_chapter_index_dropped(pc->oci));

	for (i = 1; i < 40; i++)
		KUNIT_EXPECT_EQ(test, search_chapter(test, pc, &pc->names[i * 40]),
				pc->record_pages[i * 40]);
	KUNIT_EXPECT_LT(test, search_chapter(test, pc, &pc->names[1]), 16U);

	/* Same key, unknown name: some colliding page, never out of range. */
	stranger = pc->names[0];
	stranger.bytes[15] ^= 0xff;
	KUNIT_EXPECT_LT(test, search_chapter(test, pc, &stranger), 16U);
}

/* A chapter too full for its pages drops entries, counts them, and stays valid. */
static void chapter_index_drops_what_cannot_fit(struct kunit *test)
{
	struct packed_chapter *pc = make_chapter(test, 16, 16 * 127, 4);
	u32 i, found = 0;

	/* All names in list 0: far more than any page holds. */
	for (i = 0; i < pc->count; i++) {
		u64 bits = get_unaligned_be64(pc->names[i].bytes);

		bits &= ~((u64)(pc->geo.delta_lists_per_chapter - 1) <<
			  pc->geo.chapter_address_bits);
		put_unaligned_be64(bits, pc->names[i].bytes);
	}
	pack_chapter(test, pc, 2);
	KUNIT_EXPECT_GT(test, ddi_open_chapter_index_dropped(pc->oci), 0U);
	for (i = 0; i < pc->count; i++) {
		u32 record_page = search_chapter(test, pc, &pc->names[i]);

		if (record_page == pc->record_pages[i])
			found++;
		else
			KUNIT_EXPECT_TRUE(test, record_page == DDI_NO_RECORD_PAGE ||
					  record_page < 16);
	}
	/* A dropped name may still land on its page through a colliding key. */
	KUNIT_EXPECT_GE(test, found + ddi_open_chapter_index_dropped(pc->oci), pc->count);
	KUNIT_EXPECT_GT(test, found, 0U);
}

static void chapter_index_refuses_bad_input(struct kunit *test)
{
	struct packed_chapter *pc = make_chapter(test, 16, 10, 5);
	u32 packed, too_far;
	int ret;

	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_open_chapter_index_put(pc->oci, &pc->names[0], 16));
	pack_chapter(test, pc, 1);
	/* Once packing has begun, the chapter is closed to new names. */
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_open_chapter_index_put(pc->oci, &pc->names[0], 0));
	too_far = pc->geo.delta_lists_per_chapter + 1;
	ret = ddi_open_chapter_index_pack_page(pc->oci, pc->pages, TEST_NONCE, too_far, true,
					       &packed);
	KUNIT_EXPECT_EQ(test, -EINVAL, ret);
}

static void chapter_index_fills_up(struct kunit *test)
{
	struct packed_chapter *pc = make_chapter(test, 1, 128, 6);
	u32 i;

	ddi_open_chapter_index_reset(pc->oci, 0);
	for (i = 0; i < pc->geo.records_per_chapter; i++)
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_put(pc->oci, &pc->names[i], 0));
	KUNIT_EXPECT_EQ(test, -ENOSPC, ddi_open_chapter_index_put(pc->oci, &pc->names[i], 0));
}

static void fix_crc(struct packed_chapter *pc, u8 *data)
{
	put_unaligned_le32(ddi_ci_page_crc(data, pc->geo.bytes_per_page), data + DDI_CI_CRC);
}

static void chapter_index_refuses_damaged_pages(struct kunit *test)
{
	struct packed_chapter *pc = make_chapter(test, 64, 64 * 127, 8);
	u8 *copy = kunit_kmalloc(test, pc->geo.bytes_per_page, GFP_KERNEL);
	struct ddi_index_page ip;
	struct rnd_state rnd;
	u32 i, size = pc->geo.bytes_per_page;

	KUNIT_ASSERT_NOT_NULL(test, copy);
	pack_chapter(test, pc, 3);
	prandom_seed_state(&rnd, 8);

	/* Any single flipped bit fails the checksum. */
	for (i = 0; i < 500; i++) {
		u32 bit = prandom_u32_state(&rnd) % (size * 8);

		memcpy(copy, pc->pages, size);
		copy[bit / 8] ^= 1 << (bit % 8);
		KUNIT_EXPECT_EQ(test, -EBADMSG,
				ddi_chapter_index_page_init(&ip, &pc->geo, copy, TEST_NONCE));
	}
	/* Another volume's page. */
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			ddi_chapter_index_page_init(&ip, &pc->geo, pc->pages, ~TEST_NONCE));
	/* Blank disk. */
	memset(copy, 0, size);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			ddi_chapter_index_page_init(&ip, &pc->geo, copy, TEST_NONCE));

	/* Consistent checksums over bad ranges: caught by the range checks. */
	memcpy(copy, pc->pages, size);
	put_unaligned_le32(pc->geo.delta_lists_per_chapter + 5, copy + DDI_CI_HIGHEST);
	fix_crc(pc, copy);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			ddi_chapter_index_page_init(&ip, &pc->geo, copy, TEST_NONCE));
	memcpy(copy, pc->pages, size);
	put_unaligned_le16(size * 8, copy + DDI_CI_OFFSETS + 2);
	fix_crc(pc, copy);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			ddi_chapter_index_page_init(&ip, &pc->geo, copy, TEST_NONCE));
	memcpy(copy, pc->pages, size);
	put_unaligned_le16(1, copy + DDI_CI_OFFSETS);
	fix_crc(pc, copy);
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			ddi_chapter_index_page_init(&ip, &pc->geo, copy, TEST_NONCE));
}

/*
 * Garbage stream bits under a valid header and checksum: searches may
 * fail with -EBADMSG or miss, but never return a page outside the chapter.
 */
static void chapter_index_survives_garbage_lists(struct kunit *test)
{
	struct packed_chapter *pc = make_chapter(test, 64, 64 * 127, 9);
	u32 size = pc->geo.bytes_per_page;
	u8 *copy = kunit_kmalloc(test, size, GFP_KERNEL);
	struct ddi_name far_name;
	struct ddi_index_page ip;
	struct rnd_state rnd;
	u32 lists, start, i, errors = 0, record_page;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, copy);
	pack_chapter(test, pc, 3);
	memcpy(copy, pc->pages, size);
	lists = pc->index_pages[0].highest_list + 1;
	start = ddi_ci_stream_start(lists);
	prandom_seed_state(&rnd, 9);
	prandom_bytes_state(&rnd, copy + start, size - start);
	fix_crc(pc, copy);
	KUNIT_ASSERT_EQ(test, 0, ddi_chapter_index_page_init(&ip, &pc->geo, copy, TEST_NONCE));

	for (i = 0; i < pc->count; i++) {
		u32 list = ddi_geometry_delta_list(&pc->geo, &pc->names[i]);

		if (list >= lists)
			continue;
		ret = ddi_chapter_index_page_search(&ip, &pc->geo, &pc->names[i], &record_page);
		if (ret) {
			KUNIT_EXPECT_EQ(test, ret, -EBADMSG);
			errors++;
		} else {
			KUNIT_EXPECT_TRUE(test, record_page == DDI_NO_RECORD_PAGE ||
					  record_page < pc->geo.record_pages_per_chapter);
		}
	}
	KUNIT_EXPECT_GT(test, errors, 0U);

	/* A list that is not on the page is refused, not searched. */
	memset(far_name.bytes, 0xff, sizeof(far_name.bytes));
	ret = ddi_chapter_index_page_search(&pc->index_pages[0], &pc->geo, &far_name, &record_page);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ret);
}

static struct kunit_case chapter_index_cases[] = {
	KUNIT_CASE(chapter_index_finds_every_name),
	KUNIT_CASE(chapter_index_misses_absent_names),
	KUNIT_CASE(chapter_index_separates_colliding_keys),
	KUNIT_CASE(chapter_index_drops_what_cannot_fit),
	KUNIT_CASE(chapter_index_refuses_bad_input),
	KUNIT_CASE(chapter_index_fills_up),
	KUNIT_CASE(chapter_index_refuses_damaged_pages),
	KUNIT_CASE(chapter_index_survives_garbage_lists),
	{}
};

static struct kunit_suite chapter_index_suite = {
	.name = "dm_dedup_index_chapter_index",
	.test_cases = chapter_index_cases,
};

kunit_test_suite(chapter_index_suite);
