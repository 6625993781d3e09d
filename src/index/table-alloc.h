/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Allocations of the index's tables, sized to what they take.
 *
 * kvmalloc() tries kmalloc() first at any size, and kmalloc() rounds a
 * request above a page up to a power of two pages: a 1.2 MiB table took
 * 2 MiB. Tables over a page come from vmalloc() instead, which rounds to a
 * page; those over kmalloc()'s 4 MiB limit came from it already, so the
 * tables of real indexes are where they were. ddi_table_bytes() is what
 * an allocation of @size takes, for the index's memory figures.
 */
#ifndef DDI_TABLE_ALLOC_H
#define DDI_TABLE_ALLOC_H

#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

static inline size_t ddi_table_bytes(size_t size)
{
	return size > PAGE_SIZE ? PAGE_ALIGN(size) : kmalloc_size_roundup(size);
}

/* Free with kvfree(). */
static inline void *ddi_table_alloc(size_t size)
{
	return size > PAGE_SIZE ? vmalloc(size) : kmalloc(size, GFP_KERNEL);
}

static inline void *ddi_table_zalloc(size_t size)
{
	return size > PAGE_SIZE ? vzalloc(size) : kzalloc(size, GFP_KERNEL);
}

static inline void *ddi_table_alloc_array(size_t n, size_t each)
{
	return ddi_table_alloc(size_mul(n, each));
}

static inline void *ddi_table_calloc(size_t n, size_t each)
{
	return ddi_table_zalloc(size_mul(n, each));
}

#endif /* DDI_TABLE_ALLOC_H */
