/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The index shapes the save and rebuild benchmarks measure, "memory 256"
 * (the default) and "memory 2048", as a KUnit parameter, and the check
 * that the RAM disk and the RAM of the kernel under test can hold one:
 * scripts/bench gives neither shape room, so without a larger brd.rd_size
 * each case prints a "<what>-skipped" line and passes.
 */
#ifndef DDI_BENCH_SHAPES_H
#define DDI_BENCH_SHAPES_H

#include <kunit/test.h>
#include <linux/blkdev.h>
#include <linux/mm.h>

static const unsigned int ddi_bench_memory_mb[] = { 256, 2048 };

static inline void ddi_bench_memory_desc(const unsigned int *memory_mb, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "memory %u", *memory_mb);
}

KUNIT_ARRAY_PARAM(ddi_bench_memory, ddi_bench_memory_mb, ddi_bench_memory_desc);

/*
 * Whether @bdev holds @device_bytes and the kernel has @ram_bytes of RAM;
 * if not, says so in a "ddi-bench: <what>-skipped" line.
 */
static inline bool ddi_bench_shape_fits(struct kunit *test, const char *what,
					unsigned int memory_mb, struct block_device *bdev,
					u64 device_bytes, u64 ram_bytes)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;

	if (bdev_nr_bytes(bdev) >= device_bytes && ram >= ram_bytes)
		return true;
	kunit_info(test, "ddi-bench: %s-skipped memory=%u device_bytes=%llu disk_bytes=%llu ram_bytes=%llu\n",
		   what, memory_mb, device_bytes, bdev_nr_bytes(bdev), ram);
	return false;
}

#endif /* DDI_BENCH_SHAPES_H */
