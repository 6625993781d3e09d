// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the page cache's choice of victim: the least recently
 * used of the next few slots from a rotating hand. Slots are filled with
 * page numbers alone (no dm-bufio buffers), which is all the choice looks
 * at.
 */

#include <kunit/test.h>
#include <linux/mutex.h>

#include "page-cache.h"

enum {
	PC_SLOTS = 100,
	PC_PAGES = 1000,
	/* Every tenth slot's page is in use. */
	PC_HOT_EVERY = 10,
};

struct pc_fixture {
	/* Stands in for the volume's read mutex, which claims need held. */
	struct mutex lock;
	struct ddi_page_cache cache;
};

static void pc_destroy(void *arg)
{
	struct pc_fixture *f = arg;

	ddi_page_cache_destroy(&f->cache);
	mutex_destroy(&f->lock);
}

/* A cache whose slots hold pages 0 .. PC_SLOTS - 1, in claim order. */
static struct pc_fixture *pc_setup(struct kunit *test)
{
	struct pc_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	u32 p;

	KUNIT_ASSERT_NOT_NULL(test, f);
	mutex_init(&f->lock);
	KUNIT_ASSERT_EQ(test, 0, ddi_page_cache_init(&f->cache, PC_PAGES, PC_SLOTS, 1, &f->lock));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, pc_destroy, f));
	mutex_lock(&f->lock);
	for (p = 0; p < PC_SLOTS; p++) {
		struct ddi_cached_page *page = ddi_page_cache_claim_victim(&f->cache);

		KUNIT_ASSERT_NOT_NULL(test, page);
		ddi_page_cache_install(&f->cache, page, p);
	}
	mutex_unlock(&f->lock);
	return f;
}

/*
 * Pages in use survive while others are unused: after the first fill,
 * every tenth page is touched, and 40 more reads each evict an untouched
 * page, whatever slot the hand is at.
 */
static void page_cache_keeps_pages_in_use(struct kunit *test)
{
	struct pc_fixture *f = pc_setup(test);
	struct ddi_cached_page *page;
	u32 p, i;

	for (p = 0; p < PC_SLOTS; p += PC_HOT_EVERY) {
		page = ddi_page_cache_lookup(&f->cache, p);
		KUNIT_ASSERT_NOT_NULL_MSG(test, page, "page %u after the fill", p);
		ddi_page_cache_touch(&f->cache, page);
	}

	mutex_lock(&f->lock);
	for (i = 0; i < 40; i++) {
		page = ddi_page_cache_claim_victim(&f->cache);
		KUNIT_ASSERT_NOT_NULL(test, page);
		ddi_page_cache_install(&f->cache, page, PC_SLOTS + i);
	}
	mutex_unlock(&f->lock);

	for (p = 0; p < PC_SLOTS; p += PC_HOT_EVERY)
		KUNIT_EXPECT_NOT_NULL_MSG(test, ddi_page_cache_lookup(&f->cache, p), "page %u", p);
	for (i = 0; i < 40; i++)
		KUNIT_EXPECT_NOT_NULL(test, ddi_page_cache_lookup(&f->cache, PC_SLOTS + i));
}

/*
 * No page hides from the hand: once pages nobody touches have been read
 * in twice the cache's size, none of the first fill is left, and the
 * last half cache's worth of reads are all cached.
 */
static void page_cache_evicts_every_unused_page(struct kunit *test)
{
	struct pc_fixture *f = pc_setup(test);
	struct ddi_cached_page *page;
	u32 p, left = 0;

	mutex_lock(&f->lock);
	for (p = PC_SLOTS; p < 3 * PC_SLOTS; p++) {
		page = ddi_page_cache_claim_victim(&f->cache);
		KUNIT_ASSERT_NOT_NULL(test, page);
		ddi_page_cache_install(&f->cache, page, p);
	}
	mutex_unlock(&f->lock);

	for (p = 0; p < PC_SLOTS; p++)
		left += !!ddi_page_cache_lookup(&f->cache, p);
	KUNIT_EXPECT_EQ(test, left, 0U);
	for (p = 2 * PC_SLOTS + PC_SLOTS / 2; p < 3 * PC_SLOTS; p++)
		KUNIT_EXPECT_NOT_NULL_MSG(test, ddi_page_cache_lookup(&f->cache, p), "page %u", p);
}

/*
 * A slot with a read pending is never chosen: with every slot claimed but
 * one, far from the hand, the next claim looks past its window to it.
 */
static void page_cache_skips_pending_reads(struct kunit *test)
{
	struct pc_fixture *f = pc_setup(test);
	struct ddi_cached_page *claimed[PC_SLOTS - 1], *page;
	u32 i;

	mutex_lock(&f->lock);
	for (i = 0; i < PC_SLOTS - 1; i++) {
		claimed[i] = ddi_page_cache_claim_victim(&f->cache);
		KUNIT_ASSERT_NOT_NULL(test, claimed[i]);
	}
	page = ddi_page_cache_claim_victim(&f->cache);
	KUNIT_ASSERT_NOT_NULL(test, page);
	for (i = 0; i < PC_SLOTS - 1; i++)
		KUNIT_EXPECT_PTR_NE(test, page, claimed[i]);
	ddi_page_cache_cancel(&f->cache, page);
	for (i = 0; i < PC_SLOTS - 1; i++)
		ddi_page_cache_cancel(&f->cache, claimed[i]);
	mutex_unlock(&f->lock);
}

static struct kunit_case page_cache_cases[] = {
	KUNIT_CASE(page_cache_keeps_pages_in_use),
	KUNIT_CASE(page_cache_evicts_every_unused_page),
	KUNIT_CASE(page_cache_skips_pending_reads),
	{}
};

static struct kunit_suite page_cache_suite = {
	.name = "dm_dedup_index_page_cache",
	.test_cases = page_cache_cases,
};

kunit_test_suite(page_cache_suite);
