// SPDX-License-Identifier: GPL-2.0-only
/*
 * The volume page cache: fixed slots of dm-bufio buffers, a table from
 * physical page to slot, approximate LRU by a shared clock and a rotating
 * victim hand, and the per-zone search_pending counters that let zone
 * threads search without a lock. The table also names pages waiting in
 * the read queue (read-queue.c), which shares the cache's storage.
 *
 * Who may do what:
 *  - Zone threads look pages up and search them lock-free, bracketed by
 *    ddi_page_cache_begin_search() and ddi_page_cache_end_search().
 *  - Everything that changes the mapping or a slot's contents runs under
 *    the volume's read mutex. Before a slot is reused or a page dropped, its
 *    mapping is removed and wait_for_searches() lets every zone that might
 *    have found it finish.
 */

#include <linux/dm-bufio.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "bufio.h"
#include "page-cache.h"
#include "table-alloc.h"

static u64 pending_word(u32 sequence, u32 physical_page)
{
	return ((u64)sequence << 32) | physical_page;
}

static u32 pending_sequence(u64 word)
{
	return word >> 32;
}

static u32 pending_page(u64 word)
{
	return (u32)word;
}

static bool pending_is_searching(u64 word)
{
	return pending_sequence(word) & 1;
}

/**
 * ddi_page_cache_begin_search() - Announce that a zone will search a page.
 * @cache: the page cache.
 * @zone: the calling zone; only that zone's thread writes its counter.
 * @physical_page: the page the zone is about to look up and search.
 */
void ddi_page_cache_begin_search(struct ddi_page_cache *cache, unsigned int zone,
				 u32 physical_page)
{
	u32 sequence = pending_sequence(READ_ONCE(cache->pending[zone].value)) + 1;

	WARN_ON_ONCE(!(sequence & 1));
	WRITE_ONCE(cache->pending[zone].value, pending_word(sequence, physical_page));
	/*
	 * Make the counter visible before this zone reads the page's mapping.
	 * Pairs with the smp_mb() at the start of wait_for_searches(): either
	 * the thread that unmapped the page sees this counter and waits for
	 * us, or we see the mapping already gone and never use the slot.
	 */
	smp_mb();
}

/**
 * ddi_page_cache_end_search() - Announce that a zone is done with its page.
 * @cache: the page cache.
 * @zone: the calling zone.
 */
void ddi_page_cache_end_search(struct ddi_page_cache *cache, unsigned int zone)
{
	u64 word;

	/*
	 * Complete every read of the page before the counter says we are
	 * done. Pairs with the smp_mb() at the end of wait_for_searches(),
	 * after which the waiter releases or refills the slot.
	 */
	smp_mb();
	word = READ_ONCE(cache->pending[zone].value);
	WARN_ON_ONCE(!pending_is_searching(word));
	WRITE_ONCE(cache->pending[zone].value,
		   pending_word(pending_sequence(word) + 1, pending_page(word)));
}

/*
 * Wait until no zone that might have found @physical_page mapped is still
 * searching it. The caller holds the read mutex and has already unmapped
 * the page, so no new search can find it.
 */
static void wait_for_searches(struct ddi_page_cache *cache, u32 physical_page)
{
	u64 seen[DDI_MAX_ZONES];
	unsigned int zone;

	lockdep_assert_held(cache->lock);
	/* Pairs with the smp_mb() in ddi_page_cache_begin_search(). */
	smp_mb();
	for (zone = 0; zone < cache->zone_count; zone++)
		seen[zone] = READ_ONCE(cache->pending[zone].value);

	for (zone = 0; zone < cache->zone_count; zone++) {
		if (!pending_is_searching(seen[zone]) ||
		    pending_page(seen[zone]) != physical_page)
			continue;
		/*
		 * Searches never sleep, so this wait is short. Any change of
		 * the counter means that search ended: a zone starting its
		 * next search has finished this one.
		 */
		while (READ_ONCE(cache->pending[zone].value) == seen[zone])
			cond_resched();
	}
	/* Pairs with the smp_mb() in ddi_page_cache_end_search(). */
	smp_mb();
}

/**
 * ddi_page_cache_lookup() - Find the slot holding a page, if any.
 * @cache: the page cache.
 * @physical_page: the page wanted.
 *
 * The caller is a zone thread inside a begin/end search bracket for this
 * page, or holds the read mutex.
 *
 * Return: the cached page, or NULL if it is not cached (or only queued).
 */
struct ddi_cached_page *ddi_page_cache_lookup(struct ddi_page_cache *cache,
					      u32 physical_page)
{
	u16 entry = READ_ONCE(cache->index[physical_page]);

	if ((entry & DDI_CACHE_QUEUED) || entry >= cache->slot_count)
		return NULL;
	/*
	 * See the slot as it was when it was mapped. Pairs with the
	 * smp_wmb() in ddi_page_cache_install().
	 */
	smp_rmb();
	return &cache->slots[entry];
}

/**
 * ddi_page_cache_touch() - Mark a page as just used, for eviction order.
 * @cache: the page cache.
 * @page: a page the caller may use (see ddi_page_cache_lookup()).
 *
 * Lock-free callers race only with each other or with a mutex holder over
 * last_used; any of the racing clock values is a fine approximation, so
 * only zone 0 touches pages on lock-free hits, to keep the cache line of a
 * hot page from bouncing between zones.
 */
void ddi_page_cache_touch(struct ddi_page_cache *cache, struct ddi_cached_page *page)
{
	if (atomic64_read(&cache->clock) != READ_ONCE(page->last_used))
		WRITE_ONCE(page->last_used, atomic64_inc_return(&cache->clock));
}

static void clear_slot(struct ddi_page_cache *cache, struct ddi_cached_page *page)
{
	if (page->buffer) {
		/* Not cached here any more: not kept in dm-bufio either. */
		ddi_bufio_drop(page->buffer);
		page->buffer = NULL;
	}
	page->physical_page = cache->indexable_pages;
	WRITE_ONCE(page->last_used, 0);
}

/*
 * Slots a victim search looks at. A search of every slot (about 4,000 for
 * seven chapters of 516 record pages) ran under the read mutex for every
 * page read, and under TCG took a tenth of a shuffled run while zones
 * spun on the mutex. The least recently used of the next 32 slots from a
 * rotating hand is the clock algorithm with a wider look, and the hand
 * passes every slot once per slot_count / 32 claims, so an unused page
 * cannot hide.
 */
#define DDI_CACHE_VICTIM_WINDOW 32U

/**
 * ddi_page_cache_claim_victim() - Take a slot for a page about to be read.
 * @cache: the page cache; the caller holds the read mutex.
 *
 * The slot is the least recently used of the next few from the cache's
 * hand, or of more if all of those have reads pending. Its old page is
 * unmapped and released once no zone searches it. The slot is marked
 * read_pending, so it is never chosen again until it is installed or
 * cancelled, even while the caller drops the mutex to read.
 *
 * Return: the empty slot, or NULL if every slot has a read pending.
 */
struct ddi_cached_page *ddi_page_cache_claim_victim(struct ddi_page_cache *cache)
{
	u32 window = min_t(u32, cache->slot_count, DDI_CACHE_VICTIM_WINDOW);
	struct ddi_cached_page *victim = NULL;
	s64 oldest = S64_MAX;
	u32 i = cache->victim_hand, looked;

	lockdep_assert_held(cache->lock);
	for (looked = 0; looked < cache->slot_count && (looked < window || !victim); looked++) {
		struct ddi_cached_page *page = &cache->slots[i];
		s64 used = READ_ONCE(page->last_used);

		if (!page->read_pending && used < oldest) {
			oldest = used;
			victim = page;
		}
		if (++i == cache->slot_count)
			i = 0;
	}
	cache->victim_hand = i;
	if (WARN_ON_ONCE(!victim))
		return NULL;

	if (victim->physical_page != cache->indexable_pages) {
		WRITE_ONCE(cache->index[victim->physical_page], cache->slot_count);
		wait_for_searches(cache, victim->physical_page);
	}
	victim->read_pending = true;
	clear_slot(cache, victim);
	return victim;
}

/**
 * ddi_page_cache_install() - Publish a filled slot as holding a page.
 * @cache: the page cache; the caller holds the read mutex.
 * @page: a slot from ddi_page_cache_claim_victim() with its buffer set.
 * @physical_page: the page it now holds.
 *
 * Replaces any read queue marker for the page, so a queued read of it
 * will find its entry superseded.
 */
void ddi_page_cache_install(struct ddi_page_cache *cache, struct ddi_cached_page *page,
			    u32 physical_page)
{
	lockdep_assert_held(cache->lock);
	page->physical_page = physical_page;
	ddi_page_cache_touch(cache, page);
	page->read_pending = false;
	/*
	 * Make the slot's contents visible before the mapping that lets zone
	 * threads find it. Pairs with the smp_rmb() in ddi_page_cache_lookup().
	 */
	smp_wmb();
	WRITE_ONCE(cache->index[physical_page], page - cache->slots);
}

/**
 * ddi_page_cache_cancel() - Give back a claimed slot that was not filled.
 * @cache: the page cache; the caller holds the read mutex.
 * @page: the slot from ddi_page_cache_claim_victim().
 */
void ddi_page_cache_cancel(struct ddi_page_cache *cache, struct ddi_cached_page *page)
{
	lockdep_assert_held(cache->lock);
	clear_slot(cache, page);
	page->read_pending = false;
}

/**
 * ddi_page_cache_invalidate() - Drop a page from the cache and the queue.
 * @cache: the page cache; the caller holds the read mutex.
 * @physical_page: the page, whose contents are about to change or whose
 *                 chapter has left the index.
 *
 * A cached copy is unmapped and released once no zone searches it; a
 * queued read is marked invalid, so its reader requeues its requests
 * without installing the page.
 */
void ddi_page_cache_invalidate(struct ddi_page_cache *cache, u32 physical_page)
{
	u16 entry = cache->index[physical_page];

	lockdep_assert_held(cache->lock);
	if (entry & DDI_CACHE_QUEUED) {
		cache->read_queue[entry & ~DDI_CACHE_QUEUED].invalid = true;
	} else if (entry < cache->slot_count) {
		WRITE_ONCE(cache->index[physical_page], cache->slot_count);
		wait_for_searches(cache, physical_page);
		clear_slot(cache, &cache->slots[entry]);
	}
}

/**
 * ddi_page_cache_clear_all() - Drop every cached page.
 * @cache: the page cache; the caller holds the read mutex and no read is
 *         queued (the index is idle).
 */
void ddi_page_cache_clear_all(struct ddi_page_cache *cache)
{
	u32 page;

	lockdep_assert_held(cache->lock);
	WARN_ON_ONCE(cache->read_queue_first != cache->read_queue_last);
	for (page = 0; page < cache->indexable_pages; page++)
		ddi_page_cache_invalidate(cache, page);
}

/**
 * ddi_page_cache_memory_bytes() - RAM a page cache's maps take.
 * @indexable_pages: as for ddi_page_cache_init().
 * @slot_count: likewise.
 * @zone_count: likewise.
 *
 * Return: the bytes ddi_page_cache_init() allocates; the pages themselves
 * are the volume's dm-bufio buffers, counted by the volume.
 */
size_t ddi_page_cache_memory_bytes(u32 indexable_pages, u32 slot_count, unsigned int zone_count)
{
	struct ddi_page_cache *cache;

	return ddi_table_bytes((size_t)indexable_pages * sizeof(*cache->index)) +
	       ddi_table_bytes((size_t)slot_count * sizeof(*cache->slots)) +
	       kmalloc_size_roundup(zone_count * sizeof(*cache->pending)) +
	       ddi_table_bytes(DDI_READ_QUEUE_SIZE * sizeof(*cache->read_queue));
}

/**
 * ddi_page_cache_init() - Set up an empty cache.
 * @cache: the cache to initialize.
 * @indexable_pages: the number of physical pages that may be cached.
 * @slot_count: how many pages the cache holds at once.
 * @zone_count: how many zone threads search it.
 * @lock: the mutex that guards the mapping, the slots and the read queue.
 *
 * Return: 0, -EINVAL for an impossible size, or -ENOMEM.
 */
int ddi_page_cache_init(struct ddi_page_cache *cache, u32 indexable_pages,
			u32 slot_count, unsigned int zone_count, struct mutex *lock)
{
	u32 i;

	memset(cache, 0, sizeof(*cache));
	if (slot_count == 0 || slot_count > DDI_CACHE_MAX_SLOTS ||
	    zone_count == 0 || zone_count > DDI_MAX_ZONES)
		return -EINVAL;

	cache->lock = lock;
	cache->zone_count = zone_count;
	cache->indexable_pages = indexable_pages;
	cache->slot_count = slot_count;
	atomic64_set(&cache->clock, 1);

	cache->index = ddi_table_alloc_array(indexable_pages, sizeof(u16));
	cache->slots = ddi_table_calloc(slot_count, sizeof(*cache->slots));
	cache->pending = kcalloc(zone_count, sizeof(*cache->pending), GFP_KERNEL);
	cache->read_queue = ddi_table_calloc(DDI_READ_QUEUE_SIZE, sizeof(*cache->read_queue));
	if (!cache->index || !cache->slots || !cache->pending || !cache->read_queue) {
		ddi_page_cache_destroy(cache);
		return -ENOMEM;
	}

	for (i = 0; i < indexable_pages; i++)
		cache->index[i] = slot_count;
	for (i = 0; i < slot_count; i++)
		cache->slots[i].physical_page = indexable_pages;
	return 0;
}

/**
 * ddi_page_cache_destroy() - Release every buffer and free the cache.
 * @cache: the cache; no thread may use it any more. Must run before the
 *         dm-bufio client its buffers came from is destroyed.
 */
void ddi_page_cache_destroy(struct ddi_page_cache *cache)
{
	u32 i;

	if (cache->slots) {
		for (i = 0; i < cache->slot_count; i++)
			clear_slot(cache, &cache->slots[i]);
	}
	kvfree(cache->index);
	kvfree(cache->slots);
	kfree(cache->pending);
	kvfree(cache->read_queue);
	memset(cache, 0, sizeof(*cache));
}
