// SPDX-License-Identifier: GPL-2.0-only
/*
 * The read queue: a bounded ring of page reads waiting for a reader thread,
 * each with the list of requests that need the page. It lives in the page
 * cache's storage because the cache's table from physical page to slot is
 * also how a search finds that its page is already queued: an entry with
 * DDI_CACHE_QUEUED set holds a queue position instead of a slot. All of it
 * is touched only under the volume's read mutex.
 */

#include <linux/lockdep.h>

#include "page-cache.h"

static u16 next_position(u16 position)
{
	return (position + 1) % DDI_READ_QUEUE_SIZE;
}

/**
 * ddi_read_queue_add() - Queue a request behind a read of its page.
 * @cache: the page cache; the caller holds the read mutex.
 * @request: the request, which waits until the page is read.
 * @physical_page: the page it needs; the caller found it not cached.
 *
 * Requests for a page that is already queued join that entry.
 *
 * Return: false if a new entry was needed and the queue is full.
 */
bool ddi_read_queue_add(struct ddi_page_cache *cache, struct ddi_request *request,
			u32 physical_page)
{
	u16 entry = cache->index[physical_page];
	struct ddi_queued_read *read;

	lockdep_assert_held(cache->lock);
	if (entry & DDI_CACHE_QUEUED) {
		read = &cache->read_queue[entry & ~DDI_CACHE_QUEUED];
	} else {
		u16 position = cache->read_queue_last;

		if (next_position(position) == cache->read_queue_first)
			return false;
		read = &cache->read_queue[position];
		*read = (struct ddi_queued_read) { .physical_page = physical_page };
		WRITE_ONCE(cache->index[physical_page], DDI_CACHE_QUEUED | position);
		cache->read_queue_last = next_position(position);
	}

	request->priv.next_in_read = NULL;
	if (read->last_request)
		read->last_request->priv.next_in_read = request;
	else
		read->first_request = request;
	read->last_request = request;
	return true;
}

/**
 * ddi_read_queue_has_work() - Whether a queued read awaits a reader.
 * @cache: the page cache; the caller holds the read mutex.
 *
 * Return: true if ddi_read_queue_reserve() would return an entry.
 */
bool ddi_read_queue_has_work(const struct ddi_page_cache *cache)
{
	lockdep_assert_held(cache->lock);
	return cache->read_queue_next_read != cache->read_queue_last;
}

/**
 * ddi_read_queue_reserve() - Take the next queued read for a reader thread.
 * @cache: the page cache; the caller holds the read mutex.
 *
 * The entry stays in the queue (so more requests can join it) until
 * ddi_read_queue_release(). If its page was meanwhile read synchronously or
 * its chapter forgotten, the entry comes back marked invalid.
 *
 * Return: the entry, or NULL if there is none.
 */
struct ddi_queued_read *ddi_read_queue_reserve(struct ddi_page_cache *cache)
{
	u16 position = cache->read_queue_next_read;
	struct ddi_queued_read *read;
	bool still_queued;

	lockdep_assert_held(cache->lock);
	if (!ddi_read_queue_has_work(cache))
		return NULL;

	read = &cache->read_queue[position];
	still_queued = cache->index[read->physical_page] == (DDI_CACHE_QUEUED | position);
	if (!still_queued)
		read->invalid = true;
	else if (read->invalid)
		WRITE_ONCE(cache->index[read->physical_page], cache->slot_count);

	read->reserved = true;
	cache->read_queue_next_read = next_position(position);
	return read;
}

/**
 * ddi_read_queue_release() - Retire a reserved entry whose requests are gone.
 * @cache: the page cache; the caller holds the read mutex.
 * @read: the entry from ddi_read_queue_reserve().
 *
 * Entries retire in queue order, so the space of an entry finished early is
 * reused only once every entry before it is finished too.
 */
void ddi_read_queue_release(struct ddi_page_cache *cache, struct ddi_queued_read *read)
{
	lockdep_assert_held(cache->lock);
	read->reserved = false;
	read->first_request = NULL;
	read->last_request = NULL;
	while (cache->read_queue_first != cache->read_queue_next_read &&
	       !cache->read_queue[cache->read_queue_first].reserved)
		cache->read_queue_first = next_position(cache->read_queue_first);
}
