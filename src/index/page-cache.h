/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The volume page cache (and, in read-queue.h, the queue of reads that
 * fill it).
 *
 * Zone threads search cached pages without taking any lock: before touching
 * a page a zone publishes, in its own search_pending counter, which physical
 * page it is searching. Every thread that changes what a cache slot holds
 * does so under the volume's read mutex, unmaps the page first, and then
 * waits until no zone is searching it.
 */
#ifndef DDI_PAGE_CACHE_H
#define DDI_PAGE_CACHE_H

#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/dm-bufio.h>

#include "chapter-index.h"
#include "read-queue.h"

enum {
	/* A cache index entry with this bit names a read queue slot. */
	DDI_CACHE_QUEUED = 1U << 15,
	DDI_CACHE_MAX_SLOTS = DDI_CACHE_QUEUED - 1,
};

struct ddi_cached_page {
	/* Claimed by a reader that is filling it: never a victim meanwhile. */
	bool read_pending;
	u32 physical_page;
	/* The virtual chapter the page was written for, from its header. */
	u64 vcn;
	/* Cache clock value at the last use; the smallest is evicted. */
	s64 last_used;
	struct dm_buffer *buffer;
	/* Decoded header, for chapter index pages only. */
	struct ddi_index_page index_page;
};

/*
 * One per zone, each on its own cache line. Low 32 bits: the physical page
 * the zone searches; high 32 bits: a sequence number, odd while searching.
 */
struct ddi_search_pending {
	u64 value;
} ____cacheline_aligned_in_smp;

struct ddi_page_cache {
	/* The volume's read mutex, which guards all but the lock-free calls. */
	struct mutex *lock;
	unsigned int zone_count;
	/* Physical pages the index covers; index[] has one entry per page. */
	u32 indexable_pages;
	u16 slot_count;
	/* Physical page -> slot, or DDI_CACHE_QUEUED | read queue position. */
	u16 *index;
	struct ddi_cached_page *slots;
	struct ddi_search_pending *pending;
	struct ddi_queued_read *read_queue;
	/*
	 * Read queue positions, all under the read mutex: entries are added
	 * at last, readers reserve the one at next_read, and first moves up
	 * past entries whose readers are done. [first, last) is in use.
	 */
	u16 read_queue_first;
	u16 read_queue_next_read;
	u16 read_queue_last;
	/* Where the next victim search starts; under the read mutex. */
	u16 victim_hand;
	atomic64_t clock;
};

size_t ddi_page_cache_memory_bytes(u32 indexable_pages, u32 slot_count, unsigned int zone_count);
int ddi_page_cache_init(struct ddi_page_cache *cache, u32 indexable_pages,
			u32 slot_count, unsigned int zone_count, struct mutex *lock);
void ddi_page_cache_destroy(struct ddi_page_cache *cache);

/* Lock-free, for zone threads. */
void ddi_page_cache_begin_search(struct ddi_page_cache *cache, unsigned int zone,
				 u32 physical_page);
void ddi_page_cache_end_search(struct ddi_page_cache *cache, unsigned int zone);
struct ddi_cached_page *ddi_page_cache_lookup(struct ddi_page_cache *cache,
					      u32 physical_page);
void ddi_page_cache_touch(struct ddi_page_cache *cache, struct ddi_cached_page *page);

/* Under the volume read mutex. */
struct ddi_cached_page *ddi_page_cache_claim_victim(struct ddi_page_cache *cache);
void ddi_page_cache_install(struct ddi_page_cache *cache, struct ddi_cached_page *page,
			    u32 physical_page);
void ddi_page_cache_cancel(struct ddi_page_cache *cache, struct ddi_cached_page *page);
void ddi_page_cache_invalidate(struct ddi_page_cache *cache, u32 physical_page);
void ddi_page_cache_clear_all(struct ddi_page_cache *cache);

#endif /* DDI_PAGE_CACHE_H */
