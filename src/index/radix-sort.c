// SPDX-License-Identifier: GPL-2.0-only
/*
 * American flag sort: an in-place most-significant-byte-first radix sort.
 *
 * Each pass counts the keys of one range by their byte at the pass's depth,
 * then moves every key into its bucket by following permutation cycles, so
 * no second array is needed. Buckets that still hold more than one key are
 * sorted by the next byte later; small ones go straight to insertion sort,
 * where a 256-entry histogram would cost more than it saves.
 */

#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "table-alloc.h"
#include "radix-sort.h"

enum {
	DDI_BYTE_VALUES = 256,
};

struct radix_task {
	u32 first;
	u32 count;
	u16 depth;
};

struct ddi_radix_sorter {
	u32 max_keys;
	u32 stack_size;
	/* Histogram and bucket fill marks of the pass being run. */
	u32 bucket_count[DDI_BYTE_VALUES];
	u32 bucket_next[DDI_BYTE_VALUES];
	u32 bucket_end[DDI_BYTE_VALUES];
	struct radix_task stack[];
};

/*
 * Every task on the stack covers a disjoint range of more than
 * DDI_RADIX_SORT_INSERTION_LIMIT keys, so this many entries can never overflow.
 */
static u32 stack_entries_for(u32 max_keys)
{
	return max_keys / (DDI_RADIX_SORT_INSERTION_LIMIT + 1) + 1;
}

/**
 * ddi_radix_sorter_memory_bytes() - RAM a sorter for @max_keys keys takes.
 * @max_keys: as for ddi_radix_sorter_create().
 *
 * Return: the bytes ddi_radix_sorter_create() allocates.
 */
size_t ddi_radix_sorter_memory_bytes(u32 max_keys)
{
	return ddi_table_bytes(struct_size_t(struct ddi_radix_sorter, stack,
					     stack_entries_for(max_keys)));
}

/**
 * ddi_radix_sorter_create() - Make a sorter for up to @max_keys keys.
 * @max_keys: the most keys any later sort will be given.
 * @sorter_ptr: set to the new sorter.
 *
 * Return: 0, or -ENOMEM.
 */
int ddi_radix_sorter_create(u32 max_keys, struct ddi_radix_sorter **sorter_ptr)
{
	u32 entries = stack_entries_for(max_keys);
	struct ddi_radix_sorter *sorter;

	sorter = ddi_table_zalloc(struct_size(sorter, stack, entries));
	if (!sorter)
		return -ENOMEM;
	sorter->max_keys = max_keys;
	sorter->stack_size = entries;
	*sorter_ptr = sorter;
	return 0;
}

/**
 * ddi_radix_sorter_free() - Free a sorter made by ddi_radix_sorter_create().
 * @sorter: the sorter; may be NULL.
 */
void ddi_radix_sorter_free(struct ddi_radix_sorter *sorter)
{
	kvfree(sorter);
}

/* Sort keys[0..count) knowing that bytes before @depth are all equal. */
static void insertion_sort(const u8 *keys[], u32 count, u16 depth, u16 key_length)
{
	u32 i, j;

	for (i = 1; i < count; i++) {
		const u8 *key = keys[i];

		for (j = i; j > 0; j--) {
			if (memcmp(keys[j - 1] + depth, key + depth, key_length - depth) <= 0)
				break;
			keys[j] = keys[j - 1];
		}
		keys[j] = key;
	}
}

/*
 * Count the keys of one range by their byte at @depth. Returns the number
 * of distinct byte values seen, and their lowest and highest.
 */
static u32 count_bytes(struct ddi_radix_sorter *sorter, const u8 *keys[], u32 count,
		       u16 depth, u32 *lowest, u32 *highest)
{
	u32 distinct = 0;
	u32 i;

	*lowest = DDI_BYTE_VALUES - 1;
	*highest = 0;
	for (i = 0; i < count; i++) {
		u8 byte = keys[i][depth];

		if (sorter->bucket_count[byte]++ == 0) {
			distinct++;
			*lowest = min_t(u32, *lowest, byte);
			*highest = max_t(u32, *highest, byte);
		}
	}
	return distinct;
}

/*
 * Move every key of the range into its bucket. A key is picked up at the
 * first unfilled slot of the lowest unfinished bucket and swapped into its
 * own bucket's next slot until a key belonging to the starting slot turns
 * up; each swap finishes one key, so the pass is linear.
 */
static void permute_into_buckets(struct ddi_radix_sorter *sorter, const u8 *keys[],
				 u16 depth, u32 lowest, u32 highest)
{
	u32 byte;

	for (byte = lowest; byte <= highest; byte++) {
		while (sorter->bucket_next[byte] < sorter->bucket_end[byte]) {
			u32 slot = sorter->bucket_next[byte];
			const u8 *key = keys[slot];
			u8 home = key[depth];

			while (home != byte) {
				u32 target = sorter->bucket_next[home]++;

				swap(key, keys[target]);
				home = key[depth];
			}
			keys[slot] = key;
			sorter->bucket_next[byte]++;
		}
	}
}

/*
 * Sort one range by its byte at @depth and hand its buckets on: small
 * ones are finished at once, large ones pushed onto the task stack.
 * Returns the new stack height.
 */
static u32 split_range(struct ddi_radix_sorter *sorter, const u8 *keys[],
		       struct radix_task task, u16 key_length, u32 height)
{
	const u8 **range = keys + task.first;
	u32 lowest, highest, byte, start;

	/* Bytes every key shares decide nothing: skip past them. */
	for (;;) {
		u32 distinct = count_bytes(sorter, range, task.count, task.depth,
					   &lowest, &highest);

		if (distinct > 1)
			break;
		sorter->bucket_count[lowest] = 0;
		if (++task.depth == key_length)
			return height;
	}

	start = 0;
	for (byte = lowest; byte <= highest; byte++) {
		sorter->bucket_next[byte] = start;
		start += sorter->bucket_count[byte];
		sorter->bucket_end[byte] = start;
	}
	permute_into_buckets(sorter, range, task.depth, lowest, highest);

	start = 0;
	for (byte = lowest; byte <= highest; byte++) {
		u32 count = sorter->bucket_count[byte];

		sorter->bucket_count[byte] = 0;
		if (count > 1 && task.depth + 1 < key_length) {
			if (count <= DDI_RADIX_SORT_INSERTION_LIMIT) {
				insertion_sort(range + start, count, task.depth + 1,
					       key_length);
			} else {
				sorter->stack[height++] = (struct radix_task) {
					.first = task.first + start,
					.count = count,
					.depth = task.depth + 1,
				};
			}
		}
		start += count;
	}
	return height;
}

/**
 * ddi_radix_sort() - Sort pointers to fixed-length keys by the keys' bytes.
 * @sorter: a sorter made for at least @count keys; not shared by threads.
 * @keys: the pointers to sort, in place.
 * @count: how many pointers @keys holds.
 * @key_length: bytes per key; keys compare as memcmp() does.
 *
 * The sort is not stable: pointers to equal keys end up in any order.
 *
 * Return: 0, or -EINVAL if @count exceeds what the sorter was made for.
 */
int ddi_radix_sort(struct ddi_radix_sorter *sorter, const u8 *keys[], u32 count,
		   u16 key_length)
{
	u32 height = 0;

	if (count > sorter->max_keys)
		return -EINVAL;
	if (count < 2 || key_length == 0)
		return 0;
	if (count <= DDI_RADIX_SORT_INSERTION_LIMIT) {
		insertion_sort(keys, count, 0, key_length);
		return 0;
	}

	sorter->stack[height++] = (struct radix_task) { .count = count };
	while (height > 0) {
		struct radix_task task = sorter->stack[--height];

		height = split_range(sorter, keys, task, key_length, height);
	}
	return 0;
}
