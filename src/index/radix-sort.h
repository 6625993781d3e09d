/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In-place 8-bit radix sort (American flag sort) of pointers to fixed-length
 * byte strings, after McIlroy, Bostic and McIlroy, "Engineering Radix Sort".
 */
#ifndef DDI_RADIX_SORT_H
#define DDI_RADIX_SORT_H

#include <linux/types.h>

/* Ranges of at most this many keys are insertion-sorted, not bucketed. */
#define DDI_RADIX_SORT_INSERTION_LIMIT 12

struct ddi_radix_sorter;

/*
 * A sorter is made once for at most @max_keys keys and reused: sorting
 * allocates nothing. Sorting more keys than that fails with -EINVAL.
 */
int ddi_radix_sorter_create(u32 max_keys, struct ddi_radix_sorter **sorter_ptr);
size_t ddi_radix_sorter_memory_bytes(u32 max_keys);
void ddi_radix_sorter_free(struct ddi_radix_sorter *sorter);
int ddi_radix_sort(struct ddi_radix_sorter *sorter, const u8 *keys[], u32 count,
		   u16 key_length);

#endif /* DDI_RADIX_SORT_H */
