// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the volume index: puts and lookups, the moving window,
 * a volume's worth of names, zones, collisions, and save and load.
 */

#include <kunit/test.h>
#include <linux/crc32.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#include "test-util.h"
#include "volume-index-table.h"

struct vi_fixture {
	struct ddi_geometry geo;
	struct ddi_volume_index *vi;
	struct rnd_state rnd;
};

static void free_vi(void *arg)
{
	ddi_volume_index_free(arg);
}

static void free_vmem(void *arg)
{
	vfree(arg);
}

static void *vi_test_vmalloc(struct kunit *test, size_t size)
{
	void *p = vmalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, p));
	return p;
}

static struct ddi_volume_index *vi_test_create(struct kunit *test,
					       const struct ddi_geometry *geo,
					       unsigned int zones)
{
	struct ddi_volume_index *vi = NULL;

	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_create(geo, zones, &vi));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vi, vi));
	return vi;
}

static struct vi_fixture *vi_test_setup(struct kunit *test, u32 record_pages, u32 chapters,
					unsigned int zones)
{
	struct vi_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&f->geo, record_pages, chapters));
	f->vi = vi_test_create(test, &f->geo, zones);
	ddi_test_seed(test, &f->rnd);
	return f;
}

static void vi_random_name(struct vi_fixture *f, struct ddi_name *name)
{
	prandom_bytes_state(&f->rnd, name->bytes, sizeof(name->bytes));
}

/* A random name that lands in @zone. */
static void vi_random_name_in(struct vi_fixture *f, unsigned int zone, struct ddi_name *name)
{
	do {
		vi_random_name(f, name);
	} while (ddi_volume_index_zone(f->vi, name) != zone);
}

static void vi_set_all_windows(struct ddi_volume_index *vi, unsigned int zones, u64 oldest,
			       u64 newest)
{
	unsigned int z;

	for (z = 0; z < zones; z++)
		ddi_volume_index_set_window(vi, z, oldest, newest);
}

/*
 * Put a name that is new to the index, as the index zone will: a hit means
 * its chapter was searched in vain, so the entry found is another name's.
 */
static int vi_put_new(struct ddi_volume_index *vi, const struct ddi_name *name, u64 vcn)
{
	u64 hinted;

	if (ddi_volume_index_lookup(vi, name, &hinted))
		return ddi_volume_index_put_collision(vi, name, vcn);
	return ddi_volume_index_put(vi, name, vcn);
}

static void vi_expect_at(struct kunit *test, struct ddi_volume_index *vi,
			 const struct ddi_name *name, u64 vcn)
{
	u64 found = U64_MAX;

	KUNIT_EXPECT_TRUE(test, ddi_volume_index_lookup(vi, name, &found));
	KUNIT_EXPECT_EQ(test, found, vcn);
}

static void vi_put_lookup_remove(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 4, 16, 1);
	struct ddi_volume_index_stats stats;
	const int count = 100;
	struct ddi_name *names;
	u64 vcn;
	int i;

	names = kunit_kmalloc_array(test, count, sizeof(*names), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, names);
	ddi_volume_index_set_window(f->vi, 0, 0, 15);
	for (i = 0; i < count; i++) {
		vi_random_name(f, &names[i]);
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &names[i], i % 16));
	}
	for (i = 0; i < count; i++)
		vi_expect_at(test, f->vi, &names[i], i % 16);
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.entries + stats.collision_entries, 100ULL);

	for (i = 0; i < count; i += 2)
		ddi_volume_index_remove(f->vi, &names[i]);
	for (i = 0; i < count; i++) {
		if (i % 2)
			vi_expect_at(test, f->vi, &names[i], i % 16);
		else
			KUNIT_EXPECT_FALSE(test, ddi_volume_index_lookup(f->vi, &names[i], &vcn));
	}
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.entries + stats.collision_entries, 50ULL);

	/* Chapters outside the window are refused. */
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_volume_index_put(f->vi, &names[0], 16));
	ddi_volume_index_set_window(f->vi, 0, 4, 15);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_volume_index_put(f->vi, &names[0], 3));
}

static void vi_move_to_newer_chapter(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 4, 16, 1);
	struct ddi_volume_index_stats stats;
	struct ddi_name name;

	vi_random_name(f, &name);
	ddi_volume_index_set_window(f->vi, 0, 0, 2);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put(f->vi, &name, 2));
	vi_expect_at(test, f->vi, &name, 2);
	ddi_volume_index_set_window(f->vi, 0, 0, 9);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put(f->vi, &name, 9));
	vi_expect_at(test, f->vi, &name, 9);
	/* Moved, not copied: chapter 2 leaving takes nothing with it. */
	ddi_volume_index_set_window(f->vi, 0, 3, 9);
	vi_expect_at(test, f->vi, &name, 9);
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.entries, 1ULL);
}

static void vi_window_clamps(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 4, 16, 2);
	u64 oldest, newest;

	ddi_volume_index_set_window(f->vi, 1, 5, 100);
	ddi_volume_index_get_window(f->vi, 1, &oldest, &newest);
	KUNIT_EXPECT_EQ(test, oldest, 85ULL);
	KUNIT_EXPECT_EQ(test, newest, 100ULL);
	/* The window never moves back. */
	ddi_volume_index_set_window(f->vi, 1, 90, 99);
	ddi_volume_index_get_window(f->vi, 1, &oldest, &newest);
	KUNIT_EXPECT_EQ(test, newest, 100ULL);
	ddi_volume_index_set_window(f->vi, 1, 80, 101);
	ddi_volume_index_get_window(f->vi, 1, &oldest, &newest);
	KUNIT_EXPECT_EQ(test, oldest, 86ULL);
	KUNIT_EXPECT_EQ(test, newest, 101ULL);
	/* The other zone has not moved. */
	ddi_volume_index_get_window(f->vi, 0, &oldest, &newest);
	KUNIT_EXPECT_EQ(test, oldest, 0ULL);
	KUNIT_EXPECT_EQ(test, newest, 0ULL);
}

/*
 * Names of a chapter that left the window are absent at once, and the
 * slots they held take new names without any sweep of the whole table.
 */
static void vi_window_expires_and_reuses(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 1, 4, 1);
	const u32 young = 20;
	struct ddi_volume_index_stats stats;
	u32 old, total, i, found = 0;
	struct ddi_name *names;
	u64 vcn;

	ddi_volume_index_get_stats(f->vi, &stats);
	/*
	 * Chapter 0 takes 85% of the table, chapter 1 a few names more, and
	 * chapter 2 as many as chapter 0: it only fits in chapter 0's slots.
	 */
	old = stats.capacity * 85 / 100;
	total = 2 * old + young;
	names = kunit_kmalloc_array(test, total, sizeof(*names), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, names);
	for (i = 0; i < total; i++)
		vi_random_name(f, &names[i]);

	for (i = 0; i < old; i++)
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &names[i], 0));
	ddi_volume_index_set_window(f->vi, 0, 0, 1);
	for (i = old; i < old + young; i++)
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &names[i], 1));
	ddi_volume_index_set_window(f->vi, 0, 1, 2);
	for (i = old + young; i < total; i++)
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &names[i], 2));
	/*
	 * No expired name comes back with its chapter; one may meet a live
	 * entry with the same tag (about 1 lookup in 2000), a hint to chapter 1
	 * or 2 that the chapter would deny.
	 */
	for (i = 0; i < old; i++) {
		if (!ddi_volume_index_lookup(f->vi, &names[i], &vcn))
			continue;
		KUNIT_EXPECT_GE(test, vcn, 1ULL);
		found++;
	}
	KUNIT_EXPECT_LE(test, found, 3U);
	for (i = old; i < total; i++)
		vi_expect_at(test, f->vi, &names[i], i < old + young ? 1 : 2);
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.full_rejections, 0ULL);
	KUNIT_EXPECT_GE(test, stats.expired_reclaimed, total - stats.capacity);
	KUNIT_EXPECT_EQ(test, stats.entries + stats.collision_entries, (u64)old + young);

	/* A window past every entry empties the zone. */
	ddi_volume_index_set_window(f->vi, 0, 3, 3);
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.entries + stats.collision_entries, 0ULL);
}

/*
 * A chapter number is kept as its low bits, so an expired entry left alone
 * would look live again once the window has moved far enough. The sweep
 * must remove it first, even if no lookup or put ever comes near it.
 */
static void vi_expired_never_return(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 1, 4, 1);
	struct ddi_name *sleepers, fresh;
	u32 i, found = 0;
	u64 v, vcn;

	sleepers = kunit_kmalloc_array(test, 200, sizeof(*sleepers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sleepers);

	for (i = 0; i < 100; i++) {
		vi_random_name(f, &sleepers[i]);
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &sleepers[i], 0));
	}
	/* Two volumes on, chapter 0's low bits come round again. */
	for (v = 1; v <= 8; v++)
		ddi_volume_index_set_window(f->vi, 0, v < 3 ? 0 : v - 3, v);
	for (i = 0; i < 100; i++)
		found += ddi_volume_index_lookup(f->vi, &sleepers[i], &vcn);
	KUNIT_EXPECT_EQ(test, found, 0U);

	for (i = 100; i < 200; i++) {
		vi_random_name(f, &sleepers[i]);
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &sleepers[i], 8));
	}
	/* Many more volumes, with other names coming and going. */
	for (v = 9; v <= 64; v++) {
		ddi_volume_index_set_window(f->vi, 0, v - 3, v);
		for (i = 0; i < 20; i++) {
			vi_random_name(f, &fresh);
			KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &fresh, v));
		}
		vi_expect_at(test, f->vi, &fresh, v);
	}
	found = 0;
	for (i = 100; i < 200; i++)
		found += ddi_volume_index_lookup(f->vi, &sleepers[i], &vcn);
	KUNIT_EXPECT_EQ(test, found, 0U);

	/* The window may also jump several chapters at a time. */
	for (i = 0; i < 100; i++)
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &sleepers[i], 64));
	for (v = 67; v <= 73; v += 3)
		ddi_volume_index_set_window(f->vi, 0, v - 3, v);
	found = 0;
	for (i = 0; i < 100; i++)
		found += ddi_volume_index_lookup(f->vi, &sleepers[i], &vcn);
	KUNIT_EXPECT_EQ(test, found, 0U);
}

/*
 * Fill a volume's worth of names, a chapter at a time, over four zones:
 * every name is found in its own chapter, and absent names hit no more
 * often than the tag bits allow.
 */
static void vi_fill_to_capacity(struct kunit *test)
{
	const unsigned int zones = 4, absent_count = 200000;
	struct vi_fixture *f = vi_test_setup(test, 1, 1024, zones);
	u32 per_chapter = f->geo.records_per_chapter;
	u64 count = f->geo.records_per_volume;
	struct ddi_volume_index_stats stats;
	u32 tag_bits, missed = 0, false_hits = 0;
	u64 i, vcn, bound;
	struct ddi_name *names, name;

	names = vi_test_vmalloc(test, count * sizeof(*names));
	for (i = 0; i < count; i++) {
		vcn = i / per_chapter;
		if (i % per_chapter == 0)
			vi_set_all_windows(f->vi, zones, 0, vcn);
		vi_random_name(f, &names[i]);
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &names[i], vcn));
	}
	for (i = 0; i < count; i++)
		missed += !ddi_volume_index_lookup(f->vi, &names[i], &vcn) ||
			  vcn != i / per_chapter;
	KUNIT_EXPECT_EQ(test, missed, 0U);

	for (i = 0; i < absent_count; i++) {
		vi_random_name(f, &name);
		false_hits += ddi_volume_index_lookup(f->vi, &name, &vcn);
	}
	/*
	 * An absent name is compared with at most the 32 slots of its two
	 * buckets, each holding a tag drawn from 2^tag_bits - 1 values, so it
	 * hits with a chance below 32 / (2^tag_bits - 1). Allow three times
	 * the mean that gives, plus a few for the luck of the draw.
	 */
	tag_bits = DDI_VI_TAG_BITS;
	bound = div_u64((u64)absent_count * 32, (1U << tag_bits) - 1);
	ddi_volume_index_get_stats(f->vi, &stats);
	kunit_info(test,
		   "%llu names, %llu slots (load %llu%%), %llu collisions, %u/%u false hits (mean bound %llu), %llu.%02llu bytes/record\n",
		   count, stats.capacity, div64_u64(100 * count, stats.capacity),
		   stats.collisions, false_hits, absent_count, bound,
		   div64_u64(stats.memory_bytes, count),
		   div64_u64(100 * stats.memory_bytes, count) % 100);
	KUNIT_EXPECT_LE(test, false_hits, 3 * bound + 8);
	KUNIT_EXPECT_EQ(test, stats.full_rejections, 0ULL);
	KUNIT_EXPECT_EQ(test, stats.entries + stats.collision_entries, count);
	KUNIT_EXPECT_LE(test, stats.memory_bytes, 5 * count);
}

/*
 * Past capacity puts are refused and counted, never at the cost of a name
 * already in: a put that finds no room undoes the moves it tried.
 */
static void vi_full_table_counts_rejections(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 1, 4, 1);
	struct ddi_volume_index_stats stats;
	u32 total, i, accepted = 0, rejected = 0, missed = 0;
	struct ddi_name *names;
	bool *in;
	u64 vcn;
	int err;

	ddi_volume_index_get_stats(f->vi, &stats);
	total = stats.capacity + stats.capacity / 4;
	names = kunit_kmalloc_array(test, total, sizeof(*names), GFP_KERNEL);
	in = kunit_kzalloc(test, total, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, names);
	KUNIT_ASSERT_NOT_NULL(test, in);
	for (i = 0; i < total; i++) {
		vi_random_name(f, &names[i]);
		err = vi_put_new(f->vi, &names[i], 0);
		KUNIT_ASSERT_TRUE(test, err == 0 || err == -ENOSPC);
		in[i] = !err;
		accepted += !err;
		rejected += !!err;
	}
	for (i = 0; i < total; i++)
		missed += in[i] && !ddi_volume_index_lookup(f->vi, &names[i], &vcn);
	ddi_volume_index_get_stats(f->vi, &stats);
	kunit_info(test, "%u of %llu slots filled, %u puts refused\n",
		   accepted, stats.capacity, rejected);
	KUNIT_EXPECT_EQ(test, missed, 0U);
	KUNIT_EXPECT_GT(test, rejected, 0U);
	KUNIT_EXPECT_EQ(test, stats.full_rejections, (u64)rejected);
	KUNIT_EXPECT_EQ(test, stats.entries + stats.collision_entries, (u64)accepted);
	/* Two choices of sixteen slots fill nearly all of the table. */
	KUNIT_EXPECT_GE(test, (u64)accepted, stats.capacity * 95 / 100);
}

static void vi_zones_independent(struct kunit *test)
{
	const unsigned int zones = 4, per_zone = 50;
	struct vi_fixture *f = vi_test_setup(test, 4, 16, zones);
	unsigned int z, i, seen[4] = { };
	struct ddi_name (*names)[50];
	struct ddi_name name;
	u64 vcn;

	names = kunit_kmalloc_array(test, zones, sizeof(*names), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, names);

	/* Zones are chosen from bytes 12..15 and share names out evenly. */
	for (i = 0; i < 4000; i++) {
		vi_random_name(f, &name);
		seen[ddi_volume_index_zone(f->vi, &name)]++;
	}
	for (z = 0; z < zones; z++)
		KUNIT_EXPECT_GT(test, seen[z], 800U);
	put_unaligned_le32(6, name.bytes + 12);
	KUNIT_EXPECT_EQ(test, ddi_volume_index_zone(f->vi, &name), 2U);

	for (z = 0; z < zones; z++) {
		for (i = 0; i < per_zone; i++) {
			vi_random_name_in(f, z, &names[z][i]);
			KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &names[z][i], 0));
		}
	}
	/* Zone 0 moves on alone: its names leave, the others' stay. */
	ddi_volume_index_set_window(f->vi, 0, 1, 1);
	for (i = 0; i < per_zone; i++)
		KUNIT_EXPECT_FALSE(test, ddi_volume_index_lookup(f->vi, &names[0][i], &vcn));
	for (z = 1; z < zones; z++)
		for (i = 0; i < per_zone; i++)
			vi_expect_at(test, f->vi, &names[z][i], 0);
	/* Each zone takes chapters of its own window only. */
	KUNIT_EXPECT_EQ(test, 0, ddi_volume_index_put(f->vi, &names[0][0], 1));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_volume_index_put(f->vi, &names[1][0], 1));
	vi_expect_at(test, f->vi, &names[1][0], 0);
}

/* Two names that differ only in the bytes the volume index ignores. */
static void vi_collision_keeps_both(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 4, 16, 1);
	struct ddi_volume_index_stats stats;
	struct ddi_name a, b;
	u64 vcn;

	vi_random_name(f, &a);
	b = a;
	b.bytes[0] ^= 0x5a;
	ddi_volume_index_set_window(f->vi, 0, 0, 3);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put(f->vi, &a, 1));
	/* b is not there, but looks like a: the chapter would deny it. */
	vi_expect_at(test, f->vi, &b, 1);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put_collision(f->vi, &b, 2));
	vi_expect_at(test, f->vi, &a, 1);
	vi_expect_at(test, f->vi, &b, 2);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put(f->vi, &a, 3));
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put(f->vi, &b, 3));
	vi_expect_at(test, f->vi, &a, 3);
	vi_expect_at(test, f->vi, &b, 3);
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.collisions, 1ULL);
	KUNIT_EXPECT_EQ(test, stats.collision_entries, 1ULL);
	KUNIT_EXPECT_EQ(test, stats.entries, 1ULL);

	/* Removing b leaves a; b is then only a false hint to a's chapter. */
	ddi_volume_index_remove(f->vi, &b);
	vi_expect_at(test, f->vi, &a, 3);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put_collision(f->vi, &b, 2));
	vi_expect_at(test, f->vi, &b, 2);
	/* b's chapter leaves the window before a's. */
	ddi_volume_index_set_window(f->vi, 0, 3, 5);
	vi_expect_at(test, f->vi, &a, 3);
	vi_expect_at(test, f->vi, &b, 3);
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.collision_entries, 0ULL);
	/* With a gone too, b's put is an ordinary one. */
	ddi_volume_index_set_window(f->vi, 0, 4, 5);
	KUNIT_EXPECT_FALSE(test, ddi_volume_index_lookup(f->vi, &a, &vcn));
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put_collision(f->vi, &b, 5));
	ddi_volume_index_get_stats(f->vi, &stats);
	KUNIT_EXPECT_EQ(test, stats.collision_entries, 0ULL);
	KUNIT_EXPECT_EQ(test, stats.entries, 1ULL);
	vi_expect_at(test, f->vi, &b, 5);
}

/* Names spread over a full window of chapters, and one collision. */
static struct ddi_name *vi_fill_window(struct kunit *test, struct vi_fixture *f,
				       unsigned int zones, u32 count, u64 newest)
{
	struct ddi_name *names = vi_test_vmalloc(test, count * sizeof(*names));
	u64 oldest = newest - f->geo.chapters_per_volume + 1;
	u32 i;

	vi_set_all_windows(f->vi, zones, oldest, newest);
	for (i = 0; i < count; i++) {
		vi_random_name(f, &names[i]);
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &names[i], oldest + i % 32));
	}
	names[count - 1] = names[0];
	names[count - 1].bytes[1] ^= 1;
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put_collision(f->vi, &names[count - 1],
								oldest + (count - 1) % 32));
	return names;
}

static void vi_save_load_round_trip(struct kunit *test)
{
	const unsigned int zones = 2;
	const u32 count = 4000;
	struct vi_fixture *f = vi_test_setup(test, 2, 32, zones);
	struct ddi_volume_index *copy = vi_test_create(test, &f->geo, zones);
	struct ddi_volume_index_stats before, after;
	size_t size = ddi_volume_index_save_size(f->vi);
	u64 oldest, newest, base = 1000;
	struct ddi_name *names;
	u8 *buf;
	u32 i;

	names = vi_fill_window(test, f, zones, count, base + 31);
	buf = vi_test_vmalloc(test, size);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_volume_index_save(f->vi, buf, size - 1));
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_save(f->vi, buf, size));
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_load(copy, buf, size));

	for (i = 0; i < count; i++)
		vi_expect_at(test, copy, &names[i], base + i % 32);
	ddi_volume_index_get_window(copy, 1, &oldest, &newest);
	KUNIT_EXPECT_EQ(test, oldest, base);
	KUNIT_EXPECT_EQ(test, newest, base + 31);
	ddi_volume_index_get_stats(f->vi, &before);
	ddi_volume_index_get_stats(copy, &after);
	KUNIT_EXPECT_EQ(test, after.entries, before.entries);
	/* The name made to collide, and any random ones whose tags met. */
	KUNIT_EXPECT_GE(test, before.collision_entries, 1ULL);
	KUNIT_EXPECT_EQ(test, after.collision_entries, before.collision_entries);
	/* The copy goes on working: its window moves and names expire. */
	vi_set_all_windows(copy, zones, base + 16, base + 40);
	for (i = 0; i < count; i++) {
		if (i % 32 >= 16)
			vi_expect_at(test, copy, &names[i], base + i % 32);
	}
}

static void vi_load_refuses_damage(struct kunit *test)
{
	const unsigned int zones = 2;
	struct vi_fixture *f = vi_test_setup(test, 2, 32, zones);
	struct ddi_volume_index *victim = vi_test_create(test, &f->geo, zones);
	struct ddi_volume_index *other_zones = vi_test_create(test, &f->geo, 4);
	size_t size = ddi_volume_index_save_size(f->vi);
	size_t part = ddi_volume_index_zone_save_size(f->vi);
	struct ddi_geometry other_geo;
	struct ddi_volume_index *other_shape;
	struct ddi_name *names, kept[20];
	u64 oldest, newest;
	u8 *buf, *bad;
	u32 i;

	names = vi_fill_window(test, f, zones, 1000, 31);
	buf = vi_test_vmalloc(test, size);
	bad = vi_test_vmalloc(test, size);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_save(f->vi, buf, size));

	/* The victim holds names of its own, which must survive each refusal. */
	vi_set_all_windows(victim, zones, 2, 7);
	for (i = 0; i < ARRAY_SIZE(kept); i++) {
		vi_random_name(f, &kept[i]);
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(victim, &kept[i], 7));
	}

	memcpy(bad, buf, size);
	bad[size - part / 2] ^= 0x10;	/* in zone 1's table */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(victim, bad, size));
	memcpy(bad, buf, size);
	bad[0] ^= 1;			/* magic */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(victim, bad, size));
	memcpy(bad, buf, size);
	bad[size - 1] ^= 0x80;		/* zone 1's crc */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(victim, bad, size));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(victim, buf, size - 1));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(other_zones, buf, size));
	/* Zone parts are only taken for the zone they were saved from. */
	KUNIT_EXPECT_EQ(test, -EBADMSG,
			ddi_volume_index_load_zone(victim, 0, buf + size - part, part));

	for (i = 0; i < ARRAY_SIZE(kept); i++)
		vi_expect_at(test, victim, &kept[i], 7);
	KUNIT_EXPECT_FALSE(test, ddi_volume_index_lookup(victim, &names[0], &oldest));
	ddi_volume_index_get_window(victim, 1, &oldest, &newest);
	KUNIT_EXPECT_EQ(test, oldest, 2ULL);
	KUNIT_EXPECT_EQ(test, newest, 7ULL);

	/* Another geometry is another shape, even with the same zone count. */
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&other_geo, 2, 64));
	other_shape = vi_test_create(test, &other_geo, zones);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(other_shape, buf, size));

	/* A sound zone part loads into its own zone alone. */
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_load_zone(victim, 1, buf + size - part, part));
	for (i = 0; i < 1000; i++) {
		if (ddi_volume_index_zone(victim, &names[i]) == 1)
			vi_expect_at(test, victim, &names[i], i % 32);
	}
	for (i = 0; i < ARRAY_SIZE(kept); i++) {
		if (ddi_volume_index_zone(victim, &kept[i]) == 0)
			vi_expect_at(test, victim, &kept[i], 7);
	}
}

/* Set the u32 at @offset of a one-zone save and fix the zone's crc. */
/* Make the checksum of a one-zone save's zone part good again. */
static void vi_fix_zone_crc(u8 *buf, size_t size)
{
	size_t part = size - 40;

	put_unaligned_le32(crc32_le(~0, buf + 40, part - 4), buf + size - 4);
}

static void vi_patch_le64(u8 *buf, size_t size, size_t offset, u64 value)
{
	size_t part = size - 40;

	put_unaligned_le64(value, buf + offset);
	put_unaligned_le32(crc32_le(~0, buf + 40, part - 4), buf + size - 4);
}

/*
 * Contents no put can leave, with good checksums: an entry without a tag,
 * a collision slot of a chapter past the window's newest. Both are refused.
 */
static void vi_load_refuses_impossible_contents(struct kunit *test)
{
	struct vi_fixture *f = vi_test_setup(test, 2, 32, 1);
	struct ddi_volume_index *copy = vi_test_create(test, &f->geo, 1);
	size_t size = ddi_volume_index_save_size(f->vi);
	/* Index header, zone header, then the table's buckets and the collision slots. */
	size_t slots = 40 + 72;
	size_t collisions = slots + ddi_vi_table_bytes(f->vi);
	u8 *buf = vi_test_vmalloc(test, size), *bad = vi_test_vmalloc(test, size);
	u8 *bucket;

	vi_fill_window(test, f, 1, 200, 31);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_save(f->vi, buf, size));
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_load(copy, buf, size));

	/* An entry of chapter 3 with no tag, in slot 5 of bucket 0. */
	memcpy(bad, buf, size);
	bucket = bad + slots;
	ddi_vi_slot_set(f->vi, bucket, 5, 3);
	vi_fix_zone_crc(bad, size);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(copy, bad, size));
	/* With a tag, the same entry loads. */
	memcpy(bad, buf, size);
	ddi_vi_slot_set(f->vi, bad + slots, 5, (7U << f->vi->vcn_bits) | 3);
	vi_fix_zone_crc(bad, size);
	KUNIT_EXPECT_EQ(test, 0, ddi_volume_index_load(copy, bad, size));
	memcpy(bad, buf, size);
	vi_patch_le64(bad, size, collisions + 16, 32);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_volume_index_load(copy, bad, size));
	/* The newest chapter itself is fine. */
	memcpy(bad, buf, size);
	vi_patch_le64(bad, size, collisions + 16, 31);
	KUNIT_EXPECT_EQ(test, 0, ddi_volume_index_load(copy, bad, size));
}

/* Whether every bucket of every zone holds its entries in its first slots. */
static bool vi_buckets_packed(const struct ddi_volume_index *vi)
{
	unsigned int z;
	u32 b;
	int i;

	for (z = 0; z < vi->zone_count; z++) {
		for (b = 0; b < vi->bucket_count; b++) {
			const u8 *slots = ddi_vi_bucket(vi, &vi->zones[z], b);
			bool empty_seen = false;

			for (i = 0; i < DDI_VI_SLOTS_PER_BUCKET; i++) {
				if (!ddi_vi_slot_get(vi, slots, i))
					empty_seen = true;
				else if (empty_seen)
					return false;
			}
		}
	}
	return true;
}

/* Where vi_buckets_stay_packed() expects names[i] after its changes. */
static u64 vi_packed_expected_vcn(u32 i)
{
	if (i % 5 == 1)
		return 31;
	return i % 3 == 0 ? U64_MAX : i % 32;
}

/*
 * A search stops at a bucket's first empty slot, so every change keeps a
 * bucket's entries in its first slots: puts, moves, removals, expiry and
 * the moves of displacement. A save with a gap, as versions before this
 * rule could leave, loads packed with every name found.
 */
static void vi_buckets_stay_packed(struct kunit *test)
{
	const unsigned int zones = 2;
	const u32 count = 3000;
	struct vi_fixture *f = vi_test_setup(test, 1, 32, zones);
	struct ddi_volume_index *copy = vi_test_create(test, &f->geo, zones);
	size_t size = ddi_volume_index_save_size(f->vi);
	size_t part = ddi_volume_index_zone_save_size(f->vi);
	struct ddi_name *names, name;
	u32 i, b, first, last;
	u8 *buf, *bucket;
	u64 vcn;

	names = vi_fill_window(test, f, zones, count, 31);
	KUNIT_EXPECT_TRUE(test, vi_buckets_packed(f->vi));
	for (i = 0; i < count; i += 3)
		ddi_volume_index_remove(f->vi, &names[i]);
	for (i = 1; i < count; i += 5)
		KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_put(f->vi, &names[i], 31));
	KUNIT_EXPECT_TRUE(test, vi_buckets_packed(f->vi));
	for (i = 0; i < count; i++) {
		if (vi_packed_expected_vcn(i) != U64_MAX)
			vi_expect_at(test, f->vi, &names[i], vi_packed_expected_vcn(i));
	}

	/* Half the window expires; new names reuse the slots freed. */
	vi_set_all_windows(f->vi, zones, 16, 47);
	for (i = 0; i < 1000; i++) {
		vi_random_name(f, &name);
		KUNIT_ASSERT_EQ(test, 0, vi_put_new(f->vi, &name, 47));
	}
	KUNIT_EXPECT_TRUE(test, vi_buckets_packed(f->vi));

	/* A save whose first bucket with room has its first entry moved last. */
	buf = vi_test_vmalloc(test, size);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_save(f->vi, buf, size));
	for (b = 0; b < f->vi->bucket_count; b++) {
		bucket = buf + 40 + 72 + (size_t)b * f->vi->bucket_bytes;
		last = DDI_VI_SLOTS_PER_BUCKET - 1;
		if (ddi_vi_slot_get(f->vi, bucket, 0) && !ddi_vi_slot_get(f->vi, bucket, last))
			break;
	}
	KUNIT_ASSERT_LT(test, b, f->vi->bucket_count);
	first = ddi_vi_slot_get(f->vi, bucket, 0);
	ddi_vi_slot_set(f->vi, bucket, last, first);
	ddi_vi_slot_set(f->vi, bucket, 0, 0);
	put_unaligned_le32(crc32_le(~0, buf + 40, part - 4), buf + 40 + part - 4);
	KUNIT_ASSERT_EQ(test, 0, ddi_volume_index_load(copy, buf, size));
	KUNIT_EXPECT_TRUE(test, vi_buckets_packed(copy));
	for (i = 0; i < count; i++) {
		if (vi_packed_expected_vcn(i) != U64_MAX && vi_packed_expected_vcn(i) >= 16) {
			KUNIT_EXPECT_TRUE(test, ddi_volume_index_lookup(copy, &names[i], &vcn));
			KUNIT_EXPECT_EQ(test, vcn, vi_packed_expected_vcn(i));
		}
	}
}

static void vi_geometry_sizes(struct kunit *test)
{
	static const u32 shapes[][3] = {
		{ 256, 1024, 1 }, { 256, 1024, 4 }, { 256, 1024, 16 }, { 1024, 64, 1 },
		{ 64, 1024, 2 }, { 16, 256, 8 }, { 1, 16384, 1 },
	};
	struct ddi_volume_index_stats stats;
	struct ddi_volume_index *vi;
	struct ddi_geometry geo;
	u64 bytes, records;
	u32 entry_bits;
	int i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, shapes[i][0], shapes[i][1]));
		bytes = ddi_volume_index_memory_needed(&geo, shapes[i][2]);
		records = geo.records_per_volume;
		kunit_info(test, "%u pages x %u chapters, %u zones: %llu records, %llu.%02llu bytes/record\n",
			   shapes[i][0], shapes[i][1], shapes[i][2], records,
			   div64_u64(bytes, records), div64_u64(100 * bytes, records) % 100);
		/*
		 * At least an entry a record (vcn bits and a 16-bit tag), at most
		 * that at 95% load plus a collision slot per 200 records.
		 */
		entry_bits = order_base_2(shapes[i][1] + shapes[i][1] / 4 + 1) + 16;
		KUNIT_EXPECT_GE(test, bytes, div64_u64(records * entry_bits, 8));
		KUNIT_EXPECT_LE(test, bytes, div64_u64(records * entry_bits * 100, 8 * 95) +
				records * 24 / 200 + 4096 * shapes[i][2]);
	}

	/* What create allocates is what was asked about. */
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, 16, 256));
	vi = vi_test_create(test, &geo, 2);
	ddi_volume_index_get_stats(vi, &stats);
	KUNIT_EXPECT_EQ(test, ddi_volume_index_memory_bytes(vi),
			ddi_volume_index_memory_needed(&geo, 2));
	KUNIT_EXPECT_EQ(test, stats.memory_bytes, ddi_volume_index_memory_bytes(vi));
	KUNIT_EXPECT_GE(test, stats.capacity, div64_u64(geo.records_per_volume * 100, 97));
	KUNIT_EXPECT_EQ(test, ddi_volume_index_save_size(vi),
			40 + 2 * ddi_volume_index_zone_save_size(vi));
	KUNIT_EXPECT_GE(test, ddi_volume_index_zone_save_size(vi),
			stats.capacity / 2 * vi->entry_bits / 8);

	/* Shapes the index refuses. */
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_volume_index_create(&geo, 0, &vi));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_volume_index_create(&geo, 17, &vi));
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, 1, 65536));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_volume_index_create(&geo, 1, &vi));
	KUNIT_EXPECT_EQ(test, 0ULL, ddi_volume_index_memory_needed(&geo, 1));
}

static struct kunit_case volume_index_cases[] = {
	KUNIT_CASE(vi_put_lookup_remove),
	KUNIT_CASE(vi_move_to_newer_chapter),
	KUNIT_CASE(vi_window_clamps),
	KUNIT_CASE(vi_window_expires_and_reuses),
	KUNIT_CASE(vi_expired_never_return),
	KUNIT_CASE(vi_fill_to_capacity),
	KUNIT_CASE(vi_full_table_counts_rejections),
	KUNIT_CASE(vi_zones_independent),
	KUNIT_CASE(vi_collision_keeps_both),
	KUNIT_CASE(vi_save_load_round_trip),
	KUNIT_CASE(vi_load_refuses_damage),
	KUNIT_CASE(vi_load_refuses_impossible_contents),
	KUNIT_CASE(vi_buckets_stay_packed),
	KUNIT_CASE(vi_geometry_sizes),
	{}
};

static struct kunit_suite volume_index_suite = {
	.name = "dm_dedup_index_volume_index",
	.test_cases = volume_index_cases,
};

kunit_test_suite(volume_index_suite);
