// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the radix sorter: every result is checked against the
 * kernel's sort_r() over the same keys, compared with memcmp().
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "radix-sort.h"

struct sort_case {
	u8 *key_bytes;
	const u8 **ours;
	const u8 **reference;
	u32 count;
	u16 key_length;
};

static int compare_keys(const void *a, const void *b, const void *priv)
{
	const u8 *const *left = a;
	const u8 *const *right = b;
	u16 key_length = *(const u16 *)priv;

	return memcmp(*left, *right, key_length);
}

static void free_sort_case(void *arg)
{
	struct sort_case *sc = arg;

	vfree(sc->key_bytes);
	vfree(sc->ours);
	vfree(sc->reference);
}

static struct sort_case *make_sort_case(struct kunit *test, u32 count, u16 key_length)
{
	struct sort_case *sc = kunit_kzalloc(test, sizeof(*sc), GFP_KERNEL);
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, sc);
	sc->count = count;
	sc->key_length = key_length;
	/* One spare key so that a zero-count case still has valid buffers. */
	sc->key_bytes = vzalloc((size_t)(count + 1) * key_length);
	sc->ours = vcalloc(count + 1, sizeof(*sc->ours));
	sc->reference = vcalloc(count + 1, sizeof(*sc->reference));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_sort_case, sc));
	KUNIT_ASSERT_NOT_NULL(test, sc->key_bytes);
	KUNIT_ASSERT_NOT_NULL(test, sc->ours);
	KUNIT_ASSERT_NOT_NULL(test, sc->reference);
	for (i = 0; i < count; i++)
		sc->ours[i] = sc->key_bytes + (size_t)i * key_length;
	return sc;
}

static void fill_random(struct sort_case *sc, u64 seed)
{
	struct rnd_state rnd;

	prandom_seed_state(&rnd, seed);
	prandom_bytes_state(&rnd, sc->key_bytes, (size_t)sc->count * sc->key_length);
}

static void expect_sorted_like_kernel(struct kunit *test, struct sort_case *sc)
{
	struct ddi_radix_sorter *sorter;
	u32 i, mismatches = 0;

	memcpy(sc->reference, sc->ours, sc->count * sizeof(*sc->ours));
	KUNIT_ASSERT_EQ(test, 0, ddi_radix_sorter_create(sc->count, &sorter));
	KUNIT_EXPECT_EQ(test, 0, ddi_radix_sort(sorter, sc->ours, sc->count, sc->key_length));
	ddi_radix_sorter_free(sorter);
	sort_r(sc->reference, sc->count, sizeof(*sc->reference), compare_keys, NULL,
	       &sc->key_length);

	/* Equal keys may be permuted differently: compare contents, not pointers. */
	for (i = 0; i < sc->count; i++) {
		if (memcmp(sc->ours[i], sc->reference[i], sc->key_length) != 0)
			mismatches++;
	}
	KUNIT_EXPECT_EQ_MSG(test, 0, mismatches, "count %u, key length %u", sc->count,
			    sc->key_length);

	/* And every key is still there exactly once: a permutation. */
	sort_r(sc->ours, sc->count, sizeof(*sc->ours), compare_keys, NULL, &sc->key_length);
	for (i = 0; i < sc->count; i++) {
		if (memcmp(sc->ours[i], sc->reference[i], sc->key_length) != 0)
			mismatches++;
	}
	KUNIT_EXPECT_EQ(test, 0, mismatches);
}

static const u32 random_counts[] = {
	0, 1, 2,
	DDI_RADIX_SORT_INSERTION_LIMIT - 1,
	DDI_RADIX_SORT_INSERTION_LIMIT,
	DDI_RADIX_SORT_INSERTION_LIMIT + 1,
	1024,
};

static const u16 key_lengths[] = { 1, 2, 4, 16, 32 };

static void radix_sort_random_keys(struct kunit *test)
{
	u32 c, l;

	for (c = 0; c < ARRAY_SIZE(random_counts); c++) {
		for (l = 0; l < ARRAY_SIZE(key_lengths); l++) {
			struct sort_case *sc = make_sort_case(test, random_counts[c],
							      key_lengths[l]);

			fill_random(sc, c * 100 + l);
			expect_sorted_like_kernel(test, sc);
		}
	}
}

static void radix_sort_many_random_keys(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 262144, 16);

	fill_random(sc, 262144);
	expect_sorted_like_kernel(test, sc);
}

/* Two-byte keys: 262144 of them repeat every value four times on average. */
static void radix_sort_many_short_keys(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 262144, 2);

	fill_random(sc, 2);
	expect_sorted_like_kernel(test, sc);
}

static void radix_sort_all_equal_keys(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 1024, 16);

	memset(sc->key_bytes, 0x5a, 1024 * 16);
	expect_sorted_like_kernel(test, sc);
}

static void radix_sort_keys_differing_in_last_byte(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 1024, 16);
	u32 i;

	for (i = 0; i < sc->count; i++) {
		u8 *key = sc->key_bytes + i * 16;

		memset(key, 0xc3, 15);
		/* Reversed, with repeats: 1024 keys share 256 last bytes. */
		key[15] = 255 - (i % 256);
	}
	expect_sorted_like_kernel(test, sc);
}

static void fill_counting(struct sort_case *sc, bool descending)
{
	u32 i;

	for (i = 0; i < sc->count; i++) {
		u32 value = descending ? sc->count - 1 - i : i;
		u8 *key = sc->key_bytes + i * sc->key_length;

		/* Big-endian so byte order is numeric order. */
		key[sc->key_length - 4] = value >> 24;
		key[sc->key_length - 3] = value >> 16;
		key[sc->key_length - 2] = value >> 8;
		key[sc->key_length - 1] = value;
	}
}

static void radix_sort_sorted_input(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 5000, 8);

	fill_counting(sc, false);
	expect_sorted_like_kernel(test, sc);
}

static void radix_sort_reverse_sorted_input(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 5000, 8);
	u32 i;

	fill_counting(sc, true);
	expect_sorted_like_kernel(test, sc);
	/* Distinct keys: the order is fully determined, check it directly. */
	for (i = 0; i < sc->count; i++)
		KUNIT_EXPECT_EQ(test, sc->ours[i][7], (u8)i);
}

static void radix_sort_refuses_too_many_keys(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 100, 16);
	struct ddi_radix_sorter *sorter;

	fill_random(sc, 7);
	memcpy(sc->reference, sc->ours, 100 * sizeof(*sc->ours));
	KUNIT_ASSERT_EQ(test, 0, ddi_radix_sorter_create(99, &sorter));
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_radix_sort(sorter, sc->ours, 100, 16));
	/* Refused before touching anything. */
	KUNIT_EXPECT_MEMEQ(test, sc->ours, sc->reference, 100 * sizeof(*sc->ours));
	KUNIT_EXPECT_EQ(test, 0, ddi_radix_sort(sorter, sc->ours, 99, 16));
	ddi_radix_sorter_free(sorter);
}

/* One sorter reused across sorts of different sizes must not carry state over. */
static void radix_sort_reuses_sorter(struct kunit *test)
{
	struct sort_case *sc = make_sort_case(test, 4096, 16);
	struct ddi_radix_sorter *sorter;
	u32 round, i;

	KUNIT_ASSERT_EQ(test, 0, ddi_radix_sorter_create(4096, &sorter));
	for (round = 0; round < 8; round++) {
		u32 count = 4096 >> round;

		fill_random(sc, round);
		KUNIT_EXPECT_EQ(test, 0, ddi_radix_sort(sorter, sc->ours, count, 16));
		for (i = 1; i < count; i++)
			KUNIT_EXPECT_LE(test, memcmp(sc->ours[i - 1], sc->ours[i], 16), 0);
	}
	ddi_radix_sorter_free(sorter);
}

static struct kunit_case radix_sort_cases[] = {
	KUNIT_CASE(radix_sort_random_keys),
	KUNIT_CASE_SLOW(radix_sort_many_random_keys),
	KUNIT_CASE_SLOW(radix_sort_many_short_keys),
	KUNIT_CASE(radix_sort_all_equal_keys),
	KUNIT_CASE(radix_sort_keys_differing_in_last_byte),
	KUNIT_CASE(radix_sort_sorted_input),
	KUNIT_CASE(radix_sort_reverse_sorted_input),
	KUNIT_CASE(radix_sort_refuses_too_many_keys),
	KUNIT_CASE(radix_sort_reuses_sorter),
	{}
};

static struct kunit_suite radix_sort_suite = {
	.name = "dm_dedup_index_radix_sort",
	.test_cases = radix_sort_cases,
};

kunit_test_suite(radix_sort_suite);
