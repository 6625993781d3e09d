// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hashing benchmark: what naming a 4 KiB block costs on one core, as the
 * write path and the scan do it (MurmurHash3 x64-128 of the whole block),
 * next to two kernel routines over the same bytes for scale: crc32_le(),
 * the cheapest checksum the kernel has for a block, and memcpy(), about
 * what it costs to read the block at all. From the hash's rate follows how
 * many blocks per second one core can name, to set against a device: a
 * 7 GB/s NVMe drive writes 1.7M blocks/s. Results are "ddi-bench:" lines
 * for scripts/bench; the only assertion is that the hash of the data is
 * the same every time.
 */

#include <kunit/test.h>
#include <linux/crc32.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#include "murmur3.h"

enum {
	BLOCK = 4096,
	/* Larger than the caches, as the data of a stream of writes is. */
	BYTES = 64 << 20,
	BLOCKS = BYTES / BLOCK,
	REPETITIONS = 5,
	DATA_SEED = 0x4a5b,
};

static int compare_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 median(u64 *ns)
{
	sort(ns, REPETITIONS, sizeof(*ns), compare_u64, NULL);
	return ns[REPETITIONS / 2];
}

static u64 mib_per_sec(u64 ns)
{
	return div64_u64((u64)BYTES * NSEC_PER_SEC / SZ_1M, max(ns, 1ULL));
}

static void free_vmem(void *arg)
{
	vfree(arg);
}

/* @bytes freed when the test ends: zeros, or the same random bytes every run. */
static u8 *bench_data(struct kunit *test, size_t bytes, bool random)
{
	u8 *data = vzalloc(bytes);
	struct rnd_state rnd;

	KUNIT_ASSERT_NOT_NULL(test, data);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, data));
	if (random) {
		prandom_seed_state(&rnd, DATA_SEED);
		prandom_bytes_state(&rnd, data, bytes);
	}
	return data;
}

/* One pass of MurmurHash3 over every block; returns the hashes' xor. */
static u64 hash_pass(const u8 *data, u64 *ns)
{
	u64 start = ktime_get_ns(), folded = 0;
	u8 name[16];
	u32 i;

	for (i = 0; i < BLOCKS; i++) {
		ddi_murmur3_128(data + (size_t)i * BLOCK, BLOCK, 0, name);
		folded ^= get_unaligned((u64 *)name);
	}
	*ns = ktime_get_ns() - start;
	return folded;
}

static void bench_hash(struct kunit *test)
{
	u64 murmur_ns[REPETITIONS], crc_ns[REPETITIONS], copy_ns[REPETITIONS];
	u64 murmur, crc, copy, first = 0, folded;
	u8 *data = bench_data(test, BYTES, true), *to = bench_data(test, BLOCK, false);
	u32 r, i, crc_sum = 0;

	for (r = 0; r < REPETITIONS; r++) {
		u64 start;

		folded = hash_pass(data, &murmur_ns[r]);
		if (!r)
			first = folded;
		KUNIT_EXPECT_EQ(test, first, folded);

		start = ktime_get_ns();
		for (i = 0; i < BLOCKS; i++)
			crc_sum ^= crc32_le(~0, data + (size_t)i * BLOCK, BLOCK);
		crc_ns[r] = ktime_get_ns() - start;

		start = ktime_get_ns();
		for (i = 0; i < BLOCKS; i++)
			memcpy(to, data + (size_t)i * BLOCK, BLOCK);
		copy_ns[r] = ktime_get_ns() - start;
	}
	murmur = median(murmur_ns);
	crc = median(crc_ns);
	copy = median(copy_ns);
	kunit_info(test, "ddi-bench: hash bytes=%u murmur3_mib_s=%llu ns_per_block=%llu blocks_per_s=%llu crc32_mib_s=%llu memcpy_mib_s=%llu crc=%08x\n",
		   BYTES, mib_per_sec(murmur), div64_u64(murmur, BLOCKS),
		   div64_u64((u64)BLOCKS * NSEC_PER_SEC, max(murmur, 1ULL)), mib_per_sec(crc),
		   mib_per_sec(copy), crc_sum);
}

/*
 * Zero blocks are common (free space, sparse files, zeroed areas). Naming
 * one by a check that it is all zero, rather than hashing it, is only worth
 * it if the check is much cheaper than the hash on a zero block and costs
 * next to nothing on the others, where it stops at the first nonzero byte.
 */
static void bench_zero_blocks(struct kunit *test)
{
	u64 hash_ns[REPETITIONS], check_ns[REPETITIONS], other_ns[REPETITIONS];
	u8 *zeros = bench_data(test, BYTES, false), *random = bench_data(test, BYTES, true);
	u32 r, i, nonzero = 0;

	for (r = 0; r < REPETITIONS; r++) {
		u64 start;

		hash_pass(zeros, &hash_ns[r]);
		start = ktime_get_ns();
		for (i = 0; i < BLOCKS; i++)
			nonzero += !!memchr_inv(zeros + (size_t)i * BLOCK, 0, BLOCK);
		check_ns[r] = ktime_get_ns() - start;

		start = ktime_get_ns();
		for (i = 0; i < BLOCKS; i++)
			nonzero += !!memchr_inv(random + (size_t)i * BLOCK, 0, BLOCK);
		other_ns[r] = ktime_get_ns() - start;
	}
	/* Every random block is nonzero, no zero block is. */
	KUNIT_EXPECT_EQ(test, (u32)BLOCKS * REPETITIONS, nonzero);
	kunit_info(test, "ddi-bench: zero-blocks hash_ns_per_block=%llu check_zero_ns_per_block=%llu check_other_ns_per_block=%llu\n",
		   div64_u64(median(hash_ns), BLOCKS), div64_u64(median(check_ns), BLOCKS),
		   div64_u64(median(other_ns), BLOCKS));
}

static struct kunit_case hash_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_hash),
	KUNIT_CASE_SLOW(bench_zero_blocks),
	{}
};

static struct kunit_suite hash_bench_suite = {
	.name = "dm_dedup_index_bench_hash",
	.test_cases = hash_bench_cases,
};

kunit_test_suite(hash_bench_suite);
