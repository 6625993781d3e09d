// SPDX-License-Identifier: GPL-2.0-only
/*
 * The answer thread: it runs the callbacks of finished requests, so that
 * a zone thread goes on to its next request while another CPU hands the
 * answer back. A callback is the caller's code (a dm target ends a bio,
 * a benchmark wakes its poster): run on the zone thread, it and the
 * wake-ups it makes took a fifth of a zone's time under load, on the one
 * CPU that a zone's work cannot leave.
 *
 * Zones add finished requests to one lock-free list; the thread takes it
 * all at once and answers in the order the requests finished. Only the
 * add that finds the list empty wakes the thread, so a busy thread costs
 * the zones nothing but the add. A request counts in its zone's in_flight
 * until its callback has returned, so a flush or a close that waits for
 * in_flight to reach zero also waits for the answers; a save, which rests
 * the zones while launches go on queueing, waits for answers_pending to
 * reach zero instead, so that its hook sees every finished request
 * answered, as it did when the zones answered themselves.
 */

#include <linux/kthread.h>
#include <linux/sched.h>

#include "index.h"

static void answer(struct ddi_index *index, struct ddi_request *request)
{
	/* After the callback the request may be gone: read its zone first. */
	struct ddi_index_zone *zone = index->zones[request->priv.zone];

	request->callback(request);
	if (atomic64_dec_and_test(&zone->in_flight))
		wake_up_all(&index->flush_wait);
}

static int answer_thread(void *arg)
{
	struct ddi_index *index = arg;

	for (;;) {
		struct ddi_request *request, *next;
		struct llist_node *batch;
		int count;

		/*
		 * set_current_state() puts a full barrier between marking this
		 * thread asleep and looking at the list; it pairs with the one
		 * in ddi_index_answers_add()'s llist_add(), before its wake-up
		 * looks at this thread's state: an add cannot go unseen.
		 */
		set_current_state(TASK_IDLE);
		if (llist_empty(&index->answers)) {
			if (kthread_should_stop()) {
				__set_current_state(TASK_RUNNING);
				return 0;
			}
			schedule();
			continue;
		}
		__set_current_state(TASK_RUNNING);
		/* llist_add pushes at the head: reverse to answer in order. */
		batch = llist_reverse_order(llist_del_all(&index->answers));
		count = 0;
		llist_for_each_entry_safe(request, next, batch, priv.zone_node) {
			answer(index, request);
			count++;
		}
		/*
		 * Counted out a batch at a time. The full barrier of
		 * atomic_sub_and_test() puts the callbacks' work before the
		 * count; wq_has_sleeper()'s pairs with the one in the drainer's
		 * prepare_to_wait(), as its comment in wait.h explains.
		 */
		if (atomic_sub_and_test(count, &index->answers_pending) &&
		    wq_has_sleeper(&index->answers_wait))
			wake_up_all(&index->answers_wait);
	}
}

/**
 * ddi_index_answers_add() - Hand finished requests to the answer thread.
 * @index: the index.
 * @first: the newest of the requests' zone_nodes, chained through them
 *	to @last, the oldest; their status and results set, and the zone done
 *	with them, so that their zone_nodes are free for the answer list.
 * @last: see @first.
 * @count: how many requests the chain holds.
 *
 * Never sleeps.
 */
void ddi_index_answers_add(struct ddi_index *index, struct llist_node *first,
			   struct llist_node *last, u32 count)
{
	atomic_add(count, &index->answers_pending);
	/*
	 * A full barrier (cmpxchg): the thread sees the results. Pairs with
	 * set_current_state() in answer_thread().
	 */
	if (llist_add_batch(first, last, &index->answers))
		wake_up_process(index->answer_thread);
}

/**
 * ddi_index_answers_drain() - Wait until every finished request is answered.
 * @index: the index, its zones at rest (ddi_index_zones_pause()), so that
 *	no request finishes meanwhile; the caller holds save_mutex.
 */
void ddi_index_answers_drain(struct ddi_index *index)
{
	lockdep_assert_held(&index->save_mutex);
	wait_event_idle(index->answers_wait, !atomic_read(&index->answers_pending));
}

/**
 * ddi_index_answers_start() - Start the answer thread.
 * @index: the index; no zone thread runs yet.
 *
 * Return: 0 or a negative errno.
 */
int ddi_index_answers_start(struct ddi_index *index)
{
	struct task_struct *thread;

	init_llist_head(&index->answers);
	atomic_set(&index->answers_pending, 0);
	init_waitqueue_head(&index->answers_wait);
	thread = kthread_run(answer_thread, index, "ddi-answer");
	if (IS_ERR(thread))
		return PTR_ERR(thread);
	index->answer_thread = thread;
	return 0;
}

/**
 * ddi_index_answers_stop() - Stop the answer thread.
 * @index: the index, its zone threads stopped and every request answered
 *	(or none started); the thread may never have been started.
 */
void ddi_index_answers_stop(struct ddi_index *index)
{
	if (!index->answer_thread)
		return;
	WARN_ON_ONCE(!llist_empty(&index->answers));
	kthread_stop(index->answer_thread);
	index->answer_thread = NULL;
}
