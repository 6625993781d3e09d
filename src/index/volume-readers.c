// SPDX-License-Identifier: GPL-2.0-only
/*
 * The volume's reader threads: they take page reads from the read queue
 * (read-queue.c), read and checksum the page with the read mutex
 * dropped, install it in the page cache if it is still wanted and valid,
 * search it for every request waiting on it (volume-search.c) and hand the
 * requests back to their zones through the requeue callback.
 */

#include <linux/dm-bufio.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "volume.h"

/*
 * Read the page of a reserved queue entry into the cache and search it for
 * each waiting request. Called and returns with the read mutex held, but
 * drops it for the read itself.
 */
static int read_queued_page(struct ddi_volume *volume, struct ddi_queued_read *read)
{
	struct ddi_page_cache *cache = &volume->cache;
	u16 marker = DDI_CACHE_QUEUED | (read - cache->read_queue);
	u32 physical_page = read->physical_page;
	struct ddi_cached_page *page;
	struct ddi_request *request;
	bool sum_ok = false;
	void *data;
	int ret;

	lockdep_assert_held(&volume->read_mutex);
	if (read->invalid)
		return 0;
	/* Found damaged by a synchronous reader since it was queued. */
	if (test_bit(physical_page, volume->bad_pages)) {
		if (cache->index[physical_page] == marker)
			WRITE_ONCE(cache->index[physical_page], cache->slot_count);
		return -EBADMSG;
	}

	page = ddi_page_cache_claim_victim(cache);
	if (!page)
		return -EBUSY;

	mutex_unlock(&volume->read_mutex);
	data = dm_bufio_read(volume->client, physical_page, &page->buffer);
	/*
	 * Checksum the page before taking the mutex back: under the mutex,
	 * a 4 KiB crc32 held up every zone with a cache miss (13% of a
	 * shuffled run under TCG went to zones spinning on the mutex).
	 */
	if (!IS_ERR(data))
		sum_ok = ddi_volume_page_sum_ok(volume, data, physical_page);
	mutex_lock(&volume->read_mutex);

	if (IS_ERR(data)) {
		page->buffer = NULL;
		ret = PTR_ERR(data);
		ddi_volume_read_failed(volume, physical_page, ret);
		goto cancel;
	}
	atomic64_inc(&volume->pages_read);

	/*
	 * While we read, the chapter may have been forgotten or begun to be
	 * overwritten, or a synchronous reader may have cached the page
	 * itself; either way ours is not wanted, and the requests will search
	 * again if their chapter is still in their zone's window.
	 */
	ret = 0;
	if (read->invalid || cache->index[physical_page] != marker)
		goto cancel;

	ret = ddi_volume_search_validate(volume, page, physical_page, sum_ok);
	if (ret) {
		/* The writer's mark: not an error of the requests. */
		if (ret == -ESTALE)
			ret = 0;
		goto cancel;
	}
	ddi_page_cache_install(cache, page, physical_page);

	for (request = read->first_request; request; request = request->priv.next_in_read) {
		ret = ddi_volume_search_page(volume, request, page);
		if (ret)
			request->status = ret;
	}
	return 0;

cancel:
	ddi_page_cache_cancel(cache, page);
	if (cache->index[physical_page] == marker)
		WRITE_ONCE(cache->index[physical_page], cache->slot_count);
	return ret;
}

static void requeue_waiting_requests(struct ddi_volume *volume,
				     struct ddi_queued_read *read, int status)
{
	struct ddi_request *request = read->first_request;

	while (request) {
		struct ddi_request *next = request->priv.next_in_read;

		if (status)
			request->status = status;
		request->priv.requeued = true;
		volume->config.requeue(request, volume->config.requeue_context);
		request = next;
	}
}

static int reader_thread(void *arg)
{
	struct ddi_volume *volume = arg;
	struct ddi_page_cache *cache = &volume->cache;

	mutex_lock(&volume->read_mutex);
	for (;;) {
		struct ddi_queued_read *read;
		int ret;

		wait_with_mutex(&volume->read_mutex, volume->reader_wait,
				kthread_should_stop() || ddi_read_queue_has_work(cache),
				TASK_IDLE);
		if (kthread_should_stop())
			break;

		read = ddi_read_queue_reserve(cache);
		ret = read_queued_page(volume, read);
		requeue_waiting_requests(volume, read, ret);
		ddi_read_queue_release(cache, read);
		wake_up_all(&volume->queue_space_wait);
	}
	mutex_unlock(&volume->read_mutex);
	return 0;
}

/**
 * ddi_volume_readers_start() - Start the volume's reader threads again.
 * @volume: the volume, its readers stopped: ddi_volume_create() starts
 *	them, so this is only for after ddi_volume_readers_stop().
 *
 * Return: 0 or the error of the first thread that failed to start (the ones
 * started are left for ddi_volume_readers_stop()).
 */
int ddi_volume_readers_start(struct ddi_volume *volume)
{
	unsigned int i;

	/* A second set would overwrite the first's handles and outlive the volume. */
	if (WARN_ON_ONCE(volume->reader_count))
		return -EBUSY;
	for (i = 0; i < volume->config.reader_count; i++) {
		struct task_struct *task;

		task = kthread_run(reader_thread, volume, "ddi-reader/%u", i);
		if (IS_ERR(task))
			return PTR_ERR(task);
		volume->readers[i] = task;
		volume->reader_count = i + 1;
	}
	return 0;
}

/**
 * ddi_volume_readers_stop() - Stop and join every reader thread.
 * @volume: the volume; no request may be queued any more.
 */
void ddi_volume_readers_stop(struct ddi_volume *volume)
{
	while (volume->reader_count > 0)
		kthread_stop(volume->readers[--volume->reader_count]);
}
