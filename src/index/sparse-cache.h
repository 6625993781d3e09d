/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sparse cache: the chapter indexes of a few old chapters of a sparse
 * volume, copied into RAM when a hook found one of them, so that the names
 * after the hook (which the volume index no longer holds for old chapters)
 * can find their record pages. All zones search it; zone threads load it.
 */
#ifndef DDI_SPARSE_CACHE_H
#define DDI_SPARSE_CACHE_H

#include <linux/mutex.h>
#include <linux/rcupdate.h>

#include "chapter-index.h"
#include "volume.h"

enum {
	/*
	 * Chapters held: a run of duplicates reads one chapter after the
	 * other, and a few runs may interleave (several files copied at once).
	 */
	DDI_SPARSE_CACHE_CHAPTERS = 8,
	/*
	 * Names found in a cached chapter before the chapter after it is
	 * loaded too: a run of duplicates that keeps finding a chapter is a
	 * copy of it, and goes on into its successor, whose names before the
	 * successor's first hook (about one sample interval of them) would
	 * otherwise be missed. Random duplicates, whose cache hits are chance,
	 * seldom find one chapter this often, so seldom load for nothing.
	 */
	DDI_SPARSE_FOLLOW_HITS = 8,
	/*
	 * Bits of a cached chapter's filter per record it can hold. A name
	 * that is in none of the cached chapters (most names searched: new
	 * ones) would otherwise decode half a delta list in every chapter;
	 * with two probes of a filter of at least 8 bits per record (rounded
	 * up to a power of two) it decodes one in twenty or fewer, for one
	 * or two bytes per record of each cached chapter.
	 */
	DDI_SPARSE_FILTER_BITS_PER_RECORD = 8,
};

/* One chapter's index, copied and decoded; never changed once published. */
struct ddi_sparse_chapter {
	u64 vcn;
	/* Searches that found a name here: the one field zones change. */
	atomic_t hits;
	/* index_pages_per_chapter pages of DDI_BLOCK_BYTES, then the filter. */
	u8 *copy;
	/*
	 * A bit set for each (list, address) of the chapter index's entries,
	 * twice (two hashes): a name whose bits are not both set is not in
	 * the chapter, without decoding its list.
	 */
	unsigned long *filter;
	struct ddi_index_page pages[];
};

struct ddi_sparse_cache {
	struct ddi_volume *volume;
	/* Every chapter's filter has filter_mask + 1 bits, a power of two. */
	u64 filter_mask;
	/* Serialises loads: slots, next_victim, spare and failed_vcn. */
	struct mutex load_mutex;
	struct ddi_sparse_chapter __rcu *slots[DDI_SPARSE_CACHE_CHAPTERS];
	/* The slot the next load replaces: first in, first out. */
	unsigned int next_victim;
	/* Filled by a load while no zone can see it, then swapped in. */
	struct ddi_sparse_chapter *spare;
	/* A chapter that could not be loaded: not read again for every hook. */
	u64 failed_vcn;
	/* Written under load_mutex; read with READ_ONCE(). */
	u64 loaded;
	u64 load_failures;
};

u64 ddi_sparse_cache_memory_bytes(const struct ddi_geometry *geo);
int ddi_sparse_cache_create(struct ddi_volume *volume, struct ddi_sparse_cache **cache_ptr);
void ddi_sparse_cache_free(struct ddi_sparse_cache *cache);
void ddi_sparse_cache_clear(struct ddi_sparse_cache *cache);
int ddi_sparse_cache_load(struct ddi_sparse_cache *cache, u64 vcn);
u32 ddi_sparse_cache_search(struct ddi_sparse_cache *cache, const struct ddi_name *name,
			    u64 oldest_vcn, u64 *vcn, bool *follow);
bool ddi_sparse_cache_contains(struct ddi_sparse_cache *cache, u64 vcn);
bool ddi_sparse_chapter_may_hold(const struct ddi_sparse_cache *cache,
				 const struct ddi_sparse_chapter *chapter,
				 const struct ddi_name *name);

#endif /* DDI_SPARSE_CACHE_H */
