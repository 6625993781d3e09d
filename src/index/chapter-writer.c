// SPDX-License-Identifier: GPL-2.0-only
/*
 * The chapter writer: when a zone fills its share of the open chapter,
 * every zone hands its records over and goes on with the next chapter
 * while this thread merges them, builds the chapter index and writes the
 * chapter into the volume store.
 */

#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "index.h"
#include "stat-counter.h"

/*
 * Acquire: pairs with each zone's release in ddi_chapter_writer_hand_over(),
 * so the writer that sees every zone counted sees every zone's records.
 */
static bool all_zones_handed(struct ddi_index *index)
{
	return atomic_read_acquire(&index->writer.zones_handed) == index->zone_count;
}

static void write_handed_chapter(struct ddi_index *index)
{
	struct ddi_chapter_writer *writer = &index->writer;
	u64 vcn = atomic64_read(&writer->written_end);
	u32 record_count = 0;
	int ret;

	/* all_zones_handed() was seen true: its acquire published the records. */
	/*
	 * After one failed write the device is not trusted with another: the
	 * chapters that follow are dropped too, and no save is made (see
	 * save_index()), so the next open rebuilds from what is on disk.
	 */
	ret = READ_ONCE(writer->error);
	if (!ret)
		ret = ddi_open_chapter_close(writer->handed, index->zone_count, vcn,
					     writer->records, &record_count,
					     writer->chapter_index, writer->sorter,
					     writer->scratch);
	if (!ret)
		ret = ddi_volume_write_chapter(index->volume, writer->chapter_index,
					       writer->records, record_count);
	if (ret) {
		/*
		 * Its names will be missed, not misreported: the vcn of every
		 * page the volume holds at that place is an older one.
		 */
		if (!writer->error) {
			pr_err("%pg: chapter %llu was not written (%d): no more chapters or saves go to this device until it is opened again\n",
			       index->bdev, vcn, ret);
			WRITE_ONCE(writer->error, ret);
		}
		WRITE_ONCE(writer->chapters_failed, writer->chapters_failed + 1);
	} else {
		WRITE_ONCE(writer->chapters_written, writer->chapters_written + 1);
		WRITE_ONCE(writer->entries_dropped, writer->entries_dropped +
			   ddi_open_chapter_index_dropped(writer->chapter_index));
	}

	/*
	 * No zone counts itself for the next chapter before it sees the new
	 * end, so this reset cannot lose one.
	 */
	atomic_set(&writer->zones_handed, 0);
	/*
	 * Release: the reset, and everything the writer read from the handed
	 * buffers, are done before a zone that sees the new end reuses them
	 * (acquire in ddi_chapter_writer_hand_over() and
	 * ddi_chapter_writer_is_written()).
	 */
	atomic64_set_release(&writer->written_end, vcn + 1);
	wake_up_all(&writer->written_wait);
}

static int writer_thread(void *arg)
{
	struct ddi_index *index = arg;
	struct ddi_chapter_writer *writer = &index->writer;

	for (;;) {
		wait_event_idle(writer->wait, all_zones_handed(index) || kthread_should_stop());
		if (all_zones_handed(index))
			write_handed_chapter(index);
		else if (kthread_should_stop())
			return 0;
	}
}

/**
 * ddi_chapter_writer_memory_bytes() - RAM the chapter writer takes.
 * @geo: the volume geometry.
 *
 * Return: the bytes ddi_chapter_writer_create() allocates: a chapter of
 * records and of pointers to sort them, its chapter index and the sorter.
 */
size_t ddi_chapter_writer_memory_bytes(const struct ddi_geometry *geo)
{
	struct ddi_chapter_writer *writer;

	return PAGE_ALIGN((size_t)geo->records_per_chapter * sizeof(*writer->records)) +
	       PAGE_ALIGN((size_t)geo->records_per_chapter * sizeof(*writer->scratch)) +
	       ddi_open_chapter_index_memory_bytes(geo) +
	       ddi_radix_sorter_memory_bytes(geo->records_per_chapter) + DDI_THREAD_BYTES;
}

/**
 * ddi_chapter_writer_create() - Set up and start the chapter writer.
 * @index: the index, with its volume and geometry set up.
 * @open_vcn: the open chapter: every chapter below it is already written.
 *
 * Return: 0 or a negative errno.
 */
int ddi_chapter_writer_create(struct ddi_index *index, u64 open_vcn)
{
	struct ddi_chapter_writer *writer = &index->writer;
	const struct ddi_geometry *geo = &index->geo;
	struct task_struct *thread;
	int ret;

	atomic_set(&writer->zones_handed, 0);
	init_waitqueue_head(&writer->wait);
	init_waitqueue_head(&writer->written_wait);
	atomic64_set(&writer->close_target, open_vcn);
	atomic64_set(&writer->written_end, open_vcn);

	writer->records = vcalloc(geo->records_per_chapter, sizeof(*writer->records));
	writer->scratch = vcalloc(geo->records_per_chapter, sizeof(*writer->scratch));
	if (!writer->records || !writer->scratch)
		return -ENOMEM;
	ret = ddi_open_chapter_index_create(geo, &writer->chapter_index);
	if (ret)
		return ret;
	ret = ddi_radix_sorter_create(geo->records_per_chapter, &writer->sorter);
	if (ret)
		return ret;

	thread = kthread_run(writer_thread, index, "ddi-writer");
	if (IS_ERR(thread))
		return PTR_ERR(thread);
	writer->thread = thread;
	return 0;
}

/**
 * ddi_chapter_writer_free() - Stop the writer and free what it holds.
 * @index: the index; its zones have stopped and no close is pending.
 */
void ddi_chapter_writer_free(struct ddi_index *index)
{
	struct ddi_chapter_writer *writer = &index->writer;

	if (writer->thread)
		kthread_stop(writer->thread);
	writer->thread = NULL;
	ddi_radix_sorter_free(writer->sorter);
	ddi_open_chapter_index_free(writer->chapter_index);
	vfree(writer->records);
	vfree(writer->scratch);
	writer->scratch = NULL;
	writer->sorter = NULL;
	writer->chapter_index = NULL;
	writer->records = NULL;
}

/**
 * ddi_chapter_writer_request_close() - Ask every zone to close a chapter.
 * @index: the index.
 * @open_vcn: the chapter to close; zones move on to @open_vcn + 1.
 */
void ddi_chapter_writer_request_close(struct ddi_index *index, u64 open_vcn)
{
	atomic64_t *target = &index->writer.close_target;
	s64 old = atomic64_read(target);
	unsigned int z;

	while (old < (s64)(open_vcn + 1)) {
		if (atomic64_try_cmpxchg(target, &old, open_vcn + 1))
			break;
	}
	for (z = 0; z < index->zone_count; z++)
		wake_up(&index->zones[z]->wait);
	/* Zones resting for a save still take part in a close. */
	wake_up_all(&index->pause_wait);
}

/**
 * ddi_chapter_writer_hand_over() - Close a zone's open chapter.
 * @zone: the zone; called by its thread.
 *
 * Waits until the previous chapter is written, as its records buffer
 * becomes this zone's next open chapter.
 *
 * A zone resting for a save still hands over (see pause_zone()), while it
 * counts as paused; the saver waits only until the writer has written what
 * was asked for (ddi_chapter_writer_drain()), and the writer starts once
 * the last zone is counted in zones_handed. So everything the zone changes
 * is done before it is counted: otherwise the save could read the zone's
 * open_vcn and volume index window while they are changed.
 */
void ddi_chapter_writer_hand_over(struct ddi_index_zone *zone)
{
	struct ddi_index *index = zone->index;
	struct ddi_chapter_writer *writer = &index->writer;
	u64 vcn = zone->open_vcn;
	u32 chapters = index->geo.chapters_per_volume;

	/* Counted, as a zone waiting here is what limits the zones' rate. */
	if (atomic64_read_acquire(&writer->written_end) < (s64)vcn) {
		ktime_t start = ktime_get();

		/* The zone's answers need not wait for a chapter write. */
		ddi_index_zone_hand_answers(zone);
		wait_event_idle(writer->written_wait,
				atomic64_read_acquire(&writer->written_end) >= (s64)vcn);
		ddi_stat_add(zone->stats.close_wait_ns, ktime_to_ns(ktime_sub(ktime_get(), start)));
	}
	swap(zone->open, zone->closing);
	ddi_open_chapter_zone_reset(zone->open);

	/*
	 * Writing vcn overwrites vcn - chapters: the window loses it before
	 * the writer may start, so the zone never searches a chapter being
	 * overwritten (see chapter_expired() in index-zone.c).
	 */
	zone->open_vcn = vcn + 1;
	ddi_index_volume_index_set_window(index, zone->id,
					  vcn + 1 > chapters ? vcn + 1 - chapters : 0, vcn + 1);

	/*
	 * Release: publishes all of the above to the writer (acquire in
	 * all_zones_handed()), whose atomic64_set_release() of written_end
	 * passes it on to a saver's acquire in ddi_chapter_writer_drain().
	 * Each zone's increment continues the release sequence of those
	 * before it, so the last one publishes every zone's records.
	 */
	writer->handed[zone->id] = zone->closing;
	if (atomic_inc_return_release(&writer->zones_handed) == index->zone_count)
		wake_up(&writer->wait);
}

/**
 * ddi_chapter_writer_is_written() - Whether a closed chapter is on disk.
 * @index: the index.
 * @vcn: a chapter below the zone's open chapter.
 *
 * Return: true once the volume store can be searched for @vcn.
 */
bool ddi_chapter_writer_is_written(struct ddi_index *index, u64 vcn)
{
	return atomic64_read_acquire(&index->writer.written_end) > (s64)vcn;
}

/**
 * ddi_chapter_writer_drain() - Wait until every requested close is written.
 * @index: the index, with no request in flight.
 */
void ddi_chapter_writer_drain(struct ddi_index *index)
{
	struct ddi_chapter_writer *writer = &index->writer;

	wait_event_idle(writer->written_wait,
			atomic64_read_acquire(&writer->written_end) >=
			atomic64_read(&writer->close_target));
}
