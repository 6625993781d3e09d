// SPDX-License-Identifier: GPL-2.0-only
/*
 * Radix sort benchmark: record pages are encoded by sorting their names
 * with ddi_radix_sort(); this measures what that saves over the kernel's
 * generic sort_r() with a memcmp() comparator, on the same random keys:
 * one record page's worth, 1024, and 262144. Results are printed as
 * "ddi-bench:" lines for scripts/bench; the only assertions are that both
 * sorts produce the same order.
 */

#include <kunit/test.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "geometry.h"
#include "radix-sort.h"

enum {
	KEY_LENGTH = 16,
	/* Odd, so the median is one measured run. */
	REPETITIONS = 7,
	/*
	 * Small sorts are timed in batches of copies covering about this many
	 * keys, so that a measurement spans much more than the clock's jitter.
	 */
	BATCH_KEYS = 65536,
	KEY_SEED = 0x5eed,
};

static const u32 key_counts[] = { DDI_RECORDS_PER_PAGE, 1024, 262144 };

static void key_count_desc(const u32 *count, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "keys=%u", *count);
}

KUNIT_ARRAY_PARAM(key_count, key_counts, key_count_desc);

static void free_kvmem(void *arg)
{
	kvfree(arg);
}

static void *bench_kvmalloc(struct kunit *test, size_t count, size_t size)
{
	void *mem = kvmalloc_array(count, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_kvmem, mem));
	return mem;
}

static int compare_keys(const void *a, const void *b, const void *length)
{
	return memcmp(*(const u8 * const *)a, *(const u8 * const *)b,
		      *(const u16 *)length);
}

static int compare_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 median_ns(u64 *ns, unsigned int count)
{
	sort(ns, count, sizeof(*ns), compare_u64, NULL);
	return ns[count / 2];
}

/* Positions where the two sorted arrays hold different key bytes. */
static u32 count_mismatches(const u8 **a, const u8 **b, u32 count)
{
	u32 i, mismatches = 0;

	for (i = 0; i < count; i++)
		if (memcmp(a[i], b[i], KEY_LENGTH))
			mismatches++;
	return mismatches;
}

static void bench_sort(struct kunit *test)
{
	u32 count = *(const u32 *)test->param_value;
	u32 batch = max_t(u32, BATCH_KEYS / count, 1);
	u64 radix_ns[REPETITIONS], kernel_ns[REPETITIONS];
	const u16 key_length = KEY_LENGTH;
	const u8 **unsorted, **radix, **kernel;
	struct ddi_radix_sorter *sorter;
	u64 radix_median, kernel_median, ratio;
	u32 i, b, hundredths, mismatches = 0;
	struct rnd_state rnd;
	u8 *keys;

	keys = bench_kvmalloc(test, count, KEY_LENGTH);
	unsorted = bench_kvmalloc(test, count, sizeof(*unsorted));
	radix = bench_kvmalloc(test, (size_t)count * batch, sizeof(*radix));
	kernel = bench_kvmalloc(test, (size_t)count * batch, sizeof(*kernel));

	/* A fixed seed, so every run sorts the same keys. */
	prandom_seed_state(&rnd, KEY_SEED);
	prandom_bytes_state(&rnd, keys, (size_t)count * KEY_LENGTH);
	for (i = 0; i < count; i++)
		unsorted[i] = &keys[(size_t)i * KEY_LENGTH];

	KUNIT_ASSERT_EQ(test, 0, ddi_radix_sorter_create(count, &sorter));

	for (i = 0; i < REPETITIONS; i++) {
		int ret = 0;
		u64 start;

		for (b = 0; b < batch; b++)
			memcpy(&radix[b * count], unsorted, count * sizeof(*radix));
		start = ktime_get_ns();
		for (b = 0; b < batch; b++)
			ret |= ddi_radix_sort(sorter, &radix[b * count], count, key_length);
		radix_ns[i] = div_u64(ktime_get_ns() - start, batch);
		KUNIT_EXPECT_EQ(test, 0, ret);

		for (b = 0; b < batch; b++)
			memcpy(&kernel[b * count], unsorted, count * sizeof(*kernel));
		start = ktime_get_ns();
		for (b = 0; b < batch; b++)
			sort_r(&kernel[b * count], count, sizeof(*kernel), compare_keys,
			       NULL, &key_length);
		kernel_ns[i] = div_u64(ktime_get_ns() - start, batch);

		/* A broken sort must not pass for a fast one. */
		mismatches += count_mismatches(radix, kernel, count * batch);
		cond_resched();
	}
	ddi_radix_sorter_free(sorter);
	KUNIT_EXPECT_EQ(test, 0, mismatches);

	radix_median = max_t(u64, median_ns(radix_ns, REPETITIONS), 1);
	kernel_median = median_ns(kernel_ns, REPETITIONS);
	/* Hundredths, rounded: there is no floating point in the kernel. */
	ratio = div64_u64(kernel_median * 100 + radix_median / 2, radix_median);
	ratio = div_u64_rem(ratio, 100, &hundredths);
	kunit_info(test, "ddi-bench: sort keys=%u radix_ns=%llu kernel_sort_ns=%llu ratio=%llu.%02u reps=%u batch=%u\n",
		   count, radix_median, kernel_median, ratio, hundredths, REPETITIONS, batch);
}

static struct kunit_case sort_bench_cases[] = {
	KUNIT_CASE_PARAM_ATTR(bench_sort, key_count_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite sort_bench_suite = {
	.name = "dm_dedup_index_bench_sort",
	.test_cases = sort_bench_cases,
};

kunit_test_suite(sort_bench_suite);
