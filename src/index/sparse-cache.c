// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sparse cache (see sparse-cache.h): a handful of old chapters' index
 * pages, shared by the zones.
 *
 * How the zones agree on it without waiting for each other: a cached
 * chapter is a copy that never changes once it is visible. A load fills a
 * spare chapter no zone can see, under load_mutex, and publishes it in a
 * slot with rcu_assign_pointer(), whose release orders the copy and its
 * decoded pages before the pointer; a zone searches under rcu_read_lock()
 * and reads the slot with rcu_dereference(), whose dependency ordering
 * pairs with that release, so it sees either the old chapter whole or the
 * new one whole. The chapter the load replaced becomes the next spare only
 * after synchronize_rcu(), once no zone can still be searching it. So a
 * search never blocks, a load blocks only other loads, and the memory is
 * fixed: DDI_SPARSE_CACHE_CHAPTERS chapters and one spare, each with
 * its filter, which the load builds with the copy and never changes after.
 *
 * Zones may see a load a little apart, one before and one after it: a name
 * searched just before its chapter arrives is a missed duplicate, never a
 * wrong answer, as the record page, which the zone reads next, decides.
 * A chapter that left the volume is never used: searches skip chapters
 * older than the caller's window, and record pages carry their chapter.
 */

#include <linux/bitmap.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "mix64.h"
#include "sparse-cache.h"

static size_t chapter_bytes(const struct ddi_geometry *geo)
{
	return struct_size_t(struct ddi_sparse_chapter, pages, geo->index_pages_per_chapter);
}

/* Bits of a chapter's filter: a power of two, so a hash picks one by a mask. */
static u64 filter_bits(const struct ddi_geometry *geo)
{
	return roundup_pow_of_two((u64)geo->records_per_chapter *
				  DDI_SPARSE_FILTER_BITS_PER_RECORD);
}

/* The index pages' copy and the filter behind it, in one allocation. */
static size_t copy_bytes(const struct ddi_geometry *geo)
{
	return (size_t)geo->index_pages_per_chapter * DDI_BLOCK_BYTES +
	       BITS_TO_LONGS(filter_bits(geo)) * sizeof(unsigned long);
}

/*
 * Mix a (list, address) pair into 64 bits whose halves are the filter's
 * two probes: the address's low bits are what a list sorts by, so they
 * are mixed rather than used.
 */
static u64 filter_hash(u32 list, u64 address)
{
	return ddi_mix64(((u64)list << 40) ^ address);
}

/* What a load's walk of a chapter index sets bits in. */
struct filter_fill {
	unsigned long *filter;
	u64 mask;
};

static void filter_add(void *context, u32 list, u64 address)
{
	const struct filter_fill *fill = context;
	u64 h = filter_hash(list, address);

	__set_bit(h & fill->mask, fill->filter);
	__set_bit((h >> 32) & fill->mask, fill->filter);
}

static bool filter_has(const struct ddi_sparse_chapter *chapter, u64 mask, u64 h)
{
	return test_bit(h & mask, chapter->filter) && test_bit((h >> 32) & mask, chapter->filter);
}

static u64 name_hash(const struct ddi_geometry *geo, const struct ddi_name *name)
{
	return filter_hash(ddi_geometry_delta_list(geo, name),
			   ddi_geometry_chapter_address(geo, name));
}

/**
 * ddi_sparse_chapter_may_hold() - Whether a cached chapter's index may hold a name.
 * @cache: the cache.
 * @chapter: a chapter of the cache, filled.
 * @name: the name.
 *
 * Return: false if the chapter's index has no entry for the name (never
 * false for one it has); true otherwise, about once in twenty for a name
 * it does not hold.
 */
bool ddi_sparse_chapter_may_hold(const struct ddi_sparse_cache *cache,
				 const struct ddi_sparse_chapter *chapter,
				 const struct ddi_name *name)
{
	return filter_has(chapter, cache->filter_mask, name_hash(&cache->volume->geo, name));
}

/**
 * ddi_sparse_cache_memory_bytes() - RAM the sparse cache of a shape holds.
 * @geo: the volume geometry.
 *
 * Return: the bytes ddi_sparse_cache_create() allocates; 0 for a dense
 * volume, which has none.
 */
u64 ddi_sparse_cache_memory_bytes(const struct ddi_geometry *geo)
{
	if (!ddi_geometry_is_sparse(geo))
		return 0;
	return kmalloc_size_roundup(sizeof(struct ddi_sparse_cache)) +
	       (DDI_SPARSE_CACHE_CHAPTERS + 1) *
	       (kmalloc_size_roundup(chapter_bytes(geo)) + PAGE_ALIGN(copy_bytes(geo)));
}

static void free_chapter(struct ddi_sparse_chapter *chapter)
{
	if (!chapter)
		return;
	vfree(chapter->copy);
	kfree(chapter);
}

static struct ddi_sparse_chapter *alloc_chapter(const struct ddi_geometry *geo)
{
	struct ddi_sparse_chapter *chapter = kzalloc(chapter_bytes(geo), GFP_KERNEL);

	if (!chapter)
		return NULL;
	chapter->copy = vmalloc(copy_bytes(geo));
	if (!chapter->copy) {
		kfree(chapter);
		return NULL;
	}
	/* Page-aligned, and the pages before it are whole: long-aligned. */
	chapter->filter = (unsigned long *)(chapter->copy +
					    (size_t)geo->index_pages_per_chapter * DDI_BLOCK_BYTES);
	chapter->vcn = U64_MAX;
	return chapter;
}

/**
 * ddi_sparse_cache_create() - Make an empty sparse cache.
 * @volume: the volume whose chapters it caches.
 * @cache_ptr: set to the cache.
 *
 * Every chapter it can hold is allocated now, so loads never allocate.
 *
 * Return: 0 or -ENOMEM.
 */
int ddi_sparse_cache_create(struct ddi_volume *volume, struct ddi_sparse_cache **cache_ptr)
{
	struct ddi_sparse_cache *cache = kzalloc(sizeof(*cache), GFP_KERNEL);
	unsigned int i;

	if (!cache)
		return -ENOMEM;
	cache->volume = volume;
	cache->filter_mask = filter_bits(&volume->geo) - 1;
	cache->failed_vcn = U64_MAX;
	mutex_init(&cache->load_mutex);
	for (i = 0; i < DDI_SPARSE_CACHE_CHAPTERS; i++) {
		struct ddi_sparse_chapter *chapter = alloc_chapter(&volume->geo);

		if (!chapter) {
			ddi_sparse_cache_free(cache);
			return -ENOMEM;
		}
		RCU_INIT_POINTER(cache->slots[i], chapter);
	}
	cache->spare = alloc_chapter(&volume->geo);
	if (!cache->spare) {
		ddi_sparse_cache_free(cache);
		return -ENOMEM;
	}
	*cache_ptr = cache;
	return 0;
}

/**
 * ddi_sparse_cache_free() - Free a sparse cache.
 * @cache: the cache, which no zone searches any more; may be NULL.
 */
void ddi_sparse_cache_free(struct ddi_sparse_cache *cache)
{
	unsigned int i;

	if (!cache)
		return;
	for (i = 0; i < DDI_SPARSE_CACHE_CHAPTERS; i++)
		free_chapter(rcu_dereference_protected(cache->slots[i], true));
	free_chapter(cache->spare);
	mutex_destroy(&cache->load_mutex);
	kfree(cache);
}

/**
 * ddi_sparse_cache_clear() - Forget every cached chapter.
 * @cache: the cache; no zone may be searching it (a load or a rebuild of
 *	the state replaces what the chapters' numbers mean).
 */
void ddi_sparse_cache_clear(struct ddi_sparse_cache *cache)
{
	unsigned int i;

	mutex_lock(&cache->load_mutex);
	for (i = 0; i < DDI_SPARSE_CACHE_CHAPTERS; i++)
		rcu_dereference_protected(cache->slots[i],
					  lockdep_is_held(&cache->load_mutex))->vcn = U64_MAX;
	cache->failed_vcn = U64_MAX;
	mutex_unlock(&cache->load_mutex);
}

static bool cached_locked(struct ddi_sparse_cache *cache, u64 vcn)
{
	unsigned int i;

	lockdep_assert_held(&cache->load_mutex);
	for (i = 0; i < DDI_SPARSE_CACHE_CHAPTERS; i++) {
		if (rcu_dereference_protected(cache->slots[i],
					      lockdep_is_held(&cache->load_mutex))->vcn == vcn)
			return true;
	}
	return false;
}

/* Read and decode @vcn's index pages into @chapter, which no zone sees. */
static int fill_chapter(struct ddi_sparse_cache *cache, struct ddi_sparse_chapter *chapter,
			u64 vcn)
{
	struct ddi_volume *volume = cache->volume;
	const struct ddi_geometry *geo = &volume->geo;
	struct filter_fill fill = { .filter = chapter->filter, .mask = cache->filter_mask };
	u32 i;
	int ret;

	chapter->vcn = U64_MAX;
	atomic_set(&chapter->hits, 0);
	ret = ddi_volume_read_chapter_index(volume, vcn, chapter->copy, NULL);
	for (i = 0; !ret && i < geo->index_pages_per_chapter; i++)
		ret = ddi_chapter_index_page_init(&chapter->pages[i], geo,
						  chapter->copy + (size_t)i * DDI_BLOCK_BYTES,
						  volume->config.nonce);
	if (ret)
		return ret;
	/* Damaged lists are filtered as far as a search could use them. */
	bitmap_zero(chapter->filter, cache->filter_mask + 1);
	for (i = 0; i < geo->index_pages_per_chapter; i++)
		ddi_chapter_index_page_walk(&chapter->pages[i], geo, filter_add, &fill);
	chapter->vcn = vcn;
	return 0;
}

/**
 * ddi_sparse_cache_load() - Bring a chapter's index into the cache.
 * @cache: the cache.
 * @vcn: the chapter, one a hook named: inside the caller's window, so not
 *	being overwritten while it is read (see chapter_expired() in
 *	index-zone.c).
 *
 * Called by a zone thread; it reads the chapter's index pages and may
 * sleep, but only other loads wait for it. A chapter already cached is not
 * read again, nor is one that failed to load until another has loaded.
 *
 * Return: 0, or the error of the read (-EBADMSG for a damaged chapter
 * index), which leaves the cache as it was.
 */
int ddi_sparse_cache_load(struct ddi_sparse_cache *cache, u64 vcn)
{
	struct ddi_sparse_chapter *chapter, *old;
	int ret = 0;

	mutex_lock(&cache->load_mutex);
	if (cached_locked(cache, vcn))
		goto out;
	if (vcn == cache->failed_vcn) {
		ret = -EBADMSG;
		goto out;
	}
	chapter = cache->spare;
	ret = fill_chapter(cache, chapter, vcn);
	if (ret) {
		cache->failed_vcn = vcn;
		WRITE_ONCE(cache->load_failures, cache->load_failures + 1);
		goto out;
	}
	cache->failed_vcn = U64_MAX;
	/* Release: the filled chapter before the pointer to it; see the top. */
	old = rcu_replace_pointer(cache->slots[cache->next_victim], chapter,
				  lockdep_is_held(&cache->load_mutex));
	cache->next_victim = (cache->next_victim + 1) % DDI_SPARSE_CACHE_CHAPTERS;
	/* No zone searches @old once every read-side section now open ends. */
	synchronize_rcu();
	cache->spare = old;
	WRITE_ONCE(cache->loaded, cache->loaded + 1);
out:
	mutex_unlock(&cache->load_mutex);
	return ret;
}

/* The index page of @chapter that holds @list: pages hold lists in order. */
static const struct ddi_index_page *page_for_list(const struct ddi_geometry *geo,
						  const struct ddi_sparse_chapter *chapter,
						  u32 list)
{
	u32 low = 0, high = geo->index_pages_per_chapter;

	while (low < high) {
		u32 middle = low + (high - low) / 2;
		const struct ddi_index_page *page = &chapter->pages[middle];

		/* A page with no list has highest_list = lowest_list - 1. */
		if (page->highest_list + 1 <= list)
			low = middle + 1;
		else
			high = middle;
	}
	return low < geo->index_pages_per_chapter ? &chapter->pages[low] : NULL;
}

/**
 * ddi_sparse_cache_search() - Find a name's record page in a cached chapter.
 * @cache: the cache.
 * @name: the name.
 * @oldest_vcn: the oldest chapter of the caller's window: older cached
 *	chapters have left the volume and are skipped.
 * @vcn: set to the chapter the record page belongs to.
 * @follow: if not NULL, set to whether this search was the one that found
 *	DDI_SPARSE_FOLLOW_HITS names in that chapter (so the caller should
 *	load the chapter after it); false on a miss.
 *
 * Called by zone threads; never sleeps or waits. The newest cached
 * chapter whose index holds the name wins, as the volume index would
 * have named the newest.
 *
 * Return: the record page within the chapter, or DDI_NO_RECORD_PAGE.
 */
u32 ddi_sparse_cache_search(struct ddi_sparse_cache *cache, const struct ddi_name *name,
			    u64 oldest_vcn, u64 *vcn, bool *follow)
{
	const struct ddi_geometry *geo = &cache->volume->geo;
	u32 list = ddi_geometry_delta_list(geo, name);
	u64 h = name_hash(geo, name);
	struct ddi_sparse_chapter *found = NULL;
	u32 best = DDI_NO_RECORD_PAGE;
	unsigned int i;

	if (follow)
		*follow = false;
	rcu_read_lock();
	for (i = 0; i < DDI_SPARSE_CACHE_CHAPTERS; i++) {
		/* Pairs with rcu_replace_pointer() in ddi_sparse_cache_load(). */
		struct ddi_sparse_chapter *chapter = rcu_dereference(cache->slots[i]);
		const struct ddi_index_page *page;
		u32 record_page;

		if (chapter->vcn == U64_MAX || chapter->vcn < oldest_vcn ||
		    (best != DDI_NO_RECORD_PAGE && chapter->vcn < *vcn) ||
		    !filter_has(chapter, cache->filter_mask, h))
			continue;
		page = page_for_list(geo, chapter, list);
		/* A damaged list is a miss in this chapter, not an error. */
		if (!page || ddi_chapter_index_page_search(page, geo, name, &record_page) ||
		    record_page == DDI_NO_RECORD_PAGE)
			continue;
		best = record_page;
		*vcn = chapter->vcn;
		found = chapter;
	}
	/*
	 * Exactly one search sees the count reach the mark, whichever zone
	 * makes it, so one load follows; the count orders nothing else.
	 */
	if (found && follow)
		*follow = atomic_inc_return(&found->hits) == DDI_SPARSE_FOLLOW_HITS;
	rcu_read_unlock();
	return best;
}

/**
 * ddi_sparse_cache_contains() - Whether a chapter is cached.
 * @cache: the cache.
 * @vcn: the chapter.
 *
 * Return: true if a search can find names of @vcn now.
 */
bool ddi_sparse_cache_contains(struct ddi_sparse_cache *cache, u64 vcn)
{
	bool found = false;
	unsigned int i;

	rcu_read_lock();
	for (i = 0; i < DDI_SPARSE_CACHE_CHAPTERS && !found; i++)
		found = rcu_dereference(cache->slots[i])->vcn == vcn;
	rcu_read_unlock();
	return found;
}
