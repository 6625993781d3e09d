// SPDX-License-Identifier: GPL-2.0-only
/*
 * Zone threads. A name belongs to one zone, and only that zone's thread
 * touches the name's slice of the volume index and of the open chapter,
 * so neither needs a lock. Requests reach a zone through a lock-free list;
 * a request that must wait for a page read leaves the zone and is put back
 * on the list by a reader thread, then resumes where it stopped.
 */

#include <linux/kthread.h>
#include <linux/slab.h>

#include "index.h"
#include "stat-counter.h"

/* Where a request's name turned up. */
enum {
	/* The most answers a zone holds before handing them over. */
	DDI_ZONE_ANSWER_BATCH = 32,
};

enum name_location {
	IN_NOTHING,
	IN_OPEN_CHAPTER,
	IN_CLOSING_CHAPTER,
	IN_VOLUME,
};

/**
 * ddi_index_zone_hand_answers() - Hand the answers a zone holds to the answer thread.
 * @zone: the zone; called by its thread.
 */
void ddi_index_zone_hand_answers(struct ddi_index_zone *zone)
{
	if (!zone->answers_held)
		return;
	ddi_index_answers_add(zone->index, zone->answers_first, zone->answers_last,
			      zone->answers_held);
	zone->answers_first = NULL;
	zone->answers_last = NULL;
	zone->answers_held = 0;
}

/*
 * The answer thread runs the callback, and then counts the request out.
 * Answers go to it DDI_ZONE_ANSWER_BATCH at a time, and whenever the zone
 * has no more requests at hand or must wait for the chapter writer: a
 * wake-up of the answer thread, and of whoever its callbacks wake, per
 * batch rather than per answer, at the cost of holding the first answer
 * of a batch for the time the zone takes over the rest.
 */
static void complete_request(struct ddi_index_zone *zone, struct ddi_request *request)
{
	struct llist_node *node = &request->priv.zone_node;

	node->next = zone->answers_first;
	zone->answers_first = node;
	if (!zone->answers_last)
		zone->answers_last = node;
	if (++zone->answers_held == DDI_ZONE_ANSWER_BATCH)
		ddi_index_zone_hand_answers(zone);
}

/**
 * ddi_index_zone_put_record() - Put a record into a zone's open chapter.
 * @zone: the zone; called by its thread, or while no zone thread runs.
 * @name: the name.
 * @data: its data.
 * @hint_denied: the volume index named a chapter that does not hold the name.
 *
 * The volume index is pointed at the open chapter, and a zone whose share
 * of the chapter is now full closes the chapter for every zone.
 */
void ddi_index_zone_put_record(struct ddi_index_zone *zone, const struct ddi_name *name,
			       const struct ddi_data *data, bool hint_denied)
{
	struct ddi_index *index = zone->index;
	struct ddi_volume_index *vi = ddi_index_volume_index(index, name);
	bool full = false;
	int ret;

	if (ddi_open_chapter_zone_put(zone->open, name, data, &full))
		return;
	/*
	 * A hint the chapter denied belongs to another name with the same
	 * tag: keep that name's entry and hold this one whole beside it.
	 */
	if (hint_denied)
		ret = ddi_volume_index_put_collision(vi, name, zone->open_vcn);
	else
		ret = ddi_volume_index_put(vi, name, zone->open_vcn);
	if (ret)
		zone->stats.volume_index_full++;
	if (full) {
		ddi_chapter_writer_request_close(index, zone->open_vcn);
		ddi_chapter_writer_hand_over(zone);
	}
}

/* Act on what the search found, as the request's type asks. */
static void finish_request(struct ddi_index_zone *zone, struct ddi_request *request,
			   enum name_location where)
{
	struct ddi_index *index = zone->index;
	bool refresh = request->found && where != IN_OPEN_CHAPTER;
	bool denied = request->priv.hinted && !request->found;

	if (request->priv.sparse) {
		if (request->found)
			ddi_stat_add(zone->stats.sparse_hits, 1);
		else
			ddi_stat_add(zone->stats.sparse_misses, 1);
	}

	switch (request->type) {
	case DDI_POST:
		if (request->found) {
			ddi_stat_add(zone->stats.posts_found, 1);
			/* Keep a name in use inside the volume's window. */
			if (refresh)
				ddi_index_zone_put_record(zone, &request->name,
							  &request->old_data, false);
		} else {
			ddi_stat_add(zone->stats.posts_not_found, 1);
			ddi_index_zone_put_record(zone, &request->name, &request->new_data, denied);
		}
		break;
	case DDI_QUERY:
		ddi_stat_add(zone->stats.queries, 1);
		if (refresh)
			ddi_index_zone_put_record(zone, &request->name, &request->old_data, false);
		break;
	case DDI_QUERY_NO_UPDATE:
		ddi_stat_add(zone->stats.queries, 1);
		break;
	case DDI_UPDATE:
		ddi_stat_add(zone->stats.updates, 1);
		ddi_index_zone_put_record(zone, &request->name, &request->new_data, denied);
		break;
	case DDI_DELETE:
		if (request->found) {
			ddi_stat_add(zone->stats.deletes, 1);
			ddi_open_chapter_zone_remove(zone->open, &request->name);
			ddi_volume_index_remove(ddi_index_volume_index(index, &request->name),
						&request->name);
		}
		break;
	}
	ddi_stat_add(zone->stats.requests, 1);
	complete_request(zone, request);
}

/* A volume search that could not be done is a miss, never bad data. */
static void fail_search(struct ddi_index_zone *zone, struct ddi_request *request, int ret)
{
	request->found = false;
	/* Corrupt pages are counted by the volume: not the caller's error. */
	request->status = ret == -EBADMSG ? 0 : ret;
	finish_request(zone, request, IN_NOTHING);
}

/*
 * Search the volume store for a request; returns false if the request
 * went to the readers and will come back.
 */
static bool search_volume(struct ddi_index_zone *zone, struct ddi_request *request)
{
	int ret = ddi_volume_search(zone->index->volume, request);

	if (ret == DDI_QUEUED)
		return false;
	if (ret < 0) {
		fail_search(zone, request, ret);
		return true;
	}
	finish_request(zone, request, request->found ? IN_VOLUME : IN_NOTHING);
	return true;
}

/*
 * Bring a closed chapter into the sparse cache if it is sparse (a dense
 * one has every name in the volume index) and not cached already, which
 * a look without the load mutex tells in the common case. A load that
 * fails leaves the cache as it was: the chapter's names are then missed.
 */
static void cache_sparse_chapter(struct ddi_index_zone *zone, u64 vcn)
{
	struct ddi_index *index = zone->index;

	if (ddi_index_chapter_is_sparse(index, zone->open_vcn, vcn) &&
	    !ddi_sparse_cache_contains(index->sparse_cache, vcn))
		ddi_sparse_cache_load(index->sparse_cache, vcn);
}

/*
 * A name of a sparse index that the volume index does not hold may still
 * be in an old chapter, which keeps only its hooks in the volume index:
 * search the chapters a hook brought into the sparse cache. The record
 * page decides, as for a hint.
 */
static void search_sparse_cache(struct ddi_index_zone *zone, struct ddi_request *request)
{
	struct ddi_index *index = zone->index;
	u32 chapters = index->geo.chapters_per_volume;
	u64 oldest = zone->open_vcn > chapters ? zone->open_vcn - chapters : 0;
	u32 record_page;
	bool follow;
	u64 vcn;

	request->priv.sparse = true;
	record_page = ddi_sparse_cache_search(index->sparse_cache, &request->name, oldest, &vcn,
					      &follow);
	if (record_page == DDI_NO_RECORD_PAGE) {
		finish_request(zone, request, IN_NOTHING);
		return;
	}
	request->priv.vcn = vcn;
	request->priv.record_page = record_page;
	request->priv.stage = DDI_STAGE_RECORD_PAGE_KNOWN;
	search_volume(zone, request);
	/*
	 * A run that keeps finding this chapter will go on into the next:
	 * have it cached before the run gets there (after this request's
	 * search, which the load would only delay).
	 */
	if (follow && vcn + 1 < zone->open_vcn)
		cache_sparse_chapter(zone, vcn + 1);
}

static void start_request(struct ddi_index_zone *zone, struct ddi_request *request)
{
	struct ddi_index *index = zone->index;
	struct ddi_volume_index *vi = ddi_index_volume_index(index, &request->name);
	u64 vcn;

	request->found = false;
	request->status = 0;
	request->priv.hinted = false;
	request->priv.sparse = false;
	if (ddi_open_chapter_zone_search(zone->open, &request->name, &request->old_data)) {
		request->found = true;
		finish_request(zone, request, IN_OPEN_CHAPTER);
		return;
	}
	if (!ddi_volume_index_lookup(vi, &request->name, &vcn)) {
		if (index->sparse_cache && vi == index->volume_index)
			search_sparse_cache(zone, request);
		else
			finish_request(zone, request, IN_NOTHING);
		return;
	}
	request->priv.hinted = true;
	if (vcn >= zone->open_vcn) {
		finish_request(zone, request, IN_NOTHING);
		return;
	}
	if (vcn + 1 == zone->open_vcn && !ddi_chapter_writer_is_written(index, vcn)) {
		/* Still being written: its records are in the zone's closing buffer. */
		request->found = ddi_open_chapter_zone_search(zone->closing, &request->name,
							      &request->old_data);
		finish_request(zone, request,
			       request->found ? IN_CLOSING_CHAPTER : IN_NOTHING);
		return;
	}
	/*
	 * A hook found an old chapter: the names that follow it are likely
	 * to be that chapter's too, and only the sparse cache can find them.
	 * A chapter that cannot be read is still searched for the hook: the
	 * search reports its damage as for any chapter.
	 */
	cache_sparse_chapter(zone, vcn);
	request->priv.vcn = vcn;
	request->priv.stage = DDI_STAGE_START;
	search_volume(zone, request);
}

/*
 * Whether a chapter has left the zone's window. ddi_chapter_writer_hand_over()
 * moves the window past the chapter that writing open_vcn - 1 overwrites
 * before it hands the chapter to the writer, and the writer needs every
 * zone's hand-over, so a chapter inside the window is never being
 * overwritten; one outside it is being or has been.
 */
static bool chapter_expired(const struct ddi_index_zone *zone, u64 vcn)
{
	return zone->open_vcn - vcn > zone->index->geo.chapters_per_volume;
}

static void process_request(struct ddi_index_zone *zone, struct ddi_request *request)
{
	if (request->priv.requeued) {
		request->priv.requeued = false;
		/*
		 * A reader that could not read or use the page this request
		 * waited for says so in its status. Searching again would
		 * queue the same read again, for ever if the page is damaged.
		 * A request whose chapter left the window while it waited
		 * (its reads were dropped when the chapter was forgotten) is
		 * a miss: the page now holds another chapter, or soon will.
		 */
		if (request->status) {
			fail_search(zone, request, request->status);
		} else if (chapter_expired(zone, request->priv.vcn)) {
			request->found = false;
			finish_request(zone, request, IN_NOTHING);
		} else {
			search_volume(zone, request);
		}
	} else {
		start_request(zone, request);
	}
}

static bool close_pending(struct ddi_index_zone *zone)
{
	return atomic64_read(&zone->index->writer.close_target) > (s64)zone->open_vcn;
}

/*
 * Sit still while a save reads the zone's state. A chapter close asked for
 * meanwhile is still honoured: the save waits for it to be written.
 */
static void pause_zone(struct ddi_index_zone *zone)
{
	struct ddi_index *index = zone->index;

	/* Full barrier: the zone's state is complete before the saver sees it rest. */
	atomic_inc_return(&index->zones_paused);
	wake_up_all(&index->pause_wait);
	for (;;) {
		wait_event_idle(index->pause_wait,
				!READ_ONCE(index->pausing) || close_pending(zone));
		if (!READ_ONCE(index->pausing))
			break;
		ddi_chapter_writer_hand_over(zone);
	}
	atomic_dec(&index->zones_paused);
}

static int zone_thread(void *arg)
{
	struct ddi_index_zone *zone = arg;
	struct ddi_index *index = zone->index;

	for (;;) {
		struct llist_node *batch;
		struct ddi_request *request, *next;

		wait_event_idle(zone->wait, !llist_empty(&zone->queue) || close_pending(zone) ||
				READ_ONCE(index->pausing) || kthread_should_stop());
		while (close_pending(zone))
			ddi_chapter_writer_hand_over(zone);
		if (READ_ONCE(index->pausing)) {
			pause_zone(zone);
			continue;
		}

		/* llist_add pushes at the head: reverse to serve in arrival order. */
		batch = llist_reverse_order(llist_del_all(&zone->queue));
		if (!batch && kthread_should_stop())
			return 0;
		llist_for_each_entry_safe(request, next, batch, priv.zone_node)
			process_request(zone, request);
		/*
		 * Before the zone waits or rests, so that it holds answers only
		 * while it works: a flush never waits on a sleeping zone, and a
		 * save's hook, run while the zones rest, sees every request they
		 * finished answered.
		 */
		ddi_index_zone_hand_answers(zone);
	}
}

/**
 * ddi_index_zone_requeue() - Give a request whose page was read back to its zone.
 * @request: the request.
 * @context: the index.
 *
 * Called by reader threads without sleeping.
 */
void ddi_index_zone_requeue(struct ddi_request *request, void *context)
{
	struct ddi_index *index = context;
	struct ddi_index_zone *zone = index->zones[request->priv.zone];

	/*
	 * llist_add is a full barrier: the zone sees the request's new state.
	 * Only an add to an empty queue wakes the zone, as ddi_index_launch()
	 * explains.
	 */
	if (llist_add(&request->priv.zone_node, &zone->queue))
		wake_up(&zone->wait);
}

/**
 * ddi_index_launch() - Start a request.
 * @index: the index.
 * @request: the request with type, name, new_data (for posts and updates)
 *	and callback set; it belongs to the index until the callback runs.
 *
 * Never sleeps, so it may be called from a bio's completion. The callback
 * runs on the index's answer thread, one at a time, and must not sleep.
 */
void ddi_index_launch(struct ddi_index *index, struct ddi_request *request)
{
	struct ddi_index_zone *zone;

	request->priv.index = index;
	request->priv.zone = ddi_volume_index_zone(index->volume_index, &request->name);
	request->priv.requeued = false;
	request->priv.stage = DDI_STAGE_START;
	zone = index->zones[request->priv.zone];
	atomic64_inc(&zone->in_flight);
	/*
	 * Only the add that finds the queue empty wakes the zone: a wake_up()
	 * takes the wait queue's lock, which every launch contended for with
	 * the zone thread. Any later add finds the queue not empty until the
	 * zone takes it all with llist_del_all(), and a zone that has taken it
	 * checks the queue again before it sleeps. The full barrier of
	 * llist_add()'s cmpxchg pairs with the one set_current_state() puts
	 * between the zone's going to sleep and its check of the queue in
	 * wait_event_idle(), so the waking add cannot be missed.
	 */
	if (llist_add(&request->priv.zone_node, &zone->queue))
		wake_up(&zone->wait);
}
EXPORT_SYMBOL_GPL(ddi_index_launch);

/**
 * ddi_index_zones_create() - Make the zones, with empty open chapters.
 * @index: the index, with its geometry and volume index set up.
 * @open_vcn: the open chapter.
 *
 * Return: 0 or -ENOMEM; ddi_index_zones_free() cleans up either way.
 */
int ddi_index_zones_create(struct ddi_index *index, u64 open_vcn)
{
	unsigned int z;
	int ret;

	for (z = 0; z < index->zone_count; z++) {
		struct ddi_index_zone *zone = kzalloc(sizeof(*zone), GFP_KERNEL);

		if (!zone)
			return -ENOMEM;
		index->zones[z] = zone;
		zone->index = index;
		zone->id = z;
		zone->open_vcn = open_vcn;
		init_llist_head(&zone->queue);
		init_waitqueue_head(&zone->wait);
		ret = ddi_open_chapter_zone_create(&index->geo, index->zone_count, &zone->open);
		if (!ret)
			ret = ddi_open_chapter_zone_create(&index->geo, index->zone_count,
							   &zone->closing);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * ddi_index_zones_start() - Start the zone threads.
 * @index: the index.
 *
 * Return: 0 or a negative errno.
 */
int ddi_index_zones_start(struct ddi_index *index)
{
	unsigned int z;
	int ret;

	ret = ddi_index_answers_start(index);
	if (ret)
		return ret;
	for (z = 0; z < index->zone_count; z++) {
		struct ddi_index_zone *zone = index->zones[z];
		struct task_struct *thread;

		thread = kthread_run(zone_thread, zone, "ddi-zone/%u", z);
		if (IS_ERR(thread))
			return PTR_ERR(thread);
		zone->thread = thread;
	}
	return 0;
}

/**
 * ddi_index_zones_pause() - Bring every zone thread to rest.
 * @index: the index; the caller holds save_mutex.
 *
 * Requests keep queueing while the zones rest; no chapter is being
 * written, and every request they finished has been answered, once this
 * returns.
 */
void ddi_index_zones_pause(struct ddi_index *index)
{
	unsigned int z;

	lockdep_assert_held(&index->save_mutex);
	WRITE_ONCE(index->pausing, true);
	for (z = 0; z < index->zone_count; z++)
		wake_up(&index->zones[z]->wait);
	wait_event_idle(index->pause_wait,
			atomic_read(&index->zones_paused) == index->zone_count);
	/* Pairs with atomic_inc_return() in pause_zone(). */
	smp_rmb();
	/* Resting zones still hand over a close asked for before they rested. */
	ddi_chapter_writer_drain(index);
	/* A save hook sees every request the zones finished answered. */
	ddi_index_answers_drain(index);
}

/**
 * ddi_index_zones_resume() - Let the zone threads go on.
 * @index: the index, paused by ddi_index_zones_pause(); the caller still
 *	holds save_mutex.
 */
void ddi_index_zones_resume(struct ddi_index *index)
{
	unsigned int z;

	lockdep_assert_held(&index->save_mutex);
	WRITE_ONCE(index->pausing, false);
	wake_up_all(&index->pause_wait);
	for (z = 0; z < index->zone_count; z++)
		wake_up(&index->zones[z]->wait);
}

/**
 * ddi_index_zones_free() - Stop the zone and answer threads and free the zones.
 * @index: the index, with no request in flight.
 */
void ddi_index_zones_free(struct ddi_index *index)
{
	unsigned int z;

	for (z = 0; z < index->zone_count; z++) {
		if (index->zones[z] && index->zones[z]->thread)
			kthread_stop(index->zones[z]->thread);
	}
	/* Answers look their zone up: stop answering before any zone goes. */
	ddi_index_answers_stop(index);
	for (z = 0; z < index->zone_count; z++) {
		struct ddi_index_zone *zone = index->zones[z];

		if (!zone)
			continue;
		ddi_open_chapter_zone_free(zone->open);
		ddi_open_chapter_zone_free(zone->closing);
		kfree(zone);
		index->zones[z] = NULL;
	}
}
